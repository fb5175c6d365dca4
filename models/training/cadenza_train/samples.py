"""Render samples from the shipped int8 ONNX graphs (driven like the Rust engine will) to MIDI + piano-roll PNG."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mido  # noqa: E402
import numpy as np  # noqa: E402

from . import encoding as enc  # noqa: E402
from .export import session  # noqa: E402


def softmax_sample(logits, temperature, rng):
    x = logits / max(temperature, 1e-6)
    x = x - x.max(-1, keepdims=True)
    p = np.exp(x)
    p /= p.sum(-1, keepdims=True)
    return np.array([rng.choice(len(pp), p=pp) for pp in p], np.int64)


def write_midi(notes, path, ppq=480, bpm=120):
    mf = mido.MidiFile(ticks_per_beat=ppq)
    tr = mido.MidiTrack()
    mf.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    tr.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    ev = []
    for p, v, s, e, ch in notes:
        ev.append((int(s), 1, mido.Message("note_on", note=int(p), velocity=int(v), channel=int(ch))))
        ev.append((int(e), 0, mido.Message("note_off", note=int(p), velocity=0, channel=int(ch))))
    ev.sort(key=lambda x: (x[0], x[1]))
    t = 0
    for tick, _, m in ev:
        m.time = tick - t
        t = tick
        tr.append(m)
    mf.save(str(path))


def piano_roll(notes, path, title, total_steps, drums=False):
    spec = enc.load_spec()
    tps = spec.ticks_per_step
    fig, ax = plt.subplots(figsize=(12, 3.5))
    if drums:
        names = [c["name"] for c in spec.drum_classes]
        row = {p: i for i, p in enumerate(spec.drum_output_pitches)}
        for p, v, s, e, ch in notes:
            ax.add_patch(plt.Rectangle((s / tps, row.get(p, -1) - 0.4), max(0.3, (e - s) / tps * 0.8), 0.8,
                                       color=plt.cm.viridis(v / 127)))
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names)
        ax.set_ylim(-0.7, len(names) - 0.3)
    else:
        for p, v, s, e, ch in notes:
            ax.add_patch(plt.Rectangle((s / tps, p - 0.4), (e - s) / tps, 0.8, color="tab:blue"))
        ps = [n[0] for n in notes] or [60]
        ax.set_ylim(min(ps) - 3, max(ps) + 3)
        ax.set_ylabel("MIDI pitch")
    for b in range(0, total_steps + 1, spec.steps_per_bar):
        ax.axvline(b, color="k", lw=0.8)
    for b in range(0, total_steps + 1, spec.steps_per_quarter):
        ax.axvline(b, color="gray", lw=0.3)
    ax.set_xlim(0, total_steps)
    ax.set_xlabel("step (16th)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def render(notes, out_dir: Path, stem, title, steps, drums=False):
    out_dir.mkdir(parents=True, exist_ok=True)
    write_midi(notes, out_dir / f"{stem}.mid")
    piano_roll(notes, out_dir / f"{stem}.png", title, steps, drums)


def lm_continue(step_path, primer, n_steps, layers, hidden, temperature, rng, batch):
    s = session(step_path)
    h = np.zeros((layers, batch, hidden), np.float32)
    c = np.zeros_like(h)
    seqs = [list(primer) for _ in range(batch)]
    logits = None
    for t in primer:
        logits, h, c = s.run(None, {"token": np.full((batch,), t, np.int64), "h": h, "c": c})
    for _ in range(n_steps):
        tok = softmax_sample(logits, temperature, rng)
        for i in range(batch):
            seqs[i].append(int(tok[i]))
        logits, h, c = s.run(None, {"token": tok, "h": h, "c": c})
    return np.array(seqs)


def vae_decode(paths, z, steps, start_token, temperature, rng):
    init, dec = session(paths["init"]), session(paths["decoder"])
    h, c = init.run(None, {"z": z.astype(np.float32)})
    tok = np.full((len(z),), start_token, np.int64)
    out = []
    for _ in range(steps):
        lg, h, c = dec.run(None, {"token": tok, "z": z.astype(np.float32), "h": h, "c": c})
        tok = lg.argmax(-1).astype(np.int64) if temperature <= 0 else softmax_sample(lg, temperature, rng)
        out.append(tok)
    return np.stack(out, 1)


def decode_tokens(toks, domain):
    return enc.decode_melody(toks) if domain == "melody" else enc.decode_drums(toks)


def lm_samples(name, files, cfg, valid_seqs, out_dir, layers, hidden, n=3, seed=0):
    spec = enc.load_spec()
    rng = np.random.default_rng(seed)
    domain = cfg["domain"]
    spb = spec.steps_per_bar
    notes_out = []
    cands = [s for s in valid_seqs if len(s) >= 4 * spb and
             ((s[:2 * spb] >= 2).sum() >= 4 if domain == "melody" else (s[:2 * spb] > 0).sum() >= 8)]
    if not cands:
        cands = [s for s in valid_seqs if len(s) >= 2 * spb] or valid_seqs
    for i in range(n):
        s = cands[int(rng.integers(0, len(cands)))]
        # prime with the first 2 bars that contain events
        a = 0
        for a in range(0, max(1, len(s) - 2 * spb), spb):
            w = s[a:a + 2 * spb]
            if (w >= 2).sum() >= 4 if domain == "melody" else (w > 0).sum() >= 8:
                break
        primer = [int(x) for x in s[a:a + 2 * spb]]
        seq = lm_continue(files["step"], primer, 6 * spb, layers, hidden, 1.0, rng, 1)[0]
        notes = decode_tokens(seq, domain)
        render(notes, out_dir, f"{name}_{i}", f"{name}: 2-bar primer (held-out) + 6 bars continued, T=1.0 (int8 ONNX)",
               len(seq), drums=(domain == "drums"))
        notes_out.append(seq.tolist())
    return notes_out


def vae_samples(name, files, cfg, va, out_dir, start_token, z_dim, n=3, seed=0):
    rng = np.random.default_rng(seed)
    domain = cfg["domain"]
    T = va.shape[1]
    z = rng.standard_normal((n, z_dim)).astype(np.float32)
    seqs = vae_decode(files, z, T, start_token, 1.0, rng)
    for i, s in enumerate(seqs):
        render(decode_tokens(s, domain), out_dir, f"{name}_prior_{i}", f"{name}: prior sample z~N(0,I), T=1.0 (int8 ONNX)",
               T, drums=(domain == "drums"))
    # interpolation between two held-out windows: 5 points, concatenated
    enc_s = session(files["encoder"])
    idx = rng.choice(len(va), 2, replace=False)
    mu = enc_s.run(None, {"tokens": va[idx].astype(np.int64)})[0]
    alphas = np.linspace(0, 1, 5)
    zs = np.stack([(1 - a) * mu[0] + a * mu[1] for a in alphas]).astype(np.float32)
    inter = vae_decode(files, zs, T, start_token, 0.0, rng)
    full = np.concatenate(list(inter))
    render(decode_tokens(full, domain), out_dir, f"{name}_interp",
           f"{name}: interpolation of 2 held-out windows, 5 points x 4 bars, greedy (int8 ONNX)", len(full),
           drums=(domain == "drums"))
    return seqs.tolist()


def groove_samples(files, Gva, Tva, out_dir, n=2, seed=0):
    spec = enc.load_spec()
    rng = np.random.default_rng(seed)
    T = spec.groove_steps
    idx = rng.choice(len(Gva), n, replace=False)
    for variant in ("drumify", "groove"):
        e = session(files[f"{variant}_encoder"])
        d = session(files[f"{variant}_decoder"])
        for j, i in enumerate(idx):
            if variant == "drumify":
                x = Tva[i:i + 1]
                src = [[37, max(1, int(round(r[1] * 127))), max(0, int(round((s + r[2]) * 120))),
                        max(0, int(round((s + r[2]) * 120))) + 120, 9] for s, r in enumerate(x[0]) if r[0] > 0.5]
            else:
                x = np.zeros((1, T, spec.groove_floats), np.float32)
                x[..., 0::3] = Gva[i:i + 1][..., 0::3]
                src = enc.decode_groove([[v if k % 3 == 0 else (100 / 127 if k % 3 == 1 else 0.0) for k, v in enumerate(r)]
                                         for r in x[0]])
            mu = e.run(None, {"input": x})[0]
            g, _ = d.run(None, {"z": mu, "input": x})
            out = enc.decode_groove(g[0].tolist())
            truth = enc.decode_groove(Gva[i].tolist())
            render(src, out_dir, f"groove_vae_{variant}_{j}_input", f"groove_vae/{variant}: input", T, drums=True)
            render(out, out_dir, f"groove_vae_{variant}_{j}_output",
                   f"groove_vae/{variant}: output (int8 ONNX, z=mu); colour = velocity", T, drums=True)
            render(truth, out_dir, f"groove_vae_{variant}_{j}_truth", f"groove_vae/{variant}: the real performance",
                   T, drums=True)
