//! Best-of-N ("Quality" 1× … 8×): Continue, Generate and Interpolate sample `quality` candidates
//! per requested clip (in the same batch, so the cost grows less than linearly) and keep the
//! best, diverse set.
//!
//! A candidate's score is the model's own log-likelihood per step of what it drew (temperature 1,
//! before the key mask) plus musical terms measured on the test data by
//! `python -m cadenza_train evaluate`:
//! - drums: how likely its bars are under the per class × 16th-position onset profile of GMD's
//!   validation performances ([`DRUM_PROFILE`]), how close the agreement of consecutive bars is
//!   to the data's (a groove repeats with variations), and its density against the target;
//! - melody: the share of notes in the key (the request's key, Key: Auto's, or else the best
//!   fitting major scale), leaps over a major sixth, and density against the target.
//!
//! The target density is the input's (Continue: the primer; Interpolate: the mean of A and B) or,
//! for Generate, the data's. Candidates are then taken best first, skipping any that shares 90 %
//! or more of its notes with one already taken (unless too few are left). Interpolate keeps the
//! best candidate of each point. Quality 1 (the default) samples exactly as before: the same
//! clips for the same seed, no scoring cost. Temperature 0 is greedy, so every candidate would
//! be the same: quality is ignored there.

use cadenza_music::spec::{DRUM_CLASSES, MELODY_FIRST_NOTE_ON, MELODY_MIN_PITCH, MELODY_NOTE_OFF, STEPS_PER_BAR};

use crate::job::{Job, Mode};

/// Highest Quality setting (candidates per requested clip).
pub const MAX_QUALITY: usize = 8;

/// Onset probability per drum class (rows, `drums.classes` order) and 16th position (columns) in
/// GMD's validation performances (issue 17 split; clamped to 0.005..0.995).
#[rustfmt::skip]
pub const DRUM_PROFILE: [[f32; 16]; DRUM_CLASSES] = [
    [0.806, 0.041, 0.164, 0.291, 0.360, 0.134, 0.147, 0.289, 0.573, 0.072, 0.240, 0.249, 0.359, 0.125, 0.154, 0.168],
    [0.151, 0.246, 0.292, 0.220, 0.651, 0.220, 0.225, 0.284, 0.235, 0.328, 0.306, 0.249, 0.611, 0.199, 0.267, 0.295],
    [0.442, 0.206, 0.600, 0.343, 0.482, 0.241, 0.625, 0.347, 0.435, 0.254, 0.580, 0.274, 0.442, 0.223, 0.517, 0.210],
    [0.094, 0.014, 0.060, 0.014, 0.069, 0.032, 0.031, 0.034, 0.076, 0.022, 0.067, 0.059, 0.092, 0.042, 0.087, 0.067],
    [0.126, 0.005, 0.102, 0.015, 0.193, 0.005, 0.176, 0.010, 0.158, 0.008, 0.124, 0.018, 0.208, 0.074, 0.174, 0.069],
    [0.052, 0.014, 0.014, 0.005, 0.025, 0.012, 0.025, 0.057, 0.073, 0.062, 0.036, 0.019, 0.030, 0.028, 0.024, 0.054],
    [0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.006, 0.012, 0.005, 0.006, 0.009, 0.005, 0.005, 0.008],
    [0.084, 0.005, 0.005, 0.005, 0.009, 0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.010, 0.006, 0.027, 0.005],
    [0.142, 0.008, 0.062, 0.026, 0.132, 0.032, 0.056, 0.030, 0.119, 0.012, 0.073, 0.018, 0.112, 0.026, 0.047, 0.028],
];

/// Onsets per bar of the validation data (drum hits of all classes; melody notes).
pub const DATA_DENSITY_DRUMS: f32 = 19.18;
pub const DATA_DENSITY_MELODY: f32 = 5.69;
/// Mean share of notes two consecutive bars have in common (Jaccard) in the same drum data.
pub const DATA_BAR_SIMILARITY_DRUMS: f32 = 0.61;

