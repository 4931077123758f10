//! The expert pool's use cases: an application checked against the entry conditions in
//! force, the province's decisions on a member, employment history, and the expert's own
//! conflict declarations. Decisions come from core (`check_entry`, `expert_transition`);
//! storage applies them with the audit trail.

use cpaudit_core::experts::{
    check_entry, EntryRules, ExpertAction, ExpertApplication, ExpertStatus, ExpertTransitionError,
    TitleLevel,
};
use cpaudit_core::registry::{FieldError, JurisdictionLevel, Message, MAX_PERSON_CHARS};
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::experts::{ActionError, NewExpert, Organisation};
use cpaudit_storage::Principal;

use crate::input::optional_date;
use crate::{App, Error, Result};

/// An application to the pool as the province records it.
#[derive(Debug, Clone, Default)]
pub struct Application {
    pub name: String,
    /// 居民身份证号码 with the birth date masked, e.g. 620102********1234.
    pub id_number_masked: String,
    pub employer: String,
    pub title: String,
    /// junior | intermediate | senior | full_senior; empty: no professional title.
    pub title_level: String,
    pub years_experience: u32,
    /// Key industry ids.
    pub specialties: Vec<String>,
    /// The city-level jurisdiction the expert lives or works in.
    pub jurisdiction_code: String,
    pub contact: String,
    /// Whether the expert can be drawn now (default true).
    pub available: Option<bool>,
}

/// Records an application (the province; the store checks); answers the applicant's id.
/// Every fault is refused at once, with `earlier` (faults the form found decoding its text)
/// among them, so that a form can mark each field.
pub async fn apply(
    app: &App,
    principal: &Principal,
    input: &Application,
    earlier: Vec<FieldError>,
) -> Result<i64> {
    let new = check_application(app, input, earlier).map_err(Error::Validation)?;
    Ok(app.db().apply_expert(principal, &new, app.now()).await?)
}

