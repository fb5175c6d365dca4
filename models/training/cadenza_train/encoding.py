"""Python implementation of models/spec/encoding.json.

Every constant is read from the spec file; nothing is duplicated here.
Notes are lists/tuples [pitch, velocity, start_tick, end_tick, channel] at the spec's PPQ.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .paths import SPEC_PATH


class EncodingError(ValueError):
    pass


@dataclass(frozen=True)
class Spec:
    raw: dict

    @property
    def spec_version(self) -> int:
        return int(self.raw["spec_version"])

    @property
    def ppq(self) -> int:
        return int(self.raw["ppq"])

    @property
    def steps_per_quarter(self) -> int:
        return int(self.raw["steps_per_quarter"])

    @property
    def steps_per_bar(self) -> int:
        return int(self.raw["steps_per_bar"])

    @property
    def ticks_per_step(self) -> int:
        return int(self.raw["quantization"]["ticks_per_step"])

    # melody
    @property
    def mel(self) -> dict:
        return self.raw["melody"]

    @property
    def mel_classes(self) -> int:
        return int(self.mel["num_classes"])

    @property
    def no_event(self) -> int:
        return int(self.mel["no_event"])

    @property
    def note_off(self) -> int:
        return int(self.mel["note_off"])

    @property
    def first_note_on(self) -> int:
        return int(self.mel["first_note_on"])

    @property
    def min_pitch(self) -> int:
        return int(self.mel["min_pitch"])

    @property
    def max_pitch(self) -> int:
        return int(self.mel["max_pitch"])

    # drums
    @property
    def drum_classes(self) -> list:
        return self.raw["drums"]["classes"]

    @property
    def num_drum_classes(self) -> int:
        return len(self.drum_classes)

    @property
    def drum_vocab(self) -> int:
        return int(self.raw["drums"]["num_classes"])

    @property
    def drum_pitch_map(self) -> dict:
        m = {}
        for i, c in enumerate(self.drum_classes):
            for p in c["input_pitches"]:
                m.setdefault(int(p), i)
        return m

    @property
    def drum_output_pitches(self) -> list:
        return [int(c["output_pitch"]) for c in self.drum_classes]

    @property
    def drum_note_length_steps(self) -> int:
        return int(self.raw["drums"]["note_length_steps"])

    # groove
    @property
    def groove(self) -> dict:
        return self.raw["groove"]

    @property
    def groove_floats(self) -> int:
        return int(self.groove["floats_per_step"])

    @property
    def floats_per_voice(self) -> int:
        return int(self.groove["floats_per_voice"])

    @property
    def tap_floats(self) -> int:
        return int(self.groove["tap"]["floats_per_step"])

    @property
    def groove_steps(self) -> int:
        return int(self.groove["steps"])

    @property
    def groove_bars(self) -> int:
        return int(self.groove["bars"])

    @property
    def float_tolerance(self) -> float:
        return float(self.raw["golden"]["float_tolerance"])

    @property
    def golden_folder(self) -> str:
        return self.raw["golden"]["folder"]


@lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> Spec:
    p = Path(path) if path else SPEC_PATH
    with open(p) as f:
        return Spec(json.load(f))


def step_of_tick(tick: int, spec: Spec | None = None) -> int:
    """floor((tick + half) / ticks_per_step): nearest step, a tie goes to the later step."""
    spec = spec or load_spec()
    tps = spec.ticks_per_step
    return (int(tick) + tps // 2) // tps


def _clip_steps(bars: int, spec: Spec) -> int:
    return int(bars) * spec.steps_per_bar


def _quantize(notes, steps: int, spec: Spec):
    """-> list of (onset_step, end_step, pitch, velocity, start_tick) and the number dropped past the end."""
    out = []
    dropped = 0
    clip_end_tick = steps * spec.ticks_per_step
    for n in notes:
        pitch, vel, start, end, _ch = (int(x) for x in n[:5])
        s = step_of_tick(start, spec)
        if s >= steps or s < 0:
            dropped += 1
            continue
        end = min(end, clip_end_tick)
        e = step_of_tick(end, spec)
        if e <= s:
            e = s + 1
        e = min(e, steps)
        out.append((s, e, pitch, vel, start))
    return out, dropped


# ----------------------------------------------------------------------------- melody

def melody_skyline(notes, steps: int, spec: Spec | None = None):
    """Returns (kept notes as [onset_step, end_step, pitch], dropped count)."""
    spec = spec or load_spec()
    q, dropped = _quantize(notes, steps, spec)
    for s, e, p, v, t in q:
        if p < spec.min_pitch or p > spec.max_pitch:
            raise EncodingError(f"pitch {p} outside {spec.min_pitch}..={spec.max_pitch}")
    kept, poly = skyline_quantized([(s, e, p) for s, e, p, v, t in q])
    return kept, dropped + poly


def skyline_quantized(q):
    """The spec's skyline over quantized notes (onset_step, end_step, pitch, ...).
    Returns (kept notes as [onset_step, end_step, pitch] in step order, dropped count)."""
    by_onset = {}
    for n in q:
        by_onset.setdefault(n[0], []).append((n[2], n[1]))
    kept = []
    dropped = 0
    for s in sorted(by_onset):
        cands = sorted(by_onset[s], key=lambda x: (-x[0], -x[1]))  # highest pitch, then the longest
        p, e = cands[0]
        dropped += len(cands) - 1
        if kept:
            prev = kept[-1]
            if prev[1] > s and prev[2] > p:
                dropped += 1
                continue
            if prev[1] > s:
                prev[1] = s
        kept.append([s, e, p])
    return kept, dropped


def skyline_tokens(kept, steps: int, spec: Spec | None = None):
    """melody.encode: a note-on at each kept [onset_step, end_step, pitch], a note-off at its end step
    when that step is inside and holds no note-on."""
    spec = spec or load_spec()
    toks = [spec.no_event] * steps
    for s, e, p in kept:
        toks[s] = p - spec.min_pitch + spec.first_note_on
    for s, e, p in kept:
        if e < steps and toks[e] == spec.no_event:
            toks[e] = spec.note_off
    return toks


def encode_melody(notes, bars: int, spec: Spec | None = None):
    """-> (tokens list[int] of length bars*steps_per_bar, dropped)."""
    spec = spec or load_spec()
    steps = _clip_steps(bars, spec)
    kept, dropped = melody_skyline(notes, steps, spec)
    return skyline_tokens(kept, steps, spec), dropped


def decode_melody(tokens, spec: Spec | None = None):
    spec = spec or load_spec()
    tps = spec.ticks_per_step
    notes = []
    cur = None
    for s, t in enumerate(tokens):
        t = int(t)
        if t >= spec.first_note_on or t == spec.note_off:
            if cur is not None:
                cur[3] = s * tps
                notes.append(cur)
                cur = None
            if t >= spec.first_note_on:
                cur = [t - spec.first_note_on + spec.min_pitch, 100, s * tps, None, 0]
    if cur is not None:
        cur[3] = len(tokens) * tps
        notes.append(cur)
    return notes


# ----------------------------------------------------------------------------- drums

def encode_drums(notes, bars: int, spec: Spec | None = None):
    spec = spec or load_spec()
    steps = _clip_steps(bars, spec)
    pmap = spec.drum_pitch_map
    toks = [0] * steps
    dropped = 0
    for n in notes:
        pitch, start = int(n[0]), int(n[2])
        s = step_of_tick(start, spec)
        if s >= steps or s < 0:
            dropped += 1
            continue
        if pitch not in pmap:
            dropped += 1
            continue
        toks[s] |= 1 << pmap[pitch]
    return toks, dropped


def decode_drums(tokens, spec: Spec | None = None):
    spec = spec or load_spec()
    tps = spec.ticks_per_step
    L = spec.drum_note_length_steps
    outp = spec.drum_output_pitches
    notes = []
    for s, t in enumerate(tokens):
        for i in range(spec.num_drum_classes):
            if (int(t) >> i) & 1:
                notes.append([outp[i], 100, s * tps, (s + L) * tps, 9])
    return notes


def drum_token_to_hits(token: int, spec: Spec | None = None):
    spec = spec or load_spec()
    return [(int(token) >> i) & 1 for i in range(spec.num_drum_classes)]


# ----------------------------------------------------------------------------- groove

def _onset_offset(start: int, spec: Spec):
    s = step_of_tick(start, spec)
    off = (int(start) - s * spec.ticks_per_step) / spec.ticks_per_step
    return s, off


def encode_groove(notes, bars: int, spec: Spec | None = None):
    """-> (rows: list of steps lists of 27 floats, dropped)."""
    spec = spec or load_spec()
    steps = _clip_steps(bars, spec)
    nv = spec.num_drum_classes
    fpv = spec.floats_per_voice
    pmap = spec.drum_pitch_map
    rows = [[0.0] * (nv * fpv) for _ in range(steps)]
    dropped = 0
    for n in notes:
        pitch, vel, start = int(n[0]), int(n[1]), int(n[2])
        s, off = _onset_offset(start, spec)
        if s >= steps or s < 0 or pitch not in pmap:
            dropped += 1
            continue
        v = pmap[pitch]
        row = rows[s]
        velf = vel / 127.0
        if row[v * fpv] == 0.0 or velf > row[v * fpv + 1]:
            row[v * fpv] = 1.0
            row[v * fpv + 1] = velf
            row[v * fpv + 2] = off
    return rows, dropped


def encode_tap(notes, bars: int, spec: Spec | None = None):
    spec = spec or load_spec()
    steps = _clip_steps(bars, spec)
    rows = [[0.0] * spec.tap_floats for _ in range(steps)]
    dropped = 0
    for n in notes:
        vel, start = int(n[1]), int(n[2])
        s, off = _onset_offset(start, spec)
        if s >= steps or s < 0:
            dropped += 1
            continue
        velf = vel / 127.0
        row = rows[s]
        if row[0] == 0.0 or velf > row[1]:
            row[0], row[1], row[2] = 1.0, velf, off
    return rows, dropped


def decode_groove(rows, spec: Spec | None = None):
    spec = spec or load_spec()
    tps = spec.ticks_per_step
    fpv = spec.floats_per_voice
    outp = spec.drum_output_pitches
    notes = []
    for s, row in enumerate(rows):
        for v in range(spec.num_drum_classes):
            hit, vel, off = row[v * fpv], row[v * fpv + 1], row[v * fpv + 2]
            if hit > 0.5:
                on = max(0, math.floor((s + off) * tps + 0.5))
                velocity = min(127, max(1, math.floor(vel * 127 + 0.5)))
                notes.append([outp[v], velocity, on, on + tps, 9])
    notes.sort(key=lambda n: (n[2], n[0]))
    return notes


def groove_hits_only(rows, spec: Spec | None = None):
    """Quantized drums (hits only): velocity/offset zeroed; the Groove model's input."""
    spec = spec or load_spec()
    fpv = spec.floats_per_voice
    out = []
    for row in rows:
        r = [0.0] * len(row)
        for v in range(spec.num_drum_classes):
            r[v * fpv] = row[v * fpv]
        out.append(r)
    return out
