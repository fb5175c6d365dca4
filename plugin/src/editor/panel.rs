//! The panel's state and its link to the worker: what the editor shows (inputs, results,
//! selection, the engine's activity, the status line) and the per-frame polling of the worker's
//! events and the session. Drawing lives in the sibling files ([`super::layout`] says which
//! section goes where). It never waits: parameters are atomics, the worker is reached through
//! its queues and atomics, and the session mutex is held only for short copies (when it
//! changed).

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cadenza_music::{Clip, DrumMap};

use super::file_actions::FileActions;
use super::pianoroll::{self, RollLayout};
use crate::channels::{EditorEnd, WorkerState};
use crate::messages::{JobError, ToolSettings, WorkerEvent};
use crate::params::CadenzaParams;
use crate::session::{SessionStamp, INPUT_SLOTS};

/// Frame start times and how long the panel's code took, shared with a test.
#[cfg(feature = "test-hooks")]
pub type FrameLog = Arc<std::sync::Mutex<Vec<(Instant, std::time::Duration)>>>;

/// A clip with its precomputed roll and one-line description.
#[derive(Debug, Clone)]
pub(super) struct Shown {
    pub clip: Clip,
    /// Where its notes go in a roll (unit coordinates).
    pub roll: RollLayout,
    /// For tooltips ("melody clip: 12 notes over 2 bar(s), C4 to G4").
    pub summary: String,
}

impl Shown {
    fn new(clip: Clip, map: &DrumMap) -> Self {
        let roll = pianoroll::layout(&clip, map);
        let summary = pianoroll::describe(&clip);
        Self { clip, roll, summary }
    }
}

/// What the engine is doing, as the editor understands it from its events.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    Idle,
    Running {
        /// The job's request id.
        id: u64,
        /// When the panel submitted it (or the engine said it started one).
        since: Instant,
        /// The engine confirmed it picked the job up.
        started: bool,
    },
    Done {
        /// How many results the job made.
        variations: usize,
    },
    /// The engine's error, in plain words.
    Failed(String),
    Cancelled,
}

/// Everything the editor draws from, plus its own UI state.
pub struct Panel {
    /// The host parameters (atomics, read every frame).
    pub params: Arc<CadenzaParams>,
    /// The editor's end of the channels to the worker and the audio thread.
    pub channels: EditorEnd,
    /// The drum classes, for drum rolls.
    pub(super) drum_map: DrumMap,
    /// The session's change stamp when last copied; `None` before the first frame.
    pub(super) stamp: Option<SessionStamp>,
    /// Input clips A and B as drawn.
    pub(super) inputs: [Option<Shown>; INPUT_SLOTS],
    /// Where each input's roll was drawn in the last frame, in logical points (a dropped file
    /// lands on the input under the pointer); `None`: not shown.
    pub(super) slot_rects: [Option<egui::Rect>; INPUT_SLOTS],
    /// The current batch of results as drawn.
    pub(super) results: Vec<Shown>,
    /// Index of the selected (playing) result.
    pub selected: Option<usize>,
    /// Keep/favourite marks, one per result (saved with the project).
    pub favourites: Vec<bool>,
    /// Identifies the current batch in file names: seconds since the Unix epoch when it arrived.
    pub(super) batch_stamp: u64,
    /// What the engine is doing, for the status bar and the Generate button.
    pub activity: Activity,
    /// With Key: Auto, the key the engine found in the last job's input ("A minor").
    pub detected_key: Option<String>,
    /// Jam's last call and the answer that sounded, as drawn.
    pub(super) jam_last: Option<(Shown, Shown)>,
    /// A line for the status bar: (text, good news?, when it was said).
    pub message: Option<(String, bool, Instant)>,
    /// Folder for "Export all" and for clicked (not dragged) drag buttons, as typed.
    pub export_dir: String,
    /// The keyboard moved the selection: scroll its card into view in the next frame.
    pub(super) scroll_to_selected: bool,
    /// The musician pressed Cancel for the running job.
    pub(super) cancel_requested: bool,
    /// Generate presses the audio thread dropped, as last reported to the musician.
    pub(super) dropped_presses_seen: u32,
    /// Loads, the file dialog and drag-outs in flight.
    pub(super) files: FileActions,
    /// The last frame's notes for the tests.
    #[cfg(feature = "test-hooks")]
    pub(super) probe: super::probe::Probe,
    /// When set, every frame appends (its start, how long the panel's code took).
    #[cfg(feature = "test-hooks")]
    pub frame_log: Option<FrameLog>,
}

impl Panel {
    pub fn new(params: Arc<CadenzaParams>, channels: EditorEnd) -> Self {
        Self {
            dropped_presses_seen: channels.dropped_presses(),
            params,
            channels,
            drum_map: DrumMap::from_spec(),
            stamp: None,
            inputs: [None, None],
            slot_rects: [None, None],
            results: Vec::new(),
            selected: None,
            favourites: Vec::new(),
            batch_stamp: now_secs(),
            activity: Activity::Idle,
            detected_key: None,
            jam_last: None,
            message: None,
            export_dir: super::files::clips_dir().to_string_lossy().into_owned(),
            scroll_to_selected: false,
            cancel_requested: false,
            files: FileActions::default(),
            #[cfg(feature = "test-hooks")]
            probe: Default::default(),
            #[cfg(feature = "test-hooks")]
            frame_log: None,
        }
    }

