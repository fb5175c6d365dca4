//! MIDI import semantics on hand-written files: PPQ rescaling, running status, zero-velocity
//! note-offs, overlapping notes, metas, track selection, drum channel.

mod common;

use cadenza_music::midi_import::TempoChange;
use cadenza_music::{import_midi, ImportOptions, MusicError, Note, TimeSignature, TrackSelect};
use common::*;

fn n(pitch: u8, velocity: u8, start: u32, end: u32, channel: u8) -> Note {
    Note { pitch, velocity, start, end, channel }
}

#[test]
fn format0_running_status_zero_velocity_and_rescaling() {
    // PPQ 96: every tick becomes 5 ticks.
    let t = track(&[
        tempo(0, 400_000),
        meta(0, 0x58, &[3, 2, 24, 8]), // 3/4
        ev(0, &[0x90, 60, 100]),
        ev(48, &[62, 90]), // running status note-on
        ev(48, &[60, 0]),  // running status, velocity 0 = note-off
        ev(0, &[0x80, 62, 64]),
        end_of_track(96),
    ]);
    let m = import_midi(&smf(0, 1, 96, &[t]), &ImportOptions::default()).unwrap();
    assert_eq!(m.format, 0);
    assert_eq!(m.source_ppq, 96);
    assert_eq!(m.tempo_us_per_quarter, 400_000);
    assert!((m.bpm() - 150.0).abs() < 1e-9);
    assert_eq!(m.clip.time_signature, TimeSignature { numerator: 3, denominator: 4 });
    assert_eq!(m.clip.notes, vec![n(60, 100, 0, 480, 0), n(62, 90, 240, 480, 0)]);
    // Track ends at 192 ticks = 960 at 480 PPQ = 2 quarters; a 3/4 bar is 1440: one bar.
    assert_eq!(m.clip.bars, 1);
    assert!(!m.clip.is_drum);
}

#[test]
fn rescaling_rounds_absolute_times_and_keeps_notes_nonempty() {
    // PPQ 1000: tick 1 -> 0.48 -> 0, tick 2 -> 0.96 -> 1, tick 1001 -> 480.48 -> 480.
    let t = track(&[
        ev(1, &[0x90, 60, 100]),
        ev(1, &[0x80, 60, 0]), // 0..1 tick after rounding: lasts one tick
        ev(999, &[0x90, 61, 100]),
        ev(1, &[0x80, 61, 0]),
        end_of_track(0),
    ]);
    let m = import_midi(&smf(0, 1, 1000, &[t]), &ImportOptions::default()).unwrap();
    assert_eq!(m.clip.notes, vec![n(60, 100, 0, 1, 0), n(61, 100, 480, 481, 0)]);
}

#[test]
fn overlapping_same_pitch_closes_earliest_and_open_notes_end_with_track() {
    let t = track(&[
        ev(0, &[0x90, 60, 10]),
        ev(100, &[0x90, 60, 20]),
        ev(100, &[0x80, 60, 0]), // closes the velocity-10 note
        ev(100, &[0x80, 60, 0]), // closes the velocity-20 note
        ev(0, &[0x80, 61, 0]),   // stray note-off: ignored
        ev(0, &[0x91, 64, 30]),  // never closed: ends with the track
        end_of_track(80),
    ]);
    let m = import_midi(&smf(0, 1, 480, &[t]), &ImportOptions::default()).unwrap();
    assert_eq!(m.clip.notes, vec![n(60, 10, 0, 200, 0), n(60, 20, 100, 300, 0), n(64, 30, 300, 380, 1)]);
}

