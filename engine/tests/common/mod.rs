//! Shared helpers for the engine's integration tests, and for `cli/tests/cli.rs`, which includes
//! this file with `#[path]`.
//!
//! The tests run the real models in `models/` (override with `CADENZA_MODELS_DIR`, e.g. the
//! smoke pipeline's output) with the runtime library from `target/onnxruntime/` (override with
//! `CADENZA_ORT_LIB`). Both missing is a test failure with a message, never a silent pass.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cadenza_engine::manifest::Manifest;
use cadenza_engine::{Engine, EngineConfig, EngineError, Job, Output};
use cadenza_music::{Clip, Note, TimeSignature};

pub fn config() -> EngineConfig {
    let config = EngineConfig::discover();
    assert!(
        config.runtime_lib.is_file(),
        "ONNX Runtime library not found at {} — run `cargo xtask fetch-ort` (or `cargo xtask test`, \
         which bundles first), or set CADENZA_ORT_LIB",
        config.runtime_lib.display()
    );
    assert!(
        config.models_dir.join("manifest.json").is_file(),
        "no models/manifest.json at {} — set CADENZA_MODELS_DIR",
        config.models_dir.display()
    );
    config
}

/// An engine whose models folder lists `model`; fails the test clearly otherwise.
pub fn engine_with(model: &str) -> Engine {
    let config = config();
    let manifest = Manifest::load(&config.models_dir).expect("manifest readable");
    assert!(
        manifest.models.contains_key(model),
        "model {model} is not in {}/manifest.json yet (has: {:?}); this test needs it",
        config.models_dir.display(),
        manifest.models.keys().collect::<Vec<_>>()
    );
    Engine::new(config)
}

pub fn run(engine: &mut Engine, job: &Job) -> Result<Output, EngineError> {
    let cancel = AtomicBool::new(false);
    let mut last = 0.0f32;
    let result = engine.run(
        job,
        &mut |f| {
            assert!((0.0..=1.0).contains(&f), "progress {f}");
            assert!(f + 1e-6 >= last, "progress went back from {last} to {f}");
            last = f;
        },
        &cancel,
    );
    if result.is_ok() {
        assert_eq!(last, 1.0, "progress must end at 1");
    }
    result
}

pub fn note(pitch: u8, start_step: u32, len_steps: u32) -> Note {
    Note { pitch, velocity: 90, start: start_step * 120, end: (start_step + len_steps) * 120, channel: 0 }
}

/// A 2-bar C-major melody (eighth notes).
pub fn melody_a() -> Clip {
    let pitches = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 67, 64, 60, 60];
    let mut c = Clip::new(2, TimeSignature::FOUR_FOUR, false);
    c.notes = pitches.iter().enumerate().map(|(i, &p)| note(p, i as u32 * 2, 2)).collect();
    c
}

/// A 4-bar melody, high register, long notes — unlike `melody_a`.
pub fn melody_b() -> Clip {
    let pitches = [84, 81, 79, 76, 84, 86, 88, 91];
    let mut c = Clip::new(4, TimeSignature::FOUR_FOUR, false);
    c.notes = pitches.iter().enumerate().map(|(i, &p)| note(p, i as u32 * 8, 6)).collect();
    c
}

/// A 4-bar rock beat on GM pitches, channel 10: kick, snare, closed hat.
pub fn drums_a() -> Clip {
    let mut c = Clip::new(4, TimeSignature::FOUR_FOUR, true);
    for step in 0..64u32 {
        let mut hit =
            |p: u8| c.notes.push(Note { pitch: p, velocity: 100, start: step * 120, end: step * 120 + 60, channel: 9 });
        if step % 2 == 0 {
            hit(42);
        }
        if step % 8 == 0 {
            hit(36);
        }
        if step % 8 == 4 {
            hit(38);
        }
    }
    c.sort();
    c
}

/// A sparse 4-bar pattern: ride and toms, very unlike `drums_a`.
pub fn drums_b() -> Clip {
    let mut c = Clip::new(4, TimeSignature::FOUR_FOUR, true);
    for step in (0..64u32).step_by(3) {
        let p = if step % 2 == 0 { 51 } else { 45 };
        c.notes.push(Note { pitch: p, velocity: 80, start: step * 120, end: step * 120 + 60, channel: 9 });
    }
    c.sort();
    c
}

/// Notes of a clip as (pitch, start, end).
pub fn shape(c: &Clip) -> Vec<(u8, u32, u32)> {
    c.notes.iter().map(|n| (n.pitch, n.start, n.end)).collect()
}

pub fn melody_tokens(c: &Clip) -> Vec<u8> {
    cadenza_music::encode_melody(c).expect("encodable").tokens
}

pub fn drum_tokens(c: &Clip) -> Vec<u16> {
    cadenza_music::encode_drums(c, &cadenza_music::DrumMap::default()).expect("encodable").tokens
}

/// Hamming distance between token sequences (the shorter one padded with 0).
pub fn distance<T: PartialEq + Default + Copy>(a: &[T], b: &[T]) -> usize {
    let n = a.len().max(b.len());
    (0..n).filter(|&i| a.get(i).copied().unwrap_or_default() != b.get(i).copied().unwrap_or_default()).count()
}

pub fn entropy<T: Ord + Copy>(tokens: impl IntoIterator<Item = T>) -> f64 {
    let mut counts = std::collections::BTreeMap::new();
    for t in tokens {
        *counts.entry(t).or_insert(0usize) += 1;
    }
    let v: Vec<usize> = counts.into_values().collect();
    cadenza_engine::sampling::entropy_bits(&v)
}

pub fn drum_output_pitches() -> Vec<u8> {
    let map = cadenza_music::DrumMap::default();
    (0..cadenza_music::spec::DRUM_CLASSES).map(|c| map.output_pitch(c)).collect()
}

/// A scratch folder under the system temp dir, removed when dropped so test runs leave no litter.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("cadenza-engine-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

pub fn check_clip_basics(c: &Clip, bars: u16, drum: bool) {
    assert_eq!(c.bars, bars, "length in bars");
    assert_eq!(c.time_signature, TimeSignature::FOUR_FOUR);
    assert_eq!(c.is_drum, drum);
    c.validate().expect("valid MIDI notes");
    let len = c.length_ticks();
    for n in &c.notes {
        assert!(n.start < len, "note starts after the clip: {n:?}");
        assert!(n.end <= len, "note ends after the clip: {n:?}");
    }
}
