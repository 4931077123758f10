//! The Art. 16 filing as a person enters it on a page: the lists one item per line, each
//! document chosen among those the consultancy uploaded. The API takes the filing whole
//! ([`crate::consultancies::file_art16`]); both end in the same use case.

use cpaudit_core::consultancy::{Art16Evidence, EvidenceFile, Staff};
use cpaudit_core::registry::{FieldError, Message};
use cpaudit_storage::consultancies::ConsultancyDocumentRow;
use cpaudit_storage::Principal;

use crate::consultancies::{check_access, file_art16};
use crate::{App, Error, Result};

/// The longest list a form may carry, per field.
pub const MAX_LINES: usize = 200;

/// The filing as entered: staff one per line as "name, document, rounds".
#[derive(Debug, Clone, Default)]
pub struct Art16Lines {
    pub legal_person_credit_code: String,
    /// The SHA-256 of the uploaded quality-system document; empty for none.
    pub quality_system: String,
    /// One instrument or piece of equipment per line.
    pub instruments: String,
    /// "姓名，证明材料，咨询审核轮数" per line: the document by its file name or the start of its
    /// SHA-256 (at least 8 characters), the rounds a whole number (empty = 0).
    pub industry_staff: String,
    pub audit_staff: String,
}

/// Files the Art. 16 evidence entered as lines (the consultancy itself, or the province).
pub async fn file_lines(
    app: &App,
    principal: &Principal,
    consultancy_id: i64,
    lines: &Art16Lines,
) -> Result<()> {
    check_access(principal, consultancy_id)?;
    let documents = app.db().consultancy_documents(consultancy_id).await?;
    let evidence = evidence_of(lines, &documents, app.today())?;
    file_art16(app, principal, consultancy_id, &evidence).await
}

/// The lines as a filing submitted `today`; every line that does not read is an error at its
/// field, all of them at once.
pub fn evidence_of(
    lines: &Art16Lines,
    documents: &[ConsultancyDocumentRow],
    today: chrono::NaiveDate,
) -> Result<Art16Evidence> {
    let mut errors = Vec::new();
    let quality_system = match lines.quality_system.trim() {
        "" => None,
        chosen => document(chosen, documents)
            .map_err(|message| {
                errors.push(FieldError::new(
                    "quality_system",
                    "unknown_document",
                    message,
                ))
            })
            .ok(),
    };
    let instruments = non_empty_lines(&lines.instruments)
        .map(str::to_string)
        .collect::<Vec<_>>();
    if instruments.len() > MAX_LINES {
        errors.push(too_many("instruments"));
    }
    let industry_staff = staff(
        "industry_staff",
        &lines.industry_staff,
        documents,
        &mut errors,
    );
    let audit_staff = staff("audit_staff", &lines.audit_staff, documents, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(Art16Evidence {
        submitted_on: today,
        legal_person_credit_code: lines.legal_person_credit_code.trim().to_string(),
        quality_system,
        instruments,
        industry_staff,
        audit_staff,
    })
}

/// The lines of a staff list, each "name, document, rounds".
fn staff(
    field: &str,
    text: &str,
    documents: &[ConsultancyDocumentRow],
    errors: &mut Vec<FieldError>,
) -> Vec<Staff> {
    let lines: Vec<&str> = non_empty_lines(text).collect();
    if lines.len() > MAX_LINES {
        errors.push(too_many(field));
        return Vec::new();
    }
    let mut staff = Vec::with_capacity(lines.len());
    for (number, line) in lines.into_iter().enumerate() {
        match staff_line(line, documents) {
            Ok(member) => staff.push(member),
            Err(message) => errors.push(FieldError::new(
                field,
                "invalid_line",
                Message::new(
                    format!("第 {} 行：{}", number + 1, message.zh),
                    format!("line {}: {}", number + 1, message.en),
                ),
            )),
        }
    }
    staff
}

fn staff_line(line: &str, documents: &[ConsultancyDocumentRow]) -> Result<Staff, Message> {
    let mut parts = line.split([',', '，', '\t', '|', '、']).map(str::trim);
    let name = parts.next().unwrap_or_default();
    if name.is_empty() {
        return Err(Message::new("缺少姓名", "the name is missing"));
    }
    let evidence = match parts.next().unwrap_or_default() {
        "" => None,
        chosen => Some(document(chosen, documents)?),
    };
    let audit_rounds = match parts.next().unwrap_or_default() {
        "" => 0,
        rounds => rounds
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 1000)
            .ok_or_else(|| {
                Message::new(
                    format!("咨询审核轮数“{rounds}”应为 0 到 1000 的整数"),
                    format!("the audit rounds \"{rounds}\" must be a whole number from 0 to 1000"),
                )
            })?,
    };
    if parts.next().is_some() {
        return Err(Message::new(
            "每行只填姓名、证明材料、咨询审核轮数三项",
            "a line holds three items only: name, document, audit rounds",
        ));
    }
    Ok(Staff {
        name: name.to_string(),
        evidence,
        audit_rounds,
    })
}

