//! The Cadenza panel: one egui function drawing the whole editor from the parameters and the
//! worker's channels. It never waits: parameters are atomics, the worker is reached through
//! its queues and atomics, and the session mutex is held only for short copies (when it changed).

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use egui::{
    Align, Color32, CornerRadius, FontId, Key, Layout, Pos2, Rect, RichText, Sense, Stroke, StrokeKind, Ui, Vec2,
};
use nice_plug::prelude::{Enum, Param, ParamSetter};

use cadenza_music::{import_midi_file, Clip, DrumMap, ImportOptions};

use super::files;
use super::pianoroll::{self, RollLayout, Rows};
use crate::channels::{EditorEnd, WorkerState};
use crate::messages::{JobError, ToolSettings, WorkerEvent};
use crate::params::{CadenzaParams, KeyRoot, Mode, Playback, Scale, Tool};
use crate::session::{SessionStamp, INPUT_SLOTS};

/// Smallest logical size the panel lays out well in.
pub const MIN_SIZE: (f32, f32) = (760.0, 520.0);
/// The size it opens at.
pub const DEFAULT_SIZE: (f32, f32) = (980.0, 700.0);


/// Colours chosen for contrast on the dark background (all text ≥ 7:1 except hints ≥ 4.5:1).
pub mod palette {
    use egui::Color32;
    pub const BACKGROUND: Color32 = Color32::from_rgb(0x16, 0x18, 0x1d);
    pub const PANEL: Color32 = Color32::from_rgb(0x20, 0x23, 0x2b);
    pub const ROLL_BG: Color32 = Color32::from_rgb(0x0f, 0x11, 0x15);
    pub const ROLL_BLACK_KEY: Color32 = Color32::from_rgb(0x19, 0x1c, 0x22);
    pub const GRID: Color32 = Color32::from_rgb(0x3a, 0x3f, 0x4b);
    pub const TEXT: Color32 = Color32::from_rgb(0xec, 0xee, 0xf2);
    pub const HINT: Color32 = Color32::from_rgb(0xa8, 0xae, 0xba);
    pub const ACCENT: Color32 = Color32::from_rgb(0xff, 0xb3, 0x47);
    pub const NOTE: Color32 = Color32::from_rgb(0x5c, 0xc8, 0xff);
    pub const DRUM: Color32 = Color32::from_rgb(0x8d, 0xe0, 0x7a);
    pub const SELECTED: Color32 = Color32::from_rgb(0xff, 0xb3, 0x47);
    pub const ERROR: Color32 = Color32::from_rgb(0xff, 0x8a, 0x80);
    pub const OK: Color32 = Color32::from_rgb(0x8d, 0xe0, 0x7a);
}

/// Starts an OS drag of a written .mid file. Linux: XDND on a helper thread; tests inject their
/// own. Returns what to tell the user.
pub type DragStarter = Box<dyn FnMut(PathBuf) -> Result<DragStarted, String> + Send>;

/// A drag that has begun: what to tell the user now and, where the platform reports it, the
/// outcome to come.
pub struct DragStarted {
    pub message: String,
    pub outcome: Option<std::thread::JoinHandle<Result<super::xdnd::Outcome, String>>>,
}

/// The platform's drag-out: XDND on Linux/X11, an "exported, drag it from the folder" message
/// elsewhere (and on Linux without an X display).
pub fn platform_drag_starter() -> DragStarter {
    Box::new(|path: PathBuf| {
        #[cfg(target_os = "linux")]
        {
            if std::env::var_os("DISPLAY").is_some() {
                return super::x11_drag::spawn_drag(path.clone())
                    .map(|handle| DragStarted {
                        message: format!("Dragging {} — drop it on a track", file_label(&path)),
                        outcome: Some(handle),
                    })
                    .map_err(|e| format!("Could not start the drag: {e}"));
            }
        }
        Err(format!(
            "Drag-out is not available here yet; the clip was saved as {} — use Reveal folder and drag it from there",
            path.display()
        ))
    })
}

fn file_label(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Frame start times and how long the panel's code took, shared with a test.
pub type FrameLog = Arc<std::sync::Mutex<Vec<(Instant, Duration)>>>;

/// A clip with its precomputed roll.
#[derive(Debug, Clone)]
struct Shown {
    clip: Clip,
    roll: RollLayout,
    summary: String,
}

impl Shown {
    fn new(clip: Clip, map: &DrumMap) -> Self {
        let roll = pianoroll::layout(&clip, map);
        let summary = pianoroll::describe(&clip);
        Self { clip, roll, summary }
    }
}

/// What the engine is doing, as the editor understands it from its events.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    Idle,
    /// `started`: the engine confirmed it picked the job up.
    Running {
        id: u64,
        since: Instant,
        started: bool,
    },
    Done {
        variations: usize,
    },
    Failed(String),
    Cancelled,
}

