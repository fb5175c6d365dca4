//! Jam (issue 15): Cadenza answers the musician in time, inside the song. Every test runs
//! `process()` under the allocation counter and checks that no note is left hanging.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cadenza::channels::JamPhase;
use cadenza::messages::{JobError, JobPurpose, JobRequest, WorkerEvent};
use cadenza::music::Clip;
use cadenza::params::{BargeIn, JamTrigger, Playback};
use cadenza::worker::{Generator, Progress};
use cadenza::Cadenza;
use cadenza_tests::{note_off, note_on, set_param, Host};

/// Answers a call with the call itself an octave up, so a test can tell which notes primed it.
struct JamEcho;

impl Generator for JamEcho {
    fn generate(&mut self, request: &JobRequest, _progress: &Progress) -> Result<Vec<Clip>, JobError> {
        assert!(matches!(request.purpose, JobPurpose::JamAnswer { .. }), "only Jam asks in these tests");
        let mut clip = request.inputs[0].clone();
        for note in &mut clip.notes {
            note.pitch += 12;
        }
        Ok(vec![clip])
    }
}

/// The same, but a job waits until a test opens the gate (a machine too slow for the bar line).
static GATE_OPEN: AtomicBool = AtomicBool::new(true);

struct GatedEcho;

impl Generator for GatedEcho {
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
        while !GATE_OPEN.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
        JamEcho.generate(request, progress)
    }
}

/// The echo on a slow machine: 250 ms per answer.
struct SlowEcho;

impl Generator for SlowEcho {
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
        std::thread::sleep(Duration::from_millis(250));
        JamEcho.generate(request, progress)
    }
}

fn jam_host(plugin: Cadenza, sample_rate: f32) -> Host {
    let mut host = Host::with_plugin_for_tests(plugin);
    host.sample_rate = sample_rate;
    host.reactivate();
    let params = host.plugin.params_arc().clone();
    set_param(&params.jam, true);
    set_param(&params.capture_armed, false); // Jam listens on its own.
    set_param(&params.out_channel, 2);
    host.playing = true;
    host
}

/// The musician's notes: (beat, pitch, length in beats, velocity).
type Played = [(f64, u8, f64, u8)];

/// Plays `notes` from the song's start and renders until `until_beats` in `block` sample blocks.
/// `pace` waits after each block for the worker to answer every request (a real-time host on
/// a machine far faster than the music).
fn render(host: &mut Host, notes: &Played, until_beats: f64, block: usize, pace: bool) {
    let spb = host.samples_per_beat();
    let at = |beat: f64| (beat * spb).round() as i64;
    let mut events: Vec<(i64, _)> = Vec::new();
    for &(beat, pitch, length, velocity) in notes {
        events.push((at(beat), note_on(pitch, velocity)));
        events.push((at(beat + length), note_off(pitch)));
    }
    events.sort_by_key(|(sample, _)| *sample);
    let end = at(until_beats);
    while host.pos_samples < end {
        let start = host.pos_samples;
        let len = (block as i64).min(end - start) as usize;
        let input: Vec<_> = events
            .iter()
            .filter(|(sample, _)| (start..start + len as i64).contains(sample))
            .map(|(sample, event)| ((sample - start) as usize, *event))
            .collect();
        host.run(len, len, &input);
        if pace {
            settle(host);
        }
    }
}

/// The results list once it holds `count` clips (the worker adds heard answers on its tick).
fn wait_for_results(host: &Host, count: usize) -> Vec<Clip> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let generated = host.plugin.editor_end().session().lock().generated.clone();
        if generated.len() >= count || Instant::now() > deadline {
            assert_eq!(generated.len(), count, "results: {generated:?}");
            return generated;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn settle(host: &Host) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while host.plugin.editor_end().jobs_in_flight() > 0 {
        assert!(Instant::now() < deadline, "the worker never answered");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Note events Cadenza played on channel 2 (0-based 1): the answers.
fn answers(host: &Host) -> Vec<(i64, u8, u8)> {
    host.notes().into_iter().filter(|n| n.2 == 1).map(|n| (n.0, n.1, n.3)).collect()
}

/// The first sample at or after `beat` (how the player places events).
fn sample_at(host: &Host, beat: f64) -> i64 {
    (beat * host.samples_per_beat() - 1e-3).ceil() as i64
}

/// A 2-bar phrase with two short rests (half a beat each); its last note-on is on beat 6 and it
/// is silent from beat 7, so the call ends on beat 7 (6 + the 1-beat gap).
const PHRASE: [(f64, u8, f64, u8); 5] =
    [(0.0, 60, 1.0, 90), (1.0, 62, 1.0, 70), (2.5, 64, 1.5, 100), (4.0, 65, 1.5, 80), (6.0, 67, 1.0, 95)];

#[test]
fn a_phrase_then_silence_is_answered_on_the_next_bar_line_sample_exactly_at_any_block_size() {
    for sample_rate in [44_100.0, 96_000.0] {
        for block in [1, 64, 512, 4096] {
            let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), sample_rate);
            render(&mut host, &PHRASE, 17.0, block, true);
            let played = answers(&host);
            // The call ends on beat 7; the next bar line is beat 8 (bar 3). The answer is as
            // long as the call (2 bars) and primed on it: the echo plays it an octave up.
            let mut expected = Vec::new();
            for &(beat, pitch, length, velocity) in &PHRASE {
                expected.push((sample_at(&host, 8.0 + beat), pitch + 12, velocity));
                expected.push((sample_at(&host, 8.0 + beat + length), pitch + 12, 0));
            }
            expected.sort_by_key(|e| (e.0, e.2 > 0, e.1));
            assert_eq!(played, expected, "{sample_rate} Hz, block {block}");
            assert!(host.hanging_notes().is_empty(), "{:?}", host.hanging_notes());
            assert_eq!(host.process_allocations, 0, "{sample_rate} Hz, block {block}");
            // The answer that sounded is in the results list too (the worker adds it once the
            // audio thread says it began; answers to calls that went on are not).
            let generated = wait_for_results(&host, 1);
            assert_eq!(generated[0].notes.len(), PHRASE.len());
            assert_eq!(host.plugin.editor_end().jam_status().0, JamPhase::Listening);
        }
    }
}

