//! [`Engine`]: owns the ONNX Runtime sessions (loaded lazily on first use, on the caller's
//! thread) and runs [`Job`]s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use ort::environment::Environment;

use crate::error::EngineError;
use crate::job::{Job, Mode, Output, Tool};
use crate::manifest::{Manifest, MANIFEST_FILE};
use crate::models::{GrooveNet, Lm, Vae};
use crate::runtime;
use crate::tools;

/// Where the runtime library and the models are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// The folder holding `manifest.json` and the `.onnx` files.
    pub models_dir: PathBuf,
    /// `libonnxruntime.so.1.31.1`.
    pub runtime_lib: PathBuf,
}

impl EngineConfig {
    /// The default locations (see [`crate::runtime`]): environment variables, next to the binary
    /// holding the engine (plugin bundle), then the development tree.
    pub fn discover() -> EngineConfig {
        EngineConfig { models_dir: runtime::locate_models(), runtime_lib: runtime::locate_runtime() }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::discover()
    }
}

/// The inference engine. Create it anywhere (no I/O happens in `new`); the first [`Engine::run`]
/// loads ONNX Runtime and the models that job needs. Not `Sync`: run it on one thread (it is
/// `Send`, so it can be moved to the plugin's engine thread). It never spawns threads.
pub struct Engine {
    config: EngineConfig,
    env: Option<Environment>,
    manifest: Option<Manifest>,
    lms: HashMap<&'static str, Lm>,
    vaes: HashMap<&'static str, Vae>,
    grooves: HashMap<&'static str, GrooveNet>,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Engine {
        Engine { config, env: None, manifest: None, lms: HashMap::new(), vaes: HashMap::new(), grooves: HashMap::new() }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Runs one job. `progress` receives the fraction done (0..=1) from time to time; setting
    /// `cancel` makes the job stop at the next model step with [`EngineError::Cancelled`].
    pub fn run(
        &mut self,
        job: &Job,
        progress: &mut dyn FnMut(f32),
        cancel: &AtomicBool,
    ) -> Result<Output, EngineError> {
        job.validate()?;
        // Input problems first: they are cheaper to report than a missing model.
        let used = job.used_inputs();
        for (i, clip) in used.iter().enumerate() {
            let label = match (used.len(), i) {
                (1, _) => "the input clip".to_string(),
                (_, 0) => "input A".to_string(),
                _ => "input B".to_string(),
            };
            crate::prepare::check_clip(clip, &label)?;
        }
        self.preload(job.tool, job.mode)?;
        let name = job.tool.model_name(job.mode);
        // Humanize: the Groove model over drum results. A missing or damaged groove model only
        // skips it (with a warning): the results are still usable.
        let mut skipped = None;
        let humanizing = job.humanize
            && job.mode == Mode::Drums
            && matches!(job.tool, Tool::Continue | Tool::Generate | Tool::Interpolate);
        if humanizing {
            if let Err(e) = self.preload(Tool::Groove, Mode::Drums) {
                skipped = Some(format!("Humanize was skipped: {e}"));
            }
        }
        let humanizer = if humanizing { self.grooves.get_mut("groove") } else { None };
        let mut out = match job.tool {
            Tool::Continue => {
                let lm = self.lms.get_mut(name).expect("preloaded");
                tools::continue_::run(lm, humanizer, job, progress, cancel)?
            }
            Tool::Generate => {
                let vae = self.vaes.get_mut(name).expect("preloaded");
                tools::generate::run(vae, humanizer, job, progress, cancel)?
            }
            Tool::Interpolate => {
                let vae = self.vaes.get_mut(name).expect("preloaded");
                tools::interpolate::run(vae, humanizer, job, progress, cancel)?
            }
            Tool::Drumify | Tool::Groove => {
                let variant = job.tool.groove_variant().unwrap_or("groove");
                let net = self.grooves.get_mut(variant).expect("preloaded");
                tools::groove::run(net, job, progress, cancel)?
            }
        };
        out.warnings.extend(skipped);
        if job.mode == Mode::Drums
            && job.key.fixed().is_some()
            && matches!(job.tool, Tool::Continue | Tool::Generate | Tool::Interpolate)
        {
            out.warnings.push("the key setting applies to melodies only".into());
        }
        progress(1.0);
        Ok(out)
    }

    /// Loads ONNX Runtime and the model(s) `tool` needs in `mode`, if not loaded yet.
    pub fn preload(&mut self, tool: Tool, mode: Mode) -> Result<(), EngineError> {
        let name = tool.model_name(mode);
        let loaded = match tool {
            Tool::Continue => self.lms.contains_key(name),
            Tool::Generate | Tool::Interpolate => self.vaes.contains_key(name),
            Tool::Drumify | Tool::Groove => self.grooves.contains_key(tool.groove_variant().unwrap_or("groove")),
        };
        if loaded {
            return Ok(());
        }
        let env = match &self.env {
            Some(e) => e.clone(),
            None => {
                let e = runtime::environment(&self.config.runtime_lib)?;
                self.env = Some(e.clone());
                e
            }
        };
        let dir = self.config.models_dir.clone();
        let manifest_path = dir.join(MANIFEST_FILE);
        // Re-read the manifest when it does not (yet) list the model: models can be installed
        // while the plugin runs.
        if self.manifest.as_ref().is_none_or(|m| !m.models.contains_key(name)) {
            self.manifest = Some(Manifest::load(&dir)?);
        }
        let manifest = self.manifest.as_ref().expect("just loaded");
        let entry = manifest.model(name, &dir)?;
        match tool {
            Tool::Continue => {
                let lm = Lm::load(&env, &dir, &manifest_path, name, entry)?;
                self.lms.insert(name, lm);
            }
            Tool::Generate | Tool::Interpolate => {
                let vae = Vae::load(&env, &dir, &manifest_path, name, entry)?;
                self.vaes.insert(name, vae);
            }
            Tool::Drumify | Tool::Groove => {
                let variant = tool.groove_variant().unwrap_or("groove");
                let net = GrooveNet::load(&env, &dir, &manifest_path, name, variant, entry)?;
                self.grooves.insert(variant, net);
            }
        }
        Ok(())
    }

    /// Whether the models folder lists the model `tool` needs in `mode` (reads the manifest;
    /// loads nothing). For greying out tools in a UI.
    pub fn is_available(&self, tool: Tool, mode: Mode) -> bool {
        Manifest::load(&self.config.models_dir).map(|m| m.models.contains_key(tool.model_name(mode))).unwrap_or(false)
    }

    /// Drops every session (e.g. after the models were replaced); the next job reloads.
    pub fn unload(&mut self) {
        self.lms.clear();
        self.vaes.clear();
        self.grooves.clear();
        self.manifest = None;
    }

    pub fn models_dir(&self) -> &Path {
        &self.config.models_dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn engine_is_send() {
        assert_send::<Engine>();
        assert_send::<Job>();
        assert_send::<Output>();
        assert_send::<EngineError>();
    }
}
