//! Cadenza: Magenta-Studio-style generative MIDI tools (Continue, Generate, Interpolate, Drumify,
//! Groove) as a CLAP/VST3 MIDI plugin.
//!
//! # Thread map
//!
//! | thread | started by | code | channel end it owns |
//! |---|---|---|---|
//! | host audio thread | the host | [`Cadenza::process`], [`audio`] (capture, player, preview) | [`channels::AudioEnd`] |
//! | `cadenza-worker` | [`Cadenza`]'s `activate()` (again after it died) | [`worker`] (runs the inference engine, `cadenza-engine`) | [`channels::WorkerEnd`] |
//! | host GUI thread | the host opening the editor | [`editor`] | [`channels::EditorEnd`] |
//! | `cadenza-load` (short-lived) | the editor, per loaded `.mid` | [`editor`] | a one-shot `mpsc` back to the editor |
//! | `cadenza-file-dialog` (short-lived) | the editor's Open… button | `editor::file_dialog` (the system's file picker through `rfd`) | a one-shot `mpsc` back to the editor |
//! | X11 drag source (Linux, short-lived) | the editor, per drag-out | `editor::x11_drag` | a `JoinHandle` with the outcome |
//! | host main thread | the host | [`params`] (automation), [`session`] (state save/load) | the parameters' atomics, the session's mutex |
//!
//! Every message type is in [`messages`] (plain data); every queue and shared atomic, with its
//! direction, is in [`channels`]: audio → worker `RtRequest`s, worker → audio `PlaybackClip`s
//! (and retired clips back), editor → worker `JobRequest`s, worker → editor `WorkerEvent`s and
//! progress, editor → audio capture-to-slot, audio → editor dropped presses and host tempo.
//! The persisted [`session::Session`] is behind a mutex the worker and the editor hold only for
//! short copies; the audio thread never touches it. "Engine" always means the inference crate.

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;

pub mod audio;
pub mod channels;
pub mod editor;
pub mod messages;
pub mod onnx_generator;
pub mod params;
pub mod session;
pub mod tools;
pub mod worker;

use audio::capture::Capture;
use audio::jam::{CallEnded, Jam, JamSettings};
use audio::events::{EventList, OutEvent};
use audio::player::Player;
use audio::preview::PreviewSynth;
use audio::transport::BlockTiming;
use channels::{AudioEnd, EditorEnd, WorkerEnd};
use messages::{JamCall, RtRequest, RtRequestKind};
use params::{CadenzaParams, Playback};
use session::SessionField;
use worker::{Generator, GeneratorFactory, WorkerHandle};

pub use cadenza_music as music;

fn onnx_generator() -> Box<dyn Generator> {
    Box::new(onnx_generator::OnnxGenerator::new())
}

pub struct Cadenza {
    params: Arc<CadenzaParams>,
    /// This thread's end of the channels ([`channels`]).
    audio: AudioEnd,
    /// Kept to start (and restart) worker threads with.
    worker_end: WorkerEnd,
    /// Handed to the editor when the host opens it.
    editor_end: EditorEnd,
    /// Started on first activation, never during a host's plugin scan.
    worker: Option<WorkerHandle>,
    /// Makes the worker's generator (the ONNX engine unless a test swaps it).
    generator_factory: GeneratorFactory,

    player: Player,
    capture: Capture,
    jam: Jam,
    /// This block's events from the host (preallocated).
    input_events: Vec<PluginNoteEvent<Self>>,
    /// Jam's events for the current block (preallocated).
    jam_events: EventList,
    /// The player's events for the current block (preallocated).
    player_events: EventList,
    /// Every note event sent this block, in order, for the preview synth.
    sent_events: EventList,
    preview: PreviewSynth,
    /// The generate trigger's value in the previous block, for edge detection.
    generate_was_on: bool,
    /// The session's state-load count last seen: a trigger restored "on" by a load is not a press.
    loads_seen: u32,
    /// Release sounding notes at the start of the next block (after deactivate/reset).
    release_pending: bool,
    /// A request box the queue had no room for; kept instead of being freed here.
    spare_request: Option<Box<RtRequest>>,
    /// The host said "offline" at setup (a bounce): blocking is allowed and results must be
    /// deterministic, so `process()` waits for the worker's answers.
    offline: bool,
}

