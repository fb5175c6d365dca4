//! Capture records the way a DAW records in replace mode (issue 13, fault 3): a new pass over the
//! same bars replaces the old one, loop recording keeps the newest pass, and "the last N bars"
//! are the bars just played, not the furthest song position ever played.

use std::time::Duration;

use cadenza::music::Clip;
use cadenza_tests::{note_off, note_on, set_param, Host};

const WAIT: Duration = Duration::from_secs(5);

/// Plays `notes` = (beat from now, pitch, length in beats) from the current position, then lets
/// the transport roll on to `until` beats from where it started.
fn play(host: &mut Host, notes: &[(f64, u8, f64)], until: f64) {
    host.playing = true;
    let spb = host.samples_per_beat();
    let at = |beat: f64| (beat * spb).round() as usize;
    let mut input = Vec::new();
    for &(beat, pitch, length) in notes {
        input.push((at(beat), note_on(pitch, 90)));
        input.push((at(beat + length), note_off(pitch)));
    }
    input.sort_by_key(|(offset, _)| *offset);
    host.run(at(until), 128, &input);
}

/// Presses Generate where the transport is and returns the captured input (slot A).
fn captured(host: &mut Host) -> Clip {
    host.press_generate(WAIT);
    assert_eq!(host.process_allocations, 0, "capture must not allocate");
    host.plugin.editor_end().session().lock().inputs[0].clone().expect("the capture is stored in slot A")
}

fn pitches(clip: &Clip) -> Vec<u8> {
    clip.notes.iter().map(|n| n.pitch).collect()
}

#[test]
fn loop_recording_over_the_same_bar_keeps_only_the_newest_pass() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    // A one-bar cycle: the host jumps back to beat 0 at every bar end, three passes.
    for (pass, phrase) in [[60u8, 62], [64, 65], [67, 69]].iter().enumerate() {
        host.locate_beats(0.0);
        play(&mut host, &[(0.5, phrase[0], 0.5), (2.0, phrase[1], 1.0)], 3.99);
        assert_eq!(host.plugin.capture().take() as usize, pass + 1, "each pass is a new take");
    }
    let input = captured(&mut host);
    assert_eq!(pitches(&input), vec![67, 69], "only the last pass, not the takes mixed");
    assert_eq!(input.bars, 1);
    assert_eq!((input.notes[0].start, input.notes[1].start), (240, 960), "ticks from the bar's downbeat");
}

#[test]
fn a_second_take_after_stopping_and_going_back_replaces_the_first() {
    let mut host = Host::new(44_100.0);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    play(&mut host, &[(0.0, 60, 1.0), (1.0, 62, 1.0), (2.0, 64, 1.0)], 4.5);
    host.playing = false;
    host.run(256, 256, &[]);
    host.locate_beats(0.0);
    play(&mut host, &[(0.25, 72, 0.5)], 4.5);
    let input = captured(&mut host);
    assert_eq!(pitches(&input), vec![72]);
}

#[test]
fn the_last_bars_are_what_was_just_played_after_jumping_back() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 4);
    // An old take: one note in bar 3.
    host.locate_beats(8.0);
    play(&mut host, &[(0.5, 50, 0.5)], 2.0);
    host.playing = false;
    host.run(128, 128, &[]);
    // Go back and play a new phrase in bar 1, then press Generate in bar 2.
    host.locate_beats(0.0);
    play(&mut host, &[(0.0, 60, 0.5), (1.0, 64, 0.5), (2.0, 67, 1.5)], 5.0);
    let input = captured(&mut host);
    assert_eq!(pitches(&input), vec![60, 64, 67], "the phrase just played, not the old bar-3 note");
    assert_eq!(input.bars, 1, "bars before the song start are dropped");
    assert_eq!(input.notes[0].start, 0);
}

#[test]
fn a_pass_that_only_listens_replaces_nothing() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    play(&mut host, &[(0.0, 60, 1.0), (2.0, 62, 1.0)], 4.0);
    host.locate_beats(0.0);
    play(&mut host, &[], 4.0);
    assert_eq!(pitches(&captured(&mut host)), vec![60, 62]);
}

#[test]
fn punching_in_on_bar_two_keeps_bar_one_of_the_older_take() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 2);
    play(&mut host, &[(0.0, 60, 1.0), (4.0, 62, 1.0), (6.0, 64, 1.0)], 7.9);
    host.locate_beats(4.0);
    play(&mut host, &[(1.0, 70, 1.0)], 3.9);
    let input = captured(&mut host);
    assert_eq!(pitches(&input), vec![60, 70], "bar 1 from the first take, bar 2 from the second");
    assert_eq!(input.notes[1].start, 480 * 5);
}

#[test]
fn a_note_held_over_a_loop_wrap_ends_at_the_loop_end() {
    let mut host = Host::new(48_000.0);
    set_param(&host.plugin.params_arc().capture_bars, 1);
    host.playing = true;
    let spb = host.samples_per_beat();
    // Held from beat 3 past the bar end; the host wraps to beat 0 first.
    host.run((4.0 * spb) as usize, 128, &[((3.0 * spb) as usize, note_on(60, 90))]);
    host.locate_beats(0.0);
    host.run((0.5 * spb) as usize, 128, &[(10, note_off(60))]);
    let input = captured(&mut host);
    assert_eq!(input.notes.len(), 1);
    let note = input.notes[0];
    assert_eq!((note.pitch, note.start), (60, 1440));
    assert!((1915..=1920).contains(&note.end), "ends at the wrap, not at beat 0: {note:?}");
}
