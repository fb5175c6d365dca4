//! Hostile and broken MIDI files: every one gives a typed error (or a sane clip), never a panic,
//! and big files stay fast.

mod common;

use std::time::Instant;

use cadenza_music::{
    encode_melody, export_midi, import_midi, Clip, ExportOptions, ImportOptions, MusicError, Note,
    TimeSignature,
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

#[test]
fn every_truncation_is_an_error() {
    let bytes = smf(0, 1, 480, &[simple_track()]);
    assert!(import(&bytes).is_ok());
    for len in 0..bytes.len() {
        match import(&bytes[..len]) {
            Err(MusicError::MidiMalformed(_)) => {}
            other => panic!("prefix of {len} bytes: {other:?}"),
        }
    }
}

#[test]
fn wrong_chunk_lengths() {
    let good = smf(0, 1, 480, &[simple_track()]);
    let len_at = 14 + 4; // MThd(8) + 6 header bytes, then "MTrk"
    let mut too_long = good.clone();
    too_long[len_at..len_at + 4].copy_from_slice(&1000u32.to_be_bytes());
    assert!(matches!(
        import(&too_long),
        Err(MusicError::MidiMalformed(_))
    ));
    let mut too_short = good.clone();
    too_short[len_at..len_at + 4].copy_from_slice(&5u32.to_be_bytes());
    assert!(matches!(
        import(&too_short),
        Err(MusicError::MidiMalformed(_))
    ));
    let mut header_len = good.clone();
    header_len[4..8].copy_from_slice(&2u32.to_be_bytes());
    assert!(matches!(
        import(&header_len),
        Err(MusicError::MidiMalformed(_))
    ));
    // Declares two tracks, has one.
    assert!(matches!(
        import(&smf(1, 2, 480, &[simple_track()])),
        Err(MusicError::MidiMalformed(_))
    ));
    assert!(matches!(
        import(b"RIFF\x00"),
        Err(MusicError::MidiMalformed(_))
    ));
    assert!(matches!(
        import(b"not midi at all"),
        Err(MusicError::MidiMalformed(_))
    ));
    assert!(matches!(import(&[]), Err(MusicError::MidiMalformed(_))));
    // A data byte with no running status to apply.
    let bad_event = track(&[ev(0, &[60, 100]), end_of_track(0)]);
    assert!(matches!(
        import(&smf(0, 1, 480, &[bad_event])),
        Err(MusicError::MidiMalformed(_))
    ));
}

#[test]
fn absurd_timing() {
    assert_eq!(
        import(&smf(0, 1, 0, &[simple_track()])),
        Err(MusicError::InvalidPpq(0))
    );
    // SMPTE: -25 fps (0xE7), 40 subframes.
    assert_eq!(
        import(&smf(0, 1, 0xE728, &[simple_track()])),
        Err(MusicError::SmpteTimingUnsupported {
            fps: 25,
            subframes: 40
        })
    );
    assert_eq!(
        import(&smf(2, 1, 480, &[simple_track()])),
        Err(MusicError::MidiFormatUnsupported)
    );
    // Frame-rate byte 0x80 (-128) overflows midly's negation (found by cargo fuzz); -23 fps does not exist.
    assert!(matches!(
        import(&smf(1, 0, 0x8051, &[])),
        Err(MusicError::MidiMalformed(_))
    ));
    assert!(matches!(
        import(&smf(1, 1, 0xE900, &[simple_track()])),
        Err(MusicError::MidiMalformed(_))
    ));
    for us in [0u32, 1, 59_999, 6_000_001, 0xFF_FFFF] {
        let t = track(&[tempo(0, us), end_of_track(0)]);
        assert!(
            matches!(import(&smf(0, 1, 480, &[t])), Err(MusicError::AbsurdTempo { us_per_quarter, .. }) if us_per_quarter == us),
            "{us}"
        );
    }
    for (num, pow) in [(0u8, 2u8), (4, 8), (4, 255)] {
        let t = track(&[meta(0, 0x58, &[num, pow, 24, 8]), end_of_track(0)]);
        assert_eq!(
            import(&smf(0, 1, 480, &[t])),
            Err(MusicError::InvalidTimeSignature {
                numerator: num,
                denominator_power: pow
            })
        );
    }
    // PPQ 1 and a delta of 2^28-1 ticks: past u32 at 480 PPQ.
    let t = track(&[ev(0x0FFF_FFFF, &[0x90, 60, 100]), end_of_track(0)]);
    assert!(matches!(
        import(&smf(0, 1, 1, &[t])),
        Err(MusicError::ClipTooLong { .. })
    ));
    // Far but representable: more than u16::MAX bars.
    let t = track(&[ev(0x0FFF_FFFF, &[0x90, 60, 100]), end_of_track(0)]);
    assert!(matches!(
        import(&smf(0, 1, 480, &[t])),
        Err(MusicError::ClipTooLong { .. })
    ));
    // Highest PPQ is fine.
    let m = import(&smf(
        0,
        1,
        0x7FFF,
        &[track(&[ev(0x7FFF, &[0x90, 60, 1]), end_of_track(0x7FFF)])],
    ))
    .unwrap();
    assert_eq!(
        m.clip.notes,
        vec![Note {
            pitch: 60,
            velocity: 1,
            start: 480,
            end: 960,
            channel: 0
        }]
    );
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
    let limited = ImportOptions {
        max_notes: 99_999,
        ..ImportOptions::default()
    };
    assert_eq!(
        import_midi(&bytes, &limited),
        Err(MusicError::TooManyNotes { limit: 99_999 })
    );
    // Export and re-import the big clip too.
    let out = export_midi(&m.clip, &ExportOptions::default()).unwrap();
    assert_eq!(import(&out).unwrap().clip, m.clip);
}

#[test]
fn non_four_four_reaches_the_encoder_as_a_typed_error() {
    let t = track(&[
        meta(0, 0x58, &[6, 3, 24, 8]),
        ev(0, &[0x90, 60, 100]),
        ev(240, &[0x80, 60, 0]),
        end_of_track(0),
    ]);
    let m = import(&smf(0, 1, 480, &[t])).unwrap();
    assert_eq!(
        encode_melody(&m.clip),
        Err(MusicError::TimeSignatureUnsupported {
            numerator: 6,
            denominator: 8
        })
    );
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
