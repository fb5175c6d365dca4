//! Key: Auto evaluated with the shipped code ([`cadenza_music::key`]).
//!
//! - `fixture_melodies_have_their_keys` (always runs): short melodies written for this test in
//!   `tests/data/key_melodies.txt`, each with the key it is in.
//! - `pop909_key_accuracy` (ignored: it reads all of POP909 and unpacks its annotations):
//!   the MELODY track of every POP909 song, imported with the crate's own MIDI import, against
//!   the first key of the song's `key_audio.txt` (songs with a key change are scored against their
//!   first key). Prints the accuracy of every profile × weighting × final-note variant and checks
//!   the shipped [`KeyFinder::DEFAULT`] against the targets (>= 80 % exact, >= 90 % with the
//!   relative major/minor counted as right). Run it with
//!
//!   ```sh
//!   cargo test --release -p cadenza-music --test key_pop909 -- --ignored --nocapture
//!   ```
//!
//!   (`CADENZA_DATASETS` may point at another datasets folder; `tar` with xz support unpacks the
//!   annotations into a temporary folder.)

mod common;

use std::path::{Path, PathBuf};

use cadenza_music::key::{KeyFinder, Mode, Profile, Weighting};
use cadenza_music::midi_import::TempoChange;
use cadenza_music::{detect_key, import_midi_file, ImportOptions, Note, PPQ};

/// Datasets are read with every bar in the first meter (a few songs change meter; training reads
/// them the same way).
fn dataset(options: ImportOptions) -> ImportOptions {
    ImportOptions { meter_changes: cadenza_music::midi_import::MeterChanges::FirstMeter, ..options }
}

/// "C", "C#"/"Db", … "B" → pitch class.
fn pitch_class(name: &str) -> Option<u8> {
    let mut chars = name.chars();
    let base = match chars.next()?.to_ascii_uppercase() {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let mut pc: i32 = base;
    for c in chars {
        match c {
            '#' => pc += 1,
            'b' => pc -= 1,
            _ => return None,
        }
    }
    Some(pc.rem_euclid(12) as u8)
}

/// "Gb:maj" / "A:min" (POP909) → (tonic, mode).
fn parse_key(label: &str) -> Option<(u8, Mode)> {
    let (tonic, mode) = label.trim().split_once(':')?;
    let mode = match mode {
        "maj" | "major" => Mode::Major,
        "min" | "minor" => Mode::Minor,
        _ => return None,
    };
    Some((pitch_class(tonic)?, mode))
}

fn relative(tonic: u8, mode: Mode) -> (u8, Mode) {
    match mode {
        Mode::Major => ((tonic + 9) % 12, Mode::Minor),
        Mode::Minor => ((tonic + 3) % 12, Mode::Major),
    }
}

/// Notes from "C5/4 D5/2 …": note name with octave (C4 = 60), '/' and length in 16ths; "r/4" is
/// a rest.
fn parse_melody(text: &str) -> Vec<Note> {
    let mut t = 0;
    let mut out = Vec::new();
    for token in text.split_whitespace() {
        let (name, len) = token.split_once('/').expect(token);
        let len: u32 = len.parse().expect(token);
        if name != "r" {
            let split = name.find(|c: char| c.is_ascii_digit() || c == '-').expect(token);
            let octave: i32 = name[split..].parse().expect(token);
            let pc = pitch_class(&name[..split]).expect(token) as i32;
            // Octave numbers follow C4 = 60; "B#" / "Cb" keep their written octave.
            let pitch = (octave + 1) * 12 + pc;
            out.push(Note { pitch: pitch as u8, velocity: 90, start: t, end: t + len * PPQ / 4, channel: 0 });
        }
        t += len * PPQ / 4;
    }
    out
}

#[test]
fn fixture_melodies_have_their_keys() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/key_melodies.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut count = 0;
    let mut wrong = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // title | key | melody
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(parts.len(), 3, "{line}");
        let want = parse_key(parts[1]).expect(parts[1]);
        let notes = parse_melody(parts[2]);
        assert!(notes.len() >= 8, "{}", parts[0]);
        let got = detect_key(&notes).unwrap();
        count += 1;
        if (got.tonic, got.mode) != want {
            wrong.push(format!("{}: want {}, got {}", parts[0], parts[1], got.name()));
        }
    }
    assert!(count >= 8, "only {count} fixture melodies");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

