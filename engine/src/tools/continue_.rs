//! Continue: prime the language model on input A, then sample `bars` more bars for all
//! variations as one batch.
//!
//! Where the continuation goes: right after the input's music. An input that ends two or more
//! whole bars after its last note (a DAW loop region longer than the phrase) is primed on the
//! bars that hold the music, and the new bars follow them (`common::music_bars`); "input +
//! continuation" is then those bars as played plus the new ones. A shorter closing rest is
//! phrasing and the continuation starts after it, at the input's end.
//!
//! The new notes take the input's dynamics ([`Dynamics`]) and, for drums, its kit pieces
//! ([`Kit`]); with Humanize on, drum continuations go through the Groove model (the input's own
//! bars stay as played). A variation with no new notes (or one held note) is made again at a
//! slightly higher temperature, and the warnings say so.

use cadenza_music::{Clip, DrumMap, Note, Window};

use crate::best_of;
use crate::dynamics::Dynamics;
use crate::error::EngineError;
use crate::job::{Job, Mode, Output};
use crate::kit::Kit;
use crate::models::{GrooveNet, Lm, Progress};
use crate::prepare::{self, steps_of_bars};
use crate::sampling::Pcg32;
use crate::tools::{common, groove, purpose, rngs};

/// The RNN is primed on at most this many bars at the end of the input.
pub const MAX_PRIMER_BARS: u16 = 32;