    pub fn results_len(&self) -> usize {
        self.results.len()
    }

    pub fn is_running(&self) -> bool {
        matches!(self.activity, Activity::Running { .. })
    }

    /// The settings a press of the panel's button makes: the same as the `generate` parameter's
    /// (see [`crate::tools::request_settings`]).
    pub fn settings(&self) -> ToolSettings {
        crate::tools::request_settings(&self.params)
    }

    /// Sends the current tool with the current inputs to the engine.
    pub fn submit(&mut self) {
        let settings = self.settings();
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
        match self.channels.submit(settings, seed) {
            // Shown as running at once; the engine's Started event confirms it.
            Some(id) => self.activity = Activity::Running { id, since: Instant::now(), started: false },
            None => self.say("The engine's queue is full; try again in a moment", false),
        }
    }

    /// Selects result `index`: the engine sends it to the player.
    pub fn select(&mut self, index: usize) {
        if index < self.results.len() {
            self.channels.select(index);
            self.selected = Some(index);
        }
    }

    pub(super) fn request_cancel(&mut self) {
        self.cancel_requested = true;
        self.channels.cancel(true);
    }

    /// Our cancel request ended with the job: lower the flag so later jobs (also the audio
    /// thread's) are not cancelled by it.
    fn clear_cancel(&mut self) {
        if std::mem::take(&mut self.cancel_requested) {
            self.channels.cancel(false);
        }
    }

    /// Puts `text` on the status line; `ok`: good news (else shown as a problem).
    pub(super) fn say(&mut self, text: impl Into<String>, ok: bool) {
        self.message = Some((text.into(), ok, Instant::now()));
    }

    /// Reads the worker's events, the dropped-press counter and the session (only when it
    /// changed), and the file helpers' answers.
    pub(super) fn poll_worker(&mut self) {
        while let Some(event) = self.channels.next_event() {
            match event {
                WorkerEvent::Started { id } => {
                    self.activity = Activity::Running { id, since: Instant::now(), started: true }
                }
                WorkerEvent::Finished { variations, detected_key, .. } => {
                    self.activity = Activity::Done { variations };
                    // "F#:harmonic-minor" reads "F# harmonic minor".
                    self.detected_key = detected_key.map(|key| key.to_string().replace([':', '-'], " "));
                    self.clear_cancel();
                }
                WorkerEvent::Failed { error, .. } => {
                    self.activity =
                        if self.cancel_requested { Activity::Cancelled } else { Activity::Failed(error.to_string()) };
                    self.clear_cancel();
                }
                WorkerEvent::Warning { message, .. } => self.say(capitalized(&message), true),
                WorkerEvent::JamAnswered { call, answer, .. } => {
                    self.jam_last = Some((Shown::new(call, &self.drum_map), Shown::new(answer, &self.drum_map)));
                }
            }
        }
        let dropped = self.channels.dropped_presses();
        if dropped != self.dropped_presses_seen {
            self.dropped_presses_seen = dropped;
            self.say("A Generate press came while earlier ones were still queued and was dropped: press again", false);
        }
        if self.channels.state() == WorkerState::Stopped && !matches!(self.activity, Activity::Failed(_)) {
            // Shown without waiting for a press that would fail.
            self.activity = Activity::Failed(JobError::Stopped.to_string());
        }
        let stamp = self.channels.session().stamp();
        if self.stamp != Some(stamp) {
            let (inputs, generated, selected) = self.channels.session().copy_contents();
            let batch_changed = self.stamp.map(|old| old.generated_id()) != Some(stamp.generated_id());
            self.inputs = inputs.map(|clip| clip.map(|c| Shown::new(c, &self.drum_map)));
            if batch_changed {
                self.results = generated.into_iter().map(|c| Shown::new(c, &self.drum_map)).collect();
                self.favourites = self.channels.session().kept_marks();
                self.batch_stamp = now_secs();
            }
            self.selected = selected;
            self.stamp = Some(stamp);
        }
        self.poll_files();
    }
}

/// Seams for the tests crate only (feature `test-hooks`).
#[cfg(feature = "test-hooks")]
impl Panel {
    /// The rectangle of a named control in the last frame (see [`super::probe`]).
    pub fn rect_of(&self, name: &str) -> Option<egui::Rect> {
        self.probe.rects.iter().find(|(n, _)| n == name).map(|(_, r)| *r)
    }

    /// Every named control of the last frame with its rectangle.
    pub fn widget_rects(&self) -> &[(String, egui::Rect)] {
        &self.probe.rects
    }

    /// The normalized value the parameter widget `name` showed in the last frame.
    pub fn shown_value(&self, name: &str) -> Option<f32> {
        self.probe.values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The temperature the slider showed in the last frame (NaN before the first).
    pub fn shown_temperature(&self) -> f32 {
        use nice_plug::prelude::Param;
        self.shown_value("temperature").map_or(f32::NAN, |normalized| self.params.temperature.preview_plain(normalized))
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `text` with its first letter upper-case.
pub(super) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
