//! Test support for the editor, used by `tests/tests/editor_*.rs` (never shipped in the plugin):
//!
//! - [`Headless`]: runs the real [`Panel`] in an `egui::Context` without a window, with
//!   synthetic pointer/keyboard input, and renders its frames to PNG with a small software
//!   rasterizer (egui's meshes are textured, vertex-coloured triangles), so screenshots need no
//!   GPU, no GL and no X server.
//! - [`RecordingHost`]: a `GuiContext` that records begin/set/end gestures and applies the values
//!   to the parameters the way the plugin wrapper does.
//! - `XdndTarget` (Linux): a minimal XDND drop target window for the drag-out test.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use egui::epaint::{ClippedPrimitive, Primitive};
use egui::{Color32, Event, Modifiers, PointerButton, Pos2, RawInput, Rect, TextureId, Vec2};
use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::context::PluginApi;
use nice_plug::prelude::{ParamPtr, ParamSetter, PluginState};

use cadenza::editor::panel::Panel;

/// One parameter gesture as the host saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Gesture {
    Begin(String),
    Set(String, f32),
    End(String),
}

/// A fake host's GUI context: records gestures (by parameter name) and applies `set` to the
/// parameter, as nice-plug's wrappers do.
#[derive(Default)]
pub struct RecordingHost {
    pub gestures: Mutex<Vec<Gesture>>,
}

impl RecordingHost {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn take(&self) -> Vec<Gesture> {
        std::mem::take(&mut *self.gestures.lock().unwrap())
    }
}

fn param_name(param: ParamPtr) -> String {
    unsafe { param.name() }.to_string()
}

impl GuiContextInner for RecordingHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, param: ParamPtr) {
        self.gestures.lock().unwrap().push(Gesture::Begin(param_name(param)));
    }
    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        self.gestures.lock().unwrap().push(Gesture::Set(param_name(param), normalized));
        unsafe { param._internal_set_normalized_value(normalized) };
    }
    unsafe fn raw_end_set_parameter(&self, param: ParamPtr) {
        self.gestures.lock().unwrap().push(Gesture::End(param_name(param)));
    }
    fn get_state(&self) -> PluginState {
        PluginState { version: String::new(), params: Default::default(), fields: Default::default() }
    }
    fn set_state(&self, _state: PluginState) {}
    fn request_restart(&self) {}
}

/// The editor without a window: frames are run with synthetic input and can be rendered.
pub struct Headless {
    pub ctx: egui::Context,
    pub panel: Panel,
    pub host: Arc<RecordingHost>,
    gui: GuiContext,
    /// Logical size of the "window".
    pub size: Vec2,
    pub pixels_per_point: f32,
    textures: HashMap<TextureId, Texture>,
    last: Option<(Vec<ClippedPrimitive>, f32)>,
    events: Vec<Event>,
    /// Files to drop in the next frame.
    dropped: Vec<egui::DroppedFileHandle>,
    pointer: Pos2,
    start: Instant,
}

