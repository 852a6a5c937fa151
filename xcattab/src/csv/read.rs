//! The `tabrestore` reader. (Placeholder interface: filled in by the CSV reader work.)

use crate::table::Table;

/// One data record of a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// tabrestore's line number of the record: 0-based index of the data line after the
    /// header, continuation lines of multi-line values counted.
    pub line: usize,
    /// Fields aligned with the header: `None` = empty field (NULL), `Some("")` = `""`.
    pub fields: Vec<Option<String>>,
}

/// A parsed CSV file: its header columns and records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CsvFile {
    /// Column names from the header line, in file order.
    pub header: Vec<String>,
    /// The records, in file order.
    pub records: Vec<CsvRecord>,
}

/// One tabrestore diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// The first line does not start with `#`.
    #[error("Data missing header line starting with #")]
    MissingHeader,
}

/// Every diagnostic of one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct CsvErrors {
    /// The diagnostics.
    pub errors: Vec<CsvError>,
}

/// Parses a file leniently (any column names).
pub fn parse(_text: &str) -> Result<CsvFile, CsvErrors> {
    Err(CsvErrors {
        errors: vec![CsvError::MissingHeader],
    })
}

/// Restores `text` into `table` with tabrestore's rules.
pub fn restore_into(_table: &mut Table, _text: &str, _append: bool) -> Result<(), CsvErrors> {
    Err(CsvErrors {
        errors: vec![CsvError::MissingHeader],
    })
}
