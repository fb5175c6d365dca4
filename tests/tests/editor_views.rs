//! The editor's views, headless: each tool's view is drawn by the real panel code in an egui
//! context without a window and rendered to PNG by a software rasterizer
//! (`target/editor-artifacts/*.png`). The test also drives the panel like a user: tool buttons,
//! selecting results by click and arrow keys, the keep marker, "use as input", export, the file
//! dialog and dropped files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cadenza::editor::egui::{Key, Pos2, Vec2};
use cadenza::editor::file_dialog::{Picked, NO_DIALOG};
use cadenza::editor::layout::{CONTROLS_WIDTH, DEFAULT_SIZE, MIN_SIZE};
use cadenza::editor::panel::Activity;
use cadenza::params::{Mode, Tool};
use cadenza_tests::editor_harness::{demo_drums, demo_melody, Fixture, Headless};

fn default_size() -> Vec2 {
    Vec2::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1)
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/editor-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixture_for(tool: Tool) -> Fixture {
    let fixture = Fixture::new();
    fixture.host_sets(&fixture.params.tool, tool);
    match tool {
        Tool::Continue | Tool::Generate => {
            let generated = (0..if tool == Tool::Generate { 8 } else { 4 }).map(|i| demo_melody(4, 10 + i)).collect();
            fixture.set_session([Some(demo_melody(2, 1)), None], generated, Some(1));
            fixture.host_sets(&fixture.params.variations, if tool == Tool::Generate { 8 } else { 4 });
        }
        Tool::Interpolate => {
            let generated = (0..5).map(|i| demo_melody(2, 20 + i)).collect();
            fixture.set_session([Some(demo_melody(2, 1)), Some(demo_melody(2, 2))], generated, Some(0));
        }
        Tool::Drumify => {
            let generated = (0..4).map(|i| demo_drums(2, 30 + i)).collect();
            fixture.set_session([Some(demo_melody(2, 3)), None], generated, Some(2));
        }
        Tool::Groove => {
            fixture.host_sets(&fixture.params.mode, Mode::Drums);
            fixture.set_session([Some(demo_drums(2, 4)), None], vec![demo_drums(2, 5)], Some(0));
        }
    }
    fixture
}

#[test]
fn every_tool_view_shows_its_own_controls_and_fits_the_default_window() {
    let dir = artifacts();
    for tool in Tool::ALL {
        let fixture = fixture_for(tool);
        let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
        ui.frames(3);
        let rules = tool.rules();
        let name = tool.name();
        let mode = fixture.params.mode.value();
        // Only what the tool uses, as its rules say.
        let has = |ui: &Headless, control: &str| ui.panel.rect_of(control).is_some();
        assert_eq!(has(&ui, "variations"), rules.max_variations.is_some(), "{name}: variations");
        assert_eq!(has(&ui, "length"), rules.uses_length, "{name}: length");
        assert_eq!(has(&ui, "steps"), rules.uses_steps, "{name}: steps");
        assert_eq!(has(&ui, "mode:Melody"), rules.uses_mode(), "{name}: mode");
        assert_eq!(has(&ui, "key"), rules.uses_key(mode), "{name}: key");
        assert_eq!(has(&ui, "slot:A"), rules.inputs >= 1, "{name}: input A");
        assert_eq!(has(&ui, "slot:B"), rules.inputs == 2, "{name}: input B");
        assert_eq!(has(&ui, "capture_bars"), rules.inputs >= 1, "{name}: capture bars go with the inputs");
        assert_eq!(has(&ui, "open:A"), rules.inputs >= 1, "{name}: open a file");
        assert!(has(&ui, "temperature") && has(&ui, "generate") && has(&ui, "out_channel"), "{name}: shared controls");
        assert!(has(&ui, "result:0"), "{name}: results shown");

        // Every control of the left column is visible without scrolling.
        let column = ui.panel.rect_of("controls").expect("the controls column");
        for (control, rect) in ui.panel.widget_rects() {
            if rect.min.x < CONTROLS_WIDTH && rect.min.y >= column.min.y && control != "controls" {
                assert!(
                    rect.max.y <= column.max.y + 0.5,
                    "{name}: {control} is cut off at the default size ({rect:?} below {:?})",
                    column.max.y
                );
            }
        }
        let path = dir.join(format!("tool-{}.png", name.to_lowercase()));
        ui.screenshot(&path).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000, "{name}: the screenshot has content");
    }
}

