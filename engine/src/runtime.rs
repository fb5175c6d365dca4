//! Finding and loading ONNX Runtime and the models folder.
//!
//! The library is [`ORT_LIBRARY`]: `libonnxruntime.so.1.31.1` on Linux, `onnxruntime.dll` on
//! Windows, `libonnxruntime.1.31.1.dylib` on macOS (the names in the PyPI wheels).
//!
//! Search order, for both (first hit wins):
//! 1. an environment variable: `CADENZA_ORT_LIB` (the library file, or a folder holding it) and
//!    `CADENZA_MODELS_DIR`;
//! 2. next to the binary that contains this code (inside the plugin that is the plugin's own
//!    `.so`/`.dll`/Mach-O, not the host), found with `dladdr` on Linux and macOS and with
//!    `GetModuleHandleExW(FROM_ADDRESS)` + `GetModuleFileNameW` on Windows: VST3 keeps the plugin
//!    binary, the library and `models/` in one folder (`Contents/x86_64-linux/`,
//!    `Contents/x86_64-win/`); a single-file CLAP (Linux, Windows) keeps them in a folder named
//!    like the `.clap` file without extension (`Cadenza.clap` → `Cadenza/`); a macOS bundle
//!    (`Contents/MacOS/Cadenza`, both formats) keeps the library in `Contents/Frameworks/` and
//!    `models/` in `Contents/Resources/`;
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

/// The file name of ONNX Runtime's shared library on this platform.
#[cfg(target_os = "windows")]
pub const ORT_LIBRARY: &str = "onnxruntime.dll";
/// The file name of ONNX Runtime's shared library on this platform.
#[cfg(target_os = "macos")]
pub const ORT_LIBRARY: &str = "libonnxruntime.1.31.1.dylib";
/// The file name of ONNX Runtime's shared library on this platform.
#[cfg(not(any(target_os = "windows", target_os = "macos")))]
pub const ORT_LIBRARY: &str = "libonnxruntime.so.1.31.1";

/// The Visual C++ 2015–2022 runtime DLLs that Microsoft's `onnxruntime.dll` imports (measured on
/// the 1.31.1 wheel). Windows resolves them with the standard DLL search (known DLLs, the host's
/// folder, `System32`, `PATH`), not from the folder of `onnxruntime.dll`.
#[cfg(target_os = "windows")]
pub const VC_RUNTIME_DLLS: &[&str] = &["VCRUNTIME140.dll", "VCRUNTIME140_1.dll", "MSVCP140.dll", "MSVCP140_1.dll"];
pub const ENV_ORT_LIB: &str = "CADENZA_ORT_LIB";
pub const ENV_MODELS_DIR: &str = "CADENZA_MODELS_DIR";

