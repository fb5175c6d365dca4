//! `cargo xtask`: bundling (nice-plug's bundler plus Cadenza's runtime files) and the test run.
//!
//! - `cargo xtask bundle cadenza --release`: builds `target/bundled/Cadenza.clap` and
//!   `Cadenza.vst3`, then adds ONNX Runtime and `models/` to both (see [`resources`]).
//! - `cargo xtask fetch-ort`: only fetches `libonnxruntime.so.1.31.1` into the cache.
//! - `cargo xtask validate`: clap-validator (validate + a 60 s fuzz) and Steinberg's VST3
//!   validator on the built bundles (see [`validate`]).
//! - `cargo xtask test`: the full test run (what `.ci/run` calls).
//! - `cargo xtask bundle cadenza --release --target x86_64-pc-windows-gnu`: the Windows bundles
//!   and CLI in `target/windows/bundled/`, cross-built (see [`windows`], [`cross`]).
//! - `cargo xtask check-macos`: `cargo check` of the shipped crates for both Apple targets.
//! - `cargo xtask test-windows`: the Windows build under Wine: validators, CLAP/VST3 host runs,
//!   CLI byte-identity, no-display, editor screenshot, drag-out (see [`wine`]).
//! - `cargo xtask clippy-windows`: clippy on the Windows-only code, for the Windows target.
//! - `cargo xtask x-capture [DISPLAY]`: saves every window of an X display as PNG (debugging the
//!   Wine editor screenshot).

mod cross;
mod ort;
mod resources;
mod test;
mod validate;
mod windows;
mod wine;
mod xcapture;

use anyhow::Result;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    nice_plug_xtask::chdir_workspace_root()?;
    match command.as_str() {
        "bundle" if windows::wants_windows(&rest) => windows::bundle(&rest).map(drop),
        "bundle" if windows::target_of(&rest).is_some_and(|t| t.contains("apple")) && !cfg!(target_os = "macos") => {
            anyhow::bail!(
                "macOS bundles are built on a Mac (no macOS SDK here); `cargo xtask check-macos` checks the code"
            )
        }
        "check-macos" => cross::check_macos(&rest),
        "test-windows" => wine::run(&rest),
        "clippy-windows" => cross::clippy_windows(&rest),
        "x-capture" => {
            let display = rest.first().cloned().unwrap_or_else(|| std::env::var("DISPLAY").unwrap_or_default());
            for (i, shot) in xcapture::capture_all(&display, 100)?.iter().enumerate() {
                let path = std::path::PathBuf::from(format!("target/wine/x-capture-{i}-{:x}.png", shot.window));
                shot.save(&path)?;
                println!(
                    "{:#x} {}x{} {} colours -> {}",
                    shot.window,
                    shot.width,
                    shot.height,
                    shot.colours(),
                    path.display()
                );
            }
            Ok(())
        }
        "bundle" => {
            let release = rest.iter().any(|a| a == "--release");
            // No workspace binary is named `cadenza` (the CLI is `cadenza-cli`), so nice-plug's
            // bundler finds no `target/<profile>/cadenza` to bundle as a standalone build.
            nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(command).chain(rest))?;
            let library = ort::fetch()?;
            resources::install(&library, release)
        }
        "fetch-ort" => ort::fetch().map(|path| println!("{}", path.display())),
        "test" => test::run(&rest),
        "validate" => validate::run(&rest),
        _ => nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(command).chain(rest)),
    }
}
