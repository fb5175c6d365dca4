"""prep -> train -> export -> quantize -> ORT check -> evaluate -> samples -> manifest."""
from __future__ import annotations

import datetime
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import onnx
import torch

from . import data as D
from . import encoding as enc
from . import export as X
from . import evaluate as E
from . import latent_prior as LP
from . import samples as S
from . import train as TR
from .configs import MODEL_NAMES, get_config
from .paths import DATA_DIR, MANIFEST_PATH, MODELS_DIR, RUNS_DIR, SAMPLES_DIR, SPEC_PATH

DATASETS_USED = {
    "melody_rnn": ["pop909", "openewld", "music21_folk"],
    "melody_vae": ["pop909", "openewld", "music21_folk"],
    "drum_rnn": ["groove_midi"],
    "drum_vae": ["groove_midi"],
    "groove_vae": ["groove_midi"],
}


class Ctx:
    def __init__(self, smoke: bool, root: Path | None = None, log=print):
        self.smoke = smoke
        self.log = log
        if smoke:
            root = Path(root)
            self.data_dir = root / "data"
            self.runs_dir = root / "runs"
            self.models_dir = root / "models"
            self.samples_dir = root / "runs" / "samples"
            self.manifest = root / "models" / "manifest.json"
        else:
            self.data_dir, self.runs_dir, self.models_dir = DATA_DIR, RUNS_DIR, MODELS_DIR
            self.samples_dir, self.manifest = SAMPLES_DIR, MANIFEST_PATH
        for d in (self.data_dir, self.runs_dir, self.models_dir, self.samples_dir):
            d.mkdir(parents=True, exist_ok=True)


def _place(ctx, exported, name):
    """Move int8 graphs into models_dir (fp32 copies stay in runs/)."""
    files = {}
    for part, p in exported["files"].items():
        dst = ctx.models_dir / Path(p).name
        shutil.copyfile(p, dst)
        files[part] = dst
    return files


def _graph_entries(ctx, files, ops):
    out = {}
    for part, p in files.items():
        io = X.io_spec(p)
        out[part] = {"file": os.path.relpath(p, ctx.models_dir), "sha256": X.sha256(p), "bytes": os.path.getsize(p),
                     **io, "quantized_ops": [o for o in ops[part] if o.startswith("Dynamic") or "Integer" in o
                                             or o.startswith("MatMulInteger") or o.startswith("DynamicQuantize")],
                     "has_DynamicQuantizeLSTM": "DynamicQuantizeLSTM" in ops[part]}
    return out


def _base_entry(name, cfg, spec, train_info):
    return {
        "kind": cfg["kind"], "domain": cfg["domain"],
        "spec_version": spec.spec_version, "steps_per_quarter": spec.steps_per_quarter,
        "hyperparameters": {k: v for k, v in cfg.items() if k not in ("kind", "domain")},
        "datasets": [{"id": d, **D.LICENSES[d]} for d in DATASETS_USED[name]],
        "training": {k: v for k, v in train_info.items() if k != "history"} | {
            "hardware": TR.hardware(), "finished_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")},
        "training_curve": [{"step": h["step"], "elapsed_s": h["elapsed_s"], "valid": {k: v for k, v in h["valid"].items() if k != "select"}}
                           for h in train_info.get("history", [])],
    }


def run_lm(ctx, name):
    cfg = get_config(name, ctx.smoke)
    spec = enc.load_spec()
    run_dir = ctx.runs_dir / name
    model, info = TR.train_lm(name, cfg, ctx.data_dir, run_dir, ctx.log)
    dd = TR.load_domain(ctx.data_dir, cfg["domain"])
    sample = np.concatenate(dd["valid"])[:200]
    ex = X.export_lm(model, run_dir / "onnx", name, sample)
    files = _place(ctx, ex, name)
    ctx.log(f"[{name}] exported; evaluating")
    metrics = E.eval_lm(model, cfg, ctx.data_dir, int8_path=files["step"], max_chunks=60 if ctx.smoke else 600)
    S.lm_samples(name, files, cfg, dd["valid"], ctx.samples_dir, model.layers, model.hidden, n=1 if ctx.smoke else 3)
    V = model.vocab
    entry = _base_entry(name, cfg, spec, info)
    entry.update({
        "vocab_size": V,
        "interface": "single step: feed token[B] (int64) with state h,c [layers,B,hidden] (zeros to start); "
                     "logits[B,vocab] are unnormalized scores for the NEXT token; feed h_out/c_out back.",
        "state": {"layers": model.layers, "hidden": model.hidden, "initial": "zeros"},
        "graphs": _graph_entries(ctx, files, ex["ops"]),
        "parity": ex["parity"], "metrics": metrics,
    })
    return entry


