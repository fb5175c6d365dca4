//! `models/manifest.json`, typed. Written by `models/training/cadenza_train/pipeline.py`
//! (`write_manifest`, `run_lm`, `run_vae`, `run_groove`) and `export.py` (`io_spec`). Every shape,
//! tensor name and hyperparameter the engine uses comes from here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::EngineError;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const MANIFEST_FORMAT: &str = "cadenza-models/1";

#[derive(Clone, Debug, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub spec_version: u32,
    #[serde(default)]
    pub encoding_spec: Option<EncodingSpecRef>,
    #[serde(default)]
    pub models: BTreeMap<String, ModelEntry>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct EncodingSpecRef {
    pub file: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ModelEntry {
    /// `lm`, `vae` or `groove`.
    pub kind: String,
    /// `melody`, `drums` or `groove`.
    pub domain: String,
    pub spec_version: u32,
    #[serde(default)]
    pub vocab_size: Option<usize>,
    #[serde(default)]
    pub bars: Option<u16>,
    #[serde(default)]
    pub steps: Option<usize>,
    #[serde(default)]
    pub z_dim: Option<usize>,
    #[serde(default)]
    pub decoder_start_token: Option<i64>,
    #[serde(default)]
    pub state: Option<StateSpec>,
    #[serde(default)]
    pub variants: BTreeMap<String, VariantSpec>,
    pub graphs: BTreeMap<String, GraphEntry>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct StateSpec {
    pub layers: usize,
    pub hidden: usize,
}

#[derive(Clone, Debug, Deserialize)]
pub struct VariantSpec {
    pub input_floats: usize,
    /// `[encoder, decoder]` graph names.
    pub graphs: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GraphEntry {
    /// Relative to the manifest's folder.
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<Dim>,
    pub dtype: String,
}

/// A dimension: fixed, or symbolic (`"batch"`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Dim {
    Fixed(i64),
    Named(String),
}

impl Dim {
    pub fn fixed(&self) -> Option<usize> {
        match self {
            Dim::Fixed(n) if *n >= 0 => Some(*n as usize),
            _ => None,
        }
    }
}

impl TensorSpec {
    /// The fixed dimension at `axis`, or an error naming the graph.
    pub fn dim(&self, axis: usize) -> Option<usize> {
        self.shape.get(axis).and_then(Dim::fixed)
    }
}

impl Manifest {
    /// Reads `dir/manifest.json`. A missing file means "no models installed".
    pub fn load(dir: &Path) -> Result<Manifest, EngineError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| EngineError::ModelMissing {
            model: "Cadenza".into(),
            detail: format!("the model list {} could not be read ({e})", path.display()),
        })?;
        let manifest =
            Manifest::parse(&text).map_err(|reason| EngineError::ManifestInvalid { path: path.clone(), reason })?;
        Ok(manifest)
    }

    pub fn parse(text: &str) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if m.format != MANIFEST_FORMAT {
            return Err(format!("format {:?}, this Cadenza reads {MANIFEST_FORMAT:?}", m.format));
        }
        let spec = cadenza_music::spec::SPEC_VERSION;
        if m.spec_version != spec {
            return Err(format!("models were made for encoding spec v{}, this Cadenza uses v{spec}", m.spec_version));
        }
        Ok(m)
    }

    pub fn model(&self, name: &str, dir: &Path) -> Result<&ModelEntry, EngineError> {
        self.models.get(name).ok_or_else(|| EngineError::ModelMissing {
            model: name.to_string(),
            detail: format!(
                "{} lists no {name:?} (installed: {})",
                dir.join(MANIFEST_FILE).display(),
                if self.models.is_empty() {
                    "none".to_string()
                } else {
                    self.models.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            ),
        })
    }
}

impl ModelEntry {
    pub fn graph(&self, model: &str, part: &str, manifest_path: &Path) -> Result<&GraphEntry, EngineError> {
        self.graphs.get(part).ok_or_else(|| EngineError::ManifestInvalid {
            path: manifest_path.to_path_buf(),
            reason: format!("model {model:?} has no graph {part:?}"),
        })
    }
}

impl GraphEntry {
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "format": "cadenza-models/1", "spec_version": 1,
      "encoding_spec": {"file": "spec/encoding.json", "sha256": "ab"},
      "models": {"melody_rnn": {"kind": "lm", "domain": "melody", "spec_version": 1,
        "vocab_size": 90, "state": {"layers": 2, "hidden": 32, "initial": "zeros"},
        "graphs": {"step": {"file": "melody_rnn.onnx", "sha256": "00", "bytes": 3,
          "inputs": [{"name": "token", "shape": ["batch"], "dtype": "int64"},
                     {"name": "h", "shape": [2, "batch", 32], "dtype": "float32"}],
          "outputs": [{"name": "logits", "shape": ["batch", 90], "dtype": "float32"}]}}}}
    }"#;

    #[test]
    fn parses_the_pipeline_format() {
        let m = Manifest::parse(SAMPLE).unwrap();
        let e = &m.models["melody_rnn"];
        assert_eq!(e.vocab_size, Some(90));
        let g = &e.graphs["step"];
        assert_eq!(g.inputs[1].shape[0], Dim::Fixed(2));
        assert_eq!(g.inputs[1].shape[1], Dim::Named("batch".into()));
        assert_eq!(g.outputs[0].dim(1), Some(90));
        assert!(m.model("drum_rnn", Path::new("models")).is_err());
        assert!(Manifest::parse(&SAMPLE.replace("cadenza-models/1", "x")).is_err());
        assert!(Manifest::parse(&SAMPLE.replace("\"spec_version\": 1,\n", "\"spec_version\": 9,\n")).is_err());
    }
}
