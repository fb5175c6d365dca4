//! Engine faults beyond a job that returns an error: a panic that escapes the job's guard, and
//! the engine thread ending. In each the plugin keeps passing MIDI without allocating, the fault
//! reaches the editor as an event, and a retry works.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cadenza::messages::{JobError, JobRequest, WorkerEvent};
use cadenza::music::Clip;
use cadenza::worker::{Generator, Progress, WorkerState};
use cadenza_tests::OctaveEcho;
use cadenza_tests::{note_off, note_on, set_param, Host};

const WAIT: Duration = Duration::from_secs(10);

fn record_phrase(host: &mut Host) {
    set_param(&host.plugin.params_arc().capture_bars, 1);
    host.playing = true;
    host.run(
        24_000,
        256,
        &[(0, note_on(60, 100)), (6_000, note_off(60)), (12_000, note_on(64, 90)), (18_000, note_off(64))],
    );
    host.playing = false;
}

fn press_generate(host: &mut Host) -> WorkerEvent {
    host.press_generate(WAIT)
}

fn assert_midi_passes(host: &mut Host) {
    host.output.clear();
    host.run(256, 64, &[(3, note_on(50, 70)), (100, note_off(50))]);
    let notes = host.notes();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!((notes[0].1, notes[0].3, notes[1].1, notes[1].3), (50, 70, 50, 0));
    assert_eq!(notes[1].0 - notes[0].0, 97, "passed through at the same sample offsets");
}

/// A panic payload whose drop panics too. The job guard catches the first panic, and dropping
/// what it caught panics again outside any job: before the engine loop had its own guard this
/// ended the engine thread.
struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("a panic payload panicked while being dropped");
    }
}

static GENERATORS_BUILT: AtomicUsize = AtomicUsize::new(0);
static JOBS: AtomicUsize = AtomicUsize::new(0);

/// Every generator built before the crash has its first job escape the guard; generators built
/// after it (the engine builds a fresh one when it recovers) echo.
struct EscapesTheJobGuard {
    built_as: usize,
}

impl Generator for EscapesTheJobGuard {
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
        JOBS.fetch_add(1, Ordering::SeqCst);
        if self.built_as == 0 {
            std::panic::panic_any(PanicsWhenDropped);
        }
        OctaveEcho.generate(request, progress)
    }
}

#[test]
fn a_panic_escaping_the_job_guard_restarts_the_engine_with_a_fresh_generator_and_a_retry_works() {
    let plugin = cadenza::Cadenza::with_generator(|| {
        Box::new(EscapesTheJobGuard { built_as: GENERATORS_BUILT.fetch_add(1, Ordering::SeqCst) })
    });
    let mut host = Host::with_plugin_for_tests(plugin);
    record_phrase(&mut host);

    let event = press_generate(&mut host);
    let WorkerEvent::Failed { error: JobError::Restarted(message), id } = &event else { panic!("{event:?}") };
    assert!(message.contains("panic payload panicked"), "{message}");
    assert_ne!(*id, 0, "the crash is reported against the job that caused it");
    assert!(JobError::Restarted(message.clone()).to_string().contains("restarted"));
    assert_eq!(host.plugin.editor_end().restarts(), 1);
    assert_eq!(host.plugin.editor_end().state(), WorkerState::Running);
    assert_eq!(GENERATORS_BUILT.load(Ordering::SeqCst), 2, "a fresh generator replaces the crashed one");
    assert_eq!(host.plugin.editor_end().jobs_in_flight(), 0);
    assert_midi_passes(&mut host);

    let event = press_generate(&mut host);
    assert!(matches!(event, WorkerEvent::Finished { variations, .. } if variations > 0), "{event:?}");
    assert_eq!(JOBS.load(Ordering::SeqCst), 2);
    assert_eq!(host.plugin.editor_end().restarts(), 1);
    // The retry's variation plays: the captured phrase an octave up.
    host.output.clear();
    host.locate_beats(0.0);
    host.playing = true;
    host.run(24_000, 256, &[]);
    let pitches: Vec<u8> = host.notes().iter().filter(|n| n.3 > 0).map(|n| n.1).collect();
    assert_eq!(pitches, vec![72, 76]);
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn an_engine_thread_that_ended_is_reported_and_restarted_on_the_next_activation() {
    let mut host = Host::new(48_000.0);
    record_phrase(&mut host);
    let shared = host.plugin.editor_end().clone();
    assert_eq!(shared.state(), WorkerState::Running);

    end_worker_thread(&host);

    // The editor's request is answered at once instead of waiting forever.
    let settings = host.plugin.params_arc().tool_settings();
    let id = shared.submit(settings, 1).expect("answered");
    let event = shared.next_event().expect("an event");
    assert_eq!(event, WorkerEvent::Failed { id, error: JobError::Stopped });
    assert!(JobError::Stopped.to_string().contains("reactivate"));
    assert_midi_passes(&mut host);
    assert!(shared.next_event().is_none());

    // The host reactivates the plugin (or the project is reloaded): a new thread serves.
    host.reactivate();
    assert_eq!(shared.state(), WorkerState::Running);
    let event = press_generate(&mut host);
    assert!(matches!(event, WorkerEvent::Finished { .. }), "{event:?}");
    assert_midi_passes(&mut host);
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn an_offline_render_does_not_wait_for_an_engine_that_has_ended() {
    let mut host = Host::new_offline(48_000.0);
    record_phrase(&mut host);
    end_worker_thread(&host);
    // A Generate that nobody will answer: the bounce goes on (the offline wait would otherwise
    // hold every block for its full timeout) and MIDI still passes.
    set_param(&host.plugin.params_arc().generate, true);
    let started = Instant::now();
    host.run(64, 64, &[]);
    assert_midi_passes(&mut host);
    // Not a speed check: the offline wait for a dead engine would take 30 s per block.
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}

/// Ends the worker thread through the test hook and waits until its state says so.
fn end_worker_thread(host: &Host) {
    host.plugin.inject_worker_exit();
    let deadline = Instant::now() + WAIT;
    while host.plugin.editor_end().state() != WorkerState::Stopped {
        assert!(Instant::now() < deadline, "the engine thread did not end");
        std::thread::sleep(Duration::from_millis(2));
    }
}
