//! Dynamics: the velocities of the notes Cadenza writes. The models decode note events only (the
//! spec's decoders play everything at velocity 100, as Magenta Studio does); here new notes get
//! the velocity the musician's own playing suggests.
//!
//! A [`Dynamics`] is learned from the input clip(s): the mean velocity per position in the bar
//! (16 sixteenths), per metric level (downbeat, beat 3, beats 2 and 4, eighth off-beats, sixteenth
//! off-beats) and overall — for drums separately per drum class (kick, snare, …) — plus the
//! input's velocity range. A new note at position `p` takes, first found:
//!
//! - drums: the class's mean at `p`; at `p`'s metric level; at the nearest metric level the
//!   class was played on (a snare never played on the downbeat takes its backbeat level); for a
//!   class the input never played, all instruments' value at `p` found the same way;
//! - melody (the top line: of notes starting together, the highest): the mean at `p`; at `p`'s
//!   level; at the nearest level;
//!
//! clamped to the input's range. So ghost notes stay ghost notes, accents stay accents, and a
//! quiet player gets quiet continuations. Without an input (Generate) a musical default profile
//! is used ([`Dynamics::default_drums`], [`Dynamics::default_melody`]): accented downbeats and
//! backbeats, softer off-beats and sixteenths.

use cadenza_music::spec::{DRUM_CLASSES, STEPS_PER_BAR};
use cadenza_music::{step_of_tick, Clip, DrumMap};

const BAR: usize = STEPS_PER_BAR as usize;
const LEVELS: usize = 5;

/// Metric level of a sixteenth position in a 4/4 bar: 0 downbeat, 1 beat 3, 2 beats 2 and 4,
/// 3 eighth off-beats, 4 sixteenth off-beats.
pub fn metric_level(pos: usize) -> usize {
    match pos % BAR {
        0 => 0,
        8 => 1,
        4 | 12 => 2,
        p if p % 2 == 0 => 3,
        _ => 4,
    }
}

/// Position of a tick in its bar, in sixteenths (0..16), on the nearest step.
pub fn bar_position(tick: u32) -> usize {
    step_of_tick(tick) as usize % BAR
}

#[derive(Clone, Copy, Debug, Default)]
struct Stat {
    sum: f64,
    n: u32,
}

impl Stat {
    fn add(&mut self, v: f64) {
        self.sum += v;
        self.n += 1;
    }

    fn mean(&self) -> Option<f32> {
        (self.n > 0).then(|| (self.sum / self.n as f64) as f32)
    }
}

/// Mean velocities at each position, each metric level and overall.
#[derive(Clone, Debug, Default, PartialEq)]
struct Table {
    pos: [Option<f32>; BAR],
    level: [Option<f32>; LEVELS],
    all: Option<f32>,
}

impl Table {
    fn from_samples(samples: &[(usize, f64)]) -> Table {
        let mut pos = [Stat::default(); BAR];
        let mut level = [Stat::default(); LEVELS];
        let mut all = Stat::default();
        for &(p, v) in samples {
            pos[p % BAR].add(v);
            level[metric_level(p)].add(v);
            all.add(v);
        }
        Table { pos: pos.map(|s| s.mean()), level: level.map(|s| s.mean()), all: all.mean() }
    }

    /// From one value per metric level.
    fn from_levels(levels: [f32; LEVELS]) -> Table {
        let mut pos = [None; BAR];
        for (p, v) in pos.iter_mut().enumerate() {
            *v = Some(levels[metric_level(p)]);
        }
        let all = levels.iter().sum::<f32>() / LEVELS as f32;
        Table { pos, level: levels.map(Some), all: Some(all) }
    }

    /// The mean at `pos`, else at its metric level, else at the nearest metric level that has
    /// one (of two equally near, the weaker: an unplayed off-beat follows the softer playing).
    fn at(&self, pos: usize) -> Option<f32> {
        let level = metric_level(pos);
        self.pos[pos % BAR].or(self.level[level]).or_else(|| {
            (1..LEVELS).find_map(|d| {
                let weaker = (level + d < LEVELS).then(|| self.level[level + d]).flatten();
                weaker.or_else(|| level.checked_sub(d).and_then(|l| self.level[l]))
            })
        })
    }

