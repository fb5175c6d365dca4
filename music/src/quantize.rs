//! Quantization to the 16th-note grid of the spec: 120 ticks per step, counted from the clip's
//! first downbeat, nearest step with ties going to the later step. Each note keeps its
//! micro-timing offset (onset minus grid time) because the groove encoding needs it.
//!
//! Only 4/4 clips are quantized; anything else is `TimeSignatureUnsupported`, never re-barred.

use crate::clip::{Clip, Note, Tick, TimeSignature};
use crate::error::{MusicError, Result};
use crate::spec::{STEPS_PER_BAR, TICKS_PER_STEP};

/// The step a tick belongs to: `floor((tick + 60) / 120)`.
pub fn step_of_tick(tick: Tick) -> u32 {
    ((tick as u64 + TICKS_PER_STEP as u64 / 2) / TICKS_PER_STEP as u64) as u32
}

/// The tick at which `step` starts.
pub fn tick_of_step(step: u32) -> u64 {
    step as u64 * TICKS_PER_STEP as u64
}

/// Refuses anything but 4/4.
pub fn require_four_four(ts: TimeSignature) -> Result<()> {
    if ts == TimeSignature::FOUR_FOUR {
        Ok(())
    } else {
        Err(MusicError::TimeSignatureUnsupported { numerator: ts.numerator, denominator: ts.denominator })
    }
}

/// A note on the grid. `end_step > step`, `end_step <= steps` of its clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantizedNote {
    pub pitch: u8,
    pub velocity: u8,
    pub channel: u8,
    pub step: u32,
    pub end_step: u32,
    /// Onset minus the grid time of `step`, in ticks: -60..60.
    pub offset_ticks: i32,
}

