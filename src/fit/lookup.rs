//! The tensors a training config names, looked up in its graph and checked to be scalars of the
//! kind the field needs; an error names the config field.

use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::tensor::DType;

/// A scalar tensor of the graph by name, checked to be a scalar (or of unknown shape).
pub(super) fn scalar(g: &Graph, field: &str, name: &str) -> Result<Output> {
    let out = g.output(name).map_err(|e| Error::argument("config", field, e.to_string()))?;
    let spec = g.spec(out);
    if spec.shape.rank().is_some_and(|r| r != 0) {
        return Err(Error::argument(
            "config",
            field,
            format!("'{name}' must be a scalar, it has shape {}", spec.shape),
        ));
    }
    Ok(out)
}

pub(super) fn float_scalar(g: &Graph, field: &str, name: &str) -> Result<Output> {
    let out = scalar(g, field, name)?;
    if !g.spec(out).dtype.is_float() {
        return Err(Error::argument("config", field, format!("'{name}' must be float32 or float64")));
    }
    Ok(out)
}

pub(super) fn bool_scalar(g: &Graph, field: &str, name: &str) -> Result<Output> {
    let out = scalar(g, field, name)?;
    if g.spec(out).dtype != DType::Bool {
        return Err(Error::argument("config", field, format!("'{name}' must be a bool scalar")));
    }
    Ok(out)
}
