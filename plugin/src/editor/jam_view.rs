//! The Jam section: its switch and settings (all host parameters), what Jam is doing right now
//! (listening / thinking / answering, and how many answers came too late for their bar line),
//! and the last call with the answer that sounded, as two rolls.

use egui::{RichText, Sense, Ui, Vec2};
use nice_plug::prelude::ParamSetter;

use super::panel::Panel;
use super::param_widgets::{bool_toggle, Choice, Slider};
use super::probe;
use super::style::{paint_empty, paint_roll, palette, text_size};
use crate::channels::JamPhase;
use crate::params::JamTrigger;

/// Height of the call and answer rolls in logical points.
const ROLL_HEIGHT: f32 = 54.0;

impl Panel {
    /// The Jam switch, its settings while it is on, its state and the last exchange.
    pub(super) fn jam_section(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.params.clone();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Jam").strong())
                .on_hover_text("Cadenza answers what you play, in time, while the transport rolls");
            bool_toggle(&params.jam, "jam", "Answer me")
                .help("Jam (host-automatable): play a phrase and Cadenza answers it on the next bar line")
                .show(ui, setter);
        });
        if !params.jam.value() {
            return;
        }
        let (phase, late) = self.channels.jam_status();
        let (text, colour) = match phase {
            JamPhase::Off => ("Starting…", palette::HINT),
            JamPhase::Listening => ("● Listening: play a phrase", palette::OK),
            JamPhase::Thinking => ("… Thinking", palette::ACCENT),
            JamPhase::Answering => ("♪ Answering (play to barge in)", palette::NOTE),
        };
        ui.horizontal(|ui| {
            let status = ui.label(RichText::new(text).color(colour));
            probe::note_rect(ui, "jam_status", status.rect);
            if late > 0 {
                ui.label(RichText::new(format!("{late} late")).color(palette::HINT).size(text_size::SMALL))
                    .on_hover_text(
                        "Answers that were not ready for their bar line and started on the next bar line instead",
                    );
            }
        });
        egui::Grid::new("jam-grid").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
            ui.label("Answers").on_hover_text("When Cadenza answers");
            ui.horizontal(|ui| Choice::buttons(&params.jam_trigger, "jam_trigger").show(ui, setter));
            ui.end_row();
            match params.jam_trigger.value() {
                JamTrigger::AfterPhrase => {
                    ui.label("Gap").on_hover_text("Silence that ends your call, in beats");
                    Slider::new(&params.jam_gap, "jam_gap")
                        .help("How long nothing may sound before your call counts as finished (beats)")
                        .show(ui, setter);
                    ui.end_row();
                    ui.label("Length").on_hover_text("How long an answer lasts");
                    Slider::new(&params.jam_length, "jam_length")
                        .help("Answer length in bars (As call = as long as your phrase)")
                        .show(ui, setter);
                    ui.end_row();
                }
                JamTrigger::EveryBars => {
                    ui.label("Turns").on_hover_text("Bars per call and per answer");
                    Slider::new(&params.jam_bars, "jam_bars")
                        .help("You play this many bars, then Cadenza answers for as many")
                        .show(ui, setter);
                    ui.end_row();
                }
            }
            ui.label("Barge-in").on_hover_text("What an answer does when you play over it");
            ui.horizontal(|ui| Choice::buttons(&params.jam_barge_in, "jam_barge_in").show(ui, setter));
            ui.end_row();
        });
        let width = ui.available_width();
        for (index, label) in ["Your call", "Cadenza's answer"].into_iter().enumerate() {
            ui.label(RichText::new(label).size(text_size::SMALL).color(palette::HINT));
            let (rect, response) = ui.allocate_exact_size(Vec2::new(width, ROLL_HEIGHT), Sense::hover());
            probe::note_rect(ui, if index == 0 { "jam_call" } else { "jam_answer" }, rect);
            match &self.jam_last {
                Some(pair) => {
                    let shown = if index == 0 { &pair.0 } else { &pair.1 };
                    paint_roll(ui, rect, &shown.roll, index == 1);
                    response.on_hover_text(&shown.summary);
                }
                None => paint_empty(ui, rect, "Nothing yet"),
            }
        }
    }
}
