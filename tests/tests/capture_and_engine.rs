//! Capture against the host's musical position and the round trip through the engine thread.

use std::time::Duration;

use cadenza::messages::WorkerEvent;
use cadenza::music::Note;
use cadenza::params::Tool;
use cadenza_tests::{note_off, note_on, set_param, Host};

const WAIT: Duration = Duration::from_secs(5);

/// Plays C4 on beat 1 (1/2 beat), E4 on beat 2.25 (1/4 beat) and G4 held over the end, in bar 3
/// of the song, then presses Generate.
fn record_phrase(host: &mut Host) {
    host.playing = true;
    host.locate_beats(8.0); // bar 3
    let spb = host.samples_per_beat();
    let at = |beat: f64| (beat * spb).round() as usize;
    let input = [
        (at(1.0), note_on(60, 100)),
        (at(1.5), note_off(60)),
        (at(2.25), note_on(64, 80)),
        (at(2.5), note_off(64)),
        (at(3.0), note_on(67, 70)),
    ];
    host.run(at(3.5), 100, &input);
}

#[test]
fn notes_are_captured_at_their_beats_and_generate_runs_the_engine() {
    let mut host = Host::new(44_100.0);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    record_phrase(&mut host);

    set_param(&host.plugin.params_arc().variations, 3);
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    let event = host.wait_for_engine(WAIT);
    assert!(matches!(event, WorkerEvent::Finished { variations: 3, .. }), "{event:?}");
    assert_eq!(host.process_allocations, 0, "capturing and requesting must not allocate");

    let session = host.plugin.editor_end().session().lock().clone();
    let captured = session.inputs[0].clone().expect("the capture is stored in slot A");
    assert_eq!(captured.bars, 1);
    let note = |pitch, velocity, start, end| Note { pitch, velocity, start, end, channel: 0 };
    // The snapshot is taken at the end of the 64-sample block that saw the trigger.
    let snapshot_tick = 1680 + (64.0 / host.samples_per_beat() * 480.0).round() as u32;
    assert_eq!(
        captured.notes,
        vec![note(60, 100, 480, 720), note(64, 80, 1080, 1200), note(67, 70, 1440, snapshot_tick)],
        "ticks from the bar's downbeat; the held G4 ends where the snapshot was taken"
    );
    // The stand-in engine echoes the phrase an octave up, once per variation.
    assert_eq!(session.generated.len(), 3);
    for clip in &session.generated {
        let pitches: Vec<u8> = clip.notes.iter().map(|n| n.pitch).collect();
        assert_eq!(pitches, vec![72, 76, 79]);
    }
    assert_eq!(session.selected, Some(0));
    assert_eq!(host.plugin.player().clip().map(|c| c.variation), Some(0));
}

#[test]
fn a_trigger_with_nothing_captured_reports_an_error_and_keeps_running() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    let event = host.wait_for_engine(WAIT);
    assert!(matches!(event, WorkerEvent::Failed { .. }), "{event:?}");
    // MIDI still flows.
    host.output.clear();
    host.run(128, 128, &[(3, note_on(50, 50))]);
    assert_eq!(host.notes().len(), 1);
}

#[test]
fn the_trigger_fires_once_per_press_and_disarmed_capture_records_nothing() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().capture_armed, false);
    record_phrase(&mut host);
    assert!(host.plugin.capture().is_empty());

    set_param(&host.plugin.params_arc().capture_armed, true);
    record_phrase(&mut host);
    assert_eq!(host.plugin.capture().len(), 2, "two finished notes, G4 still held");

    set_param(&host.plugin.params_arc().tool, Tool::Continue);
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64 * 10, 64, &[]); // held down for ten blocks: still one request
    let first = host.wait_for_engine(WAIT);
    assert!(matches!(first, WorkerEvent::Finished { .. }));
    std::thread::sleep(Duration::from_millis(50));
    host.run(64, 64, &[]);
    assert!(host.plugin.editor_end().next_event().is_none(), "no second job while the button stays down");
}

