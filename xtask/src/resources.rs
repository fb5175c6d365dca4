//! Puts ONNX Runtime and the models into the bundles, where the engine looks for them
//! (`engine/src/runtime.rs`):
//!
//! - Linux, VST3: `Cadenza.vst3/Contents/x86_64-linux/` holds `Cadenza.so`,
//!   `libonnxruntime.so.1.31.1` and `models/` side by side.
//! - Linux, CLAP: a `.clap` is a single file, so its resources sit in a folder named after it
//!   next to it: `Cadenza.clap` + `Cadenza/libonnxruntime.so.1.31.1` + `Cadenza/models/`.
//!   Install both entries into `~/.clap/`.
//! - Windows (cross-built into `target/windows/bundled`): the same two layouts with
//!   `Contents/x86_64-win/` and `onnxruntime.dll`.
//! - macOS (built on a Mac): both formats are bundles, `Contents/MacOS/Cadenza`; the library goes
//!   to `Contents/Frameworks/`, `models/` to `Contents/Resources/`, and the bundle is signed again
//!   (ad hoc) because adding files breaks the bundler's signature.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

const BUNDLE_DIR: &str = "target/bundled";
/// What of `models/` ships: the spec, the manifest and the ONNX files (never training data).
const SHIPPED_MODEL_FILES: &[&str] = &["manifest.json", "spec/encoding.json"];

/// The platform a set of bundles is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    Windows,
    MacOS,
}

impl Platform {
    pub fn host() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOS
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }

    /// Where each resource goes: (folder for the runtime library, folder that gets `models/`),
    /// for the VST3 bundle and for the CLAP, relative to the bundle folder.
    fn destinations(self) -> Vec<(PathBuf, PathBuf)> {
        let same = |p: &str| (PathBuf::from(p), PathBuf::from(p));
        match self {
            Platform::Linux => vec![same("Cadenza.vst3/Contents/x86_64-linux"), same("Cadenza")],
            Platform::Windows => vec![same("Cadenza.vst3/Contents/x86_64-win"), same("Cadenza")],
            Platform::MacOS => ["Cadenza.vst3", "Cadenza.clap"]
                .iter()
                .map(|b| (Path::new(b).join("Contents/Frameworks"), Path::new(b).join("Contents/Resources")))
                .collect(),
        }
    }
}

pub fn install(ort_library: &Path, _release: bool) -> Result<()> {
    install_into(Path::new(BUNDLE_DIR), Platform::host(), ort_library)
}

/// Adds `ort_library` and the models to the bundles in `bundled` (a VST3 bundle that was not
/// built is skipped; the CLAP resource folder is always written).
pub fn install_into(bundled: &Path, platform: Platform, ort_library: &Path) -> Result<()> {
    let library_name = ort_library.file_name().context("no library file name")?;
    for (library_dir, models_parent) in platform.destinations() {
        // A bundle the bundler did not make (e.g. no VST3 export) is skipped; the folder beside a
        // single-file CLAP is made here.
        let root = bundled.join(library_dir.components().next().context("empty destination")?);
        if root.extension().is_some_and(|e| e == "vst3" || e == "clap") && !root.is_dir() {
            continue;
        }
        let (library_dir, models_parent) = (bundled.join(library_dir), bundled.join(models_parent));
        std::fs::create_dir_all(&library_dir)?;
        std::fs::copy(ort_library, library_dir.join(library_name))
            .with_context(|| format!("could not copy ONNX Runtime into {}", library_dir.display()))?;
        copy_models(Path::new("models"), &models_parent.join("models"))?;
        eprintln!("Added ONNX Runtime to '{}' and models to '{}'", library_dir.display(), models_parent.display());
        if platform == Platform::MacOS && cfg!(target_os = "macos") {
            let status = std::process::Command::new("codesign")
                .args(["--force", "--deep", "--sign", "-"])
                .arg(&root)
                .status()?;
            anyhow::ensure!(status.success(), "codesign of {} failed", root.display());
        }
    }
    Ok(())
}

/// The runtime folder of a CLI: the `.exe`, ONNX Runtime and `models/` side by side (how the
/// engine finds them next to its own binary).
pub fn install_beside(dir: &Path, ort_library: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let library_name = ort_library.file_name().context("no library file name")?;
    std::fs::copy(ort_library, dir.join(library_name))?;
    copy_models(Path::new("models"), &dir.join("models"))
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
