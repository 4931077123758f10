//! Panel draws: the frozen inputs (pool and the facts the conflict rules read), the drawn
//! record, the assignments and the experts' answers. Draw records are public information; what
//! their public copy shows is decided in core (`draw::public_copy`).

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::draw::ReviewKind;
use cpaudit_core::evidence::name_of;
use cpaudit_core::experts::ExpertStatus;
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::enterprises::EnterpriseRow;
use crate::evidence::parse_date;
use crate::rounds::RoundRow;
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, StorageError};

/// A draw as stored.
#[derive(Debug, Clone, Serialize)]
pub struct DrawRow {
    pub id: i64,
    pub review_kind: ReviewKind,
    pub round_ref: String,
    pub enterprise_id: i64,
    pub organizer_code: String,
    /// The audit round the draw is for, when it was frozen for a stored round.
    pub round_id: Option<i64>,
    pub stage: DrawStage,
    /// The frozen inputs (core `draw::DrawInputs` without sources).
    pub inputs: crate::JsonColumn<serde_json::Value>,
    pub frozen_at: String,
    /// The drawn record (core `draw::DrawRecord`), once drawn.
    pub record: crate::JsonColumn<Option<serde_json::Value>>,
    pub record_hash: Option<String>,
    pub finished_at: Option<String>,
}

/// The columns of [`DRAW_SELECT`] as stored.
#[derive(sqlx::FromRow)]
struct StoredDraw {
    id: i64,
    review_kind: String,
    round_ref: String,
    enterprise_id: i64,
    organizer_code: String,
    round_id: Option<i64>,
    stage: String,
    #[sqlx(rename = "inputs_json", try_from = "String")]
    inputs: crate::JsonColumn<serde_json::Value>,
    frozen_at: String,
    #[sqlx(rename = "record_json", try_from = "Option<String>")]
    record: crate::JsonColumn<Option<serde_json::Value>>,
    record_hash: Option<String>,
    finished_at: Option<String>,
}

impl StoredDraw {
    fn decode(self) -> Result<DrawRow> {
        let row = StoredRow::new("draws", self.id);
        Ok(DrawRow {
            id: self.id,
            review_kind: row.read("review_kind", &self.review_kind)?,
            round_ref: self.round_ref,
            enterprise_id: self.enterprise_id,
            organizer_code: self.organizer_code,
            round_id: self.round_id,
            stage: row.read("stage", &self.stage)?,
            inputs: self.inputs,
            frozen_at: self.frozen_at,
            record: self.record,
            record_hash: self.record_hash,
            finished_at: self.finished_at,
        })
    }
}

crate::decoded_row!(DrawRow, StoredDraw);

crate::columns::stored_names!(
    /// How far a draw has come.
    DrawStage { Frozen => "frozen", Drawn => "drawn" }
);
crate::columns::stored_names!(
    /// The seat an assignment is for.
    SeatRole { Panel => "panel", Alternate => "alternate" }
);
crate::columns::stored_names!(
    /// The expert's answer to an assignment.
    SeatResponse { Pending => "pending", Accepted => "accepted", Declined => "declined" }
);

/// One expert's assignment in a draw.
#[derive(Debug, Clone, Serialize)]
pub struct AssignmentRow {
    pub draw_id: i64,
    pub expert_id: i64,
    pub rank: i64,
    pub role: SeatRole,
    pub response: SeatResponse,
    pub no_conflict_confirmed: bool,
    pub decline_reason: Option<String>,
    pub responded_at: Option<String>,
}

/// The columns of [`ASSIGNMENT_SELECT`] as stored. Assignments have no id of their own: an
/// unknown value names the draw's.
#[derive(sqlx::FromRow)]
struct StoredAssignment {
    draw_id: i64,
    expert_id: i64,
    rank: i64,
    role: String,
    response: String,
    no_conflict_confirmed: bool,
    decline_reason: Option<String>,
    responded_at: Option<String>,
}

impl StoredAssignment {
    fn decode(self) -> Result<AssignmentRow> {
        let row = StoredRow::new("draw_assignments", self.draw_id);
        Ok(AssignmentRow {
            draw_id: self.draw_id,
            expert_id: self.expert_id,
            rank: self.rank,
            role: row.read("role", &self.role)?,
            response: row.read("response", &self.response)?,
            no_conflict_confirmed: self.no_conflict_confirmed,
            decline_reason: self.decline_reason,
            responded_at: self.responded_at,
        })
    }
}

crate::decoded_row!(AssignmentRow, StoredAssignment);

