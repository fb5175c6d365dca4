"""Data preparation: read the raw data sets, keep 4/4, encode per spec, split by song/performance.

Output (data/<name>.npz via prep):
  melody_notes.npz : per song (segment) the notes as read, before any preprocessing, its bars, split
                     ('train'|'valid'); tokens are made from them by preprocess.py (whole songs for the LM,
                     every 4-bar window for the VAE), as the engine makes them from a user's clip
  drums.npz        : per GMD performance drum tokens (preprocess.py) + groove floats + tap floats, split
"""
from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import math
import os
import re
import tarfile
import time
from pathlib import Path

import mido
import numpy as np

from . import encoding as enc
from . import preprocess as P
from .paths import DATA_DIR, DATASETS

LICENSES = {
    "groove_midi": {"name": "Groove MIDI Dataset 1.0.0 (train/validation splits; test held out)", "license": "CC BY 4.0",
                    "attribution": "Gillick, Roberts, Engel, Eck, Bamman: Learning to Groove with Inverse Sequence Transformations (ICML 2019); Magenta Groove MIDI Dataset, (c) Google LLC"},
    "pop909": {"name": "POP909 MELODY tracks (songs 001-819; 820-909 held out)", "license": "MIT (underlying songs copyrighted; files not shipped)",
               "attribution": "Wang et al., POP909, ISMIR 2020"},
    "openewld": {"name": "OpenEWLD lead sheets", "license": "MIT repository, public-domain songs", "attribution": "F. Simonetta, OpenEWLD"},
    "music21_folk": {"name": "music21 corpus folk tunes: oneills1850, airdsAirs, ryansMammoth, miscFolk (not essenFolksong)",
                     "license": "music21 corpus (BSD-3 code; public-domain tunes)", "attribution": "music21 corpus"},
}


def datasets_dir() -> Path:
    return Path(os.environ.get("CADENZA_DATASETS", str(DATASETS)))


def is_valid_key(key: str, frac: float = 0.1) -> bool:
    """Deterministic song-level split by hash of the song id."""
    key = key.split("#")[0]
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)
    return (h % 1000) < frac * 1000


# ----------------------------------------------------------------------------- MIDI reading

def midi_notes(path, track_name: str | None = None, ppq_out: int = 480):
    """-> (notes [[pitch, vel, start, end, ch]] at ppq_out, tempo map [(tick, tempo)] at source ppq, src ppq)."""
    mf = mido.MidiFile(path)
    src = mf.ticks_per_beat
    notes = []
    tempos = []
    for tr in mf.tracks:
        abs_t = 0
        name = None
        active = {}
        tr_notes = []
        for msg in tr:
            abs_t += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "set_tempo":
                tempos.append((abs_t, msg.tempo))
            elif msg.type == "note_on" and msg.velocity > 0:
                key = (msg.channel, msg.note)
                if key in active:  # re-trigger: close the previous one
                    st, v = active.pop(key)
                    tr_notes.append([msg.note, v, st, abs_t, msg.channel])
                active[key] = (abs_t, msg.velocity)
            elif msg.type in ("note_off", "note_on"):
                key = (msg.channel, msg.note)
                if key in active:
                    st, v = active.pop(key)
                    tr_notes.append([msg.note, v, st, abs_t, msg.channel])
        for (ch, p), (st, v) in active.items():
            tr_notes.append([p, v, st, abs_t, ch])
        if track_name is None or (name or "").strip().upper() == track_name:
            notes.extend(tr_notes)
    if src != ppq_out:
        r = ppq_out / src
        notes = [[p, v, int(round(s * r)), int(round(e * r)), c] for p, v, s, e, c in notes]
    notes.sort(key=lambda n: (n[2], -n[0]))
    tempos.sort()
    return notes, tempos, src


def seconds_to_ticks(sec: float, tempos, ppq: int) -> float:
    """Convert seconds to ticks (source ppq) through a tempo map."""
    if not tempos or tempos[0][0] > 0:
        tempos = [(0, 500000)] + list(tempos)
    t_sec = 0.0
    for i, (tick, tempo) in enumerate(tempos):
        nxt = tempos[i + 1][0] if i + 1 < len(tempos) else None
        seg = (nxt - tick) * tempo / 1e6 / ppq if nxt is not None else math.inf
        if sec <= t_sec + seg:
            return tick + (sec - t_sec) * 1e6 * ppq / tempo
        t_sec += seg
    return 0.0


