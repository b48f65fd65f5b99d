//! TensorFlow's graph files in every form TF writes them (tests/tf, written by TensorFlow
//! 2.21): each form decodes to the same graph, agrees with an independent reading of the JSON,
//! and survives encoding back in every form.

#[path = "tf/cases.rs"]
mod cases;

use cases::*;
use serde_json::Value;
use stepflow::io::tf::*;
use stepflow::{DType, Tensor};

fn spec(case: &std::path::Path) -> Value {
    serde_json::from_slice(&bytes(case, "json")).unwrap()
}

#[test]
fn every_form_decodes_to_the_same_graph() {
    for case in cases() {
        let from_pb = TfGraph::read(file(&case, "pb")).unwrap();
        let from_pbtxt = TfGraph::read(file(&case, "pbtxt")).unwrap();
        let from_json = TfGraph::read(file(&case, "json")).unwrap();
        let from_meta = TfMetaGraph::read(file(&case, "meta")).unwrap().graph;
        assert!(!from_pb.nodes.is_empty());
        assert_eq!(from_pbtxt, from_pb, "{}: pbtxt vs pb", name(&case));
        assert_eq!(from_json, from_pb, "{}: json vs pb", name(&case));
        assert_ne!(from_meta, from_pb, "{}: the meta graph has inferred shapes too", name(&case));
        assert_eq!(without_shape_annotations(from_meta), from_pb, "{}: meta vs pb", name(&case));
        // A meta graph is accepted where a graph is expected, and the form is told by content.
        let renamed = TfGraph::parse(&bytes(&case, "meta"), "no-extension").unwrap();
        assert_eq!(without_shape_annotations(renamed), from_pb);
    }
}

#[test]
fn nodes_agree_with_a_plain_reading_of_the_json() {
    for case in cases() {
        let g = TfGraph::read(file(&case, "pb")).unwrap();
        let def = &spec(&case)["graph_def"];
        let nodes = def["node"].as_array().unwrap();
        assert_eq!(g.nodes.len(), nodes.len());
        for (ours, theirs) in g.nodes.iter().zip(nodes) {
            assert_eq!(ours.name, theirs["name"].as_str().unwrap());
            assert_eq!(ours.op, theirs["op"].as_str().unwrap());
            let inputs: Vec<&str> =
                theirs["input"].as_array().map_or(vec![], |a| a.iter().flat_map(Value::as_str).collect());
            assert_eq!(ours.inputs, inputs);
            let keys: Vec<&String> = theirs["attr"].as_object().map_or(vec![], |o| o.keys().collect());
            assert_eq!(ours.attrs.keys().collect::<Vec<_>>(), keys, "{}", ours.name);
        }
        assert_eq!(g.producer.to_string(), def["versions"]["producer"].to_string());
    }
}

#[test]
fn run_spec_graph_matches_the_value_api() {
    for case in cases() {
        let spec = spec(&case);
        let whole = TfGraph::from_json_value(&spec, "spec").unwrap();
        let inner = TfGraph::from_json_value(&spec["graph_def"], "graph_def").unwrap();
        assert_eq!(whole, inner);
        assert_eq!(inner, TfGraph::read(file(&case, "pb")).unwrap());
    }
}

#[test]
fn constants_hold_the_values_the_case_was_built_with() {
    // seed_step_decay_resource: exponential_decay(0.1, global_step, 5, 0.5, staircase=True).
    let g = TfGraph::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tf/seed_step_decay_resource.pbtxt")).unwrap();
    let value = |name: &str| {
        let node = g.nodes.iter().find(|n| n.name == name).unwrap();
        match node.attr("value") {
            Some(AttrValue::Tensor(TfTensor::Value(t))) => t.clone(),
            other => panic!("{name}: {other:?}"),
        }
    };
    assert!(value("ExponentialDecay/initial_learning_rate").bit_eq(&Tensor::scalar(0.1f32)));
    assert!(value("ExponentialDecay/Cast/x").bit_eq(&Tensor::scalar(5i32)));
    assert!(value("ExponentialDecay/Cast_1/x").bit_eq(&Tensor::scalar(0.5f32)));
    // `zeros` is float_val: 0 filled to the variable's [3, 1].
    assert!(value("zeros").bit_eq(&Tensor::zeros(DType::Float32, &[3, 1])));
    let x = g.nodes.iter().find(|n| n.name == "x").unwrap();
    assert_eq!(x.attr("shape"), Some(&AttrValue::Shape(stepflow::Shape::partial(&[None, Some(3)]))));
}