fn three_track_file() -> Vec<u8> {
    let conductor = track(&[
        tempo(0, 600_000),
        meta(0, 0x58, &[4, 2, 24, 8]),
        tempo(1920, 500_000),
        meta(0, 0x58, &[6, 3, 24, 8]),
        end_of_track(0),
    ]);
    let melody = track(&[meta(0, 0x03, b"MELODY"), ev(0, &[0x90, 72, 90]), ev(480, &[0x80, 72, 0]), end_of_track(0)]);
    let drums = track(&[
        meta(0, 0x03, b"Drums "),
        ev(0, &[0x99, 36, 100]),
        ev(60, &[0x89, 36, 0]),
        ev(0, &[0x99, 42, 80]),
        ev(60, &[0x99, 42, 0]),
        end_of_track(3840),
    ]);
    smf(1, 3, 480, &[conductor, melody, drums])
}

#[test]
fn format1_metas_and_track_selection() {
    let bytes = three_track_file();
    let all = import_midi(&bytes, &ImportOptions::default()).unwrap();
    assert_eq!(all.format, 1);
    assert_eq!(all.track_names, vec!["", "MELODY", "Drums "]);
    assert_eq!(all.track, None);
    assert_eq!(all.clip.notes.len(), 3);
    assert!(!all.clip.is_drum);
    assert_eq!(all.tempo_us_per_quarter, 600_000);
    assert_eq!(
        all.tempo_changes,
        vec![TempoChange { tick: 0, us_per_quarter: 600_000 }, TempoChange { tick: 1920, us_per_quarter: 500_000 }]
    );
    assert_eq!(all.time_signature_changes.len(), 2);
    assert_eq!(all.time_signature_changes[1].time_signature, TimeSignature { numerator: 6, denominator: 8 });
    assert_eq!(all.clip.time_signature, TimeSignature::FOUR_FOUR);
    // Drum track ends at 3960 ticks -> 3 bars of 4/4.
    assert_eq!(all.clip.bars, 3);

    let mel = import_midi(&bytes, &ImportOptions::track_named("MELODY")).unwrap();
    assert_eq!(mel.track, Some(1));
    assert_eq!(mel.clip.notes, vec![n(72, 90, 0, 480, 0)]);
    assert_eq!(mel.clip.bars, 1);

    // Trimmed, case-insensitive fallback; drums on channel 10 make a drum clip.
    let drums = import_midi(&bytes, &ImportOptions::track_named("drums")).unwrap();
    assert_eq!(drums.track, Some(2));
    assert!(drums.clip.is_drum);
    assert_eq!(drums.clip.notes, vec![n(36, 100, 0, 60, 9), n(42, 80, 60, 120, 9)]);

    let by_index = ImportOptions { track: TrackSelect::Index(2), ..ImportOptions::default() };
    assert_eq!(import_midi(&bytes, &by_index).unwrap().clip, drums.clip);
    let only_ch10 = ImportOptions { channel: Some(9), ..ImportOptions::default() };
    assert_eq!(import_midi(&bytes, &only_ch10).unwrap().clip.notes, drums.clip.notes);

    assert_eq!(
        import_midi(&bytes, &ImportOptions { track: TrackSelect::Index(3), ..ImportOptions::default() }),
        Err(MusicError::TrackIndexOutOfRange { index: 3, tracks: 3 })
    );
    assert_eq!(
        import_midi(&bytes, &ImportOptions::track_named("BASS")),
        Err(MusicError::TrackNameNotFound("BASS".into()))
    );
}

#[test]
fn last_meta_at_a_tick_is_in_effect() {
    // POP909 style: 4/4 then 1/4 at tick 0.
    let t = track(&[
        meta(0, 0x58, &[4, 2, 24, 8]),
        meta(0, 0x58, &[1, 2, 24, 8]),
        tempo(0, 500_000),
        tempo(0, 545_454),
        end_of_track(0),
    ]);
    let m = import_midi(&smf(0, 1, 480, &[t]), &ImportOptions::default()).unwrap();
    assert_eq!(m.clip.time_signature, TimeSignature { numerator: 1, denominator: 4 });
    assert_eq!(m.tempo_us_per_quarter, 545_454);
    assert_eq!(m.clip.bars, 0);
    assert!(m.clip.notes.is_empty());
}