/// Weights of the musical terms against the log-likelihood per step.
const W_PROFILE: f32 = 3.0;
const W_CONSISTENCY: f32 = 2.0;
const W_DENSITY: f32 = 1.0;
const W_IN_KEY: f32 = 2.0;
const W_LEAPS: f32 = 1.0;
/// Candidates sharing at least this share of notes with a chosen one are near-copies.
const NEAR_COPY: f32 = 0.9;

/// Candidates per requested clip for this job (1 at temperature 0).
pub fn candidates_per_clip(job: &Job) -> usize {
    if job.temperature <= 0.0 {
        1
    } else {
        job.quality.clamp(1, MAX_QUALITY)
    }
}

/// What a candidate should sound like besides being likely under the model.
#[derive(Clone, Debug)]
pub struct Target {
    pub mode: Mode,
    /// Onsets per bar.
    pub density: f32,
    /// Melody: the pitch classes of the key the notes were held to, if any.
    pub key: Option<[bool; 12]>,
}

impl Target {
    /// Density of `tokens` (an input), or the data's when the input has no onsets.
    pub fn like(mode: Mode, tokens: &[&[i64]], mask: Option<&[bool]>) -> Target {
        let (mut on, mut steps) = (0usize, 0usize);
        for t in tokens {
            on += onsets(t, mode);
            steps += t.len();
        }
        let density =
            if on > 0 && steps > 0 { on as f32 * STEPS_PER_BAR as f32 / steps as f32 } else { data_density(mode) };
        Target { mode, density, key: mask.map(key_of_mask) }
    }

    /// Generate: the data's density.
    pub fn data(mode: Mode, mask: Option<&[bool]>) -> Target {
        Target { mode, density: data_density(mode), key: mask.map(key_of_mask) }
    }
}

fn data_density(mode: Mode) -> f32 {
    match mode {
        Mode::Drums => DATA_DENSITY_DRUMS,
        Mode::Melody => DATA_DENSITY_MELODY,
    }
}

fn key_of_mask(mask: &[bool]) -> [bool; 12] {
    let mut pcs = [false; 12];
    for (t, &ok) in mask.iter().enumerate().skip(MELODY_FIRST_NOTE_ON as usize) {
        if ok {
            let pitch = MELODY_MIN_PITCH as usize + t - MELODY_FIRST_NOTE_ON as usize;
            pcs[pitch % 12] = true;
        }
    }
    pcs
}

fn onsets(tokens: &[i64], mode: Mode) -> usize {
    match mode {
        Mode::Drums => tokens.iter().map(|&t| (t.max(0) as u32).count_ones() as usize).sum(),
        Mode::Melody => tokens.iter().filter(|&&t| t >= MELODY_FIRST_NOTE_ON as i64).count(),
    }
}

