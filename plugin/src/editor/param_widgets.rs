//! One gesture-aware widget set for any nice-plug parameter: [`Slider`], [`Toggle`] and
//! [`Choice`] (a row of buttons or a drop-down). Like nih-plug's own `ParamSlider`, each reads
//! the parameter every frame (so host automation shows at once) and writes only what the
//! musician changed, the way hosts record automation:
//!
//! - a drag is one `begin_set_parameter`, one `set_parameter` per change, one
//!   `end_set_parameter`;
//! - a click, a typed value, a keyboard step or a double-click reset is one begin/set/end.
//!
//! Every widget works in the parameter's own terms: its range, its step, its text (value to
//! string with unit, string to value) and its default. The widgets keep no state between
//! frames; `drag_started`/`drag_stopped` of egui's response bracket a drag.

use egui::{Response, RichText, Ui};
use nice_plug::prelude::{Enum, EnumParam, Param, ParamSetter};

use super::probe;

/// Smallest change of a normalized value that counts as an edit. egui works in f64, so a host
/// value such as 1.6f32 read back through the slider comes out ~1e-8 away from the parameter's
/// own value every frame; without this threshold the panel would answer automation playback
/// with gestures of its own. (One pixel on a 150-point rail is ~7e-3.)
const EDIT_EPSILON: f32 = 1e-6;

/// Sends one finished edit as a complete gesture.
fn set_once<P: Param>(setter: &ParamSetter, param: &P, plain: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, plain);
    setter.end_set_parameter(param);
}

/// A horizontal slider with the parameter's value text beside it (click it to type a value).
/// Double-click resets to the parameter's default.
pub struct Slider<'p, P: Param> {
    param: &'p P,
    /// The control's name for the tests (see [`probe`]).
    name: &'static str,
    /// Tooltip.
    help: &'static str,
    /// The plain values the rail spans; `None`: the parameter's whole range.
    limits: Option<(P::Plain, P::Plain)>,
    /// Length of the rail in logical points; `None`: the style's `slider_width`.
    width: Option<f32>,
}

impl<'p, P: Param> Slider<'p, P> {
    pub fn new(param: &'p P, name: &'static str) -> Self {
        Self { param, name, help: "", limits: None, width: None }
    }

    pub fn help(mut self, help: &'static str) -> Self {
        self.help = help;
        self
    }

    /// Spans only `min..=max` (plain values) of the parameter's range, e.g. a tool's own
    /// variation range. A value outside is shown at the nearest end and left as it is.
    pub fn limits(mut self, min: P::Plain, max: P::Plain) -> Self {
        self.limits = Some((min, max));
        self
    }

    /// Rail length in logical points.
    pub fn width(mut self, width: f32) -> Self {
        self.width = Some(width);
        self
    }

