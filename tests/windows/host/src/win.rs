//! Win32 helpers: which file a loaded module came from, paths compared the Windows way.

use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use windows::core::PCWSTR;
use windows::Win32::System::LibraryLoader::{GetModuleFileNameW, GetModuleHandleW};

pub fn wide(text: &str) -> Vec<u16> {
    std::ffi::OsStr::new(text).encode_wide().chain(Some(0)).collect()
}

/// The file the process loaded as module `name` (e.g. `onnxruntime.dll`), if it is loaded.
pub fn loaded_module(name: &str) -> Option<PathBuf> {
    let name = wide(name);
    // SAFETY: a NUL-terminated name; the handle is not kept.
    let module = unsafe { GetModuleHandleW(PCWSTR(name.as_ptr())) }.ok()?;
    let mut buffer = vec![0u16; 1024];
    let len = unsafe { GetModuleFileNameW(Some(module), &mut buffer) } as usize;
    (len > 0).then(|| PathBuf::from(std::ffi::OsString::from_wide(&buffer[..len])))
}

/// Whether two paths name the same file, compared as Windows does (case-insensitive, either
/// slash).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| p.to_string_lossy().replace('/', "\\").to_lowercase();
    norm(a) == norm(b)
}
