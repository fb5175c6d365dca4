//! Drum tokens (spec `drums`): one token per 16th step, a 9-bit mask of the drum classes that
//! have an onset in the step. Velocity, length and micro-timing are dropped here (the groove
//! encoding keeps them). Input pitches are folded to classes with a [`DrumMap`].

use crate::clip::{Clip, Note, TimeSignature};
use crate::drum_map::DrumMap;
use crate::error::{MusicError, Result};
use crate::quantize::{quantize, Quantized};
use crate::report::Dropped;
use crate::spec::{DRUM_CHANNEL, DRUM_CLASSES, DRUM_DECODE_VELOCITY, DRUM_NUM_TOKENS, STEPS_PER_BAR, TICKS_PER_STEP};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrumTokens {
    /// One 0..512 mask per step, `bars * 16` of them.
    pub tokens: Vec<u16>,
    pub dropped: Dropped,
}

/// Encodes a 4/4 clip (any channel; every note is a hit at its onset).
pub fn encode_drums(clip: &Clip, map: &DrumMap) -> Result<DrumTokens> {
    Ok(encode_drums_quantized(&quantize(clip)?, map))
}

/// [`encode_drums`] of an already quantized clip (e.g. a [`Quantized::window`]).
pub fn encode_drums_quantized(q: &Quantized, map: &DrumMap) -> DrumTokens {
    let mut tokens = vec![0u16; q.steps as usize];
    let mut unmapped = 0;
    for n in &q.notes {
        match map.class_of(n.pitch) {
            Some(class) => tokens[n.step as usize] |= 1 << class,
            None => unmapped += 1,
        }
    }
    DrumTokens { tokens, dropped: Dropped { unmapped, past_end: q.dropped_past_end, polyphony: 0 } }
}

/// Checks model output ids (e.g. an argmax over 512 logits) and narrows them to tokens.
pub fn drum_tokens_from_ids(ids: &[i64]) -> Result<Vec<u16>> {
    ids.iter()
        .enumerate()
        .map(|(step, &id)| match u16::try_from(id) {
            Ok(t) if (t as usize) < DRUM_NUM_TOKENS => Ok(t),
            _ => Err(MusicError::InvalidToken { kind: "drum", token: id.clamp(0, u32::MAX as i64) as u32, step }),
        })
        .collect()
}

/// Decodes masks into a 4/4 drum clip of `ceil(len / 16)` bars: a one-step note per set bit at
/// the class's output pitch, velocity 100, channel 9. Tokens >= 512 are an error.
pub fn decode_drums(tokens: &[u16], map: &DrumMap) -> Result<Clip> {
    let bars = u16::try_from(tokens.len().div_ceil(STEPS_PER_BAR as usize))
        .map_err(|_| MusicError::ClipTooLong { ticks: tokens.len() as u64 * TICKS_PER_STEP as u64 })?;
    let mut clip = Clip::new(bars, TimeSignature::FOUR_FOUR, true);
    for (step, &t) in tokens.iter().enumerate() {
        if t as usize >= DRUM_NUM_TOKENS {
            return Err(MusicError::InvalidToken { kind: "drum", token: t as u32, step });
        }
        for class in (0..DRUM_CLASSES).filter(|c| t & (1 << c) != 0) {
            let start = step as u32 * TICKS_PER_STEP;
            clip.notes.push(Note {
                pitch: map.output_pitch(class),
                velocity: DRUM_DECODE_VELOCITY,
                start,
                end: start + TICKS_PER_STEP,
                channel: DRUM_CHANNEL,
            });
        }
    }
    clip.sort();
    Ok(clip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(pitch: u8, tick: u32) -> Note {
        Note { pitch, velocity: 80, start: tick, end: tick + 30, channel: 9 }
    }

    #[test]
    fn encode_folds_and_reports() {
        let map = DrumMap::default();
        let mut clip = Clip::new(1, TimeSignature::FOUR_FOUR, true);
        // kick + TD-11 closed-hat edge (22) at step 0 (one slightly early), GM 35 kick merges,
        // 38 snare at step 4, unmapped 90, hat past the end.
        clip.notes = vec![hit(36, 0), hit(22, 10), hit(35, 0), hit(38, 470), hit(90, 600), hit(42, 1900)];
        let e = encode_drums(&clip, &map).unwrap();
        assert_eq!(e.tokens[0], 0b101);
        assert_eq!(e.tokens[4], 0b10);
        assert_eq!(e.tokens.iter().filter(|&&t| t != 0).count(), 2);
        assert_eq!(e.dropped, Dropped { unmapped: 1, past_end: 1, polyphony: 0 });
        let d = decode_drums(&e.tokens, &map).unwrap();
        let pitches: Vec<(u8, u32, u32)> = d.notes.iter().map(|n| (n.pitch, n.start, n.end)).collect();
        assert_eq!(pitches, vec![(36, 0, 120), (42, 0, 120), (38, 480, 600)]);
        assert!(d.is_drum && d.notes.iter().all(|n| n.channel == 9 && n.velocity == 100));
        assert_eq!(
            decode_drums(&[511, 512], &map),
            Err(MusicError::InvalidToken { kind: "drum", token: 512, step: 1 })
        );
        assert_eq!(drum_tokens_from_ids(&[0, 511]).unwrap(), vec![0, 511]);
        assert!(matches!(drum_tokens_from_ids(&[3, 512]), Err(MusicError::InvalidToken { step: 1, token: 512, .. })));
        assert!(drum_tokens_from_ids(&[-5]).is_err());
    }
}
