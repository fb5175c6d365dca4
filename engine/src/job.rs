//! What the plugin (or the CLI) asks for, and what comes back.

use std::fmt;
use std::str::FromStr;

use cadenza_music::Clip;

use crate::error::EngineError;

/// Magenta Studio's five tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    /// Prime the RNN on input A, sample `bars` more bars.
    Continue,
    /// Sample the VAE prior, decode `bars` bars (4 per z, longer by chaining).
    Generate,
    /// Blend inputs A and B in the VAE's latent space.
    Interpolate,
    /// Any rhythm (input A, any instrument) to a drum groove.
    Drumify,
    /// A quantized drum clip (input A) humanized: velocity and micro-timing.
    Groove,
}

/// Melody or drums, for the tools that have both (Continue, Generate, Interpolate). Drumify and
/// Groove always produce drums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Melody,
    Drums,
}

impl Tool {
    pub const ALL: [Tool; 5] = [Tool::Continue, Tool::Generate, Tool::Interpolate, Tool::Drumify, Tool::Groove];

    /// The manifest entry (`models/manifest.json` → `models.NAME`) this tool needs in `mode`.
    /// The only place model names appear in the engine.
    pub fn model_name(self, mode: Mode) -> &'static str {
        match (self, mode) {
            (Tool::Continue, Mode::Melody) => "melody_rnn",
            (Tool::Continue, Mode::Drums) => "drum_rnn",
            (Tool::Generate | Tool::Interpolate, Mode::Melody) => "melody_vae",
            (Tool::Generate | Tool::Interpolate, Mode::Drums) => "drum_vae",
            (Tool::Drumify | Tool::Groove, _) => "groove_vae",
        }
    }

    /// How many input clips the tool reads (A, or A and B).
    pub fn inputs_needed(self) -> usize {
        match self {
            Tool::Generate => 0,
            Tool::Interpolate => 2,
            _ => 1,
        }
    }

    /// The groove model variant (manifest `variants`) for Drumify/Groove.
    pub fn groove_variant(self) -> Option<&'static str> {
        match self {
            Tool::Drumify => Some("drumify"),
            Tool::Groove => Some("groove"),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::Continue => "continue",
            Tool::Generate => "generate",
            Tool::Interpolate => "interpolate",
            Tool::Drumify => "drumify",
            Tool::Groove => "groove",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scale for the key mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scale {
    Major,
    /// Natural minor.
    Minor,
    HarmonicMinor,
    Dorian,
    Phrygian,
    Lydian,
    Mixolydian,
    MajorPentatonic,
    MinorPentatonic,
    Blues,
}

impl Scale {
    pub const ALL: [Scale; 10] = [
        Scale::Major,
        Scale::Minor,
        Scale::HarmonicMinor,
        Scale::Dorian,
        Scale::Phrygian,
        Scale::Lydian,
        Scale::Mixolydian,
        Scale::MajorPentatonic,
        Scale::MinorPentatonic,
        Scale::Blues,
    ];

    /// Semitones above the tonic.
    pub fn intervals(self) -> &'static [u8] {
        match self {
            Scale::Major => &[0, 2, 4, 5, 7, 9, 11],
            Scale::Minor => &[0, 2, 3, 5, 7, 8, 10],
            Scale::HarmonicMinor => &[0, 2, 3, 5, 7, 8, 11],
            Scale::Dorian => &[0, 2, 3, 5, 7, 9, 10],
            Scale::Phrygian => &[0, 1, 3, 5, 7, 8, 10],
            Scale::Lydian => &[0, 2, 4, 6, 7, 9, 11],
            Scale::Mixolydian => &[0, 2, 4, 5, 7, 9, 10],
            Scale::MajorPentatonic => &[0, 2, 4, 7, 9],
            Scale::MinorPentatonic => &[0, 3, 5, 7, 10],
            Scale::Blues => &[0, 3, 5, 6, 7, 10],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scale::Major => "major",
            Scale::Minor => "minor",
            Scale::HarmonicMinor => "harmonic-minor",
            Scale::Dorian => "dorian",
            Scale::Phrygian => "phrygian",
            Scale::Lydian => "lydian",
            Scale::Mixolydian => "mixolydian",
            Scale::MajorPentatonic => "major-pentatonic",
            Scale::MinorPentatonic => "minor-pentatonic",
            Scale::Blues => "blues",
        }
    }
}

