//! Generate: z ~ N(0, I) per variation, decoded by the VAE (one ORT run per step for the whole
//! batch).
//!
//! Lengths other than the model's window (4 bars): shorter ones decode fewer steps. Longer ones
//! are **chained**: the bars are cut into windows; window k+1 is decoded from
//! `z_{k+1} = slerp(z_k, z', CHAIN_BLEND)` with a fresh `z' ~ N(0, I)`, starting again from the
//! decoder's start token and the state `init(z_{k+1})`. Consecutive windows therefore share
//! half their latent code: they sound related (same feel, similar material) but the music keeps
//! moving instead of repeating. The last window is cut to the requested length.

use cadenza_music::{Clip, DrumMap, TimeSignature};

use crate::error::EngineError;
use crate::job::{Job, Mode, Output};
use crate::models::{Progress, Vae};
use crate::prepare::{self, steps_of_bars};
use crate::sampling::slerp;
use crate::tools::{purpose, rngs};

/// How far each chained window's z moves from the previous one towards a fresh sample.
pub const CHAIN_BLEND: f32 = 0.5;

pub(crate) fn run(
    vae: &mut Vae,
    job: &Job,
    report: &mut dyn FnMut(f32),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Output, EngineError> {
    let n = job.variations;
    let total = steps_of_bars(job.bars);
    let mask = match (job.mode, &job.key) {
        (Mode::Melody, Some(key)) => Some(prepare::key_mask(key, vae.vocab)),
        _ => None,
    };
    let mut zrng = rngs(job.seed, purpose::GENERATE_Z, n);
    let mut drng = rngs(job.seed, purpose::GENERATE_DECODE, n);
    let sample_z = |rngs: &mut Vec<crate::sampling::Pcg32>, dim: usize| -> Vec<Vec<f32>> {
        rngs.iter_mut()
            .map(|r| (0..dim).map(|_| r.next_normal() as f32).collect())
            .collect()
    };
    let mut zs = sample_z(&mut zrng, vae.z_dim);
    let mut progress = Progress::new(total, report, cancel);
    let mut seqs: Vec<Vec<i64>> = vec![Vec::with_capacity(total); n];
    let mut done = 0;
    while done < total {
        if done > 0 {
            let fresh = sample_z(&mut zrng, vae.z_dim);
            zs = zs
                .iter()
                .zip(&fresh)
                .map(|(a, b)| slerp(a, b, CHAIN_BLEND))
                .collect();
        }
        let steps = (total - done).min(vae.steps);
        let flat: Vec<f32> = zs.iter().flatten().copied().collect();
        let out = vae.decode(
            &flat,
            steps,
            job.temperature,
            mask.as_deref(),
            &mut drng,
            &mut progress,
        )?;
        for (s, o) in seqs.iter_mut().zip(out) {
            s.extend(o);
        }
        done += steps;
    }
    let map = DrumMap::default();
    let clips = seqs
        .iter()
        .map(|s| {
            let mut c = match job.mode {
                Mode::Melody => prepare::melody_clip(s, 0)?,
                Mode::Drums => prepare::drum_clip(s, &map)?,
            };
            c.bars = job.bars;
            c.time_signature = TimeSignature::FOUR_FOUR;
            Ok::<Clip, EngineError>(c)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Output {
        clips,
        warnings: Vec::new(),
    })
}
