//! Bad TensorFlow graph files: each is one line of `Error::Format` naming the file and, where
//! known, the line and column, the field path or the node and attribute, and none allocates
//! without bound or recurses without limit.

#[path = "tf/cases.rs"]
mod cases;

use stepflow::Error;
use stepflow::io::tf::*;

/// The message of the format error that decoding `data` as a graph gives.
fn graph_error(data: &[u8]) -> String {
    message(TfGraph::parse(data, "bad.file").map(|_| ()))
}

fn meta_error(data: &[u8]) -> String {
    message(TfMetaGraph::parse(data, "bad.file").map(|_| ()))
}

fn message(result: stepflow::Result<()>) -> String {
    match result {
        Err(Error::Format { file, message }) => {
            assert_eq!(file, "bad.file");
            assert!(!message.contains('\n'), "one line: {message}");
            message
        }
        other => panic!("expected a format error, got {other:?}"),
    }
}

/// A varint, as the wire format writes lengths.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A GraphDef whose one node's full type nests `depth` levels deep (`args { args { ... } }`),
/// built from the inside out in reverse so that it takes linear time.
fn deep_binary(depth: usize) -> Vec<u8> {
    let mut rev: Vec<u8> = Vec::new();
    let wrap = |rev: &mut Vec<u8>, tag: u8| {
        let mut len = Vec::new();
        varint(rev.len() as u64, &mut len);
        rev.extend(len.iter().rev());
        rev.push(tag);
    };
    for _ in 0..depth {
        wrap(&mut rev, 0x12); // FullTypeDef.args
    }
    wrap(&mut rev, 0x3a); // NodeDef.experimental_type
    rev.extend(b"pO\x02\x12x\x01\n".iter()); // op "Op" and name "x", reversed
    wrap(&mut rev, 0x0a); // GraphDef.node
    rev.reverse();
    rev
}

#[test]
fn empty_input_is_an_error() {
    for data in [&b""[..], b"  \n\t "] {
        assert_eq!(graph_error(data), "the file is empty");
        assert_eq!(meta_error(data), "the file is empty");
    }
}

#[test]
fn wrong_magic_is_an_error() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
    assert!(graph_error(png).starts_with("failed to decode Protobuf message"), "{}", graph_error(png));
    let e = graph_error(b"GIF89a this is not a graph");
    assert!(e.contains("at line 1 column"), "{e}");
}

