//! Linux drag-out: an XDND drag source on its own X connection and helper thread.
//!
//! The editor's window belongs to the host's/baseview's connection and the mouse button that
//! started the drag is already held (an automatic grab owned by that connection), so instead of
//! grabbing the pointer this source *polls* it (`QueryPointer`, every few milliseconds): where
//! it is, which XDND-aware window is under it, whether the button is still down. The protocol
//! decisions are in [`super::xdnd::Source`]; this file only talks X. The dropped data is
//! `text/uri-list` (also `text/plain`) naming the .mid file written beforehand.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, KeyButMask, PropMode,
    SelectionNotifyEvent, SelectionRequestEvent, Window, WindowClass, SELECTION_NOTIFY_EVENT,
};
use x11rb::protocol::Event;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::CURRENT_TIME;

use super::files::file_uri;
use super::xdnd::{Input, Outcome, Output, Source, XDND_VERSION};

/// How often the pointer is polled during a drag.
const POLL: Duration = Duration::from_millis(8);
/// A drag with the button held longer than this is abandoned.
const DRAG_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a target may take to answer a position or to finish after the drop.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Atoms {
    pub xdnd_aware: Atom,
    pub xdnd_selection: Atom,
    pub xdnd_enter: Atom,
    pub xdnd_position: Atom,
    pub xdnd_status: Atom,
    pub xdnd_leave: Atom,
    pub xdnd_drop: Atom,
    pub xdnd_finished: Atom,
    pub xdnd_action_copy: Atom,
    pub xdnd_type_list: Atom,
    pub xdnd_proxy: Atom,
    pub uri_list: Atom,
    pub text_plain: Atom,
    pub targets: Atom,
}

impl Atoms {
    pub fn intern(conn: &impl Connection) -> Result<Self, String> {
        let get = |name: &str| -> Result<Atom, String> {
            conn.intern_atom(false, name.as_bytes())
                .map_err(|e| e.to_string())?
                .reply()
                .map(|r| r.atom)
                .map_err(|e| e.to_string())
        };
        Ok(Self {
            xdnd_aware: get("XdndAware")?,
            xdnd_selection: get("XdndSelection")?,
            xdnd_enter: get("XdndEnter")?,
            xdnd_position: get("XdndPosition")?,
            xdnd_status: get("XdndStatus")?,
            xdnd_leave: get("XdndLeave")?,
            xdnd_drop: get("XdndDrop")?,
            xdnd_finished: get("XdndFinished")?,
            xdnd_action_copy: get("XdndActionCopy")?,
            xdnd_type_list: get("XdndTypeList")?,
            xdnd_proxy: get("XdndProxy")?,
            uri_list: get("text/uri-list")?,
            text_plain: get("text/plain")?,
            targets: get("TARGETS")?,
        })
    }
}

