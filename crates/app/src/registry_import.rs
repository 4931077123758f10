//! Importing enterprises from an .xlsx or .csv file: read, find the columns by their headers in
//! either language, check every row against the catalog, the caller's jurisdiction, the file's
//! other rows and the registry (new or update), then write. The page shows the check as a
//! preview and keeps the valid rows until the user confirms; the API checks and writes in one
//! call.

use std::collections::HashMap;

use cpaudit_core::registry::{EnterpriseDraft, FieldError, Message};
use cpaudit_office::Table;
use cpaudit_storage::enterprises::ImportOutcome;
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};

use crate::input::parse_bool;
use crate::registry::{import, outside_jurisdiction, COLUMNS};
use crate::rows::read_table;
use crate::{App, Error, Result};

/// The columns a file may leave out.
const OPTIONAL_COLUMNS: [&str; 3] = ["permit_number", "status", "key_emission_unit"];

/// What a checked row would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    New,
    Update,
    Invalid,
}

impl RowOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RowOutcome::New => "new",
            RowOutcome::Update => "update",
            RowOutcome::Invalid => "invalid",
        }
    }
}

/// One row of the file, checked.
#[derive(Debug, Clone)]
pub struct CheckedEnterprise {
    /// Line in the file (the header is line 1).
    pub line: usize,
    pub draft: EnterpriseDraft,
    pub outcome: RowOutcome,
    /// Why the row is invalid; empty otherwise.
    pub errors: Vec<FieldError>,
}

/// A file's rows, checked; nothing is written.
#[derive(Debug, Clone)]
pub struct CheckedImport {
    pub file_name: String,
    pub rows: Vec<CheckedEnterprise>,
}

impl CheckedImport {
    pub fn invalid_rows(&self) -> usize {
        self.rows
            .iter()
            .filter(|row| row.outcome == RowOutcome::Invalid)
            .count()
    }

    /// The valid rows by line, as the write takes them.
    pub fn valid_drafts(&self) -> Vec<(usize, EnterpriseDraft)> {
        self.rows
            .iter()
            .filter(|row| row.outcome != RowOutcome::Invalid)
            .map(|row| (row.line, row.draft.clone()))
            .collect()
    }
}

/// Whether a file with invalid rows is written at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Every row or none.
    All,
    /// The valid rows; the invalid ones are left out.
    ValidOnly,
}

impl ImportMode {
    /// `all` or `valid_only`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "all" => Ok(ImportMode::All),
            "valid_only" => Ok(ImportMode::ValidOnly),
            _ => Err(Error::bad_field(
                "mode",
                "invalid_parameter",
                "mode 应为 all 或 valid_only",
                "mode must be all or valid_only",
            )),
        }
    }
}

/// Reads an uploaded file and checks every row, writing nothing.
pub async fn check_file(
    app: &App,
    principal: &Principal,
    file_name: &str,
    bytes: &[u8],
) -> Result<CheckedImport> {
    let table = read_table(file_name, bytes)?;
    let positions = map_columns(&table)?;
    let drafts = table
        .rows
        .iter()
        .map(|row| {
            let text = |field: &str| row.get(positions.get(field).copied()).trim().to_string();
            row_draft(row.line, text)
        })
        .collect();
    Ok(CheckedImport {
        file_name: file_name.to_string(),
        rows: check_rows(app, principal, drafts).await?,
    })
}

/// Writes the checked file as `mode` allows: `None` when it has invalid rows and every row was
/// asked for, so nothing is written.
pub async fn write(
    app: &App,
    principal: &Principal,
    checked: &CheckedImport,
    mode: ImportMode,
) -> Result<Option<ImportOutcome>> {
    if checked.invalid_rows() > 0 && mode == ImportMode::All {
        return Ok(None);
    }
    import(app, principal, &checked.valid_drafts())
        .await
        .map(Some)
}

/// What a staged import keeps between the preview and the confirmation.
#[derive(Serialize, Deserialize)]
struct StagedImport {
    invalid_rows: usize,
    rows: Vec<(usize, EnterpriseDraft)>,
}

/// Keeps the valid rows of a checked file for the user to confirm after the preview; `None`
/// when no row is valid.
pub async fn stage(
    app: &App,
    principal: &Principal,
    checked: &CheckedImport,
) -> Result<Option<String>> {
    let staged = StagedImport {
        invalid_rows: checked.invalid_rows(),
        rows: checked.valid_drafts(),
    };
    if staged.rows.is_empty() {
        return Ok(None);
    }
    let payload = serde_json::to_string(&staged)
        .map_err(|error| Error::Internal(format!("staging an import: {error}")))?;
    Ok(Some(
        app.db()
            .stage_import(principal, &checked.file_name, &payload, app.now())
            .await?,
    ))
}

