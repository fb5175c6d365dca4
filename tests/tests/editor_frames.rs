//! The editor never blocks: while the engine generates 16 variations (a stand-in generator that
//! keeps a core busy for about 2 s, reporting progress), the panel keeps drawing. Frame times
//! (the panel's code + egui layout + tessellation, i.e. everything but the GPU upload) are
//! measured during the generation and compared with idle frames; the numbers are printed and
//! written to `target/editor-artifacts/frame-times.txt`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cadenza::editor::egui::Vec2;
use cadenza::editor::panel::Activity;
use cadenza::messages::{JobError, JobRequest};
use cadenza::music::Clip;
use cadenza::params::Tool;
use cadenza::worker::{Generator, Progress, WorkerHandle};
use cadenza_tests::editor_harness::{demo_melody, Fixture, Headless};

/// Burns CPU for `per_variation` per variation (like inference would), honours cancel.
struct Busy {
    per_variation: Duration,
}

impl Generator for Busy {
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
        let n = request.settings.variations as usize;
        let mut clips = Vec::with_capacity(n);
        for v in 0..n {
            let until = Instant::now() + self.per_variation;
            let mut x = 1u64;
            while Instant::now() < until {
                for _ in 0..10_000 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                }
            }
            std::hint::black_box(x);
            if progress.is_cancelled() {
                return Err(JobError::Internal("cancelled".into()));
            }
            clips.push(demo_melody(request.settings.length_bars, 100 + v as u32));
            progress.set((v + 1) as f32 / n as f32);
        }
        Ok(clips)
    }
}

struct Stats {
    frames: usize,
    median_ms: f64,
    p95_ms: f64,
    max_ms: f64,
}

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} frames, median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            self.frames, self.median_ms, self.p95_ms, self.max_ms
        )
    }
}

fn stats(mut times: Vec<Duration>) -> Stats {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(times[((times.len() - 1) as f64 * q).round() as usize]);
    Stats { frames: times.len(), median_ms: at(0.5), p95_ms: at(0.95), max_ms: ms(*times.last().unwrap()) }
}

#[test]
fn panel_keeps_drawing_while_16_variations_generate() {
    let fixture = Fixture::new();
    fixture.host_sets(&fixture.params.tool, Tool::Generate);
    fixture.host_sets(&fixture.params.variations, 16);
    fixture.set_session([Some(demo_melody(4, 1)), None], (0..4).map(|i| demo_melody(4, i)).collect(), Some(0));
    let _engine =
        WorkerHandle::spawn(fixture.worker.clone(), Box::new(Busy { per_variation: Duration::from_millis(120) }))
            .unwrap();
    let mut ui = Headless::new(fixture.panel(), Vec2::new(980.0, 660.0), 1.0);
    ui.frames(5);

    // Idle frames for comparison (at ~60 fps pacing).
    let mut idle = Vec::new();
    for _ in 0..60 {
        idle.push(ui.frame());
        std::thread::sleep(Duration::from_millis(16));
    }

    ui.click("generate");
    let started = Instant::now();
    let mut busy = Vec::new();
    let mut progress_seen = Vec::new();
    let mut worst_gap = Duration::ZERO;
    let mut last = Instant::now();
    let mut kept = None;
    loop {
        let frame = ui.frame();
        busy.push(frame);
        worst_gap = worst_gap.max(last.elapsed());
        last = Instant::now();
        progress_seen.push(fixture.editor.progress().get());
        if matches!(ui.panel.activity, Activity::Done { .. } | Activity::Failed(_)) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "generation never finished");
        // A third of the way, keep the frame for a picture of the progress bar (rendered after).
        if kept.is_none() && fixture.editor.progress().get() > 0.3 {
            kept = Some(ui.keep());
        }
        std::thread::sleep(Duration::from_millis(16).saturating_sub(frame));
    }
    let generation = started.elapsed();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/editor-artifacts");
    kept.expect("a frame during generation").screenshot(&dir.join("generating-progress.png")).unwrap();
    assert_eq!(ui.panel.activity, Activity::Done { variations: 16 });
    ui.frames(2);
    assert_eq!(ui.panel.results_len(), 16, "all 16 results shown");
    assert!(progress_seen.windows(2).any(|w| w[1] > w[0] && w[0] > 0.0), "the progress bar moved");

    let (idle, busy_stats) = (stats(idle), stats(busy));
    let report = format!(
        "frame times (panel code + egui layout + tessellation, {} build), 980x660:\n  idle:                {idle:?}\n  generating 16 vars:  {busy_stats:?}\n  generation took {:.2} s; longest gap between frames {:.1} ms\n",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        generation.as_secs_f64(),
        worst_gap.as_secs_f64() * 1000.0
    );
    println!("{report}");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("frame-times.txt"), &report).unwrap();

    assert!(busy_stats.frames >= 30, "the panel drew {} frames during a {generation:?} generation", busy_stats.frames);
    // Never blocked on the engine: no frame waits for it. Generous bounds (2 shared cores, a
    // debug build): a blocked frame would take as long as the generation (≈2 s).
    assert!(busy_stats.max_ms < 250.0, "a frame took {:.1} ms during generation", busy_stats.max_ms);
    assert!(worst_gap < Duration::from_millis(400), "the panel stalled for {worst_gap:?}");
}

#[test]
fn cancel_stops_the_job_and_says_so() {
    let fixture = Fixture::new();
    fixture.host_sets(&fixture.params.tool, Tool::Generate);
    fixture.host_sets(&fixture.params.variations, 16);
    fixture.set_session([Some(demo_melody(4, 1)), None], vec![], None);
    let _engine =
        WorkerHandle::spawn(fixture.worker.clone(), Box::new(Busy { per_variation: Duration::from_millis(200) }))
            .unwrap();
    let mut ui = Headless::new(fixture.panel(), Vec2::new(980.0, 660.0), 1.0);
    ui.frames(2);
    ui.click("generate");
    ui.frames(3);
    assert!(ui.panel.is_running());
    ui.click("cancel_status");
    let deadline = Instant::now() + Duration::from_secs(10);
    while ui.panel.is_running() {
        assert!(Instant::now() < deadline);
        ui.frame();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(ui.panel.activity, Activity::Cancelled);
    assert!(!fixture.editor.progress().is_cancelled(), "the cancel flag is lowered once the job ended");
    assert_eq!(ui.panel.results_len(), 0);
}