/// Restricts generated melody notes to one key: only pitches whose pitch class is in the scale
/// can start; note-off and "no event" are always allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyScale {
    /// Pitch class of the tonic, 0 = C .. 11 = B.
    pub tonic: u8,
    pub scale: Scale,
}

impl KeyScale {
    pub fn new(tonic: u8, scale: Scale) -> KeyScale {
        KeyScale { tonic: tonic % 12, scale }
    }

    /// Whether a MIDI pitch is in the key.
    pub fn contains(&self, pitch: u8) -> bool {
        let pc = (pitch % 12 + 12 - self.tonic) % 12;
        self.scale.intervals().contains(&pc)
    }
}

const NOTE_NAMES: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

impl fmt::Display for KeyScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", NOTE_NAMES[self.tonic as usize % 12], self.scale.name())
    }
}

impl FromStr for KeyScale {
    type Err = String;

    /// `C:major`, `F#:minor`, `Bb:dorian`, `a:minor-pentatonic` (case-insensitive; `m` = minor).
    fn from_str(s: &str) -> Result<KeyScale, String> {
        let (tonic, scale) =
            s.split_once(':').ok_or_else(|| format!("key {s:?} should look like C:major or F#:minor"))?;
        let tonic = tonic.trim();
        let mut chars = tonic.chars();
        let letter = chars.next().ok_or_else(|| format!("key {s:?} has no tonic"))?;
        let base: i32 = match letter.to_ascii_uppercase() {
            'C' => 0,
            'D' => 2,
            'E' => 4,
            'F' => 5,
            'G' => 7,
            'A' => 9,
            'B' => 11,
            _ => return Err(format!("{tonic:?} is not a note name (C, D, E, F, G, A, B)")),
        };
        let mut pc = base;
        for c in chars {
            match c {
                '#' | '♯' => pc += 1,
                'b' | '♭' => pc -= 1,
                _ => return Err(format!("{tonic:?} is not a note name (use # or b)")),
            }
        }
        let want = scale.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        let scale = match want.as_str() {
            "m" | "min" | "aeolian" | "natural-minor" => Scale::Minor,
            "maj" | "ionian" => Scale::Major,
            w => Scale::ALL.into_iter().find(|sc| sc.name() == w).ok_or_else(|| {
                let names: Vec<&str> = Scale::ALL.iter().map(|s| s.name()).collect();
                format!("unknown scale {scale:?}; use one of {}", names.join(", "))
            })?,
        };
        Ok(KeyScale::new(pc.rem_euclid(12) as u8, scale))
    }
}

/// The Key setting of the melody tools.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyChoice {
    /// Any note.
    Off,
    /// Key: Auto (the default): the key and scale of the input (Continue: input A; Interpolate:
    /// A and B together), found by [`cadenza_music::detect_key`]; new notes keep to its scale
    /// plus the pitch classes the musician played. Reported in [`Output::detected_key`].
    /// Without an input (Generate) it is Off.
    #[default]
    Auto,
    /// A key the user picked.
    Fixed(KeyScale),
}

impl KeyChoice {
    pub fn fixed(self) -> Option<KeyScale> {
        match self {
            KeyChoice::Fixed(k) => Some(k),
            _ => None,
        }
    }
}

impl From<KeyScale> for KeyChoice {
    fn from(k: KeyScale) -> KeyChoice {
        KeyChoice::Fixed(k)
    }
}

impl From<Option<KeyScale>> for KeyChoice {
    fn from(k: Option<KeyScale>) -> KeyChoice {
        k.map_or(KeyChoice::Off, KeyChoice::Fixed)
    }
}

impl fmt::Display for KeyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyChoice::Off => f.write_str("off"),
            KeyChoice::Auto => f.write_str("auto"),
            KeyChoice::Fixed(k) => k.fmt(f),
        }
    }
}

impl FromStr for KeyChoice {
    type Err = String;

