//! Rules every generating tool shares: Key: Auto, where the music of an input ends, and what
//! happens to a variation that came out without new notes.

use cadenza_music::spec::{MELODY_FIRST_NOTE_ON, MELODY_MIN_PITCH};
use cadenza_music::{detect_key, Clip};

use crate::error::EngineError;
use crate::job::{Job, KeyChoice, KeyScale, Mode, Scale};
use crate::models::ForceOnsets;
use crate::prepare;

/// Bars of a clip's trailing silence that are still phrasing; from this many on, the silence is
/// a loop region longer than the music and is left out (see [`music_bars`]).
pub const MAX_TRAILING_REST_BARS: u16 = 1;

/// The bars of `clip` that hold its music. A clip that ends two or more whole bars after its
/// last note has ended (a DAW loop region longer than the phrase, a file whose end-of-track is
/// far away) is cut at the first bar line after that note: the model is primed on the music, not
/// on the silence, and Continue's new bars start right after the music. A shorter closing rest
/// (up to [`MAX_TRAILING_REST_BARS`] whole bars) is part of the phrase and stays.
pub(crate) fn music_bars(clip: &Clip) -> u16 {
    let bar = clip.time_signature.ticks_per_bar().max(1);
    let last_end = clip.notes.iter().map(|n| n.end.min(clip.length_ticks())).max().unwrap_or(0);
    let needed = last_end.div_ceil(bar).max(1).min(u16::MAX as u32) as u16;
    if clip.bars > needed + MAX_TRAILING_REST_BARS {
        needed
    } else {
        clip.bars
    }
}

/// The melody key mask of a job and, for Key: Auto, the key it found: the detected key's scale
/// plus every pitch class the inputs play (the musician's own notes are in "their" key).
pub(crate) fn melody_key(job: &Job, inputs: &[&Clip], vocab: usize) -> (Option<Vec<bool>>, Option<KeyScale>) {
    if job.mode != Mode::Melody {
        return (None, None);
    }
    match job.key {
        KeyChoice::Off => (None, None),
        KeyChoice::Fixed(key) => (Some(prepare::key_mask(&key, vocab)), None),
        KeyChoice::Auto => {
            let notes: Vec<_> = inputs.iter().flat_map(|c| c.notes.iter().copied()).collect();
            let Some(est) = detect_key(&notes) else {
                return (None, None);
            };
            let scale = match est.mode {
                cadenza_music::key::Mode::Major => Scale::Major,
                cadenza_music::key::Mode::Minor => Scale::Minor,
            };
            let key = KeyScale::new(est.tonic, scale);
            let mut pcs = [false; 12];
            for pc in 0..12u8 {
                pcs[pc as usize] = key.contains(pc);
            }
            for n in &notes {
                pcs[(n.pitch % 12) as usize] = true;
            }
            (Some(pitch_class_mask(&pcs, vocab)), Some(key))
        }
    }
}

/// Melody tokens allowed when only `pcs` may start: "no event" and note-off always.
pub(crate) fn pitch_class_mask(pcs: &[bool; 12], vocab: usize) -> Vec<bool> {
    (0..vocab)
        .map(|t| {
            if t < MELODY_FIRST_NOTE_ON as usize {
                return true;
            }
            let pitch = MELODY_MIN_PITCH as usize + t - MELODY_FIRST_NOTE_ON as usize;
            pitch <= 127 && pcs[pitch % 12]
        })
        .collect()
}

/// Fewer new onsets than this and a variation counts as empty (nothing, or one held note).
pub const MIN_NEW_ONSETS: usize = 2;

/// New onsets in a model output (melody: note-on tokens; drums: hits).
pub(crate) fn onsets(seq: &[i64], mode: Mode) -> usize {
    match mode {
        Mode::Melody => seq.iter().filter(|&&t| t >= MELODY_FIRST_NOTE_ON as i64).count(),
        Mode::Drums => seq.iter().map(|&t| (t.clamp(0, 511) as u32).count_ones() as usize).sum(),
    }
}

/// Whether a model output is empty or one held note.
pub(crate) fn is_empty_output(seq: &[i64], mode: Mode) -> bool {
    onsets(seq, mode) < MIN_NEW_ONSETS
}

/// Temperatures of the retries for a variation that came out empty: never below the job's own;
/// "tame" stays tame (the first retry is only a little warmer than greedy). When all of them
/// come out empty too, a last retry at the first of these temperatures starts a note after every
/// [`FORCED_GAP_STEPS`] silent steps ([`crate::models::ForceOnsets`]).
pub const RETRY_TEMPERATURES: [f32; 3] = [0.4, 0.7, 1.0];

/// The last retry's longest silence: a beat.
pub const FORCED_GAP_STEPS: usize = 4;

/// The last-resort onset rule for a job's vocabulary (melody: note-ons; drums: any hit).
pub(crate) fn forced_onsets(mode: Mode, vocab: usize, mask: Option<&[bool]>) -> ForceOnsets {
    let onset = (0..vocab)
        .map(|t| match mode {
            Mode::Melody => t >= MELODY_FIRST_NOTE_ON as usize,
            Mode::Drums => t != 0,
        })
        .collect();
    ForceOnsets::new(FORCED_GAP_STEPS, onset, mask)
}

