//! Reading event files back (TF1's `tf.train.summary_iterator`): every record's CRCs checked,
//! every event decoded.

use super::proto::Event;
use super::record::Records;
use crate::error::{Error, Result};
use crate::io::read_bytes;
use prost::Message;
use std::path::{Path, PathBuf};

/// The events of an event file's bytes; `file` names it in errors. A bad record (its CRCs, its
/// length) or a record that is not an `Event` is an error naming the file and the record.
///
/// ```
/// use prost::Message;
/// use stepflow::summary::{decode_events, proto::Event, write_record};
/// let mut file = Vec::new();
/// write_record(&mut file, &Event { step: 7, ..Event::default() }.encode_to_vec())?;
/// assert_eq!(decode_events(&file, "inline")?[0].step, 7);
/// file[17] ^= 1; // a bit of the data's CRC (the record's last byte)
/// assert!(decode_events(&file, "inline").unwrap_err().to_string().contains("CRC does not match"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_events(bytes: &[u8], file: &str) -> Result<Vec<Event>> {
    Records::new(bytes, file)
        .enumerate()
        .map(|(i, record)| {
            Event::decode(record?).map_err(|e| Error::format(file, format!("record {i} is not an Event: {e}")))
        })
        .collect()
}

/// The events of the event file at `path`.
pub fn read_events(path: impl AsRef<Path>) -> Result<Vec<Event>> {
    let path = path.as_ref();
    decode_events(&read_bytes(path)?, &path.display().to_string())
}

/// The event files of a log directory (names holding `tfevents`, as TensorBoard looks for), in
/// the order TensorBoard reads them: by name, so by creation time.
pub fn event_files(logdir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let dir = logdir.as_ref();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().contains("tfevents")) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
