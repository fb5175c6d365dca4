//! The real-world cases of issue 12 (`tests/data/cases/`, copied from the shared case folder:
//! small MIDI files made to reproduce bug reports against Magenta Studio and MIDI libraries),
//! each turned into the right behaviour on the real models.

mod common;

use std::path::PathBuf;

use cadenza_engine::dynamics::allowed_range;
use cadenza_engine::{Job, Mode, Tool};
use cadenza_music::{import_midi_file, Clip, ImportOptions, MusicError, Note};
use common::*;

fn case_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases").join(name)
}

fn case(name: &str) -> Clip {
    import_midi_file(case_path(name), &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}")).clip
}

fn onsets_from(c: &Clip, from: u32) -> Vec<&Note> {
    c.notes.iter().filter(|n| n.start >= from).collect()
}

fn sorted_pitches(c: &Clip) -> Vec<u8> {
    let mut p: Vec<u8> = c.notes.iter().map(|n| n.pitch).collect();
    p.sort();
    p
}

fn velocity_range(c: &Clip) -> (u8, u8) {
    let v = c.notes.iter().map(|n| n.velocity);
    (v.clone().min().unwrap(), v.max().unwrap())
}

// ------------------------------------------------------------------ c04: Groove keeps the kit

#[test]
fn c04_groove_returns_the_users_own_notes() {
    let mut e = engine_with("groove_vae");
    let input = case("c04_groove_gm_kit_pieces.mid");
    // Side stick, pedal hat, ride bell and four toms.
    for p in [37u8, 44, 53, 50, 47, 45, 43] {
        assert!(input.notes.iter().any(|n| n.pitch == p), "{p} in the case");
    }
    for t in [0.0, 1.0] {
        let out = run(
            &mut e,
            &Job {
                tool: Tool::Groove,
                mode: Mode::Drums,
                variations: 2,
                seed: 7,
                temperature: t,
                inputs: vec![input.clone()],
                ..Job::default()
            },
        )
        .unwrap();
        for c in &out.clips {
            check_clip_basics(c, input.bars, true);
            assert_eq!(c.notes.len(), input.notes.len(), "same count");
            assert_eq!(sorted_pitches(c), sorted_pitches(&input), "same pitches");
            assert!(c.notes.iter().any(|n| n.start % 120 != 0), "new timing");
            assert!(c.notes.iter().zip(&input.notes).any(|(a, b)| a.velocity != b.velocity), "new velocity");
        }
    }
}

// ------------------------------------------------------------- c05: Interpolate's endpoints

fn interpolate(e: &mut cadenza_engine::Engine, a: &Clip, b: &Clip, steps: usize, t: f32, seed: u64) -> Vec<Clip> {
    run(
        e,
        &Job {
            tool: Tool::Interpolate,
            mode: Mode::Melody,
            interp_steps: steps,
            temperature: t,
            seed,
            inputs: vec![a.clone(), b.clone()],
            ..Job::default()
        },
    )
    .unwrap()
    .clips
}

#[test]
fn c05_endpoints_are_the_inputs_and_keep_their_final_step() {
    let mut e = engine_with("melody_vae");
    let a = case("c05_interp_a_4bars_laststep.mid");
    let b = case("c05_interp_b_4bars_laststep.mid");
    let last_step = |c: &Clip| c.notes.iter().any(|n| n.start == 63 * 120);
    assert!(last_step(&a) && last_step(&b));
    let (lo, hi) = allowed_range(90, 100);
    let mut kept = 0;
    for seed in 0..20 {
        for t in [0.0, 1.0] {
            let clips = interpolate(&mut e, &a, &b, 3, t, seed);
            assert_eq!(clips.len(), 3);
            assert_eq!(clips[0].notes, a.notes, "seed {seed}: first result is A as given");
            assert_eq!(clips[2].notes, b.notes, "seed {seed}: last result is B as given");
            kept += last_step(&clips[0]) as usize + last_step(&clips[2]) as usize;
            for c in &clips {
                check_clip_basics(c, 4, false);
                assert!(c.notes.iter().all(|n| (lo..=hi).contains(&n.velocity)), "{:?}", velocity_range(c));
            }
            assert!(!clips[1].notes.is_empty());
        }
    }
    // Every endpoint of every seed keeps the final-step note (today: 13 of 40).
    assert_eq!(kept, 80);
}

#[test]
fn c05_two_bar_inputs_give_two_bar_results() {
    let mut e = engine_with("melody_vae");
    let a = case("c05_interp_a_2bars_laststep.mid");
    let b = case("c05_interp_b_2bars_laststep.mid");
    assert_eq!((a.bars, b.bars), (2, 2));
    let mut past = 0;
    for seed in 0..10 {
        for t in [0.0, 1.0] {
            for c in interpolate(&mut e, &a, &b, 5, t, seed) {
                check_clip_basics(&c, 2, false);
                past += c.notes.iter().filter(|n| n.end > 3840).count();
            }
        }
    }
    assert_eq!(past, 0, "no note sounds past bar 2");
}

