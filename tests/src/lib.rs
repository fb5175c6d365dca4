//! A fake host for driving `Cadenza::process()` from tests: it keeps a transport (tempo, meter,
//! position, play state), feeds note events at absolute sample positions, splits time into
//! blocks and records every output event with its absolute sample position.
//!
//! nice-plug has no mock host, but its `ProcessContext`, `Transport` and `Buffer` are public.

pub mod clap_host;
pub mod editor_harness;
pub mod vst3_host;

use std::time::{Duration, Instant};

use cadenza::messages::{JobError, JobRequest, WorkerEvent};
use cadenza::params::{Mode, Tool};
use cadenza::worker::{Generator, Progress};
use cadenza::Cadenza;
use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;

/// The stand-in generator: every variation is the input an octave up (melody) or unchanged
/// (drums). It proves the plumbing end to end with notes a test can predict.
pub struct OctaveEcho;

impl Generator for OctaveEcho {
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<cadenza::music::Clip>, JobError> {
        let input = request.inputs.first().filter(|clip| !clip.notes.is_empty()).ok_or(JobError::EmptyInput)?;
        if request.settings.tool == Tool::Interpolate && request.inputs.len() < 2 {
            return Err(JobError::MissingInput { tool: "Interpolate", needed: 2, got: request.inputs.len() });
        }
        let shift = if request.settings.mode == Mode::Drums || input.is_drum { 0 } else { 12 };
        let variations = request.settings.variations.max(1) as usize;
        let mut clips = Vec::with_capacity(variations);
        for v in 0..variations {
            let mut clip = input.clone();
            for note in &mut clip.notes {
                note.pitch = (note.pitch as i16 + shift).clamp(0, 127) as u8;
            }
            clips.push(clip);
            progress.set((v + 1) as f32 / variations as f32);
        }
        Ok(clips)
    }
}

/// Most output events a block may produce in the fake host.
const OUTPUT_CAPACITY: usize = 4096;

pub struct FakeContext<'a> {
    transport: Transport,
    input: &'a [NoteEvent<()>],
    next_input: usize,
    output: &'a mut Vec<NoteEvent<()>>,
    /// What `process_mode()` reports for this block.
    process_mode: ProcessMode,
}

impl<'a> FakeContext<'a> {
    pub fn new(transport: Transport, input: &'a [NoteEvent<()>], output: &'a mut Vec<NoteEvent<()>>) -> Self {
        Self { transport, input, next_input: 0, output, process_mode: ProcessMode::Realtime }
    }
}

impl ProcessContext<Cadenza> for FakeContext<'_> {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute_background(&self, _task: ()) {}
    fn execute_gui(&self, _task: ()) {}
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn process_mode(&self) -> ProcessMode {
        self.process_mode
    }
    fn next_event(&mut self) -> Option<NoteEvent<()>> {
        let event = self.input.get(self.next_input).copied();
        self.next_input += 1;
        event
    }
    fn try_send_event(
        &mut self,
        event: NoteEvent<()>,
    ) -> Result<(), (NoteEvent<()>, nice_plug::context::process::SendEventError)> {
        if self.output.len() < self.output.capacity() {
            self.output.push(event);
            Ok(())
        } else {
            Err((event, nice_plug::context::process::SendEventError::HostBufferFull))
        }
    }
    fn set_latency_samples(&self, _samples: u32) {}
    fn request_restart(&self) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

pub struct FakeActivateContext;

impl ActivateContext<Cadenza> for FakeActivateContext {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: ()) {}
    fn set_latency_samples(&self, _samples: u32) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

/// An output event with its absolute sample position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recorded {
    pub sample: i64,
    pub event: NoteEvent<()>,
}

impl Recorded {
    /// (pitch, channel, velocity 0..=127 with 0 for note-off) of a note event.
    pub fn note(&self) -> Option<(u8, u8, u8)> {
        match self.event {
            NoteEvent::NoteOn { key, channel, velocity, .. } => {
                Some((key.number()?, channel.number()?, (velocity * 127.0).round() as u8))
            }
            NoteEvent::NoteOff { key, channel, .. } => Some((key.number()?, channel.number()?, 0)),
            _ => None,
        }
    }
}

