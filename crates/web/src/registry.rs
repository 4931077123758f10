//! Enterprise registry logic shared by the pages and the API: reading list filters, the
//! import pipeline (parse → map columns → validate → preview → commit) and exports.

use std::collections::HashMap;

use cpaudit_app::registry::{export_file, DocumentLanguage, COLUMNS};
use cpaudit_core::registry::{EnterpriseDraft, EnterpriseStatus, FieldError, Message, SizeClass};
use cpaudit_office::{Table, TableFormat};
use cpaudit_storage::enterprises::{EnterpriseFilter, SortKey, MAX_PER_PAGE};
use cpaudit_storage::Principal;
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

/// Yes/no as people type it in forms and spreadsheets.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" | "on" => Some(true),
        "false" | "0" | "no" | "n" | "否" | "" => Some(false),
        _ => None,
    }
}

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
    #[serde(skip)]
    #[schema(ignore)]
    pub draft: EnterpriseDraft,
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

/// Reads an uploaded file and checks every row, writing nothing.
pub async fn analyse_import(
    state: &AppState,
    principal: &Principal,
    file_name: &str,
    bytes: &[u8],
    lang: Lang,
) -> Result<(ImportReport, Vec<(usize, EnterpriseDraft)>), AppError> {
    let table = read_upload(file_name, bytes)?;
    let positions = map_columns(&table)?;
    let mut drafts = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let text = |field: &str| row.get(positions.get(field).copied()).trim().to_string();
        let mut errors = Vec::new();
        let key_emission_unit = match parse_bool(&text("key_emission_unit")) {
            Some(flag) => flag,
            None => {
                errors.push(FieldError::new(
                    "key_emission_unit",
                    "invalid_choice",
                    Message::new(
                        "重点排污单位应填“是”或“否”",
                        "key_emission_unit must be yes or no",
                    ),
                ));
                false
            }
        };
        let draft = EnterpriseDraft {
            name: text("name"),
            credit_code: text("credit_code"),
            legal_representative: text("legal_representative"),
            address: text("address"),
            jurisdiction_code: text("jurisdiction_code"),
            industry_code: text("industry_code"),
            size_class: text("size_class"),
            key_emission_unit,
            permit_number: text("permit_number"),
            status: text("status"),
        };
        drafts.push((row.line, draft, errors));
    }
    let report = check_rows(state, principal, file_name, drafts, lang).await?;
    let valid = report
        .rows
        .iter()
        .filter(|r| r.outcome != "invalid")
        .map(|r| (r.line, r.draft.clone()))
        .collect();
    Ok((report, valid))
}

/// Validates rows against the catalog, the caller's jurisdiction, each other (a credit code
/// twice in one file) and the registry (new or update).
async fn check_rows(
    state: &AppState,
    principal: &Principal,
    file_name: &str,
    drafts: Vec<(usize, EnterpriseDraft, Vec<FieldError>)>,
    lang: Lang,
) -> Result<ImportReport, AppError> {
    let mut validated = Vec::with_capacity(drafts.len());
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for (line, draft, mut errors) in drafts {
        let valid = match draft.validate(state.reference()) {
            Ok(valid) if errors.is_empty() => Some(valid),
            Ok(_) => None,
            Err(mut found) => {
                errors.append(&mut found);
                None
            }
        };
        if let Some(valid) = &valid {
            if !principal.scope().may_manage_city(&valid.jurisdiction_code) {
                errors.push(cpaudit_app::registry::outside_jurisdiction(
                    &valid.jurisdiction_code,
                ));
            }
            if let Some(first) = first_line_of.insert(valid.credit_code.as_str().to_string(), line)
            {
                errors.push(FieldError::new(
                    "credit_code",
                    "duplicate_in_file",
                    Message::new(
                        format!("与第 {first} 行的统一社会信用代码重复"),
                        format!("same credit code as line {first}"),
                    ),
                ));
            }
        }
        validated.push((line, draft, valid, errors));
    }
    let codes: Vec<String> = validated
        .iter()
        .filter_map(|(_, _, valid, _)| valid.as_ref().map(|v| v.credit_code.as_str().to_string()))
        .collect();
    let registered = state.db().registered_credit_codes(&codes).await?;
    let mut rows = Vec::with_capacity(validated.len());
    for (line, draft, valid, mut errors) in validated {
        let mut outcome = "new";
        if let Some(valid) = &valid {
            if let Some((_, city)) = registered.get(valid.credit_code.as_str()) {
                outcome = "update";
                if !principal.scope().may_manage_city(city) {
                    errors.push(FieldError::new(
                        "credit_code",
                        "registered_elsewhere",
                        Message::new(
                            "该统一社会信用代码已在其他市州登记",
                            "this credit code is registered in another jurisdiction",
                        ),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            outcome = "invalid";
        }
        rows.push(ImportRow {
            line,
            name: draft.name.clone(),
            credit_code: draft.credit_code.clone(),
            outcome: outcome.to_string(),
            errors: errors
                .iter()
                .map(|e| RowError {
                    field: e.field.clone(),
                    code: e.code.to_string(),
                    message: lang.pick(&e.message.zh, &e.message.en).to_string(),
                })
                .collect(),
            draft,
        });
    }
    let invalid_rows = rows.iter().filter(|r| r.outcome == "invalid").count();
    Ok(ImportReport {
        file_name: file_name.to_string(),
        total_rows: rows.len(),
        valid_rows: rows.len() - invalid_rows,
        invalid_rows,
        rows,
    })
}

fn read_upload(file_name: &str, bytes: &[u8]) -> Result<Table, AppError> {
    let format = TableFormat::from_file_name(file_name).ok_or_else(|| {
        AppError::UnsupportedMediaType(Message::new(
            format!("不支持的文件类型“{file_name}”：请上传 .xlsx 或 .csv 文件"),
            format!("unsupported file \"{file_name}\": upload an .xlsx or .csv file"),
        ))
    })?;
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
    )
}

fn map_columns(table: &Table) -> Result<HashMap<&'static str, usize>, AppError> {
    let mut positions = HashMap::new();
    let mut missing = Vec::new();
    for (field, aliases) in COLUMNS {
        match table.column(aliases) {
            Some(index) => {
                positions.insert(field, index);
            }
            // Optional columns may be left out.
            None if matches!(field, "permit_number" | "status" | "key_emission_unit") => {}
            None => missing.push(aliases[0]),
        }
    }
    if missing.is_empty() {
        Ok(positions)
    } else {
        Err(AppError::bad_request(
            "missing_column",
            Some("file"),
            Message::new(
                format!("第 1 行缺少必需的列：{}", missing.join("、")),
                format!("line 1 lacks required columns: {}", missing.join(", ")),
            ),
        ))
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
    let language = match caller.lang {
        Lang::Zh => DocumentLanguage::Zh,
        Lang::En => DocumentLanguage::En,
    };
    let file = export_file(&rows, language, format).map_err(|error| {
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
