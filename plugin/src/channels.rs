//! Every queue and shared atomic between Cadenza's threads, in one place.
//!
//! [`open`] makes them once per plugin instance and hands out one end per thread; each end
//! exposes only its own thread's direction of each channel, so who may send what is a type:
//!
//! | channel | from → to | carries | kind |
//! |---|---|---|---|
//! | `request_pool` | worker → audio | empty [`RtRequest`] boxes (allocated off the audio thread) | `ArrayQueue` |
//! | `requests` | audio → worker | filled [`RtRequest`]s (Generate presses, captures for a slot) | `ArrayQueue` |
//! | `jobs_in_flight` | audio ↔ worker | audio-thread requests not yet answered (offline renders wait on it) | `AtomicUsize` |
//! | `playback` | worker → audio | the [`PlaybackClip`] to play (`None` = stop) | `ArrayQueue` |
//! | `retired` | audio → worker | clips the player or Jam let go of, to be freed off the audio thread | `ArrayQueue` |
//! | `jam_answers` | worker → audio | [`JamAnswer`]s to play once at their bar line | `ArrayQueue` |
//! | `jam_status` | audio → editor | Jam's phase (listening / thinking / answering) and late answers | atomics |
//! | `jam_started` | audio → worker | the call whose answer began to sound (it joins the results) | `AtomicU32` |
//! | `jobs` | editor → worker | [`JobRequest`]s from the panel | `ArrayQueue` |
//! | `events` | worker → editor | [`WorkerEvent`]s (started, finished, failed, warnings) | `ArrayQueue`, oldest dropped |
//! | `progress` | worker → editor | the running job's progress and the editor's cancel flag | atomics |
//! | `capture_to_slot` | editor → audio | "copy the capture ring into input slot n" | `AtomicU8` |
//! | `dropped_presses` | audio → editor | Generate presses the audio thread had no room to send | `AtomicU32` |
//! | `host_tempo` | audio → editor | the host's tempo, for exported files | `AtomicU64` (f64 bits) |
//! | `state`, `restarts` | worker → editor, plugin | whether a worker thread serves requests | atomics |
//! | `shutdown`, `exit_injected` | plugin → worker | stop the thread (a test hook fakes a dead thread) | `AtomicBool` |
//!
//! The audio thread only calls wait-free `push`/`pop`/`load`/`store` on these: no allocation, no
//! lock, no syscall (the worker polls on a short timer, so nobody has to be woken). The
//! persisted [`Session`](crate::session::Session) is shared data, not a channel: the worker and
//! the editor lock it briefly; the audio thread never does.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam::queue::ArrayQueue;

use crate::messages::{
    JamAnswer, JobError, JobPurpose, JobRequest, PlaybackClip, RtRequest, ToolSettings, WorkerEvent,
};
use crate::session::SessionField;

/// How many request boxes exist; each holds a full capture, so a handful is plenty.
pub const REQUEST_POOL_SIZE: usize = 4;
const CLIP_QUEUE_SIZE: usize = 8;
const EVENT_QUEUE_SIZE: usize = 64;
const JOB_QUEUE_SIZE: usize = 8;
const JAM_QUEUE_SIZE: usize = 4;

/// What Jam is doing, as the editor shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JamPhase {
    Off,
    /// Waiting for the musician's call.
    Listening,
    /// A call was sent; its answer is on the way.
    Thinking,
    /// An answer is sounding.
    Answering,
}

/// Whether a worker thread is serving requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerState {
    /// No thread yet: the plugin has not been activated (never during a host's plugin scan).
    NotStarted,
    Running,
    /// The thread ended without being asked to; the next activation starts a new one.
    Stopped,
}

/// A fraction of work done and the editor's request to stop, readable from any thread without
/// locking.
#[derive(Debug, Default)]
pub struct Progress {
    fraction: AtomicU32,
    cancel: AtomicBool,
}

impl Progress {
    /// `fraction` of the job done, 0..=1.
    pub fn set(&self, fraction: f32) {
        self.fraction.store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    pub fn get(&self) -> f32 {
        f32::from_bits(self.fraction.load(Ordering::Relaxed))
    }

    /// The flag the inference engine polls between steps to stop a job early.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Acquire)
    }
}

