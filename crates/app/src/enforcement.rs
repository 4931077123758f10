//! Enforcement on an audit round: orders to correct, their outcome, fines and public
//! criticisms, decided by the round's city or the province.
//!
//! The articles and their ranges come from the rule book (unit `penalty`); the checks are
//! `cpaudit_core::enforcement`'s and run inside the recording transaction.

use chrono::NaiveDate;
use cpaudit_core::enforcement::{check_decision, check_outcome, Action, Decision, Outcome};
use cpaudit_core::registry::{FieldError, Message};
use cpaudit_core::rules::PenaltyKind;
use cpaudit_storage::enforcement::EnforcementRecord;
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::Principal;

use crate::input::{optional_date, Problems};

use crate::{App, Error, Result};

/// A decision as a form or a client sends it. Every field is text so that each mistake is
/// reported by its field.
#[derive(Debug, Clone, Default)]
pub struct EnforcementInput {
    /// order_to_correct | fine | public_criticism
    pub kind: String,
    /// The article applied: a rule id of unit penalty (e.g. penalty.law_39_1).
    pub basis: String,
    /// The facts found.
    pub reason: String,
    /// YYYY-MM-DD, not after today; default today.
    pub decided_on: String,
    /// The decision's document number (文号).
    pub document_number: String,
    /// Orders: the last day to correct, after `decided_on`.
    pub correct_by: String,
    /// Fines: whole yuan, within the article's range.
    pub amount_yuan: String,
    /// Fines: the id of the order to correct the fine follows.
    pub follows: String,
    /// Fines: put the fine on the public list (true/false). Public criticisms always are.
    pub publish: String,
}

/// How an order to correct ended.
#[derive(Debug, Clone, Default)]
pub struct OutcomeInput {
    /// corrected | not_corrected
    pub outcome: String,
    /// YYYY-MM-DD: the day it was corrected, or the day it is found not corrected (after the
    /// date to correct); default today.
    pub outcome_on: String,
}

/// A refusal of core's checks, naming the field.
fn refused(error: FieldError) -> Error {
    Error::invalid(error.code, Some(&error.field), error.message)
}

fn parse_kind(text: &str) -> Result<PenaltyKind> {
    PenaltyKind::parse(text.trim()).ok_or_else(|| {
        Error::bad_field(
            "kind",
            "invalid_kind",
            "决定类型应为 order_to_correct（责令改正）、fine（罚款）或 public_criticism（通报批评）",
            "kind must be order_to_correct, fine or public_criticism",
        )
    })
}

fn required_date(field: &str, text: &str) -> Result<NaiveDate> {
    optional_date(field, text)?.ok_or_else(|| {
        Error::bad_field(
            field,
            "required",
            &format!("{field} 为必填项"),
            &format!("{field} is required"),
        )
    })
}

fn optional_integer(field: &str, text: &str) -> Result<Option<i64>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        Error::bad_field(
            field,
            "invalid_number",
            &format!("{field} 应为整数"),
            &format!("{field} must be a whole number"),
        )
    })
}

/// A flag as forms, checkboxes and JSON booleans send it; empty is false.
fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" | "on" => Some(true),
        "false" | "0" | "no" | "n" | "否" | "" => Some(false),
        _ => None,
    }
}