def bars_for(notes, spec) -> int:
    if not notes:
        return 0
    last = max(enc.step_of_tick(n[2], spec) for n in notes)
    return last // spec.steps_per_bar + 1


# ----------------------------------------------------------------------------- melody sources

def _melody_song(notes, spec):
    """A song (segment) as training keeps it: its notes from the first bar on, unprocessed, and its bars; None when
    it has fewer than 8 notes. Preprocessing (legato, range, top line) happens per window, see melody_windows."""
    notes = [n for n in notes if n[2] >= 0]
    if len(notes) < 8:
        return None
    return np.asarray(notes, dtype=np.int32).reshape(-1, 5), bars_for(notes, spec)


def melody_grid(notes, bars: int, spec):
    """The whole-song steps of preprocessing.melody before the window: trim_legato, quantize."""
    return P.melody_clip_grid(np.asarray(notes).tolist(), int(bars), spec)[1]


def melody_song_tokens(grid, spec):
    """The whole song through preprocessing.melody (window = the whole song): what the melody LM learns from, as
    Continue encodes a whole input clip."""
    return np.asarray(P.melody_from_grids([grid], [None], spec=spec)[0].tokens, dtype=np.int64)


def melody_windows(grid, bars: int, hop_bars: int, min_events: int, spec):
    """Windows of `bars` bars every `hop_bars` bars that lie inside the song, each through preprocessing.melody
    (window -> fit_range -> skyline -> tokens), as Interpolate encodes its inputs; windows with fewer than
    `min_events` note-ons are skipped. -> list of int64 token arrays."""
    total = grid.steps // spec.steps_per_bar
    out = []
    for k in range(0, total - bars + 1, hop_bars):
        toks = P.melody_from_grids([grid], [(k, bars)], spec=spec)[0].tokens
        if sum(1 for t in toks if t >= spec.first_note_on) >= min_events:
            out.append(np.asarray(toks, dtype=np.int64))
    return out


def pop909_songs(spec, limit=None, work_dir: Path = DATA_DIR):
    root = datasets_dir() / "pop909"
    ann = Path(work_dir) / "pop909_ann"
    if not (ann / "001").exists():
        ann.mkdir(parents=True, exist_ok=True)
        with tarfile.open(root / "annotations_beat_chord_key.tar.xz") as tf:
            tf.extractall(ann, filter="data")
    out = []
    files = sorted(glob.glob(str(root / "midi" / "*.mid")))
    if limit:
        files = files[:limit]
    for f in files:
        sid = Path(f).stem
        bf = ann / sid / "beat_midi.txt"
        if not bf.exists():
            continue
        beats = np.loadtxt(bf, ndmin=2)
        down = np.nonzero(beats[:, 2] > 0.5)[0]
        if len(down) < 3:
            continue
        notes, tempos, src = midi_notes(f, "MELODY")
        if not notes:
            continue
        first_beat_tick = seconds_to_ticks(float(beats[0, 0]), tempos, src) * 480 / src
        # runs of consecutive 4-beat bars (songs with a 2/4 or 6/4 bar inserted are cut there)
        runs, start = [], 0
        for i in range(1, len(down)):
            if down[i] - down[i - 1] != 4:
                runs.append((start, i - 1))
                start = i
        runs.append((start, len(down) - 1))
        for k, (a_, b_) in enumerate(runs):
            nb = b_ - a_ + (1 if b_ == len(down) - 1 else 0)
            if nb < 4:
                continue
            # grid anchored at the first annotated beat; bar 1 at this run's first downbeat
            shift = int(round(first_beat_tick + down[a_] * 480))
            end = nb * 4 * 480
            seg = [[p, v, s - shift, e - shift, c] for p, v, s, e, c in notes]
            seg = [n for n in seg if 0 <= enc.step_of_tick(n[2], spec) < nb * spec.steps_per_bar]
            song = _melody_song(seg, spec)
            if song is not None:
                out.append((f"pop909/{sid}#{k}", *song))
    return out


