//! Drumify and Groove with the GrooVAE-style model, over inputs of any length.
//!
//! The model reads and writes 2-bar windows. Long clips are cut into windows that overlap by one
//! bar (hop = 1 bar) and decoded as ONE batch (windows × variations): every bar except the first
//! and last is seen by two windows, each with a bar of context on one side. The two predictions
//! of a step are blended with triangular weights (more weight towards a window's centre), so
//! hits, velocities and timing flow across the seams instead of restarting every two bars.
//! A variation uses the same noise `eps` in every window: `z = mu + T · sigma · eps`, so its
//! character stays the same along the clip. A 1-bar clip is padded to 2 bars and cut back.
//!
//! - Drumify: input = tap encoding of every onset (any instrument); hits come from the model
//!   (T = 0: hit probability > 0.5; otherwise Bernoulli(sigmoid(logit / T))).
//! - Groove: input = the quantized drum hits (velocity and offset zeroed, as the model was
//!   trained); the output keeps exactly the input's hits and takes velocity and micro-timing
//!   from the model.

use cadenza_music::quantize::quantize;
use cadenza_music::spec::{DRUM_CLASSES, GROOVE_FLOATS_PER_STEP};
use cadenza_music::{
    decode_groove, encode_groove_quantized, encode_tap_quantized, DrumMap, GrooveRow,
};

use crate::error::{from_music, EngineError};
use crate::job::{Job, Output, Tool};
use crate::models::{GrooveNet, Progress};
use crate::prepare;
use crate::sampling::{sample_bernoulli, Pcg32};
use crate::tools::{purpose, rngs};

/// Window starts (in steps) covering `total` steps with windows of `window`, hop `hop`.
pub fn window_starts(total: usize, window: usize, hop: usize) -> Vec<usize> {
    if total <= window {
        return vec![0];
    }
    let mut starts: Vec<usize> = (0..=total - window).step_by(hop.max(1)).collect();
    if *starts.last().unwrap_or(&0) + window < total {
        starts.push(total - window);
    }
    starts
}

/// Weight of position `p` in a window of `w` steps.
fn tri(p: usize, w: usize) -> f32 {
    (p.min(w - 1 - p) + 1) as f32
}

