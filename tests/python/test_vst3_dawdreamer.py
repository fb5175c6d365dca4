"""Loads the built Cadenza.vst3 in DawDreamer (a real VST3 host) and checks what comes out.

DawDreamer renders a plugin's audio but drops its MIDI output (its PluginProcessor passes only
audio on), so Cadenza's "Preview synth" parameter makes the MIDI output audible: each note it
sends is a sine at the note's pitch. The test plays two notes in, presses Generate by
automation (Continue, melody, on the real models), and checks by spectrum that the
pass-through notes sound. A second render (the engine answers on its own thread, and
DawDreamer's VST3 hosting does not reach nice-plug as an offline render, so the first render does
not wait for it) must play the generated variation bar-aligned from the top: first the captured
bar (C4 then E4), then the model's continuation, all in MIDI range. The saved VST3 state must hold
the generated clips, and a fresh instance that loads it must hold and play the same.
"""

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

dawdreamer = pytest.importorskip("dawdreamer") if os.environ.get("CADENZA_ALLOW_SKIP") else __import__("dawdreamer")

SAMPLE_RATE = 48_000
BUNDLE = Path(os.environ.get("CADENZA_BUNDLE_DIR", Path(__file__).resolve().parents[2] / "target" / "bundled"))
VST3 = BUNDLE / "Cadenza.vst3"


def midi_hz(pitch):
    return 440.0 * 2 ** ((pitch - 69) / 12)


def dominant_hz(audio, start_s, length_s=0.1):
    segment = audio[int(start_s * SAMPLE_RATE): int((start_s + length_s) * SAMPLE_RATE)]
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment)), n=1 << 16))
    freqs = np.fft.rfftfreq(1 << 16, 1 / SAMPLE_RATE)
    return freqs[np.argmax(spectrum)], float(np.sqrt(np.mean(segment ** 2)))


def param_index(plugin, name):
    for desc in plugin.get_parameters_description():
        if desc["name"] == name:
            return desc["index"]
    raise AssertionError(f"no parameter {name!r}")


@pytest.fixture()
def plugin_and_engine():
    assert VST3.is_dir(), f"{VST3} missing: run `cargo xtask bundle cadenza --release`"
    engine = dawdreamer.RenderEngine(SAMPLE_RATE, 512)
    engine.set_bpm(120)
    plugin = engine.make_plugin_processor("cadenza", str(VST3))
    return plugin, engine