    /// `auto`, `off` (or `none`), or a key as [`KeyScale`] parses it (`D:minor`).
    fn from_str(s: &str) -> Result<KeyChoice, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(KeyChoice::Auto),
            "off" | "none" | "any" => Ok(KeyChoice::Off),
            _ => s
                .parse::<KeyScale>()
                .map(KeyChoice::Fixed)
                .map_err(|e| format!("{e} (or use auto, or off for any note)")),
        }
    }
}

/// One request to the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub tool: Tool,
    pub mode: Mode,
    /// 0 = greedy (the most likely choice every time); 1 = the model's own distribution; up to
    /// [`MAX_TEMPERATURE`].
    pub temperature: f32,
    /// 1..=[`MAX_VARIATIONS`] (Continue, Generate, Drumify, Groove; Interpolate uses
    /// `interp_steps`).
    pub variations: usize,
    /// Continue: bars to add; Generate: bars to generate. Drumify/Groove keep the input's length,
    /// Interpolate the inputs' (the longer one, at most the model's 4 bars).
    pub bars: u16,
    /// Interpolate: number of clips, 1..=[`MAX_VARIATIONS`].
    pub interp_steps: usize,
    /// Interpolate: whether the first and last clip are the inputs themselves, as given (only
    /// the points between them are decoded).
    pub include_endpoints: bool,
    /// Continue: output only the new bars instead of input + continuation.
    pub continuation_only: bool,
    pub seed: u64,
    /// Melody only: which notes may start (Auto: the input's key, the default).
    pub key: KeyChoice,
    /// Drums only (Continue, Generate, Interpolate): run the Groove model over the new notes so
    /// they come out with performed velocity and micro-timing (default on).
    pub humanize: bool,
    /// Best-of-N (Continue, Generate, Interpolate): candidates sampled per requested clip, the
    /// best and most varied kept, 1..=[`crate::best_of::MAX_QUALITY`] (see [`crate::best_of`]).
    pub quality: usize,
    /// Continue/Drumify/Groove read the first clip, Interpolate the first two, Generate none;
    /// extra clips are ignored.
    pub inputs: Vec<Clip>,
}

impl Default for Job {
    fn default() -> Self {
        Job {
            tool: Tool::Continue,
            mode: Mode::Melody,
            temperature: 1.0,
            variations: 4,
            bars: 4,
            interp_steps: 5,
            include_endpoints: true,
            continuation_only: false,
            seed: 0,
            key: KeyChoice::Auto,
            humanize: true,
            quality: 1,
            inputs: Vec::new(),
        }
    }
}

pub const MAX_VARIATIONS: usize = 16;
pub const MAX_BARS: u16 = 64;
pub const MAX_TEMPERATURE: f32 = 5.0;
/// Inputs longer than this are refused (a capture is at most a few dozen bars).
pub const MAX_INPUT_BARS: u16 = 256;
pub const MAX_INPUT_NOTES: usize = 20_000;

