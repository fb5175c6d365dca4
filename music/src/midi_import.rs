//! Standard MIDI File import (formats 0, 1 and 2) into a [`Clip`] at 480 PPQ, with the file's
//! tempo / time-signature metas and track names returned alongside.
//!
//! # Files as real programs write them
//!
//! Cadenza reads every file whose intent is clear, as mido and pretty_midi do, and says what it
//! repaired ([`MidiImport::repairs`]); a file it refuses gets a plain-words reason with the place
//! (byte offset, track, tick). Read, with a repair note where the file breaks the standard:
//! - running status that carries on across meta and SysEx events (as mido reads it);
//! - a track without an end-of-track event (it ends at its last event);
//! - a track whose length field is wrong: the events are read up to the end-of-track event (or
//!   up to where the next track begins, or the end of the file), whatever the field says;
//! - bytes after the last track (ignored), unknown chunks (skipped), a RIFF (RMID) wrapper or a
//!   few bytes before the header (skipped), a header longer than 6 bytes;
//! - fewer or more tracks than the header declares (the tracks that are there are read);
//! - tempo metas outside 10..=1000 bpm (ignored: the notes' beats are still clear);
//! - System Common / real-time bytes inside a track (skipped).
//!
//! Refused, saying what and where: no `MThd` header; a header shorter than 6 bytes; format > 2;
//! 0 ticks per quarter; SMPTE timing (no beats to put on a grid); a data byte where an event
//! must start and no running status to repeat; a status byte inside a message's data; a file
//! that ends in the middle of an event (an incomplete download); a time-signature meta with
//! numerator 0 or a denominator above 2^7; a meter change inside the music (see below); more
//! than `max_notes` notes; clips over u32 ticks.
//!
//! # Decisions, so behaviour on odd files is predictable
//! - Ticks are rescaled from the file's PPQ with `round(t * 480 / ppq)` (half up) on absolute
//!   times, so errors never accumulate; a note that becomes zero ticks long lasts one tick.
//! - Note-on with velocity 0 is a note-off. Overlapping notes of one pitch and channel stay
//!   separate, and a note-off closes the **earliest** open one (FIFO), as most sequencers do.
//!   Notes still open at the end of their track end there.
//! - Format 0 and 1 tracks play together from tick 0. Format 2 tracks are independent patterns
//!   played one after another (the standard's meaning): each starts where the previous ended.
//! - Tempo and time-signature metas are read from every track (format 1 keeps them in a
//!   conductor track); the clip gets the first time signature (4/4 when there is none; of
//!   several at the same tick the last one, which is the one in effect).
//! - Meter: a time signature that changes while the music plays is never re-barred silently.
//!   With [`MeterChanges::Refuse`] (the default) the file is refused with
//!   [`MusicError::MeterChange`], which names the bar; [`MeterChanges::FirstMeter`] counts every
//!   bar in the first meter (what dataset readers want) and lists the changes. A change after the
//!   last note (nothing sounds in the new meter) is not a change of the music.
//! - `is_drum` is true when there are notes and all of them are on channel 10 (index 9).
//! - `bars` covers the last note end and the end of the chosen tracks, rounded up to whole bars.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

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

/// What to do with a time signature that changes while the music plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MeterChanges {
    /// Refuse the file with [`MusicError::MeterChange`], naming the bar (the default: a clip
    /// has one meter, and re-barring music is never done silently).
    #[default]
    Refuse,
    /// Count every bar in the first meter and list the changes in
    /// [`MidiImport::time_signature_changes`] (for reading datasets).
    FirstMeter,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    pub track: TrackSelect,
    /// Keep only notes on this channel (0-based; 9 = drums).
    pub channel: Option<u8>,
    pub max_notes: usize,
    pub meter_changes: MeterChanges,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            track: TrackSelect::All,
            channel: None,
            max_notes: DEFAULT_MAX_NOTES,
            meter_changes: MeterChanges::Refuse,
        }
    }
}

