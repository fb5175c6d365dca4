"""Preprocessing golden cases written by the Rust music core (models/spec/golden/preprocess_*.json): the Python
preprocessing must give the same notes after every step, the same tokens and the same report."""
import json

import numpy as np
import pytest

from cadenza_train import encoding as enc
from cadenza_train import preprocess as P
from cadenza_train.paths import GOLDEN_DIR

CASES = sorted(GOLDEN_DIR.glob("preprocess_*.json"))


def test_cases_present():
    assert len(CASES) >= 9, "the preprocessing golden cases are missing (cargo test -p cadenza-music --test preprocess_golden)"
    kinds = {json.loads(p.read_text())["kind"] for p in CASES}
    assert kinds == {"melody", "drums"}


def _run(case):
    w = case["window"]
    wb = (w["start_bar"], w["bars"]) if w else None
    if case["kind"] == "melody":
        return P.preprocess_melody([(case["notes"], case["bars"])], wb, stages=True)[0]
    return P.preprocess_drums(case["notes"], case["bars"], wb, stages=True)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_preprocess_case(path):
    case = json.loads(path.read_text())
    spec = enc.load_spec()
    names = [s["step"] for s in case["steps"]]
    assert names + ["encode"] == P.step_names(case["kind"], spec), "the steps of the spec, in its order"
    got = _run(case)
    for st in case["steps"]:
        assert [list(n) for n in got.stages[st["step"]]] == st["notes"], f"{case['name']}: notes after {st['step']}"
    assert got.tokens == case["tokens"], f"{case['name']}: tokens"
    assert got.report == case["report"], f"{case['name']}: report"


def test_drum_tokens_cut_on_bar_lines_equal_per_window_preprocessing():
    """The data pipeline encodes a whole performance once and cuts its tokens on bar lines (what bar_mix needs);
    the spec's window step gives the same windows because a step's token only depends on its own onsets."""
    spec = enc.load_spec()
    rng = np.random.default_rng(3)
    pitches = [36, 38, 42, 46, 49, 51, 90, 22, 58]
    notes = [[int(rng.choice(pitches)), 80, int(t), int(t) + 60, 9] for t in sorted(rng.integers(0, 8 * 1920, 400))]
    whole = P.preprocess_drums(notes, 8).tokens
    for start in range(0, 5):
        win = P.preprocess_drums(notes, 8, (start, 4)).tokens
        assert win == whole[start * 16:(start + 4) * 16]


def test_pipeline_melody_windows_are_preprocessed_windows():
    """train.vae_windows' melody windows are exactly preprocess_melody of each window."""
    from cadenza_train import data as D

    spec = enc.load_spec()
    rng = np.random.default_rng(5)
    t, notes = 0, []
    while t < 6 * 1920:
        d = int(rng.choice([120, 240, 480]))
        notes.append([int(rng.integers(40, 100)), 90, t, t + d + int(rng.choice([0, 60, 200])), 0])
        t += d
    bars = D.bars_for(notes, spec)
    grid = D.melody_grid(np.asarray(notes), bars, spec)
    got = D.melody_windows(grid, 4, 1, min_events=1, spec=spec)
    assert len(got) == bars - 3
    for k, toks in enumerate(got):
        exp = P.preprocess_melody([(notes, bars)], (k, 4))[0].tokens
        assert list(toks) == exp
    song = D.melody_song_tokens(grid, spec)
    assert list(song) == P.preprocess_melody([(notes, bars)])[0].tokens
