//! Property tests: encoders never panic on arbitrary clips, quantized input round-trips exactly,
//! and MIDI export -> import is the identity. Case counts are modest so the suite stays fast.

use std::collections::HashMap;

use cadenza_music::spec::{GROOVE_FLOATS_PER_STEP, TICKS_PER_STEP};
use cadenza_music::{
    decode_drums, decode_groove, decode_melody, encode_drums, encode_groove, encode_melody, encode_tap, export_midi,
    import_midi, quantize_clip, transpose_into_range, Clip, DrumMap, ExportOptions, ImportOptions, Note, TimeSignature,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 96, ..ProptestConfig::default() }
}

fn any_time_signature() -> impl Strategy<Value = TimeSignature> {
    prop_oneof![
        4 => Just(TimeSignature::FOUR_FOUR),
        1 => (1u8..13, prop_oneof![Just(2u8), Just(4), Just(8), Just(16)])
            .prop_map(|(numerator, denominator)| TimeSignature { numerator, denominator }),
    ]
}

/// Anything a buggy caller could put in a clip.
fn arbitrary_clip() -> impl Strategy<Value = Clip> {
    let note = (any::<u8>(), any::<u8>(), any::<u32>(), any::<u32>(), any::<u8>())
        .prop_map(|(pitch, velocity, start, end, channel)| Note { pitch, velocity, start, end, channel });
    let small_note = (any::<u8>(), any::<u8>(), 0u32..8000, 0u32..8000, any::<u8>())
        .prop_map(|(pitch, velocity, start, end, channel)| Note { pitch, velocity, start, end, channel });
    (
        prop::collection::vec(prop_oneof![note, small_note], 0..40),
        prop_oneof![20 => 0u16..5, 1 => Just(200u16)],
        any_time_signature(),
        any::<bool>(),
    )
        .prop_map(|(notes, bars, time_signature, is_drum)| Clip { notes, bars, time_signature, is_drum })
}

/// A monophonic melody already on the grid: velocity 100, channel 0 (what decode produces).
fn grid_melody() -> impl Strategy<Value = Clip> {
    (1u16..5).prop_flat_map(|bars| {
        let steps = bars as u32 * 16;
        // (gap before the note, length, pitch) triples, laid out left to right.
        prop::collection::vec((0u32..4, 1u32..8, 21u8..=108), 0..24).prop_map(move |parts| {
            let mut clip = Clip::new(bars, TimeSignature::FOUR_FOUR, false);
            let mut at = 0;
            for (gap, len, pitch) in parts {
                let start = at + gap;
                if start >= steps {
                    break;
                }
                let end = (start + len).min(steps);
                clip.notes.push(Note { pitch, velocity: 100, start: start * 120, end: end * 120, channel: 0 });
                at = end;
            }
            clip
        })
    })
}

