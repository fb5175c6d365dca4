//! Hosts do odd things: block sizes that change every call, unusual sample rates and tempos,
//! activate/deactivate loops, meter changes, many instances, unloading while the engine works.

use std::time::Duration;

use cadenza::messages::WorkerEvent;
use cadenza_tests::{expected_events, load_clip, note_off, note_on, set_param, test_clip, Host};
use nice_plug::prelude::Plugin;

/// A fixed pseudo-random sequence (no dependency, reproducible).
fn block_sizes(seed: u64) -> impl Iterator<Item = usize> {
    let mut x = seed;
    std::iter::from_fn(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        Some(1 + (x % 8192) as usize)
    })
}

#[test]
fn block_sizes_varying_every_call_give_the_same_sample_exact_output() {
    for (sample_rate, tempo) in [(22_050.0f32, 20.0), (44_100.0, 999.0), (192_000.0, 133.0), (88_200.0, 60.0)] {
        let mut host = Host::new(sample_rate);
        host.tempo = tempo;
        host.locate_beats(0.0);
        load_clip(&mut host, test_clip());
        host.playing = true;
        let spb = host.samples_per_beat();
        let total = (spb * 8.0) as usize;
        let mut done = 0;
        for size in block_sizes(sample_rate as u64) {
            if done >= total {
                break;
            }
            let len = size.min(total - done);
            host.run(len, len, &[]);
            done += len;
        }
        let got: Vec<_> = host.notes().into_iter().filter(|e| e.0 < total as i64).collect();
        let mut want = expected_events(&test_clip(), spb, 2, 0);
        want.retain(|e| e.0 < total as i64);
        assert_eq!(got, want, "{sample_rate} Hz at {tempo} BPM");
        assert_eq!(host.process_allocations, 0);
    }
}

