//! The panel after a Continue with Key: Auto (issue 12): the status bar names the key the engine
//! found in the input, and a "no new notes" remake is reported there too. Real models; the
//! screenshot is `target/editor-artifacts/key-auto.png`.

use std::path::PathBuf;
use std::time::Duration;

use cadenza::editor::egui::Vec2;
use cadenza::editor::panel::Panel;
use cadenza::messages::WorkerEvent;
use cadenza_tests::editor_harness::Headless;
use cadenza_tests::{note_off, note_on, set_param, Host};

#[test]
fn the_status_bar_names_the_detected_key() {
    let mut host = Host::new_onnx(48_000.0);
    let params = host.plugin.params_arc().clone();
    set_param(&params.capture_bars, 2);
    host.playing = true;
    let spb = host.samples_per_beat();
    let at = |beat: f64| (beat * spb).round() as usize;
    // A D minor phrase: D F A F | E G C# D.
    let phrase = [62u8, 65, 69, 65, 64, 67, 61, 62];
    let mut input = Vec::new();
    for (i, &pitch) in phrase.iter().enumerate() {
        input.push((at(i as f64), note_on(pitch, 90)));
        input.push((at(i as f64 + 0.9), note_off(pitch)));
    }
    host.run(at(8.0), 256, &input);
    let event = host.press_generate(Duration::from_secs(60));
    let WorkerEvent::Finished { detected_key: Some(key), .. } = &event else { panic!("{event:?}") };
    assert_eq!(key.to_string().replace([':', '-'], " "), "D minor", "{key}");

    // The panel reads the same events the test just took: hand it a fresh job's.
    let panel = Panel::new(params, host.plugin.editor_end().clone());
    let mut ui = Headless::new(panel, Vec2::new(980.0, 700.0), 1.0);
    ui.panel.submit();
    for _ in 0..600 {
        ui.frame();
        host.run(64, 64, &[]);
        if ui.panel.detected_key.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    ui.frames(2);
    assert_eq!(ui.panel.detected_key.as_deref(), Some("D minor"));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/editor-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    ui.screenshot(&dir.join("key-auto.png")).unwrap();
}
