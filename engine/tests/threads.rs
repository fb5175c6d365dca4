//! The engine never starts threads: ONNX Runtime runs on the caller's thread (one intra-op
//! thread, no inter-op pool, no global pool) and its telemetry uploader thread is never started
//! (see `runtime::disable_ort_telemetry`). Its own test binary so nothing else runs beside it.

mod common;

use cadenza_engine::{Job, Mode, Tool};
use common::*;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn no_threads_are_started() {
    let before = threads();
    let mut e = engine_with("melody_rnn");
    let job = Job {
        tool: Tool::Continue,
        mode: Mode::Melody,
        variations: 8,
        bars: 4,
        inputs: vec![melody_a()],
        ..Job::default()
    };
    run(&mut e, &job).unwrap();
    let names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .collect();
    assert_eq!(threads(), before, "the engine started threads: {names:?}");
}
