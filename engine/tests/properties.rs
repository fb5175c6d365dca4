//! Properties of every tool over generated clips, on the real models (issue 12). Each test draws
//! clips from a seeded generator (melodies with chords, rests and micro-timing at a random
//! dynamic level; drum parts on GM pitches including side stick, pedal hat, ride bell and toms)
//! and runs the tool at every temperature of [`TEMPERATURES`]:
//!
//! - the result has the requested length, and no note sounds past its end;
//! - the velocities of new notes lie in the input's range widened by ±25 % of its bounds
//!   ([`allowed_range`]: Humanize scales a velocity by at most `HUMANIZE_SPREAD`), never all one
//!   value;
//! - Groove returns the multiset of the input's pitches;
//! - no variation is empty (fewer than 2 new onsets) at any temperature.

mod common;

use cadenza_engine::dynamics::allowed_range;
use cadenza_engine::sampling::Pcg32;
use cadenza_engine::{Job, KeyChoice, Mode, Tool};
use cadenza_music::{Clip, Note, TimeSignature};
use common::*;

const TEMPERATURES: [f32; 6] = [0.0, 0.1, 0.5, 1.0, 1.5, 2.0];
/// Clips drawn per tool and mode: 16, or `CADENZA_PROPERTY_CASES` (60 passes too, in ~40 s).
fn cases() -> u64 {
    std::env::var("CADENZA_PROPERTY_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16)
}

fn below(r: &mut Pcg32, n: u32) -> u32 {
    r.next_u32() % n.max(1)
}

/// A melody of 1–4 bars: steps of 1–8 sixteenths, some rests, some two-note chords, onsets up
/// to 30 ticks off the grid, velocities in a random band.
fn melody(seed: u64) -> Clip {
    let mut r = Pcg32::new(seed, 1);
    let bars = 1 + below(&mut r, 4) as u16;
    let steps = bars as u32 * 16;
    let lo = 25 + below(&mut r, 70) as u8;
    let hi = (lo as u32 + below(&mut r, 40)).min(127) as u8;
    let mut c = Clip::new(bars, TimeSignature::FOUR_FOUR, false);
    let (mut step, mut pitch) = (0u32, 60i32 + below(&mut r, 12) as i32);
    while step < steps {
        let len = 1 + below(&mut r, 8);
        if below(&mut r, 5) > 0 {
            let jitter = below(&mut r, 61) as i32 - 30;
            let start = ((step * 120) as i32 + jitter).max(0) as u32;
            let end = ((step + len).min(steps) * 120).max(start + 30);
            let velocity = lo + below(&mut r, (hi - lo) as u32 + 1) as u8;
            c.notes.push(Note { pitch: pitch as u8, velocity, start, end, channel: 0 });
            if below(&mut r, 6) == 0 {
                c.notes.push(Note { pitch: (pitch - 4) as u8, velocity: lo, start, end, channel: 0 });
            }
        }
        pitch = (pitch + below(&mut r, 9) as i32 - 4).clamp(48, 84);
        step += len;
    }
    if c.notes.len() < 2 {
        c.notes.push(Note { pitch: 64, velocity: lo, start: 0, end: 240, channel: 0 });
        c.notes.push(Note { pitch: 67, velocity: hi, start: 240, end: 480, channel: 0 });
    }
    c.sort();
    c
}

/// A drum part of 1–4 bars on GM pitches (kick, snare, side stick, hats, pedal hat, ride, ride
/// bell, crash, toms), each hit with its own probability, velocities in a random band.
fn drums(seed: u64) -> Clip {
    let mut r = Pcg32::new(seed, 2);
    let bars = 1 + below(&mut r, 4) as u16;
    let lo = 20 + below(&mut r, 70) as u8;
    let hi = (lo as u32 + 10 + below(&mut r, 50)).min(127) as u8;
    let kit = [36u8, 38, 37, 42, 44, 46, 51, 53, 49, 45, 43, 50];
    let chance: Vec<u32> = kit.iter().map(|_| below(&mut r, 60)).collect();
    let mut c = Clip::new(bars, TimeSignature::FOUR_FOUR, true);
    for step in 0..bars as u32 * 16 {
        for (&p, &ch) in kit.iter().zip(&chance) {
            let boost = if step % 4 == 0 { 25 } else { 0 };
            if below(&mut r, 100) < ch + boost {
                let jitter = below(&mut r, 41) as i32 - 20;
                let start = ((step * 120) as i32 + jitter).max(0) as u32;
                let velocity = lo + below(&mut r, (hi - lo) as u32 + 1) as u8;
                c.notes.push(Note { pitch: p, velocity, start, end: start + 60, channel: 9 });
            }
        }
    }
    if c.notes.len() < 4 {
        for s in 0..4 {
            c.notes.push(Note { pitch: 42, velocity: lo, start: s * 480, end: s * 480 + 60, channel: 9 });
        }
    }
    c.sort();
    c
}

fn range(clips: &[&Clip]) -> (u8, u8) {
    let v = clips.iter().flat_map(|c| c.notes.iter().map(|n| n.velocity));
    (v.clone().min().unwrap(), v.max().unwrap())
}

/// Length, nothing past the end, new notes' velocities, at least two new onsets.
fn check(what: &str, c: &Clip, bars: u16, drums: bool, new_from: u32, band: Option<(u8, u8)>) {
    assert_eq!(c.bars, bars, "{what}: length");
    let len = c.length_ticks();
    for n in &c.notes {
        assert!(n.start < len && n.end <= len, "{what}: {n:?} sounds past {len}");
    }
    assert_eq!(c.is_drum, drums, "{what}");
    c.validate().unwrap();
    let new: Vec<&Note> = c.notes.iter().filter(|n| n.start >= new_from).collect();
    assert!(new.len() >= 2, "{what}: {} new onset(s)", new.len());
    if let Some((lo, hi)) = band {
        for n in &new {
            assert!((lo..=hi).contains(&n.velocity), "{what}: velocity {} outside {lo}..={hi}", n.velocity);
        }
    }
}

fn mode_of(c: &Clip) -> Mode {
    if c.is_drum {
        Mode::Drums
    } else {
        Mode::Melody
    }
}

#[test]
fn continue_properties() {
    let mut melody_engine = engine_with("melody_rnn");
    let mut drum_engine = engine_with("drum_rnn");
    for seed in 0..cases() {
        for input in [melody(seed), drums(seed)] {
            let e = if input.is_drum { &mut drum_engine } else { &mut melody_engine };
            let (lo, hi) = range(&[&input]);
            let band = allowed_range(lo, hi);
            for (k, &t) in TEMPERATURES.iter().enumerate() {
                let bars = 1 + (seed as u16 + k as u16) % 3;
                let only = k % 2 == 0;
                let job = Job {
                    tool: Tool::Continue,
                    mode: mode_of(&input),
                    variations: 4,
                    bars,
                    temperature: t,
                    seed,
                    continuation_only: only,
                    inputs: vec![input.clone()],
                    ..Job::default()
                };
                let out = run(e, &job).unwrap();
                let at = out.continues_at.unwrap();
                assert_eq!(at, input.length_ticks(), "no long tail here");
                let (want, from) = if only { (bars, 0) } else { (input.bars + bars, at) };
                for (i, c) in out.clips.iter().enumerate() {
                    let what = format!("continue {:?} seed {seed} T={t} #{i}", job.mode);
                    check(&what, c, want, input.is_drum, from, Some(band));
                    if !only {
                        // The input as played.
                        let head: Vec<(u8, u8, u32)> =
                            c.notes.iter().filter(|n| n.start < at).map(|n| (n.pitch, n.velocity, n.start)).collect();
                        let mut want: Vec<(u8, u8, u32)> =
                            input.notes.iter().map(|n| (n.pitch, n.velocity, n.start)).collect();
                        want.sort_by_key(|x| (x.2, x.0, x.1));
                        let mut head = head;
                        head.sort_by_key(|x| (x.2, x.0, x.1));
                        assert_eq!(head, want, "{what}: the input as played");
                    }
                }
            }
        }
    }
}

#[test]
fn generate_properties() {
    for (model, mode) in [("melody_vae", Mode::Melody), ("drum_vae", Mode::Drums)] {
        let mut e = engine_with(model);
        for seed in 0..cases() {
            for (k, &t) in TEMPERATURES.iter().enumerate() {
                let bars = [1u16, 2, 4, 5, 8, 3][(seed as usize + k) % 6];
                let job =
                    Job { tool: Tool::Generate, mode, variations: 4, bars, temperature: t, seed, ..Job::default() };
                let out = run(&mut e, &job).unwrap();
                assert_eq!(out.clips.len(), 4);
                for (i, c) in out.clips.iter().enumerate() {
                    let what = format!("generate {mode:?} seed {seed} T={t} #{i}");
                    check(&what, c, bars, mode == Mode::Drums, 0, Some((1, 127)));
                    // A musical velocity profile (accents by metric level), not a flat 100.
                    assert!(c.notes.iter().any(|n| n.velocity != 100), "{what}: all 100");
                    let level = |n: &Note| cadenza_engine::dynamics::metric_level(((n.start + 60) / 120 % 16) as usize);
                    let pitch_level: std::collections::BTreeSet<(u8, usize)> =
                        c.notes.iter().map(|n| (if mode == Mode::Drums { n.pitch } else { 0 }, level(n))).collect();
                    let same_key = |a: &(u8, usize), b: &(u8, usize)| a.0 == b.0 && a.1 != b.1;
                    if pitch_level.iter().any(|a| pitch_level.iter().any(|b| same_key(a, b))) {
                        assert!(c.notes.iter().any(|n| n.velocity != c.notes[0].velocity), "{what}: flat");
                    }
                }
            }
        }
    }
}

#[test]
fn interpolate_properties() {
    for (model, mode) in [("melody_vae", Mode::Melody), ("drum_vae", Mode::Drums)] {
        let mut e = engine_with(model);
        for seed in 0..cases() {
            let (a, b) = match mode {
                Mode::Melody => (melody(seed), melody(seed + 100)),
                Mode::Drums => (drums(seed), drums(seed + 100)),
            };
            let bars = a.bars.max(b.bars).min(4);
            let band = allowed_range(range(&[&a, &b]).0, range(&[&a, &b]).1);
            for (k, &t) in TEMPERATURES.iter().enumerate() {
                let endpoints = k % 3 != 2;
                let job = Job {
                    tool: Tool::Interpolate,
                    mode,
                    interp_steps: 2 + k,
                    include_endpoints: endpoints,
                    temperature: t,
                    seed,
                    key: if k == 0 { KeyChoice::Off } else { KeyChoice::Auto },
                    inputs: vec![a.clone(), b.clone()],
                    ..Job::default()
                };
                let out = run(&mut e, &job).unwrap();
                assert_eq!(out.clips.len(), 2 + k);
                for (i, c) in out.clips.iter().enumerate() {
                    let what = format!("interpolate {mode:?} seed {seed} T={t} #{i}");
                    let endpoint = endpoints && (i == 0 || i == out.clips.len() - 1);
                    if endpoint {
                        let given = if i == 0 { &a } else { &b };
                        let want = given.window(0, bars).unwrap();
                        assert_eq!(c.notes, want.notes, "{what}: the input as given");
                        assert_eq!(c.bars, bars, "{what}");
                    } else {
                        check(&what, c, bars, mode == Mode::Drums, 0, Some(band));
                    }
                }
            }
        }
    }
}

#[test]
fn drumify_and_groove_properties() {
    let mut e = engine_with("groove_vae");
    for seed in 0..cases() {
        for input in [melody(seed), drums(seed)] {
            let (lo, hi) = range(&[&input]);
            let band = allowed_range(lo, hi);
            for &t in &TEMPERATURES {
                let job = Job {
                    tool: Tool::Drumify,
                    mode: Mode::Drums,
                    variations: 3,
                    temperature: t,
                    seed,
                    inputs: vec![input.clone()],
                    ..Job::default()
                };
                for (i, c) in run(&mut e, &job).unwrap().clips.iter().enumerate() {
                    let what = format!("drumify seed {seed} T={t} #{i} (drum input {})", input.is_drum);
                    check(&what, c, input.bars, true, 0, Some(band));
                }
                if !input.is_drum {
                    continue;
                }
                let job = Job { tool: Tool::Groove, ..job };
                let mut want: Vec<u8> = input.notes.iter().map(|n| n.pitch).collect();
                want.sort();
                for (i, c) in run(&mut e, &job).unwrap().clips.iter().enumerate() {
                    let what = format!("groove seed {seed} T={t} #{i}");
                    check(&what, c, input.bars, true, 0, Some(band));
                    let mut got: Vec<u8> = c.notes.iter().map(|n| n.pitch).collect();
                    got.sort();
                    assert_eq!(got, want, "{what}: the input's pitches");
                }
            }
        }
    }
}
