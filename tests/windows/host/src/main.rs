//! `cadenza-wine-host`: small Windows host programs that `cargo xtask test-windows` runs under
//! Wine on the cross-built bundles.
//!
//! - `clap <Cadenza.clap>` / `vst3 <Cadenza.vst3>`: load the bundle (the real DLL), activate at
//!   48 kHz, play a 120 BPM transport, Continue a captured melody phrase, Generate drums, count
//!   the note events that come out, save the state and restore it into a fresh instance, and
//!   check that the `onnxruntime.dll` loaded is the bundle's own. The CLAP host is
//!   `tests/src/clap_host.rs`, the VST3 host `tests/src/vst3_host.rs` (the same code the Linux
//!   tests use; here the VST3 factory comes from the DLL instead of the linked crate).
//! - `vst3-create <Cadenza.vst3>`: only asks the factory for an instance and reports the answer
//!   (the no-display test: a failure must be an answer, not an abort).
//! - `editor <Cadenza.clap> <seconds>`: generates, then opens the CLAP editor in a host window
//!   and keeps it open (the test takes a screenshot from the X side).
//! - `dataobject`: writes a clip where the panel's drag-out writes it and checks the OLE data
//!   object names exactly that file as `CF_HDROP`.
//! - `drop`: a real OLE drag of that file onto a drop target window, with the mouse moved by
//!   `SendInput`.
//!
//! Every command prints `RESULT <json>` and exits 0 when its checks pass, 1 when one fails.

#[cfg(windows)]
extern crate self as cadenza;

#[cfg(windows)]
#[path = "../../../src/clap_host.rs"]
#[allow(dead_code)]
mod clap_host;
#[cfg(windows)]
#[path = "../../../src/vst3_host.rs"]
#[allow(dead_code)]
mod vst3_host;

#[cfg(windows)]
mod drag;
#[cfg(windows)]
mod editor;
#[cfg(windows)]
mod scenario;
#[cfg(windows)]
mod win;

/// The factory of the loaded VST3 DLL, for `vst3_host::Vst3Instance::new()` (which calls
/// `cadenza::GetPluginFactory()`: in the tests crate the linked plugin's, here this).
#[cfg(windows)]
#[allow(non_snake_case)]
pub fn GetPluginFactory() -> *mut std::ffi::c_void {
    scenario::vst3_factory()
}

/// `vst3_host` counts allocations inside `process()` through the tests crate; not here.
#[cfg(windows)]
pub fn reset_allocation_violations() {}
#[cfg(windows)]
pub fn allocation_violations() -> u32 {
    0
}

#[cfg(windows)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().cloned().unwrap_or_default();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let result = match command.as_str() {
        "clap" => scenario::clap(&arg(1)),
        "vst3" => scenario::vst3(&arg(1)),
        "vst3-create" => scenario::vst3_create(&arg(1)),
        "editor" => editor::run(&arg(1), arg(2).parse().unwrap_or(10.0)),
        "dataobject" => drag::data_object(),
        "drop" => drag::drop(),
        _ => Err(format!("unknown command {command:?}")),
    };
    match result {
        Ok(report) => {
            println!("RESULT {report}");
            std::process::exit(0)
        }
        Err(message) => {
            println!("FAILED {message}");
            std::process::exit(1)
        }
    }
}

#[cfg(not(windows))]
fn main() {
    eprintln!("cadenza-wine-host runs on Windows (under Wine: cargo xtask test-windows)");
    std::process::exit(2);
}
