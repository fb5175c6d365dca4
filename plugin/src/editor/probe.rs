//! Per-frame bookkeeping for the tests crate, behind the `test-hooks` feature: where each named
//! control was drawn, and which normalized value each parameter widget showed. The notes go to
//! the frame's egui memory and the panel takes them at the end of the frame
//! (`Panel::rect_of`, `Panel::widget_rects`, `Panel::shown_temperature`).
//!
//! Without the feature (every bundle) each function is an empty `#[inline]` no-op whose
//! arguments are `&'static str`s and `Copy` values: a shipped build formats, allocates and
//! stores nothing per frame.

#![cfg_attr(not(feature = "test-hooks"), allow(unused_variables))]

use std::fmt::Display;

use egui::{Rect, Ui};

/// What the tests can read about the last frame.
#[cfg(feature = "test-hooks")]
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// Named controls and where they were, in logical points, in drawing order. A name with a
    /// key reads `name:key` (`tool:Continue`, `result:3`).
    pub rects: Vec<(String, Rect)>,
    /// The normalized value each parameter widget showed, by control name.
    pub values: Vec<(&'static str, f32)>,
}

#[cfg(feature = "test-hooks")]
fn id() -> egui::Id {
    egui::Id::unique("cadenza-test-probe")
}

#[cfg(feature = "test-hooks")]
fn with(ui: &Ui, note: impl FnOnce(&mut Probe)) {
    ui.ctx().data_mut(|data| note(data.get_temp_mut_or_default::<Probe>(id())));
}

/// Notes where the control `name` was drawn.
#[inline]
pub fn note_rect(ui: &Ui, name: &'static str, rect: Rect) {
    #[cfg(feature = "test-hooks")]
    with(ui, |probe| probe.rects.push((name.to_string(), rect)));
}

/// Notes where the control `name:key` was drawn (one of several alike: `result:3`).
#[inline]
pub fn note_rect_of(ui: &Ui, name: &'static str, key: impl Display, rect: Rect) {
    #[cfg(feature = "test-hooks")]
    with(ui, |probe| probe.rects.push((format!("{name}:{key}"), rect)));
}

/// Notes the normalized value the parameter widget `name` showed.
#[inline]
pub fn note_value(ui: &Ui, name: &'static str, normalized: f32) {
    #[cfg(feature = "test-hooks")]
    with(ui, |probe| probe.values.push((name, normalized)));
}

/// Takes this frame's notes (the next frame starts empty).
#[cfg(feature = "test-hooks")]
pub fn take(ctx: &egui::Context) -> Probe {
    ctx.data_mut(|data| data.remove_temp::<Probe>(id())).unwrap_or_default()
}
