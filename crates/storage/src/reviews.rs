//! Reviews of a round (评估, 验收, the combined small/micro review): the review the organizer
//! schedules with a drawn panel, the panel's score sheets and the decision.
//!
//! The transition code (schedule, decide) calls [`insert_review`] and [`record_decision`]
//! inside its own transaction, which it commits with the round's new state and timeline step
//! (they take a [`Tx`] so that they cannot run outside one); this module adds the reads the pages need, the panel-ready check
//! the schedule guard reads ([`Db::ready_panel_draw`]), and the one write an expert makes:
//! [`Db::submit_score_sheet`]. A sheet is checked against the review's scoring form by the
//! caller (core `scoring`); storage enforces who may submit and when.

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::round::{ReviewConclusion, ReviewKind};
use cpaudit_core::scoring::ScoreSheet;
use serde::Serialize;
use serde_json::{json, Value};

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::draws::DrawRow;
use crate::evidence::date_text;
use crate::rounds::{
    append_round_event, audit_round_step, require_open, RoundEventInsert, RoundRow,
};
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, Scope, StorageError, Tx};

/// A review as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewRow {
    pub id: i64,
    pub round_id: i64,
    pub kind: ReviewKind,
    pub draw_id: i64,
    pub meeting_on: NaiveDate,
    pub place: String,
    /// The version of the scoring form in force on the meeting day.
    pub scoring_form: String,
    pub scheduled_by: String,
    pub scheduled_at: String,
    /// What the sheets proposed when the organizer decided.
    pub proposed_conclusion: Option<ReviewConclusion>,
    pub conclusion: Option<ReviewConclusion>,
    pub score: Option<f64>,
    pub reasons: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub opinion_number: Option<String>,
}

/// The columns of [`REVIEW_SELECT`] as they come from the database. Every read of a
/// [`ReviewRow`] goes through it: the kind, the conclusions and the days are decoded then, and
/// a value this version does not know fails the read ([`StorageError::Corrupt`]).
#[derive(sqlx::FromRow)]
struct StoredReview {
    id: i64,
    round_id: i64,
    kind: String,
    draw_id: i64,
    meeting_on: String,
    place: String,
    scoring_form: String,
    scheduled_by: String,
    scheduled_at: String,
    proposed_conclusion: Option<String>,
    conclusion: Option<String>,
    score: Option<f64>,
    reasons: Option<String>,
    decided_on: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<String>,
    opinion_number: Option<String>,
}

impl StoredReview {
    fn decode(self) -> Result<ReviewRow> {
        let row = StoredRow::new("reviews", self.id);
        Ok(ReviewRow {
            id: self.id,
            round_id: self.round_id,
            kind: row.read("kind", &self.kind)?,
            draw_id: self.draw_id,
            meeting_on: row.read("meeting_on", &self.meeting_on)?,
            place: self.place,
            scoring_form: self.scoring_form,
            scheduled_by: self.scheduled_by,
            scheduled_at: self.scheduled_at,
            proposed_conclusion: row
                .read_optional("proposed_conclusion", self.proposed_conclusion.as_deref())?,
            conclusion: row.read_optional("conclusion", self.conclusion.as_deref())?,
            score: self.score,
            reasons: self.reasons,
            decided_on: row.read_optional("decided_on", self.decided_on.as_deref())?,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            opinion_number: self.opinion_number,
        })
    }
}

crate::decoded_row!(ReviewRow, StoredReview);

impl ReviewRow {
    /// Whether the organizer has recorded the conclusion.
    pub fn is_decided(&self) -> bool {
        self.conclusion.is_some()
    }
}

/// A seated member of a review's panel (an accepted panel seat of its draw).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PanelSeatRow {
    pub expert_id: i64,
    pub name: String,
    /// Professional title (职称).
    pub title: String,
    pub rank: i64,
    /// When the member's current sheet came in; `None` while they have not scored.
    pub submitted_at: Option<String>,
}

