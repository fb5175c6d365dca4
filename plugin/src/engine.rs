//! The engine thread: takes requests from the audio thread and the editor, runs the generator
//! off the audio thread, stores the results in the session and sends the selected clip to the
//! player.
//!
//! The ONNX engine runs behind the [`Generator`] trait; [`OctaveEcho`] stands in for it in the
//! plumbing tests, which need every note to be predictable.
//!
//! Faults: a job that panics is answered with an error. A panic anywhere else in the loop (or one
//! that escapes a job's guard, e.g. a panic payload whose drop panics) restarts the loop on the
//! same thread with a fresh generator and is reported as [`EngineError::Restarted`]. Should the
//! thread end anyway, [`EngineShared::state`] says so, requests from the editor are answered with
//! [`EngineError::Stopped`], and the plugin starts a new thread on its next activation.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use cadenza_music::Clip;
use crossbeam::queue::ArrayQueue;

use crate::bridge::Bridge;
use crate::messages::{
    EngineError, EngineEvent, EngineRequest, PlaybackClip, RtRequest, RtRequestKind, ToolSettings,
};
use crate::params::{Mode, Tool};
use crate::session::SessionField;

/// How often the engine looks at its queues; the audio thread never wakes it (a syscall).
const POLL_INTERVAL: Duration = Duration::from_millis(5);
const EVENT_QUEUE_SIZE: usize = 64;
const UI_REQUEST_QUEUE_SIZE: usize = 8;

/// Builds the generator the engine thread runs (again after a crash).
pub type GeneratorFactory = fn(&Arc<EngineShared>) -> Box<dyn Generator>;

/// Whether an engine thread is serving requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineState {
    /// No thread yet: the plugin has not been activated (never during a host's plugin scan).
    NotStarted,
    Running,
    /// The thread ended without being asked to; the next activation starts a new one.
    Stopped,
}

/// The longest the loop rests after repeated crashes, so a fault that recurs every tick does not
/// spin a core.
const MAX_CRASH_BACKOFF: Duration = Duration::from_millis(500);

/// Turns a request into clips. Runs on the engine thread only.
pub trait Generator: Send + 'static {
    /// `progress` is a fraction in 0..=1 the generator may update as it goes.
    fn generate(&mut self, request: &EngineRequest, progress: &Progress) -> Result<Vec<Clip>, EngineError>;
}

/// The stand-in generator: every variation is the input an octave up (melody) or unchanged
/// (drums). It proves the plumbing end to end.
pub struct OctaveEcho;

impl Generator for OctaveEcho {
    fn generate(&mut self, request: &EngineRequest, progress: &Progress) -> Result<Vec<Clip>, EngineError> {
        let input = request.inputs.first().filter(|clip| !clip.notes.is_empty()).ok_or(EngineError::EmptyInput)?;
        if request.settings.tool == Tool::Interpolate && request.inputs.len() < 2 {
            return Err(EngineError::MissingInput { tool: "Interpolate", needed: 2, got: request.inputs.len() });
        }
        let shift = if request.settings.mode == Mode::Drums || input.is_drum { 0 } else { 12 };
        let variations = request.settings.variations.max(1) as usize;
        let mut clips = Vec::with_capacity(variations);
        for v in 0..variations {
            let mut clip = input.clone();
            for note in &mut clip.notes {
                note.pitch = (note.pitch as i16 + shift).clamp(0, 127) as u8;
            }
            clips.push(clip);
            progress.set((v + 1) as f32 / variations as f32);
        }
        Ok(clips)
    }
}

/// A fraction of work done, readable from any thread without locking.
#[derive(Debug, Default)]
pub struct Progress(AtomicU32);

