//! The enterprise registry's use cases that do not depend on who shows the result: the scoped
//! read of an enterprise, registering, changing and importing enterprises, and the file an
//! export produces (the pages, the API and `cpaudit export` write the same file).

use cpaudit_core::registry::{EnterpriseDraft, FieldError, Message, ValidEnterprise};
use cpaudit_office::{Cell, OfficeError, SheetSpec, TableFormat};
use cpaudit_storage::enterprises::{EnterpriseRow, ImportOutcome};
use cpaudit_storage::{InScope, Principal, Scope};

use crate::{App, Error, Result};

/// The language a produced file is written in: its header row, its labels, its sheet name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DocumentLanguage {
    #[default]
    Zh,
    En,
}

impl DocumentLanguage {
    /// `zh` or `en`.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "zh" => Some(DocumentLanguage::Zh),
            "en" => Some(DocumentLanguage::En),
            _ => None,
        }
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            DocumentLanguage::Zh => zh,
            DocumentLanguage::En => en,
        }
    }
}

/// The import/export columns: the field, then the header names accepted (the first of each
/// language is what exports write).
pub const COLUMNS: [(&str, &[&str]); 10] = [
    ("name", &["企业名称", "name", "名称"]),
    (
        "credit_code",
        &["统一社会信用代码", "credit_code", "信用代码"],
    ),
    (
        "legal_representative",
        &["法定代表人", "legal_representative"],
    ),
    ("address", &["地址", "address", "企业地址"]),
    (
        "jurisdiction_code",
        &["市州代码", "jurisdiction_code", "所属市州代码"],
    ),
    ("industry_code", &["行业代码", "industry_code"]),
    ("size_class", &["企业规模", "size_class", "规模"]),
    ("key_emission_unit", &["重点排污单位", "key_emission_unit"]),
    (
        "permit_number",
        &["排污许可证编号", "permit_number", "许可证编号"],
    ),
    ("status", &["状态", "status"]),
];

/// The export's header row in the file's language; an export can be imported again as is.
fn export_headers(language: DocumentLanguage) -> Vec<&'static str> {
    let mut headers: Vec<&'static str> = COLUMNS
        .iter()
        .map(|(field, aliases)| match language {
            DocumentLanguage::Zh => aliases[0],
            DocumentLanguage::En => field,
        })
        .collect();
    headers.extend(match language {
        DocumentLanguage::Zh => ["市州名称", "行业名称", "重点行业", "更新时间"],
        DocumentLanguage::En => ["city_name", "industry_name", "key_industry", "updated_at"],
    });
    headers
}

fn export_cells(row: &EnterpriseRow, language: DocumentLanguage) -> Vec<Cell> {
    let text = |s: &str| Cell::Text(s.to_string());
    let size = language
        .pick(row.size_class.name_zh(), row.size_class.as_str())
        .to_string();
    vec![
        text(&row.name),
        text(&row.credit_code),
        text(&row.legal_representative),
        text(&row.address),
        text(&row.jurisdiction_code),
        text(&row.industry_code),
        Cell::Text(size),
        text(language.pick(
            if row.key_emission_unit { "是" } else { "否" },
            if row.key_emission_unit { "yes" } else { "no" },
        )),
        text(row.permit_number.as_deref().unwrap_or("")),
        text(row.status.as_str()),
        text(language.pick(&row.jurisdiction_name_zh, &row.jurisdiction_name_en)),
        text(language.pick(&row.industry_name_zh, &row.industry_name_en)),
        text(
            row.key_industry_name_zh
                .as_deref()
                .map(|zh| language.pick(zh, row.key_industry_name_en.as_deref().unwrap_or(zh)))
                .unwrap_or(""),
        ),
        text(&row.updated_at),
    ]
}

/// An exported file, ready to download or to write to disk.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
}

/// The registry rows (as the caller's scope and filter selected them) as an .xlsx or .csv file.
/// Writing fails only when the rows exceed what a worksheet holds; that is the system's fault,
/// not the caller's, so it is returned as the writer reported it.
pub fn export_file(
    rows: &[EnterpriseRow],
    language: DocumentLanguage,
    format: TableFormat,
) -> Result<ExportFile, OfficeError> {
    let headers = export_headers(language);
    let cells: Vec<Vec<Cell>> = rows.iter().map(|row| export_cells(row, language)).collect();
    let bytes = match format {
        TableFormat::Xlsx => cpaudit_office::write_xlsx(
            &SheetSpec {
                name: language.pick("企业名录", "Enterprises"),
                headers: &headers,
                column_widths: None,
            },
            &cells,
        )?,
        TableFormat::Csv => cpaudit_office::write_csv(&headers, &cells),
    };
    Ok(ExportFile {
        bytes,
        content_type: format.content_type(),
        file_name: format!("enterprises.{}", format.extension()),
    })
}