/// A file dropped on the headless panel.
#[derive(Debug)]
struct DroppedPath(std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[derive(Clone)]
struct Texture {
    size: [usize; 2],
    pixels: Vec<Color32>,
}

impl Headless {
    pub fn new(panel: Panel, size: Vec2, pixels_per_point: f32) -> Self {
        let ctx = egui::Context::default();
        cadenza::editor::style::apply(&ctx);
        let host = RecordingHost::new();
        let gui = GuiContext::new(host.clone());
        Self {
            ctx,
            panel,
            host,
            gui,
            size,
            pixels_per_point,
            textures: HashMap::new(),
            last: None,
            events: Vec::new(),
            dropped: Vec::new(),
            pointer: Pos2::new(1.0, 1.0),
            start: Instant::now(),
        }
    }

    /// Runs one frame with the queued input; returns how long the frame took on the CPU (the
    /// panel's code, egui's layout and tessellation).
    pub fn frame(&mut self) -> std::time::Duration {
        let mut input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, self.size)),
            time: Some(self.start.elapsed().as_secs_f64()),
            events: std::mem::take(&mut self.events),
            dropped_files: std::mem::take(&mut self.dropped),
            focused: true,
            ..Default::default()
        };
        input.viewports.entry(egui::ViewportId::ROOT).or_default().native_pixels_per_point =
            Some(self.pixels_per_point);
        let started = Instant::now();
        let host = self.host.clone();
        let setter = ParamSetter::new(&*host);
        let panel = &mut self.panel;
        let mut output = self.ctx.run_ui(input, |ui| panel.ui(ui, &setter));
        for (id, delta) in output.textures_delta.set.iter().flat_map(|(id, deltas)| deltas.iter().map(move |d| (id, d)))
        {
            let egui::ImageData::Color(image) = &delta.image;
            match delta.pos {
                None => {
                    self.textures.insert(*id, Texture { size: image.size, pixels: image.pixels.clone() });
                }
                Some([x0, y0]) => {
                    if let Some(texture) = self.textures.get_mut(id) {
                        for y in 0..image.size[1] {
                            for x in 0..image.size[0] {
                                texture.pixels[(y0 + y) * texture.size[0] + x0 + x] =
                                    image.pixels[y * image.size[0] + x];
                            }
                        }
                    }
                }
            }
        }
        for id in &output.textures_delta.free {
            self.textures.remove(id);
        }
        output.textures_delta.clear();
        let ppp = output.pixels_per_point;
        let primitives = self.ctx.tessellate(output.shapes, ppp);
        // The panel's code plus egui's layout and tessellation: everything but the GPU upload.
        let elapsed = started.elapsed();
        self.last = Some((primitives, ppp));
        elapsed
    }

    /// A setter on the recording host (for driving parameters like the host would not).
    pub fn gui_context(&self) -> &GuiContext {
        &self.gui
    }

    /// Runs `n` frames (egui needs a couple to settle layouts and sizes).
    pub fn frames(&mut self, n: usize) {
        for _ in 0..n {
            self.frame();
        }
    }

    pub fn move_to(&mut self, pos: Pos2) {
        self.pointer = pos;
        self.events.push(Event::PointerMoved(pos));
    }

    fn button(&mut self, pressed: bool) {
        self.events.push(Event::PointerButton {
            pos: self.pointer,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }

    /// Clicks the centre of a named control (see `Panel::rect_of`). Panics if it is absent.
    pub fn click(&mut self, name: &str) {
        let rect = self.panel.rect_of(name).unwrap_or_else(|| panic!("no control named {name:?} in the last frame"));
        self.click_at(rect.center());
    }

    pub fn click_at(&mut self, pos: Pos2) {
        self.move_to(pos);
        self.frame();
        self.button(true);
        self.frame();
        self.button(false);
        self.frame();
        self.frame();
    }

    /// Two quick clicks at `pos` (within egui's double-click time).
    pub fn double_click_at(&mut self, pos: Pos2) {
        self.move_to(pos);
        self.frame();
        for _ in 0..2 {
            self.button(true);
            self.frame();
            self.button(false);
            self.frame();
        }
        self.frame();
    }

    /// Presses and drags from `from` to `to` in `steps` frames, then releases.
    pub fn drag(&mut self, from: Pos2, to: Pos2, steps: usize) {
        self.move_to(from);
        self.frame();
        self.button(true);
        self.frame();
        for i in 1..=steps {
            let t = i as f32 / steps as f32;
            self.move_to(from + (to - from) * t);
            self.frame();
        }
        self.button(false);
        self.frame();
        self.frame();
    }

    /// Turns the mouse wheel over `at` by `delta` points (negative y scrolls down).
    pub fn wheel(&mut self, at: Pos2, delta: Vec2) {
        self.move_to(at);
        self.events.push(Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta,
            modifiers: Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
        });
        self.frame();
        self.frame();
    }

    /// Drops the file at `path` on the panel at `at`, as a window system's file drop does.
    pub fn drop_file(&mut self, path: &Path, at: Pos2) {
        self.move_to(at);
        self.frame();
        self.dropped.push(Arc::new(DroppedPath(path.to_path_buf())));
        self.frame();
        self.frame();
    }

    pub fn key(&mut self, key: egui::Key) {
        for pressed in [true, false] {
            self.events.push(Event::Key {
                key,
                physical_key: None,
                pressed,
                repeat: false,
                modifiers: Modifiers::NONE,
            });
        }
        self.frame();
        self.frame();
    }

    /// A copy of the last frame, to render later (rendering is slow; keeping is cheap).
    pub fn keep(&self) -> KeptFrame {
        let (primitives, ppp) = self.last.clone().expect("run a frame first");
        KeptFrame { primitives, ppp, size: self.size, textures: self.textures.clone() }
    }

    /// Renders the last frame to RGBA pixels (physical size).
    pub fn render(&self) -> (u32, u32, Vec<u8>) {
        self.keep().render()
    }

    /// Renders the last frame and writes it as a PNG.
    pub fn screenshot(&self, path: &Path) -> std::io::Result<()> {
        self.keep().screenshot(path)
    }
}

