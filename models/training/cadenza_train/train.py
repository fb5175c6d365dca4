"""Seeded, resumable training loops for the five models."""
from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data as D
from . import encoding as enc
from .models import GrooveVAE, LSTMLM, SeqVAE, kl_per_example


def setup_torch():
    # One thread by default: two models train side by side on a 2-core machine, and torch's
    # threads slow 5-15x when a build competes with them. CADENZA_TRAIN_THREADS overrides.
    torch.set_num_threads(int(os.environ.get("CADENZA_TRAIN_THREADS", "1")))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def seed_all(seed: int):
    np.random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------- data views

def accented_tokens(groove: np.ndarray, min_velocity: int) -> np.ndarray:
    """Drum tokens of a performance without its hits quieter than `min_velocity` (MIDI 1-127).
    Drum tokens carry no velocity and decode at velocity 100, so a pattern model trained on ghost
    notes plays them as loud as the backbeat; Groove adds the dynamics back."""
    hits = (groove[:, 0::3] > 0.5) & (groove[:, 1::3] * 127.0 >= min_velocity - 0.5)
    return (hits.astype(np.int64) << np.arange(hits.shape[1])).sum(1)


_MELODY_CACHE = {}


def melody_songs(data_dir: Path):
    """The melody songs of data_dir/melody_notes.npz through the whole-song steps of preprocessing.melody (trim_legato,
    quantize: `grids`) and their whole-song tokens (`tokens`, what the LM learns from). Cached per process."""
    path = Path(data_dir) / "melody_notes.npz"
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _MELODY_CACHE:
        spec = enc.load_spec()
        keys, songs, split = D.load_melody(path)
        grids = [D.melody_grid(n, b, spec) for n, b in songs]
        _MELODY_CACHE.clear()
        _MELODY_CACHE[key] = {"keys": keys, "split": split, "grids": grids,
                              "tokens": [D.melody_song_tokens(g, spec) for g in grids]}
    return _MELODY_CACHE[key]


def load_domain(data_dir: Path, domain: str, min_velocity: int = 0, honest: bool = False):
    """-> dict(train=[seq...], valid=[seq...]) of token arrays, or GMD performance dicts for groove.
    Drums: with min_velocity > 0, tokens come from the hits at least that loud.
    honest=True (issue 17): validation without the test half and without songs that copy a training song."""
    from . import splits as SP
    if domain == "melody":
        m = melody_songs(data_dir)
        sp_ = list(m["split"])
        if honest:
            drop = SP.dropped_valid(data_dir)
            sp_ = ["test" if s == "valid" and (SP.melody_is_test(k) or k in drop) else s for k, s in zip(m["keys"], sp_)]
        return {"train": [t for t, sp in zip(m["tokens"], sp_) if sp == "train"],
                "valid": [t for t, sp in zip(m["tokens"], sp_) if sp == "valid"],
                "train_grids": [g for g, sp in zip(m["grids"], sp_) if sp == "train"],
                "valid_grids": [g for g, sp in zip(m["grids"], sp_) if sp == "valid"],
                "keys": m["keys"]}
    perfs = D.load_drums(data_dir / "drums.npz")
    if honest:
        perfs = [dict(p, split="test") if p["split"] == "valid" and SP.gmd_is_test(p["id"]) else p for p in perfs]
    if domain == "drums":
        def toks(p):
            return accented_tokens(p["groove"], min_velocity) if min_velocity > 0 else p["tokens"]
        return {"train": [toks(p) for p in perfs if p["split"] == "train"],
                "valid": [toks(p) for p in perfs if p["split"] == "valid"]}
    return {"train": [p for p in perfs if p["split"] == "train"],
            "valid": [p for p in perfs if p["split"] == "valid"]}


def transpose_tokens(tok: np.ndarray, shift: int, spec) -> np.ndarray:
    out = tok.copy()
    on = out >= spec.first_note_on
    out[on] += shift
    return out


