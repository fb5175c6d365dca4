//! Proves `process()` allocates nothing while capturing, playing, passing MIDI through and
//! exchanging messages with the engine thread. nice-plug's `assert_process_allocs` installs a
//! counting allocator; `nice-assert-no-alloc`'s `warn_debug` counts instead of aborting, and the
//! fake host adds up the violations of every `process()` call.

use std::time::Duration;

use cadenza::messages::WorkerEvent;
use cadenza::params::{Mode, Tool};
use cadenza_tests::{note_off, note_on, set_param, Host};

#[test]
fn the_allocation_counter_sees_allocations() {
    cadenza_tests::reset_allocation_violations();
    nice_assert_no_alloc::assert_no_alloc(|| {
        let v = std::hint::black_box(vec![1u8; 64]);
        drop(v);
    });
    assert!(cadenza_tests::allocation_violations() >= 1, "the counting allocator is not installed");
}

#[test]
fn process_never_allocates_on_any_path() {
    let mut host = Host::new(48_000.0);
    let params = host.plugin.params_arc().clone();
    host.playing = true;
    let spb = host.samples_per_beat() as usize;

    for round in 0..3u8 {
        // Capture a bar of notes while whatever was generated before plays.
        let input: Vec<_> = (0..8)
            .flat_map(|i| [(i * spb / 2, note_on(60 + i as u8, 90)), (i * spb / 2 + spb / 4, note_off(60 + i as u8))])
            .collect();
        host.run(spb * 4, 128, &input);

        // Automate parameters every block while requesting a generation.
        set_param(&params.tool, if round % 2 == 0 { Tool::Continue } else { Tool::Drumify });
        set_param(&params.mode, if round % 2 == 0 { Mode::Melody } else { Mode::Drums });
        set_param(&params.variations, 1 + round as i32 * 5);
        set_param(&params.generate, true);
        for step in 0..10 {
            set_param(&params.temperature, step as f32 * 0.2);
            host.run(128, 128, &[]);
        }
        set_param(&params.generate, false);
        let event = host.wait_for_engine(Duration::from_secs(5));
        assert!(matches!(event, WorkerEvent::Finished { .. }), "{event:?}");

        // Play the result, switching variations (clips arrive from the engine mid-playback).
        for variation in 0..(1 + round as usize * 5).min(3) {
            host.plugin.editor_end().select(variation);
            host.run(spb * 2, 511, &[]);
        }
        // Transport jumps and stops.
        host.locate_beats(1.0);
        host.run(spb, 64, &[]);
        host.playing = false;
        host.run(1024, 1, &[]);
        host.playing = true;
    }
    assert!(host.notes().iter().any(|e| e.1 >= 72), "the generated clips were played");
    assert_eq!(host.process_allocations, 0, "process() allocated");
}