struct Song {
    id: String,
    /// The whole MELODY track.
    notes: Vec<Note>,
    /// The notes with onsets inside the first key's annotated span (all notes for a song
    /// without a key change). The annotation is on the audio's time line; POP909's MIDI follows
    /// the recording, its annotated beats lie within 0.1 s of the audio's in most songs.
    first_span: Vec<Note>,
    key: (u8, Mode),
    key_changes: bool,
}

fn unpack_annotations(archive: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cadenza-key-pop909-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xJf")
        .arg(archive)
        .arg("-C")
        .arg(&dir)
        .args(["--wildcards", "*/key_audio.txt"])
        .status()
        .expect("tar");
    assert!(status.success(), "tar -xJf {} failed", archive.display());
    dir
}

/// Seconds at `tick` (480 PPQ) under the file's tempo map.
fn seconds_at(tick: u32, tempos: &[TempoChange]) -> f64 {
    let (mut t, mut secs, mut us) = (0u32, 0.0f64, 500_000.0f64);
    for c in tempos {
        if c.tick >= tick {
            break;
        }
        secs += (c.tick - t) as f64 * us / 1e6 / PPQ as f64;
        t = c.tick;
        us = c.us_per_quarter as f64;
    }
    secs + (tick - t) as f64 * us / 1e6 / PPQ as f64
}

fn pop909_songs() -> Vec<Song> {
    let root = common::datasets_dir().join("pop909");
    let ann = unpack_annotations(&root.join("annotations_beat_chord_key.tar.xz"));
    let mut songs = Vec::new();
    let mut mids: Vec<PathBuf> = std::fs::read_dir(root.join("midi"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mid"))
        .collect();
    mids.sort();
    for mid in mids {
        let id = mid.file_stem().unwrap().to_string_lossy().to_string();
        let keys = std::fs::read_to_string(ann.join(&id).join("key_audio.txt"))
            .unwrap_or_else(|e| panic!("{id}: key_audio.txt: {e}"));
        // "start end label", one segment a line, times in seconds
        let segments: Vec<(f64, (u8, Mode))> = keys
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let key = parse_key(f[2]).unwrap_or_else(|| panic!("{id}: key {}", f[2]));
                (f[1].parse::<f64>().expect(l), key)
            })
            .collect();
        let key = segments[0].1;
        // The first key lasts until the first segment with another key.
        let first_end =
            segments.iter().find(|s| s.1 != key).map(|_| segments.iter().take_while(|s| s.1 == key).last().unwrap().0);
        let m = import_midi_file(&mid, &dataset(ImportOptions::track_named("MELODY")))
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(m.track_names[m.track.unwrap()], "MELODY", "{id}");
        let first_span = match first_end {
            None => m.clip.notes.clone(),
            Some(end) => m.clip.notes.iter().filter(|n| seconds_at(n.start, &m.tempo_changes) < end).copied().collect(),
        };
        songs.push(Song { id, notes: m.clip.notes, first_span, key, key_changes: first_end.is_some() });
    }
    let _ = std::fs::remove_dir_all(&ann);
    songs
}

#[derive(Default, Clone, Copy)]
struct Score {
    songs: usize,
    exact: usize,
    relative: usize,
}

impl Score {
    fn add(&mut self, got: Option<(u8, Mode)>, want: (u8, Mode)) {
        self.songs += 1;
        if let Some(got) = got {
            self.exact += (got == want) as usize;
            self.relative += (got == want || got == relative(want.0, want.1)) as usize;
        }
    }
    fn exact_pct(&self) -> f64 {
        100.0 * self.exact as f64 / self.songs.max(1) as f64
    }
    fn relative_pct(&self) -> f64 {
        100.0 * self.relative as f64 / self.songs.max(1) as f64
    }
    fn show(&self) -> String {
        format!("{:5.1} {:5.1}", self.exact_pct(), self.relative_pct())
    }
}

