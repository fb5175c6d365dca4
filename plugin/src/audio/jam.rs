//! Jam: Cadenza answers the musician in time, while the transport rolls.
//!
//! The audio thread's part only listens, says when a call has ended, and plays the answer it is
//! given (the worker makes the answer: a Continue primed on the call):
//! - **After a phrase** (default): a call ends when no note-on came for the Jam gap (quarter
//!   notes, default 1) and no key is held (a held note never ends a call: the call then ends when
//!   it is released, if that is later). The answer starts on the first bar line at or after that
//!   point and
//!   lasts as long as the call (the bars from its first to its last note-on), or the Answer
//!   length. So that the answer can be ready on that bar line, the call is sent as soon as the
//!   musician goes silent; a note-on before the gap is over simply continues the call, and the
//!   answer to the shorter call is dropped (an engine answer costs milliseconds).
//! - **Every N bars**: the song's bars are grouped in turns of N (counted from the host's bar
//!   grid): even turns are calls, odd turns answers. The call is sent one 16th note before its
//!   turn ends so the answer can start on the bar line; a note started in that last 16th is not
//!   part of the call.
//! - **Late answers**: an answer that arrives after its bar line starts on the next bar line
//!   (never mid-bar); the editor shows how many were late. An answer to a call that was
//!   superseded (the musician went on playing) is dropped.
//! - **Barge-in**: a note-on while an answer sounds (or is on its way) stops it at once with
//!   note-offs at that sample (or lets it finish its bar, by the Barge-in parameter), and that
//!   note starts the next call.
//! - Stop, relocation, loop jumps and switching Jam off release every note and forget the call.
//!
//! Everything here is arithmetic over fixed arrays: no allocation, no lock, no waiting.

use cadenza_music::PPQ;

use super::events::{EventList, OutEvent};
use super::player::SAMPLE_EPSILON;
use super::transport::BlockTiming;
use crate::channels::JamPhase;
use crate::messages::{JamAnswer, PlaybackClip};
use crate::params::{BargeIn, JamTrigger};

/// How long before the turn's bar line an every-N-bars call is sent, in quarter notes (a 16th).
pub const EVERY_BARS_LEAD_BEATS: f64 = 0.25;
/// The longest answer, in bars.
pub const MAX_ANSWER_BARS: u16 = 16;
/// Slack when comparing the host's position with where the last block ended, in samples.
const RELOCATE_TOLERANCE_SAMPLES: f64 = 0.5;

/// The Jam parameters as one block sees them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JamSettings {
    pub trigger: JamTrigger,
    /// Quarter notes without a note-on that end a call.
    pub gap_beats: f64,
    /// Every-N-bars turn length, in bars.
    pub every_bars: u16,
    /// Answer length in bars; 0 = as long as the call.
    pub answer_bars: u16,
    pub barge_in: BargeIn,
}

/// A call that has ended: what the audio thread sends the worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallEnded {
    pub call_id: u32,
    /// The call's length, in bars (the capture snapshot takes these, plus earlier context).
    pub call_bars: u16,
    pub answer_bars: u16,
}

/// The answer being played, or about to be.
struct Answer {
    clip: Box<PlaybackClip>,
    /// Song position of its first downbeat, in quarter notes.
    start: f64,
    /// Where it stops sounding (its length, or earlier after a barge-in), in quarter notes.
    end: f64,
    /// Its start has been reached (the call it answers is over).
    began: bool,
    call_id: u32,
}

pub struct Jam {
    phase: JamPhase,
    /// First and latest note-on of the call being played, in quarter notes.
    call: Option<(f64, f64)>,
    /// When the last note of the call ended (quarter notes).
    last_release: f64,
    /// Keys the musician holds, per channel and pitch.
    held: [bool; 16 * 128],
    held_count: u16,
    /// The call was sent at its last silence and nothing was played since.
    call_sent: bool,
    next_call_id: u32,
    /// The call whose answer is awaited, its bar line and its length in bars.
    awaiting: Option<(u32, f64, u16)>,
    answer: Option<Answer>,
    /// A clip to hand back to the worker when the retired queue has room.
    to_retire: Option<Box<PlaybackClip>>,
    /// Every-N-bars: the turn whose call was already sent.
    sent_turn: Option<i64>,
    /// Channel each key of the answer is sounding on.
    sounding: [Option<u8>; 128],
    expected_next_beat: Option<f64>,
    late_answers: u32,
    /// The call whose answer began to sound last.
    started_call: u32,
}