    pub fn show(self, ui: &mut Ui, setter: &ParamSetter) -> Response {
        let param = self.param;
        let (low, high) = match self.limits {
            Some((min, max)) => (param.preview_normalized(min), param.preview_normalized(max)),
            None => (0.0, 1.0),
        };
        let current = param.unmodulated_normalized_value();
        let shown = current.clamp(low, high);
        let mut value = shown as f64;
        let mut slider = egui::Slider::new(&mut value, low as f64..=high as f64)
            .custom_formatter(|normalized, _| param.normalized_value_to_string(normalized as f32, true))
            .custom_parser(|text| param.string_to_normalized_value(text).map(f64::from));
        if let Some(steps) = param.step_count() {
            // Discrete parameters: the rail and the arrow keys move one value at a time.
            slider = slider.step_by(1.0 / steps.max(1) as f64);
        }
        let rail = self.width.unwrap_or(ui.spacing().slider_width);
        let response = ui
            .scope(|ui| {
                ui.spacing_mut().slider_width = rail;
                ui.add(slider)
            })
            .inner
            .on_hover_text(self.help);

        // The parameter's own snapping (step size, integer rounding) decides what the value is,
        // and only a move away from what was shown is an edit: not egui's f64 rounding of it,
        // and not a host value outside the limits being shown at the nearest end.
        let snapped = |normalized: f32| param.preview_normalized(param.preview_plain(normalized));
        let new = snapped(value as f32);
        let edited = response.changed() && (new - snapped(shown)).abs() > EDIT_EPSILON;
        // egui's rail senses drags only, so a double-click on it is read from the pointer (the
        // value box beside it takes clicks for typing).
        let on_rail = |at: egui::Pos2| at.x <= response.rect.left() + rail && response.rect.contains(at);
        let reset = ui.input(|i| {
            i.pointer.button_double_clicked(egui::PointerButton::Primary)
                && i.pointer.interact_pos().is_some_and(on_rail)
        });
        let target = if reset { Some(param.default_normalized_value()) } else { edited.then_some(new) };
        // A press on the rail starts a drag at once, so a click is a (short) drag too.
        let in_drag = response.drag_started() || response.dragged() || response.drag_stopped();
        if response.drag_started() {
            setter.begin_set_parameter(param);
        }
        match target {
            Some(normalized) if in_drag => setter.set_parameter_normalized(param, normalized),
            Some(normalized) => set_once(setter, param, param.preview_plain(normalized)),
            None => {}
        }
        if response.drag_stopped() {
            setter.end_set_parameter(param);
        }
        probe::note_rect(ui, self.name, response.rect);
        probe::note_value(ui, self.name, shown);
        response
    }
}

/// How a [`Toggle`] or a [`Choice`]'s options look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// A check box with the label beside it.
    Checkbox,
    /// A button that is highlighted while on / selected.
    Button,
}

/// A two-state control for any parameter: on while the parameter's value is `on`; a click sets
/// `on` or `off`.
pub struct Toggle<'p, P: Param> {
    param: &'p P,
    /// The control's name for the tests (see [`probe`]).
    name: &'static str,
    label: &'static str,
    on: P::Plain,
    off: P::Plain,
    look: Look,
    /// Tooltip.
    help: &'static str,
}

impl<'p, P: Param> Toggle<'p, P>
where
    P::Plain: Copy,
{
    pub fn new(param: &'p P, name: &'static str, label: &'static str, on: P::Plain, off: P::Plain) -> Self {
        Self { param, name, label, on, off, look: Look::Checkbox, help: "" }
    }

    pub fn look(mut self, look: Look) -> Self {
        self.look = look;
        self
    }

    pub fn help(mut self, help: &'static str) -> Self {
        self.help = help;
        self
    }

    pub fn show(self, ui: &mut Ui, setter: &ParamSetter) -> Response {
        let is_on = self.param.unmodulated_plain_value() == self.on;
        let response = match self.look {
            Look::Checkbox => {
                let mut checked = is_on;
                ui.checkbox(&mut checked, self.label)
            }
            Look::Button => ui.selectable_label(is_on, self.label),
        }
        .on_hover_text(self.help);
        if response.clicked() {
            set_once(setter, self.param, if is_on { self.off } else { self.on });
        }
        probe::note_rect(ui, self.name, response.rect);
        response
    }
}

/// A [`Toggle`] for a `BoolParam` (on = true).
pub fn bool_toggle<'p>(
    param: &'p nice_plug::prelude::BoolParam,
    name: &'static str,
    label: &'static str,
) -> Toggle<'p, nice_plug::prelude::BoolParam> {
    Toggle::new(param, name, label, true, false)
}