impl Job {
    /// Checks the numbers that do not depend on the models.
    pub fn validate(&self) -> Result<(), EngineError> {
        let t = self.temperature;
        if !t.is_finite() || !(0.0..=MAX_TEMPERATURE).contains(&t) {
            return Err(EngineError::invalid(format!("temperature must be between 0 and {MAX_TEMPERATURE} (got {t})")));
        }
        let uses_variations = !matches!(self.tool, Tool::Interpolate);
        if uses_variations && !(1..=MAX_VARIATIONS).contains(&self.variations) {
            return Err(EngineError::invalid(format!(
                "variations must be 1 to {MAX_VARIATIONS} (got {})",
                self.variations
            )));
        }
        if !(1..=crate::best_of::MAX_QUALITY).contains(&self.quality) {
            return Err(EngineError::invalid(format!(
                "quality must be 1 to {} (got {})",
                crate::best_of::MAX_QUALITY,
                self.quality
            )));
        }
        if matches!(self.tool, Tool::Continue | Tool::Generate) && !(1..=MAX_BARS).contains(&self.bars) {
            return Err(EngineError::invalid(format!("length must be 1 to {MAX_BARS} bars (got {})", self.bars)));
        }
        if self.tool == Tool::Interpolate && !(1..=MAX_VARIATIONS).contains(&self.interp_steps) {
            return Err(EngineError::invalid(format!(
                "interpolation steps must be 1 to {MAX_VARIATIONS} (got {})",
                self.interp_steps
            )));
        }
        let needed = self.tool.inputs_needed();
        if self.inputs.len() < needed {
            let what = match self.tool {
                Tool::Interpolate => format!("Interpolate needs two input clips (A and B), got {}", self.inputs.len()),
                t => format!("{} needs one input clip, got none", capitalized(t.name())),
            };
            return Err(EngineError::invalid(what));
        }
        for clip in self.used_inputs() {
            if clip.bars > MAX_INPUT_BARS {
                return Err(EngineError::invalid(format!(
                    "the input is {} bars long; at most {MAX_INPUT_BARS} bars are supported",
                    clip.bars
                )));
            }
            if clip.notes.len() > MAX_INPUT_NOTES {
                return Err(EngineError::invalid(format!(
                    "the input has {} notes; at most {MAX_INPUT_NOTES} are supported",
                    clip.notes.len()
                )));
            }
        }
        Ok(())
    }
}

impl Job {
    /// The inputs the tool reads: extra clips (e.g. input A passed along to Generate, or B to
    /// Continue) are ignored, so a caller may always send what it has captured.
    pub fn used_inputs(&self) -> &[Clip] {
        &self.inputs[..self.inputs.len().min(self.tool.inputs_needed())]
    }
}

pub(crate) fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What a job produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// One clip per variation (Interpolate: per step), in order.
    pub clips: Vec<Clip>,
    /// Things the user should know, e.g. "polyphonic input reduced to its top line", or that a
    /// variation came out without new notes and was made again.
    pub warnings: Vec<String>,
    /// Key: Auto: the key found in the input (and kept to); `None` when the key was Off or
    /// fixed, the mode is drums, or there was no input.
    pub detected_key: Option<KeyScale>,
    /// Continue: the tick of the input at which the new bars start (its end, or the bar line
    /// after its music when a long silent tail was left out). `None` for the other tools.
    pub continues_at: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keys() {
        let k: KeyScale = "C:major".parse().unwrap();
        assert_eq!(k, KeyScale::new(0, Scale::Major));
        assert!(k.contains(60) && !k.contains(61));
        let k: KeyScale = "F#:minor".parse().unwrap();
        assert_eq!((k.tonic, k.scale), (6, Scale::Minor));
        let k: KeyScale = "Bb:Dorian".parse().unwrap();
        assert_eq!(k.tonic, 10);
        let k: KeyScale = "cb:m".parse().unwrap();
        assert_eq!(k.tonic, 11);
        assert_eq!(k.to_string(), "B:minor");
        assert!("H:major".parse::<KeyScale>().is_err());
        assert!("C major".parse::<KeyScale>().is_err());
        assert!("C:foo".parse::<KeyScale>().is_err());
        assert_eq!("auto".parse::<KeyChoice>(), Ok(KeyChoice::Auto));
        assert_eq!("Off".parse::<KeyChoice>(), Ok(KeyChoice::Off));
        assert_eq!("d:minor".parse::<KeyChoice>(), Ok(KeyChoice::Fixed(KeyScale::new(2, Scale::Minor))));
        assert!("H:major".parse::<KeyChoice>().is_err());
        assert_eq!(KeyChoice::Auto.to_string(), "auto");
    }

    #[test]
    fn validation() {
        let mut j = Job { inputs: vec![Clip::new(1, Default::default(), false)], ..Job::default() };
        assert!(j.validate().is_ok());
        j.temperature = f32::NAN;
        assert!(matches!(j.validate(), Err(EngineError::InvalidRequest(_))));
        j.temperature = 1.0;
        j.bars = 0;
        assert!(j.validate().is_err());
        j.bars = 2;
        j.variations = 17;
        assert!(j.validate().is_err());
        j.variations = 1;
        j.inputs.clear();
        assert!(j.validate().is_err());
    }
}
