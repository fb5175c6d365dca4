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

/// A variable-length quantity as in SMF delta times.
pub fn vlq(mut n: u32) -> Vec<u8> {
    let mut out = vec![(n & 0x7f) as u8];
    n >>= 7;
    while n > 0 {
        out.insert(0, 0x80 | (n & 0x7f) as u8);
        n >>= 7;
    }
    out
}

/// A raw SMF: header chunk declaring `declared_tracks`, then each track's bytes in an MTrk chunk
/// (the bytes are taken as they are, so tests can write running status or broken events).
pub fn smf(format: u16, declared_tracks: u16, division: u16, tracks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"MThd".to_vec();
    out.extend(6u32.to_be_bytes());
    out.extend(format.to_be_bytes());
    out.extend(declared_tracks.to_be_bytes());
    out.extend(division.to_be_bytes());
    for t in tracks {
        out.extend(b"MTrk");
        out.extend((t.len() as u32).to_be_bytes());
        out.extend(t);
    }
    out
}

/// Track-event helpers: each returns delta + event bytes.
pub fn ev(delta: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = vlq(delta);
    out.extend(bytes);
    out
}

pub fn meta(delta: u32, kind: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vlq(delta);
    out.extend([0xff, kind]);
    out.extend(vlq(data.len() as u32));
    out.extend(data);
    out
}

pub fn end_of_track(delta: u32) -> Vec<u8> {
    meta(delta, 0x2f, &[])
}

pub fn tempo(delta: u32, us: u32) -> Vec<u8> {
    meta(delta, 0x51, &us.to_be_bytes()[1..])
}

pub fn track(events: &[Vec<u8>]) -> Vec<u8> {
    events.concat()
}
