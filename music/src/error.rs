//! One error type for the whole music core, so the plugin can show a message and the engine can
//! match on the cause. Every fallible path returns one of these; nothing in this crate panics on
//! user or file input.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MusicError {
    /// The models work on a 4/4 sixteenth grid; other meters are refused rather than re-barred.
    #[error("time signature {numerator}/{denominator} is not supported (the models need 4/4)")]
    TimeSignatureUnsupported { numerator: u8, denominator: u8 },

    #[error("pitch {pitch} is outside the melody range {min}..={max}; transpose it into range first")]
    PitchOutOfRange { pitch: u8, min: u8, max: u8 },

    #[error("transposing pitch {pitch} by {semitones} semitones leaves the MIDI range 0..=127")]
    TransposeOutOfMidiRange { pitch: u8, semitones: i32 },

    #[error("range {min}..={max} is narrower than an octave; cannot fold notes into it")]
    RangeTooNarrow { min: u8, max: u8 },

    #[error("invalid {kind} token {token} at step {step}")]
    InvalidToken { kind: &'static str, token: u32, step: usize },

    #[error("{kind} features have {len} floats, not a multiple of {per_step} per step")]
    InvalidFeatureLength { kind: &'static str, len: usize, per_step: usize },

    #[error("invalid drum map: {0}")]
    InvalidDrumMap(String),

    #[error("note {index} is invalid: {reason}")]
    InvalidNote { index: usize, reason: &'static str },

    #[error("window starting at tick {start} for {bars} bars lies outside the representable range")]
    InvalidWindow { start: u64, bars: u16 },

    #[error("could not read {path}: {message}")]
    Io { path: String, message: String },

    /// The bytes are not a well-formed Standard MIDI File (truncated, wrong chunk length, bad
    /// event, ...). The message comes from the parser.
    #[error("malformed MIDI file: {0}")]
    MidiMalformed(String),

    #[error("MIDI file format {0} does not exist (formats 0, 1 and 2 do)")]
    MidiFormatUnsupported(u16),

    #[error("MIDI header declares {0} ticks per quarter note")]
    InvalidPpq(u16),

    /// SMPTE (frames per second) timing has no beats; Cadenza clips are beat-based.
    #[error("MIDI file uses SMPTE timing ({fps} fps, {subframes} subframes); only metrical (PPQ) timing is supported")]
    SmpteTimingUnsupported { fps: u8, subframes: u8 },

    #[error("tempo of {us_per_quarter} µs per quarter note is outside {min}..={max}")]
    AbsurdTempo { us_per_quarter: u32, min: u32, max: u32 },

    #[error("invalid time signature meta {numerator}/2^{denominator_power}")]
    InvalidTimeSignature { numerator: u8, denominator_power: u8 },

    /// A meter change inside the music: Cadenza never re-bars it (see `midi_import`).
    #[error(
        "the meter changes from {from_num}/{from_den} to {to_num}/{to_den} at bar {bar} \
         (tick {tick} at 480 PPQ); Cadenza works in one meter per clip and will not re-bar the \
         music: cut the clip before bar {bar}, or from bar {bar} on, and use that part"
    )]
    MeterChange {
        /// 1-based, counted in the meters before the change.
        bar: u32,
        tick: u64,
        from_num: u8,
        from_den: u8,
        to_num: u8,
        to_den: u8,
    },

    #[error("no track named {0:?}")]
    TrackNameNotFound(String),

    #[error("track index {index} does not exist (the file has {tracks} tracks)")]
    TrackIndexOutOfRange { index: usize, tracks: usize },

    #[error("more than {limit} notes")]
    TooManyNotes { limit: usize },

    #[error("clip is too long ({ticks} ticks at 480 PPQ)")]
    ClipTooLong { ticks: u64 },
}

pub type Result<T, E = MusicError> = std::result::Result<T, E>;
