"""The one preprocessing path (spec `preprocessing`), the Python twin of music/src/preprocess.rs.

The engine runs these steps on every model input; the data pipeline runs them on every training and
validation window, so the models learn from what they will be given. Every parameter is read from
models/spec/encoding.json; models/spec/golden/preprocess_*.json hold the notes after every step, and
tests/test_preprocess.py checks that this module reproduces them exactly.

Melody: trim_legato (ticks, whole clip) -> quantize (whole clip) -> window (steps) -> fit_range (one octave
shift for the input, then folding) -> skyline -> tokens.
Drums:  quantize -> window -> map_drums -> tokens.

Notes in are [pitch, velocity, start_tick, end_tick, channel]. After quantize a note is a grid note
(pitch, velocity, step, end_step, channel).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from . import encoding as enc


def _steps(kind: str, spec=None) -> list:
    spec = spec or enc.load_spec()
    return spec.raw["preprocessing"][kind]


def _param(kind: str, step: str, key: str, spec=None):
    for s in _steps(kind, spec):
        if s["step"] == step:
            return s[key]
    raise KeyError(f"preprocessing.{kind}: no step {step}")


def step_names(kind: str, spec=None) -> list:
    return [s["step"] for s in _steps(kind, spec)]


# ----------------------------------------------------------------------------- steps

def trim_legato(notes, max_overlap: int | None = None, spec=None):
    """Ends every note that sounds past the next later onset (of any note) by at most `max_overlap` ticks at that
    onset. -> (notes sorted by (start, pitch, end, channel, velocity), number trimmed)."""
    if max_overlap is None:
        max_overlap = int(_param("melody", "trim_legato", "max_overlap_ticks", spec))
    out = sorted(([int(x) for x in n[:5]] for n in notes), key=lambda n: (n[2], n[0], n[3], n[4], n[1]))
    onsets = sorted({n[2] for n in out})
    trimmed = 0
    for n in out:
        i = bisect_left(onsets, n[2] + 1)  # the first onset strictly after this note's start
        if i < len(onsets):
            nxt = onsets[i]
            if n[3] > nxt and n[3] - nxt <= max_overlap:
                n[3] = nxt
                trimmed += 1
    out.sort(key=lambda n: (n[2], n[0], n[3], n[4], n[1]))
    return out, trimmed


@dataclass
class Grid:
    """A quantized clip or window: `steps` long, notes (pitch, velocity, step, end_step, channel) in step order."""
    steps: int
    notes: list
    past_end: int = 0
    _onsets: list = field(default=None, repr=False)

    def onsets(self):
        if self._onsets is None:
            self._onsets = [n[2] for n in self.notes]
        return self._onsets


def quantize(notes, bars: int, spec=None) -> Grid:
    """The spec's quantization of a whole clip; notes whose onset step is past the end are dropped (past_end)."""
    spec = spec or enc.load_spec()
    steps = int(bars) * spec.steps_per_bar
    end_tick = steps * spec.ticks_per_step
    out, past = [], 0
    for n in sorted(notes, key=lambda n: (n[2], n[0], n[3], n[4], n[1])):
        pitch, vel, start, end, ch = (int(x) for x in n[:5])
        s = enc.step_of_tick(start, spec)
        if s >= steps:
            past += 1
            continue
        e = min(max(enc.step_of_tick(min(end, end_tick), spec), s + 1), steps)
        out.append((pitch, vel, s, e, ch))
    return Grid(steps, out, past)


def window(grid: Grid, start_bar: int | None = None, bars: int | None = None, spec=None) -> Grid:
    """Bars start_bar..start_bar+bars of a quantized clip (None: the whole clip): notes whose onset step lies inside,
    renumbered from 0, end steps clamped to the window end."""
    if start_bar is None:
        return Grid(grid.steps, list(grid.notes), grid.past_end)
    spec = spec or enc.load_spec()
    a = int(start_bar) * spec.steps_per_bar
    n = int(bars) * spec.steps_per_bar
    b = a + n
    on = grid.onsets()
    lo, hi = bisect_left(on, a), bisect_left(on, b)
    return Grid(n, [(p, v, s - a, min(e, b) - a, c) for p, v, s, e, c in grid.notes[lo:hi]], grid.past_end)


def range_shift(grids, spec=None) -> int:
    """fit_range's shift for one model input: k*12 (k in octave_shifts) leaving the fewest notes outside the range;
    ties: the smallest |shift|, then the lower."""
    spec = spec or enc.load_spec()
    lo, hi = (int(x) for x in _param("melody", "fit_range", "octave_shifts", spec))
    mn, mx = int(_param("melody", "fit_range", "min_pitch", spec)), int(_param("melody", "fit_range", "max_pitch", spec))
    pitches = [n[0] for g in grids for n in g.notes]
    if all(mn <= p <= mx for p in pitches):
        return 0  # what the search below gives an in-range input, without the search

    def outside(shift):
        return sum(1 for p in pitches if not mn <= p + shift <= mx)

    return min((k * 12 for k in range(lo, hi + 1)), key=lambda s: (outside(s), abs(s), s))


