//! The three model families of the manifest, each validated against the manifest and the
//! encoding spec when loaded, with the batched loops that drive them:
//! - [`Lm`] (`kind: lm`): single-step LSTM language model (Continue);
//! - [`Vae`] (`kind: vae`): MusicVAE-style encoder / z→state / decoder step (Generate,
//!   Interpolate);
//! - [`GrooveNet`] (`kind: groove`, one per variant): GrooVAE-style whole-sequence encoder and
//!   decoder (Drumify, Groove).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use ort::environment::Environment;

use crate::error::EngineError;
use crate::graph::{Data, Graph};
use crate::manifest::{GraphEntry, ModelEntry, TensorSpec};
use crate::sampling::{sample_rows, Pcg32};

/// Progress over a known number of model runs, with cancellation.
pub(crate) struct Progress<'a> {
    total: usize,
    done: usize,
    report: &'a mut dyn FnMut(f32),
    cancel: &'a AtomicBool,
}

impl<'a> Progress<'a> {
    pub(crate) fn new(total: usize, report: &'a mut dyn FnMut(f32), cancel: &'a AtomicBool) -> Self {
        Progress { total: total.max(1), done: 0, report, cancel }
    }

    /// Call after each unit of work.
    pub(crate) fn step(&mut self) -> Result<(), EngineError> {
        self.done += 1;
        if self.cancel.load(Ordering::Relaxed) {
            return Err(EngineError::Cancelled);
        }
        if self.done == self.total || self.done.is_multiple_of(4) {
            (self.report)((self.done as f32 / self.total as f32).min(1.0));
        }
        Ok(())
    }

    pub(crate) fn check(&self) -> Result<(), EngineError> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }
}

fn invalid(path: &Path, reason: String) -> EngineError {
    EngineError::ManifestInvalid { path: path.to_path_buf(), reason }
}

fn need<T>(v: Option<T>, model: &str, field: &str, manifest: &Path) -> Result<T, EngineError> {
    v.ok_or_else(|| invalid(manifest, format!("model {model:?} has no {field:?}")))
}

/// Checks that `graph` has `n_in` inputs and `n_out` outputs.
fn arity(
    g: &GraphEntry,
    model: &str,
    part: &str,
    n_in: usize,
    n_out: usize,
    manifest: &Path,
) -> Result<(), EngineError> {
    if g.inputs.len() != n_in || g.outputs.len() != n_out {
        return Err(invalid(
            manifest,
            format!(
                "{model}.{part} has {} inputs / {} outputs, expected {n_in} / {n_out}",
                g.inputs.len(),
                g.outputs.len()
            ),
        ));
    }
    Ok(())
}

fn expect_dim(t: &TensorSpec, axis: usize, want: usize, model: &str, manifest: &Path) -> Result<(), EngineError> {
    match t.dim(axis) {
        Some(d) if d == want => Ok(()),
        other => Err(invalid(
            manifest,
            format!("{model}: tensor {:?} dimension {axis} is {other:?}, the manifest says {want}", t.name),
        )),
    }
}

fn kind(entry: &ModelEntry, model: &str, want: &str, manifest: &Path) -> Result<(), EngineError> {
    if entry.kind != want {
        return Err(invalid(manifest, format!("model {model:?} is of kind {:?}, expected {want:?}", entry.kind)));
    }
    Ok(())
}

/// The number of tokens the encoding spec defines for a token domain.
pub(crate) fn spec_vocab(domain: &str) -> Option<usize> {
    match domain {
        "melody" => Some(cadenza_music::spec::MELODY_NUM_CLASSES),
        "drums" => Some(cadenza_music::spec::DRUM_NUM_TOKENS),
        _ => None,
    }
}

fn check_vocab(entry: &ModelEntry, model: &str, manifest: &Path) -> Result<usize, EngineError> {
    let vocab = need(entry.vocab_size, model, "vocab_size", manifest)?;
    match spec_vocab(&entry.domain) {
        Some(v) if v == vocab => Ok(vocab),
        other => Err(invalid(
            manifest,
            format!("model {model:?} ({}) has {vocab} tokens, the encoding spec {other:?}", entry.domain),
        )),
    }
}

/// Copies a `[L, 1, H]` state to `[L, batch, H]`.
fn tile_state(state: &[f32], layers: usize, hidden: usize, batch: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(layers * batch * hidden);
    for l in 0..layers {
        let row = &state[l * hidden..(l + 1) * hidden];
        for _ in 0..batch {
            out.extend_from_slice(row);
        }
    }
    out
}

