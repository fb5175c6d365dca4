//! Hostile and broken MIDI files: every one gives a typed error (or a sane clip), never a panic,
//! and big files stay fast.

mod common;

use std::time::Instant;

use cadenza_music::{
    encode_melody, export_midi, import_midi, Clip, ExportOptions, ImportOptions, MusicError, Note, TimeSignature,
};
use common::*;

fn simple_track() -> Vec<u8> {
    track(&[
        meta(0, 0x03, b"lead"),
        tempo(0, 500_000),
        ev(0, &[0x90, 60, 100]),
        ev(240, &[0x80, 60, 0]),
        ev(0, &[0x90, 62, 100]),
        ev(240, &[0x80, 62, 0]),
        end_of_track(0),
    ])
}

fn import(bytes: &[u8]) -> Result<cadenza_music::MidiImport, MusicError> {
    import_midi(bytes, &ImportOptions::default())
}

/// The notes of a file as (pitch, start): a truncated file may close a note early.
fn onsets(m: &cadenza_music::MidiImport) -> Vec<(u8, u32)> {
    m.clip.notes.iter().map(|n| (n.pitch, n.start)).collect()
}

#[test]
fn every_truncation_is_refused_or_read_with_a_repair_note() {
    // A cut between two events reads like a track without end-of-track (mido and pretty_midi
    // refuse it, but the intent is clear): what is there is read, and the repairs say so. A cut
    // inside an event or the header is refused, saying where.
    let bytes = smf(0, 1, 480, &[simple_track()]);
    let full = import(&bytes).unwrap();
    assert!(full.repairs.is_empty(), "{:?}", full.repairs);
    for len in 0..bytes.len() {
        match import(&bytes[..len]) {
            Err(MusicError::MidiMalformed(m)) => {
                assert!(m.contains("byte") || m.contains("not a MIDI file"), "{len}: says where: {m}");
            }
            Ok(m) => {
                assert!(!m.repairs.is_empty(), "prefix of {len} bytes read silently");
                for o in onsets(&m) {
                    assert!(onsets(&full).contains(&o), "{len}: {o:?} is not in the file");
                }
            }
            other => panic!("prefix of {len} bytes: {other:?}"),
        }
    }
}

#[test]
fn wrong_chunk_lengths_are_read_with_a_repair_note() {
    let good = smf(0, 1, 480, &[simple_track()]);
    let want = import(&good).unwrap().clip;
    let len_at = 14 + 4; // MThd(8) + 6 header bytes, then "MTrk"
    for declared in [1000u32, 5, 0] {
        let mut wrong = good.clone();
        wrong[len_at..len_at + 4].copy_from_slice(&declared.to_be_bytes());
        let m = import(&wrong).unwrap();
        assert_eq!(m.clip, want, "length field {declared}");
        assert!(m.repairs.iter().any(|r| r.contains("length field")), "{declared}: {:?}", m.repairs);
    }
    // A wrong length on the first of two tracks: the second is still found.
    let two = smf(1, 2, 480, &[simple_track(), simple_track()]);
    let mut wrong = two.clone();
    wrong[len_at..len_at + 4].copy_from_slice(&3u32.to_be_bytes());
    assert_eq!(import(&wrong).unwrap().clip, import(&two).unwrap().clip);

    let mut header_len = good.clone();
    header_len[4..8].copy_from_slice(&2u32.to_be_bytes());
    let Err(MusicError::MidiMalformed(m)) = import(&header_len) else { panic!("a 2-byte header is refused") };
    assert!(m.contains("at byte 0") && m.contains("at least 6"), "{m}");
    // Declares two tracks, has one: the one is read.
    let m = import(&smf(1, 2, 480, &[simple_track()])).unwrap();
    assert_eq!(m.clip, want);
    assert!(m.repairs.iter().any(|r| r.contains("declares 2")));
    for bad in [&b"RIFF\x00"[..], b"not midi at all", b""] {
        let Err(MusicError::MidiMalformed(m)) = import(bad) else { panic!("{bad:?} is refused") };
        assert!(m.contains("not a MIDI file"), "{m}");
    }
    // A data byte with no running status to apply: refused, saying where.
    let bad_event = track(&[ev(0, &[60, 100]), end_of_track(0)]);
    let Err(MusicError::MidiMalformed(m)) = import(&smf(0, 1, 480, &[bad_event])) else { panic!("refused") };
    assert!(m.contains("track 1, byte 23") && m.contains("running status"), "{m}");
    // A status byte inside a note-on's data.
    let cut = track(&[ev(0, &[0x90, 60, 0x90]), end_of_track(0)]);
    let Err(MusicError::MidiMalformed(m)) = import(&smf(0, 1, 480, &[cut])) else { panic!("refused") };
    assert!(m.contains("note-on") && m.contains("byte 25"), "{m}");
}

