//! Reviews, their panels and score sheets as the API shows them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cpaudit_core::round::{ReviewConclusion, ReviewKind};
use cpaudit_core::scoring::ScoreSheet as CoreSheet;
use cpaudit_storage::reviews::{PanelSeatRow, ReviewRow, ScoreSheetRow};
use serde::Serialize;
use utoipa::ToSchema;

/// A review as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Review {
    pub id: i64,
    pub round_id: i64,
    /// assessment | acceptance | combined
    #[schema(value_type = String)]
    pub kind: ReviewKind,
    pub draw_id: i64,
    pub meeting_on: NaiveDate,
    pub place: String,
    /// The version of the scoring form in force on the meeting day.
    pub scoring_form: String,
    pub scheduled_by: String,
    pub scheduled_at: String,
    /// What the sheets proposed when the organizer decided.
    #[schema(value_type = Option<String>)]
    pub proposed_conclusion: Option<ReviewConclusion>,
    #[schema(value_type = Option<String>)]
    pub conclusion: Option<ReviewConclusion>,
    pub score: Option<f64>,
    pub reasons: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub opinion_number: Option<String>,
}

impl From<ReviewRow> for Review {
    fn from(row: ReviewRow) -> Self {
        Review {
            id: row.id,
            round_id: row.round_id,
            kind: row.kind,
            draw_id: row.draw_id,
            meeting_on: row.meeting_on,
            place: row.place,
            scoring_form: row.scoring_form,
            scheduled_by: row.scheduled_by,
            scheduled_at: row.scheduled_at,
            proposed_conclusion: row.proposed_conclusion,
            conclusion: row.conclusion,
            score: row.score,
            reasons: row.reasons,
            decided_on: row.decided_on,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            opinion_number: row.opinion_number,
        }
    }
}

/// A seated member of a review's panel (an accepted panel seat of its draw).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PanelSeat {
    pub expert_id: i64,
    pub name: String,
    /// Professional title (职称).
    pub title: String,
    pub rank: i64,
    /// When the member's current sheet came in; `None` while they have not scored.
    pub submitted_at: Option<String>,
}

impl From<PanelSeatRow> for PanelSeat {
    fn from(row: PanelSeatRow) -> Self {
        PanelSeat {
            expert_id: row.expert_id,
            name: row.name,
            title: row.title,
            rank: row.rank,
            submitted_at: row.submitted_at,
        }
    }
}

/// One expert's score sheet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoreSheet {
    pub review_id: i64,
    pub expert_id: i64,
    pub expert_name: String,
    /// Points per item id.
    pub items: BTreeMap<String, f64>,
    /// Marked veto item ids.
    pub vetoes: Vec<String>,
    pub total: f64,
    pub opinion: String,
    pub submitted_at: String,
}

impl From<ScoreSheetRow> for ScoreSheet {
    fn from(row: ScoreSheetRow) -> Self {
        ScoreSheet {
            review_id: row.review_id,
            expert_id: row.expert_id,
            expert_name: row.expert_name,
            items: row.items.0,
            vetoes: row.vetoes.0,
            total: row.total,
            opinion: row.opinion,
            submitted_at: row.submitted_at,
        }
    }
}

impl ScoreSheet {
    /// The sheet as core reads it.
    pub fn sheet(&self) -> CoreSheet {
        CoreSheet {
            items: self.items.clone(),
            vetoes: self.vetoes.clone(),
            opinion: self.opinion.clone(),
        }
    }
}
