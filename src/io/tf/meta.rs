//! TensorFlow's MetaGraphDef (what `tf.train.Saver.save` writes as `.meta`): the graph, its
//! collections (variables as VariableDef, the train op, anything else kept generically) and the
//! saver's tensor names, as plain structs.

use super::decode::{self, Context};
use super::encode;
use super::proto as pb;
use super::types::TfGraph;
use crate::error::{Error, Result};
use prost::Message;
use std::collections::BTreeMap;

/// The collections that [`TfMetaGraph`] decodes into typed fields.
const VARIABLES: &str = "variables";
const TRAINABLE_VARIABLES: &str = "trainable_variables";
const TRAIN_OP: &str = "train_op";

/// A MetaGraphDef: a graph with the collections and saver a training loop resumes from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfMetaGraph {
    /// The graph (with the `_output_shapes` that `export_meta_graph` adds to every node).
    pub graph: TfGraph,
    /// The meta graph's tags (`serve`, `train`; empty for a Saver's `.meta`).
    pub tags: Vec<String>,
    /// The version of the TensorFlow that wrote it (`2.21.0`).
    pub tensorflow_version: String,
    /// The `variables` collection (`tf.global_variables()`).
    pub variables: Vec<TfVariable>,
    /// The `trainable_variables` collection.
    pub trainable_variables: Vec<TfVariable>,
    /// The `train_op` collection: names of the ops one training step runs.
    pub train_ops: Vec<String>,
    /// Every other collection (`global_step`, `update_ops`, `summaries`, ...) as stored; see
    /// [`TfMetaGraph::variable_collection`] for those that hold variables.
    pub collections: BTreeMap<String, TfCollection>,
    /// What `tf.train.Saver` records about its save and restore ops, if the file has it.
    pub saver: Option<TfSaver>,
}

/// A variable of a meta graph: TensorFlow's `VariableDef`, naming tensors (`w:0`) and ops.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfVariable {
    /// The variable's tensor (`w:0`): a `VariableV2` output or a resource handle.
    pub variable_name: String,
    /// The tensor holding the initial value (`w/Initializer/zeros:0`).
    pub initial_value_name: String,
    /// The op that assigns the initial value (`w/Assign`).
    pub initializer_name: String,
    /// The tensor that reads the value (`w/read:0`, `w/Read/ReadVariableOp:0`).
    pub snapshot_name: String,
    /// Whether it is a resource variable (`VarHandleOp`) rather than a reference one.
    pub is_resource: bool,
    /// Whether it is in the `trainable_variables` collection (optimizers update it).
    pub trainable: bool,
    /// TensorFlow's name of the synchronization mode (`VARIABLE_SYNCHRONIZATION_AUTO`).
    pub synchronization: String,
    /// TensorFlow's name of the aggregation mode (`VARIABLE_AGGREGATION_NONE`).
    pub aggregation: String,
    /// For one part of a partitioned variable: where it sits in the whole.
    pub save_slice: Option<TfSaveSlice>,
}

/// The slice of a partitioned variable that one part holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfSaveSlice {
    /// The name of the whole variable.
    pub full_name: String,
    /// The shape of the whole variable.
    pub full_shape: Vec<i64>,
    /// Where this part starts in the whole.
    pub var_offset: Vec<i64>,
    /// The shape of this part.
    pub var_shape: Vec<i64>,
}

/// A collection as stored: TensorFlow's `CollectionDef`.
#[derive(Clone, Debug, PartialEq)]
pub enum TfCollection {
    /// A collection with no values.
    Empty,
    /// Names of nodes or tensors (`train_op`, `update_ops`).
    Nodes(Vec<String>),
    /// Serialized protos (`VariableDef` for variable collections).
    Bytes(Vec<Vec<u8>>),
    /// Integers.
    Int64(Vec<i64>),
    /// Floats.
    Float(Vec<f32>),
    /// `google.protobuf.Any` messages: a type URL and the serialized message.
    Any(Vec<(String, Vec<u8>)>),
}

