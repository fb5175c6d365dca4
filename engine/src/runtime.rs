//! Finding and loading ONNX Runtime (`libonnxruntime.so.1.31.1`) and the models folder.
//!
//! Search order, for both (first hit wins):
//! 1. an environment variable: `CADENZA_ORT_LIB` (the library file, or a folder holding it) and
//!    `CADENZA_MODELS_DIR`;
//! 2. next to the binary that contains this code, found with `dladdr` (inside the plugin that is
//!    the plugin's `.so`, not the host): VST3 keeps `Cadenza.so`, the library and `models/` in one
//!    folder; CLAP keeps them in a folder named like the `.clap` file without extension
//!    (`Cadenza.clap` → `Cadenza/`);
//! 3. for development builds (the CLI, tests): the workspace's `target/onnxruntime/` (written by
//!    `cargo xtask fetch-ort`) and `models/`, found from the binary's ancestors or, failing that,
//!    from this crate's source folder.
//!
//! The library is loaded once per process with `ort::init_from` and one environment is created
//! and kept (`OnceLock`); a missing or broken library is an [`EngineError`], never a panic.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use crate::error::EngineError;
use crate::manifest::MANIFEST_FILE;

pub const ORT_LIBRARY: &str = "libonnxruntime.so.1.31.1";
pub const ENV_ORT_LIB: &str = "CADENZA_ORT_LIB";
pub const ENV_MODELS_DIR: &str = "CADENZA_MODELS_DIR";

/// The file of the binary (executable or shared library) this function is compiled into.
pub fn own_binary() -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        let addr = own_binary as *const () as *const libc::c_void;
        // SAFETY: dladdr only reads the address and fills `info`; `dli_fname` points into the
        // loader's tables and stays valid while the object is loaded (we copy it at once).
        let ok = unsafe { libc::dladdr(addr, &mut info) };
        if ok != 0 && !info.dli_fname.is_null() {
            let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes()));
            // The main executable may be reported by the name it was started with.
            if path.is_absolute() {
                return Some(path);
            }
            if path.components().count() > 1 {
                if let Ok(p) = std::fs::canonicalize(&path) {
                    return Some(p);
                }
            }
        }
    }
    std::env::current_exe().ok()
}

/// Folders next to the binary where bundled resources may live: its own folder, then a folder
/// named like the binary without extension (the CLAP layout).
fn bundle_dirs(binary: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = binary.parent() {
        dirs.push(dir.to_path_buf());
        if let Some(stem) = binary.file_stem() {
            dirs.push(dir.join(stem));
        }
    }
    dirs
}

/// Development fallbacks: `<ancestor>/target/onnxruntime`, `<target dir>/onnxruntime` and the
/// workspace `models/` of the binary's ancestors, then of this crate's source folder.
fn dev_roots(binary: Option<&Path>) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(b) = binary {
        roots.extend(b.ancestors().skip(1).map(Path::to_path_buf));
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    roots.extend(crate_dir.ancestors().map(Path::to_path_buf));
    roots
}

/// Where the runtime library is expected. Returns a path even when nothing exists (the first
/// candidate), so the error can name it.
pub fn locate_runtime() -> PathBuf {
    if let Some(p) = std::env::var_os(ENV_ORT_LIB).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_dir() { p.join(ORT_LIBRARY) } else { p };
    }
    let binary = own_binary();
    let mut candidates = Vec::new();
    if let Some(b) = &binary {
        candidates.extend(bundle_dirs(b).into_iter().map(|d| d.join(ORT_LIBRARY)));
    }
    for root in dev_roots(binary.as_deref()) {
        if root.file_name().is_some_and(|n| n == "target") {
            candidates.push(root.join("onnxruntime").join(ORT_LIBRARY));
        }
        candidates.push(root.join("target").join("onnxruntime").join(ORT_LIBRARY));
    }
    first_existing(candidates, Path::is_file)
}

/// Where the models folder (holding `manifest.json`) is expected.
pub fn locate_models() -> PathBuf {
    if let Some(p) = std::env::var_os(ENV_MODELS_DIR).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let binary = own_binary();
    let mut candidates = Vec::new();
    if let Some(b) = &binary {
        candidates.extend(bundle_dirs(b).into_iter().map(|d| d.join("models")));
    }
    for root in dev_roots(binary.as_deref()) {
        candidates.push(root.join("models"));
    }
    first_existing(candidates, |p| p.join(MANIFEST_FILE).is_file())
}

fn first_existing(candidates: Vec<PathBuf>, ok: impl Fn(&Path) -> bool) -> PathBuf {
    candidates
        .iter()
        .find(|p| ok(p))
        .or(candidates.first())
        .cloned()
        .unwrap_or_else(|| PathBuf::from(ORT_LIBRARY))
}

struct Loaded {
    path: PathBuf,
    env: Environment,
}

static RUNTIME: OnceLock<Loaded> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime from `path` (once per process) and returns the process's environment.
/// Later calls return the same environment; a failed load can be retried with another path.
pub fn environment(path: &Path) -> Result<Environment, EngineError> {
    if !path.is_file() {
        return Err(EngineError::RuntimeMissing {
            path: path.to_path_buf(),
        });
    }
    if let Some(l) = RUNTIME.get() {
        return Ok(l.env.clone());
    }
    let _guard = INIT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(l) = RUNTIME.get() {
        return Ok(l.env.clone());
    }
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    disable_ort_telemetry();
    let builder = ort::init_from(&abs).map_err(|e| EngineError::RuntimeLoad {
        path: abs.clone(),
        reason: e.to_string(),
    })?;
    let env = builder
        .with_name("cadenza")
        .with_telemetry(false)
        .build()
        .map_err(|e| EngineError::RuntimeLoad {
            path: abs.clone(),
            reason: e.to_string(),
        })?;
    let loaded = RUNTIME.get_or_init(|| Loaded { path: abs, env });
    Ok(loaded.env.clone())
}

pub const ENV_ORT_TELEMETRY: &str = "ORT_DISABLE_TELEMETRY";

/// ONNX Runtime >= 1.29 on Linux (the PyPI build we ship) starts a 1DS telemetry uploader when
/// the environment is created: a background thread, HTTPS uploads to Microsoft and a session
/// file in the current directory — none of which a plugin inside someone's DAW may do.
/// `DisableTelemetryEvents()` (what `with_telemetry(false)` calls) comes after creation and is too
/// late; only `ORT_DISABLE_TELEMETRY=1` in the environment before creation prevents it. We set
/// it once, under the init lock, unless the user set it explicitly.
fn disable_ort_telemetry() {
    if std::env::var_os(ENV_ORT_TELEMETRY).is_none() {
        std::env::set_var(ENV_ORT_TELEMETRY, "1");
    }
}

/// The library the process loaded, if any.
pub fn loaded_runtime() -> Option<&'static Path> {
    RUNTIME.get().map(|l| l.path.as_path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_binary_is_found() {
        let b = own_binary().unwrap();
        assert!(b.is_file(), "{}", b.display());
    }

    #[test]
    fn clap_layout_dirs() {
        let d = bundle_dirs(Path::new("/x/y/Cadenza.clap"));
        assert_eq!(
            d,
            vec![PathBuf::from("/x/y"), PathBuf::from("/x/y/Cadenza")]
        );
    }

    #[test]
    fn missing_library_is_an_error() {
        let e = environment(Path::new("/nonexistent/libonnxruntime.so.1.31.1")).unwrap_err();
        assert!(matches!(e, EngineError::RuntimeMissing { .. }));
    }
}
