//! The persisted, non-parameter state: input slots, generated variations and the selection.
//!
//! It lives behind a mutex that only non-realtime threads touch (the host's state save/load,
//! the worker, the editor), each for a short copy or swap. The audio thread never sees it:
//! whenever the selection changes, the worker sends the audio thread a ready-made
//! [`crate::messages::PlaybackClip`].

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use cadenza_music::Clip;
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

/// Bumped when the layout changes; older versions are migrated in [`Session::migrate`].
pub const SESSION_VERSION: u32 = 1;

/// Number of input slots: A, and B for Interpolate.
pub const INPUT_SLOTS: usize = 2;

/// Loading never fails: whatever JSON the host hands back becomes a usable session (see
/// [`Session::from_saved`]), so a damaged or newer project still opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "serde_json::Value")]
pub struct Session {
    pub version: u32,
    pub inputs: [Option<Clip>; INPUT_SLOTS],
    pub generated: Vec<Clip>,
    pub selected: Option<usize>,
    /// Clips the musician starred. They outlive the batch they came from (a new generation
    /// replaces `generated`, never these) and are saved with the project.
    pub kept: Vec<Clip>,
}

/// The saved layout as read from disk; every field optional so older versions load.
/// A blob without a version field predates versioning: its default version is 0.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SavedSession {
    version: u32,
    inputs: [Option<Clip>; INPUT_SLOTS],
    generated: Vec<Clip>,
    selected: Option<usize>,
    kept: Vec<Clip>,
}

impl From<serde_json::Value> for Session {
    fn from(value: serde_json::Value) -> Self {
        Session::from_saved(value).unwrap_or_else(|reason| {
            nice_plug::nice_warn!("Cadenza: the saved session could not be loaded ({reason}); starting empty");
            Session::default()
        })
    }
}

impl Default for Session {
    fn default() -> Self {
        Self { version: SESSION_VERSION, inputs: [None, None], generated: Vec::new(), selected: None, kept: Vec::new() }
    }
}

impl Session {
    /// Reads a saved session of this or an older version. A session from a newer Cadenza is
    /// refused rather than half-understood.
    pub fn from_saved(value: serde_json::Value) -> Result<Self, String> {
        let saved: SavedSession = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if saved.version > SESSION_VERSION {
            return Err(format!("it was saved by a newer Cadenza (session version {})", saved.version));
        }
        for clip in saved.inputs.iter().flatten().chain(&saved.generated).chain(&saved.kept) {
            if clip.notes.iter().any(|n| n.end <= n.start || n.pitch > 127 || n.velocity > 127 || n.channel > 15) {
                return Err("it holds an invalid note".into());
            }
        }
        let session = Session {
            version: saved.version,
            inputs: saved.inputs,
            generated: saved.generated,
            selected: saved.selected,
            kept: saved.kept,
        };
        Ok(session.migrate())
    }

    /// Whether generated clip `index` is among the kept ones.
    pub fn is_kept(&self, index: usize) -> bool {
        self.generated.get(index).is_some_and(|clip| self.kept.contains(clip))
    }

    /// Stars (or un-stars) generated clip `index`.
    pub fn set_kept(&mut self, index: usize, keep: bool) {
        let Some(clip) = self.generated.get(index) else { return };
        let already = self.kept.contains(clip);
        if keep && !already {
            self.kept.push(clip.clone());
        } else if !keep && already {
            let clip = clip.clone();
            self.kept.retain(|k| *k != clip);
        }
    }

    pub fn selected_clip(&self) -> Option<(usize, &Clip)> {
        let index = self.selected?;
        self.generated.get(index).map(|clip| (index, clip))
    }

    /// Brings a loaded session up to the current version and repairs what cannot be right
    /// (a selection pointing past the list).
    pub fn migrate(mut self) -> Self {
        self.version = SESSION_VERSION;
        if self.selected.is_some_and(|i| i >= self.generated.len()) {
            self.selected = if self.generated.is_empty() { None } else { Some(0) };
        }
        self
    }
}

/// The `#[persist]` field holding the [`Session`]. Loading state raises a flag so the engine
/// re-sends the selected clip to the audio thread.
#[derive(Debug, Default)]
pub struct SessionField {
    session: Mutex<Session>,
    changed: AtomicBool,
    /// How many times a host loaded state (a project, a preset) into this field.
    loads: AtomicU32,
}

impl SessionField {
    pub fn lock(&self) -> MutexGuard<'_, Session> {
        // A panic while holding the lock must not take the user's clips with it.
        self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Replaces the session and marks it changed.
    pub fn replace(&self, session: Session) {
        *self.lock() = session;
        self.mark_changed();
    }

    pub fn mark_changed(&self) {
        self.changed.store(true, Ordering::Release);
    }

    /// True once after every change.
    pub fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::AcqRel)
    }

    /// Counts state loads, so the audio thread can tell that parameter values it sees next were
    /// restored, not moved by anyone (lock-free: read in `process()`).
    pub fn loads(&self) -> u32 {
        self.loads.load(Ordering::Acquire)
    }
}

/// A cheap identity of the session's contents: changes whenever the worker stores new clips or
/// an input is replaced, so the editor re-copies only then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionStamp {
    generated: (usize, usize),
    inputs: [(usize, usize, u16); INPUT_SLOTS],
    selected: Option<usize>,
}

impl SessionStamp {
    /// The part that changes only when a new batch of results arrives.
    pub fn generated_id(&self) -> (usize, usize) {
        self.generated
    }
}

/// The editor's short views and edits of the session (each takes the lock for a copy or a swap).
impl SessionField {
    /// Puts `clip` into input slot `slot` (0 = A, 1 = B); `None` empties it.
    pub fn set_input(&self, slot: usize, clip: Option<Clip>) {
        if let Some(entry) = self.lock().inputs.get_mut(slot) {
            *entry = clip;
        }
    }

    /// The session's identity right now (a lock held for a few loads).
    pub fn stamp(&self) -> SessionStamp {
        let session = self.lock();
        let mut inputs = [(0, 0, 0); INPUT_SLOTS];
        for (stamp, input) in inputs.iter_mut().zip(session.inputs.iter()) {
            if let Some(clip) = input {
                *stamp = (clip.notes.as_ptr() as usize, clip.notes.len(), clip.bars);
            }
        }
        SessionStamp {
            generated: (session.generated.as_ptr() as usize, session.generated.len()),
            inputs,
            selected: session.selected,
        }
    }

    /// Copies of the inputs, the generated clips and the selection.
    pub fn copy_contents(&self) -> ([Option<Clip>; INPUT_SLOTS], Vec<Clip>, Option<usize>) {
        let session = self.lock();
        (session.inputs.clone(), session.generated.clone(), session.selected)
    }

    /// Stars or un-stars result `index` (kept clips are saved with the project).
    pub fn set_kept(&self, index: usize, keep: bool) {
        self.lock().set_kept(index, keep);
    }

    /// One flag per generated clip: is it kept?
    pub fn kept_marks(&self) -> Vec<bool> {
        let session = self.lock();
        (0..session.generated.len()).map(|i| session.is_kept(i)).collect()
    }
}

impl<'a> PersistentField<'a, Session> for SessionField {
    fn set(&self, new_value: Session) {
        self.replace(new_value.migrate());
        self.loads.fetch_add(1, Ordering::AcqRel);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Session) -> R,
    {
        f(&self.lock())
    }
}

impl<'a> PersistentField<'a, Session> for std::sync::Arc<SessionField> {
    fn set(&self, new_value: Session) {
        self.as_ref().set(new_value)
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Session) -> R,
    {
        self.as_ref().map(f)
    }
}
