//! `cadenza-cli`: the engine from the command line.
//!
//! ```text
//! cadenza-cli continue    --input a.mid --variations 4 --bars 4 --temperature 1.0 --out out/
//! cadenza-cli generate    --mode drums --variations 8 --bars 8 --seed 7 --out out/ --png
//! cadenza-cli interpolate --input a.mid --input b.mid --steps 5 --out out/
//! cadenza-cli generate    --mode drums --variations 4 --quality 8 --out out/
//! cadenza-cli drumify     --input tapped.mid --out out/
//! cadenza-cli groove      --input beat.mid --variations 3 --out out/
//! ```
//!
//! Not named `cadenza`: nice-plug's bundler takes any `target/<profile>/cadenza` executable for a
//! standalone build of the plugin crate `cadenza` and writes it to `target/bundled/Cadenza`, the
//! CLAP bundle's runtime folder.
//!
//! Exit codes: 0 done; 2 bad arguments; 3 the input cannot be used (unreadable MIDI, empty,
//! not 4/4, a meter change inside the music, …); 4 ONNX Runtime or a model is missing or
//! damaged; 5 the output could not be written; 6 anything else. Everything the user should know
//! about a result (the key Key: Auto found, where a continuation starts, variations that came
//! out empty and were made again, what was repaired in an input file) goes to stderr.

mod piano_roll;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use cadenza_engine::{Engine, EngineConfig, EngineError, Job, KeyChoice, Mode, Tool};
use cadenza_music::{export_midi, import_midi_file, ExportOptions, ImportOptions};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "cadenza-cli",
    version,
    about = "Magenta-Studio-style MIDI generation: Continue, Generate, Interpolate, Drumify, Groove"
)]
struct Cli {
    #[command(subcommand)]
    tool: ToolCmd,
}

#[derive(Subcommand)]
enum ToolCmd {
    /// Continue a phrase: prime on the input's music, add --bars bars right after it.
    ///
    /// Where the continuation starts: at the input's end. An input that ends two or more whole
    /// bars after its last note (a loop region longer than the phrase) is primed on its music
    /// only, and the new bars start at the bar line after the last note (stderr says which bar);
    /// a shorter closing rest is part of the phrase. The new notes follow the input's dynamics
    /// (drums: per instrument and position in the bar) and, for drums, its kit pieces.
    Continue(Common),
    /// Generate new phrases from scratch (4 bars per latent code; longer ones are chained),
    /// with a musical velocity profile.
    Generate(Common),
    /// Blend two phrases (--input twice) in --steps steps. The results are as long as the inputs
    /// (at most 4 bars); the first and last are the inputs as given.
    Interpolate(Common),
    /// Turn any rhythm into a drum groove.
    Drumify(Common),
    /// Humanize a drum part: your own notes (same pitches, same count) with performed velocity
    /// and micro-timing.
    Groove(Common),
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Melody,
    Drums,
}

#[derive(Args)]
struct Common {
    /// Input .mid file(s): one for continue/drumify/groove, two for interpolate.
    #[arg(long, short)]
    input: Vec<PathBuf>,
    /// melody or drums (default: drums when the first input is all on channel 10, else melody).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    #[arg(long, short = 'n', default_value_t = 4)]
    variations: usize,
    /// Bars to add (continue) or generate (generate).
    #[arg(long, short, default_value_t = 4)]
    bars: u16,
    /// 0 = always the most likely choice; 1 = the model's own distribution; higher = wilder.
    #[arg(long, short, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long, short, default_value_t = 0)]
    seed: u64,
    /// Melody tools: keep new notes in a key. `auto` (default): the input's own key and scale,
    /// detected and printed on stderr; `off`: any note; or a key such as C:major, F#:minor,
    /// Bb:dorian.
    #[arg(long, short, default_value = "auto")]
    key: KeyChoice,
    /// Drums (continue, generate, interpolate): run Cadenza's Groove model over the new notes
    /// so they come out with performed velocity and micro-timing (`--humanize off` keeps them on
    /// the grid with the input's dynamics).
    #[arg(long, value_name = "on|off", default_value = "on", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    humanize: bool,
    /// Quality (continue, generate, interpolate): sample this many candidates per clip and keep
    /// the best, most varied ones, scored by the model's likelihood and musical statistics
    /// (1 = one sample each, as fast as it gets; up to 8).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=8))]
    quality: u8,
    /// Interpolate: number of clips.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Interpolate: leave out the inputs at both ends (all results are decoded blends).
    #[arg(long)]
    no_endpoints: bool,
    /// Continue: write only the new bars.
    #[arg(long)]
    continuation_only: bool,
    /// Output folder (created if needed).
    #[arg(long, short)]
    out: PathBuf,
    /// Also write a piano-roll .png next to each .mid.
    #[arg(long)]
    png: bool,
    /// Tempo written into the .mid files (default: the first input's tempo map, else 120).
    #[arg(long)]
    bpm: Option<f64>,
    /// Models folder (default: $CADENZA_MODELS_DIR, next to the binary, or the repository's models/).
    #[arg(long)]
    models_dir: Option<PathBuf>,
    /// ONNX Runtime library (default: $CADENZA_ORT_LIB, next to the binary, or target/onnxruntime/).
    #[arg(long)]
    ort_lib: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

enum Fail {
    Input(String),
    Install(String),
    Output(String),
    Other(String),
}

impl Fail {
    fn code(&self) -> u8 {
        match self {
            Fail::Input(_) => 3,
            Fail::Install(_) => 4,
            Fail::Output(_) => 5,
            Fail::Other(_) => 6,
        }
    }

