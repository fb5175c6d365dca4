//! Interpolate: encode inputs A and B (cut or padded to the model's 4 bars, as Magenta Studio
//! does), walk the great circle between their latent means (slerp), decode every point as one
//! batch.

use cadenza_music::{Clip, DrumMap, Window};

use crate::error::EngineError;
use crate::job::{Job, Mode, Output};
use crate::models::{Progress, Vae};
use crate::prepare;
use crate::sampling::slerp;
use crate::tools::{purpose, rngs};

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
            warnings.push(format!(
                "{label} is {} bars long; only its first {window_bars} bars were used",
                clip.bars
            ));
        }
    }
    // Both inputs through the one preprocessing path, cut to the model's window (spec
    // `preprocessing`); melodies share one octave shift.
    let window = Window::Bars {
        start: 0,
        bars: window_bars,
    };
    let map = DrumMap::default();
    let (ta, tb, counts, shift) = match job.mode {
        Mode::Melody => {
            let p =
                prepare::melody_inputs(&[(a, "input A"), (b, "input B")], window, &mut warnings)?;
            let counts = [
                p[0].stages.window.notes.len(),
                p[1].stages.window.notes.len(),
            ];
            (
                prepare::ids(&p[0].tokens),
                prepare::ids(&p[1].tokens),
                counts,
                p[0].report.shift,
            )
        }
        Mode::Drums => {
            let pa = prepare::drum_input(a, &map, window, "input A", &mut warnings)?;
            let pb = prepare::drum_input(b, &map, window, "input B", &mut warnings)?;
            let counts = [pa.stages.window.notes.len(), pb.stages.window.notes.len()];
            (
                prepare::ids(&pa.tokens),
                prepare::ids(&pb.tokens),
                counts,
                0,
            )
        }
    };
    for (count, label) in counts.into_iter().zip(["input A", "input B"]) {
        if count == 0 {
            return Err(EngineError::EmptyInput(format!(
                "{label} has no notes in its first {window_bars} bars"
            )));
        }
    }
    let mut both = ta;
    both.extend_from_slice(&tb);
    let mu = vae.encode(&both, 2)?;
    let (mu_a, mu_b) = mu.split_at(vae.z_dim);
    let alphas = alphas(job.interp_steps, job.include_endpoints);
    let z: Vec<f32> = alphas.iter().flat_map(|&t| slerp(mu_a, mu_b, t)).collect();
    let mask = match (job.mode, &job.key) {
        (Mode::Melody, Some(key)) => Some(prepare::key_mask(key, vae.vocab)),
        _ => None,
    };
    let mut rngs = rngs(job.seed, purpose::INTERPOLATE, alphas.len());
    let mut progress = Progress::new(vae.steps, report, cancel);
    let seqs = vae.decode(
        &z,
        vae.steps,
        job.temperature,
        mask.as_deref(),
        &mut rngs,
        &mut progress,
    )?;
    let clips = seqs
        .iter()
        .map(|s| {
            let mut c = match job.mode {
                Mode::Melody => prepare::melody_clip(s, shift)?,
                Mode::Drums => prepare::drum_clip(s, &map)?,
            };
            c.bars = window_bars;
            Ok::<Clip, EngineError>(c)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Output { clips, warnings })
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
