//! Quality (best-of-N, `cadenza_engine::best_of`) on the real models: the requested number of
//! clips, reproducible per seed, different from quality 1, and better by the engine's own musical
//! score.

mod common;

use cadenza_engine::best_of::{musical_score, Target};
use cadenza_engine::{Job, Mode, Tool, MAX_QUALITY};
use common::*;

fn drum_job(tool: Tool, quality: usize) -> Job {
    Job { tool, mode: Mode::Drums, variations: 8, bars: 4, humanize: false, quality, seed: 11, ..Job::default() }
}

fn mean_score(clips: &[cadenza_music::Clip], target: &Target) -> f32 {
    let s: f32 = clips
        .iter()
        .map(|c| {
            let t: Vec<i64> = drum_tokens(c).into_iter().map(i64::from).collect();
            musical_score(&t, target)
        })
        .sum();
    s / clips.len() as f32
}

#[test]
fn generate_quality_keeps_count_and_scores_higher() {
    let mut e = engine_with("drum_vae");
    let one = run(&mut e, &drum_job(Tool::Generate, 1)).unwrap();
    let eight = run(&mut e, &drum_job(Tool::Generate, MAX_QUALITY)).unwrap();
    assert_eq!(one.clips.len(), 8);
    assert_eq!(eight.clips.len(), 8);
    for c in &eight.clips {
        check_clip_basics(c, 4, true);
    }
    // the same seed gives the same set
    let again = run(&mut e, &drum_job(Tool::Generate, MAX_QUALITY)).unwrap();
    let shapes = |o: &cadenza_engine::Output| o.clips.iter().map(shape).collect::<Vec<_>>();
    assert_eq!(shapes(&eight), shapes(&again));
    assert_ne!(shapes(&one), shapes(&eight));
    // no two results are the same clip
    let s = shapes(&eight);
    for i in 0..s.len() {
        for j in i + 1..s.len() {
            assert_ne!(s[i], s[j], "results {i} and {j} are the same");
        }
    }
    let target = Target::data(Mode::Drums, None);
    let (a, b) = (mean_score(&one.clips, &target), mean_score(&eight.clips, &target));
    assert!(b > a, "quality 8 mean musical score {b} should beat quality 1's {a}");
}

#[test]
fn continue_and_interpolate_take_quality() {
    let mut e = engine_with("drum_rnn");
    let j = Job { inputs: vec![drums_a()], bars: 2, continuation_only: true, ..drum_job(Tool::Continue, 4) };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 8);
    let mut e = engine_with("drum_vae");
    let j = Job { inputs: vec![drums_a(), drums_b()], interp_steps: 5, ..drum_job(Tool::Interpolate, 4) };
    let out = run(&mut e, &j).unwrap();
    assert_eq!(out.clips.len(), 5);
    // the endpoints are still the inputs as given
    assert_eq!(shape(&out.clips[0]), shape(&drums_a().window(0, out.clips[0].bars).unwrap()));
}

#[test]
fn quality_out_of_range_is_refused() {
    for q in [0, MAX_QUALITY + 1] {
        let j = Job { quality: q, ..drum_job(Tool::Generate, 1) };
        let err = j.validate().unwrap_err().to_string();
        assert!(err.contains("quality"), "{err}");
    }
}
