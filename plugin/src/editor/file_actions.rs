//! Everything the panel does with files: loading a `.mid` into an input (file dialog, dropped
//! file, or a path from a test), exporting results, and the drag-out plumbing. Slow work runs on
//! helper threads (`cadenza-load`, `cadenza-file-dialog`, the X11 drag source); their answers
//! come back over `mpsc` channels or `JoinHandle`s that [`Panel::poll_files`] checks each frame,
//! so the GUI thread never waits.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use cadenza_music::{import_midi_file, Clip, ImportOptions};
use egui::Pos2;

use super::file_dialog::{self, DialogOpener, Picked};
use super::files;
use super::layout::slot_name;
use super::panel::Panel;
use super::xdnd::Outcome;
use crate::params::{Mode, Tool};
use crate::session::INPUT_SLOTS;

/// Starts an OS drag of a written .mid file (Linux: XDND on a helper thread; tests put their
/// own in). Returns what to tell the musician.
pub type DragStarter = Box<dyn FnMut(PathBuf) -> Result<DragStarted, String> + Send>;

/// A drag that has begun: what to tell the user now and, where the platform reports it, the
/// outcome to come.
pub struct DragStarted {
    /// For the status line.
    pub message: String,
    /// The drag source's thread, answering when the musician lets go; `None` where the platform
    /// does not report it.
    pub outcome: Option<JoinHandle<Result<Outcome, String>>>,
}

/// The platform's drag-out: XDND on Linux/X11, OLE `DoDragDrop` with a `CF_HDROP` data object
/// on Windows (`drag_windows`), an "exported, drag it from the folder" message elsewhere (and on
/// Linux without an X display).
pub fn platform_drag_starter() -> DragStarter {
    Box::new(|path: PathBuf| {
        #[cfg(target_os = "windows")]
        if let Ok(handle) = super::drag_windows::spawn_drag(path.clone()) {
            return Ok(DragStarted {
                message: format!("Dragging {} — drop it on a track", file_label(&path)),
                outcome: Some(handle),
            });
        }
        #[cfg(target_os = "linux")]
        {
            if std::env::var_os("DISPLAY").is_some() {
                return super::x11_drag::spawn_drag(path.clone())
                    .map(|handle| DragStarted {
                        message: format!("Dragging {} — drop it on a track", file_label(&path)),
                        outcome: Some(handle),
                    })
                    .map_err(|e| format!("Could not start the drag: {e}"));
            }
        }
        Err(format!(
            "Drag-out is not available here yet; the clip was saved as {} — use Reveal folder and drag it from there",
            path.display()
        ))
    })
}