pub(crate) struct Lm {
    step: Graph,
    pub vocab: usize,
    layers: usize,
    hidden: usize,
    /// Best-of-N: when on, every sampling loop sums each row's log-probability of the tokens it
    /// drew (under the model's own distribution, temperature 1, before any key mask) into
    /// `loglik` (see [`crate::best_of`]). Off by default: it costs a log-sum-exp per row and step.
    pub scoring: bool,
    pub loglik: Vec<f32>,
    /// The last resort against empty variations (`tools::common::remake_empty`): when set, a
    /// row that has drawn no onset for `gap` steps draws its next token among the onsets.
    pub force: Option<ForceOnsets>,
}

impl Lm {
    pub(crate) fn load(
        env: &Environment,
        dir: &Path,
        manifest: &Path,
        model: &str,
        entry: &ModelEntry,
    ) -> Result<Lm, EngineError> {
        kind(entry, model, "lm", manifest)?;
        let vocab = check_vocab(entry, model, manifest)?;
        let state = need(entry.state.as_ref(), model, "state", manifest)?;
        let g = entry.graph(model, "step", manifest)?;
        arity(g, model, "step", 3, 3, manifest)?;
        expect_dim(&g.outputs[0], 1, vocab, model, manifest)?;
        for t in [&g.inputs[1], &g.inputs[2]] {
            expect_dim(t, 0, state.layers, model, manifest)?;
            expect_dim(t, 2, state.hidden, model, manifest)?;
        }
        Ok(Lm {
            step: Graph::load(env, dir, model, g)?,
            vocab,
            layers: state.layers,
            hidden: state.hidden,
            scoring: false,
            loglik: Vec::new(),
            force: None,
        })
    }