#[test]
fn truncated_files_fail_or_decode_fewer_nodes() {
    for case in cases::cases() {
        let pb = cases::bytes(&case, "pb");
        let whole = TfGraph::parse(&pb, "whole").unwrap();
        let mut errors = 0;
        for cut in (1..pb.len()).step_by(97) {
            match TfGraph::parse(&pb[..cut], "bad.file") {
                Ok(g) => assert!(g.nodes.len() <= whole.nodes.len()),
                Err(Error::Format { message, .. }) => {
                    let expected =
                        message.starts_with("failed to decode Protobuf message") || message == "the file is empty";
                    assert!(expected, "{message}");
                    errors += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(errors > 0);
        for ext in ["pbtxt", "json", "meta"] {
            let data = cases::bytes(&case, ext);
            let parse = |d: &[u8]| {
                if ext == "meta" { TfMetaGraph::parse(d, "t").map(|_| ()) } else { TfGraph::parse(d, "t").map(|_| ()) }
            };
            assert!(parse(&data[..data.len() * 2 / 3]).is_err(), "{} {ext}", cases::name(&case));
        }
    }
}

#[test]
fn bad_wire_types_and_lengths_name_the_field() {
    // Field 1 (node) with wire type 7, which does not exist.
    assert!(graph_error(&[0x0f, 0x00]).contains("invalid wire type"), "{}", graph_error(&[0x0f, 0x00]));
    // A node claiming 2^32 bytes in a file of six.
    let e = graph_error(&[0x0a, 0x80, 0x80, 0x80, 0x80, 0x10]);
    assert!(e.contains("buffer underflow"), "{e}");
    // A node whose attribute value has a bad wire type: the path names the fields.
    let e = graph_error(b"\x0a\x0c\x0a\x01x\x12\x01y\x2a\x04\x0a\x01a\x17");
    assert!(e.contains("NodeDef.attr"), "{e}");
}

#[test]
fn nesting_a_million_deep_is_refused_in_every_form() {
    let depth = 1_000_000;
    let e = graph_error(&deep_binary(depth));
    assert!(e.contains("recursion limit"), "{e}");
    let text =
        format!("node {{ name: \"x\" experimental_type {{ {} }} }}", "args { ".repeat(depth) + &"} ".repeat(depth));
    let e = graph_error(text.as_bytes());
    // The 101st `{` opens the 99th `args`, after `node { name: "x" experimental_type { ` (37).
    assert_eq!(e, format!("messages nested more than 100 deep at line 1 column {}", 37 + 98 * 7 + 5 + 1));
    let json =
        format!("{{\"node\": [{{\"experimentalType\": {}1{}}}]}}", "{\"args\": [".repeat(depth), "]}".repeat(depth));
    let e = graph_error(json.as_bytes());
    assert!(e.contains("recursion limit exceeded at line 1 column"), "{e}");
    assert!(graph_error(&b"[".repeat(depth)).contains("at line 1 column"));
    assert!(meta_error(text.as_bytes()).contains("nested more than 100 deep"));
}

#[test]
fn nesting_within_the_limits_decodes() {
    assert_eq!(TfGraph::parse(&deep_binary(90), "ok").unwrap().nodes[0].name, "x");
    let text = format!("node {{ name: \"x\" experimental_type {{ {}{} }} }}", "args { ".repeat(90), "} ".repeat(90));
    assert_eq!(TfGraph::parse(text.as_bytes(), "ok").unwrap().nodes[0].name, "x");
}

#[test]
fn deep_json_values_are_refused() {
    let mut value = serde_json::json!({});
    for _ in 0..1000 {
        value = serde_json::json!({ "args": [value] });
    }
    let value = serde_json::json!({ "node": [{ "name": "x", "experimentalType": value }] });
    let e = message(TfGraph::from_json_value(&value, "bad.file").map(|_| ()));
    assert_eq!(e, "JSON nested more than 200 deep");
}

#[test]
fn huge_tensors_fail_before_allocating_in_every_form() {
    let text = br#"node { name: "big" op: "Const" attr { key: "value" value { tensor {
        dtype: DT_FLOAT tensor_shape { dim { size: 1048576 } dim { size: 1048576 } } float_val: 1 } } } }"#;
    let g = TfGraph::parse(br#"node { name: "big" op: "Const" }"#, "ok").unwrap();
    let want =
        "node 'big': attr 'value': a tensor of shape [1048576, 1048576] is too large (at most 1073741824 elements)";
    assert_eq!(graph_error(text), want);
    // The same bytes in binary and JSON, written by hand from the text above.
    let json = br#"{"node": [{"name": "big", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_FLOAT",
        "tensorShape": {"dim": [{"size": "1048576"}, {"size": "1048576"}]}, "floatVal": [1]}}}}]}"#;
    assert_eq!(graph_error(json), want);
    let mut shape = Vec::new();
    for _ in 0..2 {
        shape.extend([0x12, 0x04, 0x08, 0x80, 0x80, 0x40]);
    }
    let mut tensor = vec![0x08, 0x01, 0x12, shape.len() as u8];
    tensor.extend(shape);
    tensor.extend([0x2a, 0x04, 0, 0, 0x80, 0x3f]);
    let mut value = vec![0x42, tensor.len() as u8];
    value.extend(tensor);
    let mut entry = vec![0x0a, 0x05];
    entry.extend(b"value");
    entry.extend([0x12, value.len() as u8]);
    entry.extend(value);
    let mut node = vec![0x0a, 0x03];
    node.extend(b"big");
    node.extend([0x12, 0x05]);
    node.extend(b"Const");
    node.extend([0x2a, entry.len() as u8]);
    node.extend(entry);
    let mut graph = vec![0x0a, node.len() as u8];
    graph.extend(node);
    assert_eq!(graph_error(&graph), want);
    assert_eq!(g.nodes[0].op, "Const");
}

