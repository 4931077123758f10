//! A city's yearly plan (实施计划): the draft from the load-levelled proposal, an official's
//! move of an enterprise between years, and the plan's life cycle (submit by the city; return,
//! amend or approve by the province).

use cpaudit_core::listing::{submission_deadline, PlanAction};
use cpaudit_core::registry::Message;

use cpaudit_storage::lists::{PlanEntry, PlanRow};
use cpaudit_storage::{Principal, Reasons, StorageError, ToxicCategories};

use crate::input::required_reason;
use crate::registry::enterprise_in_scope;
use crate::{cycle, App, Error, Result};

/// Only officials who manage the city (its own officials and the province) see its plan.
pub fn check_city_access(principal: &Principal, city: &str) -> Result<()> {
    if principal.scope().may_manage_city(city) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The plan's text as the city writes it.
#[derive(Debug, Clone, Default)]
pub struct DraftInput {
    /// The implementation plan (实施计划), required.
    pub plan_text: String,
    /// The schedule (进度安排).
    pub schedule_text: String,
}

/// Saves the city's draft: its text and the enterprises the proposal lists in `year`, each with
/// the reason it was moved, if it was. Answers the plan's id.
pub async fn save_draft(
    app: &App,
    principal: &Principal,
    city: &str,
    year: i32,
    draft: &DraftInput,
) -> Result<i64> {
    if draft.plan_text.trim().is_empty() {
        return Err(Error::bad_field(
            "plan_text",
            "required",
            "请填写年度实施计划",
            "the implementation plan is required",
        ));
    }
    check_city_access(principal, city)?;
    let proposal = cycle::propose_city(app, principal, city, year).await?;
    let (deadline, _) = submission_deadline(app.rules(), year)?;
    let entries: Vec<PlanEntry> = proposal
        .plan
        .listed_in(year)
        .map(|a| {
            let item = &proposal.determined[&a.enterprise_id];
            PlanEntry {
                enterprise_id: a.enterprise_id,
                enterprise_name: item.record.facts.name.clone(),
                reasons: Reasons(item.determination.reasons.clone()),
                toxic_categories: ToxicCategories(item.determination.toxic_categories.clone()),
                due_year: item.determination.due_year.map(i64::from),
                placement: a.placement,
                note: proposal
                    .moves
                    .get(&a.enterprise_id)
                    .map(|m| m.reason.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    Ok(app
        .db()
        .save_plan_draft(
            principal,
            city,
            year,
            &draft.plan_text,
            &draft.schedule_text,
            deadline,
            &entries,
            app.now(),
        )
        .await?)
}

/// An official's move of an enterprise to another year of the window, with a reason.
#[derive(Debug, Clone, Default)]
pub struct MoveInput {
    pub enterprise_id: i64,
    pub to_year: i32,
    pub reason: String,
}

/// Moves an enterprise between years: never past its due year, 双超 never off the first year.
pub async fn move_enterprise(
    app: &App,
    principal: &Principal,
    city: &str,
    year: i32,
    input: &MoveInput,
) -> Result<()> {
    required_reason("reason", &input.reason)?;
    check_city_access(principal, city)?;
    let proposal = cycle::propose_city(app, principal, city, year).await?;
    cycle::validate_move(&proposal, input.enterprise_id, input.to_year)?;
    let enterprise = enterprise_in_scope(app, principal.scope(), input.enterprise_id).await?;
    app.db()
        .record_plan_move(
            principal,
            &enterprise,
            year,
            input.to_year,
            &input.reason,
            app.now(),
        )
        .await?;
    Ok(())
}

/// Submit (city), return / amend / approve (province).
#[derive(Debug, Clone, Default)]
pub struct PlanActionInput {
    /// submit | return | amend | approve
    pub action: String,
    /// Required for return and amend.
    pub reason: String,
    /// amend: the enterprises the province takes off the plan.
    pub remove: Vec<i64>,
}

/// Moves the plan through its life cycle (a submission after the deadline is flagged late).
/// What the plan's state does not allow is refused naming `action`.
pub async fn act_on_plan(
    app: &App,
    principal: &Principal,
    city: &str,
    year: i32,
    input: &PlanActionInput,
) -> Result<PlanRow> {
    let action = PlanAction::parse(input.action.trim())
        .filter(|a| *a != PlanAction::Publish)
        .ok_or_else(|| {
            Error::bad_field(
                "action",
                "invalid_action",
                "操作应为 submit、return、amend 或 approve",
                "action must be submit, return, amend or approve",
            )
        })?;
    check_city_access(principal, city)?;
    let (plan, entries) = app
        .db()
        .get_plan(principal.scope(), city, year)
        .await?
        .ok_or(Error::NotFound)?;
    let amended: Option<Vec<PlanEntry>> = (action == PlanAction::Amend).then(|| {
        entries
            .into_iter()
            .filter(|e| !input.remove.contains(&e.enterprise_id))
            .collect()
    });
    app.db()
        .plan_action(
            principal,
            plan.id,
            action,
            &input.reason,
            amended.as_deref(),
            app.now(),
        )
        .await
        .map_err(|error| match error {
            StorageError::Conflict { message, .. }
            | StorageError::Refused { message, .. }
            | StorageError::Invalid { message, .. } => not_allowed(message),
            other => other.into(),
        })
}

fn not_allowed(message: Message) -> Error {
    Error::invalid("not_allowed", Some("action"), message)
}
