"""A v2 experiment as a candidate models folder, and shipping it (issue 17).

  python -m cadenza_train candidate drum_vae_v2 [--out DIR]   # DIR = copy of models/ with the experiment's int8
                                                               # graphs (an LM or a sequence VAE) under the base name; then
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
    else:
        raise SystemExit("candidate: LMs and sequence VAEs only")
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
                         "best_step": ck["step"], "hardware": TR.hardware(),
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
    log(f"candidate {name} -> {out} (best step {ck['step']} of {full['step']}); parity {json.dumps(ex['parity'])}")
    return out


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


def ship(name: str, cand: Path, log=print):
    cfg = get_config(name)
    base = cfg["base"]
    cand = Path(cand)
    cman = json.loads((cand / "manifest.json").read_text())
    entry = cman["models"][base]
    ev = cand / "evaluate.json"
    if ev.exists():
        family = "lm" if cfg["kind"] == "lm" else "vae"
        entry["honest_metrics"] = {"source": "python -m cadenza_train evaluate (issue 17 split)",
                                   **json.loads(ev.read_text())[family][base]}
    for part, g in entry["graphs"].items():
        shutil.copyfile(cand / g["file"], MODELS_DIR / g["file"])
    man = json.loads((MODELS_DIR / "manifest.json").read_text())
    man["models"][base] = entry
    man["total_int8_bytes"] = sum(g["bytes"] for m in man["models"].values() for g in m["graphs"].values())
    (MODELS_DIR / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    log(f"shipped {name} as {base}")
