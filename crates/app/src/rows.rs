//! The scaffold of every row-by-row import (the registry, evidence, past rounds, cleaner
//! production options): read an .xlsx or .csv file, find the columns by their headers in either
//! language, check each row, report every problem by line and field, and let the use case
//! write all rows in one transaction or none.

use std::collections::HashMap;

use cpaudit_core::registry::{FieldError, Message};
use cpaudit_office::{OfficeError, ReadLimits, Table, TableFormat};

use crate::registry::DocumentLanguage;
use crate::{Error, Result};

/// One column of an import file: the field, the headers accepted (the first is the Chinese
/// template header; the field name itself is the English one), and what it holds.
pub struct Column {
    pub field: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
    /// What the column holds, for the template's notes (zh, en).
    pub note: (&'static str, &'static str),
}

impl Column {
    /// The header as the template in `language` writes it.
    pub fn header(&self, language: DocumentLanguage) -> &'static str {
        language.pick(self.aliases[0], self.field)
    }
}

/// The header of the column a field error is about; a field that is no column names itself.
pub fn column_header(columns: &[Column], field: &str, language: DocumentLanguage) -> String {
    columns
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header(language).to_string())
        .unwrap_or_else(|| field.to_string())
}

/// A data row by field name.
#[derive(Debug)]
pub struct ImportRow {
    /// Line in the file (the header is line 1).
    pub line: usize,
    cells: HashMap<&'static str, String>,
}

impl ImportRow {
    /// The cell of `field`, trimmed; empty when the file has no such column.
    pub fn text(&self, field: &str) -> String {
        self.cells.get(field).cloned().unwrap_or_default()
    }
}

/// Reads an uploaded table; refuses a file of another kind or an unreadable one.
pub fn read_table(file_name: &str, bytes: &[u8]) -> Result<Table> {
    let format = TableFormat::from_file_name(file_name).ok_or_else(|| {
        Error::UnsupportedFormat(Message::new(
            format!("不支持的文件类型“{file_name}”：请上传 .xlsx 或 .csv 文件"),
            format!("unsupported file \"{file_name}\": upload an .xlsx or .csv file"),
        ))
    })?;
    cpaudit_office::read_table(bytes, format, &ReadLimits::default()).map_err(|error| {
        let message = Message::new(error.message_zh(), error.message_en());
        match error {
            OfficeError::NotWhatNameSays { .. } => Error::UnsupportedFormat(message),
            _ => Error::invalid("invalid_file", Some("file"), message),
        }
    })
}

/// Reads the file into rows by field; refuses a file of another kind, an unreadable one, or one
/// whose header lacks a required column.
pub fn read_rows(file_name: &str, bytes: &[u8], columns: &[Column]) -> Result<Vec<ImportRow>> {
    let table = read_table(file_name, bytes)?;
    let mut positions = Vec::new();
    let mut missing = Vec::new();
    for column in columns {
        match table.column(column.aliases) {
            Some(index) => positions.push((column.field, index)),
            None if column.required => missing.push(column.aliases[0]),
            None => {}
        }
    }
    if !missing.is_empty() {
        return Err(Error::invalid(
            "missing_column",
            Some("file"),
            Message::new(
                format!("表头缺少必需的列：{}", missing.join("、")),
                format!("the header lacks required columns: {}", missing.join(", ")),
            ),
        ));
    }
    Ok(table
        .rows
        .iter()
        .map(|row| ImportRow {
            line: row.line,
            cells: positions
                .iter()
                .map(|(field, index)| (*field, row.get(Some(*index)).trim().to_string()))
                .collect(),
        })
        .collect())
}

/// One refused cell of an import.
#[derive(Debug, Clone)]
pub struct RowProblem {
    /// Line in the file (the header is line 1).
    pub line: usize,
    /// The row's enterprise, in imports that name one.
    pub credit_code: Option<String>,
    pub error: FieldError,
}

/// The outcome of an all-or-nothing import.
#[derive(Debug, Clone)]
pub struct RowsReport {
    pub file_name: String,
    pub total_rows: usize,
    pub invalid_rows: usize,
    /// Rows written: all of them, or none when any row is invalid.
    pub written: usize,
    /// Every problem of every invalid row, in file order.
    pub problems: Vec<RowProblem>,
}

