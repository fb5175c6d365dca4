//! End-to-end tests of the five tools on the real models (see `common`).

mod common;

use cadenza_engine::{Job, KeyChoice, KeyScale, Mode, Scale, Tool};
use cadenza_music::spec::{MELODY_MAX_PITCH, MELODY_MIN_PITCH};
use common::*;

fn job(tool: Tool, mode: Mode) -> Job {
    Job { tool, mode, ..Job::default() }
}

// ---------------------------------------------------------------- Continue, melody (melody_rnn)

#[test]
fn continue_melody_variations_length_range() {
    let mut e = engine_with("melody_rnn");
    let input = melody_a();
    let mut j = Job { variations: 3, bars: 2, inputs: vec![input.clone()], ..job(Tool::Continue, Mode::Melody) };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 3);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    for c in &out.clips {
        check_clip_basics(c, 4, false);
        // The input is kept as played.
        let head: Vec<_> =
            c.notes.iter().filter(|n| n.start < input.length_ticks()).map(|n| (n.pitch, n.start)).collect();
        let want: Vec<_> = input.notes.iter().map(|n| (n.pitch, n.start)).collect();
        assert_eq!(head, want);
        for n in &c.notes {
            assert!((MELODY_MIN_PITCH..=MELODY_MAX_PITCH).contains(&n.pitch));
        }
    }
    j.continuation_only = true;
    j.bars = 3;
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 3);
    for c in &out.clips {
        check_clip_basics(c, 3, false);
    }
    // 16 variations, one batch.
    j.variations = 16;
    assert_eq!(run(&mut e, &j).unwrap().clips.len(), 16);
}

#[test]
fn continue_melody_seeds_and_temperature_zero() {
    let mut e = engine_with("melody_rnn");
    let mut j = Job {
        variations: 4,
        bars: 4,
        continuation_only: true,
        inputs: vec![melody_a()],
        ..job(Tool::Continue, Mode::Melody)
    };
    j.temperature = 0.0;
    let a = run(&mut e, &j).unwrap();
    j.seed = 99;
    let b = run(&mut e, &j).unwrap();
    assert_eq!(a, b, "temperature 0 is deterministic whatever the seed");
    assert!(a.clips.windows(2).all(|w| w[0] == w[1]), "greedy variations are identical");

    j.temperature = 1.0;
    j.seed = 7;
    let c = run(&mut e, &j).unwrap();
    let d = run(&mut e, &j).unwrap();
    assert_eq!(c, d, "a fixed seed reproduces");
    j.seed = 8;
    let f = run(&mut e, &j).unwrap();
    assert_ne!(c, f, "different seeds differ");
    assert!(c.clips.windows(2).any(|w| w[0] != w[1]), "variations differ");
}

#[test]
fn continue_melody_temperature_raises_entropy() {
    let mut e = engine_with("melody_rnn");
    let mut j = Job {
        variations: 16,
        bars: 4,
        continuation_only: true,
        inputs: vec![melody_a()],
        ..job(Tool::Continue, Mode::Melody)
    };
    let mut measure = |t: f32| {
        j.temperature = t;
        let out = run(&mut e, &j).unwrap();
        entropy(out.clips.iter().flat_map(melody_tokens))
    };
    let cold = measure(0.3);
    let warm = measure(1.0);
    let hot = measure(2.0);
    assert!(cold < warm && warm < hot, "token entropy (bits) T=0.3 {cold:.3}, T=1 {warm:.3}, T=2 {hot:.3}");
}

#[test]
fn continue_melody_key_mask() {
    let mut e = engine_with("melody_rnn");
    let key: KeyScale = "D:major".parse().unwrap();
    let j = Job {
        variations: 8,
        bars: 4,
        temperature: 2.0,
        continuation_only: true,
        key: key.into(),
        inputs: vec![melody_a()],
        ..job(Tool::Continue, Mode::Melody)
    };
    let out = run(&mut e, &j).unwrap();
    let notes: Vec<u8> = out.clips.iter().flat_map(|c| c.notes.iter().map(|n| n.pitch)).collect();
    assert!(notes.len() > 8, "hot sampling produced notes");
    for p in notes {
        assert!(key.contains(p), "pitch {p} is not in {key}");
    }
    // Without the mask the same hot sampling leaves the key (C# vs C natural etc.).
    let free = run(&mut e, &Job { key: KeyChoice::Off, ..j.clone() }).unwrap();
    assert!(free.clips.iter().flat_map(|c| &c.notes).any(|n| !key.contains(n.pitch)));
    let minor = KeyScale::new(9, Scale::MinorPentatonic);
    let out = run(&mut e, &Job { key: minor.into(), ..j }).unwrap();
    assert!(out.clips.iter().flat_map(|c| &c.notes).all(|n| minor.contains(n.pitch)));
}

