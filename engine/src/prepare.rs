//! Turning user clips into model tokens/features and model output back into clips, with the
//! warnings the user should see when the model saw less than they played.

use cadenza_music::preprocess::{PreparedDrums, PreparedMelody, Window};
use cadenza_music::spec::{MELODY_FIRST_NOTE_ON, MELODY_MIN_PITCH, MELODY_NUM_CLASSES, STEPS_PER_BAR};
use cadenza_music::{
    decode_drums, decode_melody, drum_tokens_from_ids, melody_tokens_from_ids, preprocess_drums, preprocess_melody,
    Clip, DrumMap, Note, TimeSignature,
};

use crate::error::{from_music, EngineError};
use crate::job::KeyScale;

/// Refuses what no model can use: other meters, clips without notes.
pub(crate) fn check_clip(clip: &Clip, label: &str) -> Result<(), EngineError> {
    let ts = clip.time_signature;
    if ts != TimeSignature::FOUR_FOUR {
        return Err(EngineError::UnsupportedTimeSignature { numerator: ts.numerator, denominator: ts.denominator });
    }
    if clip.bars == 0 || clip.notes.is_empty() {
        return Err(EngineError::EmptyInput(format!("{label} has no notes; record or drop a phrase first")));
    }
    if clip.notes.iter().all(|n| n.start >= clip.length_ticks()) {
        return Err(EngineError::EmptyInput(format!("{label} has no notes inside its {} bars", clip.bars)));
    }
    Ok(())
}

/// The inputs of one melody job (`(clip, label)`) through the one preprocessing path
/// (`cadenza_music::preprocess`, spec `preprocessing.melody`): legato trimmed, quantized, cut to
/// `window`, moved into the model range by one octave shift for all of them (undo it with
/// [`melody_clip`]), reduced to the top line. Tells the user what the model did not hear as played.
pub(crate) fn melody_inputs(
    inputs: &[(&Clip, &str)],
    window: Window,
    warnings: &mut Vec<String>,
) -> Result<Vec<PreparedMelody>, EngineError> {
    let clips: Vec<&Clip> = inputs.iter().map(|(c, _)| *c).collect();
    let prepared = preprocess_melody(&clips, window).map_err(from_music)?;
    for (p, (_, label)) in prepared.iter().zip(inputs) {
        if p.report.polyphony > 0 {
            warnings.push(format!(
                "polyphonic input reduced to its top line: {label} has chords or overlapping notes, \
                 {} note(s) were left out of what the melody model heard",
                p.report.polyphony
            ));
        }
        if p.report.folded > 0 {
            warnings.push(format!(
                "{} note(s) of {label} lie outside the melody range and were moved by octaves",
                p.report.folded
            ));
        }
    }
    Ok(prepared)
}

/// A drum input through the one preprocessing path (spec `preprocessing.drums`), warning about
/// pitches the drum map ignores.
pub(crate) fn drum_input(
    clip: &Clip,
    map: &DrumMap,
    window: Window,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<PreparedDrums, EngineError> {
    let prepared = preprocess_drums(clip, map, window).map_err(from_music)?;
    warn_unmapped(prepared.report.unmapped, label, warnings);
    Ok(prepared)
}

/// Tokens as the models' int64 ids.
pub(crate) fn ids<T: Copy + Into<i64>>(tokens: &[T]) -> Vec<i64> {
    tokens.iter().map(|&t| t.into()).collect()
}

pub(crate) fn warn_unmapped(unmapped: usize, label: &str, warnings: &mut Vec<String>) {
    if unmapped > 0 {
        warnings
            .push(format!("{unmapped} note(s) of {label} are on pitches the drum map does not know and were ignored"));
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
        .map(|n| Note { start: n.start - from + to, end: n.end - from + to, ..*n })
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
    fn one_shift_undone_on_output() {
        let mut c = Clip::new(1, TimeSignature::FOUR_FOUR, false);
        c.notes = vec![Note { pitch: 10, velocity: 90, start: 0, end: 120, channel: 0 }];
        let mut warnings = Vec::new();
        let p = melody_inputs(&[(&c, "the input")], Window::Whole, &mut warnings).unwrap();
        assert_eq!((p[0].report.shift, p[0].report.folded), (12, 0));
        let back = melody_clip(&ids(&p[0].tokens), p[0].report.shift).unwrap();
        assert_eq!(back.notes[0].pitch, 10);
        assert!(warnings.is_empty());
    }
}
