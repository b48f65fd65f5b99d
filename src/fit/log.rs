//! CSV logs of a training run: a header, then one row per step or per epoch. A resumed run
//! keeps the rows up to its checkpoint and appends after them.

use crate::error::{Error, Result};
use crate::io::{read_text, write_atomic};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// A CSV log being written.
pub struct CsvLog {
    writer: csv::Writer<File>,
    path: PathBuf,
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::format(path.display().to_string(), e.to_string())
}

impl CsvLog {
    /// A new log with `header`, replacing any file at `path`.
    pub fn create(path: &Path, header: &[String]) -> Result<CsvLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut log = CsvLog { writer: csv::Writer::from_writer(file), path: path.to_path_buf() };
        log.writer.write_record(header).map_err(|e| csv_error(path, e))?;
        Ok(log)
    }

    /// Continues the log at `path`: keeps its rows whose column `key` is at most `upto` (the rows
    /// a checkpoint covers), then appends. Starts a new log when there is none, or when its
    /// header differs.
    pub fn resume(path: &Path, header: &[String], key: usize, upto: u64) -> Result<CsvLog> {
        let Ok(text) = read_text(path) else {
            return CsvLog::create(path, header);
        };
        let mut lines = text.lines();
        if lines.next() != Some(header.join(",").as_str()) {
            return CsvLog::create(path, header);
        }
        let mut kept = header.join(",");
        kept.push('\n');
        for line in lines {
            let k = line.split(',').nth(key).and_then(|v| v.parse::<u64>().ok());
            if k.is_some_and(|k| k <= upto) {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        write_atomic(path, kept.as_bytes())?;
        let file = OpenOptions::new().append(true).open(path).map_err(|e| Error::io(path, e))?;
        Ok(CsvLog { writer: csv::Writer::from_writer(file), path: path.to_path_buf() })
    }

    /// Appends a row.
    pub fn write(&mut self, row: &[String]) -> Result<()> {
        self.writer.write_record(row).map_err(|e| csv_error(&self.path, e))
    }

    /// Writes buffered rows to the file.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|e| Error::io(&self.path, e))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_keeps_the_rows_a_checkpoint_covers() {
        let dir = std::env::temp_dir().join(format!("stepflow-log-test-{}", std::process::id()));
        let path = dir.join("steps.csv");
        let header = vec!["step".to_string(), "loss".to_string()];
        let mut log = CsvLog::create(&path, &header).unwrap();
        for step in 1..=5u64 {
            log.write(&[step.to_string(), format!("{}", 1.0 / step as f64)]).unwrap();
        }
        log.flush().unwrap();
        let mut log = CsvLog::resume(&path, &header, 0, 3).unwrap();
        log.write(&["4".into(), "9".into()]).unwrap();
        log.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "step,loss\n1,1\n2,0.5\n3,0.3333333333333333\n4,9\n");
        let other = vec!["epoch".to_string()];
        CsvLog::resume(&path, &other, 0, 3).unwrap().flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "epoch\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
