//! Drag-out on Windows: the OLE data object the plugin builds (`editor::drag_windows`), checked
//! directly, and a real OLE drag of it onto a drop target window.

use std::os::windows::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cadenza_plugin::editor::drag_windows::{spawn_drag, FileDataObject};
use cadenza_plugin::editor::files;
use cadenza_plugin::editor::xdnd::Outcome;
use cadenza_plugin::music::{import_midi_file, Clip, ImportOptions, Note, TimeSignature};
use cadenza_plugin::params::Tool;
use serde_json::json;
use windows::Win32::Foundation::{DV_E_FORMATETC, POINTL, S_OK};
use windows::Win32::System::Com::{IDataObject, DATADIR_GET, DVASPECT_CONTENT, FORMATETC, TYMED_HGLOBAL};
use windows::Win32::System::Ole::{
    IDropTarget, IDropTarget_Impl, OleInitialize, RegisterDragDrop, ReleaseStgMedium, RevokeDragDrop, CF_HDROP,
    CF_UNICODETEXT, DROPEFFECT, DROPEFFECT_COPY,
};
use windows::Win32::System::SystemServices::MODIFIERKEYS_FLAGS;
use windows::Win32::UI::Input::KeyboardAndMouse::{
    SendInput, INPUT, INPUT_0, INPUT_MOUSE, MOUSEEVENTF_ABSOLUTE, MOUSEEVENTF_LEFTDOWN, MOUSEEVENTF_LEFTUP,
    MOUSEEVENTF_MOVE, MOUSEINPUT,
};
use windows::Win32::UI::Shell::{DragQueryFileW, HDROP};
use windows::Win32::UI::WindowsAndMessaging::{
    GetSystemMetrics, SetWindowPos, HWND_TOPMOST, SM_CXSCREEN, SM_CYSCREEN, SWP_NOMOVE, SWP_NOSIZE,
};
use windows_core::{implement, Ref};

use crate::editor::{host_window, pump};

fn hdrop_format(cf: u16) -> FORMATETC {
    FORMATETC {
        cfFormat: cf,
        ptd: std::ptr::null_mut(),
        dwAspect: DVASPECT_CONTENT.0,
        lindex: -1,
        tymed: TYMED_HGLOBAL.0 as u32,
    }
}

/// The files a data object offers as `CF_HDROP`, read the way a DAW reads them
/// (`GetData` + `DragQueryFileW`), the medium released afterwards.
fn dropped_files(data: &IDataObject) -> Result<Vec<PathBuf>, String> {
    unsafe {
        let mut medium = data.GetData(&hdrop_format(CF_HDROP.0)).map_err(|e| format!("GetData(CF_HDROP): {e}"))?;
        let hdrop = HDROP(medium.u.hGlobal.0);
        let count = DragQueryFileW(hdrop, u32::MAX, None);
        let mut paths = Vec::new();
        for index in 0..count {
            let mut buffer = vec![0u16; 1024];
            let len = DragQueryFileW(hdrop, index, Some(&mut buffer)) as usize;
            paths.push(PathBuf::from(std::ffi::OsString::from_wide(&buffer[..len])));
        }
        ReleaseStgMedium(&mut medium);
        Ok(paths)
    }
}

/// The clip the panel would drag as its third variation of a Continue batch, written where the
/// panel writes it (`<%APPDATA%>\Cadenza\clips\`).
fn write_selected_clip() -> Result<(PathBuf, Clip), String> {
    let note = |pitch, start, end| Note { pitch, velocity: 100, start, end, channel: 0 };
    let clip = Clip {
        notes: vec![note(60, 0, 480), note(64, 480, 720), note(67, 1680, 1920)],
        bars: 1,
        time_signature: TimeSignature::FOUR_FOUR,
        is_drum: false,
    };
    let path = files::clips_dir().join(files::clip_file_name(Tool::Continue, 1_764_000_000, 2, false));
    files::write_clip(&clip, &path, 120.0, "Cadenza 3")?;
    Ok((path, clip))
}

