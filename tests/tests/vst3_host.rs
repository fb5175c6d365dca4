//! Cadenza's VST3 side through a real (in-process) VST3 host: what Ardour, pedalboard and other
//! VST3 hosts do around project loads, parameter queries and MIDI controllers (issue 13).
//!
//! MIDI controllers reach a VST3 plugin only as parameter changes of the stand-in parameters it
//! maps with `IMidiMapping`. Hosts also re-read every parameter after loading state and send the
//! values back; that must never turn into MIDI that nobody played.

use cadenza_tests::vst3_host::*;
use nice_plug::prelude::Plugin;

const SAMPLE_RATE: f64 = 48_000.0;
const BLOCK: i32 = 512;

/// The controllers Cadenza maps per channel (vendor/nice-plug/src/wrapper/vst3/util.rs).
const MAPPED: [i16; 11] = [1, 2, 4, 7, 10, 11, 64, 66, 67, CTRL_CHANNEL_PRESSURE, CTRL_PITCH_BEND];
/// 16 channels x 11 controllers.
const MIDI_STAND_INS: usize = 16 * MAPPED.len();

/// Cadenza's own parameters: what the CLAP wrapper exposes, all of them (14 today).
fn own_params() -> usize {
    cadenza::Cadenza::default().params().param_map().len()
}

fn started() -> Vst3Instance {
    let mut host = Vst3Instance::new().expect("create the VST3 component");
    host.start(SAMPLE_RATE, BLOCK, REALTIME).expect("start processing");
    host
}

fn param(host: &Vst3Instance, title: &str) -> u32 {
    host.param_id(title).unwrap_or_else(|| panic!("no parameter titled {title:?}"))
}

fn cc(host: &Vst3Instance, channel: i16, controller: i16) -> u32 {
    host.midi_assignment(channel, controller)
        .unwrap_or_else(|| panic!("controller {controller} on channel {channel} is not mapped"))
}

fn set(id: u32, value: f64) -> Vst3Input {
    Vst3Input::Param { offset: 0, id, value }
}

#[test]
fn an_ardour_style_session_reload_sends_no_midi_and_asks_the_host_to_reread() {
    let mut host = started();
    let sustain = cc(&host, 0, 64);
    let mod_wheel = cc(&host, 2, 1);
    let bend = cc(&host, 0, CTRL_PITCH_BEND);

    // Some playing first: notes, a held sustain pedal, the mod wheel half up on channel 3, a bend.
    host.process(BLOCK, REALTIME, &[vst3_note_on(60, 100), set(sustain, 1.0), set(mod_wheel, 64.0 / 127.0)]);
    host.process(BLOCK, REALTIME, &[vst3_note_off(60), set(bend, 0.75)]);
    for _ in 0..4 {
        host.process(BLOCK, REALTIME, &[]);
    }
    assert_eq!(host.controllers().len(), 3, "the played controllers came out: {:?}", host.controllers());
    host.output.clear();

    // Save and reopen the session.
    let state = host.get_state().expect("getState");
    host.clear_restarts();
    assert!(host.set_state(&state), "setState");
    assert!(
        host.restarts().iter().any(|flags| flags & PARAM_VALUES_CHANGED != 0),
        "setState must ask the host to re-read the parameter values (restartComponent(kParamValuesChanged)), got {:?}",
        host.restarts()
    );

    // Ardour: read every parameter and send every value back in the next process() calls.
    let everything: Vec<Vst3Input> = host.parameters().iter().map(|p| set(p.id, host.param_normalized(p.id))).collect();
    println!("re-sending {} parameter values", everything.len());
    assert!(everything.len() < 1024, "more values than nice-plug's input event buffer holds");
    host.process(BLOCK, REALTIME, &everything);
    // Some hosts send them once more a few blocks later, in smaller batches.
    for batch in everything.chunks(64) {
        host.process(BLOCK, REALTIME, batch);
    }
    host.process(BLOCK, REALTIME, &[]);

    assert_eq!(host.output, vec![], "no MIDI that nobody played");
    assert_eq!(host.process_allocations, 0, "process() allocated");
    assert_eq!(host.process_errors, 0);
    // The held controllers are still what the host sees.
    assert_eq!(host.param_normalized(sustain), 1.0);
    assert_eq!(host.param_normalized(bend), 0.75);
}

