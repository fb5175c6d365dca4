//! Drag-out on X11: a result is dragged out of the panel with the mouse (egui input on the
//! headless panel starts the drag, exactly as in the plugin window), the XDND source runs on its
//! own X connection and helper thread, and a small XDND target window in this test (on a private
//! Xvfb) receives `text/uri-list`. The URI must name a valid .mid in Cadenza's data folder that
//! re-imports to the selected clip.
//!
//! Needs `Xvfb` (Debian: xvfb). Without it the test fails unless CADENZA_SKIP_X11_TESTS=1.

#![cfg(target_os = "linux")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cadenza::editor::egui::Vec2;
use cadenza::editor::file_actions::DragStarted;
use cadenza::editor::files::paths_from_uri_list;
use cadenza::editor::x11_drag;
use cadenza::editor::xdnd::Outcome;
use cadenza::music::{import_midi_file, ImportOptions};
use cadenza_tests::editor_harness::{demo_drums, demo_melody, FakePointer, Fixture, Headless, XdndTarget, Xvfb};

fn xvfb() -> Option<Xvfb> {
    let server = Xvfb::start();
    if server.is_none() {
        assert!(
            std::env::var_os("CADENZA_SKIP_X11_TESTS").is_some(),
            "Xvfb is not installed (apt-get install xvfb), or set CADENZA_SKIP_X11_TESTS=1"
        );
    }
    server
}

type DragResult = Arc<Mutex<Option<std::thread::JoinHandle<Result<Outcome, String>>>>>;

fn drag_to_target(drums: bool) {
    let Some(server) = xvfb() else { return };
    let display = server.display.clone();
    // Cadenza's data folder for this test only.
    let data_home = std::env::temp_dir().join(format!("cadenza-xdg-{}-{drums}", std::process::id()));
    std::env::set_var("XDG_DATA_HOME", &data_home);

    let fixture = Fixture::new();
    let generated: Vec<_> = if drums {
        (0..3).map(|i| demo_drums(2, 50 + i)).collect()
    } else {
        (0..3).map(|i| demo_melody(2, 40 + i)).collect()
    };
    fixture.set_session([Some(demo_melody(2, 1)), None], generated, Some(0));

    let target = XdndTarget::new(&display, 700, 200, 300, 200).unwrap();
    let target_thread = std::thread::spawn(move || target.run(Duration::from_secs(20)));

    let drag: DragResult = Arc::new(Mutex::new(None));
    let mut ui = Headless::new(fixture.panel(), Vec2::new(980.0, 660.0), 1.0);
    {
        let drag = drag.clone();
        let display = display.clone();
        ui.panel.set_drag_starter(Box::new(move |path| {
            let display = display.clone();
            let handle = std::thread::spawn(move || x11_drag::run_drag(&path, Some(&display)));
            *drag.lock().unwrap() = Some(handle);
            Ok(DragStarted { message: "dragging".into(), outcome: None })
        }));
    }
    ui.frames(2);

    // The user presses the mouse on result 2 (the X pointer is held down, as it would be on the
    // plugin window) and starts dragging it in the panel.
    let pointer = FakePointer::new(&display).unwrap();
    pointer.move_to(100, 100).unwrap();
    pointer.button(true).unwrap();
    let card = ui.panel.rect_of("result:1").unwrap();
    ui.drag(card.center(), card.center() + Vec2::new(40.0, 10.0), 4);
    assert!(drag.lock().unwrap().is_some(), "dragging a result started an OS drag");
    assert_eq!(fixture.editor.session().lock().selected, Some(1), "the dragged result is selected");

    // The pointer travels over to the target window and lets go.
    for i in 0..=20 {
        pointer.move_to(100 + i * 40, 100 + i * 10).unwrap();
        std::thread::sleep(Duration::from_millis(15));
    }
    std::thread::sleep(Duration::from_millis(100));
    pointer.button(false).unwrap();

    let received = target_thread.join().unwrap().expect("the target got a drop");
    let outcome = drag.lock().unwrap().take().unwrap().join().unwrap().unwrap();
    assert!(matches!(outcome, Outcome::Dropped { confirmed: true, .. }), "{outcome:?}");
    assert!(received.types.iter().any(|t| t == "text/uri-list"), "{received:?}");
    assert!(received.positions >= 1);
    let uri_list = received.uri_list.expect("uri list");
    let paths = paths_from_uri_list(&uri_list);
    assert_eq!(paths.len(), 1, "{uri_list:?}");
    let path = &paths[0];
    assert!(path.starts_with(data_home.join("Cadenza")), "{} is in Cadenza's data folder", path.display());
    assert_eq!(path.extension().unwrap(), "mid");

    let imported = import_midi_file(path, &ImportOptions::default()).expect("a valid .mid").clip;
    let selected = fixture.editor.session().lock().generated[1].clone();
    assert_eq!(imported.notes, selected.notes, "the dropped file re-imports to the selected clip");
    assert_eq!(imported.bars, selected.bars);
    assert_eq!(imported.time_signature, selected.time_signature);
    let _ = std::fs::remove_dir_all(&data_home);
}

#[test]
fn dragging_a_result_drops_a_midi_file_on_an_xdnd_target() {
    // One test for both (XDG_DATA_HOME is process-wide).
    drag_to_target(false);
    drag_to_target(true);
}

#[test]
fn a_target_behind_an_xdnd_proxy_gets_the_drop() {
    let Some(server) = xvfb() else { return };
    let display = server.display.clone();
    let target = XdndTarget::with_proxy(&display, 400, 100, 200, 200).unwrap();
    let target_window = target.window;
    let target_thread = std::thread::spawn(move || target.run(Duration::from_secs(20)));
    let pointer = FakePointer::new(&display).unwrap();
    pointer.move_to(10, 10).unwrap();
    pointer.button(true).unwrap();
    let path = std::env::temp_dir().join("cadenza proxy test.mid");
    let handle = std::thread::spawn({
        let (display, path) = (display.clone(), path.clone());
        move || x11_drag::run_drag(&path, Some(&display))
    });
    for i in 0..=10 {
        pointer.move_to(10 + i * 45, 10 + i * 18).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    pointer.button(false).unwrap();
    let received = target_thread.join().unwrap().expect("the proxied target got the drop");
    assert_eq!(handle.join().unwrap().unwrap(), Outcome::Dropped { window: target_window, confirmed: true });
    assert_eq!(paths_from_uri_list(received.uri_list.as_deref().unwrap()), vec![path]);
}

#[test]
fn released_outside_any_target_the_drag_is_cancelled() {
    let Some(server) = xvfb() else { return };
    let display = server.display.clone();
    let pointer = FakePointer::new(&display).unwrap();
    pointer.move_to(10, 10).unwrap();
    pointer.button(true).unwrap();
    let path = std::env::temp_dir().join("cadenza-never-dropped.mid");
    let handle = std::thread::spawn({
        let display = display.clone();
        move || x11_drag::run_drag(&path, Some(&display))
    });
    std::thread::sleep(Duration::from_millis(100));
    pointer.move_to(300, 300).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    pointer.button(false).unwrap();
    assert_eq!(handle.join().unwrap().unwrap(), Outcome::Cancelled);
}