#[test]
fn tensor_content_decodes_as_little_endian() {
    // The conv case's kernels are initialized from random tensors TF wrote as tensor_content;
    // the JSON holds the same bytes in base64, decoded here by hand.
    let case = cases().into_iter().find(|c| name(c) == "cnn_maxpool_momentum_ref").unwrap();
    let g = TfGraph::read(file(&case, "pb")).unwrap();
    let spec = spec(&case);
    let mut checked = 0;
    for (node, theirs) in g.nodes.iter().zip(spec["graph_def"]["node"].as_array().unwrap()) {
        let tensor = &theirs["attr"]["value"]["tensor"];
        let (Some(content), "DT_FLOAT") = (tensor["tensorContent"].as_str(), tensor["dtype"].as_str().unwrap_or(""))
        else {
            continue;
        };
        let raw = base64_decode(content);
        let want: Vec<f64> = raw.chunks(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect();
        let Some(AttrValue::Tensor(TfTensor::Value(t))) = node.attr("value") else { panic!("{}", node.name) };
        assert_eq!(t.to_f64_vec(), want, "{}", node.name);
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn functions_are_the_branches_that_nodes_name() {
    for case in cases() {
        let g = TfGraph::read(file(&case, "pbtxt")).unwrap();
        for node in g.nodes.iter().filter(|n| n.op.ends_with("If")) {
            for branch in ["then_branch", "else_branch"] {
                let Some(AttrValue::Func(f)) = node.attr(branch) else { panic!("{}: {branch}", node.name) };
                let function = g.functions.iter().find(|x| x.name == f.name).unwrap();
                let Some(AttrValue::List(AttrList::Type(tin))) = node.attr("Tin") else { panic!("Tin") };
                let inputs: Vec<TfArgType> = function.inputs.iter().map(|a| a.dtype.clone()).collect();
                assert_eq!(inputs, tin.iter().cloned().map(TfArgType::Type).collect::<Vec<_>>());
                assert_eq!(function.outputs.len(), function.ret.len());
                assert!(function.outputs.iter().all(|a| function.ret.contains_key(&a.name)));
            }
        }
    }
    let mlp = cases().into_iter().find(|c| name(c) == "mlp_rmsprop_cosine_restarts_resource").unwrap();
    assert_eq!(TfGraph::read(file(&mlp, "pb")).unwrap().functions.len(), 2);
}

#[test]
fn meta_graphs_list_variables_and_train_ops() {
    for case in cases() {
        let spec = spec(&case);
        let meta = TfMetaGraph::read(file(&case, "meta")).unwrap();
        assert_eq!(meta.tensorflow_version, "2.21.0");
        // `final_variables` holds every global variable, by op name.
        let mut names: Vec<String> =
            meta.variables.iter().map(|v| v.variable_name.trim_end_matches(":0").into()).collect();
        let mut want: Vec<String> = spec["expected"]["final_variables"].as_object().unwrap().keys().cloned().collect();
        names.sort();
        want.sort();
        assert_eq!(names, want, "{}", name(&case));
        let resource = spec["source"].as_str().unwrap().contains("resource");
        assert!(meta.variables.iter().all(|v| v.is_resource == resource));
        assert!(!meta.trainable_variables.is_empty());
        assert!(meta.trainable_variables.iter().all(|v| v.trainable && meta.variables.contains(v)));
        assert!(!meta.train_ops.is_empty());
        assert!(meta.train_ops.iter().all(|op| op == spec["train"].as_str().unwrap()));
        let node_names: std::collections::HashSet<&str> = meta.graph.nodes.iter().map(|n| n.name.as_str()).collect();
        for v in &meta.variables {
            assert!(node_names.contains(v.initializer_name.as_str()), "{}", v.initializer_name);
            assert!(node_names.contains(v.snapshot_name.split(':').next().unwrap()));
        }
        assert!(!meta.collections.contains_key("variables"));
    }
}

#[test]
fn other_collections_are_kept_generically() {
    let case = cases().into_iter().find(|c| name(c) == "cnn_avgpool_batchnorm_adam_resource").unwrap();
    let meta = TfMetaGraph::read(file(&case, "meta")).unwrap();
    let Some(TfCollection::Nodes(updates)) = meta.collections.get("update_ops") else { panic!("update_ops") };
    assert!(!updates.is_empty() && updates.iter().all(|u| meta.graph.nodes.iter().any(|n| &n.name == u)));
    let step = meta.variable_collection("global_step").unwrap();
    assert_eq!(step.len(), 1);
    assert_eq!(step[0].variable_name, "global_step:0");
    assert!(!step[0].trainable);
    assert_eq!(meta.variable_collection("no_such_collection").unwrap(), vec![]);
}

#[test]
fn every_form_round_trips() {
    for case in cases() {
        let g = TfGraph::read(file(&case, "pb")).unwrap();
        let meta = TfMetaGraph::read(file(&case, "meta")).unwrap();
        for form in [Form::Binary, Form::Text, Form::Json] {
            let encoded = g.encode(form).unwrap();
            assert_eq!(Form::detect(&encoded), form);
            let back = Decoder::new().graph_in(&encoded, form, "encoded").unwrap();
            assert_eq!(back, g, "{} {form:?}", name(&case));
            assert_eq!(g.encode(form).unwrap(), encoded, "encoding is deterministic");
            let meta_back = TfMetaGraph::parse(&meta.encode(form).unwrap(), "encoded").unwrap();
            assert_eq!(meta_back, meta, "{} meta {form:?}", name(&case));
        }
    }
}

#[test]
fn strings_are_tensors_and_unsupported_dtypes_survive_by_name() {
    let text = br#"
        node { name: "s" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
               attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 2 } }
                      string_val: "model" string_val: "\001\377" } } } }
        node { name: "h" op: "Placeholder" attr { key: "dtype" value { type: DT_HALF } } }
        node { name: "r" op: "VarHandleOp" attr { key: "dtype" value { type: DT_RESOURCE } }
               attr { key: "shape" value { shape { unknown_rank: true } } } }
    "#;
    let g = TfGraph::parse(text, "types.pbtxt").unwrap();
    let Some(AttrValue::Tensor(TfTensor::Value(s))) = g.nodes[0].attr("value") else { panic!() };
    assert_eq!(s.shape(), &[2]);
    assert_eq!(s.to_bytes_vec().unwrap(), [&b"model"[..], &[1, 255]]);
    assert_eq!(g.nodes[1].attr("dtype"), Some(&AttrValue::Type(TfType::Other("DT_HALF".into()))));
    assert_eq!(g.nodes[2].attr("dtype").map(|t| format!("{t:?}")), Some("Type(Other(\"DT_RESOURCE\"))".into()));
    assert_eq!(g.nodes[2].attr("shape"), Some(&AttrValue::Shape(stepflow::Shape::unknown())));
    for form in [Form::Binary, Form::Text, Form::Json] {
        assert_eq!(TfGraph::parse(&g.encode(form).unwrap(), "again").unwrap(), g);
    }
}

#[test]
fn inputs_are_kept_as_written() {
    let text = br#"node { name: "a" op: "NoOp" } node { name: "b" op: "Identity" input: "c:1" input: "^a" }"#;
    let g = TfGraph::parse(text, "inputs.pbtxt").unwrap();
    assert_eq!(g.nodes[1].inputs, ["c:1", "^a"]);
    assert_eq!(g.nodes[1].data_inputs().collect::<Vec<_>>(), ["c:1"]);
    assert_eq!(g.nodes[1].control_inputs().collect::<Vec<_>>(), ["a"]);
}

/// Standard base64 (RFC 4648 with padding), for reading the JSON's bytes independently.
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    } as u32;
    let mut out = Vec::new();
    for chunk in s.trim_end_matches('=').as_bytes().chunks(4) {
        let n = chunk.iter().fold(0u32, |acc, &c| acc << 6 | value(c)) << (6 * (4 - chunk.len()));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}