/// Steps (of 64) with an onset in the clip.
fn onset_steps(c: &Clip) -> [bool; 64] {
    let mut s = [false; 64];
    for n in &c.notes {
        let step = (n.start / 120) as usize;
        if step < 64 {
            s[step] = true;
        }
    }
    s
}

/// Two 4-bar melodies in the shape of the c05 case, but with the same figure in every bar: a
/// note on each beat and one on the bar's last sixteenth (steps 15, 31, 47, 63), so the
/// window's final step can be compared with the same position one, two and three bars earlier.
fn last_sixteenth_melodies() -> (Clip, Clip) {
    let make = |pitches: [[u8; 5]; 4], velocity: u8| {
        let mut c = Clip::new(4, cadenza_music::TimeSignature::FOUR_FOUR, false);
        for (bar, ps) in pitches.iter().enumerate() {
            let base = bar as u32 * 16;
            for (k, (&p, (step, len))) in ps.iter().zip([(0u32, 3u32), (4, 3), (8, 3), (12, 3), (15, 1)]).enumerate() {
                c.notes.push(Note {
                    pitch: p,
                    velocity: if k == 4 { velocity + 10 } else { velocity },
                    start: (base + step) * 120,
                    end: (base + step + len) * 120,
                    channel: 0,
                });
            }
        }
        c
    };
    let a = make([[60, 62, 64, 65, 67], [65, 64, 62, 64, 65], [67, 65, 64, 62, 64], [62, 64, 65, 72, 74]], 90);
    let b = make([[72, 69, 67, 65, 62], [65, 67, 69, 67, 65], [64, 62, 60, 62, 64], [65, 67, 69, 55, 53]], 90);
    (a, b)
}

/// Interior decodes keep a note on the window's final sixteenth (step 63) as reliably as the same
/// figure one, two and three bars earlier (steps 15, 31, 47): the endpoints are no longer
/// re-decoded, and the decode loop has no off-by-one at the window's end.
#[test]
fn interior_decodes_keep_the_final_step_like_any_other() {
    let mut e = engine_with("melody_vae");
    let (a, b) = last_sixteenth_melodies();
    for t in [0.0f32, 1.0] {
        let mut lost = [0usize; 64];
        let mut decodes = 0;
        let seeds = if t == 0.0 { 0..1 } else { 0..40 };
        for seed in seeds {
            // Nine results with endpoints: seven interior points decoded per seed.
            let clips = interpolate(&mut e, &a, &b, 9, t, seed);
            for c in &clips[1..8] {
                decodes += 1;
                let s = onset_steps(c);
                for step in [15, 31, 47, 63] {
                    lost[step] += !s[step] as usize;
                }
            }
        }
        let rate = |s: usize| lost[s] as f64 / decodes as f64;
        let others = [rate(15), rate(31), rate(47)];
        let worst = others.iter().cloned().fold(0.0, f64::max);
        let mean = others.iter().sum::<f64>() / 3.0;
        eprintln!(
            "T={t}: {decodes} interior decodes; last-sixteenth note lost at step 15 {:.3}, 31 {:.3}, \
             47 {:.3}, final step 63 {:.3} (mean of the others {mean:.3})",
            others[0],
            others[1],
            others[2],
            rate(63)
        );
        assert!(
            rate(63) <= worst + 0.05,
            "T={t}: the final step is lost more often ({:.3}) than the same figure in earlier \
             bars (worst {worst:.3})",
            rate(63)
        );
    }
}

// ------------------------------------------------- c06, c07: low temperature is never silent

fn continue_job(input: Clip, variations: usize, bars: u16, t: f32, seed: u64) -> Job {
    Job {
        tool: Tool::Continue,
        mode: if input.is_drum { Mode::Drums } else { Mode::Melody },
        variations,
        bars,
        temperature: t,
        seed,
        continuation_only: true,
        inputs: vec![input],
        ..Job::default()
    }
}

#[test]
fn c06_c07_every_variation_has_new_notes_at_low_temperature() {
    let mut e = engine_with("melody_rnn");
    for name in ["c07_continue_phrase.mid", "c06_continue_block_chords.mid"] {
        let input = case(name);
        for t in [0.0, 0.1, 0.5] {
            let out = run(&mut e, &continue_job(input.clone(), 16, 2, t, 11)).unwrap();
            assert_eq!(out.clips.len(), 16);
            for (i, c) in out.clips.iter().enumerate() {
                check_clip_basics(c, 2, false);
                assert!(c.notes.len() >= 2, "{name} T={t}: variation {} has {} note(s)", i + 1, c.notes.len());
            }
            if t == 0.0 {
                // Greedy decoding is deterministic, so 16 variations differ only where one came out
                // (nearly) silent and was made again at a higher temperature: that must be reported.
                // (melody_rnn v1 held one note on c07 and c06; v2 plays a phrase on both.)
                let remade = out.clips.iter().any(|c| c.notes != out.clips[0].notes);
                let reported = out.warnings.iter().any(|w| w.contains("made again"));
                assert_eq!(remade, reported, "{name}: {:?}", out.warnings);
            }
            // Key: Auto found the key (both are in C major).
            assert_eq!(out.detected_key.map(|k| k.to_string()).as_deref(), Some("C:major"));
            // New notes follow the input's level: c07 is played at 66..90, c06's tune at 95.
            let (lo, hi) = allowed_range(
                input.notes.iter().map(|n| n.velocity).min().unwrap(),
                input.notes.iter().map(|n| n.velocity).max().unwrap(),
            );
            for c in &out.clips {
                assert!(c.notes.iter().all(|n| (lo..=hi).contains(&n.velocity) && n.velocity != 100));
            }
        }
    }
}