impl Jam {
    pub fn new() -> Self {
        Self {
            phase: JamPhase::Off,
            call: None,
            last_release: 0.0,
            held: [false; 16 * 128],
            held_count: 0,
            call_sent: false,
            next_call_id: 1,
            awaiting: None,
            answer: None,
            to_retire: None,
            sent_turn: None,
            sounding: [None; 128],
            expected_next_beat: None,
            late_answers: 0,
            started_call: 0,
        }
    }

    pub fn phase(&self) -> JamPhase {
        self.phase
    }

    /// The call whose answer began to sound last (0 = none).
    pub fn started_call(&self) -> u32 {
        self.started_call
    }

    /// Answers that came after their bar line and started a bar line later.
    pub fn late_answers(&self) -> u32 {
        self.late_answers
    }

    /// A clip Jam let go of, for the worker to free (take it only when it can be retired).
    pub fn take_retired(&mut self) -> Option<Box<PlaybackClip>> {
        self.to_retire.take()
    }

    /// Whether Jam holds a clip it still has to hand back (it takes no new answer until then).
    pub fn has_clip_to_retire(&self) -> bool {
        self.to_retire.is_some()
    }

    /// Starts a block: follows the switch and the transport. Stop, relocation or Jam off
    /// release every note at sample 0 and forget the call.
    pub fn begin_block(&mut self, on: bool, timing: &BlockTiming, out: &mut EventList) {
        let rolling = on && timing.playing && timing.pos_beats.is_some();
        let jumped = match (self.expected_next_beat, timing.pos_beats) {
            (Some(expected), Some(pos)) => {
                ((pos - expected) * timing.samples_per_beat).abs() > RELOCATE_TOLERANCE_SAMPLES
            }
            _ => false,
        };
        if !rolling || jumped {
            self.reset(0, out);
        }
        self.phase = match (on, self.phase) {
            (false, _) => JamPhase::Off,
            (true, JamPhase::Off) => JamPhase::Listening,
            (true, phase) => phase,
        };
        self.expected_next_beat = if rolling { timing.beat_at(timing.block_len as u32) } else { None };
    }

    fn reset(&mut self, at: u32, out: &mut EventList) {
        self.release(at, out);
        self.drop_answer();
        self.call = None;
        self.call_sent = false;
        self.held = [false; 16 * 128];
        self.held_count = 0;
        self.awaiting = None;
        self.sent_turn = None;
        if self.phase != JamPhase::Off {
            self.phase = JamPhase::Listening;
        }
    }

    /// Lets go of the answer: its clip waits in `to_retire` for the worker. Should that slot
    /// still be taken (the worker has not collected for a while), the answer is only silenced
    /// and kept: nothing is ever freed on the audio thread.
    fn drop_answer(&mut self) {
        if self.to_retire.is_none() {
            self.to_retire = self.answer.take().map(|answer| answer.clip);
        } else if let Some(answer) = &mut self.answer {
            answer.end = f64::NEG_INFINITY;
        }
    }

    fn release(&mut self, at: u32, out: &mut EventList) {
        for (pitch, channel) in self.sounding.iter_mut().enumerate() {
            if let Some(ch) = channel.take() {
                out.push(OutEvent { timing: at, channel: ch, pitch: pitch as u8, velocity: 0 });
            }
        }
    }

