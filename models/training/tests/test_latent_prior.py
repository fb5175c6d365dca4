"""latent_prior: the sampling graph the engine runs, against its NumPy twin, a fitted mixture and the shipped graphs."""
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from cadenza_train import latent_prior as LP

MODELS = Path(__file__).resolve().parents[2]


def run(model, u, eps):
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return s.run(None, {"u": np.asarray(u, np.float32), "eps": np.asarray(eps, np.float32)})[0]


def test_u_picks_the_component_whose_weight_interval_holds_it():
    w = np.array([0.2, 0.5, 0.3])
    means = np.array([[0.0, 0.0], [10.0, 1.0], [-5.0, 3.0]], np.float32)
    stds = np.array([[1.0, 1.0], [2.0, 0.5], [0.1, 0.1]], np.float32)
    g = LP.graph(w, means, stds)
    u = [0.0, 0.19, 0.21, 0.69, 0.71, 0.999999, 1.0]  # 1.0 is outside [0, 1): the last component, not an error
    z = run(g, u, np.zeros((len(u), 2)))
    assert np.allclose(z, means[[0, 0, 1, 1, 2, 2, 2]])
    eps = np.random.RandomState(0).randn(7, 2)
    assert np.allclose(run(g, u, eps), LP.reference(w, means, stds, u, eps), atol=1e-6)
    assert np.allclose(run(g, [0.5], [[1.0, -2.0]]), [[12.0, 0.0]])


def test_fit_recovers_two_clusters_and_the_graph_samples_their_weights():
    rs = np.random.RandomState(0)
    a = rs.randn(300, 4) * 0.1 + 3.0
    b = rs.randn(700, 4) * 0.1 - 3.0
    gm = LP.fit(np.concatenate([a, b]).astype(np.float32), k=2)
    g = LP.graph(gm.weights_, gm.means_, np.sqrt(gm.covariances_))
    z = run(g, rs.rand(4000), rs.randn(4000, 4))
    near_a = (np.linalg.norm(z - 3.0, axis=1) < 1.0).mean()
    near_b = (np.linalg.norm(z + 3.0, axis=1) < 1.0).mean()
    assert abs(near_a - 0.3) < 0.03 and abs(near_b - 0.7) < 0.03
    assert near_a + near_b > 0.99  # nothing lands between the clusters, where N(0, I) would put most of its samples


def test_shipped_priors_match_their_manifest_entries():
    man = json.loads((MODELS / "manifest.json").read_text())
    for name in ("drum_vae", "melody_vae"):
        e = man["models"][name]
        g = e["graphs"]["prior"]
        s = ort.InferenceSession(str(MODELS / g["file"]), providers=["CPUExecutionProvider"])
        assert [i.name for i in s.get_inputs()] == ["u", "eps"] and s.get_outputs()[0].name == "z"
        u = np.linspace(0, 0.999, 256, dtype=np.float32)
        centres = s.run(None, {"u": u, "eps": np.zeros((256, e["z_dim"]), np.float32)})[0]
        assert centres.shape == (256, e["z_dim"])
        assert len({tuple(np.round(r, 4)) for r in centres}) > 16  # u walks through the components
        z = s.run(None, {"u": u, "eps": np.random.RandomState(0).randn(256, e["z_dim"]).astype(np.float32)})[0]
        # samples are as far from 0 as the encoder's codes, well inside N(0, I)'s shell of radius sqrt(z_dim)
        norm = np.linalg.norm(z, axis=1).mean()
        assert abs(norm - e["latent_prior"]["mean_norm_of_mu"]) < 1.0
        assert norm < 0.8 * np.sqrt(e["z_dim"])
