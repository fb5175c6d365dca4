//! The CLAP and VST3 runs: one scenario, two hosts.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::clap_host::{ClapInput, ClapInstance};
use crate::vst3_host::{Vst3Input, Vst3Instance, Vst3Output, REALTIME};
use crate::win;

pub(crate) const RATE: f64 = 48_000.0;
/// 120 BPM at 48 kHz.
const BEAT: u32 = 24_000;
const BLOCK: u32 = 480;
/// One bar of quarter notes, C D E F, each half a beat long: the phrase Continue gets.
const PHRASE: [(u32, i16); 4] = [(0, 60), (1, 62), (2, 64), (3, 65)];

/// A played note: (sample from the start of the pass, key, on).
type Played = (i64, i16, bool);

/// What the scenario needs from a host.
pub(crate) trait Host {
    fn param(&self, name: &str) -> Result<u32, String>;
    /// One block at the current song position; `notes` are (offset, key, on), `params`
    /// (id, plain value).
    fn block(&mut self, notes: &[(u32, i16, bool)], params: &[(u32, f64)]);
    fn set_transport(&mut self, playing: bool, position: i64);
    /// Plays `blocks` blocks from the top and returns the notes that came out.
    fn pass(&mut self, blocks: u32) -> Vec<Played>;
}

impl Host for ClapInstance {
    fn param(&self, name: &str) -> Result<u32, String> {
        self.param_id(name).ok_or(format!("no parameter {name:?}"))
    }
    fn block(&mut self, notes: &[(u32, i16, bool)], params: &[(u32, f64)]) {
        let mut events: Vec<ClapInput> =
            params.iter().map(|&(id, value)| ClapInput::Param { time: 0, id, value }).collect();
        events.extend(notes.iter().map(|&(time, key, on)| ClapInput::Note {
            time,
            key,
            velocity: if on { 0.8 } else { 0.0 },
            on,
        }));
        self.process(BLOCK, &events);
    }
    fn set_transport(&mut self, playing: bool, position: i64) {
        self.playing = playing;
        self.pos_samples = position;
    }
    fn pass(&mut self, blocks: u32) -> Vec<Played> {
        self.set_transport(true, 0);
        self.output.clear();
        for _ in 0..blocks {
            self.process(BLOCK, &[]);
        }
        self.output.iter().map(|n| (n.sample, n.key, n.on)).collect()
    }
}

impl Host for Vst3Instance {
    fn param(&self, name: &str) -> Result<u32, String> {
        self.param_id(name).ok_or(format!("no parameter {name:?}"))
    }
    fn block(&mut self, notes: &[(u32, i16, bool)], params: &[(u32, f64)]) {
        let mut inputs: Vec<Vst3Input> = params
            .iter()
            .map(|&(id, plain)| Vst3Input::Param { offset: 0, id, value: self.plain_to_normalized(id, plain) })
            .collect();
        inputs.extend(notes.iter().map(|&(offset, pitch, on)| Vst3Input::Note {
            offset: offset as i32,
            channel: 0,
            pitch,
            velocity: if on { 0.8 } else { 0.0 },
            on,
        }));
        self.process(BLOCK as i32, REALTIME, &inputs);
    }
    fn set_transport(&mut self, playing: bool, position: i64) {
        self.playing = playing;
        self.pos_samples = position;
    }
    fn pass(&mut self, blocks: u32) -> Vec<Played> {
        self.set_transport(true, 0);
        self.output.clear();
        let start = self.steady_time;
        for _ in 0..blocks {
            self.process(BLOCK as i32, REALTIME, &[]);
        }
        self.output
            .iter()
            .filter_map(|e| match *e {
                Vst3Output::NoteOn { sample, pitch, .. } => Some((sample - start, pitch, true)),
                Vst3Output::NoteOff { sample, pitch, .. } => Some((sample - start, pitch, false)),
                _ => None,
            })
            .collect()
    }
}

/// A button press: the parameter goes to 1 and back to 0 (transport stopped).
fn press(host: &mut impl Host, id: u32) {
    host.set_transport(false, 0);
    host.block(&[], &[(id, 1.0)]);
    host.block(&[], &[(id, 0.0)]);
}

/// Plays two bars (400 blocks) from the top until `done` accepts what came out and the next pass
/// plays exactly the same, at most 90 s (the first job loads ONNX Runtime and a model). The
/// seconds are until the first accepted pass. Why the repeat: a job that finishes in the middle
/// of a pass (Wine on a loaded machine) makes that pass hold only the end of the result, and
/// comparing such a pass with a whole one made the restore check fail without a plugin fault.
fn play_until(
    host: &mut impl Host,
    what: &str,
    done: impl Fn(&[Played]) -> bool,
) -> Result<(Vec<Played>, f64), String> {
    let started = Instant::now();
    let mut first_accepted = None;
    let mut last: Option<Vec<Played>> = None;
    loop {
        let played = host.pass(400);
        let events = played.len();
        if done(&played) {
            let seconds = *first_accepted.get_or_insert(started.elapsed().as_secs_f64());
            if last.as_ref() == Some(&played) {
                return Ok((played, seconds));
            }
            last = Some(played);
        } else {
            last = None;
            std::thread::sleep(Duration::from_millis(20));
        }
        if started.elapsed() > Duration::from_secs(90) {
            return Err(match first_accepted {
                None => format!("{what}: no new notes within 90 s (last pass: {events} events)"),
                Some(_) => format!("{what}: two passes in a row never played the same within 90 s"),
            });
        }
    }
}