/// The musical part of a candidate's score (higher is better).
pub fn musical_score(seq: &[i64], target: &Target) -> f32 {
    if seq.is_empty() {
        return f32::NEG_INFINITY;
    }
    let bar = STEPS_PER_BAR as usize;
    let d = onsets(seq, target.mode) as f32 * bar as f32 / seq.len() as f32;
    let density = -((d + 0.5) / (target.density + 0.5)).ln().abs();
    match target.mode {
        Mode::Drums => {
            let mut profile = 0.0f32;
            for (i, &t) in seq.iter().enumerate() {
                for (c, row) in DRUM_PROFILE.iter().enumerate() {
                    let p = row[i % bar];
                    profile += if (t >> c) & 1 == 1 { p.ln() } else { (1.0 - p).ln() };
                }
            }
            profile /= (seq.len() * DRUM_CLASSES) as f32;
            let bars: Vec<&[i64]> = seq.chunks(bar).filter(|b| b.len() == bar).collect();
            // Near the data's bar-to-bar similarity: a groove that repeats with variations, not
            // a loop of one bar and not unrelated bars.
            let consistency = if bars.len() >= 2 {
                let sim =
                    bars.windows(2).map(|w| jaccard(w[0], w[1], Mode::Drums)).sum::<f32>() / (bars.len() - 1) as f32;
                -(sim - DATA_BAR_SIMILARITY_DRUMS).abs()
            } else {
                0.0
            };
            W_PROFILE * profile + W_CONSISTENCY * consistency + W_DENSITY * density
        }
        Mode::Melody => {
            let pitches: Vec<usize> = seq
                .iter()
                .filter(|&&t| t >= MELODY_FIRST_NOTE_ON as i64)
                .map(|&t| MELODY_MIN_PITCH as usize + (t - MELODY_FIRST_NOTE_ON as i64) as usize)
                .collect();
            if pitches.is_empty() {
                return W_DENSITY * density;
            }
            let in_key = match target.key {
                Some(pcs) => pitches.iter().filter(|&&p| pcs[p % 12]).count(),
                None => (0..12)
                    .map(|r| pitches.iter().filter(|&&p| [0, 2, 4, 5, 7, 9, 11].contains(&((p + 12 - r) % 12))).count())
                    .max()
                    .unwrap_or(0),
            } as f32
                / pitches.len() as f32;
            let leaps = if pitches.len() >= 2 {
                pitches.windows(2).filter(|w| w[0].abs_diff(w[1]) > 9).count() as f32 / (pitches.len() - 1) as f32
            } else {
                0.0
            };
            W_IN_KEY * in_key - W_LEAPS * leaps + W_DENSITY * density
        }
    }
}

/// Shared notes of two token sequences over the notes of either (1 = the same notes).
fn jaccard(a: &[i64], b: &[i64], mode: Mode) -> f32 {
    let (mut both, mut either) = (0u32, 0u32);
    for (&x, &y) in a.iter().zip(b) {
        match mode {
            Mode::Drums => {
                let (x, y) = (x.max(0) as u32, y.max(0) as u32);
                both += (x & y).count_ones();
                either += (x | y).count_ones();
            }
            Mode::Melody => {
                let (nx, ny) = (x > MELODY_NOTE_OFF as i64, y > MELODY_NOTE_OFF as i64);
                both += (nx && ny && x == y) as u32;
                either += (nx || ny) as u32;
            }
        }
    }
    if either == 0 {
        1.0
    } else {
        both as f32 / either as f32
    }
}

/// Each candidate's score: log-likelihood per step (0 where unknown) + the musical terms.
pub(crate) fn scores(seqs: &[Vec<i64>], loglik: &[f32], target: &Target) -> Vec<f32> {
    seqs.iter()
        .enumerate()
        .map(|(i, s)| {
            let ll = loglik.get(i).copied().filter(|v| v.is_finite()).unwrap_or(0.0);
            ll / s.len().max(1) as f32 + musical_score(s, target)
        })
        .collect()
}

/// `want` of `seqs`, best score first, skipping near-copies of those already taken while enough
/// candidates are left. With as many candidates as wanted, returns `seqs` unchanged.
pub(crate) fn choose(seqs: Vec<Vec<i64>>, loglik: &[f32], want: usize, target: &Target) -> Vec<Vec<i64>> {
    if seqs.len() <= want {
        return seqs;
    }
    let sc = scores(&seqs, loglik, target);
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by(|&a, &b| sc[b].total_cmp(&sc[a]).then(a.cmp(&b)));
    let mut taken: Vec<usize> = Vec::with_capacity(want);
    for &i in &order {
        if taken.len() == want {
            break;
        }
        let near = taken.iter().any(|&j| jaccard(&seqs[i], &seqs[j], target.mode) >= NEAR_COPY);
        if !near {
            taken.push(i);
        }
    }
    for &i in &order {
        if taken.len() == want {
            break;
        }
        if !taken.contains(&i) {
            taken.push(i);
        }
    }
    let mut seqs: Vec<Option<Vec<i64>>> = seqs.into_iter().map(Some).collect();
    taken.iter().map(|&i| seqs[i].take().expect("taken once")).collect()
}

