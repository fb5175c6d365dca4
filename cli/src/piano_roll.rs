//! A piano-roll PNG of a clip on a raw RGB buffer (the `png` crate only encodes it).

use std::path::Path;

use cadenza_music::spec::TICKS_PER_STEP;
use cadenza_music::Clip;

const STEP_PX: u32 = 8;
const ROW_PX: u32 = 6;
const MARGIN: u32 = 4;

struct Canvas {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: u32, h: u32, bg: [u8; 3]) -> Canvas {
        let mut px = Vec::with_capacity((w * h * 3) as usize);
        for _ in 0..w * h {
            px.extend_from_slice(&bg);
        }
        Canvas { w, h, px }
    }

    fn rect(&mut self, x0: u32, y0: u32, x1: u32, y1: u32, c: [u8; 3]) {
        for y in y0.min(self.h)..y1.min(self.h) {
            for x in x0.min(self.w)..x1.min(self.w) {
                let i = ((y * self.w + x) * 3) as usize;
                self.px[i..i + 3].copy_from_slice(&c);
            }
        }
    }
}

/// Velocity 1..127 → a blue-to-orange colour.
fn colour(velocity: u8) -> [u8; 3] {
    let t = velocity as f32 / 127.0;
    [(40.0 + 215.0 * t) as u8, (90.0 + 60.0 * t) as u8, (220.0 - 180.0 * t) as u8]
}

pub fn render(clip: &Clip, path: &Path) -> Result<(), String> {
    let ticks_per_bar = clip.time_signature.ticks_per_bar().max(1);
    let steps_per_bar = ticks_per_bar / TICKS_PER_STEP;
    let end_tick = clip.notes.iter().map(|n| n.end).max().unwrap_or(0).max(clip.length_ticks());
    let steps = end_tick.div_ceil(TICKS_PER_STEP).max(1);
    // Rows top to bottom: every pitch in range for melodies; for drums only the pitches that
    // occur (a compact drum grid).
    let pitches: Vec<u8> = if clip.is_drum {
        let mut p: Vec<u8> = clip.notes.iter().map(|n| n.pitch).collect();
        p.sort_unstable();
        p.dedup();
        p.reverse();
        p
    } else if clip.notes.is_empty() {
        (60..=72).rev().collect()
    } else {
        let lo = clip.notes.iter().map(|n| n.pitch).min().unwrap_or(60);
        let hi = clip.notes.iter().map(|n| n.pitch).max().unwrap_or(72);
        (lo.saturating_sub(2)..=hi.saturating_add(2).min(127)).rev().collect()
    };
    let row_of = |pitch: u8| pitches.iter().position(|&p| p == pitch).unwrap_or(0) as u32;
    let rows = pitches.len().max(1) as u32;
    let row_px = if clip.is_drum { 2 * ROW_PX } else { ROW_PX };
    let w = steps * STEP_PX + 2 * MARGIN;
    let h = rows * row_px + 2 * MARGIN;
    let mut c = Canvas::new(w, h, [250, 250, 250]);
    // Black-key rows shaded, C rows marked (drums: alternate rows).
    for (i, &p) in pitches.iter().enumerate() {
        let y = MARGIN + i as u32 * row_px;
        let shade = if clip.is_drum {
            (i % 2 == 1).then_some([236, 236, 240])
        } else {
            match p % 12 {
                1 | 3 | 6 | 8 | 10 => Some([232, 232, 236]),
                0 => Some([220, 226, 240]),
                _ => None,
            }
        };
        if let Some(s) = shade {
            c.rect(MARGIN, y, w - MARGIN, y + row_px, s);
        }
    }
    // Grid: beats light, bars dark.
    for s in 0..=steps {
        let x = MARGIN + s * STEP_PX;
        let col = if s % steps_per_bar.max(1) == 0 {
            [90, 90, 90]
        } else if s % 4 == 0 {
            [200, 200, 200]
        } else {
            continue;
        };
        c.rect(x, MARGIN, x + 1, h - MARGIN, col);
    }
    for n in &clip.notes {
        let x0 = MARGIN + n.start * STEP_PX / TICKS_PER_STEP;
        let x1 = (MARGIN + n.end * STEP_PX / TICKS_PER_STEP).max(x0 + 2);
        let y = MARGIN + row_of(n.pitch) * row_px;
        c.rect(x0, y, x1, y + row_px - 1, [30, 30, 30]);
        c.rect(x0 + 1, y + 1, x1.saturating_sub(1).max(x0 + 1), y + row_px - 2, colour(n.velocity));
    }
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&c.px).map_err(|e| e.to_string())?;
    Ok(())
}
