//! Graph files: the versioned native JSON format ([`GraphDef`]), loaded through the builder so
//! every check runs, and saved atomically.

pub mod functions;
mod graph_def;
mod layer_functions;
pub mod tf;

pub use graph_def::{GraphDef, MAX_NODES, NodeDef, VERSION, VariableDef};

use crate::error::{Error, Result};
use crate::graph::Graph;
use std::io::Write;
use std::path::Path;

/// The largest graph file stepflow reads (1 GiB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

impl Graph {
    /// The graph as a pretty-printed graph file.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&GraphDef::from_graph(self)).unwrap_or_default()
    }

    /// A graph from the text of a graph file; `file` names it in error messages.
    ///
    /// ```
    /// use stepflow::{Graph, Session};
    /// let g = Graph::from_json(r#"{"version": 1, "nodes": [
    ///   {"name": "a", "op": "Const", "attrs": {"value": {"dtype": "float32", "data": 2}}},
    ///   {"name": "b", "op": "Square", "inputs": ["a"]}
    /// ]}"#, "inline")?;
    /// let s = Session::new(g);
    /// assert_eq!(s.run_by_name(&[], &["b"], &[])?[0].to_f64_vec(), vec![4.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn from_json(text: &str, file: &str) -> Result<Graph> {
        let def: GraphDef = serde_json::from_str(text).map_err(|e| Error::format(file, e.to_string()))?;
        def.to_graph(file)
    }

    /// Loads a graph file: stepflow's own JSON, or any file TensorFlow writes a graph in (a
    /// GraphDef as JSON, `.pbtxt` or `.pb`, a MetaGraphDef `.meta`, or a JSON document holding a
    /// GraphDef under `graph_def`), told apart by content; a `.meta` extension selects the
    /// MetaGraphDef's variable collections.
    pub fn load(path: impl AsRef<Path>) -> Result<Graph> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let bytes = read_bytes(path)?;
        if tf::Form::detect(&bytes) == tf::Form::Json {
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| Error::format(&file, e.to_string()))?;
            let is_tf = ["node", "graph_def", "graphDef", "library", "versions"].iter().any(|k| value.get(k).is_some());
            if is_tf {
                return Graph::from_tf(&tf::TfGraph::from_json_value(&value, &file)?, &file);
            }
            let text = std::str::from_utf8(&bytes).map_err(|e| Error::format(&file, e.to_string()))?;
            return Graph::from_json(text, &file);
        }
        if path.extension().is_some_and(|e| e == "meta") {
            return Graph::from_tf_meta(&tf::TfMetaGraph::parse(&bytes, &file)?, &file);
        }
        Graph::from_tf(&tf::TfGraph::parse(&bytes, &file)?, &file)
    }

    /// Saves the graph to a file atomically (a temporary file, flushed, then renamed), so a
    /// crash never leaves a half-written graph.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), self.to_json().as_bytes())
    }
}

/// Reads a file of at most [`MAX_FILE_BYTES`].
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() > MAX_FILE_BYTES {
        let message = format!("{} bytes is larger than the {MAX_FILE_BYTES} stepflow reads", meta.len());
        return Err(Error::format(path.display().to_string(), message));
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Reads a text file of at most [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::format(
            path.display().to_string(),
            format!("{} bytes is larger than the {MAX_FILE_BYTES} stepflow reads", meta.len()),
        ));
    }
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed to disk,
/// then renamed over the target (and the directory synced), so a reader sees the old file or the
/// new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}
