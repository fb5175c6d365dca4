//! The one preprocessing path (spec `preprocessing`): what happens to a clip between the user
//! and the encoder, step by step. The engine calls this for every model input, and the Python
//! training code (`cadenza_train/preprocess.py`) runs the same steps for every training and
//! validation window, so the models see at inference what they were trained on. The golden cases
//! `models/spec/golden/preprocess_*.json` hold the notes after every step for both languages.
//!
//! Melody: [`trim_legato`] (ticks, whole clip) → [`quantize`] (whole clip) → window (steps) →
//! fit_range (one octave shift for the whole input, then folding) → [`skyline`] → tokens.
//! Drums: quantize → window → map_drums (the drum map's nine classes) → tokens.
//!
//! Each step reports what it changed or left out ([`PrepReport`]) so the caller can tell the user.

use crate::clip::{Clip, Note, Tick};
use crate::drum_map::DrumMap;
use crate::drums::encode_drums_quantized;
use crate::error::Result;
use crate::legato::trim_legato;
use crate::melody::{skyline, skyline_tokens, SkylineNote};
use crate::quantize::{quantize, Quantized, QuantizedNote};
use crate::spec::{MELODY_MAX_PITCH, MELODY_MIN_PITCH, STEPS_PER_BAR};
use crate::transpose::{best_octave_shift, fold_pitch};

/// `trim_legato.max_overlap_ticks`: overlaps up to two 16ths are legato playing, not polyphony.
pub const LEGATO_MAX_OVERLAP_TICKS: Tick = 240;

/// The step names of `preprocessing.melody`, in order.
pub const MELODY_STEPS: [&str; 6] = ["trim_legato", "quantize", "window", "fit_range", "skyline", "encode"];

/// The step names of `preprocessing.drums`, in order.
pub const DRUM_STEPS: [&str; 4] = ["quantize", "window", "map_drums", "encode"];

/// The model input cut from a quantized clip (step `window`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The whole clip (Continue; the language models' training songs).
    Whole,
    /// `bars` bars from bar `start` (0-based) of the clip; past the clip's end it is silence.
    Bars { start: u16, bars: u16 },
}

impl Window {
    /// Notes whose onset step lies in the window, renumbered from 0, ends clamped to its end.
    pub fn cut(self, q: &Quantized) -> Quantized {
        match self {
            Window::Whole => q.clone(),
            Window::Bars { start, bars } => {
                let mut w = q.window(start as u32 * STEPS_PER_BAR, bars as u32 * STEPS_PER_BAR);
                w.dropped_past_end = q.dropped_past_end;
                w
            }
        }
    }
}

/// What each step changed or left out. `outside_window` counts notes of the clip that belong to
/// other bars (not a loss the user needs to hear about when they asked for those bars).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrepReport {
    /// trim_legato: notes whose end was moved back to the next onset.
    pub trimmed: usize,
    /// quantize: notes whose onset step is at or past the clip end.
    pub past_end: usize,
    /// window: quantized notes outside the window.
    pub outside_window: usize,
    /// fit_range: the whole-input octave shift (undo it after decoding).
    pub shift: i32,
    /// fit_range: notes still outside the range after the shift, moved by octaves on their own.
    pub folded: usize,
    /// skyline: notes left out of the top line.
    pub polyphony: usize,
    /// map_drums: notes on pitches the drum map does not know.
    pub unmapped: usize,
}

/// The notes after each melody step (for the golden cases and for diagnostics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MelodyStages {
    pub trim_legato: Clip,
    pub quantize: Quantized,
    pub window: Quantized,
    pub fit_range: Quantized,
    pub skyline: Vec<SkylineNote>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedMelody {
    /// One token per step of the window.
    pub tokens: Vec<u8>,
    pub report: PrepReport,
    pub stages: MelodyStages,
}

/// The notes after each drum step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrumStages {
    pub quantize: Quantized,
    pub window: Quantized,
    /// The mapped hits with their class.
    pub map_drums: Vec<(QuantizedNote, usize)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedDrums {
    pub tokens: Vec<u16>,
    pub report: PrepReport,
    pub stages: DrumStages,
}

