//! The values the op fuzzer draws from: element values of every dtype (the edges of each type
//! first among the extremes), and attribute values by the attribute's Rust type, valid and not.

use serde_json::{Value, json};
use stepflow::{DType, Tensor};

/// Small integers: sizes, axes and indices that are mostly in range.
const SMALL_INTS: &[i64] = &[0, 1, 2, -1, 3, 4, -2, 5, -5];

/// Integers at the edges: type limits and sizes past the tensor size limit (each alone is larger
/// than `MAX_ELEMENTS`, so no case legitimately allocates a huge tensor).
const EXTREME_INTS: &[i64] = &[
    i32::MIN as i64,
    i32::MAX as i64,
    i64::MIN,
    i64::MAX,
    1 << 31,
    1 << 32,
    (1 << 30) + 1,
    1 << 40,
    1 << 62,
    -(1 << 31) - 1,
    i64::MIN + 1,
];

const SMALL_FLOATS: &[f64] = &[0.0, 1.0, -1.0, 0.5, 2.0, -0.0, 3.0, -2.5];

/// Floats at the edges; the `f32` ones are cast, so they overflow to infinities or underflow.
const EXTREME_FLOATS: &[f64] = &[
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f32::MIN_POSITIVE as f64 / 4.0,
    5e-324,
    f32::MAX as f64,
    f64::MAX,
    f64::MIN,
    1e10,
    -1e30,
    f64::MIN_POSITIVE,
];

/// Draws below this pick a small value, the rest an extreme one: shrinking goes to small values.
const SMALL_BELOW: u8 = 180;

/// An integer element from a draw.
pub fn int(draw: u8) -> i64 {
    pick(draw, SMALL_INTS, EXTREME_INTS)
}

/// A float element from a draw.
pub fn float(draw: u8) -> f64 {
    pick(draw, SMALL_FLOATS, EXTREME_FLOATS)
}

fn pick<T: Copy>(draw: u8, small: &[T], extreme: &[T]) -> T {
    if draw < SMALL_BELOW {
        small[draw as usize % small.len()]
    } else {
        extreme[(draw - SMALL_BELOW) as usize % extreme.len()]
    }
}

/// Strings: tags (UTF-8 or not) and serialized `Summary` protos, whole (`Summary{a: 1.0}` as TF
/// writes it, the empty one) and cut short, so the summary ops see both what parses and what does
/// not.
const STRINGS: &[&[u8]] = &[b"", b"loss", b"\n\x08\n\x01a\x15\x00\x00\x80?", "é".as_bytes(), b"\xff\x00", b"\n\x08\n"];

/// A string element from a draw.
pub fn string(draw: u8) -> &'static [u8] {
    STRINGS[draw as usize % STRINGS.len()]
}

/// An integer element of a tensor of `n` elements. Any integer tensor may be read as a shape: one
/// of more than 6 elements keeps its small values within ±1, so that no case asks for a huge tensor
/// within the size limit (3^18 elements of f64 is 3 GB, and slow to fill), while each extreme
/// value alone is past the limit.
fn sized(v: i64, n: usize) -> i64 {
    if n > 6 && v.unsigned_abs() <= 5 { v.clamp(-1, 1) } else { v }
}

/// A tensor of `dtype` and `dims` whose element `i` comes from `draws[i % len]` (zeros when there
/// are no draws).
pub fn tensor(dtype: DType, dims: &[usize], draws: &[u8]) -> Tensor {
    let n: usize = dims.iter().product();
    let d = |i: usize| if draws.is_empty() { 0 } else { draws[i % draws.len()] };
    let made = match dtype {
        DType::Float32 => Tensor::from_vec(dims, (0..n).map(|i| float(d(i)) as f32).collect()),
        DType::Float64 => Tensor::from_vec(dims, (0..n).map(|i| float(d(i))).collect()),
        // Wrapping on purpose: the 64-bit extremes become other 32-bit edge values.
        DType::Int32 => Tensor::from_vec(dims, (0..n).map(|i| sized(int(d(i)), n) as i32).collect()),
        DType::Int64 => Tensor::from_vec(dims, (0..n).map(|i| sized(int(d(i)), n)).collect()),
        DType::Bool => Tensor::from_vec(dims, (0..n).map(|i| d(i) % 2 == 1).collect()),
        DType::String => Tensor::strings(dims, (0..n).map(|i| string(d(i)))),
    };
    made.expect("the element count matches the dims")
}

