//! Where dragged and exported clips go, what they are called, and how they are written.
//!
//! Drag-out files live in `<data dir>/Cadenza/clips/` (`$XDG_DATA_HOME` or `~/.local/share` on
//! Linux, `%APPDATA%` on Windows, `~/Library/Application Support` on macOS). Every file is
//! written to a temporary name in the same folder and renamed into place, so a DAW that reads it
//! the moment the drop lands never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use cadenza_music::{export_midi, Clip, ExportOptions};

use crate::params::Tool;

/// The folder Cadenza writes drag-out files to (not created here).
pub fn clips_dir() -> PathBuf {
    data_dir().join("Cadenza").join("clips")
}

/// The user's data directory, from the environment only (no extra crate).
pub fn data_dir() -> PathBuf {
    data_dir_from(|name| std::env::var_os(name).filter(|v| !v.is_empty()))
}

/// [`data_dir`] with the environment passed in, for tests.
pub fn data_dir_from(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    if cfg!(target_os = "windows") {
        if let Some(appdata) = env("APPDATA") {
            return PathBuf::from(appdata);
        }
    } else if cfg!(target_os = "macos") {
        if let Some(home) = env("HOME") {
            return PathBuf::from(home).join("Library").join("Application Support");
        }
    } else {
        if let Some(xdg) = env("XDG_DATA_HOME").map(PathBuf::from).filter(|p| p.is_absolute()) {
            return xdg;
        }
        if let Some(home) = env("HOME") {
            return PathBuf::from(home).join(".local").join("share");
        }
    }
    std::env::temp_dir()
}

/// `cadenza-continue-<stamp>-v03.mid`: sortable, unique per batch and variation, only
/// `[a-z0-9-.]` so every DAW and file system takes it. `stamp` identifies the batch
/// (e.g. seconds since the epoch when the batch finished).
pub fn clip_file_name(tool: Tool, stamp: u64, variation: usize, favourite: bool) -> String {
    let star = if favourite { "-kept" } else { "" };
    format!("cadenza-{}-{stamp}-v{:02}{star}.mid", tool.rules().slug, variation + 1)
}

/// Keeps only what is safe in a file name; empty becomes "clip".
pub fn sanitize(name: &str) -> String {
    let cleaned: String =
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
    let trimmed = cleaned.trim_matches(|c| c == '-' || c == '.');
    if trimmed.is_empty() {
        "clip".into()
    } else {
        trimmed.chars().take(80).collect()
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed, then
/// renamed over the target. Creates the folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("clip.mid");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Exports one clip as a Standard MIDI File at `path` (atomically).
pub fn write_clip(clip: &Clip, path: &Path, bpm: f64, track_name: &str) -> Result<(), String> {
    let bytes = export_midi(clip, &ExportOptions::with_bpm(bpm, track_name))
        .map_err(|e| format!("could not export the clip: {e}"))?;
    write_atomically(path, &bytes).map_err(|e| format!("could not write {}: {e}", path.display()))
}

/// Writes every clip into `dir` as `cadenza-<tool>-<stamp>-vNN.mid`; returns the paths.
pub fn export_all(
    clips: &[Clip],
    favourites: &[bool],
    dir: &Path,
    tool: Tool,
    stamp: u64,
    bpm: f64,
) -> Result<Vec<PathBuf>, String> {
    let mut paths = Vec::with_capacity(clips.len());
    for (i, clip) in clips.iter().enumerate() {
        let fav = favourites.get(i).copied().unwrap_or(false);
        let path = dir.join(clip_file_name(tool, stamp, i, fav));
        write_clip(clip, &path, bpm, &format!("Cadenza {} {}", tool.rules().slug, i + 1))?;
        paths.push(path);
    }
    Ok(paths)
}

/// `file:///path` with everything outside RFC 3986's unreserved set and `/` percent-encoded, as
/// `text/uri-list` wants it.
pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    let text = path.to_string_lossy();
    for byte in text.as_bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => uri.push(*byte as char),
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// The paths in a `text/uri-list` body (`file://` URIs only; comments and other schemes skipped).
pub fn paths_from_uri_list(body: &str) -> Vec<PathBuf> {
    body.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("file://"))
        // "file://host/path": drop the host part (empty or localhost in practice).
        .map(|rest| if rest.starts_with('/') { rest } else { rest.find('/').map_or("", |i| &rest[i..]) })
        .map(|p| PathBuf::from(percent_decode(p)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Opens the folder in the system's file manager (never waits for it).
pub fn reveal(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    let program = if cfg!(target_os = "windows") {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(program)
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        // Reap it when it exits, off the UI thread.
        .map(|mut child| {
            let _ = std::thread::Builder::new().name("cadenza-reveal".into()).spawn(move || child.wait());
        })
        .map_err(|e| format!("could not open the folder with {program}: {e} (the folder is {})", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn data_dir_follows_xdg_then_home() {
        if cfg!(any(target_os = "windows", target_os = "macos")) {
            return;
        }
        let env = |xdg: Option<&str>, home: Option<&str>| {
            let (xdg, home) = (xdg.map(OsString::from), home.map(OsString::from));
            data_dir_from(move |n| match n {
                "XDG_DATA_HOME" => xdg.clone(),
                "HOME" => home.clone(),
                _ => None,
            })
        };
        assert_eq!(env(Some("/x/data"), Some("/home/a")), PathBuf::from("/x/data"));
        // A relative XDG path is invalid per the spec and ignored.
        assert_eq!(env(Some("rel"), Some("/home/a")), PathBuf::from("/home/a/.local/share"));
        assert_eq!(env(None, Some("/home/a")), PathBuf::from("/home/a/.local/share"));
    }

    #[test]
    fn names_are_safe_and_sortable() {
        assert_eq!(clip_file_name(Tool::Continue, 1700000000, 2, false), "cadenza-continue-1700000000-v03.mid");
        assert_eq!(clip_file_name(Tool::Groove, 5, 0, true), "cadenza-groove-5-v01-kept.mid");
        assert_eq!(sanitize("My Song: take 2/3"), "my-song--take-2-3");
        assert_eq!(sanitize("../.."), "clip");
    }

    #[test]
    fn uri_round_trip() {
        let path = Path::new("/tmp/a b/ü%.mid");
        let uri = file_uri(path);
        assert_eq!(uri, "file:///tmp/a%20b/%C3%BC%25.mid");
        assert_eq!(paths_from_uri_list(&format!("# comment\r\n{uri}\r\nhttp://x/y\r\n")), vec![path.to_path_buf()]);
        assert_eq!(paths_from_uri_list("file://localhost/tmp/x.mid"), vec![PathBuf::from("/tmp/x.mid")]);
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("cadenza-files-test-{}", std::process::id()));
        let path = dir.join("x.mid");
        write_atomically(&path, b"MThd").unwrap();
        write_atomically(&path, b"MThd2").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"MThd2");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![OsString::from("x.mid")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