def test_vst3_passes_notes_generates_and_plays_in_sync(plugin_and_engine, tmp_path):
    plugin, engine = plugin_and_engine
    names = [d["name"] for d in plugin.get_parameters_description()]
    for expected in ["Temperature", "Variations", "Length", "Tool", "Mode", "Interpolation steps",
                     "Playback", "Output channel", "Generate"]:
        assert expected in names

    plugin.set_parameter(param_index(plugin, "Preview synth"), 1.0)
    plugin.set_parameter(param_index(plugin, "Capture bars"), 0.0)  # 1 bar
    # 120 BPM: a beat is 0.5 s, a bar 2 s. C4 on beat 2, E4 on beat 3, in bar 1.
    plugin.add_midi_note(60, 100, 0.5, 0.25)
    plugin.add_midi_note(64, 100, 1.0, 0.25)
    seconds = 6.0
    generate = np.zeros(int(SAMPLE_RATE * seconds), dtype=np.float32)
    generate[int(SAMPLE_RATE * 2.05): int(SAMPLE_RATE * 2.2)] = 1.0
    plugin.set_automation(param_index(plugin, "Generate"), generate)
    engine.load_graph([(plugin, [])])
    engine.render(seconds)
    audio = plugin.get_audio()[0]

    # Pass-through, heard through the preview synth.
    hz, level = dominant_hz(audio, 0.55)
    assert level > 0.01 and abs(hz - midi_hz(60)) < 3, (hz, level)
    hz, _ = dominant_hz(audio, 1.05)
    assert abs(hz - midi_hz(64)) < 3, hz
    assert dominant_hz(audio, 1.5, 0.3)[1] < 1e-3

    # Wait (outside the render) until the engine has answered: its first job loads ONNX
    # Runtime and the model.
    state_file = tmp_path / "state.bin"
    deadline = time.time() + 60
    while True:
        plugin.save_state(str(state_file))
        session = json.loads(nice_plug_state(state_file.read_bytes())["fields"]["session"])
        if session["generated"] or time.time() > deadline:
            break
        time.sleep(0.2)
    assert session["generated"], "the engine produced nothing within 60 s"

    # Second render: no input, no trigger; the selected variation plays from the top.
    plugin.clear_midi()
    plugin.set_automation(param_index(plugin, "Generate"), np.zeros(16, dtype=np.float32))
    engine.render(seconds)
    audio = plugin.get_audio()[0]
    hz, level = dominant_hz(audio, 0.55)
    assert level > 0.01 and abs(hz - midi_hz(60)) < 3, (hz, level)
    hz, level = dominant_hz(audio, 1.05)
    assert level > 0.01 and abs(hz - midi_hz(64)) < 3, (hz, level)
    assert dominant_hz(audio, 0.1, 0.3)[1] < 1e-3
    # The continuation: whatever sounds is a note of the selected clip.
    selected = session["generated"][session["selected"]]
    later = [n for n in selected["notes"] if n["start"] >= 1920 and n["start"] < 3 * 1920]
    assert later, "the model continued with silence for two bars"
    for note in later[:6]:
        start_s = note["start"] / 480 * 0.5
        length_s = min(0.08, (note["end"] - note["start"]) / 480 * 0.5)
        hz, level = dominant_hz(audio, start_s + 0.01, length_s)
        assert level > 0.005 and abs(hz - midi_hz(note["pitch"])) < midi_hz(note["pitch"]) * 0.03 + 3, (note, hz, level)

    plugin.save_state(str(state_file))
    state = nice_plug_state(state_file.read_bytes())
    session = json.loads(state["fields"]["session"])
    assert len(session["generated"]) == 4, "four variations by default"
    for clip in session["generated"]:
        assert clip["bars"] == 5, "the captured bar plus four new ones"
        assert all(21 <= n["pitch"] <= 108 for n in clip["notes"])
    assert session["selected"] == 0

    # Reload: a fresh instance in a fresh engine loads the saved state and holds the same
    # parameters, inputs, clips and selection; saving it again gives the same state.
    engine2 = dawdreamer.RenderEngine(SAMPLE_RATE, 512)
    engine2.set_bpm(120)
    reloaded = engine2.make_plugin_processor("cadenza_reloaded", str(VST3))
    reloaded.load_state(str(state_file))
    state_file2 = tmp_path / "state2.bin"
    reloaded.save_state(str(state_file2))
    assert nice_plug_state(state_file2.read_bytes()) == state
    assert reloaded.get_parameter(param_index(reloaded, "Preview synth")) == 1.0
    # And it plays the restored selection from the top. (A first short render activates it and
    # starts its engine thread, which hands the restored clip to the player.)
    engine2.load_graph([(reloaded, [])])
    engine2.render(0.1)
    time.sleep(0.5)
    engine2.render(seconds)
    audio2 = reloaded.get_audio()[0]
    for start_s, pitch in [(0.55, 60), (1.05, 64)] + [(n["start"] / 960 + 0.01, n["pitch"]) for n in later[:3]]:
        hz, level = dominant_hz(audio2, start_s, 0.05)
        assert level > 0.005 and abs(hz - midi_hz(pitch)) < midi_hz(pitch) * 0.03 + 3, (start_s, pitch, hz, level)


JUCE_BASE64 = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"


def juce_base64_decode(text):
    """JUCE's MemoryBlock base64: '<size>.<chars>', 6 bits a char, packed little-endian."""
    size, chars = text.split(".", 1)
    out = bytearray(int(size))
    for i, ch in enumerate(chars):
        value = JUCE_BASE64.index(ch)
        for bit in range(6):
            pos = i * 6 + bit
            if value >> bit & 1 and pos // 8 < len(out):
                out[pos // 8] |= 1 << (pos % 8)
    return bytes(out)


def nice_plug_state(raw):
    """The plugin's own state (nice-plug's JSON) out of DawDreamer's JUCE VST3 state file."""
    xml = raw[raw.index(b"<?xml"):].decode("utf-8", "replace")
    component = xml.split("<IComponent>", 1)[1].split("</IComponent>", 1)[0]
    data = juce_base64_decode(component)
    return json.loads(data[data.index(b"{"): data.rindex(b"}") + 1])
