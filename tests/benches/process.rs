//! `process()` cost per 512-sample block at 48 kHz while a 4-bar clip plays and one note-on
//! arrives (captured and passed through). Target: at most 5 µs a block.

use std::time::{Duration, Instant};

use cadenza::music::{Clip, Note, TimeSignature};
use cadenza::session::Session;
use cadenza::Cadenza;
use cadenza_tests::{note_on, FakeActivateContext, FakeContext};
use criterion::{criterion_group, criterion_main, Criterion};
use nice_plug::prelude::*;

const BLOCK: usize = 512;
const SAMPLE_RATE: f32 = 48_000.0;

/// Four bars of 16th notes: a dense melody.
fn busy_clip() -> Clip {
    let notes = (0..64u32)
        .map(|i| Note { pitch: 60 + (i % 12) as u8, velocity: 100, start: i * 120, end: i * 120 + 100, channel: 0 })
        .collect();
    Clip { notes, bars: 4, time_signature: TimeSignature::FOUR_FOUR, is_drum: false }
}

fn playing_plugin() -> Cadenza {
    let mut plugin = Cadenza::default();
    let config = BufferConfig {
        sample_rate: SAMPLE_RATE,
        min_buffer_size: None,
        max_buffer_size: BLOCK as u32,
        process_mode: ProcessMode::Realtime,
    };
    plugin.activate(&Cadenza::AUDIO_IO_LAYOUTS[0], &config, &mut FakeActivateContext);
    plugin.reset();
    plugin.editor_end().session().replace(Session {
        generated: vec![busy_clip()],
        selected: Some(0),
        ..Session::default()
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = vec![0.0f32; BLOCK];
    let mut right = vec![0.0f32; BLOCK];
    let mut output = Vec::with_capacity(4096);
    while plugin.player().clip().is_none() {
        assert!(Instant::now() < deadline, "the engine never delivered the clip");
        process_block(&mut plugin, 0, &[], &mut output, &mut left, &mut right);
        std::thread::sleep(Duration::from_millis(1));
    }
    plugin
}

fn process_block(
    plugin: &mut Cadenza,
    pos_samples: i64,
    input: &[NoteEvent<()>],
    output: &mut Vec<NoteEvent<()>>,
    left: &mut [f32],
    right: &mut [f32],
) {
    let mut transport = Transport::new(SAMPLE_RATE);
    transport.playing = true;
    transport.tempo = Some(120.0);
    transport.time_sig_numerator = Some(4);
    transport.time_sig_denominator = Some(4);
    transport.pos_samples = Some(pos_samples);
    transport.pos_beats = Some(pos_samples as f64 / 24_000.0);
    output.clear();
    let mut buffer = Buffer::default();
    unsafe {
        buffer.set_slices(BLOCK, |slices| {
            slices.clear();
            slices.push(std::mem::transmute::<&mut [f32], &mut [f32]>(left));
            slices.push(std::mem::transmute::<&mut [f32], &mut [f32]>(right));
        })
    };
    let mut aux = AuxiliaryBuffers { inputs: &mut [], outputs: &mut [] };
    let mut context = FakeContext::new(transport, input, output);
    plugin.process(&mut buffer, &mut aux, &mut context);
}

fn bench_process(c: &mut Criterion) {
    let mut plugin = playing_plugin();
    let mut left = vec![0.0f32; BLOCK];
    let mut right = vec![0.0f32; BLOCK];
    let mut output = Vec::with_capacity(4096);
    let input = [note_on(64, 100)];
    let mut pos = 0i64;
    c.bench_function("process 512 samples, clip playing, one note in", |b| {
        b.iter(|| {
            process_block(&mut plugin, pos, &input, &mut output, &mut left, &mut right);
            pos = (pos + BLOCK as i64) % (24_000 * 16);
        })
    });
    assert!(plugin.player().sounding_count() > 0 || !output.is_empty(), "the clip was not playing");

    cadenza_tests::set_param(&plugin.params_arc().preview, true);
    c.bench_function("process 512 samples, clip playing, one note in, preview synth on", |b| {
        b.iter(|| {
            process_block(&mut plugin, pos, &input, &mut output, &mut left, &mut right);
            pos = (pos + BLOCK as i64) % (24_000 * 16);
        })
    });
}

criterion_group!(benches, bench_process);
criterion_main!(benches);
