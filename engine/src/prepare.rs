//! Turning user clips into model tokens/features and model output back into clips, with the
//! warnings the user should see when the model saw less than they played.

use cadenza_music::spec::{
    MELODY_FIRST_NOTE_ON, MELODY_MAX_PITCH, MELODY_MIN_PITCH, MELODY_NUM_CLASSES, STEPS_PER_BAR,
    TICKS_PER_STEP,
};
use cadenza_music::{
    decode_drums, decode_melody, drum_tokens_from_ids, encode_drums, encode_melody,
    melody_tokens_from_ids, trim_legato, Clip, DrumMap, Note, TimeSignature,
};

use crate::error::{from_music, EngineError};
use crate::job::KeyScale;

/// Overlaps up to a 16th are legato playing, not polyphony (see `cadenza_music::legato`).
const LEGATO_TICKS: u32 = TICKS_PER_STEP * 2;

/// Refuses what no model can use: other meters, clips without notes.
pub(crate) fn check_clip(clip: &Clip, label: &str) -> Result<(), EngineError> {
    let ts = clip.time_signature;
    if ts != TimeSignature::FOUR_FOUR {
        return Err(EngineError::UnsupportedTimeSignature {
            numerator: ts.numerator,
            denominator: ts.denominator,
        });
    }
    if clip.bars == 0 || clip.notes.is_empty() {
        return Err(EngineError::EmptyInput(format!(
            "{label} has no notes; record or drop a phrase first"
        )));
    }
    if clip.notes.iter().all(|n| n.start >= clip.length_ticks()) {
        return Err(EngineError::EmptyInput(format!(
            "{label} has no notes inside its {} bars",
            clip.bars
        )));
    }
    Ok(())
}

/// The whole-octave shift that brings the most notes of `clips` into the melody range.
pub(crate) fn melody_shift(clips: &[&Clip]) -> i32 {
    let mut all = Clip::new(1, TimeSignature::FOUR_FOUR, false);
    all.notes = clips.iter().flat_map(|c| c.notes.iter().copied()).collect();
    cadenza_music::transpose_into_range(&all, MELODY_MIN_PITCH, MELODY_MAX_PITCH)
        .map(|f| f.semitones)
        .unwrap_or(0)
}

/// Melody tokens of `clip` after moving it by `shift` semitones (see [`melody_shift`]).
pub(crate) fn melody_tokens(
    clip: &Clip,
    shift: i32,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<i64>, EngineError> {
    let (trimmed, _) = trim_legato(clip, LEGATO_TICKS);
    let (fitted, folded) = cadenza_music::transpose::shift_and_fold(
        &trimmed,
        shift,
        MELODY_MIN_PITCH,
        MELODY_MAX_PITCH,
    );
    let enc = encode_melody(&fitted).map_err(from_music)?;
    if enc.dropped.polyphony > 0 {
        warnings.push(format!(
            "polyphonic input reduced to its top line: {label} has chords or overlapping notes, \
             {} note(s) were left out of what the melody model heard",
            enc.dropped.polyphony
        ));
    }
    if folded > 0 {
        warnings.push(format!(
            "{folded} note(s) of {label} lie outside the melody range and were moved by octaves"
        ));
    }
    Ok(enc.tokens.iter().map(|&t| t as i64).collect())
}

/// Drum tokens of `clip`, warning about pitches the drum map ignores.
pub(crate) fn drum_tokens(
    clip: &Clip,
    map: &DrumMap,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<i64>, EngineError> {
    let enc = encode_drums(clip, map).map_err(from_music)?;
    warn_unmapped(enc.dropped.unmapped, label, warnings);
    Ok(enc.tokens.iter().map(|&t| t as i64).collect())
}

pub(crate) fn warn_unmapped(unmapped: usize, label: &str, warnings: &mut Vec<String>) {
    if unmapped > 0 {
        warnings.push(format!(
            "{unmapped} note(s) of {label} are on pitches the drum map does not know and were ignored"
        ));
    }
}

/// Melody model output → clip, moved back by `shift`.
pub(crate) fn melody_clip(ids: &[i64], shift: i32) -> Result<Clip, EngineError> {
    let tokens = melody_tokens_from_ids(ids).map_err(from_music)?;
    let clip = decode_melody(&tokens).map_err(from_music)?;
    Ok(cadenza_music::transpose::shift_and_fold(&clip, -shift, 0, 127).0)
}

/// Drum model output → clip.
pub(crate) fn drum_clip(ids: &[i64], map: &DrumMap) -> Result<Clip, EngineError> {
    let tokens = drum_tokens_from_ids(ids).map_err(from_music)?;
    decode_drums(&tokens, map).map_err(from_music)
}

/// Which melody tokens may be generated in `key`: "no event" and note-off always, note-ons of
/// in-key pitches only. `shift` (a multiple of 12) does not change pitch classes.
pub(crate) fn key_mask(key: &KeyScale, vocab: usize) -> Vec<bool> {
    debug_assert_eq!(vocab, MELODY_NUM_CLASSES);
    (0..vocab)
        .map(|t| {
            if t < MELODY_FIRST_NOTE_ON as usize {
                return true;
            }
            let pitch = MELODY_MIN_PITCH as usize + t - MELODY_FIRST_NOTE_ON as usize;
            pitch <= 127 && key.contains(pitch as u8)
        })
        .collect()
}

/// Notes starting at or after `from` ticks, moved to start at `to`.
pub(crate) fn notes_from(clip: &Clip, from: u32, to: u32) -> Vec<Note> {
    clip.notes
        .iter()
        .filter(|n| n.start >= from)
        .map(|n| Note {
            start: n.start - from + to,
            end: n.end - from + to,
            ..*n
        })
        .collect()
}

pub(crate) fn steps_of_bars(bars: u16) -> usize {
    bars as usize * STEPS_PER_BAR as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Scale;

    #[test]
    fn mask_allows_only_key() {
        let m = key_mask(&KeyScale::new(0, Scale::Major), MELODY_NUM_CLASSES);
        assert!(m[0] && m[1]);
        let c4 = (60 - MELODY_MIN_PITCH + MELODY_FIRST_NOTE_ON) as usize;
        assert!(m[c4] && !m[c4 + 1] && m[c4 + 2]);
        // 88 piano keys, 52 white.
        assert_eq!(m.iter().filter(|&&x| x).count(), 2 + 52);
    }

    #[test]
    fn shift_and_fold() {
        let mut c = Clip::new(1, TimeSignature::FOUR_FOUR, false);
        c.notes = vec![Note {
            pitch: 10,
            velocity: 90,
            start: 0,
            end: 120,
            channel: 0,
        }];
        assert_eq!(melody_shift(&[&c]), 12);
        let (f, folded) = cadenza_music::transpose::shift_and_fold(&c, 0, 21, 108);
        assert_eq!((f.notes[0].pitch, folded), (22, 1));
    }
}
