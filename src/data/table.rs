//! A numeric CSV table: a header and rows of numbers, with errors that name the file, the row
//! and the column.

use crate::error::{Error, Result};
use std::path::Path;

/// A table of numbers read from a CSV file with a header line.
///
/// ```
/// use stepflow::data::Table;
/// let t = Table::from_csv_text("a,b\n1,2\n3,4.5\n", "inline")?;
/// assert_eq!(t.header, vec!["a", "b"]);
/// assert_eq!(t.column("b")?, 1);
/// assert_eq!(t.rows[1], vec![3.0, 4.5]);
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// Reads a CSV file.
    pub fn from_csv(path: impl AsRef<Path>) -> Result<Table> {
        let path = path.as_ref();
        let text = crate::io::read_text(path)?;
        Table::from_csv_text(&text, &path.display().to_string())
    }

    /// Parses CSV text; `file` names it in errors. Every row must have the header's number of
    /// columns, and every cell must be a number.
    pub fn from_csv_text(text: &str, file: &str) -> Result<Table> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header: Vec<String> =
            reader.headers().map_err(|e| Error::format(file, e.to_string()))?.iter().map(str::to_string).collect();
        if header.is_empty() || header.iter().all(String::is_empty) {
            return Err(Error::format(file, "no header line"));
        }
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| Error::format(file, format!("line {line}: {e}")))?;
            if record.len() != header.len() {
                let msg = format!("line {line} has {} columns, the header has {}", record.len(), header.len());
                return Err(Error::format(file, msg));
            }
            let row = record
                .iter()
                .zip(&header)
                .map(|(cell, col)| {
                    cell.parse::<f64>().map_err(|_| {
                        Error::format(file, format!("line {line}, column '{col}': '{cell}' is not a number"))
                    })
                })
                .collect::<Result<Vec<f64>>>()?;
            rows.push(row);
        }
        if rows.is_empty() {
            return Err(Error::format(file, "no data rows"));
        }
        Ok(Table { header, rows })
    }

    /// The index of a column by name.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            Error::argument("data", name, format!("is not a column (columns: {})", summarize(&self.header)))
        })
    }
}

fn summarize(names: &[String]) -> String {
    if names.len() <= 8 {
        names.join(", ")
    } else {
        format!("{}, ..., {}", names[..3].join(", "), names[names.len() - 2..].join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_tables_name_the_line_and_column() {
        let e = Table::from_csv_text("a,b\n1,2\n3\n", "t.csv").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 3 has 1 columns, the header has 2");
        let e = Table::from_csv_text("a,b\n1,x\n", "t.csv").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2, column 'b': 'x' is not a number");
        assert!(Table::from_csv_text("a,b\n", "t.csv").is_err());
        assert!(Table::from_csv_text("a,b\n1,2\n", "t.csv").unwrap().column("c").is_err());
    }
}
