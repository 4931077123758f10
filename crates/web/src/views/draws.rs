//! Panel draws and assignments as the API shows them.

use cpaudit_core::draw::ReviewKind;
use cpaudit_storage::draws::{AssignmentRow, DrawRow};
use serde::Serialize;
use utoipa::ToSchema;

/// A draw as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Draw {
    pub id: i64,
    #[schema(value_type = String)]
    pub review_kind: ReviewKind,
    pub round_ref: String,
    pub enterprise_id: i64,
    pub organizer_code: String,
    /// The audit round the draw is for, when it was frozen for a stored round.
    pub round_id: Option<i64>,
    /// frozen | drawn
    pub stage: String,
    /// The frozen inputs (core `draw::DrawInputs` without sources).
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    pub frozen_at: String,
    /// The drawn record (core `draw::DrawRecord`), once drawn.
    #[schema(value_type = Option<Object>)]
    pub record: Option<serde_json::Value>,
    pub record_hash: Option<String>,
    pub finished_at: Option<String>,
}

impl From<DrawRow> for Draw {
    fn from(row: DrawRow) -> Self {
        Draw {
            id: row.id,
            review_kind: row.review_kind,
            round_ref: row.round_ref,
            enterprise_id: row.enterprise_id,
            organizer_code: row.organizer_code,
            round_id: row.round_id,
            stage: row.stage.as_str().into(),
            inputs: row.inputs.0,
            frozen_at: row.frozen_at,
            record: row.record.0,
            record_hash: row.record_hash,
            finished_at: row.finished_at,
        }
    }
}

/// One expert's assignment in a draw.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Assignment {
    pub draw_id: i64,
    pub expert_id: i64,
    pub rank: i64,
    /// panel | alternate
    pub role: String,
    /// pending | accepted | declined
    pub response: String,
    pub no_conflict_confirmed: bool,
    pub decline_reason: Option<String>,
    pub responded_at: Option<String>,
}

impl From<AssignmentRow> for Assignment {
    fn from(row: AssignmentRow) -> Self {
        Assignment {
            draw_id: row.draw_id,
            expert_id: row.expert_id,
            rank: row.rank,
            role: row.role.as_str().into(),
            response: row.response.as_str().into(),
            no_conflict_confirmed: row.no_conflict_confirmed,
            decline_reason: row.decline_reason,
            responded_at: row.responded_at,
        }
    }
}
