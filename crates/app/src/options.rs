//! Cleaner production options (清洁生产方案) of a round: adding, editing and deleting an
//! option, changing its status and entering its expected or verified values.
//!
//! Who may do what and when is `cpaudit_core::options::check_work`: the enterprise and its
//! engaged consultancy enter options and expected values until the report is submitted (and
//! while rectifying), change statuses until acceptance, and enter verified values from the
//! passed assessment (small/micro track: at the combined review) until acceptance; the review
//! organizer's officials enter verified values at acceptance. A round outside the caller's
//! scope is not found; bad input is a validation error naming each field; work the caller may
//! not do (now) is a refusal naming why.

use cpaudit_core::options::{
    check_status_change, check_values, check_work, OptionDraft, OptionLimits, OptionStatus,
    OptionWork, Stage, StatusDraft, StatusRefusal, ValueDraft, WorkRefusal,
};
use cpaudit_core::registry::Message;
use cpaudit_storage::options::{round_actors, OptionEntry, OptionSheet};
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::InScope;
use cpaudit_storage::Principal;

use crate::{App, Error, Result};

/// One value of an indicator, as text so that each mistake is reported by its field.
#[derive(Debug, Clone, Default)]
pub struct ValueInput {
    /// so2 | nox | dust | co2 | vocs | cod | ammonia_nitrogen | total_nitrogen |
    /// total_phosphorus | pb | hg | cd | cr | as | energy | water | economic_benefit
    pub indicator: String,
    /// The yearly reduction (saving, benefit) in the indicator's unit.
    pub quantity: String,
    /// Optional: the indicator's unit; another unit is refused, not converted.
    pub unit: String,
    /// Expected: how it was estimated. Verified: the monitoring report it rests on (required).
    pub basis: String,
}

impl ValueInput {
    fn draft(self) -> ValueDraft {
        ValueDraft {
            indicator: self.indicator,
            quantity: self.quantity,
            unit: self.unit,
            basis: self.basis,
        }
    }
}

/// An option: created, or all its fields replaced.
#[derive(Debug, Clone, Default)]
pub struct OptionInput {
    /// Unique in the round (letter case ignored), e.g. F-01.
    pub code: String,
    pub name: String,
    /// no_low | medium_high
    pub cost_class: String,
    pub description: String,
    /// 万元, at least 0.
    pub investment_10k_yuan: String,
    /// Expected values, replacing any stored.
    pub expected: Vec<ValueInput>,
}

impl OptionInput {
    fn draft(self) -> OptionDraft {
        OptionDraft {
            code: self.code,
            name: self.name,
            cost_class: self.cost_class,
            description: self.description,
            investment_10k_yuan: self.investment_10k_yuan,
            expected: self.expected.into_iter().map(ValueInput::draft).collect(),
        }
    }
}

/// The values of one stage, replacing those stored.
#[derive(Debug, Clone, Default)]
pub struct ValuesInput {
    pub values: Vec<ValueInput>,
    /// The basis of every value that gives none (e.g. the monitoring report of all of them).
    pub basis: String,
}

impl ValuesInput {
    fn drafts(self) -> Vec<ValueDraft> {
        let basis = self.basis;
        self.values
            .into_iter()
            .map(|value| {
                let mut draft = value.draft();
                if draft.basis.trim().is_empty() {
                    draft.basis = basis.clone();
                }
                draft
            })
            .collect()
    }
}

/// A status change.
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    /// selected | implemented | dropped
    pub status: String,
    /// Required to drop.
    pub reason: String,
    /// YYYY-MM-DD, not after today; required to mark implemented.
    pub implemented_on: String,
}

impl StatusInput {
    fn draft(self) -> StatusDraft {
        StatusDraft {
            status: self.status,
            reason: self.reason,
            implemented_on: self.implemented_on,
        }
    }
}