    /// Feeds `primer` (batch 1, from the zero state), then samples `steps` tokens for every RNG
    /// in `rngs` as one batch: one ORT run per primer token and per generated step.
    pub(crate) fn continue_batch(
        &mut self,
        primer: &[i64],
        steps: usize,
        temperature: f32,
        mask: Option<&[bool]>,
        rngs: &mut [Pcg32],
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Vec<i64>>, EngineError> {
        let (l, h) = (self.layers, self.hidden);
        let batch = rngs.len();
        let mut hs = vec![0.0f32; l * h];
        let mut cs = vec![0.0f32; l * h];
        let mut logits = Vec::new();
        let (mut h2, mut c2) = (Vec::new(), Vec::new());
        for &t in primer {
            self.step.run(
                &[
                    (&[1], Data::I64(&[t])),
                    (&[l as i64, 1, h as i64], Data::F32(&hs)),
                    (&[l as i64, 1, h as i64], Data::F32(&cs)),
                ],
                &mut [&mut logits, &mut h2, &mut c2],
            )?;
            std::mem::swap(&mut hs, &mut h2);
            std::mem::swap(&mut cs, &mut c2);
            progress.step()?;
        }
        if primer.is_empty() {
            return Err(EngineError::EmptyInput("nothing to continue from".into()));
        }
        let mut hs = tile_state(&hs, l, h, batch);
        let mut cs = tile_state(&cs, l, h, batch);
        let mut logits: Vec<f32> = logits.iter().copied().cycle().take(batch * self.vocab).collect();
        let mut tokens = vec![0i64; batch];
        let mut out = vec![Vec::with_capacity(steps); batch];
        let shape_state = [l as i64, batch as i64, h as i64];
        self.loglik = vec![0.0; batch];
        let mut gaps = vec![0usize; batch];
        for s in 0..steps {
            sample_rows(&logits, self.vocab, temperature, mask, rngs, &mut tokens);
            if let Some(f) = &self.force {
                f.apply(&logits, self.vocab, temperature, rngs, &mut tokens, &mut gaps);
            }
            if self.scoring {
                add_loglik(&logits, self.vocab, &tokens, &mut self.loglik);
            }
            for (seq, &t) in out.iter_mut().zip(&tokens) {
                seq.push(t);
            }
            if s + 1 < steps {
                self.step.run(
                    &[
                        (&[batch as i64], Data::I64(&tokens)),
                        (&shape_state, Data::F32(&hs)),
                        (&shape_state, Data::F32(&cs)),
                    ],
                    &mut [&mut logits, &mut h2, &mut c2],
                )?;
                std::mem::swap(&mut hs, &mut h2);
                std::mem::swap(&mut cs, &mut c2);
            }
            progress.step()?;
        }
        Ok(out)
    }
}

pub(crate) struct Vae {
    encoder: Graph,
    init: Graph,
    decoder: Graph,
    /// Generate's latent prior (`graphs.prior`, optional): a Gaussian mixture fitted to the
    /// encoder's codes of the training windows after training (`latent_prior.py`; Ghosh et al.
    /// 2020, ex-post density estimation). Without it Generate draws z from N(0, I).
    prior: Option<Graph>,
    pub vocab: usize,
    /// Steps of one decoded window (bars × 16).
    pub steps: usize,
    pub z_dim: usize,
    start_token: i64,
    layers: usize,
    hidden: usize,
    /// Best-of-N: as [`Lm::scoring`] / [`Lm::loglik`], for [`Vae::decode`].
    pub scoring: bool,
    pub loglik: Vec<f32>,
    /// As [`Lm::force`], for [`Vae::decode`].
    pub force: Option<ForceOnsets>,
}

impl Vae {
    pub(crate) fn load(
        env: &Environment,
        dir: &Path,
        manifest: &Path,
        model: &str,
        entry: &ModelEntry,
    ) -> Result<Vae, EngineError> {
        kind(entry, model, "vae", manifest)?;
        let vocab = check_vocab(entry, model, manifest)?;
        let steps = need(entry.steps, model, "steps", manifest)?;
        let z_dim = need(entry.z_dim, model, "z_dim", manifest)?;
        let start_token = need(entry.decoder_start_token, model, "decoder_start_token", manifest)?;
        let state = need(entry.state.as_ref(), model, "state", manifest)?;
        let bar = cadenza_music::spec::STEPS_PER_BAR as usize;
        if steps == 0 || steps % bar != 0 || z_dim == 0 {
            return Err(invalid(
                manifest,
                format!("model {model:?}: {steps} steps / z_dim {z_dim} (need whole bars, z_dim > 0)"),
            ));
        }
        let enc = entry.graph(model, "encoder", manifest)?;
        let init = entry.graph(model, "init", manifest)?;
        let dec = entry.graph(model, "decoder", manifest)?;
        arity(enc, model, "encoder", 1, 2, manifest)?;
        arity(init, model, "init", 1, 2, manifest)?;
        arity(dec, model, "decoder", 4, 3, manifest)?;
        expect_dim(&enc.inputs[0], 1, steps, model, manifest)?;
        expect_dim(&enc.outputs[0], 1, z_dim, model, manifest)?;
        expect_dim(&init.inputs[0], 1, z_dim, model, manifest)?;
        expect_dim(&dec.inputs[1], 1, z_dim, model, manifest)?;
        expect_dim(&dec.outputs[0], 1, vocab, model, manifest)?;
        for t in [&dec.inputs[2], &dec.inputs[3], &init.outputs[0], &init.outputs[1]] {
            expect_dim(t, 0, state.layers, model, manifest)?;
            expect_dim(t, 2, state.hidden, model, manifest)?;
        }
        let prior = match entry.graphs.get("prior") {
            Some(p) => {
                arity(p, model, "prior", 2, 1, manifest)?;
                expect_dim(&p.inputs[1], 1, z_dim, model, manifest)?;
                expect_dim(&p.outputs[0], 1, z_dim, model, manifest)?;
                Some(Graph::load(env, dir, model, p)?)
            }
            None => None,
        };
        Ok(Vae {
            prior,
            encoder: Graph::load(env, dir, model, enc)?,
            init: Graph::load(env, dir, model, init)?,
            decoder: Graph::load(env, dir, model, dec)?,
            vocab,
            steps,
            z_dim,
            start_token,
            layers: state.layers,
            hidden: state.hidden,
            scoring: false,
            loglik: Vec::new(),
            force: None,
        })
    }

    /// One latent code per generator (`rngs.len()` × `z_dim`) from the prior's component picked
    /// by `u[i]` (uniform in [0, 1), one per generator; see [`Vae::draw_components`]): each
    /// generator draws `z_dim` standard normals. Without a prior graph z is those normals
    /// (N(0, I)) and `u` is not used.
    pub(crate) fn sample_prior(&mut self, u: &[f32], rngs: &mut [Pcg32]) -> Result<Vec<Vec<f32>>, EngineError> {
        let mut eps = Vec::with_capacity(rngs.len() * self.z_dim);
        for r in rngs.iter_mut() {
            eps.extend((0..self.z_dim).map(|_| r.next_normal() as f32));
        }
        let z = match &mut self.prior {
            Some(g) => {
                let mut z = Vec::new();
                g.run(
                    &[
                        (&[rngs.len() as i64], Data::F32(&u[..rngs.len()])),
                        (&[rngs.len() as i64, self.z_dim as i64], Data::F32(&eps)),
                    ],
                    &mut [&mut z],
                )?;
                z
            }
            None => eps,
        };
        Ok(z.chunks_exact(self.z_dim).map(<[f32]>::to_vec).collect())
    }

