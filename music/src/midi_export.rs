//! Standard MIDI File export: format 1 at 480 PPQ, a conductor track (the tempo map and the time
//! signature) and one named note track, so any DAW and our own importer read it back.
//!
//! Importing an exported clip gives the identical clip, provided no two notes of one pitch and
//! channel are nested (one starting after and ending before another): MIDI cannot tell which
//! note-off belongs to which note-on, and the importer pairs them first-in, first-out. At equal
//! ticks note-offs are written before note-ons so a repeated note is not cut short. Notes that
//! end after the clip's last bar are kept; the re-imported clip then has more bars.

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::clip::{Clip, Tick, PPQ};
use crate::error::{MusicError, Result};
use crate::midi_import::{
    TempoChange, DEFAULT_TEMPO_US_PER_QUARTER, MAX_TEMPO_US_PER_QUARTER, MIN_TEMPO_US_PER_QUARTER,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// The tempo at tick 0.
    pub tempo_us_per_quarter: u32,
    pub track_name: String,
    /// The song's later tempo changes (the tempo map), in the clip's ticks: written into the
    /// conductor track. Changes at tick 0 or at or after the clip's end are left out.
    pub tempo_changes: Vec<TempoChange>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            tempo_us_per_quarter: DEFAULT_TEMPO_US_PER_QUARTER,
            track_name: "Cadenza".into(),
            tempo_changes: Vec::new(),
        }
    }
}

impl ExportOptions {
    pub fn with_bpm(bpm: f64, track_name: &str) -> Self {
        let us = (60_000_000.0 / bpm).round();
        let us = if us.is_finite() { us.clamp(0.0, u32::MAX as f64) as u32 } else { 0 };
        ExportOptions { tempo_us_per_quarter: us, track_name: track_name.into(), tempo_changes: Vec::new() }
    }

    /// A song's tempo map from `from` ticks on, as seen by a clip that starts there: the tempo in
    /// effect at `from` at tick 0, the later changes moved by `-from`. `initial` is the tempo
    /// before the first change.
    pub fn with_tempo_map(initial: u32, changes: &[TempoChange], from: Tick, track_name: &str) -> Self {
        let mut sorted = changes.to_vec();
        sorted.sort_by_key(|c| c.tick);
        let at_start = sorted.iter().rev().find(|c| c.tick <= from).map_or(initial, |c| c.us_per_quarter);
        ExportOptions {
            tempo_us_per_quarter: at_start,
            track_name: track_name.into(),
            tempo_changes: sorted
                .iter()
                .filter(|c| c.tick > from)
                .map(|c| TempoChange { tick: c.tick - from, us_per_quarter: c.us_per_quarter })
                .collect(),
        }
    }
}

/// Turns absolute-time events into delta-time track events (the input must be sorted).
fn with_deltas<'a>(events: Vec<(Tick, TrackEventKind<'a>)>) -> Result<Vec<TrackEvent<'a>>> {
    let mut now = 0;
    events
        .into_iter()
        .map(|(t, kind)| {
            let delta = u28::try_from(t - now).ok_or(MusicError::ClipTooLong { ticks: t as u64 })?;
            now = t;
            Ok(TrackEvent { delta, kind })
        })
        .collect()
}

/// Encodes the clip as .mid bytes.
pub fn export_midi(clip: &Clip, options: &ExportOptions) -> Result<Vec<u8>> {
    clip.validate()?;
    let ts = clip.time_signature;
    if ts.numerator == 0 || !ts.denominator.is_power_of_two() {
        return Err(MusicError::InvalidTimeSignature {
            numerator: ts.numerator,
            denominator_power: ts.denominator.checked_ilog2().unwrap_or(0) as u8,
        });
    }
    let tempo = options.tempo_us_per_quarter;
    let check = |tempo: u32| {
        if (MIN_TEMPO_US_PER_QUARTER..=MAX_TEMPO_US_PER_QUARTER).contains(&tempo) {
            Ok(())
        } else {
            Err(MusicError::AbsurdTempo {
                us_per_quarter: tempo,
                min: MIN_TEMPO_US_PER_QUARTER,
                max: MAX_TEMPO_US_PER_QUARTER,
            })
        }
    };
    check(tempo)?;
    let length = clip.time_signature.ticks_per_bar() as u64 * clip.bars as u64;
    let length = Tick::try_from(length).map_err(|_| MusicError::ClipTooLong { ticks: length })?;

    let mut conductor = vec![
        (0, TrackEventKind::Meta(MetaMessage::Tempo(u24::new(tempo)))),
        (0, TrackEventKind::Meta(MetaMessage::TimeSignature(ts.numerator, ts.denominator.ilog2() as u8, 24, 8))),
    ];
    let mut changes = options.tempo_changes.clone();
    changes.sort_by_key(|c| c.tick);
    for c in changes.iter().filter(|c| c.tick > 0 && c.tick < length) {
        check(c.us_per_quarter)?;
        conductor.push((c.tick, TrackEventKind::Meta(MetaMessage::Tempo(u24::new(c.us_per_quarter)))));
    }
    conductor.push((length, TrackEventKind::Meta(MetaMessage::EndOfTrack)));
    let conductor = with_deltas(conductor)?;

    let mut notes = clip.notes.clone();
    notes.sort_by_key(|n| (n.start, n.pitch, n.end, n.channel, n.velocity));
    // (tick, 0 = off / 1 = on, index in sorted order): offs first, then clip order.
    let mut order: Vec<(Tick, u8, usize)> = Vec::with_capacity(notes.len() * 2);
    for (i, n) in notes.iter().enumerate() {
        order.push((n.start, 1, i));
        order.push((n.end, 0, i));
    }
    order.sort_unstable();
    let mut events = Vec::with_capacity(order.len() + 2);
    events.push((0, TrackEventKind::Meta(MetaMessage::TrackName(options.track_name.as_bytes()))));
    for &(t, on, i) in &order {
        let n = &notes[i];
        let (channel, key) = (u4::new(n.channel), u7::new(n.pitch));
        let message = if on == 1 {
            MidiMessage::NoteOn { key, vel: u7::new(n.velocity) }
        } else {
            MidiMessage::NoteOff { key, vel: u7::new(64) }
        };
        events.push((t, TrackEventKind::Midi { channel, message }));
    }
    let last = order.last().map_or(0, |e| e.0).max(length);
    events.push((last, TrackEventKind::Meta(MetaMessage::EndOfTrack)));
    let notes_track = with_deltas(events)?;

    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(u15::new(PPQ as u16))),
        tracks: vec![conductor, notes_track],
    };
    let mut out = Vec::new();
    smf.write_std(&mut out).map_err(|e| MusicError::Io { path: "<memory>".into(), message: e.to_string() })?;
    Ok(out)
}
