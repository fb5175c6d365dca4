//! Opens the CLAP editor in a host window (after a Continue, so the panel has results) and keeps
//! it open while the test takes its screenshot from the X side.

use std::ffi::{c_char, CStr};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap_sys::ext::gui::{clap_plugin_gui, clap_window, clap_window_handle, CLAP_EXT_GUI, CLAP_WINDOW_API_WIN32};
use serde_json::json;
use windows::core::PCWSTR;
use windows::Win32::Foundation::{HWND, LPARAM, LRESULT, RECT, WPARAM};
use windows::Win32::System::LibraryLoader::GetModuleHandleW;
use windows::Win32::UI::WindowsAndMessaging::{
    AdjustWindowRect, CreateWindowExW, DefWindowProcW, DestroyWindow, DispatchMessageW, PeekMessageW, RegisterClassW,
    TranslateMessage, MSG, PM_REMOVE, WINDOW_EX_STYLE, WNDCLASSW, WS_OVERLAPPEDWINDOW, WS_VISIBLE,
};

use crate::clap_host::ClapInstance;
use crate::scenario::{continue_melody, RATE};
use crate::win::wide;

unsafe extern "system" fn window_proc(hwnd: HWND, msg: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    unsafe { DefWindowProcW(hwnd, msg, wparam, lparam) }
}

/// A top-level host window with a client area of `width` x `height`.
pub fn host_window(title: &str, x: i32, y: i32, width: i32, height: i32) -> Result<HWND, String> {
    let class = wide("CadenzaWineHost");
    let title = wide(title);
    unsafe {
        let instance = GetModuleHandleW(None).map_err(|e| e.to_string())?;
        let wc = WNDCLASSW {
            lpfnWndProc: Some(window_proc),
            hInstance: instance.into(),
            lpszClassName: PCWSTR(class.as_ptr()),
            ..Default::default()
        };
        // A second registration fails harmlessly.
        RegisterClassW(&wc);
        let mut rect = RECT { left: 0, top: 0, right: width, bottom: height };
        let _ = AdjustWindowRect(&mut rect, WS_OVERLAPPEDWINDOW, false);
        CreateWindowExW(
            WINDOW_EX_STYLE(0),
            PCWSTR(class.as_ptr()),
            PCWSTR(title.as_ptr()),
            WS_OVERLAPPEDWINDOW | WS_VISIBLE,
            x,
            y,
            rect.right - rect.left,
            rect.bottom - rect.top,
            None,
            None,
            Some(instance.into()),
            None,
        )
        .map_err(|e| format!("the host window could not be created: {e}"))
    }
}

/// Dispatches this thread's messages for `duration`.
pub fn pump(duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        unsafe {
            let mut msg = MSG::default();
            while PeekMessageW(&mut msg, None, 0, 0, PM_REMOVE).as_bool() {
                let _ = TranslateMessage(&msg);
                DispatchMessageW(&msg);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn run(path: &str, seconds: f64) -> Result<String, String> {
    let path = PathBuf::from(path);
    let mut plugin = ClapInstance::load(&path)?;
    if !plugin.activate(RATE, 4096) {
        return Err("activate failed".into());
    }
    continue_melody(&mut plugin)?;
    let raw = plugin.raw();
    let gui = unsafe {
        let ext =
            ((*raw).get_extension.ok_or("no get_extension")?)(raw, CLAP_EXT_GUI.as_ptr()) as *const clap_plugin_gui;
        ext.as_ref().ok_or("the plugin has no GUI extension")?
    };
    let api: *const c_char = CLAP_WINDOW_API_WIN32.as_ptr();
    let (mut width, mut height) = (0u32, 0u32);
    unsafe {
        if !(gui.is_api_supported.unwrap())(raw, api, false) {
            return Err("the plugin does not support embedded win32 windows".into());
        }
        if !(gui.create.unwrap())(raw, api, false) {
            return Err("gui.create failed".into());
        }
        (gui.get_size.unwrap())(raw, &mut width, &mut height);
    }
    let window = host_window("Cadenza (Wine test host)", 20, 20, width as i32, height as i32)?;
    let parent = clap_window { api, specific: clap_window_handle { win32: window.0 } };
    unsafe {
        if !(gui.set_parent.unwrap())(raw, &parent) {
            return Err("gui.set_parent failed (see the plugin's log)".into());
        }
        if !(gui.show.unwrap())(raw) {
            return Err("gui.show failed".into());
        }
    }
    // Let it draw a few frames, then tell the test to look.
    pump(Duration::from_millis(2500));
    println!("EDITOR-READY {width} {height}");
    let _ = std::io::stdout().flush();
    pump(Duration::from_secs_f64(seconds));
    unsafe {
        (gui.hide.unwrap())(raw);
        (gui.destroy.unwrap())(raw);
        let _ = DestroyWindow(window);
    }
    let api_name = unsafe { CStr::from_ptr(api) }.to_string_lossy().into_owned();
    Ok(json!({ "editor": { "api": api_name, "width": width, "height": height } }).to_string())
}
