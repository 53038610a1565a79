//! The CSV import format. (Placeholder API while it is being written: see the billing issue.)
use super::statement::{NewStatement, StatementError};
pub const ROWS_MAX: usize = 10_000;
pub const BYTES_MAX: usize = 5 * 1024 * 1024;
pub struct ImportedStatement { pub account_number: String, pub statement: NewStatement, pub rows: Vec<usize> }
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Row {row}: {reason}")]
pub struct RowError { pub row: usize, pub reason: String }
pub fn parse(_bytes: &[u8]) -> Result<Vec<ImportedStatement>, RowError> { Err(RowError { row: 1, reason: "not yet".into() }) }
pub fn statement_error_row(imported: &ImportedStatement, error: &StatementError) -> usize { error.line().map(|n| imported.rows[n - 1]).unwrap_or(imported.rows[0]) }
