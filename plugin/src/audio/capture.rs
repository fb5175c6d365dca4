//! Records incoming notes against the host's musical position into a fixed ring of the most
//! recent notes, and copies "the last N bars" out of it on request.

use cadenza_music::{Note, NoteBuffer, TimeSignature, PPQ};

/// Finished notes kept; the oldest are overwritten first.
pub const CAPTURE_RING_SIZE: usize = 4096;
const KEYS: usize = 16 * 128;

#[derive(Debug, Clone, Copy, Default)]
struct CapturedNote {
    start_beat: f64,
    end_beat: f64,
    pitch: u8,
    velocity: u8,
    channel: u8,
}

pub struct Capture {
    ring: Box<[CapturedNote]>,
    /// Index the next finished note is written to.
    head: usize,
    len: usize,
    /// Start beat and velocity of notes being held, per channel and key (NaN = not held).
    held_since: Box<[f64]>,
    held_velocity: Box<[u8]>,
    /// Bar length at the time notes were captured (the snapshot's bar grid).
    beats_per_bar: f64,
    time_sig: (u8, u8),
    /// The bar grid's offset from beat 0 (see `BlockTiming::bar_origin`).
    bar_origin: f64,
    /// Latest onset seen, which anchors "the last N bars".
    latest_onset: Option<f64>,
}

impl Capture {
    pub fn new() -> Self {
        Self {
            ring: vec![CapturedNote::default(); CAPTURE_RING_SIZE].into_boxed_slice(),
            head: 0,
            len: 0,
            held_since: vec![f64::NAN; KEYS].into_boxed_slice(),
            held_velocity: vec![0; KEYS].into_boxed_slice(),
            beats_per_bar: 4.0,
            time_sig: (4, 4),
            bar_origin: 0.0,
            latest_onset: None,
        }
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.held_since.fill(f64::NAN);
        self.latest_onset = None;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn set_meter(&mut self, beats_per_bar: f64, time_sig: (u8, u8), bar_origin: f64) {
        self.beats_per_bar = beats_per_bar;
        self.time_sig = time_sig;
        self.bar_origin = bar_origin;
    }

    pub fn note_on(&mut self, channel: u8, pitch: u8, velocity: u8, beat: f64) {
        let key = key_index(channel, pitch);
        if !self.held_since[key].is_nan() {
            // Same key struck again before its note-off: close the earlier note here.
            self.note_off(channel, pitch, beat);
        }
        self.held_since[key] = beat;
        self.held_velocity[key] = velocity.max(1);
        self.latest_onset = Some(self.latest_onset.map_or(beat, |b| b.max(beat)));
    }

    pub fn note_off(&mut self, channel: u8, pitch: u8, beat: f64) {
        let key = key_index(channel, pitch);
        let start_beat = self.held_since[key];
        if start_beat.is_nan() {
            return;
        }
        self.held_since[key] = f64::NAN;
        self.ring[self.head] = CapturedNote {
            start_beat,
            end_beat: beat.max(start_beat),
            pitch,
            velocity: self.held_velocity[key],
            channel,
        };
        self.head = (self.head + 1) % self.ring.len();
        self.len = (self.len + 1).min(self.ring.len());
    }

    /// Copies the `bars` bars that end with the bar holding the latest onset into `out`, with
    /// ticks counted from the first of those bars. Notes still held end at `now_beat`.
    /// Returns the number of bars written (0 when nothing was captured).
    pub fn snapshot(&self, bars: u16, now_beat: f64, out: &mut NoteBuffer) -> u16 {
        out.clear();
        let Some(latest) = self.latest_onset else { return 0 };
        let bar_len = self.beats_per_bar;
        let origin = self.bar_origin;
        let window_end = origin + (((latest - origin) / bar_len).floor() + 1.0) * bar_len;
        let mut window_start = window_end - bars as f64 * bar_len;
        if window_start < 0.0 {
            // Whole bars only: drop the ones before the song starts.
            window_start += ((-window_start) / bar_len).ceil() * bar_len;
        }
        let to_tick = |beat: f64| ((beat - window_start) * PPQ as f64).round().max(0.0) as u32;
        let window_ticks = to_tick(window_end);

        let mut push = |start: f64, end: f64, pitch: u8, velocity: u8, channel: u8| {
            if start < window_start || start >= window_end {
                return;
            }
            let start_tick = to_tick(start);
            let end_tick = to_tick(end.min(window_end)).max(start_tick + 1).min(window_ticks.max(start_tick + 1));
            let _ = out.try_push(Note { pitch, velocity, start: start_tick, end: end_tick, channel });
        };
        // Oldest first, so a full buffer keeps the beginning of the phrase intact.
        let oldest = (self.head + self.ring.len() - self.len) % self.ring.len();
        for i in 0..self.len {
            let n = self.ring[(oldest + i) % self.ring.len()];
            push(n.start_beat, n.end_beat, n.pitch, n.velocity, n.channel);
        }
        for (key, &start) in self.held_since.iter().enumerate() {
            if !start.is_nan() {
                let channel = (key / 128) as u8;
                let pitch = (key % 128) as u8;
                push(start, now_beat.max(start), pitch, self.held_velocity[key], channel);
            }
        }
        sort_notes(out.as_mut_slice());
        ((window_end - window_start) / bar_len).round() as u16
    }

    pub fn time_signature(&self) -> TimeSignature {
        TimeSignature { numerator: self.time_sig.0, denominator: self.time_sig.1 }
    }
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

fn key_index(channel: u8, pitch: u8) -> usize {
    (channel as usize % 16) * 128 + (pitch as usize % 128)
}

/// `sort_unstable` sorts in place without allocating (the stable sort may allocate).
fn sort_notes(notes: &mut [Note]) {
    notes.sort_unstable_by_key(|n| (n.start, n.pitch, n.channel, n.end, n.velocity));
}