impl ImportOptions {
    pub fn track_named(name: &str) -> Self {
        ImportOptions { track: TrackSelect::Name(name.to_string()), ..Self::default() }
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
    /// 0, 1 or 2.
    pub format: u8,
    /// The tempo in effect at the first tempo meta (the last of several at that tick; 120 bpm
    /// when the file has none).
    pub tempo_us_per_quarter: u32,
    /// Every (valid) tempo meta, sorted by tick, at 480 PPQ: the song's tempo map.
    pub tempo_changes: Vec<TempoChange>,
    /// Every time-signature meta, sorted by tick (file order within a tick), at 480 PPQ. The
    /// clip gets the one in effect at the earliest: the last of several metas at that tick.
    pub time_signature_changes: Vec<TimeSignatureChange>,
    /// One entry per track in file order; "" when a track has no name.
    pub track_names: Vec<String>,
    /// The selected track (`None` for [`TrackSelect::All`]).
    pub track: Option<usize>,
    /// What was wrong with the file and how it was read anyway, in plain words (empty for a
    /// file that follows the standard). Callers should show these.
    pub repairs: Vec<String>,
}

impl MidiImport {
    pub fn bpm(&self) -> f64 {
        60_000_000.0 / self.tempo_us_per_quarter as f64
    }
}

/// A note at the file's PPQ: (pitch, velocity, start, end, channel).
type RawNote = (u8, u8, u64, u64, u8);

struct RawTrack {
    name: Option<String>,
    notes: Vec<RawNote>,
    end: u64,
}

/// Of the metas (sorted by tick) at the earliest tick, the last: the one in effect there.
fn in_effect<T: Copy>(metas: &[(u64, T)]) -> Option<T> {
    let first = metas.first()?.0;
    metas.iter().rev().find(|m| m.0 == first).map(|m| m.1)
}

pub fn import_midi_file(path: impl AsRef<Path>, options: &ImportOptions) -> Result<MidiImport> {
    let path = path.as_ref();
    let bytes =
        std::fs::read(path).map_err(|e| MusicError::Io { path: path.display().to_string(), message: e.to_string() })?;
    import_midi(&bytes, options)
}

fn malformed(message: String) -> MusicError {
    MusicError::MidiMalformed(message)
}

/// A chunk id: four printable ASCII characters.
fn is_chunk_id(b: &[u8]) -> bool {
    b.len() >= 4 && b[..4].iter().all(|c| c.is_ascii_alphanumeric() || *c == b' ')
}

/// Whether the bytes at `pos` start a track chunk (or the file ends there).
fn chunk_or_end(b: &[u8], pos: usize) -> bool {
    pos >= b.len() || b[pos..].starts_with(b"MTrk")
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A printable description of up to four bytes at the file's start.
fn first_bytes(b: &[u8]) -> String {
    if b.is_empty() {
        return "the file is empty".into();
    }
    let shown: Vec<String> = b.iter().take(4).map(|x| format!("{x:02X}")).collect();
    format!("it starts with the bytes {}", shown.join(" "))
}

/// One MIDI event as the track parser reports it.
enum Event<'a> {
    Channel { status: u8, data: [u8; 2] },
    Meta { kind: u8, data: &'a [u8] },
    Other,
}

struct TrackParse<'a> {
    events: Vec<(u64, Event<'a>, usize)>,
    /// Where parsing stopped (just after the end-of-track event, or where the track ended).
    stop: usize,
    had_end: bool,
    /// The tick of the end-of-track event (or of the last event), relative to the track.
    end_tick: u64,
}

/// Reads a variable-length quantity at `*pos`. `Ok(None)`: the file ends inside it.
fn vlq(b: &[u8], pos: &mut usize) -> std::result::Result<Option<u32>, ()> {
    let mut v: u32 = 0;
    for i in 0..4 {
        let Some(&byte) = b.get(*pos) else {
            return Ok(None);
        };
        *pos += 1;
        v = (v << 7) | (byte & 0x7F) as u32;
        if byte & 0x80 == 0 {
            return Ok(Some(v));
        }
        if i == 3 {
            return Err(());
        }
    }
    Err(())
}

fn channel_data_len(status: u8) -> usize {
    match status & 0xF0 {
        0xC0 | 0xD0 => 1,
        _ => 2,
    }
}

fn event_name(status: u8) -> &'static str {
    match status & 0xF0 {
        0x80 => "note-off",
        0x90 => "note-on",
        0xA0 => "aftertouch",
        0xB0 => "controller",
        0xC0 => "program change",
        0xD0 => "channel pressure",
        _ => "pitch bend",
    }
}

/// Parses the events of the track whose data starts at `start` and whose length field says
/// `declared` bytes (see the module docs for how a wrong length is handled).
fn parse_track<'a>(b: &'a [u8], start: usize, declared: usize, number: usize) -> Result<TrackParse<'a>> {
    let declared_end = start.saturating_add(declared);
    let mut pos = start;
    let mut now: u64 = 0;
    let mut running: Option<u8> = None;
    let mut events = Vec::new();
    let truncated = |pos: usize, now: u64| {
        malformed(format!(
            "the file ends in the middle of an event of track {number} (byte {pos}, tick {now}): \
             it is incomplete (an interrupted download or copy?)"
        ))
    };
    loop {
        // The length field says the track ends here, and a track (or the file's end) follows:
        // a track without an end-of-track event.
        if pos >= b.len() || b[pos..].starts_with(b"MTrk") || (pos == declared_end && is_chunk_id(&b[pos..])) {
            return Ok(TrackParse { events, stop: pos, had_end: false, end_tick: now });
        }
        let event_at = pos;
        let delta = match vlq(b, &mut pos) {
            Ok(Some(d)) => d,
            Ok(None) => return Err(truncated(event_at, now)),
            Err(()) => {
                return Err(malformed(format!(
                    "track {number}, byte {event_at} (tick {now}): a delta time longer than the \
                     4 bytes MIDI allows"
                )))
            }
        };
        now += delta as u64;
        let Some(&first) = b.get(pos) else {
            return Err(truncated(pos, now));
        };
        let status = if first >= 0x80 {
            pos += 1;
            first
        } else {
            match running {
                Some(s) => s,
                None => {
                    return Err(malformed(format!(
                        "track {number}, byte {pos} (tick {now}): the data byte 0x{first:02X} \
                         stands where an event must start, and there is no earlier event to \
                         repeat (running status)"
                    )))
                }
            }
        };
        match status {
            0x80..=0xEF => {
                running = Some(status);
                let n = channel_data_len(status);
                let mut data = [0u8; 2];
                for d in data.iter_mut().take(n) {
                    let Some(&x) = b.get(pos) else {
                        return Err(truncated(pos, now));
                    };
                    if x >= 0x80 {
                        return Err(malformed(format!(
                            "track {number}, byte {pos} (tick {now}): a {} event is cut short \
                             by the status byte 0x{x:02X} (a data byte must be below 0x80)",
                            event_name(status)
                        )));
                    }
                    *d = x;
                    pos += 1;
                }
                events.push((now, Event::Channel { status, data }, event_at));
            }
            0xFF => {
                let Some(&kind) = b.get(pos) else {
                    return Err(truncated(pos, now));
                };
                pos += 1;
                let len = match vlq(b, &mut pos) {
                    Ok(Some(l)) => l as usize,
                    Ok(None) => return Err(truncated(pos, now)),
                    Err(()) => {
                        return Err(malformed(format!(
                            "track {number}, byte {event_at} (tick {now}): a meta event whose \
                             length is longer than the 4 bytes MIDI allows"
                        )))
                    }
                };
                let Some(data) = b.get(pos..pos.saturating_add(len)) else {
                    return Err(truncated(pos, now));
                };
                pos += len;
                if kind == 0x2F {
                    return Ok(TrackParse { events, stop: pos, had_end: true, end_tick: now });
                }
                events.push((now, Event::Meta { kind, data }, event_at));
            }
            0xF0 | 0xF7 => {
                let len = match vlq(b, &mut pos) {
                    Ok(Some(l)) => l as usize,
                    Ok(None) => return Err(truncated(pos, now)),
                    Err(()) => {
                        return Err(malformed(format!(
                            "track {number}, byte {event_at} (tick {now}): a SysEx event whose \
                             length is longer than the 4 bytes MIDI allows"
                        )))
                    }
                };
                if b.len() < pos.saturating_add(len) {
                    return Err(truncated(pos, now));
                }
                pos += len;
                events.push((now, Event::Other, event_at));
            }
            // System Common and real-time bytes have no place in a file; skip them with their
            // data bytes.
            0xF1 | 0xF3 => pos = (pos + 1).min(b.len()),
            0xF2 => pos = (pos + 2).min(b.len()),
            _ => {}
        }
    }
}

