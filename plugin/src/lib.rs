//! Cadenza: Magenta-Studio-style generative MIDI tools (Continue, Generate, Interpolate, Drumify,
//! Groove) as a CLAP/VST3 MIDI plugin.
//!
//! # Thread map
//!
//! | thread | started by | code | channel end it owns |
//! |---|---|---|---|
//! | host audio thread | the host | [`Cadenza::process`] and its steps (`process_steps.rs`), [`audio`] (capture, player, Jam, preview) | [`channels::AudioEnd`] |
//! | `cadenza-worker` | [`Cadenza`]'s `activate()` (again after it died) | [`worker`] (runs the inference engine, `cadenza-engine`) | [`channels::WorkerEnd`] |
//! | host GUI thread | the host opening the editor | [`editor`] | [`channels::EditorEnd`] |
//! | `cadenza-load` (short-lived) | the editor, per loaded `.mid` | [`editor`] | a one-shot `mpsc` back to the editor |
//! | `cadenza-file-dialog` (short-lived) | the editor's Open… button | `editor::file_dialog` (the system's file picker through `rfd`) | a one-shot `mpsc` back to the editor |
//! | X11 drag source (Linux, short-lived) | the editor, per drag-out | `editor::x11_drag` | a `JoinHandle` with the outcome |
//! | `cadenza-drag` (Windows, short-lived) | the editor, per drag-out (`DoDragDrop` in its own OLE apartment) | `editor::drag_windows` | a `JoinHandle` with the outcome |
//! | host main thread | the host | [`params`] (automation), [`session`] (state save/load) | the parameters' atomics, the session's mutex |
//!
//! Every message type is in [`messages`] (plain data); every queue and shared atomic, with its
//! direction, is in [`channels`]: audio → worker `RtRequest`s, worker → audio `PlaybackClip`s
//! (and retired clips back) and Jam answers, editor → worker `JobRequest`s, worker → editor
//! `WorkerEvent`s and progress, editor → audio capture-to-slot, audio → editor dropped presses,
//! host tempo and Jam's state, audio → worker which Jam answer began to sound.
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
mod process_steps;
pub mod session;
pub mod tools;
pub mod worker;

use audio::capture::Capture;
use audio::events::EventList;
use audio::jam::Jam;
use audio::player::Player;
use audio::preview::PreviewSynth;
use audio::transport::BlockTiming;
use channels::{AudioEnd, EditorEnd, WorkerEnd};
use messages::RtRequest;
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
            if let Some(note) = process_steps::as_out_event(&event) {
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
