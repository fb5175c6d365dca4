//! Preprocessing golden cases (models/spec/golden/preprocess_*.json, format: spec
//! `golden.preprocess_format`): a clip, the notes after every step of `preprocessing.melody` /
//! `preprocessing.drums`, the tokens and the report, as `cadenza_music::preprocess` makes them.
//! `GOLDEN_REGEN=1 cargo test -p cadenza-music --test preprocess_golden` rewrites them; without it
//! the test checks that the current code reproduces every file and that none is stale. The Python
//! side (`models/training/tests/test_preprocess.py`) must produce the same from the same notes.
//!
//! The dataset-derived cases take their clip from the committed encoding golden files (POP909 029,
//! GMD funk 80), so they need no data sets.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use cadenza_music::golden::GoldenCase;
use cadenza_music::preprocess::{grid_rows, tick_rows, DRUM_STEPS, MELODY_STEPS};
use cadenza_music::spec::Spec;
use cadenza_music::{preprocess_drums, preprocess_melody, Clip, DrumMap, Note, PrepReport, TimeSignature, Window};
use serde_json::{json, Value};

fn note(pitch: u8, velocity: u8, start: u32, end: u32, channel: u8) -> Note {
    Note { pitch, velocity, start, end, channel }
}

fn m(pitch: u8, start: u32, end: u32) -> Note {
    note(pitch, 90, start, end, 0)
}

fn d(pitch: u8, velocity: u8, start: u32, channel: u8) -> Note {
    note(pitch, velocity, start, start + 60, channel)
}

fn clip(bars: u16, is_drum: bool, notes: Vec<Note>) -> Clip {
    let mut c = Clip { notes, bars, time_signature: TimeSignature::FOUR_FOUR, is_drum };
    c.sort();
    c
}

struct Case {
    name: &'static str,
    source: String,
    drums: bool,
    clip: Clip,
    window: Window,
    description: &'static str,
}

fn golden_dir() -> PathBuf {
    common::repo_root().join(&Spec::embedded().golden.folder)
}

/// The clip of an encoding golden file.
fn from_golden(file: &str) -> (String, Clip) {
    let path = golden_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let g = GoldenCase::from_json(&text).unwrap();
    (format!("{}/{file}", Spec::embedded().golden.folder), g.clip())
}

