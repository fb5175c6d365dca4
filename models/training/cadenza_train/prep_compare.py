"""Held-out metrics of the shipped int8 ONNX models on validation data preprocessed the old way and the new way
(issue 16: one preprocessing path for training and inference).

- old: what the pipeline did before preprocess.py: each melody song encoded whole (moved by octaves until its lowest
  note fits and then its highest, dropped when a note was still outside; no legato trim; skyline over the whole song)
  and 4-bar windows cut from those tokens; drums encoded whole and cut on bar lines.
- new: preprocess.py, as the engine does: legato trimmed, then per window fit_range and the skyline.

Both come from the same melody_notes.npz / drums.npz, so only preprocessing differs. Every validation chunk / window
is used (no subsampling), with the same selection rules as training (LM: 128-step chunks; VAE: 4-bar windows every 2
bars with at least 6 note-ons / 12 drum steps).

  python -m cadenza_train compare-prep            # uses data/ (run `prep` first) and the models in models/
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from . import data as D
from . import encoding as enc
from . import preprocess as P
from . import train as TR
from .configs import get_config
from .export import session


def legacy_melody_tokens(notes, bars: int, spec):
    """The pre-issue-16 whole-song melody tokens (None where the song was dropped), for this comparison only."""
    notes = [list(map(int, n)) for n in notes]
    lo, hi = min(n[0] for n in notes), max(n[0] for n in notes)
    shift = 0
    while lo + shift < spec.min_pitch:
        shift += 12
    while hi + shift > spec.max_pitch:
        shift -= 12
    if lo + shift < spec.min_pitch or hi + shift > spec.max_pitch:
        return None
    for n in notes:
        n[0] += shift
    return np.asarray(enc.encode_melody(notes, bars, spec)[0], np.int64)


def _log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def onnx_lm(path, chunks, batch: int = 512):
    """Next-token NLL / accuracy of an LM step graph over [n, L+1] chunks (the first token is context only)."""
    s = session(path)
    layers, hidden = (int(d) for d in (s.get_inputs()[1].shape[0], s.get_inputs()[1].shape[2]))
    nll, corr, n = 0.0, 0, 0
    for i in range(0, len(chunks), batch):
        b = chunks[i:i + batch].astype(np.int64)
        h = np.zeros((layers, len(b), hidden), np.float32)
        c = np.zeros_like(h)
        for t in range(b.shape[1] - 1):
            lg, h, c = s.run(None, {"token": b[:, t], "h": h, "c": c})
            tgt = b[:, t + 1]
            nll -= float(_log_softmax(lg)[np.arange(len(b)), tgt].sum())
            corr += int((lg.argmax(-1) == tgt).sum())
            n += len(b)
    return {"chunks": int(len(chunks)), "nll_per_step": round(nll / n, 4), "accuracy": round(corr / n, 4)}


def onnx_vae(paths, windows, start_token: int, batch: int = 512):
    """Teacher-forced NLL / accuracy and greedy reconstruction accuracy from mu, with the int8 graphs."""
    enc_s, init_s, dec_s = (session(paths[k]) for k in ("encoder", "init", "decoder"))
    nll, corr, rec, n = 0.0, 0, 0, 0
    for i in range(0, len(windows), batch):
        x = windows[i:i + batch].astype(np.int64)
        B, T = x.shape
        mu = enc_s.run(None, {"tokens": x})[0]
        h0, c0 = init_s.run(None, {"z": mu})
        (h, c), (hg, cg) = (h0, c0), (h0, c0)
        prev = np.full((B,), start_token, np.int64)
        gprev = prev
        for t in range(T):
            lg, h, c = dec_s.run(None, {"token": prev, "z": mu, "h": h, "c": c})
            nll -= float(_log_softmax(lg)[np.arange(B), x[:, t]].sum())
            corr += int((lg.argmax(-1) == x[:, t]).sum())
            prev = x[:, t]
            lg2, hg, cg = dec_s.run(None, {"token": gprev, "z": mu, "h": hg, "c": cg})
            gprev = lg2.argmax(-1).astype(np.int64)
            rec += int((gprev == x[:, t]).sum())
        n += B * T
    return {"windows": int(len(windows)), "teacher_forced_nll_per_step": round(nll / n, 4),
            "teacher_forced_accuracy": round(corr / n, 4), "greedy_reconstruction_accuracy_from_mu": round(rec / n, 4)}


def _vae_windows(seqs, T, hop, min_ev, domain, spec):
    return TR.windows(seqs, T, hop, min_ev, domain, spec)


def compare(data_dir: Path, models_dir: Path, log=print):
    spec = enc.load_spec()
    man = json.loads((Path(models_dir) / "manifest.json").read_text())["models"]
    graphs = {k: {g: Path(models_dir) / v["file"] for g, v in m["graphs"].items()} for k, m in man.items()}
    out = {}
    t0 = time.time()

    # ---- melody: the same songs, old and new preprocessing
    keys, songs, split = D.load_melody(Path(data_dir) / "melody_notes.npz")
    m = TR.melody_songs(data_dir)
    old_tokens, kept_old = [], 0
    for (notes, bars), sp in zip(songs, split):
        if sp != "valid":
            continue
        t = legacy_melody_tokens(notes, bars, spec)
        if t is not None:
            old_tokens.append(t)
            kept_old += 1
    new_tokens = [t for t, sp in zip(m["tokens"], m["split"]) if sp == "valid"]
    new_grids = [g for g, sp in zip(m["grids"], m["split"]) if sp == "valid"]
    L = 128
    log(f"melody: {len(new_tokens)} validation songs (old path kept {kept_old}); {time.time() - t0:.0f}s")
    vcfg = get_config("melody_vae")
    T = vcfg["bars"] * spec.steps_per_bar
    old_win = _vae_windows(old_tokens, T, 2 * spec.steps_per_bar, 6, "melody", spec)
    new_win, _ = TR.melody_window_array(new_grids, vcfg["bars"], 2, 6, spec)
    same = {w.tobytes() for w in old_win}
    changed = sum(1 for w in new_win if w.tobytes() not in same)
    stats = _melody_stats(songs, split, spec)
    # how much of the data the new path changes, validation and training songs
    for sp in ("valid", "train"):
        diff = tot = 0
        for (notes, bars), s_, t_new in zip(songs, split, m["tokens"]):
            if s_ != sp:
                continue
            t_old = legacy_melody_tokens(notes, bars, spec)
            if t_old is None:
                continue
            diff += int((t_old != t_new).sum())
            tot += len(t_new)
        stats[f"{sp}_song_tokens_changed"] = f"{diff} of {tot} ({100 * diff / max(1, tot):.2f} %)"
    out["melody_data"] = stats | {"valid_songs_old": kept_old, "valid_songs_new": len(new_tokens),
                                  "vae_valid_windows_old": int(len(old_win)), "vae_valid_windows_new": int(len(new_win)),
                                  "vae_valid_windows_new_not_among_old": int(changed)}
    log(f"melody data: {json.dumps(out['melody_data'])}")
    for label, toks, win in (("old", old_tokens, old_win), ("new", new_tokens, new_win)):
        chunks = TR.lm_chunks(toks, L)
        out.setdefault("melody_rnn", {})[label] = onnx_lm(graphs["melody_rnn"]["step"], chunks)
        log(f"melody_rnn {label}: {out['melody_rnn'][label]} ({time.time() - t0:.0f}s)")
        out.setdefault("melody_vae", {})[label] = onnx_vae(graphs["melody_vae"], win, man["melody_vae"]["decoder_start_token"])
        log(f"melody_vae {label}: {out['melody_vae'][label]} ({time.time() - t0:.0f}s)")

    # ---- drums: the old whole-performance encoder against preprocess.py on the same notes
    perfs = D.load_drums(Path(data_dir) / "drums.npz")
    out["drums_data"] = {"performances": len(perfs),
                         "tokens_identical_to_old_encoder": _drums_identical(spec, log)}
    dd = TR.load_domain(data_dir, "drums")
    dchunks = TR.lm_chunks(dd["valid"], L)
    out["drum_rnn"] = {"old_and_new": onnx_lm(graphs["drum_rnn"]["step"], dchunks)}
    log(f"drum_rnn: {out['drum_rnn']}")
    dcfg = get_config("drum_vae")
    _, dva, _ = TR.vae_windows(dcfg, data_dir, spec)
    out["drum_vae"] = {"old_and_new": onnx_vae(graphs["drum_vae"], dva, man["drum_vae"]["decoder_start_token"])}
    log(f"drum_vae: {out['drum_vae']} ({time.time() - t0:.0f}s)")
    # groove_vae: its features come from encoding.encode_groove / encode_tap of the whole performance in both paths
    gva = TR.load_domain(data_dir, "groove")["valid"]
    Gva, Tva = TR.groove_windows(gva, spec, hop=spec.steps_per_bar * 2)
    res = {}
    for variant in ("drumify", "groove"):
        x = TR.groove_input(variant, Gva, Tva)
        mu = session(graphs["groove_vae"][f"{variant}_encoder"]).run(None, {"input": x})[0]
        g, hl = session(graphs["groove_vae"][f"{variant}_decoder"]).run(None, {"z": mu, "input": x})
        met = TR.groove_metrics(hl, g[..., 1::3], g[..., 2::3], Gva)
        res[variant] = {k: round(float(v), 4) for k, v in met.items()}
    out["groove_vae"] = {"old_and_new": {"windows": int(len(Gva)), **res}}
    log(f"groove_vae: {out['groove_vae']} ({time.time() - t0:.0f}s)")
    return out


def _melody_stats(songs, split, spec):
    """What the new preprocessing changes in the validation songs."""
    trimmed = poly_old = poly_new = notes = outside = 0
    for (n, bars), sp in zip(songs, split):
        if sp != "valid":
            continue
        notes += len(n)
        nl = n.tolist()
        p = P.preprocess_melody([(nl, bars)])[0]
        trimmed += p.report["trimmed"]
        poly_new += p.report["polyphony"]
        outside += p.report["folded"]
        q = P.quantize(nl, bars)
        poly_old += P.skyline(q)[1]
    return {"valid_notes": notes, "legato_trimmed": trimmed, "skyline_dropped_old": poly_old,
            "skyline_dropped_new": poly_new, "folded_new_whole_song": outside}


def _drums_identical(spec, log=print):
    """Every GMD performance the pipeline reads: preprocess_drums' tokens against the old whole-clip encode_drums."""
    import csv

    root = D.datasets_dir() / "groove_midi"
    with open(root / "info.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] in ("train", "validation") and r["time_signature"] == "4-4"]
    same = 0
    for r in rows:
        notes, _, _ = D.midi_notes(root / r["midi_filename"])
        notes = [n for n in notes if n[2] >= 0]
        if not notes:
            continue
        bars = D.bars_for(notes, spec)
        if enc.encode_drums(notes, bars, spec)[0] != P.preprocess_drums(notes, bars, spec=spec).tokens:
            log(f"drums differ: {r['midi_filename']}")
            return False
        same += 1
    log(f"drums: {same} performances encode identically")
    return True
