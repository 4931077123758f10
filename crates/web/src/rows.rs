//! The report of a row-by-row import (evidence, past rounds, cleaner production options) as the
//! pages and the API show it; reading and checking the rows is the application layer's.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cpaudit_app::rows::{self, Column};
use cpaudit_core::registry::Message;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorDetail;
use crate::i18n::Lang;

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

impl RowsReport {
    /// The report of an import as the caller reads it: each problem under its column's header
    /// and in the caller's language.
    pub(crate) fn shown(report: rows::RowsReport, columns: &[Column], lang: Lang) -> Self {
        let language = lang.document_language();
        RowsReport {
            file_name: report.file_name,
            total_rows: report.total_rows,
            invalid_rows: report.invalid_rows,
            written: report.written,
            problems: report
                .problems
                .into_iter()
                .map(|problem| RowProblem {
                    line: problem.line,
                    credit_code: problem.credit_code,
                    column: rows::column_header(columns, &problem.error.field, language),
                    field: problem.error.field,
                    code: problem.error.code.to_string(),
                    message: lang
                        .pick(&problem.error.message.zh, &problem.error.message.en)
                        .to_string(),
                })
                .collect(),
        }
    }
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
