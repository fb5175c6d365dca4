//! A missing or broken ONNX Runtime library is a typed error, and the process can still load the
//! right one afterwards. (Its own test binary: the runtime is loaded once per process.)

mod common;

use std::sync::atomic::AtomicBool;

use cadenza_engine::{Engine, EngineConfig, EngineError, Job, Mode, Tool};
use common::*;

#[test]
fn missing_then_broken_then_good_runtime() {
    let good = config();
    let job = Job {
        tool: Tool::Continue,
        mode: Mode::Melody,
        variations: 1,
        bars: 1,
        inputs: vec![melody_a()],
        ..Job::default()
    };
    let cancel = AtomicBool::new(false);

    let missing = EngineConfig { runtime_lib: "/nonexistent/libonnxruntime.so.1.31.1".into(), ..good.clone() };
    let err = Engine::new(missing).run(&job, &mut |_| {}, &cancel).unwrap_err();
    assert!(matches!(err, EngineError::RuntimeMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/libonnxruntime.so.1.31.1"), "{err}");
    assert!(err.is_installation_error());

    let dir = scratch("broken-runtime");
    let broken = dir.join("libonnxruntime.so.1.31.1");
    std::fs::write(&broken, b"not a shared library").unwrap();
    let err =
        Engine::new(EngineConfig { runtime_lib: broken, ..good.clone() }).run(&job, &mut |_| {}, &cancel).unwrap_err();
    assert!(matches!(err, EngineError::RuntimeLoad { .. }), "{err:?}");

    let out = Engine::new(good).run(&job, &mut |_| {}, &cancel).unwrap();
    assert_eq!(out.clips.len(), 1);
}
