//! The host transport reduced to what the real-time code needs, with safe defaults for hosts
//! that leave fields out.

use nice_plug::prelude::Transport;

/// Tempo used when the host gives none.
pub const DEFAULT_TEMPO: f64 = 120.0;
/// Tempos outside this range are treated as nonsense and clamped.
pub const TEMPO_RANGE: (f64, f64) = (1.0, 2000.0);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockTiming {
    pub playing: bool,
    /// Song position at the first sample of the block, in quarter notes, when known.
    pub pos_beats: Option<f64>,
    pub tempo: f64,
    pub samples_per_beat: f64,
    /// Quarter notes per bar (4/4 = 4, 6/8 = 3).
    pub beats_per_bar: f64,
    pub time_sig: (u8, u8),
    /// Where the host's bar grid starts, within one bar: after a meter change mid-song the bars
    /// no longer count from beat 0. Zero for hosts that give no bar start.
    pub bar_origin: f64,
    pub block_len: usize,
}

impl BlockTiming {
    pub fn from_transport(transport: &Transport, block_len: usize) -> Self {
        let tempo =
            transport.tempo.filter(|t| t.is_finite()).unwrap_or(DEFAULT_TEMPO).clamp(TEMPO_RANGE.0, TEMPO_RANGE.1);
        let sample_rate = if transport.sample_rate.is_finite() && transport.sample_rate > 0.0 {
            transport.sample_rate as f64
        } else {
            44_100.0
        };
        let numerator = transport.time_sig_numerator.filter(|n| (1..=64).contains(n)).unwrap_or(4);
        let denominator = transport.time_sig_denominator.filter(|d| [1, 2, 4, 8, 16, 32].contains(d)).unwrap_or(4);
        let beats_per_bar = numerator as f64 * 4.0 / denominator as f64;
        let bar_origin = transport
            .bar_start_pos_beats
            .filter(|b| b.is_finite())
            .map_or(0.0, |start| start.rem_euclid(beats_per_bar));
        Self {
            playing: transport.playing,
            pos_beats: transport.pos_beats().filter(|b| b.is_finite()),
            tempo,
            samples_per_beat: sample_rate * 60.0 / tempo,
            beats_per_bar,
            time_sig: (numerator as u8, denominator as u8),
            bar_origin,
            block_len,
        }
    }

    /// The song position of a sample inside this block.
    pub fn beat_at(&self, sample: u32) -> Option<f64> {
        self.pos_beats.map(|start| start + sample as f64 / self.samples_per_beat)
    }

    pub fn block_beats(&self) -> f64 {
        self.block_len as f64 / self.samples_per_beat
    }
}