/// An enterprise the caller may see, as the capability its evidence, listings, monitoring and
/// engagements are read and written through; "not found" outside the scope.
pub async fn enterprise_in_scope(
    app: &App,
    scope: &Scope,
    id: i64,
) -> Result<InScope<EnterpriseRow>> {
    app.db()
        .get_enterprise(scope, id)
        .await?
        .ok_or(Error::NotFound)
}

/// A city official registers and edits only enterprises of its own city.
pub fn check_jurisdiction(
    principal: &Principal,
    enterprise: &ValidEnterprise,
) -> std::result::Result<(), FieldError> {
    if principal
        .scope()
        .may_manage_city(&enterprise.jurisdiction_code)
    {
        Ok(())
    } else {
        Err(outside_jurisdiction(&enterprise.jurisdiction_code))
    }
}

/// The fault of a row naming a city outside the caller's own.
pub fn outside_jurisdiction(code: &str) -> FieldError {
    FieldError::new(
        "jurisdiction_code",
        "outside_jurisdiction",
        Message::new(
            format!("市州代码 {code} 不在您的管辖范围内"),
            format!("jurisdiction {code} is outside your jurisdiction"),
        ),
    )
}

fn checked(app: &App, principal: &Principal, draft: &EnterpriseDraft) -> Result<ValidEnterprise> {
    let valid = draft.validate(app.reference()).map_err(Error::Validation)?;
    check_jurisdiction(principal, &valid).map_err(Error::forbidden_field)?;
    Ok(valid)
}

/// Registers an enterprise of a city the caller manages; answers its id. Faults name their
/// fields; a credit code already registered is a conflict on `credit_code`.
pub async fn create(app: &App, principal: &Principal, draft: &EnterpriseDraft) -> Result<i64> {
    let valid = checked(app, principal, draft)?;
    Ok(app
        .db()
        .create_enterprise(principal, &valid, app.now())
        .await?)
}

/// Changes an enterprise the caller may see, into a city it manages. `expected_version`, when
/// given, must be the stored version (a conflict on `version` otherwise).
pub async fn update(
    app: &App,
    principal: &Principal,
    id: i64,
    expected_version: Option<i64>,
    draft: &EnterpriseDraft,
) -> Result<()> {
    let current = enterprise_in_scope(app, principal.scope(), id).await?;
    let valid = checked(app, principal, draft)?;
    Ok(app
        .db()
        .update_enterprise(principal, &current, expected_version, &valid, app.now())
        .await?)
}

/// Writes checked import rows in one transaction, validating them again (the catalog may have
/// changed since the preview): the first fault is refused naming its line and field.
pub async fn import(
    app: &App,
    principal: &Principal,
    drafts: &[(usize, EnterpriseDraft)],
) -> Result<ImportOutcome> {
    let mut rows: Vec<ValidEnterprise> = Vec::with_capacity(drafts.len());
    for (line, draft) in drafts {
        let valid = draft.validate(app.reference()).map_err(|errors| {
            let first = &errors[0];
            Error::invalid(
                first.code,
                Some(&first.field),
                Message::new(
                    format!("第 {line} 行：{}", first.message.zh),
                    format!("line {line}: {}", first.message.en),
                ),
            )
        })?;
        rows.push(valid);
    }
    Ok(app
        .db()
        .import_enterprises(principal, &rows, app.now())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_parsed_from_its_code() {
        assert_eq!(DocumentLanguage::parse("zh"), Some(DocumentLanguage::Zh));
        assert_eq!(DocumentLanguage::parse("en"), Some(DocumentLanguage::En));
        assert_eq!(DocumentLanguage::parse("fr"), None);
    }

    /// An export's header row names the columns an import recognises, in either language.
    #[test]
    fn export_headers_are_import_aliases_in_the_files_language() {
        for language in [DocumentLanguage::Zh, DocumentLanguage::En] {
            let headers = export_headers(language);
            for ((_, aliases), header) in COLUMNS.iter().zip(&headers) {
                assert!(aliases.contains(header), "{header} of {language:?}");
            }
        }
        let file = export_file(&[], DocumentLanguage::En, TableFormat::Csv).unwrap();
        assert_eq!(file.file_name, "enterprises.csv");
        let text = String::from_utf8(file.bytes).unwrap();
        assert!(text.contains("name,credit_code"), "{text}");
    }
}