pub(crate) fn run(
    net: &mut GrooveNet,
    job: &Job,
    report: &mut dyn FnMut(f32),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Output, EngineError> {
    let input = &job.inputs[0];
    prepare::check_clip(input, "the input clip")?;
    let drumify = job.tool == Tool::Drumify;
    let map = DrumMap::default();
    let mut warnings = Vec::new();
    let q = quantize(input).map_err(from_music)?;
    let total = q.steps as usize;
    let (w, f) = (net.steps, net.in_floats);
    let hop = prepare::steps_of_bars(1);
    let starts = window_starts(total, w, hop);
    let nw = starts.len();

    // Inputs per window (padded past the clip end with silence).
    let mut x = Vec::with_capacity(nw * w * f);
    let mut input_hits: Vec<[bool; DRUM_CLASSES]> = vec![[false; DRUM_CLASSES]; total];
    if drumify {
        for &s in &starts {
            x.extend(encode_tap_quantized(&q.window(s as u32, w as u32)).flat());
        }
    } else {
        let full = encode_groove_quantized(&q, &map);
        prepare::warn_unmapped(full.dropped.unmapped, "the input", &mut warnings);
        if full
            .rows
            .iter()
            .all(|r| r.iter().step_by(3).all(|&h| h == 0.0))
        {
            return Err(EngineError::EmptyInput(
                "the input has no notes the drum map knows (kick, snare, hats, toms, cymbals)"
                    .into(),
            ));
        }
        for (step, row) in full.rows.iter().enumerate() {
            for v in 0..net.voices {
                input_hits[step][v] = row[v * 3] > 0.5;
            }
        }
        for &s in &starts {
            let g = encode_groove_quantized(&q.window(s as u32, w as u32), &map);
            for row in &g.rows {
                for (k, &v) in row.iter().enumerate() {
                    // hits only: velocity and offset zeroed
                    x.push(if k % 3 == 0 { v } else { 0.0 });
                }
            }
        }
    }
    if x.len() != nw * w * f {
        return Err(EngineError::ort(
            "preparing the groove input",
            format!(
                "{} floats per step in the encoding, the model wants {f}",
                x.len() / (nw * w)
            ),
        ));
    }
    let mut progress = Progress::new(2, report, cancel);
    progress.check()?;
    let (mu, sigma) = net.encode(&x, nw)?;
    progress.step()?;

    // Batch = variation-major: row (v, k) = variation v, window k.
    let nv = job.variations;
    let zd = net.z_dim;
    let mut zrng = rngs(job.seed, purpose::GROOVE_Z, nv);
    let mut z = Vec::with_capacity(nv * nw * zd);
    let mut xb = Vec::with_capacity(nv * x.len());
    for r in zrng.iter_mut() {
        let eps: Vec<f32> = (0..zd).map(|_| r.next_normal() as f32).collect();
        for k in 0..nw {
            let (m, sd) = (&mu[k * zd..(k + 1) * zd], &sigma[k * zd..(k + 1) * zd]);
            for ((m, s), e) in m.iter().zip(sd).zip(&eps) {
                z.push(m + job.temperature * s * e);
            }
        }
        xb.extend_from_slice(&x);
    }
    let out = net.decode(&z, &xb, nv * nw)?;
    progress.step()?;

    let (of, vo) = (net.out_floats, net.voices);
    let mut hit_rngs: Vec<Pcg32> = rngs(job.seed, purpose::GROOVE_HITS, nv);
    let mut clips = Vec::with_capacity(nv);
    for (v, hit_rng) in hit_rngs.iter_mut().enumerate() {
        // Blend overlapping windows.
        let mut acc = vec![0.0f32; total * of];
        let mut logit = vec![0.0f32; total * vo];
        let mut weight = vec![0.0f32; total];
        for (k, &s) in starts.iter().enumerate() {
            let b = v * nw + k;
            for p in 0..w {
                let step = s + p;
                if step >= total {
                    break;
                }
                let wt = tri(p, w);
                weight[step] += wt;
                let g = &out.groove[(b * w + p) * of..(b * w + p + 1) * of];
                for (a, &gv) in acc[step * of..(step + 1) * of].iter_mut().zip(g) {
                    *a += wt * gv;
                }
                let hl = &out.hit_logits[(b * w + p) * vo..(b * w + p + 1) * vo];
                for (a, &lv) in logit[step * vo..(step + 1) * vo].iter_mut().zip(hl) {
                    *a += wt * lv;
                }
            }
        }
        let mut rows: Vec<GrooveRow> = vec![[0.0; GROOVE_FLOATS_PER_STEP]; total];
        for step in 0..total {
            let wt = weight[step].max(f32::MIN_POSITIVE);
            for voice in 0..vo {
                let hit = if drumify {
                    sample_bernoulli(logit[step * vo + voice] / wt, job.temperature, hit_rng)
                } else {
                    input_hits[step][voice]
                };
                if hit {
                    let base = step * of + voice * 3;
                    rows[step][voice * 3] = 1.0;
                    rows[step][voice * 3 + 1] = acc[base + 1] / wt;
                    rows[step][voice * 3 + 2] = acc[base + 2] / wt;
                }
            }
        }
        let mut clip = decode_groove(&rows, &map).map_err(from_music)?;
        clip.bars = input.bars;
        clips.push(clip);
    }
    Ok(Output { clips, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_everything() {
        assert_eq!(window_starts(16, 32, 16), vec![0]);
        assert_eq!(window_starts(32, 32, 16), vec![0]);
        assert_eq!(window_starts(64, 32, 16), vec![0, 16, 32]);
        assert_eq!(window_starts(48, 32, 16), vec![0, 16]);
        assert_eq!(tri(0, 32), 1.0);
        assert_eq!(tri(31, 32), 1.0);
        assert_eq!(tri(15, 32), 16.0);
    }
}
