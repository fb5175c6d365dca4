//! The panel during a jam (issue 15): Jam's switch and settings, what it is doing, and the last
//! call and answer as rolls. Runs the real models in the fake host and screenshots the panel
//! (`target/editor-artifacts/jam-answering.png`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cadenza::editor::egui::{Pos2, Vec2};
use cadenza::editor::panel::Panel;
use cadenza_tests::editor_harness::Headless;
use cadenza_tests::{note_off, note_on, set_param, Host};

#[test]
fn the_panel_shows_the_jam_as_it_happens() {
    let mut host = Host::new_onnx(48_000.0);
    let params = host.plugin.params_arc().clone();
    set_param(&params.jam, true);
    host.playing = true;
    let spb = host.samples_per_beat();
    let at = |beat: f64| (beat * spb).round() as usize;
    // A 2-bar call (C E G E | D F G C), last note-on on beat 7: the answer starts on bar 3.
    let phrase = [60u8, 64, 67, 64, 62, 65, 67, 60];
    let mut input = Vec::new();
    for (i, &pitch) in phrase.iter().enumerate() {
        input.push((at(i as f64), note_on(pitch, 90)));
        input.push((at(i as f64 + 0.5), note_off(pitch)));
    }
    // Render in real-time-like steps until the answer sounds (beat 9).
    let end = at(9.0);
    let mut done = 0;
    while done < end {
        let block: Vec<_> =
            input.iter().filter(|(t, _)| (done..done + 512).contains(t)).map(|(t, e)| (t - done, *e)).collect();
        host.run(512, 512, &block);
        done += 512;
        let deadline = Instant::now() + Duration::from_secs(30);
        while host.plugin.editor_end().jobs_in_flight() > 0 {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    // The worker adds the heard answer on its next tick.
    std::thread::sleep(Duration::from_millis(50));

    let panel = Panel::new(params, host.plugin.editor_end().clone());
    let mut ui = Headless::new(panel, Vec2::new(980.0, 700.0), 1.0);
    ui.frame();
    // Scroll the controls column down to the Jam section.
    let controls = ui.panel.rect_of("controls").expect("the controls column");
    ui.wheel(Pos2::new(controls.center().x, controls.center().y), Vec2::new(0.0, -2000.0));
    ui.frames(3);
    for name in ["jam", "jam_status", "jam_trigger:After a phrase", "jam_gap", "jam_call", "jam_answer"] {
        assert!(ui.panel.rect_of(name).is_some(), "{name} is drawn");
    }
    let (phase, late) = host.plugin.editor_end().jam_status();
    assert_eq!(phase, cadenza::channels::JamPhase::Answering);
    assert_eq!(late, 0);
    let generated = host.plugin.editor_end().session().lock().generated.len();
    assert_eq!(ui.panel.results_len(), 1, "the answer is in the results ({generated} in the session)");

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/editor-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jam-answering.png");
    ui.screenshot(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
    assert_eq!(host.process_allocations, 0);
}