#[test]
fn the_answer_is_primed_on_the_call_and_earlier_context() {
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), 48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 4);
    render(&mut host, &PHRASE, 9.0, 256, true);
    let deadline = Instant::now() + Duration::from_secs(5);
    let call = loop {
        match host.plugin.editor_end().next_event() {
            Some(WorkerEvent::JamAnswered { call, .. }) => break call,
            Some(_) => continue,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            None => panic!("no answer"),
        }
    };
    let pitches: Vec<u8> = call.notes.iter().map(|n| n.pitch).collect();
    assert_eq!(pitches, vec![60, 62, 64, 65, 67], "the whole phrase primes the answer");
    assert_eq!(call.bars, 2, "whole bars from the song's start");
}

#[test]
fn barge_in_stops_the_answer_within_the_block_with_every_note_released() {
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), 48_000.0);
    // Long notes so several are sounding when the musician comes back in at beat 10.5.
    let held = [(0.0, 60, 7.0, 90), (0.0, 64, 7.0, 80), (2.0, 67, 5.0, 70)];
    let mut notes = held.to_vec();
    notes.push((10.5, 72, 0.5, 100));
    render(&mut host, &notes, 12.0, 512, true);
    let barge = (10.5 * host.samples_per_beat()).round() as i64;
    let played = answers(&host);
    let ons: Vec<_> = played.iter().filter(|e| e.2 > 0).collect();
    assert_eq!(ons.len(), 3, "{played:?}");
    assert!(ons.iter().all(|e| e.0 < barge));
    let offs: Vec<_> = played.iter().filter(|e| e.2 == 0).collect();
    assert_eq!(offs.len(), 3, "every answer note is released");
    assert!(offs.iter().all(|e| e.0 == barge), "released at the barge-in sample: {offs:?}");
    assert!(host.hanging_notes().iter().all(|(_, ch)| *ch != 1));
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn barge_in_can_let_the_answer_finish_its_bar() {
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), 48_000.0);
    set_param(&host.plugin.params_arc().jam_barge_in, BargeIn::FinishBar);
    let notes = [(0.0, 60, 7.0, 90), (8.0 + 1.5, 72, 0.5, 100)];
    render(&mut host, &notes, 13.0, 512, true);
    let played = answers(&host);
    assert_eq!(played.first().map(|e| (e.0, e.1)), Some((sample_at(&host, 8.0), 72)));
    // The answer note (8..15) is cut at the end of the bar the musician came in: beat 12.
    assert_eq!(played.last().map(|e| (e.0, e.2)), Some((sample_at(&host, 12.0), 0)));
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn every_n_bars_alternates_call_and_answer_for_sixteen_bars() {
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), 48_000.0);
    let params = host.plugin.params_arc().clone();
    set_param(&params.jam_trigger, JamTrigger::EveryBars);
    set_param(&params.jam_bars, 2);
    set_param(&params.capture_bars, 2);
    // Calls in bars 1–2, 5–6, 9–10, 13–14 (beats 0, 16, 32, 48), a different note each time.
    let notes: Vec<_> = (0..4)
        .flat_map(|turn| [(turn as f64 * 16.0, 60 + turn as u8, 1.0, 90), (turn as f64 * 16.0 + 5.0, 70, 1.0, 80)])
        .collect();
    render(&mut host, &notes, 64.0, 512, true);
    let ons: Vec<_> = answers(&host).into_iter().filter(|e| e.2 > 0).collect();
    let mut expected = Vec::new();
    for turn in 0..4u8 {
        let answer_at = turn as f64 * 16.0 + 8.0;
        expected.push((sample_at(&host, answer_at), 72 + turn, 90));
        expected.push((sample_at(&host, answer_at + 5.0), 82, 80));
    }
    assert_eq!(ons, expected, "each answer turn echoes its call turn, on the turn's bar line");
    assert!(host.hanging_notes().is_empty());
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn a_late_answer_starts_on_a_later_bar_line_never_mid_bar() {
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(GatedEcho)), 48_000.0);
    GATE_OPEN.store(false, Ordering::Release);
    // The call ends (beat 7); the worker is stuck past the bar line at beat 8.
    render(&mut host, &PHRASE, 9.3, 512, false);
    assert_eq!(host.plugin.editor_end().jam_status().0, JamPhase::Thinking);
    GATE_OPEN.store(true, Ordering::Release);
    settle(&host);
    render(&mut host, &[], 21.0, 512, true);
    let played = answers(&host);
    assert_eq!(played.first().map(|e| (e.0, e.1)), Some((sample_at(&host, 12.0), 72)), "the next bar line");
    assert_eq!(host.plugin.editor_end().jam_status().1, 1, "the panel can say one answer was late");
    assert!(host.hanging_notes().is_empty());
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn stop_relocate_and_loop_leave_no_hanging_notes() {
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), 48_000.0);
    let held = [(0.0, 60, 7.0, 90), (4.0, 64, 3.0, 80)];
    render(&mut host, &held, 9.0, 512, true);
    assert!(answers(&host).iter().any(|e| e.2 > 0), "the answer sounds");
    // A loop jump back to the top while the answer sounds.
    host.locate_beats(0.0);
    host.run(512, 512, &[]);
    assert!(host.hanging_notes().is_empty(), "released at the jump");
    // Again, then the transport stops.
    render(&mut host, &held, 9.0, 512, true);
    host.playing = false;
    host.run(512, 512, &[]);
    assert!(host.hanging_notes().is_empty(), "released at the stop");
    // Jam switched off while answering.
    host.playing = true;
    host.locate_beats(0.0);
    render(&mut host, &held, 9.0, 512, true);
    set_param(&host.plugin.params_arc().jam, false);
    host.run(512, 512, &[]);
    assert!(host.hanging_notes().is_empty(), "released when Jam goes off");
    assert_eq!(host.plugin.editor_end().jam_status().0, JamPhase::Off);
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn a_bounce_of_a_jam_is_identical_run_to_run_and_on_a_slow_machine() {
    let bounce = |plugin: Cadenza| {
        let mut host = jam_host(plugin, 48_000.0);
        host.block_mode = nice_plug::prelude::ProcessMode::Offline;
        let mut notes = PHRASE.to_vec();
        notes.extend(PHRASE.iter().map(|&(b, p, l, v)| (b + 16.0, p + 2, l, v)));
        render(&mut host, &notes, 34.0, 512, false);
        assert_eq!(host.process_allocations, 0);
        host.output
    };
    let first = bounce(Cadenza::with_generator(|| Box::new(JamEcho)));
    let second = bounce(Cadenza::with_generator(|| Box::new(JamEcho)));
    let slow = bounce(Cadenza::with_generator(|| Box::new(SlowEcho)));
    assert!(first.len() > 20, "answers play in the bounce");
    assert_eq!(first, second);
    assert_eq!(first, slow, "an offline render waits for the worker");
}

