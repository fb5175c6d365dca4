//! Monophonic melody tokens (spec `melody`): one token per 16th step, 0 = no event (hold or
//! rest), 1 = note-off, 2..=89 = note-on of pitch 21..=108.
//!
//! Polyphonic input is reduced with the spec's skyline rule so Python and Rust agree on which
//! notes survive; the number of dropped notes is reported.

use crate::clip::{Clip, Note, TimeSignature};
use crate::error::{MusicError, Result};
use crate::quantize::{quantize, Quantized, QuantizedNote};
use crate::report::Dropped;
use crate::spec::{
    MELODY_DECODE_VELOCITY, MELODY_FIRST_NOTE_ON, MELODY_MAX_PITCH, MELODY_MIN_PITCH, MELODY_NOTE_OFF, MELODY_NO_EVENT,
    MELODY_NUM_CLASSES, STEPS_PER_BAR, TICKS_PER_STEP,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MelodyTokens {
    /// One token per step, `bars * 16` of them.
    pub tokens: Vec<u8>,
    pub dropped: Dropped,
}

/// The note-on token of `pitch`, `None` outside 21..=108.
pub fn note_on_token(pitch: u8) -> Option<u8> {
    (MELODY_MIN_PITCH..=MELODY_MAX_PITCH).contains(&pitch).then(|| MELODY_FIRST_NOTE_ON + pitch - MELODY_MIN_PITCH)
}

/// Encodes a 4/4 clip (any channel). Errors: non-4/4; a pitch outside 21..=108 among the notes
/// that start inside the clip (checked before the skyline; transpose into range first).
pub fn encode_melody(clip: &Clip) -> Result<MelodyTokens> {
    encode_melody_quantized(&quantize(clip)?)
}

/// [`encode_melody`] of an already quantized clip (e.g. a [`Quantized::window`]).
pub fn encode_melody_quantized(q: &Quantized) -> Result<MelodyTokens> {
    if let Some(n) = q.notes.iter().find(|n| note_on_token(n.pitch).is_none()) {
        return Err(MusicError::PitchOutOfRange { pitch: n.pitch, min: MELODY_MIN_PITCH, max: MELODY_MAX_PITCH });
    }
    let (kept, polyphony) = skyline(&q.notes);
    Ok(MelodyTokens {
        tokens: skyline_tokens(&kept, q.steps),
        dropped: Dropped { polyphony, past_end: q.dropped_past_end, unmapped: 0 },
    })
}

/// A note the skyline kept: its onset step and its (possibly truncated) end step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkylineNote {
    pub pitch: u8,
    pub step: u32,
    pub end_step: u32,
}

/// The spec's skyline (`melody.polyphony`, `melody.polyphony_ties`): walk onset steps in order;
/// the candidate of a step is its highest note (then the longest); it is kept unless the note
/// kept last still sounds at that step with a higher pitch; a kept note truncates the previous
/// one. Returns the kept notes in step order and how many notes were dropped.
pub fn skyline(notes: &[QuantizedNote]) -> (Vec<SkylineNote>, usize) {
    let mut notes = notes.to_vec();
    // Per step: highest pitch first, then the longest.
    notes.sort_by(|a, b| a.step.cmp(&b.step).then(b.pitch.cmp(&a.pitch)).then(b.end_step.cmp(&a.end_step)));
    let mut kept: Vec<SkylineNote> = Vec::new();
    let mut polyphony = 0;
    let mut i = 0;
    while i < notes.len() {
        let step = notes[i].step;
        let cand = notes[i];
        let mut j = i + 1;
        while j < notes.len() && notes[j].step == step {
            j += 1;
        }
        polyphony += j - i - 1;
        i = j;
        match kept.last_mut() {
            Some(last) if last.end_step > step && last.pitch > cand.pitch => polyphony += 1,
            last => {
                if let Some(last) = last {
                    last.end_step = last.end_step.min(step);
                }
                kept.push(SkylineNote { pitch: cand.pitch, step, end_step: cand.end_step });
            }
        }
    }
    (kept, polyphony)
}

/// The tokens of a skyline (spec `melody.encode`): a note-on at each kept note's step, a
/// note-off at its end step when that step is inside the `steps` and holds no note-on. Pitches
/// outside 21..=108 give no note-on (encoders check the range first).
pub fn skyline_tokens(kept: &[SkylineNote], steps: u32) -> Vec<u8> {
    let mut tokens = vec![MELODY_NO_EVENT; steps as usize];
    for n in kept {
        if let Some(t) = tokens.get_mut(n.step as usize) {
            *t = note_on_token(n.pitch).unwrap_or(MELODY_NO_EVENT);
        }
    }
    for n in kept {
        if let Some(t) = tokens.get_mut(n.end_step as usize) {
            if *t == MELODY_NO_EVENT {
                *t = MELODY_NOTE_OFF;
            }
        }
    }
    tokens
}

/// Checks model output ids (e.g. an argmax over 90 logits) and narrows them to tokens.
pub fn melody_tokens_from_ids(ids: &[i64]) -> Result<Vec<u8>> {
    ids.iter()
        .enumerate()
        .map(|(step, &id)| match u8::try_from(id) {
            Ok(t) if (t as usize) < MELODY_NUM_CLASSES => Ok(t),
            _ => Err(MusicError::InvalidToken { kind: "melody", token: id.clamp(0, u32::MAX as i64) as u32, step }),
        })
        .collect()
}