#[test]
fn hidpi_and_minimum_size_render_and_the_controls_scroll() {
    let dir = artifacts();
    let fixture = fixture_for(Tool::Interpolate);
    let mut ui = Headless::new(fixture.panel(), Vec2::new(MIN_SIZE.0, MIN_SIZE.1), 2.0);
    ui.frames(3);
    let (w, h, _) = ui.render();
    assert_eq!((w, h), (1520, 1040), "2x HiDPI renders at twice the pixels");
    ui.screenshot(&dir.join("interpolate-min-size-2x.png")).unwrap();
    // Every named control lies inside the minimum-size window, across.
    for (name, rect) in ui.panel.widget_rects() {
        assert!(
            rect.max.x <= MIN_SIZE.0 + 0.5 && rect.min.x >= -0.5,
            "{name} is off screen at the minimum size: {rect:?}"
        );
    }
    // Down, the controls column does not fit: it scrolls to its last control.
    let column = ui.panel.rect_of("controls").unwrap();
    let below = ui.panel.rect_of("out_channel").unwrap();
    assert!(below.max.y > column.max.y, "Interpolate's controls overflow the minimum size: {below:?} {column:?}");
    ui.wheel(column.center(), Vec2::new(0.0, -400.0));
    let scrolled = ui.panel.rect_of("out_channel").unwrap();
    assert!(scrolled.max.y <= column.max.y + 0.5, "the wheel scrolls Playback into view: {scrolled:?} {column:?}");
    ui.screenshot(&dir.join("interpolate-min-size-scrolled-2x.png")).unwrap();
}
#[test]
fn tool_bar_switches_the_tool_through_a_host_gesture() {
    let fixture = fixture_for(Tool::Continue);
    let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
    ui.frames(2);
    ui.host.take();
    ui.click("tool:Interpolate");
    assert_eq!(fixture.params.tool.value(), Tool::Interpolate);
    let gestures = ui.host.take();
    assert!(
        matches!(gestures.first(), Some(cadenza_tests::editor_harness::Gesture::Begin(n)) if n == "Tool"),
        "{gestures:?}"
    );
    assert!(
        matches!(gestures.last(), Some(cadenza_tests::editor_harness::Gesture::End(n)) if n == "Tool"),
        "{gestures:?}"
    );
    assert!(ui.panel.rect_of("slot:B").is_some(), "Interpolate shows input B");
    ui.click("tool:Groove");
    assert_eq!(fixture.params.tool.value(), Tool::Groove);
    assert!(ui.panel.rect_of("variations").is_none());
}

