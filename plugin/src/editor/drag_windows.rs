//! Drag-out on Windows: the standard OLE drag source. A `CF_HDROP` data object names the written
//! `.mid` (a `DROPFILES` header and the full path, UTF-16, double-NUL-terminated, in an
//! `HGLOBAL`) — what Explorer hands out when a file is dragged, so every DAW that takes files from
//! Explorer takes it from Cadenza (Ableton Live, Bitwig, Reaper, FL Studio, Cubase, Studio One).
//!
//! `DoDragDrop` runs its own modal loop until the mouse button is released, on the editor's GUI
//! thread (the thread whose window got the button press, as OLE expects; measured under Wine: a
//! drag started on another thread ends at once, because that thread never saw the button go
//! down). It does not run inside the egui frame that asked for it (the frame would be re-entered
//! by the loop's paint messages): [`spawn_drag`] posts a message to a message-only window of the
//! GUI thread, and the drag starts when the host's message loop delivers it, right after the
//! frame. The outcome comes back on a handle, as the X11 drag's does. A GUI thread in a
//! multi-threaded COM apartment (where OLE drag and drop cannot run) gets the drag on a helper
//! thread instead.

use std::os::windows::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use windows::core::PCWSTR;
use windows::Win32::Foundation::{
    GlobalFree, DATA_S_SAMEFORMATETC, DRAGDROP_S_CANCEL, DRAGDROP_S_DROP, DRAGDROP_S_USEDEFAULTCURSORS, DV_E_FORMATETC,
    E_NOTIMPL, E_POINTER, HGLOBAL, HINSTANCE, HWND, LPARAM, LRESULT, OLE_E_ADVISENOTSUPPORTED, POINT,
    RPC_E_CHANGED_MODE, S_OK, WPARAM,
};
use windows::Win32::Graphics::Gdi::ScreenToClient;
use windows::Win32::System::Com::{
    IAdviseSink, IDataObject, IDataObject_Impl, IEnumFORMATETC, IEnumSTATDATA, DATADIR_GET, DVASPECT_CONTENT,
    FORMATETC, STGMEDIUM, STGMEDIUM_0, TYMED_HGLOBAL,
};
use windows::Win32::System::LibraryLoader::GetModuleHandleW;
use windows::Win32::System::Memory::{GlobalAlloc, GlobalLock, GlobalUnlock, GMEM_MOVEABLE};
use windows::Win32::System::Ole::{
    DoDragDrop, IDropSource, IDropSource_Impl, OleInitialize, OleUninitialize, CF_HDROP, DROPEFFECT, DROPEFFECT_COPY,
};
use windows::Win32::System::SystemServices::{MK_LBUTTON, MODIFIERKEYS_FLAGS};
use windows::Win32::UI::Input::KeyboardAndMouse::GetCapture;
use windows::Win32::UI::Shell::{SHCreateStdEnumFmtEtc, DROPFILES};
use windows::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DestroyWindow, GetCursorPos, PostMessageW, RegisterClassW, SetWindowLongPtrW,
    UnregisterClassW, GWLP_USERDATA, HWND_MESSAGE, WINDOW_EX_STYLE, WINDOW_STYLE, WM_APP, WM_LBUTTONUP, WNDCLASSW,
};
use windows_core::{implement, BOOL, HRESULT};

use super::xdnd::Outcome;

/// The one format the data object offers.
fn hdrop_format() -> FORMATETC {
    FORMATETC {
        cfFormat: CF_HDROP.0,
        ptd: std::ptr::null_mut(),
        dwAspect: DVASPECT_CONTENT.0,
        lindex: -1,
        tymed: TYMED_HGLOBAL.0 as u32,
    }
}

/// The bytes of a `CF_HDROP` `HGLOBAL` naming `paths`: a `DROPFILES` header (wide names), then
/// each path in UTF-16 with a NUL, then a final NUL.
pub fn hdrop_bytes(paths: &[&Path]) -> Vec<u8> {
    let header = DROPFILES {
        pFiles: std::mem::size_of::<DROPFILES>() as u32,
        pt: POINT { x: 0, y: 0 },
        fNC: BOOL(0),
        fWide: BOOL(1),
    };
    let mut bytes = Vec::new();
    // SAFETY: DROPFILES is plain old data (packed, no padding to leak).
    bytes.extend_from_slice(unsafe {
        std::slice::from_raw_parts(&header as *const DROPFILES as *const u8, std::mem::size_of::<DROPFILES>())
    });
    for path in paths {
        for unit in path.as_os_str().encode_wide().chain(Some(0)) {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
    }
    bytes.extend_from_slice(&0u16.to_le_bytes());
    bytes
}

/// The paths named by `CF_HDROP` bytes (the inverse of [`hdrop_bytes`], for tests and for
/// reading a drop).
pub fn paths_from_hdrop(bytes: &[u8]) -> Vec<PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    if bytes.len() < std::mem::size_of::<DROPFILES>() {
        return Vec::new();
    }
    // SAFETY: length checked; read_unaligned because the struct is packed.
    let header = unsafe { std::ptr::read_unaligned(bytes.as_ptr() as *const DROPFILES) };
    let start = header.pFiles as usize;
    if start > bytes.len() {
        return Vec::new();
    }
    let rest = &bytes[start..];
    if header.fWide.0 == 0 {
        return rest
            .split(|&b| b == 0)
            .take_while(|name| !name.is_empty())
            .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
            .collect();
    }
    let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    units
        .split(|&u| u == 0)
        .take_while(|name| !name.is_empty())
        .map(|name| PathBuf::from(std::ffi::OsString::from_wide(name)))
        .collect()
}

