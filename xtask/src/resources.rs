//! Puts ONNX Runtime and the models into the bundles, where the engine looks for them:
//!
//! - VST3: `Cadenza.vst3/Contents/x86_64-linux/` holds `Cadenza.so`, `libonnxruntime.so.1.31.1`
//!   and `models/` side by side.
//! - CLAP: on Linux a `.clap` is a single file, so its resources sit in a folder named after it
//!   next to it: `Cadenza.clap` + `Cadenza/libonnxruntime.so.1.31.1` + `Cadenza/models/`.
//!   Install both entries into `~/.clap/`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::ort::ORT_LIBRARY;

const BUNDLE_DIR: &str = "target/bundled";
/// What of `models/` ships: the spec, the manifest and the ONNX files (never training data).
const SHIPPED_MODEL_FILES: &[&str] = &["manifest.json", "spec/encoding.json"];

pub fn install(ort_library: &Path, _release: bool) -> Result<()> {
    let bundled = Path::new(BUNDLE_DIR);
    let vst3 = bundled.join("Cadenza.vst3/Contents/x86_64-linux");
    let clap_resources = bundled.join("Cadenza");
    for dir in [&vst3, &clap_resources] {
        if dir == &vst3 && !dir.is_dir() {
            continue;
        }
        std::fs::create_dir_all(dir)?;
        std::fs::copy(ort_library, dir.join(ORT_LIBRARY))
            .with_context(|| format!("could not copy ONNX Runtime into {}", dir.display()))?;
        copy_models(Path::new("models"), &dir.join("models"))?;
        eprintln!("Added ONNX Runtime and models to '{}'", dir.display());
    }
    Ok(())
}

fn copy_models(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    std::fs::create_dir_all(to.join("spec"))?;
    for file in SHIPPED_MODEL_FILES {
        let source = from.join(file);
        if source.is_file() {
            std::fs::copy(&source, to.join(file))?;
        }
    }
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "onnx") {
            std::fs::copy(&path, to.join(path.file_name().unwrap()))?;
        }
    }
    Ok(())
}
