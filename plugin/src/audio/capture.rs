//! Records incoming notes against the host's musical position into a fixed ring of the most
//! recent notes, and copies "the last N bars" out of it on request.
//!
//! Capture records the way a DAW records in replace mode:
//! - A **take** is one uninterrupted pass of the transport: it ends when the transport stops,
//!   when Capture is disarmed, or when the song position jumps (a relocation, or a loop/cycle
//!   wrapping around), and the next pass is a new take.
//! - A take that records at least one note **replaces**, from where the pass began up to the
//!   playhead, every note older takes left there. A pass that only listens replaces nothing.
//!   So loop recording over the same bars keeps only the newest pass.
//! - **"The last N bars"** are the N bars that end with the bar of the newest take's latest
//!   note-on: the bar under the playhead while you play, or the one you just finished. A note
//!   played further along the song in an older take does not move that window.
//! - **Meter changes** are never re-barred: the window only reaches back to the first bar line
//!   of the host's current meter (bars recorded in an earlier meter are left out, so Input A
//!   holds fewer bars right after a meter change).

use cadenza_music::{Note, NoteBuffer, TimeSignature, PPQ};

/// Finished notes kept; the oldest are overwritten first.
pub const CAPTURE_RING_SIZE: usize = 4096;
const KEYS: usize = 16 * 128;

/// A block that starts further back than this from where the last one ended (quarter notes) is a
/// jump: host positions carry rounding, a loop wrap or relocation is far larger.
const JUMP_BACK_BEATS: f64 = 1.0e-3;
/// A forward skip larger than this (quarter notes) is a relocation, not tempo-ramp rounding.
const JUMP_FORWARD_BEATS: f64 = 0.25;

#[derive(Debug, Clone, Copy, Default)]
struct CapturedNote {
    start_beat: f64,
    end_beat: f64,
    pitch: u8,
    velocity: u8,
    channel: u8,
    /// The take that recorded it.
    take: u32,
    /// A newer take recorded over it.
    replaced: bool,
}

