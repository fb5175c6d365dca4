"""A v2 experiment as a candidate models folder, and shipping it (issue 17).

  python -m cadenza_train candidate drum_vae_v2 [--out DIR]   # DIR = copy of models/ with the experiment's int8
                                                               # graphs (an LM, a sequence VAE or a GrooVAE variant)
                                                               # under the base name; then
  python -m cadenza_train evaluate --models DIR               # the same honest metrics as the shipped models
  python -m cadenza_train ship drum_vae_v2 DIR                # copy the graphs + manifest entry into models/

The candidate's manifest entry keeps the shipped entry's interface fields and records the experiment's data sets and
share, steps, wall time, hardware and int8-vs-fp32 parity; `ship` adds the honest metrics (evaluate.json of DIR).
"""
from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import numpy as np
import torch

from . import encoding as enc
from . import export as X
from . import train as TR
from .configs import get_config
from .data import LICENSES
from .paths import DATA_DIR, MODELS_DIR, RUNS_DIR

EXTRA_LICENSES = {
    "freedoom_music": {"name": "Freedoom: Phase 1/2 and FreeDM soundtracks, channel-10 drums of the 4/4 files",
                       "license": "BSD-3-Clause", "attribution": "Contributors to the Freedoom project (CREDITS-MUSIC)"},
    "mma_grooves": {"name": "MMA (Musical MIDI Accompaniment) standard library grooves, rendered with seeds 1 and 2",
                    "license": "GPL-2.0-or-later", "attribution": "Bob van der Poel and MMA contributors"},
    "hydrogen_patterns": {"name": "Hydrogen Song-and-pattern-repository Patterns/ (midi/, no song references)",
                          "license": "LAL-1.3 (Free Art License)",
                          "attribution": "Olivier Flatres, ggzz, Nicolas Faure, Fabrice Salvaire, Benoit Rouits"},
}


