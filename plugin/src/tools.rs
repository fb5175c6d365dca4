//! The five tools and every rule about them, in one place: names, help, which inputs each reads,
//! how many variations it may make, the mode it forces and which settings it uses. The panel's
//! button, the `generate` parameter (automation, MIDI learn) and the worker all read these, so
//! the same press makes the same request wherever it comes from.
//!
//! Ranges follow Magenta Studio's tools (Continue 1–8 variations, Generate 1–16, Drumify 1–8;
//! Interpolate and Groove make one result per step / per input).

use crate::messages::ToolSettings;
use crate::params::{CadenzaParams, Mode};

pub use crate::params::Tool;

/// What one tool needs and does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolRules {
    pub name: &'static str,
    /// The name in exported file names and MIDI track names: lowercase, only `[a-z]`.
    pub slug: &'static str,
    /// One line for the panel's tooltip and heading.
    pub help: &'static str,
    /// Input clips it reads: 0 (Generate), 1 (A) or 2 (A and B).
    pub inputs: usize,
    /// Most variations one request makes; `None`: exactly one result set (Interpolate's steps,
    /// Groove's one performance).
    pub max_variations: Option<u8>,
    /// The mode every request of this tool is made in, whatever the Mode parameter says
    /// (Drumify and Groove only make drums).
    pub forced_mode: Option<Mode>,
    /// Whether the Length parameter (bars) applies.
    pub uses_length: bool,
    /// Whether the Interpolation steps parameter applies.
    pub uses_steps: bool,
    /// Whether Quality (best-of-N sampling, see `cadenza_engine::best_of`) applies.
    pub uses_quality: bool,
    /// Whether Humanize (the Groove model over drum results) applies when the mode is drums.
    pub humanizes_drums: bool,
    /// What each input slot is for, for the panel (A, B).
    pub input_roles: [&'static str; 2],
}

impl ToolRules {
    /// Whether the Mode parameter matters (tools without a forced mode).
    pub fn uses_mode(&self) -> bool {
        self.forced_mode.is_none()
    }

    /// Whether Humanize applies in `mode` (Drumify and Groove are performances already).
    pub fn uses_humanize(&self, mode: Mode) -> bool {
        self.humanizes_drums && self.forced_mode.unwrap_or(mode) == Mode::Drums
    }

    /// Whether Key/Scale apply: melody tools only.
    pub fn uses_key(&self, mode: Mode) -> bool {
        self.forced_mode.unwrap_or(mode) == Mode::Melody
    }
}

const CONTINUE: ToolRules = ToolRules {
    name: "Continue",
    slug: "continue",
    help: "Extends input A: new bars that follow on from what you played",
    inputs: 1,
    max_variations: Some(8),
    forced_mode: None,
    uses_length: true,
    uses_steps: false,
    uses_quality: true,
    humanizes_drums: true,
    input_roles: ["The clip to continue", ""],
};

const GENERATE: ToolRules = ToolRules {
    name: "Generate",
    slug: "generate",
    help: "Makes new clips from scratch (no input needed)",
    inputs: 0,
    max_variations: Some(16),
    forced_mode: None,
    uses_length: true,
    uses_steps: false,
    uses_quality: true,
    humanizes_drums: true,
    input_roles: ["", ""],
};

const INTERPOLATE: ToolRules = ToolRules {
    name: "Interpolate",
    slug: "interpolate",
    help: "Morphs from input A to input B in steps",
    inputs: 2,
    max_variations: None,
    forced_mode: None,
    uses_length: false,
    uses_steps: true,
    uses_quality: true,
    humanizes_drums: true,
    input_roles: ["The clip the interpolation starts from", "The clip the interpolation ends at"],
};

const DRUMIFY: ToolRules = ToolRules {
    name: "Drumify",
    slug: "drumify",
    help: "Turns the rhythm of input A into a drum groove",
    inputs: 1,
    max_variations: Some(8),
    forced_mode: Some(Mode::Drums),
    uses_length: false,
    uses_steps: false,
    uses_quality: false,
    humanizes_drums: false,
    input_roles: ["A rhythm (any instrument) to turn into drums", ""],
};

const GROOVE: ToolRules = ToolRules {
    name: "Groove",
    slug: "groove",
    help: "Humanizes the timing and dynamics of drum input A",
    inputs: 1,
    max_variations: None,
    forced_mode: Some(Mode::Drums),
    uses_length: false,
    uses_steps: false,
    uses_quality: false,
    humanizes_drums: false,
    input_roles: ["A drum pattern to humanize", ""],
};

impl Tool {
    /// Every tool, in the panel's order.
    pub const ALL: [Tool; 5] = [Tool::Continue, Tool::Generate, Tool::Interpolate, Tool::Drumify, Tool::Groove];

    pub fn rules(self) -> &'static ToolRules {
        match self {
            Tool::Continue => &CONTINUE,
            Tool::Generate => &GENERATE,
            Tool::Interpolate => &INTERPOLATE,
            Tool::Drumify => &DRUMIFY,
            Tool::Groove => &GROOVE,
        }
    }

    pub fn name(self) -> &'static str {
        self.rules().name
    }
}

impl ToolSettings {
    /// These settings with the tool's rules applied: variations clamped to its range (one where
    /// it makes one result set) and its forced mode. Allocation-free: the audio thread calls it.
    pub fn with_tool_rules(mut self) -> Self {
        let rules = self.tool.rules();
        self.variations = match rules.max_variations {
            Some(max) => self.variations.clamp(1, max),
            None => 1,
        };
        if let Some(mode) = rules.forced_mode {
            self.mode = mode;
        }
        self
    }
}

/// The request a press of Generate makes right now, from any source (panel button, the
/// `generate` parameter's automation or MIDI learn, Jam).
pub fn request_settings(params: &CadenzaParams) -> ToolSettings {
    params.tool_settings().with_tool_rules()
}
