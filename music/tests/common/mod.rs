//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `<repo>/../shared/datasets` (CI clones the repo with `shared/` beside it), or
/// `$CADENZA_DATASETS`. Fixture tests must not pass silently without data, so this panics with
/// instructions when the folder is missing.
pub fn datasets_dir() -> PathBuf {
    let dir = match std::env::var_os("CADENZA_DATASETS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"),
    };
    assert!(
        dir.join("groove_midi").is_dir(),
        "training datasets not found at {} (expected <repo>/../shared/datasets with groove_midi/, \
         pop909/, nottingham/; or set CADENZA_DATASETS). These fixture tests need the real files.",
        dir.display()
    );
    dir
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