impl Progress {
    pub fn set(&self, fraction: f32) {
        self.0.store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// What the engine thread shares with the plugin and the editor.
pub struct EngineShared {
    pub bridge: Arc<Bridge>,
    pub session: Arc<SessionField>,
    pub progress: Progress,
    /// Engine → editor notifications (oldest dropped when nobody reads them).
    pub events: ArrayQueue<EngineEvent>,
    /// Editor → engine jobs.
    pub ui_requests: ArrayQueue<EngineRequest>,
    /// Requests from the audio thread not yet answered (their clip not yet sent to the
    /// player). Offline renders wait for this to reach zero.
    pub rt_jobs_in_flight: AtomicUsize,
    /// Editor → audio thread: copy the capture ring into input slot `n - 1` (0 = nothing asked).
    pub capture_to_slot: AtomicU8,
    /// Set to ask the running job to stop early.
    pub cancel: AtomicBool,
    next_id: AtomicU64,
    shutdown: AtomicBool,
    state: AtomicU8,
    restarts: AtomicU32,
    exit_injected: AtomicBool,
}

impl EngineShared {
    pub fn new(bridge: Arc<Bridge>, session: Arc<SessionField>) -> Arc<Self> {
        Arc::new(Self {
            bridge,
            session,
            progress: Progress::default(),
            events: ArrayQueue::new(EVENT_QUEUE_SIZE),
            ui_requests: ArrayQueue::new(UI_REQUEST_QUEUE_SIZE),
            rt_jobs_in_flight: AtomicUsize::new(0),
            capture_to_slot: AtomicU8::new(0),
            cancel: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            shutdown: AtomicBool::new(false),
            state: AtomicU8::new(EngineState::NotStarted as u8),
            restarts: AtomicU32::new(0),
            exit_injected: AtomicBool::new(false),
        })
    }

    pub fn state(&self) -> EngineState {
        match self.state.load(Ordering::Acquire) {
            0 => EngineState::NotStarted,
            1 => EngineState::Running,
            _ => EngineState::Stopped,
        }
    }

    /// How many times the engine loop recovered from a crash.
    pub fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Fault injection for tests: the engine thread exits after its current tick as if it had
    /// died, without a shutdown having been asked for.
    #[doc(hidden)]
    pub fn inject_thread_exit(&self) {
        self.exit_injected.store(true, Ordering::Release);
    }

    pub fn next_request_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Selects a variation; the engine thread sends it to the player.
    pub fn select(&self, index: usize) {
        let mut session = self.session.lock();
        if index < session.generated.len() {
            session.selected = Some(index);
            drop(session);
            self.session.mark_changed();
        }
    }

    /// Queues a job on the current input slots (A, and B for Interpolate) from the editor.
    /// Returns its id, or `None` when the queue is full.
    pub fn submit(&self, settings: ToolSettings, seed: u64) -> Option<u64> {
        let inputs = self.session.lock().inputs.iter().flatten().cloned().collect();
        let id = self.next_request_id();
        if self.state() == EngineState::Stopped {
            // Nobody would ever answer: say so now instead of leaving the editor waiting.
            self.notify(EngineEvent::Failed { id, error: EngineError::Stopped });
            return Some(id);
        }
        self.cancel.store(false, Ordering::Release);
        self.ui_requests.push(EngineRequest { id, settings, seed, inputs }).ok().map(|_| id)
    }

    /// Asks the audio thread to copy the last captured bars into input slot `slot` (0 = A).
    pub fn request_capture_to_slot(&self, slot: u8) {
        self.capture_to_slot.store(slot + 1, Ordering::Release);
    }

    fn notify(&self, event: EngineEvent) {
        self.events.force_push(event);
    }
}

/// Owns the engine thread; dropping it stops and joins the thread.
pub struct EngineHandle {
    shared: Arc<EngineShared>,
    thread: Option<JoinHandle<()>>,
}

impl EngineHandle {
    /// Starts the thread with `generator`; after a crash it keeps using the same generator.
    pub fn spawn(shared: Arc<EngineShared>, generator: Box<dyn Generator>) -> std::io::Result<Self> {
        Self::start(shared, generator, None)
    }

    /// Starts the thread with a generator from `factory`, and a fresh one after every crash
    /// (the crashed one may have been left half-updated).
    pub fn spawn_with_factory(shared: Arc<EngineShared>, factory: GeneratorFactory) -> std::io::Result<Self> {
        let generator = factory(&shared);
        Self::start(shared, generator, Some(factory))
    }

    fn start(
        shared: Arc<EngineShared>,
        generator: Box<dyn Generator>,
        factory: Option<GeneratorFactory>,
    ) -> std::io::Result<Self> {
        shared.shutdown.store(false, Ordering::Release);
        let worker = EngineThread {
            shared: shared.clone(),
            generator,
            factory,
            pending_playback: None,
            rt_jobs_taken: 0,
            current_job: None,
        };
        // Running from before the thread exists, so an offline render that starts right away
        // already waits for it.
        shared.state.store(EngineState::Running as u8, Ordering::Release);
        let spawned = std::thread::Builder::new().name("cadenza-engine".into()).spawn(move || worker.run());
        let thread = spawned.inspect_err(|_| shared.state.store(EngineState::Stopped as u8, Ordering::Release))?;
        Ok(Self { shared, thread: Some(thread) })
    }

    /// Whether the thread has ended (it only should when the handle is dropped).
    pub fn has_ended(&self) -> bool {
        self.thread.as_ref().is_none_or(|thread| thread.is_finished())
    }

    pub fn shared(&self) -> &Arc<EngineShared> {
        &self.shared
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

struct EngineThread {
    shared: Arc<EngineShared>,
    generator: Box<dyn Generator>,
    factory: Option<GeneratorFactory>,
    /// A clip the player's queue had no room for yet.
    pending_playback: Option<Option<Box<PlaybackClip>>>,
    /// Audio-thread requests taken off the queue this tick and not yet counted as answered.
    rt_jobs_taken: usize,
    /// The job being run, so a crash can be reported against it.
    current_job: Option<u64>,
}

/// Marks the engine as running while it lives; its drop (which also runs while a panic unwinds
/// out of the thread) marks it stopped unless a shutdown was asked for.
struct RunningMark<'a>(&'a EngineShared);

impl Drop for RunningMark<'_> {
    fn drop(&mut self) {
        let state = if self.0.shutdown.load(Ordering::Acquire) { EngineState::NotStarted } else { EngineState::Stopped };
        self.0.state.store(state as u8, Ordering::Release);
    }
}

impl EngineThread {
    fn run(mut self) {
        let shared = self.shared.clone();
        let _running = RunningMark(&shared);
        // The selection may have been restored before the thread existed.
        shared.session.mark_changed();
        let mut crashes_in_a_row = 0u32;
        while !shared.shutdown.load(Ordering::Acquire) && !shared.exit_injected.swap(false, Ordering::AcqRel) {
            match catch_unwind(AssertUnwindSafe(|| self.tick())) {
                Ok(()) => crashes_in_a_row = 0,
                Err(panic) => {
                    crashes_in_a_row += 1;
                    self.recover(panic);
                    std::thread::sleep(MAX_CRASH_BACKOFF.min(POLL_INTERVAL * crashes_in_a_row));
                }
            }
            std::thread::park_timeout(POLL_INTERVAL);
        }
        shared.bridge.collect_garbage();
    }

    /// After a panic that escaped a tick: answers what that tick had taken, starts a fresh
    /// generator and resends the selection, then the loop goes on.
    fn recover(&mut self, panic: Box<dyn std::any::Any + Send>) {
        let message = panic_message(&panic);
        // The payload itself may be what panicked (its drop): leak it rather than unwind out of
        // the thread a second time.
        std::mem::forget(panic);
        let shared = self.shared.clone();
        shared.restarts.fetch_add(1, Ordering::Relaxed);
        self.settle_rt_jobs();
        let id = self.current_job.take().unwrap_or(0);
        shared.notify(EngineEvent::Failed { id, error: EngineError::Restarted(message) });
        shared.progress.set(1.0);
        if let Some(factory) = self.factory {
            match catch_unwind(AssertUnwindSafe(|| factory(&shared))) {
                Ok(generator) => self.generator = generator,
                Err(panic) => std::mem::forget(panic),
            }
        }
        self.pending_playback = None;
        shared.session.mark_changed();
    }

    fn tick(&mut self) {
        let shared = self.shared.clone();
        shared.bridge.collect_garbage();
        // Only the newest job runs: requests that piled up while the engine was busy are
        // stale (a musician pressing Generate twice wants the second).
        let mut newest: Option<EngineRequest> = None;
        let supersede = |job: EngineRequest, newest: &mut Option<EngineRequest>| {
            if let Some(stale) = newest.replace(job) {
                shared.notify(EngineEvent::Failed { id: stale.id, error: EngineError::Superseded });
            }
        };
        while let Some(request) = shared.bridge.requests.pop() {
            self.rt_jobs_taken += 1;
            if let Some(job) = self.take_rt_request(&request) {
                supersede(job, &mut newest);
            }
            shared.bridge.recycle(request);
        }
        while let Some(job) = shared.ui_requests.pop() {
            supersede(job, &mut newest);
        }
        if let Some(job) = newest {
            self.run_job(job);
        }
        if shared.session.take_changed() {
            let session = shared.session.lock();
            let clip = session.selected_clip().map(|(index, clip)| PlaybackClip::from_clip(clip, index));
            drop(session);
            self.pending_playback = Some(clip);
        }
        if let Some(clip) = self.pending_playback.take() {
            if let Err(clip) = shared.bridge.playback.push(clip) {
                self.pending_playback = Some(clip);
            }
        }
        self.settle_rt_jobs();
    }

    /// Counts the audio-thread requests taken so far as answered (offline renders wait for them).
    fn settle_rt_jobs(&mut self) {
        let taken = std::mem::take(&mut self.rt_jobs_taken);
        if taken > 0 {
            self.shared.rt_jobs_in_flight.fetch_sub(taken, Ordering::AcqRel);
        }
    }

    /// Stores a captured input and, for a generate request, turns it into a job.
    fn take_rt_request(&self, request: &RtRequest) -> Option<EngineRequest> {
        let shared = &self.shared;
        match request.kind {
            RtRequestKind::CaptureToSlot(slot) => {
                let clip = request.capture.to_clip(false);
                if let Some(entry) = shared.session.lock().inputs.get_mut(slot as usize) {
                    *entry = Some(clip);
                }
                None
            }
            RtRequestKind::Generate(settings) => {
                let captured = request.capture.to_clip(settings.mode == Mode::Drums);
                let mut session = shared.session.lock();
                session.inputs[0] = Some(captured.clone());
                let mut inputs = vec![captured];
                inputs.extend(session.inputs[1].clone());
                drop(session);
                let id = shared.next_request_id();
                Some(EngineRequest { id, settings, seed: id, inputs })
            }
        }
    }

    fn run_job(&mut self, job: EngineRequest) {
        let shared = self.shared.clone();
        shared.progress.set(0.0);
        shared.notify(EngineEvent::Started { id: job.id });
        self.current_job = Some(job.id);
        let generator = &mut self.generator;
        let outcome = catch_unwind(AssertUnwindSafe(|| generator.generate(&job, &shared.progress)))
            .unwrap_or_else(|panic| Err(EngineError::Internal(panic_message(&panic))));
        match outcome {
            Ok(clips) if !clips.is_empty() => {
                let count = clips.len();
                let mut session = shared.session.lock();
                session.generated = clips;
                session.selected = Some(0);
                drop(session);
                shared.session.mark_changed();
                shared.notify(EngineEvent::Finished { id: job.id, variations: count });
            }
            Ok(_) => shared.notify(EngineEvent::Failed {
                id: job.id,
                error: EngineError::Internal("the generator returned no clips".into()),
            }),
            Err(error) => shared.notify(EngineEvent::Failed { id: job.id, error }),
        }
        self.current_job = None;
        shared.progress.set(1.0);
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a job panicked".into())
}
