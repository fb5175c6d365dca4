"""Issue 17: de-duplication fingerprints, note-level F1, sample statistics and the warm start."""
import numpy as np

from cadenza_train import encoding as enc
from cadenza_train import honest as H
from cadenza_train import splits as SP

SPEC = enc.load_spec()


def tune(shift=0, extra=()):
    notes = [[60 + shift + p, 90, i * 240, (i + 1) * 240, 0] for i, p in enumerate([0, 2, 4, 5, 7, 5, 4, 2] * 4)]
    return notes + [list(n) for n in extra]


def test_dedupe_finds_transposed_copies_and_keeps_other_tunes():
    train = [("a", np.array(tune()), 8)]
    other = [("copy", np.array(tune(5)), 8), ("longer", np.array(tune(0, [[72, 90, 7680, 7920, 0]])), 9),
             ("new", np.array([[60 + (i * 7) % 12, 90, i * 240, (i + 1) * 240, 0] for i in range(32)]), 8)]
    dup = SP.dedupe_melody(train, other, SPEC)
    assert set(dup) == {"copy", "longer"}


def test_split3_is_stable_and_roughly_ten_percent():
    keys = [f"k{i}" for i in range(3000)]
    s = [SP.split3(k) for k in keys]
    assert s == [SP.split3(k) for k in keys]
    assert 0.07 < s.count("test") / 3000 < 0.13 and 0.07 < s.count("valid") / 3000 < 0.13


def test_note_f1_and_all_rest_accuracy():
    on = SPEC.first_note_on
    true = np.zeros((1, 16), np.int64)
    true[0, [0, 4, 8]] = on + 39
    pred = true.copy()
    pred[0, 8] = on + 40  # wrong pitch: one false positive and one miss
    m = H.recon_metrics(true, pred, "melody", SPEC)
    assert abs(m["note_f1"] - 2 / 3) < 1e-3
    assert m["all_rest_output_accuracy"] == round(13 / 16, 4)
    assert m["exact_window_rate"] == 0.0


def test_drum_stats_of_a_backbeat():
    bar = np.zeros(16, np.int64)
    bar[[0, 8]] |= 1
    bar[[4, 12]] |= 2
    s = H.drum_stats(np.tile(bar, 4)[None], SPEC)
    assert s["downbeat_kick"] == 1.0 and s["backbeat_snare"] == 1.0
    assert s["bar_repetition"] == 1.0 and s["density_per_bar"] == 4.0
    d = H.compare(s, s, "drums")
    assert d["onset_profile_distance"] == 0.0 and d["worst_deviation"] == 0.0


def test_warm_start_reproduces_the_shipped_drum_vae():
    import torch
    from cadenza_train import train as TR, warmstart as W
    from cadenza_train.configs import get_config
    from cadenza_train.export import session
    from cadenza_train.paths import MODELS_DIR
    m = TR.build_vae(get_config("drum_vae"), SPEC)
    W.load_vae_from_onnx(m, MODELS_DIR, "drum_vae")
    m.eval()
    x = np.zeros((2, 64), np.int64)
    x[:, ::4] = 5
    x[:, 2::8] = 4
    with torch.no_grad():
        mu, _ = m.encode(torch.from_numpy(x))
    mu8 = session(MODELS_DIR / "drum_vae.encoder.onnx").run(None, {"tokens": x})[0]
    assert np.abs(mu.numpy() - mu8).max() < 0.15 * max(1.0, np.abs(mu8).max())