/// One of an enum parameter's values: a row of buttons, or a drop-down menu. Labels are the
/// enum's own display names (the names hosts show) unless [`Choice::labels`] gives others.
pub struct Choice<'p, T: Enum + PartialEq + Copy + 'static> {
    param: &'p EnumParam<T>,
    /// The control's name for the tests; a row of buttons names each `name:<label>`.
    name: &'static str,
    /// Tooltip of the whole control (menu) or of buttons without their own.
    help: &'static str,
    /// A tooltip per option (buttons).
    option_help: Option<fn(T) -> &'static str>,
    /// The options in order; `None`: every value in the enum's order.
    options: Option<&'static [T]>,
    /// Each option's label; `None`: the enum's display names (the names hosts show).
    labels: Option<fn(T) -> &'static str>,
    /// `Some(width)`: a drop-down this wide (logical points); `None`: a row of buttons.
    menu_width: Option<f32>,
    /// Text size of the buttons in points; `None`: the body size.
    text_size: Option<f32>,
}

impl<'p, T: Enum + PartialEq + Copy + 'static> Choice<'p, T> {
    /// A row of buttons, one per value.
    pub fn buttons(param: &'p EnumParam<T>, name: &'static str) -> Self {
        Self {
            param,
            name,
            help: "",
            option_help: None,
            options: None,
            labels: None,
            menu_width: None,
            text_size: None,
        }
    }

    /// A drop-down menu `width` points wide.
    pub fn menu(param: &'p EnumParam<T>, name: &'static str, width: f32) -> Self {
        Self { menu_width: Some(width), ..Self::buttons(param, name) }
    }

    pub fn help(mut self, help: &'static str) -> Self {
        self.help = help;
        self
    }

    pub fn option_help(mut self, help: fn(T) -> &'static str) -> Self {
        self.option_help = Some(help);
        self
    }

    /// Offers `options`, in this order.
    pub fn options(mut self, options: &'static [T]) -> Self {
        self.options = Some(options);
        self
    }

    /// Labels the options with `labels` instead of the enum's display names.
    pub fn labels(mut self, labels: fn(T) -> &'static str) -> Self {
        self.labels = Some(labels);
        self
    }

    pub fn text_size(mut self, size: f32) -> Self {
        self.text_size = Some(size);
        self
    }

    fn label(&self, value: T) -> &'static str {
        self.labels.map_or_else(|| T::variants()[value.to_index()], |label| label(value))
    }

    fn option_count(&self) -> usize {
        self.options.map_or(T::variants().len(), <[T]>::len)
    }

    fn option(&self, index: usize) -> T {
        self.options.map_or_else(|| T::from_index(index), |options| options[index])
    }

    /// Draws the control; the response is the menu's (a row of buttons: the selected one's).
    pub fn show(self, ui: &mut Ui, setter: &ParamSetter) -> Response {
        let current = self.param.value();
        let mut picked = None;
        let response = match self.menu_width {
            Some(width) => {
                let response = egui::ComboBox::from_id_salt(self.name)
                    .width(width)
                    .selected_text(self.label(current))
                    .show_ui(ui, |ui| {
                        for index in 0..self.option_count() {
                            let value = self.option(index);
                            if ui.selectable_label(current == value, self.label(value)).clicked() {
                                picked = Some(value);
                            }
                        }
                    })
                    .response
                    .on_hover_text(self.help);
                probe::note_rect(ui, self.name, response.rect);
                response
            }
            None => {
                let mut selected = None;
                for index in 0..self.option_count() {
                    let value = self.option(index);
                    let mut text = RichText::new(self.label(value));
                    if let Some(size) = self.text_size {
                        text = text.size(size);
                    }
                    let help = self.option_help.map_or(self.help, |help| help(value));
                    let response = ui.selectable_label(current == value, text).on_hover_text(help);
                    probe::note_rect_of(ui, self.name, self.label(value), response.rect);
                    if response.clicked() {
                        picked = Some(value);
                    }
                    if current == value || selected.is_none() {
                        selected = Some(response);
                    }
                }
                selected.unwrap_or_else(|| ui.label(""))
            }
        };
        if let Some(value) = picked.filter(|value| *value != current) {
            set_once(setter, self.param, value);
        }
        response
    }
}
