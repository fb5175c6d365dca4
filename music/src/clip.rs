//! Clips and notes. Times are integer ticks at a fixed [`PPQ`] counted from the clip's first bar,
//! so arithmetic is exact and a clip survives save/load and MIDI export bit for bit.

use serde::{Deserialize, Serialize};

use crate::error::{MusicError, Result};

/// Ticks per quarter note for every clip in Cadenza (and for exported .mid files).
pub const PPQ: u32 = 480;

/// A time in ticks from the start of the clip's first bar.
pub type Tick = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Note {
    pub pitch: u8,
    pub velocity: u8,
    pub start: Tick,
    pub end: Tick,
    /// MIDI channel, 0-based (9 is the General MIDI drum channel).
    pub channel: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeSignature {
    pub numerator: u8,
    pub denominator: u8,
}

impl TimeSignature {
    pub const FOUR_FOUR: TimeSignature = TimeSignature { numerator: 4, denominator: 4 };

    pub fn ticks_per_bar(self) -> Tick {
        // A bar is `numerator` notes of length 4/denominator quarters.
        (PPQ * 4 * self.numerator as u32) / self.denominator.max(1) as u32
    }
}

impl Default for TimeSignature {
    fn default() -> Self {
        Self::FOUR_FOUR
    }
}

/// A phrase of music: the unit that is captured, generated, auditioned and dragged out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clip {
    /// Notes sorted by start (then pitch); `end > start` for every note.
    pub notes: Vec<Note>,
    pub bars: u16,
    pub time_signature: TimeSignature,
    pub is_drum: bool,
}

impl Clip {
    pub fn new(bars: u16, time_signature: TimeSignature, is_drum: bool) -> Self {
        Self { notes: Vec::new(), bars, time_signature, is_drum }
    }

    pub fn length_ticks(&self) -> Tick {
        self.time_signature.ticks_per_bar() * self.bars as Tick
    }

    /// Sorts notes by (start, pitch, end) so every consumer can rely on the order.
    pub fn sort(&mut self) {
        self.notes.sort_by_key(|n| (n.start, n.pitch, n.end, n.channel, n.velocity));
    }

    /// The `bars` bars starting at tick `start` (of this clip) as a new clip: notes whose onset
    /// lies in the window, shifted so the window starts at tick 0, ends clamped to the window end.
    /// This is how training windows and golden vectors are cut; bar lines are this clip's. A hit
    /// played up to half a step before the next window's downbeat lies inside this window but
    /// quantizes past its end, so encoders report it as dropped (`past_end`).
    pub fn window(&self, start: Tick, bars: u16) -> Result<Clip> {
        let len = self.time_signature.ticks_per_bar() as u64 * bars as u64;
        let end = start as u64 + len;
        if end > Tick::MAX as u64 {
            return Err(MusicError::InvalidWindow { start: start as u64, bars });
        }
        let end = end as Tick;
        let mut notes: Vec<Note> = self
            .notes
            .iter()
            .filter(|n| n.start >= start && n.start < end)
            .map(|n| Note { start: n.start - start, end: n.end.min(end) - start, ..*n })
            .collect();
        notes.retain(|n| n.end > n.start);
        let mut clip = Clip { notes, bars, time_signature: self.time_signature, is_drum: self.is_drum };
        clip.sort();
        Ok(clip)
    }

    /// Checks what MIDI export needs: pitch and channel in MIDI range, velocity 1..=127 (0 would
    /// be a note-off), `end > start`.
    pub fn validate(&self) -> Result<()> {
        for (index, n) in self.notes.iter().enumerate() {
            let reason = if n.pitch > 127 {
                "pitch > 127"
            } else if n.velocity == 0 || n.velocity > 127 {
                "velocity outside 1..=127"
            } else if n.channel > 15 {
                "channel > 15"
            } else if n.end <= n.start {
                "end <= start"
            } else {
                continue;
            };
            return Err(MusicError::InvalidNote { index, reason });
        }
        Ok(())
    }
}

/// A fixed-capacity list of notes for the audio thread: it is allocated once, off the audio
/// thread, and `try_push` refuses instead of growing.
#[derive(Clone, Debug)]
pub struct NoteBuffer {
    notes: Vec<Note>,
}

impl NoteBuffer {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { notes: Vec::with_capacity(capacity) }
    }

    pub fn capacity(&self) -> usize {
        self.notes.capacity()
    }

    pub fn len(&self) -> usize {
        self.notes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.notes.len() == self.notes.capacity()
    }

    /// Appends without ever reallocating; gives the note back when full.
    pub fn try_push(&mut self, note: Note) -> Result<(), Note> {
        if self.is_full() {
            return Err(note);
        }
        self.notes.push(note);
        Ok(())
    }

    pub fn clear(&mut self) {
        self.notes.clear();
    }

    pub fn as_slice(&self) -> &[Note] {
        &self.notes
    }

    pub fn as_mut_slice(&mut self) -> &mut [Note] {
        &mut self.notes
    }

    /// Copies the notes into a heap clip; call this off the audio thread.
    pub fn to_clip(&self, bars: u16, time_signature: TimeSignature, is_drum: bool) -> Clip {
        let mut clip = Clip { notes: self.notes.clone(), bars, time_signature, is_drum };
        clip.sort();
        clip
    }
}
