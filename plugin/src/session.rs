//! The persisted, non-parameter state: input slots, generated variations and the selection.
//!
//! It lives behind a mutex that only non-realtime threads touch (the host's state save/load,
//! the engine, the editor). The audio thread never sees it: whenever the selection changes, the
//! engine sends the audio thread a ready-made [`crate::messages::PlaybackClip`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use cadenza_music::Clip;
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

/// Bumped when the layout changes; older versions are migrated in [`Session::migrate`].
pub const SESSION_VERSION: u32 = 1;

/// Number of input slots: A, and B for Interpolate.
pub const INPUT_SLOTS: usize = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    pub version: u32,
    pub inputs: [Option<Clip>; INPUT_SLOTS],
    pub generated: Vec<Clip>,
    pub selected: Option<usize>,
}

impl Default for Session {
    fn default() -> Self {
        Self { version: SESSION_VERSION, inputs: [None, None], generated: Vec::new(), selected: None }
    }
}

impl Session {
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
}

impl<'a> PersistentField<'a, Session> for SessionField {
    fn set(&self, new_value: Session) {
        self.replace(new_value.migrate());
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
