//! Functional control flow: `If` and `StatelessIf` (what TF 2.x emits for `tf.cond`, and so for
//! `cosine_decay_restarts` and `piecewise_constant`). The branches are functions of the graph's
//! library ([`Function`]); only the taken branch runs, as a cached plan of its own.

use super::{InferCx, Kernel, NUMBERS, Op, Outputs, State, TensorSpec, op};
use crate::error::{OpError, OpResult};
use crate::graph::{Function, Library};
use crate::shape::Shape;
use crate::tensor::DType;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A `func` attribute: the name of a function of the graph's library.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FuncName {
    pub name: String,
}

/// The two branches, once taken from the library (see [`Op::bind`]).
#[derive(Clone, Default)]
pub struct Branches(Option<Arc<[Arc<Function>; 2]>>);

impl fmt::Debug for Branches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(b) => write!(f, "[{}, {}]", b[0].name(), b[1].name()),
            None => f.write_str("unbound"),
        }
    }
}

/// Defines an `If`-like op; `$state` says whether its branches may have effects.
macro_rules! if_op {
    ($(#[doc = $doc:literal])* $name:ident, $state:expr) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Default) {
                then_branch: FuncName,
                else_branch: FuncName;
                bound branches: Branches
            }
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                infer_if(cx, self.bound(&self.then_branch)?)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                compute_if(k, self.bound(&self.then_branch)?)
            }
            fn state(&self) -> State {
                $state
            }
            fn bind(&self, library: &Library) -> Result<Option<Arc<dyn Op>>, String> {
                let get = |f: &FuncName| {
                    library.get(&f.name).cloned().ok_or_else(|| format!("function '{}' is not in the graph's library", f.name))
                };
                let branches = Branches(Some(Arc::new([get(&self.then_branch)?, get(&self.else_branch)?])));
                Ok(Some(Arc::new($name { branches, ..self.clone() })))
            }
            fn functions(&self) -> Vec<Arc<Function>> {
                self.branches.0.as_deref().map_or_else(Vec::new, |b| b.to_vec())
            }
        }

        impl $name {
            fn bound(&self, then: &FuncName) -> OpResult<&[Arc<Function>; 2]> {
                self.branches
                    .0
                    .as_deref()
                    .ok_or_else(|| crate::invalid!("function '{}' is not in the graph's library", then.name))
            }
        }
    };
}

if_op!(
    /// `then_branch(args)` if `cond` (input 0, a scalar: true, or non-zero) else
    /// `else_branch(args)`; the other inputs are the arguments. Its branches may have effects
    /// (`Assert`), so it is never folded.
    If, State::Effect
);
if_op!(
    /// [`If`] whose branches are pure functions of their arguments: folded when its inputs are
    /// constants.
    StatelessIf, State::Pure
);

fn infer_if(cx: &InferCx, branches: &[Arc<Function>; 2]) -> OpResult<Vec<TensorSpec>> {
    if cx.is_empty() {
        return Err(OpError::Arity { expected: "at least 1 (cond, args...)".into(), got: 0 });
    }
    let c = cx.input(0).dtype;
    if c != DType::Bool && !NUMBERS.contains(&c) {
        return Err(crate::invalid!("cond must be a bool or a number, got {c}"));
    }
    cx.scalar(0, "cond")?;
    for f in branches {
        if f.args().len() != cx.len() - 1 {
            return Err(crate::invalid!(
                "branch '{}' takes {} arguments, got {}",
                f.name(),
                f.args().len(),
                cx.len() - 1
            ));
        }
        for (i, &arg) in f.args().iter().enumerate() {
            let want = f.graph().spec(arg).dtype;
            if want != cx.input(i + 1).dtype {
                return Err(OpError::DType { input: i + 1, expected: want.to_string(), got: cx.input(i + 1).dtype });
            }
        }
    }
    let [t, e] = branches;
    if t.rets().len() != e.rets().len() {
        return Err(crate::invalid!(
            "branch '{}' returns {} values, '{}' {}",
            t.name(),
            t.rets().len(),
            e.name(),
            e.rets().len()
        ));
    }
    t.rets()
        .iter()
        .zip(e.rets())
        .map(|(&a, &b)| {
            let (a, b) = (t.graph().spec(a), e.graph().spec(b));
            if a.dtype != b.dtype {
                return Err(crate::invalid!("the branches return {} and {} values", a.dtype, b.dtype));
            }
            let shape = if a.shape == b.shape { a.shape.clone() } else { Shape::unknown() };
            Ok(TensorSpec::new(a.dtype, shape))
        })
        .collect()
}

fn compute_if(k: &mut Kernel, branches: &[Arc<Function>; 2]) -> OpResult<Outputs> {
    let cond = k.input(0)?;
    if cond.len() != 1 {
        return Err(crate::invalid!("cond must be a scalar, got shape {:?}", cond.shape()));
    }
    let taken = if cond.to_f64_vec()[0] != 0.0 { &branches[0] } else { &branches[1] };
    let args = (1..k.num_inputs()).map(|i| k.input(i).cloned()).collect::<OpResult<Vec<_>>>()?;
    let out = taken.call(&args).map_err(|e| crate::invalid!("in branch '{}': {e}", taken.name()))?;
    Ok(out.into_iter().collect())
}