    /// A note-on the musician played at `beat` (sample `at` of this block) on `channel`.
    #[allow(clippy::too_many_arguments)]
    pub fn note_on(
        &mut self,
        channel: u8,
        pitch: u8,
        beat: f64,
        at: u32,
        settings: &JamSettings,
        timing: &BlockTiming,
        out: &mut EventList,
    ) {
        if self.phase == JamPhase::Off {
            return;
        }
        let key = key_index(channel, pitch);
        if !self.held[key] {
            self.held[key] = true;
            self.held_count += 1;
        }
        let answer_started = self.answer.as_ref().is_some_and(|answer| beat >= answer.start);
        match self.phase {
            JamPhase::Answering if answer_started => {
                match settings.barge_in {
                    BargeIn::StopAtOnce => {
                        self.release(at, out);
                        self.drop_answer();
                        self.phase = JamPhase::Listening;
                    }
                    BargeIn::FinishBar => {
                        if let Some(answer) = &mut self.answer {
                            answer.end = answer.end.min(next_bar_line_after(beat, timing));
                        }
                    }
                }
                // This note starts the next call (the answered one ended when the answer began).
            }
            // Played again within the gap: the call goes on; the answer to its shorter self is
            // dropped (or ignored when it arrives).
            JamPhase::Answering | JamPhase::Thinking => {
                self.drop_answer();
                self.awaiting = None;
                self.phase = JamPhase::Listening;
            }
            _ => {}
        }
        self.call_sent = false;
        self.call = Some(match self.call {
            Some((first, _)) => (first, beat),
            None => (beat, beat),
        });
    }

    /// A note-off the musician played at `beat`.
    pub fn note_off(&mut self, channel: u8, pitch: u8, beat: f64) {
        let key = key_index(channel, pitch);
        if std::mem::take(&mut self.held[key]) {
            self.held_count -= 1;
            self.last_release = beat;
        }
    }

    /// After the block's notes: says whether a call has ended (the caller sends it).
    pub fn poll_call(&mut self, settings: &JamSettings, timing: &BlockTiming) -> Option<CallEnded> {
        if self.phase != JamPhase::Listening {
            return None;
        }
        let (Some(block_start), Some(block_end)) = (timing.pos_beats, timing.beat_at(timing.block_len as u32)) else {
            return None;
        };
        let (first, last) = self.call?;
        let bar = timing.beats_per_bar;
        let (answer_at, call_bars) = match settings.trigger {
            JamTrigger::AfterPhrase => {
                if self.held_count > 0 || self.call_sent {
                    return None;
                }
                let gap_end = (last + settings.gap_beats.max(0.0)).max(self.last_release);
                let first_bar = bar_line_at_or_before(first, timing);
                let last_bar_end = next_bar_line_after(last, timing);
                self.call_sent = true;
                (bar_line_at_or_after(gap_end, timing), ((last_bar_end - first_bar) / bar).round() as u16)
            }
            JamTrigger::EveryBars => {
                let turn_len = bar * settings.every_bars.max(1) as f64;
                let turn = ((block_end - timing.bar_origin + EVERY_BARS_LEAD_BEATS) / turn_len).floor() as i64 - 1;
                let turn_end = timing.bar_origin + (turn + 1) as f64 * turn_len;
                let send_at = turn_end - EVERY_BARS_LEAD_BEATS;
                let is_call_turn = turn.rem_euclid(2) == 0;
                if !is_call_turn || self.sent_turn == Some(turn) || block_end < send_at || block_start > turn_end {
                    return None;
                }
                self.sent_turn = Some(turn);
                if last < turn_end - turn_len {
                    // Nothing played in this turn: nothing to answer.
                    self.call = None;
                    return None;
                }
                (turn_end, settings.every_bars.max(1))
            }
        };
        let answer_bars = match (settings.trigger, settings.answer_bars) {
            (JamTrigger::EveryBars, _) => settings.every_bars.max(1),
            (_, 0) => call_bars.max(1),
            (_, bars) => bars,
        }
        .min(MAX_ANSWER_BARS);
        let call_id = self.next_call_id;
        self.next_call_id = self.next_call_id.wrapping_add(1).max(1);
        self.awaiting = Some((call_id, answer_at, answer_bars));
        if settings.trigger == JamTrigger::EveryBars {
            self.call = None;
        }
        self.phase = JamPhase::Thinking;
        Some(CallEnded { call_id, call_bars: call_bars.max(1), answer_bars })
    }

