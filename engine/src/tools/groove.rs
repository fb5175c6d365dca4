//! Drumify and Groove with the GrooVAE-style model, over inputs of any length, and Humanize (the
//! Groove model run over the drum results of Continue, Generate and Interpolate).
//!
//! The model reads and writes 2-bar windows. Long clips are cut into windows that overlap by one
//! bar (hop = 1 bar) and decoded as ONE batch (clips × variations × windows): every bar except
//! the first and last is seen by two windows, each with a bar of context on one side. The two
//! predictions of a step are blended with triangular weights (more weight towards a window's
//! centre), so hits, velocities and timing flow across the seams instead of restarting every two
//! bars. A variation uses the same noise `eps` in every window: `z = mu + T · sigma · eps`, so
//! its character stays the same along the clip. A 1-bar clip is padded to 2 bars and cut back.
//!
//! - Drumify: input = tap encoding of every onset (any instrument); hits come from the model
//!   (T = 0: hit probability > 0.5; otherwise Bernoulli(sigmoid(logit / T))). Velocities are the
//!   model's (it reads the taps' velocities, so it follows the input's level and accents, per
//!   drum), kept inside the input's velocity range like every tool's new notes. A hit on a step
//!   the musician played lands at the played note's timing; other hits take the model's.
//!   Measured on GMD test parts through the CLI (`cadenza_train evaluate`, issue 17): the
//!   earlier rule (the input's per-position level times the model's accent) missed the
//!   drummer's velocities by 0.13 of full scale, the model's own by 0.08; the taps' timing
//!   missed by 0.04 steps, the model's by 0.06. A drum input lends its kit pieces ([`Kit`]).
//! - Groove: input = the quantized drum hits (velocity and offset zeroed, as the model was
//!   trained). The output is exactly the user's notes — same pitches (side stick stays side
//!   stick, pedal hat stays pedal hat), same count, same lengths — moved to the model's
//!   micro-timing, with the user's velocity scaled by the model's accent (at most
//!   ±[`HUMANIZE_SPREAD`]). Notes the drum map does not know keep their timing and velocity.
//!   The nine classes are only the model's view of the kit.
//! - Humanize: Groove over the notes a tool wrote (the input's own bars stay as played).

use std::collections::HashMap;

use cadenza_music::quantize::quantize;
use cadenza_music::spec::{DRUM_CLASSES, GROOVE_FLOATS_PER_STEP, TAP_FLOATS_PER_STEP, TICKS_PER_STEP};
use cadenza_music::{
    decode_groove, encode_groove_quantized, encode_tap_quantized, step_of_tick, Clip, DrumMap, GrooveRow,
};

use crate::dynamics::{self, HUMANIZE_SPREAD};
use crate::error::{from_music, EngineError};
use crate::job::{Job, Output, Tool};
use crate::kit::Kit;
use crate::models::{GrooveNet, Progress};
use crate::prepare;
use crate::sampling::{sample_bernoulli, Pcg32};
use crate::tools::{common, purpose, rngs};

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

/// What the model makes of one clip in one variation, blended over its windows: per step and
/// voice the velocity (0..1), the offset (fraction of a step) and the hit logit. It covers the
/// clip's steps `origin..origin + total` (`origin` on a bar line).
pub(crate) struct Performance {
    pub origin: usize,
    pub total: usize,
    pub voices: usize,
    pub velocity: Vec<f32>,
    pub offset: Vec<f32>,
    pub logit: Vec<f32>,
    /// Whether the model's input had a hit at (step, voice) (Groove and Humanize).
    pub hit: Vec<bool>,
}

impl Performance {
    fn at(&self, v: &[f32], step: usize, voice: usize) -> f32 {
        let x = v[step * self.voices + voice];
        if x.is_finite() {
            x
        } else {
            0.0
        }
    }

    fn hit_at(&self, step: usize, voice: usize) -> bool {
        self.hit.get(step * self.voices + voice).copied().unwrap_or(false)
    }

    /// The model's (velocity, offset) for a hit of `voice` at the clip's `step`: inside the
    /// covered steps, its own prediction; outside them, its prediction for the same voice at the
    /// same position of a covered bar where that voice is hit too (a performance is played the
    /// same way bar after bar); `None` when there is none.
    fn predict(&self, step: usize, voice: usize) -> Option<(f32, f32)> {
        let bar = prepare::steps_of_bars(1);
        let local = if (self.origin..self.origin + self.total).contains(&step) {
            Some(step - self.origin)
        } else {
            (0..self.total / bar).map(|k| k * bar + step % bar).find(|&l| self.hit_at(l, voice))
        }?;
        Some((self.at(&self.velocity, local, voice), self.at(&self.offset, local, voice)))
    }
}