/// Writes a staged import the user confirmed, once: `None` when it has invalid rows and every
/// row was asked for, so nothing is written (and the file must be uploaded again).
pub async fn confirm(
    app: &App,
    principal: &Principal,
    staged_id: &str,
    mode: ImportMode,
) -> Result<Option<ImportOutcome>> {
    let (_, payload) = app
        .db()
        .take_staged_import(principal, staged_id)
        .await?
        .ok_or(Error::NotFound)?;
    let staged: StagedImport = serde_json::from_str(&payload)
        .map_err(|error| Error::Internal(format!("reading a staged import: {error}")))?;
    if staged.invalid_rows > 0 && mode == ImportMode::All {
        return Ok(None);
    }
    import(app, principal, &staged.rows).await.map(Some)
}

/// A row's draft and the errors found before validation (a yes/no that is neither).
fn row_draft(
    line: usize,
    text: impl Fn(&str) -> String,
) -> (usize, EnterpriseDraft, Vec<FieldError>) {
    let mut errors = Vec::new();
    let key_emission_unit = parse_bool(&text("key_emission_unit")).unwrap_or_else(|| {
        errors.push(FieldError::new(
            "key_emission_unit",
            "invalid_choice",
            Message::new(
                "重点排污单位应填“是”或“否”",
                "key_emission_unit must be yes or no",
            ),
        ));
        false
    });
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
    (line, draft, errors)
}

/// Validates rows against the catalog, the caller's jurisdiction, each other (a credit code
/// twice in one file) and the registry (new or update).
async fn check_rows(
    app: &App,
    principal: &Principal,
    drafts: Vec<(usize, EnterpriseDraft, Vec<FieldError>)>,
) -> Result<Vec<CheckedEnterprise>> {
    let mut validated = Vec::with_capacity(drafts.len());
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for (line, draft, mut errors) in drafts {
        let valid = match draft.validate(app.reference()) {
            Ok(valid) if errors.is_empty() => Some(valid),
            Ok(_) => None,
            Err(mut found) => {
                errors.append(&mut found);
                None
            }
        };
        if let Some(valid) = &valid {
            if !principal.scope().may_manage_city(&valid.jurisdiction_code) {
                errors.push(outside_jurisdiction(&valid.jurisdiction_code));
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
    let registered = app.db().registered_credit_codes(&codes).await?;
    let mut rows = Vec::with_capacity(validated.len());
    for (line, draft, valid, mut errors) in validated {
        let mut outcome = RowOutcome::New;
        if let Some(valid) = &valid {
            if let Some((_, city)) = registered.get(valid.credit_code.as_str()) {
                outcome = RowOutcome::Update;
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
            outcome = RowOutcome::Invalid;
        }
        rows.push(CheckedEnterprise {
            line,
            draft,
            outcome,
            errors,
        });
    }
    Ok(rows)
}

/// Where each column is in the file; a required column that is missing refuses the file.
fn map_columns(table: &Table) -> Result<HashMap<&'static str, usize>> {
    let mut positions = HashMap::new();
    let mut missing = Vec::new();
    for (field, aliases) in COLUMNS {
        match table.column(aliases) {
            Some(index) => {
                positions.insert(field, index);
            }
            None if OPTIONAL_COLUMNS.contains(&field) => {}
            None => missing.push(aliases[0]),
        }
    }
    if missing.is_empty() {
        Ok(positions)
    } else {
        Err(Error::invalid(
            "missing_column",
            Some("file"),
            Message::new(
                format!("第 1 行缺少必需的列：{}", missing.join("、")),
                format!("line 1 lacks required columns: {}", missing.join(", ")),
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_is_all_or_valid_only_and_anything_else_names_the_field() {
        assert_eq!(ImportMode::parse("all").unwrap(), ImportMode::All);
        assert_eq!(
            ImportMode::parse("valid_only").unwrap(),
            ImportMode::ValidOnly
        );
        let error = ImportMode::parse("some").unwrap_err();
        assert!(matches!(error, Error::Invalid { field: Some(ref f), .. } if f == "mode"));
    }

    #[test]
    fn a_yes_no_cell_that_is_neither_is_an_error_of_its_field() {
        let (line, draft, errors) = row_draft(7, |field| match field {
            "key_emission_unit" => "maybe".into(),
            "name" => "兰州某公司".into(),
            _ => String::new(),
        });
        assert_eq!((line, draft.name.as_str()), (7, "兰州某公司"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "key_emission_unit");
    }
}
