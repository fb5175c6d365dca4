"""A latent prior for Generate fitted after training (issue 17): `python -m cadenza_train prior [NAMES] [--out DIR]`.

Why: a MusicVAE trained with free bits does not fill N(0, I). The shipped drum_vae's posterior means of training
windows have a norm of 7.6 where N(0, I) in 128 dimensions has 11.3, and z ~ N(0, I) lands between the grooves the
decoder knows: at Quality 1x its prior samples put a kick on 41 % of downbeats (data 70 %) and never repeat a bar the
way drummers do. Fitting a density to the aggregate posterior after training and sampling z from it ("ex-post density
estimation", Ghosh et al. 2020, "From Variational to Deterministic Autoencoders", ICLR; a Gaussian mixture as there)
keeps the trained model and changes only where Generate draws its codes.

The mixture: scikit-learn's GaussianMixture, diagonal covariances, K = 64 components, fitted on the int8 encoder's
posterior means (mu) of up to 12,000 training windows of the honest split (the data the VAE trained on, minus the
validation and test halves). K = 64 is chosen on the drum model by `python -m cadenza_train prior-select` (`select_components`: 256 prior samples
per K, Python decode at T = 1, against the VALIDATION windows): the largest K whose samples come within note F1 0.9
of a training window no more often than the validation windows themselves do (K = 32 / 64 / 128: 5.5 / 10.2 /
17.2 % of the samples, validation windows 10.5 %). More components copy the training data; fewer leave the samples
looser (bar repetition 0.23 / 0.36 / 0.58 of the validation data's rate at K = 32 / 64 / 128).

The graph (`<name>.prior.onnx`, fp32, opset 17; the manifest's `graphs.prior`):
  inputs  u   [batch] float32, uniform in [0, 1): picks component i where cum_weight[i-1] <= u < cum_weight[i]
          eps [batch, z_dim] float32, standard normal
  output  z   [batch, z_dim] float32 = mean[i] + std[i] * eps
The engine draws u and eps from its own seeded generators, so a seed gives the same clips on every platform.
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from . import encoding as enc
from . import export as X
from .paths import DATA_DIR, MODELS_DIR

COMPONENTS = 64
MAX_WINDOWS = 12000
REG_COVAR = 1e-3  # added to every variance (scikit-learn's default is 1e-6): some latent dimensions are near-constant
OPSET = 17
SOURCE = ("Ghosh, Sajjadi, Vergari, Black, Schoelkopf 2020, 'From Variational to Deterministic Autoencoders' "
          "(ICLR): ex-post density estimation with a Gaussian mixture on the latent codes")


def fit(mu: np.ndarray, k: int = COMPONENTS, seed: int = 0):
    """A diagonal Gaussian mixture on latent codes mu [n, z_dim] -> sklearn GaussianMixture."""
    from sklearn.mixture import GaussianMixture
    k = max(1, min(k, len(mu)))
    return GaussianMixture(k, covariance_type="diag", reg_covar=REG_COVAR, random_state=seed, max_iter=300).fit(mu)


def graph(weights: np.ndarray, means: np.ndarray, stds: np.ndarray) -> onnx.ModelProto:
    """The sampling graph of a diagonal mixture: weights [k], means / stds [k, z_dim] (see the module docs)."""
    k, zd = means.shape
    cum = np.cumsum(np.asarray(weights, np.float64) / np.sum(weights)).astype(np.float32)
    inits = [numpy_helper.from_array(cum, "cum_weight"), numpy_helper.from_array(means.astype(np.float32), "mean"),
             numpy_helper.from_array(stds.astype(np.float32), "std"),
             numpy_helper.from_array(np.array([1], np.int64), "axis1"),
             numpy_helper.from_array(np.array(k - 1, np.int64), "last")]
    nodes = [
        helper.make_node("Unsqueeze", ["u", "axis1"], ["u_col"]),             # [batch, 1]
        helper.make_node("Less", ["cum_weight", "u_col"], ["below"]),         # [batch, k]
        helper.make_node("Cast", ["below"], ["below_i"], to=TensorProto.INT64),
        helper.make_node("ReduceSum", ["below_i", "axis1"], ["count"], keepdims=0),
        helper.make_node("Min", ["count", "last"], ["component"]),            # u rounding up past the last bound
        helper.make_node("Gather", ["mean", "component"], ["m"], axis=0),
        helper.make_node("Gather", ["std", "component"], ["s"], axis=0),
        helper.make_node("Mul", ["s", "eps"], ["spread"]),
        helper.make_node("Add", ["m", "spread"], ["z"]),
    ]
    g = helper.make_graph(
        nodes, "latent_prior",
        [helper.make_tensor_value_info("u", TensorProto.FLOAT, ["batch"]),
         helper.make_tensor_value_info("eps", TensorProto.FLOAT, ["batch", zd])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", zd])], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cadenza_train")
    m.ir_version = 8  # what onnxruntime 1.31 and the engine's other graphs use
    onnx.checker.check_model(m)
    return m


def reference(weights, means, stds, u, eps):
    """NumPy twin of `graph` (tests)."""
    cum = np.cumsum(np.asarray(weights, np.float64) / np.sum(weights)).astype(np.float32)
    i = np.minimum((cum[None, :] < np.asarray(u, np.float32)[:, None]).sum(1), len(cum) - 1)
    return means[i] + stds[i] * eps


def training_mu(encoder: Path, tr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_WINDOWS of the training windows `tr` (a fixed draw) and their codes: -> (windows, mu)."""
    if len(tr) > MAX_WINDOWS:
        tr = tr[np.random.RandomState(0).choice(len(tr), MAX_WINDOWS, replace=False)]
    return tr, encode_mu(encoder, tr)