/// Everything the editor draws from, plus its own UI state.
pub struct Panel {
    pub params: Arc<CadenzaParams>,
    pub channels: EditorEnd,
    drum_map: DrumMap,
    stamp: Option<SessionStamp>,
    inputs: [Option<Shown>; INPUT_SLOTS],
    results: Vec<Shown>,
    pub selected: Option<usize>,
    /// Keep/favourite marks, one per result (the batch's, cleared when a new batch arrives).
    pub favourites: Vec<bool>,
    /// Identifies the current batch in file names.
    batch_stamp: u64,
    pub activity: Activity,
    /// The request id the UI submitted last (to tell our jobs from the audio thread's).
    last_submitted: Option<u64>,
    /// A line for the status bar (export/drag results), with its time.
    pub message: Option<(String, bool, Instant)>,
    /// The .mid path typed into each slot's file field.
    pub file_fields: [String; INPUT_SLOTS],
    /// Folder for "Export all".
    pub export_dir: String,
    loading: Option<(usize, mpsc::Receiver<Result<Clip, String>>)>,
    temperature_gesture: bool,
    int_gesture: Option<&'static str>,
    drag_starter: DragStarter,
    /// The OS drag in progress (its outcome arrives when the user lets go).
    /// The keyboard moved the selection: bring its card into view.
    scroll_to_selected: bool,
    /// The user pressed Cancel for the running job.
    cancel_requested: bool,
    drag_in_flight: Option<(std::thread::JoinHandle<Result<super::xdnd::Outcome, String>>, String)>,
    /// The temperature the slider showed in the last frame (tests read it).
    pub shown_temperature: f32,
    /// Where the named controls were in the last frame (tests click them).
    pub widget_rects: Vec<(String, Rect)>,
    /// Generate presses the audio thread dropped, as last reported to the musician.
    dropped_presses_seen: u32,
    /// When set, every frame appends (its start, how long the panel's code took): for
    /// measuring frame times in a real window.
    pub frame_log: Option<FrameLog>,
}

impl Panel {
    pub fn new(params: Arc<CadenzaParams>, channels: EditorEnd) -> Self {
        Self {
            dropped_presses_seen: channels.dropped_presses(),
            params,
            channels,
            drum_map: DrumMap::from_spec(),
            stamp: None,
            inputs: [None, None],
            results: Vec::new(),
            selected: None,
            favourites: Vec::new(),
            batch_stamp: now_secs(),
            activity: Activity::Idle,
            last_submitted: None,
            message: None,
            file_fields: [String::new(), String::new()],
            export_dir: files::clips_dir().to_string_lossy().into_owned(),
            loading: None,
            temperature_gesture: false,
            int_gesture: None,
            drag_starter: platform_drag_starter(),
            drag_in_flight: None,
            cancel_requested: false,
            scroll_to_selected: false,
            shown_temperature: f32::NAN,
            widget_rects: Vec::new(),
            frame_log: None,
        }
    }

    pub fn set_drag_starter(&mut self, starter: DragStarter) {
        self.drag_starter = starter;
    }

    /// The rectangle of a named control in the last frame.
    pub fn rect_of(&self, name: &str) -> Option<Rect> {
        self.widget_rects.iter().find(|(n, _)| n == name).map(|(_, r)| *r)
    }

    fn note_rect(&mut self, name: impl Into<String>, rect: Rect) {
        self.widget_rects.push((name.into(), rect));
    }

    pub fn results_len(&self) -> usize {
        self.results.len()
    }

    /// Applies the egui style: dark, high-contrast, slightly larger text.
    pub fn apply_style(ctx: &egui::Context) {
        let mut visuals = egui::Visuals::dark();
        visuals.panel_fill = palette::BACKGROUND;
        visuals.window_fill = palette::PANEL;
        visuals.extreme_bg_color = palette::ROLL_BG;
        visuals.override_text_color = Some(palette::TEXT);
        visuals.selection.bg_fill = Color32::from_rgb(0x8a, 0x55, 0x10);
        visuals.selection.stroke = Stroke::new(1.0, palette::TEXT);
        visuals.hyperlink_color = palette::ACCENT;
        ctx.set_visuals(visuals);
        ctx.global_style_mut(|style| {
            style.spacing.item_spacing = Vec2::new(8.0, 6.0);
            style.spacing.button_padding = Vec2::new(8.0, 4.0);
            style.spacing.slider_width = 150.0;
            for (text_style, font) in style.text_styles.iter_mut() {
                font.size = match text_style {
                    egui::TextStyle::Heading => 19.0,
                    egui::TextStyle::Small => 11.5,
                    _ => 14.0,
                };
            }
        });
    }

    /// Reads the worker's events and the session (only when it changed).
    fn poll_worker(&mut self) {
        while let Some(event) = self.channels.next_event() {
            match event {
                WorkerEvent::Started { id } => {
                    self.activity = Activity::Running { id, since: Instant::now(), started: true }
                }
                WorkerEvent::Finished { variations, .. } => {
                    self.activity = Activity::Done { variations };
                    self.clear_cancel();
                }
                WorkerEvent::Failed { error, .. } => {
                    self.activity =
                        if self.cancel_requested { Activity::Cancelled } else { Activity::Failed(error.to_string()) };
                    self.clear_cancel();
                }
                WorkerEvent::Warning { message, .. } => self.say(capitalized(&message), true),
                // Shown by the Jam section (it reads the jam status from the channels).
                WorkerEvent::JamAnswered { .. } => {}
            }
        }
        let dropped = self.channels.dropped_presses();
        if dropped != self.dropped_presses_seen {
            self.dropped_presses_seen = dropped;
            self.say("A Generate press came while earlier ones were still queued and was dropped: press again", false);
        }
        if self.channels.state() == WorkerState::Stopped && !matches!(self.activity, Activity::Failed(_)) {
            // Shown without waiting for a press that would fail.
            self.activity = Activity::Failed(JobError::Stopped.to_string());
        }
        let stamp = self.channels.session().stamp();
        if self.stamp != Some(stamp) {
            let (inputs, generated, selected) = self.channels.session().copy_contents();
            let batch_changed = self.stamp.map(|old| old.generated_id()) != Some(stamp.generated_id());
            self.inputs = inputs.map(|clip| clip.map(|c| Shown::new(c, &self.drum_map)));
            if batch_changed {
                self.results = generated.into_iter().map(|c| Shown::new(c, &self.drum_map)).collect();
                self.favourites = self.channels.session().kept_marks();
                self.batch_stamp = now_secs();
            }
            self.selected = selected;
            self.stamp = Some(stamp);
        }
        if self.drag_in_flight.as_ref().is_some_and(|(handle, _)| handle.is_finished()) {
            if let Some((handle, name)) = self.drag_in_flight.take() {
                match handle.join() {
                    Ok(Ok(super::xdnd::Outcome::Dropped { .. })) => self.say(format!("Dropped {name}"), true),
                    Ok(Ok(super::xdnd::Outcome::Cancelled)) => {
                        self.say(format!("Nothing took the drop; {name} is in Cadenza's clips folder"), false)
                    }
                    Ok(Err(e)) => self.say(e, false),
                    Err(_) => self.say("The drag failed", false),
                }
            }
        }
        if let Some((slot, rx)) = &self.loading {
            let slot = *slot;
            match rx.try_recv() {
                Ok(Ok(clip)) => {
                    self.channels.session().set_input(slot, Some(clip));
                    self.say(format!("Loaded a clip into input {}", slot_name(slot)), true);
                    self.loading = None;
                }
                Ok(Err(error)) => {
                    self.say(error, false);
                    self.loading = None;
                }
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => self.loading = None,
            }
        }
    }