/// What `tf.train.Saver` records: TensorFlow's `SaverDef`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfSaver {
    /// The string tensor to feed the checkpoint path to (`save/Const:0`).
    pub filename_tensor_name: String,
    /// The tensor to fetch to save (`save/control_dependency:0`).
    pub save_tensor_name: String,
    /// The op to run to restore (`save/restore_all`).
    pub restore_op_name: String,
    /// How many recent checkpoints to keep.
    pub max_to_keep: i32,
    /// Whether each device saves its own shard.
    pub sharded: bool,
    /// Keep one checkpoint this often, beyond `max_to_keep`.
    pub keep_checkpoint_every_n_hours: f32,
    /// The checkpoint format: 1 for V1, 2 for V2.
    pub version: i32,
}

impl TfMetaGraph {
    /// The variables of any collection of serialized VariableDefs (`global_step`,
    /// `local_variables`, `moving_average_variables`, ...); empty when there is no such
    /// collection.
    pub fn variable_collection(&self, name: &str) -> Result<Vec<TfVariable>> {
        match name {
            VARIABLES => Ok(self.variables.clone()),
            TRAINABLE_VARIABLES => Ok(self.trainable_variables.clone()),
            _ => self.collections.get(name).map_or(Ok(Vec::new()), |c| variables(name, c, "meta graph")),
        }
    }
}

/// The plain meta graph of a MetaGraphDef.
pub(super) fn decode(def: pb::MetaGraphDef, cx: Context) -> Result<TfMetaGraph> {
    let mut collections: BTreeMap<String, TfCollection> =
        def.collection_def.into_iter().map(|(k, c)| (k, collection(c))).collect();
    let mut take_variables = |name| collections.remove(name).map_or(Ok(Vec::new()), |c| variables(name, &c, cx.file));
    let variables = take_variables(VARIABLES)?;
    let trainable_variables = take_variables(TRAINABLE_VARIABLES)?;
    let train_ops = match collections.remove(TRAIN_OP) {
        None | Some(TfCollection::Empty) => Vec::new(),
        Some(TfCollection::Nodes(names)) => names,
        Some(_) => return Err(Error::format(cx.file, "collection 'train_op' must list node names")),
    };
    let info = def.meta_info_def.unwrap_or_default();
    Ok(TfMetaGraph {
        graph: decode::graph(def.graph_def.unwrap_or_default(), cx)?,
        tags: info.tags,
        tensorflow_version: info.tensorflow_version,
        variables,
        trainable_variables,
        train_ops,
        collections,
        saver: def.saver_def.map(saver),
    })
}

/// The MetaGraphDef of a plain meta graph.
pub(super) fn encode(m: &TfMetaGraph) -> Result<pb::MetaGraphDef> {
    let mut collections: BTreeMap<String, pb::CollectionDef> =
        m.collections.iter().map(|(k, c)| (k.clone(), collection_def(c.clone()))).collect();
    let bytes =
        |vars: &[TfVariable]| TfCollection::Bytes(vars.iter().map(|v| variable_def(v).encode_to_vec()).collect());
    let typed = [
        (VARIABLES, m.variables.is_empty(), bytes(&m.variables)),
        (TRAINABLE_VARIABLES, m.trainable_variables.is_empty(), bytes(&m.trainable_variables)),
        (TRAIN_OP, m.train_ops.is_empty(), TfCollection::Nodes(m.train_ops.clone())),
    ];
    for (name, empty, c) in typed {
        if !empty {
            collections.insert(name.into(), collection_def(c));
        }
    }
    Ok(pb::MetaGraphDef {
        meta_info_def: Some(pb::meta_graph_def::MetaInfoDef {
            tags: m.tags.clone(),
            tensorflow_version: m.tensorflow_version.clone(),
            ..Default::default()
        }),
        graph_def: Some(encode::graph(&m.graph)?),
        saver_def: m.saver.as_ref().map(saver_def),
        collection_def: collections,
        ..Default::default()
    })
}

fn collection(c: pb::CollectionDef) -> TfCollection {
    use pb::collection_def::Kind;
    match c.kind {
        None => TfCollection::Empty,
        Some(Kind::NodeList(l)) => TfCollection::Nodes(l.value),
        Some(Kind::BytesList(l)) => TfCollection::Bytes(l.value),
        Some(Kind::Int64List(l)) => TfCollection::Int64(l.value),
        Some(Kind::FloatList(l)) => TfCollection::Float(l.value),
        Some(Kind::AnyList(l)) => TfCollection::Any(l.value.into_iter().map(|a| (a.type_url, a.value)).collect()),
    }
}