pub struct Host {
    pub plugin: Cadenza,
    pub sample_rate: f32,
    pub tempo: f64,
    pub time_sig: (i32, i32),
    /// Set when the song changes meter at this beat: from there the host reports bar starts on
    /// the new meter's grid, as CLAP hosts do.
    pub meter_changed_at: Option<f64>,
    pub playing: bool,
    /// Song position of the next block, in samples and quarter notes.
    pub pos_samples: i64,
    pub pos_beats: f64,
    /// Samples processed so far, whatever the transport did (what output events are stamped
    /// with).
    pub steady_time: i64,
    /// Tempo segment start: the position is computed from here so it does not drift.
    anchor: (i64, f64, f64),
    /// Every event the plugin sent, in order.
    pub output: Vec<Recorded>,
    /// Allocation violations counted inside `process()` calls.
    pub process_allocations: u32,
    /// The mode each block reports through `ProcessContext::process_mode` (hosts like Ardour
    /// signal an export only there, not at setup).
    pub block_mode: ProcessMode,
    block_output: Vec<NoteEvent<()>>,
    block_input: Vec<NoteEvent<()>>,
}

impl Host {
    /// A plugin, activated at `sample_rate`, transport stopped at 120 BPM 4/4.
    pub fn new(sample_rate: f32) -> Self {
        Self::with_mode(sample_rate, ProcessMode::Realtime)
    }

    /// The same, for an offline render (a bounce).
    pub fn new_offline(sample_rate: f32) -> Self {
        Self::with_mode(sample_rate, ProcessMode::Offline)
    }

    /// A plugin running the real ONNX engine (the others use the deterministic stand-in, so
    /// plumbing tests can predict every note).
    pub fn new_onnx(sample_rate: f32) -> Self {
        Self::with_plugin(Cadenza::default(), sample_rate, ProcessMode::Realtime)
    }

    /// A given plugin instance at 48 kHz (for tests that build it themselves).
    pub fn with_plugin_for_tests(plugin: Cadenza) -> Self {
        Self::with_plugin(plugin, 48_000.0, ProcessMode::Realtime)
    }

    fn with_mode(sample_rate: f32, process_mode: ProcessMode) -> Self {
        Self::with_plugin(Cadenza::with_generator(|| Box::new(OctaveEcho)), sample_rate, process_mode)
    }

    fn with_plugin(mut plugin: Cadenza, sample_rate: f32, process_mode: ProcessMode) -> Self {
        let config = BufferConfig { sample_rate, min_buffer_size: None, max_buffer_size: 8192, process_mode };
        assert!(plugin.activate(&Cadenza::AUDIO_IO_LAYOUTS[1], &config, &mut FakeActivateContext));
        plugin.reset();
        Self {
            plugin,
            sample_rate,
            tempo: 120.0,
            time_sig: (4, 4),
            meter_changed_at: None,
            playing: false,
            pos_samples: 0,
            pos_beats: 0.0,
            steady_time: 0,
            anchor: (0, 0.0, 120.0),
            output: Vec::with_capacity(1 << 16),
            process_allocations: 0,
            block_mode: ProcessMode::Realtime,
            block_output: Vec::with_capacity(OUTPUT_CAPACITY),
            block_input: Vec::with_capacity(OUTPUT_CAPACITY),
        }
    }

    pub fn samples_per_beat(&self) -> f64 {
        self.sample_rate as f64 * 60.0 / self.tempo
    }

    /// Moves the song position (a host relocate).
    pub fn locate_beats(&mut self, beats: f64) {
        self.pos_beats = beats;
        self.pos_samples = (beats * self.samples_per_beat()).round() as i64;
        self.anchor = (self.pos_samples, beats, self.tempo);
    }

    fn transport(&mut self) -> Transport {
        if self.anchor.2 != self.tempo {
            self.anchor = (self.pos_samples, self.pos_beats, self.tempo);
        }
        let mut transport = Transport::new(self.sample_rate);
        transport.playing = self.playing;
        transport.tempo = Some(self.tempo);
        transport.time_sig_numerator = Some(self.time_sig.0);
        transport.time_sig_denominator = Some(self.time_sig.1);
        transport.pos_samples = Some(self.pos_samples);
        transport.pos_beats = Some(self.pos_beats);
        if let Some(change) = self.meter_changed_at {
            let bar = self.time_sig.0 as f64 * 4.0 / self.time_sig.1 as f64;
            transport.bar_start_pos_beats = Some(change + ((self.pos_beats - change) / bar).floor() * bar);
        }
        transport
    }

