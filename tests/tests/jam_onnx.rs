//! Jam with the real models (issue 15): temperature automation, read when each answer is
//! requested, shapes the answers over the song. Needs ONNX Runtime and the committed models
//! (see tests/tests/onnx_engine.rs).

use std::time::{Duration, Instant};

use cadenza::messages::WorkerEvent;
use cadenza::music::{encode_melody, Clip};
use cadenza::params::JamTrigger;
use cadenza_tests::{note_off, note_on, set_param, Host};

/// Shannon entropy (bits) of an answer's melody tokens (one token per 16th step: note-on
/// pitch, hold or rest; see models/spec/encoding.json).
fn token_entropy(clip: &Clip) -> f64 {
    let tokens = encode_melody(clip).expect("a melody answer encodes").tokens;
    let mut counts = std::collections::HashMap::new();
    for token in &tokens {
        *counts.entry(*token).or_insert(0usize) += 1;
    }
    let n = tokens.len() as f64;
    counts.values().map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum()
}

#[test]
fn a_temperature_ramp_over_32_bars_makes_the_answers_wilder() {
    let mut host = Host::new_onnx(48_000.0);
    let params = host.plugin.params_arc().clone();
    set_param(&params.jam, true);
    set_param(&params.jam_trigger, JamTrigger::EveryBars);
    set_param(&params.jam_bars, 2);
    set_param(&params.capture_bars, 2);
    host.playing = true;
    let spb = host.samples_per_beat();
    let bars = 32.0;
    // The same phrase in every call turn (bars 1–2, 5–6, …).
    let phrase = [(0.0, 60), (1.0, 64), (2.0, 67), (3.0, 64), (4.0, 62), (5.0, 65), (6.0, 67), (7.0, 60)];
    let mut events = Vec::new();
    for turn in 0..8 {
        for &(beat, pitch) in &phrase {
            let at = turn as f64 * 16.0 + beat;
            events.push((((at) * spb).round() as i64, note_on(pitch, 90)));
            events.push((((at + 0.75) * spb).round() as i64, note_off(pitch)));
        }
    }
    let block = 512usize;
    let end = (bars * 4.0 * spb) as i64;
    let mut answers = Vec::new();
    while host.pos_samples < end {
        let start = host.pos_samples;
        // Temperature automation: a ramp from 0 to 2 across the 32 bars.
        set_param(&params.temperature, (2.0 * start as f64 / end as f64) as f32);
        let input: Vec<_> = events
            .iter()
            .filter(|(t, _)| (start..start + block as i64).contains(t))
            .map(|(t, e)| ((t - start) as usize, *e))
            .collect();
        host.run(block, block, &input);
        let deadline = Instant::now() + Duration::from_secs(30);
        while host.plugin.editor_end().jobs_in_flight() > 0 {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_micros(200));
        }
        while let Some(event) = host.plugin.editor_end().next_event() {
            if let WorkerEvent::JamAnswered { answer, .. } = event {
                answers.push(answer);
            }
        }
    }
    std::thread::sleep(Duration::from_millis(50));
    while let Some(event) = host.plugin.editor_end().next_event() {
        if let WorkerEvent::JamAnswered { answer, .. } = event {
            answers.push(answer);
        }
    }
    assert_eq!(host.process_allocations, 0);
    // The last answer may hold a note to its final bar line, which is the first sample after
    // the loop: one more block (bar 33 is a call turn, so nothing new starts) lets it end.
    host.run(block, block, &[]);
    assert_eq!(host.process_allocations, 0);
    assert!(host.hanging_notes().is_empty(), "{:?}", host.hanging_notes());
    let entropies: Vec<f64> = answers.iter().map(token_entropy).collect();
    println!("answer token entropies (bits), temperature rising 0 → 2: {entropies:.2?}");
    assert!(entropies.len() >= 7, "an answer for (nearly) every call turn: {}", entropies.len());
    let third = entropies.len() / 3;
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let (tame, wild) = (mean(&entropies[..third]), mean(&entropies[entropies.len() - third..]));
    assert!(wild > tame + 0.3, "entropy must rise with temperature: first third {tame:.2}, last third {wild:.2}");
}