/// One frame's meshes and textures, renderable without the context.
pub struct KeptFrame {
    primitives: Vec<ClippedPrimitive>,
    ppp: f32,
    size: Vec2,
    textures: HashMap<TextureId, Texture>,
}

impl KeptFrame {
    /// Renders the frame to RGBA pixels (physical size) with the software rasterizer.
    pub fn render(&self) -> (u32, u32, Vec<u8>) {
        let (primitives, ppp) = (&self.primitives, &self.ppp);
        let width = (self.size.x * ppp).round() as usize;
        let height = (self.size.y * ppp).round() as usize;
        let mut canvas = vec![[0.0f32; 4]; width * height];
        let bg = cadenza::editor::style::palette::BACKGROUND;
        for px in canvas.iter_mut() {
            *px = [bg.r() as f32, bg.g() as f32, bg.b() as f32, 255.0];
        }
        for primitive in primitives {
            let Primitive::Mesh(mesh) = &primitive.primitive else { continue };
            let Some(texture) = self.textures.get(&mesh.texture_id) else { continue };
            let clip = primitive.clip_rect;
            let clip = (
                (clip.min.x * ppp).floor().max(0.0) as i64,
                (clip.min.y * ppp).floor().max(0.0) as i64,
                ((clip.max.x * ppp).ceil() as i64).min(width as i64),
                ((clip.max.y * ppp).ceil() as i64).min(height as i64),
            );
            for tri in mesh.indices.chunks_exact(3) {
                let v =
                    [&mesh.vertices[tri[0] as usize], &mesh.vertices[tri[1] as usize], &mesh.vertices[tri[2] as usize]];
                raster_triangle(&mut canvas, width, clip, *ppp, v, texture);
            }
        }
        let mut bytes = Vec::with_capacity(width * height * 4);
        for px in canvas {
            bytes.extend([
                px[0].round().clamp(0.0, 255.0) as u8,
                px[1].round().clamp(0.0, 255.0) as u8,
                px[2].round().clamp(0.0, 255.0) as u8,
                255,
            ]);
        }
        (width as u32, height as u32, bytes)
    }

    /// Renders the frame and writes it as a PNG.
    pub fn screenshot(&self, path: &Path) -> std::io::Result<()> {
        let (w, h, rgba) = self.render();
        write_png(path, w, h, &rgba)
    }
}

pub fn write_png(path: &Path, width: u32, height: u32, rgba: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
    writer.write_image_data(rgba).map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)
}

fn edge(a: (f32, f32), b: (f32, f32), p: (f32, f32)) -> f32 {
    (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0)
}

