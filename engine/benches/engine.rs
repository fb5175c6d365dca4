//! Criterion benchmarks of the five tools on the real models, one core (sessions use one
//! intra-op thread; nothing else runs). Targets (issue 5): Continue 8 variations × 2 bars ≤ 5 ms,
//! Generate 16 × 4 bars ≤ 10 ms, Interpolate 16 steps ≤ 10 ms, Drumify 4 bars ≤ 3 ms,
//! Groove 4 bars ≤ 3 ms. `batched_vs_unbatched` compares one batch of N variations with N jobs
//! of one variation; `quality` runs the budgeted jobs at Quality 1×, 4× and 8× (best-of-N).
//!
//! A tool whose model is not in `models/manifest.json` yet is skipped with a note on stderr.
//! `cargo bench -p cadenza-engine --bench engine`

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use cadenza_engine::manifest::Manifest;
use cadenza_engine::{Engine, EngineConfig, Job, Mode, Tool};
use cadenza_music::{Clip, Note, TimeSignature};
use criterion::{criterion_group, criterion_main, Criterion};

fn note(pitch: u8, step: u32, len: u32, channel: u8) -> Note {
    Note { pitch, velocity: 90, start: step * 120, end: (step + len) * 120, channel }
}

fn melody(bars: u16, shift: i8) -> Clip {
    let pitches = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 67, 64, 60, 60];
    let mut c = Clip::new(bars, TimeSignature::FOUR_FOUR, false);
    for b in 0..bars as u32 {
        for (i, &p) in pitches.iter().enumerate() {
            if (i as u32) < 8 {
                c.notes.push(note((p as i8 + shift) as u8, b * 16 + i as u32 * 2, 2, 0));
            }
        }
    }
    c.sort();
    c
}

fn beat(bars: u16) -> Clip {
    let mut c = Clip::new(bars, TimeSignature::FOUR_FOUR, true);
    for s in 0..bars as u32 * 16 {
        if s % 2 == 0 {
            c.notes.push(note(42, s, 1, 9));
        }
        if s % 8 == 0 {
            c.notes.push(note(36, s, 1, 9));
        }
        if s % 8 == 4 {
            c.notes.push(note(38, s, 1, 9));
        }
    }
    c.sort();
    c
}

fn available(config: &EngineConfig, model: &str) -> bool {
    let ok = Manifest::load(&config.models_dir).is_ok_and(|m| m.models.contains_key(model));
    if !ok {
        eprintln!("skipped: model {model} is not in {}/manifest.json yet", config.models_dir.display());
    }
    ok
}

fn bench_job(c: &mut Criterion, engine: &mut Engine, name: &str, job: &Job) {
    let cancel = AtomicBool::new(false);
    // Load the sessions outside the measurement.
    engine.run(job, &mut |_| {}, &cancel).expect("job runs");
    c.bench_function(name, |b| b.iter(|| engine.run(job, &mut |_| {}, &cancel).unwrap()));
}

fn tools(c: &mut Criterion) {
    let config = EngineConfig::discover();
    let mut engine = Engine::new(config.clone());
    if available(&config, "melody_rnn") {
        let job = Job {
            tool: Tool::Continue,
            mode: Mode::Melody,
            variations: 8,
            bars: 2,
            inputs: vec![melody(2, 0)],
            ..Job::default()
        };
        bench_job(c, &mut engine, "continue_melody_8x2bars", &job);
    }
    if available(&config, "drum_rnn") {
        let job = Job {
            tool: Tool::Continue,
            mode: Mode::Drums,
            variations: 8,
            bars: 2,
            inputs: vec![beat(2)],
            ..Job::default()
        };
        bench_job(c, &mut engine, "continue_drums_8x2bars", &job);
    }
    for (model, mode) in [("melody_vae", Mode::Melody), ("drum_vae", Mode::Drums)] {
        if !available(&config, model) {
            continue;
        }
        let job = Job { tool: Tool::Generate, mode, variations: 16, bars: 4, ..Job::default() };
        bench_job(c, &mut engine, &format!("generate_{model}_16x4bars"), &job);
        // Greedy: the same model runs without softmax sampling (shows the sampler's share).
        let greedy = Job { temperature: 0.0, ..job };
        bench_job(c, &mut engine, &format!("generate_{model}_16x4bars_greedy"), &greedy);
        let inputs = match mode {
            Mode::Melody => vec![melody(4, 0), melody(4, 12)],
            Mode::Drums => vec![beat(4), beat(2)],
        };
        let job = Job { tool: Tool::Interpolate, mode, interp_steps: 16, inputs, ..Job::default() };
        bench_job(c, &mut engine, &format!("interpolate_{model}_16steps"), &job);
    }
    if available(&config, "groove_vae") {
        let job = Job { tool: Tool::Drumify, variations: 1, inputs: vec![melody(4, 0)], ..Job::default() };
        bench_job(c, &mut engine, "drumify_4bars", &job);
        let job = Job { tool: Tool::Groove, variations: 1, inputs: vec![beat(4)], ..Job::default() };
        bench_job(c, &mut engine, "groove_4bars", &job);
    }
}

