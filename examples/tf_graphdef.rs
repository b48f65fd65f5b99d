//! The GraphDef conformance runner: trains TensorFlow's own graphs with stepflow and compares
//! every step with TF's numbers (see `stepflow::conformance::graphdef`).
//!
//! usage: cargo run --release --example tf_graphdef -- [--form json|pbtxt|pb|meta] CASE.json...
//! prints `PASS name max_rel_err` or `FAIL name what ours theirs` per case, then
//! `N passed, M failed`; exits non-zero on any failure.

use stepflow::conformance::graphdef::{SpecForm, run_spec};

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mut form = SpecForm::Json;
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        if a == "--form" {
            match args.next().map(|f| f.parse::<SpecForm>()) {
                Some(Ok(f)) => form = f,
                Some(Err(e)) => fail(&e),
                None => fail("--form needs a value (json, pbtxt, pb or meta)"),
            }
        } else {
            files.push(a);
        }
    }
    if files.is_empty() {
        fail("usage: tf_graphdef [--form json|pbtxt|pb|meta] CASE.json...");
    }
    let results: Vec<_> = files.iter().map(|f| run_spec(f, form)).collect();
    for r in &results {
        println!("{r}");
    }
    let passed = results.iter().filter(|r| r.passed()).count();
    println!("{passed} passed, {} failed", results.len() - passed);
    if passed < results.len() {
        std::process::exit(1);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("tf_graphdef: {message}");
    std::process::exit(2);
}