/// Fills one triangle with interpolated colour × bilinear texel, premultiplied "over".
fn raster_triangle(
    canvas: &mut [[f32; 4]],
    width: usize,
    clip: (i64, i64, i64, i64),
    ppp: f32,
    v: [&egui::epaint::Vertex; 3],
    texture: &Texture,
) {
    let p: Vec<(f32, f32)> = v.iter().map(|v| (v.pos.x * ppp, v.pos.y * ppp)).collect();
    let area = edge(p[0], p[1], p[2]);
    if area.abs() < 1e-6 {
        return;
    }
    let min_x = (p.iter().map(|q| q.0).fold(f32::MAX, f32::min).floor() as i64).max(clip.0);
    let max_x = (p.iter().map(|q| q.0).fold(f32::MIN, f32::max).ceil() as i64).min(clip.2);
    let min_y = (p.iter().map(|q| q.1).fold(f32::MAX, f32::min).floor() as i64).max(clip.1);
    let max_y = (p.iter().map(|q| q.1).fold(f32::MIN, f32::max).ceil() as i64).min(clip.3);
    let colors: Vec<[f32; 4]> =
        v.iter().map(|v| [v.color.r() as f32, v.color.g() as f32, v.color.b() as f32, v.color.a() as f32]).collect();
    // Flat colour and a single texel (the white one for plain shapes) are the common case.
    for y in min_y..max_y {
        for x in min_x..max_x {
            let c = (x as f32 + 0.5, y as f32 + 0.5);
            let w0 = edge(p[1], p[2], c) / area;
            let w1 = edge(p[2], p[0], c) / area;
            let w2 = edge(p[0], p[1], c) / area;
            if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                continue;
            }
            let u = w0 * v[0].uv.x + w1 * v[1].uv.x + w2 * v[2].uv.x;
            let t = w0 * v[0].uv.y + w1 * v[1].uv.y + w2 * v[2].uv.y;
            let texel = sample(texture, u, t);
            let mut src = [0.0f32; 4];
            for (i, s) in src.iter_mut().enumerate() {
                let vc = w0 * colors[0][i] + w1 * colors[1][i] + w2 * colors[2][i];
                *s = vc * texel[i] / 255.0;
            }
            let dst = &mut canvas[y as usize * width + x as usize];
            let inv = 1.0 - src[3] / 255.0;
            for i in 0..4 {
                dst[i] = src[i] + dst[i] * inv;
            }
        }
    }
}

fn sample(texture: &Texture, u: f32, v: f32) -> [f32; 4] {
    let [w, h] = texture.size;
    let x = (u * w as f32 - 0.5).clamp(0.0, (w - 1) as f32);
    let y = (v * h as f32 - 0.5).clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let get = |x: usize, y: usize| {
        let c = texture.pixels[y * w + x];
        [c.r() as f32, c.g() as f32, c.b() as f32, c.a() as f32]
    };
    let (a, b, c, d) = (get(x0, y0), get(x1, y0), get(x0, y1), get(x1, y1));
    let mut out = [0.0; 4];
    for i in 0..4 {
        out[i] = (a[i] * (1.0 - fx) + b[i] * fx) * (1.0 - fy) + (c[i] * (1.0 - fx) + d[i] * fx) * fy;
    }
    out
}

#[cfg(target_os = "linux")]
pub use xdnd_target::XdndTarget;

#[cfg(target_os = "linux")]
mod xdnd_target {
    use std::time::{Duration, Instant};

    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{
        AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, Window, WindowClass,
    };
    use x11rb::protocol::Event;
    use x11rb::rust_connection::RustConnection;
    use x11rb::wrapper::ConnectionExt as _;
    use x11rb::CURRENT_TIME;

    use cadenza::editor::x11_drag::{Atoms, VERSION};

    /// A mapped, XDND-aware window that accepts `text/uri-list` drops and returns the dropped
    /// text. Its own X connection; call [`XdndTarget::run`] on a thread.
    pub struct XdndTarget {
        conn: RustConnection,
        atoms: Atoms,
        pub window: Window,
        pub root: Window,
    }

    /// What the target saw.
    #[derive(Debug, Clone, Default)]
    pub struct Received {
        pub entered: bool,
        pub positions: usize,
        pub types: Vec<String>,
        pub uri_list: Option<String>,
    }

    impl XdndTarget {
        /// Creates and maps the window at (`x`, `y`) with size `w`×`h` on `display`.
        pub fn new(display: &str, x: i16, y: i16, w: u16, h: u16) -> Result<Self, String> {
            Self::create(display, x, y, w, h, false)
        }