def encode_mu(encoder_path: Path, windows: np.ndarray, bs: int = 500) -> np.ndarray:
    s = X.session(encoder_path)
    return np.concatenate([s.run(None, {"tokens": windows[i:i + bs].astype(np.int64)})[0]
                           for i in range(0, len(windows), bs)])


def training_windows(name: str, data_dir=DATA_DIR):
    """(train, valid) windows of the honest split, as the VAE's training saw them."""
    from . import train as TR
    from .configs import get_config
    cfg = dict(get_config(name), honest_split=True)
    tr, va, _ = TR.vae_windows(cfg, data_dir, enc.load_spec())
    return tr, va


def build(models_dir: Path, name: str, encoder: Path, tr: np.ndarray, va: np.ndarray | None = None,
          k: int = COMPONENTS, windows_from: str = "training windows of the honest split (no validation or test song)"
          ) -> tuple[dict, dict]:
    """Fits the prior of VAE `name` on training windows `tr` [n, steps] encoded by `encoder` (an int8 encoder graph)
    and writes `models_dir/<name>.prior.onnx`. -> (its manifest graph entry, the latent_prior record)."""
    import sklearn
    tr, mu = training_mu(encoder, tr)
    gm = fit(mu, k)
    std = np.sqrt(gm.covariances_)
    path = Path(models_dir) / f"{name}.prior.onnx"
    onnx.save(graph(gm.weights_, gm.means_, std), str(path))
    # the graph against its NumPy twin on fresh draws
    rs = np.random.RandomState(1)
    u, eps = rs.rand(64).astype(np.float32), rs.randn(64, mu.shape[1]).astype(np.float32)
    z = X.run_graph(path, {"u": u, "eps": eps})[0]
    rec = {
        "method": f"diagonal Gaussian mixture, {gm.n_components} components, on the int8 encoder's mu; "
                  "Generate draws z from it instead of N(0, I)",
        "source": SOURCE,
        "fitted_with": f"scikit-learn {sklearn.__version__} GaussianMixture(covariance_type='diag', "
                       f"reg_covar={REG_COVAR}, random_state=0)",
        "components": int(gm.n_components), "windows": int(len(tr)),
        "windows_from": windows_from,
        "converged": bool(gm.converged_),
        "mean_log_likelihood_train_mu": round(float(gm.score(mu)), 3),
        "mean_norm_of_mu": round(float(np.linalg.norm(mu, axis=1).mean()), 3),
        "mean_norm_of_prior_samples": round(float(np.linalg.norm(z, axis=1).mean()), 3),
        "graph_vs_numpy_max_abs": float(np.abs(z - reference(gm.weights_, gm.means_, std, u, eps)).max()),
        "fitted_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if va is not None and len(va):
        rec["mean_log_likelihood_valid_mu"] = round(float(gm.score(encode_mu(encoder, va[:MAX_WINDOWS]))), 3)
    entry = {"file": path.name, "sha256": X.sha256(path), "bytes": path.stat().st_size, **X.io_spec(path),
             "quantized_ops": [], "has_DynamicQuantizeLSTM": False}
    return entry, rec


def add_prior(models_dir: Path, name: str, tr: np.ndarray, va: np.ndarray | None = None, log=print) -> dict:
    """`build` for the VAE `name` of the models folder `models_dir`, recorded in its manifest.json."""
    models_dir = Path(models_dir)
    man_path = models_dir / "manifest.json"
    man = json.loads(man_path.read_text())
    e = man["models"][name]
    e["graphs"]["prior"], e["latent_prior"] = build(models_dir, name, models_dir / e["graphs"]["encoder"]["file"],
                                                    tr, va)
    man["total_int8_bytes"] = sum(g["bytes"] for m in man["models"].values() for g in m["graphs"].values())
    man_path.write_text(json.dumps(man, indent=2) + "\n")
    log(f"[{name}] latent prior: {json.dumps(e['latent_prior'])}")
    return e["latent_prior"]


def select_components(models_dir: Path, name: str = "drum_vae", ks=(16, 32, 64, 128, 256), n: int = 256,
                      data_dir=DATA_DIR, log=print) -> dict:
    """The K rule of the module docs for drum VAE `name` of `models_dir`, measured on the validation windows (the
    test split is not read). -> {"rule", "chosen": K, "validation_windows_share": their copy rate,
    "by_k": {K: measures}}."""
    from . import honest as H
    from .samples import vae_decode
    spec = enc.load_spec()
    td = H.test_data(data_dir)
    e = json.loads((Path(models_dir) / "manifest.json").read_text())["models"][name]
    files = {k: Path(models_dir) / g["file"] for k, g in e["graphs"].items()}
    _, mu = training_mu(files["encoder"], training_windows(name, data_dir)[0])
    vw = H.vae_test_windows("drums", td["drums"], spec, "valid").astype(np.int64)
    vstat = H.drum_stats(vw, spec)
    by_k, ref = {}, None
    for k in ks:
        gm = fit(mu, k)
        z, _ = gm.sample(n)
        z = z[np.random.RandomState(7).permutation(n)].astype(np.float32)
        s = vae_decode(files, z, e["steps"], e["decoder_start_token"], 1.0, np.random.RandomState(1))
        c = H.compare(H.drum_stats(s, spec), vstat, "drums")
        cp = H.training_copies(s, vw, td["drums"]["train"], spec)
        ref = cp["held_out_windows"]["share_at_least_0.9"]
        by_k[k] = {"share_within_note_f1_0.9_of_a_training_window": cp["share_at_least_0.9"],
                   "bar_repetition_ratio": c["bar_repetition_ratio"], "downbeat_kick_ratio": c["downbeat_kick_ratio"],
                   "onset_profile_distance": c["onset_profile_distance"], "worst_deviation": c["worst_deviation"]}
        log(f"[{name}] K = {k}: {json.dumps(by_k[k])}")
    ok = [k for k in ks if by_k[k]["share_within_note_f1_0.9_of_a_training_window"] <= ref]
    return {"rule": "the largest K whose prior samples come within note F1 0.9 of a training window no more often "
                    "than the validation windows do (256 samples, T = 1, Python decode of the int8 graphs)",
            "chosen": max(ok) if ok else min(ks), "validation_windows_share": ref, "by_k": by_k}


def main(names, models_dir=MODELS_DIR, data_dir=DATA_DIR, log=print):
    from . import splits
    splits.prep(data_dir, log=log)
    for name in names or ["drum_vae", "melody_vae"]:
        tr, va = training_windows(name, data_dir)
        add_prior(models_dir, name, tr, va, log=log)
    return 0