    /// The uniform number that picks each generator's mixture component (drawn also without a
    /// prior graph, so a seed's later draws do not depend on whether the model has one).
    pub(crate) fn draw_components(rngs: &mut [Pcg32]) -> Vec<f32> {
        rngs.iter_mut().map(|r| r.next_f64() as f32).collect()
    }

    /// `tokens`: `batch × steps`. Returns `mu` (`batch × z_dim`).
    pub(crate) fn encode(&mut self, tokens: &[i64], batch: usize) -> Result<Vec<f32>, EngineError> {
        let (mut mu, mut sigma) = (Vec::new(), Vec::new());
        self.encoder.run(&[(&[batch as i64, self.steps as i64], Data::I64(tokens))], &mut [&mut mu, &mut sigma])?;
        Ok(mu)
    }

    /// Decodes `steps` tokens for each z (`batch × z_dim`, batch = `rngs.len()`), one ORT run
    /// per step for the whole batch.
    pub(crate) fn decode(
        &mut self,
        z: &[f32],
        steps: usize,
        temperature: f32,
        mask: Option<&[bool]>,
        rngs: &mut [Pcg32],
        progress: &mut Progress<'_>,
    ) -> Result<Vec<Vec<i64>>, EngineError> {
        let batch = rngs.len();
        let zshape = [batch as i64, self.z_dim as i64];
        let (mut hs, mut cs) = (Vec::new(), Vec::new());
        self.init.run(&[(&zshape, Data::F32(z))], &mut [&mut hs, &mut cs])?;
        let sshape = [self.layers as i64, batch as i64, self.hidden as i64];
        let mut tokens = vec![self.start_token; batch];
        let (mut logits, mut h2, mut c2) = (Vec::new(), Vec::new(), Vec::new());
        let mut out = vec![Vec::with_capacity(steps); batch];
        self.loglik = vec![0.0; batch];
        let mut gaps = vec![0usize; batch];
        for _ in 0..steps {
            self.decoder.run(
                &[
                    (&[batch as i64], Data::I64(&tokens)),
                    (&zshape, Data::F32(z)),
                    (&sshape, Data::F32(&hs)),
                    (&sshape, Data::F32(&cs)),
                ],
                &mut [&mut logits, &mut h2, &mut c2],
            )?;
            std::mem::swap(&mut hs, &mut h2);
            std::mem::swap(&mut cs, &mut c2);
            sample_rows(&logits, self.vocab, temperature, mask, rngs, &mut tokens);
            if let Some(f) = &self.force {
                f.apply(&logits, self.vocab, temperature, rngs, &mut tokens, &mut gaps);
            }
            if self.scoring {
                add_loglik(&logits, self.vocab, &tokens, &mut self.loglik);
            }
            for (seq, &t) in out.iter_mut().zip(&tokens) {
                seq.push(t);
            }
            progress.step()?;
        }
        Ok(out)
    }
}

/// Onsets forced after a silence (see [`Lm::force`]).
#[derive(Clone, Debug)]
pub(crate) struct ForceOnsets {
    /// Steps without an onset after which the next token must be one.
    pub gap: usize,
    /// Which tokens start something (melody: note-ons; drums: any hit).
    pub onset: Vec<bool>,
    /// The onsets the job's key mask allows.
    pub allowed: Vec<bool>,
}

impl ForceOnsets {
    /// For a vocabulary whose tokens `onset` marks, under the job's `mask`.
    pub(crate) fn new(gap: usize, onset: Vec<bool>, mask: Option<&[bool]>) -> ForceOnsets {
        let allowed = onset.iter().enumerate().map(|(i, &o)| o && mask.is_none_or(|m| m[i])).collect();
        ForceOnsets { gap: gap.max(1), onset, allowed }
    }

