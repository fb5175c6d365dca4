//! The panel's controls, one function per section: the tool bar, the tool's settings, the
//! inputs, playback. Each tool shows only what it uses: its inputs, labels and settings come
//! from its rules ([`crate::tools`]), never from a list here. Parameters go through
//! [`super::param_widgets`].

use egui::{Align, Layout, RichText, Sense, Ui, Vec2};
use nice_plug::prelude::ParamSetter;

use super::layout::slot_name;
use super::panel::Panel;
use super::param_widgets::{bool_toggle, Choice, Look, Slider, Toggle};
use super::probe;
use super::style::{paint_empty, paint_roll, palette, text_size};
use crate::params::{Mode, Playback, Tool};

/// Height of an input's roll in logical points.
const INPUT_ROLL_HEIGHT: f32 = 74.0;
/// Width of the button column beside an input's roll in logical points.
const INPUT_BUTTONS_WIDTH: f32 = 104.0;
/// Rail length of the sliders in a row with other controls, in logical points.
const ROW_SLIDER_WIDTH: f32 = 96.0;

fn mode_help(mode: Mode) -> &'static str {
    match mode {
        Mode::Melody => "Work on a monophonic melody",
        Mode::Drums => "Work on a drum pattern (the 9 drum classes)",
    }
}

fn tool_help(tool: Tool) -> &'static str {
    tool.rules().help
}

