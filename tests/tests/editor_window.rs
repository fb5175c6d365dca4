//! The real editor window: the plugin's editor (nice-plug-egui, baseview, OpenGL) is opened the
//! way a CLAP host on Linux opens it — spawned, re-parented into a host window, shown — on a
//! private Xvfb (Mesa's software GL). The test grabs the window's pixels into
//! `target/editor-artifacts/window-*.png`, clicks a tool button with XTEST and checks that the
//! click arrived as a host parameter gesture, then drags a result out of the window onto an
//! XDND target window and re-imports the dropped file.
//!
//! Needs `Xvfb` and Mesa's GL (Debian: xvfb libgl1-mesa-dri). Without Xvfb the test fails unless
//! CADENZA_SKIP_X11_TESTS=1.

#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cadenza::editor::egui::Vec2;
use cadenza::editor::files::paths_from_uri_list;
use cadenza::editor::panel::{tool_name, TOOLS};
use cadenza::editor::testing::{
    demo_melody, write_png, FakePointer, Fixture, Gesture, Headless, RecordingHost, XdndTarget, Xvfb,
};
use cadenza::editor::x11rb;
use cadenza::music::{import_midi_file, ImportOptions};
use cadenza::params::Tool;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::{Editor, EditorHandle, ParentWindowHandle};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, ImageFormat, WindowClass};
use x11rb::wrapper::ConnectionExt as _;

fn grab(conn: &impl Connection, window: u32, w: u16, h: u16, path: &std::path::Path) -> Vec<u8> {
    let image = conn.get_image(ImageFormat::Z_PIXMAP, window, 0, 0, w, h, !0).unwrap().reply().unwrap();
    assert_eq!(image.depth, 24);
    // 32 bits per pixel, BGRX.
    let mut rgba = Vec::with_capacity(w as usize * h as usize * 4);
    for px in image.data.chunks_exact(4) {
        rgba.extend([px[2], px[1], px[0], 255]);
    }
    write_png(path, w as u32, h as u32, &rgba).unwrap();
    rgba
}

#[test]
fn editor_opens_in_a_host_window_draws_and_takes_clicks() {
    let Some(server) = Xvfb::start() else {
        assert!(std::env::var_os("CADENZA_SKIP_X11_TESTS").is_some(), "Xvfb is not installed (apt-get install xvfb)");
        return;
    };
    std::env::set_var("DISPLAY", &server.display);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/editor-artifacts");

    // The host's window.
    let (conn, screen) = x11rb::connect(Some(&server.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let (w, h) = (980u16, 660u16);
    let parent = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        parent,
        root,
        0,
        0,
        w,
        h,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(0),
    )
    .unwrap();
    conn.map_window(parent).unwrap();
    conn.sync().unwrap();

    let fixture = Fixture::new();
    fixture.set_session([Some(demo_melody(2, 1)), None], (0..6).map(|i| demo_melody(4, 60 + i)).collect(), Some(2));
    let editor = cadenza::editor::create(fixture.params.clone(), fixture.shared.clone()).unwrap();
    let host = RecordingHost::new();
    let opened = Instant::now();
    let spawned =
        editor.spawn(None, true, Some(1.0), GuiContext::new(host.clone()), None).expect("the editor window opens");
    spawned
        .handle
        .set_parent(ParentWindowHandle::XlibWindow(parent as _), &spawned.window)
        .expect("re-parented into the host window");
    spawned.handle.show(&spawned.window).unwrap();

    // Wait for the first frames (software GL is slow to start).
    let mut pixels = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
        pixels = grab(&conn, parent, w, h, &dir.join("window-first-frame.png"));
        let non_black = pixels.chunks_exact(4).filter(|p| p[0] > 20 || p[1] > 20 || p[2] > 20).count();
        if non_black > pixels.len() / 8 {
            break;
        }
    }
    let first_frame = opened.elapsed();
    let non_black = pixels.chunks_exact(4).filter(|p| p[0] > 20 || p[1] > 20 || p[2] > 20).count();
    assert!(non_black > pixels.len() / 8, "the window shows the panel ({non_black} lit pixels)");
    println!("editor window: first frame visible after {first_frame:?}");

    // Click each tool in the tool bar (where the same panel code lays it out headlessly at this
    // size) and grab the window: every click must arrive as a host gesture on "Tool".
    let layout = {
        let mut headless = Headless::new(Fixture::new().panel(), Vec2::new(w as f32, h as f32), 1.0);
        headless.frames(2);
        TOOLS.map(|tool| headless.panel.rect_of(&format!("tool:{}", tool_name(tool))).unwrap().center())
    };
    let pointer = FakePointer::new(&server.display).unwrap();
    for (tool, at) in TOOLS.into_iter().zip(layout).rev() {
        pointer.move_to(at.x as i16, at.y as i16).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        pointer.button(true).unwrap();
        std::thread::sleep(Duration::from_millis(80));
        pointer.button(false).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while fixture.params.tool.value() != tool && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(fixture.params.tool.value(), tool, "the click on {} reached the panel", tool_name(tool));
        if tool != Tool::Continue {
            let gestures = host.take();
            assert!(
                gestures.contains(&Gesture::Begin("Tool".into())) && gestures.contains(&Gesture::End("Tool".into())),
                "{gestures:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(600));
        grab(&conn, parent, w, h, &dir.join(format!("window-{}.png", tool_name(tool).to_lowercase())));
    }
    // Drag result 2 out of the real window onto an XDND target beside it: the platform drag
    // (XDND on a helper thread) runs exactly as in a host.
    let data_home = std::env::temp_dir().join(format!("cadenza-window-xdg-{}", std::process::id()));
    std::env::set_var("XDG_DATA_HOME", &data_home);
    let target = XdndTarget::new(&server.display, 1000, 100, 270, 300).unwrap();
    let target_thread = std::thread::spawn(move || target.run(Duration::from_secs(20)));
    pointer.move_to(650, 177).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    pointer.button(true).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    for i in 1..=30 {
        pointer.move_to(650 + i * 16, 177 + i * 3).unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_millis(200));
    pointer.button(false).unwrap();
    let received = target_thread.join().unwrap().expect("the target window got a drop from the editor window");
    let paths = paths_from_uri_list(received.uri_list.as_deref().unwrap_or(""));
    assert_eq!(paths.len(), 1, "{received:?}");
    let imported = import_midi_file(&paths[0], &ImportOptions::default()).unwrap().clip;
    let session = fixture.shared.session.lock();
    assert_eq!(session.selected, Some(1), "dragging selects the result");
    assert_eq!(imported.notes, session.generated[1].notes, "the dropped .mid is the dragged result");
    drop(session);
    let _ = std::fs::remove_dir_all(&data_home);

    // Close the editor as a host does and let its window thread finish before the X server
    // goes away.
    drop(spawned);
    println!("editor closed");
    std::thread::sleep(Duration::from_millis(500));
    drop(conn);
    drop(server);
    println!("server stopped");
}