fn collection_def(c: TfCollection) -> pb::CollectionDef {
    use pb::collection_def::*;
    let kind = match c {
        TfCollection::Empty => None,
        TfCollection::Nodes(value) => Some(Kind::NodeList(NodeList { value })),
        TfCollection::Bytes(value) => Some(Kind::BytesList(BytesList { value })),
        TfCollection::Int64(value) => Some(Kind::Int64List(Int64List { value })),
        TfCollection::Float(value) => Some(Kind::FloatList(FloatList { value })),
        TfCollection::Any(value) => {
            let value = value.into_iter().map(|(type_url, value)| prost_types::Any { type_url, value }).collect();
            Some(Kind::AnyList(AnyList { value }))
        }
    };
    pb::CollectionDef { kind }
}

fn variables(name: &str, c: &TfCollection, file: &str) -> Result<Vec<TfVariable>> {
    let items = match c {
        TfCollection::Empty => return Ok(Vec::new()),
        TfCollection::Bytes(items) => items,
        _ => return Err(Error::format(file, format!("collection '{name}' must hold serialized VariableDefs"))),
    };
    let decode_one = |(i, bytes): (usize, &Vec<u8>)| {
        let def = pb::VariableDef::decode(bytes.as_slice())
            .map_err(|e| Error::format(file, format!("collection '{name}' item {i}: {e}")))?;
        Ok(variable(def))
    };
    items.iter().enumerate().map(decode_one).collect()
}

fn variable(v: pb::VariableDef) -> TfVariable {
    let synchronization = pb::VariableSynchronization::try_from(v.synchronization)
        .map_or_else(|_| v.synchronization.to_string(), |s| s.as_str_name().to_string());
    let aggregation = pb::VariableAggregation::try_from(v.aggregation)
        .map_or_else(|_| v.aggregation.to_string(), |a| a.as_str_name().to_string());
    TfVariable {
        variable_name: v.variable_name,
        initial_value_name: v.initial_value_name,
        initializer_name: v.initializer_name,
        snapshot_name: v.snapshot_name,
        is_resource: v.is_resource,
        trainable: v.trainable,
        synchronization,
        aggregation,
        save_slice: v.save_slice_info_def.map(|s| TfSaveSlice {
            full_name: s.full_name,
            full_shape: s.full_shape,
            var_offset: s.var_offset,
            var_shape: s.var_shape,
        }),
    }
}

fn variable_def(v: &TfVariable) -> pb::VariableDef {
    let synchronization = pb::VariableSynchronization::from_str_name(&v.synchronization)
        .map_or_else(|| v.synchronization.parse().unwrap_or_default(), |s| s as i32);
    let aggregation = pb::VariableAggregation::from_str_name(&v.aggregation)
        .map_or_else(|| v.aggregation.parse().unwrap_or_default(), |a| a as i32);
    pb::VariableDef {
        variable_name: v.variable_name.clone(),
        initial_value_name: v.initial_value_name.clone(),
        initializer_name: v.initializer_name.clone(),
        snapshot_name: v.snapshot_name.clone(),
        save_slice_info_def: v.save_slice.as_ref().map(|s| pb::SaveSliceInfoDef {
            full_name: s.full_name.clone(),
            full_shape: s.full_shape.clone(),
            var_offset: s.var_offset.clone(),
            var_shape: s.var_shape.clone(),
        }),
        is_resource: v.is_resource,
        trainable: v.trainable,
        synchronization,
        aggregation,
    }
}

fn saver(s: pb::SaverDef) -> TfSaver {
    TfSaver {
        filename_tensor_name: s.filename_tensor_name,
        save_tensor_name: s.save_tensor_name,
        restore_op_name: s.restore_op_name,
        max_to_keep: s.max_to_keep,
        sharded: s.sharded,
        keep_checkpoint_every_n_hours: s.keep_checkpoint_every_n_hours,
        version: s.version,
    }
}

fn saver_def(s: &TfSaver) -> pb::SaverDef {
    pb::SaverDef {
        filename_tensor_name: s.filename_tensor_name.clone(),
        save_tensor_name: s.save_tensor_name.clone(),
        restore_op_name: s.restore_op_name.clone(),
        max_to_keep: s.max_to_keep,
        sharded: s.sharded,
        keep_checkpoint_every_n_hours: s.keep_checkpoint_every_n_hours,
        version: s.version,
    }
}
