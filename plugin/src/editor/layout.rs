//! The panel's frame: which section goes where.
//!
//! ```text
//! ┌ tool bar: Cadenza · the five tools ·························· Capture · Play ┐
//! ├ controls (scrolls) ┬ results ──────────────────────────────────────────────┤
//! │ tool settings      │ header: count, Export all, Reveal folder, folder       │
//! │ inputs (A, B)      │ cards (scroll)                                        │
//! │ playback           │                                                       │
//! │ jam                │                                                       │
//! ├ status bar: the engine's activity, the last message ──────────────────────┤
//! ```
//!
//! Each section is one function: [`super::controls`] (tool bar, tool settings, inputs,
//! playback), [`super::jam_view`], [`super::results`], [`super::status`].

use std::time::Duration;

use egui::Ui;
use nice_plug::prelude::ParamSetter;

use super::panel::Panel;
use super::style::palette;

/// Smallest logical size the panel lays out well in (the controls column scrolls there).
pub const MIN_SIZE: (f32, f32) = (760.0, 520.0);
/// The size it opens at, in logical points; every tool's controls fit without scrolling.
pub const DEFAULT_SIZE: (f32, f32) = (980.0, 700.0);
/// Width of the controls column in logical points (inner margins included).
pub const CONTROLS_WIDTH: f32 = 330.0;
/// Inner margin of the columns in logical points.
const MARGIN: f32 = 10.0;
/// Repaint interval while nothing runs, in milliseconds (the worker is polled each frame).
const IDLE_REPAINT_MS: u64 = 100;
/// Repaint interval while the engine or a file helper works, in milliseconds (moves the
/// progress bar).
const BUSY_REPAINT_MS: u64 = 16;

/// "A" or "B".
pub fn slot_name(slot: usize) -> &'static str {
    if slot == 0 {
        "A"
    } else {
        "B"
    }
}

impl Panel {
    /// Draws the whole panel. `setter` sends parameter gestures to the host.
    pub fn ui(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        #[cfg(feature = "test-hooks")]
        let frame_start = std::time::Instant::now();
        self.draw(ui, setter);
        #[cfg(feature = "test-hooks")]
        {
            self.probe = super::probe::take(ui.ctx());
            if let Some(Ok(mut log)) = self.frame_log.as_ref().map(|log| log.lock()) {
                log.push((frame_start, frame_start.elapsed()));
            }
        }
    }

    fn draw(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        self.poll_worker();
        let ctx = ui.ctx().clone();
        self.handle_keys(&ctx);
        self.handle_dropped_files(&ctx);

        let bar = egui::Frame::new().fill(palette::PANEL).inner_margin(8.0);
        let column = egui::Frame::new().fill(palette::BACKGROUND).inner_margin(MARGIN);
        egui::Panel::top("cadenza-tools").frame(bar).show(ui, |ui| self.tool_bar(ui, setter));
        egui::Panel::bottom("cadenza-status").frame(bar).show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("cadenza-controls").resizable(false).exact_size(CONTROLS_WIDTH).frame(column).show(
            ui,
            |ui| {
                egui::ScrollArea::vertical().id_salt("controls-scroll").show(ui, |ui| {
                    self.tool_settings(ui, setter);
                    if self.params.tool.value().rules().inputs > 0 {
                        ui.separator();
                        self.inputs(ui, setter);
                    } else {
                        self.slot_rects = [None, None];
                    }
                    ui.separator();
                    self.playback(ui, setter);
                    ui.separator();
                    self.jam_section(ui, setter);
                });
                super::probe::note_rect(ui, "controls", ui.clip_rect());
            },
        );
        egui::CentralPanel::default().frame(column).show(ui, |ui| self.results_view(ui));

        let busy = self.is_running() || self.files.busy();
        ctx.request_repaint_after(Duration::from_millis(if busy { BUSY_REPAINT_MS } else { IDLE_REPAINT_MS }));
    }
}