/// Host events one block keeps for Jam's barge-in (more are passed on at once).
const MAX_INPUT_EVENTS: usize = 4096;

/// Longest an offline render waits for one worker answer.
const OFFLINE_WORKER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Default for Cadenza {
    fn default() -> Self {
        Self::with_factory(onnx_generator)
    }
}

impl Cadenza {
    fn with_factory(generator_factory: GeneratorFactory) -> Self {
        let session = Arc::new(SessionField::default());
        let (audio, worker_end, editor_end) = channels::open(session.clone());
        Self {
            params: Arc::new(CadenzaParams::new(session)),
            audio,
            worker_end,
            editor_end,
            worker: None,
            generator_factory,
            player: Player::new(),
            capture: Capture::new(),
            jam: Jam::new(),
            input_events: Vec::with_capacity(MAX_INPUT_EVENTS),
            jam_events: EventList::new(),
            player_events: EventList::new(),
            sent_events: EventList::new(),
            preview: PreviewSynth::new(),
            generate_was_on: false,
            loads_seen: 0,
            release_pending: false,
            spare_request: None,
            offline: false,
        }
    }

    /// The editor's end of the channels (the panel, and tests standing in for it).
    pub fn editor_end(&self) -> &EditorEnd {
        &self.editor_end
    }

    pub fn params_arc(&self) -> &Arc<CadenzaParams> {
        &self.params
    }

    /// Starts the worker thread, or a new one if the last has ended (activation is the first
    /// place off the audio thread where the plugin can notice).
    fn ensure_worker(&mut self) {
        if self.worker.as_ref().is_some_and(WorkerHandle::has_ended) {
            nice_warn!("the Cadenza worker thread had stopped; starting a new one");
            self.worker = None;
        }
        if self.worker.is_none() {
            match WorkerHandle::spawn_with_factory(self.worker_end.clone(), self.generator_factory) {
                Ok(handle) => self.worker = Some(handle),
                Err(err) => nice_error!("could not start the Cadenza worker thread: {err}"),
            }
        }
    }

    /// Takes the newest clip the worker sent and retires the old one (never freed here).
    fn receive_clips(&mut self) {
        while let Some(clip) = self.audio.receive_clip() {
            if let Some(old) = self.player.replace_clip(clip, &mut self.player_events) {
                self.audio.retire(old);
            }
        }
    }

    fn record(&mut self, event: &PluginNoteEvent<Self>, timing: &BlockTiming) {
        if !(self.params.capture_armed.value() || self.params.jam.value()) || !timing.playing {
            return;
        }
        let Some(beat) = timing.beat_at(event.timing()) else { return };
        match *event {
            NoteEvent::NoteOn { channel, key, velocity, .. } => {
                let (Some(ch), Some(pitch)) = (channel.number(), key.number()) else { return };
                let velocity = (velocity * 127.0).round().clamp(0.0, 127.0) as u8;
                if velocity == 0 {
                    self.capture.note_off(ch, pitch, beat);
                } else {
                    self.capture.note_on(ch, pitch, velocity, beat);
                }
            }
            NoteEvent::NoteOff { channel, key, .. } => {
                if let (Some(ch), Some(pitch)) = (channel.number(), key.number()) {
                    self.capture.note_off(ch, pitch, beat);
                }
            }
            _ => {}
        }
    }