// ---------------------------------------------------------------- Continue, drums (drum_rnn)

#[test]
fn continue_drums() {
    let mut e = engine_with("drum_rnn");
    let mut j = Job {
        variations: 4,
        bars: 2,
        continuation_only: true,
        inputs: vec![drums_a()],
        ..job(Tool::Continue, Mode::Drums)
    };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 4);
    let mapped = drum_output_pitches();
    for c in &out.clips {
        check_clip_basics(c, 2, true);
        assert!(c.notes.iter().all(|n| mapped.contains(&n.pitch) && n.channel == 9));
    }
    j.temperature = 0.0;
    let a = run(&mut e, &j).unwrap();
    assert_eq!(a, run(&mut e, &Job { seed: 5, ..j.clone() }).unwrap());
    j.temperature = 1.0;
    j.continuation_only = false;
    let out = run(&mut e, &j).unwrap();
    for c in &out.clips {
        check_clip_basics(c, 6, true);
    }
    assert_ne!(out, run(&mut e, &Job { seed: 1, ..j }).unwrap());
}

// ---------------------------------------------------------------- Generate (melody_vae, drum_vae)

#[test]
fn generate_melody() {
    let mut e = engine_with("melody_vae");
    let mut j = Job { variations: 16, bars: 4, ..job(Tool::Generate, Mode::Melody) };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 16);
    for c in &out.clips {
        check_clip_basics(c, 4, false);
        assert!(c.notes.iter().all(|n| (MELODY_MIN_PITCH..=MELODY_MAX_PITCH).contains(&n.pitch)));
    }
    assert_eq!(out, run(&mut e, &j).unwrap(), "a fixed seed reproduces");
    assert_ne!(out, run(&mut e, &Job { seed: 3, ..j.clone() }).unwrap());
    // Longer than the model's 4 bars: chained.
    j.bars = 9;
    j.variations = 2;
    let long = run(&mut e, &j).unwrap();
    for c in &long.clips {
        check_clip_basics(c, 9, false);
    }
    // Key mask.
    let key = KeyScale::new(7, Scale::Mixolydian);
    let out = run(&mut e, &Job { key: key.into(), temperature: 1.5, bars: 4, variations: 8, ..j }).unwrap();
    assert!(out.clips.iter().flat_map(|c| &c.notes).all(|n| key.contains(n.pitch)));
}

#[test]
fn generate_melody_temperature() {
    let mut e = engine_with("melody_vae");
    let mut j = Job { variations: 16, bars: 4, ..job(Tool::Generate, Mode::Melody) };
    j.temperature = 0.0;
    let g = run(&mut e, &j).unwrap();
    assert_eq!(g, run(&mut e, &j).unwrap(), "greedy decoding of the same z is deterministic");
    let mut measure = |t: f32| {
        j.temperature = t;
        entropy(run(&mut e, &j).unwrap().clips.iter().flat_map(melody_tokens))
    };
    let cold = measure(0.2);
    let hot = measure(2.0);
    assert!(cold < hot, "token entropy T=0.2 {cold:.3} < T=2 {hot:.3}");
}

