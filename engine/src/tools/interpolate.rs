//! Interpolate: encode inputs A and B (cut or padded to the model's 4 bars, as Magenta Studio
//! does), walk the great circle between their latent means (slerp), decode the points between
//! them as one batch.
//!
//! - Length: the results are as long as the inputs (the longer of A and B, at most the model's
//!   4 bars): 2-bar inputs give 2-bar results, and nothing sounds past their end.
//! - Endpoints (on by default): the first and last results ARE inputs A and B, as given (cut to
//!   that length); only the points between them are decoded. Re-decoding an input by sampling
//!   would lose what the musician played (its last notes, its dynamics).
//! - The decoded points take the inputs' dynamics and kit, blended from A's to B's along the way
//!   ([`Dynamics::blend`], [`Kit::blend`]); with Humanize on, drum points go through the Groove
//!   model. A point that comes out without notes is decoded again at a slightly higher
//!   temperature (and the warnings say so).

use cadenza_music::{Clip, DrumMap, Note, Window};

use crate::best_of;
use crate::dynamics::Dynamics;
use crate::error::EngineError;
use crate::job::{Job, Mode, Output};
use crate::kit::Kit;
use crate::models::{GrooveNet, Progress, Vae};
use crate::prepare;
use crate::sampling::{slerp, Pcg32};
use crate::tools::{common, groove, purpose, rngs};

/// The interpolation positions: with endpoints `0, 1/(n-1), …, 1` (a single clip sits halfway),
/// without `1/(n+1), …, n/(n+1)`.
pub fn alphas(n: usize, include_endpoints: bool) -> Vec<f32> {
    if include_endpoints && n >= 2 {
        (0..n).map(|i| i as f32 / (n - 1) as f32).collect()
    } else {
        (0..n).map(|i| (i + 1) as f32 / (n + 1) as f32).collect()
    }
}