struct Shared {
    session: Arc<SessionField>,
    request_pool: ArrayQueue<Box<RtRequest>>,
    requests: ArrayQueue<Box<RtRequest>>,
    jobs_in_flight: AtomicUsize,
    playback: ArrayQueue<Option<Box<PlaybackClip>>>,
    retired: ArrayQueue<Box<PlaybackClip>>,
    jam_answers: ArrayQueue<JamAnswer>,
    jam_phase: AtomicU8,
    jam_late: AtomicU32,
    jam_started: AtomicU32,
    jobs: ArrayQueue<JobRequest>,
    events: ArrayQueue<WorkerEvent>,
    progress: Progress,
    capture_to_slot: AtomicU8,
    dropped_presses: AtomicU32,
    host_tempo: AtomicU64,
    next_id: AtomicU64,
    state: AtomicU8,
    restarts: AtomicU32,
    shutdown: AtomicBool,
    exit_injected: AtomicBool,
}

/// Makes every channel of one plugin instance and returns its three ends.
pub fn open(session: Arc<SessionField>) -> (AudioEnd, WorkerEnd, EditorEnd) {
    let request_pool = ArrayQueue::new(REQUEST_POOL_SIZE);
    for _ in 0..REQUEST_POOL_SIZE {
        let _ = request_pool.push(RtRequest::empty());
    }
    let shared = Arc::new(Shared {
        session,
        request_pool,
        requests: ArrayQueue::new(REQUEST_POOL_SIZE),
        jobs_in_flight: AtomicUsize::new(0),
        playback: ArrayQueue::new(CLIP_QUEUE_SIZE),
        // Room for every clip that can be in flight, so retiring one never fails.
        retired: ArrayQueue::new(CLIP_QUEUE_SIZE + 2 + JAM_QUEUE_SIZE + 1),
        jam_answers: ArrayQueue::new(JAM_QUEUE_SIZE),
        jam_phase: AtomicU8::new(JamPhase::Off as u8),
        jam_late: AtomicU32::new(0),
        jam_started: AtomicU32::new(0),
        jobs: ArrayQueue::new(JOB_QUEUE_SIZE),
        events: ArrayQueue::new(EVENT_QUEUE_SIZE),
        progress: Progress::default(),
        capture_to_slot: AtomicU8::new(0),
        dropped_presses: AtomicU32::new(0),
        host_tempo: AtomicU64::new(120f64.to_bits()),
        next_id: AtomicU64::new(1),
        state: AtomicU8::new(WorkerState::NotStarted as u8),
        restarts: AtomicU32::new(0),
        shutdown: AtomicBool::new(false),
        exit_injected: AtomicBool::new(false),
    });
    (AudioEnd(shared.clone()), WorkerEnd(shared.clone()), EditorEnd(shared))
}

fn state_of(shared: &Shared) -> WorkerState {
    match shared.state.load(Ordering::Acquire) {
        0 => WorkerState::NotStarted,
        1 => WorkerState::Running,
        _ => WorkerState::Stopped,
    }
}

/// The audio thread's end (owned by `Cadenza`, used in `process()`): wait-free calls only.
pub struct AudioEnd(Arc<Shared>);

impl AudioEnd {
    /// An empty request box to fill in place (`None` when all are in use).
    pub fn take_request_box(&self) -> Option<Box<RtRequest>> {
        self.0.request_pool.pop()
    }

    /// Sends a filled request; it counts as in flight until the worker has answered it. On a
    /// full queue the box comes back, to be kept rather than freed here.
    pub fn send_request(&self, request: Box<RtRequest>) -> Result<(), Box<RtRequest>> {
        self.0.jobs_in_flight.fetch_add(1, Ordering::AcqRel);
        self.0.requests.push(request).inspect_err(|_| {
            self.0.jobs_in_flight.fetch_sub(1, Ordering::AcqRel);
        })
    }

    /// Requests sent and not yet answered.
    pub fn jobs_in_flight(&self) -> usize {
        self.0.jobs_in_flight.load(Ordering::Acquire)
    }

    /// The next clip to play, only when a clip let go of can be retired without freeing it here.
    pub fn receive_clip(&self) -> Option<Option<Box<PlaybackClip>>> {
        if self.0.retired.is_full() {
            return None;
        }
        self.0.playback.pop()
    }

