"""Spec-driven unit tests of the Python encoding (independent of the golden vectors)."""
import json

import pytest

from cadenza_train import encoding as enc
from cadenza_train.paths import SPEC_PATH


def test_reads_spec_file():
    raw = json.loads(SPEC_PATH.read_text())
    s = enc.load_spec()
    assert s.mel_classes == raw["melody"]["num_classes"]
    assert s.drum_vocab == 2 ** s.num_drum_classes
    assert s.groove_floats == s.num_drum_classes * s.floats_per_voice


def test_step_of_tick_rounding():
    s = enc.load_spec()
    t = s.ticks_per_step
    assert enc.step_of_tick(0) == 0
    assert enc.step_of_tick(t // 2 - 1) == 0
    assert enc.step_of_tick(t // 2) == 1  # tie goes to the later step
    assert enc.step_of_tick(t + t // 2 - 1) == 1


def test_melody_roundtrip_and_skyline():
    s = enc.load_spec()
    t = s.ticks_per_step
    notes = [[60, 90, 0, 2 * t, 0], [64, 90, 4 * t, 6 * t, 0], [55, 90, 4 * t, 5 * t, 0], [67, 90, 8 * t, 16 * t, 0]]
    toks, dropped = enc.encode_melody(notes, 1)
    assert dropped == 1  # the lower note starting with 64
    assert toks[0] == 60 - s.min_pitch + s.first_note_on
    assert toks[2] == s.note_off
    assert toks[4] == 64 - s.min_pitch + s.first_note_on
    assert toks[6] == s.note_off
    assert toks[8] == 67 - s.min_pitch + s.first_note_on
    dec = enc.decode_melody(toks)
    assert [n[0] for n in dec] == [60, 64, 67]
    assert dec[0][2:4] == [0, 2 * t]
    assert dec[2][3] == 16 * t
    again, _ = enc.encode_melody(dec, 1)
    assert again == toks


def test_melody_higher_sounding_note_wins():
    s = enc.load_spec()
    t = s.ticks_per_step
    toks, dropped = enc.encode_melody([[72, 90, 0, 8 * t, 0], [60, 90, 2 * t, 4 * t, 0]], 1)
    assert dropped == 1
    assert toks[2] == s.no_event


def test_melody_out_of_range_is_error():
    with pytest.raises(enc.EncodingError):
        enc.encode_melody([[10, 90, 0, 120, 0]], 1)


def test_drums_bitmask_and_unmapped():
    s = enc.load_spec()
    t = s.ticks_per_step
    toks, dropped = enc.encode_drums([[36, 100, 0, 60, 9], [42, 80, 10, 70, 9], [38, 100, 4 * t, 4 * t + 60, 9],
                                      [1, 100, 0, 60, 9]], 1)
    assert dropped == 1
    assert toks[0] == (1 << 0) | (1 << 2)
    assert toks[4] == 1 << 1
    dec = enc.decode_drums(toks)
    again, _ = enc.encode_drums(dec, 1)
    assert again == toks


def test_groove_and_tap():
    s = enc.load_spec()
    t = s.ticks_per_step
    notes = [[36, 127, t - 30, t + 10, 9], [36, 64, t + 20, t + 50, 9], [38, 50, 2 * t + 60, 3 * t, 9]]
    rows, dropped = enc.encode_groove(notes, s.groove_bars)
    assert len(rows) == s.groove_steps and dropped == 0
    assert rows[1][0:3] == [1.0, 1.0, -30 / t]
    assert rows[3][3:6] == [1.0, 50 / 127, -0.5]
    tap, _ = enc.encode_tap(notes, s.groove_bars)
    assert tap[1] == [1.0, 1.0, -30 / t]
    dec = enc.decode_groove(rows)
    assert [(n[0], n[1], n[2]) for n in dec] == [(36, 127, t - 30), (38, 50, 2 * t + 60)]
    again, _ = enc.encode_groove(dec, s.groove_bars)
    for a, b in zip(again, rows):
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-6
