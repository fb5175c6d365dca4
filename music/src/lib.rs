//! Cadenza's music core: one clip/note model shared by the audio thread, the engine, the editor
//! and (through `models/spec/encoding.json`) the Python training code.
//!
//! - [`clip`]: clips and notes at 480 PPQ; [`NoteBuffer`] for the audio thread.
//! - [`spec`]: the embedded encoding spec and its constants; [`drum_map`]: the editable drum map.
//! - [`quantize`]: the 16th grid (4/4 only) with micro-timing offsets.
//! - [`melody`], [`drums`], [`groove`]: model encodings and decodings; [`transpose`]: helpers to
//!   bring melodies into the model range or a key; [`legato`]: trims played overlaps first.
//! - [`preprocess`]: the one path from a clip to model tokens (spec `preprocessing`), shared in
//!   meaning with the training code.
//! - [`midi_import`], [`midi_export`]: .mid files; [`golden`]: the golden-vector file format.
//! - [`error`]: [`MusicError`], the one error type.

pub mod clip;
pub mod drum_map;
pub mod drums;
pub mod error;
pub mod golden;
pub mod groove;
pub mod key;
pub mod legato;
pub mod melody;
pub mod midi_export;
pub mod midi_import;
pub mod preprocess;
pub mod quantize;
pub mod report;
pub mod spec;
pub mod transpose;

pub use clip::{Clip, Note, NoteBuffer, Tick, TimeSignature, PPQ};
pub use drum_map::{DrumClass, DrumMap};
pub use drums::{decode_drums, drum_tokens_from_ids, encode_drums, encode_drums_quantized, DrumTokens};
pub use error::MusicError;
pub use groove::{
    decode_groove, decode_groove_flat, encode_groove, encode_groove_quantized, encode_tap, encode_tap_quantized,
    GrooveFeatures, GrooveRow, TapFeatures, TapRow,
};
pub use key::{detect_key, KeyEstimate, KeyFinder};
pub use legato::trim_legato;
pub use melody::{decode_melody, encode_melody, encode_melody_quantized, melody_tokens_from_ids, MelodyTokens};
pub use midi_export::{export_midi, ExportOptions};
pub use midi_import::{import_midi, import_midi_file, ImportOptions, MidiImport, TrackSelect};
pub use preprocess::{preprocess_drums, preprocess_melody, PrepReport, PreparedDrums, PreparedMelody, Window};
pub use quantize::{quantize, quantize_clip, step_of_tick, Quantized, QuantizedNote};
pub use report::Dropped;
pub use spec::Spec;
pub use transpose::{estimate_key, transpose, transpose_into_range, transpose_to_key, Key, RangeFit};
