//! Files as real programs write them (issue 12), cross-checked with mido: `data/quirks/make.py`
//! writes running status across meta events, tracks without end-of-track, bytes after the last
//! track, format 2, wrong track lengths, RIFF wrappers and unknown chunks, and records what mido
//! reads in each (`expected.json`); Cadenza must read the same notes. Files mido refuses but
//! whose intent is clear must read like their clean twin, with a repair note.

use std::path::PathBuf;

use cadenza_music::{import_midi_file, ImportOptions};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/quirks")
}

fn rows(m: &cadenza_music::MidiImport) -> Vec<[u32; 5]> {
    let mut r: Vec<[u32; 5]> =
        m.clip.notes.iter().map(|n| [n.pitch as u32, n.velocity as u32, n.start, n.end, n.channel as u32]).collect();
    r.sort_by_key(|n| (n[2], n[0], n[3], n[4], n[1]));
    r
}

#[test]
fn reads_what_mido_reads_and_what_mido_refuses_but_is_clear() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap();
    let expected = expected.as_object().unwrap();
    assert!(expected.len() >= 90);
    let (mut same_as_mido, mut repaired) = (0, 0);
    for (name, want) in expected {
        let m = import_midi_file(dir().join(name), &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(notes) = want.get("notes") {
            let notes: Vec<[u32; 5]> = serde_json::from_value(notes.clone()).unwrap();
            assert_eq!(rows(&m), notes, "{name}: the notes mido reads");
            same_as_mido += 1;
        } else {
            let twin = want["same_as"].as_str().unwrap();
            let t = import_midi_file(dir().join(twin), &ImportOptions::default()).unwrap();
            assert_eq!(rows(&m), rows(&t), "{name}: the notes of {twin}");
            assert!(!m.repairs.is_empty(), "{name}: read without saying what was repaired");
            repaired += 1;
        }
        if name.starts_with("no_end_of_track") || name.starts_with("trailing_garbage") {
            assert!(!m.repairs.is_empty(), "{name}: {:?}", m.repairs);
        }
    }
    eprintln!("{same_as_mido} files read as mido reads them, {repaired} repaired like their twin");
}
