//! What an encoder had to leave out. The models see less than the user played (one voice, nine
//! drum classes, a fixed length); the plugin tells the user instead of silently losing notes.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// Melody notes removed by the skyline reduction.
    pub polyphony: usize,
    /// Drum notes whose pitch the drum map does not route to a class.
    pub unmapped: usize,
    /// Notes whose onset step is at or past the clip end.
    pub past_end: usize,
}

impl Dropped {
    /// The golden vectors' `dropped`: every note of the input that the encoding does not contain.
    pub fn total(&self) -> usize {
        self.polyphony + self.unmapped + self.past_end
    }
}
