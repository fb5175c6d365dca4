//! The real generator: Cadenza's inference engine (`cadenza-engine`, ONNX Runtime) behind the
//! plugin's [`Generator`] trait. It is built on the worker thread at the first job, so neither a
//! host's plugin scan nor `activate()` loads the runtime or a model.

use cadenza_engine::{Engine, EngineConfig, Job, KeyChoice, KeyScale};
use cadenza_music::Clip;

use crate::messages::{JobError, JobPurpose, JobRequest, KeySetting, ToolSettings};
use crate::params::{Mode, Scale, Tool};
use crate::worker::{Generator, Progress};

#[derive(Default)]
pub struct OnnxGenerator {
    engine: Option<Engine>,
    warnings: Vec<String>,
    detected_key: Option<KeyScale>,
}

impl OnnxGenerator {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Generator for OnnxGenerator {
    fn generate(&mut self, request: &JobRequest, progress: &Progress) -> Result<Vec<Clip>, JobError> {
        let job = job_for(request);
        let engine = self.engine.get_or_insert_with(|| Engine::new(EngineConfig::discover()));
        let mut report = |fraction: f32| progress.set(fraction);
        let output = match engine.run(&job, &mut report, progress.cancel_flag()) {
            Ok(output) => output,
            Err(error) => {
                if error.is_installation_error() {
                    // Look for the runtime and the models again next time: the user may fix
                    // the installation (or the environment) without reloading the plugin.
                    self.engine = None;
                }
                return Err(JobError::Engine(error));
            }
        };
        self.warnings.extend(output.warnings);
        self.detected_key = output.detected_key;
        Ok(output.clips)
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn take_detected_key(&mut self) -> Option<KeyScale> {
        self.detected_key.take()
    }
}

/// Maps the plugin's request onto an engine job: Generate takes no input, Interpolate takes A
/// and B, the others take A.
pub fn job_for(request: &JobRequest) -> Job {
    let ToolSettings { tool, mode, temperature, variations, length_bars, interp_steps, quality, key, humanize } =
        request.settings;
    let inputs_needed = tool.rules().inputs;
    Job {
        tool: match tool {
            Tool::Continue => cadenza_engine::Tool::Continue,
            Tool::Generate => cadenza_engine::Tool::Generate,
            Tool::Interpolate => cadenza_engine::Tool::Interpolate,
            Tool::Drumify => cadenza_engine::Tool::Drumify,
            Tool::Groove => cadenza_engine::Tool::Groove,
        },
        mode: match mode {
            Mode::Melody => cadenza_engine::Mode::Melody,
            Mode::Drums => cadenza_engine::Mode::Drums,
        },
        temperature,
        variations: variations as usize,
        bars: length_bars,
        interp_steps: interp_steps as usize,
        include_endpoints: true,
        // A Jam answer is only the new bars (the call was played by the musician).
        continuation_only: matches!(request.purpose, JobPurpose::JamAnswer { .. }),
        seed: request.seed,
        quality: (quality as usize).clamp(1, cadenza_engine::MAX_QUALITY),
        key: match key {
            KeySetting::Off => KeyChoice::Off,
            KeySetting::Auto => KeyChoice::Auto,
            KeySetting::Fixed(tonic, scale) => KeyChoice::Fixed(KeyScale::new(tonic, engine_scale(scale))),
        },
        humanize,
        inputs: request.inputs.iter().take(inputs_needed).cloned().collect(),
    }
}

fn engine_scale(scale: Scale) -> cadenza_engine::Scale {
    use cadenza_engine::Scale as E;
    match scale {
        Scale::Major => E::Major,
        Scale::Minor => E::Minor,
        Scale::HarmonicMinor => E::HarmonicMinor,
        Scale::Dorian => E::Dorian,
        Scale::Phrygian => E::Phrygian,
        Scale::Lydian => E::Lydian,
        Scale::Mixolydian => E::Mixolydian,
        Scale::MajorPentatonic => E::MajorPentatonic,
        Scale::MinorPentatonic => E::MinorPentatonic,
        Scale::Blues => E::Blues,
    }
}