/// What the conflict rules read about an expert, its status and specialties decoded.
#[derive(Debug, Clone)]
pub struct PoolExpertRow {
    pub id: i64,
    pub name: String,
    /// Key industry ids.
    pub specialties: Vec<String>,
    pub status: ExpertStatus,
    pub available: bool,
    pub pool_number: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct StoredPoolExpert {
    id: i64,
    name: String,
    #[sqlx(try_from = "String")]
    specialties: crate::JsonColumn<Vec<String>>,
    status: String,
    available: bool,
    pool_number: Option<i64>,
}

impl StoredPoolExpert {
    fn decode(self) -> Result<PoolExpertRow> {
        Ok(PoolExpertRow {
            status: StoredRow::new("experts", self.id).read("status", &self.status)?,
            id: self.id,
            name: self.name,
            specialties: self.specialties.0,
            available: self.available,
            pool_number: self.pool_number,
        })
    }
}

crate::decoded_row!(PoolExpertRow, StoredPoolExpert);

/// An employment or declaration row: the party is an enterprise or a consultancy.
#[derive(Debug, Clone)]
pub struct PartyRow {
    pub expert_id: i64,
    pub enterprise_id: Option<i64>,
    pub consultancy_id: Option<i64>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub note: Option<String>,
}

/// The columns of a [`PartyRow`] as stored. Only employments carry days, so an unknown day
/// names the employment.
#[derive(sqlx::FromRow)]
struct StoredParty {
    id: i64,
    expert_id: i64,
    enterprise_id: Option<i64>,
    consultancy_id: Option<i64>,
    starts_on: Option<String>,
    ends_on: Option<String>,
    note: Option<String>,
}

impl StoredParty {
    fn decode(self) -> Result<PartyRow> {
        let row = StoredRow::new("expert_employment", self.id);
        Ok(PartyRow {
            expert_id: self.expert_id,
            enterprise_id: self.enterprise_id,
            consultancy_id: self.consultancy_id,
            starts_on: row.read_optional("starts_on", self.starts_on.as_deref())?,
            ends_on: row.read_optional("ends_on", self.ends_on.as_deref())?,
            note: self.note,
        })
    }
}

crate::decoded_row!(PartyRow, StoredParty);

/// Everything a draw's frozen inputs are built from.
#[derive(Debug, Clone, Default)]
pub struct PoolSnapshot {
    pub experts: Vec<PoolExpertRow>,
    pub employments: Vec<PartyRow>,
    pub declarations: Vec<PartyRow>,
    /// (expert id, review day) of the panels the expert sat on.
    pub reviews: Vec<(i64, NaiveDate)>,
}

const DRAW_SELECT: &str =
    "SELECT id, review_kind, round_ref, enterprise_id, organizer_code, round_id, stage, \
     inputs_json, frozen_at, record_json, record_hash, finished_at FROM draws";

const ASSIGNMENT_SELECT: &str = "SELECT draw_id, expert_id, rank, role, response, \
     no_conflict_confirmed, decline_reason, responded_at FROM draw_assignments";

/// Draws are organized by the province or a city; `organizer` is checked by the caller (it
/// depends on the enterprise) and here against the scope.
fn require_organizer(actor: &Principal, organizer: &str) -> Result<()> {
    match actor.scope().kind() {
        ScopeKind::Province => Ok(()),
        ScopeKind::City(code) if code == organizer => Ok(()),
        _ => Err(StorageError::refused(
            "not_draw_organizer",
            "专家抽取只能由该次评审的组织单位进行",
            "draws are run by the review's organizer",
        )),
    }
}

impl Db {
    /// The pool and the facts of every expert, for freezing a draw.
    pub async fn pool_snapshot(&self) -> Result<PoolSnapshot> {
        let (experts, employments, declarations, reviews) = on_pool!(self, |pool| {
            let experts: Vec<PoolExpertRow> = sqlx::query_as(
                "SELECT id, name, specialties, status, available, pool_number FROM experts \
                 ORDER BY pool_number, id",
            )
            .fetch_all(pool)
            .await?;
            let employments: Vec<PartyRow> = sqlx::query_as(
                "SELECT id, expert_id, enterprise_id, consultancy_id, starts_on, ends_on, \
                 CAST(NULL AS TEXT) AS note FROM expert_employment ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            let declarations: Vec<PartyRow> = sqlx::query_as(
                "SELECT id, expert_id, enterprise_id, consultancy_id, \
                 CAST(NULL AS TEXT) AS starts_on, \
                 CAST(NULL AS TEXT) AS ends_on, reason AS note FROM conflict_declarations ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            let reviews: Vec<(i64, String)> = sqlx::query_as(
                "SELECT a.expert_id, d.frozen_at FROM draw_assignments a \
                 JOIN draws d ON d.id = a.draw_id \
                 WHERE a.role = 'panel' AND a.response <> 'declined'",
            )
            .fetch_all(pool)
            .await?;
            (experts, employments, declarations, reviews)
        });
        Ok(PoolSnapshot {
            experts,
            employments,
            declarations,
            reviews: reviews
                .into_iter()
                .map(|(id, at)| {
                    // A panel seat has no id of its own: the error names the expert.
                    DateTime::parse_from_rfc3339(&at)
                        .map(|at| (id, crate::evidence::china_date(at.with_timezone(&Utc))))
                        .map_err(|_| StoredRow::new("draws", id).corrupt("frozen_at", &at))
                })
                .collect::<Result<_>>()?,
        })
    }

