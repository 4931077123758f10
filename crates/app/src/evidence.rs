//! Evidence against an enterprise: officials of its city or of the province enter it, and only
//! an official of its own city confirms, dismisses or withdraws it (the province watches). The
//! page and the API call the same two use cases.

use cpaudit_core::determination::EvidenceStatus;
use cpaudit_core::evidence::EvidenceDraft;
use cpaudit_core::registry::{FieldError, Message};
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::enterprises::EnterpriseRow;
use cpaudit_storage::evidence::{EvidenceDecision, EvidenceRow};
use cpaudit_storage::{InScope, Principal};

use crate::registry::enterprise_in_scope;
use crate::{App, Error, Result};

/// The longest reason a decision may carry.
pub const MAX_REASON_CHARS: usize = 500;

/// Whether the caller enters evidence against the enterprise: an official of its city or of
/// the province.
pub fn may_enter(principal: &Principal, enterprise: &EnterpriseRow) -> bool {
    principal
        .scope()
        .may_manage_city(&enterprise.jurisdiction_code)
}

/// Whether the caller decides on the evidence: only an official of the enterprise's own city.
pub fn may_decide(principal: &Principal, row: &EvidenceRow) -> bool {
    matches!(principal.scope().kind(), ScopeKind::City(code) if *code == row.jurisdiction_code)
}

/// A piece of evidence the caller may see, as the capability its decision takes.
pub async fn evidence_in_scope(
    app: &App,
    principal: &Principal,
    id: i64,
) -> Result<InScope<EvidenceRow>> {
    app.db()
        .get_evidence(principal.scope(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// Records evidence an official enters (confirmed by that entry); answers its id. Refused
/// outside the caller's cities; a draft with faults is refused naming every field.
pub async fn add(
    app: &App,
    principal: &Principal,
    enterprise_id: i64,
    draft: &EvidenceDraft,
) -> Result<i64> {
    let enterprise = enterprise_in_scope(app, principal.scope(), enterprise_id).await?;
    if !may_enter(principal, &enterprise) {
        return Err(Error::Forbidden(Message::new(
            "只有企业所在市州或省级生态环境部门可以录入证据",
            "only an official of the enterprise's city or of the province enters evidence",
        )));
    }
    let valid = draft.validate(app.today()).map_err(Error::Validation)?;
    Ok(app
        .db()
        .add_evidence(
            principal,
            &enterprise,
            &valid,
            EvidenceStatus::Confirmed,
            app.now(),
        )
        .await?)
}

/// A decision on a piece of evidence as the official gives it.
#[derive(Debug, Clone, Default)]
pub struct DecisionInput {
    /// `confirm` or `dismiss` (a dismissal of confirmed evidence withdraws it).
    pub decision: String,
    pub reason: String,
    /// The version the official saw; a change meanwhile is a conflict.
    pub version: Option<i64>,
}

/// Confirms or dismisses a candidate, or withdraws confirmed evidence, with a reason. The
/// decision's own fields are checked before the evidence is looked up, so a malformed decision
/// gets the same answer whether or not the evidence exists.
pub async fn decide(
    app: &App,
    principal: &Principal,
    id: i64,
    input: &DecisionInput,
) -> Result<EvidenceRow> {
    let decision = check_decision(&input.decision, &input.reason)?;
    let row = evidence_in_scope(app, principal, id).await?;
    if !may_decide(principal, &row) {
        return Err(not_your_decision());
    }
    check_open(&row, decision)?;
    Ok(app
        .db()
        .decide_evidence(
            principal,
            &row,
            decision,
            &input.reason,
            input.version,
            app.now(),
        )
        .await?)
}

fn not_your_decision() -> Error {
    Error::Forbidden(Message::new(
        "只有企业所在市州的生态环境部门可以确认或驳回证据",
        "Only an official of the enterprise's city confirms or dismisses its evidence",
    ))
}

/// What may still be decided: a candidate is confirmed or dismissed; confirmed evidence can
/// only be withdrawn (dismissed); a dismissal is final.
pub fn open_decisions(status: EvidenceStatus) -> &'static [EvidenceDecision] {
    match status {
        EvidenceStatus::Candidate => &[EvidenceDecision::Confirm, EvidenceDecision::Dismiss],
        EvidenceStatus::Confirmed => &[EvidenceDecision::Dismiss],
        EvidenceStatus::Dismissed => &[],
    }
}

fn check_decision(decision: &str, reason: &str) -> Result<EvidenceDecision> {
    let mut errors = Vec::new();
    let decision = match decision.trim() {
        "confirm" => Some(EvidenceDecision::Confirm),
        "dismiss" => Some(EvidenceDecision::Dismiss),
        _ => {
            errors.push(FieldError::new(
                "decision",
                "invalid_choice",
                Message::new(
                    "决定应为 confirm（确认）或 dismiss（驳回）",
                    "decision must be confirm or dismiss",
                ),
            ));
            None
        }
    };
    let reason = reason.trim();
    if reason.is_empty() {
        errors.push(FieldError::new(
            "reason",
            "required",
            Message::new(
                "请填写理由：确认、驳回或撤回证据都须说明理由",
                "a reason is required to confirm, dismiss or withdraw evidence",
            ),
        ));
    } else if reason.chars().count() > MAX_REASON_CHARS {
        errors.push(FieldError::new(
            "reason",
            "too_long",
            Message::new(
                format!("理由不能超过 {MAX_REASON_CHARS} 个字符"),
                format!("the reason must be at most {MAX_REASON_CHARS} characters"),
            ),
        ));
    }
    match decision {
        Some(decision) if errors.is_empty() => Ok(decision),
        _ => Err(Error::Validation(errors)),
    }
}

fn check_open(row: &EvidenceRow, decision: EvidenceDecision) -> Result<()> {
    let status = row.status;
    if open_decisions(status).contains(&decision) {
        return Ok(());
    }
    let (zh, en) = match decision {
        EvidenceDecision::Confirm => ("确认", "confirmed"),
        EvidenceDecision::Dismiss => ("驳回", "dismissed"),
    };
    let (now_zh, now_en) = match status {
        EvidenceStatus::Candidate => ("待确认（候选）", "candidate"),
        EvidenceStatus::Confirmed => ("已确认", "confirmed"),
        EvidenceStatus::Dismissed if row.confirmed_on.is_some() => ("已撤回", "withdrawn"),
        EvidenceStatus::Dismissed => ("已驳回", "dismissed"),
    };
    Err(Error::Conflict {
        code: "invalid_transition",
        message: Message::new(
            format!("该证据当前为“{now_zh}”，不能{zh}"),
            format!("evidence that is {now_en} cannot be {en}"),
        ),
        field: Some("decision".into()),
    })
}