fn cases() -> Vec<Case> {
    let legato = clip(
        2,
        false,
        vec![
            m(76, 0, 560),     // overlaps 74 by 80 ticks: trimmed to 480
            m(74, 480, 1020),  // overlaps 72 by 60: trimmed
            m(72, 960, 1680),  // overlaps 71 by exactly 240: trimmed
            m(71, 1440, 2161), // overlaps 69 by 241: kept, so the skyline drops 69
            m(69, 1920, 2400),
            m(67, 2400, 2880), // meets 65 exactly: nothing to trim
            m(65, 2880, 3000),
            m(64, 3000, 3300), // rising and overlapping: trimmed, but the skyline would keep 67 anyway
            m(67, 3240, 4500), // crosses the clip end: clamped to step 32
            m(60, 3240, 3360), // same onset as 67: a chord, never trimmed; the skyline keeps 67
            m(62, 3790, 3900), // onset rounds to step 32 = past the end
        ],
    );
    let chords = clip(
        2,
        false,
        vec![
            m(60, 0, 960), // C major triad under a melody
            m(64, 0, 960),
            m(67, 0, 960),
            m(72, 240, 480),   // above the sounding G: kept, truncates it at step 2
            m(65, 480, 720),   // under nothing (C5 ended at step 4): kept
            m(53, 480, 1920),  // same onset, lower: dropped
            m(57, 480, 1920),  // same onset, lower: dropped
            m(69, 960, 1440),  // a second chord: top kept
            m(69, 960, 1200),  // equal pitch, shorter: dropped
            m(62, 1080, 1200), // under the sounding A: dropped
            m(74, 1920, 2880), // bar 2: block chord
            m(70, 1920, 2880),
            m(65, 1920, 2880),
            m(77, 2880, 3840), // top voice of a chord held to the end
            m(60, 2880, 3840),
        ],
    );
    let out_of_range = clip(
        1,
        false,
        vec![
            m(110, 0, 240), // the clip is high: shift -24 leaves the fewest notes outside (2 of 10)
            m(115, 240, 480),
            m(120, 480, 720),
            m(127, 720, 960),
            m(100, 960, 1200),
            m(30, 960, 1200),   // 6 after the shift: folded up to 30
            m(44, 1200, 1440),  // 20 after the shift: folded up to 32, above ...
            m(46, 1200, 1440),  // ... 22, which was the top of this chord before the fold
            m(124, 1440, 1680), // 100
            m(96, 1440, 1680),  // 72
        ],
    );
    let window = clip(
        4,
        false,
        vec![
            m(60, 0, 1920),    // bar 1 only: outside the window
            m(62, 1440, 2400), // begins before the window, sounds into it: not in it
            m(64, 1890, 2100), // 30 ticks before the window's downbeat: quantizes onto step 0
            m(65, 2160, 2460), // legato over 67 (60 ticks): trimmed on the whole clip
            m(67, 2400, 2880),
            m(69, 2880, 6000), // crosses the window end: clamped to step 32
            m(71, 5730, 5800), // 30 ticks before the window end: rounds to the next window
            m(72, 5760, 6720), // bar 4: outside
        ],
    );
    let drums = clip(
        2,
        true,
        vec![
            d(36, 100, 0, 9),
            d(35, 80, 5, 9), // GM acoustic kick: the same class in the same step, one bit
            d(42, 90, 0, 9),
            d(44, 60, 240, 9),   // pedal hat: closed hat
            d(38, 110, 480, 0),  // any channel
            d(90, 100, 480, 9),  // unmapped
            d(0, 100, 600, 9),   // unmapped
            d(127, 100, 720, 9), // unmapped
            d(22, 70, 841, 9),   // TD-11 hat edge: closed hat, step 7 (offset +1)
            d(26, 70, 959, 9),   // open-hat edge, step 8
            d(49, 120, 1920, 9),
            d(51, 64, 2040, 9),
            d(58, 64, 2160, 9),  // tom rim: low tom
            d(47, 64, 2280, 9),  // mid tom
            d(30, 64, 2400, 9),  // high tom (TD-11 mapping)
            d(36, 100, 3780, 9), // 60 ticks before the end: step 32, past the end
        ],
    );
    let drum_window = clip(
        3,
        true,
        vec![
            d(36, 100, 0, 9),    // bar 1: outside
            d(38, 100, 1900, 9), // 20 ticks early for bar 2's downbeat: in the window at step 0
            d(42, 80, 2160, 9),
            d(42, 80, 2400, 9),
            d(91, 80, 2640, 9),  // unmapped
            d(38, 100, 3780, 9), // 60 ticks before bar 3: the next window's step 0
            d(36, 100, 4320, 9), // bar 3: outside
        ],
    );
    let (pop_src, pop) = from_golden("pop909_029_melody_8bar.json");
    let (gmd_src, gmd) = from_golden("gmd_funk80_drums_4bar.json");
    let synthetic = || "synthetic".to_string();
    vec![
        Case {
            name: "preprocess_melody_legato",
            source: synthetic(),
            drums: false,
            clip: legato,
            window: Window::Whole,
            description: "a falling line played legato (overlaps 80, 60, 240 ticks trimmed; 241 kept, so the skyline drops the next note), a chord, a note crossing the clip end, an onset past the end",
        },
        Case {
            name: "preprocess_melody_chords",
            source: synthetic(),
            drums: false,
            clip: chords,
            window: Window::Whole,
            description: "block chords and a melody over a held chord reduced to the top line; same-pitch duplicates",
        },
        Case {
            name: "preprocess_melody_out_of_range",
            source: synthetic(),
            drums: false,
            clip: out_of_range,
            window: Window::Whole,
            description: "a clip above the range: the whole-clip shift -24 leaves the fewest notes outside, those two are folded by octaves on their own, and the fold puts the lower note of a chord on top",
        },
        Case {
            name: "preprocess_melody_window",
            source: synthetic(),
            drums: false,
            clip: window,
            window: Window::Bars { start: 1, bars: 2 },
            description: "bars 2-3 of a 4-bar clip: a note begun before the window is not in it, an early note quantizes onto its downbeat, a note crossing its end is clamped, a note just before its end belongs to the next window",
        },
        Case {
            name: "preprocess_drums_unmapped",
            source: synthetic(),
            drums: true,
            clip: drums,
            window: Window::Whole,
            description: "GM and TD-11 pitches mapped to the nine classes, unmapped pitches 0, 90, 127 dropped, two kicks in one step give one bit, any channel, an onset past the end",
        },
        Case {
            name: "preprocess_drums_window",
            source: synthetic(),
            drums: true,
            clip: drum_window,
            window: Window::Bars { start: 1, bars: 1 },
            description: "bar 2 of a 3-bar clip: an early hit on its downbeat is in it, a hit just before its end is the next window's, an unmapped hit",
        },
        Case {
            name: "preprocess_pop909_029_melody_8bar",
            source: pop_src.clone(),
            drums: false,
            clip: pop.clone(),
            window: Window::Whole,
            description: "POP909 029 MELODY, 8 bars as played (the clip of pop909_029_melody_8bar.json): the whole clip, as Continue and the melody LM see it",
        },
        Case {
            name: "preprocess_pop909_029_melody_4bar_window",
            source: pop_src,
            drums: false,
            clip: pop,
            window: Window::Bars { start: 2, bars: 4 },
            description: "POP909 029 MELODY: bars 3-6, a melody_vae training window",
        },
        Case {
            name: "preprocess_gmd_funk80_drums_2bar_window",
            source: gmd_src,
            drums: true,
            clip: gmd,
            window: Window::Bars { start: 1, bars: 2 },
            description: "GMD funk 80 (the clip of gmd_funk80_drums_4bar.json): bars 2-3, with human timing around the window's edges",
        },
    ]
}