/// Checks an application: the person's data and the entry conditions (core), the city and
/// the contact. Every problem at once, so the form can mark each field.
fn check_application(
    app: &App,
    input: &Application,
    earlier: Vec<FieldError>,
) -> std::result::Result<NewExpert, Vec<FieldError>> {
    let mut errors = earlier;
    let title_level = match input.title_level.trim() {
        "" => None,
        text => match TitleLevel::parse(text) {
            Some(level) => Some(level),
            None => {
                errors.push(FieldError::new(
                    "title_level",
                    "invalid_title_level",
                    Message::new(
                        "职称级别应为初级、中级、副高级或正高级",
                        "title_level must be junior, intermediate, senior or full_senior",
                    ),
                ));
                None
            }
        },
    };
    let application = ExpertApplication {
        name: input.name.trim().to_string(),
        id_number_masked: input.id_number_masked.trim().to_uppercase(),
        employer: input.employer.trim().to_string(),
        title: input.title.trim().to_string(),
        title_level,
        years_experience: input.years_experience,
        specialties: input.specialties.clone(),
    };
    let rules = match EntryRules::from_book(app.rules(), app.today()) {
        Ok(rules) => rules,
        Err(error) => {
            tracing::error!(%error, "rule book");
            errors.push(FieldError::new(
                "title_level",
                "entry_rules_missing",
                Message::new(
                    "规则库缺少入库条件，请联系管理员",
                    "the rule book lacks the entry conditions; contact the administrator",
                ),
            ));
            return Err(errors);
        }
    };
    let known: Vec<String> = app
        .reference()
        .key_industries
        .iter()
        .map(|k| k.id.clone())
        .collect();
    // A wrong number is already reported; the entry condition would only repeat it.
    let years_reported = errors.iter().any(|e| e.field == "years_experience");
    errors.extend(
        check_entry(&application, &rules, &known)
            .into_iter()
            .filter(|e| !(years_reported && e.field == "years_experience")),
    );
    let city_known = app
        .reference()
        .jurisdictions
        .iter()
        .any(|j| j.code == input.jurisdiction_code && j.level == JurisdictionLevel::City);
    if !city_known {
        errors.push(FieldError::new(
            "jurisdiction_code",
            "unknown_city",
            Message::new("请选择所在市（州）", "choose the city"),
        ));
    }
    let contact_chars = input.contact.trim().chars().count();
    if contact_chars > MAX_PERSON_CHARS {
        errors.push(FieldError::new(
            "contact",
            "too_long",
            Message::new(
                format!("联系方式过长，最多 {MAX_PERSON_CHARS} 个字符"),
                format!("contact is too long: at most {MAX_PERSON_CHARS} characters"),
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewExpert {
        name: application.name,
        title: application.title,
        title_level: title_level
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        employer: application.employer,
        specialties: application.specialties,
        jurisdiction_code: input.jurisdiction_code.clone(),
        id_number_masked: application.id_number_masked,
        years_experience: application.years_experience,
        contact: input.contact.trim().to_string(),
        available: input.available.unwrap_or(true),
    })
}

/// Admits, rejects, suspends, reinstates or removes a member (the province), with the reason;
/// refused with the life cycle's message, naming `reason` or `action`, when the step is not
/// allowed.
pub async fn act(
    app: &App,
    principal: &Principal,
    id: i64,
    action: &str,
    reason: &str,
) -> Result<ExpertStatus> {
    let action = ExpertAction::parse(action.trim()).ok_or_else(|| {
        Error::bad_field(
            "action",
            "invalid_action",
            "操作应为 admit、reject、suspend、reinstate 或 remove",
            "action must be admit, reject, suspend, reinstate or remove",
        )
    })?;
    app.db()
        .act_on_expert(principal, id, action, reason, app.now())
        .await
        .map_err(|error| match error {
            ActionError::Transition(refusal) => {
                let field = if matches!(refusal, ExpertTransitionError::ReasonRequired { .. }) {
                    "reason"
                } else {
                    "action"
                };
                Error::bad_field(
                    field,
                    "transition_refused",
                    &refusal.message_zh(),
                    &refusal.message_en(),
                )
            }
            ActionError::Storage(error) => error.into(),
        })
}

/// An organisation named by kind (enterprise | consultancy) and id, which must exist.
pub async fn organisation(app: &App, kind: &str, id: i64) -> Result<Organisation> {
    let organisation = match kind.trim() {
        "enterprise" => Organisation::Enterprise(id),
        "consultancy" => Organisation::Consultancy(id),
        _ => {
            return Err(Error::bad_field(
                "kind",
                "invalid_kind",
                "单位类型应为 enterprise（企业）或 consultancy（咨询服务机构）",
                "kind must be enterprise or consultancy",
            ))
        }
    };
    if !app.db().organisation_exists(organisation).await? {
        return Err(Error::bad_field(
            "organisation_id",
            "unknown_organisation",
            "没有该单位",
            "no such organisation",
        ));
    }
    Ok(organisation)
}

/// A past or current employment of a member.
#[derive(Debug, Clone, Default)]
pub struct EmploymentInput {
    /// enterprise | consultancy
    pub kind: String,
    pub organisation_id: i64,
    /// YYYY-MM-DD, required.
    pub starts_on: String,
    /// YYYY-MM-DD; empty: still employed there.
    pub ends_on: String,
}

/// Records a member's employment (the province); panel draws read it for conflicts of
/// interest.
pub async fn add_employment(
    app: &App,
    principal: &Principal,
    id: i64,
    input: &EmploymentInput,
) -> Result<()> {
    app.db()
        .expert(principal, id)
        .await?
        .ok_or(Error::NotFound)?;
    let organisation = organisation(app, &input.kind, input.organisation_id).await?;
    let starts_on = optional_date("starts_on", &input.starts_on)?.ok_or_else(|| {
        Error::bad_field(
            "starts_on",
            "invalid_date",
            "starts_on 应为 YYYY-MM-DD 格式的有效日期",
            "starts_on must be a valid date written YYYY-MM-DD",
        )
    })?;
    let ends_on = optional_date("ends_on", &input.ends_on)?;
    if ends_on.is_some_and(|end| end < starts_on) {
        return Err(Error::bad_field(
            "ends_on",
            "before_start",
            "离职日期不能早于入职日期",
            "ends_on cannot be before starts_on",
        ));
    }
    Ok(app
        .db()
        .add_employment(principal, id, organisation, starts_on, ends_on, app.now())
        .await?)
}

/// The calling expert declares a conflict of interest with an enterprise or consultancy, with
/// the reason; draws exclude it from reviews of that enterprise or of the consultancy's
/// clients.
pub async fn declare(
    app: &App,
    principal: &Principal,
    kind: &str,
    organisation_id: i64,
    reason: &str,
) -> Result<()> {
    if !matches!(principal.scope().kind(), ScopeKind::Expert(_)) {
        return Err(Error::forbidden());
    }
    if reason.trim().is_empty() {
        return Err(Error::bad_field(
            "reason",
            "required",
            "请说明利益冲突的理由",
            "the reason for the conflict is required",
        ));
    }
    let organisation = organisation(app, kind, organisation_id).await?;
    Ok(app
        .db()
        .declare_conflict(principal, organisation, reason, app.now())
        .await?)
}
