//! Consultancies: the refusal of new business while a blacklisting is in force, sanctions
//! imposed and lifted by the province, the Art. 16 filing and its documents, and an
//! enterprise's engagement of a consultancy.

use chrono::NaiveDate;
use cpaudit_core::consultancy::{
    lift_check, refuses_business, Art16Evidence, BlacklistRules, Sanction, SanctionEnd,
    SanctionKind,
};
use cpaudit_core::evidence::{name_of, parse_name};
use cpaudit_core::registry::Message;
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::consultancies::{
    ConsultancyDocumentRow, NewConsultancyDocument, NewSanction, SanctionRow,
};
use cpaudit_storage::registry::ConsultancyRow;
use cpaudit_storage::{Principal, StorageError};

use crate::input::optional_date;
use crate::registry::enterprise_in_scope;
use crate::{App, Error, Result};

/// The core view of a stored sanction.
pub fn core_sanction(row: &SanctionRow) -> Sanction {
    Sanction {
        kind: row.kind,
        reason: row.reason.clone(),
        legal_basis: row.legal_basis.clone(),
        starts_on: row.starts_on,
        ends: match row.ends_on {
            Some(last) => SanctionEnd::Until(last),
            None => SanctionEnd::UntilCorrected,
        },
        lifted_on: row.lifted_on,
        lifted_reason: row.lifted_reason.clone(),
    }
}

/// Why new business naming this consultancy is refused today, in both languages; `None` while
/// no sanction in force refuses it.
pub async fn refusal_of(app: &App, consultancy_id: i64) -> Result<Option<Message>> {
    let sanctions: Vec<Sanction> = app
        .db()
        .sanctions(Some(consultancy_id))
        .await?
        .iter()
        .map(core_sanction)
        .collect();
    Ok(refuses_business(&sanctions, app.today())
        .map(|refusal| Message::new(refusal.message_zh, refusal.message_en)))
}

/// A consultancy sees its own record only; officials see all (anyone else: not found).
pub fn check_access(principal: &Principal, id: i64) -> Result<()> {
    match principal.scope().kind() {
        ScopeKind::Province | ScopeKind::City(_) => Ok(()),
        ScopeKind::Consultancy(own) if *own == id => Ok(()),
        _ => Err(Error::NotFound),
    }
}

/// A registered consultancy, or "not found".
pub async fn consultancy(app: &App, id: i64) -> Result<ConsultancyRow> {
    app.db().consultancy(id).await?.ok_or(Error::NotFound)
}

fn required(field: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::bad_field(
            field,
            "required",
            &format!("{field} 为必填项"),
            &format!("{field} is required"),
        ));
    }
    Ok(())
}

/// A sanction as the province imposes it.
#[derive(Debug, Clone, Default)]
pub struct SanctionInput {
    /// correction_order | blacklist
    pub kind: String,
    pub reason: String,
    /// Default: the rule book's `sanctions.blacklist_basis`.
    pub legal_basis: String,
    /// YYYY-MM-DD; default today.
    pub starts_on: String,
    /// The last day; empty: until corrected.
    pub ends_on: String,
}

/// Imposes a sanction on a consultancy (the province; the store checks); answers its id.
pub async fn impose(
    app: &App,
    principal: &Principal,
    id: i64,
    input: &SanctionInput,
) -> Result<i64> {
    consultancy(app, id).await?;
    let kind: SanctionKind = parse_name(&input.kind).ok_or_else(|| {
        Error::bad_field(
            "kind",
            "invalid_kind",
            "处理类型应为 correction_order（责令改正）或 blacklist（公布名单、不再受理业务）",
            "kind must be correction_order or blacklist",
        )
    })?;
    required("reason", &input.reason)?;
    let starts_on = optional_date("starts_on", &input.starts_on)?.unwrap_or(app.today());
    let ends_on = optional_date("ends_on", &input.ends_on)?;
    if ends_on.is_some_and(|end| end < starts_on) {
        return Err(Error::bad_field(
            "ends_on",
            "before_start",
            "截止日期不能早于开始日期",
            "ends_on cannot be before starts_on",
        ));
    }
    let legal_basis = if input.legal_basis.trim().is_empty() {
        BlacklistRules::from_book(app.rules(), starts_on)?.basis
    } else {
        input.legal_basis.trim().to_string()
    };
    let sanction = NewSanction {
        consultancy_id: id,
        kind: name_of(&kind),
        reason: input.reason.clone(),
        legal_basis,
        starts_on,
        ends_on,
    };
    Ok(app
        .db()
        .impose_sanction(principal, &sanction, app.now())
        .await?)
}

