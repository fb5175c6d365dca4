//! Drop-in on the real editor window: a `.mid` dragged from another application (XDND on a
//! private Xvfb) and let go over input A's roll lands in input A. The editor is opened the way a
//! CLAP host on Linux opens it (spawned, re-parented into a host window, shown), as in
//! `editor_window.rs`. The drag source is Cadenza's own XDND source
//! (`cadenza::editor::x11_drag::spawn_drag`), started while the mouse button is held in a
//! "file manager" window of this test (which owns the pointer grab, as a real file manager
//! does); the pointer travels over the editor with XTEST and lets go there. baseview's XDND
//! target hands the drop to egui-baseview, whose vendored patch (vendor/README.md) turns it
//! into egui's `dropped_files`; the panel loads the file into the input under the pointer.
//!
//! Needs `Xvfb` and Mesa's GL (Debian: xvfb libgl1-mesa-dri). Without Xvfb the test fails unless
//! CADENZA_SKIP_X11_TESTS=1.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use cadenza::editor::egui::Vec2;
use cadenza::editor::layout::DEFAULT_SIZE;
use cadenza::editor::x11_drag;
use cadenza::editor::xdnd::Outcome;
use cadenza::params::Tool;
use cadenza_tests::editor_harness::{demo_melody, FakePointer, Fixture, Headless, RecordingHost, Xvfb};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::{Editor, EditorHandle, ParentWindowHandle};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ChangeWindowAttributesAux, ConnectionExt as _, CreateWindowAux, EventMask, Property, Window, WindowClass,
};
use x11rb::protocol::Event;
use x11rb::wrapper::ConnectionExt as _;

/// Generous: two shared cores, software GL, a debug build.
const WAIT: Duration = Duration::from_secs(60);

/// Creates and maps a top-level window at (`x`, `y`).
fn window(conn: &impl Connection, root: Window, x: i16, y: i16, w: u16, h: u16, aux: CreateWindowAux) -> Window {
    let id = conn.generate_id().unwrap();
    conn.create_window(x11rb::COPY_DEPTH_FROM_PARENT, id, root, x, y, w, h, 0, WindowClass::INPUT_OUTPUT, 0, &aux)
        .unwrap();
    conn.map_window(id).unwrap();
    conn.sync().unwrap();
    id
}

