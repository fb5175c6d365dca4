//! One ONNX graph: the file read once, checked against the manifest's sha256, committed to an
//! ORT session with one intra-op thread (no thread pool), and a small `run` over flat buffers.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use ort::environment::Environment;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::{Session, SessionInputValue};
use ort::value::TensorRef;
use sha2::{Digest, Sha256};

use crate::error::EngineError;
use crate::manifest::GraphEntry;

pub(crate) struct Graph {
    session: Session,
    /// Input and output names in the manifest's order (the order the engine feeds them).
    inputs: Vec<String>,
    outputs: Vec<String>,
    path: PathBuf,
}

pub(crate) enum Data<'a> {
    I64(&'a [i64]),
    F32(&'a [f32]),
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A session builder for the engine: one intra-op thread (ORT then runs on the caller's thread
/// and creates no pool), sequential execution, all graph optimisations.
fn configured_builder(env: &Environment) -> Result<SessionBuilder, EngineError> {
    let err = |e: ort::Error<SessionBuilder>| EngineError::ort("configuring a session", e);
    let b = Session::builder(env).map_err(|e| EngineError::ort("preparing a session", e))?;
    let b = b.with_intra_threads(1).map_err(err)?;
    let b = b.with_inter_threads(1).map_err(err)?;
    let b = b.with_parallel_execution(false).map_err(err)?;
    let b = b.with_intra_op_spinning(false).map_err(err)?;
    b.with_optimization_level(GraphOptimizationLevel::All).map_err(err)
}

impl Graph {
    pub(crate) fn load(env: &Environment, dir: &Path, model: &str, entry: &GraphEntry) -> Result<Graph, EngineError> {
        let path = entry.path(dir);
        let bytes = std::fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                EngineError::ModelMissing {
                    model: model.to_string(),
                    detail: format!("the file {} is missing", path.display()),
                }
            } else {
                EngineError::ModelCorrupt { path: path.clone(), reason: e.to_string() }
            }
        })?;
        let actual = sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(entry.sha256.trim()) {
            return Err(EngineError::ChecksumMismatch { path, expected: entry.sha256.clone(), actual });
        }
        let corrupt =
            |e: &dyn std::fmt::Display| EngineError::ModelCorrupt { path: path.clone(), reason: e.to_string() };
        let session = configured_builder(env)?.commit_from_memory(&bytes).map_err(|e| corrupt(&e))?;
        let inputs: Vec<String> = entry.inputs.iter().map(|t| t.name.clone()).collect();
        let outputs: Vec<String> = entry.outputs.iter().map(|t| t.name.clone()).collect();
        let mut have: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
        let mut want: Vec<&str> = inputs.iter().map(String::as_str).collect();
        have.sort_unstable();
        want.sort_unstable();
        if have != want {
            return Err(corrupt(&format!("graph inputs {have:?} differ from the manifest's {want:?}")));
        }
        let have: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        if let Some(missing) = outputs.iter().find(|o| !have.contains(&o.as_str())) {
            return Err(corrupt(&format!("graph has no output {missing:?}")));
        }
        Ok(Graph { session, inputs, outputs, path })
    }

    /// Runs the graph. `feeds[i]` (shape, data) goes to the manifest's input `i`; output `i` is
    /// copied into `outs[i]` (all outputs the engine reads are float32).
    pub(crate) fn run(&mut self, feeds: &[(&[i64], Data<'_>)], outs: &mut [&mut Vec<f32>]) -> Result<(), EngineError> {
        let what = || format!("running {}", self.path.display());
        let mut values: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = Vec::with_capacity(feeds.len());
        for (name, (shape, data)) in self.inputs.iter().zip(feeds) {
            let value: SessionInputValue<'_> = match data {
                Data::I64(d) => {
                    TensorRef::from_array_view((*shape, *d)).map_err(|e| EngineError::ort(what(), e))?.into()
                }
                Data::F32(d) => {
                    TensorRef::from_array_view((*shape, *d)).map_err(|e| EngineError::ort(what(), e))?.into()
                }
            };
            values.push((Cow::Borrowed(name.as_str()), value));
        }
        let result =
            self.session.run(values).map_err(|e| EngineError::ort(format!("running {}", self.path.display()), e))?;
        for (name, out) in self.outputs.iter().zip(outs.iter_mut()) {
            let value = result.get(name.as_str()).ok_or_else(|| {
                EngineError::ort(format!("running {}", self.path.display()), format!("no output {name}"))
            })?;
            let (_, data) =
                value.try_extract_tensor::<f32>().map_err(|e| EngineError::ort(format!("reading {name}"), e))?;
            out.clear();
            out.extend_from_slice(data);
        }
        Ok(())
    }
}
