//! `--feed NAME=VALUE`: a JSON value (a number, `true`, nested lists) given to a tensor in the
//! tensor's own dtype.

use stepflow::{Error, Graph, Output, Result, Tensor};

/// Parses `NAME=VALUE` against the graph: the value takes the fed tensor's dtype, its shape comes
/// from the nesting.
pub fn parse_feed(g: &Graph, arg: &str) -> Result<(Output, Tensor)> {
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| Error::argument("--feed", arg, "must look like NAME=VALUE (VALUE in JSON, e.g. x=[[1,2,3]])"))?;
    let out = g.output(name)?;
    let dtype = g.spec(out).dtype;
    let data: serde_json::Value =
        serde_json::from_str(value).map_err(|e| Error::argument("--feed", name, format!("value is not JSON: {e}")))?;
    let form = serde_json::json!({"dtype": dtype, "data": data});
    let t: Tensor = serde_json::from_value(form).map_err(|e| Error::argument("--feed", name, e.to_string()))?;
    Ok((out, t))
}