#[test]
fn generate_drums() {
    let mut e = engine_with("drum_vae");
    let j = Job { variations: 16, bars: 4, ..job(Tool::Generate, Mode::Drums) };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 16);
    let mapped = drum_output_pitches();
    for c in &out.clips {
        check_clip_basics(c, 4, true);
        assert!(c.notes.iter().all(|n| mapped.contains(&n.pitch)));
    }
    assert_eq!(out, run(&mut e, &j).unwrap());
    assert_ne!(out, run(&mut e, &Job { seed: 11, ..j.clone() }).unwrap());
    let cold = entropy(run(&mut e, &Job { temperature: 0.2, ..j.clone() }).unwrap().clips.iter().flat_map(drum_tokens));
    let hot = entropy(run(&mut e, &Job { temperature: 2.0, ..j.clone() }).unwrap().clips.iter().flat_map(drum_tokens));
    assert!(cold < hot, "drum token entropy T=0.2 {cold:.3} < T=2 {hot:.3}");
    let long = run(&mut e, &Job { bars: 6, variations: 2, ..j }).unwrap();
    long.clips.iter().for_each(|c| check_clip_basics(c, 6, true));
}

/// Share of 4-bar Generate outputs' bars with a kick (token bit 0) on their downbeat, over
/// `seeds` jobs of 16 variations each (Quality 1×, T = 1, no humanize).
fn generated_downbeat_kicks(e: &mut cadenza_engine::Engine, seeds: u64) -> f64 {
    let (mut bars, mut kicks) = (0usize, 0usize);
    for seed in 0..seeds {
        let j = Job { variations: 16, bars: 4, seed, humanize: false, ..job(Tool::Generate, Mode::Drums) };
        for c in run(e, &j).unwrap().clips {
            let t = drum_tokens(&c);
            for bar in t.chunks(16) {
                bars += 1;
                kicks += usize::from(bar[0] & 1 == 1);
            }
        }
    }
    kicks as f64 / bars as f64
}