def _m21_stream_notes(score):
    """Monophonic top line of a music21 score -> notes at PPQ 480 (pickup shifted to the bar)."""
    import music21

    parts = score.parts if hasattr(score, "parts") and len(score.parts) else [score]
    part = parts[0]
    measures = part.getElementsByClass(music21.stream.Measure)
    pad = 0.0
    if len(measures):
        pad = float(measures[0].paddingLeft or 0.0)
        # a pickup measure that has no paddingLeft set: infer from bar duration
        if pad == 0.0:
            bd = measures[0].barDuration.quarterLength if measures[0].timeSignature or True else 4.0
            dur = measures[0].duration.quarterLength
            if len(measures) > 1 and 0 < dur < bd:
                pad = bd - dur
    notes = []
    try:
        part = part.stripTies()
    except Exception:
        pass
    for n in part.flatten().notes:
        if n.duration.quarterLength <= 0:
            continue  # grace notes
        if n.isChord:
            p = max(x.midi for x in n.pitches)
        else:
            p = n.pitch.midi
        st = int(round((float(n.offset) + pad) * 480))
        en = int(round((float(n.offset) + pad + float(n.duration.quarterLength)) * 480))
        notes.append([p, 90, st, en, 0])
    return notes


FOLK_DIRS = ["oneills1850", "airdsAirs", "ryansMammoth", "miscFolk"]
FOLK_METERS = {"C", "4/4", "C|", "2/2"}  # 2/2 (C|) has the bar length of 4/4: treated as 4/4 with the same barlines


def folk_tunes(spec, limit=None, work_dir=None):
    import music21

    root = Path(music21.__file__).parent / "corpus"
    out = []
    count = 0
    for d in FOLK_DIRS:
        for f in sorted(glob.glob(str(root / d / "**" / "*.abc"), recursive=True)):
            txt = open(f, errors="ignore").read()
            tunes = re.split(r"(?m)^(?=X:)", txt)
            for i, t in enumerate(tunes):
                if not t.startswith("X:"):
                    continue
                meters = re.findall(r"(?m)^M:\s*(\S+)", t) + re.findall(r"\[M:\s*([^\]]+)\]", t)
                if not meters or any(m.strip() not in FOLK_METERS for m in meters):
                    continue
                if limit and count >= limit:
                    return out
                count += 1
                try:
                    s = music21.converter.parse(t, format="abc")
                    notes = _m21_stream_notes(s)
                except Exception:
                    continue
                song = _melody_song(notes, spec)
                if song is not None:
                    out.append((f"folk/{d}/{Path(f).stem}/{i}", *song))
    return out


def openewld_songs(spec, limit=None, work_dir: Path = DATA_DIR):
    import music21

    root = datasets_dir() / "openewld"
    dst = Path(work_dir) / "openewld"
    if not (dst / "dataset").exists():
        dst.mkdir(parents=True, exist_ok=True)
        with tarfile.open(root / "openewld_leadsheets_mxl.tar.gz") as tf:
            tf.extractall(dst, filter="data")
    out = []
    files = sorted(glob.glob(str(dst / "dataset" / "*" / "*" / "*.mxl")))
    n = 0
    for f in files:
        try:
            s = music21.converter.parse(f)
            ts = s.recurse().getElementsByClass(music21.meter.TimeSignature)
            if not len(ts) or any(t.ratioString not in ("4/4", "2/2") for t in ts):
                continue
            if limit and n >= limit:
                break
            n += 1
            notes = _m21_stream_notes(s)
        except Exception:
            continue
        song = _melody_song(notes, spec)
        if song is not None:
            key = "openewld/" + str(Path(f).relative_to(dst / "dataset").parent)
            out.append((key, *song))
    return out


# ----------------------------------------------------------------------------- GMD

def gmd_performances(spec, limit=None):
    root = datasets_dir() / "groove_midi"
    out = []
    with open(root / "info.csv") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r["split"] not in ("train", "validation") or r["time_signature"] != "4-4":
            continue
        f = root / r["midi_filename"]
        if not f.exists():
            continue
        if limit and len(out) >= limit:
            break
        notes, _, _ = midi_notes(f)
        notes = [n for n in notes if n[2] >= 0]
        if not notes:
            continue
        bars = bars_for(notes, spec)
        toks = P.preprocess_drums(notes, bars, spec=spec).tokens
        groove, _ = enc.encode_groove(notes, bars, spec)
        tap, _ = enc.encode_tap(notes, bars, spec)
        out.append({
            "id": r["id"], "split": "train" if r["split"] == "train" else "valid",
            "style": r["style"], "beat_type": r["beat_type"],
            "tokens": np.asarray(toks, np.int16),
            "groove": np.asarray(groove, np.float32),
            "tap": np.asarray(tap, np.float32),
        })
    return out