/// An `IDataObject` that offers one file as `CF_HDROP` (a fresh `HGLOBAL` for every `GetData`;
/// the receiver frees it with `ReleaseStgMedium`).
#[implement(IDataObject)]
pub struct FileDataObject {
    hdrop: Vec<u8>,
}

impl FileDataObject {
    pub fn new(path: &Path) -> Self {
        Self { hdrop: hdrop_bytes(&[path]) }
    }

    /// The object as the interface a drop target receives.
    pub fn create(path: &Path) -> IDataObject {
        Self::new(path).into()
    }
}

fn offers(format: *const FORMATETC) -> bool {
    // SAFETY: callers pass a valid FORMATETC or null (checked).
    let Some(format) = (unsafe { format.as_ref() }) else { return false };
    format.cfFormat == CF_HDROP.0
        && format.dwAspect == DVASPECT_CONTENT.0
        && format.tymed & TYMED_HGLOBAL.0 as u32 != 0
        && (format.lindex == -1 || format.lindex == 0)
}

impl IDataObject_Impl for FileDataObject_Impl {
    fn GetData(&self, format: *const FORMATETC) -> windows_core::Result<STGMEDIUM> {
        if !offers(format) {
            return Err(DV_E_FORMATETC.into());
        }
        // SAFETY: a movable global block of the right size, filled while locked.
        unsafe {
            let global: HGLOBAL = GlobalAlloc(GMEM_MOVEABLE, self.hdrop.len())?;
            let target = GlobalLock(global) as *mut u8;
            if target.is_null() {
                let _ = GlobalFree(Some(global));
                return Err(windows_core::Error::from_thread());
            }
            std::ptr::copy_nonoverlapping(self.hdrop.as_ptr(), target, self.hdrop.len());
            let _ = GlobalUnlock(global);
            Ok(STGMEDIUM {
                tymed: TYMED_HGLOBAL.0 as u32,
                u: STGMEDIUM_0 { hGlobal: global },
                pUnkForRelease: std::mem::ManuallyDrop::new(None),
            })
        }
    }

    fn GetDataHere(&self, _format: *const FORMATETC, _medium: *mut STGMEDIUM) -> windows_core::Result<()> {
        Err(E_NOTIMPL.into())
    }

    fn QueryGetData(&self, format: *const FORMATETC) -> HRESULT {
        if offers(format) {
            S_OK
        } else {
            DV_E_FORMATETC
        }
    }

    // The signature is COM's; the pointer comes from the caller and is checked for null.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    fn GetCanonicalFormatEtc(&self, _format_in: *const FORMATETC, format_out: *mut FORMATETC) -> HRESULT {
        if format_out.is_null() {
            return E_POINTER;
        }
        // SAFETY: checked for null; "the same format" means ptd must be null.
        unsafe { (*format_out).ptd = std::ptr::null_mut() };
        DATA_S_SAMEFORMATETC
    }

    fn SetData(
        &self,
        _format: *const FORMATETC,
        _medium: *const STGMEDIUM,
        _release: BOOL,
    ) -> windows_core::Result<()> {
        // Explorer offers drop descriptions and the like; nothing here takes them.
        Err(E_NOTIMPL.into())
    }

    fn EnumFormatEtc(&self, direction: u32) -> windows_core::Result<IEnumFORMATETC> {
        if direction != DATADIR_GET.0 as u32 {
            return Err(E_NOTIMPL.into());
        }
        // SAFETY: the shell copies the array.
        unsafe { SHCreateStdEnumFmtEtc(&[hdrop_format()]) }
    }

    fn DAdvise(
        &self,
        _format: *const FORMATETC,
        _advf: u32,
        _sink: windows_core::Ref<IAdviseSink>,
    ) -> windows_core::Result<u32> {
        Err(OLE_E_ADVISENOTSUPPORTED.into())
    }

    fn DUnadvise(&self, _connection: u32) -> windows_core::Result<()> {
        Err(OLE_E_ADVISENOTSUPPORTED.into())
    }

    fn EnumDAdvise(&self) -> windows_core::Result<IEnumSTATDATA> {
        Err(OLE_E_ADVISENOTSUPPORTED.into())
    }
}