/// Generate draws z from the mixture fitted to the training windows' codes (`graphs.prior`),
/// not N(0, I): drummers put a kick on 70 % of downbeats (GMD test split), N(0, I) codes decode
/// to about 45 % (`models/training/README.md`). Without the prior graph the engine falls back
/// to N(0, I) and must still run.
#[test]
fn generate_drums_draws_from_the_latent_prior() {
    let text = std::fs::read_to_string(config().models_dir.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(manifest["models"]["drum_vae"]["graphs"].get("prior").is_some(), "drum_vae ships a latent prior");
    let with_prior = generated_downbeat_kicks(&mut engine_with("drum_vae"), 4);

    let (mut plain, _dir) = drum_vae_copy("no-prior", |graphs| {
        graphs.remove("prior");
    });
    let without = generated_downbeat_kicks(&mut plain, 4);
    assert!(with_prior >= 0.6, "downbeat kicks with the prior: {with_prior:.3}");
    assert!(with_prior > without + 0.1, "with the prior {with_prior:.3}, N(0, I) {without:.3}");

    // A prior graph whose z does not fit the decoder is a broken installation, not N(0, I).
    let (mut broken, _dir) = drum_vae_copy("bad-prior", |graphs| {
        graphs["prior"]["outputs"][0]["shape"][1] = 64.into();
    });
    let j = Job { variations: 2, bars: 4, ..job(Tool::Generate, Mode::Drums) };
    let e = run(&mut broken, &j).unwrap_err();
    assert!(matches!(e, cadenza_engine::EngineError::ManifestInvalid { .. }), "{e:?}");
    assert!(e.to_string().contains("prior") || e.to_string().contains("\"z\""), "{e}");
}

/// An engine on a copy of the models folder holding only drum_vae, whose manifest `graphs`
/// entry `edit` changes first; the copy lives as long as the returned `Scratch`.
fn drum_vae_copy(
    name: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> (cadenza_engine::Engine, Scratch) {
    let config = config();
    let text = std::fs::read_to_string(config.models_dir.join("manifest.json")).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dir = scratch(name);
    let graphs = manifest["models"]["drum_vae"]["graphs"].as_object_mut().unwrap();
    for g in graphs.values() {
        let file = g["file"].as_str().unwrap();
        std::fs::copy(config.models_dir.join(file), dir.join(file)).unwrap();
    }
    edit(graphs);
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    let engine = cadenza_engine::Engine::new(cadenza_engine::EngineConfig {
        models_dir: dir.to_path_buf(),
        runtime_lib: config.runtime_lib.clone(),
    });
    (engine, dir)
}

/// Mean share of hits two consecutive bars have in common (Jaccard of step × class) over the
/// bar pairs inside `bars` of each clip.
fn bar_similarity(clips: &[cadenza_music::Clip], bars: std::ops::Range<usize>) -> f64 {
    let (mut sum, mut pairs) = (0.0, 0usize);
    for c in clips {
        let t = drum_tokens(c);
        let bar: Vec<&[u16]> = t.chunks(16).collect();
        for i in bars.start..bars.end - 1 {
            let both: u32 = bar[i].iter().zip(bar[i + 1]).map(|(a, b)| (a & b).count_ones()).sum();
            let either: u32 = bar[i].iter().zip(bar[i + 1]).map(|(a, b)| (a | b).count_ones()).sum();
            sum += if either == 0 { 0.0 } else { f64::from(both) / f64::from(either) };
            pairs += 1;
        }
    }
    sum / pairs as f64
}

/// An 8-bar Generate chains two 4-bar windows; the second window's z blends the first with a
/// fresh code from the same mixture component, so its bars hold a groove like the first
/// window's do (fresh components blend into the space between grooves: bar similarity in bars
/// 5-8 fell to 0.36 through the CLI, data 0.56).
#[test]
fn chained_drum_windows_keep_a_groove() {
    let mut e = engine_with("drum_vae");
    let mut clips = Vec::new();
    for seed in 0..4 {
        let j = Job { variations: 16, bars: 8, seed, humanize: false, ..job(Tool::Generate, Mode::Drums) };
        clips.extend(run(&mut e, &j).unwrap().clips);
    }
    let first = bar_similarity(&clips, 0..4);
    let second = bar_similarity(&clips, 4..8);
    assert!(second >= 0.44, "bars 5-8 similarity {second:.3} (bars 1-4 {first:.3})");
    assert!(second > first - 0.08, "bars 5-8 similarity {second:.3} vs bars 1-4 {first:.3}");
}

// ---------------------------------------------------------------- Interpolate

#[test]
fn interpolate_melody() {
    let mut e = engine_with("melody_vae");
    let (a, b) = (melody_a(), melody_b());
    let j = Job {
        interp_steps: 5,
        temperature: 0.0,
        inputs: vec![a.clone(), b.clone()],
        ..job(Tool::Interpolate, Mode::Melody)
    };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 5);
    for c in &out.clips {
        check_clip_basics(c, 4, false);
    }
    let pad = |c: &cadenza_music::Clip| c.window(0, 4).unwrap();
    let (ta, tb) = (melody_tokens(&pad(&a)), melody_tokens(&pad(&b)));
    let first = melody_tokens(&out.clips[0]);
    let last = melody_tokens(&out.clips[4]);
    assert!(distance(&first, &ta) < distance(&first, &tb), "first clip is closer to A");
    assert!(distance(&last, &tb) < distance(&last, &ta), "last clip is closer to B");
    assert!(distance(&first, &ta) < distance(&first, &last), "endpoints: closer to their input than to each other");
    assert!(distance(&last, &tb) < distance(&first, &last));
    // Without endpoints, 16 steps.
    let out = run(&mut e, &Job { interp_steps: 16, include_endpoints: false, ..j.clone() }).unwrap();
    assert_eq!(out.clips.len(), 16);
    assert_eq!(out, run(&mut e, &Job { interp_steps: 16, include_endpoints: false, seed: 4, ..j }).unwrap());
}

#[test]
fn interpolate_drums() {
    let mut e = engine_with("drum_vae");
    let (a, b) = (drums_a(), drums_b());
    let j = Job {
        interp_steps: 4,
        temperature: 0.0,
        inputs: vec![a.clone(), b.clone()],
        ..job(Tool::Interpolate, Mode::Drums)
    };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 4);
    let mapped = drum_output_pitches();
    for c in &out.clips {
        check_clip_basics(c, 4, true);
        assert!(c.notes.iter().all(|n| mapped.contains(&n.pitch)));
    }
    let (ta, tb) = (drum_tokens(&a), drum_tokens(&b));
    let (first, last) = (drum_tokens(&out.clips[0]), drum_tokens(&out.clips[3]));
    assert!(distance(&first, &ta) < distance(&first, &tb));
    assert!(distance(&last, &tb) < distance(&last, &ta));
    assert!(distance(&first, &ta) < distance(&first, &last));
    assert!(distance(&last, &tb) < distance(&first, &last));
}