def random_transpose(tok: np.ndarray, rng, lo_hi, spec) -> np.ndarray:
    on = tok >= spec.first_note_on
    if not on.any():
        return tok
    lo = int(tok[on].min()) - spec.first_note_on
    hi = int(tok[on].max()) - spec.first_note_on
    top = spec.max_pitch - spec.min_pitch
    a = max(lo_hi[0], -lo)
    b = min(lo_hi[1], top - hi)
    if b < a:
        return tok
    return transpose_tokens(tok, int(rng.integers(a, b + 1)), spec)


def windows(seqs, length: int, hop: int, min_events: int, domain: str, spec, origins: bool = False):
    """Windows of `length` steps every `hop` steps; with origins=True also the index of each window's sequence."""
    out, org = [], []
    for si, s in enumerate(seqs):
        for a in range(0, len(s) - length + 1, hop):
            w = s[a:a + length]
            if domain == "melody":
                n = int((w >= spec.first_note_on).sum())
            else:
                n = int((w > 0).sum())
            if n >= min_events:
                out.append(w)
                org.append(si)
    arr = np.stack(out) if out else np.zeros((0, length), np.int64)
    return (arr, np.array(org, np.int64)) if origins else arr


def augment_drum_windows(b, idx, origin, seqs, rng, cfg, spec):
    """Drum VAE augmentation (in place). GMD is small, and the drum VAE memorised it; every window made here
    is still a plausible drum part, which an autoencoder can learn from:
    - bar_mix: some bars swapped for random bars of the same performance (same drummer, kit and style);
    - voice_drop: one drum class removed from the whole window (e.g. the part without hi-hats)."""
    spb = spec.steps_per_bar
    bars = b.shape[1] // spb
    for i in range(len(b)):
        if rng.random() < cfg.get("bar_mix", 0.0):
            s = seqs[origin[idx[i]]]
            nb = len(s) // spb
            for j in range(bars):
                if rng.random() < 0.5:
                    k = int(rng.integers(0, nb))
                    b[i, j * spb:(j + 1) * spb] = s[k * spb:(k + 1) * spb]
        if rng.random() < cfg.get("voice_drop", 0.0):
            bit = int(rng.integers(0, spec.num_drum_classes))
            b[i] &= ~(1 << bit)
    return b


def lm_chunks(seqs, length: int):
    """Non-overlapping eval chunks of length+1 tokens (the first token is context only)."""
    out = []
    for s in seqs:
        for a in range(0, len(s) - length, length):
            out.append(s[a:a + length + 1])
    return np.stack(out) if out else np.zeros((0, length + 1), np.int64)


# ----------------------------------------------------------------------------- training loop