        /// Like [`XdndTarget::new`], but the window delegates XDND to an unmapped proxy window
        /// (`XdndProxy`), as embedding toolkits do.
        pub fn with_proxy(display: &str, x: i16, y: i16, w: u16, h: u16) -> Result<Self, String> {
            Self::create(display, x, y, w, h, true)
        }

        fn create(display: &str, x: i16, y: i16, w: u16, h: u16, proxied: bool) -> Result<Self, String> {
            let (conn, screen) = x11rb::connect(Some(display)).map_err(|e| e.to_string())?;
            let root = conn.setup().roots[screen].root;
            let atoms = Atoms::intern(&conn)?;
            let window = conn.generate_id().map_err(|e| e.to_string())?;
            let aux = CreateWindowAux::new()
                .background_pixel(0x00336699)
                .event_mask(EventMask::PROPERTY_CHANGE | EventMask::STRUCTURE_NOTIFY);
            conn.create_window(
                x11rb::COPY_DEPTH_FROM_PARENT,
                window,
                root,
                x,
                y,
                w,
                h,
                0,
                WindowClass::INPUT_OUTPUT,
                0,
                &aux,
            )
            .map_err(|e| e.to_string())?;
            let aware = if proxied {
                let proxy = conn.generate_id().map_err(|e| e.to_string())?;
                conn.create_window(
                    0,
                    proxy,
                    root,
                    -10,
                    -10,
                    1,
                    1,
                    0,
                    WindowClass::INPUT_ONLY,
                    0,
                    &CreateWindowAux::new(),
                )
                .map_err(|e| e.to_string())?;
                for on in [window, proxy] {
                    conn.change_property32(PropMode::REPLACE, on, atoms.xdnd_proxy, AtomEnum::WINDOW, &[proxy])
                        .map_err(|e| e.to_string())?;
                }
                proxy
            } else {
                window
            };
            conn.change_property32(PropMode::REPLACE, aware, atoms.xdnd_aware, AtomEnum::ATOM, &[VERSION as u32])
                .map_err(|e| e.to_string())?;
            conn.map_window(window).map_err(|e| e.to_string())?;
            conn.sync().map_err(|e| e.to_string())?;
            Ok(Self { conn, atoms, window, root })
        }

        fn atom_name(&self, atom: u32) -> String {
            self.conn
                .get_atom_name(atom)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| String::from_utf8_lossy(&r.name).into_owned())
                .unwrap_or_default()
        }

