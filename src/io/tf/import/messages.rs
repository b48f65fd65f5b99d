//! String constants given to an `Assert`, as the assert's message.
//!
//! TF1 graphs hold string tensors in one place a training run reaches: the message data of an
//! `Assert` (`piecewise_constant` checks that exactly one interval holds, `tf.debugging`
//! asserts name what failed). Each `DT_STRING` constant that only `Assert`s read becomes part of
//! their `message` attribute, and the constant goes, so the message reads as TF prints it (the
//! strings bare, not quoted as a string tensor's value prints). A string constant anything else
//! reads, or that is not UTF-8 text (which a `message` cannot hold), stays a constant.

use crate::Tensor;
use crate::io::tf::{AttrList, AttrValue, TfNode, TfTensor};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// The nodes with string constants folded into the `Assert`s that read them; the nodes
/// themselves when there is nothing to fold.
pub(super) fn fold_into_asserts(nodes: &[TfNode]) -> Cow<'_, [TfNode]> {
    let strings: HashMap<&str, Vec<Vec<u8>>> =
        nodes.iter().filter_map(|n| Some((n.name.as_str(), string_const(n)?))).collect();
    if strings.is_empty() {
        return Cow::Borrowed(nodes);
    }
    let is_string = |input: &str| strings.contains_key(producer(input));
    let read_by = |asserts: bool| -> HashSet<&str> {
        nodes
            .iter()
            .filter(|n| (n.op == "Assert") == asserts)
            .flat_map(|n| n.inputs.iter())
            .filter(|i| !i.starts_with('^') && is_string(i))
            .map(|i| producer(i))
            .collect()
    };
    let (by_asserts, elsewhere) = (read_by(true), read_by(false));
    let folded = |name: &str| by_asserts.contains(name) && !elsewhere.contains(name);
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        if folded(&n.name) {
            continue;
        }
        let mut n = n.clone();
        if n.op == "Assert" {
            let mut message = Vec::new();
            n.inputs.retain(|i| match i.starts_with('^') || !folded(producer(i)) {
                true => true,
                false => {
                    message.extend(strings[producer(i)].iter().cloned());
                    false
                }
            });
            if !message.is_empty() {
                n.attrs.insert("message".into(), AttrValue::List(AttrList::Str(message)));
            }
        }
        n.inputs.retain(|i| !(i.starts_with('^') && folded(&i[1..])));
        out.push(n);
    }
    Cow::Owned(out)
}

/// The strings of a `DT_STRING` constant of UTF-8 text.
fn string_const(n: &TfNode) -> Option<Vec<Vec<u8>>> {
    match (n.op.as_str(), n.attrs.get("value")) {
        ("Const", Some(AttrValue::Tensor(TfTensor::Value(Tensor::String(t)))))
            if t.iter().all(|b| std::str::from_utf8(b).is_ok()) =>
        {
            Some(t.iter().map(|b| b.to_vec()).collect())
        }
        _ => None,
    }
}

/// The node an input names: `x`, `x:1` and, in function bodies, `x:output:0` all name `x`.
fn producer(input: &str) -> &str {
    input.split(':').next().unwrap_or(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::tf::TfGraph;

    const GRAPH: &str = r#"
      node { name: "c" op: "Placeholder" attr { key: "dtype" value { type: DT_BOOL } } }
      node { name: "msg" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
             attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape {} string_val: "too big" } } } }
      node { name: "check" op: "Assert" input: "c" input: "msg:0" input: "c" }
    "#;

    #[test]
    fn a_string_constant_becomes_the_asserts_message() {
        let tf = TfGraph::parse(GRAPH.as_bytes(), "t.pbtxt").unwrap();
        let nodes = fold_into_asserts(&tf.nodes);
        assert_eq!(nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["c", "check"]);
        assert_eq!(nodes[1].inputs, ["c", "c"]);
        let message = nodes[1].attrs.get("message");
        assert!(
            matches!(message, Some(AttrValue::List(AttrList::Str(m))) if m == &[b"too big".to_vec()]),
            "{message:?}"
        );
    }

    #[test]
    fn a_string_constant_no_assert_reads_stays() {
        let text = r#"node { name: "s" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
             attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape {} string_val: "tag" } } } }"#;
        let tf = TfGraph::parse(text.as_bytes(), "t.pbtxt").unwrap();
        assert_eq!(fold_into_asserts(&tf.nodes).len(), 1);
    }

    #[test]
    fn a_string_constant_read_by_another_op_stays() {
        let text = format!("{GRAPH} node {{ name: \"id\" op: \"Identity\" input: \"msg\" }}");
        let tf = TfGraph::parse(text.as_bytes(), "t.pbtxt").unwrap();
        let nodes = fold_into_asserts(&tf.nodes);
        assert_eq!(nodes.len(), 4);
        assert_eq!(nodes[2].inputs, ["c", "msg:0", "c"]);
    }
}