/// The rows of an import checked one by one: the valid items and every problem by line.
pub struct CheckedRows<T> {
    total_rows: usize,
    pub valid: Vec<T>,
    pub invalid_rows: usize,
    problems: Vec<RowProblem>,
}

impl<T> CheckedRows<T> {
    /// Checks each row with `check`, which reports a row's errors into the vector it is given
    /// and returns the row's item when the row is valid. `credit_code` names a row's enterprise
    /// in the report, in imports that have one.
    pub fn check(
        rows: &[ImportRow],
        credit_code: impl Fn(&ImportRow) -> Option<String>,
        mut check: impl FnMut(&ImportRow, &mut Vec<FieldError>) -> Option<T>,
    ) -> Self {
        let mut checked = CheckedRows {
            total_rows: rows.len(),
            valid: Vec::with_capacity(rows.len()),
            invalid_rows: 0,
            problems: Vec::new(),
        };
        for row in rows {
            let mut errors = Vec::new();
            let item = check(row, &mut errors);
            if errors.is_empty() {
                checked.valid.extend(item);
            } else {
                checked.invalid_rows += 1;
                let code = credit_code(row);
                checked
                    .problems
                    .extend(errors.into_iter().map(|error| RowProblem {
                        line: row.line,
                        credit_code: code.clone(),
                        error,
                    }));
            }
        }
        checked
    }

    /// Whether every row is valid, so that the import may write.
    pub fn all_valid(&self) -> bool {
        self.invalid_rows == 0
    }

    /// The report, with the rows written (none unless every row was valid).
    pub fn report(self, file_name: &str, written: usize) -> RowsReport {
        RowsReport {
            file_name: file_name.to_string(),
            total_rows: self.total_rows,
            invalid_rows: self.invalid_rows,
            written,
            problems: self.problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const COLUMNS: [Column; 2] = [
        Column {
            field: "code",
            aliases: &["编号", "code"],
            required: true,
            note: ("", ""),
        },
        Column {
            field: "note",
            aliases: &["说明", "note"],
            required: false,
            note: ("", ""),
        },
    ];

    #[test]
    fn columns_are_found_by_either_header_and_an_optional_one_may_be_missing() {
        let rows = read_rows("a.csv", "编号\nF-01\n F-02 \n".as_bytes(), &COLUMNS).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[1].line, rows[1].text("code")),
            (3, "F-02".to_string())
        );
        assert_eq!(rows[0].text("note"), "");
    }

    #[test]
    fn a_missing_required_column_or_a_file_of_another_kind_is_refused_naming_the_file() {
        let error = read_rows("a.csv", "说明\nx\n".as_bytes(), &COLUMNS).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Invalid);
        assert!(format!("{error:?}").contains("编号"), "{error:?}");
        let error = read_rows("a.pdf", b"%PDF", &COLUMNS).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnsupportedFormat);
    }

    #[test]
    fn every_problem_of_every_row_is_reported_and_only_valid_rows_are_kept() {
        let rows = read_rows("a.csv", "code,note\nF-01,\n,x\n,y\n".as_bytes(), &COLUMNS).unwrap();
        let checked = CheckedRows::check(
            &rows,
            |_| None,
            |row, errors| {
                if row.text("code").is_empty() {
                    errors.push(FieldError::new(
                        "code",
                        "required",
                        Message::new("必填", "required"),
                    ));
                }
                Some(row.text("code"))
            },
        );
        assert!(!checked.all_valid());
        assert_eq!(checked.valid, vec!["F-01".to_string()]);
        let report = checked.report("a.csv", 0);
        assert_eq!((report.total_rows, report.invalid_rows), (3, 2));
        let lines: Vec<usize> = report.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert_eq!(
            column_header(&COLUMNS, "code", DocumentLanguage::Zh),
            "编号"
        );
        assert_eq!(
            column_header(&COLUMNS, "other", DocumentLanguage::Zh),
            "other"
        );
    }
}
