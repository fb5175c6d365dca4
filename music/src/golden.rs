//! Golden vectors: the contract between this crate and the Python training code. Each file in
//! `models/spec/golden/` holds a clip exactly as Rust imported and windowed it plus what Rust's
//! encoder made of it; the Python encoder must reproduce the same tokens/floats from the same
//! notes, and `music/tests/golden.rs` checks that Rust still does.
//!
//! Format (spec `golden.format`): `{name, source, kind, bars, notes: [[pitch, velocity, start,
//! end, channel]...], tokens | floats, dropped}` plus the informational `description` and
//! `window`. Written one note / one row per line so diffs stay readable.

use serde::{Deserialize, Serialize};

use crate::clip::{Clip, Note, TimeSignature};
use crate::drum_map::DrumMap;
use crate::error::Result;
use crate::{encode_drums, encode_groove, encode_melody, encode_tap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoldenKind {
    Melody,
    Drums,
    Groove,
    Tap,
}

/// Where in the source file the clip was cut (informational; `notes` is authoritative).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldenWindow {
    /// Track name or index used for import (`null`: all tracks merged).
    pub track: Option<String>,
    /// First tick of the window in the imported clip (480 PPQ).
    pub start_tick: u32,
    pub bars: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoldenCase {
    pub name: String,
    pub source: String,
    pub kind: GoldenKind,
    pub bars: u16,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<GoldenWindow>,
    pub notes: Vec<[u32; 5]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floats: Option<Vec<Vec<f32>>>,
    pub dropped: usize,
}

impl GoldenCase {
    /// Encodes `clip` (4/4) with the spec's default drum map.
    pub fn compute(name: &str, source: &str, kind: GoldenKind, clip: &Clip) -> Result<GoldenCase> {
        let map = DrumMap::default();
        let (tokens, floats, dropped) = match kind {
            GoldenKind::Melody => {
                let e = encode_melody(clip)?;
                (Some(e.tokens.iter().map(|&t| t as u32).collect()), None, e.dropped.total())
            }
            GoldenKind::Drums => {
                let e = encode_drums(clip, &map)?;
                (Some(e.tokens.iter().map(|&t| t as u32).collect()), None, e.dropped.total())
            }
            GoldenKind::Groove => {
                let e = encode_groove(clip, &map)?;
                (None, Some(e.rows.iter().map(|r| r.to_vec()).collect()), e.dropped.total())
            }
            GoldenKind::Tap => {
                let e = encode_tap(clip)?;
                (None, Some(e.rows.iter().map(|r| r.to_vec()).collect()), e.dropped.total())
            }
        };
        Ok(GoldenCase {
            name: name.into(),
            source: source.into(),
            kind,
            bars: clip.bars,
            description: String::new(),
            window: None,
            notes: clip
                .notes
                .iter()
                .map(|n| [n.pitch as u32, n.velocity as u32, n.start, n.end, n.channel as u32])
                .collect(),
            tokens,
            floats,
            dropped,
        })
    }

    /// The clip the case was computed from (4/4, `is_drum` for drum kinds).
    pub fn clip(&self) -> Clip {
        let mut clip = Clip::new(self.bars, TimeSignature::FOUR_FOUR, self.kind != GoldenKind::Melody);
        clip.notes = self
            .notes
            .iter()
            .map(|n| Note { pitch: n[0] as u8, velocity: n[1] as u8, start: n[2], end: n[3], channel: n[4] as u8 })
            .collect();
        clip
    }

    /// Describes the first difference from `other` (floats within `tolerance`), `None` if equal.
    pub fn diff(&self, other: &GoldenCase, tolerance: f64) -> Option<String> {
        let fields = [
            ("name", self.name == other.name),
            ("source", self.source == other.source),
            ("kind", self.kind == other.kind),
            ("bars", self.bars == other.bars),
            ("notes", self.notes == other.notes),
            ("tokens", self.tokens == other.tokens),
            ("dropped", self.dropped == other.dropped),
        ];
        if let Some((f, _)) = fields.iter().find(|(_, same)| !same) {
            return Some(format!("{}: field {f} differs", self.name));
        }
        match (&self.floats, &other.floats) {
            (None, None) => None,
            (Some(a), Some(b)) if a.len() == b.len() => a.iter().zip(b).enumerate().find_map(|(s, (x, y))| {
                let bad =
                    x.len() != y.len() || x.iter().zip(y).any(|(p, q)| ((*p as f64) - (*q as f64)).abs() > tolerance);
                bad.then(|| format!("{}: floats differ at step {s}: {x:?} vs {y:?}", self.name))
            }),
            _ => Some(format!("{}: floats differ in shape", self.name)),
        }
    }

    /// The file text: top-level keys one per line, one note / row per line.
    pub fn to_json(&self) -> String {
        let j = |v: &dyn erased::Json| v.json();
        let mut s = String::from("{\n");
        s += &format!("  \"name\": {},\n", j(&self.name));
        s += &format!("  \"source\": {},\n", j(&self.source));
        s += &format!("  \"kind\": {},\n", j(&self.kind));
        s += &format!("  \"bars\": {},\n", self.bars);
        s += &format!("  \"description\": {},\n", j(&self.description));
        if let Some(w) = &self.window {
            s += &format!("  \"window\": {},\n", j(w));
        }
        s += &format!("  \"notes\": {},\n", rows(self.notes.iter().map(|n| j(n))));
        if let Some(t) = &self.tokens {
            s += &format!("  \"tokens\": {},\n", j(t));
        }
        if let Some(f) = &self.floats {
            s += &format!("  \"floats\": {},\n", rows(f.iter().map(|r| j(r))));
        }
        s += &format!("  \"dropped\": {}\n}}\n", self.dropped);
        s
    }

    pub fn from_json(text: &str) -> serde_json::Result<GoldenCase> {
        serde_json::from_str(text)
    }
}

fn rows(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "[]".into()
    } else {
        format!("[\n    {}\n  ]", items.join(",\n    "))
    }
}

mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            // Serializing plain data (strings, numbers, arrays) cannot fail.
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_diff() {
        let mut clip = Clip::new(1, TimeSignature::FOUR_FOUR, true);
        clip.notes.push(Note { pitch: 36, velocity: 99, start: 7, end: 100, channel: 9 });
        let g = GoldenCase::compute("t", "synthetic", GoldenKind::Groove, &clip).unwrap();
        let back = GoldenCase::from_json(&g.to_json()).unwrap();
        assert_eq!(back, g);
        assert_eq!(back.clip(), clip);
        assert_eq!(g.diff(&back, 1e-6), None);
        let mut other = back.clone();
        other.floats.as_mut().unwrap()[0][2] += 1e-3;
        assert!(g.diff(&other, 1e-6).unwrap().contains("step 0"));
        other.dropped = 5;
        assert!(g.diff(&other, 1e-6).unwrap().contains("dropped"));
        let m =
            GoldenCase::compute("m", "synthetic", GoldenKind::Melody, &Clip::new(1, TimeSignature::FOUR_FOUR, false))
                .unwrap();
        assert_eq!(m.tokens, Some(vec![0; 16]));
        assert!(m.to_json().contains("\"notes\": [],"));
    }
}