/// The round if the caller may see it; anything else is "not found".
pub async fn visible_round(app: &App, principal: &Principal, id: i64) -> Result<InScope<RoundRow>> {
    app.db()
        .get_round(principal.scope(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// Whether the caller may do `work` on the round now. A caller who is none of the parties who
/// may is refused (forbidden); a party whose work the round's present state locks meets a
/// conflict (`options_locked`), which says when the work opens.
pub fn check(work: OptionWork, round: &RoundRow, principal: &Principal) -> Result<()> {
    check_work(
        work,
        round.state,
        round.track,
        &round_actors(principal, round),
    )
    .map_err(|refusal| match refusal {
        WorkRefusal::Locked { .. } => Error::conflict(refusal.code(), None, refusal.message()),
        WorkRefusal::NotYours { .. } => Error::ForbiddenField {
            code: refusal.code(),
            message: refusal.message(),
            field: None,
        },
    })
}

pub fn may(work: OptionWork, round: &RoundRow, principal: &Principal) -> bool {
    check(work, round, principal).is_ok()
}

/// The bounds of an option's figures in force today.
pub fn limits(app: &App) -> Result<OptionLimits> {
    Ok(OptionLimits::from_book(app.rules(), app.today())?)
}

fn entry(sheet: &OptionSheet, option_id: i64) -> Result<&OptionEntry> {
    sheet
        .options
        .iter()
        .find(|entry| entry.option.id == option_id)
        .ok_or(Error::NotFound)
}

/// The codes of the round's options other than `except`, which a new code must differ from.
pub fn other_codes(sheet: &OptionSheet, except: Option<i64>) -> Vec<String> {
    sheet
        .options
        .iter()
        .filter(|entry| Some(entry.option.id) != except)
        .map(|entry| entry.option.code.clone())
        .collect()
}

/// Adds an option with its expected values (status proposed); answers its id.
pub async fn create(
    app: &App,
    principal: &Principal,
    round: &InScope<RoundRow>,
    input: OptionInput,
) -> Result<i64> {
    check(OptionWork::Edit, round, principal)?;
    let sheet = app.db().option_sheet(round).await?;
    let option = input
        .draft()
        .validate(&other_codes(&sheet, None), &limits(app)?)
        .map_err(Error::Validation)?;
    Ok(app
        .db()
        .add_option(principal, round, &option, app.now())
        .await?)
}

/// Replaces an option's fields and expected values.
pub async fn update(
    app: &App,
    principal: &Principal,
    round: &InScope<RoundRow>,
    option_id: i64,
    input: OptionInput,
) -> Result<()> {
    let sheet = app.db().option_sheet(round).await?;
    entry(&sheet, option_id)?;
    check(OptionWork::Edit, round, principal)?;
    let option = input
        .draft()
        .validate(&other_codes(&sheet, Some(option_id)), &limits(app)?)
        .map_err(Error::Validation)?;
    Ok(app
        .db()
        .update_option(principal, round, option_id, &option, app.now())
        .await?)
}

/// Deletes an option that is still only proposed; a selected one is dropped with a reason.
pub async fn delete(
    app: &App,
    principal: &Principal,
    round: &InScope<RoundRow>,
    option_id: i64,
) -> Result<()> {
    let sheet = app.db().option_sheet(round).await?;
    let found = entry(&sheet, option_id)?;
    check(OptionWork::Edit, round, principal)?;
    if found.option.status != OptionStatus::Proposed {
        return Err(Error::conflict(
            "not_proposed",
            Some("status"),
            Message::new(
                "只能删除尚为“已提出”的方案；已确定的方案请改为“已放弃”并说明理由",
                "only a proposed option can be deleted; drop a selected one with a reason",
            ),
        ));
    }
    Ok(app
        .db()
        .delete_option(principal, round, option_id, app.now())
        .await?)
}

/// Changes an option's status: proposed → selected → implemented (on a day not in the
/// future); proposed or selected → dropped (with a reason). Another change is a conflict.
pub async fn change_status(
    app: &App,
    principal: &Principal,
    round: &InScope<RoundRow>,
    option_id: i64,
    input: StatusInput,
) -> Result<()> {
    let sheet = app.db().option_sheet(round).await?;
    let found = entry(&sheet, option_id)?;
    check(OptionWork::ChangeStatus, round, principal)?;
    let change = check_status_change(found.option.status, &input.draft(), app.today()).map_err(
        |refusal| match refusal {
            StatusRefusal::Invalid(errors) => Error::Validation(errors),
            not_allowed => {
                Error::conflict("invalid_transition", Some("status"), not_allowed.message())
            }
        },
    )?;
    Ok(app
        .db()
        .change_option_status(principal, round, option_id, &change, app.now())
        .await?)
}

/// Replaces an option's values of one stage: expected while the report's content may change,
/// verified (of an implemented option, each with its basis) from the passed assessment.
pub async fn set_values(
    app: &App,
    principal: &Principal,
    round: &InScope<RoundRow>,
    option_id: i64,
    stage: Stage,
    input: ValuesInput,
) -> Result<()> {
    let sheet = app.db().option_sheet(round).await?;
    let found = entry(&sheet, option_id)?;
    let work = match stage {
        Stage::Expected => OptionWork::Edit,
        Stage::Verified => OptionWork::EnterVerified,
    };
    check(work, round, principal)?;
    if stage == Stage::Verified && found.option.status != OptionStatus::Implemented {
        return Err(Error::conflict(
            "not_implemented",
            Some("status"),
            Message::new(
                "只有已实施的方案才能录入验证值",
                "only an implemented option has verified values",
            ),
        ));
    }
    let values = check_values(stage, &input.drafts(), &limits(app)?).map_err(Error::Validation)?;
    Ok(app
        .db()
        .set_option_values(principal, round, option_id, stage, &values, app.now())
        .await?)
}