/// The drag source: drop when the left button is released, cancel on Escape, default cursors.
#[implement(IDropSource)]
pub struct DropSource;

impl IDropSource_Impl for DropSource_Impl {
    fn QueryContinueDrag(&self, escape_pressed: BOOL, key_state: MODIFIERKEYS_FLAGS) -> HRESULT {
        if escape_pressed.as_bool() {
            DRAGDROP_S_CANCEL
        } else if key_state.0 & MK_LBUTTON.0 == 0 {
            DRAGDROP_S_DROP
        } else {
            S_OK
        }
    }

    fn GiveFeedback(&self, _effect: DROPEFFECT) -> HRESULT {
        DRAGDROP_S_USEDEFAULTCURSORS
    }
}

/// Why a drag on this thread did not happen or failed.
enum Failure {
    /// The thread is in a multi-threaded COM apartment; OLE drag and drop needs a single-threaded one.
    Apartment,
    Other(String),
}

/// Runs one OLE drag of `path` on the calling thread, which must be a single-threaded apartment
/// (or none yet): returns when the button is released. `Dropped` when a target took the copy.
pub fn run_drag(path: &Path) -> Result<Outcome, String> {
    drag_here(path).map_err(|f| match f {
        Failure::Apartment => "this thread is in a multi-threaded COM apartment".to_string(),
        Failure::Other(e) => e,
    })
}

fn drag_here(path: &Path) -> Result<Outcome, Failure> {
    if !path.is_file() {
        return Err(Failure::Other(format!("{} does not exist", path.display())));
    }
    // SAFETY: this thread's apartment, initialized (or its count raised) and uninitialized here.
    if let Err(e) = unsafe { OleInitialize(None) } {
        return Err(if e.code() == RPC_E_CHANGED_MODE {
            Failure::Apartment
        } else {
            Failure::Other(format!("OLE could not be initialized: {e}"))
        });
    }
    let result = ole_drag(path);
    // SAFETY: pairs with the OleInitialize above.
    unsafe { OleUninitialize() };
    result
}

/// `DoDragDrop` of `path` (OLE initialized on this thread).
fn ole_drag(path: &Path) -> Result<Outcome, Failure> {
    let data = FileDataObject::create(path);
    let source: IDropSource = DropSource.into();
    let mut effect = DROPEFFECT(0);
    // SAFETY: both objects live until DoDragDrop returns.
    let hr = unsafe { DoDragDrop(&data, &source, DROPEFFECT_COPY, &mut effect) };
    if hr == DRAGDROP_S_DROP && effect.0 & DROPEFFECT_COPY.0 != 0 {
        Ok(Outcome::Dropped { window: 0, confirmed: true })
    } else if hr == DRAGDROP_S_DROP || hr == DRAGDROP_S_CANCEL {
        Ok(Outcome::Cancelled)
    } else {
        Err(Failure::Other(format!("the drag failed: {}", windows_core::Error::from(hr))))
    }
}

/// The message that starts the drag.
const WM_CADENZA_DRAG: u32 = WM_APP + 0x2d;

/// A drag waiting for its message: the file, where the outcome goes, and the window that had the
/// mouse captured when it began (it is told the button went up afterwards).
struct PendingDrag {
    path: PathBuf,
    answer: mpsc::Sender<Result<Outcome, String>>,
    captured: Option<HWND>,
    class: Vec<u16>,
}

/// Starts a drag of `path` from the GUI thread (see the module docs); the outcome comes back on
/// the handle.
pub fn spawn_drag(path: PathBuf) -> std::io::Result<JoinHandle<Result<Outcome, String>>> {
    let (answer, outcome) = mpsc::channel();
    // SAFETY: GetCapture only reads this thread's state.
    let captured = Some(unsafe { GetCapture() }).filter(|h| !h.is_invalid());
    let pending = PendingDrag { path, answer, captured, class: Vec::new() };
    if let Err((pending, _reason)) = post_drag(pending) {
        // No message window: OLE on a helper thread (Windows takes it; Wine ends such a drag at
        // once).
        let PendingDrag { path, answer, .. } = pending;
        std::thread::Builder::new().name("cadenza-drag-ole".into()).spawn(move || {
            let _ = answer.send(run_drag(&path));
        })?;
    }
    std::thread::Builder::new()
        .name("cadenza-drag".into())
        .spawn(move || outcome.recv().unwrap_or_else(|_| Err("the drag never started".into())))
}

