//! Enforcement decisions as the API shows them.

use chrono::NaiveDate;
use cpaudit_core::enforcement::Outcome;
use cpaudit_storage::enforcement::{EnforcementRow, OverdueOrderRow};
use serde::Serialize;
use utoipa::ToSchema;

/// One enforcement decision on a round.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Enforcement {
    pub id: i64,
    pub round_id: i64,
    /// order_to_correct | fine | public_criticism
    pub kind: String,
    /// The rule id of the article applied, e.g. penalty.law_39_1.
    pub basis: String,
    /// The order to correct a fine follows.
    pub follows: Option<i64>,
    pub reason: String,
    /// The decision's document number (文号), when given.
    pub document_number: String,
    pub decided_on: NaiveDate,
    /// Orders: the last day to correct.
    pub correct_by: Option<NaiveDate>,
    /// Fines: the amount in yuan.
    pub amount_yuan: Option<i64>,
    /// On the public list (public criticisms always, fines when the official chose so).
    pub published: bool,
    /// Orders: corrected | not_corrected, once recorded.
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Outcome>,
    pub outcome_on: Option<NaiveDate>,
    /// The article as in force on the decision day.
    #[schema(value_type = Object)]
    pub rule: cpaudit_core::rules::RuleRef,
    pub decided_by: String,
    pub decided_at: String,
}

impl From<EnforcementRow> for Enforcement {
    fn from(row: EnforcementRow) -> Self {
        Enforcement {
            id: row.id,
            round_id: row.round_id,
            kind: row.kind.as_str().into(),
            basis: row.basis,
            follows: row.follows,
            reason: row.reason,
            document_number: row.document_number,
            decided_on: row.decided_on,
            correct_by: row.correct_by,
            amount_yuan: row.amount_yuan,
            published: row.published,
            outcome: row.outcome,
            outcome_on: row.outcome_on,
            rule: row.rule.0,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
        }
    }
}

/// An order to correct whose date passed with no outcome recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueOrder {
    pub id: i64,
    pub round_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub basis: String,
    pub decided_on: NaiveDate,
    pub correct_by: NaiveDate,
}

impl From<OverdueOrderRow> for OverdueOrder {
    fn from(row: OverdueOrderRow) -> Self {
        OverdueOrder {
            id: row.id,
            round_id: row.round_id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            jurisdiction_code: row.jurisdiction_code,
            basis: row.basis,
            decided_on: row.decided_on,
            correct_by: row.correct_by,
        }
    }
}
