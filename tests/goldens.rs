//! Every golden file of TensorFlow's numbers under `tests/golden/` runs in `cargo test`.
//!
//! Schedule and training files go through the conformance runner (as `tf_golden` runs them); the
//! kernel files (one op per case) are read by their own test, named in [`KERNEL_GOLDENS`]. A new
//! golden file fails [`every_golden_file_is_checked`] until it is one or the other.

use std::path::{Path, PathBuf};

/// Kernel golden files and the test source that reads each (by `include_str!` or a path).
const KERNEL_GOLDENS: &[(&str, &str)] =
    &[("conv.json", "tests/conv_kernels/golden.rs"), ("ops.json", "tests/ops/golden.rs")];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn golden_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap()
}

fn is_kernel_golden(p: &Path) -> bool {
    KERNEL_GOLDENS.iter().any(|(name, _)| *name == file_name(p))
}

#[test]
fn every_golden_file_is_checked() {
    let files = golden_files();
    for expected in ["lr_schedules.json", "lr_schedules_more.json", "training.json", "training_more.json"] {
        assert!(files.iter().any(|p| file_name(p) == expected), "{expected} is missing from tests/golden");
    }
    for (name, reader) in KERNEL_GOLDENS {
        let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(reader)).unwrap();
        assert!(source.contains(name), "{reader} does not read {name}");
    }
}

#[test]
fn every_conformance_golden_passes() {
    let mut ran = 0;
    for path in golden_files().into_iter().filter(|p| !is_kernel_golden(p)) {
        let results = stepflow::conformance::run_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!results.is_empty(), "{} has no cases", path.display());
        let failed: Vec<String> = results.iter().filter(|r| !r.passed()).map(ToString::to_string).collect();
        assert!(failed.is_empty(), "{}: {failed:#?}", path.display());
        ran += results.len();
    }
    assert!(ran >= 39, "only {ran} golden cases ran");
}