// ---------------------------------------------------------------- Drumify, Groove (groove_vae)

#[test]
fn drumify_any_clip() {
    let mut e = engine_with("groove_vae");
    let mut input = melody_a();
    input.bars = 4; // 2 bars of notes, 2 of silence: 4 bars out
    let mut j = Job { variations: 3, inputs: vec![input], ..job(Tool::Drumify, Mode::Drums) };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 3);
    let mapped = drum_output_pitches();
    for c in &out.clips {
        check_clip_basics(c, 4, true);
        assert!(!c.notes.is_empty());
        assert!(c.notes.iter().all(|n| mapped.contains(&n.pitch) && n.channel == 9));
    }
    // Velocities come from the model (its accents vary); a hit on a played step lands where the
    // note was played: on the grid here, 18 ticks late when the whole input is played late.
    let all: Vec<_> = out.clips.iter().flat_map(|c| &c.notes).collect();
    assert!(all.iter().any(|n| n.velocity != all[0].velocity), "velocities vary");
    let played: std::collections::BTreeSet<u32> = j.inputs[0].notes.iter().map(|n| n.start / 120).collect();
    let on_played = |c: &cadenza_music::Clip, late: u32| {
        let hits: Vec<_> = c.notes.iter().filter(|n| played.contains(&((n.start + 60) / 120))).collect();
        assert!(!hits.is_empty(), "some hits fall on played steps");
        for n in hits {
            assert_eq!(n.start % 120, late, "{n:?} at the played timing");
        }
    };
    out.clips.iter().for_each(|c| on_played(c, 0));
    let mut late = j.inputs[0].clone();
    late.notes.iter_mut().for_each(|n| (n.start, n.end) = (n.start + 18, n.end + 18));
    let late_job = Job { inputs: vec![late], ..j.clone() };
    run(&mut e, &late_job).unwrap().clips.iter().for_each(|c| on_played(c, 18));
    // Odd lengths (1 bar is padded; 3 bars uses overlapping windows).
    for bars in [1u16, 3, 5] {
        let mut c = melody_a();
        c.bars = bars;
        let len = c.length_ticks();
        c.notes.retain(|n| n.start < len);
        j.inputs = vec![c];
        for clip in run(&mut e, &j).unwrap().clips {
            check_clip_basics(&clip, bars, true);
        }
    }
    j.temperature = 0.0;
    let a = run(&mut e, &j).unwrap();
    assert_eq!(a, run(&mut e, &Job { seed: 9, ..j.clone() }).unwrap());
    j.temperature = 1.0;
    let b = run(&mut e, &j).unwrap();
    assert_eq!(b, run(&mut e, &j).unwrap());
    assert_ne!(b, run(&mut e, &Job { seed: 9, ..j }).unwrap());
}

#[test]
fn groove_humanizes_keeping_hits() {
    let mut e = engine_with("groove_vae");
    let input = drums_a();
    let j = Job { variations: 2, inputs: vec![input.clone()], ..job(Tool::Groove, Mode::Drums) };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 2);
    let want: Vec<(u8, u32)> = {
        let q = cadenza_music::quantize_clip(&input).unwrap();
        let mut v: Vec<_> = q.notes.iter().map(|n| (n.pitch, n.start / 120)).collect();
        v.sort();
        v
    };
    for c in &out.clips {
        check_clip_basics(c, 4, true);
        let mut got: Vec<_> = c.notes.iter().map(|n| (n.pitch, (n.start + 60) / 120)).collect();
        got.sort();
        assert_eq!(got, want, "same hits on the same steps");
        assert!(c.notes.iter().any(|n| n.start % 120 != 0), "timing humanized");
        assert!(c.notes.iter().any(|n| n.velocity != 100), "velocity humanized");
    }
    let g0 = run(&mut e, &Job { temperature: 0.0, ..j.clone() }).unwrap();
    assert_eq!(g0, run(&mut e, &Job { temperature: 0.0, seed: 3, ..j.clone() }).unwrap());
    assert_eq!(out, run(&mut e, &j).unwrap());
    assert_ne!(out, run(&mut e, &Job { seed: 3, ..j }).unwrap());
}