/// One job with N variations (one batch) against N jobs with one variation each.
fn batched_vs_unbatched(c: &mut Criterion) {
    let config = EngineConfig::discover();
    let mut engine = Engine::new(config.clone());
    let cancel = AtomicBool::new(false);
    let mut cases = Vec::new();
    if available(&config, "melody_rnn") {
        cases.push((
            "continue_melody_8x2bars",
            Job {
                tool: Tool::Continue,
                mode: Mode::Melody,
                variations: 8,
                bars: 2,
                inputs: vec![melody(2, 0)],
                ..Job::default()
            },
        ));
    }
    if available(&config, "melody_vae") {
        cases.push((
            "generate_melody_16x4bars",
            Job { tool: Tool::Generate, mode: Mode::Melody, variations: 16, bars: 4, ..Job::default() },
        ));
    }
    for (name, job) in cases {
        engine.run(&job, &mut |_| {}, &cancel).unwrap();
        let mut group = c.benchmark_group(format!("batching/{name}"));
        group.bench_function("batched", |b| b.iter(|| engine.run(&job, &mut |_| {}, &cancel).unwrap()));
        let single = Job { variations: 1, ..job.clone() };
        group.bench_function("unbatched", |b| {
            b.iter(|| {
                for i in 0..job.variations {
                    engine.run(&Job { seed: i as u64, ..single.clone() }, &mut |_| {}, &cancel).unwrap();
                }
            })
        });
        group.finish();
    }
}

/// Quality (best-of-N): the budgeted jobs at 1×, 4× and 8× candidates per clip.
fn quality(c: &mut Criterion) {
    let config = EngineConfig::discover();
    let mut engine = Engine::new(config.clone());
    let mut cases = Vec::new();
    if available(&config, "drum_rnn") {
        cases.push((
            "continue_drums_8x2bars",
            Job {
                tool: Tool::Continue,
                mode: Mode::Drums,
                variations: 8,
                bars: 2,
                inputs: vec![beat(2)],
                ..Job::default()
            },
        ));
    }
    if available(&config, "melody_rnn") {
        cases.push((
            "continue_melody_8x2bars",
            Job {
                tool: Tool::Continue,
                mode: Mode::Melody,
                variations: 8,
                bars: 2,
                inputs: vec![melody(2, 0)],
                ..Job::default()
            },
        ));
    }
    for (model, mode) in [("melody_vae", Mode::Melody), ("drum_vae", Mode::Drums)] {
        if !available(&config, model) {
            continue;
        }
        cases.push((
            if mode == Mode::Drums { "generate_drum_vae_16x4bars" } else { "generate_melody_vae_16x4bars" },
            Job { tool: Tool::Generate, mode, variations: 16, bars: 4, ..Job::default() },
        ));
        let inputs = match mode {
            Mode::Melody => vec![melody(4, 0), melody(4, 12)],
            Mode::Drums => vec![beat(4), beat(2)],
        };
        cases.push((
            if mode == Mode::Drums { "interpolate_drum_vae_16steps" } else { "interpolate_melody_vae_16steps" },
            Job { tool: Tool::Interpolate, mode, interp_steps: 16, inputs, ..Job::default() },
        ));
    }
    let cancel = AtomicBool::new(false);
    for (name, job) in cases {
        let mut group = c.benchmark_group(format!("quality/{name}"));
        group.sample_size(10);
        for q in [1, 4, 8] {
            let job = Job { quality: q, ..job.clone() };
            engine.run(&job, &mut |_| {}, &cancel).expect("job runs");
            group.bench_function(format!("{q}x"), |b| b.iter(|| engine.run(&job, &mut |_| {}, &cancel).unwrap()));
        }
        group.finish();
    }
}

/// The sampler alone: one step of 16 rows over the 512 drum tokens.
fn sampler(c: &mut Criterion) {
    use cadenza_engine::sampling::{sample_rows, Pcg32};
    let mut r = Pcg32::new(1, 1);
    let logits: Vec<f32> = (0..16 * 512).map(|_| (r.next_normal() * 3.0) as f32).collect();
    let mut rngs: Vec<Pcg32> = (0..16).map(|i| Pcg32::new(2, i)).collect();
    let mut out = vec![0i64; 16];
    c.bench_function("sample_rows_16x512_t1", |b| b.iter(|| sample_rows(&logits, 512, 1.0, None, &mut rngs, &mut out)));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = sampler, tools, batched_vs_unbatched, quality
}
criterion_main!(benches);
