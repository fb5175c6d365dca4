"""Drum VAE augmentation: every window it makes is still made of the performance's own bars,
minus at most one drum class."""
import numpy as np

from cadenza_train import encoding as enc
from cadenza_train.train import augment_drum_windows, windows


def test_drum_augmentation_keeps_windows_plausible():
    spec = enc.load_spec()
    spb = spec.steps_per_bar
    rng = np.random.default_rng(0)
    # two "performances" with disjoint vocabularies, so a bar's origin is visible
    perf_a = rng.choice([1, 2, 3, 5], size=spb * 12)
    perf_b = rng.choice([64, 128, 192, 320], size=spb * 12)
    seqs = [perf_a, perf_b]
    tr, origin = windows(seqs, 4 * spb, spb, 1, "drums", spec, origins=True)
    assert len(tr) == 18 and list(origin[:9]) == [0] * 9 and list(origin[9:]) == [1] * 9

    idx = np.arange(len(tr))
    cfg = {"bar_mix": 1.0, "voice_drop": 0.0}
    mixed = augment_drum_windows(tr[idx], idx, origin, seqs, np.random.default_rng(1), cfg, spec)
    assert mixed.shape == tr.shape
    assert (mixed != tr).any(), "bar_mix=1 must change some windows"
    for w, o in zip(mixed, origin):
        bars_of_perf = {tuple(seqs[o][k * spb:(k + 1) * spb]) for k in range(12)}
        for j in range(4):
            assert tuple(w[j * spb:(j + 1) * spb]) in bars_of_perf, "a bar from another performance"

    cfg = {"bar_mix": 0.0, "voice_drop": 1.0}
    dropped = augment_drum_windows(tr[idx], idx, origin, seqs, np.random.default_rng(2), cfg, spec)
    for before, after in zip(tr, dropped):
        assert ((after & ~before) == 0).all(), "voice drop only removes hits"
        removed = np.bitwise_or.reduce(before & ~after)
        assert bin(int(removed)).count("1") <= 1, "at most one drum class removed"
    assert (dropped != tr).any()
    assert dropped.min() >= 0 and dropped.max() < spec.drum_vocab


def test_accented_tokens_drop_only_the_quiet_hits():
    from cadenza_train.train import accented_tokens
    spec = enc.load_spec()
    V = spec.num_drum_classes
    groove = np.zeros((4, 3 * V), np.float32)
    # step 0: kick at 100 and snare ghost at 20; step 1: hat at 31; step 2: hat at 32; step 3: nothing
    for step, voice, vel in [(0, 0, 100), (0, 1, 20), (1, 2, 31), (2, 2, 32)]:
        groove[step, 3 * voice] = 1.0
        groove[step, 3 * voice + 1] = vel / 127
    assert list(accented_tokens(groove, 32)) == [1, 0, 4, 0]
    assert list(accented_tokens(groove, 1)) == [3, 4, 4, 0]
