//! Transposition helpers. Melody models only know pitches 21..=108 and learn better in a common
//! key, so the engine moves a user's clip into range / into a key before encoding and back after
//! decoding. All helpers return a new clip and never produce a pitch outside 0..=127.

use crate::clip::Clip;
use crate::error::{MusicError, Result};

/// Shifts every note by `semitones`; an error if any pitch would leave 0..=127.
pub fn transpose(clip: &Clip, semitones: i32) -> Result<Clip> {
    let mut out = clip.clone();
    for n in &mut out.notes {
        let p = n.pitch as i32 + semitones;
        if !(0..=127).contains(&p) {
            return Err(MusicError::TransposeOutOfMidiRange { pitch: n.pitch, semitones });
        }
        n.pitch = p as u8;
    }
    out.sort();
    Ok(out)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeFit {
    pub clip: Clip,
    /// The whole-clip shift applied (a multiple of 12); undo it after decoding.
    pub semitones: i32,
    /// Notes that still did not fit after the shift and were moved by whole octaves on their own.
    pub folded: usize,
}

/// Moves a clip into `min..=max`: first the whole clip by the octave shift that leaves the fewest
/// notes outside (smallest shift on ties, so an in-range clip is untouched), then each remaining
/// outlier by octaves. The range must span at least 12 semitones.
pub fn transpose_into_range(clip: &Clip, min: u8, max: u8) -> Result<RangeFit> {
    if max < min || max - min < 11 || max > 127 {
        return Err(MusicError::RangeTooNarrow { min, max });
    }
    let best = best_octave_shift(clip.notes.iter().map(|n| n.pitch), min, max);
    let (out, folded) = shift_and_fold(clip, best, min, max);
    Ok(RangeFit { clip: out, semitones: best, folded })
}

/// The octave shift (`k * 12`, `k` in -10..=10) that leaves the fewest of `pitches` outside
/// `min..=max`; ties go to the smallest `|shift|`, then to the lower shift, so pitches already in
/// range are not moved (spec `preprocessing.melody` `fit_range`).
pub fn best_octave_shift(pitches: impl Iterator<Item = u8> + Clone, min: u8, max: u8) -> i32 {
    let outside =
        |shift: i32| pitches.clone().filter(|&p| !(min as i32..=max as i32).contains(&(p as i32 + shift))).count();
    (-10..=10).map(|k| k * 12).min_by_key(|&s| (outside(s), s.abs(), s)).unwrap_or(0)
}

/// `pitch + semitones` moved by whole octaves into `min..=max` (`max - min >= 11`); the flag says
/// whether it had to be moved.
pub fn fold_pitch(pitch: u8, semitones: i32, min: u8, max: u8) -> (u8, bool) {
    let mut p = pitch as i32 + semitones;
    let outside = p < min as i32 || p > max as i32;
    while p < min as i32 {
        p += 12;
    }
    while p > max as i32 {
        p -= 12;
    }
    (p as u8, outside)
}

/// A key: tonic pitch class (0 = C) and mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub tonic: u8,
    pub minor: bool,
}

/// Krumhansl–Kessler key estimate from duration-weighted pitch classes; `None` for an empty clip.
pub fn estimate_key(clip: &Clip) -> Option<Key> {
    const MAJOR: [f64; 12] = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88];
    const MINOR: [f64; 12] = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];
    let mut hist = [0.0f64; 12];
    for n in &clip.notes {
        hist[(n.pitch % 12) as usize] += n.end.saturating_sub(n.start).max(1) as f64;
    }
    if clip.notes.is_empty() {
        return None;
    }
    let corr = |profile: &[f64; 12], tonic: usize| {
        let mx = hist.iter().sum::<f64>() / 12.0;
        let my = profile.iter().sum::<f64>() / 12.0;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for pc in 0..12 {
            let x = hist[pc] - mx;
            let y = profile[(pc + 12 - tonic) % 12] - my;
            sxy += x * y;
            sxx += x * x;
            syy += y * y;
        }
        if sxx == 0.0 {
            0.0
        } else {
            sxy / (sxx * syy).sqrt()
        }
    };
    let mut best = (f64::MIN, Key { tonic: 0, minor: false });
    for tonic in 0..12u8 {
        for (minor, profile) in [(false, &MAJOR), (true, &MINOR)] {
            let c = corr(profile, tonic as usize);
            if c > best.0 {
                best = (c, Key { tonic, minor });
            }
        }
    }
    Some(best.1)
}