/// The parsed chunks: format, declared track count, division, tracks, repairs.
struct Parsed<'a> {
    format: u16,
    division: u16,
    tracks: Vec<TrackParse<'a>>,
    repairs: Vec<String>,
}

fn parse_file(bytes: &[u8]) -> Result<Parsed<'_>> {
    let mut repairs = Vec::new();
    // The header: at the start, or after a RIFF (RMID) wrapper or a few stray bytes.
    let at = match bytes.windows(4).take(4096).position(|w| w == b"MThd") {
        Some(0) => 0,
        Some(k) => {
            repairs.push(format!("the MIDI header starts at byte {k}; the {k} bytes before it were skipped"));
            k
        }
        None => {
            return Err(malformed(format!(
                "this is not a MIDI file: there is no 'MThd' header at its start ({})",
                first_bytes(bytes)
            )))
        }
    };
    if bytes.len() < at + 8 {
        return Err(malformed(format!("the file ends inside its header (byte {}): it is incomplete", bytes.len())));
    }
    let header_len = be32(bytes, at + 4) as usize;
    if header_len < 6 {
        return Err(malformed(format!(
            "the MIDI header at byte {at} says it is {header_len} bytes long; it needs at least 6 \
             (format, number of tracks, timing)"
        )));
    }
    if bytes.len() < at + 14 {
        return Err(malformed(format!("the file ends inside its header (byte {}): it is incomplete", bytes.len())));
    }
    let format = be16(bytes, at + 8);
    let declared = be16(bytes, at + 10) as usize;
    let division = be16(bytes, at + 12);
    if format > 2 {
        return Err(MusicError::MidiFormatUnsupported(format));
    }
    let mut pos = (at + 8).saturating_add(header_len);
    if header_len > 6 {
        repairs.push(format!("the header is {header_len} bytes long (6 is standard); the extra bytes were skipped"));
    }
    let mut tracks = Vec::new();
    while pos < bytes.len() {
        if bytes.len() - pos < 8 {
            repairs.push(format!("{} byte(s) after the last track (from byte {pos}) were ignored", bytes.len() - pos));
            break;
        }
        if !is_chunk_id(&bytes[pos..]) {
            // Bytes after the last track: when they do not hide a further track, ignore them.
            match bytes[pos + 1..].windows(4).position(|w| w == b"MTrk") {
                Some(k) if tracks.len() < declared => {
                    repairs.push(format!(
                        "{} unreadable byte(s) at byte {pos} before track {} were skipped",
                        k + 1,
                        tracks.len() + 1
                    ));
                    pos += k + 1;
                    continue;
                }
                _ => {
                    repairs.push(format!(
                        "{} byte(s) after the last track (from byte {pos}) were ignored",
                        bytes.len() - pos
                    ));
                    break;
                }
            }
        }
        let id = &bytes[pos..pos + 4];
        let len = be32(bytes, pos + 4) as usize;
        let data = pos + 8;
        if id != b"MTrk" {
            let name = String::from_utf8_lossy(id).into_owned();
            repairs.push(format!("an unknown chunk '{name}' at byte {pos} was skipped"));
            pos = data.saturating_add(len);
            continue;
        }
        let number = tracks.len() + 1;
        let t = parse_track(bytes, data, len, number)?;
        let declared_end = data.saturating_add(len);
        let next = if declared_end <= bytes.len() && chunk_or_end(bytes, declared_end) { declared_end } else { t.stop };
        if next != declared_end {
            repairs.push(format!(
                "track {number}'s length field says {len} bytes, but its events take {}; read \
                 up to {}",
                t.stop - data,
                if t.had_end { "its end-of-track event" } else { "where the next track begins (or the file ends)" }
            ));
        } else if t.stop < declared_end {
            repairs.push(format!(
                "track {number} has {} byte(s) after its end-of-track event; they were ignored",
                declared_end - t.stop
            ));
        }
        if !t.had_end {
            repairs.push(format!("track {number} has no end-of-track event; it ends with its last event"));
        }
        pos = next.max(data);
        tracks.push(t);
    }
    if tracks.len() != declared {
        repairs.push(format!(
            "the header declares {declared} track(s), the file has {}; the tracks that are \
             there were read",
            tracks.len()
        ));
    }
    Ok(Parsed { format, division, tracks, repairs })
}