fn check_file(path: &Path, clip: &Clip) -> Result<(), String> {
    let imported = import_midi_file(path, &ImportOptions::default())
        .map_err(|e| format!("the dropped file is not a clip: {e}"))?;
    if imported.clip.notes.len() != clip.notes.len() {
        return Err(format!("the dropped file holds {} notes, not {}", imported.clip.notes.len(), clip.notes.len()));
    }
    Ok(())
}

pub fn data_object() -> Result<String, String> {
    let (path, clip) = write_selected_clip()?;
    let appdata = std::env::var("APPDATA").map_err(|_| "APPDATA is not set")?;
    let shown = path.display().to_string();
    if !shown.starts_with(&appdata) || !shown.contains(r"\Cadenza\clips\") || shown.contains('/') {
        return Err(format!("the clip path {shown} does not follow Windows conventions (%APPDATA% is {appdata})"));
    }
    let data = FileDataObject::create(&path);
    unsafe {
        if data.QueryGetData(&hdrop_format(CF_HDROP.0)) != S_OK {
            return Err("QueryGetData(CF_HDROP) is not S_OK".into());
        }
        if data.QueryGetData(&hdrop_format(CF_UNICODETEXT.0)) != DV_E_FORMATETC {
            return Err("QueryGetData(CF_UNICODETEXT) is not DV_E_FORMATETC".into());
        }
        let formats = data.EnumFormatEtc(DATADIR_GET.0 as u32).map_err(|e| format!("EnumFormatEtc: {e}"))?;
        let mut listed = [FORMATETC::default(); 4];
        let mut count = 0u32;
        let _ = formats.Next(&mut listed, Some(&mut count));
        if count != 1 || listed[0].cfFormat != CF_HDROP.0 || listed[0].tymed != TYMED_HGLOBAL.0 as u32 {
            return Err(format!("EnumFormatEtc lists {count} formats, first {}", listed[0].cfFormat));
        }
    }
    let paths = dropped_files(&data)?;
    if paths != vec![path.clone()] {
        return Err(format!("CF_HDROP names {paths:?}, not {}", path.display()));
    }
    check_file(&paths[0], &clip)?;
    Ok(json!({ "data_object": { "cf_hdrop": paths[0].display().to_string(), "formats": ["CF_HDROP/TYMED_HGLOBAL"] } })
        .to_string())
}

/// A drop target that keeps what was dropped on it.
#[implement(IDropTarget)]
struct Target {
    dropped: Arc<Mutex<Option<Vec<PathBuf>>>>,
    entered: Arc<AtomicUsize>,
}

impl IDropTarget_Impl for Target_Impl {
    fn DragEnter(
        &self,
        _data: Ref<IDataObject>,
        _keys: MODIFIERKEYS_FLAGS,
        _pt: &POINTL,
        effect: *mut DROPEFFECT,
    ) -> windows_core::Result<()> {
        self.entered.fetch_add(1, Ordering::SeqCst);
        unsafe { *effect = DROPEFFECT_COPY };
        Ok(())
    }
    fn DragOver(&self, _keys: MODIFIERKEYS_FLAGS, _pt: &POINTL, effect: *mut DROPEFFECT) -> windows_core::Result<()> {
        unsafe { *effect = DROPEFFECT_COPY };
        Ok(())
    }
    fn DragLeave(&self) -> windows_core::Result<()> {
        Ok(())
    }
    fn Drop(
        &self,
        data: Ref<IDataObject>,
        _keys: MODIFIERKEYS_FLAGS,
        _pt: &POINTL,
        effect: *mut DROPEFFECT,
    ) -> windows_core::Result<()> {
        let paths = data
            .ok()
            .map_err(|_| windows_core::Error::empty())
            .and_then(|d| dropped_files(d).map_err(|_| windows_core::Error::empty()));
        *self.dropped.lock().unwrap() = Some(paths.unwrap_or_default());
        unsafe { *effect = DROPEFFECT_COPY };
        Ok(())
    }
}

