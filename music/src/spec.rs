//! The encoding spec (`models/spec/encoding.json`), embedded at compile time so the plugin never
//! needs the file at run time, parsed into typed structs.
//!
//! Hot code uses the constants below; a unit test proves they equal the JSON, so the JSON stays
//! the single source of truth shared with the Python training code.

use std::sync::OnceLock;

use serde::Deserialize;

/// The raw text of `models/spec/encoding.json`.
pub const ENCODING_JSON: &str = include_str!("../../models/spec/encoding.json");

pub const SPEC_VERSION: u32 = 1;
pub const STEPS_PER_QUARTER: u32 = 4;
pub const STEPS_PER_BAR: u32 = 16;
pub const TICKS_PER_STEP: u32 = 120;

pub const MELODY_NUM_CLASSES: usize = 90;
pub const MELODY_NO_EVENT: u8 = 0;
pub const MELODY_NOTE_OFF: u8 = 1;
pub const MELODY_FIRST_NOTE_ON: u8 = 2;
pub const MELODY_MIN_PITCH: u8 = 21;
pub const MELODY_MAX_PITCH: u8 = 108;
/// Velocity of decoded melody notes.
pub const MELODY_DECODE_VELOCITY: u8 = 100;

pub const DRUM_CLASSES: usize = 9;
pub const DRUM_NUM_TOKENS: usize = 512;
pub const DRUM_CHANNEL: u8 = 9;
pub const DRUM_DECODE_VELOCITY: u8 = 100;

pub const GROOVE_FLOATS_PER_VOICE: usize = 3;
pub const GROOVE_FLOATS_PER_STEP: usize = 27;
pub const TAP_FLOATS_PER_STEP: usize = 3;
/// Bars the groove model (Drumify/Groove) works on.
pub const GROOVE_BARS: u16 = 2;

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Spec {
    pub spec_version: u32,
    pub ppq: u32,
    pub steps_per_quarter: u32,
    pub time_signature: [u8; 2],
    pub steps_per_bar: u32,
    pub melody: MelodySpec,
    pub drums: DrumSpec,
    pub groove: GrooveSpec,
    pub quantization: QuantizationSpec,
    pub preprocessing: PreprocessingSpec,
    pub golden: GoldenSpec,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct MelodySpec {
    pub num_classes: usize,
    pub no_event: u8,
    pub note_off: u8,
    pub first_note_on: u8,
    pub min_pitch: u8,
    pub max_pitch: u8,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct DrumSpec {
    pub num_classes: usize,
    pub classes: Vec<DrumClassSpec>,
    pub note_length_steps: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct DrumClassSpec {
    pub name: String,
    pub output_pitch: u8,
    pub input_pitches: Vec<u8>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct GrooveSpec {
    pub num_voices: usize,
    pub floats_per_voice: usize,
    pub floats_per_step: usize,
    pub tap: TapSpec,
    pub bars: u16,
    pub steps: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TapSpec {
    pub floats_per_step: usize,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct QuantizationSpec {
    pub ticks_per_step: u32,
}

/// `preprocessing`: the ordered steps before each encoding (implemented in [`crate::preprocess`]).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PreprocessingSpec {
    pub melody: Vec<PrepStep>,
    pub drums: Vec<PrepStep>,
    pub groove: Vec<PrepStep>,
}

/// One preprocessing step: its name and its parameters (and descriptive text).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PrepStep {
    pub step: String,
    #[serde(flatten)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct GoldenSpec {
    pub folder: String,
    pub float_tolerance: f64,
}

impl Spec {
    /// Parses a spec text (the embedded one is [`Spec::embedded`]).
    pub fn parse(json: &str) -> Result<Spec, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The spec this binary was built with.
    pub fn embedded() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        // The text is fixed at compile time and `tests::embedded_spec_matches_constants` parses
        // it, so this cannot fail in a binary whose tests passed.
        SPEC.get_or_init(|| Spec::parse(ENCODING_JSON).expect("embedded encoding.json parses"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clip::PPQ;

    #[test]
    fn embedded_spec_matches_constants() {
        let s = Spec::parse(ENCODING_JSON).unwrap();
        assert_eq!(s.spec_version, SPEC_VERSION);
        assert_eq!(s.ppq, PPQ);
        assert_eq!(s.steps_per_quarter, STEPS_PER_QUARTER);
        assert_eq!(s.time_signature, [4, 4]);
        assert_eq!(s.steps_per_bar, STEPS_PER_BAR);
        assert_eq!(s.quantization.ticks_per_step, TICKS_PER_STEP);
        assert_eq!(PPQ / STEPS_PER_QUARTER, TICKS_PER_STEP);
        assert_eq!(s.melody.num_classes, MELODY_NUM_CLASSES);
        assert_eq!(s.melody.no_event, MELODY_NO_EVENT);
        assert_eq!(s.melody.note_off, MELODY_NOTE_OFF);
        assert_eq!(s.melody.first_note_on, MELODY_FIRST_NOTE_ON);
        assert_eq!(s.melody.min_pitch, MELODY_MIN_PITCH);
        assert_eq!(s.melody.max_pitch, MELODY_MAX_PITCH);
        assert_eq!(MELODY_NUM_CLASSES, (MELODY_FIRST_NOTE_ON + MELODY_MAX_PITCH - MELODY_MIN_PITCH + 1) as usize);
        assert_eq!(s.drums.num_classes, DRUM_NUM_TOKENS);
        assert_eq!(s.drums.classes.len(), DRUM_CLASSES);
        assert_eq!(1usize << DRUM_CLASSES, DRUM_NUM_TOKENS);
        assert_eq!(s.drums.note_length_steps, 1);
        assert_eq!(s.groove.num_voices, DRUM_CLASSES);
        assert_eq!(s.groove.floats_per_voice, GROOVE_FLOATS_PER_VOICE);
        assert_eq!(s.groove.floats_per_step, GROOVE_FLOATS_PER_STEP);
        assert_eq!(GROOVE_FLOATS_PER_STEP, DRUM_CLASSES * GROOVE_FLOATS_PER_VOICE);
        assert_eq!(s.groove.tap.floats_per_step, TAP_FLOATS_PER_STEP);
        assert_eq!(s.groove.bars, GROOVE_BARS);
        assert_eq!(s.groove.steps, GROOVE_BARS as u32 * STEPS_PER_BAR);
        assert_eq!(s.golden.folder, "models/spec/golden");
        assert_eq!(Spec::embedded(), &s);
    }
}
