//! The worker thread: takes requests from the audio thread and the editor, runs the generator
//! (the inference engine, `cadenza-engine`) off the audio thread, stores the results in the
//! session and sends the selected clip to the player.
//!
//! The ONNX engine runs behind the [`Generator`] trait, so plumbing tests can swap in a
//! generator whose every note is predictable.
//!
//! Faults: a job that panics is answered with an error. A panic anywhere else in the loop (or one
//! that escapes a job's guard, e.g. a panic payload whose drop panics) restarts the loop on the
//! same thread with a fresh generator and is reported as [`JobError::Restarted`]. Should the
//! thread end anyway, [`WorkerState::Stopped`] says so, requests from the editor are answered
//! with [`JobError::Stopped`], and the plugin starts a new thread on its next activation.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;
use std::time::Duration;

use cadenza_music::Clip;

use crate::channels::WorkerEnd;
pub use crate::channels::{Progress, WorkerState};
use crate::messages::{
    JamAnswer, JobError, JobPurpose, JobRequest, PlaybackClip, RtRequest, RtRequestKind, WorkerEvent,
};
use crate::params::Mode;

/// How often the worker looks at its queues; the audio thread never wakes it (a syscall).
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Builds the generator the worker thread runs (again after a crash).
pub type GeneratorFactory = fn() -> Box<dyn Generator>;

/// The longest the loop rests after repeated crashes, so a fault that recurs every tick does not
/// spin a core.
const MAX_CRASH_BACKOFF: Duration = Duration::from_millis(500);

/// Turns a request into clips. Runs on the worker thread only.
pub trait Generator: Send + 'static {
    /// `progress` is a fraction in 0..=1 the generator may update as it goes; it also carries
    /// the editor's cancel flag.
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError>;

    /// What the musician should know about the last job (each message once).
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// Key: Auto: the key the last job found in its input (once).
    fn take_detected_key(&mut self) -> Option<cadenza_engine::KeyScale> {
        None
    }
}

/// Owns the worker thread; dropping it stops and joins the thread.
pub struct WorkerHandle {
    end: WorkerEnd,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Starts the thread with `generator`; after a crash it keeps using the same generator.
    pub fn spawn(end: WorkerEnd, generator: Box<dyn Generator>) -> std::io::Result<Self> {
        Self::start(end, generator, None)
    }

    /// Starts the thread with a generator from `factory`, and a fresh one after every crash
    /// (the crashed one may have been left half-updated).
    pub fn spawn_with_factory(end: WorkerEnd, factory: GeneratorFactory) -> std::io::Result<Self> {
        Self::start(end, factory(), Some(factory))
    }

    fn start(
        end: WorkerEnd,
        generator: Box<dyn Generator>,
        factory: Option<GeneratorFactory>,
    ) -> std::io::Result<Self> {
        end.request_shutdown(false);
        let worker = Worker {
            end: end.clone(),
            generator,
            factory,
            pending_playback: None,
            rt_jobs_taken: 0,
            current_job: None,
            jam_answers: Vec::with_capacity(JAM_ANSWERS_KEPT + 1),
            jam_committed: end.jam_started(),
        };
        // Running from before the thread exists, so an offline render that starts right away
        // already waits for it.
        end.set_state(WorkerState::Running);
        let spawned = std::thread::Builder::new().name("cadenza-worker".into()).spawn(move || worker.run());
        let thread = spawned.inspect_err(|_| end.set_state(WorkerState::Stopped))?;
        Ok(Self { end, thread: Some(thread) })
    }

    /// Whether the thread has ended (it only should when the handle is dropped).
    pub fn has_ended(&self) -> bool {
        self.thread.as_ref().is_none_or(|thread| thread.is_finished())
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.end.request_shutdown(true);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

struct Worker {
    end: WorkerEnd,
    generator: Box<dyn Generator>,
    factory: Option<GeneratorFactory>,
    /// A clip the player's queue had no room for yet.
    pending_playback: Option<Option<Box<PlaybackClip>>>,
    /// Audio-thread requests taken off the queue this tick and not yet counted as answered.
    rt_jobs_taken: usize,
    /// The job being run, so a crash can be reported against it.
    current_job: Option<u64>,
    /// Recent Jam answers (call id, job id, call, answer) not yet heard: one joins the results
    /// list when the audio thread says it began to sound.
    jam_answers: Vec<(u32, u64, Clip, Clip)>,
    /// The last call whose answer joined the results.
    jam_committed: u32,
}

/// How many unheard Jam answers the worker keeps (older ones were superseded).
const JAM_ANSWERS_KEPT: usize = 4;

/// Marks the worker as running while it lives; its drop (which also runs while a panic unwinds
/// out of the thread) marks it stopped unless a shutdown was asked for.
struct RunningMark<'a>(&'a WorkerEnd);

impl Drop for RunningMark<'_> {
    fn drop(&mut self) {
        let state = if self.0.shutdown_requested() { WorkerState::NotStarted } else { WorkerState::Stopped };
        self.0.set_state(state);
    }
}