/// Step `fit_range` with a given shift: every pitch moved by `shift`, then each one still outside
/// 21..=108 moved by whole octaves into it. Returns the notes and how many were folded.
pub fn fit_range(q: &Quantized, shift: i32) -> (Quantized, usize) {
    let mut out = q.clone();
    let mut folded = 0;
    for n in &mut out.notes {
        let (p, moved) = fold_pitch(n.pitch, shift, MELODY_MIN_PITCH, MELODY_MAX_PITCH);
        n.pitch = p;
        folded += moved as usize;
    }
    (out, folded)
}

/// The `fit_range` shift for one model input made of `windows` (Interpolate: A and B together).
pub fn range_shift(windows: &[&Quantized]) -> i32 {
    best_octave_shift(windows.iter().flat_map(|w| w.notes.iter().map(|n| n.pitch)), MELODY_MIN_PITCH, MELODY_MAX_PITCH)
}

/// Runs `preprocessing.melody` on the inputs of one job: every clip is trimmed, quantized and cut
/// to `window`; one octave shift is chosen over all the windows (so outputs between them, like
/// Interpolate's, share it), then each window is folded into range, reduced to its top line and
/// encoded. Errors: a clip that is not 4/4.
pub fn preprocess_melody(inputs: &[&Clip], window: Window) -> Result<Vec<PreparedMelody>> {
    let mut cut = Vec::with_capacity(inputs.len());
    for clip in inputs {
        let (trimmed_clip, trimmed) = trim_legato(clip, LEGATO_MAX_OVERLAP_TICKS);
        let q = quantize(&trimmed_clip)?;
        let w = window.cut(&q);
        cut.push((trimmed_clip, trimmed, q, w));
    }
    let shift = range_shift(&cut.iter().map(|c| &c.3).collect::<Vec<_>>());
    Ok(cut
        .into_iter()
        .map(|(trimmed_clip, trimmed, q, w)| {
            let (fitted, folded) = fit_range(&w, shift);
            let (kept, polyphony) = skyline(&fitted.notes);
            PreparedMelody {
                tokens: skyline_tokens(&kept, fitted.steps),
                report: PrepReport {
                    trimmed,
                    past_end: q.dropped_past_end,
                    outside_window: q.notes.len() - w.notes.len(),
                    shift,
                    folded,
                    polyphony,
                    unmapped: 0,
                },
                stages: MelodyStages {
                    trim_legato: trimmed_clip,
                    quantize: q,
                    window: w,
                    fit_range: fitted,
                    skyline: kept,
                },
            }
        })
        .collect())
}

/// Runs `preprocessing.drums` on one clip with the (user's) drum map. Errors: not 4/4.
pub fn preprocess_drums(clip: &Clip, map: &DrumMap, window: Window) -> Result<PreparedDrums> {
    let q = quantize(clip)?;
    let w = window.cut(&q);
    let mapped: Vec<(QuantizedNote, usize)> =
        w.notes.iter().filter_map(|n| map.class_of(n.pitch).map(|c| (*n, c))).collect();
    let enc = encode_drums_quantized(&w, map);
    Ok(PreparedDrums {
        tokens: enc.tokens,
        report: PrepReport {
            past_end: q.dropped_past_end,
            outside_window: q.notes.len() - w.notes.len(),
            unmapped: enc.dropped.unmapped,
            ..PrepReport::default()
        },
        stages: DrumStages { quantize: q, window: w, map_drums: mapped },
    })
}

/// A grid note as the golden files write it: `[pitch, velocity, step, end_step, channel]`.
pub fn grid_row(n: &QuantizedNote) -> [u32; 5] {
    [n.pitch as u32, n.velocity as u32, n.step, n.end_step, n.channel as u32]
}

/// Grid notes in the golden files' order: (step, pitch, end_step, channel, velocity).
pub fn grid_rows(notes: &[QuantizedNote]) -> Vec<[u32; 5]> {
    let mut rows: Vec<[u32; 5]> = notes.iter().map(grid_row).collect();
    rows.sort_by_key(|r| (r[2], r[0], r[3], r[4], r[1]));
    rows
}

