//! Screenshots of X windows (for the editor under Wine on Xvfb). Wine 8 draws an OpenGL child
//! window into its own X window, redirected off-screen with XComposite, so the picture is taken
//! from that window (its composite pixmap when it has one), not from the root.

use std::path::Path;

use anyhow::{Context, Result};
use x11rb::connection::Connection;
use x11rb::protocol::composite::ConnectionExt as _;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, MapState, Window};

/// A captured window: its id, size and RGBA pixels.
pub struct Shot {
    pub window: Window,
    pub width: u16,
    pub height: u16,
    pub rgba: Vec<u8>,
}

impl Shot {
    /// Distinct colours (a blank window has one).
    pub fn colours(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        for px in self.rgba.chunks_exact(4).step_by(7) {
            seen.insert([px[0], px[1], px[2]]);
        }
        seen.len()
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut encoder = png::Encoder::new(file, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&self.rgba)?;
        Ok(())
    }
}

fn all_windows(conn: &impl Connection, root: Window) -> Vec<Window> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(w) = stack.pop() {
        if let Ok(Ok(tree)) = conn.query_tree(w).map(|c| c.reply()) {
            for child in tree.children {
                out.push(child);
                stack.push(child);
            }
        }
    }
    out
}

fn grab(conn: &impl Connection, drawable: u32, width: u16, height: u16) -> Option<Vec<u8>> {
    let image = conn.get_image(ImageFormat::Z_PIXMAP, drawable, 0, 0, width, height, !0).ok()?.reply().ok()?;
    if image.depth != 24 && image.depth != 32 {
        return None;
    }
    let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
    for px in image.data.chunks_exact(4) {
        rgba.extend([px[2], px[1], px[0], 255]);
    }
    Some(rgba)
}

/// Every viewable window of at least `min` x `min` pixels on `display`, captured (directly, and
/// through its composite pixmap where it has one), most colourful first.
pub fn capture_all(display: &str, min: u16) -> Result<Vec<Shot>> {
    let (conn, screen) = x11rb::connect(Some(display)).with_context(|| format!("cannot open X display {display}"))?;
    let root = conn.setup().roots[screen].root;
    let composite = conn.composite_query_version(0, 4).ok().and_then(|c| c.reply().ok()).is_some();
    let mut shots = Vec::new();
    for window in all_windows(&conn, root) {
        let Ok(Ok(attrs)) = conn.get_window_attributes(window).map(|c| c.reply()) else { continue };
        let Ok(Ok(geo)) = conn.get_geometry(window).map(|c| c.reply()) else { continue };
        if attrs.map_state != MapState::VIEWABLE || geo.width < min || geo.height < min {
            continue;
        }
        let mut candidates = Vec::new();
        if let Some(rgba) = grab(&conn, window, geo.width, geo.height) {
            candidates.push(rgba);
        }
        if composite {
            if let Ok(pixmap) = conn.generate_id() {
                if conn.composite_name_window_pixmap(window, pixmap).map(|c| c.check()).is_ok_and(|r| r.is_ok()) {
                    if let Some(rgba) = grab(&conn, pixmap, geo.width, geo.height) {
                        candidates.push(rgba);
                    }
                    let _ = conn.free_pixmap(pixmap);
                }
            }
        }
        for rgba in candidates {
            shots.push(Shot { window, width: geo.width, height: geo.height, rgba });
        }
    }
    shots.sort_by_key(|s| std::cmp::Reverse(s.colours()));
    Ok(shots)
}