/// A valid clip (what export accepts) with no nested same-pitch notes (what MIDI can express).
fn exportable_clip() -> impl Strategy<Value = Clip> {
    (0u16..6, any_time_signature()).prop_flat_map(|(bars, ts)| {
        let len = ts.ticks_per_bar() * bars as u32;
        let notes = if len == 0 {
            Just(Vec::new()).boxed()
        } else {
            prop::collection::vec((0u8..128, 1u8..128, 0..len, 1..=len, 0u8..16), 0..40)
                .prop_map(move |raw| {
                    raw.into_iter()
                        .map(|(pitch, velocity, start, l, channel)| Note {
                            pitch,
                            velocity,
                            start,
                            end: (start + l).min(len).max(start + 1),
                            channel,
                        })
                        .collect()
                })
                .boxed()
        };
        (notes, any::<bool>()).prop_map(move |(notes, all_drums)| {
            let mut clip = Clip { notes, bars, time_signature: ts, is_drum: false };
            if all_drums {
                for n in &mut clip.notes {
                    n.channel = 9;
                }
            }
            clip.sort();
            // Un-nest: per pitch and channel, ends must not decrease in start order.
            let mut last_end: HashMap<(u8, u8), u32> = HashMap::new();
            for n in &mut clip.notes {
                let e = last_end.entry((n.pitch, n.channel)).or_insert(0);
                n.end = n.end.max(*e);
                *e = n.end;
            }
            clip.sort();
            clip.is_drum = !clip.notes.is_empty() && clip.notes.iter().all(|n| n.channel == 9);
            clip
        })
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn encoders_never_panic(clip in arbitrary_clip()) {
        let map = DrumMap::default();
        let melody = encode_melody(&clip);
        let drums = encode_drums(&clip, &map);
        let groove = encode_groove(&clip, &map);
        let tap = encode_tap(&clip);
        let four_four = clip.time_signature == TimeSignature::FOUR_FOUR;
        prop_assert_eq!(drums.is_ok(), four_four);
        prop_assert_eq!(groove.is_ok(), four_four);
        prop_assert_eq!(tap.is_ok(), four_four);
        if let Ok(d) = drums {
            prop_assert_eq!(d.tokens.len(), clip.bars as usize * 16);
            prop_assert!(d.tokens.iter().all(|&t| t < 512));
            prop_assert!(d.dropped.total() <= clip.notes.len());
        }
        if let Ok(m) = melody {
            prop_assert!(m.tokens.iter().all(|&t| t < 90));
            prop_assert!(m.dropped.total() <= clip.notes.len());
            // Decoding and re-encoding an encoding changes nothing.
            let again = encode_melody(&decode_melody(&m.tokens).unwrap()).unwrap();
            prop_assert_eq!(again.tokens, m.tokens);
        }
        if let Ok(g) = groove {
            prop_assert!(g.rows.iter().flatten().all(|v| v.is_finite() && (-0.5..=1.0).contains(v)));
        }
        let _ = export_midi(&clip, &ExportOptions::default());
        if let Ok(fit) = transpose_into_range(&clip, 21, 108) {
            prop_assert!(fit.clip.notes.iter().all(|n| (21..=108).contains(&n.pitch)));
        }
    }

    #[test]
    fn melody_round_trip_on_grid(clip in grid_melody()) {
        let e = encode_melody(&clip).unwrap();
        prop_assert_eq!(e.dropped.total(), 0);
        prop_assert_eq!(decode_melody(&e.tokens).unwrap(), clip);
    }

    #[test]
    fn quantize_then_encode_decode_equals_quantized(clip in grid_melody(), jitter in prop::collection::vec(-60i32..60, 24)) {
        // Shift onsets off the grid by less than half a step; quantizing restores them.
        let mut played = clip.clone();
        for (n, j) in played.notes.iter_mut().zip(&jitter) {
            n.start = (n.start as i32 + j).max(0) as u32;
            n.end = (n.end as i32 + j).max(n.start as i32 + 1) as u32;
        }
        played.sort();
        let q = quantize_clip(&played).unwrap();
        // Quantizing can lengthen a note to its neighbour's onset but never changes onsets.
        let starts = |c: &Clip| c.notes.iter().map(|n| (n.start, n.pitch)).collect::<Vec<_>>();
        prop_assert_eq!(starts(&q), starts(&clip));
        let decoded = decode_melody(&encode_melody(&played).unwrap().tokens).unwrap();
        prop_assert_eq!(starts(&decoded), starts(&clip));
        prop_assert_eq!(decode_melody(&encode_melody(&q).unwrap().tokens).unwrap(), decoded);
    }

    #[test]
    fn drum_tokens_round_trip(tokens in (1usize..5).prop_flat_map(|bars| prop::collection::vec(0u16..512, bars * 16))) {
        let map = DrumMap::default();
        let clip = decode_drums(&tokens, &map).unwrap();
        let e = encode_drums(&clip, &map).unwrap();
        prop_assert_eq!(&e.tokens, &tokens);
        prop_assert_eq!(e.dropped.total(), 0);
        // The decoded clip is already quantized.
        prop_assert_eq!(quantize_clip(&clip).unwrap(), clip.clone());
        prop_assert_eq!(decode_drums(&e.tokens, &map).unwrap(), clip);
    }

    #[test]
    fn groove_round_trip(cells in (1usize..3).prop_flat_map(|bars| prop::collection::vec((any::<bool>(), 1u8..128, -60i32..60), bars * 16 * 9))) {
        let map = DrumMap::default();
        let steps = cells.len() / 9;
        let mut rows = vec![[0.0f32; GROOVE_FLOATS_PER_STEP]; steps];
        for (i, &(hit, velocity, offset)) in cells.iter().enumerate() {
            let (step, voice) = (i / 9, i % 9);
            // Step 0 cannot hold an early hit (it would be before the clip), so it is clamped.
            let offset = if step == 0 { offset.max(0) } else { offset };
            if hit {
                rows[step][voice * 3..voice * 3 + 3]
                    .copy_from_slice(&[1.0, velocity as f32 / 127.0, offset as f32 / TICKS_PER_STEP as f32]);
            }
        }
        let clip = decode_groove(&rows, &map).unwrap();
        let g = encode_groove(&clip, &map).unwrap();
        prop_assert_eq!(g.rows, rows);
    }

    #[test]
    fn export_import_identity(clip in exportable_clip(), bpm in 20.0f64..400.0) {
        let options = ExportOptions::with_bpm(bpm, "track");
        let bytes = export_midi(&clip, &options).unwrap();
        let m = import_midi(&bytes, &ImportOptions::default()).unwrap();
        prop_assert_eq!(&m.clip, &clip);
        prop_assert_eq!(m.tempo_us_per_quarter, options.tempo_us_per_quarter);
        prop_assert_eq!(m.track_names, vec![String::new(), "track".to_string()]);
        prop_assert_eq!(m.format, 1);
        prop_assert_eq!(m.source_ppq, 480);
    }
}