fn onsets(played: &[Played]) -> Vec<(i64, i16)> {
    played.iter().filter(|n| n.2).map(|n| (n.0, n.1)).collect()
}

/// Continue: capture the phrase (Capture bars = 1), press Generate, hear the variation start
/// with the captured bar.
pub(crate) fn continue_melody(host: &mut impl Host) -> Result<(Vec<Played>, f64), String> {
    let bars = host.param("Capture bars")?;
    let tool = host.param("Tool")?;
    let mode = host.param("Mode")?;
    let generate = host.param("Generate")?;
    host.set_transport(true, 0);
    // Tool = Continue (0), Mode = Melody (0), one bar of input.
    host.block(&[], &[(tool, 0.0), (mode, 0.0), (bars, 1.0)]);
    host.set_transport(true, 0);
    for block in 0..200u32 {
        let start = block * BLOCK;
        let mut notes = Vec::new();
        for (beat, key) in PHRASE {
            let on = beat * BEAT;
            let off = on + BEAT / 2;
            if (start..start + BLOCK).contains(&on) {
                notes.push((on - start, key, true));
            }
            if (start..start + BLOCK).contains(&off) {
                notes.push((off - start, key, false));
            }
        }
        host.block(&notes, &[]);
    }
    press(host, generate);
    let (played, seconds) = play_until(host, "Continue", |p| !p.is_empty())?;
    let first: Vec<(i64, i16)> = onsets(&played).into_iter().take(4).collect();
    let expected: Vec<(i64, i16)> = PHRASE.iter().map(|&(beat, key)| ((beat * BEAT) as i64, key)).collect();
    if first != expected {
        return Err(format!("Continue does not start with the captured phrase: {first:?}"));
    }
    if !onsets(&played).iter().all(|&(_, key)| (21..=108).contains(&key)) {
        return Err("Continue played a note outside the piano range".into());
    }
    Ok((played, seconds))
}

/// Generate, drums: a new batch replaces the melody; its notes come out.
fn generate_drums(host: &mut impl Host, before: &[Played]) -> Result<(Vec<Played>, f64), String> {
    let tool = host.param("Tool")?;
    let mode = host.param("Mode")?;
    let generate = host.param("Generate")?;
    host.set_transport(false, 0);
    // Tool = Generate (1), Mode = Drums (1).
    host.block(&[], &[(tool, 1.0), (mode, 1.0)]);
    press(host, generate);
    let (played, seconds) = play_until(host, "Generate (drums)", |p| !p.is_empty() && p != before)?;
    if onsets(&played).len() < 4 {
        return Err(format!("Generate (drums) played only {} notes", onsets(&played).len()));
    }
    Ok((played, seconds))
}

/// The `onnxruntime.dll` this process loaded, which must be `expected`.
fn check_runtime(expected: &Path) -> Result<String, String> {
    let loaded = win::loaded_module("onnxruntime.dll").ok_or("no onnxruntime.dll is loaded")?;
    if !win::same_file(&loaded, expected) {
        return Err(format!("loaded {} instead of the bundle's {}", loaded.display(), expected.display()));
    }
    Ok(loaded.display().to_string())
}

fn counts(played: &[Played]) -> (usize, usize) {
    (played.iter().filter(|n| n.2).count(), played.iter().filter(|n| !n.2).count())
}

