//! Lists, plans, the library, clocks and letters as the API shows them.

use chrono::NaiveDate;
use cpaudit_core::listing::{ClockKind, PlanStatus};
use cpaudit_core::planning::Placement;
use cpaudit_storage::lists::{
    ClockRow, LetterRow, LibraryAction, LibraryVersion as StoredVersion, ListKind,
    PlanEntry as StoredPlanEntry, PlanRow, PublishedEntry as StoredEntry,
    PublishedList as StoredList,
};
use cpaudit_storage::{Reasons, ToxicCategories};
use serde::Serialize;
use utoipa::ToSchema;

/// One version of one library entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LibraryVersion {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_code: String,
    #[schema(value_type = String)]
    pub action: LibraryAction,
    #[schema(value_type = String)]
    pub reasons: Reasons,
    #[schema(value_type = String)]
    pub toxic_categories: ToxicCategories,
    pub due_year: Option<i64>,
    /// The evidence the entry rests on.
    pub evidence_ids: Vec<i64>,
    pub note: String,
    pub valid_from: NaiveDate,
    pub recorded_at: String,
    pub recorded_by: String,
}

impl From<StoredVersion> for LibraryVersion {
    fn from(row: StoredVersion) -> Self {
        LibraryVersion {
            id: row.id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            credit_code: row.credit_code,
            jurisdiction_code: row.jurisdiction_code,
            action: row.action,
            reasons: row.reasons,
            toxic_categories: row.toxic_categories,
            due_year: row.due_year,
            evidence_ids: row.evidence_ids,
            note: row.note,
            valid_from: row.valid_from,
            recorded_at: row.recorded_at,
            recorded_by: row.recorded_by,
        }
    }
}

/// A city's plan for a list year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Plan {
    pub id: i64,
    pub jurisdiction_code: String,
    pub list_year: i64,
    #[schema(value_type = String)]
    pub status: PlanStatus,
    pub plan_text: String,
    pub schedule_text: String,
    /// The submission deadline (rule calendar.city_list_submission).
    pub deadline: NaiveDate,
    pub submitted_at: Option<String>,
    pub submitted_late: bool,
    pub review_comment: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<PlanRow> for Plan {
    fn from(row: PlanRow) -> Self {
        Plan {
            id: row.id,
            jurisdiction_code: row.jurisdiction_code,
            list_year: row.list_year,
            status: row.status,
            plan_text: row.plan_text,
            schedule_text: row.schedule_text,
            deadline: row.deadline,
            submitted_at: row.submitted_at,
            submitted_late: row.submitted_late,
            review_comment: row.review_comment,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One enterprise on a plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanEntry {
    pub enterprise_id: i64,
    pub enterprise_name: String,
    /// Reason codes, comma-separated.
    #[schema(value_type = String)]
    pub reasons: Reasons,
    /// Toxic categories 1 to 5, comma-separated.
    #[schema(value_type = String)]
    pub toxic_categories: ToxicCategories,
    pub due_year: Option<i64>,
    #[schema(value_type = String)]
    pub placement: Placement,
    pub note: String,
}

impl From<StoredPlanEntry> for PlanEntry {
    fn from(row: StoredPlanEntry) -> Self {
        PlanEntry {
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            reasons: row.reasons,
            toxic_categories: row.toxic_categories,
            due_year: row.due_year,
            placement: row.placement,
            note: row.note,
        }
    }
}

/// A published list (one version of one batch).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedList {
    pub id: i64,
    pub list_year: i64,
    pub batch: i64,
    #[schema(value_type = String)]
    pub kind: ListKind,
    pub version: i64,
    pub supersedes: Option<i64>,
    pub superseded_by: Option<i64>,
    pub correction_reason: Option<String>,
    pub title: String,
    pub document_number: String,
    pub published_on: NaiveDate,
    pub published_at: String,
    pub entry_count: i64,
}

impl From<StoredList> for PublishedList {
    fn from(row: StoredList) -> Self {
        PublishedList {
            id: row.id,
            list_year: row.list_year,
            batch: row.batch,
            kind: row.kind,
            version: row.version,
            supersedes: row.supersedes,
            superseded_by: row.superseded_by,
            correction_reason: row.correction_reason,
            title: row.title,
            document_number: row.document_number,
            published_on: row.published_on,
            published_at: row.published_at,
            entry_count: row.entry_count,
        }
    }
}

/// One enterprise on a published list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedEntry {
    pub list_id: i64,
    pub enterprise_id: i64,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    pub credit_code: String,
    pub name: String,
    pub industry_code: String,
    pub industry_name_zh: String,
    #[schema(value_type = String)]
    pub reasons: Reasons,
    #[schema(value_type = String)]
    pub toxic_categories: ToxicCategories,
    pub due_year: Option<i64>,
    /// The publication date the entry's clocks run from.
    pub clocks_from: NaiveDate,
}

impl From<StoredEntry> for PublishedEntry {
    fn from(row: StoredEntry) -> Self {
        PublishedEntry {
            list_id: row.list_id,
            enterprise_id: row.enterprise_id,
            jurisdiction_code: row.jurisdiction_code,
            jurisdiction_name_zh: row.jurisdiction_name_zh,
            credit_code: row.credit_code,
            name: row.name,
            industry_code: row.industry_code,
            industry_name_zh: row.industry_name_zh,
            reasons: row.reasons,
            toxic_categories: row.toxic_categories,
            due_year: row.due_year,
            clocks_from: row.clocks_from,
        }
    }
}

/// A stored clock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Clock {
    pub list_id: i64,
    pub enterprise_id: i64,
    #[schema(value_type = String)]
    pub kind: ClockKind,
    pub starts_on: NaiveDate,
    pub nominal_on: NaiveDate,
    pub effective_on: NaiveDate,
    pub rule_id: String,
    pub rule_book_version: String,
    /// The rule that fixed the clock: value, citations and their confidence.
    #[schema(value_type = Object)]
    pub rule: cpaudit_core::rules::RuleRef,
    pub calendar_version: String,
    /// Comma-separated years the holiday calendar did not cover (fallback to weekends).
    pub uncovered_years: String,
    pub trace_zh: String,
    pub trace_en: String,
}

impl From<ClockRow> for Clock {
    fn from(row: ClockRow) -> Self {
        Clock {
            list_id: row.list_id,
            enterprise_id: row.enterprise_id,
            kind: row.kind,
            starts_on: row.starts_on,
            nominal_on: row.nominal_on,
            effective_on: row.effective_on,
            rule_id: row.rule_id,
            rule_book_version: row.rule_book_version,
            rule: row.rule.0,
            calendar_version: row.calendar_version,
            uncovered_years: row.uncovered_years,
            trace_zh: row.trace_zh,
            trace_en: row.trace_en,
        }
    }
}

/// A written notification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Letter {
    pub id: i64,
    pub list_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub number: String,
    pub issued_on: NaiveDate,
    pub delivered_on: Option<NaiveDate>,
    pub delivery_method: Option<String>,
    pub delivery_note: Option<String>,
}

impl From<LetterRow> for Letter {
    fn from(row: LetterRow) -> Self {
        Letter {
            id: row.id,
            list_id: row.list_id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            jurisdiction_code: row.jurisdiction_code,
            number: row.number,
            issued_on: row.issued_on,
            delivered_on: row.delivered_on,
            delivery_method: row.delivery_method,
            delivery_note: row.delivery_note,
        }
    }
}