/// 8 bars of 4/4 in ticks.
const WINDOW: u32 = 8 * 4 * PPQ;

/// Scores: whole melody vs the first key; the first key's span vs the first key; 8-bar windows
/// (cut every 8 bars from the song's first onset, at least 8 notes) of that span.
fn evaluate(finder: &KeyFinder, songs: &[Song]) -> [Score; 3] {
    let mut out = [Score::default(); 3];
    for s in songs {
        let got = |notes: &[Note]| finder.detect(notes).map(|k| (k.tonic, k.mode));
        out[0].add(got(&s.notes), s.key);
        out[1].add(got(&s.first_span), s.key);
        let Some(first) = s.first_span.first() else {
            continue;
        };
        for window in s.first_span.chunk_by(|a, b| (a.start - first.start) / WINDOW == (b.start - first.start) / WINDOW)
        {
            if window.len() >= 8 {
                out[2].add(got(window), s.key);
            }
        }
    }
    out
}

#[test]
#[ignore = "reads all of POP909; run with --ignored (see the module docs)"]
fn pop909_key_accuracy() {
    let songs = pop909_songs();
    let changes = songs.iter().filter(|s| s.key_changes).count();
    println!(
        "POP909: {} songs with a MELODY track, {changes} with a key change (scored against their \
         first key)",
        songs.len()
    );
    assert!(songs.len() >= 800);
    let mut rows = Vec::new();
    for profile in Profile::ALL {
        for weighting in [Weighting::Count, Weighting::Duration, Weighting::DurationCappedBeat] {
            for final_note in [0.0, 0.05, 0.1, 0.2] {
                for phrase_end in [0.0, 0.5, 1.0, 2.0] {
                    let finder = KeyFinder { profile, weighting, final_note, phrase_end };
                    rows.push((finder, evaluate(&finder, &songs)));
                }
            }
        }
    }
    let default = evaluate(&KeyFinder::DEFAULT, &songs);
    let windows = default[2].songs;
    println!(
        "% exact / % relative counted: whole melody vs first key ({n} songs) | first key's span \
         ({n} songs) | 8-bar windows of it ({windows})",
        n = songs.len()
    );
    println!(
        "{:<21} {:<19} {:>5} {:>5} | {:^11} | {:^11} | {:^11}",
        "profile", "weighting", "final", "phr", "whole", "first span", "8 bars"
    );
    for (f, [whole, span, win]) in &rows {
        println!(
            "{:<21} {:<19} {:>5.2} {:>5.1} | {} | {} | {}",
            format!("{:?}", f.profile),
            format!("{:?}", f.weighting),
            f.final_note,
            f.phrase_end,
            whole.show(),
            span.show(),
            win.show()
        );
    }
    rows.sort_by(|a, b| {
        let key = |s: &[Score; 3]| (s[0].exact, s[0].relative);
        key(&b.1).cmp(&key(&a.1))
    });
    println!("best 5 by whole-melody exact:");
    for (f, [whole, span, win]) in rows.iter().take(5) {
        println!("  {f:?}: {} | {} | {}", whole.show(), span.show(), win.show());
    }
    println!("DEFAULT {:?}: {} | {} | {}", KeyFinder::DEFAULT, default[0].show(), default[1].show(), default[2].show());
    let plain = evaluate(&KeyFinder::KRUMHANSL_SCHMUCKLER, &songs);
    println!("plain Krumhansl-Schmuckler: {} | {} | {}", plain[0].show(), plain[1].show(), plain[2].show());
    let misses: Vec<String> = songs
        .iter()
        .filter_map(|s| {
            let k = detect_key(&s.notes)?;
            ((k.tonic, k.mode) != s.key).then(|| format!("{}:{}", s.id, k.name()))
        })
        .take(30)
        .collect();
    println!("first misses of DEFAULT: {}", misses.join(" "));
    let (exact, rel) = (default[0].exact_pct(), default[0].relative_pct());
    assert!(exact >= 80.0, "exact {exact:.1} % < 80 %");
    assert!(rel >= 90.0, "relative-counted {rel:.1} % < 90 %");
}