class Trainer:
    def __init__(self, name, model, cfg, run_dir: Path, log=print):
        self.name, self.model, self.cfg, self.run_dir, self.log = name, model, cfg, Path(run_dir), log
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.step = 0
        self.elapsed = 0.0
        self.best = math.inf
        self.history = []
        self.ckpt = self.run_dir / "ckpt.pt"
        self.best_path = self.run_dir / "best.pt"

    def lr_at(self, step):
        m = self.cfg["max_steps"]
        warm = min(200, m // 10 + 1)
        if step < warm:
            return self.cfg["lr"] * (step + 1) / warm
        # progress is whichever budget (steps or minutes) is further spent, so the cosine decay
        # finishes even when the time cap ends the run first
        progress = max(step / m, self.elapsed / (self.cfg["max_minutes"] * 60))
        return self.cfg["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

    def save(self, rng):
        torch.save({"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                    "elapsed": self.elapsed, "best": self.best, "history": self.history,
                    "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()}, self.ckpt)

    def maybe_resume(self, rng):
        if self.ckpt.exists():
            st = torch.load(self.ckpt, weights_only=False)
            self.model.load_state_dict(st["model"])
            self.opt.load_state_dict(st["opt"])
            self.step, self.elapsed, self.best, self.history = st["step"], st["elapsed"], st["best"], st["history"]
            rng.bit_generator.state = st["rng"]
            torch.set_rng_state(st["torch_rng"])
            self.log(f"[{self.name}] resumed at step {self.step} ({self.elapsed:.0f}s)")

    def run(self, batch_fn, loss_fn, eval_fn, rng):
        self.maybe_resume(rng)
        cfg = self.cfg
        t_last = time.time()
        run_loss = []
        while self.step < cfg["max_steps"] and self.elapsed < cfg["max_minutes"] * 60:
            self.model.train()
            for g in self.opt.param_groups:
                g["lr"] = self.lr_at(self.step)
            batch = batch_fn(rng)
            loss, parts = loss_fn(batch, self.step)
            self.opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.opt.step()
            self.step += 1
            run_loss.append(parts)
            now = time.time()
            self.elapsed += now - t_last
            t_last = now
            if self.step % cfg["eval_every"] == 0 or self.step >= cfg["max_steps"] \
                    or self.elapsed >= cfg["max_minutes"] * 60:
                self.model.eval()
                with torch.no_grad():
                    v = eval_fn()
                tr = {k: float(np.mean([p[k] for p in run_loss])) for k in run_loss[0]}
                run_loss = []
                self.history.append({"step": self.step, "elapsed_s": round(self.elapsed, 1), "train": tr, "valid": v})
                self.log(f"[{self.name}] step {self.step}/{cfg['max_steps']} {self.elapsed:.0f}s "
                         f"train {json.dumps({k: round(x, 4) for k, x in tr.items()})} valid {json.dumps(v)}")
                if v["select"] < self.best:
                    self.best = v["select"]
                    torch.save({"model": self.model.state_dict(), "step": self.step}, self.best_path)
                self.save(rng)
                t_last = time.time()
        if not self.best_path.exists():
            torch.save({"model": self.model.state_dict(), "step": self.step}, self.best_path)
        best = torch.load(self.best_path, weights_only=False)
        self.model.load_state_dict(best["model"])
        self.model.eval()
        return {"steps": self.step, "train_seconds": round(self.elapsed, 1), "best_step": best["step"],
                "history": self.history}


def hardware():
    return {"cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
            "device": "cpu", "torch": torch.__version__,
            "note": "2-core VM (2 vCPU), shared with another training run or Rust builds for part of the time"}


# ----------------------------------------------------------------------------- LM

def build_lm(cfg, spec):
    V = spec.mel_classes if cfg["domain"] == "melody" else spec.drum_vocab
    bits = spec.num_drum_classes if cfg["domain"] == "drums" else 0
    return LSTMLM(V, cfg["emb"], cfg["hidden"], cfg["layers"], cfg["dropout"], drum_bits=bits)


def train_lm(name, cfg, data_dir, run_dir, log=print):
    setup_torch()
    seed_all(cfg["seed"])
    spec = enc.load_spec()
    dd = load_domain(data_dir, cfg["domain"], honest=cfg.get("honest_split", False))
    train = [s for s in dd["train"] if len(s) > cfg["seq_len"] + 1]
    share = cfg.get("extra_share", 0.0)
    n_gmd = len(train)
    if share > 0:
        # most programmed items are 2- to 8-bar loops (Hydrogen patterns are tiled to exactly 8 bars), shorter than
        # a training window: loop them again rather than drop them (dropping kept 90 of 1,410)
        need = cfg["seq_len"] + 2
        extra = [np.tile(t, -(-need // len(t))) for p in D.load_drums(Path(data_dir) / "drums_extra.npz")
                 if p["split"] == "train" and len(t := np.asarray(p["tokens"])) > 0]
        log(f"[{name}] extra (programmed) drum sequences {len(extra)}, {share:.0%} of the sampled steps")
        train = train + extra
    lens = np.array([len(s) for s in train], np.float64)
    p = lens / lens.sum()
    if share > 0 and len(train) > n_gmd:
        p = np.concatenate([lens[:n_gmd] / lens[:n_gmd].sum() * (1 - share), lens[n_gmd:] / lens[n_gmd:].sum() * share])
    L = cfg["seq_len"]
    val = lm_chunks(dd["valid"], L)
    if len(val) > 600:
        val = val[np.random.RandomState(0).choice(len(val), 600, replace=False)]
    val_t = torch.from_numpy(val.astype(np.int64))
    model = build_lm(cfg, spec)
    rng = np.random.default_rng(cfg["seed"])

    spb = spec.steps_per_bar

    def batch_fn(rng):
        idx = rng.choice(len(train), cfg["batch"], p=p)
        out = []
        for i in idx:
            s = train[i]
            if cfg.get("bar_aligned"):
                # windows start on a bar line, as Continue's primer and the evaluation chunks do, so the LSTM's
                # zero state always means "downbeat" and it can count steps to the next bar line
                a = spb * int(rng.integers(0, (len(s) - L - 1) // spb + 1))
            else:
                a = int(rng.integers(0, len(s) - L - 1))
            w = s[a:a + L + 1]
            if cfg.get("transpose"):
                w = random_transpose(w, rng, cfg["transpose"], spec)
            out.append(w)
        return torch.from_numpy(np.stack(out).astype(np.int64))

    def loss_fn(b, step):
        logits, _ = model(b[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), b[:, 1:].reshape(-1))
        return loss, {"nll": loss.item()}

    first_on = first_onset_token(spec, cfg["domain"])

    def eval_fn():
        nll, acc, onset = lm_eval(model, val_t, first_on)
        return {"nll": round(nll, 4), "acc": round(acc, 4), "onset_acc": round(onset, 4), "select": nll}

    tr = Trainer(name, model, cfg, run_dir, log)
    info = tr.run(batch_fn, loss_fn, eval_fn, rng)
    return model, info


def first_onset_token(spec, domain: str) -> int:
    """The lowest token that starts a note: a melody note-on, or any drum step with hits (tokens >= 1)."""
    return spec.first_note_on if domain == "melody" else 1


@torch.no_grad()
def lm_eval(model, val_t, first_on, bs=100):
    """-> (NLL per step, accuracy, note-onset accuracy: accuracy on the steps whose target token is >= first_on,
    a melody note-on or a drum step with hits)."""
    model.eval()
    tot, n, corr, on_n, on_corr = 0.0, 0, 0, 0, 0
    for i in range(0, len(val_t), bs):
        b = val_t[i:i + bs]
        logits, _ = model(b[:, :-1])
        tgt = b[:, 1:]
        tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="sum").item()
        hit = logits.argmax(-1) == tgt
        corr += hit.sum().item()
        n += tgt.numel()
        on = tgt >= first_on
        on_corr += hit[on].sum().item()
        on_n += on.sum().item()
    return tot / n, corr / n, on_corr / max(on_n, 1)


def bigram_baseline(train_seqs, val_chunks, V):
    """Interpolated bigram: lam * ML bigram + (1-lam) * add-one unigram; lam picked on the validation set
    (which only makes the baseline stronger)."""
    big = np.zeros((V, V), np.float64)
    for s in train_seqs:
        np.add.at(big, (s[:-1], s[1:]), 1)
    uni = big.sum(0) + 1.0
    uni /= uni.sum()
    rows = big.sum(1, keepdims=True)
    ml = np.divide(big, rows, out=np.zeros_like(big), where=rows > 0)
    prev = val_chunks[:, :-1].reshape(-1)
    nxt = val_chunks[:, 1:].reshape(-1)
    best = None
    for lam in [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]:
        pr = lam * ml[prev, nxt] + (1 - lam) * uni[nxt]
        nll = float(-np.log(pr).mean())
        if best is None or nll < best[0]:
            best = (nll, lam)
    pred = (ml * 0.999 + uni[None] * 0.001).argmax(1)
    acc = float((pred[prev] == nxt).mean())
    return {"nll": round(best[0], 4), "lambda": best[1], "acc": round(acc, 4)}


# ----------------------------------------------------------------------------- VAE

def build_vae(cfg, spec):
    V = spec.mel_classes if cfg["domain"] == "melody" else spec.drum_vocab
    bits = spec.num_drum_classes if cfg["domain"] == "drums" else 0
    return SeqVAE(V, cfg["emb"], cfg["enc_hidden"], cfg["dec_hidden"], cfg["dec_layers"], cfg["z_dim"],
                  drum_bits=bits, dropout=cfg["dropout"], word_dropout=cfg.get("word_dropout", 0.0))


def extra_drum_windows(data_dir, T, hop, min_ev, spec):
    """Training windows of the programmed drum sets (drums_extra.npz, their train split) and their sequences."""
    seqs = [p["tokens"] for p in D.load_drums(Path(data_dir) / "drums_extra.npz") if p["split"] == "train"]
    w, org = windows(seqs, T, hop, min_ev, "drums", spec, origins=True)
    return w, org, seqs


def vae_windows(cfg, data_dir, spec, smoke=False):
    dd = load_domain(data_dir, cfg["domain"], cfg.get("min_velocity", 0), honest=cfg.get("honest_split", False))
    T = cfg["bars"] * spec.steps_per_bar
    hop = spec.steps_per_bar
    min_ev = 2 if smoke else (6 if cfg["domain"] == "melody" else 12)
    if cfg["domain"] == "melody":
        # every window through preprocessing.melody on its own, as the engine encodes an input
        tr, origin = melody_window_array(dd["train_grids"], cfg["bars"], 1, min_ev, spec)
        va, _ = melody_window_array(dd["valid_grids"], cfg["bars"], 2, min_ev, spec)
        return tr, va, (origin, dd["train"])
    # drums: a step's token depends only on its own onsets, so cutting the whole performance's tokens on bar lines
    # gives exactly preprocessing.drums' windows
    tr, origin = windows(dd["train"], T, hop, min_ev, cfg["domain"], spec, origins=True)
    va = windows(dd["valid"], T, hop * 2, min_ev, cfg["domain"], spec)
    return tr, va, (origin, dd["train"])


def melody_window_array(grids, bars: int, hop_bars: int, min_events: int, spec):
    """-> ([n, bars*16] int64 windows, index of each window's song)."""
    out, org = [], []
    for i, g in enumerate(grids):
        w = D.melody_windows(g, bars, hop_bars, min_events, spec)
        out.extend(w)
        org.extend([i] * len(w))
    T = bars * spec.steps_per_bar
    arr = np.stack(out) if out else np.zeros((0, T), np.int64)
    return arr, np.array(org, np.int64)


def train_vae(name, cfg, data_dir, run_dir, log=print, smoke=False):
    setup_torch()
    seed_all(cfg["seed"])
    spec = enc.load_spec()
    tr, va, (origin, train_seqs) = vae_windows(cfg, data_dir, spec, smoke)
    log(f"[{name}] windows train {len(tr)} valid {len(va)}")
    share = cfg.get("extra_share", 0.0)
    if share > 0:
        T = cfg["bars"] * spec.steps_per_bar
        xtr, xorg, xseqs = extra_drum_windows(data_dir, T, spec.steps_per_bar, 2 if smoke else 12, spec)
        log(f"[{name}] extra (programmed) drum windows {len(xtr)}, {share:.0%} of every batch")
    va_eval = va[np.random.RandomState(0).choice(len(va), min(len(va), 1000), replace=False)]
    va_t = torch.from_numpy(va_eval.astype(np.int64))
    model = build_vae(cfg, spec)
    if cfg.get("warm_start"):
        from .paths import MODELS_DIR
        from .warmstart import load_vae_from_onnx
        load_vae_from_onnx(model, MODELS_DIR, cfg["warm_start"])  # a checkpoint in run_dir, if any, wins below
        log(f"[{name}] warm start from the shipped {cfg['warm_start']} int8 graphs (dequantized)")
    rng = np.random.default_rng(cfg["seed"])

    def batch_fn(rng):
        n_x = int(round(cfg["batch"] * share)) if share > 0 and len(xtr) else 0
        idx = rng.integers(0, len(tr), cfg["batch"] - n_x)
        b = tr[idx]  # a copy: augmentation below may write into it
        if cfg["domain"] == "drums":
            b = augment_drum_windows(b, idx, origin, train_seqs, rng, cfg, spec)
        if n_x:
            xi = rng.integers(0, len(xtr), n_x)
            b = np.concatenate([b, augment_drum_windows(xtr[xi], xi, xorg, xseqs, rng, cfg, spec)])
        if cfg.get("transpose"):
            b = np.stack([random_transpose(w, rng, cfg["transpose"], spec) for w in b])
        return torch.from_numpy(b.astype(np.int64))

    def loss_fn(b, step):
        logits, mu, sigma = model(b)
        rec = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), b.reshape(-1), reduction="sum") / b.shape[0]
        kl = kl_per_example(mu, sigma).mean()
        ramp = min(1.0, step / max(1, cfg["max_steps"] // 4)) if cfg.get("beta_warmup", True) else 1.0
        beta = cfg["beta"] * ramp
        loss = rec + beta * torch.clamp(kl - cfg["free_bits"], min=0.0)
        return loss, {"rec": rec.item() / b.shape[1], "kl": kl.item()}

    def eval_fn():
        r = vae_tf_eval(model, va_t)
        return {"rec_nll": round(r["nll"], 4), "tf_acc": round(r["acc"], 4), "kl": round(r["kl"], 2),
                "select": r["nll"] + cfg["beta"] * max(0.0, r["kl"] - cfg["free_bits"]) / va_t.shape[1]}

    info = Trainer(name, model, cfg, run_dir, log).run(batch_fn, loss_fn, eval_fn, rng)
    return model, info, tr, va


@torch.no_grad()
def vae_tf_eval(model, va_t, bs=250):
    model.eval()
    tot, corr, n, kl = 0.0, 0, 0, 0.0
    for i in range(0, len(va_t), bs):
        b = va_t[i:i + bs]
        mu, sigma = model.encode(b)
        logits = model.decode_tf(mu, b)
        tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), b.reshape(-1), reduction="sum").item()
        corr += (logits.argmax(-1) == b).sum().item()
        n += b.numel()
        kl += kl_per_example(mu, sigma).sum().item()
    return {"nll": tot / n, "acc": corr / n, "kl": kl / len(va_t)}


# ----------------------------------------------------------------------------- groove

def groove_windows(perfs, spec, hop=None, min_hits=4):
    T = spec.groove_steps
    hop = hop or spec.steps_per_bar
    G, Tp = [], []
    for p in perfs:
        g, t = p["groove"], p["tap"]
        for a in range(0, len(g) - T + 1, hop):
            gw = g[a:a + T]
            if gw[:, 0::3].sum() >= min_hits:
                G.append(gw)
                Tp.append(t[a:a + T])
    if not G:
        return np.zeros((0, T, spec.groove_floats), np.float32), np.zeros((0, T, spec.tap_floats), np.float32)
    return np.stack(G).astype(np.float32), np.stack(Tp).astype(np.float32)


def hits_only(G):
    H = np.zeros_like(G)
    H[..., 0::3] = G[..., 0::3]
    return H


def groove_input(variant, G, Tp):
    return Tp if variant == "drumify" else hits_only(G)


def train_groove(name, variant, cfg, data_dir, run_dir, log=print, smoke=False):
    setup_torch()
    seed_all(cfg["seed"] + (0 if variant == "drumify" else 100))
    spec = enc.load_spec()
    dd = load_domain(data_dir, "groove", honest=cfg.get("honest_split", False))
    Gtr, Ttr = groove_windows(dd["train"], spec)
    Gva, Tva = groove_windows(dd["valid"], spec, hop=spec.steps_per_bar * 2)
    log(f"[{name}/{variant}] windows train {len(Gtr)} valid {len(Gva)}")
    Xtr = groove_input(variant, Gtr, Ttr)
    Xva = groove_input(variant, Gva, Tva)
    F_in = Xtr.shape[-1]
    model = GrooveVAE(F_in, spec.num_drum_classes, cfg["enc_hidden"], cfg["dec_hidden"], cfg["z_dim"], cfg["dropout"])
    rng = np.random.default_rng(cfg["seed"])
    Xva_t, Gva_t = torch.from_numpy(Xva), torch.from_numpy(Gva)

    share = cfg.get("extra_share", 0.0)
    if share > 0:  # programmed drum sets: which drums go with a rhythm; their quantized feel is not learned
        Gx, Tx = groove_windows([p for p in D.load_drums(Path(data_dir) / "drums_extra.npz") if p["split"] == "train"],
                                spec)
        Xx = groove_input(variant, Gx, Tx)
        log(f"[{name}/{variant}] programmed windows {len(Gx)} at {share:.0%} of each batch")

    def batch_fn(rng):
        n_extra = int(rng.binomial(cfg["batch"], share)) if share > 0 else 0
        idx = rng.integers(0, len(Xtr), cfg["batch"] - n_extra)
        x, g = Xtr[idx], Gtr[idx]
        feel = np.ones(len(idx), np.float32)
        if n_extra:
            jdx = rng.integers(0, len(Xx), n_extra)
            x, g = np.concatenate([x, Xx[jdx]]), np.concatenate([g, Gx[jdx]])
            feel = np.concatenate([feel, np.zeros(n_extra, np.float32)])
        gain = cfg.get("velocity_gain", 0.0)
        if gain > 0:  # the same part played louder or softer: input and target velocities scaled together
            k = rng.uniform(1 - gain, 1 + gain, (len(x), 1)).astype(np.float32)
            g = g.copy()
            g[..., 1::3] = np.clip(g[..., 1::3] * k[..., None], 0.0, 1.0)
            if variant == "drumify":  # the Groove variant's input carries no velocities
                x = x.copy()
                x[..., 1] = np.clip(x[..., 1] * k, 0.0, 1.0)
        return torch.from_numpy(x), torch.from_numpy(g), torch.from_numpy(feel)

    def loss_fn(b, step):
        x, g, feel = b
        (hl, vel, off), mu, sigma = model(x)
        l = groove_loss(hl, vel, off, g, feel)
        kl = kl_per_example(mu, sigma).mean()
        beta = cfg["beta"] * min(1.0, step / max(1, cfg["max_steps"] // 4))
        loss = l["total"] + beta * torch.clamp(kl - cfg["free_bits"], min=0.0) / g.shape[1]
        return loss, {"hit": l["hit"].item(), "vel": l["vel"].item(), "off": l["off"].item(), "kl": kl.item()}

    def eval_fn():
        mu, sigma = model.encode(Xva_t)
        hl, vel, off = model.decode(mu, Xva_t)
        l = groove_loss(hl, vel, off, Gva_t)
        m = groove_metrics(hl, vel, off, Gva)
        return {"hit_bce": round(l["hit"].item(), 4), "f1": round(m["f1"], 4), "vel_mae": round(m["vel_mae"], 4),
                "off_mae": round(m["off_mae"], 4), "select": l["total"].item()}

    info = Trainer(f"{name}_{variant}", model, cfg, Path(run_dir) / variant, log).run(batch_fn, loss_fn, eval_fn, rng)
    return model, info, (Xtr, Gtr, Ttr), (Xva, Gva, Tva)


def groove_loss(hl, vel, off, g, feel=None):
    """Hit BCE over every step and voice; velocity and offset squared errors on the true hits of the windows whose
    feel is learned (feel[B] = 1: drummer-played; 0: programmed, hits only)."""
    hits = g[..., 0::3]
    tv, to = g[..., 1::3], g[..., 2::3]
    bce = F.binary_cross_entropy_with_logits(hl, hits)
    w = hits if feel is None else hits * feel[:, None, None]
    m = w.sum().clamp(min=1.0)
    lv = ((vel - tv) ** 2 * w).sum() / m
    lo = ((off - to) ** 2 * w).sum() / m
    return {"hit": bce, "vel": lv, "off": lo, "total": bce + 4.0 * lv + 8.0 * lo}


def f1_score(pred, true):
    tp = float((pred & true).sum())
    fp = float((pred & ~true).sum())
    fn = float((~pred & true).sum())
    return 2 * tp / max(1.0, 2 * tp + fp + fn)


def groove_metrics(hl, vel, off, G):
    """Onset F1 (hit prob > 0.5 vs true hits); velocity / timing MAE on the true hits."""
    hl, vel, off = (t.detach().numpy() if torch.is_tensor(t) else t for t in (hl, vel, off))
    true = G[..., 0::3] > 0.5
    pred = hl > 0.0
    return {"f1": f1_score(pred, true),
            "vel_mae": float(np.abs(vel - G[..., 1::3])[true].mean()),
            "off_mae": float(np.abs(off - G[..., 2::3])[true].mean())}
