//! Whole-park audit pilots as the API shows them.

use chrono::NaiveDate;
use cpaudit_storage::park_audits::{ParkAuditRow, ParkAuditState};
use cpaudit_storage::JsonColumn;
use serde::Serialize;
use utoipa::ToSchema;

/// A park's audit pilot as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParkAudit {
    pub id: i64,
    pub park_id: i64,
    pub park_name: String,
    pub jurisdiction_code: String,
    pub title: String,
    #[schema(value_type = String)]
    pub started_on: NaiveDate,
    /// The targets: indicator, baseline, target, unit.
    #[schema(value_type = Vec<Object>)]
    pub targets: JsonColumn<Vec<serde_json::Value>>,
    pub measures: String,
    pub wastewater_status: String,
    pub wastewater_compliant: bool,
    /// under_way | assessed | failed
    #[schema(value_type = String)]
    pub state: ParkAuditState,
    #[schema(value_type = Option<String>)]
    pub assessed_on: Option<NaiveDate>,
    pub assessment_note: Option<String>,
    pub updated_at: String,
    pub updated_by: String,
}

impl From<ParkAuditRow> for ParkAudit {
    fn from(row: ParkAuditRow) -> Self {
        ParkAudit {
            id: row.id,
            park_id: row.park_id,
            park_name: row.park_name,
            jurisdiction_code: row.jurisdiction_code,
            title: row.title,
            started_on: row.started_on,
            targets: row.targets,
            measures: row.measures,
            wastewater_status: row.wastewater_status,
            wastewater_compliant: row.wastewater_compliant,
            state: row.state,
            assessed_on: row.assessed_on,
            assessment_note: row.assessment_note,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
        }
    }
}
