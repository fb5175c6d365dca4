"""Held-out evaluation: LM NLL vs smoothed bigram, VAE reconstruction / prior / interpolation, groove vs baselines.
Evaluations that are cheap are also run on the shipped int8 ONNX graphs."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import encoding as enc
from .export import session
from .train import (bigram_baseline, f1_score, first_onset_token, groove_input, groove_metrics, lm_chunks, lm_eval,
                    load_domain, vae_tf_eval)


def r4(x):
    return float(round(float(x), 4))


# ----------------------------------------------------------------------------- LM

def eval_lm(model, cfg, data_dir, int8_path=None, max_chunks=600):
    spec = enc.load_spec()
    dd = load_domain(data_dir, cfg["domain"])
    L = cfg["seq_len"]
    val = lm_chunks(dd["valid"], L)
    if len(val) > max_chunks:
        val = val[np.random.RandomState(0).choice(len(val), max_chunks, replace=False)]
    V = model.vocab
    first_on = first_onset_token(spec, cfg["domain"])
    nll, acc, _ = lm_eval(model, torch.from_numpy(val.astype(np.int64)), first_on)
    base = bigram_baseline(dd["train"], val, V)
    out = {"valid_chunks": int(len(val)), "chunk_len": L, "valid_tokens": int(len(val) * L),
           "nll_per_step": r4(nll), "accuracy": r4(acc),
           "bigram_nll_per_step": base["nll"], "bigram_accuracy": base["acc"], "bigram_lambda": base["lambda"],
           "nll_reduction_vs_bigram": r4(1 - nll / base["nll"]), "bar": "nll_reduction_vs_bigram >= 0.20"}
    out["meets_bar"] = bool(out["nll_reduction_vs_bigram"] >= 0.20)
    if int8_path is not None:
        sub = val[:100]
        s = session(int8_path)
        B = len(sub)
        h = np.zeros((model.layers, B, model.hidden), np.float32)
        c = np.zeros_like(h)
        tot, corr = 0.0, 0
        for t in range(L):
            lg, h, c = s.run(None, {"token": sub[:, t].astype(np.int64), "h": h, "c": c})
            lt = torch.from_numpy(lg)
            tgt = torch.from_numpy(sub[:, t + 1].astype(np.int64))
            tot += F.cross_entropy(lt, tgt, reduction="sum").item()
            corr += (lt.argmax(-1) == tgt).sum().item()
        tnll, _, _ = lm_eval(model, torch.from_numpy(sub.astype(np.int64)), first_on)
        out["int8_onnx_subset"] = {"chunks": int(B), "nll_per_step": r4(tot / (B * L)), "accuracy": r4(corr / (B * L)),
                                   "fp32_torch_nll_same_subset": r4(tnll)}
    return out


# ----------------------------------------------------------------------------- VAE

def seq_stats(toks: np.ndarray, domain: str, spec):
    """note density (onsets per bar) and class histogram (pitch class for melody, drum class for drums)."""
    bars = toks.shape[1] / spec.steps_per_bar
    if domain == "melody":
        on = toks >= spec.first_note_on
        pcs = ((toks[on] - spec.first_note_on + spec.min_pitch) % 12).astype(np.int64)
        hist = np.bincount(pcs, minlength=12).astype(np.float64)
        density = on.sum() / (len(toks) * bars)
    else:
        bits = (toks[..., None] >> np.arange(spec.num_drum_classes)) & 1
        hist = bits.reshape(-1, spec.num_drum_classes).sum(0).astype(np.float64)
        density = bits.sum() / (len(toks) * bars)
    hist = hist / max(1.0, hist.sum())
    return float(density), hist


@torch.no_grad()
def eval_vae(model, cfg, va, int8_paths=None, n_prior=500, n_interp=200, seed=0):
    spec = enc.load_spec()
    domain = cfg["domain"]
    g = torch.Generator().manual_seed(seed)
    rs = np.random.RandomState(seed)
    sel = va[rs.choice(len(va), min(len(va), 1000), replace=False)]
    vt = torch.from_numpy(sel.astype(np.int64))
    tf = vae_tf_eval(model, vt)
    mu, sigma = model.encode(vt)
    T = vt.shape[1]
    rec = model.greedy(mu, T)
    rec_acc = float((rec == vt).float().mean())
    # prior samples, temperature 1
    z = torch.randn(n_prior, model.z_dim, generator=g)
    samp = model.greedy(z, T, temperature=1.0, generator=g).numpy()
    d_data, h_data = seq_stats(sel, domain, spec)
    d_s, h_s = seq_stats(samp, domain, spec)
    # interpolation midpoints between pairs of validation windows
    n = min(n_interp, len(sel) // 2)
    a, b = mu[:n], mu[n:2 * n]
    ends_a = model.greedy(a, T).numpy()
    ends_b = model.greedy(b, T).numpy()
    mid = model.greedy(0.5 * (a + b), T).numpy()
    if domain == "melody":
        silent = ~(mid >= spec.first_note_on).any(1)
    else:
        silent = ~(mid > 0).any(1)
    copy = (mid == ends_a).all(1) | (mid == ends_b).all(1)
    diff_nearest = np.minimum((mid != ends_a).mean(1), (mid != ends_b).mean(1))
    out = {
        "valid_windows": int(len(sel)),
        "teacher_forced_accuracy": r4(tf["acc"]), "teacher_forced_nll_per_step": r4(tf["nll"]),
        "kl_per_example_nats": r4(tf["kl"]),
        "greedy_reconstruction_accuracy_from_mu": r4(rec_acc),
        "prior_samples": {
            "n": n_prior, "temperature": 1.0,
            "note_density_per_bar_samples": r4(d_s), "note_density_per_bar_data": r4(d_data),
            "note_density_ratio": r4(d_s / max(1e-9, d_data)),
            ("pitch_class" if domain == "melody" else "drum_class") + "_histogram_total_variation": r4(0.5 * np.abs(h_s - h_data).sum()),
            "histogram_samples": [r4(x) for x in h_s], "histogram_data": [r4(x) for x in h_data],
        },
        "interpolation": {
            "pairs": int(n), "midpoint_silent_fraction": r4(silent.mean()),
            "midpoint_copy_of_endpoint_fraction": r4(copy.mean()),
            "midpoint_mean_token_difference_to_nearest_endpoint": r4(diff_nearest.mean()),
        },
        "bars": {"teacher_forced_accuracy": ">= 0.90", "greedy_reconstruction_accuracy_from_mu": ">= 0.75"},
    }
    out["meets_bar"] = bool(tf["acc"] >= 0.90 and rec_acc >= 0.75 and silent.mean() < 0.05 and copy.mean() < 0.5)
    if int8_paths is not None:
        sub = sel[:200].astype(np.int64)
        enc_s, init_s, dec_s = (session(int8_paths[k]) for k in ("encoder", "init", "decoder"))
        m8 = enc_s.run(None, {"tokens": sub})[0]
        h, c = init_s.run(None, {"z": m8})
        tok = np.full((len(sub),), model.start_token, np.int64)
        outs = []
        for t in range(T):
            lg, h, c = dec_s.run(None, {"token": tok, "z": m8, "h": h, "c": c})
            tok = lg.argmax(-1).astype(np.int64)
            outs.append(tok)
        rec8 = np.stack(outs, 1)
        rec32 = model.greedy(torch.from_numpy(mu[:200].numpy()), T).numpy()
        out["int8_onnx_subset"] = {"windows": int(len(sub)),
                                   "greedy_reconstruction_accuracy_from_mu": r4((rec8 == sub).mean()),
                                   "fp32_torch_same_subset": r4((rec32 == sub).mean())}
    return out


# ----------------------------------------------------------------------------- groove

def groove_baselines(Gtr, Ttr, Gva, Tva, spec):
    """Non-learned baselines fitted on the training windows.
    velocity / offset: per-class mean by step position (mod 16) over training hits.
    Drumify hits: P(hit | class, step position mod 16, tap hit at the step) from training counts, one global
    threshold chosen for the best training F1."""
    spb = spec.steps_per_bar
    V = spec.num_drum_classes
    T = Gtr.shape[1]
    pos = np.arange(T) % spb
    hits = Gtr[..., 0::3] > 0.5
    vel_tab = np.zeros((spb, V))
    off_tab = np.zeros((spb, V))
    for p_ in range(spb):
        m = hits[:, pos == p_]
        v = Gtr[:, pos == p_][..., 1::3]
        o = Gtr[:, pos == p_][..., 2::3]
        cnt = m.sum((0, 1)).clip(min=1)
        vel_tab[p_] = (v * m).sum((0, 1)) / cnt
        off_tab[p_] = (o * m).sum((0, 1)) / cnt
    tap_tr = Ttr[..., 0] > 0.5
    prob = np.zeros((spb, 2, V))
    for p_ in range(spb):
        for th in (0, 1):
            m = (tap_tr[:, pos == p_] == th)
            hh = hits[:, pos == p_]
            prob[p_, th] = (hh & m[..., None]).sum((0, 1)) / max(1, m.sum())
    def pred(Tp):
        t = (Tp[..., 0] > 0.5).astype(int)
        return prob[pos[None, :].repeat(len(Tp), 0), t]
    ptr = pred(Ttr)
    best = (0, 0.5)
    for thr in np.linspace(0.05, 0.95, 19):
        f = f1_score(ptr > thr, hits)
        if f > best[0]:
            best = (f, thr)
    true_va = Gva[..., 0::3] > 0.5
    pva = pred(Tva) > best[1]
    bvel = vel_tab[pos][None].repeat(len(Gva), 0)
    boff = off_tab[pos][None].repeat(len(Gva), 0)
    return {
        "drumify_f1": f1_score(pva, true_va), "drumify_threshold": float(best[1]),
        "vel_mae": float(np.abs(bvel - Gva[..., 1::3])[true_va].mean()),
        "off_mae": float(np.abs(boff - Gva[..., 2::3])[true_va].mean()),
    }


@torch.no_grad()
def eval_groove(models, tr, va, int8_paths=None):
    """models: {'drumify': GrooveVAE, 'groove': GrooveVAE}; tr/va: (X(unused), G, Tap) windows."""
    spec = enc.load_spec()
    _, Gtr, Ttr = tr
    _, Gva, Tva = va
    base = groove_baselines(Gtr, Ttr, Gva, Tva, spec)
    out = {"valid_windows": int(len(Gva)), "baseline": {k: r4(v) for k, v in base.items()}}
    for variant, m in models.items():
        X = torch.from_numpy(groove_input(variant, Gva, Tva))
        mu, _ = m.encode(X)
        hl, vel, off = m.decode(mu, X)
        met = groove_metrics(hl, vel, off, Gva)
        res = {"onset_f1": r4(met["f1"]), "velocity_mae": r4(met["vel_mae"]), "timing_mae_steps": r4(met["off_mae"]),
               "timing_mae_ticks": r4(met["off_mae"] * spec.ticks_per_step)}
        if variant == "drumify":
            res["beats_baseline"] = bool(met["f1"] > base["drumify_f1"])
            res["bar"] = "onset_f1 > baseline drumify_f1"
        else:
            res["beats_baseline"] = bool(met["vel_mae"] < base["vel_mae"] and met["off_mae"] < base["off_mae"])
            res["bar"] = "velocity_mae and timing_mae < baseline (per-class mean by step position)"
        if int8_paths is not None:
            e = session(int8_paths[f"{variant}_encoder"])
            d = session(int8_paths[f"{variant}_decoder"])
            xn = X.numpy()
            m8 = e.run(None, {"input": xn})[0]
            g8, hl8 = d.run(None, {"z": m8, "input": xn})
            met8 = groove_metrics(hl8, g8[..., 1::3], g8[..., 2::3], Gva)
            res["int8_onnx"] = {"onset_f1": r4(met8["f1"]), "velocity_mae": r4(met8["vel_mae"]),
                                "timing_mae_steps": r4(met8["off_mae"])}
        out[variant] = res
    out["meets_bar"] = bool(out.get("drumify", {}).get("beats_baseline", False)
                            and out.get("groove", {}).get("beats_baseline", False))
    return out
