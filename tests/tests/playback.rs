//! The player and passthrough, driven through `process()` by the fake host.

use cadenza::params::Playback;
use cadenza_tests::{expected_events, load_clip, note_off, note_on, set_param, test_clip, Host};

#[test]
fn playback_is_sample_accurate_at_every_block_size_and_rate() {
    for sample_rate in [44_100.0f32, 48_000.0, 96_000.0] {
        let mut reference = None;
        for block_size in [1usize, 64, 511, 4096] {
            let mut host = Host::new(sample_rate);
            load_clip(&mut host, test_clip());
            host.playing = true;
            let spb = host.samples_per_beat();
            let total = (spb * 8.0) as usize; // two passes of the one-bar clip
            host.run(total, block_size, &[]);
            let got: Vec<_> = host.notes().into_iter().filter(|e| e.0 < total as i64).collect();
            let mut want = expected_events(&test_clip(), spb, 2, 0);
            want.retain(|e| e.0 < total as i64);
            assert_eq!(got, want, "sample rate {sample_rate}, block size {block_size}");
            assert_eq!(host.process_allocations, 0);
            if let Some(reference) = &reference {
                assert_eq!(&got, reference, "block size {block_size} changed the output");
            }
            reference = Some(got);
        }
    }
}

#[test]
fn loop_wraps_with_the_note_off_before_the_next_pass() {
    let mut host = Host::new(48_000.0);
    load_clip(&mut host, test_clip());
    host.playing = true;
    let bar = (host.samples_per_beat() * 4.0) as i64;
    host.run(bar as usize * 3 + 10, 256, &[]);
    let notes = host.notes();
    for pass in 1..3 {
        let at_wrap: Vec<_> = notes.iter().filter(|e| e.0 == pass * bar).collect();
        // G4 (ending at the bar line) is released, then C4 starts the new pass.
        assert_eq!(at_wrap.iter().map(|e| (e.1, e.3)).collect::<Vec<_>>(), vec![(67, 0), (60, 100)], "pass {pass}");
    }
    assert_eq!(notes.iter().filter(|e| e.1 == 60 && e.3 > 0).count(), 4);
}

#[test]
fn stopping_the_transport_releases_every_note() {
    let mut host = Host::new(48_000.0);
    load_clip(&mut host, test_clip());
    host.playing = true;
    let spb = host.samples_per_beat();
    // Stop in the middle of C4 (beat 0.5).
    host.run((spb * 0.5) as usize, 128, &[]);
    assert_eq!(host.hanging_notes(), vec![(60, 0)]);
    host.playing = false;
    host.run(128, 128, &[]);
    assert!(host.hanging_notes().is_empty(), "hanging: {:?}", host.hanging_notes());
    // And nothing more plays while stopped.
    let before = host.notes().len();
    host.run(48_000, 512, &[]);
    assert_eq!(host.notes().len(), before);
}

#[test]
fn relocating_releases_notes_and_continues_from_the_new_position() {
    let mut host = Host::new(48_000.0);
    load_clip(&mut host, test_clip());
    host.playing = true;
    let spb = host.samples_per_beat();
    host.run((spb * 0.5) as usize, 64, &[]); // C4 sounding
    host.locate_beats(3.0);
    let jump = host.steady_time;
    host.run((spb * 0.75) as usize, 64, &[]);
    let notes = host.notes();
    let after: Vec<_> = notes.iter().filter(|e| e.0 >= jump).map(|e| (e.0 - jump, e.1, e.3)).collect();
    assert_eq!(after[0], (0, 60, 0), "C4 released at the jump");
    assert_eq!(after[1], ((spb * 0.5 - 1e-3).ceil() as i64, 67, 100), "G4 at beat 3.5");
}

#[test]
fn tempo_change_mid_clip_moves_later_events() {
    let mut host = Host::new(48_000.0);
    load_clip(&mut host, test_clip());
    host.playing = true;
    let block = 64;
    host.run(24_000, block, &[]); // one beat at 120 BPM
    host.tempo = 60.0;
    let change_sample = host.pos_samples;
    host.run(48_000 * 3, block, &[]); // three beats at 60 BPM
    let notes = host.notes();
    // E4 on beat 1 is now (beat 1 reached exactly at the change) at the change sample; its
    // note-off half a beat later at 60 BPM = 24000 samples; G4 at beat 3.5 = 2.5 beats later.
    assert!(notes.contains(&(change_sample, 64, 0, 100)), "{notes:?}");
    assert!(notes.contains(&(change_sample + 24_000, 64, 0, 0)), "{notes:?}");
    assert!(notes.contains(&(change_sample + 120_000, 67, 0, 100)), "{notes:?}");
}

#[test]
fn playback_off_channel_and_deactivate() {
    let mut host = Host::new(48_000.0);
    load_clip(&mut host, test_clip());
    set_param(&host.plugin.params_arc().out_channel, 10);
    host.playing = true;
    host.run(12_000, 512, &[]);
    assert_eq!(host.notes()[0], (0, 60, 9, 100), "plays on channel 10");

    set_param(&host.plugin.params_arc().playback, Playback::Off);
    host.run(512, 512, &[]);
    assert!(host.hanging_notes().is_empty(), "switching playback off releases notes");
    let count = host.notes().len();
    host.run(96_000, 512, &[]);
    assert_eq!(host.notes().len(), count, "nothing plays while playback is off");

    set_param(&host.plugin.params_arc().playback, Playback::PlaySelected);
    host.locate_beats(0.0);
    host.run(2_000, 512, &[]);
    assert_eq!(host.hanging_notes(), vec![(60, 9)]);
    host.reactivate();
    host.playing = false;
    host.run(64, 64, &[]);
    assert!(host.hanging_notes().is_empty(), "notes held at deactivate are released right after");
}

#[test]
fn incoming_midi_passes_through_at_the_same_samples() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().playback, Playback::Off);
    for playing in [false, true] {
        host.output.clear();
        host.playing = playing;
        let start = host.steady_time;
        let input = [(5, note_on(62, 90)), (700, note_off(62)), (700, note_on(63, 10)), (1500, note_off(63))];
        host.run(2048, 300, &input);
        let got: Vec<_> = host.notes().into_iter().map(|e| (e.0 - start, e.1, e.3)).collect();
        assert_eq!(got, vec![(5, 62, 90), (700, 62, 0), (700, 63, 10), (1500, 63, 0)], "playing = {playing}");
    }
}

#[test]
fn player_and_passthrough_events_are_merged_in_time_order() {
    let mut host = Host::new(48_000.0);
    load_clip(&mut host, test_clip());
    host.playing = true;
    let input = [(100, note_on(40, 50)), (30_000, note_off(40))];
    host.run(48_000, 4096, &input);
    let samples: Vec<i64> = host.output.iter().map(|r| r.sample).collect();
    assert!(samples.windows(2).all(|w| w[0] <= w[1]), "out of order: {samples:?}");
    assert!(host.notes().contains(&(100, 40, 0, 50)));
}