#[test]
fn files_as_real_programs_write_them() {
    let want = import(&smf(0, 1, 480, &[simple_track()])).unwrap().clip;
    // Running status carried across a meta event (mido reads it).
    let t = track(&[
        ev(0, &[0x90, 60, 100]),
        meta(0, 0x01, b"text"),
        ev(240, &[60, 0]),
        ev(0, &[62, 100]),
        ev(240, &[62, 0]),
        end_of_track(0),
    ]);
    let m = import(&smf(0, 1, 480, &[t])).unwrap();
    assert_eq!(m.clip.notes, want.notes);
    // No end-of-track, trailing garbage, a RIFF wrapper, an unknown chunk.
    let no_end =
        track(&[ev(0, &[0x90, 60, 100]), ev(240, &[0x80, 60, 0]), ev(0, &[0x90, 62, 100]), ev(240, &[0x80, 62, 0])]);
    let m = import(&smf(0, 1, 480, std::slice::from_ref(&no_end))).unwrap();
    assert_eq!(m.clip.notes, want.notes);
    assert!(m.repairs.iter().any(|r| r.contains("no end-of-track")));
    let mut garbage = smf(0, 1, 480, &[simple_track()]);
    garbage.extend_from_slice(b"\x00\x00junk after the end");
    let m = import(&garbage).unwrap();
    assert_eq!(m.clip, want);
    assert!(m.repairs.iter().any(|r| r.contains("after the last track")));
    let mut riff = b"RIFF\x00\x00\x00\x00RMIDdata\x00\x00\x00\x00".to_vec();
    riff.extend(smf(0, 1, 480, &[simple_track()]));
    assert_eq!(import(&riff).unwrap().clip, want);
    let mut with_chunk = smf(0, 1, 480, &[]);
    with_chunk.extend_from_slice(b"XFIH\x00\x00\x00\x02ab");
    let t = simple_track();
    with_chunk.extend_from_slice(b"MTrk");
    with_chunk.extend((t.len() as u32).to_be_bytes());
    with_chunk.extend(t);
    let m = import(&with_chunk).unwrap();
    assert_eq!(m.clip, want);
    assert!(m.repairs.iter().any(|r| r.contains("unknown chunk 'XFIH'")));
    // Format 2: patterns one after another.
    let m = import(&smf(2, 2, 480, &[simple_track(), simple_track()])).unwrap();
    let starts: Vec<u32> = m.clip.notes.iter().map(|n| n.start).collect();
    assert_eq!(starts, vec![0, 240, 480, 720]);
    // Two overlapping notes of one pitch, note-on velocity 0 as note-off.
    let t = track(&[
        ev(0, &[0x90, 60, 100]),
        ev(120, &[0x90, 60, 90]),
        ev(120, &[0x90, 60, 0]),
        ev(120, &[0x90, 60, 0]),
        end_of_track(0),
    ]);
    let m = import(&smf(0, 1, 480, &[t])).unwrap();
    let got: Vec<(u8, u32, u32)> = m.clip.notes.iter().map(|n| (n.velocity, n.start, n.end)).collect();
    assert_eq!(got, vec![(100, 0, 240), (90, 120, 360)]);
}