def run_vae(ctx, name):
    cfg = get_config(name, ctx.smoke)
    spec = enc.load_spec()
    run_dir = ctx.runs_dir / name
    model, info, tr, va = TR.train_vae(name, cfg, ctx.data_dir, run_dir, ctx.log, smoke=ctx.smoke)
    ex = X.export_vae(model, run_dir / "onnx", name, va[:16])
    files = _place(ctx, ex, name)
    ctx.log(f"[{name}] exported; evaluating")
    metrics = E.eval_vae(model, cfg, va, int8_paths=files, n_prior=20 if ctx.smoke else 500,
                         n_interp=4 if ctx.smoke else 200)
    S.vae_samples(name, files, cfg, va, ctx.samples_dir, model.start_token, model.z_dim, n=1 if ctx.smoke else 3)
    if cfg.get("min_velocity"):
        # the same validation windows with every hit kept, for comparison with models trained on all hits
        _, va_all, _ = TR.vae_windows(dict(cfg, min_velocity=0), ctx.data_dir, spec, ctx.smoke)
        r = TR.vae_tf_eval(model, torch.from_numpy(va_all.astype(np.int64)))
        metrics["all_hits_validation"] = {
            "windows": int(len(va_all)), "teacher_forced_accuracy": round(r["acc"], 4),
            "teacher_forced_nll_per_step": round(r["nll"], 4),
            "note": f"training and the metrics above drop hits quieter than velocity {cfg['min_velocity']}; "
                    "these are the validation windows with all hits"}
    prior_graph, prior = LP.build(ctx.models_dir, name, files["encoder"], tr, va, k=4 if ctx.smoke else LP.COMPONENTS,
                                  windows_from="the windows this run trained on")
    entry = _base_entry(name, cfg, spec, info)
    entry.update({
        "vocab_size": model.vocab, "bars": cfg["bars"], "steps": cfg["bars"] * spec.steps_per_bar,
        "z_dim": model.z_dim, "decoder_start_token": model.start_token,
        "interface": "encoder: tokens[B,steps] -> mu,sigma (z = mu + sigma*eps). init: z -> h0,c0. decoder step: "
                     "token[B] = previous token (decoder_start_token at step 0), z, h, c -> logits for this step, "
                     "h_out, c_out. Run the decoder exactly `steps` times. prior (Generate's z): u[B] uniform in [0,1), "
                     "eps[B,z_dim] standard normal -> z[B,z_dim] (latent_prior.py).",
        "state": {"layers": model.dec_layers, "hidden": model.dec_hidden, "initial": "from init graph"},
        "graphs": _graph_entries(ctx, files, ex["ops"]) | {"prior": prior_graph}, "latent_prior": prior,
        "parity": ex["parity"], "metrics": metrics,
        "training_windows": {"train": int(len(tr)), "valid": int(len(va)), "hop_steps": spec.steps_per_bar},
    })
    return entry


def run_groove(ctx, name="groove_vae"):
    cfg = get_config(name, ctx.smoke)
    spec = enc.load_spec()
    run_dir = ctx.runs_dir / name
    models, files, ops, parity, infos, calib = {}, {}, {}, {}, {}, {}
    tr = va = None
    for variant in ("drumify", "groove"):
        m, info, tr, va = TR.train_groove(name, variant, cfg, ctx.data_dir, run_dir, ctx.log, smoke=ctx.smoke)
        models[variant] = m
        infos[variant] = info
        calib[variant] = calibrate_hit_threshold(m, tr[0], tr[1])
        ctx.log(f"[{name}/{variant}] calibrated hit threshold {calib[variant]}")
        ex = X.export_groove(m, run_dir / "onnx", f"{name}.{variant}", tr[0][:16])
        placed = _place(ctx, ex, name)
        for part in placed:
            files[f"{variant}_{part}"] = placed[part]
            ops[f"{variant}_{part}"] = ex["ops"][part]
        parity[variant] = ex["parity"]
    ctx.log(f"[{name}] exported; evaluating")
    metrics = E.eval_groove(models, tr, va, int8_paths=files)
    S.groove_samples(files, va[1], va[2], ctx.samples_dir, n=1 if ctx.smoke else 2)
    info = {"steps": {v: i["steps"] for v, i in infos.items()},
            "train_seconds": round(sum(i["train_seconds"] for i in infos.values()), 1),
            "train_seconds_per_variant": {v: i["train_seconds"] for v, i in infos.items()},
            "best_step": {v: i["best_step"] for v, i in infos.items()}}
    entry = _base_entry(name, cfg, spec, info)
    entry["training_curve"] = {v: [{"step": h["step"], "elapsed_s": h["elapsed_s"],
                                    "valid": {k: x for k, x in h["valid"].items() if k != "select"}}
                                   for h in i["history"]] for v, i in infos.items()}
    entry.update({
        "bars": spec.groove_bars, "steps": spec.groove_steps, "z_dim": cfg["z_dim"],
        "hit_threshold_calibration": {v: {"threshold": c["threshold"], "train_f1": c["train_f1"],
                                          "note": "chosen for the best onset F1 on (a subset of) the training windows and "
                                                  "baked into the graph: hit_logits = raw - logit(threshold), so the spec's "
                                                  "'hit > 0.5' applies it"} for v, c in calib.items()},
        "variants": {
            "drumify": {"input": "tap encoding, [B,32,3] per step [hit, velocity, offset] (spec groove.tap)",
                        "input_floats": spec.tap_floats, "graphs": ["drumify_encoder", "drumify_decoder"]},
            "groove": {"input": "quantized drums, hits only: groove encoding [B,32,27] with velocity and offset set to 0",
                       "input_floats": spec.groove_floats, "graphs": ["groove_encoder", "groove_decoder"]},
        },
        "interface": "encoder: input[B,32,F] -> mu, sigma. decoder (whole sequence, non-autoregressive): z[B,Z] and "
                     "the SAME input[B,32,F] -> groove[B,32,27] in the spec layout (per voice [hit, velocity, offset]; "
                     "hit is a probability, decode with hit > 0.5 or sample Bernoulli(sigmoid(hit_logits/T))) and "
                     "hit_logits[B,32,9]. Use z = mu for the most faithful result, mu + sigma*eps for variations.",
        "graphs": _graph_entries(ctx, files, ops),
        "parity": parity, "metrics": metrics,
        "training_windows": {"train": int(len(tr[1])), "valid": int(len(va[1])), "hop_steps": spec.steps_per_bar},
    })
    return entry


