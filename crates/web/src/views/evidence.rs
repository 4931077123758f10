//! Evidence and past rounds as the API shows them.

use chrono::NaiveDate;
use cpaudit_core::determination::{EvidenceKind, EvidenceSource, EvidenceStatus, RoundKind};
use cpaudit_storage::evidence::{EvidenceRow, PastRoundRow};
use cpaudit_storage::Reasons;
use serde::Serialize;
use utoipa::ToSchema;

/// One evidence record as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Evidence {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    #[schema(value_type = String)]
    pub kind: EvidenceKind,
    #[schema(value_type = String)]
    pub status: EvidenceStatus,
    #[schema(value_type = String)]
    pub observed_on: NaiveDate,
    #[schema(value_type = String)]
    pub source: EvidenceSource,
    pub document_ref: String,
    pub substance: String,
    pub amount: f64,
    pub limit_value: Option<f64>,
    pub unit: String,
    pub standard: String,
    pub toxic_category: Option<i64>,
    pub hw_code: String,
    pub summary: String,
    pub entered_by: String,
    pub entered_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    #[schema(value_type = Option<String>)]
    pub confirmed_on: Option<NaiveDate>,
    pub decision_reason: Option<String>,
    pub version: i64,
}

impl From<EvidenceRow> for Evidence {
    fn from(row: EvidenceRow) -> Self {
        Evidence {
            id: row.id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            jurisdiction_code: row.jurisdiction_code,
            kind: row.kind,
            status: row.status,
            observed_on: row.observed_on,
            source: row.source,
            document_ref: row.document_ref,
            substance: row.substance,
            amount: row.amount,
            limit_value: row.limit_value,
            unit: row.unit,
            standard: row.standard,
            toxic_category: row.toxic_category,
            hw_code: row.hw_code,
            summary: row.summary,
            entered_by: row.entered_by,
            entered_at: row.entered_at,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            confirmed_on: row.confirmed_on,
            decision_reason: row.decision_reason,
            version: row.version,
        }
    }
}

/// A past round as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PastRound {
    pub id: i64,
    pub enterprise_id: i64,
    pub list_year: i64,
    #[schema(value_type = String)]
    pub kind: RoundKind,
    #[schema(value_type = String)]
    pub reasons: Reasons,
    #[schema(value_type = Option<String>)]
    pub accepted_on: Option<NaiveDate>,
    pub source: String,
}

impl From<PastRoundRow> for PastRound {
    fn from(row: PastRoundRow) -> Self {
        PastRound {
            id: row.id,
            enterprise_id: row.enterprise_id,
            list_year: row.list_year,
            kind: row.kind,
            reasons: row.reasons,
            accepted_on: row.accepted_on,
            source: row.source,
        }
    }
}