/// Remakes the variations of `seqs` for which `empty` holds, at rising temperatures
/// ([`RETRY_TEMPERATURES`]), by calling `again(indices, temperature, retry, force)`, which returns
/// one new sequence per index; the last retry has `force` set (start a note after a silence, see
/// [`forced_onsets`]). Says in `warnings` which variations (numbered by `result_index`, the
/// 0-based index of the tool's result a sequence becomes) were remade and which are still empty
/// (never silently).
pub(crate) fn remake_empty(
    seqs: &mut [Vec<i64>],
    temperature: f32,
    empty: impl Fn(&[i64]) -> bool,
    mut again: impl FnMut(&[usize], f32, usize, bool) -> Result<Vec<Vec<i64>>, EngineError>,
    result_index: impl Fn(usize) -> usize,
    warnings: &mut Vec<String>,
) -> Result<(), EngineError> {
    let mut bad: Vec<usize> = (0..seqs.len()).filter(|&i| empty(&seqs[i])).collect();
    if bad.is_empty() {
        return Ok(());
    }
    let first_bad = bad.clone();
    let mut last_t = temperature;
    let plan = RETRY_TEMPERATURES.iter().map(|&f| (f, false)).chain([(RETRY_TEMPERATURES[0], true)]);
    for (retry, (floor, force)) in plan.enumerate() {
        if bad.is_empty() {
            break;
        }
        let t = temperature.max(floor);
        last_t = last_t.max(t);
        let fresh = again(&bad, t, retry, force)?;
        let mut still = Vec::new();
        for (&i, s) in bad.iter().zip(fresh) {
            if empty(&s) {
                still.push(i);
            } else {
                seqs[i] = s;
            }
        }
        bad = still;
    }
    let remade: Vec<usize> = first_bad.iter().copied().filter(|i| !bad.contains(i)).map(&result_index).collect();
    let bad: Vec<usize> = bad.into_iter().map(&result_index).collect();
    report_remade(&remade, &bad, temperature, last_t, warnings);
    Ok(())
}

/// The warnings of [`remake_empty`]: which results (0-based) were remade, which are still empty.
pub(crate) fn report_remade(
    remade: &[usize],
    still: &[usize],
    temperature: f32,
    last_t: f32,
    warnings: &mut Vec<String>,
) {
    if !remade.is_empty() {
        warnings.push(format!(
            "{} came out with no new notes (or one held note) at temperature {temperature}; \
             made again at a temperature up to {last_t}",
            variations(remade)
        ));
    }
    if !still.is_empty() {
        warnings.push(format!(
            "{} still {} no new notes (or only one held note) at temperature {last_t}: the model \
             found nothing to add to this input",
            variations(still),
            if still.len() == 1 { "has" } else { "have" }
        ));
    }
}

/// "variation 3", "variations 1, 2 and 5" (1-based).
pub(crate) fn variations(indices: &[usize]) -> String {
    let names: Vec<String> = indices.iter().map(|i| (i + 1).to_string()).collect();
    match names.len() {
        0 => "no variation".into(),
        1 => format!("variation {}", names[0]),
        n => format!("variations {} and {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadenza_music::{Note, TimeSignature};

    #[test]
    fn trailing_silence() {
        let mut c = Clip::new(12, TimeSignature::FOUR_FOUR, false);
        c.notes.push(Note { pitch: 60, velocity: 80, start: 0, end: 3840, channel: 0 });
        assert_eq!(music_bars(&c), 2);
        c.bars = 4;
        assert_eq!(music_bars(&c), 2);
        // One bar of rest is phrasing.
        c.bars = 3;
        assert_eq!(music_bars(&c), 3);
        c.notes[0].end = 3841;
        c.bars = 4;
        assert_eq!(music_bars(&c), 4);
        c.bars = 5;
        assert_eq!(music_bars(&c), 3);
    }

    #[test]
    fn remaking_says_so() {
        let mut seqs = vec![vec![2, 0, 0], vec![2, 3, 4], vec![0, 0, 0]];
        let mut warnings = Vec::new();
        let mut calls = Vec::new();
        remake_empty(
            &mut seqs,
            0.0,
            |s| is_empty_output(s, Mode::Melody),
            |idx, t, retry, force| {
                calls.push((idx.to_vec(), t, retry, force));
                Ok(idx.iter().map(|&i| if i == 0 { vec![5, 6, 0] } else { vec![0, 0, 0] }).collect())
            },
            |i| i,
            &mut warnings,
        )
        .unwrap();
        assert_eq!(seqs[0], vec![5, 6, 0]);
        assert_eq!(calls[0], (vec![0, 2], 0.4, 0, false));
        assert_eq!(calls.len(), 4);
        assert_eq!(calls[3], (vec![2], 0.4, 3, true));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("variation 1 came out"));
        assert!(warnings[1].starts_with("variation 3 still has no new notes"), "{warnings:?}");
        assert_eq!(variations(&[0, 1, 4]), "variations 1, 2 and 5");
    }
}
