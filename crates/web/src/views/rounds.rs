//! Rounds, their timeline, deadlines and phases as the API shows them.

use chrono::NaiveDate;
use cpaudit_core::deadlines::DeadlineKind;
use cpaudit_core::round::{RoundState, Track};
use cpaudit_storage::rounds::{DeadlineRow, PhaseRow, RoundEventRow, RoundListRow, RoundRow};
use serde::Serialize;
use utoipa::ToSchema;

use cpaudit_storage::Reasons;

/// A round, with the names a page shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Round {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    pub industry_code: String,
    pub key_industry_id: Option<String>,
    pub list_id: i64,
    pub list_year: i64,
    /// Comma-separated reasons as published (exceed_concentration, double_toxic).
    #[schema(value_type = String)]
    pub reasons: Reasons,
    pub toxic_categories: String,
    /// standard | small_micro
    #[schema(value_type = String)]
    pub track: Track,
    pub organizer_code: String,
    #[schema(value_type = String)]
    pub state: RoundState,
    pub state_since: String,
    /// self | consultancy, once the start is filed or drafted.
    pub audit_mode: Option<String>,
    pub consultancy_id: Option<i64>,
    pub consultancy_name: Option<String>,
    /// The start filing (audit team, work plan, Art. 15 evidence), once filed or drafted.
    #[schema(value_type = Option<Object>)]
    pub start_filing: Option<serde_json::Value>,
    pub listed_on: NaiveDate,
    pub rule_book_version: String,
    pub version: i64,
}

impl From<RoundRow> for Round {
    fn from(row: RoundRow) -> Self {
        Round {
            id: row.id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            credit_code: row.credit_code,
            jurisdiction_code: row.jurisdiction_code,
            jurisdiction_name_zh: row.jurisdiction_name_zh,
            industry_code: row.industry_code,
            key_industry_id: row.key_industry_id,
            list_id: row.list_id,
            list_year: row.list_year,
            reasons: row.reasons,
            toxic_categories: row.toxic_categories,
            track: row.track,
            organizer_code: row.organizer_code,
            state: row.state,
            state_since: row.state_since,
            audit_mode: row.audit_mode.map(|mode| mode.as_str().into()),
            consultancy_id: row.consultancy_id,
            consultancy_name: row.consultancy_name,
            start_filing: row.start_filing.0,
            listed_on: row.listed_on,
            rule_book_version: row.rule_book_version,
            version: row.version,
        }
    }
}

/// One entry of a round's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundEvent {
    pub id: i64,
    pub round_id: i64,
    pub action: String,
    #[schema(value_type = Option<String>)]
    pub from_state: Option<RoundState>,
    #[schema(value_type = Option<String>)]
    pub to_state: Option<RoundState>,
    pub actor: String,
    pub actor_role: String,
    pub reason: String,
    /// What the step recorded besides (a review's meeting day and place).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The ids of the documents attached to the step.
    pub attachments: Vec<i64>,
    pub at: String,
}

impl From<RoundEventRow> for RoundEvent {
    fn from(row: RoundEventRow) -> Self {
        RoundEvent {
            id: row.id,
            round_id: row.round_id,
            action: row.action,
            from_state: row.from_state,
            to_state: row.to_state,
            actor: row.actor,
            actor_role: row.actor_role,
            reason: row.reason,
            detail: row.detail.0,
            attachments: row.attachments.0,
            at: row.at,
        }
    }
}

/// One deadline of a round.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deadline {
    pub round_id: i64,
    /// disclose | start | report | rectify | accept
    #[schema(value_type = String)]
    pub kind: DeadlineKind,
    pub seq: i64,
    pub starts_on: NaiveDate,
    pub nominal_on: NaiveDate,
    /// The effective last day (after rest days and holidays).
    pub due_on: NaiveDate,
    pub rule_id: String,
    pub rule_book_version: String,
    #[schema(value_type = Object)]
    pub rule: cpaudit_core::rules::RuleRef,
    pub trace_zh: String,
    pub trace_en: String,
    pub met_on: Option<NaiveDate>,
    pub closed_reason: Option<String>,
}

impl From<DeadlineRow> for Deadline {
    fn from(row: DeadlineRow) -> Self {
        Deadline {
            round_id: row.round_id,
            kind: row.kind,
            seq: row.seq,
            starts_on: row.starts_on,
            nominal_on: row.nominal_on,
            due_on: row.due_on,
            rule_id: row.rule_id,
            rule_book_version: row.rule_book_version,
            rule: row.rule.0,
            trace_zh: row.trace_zh,
            trace_en: row.trace_en,
            met_on: row.met_on,
            closed_reason: row.closed_reason,
        }
    }
}

/// A phase of a round as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundPhase {
    pub phase: i64,
    pub started_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub summary: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl From<PhaseRow> for RoundPhase {
    fn from(row: PhaseRow) -> Self {
        RoundPhase {
            phase: row.phase,
            started_on: row.started_on,
            completed_on: row.completed_on,
            summary: row.summary,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
        }
    }
}

/// A round on a work list: the round and its next open deadline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundListEntry {
    #[serde(flatten)]
    pub round: Round,
    /// The earliest last day of the open deadlines.
    pub next_due_on: Option<NaiveDate>,
    /// The kind of that deadline.
    #[schema(value_type = Option<String>)]
    pub next_due_kind: Option<DeadlineKind>,
}

impl From<RoundListRow> for RoundListEntry {
    fn from(row: RoundListRow) -> Self {
        RoundListEntry {
            round: row.round.into(),
            next_due_on: row.next_due_on,
            next_due_kind: row.next_due_kind,
        }
    }
}