/// Decodes tokens into a 4/4 clip of `ceil(len / 16)` bars: each note-on lasts until the next
/// note-on or note-off or the end of the tokens; velocity 100, channel 0. A note-off with no
/// sounding note is ignored. Tokens >= 90 are an error.
pub fn decode_melody(tokens: &[u8]) -> Result<Clip> {
    let bars = tokens.len().div_ceil(STEPS_PER_BAR as usize);
    let bars = u16::try_from(bars)
        .map_err(|_| MusicError::ClipTooLong { ticks: tokens.len() as u64 * TICKS_PER_STEP as u64 })?;
    let mut clip = Clip::new(bars, TimeSignature::FOUR_FOUR, false);
    let mut open: Option<(u8, u32)> = None;
    let close = |open: &mut Option<(u8, u32)>, step: usize, clip: &mut Clip| {
        if let Some((pitch, start)) = open.take() {
            clip.notes.push(Note {
                pitch,
                velocity: MELODY_DECODE_VELOCITY,
                start: start * TICKS_PER_STEP,
                end: step as u32 * TICKS_PER_STEP,
                channel: 0,
            });
        }
    };
    for (step, &t) in tokens.iter().enumerate() {
        if t as usize >= MELODY_NUM_CLASSES {
            return Err(MusicError::InvalidToken { kind: "melody", token: t as u32, step });
        }
        if t == MELODY_NOTE_OFF {
            close(&mut open, step, &mut clip);
        } else if t >= MELODY_FIRST_NOTE_ON {
            close(&mut open, step, &mut clip);
            open = Some((t - MELODY_FIRST_NOTE_ON + MELODY_MIN_PITCH, step as u32));
        }
    }
    close(&mut open, tokens.len(), &mut clip);
    clip.sort();
    Ok(clip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(pitch: u8, start_step: u32, end_step: u32) -> Note {
        Note { pitch, velocity: 100, start: start_step * 120, end: end_step * 120, channel: 0 }
    }

    fn clip(notes: Vec<Note>) -> Clip {
        Clip { notes, bars: 1, time_signature: TimeSignature::FOUR_FOUR, is_drum: false }
    }

    #[test]
    fn tokens_for_simple_line() {
        let c = clip(vec![n(60, 0, 2), n(62, 2, 3), n(64, 5, 16)]);
        let e = encode_melody(&c).unwrap();
        let mut want = vec![0u8; 16];
        want[0] = 2 + 39;
        want[2] = 2 + 41;
        want[3] = 1;
        want[5] = 2 + 43;
        assert_eq!(e.tokens, want);
        assert_eq!(e.dropped, Dropped::default());
        assert_eq!(decode_melody(&e.tokens).unwrap(), c);
    }

    #[test]
    fn skyline_rules() {
        // Chord at 0 (keep 67, drop 60 and 64); 62 at step 2 is under the sounding 67 -> dropped;
        // 72 at step 4 is higher -> kept and truncates 67; 50 at step 8 after 72 ended -> kept.
        let c = clip(vec![n(60, 0, 8), n(64, 0, 8), n(67, 0, 8), n(62, 2, 3), n(72, 4, 6), n(50, 8, 9)]);
        let e = encode_melody(&c).unwrap();
        assert_eq!(e.dropped.polyphony, 3);
        let d = decode_melody(&e.tokens).unwrap();
        assert_eq!(d.notes, vec![n(67, 0, 4), n(72, 4, 6), n(50, 8, 9)]);
        // Same pitch re-struck while sounding: kept (not higher), truncating the first.
        let e = encode_melody(&clip(vec![n(60, 0, 4), n(60, 2, 4)])).unwrap();
        assert_eq!(e.dropped.polyphony, 0);
        assert_eq!(decode_melody(&e.tokens).unwrap().notes, vec![n(60, 0, 2), n(60, 2, 4)]);
    }

    #[test]
    fn range_and_tokens_errors() {
        assert_eq!(
            encode_melody(&clip(vec![n(20, 0, 1)])),
            Err(MusicError::PitchOutOfRange { pitch: 20, min: 21, max: 108 })
        );
        assert!(encode_melody(&clip(vec![n(109, 0, 1)])).is_err());
        // Out-of-range notes past the clip end are dropped, not errors.
        let e = encode_melody(&clip(vec![n(120, 16, 17)])).unwrap();
        assert_eq!(e.dropped.past_end, 1);
        assert_eq!(decode_melody(&[0, 90]), Err(MusicError::InvalidToken { kind: "melody", token: 90, step: 1 }));
        let d = decode_melody(&[1, 0, 2, 1, 1, 89]).unwrap();
        assert_eq!(d.bars, 1);
        assert_eq!(d.notes, vec![n(21, 2, 3), n(108, 5, 6)]);
        assert_eq!(decode_melody(&[]).unwrap(), Clip::new(0, TimeSignature::FOUR_FOUR, false));
        assert_eq!(melody_tokens_from_ids(&[0, 1, 89]).unwrap(), vec![0, 1, 89]);
        assert!(matches!(melody_tokens_from_ids(&[0, -1]), Err(MusicError::InvalidToken { step: 1, .. })));
        assert!(matches!(melody_tokens_from_ids(&[90]), Err(MusicError::InvalidToken { token: 90, .. })));
        assert!(melody_tokens_from_ids(&[i64::MAX]).is_err());
    }
}
