//! Cadenza's music core: one clip/note model shared by the audio thread, the engine, the editor
//! and (through `models/spec/encoding.json`) the Python training code.

pub mod clip;

pub use clip::{Clip, Note, NoteBuffer, Tick, TimeSignature, PPQ};