impl QuantizedNote {
    /// The offset as a fraction of a step: -0.5..0.5 (the groove encoding's `offset`).
    pub fn offset_fraction(&self) -> f32 {
        self.offset_ticks as f32 / TICKS_PER_STEP as f32
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantized {
    /// Number of steps in the clip (`bars * 16`).
    pub steps: u32,
    /// In the clip's order (start, pitch, ...).
    pub notes: Vec<QuantizedNote>,
    /// Notes whose onset step was `>= steps` (they are not in `notes`).
    pub dropped_past_end: usize,
}

impl Quantized {
    /// Steps `start..start + steps` of this quantized clip, renumbered from 0, with end steps
    /// clamped to the window. Splitting *after* quantizing keeps a hit played slightly before a
    /// window's downbeat in that window (at step 0, negative offset) instead of losing it past
    /// the previous window's end, as cutting ticks with [`Clip::window`] would. Notes outside the
    /// window belong to other windows and are not counted as dropped.
    pub fn window(&self, start: u32, steps: u32) -> Quantized {
        let end = start.saturating_add(steps);
        let notes = self
            .notes
            .iter()
            .filter(|n| n.step >= start && n.step < end)
            .map(|n| QuantizedNote { step: n.step - start, end_step: n.end_step.min(end) - start, ..*n })
            .collect();
        Quantized { steps, notes, dropped_past_end: 0 }
    }
}

/// Quantizes a 4/4 clip. Rules (spec `quantization`): onset step = `step_of_tick(start)`; end step
/// = `step_of_tick(end)`, at least onset + 1, at most the clip end; notes with onset step past the
/// clip are dropped and counted.
pub fn quantize(clip: &Clip) -> Result<Quantized> {
    require_four_four(clip.time_signature)?;
    let steps = clip.bars as u32 * STEPS_PER_BAR;
    let mut order: Vec<&Note> = clip.notes.iter().collect();
    order.sort_by_key(|n| (n.start, n.pitch, n.end, n.channel, n.velocity));
    let mut notes = Vec::with_capacity(order.len());
    let mut dropped_past_end = 0;
    for n in order {
        let step = step_of_tick(n.start);
        if step >= steps {
            dropped_past_end += 1;
            continue;
        }
        let end_step = step_of_tick(n.end).max(step + 1).min(steps);
        notes.push(QuantizedNote {
            pitch: n.pitch,
            velocity: n.velocity,
            channel: n.channel,
            step,
            end_step,
            offset_ticks: (n.start as i64 - tick_of_step(step) as i64) as i32,
        });
    }
    Ok(Quantized { steps, notes, dropped_past_end })
}

/// Snaps a 4/4 clip onto the grid (what the models see), dropping notes past the end.
pub fn quantize_clip(clip: &Clip) -> Result<Clip> {
    let q = quantize(clip)?;
    let mut out = Clip::new(clip.bars, clip.time_signature, clip.is_drum);
    out.notes = q
        .notes
        .iter()
        .map(|n| Note {
            pitch: n.pitch,
            velocity: n.velocity,
            start: n.step * TICKS_PER_STEP,
            end: n.end_step * TICKS_PER_STEP,
            channel: n.channel,
        })
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: Tick, end: Tick) -> Note {
        Note { pitch: 60, velocity: 90, start, end, channel: 0 }
    }

    #[test]
    fn step_rounding_ties_go_later() {
        assert_eq!(step_of_tick(0), 0);
        assert_eq!(step_of_tick(59), 0);
        assert_eq!(step_of_tick(60), 1);
        assert_eq!(step_of_tick(179), 1);
        assert_eq!(step_of_tick(180), 2);
        assert_eq!(step_of_tick(u32::MAX), ((u32::MAX as u64 + 60) / 120) as u32);
    }

    #[test]
    fn quantize_keeps_offsets_and_clamps() {
        let mut clip = Clip::new(1, TimeSignature::FOUR_FOUR, false);
        clip.notes = vec![
            note(100, 110),   // step 1 (offset -20), end step 1 -> lasts one step
            note(1850, 5000), // step 15 (offset +50), end clamped to 16
            note(1900, 1950), // step 16 -> past end, dropped
        ];
        let q = quantize(&clip).unwrap();
        assert_eq!(q.steps, 16);
        assert_eq!(q.dropped_past_end, 1);
        assert_eq!(q.notes.len(), 2);
        assert_eq!((q.notes[0].step, q.notes[0].end_step, q.notes[0].offset_ticks), (1, 2, -20));
        assert_eq!((q.notes[1].step, q.notes[1].end_step, q.notes[1].offset_ticks), (15, 16, 50));
        assert!((q.notes[1].offset_fraction() - 50.0 / 120.0).abs() < 1e-7);
        let snapped = quantize_clip(&clip).unwrap();
        assert_eq!(snapped.notes[0].start, 120);
        assert_eq!(snapped.notes[1].end, 1920);
    }

    #[test]
    fn split_after_quantizing_keeps_early_hits() {
        let mut clip = Clip::new(2, TimeSignature::FOUR_FOUR, true);
        // A hit 20 ticks before bar 2 and a long note across the bar line.
        clip.notes = vec![note(1900, 1950), note(960, 3000)];
        assert_eq!(clip.window(0, 1).unwrap().notes.len(), 2);
        assert_eq!(quantize(&clip.window(0, 1).unwrap()).unwrap().dropped_past_end, 1);
        let q = quantize(&clip).unwrap();
        let first = q.window(0, 16);
        let second = q.window(16, 16);
        assert_eq!(first.notes.len(), 1);
        assert_eq!((first.notes[0].step, first.notes[0].end_step), (8, 16));
        assert_eq!(second.notes.len(), 1);
        assert_eq!((second.notes[0].step, second.notes[0].end_step, second.notes[0].offset_ticks), (0, 1, -20));
        assert_eq!(q.window(32, 16).notes.len(), 0);
        assert_eq!(q.window(u32::MAX, 16).steps, 16);
    }

    #[test]
    fn non_four_four_is_an_error() {
        for (n, d) in [(3, 4), (6, 8), (2, 2), (4, 8)] {
            let clip = Clip::new(2, TimeSignature { numerator: n, denominator: d }, false);
            assert_eq!(quantize(&clip), Err(MusicError::TimeSignatureUnsupported { numerator: n, denominator: d }));
        }
    }
}
