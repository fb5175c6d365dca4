"""Test split, de-duplication and the extra (programmed) drum data sets (issue 17).

Test split (fixed before any v2 training; never used for model selection or tuning):
  GMD's own test split and POP909 820-909 are not in ../shared/datasets (held out by whoever copied them), so:
  drums / groove : half of GMD's validation performances (hash of the id). The shipped models never trained on them,
                   but their checkpoint was picked on the whole validation split (a mild selection bias, stated).
  melody         : half of the old validation songs (hash) + a 20 % hash slice of the Nottingham 4/4 (and 2/2) tunes
                   (never used by any model: clean). De-duplicated against every training and validation song and
                   within itself.
Validation keeps its old members minus the songs that copy a training song note for note.

Extra drums (programmed, quantized; for drum_vae / drum_rnn only, never GrooVAE): freedoom_music
(use_for_4_4 = yes files), mma_grooves (both seeds, split by .mma file, Intro/End grooves left out),
hydrogen_patterns (midi/ only, every 1-2 bar pattern tiled to 8 bars). Split by song / style file / pattern
(10 % valid, 10 % test by hash); model selection stays on GMD validation.

Files (data/): drums_test.npz (same layout as drums.npz, split='test'), drums_extra.npz (same layout; `style`
holds the source, groove/tap are empty), melody_test_notes.npz (load_melody layout, split='test'),
dedupe.json (keys dropped per split and why).
"""
from __future__ import annotations

import csv
import glob
import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np

from . import data as D
from . import encoding as enc
from . import preprocess as P

# GM drum kit pieces kept from the programmed sets; the auxiliary Latin percussion (cabasa, maracas, shaker,
# claves, congas/bongos, cowbell, tambourine, GM2 27/28, MMA's note 105) folds oddly into Magenta's 9 classes.
KIT_PITCHES = set(range(35, 54)) | {55, 57, 59}


def hash_bucket(key: str) -> int:
    key = key.split("#")[0]
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 1000


def split3(key: str) -> str:
    """valid: the old 10 % bucket (is_valid_key); test: the next 10 %."""
    b = hash_bucket(key)
    return "valid" if b < 100 else ("test" if b < 200 else "train")


# ----------------------------------------------------------------------------- drums

def _drum_item(pid, split, source, notes, spec):
    notes = [n for n in notes if n[2] >= 0 and n[4] == 9 and n[0] in KIT_PITCHES]
    if not notes:
        return None
    bars = D.bars_for(notes, spec)
    toks = P.preprocess_drums(notes, bars, spec=spec).tokens
    # groove and tap floats as for GMD (programmed: offsets ~0, the file's own velocities and accents), so that
    # Drumify can learn which drums go with a rhythm from them; the feel (velocity, timing) stays GMD's
    groove, _ = enc.encode_groove(notes, bars, spec)
    tap, _ = enc.encode_tap(notes, bars, spec)
    assert len(groove) == len(toks) == len(tap), (pid, len(groove), len(toks))
    return {"id": pid, "split": split, "style": source, "beat_type": "programmed",
            "tokens": np.asarray(toks, np.int16), "groove": np.asarray(groove, np.float32),
            "tap": np.asarray(tap, np.float32)}


def tile(notes, length_ticks: int, times: int):
    return [[p, v, s + k * length_ticks, e + k * length_ticks, c] for k in range(times) for p, v, s, e, c in notes]