fn mouse(flags: windows::Win32::UI::Input::KeyboardAndMouse::MOUSE_EVENT_FLAGS, x: i32, y: i32) {
    let (w, h) = unsafe { (GetSystemMetrics(SM_CXSCREEN).max(2), GetSystemMetrics(SM_CYSCREEN).max(2)) };
    let input = INPUT {
        r#type: INPUT_MOUSE,
        Anonymous: INPUT_0 {
            mi: MOUSEINPUT {
                dx: x * 65535 / (w - 1),
                dy: y * 65535 / (h - 1),
                mouseData: 0,
                dwFlags: flags | MOUSEEVENTF_MOVE | MOUSEEVENTF_ABSOLUTE,
                time: 0,
                dwExtraInfo: 0,
            },
        },
    };
    unsafe { SendInput(&[input], std::mem::size_of::<INPUT>() as i32) };
}

/// A real OLE drag of the clip: the button goes down over a source window, the drag starts as the
/// panel starts it (`spawn_drag` on the GUI thread, during its frame; the drag itself begins when
/// this thread's message loop delivers it), the mouse moves onto the target window
/// (`RegisterDragDrop`, same process) and the button is released there.
pub fn drop() -> Result<String, String> {
    let (path, clip) = write_selected_clip()?;
    unsafe { OleInitialize(None) }.map_err(|e| format!("OleInitialize: {e}"))?;
    let source = host_window("drag source", 40, 40, 200, 200)?;
    let target = host_window("drop target", 400, 40, 300, 300)?;
    for window in [source, target] {
        unsafe {
            let _ = SetWindowPos(window, Some(HWND_TOPMOST), 0, 0, 0, 0, SWP_NOMOVE | SWP_NOSIZE);
        }
    }
    let dropped = Arc::new(Mutex::new(None));
    let entered = Arc::new(AtomicUsize::new(0));
    let drop_target: IDropTarget = Target { dropped: dropped.clone(), entered: entered.clone() }.into();
    unsafe { RegisterDragDrop(target, &drop_target) }.map_err(|e| format!("RegisterDragDrop: {e}"))?;
    pump(Duration::from_millis(500));

    // The "musician": press over the source, start the drag, glide to the target, let go.
    let (sx, sy) = (140, 140);
    let (tx, ty) = (550, 190);
    mouse(MOUSEEVENTF_MOVE, sx, sy);
    pump(Duration::from_millis(200));
    mouse(MOUSEEVENTF_LEFTDOWN, sx, sy);
    pump(Duration::from_millis(200));
    let mut handle = Some(spawn_drag(path.clone()).map_err(|e| format!("spawn_drag: {e}"))?);
    let robot = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        for step in 1..=12 {
            let x = sx + (tx - sx) * step / 12;
            let y = sy + (ty - sy) * step / 12;
            mouse(MOUSEEVENTF_MOVE, x, y);
            std::thread::sleep(Duration::from_millis(120));
        }
        std::thread::sleep(Duration::from_millis(400));
        mouse(MOUSEEVENTF_LEFTUP, tx, ty);
    });
    let begun = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(20);
    let outcome = loop {
        pump(Duration::from_millis(50));
        if handle.as_ref().is_some_and(|h| h.is_finished()) {
            break handle.take().unwrap().join().map_err(|_| "the drag thread panicked".to_string())?;
        }
        if Instant::now() > deadline {
            return Err("the drag did not end within 20 s".into());
        }
    };
    let drag_seconds = begun.elapsed().as_secs_f64();
    let _ = robot.join();
    pump(Duration::from_millis(300));
    unsafe {
        let _ = RevokeDragDrop(target);
    }
    let got = dropped.lock().unwrap().clone();
    let report = json!({
        "drop": {
            "outcome": format!("{outcome:?}"),
            "drag_seconds": drag_seconds,
            "target_entered": entered.load(Ordering::SeqCst),
            "dropped": got.as_ref().map(|p| p.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()),
        }
    });
    match (&outcome, &got) {
        (Ok(Outcome::Dropped { .. }), Some(paths)) if paths == &vec![path.clone()] => {
            check_file(&paths[0], &clip)?;
            Ok(report.to_string())
        }
        _ => Err(format!("the drop did not deliver {}: {report}", path.display())),
    }
}
