//! Every MIDI file of the training data imports without error, and the measured facts from the
//! datasets' SOURCE.md hold for what we import (PPQ, formats, drum channel, meters).

mod common;

use std::path::Path;

use cadenza_music::{import_midi_file, ImportOptions, MusicError, TimeSignature};

fn mid_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            mid_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "mid") {
            out.push(p);
        }
    }
}

#[test]
fn every_dataset_file_imports() {
    let root = common::datasets_dir();
    let mut files = Vec::new();
    for sub in ["groove_midi", "pop909/midi", "nottingham/midi_melody"] {
        mid_files(&root.join(sub), &mut files);
    }
    assert!(files.len() > 2500, "only {} files", files.len());
    let mut failures = Vec::new();
    let (mut gmd, mut gmd_drum, mut pop_melody, mut nott_44) = (0, 0, 0, 0);
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().to_string();
        match import_midi_file(f, &ImportOptions::default()) {
            Err(e) => failures.push(format!("{rel}: {e}")),
            Ok(m) => {
                if rel.starts_with("groove_midi") {
                    gmd += 1;
                    gmd_drum += m.clip.is_drum as usize;
                    assert_eq!(m.source_ppq, 480, "{rel}");
                } else if rel.starts_with("pop909") {
                    assert_eq!(m.format, 1, "{rel}");
                    pop_melody += m.track_names.iter().any(|n| n == "MELODY") as usize;
                } else {
                    assert_eq!(m.source_ppq, 1024, "{rel}");
                    nott_44 += (m.clip.time_signature == TimeSignature::FOUR_FOUR) as usize;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "gmd {gmd} (drum {gmd_drum}), pop909 with MELODY {pop_melody}, nottingham 4/4 {nott_44}"
    );
    assert_eq!(gmd, gmd_drum, "every GMD file is on channel 10");
    assert!(pop_melody >= 800);
    assert!(nott_44 > 500);
}

#[test]
fn pop909_melody_track_by_name() {
    let root = common::datasets_dir();
    let m = import_midi_file(
        root.join("pop909/midi/029.mid"),
        &ImportOptions::track_named("melody"),
    )
    .unwrap();
    assert_eq!(m.track_names[m.track.unwrap()], "MELODY");
    assert!(m.clip.notes.len() > 100);
    assert!(!m.clip.is_drum);
    assert_eq!(
        import_midi_file(
            root.join("pop909/midi/029.mid"),
            &ImportOptions::track_named("VOCALS")
        )
        .unwrap_err(),
        MusicError::TrackNameNotFound("VOCALS".into())
    );
}
