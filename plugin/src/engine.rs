//! The engine thread: takes requests from the audio thread and the editor, runs the generator
//! off the audio thread, stores the results in the session and sends the selected clip to the
//! player.
//!
//! Until the ONNX engine lands, [`OctaveEcho`] stands in behind the [`Generator`] trait with the
//! same request and response types the real engine will use.

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
        })
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
    pub fn spawn(shared: Arc<EngineShared>, generator: Box<dyn Generator>) -> std::io::Result<Self> {
        let worker = EngineThread { shared: shared.clone(), generator, pending_playback: None };
        let thread = std::thread::Builder::new().name("cadenza-engine".into()).spawn(move || worker.run())?;
        Ok(Self { shared, thread: Some(thread) })
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
    /// A clip the player's queue had no room for yet.
    pending_playback: Option<Option<Box<PlaybackClip>>>,
}

impl EngineThread {
    fn run(mut self) {
        // The selection may have been restored before the thread existed.
        self.shared.session.mark_changed();
        while !self.shared.shutdown.load(Ordering::Acquire) {
            self.tick();
            std::thread::park_timeout(POLL_INTERVAL);
        }
        self.shared.bridge.collect_garbage();
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
        let mut rt_jobs_done = 0;
        while let Some(request) = shared.bridge.requests.pop() {
            if let Some(job) = self.take_rt_request(&request) {
                supersede(job, &mut newest);
            }
            shared.bridge.recycle(request);
            rt_jobs_done += 1;
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
        if rt_jobs_done > 0 {
            shared.rt_jobs_in_flight.fetch_sub(rt_jobs_done, Ordering::AcqRel);
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
