//! The drum map: which input pitches fold into which of the 9 model drum classes, and which pitch
//! each class plays on output. Kits differ (GM, Roland TD-11, a user's sampler), so the map is a
//! value the user can edit and the plugin can persist (serde); the default is the spec's.
//!
//! Serialized as the spec's own shape (`[{name, output_pitch, input_pitches}, ...]`), validated on
//! deserialization: exactly 9 classes, pitches below 128, no input pitch in two classes.

use serde::{Deserialize, Serialize};

use crate::error::{MusicError, Result};
use crate::spec::{Spec, DRUM_CLASSES};

const UNMAPPED: u8 = u8::MAX;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrumClass {
    pub name: String,
    pub output_pitch: u8,
    pub input_pitches: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<DrumClass>", into = "Vec<DrumClass>")]
pub struct DrumMap {
    names: Vec<String>,
    output: [u8; DRUM_CLASSES],
    /// pitch → class index, `UNMAPPED` when the pitch is ignored.
    class_of: [u8; 128],
}

impl DrumMap {
    /// The map from `models/spec/encoding.json`.
    pub fn from_spec() -> DrumMap {
        let classes = Spec::embedded()
            .drums
            .classes
            .iter()
            .map(|c| DrumClass {
                name: c.name.clone(),
                output_pitch: c.output_pitch,
                input_pitches: c.input_pitches.clone(),
            })
            .collect();
        // The spec is validated by the tests (`default_map_is_the_spec`).
        DrumMap::try_from_classes(classes).expect("spec drum map is valid")
    }

    pub fn try_from_classes(classes: Vec<DrumClass>) -> Result<DrumMap> {
        if classes.len() != DRUM_CLASSES {
            return Err(MusicError::InvalidDrumMap(format!("{} classes, expected {DRUM_CLASSES}", classes.len())));
        }
        let mut map = DrumMap { names: Vec::new(), output: [0; DRUM_CLASSES], class_of: [UNMAPPED; 128] };
        for (i, c) in classes.into_iter().enumerate() {
            if c.output_pitch > 127 {
                return Err(MusicError::InvalidDrumMap(format!(
                    "class {} output pitch {} > 127",
                    c.name, c.output_pitch
                )));
            }
            map.output[i] = c.output_pitch;
            for p in c.input_pitches {
                match map.class_of.get(p as usize) {
                    None => {
                        return Err(MusicError::InvalidDrumMap(format!("input pitch {p} > 127 in class {}", c.name)))
                    }
                    Some(&UNMAPPED) => map.class_of[p as usize] = i as u8,
                    Some(_) => return Err(MusicError::InvalidDrumMap(format!("input pitch {p} is in two classes"))),
                }
            }
            map.names.push(c.name);
        }
        Ok(map)
    }

    /// The model class (0..9) an input pitch folds into, `None` when the pitch is dropped.
    pub fn class_of(&self, pitch: u8) -> Option<usize> {
        match self.class_of.get(pitch as usize) {
            Some(&c) if c != UNMAPPED => Some(c as usize),
            _ => None,
        }
    }

    /// The pitch class `class` plays on output. Panics if `class >= 9` (a programming error).
    pub fn output_pitch(&self, class: usize) -> u8 {
        self.output[class]
    }

    pub fn class_name(&self, class: usize) -> &str {
        &self.names[class]
    }

    /// Routes `pitch` to `class` (`None`: ignore the pitch). Pitches above 127 are refused.
    pub fn set_class(&mut self, pitch: u8, class: Option<usize>) -> Result<()> {
        let slot = self
            .class_of
            .get_mut(pitch as usize)
            .ok_or_else(|| MusicError::InvalidDrumMap(format!("input pitch {pitch} > 127")))?;
        *slot = match class {
            None => UNMAPPED,
            Some(c) if c < DRUM_CLASSES => c as u8,
            Some(c) => return Err(MusicError::InvalidDrumMap(format!("no class {c}"))),
        };
        Ok(())
    }

    pub fn set_output_pitch(&mut self, class: usize, pitch: u8) -> Result<()> {
        if class >= DRUM_CLASSES || pitch > 127 {
            return Err(MusicError::InvalidDrumMap(format!("cannot set class {class} to output pitch {pitch}")));
        }
        self.output[class] = pitch;
        Ok(())
    }

    /// The map in the spec's shape (input pitches ascending).
    pub fn classes(&self) -> Vec<DrumClass> {
        (0..DRUM_CLASSES)
            .map(|i| DrumClass {
                name: self.names[i].clone(),
                output_pitch: self.output[i],
                input_pitches: (0u8..128).filter(|&p| self.class_of(p) == Some(i)).collect(),
            })
            .collect()
    }
}

impl Default for DrumMap {
    fn default() -> Self {
        DrumMap::from_spec()
    }
}

impl TryFrom<Vec<DrumClass>> for DrumMap {
    type Error = MusicError;
    fn try_from(classes: Vec<DrumClass>) -> Result<Self> {
        DrumMap::try_from_classes(classes)
    }
}

impl From<DrumMap> for Vec<DrumClass> {
    fn from(map: DrumMap) -> Self {
        map.classes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_map_is_the_spec() {
        let m = DrumMap::default();
        let spec = &Spec::embedded().drums.classes;
        for (i, c) in spec.iter().enumerate() {
            assert_eq!(m.output_pitch(i), c.output_pitch);
            assert_eq!(m.class_name(i), c.name);
            for &p in &c.input_pitches {
                assert_eq!(m.class_of(p), Some(i), "pitch {p}");
            }
        }
        // GMD/TD-11 specifics named in the dataset notes.
        assert_eq!(m.class_of(22), Some(2));
        assert_eq!(m.class_of(26), Some(3));
        assert_eq!(m.class_of(58), Some(4));
        assert_eq!(m.class_of(0), None);
        assert_eq!(m.class_of(127), None);
        assert_eq!(m.class_of(200), None);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let mut m = DrumMap::default();
        m.set_class(60, Some(0)).unwrap();
        m.set_class(36, None).unwrap();
        m.set_output_pitch(0, 35).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: DrumMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.class_of(60), Some(0));
        assert_eq!(back.class_of(36), None);
        assert_eq!(back.output_pitch(0), 35);

        assert!(m.set_class(128, Some(0)).is_err());
        assert!(m.set_class(1, Some(9)).is_err());
        assert!(m.set_output_pitch(9, 1).is_err());
        assert!(m.set_output_pitch(0, 128).is_err());

        let mut classes = DrumMap::default().classes();
        classes[1].input_pitches.push(36);
        assert!(matches!(DrumMap::try_from_classes(classes), Err(MusicError::InvalidDrumMap(_))));
        let mut classes = DrumMap::default().classes();
        classes.pop();
        assert!(DrumMap::try_from_classes(classes).is_err());
        let bad = r#"[{"name":"x","output_pitch":36,"input_pitches":[300]}]"#;
        assert!(serde_json::from_str::<DrumMap>(bad).is_err());
    }
}
