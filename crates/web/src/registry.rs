//! Enterprise registry logic shared by the pages and the API: reading list filters, the
//! import pipeline (parse → map columns → validate → preview → commit) and exports.

use cpaudit_app::registry::export_file;
use cpaudit_app::registry_import::CheckedImport;
use cpaudit_core::registry::{EnterpriseStatus, Message, SizeClass};
use cpaudit_office::TableFormat;
use cpaudit_storage::enterprises::{EnterpriseFilter, SortKey, MAX_PER_PAGE};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;
use crate::i18n::Lang;
use crate::AppState;

/// The list's query string, as the page's filter form and the API send it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Any part of the name or the credit code (one Chinese character is enough).
    pub q: Option<String>,
    /// Jurisdiction code of a city-level unit, e.g. 620100.
    pub city: Option<String>,
    /// GB/T 4754-2017 industry code.
    pub industry: Option<String>,
    /// Key industry id.
    pub key_industry: Option<String>,
    /// large | medium | small | micro
    pub size: Option<String>,
    /// true | false
    pub key_emission_unit: Option<String>,
    /// active | closed
    pub status: Option<String>,
    /// name | credit_code | city | industry | updated
    pub sort: Option<String>,
    /// asc | desc
    pub order: Option<String>,
    /// 1-based page number.
    pub page: Option<String>,
    /// Rows per page, at most 200.
    pub per_page: Option<String>,
}

/// A query parameter that is absent or only spaces counts as not given.
pub(crate) fn blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A query parameter with a value outside what it allows.
pub(crate) fn invalid(field: &str, value: &str, allowed: &str) -> AppError {
    AppError::bad_request(
        "invalid_parameter",
        Some(field),
        Message::new(
            format!("参数 {field} 的值“{value}”无效，应为 {allowed}"),
            format!("parameter {field}: \"{value}\" is not valid; expected {allowed}"),
        ),
    )
}

impl ListQuery {
    /// Checks the query and turns it into a filter; a bad value names its parameter.
    pub fn to_filter(&self) -> Result<EnterpriseFilter, AppError> {
        let mut filter = EnterpriseFilter {
            q: blank(&self.q).map(str::to_string),
            city: blank(&self.city).map(str::to_string),
            industry: blank(&self.industry).map(str::to_string),
            key_industry: blank(&self.key_industry).map(str::to_string),
            ..EnterpriseFilter::default()
        };
        if let Some(size) = blank(&self.size) {
            filter.size = Some(
                SizeClass::parse(size)
                    .ok_or_else(|| invalid("size", size, "large|medium|small|micro"))?,
            );
        }
        if let Some(flag) = blank(&self.key_emission_unit) {
            filter.key_emission_unit = Some(
                parse_bool(flag).ok_or_else(|| invalid("key_emission_unit", flag, "true|false"))?,
            );
        }
        if let Some(status) = blank(&self.status) {
            filter.status = Some(
                EnterpriseStatus::parse(status)
                    .ok_or_else(|| invalid("status", status, "active|closed"))?,
            );
        }
        if let Some(sort) = blank(&self.sort) {
            filter.sort = SortKey::parse(sort)
                .ok_or_else(|| invalid("sort", sort, "name|credit_code|city|industry|updated"))?;
        }
        if let Some(order) = blank(&self.order) {
            filter.descending = match order {
                "asc" => false,
                "desc" => true,
                _ => return Err(invalid("order", order, "asc|desc")),
            };
        }
        if let Some(page) = blank(&self.page) {
            filter.page = page
                .parse()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| invalid("page", page, "1, 2, 3, …"))?;
        }
        if let Some(per_page) = blank(&self.per_page) {
            filter.per_page = per_page
                .parse()
                .ok()
                .filter(|p| (1..=MAX_PER_PAGE).contains(p))
                .ok_or_else(|| invalid("per_page", per_page, "1–200"))?;
        }
        if let Some(q) = &filter.q {
            if q.chars().count() > 100 {
                return Err(invalid("q", "…", "at most 100 characters"));
            }
        }
        Ok(filter)
    }

    /// The same query with another page (for pagination links).
    pub fn with_page(&self, page: u32) -> String {
        let mut query = self.clone();
        query.page = Some(page.to_string());
        serde_urlencoded::to_string(&query).unwrap_or_default()
    }

    /// The query string without paging (for export links).
    pub fn without_page(&self) -> String {
        let mut query = self.clone();
        query.page = None;
        query.per_page = None;
        serde_urlencoded::to_string(&query).unwrap_or_default()
    }
}

pub use cpaudit_app::input::parse_bool;

/// One row of an import, as previewed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportRow {
    /// Line in the file (the header is line 1).
    pub line: usize,
    pub name: String,
    pub credit_code: String,
    /// new | update | invalid
    pub outcome: String,
    /// Field errors of an invalid row, in the caller's language: "field: message".
    pub errors: Vec<RowError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// The row-by-row report of an import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub file_name: String,
    pub total_rows: usize,
    pub valid_rows: usize,
    pub invalid_rows: usize,
    pub rows: Vec<ImportRow>,
}

impl ImportReport {
    /// The checked file as the caller reads it: each error in the caller's language.
    pub fn shown(checked: CheckedImport, lang: Lang) -> Self {
        let invalid_rows = checked.invalid_rows();
        let rows: Vec<ImportRow> = checked
            .rows
            .into_iter()
            .map(|row| ImportRow {
                line: row.line,
                name: row.draft.name,
                credit_code: row.draft.credit_code,
                outcome: row.outcome.as_str().to_string(),
                errors: row
                    .errors
                    .iter()
                    .map(|e| RowError {
                        field: e.field.clone(),
                        code: e.code.to_string(),
                        message: lang.pick(&e.message.zh, &e.message.en).to_string(),
                    })
                    .collect(),
            })
            .collect();
        ImportReport {
            file_name: checked.file_name,
            total_rows: rows.len(),
            valid_rows: rows.len() - invalid_rows,
            invalid_rows,
            rows,
        }
    }
}

/// The filtered list as a downloadable file, for the page and the API alike.
pub async fn export_response(
    state: &AppState,
    caller: &crate::auth::Caller,
    query: &ListQuery,
    format: TableFormat,
) -> Result<axum::response::Response, AppError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let principal = caller.principal()?;
    let filter = query.to_filter()?;
    let rows = state
        .db()
        .export_enterprises(principal.scope(), &filter)
        .await?;
    let file = export_file(&rows, caller.lang.document_language(), format).map_err(|error| {
        tracing::error!(%error, "xlsx export failed");
        AppError::Internal
    })?;
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file.bytes,
    )
        .into_response())
}
