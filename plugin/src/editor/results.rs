//! The results grid: a header (count, Export all, Reveal folder, the export folder) and one card
//! per result (its roll, keep star, "as A" / "as B", the drag handle). Clicking a card selects
//! it (it plays), the arrow keys step through the cards, dragging one drops a .mid on a track.

use egui::{Align, CornerRadius, FontId, Key, Layout, Pos2, Rect, RichText, Sense, Stroke, StrokeKind, Ui, Vec2};

use super::layout::slot_name;
use super::panel::Panel;
use super::probe;
use super::style::{paint_empty, paint_roll, palette};

/// Size of a result card in logical points.
const CARD_SIZE: Vec2 = Vec2::new(200.0, 132.0);
/// Height of a card's roll in logical points.
const CARD_ROLL_HEIGHT: f32 = 70.0;

/// What the musician did to one card this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardAction {
    Select,
    ToggleKeep,
    /// Make this result input 0 (A) or 1 (B).
    UseAs(usize),
    DragOut,
    /// A click (not a drag) on the drag handle: save into the export folder.
    Export,
}

impl Panel {
    /// The results column.
    pub(super) fn results_view(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Results").heading());
            if !self.results.is_empty() {
                let hint =
                    format!("{} — click to hear, arrow keys to step, drag a clip onto a track", self.results.len());
                ui.add(egui::Label::new(RichText::new(hint).color(palette::HINT)).truncate());
            }
        });
        self.export_row(ui);
        ui.add_space(4.0);
        if self.results.is_empty() {
            let rect = ui.available_rect_before_wrap();
            let rect = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 120.0_f32.min(rect.height())));
            let hint = match self.params.tool.value().rules().inputs {
                0 => "No results yet: press the ✨ button",
                1 => "No results yet: fill input A and press the ✨ button",
                _ => "No results yet: fill inputs A and B and press the ✨ button",
            };
            paint_empty(ui, rect, hint);
            return;
        }
        let mut actions = Vec::new();
        egui::ScrollArea::vertical().id_salt("results-scroll").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing = Vec2::new(10.0, 10.0);
                for index in 0..self.results.len() {
                    let (card, _) = ui.allocate_exact_size(CARD_SIZE, Sense::hover());
                    let selected = self.selected == Some(index);
                    if selected && std::mem::take(&mut self.scroll_to_selected) {
                        ui.scroll_to_rect(card, None);
                    }
                    if let Some(action) = self.card(ui, card, index, selected) {
                        actions.push((index, action));
                    }
                }
            });
        });
        for (index, action) in actions {
            self.apply(index, action);
        }
    }

    /// Export all, Reveal folder and the folder they use.
    fn export_row(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let export_all = ui
                .add_enabled(!self.results.is_empty(), egui::Button::new("Export all to folder"))
                .on_hover_text("Write every result as a .mid file into the folder named in this row");
            probe::note_rect(ui, "export_all", export_all.rect);
            let reveal = ui.button("Reveal folder").on_hover_text("Open the export folder in your file manager");
            probe::note_rect(ui, "reveal", reveal.rect);
            // The folder field takes what is left of the row (clipped, never wider).
            let width = ui.available_width().max(60.0);
            ui.add_sized(Vec2::new(width, 22.0), egui::TextEdit::singleline(&mut self.export_dir).clip_text(true))
                .on_hover_text("The folder \"Export all\" writes to (created if missing)");
            if export_all.clicked() {
                self.export_all();
            }
            if reveal.clicked() {
                self.reveal_export_dir();
            }
        });
    }

    fn apply(&mut self, index: usize, action: CardAction) {
        match action {
            CardAction::Select => self.select(index),
            CardAction::ToggleKeep => {
                if let Some(keep) = self.favourites.get_mut(index) {
                    *keep = !*keep;
                    // Kept clips are saved with the project and survive the next generation.
                    self.channels.session().set_kept(index, *keep);
                }
            }
            CardAction::UseAs(slot) => {
                let clip = self.results[index].clip.clone();
                self.channels.session().set_input(slot, Some(clip));
                self.say(format!("Result {} is now input {}", index + 1, slot_name(slot)), true);
            }
            CardAction::DragOut => {
                self.select(index);
                self.drag_out(index);
            }
            CardAction::Export => self.export_one(index),
        }
    }

    /// Draws result `index` into `card`; returns what the musician did to it.
    fn card(&self, ui: &mut Ui, card: Rect, index: usize, selected: bool) -> Option<CardAction> {
        let mut action = None;
        let painter = ui.painter_at(card);
        painter.rect_filled(card, CornerRadius::same(6), palette::PANEL);
        let stroke = if selected { Stroke::new(2.5, palette::SELECTED) } else { Stroke::new(1.0, palette::GRID) };
        painter.rect_stroke(card, CornerRadius::same(6), stroke, StrokeKind::Inside);
        let header = Rect::from_min_size(card.min + Vec2::new(8.0, 4.0), Vec2::new(card.width() - 16.0, 22.0));
        painter.text(
            header.left_center(),
            egui::Align2::LEFT_CENTER,
            format!("{}{}", index + 1, if selected { "  ▶ selected" } else { "" }),
            FontId::proportional(14.0),
            if selected { palette::SELECTED } else { palette::TEXT },
        );
        let roll_rect =
            Rect::from_min_size(card.min + Vec2::new(8.0, 28.0), Vec2::new(card.width() - 16.0, CARD_ROLL_HEIGHT));
        let shown = &self.results[index];
        paint_roll(ui, roll_rect, &shown.roll, selected);
        let response = ui
            .interact(roll_rect, ui.make_persistent_id(("result", index)), Sense::click_and_drag())
            .on_hover_ui(|ui| {
                ui.label(format!(
                    "Result {}: {}. Click to select and hear it; drag it onto a DAW track.",
                    index + 1,
                    shown.summary
                ));
            });
        probe::note_rect_of(ui, "result", index, roll_rect);
        if response.clicked() {
            action = Some(CardAction::Select);
        }
        if response.drag_started() {
            action = Some(CardAction::DragOut);
        }
        // The keep star in the header's right corner.
        let kept = self.favourites.get(index).copied().unwrap_or(false);
        let star_rect = Rect::from_center_size(Pos2::new(header.right() - 10.0, header.center().y), Vec2::splat(22.0));
        let star =
            ui.interact(star_rect, ui.make_persistent_id(("fav", index)), Sense::click()).on_hover_text(if kept {
                "Kept: click to unmark"
            } else {
                "Keep: mark this result as a favourite (exported names end in -kept)"
            });
        painter.text(
            star_rect.center(),
            egui::Align2::CENTER_CENTER,
            if kept { "★" } else { "☆" },
            FontId::proportional(18.0),
            if kept { palette::ACCENT } else { palette::HINT },
        );
        probe::note_rect_of(ui, "fav", index, star_rect);
        if star.clicked() {
            action = Some(CardAction::ToggleKeep);
        }
        // Buttons under the roll.
        let row = Rect::from_min_size(
            Pos2::new(card.min.x + 8.0, roll_rect.max.y + 5.0),
            Vec2::new(card.width() - 16.0, 24.0),
        );
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(row).layout(Layout::left_to_right(Align::Center)));
        child.spacing_mut().item_spacing = Vec2::new(4.0, 0.0);
        child.spacing_mut().button_padding = Vec2::new(5.0, 2.0);
        let a = child.small_button("as A").on_hover_text("Use this result as input A");
        probe::note_rect_of(&child, "use_a", index, a.rect);
        if a.clicked() {
            action = Some(CardAction::UseAs(0));
        }
        let b = child.small_button("as B").on_hover_text("Use this result as input B (Interpolate's second clip)");
        probe::note_rect_of(&child, "use_b", index, b.rect);
        if b.clicked() {
            action = Some(CardAction::UseAs(1));
        }
        // Where the platform has a drag source (x11_drag, drag_windows) the handle drags.
        let can_drag = cfg!(any(target_os = "linux", target_os = "windows"));
        let label = if can_drag { "📤 Drag" } else { "💾 Export" };
        let handle = child.add(egui::Button::new(label).small().sense(Sense::click_and_drag())).on_hover_text(
            if can_drag {
                "Drag this onto a DAW track (a .mid written to Cadenza's folder is dragged); click to save it into the export folder instead"
            } else {
                "Export this result as .mid into the export folder (then drag it from there: Reveal folder)"
            },
        );
        probe::note_rect_of(&child, "drag", index, handle.rect);
        if handle.drag_started() {
            action = Some(CardAction::DragOut);
        } else if handle.clicked() {
            action = Some(CardAction::Export);
        }
        action
    }

    /// Arrow keys step through the results (unless a text field has the keyboard).
    pub(super) fn handle_keys(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() || self.results.is_empty() {
            return;
        }
        let (prev, next) = ctx.input(|i| {
            (
                i.key_pressed(Key::ArrowLeft) || i.key_pressed(Key::ArrowUp),
                i.key_pressed(Key::ArrowRight) || i.key_pressed(Key::ArrowDown),
            )
        });
        let last = self.results.len() - 1;
        let current = self.selected.unwrap_or(0);
        let target = if next {
            Some((current + 1).min(last))
        } else if prev {
            Some(current.saturating_sub(1))
        } else {
            None
        };
        if let Some(index) = target {
            self.select(index);
            self.scroll_to_selected = true;
        }
    }
}
