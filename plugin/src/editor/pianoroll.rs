//! Mini piano-roll layout: where each note of a clip goes inside a thumbnail rectangle. Pure
//! geometry (no egui types) so it is unit-tested; the editor only paints the boxes.

use cadenza_music::{Clip, DrumMap};

/// Rows of the drum grid (the model's drum classes, kick at the bottom).
pub const DRUM_ROWS: usize = 9;
/// Fewest pitch rows a melodic roll shows, so one or two notes do not fill the whole height.
pub const MIN_PITCH_SPAN: u8 = 12;

/// A note's box in unit coordinates: `x`, `w` in 0..=1 of the width, `y`, `h` in 0..=1 of the
/// height with y = 0 at the top (the highest pitch / the last drum class).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    /// Velocity as 0..=1, for the fill's brightness.
    pub intensity: f32,
}

/// The rows a roll shows: a pitch range for melodies, the drum classes for drums.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    /// Lowest and highest pitch shown (inclusive).
    Pitches { low: u8, high: u8 },
    /// The drum classes, bottom to top.
    Drums { names: Vec<String> },
}

impl Rows {
    pub fn count(&self) -> usize {
        match self {
            Rows::Pitches { low, high } => (*high - *low) as usize + 1,
            Rows::Drums { .. } => DRUM_ROWS,
        }
    }
}

/// Layout of one clip as a roll.
#[derive(Debug, Clone, PartialEq)]
pub struct RollLayout {
    pub rows: Rows,
    pub notes: Vec<NoteBox>,
    /// Bar lines as x in 0..=1 (without the first at 0).
    pub bar_lines: Vec<f32>,
    /// Notes that could not be shown (a drum pitch outside the map).
    pub hidden: usize,
}

/// The pitch range shown for a melody: the notes' range padded by a semitone, at least
/// [`MIN_PITCH_SPAN`] rows, centred on the notes, C4-centred when the clip is empty.
pub fn pitch_range(clip: &Clip) -> (u8, u8) {
    let (mut low, mut high) = match (clip.notes.iter().map(|n| n.pitch).min(), clip.notes.iter().map(|n| n.pitch).max())
    {
        (Some(lo), Some(hi)) => (lo.saturating_sub(1), hi.saturating_add(1).min(127)),
        _ => (60 - MIN_PITCH_SPAN / 2, 60 + MIN_PITCH_SPAN / 2),
    };
    while high - low < MIN_PITCH_SPAN {
        low = low.saturating_sub(1);
        if high - low < MIN_PITCH_SPAN && high < 127 {
            high += 1;
        }
    }
    (low, high)
}

/// Lays a clip out in the unit square. Drums (a drum clip, or `as_drums`) use the 9-row grid of
/// `drum_map`; melodies a pitch range from [`pitch_range`].
pub fn layout(clip: &Clip, drum_map: &DrumMap) -> RollLayout {
    let length = clip.length_ticks().max(1) as f32;
    let ticks_per_bar = clip.time_signature.ticks_per_bar().max(1) as f32;
    let bar_lines = (1..clip.bars).map(|b| (b as f32 * ticks_per_bar / length).min(1.0)).collect();
    let span = |start: u32, end: u32| {
        let x = (start as f32 / length).clamp(0.0, 1.0);
        let end = (end as f32 / length).clamp(0.0, 1.0);
        (x, (end - x).max(0.0))
    };
    let mut notes = Vec::with_capacity(clip.notes.len());
    let mut hidden = 0;
    let rows = if clip.is_drum {
        let h = 1.0 / DRUM_ROWS as f32;
        for note in &clip.notes {
            let Some(class) = drum_map.class_of(note.pitch) else {
                hidden += 1;
                continue;
            };
            let (x, _) = span(note.start, note.end);
            // Hits are drawn as short fixed-width cells: a 16th note at most.
            let w = ((crate::music::PPQ as f32 / 4.0) / length).min(1.0 - x);
            let y = 1.0 - (class as f32 + 1.0) * h;
            notes.push(NoteBox { x, y, w, h, intensity: note.velocity as f32 / 127.0 });
        }
        Rows::Drums { names: (0..DRUM_ROWS).map(|c| drum_map.class_name(c).to_string()).collect() }
    } else {
        let (low, high) = pitch_range(clip);
        let count = (high - low) as f32 + 1.0;
        let h = 1.0 / count;
        for note in &clip.notes {
            if note.pitch < low || note.pitch > high {
                hidden += 1;
                continue;
            }
            let (x, w) = span(note.start, note.end);
            let y = (high - note.pitch) as f32 * h;
            notes.push(NoteBox { x, y, w, h, intensity: note.velocity as f32 / 127.0 });
        }
        Rows::Pitches { low, high }
    };
    RollLayout { rows, notes, bar_lines, hidden }
}