/// One expert's score sheet as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ScoreSheetRow {
    pub review_id: i64,
    pub expert_id: i64,
    pub expert_name: String,
    /// Points per item id.
    #[sqlx(rename = "items_json", try_from = "String")]
    pub items: crate::JsonColumn<std::collections::BTreeMap<String, f64>>,
    /// Marked veto item ids.
    #[sqlx(rename = "vetoes_json", try_from = "String")]
    pub vetoes: crate::JsonColumn<Vec<String>>,
    pub total: f64,
    pub opinion: String,
    pub submitted_at: String,
}

impl ScoreSheetRow {
    /// The sheet as core reads it.
    pub fn sheet(&self) -> ScoreSheet {
        ScoreSheet {
            items: self.items.0.clone(),
            vetoes: self.vetoes.0.clone(),
            opinion: self.opinion.clone(),
        }
    }
}

/// A decided review as the public sees it: no expert, no score sheet.
#[derive(Debug, Clone, Serialize)]
pub struct PublicReviewRow {
    pub review_id: i64,
    pub round_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_name_zh: String,
    pub list_year: i64,
    pub kind: ReviewKind,
    pub conclusion: ReviewConclusion,
    pub decided_on: NaiveDate,
    pub opinion_number: Option<String>,
}

/// The columns of a [`PublicReviewRow`] as stored.
#[derive(sqlx::FromRow)]
struct StoredPublicReview {
    review_id: i64,
    round_id: i64,
    enterprise_name: String,
    credit_code: String,
    jurisdiction_name_zh: String,
    list_year: i64,
    kind: String,
    conclusion: String,
    decided_on: String,
    opinion_number: Option<String>,
}

impl StoredPublicReview {
    fn decode(self) -> Result<PublicReviewRow> {
        let row = StoredRow::new("reviews", self.review_id);
        Ok(PublicReviewRow {
            review_id: self.review_id,
            round_id: self.round_id,
            enterprise_name: self.enterprise_name,
            credit_code: self.credit_code,
            jurisdiction_name_zh: self.jurisdiction_name_zh,
            list_year: self.list_year,
            kind: row.read("kind", &self.kind)?,
            conclusion: row.read("conclusion", &self.conclusion)?,
            decided_on: row.read("decided_on", &self.decided_on)?,
            opinion_number: self.opinion_number,
        })
    }
}

crate::decoded_row!(PublicReviewRow, StoredPublicReview);

const REVIEW_SELECT: &str = "SELECT id, round_id, kind, draw_id, meeting_on, place, \
    scoring_form, scheduled_by, scheduled_at, proposed_conclusion, conclusion, score, reasons, \
    decided_on, decided_by, decided_at, opinion_number FROM reviews";

/// Schedules a review of a round with the panel of `draw`, inside the schedule
/// transition's transaction. Returns the review's id.
#[allow(clippy::too_many_arguments)]
pub async fn insert_review(
    tx: &mut Tx,
    round: &InScope<RoundRow>,
    kind: ReviewKind,
    draw: &InScope<DrawRow>,
    meeting_on: NaiveDate,
    place: &str,
    scoring_form_version: &str,
    actor: &Principal,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO reviews (round_id, kind, draw_id, meeting_on, place, scoring_form, \
             scheduled_by, scheduled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(round.id)
        .bind(kind.as_str())
        .bind(draw.id)
        .bind(date_text(meeting_on))
        .bind(place.trim())
        .bind(scoring_form_version)
        .bind(actor.actor())
        .bind(timestamp(now))
        .fetch_one(conn)
        .await
    })?)
}

/// The organizer's decision on a review, as the decide transition records it.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    /// What the sheets proposed (core `scoring::propose`), kept beside the decision.
    pub proposed: Option<ReviewConclusion>,
    pub conclusion: ReviewConclusion,
    /// The panel's score the opinion states.
    pub score: Option<f64>,
    pub reasons: &'a str,
    pub decided_on: NaiveDate,
    pub opinion_number: &'a str,
}

