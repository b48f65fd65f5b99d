//! How long decoding a large TensorFlow GraphDef takes in each form, and importing it.
//!
//! usage: cargo run --release --example tf_decode_bench -- [NODES [FORM]]
//! (default 100000 nodes, every form; FORM is binary, text or json)
//! Builds a chain of NODES nodes like those of a training graph (a float32 placeholder `x`, then
//! a `Const` of four float32 values with its `dtype` and `value` attributes and an `AddV2` with
//! its `T`, alternating), encodes it in the binary, text and JSON forms, and prints one line per
//! form: `FORM BYTES bytes decode MS ms encode MS ms`, then `import MS ms` for building the stepflow
//! graph from the decoded one (every node through the builder) and `export MS ms` for writing it
//! back as a TF graph (`Graph::to_tf`), each time the median of 5 timed
//! rounds after a warm-up round (the shared timing protocol of the examples). It runs with the
//! allocator of the `stepflow` command (mimalloc): with the system allocator, freeing the many
//! small values of a decoded graph takes about as long again.

#[path = "common/timing.rs"]
mod timing;

use std::collections::BTreeMap;
use stepflow::io::tf::{AttrValue, Decoder, Form, TfGraph, TfNode, TfTensor, TfType};
use stepflow::{DType, Graph, Result, Tensor};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    let nodes = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let only = std::env::args().nth(2);
    let graph = chain(nodes)?;
    let forms = [(Form::Binary, "binary"), (Form::Text, "text"), (Form::Json, "json")];
    for (form, name) in forms.into_iter().filter(|(_, n)| only.as_deref().is_none_or(|o| o == *n)) {
        let data = graph.encode(form)?;
        let decoded = Decoder::new().graph(&data, name)?;
        assert_eq!(decoded.nodes.len(), nodes, "the decoded graph has every node");
        let decode_us = timing::time(1, || Decoder::new().graph(&data, name).map(drop))?;
        let encode_us = timing::time(1, || graph.encode(form).map(drop))?;
        println!("{name} {} bytes decode {:.1} ms encode {:.1} ms", data.len(), decode_us / 1e3, encode_us / 1e3);
    }
    let imported = Graph::from_tf(&graph, "chain")?;
    assert_eq!(imported.node_ids().count(), nodes, "the imported graph has every node");
    let import_us = timing::time(1, || Graph::from_tf(&graph, "chain").map(drop))?;
    println!("import {:.1} ms", import_us / 1e3);
    let export_us = timing::time(1, || imported.to_tf().map(drop))?;
    println!("export {:.1} ms", export_us / 1e3);
    Ok(())
}

/// `x = Placeholder; c1 = Const; a2 = AddV2(x, c1); c3 = Const; a4 = AddV2(a2, c3); ...`
fn chain(nodes: usize) -> Result<TfGraph> {
    let float = AttrValue::Type(TfType::Known(DType::Float32));
    let mut graph = TfGraph { producer: 1994, ..Default::default() };
    let mut last = String::from("x");
    for i in 0..nodes {
        let node = if i == 0 {
            let attrs = BTreeMap::from([("dtype".into(), float.clone())]);
            TfNode { name: last.clone(), op: "Placeholder".into(), inputs: vec![], attrs }
        } else if i % 2 == 1 {
            let values = (0..4).map(|k| (i * 4 + k) as f32 * 0.25).collect();
            let value = TfTensor::Value(Tensor::from_vec(&[4], values)?);
            let attrs = BTreeMap::from([("dtype".into(), float.clone()), ("value".into(), AttrValue::Tensor(value))]);
            TfNode { name: format!("c{i}"), op: "Const".into(), inputs: vec![], attrs }
        } else {
            let inputs = vec![last.clone(), format!("c{}", i - 1)];
            let attrs = BTreeMap::from([("T".into(), float.clone())]);
            let node = TfNode { name: format!("a{i}"), op: "AddV2".into(), inputs, attrs };
            last = node.name.clone();
            node
        };
        graph.nodes.push(node);
    }
    Ok(graph)
}