    /// Our cancel request ended with the job: lower the flag so later jobs (also the audio
    /// thread's) are not cancelled by it.
    fn clear_cancel(&mut self) {
        if std::mem::take(&mut self.cancel_requested) {
            self.channels.cancel(false);
        }
    }

    fn request_cancel(&mut self) {
        self.cancel_requested = true;
        self.channels.cancel(true);
    }

    fn say(&mut self, text: impl Into<String>, ok: bool) {
        self.message = Some((text.into(), ok, Instant::now()));
    }

    pub fn is_running(&self) -> bool {
        matches!(self.activity, Activity::Running { .. })
    }

    /// Draws the whole panel. `setter` sends parameter gestures to the host.
    pub fn ui(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let frame_start = Instant::now();
        self.draw(ui, setter);
        if let Some(log) = &self.frame_log {
            if let Ok(mut log) = log.lock() {
                log.push((frame_start, frame_start.elapsed()));
            }
        }
    }

    fn draw(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        self.widget_rects.clear();
        self.poll_worker();
        let ctx = ui.ctx().clone();
        self.handle_keys(&ctx);
        self.handle_dropped_files(&ctx);

        egui::Panel::top("cadenza-tools").frame(egui::Frame::new().fill(palette::PANEL).inner_margin(8.0)).show(
            ui,
            |ui| {
                self.tool_bar(ui, setter);
            },
        );
        egui::Panel::bottom("cadenza-status").frame(egui::Frame::new().fill(palette::PANEL).inner_margin(8.0)).show(
            ui,
            |ui| {
                self.status_bar(ui);
            },
        );
        egui::Panel::left("cadenza-controls")
            .resizable(false)
            .exact_size(330.0)
            .frame(egui::Frame::new().fill(palette::BACKGROUND).inner_margin(10.0))
            .show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("controls-scroll").show(ui, |ui| {
                    self.tool_controls(ui, setter);
                    ui.add_space(6.0);
                    ui.separator();
                    self.input_slots(ui, setter);
                    ui.add_space(6.0);
                    ui.separator();
                    self.playback_controls(ui, setter);
                });
            });
        egui::CentralPanel::default().frame(egui::Frame::new().fill(palette::BACKGROUND).inner_margin(10.0)).show(
            ui,
            |ui| {
                self.results_view(ui);
            },
        );

        // Keep polling the engine; faster while it works so the progress bar moves.
        let wait = if self.is_running() || self.loading.is_some() { 16 } else { 100 };
        ctx.request_repaint_after(Duration::from_millis(wait));
    }

    fn tool_bar(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Cadenza").heading().color(palette::ACCENT))
                .on_hover_text("Generative MIDI tools in time with your song");
            ui.add_space(12.0);
            let current = self.params.tool.value();
            for tool in Tool::ALL {
                let text = RichText::new(tool_name(tool)).size(15.0);
                let response = ui.selectable_label(current == tool, text).on_hover_text(tool_help(tool));
                self.note_rect(format!("tool:{}", tool_name(tool)), response.rect);
                if response.clicked() && current != tool {
                    setter.begin_set_parameter(&self.params.tool);
                    setter.set_parameter(&self.params.tool, tool);
                    setter.end_set_parameter(&self.params.tool);
                }
            }
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                let playing = self.params.playback.value() == Playback::PlaySelected;
                let response = ui
                    .selectable_label(playing, "▶ Play")
                    .on_hover_text(
                        "Play selected (highlighted = on): the selected result plays in time with the host transport, looping, on the output channel",
                    );
                self.note_rect("playback", response.rect);
                if response.clicked() {
                    let value = if playing { Playback::Off } else { Playback::PlaySelected };
                    setter.begin_set_parameter(&self.params.playback);
                    setter.set_parameter(&self.params.playback, value);
                    setter.end_set_parameter(&self.params.playback);
                }
                let armed = self.params.capture_armed.value();
                let response =
                    ui.selectable_label(armed, "⏺ Capture").on_hover_text(
                        "Capture (highlighted = armed): record what you play (with the transport rolling) so \"Use last bars\" can take it",
                    );
                self.note_rect("capture", response.rect);
                if response.clicked() {
                    setter.begin_set_parameter(&self.params.capture_armed);
                    setter.set_parameter(&self.params.capture_armed, !armed);
                    setter.end_set_parameter(&self.params.capture_armed);
                }
            });
        });
    }

    /// Key and scale of the melody key mask, as two drop-downs bound to their host parameters.
    fn key_row(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        ui.horizontal(|ui| {
            let params = self.params.clone();
            let key = params.key.value();
            let response = egui::ComboBox::from_id_salt("key")
                .width(64.0)
                .selected_text(key_name(key))
                .show_ui(ui, |ui| {
                    for index in 0..KeyRoot::variants().len() {
                        let value = KeyRoot::from_index(index);
                        if ui.selectable_label(key == value, key_name(value)).clicked() && key != value {
                            setter.begin_set_parameter(&params.key);
                            setter.set_parameter(&params.key, value);
                            setter.end_set_parameter(&params.key);
                        }
                    }
                })
                .response
                .on_hover_text("Tonic of the key the melody keeps to (Off = any note)");
            self.note_rect("key", response.rect);
            let scale = params.scale.value();
            let response = ui
                .add_enabled_ui(key != KeyRoot::Off, |ui| {
                    egui::ComboBox::from_id_salt("scale")
                        .width(130.0)
                        .selected_text(Scale::variants()[scale.to_index()])
                        .show_ui(ui, |ui| {
                            for (index, name) in Scale::variants().iter().enumerate() {
                                let value = Scale::from_index(index);
                                if ui.selectable_label(scale == value, *name).clicked() && scale != value {
                                    setter.begin_set_parameter(&params.scale);
                                    setter.set_parameter(&params.scale, value);
                                    setter.end_set_parameter(&params.scale);
                                }
                            }
                        })
                        .response
                })
                .inner
                .on_hover_text("Scale of the key: only its notes can start");
            self.note_rect("scale", response.rect);
        });
    }

    fn tool_controls(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let tool = self.params.tool.value();
        ui.label(RichText::new(tool_name(tool)).heading());
        ui.label(RichText::new(tool_help(tool)).color(palette::HINT));
        ui.add_space(4.0);
        egui::Grid::new("tool-grid").num_columns(2).spacing([10.0, 8.0]).show(ui, |ui| {
            if matches!(tool, Tool::Continue | Tool::Generate | Tool::Interpolate) {
                ui.label("Mode").on_hover_text("Melody (one voice) or drums (the 9 drum classes)");
                ui.horizontal(|ui| {
                    let mode = self.params.mode.value();
                    for (value, label) in [(Mode::Melody, "Melody"), (Mode::Drums, "Drums")] {
                        let response = ui.selectable_label(mode == value, label).on_hover_text(match value {
                            Mode::Melody => "Work on a monophonic melody",
                            Mode::Drums => "Work on a drum pattern",
                        });
                        self.note_rect(format!("mode:{label}"), response.rect);
                        if response.clicked() && mode != value {
                            setter.begin_set_parameter(&self.params.mode);
                            setter.set_parameter(&self.params.mode, value);
                            setter.end_set_parameter(&self.params.mode);
                        }
                    }
                });
                ui.end_row();
            }
            if let Some(max) = tool.rules().max_variations.map(i32::from) {
                ui.label("Variations").on_hover_text("How many different results to make");
                let params = self.params.clone();
                let param = &params.variations;
                self.int_slider(
                    ui,
                    setter,
                    "variations",
                    param,
                    1,
                    max,
                    "How many different results to make (Studio's range)",
                );
                ui.end_row();
            }
            if matches!(tool, Tool::Continue | Tool::Generate) {
                ui.label("Length").on_hover_text("Length of each result in bars");
                let params = self.params.clone();
                let param = &params.length_bars;
                self.int_slider(ui, setter, "length", param, 1, 32, "Length of each result in bars (1–32)");
                ui.end_row();
            }
            if tool == Tool::Interpolate {
                ui.label("Steps").on_hover_text("How many clips morph from input A to input B");
                let params = self.params.clone();
                let param = &params.interp_steps;
                self.int_slider(
                    ui,
                    setter,
                    "steps",
                    param,
                    1,
                    16,
                    "How many clips morph from input A to input B (1–16)",
                );
                ui.end_row();
            }
            if matches!(tool, Tool::Continue | Tool::Generate | Tool::Interpolate) && self.params.mode.value() == Mode::Melody {
                ui.label("Key").on_hover_text("Only notes of this key and scale are generated (Off = any note)");
                self.key_row(ui, setter);
                ui.end_row();
            }
            ui.label("Temperature").on_hover_text("Host-automatable: 0 = most likely, 1 = as trained, 2 = wild");
            self.temperature_slider(ui, setter);
            ui.end_row();
        });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let running = self.is_running();
            let generate = ui
                .add_enabled(
                    !running,
                    egui::Button::new(RichText::new(format!("✨ {}", tool_name(tool))).size(16.0).strong())
                        .min_size(Vec2::new(140.0, 32.0)),
                )
                .on_hover_text("Run the tool on the input slots; the results appear on the right")
                .on_disabled_hover_text("The engine is still working on the last request");
            self.note_rect("generate", generate.rect);
            if generate.clicked() {
                self.submit();
            }
            if running {
                let cancel = ui.button("Cancel").on_hover_text("Stop the engine's current job");
                self.note_rect("cancel", cancel.rect);
                if cancel.clicked() {
                    self.request_cancel();
                }
            }
        });
    }

    /// The settings a press of the panel's button makes: the same as the `generate` parameter's
    /// (see [`crate::tools::request_settings`]).
    pub fn settings(&self) -> ToolSettings {
        crate::tools::request_settings(&self.params)
    }

    /// Sends the current tool with the current inputs to the engine.
    pub fn submit(&mut self) {
        let settings = self.settings();
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
        match self.channels.submit(settings, seed) {
            Some(id) => {
                self.last_submitted = Some(id);
                // Shown as running at once; the engine's Started event confirms it.
                self.activity = Activity::Running { id, since: Instant::now(), started: false };
            }
            None => self.say("The engine's queue is full; try again in a moment", false),
        }
    }

    fn temperature_slider(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.params.clone();
        let param = &params.temperature;
        let shown = param.unmodulated_plain_value();
        let mut value = shown;
        self.shown_temperature = value;
        let response = ui
            .add(egui::Slider::new(&mut value, 0.0..=2.0).step_by(0.01).fixed_decimals(2))
            .on_hover_text("Temperature (host-automatable): 0 = always the most likely note, 1 = as trained, 2 = wild. Double-click resets to 1.");
        self.note_rect("temperature", response.rect);
        if response.drag_started() {
            setter.begin_set_parameter(param);
            self.temperature_gesture = true;
        }
        if response.double_clicked() {
            value = param.default_plain_value();
        }
        // egui compares in f64 after snapping to the step, so a host value such as 1.6f32 reads
        // as "changed" every frame; only a real change of the f32 value is an edit (otherwise
        // automation playback would be answered with gestures).
        let edited = (response.changed() && (value - shown).abs() > 1e-6) || response.double_clicked();
        if edited {
            if self.temperature_gesture {
                setter.set_parameter(param, value);
            } else {
                setter.begin_set_parameter(param);
                setter.set_parameter(param, value);
                setter.end_set_parameter(param);
            }
        }
        if self.temperature_gesture && !response.dragged() {
            setter.end_set_parameter(param);
            self.temperature_gesture = false;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn int_slider(
        &mut self,
        ui: &mut Ui,
        setter: &ParamSetter,
        name: &'static str,
        param: &nice_plug::prelude::IntParam,
        min: i32,
        max: i32,
        help: &str,
    ) {
        let mut value = param.unmodulated_plain_value().clamp(min, max);
        let response = ui.add(egui::Slider::new(&mut value, min..=max)).on_hover_text(help);
        self.note_rect(name, response.rect);
        if response.drag_started() {
            setter.begin_set_parameter(param);
            self.int_gesture = Some(name);
        }
        let in_gesture = self.int_gesture == Some(name);
        if response.changed() {
            if in_gesture {
                setter.set_parameter(param, value);
            } else {
                setter.begin_set_parameter(param);
                setter.set_parameter(param, value);
                setter.end_set_parameter(param);
            }
        }
        if in_gesture && !response.dragged() {
            setter.end_set_parameter(param);
            self.int_gesture = None;
        }
    }

    fn input_slots(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let tool = self.params.tool.value();
        let slots = if tool == Tool::Interpolate { 2 } else { 1 };
        ui.horizontal(|ui| {
            ui.label(RichText::new("Input").strong());
            ui.label("last").on_hover_text("How many of the most recently played bars \"Use last bars\" takes");
            let params = self.params.clone();
            let param = &params.capture_bars;
            ui.spacing_mut().slider_width = 110.0;
            self.int_slider(
                ui,
                setter,
                "capture_bars",
                param,
                1,
                32,
                "How many of the most recently played bars \"Use last bars\" takes (1–32)",
            );
            ui.label("bars");
        });
        for slot in 0..slots {
            ui.add_space(4.0);
            ui.label(RichText::new(format!("Input {}", slot_name(slot))).strong()).on_hover_text(match (tool, slot) {
                (Tool::Interpolate, 0) => "The clip the interpolation starts from",
                (Tool::Interpolate, _) => "The clip the interpolation ends at",
                (Tool::Groove, _) => "A drum pattern to humanize",
                (Tool::Drumify, _) => "A rhythm (any instrument) to turn into drums",
                _ => "The clip the tool works on",
            });
            let size = Vec2::new(ui.available_width().min(300.0), 70.0);
            let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
            self.note_rect(format!("slot:{}", slot_name(slot)), rect);
            match &self.inputs[slot] {
                Some(shown) => {
                    paint_roll(ui, rect, &shown.roll, false);
                    response.on_hover_text(&shown.summary);
                }
                None => {
                    paint_empty(ui, rect, "Empty: use last bars, a .mid or a result");
                    response.on_hover_text("This input is empty");
                }
            }
            ui.horizontal(|ui| {
                let take = ui.button("⏺ Use last bars").on_hover_text(
                    "Copy the most recently played bars (Capture must be armed and the transport rolling) into this input",
                );
                self.note_rect(format!("capture:{}", slot_name(slot)), take.rect);
                if take.clicked() {
                    self.channels.request_capture_to_slot(slot as u8);
                    self.say(format!("Taking the last {} bars into input {}", self.params.capture_bars.value(), slot_name(slot)), true);
                }
                let clear = ui.button("✖").on_hover_text("Empty this input");
                if clear.clicked() {
                    self.channels.session().set_input(slot, None);
                }
            });
            ui.horizontal(|ui| {
                let field = ui
                    .add(egui::TextEdit::singleline(&mut self.file_fields[slot]).hint_text("/path/to/clip.mid").desired_width(200.0))
                    .on_hover_text("Path of a .mid file to load into this input (or drop a file on the panel where your host allows it)");
                self.note_rect(format!("file:{}", slot_name(slot)), field.rect);
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                let load = ui.add_enabled(self.loading.is_none(), egui::Button::new("Load .mid")).on_hover_text("Load the file named on the left into this input");
                self.note_rect(format!("load:{}", slot_name(slot)), load.rect);
                if load.clicked() || enter {
                    let path = PathBuf::from(self.file_fields[slot].trim());
                    self.load_file(slot, path);
                }
            });
        }
    }

    fn playback_controls(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        ui.label(RichText::new("Playback").strong())
            .on_hover_text("How the selected result plays back in the host (all host-automatable)");
        let params = self.params.clone();
        ui.horizontal(|ui| {
            let mut on = params.playback.value() == Playback::PlaySelected;
            let response = ui
                .checkbox(&mut on, "Play selected")
                .on_hover_text("Play the selected result in time with the host transport, looping");
            self.note_rect("play_selected", response.rect);
            if response.changed() {
                setter.begin_set_parameter(&params.playback);
                setter.set_parameter(&params.playback, if on { Playback::PlaySelected } else { Playback::Off });
                setter.end_set_parameter(&params.playback);
            }
            let mut preview = params.preview.value();
            let response = ui.checkbox(&mut preview, "Preview synth").on_hover_text(
                "Also play Cadenza's MIDI output on its audio output with a simple sine, for hosts that cannot route plugin MIDI",
            );
            self.note_rect("preview", response.rect);
            if response.changed() {
                setter.begin_set_parameter(&params.preview);
                setter.set_parameter(&params.preview, preview);
                setter.end_set_parameter(&params.preview);
            }
        });
        ui.horizontal(|ui| {
            ui.label("Channel").on_hover_text("MIDI channel the selected result plays on");
            ui.spacing_mut().slider_width = 120.0;
            self.int_slider(
                ui,
                setter,
                "out_channel",
                &params.out_channel,
                1,
                16,
                "MIDI channel the selected result plays on (1–16)",
            );
        });
    }

    /// Loads a .mid into a slot on a helper thread (a slow disk never freezes the panel).
    pub fn load_file(&mut self, slot: usize, path: PathBuf) {
        if path.as_os_str().is_empty() {
            self.say("Type the path of a .mid file first", false);
            return;
        }
        let drums = self.params.tool.value() == Tool::Groove || self.params.mode.value() == Mode::Drums;
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("cadenza-load".into()).spawn(move || {
            let result = import_midi_file(&path, &ImportOptions::default())
                .map(|import| {
                    let mut clip = import.clip;
                    clip.is_drum |= drums;
                    clip
                })
                .map_err(|e| format!("Could not load {}: {e}", path.display()));
            let _ = tx.send(result);
        });
        match spawned {
            Ok(_) => self.loading = Some((slot, rx)),
            Err(e) => self.say(format!("Could not start loading: {e}"), false),
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if let Some(path) = dropped
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi")))
        {
            self.file_fields[0] = path.to_string_lossy().into_owned();
            self.load_file(0, path);
        }
    }

    fn handle_keys(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() || self.results.is_empty() {
            return;
        }
        let (prev, next) = ctx.input(|i| {
            (
                i.key_pressed(Key::ArrowLeft) || i.key_pressed(Key::ArrowUp),
                i.key_pressed(Key::ArrowRight) || i.key_pressed(Key::ArrowDown),
            )
        });
        let len = self.results.len();
        let current = self.selected.unwrap_or(0);
        let target = if next {
            Some((current + 1).min(len - 1))
        } else if prev {
            Some(current.saturating_sub(1))
        } else {
            None
        };
        if let Some(index) = target {
            self.select(index);
            self.scroll_to_selected = true;
        }
    }

    pub fn select(&mut self, index: usize) {
        if index < self.results.len() {
            self.channels.select(index);
            self.selected = Some(index);
        }
    }

    fn results_view(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Results").heading());
            if !self.results.is_empty() {
                ui.add(
                    egui::Label::new(
                        RichText::new(format!(
                            "{} — click to hear, arrow keys to step, drag a clip onto a track",
                            self.results.len()
                        ))
                        .color(palette::HINT),
                    )
                    .truncate(),
                );
            }
        });
        ui.horizontal(|ui| {
            let export_all = ui
                .add_enabled(!self.results.is_empty(), egui::Button::new("Export all to folder"))
                .on_hover_text("Write every result as a .mid file into the folder named in this row");
            self.note_rect("export_all", export_all.rect);
            let reveal = ui.button("Reveal folder").on_hover_text("Open the export folder in your file manager");
            // The folder field takes what is left of the row (clipped, never wider).
            let width = ui.available_width().max(60.0);
            ui.add_sized(Vec2::new(width, 22.0), egui::TextEdit::singleline(&mut self.export_dir).clip_text(true))
                .on_hover_text("The folder \"Export all\" writes to (created if missing)");
            self.note_rect("reveal", reveal.rect);
            if export_all.clicked() {
                self.export_all();
            }
            if reveal.clicked() {
                let result = files::reveal(std::path::Path::new(self.export_dir.trim()));
                if let Err(e) = result {
                    self.say(e, false);
                }
            }
        });
        ui.add_space(4.0);
        if self.results.is_empty() {
            let rect = ui.available_rect_before_wrap();
            let rect = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 120.0_f32.min(rect.height())));
            paint_empty(ui, rect, "No results yet: fill input A and press the tool's button");
            return;
        }
        let card_size = Vec2::new(200.0, 132.0);
        let mut clicked = None;
        let mut use_as = None;
        let mut drag = None;
        let mut toggle_fav = None;
        egui::ScrollArea::vertical().id_salt("results-scroll").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing = Vec2::new(10.0, 10.0);
                for index in 0..self.results.len() {
                    let (card, _) = ui.allocate_exact_size(card_size, Sense::hover());
                    let selected = self.selected == Some(index);
                    if selected && std::mem::take(&mut self.scroll_to_selected) {
                        ui.scroll_to_rect(card, None);
                    }
                    self.card(ui, card, index, selected, &mut clicked, &mut use_as, &mut drag, &mut toggle_fav);
                }
            });
        });
        if let Some(index) = clicked {
            self.select(index);
        }
        if let Some(index) = toggle_fav {
            if let Some(f) = self.favourites.get_mut(index) {
                *f = !*f;
                // Kept clips are saved with the project and survive the next generation.
                self.channels.session().set_kept(index, *f);
            }
        }
        if let Some((index, slot)) = use_as {
            let clip = self.results[index].clip.clone();
            self.channels.session().set_input(slot, Some(clip));
            self.say(format!("Result {} is now input {}", index + 1, slot_name(slot)), true);
        }
        match drag {
            Some((index, true)) => {
                self.select(index);
                self.drag_out(index);
            }
            Some((index, false)) => self.export_one(index),
            None => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn card(
        &mut self,
        ui: &mut Ui,
        card: Rect,
        index: usize,
        selected: bool,
        clicked: &mut Option<usize>,
        use_as: &mut Option<(usize, usize)>,
        drag: &mut Option<(usize, bool)>,
        toggle_fav: &mut Option<usize>,
    ) {
        let painter = ui.painter_at(card);
        painter.rect_filled(card, CornerRadius::same(6), palette::PANEL);
        let stroke = if selected { Stroke::new(2.5, palette::SELECTED) } else { Stroke::new(1.0, palette::GRID) };
        painter.rect_stroke(card, CornerRadius::same(6), stroke, StrokeKind::Inside);
        let header = Rect::from_min_size(card.min + Vec2::new(8.0, 4.0), Vec2::new(card.width() - 16.0, 22.0));
        painter.text(
            header.left_center(),
            egui::Align2::LEFT_CENTER,
            format!("{}{}", index + 1, if selected { "  ▶ selected" } else { "" }),
            FontId::proportional(14.0),
            if selected { palette::SELECTED } else { palette::TEXT },
        );
        let roll_rect = Rect::from_min_size(card.min + Vec2::new(8.0, 28.0), Vec2::new(card.width() - 16.0, 70.0));
        let shown = &self.results[index];
        paint_roll(ui, roll_rect, &shown.roll, selected);
        let summary = shown.summary.clone();
        let response =
            ui.interact(roll_rect, ui.make_persistent_id(("result", index)), Sense::click_and_drag()).on_hover_text(
                format!("Result {}: {summary}. Click to select and hear it; drag it onto a DAW track.", index + 1),
            );
        self.note_rect(format!("result:{index}"), roll_rect);
        if response.clicked() {
            *clicked = Some(index);
        }
        if response.drag_started() {
            *drag = Some((index, true));
        }
        // The favourite star in the header's right corner.
        let fav = self.favourites.get(index).copied().unwrap_or(false);
        let star_rect = Rect::from_center_size(Pos2::new(header.right() - 10.0, header.center().y), Vec2::splat(22.0));
        let star =
            ui.interact(star_rect, ui.make_persistent_id(("fav", index)), Sense::click()).on_hover_text(if fav {
                "Kept: click to unmark"
            } else {
                "Keep: mark this result as a favourite (exported names end in -kept)"
            });
        painter.text(
            star_rect.center(),
            egui::Align2::CENTER_CENTER,
            if fav { "★" } else { "☆" },
            FontId::proportional(18.0),
            if fav { palette::ACCENT } else { palette::HINT },
        );
        self.note_rect(format!("fav:{index}"), star_rect);
        if star.clicked() {
            *toggle_fav = Some(index);
        }
        // Buttons under the roll.
        let row = Rect::from_min_size(
            Pos2::new(card.min.x + 8.0, roll_rect.max.y + 5.0),
            Vec2::new(card.width() - 16.0, 24.0),
        );
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(row).layout(Layout::left_to_right(Align::Center)));
        child.spacing_mut().item_spacing = Vec2::new(4.0, 0.0);
        child.spacing_mut().button_padding = Vec2::new(5.0, 2.0);
        let a = child.small_button("as A").on_hover_text("Use this result as input A");
        self.note_rect(format!("use_a:{index}"), a.rect);
        if a.clicked() {
            *use_as = Some((index, 0));
        }
        let b = child.small_button("as B").on_hover_text("Use this result as input B (Interpolate's second clip)");
        self.note_rect(format!("use_b:{index}"), b.rect);
        if b.clicked() {
            *use_as = Some((index, 1));
        }
        let label = if cfg!(target_os = "linux") { "📤 Drag" } else { "💾 Export" };
        let handle = child.add(egui::Button::new(label).small().sense(Sense::click_and_drag())).on_hover_text(
            if cfg!(target_os = "linux") {
                "Drag this onto a DAW track (a .mid written to Cadenza's folder is dragged); click to save it into the export folder instead"
            } else {
                "Export this result as .mid into the export folder (then drag it from there: Reveal folder)"
            },
        );
        self.note_rect(format!("drag:{index}"), handle.rect);
        if handle.drag_started() {
            *drag = Some((index, true));
        } else if handle.clicked() {
            *drag = Some((index, false));
        }
    }

    /// Writes result `index` to Cadenza's clips folder and starts the OS drag of it.
    pub fn drag_out(&mut self, index: usize) {
        if self.drag_in_flight.is_some() {
            return self.say("A drag is still in progress", false);
        }
        let Some(path) = self.write_result(index, &files::clips_dir()) else { return };
        match (self.drag_starter)(path.clone()) {
            Ok(started) => {
                self.say(started.message, true);
                self.drag_in_flight = started.outcome.map(|handle| (handle, file_label(&path)));
            }
            Err(e) => self.say(e, false),
        }
    }

    /// Saves result `index` into the export folder (the "Export" fallback of drag-out).
    pub fn export_one(&mut self, index: usize) {
        let dir = PathBuf::from(self.export_dir.trim());
        if let Some(path) = self.write_result(index, &dir) {
            self.say(format!("Saved {}", path.display()), true);
        }
    }

    fn write_result(&mut self, index: usize, dir: &std::path::Path) -> Option<PathBuf> {
        let shown = self.results.get(index)?;
        let tool = self.params.tool.value();
        let fav = self.favourites.get(index).copied().unwrap_or(false);
        let path = dir.join(files::clip_file_name(tool, self.batch_stamp, index, fav));
        match files::write_clip(&shown.clip, &path, self.channels.host_tempo(), &format!("Cadenza {}", index + 1)) {
            Ok(()) => Some(path),
            Err(e) => {
                self.say(e, false);
                None
            }
        }
    }

    pub fn export_all(&mut self) {
        let dir = PathBuf::from(self.export_dir.trim());
        let clips: Vec<Clip> = self.results.iter().map(|s| s.clip.clone()).collect();
        match files::export_all(
            &clips,
            &self.favourites,
            &dir,
            self.params.tool.value(),
            self.batch_stamp,
            self.channels.host_tempo(),
        ) {
            Ok(paths) => self.say(format!("Exported {} clips to {}", paths.len(), dir.display()), true),
            Err(e) => self.say(e, false),
        }
    }

    fn status_bar(&mut self, ui: &mut Ui) {
        let activity = self.activity.clone();
        ui.horizontal(|ui| match &activity {
            Activity::Running { since, started, .. } => {
                let progress = self.channels.progress().get();
                let bar = ui
                    .add(egui::ProgressBar::new(progress).desired_width(260.0).show_percentage().animate(true))
                    .on_hover_text("The engine is generating; the panel stays usable");
                self.note_rect("progress", bar.rect);
                if !started && since.elapsed() > Duration::from_secs(3) {
                    ui.label(
                        RichText::new("Waiting for the engine — is the plugin active in the host?")
                            .color(palette::ERROR),
                    )
                    .on_hover_text("Cadenza's worker thread starts when the host activates the plugin (e.g. starts audio)");
                } else {
                    ui.label(format!("Generating… {:.1} s", since.elapsed().as_secs_f32()));
                }
                let cancel = ui.button("Cancel").on_hover_text("Stop the engine's current job");
                self.note_rect("cancel_status", cancel.rect);
                if cancel.clicked() {
                    self.request_cancel();
                }
            }
            Activity::Failed(error) => {
                ui.label(RichText::new(format!("⚠ {}", capitalize(error))).color(palette::ERROR))
                    .on_hover_text("The engine's last job failed");
            }
            Activity::Done { variations } => {
                ui.label(RichText::new(format!("✔ {variations} result(s) ready")).color(palette::OK));
            }
            Activity::Cancelled => {
                ui.label(RichText::new("Cancelled").color(palette::HINT));
            }
            Activity::Idle => {
                ui.label(RichText::new("Ready").color(palette::HINT));
            }
        });
        if let Some((text, ok, at)) = &self.message {
            if at.elapsed() < Duration::from_secs(12) {
                ui.label(RichText::new(text).color(if *ok { palette::TEXT } else { palette::ERROR }));
            }
        }
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn slot_name(slot: usize) -> &'static str {
    if slot == 0 {
        "A"
    } else {
        "B"
    }
}

