//! The "Open .mid…" file picker: the system's own dialog through the `rfd` crate, run on a
//! short-lived `cadenza-file-dialog` thread so the host's GUI thread never waits for it; the
//! answer comes back over a one-shot `mpsc` channel the panel polls each frame.
//!
//! On Linux only rfd's XDG desktop portal backend is built (D-Bus through a `dlopen`ed libdbus,
//! with `zenity` as rfd's own fallback), so no GTK is linked into the plugin. When neither a
//! portal nor zenity can be reached, rfd gives no error, only "no file": [`unavailable`] checks
//! beforehand, and an answer that comes back faster than anyone can click is reported as a
//! dialog that could not open.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a file dialog answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    File(PathBuf),
    /// The musician closed the dialog without choosing.
    Cancelled,
    /// No dialog could be shown; the text says why, in plain words.
    Failed(String),
}

/// Opens a file dialog and returns where its answer will arrive, or why none can open. The
/// panel's default is [`open_midi`]; tests put their own in.
pub type DialogOpener = Box<dyn FnMut(Option<PathBuf>) -> Result<mpsc::Receiver<Picked>, String> + Send>;

/// Said when no dialog can open here.
pub const NO_DIALOG: &str = "No file dialog here: it needs the desktop portal (xdg-desktop-portal) or zenity. \
    Drop a .mid file on an input instead, or take the last bars you played.";

/// An empty answer sooner than this after opening means the dialog never showed.
const TOO_QUICK_TO_BE_A_PERSON: Duration = Duration::from_millis(300);

/// Opens the system's file dialog for a `.mid` file on a helper thread, starting in
/// `start_dir` when given.
pub fn open_midi(start_dir: Option<PathBuf>) -> Result<mpsc::Receiver<Picked>, String> {
    if let Some(reason) = unavailable() {
        return Err(reason.to_string());
    }
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("cadenza-file-dialog".into())
        .spawn(move || {
            let opened = Instant::now();
            let mut dialog = rfd::FileDialog::new()
                .set_title("Load a MIDI clip into Cadenza")
                .add_filter("MIDI files", &["mid", "midi", "MID", "MIDI"]);
            if let Some(dir) = start_dir.filter(|d| d.is_dir()) {
                dialog = dialog.set_directory(dir);
            }
            let answer = match dialog.pick_file() {
                Some(path) => Picked::File(path),
                None if opened.elapsed() < TOO_QUICK_TO_BE_A_PERSON => Picked::Failed(NO_DIALOG.to_string()),
                None => Picked::Cancelled,
            };
            let _ = tx.send(answer);
        })
        .map_err(|e| format!("Could not open the file dialog: {e}"))?;
    Ok(rx)
}

/// Why no file dialog can open on this system, or `None` when one can.
pub fn unavailable() -> Option<&'static str> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    unavailable_with(&env, &|path| path.exists())
}

/// [`unavailable`] with the environment and the file system passed in, for tests.
pub fn unavailable_with(
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    exists: &dyn Fn(&Path) -> bool,
) -> Option<&'static str> {
    if cfg!(any(target_os = "windows", target_os = "macos")) {
        // The system's own dialogs are always there.
        return None;
    }
    (!portal_reachable(env, exists) && !zenity_on_path(env, exists)).then_some(NO_DIALOG)
}

/// A session bus to talk over and the portal service installed on it (or a Flatpak sandbox,
/// where the portal is the only way out and always present).
fn portal_reachable(env: &dyn Fn(&str) -> Option<std::ffi::OsString>, exists: &dyn Fn(&Path) -> bool) -> bool {
    if env("FLATPAK_ID").is_some() || exists(Path::new("/.flatpak-info")) {
        return true;
    }
    let bus = env("DBUS_SESSION_BUS_ADDRESS").is_some()
        || env("XDG_RUNTIME_DIR").is_some_and(|dir| exists(&Path::new(&dir).join("bus")));
    if !bus {
        return false;
    }
    // D-Bus starts the portal on demand from its service file in an XDG data dir.
    let data_home = env("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".local/share")));
    let data_dirs = env("XDG_DATA_DIRS").unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    data_home
        .into_iter()
        .chain(std::env::split_paths(&data_dirs))
        .any(|dir| exists(&dir.join("dbus-1/services/org.freedesktop.portal.Desktop.service")))
}

fn zenity_on_path(env: &dyn Fn(&str) -> Option<std::ffi::OsString>, exists: &dyn Fn(&Path) -> bool) -> bool {
    env("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| exists(&dir.join("zenity"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::ffi::OsString;

    fn check(vars: &[(&str, &str)], files: &[&str]) -> Option<&'static str> {
        let vars: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        unavailable_with(&|name| vars.get(name).cloned(), &|path| files.iter().any(|f| f == path))
    }

    #[test]
    fn a_portal_needs_a_bus_and_its_service() {
        if cfg!(any(target_os = "windows", target_os = "macos")) {
            return;
        }
        let service = "/usr/share/dbus-1/services/org.freedesktop.portal.Desktop.service";
        assert_eq!(check(&[], &[]), Some(NO_DIALOG), "nothing at all");
        assert_eq!(check(&[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1/bus")], &[service]), None);
        assert_eq!(check(&[("XDG_RUNTIME_DIR", "/run/user/1")], &["/run/user/1/bus", service]), None);
        assert_eq!(check(&[("DBUS_SESSION_BUS_ADDRESS", "x")], &[]), Some(NO_DIALOG), "a bus but no portal");
        assert_eq!(check(&[], &[service]), Some(NO_DIALOG), "a portal but no bus to reach it");
        assert_eq!(check(&[("PATH", "/opt/bin:/usr/bin")], &["/usr/bin/zenity"]), None, "zenity instead");
        assert_eq!(check(&[("FLATPAK_ID", "org.example.Daw")], &[]), None);
    }
}