# ----------------------------------------------------------------------------- storage

def save_melody(items, path: Path):
    """items: (key, notes [N,5] int32, bars)."""
    keys = [k for k, _, _ in items]
    counts = np.array([len(n) for _, n, _ in items], np.int64)
    notes = np.concatenate([n for _, n, _ in items]) if items else np.zeros((0, 5), np.int32)
    split = np.array(["valid" if is_valid_key(k) else "train" for k in keys])
    np.savez_compressed(path, keys=np.array(keys), counts=counts, notes=notes.astype(np.int32),
                        bars=np.array([b for _, _, b in items], np.int64), split=split)


def load_melody(path: Path):
    """-> keys, songs [(notes [N,5] int32, bars)], split."""
    d = dict(np.load(path))
    offs = np.concatenate([[0], np.cumsum(d["counts"])])
    songs = [(d["notes"][offs[i]:offs[i + 1]], int(d["bars"][i])) for i in range(len(d["counts"]))]
    return list(d["keys"]), songs, list(d["split"])


def save_drums(perfs, path: Path):
    lens = np.array([len(p["tokens"]) for p in perfs], np.int64)
    np.savez_compressed(
        path,
        ids=np.array([p["id"] for p in perfs]), split=np.array([p["split"] for p in perfs]),
        style=np.array([p["style"] for p in perfs]), beat_type=np.array([p["beat_type"] for p in perfs]),
        lens=lens,
        tokens=np.concatenate([p["tokens"] for p in perfs]),
        groove=np.concatenate([p["groove"] for p in perfs]),
        tap=np.concatenate([p["tap"] for p in perfs]),
    )


def load_drums(path: Path):
    d = dict(np.load(path))  # decompress every array once
    offs = np.concatenate([[0], np.cumsum(d["lens"])])
    out = []
    for i in range(len(d["lens"])):
        a, b = offs[i], offs[i + 1]
        out.append({"id": str(d["ids"][i]), "split": str(d["split"][i]), "style": str(d["style"][i]),
                    "beat_type": str(d["beat_type"][i]),
                    "tokens": d["tokens"][a:b].astype(np.int64), "groove": d["groove"][a:b].copy(),
                    "tap": d["tap"][a:b].copy()})
    return out


def prep(data_dir: Path, smoke: bool = False, log=print, sources=None):
    """Prepare melody_notes.npz and drums.npz in data_dir (cached: existing files are kept)."""
    spec = enc.load_spec()
    data_dir.mkdir(parents=True, exist_ok=True)
    lim = 12 if smoke else None
    stats = {}
    dpath = data_dir / "drums.npz"
    if not dpath.exists():
        t = time.time()
        perfs = gmd_performances(spec, limit=lim)
        if smoke:
            # make sure both splits exist
            for i, p in enumerate(perfs):
                p["split"] = "valid" if i % 4 == 0 else "train"
        save_drums(perfs, dpath)
        log(f"drums: {len(perfs)} performances in {time.time()-t:.0f}s")
    mpath = data_dir / "melody_notes.npz"
    if not mpath.exists():
        items = []
        srcs = sources or (["pop909"] if smoke else ["pop909", "openewld", "music21_folk"])
        for src in srcs:
            t = time.time()
            cache = data_dir / f"melody_notes_{src}.npz"
            if cache.exists() and not smoke:
                keys, songs, _ = load_melody(cache)
                part = [(k, n, b) for k, (n, b) in zip(keys, songs)]
            else:
                fn = {"pop909": pop909_songs, "openewld": openewld_songs, "music21_folk": folk_tunes}[src]
                part = fn(spec, limit=lim, work_dir=data_dir)
                if not smoke:
                    save_melody(part, cache)
            log(f"melody/{src}: {len(part)} songs in {time.time()-t:.0f}s")
            stats[src] = len(part)
            items.extend(part)
        if smoke:
            save_melody(items, mpath)
            d = dict(np.load(mpath))
            d["split"] = np.array(["valid" if i % 4 == 0 else "train" for i in range(len(items))])
            np.savez_compressed(mpath, **d)
        else:
            save_melody(items, mpath)
    return data_dir
