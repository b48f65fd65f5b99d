//! stepflow's JSON attribute values as TensorFlow attribute values, converted by the kind TF's
//! op definition gives the attribute (the inverse of the importer's conversion).

use crate::io::tf::{AttrList, AttrValue, TfFunc, TfTensor, TfType};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
use serde_json::Value;

/// `value` as a TF attribute of kind `kind` (`int`, `list(type)`, `func`, ...).
pub(super) fn to_attr(value: &Value, kind: &str) -> Result<AttrValue, String> {
    if let Some(item) = kind.strip_prefix("list(").and_then(|k| k.strip_suffix(')')) {
        let items = value.as_array().ok_or_else(|| format!("{value} is not a list"))?;
        let items = items.iter().map(|v| to_attr(v, item)).collect::<Result<Vec<_>, _>>()?;
        return Ok(AttrValue::List(list(item, items)));
    }
    let bad = || format!("{value} is not a TF {kind}");
    Ok(match kind {
        "int" => AttrValue::Int(value.as_i64().ok_or_else(bad)?),
        "float" => AttrValue::Float(value.as_f64().ok_or_else(bad)?),
        "bool" => AttrValue::Bool(value.as_bool().ok_or_else(bad)?),
        "string" => AttrValue::Str(value.as_str().ok_or_else(bad)?.as_bytes().to_vec()),
        "type" => AttrValue::Type(TfType::Known(parse::<DType>(value)?)),
        "shape" => AttrValue::Shape(parse::<Shape>(value)?),
        "tensor" => AttrValue::Tensor(TfTensor::Value(parse::<Tensor>(value)?)),
        "func" => {
            let name = value.get("name").and_then(Value::as_str).ok_or_else(bad)?;
            AttrValue::Func(TfFunc { name: name.to_string(), attrs: Default::default() })
        }
        _ => return Err(format!("TF attribute kind '{kind}' has no stepflow form")),
    })
}

fn parse<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|e| e.to_string())
}

/// Converted items as the list of their kind.
fn list(kind: &str, items: Vec<AttrValue>) -> AttrList {
    macro_rules! collect {
        ($variant:ident) => {
            AttrList::$variant(
                items.into_iter().filter_map(|v| if let AttrValue::$variant(x) = v { Some(x) } else { None }).collect(),
            )
        };
    }
    match kind {
        _ if items.is_empty() => AttrList::Empty,
        "int" => collect!(Int),
        "float" => collect!(Float),
        "bool" => collect!(Bool),
        "string" => collect!(Str),
        "type" => collect!(Type),
        "shape" => collect!(Shape),
        "tensor" => collect!(Tensor),
        _ => collect!(Func),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_convert_by_tensorflows_kind() {
        assert_eq!(to_attr(&json!(3), "int"), Ok(AttrValue::Int(3)));
        assert_eq!(to_attr(&json!("SAME"), "string"), Ok(AttrValue::Str(b"SAME".to_vec())));
        assert_eq!(to_attr(&json!("float32"), "type"), Ok(AttrValue::Type(TfType::Known(DType::Float32))));
        assert_eq!(to_attr(&json!([1, 2]), "list(int)"), Ok(AttrValue::List(AttrList::Int(vec![1, 2]))));
        assert_eq!(to_attr(&json!([]), "list(int)"), Ok(AttrValue::List(AttrList::Empty)));
        assert_eq!(to_attr(&json!([null, 3]), "shape"), Ok(AttrValue::Shape(Shape::partial(&[None, Some(3)]))));
        assert!(to_attr(&json!("x"), "int").unwrap_err().contains("not a TF int"));
    }
}
