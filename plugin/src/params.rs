//! Host-automatable parameters. Everything a musician may want to automate or MIDI-learn lives
//! here; the persisted non-parameter state (clips, selection) lives in [`crate::session`].

use std::sync::Arc;

use nice_plug::prelude::*;

use crate::session::SessionField;

/// The five Magenta-Studio tools.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tool {
    Continue,
    Generate,
    Interpolate,
    Drumify,
    Groove,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    Melody,
    Drums,
}

/// The key the melody tools keep to: Auto (the default) finds the input's key and scale, Off is
/// any note, the others are the tonic of a key the user picks (with Scale). Auto is the last
/// variant so projects saved before it existed load their Key unchanged (enums are saved by
/// index).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRoot {
    Off,
    C,
    #[name = "C#"]
    CSharp,
    D,
    #[name = "Eb"]
    EFlat,
    E,
    F,
    #[name = "F#"]
    FSharp,
    G,
    #[name = "Ab"]
    AFlat,
    A,
    #[name = "Bb"]
    BFlat,
    B,
    /// Key: Auto: the input's own key (detected), shown in the panel after each job.
    Auto,
}

impl KeyRoot {
    /// Pitch class 0..=11 of a picked key, or `None` for Off and Auto.
    pub fn pitch_class(self) -> Option<u8> {
        (!matches!(self, KeyRoot::Off | KeyRoot::Auto)).then(|| self.to_index() as u8 - 1)
    }

    /// The request's key setting with `scale`.
    pub fn setting(self, scale: Scale) -> crate::messages::KeySetting {
        use crate::messages::KeySetting;
        match (self, self.pitch_class()) {
            (KeyRoot::Auto, _) => KeySetting::Auto,
            (_, Some(tonic)) => KeySetting::Fixed(tonic, scale),
            _ => KeySetting::Off,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Major,
    Minor,
    #[name = "Harmonic minor"]
    HarmonicMinor,
    Dorian,
    Phrygian,
    Lydian,
    Mixolydian,
    #[name = "Major pentatonic"]
    MajorPentatonic,
    #[name = "Minor pentatonic"]
    MinorPentatonic,
    Blues,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playback {
    Off,
    #[name = "Play selected"]
    PlaySelected,
}

/// When Jam answers (see [`crate::audio::jam`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum JamTrigger {
    /// After the musician stops: no note-on for the Jam gap, answered at the next bar line.
    #[name = "After a phrase"]
    AfterPhrase,
    /// Call and answer take turns every Jam bars bars.
    #[name = "Every N bars"]
    EveryBars,
}

/// What an answer does when the musician plays over it.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BargeIn {
    /// The answer stops at once with note-offs.
    #[name = "Stop at once"]
    StopAtOnce,
    /// The answer finishes the bar it is in, then stops.
    #[name = "Finish the bar"]
    FinishBar,
}

/// Parses the Capture parameter's text: "Armed" / "Off" as shown, plus the usual boolean words
/// ("On", "True", "1", "Disarmed", "False", "0"), case-insensitive. Anything else is `None`.
fn parse_armed(text: &str) -> Option<bool> {
    let text = text.trim();
    let is = |word: &str| text.eq_ignore_ascii_case(word);
    if is("armed") || is("on") || is("true") || is("1") {
        Some(true)
    } else if is("off") || is("disarmed") || is("false") || is("0") {
        Some(false)
    } else {
        None
    }
}

/// Parses the Answer length text: "As call" (0) or a number of bars ("3", "3 bars", "1 bar").
fn parse_answer_length(text: &str) -> Option<i32> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("as call") {
        return Some(0);
    }
    let number = text.trim_end_matches(|c: char| c.is_alphabetic() || c.is_whitespace());
    number.parse().ok()
}

#[derive(Params)]
pub struct CadenzaParams {
    /// Sampling temperature: 0 = always the most likely note, 1 = as trained, 2 = wild.
    #[id = "temperature"]
    pub temperature: FloatParam,
    #[id = "variations"]
    pub variations: IntParam,
    #[id = "length_bars"]
    pub length_bars: IntParam,
    #[id = "tool"]
    pub tool: EnumParam<Tool>,
    #[id = "mode"]
    pub mode: EnumParam<Mode>,
    #[id = "interp_steps"]
    pub interp_steps: IntParam,
    /// Best-of-N: candidates sampled per result (Continue, Generate, Interpolate); the engine
    /// keeps the best, most varied ones. 1× is the fastest.
    #[id = "quality"]
    pub quality: IntParam,
    #[id = "playback"]
    pub playback: EnumParam<Playback>,
    /// 1-based MIDI channel the generated clip plays on.
    #[id = "out_channel"]
    pub out_channel: IntParam,
    /// Record incoming notes into the capture ring.
    #[id = "capture"]
    pub capture_armed: BoolParam,
    /// How many bars "use last N bars" takes from the capture ring.
    #[id = "capture_bars"]
    pub capture_bars: IntParam,
    /// A trigger: a rising edge (button, automation, MIDI learn) runs the selected tool on the
    /// captured bars.
    #[id = "generate"]
    pub generate: BoolParam,
    /// Melody tools only start notes in this key (Auto = the input's key, Off = any note).
    #[id = "key"]
    pub key: EnumParam<KeyRoot>,
    /// Drums (Continue, Generate, Interpolate): Cadenza's Groove model plays the new notes with
    /// performed velocity and micro-timing.
    #[id = "humanize"]
    pub humanize: BoolParam,
    #[id = "scale"]
    pub scale: EnumParam<Scale>,
    /// Plays Cadenza's MIDI output on its audio output with a simple sine, for hosts that
    /// cannot route plugin MIDI out.
    #[id = "preview"]
    pub preview: BoolParam,