/// The uploaded document a person names by its file name or the start of its SHA-256.
fn document(chosen: &str, documents: &[ConsultancyDocumentRow]) -> Result<EvidenceFile, Message> {
    let by_hash = |doc: &&ConsultancyDocumentRow| {
        chosen.len() >= 8 && doc.sha256.starts_with(&chosen.to_ascii_lowercase())
    };
    documents
        .iter()
        .find(|doc| doc.file_name == chosen)
        .or_else(|| documents.iter().find(by_hash))
        .map(|doc| EvidenceFile {
            title: doc.file_name.clone(),
            content_hash: doc.sha256.clone(),
        })
        .ok_or_else(|| {
            Message::new(
                format!("没有名为“{chosen}”的已上传证明材料：请先上传，再按文件名引用"),
                format!("no uploaded document is named \"{chosen}\": upload it first, then name it by its file name"),
            )
        })
}

fn non_empty_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty())
}

fn too_many(field: &str) -> FieldError {
    FieldError::new(
        field,
        "too_many_lines",
        Message::new(
            format!("每项最多 {MAX_LINES} 行"),
            format!("at most {MAX_LINES} lines"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate() -> ConsultancyDocumentRow {
        ConsultancyDocumentRow {
            id: 1,
            consultancy_id: 8,
            file_name: "张三职称证书.pdf".into(),
            content_type: "application/pdf".into(),
            size: 10,
            sha256: "ab".repeat(32),
            note: String::new(),
            uploaded_by: "c".into(),
            uploaded_at: "2027-01-01T00:00:00Z".into(),
        }
    }

    fn day() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
    }

    #[test]
    fn staff_lines_name_their_documents_by_file_name_or_hash() {
        let lines = Art16Lines {
            industry_staff: "张三，张三职称证书.pdf，3\n\n李四".into(),
            audit_staff: "王五, abababab, 12".into(),
            instruments: "电子天平\n流量计".into(),
            ..Art16Lines::default()
        };
        let evidence = evidence_of(&lines, &[certificate()], day()).unwrap();
        assert_eq!(evidence.industry_staff.len(), 2);
        assert_eq!(evidence.industry_staff[0].audit_rounds, 3);
        assert_eq!(
            evidence.industry_staff[0].evidence.as_ref().unwrap().title,
            "张三职称证书.pdf"
        );
        assert_eq!(evidence.industry_staff[1].evidence, None);
        assert_eq!(evidence.audit_staff[0].audit_rounds, 12);
        assert_eq!(evidence.instruments, vec!["电子天平", "流量计"]);
    }

    #[test]
    fn every_line_that_does_not_read_is_an_error_at_its_field() {
        let lines = Art16Lines {
            quality_system: "missing.pdf".into(),
            industry_staff: "张三，无此文件.pdf\n李四，，三".into(),
            ..Art16Lines::default()
        };
        let Err(Error::Validation(errors)) = evidence_of(&lines, &[certificate()], day()) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["quality_system", "industry_staff", "industry_staff"]
        );
        assert!(
            errors[2].message.zh.starts_with("第 2 行"),
            "{:?}",
            errors[2]
        );
    }
}