#[test]
fn results_select_step_keep_and_feed_back_as_input() {
    let fixture = fixture_for(Tool::Generate);
    let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
    ui.frames(2);
    ui.click("result:3");
    assert_eq!(
        fixture.editor.session().lock().selected,
        Some(3),
        "click selects (the engine then sends it to the player)"
    );
    assert!(fixture.editor.session().take_changed(), "selection marks the session changed for the engine");
    ui.key(Key::ArrowRight);
    assert_eq!(fixture.editor.session().lock().selected, Some(4));
    ui.key(Key::ArrowLeft);
    ui.key(Key::ArrowLeft);
    assert_eq!(fixture.editor.session().lock().selected, Some(2));
    ui.click("fav:2");
    assert_eq!(ui.panel.favourites.get(2), Some(&true));
    ui.click("use_a:5");
    let expected = fixture.editor.session().lock().generated[5].clone();
    assert_eq!(fixture.editor.session().lock().inputs[0].as_ref(), Some(&expected));
    ui.frames(2);
    ui.screenshot(&artifacts().join("generate-selected-kept.png")).unwrap();

    // Export all writes one valid .mid per result, the kept one marked.
    let dir = std::env::temp_dir().join(format!("cadenza-export-test-{}", std::process::id()));
    ui.panel.export_dir = dir.to_string_lossy().into_owned();
    // Clicking (not dragging) a result's drag button saves just that one.
    ui.click("drag:0");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "{:?}", ui.panel.message);
    ui.click("export_all");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");
    assert_eq!(names.iter().filter(|n| n.ends_with("-v03-kept.mid")).count(), 1, "{names:?}");
    for name in &names {
        let import = cadenza::music::import_midi_file(dir.join(name), &Default::default()).unwrap();
        assert!(!import.clip.notes.is_empty());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn engine_errors_are_shown_in_plain_words() {
    use cadenza::worker::WorkerHandle;
    use cadenza_tests::OctaveEcho;
    let fixture = Fixture::new();
    let _engine = WorkerHandle::spawn(fixture.worker.clone(), Box::new(OctaveEcho)).unwrap();
    let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
    ui.frames(2);
    ui.click("generate"); // no input: the engine refuses
    let deadline = Instant::now() + Duration::from_secs(10);
    frame_until(&mut ui, deadline, 10, |ui| matches!(ui.panel.activity, Activity::Failed(_)));
    match &ui.panel.activity {
        Activity::Failed(text) => assert!(text.contains("empty"), "{text}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    ui.frame();
    ui.screenshot(&artifacts().join("error-empty-input.png")).unwrap();

    // A .mid that is not one: a plain error, nothing changes.
    let bad = std::env::temp_dir().join(format!("cadenza-bad-{}.mid", std::process::id()));
    std::fs::write(&bad, b"not midi at all").unwrap();
    ui.panel.load_file(0, bad.clone());
    frame_until(&mut ui, deadline, 5, |ui| ui.panel.message.as_ref().is_some_and(|m| m.0.contains("Could not load")));
    let message = ui.panel.message.clone().unwrap();
    assert!(!message.1 && message.0.contains("Could not load"), "{message:?}");
    assert!(fixture.editor.session().lock().inputs[0].is_none());
    std::fs::remove_file(&bad).unwrap();

    // The engine thread ends: the panel says so (and how to recover) before anyone presses.
    ui.panel.activity = Activity::Idle;
    fixture.worker.inject_exit();
    frame_until(&mut ui, deadline, 5, |ui| matches!(ui.panel.activity, Activity::Failed(_)));
    match &ui.panel.activity {
        Activity::Failed(text) => assert!(text.contains("reactivate"), "{text}"),
        other => panic!("expected the stopped engine to be shown, got {other:?}"),
    }
    ui.frame();
    ui.screenshot(&artifacts().join("error-engine-stopped.png")).unwrap();
}

/// Waits until input `slot` holds `clip`'s notes.
fn wait_for_input(ui: &mut Headless, fixture: &Fixture, slot: usize, clip: &cadenza::music::Clip) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while fixture.editor.session().lock().inputs[slot].as_ref().map(|c| c.notes.clone()) != Some(clip.notes.clone()) {
        assert!(Instant::now() < deadline, "the file never arrived in input {slot}: {:?}", ui.panel.message);
        ui.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn temp_midi(name: &str, clip: &cadenza::music::Clip) -> PathBuf {
    let path = std::env::temp_dir().join(format!("cadenza-{name}-{}.mid", std::process::id()));
    cadenza::editor::files::write_clip(clip, &path, 120.0, "t").unwrap();
    path
}

#[test]
fn loading_a_midi_file_fills_the_slot() {
    let fixture = fixture_for(Tool::Interpolate);
    let clip = demo_melody(2, 77);
    let path = temp_midi("load", &clip);
    let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
    ui.frames(2);
    ui.panel.load_file(1, path.clone());
    wait_for_input(&mut ui, &fixture, 1, &clip);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn the_open_button_loads_what_the_file_dialog_picked() {
    let fixture = fixture_for(Tool::Interpolate);
    let clip = demo_melody(2, 78);
    let path = temp_midi("dialog", &clip);
    let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
    // The dialog answers later, from its own thread, as the real one does.
    let picked = path.clone();
    ui.panel.set_dialog_opener(Box::new(move |_start| {
        let (tx, rx) = std::sync::mpsc::channel();
        let picked = picked.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let _ = tx.send(Picked::File(picked));
        });
        Ok(rx)
    }));
    ui.frames(2);
    ui.click("open:B");
    wait_for_input(&mut ui, &fixture, 1, &clip);
    assert!(fixture.editor.session().lock().inputs[0].as_ref().is_some_and(|c| c.notes != clip.notes), "A untouched");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn without_a_file_dialog_the_panel_says_so_in_plain_words() {
    let fixture = fixture_for(Tool::Continue);
    let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
    ui.panel.set_dialog_opener(Box::new(|_start| Err(NO_DIALOG.to_string())));
    ui.frames(2);
    ui.click("open:A");
    let message = ui.panel.message.clone().expect("a message");
    assert!(!message.1 && message.0.contains("No file dialog") && message.0.contains("Drop"), "{message:?}");
    ui.frame();
    ui.screenshot(&artifacts().join("no-file-dialog.png")).unwrap();
    // A dialog that could not show answers "failed" from its thread: said the same way.
    ui.panel.set_dialog_opener(Box::new(|_start| {
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(Picked::Failed(NO_DIALOG.to_string())).unwrap();
        Ok(rx)
    }));
    ui.panel.message = None;
    ui.click("open:A");
    assert_eq!(ui.panel.message.as_ref().map(|m| m.0.as_str()), Some(NO_DIALOG));
}

#[test]
fn a_dropped_midi_file_lands_on_the_input_under_the_pointer() {
    let fixture = fixture_for(Tool::Interpolate);
    let (a, b) = (demo_melody(2, 81), demo_melody(2, 82));
    let (path_a, path_b) = (temp_midi("drop-a", &a), temp_midi("drop-b", &b));
    let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
    ui.frames(2);
    let slot_b = ui.panel.rect_of("slot:B").unwrap();
    ui.drop_file(&path_b, slot_b.center());
    wait_for_input(&mut ui, &fixture, 1, &b);
    // Anywhere else: input A.
    ui.drop_file(&path_a, Pos2::new(700.0, 400.0));
    wait_for_input(&mut ui, &fixture, 0, &a);
    std::fs::remove_file(&path_a).unwrap();
    std::fs::remove_file(&path_b).unwrap();
}

#[test]
fn playback_section_drives_the_host_parameters() {
    let fixture = fixture_for(Tool::Groove);
    let mut ui = Headless::new(fixture.panel(), default_size(), 1.0);
    ui.frames(3);
    assert!(!fixture.params.preview.value());
    ui.host.take();
    ui.click("preview");
    assert!(fixture.params.preview.value(), "Preview synth switched on");
    let gestures = ui.host.take();
    assert_eq!(
        gestures
            .iter()
            .filter(|g| matches!(g, cadenza_tests::editor_harness::Gesture::Begin(n) if n == "Preview synth"))
            .count(),
        1,
        "{gestures:?}"
    );
    ui.click("play_selected");
    assert_eq!(fixture.params.playback.value(), cadenza::params::Playback::Off);
    ui.screenshot(&artifacts().join("groove-playback-section.png")).unwrap();
}

/// Draws frames until `done` holds or `deadline` passes (the caller's assertions say which).
fn frame_until(ui: &mut Headless, deadline: Instant, pause_ms: u64, done: impl Fn(&Headless) -> bool) {
    while !done(ui) && Instant::now() < deadline {
        ui.frame();
        std::thread::sleep(Duration::from_millis(pause_ms));
    }
}
