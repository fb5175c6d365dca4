//! The plugin with the real inference engine (ONNX Runtime and the committed models), driven
//! through `process()`: a captured phrase goes in, variations come back and play in sync.
//! Needs `target/onnxruntime/libonnxruntime.so.1.31.1` (`cargo xtask fetch-ort`; `cargo xtask
//! test` bundles first).

use std::time::Duration;

use cadenza::messages::WorkerEvent;
use cadenza::params::{Mode, Tool};
use cadenza_tests::{note_off, note_on, set_param, Host};

const WAIT: Duration = Duration::from_secs(60);

/// C D E F as quarter notes (each half a beat long) in bar 1, transport rolling.
fn record_phrase(host: &mut Host, pitches: [u8; 4]) {
    host.playing = true;
    host.locate_beats(0.0);
    let spb = host.samples_per_beat();
    let at = |beat: f64| (beat * spb).round() as usize;
    let input: Vec<_> = pitches
        .iter()
        .enumerate()
        .flat_map(|(i, &p)| [(at(i as f64), note_on(p, 100)), (at(i as f64 + 0.5), note_off(p))])
        .collect();
    host.run(at(4.0), 256, &input);
    host.playing = false;
}

fn generate(host: &mut Host) -> WorkerEvent {
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    set_param(&host.plugin.params_arc().generate, false);
    host.wait_for_engine(WAIT)
}

#[test]
fn continue_melody_keeps_the_phrase_and_adds_bars_in_range() {
    let mut host = Host::new_onnx(48_000.0);
    let params = host.plugin.params_arc().clone();
    set_param(&params.capture_bars, 1);
    set_param(&params.variations, 3);
    set_param(&params.length_bars, 2);
    set_param(&params.temperature, 1.0);
    record_phrase(&mut host, [60, 62, 64, 65]);
    let event = generate(&mut host);
    assert!(matches!(event, WorkerEvent::Finished { variations: 3, .. }), "{event:?}");
    let session = host.plugin.editor_end().session().lock().clone();
    let input = session.inputs[0].clone().unwrap();
    for clip in &session.generated {
        assert_eq!(clip.bars, 3, "the one captured bar plus two new ones");
        let first_bar: Vec<_> = clip.notes.iter().filter(|n| n.start < 1920).map(|n| (n.pitch, n.start)).collect();
        let wanted: Vec<_> = input.notes.iter().map(|n| (n.pitch, n.start)).collect();
        assert_eq!(first_bar, wanted, "the output starts with the input");
        assert!(clip.notes.iter().all(|n| (21..=108).contains(&n.pitch) && n.end > n.start && n.end <= 3 * 1920));
    }
    assert!(session.generated.iter().any(|c| c.notes.iter().any(|n| n.start >= 1920)), "nothing was continued");
    assert_ne!(session.generated[0], session.generated[1], "variations differ");

    // And the player has it: bar 1 of the song sounds like the input.
    host.playing = true;
    host.locate_beats(0.0);
    host.output.clear();
    host.steady_time = host.pos_samples;
    host.run(48_000 * 2, 512, &[]);
    let onsets: Vec<_> = host.notes().into_iter().filter(|e| e.3 > 0).take(4).map(|e| (e.0, e.1)).collect();
    assert_eq!(onsets, vec![(0, 60), (24_000, 62), (48_000, 64), (72_000, 65)]);
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn temperature_zero_is_deterministic_and_the_key_mask_holds() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let mut host = Host::new_onnx(48_000.0);
        let params = host.plugin.params_arc().clone();
        set_param(&params.capture_bars, 1);
        set_param(&params.variations, 2);
        set_param(&params.length_bars, 4);
        set_param(&params.temperature, 0.0);
        record_phrase(&mut host, [60, 64, 67, 72]);
        assert!(matches!(generate(&mut host), WorkerEvent::Finished { .. }));
        runs.push(host.plugin.editor_end().session().lock().generated.clone());
    }
    assert_eq!(runs[0], runs[1], "greedy decoding must not depend on the run");

    let mut host = Host::new_onnx(48_000.0);
    let params = host.plugin.params_arc().clone();
    set_param(&params.capture_bars, 1);
    set_param(&params.length_bars, 4);
    set_param(&params.temperature, 1.5);
    set_param(&params.key, cadenza::params::KeyRoot::D);
    set_param(&params.scale, cadenza::params::Scale::MinorPentatonic);
    record_phrase(&mut host, [62, 65, 67, 69]);
    assert!(matches!(generate(&mut host), WorkerEvent::Finished { .. }));
    let d_minor_pentatonic = [2u8, 5, 7, 9, 0];
    for clip in host.plugin.editor_end().session().lock().generated.iter() {
        for note in clip.notes.iter().filter(|n| n.start >= 1920) {
            assert!(d_minor_pentatonic.contains(&(note.pitch % 12)), "{} is outside D minor pentatonic", note.pitch);
        }
    }
}

