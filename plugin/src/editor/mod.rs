//! The Cadenza editor (egui through nice-plug-egui). This file builds the editor for the host;
//! each file below has one job:
//!
//! - [`layout`]: the panel's frame, which section goes where ([`panel::Panel::ui`]);
//! - [`panel`]: the panel's state and its polling of the worker and the session (through
//!   [`crate::channels::EditorEnd`]; the session lock is held only for short copies);
//! - [`controls`]: the tool bar, the tool's settings, the inputs, playback (one function each);
//! - [`jam_view`]: the Jam section (its switch and settings, what it is doing, the last call
//!   and answer);
//! - [`results`]: the results grid (cards); [`status`]: the status bar;
//! - [`param_widgets`]: the one gesture-aware slider / toggle / choice for any parameter;
//! - [`file_actions`]: loading, exporting and the drag-out plumbing; [`file_dialog`]: the
//!   system's file picker on a helper thread;
//! - [`style`]: palette, egui style, roll painting; [`pianoroll`]: the roll layout (pure);
//! - [`files`]: file names, the data folder, atomic writes, export; [`xdnd`]: the XDND
//!   drag-source state machine (pure); `x11_drag`: the X11 driver that runs it on a helper
//!   thread (Linux only); `drag_windows`: the OLE drag source (Windows only);
//! - [`probe`]: the tests' per-frame notes (feature `test-hooks`; no-ops in bundles).

use std::sync::Arc;

use nice_plug::context::gui::GuiContext;
use nice_plug_egui::baseview::HandlerError;
use nice_plug_egui::{EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier};

pub mod controls;
#[cfg(target_os = "windows")]
pub mod drag_windows;
pub mod file_actions;
pub mod file_dialog;
pub mod files;
pub mod jam_view;
pub mod layout;
pub mod panel;
pub mod param_widgets;
pub mod pianoroll;
pub mod probe;
pub mod results;
pub mod status;
pub mod style;
#[cfg(target_os = "linux")]
pub mod x11_drag;
pub mod xdnd;

pub use egui;

use crate::channels::EditorEnd;
use crate::params::CadenzaParams;
use panel::Panel;

/// The editor type of the plugin.
pub type CadenzaEditor = EguiEditor<CadenzaApp>;

/// The egui app: the panel plus the host's GUI context (for parameter gestures).
pub struct CadenzaApp {
    pub panel: Panel,
    gui_context: Option<GuiContext>,
}

impl CadenzaApp {
    pub fn new(params: Arc<CadenzaParams>, channels: EditorEnd) -> Self {
        Self { panel: Panel::new(params, channels), gui_context: None }
    }
}

impl NiceEguiApp for CadenzaApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui_context: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), HandlerError> {
        style::apply(&egui_ctx);
        self.gui_context = Some(gui_context);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let Some(context) = self.gui_context.clone() else { return };
        let setter = context.param_setter();
        self.panel.ui(ui, &setter);
    }

    fn editor_closed(&mut self) {
        self.gui_context = None;
    }
}

/// The editor's window state: opens at [`layout::DEFAULT_SIZE`] (logical points, scaled by the
/// host's/system's HiDPI factor).
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(layout::DEFAULT_SIZE.0, layout::DEFAULT_SIZE.1),
        1.0,
    )
}

/// Builds the editor for `Plugin::editor`.
pub fn create(params: Arc<CadenzaParams>, channels: EditorEnd) -> Option<CadenzaEditor> {
    create_with_app(CadenzaApp::new(params, channels))
}

/// Builds the editor around an app made beforehand (tests set up its panel first).
pub fn create_with_app(app: CadenzaApp) -> Option<CadenzaEditor> {
    let resize = nice_plug::prelude::ResizeHint {
        can_resize: true,
        can_resize_horizontally: true,
        can_resize_vertically: true,
        preserve_aspect_ratio: false,
        aspect_ratio_width: 0,
        aspect_ratio_height: 0,
        size_constraints: nice_plug::editor::SizeConstraints::Logical {
            min_size: Some(nice_plug::editor::dpi::LogicalSize::new(layout::MIN_SIZE.0, layout::MIN_SIZE.1)),
            max_size: None,
        },
    };
    let settings = EguiNiceSettings::new().with_tile("Cadenza").with_resize_hint(resize);
    nice_plug_egui::create_egui_editor(default_state(), RepaintNotifier::new(), settings, app)
}
