//! Groove features (spec `groove`): per 16th step and per drum class `[hit, velocity, offset]`
//! (27 floats), keeping what drum tokens drop — dynamics and micro-timing. Drumify/Groove
//! (GrooVAE-style) models read and write these. The tap encoding collapses every onset to one
//! voice (3 floats per step) for "tap a rhythm, get a groove".

use crate::clip::{Clip, Note, TimeSignature};
use crate::drum_map::DrumMap;
use crate::error::{MusicError, Result};
use crate::quantize::{quantize, Quantized, QuantizedNote};
use crate::report::Dropped;
use crate::spec::{
    DRUM_CHANNEL, DRUM_CLASSES, GROOVE_FLOATS_PER_STEP, GROOVE_FLOATS_PER_VOICE, STEPS_PER_BAR, TAP_FLOATS_PER_STEP,
    TICKS_PER_STEP,
};

pub type GrooveRow = [f32; GROOVE_FLOATS_PER_STEP];
pub type TapRow = [f32; TAP_FLOATS_PER_STEP];

#[derive(Clone, Debug, PartialEq)]
pub struct GrooveFeatures {
    /// One row per step, `bars * 16` rows.
    pub rows: Vec<GrooveRow>,
    pub dropped: Dropped,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TapFeatures {
    pub rows: Vec<TapRow>,
    pub dropped: Dropped,
}

impl GrooveFeatures {
    /// Step-major flat layout, as the model tensors want it.
    pub fn flat(&self) -> Vec<f32> {
        self.rows.iter().flatten().copied().collect()
    }
}

impl TapFeatures {
    pub fn flat(&self) -> Vec<f32> {
        self.rows.iter().flatten().copied().collect()
    }
}

/// Writes one onset into a `[hit, velocity, offset]` slot: the loudest onset wins, and of equally
/// loud ones the earliest (the notes arrive sorted by onset). Velocities above 127 (not valid
/// MIDI) count as 127, so features stay in 0..=1.
fn put(slot: &mut [f32], n: &QuantizedNote) {
    let velocity = n.velocity.min(127) as f32 / 127.0;
    if slot[0] == 0.0 || velocity > slot[1] {
        slot[0] = 1.0;
        slot[1] = velocity;
        slot[2] = n.offset_fraction();
    }
}

pub fn encode_groove(clip: &Clip, map: &DrumMap) -> Result<GrooveFeatures> {
    Ok(encode_groove_quantized(&quantize(clip)?, map))
}

/// [`encode_groove`] of an already quantized clip (e.g. a [`Quantized::window`]).
pub fn encode_groove_quantized(q: &Quantized, map: &DrumMap) -> GrooveFeatures {
    let mut rows = vec![[0.0; GROOVE_FLOATS_PER_STEP]; q.steps as usize];
    let mut unmapped = 0;
    for n in &q.notes {
        match map.class_of(n.pitch) {
            Some(class) => {
                let at = class * GROOVE_FLOATS_PER_VOICE;
                put(&mut rows[n.step as usize][at..at + GROOVE_FLOATS_PER_VOICE], n);
            }
            None => unmapped += 1,
        }
    }
    GrooveFeatures { rows, dropped: Dropped { unmapped, past_end: q.dropped_past_end, polyphony: 0 } }
}

/// Every onset of any pitch as one voice.
pub fn encode_tap(clip: &Clip) -> Result<TapFeatures> {
    Ok(encode_tap_quantized(&quantize(clip)?))
}

/// [`encode_tap`] of an already quantized clip.
pub fn encode_tap_quantized(q: &Quantized) -> TapFeatures {
    let mut rows = vec![[0.0; TAP_FLOATS_PER_STEP]; q.steps as usize];
    for n in &q.notes {
        put(&mut rows[n.step as usize], n);
    }
    TapFeatures { rows, dropped: Dropped { past_end: q.dropped_past_end, ..Dropped::default() } }
}

/// Decodes groove rows into a 4/4 drum clip of `ceil(rows / 16)` bars: `hit > 0.5` gives a note
/// at the class's output pitch, onset `round((s + offset) * 120)` (half up) clamped to the clip,
/// one step long (cut at the clip end), velocity `round(velocity * 127)` clamped to 1..=127,
/// channel 9. Non-finite offsets count as 0, non-finite velocities as the minimum.
pub fn decode_groove(rows: &[GrooveRow], map: &DrumMap) -> Result<Clip> {
    let bars = u16::try_from(rows.len().div_ceil(STEPS_PER_BAR as usize))
        .map_err(|_| MusicError::ClipTooLong { ticks: rows.len() as u64 * TICKS_PER_STEP as u64 })?;
    let mut clip = Clip::new(bars, TimeSignature::FOUR_FOUR, true);
    let clip_end = clip.length_ticks() as i64;
    for (step, row) in rows.iter().enumerate() {
        for class in 0..DRUM_CLASSES {
            let v = &row[class * GROOVE_FLOATS_PER_VOICE..(class + 1) * GROOVE_FLOATS_PER_VOICE];
            if v[0].is_nan() || v[0] <= 0.5 {
                continue;
            }
            let offset = if v[2].is_finite() { v[2] as f64 } else { 0.0 };
            let onset = ((step as f64 + offset) * TICKS_PER_STEP as f64 + 0.5).floor();
            // Saturating float->int cast, then clamp into the clip.
            let start = (onset as i64).clamp(0, clip_end - 1);
            let end = (start + TICKS_PER_STEP as i64).min(clip_end);
            let vel = if v[1].is_finite() { (v[1] as f64 * 127.0 + 0.5).floor() } else { 1.0 };
            clip.notes.push(Note {
                pitch: map.output_pitch(class),
                velocity: vel.clamp(1.0, 127.0) as u8,
                start: start as u32,
                end: end as u32,
                channel: DRUM_CHANNEL,
            });
        }
    }
    clip.sort();
    Ok(clip)
}

/// [`decode_groove`] from the flat step-major layout; the length must be a multiple of 27.
pub fn decode_groove_flat(values: &[f32], map: &DrumMap) -> Result<Clip> {
    if !values.len().is_multiple_of(GROOVE_FLOATS_PER_STEP) {
        return Err(MusicError::InvalidFeatureLength {
            kind: "groove",
            len: values.len(),
            per_step: GROOVE_FLOATS_PER_STEP,
        });
    }
    let rows: Vec<GrooveRow> = values
        .chunks_exact(GROOVE_FLOATS_PER_STEP)
        .map(|c| {
            let mut row = [0.0; GROOVE_FLOATS_PER_STEP];
            row.copy_from_slice(c);
            row
        })
        .collect();
    decode_groove(&rows, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(pitch: u8, velocity: u8, tick: u32) -> Note {
        Note { pitch, velocity, start: tick, end: tick + 10, channel: 9 }
    }

    #[test]
    fn groove_encode_decode() {
        let map = DrumMap::default();
        let mut clip = Clip::new(1, TimeSignature::FOUR_FOUR, true);
        clip.notes = vec![
            hit(36, 127, 0),
            hit(38, 64, 470),  // step 4, offset -10
            hit(38, 100, 500), // step 4, louder: wins, offset +20
            hit(42, 50, 1860), // step 16 -> past end
            hit(22, 40, 59),   // closed hat, step 0, offset +59
            hit(99, 40, 0),    // unmapped
        ];
        let g = encode_groove(&clip, &map).unwrap();
        assert_eq!(g.rows.len(), 16);
        assert_eq!(g.dropped, Dropped { unmapped: 1, past_end: 1, polyphony: 0 });
        assert_eq!(&g.rows[0][0..3], &[1.0, 1.0, 0.0]);
        assert_eq!(&g.rows[0][6..9], &[1.0, 40.0 / 127.0, 59.0 / 120.0]);
        assert_eq!(&g.rows[4][3..6], &[1.0, 100.0 / 127.0, 20.0 / 120.0]);
        assert_eq!(g.flat().len(), 16 * 27);
        let d = decode_groove(&g.rows, &map).unwrap();
        let got: Vec<(u8, u8, u32, u32)> = d.notes.iter().map(|n| (n.pitch, n.velocity, n.start, n.end)).collect();
        assert_eq!(got, vec![(36, 127, 0, 120), (42, 40, 59, 179), (38, 100, 500, 620)]);

        let t = encode_tap(&clip).unwrap();
        assert_eq!(t.dropped, Dropped { past_end: 1, ..Dropped::default() });
        assert_eq!(t.rows[0], [1.0, 1.0, 0.0]);
        assert_eq!(t.rows[4], [1.0, 100.0 / 127.0, 20.0 / 120.0]);
        assert_eq!(t.flat().len(), 48);
    }

    #[test]
    fn decode_clamps_hostile_values() {
        let map = DrumMap::default();
        let mut rows = vec![[0.0f32; 27]; 16];
        rows[0][0..3].copy_from_slice(&[1.0, 2.0, -3.0]); // onset < 0, velocity > 1
        rows[15][3..6].copy_from_slice(&[0.9, f32::NAN, 0.49]); // near the end
        rows[7][6..9].copy_from_slice(&[f32::NAN, 1.0, 0.0]); // NaN hit: nothing
        rows[8][9..12].copy_from_slice(&[1.0, -1.0, f32::INFINITY]);
        let d = decode_groove(&rows, &map).unwrap();
        let got: Vec<(u8, u8, u32, u32)> = d.notes.iter().map(|n| (n.pitch, n.velocity, n.start, n.end)).collect();
        assert_eq!(got, vec![(36, 127, 0, 120), (46, 1, 960, 1080), (38, 1, 1859, 1920)]);
        assert!(matches!(decode_groove_flat(&[0.0; 28], &map), Err(MusicError::InvalidFeatureLength { len: 28, .. })));
        assert_eq!(decode_groove_flat(&[0.0; 54], &map).unwrap().bars, 1);
    }
}