#[test]
fn a_fresh_instance_reports_resting_controllers_and_a_reread_is_silent() {
    let mut host = started();
    let all: Vec<Vst3Input> = host.parameters().iter().map(|p| set(p.id, host.param_normalized(p.id))).collect();
    for info in host.parameters().iter().filter(|p| p.is_hidden()) {
        let expected = if info.title.contains("Pitch bend") { 0.5 } else { 0.0 };
        assert_eq!(host.param_normalized(info.id), expected, "{}", info.title);
        assert_eq!(info.default_normalized, expected, "{}", info.title);
    }
    host.process(BLOCK, REALTIME, &all);
    assert_eq!(host.output, vec![]);
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn the_vst3_parameter_count_is_small_and_clap_is_unaffected() {
    let host = Vst3Instance::new().expect("create the VST3 component");
    let count = host.parameter_count() as usize;
    let params = host.parameters();
    let own = params.iter().filter(|p| !p.is_hidden()).count();
    let stand_ins: Vec<_> = params.iter().filter(|p| p.is_hidden()).collect();
    println!(
        "VST3 parameters: {count} ({own} Cadenza parameters + {} MIDI controller stand-ins); before: 2094",
        stand_ins.len()
    );
    // The CLAP wrapper exposes exactly the plugin's own parameters; VST3 adds the stand-ins.
    let clap_count = own_params();
    println!("CLAP parameters: {clap_count}");
    assert_eq!(own, clap_count);
    assert_eq!(stand_ins.len(), MIDI_STAND_INS);
    assert_eq!(count, clap_count + MIDI_STAND_INS);
    assert!(host.parameter_info(count as i32).is_none(), "getParameterInfo(count) is out of range");

    // Unique ids, hidden and read-only, named the way JUCE names its MIDI stand-ins ("MIDI CC
    // <channel>|<controller>") so hosts that know the convention leave them out of their lists.
    let mut ids: Vec<u32> = params.iter().map(|p| p.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "parameter ids are unique");
    for p in &stand_ins {
        assert!(p.is_read_only() && p.title.starts_with("MIDI CC "), "{p:?}");
    }
    let sustain = cc(&host, 0, 64);
    let info = params.iter().find(|p| p.id == sustain).unwrap();
    assert_eq!(info.title, "MIDI CC 0|64 (Ch. 1 Sustain)");
    assert_eq!(info.step_count, 127);
    let bend = params.iter().find(|p| p.id == cc(&host, 15, CTRL_PITCH_BEND)).unwrap();
    assert_eq!(bend.title, "MIDI CC 15|129 (Ch. 16 Pitch bend)");
    assert_eq!(bend.step_count, 16383);

    // The mapping covers exactly the played controllers on every channel, and only ids that exist.
    for channel in 0..16 {
        for controller in 0..130i16 {
            let assigned = host.midi_assignment(channel, controller);
            assert_eq!(assigned.is_some(), MAPPED.contains(&controller), "channel {channel} controller {controller}");
            if let Some(id) = assigned {
                assert!(params.iter().any(|p| p.id == id));
            }
        }
    }
    assert_eq!(host.midi_assignment(16, 64), None);

    // Strings show the MIDI value and parse back.
    assert_eq!(host.param_string(sustain, 1.0).as_deref(), Some("127"));
    assert_eq!(host.param_string(sustain, 64.0 / 127.0).as_deref(), Some("64"));
    assert_eq!(host.param_string(bend.id, 0.5).as_deref(), Some("0"));
    assert_eq!(host.param_string(bend.id, 0.0).as_deref(), Some("-8192"));
    assert_eq!(host.param_value_from_string(sustain, "127"), Some(1.0));
    assert_eq!(host.param_value_from_string(bend.id, "-8192"), Some(0.0));
    assert_eq!(host.plain_to_normalized(sustain, 127.0), 1.0);
}

#[test]
fn played_controllers_and_notes_pass_through() {
    let mut host = started();
    let sustain = cc(&host, 0, 64);
    let bend = cc(&host, 1, CTRL_PITCH_BEND);
    let expression = cc(&host, 0, 11);

    host.process(BLOCK, REALTIME, &[vst3_note_on(64, 90), set(sustain, 1.0)]);
    host.process(BLOCK, REALTIME, &[Vst3Input::Param { offset: 100, id: bend, value: 12288.0 / 16383.0 }]);
    host.process(BLOCK, REALTIME, &[vst3_note_off(64), set(bend, 8192.0 / 16383.0)]);
    // The pedal again at the same value (a host re-send, not a gesture), then released.
    host.process(BLOCK, REALTIME, &[set(sustain, 1.0)]);
    host.process(BLOCK, REALTIME, &[Vst3Input::Param { offset: 7, id: sustain, value: 0.0 }]);
    // Expression swell within one block.
    host.process(
        BLOCK,
        REALTIME,
        &[
            Vst3Input::Param { offset: 0, id: expression, value: 40.0 / 127.0 },
            Vst3Input::Param { offset: 200, id: expression, value: 90.0 / 127.0 },
        ],
    );

    let b = BLOCK as i64;
    let controller =
        |sample, channel, number, value, value2| Vst3Output::Controller { sample, channel, number, value, value2 };
    assert_eq!(
        host.output,
        vec![
            controller(0, 0, 64, 127, 0),
            Vst3Output::NoteOn { sample: 0, channel: 0, pitch: 64, velocity: 90.0 / 127.0 },
            controller(b + 100, 1, 129, 0, 96), // 12288 = 96 << 7
            controller(2 * b, 1, 129, 0, 64),   // centre
            Vst3Output::NoteOff { sample: 2 * b, channel: 0, pitch: 64 },
            controller(4 * b + 7, 0, 64, 0, 0),
            controller(5 * b, 0, 11, 40, 0),
            controller(5 * b + 200, 0, 11, 90, 0),
        ]
    );
    assert_eq!(host.process_allocations, 0);
    // The host reads back the last value it sent (kept as an f32).
    assert!((host.param_normalized(expression) - 90.0 / 127.0).abs() < 1e-6);
}

#[test]
fn set_state_loads_the_temperature_the_host_then_reads() {
    let mut host = started();
    let temperature = param(&host, "Temperature");
    let loaded = host.plain_to_normalized(temperature, 0.42);
    host.process(BLOCK, REALTIME, &[set(temperature, loaded)]);
    assert!((host.param_normalized(temperature) - loaded).abs() < 1e-6);
    let state = host.get_state().expect("getState");

    // Back to 1.0, then load the saved state (a `.vstpreset` load, or undo in a host).
    host.process(BLOCK, REALTIME, &[set(temperature, host.plain_to_normalized(temperature, 1.0))]);
    assert!((host.param_normalized(temperature) - 0.5).abs() < 1e-6);
    host.clear_restarts();
    assert!(host.set_state(&state));
    assert!((host.param_normalized(temperature) - loaded).abs() < 1e-6, "got {}", host.param_normalized(temperature));
    assert_eq!(host.param_string(temperature, host.param_normalized(temperature)).as_deref(), Some("0.42"));
    assert!(host.restarts().iter().any(|flags| flags & PARAM_VALUES_CHANGED != 0));

    // A fresh instance (pedalboard loading a preset) reads the loaded value too.
    let fresh = Vst3Instance::new().unwrap();
    fresh.clear_restarts();
    assert!(fresh.set_state(&state));
    assert!((fresh.param_normalized(temperature) - loaded).abs() < 1e-6);
    assert!(fresh.restarts().iter().any(|flags| flags & PARAM_VALUES_CHANGED != 0));
}

#[test]
fn a_block_marked_offline_waits_for_the_engine_even_when_setup_said_realtime() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !root.join("target/onnxruntime/libonnxruntime.so.1.31.1").is_file()
        || !root.join("models/manifest.json").is_file()
    {
        eprintln!("skipped: no ONNX Runtime in target/onnxruntime (cargo xtask fetch-ort) or no models/");
        return;
    }
    let bar = (SAMPLE_RATE * 2.0) as i64; // 4/4 at 120 BPM
    let mut host = Vst3Instance::new().unwrap();
    host.start(SAMPLE_RATE, 2 * bar as i32, REALTIME).unwrap();
    let settings = [
        set(param(&host, "Capture bars"), host.plain_to_normalized(param(&host, "Capture bars"), 1.0)),
        set(param(&host, "Length"), host.plain_to_normalized(param(&host, "Length"), 2.0)),
        set(param(&host, "Variations"), host.plain_to_normalized(param(&host, "Variations"), 1.0)),
    ];
    host.playing = false;
    host.process(64, REALTIME, &settings);
    host.playing = true;

    // C D E F as quarter notes in bar 1 (Ardour's export renders in realtime-sized blocks).
    let beat = bar / 4;
    let phrase: Vec<(i64, Vst3Input)> = [60i16, 62, 64, 65]
        .iter()
        .enumerate()
        .flat_map(|(i, &p)| [(i as i64 * beat, vst3_note_on(p, 100)), (i as i64 * beat + beat / 2, vst3_note_off(p))])
        .collect();
    host.run(bar - beat / 4, BLOCK, OFFLINE, &phrase);
    let played_in = host.output.iter().filter(|e| matches!(e, Vst3Output::NoteOn { .. })).count();
    assert_eq!(played_in, 4);

    // Press Generate in an export block; the very next block (two bars, the whole clip) must
    // already play the result: only `processMode` said offline.
    let generate = param(&host, "Generate");
    host.process(BLOCK, OFFLINE, &[set(generate, 1.0)]);
    let before = host.output.len();
    host.process(2 * bar as i32, OFFLINE, &[set(generate, 0.0)]);
    let generated = host.output[before..].iter().filter(|e| matches!(e, Vst3Output::NoteOn { .. })).count();
    assert!(generated > 0, "the offline block did not wait for the engine: {:?}", &host.output[before..]);
    assert_eq!(host.process_errors, 0);
}

#[test]
fn the_host_sees_the_plugin_like_a_daw_does() {
    let host = Vst3Instance::new().unwrap();
    assert_eq!(host.class_name, cadenza::Cadenza::NAME);
    assert!(host.midi_mapping.is_some());
}
