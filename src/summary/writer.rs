//! [`FileWriter`]: TF1's `tf.summary.FileWriter`, one event file in a log directory.

use super::proto::{Event, SessionLog, Summary, event::What, session_log::SessionStatus};
use super::record::write_record;
use super::values::{histogram, scalar};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::io::tf::Form;
use crate::tensor::Tensor;
use prost::Message;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The version the first event of every file declares, as TensorFlow's writers do.
pub const FILE_VERSION: &str = "brain.Event:2";

/// How long events may wait in memory before they are written out (TF1's `flush_secs`).
const FLUSH_EVERY: Duration = Duration::from_secs(120);

/// Writes an event file, `events.out.tfevents.<unix time>.<host>` in a log directory, that
/// TensorBoard reads (TF1's `tf.summary.FileWriter`). Events are buffered, and written out by
/// [`flush`](Self::flush), every two minutes, and when the writer is dropped.
///
/// The TF1 pattern `writer.add_summary(sess.run(merged), step)` is
/// [`add_summary`](Self::add_summary) with the serialized `Summary`:
///
/// ```
/// use prost::Message;
/// use stepflow::summary::{FileWriter, read_events, scalar};
/// use stepflow::Graph;
/// let dir = std::env::temp_dir().join(format!("stepflow-writer-doc-{}", std::process::id()));
/// let mut writer = FileWriter::new(&dir)?;
/// writer.add_graph(&Graph::new())?;
/// writer.add_summary(&scalar("accuracy", 0.9).encode_to_vec(), 10)?;
/// writer.flush()?;
/// let name = writer.path().file_name().unwrap().to_string_lossy().into_owned();
/// assert!(name.starts_with("events.out.tfevents."));
/// let events = read_events(writer.path())?;
/// assert_eq!((events.len(), events[2].step), (3, 10));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), stepflow::Error>(())
/// ```
pub struct FileWriter {
    file: BufWriter<File>,
    path: PathBuf,
    flushed: Instant,
}

/// Seconds since the Unix epoch, as an event's `wall_time`.
fn wall_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A new file in `dir` named as TF names it; a second writer in the same second gets a `.1`,
/// `.2`, ... suffix rather than overwriting the first one's file.
fn create_event_file(dir: &Path) -> Result<(File, PathBuf)> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let base = format!("events.out.tfevents.{secs:010}.{host}");
    for n in 0u32.. {
        let name = if n == 0 { base.clone() } else { format!("{base}.{n}") };
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    Err(Error::format(dir.display().to_string(), "no free event file name"))
}

impl FileWriter {
    /// A writer of a new event file in `logdir` (created if missing), whose first event gives the
    /// file version.
    pub fn new(logdir: impl AsRef<Path>) -> Result<FileWriter> {
        let dir = logdir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (file, path) = create_event_file(dir)?;
        let mut w = FileWriter { file: BufWriter::new(file), path, flushed: Instant::now() };
        w.add_event(Event { what: Some(What::FileVersion(FILE_VERSION.into())), ..Event::default() })?;
        w.flush()?;
        Ok(w)
    }

    /// The event file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `event`, stamping its wall time when it has none.
    pub fn add_event(&mut self, mut event: Event) -> Result<()> {
        if event.wall_time == 0.0 {
            event.wall_time = wall_time();
        }
        write_record(&mut self.file, &event.encode_to_vec()).map_err(|e| Error::io(&self.path, e))?;
        if self.flushed.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes a serialized `Summary` (what a summary op's tensor holds) at `step`; bytes that are
    /// not a `Summary` are an error.
    pub fn add_summary(&mut self, summary: &[u8], step: i64) -> Result<()> {
        let summary = Summary::decode(summary)
            .map_err(|e| Error::argument("add_summary", "summary", format!("is not a serialized Summary: {e}")))?;
        self.add_summary_proto(summary, step)
    }

    /// Writes the serialized `Summary` a summary op's string scalar holds (what `Session::run` of
    /// a `MergeSummary` gives) at `step`; see
    /// [`Graph::merge_all_summaries`](crate::Graph::merge_all_summaries).
    pub fn add_summary_tensor(&mut self, summary: &Tensor, step: i64) -> Result<()> {
        let bytes =
            summary.scalar_bytes().map_err(|e| Error::argument("add_summary_tensor", "summary", e.to_string()))?;
        self.add_summary(&bytes, step)
    }

    /// Writes a `Summary` at `step`.
    pub fn add_summary_proto(&mut self, summary: Summary, step: i64) -> Result<()> {
        self.add_event(Event { step, what: Some(What::Summary(summary)), ..Event::default() })
    }

    /// Writes the scalar `value` under `tag` at `step` (TensorBoard's Scalars tab).
    pub fn add_scalar(&mut self, tag: &str, value: f64, step: i64) -> Result<()> {
        self.add_summary_proto(scalar(tag, value), step)
    }

    /// Writes the histogram of `values` under `tag` at `step` (TensorBoard's Histograms and
    /// Distributions tabs); a NaN or infinite value is an error naming the tag.
    pub fn add_histogram(&mut self, tag: &str, values: &[f64], step: i64) -> Result<()> {
        self.add_summary_proto(histogram(tag, values.iter().copied())?, step)
    }

    /// Writes `graph` as the GraphDef [`Graph::to_tf`] exports (TensorBoard's Graphs tab).
    pub fn add_graph(&mut self, graph: &Graph) -> Result<()> {
        let graph_def = graph.to_tf()?.encode(Form::Binary)?;
        self.add_event(Event { what: Some(What::GraphDef(graph_def)), ..Event::default() })
    }

    /// Writes a session start at `step`: TensorBoard then drops the events at and past `step`
    /// that earlier files in the directory hold, as when TF1's Supervisor restarts from a
    /// checkpoint.
    pub fn add_session_start(&mut self, step: i64) -> Result<()> {
        let log = SessionLog { status: SessionStatus::Start.into(), ..SessionLog::default() };
        self.add_event(Event { step, what: Some(What::SessionLog(log)), ..Event::default() })
    }

    /// Writes the buffered events to the file.
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| Error::io(&self.path, e))?;
        self.flushed = Instant::now();
        Ok(())
    }
}