#[test]
fn an_offline_render_waits_for_the_engine_so_the_result_plays_in_the_next_block() {
    let mut host = Host::new_offline(48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    record_phrase(&mut host);
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    // No waiting on the test's side: the very next block must already have the clip.
    host.run(64, 64, &[]);
    assert_eq!(host.plugin.player().clip().map(|c| c.variation), Some(0));
}

#[test]
fn the_editor_can_ask_for_the_capture_in_slot_b_and_submit_a_job() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    record_phrase(&mut host);
    host.plugin.editor_end().request_capture_to_slot(1);
    host.run(64, 64, &[]);
    let deadline = std::time::Instant::now() + WAIT;
    while host.plugin.editor_end().session().lock().inputs[1].is_none() {
        assert!(std::time::Instant::now() < deadline, "slot B never filled");
        std::thread::sleep(Duration::from_millis(2));
    }
    let slot_b = host.plugin.editor_end().session().lock().inputs[1].clone().unwrap();
    assert_eq!(slot_b.notes.len(), 3);
    assert_eq!(host.process_allocations, 0);

    let settings = host.plugin.params_arc().tool_settings();
    let id = host.plugin.editor_end().submit(settings, 7).expect("queued");
    let event = host.wait_for_engine(WAIT);
    assert_eq!(event, WorkerEvent::Finished { id, variations: settings.variations as usize, detected_key: None });
}

#[test]
fn a_panicking_job_is_reported_and_the_engine_keeps_serving() {
    use cadenza::messages::{JobError, JobRequest};
    use cadenza::music::Clip;
    use cadenza::worker::{Generator, Progress};

    /// Panics on the first job, echoes afterwards.
    struct PanicsOnce(bool);
    impl Generator for PanicsOnce {
        fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
            if !std::mem::replace(&mut self.0, true) {
                panic!("injected fault");
            }
            cadenza_tests::OctaveEcho.generate(request, progress)
        }
    }

    let plugin = cadenza::Cadenza::with_generator(|| Box::new(PanicsOnce(false)));
    let mut host = Host::with_plugin_for_tests(plugin);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    record_phrase(&mut host);
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    let event = host.wait_for_engine(WAIT);
    let WorkerEvent::Failed { error: JobError::Internal(message), .. } = event else { panic!("{event:?}") };
    assert!(message.contains("injected fault"), "{message}");

    // MIDI still passes, and the retry works.
    host.output.clear();
    host.run(64, 64, &[(1, note_on(70, 70))]);
    assert_eq!(host.notes().len(), 1);
    set_param(&host.plugin.params_arc().generate, false);
    host.run(64, 64, &[]);
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    assert!(matches!(host.wait_for_engine(WAIT), WorkerEvent::Finished { .. }));
}

#[test]
fn requests_that_pile_up_while_the_engine_is_busy_are_superseded_by_the_newest() {
    use cadenza::messages::{JobError, JobRequest};
    use cadenza::music::Clip;
    use cadenza::worker::{Generator, Progress};
    use cadenza_tests::OctaveEcho;

    /// Takes 300 ms per job, like a long generation.
    struct Slow;
    impl Generator for Slow {
        fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
            std::thread::sleep(Duration::from_millis(300));
            OctaveEcho.generate(request, progress)
        }
    }

    let mut host = Host::with_plugin_for_tests(cadenza::Cadenza::with_generator(|| Box::new(Slow)));
    let shared = host.plugin.editor_end().clone();
    shared.session().lock().inputs[0] = Some(cadenza_tests::test_clip());
    let mut settings = host.plugin.params_arc().tool_settings();
    settings.variations = 1;
    let first = shared.submit(settings, 1).unwrap();
    // Wait until the engine is busy with the first job, then press twice more.
    let deadline = std::time::Instant::now() + WAIT;
    while shared.next_event() != Some(WorkerEvent::Started { id: first }) {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(1));
    }
    settings.variations = 2;
    let stale = shared.submit(settings, 2).unwrap();
    settings.variations = 3;
    let newest = shared.submit(settings, 3).unwrap();

    let mut events = Vec::new();
    while !events.iter().any(|e| matches!(e, WorkerEvent::Finished { id, .. } if *id == newest)) {
        assert!(std::time::Instant::now() < deadline, "{events:?}");
        while let Some(event) = shared.next_event() {
            events.push(event);
        }
        host.run(64, 64, &[]);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(
        events,
        vec![
            WorkerEvent::Finished { id: first, variations: 1, detected_key: None },
            WorkerEvent::Failed { id: stale, error: JobError::Superseded },
            WorkerEvent::Started { id: newest },
            WorkerEvent::Finished { id: newest, variations: 3, detected_key: None },
        ]
    );
}