    fn is_empty(&self) -> bool {
        self.all.is_none()
    }

    fn blend(a: &Table, b: &Table, t: f32) -> Table {
        let mix = |x: Option<f32>, y: Option<f32>| match (x, y) {
            (Some(x), Some(y)) => Some(x + (y - x) * t),
            (x, y) => x.or(y),
        };
        let mut out = Table::default();
        for p in 0..BAR {
            out.pos[p] = mix(a.pos[p], b.pos[p]);
        }
        for l in 0..LEVELS {
            out.level[l] = mix(a.level[l], b.level[l]);
        }
        out.all = mix(a.all, b.all);
        out
    }
}

/// Velocities learned from what the musician played (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Dynamics {
    /// Every note, any class.
    all: Table,
    /// Drums: one table per drum class; melody: empty.
    classes: Vec<Table>,
    /// The input's softest and loudest velocity: new notes stay inside.
    pub min: u8,
    pub max: u8,
}

impl Dynamics {
    /// The dynamics of melody clips: their top line (of notes starting on one sixteenth, the
    /// highest; chords' inner voices are often played softer than the tune), several clips
    /// pooled.
    pub fn learn_melody(clips: &[&Clip]) -> Option<Dynamics> {
        Self::learn_one_voice(clips, |n| (n.pitch, n.velocity))
    }

    /// One velocity per onset step: of the notes starting there, the one with the highest
    /// `rank(note).0` gives `rank(note).1`.
    fn learn_one_voice(clips: &[&Clip], rank: impl Fn(&cadenza_music::Note) -> (u8, u8)) -> Option<Dynamics> {
        let mut samples: Vec<(usize, f64)> = Vec::new();
        for c in clips {
            let mut top: std::collections::BTreeMap<u32, (u8, u8)> = Default::default();
            for n in c.notes.iter().filter(|n| n.velocity > 0) {
                let r = rank(n);
                let e = top.entry(step_of_tick(n.start)).or_insert(r);
                if r.0 > e.0 {
                    *e = r;
                }
            }
            samples.extend(top.iter().map(|(&step, &(_, v))| (step as usize % BAR, v as f64)));
        }
        let (min, max) = range(clips)?;
        Some(Dynamics { all: Table::from_samples(&samples), classes: Vec::new(), min, max })
    }

    /// The dynamics of drum clips, per drum class of `map` (pitches the map does not know count
    /// only towards the overall table).
    pub fn learn_drums(clips: &[&Clip], map: &DrumMap) -> Option<Dynamics> {
        let mut per_class: Vec<Vec<(usize, f64)>> = vec![Vec::new(); DRUM_CLASSES];
        let mut all = Vec::new();
        for n in clips.iter().flat_map(|c| c.notes.iter()) {
            if n.velocity == 0 {
                continue;
            }
            let sample = (bar_position(n.start), n.velocity as f64);
            all.push(sample);
            if let Some(c) = map.class_of(n.pitch) {
                per_class[c].push(sample);
            }
        }
        let (min, max) = range(clips)?;
        Some(Dynamics {
            all: Table::from_samples(&all),
            classes: per_class.iter().map(|s| Table::from_samples(s)).collect(),
            min,
            max,
        })
    }

    /// Without an input: accented downbeats, softer off-beats and sixteenths.
    pub fn default_melody() -> Dynamics {
        Dynamics { all: Table::from_levels([96.0, 88.0, 84.0, 76.0, 68.0]), classes: Vec::new(), min: 60, max: 100 }
    }