        /// Serves one drop (accepting `text/uri-list`) and returns what it got, or gives up after
        /// `timeout`.
        pub fn run(self, timeout: Duration) -> Result<Received, String> {
            let a = &self.atoms;
            let mut got = Received::default();
            let mut source = 0;
            let deadline = Instant::now() + timeout;
            while Instant::now() < deadline {
                let Some(event) = self.conn.poll_for_event().map_err(|e| e.to_string())? else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                match event {
                    Event::ClientMessage(msg) if msg.type_ == a.xdnd_enter => {
                        let data = msg.data.as_data32();
                        source = data[0];
                        got.entered = true;
                        got.types = data[2..5].iter().filter(|t| **t != 0).map(|t| self.atom_name(*t)).collect();
                    }
                    Event::ClientMessage(msg) if msg.type_ == a.xdnd_position => {
                        got.positions += 1;
                        let accept = got.types.iter().any(|t| t == "text/uri-list") as u32;
                        let data = [self.window, accept, 0, 0, a.xdnd_action_copy];
                        let reply = ClientMessageEvent::new(32, source, a.xdnd_status, data);
                        self.conn.send_event(false, source, EventMask::NO_EVENT, reply).map_err(|e| e.to_string())?;
                        self.conn.flush().map_err(|e| e.to_string())?;
                    }
                    Event::ClientMessage(msg) if msg.type_ == a.xdnd_drop => {
                        let time = msg.data.as_data32()[2];
                        let time = if time == 0 { CURRENT_TIME } else { time };
                        self.conn
                            .convert_selection(self.window, a.xdnd_selection, a.uri_list, a.xdnd_selection, time)
                            .map_err(|e| e.to_string())?;
                        self.conn.flush().map_err(|e| e.to_string())?;
                    }
                    Event::SelectionNotify(notify) if notify.requestor == self.window => {
                        if notify.property != x11rb::NONE {
                            let reply = self
                                .conn
                                .get_property(true, self.window, notify.property, AtomEnum::ANY, 0, 1 << 20)
                                .map_err(|e| e.to_string())?
                                .reply()
                                .map_err(|e| e.to_string())?;
                            got.uri_list = Some(String::from_utf8_lossy(&reply.value).into_owned());
                        }
                        let done = ClientMessageEvent::new(
                            32,
                            source,
                            a.xdnd_finished,
                            [self.window, got.uri_list.is_some() as u32, a.xdnd_action_copy, 0, 0],
                        );
                        self.conn.send_event(false, source, EventMask::NO_EVENT, done).map_err(|e| e.to_string())?;
                        // A round trip, not just a flush: this connection closes right after, and
                        // on a loaded machine the server could drop a request still in flight
                        // (the source then waited for XdndFinished in vain). Real targets stay.
                        self.conn.sync().map_err(|e| e.to_string())?;
                        return Ok(got);
                    }
                    Event::ClientMessage(msg) if msg.type_ == a.xdnd_leave => {
                        got.entered = false;
                    }
                    _ => {}
                }
            }
            Err(format!("no drop within {timeout:?}: {got:?}"))
        }
    }

    /// Moves the pointer and presses/releases button 1 through XTEST (for drag tests).
    pub struct FakePointer {
        conn: RustConnection,
        root: Window,
    }

    impl FakePointer {
        pub fn new(display: &str) -> Result<Self, String> {
            let (conn, screen) = x11rb::connect(Some(display)).map_err(|e| e.to_string())?;
            let root = conn.setup().roots[screen].root;
            Ok(Self { conn, root })
        }

        pub fn move_to(&self, x: i16, y: i16) -> Result<(), String> {
            use x11rb::protocol::xtest::ConnectionExt as _;
            self.conn
                .xtest_fake_input(x11rb::protocol::xproto::MOTION_NOTIFY_EVENT, 0, CURRENT_TIME, self.root, x, y, 0)
                .map_err(|e| e.to_string())?;
            self.conn.sync().map_err(|e| e.to_string())
        }

        pub fn button(&self, pressed: bool) -> Result<(), String> {
            use x11rb::protocol::xtest::ConnectionExt as _;
            let kind = if pressed {
                x11rb::protocol::xproto::BUTTON_PRESS_EVENT
            } else {
                x11rb::protocol::xproto::BUTTON_RELEASE_EVENT
            };
            self.conn.xtest_fake_input(kind, 1, CURRENT_TIME, self.root, 0, 0, 0).map_err(|e| e.to_string())?;
            self.conn.sync().map_err(|e| e.to_string())
        }
    }
}

#[cfg(target_os = "linux")]
pub use xdnd_target::{FakePointer, Received};

/// Starts `Xvfb` on a free display number for a test; killed on drop. `None` when Xvfb is not
/// installed (the caller decides whether that skips or fails).
pub struct Xvfb {
    child: std::process::Child,
    pub display: String,
}

