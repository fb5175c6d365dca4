"""CLI.

  python -m cadenza_train all              # prep + train/export/quantize/eval/samples for all five models
  python -m cadenza_train train NAME       # retrain one model (melody_rnn, drum_rnn, melody_vae, drum_vae, groove_vae)
  python -m cadenza_train prep             # data prep only
  python -m cadenza_train manifest         # rebuild models/manifest.json from runs/*.entry.json
  python -m cadenza_train all --smoke      # tiny end-to-end run in a temp dir (never touches models/)
  python -m cadenza_train diagnose NAME    # a trained VAE's amortization gap on held-out windows (runs/NAME/best.pt)
  python -m cadenza_train compare-prep     # shipped ONNX models on validation data preprocessed the old and the new way
  python -m cadenza_train splits           # the test split, de-duplication and the extra drum sets (data/)
  python -m cadenza_train fit NAME         # train an experiment (configs.EXPERIMENTS, e.g. drum_vae_v2) into runs/NAME only
  python -m cadenza_train evaluate         # honest test metrics + sample statistics of the Rust CLI's outputs
  python -m cadenza_train candidate NAME   # an experiment's int8 graphs in a copy of models/ (runs/NAME/candidate_models)
  python -m cadenza_train ship NAME DIR    # that candidate into models/ (graphs + manifest entry)
  python -m cadenza_train prior [NAMES]    # Generate's latent prior for the VAEs of models/ (or --out DIR)
  python -m cadenza_train prior-select     # its number of components, chosen on the validation windows
Add --fresh to delete a model's checkpoints first (otherwise training resumes from runs/NAME/ckpt.pt).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "evaluate":  # its own options (--models, --cli, --quality, --no-samples, --out)
        from . import honest

        def log_(msg):
            print(time.strftime("%H:%M:%S"), msg, flush=True)
        return honest.main(argv[1:], log_)
    ap = argparse.ArgumentParser(prog="cadenza_train")
    ap.add_argument("cmd", choices=["all", "train", "prep", "manifest", "diagnose", "compare-prep", "splits", "fit",
                                        "candidate", "ship", "prior", "prior-select"])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--out", default=None, help="smoke: output folder (default: a new temp dir); candidate: the "
                    "candidate folder; prior: the models folder (default: models/)")
    ap.add_argument("--data", default=None, help="compare-prep: the data folder (default: data/)")
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(int(os.environ.get("CADENZA_TRAIN_THREADS", "1")))
    from .configs import MODEL_NAMES
    from . import pipeline
    from .paths import RUNS_DIR

    def log(msg):
        print(time.strftime("%H:%M:%S"), msg, flush=True)

    root = None
    if a.smoke:
        root = a.out or tempfile.mkdtemp(prefix="cadenza_smoke_")
        log(f"smoke mode: writing to {root}")
    if a.cmd == "prep":
        from . import data
        from .paths import DATA_DIR
        import pathlib
        data.prep(pathlib.Path(root) / "data" if root else DATA_DIR, smoke=a.smoke, log=log)
        return 0
    if a.cmd == "manifest":  # rebuild manifest.json from the per-model entries in runs/
        import json
        ctx = pipeline.Ctx(a.smoke, root, log)
        entries = {}
        for n in (a.names or MODEL_NAMES):
            f = ctx.runs_dir / f"{n}.entry.json"
            if f.exists():
                entries[n] = json.loads(f.read_text())
        pipeline.write_manifest(ctx, entries)
        log(f"manifest: {sorted(entries)}")
        return 0
    if a.cmd == "splits":
        from . import splits
        from .paths import DATA_DIR
        from . import data
        data.prep(DATA_DIR, log=log)
        splits.prep(DATA_DIR, log=log)
        return 0
    if a.cmd == "fit":
        return fit(a.names, log)
    if a.cmd == "candidate":  # candidate NAME [--out DIR]
        import pathlib
        from . import candidate
        candidate.build(a.names[0], pathlib.Path(a.out or f"runs/{a.names[0]}/candidate_models"), log)
        return 0
    if a.cmd == "ship":  # ship NAME DIR
        import pathlib
        from . import candidate
        candidate.ship(a.names[0], pathlib.Path(a.names[1]), log)
        return 0
    if a.cmd == "prior":  # prior [NAMES] [--out MODELS_DIR]
        import pathlib
        from . import latent_prior
        from .paths import MODELS_DIR
        return latent_prior.main(a.names, pathlib.Path(a.out) if a.out else MODELS_DIR, log=log)
    if a.cmd == "prior-select":  # the rule of latent_prior's docs, on drum_vae; recorded in its manifest entry
        import json
        import pathlib
        from . import latent_prior
        from .paths import MODELS_DIR
        models = pathlib.Path(a.out) if a.out else MODELS_DIR
        sel = latent_prior.select_components(models, log=log)
        man = json.loads((models / "manifest.json").read_text())
        man["models"]["drum_vae"]["latent_prior"]["components_selection"] = sel
        (models / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
        log(f"prior-select: K = {sel['chosen']} (shipped: {latent_prior.COMPONENTS})")
        return 0
    if a.cmd == "diagnose":
        return diagnose_vaes(a.names, log)
    if a.cmd == "compare-prep":
        import json
        import pathlib
        from . import prep_compare
        from .paths import DATA_DIR, MODELS_DIR
        res = prep_compare.compare(pathlib.Path(a.data) if a.data else DATA_DIR, MODELS_DIR, log)
        print(json.dumps(res, indent=1))
        return 0
    names = MODEL_NAMES if a.cmd == "all" else a.names
    bad = [n for n in names if n not in MODEL_NAMES]
    if not names or bad:
        ap.error(f"model names: {MODEL_NAMES}")
    if a.fresh and not a.smoke:
        for n in names:
            shutil.rmtree(RUNS_DIR / n, ignore_errors=True)
    pipeline.run(names, smoke=a.smoke, root=root, log=log)
    return 0


def fit(names, log):
    """Train experiments into runs/NAME (resumable); no export, the shipped models are untouched."""
    import json
    from . import train, splits
    from .configs import get_config
    from .paths import DATA_DIR, RUNS_DIR

    splits.prep(DATA_DIR, log=log)
    for name in names:
        cfg = get_config(name)
        if cfg["kind"] == "vae":
            _, info, _, _ = train.train_vae(name, cfg, DATA_DIR, RUNS_DIR / name, log)
        elif cfg["kind"] == "lm":
            _, info = train.train_lm(name, cfg, DATA_DIR, RUNS_DIR / name, log)
        elif cfg["kind"] == "groove":
            _, info, _, _ = train.train_groove(name, cfg["variant"], cfg, DATA_DIR, RUNS_DIR / name, log)
        else:
            raise SystemExit(f"fit: {name} is not an LM, a sequence VAE or a GrooVAE variant")
        (RUNS_DIR / f"{name}.fit.json").write_text(json.dumps({"config": cfg, "hardware": train.hardware(), **info},
                                                                 indent=1))
        log(f"[{name}] fit done: {info['steps']} steps, {info['train_seconds']}s, best step {info['best_step']}")
    return 0


def diagnose_vaes(names, log):
    import json
    import numpy as np
    import torch
    from . import encoding, train
    from .configs import get_config
    from .diagnose import amortization_gap
    from .paths import DATA_DIR, RUNS_DIR

    spec = encoding.load_spec()
    for name in names:
        cfg = get_config(name)
        if cfg["kind"] != "vae":
            log(f"[{name}] diagnose measures sequence VAEs only (melody_vae, drum_vae)")
            return 2
        _, va, _ = train.vae_windows(cfg, DATA_DIR, spec)
        pick = np.random.RandomState(1).choice(len(va), min(len(va), 200), replace=False)
        model = train.build_vae(cfg, spec)
        model.load_state_dict(torch.load(RUNS_DIR / name / "best.pt", weights_only=False)["model"])
        log(f"[{name}] amortization gap {json.dumps(amortization_gap(model, torch.from_numpy(va[pick])))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