    /// On a rising edge of the generate trigger, copies the captured bars into a pooled request
    /// and hands it to the worker.
    fn handle_trigger(&mut self, timing: &BlockTiming) {
        if let Some(slot) = self.audio.take_capture_to_slot() {
            let bars = self.params.capture_bars.value() as u16;
            self.send_capture(RtRequestKind::CaptureToSlot(slot), bars, timing);
        }
        let on = self.params.generate.value();
        let loads = self.params.session.loads();
        if loads != self.loads_seen {
            // A project or preset was loaded: its saved trigger value (and a host re-sending
            // it) is not someone pressing Generate.
            self.loads_seen = loads;
            self.generate_was_on = on;
        }
        let rising = on && !self.generate_was_on;
        self.generate_was_on = on;
        if rising {
            let kind = RtRequestKind::Generate(tools::request_settings(&self.params));
            let bars = self.params.capture_bars.value() as u16;
            if !self.send_capture(kind, bars, timing) {
                self.audio.count_dropped_press();
            }
        }
    }

    /// Sends the last `bars` captured bars with `kind`; whether it could be sent.
    fn send_capture(&mut self, kind: RtRequestKind, bars: u16, timing: &BlockTiming) -> bool {
        let Some(mut request) = self.spare_request.take().or_else(|| self.audio.take_request_box()) else {
            return false;
        };
        let now = timing.beat_at(timing.block_len as u32).unwrap_or(0.0);
        request.kind = kind;
        request.capture.bars = self.capture.snapshot(bars, now, &mut request.capture.notes);
        request.capture.time_signature = self.capture.time_signature();
        match self.audio.send_request(request) {
            Ok(()) => true,
            Err(request) => {
                self.spare_request = Some(request);
                false
            }
        }
    }

    /// The Jam parameters now.
    fn jam_settings(&self) -> JamSettings {
        JamSettings {
            trigger: self.params.jam_trigger.value(),
            gap_beats: self.params.jam_gap.value() as f64,
            every_bars: self.params.jam_bars.value() as u16,
            answer_bars: self.params.jam_length.value() as u16,
            barge_in: self.params.jam_barge_in.value(),
        }
    }

    /// Jam's part of the block: takes answers from the worker, then plays the answer in pieces
    /// split at the musician's note-ons (each may barge in).
    fn run_jam(&mut self, jam_on: bool, timing: &BlockTiming, channel: u8) {
        self.jam.begin_block(jam_on, timing, &mut self.jam_events);
        self.retire_jam_clip();
        if !self.jam.has_clip_to_retire() {
            if let Some(answer) = self.audio.receive_jam_answer() {
                if let Some(unused) = self.jam.receive(answer, timing) {
                    self.audio.retire(unused);
                }
            }
        }
        let settings = self.jam_settings();
        let mut rendered = 0;
        for index in 0..self.input_events.len() {
            if !jam_on || !timing.playing {
                break;
            }
            let (at, ch, pitch, on) = match self.input_events[index] {
                NoteEvent::NoteOn { timing, channel, key, velocity, .. } => (timing, channel, key, velocity > 0.0),
                NoteEvent::NoteOff { timing, channel, key, .. } => (timing, channel, key, false),
                _ => continue,
            };
            let (Some(ch), Some(pitch), Some(beat)) = (ch.number(), pitch.number(), timing.beat_at(at)) else { continue };
            if on {
                self.jam.render(timing, rendered, at, channel, &mut self.jam_events);
                rendered = at;
                self.jam.note_on(ch, pitch, beat, at, &settings, timing, &mut self.jam_events);
            } else {
                self.jam.note_off(ch, pitch, beat);
            }
        }
        self.jam.render(timing, rendered, timing.block_len as u32, channel, &mut self.jam_events);
        self.retire_jam_clip();
        // One time-ordered list for the merge with the host's events; at equal times note-offs
        // go first so a re-struck key is released before it sounds again.
        if !self.jam_events.as_slice().is_empty() {
            for event in self.jam_events.as_slice() {
                self.player_events.push(*event);
            }
            self.player_events.sort_by_time();
        }
    }

    /// Hands a clip Jam let go of to the worker when the retired queue has room.
    fn retire_jam_clip(&mut self) {
        if self.jam.has_clip_to_retire() && self.audio.can_retire() {
            if let Some(clip) = self.jam.take_retired() {
                self.audio.retire(clip);
            }
        }
    }