fn report_json(r: &PrepReport, drums: bool) -> Value {
    if drums {
        json!({"past_end": r.past_end, "outside_window": r.outside_window, "unmapped": r.unmapped})
    } else {
        json!({
            "trimmed": r.trimmed, "past_end": r.past_end, "outside_window": r.outside_window,
            "shift": r.shift, "folded": r.folded, "polyphony": r.polyphony
        })
    }
}

/// Step name → notes after it.
type Steps = Vec<(&'static str, Vec<Vec<i64>>)>;

fn compute(c: &Case) -> Value {
    let (steps, tokens, report): (Steps, Vec<u32>, Value) = if c.drums {
        let p = preprocess_drums(&c.clip, &DrumMap::default(), c.window).unwrap();
        let mut mapped: Vec<Vec<i64>> = p
            .stages
            .map_drums
            .iter()
            .map(|(n, class)| {
                let r = grid_rows(std::slice::from_ref(n))[0];
                r.iter().map(|&x| x as i64).chain([*class as i64]).collect()
            })
            .collect();
        mapped.sort_by_key(|r| (r[2], r[0], r[3], r[4], r[1]));
        let steps = vec![
            ("quantize", rows(grid_rows(&p.stages.quantize.notes))),
            ("window", rows(grid_rows(&p.stages.window.notes))),
            ("map_drums", mapped),
        ];
        assert_eq!(steps.iter().map(|s| s.0).chain(["encode"]).collect::<Vec<_>>(), DRUM_STEPS);
        (steps, p.tokens.iter().map(|&t| t as u32).collect(), report_json(&p.report, true))
    } else {
        let p = preprocess_melody(&[&c.clip], c.window).unwrap().remove(0);
        let s = &p.stages;
        let steps = vec![
            ("trim_legato", rows(tick_rows(&s.trim_legato.notes))),
            ("quantize", rows(grid_rows(&s.quantize.notes))),
            ("window", rows(grid_rows(&s.window.notes))),
            ("fit_range", rows(grid_rows(&s.fit_range.notes))),
            ("skyline", s.skyline.iter().map(|n| vec![n.pitch as i64, n.step as i64, n.end_step as i64]).collect()),
        ];
        assert_eq!(steps.iter().map(|s| s.0).chain(["encode"]).collect::<Vec<_>>(), MELODY_STEPS);
        (steps, p.tokens.iter().map(|&t| t as u32).collect(), report_json(&p.report, false))
    };
    let window = match c.window {
        Window::Whole => Value::Null,
        Window::Bars { start, bars } => json!({"start_bar": start, "bars": bars}),
    };
    json!({
        "name": c.name,
        "source": c.source,
        "kind": if c.drums { "drums" } else { "melody" },
        "bars": c.clip.bars,
        "description": c.description,
        "window": window,
        "notes": tick_rows(&c.clip.notes),
        "steps": steps.into_iter().map(|(step, notes)| json!({"step": step, "notes": notes})).collect::<Vec<_>>(),
        "tokens": tokens,
        "report": report,
    })
}

fn rows(r: Vec<[u32; 5]>) -> Vec<Vec<i64>> {
    r.iter().map(|x| x.iter().map(|&v| v as i64).collect()).collect()
}

/// One key per line, one note per line (readable diffs), like the encoding golden files.
fn to_text(v: &Value) -> String {
    let s = |x: &Value| serde_json::to_string(x).unwrap();
    let list = |items: &[Value], indent: &str| {
        if items.is_empty() {
            "[]".to_string()
        } else {
            let inner: Vec<String> = items.iter().map(|x| format!("{indent}  {}", s(x))).collect();
            format!("[\n{}\n{indent}]", inner.join(",\n"))
        }
    };
    let mut out = String::from("{\n");
    for key in ["name", "source", "kind", "bars", "description", "window"] {
        out += &format!("  \"{key}\": {},\n", s(&v[key]));
    }
    out += &format!("  \"notes\": {},\n", list(v["notes"].as_array().unwrap(), "  "));
    let steps: Vec<String> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            format!(
                "    {{\"step\": {}, \"notes\": {}}}",
                s(&st["step"]),
                list(st["notes"].as_array().unwrap(), "    ")
            )
        })
        .collect();
    out += &format!("  \"steps\": [\n{}\n  ],\n", steps.join(",\n"));
    out += &format!("  \"tokens\": {},\n", s(&v["tokens"]));
    out += &format!("  \"report\": {}\n}}\n", s(&v["report"]));
    out
}