fn file_label(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// File work in flight and the platform hooks that start it.
pub struct FileActions {
    /// A .mid being read on a `cadenza-load` thread: the slot it goes to, and its answer.
    loading: Option<(usize, mpsc::Receiver<Result<Clip, String>>)>,
    /// An open file dialog: the slot its file goes to, and its answer.
    dialog: Option<(usize, mpsc::Receiver<Picked>)>,
    /// Opens the file dialog ([`file_dialog::open_midi`] unless a test swapped it).
    dialog_opener: DialogOpener,
    /// Starts drag-outs ([`platform_drag_starter`] unless a test swapped it).
    drag_starter: DragStarter,
    /// The OS drag in progress and the dragged file's name; its outcome arrives when the
    /// musician lets go.
    drag_in_flight: Option<(JoinHandle<Result<Outcome, String>>, String)>,
}

impl Default for FileActions {
    fn default() -> Self {
        Self {
            loading: None,
            dialog: None,
            dialog_opener: Box::new(file_dialog::open_midi),
            drag_starter: platform_drag_starter(),
            drag_in_flight: None,
        }
    }
}

impl FileActions {
    /// Whether a load or a dialog is under way (the panel polls faster and greys the buttons).
    pub fn busy(&self) -> bool {
        self.loading.is_some() || self.dialog.is_some()
    }
}

impl Panel {
    pub fn set_drag_starter(&mut self, starter: DragStarter) {
        self.files.drag_starter = starter;
    }

    pub fn set_dialog_opener(&mut self, opener: DialogOpener) {
        self.files.dialog_opener = opener;
    }

    /// Whether the Open buttons can be used now.
    pub(super) fn can_open_files(&self) -> bool {
        !self.files.busy()
    }

    /// Loads a .mid into input `slot` on a helper thread (a slow disk never freezes the panel).
    pub fn load_file(&mut self, slot: usize, path: PathBuf) {
        if path.as_os_str().is_empty() || slot >= INPUT_SLOTS {
            return;
        }
        let drums = self.params.tool.value() == Tool::Groove || self.params.mode.value() == Mode::Drums;
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("cadenza-load".into()).spawn(move || {
            let result = import_midi_file(&path, &ImportOptions::default())
                .map(|import| {
                    let mut clip = import.clip;
                    clip.is_drum |= drums;
                    clip
                })
                .map_err(|e| format!("Could not load {}: {e}", path.display()));
            let _ = tx.send(result);
        });
        match spawned {
            Ok(_) => self.files.loading = Some((slot, rx)),
            Err(e) => self.say(format!("Could not start loading: {e}"), false),
        }
    }

    /// Opens the file dialog for input `slot`; the chosen file is loaded when it answers.
    pub fn open_dialog(&mut self, slot: usize) {
        if self.files.busy() {
            return;
        }
        let start = Some(PathBuf::from(self.export_dir.trim())).filter(|dir| dir.is_dir());
        match (self.files.dialog_opener)(start) {
            Ok(answer) => self.files.dialog = Some((slot, answer)),
            Err(reason) => self.say(reason, false),
        }
    }

    /// Loads a `.mid` dropped on the panel: into the input under the pointer, else input A.
    pub(super) fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let (dropped, pointer): (Vec<PathBuf>, Option<Pos2>) = ctx.input(|i| {
            let files = i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect();
            (files, i.pointer.latest_pos())
        });
        let Some(path) = dropped.into_iter().find(|p| is_midi(p)) else { return };
        let slot = pointer
            .and_then(|at| self.slot_rects.iter().position(|r| r.is_some_and(|r| r.expand(12.0).contains(at))))
            .unwrap_or(0);
        self.load_file(slot, path);
    }

    /// Writes result `index` to Cadenza's clips folder and starts the OS drag of it.
    pub fn drag_out(&mut self, index: usize) {
        if self.files.drag_in_flight.is_some() {
            return self.say("A drag is still in progress", false);
        }
        let Some(path) = self.write_result(index, &files::clips_dir()) else { return };
        match (self.files.drag_starter)(path.clone()) {
            Ok(started) => {
                self.say(started.message, true);
                self.files.drag_in_flight = started.outcome.map(|handle| (handle, file_label(&path)));
            }
            Err(e) => self.say(e, false),
        }
    }

    /// Saves result `index` into the export folder (the "Export" fallback of drag-out).
    pub fn export_one(&mut self, index: usize) {
        let dir = PathBuf::from(self.export_dir.trim());
        if let Some(path) = self.write_result(index, &dir) {
            self.say(format!("Saved {}", path.display()), true);
        }
    }

    fn write_result(&mut self, index: usize, dir: &Path) -> Option<PathBuf> {
        let shown = self.results.get(index)?;
        let tool = self.params.tool.value();
        let fav = self.favourites.get(index).copied().unwrap_or(false);
        let path = dir.join(files::clip_file_name(tool, self.batch_stamp, index, fav));
        match files::write_clip(&shown.clip, &path, self.channels.host_tempo(), &format!("Cadenza {}", index + 1)) {
            Ok(()) => Some(path),
            Err(e) => {
                self.say(e, false);
                None
            }
        }
    }

    /// Writes every result into the export folder.
    pub fn export_all(&mut self) {
        let dir = PathBuf::from(self.export_dir.trim());
        let clips: Vec<Clip> = self.results.iter().map(|s| s.clip.clone()).collect();
        match files::export_all(
            &clips,
            &self.favourites,
            &dir,
            self.params.tool.value(),
            self.batch_stamp,
            self.channels.host_tempo(),
        ) {
            Ok(paths) => self.say(format!("Exported {} clips to {}", paths.len(), dir.display()), true),
            Err(e) => self.say(e, false),
        }
    }

    /// Opens the export folder in the file manager.
    pub(super) fn reveal_export_dir(&mut self) {
        if let Err(e) = files::reveal(Path::new(self.export_dir.trim())) {
            self.say(e, false);
        }
    }

    /// Takes the answers of the helper threads: a finished drag, a picked file, a loaded clip.
    pub(super) fn poll_files(&mut self) {
        if self.files.drag_in_flight.as_ref().is_some_and(|(handle, _)| handle.is_finished()) {
            if let Some((handle, name)) = self.files.drag_in_flight.take() {
                match handle.join() {
                    Ok(Ok(Outcome::Dropped { .. })) => self.say(format!("Dropped {name}"), true),
                    Ok(Ok(Outcome::Cancelled)) => {
                        self.say(format!("Nothing took the drop; {name} is in Cadenza's clips folder"), false)
                    }
                    Ok(Err(e)) => self.say(e, false),
                    Err(_) => self.say("The drag failed", false),
                }
            }
        }
        if let Some((slot, answer)) = &self.files.dialog {
            let slot = *slot;
            match answer.try_recv() {
                Ok(picked) => {
                    self.files.dialog = None;
                    match picked {
                        Picked::File(path) => self.load_file(slot, path),
                        Picked::Cancelled => {}
                        Picked::Failed(reason) => self.say(reason, false),
                    }
                }
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => self.files.dialog = None,
            }
        }
        if let Some((slot, answer)) = &self.files.loading {
            let slot = *slot;
            match answer.try_recv() {
                Ok(Ok(clip)) => {
                    self.files.loading = None;
                    self.channels.session().set_input(slot, Some(clip));
                    self.say(format!("Loaded a clip into input {}", slot_name(slot)), true);
                }
                Ok(Err(error)) => {
                    self.files.loading = None;
                    self.say(error, false);
                }
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => self.files.loading = None,
            }
        }
    }
}

fn is_midi(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}