#[test]
fn activate_deactivate_reset_loops_never_leave_notes_hanging() {
    let mut host = Host::new(48_000.0);
    load_clip(&mut host, test_clip());
    host.playing = true;
    for i in 0..50 {
        host.run(1000 + i * 37, 256, &[(3, note_on(30, 90))]);
        host.run(16, 16, &[(0, note_off(30))]);
        host.reactivate();
        if i % 3 == 0 {
            host.plugin.reset();
        }
    }
    host.playing = false;
    host.run(64, 64, &[]);
    assert!(host.hanging_notes().is_empty(), "{:?}", host.hanging_notes());
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn transport_loops_and_jumps_every_few_blocks() {
    let mut host = Host::new(48_000.0);
    load_clip(&mut host, test_clip());
    host.playing = true;
    for i in 0..200 {
        host.run(700, 700, &[]);
        if i % 4 == 3 {
            host.locate_beats([0.0, 1.75, 3.99, 0.5][i / 4 % 4]);
        }
    }
    host.playing = false;
    host.run(64, 64, &[]);
    assert!(host.hanging_notes().is_empty());
    // Every note-on was matched by a note-off before the next note-on of the same key.
    let mut sounding = std::collections::HashSet::new();
    for (_, pitch, _, velocity) in host.notes() {
        if velocity > 0 {
            assert!(sounding.insert(pitch), "key {pitch} struck twice without a release");
        } else {
            sounding.remove(&pitch);
        }
    }
}

#[test]
fn capture_follows_a_three_four_meter() {
    let mut host = Host::new(48_000.0);
    host.time_sig = (3, 4);
    set_param(&host.plugin.params_arc().capture_bars, 2);
    host.playing = true;
    let spb = host.samples_per_beat();
    // Bar 3 of a 3/4 song starts on beat 6; play on beats 6 and 8.5 (bar 3 beats 1 and 3.5).
    host.locate_beats(5.0);
    let at = |beats_from_now: f64| (beats_from_now * spb).round() as usize;
    host.run(
        at(4.0),
        100,
        &[(at(1.0), note_on(60, 90)), (at(1.5), note_off(60)), (at(3.5), note_on(62, 90)), (at(3.75), note_off(62))],
    );
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    host.wait_for_engine(Duration::from_secs(5));
    let captured = host.plugin.editor_end().session().lock().inputs[0].clone().unwrap();
    assert_eq!((captured.time_signature.numerator, captured.time_signature.denominator), (3, 4));
    assert_eq!(captured.bars, 2);
    // Window = bars 2 and 3 (beats 3..9): the notes sit at beats 3 and 5.5 of the window.
    let starts: Vec<u32> = captured.notes.iter().map(|n| n.start).collect();
    assert_eq!(starts, vec![3 * 480, 5 * 480 + 240]);
}

#[test]
fn a_meter_change_mid_song_moves_the_capture_grid_and_playback_stays_on_the_beat() {
    let mut host = Host::new(48_000.0);
    host.locate_beats(0.0);
    load_clip(&mut host, test_clip());
    set_param(&host.plugin.params_arc().capture_bars, 1);
    host.playing = true;
    let spb = host.samples_per_beat();
    let at = |beats_from_now: f64| (beats_from_now * spb).round() as usize;
    // Two bars of 4/4, then 3/4 from beat 8: the host's bars now start at 8, 11, 14, ...
    host.run(at(8.0), 256, &[]);
    host.time_sig = (3, 4);
    host.meter_changed_at = Some(8.0);
    // Two notes in the bar from beat 11 (on its beats 1.5 and 2.5), then one beat more.
    host.run(
        at(7.0),
        128,
        &[(at(3.5), note_on(50, 90)), (at(4.0), note_off(50)), (at(4.5), note_on(52, 90)), (at(5.0), note_off(52))],
    );

    // Playback follows beats, not bars: the clip loops from beat 0 exactly as before the change.
    let got: Vec<_> = host.notes().into_iter().filter(|n| n.1 != 50 && n.1 != 52 && n.0 < at(15.0) as i64).collect();
    let mut want = expected_events(&test_clip(), spb, 4, 0);
    want.retain(|e| e.0 < at(15.0) as i64);
    assert_eq!(got, want);

    // Capture counts bars on the host's new grid: both notes are in the bar 11..14. (Counting 3/4
    // bars from beat 0 would cut at beat 12 and lose the first.)
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    host.wait_for_engine(Duration::from_secs(5));
    let captured = host.plugin.editor_end().session().lock().inputs[0].clone().unwrap();
    assert_eq!((captured.time_signature.numerator, captured.time_signature.denominator, captured.bars), (3, 4, 1));
    let notes: Vec<_> = captured.notes.iter().map(|n| (n.pitch, n.start, n.end)).collect();
    assert_eq!(notes, vec![(50, 240, 480), (52, 720, 960)]);

    host.playing = false;
    host.run(64, 64, &[]);
    assert!(host.hanging_notes().is_empty(), "{:?}", host.hanging_notes());
    assert_eq!(host.process_allocations, 0);
}

#[test]
fn many_instances_run_at_once() {
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let mut host = Host::new(44_100.0 + i as f32 * 1000.0);
                load_clip(&mut host, test_clip());
                host.playing = true;
                host.run(44_100 * 2, 128 + i * 64, &[]);
                assert!(!host.notes().is_empty());
                assert_eq!(host.process_allocations, 0);
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("an instance failed");
    }
}

#[test]
fn unloading_while_the_engine_works_joins_its_thread() {
    let mut host = Host::new(48_000.0);
    host.playing = true;
    host.run(24_000, 512, &[(100, note_on(60, 90)), (5000, note_off(60))]);
    let shared = host.plugin.editor_end().clone();
    set_param(&host.plugin.params_arc().variations, 16);
    set_param(&host.plugin.params_arc().generate, true);
    host.run(64, 64, &[]);
    drop(host); // the request may still be in flight
                // Dropping the plugin joined the worker thread: it marked itself shut down on the way out.
    assert_eq!(shared.state(), cadenza::worker::WorkerState::NotStarted, "the worker thread outlived the plugin");
    while let Some(event) = shared.next_event() {
        assert!(!matches!(event, WorkerEvent::Failed { .. }), "{event:?}");
    }
}