/// A valid value for an attribute of `kind` (its Rust type, spaces removed), chosen by `draw`;
/// `None` for a kind the fuzzer does not know.
pub fn valid_attr(kind: &str, draw: u8) -> Option<Value> {
    let i = draw as usize;
    let v = match kind {
        "bool" => json!(draw % 2 == 1),
        "DType" => json!(DType::ALL[i % DType::ALL.len()].name()),
        "Shape" => {
            let shapes = [
                json!(null),
                json!([]),
                json!([2]),
                json!([null, 3]),
                json!([0]),
                json!([2, 3]),
                json!([1, 1, 1, 1]),
                json!([null]),
                json!([4611686018427387904u64, 4]),
                json!([null, null, 0]),
            ];
            shapes[i % shapes.len()].clone()
        }
        "Tensor" => {
            let dtype = DType::ALL[i % DType::ALL.len()];
            let dims: &[usize] = [&[][..], &[2], &[0], &[2, 3], &[1, 0, 2]][(i / 5) % 5];
            serde_json::to_value(tensor(dtype, dims, &[draw, draw.wrapping_mul(31), draw ^ 0xa5])).ok()?
        }
        "Vec<i64>" => {
            // The last four are NHWC window sizes and strides (one far past any image) and
            // explicit paddings, so the pooling ops get past their attribute checks.
            let lists = [
                json!([]),
                json!([0]),
                json!([-1]),
                json!([1, 0]),
                json!([5, 5, 5, 5, 5]),
                json!([1, 2, 2, 1]),
                json!([1, 3, 1, 1]),
                json!([1, 1i64 << 40, 2, 1]),
                json!([0, 0, 1, 0, 0, 2, 0, 0]),
            ];
            if i < lists.len() * 16 { lists[i % lists.len()].clone() } else { json!([int(draw), int(!draw)]) }
        }
        "Vec<String>" => json!([[], ["failed"], ["a", "", "\u{1F600}"]])[i % 3].clone(),
        "i64" => json!(int(draw)),
        "u64" => json!([0u64, 1, 42, u64::MAX][i % 4]),
        "f32" => {
            let x = float(draw);
            if x.is_finite() { json!(x) } else { json!(1e39) }
        }
        "String" => json!(["", "gradient disabled", "é ü \u{0}"][i % 3]),
        "DataFormat" => json!(["NHWC", "NCHW"][i % 2]),
        "PaddingKind" => json!(["VALID", "SAME", "EXPLICIT"][i % 3]),
        // Strides and dilations, mostly valid: ones, steps of 2 and 3, zero entries, entries on
        // the batch and depth axes, the wrong length, huge values.
        "WindowInts" => {
            let lists = [
                json!([1, 1, 1, 1]),
                json!([1, 2, 2, 1]),
                json!([1, 1, 1, 1]),
                json!([1, 2, 3, 1]),
                json!([1, 0, 1, 1]),
                json!([2, 1, 1, 1]),
                json!([1, 1, 1]),
            ];
            if i < lists.len() * 30 { lists[i % lists.len()].clone() } else { json!([1, int(draw), int(!draw), 1]) }
        }
        // Explicit paddings: mostly none (what SAME and VALID need), else 8 entries, valid or not.
        "Paddings" => {
            let lists = [
                json!([]),
                json!([0, 0, 1, 2, 0, 1, 0, 0]),
                json!([]),
                json!([0, 0, 0, 0, 0, 0, 0, 0]),
                json!([0, 0, -1, 0, 0, 0, 0, 0]),
                json!([1, 0, 0, 0, 0, 0, 0, 0]),
                json!([0, 0, 1]),
            ];
            if i < lists.len() * 30 {
                lists[i % lists.len()].clone()
            } else {
                json!([0, 0, int(draw), 0, 0, int(!draw), 0, 0])
            }
        }
        // No function library in a fuzzed graph: binding fails with an error naming the function.
        "FuncName" => json!({ "name": if i.is_multiple_of(2) { "f" } else { "" } }),
        _ => return None,
    };
    Some(v)
}

/// A value of the wrong type or out of range for an attribute of any kind.
pub fn invalid_attr(draw: u8) -> Value {
    let junk = [
        json!(null),
        json!("float16"),
        json!(-1),
        json!(1.5),
        json!("true"),
        json!([-1]),
        json!([1.5, "x"]),
        json!({"dtype": "int32", "data": [1.5]}),
        json!({"dtype": "float32", "shape": [2], "data": [1]}),
        json!({"dtype": "float32", "shape": [4294967296u64, 4294967296u64], "data": []}),
        json!(u64::MAX),
        json!({}),
    ];
    if draw as usize % (junk.len() + 1) == junk.len() {
        // Nested deeper than a tensor's data may be.
        let deep = format!("{}0{}", "[".repeat(40), "]".repeat(40));
        return serde_json::from_str(&deep).unwrap_or(Value::Null);
    }
    junk[draw as usize % (junk.len() + 1)].clone()
}