// ---------------------------------------------------- c09: drums keep ghost notes and accents

#[test]
fn c09_new_drum_notes_follow_the_inputs_dynamics() {
    let mut e = engine_with("drum_rnn");
    let input = case("c09_drums_ghost_notes_dynamics.mid");
    assert!(input.is_drum);
    let (in_lo, in_hi) = velocity_range(&input);
    assert_eq!((in_lo, in_hi), (22, 120));
    let (lo, hi) = allowed_range(in_lo, in_hi);
    for humanize in [false, true] {
        let out = run(&mut e, &Job { continuation_only: false, humanize, ..continue_job(input.clone(), 3, 2, 1.0, 7) })
            .unwrap();
        for c in &out.clips {
            check_clip_basics(c, 4, true);
            // The input is returned as played.
            let head: Vec<&Note> = c.notes.iter().filter(|n| n.start < 3840).collect();
            assert_eq!(head.len(), input.notes.len());
            assert!(head.iter().zip(&input.notes).all(|(a, b)| **a == *b));
            let new = onsets_from(c, 3840);
            assert!(new.len() > 10);
            // Humanize scales a velocity by at most ±HUMANIZE_SPREAD (25 %).
            let spread = if humanize { cadenza_engine::dynamics::HUMANIZE_SPREAD } else { 0.0 };
            for n in &new {
                assert!((lo..=hi).contains(&n.velocity), "{n:?}");
                assert!(n.velocity != 100 || humanize);
                let pos = (n.start + 60) / 120 % 16;
                let v = n.velocity as f32;
                let band = |want: f32| (want * (1.0 - spread) - 1.0, want * (1.0 + spread) + 1.0);
                let played = input.notes.iter().any(|m| m.pitch == n.pitch && (m.start / 120) % 16 == pos);
                match n.pitch {
                    // Backbeat accents stay accents, ghost notes stay ghost notes.
                    38 if pos == 4 || pos == 12 => assert!(v >= band(120.0).0, "{n:?}"),
                    38 if played => assert!(v <= band(22.0).1, "{n:?}"),
                    // Hats: 55 on eighths, 30 on sixteenths; kick 70 wherever it falls.
                    42 if pos % 2 == 0 => assert!((band(55.0).0..=band(55.0).1).contains(&v), "{n:?}"),
                    42 => assert!((band(30.0).0..=band(30.0).1).contains(&v), "{n:?}"),
                    36 => assert!((band(70.0).0..=band(70.0).1).contains(&v), "{n:?}"),
                    _ => {}
                }
            }
            if humanize {
                assert!(new.iter().any(|n| n.start % 120 != 0), "performed micro-timing");
            }
            // Never louder than the input's accents, never all one velocity.
            assert!(new.iter().any(|n| n.velocity != new[0].velocity));
        }
    }
}

// ------------------------------------------------------------------- c22: the silent tail

#[test]
fn c22_continues_right_after_the_music() {
    let mut e = engine_with("melody_rnn");
    let input = case("c22_phrase_with_long_tail.mid");
    assert_eq!(input.bars, 12);
    for bars in [12u16, 4] {
        let mut clip = input.clone();
        clip.bars = bars;
        let out = run(&mut e, &Job { continuation_only: false, ..continue_job(clip, 8, 2, 1.0, 7) }).unwrap();
        assert_eq!(out.continues_at, Some(3840), "new bars start at bar 3");
        assert!(out.warnings.iter().any(|w| w.contains("continued from bar 3")), "{:?}", out.warnings);
        for c in &out.clips {
            // The music (2 bars) as played, then 2 new bars.
            check_clip_basics(c, 4, false);
            let head: Vec<&Note> = c.notes.iter().filter(|n| n.start < 3840).collect();
            assert_eq!(head.len(), input.notes.len());
            assert!(onsets_from(c, 3840).len() >= 2, "new notes in bars 3-4");
        }
    }
}

// --------------------------------------------------------------------- c15: meter changes

#[test]
fn c15_a_meter_change_is_refused_naming_the_bar() {
    match import_midi_file(case_path("c15_4-4_then_3-4.mid"), &ImportOptions::default()) {
        Err(e @ MusicError::MeterChange { bar: 3, .. }) => {
            let m = e.to_string();
            assert!(m.contains("from 4/4 to 3/4 at bar 3"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}
