//! Property tests of the TensorFlow decoders on hostile input: the cases of tests/tf mutated by
//! byte flips, truncations, insertions, splices and grown numbers, and nesting generated around
//! the depth limit. Decoding never panics and never hangs, every error is one line naming the
//! file, and whatever decodes encodes back and decodes again to the same graph.
//!
//! A long soak: `PROPTEST_CASES=100000 cargo test --release --test tf_format_fuzz`.

#[path = "tf/cases.rs"]
mod cases;

use proptest::prelude::*;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use stepflow::Error;
use stepflow::io::tf::*;

/// The bytes of every case in every form.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let forms = ["pb", "pbtxt", "json", "meta"];
        cases::cases().iter().flat_map(|c| forms.map(|f| cases::bytes(c, f))).collect()
    })
}

/// One way of damaging a file.
#[derive(Clone, Debug)]
enum Mutation {
    Flip {
        at: usize,
        bits: u8,
    },
    Truncate {
        at: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Splice {
        from: usize,
        len: usize,
        to: usize,
    },
    Remove {
        at: usize,
        len: usize,
    },
    /// Replaces the number at this place (text and JSON) with a huge one.
    GrowNumber {
        at: usize,
        digits: u8,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<prop::sample::Index>().prop_map(|i| i.index(usize::MAX >> 1));
    prop_oneof![
        (at.clone(), 1u8..=255).prop_map(|(at, bits)| Mutation::Flip { at, bits }),
        at.clone().prop_map(|at| Mutation::Truncate { at }),
        (at.clone(), prop::collection::vec(any::<u8>(), 1..9)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (at.clone(), 1usize..400, at.clone()).prop_map(|(from, len, to)| Mutation::Splice { from, len, to }),
        (at.clone(), 1usize..64).prop_map(|(at, len)| Mutation::Remove { at, len }),
        (at, 6u8..20).prop_map(|(at, digits)| Mutation::GrowNumber { at, digits }),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    let n = data.len().max(1);
    match m {
        Mutation::Flip { at, bits } => {
            let at = at % n;
            if let Some(b) = data.get_mut(at) {
                *b ^= bits;
            }
        }
        Mutation::Truncate { at } => data.truncate(at % n),
        Mutation::Insert { at, bytes } => {
            let at = at % (data.len() + 1);
            data.splice(at..at, bytes.iter().copied());
        }
        Mutation::Splice { from, len, to } => {
            let from = from % n;
            let piece: Vec<u8> = data.iter().skip(from).take(*len).copied().collect();
            let to = to % (data.len() + 1);
            data.splice(to..to, piece);
        }
        Mutation::Remove { at, len } => {
            let at = at % n;
            let end = (at + len).min(data.len());
            data.drain(at.min(end)..end);
        }
        Mutation::GrowNumber { at, digits } => {
            let Some(start) = data.iter().skip(at % n).position(u8::is_ascii_digit).map(|p| p + at % n) else { return };
            let end = data[start..].iter().position(|b| !b.is_ascii_digit()).map_or(data.len(), |p| p + start);
            data.splice(start..end, std::iter::repeat_n(b'9', *digits as usize));
        }
    }
}

/// Decodes `data` as a graph and as a meta graph; checks errors and round trips.
fn check(data: &[u8]) -> Result<(), TestCaseError> {
    // A bound on tensor size that keeps a grown shape from allocating gigabytes.
    let decoder = Decoder::new().max_tensor_elements(1 << 20);
    let start = Instant::now();
    let graph = decoder.graph(data, "fuzzed");
    let meta = decoder.meta_graph(data, "fuzzed");
    prop_assert!(start.elapsed() < Duration::from_secs(20), "decoding took {:?}", start.elapsed());
    for e in [graph.as_ref().err(), meta.as_ref().err()].into_iter().flatten() {
        let Error::Format { file, message } = e else {
            return Err(TestCaseError::fail(format!("not a format error: {e}")));
        };
        prop_assert_eq!(file.as_str(), "fuzzed");
        prop_assert!(!message.contains('\n'), "{}", message);
    }
    if let Ok(g) = graph {
        // Binary keeps every bit; text and JSON write NaN without its payload, so of those only
        // that they read back is required.
        let again = decoder.graph_in(&g.encode(Form::Binary).map_err(fail)?, Form::Binary, "again").map_err(fail)?;
        prop_assert_eq!(again, g.clone());
        for form in [Form::Text, Form::Json] {
            decoder.graph_in(&g.encode(form).map_err(fail)?, form, "again").map_err(fail)?;
        }
    }
    if let Ok(m) = meta {
        let again = TfMetaGraph::parse(&m.encode(Form::Binary).map_err(fail)?, "again").map_err(fail)?;
        prop_assert_eq!(again, m);
    }
    Ok(())
}

fn fail(e: Error) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// `PROPTEST_CASES` when set (for a long soak), else a number that keeps `cargo test` quick.
fn cases_to_run(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A graph whose one node nests `depth` messages deep, in one of the three forms.
fn nested(depth: usize, form: u8) -> Vec<u8> {
    match form % 3 {
        0 => {
            format!("node {{ name: \"x\" experimental_type {{ {}{} }} }}", "args { ".repeat(depth), "} ".repeat(depth))
        }
        1 => format!(
            "{{\"node\": [{{\"name\": \"x\", \"experimentalType\": {}{{}}{}}}]}}",
            "{\"args\": [".repeat(depth),
            "]}".repeat(depth)
        ),
        _ => {
            let attr = |inner: String| format!("attr {{ key: \"f\" value {{ func {{ name: \"g\" {inner} }} }} }}");
            format!("node {{ name: \"x\" {} }}", (0..depth / 3).fold(String::new(), |inner, _| attr(inner)))
        }
    }
    .into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases_to_run(256), ..ProptestConfig::default() })]

    #[test]
    fn mutated_cases_never_panic(which in any::<prop::sample::Index>(), ms in prop::collection::vec(mutation(), 1..4)) {
        let mut data = which.get(corpus()).clone();
        for m in &ms {
            apply(&mut data, m);
        }
        check(&data)?;
    }

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&data)?;
    }

    #[test]
    fn nesting_around_the_limit_never_panics(depth in 1usize..400, form in any::<u8>()) {
        let data = nested(depth, form);
        check(&data)?;
        if depth < 40 {
            prop_assert!(TfGraph::parse(&data, "shallow").is_ok());
        }
    }
}

#[test]
fn mutations_reach_the_decoders_deeply() {
    // The mutated files are not all rejected up front: many still decode, so the round trip
    // above is exercised on damaged graphs too.
    let mut decoded = 0;
    for (i, data) in corpus().iter().enumerate() {
        let mut data = data.clone();
        let at = data.len() / 2 + i;
        apply(&mut data, &Mutation::Flip { at, bits: 0x01 });
        decoded += TfGraph::parse(&data, "x").is_ok() as usize;
    }
    assert!(decoded > 0);
}
