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
use cadenza::editor::layout::DEFAULT_SIZE;
use cadenza_tests::editor_harness::{
    demo_melody, write_png, FakePointer, Fixture, Gesture, Headless, RecordingHost, XdndTarget, Xvfb,
};

use cadenza::music::{import_midi_file, ImportOptions};
use cadenza::params::Tool;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::{Editor, EditorHandle, ParentWindowHandle};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, ImageFormat, WindowClass};
use x11rb::wrapper::ConnectionExt as _;

/// The tests here set the process-wide DISPLAY for baseview: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(server) = Xvfb::start() else {
        assert!(std::env::var_os("CADENZA_SKIP_X11_TESTS").is_some(), "Xvfb is not installed (apt-get install xvfb)");
        return;
    };
    std::env::set_var("DISPLAY", &server.display);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/editor-artifacts");

    // The host's window.
    let (conn, screen) = x11rb::connect(Some(&server.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let (w, h) = (DEFAULT_SIZE.0 as u16, DEFAULT_SIZE.1 as u16);
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
    let editor = cadenza::editor::create(fixture.params.clone(), fixture.editor.clone()).unwrap();
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
    let (layout, result_1) = {
        let same = Fixture::new();
        same.set_session([Some(demo_melody(2, 1)), None], (0..6).map(|i| demo_melody(4, 60 + i)).collect(), Some(2));
        let size = Vec2::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1);
        let mut headless = Headless::new(same.panel(), size, 1.0);
        headless.frames(2);
        let tools = Tool::ALL.map(|tool| headless.panel.rect_of(&format!("tool:{}", tool.name())).unwrap().center());
        (tools, headless.panel.rect_of("result:1").unwrap().center())
    };
    let pointer = FakePointer::new(&server.display).unwrap();
    for (tool, at) in Tool::ALL.into_iter().zip(layout).rev() {
        pointer.move_to(at.x as i16, at.y as i16).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        pointer.button(true).unwrap();
        std::thread::sleep(Duration::from_millis(80));
        pointer.button(false).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while fixture.params.tool.value() != tool && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(fixture.params.tool.value(), tool, "the click on {} reached the panel", tool.name());
        if tool != Tool::Continue {
            let gestures = host.take();
            assert!(
                gestures.contains(&Gesture::Begin("Tool".into())) && gestures.contains(&Gesture::End("Tool".into())),
                "{gestures:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(600));
        grab(&conn, parent, w, h, &dir.join(format!("window-{}.png", tool.name().to_lowercase())));
    }
    // Drag result 2 out of the real window onto an XDND target beside it: the platform drag
    // (XDND on a helper thread) runs exactly as in a host.
    let data_home = std::env::temp_dir().join(format!("cadenza-window-xdg-{}", std::process::id()));
    std::env::set_var("XDG_DATA_HOME", &data_home);
    let target = XdndTarget::new(&server.display, 1000, 100, 270, 300).unwrap();
    let target_thread = std::thread::spawn(move || target.run(Duration::from_secs(20)));
    let (x0, y0) = (result_1.x as i16, result_1.y as i16);
    pointer.move_to(x0, y0).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    pointer.button(true).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    for i in 1..=30 {
        pointer.move_to(x0 + i * 16, y0 + i * 3).unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_millis(200));
    pointer.button(false).unwrap();
    let received = target_thread.join().unwrap().expect("the target window got a drop from the editor window");
    let paths = paths_from_uri_list(received.uri_list.as_deref().unwrap_or(""));
    assert_eq!(paths.len(), 1, "{received:?}");
    let imported = import_midi_file(&paths[0], &ImportOptions::default()).unwrap().clip;
    let session = fixture.editor.session().lock();
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

/// Keeps one core busy for `per_variation` per variation, like inference.
struct Busy(Duration);

impl cadenza::worker::Generator for Busy {
    fn generate(
        &mut self,
        request: &cadenza::messages::JobRequest,
        progress: &cadenza::worker::Progress,
    ) -> Result<Vec<cadenza::music::Clip>, cadenza::messages::JobError> {
        let n = request.settings.variations as usize;
        let mut clips = Vec::new();
        for v in 0..n {
            let until = Instant::now() + self.0;
            let mut x = 1u64;
            while Instant::now() < until {
                for _ in 0..10_000 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
            }
            std::hint::black_box(x);
            clips.push(demo_melody(4, 200 + v as u32));
            progress.set((v + 1) as f32 / n as f32);
        }
        Ok(clips)
    }
}

#[test]
fn real_window_keeps_drawing_while_16_variations_generate() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(server) = Xvfb::start() else {
        assert!(std::env::var_os("CADENZA_SKIP_X11_TESTS").is_some(), "Xvfb is not installed (apt-get install xvfb)");
        return;
    };
    std::env::set_var("DISPLAY", &server.display);
    let (conn, screen) = x11rb::connect(Some(&server.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let (w, h) = (DEFAULT_SIZE.0 as u16, DEFAULT_SIZE.1 as u16);
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
    let set = |param: &nice_plug::prelude::IntParam, v: i32| fixture.host_sets(param, v);
    fixture.host_sets(&fixture.params.tool, Tool::Generate);
    set(&fixture.params.variations, 16);
    fixture.set_session([Some(demo_melody(4, 1)), None], vec![], None);
    let _engine =
        cadenza::worker::WorkerHandle::spawn(fixture.worker.clone(), Box::new(Busy(Duration::from_millis(120))))
            .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut app = cadenza::editor::CadenzaApp::new(fixture.params.clone(), fixture.editor.clone());
    app.panel.frame_log = Some(log.clone());
    let editor = cadenza::editor::create_with_app(app).unwrap();
    let host = RecordingHost::new();
    let spawned = editor.spawn(None, true, Some(1.0), GuiContext::new(host), None).unwrap();
    spawned.handle.set_parent(ParentWindowHandle::XlibWindow(parent as _), &spawned.window).unwrap();
    spawned.handle.show(&spawned.window).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while log.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "the window never drew");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));

    // Press the Generate button where the panel lays it out.
    let at = {
        let fixture = Fixture::new();
        fixture.host_sets(&fixture.params.tool, Tool::Generate);
        let mut headless = Headless::new(fixture.panel(), Vec2::new(w as f32, h as f32), 1.0);
        headless.frames(2);
        headless.panel.rect_of("generate").unwrap().center()
    };
    let pointer = FakePointer::new(&server.display).unwrap();
    pointer.move_to(at.x as i16, at.y as i16).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    pointer.button(true).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    pointer.button(false).unwrap();
    let clicked = Instant::now();
    let deadline = clicked + Duration::from_secs(60);
    while fixture.editor.session().lock().generated.len() < 16 {
        assert!(Instant::now() < deadline, "the generation never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    let finished = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    let frames: Vec<(Instant, Duration)> =
        log.lock().unwrap().iter().copied().filter(|(t, _)| *t >= clicked && *t <= finished).collect();
    drop(spawned);
    std::thread::sleep(Duration::from_millis(500));

    let gaps: Vec<f64> = frames.windows(2).map(|w| (w[1].0 - w[0].0).as_secs_f64() * 1000.0).collect();
    let mut sorted = gaps.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pick = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let mut ui_ms: Vec<f64> = frames.iter().map(|(_, d)| d.as_secs_f64() * 1000.0).collect();
    ui_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let report = format!(
        "real window (baseview + OpenGL on Xvfb/llvmpipe, {} build), 16 variations in {:.2} s:\n  {} frames drawn during generation ({:.1} fps)\n  frame interval: median {:.1} ms, p95 {:.1} ms, max {:.1} ms\n  panel code per frame: median {:.2} ms, max {:.2} ms\n",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        (finished - clicked).as_secs_f64(),
        frames.len(),
        frames.len() as f64 / (finished - clicked).as_secs_f64(),
        pick(0.5),
        pick(0.95),
        sorted.last().copied().unwrap_or(0.0),
        ui_ms[ui_ms.len() / 2],
        ui_ms.last().copied().unwrap_or(0.0),
    );
    println!("{report}");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/editor-artifacts");
    std::fs::write(dir.join("frame-times-window.txt"), &report).unwrap();
    assert!(frames.len() >= 10, "the window drew only {} frames while generating", frames.len());
    assert!(sorted.last().copied().unwrap_or(0.0) < 1000.0, "the window stalled: {report}");
    drop(conn);
    drop(server);
}
