//! Loads the built `target/bundled/Cadenza.clap` in a real (small) CLAP host: the binary a DAW
//! loads, through `clap_entry`, the factory, activate/process and the state extension.
//! Build it first with `cargo xtask bundle cadenza --release` (`cargo xtask test` does).

use std::time::{Duration, Instant};

use cadenza_tests::clap_host::{bundle_dir, ClapInput, ClapInstance};

fn load() -> ClapInstance {
    let path = bundle_dir().join("Cadenza.clap");
    assert!(path.is_file(), "{} is missing: run `cargo xtask bundle cadenza --release` first", path.display());
    ClapInstance::load(&path).unwrap()
}

fn note(time: u32, key: i16, on: bool) -> ClapInput {
    ClapInput::Note { time, key, velocity: if on { 0.8 } else { 0.0 }, on }
}

/// Records a one-bar phrase and presses Generate; waits for the generated clip to play.
fn record_and_generate(plugin: &mut ClapInstance) {
    let generate = plugin.param_id("Generate").expect("a Generate parameter");
    let bars = plugin.param_id("Capture bars").expect("a Capture bars parameter");
    // 48 kHz, 120 BPM: one beat = 24000 samples; blocks of 480 samples.
    let phrase = [(0u32, 60i16), (1, 62), (2, 64), (3, 65)];
    plugin.playing = true;
    plugin.process(480, &[ClapInput::Param { time: 0, id: bars, value: 1.0 }]);
    plugin.pos_samples = 0;
    for block in 0..200u32 {
        let start = block * 480;
        let mut events = Vec::new();
        for (beat, key) in phrase {
            let on = beat * 24_000;
            let off = on + 12_000;
            if (start..start + 480).contains(&on) {
                events.push(note(on - start, key, true));
            }
            if (start..start + 480).contains(&off) {
                events.push(note(off - start, key, false));
            }
        }
        plugin.process(480, &events);
    }
    plugin.playing = false;
    plugin.process(480, &[ClapInput::Param { time: 0, id: generate, value: 1.0 }]);
    plugin.process(480, &[ClapInput::Param { time: 0, id: generate, value: 0.0 }]);
}

/// Plays two bars from the top (after waiting until the engine's clip has arrived).
fn play_two_bars(plugin: &mut ClapInstance) -> Vec<(i64, i16, bool)> {
    // Generous: the first job loads ONNX Runtime and the model.
    let deadline = Instant::now() + Duration::from_secs(60);
    plugin.playing = true;
    let mut pass = || {
        plugin.pos_samples = 0;
        plugin.output.clear();
        for _ in 0..400 {
            plugin.process(480, &[]);
        }
        plugin.output.iter().map(|n| (n.sample, n.key, n.on)).collect::<Vec<_>>()
    };
    while pass().is_empty() {
        assert!(Instant::now() < deadline, "nothing played within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    pass()
}

#[test]
fn the_clap_bundle_loads_passes_midi_generates_and_restores_state() {
    let mut plugin = load();
    assert_eq!(plugin.plugin_name, "Cadenza");
    assert_eq!(plugin.plugin_id, "app.cadenza.midi-tools");
    assert!(plugin.activate(48_000.0, 4096));

    // Passthrough at the right sample.
    plugin.playing = false;
    plugin.process(256, &[note(17, 50, true), note(200, 50, false)]);
    let passed: Vec<_> = plugin.output.iter().map(|n| (n.sample, n.key, n.on)).collect();
    assert_eq!(passed, vec![(17, 50, true), (200, 50, false)]);

    // Capture, Continue with the real models, and play in sync: the variation starts with the
    // captured bar, then the model's own bars follow.
    plugin.output.clear();
    record_and_generate(&mut plugin);
    let played = play_two_bars(&mut plugin);
    let onsets: Vec<_> = played.iter().filter(|n| n.2).map(|n| (n.0, n.1)).collect();
    assert_eq!(onsets[..4], [(0, 60), (24_000, 62), (48_000, 64), (72_000, 65)], "{onsets:?}");
    assert!(onsets.iter().all(|&(_, key)| (21..=108).contains(&key)));

    // Save, load into a fresh instance, and hear the same thing.
    let state = plugin.save_state().expect("state saved");
    let text = String::from_utf8_lossy(&state);
    assert!(text.contains("\"session\""), "the session is in the state: {text}");
    let json: serde_json::Value = serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap();
    let session: serde_json::Value = serde_json::from_str(json["fields"]["session"].as_str().unwrap()).unwrap();
    assert_eq!(session["generated"].as_array().unwrap().len(), 4, "four variations by default");
    drop(plugin);

    let mut restored = load();
    assert!(restored.activate(48_000.0, 4096));
    assert!(restored.load_state(&state));
    assert_eq!(restored.save_state().unwrap(), state, "state is identical after a round trip");
    let replayed = play_two_bars(&mut restored);
    assert_eq!(replayed, played);
}

#[test]
fn the_clap_bundle_survives_reactivation_and_odd_block_sizes() {
    let mut plugin = load();
    for (rate, block) in [(44_100.0, 1u32), (96_000.0, 4096), (22_050.0, 511), (192_000.0, 64)] {
        assert!(plugin.activate(rate, 4096));
        for i in 0..20 {
            plugin.process(block, &[note(0, 40 + (i % 5) as i16, i % 2 == 0)]);
        }
        plugin.deactivate();
    }
}