/// Runs one drag of `path` to completion on the calling thread (call it on a helper thread).
/// `display` is the X display (`None`: `$DISPLAY`). The mouse button must be held when called.
pub fn run_drag(path: &Path, display: Option<&str>) -> Result<Outcome, String> {
    let (conn, screen_num) = x11rb::connect(display).map_err(|e| format!("cannot open the X display: {e}"))?;
    let root = conn.setup().roots[screen_num].root;
    let atoms = Atoms::intern(&conn)?;
    let err = |e: &dyn std::fmt::Display| format!("X11 drag failed: {e}");

    // An unmapped input-only window owns the selection and receives the target's answers.
    let source = conn.generate_id().map_err(|e| err(&e))?;
    conn.create_window(0, source, root, -10, -10, 1, 1, 0, WindowClass::INPUT_ONLY, 0, &CreateWindowAux::new())
        .map_err(|e| err(&e))?;
    let types = [atoms.uri_list, atoms.text_plain];
    conn.change_property32(PropMode::REPLACE, source, atoms.xdnd_type_list, AtomEnum::ATOM, &types)
        .map_err(|e| err(&e))?;
    conn.set_selection_owner(source, atoms.xdnd_selection, CURRENT_TIME).map_err(|e| err(&e))?;
    conn.flush().map_err(|e| err(&e))?;

    let payload = format!("{}\r\n", file_uri(path));
    let mut drag = Source::new();
    let started = Instant::now();
    // When the target last answered (or the drag last changed target).
    let mut last_answer = Instant::now();
    let mut last_position = None;
    let mut drop_sent = false;
    // Where each target's messages go (its XdndProxy, or itself).
    let mut proxies = std::collections::HashMap::new();
    let outcome = loop {
        // Answers from the target and requests for the data.
        while let Some(event) = conn.poll_for_event().map_err(|e| err(&e))? {
            match event {
                Event::ClientMessage(msg) if msg.type_ == atoms.xdnd_status => {
                    let data = msg.data.as_data32();
                    for o in drag.handle(Input::Status { window: data[0], accept: data[1] & 1 == 1 }) {
                        send(&conn, &atoms, source, o, |w| proxies.get(&w).copied().unwrap_or(w))?;
                    }
                    last_answer = Instant::now();
                }
                Event::ClientMessage(msg) if msg.type_ == atoms.xdnd_finished => {
                    drag.handle(Input::Finished { window: msg.data.as_data32()[0] });
                }
                Event::SelectionRequest(request) => answer_selection(&conn, &atoms, &request, payload.as_bytes())?,
                _ => {}
            }
        }
        if let Some(outcome) = drag.outcome() {
            break outcome;
        }
        // The target's time to answer the drop counts from the drop, not from its last status
        // (reading the data can take a while on a busy machine).
        if drag.awaiting_finished() && !drop_sent {
            drop_sent = true;
            last_answer = Instant::now();
        }
        let timed_out =
            started.elapsed() > DRAG_TIMEOUT || (drag.awaiting_answer() && last_answer.elapsed() > ANSWER_TIMEOUT);
        let input = if timed_out {
            Some(Input::Timeout)
        } else {
            let pointer = conn.query_pointer(root).map_err(|e| err(&e))?.reply().map_err(|e| err(&e))?;
            if pointer.mask.contains(KeyButMask::BUTTON1) {
                let found = find_target_and_proxy(&conn, &atoms, root)?;
                if let Some((window, _, dest)) = found {
                    proxies.insert(window, dest);
                }
                let target = found.map(|(window, version, _)| (window, version));
                let position = (target, pointer.root_x, pointer.root_y);
                // Only motion (or a new window under the pointer) is news to the target.
                (last_position != Some(position)).then(|| {
                    last_position = Some(position);
                    Input::Moved { target, x: pointer.root_x, y: pointer.root_y, time: CURRENT_TIME }
                })
            } else {
                Some(Input::Released { time: CURRENT_TIME })
            }
        };
        if let Some(input) = input {
            let (was_awaiting, was_over) = (drag.awaiting_answer(), drag.target());
            for o in drag.handle(input) {
                send(&conn, &atoms, source, o, |w| proxies.get(&w).copied().unwrap_or(w))?;
            }
            // The clock for the target's answer starts when we start waiting for one.
            if drag.awaiting_answer() && (!was_awaiting || drag.target() != was_over) {
                last_answer = Instant::now();
            }
        }
        conn.flush().map_err(|e| err(&e))?;
        std::thread::sleep(POLL);
    };
    let _ = conn.destroy_window(source);
    let _ = conn.flush();
    Ok(outcome)
}

/// The XDND-aware window under the pointer and its version: descends from the root through the
/// windows under the pointer and takes the first one with `XdndAware` (or with a valid
/// `XdndProxy` whose proxy is aware).
pub fn find_target(conn: &impl Connection, atoms: &Atoms, root: Window) -> Result<Option<(Window, u8)>, String> {
    Ok(find_target_and_proxy(conn, atoms, root)?.map(|(window, version, _)| (window, version)))
}