    /// Runs `samples` samples in blocks of `block_size`; `input` holds (offset from now, event)
    /// with the event's own timing ignored. Inside each block `process()` runs under
    /// `assert_no_alloc`, and violations are added to `process_allocations`.
    pub fn run(&mut self, samples: usize, block_size: usize, input: &[(usize, NoteEvent<()>)]) {
        let start = self.pos_samples;
        let mut done = 0;
        while done < samples {
            let len = block_size.min(samples - done);
            self.block_input.clear();
            for (offset, event) in input {
                if (done..done + len).contains(offset) {
                    self.block_input.push(with_timing(*event, (offset - done) as u32));
                }
            }
            self.process_block(len);
            done += len;
        }
        debug_assert!(self.pos_samples - start == samples as i64 || !self.playing);
    }

    /// One `process()` call of `len` samples with the events in `block_input`.
    fn process_block(&mut self, len: usize) {
        let transport = self.transport();
        self.block_output.clear();
        let mut buffer = Buffer::default();
        unsafe { buffer.set_slices(len, |slices| slices.clear()) };
        let mut aux = AuxiliaryBuffers { inputs: &mut [], outputs: &mut [] };
        let mut context = FakeContext {
            transport,
            input: &self.block_input,
            next_input: 0,
            output: &mut self.block_output,
            process_mode: self.block_mode,
        };
        let plugin = &mut self.plugin;
        reset_allocation_violations();
        nice_assert_no_alloc::assert_no_alloc(|| {
            plugin.process(&mut buffer, &mut aux, &mut context);
        });
        self.process_allocations += allocation_violations();
        let block_start = self.steady_time;
        self.steady_time += len as i64;
        self.output
            .extend(self.block_output.iter().map(|e| Recorded { sample: block_start + e.timing() as i64, event: *e }));
        if self.playing {
            self.pos_samples += len as i64;
            let (anchor_samples, anchor_beats, _) = self.anchor;
            self.pos_beats = anchor_beats + (self.pos_samples - anchor_samples) as f64 / self.samples_per_beat();
        }
    }

    /// Calls `deactivate()` then `activate()` + `reset()` again, as hosts do.
    pub fn reactivate(&mut self) {
        self.plugin.deactivate();
        let config = BufferConfig {
            sample_rate: self.sample_rate,
            min_buffer_size: None,
            max_buffer_size: 8192,
            process_mode: ProcessMode::Realtime,
        };
        assert!(self.plugin.activate(&Cadenza::AUDIO_IO_LAYOUTS[1], &config, &mut FakeActivateContext));
        self.plugin.reset();
    }

    /// Output note events only, as (sample, pitch, channel, velocity with 0 = off).
    pub fn notes(&self) -> Vec<(i64, u8, u8, u8)> {
        self.output.iter().filter_map(|r| r.note().map(|(p, c, v)| (r.sample, p, c, v))).collect()
    }

    /// Keys still sounding at the end of the output (note-ons without a later note-off).
    pub fn hanging_notes(&self) -> Vec<(u8, u8)> {
        let mut sounding = std::collections::BTreeSet::new();
        for (_, pitch, channel, velocity) in self.notes() {
            if velocity > 0 {
                sounding.insert((pitch, channel));
            } else {
                sounding.remove(&(pitch, channel));
            }
        }
        sounding.into_iter().collect()
    }

    /// Clicks Generate (on for a block, off for a block) and waits for the engine's answer.
    pub fn press_generate(&mut self, timeout: Duration) -> WorkerEvent {
        set_param(&self.plugin.params_arc().generate, true);
        self.run(64, 64, &[]);
        set_param(&self.plugin.params_arc().generate, false);
        self.run(64, 64, &[]);
        self.wait_for_engine(timeout)
    }