    /// Jam: answer the musician in time while the transport rolls.
    #[id = "jam"]
    pub jam: BoolParam,
    #[id = "jam_trigger"]
    pub jam_trigger: EnumParam<JamTrigger>,
    /// After a phrase: how long without a note-on ends the call, in quarter notes.
    #[id = "jam_gap"]
    pub jam_gap: FloatParam,
    /// Every N bars: the call's and the answer's length, in bars.
    #[id = "jam_bars"]
    pub jam_bars: IntParam,
    /// Answer length in bars; 0 = as long as the call.
    #[id = "jam_length"]
    pub jam_length: IntParam,
    #[id = "jam_barge_in"]
    pub jam_barge_in: EnumParam<BargeIn>,

    #[persist = "session"]
    pub session: Arc<SessionField>,
}

impl CadenzaParams {
    pub fn new(session: Arc<SessionField>) -> Self {
        Self {
            temperature: FloatParam::new("Temperature", 1.0, FloatRange::Linear { min: 0.0, max: 2.0 })
                .with_step_size(0.01)
                .with_value_to_string(formatters::v2s_f32_rounded(2)),
            variations: IntParam::new("Variations", 4, IntRange::Linear { min: 1, max: 16 }),
            length_bars: IntParam::new("Length", 4, IntRange::Linear { min: 1, max: 32 }).with_unit(" bars"),
            tool: EnumParam::new("Tool", Tool::Continue),
            mode: EnumParam::new("Mode", Mode::Melody),
            interp_steps: IntParam::new("Interpolation steps", 5, IntRange::Linear { min: 1, max: 16 }),
            quality: IntParam::new("Quality", 1, IntRange::Linear { min: 1, max: 8 }).with_unit("×"),
            playback: EnumParam::new("Playback", Playback::PlaySelected),
            out_channel: IntParam::new("Output channel", 1, IntRange::Linear { min: 1, max: 16 }),
            // Shown as "Armed"/"Off", so it must also parse "Armed" (the default parser only knows
            // "On"/"True"): hosts and clap-validator convert value -> text -> value.
            capture_armed: BoolParam::new("Capture", true)
                .with_value_to_string(Arc::new(|armed| if armed { "Armed" } else { "Off" }.into()))
                .with_string_to_value(Arc::new(parse_armed)),
            capture_bars: IntParam::new("Capture bars", 4, IntRange::Linear { min: 1, max: 32 }).with_unit(" bars"),
            generate: BoolParam::new("Generate", false),
            key: EnumParam::new("Key", KeyRoot::Auto),
            humanize: BoolParam::new("Humanize", true),
            scale: EnumParam::new("Scale", Scale::Major),
            preview: BoolParam::new("Preview synth", false),
            jam: BoolParam::new("Jam", false),
            jam_trigger: EnumParam::new("Jam answers", JamTrigger::AfterPhrase),
            jam_gap: FloatParam::new("Jam gap", 1.0, FloatRange::Linear { min: 0.25, max: 8.0 })
                .with_step_size(0.25)
                .with_unit(" beats")
                .with_value_to_string(formatters::v2s_f32_rounded(2)),
            jam_bars: IntParam::new("Jam bars", 2, IntRange::Linear { min: 1, max: 8 }).with_unit(" bars"),
            jam_length: IntParam::new("Answer length", 0, IntRange::Linear { min: 0, max: 8 })
                .with_value_to_string(Arc::new(|bars| match bars {
                    0 => "As call".into(),
                    1 => "1 bar".into(),
                    n => format!("{n} bars"),
                }))
                .with_string_to_value(Arc::new(parse_answer_length)),
            jam_barge_in: EnumParam::new("Barge-in", BargeIn::StopAtOnce),
            session,
        }
    }

    /// A copy of the tool settings as they are right now (read by the audio thread when a
    /// request is triggered, so it must not allocate).
    pub fn tool_settings(&self) -> crate::messages::ToolSettings {
        crate::messages::ToolSettings {
            tool: self.tool.value(),
            mode: self.mode.value(),
            temperature: self.temperature.value(),
            variations: self.variations.value() as u8,
            length_bars: self.length_bars.value() as u16,
            interp_steps: self.interp_steps.value() as u8,
            quality: self.quality.value() as u8,
            key: self.key.value().setting(self.scale.value()),
            humanize: self.humanize.value(),
        }
    }
}
