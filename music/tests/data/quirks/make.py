"""Writes MIDI files the way real programs (mis)write them, and what mido reads in each.

Run with the project's venv (mido installed): `python music/tests/data/quirks/make.py`.
For every file mido reads, `expected.json` holds its notes as mido sees them, paired the way
Cadenza pairs them (a note-off closes the earliest open note of its pitch and channel; note-on
velocity 0 is a note-off; notes still open end with their track), at 480 ticks per quarter, plus
the tempo and time signature. Files mido refuses but whose intent is clear are written from the
same events as a readable twin, whose notes they must give too (`same_as`).
`music/tests/midi_quirks.rs` checks that Cadenza's importer reads the same.
"""
import json
import os
import random
import struct

import mido

HERE = os.path.dirname(os.path.abspath(__file__))


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def header(fmt, ntracks, ppq, length=6):
    return b"MThd" + struct.pack(">IHHH", length, fmt, ntracks, ppq) + b"\0" * (length - 6)


def chunk(data, length=None):
    return b"MTrk" + struct.pack(">I", len(data) if length is None else length) + data


def events(rng, ppq, running=True, meta_between=False, zero_vel_off=True, overlap=False, channel=0):
    """A random melody as raw track bytes (without end-of-track)."""
    out = b""
    last_status = None
    t = 0
    notes = []
    for _ in range(rng.randint(3, 12)):
        pitch = rng.randint(40, 90)
        vel = rng.randint(1, 127)
        start_delta = rng.choice([0, ppq // 4, ppq // 2, ppq])
        length = rng.choice([ppq // 4, ppq // 2, ppq, 3 * ppq // 2])
        notes.append((t + start_delta, pitch, vel, length))
        t += start_delta + (0 if overlap and rng.random() < 0.3 else length)
    evs = []
    for start, pitch, vel, length in notes:
        evs.append((start, 1, pitch, vel))
        evs.append((start + length, 0, pitch, 0))
    evs.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for tick, on, pitch, vel in evs:
        delta = tick - now
        now = tick
        if meta_between and rng.random() < 0.3:
            out += vlq(delta) + b"\xff\x01" + vlq(4) + b"text"
            delta = 0
        if on:
            status = 0x90 | channel
            data = bytes([pitch, vel])
        elif zero_vel_off:
            status = 0x90 | channel
            data = bytes([pitch, 0])
        else:
            status = 0x80 | channel
            data = bytes([pitch, 64])
        if running and status == last_status:
            out += vlq(delta) + data
        else:
            out += vlq(delta) + bytes([status]) + data
        last_status = status
    return out, now


def conductor(tempo_us=500000, ts=(4, 2)):
    return (
        b"\x00\xff\x51\x03" + struct.pack(">I", tempo_us)[1:]
        + b"\x00\xff\x58\x04" + bytes([ts[0], ts[1], 24, 8])
    )


EOT = b"\x00\xff\x2f\x00"


def mido_notes(path, sequential=False):
    m = mido.MidiFile(path)
    ppq = m.ticks_per_beat
    notes = []
    offset = 0
    for track in m.tracks:
        now = offset
        open_notes = {}
        for msg in track:
            now += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
            elif msg.type in ("note_on", "note_off"):
                q = open_notes.get((msg.channel, msg.note))
                if q:
                    start, vel = q.pop(0)
                    notes.append((msg.note, vel, start, now, msg.channel))
        for (ch, pitch), q in open_notes.items():
            for start, vel in q:
                notes.append((pitch, vel, start, now, ch))
        if sequential:
            offset = now
    scale = lambda t: (t * 480 + ppq // 2) // ppq
    out = []
    for pitch, vel, start, end, ch in notes:
        s = scale(start)
        e = max(scale(end), s + 1)
        out.append([pitch, vel, s, e, ch])
    out.sort(key=lambda n: (n[2], n[0], n[3], n[4], n[1]))
    return out


def main():
    rng = random.Random(12)
    expected = {}
    files = {}
    for i in range(12):
        ppq = rng.choice([96, 120, 192, 384, 480, 960])
        body, _ = events(rng, ppq, running=True, meta_between=True, overlap=(i % 3 == 0))
        # Running status across meta events, note-on velocity 0 as note-off.
        files[f"running_status_meta_{i:02}.mid"] = (header(0, 1, ppq) + chunk(conductor() + body + EOT), None)
        # No end-of-track at all (the length field is right).
        files[f"no_end_of_track_{i:02}.mid"] = (header(0, 1, ppq) + chunk(conductor() + body), None)
        # Bytes after the last track.
        files[f"trailing_garbage_{i:02}.mid"] = (
            header(1, 2, ppq) + chunk(conductor() + EOT) + chunk(body + EOT) + bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))),
            None,
        )
        # Format 2: two patterns, one after the other.
        body2, _ = events(rng, ppq, running=False, zero_vel_off=False, channel=i % 9)
        files[f"format2_{i:02}.mid"] = (header(2, 2, ppq) + chunk(conductor() + body + EOT) + chunk(body2 + EOT), None)
        # Mido refuses these; their intent is clear: the same events as a twin it reads.
        twin = header(0, 1, ppq) + chunk(conductor() + body + EOT)
        twin_name = f"running_status_meta_{i:02}.mid"
        files[f"track_length_too_long_{i:02}.mid"] = (header(0, 1, ppq) + chunk(conductor() + body + EOT, length=len(conductor() + body + EOT) + 50), twin_name)
        files[f"track_length_too_short_{i:02}.mid"] = (header(0, 1, ppq) + chunk(conductor() + body + EOT, length=7), twin_name)
        files[f"riff_wrapped_{i:02}.mid"] = (b"RIFF" + struct.pack("<I", len(twin) + 12) + b"RMIDdata" + struct.pack("<I", len(twin)) + twin, twin_name)
        files[f"unknown_chunk_{i:02}.mid"] = (header(0, 1, ppq) + b"XFIH" + struct.pack(">I", 3) + b"abc" + chunk(conductor() + body + EOT), twin_name)
    for name, (data, twin) in files.items():
        path = os.path.join(HERE, name)
        with open(path, "wb") as f:
            f.write(data)
        if twin is not None:
            try:
                mido.MidiFile(path)
                readable = True
            except Exception:
                readable = False
            expected[name] = {"same_as": twin, "mido_reads": readable}
            continue
        sequential = name.startswith("format2")
        expected[name] = {"notes": mido_notes(path, sequential=sequential), "mido_reads": True}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=0, sort_keys=True)


if __name__ == "__main__":
    main()