def extra_drums(spec, limit=None, log=print):
    root = D.datasets_dir()
    out = []
    # freedoom
    with open(root / "freedoom_music" / "drum_stats.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["use_for_4_4"] == "yes"]
    for r in rows[:limit]:
        stem = Path(r["file"]).stem
        if stem == "d_introa":
            continue
        notes, _, _ = D.midi_notes(root / "freedoom_music" / r["file"])
        it = _drum_item(f"freedoom/{stem}", split3(f"freedoom/{stem}"), "freedoom_music", notes, spec)
        if it is not None:
            out.append(it)
    # mma: both seeds of every kept groove; split by style file so seed1/X and seed2/X stay together
    with open(root / "mma_grooves" / "grooves.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kept"] == "yes"]
    rows = [r for r in rows if not re.search(r"(Intro|End)", r["groove"])]
    for r in rows[:limit]:
        grp = f"mma/{r['lib_file']}"
        for seed in ("seed1", "seed2"):
            f = root / "mma_grooves" / seed / r["midi_name"]
            if not f.exists():
                continue
            notes, _, _ = D.midi_notes(f)
            it = _drum_item(f"mma/{seed}/{r['groove']}", split3(grp), "mma_grooves", notes, spec)
            if it is not None:
                out.append(it)
    # hydrogen: midi/ only (the song-reference patterns are left out); loops tiled to 8 bars
    bar = 4 * spec.ppq
    for f in sorted(glob.glob(str(root / "hydrogen_patterns" / "midi" / "*.mid")))[:limit]:
        notes, _, _ = D.midi_notes(f)
        if not notes:
            continue
        nb = max(1, int(np.ceil(max(n[2] for n in notes) / bar + 1e-9)))
        nb = 2 if nb >= 2 else 1
        stem = Path(f).stem
        # the A/B/F variations of one style share a group
        grp = "hydrogen/" + re.sub(r"[_ ]*\d*[ABF]?$", "", stem)
        it = _drum_item(f"hydrogen/{stem}", split3(grp), "hydrogen_patterns", tile(notes, nb * bar, 8 // nb), spec)
        if it is not None:
            out.append(it)
    return out


def gmd_is_test(pid: str) -> bool:
    """GMD's own test split is not in ../shared/datasets (held out by whoever copied it), so the test performances
    are half of GMD's validation split, by a hash of the performance id."""
    return hash_bucket("gmd/" + pid) % 2 == 1


def melody_is_test(key: str) -> bool:
    """Half of the old validation songs (hash bucket 50-99 of 0-99) are test songs; the Nottingham slice is all test."""
    return key.startswith("nottingham/") or 50 <= hash_bucket(key) < 100


def gmd_test(data_dir):
    return [dict(p, split="test") for p in D.load_drums(Path(data_dir) / "drums.npz")
            if p["split"] == "valid" and gmd_is_test(p["id"])]


# ----------------------------------------------------------------------------- melody test

def nottingham_tunes(spec, limit=None):
    import music21

    root = D.datasets_dir() / "nottingham" / "ABC_cleaned"
    out = []
    for f in sorted(glob.glob(str(root / "*.abc"))):
        txt = open(f, errors="ignore").read()
        for i, t in enumerate(re.split(r"(?m)^(?=X:)", txt)):
            if not t.startswith("X:"):
                continue
            meters = re.findall(r"(?m)^M:\s*(\S+)", t) + re.findall(r"\[M:\s*([^\]]+)\]", t)
            if not meters or any(m.strip() not in D.FOLK_METERS for m in meters):
                continue
            key = f"nottingham/{Path(f).stem}/{i}"
            if hash_bucket(key) >= 200:  # 20 % of the tunes are the test slice; the rest stays unused here
                continue
            if limit and len(out) >= limit:
                return out
            try:
                notes = D._m21_stream_notes(music21.converter.parse(t, format="abc"))
            except Exception:
                continue
            song = D._melody_song(notes, spec)
            if song is not None:
                out.append((key, *song))
    return out


def fingerprints(notes, bars, spec, head: int = 24):
    """Transposition-invariant fingerprints of a song's quantized top line: the whole line, and its first `head`
    notes (so a copy with other repeats or an extra ending still matches)."""
    grid = D.melody_grid(notes, bars, spec)
    line = []
    last = -1
    for n in sorted(grid.notes, key=lambda n: (n[2], -n[0])):
        if n[2] != last:
            line.append((n[2], n[0]))
            last = n[2]
    if len(line) < 2:
        return None, None
    s0, p0 = line[0]
    rel = tuple((s - s0, p - p0) for s, p in line)
    # onsets relative to the first note; pitches relative to the first note: transposition- and offset-invariant
    return hash(rel), hash(rel[:head])


def dedupe_melody(train, others, spec):
    """train/others: lists of (key, notes, bars). -> set of keys in `others` that copy a training song."""
    full, head = set(), set()
    for k, n, b in train:
        f, h = fingerprints(n, b, spec)
        full.add(f)
        head.add(h)
    dup = {}
    for k, n, b in others:
        f, h = fingerprints(n, b, spec)
        if f in full:
            dup[k] = "whole tune equals a training tune (transposed or not)"
        elif h in head:
            dup[k] = "first 24 notes equal a training tune's"
    return dup


def prep(data_dir: Path, log=print, smoke: bool = False):
    spec = enc.load_spec()
    data_dir = Path(data_dir)
    lim = 12 if smoke else None
    p = data_dir / "drums_extra.npz"
    if not p.exists():
        t = time.time()
        items = extra_drums(spec, limit=lim, log=log)
        D.save_drums(items, p)
        log(f"drums_extra: {len(items)} items in {time.time()-t:.0f}s")
    p = data_dir / "drums_test.npz"
    if not p.exists():
        t = time.time()
        items = gmd_test(data_dir)
        D.save_drums(items, p)
        log(f"drums_test: {len(items)} GMD performances (half of validation) in {time.time()-t:.0f}s")
    p = data_dir / "melody_test_notes.npz"
    if not p.exists():
        t = time.time()
        items = nottingham_tunes(spec, limit=lim)
        log(f"melody test: {len(items)} Nottingham tunes in {time.time()-t:.0f}s")
        keys, songs, split = D.load_melody(data_dir / "melody_notes.npz")
        train = [(k, n, b) for k, (n, b), s in zip(keys, songs, split) if s == "train"]
        valid = [(k, n, b) for k, (n, b), s in zip(keys, songs, split) if s == "valid" and not melody_is_test(k)]
        items = [(k, n, b) for k, (n, b), s in zip(keys, songs, split) if s == "valid" and melody_is_test(k)] + items
        dup_valid = dedupe_melody(train, valid, spec)
        dup_test = dedupe_melody(train + valid, items, spec)
        # copies inside the test set itself (the same tune twice) keep their first
        seen, dup_self = {}, {}
        for k, n, b in items:
            f, _ = fingerprints(n, b, spec)
            if f in seen and k not in dup_test:
                dup_self[k] = f"copy of test tune {seen[f]}"
            seen.setdefault(f, k)
        dup_test.update(dup_self)
        kept = [it for it in items if it[0] not in dup_test]
        D.save_melody(kept, p)
        d = dict(np.load(p))
        d["split"] = np.array(["test"] * len(kept))
        np.savez_compressed(p, **d)
        by_src = {}
        for k, n, b in train + valid:
            by_src.setdefault(k.split("/")[0], [0, 0])
        for k, _, _ in valid:
            by_src[k.split("/")[0]][0] += 1
        for k in dup_valid:
            by_src[k.split("/")[0]][1] += 1
        report = {
            "valid": {"dropped": dup_valid, "per_source_valid_songs_and_dropped": by_src},
            "test": {"dropped": dup_test, "kept": len(kept), "read": len(items),
                     "nottingham_kept": sum(1 for k, _, _ in kept if k.startswith("nottingham")),
                     "source": "half of the old validation songs (hash) + Nottingham 4/4 and 2/2 tunes, 20 % hash slice"},
        }
        (data_dir / "dedupe.json").write_text(json.dumps(report, indent=1))
        log(f"dedupe: valid drops {len(dup_valid)}, test drops {len(dup_test)}; test keeps {len(kept)}")
    return data_dir


def dropped_valid(data_dir: Path) -> set:
    f = Path(data_dir) / "dedupe.json"
    if not f.exists():
        return set()
    return set(json.loads(f.read_text())["valid"]["dropped"])