def build(name: str, out: Path, log=print) -> Path:
    cfg = get_config(name)
    base = cfg["base"]
    spec = enc.load_spec()
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(MODELS_DIR, out, ignore=shutil.ignore_patterns("training", "samples"))
    run_dir = RUNS_DIR / name
    fit = json.loads((RUNS_DIR / f"{name}.fit.json").read_text()) if (RUNS_DIR / f"{name}.fit.json").exists() else None
    if cfg["kind"] == "groove":  # GrooVAE runs keep one folder per variant
        run_dir = run_dir / cfg["variant"]
    ck = torch.load(run_dir / "best.pt", weights_only=False)
    full = torch.load(run_dir / "ckpt.pt", weights_only=False)
    man = json.loads((out / "manifest.json").read_text())
    entry = dict(man["models"][base])
    share = cfg.get("extra_share", 0.0)
    if cfg["kind"] == "vae":
        model = TR.build_vae(cfg, spec)
        model.load_state_dict(ck["model"])
        model.eval()
        _, va, _ = TR.vae_windows(cfg, DATA_DIR, spec)
        ex = X.export_vae(model, run_dir / "onnx", base, va[:16])
        selection = "GMD validation half (issue 17 split), teacher-forced NLL + KL term"
    elif cfg["kind"] == "lm":
        model = TR.build_lm(cfg, spec)
        model.load_state_dict(ck["model"])
        model.eval()
        dd = TR.load_domain(DATA_DIR, cfg["domain"], honest=True)
        ex = X.export_lm(model, run_dir / "onnx", base, next(s for s in dd["valid"] if len(s) >= 64))
        selection = "validation half (issue 17 split), NLL per step"
    elif cfg["kind"] == "groove":
        return _build_groove(name, cfg, out, man, entry, ck, full, (fit or {}).get("hardware", TR.hardware()), log)
    else:
        raise SystemExit("candidate: LMs, sequence VAEs and GrooVAE variants only")
    for part, p in ex["files"].items():
        shutil.copyfile(p, out / Path(p).name)
        g = dict(entry["graphs"][part])
        g["sha256"] = X.sha256(out / Path(p).name)
        g["bytes"] = (out / Path(p).name).stat().st_size
        entry["graphs"][part] = g
    if cfg["domain"] == "drums":
        entry["datasets"] = [{"id": "groove_midi", **LICENSES["groove_midi"], "share_of_each_batch": round(1 - share, 3)}] + [
            {"id": k, **v, "share_of_each_batch": "together " + str(round(share, 3))} for k, v in EXTRA_LICENSES.items()]
    entry["hyperparameters"] = {k: v for k, v in cfg.items() if k not in ("kind", "domain")}
    hist = full["history"]
    entry["training"] = {"experiment": name, "steps": full["step"], "train_seconds": round(full["elapsed"], 1),
                         "best_step": ck["step"], "hardware": (fit or {}).get("hardware", TR.hardware()),
                         "finished_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                         "model_selection": selection}
    entry["training_curve"] = [{"step": h["step"], "elapsed_s": h["elapsed_s"],
                                "valid": {k: v for k, v in h["valid"].items() if k != "select"}} for h in hist]
    entry["parity"] = dict(ex["parity"])
    if cfg["kind"] == "vae":
        entry["parity"].update(metric_parity(ex, va, model.start_token, spec, cfg["domain"]))
    entry.pop("metrics", None)
    entry.pop("listening_notes", None)
    man["models"][base] = entry
    man["total_int8_bytes"] = sum(g["bytes"] for m in man["models"].values() for g in m["graphs"].values())
    (out / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    if cfg["kind"] == "vae":  # Generate's latent prior lives in the encoder's space: fitted again for the new one
        from . import latent_prior as LP
        LP.add_prior(out, base, *LP.training_windows(name), log=log)
    log(f"candidate {name} -> {out} (best step {ck['step']} of {full['step']}); parity {json.dumps(ex['parity'])}")
    return out


def _build_groove(name, cfg, out, man, entry, ck, full, hardware, log):
    """One GrooVAE variant (cfg["variant"]: drumify or groove) replaces that variant's two graphs in the groove_vae
    entry; the other variant and its records stay as shipped. The hit threshold is calibrated on the training windows
    and baked into the graph exactly as the full pipeline does (pipeline.calibrate_hit_threshold)."""
    from .models import GrooveVAE
    from .pipeline import calibrate_hit_threshold
    variant, base = cfg["variant"], cfg["base"]
    spec = enc.load_spec()
    dd = TR.load_domain(DATA_DIR, "groove", honest=True)
    Gtr, Ttr = TR.groove_windows(dd["train"], spec)
    Xtr = TR.groove_input(variant, Gtr, Ttr)
    model = GrooveVAE(Xtr.shape[-1], spec.num_drum_classes, cfg["enc_hidden"], cfg["dec_hidden"], cfg["z_dim"],
                      cfg["dropout"])
    model.load_state_dict(ck["model"])
    model.eval()
    calib = calibrate_hit_threshold(model, Xtr, Gtr)
    ex = X.export_groove(model, RUNS_DIR / name / "onnx", f"{base}.{variant}", Xtr[:16])
    graphs = {}
    for part, p in ex["files"].items():
        shutil.copyfile(p, out / Path(p).name)
        graphs[part] = {"sha256": X.sha256(out / Path(p).name), "bytes": (out / Path(p).name).stat().st_size,
                        "quantized_ops": ex["ops"][part]}
    share = cfg.get("extra_share", 0.0)
    gmd = [d for d in (entry["datasets"]["groove"] if isinstance(entry["datasets"], dict) else entry["datasets"])
           if d["id"] == "groove_midi"]
    datasets = gmd if share == 0 else (
        [dict(gmd[0], share_of_each_batch=round(1 - share, 3), learns="hits, velocity, timing")]
        + [{"id": k, **v, "share_of_each_batch": "together " + str(round(share, 3)), "learns": "hits only"}
           for k, v in EXTRA_LICENSES.items()])
    hyper = {k: v for k, v in cfg.items() if k not in ("kind", "domain", "variant")}
    entry = merge_variant(entry, variant, {
        "experiment": name, "datasets": datasets, "hyperparameters": hyper,
        "steps": full["step"], "best_step": ck["step"], "train_seconds": round(full["elapsed"], 1),
        "history": full["history"], "hardware": hardware, "calibration": calib, "parity": ex["parity"],
        "graphs": graphs})
    man["models"][base] = entry
    man["total_int8_bytes"] = sum(g["bytes"] for m in man["models"].values() for g in m["graphs"].values())
    (out / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    log(f"candidate {name} -> {out} (best step {ck['step']} of {full['step']}); threshold {calib}; "
        f"parity {json.dumps(ex['parity'])}")
    return out


def merge_variant(entry: dict, variant: str, run: dict) -> dict:
    """The groove_vae manifest entry with one variant ("drumify" or "groove") replaced by a new training run; the other
    variant's graphs, hyperparameters, data sets, steps, curve, threshold and parity are kept as they were. Fields the
    shipped entry holds once for both variants (hyperparameters, datasets) become one record per variant. The entry's
    old `metrics` (both variants, pre-issue-17 validation) and listening notes no longer describe it and are dropped;
    `ship` adds the honest metrics of both variants. run: experiment, hyperparameters, datasets, steps, best_step,
    train_seconds, history, hardware, calibration {threshold, train_f1}, parity,
    graphs {encoder|decoder: {sha256, bytes, quantized_ops}}."""
    e = json.loads(json.dumps(entry))
    for part, g in run["graphs"].items():
        e["graphs"][f"{variant}_{part}"].update(g)
    for field in ("hyperparameters", "datasets"):
        old = e.get(field)
        if not (isinstance(old, dict) and set(old) == {"drumify", "groove"}):
            old = {"drumify": old, "groove": old}
        e[field] = dict(old, **{variant: run[field]})
    tr = e["training"]
    tr["steps"][variant] = run["steps"]
    tr["best_step"][variant] = run["best_step"]
    tr["train_seconds_per_variant"][variant] = run["train_seconds"]
    tr["train_seconds"] = round(sum(tr["train_seconds_per_variant"].values()), 1)
    tr.setdefault("experiments", {})[variant] = {
        "experiment": run["experiment"], "hardware": run["hardware"],
        "finished_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model_selection": "GMD validation half (issue 17 split), hit BCE + velocity and timing terms"}
    e["training_curve"][variant] = [{"step": h["step"], "elapsed_s": h["elapsed_s"],
                                     "valid": {k: v for k, v in h["valid"].items() if k != "select"}}
                                    for h in run["history"]]
    e["hit_threshold_calibration"][variant].update(threshold=run["calibration"]["threshold"],
                                                   train_f1=run["calibration"]["train_f1"])
    e["parity"][variant] = run["parity"]
    e.pop("metrics", None)
    e.pop("listening_notes", None)
    return e


def metric_parity(ex, va, start_token, spec, domain, n=300):
    """Greedy reconstructions of n validation windows through the fp32 and the int8 graphs: note F1 of each, and
    the share of windows whose decoded tokens are identical."""
    from . import honest as H
    w = va[np.random.RandomState(0).choice(len(va), min(n, len(va)), replace=False)].astype(np.int64)
    p32 = H.vae_decode({k: Path(v) for k, v in ex["fp32"].items()}, w, start_token)
    p8 = H.vae_decode({k: Path(v) for k, v in ex["files"].items()}, w, start_token)
    return {"validation_windows": int(len(w)),
            "note_f1_fp32": H.recon_metrics(w, p32, domain, spec)["note_f1"],
            "note_f1_int8": H.recon_metrics(w, p8, domain, spec)["note_f1"],
            "identical_decodes_int8_vs_fp32": float(round((p32 == p8).all(1).mean(), 4))}


def previous_version(old: dict, note: str = "the entry this one replaced, as it was when replaced") -> dict:
    """What a replaced model scored, kept beside its successor so the manifest shows old and new side by side
    (issue 17): its honest test/validation metrics, sample statistics, training summary and hyperparameters. The
    replaced entry's own previous_version is not carried on (one step of history; git has the rest)."""
    keep = ("honest_metrics", "sample_statistics", "training", "hyperparameters", "datasets", "listening_notes")
    return {"note": note, **{k: old[k] for k in keep if k in old}}


def ship(name: str, cand: Path, log=print):
    cfg = get_config(name)
    base = cfg["base"]
    cand = Path(cand)
    cman = json.loads((cand / "manifest.json").read_text())
    entry = cman["models"][base]
    ev = cand / "evaluate.json"
    if ev.exists():
        res = json.loads(ev.read_text())
        found = res["groove"] if cfg["kind"] == "groove" else res["lm" if cfg["kind"] == "lm" else "vae"][base]
        entry["honest_metrics"] = {"source": "python -m cadenza_train evaluate (issue 17 split)", **found}
    for part, g in entry["graphs"].items():
        shutil.copyfile(cand / g["file"], MODELS_DIR / g["file"])
    man = json.loads((MODELS_DIR / "manifest.json").read_text())
    entry["previous_version"] = previous_version(man["models"].get(base, {}))
    man["models"][base] = entry
    man["total_int8_bytes"] = sum(g["bytes"] for m in man["models"].values() for g in m["graphs"].values())
    (MODELS_DIR / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    log(f"shipped {name} as {base}")