#[test]
fn shapes_beyond_tensorflows_rank_are_refused() {
    let text = format!(
        "node {{ name: \"s\" attr {{ key: \"shape\" value {{ shape {{ {} }} }} }} }}",
        "dim { size: 1 } ".repeat(300)
    );
    assert_eq!(graph_error(text.as_bytes()), "node 's': attr 'shape': rank 300 is more than the 254 TensorFlow allows");
}

#[test]
fn text_errors_give_line_and_column() {
    let e = graph_error(b"node {\n  name: \"x\"\n  bogus: 1\n}\n");
    assert_eq!(e, "field 'bogus' not found for message 'tensorflow.NodeDef' at line 3 column 3");
    let e = graph_error(b"node {\n  name: \"x\n}\n");
    assert_eq!(e, "invalid string character at line 2 column 11");
    let e = graph_error(b"node {\n  name: \"x\"\n");
    assert!(e.contains("reached end of input at line 3 column 1"), "{e}");
    let e = graph_error(b"node { attr { key: \"T\" value { type: DT_NOPE } } }");
    assert!(e.contains("'DT_NOPE' was not found for enum 'tensorflow.DataType' at line 1 column 38"), "{e}");
}

#[test]
fn json_errors_give_line_and_column() {
    let e = graph_error(b"{\"node\": [\n  {\"name\": \"x\", \"nme\": 1}]}");
    assert_eq!(e, "unrecognized field name 'nme' at line 2 column 21");
    let e = graph_error(b"{\"node\": [{\"name\": 3}]}");
    assert!(e.contains("at line 1 column"), "{e}");
    let e = graph_error(b"{\"init\": \"init\", \"steps\": 3}");
    assert!(e.contains("init"), "a run spec without graph_def: {e}");
    let e = graph_error(b"{\"graph_def\": {\"node\": [{\"op\": 7}]}, \"steps\": 3}");
    assert!(e.contains("at line 1 column"), "{e}");
}

#[test]
fn bad_tensors_and_lists_name_the_node_and_attribute() {
    let e = graph_error(
        br#"node { name: "c" attr { key: "value" value { tensor { dtype: DT_INT32
        tensor_shape { dim { size: 3 } } tensor_content: "\001\000\000\000" } } } }"#,
    );
    assert_eq!(e, "node 'c': attr 'value': tensor_content holds 4 bytes; 3 int32 elements need 12");
    let e = graph_error(br#"node { name: "l" attr { key: "x" value { list { i: 1 f: 2 } } } }"#);
    assert_eq!(e, "node 'l': attr 'x': a list holds values of more than one kind");
    let e = graph_error(br#"node { name: "u" attr { key: "x" value { } } }"#);
    assert_eq!(e, "node 'u': attr 'x': the value is not set");
    let e = graph_error(br#"node { name: "s" attr { key: "shape" value { shape { dim { size: -7 } } } } }"#);
    assert_eq!(e, "node 's': attr 'shape': dimension -7 is neither a size nor -1 (unknown)");
    let e = graph_error(
        br#"library { function { signature { name: "f" } node_def { name: "n"
        attr { key: "then" value { func { name: "g" attr { key: "k" value { } } } } } } } }"#,
    );
    assert_eq!(e, "function 'f' node 'n': attr 'then': func 'g' attr 'k': the value is not set");
}

#[test]
fn bad_collections_name_the_collection() {
    let e = meta_error(br#"collection_def { key: "variables" value { bytes_list { value: "\377" } } }"#);
    assert!(e.starts_with("collection 'variables' item 0: failed to decode Protobuf message"), "{e}");
    let e = meta_error(br#"collection_def { key: "train_op" value { int64_list { value: 1 } } }"#);
    assert_eq!(e, "collection 'train_op' must list node names");
}

#[test]
fn unreadable_files_are_io_errors() {
    let e = TfGraph::read("no/such/graph.pb").unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(e.to_string().starts_with("no/such/graph.pb: "));
}
