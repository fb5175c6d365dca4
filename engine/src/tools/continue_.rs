//! Continue: prime the language model on input A, then sample `bars` more bars for all
//! variations as one batch.

use cadenza_music::{Clip, DrumMap, Note, Window};

use crate::error::EngineError;
use crate::job::{Job, Mode, Output};
use crate::models::{Lm, Progress};
use crate::prepare::{self, steps_of_bars};
use crate::tools::{purpose, rngs};

/// The RNN is primed on at most this many bars at the end of the input.
pub const MAX_PRIMER_BARS: u16 = 32;

pub(crate) fn run(
    lm: &mut Lm,
    job: &Job,
    report: &mut dyn FnMut(f32),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Output, EngineError> {
    let input = &job.inputs[0];
    prepare::check_clip(input, "the input clip")?;
    let mut warnings = Vec::new();
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
    let mask = match (job.mode, &job.key) {
        (Mode::Melody, Some(key)) => Some(prepare::key_mask(key, lm.vocab)),
        _ => None,
    };
    let mut rngs = rngs(job.seed, purpose::CONTINUE, job.variations);
    let mut progress = Progress::new(primer.len() + steps, report, cancel);
    let seqs = lm.continue_batch(
        primer,
        steps,
        job.temperature,
        mask.as_deref(),
        &mut rngs,
        &mut progress,
    )?;

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
                let crossing = full
                    .notes
                    .iter()
                    .find(|n| n.start < boundary && n.end > boundary)
                    .copied();
                let notes = prepare::notes_from(&full, boundary, 0)
                    .into_iter()
                    .map(|n| Note { channel, ..n })
                    .collect();
                (notes, crossing)
            }
            Mode::Drums => (prepare::drum_clip(&seq, &map)?.notes, None),
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
                if let Some(n) = c
                    .notes
                    .iter_mut()
                    .filter(|n| n.pitch == x.pitch && n.start < boundary)
                    .max_by_key(|n| n.start)
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
        clip.sort();
        clips.push(clip);
    }
    Ok(Output { clips, warnings })
}