pub fn tool_name(tool: Tool) -> &'static str {
    tool.rules().name
}

pub fn tool_help(tool: Tool) -> &'static str {
    tool.rules().help
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn paint_empty(ui: &Ui, rect: Rect, text: &str) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(4), palette::ROLL_BG);
    painter.rect_stroke(rect, CornerRadius::same(4), Stroke::new(1.0, palette::GRID), StrokeKind::Inside);
    painter.text(rect.center(), egui::Align2::CENTER_CENTER, text, FontId::proportional(12.5), palette::HINT);
}

/// Paints a roll layout into `rect`.
pub fn paint_roll(ui: &Ui, rect: Rect, roll: &RollLayout, highlighted: bool) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(4), palette::ROLL_BG);
    let rows = roll.rows.count().max(1);
    let row_h = rect.height() / rows as f32;
    if let Rows::Pitches { high, .. } = roll.rows {
        for r in 0..rows {
            let pitch = high.saturating_sub(r as u8);
            if pianoroll::is_black_key(pitch) {
                let y = rect.top() + r as f32 * row_h;
                painter.rect_filled(
                    Rect::from_min_size(Pos2::new(rect.left(), y), Vec2::new(rect.width(), row_h)),
                    0.0,
                    palette::ROLL_BLACK_KEY,
                );
            }
        }
    } else {
        for r in (1..rows).step_by(1) {
            let y = rect.top() + r as f32 * row_h;
            painter.line_segment(
                [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
                Stroke::new(0.5, palette::ROLL_BLACK_KEY),
            );
        }
    }
    for x in &roll.bar_lines {
        let x = rect.left() + x * rect.width();
        painter.line_segment([Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())], Stroke::new(1.0, palette::GRID));
    }
    let base = if matches!(roll.rows, Rows::Drums { .. }) { palette::DRUM } else { palette::NOTE };
    for note in &roll.notes {
        let min = Pos2::new(rect.left() + note.x * rect.width(), rect.top() + note.y * rect.height());
        let size = Vec2::new((note.w * rect.width()).max(2.0), (note.h * rect.height()).max(1.5));
        let strength = 0.45 + 0.55 * note.intensity;
        let color = Color32::from_rgb(
            (base.r() as f32 * strength) as u8,
            (base.g() as f32 * strength) as u8,
            (base.b() as f32 * strength) as u8,
        );
        painter.rect_filled(Rect::from_min_size(min, size).shrink2(Vec2::new(0.0, 0.3)), 1.0, color);
    }
    let border = if highlighted { Stroke::new(1.5, palette::SELECTED) } else { Stroke::new(1.0, palette::GRID) };
    painter.rect_stroke(rect, CornerRadius::same(4), border, StrokeKind::Inside);
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn key_name(key: KeyRoot) -> &'static str {
    KeyRoot::variants()[key.to_index()]
}
