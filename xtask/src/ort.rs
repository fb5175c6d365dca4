//! Fetches ONNX Runtime's shared library from the PyPI wheel `onnxruntime==1.31.1` (the only
//! place it can come from here) into `target/onnxruntime/`, once per platform: the Linux
//! `libonnxruntime.so.1.31.1`, the Windows `onnxruntime.dll` (for the cross-built bundles) and,
//! on a Mac, `libonnxruntime.1.31.1.dylib` (arm64: 1.31.1 has no x86_64 macOS wheel).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub const ORT_VERSION: &str = "1.31.1";
/// The library of the platform this xtask runs on (what `cargo xtask bundle` without `--target`
/// ships).
#[cfg(not(target_os = "macos"))]
pub const ORT_LIBRARY: &str = "libonnxruntime.so.1.31.1";
#[cfg(target_os = "macos")]
pub const ORT_LIBRARY: &str = "libonnxruntime.1.31.1.dylib";
const CACHE_DIR: &str = "target/onnxruntime";

/// One platform's ONNX Runtime: the file name (also the engine's `runtime::ORT_LIBRARY` there)
/// and the wheel's platform tag.
pub struct OrtPlatform {
    pub library: &'static str,
    wheel_platform: &'static str,
}

pub const LINUX: OrtPlatform =
    OrtPlatform { library: "libonnxruntime.so.1.31.1", wheel_platform: "manylinux_2_28_x86_64" };
pub const WINDOWS: OrtPlatform = OrtPlatform { library: "onnxruntime.dll", wheel_platform: "win_amd64" };
pub const MACOS_ARM64: OrtPlatform =
    OrtPlatform { library: "libonnxruntime.1.31.1.dylib", wheel_platform: "macosx_14_0_arm64" };

/// Returns the absolute path of the cached library of this platform, downloading it when missing.
pub fn fetch() -> Result<PathBuf> {
    fetch_for(if cfg!(target_os = "macos") { &MACOS_ARM64 } else { &LINUX })
}

/// Returns the absolute path of the cached library of `platform`, downloading it when missing.
pub fn fetch_for(platform: &OrtPlatform) -> Result<PathBuf> {
    let library_name = platform.library;
    let cache = Path::new(CACHE_DIR);
    let library = cache.join(library_name);
    if library.is_file() {
        return library.canonicalize().context("cannot resolve the ONNX Runtime cache path");
    }
    std::fs::create_dir_all(cache).context("cannot create target/onnxruntime")?;
    let python = find_python()?;
    eprintln!("Fetching {library_name} from the PyPI wheel onnxruntime=={ORT_VERSION}...");
    let wheel_dir = cache.join(format!("wheel-{}", platform.wheel_platform));
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"])
        .args(["--platform", platform.wheel_platform, "--python-version", "3.11"])
        .arg(format!("onnxruntime=={ORT_VERSION}"))
        .arg("-d")
        .arg(&wheel_dir)
        .status()
        .with_context(|| format!("could not run `{python} -m pip`"))?;
    if !status.success() {
        bail!("`pip download onnxruntime=={ORT_VERSION}` failed; is pip installed (apt-get install python3-pip) and PyPI reachable?");
    }
    let wheel = std::fs::read_dir(&wheel_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip downloaded no onnxruntime wheel")?;
    let script = format!(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nopen(sys.argv[2], 'wb').write(z.read('onnxruntime/capi/{library_name}'))"
    );
    let partial = cache.join(format!("{library_name}.partial"));
    let status = Command::new(&python).arg("-c").arg(script).arg(&wheel).arg(&partial).status()?;
    if !status.success() {
        bail!("could not extract {library_name} from {}", wheel.display());
    }
    // Renamed into place only when complete, so an interrupted fetch is retried next time.
    std::fs::rename(&partial, &library)?;
    let _ = std::fs::remove_dir_all(&wheel_dir);
    Ok(library.canonicalize()?)
}

fn find_python() -> Result<String> {
    for candidate in ["python3", "python"] {
        let ok = Command::new(candidate)
            .args(["-m", "pip", "--version"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(candidate.to_string());
        }
    }
    bail!(
        "fetching ONNX Runtime needs Python with pip (to download the onnxruntime=={ORT_VERSION} wheel from PyPI); \
         install it with `apt-get install python3-pip`"
    )
}
