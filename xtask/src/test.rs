//! `cargo xtask test`: everything the project tests, in the order they depend on each other.
//!
//! 0. up front, the system packages it needs (Xvfb and Mesa's GL for the editor tests,
//!    python3-venv, pip) and the plugin validators: when something is missing it stops at once
//!    with the `apt-get install` line that fixes it, instead of failing after the build,
//! 1. a Python virtual environment in `target/venv` with the test and training requirements,
//! 2. the release bundles (the CLAP host test and the VST3 host test load them),
//! 3. clap-validator (validate + fuzz) and the VST3 validator on those bundles ([`validate`]),
//! 4. `cargo test --workspace` (Rust unit, integration and host tests),
//! 5. `pytest` over the training pipeline (smoke mode) and the VST3 host test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::ort::ORT_LIBRARY;
use crate::validate;

const VENV: &str = "target/venv";
const REQUIREMENTS: &[&str] = &["tests/python/requirements.txt", "models/training/requirements.txt"];
const PYTEST_PATHS: &[&str] = &["tests/python", "models/training"];

pub fn run(args: &[String]) -> Result<()> {
    check_system_packages()?;
    let validators = validate::locate()?;
    let python = ensure_venv()?;
    run_checked(Command::new(cargo()).args(["xtask", "bundle", "cadenza", "--release"]), "bundling")?;

    let bundle_dir = Path::new("target/bundled").canonicalize()?;
    if let Some(validators) = &validators {
        validate::validate_bundles(validators, &bundle_dir, Some(&validate::fuzz_duration()))?;
    }
    let mut cargo_test = Command::new(cargo());
    cargo_test.args(["test", "--workspace"]).args(args).env("CADENZA_BUNDLE_DIR", &bundle_dir);
    run_checked(&mut cargo_test, "cargo test")?;

    let paths: Vec<&str> = PYTEST_PATHS.iter().copied().filter(|p| Path::new(p).is_dir()).collect();
    let mut pytest = Command::new(&python);
    pytest.args(["-m", "pytest", "-q"]).args(&paths).env("CADENZA_BUNDLE_DIR", &bundle_dir);
    run_checked(&mut pytest, "pytest")
}