    /// Whether [`Self::retire`] has room now.
    pub fn can_retire(&self) -> bool {
        !self.0.retired.is_full()
    }

    /// Hands a clip the player let go of to the worker, which frees it. Cannot fail after
    /// [`Self::receive_clip`] returned a clip: the retired queue had room and only this end pushes.
    pub fn retire(&self, clip: Box<PlaybackClip>) {
        let _ = self.0.retired.push(clip);
    }

    /// The input slot the editor asked the capture to be copied into, once.
    pub fn take_capture_to_slot(&self) -> Option<u8> {
        self.0.capture_to_slot.swap(0, Ordering::AcqRel).checked_sub(1)
    }

    pub fn worker_running(&self) -> bool {
        state_of(&self.0) == WorkerState::Running
    }

    /// A Generate press that could not be sent (no free request box or a full queue).
    pub fn count_dropped_press(&self) {
        self.0.dropped_presses.fetch_add(1, Ordering::Relaxed);
    }

    /// The host's tempo in quarter notes per minute.
    pub fn publish_tempo(&self, bpm: f64) {
        self.0.host_tempo.store(bpm.to_bits(), Ordering::Relaxed);
    }

    /// The next Jam answer, only when the clip it replaces can be retired without freeing it.
    pub fn receive_jam_answer(&self) -> Option<JamAnswer> {
        if self.0.retired.is_full() {
            return None;
        }
        self.0.jam_answers.pop()
    }

    /// Tells the worker that the answer to `call_id` began to sound.
    pub fn publish_jam_started(&self, call_id: u32) {
        self.0.jam_started.store(call_id, Ordering::Release);
    }

    /// Tells the editor what Jam is doing.
    pub fn publish_jam(&self, phase: JamPhase, late_answers: u32) {
        self.0.jam_phase.store(phase as u8, Ordering::Relaxed);
        self.0.jam_late.store(late_answers, Ordering::Relaxed);
    }
}

/// The worker thread's end. The plugin keeps one to start (and restart) worker threads with.
#[derive(Clone)]
pub struct WorkerEnd(Arc<Shared>);

impl WorkerEnd {
    pub fn session(&self) -> &Arc<SessionField> {
        &self.0.session
    }

    /// The next request from the audio thread.
    pub fn next_request(&self) -> Option<Box<RtRequest>> {
        self.0.requests.pop()
    }

    /// Returns a used request box to the audio thread's pool.
    pub fn recycle(&self, mut request: Box<RtRequest>) {
        request.capture.notes.clear();
        request.capture.bars = 0;
        let _ = self.0.request_pool.push(request);
    }

    /// Marks `count` audio-thread requests answered (their clip, if any, is already queued).
    pub fn settle(&self, count: usize) {
        if count > 0 {
            self.0.jobs_in_flight.fetch_sub(count, Ordering::AcqRel);
        }
    }

    /// The next job from the editor.
    pub fn next_job(&self) -> Option<JobRequest> {
        self.0.jobs.pop()
    }

    /// Queues a clip for the player; gives it back when the queue is full.
    pub fn send_clip(&self, clip: Option<Box<PlaybackClip>>) -> Result<(), Option<Box<PlaybackClip>>> {
        self.0.playback.push(clip)
    }

    /// Queues a Jam answer for the audio thread; gives it back when the queue is full.
    pub fn send_jam_answer(&self, answer: JamAnswer) -> Result<(), JamAnswer> {
        self.0.jam_answers.push(answer)
    }

    /// The call whose answer last began to sound (0 = none yet).
    pub fn jam_started(&self) -> u32 {
        self.0.jam_started.load(Ordering::Acquire)
    }

    /// Frees what the audio thread handed back.
    pub fn collect_garbage(&self) {
        while let Some(clip) = self.0.retired.pop() {
            drop(clip);
        }
    }

    /// Tells the editor; the oldest event is dropped when nobody reads them.
    pub fn notify(&self, event: WorkerEvent) {
        self.0.events.force_push(event);
    }

    pub fn progress(&self) -> &Progress {
        &self.0.progress
    }

