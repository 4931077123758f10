//! The scaffold of every row-by-row import (evidence, past rounds, cleaner production options):
//! read an .xlsx or .csv file into rows by column, check each row, report every problem by line
//! and column, and let the caller write all rows in one transaction or none.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cpaudit_core::registry::{FieldError, Message};
use cpaudit_office::{Table, TableFormat};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorDetail};
use crate::i18n::Lang;

/// One column of an import file: the field, the headers accepted (the first is the Chinese
/// template header; the field name itself is the English one), and what it holds.
pub(crate) struct Column {
    pub field: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
    pub note: (&'static str, &'static str),
}

impl Column {
    /// The header as the template in `lang` writes it.
    pub fn header(&self, lang: Lang) -> &'static str {
        lang.pick(self.aliases[0], self.field)
    }
}

/// One refused cell of an import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowProblem {
    /// Line in the file (the header is line 1).
    pub line: usize,
    /// The row's enterprise, in imports that name one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<String>,
    /// The column's header as the template writes it in the caller's language.
    pub column: String,
    /// The column's field name, e.g. "observed_on".
    pub field: String,
    pub code: String,
    /// In the caller's language.
    pub message: String,
}

/// The outcome of an all-or-nothing import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowsReport {
    pub file_name: String,
    pub total_rows: usize,
    pub invalid_rows: usize,
    /// Rows written: all of them, or none when any row is invalid.
    pub written: usize,
    /// Every problem of every invalid row, in file order.
    pub problems: Vec<RowProblem>,
}

/// The 422 answer of an import with invalid rows: the error and the row-by-row report.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowsRefusal {
    pub error: ErrorDetail,
    pub report: RowsReport,
}

/// A data row by field name.
pub(crate) struct ImportRow {
    pub line: usize,
    cells: HashMap<&'static str, String>,
}

impl ImportRow {
    pub fn text(&self, field: &str) -> String {
        self.cells.get(field).cloned().unwrap_or_default()
    }
}

/// Reads the file into rows by field; refuses a file of another kind, an unreadable one, or one
/// whose header lacks a required column.
pub(crate) fn read_rows(
    file_name: &str,
    bytes: &[u8],
    columns: &[Column],
) -> Result<Vec<ImportRow>, AppError> {
    let format = TableFormat::from_file_name(file_name).ok_or_else(|| {
        AppError::UnsupportedMediaType(Message::new(
            format!("不支持的文件类型“{file_name}”：请上传 .xlsx 或 .csv 文件"),
            format!("unsupported file \"{file_name}\": upload an .xlsx or .csv file"),
        ))
    })?;
    let table: Table =
        cpaudit_office::read_table(bytes, format, &cpaudit_office::ReadLimits::default()).map_err(
            |error| {
                let message = Message::new(error.message_zh(), error.message_en());
                match error {
                    cpaudit_office::OfficeError::NotWhatNameSays { .. } => {
                        AppError::UnsupportedMediaType(message)
                    }
                    _ => AppError::bad_request("invalid_file", Some("file"), message),
                }
            },
        )?;
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
        return Err(AppError::bad_request(
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

/// The rows of an import checked one by one: the valid items and every problem by line.
pub(crate) struct CheckedRows<T> {
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
        columns: &[Column],
        lang: Lang,
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
                    .extend(errors.into_iter().map(|e| RowProblem {
                        line: row.line,
                        credit_code: code.clone(),
                        column: column_header(columns, &e.field, lang),
                        field: e.field,
                        code: e.code.to_string(),
                        message: lang.pick(&e.message.zh, &e.message.en).to_string(),
                    }));
            }
        }
        checked
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

/// The header of the column a field error is about; a field that is no column names itself.
fn column_header(columns: &[Column], field: &str, lang: Lang) -> String {
    columns
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header(lang).to_string())
        .unwrap_or_else(|| field.to_string())
}

/// The API's answer to an import: the report when every row was written, else 422 with the
/// row-by-row report.
pub(crate) fn api_answer(report: RowsReport, lang: Lang) -> Response {
    if report.invalid_rows == 0 {
        return Json(report).into_response();
    }
    let message = Message::new(
        format!("{} 行有错误，未写入任何数据", report.invalid_rows),
        format!(
            "{} rows are invalid; nothing was written",
            report.invalid_rows
        ),
    );
    let error = ErrorDetail {
        code: "invalid_rows".into(),
        message: lang.pick(&message.zh, &message.en).to_string(),
        field: Some("file".into()),
        details: Vec::new(),
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(RowsRefusal { error, report }),
    )
        .into_response()
}
