//! Cadenza's inference engine: Magenta-Studio-style Continue, Generate, Interpolate, Drumify and
//! Groove with the ONNX models of `models/` (described by `models/manifest.json`), run by ONNX
//! Runtime through `ort` — one intra-op thread, no thread pools, everything on the caller's
//! thread.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use cadenza_engine::{Engine, EngineConfig, Job, Mode, Tool};
//!
//! let mut engine = Engine::new(EngineConfig::discover());
//! let job = Job { tool: Tool::Generate, mode: Mode::Melody, variations: 4, bars: 4, ..Job::default() };
//! let out = engine.run(&job, &mut |_fraction| {}, &AtomicBool::new(false))?;
//! assert_eq!(out.clips.len(), 4);
//! # Ok::<(), cadenza_engine::EngineError>(())
//! ```
//!
//! Modules: [`runtime`] (finding and loading ONNX Runtime and the models folder), [`manifest`]
//! (the typed manifest), `graph` (one checked ONNX session), `models` (the three model
//! families and their batched loops), [`sampling`] (seeded RNG, temperature/greedy/masked
//! sampling, slerp), `prepare` (clips ↔ tokens, warnings), [`dynamics`] (velocities of new notes
//! from the input's dynamics), [`kit`] (the user's drum pitches), `tools` (the five tools and
//! Humanize), [`best_of`] (Quality: best-of-N candidates), [`job`]
//! and [`engine`] (the public API), [`error`].

pub mod best_of;
pub mod dynamics;
pub mod engine;
pub mod error;
mod graph;
pub mod job;
pub mod kit;
pub mod manifest;
mod models;
mod prepare;
pub mod runtime;
pub mod sampling;
mod tools;

pub use best_of::MAX_QUALITY;
pub use engine::{Engine, EngineConfig};
pub use error::EngineError;
pub use job::{Job, KeyChoice, KeyScale, Mode, Output, Scale, Tool, MAX_BARS, MAX_TEMPERATURE, MAX_VARIATIONS};
pub use tools::generate::CHAIN_BLEND;
pub use tools::interpolate::alphas as interpolation_alphas;
