//! A tiny sine synth that makes Cadenza's MIDI output audible on its own audio output.
//!
//! Some hosts (Ableton Live with VST3 among them) cannot route a plugin's MIDI output to another
//! track, so this lets a musician audition variations anyway; it also lets audio-only hosts and
//! tests hear what Cadenza sends. Fixed voices, no allocation.

use super::events::OutEvent;

const VOICES: usize = 16;
const ATTACK_SECONDS: f32 = 0.003;
const RELEASE_SECONDS: f32 = 0.06;
const MASTER_GAIN: f32 = 0.2;

/// A sine made by rotating a unit phasor (two multiplies a sample instead of a `sin`).
#[derive(Clone, Copy, Default)]
struct Voice {
    pitch: u8,
    /// The phasor (cos, sin) and its per-sample rotation.
    re: f32,
    im: f32,
    step_re: f32,
    step_im: f32,
    level: f32,
    velocity: f32,
    held: bool,
}

pub struct PreviewSynth {
    voices: [Voice; VOICES],
    sample_rate: f32,
}

impl PreviewSynth {
    pub fn new() -> Self {
        Self { voices: [Voice::default(); VOICES], sample_rate: 48_000.0 }
    }

    pub fn set_sample_rate(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate.max(1.0);
    }

    pub fn silence(&mut self) {
        self.voices = [Voice::default(); VOICES];
    }

    fn handle(&mut self, event: &OutEvent) {
        if event.velocity > 0 {
            // Reuse the quietest voice.
            let voice = self
                .voices
                .iter_mut()
                .min_by(|a, b| (a.held, a.level).partial_cmp(&(b.held, b.level)).unwrap_or(std::cmp::Ordering::Equal))
                .expect("VOICES > 0");
            let frequency = 440.0 * 2f32.powf((event.pitch as f32 - 69.0) / 12.0);
            let step = std::f32::consts::TAU * frequency / self.sample_rate;
            *voice = Voice {
                pitch: event.pitch,
                re: 1.0,
                im: 0.0,
                step_re: step.cos(),
                step_im: step.sin(),
                level: 0.0,
                velocity: event.velocity as f32 / 127.0,
                held: true,
            };
        } else {
            for voice in self.voices.iter_mut().filter(|v| v.held && v.pitch == event.pitch) {
                voice.held = false;
            }
        }
    }

    /// Adds the block's audio to `channels`, applying `events` (sorted by timing) on their
    /// samples.
    pub fn render(&mut self, channels: &mut [&mut [f32]], events: &[OutEvent]) {
        let len = channels.first().map_or(0, |c| c.len());
        let attack = 1.0 / (ATTACK_SECONDS * self.sample_rate);
        let release = 1.0 / (RELEASE_SECONDS * self.sample_rate);
        let mut next = 0;
        for sample in 0..len {
            while let Some(event) = events.get(next).filter(|e| e.timing as usize <= sample) {
                self.handle(event);
                next += 1;
            }
            let mut mix = 0.0;
            for voice in self.voices.iter_mut().filter(|v| v.held || v.level > 0.0) {
                voice.level =
                    if voice.held { (voice.level + attack).min(1.0) } else { (voice.level - release).max(0.0) };
                mix += voice.im * voice.level * voice.velocity;
                let re = voice.re * voice.step_re - voice.im * voice.step_im;
                voice.im = voice.re * voice.step_im + voice.im * voice.step_re;
                voice.re = re;
            }
            if sample % 256 == 0 {
                // Rounding slowly changes the phasor's length; pull it back to 1.
                for voice in self.voices.iter_mut() {
                    let norm = (voice.re * voice.re + voice.im * voice.im).sqrt();
                    if norm > 0.0 {
                        voice.re /= norm;
                        voice.im /= norm;
                    }
                }
            }
            for channel in channels.iter_mut() {
                channel[sample] += mix * MASTER_GAIN;
            }
        }
        for event in &events[next..] {
            self.handle(event);
        }
    }
}

impl Default for PreviewSynth {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(events: &[OutEvent], samples: usize) -> Vec<f32> {
        let mut synth = PreviewSynth::new();
        synth.set_sample_rate(48_000.0);
        let mut left = vec![0.0; samples];
        synth.render(&mut [&mut left[..]], events);
        left
    }

    #[test]
    fn a_note_sounds_at_its_pitch_from_its_sample_and_fades_after_release() {
        let on = OutEvent { timing: 1000, channel: 0, pitch: 69, velocity: 127 };
        let off = OutEvent { timing: 25_000, channel: 0, pitch: 69, velocity: 0 };
        let audio = render(&[on, off], 48_000);
        assert!(audio[..1000].iter().all(|s| *s == 0.0));
        // 440 Hz: 880 zero crossings a second; count them over a steady half second.
        let crossings = audio[1200..25_000].windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        let expected = 2.0 * 440.0 * (23_800.0 / 48_000.0);
        assert!((crossings as f32 - expected).abs() < 3.0, "{crossings} vs {expected}");
        // Released: silent after the 60 ms release.
        assert!(audio[25_000 + 3_000..].iter().all(|s| *s == 0.0));
    }
}