    /// Counts each row's silent steps and redraws, among the allowed onsets, the token of a row
    /// that has been silent for `gap` steps.
    fn apply(
        &self,
        logits: &[f32],
        vocab: usize,
        temperature: f32,
        rngs: &mut [Pcg32],
        tokens: &mut [i64],
        gaps: &mut [usize],
    ) {
        for (r, (t, g)) in tokens.iter_mut().zip(gaps.iter_mut()).enumerate() {
            if self.onset.get(*t as usize).copied().unwrap_or(false) {
                *g = 0;
                continue;
            }
            *g += 1;
            if *g >= self.gap {
                sample_rows(
                    &logits[r * vocab..(r + 1) * vocab],
                    vocab,
                    temperature,
                    Some(&self.allowed),
                    &mut rngs[r..r + 1],
                    std::slice::from_mut(t),
                );
                *g = 0;
            }
        }
    }
}

/// Adds log softmax(row)[token] of every row to `acc` (rows × vocab logits, row-major).
fn add_loglik(logits: &[f32], vocab: usize, tokens: &[i64], acc: &mut [f32]) {
    for ((row, &t), a) in logits.chunks_exact(vocab).zip(tokens).zip(acc.iter_mut()) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        if !max.is_finite() {
            continue;
        }
        let lse = max + row.iter().map(|&v| (v - max).exp()).sum::<f32>().ln();
        let v = row.get(t as usize).copied().unwrap_or(f32::NEG_INFINITY);
        *a += (v - lse).max(-30.0);
    }
}

pub(crate) struct GrooveNet {
    encoder: Graph,
    decoder: Graph,
    /// Steps per window (2 bars = 32).
    pub steps: usize,
    pub z_dim: usize,
    /// Floats per step of the input (tap 3, groove 27).
    pub in_floats: usize,
    /// Floats per step of the output (27) and drum voices (9).
    pub out_floats: usize,
    pub voices: usize,
}

pub(crate) struct GrooveOut {
    /// `batch × steps × out_floats`, per voice `[hit probability, velocity, offset]`.
    pub groove: Vec<f32>,
    /// `batch × steps × voices`.
    pub hit_logits: Vec<f32>,
}

impl GrooveNet {
    pub(crate) fn load(
        env: &Environment,
        dir: &Path,
        manifest: &Path,
        model: &str,
        variant: &str,
        entry: &ModelEntry,
    ) -> Result<GrooveNet, EngineError> {
        kind(entry, model, "groove", manifest)?;
        let steps = need(entry.steps, model, "steps", manifest)?;
        let z_dim = need(entry.z_dim, model, "z_dim", manifest)?;
        let v = need(entry.variants.get(variant), model, &format!("variants.{variant}"), manifest)?;
        if v.graphs.len() != 2 {
            return Err(invalid(manifest, format!("{model}.{variant} should list [encoder, decoder]")));
        }
        let enc = entry.graph(model, &v.graphs[0], manifest)?;
        let dec = entry.graph(model, &v.graphs[1], manifest)?;
        arity(enc, model, &v.graphs[0], 1, 2, manifest)?;
        arity(dec, model, &v.graphs[1], 2, 2, manifest)?;
        expect_dim(&enc.inputs[0], 1, steps, model, manifest)?;
        expect_dim(&enc.inputs[0], 2, v.input_floats, model, manifest)?;
        expect_dim(&enc.outputs[0], 1, z_dim, model, manifest)?;
        expect_dim(&dec.inputs[0], 1, z_dim, model, manifest)?;
        expect_dim(&dec.inputs[1], 2, v.input_floats, model, manifest)?;
        let out_floats = cadenza_music::spec::GROOVE_FLOATS_PER_STEP;
        let voices = cadenza_music::spec::DRUM_CLASSES;
        expect_dim(&dec.outputs[0], 2, out_floats, model, manifest)?;
        expect_dim(&dec.outputs[1], 2, voices, model, manifest)?;
        Ok(GrooveNet {
            encoder: Graph::load(env, dir, model, enc)?,
            decoder: Graph::load(env, dir, model, dec)?,
            steps,
            z_dim,
            in_floats: v.input_floats,
            out_floats,
            voices,
        })
    }

    /// `x`: `batch × steps × in_floats`. Returns (mu, sigma), each `batch × z_dim`.
    pub(crate) fn encode(&mut self, x: &[f32], batch: usize) -> Result<(Vec<f32>, Vec<f32>), EngineError> {
        let (mut mu, mut sigma) = (Vec::new(), Vec::new());
        let shape = [batch as i64, self.steps as i64, self.in_floats as i64];
        self.encoder.run(&[(&shape, Data::F32(x))], &mut [&mut mu, &mut sigma])?;
        Ok((mu, sigma))
    }

    pub(crate) fn decode(&mut self, z: &[f32], x: &[f32], batch: usize) -> Result<GrooveOut, EngineError> {
        let (mut groove, mut hit_logits) = (Vec::new(), Vec::new());
        let xshape = [batch as i64, self.steps as i64, self.in_floats as i64];
        let zshape = [batch as i64, self.z_dim as i64];
        self.decoder.run(&[(&zshape, Data::F32(z)), (&xshape, Data::F32(x))], &mut [&mut groove, &mut hit_logits])?;
        Ok(GrooveOut { groove, hit_logits })
    }
}