/// Records the decision on an undecided review, inside the decide transition's transaction,
/// and finishes its draw so that the panel's names become public. A conclusion the review's
/// kind does not have, or a review decided already, is refused.
pub async fn record_decision(
    tx: &mut Tx,
    review: &InScope<ReviewRow>,
    decision: &Decision<'_>,
    actor: &Principal,
    now: DateTime<Utc>,
) -> Result<()> {
    if !review.kind.conclusions().contains(&decision.conclusion) {
        return Err(StorageError::invalid(
            "conclusion",
            "conclusion_not_for_kind",
            format!(
                "{}不能作出“{}”的结论",
                review.kind.label_zh(),
                decision.conclusion.label_zh()
            ),
            format!(
                "a {} review cannot conclude {}",
                review.kind.label_en(),
                decision.conclusion.label_en()
            ),
        ));
    }
    let updated = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE reviews SET proposed_conclusion = $1, conclusion = $2, score = $3, \
             reasons = $4, decided_on = $5, decided_by = $6, decided_at = $7, opinion_number = $8 \
             WHERE id = $9 AND conclusion IS NULL",
        )
        .bind(decision.proposed.map(ReviewConclusion::as_str))
        .bind(decision.conclusion.as_str())
        .bind(decision.score)
        .bind(decision.reasons.trim())
        .bind(date_text(decision.decided_on))
        .bind(actor.actor())
        .bind(timestamp(now))
        .bind(decision.opinion_number.trim())
        .bind(review.id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    if updated == 0 {
        return Err(StorageError::conflict(
            "review_already_decided",
            "该评审已作出结论，不能重复决定",
            "the review is decided already",
        ));
    }
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE draws SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL")
            .bind(timestamp(now))
            .bind(review.draw_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(())
}

async fn review_in_tx(tx: &mut Tx, review_id: i64) -> Result<ReviewRow> {
    let text = format!("{REVIEW_SELECT} WHERE id = $1");
    on_tx!(tx, |conn| {
        sqlx::query_as(&text)
            .bind(review_id)
            .fetch_optional(conn)
            .await
    })?
    .ok_or(StorageError::NotFound)
}

/// Whether the caller organizes the round's reviews (the province, or the organizing city).
pub fn is_organizer(scope: &Scope, round: &RoundRow) -> bool {
    match scope.kind() {
        ScopeKind::Province => true,
        ScopeKind::City(code) => *code == round.organizer_code,
        _ => false,
    }
}

impl Db {
    /// A review with its round, if the caller's scope covers the round (an expert: a round of
    /// a draw in which they accepted a seat).
    pub async fn get_review(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<(InScope<ReviewRow>, InScope<RoundRow>)>> {
        let text = format!("{REVIEW_SELECT} WHERE id = $1");
        let review: Option<ReviewRow> = on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(id).fetch_optional(pool).await?
        });
        let Some(review) = review else {
            return Ok(None);
        };
        Ok(self
            .get_round(scope, review.round_id)
            .await?
            .map(|round| (InScope::granted(review), round)))
    }

    /// The newest review of a round the caller has read within its scope.
    pub async fn latest_review(
        &self,
        round: &InScope<RoundRow>,
    ) -> Result<Option<InScope<ReviewRow>>> {
        let text = format!("{REVIEW_SELECT} WHERE round_id = $1 ORDER BY id DESC LIMIT 1");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(round.id)
                .fetch_optional(pool)
                .await?
        })
        .map(InScope::granted))
    }

    /// The seated panel of a review (accepted panel seats of its draw, by rank) and when each
    /// member's sheet came in. The caller has read the review within its scope.
    pub async fn review_panel(&self, review: &InScope<ReviewRow>) -> Result<Vec<PanelSeatRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT a.expert_id, x.name, x.title, a.rank, s.submitted_at \
                 FROM draw_assignments a JOIN experts x ON x.id = a.expert_id \
                 LEFT JOIN review_scores s ON s.review_id = $1 AND s.expert_id = a.expert_id \
                 WHERE a.draw_id = $2 AND a.role = 'panel' AND a.response = 'accepted' \
                 ORDER BY a.rank",
            )
            .bind(review.id)
            .bind(review.draw_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Whether every seated panel member has a sheet in (and at least one is seated): the
    /// decide guard "scores complete".
    pub async fn scores_complete(&self, review: &InScope<ReviewRow>) -> Result<bool> {
        let (seated, missing): (i64, i64) = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*), COUNT(*) - COUNT(s.expert_id) FROM reviews r \
                 JOIN draw_assignments a ON a.draw_id = r.draw_id AND a.role = 'panel' \
                 AND a.response = 'accepted' \
                 LEFT JOIN review_scores s ON s.review_id = r.id AND s.expert_id = a.expert_id \
                 WHERE r.id = $1",
            )
            .bind(review.id)
            .fetch_one(pool)
            .await?
        });
        Ok(seated > 0 && missing == 0)
    }

    /// The sheets the caller may read: the organizer all of them; a seated expert their own
    /// until the decision and all of them after; anyone else none.
    pub async fn review_sheets(
        &self,
        actor: &Principal,
        review: &InScope<ReviewRow>,
        round: &InScope<RoundRow>,
    ) -> Result<Vec<ScoreSheetRow>> {
        let all = self.all_sheets(review).await?;
        Ok(match actor.scope().kind() {
            _ if is_organizer(actor.scope(), round) => all,
            ScopeKind::Expert(_) if review.is_decided() => all,
            ScopeKind::Expert(own) => all.into_iter().filter(|s| s.expert_id == *own).collect(),
            _ => Vec::new(),
        })
    }

    /// Every sheet of a review, by expert, for the proposal. Not for display: see
    /// [`Db::review_sheets`].
    pub async fn all_sheets(&self, review: &InScope<ReviewRow>) -> Result<Vec<ScoreSheetRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT s.review_id, s.expert_id, x.name AS expert_name, s.items_json, \
                 s.vetoes_json, s.total, s.opinion, s.submitted_at FROM review_scores s \
                 JOIN experts x ON x.id = s.expert_id WHERE s.review_id = $1 ORDER BY s.expert_id",
            )
            .bind(review.id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Decided reviews, newest first: public information.
    pub async fn published_reviews(&self) -> Result<Vec<PublicReviewRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT v.id AS review_id, v.round_id, e.name AS enterprise_name, e.credit_code, \
                 j.name_zh AS jurisdiction_name_zh, r.list_year, v.kind, v.conclusion, \
                 v.decided_on, v.opinion_number FROM reviews v \
                 JOIN rounds r ON r.id = v.round_id JOIN enterprises e ON e.id = r.enterprise_id \
                 JOIN jurisdictions j ON j.code = r.jurisdiction_code \
                 WHERE v.conclusion IS NOT NULL AND v.decided_on IS NOT NULL \
                 ORDER BY v.decided_on DESC, v.id DESC",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// The newest draw for this round and review kind whose panel is full with every seat
    /// accepted: the schedule guard "panel ready". A seat that was declined counts once its
    /// alternate has accepted; while any panel seat waits for an answer, or a declined seat
    /// found no alternate, the panel is not ready.
    pub async fn ready_panel_draw(
        &self,
        round: &InScope<RoundRow>,
        kind: ReviewKind,
    ) -> Result<Option<InScope<DrawRow>>> {
        let draws: Vec<(i64, Option<String>)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, record_json FROM draws WHERE round_id = $1 AND review_kind = $2 \
                 AND stage = 'drawn' ORDER BY id DESC",
            )
            .bind(round.id)
            .bind(kind.as_str())
            .fetch_all(pool)
            .await?
        });
        for (draw_id, record_json) in draws {
            let seats = record_json
                .as_deref()
                .and_then(|json| serde_json::from_str::<Value>(json).ok())
                .and_then(|record| record["panel"].as_array().map(Vec::len))
                .unwrap_or(0);
            if seats > 0 && self.panel_filled(draw_id, seats).await? {
                return self.get_draw(draw_id).await;
            }
        }
        Ok(None)
    }

    async fn panel_filled(&self, draw_id: i64, seats: usize) -> Result<bool> {
        let (accepted, pending): (i64, i64) = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN response = 'accepted' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN response = 'pending' THEN 1 ELSE 0 END), 0) \
                 FROM draw_assignments WHERE draw_id = $1 AND role = 'panel'",
            )
            .bind(draw_id)
            .fetch_one(pool)
            .await?
        });
        Ok(pending == 0 && usize::try_from(accepted).unwrap_or(0) >= seats)
    }

    /// An expert's score sheet (checked against the review's form by the caller): only a
    /// seated panel member, only before the decision. A later sheet replaces the earlier one;
    /// the audit chain keeps both. Adds a step to the round's timeline.
    pub async fn submit_score_sheet(
        &self,
        actor: &Principal,
        (review, round): (&InScope<ReviewRow>, &InScope<RoundRow>),
        sheet: &ScoreSheet,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let ScopeKind::Expert(expert_id) = actor.scope().kind() else {
            return Err(not_seated());
        };
        let expert_id = *expert_id;
        let review_id = review.id;
        require_open(round)?;
        let mut tx = self.begin().await?;
        let review = review_in_tx(&mut tx, review.id).await?;
        if review.is_decided() {
            return Err(StorageError::conflict(
                "review_already_decided",
                "该评审已作出结论，评分表不能再修改",
                "the review is decided; sheets can no longer change",
            ));
        }
        require_seat(&mut tx, review.draw_id, expert_id).await?;
        let earlier = earlier_sheet(&mut tx, review_id, expert_id).await?;
        upsert_sheet(&mut tx, review_id, expert_id, sheet, now).await?;
        let mut chain = Chain::open(&mut tx).await?;
        let after = json!({"review_id": review_id, "expert_id": expert_id, "sheet": sheet,
            "total": sheet.total(), "replaces": earlier});
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "review.score_sheet",
            &after,
            now,
        )
        .await?;
        let action = if earlier.is_some() {
            "score_sheet_replaced"
        } else {
            "score_sheet_submitted"
        };
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action,
                from_state: None,
                to_state: None,
                actor,
                reason: "",
                detail: json!({"review_id": review_id}),
                attachments: &[],
            },
            now,
        )
        .await?;
        chain.commit(tx).await
    }
}

