//! Notices and overdue deadlines as the API shows them.

use chrono::NaiveDate;
use cpaudit_core::deadlines::{DeadlineKind, NoticeKind};
use cpaudit_core::round::RoundState;
use cpaudit_storage::notices::{NoticeRow, OverdueRow};
use serde::Serialize;
use utoipa::ToSchema;

/// A notice as its reader sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notice {
    pub id: i64,
    pub round_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    /// disclose | start | report | rectify | accept
    #[schema(value_type = String)]
    pub deadline_kind: DeadlineKind,
    pub deadline_seq: i64,
    /// The deadline's effective last day.
    pub deadline_due_on: NaiveDate,
    /// reminder | overdue | escalation
    #[schema(value_type = String)]
    pub kind: NoticeKind,
    /// The day the schedule put the notice on.
    pub scheduled_on: NaiveDate,
    pub fired_on: NaiveDate,
    pub fired_at: String,
    pub message_zh: String,
    pub message_en: String,
    /// When the caller marked it read; none while unread.
    pub read_at: Option<String>,
}

impl From<NoticeRow> for Notice {
    fn from(row: NoticeRow) -> Self {
        Notice {
            id: row.id,
            round_id: row.round_id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            jurisdiction_code: row.jurisdiction_code,
            jurisdiction_name_zh: row.jurisdiction_name_zh,
            deadline_kind: row.deadline_kind,
            deadline_seq: row.deadline_seq,
            deadline_due_on: row.deadline_due_on,
            kind: row.kind,
            scheduled_on: row.scheduled_on,
            fired_on: row.fired_on,
            fired_at: row.fired_at,
            message_zh: row.message_zh,
            message_en: row.message_en,
            read_at: row.read_at,
        }
    }
}

/// An open deadline past its last day, for the city's and the province's work lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueDeadline {
    pub round_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    #[schema(value_type = String)]
    pub round_state: RoundState,
    /// disclose | start | report | rectify | accept
    #[schema(value_type = String)]
    pub deadline_kind: DeadlineKind,
    pub deadline_seq: i64,
    /// The effective last day.
    pub due_on: NaiveDate,
    pub rule_id: String,
    /// Days since the last day (1 on the first day overdue).
    pub days_overdue: i64,
    /// The day the escalation to the province fired, if it has.
    pub escalated_on: Option<NaiveDate>,
}

impl From<OverdueRow> for OverdueDeadline {
    fn from(row: OverdueRow) -> Self {
        OverdueDeadline {
            round_id: row.round_id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            credit_code: row.credit_code,
            jurisdiction_code: row.jurisdiction_code,
            jurisdiction_name_zh: row.jurisdiction_name_zh,
            round_state: row.round_state,
            deadline_kind: row.deadline_kind,
            deadline_seq: row.deadline_seq,
            due_on: row.due_on,
            rule_id: row.rule_id,
            days_overdue: row.days_overdue,
            escalated_on: row.escalated_on,
        }
    }
}