fn ensure_venv() -> Result<PathBuf> {
    let python = Path::new(VENV).join("bin/python");
    if !python.is_file() {
        run_checked(Command::new("python3").args(["-m", "venv", VENV]), "creating target/venv")
            .context("needs python3 with the venv module (apt-get install python3-venv)")?;
    }
    let requirements: Vec<&str> = REQUIREMENTS.iter().copied().filter(|p| Path::new(p).is_file()).collect();
    let stamp = Path::new(VENV).join("requirements.stamp");
    let wanted =
        requirements.iter().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect::<Vec<_>>().join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let mut pip = Command::new(&python);
        // No wheel cache: torch and its CUDA libraries are ~3 GB of wheels that would sit in
        // ~/.cache/pip beside the ~6 GB they install to, and CI machines can be short of disk.
        pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-cache-dir"]);
        for file in &requirements {
            pip.args(["-r", file]);
        }
        run_checked(&mut pip, "installing Python test requirements")?;
        std::fs::write(&stamp, wanted)?;
    }
    // Not canonicalized: that would follow the venv's symlink to the base interpreter.
    Ok(std::env::current_dir()?.join(python))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run_checked(command: &mut Command, what: &str) -> Result<()> {
    eprintln!("== {what}: {command:?}");
    let status = command.status().with_context(|| format!("could not start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Everything a fresh Debian 12 needs for the whole run, beyond Rust and Python: README.md
/// ("The two commands") and `.ci/run` install the same list (a test below keeps them in step).
#[cfg_attr(not(test), allow(dead_code))]
const APT_PACKAGES: &[&str] = &[
    "pkg-config",
    "gcc",
    "python3-venv",
    "python3-pip",
    "ca-certificates",
    "xvfb",
    "libx11-xcb1",
    "libgl1",
    "libglx-mesa0",
    "libgl1-mesa-dri",
];

/// Set to skip the editor tests that need an X server (they then pass without Xvfb).
const SKIP_X11_ENV: &str = "CADENZA_SKIP_X11_TESTS";

/// What the editor's window tests load: the X server they start, and the libraries baseview
/// opens (Xlib + its XCB bridge, then GLX through libglvnd to Mesa's software renderer).
const X11_LIBRARIES: &[(&str, &str)] = &[
    ("libX11.so.6", "libx11-6"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libGL.so.1", "libgl1"),
    ("libGLX_mesa.so.0", "libglx-mesa0"),
];
const DRI_DRIVER: (&str, &str) = ("swrast_dri.so", "libgl1-mesa-dri");

/// Checks, before any slow step, that the system packages the run needs are installed, and
/// stops with the one `apt-get install` line that installs whatever is missing.
fn check_system_packages() -> Result<()> {
    let mut missing: Vec<(String, &str)> = Vec::new();
    if std::env::var_os(SKIP_X11_ENV).is_none() {
        if find_in_path("Xvfb").is_none() {
            missing.push(("the `Xvfb` X server (the editor's window tests start their own)".into(), "xvfb"));
        }
        let ldconfig = ldconfig_cache();
        for (library, package) in X11_LIBRARIES {
            if !has_library(library, ldconfig.as_deref()) {
                missing.push((format!("{library} (the editor's window tests load it)"), package));
            }
        }
        let (driver, package) = DRI_DRIVER;
        if !has_dri_driver(driver) {
            missing.push((format!("Mesa's software GL driver dri/{driver}"), package));
        }
    }
    if !Path::new(VENV).join("bin/python").is_file() && !python3_can("import venv, ensurepip") {
        missing.push(("python3 with the venv module (to create target/venv)".into(), "python3-venv"));
    }
    let ort_cached = Path::new("target/onnxruntime").join(ORT_LIBRARY).is_file();
    if !ort_cached && !python3_can("import pip") {
        missing.push((format!("pip (to fetch {ORT_LIBRARY} from PyPI)"), "python3-pip"));
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut packages: Vec<&str> = Vec::new();
    for (_, package) in &missing {
        if !packages.contains(package) {
            packages.push(package);
        }
    }
    let sudo = if is_root() { "" } else { "sudo " };
    let list =
        missing.iter().map(|(what, package)| format!("  - {what}: Debian package {package}")).collect::<Vec<_>>();
    bail!(
        "`cargo xtask test` needs system packages that are not installed:\n{}\n\n\
         Install them with:\n\n    {sudo}apt-get install -y --no-install-recommends {}\n\n\
         (README.md, \"The two commands\", lists everything a fresh Debian 12 machine needs. \
         {SKIP_X11_ENV}=1 skips the window tests instead of installing Xvfb and Mesa.)",
        list.join("\n"),
        packages.join(" "),
    )
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|path| path.is_file())
}

/// `ldconfig -p`'s listing of the libraries the dynamic loader knows (None if it cannot run:
/// outside root's PATH it lives in /sbin).
fn ldconfig_cache() -> Option<String> {
    ["ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"].iter().find_map(|ldconfig| {
        let output = Command::new(ldconfig).arg("-p").stderr(Stdio::null()).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    })
}

/// The folders a library may be in: `$LD_LIBRARY_PATH`, then the usual (multiarch) ones.
fn library_dirs() -> Vec<PathBuf> {
    let triplet = format!("{}-linux-gnu", std::env::consts::ARCH);
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("LD_LIBRARY_PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    for dir in [format!("/usr/lib/{triplet}"), format!("/lib/{triplet}")] {
        dirs.push(dir.into());
    }
    for dir in ["/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib"] {
        dirs.push(dir.into());
    }
    dirs
}

fn has_library(name: &str, ldconfig: Option<&str>) -> bool {
    let listed = ldconfig.is_some_and(|cache| {
        cache.lines().any(|line| line.trim_start().strip_prefix(name).is_some_and(|rest| rest.starts_with(" (")))
    });
    listed || library_dirs().iter().any(|dir| dir.join(name).exists())
}

fn has_dri_driver(driver: &str) -> bool {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("LIBGL_DRIVERS_PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.extend(library_dirs().into_iter().map(|dir| dir.join("dri")));
    dirs.iter().any(|dir| dir.join(driver).exists())
}

fn python3_can(code: &str) -> bool {
    Command::new("python3")
        .args(["-c", code])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status.lines().any(|line| {
            line.strip_prefix("Uid:").and_then(|ids| ids.split_whitespace().next()).is_some_and(|uid| uid == "0")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_and_ci_install_the_same_packages() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for file in ["README.md", ".ci/run"] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let line = text
                .lines()
                .skip_while(|l| !l.contains("apt-get install"))
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("```"))
                .collect::<Vec<_>>()
                .join(" ");
            let words: Vec<&str> = line.split_whitespace().collect();
            for package in APT_PACKAGES {
                assert!(words.contains(package), "{file}'s apt-get install line lacks {package}");
            }
            for (_, package) in X11_LIBRARIES.iter().chain([&DRI_DRIVER]) {
                // libx11-6 comes with libx11-xcb1.
                assert!(*package == "libx11-6" || words.contains(package), "{file} lacks {package}");
            }
        }
    }
}
