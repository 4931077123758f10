//! Audit rounds: created with the published list, read within the caller's scope, and moved
//! only by [`Db::apply_transition`], which writes the new state, the timeline event, the
//! deadlines met or started and the action's own records in one transaction. The rules of the
//! machine are in `cpaudit_core::round`; this module stores what they decide.

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::deadlines::{DeadlineKind, StartedDeadline};
use cpaudit_core::listing::Clock;
use cpaudit_core::round::{RoundPolicy, RoundState, Track};
use serde::Serialize;
use serde_json::{json, Value};

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::evidence::date_text;
use crate::sql::{bind_args, Arg, Sql};
use crate::{on_pool, on_tx, timestamp, Db, Principal, Result, Scope, StorageError, Tx};

/// A round as stored, with the names a page shows.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundRow {
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
    /// Comma-separated reasons as published (double_exceed, double_toxic).
    pub reasons: String,
    pub toxic_categories: String,
    /// standard | small_micro
    pub track: String,
    pub organizer_code: String,
    pub state: String,
    pub state_since: String,
    /// self | consultancy, once the start is filed or drafted.
    pub audit_mode: Option<String>,
    pub consultancy_id: Option<i64>,
    pub consultancy_name: Option<String>,
    /// The start filing (audit team, work plan, Art. 15 evidence) as JSON.
    pub start_filing_json: Option<String>,
    pub listed_on: String,
    pub rule_book_version: String,
    pub version: i64,
}

impl RoundRow {
    pub fn state(&self) -> RoundState {
        RoundState::parse(&self.state).unwrap_or(RoundState::Listed)
    }

    pub fn track(&self) -> Track {
        Track::parse(&self.track).unwrap_or(Track::Standard)
    }
}

/// One entry of a round's timeline.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundEventRow {
    pub id: i64,
    pub round_id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub actor: String,
    pub actor_role: String,
    pub reason: String,
    pub detail_json: String,
    /// JSON list of document ids attached to the step.
    pub attachments_json: String,
    pub at: String,
}

/// One deadline of a round.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadlineRow {
    pub round_id: i64,
    pub kind: String,
    pub seq: i64,
    pub starts_on: String,
    pub nominal_on: String,
    /// The effective last day (after rest days and holidays).
    pub due_on: String,
    pub rule_id: String,
    pub rule_book_version: String,
    pub rule_json: String,
    pub trace_zh: String,
    pub trace_en: String,
    pub met_on: Option<String>,
    pub closed_reason: Option<String>,
}

impl DeadlineRow {
    /// Whether the deadline still runs (neither met nor stopped).
    pub fn is_open(&self) -> bool {
        self.met_on.is_none() && self.closed_reason.is_none()
    }
}

pub(crate) const ROUND_SELECT: &str = "SELECT r.id, r.enterprise_id, e.name AS enterprise_name, \
    e.credit_code, r.jurisdiction_code, j.name_zh AS jurisdiction_name_zh, e.industry_code, \
    i.key_industry_id, r.list_id, r.list_year, r.reasons, r.toxic_categories, r.track, \
    r.organizer_code, r.state, r.state_since, r.audit_mode, r.consultancy_id, \
    c.name AS consultancy_name, r.start_filing_json, r.listed_on, r.rule_book_version, r.version \
    FROM rounds r JOIN enterprises e ON e.id = r.enterprise_id \
    JOIN jurisdictions j ON j.code = r.jurisdiction_code \
    LEFT JOIN industries i ON i.code = e.industry_code \
    LEFT JOIN consultancies c ON c.id = r.consultancy_id";