/// [`find_target`] plus where its messages go (the proxy, or the window itself).
pub fn find_target_and_proxy(
    conn: &impl Connection,
    atoms: &Atoms,
    root: Window,
) -> Result<Option<(Window, u8, Window)>, String> {
    let mut window = root;
    for _ in 0..16 {
        let reply = conn.query_pointer(window).map_err(|e| e.to_string())?.reply().map_err(|e| e.to_string())?;
        if reply.child == x11rb::NONE {
            return Ok(None);
        }
        window = reply.child;
        // XdndProxy counts only if the proxy's own XdndProxy points to itself.
        let proxy = first_u32(conn, window, atoms.xdnd_proxy, AtomEnum::WINDOW.into())?
            .filter(|&p| first_u32(conn, p, atoms.xdnd_proxy, AtomEnum::WINDOW.into()).ok().flatten() == Some(p));
        let dest = proxy.unwrap_or(window);
        if let Some(version) = first_u32(conn, dest, atoms.xdnd_aware, AtomEnum::ATOM.into())? {
            return Ok(Some((window, version.min(255) as u8, dest)));
        }
    }
    Ok(None)
}

fn first_u32(conn: &impl Connection, window: Window, property: Atom, kind: Atom) -> Result<Option<u32>, String> {
    let reply = match conn.get_property(false, window, property, kind, 0, 1).map_err(|e| e.to_string())?.reply() {
        Ok(reply) => reply,
        // The window may vanish between the query and the read.
        Err(x11rb::errors::ReplyError::X11Error(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    Ok(reply.value32().and_then(|mut v| v.next()))
}

/// Sends one protocol message; `dest` is where messages for the target go (its proxy, if any).
fn send(
    conn: &impl Connection,
    atoms: &Atoms,
    source: Window,
    output: Output,
    dest: impl Fn(Window) -> Window,
) -> Result<(), String> {
    let (window, kind, data) = match output {
        Output::Enter { window, version } => {
            (window, atoms.xdnd_enter, [source, (version as u32) << 24, atoms.uri_list, atoms.text_plain, 0])
        }
        Output::Position { window, x, y, time } => (
            window,
            atoms.xdnd_position,
            [source, 0, ((x as u16 as u32) << 16) | y as u16 as u32, time, atoms.xdnd_action_copy],
        ),
        Output::Leave { window } => (window, atoms.xdnd_leave, [source, 0, 0, 0, 0]),
        Output::Drop { window, time } => (window, atoms.xdnd_drop, [source, 0, time, 0, 0]),
    };
    let event = ClientMessageEvent::new(32, window, kind, data);
    conn.send_event(false, dest(window), EventMask::NO_EVENT, event).map_err(|e| e.to_string())?;
    conn.flush().map_err(|e| e.to_string())?;
    Ok(())
}

/// Answers a target's `ConvertSelection` of `XdndSelection` with the file's URI.
fn answer_selection(
    conn: &impl Connection,
    atoms: &Atoms,
    request: &SelectionRequestEvent,
    payload: &[u8],
) -> Result<(), String> {
    let property = if request.property == x11rb::NONE { request.target } else { request.property };
    let supported = request.selection == atoms.xdnd_selection;
    let stored = if supported && (request.target == atoms.uri_list || request.target == atoms.text_plain) {
        conn.change_property8(PropMode::REPLACE, request.requestor, property, request.target, payload)
            .map_err(|e| e.to_string())?;
        property
    } else if supported && request.target == atoms.targets {
        conn.change_property32(
            PropMode::REPLACE,
            request.requestor,
            property,
            AtomEnum::ATOM,
            &[atoms.uri_list, atoms.text_plain],
        )
        .map_err(|e| e.to_string())?;
        property
    } else {
        x11rb::NONE
    };
    let notify = SelectionNotifyEvent {
        response_type: SELECTION_NOTIFY_EVENT,
        sequence: 0,
        time: request.time,
        requestor: request.requestor,
        selection: request.selection,
        target: request.target,
        property: stored,
    };
    conn.send_event(false, request.requestor, EventMask::NO_EVENT, notify).map_err(|e| e.to_string())?;
    conn.flush().map_err(|e| e.to_string())?;
    Ok(())
}

/// Starts a drag of `path` on a helper thread; the outcome comes back on the handle.
pub fn spawn_drag(path: PathBuf) -> std::io::Result<std::thread::JoinHandle<Result<Outcome, String>>> {
    std::thread::Builder::new().name("cadenza-drag".into()).spawn(move || run_drag(&path, None))
}

/// Our XDND version, for the tests' target windows.
pub const VERSION: u8 = XDND_VERSION;
