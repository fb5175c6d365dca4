//! The status bar: what the engine is doing (progress, how long, Cancel), and the last message
//! (a load, an export, a drag, a problem) for a while.

use std::time::Duration;

use egui::{RichText, Ui};

use super::panel::{capitalized, Activity, Panel};
use super::probe;
use super::style::palette;

/// How long a message stays on the status line.
const MESSAGE_TIME: Duration = Duration::from_secs(12);
/// After this long without the engine confirming a job, the panel asks whether it runs at all.
const ENGINE_SILENCE: Duration = Duration::from_secs(3);
/// Width of the progress bar in logical points.
const PROGRESS_WIDTH: f32 = 260.0;

impl Panel {
    pub(super) fn status_bar(&mut self, ui: &mut Ui) {
        let activity = self.activity.clone();
        ui.horizontal(|ui| match &activity {
            Activity::Running { since, started, .. } => {
                let progress = self.channels.progress().get();
                let bar = ui
                    .add(egui::ProgressBar::new(progress).desired_width(PROGRESS_WIDTH).show_percentage().animate(true))
                    .on_hover_text("The engine is generating; the panel stays usable");
                probe::note_rect(ui, "progress", bar.rect);
                if !started && since.elapsed() > ENGINE_SILENCE {
                    ui.label(
                        RichText::new("Waiting for the engine — is the plugin active in the host?")
                            .color(palette::ERROR),
                    )
                    .on_hover_text(
                        "Cadenza's worker thread starts when the host activates the plugin (e.g. starts audio)",
                    );
                } else {
                    ui.label(format!("Generating… {:.1} s", since.elapsed().as_secs_f32()));
                }
                let cancel = ui.button("Cancel").on_hover_text("Stop the engine's current job");
                probe::note_rect(ui, "cancel_status", cancel.rect);
                if cancel.clicked() {
                    self.request_cancel();
                }
            }
            Activity::Failed(error) => {
                ui.label(RichText::new(format!("⚠ {}", capitalized(error))).color(palette::ERROR))
                    .on_hover_text("The engine's last job failed");
            }
            Activity::Done { variations } => {
                ui.label(RichText::new(format!("✔ {variations} result(s) ready")).color(palette::OK));
                if let Some(key) = &self.detected_key {
                    ui.label(RichText::new(format!("in {key}")).color(palette::TEXT))
                        .on_hover_text("Key: Auto found this key in the input and kept the new notes to it");
                }
            }
            Activity::Cancelled => {
                ui.label(RichText::new("Cancelled").color(palette::HINT));
            }
            Activity::Idle => {
                ui.label(RichText::new("Ready").color(palette::HINT));
            }
        });
        if let Some((text, ok, at)) = &self.message {
            if at.elapsed() < MESSAGE_TIME {
                ui.add(
                    egui::Label::new(RichText::new(text).color(if *ok { palette::TEXT } else { palette::ERROR }))
                        .wrap(),
                );
            }
        }
    }
}