    fn message(&self) -> &str {
        match self {
            Fail::Input(m) | Fail::Install(m) | Fail::Output(m) | Fail::Other(m) => m,
        }
    }
}

impl From<EngineError> for Fail {
    fn from(e: EngineError) -> Fail {
        let m = e.to_string();
        if e.is_input_error() {
            Fail::Input(m)
        } else if e.is_installation_error() {
            Fail::Install(m)
        } else {
            Fail::Other(m)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("cadenza-cli: {}", f.message());
            ExitCode::from(f.code())
        }
    }
}

fn run(cli: Cli) -> Result<(), Fail> {
    let (tool, args) = match cli.tool {
        ToolCmd::Continue(a) => (Tool::Continue, a),
        ToolCmd::Generate(a) => (Tool::Generate, a),
        ToolCmd::Interpolate(a) => (Tool::Interpolate, a),
        ToolCmd::Drumify(a) => (Tool::Drumify, a),
        ToolCmd::Groove(a) => (Tool::Groove, a),
    };
    let mut inputs = Vec::new();
    // The first input's tempo map: (tempo at its start, later changes).
    let mut tempo_map = None;
    for path in &args.input {
        let imported = import_midi_file(path, &ImportOptions::default())
            .map_err(|e| Fail::Input(format!("{}: {e}", path.display())))?;
        for repair in &imported.repairs {
            eprintln!("cadenza-cli: note: {}: {repair}", path.display());
        }
        tempo_map.get_or_insert((imported.tempo_us_per_quarter, imported.tempo_changes));
        inputs.push(imported.clip);
    }
    let mode = match args.mode {
        Some(ModeArg::Melody) => Mode::Melody,
        Some(ModeArg::Drums) => Mode::Drums,
        None if matches!(tool, Tool::Drumify | Tool::Groove) => Mode::Drums,
        None if inputs.first().is_some_and(|c| c.is_drum) => Mode::Drums,
        None => Mode::Melody,
    };
    let job = Job {
        tool,
        mode,
        temperature: args.temperature,
        variations: args.variations,
        bars: args.bars,
        interp_steps: args.steps,
        include_endpoints: !args.no_endpoints,
        continuation_only: args.continuation_only,
        seed: args.seed,
        key: args.key,
        humanize: args.humanize,
        quality: args.quality as usize,
        inputs,
    };
    let mut config = EngineConfig::discover();
    if let Some(d) = args.models_dir {
        config.models_dir = d;
    }
    if let Some(l) = args.ort_lib {
        config.runtime_lib = l;
    }
    let mut engine = Engine::new(config);
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::with_draw_target(Some(1000), indicatif::ProgressDrawTarget::stderr());
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {percent:>3}% {elapsed}")
                .expect("static template")
                .progress_chars("=> "),
        );
        b.set_message(tool.name());
        b
    };
    let cancel = AtomicBool::new(false);
    let result = engine.run(&job, &mut |f| bar.set_position((f * 1000.0) as u64), &cancel);
    bar.finish_and_clear();
    let out = result?;
    if let Some(key) = out.detected_key {
        eprintln!("cadenza-cli: key: {key} (Key: Auto, found in the input; new notes keep to it)");
    }
    for w in &out.warnings {
        eprintln!("cadenza-cli: note: {w}");
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Fail::Output(format!("cannot create {}: {e}", args.out.display())))?;
    // The song's tempo map (the first input's), as seen from where each output starts: a
    // continuation-only clip starts where the input's music ends.
    let from = match (tool, args.continuation_only) {
        (Tool::Continue, true) => out.continues_at.unwrap_or(0),
        _ => 0,
    };
    let options = match (args.bpm, &tempo_map) {
        (Some(bpm), _) => ExportOptions::with_bpm(bpm, "Cadenza"),
        (None, Some((initial, changes))) => ExportOptions::with_tempo_map(*initial, changes, from, "Cadenza"),
        (None, None) => ExportOptions::default(),
    };
    if let Some(at) = out.continues_at.filter(|_| tool == Tool::Continue) {
        let bar = at / job_bar_ticks(&job) + 1;
        eprintln!("cadenza-cli: the continuation starts at bar {bar} of the input");
    }
    for (i, clip) in out.clips.iter().enumerate() {
        let stem = format!("{}_{:02}", tool.name(), i + 1);
        let mid = args.out.join(format!("{stem}.mid"));
        let bytes = export_midi(clip, &options).map_err(|e| Fail::Output(format!("{}: {e}", mid.display())))?;
        write(&mid, &bytes)?;
        if args.png {
            let png = args.out.join(format!("{stem}.png"));
            piano_roll::render(clip, &png).map_err(Fail::Output)?;
        }
        println!("{}", mid.display());
    }
    Ok(())
}

fn job_bar_ticks(job: &Job) -> u32 {
    job.inputs.first().map_or(1920, |c| c.time_signature.ticks_per_bar()).max(1)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Fail> {
    std::fs::write(path, bytes).map_err(|e| Fail::Output(format!("cannot write {}: {e}", path.display())))
}