impl EnforcementInput {
    /// The decision as core checks it; what text alone can tell is refused here.
    fn decision(&self, kind: PenaltyKind, today: NaiveDate) -> Result<Decision> {
        let mut problems = Problems::default();
        let decided_on = problems.check(optional_date("decided_on", &self.decided_on))?;
        let action = match kind {
            PenaltyKind::OrderToCorrect => problems
                .check(required_date("correct_by", &self.correct_by))?
                .map(|correct_by| Action::OrderToCorrect { correct_by }),
            PenaltyKind::Fine => {
                let amount_yuan = problems.check(
                    optional_integer("amount_yuan", &self.amount_yuan).and_then(|amount| {
                        amount.ok_or_else(|| {
                            Error::bad_field(
                                "amount_yuan",
                                "required",
                                "请填写罚款金额（元）",
                                "amount_yuan is required",
                            )
                        })
                    }),
                )?;
                let follows = problems.check(optional_integer("follows", &self.follows))?;
                let publish = problems.check(parse_flag(&self.publish).ok_or_else(|| {
                    Error::bad_field(
                        "publish",
                        "invalid_flag",
                        "publish 应为 true 或 false",
                        "publish must be true or false",
                    )
                }))?;
                match (amount_yuan, follows, publish) {
                    (Some(amount_yuan), Some(follows), Some(publish)) => Some(Action::Fine {
                        amount_yuan,
                        follows,
                        publish,
                    }),
                    _ => None,
                }
            }
            PenaltyKind::PublicCriticism => Some(Action::PublicCriticism),
        };
        let action = problems.finish(action.zip(decided_on))?;
        Ok(Decision {
            basis: self.basis.trim().to_string(),
            reason: self.reason.trim().to_string(),
            decided_on: action.1.unwrap_or(today),
            action: action.0,
        })
    }
}

fn parse_outcome(text: &str) -> Result<Outcome> {
    Outcome::parse(text.trim()).ok_or_else(|| {
        Error::bad_field(
            "outcome",
            "invalid_outcome",
            "结果应为 corrected（已改正）或 not_corrected（逾期未改正）",
            "outcome must be corrected or not_corrected",
        )
    })
}

/// The officials with jurisdiction: the round's city and the province.
pub fn may_decide(principal: &Principal, round: &RoundRow) -> bool {
    principal.scope().may_manage_city(&round.jurisdiction_code)
}

fn require_decider(principal: &Principal, round: &RoundRow) -> Result<()> {
    if may_decide(principal, round) {
        Ok(())
    } else {
        Err(Error::Forbidden(Message::new(
            "本轮审核的执法决定由所在市州或省级作出",
            "enforcement on a round is decided by its city or the province",
        )))
    }
}

/// Records an order to correct, a fine or a public criticism on a round (the round's city or
/// the province); answers the decision's id. The kind is read first, so a malformed request is
/// refused the same way whatever the round. A fine under 促进法 Art. 39 follows an order found
/// not corrected after its date.
pub async fn decide(
    app: &App,
    principal: &Principal,
    round_id: i64,
    input: &EnforcementInput,
) -> Result<i64> {
    let kind = parse_kind(&input.kind)?;
    let round = app
        .db()
        .get_round(principal.scope(), round_id)
        .await?
        .ok_or(Error::NotFound)?;
    require_decider(principal, &round)?;
    let today = app.today();
    let decision = input.decision(kind, today)?;
    let book = app.rules();
    let document_number = input.document_number.trim().to_string();
    app.db()
        .record_enforcement(
            principal,
            &round,
            |orders| {
                let checked = check_decision(book, &decision, orders, today).map_err(refused)?;
                Ok::<_, Error>(EnforcementRecord {
                    decision,
                    checked,
                    document_number,
                })
            },
            app.now(),
        )
        .await
}

/// Records how an order to correct ended: corrected on a day, or not corrected once its date
/// has passed (the round's city or the province). Recorded once; answers the order's round.
pub async fn record_outcome(
    app: &App,
    principal: &Principal,
    order_id: i64,
    input: &OutcomeInput,
) -> Result<i64> {
    let outcome = parse_outcome(&input.outcome)?;
    let today = app.today();
    let on = optional_date("outcome_on", &input.outcome_on)?.unwrap_or(today);
    let (_, round) = app
        .db()
        .enforcement_with_round(principal.scope(), order_id)
        .await?
        .ok_or(Error::NotFound)?;
    require_decider(principal, &round)?;
    app.db()
        .record_enforcement_outcome(
            principal,
            &round,
            order_id,
            |order| {
                check_outcome(order, outcome, on, today).map_err(refused)?;
                Ok::<_, Error>((outcome, on))
            },
            app.now(),
        )
        .await?;
    Ok(round.id)
}