@torch.no_grad()
def calibrate_hit_threshold(m, X, G, n=4000):
    from .train import f1_score

    m.hit_bias.fill_(0.0)
    X, G = X[:n], G[:n]
    xt = torch.from_numpy(X)
    mu, _ = m.encode(xt)
    hl, _, _ = m.decode(mu, xt)
    p = torch.sigmoid(hl).numpy()
    true = G[..., 0::3] > 0.5
    best = (-1.0, 0.5)
    for t in np.round(np.arange(0.1, 0.91, 0.05), 2):
        f = f1_score(p > t, true)
        if f > best[0]:
            best = (f, float(t))
    m.hit_bias.fill_(float(np.log(best[1] / (1 - best[1]))))
    return {"threshold": best[1], "train_f1": round(best[0], 4)}


RUNNERS = {"melody_rnn": run_lm, "drum_rnn": run_lm, "melody_vae": run_vae, "drum_vae": run_vae,
           "groove_vae": run_groove}


def write_manifest(ctx, entries: dict):
    spec = enc.load_spec()
    man = {}
    if ctx.manifest.exists():
        man = json.loads(ctx.manifest.read_text())
    models = man.get("models", {})
    models.update(entries)
    notes_file = Path(__file__).resolve().parent.parent / "listening_notes.json"
    if notes_file.exists() and not ctx.smoke:
        notes = json.loads(notes_file.read_text())
        for n, m in models.items():
            if n in notes:
                m["listening_notes"] = notes[n]
    total = 0
    for m in models.values():
        for g in m["graphs"].values():
            total += g["bytes"]
    man = {
        "format": "cadenza-models/1",
        "spec_version": spec.spec_version,
        "encoding_spec": {"file": "spec/encoding.json", "sha256": X.sha256(SPEC_PATH)},
        "ppq": spec.ppq, "steps_per_quarter": spec.steps_per_quarter, "steps_per_bar": spec.steps_per_bar,
        "onnx": {"opset": X.OPSET, "exporter": f"torch.onnx.export (TorchScript, dynamo=False), torch {torch.__version__}",
                 "onnx": onnx.__version__, "checked_with_onnxruntime": X.ort.__version__,
                 "quantization": "onnxruntime.quantization.quantize_dynamic, weight_type=QInt8 (int8 weights, dynamic activations)",
                 "batch": "dimension 0 (dimension 1 for h/c) is dynamic ('batch') in every graph"},
        "paths": "file paths are relative to this manifest's folder (models/)",
        "total_int8_bytes": total,
        "metrics_note": "metrics are measured on held-out data (GMD validation split; song-level 10% hash split for melody "
                        "sources) with the fp32 PyTorch weights; int8_onnx_subset entries repeat the key metric with the "
                        "shipped int8 graphs. Honest numbers: bars that were missed say meets_bar=false.",
        "models": dict(sorted(models.items())),
    }
    ctx.manifest.write_text(json.dumps(man, indent=2) + "\n")
    return man


def run(names, smoke=False, root=None, log=print):
    ctx = Ctx(smoke, root, log)
    t = time.time()
    D.prep(ctx.data_dir, smoke=smoke, log=log)
    log(f"prep done in {time.time()-t:.0f}s")
    entries = {}
    for name in names:
        t = time.time()
        entry = RUNNERS[name](ctx, name)
        entry["training"]["pipeline_wall_seconds"] = round(time.time() - t, 1)
        entries[name] = entry
        (ctx.runs_dir / f"{name}.entry.json").write_text(json.dumps(entry, indent=2))
        write_manifest(ctx, {name: entry})
        log(f"[{name}] done in {time.time()-t:.0f}s; manifest updated")
    return ctx
