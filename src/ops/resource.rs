//! TensorFlow's resource variables (`tf.compat.v1.get_variable(..., use_resource=True)`, what
//! TF 2.x builds by default): a `VarHandleOp` declares the variable, and the ops that take its
//! handle read, assign, check or update it. They share the session's variables with the
//! reference ops (`VariableV2`, `Assign`, `Apply*`): a handle is a reference input, through which
//! no value flows, and each op declares its access, so the plan treats both kinds alike.
//!
//! `ReadVariableOp` is shared with reference variables and lives in [`super::state`].

use super::state::{compute_assign, infer_assign};
use super::train::{ApplyAdagrad, ApplyAdam, ApplyCenteredRMSProp, ApplyGradientDescent, ApplyMomentum, ApplyRMSProp};
use super::{Access, InferCx, Kernel, Op, Outputs, State, TensorSpec, one, op, single};
use crate::error::OpResult;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

op! {
    /// A resource variable: the handle of a variable of `dtype` and `shape` held by the session
    /// (TF's `VarHandleOp`). Its consumers name the variable through it; running it alone reads
    /// a snapshot, as a `VariableV2` does.
    VarHandleOp { dtype: DType, shape: Shape }
}

super::state::variable_op!(VarHandleOp);

op! {
    /// `handle = value` (TF's `AssignVariableOp`); no outputs. Can be the variable's initializer.
    AssignVariableOp { #[serde(default = "yes")] validate_shape: bool }
}

fn yes() -> bool {
    true
}

impl Default for AssignVariableOp {
    fn default() -> Self {
        AssignVariableOp { validate_shape: true }
    }
}

impl Op for AssignVariableOp {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_assign(cx, self.validate_shape).map(|_| Vec::new())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        compute_assign(k, None).map(|_| Outputs::new())
    }
    fn state(&self) -> State {
        State::Variables(&[Access::Overwrite])
    }
}

/// Defines a read-modify-write resource assign: `handle = combine(handle, value)`; no outputs.
macro_rules! assign_variable_op {
    ($(#[doc = $doc:literal])* $name:ident, $combine:expr) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) {}
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                cx.arity(2)?;
                cx.dtype_in(0, super::NUMBERS)?;
                infer_assign(cx, true).map(|_| Vec::new())
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                compute_assign(k, Some($combine)).map(|_| Outputs::new())
            }
            fn state(&self) -> State {
                State::Variables(&[Access::Update])
            }
        }
    };
}

assign_variable_op!(
    /// `handle += value` (TF's `AssignAddVariableOp`, `global_step` increments of resource
    /// graphs); no outputs. Atomic against concurrent runs.
    AssignAddVariableOp, super::binary::add_in_place
);
assign_variable_op!(
    /// `handle -= value` (TF's `AssignSubVariableOp`); no outputs. Atomic against concurrent runs.
    AssignSubVariableOp, super::binary::sub_in_place
);

op! {
    /// Whether the variable holds a value (TF's `VarIsInitializedOp`): a bool scalar.
    VarIsInitializedOp derive(Copy, Default) {}
}

impl Op for VarIsInitializedOp {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        single(DType::Bool, Shape::scalar())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(Tensor::from(k.var_is_initialized(0)?))
    }
    fn state(&self) -> State {
        State::Variables(&[Access::Check])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

/// Defines `ResourceApply*`: the update of the reference op `$apply`, on handles, with no outputs.
macro_rules! resource_apply_op {
    ($(#[doc = $doc:literal])* $name:ident => $apply:ident { $($field:ident: $ty:ty),* }) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) { $(#[serde(default)] $field: $ty),* }
        }

        impl $name {
            fn update(&self) -> $apply {
                $apply { $($field: self.$field),* }
            }
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                self.update().infer(cx).map(|_| Vec::new())
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                self.update().compute(k).map(|_| Outputs::new())
            }
            fn state(&self) -> State {
                self.update().state()
            }
            fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
                self.update().cost(inputs, outputs)
            }
        }
    };
}

resource_apply_op!(
    /// [`ApplyGradientDescent`] on a resource variable.
    ResourceApplyGradientDescent => ApplyGradientDescent {}
);
resource_apply_op!(
    /// [`ApplyMomentum`] on resource variables.
    ResourceApplyMomentum => ApplyMomentum { use_nesterov: bool }
);
resource_apply_op!(
    /// [`ApplyAdam`] on resource variables.
    ResourceApplyAdam => ApplyAdam {}
);
resource_apply_op!(
    /// [`ApplyAdagrad`] on resource variables.
    ResourceApplyAdagrad => ApplyAdagrad {}
);
resource_apply_op!(
    /// [`ApplyRMSProp`] on resource variables.
    ResourceApplyRMSProp => ApplyRMSProp {}
);
resource_apply_op!(
    /// [`ApplyCenteredRMSProp`] on resource variables.
    ResourceApplyCenteredRMSProp => ApplyCenteredRMSProp {}
);