/// The condition on the round alias `r` (joined with enterprise `e`) that limits rows to the
/// scope. Like the registry's, except that an expert sees the rounds of the draws in which
/// they accepted a seat, and a consultancy sees the rounds it is engaged for.
pub(crate) fn round_scope_condition(sql: &mut Sql, scope: &Scope) -> String {
    match scope.kind() {
        ScopeKind::Province => "1 = 1".into(),
        ScopeKind::City(code) => {
            format!("r.jurisdiction_code = {}", sql.arg(Arg::Text(code.clone())))
        }
        ScopeKind::Enterprise(id) => format!("r.enterprise_id = {}", sql.arg(Arg::Int(*id))),
        ScopeKind::Consultancy(id) => {
            let id = sql.arg(Arg::Int(*id));
            format!(
                "(r.consultancy_id = {id} OR r.enterprise_id IN \
                 (SELECT enterprise_id FROM engagements WHERE consultancy_id = {id} \
                 AND ended_on IS NULL))"
            )
        }
        ScopeKind::Expert(id) => format!(
            "r.id IN (SELECT d.round_id FROM draws d JOIN draw_assignments a ON a.draw_id = d.id \
             WHERE a.expert_id = {} AND a.response = 'accepted' AND d.round_id IS NOT NULL)",
            sql.arg(Arg::Int(*id))
        ),
    }
}

impl Db {
    /// One round, if the scope covers it.
    pub async fn get_round(&self, scope: &Scope, round_id: i64) -> Result<Option<RoundRow>> {
        let mut sql = Sql::default();
        let condition = round_scope_condition(&mut sql, scope);
        let id = sql.arg(Arg::Int(round_id));
        let text = format!("{ROUND_SELECT} WHERE {condition} AND r.id = {id}");
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The rounds of one enterprise, newest first, within the scope.
    pub async fn rounds_of_enterprise(
        &self,
        scope: &Scope,
        enterprise_id: i64,
    ) -> Result<Vec<RoundRow>> {
        let mut sql = Sql::default();
        let condition = round_scope_condition(&mut sql, scope);
        let id = sql.arg(Arg::Int(enterprise_id));
        let text = format!(
            "{ROUND_SELECT} WHERE {condition} AND r.enterprise_id = {id} ORDER BY r.list_year DESC, r.id DESC"
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// A round's timeline, oldest first. The caller has read the round within its scope.
    pub async fn round_events(&self, round: &RoundRow) -> Result<Vec<RoundEventRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, round_id, action, from_state, to_state, actor, actor_role, reason, \
                 detail_json, attachments_json, at FROM round_events WHERE round_id = $1 ORDER BY id",
            )
            .bind(round.id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// A round's deadlines in the order they run. The caller has read the round.
    pub async fn round_deadlines(&self, round: &RoundRow) -> Result<Vec<DeadlineRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT round_id, kind, seq, starts_on, nominal_on, due_on, rule_id, \
                 rule_book_version, rule_json, trace_zh, trace_en, met_on, closed_reason \
                 FROM round_deadlines WHERE round_id = $1 ORDER BY starts_on, seq, kind",
            )
            .bind(round.id)
            .fetch_all(pool)
            .await?
        }))
    }
}

/// Creates the round of a newly published entry with its listing event and the three clocks
/// publication started. Runs inside the publication's transaction; the policy in force on the
/// publication day fixes the track (by size class) and the review organizer.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_round(
    tx: &mut Tx,
    actor: &Principal,
    list_id: i64,
    list_year: i32,
    enterprise_id: i64,
    reasons: &str,
    toxic_categories: &str,
    policy: &RoundPolicy,
    clocks: &[Clock],
    listed_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64> {
    let facts: (String, bool, Option<String>, String) = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT e.size_class, e.key_emission_unit, i.province_industry_id, e.jurisdiction_code \
             FROM enterprises e LEFT JOIN industries i ON i.code = e.industry_code WHERE e.id = $1",
        )
        .bind(enterprise_id)
        .fetch_optional(conn)
        .await
    })?
    .ok_or(StorageError::NotFound)?;
    let (size_class, key_emission_unit, province_industry, city) = facts;
    let track = policy.track(&size_class);
    let organizer = policy.organizer(key_emission_unit, province_industry.as_deref(), &city);
    let round_id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO rounds (enterprise_id, jurisdiction_code, list_id, list_year, reasons, \
             toxic_categories, track, organizer_code, state, state_since, listed_on, \
             rule_book_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'listed', $9, $10, $11, $9) RETURNING id",
        )
        .bind(enterprise_id)
        .bind(&city)
        .bind(list_id)
        .bind(i64::from(list_year))
        .bind(reasons)
        .bind(toxic_categories)
        .bind(track.as_str())
        .bind(&organizer)
        .bind(timestamp(now))
        .bind(date_text(listed_on))
        .bind(&policy.rule_book_version)
        .fetch_one(conn)
        .await
    })?;
    for clock in clocks {
        let deadline = StartedDeadline {
            kind: DeadlineKind::from_clock(clock.kind),
            starts_on: listed_on,
            rule: clock.rule.clone(),
            rest_day_rule: clock.rest_day_rule.clone(),
            end: clock.end.clone(),
        };
        insert_deadline(tx, round_id, &deadline, 1).await?;
    }
    append_round_event(
        tx,
        round_id,
        RoundEventInsert {
            action: "listed",
            from_state: None,
            to_state: Some(RoundState::Listed),
            actor,
            reason: "",
            detail: json!({"list_id": list_id, "list_year": list_year, "reasons": reasons,
                "track": track.as_str(), "organizer": organizer}),
            attachments: &[],
        },
        now,
    )
    .await?;
    Ok(round_id)
}

