//! What the editor needs from the engine's shared state beyond what `engine.rs` offers. Kept in
//! one small `impl` block here so `engine.rs` stays its owner's; every method takes the session
//! lock only for a copy or a swap.

use cadenza_music::Clip;

use crate::engine::EngineShared;
use crate::session::INPUT_SLOTS;

/// A cheap identity of the session's contents: changes whenever the engine stores new clips or
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

impl EngineShared {
    /// Puts `clip` into input slot `slot` (0 = A, 1 = B); `None` empties it.
    pub fn set_input(&self, slot: usize, clip: Option<Clip>) {
        if let Some(entry) = self.session.lock().inputs.get_mut(slot) {
            *entry = clip;
        }
    }

    /// The session's identity right now (a lock held for a few loads).
    pub fn session_stamp(&self) -> SessionStamp {
        let session = self.session.lock();
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
    pub fn session_copy(&self) -> ([Option<Clip>; INPUT_SLOTS], Vec<Clip>, Option<usize>) {
        let session = self.session.lock();
        (session.inputs.clone(), session.generated.clone(), session.selected)
    }

    /// Stars or un-stars result `index` (kept clips are saved with the project).
    pub fn set_kept(&self, index: usize, keep: bool) {
        self.session.lock().set_kept(index, keep);
    }

    /// One flag per generated clip: is it kept?
    pub fn kept_marks(&self) -> Vec<bool> {
        let session = self.session.lock();
        (0..session.generated.len()).map(|i| session.is_kept(i)).collect()
    }
}