pub(crate) fn run(
    vae: &mut Vae,
    humanizer: Option<&mut GrooveNet>,
    job: &Job,
    report: &mut dyn FnMut(f32),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Output, EngineError> {
    let (a, b) = (&job.inputs[0], &job.inputs[1]);
    prepare::check_clip(a, "input A")?;
    prepare::check_clip(b, "input B")?;
    let window_bars = (vae.steps / prepare::steps_of_bars(1)) as u16;
    let mut warnings = Vec::new();
    for (clip, label) in [(a, "input A"), (b, "input B")] {
        if clip.bars > window_bars {
            warnings.push(format!("{label} is {} bars long; only its first {window_bars} bars were used", clip.bars));
        }
    }
    // Both inputs through the one preprocessing path, cut to the model's window (spec
    // `preprocessing`); melodies share one octave shift.
    let window = Window::Bars { start: 0, bars: window_bars };
    let map = DrumMap::default();
    let (ta, tb, counts, shift) = match job.mode {
        Mode::Melody => {
            let p = prepare::melody_inputs(&[(a, "input A"), (b, "input B")], window, &mut warnings)?;
            let counts = [p[0].stages.window.notes.len(), p[1].stages.window.notes.len()];
            (prepare::ids(&p[0].tokens), prepare::ids(&p[1].tokens), counts, p[0].report.shift)
        }
        Mode::Drums => {
            let pa = prepare::drum_input(a, &map, window, "input A", &mut warnings)?;
            let pb = prepare::drum_input(b, &map, window, "input B", &mut warnings)?;
            let counts = [pa.stages.window.notes.len(), pb.stages.window.notes.len()];
            (prepare::ids(&pa.tokens), prepare::ids(&pb.tokens), counts, 0)
        }
    };
    for (count, label) in counts.into_iter().zip(["input A", "input B"]) {
        if count == 0 {
            return Err(EngineError::EmptyInput(format!("{label} has no notes in its first {window_bars} bars")));
        }
    }
    let given = [ta.clone(), tb.clone()];
    let mut both = ta;
    both.extend_from_slice(&tb);
    let mu = vae.encode(&both, 2)?;
    let (mu_a, mu_b) = mu.split_at(vae.z_dim);

    // The results are as long as the inputs, at most the model's window.
    let bars = a.bars.max(b.bars).clamp(1, window_bars);
    let steps = prepare::steps_of_bars(bars);
    let alphas = alphas(job.interp_steps, job.include_endpoints);
    let n = alphas.len();
    let endpoint = |i: usize| job.include_endpoints && n >= 2 && (i == 0 || i == n - 1);
    let decoded: Vec<usize> = (0..n).filter(|&i| !endpoint(i)).collect();
    // Quality: `q` candidates per point (candidate c is point c / q), the best kept
    // (crate::best_of); candidate 0 of each point is what quality 1 decodes.
    let q = best_of::candidates_per_clip(job);
    let z_of = |which: &[usize]| -> Vec<f32> {
        which.iter().flat_map(|&c| slerp(mu_a, mu_b, alphas[decoded[c / q]])).collect()
    };
    let (mask, detected_key) = common::melody_key(job, &[a, b], vae.vocab);
    let mut seqs = Vec::new();
    if !decoded.is_empty() {
        let all: Vec<usize> = (0..decoded.len() * q).collect();
        let z = z_of(&all);
        let streams: Vec<Pcg32> = rngs(job.seed, purpose::INTERPOLATE, n);
        let mut streams: Vec<Pcg32> = all
            .iter()
            .map(|&c| match c % q {
                0 => streams[decoded[c / q]].clone(),
                j => Pcg32::for_variation(job.seed, purpose::BEST_OF + j as u64, decoded[c / q]),
            })
            .collect();
        let mut progress = Progress::new(steps, report, cancel);
        vae.scoring = q > 1;
        seqs = vae.decode(&z, steps, job.temperature, mask.as_deref(), &mut streams, &mut progress)?;
        vae.scoring = false;
        let loglik = std::mem::take(&mut vae.loglik);
        let given: Vec<&[i64]> = given.iter().map(|t| &t[..]).collect();
        let target = best_of::Target::like(job.mode, &given, mask.as_deref());
        seqs = best_of::best_per_group(seqs, &loglik, q, &target);
        // One sequence per decoded point now: point k is result decoded[k].
        common::remake_empty(
            &mut seqs,
            job.temperature,
            |s| common::is_empty_output(s, job.mode),
            |which, t, retry, force| {
                let z = z_of(&which.iter().map(|&k| k * q).collect::<Vec<_>>());
                let mut streams: Vec<Pcg32> = which
                    .iter()
                    .map(|&k| Pcg32::for_variation(job.seed, purpose::RESAMPLE + retry as u64, decoded[k]))
                    .collect();
                vae.force = force.then(|| common::forced_onsets(job.mode, vae.vocab, mask.as_deref()));
                let out = vae.decode(&z, steps, t, mask.as_deref(), &mut streams, &mut progress);
                vae.force = None;
                out
            },
            |k| decoded[k],
            &mut warnings,
        )?;
    }

    let drums = job.mode == Mode::Drums;
    let learn = |c: &Clip| match job.mode {
        Mode::Melody => Dynamics::learn_melody(&[c]),
        Mode::Drums => Dynamics::learn_drums(&[c], &map),
    };
    let (dyn_a, dyn_b) = (learn(a), learn(b));
    let (kit_a, kit_b) = if drums { (Kit::learn(&[a], &map), Kit::learn(&[b], &map)) } else { (Kit::gm(), Kit::gm()) };
    let channel = a.notes.first().map_or(0, |n| n.channel);
    let mut clips = Vec::with_capacity(n);
    let mut seqs = seqs.into_iter();
    let mut humanize = Vec::new();
    for (i, &t) in alphas.iter().enumerate() {
        let mut c = if endpoint(i) {
            // The input as given, cut to the results' length.
            let given = if i == 0 { a } else { b };
            given.window(0, bars).map_err(crate::error::from_music)?
        } else {
            let s = seqs.next().expect("one sequence per decoded point");
            let mut c = match job.mode {
                Mode::Melody => {
                    let mut c = prepare::melody_clip(&s, shift)?;
                    for n in &mut c.notes {
                        *n = Note { channel, ..*n };
                    }
                    c
                }
                Mode::Drums => prepare::drum_clip(&s, &map)?,
            };
            c.bars = bars;
            if let (Some(da), Some(db)) = (&dyn_a, &dyn_b) {
                Dynamics::blend(da, db, t).apply(&mut c, 0, drums.then_some(&map));
            }
            Kit::blend(&kit_a, &kit_b, t).apply(&mut c, 0, &map);
            humanize.push(i);
            c
        };
        c.bars = bars;
        c.is_drum = drums;
        let len = c.length_ticks();
        c.notes.retain(|n| n.start < len);
        for n in &mut c.notes {
            n.end = n.end.min(len);
        }
        c.sort();
        clips.push(c);
    }
    if drums && job.humanize && !humanize.is_empty() {
        if let Some(net) = humanizer {
            let mut points: Vec<Clip> = humanize.iter().map(|&i| clips[i].clone()).collect();
            let from = vec![0; points.len()];
            groove::humanize(net, &mut points, &from, job.temperature, job.seed)?;
            for (&i, c) in humanize.iter().zip(points) {
                clips[i] = c;
            }
        }
    }
    Ok(Output { clips, warnings, detected_key, ..Output::default() })
}

#[cfg(test)]
mod tests {
    #[test]
    fn alphas() {
        assert_eq!(super::alphas(3, true), vec![0.0, 0.5, 1.0]);
        assert_eq!(super::alphas(1, true), vec![0.5]);
        assert_eq!(super::alphas(3, false), vec![0.25, 0.5, 0.75]);
    }
}
