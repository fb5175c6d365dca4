//! Legato clean-up before melody encoding. Played melodies (POP909, a user's keyboard) often hold
//! a note a little past the next onset. The spec's skyline treats any overlap as polyphony and
//! drops a later, lower note while a higher one still sounds, so a descending legato line would
//! lose notes. Trimming short overlaps first turns such lines into the monophonic melody the
//! player meant, while longer overlaps (real polyphony: a held top note over moving inner voices)
//! are left for the skyline.

use crate::clip::{Clip, Tick};

/// Ends every note that sounds past the next later onset (of any note) by at most
/// `max_overlap` ticks at that onset. Returns the clip and how many notes were trimmed.
pub fn trim_legato(clip: &Clip, max_overlap: Tick) -> (Clip, usize) {
    let mut out = clip.clone();
    out.sort();
    let mut onsets: Vec<Tick> = out.notes.iter().map(|n| n.start).collect();
    onsets.dedup();
    let mut trimmed = 0;
    for n in &mut out.notes {
        // The first onset strictly after this note's start.
        let i = onsets.partition_point(|&t| t <= n.start);
        if let Some(&next) = onsets.get(i) {
            if n.end > next && n.end - next <= max_overlap {
                n.end = next;
                trimmed += 1;
            }
        }
    }
    out.sort();
    (out, trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clip::{Note, TimeSignature};
    use crate::melody::encode_melody;

    fn n(pitch: u8, start: Tick, end: Tick) -> Note {
        Note { pitch, velocity: 90, start, end, channel: 0 }
    }

    #[test]
    fn trims_only_short_overlaps() {
        let mut c = Clip::new(1, TimeSignature::FOUR_FOUR, false);
        // Descending legato (overlap 100), then a held note over a moving voice (overlap 720).
        c.notes = vec![n(72, 0, 580), n(70, 480, 960), n(76, 960, 1920), n(64, 1200, 1440)];
        assert_eq!(encode_melody(&c).unwrap().dropped.polyphony, 2);
        let (t, trimmed) = trim_legato(&c, 240);
        assert_eq!(trimmed, 1);
        assert_eq!(t.notes, vec![n(72, 0, 480), n(70, 480, 960), n(76, 960, 1920), n(64, 1200, 1440)]);
        assert_eq!(encode_melody(&t).unwrap().dropped.polyphony, 1);
        // Chords (same onset) are untouched.
        c.notes = vec![n(60, 0, 480), n(64, 0, 480)];
        assert_eq!(trim_legato(&c, 10_000), (c.clone(), 0));
    }
}
