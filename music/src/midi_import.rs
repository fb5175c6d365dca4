//! Standard MIDI File import (formats 0 and 1) into a [`Clip`] at 480 PPQ, with the file's
//! tempo / time-signature metas and track names returned alongside.
//!
//! Decisions, so behaviour on odd files is predictable:
//! - Ticks are rescaled from the file's PPQ with `round(t * 480 / ppq)` (half up) on absolute
//!   times, so errors never accumulate; a note that becomes zero ticks long lasts one tick.
//! - Note-on with velocity 0 is a note-off. Overlapping notes of one pitch and channel stay
//!   separate, and a note-off closes the **earliest** open one (FIFO), as most sequencers do.
//!   Notes still open at the end of their track end there.
//! - Tempo and time-signature metas are read from every track (format 1 keeps them in a
//!   conductor track); the clip gets the first time signature (4/4 when there is none; of
//!   several at the same tick the last one, which is the one in effect).
//! - `is_drum` is true when there are notes and all of them are on channel 10 (index 9).
//! - `bars` covers the last note end and the end of the chosen tracks, rounded up to whole bars.
//! - Refused with a typed error, never a panic: malformed/truncated data (midly's `strict`
//!   mode), format 2, PPQ 0, SMPTE timing (no beats to put on a grid), tempos outside
//!   10..=1000 bpm, invalid time signatures, more than `max_notes` notes, clips over u32 ticks.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use midly::{Format, MetaMessage, MidiMessage, Timing, TrackEventKind};

use crate::clip::{Clip, Note, Tick, TimeSignature, PPQ};
use crate::error::{MusicError, Result};

/// 1000 bpm.
pub const MIN_TEMPO_US_PER_QUARTER: u32 = 60_000;
/// 10 bpm.
pub const MAX_TEMPO_US_PER_QUARTER: u32 = 6_000_000;
/// 120 bpm, the MIDI default when a file has no tempo meta.
pub const DEFAULT_TEMPO_US_PER_QUARTER: u32 = 500_000;
pub const DEFAULT_MAX_NOTES: usize = 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackSelect {
    /// Every track merged.
    All,
    /// The track at this index (0-based, in file order, conductor track included).
    Index(usize),
    /// The first track with this name; exact match first, then trimmed and case-insensitive.
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    pub track: TrackSelect,
    /// Keep only notes on this channel (0-based; 9 = drums).
    pub channel: Option<u8>,
    pub max_notes: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            track: TrackSelect::All,
            channel: None,
            max_notes: DEFAULT_MAX_NOTES,
        }
    }
}