async fn require_seat(tx: &mut Tx, draw_id: i64, expert_id: i64) -> Result<()> {
    let seated: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT expert_id FROM draw_assignments WHERE draw_id = $1 AND expert_id = $2 \
             AND role = 'panel' AND response = 'accepted'",
        )
        .bind(draw_id)
        .bind(expert_id)
        .fetch_optional(conn)
        .await
    })?;
    seated.map(|_| ()).ok_or_else(not_seated)
}

fn not_seated() -> StorageError {
    StorageError::refused(
        "not_seated",
        "只有已接受抽取的评审组成员可以评分",
        "only a seated panel member scores a review",
    )
}

async fn earlier_sheet(tx: &mut Tx, review_id: i64, expert_id: i64) -> Result<Option<Value>> {
    let row: Option<(String, String, String)> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT items_json, vetoes_json, opinion FROM review_scores \
             WHERE review_id = $1 AND expert_id = $2",
        )
        .bind(review_id)
        .bind(expert_id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row.map(|(items, vetoes, opinion)| {
        json!({"items": serde_json::from_str::<Value>(&items).unwrap_or(Value::Null),
            "vetoes": serde_json::from_str::<Value>(&vetoes).unwrap_or(Value::Null),
            "opinion": opinion})
    }))
}

async fn upsert_sheet(
    tx: &mut Tx,
    review_id: i64,
    expert_id: i64,
    sheet: &ScoreSheet,
    now: DateTime<Utc>,
) -> Result<()> {
    let items = serde_json::to_string(&sheet.items).unwrap_or_else(|_| "{}".into());
    let vetoes = serde_json::to_string(&sheet.vetoes).unwrap_or_else(|_| "[]".into());
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO review_scores (review_id, expert_id, items_json, vetoes_json, total, \
             opinion, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (review_id, expert_id) DO UPDATE SET items_json = excluded.items_json, \
             vetoes_json = excluded.vetoes_json, total = excluded.total, \
             opinion = excluded.opinion, submitted_at = excluded.submitted_at",
        )
        .bind(review_id)
        .bind(expert_id)
        .bind(items)
        .bind(vetoes)
        .bind(sheet.total())
        .bind(sheet.opinion.trim())
        .bind(timestamp(now))
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}
