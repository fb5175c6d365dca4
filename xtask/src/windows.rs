//! Windows bundles, cross-built on Linux: `cargo xtask bundle cadenza --release --target
//! x86_64-pc-windows-gnu`.
//!
//! Everything goes to its own target folder, `target/windows/`, so the Linux bundles in
//! `target/bundled/` are never touched:
//!
//! - `target/windows/bundled/Cadenza.clap` (the DLL) and `Cadenza/` beside it (`onnxruntime.dll`,
//!   `models/`): copy both into `C:\Program Files\Common Files\CLAP\`;
//! - `target/windows/bundled/Cadenza.vst3/Contents/x86_64-win/` holds `Cadenza.vst3` (the DLL),
//!   `onnxruntime.dll` and `models/`: copy the `Cadenza.vst3` folder into
//!   `C:\Program Files\Common Files\VST3\`;
//! - `target/windows/bundled/cadenza-cli/`: the command-line tool `cadenza-cli.exe` with its own
//!   `onnxruntime.dll` and `models/`.
//!
//! The toolchain is set up by [`crate::cross`] (MinGW-w64 linker, Rust std for the target). The
//! DLL and the `.exe` import only Windows system DLLs; `onnxruntime.dll` needs the Visual C++
//! 2015–2022 runtime, which the engine checks for.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::cross::{self, WINDOWS_LINKER, WINDOWS_LINKER_PACKAGE, WINDOWS_TARGET};
use crate::{ort, resources};

pub const TARGET_DIR: &str = "target/windows";
pub const CLI_PACKAGE: &str = "cadenza-cli";
pub const CLI_EXE: &str = "cadenza-cli.exe";
pub const HOST_PACKAGE: &str = "cadenza-wine-host";
pub const HOST_EXE: &str = "cadenza-wine-host.exe";

/// What the Windows build wrote.
pub struct WindowsBuild {
    /// `target/windows/bundled` (absolute).
    pub bundled: PathBuf,
    /// The profile folder under `target/windows/x86_64-pc-windows-gnu/`.
    pub profile_dir: PathBuf,
}

impl WindowsBuild {
    pub fn clap(&self) -> PathBuf {
        self.bundled.join("Cadenza.clap")
    }
    pub fn vst3(&self) -> PathBuf {
        self.bundled.join("Cadenza.vst3")
    }
    pub fn cli(&self) -> PathBuf {
        self.bundled.join("cadenza-cli").join(CLI_EXE)
    }
    /// The Wine test host (not part of the bundles).
    pub fn host(&self) -> PathBuf {
        self.profile_dir.join(HOST_EXE)
    }
}

/// Whether `cargo xtask bundle` arguments ask for the Windows target.
pub fn wants_windows(args: &[String]) -> bool {
    target_of(args).is_some_and(|t| t.contains("windows"))
}

pub fn target_of(args: &[String]) -> Option<&str> {
    args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--target=").or_else(|| (a == "--target").then(|| args.get(i + 1).map(String::as_str)).flatten())
    })
}

/// `cargo xtask bundle cadenza [--release | --profile P] --target x86_64-pc-windows-gnu`.
pub fn bundle(args: &[String]) -> Result<WindowsBuild> {
    let target = target_of(args).unwrap_or(WINDOWS_TARGET);
    if target != WINDOWS_TARGET {
        bail!("Windows bundles are built for {WINDOWS_TARGET} only (asked for {target})");
    }
    let packages: Vec<&String> = args.iter().filter(|a| !a.starts_with('-') && a.as_str() != target).collect();
    if packages.iter().any(|p| p.as_str() != "cadenza") {
        bail!("only the `cadenza` package is bundled for Windows (asked for {packages:?})");
    }
    let profile_args = profile_args(args);
    build(&profile_args)
}

/// Builds the plugin and the CLI for Windows and assembles the bundles.
pub fn build(profile_args: &[String]) -> Result<WindowsBuild> {
    let started = Instant::now();
    let toolchain = cross::prepare(WINDOWS_TARGET, Some((WINDOWS_LINKER, WINDOWS_LINKER_PACKAGE)))?;
    eprintln!("Windows toolchain: {}", toolchain.route);
    let target_dir = std::env::current_dir()?.join(TARGET_DIR);
    // The Wine test host (tests/windows/host) is built with them: one cargo run unifies the
    // `windows` crate's features, so a later `cargo xtask test-windows` rebuilds nothing.
    let status = toolchain
        .cargo("build", &target_dir)
        .args(["-p", "cadenza", "-p", CLI_PACKAGE, "-p", HOST_PACKAGE])
        .args(profile_args)
        .status()
        .context("could not run cargo")?;
    if !status.success() {
        bail!("the Windows build failed");
    }
    let profile = profile_dir_name(profile_args);
    let profile_dir = target_dir.join(WINDOWS_TARGET).join(profile);

    let mut bundle_args = profile_args.to_vec();
    bundle_args.extend(["--target".to_string(), WINDOWS_TARGET.to_string()]);
    nice_plug_xtask::bundle(&target_dir, "cadenza", &bundle_args, false)?;

    let library = ort::fetch_for(&ort::WINDOWS)?;
    let bundled = target_dir.join("bundled");
    resources::install_into(&bundled, resources::Platform::Windows, &library)?;
    let cli_dir = bundled.join("cadenza-cli");
    resources::install_beside(&cli_dir, &library)?;
    std::fs::copy(profile_dir.join(CLI_EXE), cli_dir.join(CLI_EXE)).context("the CLI was not built")?;
    eprintln!("Added the CLI to '{}'", cli_dir.display());

    let built = WindowsBuild { bundled, profile_dir };
    eprintln!("Windows bundles in '{}' after {:.0} s:", built.bundled.display(), started.elapsed().as_secs_f64());
    for path in [built.clap(), built.bundled.join("Cadenza"), built.vst3(), cli_dir] {
        eprintln!("  {:>8.1} MB  {}", size(&path) as f64 / 1e6, path.display());
    }
    Ok(built)
}

/// `--release` / `--profile X` from the arguments (debug when neither).
pub fn profile_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if a == "--release" || a.starts_with("--profile=") {
            out.push(a.clone());
        } else if a == "--profile" {
            out.push(a.clone());
            out.extend(args.get(i + 1).cloned());
        }
    }
    out
}

fn profile_dir_name(profile_args: &[String]) -> String {
    let mut name = "debug".to_string();
    for (i, a) in profile_args.iter().enumerate() {
        if a == "--release" {
            name = "release".into();
        } else if let Some(p) = a.strip_prefix("--profile=") {
            name = p.into();
        } else if a == "--profile" {
            name = profile_args.get(i + 1).cloned().unwrap_or(name);
        }
    }
    if name == "dev" {
        "debug".into()
    } else {
        name
    }
}

/// Bytes in a file or a folder tree.
pub fn size(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| size(&e.path())).sum())
            .unwrap_or(0),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}