/// Interpolate: `seqs` holds `group` candidates per point, point by point; keeps the best of each.
pub(crate) fn best_per_group(seqs: Vec<Vec<i64>>, loglik: &[f32], group: usize, target: &Target) -> Vec<Vec<i64>> {
    if group <= 1 {
        return seqs;
    }
    let sc = scores(&seqs, loglik, target);
    let mut seqs: Vec<Option<Vec<i64>>> = seqs.into_iter().map(Some).collect();
    (0..seqs.len() / group)
        .map(|p| {
            let best = (p * group..(p + 1) * group)
                .max_by(|&a, &b| sc[a].total_cmp(&sc[b]).then(b.cmp(&a)))
                .expect("group > 0");
            seqs[best].take().expect("taken once")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(bars: usize, with_downbeat: bool) -> Vec<i64> {
        // kick (bit 0) on 1 and 3, snare (bit 1) on 2 and 4, closed hat (bit 2) on 8ths
        (0..bars * 16)
            .map(|i| {
                let p = i % 16;
                let mut t = 0i64;
                if (p == 0 && with_downbeat) || p == 8 {
                    t |= 1;
                }
                if p == 4 || p == 12 {
                    t |= 2;
                }
                if p % 2 == 0 {
                    t |= 4;
                }
                t
            })
            .collect()
    }

    #[test]
    fn a_backbeat_groove_outscores_scattered_hits() {
        let target = Target::data(Mode::Drums, None);
        let groove = beat(4, true);
        let mut scattered = vec![0i64; 64];
        for (i, t) in scattered.iter_mut().enumerate() {
            *t = [0, 64, 0, 16, 0, 0, 128, 0, 2][i % 9];
        }
        assert!(musical_score(&groove, &target) > musical_score(&scattered, &target));
        assert!(musical_score(&groove, &target) > musical_score(&beat(4, false), &target));
    }

    #[test]
    fn melody_in_key_beats_chromatic() {
        let target = Target::data(Mode::Melody, None);
        let tok = |p: i64| MELODY_FIRST_NOTE_ON as i64 + p - MELODY_MIN_PITCH as i64;
        let mut scale = vec![0i64; 64];
        let mut chroma = vec![0i64; 64];
        for k in 0..16 {
            scale[k * 4] = tok(60 + [0, 2, 4, 5, 7, 9, 11, 12][k % 8]);
            chroma[k * 4] = tok(60 + k as i64);
        }
        assert!(musical_score(&scale, &target) > musical_score(&chroma, &target));
    }

    #[test]
    fn choose_prefers_likely_and_skips_near_copies() {
        let target = Target::data(Mode::Drums, None);
        let a = beat(4, true);
        // the same beat with 16th hats: another groove, not a near-copy
        let b: Vec<i64> = a.iter().map(|&t| t | 4).collect();
        let c = vec![0i64; 64];
        let seqs = vec![c.clone(), a.clone(), a.clone(), b.clone()];
        let mut got = choose(seqs, &[-200.0, -60.0, -60.0, -70.0], 2, &target);
        got.sort();
        let mut want = vec![a.clone(), b.clone()];
        want.sort();
        assert_eq!(got, want);
        // a near-copy (one kick less) is taken only when nothing else is left
        let near = beat(4, false);
        let mut got = choose(vec![a.clone(), near.clone(), b.clone()], &[-60.0, -60.0, -90.0], 2, &target);
        got.sort();
        assert_eq!(got, want);
        // as many candidates as wanted: unchanged, in order
        let same = choose(vec![c.clone(), a.clone()], &[], 2, &target);
        assert_eq!(same, vec![c, a]);
    }

    #[test]
    fn best_per_group_keeps_one_per_point() {
        let target = Target::data(Mode::Drums, None);
        let a = beat(4, true);
        let b = beat(4, false);
        let got = best_per_group(vec![b.clone(), a.clone(), a.clone(), b.clone()], &[], 2, &target);
        assert_eq!(got, vec![a.clone(), a]);
    }
}