pub struct Capture {
    ring: Box<[CapturedNote]>,
    /// Index the next finished note is written to.
    head: usize,
    len: usize,
    /// Start beat and velocity of notes being held, per channel and key (NaN = not held).
    held_since: Box<[f64]>,
    held_velocity: Box<[u8]>,
    /// Bar length at the time notes were captured (the snapshot's bar grid), in quarter notes.
    beats_per_bar: f64,
    time_sig: (u8, u8),
    /// The bar grid's offset from beat 0 (see `BlockTiming::bar_origin`).
    bar_origin: f64,
    /// The take being recorded (or the last one, while stopped).
    take: u32,
    /// Where the current pass began (quarter notes); `None` while no pass is rolling.
    pass_start: Option<f64>,
    /// Where the next block of the current pass should start (quarter notes).
    expected_pos: f64,
    /// Whether the current take has recorded a note-on (only then does it replace older takes).
    take_recorded: bool,
    /// The newest take that recorded a note and its latest onset: anchors "the last N bars".
    latest: Option<(u32, f64)>,
    /// Whether the host has told the meter yet, and from which beat the current meter holds
    /// (the window never reaches back past it).
    meter_known: bool,
    meter_since: f64,
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
            take: 0,
            pass_start: None,
            expected_pos: 0.0,
            take_recorded: false,
            latest: None,
            meter_known: false,
            meter_since: f64::NEG_INFINITY,
        }
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.held_since.fill(f64::NAN);
        self.pass_start = None;
        self.take_recorded = false;
        self.latest = None;
    }

    /// Notes in the ring, including ones a newer take replaced.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The take being (or last) recorded; each pass of the transport gets a new number.
    pub fn take(&self) -> u32 {
        self.take
    }

    pub fn set_meter(&mut self, beats_per_bar: f64, time_sig: (u8, u8), bar_origin: f64) {
        // Only a new time signature is a meter change (a bar grid that moves is not).
        if self.meter_known && time_sig != self.time_sig {
            // The new meter holds from where the transport is now.
            self.meter_since = self.expected_pos;
        }
        self.meter_known = true;
        self.beats_per_bar = beats_per_bar;
        self.time_sig = time_sig;
        self.bar_origin = bar_origin;
    }

    /// Follows the transport once per block, before the block's notes are recorded: `rolling` is
    /// "playing with Capture armed", `block` the song positions (quarter notes) of the block's
    /// first sample and of the sample after its last. Starts a new take when a pass begins or
    /// the position jumps, and ends the take when the pass stops.
    pub fn follow_transport(&mut self, rolling: bool, block: Option<(f64, f64)>) {
        let (start, end) = match (rolling, block) {
            (true, Some(block)) => block,
            _ => {
                if self.pass_start.is_some() {
                    self.end_take(self.expected_pos);
                }
                return;
            }
        };
        if self.pass_start.is_some() {
            let expected = self.expected_pos;
            if start < expected - JUMP_BACK_BEATS || start > expected + JUMP_FORWARD_BEATS {
                self.end_take(expected);
            }
        }
        if self.pass_start.is_none() {
            self.take = self.take.wrapping_add(1);
            self.pass_start = Some(start);
            self.take_recorded = false;
        }
        self.expected_pos = end;
    }

    /// Closes the current take at `at`: held notes end there, and the range the take covered
    /// replaces older takes' notes for good.
    fn end_take(&mut self, at: f64) {
        for key in 0..KEYS {
            if !self.held_since[key].is_nan() {
                self.note_off((key / 128) as u8, (key % 128) as u8, at);
            }
        }
        if let Some(range) = self.replacing_range() {
            let take = self.take;
            let oldest = (self.head + self.ring.len() - self.len) % self.ring.len();
            for i in 0..self.len {
                let index = (oldest + i) % self.ring.len();
                let note = &mut self.ring[index];
                if note.take != take && range.0 <= note.start_beat && note.start_beat < range.1 {
                    note.replaced = true;
                }
            }
        }
        self.pass_start = None;
        self.take_recorded = false;
    }

    /// The song range (quarter notes) the current take replaces, if it recorded anything.
    fn replacing_range(&self) -> Option<(f64, f64)> {
        match self.pass_start {
            Some(start) if self.take_recorded => Some((start, self.expected_pos.max(start))),
            _ => None,
        }
    }

    pub fn note_on(&mut self, channel: u8, pitch: u8, velocity: u8, beat: f64) {
        let key = key_index(channel, pitch);
        if !self.held_since[key].is_nan() {
            // Same key struck again before its note-off: close the earlier note here.
            self.note_off(channel, pitch, beat);
        }
        self.held_since[key] = beat;
        self.held_velocity[key] = velocity.max(1);
        self.take_recorded = true;
        self.latest = Some(match self.latest {
            Some((take, onset)) if take == self.take => (take, onset.max(beat)),
            _ => (self.take, beat),
        });
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
            take: self.take,
            replaced: false,
        };
        self.head = (self.head + 1) % self.ring.len();
        self.len = (self.len + 1).min(self.ring.len());
    }

    /// Copies "the last `bars` bars" (see the module docs) into `out`, with ticks counted from
    /// the first of those bars; notes a newer take replaced are left out, notes still held end
    /// at `now_beat`. Returns the number of bars written (0 when nothing was captured).
    pub fn snapshot(&self, bars: u16, now_beat: f64, out: &mut NoteBuffer) -> u16 {
        out.clear();
        let Some((_, latest)) = self.latest else { return 0 };
        let bar_len = self.beats_per_bar;
        let origin = self.bar_origin;
        let window_end = origin + (((latest - origin) / bar_len).floor() + 1.0) * bar_len;
        let mut window_start = window_end - bars as f64 * bar_len;
        if window_start < 0.0 {
            // Whole bars only: drop the ones before the song starts.
            window_start += ((-window_start) / bar_len).ceil() * bar_len;
        }
        if window_start < self.meter_since - 1e-9 {
            // Never re-bar: only the bars of the current meter (from its first bar line).
            window_start += ((self.meter_since - window_start) / bar_len - 1e-9).ceil() * bar_len;
            if window_start >= window_end {
                return 0;
            }
        }
        let to_tick = |beat: f64| ((beat - window_start) * PPQ as f64).round().max(0.0) as u32;
        let window_ticks = to_tick(window_end);
        // The open take replaces older notes up to the playhead already.
        let open_range = self.replacing_range();
        let take = self.take;

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
            let replaced_now =
                open_range.is_some_and(|(from, to)| n.take != take && from <= n.start_beat && n.start_beat < to);
            if !n.replaced && !replaced_now {
                push(n.start_beat, n.end_beat, n.pitch, n.velocity, n.channel);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_change_is_never_re_barred() {
        let mut c = Capture::new();
        let mut out = NoteBuffer::with_capacity(64);
        // Two bars of 3/4 (3 quarters each), then 4/4 from beat 6.
        c.set_meter(3.0, (3, 4), 0.0);
        c.follow_transport(true, Some((0.0, 6.0)));
        c.note_on(0, 60, 100, 0.0);
        c.note_off(0, 60, 1.0);
        c.note_on(0, 62, 100, 3.0);
        c.note_off(0, 62, 4.0);
        c.set_meter(4.0, (4, 4), 6.0 % 4.0);
        c.follow_transport(true, Some((6.0, 14.0)));
        c.note_on(0, 64, 100, 6.0);
        c.note_off(0, 64, 7.0);
        c.note_on(0, 65, 100, 10.0);
        c.note_off(0, 65, 11.0);
        // Four bars asked for: only the two 4/4 bars come back, the 3/4 notes are left out.
        let bars = c.snapshot(4, 14.0, &mut out);
        assert_eq!(bars, 2);
        assert_eq!(c.time_signature(), TimeSignature::FOUR_FOUR);
        let pitches: Vec<(u8, u32)> = out.as_slice().iter().map(|n| (n.pitch, n.start)).collect();
        assert_eq!(pitches, vec![(64, 0), (65, 1920)]);
    }
}
