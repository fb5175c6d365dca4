//! The one error type of the engine. Every variant carries a message a musician can act on; the
//! plugin shows `to_string()` in its status line and keeps passing MIDI through.

use std::path::PathBuf;

use cadenza_music::MusicError;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    #[error(
        "ONNX Runtime was not found at {}. Reinstall Cadenza (the library {} must sit next to the \
         plugin) or point CADENZA_ORT_LIB at it.",
        path.display(),
        crate::runtime::ORT_LIBRARY
    )]
    RuntimeMissing { path: PathBuf },

    #[error("ONNX Runtime at {} could not be loaded: {reason}", path.display())]
    RuntimeLoad { path: PathBuf, reason: String },

    /// Windows only: ONNX Runtime needs Microsoft's Visual C++ runtime, which Windows does not
    /// ship and not every host installs.
    #[error(
        "the Microsoft Visual C++ Redistributable (2015-2022, x64) is not installed on this \
         computer, and Cadenza's ONNX Runtime needs it ({} missing). Install it from \
         https://aka.ms/vs/17/release/vc_redist.x64.exe, then reload Cadenza.",
        missing.join(", ")
    )]
    VcRuntimeMissing { missing: Vec<String> },

    #[error("the {model} model is not installed: {detail}")]
    ModelMissing { model: String, detail: String },

    #[error("the model file {} is damaged or not a model Cadenza can use: {reason}", path.display())]
    ModelCorrupt { path: PathBuf, reason: String },

    #[error(
        "the model file {} does not match models/manifest.json (sha256 {actual}, expected \
         {expected}); reinstall Cadenza's models",
        path.display()
    )]
    ChecksumMismatch { path: PathBuf, expected: String, actual: String },

    #[error("the model list {} is unreadable: {reason}", path.display())]
    ManifestInvalid { path: PathBuf, reason: String },

    #[error("{0}")]
    EmptyInput(String),

    #[error(
        "the input is in {numerator}/{denominator}; Cadenza's models only understand 4/4. Set the \
         clip (or the project) to 4/4 and try again"
    )]
    UnsupportedTimeSignature { numerator: u8, denominator: u8 },

    #[error("{0}")]
    InvalidRequest(String),

    #[error("the input could not be read: {0}")]
    Music(#[from] MusicError),

    #[error("cancelled")]
    Cancelled,

    #[error("ONNX Runtime failed while {context}: {message}")]
    Ort { context: String, message: String },
}

impl EngineError {
    pub(crate) fn ort(context: impl Into<String>, e: impl std::fmt::Display) -> EngineError {
        EngineError::Ort { context: context.into(), message: e.to_string() }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> EngineError {
        EngineError::InvalidRequest(msg.into())
    }

    /// Whether the problem lies with the request/input (as opposed to the installation).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            EngineError::EmptyInput(_)
                | EngineError::UnsupportedTimeSignature { .. }
                | EngineError::InvalidRequest(_)
                | EngineError::Music(_)
        )
    }

    /// Whether the installation (runtime library, models) is at fault.
    pub fn is_installation_error(&self) -> bool {
        matches!(
            self,
            EngineError::RuntimeMissing { .. }
                | EngineError::RuntimeLoad { .. }
                | EngineError::VcRuntimeMissing { .. }
                | EngineError::ModelMissing { .. }
                | EngineError::ModelCorrupt { .. }
                | EngineError::ChecksumMismatch { .. }
                | EngineError::ManifestInvalid { .. }
        )
    }
}

/// Maps music-core errors that are really about the request onto the typed variants.
pub(crate) fn from_music(e: MusicError) -> EngineError {
    match e {
        MusicError::TimeSignatureUnsupported { numerator, denominator } => {
            EngineError::UnsupportedTimeSignature { numerator, denominator }
        }
        other => EngineError::Music(other),
    }
}