#[test]
fn continue_drums_plays_only_mapped_drum_pitches() {
    let mut host = Host::new_onnx(48_000.0);
    let params = host.plugin.params_arc().clone();
    set_param(&params.capture_bars, 1);
    set_param(&params.mode, Mode::Drums);
    set_param(&params.tool, Tool::Continue);
    set_param(&params.length_bars, 2);
    record_phrase(&mut host, [36, 42, 38, 42]);
    let event = generate(&mut host);
    assert!(matches!(event, WorkerEvent::Finished { .. }), "{event:?}");
    let outputs = [36u8, 38, 42, 46, 45, 48, 50, 49, 51];
    for clip in host.plugin.editor_end().session().lock().generated.iter() {
        assert!(clip.is_drum);
        assert!(clip.notes.iter().all(|n| outputs.contains(&n.pitch)), "{:?}", clip.notes);
    }
}

#[test]
fn many_instances_generate_at_once_on_one_onnx_runtime() {
    let tools = [
        (Tool::Continue, Mode::Melody),
        (Tool::Continue, Mode::Drums),
        (Tool::Generate, Mode::Melody),
        (Tool::Drumify, Mode::Drums),
    ];
    let threads: Vec<_> = tools
        .into_iter()
        .enumerate()
        .map(|(i, (tool, mode))| {
            std::thread::spawn(move || {
                let mut host = Host::new_onnx(44_100.0 + i as f32 * 4_000.0);
                let params = host.plugin.params_arc().clone();
                set_param(&params.capture_bars, 1);
                set_param(&params.tool, tool);
                set_param(&params.mode, mode);
                set_param(&params.variations, 2);
                set_param(&params.length_bars, 2);
                let pitches = if mode == Mode::Drums { [36, 42, 38, 42] } else { [60, 62, 64, 65] };
                record_phrase(&mut host, pitches);
                let event = generate(&mut host);
                assert!(matches!(event, WorkerEvent::Finished { variations: 2, .. }), "{tool:?}/{mode:?}: {event:?}");
                assert_eq!(host.process_allocations, 0);
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("an instance failed");
    }
    // One ONNX Runtime library in the process, however many instances loaded models.
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let libraries: std::collections::BTreeSet<&str> =
        maps.lines().filter_map(|l| l.split_whitespace().nth(5)).filter(|p| p.contains("libonnxruntime")).collect();
    assert_eq!(libraries.len(), 1, "{libraries:?}");
}

/// Presses Generate and collects the worker's events until the job finishes or fails.
fn generate_events(host: &mut Host) -> Vec<WorkerEvent> {
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    set_param(&host.plugin.params_arc().generate, false);
    let deadline = std::time::Instant::now() + WAIT;
    let mut events = Vec::new();
    loop {
        while let Some(event) = host.plugin.editor_end().next_event() {
            let done = matches!(event, WorkerEvent::Finished { .. } | WorkerEvent::Failed { .. });
            events.push(event);
            if done {
                return events;
            }
        }
        assert!(std::time::Instant::now() < deadline, "no answer: {events:?}");
        host.run(64, 64, &[]);
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn key_auto_is_the_default_and_the_job_reports_the_key_it_found() {
    let mut host = Host::new_onnx(48_000.0);
    let params = host.plugin.params_arc().clone();
    assert_eq!(params.key.value(), cadenza::params::KeyRoot::Auto);
    assert!(params.humanize.value(), "Humanize is on by default");
    set_param(&params.capture_bars, 1);
    set_param(&params.variations, 4);
    set_param(&params.length_bars, 2);
    set_param(&params.temperature, 0.0);
    // A minor: A C E A.
    record_phrase(&mut host, [57, 60, 64, 69]);
    let events = generate_events(&mut host);
    let Some(WorkerEvent::Finished { detected_key: Some(key), id, .. }) = events.last() else { panic!("{events:?}") };
    // Every warning belongs to this job (e.g. greedy variations that were made again).
    for e in &events {
        if let WorkerEvent::Warning { id: w, message } = e {
            assert_eq!(w, id, "{message}");
        }
    }
    let session = host.plugin.editor_end().session().lock().clone();
    for clip in &session.generated {
        let new: Vec<_> = clip.notes.iter().filter(|n| n.start >= 1920).collect();
        assert!(new.len() >= 2, "tame, never empty: {new:?}");
        for n in new {
            assert!(key.contains(n.pitch) || [9u8, 0, 4].contains(&(n.pitch % 12)), "{} is outside {key}", n.pitch);
            // The phrase was played at 100: the new notes keep that level.
            assert_eq!(n.velocity, 100, "the input's dynamics");
        }
    }
}

#[test]
fn humanize_plays_new_drum_notes_off_the_grid_and_off_is_on_it() {
    for humanize in [true, false] {
        let mut host = Host::new_onnx(48_000.0);
        let params = host.plugin.params_arc().clone();
        set_param(&params.mode, Mode::Drums);
        set_param(&params.tool, Tool::Continue);
        set_param(&params.humanize, humanize);
        set_param(&params.capture_bars, 1);
        set_param(&params.variations, 2);
        set_param(&params.length_bars, 2);
        record_phrase(&mut host, [36, 42, 38, 42]);
        let events = generate_events(&mut host);
        assert!(matches!(events.last(), Some(WorkerEvent::Finished { .. })), "{events:?}");
        let session = host.plugin.editor_end().session().lock().clone();
        let new: Vec<_> = session.generated.iter().flat_map(|c| c.notes.iter().filter(|n| n.start >= 1920)).collect();
        assert!(!new.is_empty());
        let off_grid = new.iter().any(|n| n.start % 120 != 0);
        assert_eq!(off_grid, humanize, "humanize {humanize}: {new:?}");
    }
}
