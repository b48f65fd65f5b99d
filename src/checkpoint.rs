//! Checkpoints: every variable of a session (weights, `global_step`, optimizer slots, plateau
//! state) saved to a directory, restorable in a fresh process.
//!
//! Format (version 1), in `DIR/`:
//! - `ckpt-<step>.safetensors`: one tensor per variable, named by the variable's node name, in
//!   the [safetensors](https://huggingface.co/docs/safetensors) format (any tool can read it);
//! - `checkpoint.json`: the index, `{"format": "stepflow.checkpoint", "version": 1,
//!   "latest": "ckpt-….safetensors", "step": N, "state": {…}}`, where `state` is whatever the
//!   writer keeps beside the variables (the trainer keeps its place in the data).
//!
//! Saving is atomic: the tensors go to a temporary file that is flushed to disk and renamed, then
//! the index is replaced the same way, and only then is the previous tensor file removed. A
//! process killed at any point leaves a complete checkpoint that the index names; the next save
//! removes the temporary files a killed save left behind.

use crate::error::{Error, Result};
use crate::io::write_atomic;
use crate::session::Session;
use crate::tensor::{DType, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The index file's name.
pub const INDEX: &str = "checkpoint.json";

/// The index of a checkpoint directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub format: String,
    pub version: u32,
    /// The tensor file of the latest checkpoint, relative to the directory.
    pub latest: String,
    /// The step it was taken at.
    pub step: u64,
    /// State kept beside the variables.
    #[serde(default)]
    pub state: Value,
}

/// The safetensors dtype of `d`; safetensors has none for strings.
fn dtype(d: DType) -> Option<Dtype> {
    match d {
        DType::Float32 => Some(Dtype::F32),
        DType::Float64 => Some(Dtype::F64),
        DType::Int32 => Some(Dtype::I32),
        DType::Int64 => Some(Dtype::I64),
        DType::Bool => Some(Dtype::BOOL),
        DType::String => None,
    }
}

/// A tensor's elements as little-endian bytes, in row-major order.
fn le_bytes(t: &Tensor) -> Vec<u8> {
    fn bytes<T: Copy, const N: usize>(a: &crate::tensor::ArcArrayD<T>, f: fn(T) -> [u8; N]) -> Vec<u8> {
        let mut out = Vec::with_capacity(a.len() * N);
        match a.as_slice() {
            Some(s) => s.iter().for_each(|&v| out.extend_from_slice(&f(v))),
            None => a.iter().for_each(|&v| out.extend_from_slice(&f(v))),
        }
        out
    }
    match t {
        Tensor::F32(a) => bytes(a, f32::to_le_bytes),
        Tensor::F64(a) => bytes(a, f64::to_le_bytes),
        Tensor::I32(a) => bytes(a, i32::to_le_bytes),
        Tensor::I64(a) => bytes(a, i64::to_le_bytes),
        Tensor::Bool(a) => bytes(a, |v| [u8::from(v)]),
        Tensor::String(_) => Vec::new(),
    }
}

/// A tensor of `d` and `shape` from little-endian bytes.
fn from_le_bytes(d: DType, shape: &[usize], bytes: &[u8]) -> Result<Tensor> {
    fn read<const N: usize, T>(bytes: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
        bytes.chunks_exact(N).map(|c| f(c.try_into().unwrap_or([0; N]))).collect()
    }
    let t = match d {
        DType::Float32 => Tensor::from_vec(shape, read(bytes, f32::from_le_bytes))?,
        DType::Float64 => Tensor::from_vec(shape, read(bytes, f64::from_le_bytes))?,
        DType::Int32 => Tensor::from_vec(shape, read(bytes, i32::from_le_bytes))?,
        DType::Int64 => Tensor::from_vec(shape, read(bytes, i64::from_le_bytes))?,
        DType::Bool => Tensor::from_vec(shape, bytes.iter().map(|&b| b != 0).collect())?,
        DType::String => return Err(Error::format("checkpoint", "string variables cannot be checkpointed")),
    };
    Ok(t)
}