    /// An answer from the worker. Returns it when it is not the one awaited (to be retired).
    pub fn receive(&mut self, answer: JamAnswer, timing: &BlockTiming) -> Option<Box<PlaybackClip>> {
        let Some((call_id, answer_at, bars)) = self.awaiting else { return Some(answer.clip) };
        if answer.call_id != call_id || self.answer.is_some() {
            return Some(answer.clip);
        }
        self.awaiting = None;
        let now = timing.pos_beats.unwrap_or(answer_at);
        let start = if now <= answer_at + 1e-9 {
            answer_at
        } else {
            self.late_answers += 1;
            bar_line_at_or_after(now, timing)
        };
        let end = start + bars as f64 * timing.beats_per_bar;
        self.answer = Some(Answer { clip: answer.clip, start, end, began: false, call_id });
        self.phase = JamPhase::Answering;
        None
    }

    /// Plays the answer's events that fall on samples `from..to` of this block on `channel`
    /// (0-based). The caller renders the block in pieces, split at the musician's note-ons, so
    /// a barge-in cuts the answer exactly where it happens.
    pub fn render(&mut self, timing: &BlockTiming, from: u32, to: u32, channel: u8, out: &mut EventList) {
        let (Some(answer), Some(block_start)) = (&self.answer, timing.pos_beats) else { return };
        if !answer.began && block_start + to as f64 / timing.samples_per_beat > answer.start {
            // The answer has begun: the call it answers is over.
            self.call = None;
            self.call_sent = false;
            if let Some(answer) = &mut self.answer {
                answer.began = true;
                self.started_call = answer.call_id;
            }
        }
        let Some(answer) = &self.answer else { return };
        let spb = timing.samples_per_beat;
        let sample_of = |beat: f64| ((beat - block_start) * spb - SAMPLE_EPSILON).ceil();
        let end_sample = sample_of(answer.end);
        let from_beat = block_start + (from as f64 - 1.0) / spb;
        let from_tick = ((from_beat - answer.start) * PPQ as f64).floor().max(0.0) as u32;
        let first = answer.clip.events.partition_point(|e| e.tick < from_tick);
        for event in &answer.clip.events[first..] {
            let sample = sample_of(answer.start + event.tick as f64 / PPQ as f64);
            if sample >= to as f64 || sample >= end_sample {
                break;
            }
            if sample < from as f64 {
                continue;
            }
            let at = sample as u32;
            let key = event.pitch as usize;
            if event.is_note_on() {
                if let Some(ch) = self.sounding[key].take() {
                    out.push(OutEvent { timing: at, channel: ch, pitch: event.pitch, velocity: 0 });
                }
                self.sounding[key] = Some(channel);
                out.push(OutEvent { timing: at, channel, pitch: event.pitch, velocity: event.velocity });
            } else if let Some(ch) = self.sounding[key].take() {
                out.push(OutEvent { timing: at, channel: ch, pitch: event.pitch, velocity: 0 });
            }
        }
        if end_sample < to as f64 && end_sample >= from as f64 - 1.0 {
            // The answer is over (or cut at its barge-in bar line): silence, listen again.
            self.release(end_sample.max(0.0) as u32, out);
            self.drop_answer();
            self.phase = JamPhase::Listening;
        } else if end_sample < from as f64 {
            self.release(from, out);
            self.drop_answer();
            self.phase = JamPhase::Listening;
        }
    }
}

impl Default for Jam {
    fn default() -> Self {
        Self::new()
    }
}

fn key_index(channel: u8, pitch: u8) -> usize {
    (channel as usize % 16) * 128 + (pitch as usize % 128)
}

/// The bar line at or before `beat`, on the host's bar grid.
fn bar_line_at_or_before(beat: f64, timing: &BlockTiming) -> f64 {
    let bar = timing.beats_per_bar;
    timing.bar_origin + ((beat - timing.bar_origin) / bar + 1e-9).floor() * bar
}

/// The first bar line at or after `beat`.
fn bar_line_at_or_after(beat: f64, timing: &BlockTiming) -> f64 {
    let bar = timing.beats_per_bar;
    timing.bar_origin + ((beat - timing.bar_origin) / bar - 1e-9).ceil() * bar
}

/// The first bar line strictly after `beat` (the end of the bar `beat` is in).
fn next_bar_line_after(beat: f64, timing: &BlockTiming) -> f64 {
    bar_line_at_or_before(beat, timing) + timing.beats_per_bar
}
