//! The TensorFlow graph files under `tests/tf/`, shared by the `tf_format*` tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use stepflow::io::tf::{AttrValue, TfGraph};

/// Every case: the path without extension (`tests/tf/seed_exp_decay_ref`), found by its `.pb`.
pub fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tf");
    let mut found = Vec::new();
    for dir in [root.clone(), root.join("conv")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "pb") {
                found.push(path.with_extension(""));
            }
        }
    }
    found.sort();
    assert_eq!(found.len(), 10, "the ten cases of tests/tf");
    found
}

/// The file of a case in one form: `"json"` (the run spec), `"pbtxt"`, `"pb"` or `"meta"`.
pub fn file(case: &Path, ext: &str) -> PathBuf {
    case.with_extension(ext)
}

pub fn bytes(case: &Path, ext: &str) -> Vec<u8> {
    std::fs::read(file(case, ext)).unwrap()
}

pub fn name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

/// The graph without the attributes `tf.train.export_meta_graph` adds to what
/// `graph.as_graph_def()` gives (inferred shapes), so a `.meta` graph compares with the others.
pub fn without_shape_annotations(mut g: TfGraph) -> TfGraph {
    let strip = |attrs: &mut std::collections::BTreeMap<String, AttrValue>| {
        attrs.remove("_output_shapes");
        attrs.remove("_input_shapes");
    };
    g.nodes.iter_mut().for_each(|n| strip(&mut n.attrs));
    for f in &mut g.functions {
        strip(&mut f.attrs);
        f.nodes.iter_mut().for_each(|n| strip(&mut n.attrs));
    }
    g
}
