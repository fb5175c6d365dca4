//! A bounce hears the generated clip exactly where a real-time playback on a fast machine puts
//! it, however the host says "offline" (issue 13, fault 2): Ardour's exports only set VST3's
//! per-block `processMode`, never the setup's mode.

use std::time::{Duration, Instant};

use cadenza::messages::{JobError, JobRequest};
use cadenza::music::Clip;
use cadenza::worker::{Generator, Progress};
use cadenza::Cadenza;
use cadenza_tests::OctaveEcho;
use cadenza_tests::{note_off, note_on, set_param, Host, Recorded};
use nice_plug::prelude::ProcessMode;

/// The stand-in engine on a very slow machine: every job takes 300 ms.
struct SlowEcho;

impl Generator for SlowEcho {
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
        std::thread::sleep(Duration::from_millis(300));
        OctaveEcho.generate(request, progress)
    }
}

const BLOCK: usize = 512;

/// Plays a phrase into bar 1 with the transport rolling, presses Generate in bar 2 and renders
/// on to bar 6. `pace` waits after every block until the engine has answered every request
/// (a real-time host on a machine far faster than the music).
fn render(mut host: Host, pace: bool) -> Vec<Recorded> {
    set_param(&host.plugin.params_arc().capture_bars, 1);
    host.playing = true;
    let spb = host.samples_per_beat();
    let at = |beat: f64| (beat * spb).round() as usize;
    let phrase = [
        (at(0.0), note_on(60, 100)),
        (at(0.5), note_off(60)),
        (at(1.0), note_on(64, 90)),
        (at(2.0), note_off(64)),
        (at(2.5), note_on(67, 80)),
        (at(3.5), note_off(67)),
    ];
    let press = at(4.25) / BLOCK;
    let blocks = at(24.0) / BLOCK;
    for block in 0..blocks {
        let start = block * BLOCK;
        let input: Vec<_> =
            phrase.iter().filter(|(t, _)| (start..start + BLOCK).contains(t)).map(|(t, e)| (t - start, *e)).collect();
        set_param(&host.plugin.params_arc().generate, block == press);
        host.run(BLOCK, BLOCK, &input);
        if pace {
            let deadline = Instant::now() + Duration::from_secs(10);
            while host.plugin.editor_end().jobs_in_flight() > 0 {
                assert!(Instant::now() < deadline, "the engine never answered");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    assert_eq!(host.process_allocations, 0);
    host.output
}

#[test]
fn an_offline_flag_given_per_block_only_renders_like_real_time() {
    let realtime = render(Host::with_plugin_for_tests(Cadenza::with_generator(|| Box::new(OctaveEcho))), true);
    // Setup said real time; every block says offline; the engine is slow and nobody waits for it
    // but the plugin itself.
    let mut bounce = Host::with_plugin_for_tests(Cadenza::with_generator(|| Box::new(SlowEcho)));
    bounce.block_mode = ProcessMode::Offline;
    let offline = render(bounce, false);
    let generated: Vec<_> = realtime.iter().filter(|r| r.note().is_some_and(|(p, _, _)| p >= 72)).collect();
    assert!(generated.len() >= 6, "the generated clip must play in the render: {realtime:?}");
    assert_eq!(offline, realtime, "the bounce must be sample-identical to the real-time render");
}

#[test]
fn without_any_offline_flag_a_slow_engine_is_not_waited_for() {
    // The control: the same slow engine in real time arrives late (so the test above is not
    // passing by accident).
    let realtime = render(Host::with_plugin_for_tests(Cadenza::with_generator(|| Box::new(OctaveEcho))), true);
    let late = render(Host::with_plugin_for_tests(Cadenza::with_generator(|| Box::new(SlowEcho))), false);
    assert_ne!(late, realtime);
}
