//! Property tests of the native graph loader and the training-config loader on documents mutated
//! where they are structured: the graph files and configs of `graphs/` with values replaced by
//! hostile ones (type limits, huge sizes, wrong types, deep nesting, names of other nodes), members
//! removed, duplicated, renamed or swapped, and now and then the text cut short. Loading never
//! panics and never hangs, every error is one line, and whatever loads also builds a session and
//! runs its initializers and fetches within the time limit.
//!
//! `cargo test --release --test parser_fuzz` runs 2,000 cases; a long soak:
//! `PROPTEST_CASES=1000000 cargo test --release --test parser_fuzz`.

#[path = "fuzz/bounded.rs"]
mod bounded;

use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use stepflow::fit::TrainConfig;
use stepflow::{Graph, Session};

const CASE_TIME_LIMIT: Duration = Duration::from_secs(10);

fn graphs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("graphs")
}

/// Every document of `graphs/`, parsed.
fn corpus() -> &'static [Value] {
    static CORPUS: OnceLock<Vec<Value>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(graphs_dir())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files.iter().filter_map(|p| serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()).collect()
    })
}

/// Values no field expects.
fn junk(draw: usize, doc: &Value) -> Value {
    let names: Vec<&str> = doc["nodes"]
        .as_array()
        .or_else(|| doc["graph"]["nodes"].as_array())
        .map(|n| n.iter().filter_map(|n| n["name"].as_str()).collect())
        .unwrap_or_default();
    let pool = [
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(4294967296u64),
        json!(1e308),
        json!(-1e-320),
        json!(""),
        json!("nan"),
        json!("inf"),
        json!("x:1"),
        json!("^loss"),
        json!([]),
        json!({}),
        json!([null]),
        json!([1099511627776u64, 1099511627776u64]),
        json!([[1, 2], [3]]),
        json!({"dtype": "float32", "shape": [1099511627776u64, 1099511627776u64], "data": []}),
        json!({"dtype": "int64", "data": [i64::MIN, -1]}),
        json!("a".repeat(5000)),
    ];
    if draw % (pool.len() + 2) == pool.len() {
        let depth = 20 + draw % 200;
        return serde_json::from_str(&format!("{}0{}", "[".repeat(depth), "]".repeat(depth))).unwrap_or(Value::Null);
    }
    if draw % (pool.len() + 2) == pool.len() + 1 && !names.is_empty() {
        return json!(names[draw % names.len()]);
    }
    pool[draw % pool.len()].clone()
}

/// One change at one place of a document.
#[derive(Clone, Debug)]
enum Mutation {
    Replace { at: usize, junk: usize },
    Remove { at: usize },
    Duplicate { at: usize },
    Rename { at: usize },
    Swap { at: usize, with: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<usize>()).prop_map(|(at, junk)| Mutation::Replace { at, junk }),
        2 => any::<usize>().prop_map(|at| Mutation::Remove { at }),
        1 => any::<usize>().prop_map(|at| Mutation::Duplicate { at }),
        1 => any::<usize>().prop_map(|at| Mutation::Rename { at }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(at, with)| Mutation::Swap { at, with }),
    ]
}

/// The JSON pointers of every value in `v`, the root first.
fn places(v: &Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match v {
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| places(x, format!("{here}/{i}"), out)),
        Value::Object(o) => {
            o.iter().for_each(|(k, x)| places(x, format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")), out))
        }
        _ => {}
    }
}

fn split(pointer: &str) -> (&str, String) {
    let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    (parent, last.replace("~1", "/").replace("~0", "~"))
}

fn apply(doc: &mut Value, m: &Mutation) {
    let mut all = Vec::new();
    places(doc, String::new(), &mut all);
    let at = |i: usize| all[i % all.len()].clone();
    match *m {
        Mutation::Replace { at: i, junk: j } => {
            let new = junk(j, doc);
            if let Some(v) = doc.pointer_mut(&at(i)) {
                *v = new;
            }
        }
        Mutation::Swap { at: i, with: j } => {
            let other = doc.pointer(&at(j)).cloned();
            if let (Some(v), Some(o)) = (doc.pointer_mut(&at(i)), other) {
                *v = o;
            }
        }
        Mutation::Remove { at: i } | Mutation::Duplicate { at: i } | Mutation::Rename { at: i } => {
            let pointer = at(i);
            let (parent, key) = split(&pointer);
            match doc.pointer_mut(parent) {
                Some(Value::Array(a)) => {
                    let Ok(k) = key.parse::<usize>() else { return };
                    if k < a.len() {
                        match m {
                            Mutation::Remove { .. } => drop(a.remove(k)),
                            _ => a.insert(k, a[k].clone()),
                        }
                    }
                }
                Some(Value::Object(o)) => {
                    if let Some(v) = o.remove(&key)
                        && !matches!(m, Mutation::Remove { .. })
                    {
                        o.insert(format!("{key}_"), v.clone());
                        if matches!(m, Mutation::Duplicate { .. }) {
                            o.insert(key, v);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A mutated document's text, cut short at `cut` (a fraction in 1/256ths) when given.
fn mutated(doc: usize, mutations: &[Mutation], cut: Option<u8>) -> String {
    let docs = corpus();
    let mut d = docs[doc % docs.len()].clone();
    for m in mutations {
        apply(&mut d, m);
    }
    let text = d.to_string();
    match cut {
        Some(c) => {
            let mut at = text.len() * c as usize / 256;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text[..at].to_string()
        }
        None => text,
    }
}

fn one_line(e: &stepflow::Error) -> Result<(), String> {
    let msg = e.to_string();
    if msg.contains('\n') || msg.is_empty() { Err(format!("badly formed error: {msg:?}")) } else { Ok(()) }
}

/// Runs what a loaded graph offers without feeds: its initializers, then each node's fetch.
fn exercise(g: Graph) -> Result<(), String> {
    let s = Session::new(g);
    if let Err(e) = s.initialize() {
        return one_line(&e);
    }
    let names: Vec<String> = s.graph().node_ids().map(|id| s.graph().node(id).name().to_string()).collect();
    for name in names.iter().rev().take(8) {
        if let Err(e) = s.run_by_name(&[], &[name.as_str()], &[]) {
            one_line(&e)?;
        }
    }
    Ok(())
}

fn load(text: String) -> Result<(), String> {
    if text.contains("\"stepflow.train\"") {
        let config = match TrainConfig::from_json(&text, "config") {
            Ok(c) => c,
            Err(e) => return one_line(&e),
        };
        match config.graph(&graphs_dir(), "config") {
            Ok(g) => exercise(g),
            Err(e) => one_line(&e),
        }
    } else {
        match Graph::from_json(&text, "graph") {
            Ok(g) => exercise(g),
            Err(e) => one_line(&e),
        }
    }
}

fn cases_to_run(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases_to_run(2000), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn mutated_graph_files_and_configs_load_or_fail_in_one_line(
        doc in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..5),
        cut in prop::option::weighted(0.1, any::<u8>()),
    ) {
        let text = mutated(doc, &mutations, cut);
        bounded::within(CASE_TIME_LIMIT, move || load(text)).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn the_corpus_holds_graphs_and_configs() {
    let c = corpus();
    assert!(c.len() >= 10, "{} documents", c.len());
    assert!(c.iter().any(|d| d["format"] == "stepflow.train"));
    for (i, d) in c.iter().enumerate() {
        load(d.to_string()).unwrap_or_else(|e| panic!("document {i}: {e}"));
    }
}