pub fn import_midi(bytes: &[u8], options: &ImportOptions) -> Result<MidiImport> {
    let Parsed { format, division, tracks, mut repairs } = parse_file(bytes)?;
    let ppq = if division & 0x8000 != 0 {
        let fps = (-((division >> 8) as u8 as i8 as i16)) as u16;
        let subframes = (division & 0xFF) as u8;
        return Err(match fps {
            24 | 25 | 29 | 30 => MusicError::SmpteTimingUnsupported { fps: fps as u8, subframes },
            _ => malformed(format!(
                "the header's timing field 0x{division:04X} is neither ticks per quarter note \
                 nor a valid SMPTE frame rate"
            )),
        });
    } else if division == 0 {
        return Err(MusicError::InvalidPpq(0));
    } else {
        division
    };

    let mut raw_tracks: Vec<RawTrack> = Vec::new();
    let mut tempos: Vec<(u64, u32)> = Vec::new();
    let mut signatures: Vec<(u64, TimeSignature)> = Vec::new();
    let mut note_count = 0usize;
    // (channel, pitch) -> open notes (start, velocity), earliest first.
    let mut open: HashMap<(u8, u8), VecDeque<(u64, u8)>> = HashMap::new();
    // Format 2: each track starts where the previous one ended.
    let mut offset: u64 = 0;

    for (index, track) in tracks.iter().enumerate() {
        let number = index + 1;
        let mut t = RawTrack { name: None, notes: Vec::new(), end: 0 };
        let mut now = offset;
        open.clear();
        for (tick, event, at) in &track.events {
            now = offset + tick;
            match event {
                Event::Channel { status, data } => {
                    let ch = status & 0x0F;
                    let (key, vel) = (data[0], data[1]);
                    let on = match status & 0xF0 {
                        0x90 => vel > 0,
                        0x80 => false,
                        _ => continue,
                    };
                    if on {
                        note_count += 1;
                        if note_count > options.max_notes {
                            return Err(MusicError::TooManyNotes { limit: options.max_notes });
                        }
                        open.entry((ch, key)).or_default().push_back((now, vel));
                    } else if let Some((start, v)) = open.get_mut(&(ch, key)).and_then(|q| q.pop_front()) {
                        t.notes.push((key, v, start, now, ch));
                    }
                }
                Event::Meta { kind: 0x03, data } if t.name.is_none() => {
                    t.name = Some(String::from_utf8_lossy(data).into_owned());
                }
                Event::Meta { kind: 0x51, data } => {
                    if data.len() < 3 {
                        repairs.push(format!(
                            "a tempo event of {} byte(s) in track {number} (byte {at}, tick \
                             {tick}) was ignored",
                            data.len()
                        ));
                        continue;
                    }
                    let us = u32::from_be_bytes([0, data[0], data[1], data[2]]);
                    if !(MIN_TEMPO_US_PER_QUARTER..=MAX_TEMPO_US_PER_QUARTER).contains(&us) {
                        repairs.push(format!(
                            "a tempo of {us} µs per quarter note in track {number} (byte {at}, \
                             tick {tick}) is outside 10..=1000 bpm and was ignored"
                        ));
                        continue;
                    }
                    tempos.push((now, us));
                }
                Event::Meta { kind: 0x58, data } => {
                    let (num, den_pow) = (data.first().copied().unwrap_or(0), data.get(1).copied().unwrap_or(0));
                    if num == 0 || den_pow > 7 || data.len() < 2 {
                        return Err(malformed(format!(
                            "track {number}, byte {at} (tick {tick}): the time signature \
                             {num}/2^{den_pow} cannot be read (a numerator of 0 or a \
                             denominator above 128), so the bars are unknown"
                        )));
                    }
                    signatures.push((now, TimeSignature { numerator: num, denominator: 1 << den_pow }));
                }
                _ => {}
            }
        }
        // A track ends at its end-of-track event (or last event).
        let _ = now;
        t.end = offset + track.end_tick;
        for (&(ch, key), q) in open.iter() {
            for &(start, v) in q {
                t.notes.push((key, v, start, t.end, ch));
            }
        }
        if format == 2 {
            offset = t.end;
        }
        raw_tracks.push(t);
    }
    if format == 2 && raw_tracks.iter().filter(|t| !t.notes.is_empty()).count() > 1 {
        repairs.push("format 2: the tracks are independent patterns and were placed one after another".into());
    }

    let rescale = |t: u64| -> Result<Tick> {
        let r = (t as u128 * PPQ as u128 + ppq as u128 / 2) / ppq as u128;
        Tick::try_from(r).map_err(|_| MusicError::ClipTooLong { ticks: r.min(u64::MAX as u128) as u64 })
    };

    let track_names: Vec<String> = raw_tracks.iter().map(|t| t.name.clone().unwrap_or_default()).collect();
    let selected: Option<usize> = match &options.track {
        TrackSelect::All => None,
        TrackSelect::Index(i) if *i < raw_tracks.len() => Some(*i),
        TrackSelect::Index(i) => return Err(MusicError::TrackIndexOutOfRange { index: *i, tracks: raw_tracks.len() }),
        TrackSelect::Name(name) => {
            let exact = track_names.iter().position(|n| n == name);
            let loose = || track_names.iter().position(|n| n.trim().eq_ignore_ascii_case(name.trim()));
            Some(exact.or_else(loose).ok_or_else(|| MusicError::TrackNameNotFound(name.clone()))?)
        }
    };

    tempos.sort_by_key(|&(t, _)| t);
    signatures.sort_by_key(|&(t, _)| t);
    // Of several metas at the earliest tick, the last one is the one in effect.
    let time_signature = in_effect(&signatures).unwrap_or_default();
    let tempo = in_effect(&tempos).unwrap_or(DEFAULT_TEMPO_US_PER_QUARTER);

    let mut notes = Vec::new();
    let mut end: Tick = 0;
    let mut music_end: u64 = 0;
    for (i, t) in raw_tracks.iter().enumerate() {
        if selected.is_some_and(|s| s != i) {
            continue;
        }
        end = end.max(rescale(t.end)?);
        for &(pitch, velocity, start, stop, channel) in &t.notes {
            if options.channel.is_some_and(|c| c != channel) {
                continue;
            }
            music_end = music_end.max(stop.max(start));
            let start = rescale(start)?;
            let stop = rescale(stop)?.max(start.saturating_add(1));
            end = end.max(stop);
            notes.push(Note { pitch, velocity, start, end: stop, channel });
        }
    }
    if options.meter_changes == MeterChanges::Refuse {
        if let Some(e) = meter_change(&signatures, music_end, ppq)? {
            return Err(e);
        }
    }
    let bar = time_signature.ticks_per_bar().max(1) as u64;
    let bars = u16::try_from((end as u64).div_ceil(bar)).map_err(|_| MusicError::ClipTooLong { ticks: end as u64 })?;
    let is_drum = !notes.is_empty() && notes.iter().all(|n| n.channel == 9);
    let mut clip = Clip { notes, bars, time_signature, is_drum };
    clip.sort();

    Ok(MidiImport {
        clip,
        source_ppq: ppq,
        format: format as u8,
        tempo_us_per_quarter: tempo,
        tempo_changes: tempos
            .iter()
            .map(|&(t, us)| Ok(TempoChange { tick: rescale(t)?, us_per_quarter: us }))
            .collect::<Result<_>>()?,
        time_signature_changes: signatures
            .iter()
            .map(|&(t, ts)| Ok(TimeSignatureChange { tick: rescale(t)?, time_signature: ts }))
            .collect::<Result<_>>()?,
        track_names,
        track: selected,
        repairs,
    })
}