/// Stores a running deadline with its rule and the calculation behind its last day.
pub(crate) async fn insert_deadline(
    tx: &mut Tx,
    round_id: i64,
    deadline: &StartedDeadline,
    seq: i64,
) -> Result<()> {
    let rule_json = serde_json::to_string(&deadline.rule).unwrap_or_default();
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO round_deadlines (round_id, kind, seq, starts_on, nominal_on, due_on, \
             rule_id, rule_book_version, rule_json, trace_zh, trace_en) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(round_id)
        .bind(deadline.kind.as_str())
        .bind(seq)
        .bind(date_text(deadline.starts_on))
        .bind(date_text(deadline.end.nominal))
        .bind(date_text(deadline.end.effective))
        .bind(&deadline.rule.id)
        .bind(&deadline.rule.book_version)
        .bind(rule_json)
        .bind(deadline.end.trace_zh())
        .bind(deadline.end.trace_en())
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// A timeline entry to write.
pub(crate) struct RoundEventInsert<'a> {
    pub action: &'a str,
    pub from_state: Option<RoundState>,
    pub to_state: Option<RoundState>,
    pub actor: &'a Principal,
    pub reason: &'a str,
    pub detail: Value,
    /// Ids of the documents attached to the step.
    pub attachments: &'a [i64],
}

/// Appends one entry to a round's timeline, inside the caller's transaction. Every module that
/// changes a round (documents, options, reviews, enforcement) writes its steps here, so the
/// round page reads one timeline.
pub(crate) async fn append_round_event(
    tx: &mut Tx,
    round_id: i64,
    event: RoundEventInsert<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let attachments = serde_json::to_string(event.attachments).unwrap_or_else(|_| "[]".into());
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO round_events (round_id, action, from_state, to_state, actor, actor_role, \
             reason, detail_json, attachments_json, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(round_id)
        .bind(event.action)
        .bind(event.from_state.map(RoundState::as_str))
        .bind(event.to_state.map(RoundState::as_str))
        .bind(event.actor.actor())
        .bind(event.actor.role.as_str())
        .bind(event.reason.trim())
        .bind(event.detail.to_string())
        .bind(attachments)
        .bind(timestamp(now))
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Refuses a change to a round that is finished.
pub(crate) fn require_open(round: &RoundRow) -> Result<()> {
    if round.state().is_final() {
        return Err(StorageError::Forbidden(format!(
            "the round is {} and can no longer change",
            round.state().label_en()
        )));
    }
    Ok(())
}

/// Appends a round step to the hash-chained audit log as well (for steps outside a transition).
pub(crate) async fn audit_round_step(
    tx: &mut Tx,
    chain: &mut Chain,
    actor: &Principal,
    round_id: i64,
    action: &str,
    after: &Value,
    now: DateTime<Utc>,
) -> Result<()> {
    chain
        .append(
            tx,
            actor,
            action,
            ("round", &round_id.to_string()),
            None,
            Some(after),
            now,
        )
        .await
}