#[test]
fn preprocess_golden_cases() {
    let cases = cases();
    let regen = std::env::var("GOLDEN_REGEN").is_ok_and(|v| v == "1");
    for c in &cases {
        let v = compute(c);
        let text = to_text(&v);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v, "{}", c.name);
        let path = golden_dir().join(format!("{}.json", c.name));
        if regen {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let stored: Value = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (GOLDEN_REGEN=1 creates it)", path.display())),
        )
        .unwrap();
        for key in v.as_object().unwrap().keys() {
            assert_eq!(stored[key], v[key], "{}: field {key} differs", c.name);
        }
        assert_eq!(stored, v, "{}", c.name);
    }
    // No stale files; the cases cover what they claim.
    let known: BTreeSet<String> = cases.iter().map(|c| format!("{}.json", c.name)).collect();
    let present: BTreeSet<String> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("preprocess_") && n.ends_with(".json"))
        .collect();
    assert_eq!(present, known, "stale or missing preprocess golden files");
    let reports: Vec<Value> = cases.iter().map(|c| compute(c)["report"].clone()).collect();
    let any = |key: &str| reports.iter().any(|r| r[key].as_i64().unwrap_or(0) != 0);
    for key in ["trimmed", "past_end", "outside_window", "shift", "folded", "polyphony", "unmapped"] {
        assert!(any(key), "no case exercises {key}");
    }
}
