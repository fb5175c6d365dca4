//! The steps of one `process()` call that need more than a line: recording, the Generate
//! trigger and the capture requests, Jam's share of the block, the offline wait, sending
//! events. They run on the audio thread (see the audit in [`crate::audio`]).

use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;

use crate::audio::events::OutEvent;
use crate::audio::jam::{CallEnded, JamSettings};
use crate::audio::transport::BlockTiming;
use crate::messages::{JamCall, RtRequestKind};
use crate::{params, tools, Cadenza, OFFLINE_WORKER_WAIT};

impl Cadenza {
    /// Takes the newest clip the worker sent and retires the old one (never freed here).
    pub(crate) fn receive_clips(&mut self) {
        while let Some(clip) = self.audio.receive_clip() {
            if let Some(old) = self.player.replace_clip(clip, &mut self.player_events) {
                self.audio.retire(old);
            }
        }
    }

    pub(crate) fn record(&mut self, event: &PluginNoteEvent<Self>, timing: &BlockTiming) {
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
    pub(crate) fn handle_trigger(&mut self, timing: &BlockTiming) {
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
    pub(crate) fn send_capture(&mut self, kind: RtRequestKind, bars: u16, timing: &BlockTiming) -> bool {
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
    pub(crate) fn jam_settings(&self) -> JamSettings {
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
    pub(crate) fn run_jam(&mut self, jam_on: bool, timing: &BlockTiming, channel: u8) {
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
            let (Some(ch), Some(pitch), Some(beat)) = (ch.number(), pitch.number(), timing.beat_at(at)) else {
                continue;
            };
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
    pub(crate) fn retire_jam_clip(&mut self) {
        if self.jam.has_clip_to_retire() && self.audio.can_retire() {
            if let Some(clip) = self.jam.take_retired() {
                self.audio.retire(clip);
            }
        }
    }

    /// Sends an ended call with its bars (and earlier context up to Capture bars) to the worker.
    pub(crate) fn send_jam_call(&mut self, call: CallEnded, timing: &BlockTiming) {
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
    pub(crate) fn wait_for_worker_offline(&self) {
        let deadline = std::time::Instant::now() + OFFLINE_WORKER_WAIT;
        while self.audio.jobs_in_flight() > 0 && self.audio.worker_running() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Sends one player event to the host.
    pub(crate) fn send_player_event(context: &mut impl ProcessContext<Self>, event: &OutEvent) {
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

/// The note part of an incoming event, as the preview synth wants it.
pub(crate) fn as_out_event(event: &PluginNoteEvent<Cadenza>) -> Option<OutEvent> {
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