/// Runs the net over each clip's feature rows (`rows[i]`: `steps × in_floats`, flat), with
/// `eps_rngs.len() / rows.len()` noise draws per clip (`eps_rngs[i * nv + v]`): one encoder run
/// and one decoder run for everything. Returns the performances in the same order.
fn perform(
    net: &mut GrooveNet,
    rows: &[Vec<f32>],
    temperature: f32,
    eps_rngs: &mut [Pcg32],
) -> Result<Vec<Performance>, EngineError> {
    let (w, f, zd) = (net.steps, net.in_floats, net.z_dim);
    let nv = eps_rngs.len() / rows.len().max(1);
    let hop = prepare::steps_of_bars(1);
    let mut starts = Vec::with_capacity(rows.len());
    let mut x = Vec::new();
    for r in rows {
        let total = r.len() / f;
        let s = window_starts(total, w, hop);
        for &start in &s {
            for p in 0..w {
                let step = start + p;
                if step < total {
                    x.extend_from_slice(&r[step * f..(step + 1) * f]);
                } else {
                    x.extend(std::iter::repeat_n(0.0, f));
                }
            }
        }
        starts.push((total, s));
    }
    let windows: usize = starts.iter().map(|s| s.1.len()).sum();
    let (mu, sigma) = net.encode(&x, windows)?;

    // Decoder batch: clip-major, then variation, then window.
    let mut z = Vec::with_capacity(windows * nv * zd);
    let mut xb = Vec::with_capacity(windows * nv * w * f);
    let mut first = 0;
    for (i, (_, s)) in starts.iter().enumerate() {
        for rng in &mut eps_rngs[i * nv..(i + 1) * nv] {
            let eps: Vec<f32> = (0..zd).map(|_| rng.next_normal() as f32).collect();
            for k in first..first + s.len() {
                let (m, sd) = (&mu[k * zd..(k + 1) * zd], &sigma[k * zd..(k + 1) * zd]);
                for ((m, s), e) in m.iter().zip(sd).zip(&eps) {
                    z.push(m + temperature * s * e);
                }
            }
            xb.extend_from_slice(&x[first * w * f..(first + s.len()) * w * f]);
        }
        first += s.len();
    }
    let batch = windows * nv;
    let out = net.decode(&z, &xb, batch)?;

    let (of, vo) = (net.out_floats, net.voices);
    let mut perfs = Vec::with_capacity(rows.len() * nv);
    let mut b = 0;
    for (total, s) in &starts {
        let total = *total;
        for _ in 0..nv {
            let mut acc = vec![0.0f32; total * of];
            let mut logit = vec![0.0f32; total * vo];
            let mut weight = vec![0.0f32; total];
            for &start in s {
                for p in 0..w {
                    let step = start + p;
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
                b += 1;
            }
            let r = &rows[perfs.len() / nv];
            // Groove features have a hit flag per voice; the tap encoding (Drumify) has none.
            let hit = (0..total * vo).map(|k| f == vo * 3 && r[(k / vo) * f + (k % vo) * 3] > 0.5).collect();
            let mut perf = Performance {
                origin: 0,
                total,
                voices: vo,
                velocity: vec![0.0; total * vo],
                offset: vec![0.0; total * vo],
                logit,
                hit,
            };
            for (step, w) in weight.iter().enumerate() {
                let wt = w.max(f32::MIN_POSITIVE);
                for voice in 0..vo {
                    let base = step * of + voice * 3;
                    perf.velocity[step * vo + voice] = acc[base + 1] / wt;
                    perf.offset[step * vo + voice] = acc[base + 2] / wt;
                    perf.logit[step * vo + voice] /= wt;
                }
            }
            perfs.push(perf);
        }
    }
    Ok(perfs)
}

/// The groove model's input for a drum clip: its quantized hits, velocity and offset zeroed (as
/// the model was trained). Also returns how many notes the drum map does not know.
fn hit_rows(clip: &Clip, map: &DrumMap) -> Result<(Vec<f32>, usize, bool), EngineError> {
    let q = quantize(clip).map_err(from_music)?;
    let g = encode_groove_quantized(&q, map);
    let mut any = false;
    let mut x = Vec::with_capacity(g.rows.len() * GROOVE_FLOATS_PER_STEP);
    for row in &g.rows {
        for (k, &v) in row.iter().enumerate() {
            // hits only: velocity and offset zeroed
            if k % 3 == 0 {
                any |= v > 0.5;
                x.push(v);
            } else {
                x.push(0.0);
            }
        }
    }
    Ok((x, g.dropped.unmapped, any))
}

/// The user's notes of `clip` from tick `from` on, moved to the performance's micro-timing and
/// with their velocity scaled by its accents (see the module docs). Same notes, same order. A
/// note the performance has nothing for ([`Performance::predict`]) takes its instrument's mean
/// offset and keeps its velocity.
pub(crate) fn humanize_notes(clip: &Clip, perf: &Performance, from: u32, map: &DrumMap) -> Clip {
    let len = clip.length_ticks().max(1);
    let steps = (len / TICKS_PER_STEP) as usize;
    let lo = from.min(len - 1) as i64;
    let target = |n: &cadenza_music::Note| -> Option<(usize, usize)> {
        if n.start < from {
            return None;
        }
        let class = map.class_of(n.pitch)?;
        let step = step_of_tick(n.start) as usize;
        (step < steps).then_some((step, class))
    };
    // The model's mean velocity and offset per class over the notes it humanizes: its accents
    // are its velocities relative to that.
    let mut sum = [0.0f64; DRUM_CLASSES];
    let mut offsets = [0.0f64; DRUM_CLASSES];
    let mut count = [0u32; DRUM_CLASSES];
    let mut anchor: HashMap<(usize, usize), u32> = HashMap::new();
    for n in &clip.notes {
        if let Some((s, c)) = target(n) {
            if let Some((v, o)) = perf.predict(s, c) {
                sum[c] += v as f64;
                offsets[c] += o.clamp(-0.5, 0.5) as f64;
                count[c] += 1;
            }
            let a = anchor.entry((s, c)).or_insert(n.start);
            *a = (*a).min(n.start);
        }
    }
    let mut out = clip.clone();
    for n in &mut out.notes {
        let Some((s, c)) = target(n) else { continue };
        let k = count[c].max(1) as f64;
        let (ratio, offset) = match perf.predict(s, c) {
            Some((vm, om)) => {
                let mean = sum[c] / k;
                let ratio = if mean > 1e-3 {
                    (vm as f64 / mean).clamp(1.0 - HUMANIZE_SPREAD as f64, 1.0 + HUMANIZE_SPREAD as f64)
                } else {
                    1.0
                };
                (ratio, om.clamp(-0.5, 0.5) as f64)
            }
            None => (1.0, offsets[c] / k),
        };
        let velocity = (n.velocity as f64 * ratio).round().clamp(1.0, 127.0) as u8;
        let grid = (s as i64) * TICKS_PER_STEP as i64;
        let flam = n.start as i64 - anchor[&(s, c)] as i64;
        let start = (grid + (offset * TICKS_PER_STEP as f64).round() as i64 + flam).clamp(lo, len as i64 - 1) as u32;
        let duration = n.end.saturating_sub(n.start).max(1);
        n.velocity = velocity;
        n.start = start;
        n.end = start.saturating_add(duration).min(len).max(start + 1);
    }
    out.sort();
    out
}

/// Humanize: runs the Groove model over the drum clips a tool made and gives the notes of clip
/// `i` from tick `from[i]` on a performed timing and velocity. Kept cheap enough to run after
/// every drum job (one decoder run for all clips, no encoder): each clip is performed in ONE
/// 2-bar window — the first two bars from `from[i]` (or the clip's last two) — from a prior
/// sample `z = min(T, 1) · eps` (at T = 0 the model's mean performance), and later bars are
/// played the way the window plays the same instrument at the same position in the bar
/// ([`Performance::predict`]).
pub(crate) fn humanize(
    net: &mut GrooveNet,
    clips: &mut [Clip],
    from: &[u32],
    temperature: f32,
    seed: u64,
) -> Result<(), EngineError> {
    let map = DrumMap::default();
    let (w, f, zd) = (net.steps, net.in_floats, net.z_dim);
    let bar = prepare::steps_of_bars(1);
    let mut x = Vec::new();
    let mut which = Vec::new();
    for (i, c) in clips.iter().enumerate() {
        let (rows, _, any) = hit_rows(c, &map)?;
        if !any || !c.notes.iter().any(|n| n.start >= from[i]) {
            continue;
        }
        let total = rows.len() / f;
        let first = (from[i] as usize / TICKS_PER_STEP as usize) / bar * bar;
        let origin = first.min(total.saturating_sub(w) / bar * bar);
        for step in origin..origin + w {
            match rows.get(step * f..(step + 1) * f) {
                Some(r) => x.extend_from_slice(r),
                None => x.extend(std::iter::repeat_n(0.0, f)),
            }
        }
        which.push((i, origin));
    }
    if which.is_empty() {
        return Ok(());
    }
    let t = temperature.clamp(0.0, 1.0);
    let z: Vec<f32> = which
        .iter()
        .flat_map(|&(i, _)| {
            let mut r = Pcg32::for_variation(seed, purpose::HUMANIZE, i);
            (0..zd).map(move |_| t * r.next_normal() as f32)
        })
        .collect();
    let out = net.decode(&z, &x, which.len())?;
    let (of, vo) = (net.out_floats, net.voices);
    for (b, &(i, origin)) in which.iter().enumerate() {
        let g = &out.groove[b * w * of..(b + 1) * w * of];
        let perf = Performance {
            origin,
            total: w,
            voices: vo,
            velocity: (0..w * vo).map(|k| g[(k / vo) * of + (k % vo) * 3 + 1]).collect(),
            offset: (0..w * vo).map(|k| g[(k / vo) * of + (k % vo) * 3 + 2]).collect(),
            logit: Vec::new(),
            hit: (0..w * vo).map(|k| x[(b * w + k / vo) * f + (k % vo) * 3] > 0.5).collect(),
        };
        clips[i] = humanize_notes(&clips[i], &perf, from[i], &map);
    }
    Ok(())
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
    let rows = if drumify {
        let q = quantize(input).map_err(from_music)?;
        encode_tap_quantized(&q).flat()
    } else {
        let (x, unmapped, any) = hit_rows(input, &map)?;
        if !any {
            return Err(EngineError::EmptyInput(
                "the input has no notes the drum map knows (kick, snare, hats, toms, cymbals)".into(),
            ));
        }
        if unmapped > 0 {
            warnings.push(format!(
                "{unmapped} note(s) of the input are on pitches the drum map does not know; \
                 they were kept as played"
            ));
        }
        x
    };
    if rows.len() % net.in_floats != 0 {
        return Err(EngineError::ort(
            "preparing the groove input",
            format!("{} floats in the encoding, the model wants {} per step", rows.len(), net.in_floats),
        ));
    }
    let mut progress = Progress::new(2, report, cancel);
    progress.check()?;
    let nv = job.variations;
    let mut zrng = rngs(job.seed, purpose::GROOVE_Z, nv);
    let perfs = perform(net, std::slice::from_ref(&rows), job.temperature, &mut zrng)?;
    progress.step()?;

    let mut clips = Vec::with_capacity(nv);
    if !drumify {
        for perf in &perfs {
            clips.push(humanize_notes(input, perf, 0, &map));
        }
        progress.step()?;
        return Ok(Output { clips, warnings, ..Output::default() });
    }

    // Drumify: hits and velocities from the model, timing from the taps, the input's kit.
    let taps = &rows;
    let kit = if input.is_drum { Kit::learn(&[input], &map) } else { Kit::gm() };
    let mut hit_rngs: Vec<Pcg32> = rngs(job.seed, purpose::GROOVE_HITS, nv);
    let (mut remade, mut still, mut last_t) = (Vec::new(), Vec::new(), job.temperature);
    for (v, (perf, hit_rng)) in perfs.iter().zip(hit_rngs.iter_mut()).enumerate() {
        let mut clip = drumify_clip(perf, job.temperature, hit_rng, input, taps, &kit, &map)?;
        // Too few hits (a tame temperature on a sparse input): sample the hits again, a little
        // warmer, from the same performance.
        if clip.notes.len() < common::MIN_NEW_ONSETS {
            for (retry, floor) in common::RETRY_TEMPERATURES.iter().enumerate() {
                let t = job.temperature.max(*floor);
                last_t = last_t.max(t);
                let mut rng = Pcg32::for_variation(job.seed, purpose::RESAMPLE + retry as u64, v);
                let again = drumify_clip(perf, t, &mut rng, input, taps, &kit, &map)?;
                if again.notes.len() >= common::MIN_NEW_ONSETS {
                    clip = again;
                    remade.push(v);
                    break;
                }
            }
            if clip.notes.len() < common::MIN_NEW_ONSETS {
                // Last resort: the most likely hit of every silent beat.
                let t = job.temperature.max(common::RETRY_TEMPERATURES[0]);
                let mut rng = Pcg32::for_variation(job.seed, purpose::RESAMPLE + 9, v);
                let forced = drumify_clip_with(perf, t, &mut rng, input, taps, &kit, &map, true)?;
                if forced.notes.len() >= common::MIN_NEW_ONSETS {
                    clip = forced;
                    remade.push(v);
                } else {
                    still.push(v);
                }
            }
        }
        clips.push(clip);
    }
    common::report_remade(&remade, &still, job.temperature, last_t, &mut warnings);
    progress.step()?;
    Ok(Output { clips, warnings, ..Output::default() })
}

/// One Drumify variation: hits sampled from the performance (see the module docs). `taps`: the
/// input's tap encoding, [`TAP_FLOATS_PER_STEP`] floats per step (hit, velocity, offset in steps).
pub(crate) fn drumify_clip(
    perf: &Performance,
    temperature: f32,
    hit_rng: &mut Pcg32,
    input: &Clip,
    taps: &[f32],
    kit: &Kit,
    map: &DrumMap,
) -> Result<Clip, EngineError> {
    drumify_clip_with(perf, temperature, hit_rng, input, taps, kit, map, false)
}

/// [`drumify_clip`]; with `force_beats`, a beat without hits gets its most likely one.
#[allow(clippy::too_many_arguments)]
fn drumify_clip_with(
    perf: &Performance,
    temperature: f32,
    hit_rng: &mut Pcg32,
    input: &Clip,
    taps: &[f32],
    kit: &Kit,
    map: &DrumMap,
    force_beats: bool,
) -> Result<Clip, EngineError> {
    let (total, vo) = (perf.total, perf.voices);
    let mut rows: Vec<GrooveRow> = vec![[0.0; GROOVE_FLOATS_PER_STEP]; total];
    let hit = |row: &mut GrooveRow, step: usize, voice: usize| {
        let tap = taps.get(step * TAP_FLOATS_PER_STEP..(step + 1) * TAP_FLOATS_PER_STEP);
        row[voice * 3] = 1.0;
        row[voice * 3 + 1] = perf.at(&perf.velocity, step, voice);
        row[voice * 3 + 2] = match tap {
            Some(t) if t[0] > 0.5 && t[2].is_finite() => t[2],
            _ => perf.at(&perf.offset, step, voice),
        };
    };
    for (step, row) in rows.iter_mut().enumerate() {
        for voice in 0..vo {
            if sample_bernoulli(perf.logit[step * vo + voice], temperature, hit_rng) {
                hit(row, step, voice);
            }
        }
    }
    if force_beats {
        for beat in (0..total).step_by(4) {
            let steps = beat..(beat + 4).min(total);
            if steps.clone().any(|s| (0..vo).any(|v| rows[s][v * 3] > 0.5)) {
                continue;
            }
            let best = steps.flat_map(|s| (0..vo).map(move |v| (s, v))).max_by(|a, b| {
                let la = perf.at(&perf.logit, a.0, a.1);
                let lb = perf.at(&perf.logit, b.0, b.1);
                la.total_cmp(&lb)
            });
            if let Some((s, v)) = best {
                hit(&mut rows[s], s, v);
            }
        }
    }
    let mut clip = decode_groove(&rows, map).map_err(from_music)?;
    clip.bars = input.bars;
    clip.time_signature = input.time_signature;
    // Like every tool's new notes: inside the input's velocity range, widened by the humanize
    // spread (the model's accents can reach a little past what was played, not further).
    if let Some((lo, hi)) = dynamics::range(&[input]) {
        let (lo, hi) = dynamics::allowed_range(lo, hi);
        for note in &mut clip.notes {
            note.velocity = note.velocity.clamp(lo, hi);
        }
    }
    kit.apply(&mut clip, 0, map);
    clip.sort();
    Ok(clip)
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

    /// A 1-bar performance of every voice: the given velocities and logits, one offset
    /// everywhere, `hit` for every (step, voice) of the input.
    fn one_bar(velocity: Vec<f32>, offset: f32, logit: Vec<f32>, hit: bool) -> Performance {
        let vo = DRUM_CLASSES;
        Performance {
            origin: 0,
            total: 16,
            voices: vo,
            velocity,
            offset: vec![offset; 16 * vo],
            logit,
            hit: vec![hit; 16 * vo],
        }
    }

    #[test]
    fn humanized_notes_are_the_users() {
        let map = DrumMap::default();
        let mut c = Clip::new(1, cadenza_music::TimeSignature::FOUR_FOUR, true);
        for (p, v, s) in [(37u8, 90u8, 4u32), (44, 80, 2), (42, 80, 0), (99, 50, 3), (43, 105, 15)] {
            c.notes.push(cadenza_music::Note { pitch: p, velocity: v, start: s * 120, end: s * 120 + 100, channel: 9 });
        }
        c.sort();
        let vo = DRUM_CLASSES;
        let velocity = (0..16 * vo).map(|i| 0.3 + (i % 7) as f32 * 0.1).collect();
        let perf = one_bar(velocity, 0.2, vec![0.0; 16 * vo], true);
        let h = humanize_notes(&c, &perf, 0, &map);
        let mut want: Vec<u8> = c.notes.iter().map(|n| n.pitch).collect();
        let mut got: Vec<u8> = h.notes.iter().map(|n| n.pitch).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        for n in &h.notes {
            let orig = c.notes.iter().find(|o| o.pitch == n.pitch).unwrap();
            if n.pitch == 99 {
                assert_eq!(n, orig, "unknown pitches stay as played");
                continue;
            }
            assert_eq!(n.start, orig.start + 24, "moved by the model's offset");
            assert_eq!(n.end - n.start, 100.min(1920 - n.start));
            let (lo, hi) = (orig.velocity as f32 * 0.75, orig.velocity as f32 * 1.25);
            assert!((lo.floor()..=hi.ceil()).contains(&(n.velocity as f32)));
            assert!(n.end <= 1920);
        }
        // The last step's note cannot move past the clip end.
        let late = Performance { offset: vec![0.5; 16 * vo], ..perf };
        let h = humanize_notes(&c, &late, 0, &map);
        assert!(h.notes.iter().all(|n| n.start < 1920 && n.end <= 1920));
    }

    #[test]
    fn drumify_hits_take_the_models_velocity_and_the_played_timing() {
        let map = DrumMap::default();
        let vo = DRUM_CLASSES;
        let (kick, hat) = (0, 2);
        let mut logit = vec![-20.0; 16 * vo];
        logit[4 * vo + kick] = 20.0; // on a played step
        logit[6 * vo + hat] = 20.0; // on a step nobody played
        let perf = one_bar((0..16 * vo).map(|i| 0.2 + (i % 5) as f32 * 0.15).collect(), 0.25, logit, false);
        let mut taps = vec![0.0f32; 16 * TAP_FLOATS_PER_STEP];
        taps[4 * TAP_FLOATS_PER_STEP..5 * TAP_FLOATS_PER_STEP].copy_from_slice(&[1.0, 0.9, -0.4]);
        let input = Clip::new(1, cadenza_music::TimeSignature::FOUR_FOUR, false);
        let mut rng = Pcg32::for_variation(1, 0, 0);
        let c = drumify_clip(&perf, 0.0, &mut rng, &input, &taps, &Kit::gm(), &map).unwrap();
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
        let vel = |step: usize, voice: usize| (perf.velocity[step * vo + voice] * 127.0 + 0.5).floor() as u8;
        let k = c.notes.iter().find(|n| n.pitch == map.output_pitch(kick)).unwrap();
        assert_eq!(k.start, 4 * 120 - 48, "the played note's timing (-0.4 step), not the model's (+0.25)");
        assert_eq!(k.velocity, vel(4, kick), "the model's velocity, not the tap's");
        let h = c.notes.iter().find(|n| n.pitch == map.output_pitch(hat)).unwrap();
        assert_eq!(h.start, 6 * 120 + 30, "no tap at the step: the model's timing");
        assert_eq!(h.velocity, vel(6, hat));
    }
}