impl Worker {
    fn run(mut self) {
        let end = self.end.clone();
        let _running = RunningMark(&end);
        // The selection may have been restored before the thread existed.
        end.session().mark_changed();
        let mut crashes_in_a_row = 0u32;
        while !end.shutdown_requested() && !end.take_exit_injection() {
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
        end.collect_garbage();
    }

    /// After a panic that escaped a tick: answers what that tick had taken, starts a fresh
    /// generator and resends the selection, then the loop goes on.
    fn recover(&mut self, panic: Box<dyn std::any::Any + Send>) {
        let message = panic_message(&panic);
        // The payload itself may be what panicked (its drop): leak it rather than unwind out of
        // the thread a second time.
        std::mem::forget(panic);
        let end = self.end.clone();
        end.count_restart();
        self.settle_rt_jobs();
        let id = self.current_job.take().unwrap_or(0);
        end.notify(WorkerEvent::Failed { id, error: JobError::Restarted(message) });
        end.progress().set(1.0);
        if let Some(factory) = self.factory {
            match catch_unwind(factory) {
                Ok(generator) => self.generator = generator,
                Err(panic) => std::mem::forget(panic),
            }
        }
        self.pending_playback = None;
        end.session().mark_changed();
    }

    fn tick(&mut self) {
        let end = self.end.clone();
        end.collect_garbage();
        // Only the newest job runs: requests that piled up while the worker was busy are
        // stale (a musician pressing Generate twice wants the second).
        let mut newest: Option<JobRequest> = None;
        let supersede = |job: JobRequest, newest: &mut Option<JobRequest>| {
            if let Some(stale) = newest.replace(job) {
                end.notify(WorkerEvent::Failed { id: stale.id, error: JobError::Superseded });
            }
        };
        // Jam calls run first (an answer has a bar line to make) and apart from the tools' jobs;
        // of several, only the newest call is still awaited.
        let mut newest_jam: Option<JobRequest> = None;
        while let Some(request) = end.next_request() {
            self.rt_jobs_taken += 1;
            match self.take_rt_request(&request) {
                Some(job) if matches!(job.purpose, JobPurpose::JamAnswer { .. }) => newest_jam = Some(job),
                Some(job) => supersede(job, &mut newest),
                None => {}
            }
            end.recycle(request);
        }
        while let Some(job) = end.next_job() {
            supersede(job, &mut newest);
        }
        if let Some(job) = newest_jam {
            self.run_jam_job(job);
        }
        self.commit_heard_jam_answer();
        if let Some(job) = newest {
            self.run_job(job);
        }
        if end.session().take_changed() {
            let session = end.session().lock();
            let clip = session.selected_clip().map(|(index, clip)| PlaybackClip::from_clip(clip, index));
            drop(session);
            self.pending_playback = Some(clip);
        }
        if let Some(clip) = self.pending_playback.take() {
            if let Err(clip) = end.send_clip(clip) {
                self.pending_playback = Some(clip);
            }
        }
        self.settle_rt_jobs();
    }

    /// Counts the audio-thread requests taken so far as answered (offline renders wait for them).
    fn settle_rt_jobs(&mut self) {
        self.end.settle(std::mem::take(&mut self.rt_jobs_taken));
    }

    /// Stores a captured input and, for a generate request, turns it into a job.
    fn take_rt_request(&self, request: &RtRequest) -> Option<JobRequest> {
        let session = self.end.session();
        match request.kind {
            RtRequestKind::CaptureToSlot(slot) => {
                let clip = request.capture.to_clip(false);
                if let Some(entry) = session.lock().inputs.get_mut(slot as usize) {
                    *entry = Some(clip);
                }
                None
            }
            RtRequestKind::Generate(settings) => {
                let captured = request.capture.to_clip(settings.mode == Mode::Drums);
                let mut locked = session.lock();
                locked.inputs[0] = Some(captured.clone());
                let mut inputs = vec![captured];
                inputs.extend(locked.inputs[1].clone());
                drop(locked);
                let id = self.end.next_id();
                Some(JobRequest { id, settings, seed: id, inputs, purpose: JobPurpose::Results })
            }
            RtRequestKind::Jam(call) => {
                let mut settings = call.settings;
                // Drums when the call was played on MIDI channel 10 (GM's drum channel).
                let notes = request.capture.notes.as_slice();
                if !notes.is_empty() && notes.iter().all(|n| n.channel == 9) {
                    settings.mode = Mode::Drums;
                }
                let call_clip = request.capture.to_clip(settings.mode == Mode::Drums);
                let id = self.end.next_id();
                let purpose = JobPurpose::JamAnswer { call_id: call.call_id, answer_bars: call.answer_bars };
                Some(JobRequest { id, settings, seed: id, inputs: vec![call_clip], purpose })
            }
        }
    }

    /// Answers a Jam call: the continuation goes to the audio thread, to be played once at its
    /// bar line, and into the results list (without moving the selection). A failed job still
    /// sends an empty answer, so the audio thread listens again after the answer's bars.
    fn run_jam_job(&mut self, job: JobRequest) {
        let JobPurpose::JamAnswer { call_id, answer_bars } = job.purpose else { return };
        let end = self.end.clone();
        let (outcome, _) = self.generate_guarded(&job);
        let call = job.inputs.first().cloned().unwrap_or_else(|| Clip::new(1, Default::default(), false));
        let answer = match outcome {
            Ok(clips) if !clips.is_empty() => {
                let mut answer = clips.into_iter().next().unwrap_or(call.clone());
                answer.bars = answer_bars;
                let length = answer.length_ticks();
                answer.notes.retain(|n| n.start < length);
                answer
            }
            Ok(_) => {
                end.notify(WorkerEvent::Failed { id: job.id, error: JobError::Internal("no answer".into()) });
                Clip::new(answer_bars, call.time_signature, call.is_drum)
            }
            Err(error) => {
                end.notify(WorkerEvent::Failed { id: job.id, error });
                Clip::new(answer_bars, call.time_signature, call.is_drum)
            }
        };
        let index = end.session().lock().generated.len();
        let playback = JamAnswer { call_id, clip: PlaybackClip::from_clip(&answer, index) };
        // The audio thread takes one answer at a time; a full queue only means stale ones wait.
        let _ = end.send_jam_answer(playback);
        if self.jam_answers.len() == JAM_ANSWERS_KEPT {
            self.jam_answers.remove(0);
        }
        self.jam_answers.push((call_id, job.id, call, answer));
        self.current_job = None;
    }

    /// Moves the Jam answer the audio thread began to play into the results list (keep, drag
    /// out, use as input) and tells the editor.
    fn commit_heard_jam_answer(&mut self) {
        let started = self.end.jam_started();
        if started == self.jam_committed {
            return;
        }
        self.jam_committed = started;
        let Some(position) = self.jam_answers.iter().position(|(id, ..)| *id == started) else { return };
        let (_, job_id, call, answer) = self.jam_answers.remove(position);
        self.jam_answers.retain(|(id, ..)| *id > started);
        if !answer.notes.is_empty() {
            self.end.session().lock().generated.push(answer.clone());
        }
        self.end.notify(WorkerEvent::JamAnswered { id: job_id, call, answer });
    }

    /// Runs the generator on `job` with a panic guard (a panic is this job's error), passes its
    /// warnings on to the editor, and returns the clips with the key Key: Auto found.
    fn generate_guarded(
        &mut self,
        job: &JobRequest,
    ) -> (Result<Vec<Clip>, JobError>, Option<cadenza_engine::KeyScale>) {
        let end = self.end.clone();
        self.current_job = Some(job.id);
        let generator = &mut self.generator;
        let outcome = catch_unwind(AssertUnwindSafe(|| generator.generate(job, end.progress())))
            .unwrap_or_else(|panic| Err(JobError::Internal(panic_message(&panic))));
        for message in self.generator.take_warnings() {
            end.notify(WorkerEvent::Warning { id: job.id, message });
        }
        (outcome, self.generator.take_detected_key())
    }

    fn run_job(&mut self, job: JobRequest) {
        let end = self.end.clone();
        end.progress().set(0.0);
        end.notify(WorkerEvent::Started { id: job.id });
        let (outcome, detected_key) = self.generate_guarded(&job);
        match outcome {
            Ok(clips) if !clips.is_empty() => {
                let count = clips.len();
                let mut session = end.session().lock();
                session.generated = clips;
                session.selected = Some(0);
                drop(session);
                end.session().mark_changed();
                end.notify(WorkerEvent::Finished { id: job.id, variations: count, detected_key });
            }
            Ok(_) => end.notify(WorkerEvent::Failed {
                id: job.id,
                error: JobError::Internal("the generator returned no clips".into()),
            }),
            Err(error) => end.notify(WorkerEvent::Failed { id: job.id, error }),
        }
        self.current_job = None;
        end.progress().set(1.0);
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a job panicked".into())
}
