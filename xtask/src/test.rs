//! `cargo xtask test`: everything the project tests, in the order they depend on each other.
//!
//! 1. a Python virtual environment in `target/venv` with the test and training requirements,
//! 2. the release bundles (the CLAP host test and the VST3 host test load them),
//! 3. `cargo test --workspace` (Rust unit, integration and host tests),
//! 4. `pytest` over the training pipeline (smoke mode) and the VST3 host test.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

const VENV: &str = "target/venv";
const REQUIREMENTS: &[&str] = &["tests/python/requirements.txt", "models/training/requirements.txt"];
const PYTEST_PATHS: &[&str] = &["tests/python", "models/training"];

pub fn run(args: &[String]) -> Result<()> {
    let python = ensure_venv()?;
    run_checked(Command::new(cargo()).args(["xtask", "bundle", "cadenza", "--release"]), "bundling")?;

    let bundle_dir = Path::new("target/bundled").canonicalize()?;
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
    let wanted = requirements
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
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