/// A clip's notes as the golden files write them: `[pitch, velocity, start, end, channel]` in
/// clip order (start, pitch, end, channel, velocity).
pub fn tick_rows(notes: &[Note]) -> Vec<[u32; 5]> {
    let mut rows: Vec<[u32; 5]> =
        notes.iter().map(|n| [n.pitch as u32, n.velocity as u32, n.start, n.end, n.channel as u32]).collect();
    rows.sort_by_key(|r| (r[2], r[0], r[3], r[4], r[1]));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clip::TimeSignature;
    use crate::spec::Spec;

    fn n(pitch: u8, start: Tick, end: Tick) -> Note {
        Note { pitch, velocity: 90, start, end, channel: 0 }
    }

    fn clip(bars: u16, notes: Vec<Note>) -> Clip {
        let mut c = Clip::new(bars, TimeSignature::FOUR_FOUR, false);
        c.notes = notes;
        c.sort();
        c
    }

    #[test]
    fn spec_lists_these_steps() {
        let p = &Spec::embedded().preprocessing;
        let names = |steps: &[crate::spec::PrepStep]| steps.iter().map(|s| s.step.clone()).collect::<Vec<_>>();
        assert_eq!(names(&p.melody), MELODY_STEPS);
        assert_eq!(names(&p.drums), DRUM_STEPS);
        let param = |name: &str, key: &str| {
            p.melody.iter().find(|s| s.step == name).and_then(|s| s.params.get(key)).and_then(|v| v.as_i64())
        };
        assert_eq!(param("trim_legato", "max_overlap_ticks"), Some(LEGATO_MAX_OVERLAP_TICKS as i64));
        assert_eq!(param("fit_range", "min_pitch"), Some(MELODY_MIN_PITCH as i64));
        assert_eq!(param("fit_range", "max_pitch"), Some(MELODY_MAX_PITCH as i64));
        assert_eq!(param("quantize", "ticks_per_step"), Some(120));
        // best_octave_shift searches k * 12 for k in -10..=10.
        let shifts = p.melody.iter().find(|s| s.step == "fit_range").unwrap().params["octave_shifts"].clone();
        assert_eq!(shifts, serde_json::json!([-10, 10]));
    }

    #[test]
    fn legato_line_keeps_its_notes() {
        // A falling line played legato: without the trim the skyline drops 70 and 67.
        let c = clip(1, vec![n(72, 0, 560), n(70, 480, 1020), n(67, 960, 1440)]);
        let p = &preprocess_melody(&[&c], Window::Whole).unwrap()[0];
        assert_eq!((p.report.trimmed, p.report.polyphony), (2, 0));
        assert_eq!(p.stages.skyline.len(), 3);
        assert_eq!(p.tokens[0], 72 - 21 + 2);
        assert_eq!(p.tokens[4], 70 - 21 + 2);
        assert_eq!(p.tokens[8], 67 - 21 + 2);
        assert_eq!(p.tokens[12], 1);
    }

    #[test]
    fn one_shift_for_both_inputs() {
        let high = clip(1, vec![n(110, 0, 480), n(115, 480, 960)]);
        let low = clip(1, vec![n(22, 0, 480), n(24, 480, 960)]);
        let alone = preprocess_melody(&[&high], Window::Whole).unwrap();
        assert_eq!((alone[0].report.shift, alone[0].report.folded), (-12, 0));
        // Together -12 and 0 both leave two notes outside: no shift, the two high notes fold.
        let both = preprocess_melody(&[&high, &low], Window::Whole).unwrap();
        assert!(both.iter().all(|p| p.report.shift == 0));
        assert_eq!((both[0].report.folded, both[1].report.folded), (2, 0));
        assert_eq!(both[0].stages.fit_range.notes[0].pitch, 98);
    }

    #[test]
    fn window_on_the_grid() {
        // 2 bars; window = bar 2. 59 ticks before its downbeat quantizes onto it.
        let c = clip(2, vec![n(60, 0, 3000), n(62, 1861, 2000), n(64, 3780, 3840)]);
        let p = &preprocess_melody(&[&c], Window::Bars { start: 1, bars: 1 }).unwrap()[0];
        let w = &p.stages.window;
        assert_eq!(w.steps, 16);
        assert_eq!(grid_rows(&w.notes), vec![[62, 90, 0, 1, 0]]);
        // 64 quantizes to step 32 = past the clip end.
        assert_eq!((p.report.past_end, p.report.outside_window), (1, 1));
    }

    #[test]
    fn drums_report_unmapped() {
        let mut c = clip(1, vec![n(36, 0, 60), n(90, 0, 60), n(42, 120, 180)]);
        c.is_drum = true;
        let p = preprocess_drums(&c, &DrumMap::default(), Window::Whole).unwrap();
        assert_eq!(p.report.unmapped, 1);
        assert_eq!(&p.tokens[..2], &[1, 4]);
        assert_eq!(p.stages.map_drums.len(), 2);
    }
}