    /// Records a frozen draw: the published pool and facts, before any random source exists.
    /// With `round`, the draw is linked to that stored round (the caller has checked that the
    /// enterprise and review kind are the round's): its accepted experts then see the round.
    #[allow(clippy::too_many_arguments)]
    pub async fn freeze_draw(
        &self,
        actor: &Principal,
        review_kind: ReviewKind,
        round_ref: &str,
        (enterprise, round): (&InScope<EnterpriseRow>, Option<&InScope<RoundRow>>),
        organizer: &str,
        inputs_json: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let enterprise_id = enterprise.id;
        let round_id = round.map(|round| round.id);
        require_organizer(actor, organizer)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let id: i64 = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO draws (review_kind, round_ref, enterprise_id, organizer_code, stage, \
                 inputs_json, frozen_at, created_at, created_by, round_id) \
                 VALUES ($1, $2, $3, $4, 'frozen', $5, $6, $6, $7, $8) RETURNING id",
            )
            .bind(name_of(&review_kind))
            .bind(round_ref)
            .bind(enterprise_id)
            .bind(organizer)
            .bind(inputs_json)
            .bind(timestamp(now))
            .bind(actor.actor())
            .bind(round_id)
            .fetch_one(conn)
            .await
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "draw.freeze",
                ("draw", &id.to_string()),
                None,
                Some(&json!({"review_kind": review_kind, "round": round_ref,
                    "round_id": round_id, "enterprise_id": enterprise_id, "organizer": organizer})),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Stores the drawn record and the assignments (panel then alternates, by rank).
    pub async fn record_draw(
        &self,
        actor: &Principal,
        draw: &InScope<DrawRow>,
        record_json: &str,
        record_hash: &str,
        ranked_experts: &[(i64, &str)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let id = draw.id;
        // Read again: another run may have stored its record since the caller's read.
        let draw = self.get_draw(id).await?.ok_or(StorageError::NotFound)?;
        require_organizer(actor, &draw.organizer_code)?;
        if draw.stage != DrawStage::Frozen {
            return Err(StorageError::conflict(
                "draw_already_run",
                "本次抽取已经进行，不能重复抽取",
                "the draw has been run already",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE draws SET stage = 'drawn', record_json = $1, record_hash = $2 \
                 WHERE id = $3 AND stage = 'frozen'",
            )
            .bind(record_json)
            .bind(record_hash)
            .bind(id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        for (rank, (expert_id, role)) in ranked_experts.iter().enumerate() {
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                    "INSERT INTO draw_assignments (draw_id, expert_id, rank, role) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(*expert_id)
                .bind(i64::try_from(rank + 1).unwrap_or(i64::MAX))
                .bind(*role)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
            })?;
        }
        chain
            .append(
                &mut tx,
                actor,
                "draw.run",
                ("draw", &id.to_string()),
                None,
                Some(&json!({"record_hash": record_hash})),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// One draw (public information; its public copy hides what must be hidden).
    pub async fn get_draw(&self, id: i64) -> Result<Option<InScope<DrawRow>>> {
        let text = format!("{DRAW_SELECT} WHERE id = $1");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(id).fetch_optional(pool).await?
        })
        .map(InScope::granted))
    }

    /// All draws, newest first.
    pub async fn list_draws(&self) -> Result<Vec<DrawRow>> {
        let text = format!("{DRAW_SELECT} ORDER BY id DESC");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).fetch_all(pool).await?
        }))
    }

    /// The draws frozen for a stored round, newest first.
    pub async fn draws_of_round(&self, round: &InScope<RoundRow>) -> Result<Vec<DrawRow>> {
        let text = format!("{DRAW_SELECT} WHERE round_id = $1 ORDER BY id DESC");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(round.id).fetch_all(pool).await?
        }))
    }

    /// The assignments of a draw, by rank.
    pub async fn assignments(&self, draw: &InScope<DrawRow>) -> Result<Vec<AssignmentRow>> {
        let text = format!("{ASSIGNMENT_SELECT} WHERE draw_id = $1 ORDER BY rank");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(draw.id).fetch_all(pool).await?
        }))
    }

    /// The caller's own assignments (experts only).
    pub async fn my_assignments(&self, actor: &Principal) -> Result<Vec<AssignmentRow>> {
        let ScopeKind::Expert(expert_id) = actor.scope().kind() else {
            return Err(StorageError::refused(
                "experts_only",
                "只有专家账号有抽取任务",
                "only experts have assignments",
            ));
        };
        let text = format!("{ASSIGNMENT_SELECT} WHERE expert_id = $1 ORDER BY draw_id DESC");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(*expert_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// An expert's answer: accept (confirming no conflict) or decline with a reason. A declined
    /// panel seat goes to the best-ranked alternate still waiting.
    pub async fn respond_to_assignment(
        &self,
        actor: &Principal,
        draw: &InScope<DrawRow>,
        accept: bool,
        no_conflict: bool,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<AssignmentRow> {
        let ScopeKind::Expert(expert_id) = actor.scope().kind() else {
            return Err(StorageError::refused(
                "drawn_expert_only",
                "只有被抽中的专家本人可以答复",
                "only the drawn expert answers",
            ));
        };
        let expert_id = *expert_id;
        let draw_id = draw.id;
        let mine = self
            .assignments(draw)
            .await?
            .into_iter()
            .find(|a| a.expert_id == expert_id)
            .ok_or(StorageError::NotFound)?;
        if mine.response != SeatResponse::Pending {
            return Err(StorageError::conflict(
                "assignment_already_answered",
                "该抽取任务已经答复，不能重复答复",
                "the assignment was answered already",
            ));
        }
        let response = if accept { "accepted" } else { "declined" };
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE draw_assignments SET response = $1, no_conflict_confirmed = $2, \
                 decline_reason = $3, responded_at = $4 WHERE draw_id = $5 AND expert_id = $6",
            )
            .bind(response)
            .bind(accept && no_conflict)
            .bind((!accept).then(|| reason.trim().to_string()))
            .bind(timestamp(now))
            .bind(draw_id)
            .bind(expert_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        if !accept && mine.role == SeatRole::Panel {
            promote_alternate(&mut tx, draw_id).await?;
        }
        chain
            .append(
                &mut tx,
                actor,
                &format!("draw.{response}"),
                ("draw", &draw_id.to_string()),
                None,
                Some(
                    &json!({"expert_id": expert_id, "no_conflict_confirmed": accept && no_conflict,
                    "reason": reason.trim()}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        self.assignments(draw)
            .await?
            .into_iter()
            .find(|a| a.expert_id == expert_id)
            .ok_or(StorageError::NotFound)
    }

    /// Marks the review finished: from now on the public copy shows the panel's names.
    pub async fn finish_draw(
        &self,
        actor: &Principal,
        draw: &InScope<DrawRow>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let id = draw.id;
        // Read again: the draw may have been finished since the caller's read.
        let draw = self.get_draw(id).await?.ok_or(StorageError::NotFound)?;
        require_organizer(actor, &draw.organizer_code)?;
        if draw.stage != DrawStage::Drawn || draw.finished_at.is_some() {
            return Err(StorageError::conflict(
                "draw_not_finishable",
                "只有已抽取且尚未结束的评审可以结束",
                "only a drawn, unfinished review can be finished",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query("UPDATE draws SET finished_at = $1 WHERE id = $2")
                .bind(timestamp(now))
                .bind(id)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "draw.finish",
                ("draw", &id.to_string()),
                None,
                None,
                now,
            )
            .await?;
        chain.commit(tx).await
    }
}

/// The best-ranked alternate still waiting takes the declined seat.
async fn promote_alternate(tx: &mut crate::Tx, draw_id: i64) -> Result<()> {
    let next: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT expert_id FROM draw_assignments WHERE draw_id = $1 AND role = 'alternate' \
             AND response = 'pending' ORDER BY rank LIMIT 1",
        )
        .bind(draw_id)
        .fetch_optional(conn)
        .await
    })?;
    if let Some(expert_id) = next {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE draw_assignments SET role = 'panel' WHERE draw_id = $1 AND expert_id = $2",
            )
            .bind(draw_id)
            .bind(expert_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// A stored date, or the earliest date when it is missing (an open-ended period's start).
pub fn stored_date(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(parse_date)
}