/// The first time signature that differs from the one in effect before it and comes while the
/// music (notes up to `music_end`, file ticks) still plays, as a [`MusicError::MeterChange`].
fn meter_change(signatures: &[(u64, TimeSignature)], music_end: u64, ppq: u16) -> Result<Option<MusicError>> {
    let Some(&(first_tick, _)) = signatures.first() else {
        return Ok(None);
    };
    let mut current = in_effect(signatures).unwrap_or_default();
    // Bars counted in the meters in effect, from the first meta.
    let mut bar_start = first_tick;
    let mut bars_before: u64 = 0;
    let mut i = 0;
    while i < signatures.len() {
        let tick = signatures[i].0;
        // The last of the metas at this tick is the one in effect.
        let mut j = i;
        while j + 1 < signatures.len() && signatures[j + 1].0 == tick {
            j += 1;
        }
        let ts = signatures[j].1;
        if tick > first_tick && ts != current {
            if tick >= music_end {
                return Ok(None);
            }
            let bar_ticks = (current.ticks_per_bar() as u64 * ppq as u64 / PPQ as u64).max(1);
            let bar = bars_before + (tick - bar_start).div_ceil(bar_ticks) + 1;
            let tick480 = (tick as u128 * PPQ as u128 / ppq as u128).min(u64::MAX as u128) as u64;
            return Ok(Some(MusicError::MeterChange {
                bar: bar.min(u32::MAX as u64) as u32,
                tick: tick480,
                from_num: current.numerator,
                from_den: current.denominator,
                to_num: ts.numerator,
                to_den: ts.denominator,
            }));
        }
        if tick > first_tick {
            let bar_ticks = (current.ticks_per_bar() as u64 * ppq as u64 / PPQ as u64).max(1);
            bars_before += (tick - bar_start).div_ceil(bar_ticks);
            bar_start = tick;
        }
        current = ts;
        i = j + 1;
    }
    Ok(None)
}