/// The smallest shift (-6..=5 semitones) taking tonic pitch class `from` to `to`.
pub fn interval_to_key(from: u8, to: u8) -> i32 {
    let up = (to as i32 - from as i32).rem_euclid(12);
    if up > 5 {
        up - 12
    } else {
        up
    }
}

/// Transposes a clip whose tonic is `from` (pitch class) to tonic `to`, by the smallest shift.
/// Returns the clip and the shift.
pub fn transpose_to_key(clip: &Clip, from: u8, to: u8) -> Result<(Clip, i32)> {
    let s = interval_to_key(from, to);
    Ok((transpose(clip, s)?, s))
}

/// Shifts every pitch by `semitones` and folds notes that land outside `min..=max` back in by
/// whole octaves. Returns the clip and how many notes had to be folded. Needs `max - min >= 11`
/// so every pitch class fits.
pub fn shift_and_fold(clip: &Clip, semitones: i32, min: u8, max: u8) -> (Clip, usize) {
    let mut out = clip.clone();
    let mut folded = 0;
    for n in &mut out.notes {
        let (p, moved) = fold_pitch(n.pitch, semitones, min, max);
        folded += moved as usize;
        n.pitch = p;
    }
    out.sort();
    (out, folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clip::{Note, TimeSignature};

    fn clip(pitches: &[u8]) -> Clip {
        let mut c = Clip::new(1, TimeSignature::FOUR_FOUR, false);
        c.notes = pitches
            .iter()
            .enumerate()
            .map(|(i, &p)| Note {
                pitch: p,
                velocity: 90,
                start: i as u32 * 120,
                end: i as u32 * 120 + 120,
                channel: 0,
            })
            .collect();
        c
    }

    fn pitches(c: &Clip) -> Vec<u8> {
        c.notes.iter().map(|n| n.pitch).collect()
    }

    #[test]
    fn transpose_by_semitones() {
        assert_eq!(pitches(&transpose(&clip(&[60, 64]), -3).unwrap()), vec![57, 61]);
        assert_eq!(transpose(&clip(&[120]), 8), Err(MusicError::TransposeOutOfMidiRange { pitch: 120, semitones: 8 }));
        assert!(transpose(&clip(&[3]), -4).is_err());
    }

    #[test]
    fn into_range() {
        let f = transpose_into_range(&clip(&[60, 72]), 21, 108).unwrap();
        assert_eq!((f.semitones, f.folded), (0, 0));
        let f = transpose_into_range(&clip(&[110, 115, 100]), 21, 108).unwrap();
        assert_eq!((pitches(&f.clip), f.semitones, f.folded), (vec![98, 103, 88], -12, 0));
        // Span too wide for one shift: the outlier is folded.
        let f = transpose_into_range(&clip(&[10, 60, 127]), 21, 108).unwrap();
        assert_eq!((pitches(&f.clip), f.semitones, f.folded), (vec![22, 72, 103], 12, 1));
        assert!(f.clip.notes.iter().all(|n| (21..=108).contains(&n.pitch)));
        assert_eq!(transpose_into_range(&clip(&[60]), 60, 70), Err(MusicError::RangeTooNarrow { min: 60, max: 70 }));
    }

    #[test]
    fn keys() {
        assert_eq!(interval_to_key(0, 7), -5);
        assert_eq!(interval_to_key(0, 5), 5);
        assert_eq!(interval_to_key(9, 0), 3);
        assert_eq!(interval_to_key(2, 2), 0);
        // C major scale and arpeggio
        let c = clip(&[60, 62, 64, 65, 67, 69, 71, 72, 60, 64, 67, 60]);
        assert_eq!(estimate_key(&c), Some(Key { tonic: 0, minor: false }));
        let (d, s) = transpose_to_key(&c, 0, 2).unwrap();
        assert_eq!(s, 2);
        assert_eq!(estimate_key(&d), Some(Key { tonic: 2, minor: false }));
        // A minor
        let a = clip(&[57, 60, 64, 57, 59, 60, 62, 64, 65, 64, 62, 60, 59, 57, 56, 57]);
        assert_eq!(estimate_key(&a), Some(Key { tonic: 9, minor: true }));
        assert_eq!(estimate_key(&clip(&[])), None);
    }
}
