//! The bounded lock-free queues between the audio thread and everything else.
//!
//! The audio thread only calls `push`/`pop` on [`ArrayQueue`]s (wait-free, never allocate). Nobody
//! blocks on these queues: the engine polls them on a short timer, so the audio thread never has
//! to wake a thread (which would be a syscall).

use crossbeam::queue::ArrayQueue;

use crate::messages::{PlaybackClip, RtRequest};

/// How many request boxes exist; each holds a full capture, so a handful is plenty.
pub const REQUEST_POOL_SIZE: usize = 4;
const CLIP_QUEUE_SIZE: usize = 8;

pub struct Bridge {
    /// Empty request boxes the audio thread may fill (refilled by the engine).
    pub request_pool: ArrayQueue<Box<RtRequest>>,
    /// Filled requests, audio thread → engine.
    pub requests: ArrayQueue<Box<RtRequest>>,
    /// Clips to play, engine → audio thread. `None` stops playback of the current clip.
    pub playback: ArrayQueue<Option<Box<PlaybackClip>>>,
    /// Clips the audio thread is done with, to be dropped off the audio thread.
    pub retired: ArrayQueue<Box<PlaybackClip>>,
}

impl Bridge {
    pub fn new() -> Self {
        let request_pool = ArrayQueue::new(REQUEST_POOL_SIZE);
        for _ in 0..REQUEST_POOL_SIZE {
            let _ = request_pool.push(RtRequest::empty());
        }
        Self {
            request_pool,
            requests: ArrayQueue::new(REQUEST_POOL_SIZE),
            playback: ArrayQueue::new(CLIP_QUEUE_SIZE),
            // Room for every clip that can be in flight, so retiring one never fails.
            retired: ArrayQueue::new(CLIP_QUEUE_SIZE + 2),
        }
    }

    /// Returns a used request box to the pool (off the audio thread).
    pub fn recycle(&self, mut request: Box<RtRequest>) {
        request.capture.notes.clear();
        request.capture.bars = 0;
        let _ = self.request_pool.push(request);
    }

    /// Drops what the audio thread handed back.
    pub fn collect_garbage(&self) {
        while let Some(clip) = self.retired.pop() {
            drop(clip);
        }
    }
}

impl Default for Bridge {
    fn default() -> Self {
        Self::new()
    }
}