#[test]
fn meter_changes_are_refused_naming_the_bar() {
    // Two bars of 4/4, then 3/4 with notes in it.
    let conductor = track(&[meta(0, 0x58, &[4, 2, 24, 8]), meta(3840, 0x58, &[3, 2, 24, 8]), end_of_track(0)]);
    let notes = track(&[
        ev(0, &[0x90, 60, 100]),
        ev(3840, &[0x80, 60, 0]),
        ev(0, &[0x90, 62, 100]),
        ev(1440, &[0x80, 62, 0]),
        end_of_track(0),
    ]);
    let file = smf(1, 2, 480, &[conductor, notes]);
    match import(&file) {
        Err(e @ MusicError::MeterChange { bar: 3, tick: 3840, from_num: 4, to_num: 3, .. }) => {
            assert!(e.to_string().contains("at bar 3"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Dataset readers may count every bar in the first meter.
    let m = import_midi(
        &file,
        &ImportOptions {
            meter_changes: cadenza_music::midi_import::MeterChanges::FirstMeter,
            ..ImportOptions::default()
        },
    )
    .unwrap();
    assert_eq!(m.time_signature_changes.len(), 2);
    // A change after the music has ended changes nothing.
    let late =
        track(&[ev(0, &[0x90, 60, 100]), ev(480, &[0x80, 60, 0]), meta(3360, 0x58, &[3, 2, 24, 8]), end_of_track(0)]);
    assert!(import(&smf(0, 1, 480, &[late])).is_ok());
}

#[test]
fn absurd_timing() {
    assert_eq!(import(&smf(0, 1, 0, &[simple_track()])), Err(MusicError::InvalidPpq(0)));
    // SMPTE: -25 fps (0xE7), 40 subframes.
    assert_eq!(
        import(&smf(0, 1, 0xE728, &[simple_track()])),
        Err(MusicError::SmpteTimingUnsupported { fps: 25, subframes: 40 })
    );
    assert_eq!(import(&smf(3, 1, 480, &[simple_track()])), Err(MusicError::MidiFormatUnsupported(3)));
    // Frame-rate byte 0x80 (-128) overflows midly's negation (found by cargo fuzz); -23 fps does not exist.
    assert!(matches!(import(&smf(1, 0, 0x8051, &[])), Err(MusicError::MidiMalformed(_))));
    assert!(matches!(import(&smf(1, 1, 0xE900, &[simple_track()])), Err(MusicError::MidiMalformed(_))));
    // An impossible tempo says nothing about the beats: ignored, with a repair note.
    for us in [0u32, 1, 59_999, 6_000_001, 0xFF_FFFF] {
        let t = track(&[tempo(0, us), end_of_track(0)]);
        let m = import(&smf(0, 1, 480, &[t])).unwrap();
        assert_eq!(m.tempo_us_per_quarter, 500_000, "{us}");
        assert!(m.repairs.iter().any(|r| r.contains("bpm")), "{us}");
    }
    // An unreadable time signature leaves the bars unknown: refused, saying where.
    for (num, pow) in [(0u8, 2u8), (4, 8), (4, 255)] {
        let t = track(&[meta(0, 0x58, &[num, pow, 24, 8]), end_of_track(0)]);
        let Err(MusicError::MidiMalformed(m)) = import(&smf(0, 1, 480, &[t])) else { panic!("{num}/{pow}") };
        assert!(m.contains("track 1, byte 22 (tick 0)") && m.contains("time signature"), "{m}");
    }
    // PPQ 1 and a delta of 2^28-1 ticks: past u32 at 480 PPQ.
    let t = track(&[ev(0x0FFF_FFFF, &[0x90, 60, 100]), end_of_track(0)]);
    assert!(matches!(import(&smf(0, 1, 1, &[t])), Err(MusicError::ClipTooLong { .. })));
    // Far but representable: more than u16::MAX bars.
    let t = track(&[ev(0x0FFF_FFFF, &[0x90, 60, 100]), end_of_track(0)]);
    assert!(matches!(import(&smf(0, 1, 480, &[t])), Err(MusicError::ClipTooLong { .. })));
    // Highest PPQ is fine.
    let m = import(&smf(0, 1, 0x7FFF, &[track(&[ev(0x7FFF, &[0x90, 60, 1]), end_of_track(0x7FFF)])])).unwrap();
    assert_eq!(m.clip.notes, vec![Note { pitch: 60, velocity: 1, start: 480, end: 960, channel: 0 }]);
}

#[test]
fn empty_tracks_and_files() {
    let empty = track(&[end_of_track(0)]);
    let m = import(&smf(1, 3, 480, &[empty.clone(), vec![], empty])).unwrap();
    assert_eq!(m.clip, Clip::new(0, TimeSignature::FOUR_FOUR, false));
    assert_eq!(m.track_names, vec!["", "", ""]);
    let m = import(&smf(0, 0, 480, &[])).unwrap();
    assert!(m.clip.notes.is_empty() && m.track_names.is_empty());
    assert_eq!(m.tempo_us_per_quarter, 500_000);
}

fn many_notes(count: u32) -> Vec<u8> {
    let mut t = Vec::with_capacity(count as usize * 8);
    for i in 0..count {
        // Running status after the first event.
        if i == 0 {
            t.extend(ev(0, &[0x90, 60, 100]));
        } else {
            t.extend(ev(0, &[(36 + i % 48) as u8, 100]));
        }
        t.extend(ev(30, &[(36 + i % 48) as u8, 0]));
    }
    t.extend(end_of_track(0));
    smf(0, 1, 480, &[t])
}

#[test]
fn hundred_thousand_notes_fast_and_limit() {
    let bytes = many_notes(100_000);
    let t = Instant::now();
    let m = import(&bytes).unwrap();
    let took = t.elapsed();
    assert_eq!(m.clip.notes.len(), 100_000);
    assert!(took.as_secs_f64() < 5.0, "import took {took:?}");
    assert!(m.clip.notes.windows(2).all(|w| w[0].start <= w[1].start));
    let limited = ImportOptions { max_notes: 99_999, ..ImportOptions::default() };
    assert_eq!(import_midi(&bytes, &limited), Err(MusicError::TooManyNotes { limit: 99_999 }));
    // Export and re-import the big clip too.
    let out = export_midi(&m.clip, &ExportOptions::default()).unwrap();
    assert_eq!(import(&out).unwrap().clip, m.clip);
}

#[test]
fn non_four_four_reaches_the_encoder_as_a_typed_error() {
    let t = track(&[meta(0, 0x58, &[6, 3, 24, 8]), ev(0, &[0x90, 60, 100]), ev(240, &[0x80, 60, 0]), end_of_track(0)]);
    let m = import(&smf(0, 1, 480, &[t])).unwrap();
    assert_eq!(encode_melody(&m.clip), Err(MusicError::TimeSignatureUnsupported { numerator: 6, denominator: 8 }));
}

#[test]
fn corrupted_bytes_never_panic() {
    // Deterministic xorshift corruption of a valid file: flips, inserts, deletes.
    let base = smf(1, 2, 96, &[simple_track(), simple_track()]);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..5000 {
        let mut b = base.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % b.len() as u64) as usize;
            match next() % 3 {
                0 => b[i] = next() as u8,
                1 => b.insert(i, next() as u8),
                _ => {
                    b.remove(i);
                }
            }
        }
        let _ = import(&b);
    }
}