impl Panel {
    /// The top bar: the tools, and the Capture and Play switches.
    pub(super) fn tool_bar(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.params.clone();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Cadenza").heading().color(palette::ACCENT))
                .on_hover_text("Generative MIDI tools in time with your song");
            ui.add_space(12.0);
            Choice::buttons(&params.tool, "tool")
                .options(&Tool::ALL)
                .labels(Tool::name)
                .option_help(tool_help)
                .text_size(text_size::TOOL)
                .show(ui, setter);
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                Toggle::new(&params.playback, "playback", "▶ Play", Playback::PlaySelected, Playback::Off)
                    .look(Look::Button)
                    .help("Play selected (highlighted = on): the selected result plays in time with the host transport, looping, on the output channel")
                    .show(ui, setter);
                bool_toggle(&params.capture_armed, "capture", "⏺ Capture")
                    .look(Look::Button)
                    .help("Capture (highlighted = armed): record what you play (with the transport rolling) so \"Last bars\" can take it")
                    .show(ui, setter);
            });
        });
    }

    /// The tool's explanation, the settings it uses, and its button.
    pub(super) fn tool_settings(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.params.clone();
        let tool = params.tool.value();
        let rules = tool.rules();
        ui.label(RichText::new(rules.help).color(palette::HINT));
        egui::Grid::new("tool-grid").num_columns(2).spacing([10.0, 8.0]).show(ui, |ui| {
            if rules.uses_mode() {
                ui.label("Mode").on_hover_text("Melody (one voice) or drums (the 9 drum classes)");
                ui.horizontal(|ui| Choice::buttons(&params.mode, "mode").option_help(mode_help).show(ui, setter));
                ui.end_row();
            }
            if let Some(max) = rules.max_variations {
                ui.label("Variations").on_hover_text("How many different results to make");
                Slider::new(&params.variations, "variations")
                    .limits(1, i32::from(max))
                    .help("How many different results to make (this tool's range)")
                    .show(ui, setter);
                ui.end_row();
            }
            if rules.uses_length {
                ui.label("Length").on_hover_text("Length of each result in bars");
                Slider::new(&params.length_bars, "length").help("Length of each result in bars").show(ui, setter);
                ui.end_row();
            }
            if rules.uses_steps {
                ui.label("Steps").on_hover_text("How many clips morph from input A to input B");
                Slider::new(&params.interp_steps, "steps")
                    .help("How many clips morph from input A to input B")
                    .show(ui, setter);
                ui.end_row();
            }
            if rules.uses_key(params.mode.value()) {
                ui.label("Key").on_hover_text("Only notes of this key and scale are generated (Auto = the input's key, Off = any note)");
                ui.horizontal(|ui| {
                    Choice::menu(&params.key, "key", 64.0)
                        .help("Tonic of the key the melody keeps to (Auto = the input's own key, Off = any note)")
                        .show(ui, setter);
                    // Off and Auto have no scale to pick (Auto finds the input's).
                    ui.add_enabled_ui(params.key.value().pitch_class().is_some(), |ui| {
                        Choice::menu(&params.scale, "scale", 130.0)
                            .help("Scale of the key: only its notes can start")
                            .show(ui, setter)
                    });
                });
                ui.end_row();
            }
            ui.label("Temperature").on_hover_text("Host-automatable: 0 = most likely, 1 = as trained, 2 = wild");
            Slider::new(&params.temperature, "temperature")
                .help("Temperature (host-automatable): 0 = always the most likely note, 1 = as trained, 2 = wild. Double-click resets to 1.")
                .show(ui, setter);
            ui.end_row();
            if rules.uses_quality {
                ui.label("Quality").on_hover_text("Best of N: more candidates per result, the best kept");
                Slider::new(&params.quality, "quality")
                    .help("Best of N: the engine makes this many candidates per result and keeps the best, most varied ones (slower: 1× is as fast as before)")
                    .show(ui, setter);
                ui.end_row();
            }
            if rules.uses_humanize(params.mode.value()) {
                ui.label("Humanize").on_hover_text("Drums: performed velocity and timing");
                bool_toggle(&params.humanize, "humanize", "Play it like a drummer")
                    .help("Runs Cadenza's Groove model over the drums, so they come out with performed dynamics and micro-timing")
                    .show(ui, setter);
                ui.end_row();
            }
        });
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            let running = self.is_running();
            let generate = ui
                .add_enabled(
                    !running,
                    egui::Button::new(RichText::new(format!("✨ {}", rules.name)).size(16.0).strong())
                        .min_size(Vec2::new(140.0, 32.0)),
                )
                .on_hover_text("Run the tool on its inputs; the results appear on the right")
                .on_disabled_hover_text("The engine is still working on the last request");
            probe::note_rect(ui, "generate", generate.rect);
            if generate.clicked() {
                self.submit();
            }
            if running {
                let cancel = ui.button("Cancel").on_hover_text("Stop the engine's current job");
                probe::note_rect(ui, "cancel", cancel.rect);
                if cancel.clicked() {
                    self.request_cancel();
                }
            }
        });
    }

    /// The inputs the tool reads (none for Generate), with how many captured bars "Last bars"
    /// takes.
    pub(super) fn inputs(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.params.clone();
        let rules = params.tool.value().rules();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Input").strong());
            ui.label("Last bars:").on_hover_text("How many of the most recently played bars \"Last bars\" takes");
            Slider::new(&params.capture_bars, "capture_bars")
                .width(ROW_SLIDER_WIDTH)
                .help("How many of the most recently played bars \"Last bars\" takes")
                .show(ui, setter);
        });
        for slot in 0..crate::session::INPUT_SLOTS {
            if slot < rules.inputs {
                self.input_slot(ui, slot, rules.input_roles[slot]);
            } else {
                self.slot_rects[slot] = None;
            }
        }
    }

    /// One input: its name and role, its roll, and the ways to fill or empty it.
    fn input_slot(&mut self, ui: &mut Ui, slot: usize, role: &'static str) {
        let name = slot_name(slot);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(if slot == 0 { "Input A" } else { "Input B" }).strong());
            ui.label(RichText::new(role).color(palette::HINT).size(text_size::SMALL));
        });
        ui.horizontal(|ui| {
            let size = Vec2::new((ui.available_width() - INPUT_BUTTONS_WIDTH).max(120.0), INPUT_ROLL_HEIGHT);
            let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
            self.slot_rects[slot] = Some(rect);
            probe::note_rect_of(ui, "slot", name, rect);
            match &self.inputs[slot] {
                Some(shown) => {
                    paint_roll(ui, rect, &shown.roll, false);
                    response.on_hover_text(&shown.summary);
                }
                None => {
                    paint_empty(ui, rect, "Empty");
                    response.on_hover_text("Empty: take the last bars you played, open a .mid (or drop one here), or use a result (\"as A\")");
                }
            }
            ui.vertical(|ui| {
                ui.spacing_mut().item_spacing.y = 4.0;
                let width = Vec2::new(INPUT_BUTTONS_WIDTH - 8.0, 0.0);
                let take = ui.add(egui::Button::new("⏺ Last bars").min_size(width)).on_hover_text(
                    "Copy the most recently played bars (Capture armed, transport rolling) into this input",
                );
                probe::note_rect_of(ui, "capture", name, take.rect);
                if take.clicked() {
                    self.channels.request_capture_to_slot(slot as u8);
                    let bars = self.params.capture_bars.value();
                    self.say(format!("Taking the last {bars} bars into input {name}"), true);
                }
                let open = ui
                    .add_enabled(self.can_open_files(), egui::Button::new("📂 Open…").min_size(width))
                    .on_hover_text("Choose a .mid file to load into this input (or drop one on it)")
                    .on_disabled_hover_text("A file is being chosen or loaded");
                probe::note_rect_of(ui, "open", name, open.rect);
                if open.clicked() {
                    self.open_dialog(slot);
                }
                let clear = ui.add(egui::Button::new("✖ Clear").min_size(width)).on_hover_text("Empty this input");
                probe::note_rect_of(ui, "clear", name, clear.rect);
                if clear.clicked() {
                    self.channels.session().set_input(slot, None);
                }
            });
        });
    }

    /// How the selected result plays in the host (all host-automatable).
    pub(super) fn playback(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.params.clone();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Playback").strong())
                .on_hover_text("How the selected result plays back in the host (all host-automatable)");
            ui.label("Channel").on_hover_text("MIDI channel the selected result plays on");
            Slider::new(&params.out_channel, "out_channel")
                .width(ROW_SLIDER_WIDTH)
                .help("MIDI channel the selected result plays on")
                .show(ui, setter);
        });
        ui.horizontal(|ui| {
            Toggle::new(&params.playback, "play_selected", "Play selected", Playback::PlaySelected, Playback::Off)
                .help("Play the selected result in time with the host transport, looping")
                .show(ui, setter);
            bool_toggle(&params.preview, "preview", "Preview synth")
                .help("Also play Cadenza's MIDI output on its audio output with a simple sine, for hosts that cannot route plugin MIDI")
                .show(ui, setter);
        });
        if params.jam.value() && params.playback.value() == Playback::PlaySelected {
            ui.label(RichText::new("Play selected waits while Jam is on").color(palette::HINT).size(text_size::SMALL));
        }
    }
}
