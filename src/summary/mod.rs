//! TensorBoard's event files, written and read: TF1's `tf.summary.FileWriter` as [`FileWriter`],
//! the `Summary` protos of scalars and histograms ([`scalar`], [`histogram`]), and a reader that
//! checks every record ([`read_events`]).
//!
//! An event file is a TFRecord file ([`Records`], [`write_record`]) of `Event` protos
//! ([`proto::Event`]): the first says `file_version: "brain.Event:2"`, later ones carry a
//! summary, a graph or a session status, each with its wall time and step.
//!
//! ```
//! use stepflow::summary::{FileWriter, read_events, proto::event::What};
//! let dir = std::env::temp_dir().join(format!("stepflow-summary-doc-{}", std::process::id()));
//! let mut writer = FileWriter::new(&dir)?;
//! for step in 1..=3 {
//!     writer.add_scalar("loss", 1.0 / step as f64, step)?;
//! }
//! writer.add_histogram("weights", &[0.5, -0.25, 1.0], 3)?;
//! writer.flush()?;
//! let events = read_events(writer.path())?;
//! assert!(matches!(&events[0].what, Some(What::FileVersion(v)) if v == "brain.Event:2"));
//! let tags: Vec<String> = events.iter().filter_map(|e| match &e.what {
//!     Some(What::Summary(s)) => Some(s.value[0].tag.clone()),
//!     _ => None,
//! }).collect();
//! assert_eq!(tags, ["loss", "loss", "loss", "weights"]);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), stepflow::Error>(())
//! ```

mod histogram;
mod reader;
mod record;
mod values;
mod writer;

pub use histogram::{Histogram, default_bucket_limits};
pub use reader::{decode_events, event_files, read_events};
pub use record::{RECORD_OVERHEAD, Records, masked_crc32c, write_record};
pub use values::{histogram, scalar};
pub use writer::{FILE_VERSION, FileWriter};

/// TensorFlow's messages of event files (`event.proto`, `summary.proto`) as prost types: encode
/// one with [`prost::Message::encode_to_vec`], decode one with [`prost::Message::decode`].
pub mod proto {
    pub use crate::io::tf::proto::generated::{
        Event, HistogramProto, LogMessage, SessionLog, SourceMetadata, Summary, SummaryMetadata, TaggedRunMetadata,
        event, log_message, session_log, summary, summary_metadata,
    };
}