    /// Runs blocks (transport unchanged) until the engine reports the job done and the player
    /// has the clip, or panics after `timeout`.
    pub fn wait_for_engine(&mut self, timeout: Duration) -> WorkerEvent {
        let deadline = Instant::now() + timeout;
        let mut finished = None;
        loop {
            while let Some(event) = self.plugin.editor_end().next_event() {
                if !matches!(event, WorkerEvent::Started { .. }) {
                    finished = Some(event);
                }
            }
            if let Some(event) = &finished {
                let selected = self.plugin.editor_end().session().lock().selected;
                let playing = self.plugin.player().clip().map(|c| c.variation);
                if matches!(event, WorkerEvent::Failed { .. }) || (selected.is_some() && playing == selected) {
                    return event.clone();
                }
            }
            assert!(Instant::now() < deadline, "the engine did not answer within {timeout:?}");
            let was_playing = self.playing;
            self.playing = false;
            self.block_input.clear();
            self.process_block(64);
            self.playing = was_playing;
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn with_timing(event: NoteEvent<()>, timing: u32) -> NoteEvent<()> {
    let mut event = event;
    match &mut event {
        NoteEvent::NoteOn { timing: t, .. } | NoteEvent::NoteOff { timing: t, .. } => *t = timing,
        _ => {}
    }
    event
}

pub fn note_on(pitch: u8, velocity: u8) -> NoteEvent<()> {
    NoteEvent::NoteOn {
        timing: 0,
        voice_id: VoiceID::Wildcard,
        channel: Channel::Number(0),
        key: Key::Number(pitch),
        velocity: velocity as f32 / 127.0,
    }
}

pub fn note_off(pitch: u8) -> NoteEvent<()> {
    NoteEvent::NoteOff {
        timing: 0,
        voice_id: VoiceID::Wildcard,
        channel: Channel::Number(0),
        key: Key::Number(pitch),
        velocity: 0.0,
    }
}

/// Sets a parameter the way a host's automation would (tests only).
pub fn set_param<P: Param>(param: &P, plain: P::Plain) {
    let normalized = param.preview_normalized(plain);
    unsafe { param.as_ptr()._internal_set_normalized_value(normalized) };
}

/// Allocations counted inside `assert_no_alloc` on this thread. The counter only exists in
/// debug builds (the tests); release builds (the benchmarks) report 0, and the test
/// `the_allocation_counter_sees_allocations` fails there rather than pass vacuously.
pub fn allocation_violations() -> u32 {
    #[cfg(debug_assertions)]
    return nice_assert_no_alloc::violation_count();
    #[cfg(not(debug_assertions))]
    return 0;
}

pub fn reset_allocation_violations() {
    #[cfg(debug_assertions)]
    nice_assert_no_alloc::reset_violation_count();
}

/// One bar of 4/4: C4 on beat 1 (1/4 long), E4 on beat 2 (1/8), G4 from 3.5 to the bar end.
pub fn test_clip() -> cadenza::music::Clip {
    use cadenza::music::{Clip, Note, TimeSignature};
    let note = |pitch, start, end| Note { pitch, velocity: 100, start, end, channel: 0 };
    Clip {
        notes: vec![note(60, 0, 480), note(64, 480, 720), note(67, 1680, 1920)],
        bars: 1,
        time_signature: TimeSignature::FOUR_FOUR,
        is_drum: false,
    }
}

/// Makes `clip` the selected variation, waits until the player has it and clears the output.
pub fn load_clip(host: &mut Host, clip: cadenza::music::Clip) {
    use cadenza::session::Session;
    host.plugin.editor_end().session().replace(Session {
        generated: vec![clip],
        selected: Some(0),
        ..Session::default()
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while host.plugin.player().clip().is_none() {
        assert!(Instant::now() < deadline, "the engine never sent the clip");
        let playing = host.playing;
        host.playing = false;
        host.run(32, 32, &[]);
        host.playing = playing;
        std::thread::sleep(Duration::from_millis(2));
    }
    host.output.clear();
    host.steady_time = host.pos_samples;
}

/// Where each note event of `clip` must land when looping from beat 0 for `passes` passes at a
/// constant tempo: the first sample at or after its time (within the player's tolerance).
pub fn expected_events(clip: &cadenza::music::Clip, spb: f64, passes: u32, channel: u8) -> Vec<(i64, u8, u8, u8)> {
    let mut events = Vec::new();
    let length = clip.length_ticks() as f64 / 480.0;
    for pass in 0..passes {
        let offset = pass as f64 * length;
        for n in &clip.notes {
            let at = |tick: u32| ((offset + tick as f64 / 480.0) * spb - 1e-3).ceil() as i64;
            events.push((at(n.start), n.pitch, channel, n.velocity));
            events.push((at(n.end), n.pitch, channel, 0));
        }
    }
    events.sort_by_key(|e| (e.0, e.3 > 0, e.1));
    events
}