    pub fn next_id(&self) -> u64 {
        self.0.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn set_state(&self, state: WorkerState) {
        self.0.state.store(state as u8, Ordering::Release);
    }

    pub fn state(&self) -> WorkerState {
        state_of(&self.0)
    }

    pub fn count_restart(&self) {
        self.0.restarts.fetch_add(1, Ordering::Relaxed);
    }

    /// Asks the thread to stop (`false` clears it before a new thread starts).
    pub fn request_shutdown(&self, stop: bool) {
        self.0.shutdown.store(stop, Ordering::Release);
    }

    pub fn shutdown_requested(&self) -> bool {
        self.0.shutdown.load(Ordering::Acquire)
    }

    /// Whether a test asked the thread to die (taken once).
    pub fn take_exit_injection(&self) -> bool {
        self.0.exit_injected.swap(false, Ordering::AcqRel)
    }

    #[cfg(feature = "test-hooks")]
    pub fn inject_exit(&self) {
        self.0.exit_injected.store(true, Ordering::Release);
    }
}

/// The editor's end (the panel, and the tests that stand in for it).
#[derive(Clone)]
pub struct EditorEnd(Arc<Shared>);

impl EditorEnd {
    pub fn session(&self) -> &Arc<SessionField> {
        &self.0.session
    }

    /// Queues a job on the current input slots (A, and B for Interpolate). Returns its id, or
    /// `None` when the queue is full. A stopped worker answers at once with
    /// [`JobError::Stopped`], so the panel never waits for nobody.
    pub fn submit(&self, settings: ToolSettings, seed: u64) -> Option<u64> {
        let inputs = self.0.session.lock().inputs.iter().flatten().cloned().collect();
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        if self.state() == WorkerState::Stopped {
            self.0.events.force_push(WorkerEvent::Failed { id, error: JobError::Stopped });
            return Some(id);
        }
        self.0.progress.cancel.store(false, Ordering::Release);
        self.0.jobs.push(JobRequest { id, settings, seed, inputs, purpose: JobPurpose::Results }).ok().map(|_| id)
    }

    /// The next thing the worker said.
    pub fn next_event(&self) -> Option<WorkerEvent> {
        self.0.events.pop()
    }

    pub fn progress(&self) -> &Progress {
        &self.0.progress
    }

    /// Asks the running job to stop early (`false` lowers the flag again).
    pub fn cancel(&self, stop: bool) {
        self.0.progress.cancel.store(stop, Ordering::Release);
    }

    /// Asks the audio thread to copy the last captured bars into input slot `slot` (0 = A).
    pub fn request_capture_to_slot(&self, slot: u8) {
        self.0.capture_to_slot.store(slot + 1, Ordering::Release);
    }

    /// Selects a variation; the worker sends it to the player.
    pub fn select(&self, index: usize) {
        let mut session = self.0.session.lock();
        if index < session.generated.len() {
            session.selected = Some(index);
            drop(session);
            self.0.session.mark_changed();
        }
    }

    pub fn state(&self) -> WorkerState {
        state_of(&self.0)
    }

    /// How many times the worker loop recovered from a crash.
    pub fn restarts(&self) -> u32 {
        self.0.restarts.load(Ordering::Relaxed)
    }

    /// Generate presses dropped on the audio thread so far (the panel says so when it grows).
    pub fn dropped_presses(&self) -> u32 {
        self.0.dropped_presses.load(Ordering::Relaxed)
    }

    /// Jam's phase, and how many answers arrived too late for their bar line (they started a
    /// bar line later).
    pub fn jam_status(&self) -> (JamPhase, u32) {
        let phase = match self.0.jam_phase.load(Ordering::Relaxed) {
            1 => JamPhase::Listening,
            2 => JamPhase::Thinking,
            3 => JamPhase::Answering,
            _ => JamPhase::Off,
        };
        (phase, self.0.jam_late.load(Ordering::Relaxed))
    }

    /// The host's tempo as the audio thread last saw it, in quarter notes per minute.
    pub fn host_tempo(&self) -> f64 {
        f64::from_bits(self.0.host_tempo.load(Ordering::Relaxed))
    }

    /// Requests from the audio thread not yet answered (tests wait on it like a bounce does).
    #[cfg(feature = "test-hooks")]
    pub fn jobs_in_flight(&self) -> usize {
        self.0.jobs_in_flight.load(Ordering::Acquire)
    }
}
