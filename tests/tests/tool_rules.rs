//! One home for each tool rule (issue 16): the panel's Generate button and the `generate`
//! parameter (automation, MIDI learn) make identical requests, with the tool's variation range
//! and forced mode applied either way.

use std::sync::Mutex;
use std::time::Duration;

use cadenza::editor::panel::Panel;
use cadenza::messages::{JobError, JobRequest, ToolSettings};
use cadenza::music::Clip;
use cadenza::params::{Mode, Tool};
use cadenza::worker::{Generator, Progress};
use cadenza::Cadenza;
use cadenza_tests::editor_harness::Headless;
use cadenza_tests::{note_off, note_on, set_param, Host, OctaveEcho};

/// The settings of every job the worker ran, in order.
static SEEN: Mutex<Vec<ToolSettings>> = Mutex::new(Vec::new());

struct Recorder;

impl Generator for Recorder {
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
        SEEN.lock().unwrap().push(request.settings);
        let mut echo = request.clone();
        echo.settings.tool = Tool::Continue;
        OctaveEcho.generate(&echo, progress)
    }
}

fn last_seen() -> ToolSettings {
    *SEEN.lock().unwrap().last().expect("a job ran")
}

#[test]
fn the_button_and_the_parameter_make_the_same_request_for_every_tool() {
    let mut host = Host::with_plugin_for_tests(Cadenza::with_generator(|| Box::new(Recorder)));
    host.playing = true;
    host.run(24_000, 256, &[(0, note_on(60, 100)), (6_000, note_off(60))]);
    let params = host.plugin.params_arc().clone();
    let panel = Panel::new(params.clone(), host.plugin.editor_end().clone());
    // Both inputs filled, so every tool has what it needs.
    let input = cadenza_tests::test_clip();
    host.plugin.editor_end().session().set_input(0, Some(input.clone()));
    host.plugin.editor_end().session().set_input(1, Some(input));

    for tool in Tool::ALL {
        for (mode, variations) in [(Mode::Melody, 16), (Mode::Drums, 3), (Mode::Melody, 1)] {
            set_param(&params.tool, tool);
            set_param(&params.mode, mode);
            set_param(&params.variations, variations);

            host.press_generate(Duration::from_secs(5));
            let from_parameter = last_seen();

            let mut panel = Panel::new(params.clone(), host.plugin.editor_end().clone());
            panel.submit();
            host.wait_for_engine(Duration::from_secs(5));
            let from_button = last_seen();

            assert_eq!(from_parameter, from_button, "{tool:?} {mode:?} ×{variations}");
            let rules = tool.rules();
            let expected_variations = rules.max_variations.map_or(1, |max| (variations as u8).min(max));
            assert_eq!(from_parameter.variations, expected_variations, "{tool:?}: its range applies");
            assert_eq!(from_parameter.mode, rules.forced_mode.unwrap_or(mode), "{tool:?}: its mode applies");
        }
    }
    drop(panel);
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn every_tool_has_one_set_of_rules() {
    assert_eq!(Tool::ALL.len(), 5);
    for tool in Tool::ALL {
        let rules = tool.rules();
        assert!(!rules.name.is_empty() && !rules.help.is_empty());
        // The parameter's own display name is the tool's name, so host and panel agree.
        use nice_plug::prelude::Enum;
        assert_eq!(Tool::variants()[tool.to_index()], rules.name);
        // Exported file names use the slug: the same word, safe in every file system.
        assert_eq!(rules.slug, rules.name.to_ascii_lowercase());
        assert!(rules.slug.bytes().all(|b| b.is_ascii_lowercase()), "{tool:?}");
        for slot in 0..rules.inputs {
            assert!(!rules.input_roles[slot].is_empty(), "{tool:?} explains input {slot}");
        }
    }
    assert_eq!(Tool::Generate.rules().inputs, 0, "Generate reads no input");
    assert_eq!(Tool::Interpolate.rules().inputs, 2);
    assert_eq!(Tool::Groove.rules().forced_mode, Some(Mode::Drums));
}

#[test]
fn exported_clips_carry_the_host_tempo() {
    let mut host = Host::with_plugin_for_tests(Cadenza::with_generator(|| Box::new(OctaveEcho)));
    host.tempo = 97.0;
    host.playing = true;
    host.run(24_000, 256, &[(0, note_on(60, 100)), (6_000, note_off(60))]);
    let params = host.plugin.params_arc().clone();
    host.press_generate(Duration::from_secs(5));

    let panel = Panel::new(params, host.plugin.editor_end().clone());
    let mut headless = Headless::new(panel, cadenza::editor::egui::Vec2::new(980.0, 700.0), 1.0);
    let dir = std::env::temp_dir().join(format!("cadenza-export-tempo-{}", std::process::id()));
    headless.panel.export_dir = dir.to_string_lossy().into_owned();
    // The panel reads the session on its next frame.
    headless.frame();
    headless.panel.export_all();
    let file = std::fs::read_dir(&dir).unwrap().next().expect("a file").unwrap().path();
    let imported = cadenza::music::import_midi_file(&file, &Default::default()).unwrap();
    let bpm = 60_000_000.0 / imported.tempo_us_per_quarter as f64;
    assert!((bpm - 97.0).abs() < 0.01, "the song's tempo, not 120: {bpm}");
    let _ = std::fs::remove_dir_all(&dir);
}
