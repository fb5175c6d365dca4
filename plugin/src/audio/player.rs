//! Plays the selected clip as MIDI, locked to the host transport.
//!
//! The clip loops forever over its own length, anchored at song beat 0 so it stays bar-aligned
//! with the song. Every block is rendered from the host's position, so tempo changes,
//! loops and jumps are followed; an event lands on the first sample at or after its time, which
//! makes the output identical whatever the block size. Every sounding note is tracked so that
//! stop, relocate, clip change and deactivation release it: no hanging notes.

use cadenza_music::PPQ;

use super::events::{EventList, OutEvent};
use super::transport::BlockTiming;
use crate::messages::PlaybackClip;

/// Slack when comparing the host's position with where we expected it, in samples.
const RELOCATE_TOLERANCE_SAMPLES: f64 = 0.5;
/// Events less than this after a sample boundary count as on it (hosts' float positions drift
/// by far less than a thousandth of a sample).
pub const SAMPLE_EPSILON: f64 = 1e-3;

pub struct Player {
    clip: Option<Box<PlaybackClip>>,
    /// Channel each key is sounding on (`None` = silent).
    sounding: [Option<u8>; 128],
    /// Where the next block should start if the transport just keeps rolling.
    expected_next_beat: Option<f64>,
}

impl Player {
    pub fn new() -> Self {
        Self { clip: None, sounding: [None; 128], expected_next_beat: None }
    }

    pub fn clip(&self) -> Option<&PlaybackClip> {
        self.clip.as_deref()
    }

    /// Swaps in a new clip (or none) and hands back the old one, releasing its notes.
    pub fn replace_clip(&mut self, clip: Option<Box<PlaybackClip>>, out: &mut EventList) -> Option<Box<PlaybackClip>> {
        self.release_all(0, out);
        self.expected_next_beat = None;
        std::mem::replace(&mut self.clip, clip)
    }

    pub fn sounding_count(&self) -> usize {
        self.sounding.iter().filter(|s| s.is_some()).count()
    }

    /// Note-offs for everything that is sounding, at `timing`.
    pub fn release_all(&mut self, timing: u32, out: &mut EventList) {
        release(&mut self.sounding, timing, out);
    }

    /// Renders one block into `out`. `enabled` is the playback switch, `channel` the 0-based
    /// output channel.
    pub fn render(&mut self, timing: &BlockTiming, enabled: bool, channel: u8, out: &mut EventList) {
        let (Some(clip), Some(block_start)) = (self.clip.as_deref(), timing.pos_beats) else {
            self.stop(out);
            return;
        };
        if !enabled || !timing.playing || clip.events.is_empty() {
            self.stop(out);
            return;
        }

        let spb = timing.samples_per_beat;
        if let Some(expected) = self.expected_next_beat {
            if ((block_start - expected) * spb).abs() > RELOCATE_TOLERANCE_SAMPLES {
                release(&mut self.sounding, 0, out);
            }
        }
        let block_len = timing.block_len;
        self.expected_next_beat = Some(block_start + timing.block_beats());

        let clip_beats = clip.length_ticks as f64 / PPQ as f64;
        let block_end = block_start + (block_len as f64 + 1.0) / spb;
        // Loop passes that may hold events of this block (one sample of slack each side).
        let first_pass = ((block_start - 1.0 / spb) / clip_beats).floor() as i64;
        let last_pass = (block_end / clip_beats).floor() as i64;
        for pass in first_pass..=last_pass {
            let pass_start = pass as f64 * clip_beats;
            let from_tick = ((block_start - pass_start - 1.0 / spb) * PPQ as f64).floor().max(0.0) as u32;
            let first = clip.events.partition_point(|e| e.tick < from_tick);
            for event in &clip.events[first..] {
                let event_beat = pass_start + event.tick as f64 / PPQ as f64;
                let sample = ((event_beat - block_start) * spb - SAMPLE_EPSILON).ceil();
                if sample >= block_len as f64 {
                    break;
                }
                if sample < 0.0 {
                    continue;
                }
                let sample = sample as u32;
                let key = event.pitch as usize;
                if event.is_note_on() {
                    if let Some(ch) = self.sounding[key].take() {
                        out.push(OutEvent { timing: sample, channel: ch, pitch: event.pitch, velocity: 0 });
                    }
                    self.sounding[key] = Some(channel);
                    out.push(OutEvent { timing: sample, channel, pitch: event.pitch, velocity: event.velocity });
                } else if let Some(ch) = self.sounding[key].take() {
                    out.push(OutEvent { timing: sample, channel: ch, pitch: event.pitch, velocity: 0 });
                }
            }
        }
    }

    fn stop(&mut self, out: &mut EventList) {
        self.release_all(0, out);
        self.expected_next_beat = None;
    }
}

fn release(sounding: &mut [Option<u8>; 128], timing: u32, out: &mut EventList) {
    for (pitch, channel) in sounding.iter_mut().enumerate() {
        if let Some(ch) = channel.take() {
            out.push(OutEvent { timing, channel: ch, pitch: pitch as u8, velocity: 0 });
        }
    }
}

impl Default for Player {
    fn default() -> Self {
        Self::new()
    }
}