#[test]
fn playing_the_selected_result_pauses_while_jamming() {
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), 48_000.0);
    set_param(&host.plugin.params_arc().playback, Playback::PlaySelected);
    cadenza_tests::load_clip(&mut host, cadenza_tests::test_clip());
    host.run(48_000, 512, &[]);
    assert!(host.notes().iter().all(|n| n.2 != 1), "only answers play while Jam is on");
}

#[test]
fn a_phrase_of_detached_notes_is_one_call() {
    // Eight detached quarter notes (half a beat of rest after each, less than the gap).
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), 48_000.0);
    let notes: Vec<_> =
        [60u8, 64, 67, 64, 62, 65, 67, 60].iter().enumerate().map(|(i, &p)| (i as f64, p, 0.5, 90)).collect();
    render(&mut host, &notes, 17.0, 512, true);
    let ons: Vec<_> = answers(&host).into_iter().filter(|e| e.2 > 0).map(|e| (e.0, e.1)).collect();
    let expected: Vec<_> = notes.iter().map(|&(b, p, _, _)| (sample_at(&host, 8.0 + b), p + 12)).collect();
    assert_eq!(ons, expected, "last note-on at 7 + 1-beat gap = 8: the answer starts on bar 3, primed on all eight");
    // A held note is never cut short: held from 4 to 9.5, the call ends at 9.5 → bar line 12.
    let mut host = jam_host(Cadenza::with_generator(|| Box::new(JamEcho)), 48_000.0);
    render(&mut host, &[(0.0, 60, 1.0, 90), (4.0, 62, 5.5, 90)], 13.0, 512, true);
    let first = answers(&host).into_iter().find(|e| e.2 > 0).map(|e| e.0);
    assert_eq!(first, Some(sample_at(&host, 12.0)));
}
