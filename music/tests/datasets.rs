//! Every MIDI file of the training data imports without error, and the measured facts from the
//! datasets' SOURCE.md hold for what we import (PPQ, formats, drum channel, meters).

mod common;

use std::path::Path;

use cadenza_music::{import_midi_file, ImportOptions, MusicError, TimeSignature};

/// Datasets are read with every bar in the first meter (a few songs change meter; training reads
/// them the same way).
fn dataset(options: ImportOptions) -> ImportOptions {
    ImportOptions { meter_changes: cadenza_music::midi_import::MeterChanges::FirstMeter, ..options }
}

fn mid_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
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
        match import_midi_file(f, &dataset(ImportOptions::default())) {
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
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    println!("gmd {gmd} (drum {gmd_drum}), pop909 with MELODY {pop_melody}, nottingham 4/4 {nott_44}");
    assert_eq!(gmd, gmd_drum, "every GMD file is on channel 10");
    assert!(pop_melody >= 800);
    assert!(nott_44 > 500);
}

#[test]
fn pop909_melody_track_by_name() {
    let root = common::datasets_dir();
    let m = import_midi_file(root.join("pop909/midi/029.mid"), &dataset(ImportOptions::track_named("melody"))).unwrap();
    assert_eq!(m.track_names[m.track.unwrap()], "MELODY");
    assert!(m.clip.notes.len() > 100);
    assert!(!m.clip.is_drum);
    assert_eq!(
        import_midi_file(root.join("pop909/midi/029.mid"), &dataset(ImportOptions::track_named("VOCALS"))).unwrap_err(),
        MusicError::TrackNameNotFound("VOCALS".into())
    );
}

/// The spec's drum map covers every pitch the GMD kit (Roland TD-11) plays, and every 4/4 GMD
/// file encodes window by window.
#[test]
fn gmd_pitches_all_map_and_windows_encode() {
    use cadenza_music::{encode_drums, encode_groove, encode_tap, DrumMap};
    let root = common::datasets_dir();
    let map = DrumMap::default();
    let mut files = Vec::new();
    mid_files(&root.join("groove_midi"), &mut files);
    let (mut windows, mut hits, mut past_end, mut split_lost) = (0usize, 0usize, 0usize, 0usize);
    for f in &files {
        let m = import_midi_file(f, &dataset(ImportOptions::default())).unwrap();
        for n in &m.clip.notes {
            assert!(map.class_of(n.pitch).is_some(), "{}: unmapped pitch {}", f.display(), n.pitch);
        }
        if m.clip.time_signature != TimeSignature::FOUR_FOUR {
            continue;
        }
        let q = cadenza_music::quantize(&m.clip).unwrap();
        let mut split = 0;
        for bar in (0..m.clip.bars as u32).step_by(2) {
            let w = q.window(bar * 16, 32);
            assert_eq!(cadenza_music::encode_drums_quantized(&w, &map).dropped.total(), 0);
            split += w.notes.len();
        }
        split_lost += m.clip.notes.len() - split;
        for bar in (0..m.clip.bars).step_by(2) {
            let w = m.clip.window(bar as u32 * 1920, 2).unwrap();
            let d = encode_drums(&w, &map).unwrap();
            let g = encode_groove(&w, &map).unwrap();
            let t = encode_tap(&w).unwrap();
            assert_eq!(d.dropped.unmapped, 0);
            assert_eq!((g.dropped, t.dropped.past_end), (d.dropped, d.dropped.past_end));
            windows += 1;
            hits += w.notes.len();
            past_end += d.dropped.past_end;
        }
    }
    println!("{windows} two-bar windows, {hits} hits, {past_end} early hits past a tick-cut window end, {split_lost} lost when split after quantizing");
    assert!(windows > 9000);
    // Cutting ticks loses every hit played early for the next downbeat (a few percent);
    // splitting after quantizing keeps them all except past the file's last window.
    assert!(past_end * 100 > hits && past_end * 10 < hits);
    assert!(split_lost * 1000 < hits);
}

/// Every 4/4 Nottingham tune and every POP909 MELODY track lies in the melody range.
#[test]
fn melodies_are_in_model_range() {
    use cadenza_music::encode_melody;
    let root = common::datasets_dir();
    let mut files = Vec::new();
    mid_files(&root.join("nottingham/midi_melody"), &mut files);
    let mut checked = 0;
    for f in &files {
        let m = import_midi_file(f, &dataset(ImportOptions::default())).unwrap();
        if m.clip.time_signature == TimeSignature::FOUR_FOUR {
            encode_melody(&m.clip).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            checked += 1;
        }
    }
    let mut files = Vec::new();
    mid_files(&root.join("pop909/midi"), &mut files);
    let (mut pop_notes, mut pop_dropped, mut trimmed_dropped) = (0, 0, [0; 4]);
    for f in &files {
        let mut m = import_midi_file(f, &dataset(ImportOptions::track_named("MELODY"))).unwrap();
        // POP909's meter metas are unreliable; the range check does not depend on bar lines.
        m.clip.time_signature = TimeSignature::FOUR_FOUR;
        m.clip.bars = (m.clip.notes.iter().map(|n| n.end).max().unwrap_or(0).div_ceil(1920)) as u16;
        let e = encode_melody(&m.clip).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        pop_notes += m.clip.notes.len();
        pop_dropped += e.dropped.polyphony;
        for (i, max) in [120, 240, 480, 960].into_iter().enumerate() {
            trimmed_dropped[i] += encode_melody(&cadenza_music::trim_legato(&m.clip, max).0).unwrap().dropped.polyphony;
        }
        checked += 1;
    }
    println!("POP909 MELODY: skyline dropped {pop_dropped} of {pop_notes} notes; after trim_legato 120/240/480/960: {trimmed_dropped:?}");
    // Played legato costs the skyline notes; trimming overlaps up to half a beat halves that.
    assert!(pop_dropped * 50 < pop_notes);
    assert!(trimmed_dropped[1] * 100 < pop_notes && trimmed_dropped[1] * 3 < pop_dropped * 2);
    assert!(checked > 1300);
}
