//! The five tools. Each takes loaded models and a validated [`Job`](crate::Job).

pub(crate) mod common;
pub(crate) mod continue_;
pub(crate) mod generate;
pub(crate) mod groove;
pub(crate) mod interpolate;

use crate::sampling::Pcg32;

/// Separate random streams per purpose, so e.g. the z of Generate does not shift when the
/// decoder draws more numbers.
pub(crate) mod purpose {
    pub const CONTINUE: u64 = 1;
    pub const GENERATE_Z: u64 = 2;
    pub const GENERATE_DECODE: u64 = 3;
    pub const INTERPOLATE: u64 = 4;
    pub const GROOVE_Z: u64 = 5;
    pub const GROOVE_HITS: u64 = 6;
    pub const HUMANIZE: u64 = 7;
    /// Retry `k` of a variation that came out without new notes uses `RESAMPLE + k`.
    pub const RESAMPLE: u64 = 16;
    /// Quality: candidate `j` (1..) of a variation or point uses `BEST_OF + j` (candidate 0
    /// keeps the stream quality 1 uses).
    pub const BEST_OF: u64 = 64;
}

pub(crate) fn rngs(seed: u64, purpose: u64, n: usize) -> Vec<Pcg32> {
    (0..n).map(|i| Pcg32::for_variation(seed, purpose, i)).collect()
}
