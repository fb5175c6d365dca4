//! Every message that crosses a thread boundary, in one place: plain data, no behaviour beyond
//! building it. [`crate::channels`] names the queue each one travels on.
//!
//! The audio thread only ever moves these through bounded queues: big payloads travel as
//! `Box`es that were allocated off the audio thread and are dropped off it again (they are
//! recycled or sent back), so `process()` never allocates or frees.

use cadenza_music::{Clip, Note, NoteBuffer, TimeSignature};

use crate::params::{Mode, Scale, Tool};

/// Most notes a capture snapshot or a playback clip may hold; sized for 32 dense bars.
pub const MAX_CAPTURE_NOTES: usize = 4096;

/// The tool settings a request is made with (a plain copy of the parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToolSettings {
    pub tool: Tool,
    pub mode: Mode,
    pub temperature: f32,
    pub variations: u8,
    pub length_bars: u16,
    pub interp_steps: u8,
    /// Best-of-N candidates per result, 1..=8 (the Quality parameter).
    pub quality: u8,
    /// Melody tools: which notes may start.
    pub key: KeySetting,
    /// Drums (Continue, Generate, Interpolate): run the Groove model over the new notes.
    pub humanize: bool,
}

/// The Key setting of a request (melody tools).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySetting {
    /// Any note.
    Off,
    /// The input's own key, detected by the engine (reported in [`WorkerEvent::Finished`]).
    Auto,
    /// (tonic pitch class, scale) the user picked.
    Fixed(u8, Scale),
}

/// What the requester wants done with a capture snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RtRequestKind {
    /// Run the tool on the captured bars.
    Generate(ToolSettings),
    /// Only store the captured bars in input slot `n` (A = 0, B = 1).
    CaptureToSlot(u8),
    /// Jam: answer the call in the captured bars.
    Jam(JamCall),
}

/// A call the audio thread heard and wants answered (see [`crate::audio::jam`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JamCall {
    /// The settings at the moment the call ended (temperature automation is read then).
    pub settings: ToolSettings,
    /// Which call this is; the audio thread plays only the answer to its newest.
    pub call_id: u32,
    /// How many bars the answer lasts.
    pub answer_bars: u16,
}

/// What a job is for.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum JobPurpose {
    /// Results for the list (the selected one plays looping).
    #[default]
    Results,
    /// A Jam answer: only the continuation, played once by the audio thread at its bar line
    /// (and added to the results list).
    JamAnswer { call_id: u32, answer_bars: u16 },
}

/// A Jam answer on its way to the audio thread (built off it).
#[derive(Debug)]
pub struct JamAnswer {
    pub call_id: u32,
    /// Ticks from the answer's first downbeat.
    pub clip: Box<PlaybackClip>,
}

/// The captured bars as the audio thread copied them: ticks from the first bar's downbeat.
#[derive(Debug)]
pub struct CaptureSnapshot {
    pub notes: NoteBuffer,
    pub bars: u16,
    pub time_signature: TimeSignature,
}

impl CaptureSnapshot {
    pub fn to_clip(&self, is_drum: bool) -> Clip {
        self.notes.to_clip(self.bars, self.time_signature, is_drum)
    }
}

/// A request made on the audio thread. The boxes come from a pool that the engine refills, so
/// the audio thread fills one in place instead of building it.
#[derive(Debug)]
pub struct RtRequest {
    pub kind: RtRequestKind,
    pub capture: CaptureSnapshot,
}

impl RtRequest {
    /// A pool entry: allocated here, off the audio thread, with room for a full capture.
    pub fn empty() -> Box<Self> {
        Box::new(Self {
            kind: RtRequestKind::CaptureToSlot(0),
            capture: CaptureSnapshot {
                notes: NoteBuffer::with_capacity(MAX_CAPTURE_NOTES),
                bars: 0,
                time_signature: TimeSignature::FOUR_FOUR,
            },
        })
    }
}

/// A job for the worker, built off the audio thread (by the editor or from an [`RtRequest`]).
#[derive(Debug, Clone)]
pub struct JobRequest {
    pub id: u64,
    pub settings: ToolSettings,
    pub seed: u64,
    /// Input A (and B for Interpolate).
    pub inputs: Vec<Clip>,
    pub purpose: JobPurpose,
}

/// Why a job produced no clips, in words a musician can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    #[error("the input clip is empty: record or load a few bars first")]
    EmptyInput,
    #[error("{tool} needs {needed} input clip(s), got {got}")]
    MissingInput { tool: &'static str, needed: usize, got: usize },
    #[error("the worker failed: {0}")]
    Internal(String),
    #[error("replaced by a newer request")]
    Superseded,
    #[error("the worker crashed and restarted ({0}); try again")]
    Restarted(String),
    #[error("the worker has stopped: deactivate and reactivate Cadenza (or reload the project) to restart it")]
    Stopped,
    /// The inference engine's own error, kept typed so the panel can tell "reinstall"
    /// ([`cadenza_engine::EngineError::is_installation_error`]) from "bad input".
    #[error(transparent)]
    Engine(#[from] cadenza_engine::EngineError),
}

impl JobError {
    /// Whether only reinstalling Cadenza (runtime or models) fixes it.
    pub fn needs_reinstall(&self) -> bool {
        matches!(self, JobError::Engine(error) if error.is_installation_error())
    }
}

/// What the worker says about a job, for the editor.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    Started {
        id: u64,
    },
    /// `detected_key`: with Key: Auto, the key the engine found in the input and kept the new
    /// notes to (e.g. "A:minor"), for the panel to show.
    Finished {
        id: u64,
        variations: usize,
        detected_key: Option<cadenza_engine::KeyScale>,
    },
    Failed {
        id: u64,
        error: JobError,
    },
    /// Something the musician should know about a finished job (e.g. chords reduced to the top
    /// line, a variation that came out with no new notes and was made again, a continuation
    /// that starts right after the music instead of after a long silent tail).
    Warning {
        id: u64,
        message: String,
    },
    /// A Jam answer went to the audio thread (and into the results list).
    JamAnswered {
        id: u64,
        call: Clip,
        answer: Clip,
    },
}

/// One event of a playback clip, in the clip's own ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaybackEvent {
    pub tick: u32,
    pub pitch: u8,
    /// 0 for a note-off.
    pub velocity: u8,
}

impl PlaybackEvent {
    pub fn is_note_on(&self) -> bool {
        self.velocity > 0
    }
}

/// A clip turned into a sorted event list, ready for the player. Built off the audio thread.
#[derive(Debug, Clone)]
pub struct PlaybackClip {
    /// Sorted by tick; at equal ticks note-offs come first so a re-struck pitch is released
    /// before it sounds again.
    pub events: Vec<PlaybackEvent>,
    pub length_ticks: u32,
    /// Which variation this is (for the editor), as chosen by whoever built it.
    pub variation: usize,
}

impl PlaybackClip {
    pub fn from_clip(clip: &Clip, variation: usize) -> Box<Self> {
        let length_ticks = clip.length_ticks().max(1);
        let mut events = Vec::with_capacity(clip.notes.len() * 2);
        for note in clip.notes.iter().filter(|n| n.start < length_ticks && n.end > n.start) {
            let Note { pitch, velocity, start, end, .. } = *note;
            events.push(PlaybackEvent { tick: start, pitch: pitch.min(127), velocity: velocity.clamp(1, 127) });
            events.push(PlaybackEvent { tick: end.min(length_ticks), pitch: pitch.min(127), velocity: 0 });
        }
        events.sort_by_key(|e| (e.tick, e.is_note_on(), e.pitch));
        Box::new(Self { events, length_ticks, variation })
    }
}
