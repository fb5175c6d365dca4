//! Generate: z from the model's latent prior per variation ([`Vae::sample_prior`]: the mixture
//! fitted to the training windows' codes, or N(0, I) for a model without one), decoded by the VAE
//! (one ORT run per step for the whole batch).
//!
//! Lengths other than the model's window (4 bars): shorter ones decode fewer steps. Longer ones
//! are **chained**: the bars are cut into windows; window k+1 is decoded from
//! `z_{k+1} = slerp(z_k, z', CHAIN_BLEND)` with a fresh `z'` from the same prior component,
//! starting again from the decoder's start token and the state `init(z_{k+1})`. Consecutive
//! windows therefore share half their latent code: they sound related (same feel, similar
//! material) but the music keeps moving instead of repeating. The last window is cut to the
//! requested length.

use cadenza_music::{Clip, DrumMap, TimeSignature};

use crate::best_of;
use crate::dynamics::Dynamics;
use crate::error::EngineError;
use crate::job::{Job, Mode, Output};
use crate::models::{GrooveNet, Progress, Vae};
use crate::prepare::{self, steps_of_bars};
use crate::sampling::{slerp, Pcg32};
use crate::tools::{common, groove, purpose, rngs};

/// How far each chained window's z moves from the previous one towards a fresh sample.
pub const CHAIN_BLEND: f32 = 0.5;

/// Decodes `total` steps for every variation whose latent stream is `zrng[i]` and decoding
/// stream `drng[i]`, chaining windows (see the module docs).
fn decode_chained(
    vae: &mut Vae,
    zrng: &mut [Pcg32],
    drng: &mut [Pcg32],
    total: usize,
    temperature: f32,
    mask: Option<&[bool]>,
    progress: &mut Progress<'_>,
) -> Result<Vec<Vec<i64>>, EngineError> {
    // One mixture component per variation for all its windows: a chained window's fresh z' comes
    // from the same component as the first, so the blend stays among the codes of one kind of
    // groove or tune. Two codes of different components blend into the space between them, where
    // no training window lies. Measured through the CLI (64 drum clips of 8 bars against the
    // test data): bars 5-8 share 0.36 of their hits bar to bar and repeat 0.5 % of their bar pairs
    // with fresh components, 0.50 and 13 % with the same one (bars 1-4: 0.46 and 7 %; data 0.56
    // and 23 %).
    let components = Vae::draw_components(zrng);
    let mut zs = vae.sample_prior(&components, zrng)?;
    let mut seqs: Vec<Vec<i64>> = vec![Vec::with_capacity(total); zrng.len()];
    let mut loglik = vec![0.0f32; zrng.len()];
    let mut done = 0;
    while done < total {
        if done > 0 {
            let fresh = vae.sample_prior(&components, zrng)?;
            zs = zs.iter().zip(&fresh).map(|(a, b)| slerp(a, b, CHAIN_BLEND)).collect();
        }
        let steps = (total - done).min(vae.steps);
        let flat: Vec<f32> = zs.iter().flatten().copied().collect();
        let out = vae.decode(&flat, steps, temperature, mask, drng, progress)?;
        for (s, o) in seqs.iter_mut().zip(out) {
            s.extend(o);
        }
        for (a, l) in loglik.iter_mut().zip(&vae.loglik) {
            *a += l;
        }
        done += steps;
    }
    vae.loglik = loglik;
    Ok(seqs)
}

/// Generate has no input: Key: Auto finds nothing to follow (any note), velocities follow a
/// musical default profile ([`Dynamics::default_drums`], [`Dynamics::default_melody`]), and
/// drums are humanized when Humanize is on. A variation that comes out without notes is made
/// again with a fresh z at a slightly higher temperature.
pub(crate) fn run(
    vae: &mut Vae,
    humanizer: Option<&mut GrooveNet>,
    job: &Job,
    report: &mut dyn FnMut(f32),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Output, EngineError> {
    // Quality: `q` candidates per variation in one batch, the best kept (crate::best_of).
    let q = best_of::candidates_per_clip(job);
    let n = job.variations * q;
    let total = steps_of_bars(job.bars);
    let mask = match (job.mode, job.key.fixed()) {
        (Mode::Melody, Some(key)) => Some(prepare::key_mask(&key, vae.vocab)),
        _ => None,
    };
    let mut zrng = rngs(job.seed, purpose::GENERATE_Z, n);
    let mut drng = rngs(job.seed, purpose::GENERATE_DECODE, n);
    let mut progress = Progress::new(total, report, cancel);
    let mut warnings = Vec::new();
    vae.scoring = q > 1;
    let seqs = decode_chained(vae, &mut zrng, &mut drng, total, job.temperature, mask.as_deref(), &mut progress)?;
    vae.scoring = false;
    let loglik = std::mem::take(&mut vae.loglik);
    let target = best_of::Target::data(job.mode, mask.as_deref());
    let mut seqs = best_of::choose(seqs, &loglik, job.variations, &target);
    common::remake_empty(
        &mut seqs,
        job.temperature,
        |s| common::is_empty_output(s, job.mode),
        |which, t, retry, force| {
            let p = purpose::RESAMPLE + retry as u64;
            let mut zr: Vec<Pcg32> = which.iter().map(|&i| Pcg32::for_variation(job.seed, p * 2, i)).collect();
            let mut dr: Vec<Pcg32> = which.iter().map(|&i| Pcg32::for_variation(job.seed, p * 2 + 1, i)).collect();
            vae.force = force.then(|| common::forced_onsets(job.mode, vae.vocab, mask.as_deref()));
            let out = decode_chained(vae, &mut zr, &mut dr, total, t, mask.as_deref(), &mut progress);
            vae.force = None;
            out
        },
        |i| i,
        &mut warnings,
    )?;
    let map = DrumMap::default();
    let dynamics = match job.mode {
        Mode::Melody => Dynamics::default_melody(),
        Mode::Drums => Dynamics::default_drums(),
    };
    let mut clips = seqs
        .iter()
        .map(|s| {
            let mut c = match job.mode {
                Mode::Melody => prepare::melody_clip(s, 0)?,
                Mode::Drums => prepare::drum_clip(s, &map)?,
            };
            c.bars = job.bars;
            c.time_signature = TimeSignature::FOUR_FOUR;
            dynamics.apply(&mut c, 0, (job.mode == Mode::Drums).then_some(&map));
            Ok::<Clip, EngineError>(c)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if job.mode == Mode::Drums && job.humanize {
        if let Some(net) = humanizer {
            let from = vec![0; clips.len()];
            groove::humanize(net, &mut clips, &from, job.temperature, job.seed)?;
        }
    }
    Ok(Output { clips, warnings, ..Output::default() })
}