static DRAG_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Creates a message-only window on this thread (its own class, unregistered with it, so nothing
/// of it outlives the drag or the DLL) and posts it the drag.
fn post_drag(mut pending: PendingDrag) -> Result<(), (PendingDrag, String)> {
    let name = format!("cadenza-drag-{}-{}", std::process::id(), DRAG_COUNT.fetch_add(1, Ordering::Relaxed));
    pending.class = name.encode_utf16().chain(Some(0)).collect();
    // SAFETY: plain Win32 calls; the class name outlives the window (it moves with `pending`,
    // whose heap buffer does not move).
    unsafe {
        let instance = match GetModuleHandleW(None) {
            Ok(i) => HINSTANCE::from(i),
            Err(e) => return Err((pending, e.to_string())),
        };
        let class = WNDCLASSW {
            lpfnWndProc: Some(drag_window_proc),
            hInstance: instance,
            lpszClassName: PCWSTR(pending.class.as_ptr()),
            ..Default::default()
        };
        if RegisterClassW(&class) == 0 {
            return Err((pending, windows_core::Error::from_thread().to_string()));
        }
        let class_ptr = PCWSTR(pending.class.as_ptr());
        let window = match CreateWindowExW(
            WINDOW_EX_STYLE(0),
            class_ptr,
            PCWSTR::null(),
            WINDOW_STYLE(0),
            0,
            0,
            0,
            0,
            Some(HWND_MESSAGE),
            None,
            Some(instance),
            None,
        ) {
            Ok(w) => w,
            Err(e) => {
                let _ = UnregisterClassW(class_ptr, Some(instance));
                return Err((pending, e.to_string()));
            }
        };
        let boxed = Box::into_raw(Box::new(pending));
        SetWindowLongPtrW(window, GWLP_USERDATA, boxed as isize);
        if let Err(e) = PostMessageW(Some(window), WM_CADENZA_DRAG, WPARAM(0), LPARAM(0)) {
            SetWindowLongPtrW(window, GWLP_USERDATA, 0);
            let _ = DestroyWindow(window);
            let pending = *Box::from_raw(boxed);
            let _ = UnregisterClassW(PCWSTR(pending.class.as_ptr()), Some(instance));
            return Err((pending, e.to_string()));
        }
    }
    Ok(())
}

unsafe extern "system" fn drag_window_proc(window: HWND, message: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    if message != WM_CADENZA_DRAG {
        return unsafe { DefWindowProcW(window, message, wparam, lparam) };
    }
    // SAFETY: set by `post_drag` before the message was posted; taken once.
    let boxed = unsafe { SetWindowLongPtrW(window, GWLP_USERDATA, 0) } as *mut PendingDrag;
    if boxed.is_null() {
        return LRESULT(0);
    }
    let pending = unsafe { Box::from_raw(boxed) };
    // A panic must not leave a window procedure (it would abort the host).
    let outcome = match std::panic::catch_unwind(|| drag_here(&pending.path)) {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(Failure::Other(e))) => Err(e),
        // The host put its GUI thread in a multi-threaded apartment: the drag runs on a helper
        // thread in a single-threaded one.
        Ok(Err(Failure::Apartment)) => {
            let path = pending.path.clone();
            std::thread::spawn(move || run_drag(&path)).join().unwrap_or_else(|_| Err("the drag panicked".into()))
        }
        Err(_) => Err("the drag panicked".into()),
    };
    // The window that had the mouse captured never saw the button go up (the drag loop had the
    // capture): tell it, at the pointer's position, so it does not think a button is held.
    if let Some(captured) = pending.captured {
        let mut point = POINT::default();
        unsafe {
            if GetCursorPos(&mut point).is_ok() && ScreenToClient(captured, &mut point).as_bool() {
                let position = ((point.y as u16 as u32) << 16) | point.x as u16 as u32;
                let _ = PostMessageW(Some(captured), WM_LBUTTONUP, WPARAM(0), LPARAM(position as isize));
            }
        }
    }
    let _ = pending.answer.send(outcome);
    unsafe {
        let _ = DestroyWindow(window);
        if let Ok(instance) = GetModuleHandleW(None) {
            let _ = UnregisterClassW(PCWSTR(pending.class.as_ptr()), Some(HINSTANCE::from(instance)));
        }
    }
    LRESULT(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdrop_round_trip() {
        let path = Path::new(r"C:\Users\Ann Lee\AppData\Roaming\Cadenza\clips\cadenza-continue-1-v01.mid");
        let bytes = hdrop_bytes(&[path]);
        assert_eq!(u32::from_le_bytes(bytes[0..4].try_into().unwrap()), 20, "DROPFILES is 20 bytes");
        assert_eq!(paths_from_hdrop(&bytes), vec![path.to_path_buf()]);
        assert!(bytes.ends_with(&[0, 0, 0, 0]), "double NUL terminated");
    }
}
