//! Conformance with TensorFlow: runs golden files of TF's numbers through stepflow.
//!
//! usage: cargo run --release --example tf_golden -- FILE.json...
//! prints `PASS name max_rel_err` or `FAIL name where ours theirs` per case, then
//! `N passed, M failed`; exits 0 only when every case passes.

use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: tf_golden FILE.json...");
        return ExitCode::from(2);
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in &files {
        match stepflow::conformance::run_file(file) {
            Ok(results) => {
                for r in results {
                    println!("{r}");
                    if r.passed() { passed += 1 } else { failed += 1 }
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