    /// Without an input: per drum class (spec order kick, snare, closed hat, open hat, low, mid
    /// and high tom, crash, ride), loud backbeats, soft ghost sixteenths, hats accented on the
    /// beat.
    pub fn default_drums() -> Dynamics {
        // Levels: downbeat, beat 3, beats 2/4, eighth off-beats, sixteenths.
        const LEVELS_BY_CLASS: [[f32; LEVELS]; DRUM_CLASSES] = [
            [108.0, 100.0, 92.0, 84.0, 72.0],  // kick
            [92.0, 88.0, 112.0, 64.0, 44.0],   // snare: backbeat, ghost notes
            [92.0, 84.0, 86.0, 68.0, 50.0],    // closed hat
            [92.0, 86.0, 86.0, 78.0, 62.0],    // open hat
            [100.0, 96.0, 96.0, 88.0, 78.0],   // low tom
            [100.0, 96.0, 96.0, 88.0, 78.0],   // mid tom
            [100.0, 96.0, 96.0, 88.0, 78.0],   // high tom
            [112.0, 102.0, 100.0, 92.0, 82.0], // crash
            [90.0, 82.0, 86.0, 72.0, 56.0],    // ride
        ];
        let classes: Vec<Table> = LEVELS_BY_CLASS.iter().map(|l| Table::from_levels(*l)).collect();
        let mut overall = [0.0f32; LEVELS];
        for l in LEVELS_BY_CLASS {
            for (o, v) in overall.iter_mut().zip(l) {
                *o += v / DRUM_CLASSES as f32;
            }
        }
        Dynamics { all: Table::from_levels(overall), classes, min: 40, max: 115 }
    }

    /// Between two inputs' dynamics (Interpolate): `t = 0` is `a`, `t = 1` is `b`; what only one
    /// of them has is taken from it. The range covers both.
    pub fn blend(a: &Dynamics, b: &Dynamics, t: f32) -> Dynamics {
        let t = t.clamp(0.0, 1.0);
        let classes = if a.classes.is_empty() || b.classes.is_empty() {
            if a.classes.is_empty() {
                b.classes.clone()
            } else {
                a.classes.clone()
            }
        } else {
            a.classes.iter().zip(&b.classes).map(|(x, y)| Table::blend(x, y, t)).collect()
        };
        Dynamics { all: Table::blend(&a.all, &b.all, t), classes, min: a.min.min(b.min), max: a.max.max(b.max) }
    }

    /// The velocity of a new note at `pos` (sixteenths in the bar) of drum class `class` (`None`
    /// for melody notes or pitches the drum map does not know).
    pub fn velocity(&self, class: Option<usize>, pos: usize) -> u8 {
        let overall = || self.all.at(pos).or(self.all.all).unwrap_or(((self.min as f32) + (self.max as f32)) / 2.0);
        let v = match class.and_then(|c| self.classes.get(c)).filter(|t| !t.is_empty()) {
            Some(t) => t.at(pos).or(t.all).unwrap_or_else(overall),
            None => overall(),
        };
        (v.round() as i32).clamp(self.min.max(1) as i32, self.max.clamp(1, 127) as i32) as u8
    }

    /// Gives every note of `clip` starting at or after `from` (ticks) its velocity; drum notes
    /// are looked up by the class `map` gives their pitch.
    pub fn apply(&self, clip: &mut Clip, from: u32, map: Option<&DrumMap>) {
        for n in clip.notes.iter_mut().filter(|n| n.start >= from) {
            let class = map.and_then(|m| m.class_of(n.pitch));
            n.velocity = self.velocity(class, bar_position(n.start));
        }
    }
}

/// The softest and loudest velocity of the clips' notes (`None` without notes).
pub fn range(clips: &[&Clip]) -> Option<(u8, u8)> {
    let mut it = clips.iter().flat_map(|c| c.notes.iter()).map(|n| n.velocity).filter(|&v| v > 0).peekable();
    it.peek()?;
    let (lo, hi) = it.fold((127u8, 1u8), |(lo, hi), v| (lo.min(v), hi.max(v.min(127))));
    Some((lo.min(127), hi))
}

/// How far a humanized velocity may move from the velocity it is given: ± this fraction.
pub const HUMANIZE_SPREAD: f32 = 0.25;