pub(crate) fn run(
    lm: &mut Lm,
    humanizer: Option<&mut GrooveNet>,
    job: &Job,
    report: &mut dyn FnMut(f32),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Output, EngineError> {
    let played = &job.inputs[0];
    prepare::check_clip(played, "the input clip")?;
    let mut warnings = Vec::new();
    // Prime on the music, not on a long silent tail.
    let music = common::music_bars(played);
    let trimmed;
    let input = if music < played.bars {
        warnings.push(format!(
            "the input's last {} bars are silent: Cadenza continued from bar {}, right after the \
             music (the silent bars were left out)",
            played.bars - music,
            music + 1
        ));
        trimmed = Clip { bars: music, ..played.clone() };
        &trimmed
    } else {
        played
    };
    let map = DrumMap::default();
    let (tokens, shift) = match job.mode {
        Mode::Melody => {
            let p = prepare::melody_inputs(&[(input, "the input")], Window::Whole, &mut warnings)?;
            (prepare::ids(&p[0].tokens), p[0].report.shift)
        }
        Mode::Drums => {
            let p = prepare::drum_input(input, &map, Window::Whole, "the input", &mut warnings)?;
            (prepare::ids(&p.tokens), 0)
        }
    };
    if job.mode == Mode::Drums && tokens.iter().all(|&t| t == 0) {
        return Err(EngineError::EmptyInput(
            "the input has no notes the drum map knows (kick, snare, hats, toms, cymbals)".into(),
        ));
    }
    let primer_len = tokens.len().min(steps_of_bars(MAX_PRIMER_BARS));
    let primer = &tokens[tokens.len() - primer_len..];
    let steps = steps_of_bars(job.bars);
    let (mask, detected_key) = common::melody_key(job, &[input], lm.vocab);
    // Quality: `q` candidates per variation in one batch, the best kept (crate::best_of).
    let q = best_of::candidates_per_clip(job);
    let mut rngs = rngs(job.seed, purpose::CONTINUE, job.variations * q);
    let mut progress = Progress::new(primer.len() + steps, report, cancel);
    lm.scoring = q > 1;
    let seqs = lm.continue_batch(primer, steps, job.temperature, mask.as_deref(), &mut rngs, &mut progress)?;
    lm.scoring = false;
    let loglik = std::mem::take(&mut lm.loglik);
    let target = best_of::Target::like(job.mode, &[primer], mask.as_deref());
    let mut seqs = best_of::choose(seqs, &loglik, job.variations, &target);
    common::remake_empty(
        &mut seqs,
        job.temperature,
        |s| common::is_empty_output(s, job.mode),
        |which, t, retry, force| {
            let mut rngs: Vec<Pcg32> =
                which.iter().map(|&i| Pcg32::for_variation(job.seed, purpose::RESAMPLE + retry as u64, i)).collect();
            lm.force = force.then(|| common::forced_onsets(job.mode, lm.vocab, mask.as_deref()));
            let out = lm.continue_batch(primer, steps, t, mask.as_deref(), &mut rngs, &mut progress);
            lm.force = None;
            out
        },
        |i| i,
        &mut warnings,
    )?;
    let dynamics = match job.mode {
        Mode::Melody => Dynamics::learn_melody(&[input]),
        Mode::Drums => Dynamics::learn_drums(&[input], &map),
    }
    .unwrap_or_else(|| match job.mode {
        Mode::Melody => Dynamics::default_melody(),
        Mode::Drums => Dynamics::default_drums(),
    });
    let kit = match job.mode {
        Mode::Drums => Kit::learn(&[input], &map),
        Mode::Melody => Kit::gm(),
    };

    let boundary = input.length_ticks();
    let channel = input.notes.first().map_or(0, |n| n.channel);
    let mut clips = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let (new_notes, crossing) = match job.mode {
            Mode::Melody => {
                // Decode input + continuation so a note held across the boundary stays one note.
                let mut all = tokens.clone();
                all.extend_from_slice(&seq);
                let full = prepare::melody_clip(&all, shift)?;
                let crossing = full.notes.iter().find(|n| n.start < boundary && n.end > boundary).copied();
                let notes =
                    prepare::notes_from(&full, boundary, 0).into_iter().map(|n| Note { channel, ..n }).collect();
                (notes, crossing)
            }
            Mode::Drums => {
                let notes = prepare::drum_clip(&seq, &map)?.notes.into_iter().map(|n| Note { channel, ..n }).collect();
                (notes, None)
            }
        };
        let clip = if job.continuation_only {
            let mut c = Clip::new(job.bars, input.time_signature, job.mode == Mode::Drums);
            c.notes = new_notes;
            c
        } else {
            let mut c = input.clone();
            c.bars = input.bars + job.bars;
            c.is_drum = job.mode == Mode::Drums;
            if let Some(x) = crossing {
                // Extend the input's last note of that pitch into the continuation.
                if let Some(n) =
                    c.notes.iter_mut().filter(|n| n.pitch == x.pitch && n.start < boundary).max_by_key(|n| n.start)
                {
                    n.end = n.end.max(x.end);
                }
            }
            c.notes.extend(new_notes.into_iter().map(|n| Note {
                start: n.start + boundary,
                end: n.end + boundary,
                ..n
            }));
            c
        };
        let mut clip = clip;
        let from = if job.continuation_only { 0 } else { boundary };
        let drum_map = (job.mode == Mode::Drums).then_some(&map);
        dynamics.apply(&mut clip, from, drum_map);
        kit.apply(&mut clip, from, &map);
        clip.sort();
        clips.push(clip);
    }
    if job.mode == Mode::Drums && job.humanize {
        if let Some(net) = humanizer {
            // Humanize with the input as context; the input's own bars stay as played.
            let mut full: Vec<Clip> = clips.iter().map(|c| with_input(c, input, boundary, job)).collect();
            let from = vec![boundary; full.len()];
            groove::humanize(net, &mut full, &from, job.temperature, job.seed)?;
            for (c, f) in clips.iter_mut().zip(full) {
                *c = if job.continuation_only {
                    let mut only = Clip::new(job.bars, c.time_signature, true);
                    only.notes = prepare::notes_from(&f, boundary, 0);
                    only
                } else {
                    f
                };
            }
        }
    }
    Ok(Output { clips, warnings, detected_key, continues_at: Some(boundary) })
}

/// A continuation-only result with the input in front (for Humanize's context).
fn with_input(clip: &Clip, input: &Clip, boundary: u32, job: &Job) -> Clip {
    if !job.continuation_only {
        return clip.clone();
    }
    let mut c = input.clone();
    c.bars = input.bars + job.bars;
    c.is_drum = true;
    c.notes.retain(|n| n.start < boundary);
    c.notes.extend(clip.notes.iter().map(|n| Note { start: n.start + boundary, end: n.end + boundary, ..*n }));
    c.sort();
    c
}
