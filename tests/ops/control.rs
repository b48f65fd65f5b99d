//! If and StatelessIf, with branches from a graph's function library, imported from TF's text
//! form as TF writes them.

use super::util::*;
use stepflow::io::tf::TfGraph;
use stepflow::{Graph, Tensor};

/// `op(c, x)` with then = `x²` and else = `Reshape(x, [7])`, which fails for a scalar: the else
/// branch errors only if it runs.
fn graph(op: &str) -> Graph {
    let text = format!(
        r#"
        node {{ name: "c" op: "Placeholder" attr {{ key: "dtype" value {{ type: DT_BOOL }} }} }}
        node {{ name: "x" op: "Placeholder" attr {{ key: "dtype" value {{ type: DT_FLOAT }} }} }}
        node {{ name: "if" op: "{op}" input: "c" input: "x"
          attr {{ key: "then_branch" value {{ func {{ name: "square" }} }} }}
          attr {{ key: "else_branch" value {{ func {{ name: "bad_reshape" }} }} }}
          attr {{ key: "Tcond" value {{ type: DT_BOOL }} }}
          attr {{ key: "output_shapes" value {{ list {{ shape {{ }} }} }} }} }}
        library {{
          function {{
            signature {{ name: "square" input_arg {{ name: "a" type: DT_FLOAT }} output_arg {{ name: "y" type: DT_FLOAT }} }}
            node_def {{ name: "s" op: "Square" input: "a" attr {{ key: "T" value {{ type: DT_FLOAT }} }} }}
            ret {{ key: "y" value: "s:y:0" }}
          }}
          function {{
            signature {{ name: "bad_reshape" input_arg {{ name: "a" type: DT_FLOAT }} output_arg {{ name: "y" type: DT_FLOAT }} }}
            node_def {{ name: "shape" op: "Const" attr {{ key: "dtype" value {{ type: DT_INT32 }} }}
              attr {{ key: "value" value {{ tensor {{ dtype: DT_INT32 tensor_shape {{ dim {{ size: 1 }} }} int_val: 7 }} }} }} }}
            node_def {{ name: "r" op: "Reshape" input: "a" input: "shape:output:0" attr {{ key: "T" value {{ type: DT_FLOAT }} }} }}
            ret {{ key: "y" value: "r:output:0" }}
          }}
        }}"#
    );
    Graph::from_tf(&TfGraph::parse(text.as_bytes(), "if.pbtxt").unwrap(), "if.pbtxt").unwrap()
}

fn check(op: &str) {
    let g = graph(op);
    let (c, x, y) = (g.output("c").unwrap(), g.output("x").unwrap(), g.output("if:0").unwrap());
    let s = session(g);
    let out = s.run(&[(c, Tensor::from(true)), (x, Tensor::from(3.0f32))], &[y], &[]).unwrap();
    assert_close(&out[0], &[], &[9.0]);
    // The else branch runs only when taken, and its error names the branch.
    let e = s.run(&[(c, Tensor::from(false)), (x, Tensor::from(3.0f32))], &[y], &[]).unwrap_err().to_string();
    assert!(e.contains("bad_reshape"), "{e}");
}

pub fn if_op() {
    check("If");
}

pub fn stateless_if() {
    check("StatelessIf");
}

/// Assert as TF writes it: a string constant and a tensor as its data. A true condition runs
/// without output, a false one fails with the message and the tensor's value; a condition that
/// is no scalar is an error.
pub fn assert() {
    let text = r#"
      node { name: "c" op: "Placeholder" attr { key: "dtype" value { type: DT_BOOL } } }
      node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_INT32 } } }
      node { name: "msg" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
             attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape {} string_val: "x is" } } } }
      node { name: "check" op: "Assert" input: "c" input: "msg" input: "x"
             attr { key: "T" value { list { type: DT_STRING type: DT_INT32 } } }
             attr { key: "summarize" value { i: 3 } } }
    "#;
    let g = Graph::from_tf(&TfGraph::parse(text.as_bytes(), "assert.pbtxt").unwrap(), "assert.pbtxt").unwrap();
    let (c, x, check) = (g.output("c").unwrap(), g.output("x").unwrap(), g.node_id("check").unwrap());
    let s = session(g);
    let x_is = |v: Vec<i32>| Tensor::from_vec(&[v.len()], v).unwrap();
    assert!(s.run(&[(c, Tensor::from(true)), (x, x_is(vec![1, 2]))], &[], &[check]).unwrap().is_empty());
    let e = s.run(&[(c, Tensor::from(false)), (x, x_is(vec![1, 2]))], &[], &[check]).unwrap_err().to_string();
    assert!(e.contains("check") && e.contains("assertion failed: [x is] [[1, 2]]"), "{e}");
    let e = s.run(&[(c, Tensor::from_vec(&[2], vec![true, true]).unwrap()), (x, x_is(vec![1]))], &[], &[check]);
    assert!(e.unwrap_err().to_string().contains("bool scalar"));
}