/// The velocities a tool may write for new notes when the input's velocities lie in
/// `min..=max`: the range widened by [`HUMANIZE_SPREAD`] on each side (humanizing scales a
/// velocity by at most that much), within 1..=127.
pub fn allowed_range(min: u8, max: u8) -> (u8, u8) {
    let lo = ((min as f32) * (1.0 - HUMANIZE_SPREAD)).floor().max(1.0) as u8;
    let hi = ((max as f32) * (1.0 + HUMANIZE_SPREAD)).ceil().min(127.0) as u8;
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadenza_music::{Note, TimeSignature};

    fn hit(pitch: u8, velocity: u8, step: u32) -> Note {
        Note { pitch, velocity, start: step * 120, end: step * 120 + 60, channel: 9 }
    }

    fn ghost_beat() -> Clip {
        let mut c = Clip::new(2, TimeSignature::FOUR_FOUR, true);
        for s in 0..32 {
            c.notes.push(hit(42, if s % 2 == 0 { 55 } else { 30 }, s));
            if s % 16 == 0 || s % 16 == 7 {
                c.notes.push(hit(36, 70, s));
            }
            if s % 8 == 4 {
                c.notes.push(hit(38, 120, s));
            }
            if s % 16 == 6 || s % 16 == 9 || s % 16 == 15 {
                c.notes.push(hit(38, 22, s));
            }
        }
        c.sort();
        c
    }

    #[test]
    fn drums_follow_class_and_position() {
        let map = DrumMap::default();
        let d = Dynamics::learn_drums(&[&ghost_beat()], &map).unwrap();
        assert_eq!((d.min, d.max), (22, 120));
        // Hats: 55 on eighths, 30 on sixteenths, wherever they fall.
        assert_eq!(d.velocity(Some(2), 0), 55);
        assert_eq!(d.velocity(Some(2), 6), 55);
        assert_eq!(d.velocity(Some(2), 3), 30);
        // Snare: backbeat accent, ghost notes elsewhere (level of the position).
        assert_eq!(d.velocity(Some(1), 4), 120);
        assert_eq!(d.velocity(Some(1), 12), 120);
        assert_eq!(d.velocity(Some(1), 15), 22);
        assert_eq!(d.velocity(Some(1), 13), 22);
        assert_eq!(d.velocity(Some(1), 10), 22);
        // Kick: 70 everywhere it is known.
        assert_eq!(d.velocity(Some(0), 0), 70);
        assert_eq!(d.velocity(Some(0), 7), 70);
        assert!((22..=120).contains(&d.velocity(Some(0), 8)));
        // A class the input never played follows the overall accent, inside the range.
        let crash = d.velocity(Some(7), 0);
        assert!((22..=120).contains(&crash));
    }

    #[test]
    fn melody_level_and_accents() {
        let mut c = Clip::new(1, TimeSignature::FOUR_FOUR, false);
        for (i, v) in [80u8, 60, 70, 60, 80, 60, 70, 60].iter().enumerate() {
            c.notes.push(Note {
                pitch: 60,
                velocity: *v,
                start: i as u32 * 240,
                end: i as u32 * 240 + 200,
                channel: 0,
            });
        }
        let d = Dynamics::learn_melody(&[&c]).unwrap();
        assert_eq!(d.velocity(None, 0), 80);
        assert_eq!(d.velocity(None, 2), 60);
        // Unplayed sixteenth off-beat: the nearest level played, the eighth off-beats.
        assert_eq!(d.velocity(None, 1), 60);
        let mut gen = Clip::new(1, TimeSignature::FOUR_FOUR, false);
        gen.notes.push(Note { pitch: 62, velocity: 100, start: 480, end: 600, channel: 0 });
        d.apply(&mut gen, 0, None);
        assert_eq!(gen.notes[0].velocity, 70);
    }

    #[test]
    fn defaults_are_not_flat_and_blend_stays_in_range() {
        let d = Dynamics::default_drums();
        let vs: Vec<u8> = (0..16).map(|p| d.velocity(Some(2), p)).collect();
        assert!(vs.iter().max() > vs.iter().min());
        assert!(d.velocity(Some(1), 4) > d.velocity(Some(1), 3));
        let m = Dynamics::default_melody();
        assert!(m.velocity(None, 0) > m.velocity(None, 1));

        let map = DrumMap::default();
        let a = Dynamics::learn_drums(&[&ghost_beat()], &map).unwrap();
        let mut loud = ghost_beat();
        for n in &mut loud.notes {
            n.velocity = 110;
        }
        let b = Dynamics::learn_drums(&[&loud], &map).unwrap();
        let mid = Dynamics::blend(&a, &b, 0.5);
        assert_eq!(mid.velocity(Some(2), 3), 70);
        assert_eq!((mid.min, mid.max), (22, 120));
        assert_eq!(allowed_range(22, 120), (16, 127));
        assert_eq!(allowed_range(80, 90), (60, 113));
    }
}
