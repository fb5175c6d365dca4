"""End to end: prep -> train -> export -> quantize -> ORT check on a tiny subset, in a temp dir."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

TRAINING_DIR = Path(__file__).resolve().parents[1]
NAMES = ["melody_rnn", "drum_rnn", "melody_vae", "drum_vae", "groove_vae"]


def test_smoke_pipeline(tmp_path):
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS="1")
    models_dir = TRAINING_DIR.parent
    before = {p.name: p.stat().st_mtime for p in models_dir.glob("*.onnx")}
    man_before = (models_dir / "manifest.json").read_bytes() if (models_dir / "manifest.json").exists() else None
    r = subprocess.run([sys.executable, "-m", "cadenza_train", "all", "--smoke", "--out", str(tmp_path)],
                       cwd=TRAINING_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    man = json.loads((tmp_path / "models" / "manifest.json").read_text())
    assert sorted(man["models"]) == sorted(NAMES)
    for name, m in man["models"].items():
        assert m["spec_version"] == man["spec_version"]
        for gname, g in m["graphs"].items():
            path = tmp_path / "models" / g["file"]
            assert path.exists(), path
            if gname not in ("init", "prior"):  # the prior is a small fp32 mixture, no LSTM
                assert g["has_DynamicQuantizeLSTM"], (name, gname)
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            feeds = {}
            for i in g["inputs"]:
                shape = [2 if s == "batch" else s for s in i["shape"]]
                if i["dtype"] == "int64":
                    feeds[i["name"]] = np.zeros(shape, np.int64)
                else:
                    feeds[i["name"]] = np.random.rand(*shape).astype(np.float32) * 0.5
            outs = sess.run(None, feeds)
            for o, spec in zip(outs, g["outputs"]):
                assert list(o.shape) == [2 if s == "batch" else s for s in spec["shape"]], (name, gname, spec)
                assert np.isfinite(o).all()
    for name in ("melody_vae", "drum_vae"):
        assert man["models"][name]["latent_prior"]["graph_vs_numpy_max_abs"] < 1e-5
    assert list((tmp_path / "runs" / "samples").glob("*.mid"))
    # the committed models were not touched
    after = {p.name: p.stat().st_mtime for p in models_dir.glob("*.onnx")}
    assert before == after
    if man_before is not None:
        assert (models_dir / "manifest.json").read_bytes() == man_before