impl Xvfb {
    pub fn start() -> Option<Self> {
        // Display numbers spread by process id and a counter, so parallel tests and parallel
        // test binaries do not race for the same one.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        for _ in 0..40 {
            let n =
                100 + (std::process::id() % 400) * 16 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 16;
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let display = format!(":{n}");
            let child = std::process::Command::new("Xvfb")
                .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .ok()?;
            let mut xvfb = Self { child, display };
            let deadline = Instant::now() + std::time::Duration::from_secs(10);
            while Instant::now() < deadline {
                // Ours only while our child is alive (another server may own the number).
                if let Ok(Some(_)) = xvfb.child.try_wait() {
                    break;
                }
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    #[cfg(target_os = "linux")]
                    if x11rb::connect(Some(&xvfb.display)).is_ok() && matches!(xvfb.child.try_wait(), Ok(None)) {
                        return Some(xvfb);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let _ = xvfb.child.kill();
            let _ = xvfb.child.wait();
        }
        None
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The plugin's shared pieces without a plugin instance: parameters, session, and the three
/// ends of the channels (tests play the worker and the audio thread themselves).
pub struct Fixture {
    pub params: Arc<cadenza::params::CadenzaParams>,
    pub audio: cadenza::channels::AudioEnd,
    pub worker: cadenza::channels::WorkerEnd,
    pub editor: cadenza::channels::EditorEnd,
}

impl Fixture {
    pub fn new() -> Self {
        let session = Arc::new(cadenza::session::SessionField::default());
        let (audio, worker, editor) = cadenza::channels::open(session.clone());
        Self { params: Arc::new(cadenza::params::CadenzaParams::new(session)), audio, worker, editor }
    }

    pub fn panel(&self) -> Panel {
        Panel::new(self.params.clone(), self.editor.clone())
    }

    /// Sets a parameter's plain value the way host automation does (no gesture).
    pub fn host_sets<P: nice_plug::prelude::Param>(&self, param: &P, plain: P::Plain) {
        let normalized = param.preview_normalized(plain);
        unsafe { param.as_ptr()._internal_set_normalized_value(normalized) };
    }

    pub fn set_session(
        &self,
        inputs: [Option<cadenza::music::Clip>; 2],
        generated: Vec<cadenza::music::Clip>,
        selected: Option<usize>,
    ) {
        let mut session = self.editor.session().lock();
        session.inputs = inputs;
        session.generated = generated;
        session.selected = selected;
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// A deterministic little melody (a pseudo-random walk in C major) for pictures and tests.
pub fn demo_melody(bars: u16, seed: u32) -> cadenza::music::Clip {
    use cadenza::music::{Clip, Note, TimeSignature, PPQ};
    let mut clip = Clip::new(bars, TimeSignature::FOUR_FOUR, false);
    let scale = [0u8, 2, 4, 5, 7, 9, 11, 12, 14, 16];
    let mut state = seed.wrapping_mul(2654435761).wrapping_add(12345);
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut tick = 0;
    let end = clip.length_ticks();
    let mut degree = 4usize;
    while tick < end {
        let len = [PPQ / 2, PPQ / 2, PPQ, PPQ / 4, PPQ * 3 / 2][(next() % 5) as usize];
        degree = (degree as i32 + (next() % 5) as i32 - 2).clamp(0, scale.len() as i32 - 1) as usize;
        if next() % 7 != 0 {
            let stop = (tick + len).min(end);
            clip.notes.push(Note {
                pitch: 60 + scale[degree],
                velocity: 60 + (next() % 60) as u8,
                start: tick,
                end: stop,
                channel: 0,
            });
        }
        tick += len;
    }
    clip.sort();
    clip
}

/// A deterministic drum groove (kick, snare, hats and a few toms/cymbals).
pub fn demo_drums(bars: u16, seed: u32) -> cadenza::music::Clip {
    use cadenza::music::{Clip, Note, TimeSignature, PPQ};
    let mut clip = Clip::new(bars, TimeSignature::FOUR_FOUR, true);
    let step = PPQ / 4;
    let mut state = seed.wrapping_mul(747796405).wrapping_add(2891336453);
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for s in 0..(bars as u32 * 16) {
        let tick = s * step;
        let mut hit = |pitch: u8, velocity: u8| {
            clip.notes.push(Note { pitch, velocity, start: tick, end: tick + step / 2, channel: 9 })
        };
        let in_bar = s % 16;
        if in_bar % 8 == 0 || next() % 9 == 0 {
            hit(36, 110);
        }
        if in_bar % 8 == 4 {
            hit(38, 105);
        }
        if in_bar % 2 == 0 {
            hit(42, 70 + (next() % 40) as u8);
        } else if next() % 4 == 0 {
            hit(46, 60);
        }
        if in_bar == 15 && next() % 2 == 0 {
            hit([45, 48, 50][(next() % 3) as usize], 90);
        }
        if s == 0 {
            hit(49, 100);
        }
        if in_bar % 4 == 2 && next() % 5 == 0 {
            hit(51, 64);
        }
    }
    clip.sort();
    clip
}