impl ImportOptions {
    pub fn track_named(name: &str) -> Self {
        ImportOptions {
            track: TrackSelect::Name(name.to_string()),
            ..Self::default()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TempoChange {
    pub tick: Tick,
    pub us_per_quarter: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSignatureChange {
    pub tick: Tick,
    pub time_signature: TimeSignature,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MidiImport {
    pub clip: Clip,
    /// The file's ticks per quarter note (the clip is always at 480).
    pub source_ppq: u16,
    /// 0 or 1.
    pub format: u8,
    /// The tempo in effect at the first tempo meta (the last of several at that tick; 120 bpm
    /// when the file has none).
    pub tempo_us_per_quarter: u32,
    /// Every tempo meta, sorted by tick, at 480 PPQ.
    pub tempo_changes: Vec<TempoChange>,
    /// Every time-signature meta, sorted by tick (file order within a tick), at 480 PPQ. The
    /// clip gets the one in effect at the earliest: the last of several metas at that tick.
    pub time_signature_changes: Vec<TimeSignatureChange>,
    /// One entry per track in file order; "" when a track has no name.
    pub track_names: Vec<String>,
    /// The selected track (`None` for [`TrackSelect::All`]).
    pub track: Option<usize>,
}

impl MidiImport {
    pub fn bpm(&self) -> f64 {
        60_000_000.0 / self.tempo_us_per_quarter as f64
    }
}

struct RawTrack {
    name: Option<String>,
    /// Notes at the file's PPQ: (pitch, velocity, start, end, channel).
    notes: Vec<(u8, u8, u64, u64, u8)>,
    end: u64,
}

/// Of the metas (sorted by tick) at the earliest tick, the last: the one in effect there.
fn in_effect<T: Copy>(metas: &[(u64, T)]) -> Option<T> {
    let first = metas.first()?.0;
    metas.iter().rev().find(|m| m.0 == first).map(|m| m.1)
}

fn malformed(e: midly::Error) -> MusicError {
    MusicError::MidiMalformed(e.to_string())
}

pub fn import_midi_file(path: impl AsRef<Path>, options: &ImportOptions) -> Result<MidiImport> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| MusicError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    import_midi(&bytes, options)
}

/// midly 0.5 negates the SMPTE frame-rate byte as an `i8`, which overflows (a panic in debug
/// builds) for 0x80. Refuse any header chunk with that byte before midly sees it; the scan is
/// conservative (any "MThd", also inside RIFF wrappers or repeated headers).
fn reject_midly_overflow(bytes: &[u8]) -> Result<()> {
    let bad = bytes
        .windows(4)
        .enumerate()
        .any(|(i, w)| w == b"MThd" && bytes.get(i + 12) == Some(&0x80));
    if bad {
        return Err(MusicError::MidiMalformed(
            "invalid SMPTE frame rate byte 0x80".into(),
        ));
    }
    Ok(())
}

pub fn import_midi(bytes: &[u8], options: &ImportOptions) -> Result<MidiImport> {
    reject_midly_overflow(bytes)?;
    let (header, tracks) = midly::parse(bytes).map_err(malformed)?;
    let format = match header.format {
        Format::SingleTrack => 0,
        Format::Parallel => 1,
        Format::Sequential => return Err(MusicError::MidiFormatUnsupported),
    };
    let ppq = match header.timing {
        Timing::Metrical(t) if t.as_int() == 0 => return Err(MusicError::InvalidPpq(0)),
        Timing::Metrical(t) => t.as_int(),
        Timing::Timecode(fps, subframes) => {
            return Err(MusicError::SmpteTimingUnsupported {
                fps: fps.as_int(),
                subframes,
            })
        }
    };
    let declared_tracks = tracks.size_hint().0;

    let mut raw_tracks: Vec<RawTrack> = Vec::new();
    let mut tempos: Vec<(u64, u32)> = Vec::new();
    let mut signatures: Vec<(u64, TimeSignature)> = Vec::new();
    let mut note_count = 0usize;
    // (channel, pitch) -> open notes (start, velocity), earliest first.
    let mut open: HashMap<(u8, u8), VecDeque<(u64, u8)>> = HashMap::new();

    for track in tracks {
        let track = track.map_err(malformed)?;
        let mut t = RawTrack {
            name: None,
            notes: Vec::new(),
            end: 0,
        };
        let mut now: u64 = 0;
        open.clear();
        for event in track {
            let event = event.map_err(malformed)?;
            now += event.delta.as_int() as u64;
            match event.kind {
                TrackEventKind::Midi { channel, message } => {
                    let ch = channel.as_int();
                    let (key, vel, on) = match message {
                        MidiMessage::NoteOn { key, vel } => {
                            (key.as_int(), vel.as_int(), vel.as_int() > 0)
                        }
                        MidiMessage::NoteOff { key, vel } => (key.as_int(), vel.as_int(), false),
                        _ => continue,
                    };
                    if on {
                        note_count += 1;
                        if note_count > options.max_notes {
                            return Err(MusicError::TooManyNotes {
                                limit: options.max_notes,
                            });
                        }
                        open.entry((ch, key)).or_default().push_back((now, vel));
                    } else if let Some((start, v)) =
                        open.get_mut(&(ch, key)).and_then(|q| q.pop_front())
                    {
                        t.notes.push((key, v, start, now, ch));
                    }
                }
                TrackEventKind::Meta(MetaMessage::TrackName(name)) if t.name.is_none() => {
                    t.name = Some(String::from_utf8_lossy(name).into_owned());
                }
                TrackEventKind::Meta(MetaMessage::Tempo(us)) => {
                    let us = us.as_int();
                    if !(MIN_TEMPO_US_PER_QUARTER..=MAX_TEMPO_US_PER_QUARTER).contains(&us) {
                        return Err(MusicError::AbsurdTempo {
                            us_per_quarter: us,
                            min: MIN_TEMPO_US_PER_QUARTER,
                            max: MAX_TEMPO_US_PER_QUARTER,
                        });
                    }
                    tempos.push((now, us));
                }
                TrackEventKind::Meta(MetaMessage::TimeSignature(num, den_pow, _, _)) => {
                    if num == 0 || den_pow > 7 {
                        return Err(MusicError::InvalidTimeSignature {
                            numerator: num,
                            denominator_power: den_pow,
                        });
                    }
                    signatures.push((
                        now,
                        TimeSignature {
                            numerator: num,
                            denominator: 1 << den_pow,
                        },
                    ));
                }
                _ => {}
            }
        }
        t.end = now;
        for (&(ch, key), q) in open.iter() {
            for &(start, v) in q {
                t.notes.push((key, v, start, now, ch));
            }
        }
        raw_tracks.push(t);
    }
    if raw_tracks.len() != declared_tracks {
        return Err(MusicError::MidiMalformed(format!(
            "header declares {declared_tracks} tracks, file has {}",
            raw_tracks.len()
        )));
    }

    let rescale = |t: u64| -> Result<Tick> {
        let r = (t as u128 * PPQ as u128 + ppq as u128 / 2) / ppq as u128;
        Tick::try_from(r).map_err(|_| MusicError::ClipTooLong {
            ticks: r.min(u64::MAX as u128) as u64,
        })
    };

    let track_names: Vec<String> = raw_tracks
        .iter()
        .map(|t| t.name.clone().unwrap_or_default())
        .collect();
    let selected: Option<usize> = match &options.track {
        TrackSelect::All => None,
        TrackSelect::Index(i) if *i < raw_tracks.len() => Some(*i),
        TrackSelect::Index(i) => {
            return Err(MusicError::TrackIndexOutOfRange {
                index: *i,
                tracks: raw_tracks.len(),
            })
        }
        TrackSelect::Name(name) => {
            let exact = track_names.iter().position(|n| n == name);
            let loose = || {
                track_names
                    .iter()
                    .position(|n| n.trim().eq_ignore_ascii_case(name.trim()))
            };
            Some(
                exact
                    .or_else(loose)
                    .ok_or_else(|| MusicError::TrackNameNotFound(name.clone()))?,
            )
        }
    };

    tempos.sort_by_key(|&(t, _)| t);
    signatures.sort_by_key(|&(t, _)| t);
    // Of several metas at the earliest tick, the last one is the one in effect.
    let time_signature = in_effect(&signatures).unwrap_or_default();
    let tempo = in_effect(&tempos).unwrap_or(DEFAULT_TEMPO_US_PER_QUARTER);

    let mut notes = Vec::new();
    let mut end: Tick = 0;
    for (i, t) in raw_tracks.iter().enumerate() {
        if selected.is_some_and(|s| s != i) {
            continue;
        }
        end = end.max(rescale(t.end)?);
        for &(pitch, velocity, start, stop, channel) in &t.notes {
            if options.channel.is_some_and(|c| c != channel) {
                continue;
            }
            let start = rescale(start)?;
            let stop = rescale(stop)?.max(start.saturating_add(1));
            end = end.max(stop);
            notes.push(Note {
                pitch,
                velocity,
                start,
                end: stop,
                channel,
            });
        }
    }
    let bar = time_signature.ticks_per_bar().max(1) as u64;
    let bars = u16::try_from((end as u64).div_ceil(bar))
        .map_err(|_| MusicError::ClipTooLong { ticks: end as u64 })?;
    let is_drum = !notes.is_empty() && notes.iter().all(|n| n.channel == 9);
    let mut clip = Clip {
        notes,
        bars,
        time_signature,
        is_drum,
    };
    clip.sort();

    Ok(MidiImport {
        clip,
        source_ppq: ppq,
        format,
        tempo_us_per_quarter: tempo,
        tempo_changes: tempos
            .iter()
            .map(|&(t, us)| {
                Ok(TempoChange {
                    tick: rescale(t)?,
                    us_per_quarter: us,
                })
            })
            .collect::<Result<_>>()?,
        time_signature_changes: signatures
            .iter()
            .map(|&(t, ts)| {
                Ok(TimeSignatureChange {
                    tick: rescale(t)?,
                    time_signature: ts,
                })
            })
            .collect::<Result<_>>()?,
        track_names,
        track: selected,
    })
}