/// The file of the binary (executable or shared library) this function is compiled into.
pub fn own_binary() -> Option<PathBuf> {
    #[cfg(windows)]
    {
        if let Some(path) = windows::module_of(own_binary as *const ()) {
            return Some(path);
        }
    }
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
/// named like the binary without extension (the single-file CLAP layout), then, for a binary in
/// a macOS bundle (`<bundle>/Contents/MacOS/<binary>`), `Contents/Frameworks` and
/// `Contents/Resources`. Plain path logic, the same on every platform (so it is tested on Linux).
fn bundle_dirs(binary: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = binary.parent() {
        dirs.push(dir.to_path_buf());
        if let Some(stem) = binary.file_stem() {
            dirs.push(dir.join(stem));
        }
        if let Some(contents) = dir
            .parent()
            .filter(|c| dir.file_name().is_some_and(|n| n == "MacOS") && c.file_name().is_some_and(|n| n == "Contents"))
        {
            dirs.push(contents.join("Frameworks"));
            dirs.push(contents.join("Resources"));
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
    candidates.iter().find(|p| ok(p)).or(candidates.first()).cloned().unwrap_or_else(|| PathBuf::from(ORT_LIBRARY))
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
        return Err(EngineError::RuntimeMissing { path: path.to_path_buf() });
    }
    if let Some(l) = RUNTIME.get() {
        return Ok(l.env.clone());
    }
    let _guard = INIT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(l) = RUNTIME.get() {
        return Ok(l.env.clone());
    }
    let abs = absolute(path);
    // Checked before the load: without the Visual C++ runtime the load fails with a bare "module
    // not found", which names neither the missing DLLs nor the fix.
    #[cfg(windows)]
    {
        let missing = windows::missing_dlls(VC_RUNTIME_DLLS);
        if !missing.is_empty() {
            return Err(EngineError::VcRuntimeMissing { missing });
        }
    }
    disable_ort_telemetry();
    let builder =
        ort::init_from(&abs).map_err(|e| EngineError::RuntimeLoad { path: abs.clone(), reason: e.to_string() })?;
    let env = builder
        .with_name("cadenza")
        .with_telemetry(false)
        .build()
        .map_err(|e| EngineError::RuntimeLoad { path: abs.clone(), reason: e.to_string() })?;
    let loaded = RUNTIME.get_or_init(|| Loaded { path: abs, env });
    Ok(loaded.env.clone())
}

/// An absolute form of `path` for loading and for messages. `fs::canonicalize` on Windows returns
/// the `\\?\` verbatim form, which users do not recognise; there the path is only made absolute.
fn absolute(path: &Path) -> PathBuf {
    if cfg!(windows) {
        std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
    } else {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// The Win32 calls: the module that holds an address, and which DLLs cannot be loaded.
#[cfg(windows)]
mod windows {
    use std::ffi::OsString;
    use std::os::windows::ffi::{OsStrExt, OsStringExt};
    use std::path::PathBuf;

    use windows_sys::Win32::Foundation::{FreeLibrary, HMODULE};
    use windows_sys::Win32::System::LibraryLoader::{
        GetModuleFileNameW, GetModuleHandleExW, LoadLibraryW, GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
        GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
    };

    /// The file of the module (DLL or EXE) that contains `address`.
    pub fn module_of(address: *const ()) -> Option<PathBuf> {
        let mut module: HMODULE = std::ptr::null_mut();
        // SAFETY: FROM_ADDRESS takes any address inside a loaded module; UNCHANGED_REFCOUNT means
        // nothing has to be released. The handle stays valid while this code is loaded.
        let flags = GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT;
        if unsafe { GetModuleHandleExW(flags, address as *const u16, &mut module) } == 0 {
            return None;
        }
        let mut buffer = vec![0u16; 512];
        loop {
            // SAFETY: the buffer is writable for its full length.
            let len = unsafe { GetModuleFileNameW(module, buffer.as_mut_ptr(), buffer.len() as u32) } as usize;
            if len == 0 {
                return None;
            }
            // A full buffer means the name was truncated.
            if len < buffer.len() {
                return Some(PathBuf::from(OsString::from_wide(&buffer[..len])));
            }
            if buffer.len() >= 32_768 {
                return None;
            }
            buffer.resize(buffer.len() * 2, 0);
        }
    }

    /// The names in `dlls` that the standard DLL search cannot load (what a library that imports
    /// them would find). Each one that loads is released again at once.
    pub fn missing_dlls(dlls: &[&str]) -> Vec<String> {
        dlls.iter()
            .filter(|name| {
                let wide: Vec<u16> = std::ffi::OsStr::new(name).encode_wide().chain(Some(0)).collect();
                // SAFETY: a NUL-terminated name; the module is freed right away.
                let module = unsafe { LoadLibraryW(wide.as_ptr()) };
                if module.is_null() {
                    return true;
                }
                unsafe { FreeLibrary(module) };
                false
            })
            .map(|name| name.to_string())
            .collect()
    }
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
    fn macos_bundle_dirs() {
        let d = bundle_dirs(Path::new("/Library/Audio/Plug-Ins/CLAP/Cadenza.clap/Contents/MacOS/Cadenza"));
        let contents = PathBuf::from("/Library/Audio/Plug-Ins/CLAP/Cadenza.clap/Contents");
        assert_eq!(
            d,
            vec![
                contents.join("MacOS"),
                contents.join("MacOS/Cadenza"),
                contents.join("Frameworks"),
                contents.join("Resources"),
            ]
        );
    }

    #[test]
    fn clap_layout_dirs() {
        let d = bundle_dirs(Path::new("/x/y/Cadenza.clap"));
        assert_eq!(d, vec![PathBuf::from("/x/y"), PathBuf::from("/x/y/Cadenza")]);
    }

    #[test]
    fn missing_library_is_an_error() {
        let e = environment(&Path::new("/nonexistent").join(ORT_LIBRARY)).unwrap_err();
        assert!(matches!(e, EngineError::RuntimeMissing { .. }));
    }
}