    /// Sends an ended call with its bars (and earlier context up to Capture bars) to the worker.
    fn send_jam_call(&mut self, call: CallEnded, timing: &BlockTiming) {
        let mut settings = tools::request_settings(&self.params);
        settings.tool = params::Tool::Continue;
        settings.variations = 1;
        settings.length_bars = call.answer_bars;
        let kind = RtRequestKind::Jam(JamCall { settings, call_id: call.call_id, answer_bars: call.answer_bars });
        let bars = call.call_bars.max(self.params.capture_bars.value() as u16);
        if !self.send_capture(kind, bars, timing) {
            self.audio.count_dropped_press();
        }
    }

    /// Offline only: blocks until the worker has answered every request, so a bounce hears the
    /// result at the same place whatever the machine's speed. Never called in real time.
    fn wait_for_worker_offline(&self) {
        let deadline = std::time::Instant::now() + OFFLINE_WORKER_WAIT;
        while self.audio.jobs_in_flight() > 0 && self.audio.worker_running() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Sends one player event to the host.
    fn send_player_event(context: &mut impl ProcessContext<Self>, event: &OutEvent) {
        let channel = Channel::Number(event.channel);
        let key = Key::Number(event.pitch);
        let note = if event.velocity > 0 {
            NoteEvent::NoteOn {
                timing: event.timing,
                voice_id: VoiceID::Wildcard,
                channel,
                key,
                velocity: event.velocity as f32 / 127.0,
            }
        } else {
            NoteEvent::NoteOff { timing: event.timing, voice_id: VoiceID::Wildcard, channel, key, velocity: 0.0 }
        };
        let _ = context.try_send_event(note);
    }
}

/// Seams for the test crate only; bundles never enable the `test-hooks` feature.
#[cfg(feature = "test-hooks")]
impl Cadenza {
    /// A plugin whose worker runs another generator (tests use a deterministic one).
    pub fn with_generator(factory: GeneratorFactory) -> Self {
        Self::with_factory(factory)
    }

    pub fn player(&self) -> &Player {
        &self.player
    }

    pub fn capture(&self) -> &Capture {
        &self.capture
    }

    /// Makes the worker thread exit after its current tick as if it had died.
    pub fn inject_worker_exit(&self) {
        self.worker_end.inject_exit();
    }
}

use nice_plug::midi::{Channel, Key, VoiceID};

/// The note part of an incoming event, as the preview synth wants it.
fn as_out_event(event: &PluginNoteEvent<Cadenza>) -> Option<OutEvent> {
    match *event {
        NoteEvent::NoteOn { timing, channel, key, velocity, .. } => Some(OutEvent {
            timing,
            channel: channel.number().unwrap_or(0),
            pitch: key.number()?,
            velocity: (velocity * 127.0).round().clamp(0.0, 127.0) as u8,
        }),
        NoteEvent::NoteOff { timing, channel, key, .. } => {
            Some(OutEvent { timing, channel: channel.number().unwrap_or(0), pitch: key.number()?, velocity: 0 })
        }
        _ => None,
    }
}

impl Plugin for Cadenza {
    const NAME: &'static str = "Cadenza";
    const VENDOR: &'static str = "Cadenza";
    const URL: &'static str = "https://cadenza.invalid";
    const EMAIL: &'static str = "hello@cadenza.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    // A silent stereo output first, because some hosts only route MIDI out of plugins with an
    // audio output; hosts that allow pure note effects can pick the port-less layout.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout::const_default(),
    ];

