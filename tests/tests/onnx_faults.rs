//! Installation faults with the real engine: the plugin reports them, keeps passing MIDI, and a
//! retry works once the fault is fixed. (Its own test binary: it changes environment variables.)

use std::time::Duration;

use cadenza::messages::{JobError, WorkerEvent};
use cadenza_engine::EngineError;
use cadenza_tests::{note_off, note_on, set_param, Host};

fn press_generate(host: &mut Host) -> WorkerEvent {
    host.press_generate(Duration::from_secs(60))
}

#[test]
fn missing_runtime_missing_or_damaged_models_are_reported_and_a_retry_works_after_the_fix() {
    let mut host = Host::new_onnx(48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    host.playing = true;
    host.run(
        24_000,
        256,
        &[(0, note_on(60, 100)), (6_000, note_off(60)), (12_000, note_on(64, 100)), (18_000, note_off(64))],
    );
    host.playing = false;

    // 1. No ONNX Runtime library where the engine looks.
    std::env::set_var("CADENZA_ORT_LIB", "/nonexistent/libonnxruntime.so.1.31.1");
    let event = press_generate(&mut host);
    std::env::remove_var("CADENZA_ORT_LIB");
    let WorkerEvent::Failed { error, .. } = event else { panic!("{event:?}") };
    assert!(matches!(error, JobError::Engine(EngineError::RuntimeMissing { .. })), "{error:?}");
    assert!(error.needs_reinstall(), "the panel must say: reinstall");
    assert!(error.to_string().contains("ONNX Runtime was not found"), "{error}");

    // 2. No models where the engine looks.
    let empty = std::env::temp_dir().join(format!("cadenza-no-models-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::env::set_var("CADENZA_MODELS_DIR", &empty);
    let event = press_generate(&mut host);
    let WorkerEvent::Failed { error, .. } = event else { panic!("{event:?}") };
    assert!(
        matches!(error, JobError::Engine(EngineError::ModelMissing { .. } | EngineError::ManifestInvalid { .. })),
        "{error:?}"
    );
    assert!(error.needs_reinstall());

    // MIDI still flows while the engine is broken.
    host.output.clear();
    host.run(256, 256, &[(10, note_on(50, 70))]);
    assert_eq!(host.notes().len(), 1);

    // 3. A model whose bytes do not match the manifest.
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let damaged = std::env::temp_dir().join(format!("cadenza-damaged-models-{}", std::process::id()));
    std::fs::create_dir_all(&damaged).unwrap();
    for entry in std::fs::read_dir(&models).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, damaged.join(path.file_name().unwrap())).unwrap();
        }
    }
    let rnn = damaged.join("melody_rnn.onnx");
    let mut bytes = std::fs::read(&rnn).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&rnn, bytes).unwrap();
    std::env::set_var("CADENZA_MODELS_DIR", &damaged);
    let event = press_generate(&mut host);
    let WorkerEvent::Failed { error, .. } = event else { panic!("{event:?}") };
    assert!(
        matches!(error, JobError::Engine(EngineError::ChecksumMismatch { .. } | EngineError::ModelCorrupt { .. })),
        "{error:?}"
    );
    assert!(error.needs_reinstall());

    // 4. Fixed: the same plugin instance now generates.
    std::env::set_var("CADENZA_MODELS_DIR", &models);
    let event = press_generate(&mut host);
    assert!(matches!(event, WorkerEvent::Finished { .. }), "{event:?}");
    assert_eq!(host.process_allocations, 0);
    let _ = std::fs::remove_dir_all(&empty);
    let _ = std::fs::remove_dir_all(&damaged);
}