pub fn clap(path: &str) -> Result<String, String> {
    let path = PathBuf::from(path);
    let started = Instant::now();
    let mut plugin = ClapInstance::load(&path)?;
    if plugin.plugin_id != "app.cadenza.midi-tools" {
        return Err(format!("unexpected plugin id {}", plugin.plugin_id));
    }
    if !plugin.activate(RATE, 4096) {
        return Err("activate failed".into());
    }
    // Passthrough at the right sample.
    plugin.playing = false;
    plugin.process(256, &[ClapInput::Note { time: 17, key: 50, velocity: 0.8, on: true }]);
    let passed: Vec<_> = plugin.output.iter().map(|n| (n.sample, n.key, n.on)).collect();
    if passed != vec![(17, 50, true)] {
        return Err(format!("MIDI did not pass through: {passed:?}"));
    }
    plugin.process(256, &[ClapInput::Note { time: 0, key: 50, velocity: 0.0, on: false }]);

    let (melody, melody_s) = continue_melody(&mut plugin)?;
    let (drums, drums_s) = generate_drums(&mut plugin, &melody)?;
    let stem = path.file_stem().ok_or("no file stem")?;
    let runtime = check_runtime(&path.with_file_name(stem).join("onnxruntime.dll"))?;

    let state = plugin.save_state().ok_or("save_state failed")?;
    drop(plugin);
    let mut restored = ClapInstance::load(&path)?;
    if !restored.activate(RATE, 4096) || !restored.load_state(&state) {
        return Err("the restored instance did not take the state".into());
    }
    if restored.save_state().as_deref() != Some(&state[..]) {
        return Err("the state changed in a save/load round trip".into());
    }
    let (replayed, _) = play_until(&mut restored, "restored", |p| !p.is_empty())?;
    if replayed != drums {
        return Err("the restored instance plays something else".into());
    }
    Ok(json!({
        "format": "clap",
        "continue": { "note_ons": counts(&melody).0, "note_offs": counts(&melody).1, "seconds_to_notes": melody_s },
        "generate_drums": { "note_ons": counts(&drums).0, "note_offs": counts(&drums).1, "seconds_to_notes": drums_s },
        "state_bytes": state.len(),
        "state_restored": true,
        "runtime": runtime,
        "seconds": started.elapsed().as_secs_f64(),
    })
    .to_string())
}

static FACTORY_FN: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// `GetPluginFactory()` of the loaded VST3 DLL (a new reference per call).
pub fn vst3_factory() -> *mut c_void {
    let f = FACTORY_FN.load(Ordering::SeqCst);
    if f.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: the export's signature, stored by `load_vst3`.
    let get: unsafe extern "system" fn() -> *mut c_void = unsafe { std::mem::transmute(f) };
    unsafe { get() }
}

/// Loads `<bundle>/Contents/x86_64-win/Cadenza.vst3`, calls `InitDll` and keeps the library
/// loaded for the process.
fn load_vst3(bundle: &Path) -> Result<PathBuf, String> {
    let dll = bundle.join("Contents").join("x86_64-win").join("Cadenza.vst3");
    // SAFETY: loading the plugin is what this host is for.
    let library =
        unsafe { libloading::Library::new(&dll) }.map_err(|e| format!("LoadLibrary {}: {e}", dll.display()))?;
    unsafe {
        if let Ok(init) = library.get::<unsafe extern "system" fn() -> bool>(b"InitDll\0") {
            if !init() {
                return Err("InitDll failed".into());
            }
        }
        let get = library
            .get::<unsafe extern "system" fn() -> *mut c_void>(b"GetPluginFactory\0")
            .map_err(|e| format!("no GetPluginFactory: {e}"))?;
        FACTORY_FN.store(*get as *mut c_void, Ordering::SeqCst);
    }
    std::mem::forget(library);
    Ok(dll)
}

pub fn vst3(bundle: &str) -> Result<String, String> {
    let bundle = PathBuf::from(bundle);
    let started = Instant::now();
    let dll = load_vst3(&bundle)?;
    let mut plugin = Vst3Instance::new()?;
    plugin.start(RATE, BLOCK as i32, REALTIME)?;
    let (melody, melody_s) = continue_melody(&mut plugin)?;
    let (drums, drums_s) = generate_drums(&mut plugin, &melody)?;
    let runtime = check_runtime(&dll.with_file_name("onnxruntime.dll"))?;

    let state = plugin.get_state().ok_or("getState failed")?;
    drop(plugin);
    let mut restored = Vst3Instance::new()?;
    restored.start(RATE, BLOCK as i32, REALTIME)?;
    if !restored.set_state(&state) {
        return Err("setState failed".into());
    }
    if restored.get_state().as_deref() != Some(&state[..]) {
        return Err("the state changed in a setState/getState round trip".into());
    }
    let (replayed, _) = play_until(&mut restored, "restored", |p| !p.is_empty())?;
    if replayed != drums {
        return Err("the restored instance plays something else".into());
    }
    Ok(json!({
        "format": "vst3",
        "class": restored.class_name,
        "continue": { "note_ons": counts(&melody).0, "note_offs": counts(&melody).1, "seconds_to_notes": melody_s },
        "generate_drums": { "note_ons": counts(&drums).0, "note_offs": counts(&drums).1, "seconds_to_notes": drums_s },
        "state_bytes": state.len(),
        "state_restored": true,
        "runtime": runtime,
        "seconds": started.elapsed().as_secs_f64(),
    })
    .to_string())
}

/// Only asks the factory for an instance: `created` or the failure, never an abort.
pub fn vst3_create(bundle: &str) -> Result<String, String> {
    load_vst3(Path::new(bundle))?;
    let created = Vst3Instance::new();
    Ok(json!({ "created": created.is_ok(), "error": created.err() }).to_string())
}
