//! `cargo xtask`: bundling (nice-plug's bundler plus Cadenza's runtime files) and the test run.
//!
//! - `cargo xtask bundle cadenza --release`: builds `target/bundled/Cadenza.clap` and
//!   `Cadenza.vst3`, then adds ONNX Runtime and `models/` to both (see [`resources`]).
//! - `cargo xtask fetch-ort`: only fetches `libonnxruntime.so.1.31.1` into the cache.
//! - `cargo xtask test`: the full test run (what `.ci/run` calls).

mod ort;
mod resources;
mod test;

use std::path::Path;

use anyhow::Result;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    nice_plug_xtask::chdir_workspace_root()?;
    match command.as_str() {
        "bundle" => {
            let release = rest.iter().any(|a| a == "--release");
            // nice-plug's bundler takes any `target/<profile>/cadenza` executable for a
            // standalone build of the plugin; that file is the `cadenza` CLI (engine crate), so
            // it is moved aside while bundling and put back afterwards.
            let cli = Path::new("target").join(if release { "release" } else { "debug" }).join("cadenza");
            let aside = cli.with_extension("cli-aside");
            let moved = cli.is_file() && std::fs::rename(&cli, &aside).is_ok();
            let bundled = nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(command).chain(rest));
            if moved {
                std::fs::rename(&aside, &cli)?;
            }
            bundled?;
            let library = ort::fetch()?;
            resources::install(&library, release)
        }
        "fetch-ort" => ort::fetch().map(|path| println!("{}", path.display())),
        "test" => test::run(&rest),
        _ => nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(command).chain(rest)),
    }
}