    const MIDI_INPUT: MidiConfig = MidiConfig::MidiCCs;
    const MIDI_OUTPUT: MidiConfig = MidiConfig::MidiCCs;
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = editor::CadenzaEditor;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), self.editor_end.clone())
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.preview.set_sample_rate(buffer_config.sample_rate);
        self.offline = buffer_config.process_mode == ProcessMode::Offline;
        self.ensure_worker();
        true
    }

    fn reset(&mut self) {
        // Sounding notes are released in the next block, where events can be sent.
        self.release_pending = true;
        self.preview.silence();
    }

    fn deactivate(&mut self) {
        self.release_pending = true;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        for channel in buffer.as_slice() {
            channel.fill(0.0);
        }
        let timing = BlockTiming::from_transport(context.transport(), buffer.samples());
        let jam_on = self.params.jam.value();
        self.capture.set_meter(timing.beats_per_bar, timing.time_sig, timing.bar_origin);
        // Jam listens whether or not Capture is armed: its calls come from the capture ring.
        let rolling = timing.playing && (self.params.capture_armed.value() || jam_on);
        let block_span = timing.pos_beats.zip(timing.beat_at(timing.block_len as u32));
        self.capture.follow_transport(rolling, block_span);
        self.audio.publish_tempo(timing.tempo);

        self.player_events.clear();
        self.jam_events.clear();
        // Hosts say "offline" at setup (CLAP's render extension restarts us; VST3's
        // setupProcessing) or only per block (Ardour's exports set VST3's processMode): either
        // one makes this block wait for the worker.
        if self.offline || context.process_mode() == ProcessMode::Offline {
            self.wait_for_worker_offline();
        }
        if std::mem::take(&mut self.release_pending) {
            self.player.release_all(0, &mut self.player_events);
            self.jam.begin_block(false, &timing, &mut self.jam_events);
        }
        self.receive_clips();
        // While jamming, the answers are what plays (the selected result would talk over them).
        let playback_on = self.params.playback.value() == Playback::PlaySelected && !jam_on;
        let out_channel = (self.params.out_channel.value() - 1).clamp(0, 15) as u8;
        self.player.render(&timing, playback_on, out_channel, &mut self.player_events);

        // The host's events for this block, kept so Jam can be cut at the musician's note-ons.
        self.input_events.clear();
        while let Some(event) = context.next_event() {
            if self.input_events.len() < self.input_events.capacity() {
                self.input_events.push(event);
            } else {
                // More than the preallocated room (never seen in a host): passed on at once.
                let _ = context.try_send_event(event);
            }
        }
        self.run_jam(jam_on, &timing, out_channel);

        // Pass input through and record it, interleaved with the player's events in time order.
        self.sent_events.clear();
        let mut next_player_event = 0;
        for index in 0..self.input_events.len() {
            let event = self.input_events[index];
            while let Some(out) = self.player_events.as_slice().get(next_player_event) {
                if out.timing > event.timing() {
                    break;
                }
                Self::send_player_event(context, out);
                self.sent_events.push(*out);
                next_player_event += 1;
            }
            self.record(&event, &timing);
            if let Some(note) = as_out_event(&event) {
                self.sent_events.push(note);
            }
            let _ = context.try_send_event(event);
        }
        for out in &self.player_events.as_slice()[next_player_event..] {
            Self::send_player_event(context, out);
            self.sent_events.push(*out);
        }
        if self.params.preview.value() {
            self.preview.render(buffer.as_slice(), self.sent_events.as_slice());
        }

        self.handle_trigger(&timing);
        if let Some(call) = self.jam.poll_call(&self.jam_settings(), &timing) {
            self.send_jam_call(call, &timing);
        }
        self.audio.publish_jam(self.jam.phase(), self.jam.late_answers());
        self.audio.publish_jam_started(self.jam.started_call());
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Cadenza {
    const CLAP_ID: &'static str = "app.cadenza.midi-tools";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Continue, Generate, Interpolate, Drumify and Groove: generative MIDI ideas in time with your song");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::NoteEffect, ClapFeature::Utility];
}

impl Vst3Plugin for Cadenza {
    const VST3_CLASS_ID: [u8; 16] = *b"CadenzaMidiTools";
    // Instrument so that hosts put it on MIDI tracks and take its MIDI output.
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
}

nice_export_clap!(Cadenza);
nice_export_vst3!(Cadenza);
