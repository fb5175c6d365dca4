//! Temperature automation both ways, through the real panel code (headless egui):
//! - host → UI and next generation: the host sets the parameter (as automation playback does);
//!   the slider shows it in the next frame and the next job the panel submits carries it;
//! - UI → host: dragging the slider sends one begin, several sets and one end gesture (so the
//!   host records automation) and the host-side parameter follows; a click is begin/set/end;
//!   a double-click resets it to its default.
//!
//! The same slider code serves integer parameters (Variations within a tool's own range).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cadenza::editor::egui::{Pos2, Vec2};
use cadenza::messages::{JobError, JobRequest, ToolSettings};
use cadenza::music::Clip;
use cadenza::worker::{Generator, Progress, WorkerHandle};
use cadenza_tests::editor_harness::{demo_melody, Fixture, Gesture, Headless};

/// Records the settings of every job and answers with the input.
struct Recorder(Arc<Mutex<Vec<ToolSettings>>>);

impl Generator for Recorder {
    fn generate(&mut self, request: &JobRequest, _progress: &Progress) -> Result<Vec<Clip>, JobError> {
        self.0.lock().unwrap().push(request.settings);
        Ok(vec![request.inputs[0].clone()])
    }
}

fn wait_for(mut done: impl FnMut(&Headless) -> bool, ui: &mut Headless) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(ui) {
        assert!(Instant::now() < deadline, "timed out");
        ui.frame();
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn host_automation_reaches_the_slider_and_the_next_generation() {
    let fixture = Fixture::new();
    fixture.set_session([Some(demo_melody(2, 1)), None], vec![], None);
    let jobs = Arc::new(Mutex::new(Vec::new()));
    let _engine = WorkerHandle::spawn(fixture.worker.clone(), Box::new(Recorder(jobs.clone()))).unwrap();
    let mut ui = Headless::new(fixture.panel(), Vec2::new(980.0, 660.0), 1.0);
    ui.frames(2);
    assert_eq!(ui.panel.shown_temperature(), 1.0);

    for value in [1.6_f32, 0.25, 1.85] {
        fixture.host_sets(&fixture.params.temperature, value);
        ui.frame();
        assert!(
            (ui.panel.shown_temperature() - value).abs() < 1e-4,
            "slider shows {} after host set {value}",
            ui.panel.shown_temperature()
        );
        let before = jobs.lock().unwrap().len();
        ui.click("generate");
        wait_for(|_| jobs.lock().unwrap().len() > before, &mut ui);
        let used = jobs.lock().unwrap().last().unwrap().temperature;
        assert!((used - value).abs() < 1e-4, "the generation used {used}, host set {value}");
        wait_for(|ui| !ui.panel.is_running(), &mut ui);
    }
    // The UI never sent a gesture for temperature while following the host.
    let gestures = ui.host.take();
    eprintln!("{gestures:?}");
    assert!(!gestures.iter().any(|g| matches!(g, Gesture::Begin(n) | Gesture::End(n) if n == "Temperature")));
}

#[test]
fn dragging_the_slider_records_one_gesture_and_moves_the_host_value() {
    let fixture = Fixture::new();
    let mut ui = Headless::new(fixture.panel(), Vec2::new(980.0, 660.0), 1.0);
    ui.frames(2);
    let rect = ui.panel.rect_of("temperature").expect("temperature slider");
    ui.host.take();
    // The slider part of egui's Slider is left of the value box: drag from its middle to near
    // its left end.
    let handle = Pos2::new(rect.left() + 0.5 * 150.0, rect.center().y);
    ui.drag(handle, Pos2::new(rect.left() + 15.0, rect.center().y), 8);
    let gestures: Vec<Gesture> = ui
        .host
        .take()
        .into_iter()
        .filter(|g| matches!(g, Gesture::Begin(n) | Gesture::Set(n, _) | Gesture::End(n) if n == "Temperature"))
        .collect();
    assert!(matches!(gestures.first(), Some(Gesture::Begin(_))), "{gestures:?}");
    assert!(matches!(gestures.last(), Some(Gesture::End(_))), "{gestures:?}");
    assert_eq!(gestures.iter().filter(|g| matches!(g, Gesture::Begin(_))).count(), 1, "one gesture: {gestures:?}");
    let sets = gestures.iter().filter(|g| matches!(g, Gesture::Set(..))).count();
    assert!(sets >= 3, "several sets while dragging: {gestures:?}");
    let host_value = fixture.params.temperature.value();
    assert!(host_value < 0.4, "host-side temperature followed the drag to the left: {host_value}");
    ui.frame();
    assert!((ui.panel.shown_temperature() - host_value).abs() < 1e-4);

    // A click elsewhere on the slider: begin, set, end.
    ui.click_at(Pos2::new(rect.left() + 140.0, rect.center().y));
    let gestures: Vec<Gesture> = ui
        .host
        .take()
        .into_iter()
        .filter(|g| matches!(g, Gesture::Begin(n) | Gesture::Set(n, _) | Gesture::End(n) if n == "Temperature"))
        .collect();
    assert!(
        matches!(gestures.first(), Some(Gesture::Begin(_))) && matches!(gestures.last(), Some(Gesture::End(_))),
        "{gestures:?}"
    );
    assert!(
        fixture.params.temperature.value() > 1.5,
        "click near the right end: {}",
        fixture.params.temperature.value()
    );
}

/// The gestures on the parameter called `name`.
fn gestures_on(ui: &Headless, name: &str) -> Vec<Gesture> {
    ui.host
        .take()
        .into_iter()
        .filter(|g| matches!(g, Gesture::Begin(n) | Gesture::Set(n, _) | Gesture::End(n) if n == name))
        .collect()
}

#[test]
fn double_click_resets_the_temperature_to_its_default() {
    let fixture = Fixture::new();
    fixture.host_sets(&fixture.params.temperature, 0.3);
    let mut ui = Headless::new(fixture.panel(), Vec2::new(980.0, 700.0), 1.0);
    ui.frames(2);
    let rect = ui.panel.rect_of("temperature").unwrap();
    ui.host.take();
    ui.double_click_at(Pos2::new(rect.left() + 20.0, rect.center().y));
    let gestures = gestures_on(&ui, "Temperature");
    assert!(
        (fixture.params.temperature.value() - 1.0).abs() < 1e-6,
        "{} {gestures:?}",
        fixture.params.temperature.value()
    );
    assert!(matches!(gestures.last(), Some(Gesture::End(_))), "{gestures:?}");
    assert_well_formed(&gestures);
}

/// Gestures never nest, every set is inside one, and every one is closed.
fn assert_well_formed(gestures: &[Gesture]) {
    let mut open = false;
    for gesture in gestures {
        match gesture {
            Gesture::Begin(_) => assert!(!std::mem::replace(&mut open, true), "nested: {gestures:?}"),
            Gesture::Set(..) => assert!(open, "a set outside a gesture: {gestures:?}"),
            Gesture::End(_) => assert!(std::mem::replace(&mut open, false), "an end without a begin: {gestures:?}"),
        }
    }
    assert!(!open, "left open: {gestures:?}");
}

/// The same slider code serves integer parameters, within a tool's own range: Continue makes at
/// most 8 variations, so its slider ends at 8, and a host value beyond it is shown at the end
/// but never rewritten by the panel.
#[test]
fn a_tool_range_limits_the_integer_slider_without_rewriting_the_host_value() {
    use cadenza::params::Tool;
    use nice_plug::prelude::Param;
    let fixture = Fixture::new();
    fixture.host_sets(&fixture.params.tool, Tool::Continue);
    fixture.host_sets(&fixture.params.variations, 16);
    let mut ui = Headless::new(fixture.panel(), Vec2::new(980.0, 700.0), 1.0);
    ui.frames(3);
    assert_eq!(fixture.params.variations.value(), 16, "showing it did not change it");
    assert!(gestures_on(&ui, "Variations").is_empty());
    let shown = ui.panel.shown_value("variations").unwrap();
    assert_eq!(fixture.params.variations.preview_plain(shown), 8, "shown at the end of Continue's range");

    // Dragging from the left end to past the right end: 1, then 8 — never 16.
    let rect = ui.panel.rect_of("variations").unwrap();
    ui.drag(Pos2::new(rect.left() + 2.0, rect.center().y), Pos2::new(rect.left() + 300.0, rect.center().y), 6);
    assert_eq!(fixture.params.variations.value(), 8);
    let gestures = gestures_on(&ui, "Variations");
    assert_eq!(gestures.iter().filter(|g| matches!(g, Gesture::Begin(_))).count(), 1, "{gestures:?}");
    assert_well_formed(&gestures);
    // Only whole values reach the host.
    for gesture in &gestures {
        if let Gesture::Set(_, normalized) = gesture {
            let plain = fixture.params.variations.preview_plain(*normalized);
            assert!((fixture.params.variations.preview_normalized(plain) - normalized).abs() < 1e-6, "{gestures:?}");
        }
    }
}
