//! How the panel looks: the palette, the egui style, and the painting of piano rolls and empty
//! placeholders. Nothing here knows about parameters or the engine.

use egui::{Color32, CornerRadius, FontId, Pos2, Rect, Stroke, StrokeKind, Ui, Vec2};

use super::pianoroll::{self, RollLayout, Rows};

/// Colours chosen for contrast on the dark background (all text ≥ 7:1 except hints ≥ 4.5:1).
pub mod palette {
    use egui::Color32;
    /// The window behind everything.
    pub const BACKGROUND: Color32 = Color32::from_rgb(0x16, 0x18, 0x1d);
    /// The tool bar, the status bar and the result cards.
    pub const PANEL: Color32 = Color32::from_rgb(0x20, 0x23, 0x2b);
    /// Inside a piano roll.
    pub const ROLL_BG: Color32 = Color32::from_rgb(0x0f, 0x11, 0x15);
    /// A piano roll's black-key rows.
    pub const ROLL_BLACK_KEY: Color32 = Color32::from_rgb(0x19, 0x1c, 0x22);
    /// Bar lines and unselected borders.
    pub const GRID: Color32 = Color32::from_rgb(0x3a, 0x3f, 0x4b);
    pub const TEXT: Color32 = Color32::from_rgb(0xec, 0xee, 0xf2);
    /// Secondary text: explanations, placeholders.
    pub const HINT: Color32 = Color32::from_rgb(0xa8, 0xae, 0xba);
    pub const ACCENT: Color32 = Color32::from_rgb(0xff, 0xb3, 0x47);
    /// Melody notes in a roll.
    pub const NOTE: Color32 = Color32::from_rgb(0x5c, 0xc8, 0xff);
    /// Drum hits in a roll.
    pub const DRUM: Color32 = Color32::from_rgb(0x8d, 0xe0, 0x7a);
    /// The selected result's border and label.
    pub const SELECTED: Color32 = Color32::from_rgb(0xff, 0xb3, 0x47);
    pub const ERROR: Color32 = Color32::from_rgb(0xff, 0x8a, 0x80);
    pub const OK: Color32 = Color32::from_rgb(0x8d, 0xe0, 0x7a);
}

/// Text sizes in logical points.
pub mod text_size {
    /// Headings ("Results").
    pub const HEADING: f32 = 19.0;
    /// Hints under a heading, small buttons.
    pub const SMALL: f32 = 11.5;
    /// Everything else.
    pub const BODY: f32 = 14.0;
    /// The tool bar's tool names.
    pub const TOOL: f32 = 15.0;
}

/// Applies the egui style: dark, high-contrast, slightly larger text, solid scroll bars (so a
/// column that scrolls shows that it does).
pub fn apply(ctx: &egui::Context) {
    let mut visuals = egui::Visuals::dark();
    visuals.panel_fill = palette::BACKGROUND;
    visuals.window_fill = palette::PANEL;
    visuals.extreme_bg_color = palette::ROLL_BG;
    visuals.override_text_color = Some(palette::TEXT);
    visuals.selection.bg_fill = Color32::from_rgb(0x8a, 0x55, 0x10);
    visuals.selection.stroke = Stroke::new(1.0, palette::TEXT);
    visuals.hyperlink_color = palette::ACCENT;
    ctx.set_visuals(visuals);
    ctx.global_style_mut(|style| {
        style.spacing.item_spacing = Vec2::new(8.0, 6.0);
        style.spacing.button_padding = Vec2::new(8.0, 4.0);
        style.spacing.slider_width = 150.0;
        style.spacing.scroll = egui::style::ScrollStyle::solid();
        for (text_style, font) in style.text_styles.iter_mut() {
            font.size = match text_style {
                egui::TextStyle::Heading => text_size::HEADING,
                egui::TextStyle::Small => text_size::SMALL,
                _ => text_size::BODY,
            };
        }
    });
}

/// A dark box with a hint in its middle, where a roll will be.
pub fn paint_empty(ui: &Ui, rect: Rect, text: &str) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(4), palette::ROLL_BG);
    painter.rect_stroke(rect, CornerRadius::same(4), Stroke::new(1.0, palette::GRID), StrokeKind::Inside);
    painter.text(rect.center(), egui::Align2::CENTER_CENTER, text, FontId::proportional(12.5), palette::HINT);
}

/// Paints a roll layout into `rect`; `highlighted` draws the selection border.
pub fn paint_roll(ui: &Ui, rect: Rect, roll: &RollLayout, highlighted: bool) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(4), palette::ROLL_BG);
    let rows = roll.rows.count().max(1);
    let row_h = rect.height() / rows as f32;
    if let Rows::Pitches { high, .. } = roll.rows {
        for r in 0..rows {
            let pitch = high.saturating_sub(r as u8);
            if pianoroll::is_black_key(pitch) {
                let y = rect.top() + r as f32 * row_h;
                painter.rect_filled(
                    Rect::from_min_size(Pos2::new(rect.left(), y), Vec2::new(rect.width(), row_h)),
                    0.0,
                    palette::ROLL_BLACK_KEY,
                );
            }
        }
    } else {
        for r in 1..rows {
            let y = rect.top() + r as f32 * row_h;
            painter.line_segment(
                [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
                Stroke::new(0.5, palette::ROLL_BLACK_KEY),
            );
        }
    }
    for x in &roll.bar_lines {
        let x = rect.left() + x * rect.width();
        painter.line_segment([Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())], Stroke::new(1.0, palette::GRID));
    }
    let base = if matches!(roll.rows, Rows::Drums { .. }) { palette::DRUM } else { palette::NOTE };
    for note in &roll.notes {
        let min = Pos2::new(rect.left() + note.x * rect.width(), rect.top() + note.y * rect.height());
        let size = Vec2::new((note.w * rect.width()).max(2.0), (note.h * rect.height()).max(1.5));
        // Louder notes are brighter.
        let strength = 0.45 + 0.55 * note.intensity;
        let color = Color32::from_rgb(
            (base.r() as f32 * strength) as u8,
            (base.g() as f32 * strength) as u8,
            (base.b() as f32 * strength) as u8,
        );
        painter.rect_filled(Rect::from_min_size(min, size).shrink2(Vec2::new(0.0, 0.3)), 1.0, color);
    }
    let border = if highlighted { Stroke::new(1.5, palette::SELECTED) } else { Stroke::new(1.0, palette::GRID) };
    painter.rect_stroke(rect, CornerRadius::same(4), border, StrokeKind::Inside);
}
