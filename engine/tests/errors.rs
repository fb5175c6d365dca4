//! Error paths: broken installations and unusable input give typed errors with useful messages,
//! never panics, and the engine keeps working afterwards.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use cadenza_engine::{Engine, EngineConfig, EngineError, Job, Mode, Tool};
use cadenza_music::{Clip, TimeSignature};
use common::*;
use sha2::{Digest, Sha256};

const MODEL: &str = "melody_rnn";

fn continue_job() -> Job {
    Job { tool: Tool::Continue, mode: Mode::Melody, variations: 2, bars: 1, inputs: vec![melody_a()], ..Job::default() }
}

/// A copy of the models folder holding only `MODEL`'s files, for tampering; the folder lives as
/// long as the returned `Scratch`.
fn copied_models(name: &str) -> (EngineConfig, serde_json::Value, Scratch) {
    let config = config();
    let dir = scratch(name);
    let text = std::fs::read_to_string(config.models_dir.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entry = manifest["models"].get(MODEL).unwrap_or_else(|| panic!("{MODEL} is not in the manifest yet"));
    for g in entry["graphs"].as_object().unwrap().values() {
        let file = g["file"].as_str().unwrap();
        std::fs::copy(config.models_dir.join(file), dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("manifest.json"), &text).unwrap();
    (EngineConfig { models_dir: dir.to_path_buf(), runtime_lib: config.runtime_lib }, manifest, dir)
}

fn step_file(manifest: &serde_json::Value) -> String {
    manifest["models"][MODEL]["graphs"]["step"]["file"].as_str().unwrap().to_string()
}

fn run_err(config: EngineConfig, job: &Job) -> EngineError {
    let mut e = Engine::new(config);
    e.run(job, &mut |_| {}, &AtomicBool::new(false)).unwrap_err()
}

#[test]
fn copied_models_work() {
    let (config, _, _dir) = copied_models("ok");
    let mut e = Engine::new(config);
    assert_eq!(run(&mut e, &continue_job()).unwrap().clips.len(), 2);
}

#[test]
fn checksum_mismatch() {
    let (config, manifest, _dir) = copied_models("checksum");
    let path = config.models_dir.join(step_file(&manifest));
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let e = run_err(config, &continue_job());
    assert!(matches!(e, EngineError::ChecksumMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("reinstall"), "{e}");
}

#[test]
fn corrupt_model_file() {
    let (config, mut manifest, _dir) = copied_models("corrupt");
    let file = step_file(&manifest);
    let garbage = b"this is not an ONNX model".repeat(10);
    std::fs::write(config.models_dir.join(&file), &garbage).unwrap();
    let sha: String = Sha256::digest(&garbage).iter().map(|b| format!("{b:02x}")).collect();
    manifest["models"][MODEL]["graphs"]["step"]["sha256"] = sha.into();
    std::fs::write(config.models_dir.join("manifest.json"), manifest.to_string()).unwrap();
    let e = run_err(config, &continue_job());
    assert!(matches!(e, EngineError::ModelCorrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("damaged"), "{e}");
}

#[test]
fn missing_model_file() {
    let (config, manifest, _dir) = copied_models("missing-file");
    std::fs::remove_file(config.models_dir.join(step_file(&manifest))).unwrap();
    let e = run_err(config, &continue_job());
    assert!(matches!(e, EngineError::ModelMissing { .. }), "{e:?}");
    assert!(e.to_string().contains("missing"), "{e}");
}

#[test]
fn model_not_in_manifest_and_no_manifest() {
    let (config, mut manifest, _dir) = copied_models("not-listed");
    manifest["models"].as_object_mut().unwrap().remove(MODEL);
    std::fs::write(config.models_dir.join("manifest.json"), manifest.to_string()).unwrap();
    let e = run_err(config.clone(), &continue_job());
    assert!(matches!(&e, EngineError::ModelMissing { model, .. } if model == MODEL), "{e:?}");
    assert!(e.to_string().contains("not installed"));

    std::fs::write(config.models_dir.join("manifest.json"), "{ not json").unwrap();
    let e = run_err(config.clone(), &continue_job());
    assert!(matches!(e, EngineError::ManifestInvalid { .. }), "{e:?}");

    std::fs::remove_file(config.models_dir.join("manifest.json")).unwrap();
    let e = run_err(config, &continue_job());
    assert!(matches!(e, EngineError::ModelMissing { .. }), "{e:?}");
}

#[test]
fn empty_input() {
    let mut e = engine_with(MODEL);
    let mut job = continue_job();
    job.inputs = vec![Clip::new(2, TimeSignature::FOUR_FOUR, false)];
    let err = run(&mut e, &job).unwrap_err();
    assert!(matches!(err, EngineError::EmptyInput(_)), "{err:?}");
    assert!(err.to_string().contains("no notes"));
    // Notes only past the clip's end count as empty too.
    let mut c = Clip::new(1, TimeSignature::FOUR_FOUR, false);
    c.notes.push(note(60, 20, 2));
    job.inputs = vec![c];
    assert!(matches!(run(&mut e, &job), Err(EngineError::EmptyInput(_))));
    // The engine keeps working.
    assert!(run(&mut e, &continue_job()).is_ok());
}

#[test]
fn non_four_four_input() {
    let mut e = engine_with(MODEL);
    let mut job = continue_job();
    job.inputs[0].time_signature = TimeSignature { numerator: 3, denominator: 4 };
    let err = run(&mut e, &job).unwrap_err();
    assert_eq!(err, EngineError::UnsupportedTimeSignature { numerator: 3, denominator: 4 });
    assert!(err.to_string().contains("3/4") && err.to_string().contains("4/4"));
    // Checked before any model is needed: no models folder at all still says 3/4.
    let bad = EngineConfig { models_dir: "/nonexistent".into(), runtime_lib: config().runtime_lib };
    assert!(matches!(run_err(bad, &job), EngineError::UnsupportedTimeSignature { .. }));
}

#[test]
fn polyphonic_melody_is_reduced_with_a_warning() {
    let mut e = engine_with(MODEL);
    let mut job = continue_job();
    let mut c = melody_a();
    // Add a chord under every other note.
    let extra: Vec<_> = c.notes.iter().step_by(2).map(|n| cadenza_music::Note { pitch: n.pitch - 7, ..*n }).collect();
    c.notes.extend(extra);
    c.sort();
    job.inputs = vec![c];
    let out = run(&mut e, &job).unwrap();
    assert_eq!(out.clips.len(), 2);
    assert!(out.warnings.iter().any(|w| w.contains("polyphonic input reduced to its top line")), "{:?}", out.warnings);
}

#[test]
fn invalid_requests() {
    let mut e = Engine::new(EngineConfig { models_dir: "/nonexistent".into(), runtime_lib: "/nonexistent".into() });
    let cases: Vec<(Job, &str)> = vec![
        (Job { bars: 0, ..continue_job() }, "bars"),
        (Job { temperature: f32::NAN, ..continue_job() }, "temperature"),
        (Job { temperature: -1.0, ..continue_job() }, "temperature"),
        (Job { variations: 0, ..continue_job() }, "variations"),
        (Job { variations: 17, ..continue_job() }, "variations"),
        (Job { tool: Tool::Interpolate, ..continue_job() }, "two input clips"),
        (
            Job { tool: Tool::Interpolate, interp_steps: 0, inputs: vec![melody_a(), melody_b()], ..continue_job() },
            "steps",
        ),
        (Job { inputs: vec![], ..continue_job() }, "one input"),
    ];
    for (job, words) in cases {
        let err = e.run(&job, &mut |_| {}, &AtomicBool::new(false)).unwrap_err();
        assert!(matches!(err, EngineError::InvalidRequest(_)), "{err:?}");
        assert!(err.to_string().contains(words), "{err} should mention {words}");
    }
    let mut huge = melody_a();
    huge.notes = (0..30_000).map(|i| note(60, i % 32, 1)).collect();
    let err = e.run(&Job { inputs: vec![huge], ..continue_job() }, &mut |_| {}, &AtomicBool::new(false)).unwrap_err();
    assert!(err.to_string().contains("notes"), "{err}");
}

#[test]
fn unused_inputs_are_ignored() {
    // The plugin may send input A (even an empty capture) along with Generate, and B with
    // Continue: neither is an error.
    let mut e = engine_with(MODEL);
    let empty = Clip::new(2, TimeSignature::FOUR_FOUR, false);
    let job = Job { inputs: vec![melody_a(), empty], ..continue_job() };
    assert_eq!(run(&mut e, &job).unwrap().clips.len(), 2);
}

#[test]
fn cancel_stops_a_job() {
    let mut e = engine_with(MODEL);
    let cancel = AtomicBool::new(true);
    let err = e.run(&Job { bars: 8, ..continue_job() }, &mut |_| {}, &cancel).unwrap_err();
    assert_eq!(err, EngineError::Cancelled);
    assert!(run(&mut e, &continue_job()).is_ok());
}

#[test]
fn is_available_reads_the_manifest() {
    let config = config();
    let e = Engine::new(config);
    assert!(e.is_available(Tool::Continue, Mode::Melody));
    let none = Engine::new(EngineConfig { models_dir: Path::new("/nonexistent").into(), runtime_lib: "/x".into() });
    assert!(!none.is_available(Tool::Continue, Mode::Melody));
}