/// Saves every variable of `session` as the checkpoint of `step`, with `state` in the index;
/// returns the tensor file's path.
pub fn save(session: &Session, dir: &Path, step: u64, state: Value) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let g = session.graph();
    let mut named: Vec<(String, Tensor)> = Vec::new();
    for v in g.variables() {
        let name = g.node(v.node).name().to_string();
        if dtype(g.node(v.node).outputs()[0].dtype).is_none() {
            return Err(Error::format(dir.display().to_string(), format!("string variable '{name}' cannot be saved")));
        }
        named.push((name, session.variable_value(v.node.into())?));
    }
    let bytes: Vec<(String, DType, Vec<usize>, Vec<u8>)> =
        named.iter().map(|(n, t)| (n.clone(), t.dtype(), t.shape().to_vec(), le_bytes(t))).collect();
    let views = bytes
        .iter()
        .map(|(n, d, s, b)| TensorView::new(dtype(*d).unwrap_or(Dtype::U8), s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::format(dir.display().to_string(), e.to_string()))?;
    let data =
        safetensors::serialize(views, None).map_err(|e| Error::format(dir.display().to_string(), e.to_string()))?;
    let file = format!("ckpt-{step:010}.safetensors");
    let path = dir.join(&file);
    write_atomic(&path, &data)?;
    let previous = read_index(dir).ok().map(|i| i.latest);
    let index = Index { format: "stepflow.checkpoint".into(), version: 1, latest: file.clone(), step, state };
    let text = serde_json::to_string_pretty(&index).map_err(|e| Error::format(INDEX, e.to_string()))?;
    write_atomic(&dir.join(INDEX), text.as_bytes())?;
    if let Some(old) = previous.filter(|p| *p != file) {
        let _ = std::fs::remove_file(dir.join(old));
    }
    remove_leftovers(dir);
    Ok(path)
}

/// Removes the temporary files of saves that were killed before they could rename them.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with(".ckpt-") || name.starts_with(&format!(".{INDEX}.tmp"));
        if ours && name.contains(".tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Reads a directory's index.
pub fn read_index(dir: &Path) -> Result<Index> {
    let path = dir.join(INDEX);
    let text = crate::io::read_text(&path)?;
    let index: Index =
        serde_json::from_str(&text).map_err(|e| Error::format(path.display().to_string(), e.to_string()))?;
    if index.format != "stepflow.checkpoint" || index.version != 1 {
        return Err(Error::format(path.display().to_string(), "not a version 1 stepflow checkpoint"));
    }
    Ok(index)
}

/// Restores every variable of `session` from the latest checkpoint in `dir`; returns its index.
/// Every variable must be there, with its dtype and shape.
pub fn restore(session: &Session, dir: &Path) -> Result<Index> {
    let index = read_index(dir)?;
    let path = dir.join(&index.latest);
    let label = path.display().to_string();
    let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
    if meta.len() > crate::io::MAX_FILE_BYTES * 8 {
        return Err(Error::format(label, "checkpoint file is too large"));
    }
    let data = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let st = SafeTensors::deserialize(&data).map_err(|e| Error::format(label.clone(), e.to_string()))?;
    let g = session.graph();
    let mut values = Vec::new();
    for v in g.variables() {
        let name = g.node(v.node).name();
        let spec = &g.node(v.node).outputs()[0];
        let view = st.tensor(name).map_err(|_| Error::format(label.clone(), format!("has no variable '{name}'")))?;
        if Some(view.dtype()) != dtype(spec.dtype) || !spec.shape.is_compatible_with(view.shape()) {
            let msg = format!(
                "variable '{name}' is {:?} {:?}, the graph has {} {}",
                view.dtype(),
                view.shape(),
                spec.dtype,
                spec.shape
            );
            return Err(Error::format(label, msg));
        }
        values.push((v.node, from_le_bytes(spec.dtype, view.shape(), view.data())?));
    }
    for (node, t) in values {
        session.set_variable(node.into(), t)?;
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Graph, Initializer};

    #[test]
    fn save_and_restore_every_dtype() {
        let mut g = Graph::new();
        let vals = [
            Tensor::from_vec(&[2], vec![1.5f32, -0.0]).unwrap(),
            Tensor::from_vec(&[1, 2], vec![f64::MIN_POSITIVE, 3.0]).unwrap(),
            Tensor::scalar(-7i32),
            Tensor::scalar(i64::MAX),
            Tensor::from_vec(&[3], vec![true, false, true]).unwrap(),
        ];
        let vars: Vec<_> = vals
            .iter()
            .map(|t| g.variable("v", t.dtype(), t.shape(), Initializer::Value(t.clone())).unwrap())
            .collect();
        let dir = std::env::temp_dir().join(format!("stepflow-ckpt-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let g = std::sync::Arc::new(g);
        let a = Session::from_arc(g.clone());
        a.initialize().unwrap();
        save(&a, &dir, 7, serde_json::json!({"epoch": 2})).unwrap();
        let b = Session::from_arc(g);
        let index = restore(&b, &dir).unwrap();
        assert_eq!((index.step, index.state["epoch"].as_u64()), (7, Some(2)));
        for (v, t) in vars.iter().zip(&vals) {
            assert!(b.variable_value(*v).unwrap().bit_eq(t));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
