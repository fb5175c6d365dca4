//! The musician's kit: which pitch each of the model's nine drum classes plays. The drum models
//! think in classes (every snare-like sound is "snare", side stick 37 included; the pedal hat 44
//! is a "closed hat"), and the spec's decoder writes one General MIDI pitch per class. A [`Kit`]
//! learned from the input puts the user's own sounds back: a new note of a class takes the pitch
//! the user played for that class at the same position in the bar (pedal hat on the off-beats,
//! closed hat on the beats), else the pitch they played most for the class, else the GM pitch
//! of the drum map (classes the input never used).

use cadenza_music::spec::{DRUM_CLASSES, STEPS_PER_BAR};
use cadenza_music::{Clip, DrumMap};

use crate::dynamics::bar_position;

const BAR: usize = STEPS_PER_BAR as usize;

/// Pitch counts for one class: (pitch, count, first index seen).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Counts(Vec<(u8, u32, usize)>);

impl Counts {
    fn add(&mut self, pitch: u8, order: usize) {
        match self.0.iter_mut().find(|c| c.0 == pitch) {
            Some(c) => c.1 += 1,
            None => self.0.push((pitch, 1, order)),
        }
    }

    /// The most played pitch; ties go to the one played first.
    fn best(&self) -> Option<u8> {
        self.0.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2))).map(|c| c.0)
    }
}

/// Per drum class: the pitch at each position of the bar and overall (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kit {
    at: [[Option<u8>; BAR]; DRUM_CLASSES],
    class: [Option<u8>; DRUM_CLASSES],
}

impl Default for Kit {
    fn default() -> Self {
        Kit::gm()
    }
}

impl Kit {
    /// The drum map's own output pitches (nothing learned).
    pub fn gm() -> Kit {
        Kit { at: [[None; BAR]; DRUM_CLASSES], class: [None; DRUM_CLASSES] }
    }

    /// Learns the kit from the notes of `clips` (pitches `map` does not know are ignored).
    pub fn learn(clips: &[&Clip], map: &DrumMap) -> Kit {
        let mut at: Vec<Vec<Counts>> = vec![vec![Counts::default(); BAR]; DRUM_CLASSES];
        let mut all: Vec<Counts> = vec![Counts::default(); DRUM_CLASSES];
        for (order, n) in clips.iter().flat_map(|c| c.notes.iter()).enumerate() {
            if let Some(c) = map.class_of(n.pitch) {
                at[c][bar_position(n.start)].add(n.pitch, order);
                all[c].add(n.pitch, order);
            }
        }
        let mut kit = Kit::gm();
        for (c, counts) in at.iter().enumerate() {
            kit.class[c] = all[c].best();
            for (slot, pitches) in kit.at[c].iter_mut().zip(counts) {
                *slot = pitches.best();
            }
        }
        kit
    }

    /// Whether the input taught this kit anything.
    pub fn is_gm(&self) -> bool {
        self.class.iter().all(Option::is_none)
    }

    /// Interpolate: the kit of `a` up to halfway, then `b`'s; what one of them lacks comes from
    /// the other.
    pub fn blend(a: &Kit, b: &Kit, t: f32) -> Kit {
        let (first, second) = if t < 0.5 { (a, b) } else { (b, a) };
        let mut kit = Kit::gm();
        for c in 0..DRUM_CLASSES {
            // A class only the other input played takes that input's pitches.
            let (x, y) = if first.class[c].is_some() { (first, second) } else { (second, first) };
            kit.class[c] = x.class[c].or(y.class[c]);
            for p in 0..BAR {
                kit.at[c][p] = x.at[c][p].or(x.class[c]).or(y.at[c][p]);
            }
        }
        kit
    }

    /// The pitch a new note of `class` at `pos` (sixteenths in the bar) plays.
    pub fn pitch(&self, class: usize, pos: usize, map: &DrumMap) -> u8 {
        self.at[class][pos % BAR].or(self.class[class]).unwrap_or_else(|| map.output_pitch(class))
    }

    /// Moves every note of `clip` starting at or after `from` (ticks) to the kit's pitch for its
    /// class (the class `map` gives its pitch; other pitches stay).
    pub fn apply(&self, clip: &mut Clip, from: u32, map: &DrumMap) {
        if self.is_gm() {
            return;
        }
        for n in clip.notes.iter_mut().filter(|n| n.start >= from) {
            if let Some(c) = map.class_of(n.pitch) {
                n.pitch = self.pitch(c, bar_position(n.start), map);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadenza_music::{Note, TimeSignature};

    fn hit(pitch: u8, step: u32) -> Note {
        Note { pitch, velocity: 90, start: step * 120, end: step * 120 + 60, channel: 9 }
    }

    #[test]
    fn learns_pieces_per_position() {
        let map = DrumMap::default();
        let mut c = Clip::new(1, TimeSignature::FOUR_FOUR, true);
        for s in 0..16 {
            if s % 4 == 0 {
                c.notes.push(hit(42, s));
            } else if s % 4 == 2 {
                c.notes.push(hit(44, s));
            }
        }
        c.notes.push(hit(37, 4));
        c.notes.push(hit(43, 15));
        c.notes.push(hit(45, 14));
        c.sort();
        let kit = Kit::learn(&[&c], &map);
        assert_eq!(kit.pitch(2, 0, &map), 42);
        assert_eq!(kit.pitch(2, 6, &map), 44);
        // Unplayed position: the first of the equally common pitches.
        assert_eq!(kit.pitch(2, 1, &map), 42);
        assert_eq!(kit.pitch(1, 12, &map), 37);
        assert_eq!(kit.pitch(4, 15, &map), 43);
        assert_eq!(kit.pitch(4, 14, &map), 45);
        // Never played: GM.
        assert_eq!(kit.pitch(0, 0, &map), 36);
        assert_eq!(kit.pitch(8, 0, &map), 51);

        let mut out = Clip::new(1, TimeSignature::FOUR_FOUR, true);
        out.notes = vec![hit(38, 12), hit(42, 10), hit(36, 0)];
        kit.apply(&mut out, 0, &map);
        let pitches: Vec<u8> = out.notes.iter().map(|n| n.pitch).collect();
        assert_eq!(pitches, vec![37, 44, 36]);

        let gm = Kit::gm();
        assert!(gm.is_gm() && !kit.is_gm());
        let b = Kit::blend(&kit, &gm, 0.8);
        assert_eq!(b.pitch(1, 0, &map), 37);
        assert_eq!(b.pitch(2, 6, &map), 44);
    }
}