def fit_range(grid: Grid, shift: int, spec=None):
    """Every pitch moved by `shift`, then each one still outside the range moved by octaves into it. -> (grid, folded)."""
    spec = spec or enc.load_spec()
    mn, mx = int(_param("melody", "fit_range", "min_pitch", spec)), int(_param("melody", "fit_range", "max_pitch", spec))
    out, folded = [], 0
    for p, v, s, e, c in grid.notes:
        q = p + shift
        if q < mn or q > mx:
            folded += 1
            while q < mn:
                q += 12
            while q > mx:
                q -= 12
        out.append((q, v, s, e, c))
    return Grid(grid.steps, out, grid.past_end), folded


def skyline(grid: Grid):
    """The spec's top line. -> (kept [pitch, step, end_step] in step order, dropped)."""
    kept, dropped = enc.skyline_quantized([(s, e, p) for p, v, s, e, c in grid.notes])
    return [[p, s, e] for s, e, p in kept], dropped


def melody_tokens(kept, steps: int, spec=None):
    return enc.skyline_tokens([(s, e, p) for p, s, e in kept], steps, spec)


def map_drums(grid: Grid, spec=None):
    """Every note on a mapped pitch becomes a hit of its class. -> (mapped (pitch, vel, step, end, ch, class), unmapped)."""
    spec = spec or enc.load_spec()
    pmap = spec.drum_pitch_map
    mapped = [(*n, pmap[n[0]]) for n in grid.notes if n[0] in pmap]
    return mapped, len(grid.notes) - len(mapped)


def drum_tokens(mapped, steps: int):
    toks = [0] * steps
    for n in mapped:
        toks[n[2]] |= 1 << n[5]
    return toks


# ----------------------------------------------------------------------------- the paths

def _grid_rows(notes):
    return sorted([list(n) for n in notes], key=lambda r: (r[2], r[0], r[3], r[4], r[1]))


@dataclass
class Prepared:
    tokens: list
    report: dict
    stages: dict  # step name -> notes after it (golden-file rows), when asked for


def melody_clip_grid(notes, bars: int, spec=None):
    """trim_legato + quantize of a whole clip (the steps before the window). -> (trimmed notes, grid, trimmed)."""
    spec = spec or enc.load_spec()
    t, trimmed = trim_legato(notes, spec=spec)
    return t, quantize(t, bars, spec), trimmed


def melody_from_grids(grids, windows, trims=None, stages: bool = False, spec=None):
    """window -> fit_range -> skyline -> tokens for the inputs of one job, given their whole-clip grids.
    windows: (start_bar, bars) or None per grid. One octave shift for all the windows."""
    spec = spec or enc.load_spec()
    cut = [window(g, *(w or (None, None)), spec=spec) for g, w in zip(grids, windows)]
    shift = range_shift(cut, spec)
    out = []
    for i, (g, w) in enumerate(zip(grids, cut)):
        fitted, folded = fit_range(w, shift, spec)
        kept, poly = skyline(fitted)
        report = {"trimmed": trims[i] if trims else 0, "past_end": g.past_end,
                  "outside_window": len(g.notes) - len(w.notes), "shift": shift, "folded": folded, "polyphony": poly}
        st = None
        if stages:
            st = {"quantize": _grid_rows(g.notes), "window": _grid_rows(w.notes),
                  "fit_range": _grid_rows(fitted.notes), "skyline": kept}
        out.append(Prepared(melody_tokens(kept, fitted.steps, spec), report, st))
    return out


def preprocess_melody(clips, window_bars=None, stages: bool = False, spec=None):
    """preprocessing.melody for the inputs of one job. clips: [(notes, bars)]; window_bars: (start_bar, bars) or None
    (the whole clip). -> [Prepared]."""
    spec = spec or enc.load_spec()
    grids, trims, trimmed_notes = [], [], []
    for notes, bars in clips:
        t, g, n = melody_clip_grid(notes, bars, spec)
        grids.append(g)
        trims.append(n)
        trimmed_notes.append(t)
    out = melody_from_grids(grids, [window_bars] * len(grids), trims, stages, spec)
    if stages:
        for p, t in zip(out, trimmed_notes):
            p.stages = {"trim_legato": t, **p.stages}
    return out


def drums_from_grid(g: Grid, window_bars=None, stages: bool = False, spec=None) -> Prepared:
    spec = spec or enc.load_spec()
    w = window(g, *(window_bars or (None, None)), spec=spec)
    mapped, unmapped = map_drums(w, spec)
    report = {"past_end": g.past_end, "outside_window": len(g.notes) - len(w.notes), "unmapped": unmapped}
    st = None
    if stages:
        st = {"quantize": _grid_rows(g.notes), "window": _grid_rows(w.notes), "map_drums": _grid_rows(mapped)}
    return Prepared(drum_tokens(mapped, w.steps), report, st)


def preprocess_drums(notes, bars: int, window_bars=None, stages: bool = False, spec=None) -> Prepared:
    """preprocessing.drums for one clip: quantize -> window -> map_drums -> tokens."""
    spec = spec or enc.load_spec()
    return drums_from_grid(quantize(notes, bars, spec), window_bars, stages, spec)