/// Lifts a sanction (the province) with a reason, on fresh and complete Art. 16 evidence;
/// answers the consultancy's id.
pub async fn lift(app: &App, principal: &Principal, sanction_id: i64, reason: &str) -> Result<i64> {
    required("reason", reason)?;
    let row = app
        .db()
        .sanction(sanction_id)
        .await?
        .ok_or(Error::NotFound)?;
    let today = app.today();
    let fresh: Art16Evidence = app
        .db()
        .art16_filing(row.consultancy_id)
        .await?
        .map(|filing| filing.evidence.0)
        .unwrap_or_else(|| Art16Evidence::empty(NaiveDate::MIN));
    lift_check(&core_sanction(&row), &fresh, today).map_err(|error| {
        Error::bad_field(
            "art16",
            "cannot_lift",
            &error.message_zh(),
            &error.message_en(),
        )
    })?;
    app.db()
        .lift_sanction(principal, sanction_id, today, reason, app.now())
        .await?;
    Ok(row.consultancy_id)
}

/// Files the consultancy's Art. 16 evidence (the consultancy itself or the province). Every
/// document it names must be on file, by its SHA-256.
pub async fn file_art16(
    app: &App,
    principal: &Principal,
    id: i64,
    evidence: &Art16Evidence,
) -> Result<()> {
    check_access(principal, id)?;
    consultancy(app, id).await?;
    if evidence.submitted_on > app.today() {
        return Err(Error::bad_field(
            "submitted_on",
            "in_future",
            "提交日期不能晚于今天",
            "submitted_on cannot be after today",
        ));
    }
    check_evidence_files(app, id, evidence).await?;
    let json = serde_json::to_string(evidence)
        .map_err(|error| Error::Internal(format!("Art. 16 evidence: {error}")))?;
    Ok(app.db().file_art16(principal, id, &json, app.now()).await?)
}

async fn check_evidence_files(app: &App, id: i64, evidence: &Art16Evidence) -> Result<()> {
    let on_file = app.db().consultancy_documents(id).await?;
    let named = evidence
        .quality_system
        .iter()
        .map(|file| ("quality_system", file))
        .chain(
            evidence
                .industry_staff
                .iter()
                .filter_map(|s| Some(("industry_staff", s.evidence.as_ref()?))),
        )
        .chain(
            evidence
                .audit_staff
                .iter()
                .filter_map(|s| Some(("audit_staff", s.evidence.as_ref()?))),
        );
    for (field, file) in named {
        if !on_file.iter().any(|d| d.sha256 == file.content_hash.trim()) {
            return Err(Error::bad_field(
                field,
                "document_not_on_file",
                &format!("“{}”须先上传，再以其 SHA-256 引用", file.title),
                &format!(
                    "upload \"{}\" first, then name it by its SHA-256",
                    file.title
                ),
            ));
        }
    }
    Ok(())
}

/// An enterprise records that it engages a consultancy from `since` (YYYY-MM-DD, default
/// today); refused, naming `consultancy_id`, while the consultancy is blacklisted (seed
/// §四(四)).
pub async fn engage(
    app: &App,
    principal: &Principal,
    enterprise_id: i64,
    consultancy_id: i64,
    since: &str,
) -> Result<()> {
    consultancy(app, consultancy_id).await.map_err(|_| {
        Error::bad_field(
            "consultancy_id",
            "unknown",
            "没有该咨询服务机构",
            "no such consultancy",
        )
    })?;
    let since = optional_date("since", since)?.unwrap_or(app.today());
    let refusal = refusal_of(app, consultancy_id).await?;
    let enterprise = enterprise_in_scope(app, principal.scope(), enterprise_id).await?;
    let refusal_text = refusal.as_ref().map(|message| message.zh.clone());
    app.db()
        .engage(
            principal,
            consultancy_id,
            &enterprise,
            since,
            refusal_text.as_deref(),
            app.now(),
        )
        .await
        .map_err(|error| match (error, refusal) {
            (
                StorageError::Refused {
                    code: "consultancy_sanctioned",
                    ..
                },
                Some(message),
            ) => Error::ForbiddenField {
                code: "consultancy_sanctioned",
                message,
                field: Some("consultancy_id".into()),
            },
            (other, _) => other.into(),
        })
}

/// Keeps one Art. 16 document of a consultancy (itself or the province); the filing then
/// names it by its SHA-256. The caller has checked what the bytes are.
pub async fn upload_document(
    app: &App,
    principal: &Principal,
    id: i64,
    document: &NewConsultancyDocument<'_>,
) -> Result<ConsultancyDocumentRow> {
    check_access(principal, id)?;
    consultancy(app, id).await?;
    Ok(app
        .db()
        .upload_consultancy_document(principal, id, document, app.now())
        .await?)
}