#[test]
fn a_midi_file_dropped_on_input_a_in_the_real_window_loads_into_input_a() {
    let Some(server) = Xvfb::start() else {
        assert!(std::env::var_os("CADENZA_SKIP_X11_TESTS").is_some(), "Xvfb is not installed (apt-get install xvfb)");
        return;
    };
    // baseview and the drag source both open `$DISPLAY`.
    std::env::set_var("DISPLAY", &server.display);
    let (conn, screen) = x11rb::connect(Some(&server.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let (w, h) = (DEFAULT_SIZE.0 as u16, DEFAULT_SIZE.1 as u16);

    // The host's window at the top left, the "file manager" to its right (the screen is 1280x800).
    let parent = window(&conn, root, 0, 0, w, h, CreateWindowAux::new().background_pixel(0));
    let (fm_x, fm_y) = (w as i16 + 20, 100);
    let file_manager = window(
        &conn,
        root,
        fm_x,
        fm_y,
        200,
        300,
        CreateWindowAux::new()
            .background_pixel(0x00cccccc)
            .event_mask(EventMask::BUTTON_PRESS | EventMask::BUTTON_RELEASE | EventMask::POINTER_MOTION),
    );

    // The file: a demo clip exported as the panel exports clips.
    let clip = demo_melody(2, 91);
    let path = std::env::temp_dir().join(format!("cadenza-drop-in-{}.mid", std::process::id()));
    cadenza::editor::files::write_clip(&clip, &path, 120.0, "dropped").unwrap();

    // The editor with empty inputs, on the default tool (Continue reads input A).
    let fixture = Fixture::new();
    assert_eq!(fixture.params.tool.value(), Tool::Continue);
    fixture.set_session([None, None], vec![], None);
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut app = cadenza::editor::CadenzaApp::new(fixture.params.clone(), fixture.editor.clone());
    app.panel.frame_log = Some(log.clone());
    let editor = cadenza::editor::create_with_app(app).unwrap();
    let spawned =
        editor.spawn(None, true, Some(1.0), GuiContext::new(RecordingHost::new()), None).expect("the editor opens");
    spawned.handle.set_parent(ParentWindowHandle::XlibWindow(parent as _), &spawned.window).unwrap();
    spawned.handle.show(&spawned.window).unwrap();
    let deadline = Instant::now() + WAIT;
    while log.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "the editor window never drew");
        std::thread::sleep(Duration::from_millis(50));
    }

    // baseview's window inside the host's: watch its properties, so the test knows when the
    // drop target has asked the source for the data (the source writes it there).
    let editor_window = {
        let deadline = Instant::now() + WAIT;
        loop {
            let children = conn.query_tree(parent).unwrap().reply().unwrap().children;
            if let Some(&child) = children.first() {
                break child;
            }
            assert!(Instant::now() < deadline, "the editor window was never re-parented");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    conn.change_window_attributes(
        editor_window,
        &ChangeWindowAttributesAux::new().event_mask(EventMask::PROPERTY_CHANGE),
    )
    .unwrap();
    let xdnd_selection = conn.intern_atom(false, b"XdndSelection").unwrap().reply().unwrap().atom;
    conn.sync().unwrap();

    // Where input A's roll is at this size (the same panel code, laid out headlessly).
    let slot_a = {
        let same = Fixture::new();
        same.set_session([None, None], vec![], None);
        let mut headless = Headless::new(same.panel(), Vec2::new(w as f32, h as f32), 1.0);
        headless.frames(2);
        assert!(headless.panel.rect_of("slot:B").is_none(), "Continue shows input A only");
        headless.panel.rect_of("slot:A").expect("Continue shows input A").center()
    };

    // Press the mouse on the file in the file manager and start the drag there.
    let pointer = FakePointer::new(&server.display).unwrap();
    let (x0, y0) = (fm_x + 100, fm_y + 150);
    pointer.move_to(x0, y0).unwrap();
    pointer.button(true).unwrap();
    let drag = x11_drag::spawn_drag(path.clone()).unwrap();

    // Carry it over input A's roll.
    let (x1, y1) = (slot_a.x as i16, slot_a.y as i16);
    for i in 1..=24 {
        let t = i as f32 / 24.0;
        pointer.move_to(x0 + ((x1 - x0) as f32 * t) as i16, y0 + ((y1 - y0) as f32 * t) as i16).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    // Hold it there until the editor has asked for the data (it then accepts the drop; the
    // source waits for that answer before dropping, so releasing now is safe).
    let deadline = Instant::now() + WAIT;
    loop {
        match conn.poll_for_event().unwrap() {
            Some(Event::PropertyNotify(e))
                if e.window == editor_window && e.atom == xdnd_selection && e.state == Property::NEW_VALUE =>
            {
                break;
            }
            Some(_) => {}
            None => {
                assert!(Instant::now() < deadline, "the editor never asked the drag source for the file");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    pointer.button(false).unwrap();

    let deadline = Instant::now() + WAIT;
    while !drag.is_finished() {
        assert!(Instant::now() < deadline, "the drag never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    let outcome = drag.join().unwrap().expect("the drag source ran");
    assert_eq!(
        outcome,
        Outcome::Dropped { window: editor_window, confirmed: true },
        "the editor window took the drop and said it finished"
    );

    // The panel loads the file into input A.
    let deadline = Instant::now() + WAIT;
    loop {
        let session = fixture.editor.session().lock();
        if let Some(input) = &session.inputs[0] {
            assert_eq!(input.notes, clip.notes, "input A holds the dropped file's notes");
            assert!(session.inputs[1].is_none(), "input B untouched");
            break;
        }
        drop(session);
        assert!(Instant::now() < deadline, "the dropped file never arrived in input A");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Close the editor as a host does and let its window thread finish before the X server
    // goes away.
    drop(spawned);
    std::thread::sleep(Duration::from_millis(500));
    let _ = std::fs::remove_file(&path);
    let _ = conn.destroy_window(file_manager);
    drop(conn);
    drop(server);
}