/// Whether a MIDI pitch is a black key (for the roll's row shading).
pub fn is_black_key(pitch: u8) -> bool {
    matches!(pitch % 12, 1 | 3 | 6 | 8 | 10)
}

/// A one-line summary of a clip for tooltips and screen readers.
pub fn describe(clip: &Clip) -> String {
    let kind = if clip.is_drum { "drum" } else { "melody" };
    let notes = clip.notes.len();
    let bars = clip.bars;
    if clip.notes.is_empty() {
        return format!("empty {kind} clip, {bars} bar(s)");
    }
    if clip.is_drum {
        format!("{kind} clip: {notes} hits over {bars} bar(s)")
    } else {
        let (lo, hi) = (
            clip.notes.iter().map(|n| n.pitch).min().unwrap_or(0),
            clip.notes.iter().map(|n| n.pitch).max().unwrap_or(0),
        );
        format!("{kind} clip: {notes} notes over {bars} bar(s), {} to {}", note_name(lo), note_name(hi))
    }
}

/// "C4" for 60.
pub fn note_name(pitch: u8) -> String {
    const NAMES: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
    format!("{}{}", NAMES[(pitch % 12) as usize], pitch as i32 / 12 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadenza_music::{Note, TimeSignature, PPQ};

    fn note(pitch: u8, start: u32, end: u32) -> Note {
        Note { pitch, velocity: 100, start, end, channel: 0 }
    }

    #[test]
    fn melody_boxes_fill_the_unit_square() {
        let mut clip = Clip::new(2, TimeSignature::FOUR_FOUR, false);
        clip.notes = vec![note(60, 0, PPQ), note(72, 4 * PPQ, 8 * PPQ)];
        let roll = layout(&clip, &DrumMap::from_spec());
        assert_eq!(roll.rows, Rows::Pitches { low: 59, high: 73 });
        assert_eq!(roll.notes.len(), 2);
        let first = roll.notes[0];
        assert!((first.x - 0.0).abs() < 1e-6 && (first.w - 0.125).abs() < 1e-6);
        let second = roll.notes[1];
        assert!((second.x - 0.5).abs() < 1e-6 && (second.w - 0.5).abs() < 1e-6);
        // The higher note is nearer the top.
        assert!(second.y < first.y);
        assert!(first.y + first.h <= 1.0 + 1e-6);
        assert_eq!(roll.bar_lines, vec![0.5]);
    }

    #[test]
    fn narrow_and_empty_ranges_get_minimum_span() {
        let mut clip = Clip::new(1, TimeSignature::FOUR_FOUR, false);
        assert_eq!(pitch_range(&clip), (54, 66));
        clip.notes = vec![note(127, 0, 10)];
        let (lo, hi) = pitch_range(&clip);
        assert_eq!(hi, 127);
        assert!(hi - lo >= MIN_PITCH_SPAN);
        clip.notes = vec![note(0, 0, 10)];
        assert_eq!(pitch_range(&clip).0, 0);
    }

    #[test]
    fn drums_use_nine_rows_kick_at_bottom() {
        let map = DrumMap::from_spec();
        let mut clip = Clip::new(1, TimeSignature::FOUR_FOUR, true);
        clip.notes = vec![note(36, 0, 60), note(38, PPQ, PPQ + 60), note(1, 0, 10)];
        let roll = layout(&clip, &map);
        assert_eq!(roll.rows.count(), DRUM_ROWS);
        assert_eq!(roll.hidden, 1);
        let kick = roll.notes[0];
        assert!((kick.y + kick.h - 1.0).abs() < 1e-6, "kick sits on the bottom row: {kick:?}");
        assert!(roll.notes[1].y < kick.y);
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(note_name(60), "C4");
        assert_eq!(note_name(61), "C#4");
        assert!(is_black_key(61) && !is_black_key(60));
        let mut clip = Clip::new(4, TimeSignature::FOUR_FOUR, false);
        assert!(describe(&clip).starts_with("empty melody"));
        clip.notes = vec![note(60, 0, 10), note(67, 10, 20)];
        assert_eq!(describe(&clip), "melody clip: 2 notes over 4 bar(s), C4 to G4");
    }
}
