//! Audit rounds: created with the published list, read within the caller's scope, and moved
//! only by [`Db::apply_transition`], which writes the new state, the timeline event, the
//! deadlines met or started and the action's own records in one transaction. The rules of the
//! machine are in `cpaudit_core::round`; this module stores what they decide.

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::deadlines::{DeadlineKind, StartedDeadline};
use cpaudit_core::listing::Clock;
use std::collections::BTreeSet;

use cpaudit_core::round::{
    AuditMode, Phase, ReviewKind, RoundAction, RoundActor, RoundPolicy, RoundState, Track,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::{Reasons, StoredRow};
use crate::enterprises::EnterpriseRow;
use crate::evidence::date_text;
use crate::sql::{bind_args, Arg, Sql};
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, Scope, StorageError, Tx};

/// A round as stored, with the names a page shows.
#[derive(Debug, Clone, Serialize)]
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
    /// The reasons as published.
    pub reasons: Reasons,
    pub toxic_categories: String,
    pub track: Track,
    pub organizer_code: String,
    pub state: RoundState,
    pub state_since: String,
    /// Once the start is filed or drafted.
    pub audit_mode: Option<AuditMode>,
    pub consultancy_id: Option<i64>,
    pub consultancy_name: Option<String>,
    /// The start filing (audit team, work plan, Art. 15 evidence), once filed or drafted.
    pub start_filing: crate::JsonColumn<Option<serde_json::Value>>,
    pub listed_on: NaiveDate,
    pub rule_book_version: String,
    pub version: i64,
}

impl crate::in_scope::OfRound for RoundRow {
    fn round_id(&self) -> i64 {
        self.id
    }
}

/// The columns of [`ROUND_SELECT`] as they come from the database. Every read of a
/// [`RoundRow`] goes through it: the typed columns are decoded then, and a value this version
/// does not know fails the read ([`StorageError::Corrupt`]) instead of passing for another.
#[derive(sqlx::FromRow)]
struct StoredRound {
    id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    credit_code: String,
    jurisdiction_code: String,
    jurisdiction_name_zh: String,
    industry_code: String,
    key_industry_id: Option<String>,
    list_id: i64,
    list_year: i64,
    reasons: String,
    toxic_categories: String,
    track: String,
    organizer_code: String,
    state: String,
    state_since: String,
    audit_mode: Option<String>,
    consultancy_id: Option<i64>,
    consultancy_name: Option<String>,
    start_filing_json: Option<String>,
    listed_on: String,
    rule_book_version: String,
    version: i64,
}

impl StoredRound {
    fn decode(self) -> Result<RoundRow> {
        let row = StoredRow::new("rounds", self.id);
        let start_filing =
            crate::JsonColumn::try_from(self.start_filing_json.clone()).map_err(|_| {
                row.corrupt(
                    "start_filing_json",
                    self.start_filing_json.as_deref().unwrap_or_default(),
                )
            })?;
        Ok(RoundRow {
            id: self.id,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            credit_code: self.credit_code,
            jurisdiction_code: self.jurisdiction_code,
            jurisdiction_name_zh: self.jurisdiction_name_zh,
            industry_code: self.industry_code,
            key_industry_id: self.key_industry_id,
            list_id: self.list_id,
            list_year: self.list_year,
            reasons: row.read("reasons", &self.reasons)?,
            toxic_categories: self.toxic_categories,
            track: row.read("track", &self.track)?,
            organizer_code: self.organizer_code,
            state: row.read("state", &self.state)?,
            state_since: self.state_since,
            audit_mode: row.read_optional("audit_mode", self.audit_mode.as_deref())?,
            consultancy_id: self.consultancy_id,
            consultancy_name: self.consultancy_name,
            start_filing,
            listed_on: row.read("listed_on", &self.listed_on)?,
            rule_book_version: self.rule_book_version,
            version: self.version,
        })
    }
}

crate::decoded_row!(RoundRow, StoredRound);

/// One entry of a round's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct RoundEventRow {
    pub id: i64,
    pub round_id: i64,
    /// A transition's action, or the name of another step (listed, phase_recorded, …).
    pub action: String,
    pub from_state: Option<RoundState>,
    pub to_state: Option<RoundState>,
    pub actor: String,
    pub actor_role: String,
    pub reason: String,
    /// What the step recorded besides (a review's meeting day and place).
    pub detail: crate::JsonColumn<serde_json::Value>,
    /// The ids of the documents attached to the step.
    pub attachments: crate::JsonColumn<Vec<i64>>,
    pub at: String,
}

/// The columns of a [`RoundEventRow`] as stored.
#[derive(sqlx::FromRow)]
struct StoredRoundEvent {
    id: i64,
    round_id: i64,
    action: String,
    from_state: Option<String>,
    to_state: Option<String>,
    actor: String,
    actor_role: String,
    reason: String,
    #[sqlx(rename = "detail_json", try_from = "String")]
    detail: crate::JsonColumn<serde_json::Value>,
    #[sqlx(rename = "attachments_json", try_from = "String")]
    attachments: crate::JsonColumn<Vec<i64>>,
    at: String,
}

impl StoredRoundEvent {
    fn decode(self) -> Result<RoundEventRow> {
        let row = StoredRow::new("round_events", self.id);
        Ok(RoundEventRow {
            id: self.id,
            round_id: self.round_id,
            action: self.action,
            from_state: row.read_optional("from_state", self.from_state.as_deref())?,
            to_state: row.read_optional("to_state", self.to_state.as_deref())?,
            actor: self.actor,
            actor_role: self.actor_role,
            reason: self.reason,
            detail: self.detail,
            attachments: self.attachments,
            at: self.at,
        })
    }
}

crate::decoded_row!(RoundEventRow, StoredRoundEvent);

/// One deadline of a round.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineRow {
    pub round_id: i64,
    pub kind: DeadlineKind,
    pub seq: i64,
    pub starts_on: NaiveDate,
    pub nominal_on: NaiveDate,
    /// The effective last day (after rest days and holidays).
    pub due_on: NaiveDate,
    pub rule_id: String,
    pub rule_book_version: String,
    pub rule: crate::JsonColumn<cpaudit_core::rules::RuleRef>,
    pub trace_zh: String,
    pub trace_en: String,
    pub met_on: Option<NaiveDate>,
    pub closed_reason: Option<String>,
}

/// The columns of a [`DeadlineRow`] as stored. Deadlines have no id of their own: an unknown
/// value names the round's.
#[derive(sqlx::FromRow)]
struct StoredDeadline {
    round_id: i64,
    kind: String,
    seq: i64,
    starts_on: String,
    nominal_on: String,
    due_on: String,
    rule_id: String,
    rule_book_version: String,
    #[sqlx(rename = "rule_json", try_from = "String")]
    rule: crate::JsonColumn<cpaudit_core::rules::RuleRef>,
    trace_zh: String,
    trace_en: String,
    met_on: Option<String>,
    closed_reason: Option<String>,
}

impl StoredDeadline {
    fn decode(self) -> Result<DeadlineRow> {
        let row = StoredRow::new("round_deadlines", self.round_id);
        Ok(DeadlineRow {
            round_id: self.round_id,
            kind: row.read("kind", &self.kind)?,
            seq: self.seq,
            starts_on: row.read("starts_on", &self.starts_on)?,
            nominal_on: row.read("nominal_on", &self.nominal_on)?,
            due_on: row.read("due_on", &self.due_on)?,
            rule_id: self.rule_id,
            rule_book_version: self.rule_book_version,
            rule: self.rule,
            trace_zh: self.trace_zh,
            trace_en: self.trace_en,
            met_on: row.read_optional("met_on", self.met_on.as_deref())?,
            closed_reason: self.closed_reason,
        })
    }
}

crate::decoded_row!(DeadlineRow, StoredDeadline);

impl DeadlineRow {
    /// Whether the deadline still runs (neither met nor stopped).
    pub fn is_open(&self) -> bool {
        self.met_on.is_none() && self.closed_reason.is_none()
    }
}

/// The parts a caller plays in a round read within the caller's scope. A consultancy acts for
/// the round when the start filing names it, or, before the filing names one, when the
/// enterprise engaged it (which is why the scope showed it the round). A province official is
/// also the organizer of the rounds its cities do not organize.
pub fn round_actors(principal: &Principal, round: &RoundRow) -> BTreeSet<RoundActor> {
    let mut actors = BTreeSet::new();
    match principal.scope().kind() {
        ScopeKind::Province => {
            actors.insert(RoundActor::Province);
            // A round the city does not organize is organized by the province.
            if round.organizer_code != round.jurisdiction_code {
                actors.insert(RoundActor::Organizer);
            }
        }
        ScopeKind::City(code) => {
            if *code == round.jurisdiction_code {
                actors.insert(RoundActor::City);
            }
            if *code == round.organizer_code {
                actors.insert(RoundActor::Organizer);
            }
        }
        ScopeKind::Enterprise(id) if *id == round.enterprise_id => {
            actors.insert(RoundActor::Enterprise);
        }
        ScopeKind::Consultancy(id) if consultancy_acts_for(round, *id) => {
            actors.insert(RoundActor::Consultancy);
        }
        _ => {}
    }
    actors
}

fn consultancy_acts_for(round: &RoundRow, consultancy_id: i64) -> bool {
    match (round.audit_mode, round.consultancy_id) {
        (Some(AuditMode::SelfAudit), _) => false,
        (_, Some(named)) => named == consultancy_id,
        (_, None) => true,
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
                "(r.consultancy_id = {id} OR r.enterprise_id IN ({}))",
                crate::sql::engaged_enterprises(&id)
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
    pub async fn get_round(&self, scope: &Scope, id: i64) -> Result<Option<InScope<RoundRow>>> {
        let mut sql = Sql::default();
        let condition = round_scope_condition(&mut sql, scope);
        let id = sql.arg(Arg::Int(id));
        let text = format!("{ROUND_SELECT} WHERE {condition} AND r.id = {id}");
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        })
        .map(InScope::granted))
    }

    /// The rounds of one enterprise, newest first, within the scope.
    pub async fn rounds_of_enterprise(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Vec<RoundRow>> {
        let mut sql = Sql::default();
        let condition = round_scope_condition(&mut sql, scope);
        let id = sql.arg(Arg::Int(enterprise.id));
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
    pub async fn round_events(&self, round: &InScope<RoundRow>) -> Result<Vec<RoundEventRow>> {
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
    pub async fn round_deadlines(&self, round: &InScope<RoundRow>) -> Result<Vec<DeadlineRow>> {
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
    if round.state.is_final() {
        return Err(StorageError::conflict(
            "round_closed",
            format!("本轮审核状态为“{}”，不能再变更", round.state.label_zh()),
            format!(
                "the round is {} and can no longer change",
                round.state.label_en()
            ),
        ));
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

/// A transition decided by the core machine, to store.
#[derive(Debug, Clone)]
pub struct TransitionRecord<'a> {
    pub action: RoundAction,
    pub from: RoundState,
    pub to: RoundState,
    /// The round's version the caller read; a concurrent change makes the write fail.
    pub expected_version: i64,
    pub reason: &'a str,
    pub attachments: &'a [i64],
    pub today: NaiveDate,
    /// The deadline the action starts (rectify or accept), computed by core.
    pub started: Option<StartedDeadline>,
    /// What else the action records, for the timeline and the audit log.
    pub detail: Value,
    /// The review the action schedules or decides.
    pub review: Option<ReviewStep<'a>>,
}

/// The review side of a schedule or decide action, written in the transition's transaction.
#[derive(Debug, Clone)]
pub enum ReviewStep<'a> {
    Schedule {
        kind: ReviewKind,
        draw: InScope<crate::draws::DrawRow>,
        meeting_on: NaiveDate,
        place: &'a str,
        scoring_form: &'a str,
    },
    Decide {
        review: InScope<crate::reviews::ReviewRow>,
        decision: crate::reviews::Decision<'a>,
    },
}

/// Facts the guards read that live in several tables, gathered in one place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredFacts {
    pub phases_completed: Vec<i64>,
    /// When the last review decision was recorded (RFC 3339), if any.
    pub last_decision_at: Option<String>,
}

/// A phase of a round as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseRow {
    pub phase: i64,
    pub started_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub summary: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// The columns of a [`PhaseRow`] as stored. Phases have no id of their own: an unknown value
/// names the round's.
#[derive(sqlx::FromRow)]
struct StoredPhase {
    round_id: i64,
    phase: i64,
    started_on: Option<String>,
    completed_on: Option<String>,
    summary: String,
    updated_at: String,
    updated_by: String,
}

impl StoredPhase {
    fn decode(self) -> Result<PhaseRow> {
        let row = StoredRow::new("round_phases", self.round_id);
        Ok(PhaseRow {
            phase: self.phase,
            started_on: row.read_optional("started_on", self.started_on.as_deref())?,
            completed_on: row.read_optional("completed_on", self.completed_on.as_deref())?,
            summary: self.summary,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

crate::decoded_row!(PhaseRow, StoredPhase);

/// A phase to record.
#[derive(Debug, Clone)]
pub struct PhaseRecord<'a> {
    pub phase: Phase,
    pub started_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub summary: &'a str,
    pub attachments: &'a [i64],
}

/// The start filing to store: audit mode, consultancy and the filing itself as JSON.
#[derive(Debug, Clone)]
pub struct StartFiling {
    pub mode: AuditMode,
    pub consultancy_id: Option<i64>,
    pub filing: Value,
}

impl Db {
    /// Stores a transition the core machine allowed: the new state (only if nobody changed the
    /// round meanwhile), the deadlines it meets, stops or starts, and the timeline and audit
    /// entries, in one transaction.
    pub async fn apply_transition(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        record: &TransitionRecord<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        move_state(&mut tx, round.id, record, now).await?;
        settle_deadlines(&mut tx, round.id, record).await?;
        if record.action == RoundAction::Disclose {
            publish_disclosure(&mut tx, round.id, record.today).await?;
        }
        match &record.review {
            Some(ReviewStep::Schedule {
                kind,
                draw,
                meeting_on,
                place,
                scoring_form,
            }) => {
                crate::reviews::insert_review(
                    &mut tx,
                    round,
                    *kind,
                    draw,
                    *meeting_on,
                    place,
                    scoring_form,
                    actor,
                    now,
                )
                .await?;
            }
            Some(ReviewStep::Decide { review, decision }) => {
                crate::reviews::record_decision(&mut tx, review, decision, actor, now).await?;
            }
            None => {}
        }
        if let Some(started) = &record.started {
            let seq = next_deadline_seq(&mut tx, round.id, started.kind).await?;
            insert_deadline(&mut tx, round.id, started, seq).await?;
        }
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action: record.action.as_str(),
                from_state: Some(record.from),
                to_state: Some(record.to),
                actor,
                reason: record.reason,
                detail: record.detail.clone(),
                attachments: record.attachments,
            },
            now,
        )
        .await?;
        chain
            .append(
                &mut tx,
                actor,
                &format!("round.{}", record.action.as_str()),
                ("round", &round.id.to_string()),
                Some(&json!({"state": record.from.as_str(), "version": record.expected_version})),
                Some(
                    &json!({"state": record.to.as_str(), "reason": record.reason.trim(),
                    "attachments": record.attachments, "detail": record.detail}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// What the guards read from the round's phases and reviews (documents and options: see
    /// `documents_on_file` and `option_summary`).
    pub async fn stored_facts(&self, round: &InScope<RoundRow>) -> Result<StoredFacts> {
        let id = round.id;
        Ok(on_pool!(self, |pool| {
            let phases_completed = sqlx::query_scalar(
                "SELECT phase FROM round_phases WHERE round_id = $1 AND completed_on IS NOT NULL \
                 ORDER BY phase",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let last_decision_at =
                sqlx::query_scalar("SELECT MAX(decided_at) FROM reviews WHERE round_id = $1")
                    .bind(id)
                    .fetch_one(pool)
                    .await?;
            StoredFacts {
                phases_completed,
                last_decision_at,
            }
        }))
    }

    /// The recorded phases of a round, in order. The caller has read the round.
    pub async fn round_phases(&self, round: &InScope<RoundRow>) -> Result<Vec<PhaseRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT round_id, phase, started_on, completed_on, summary, updated_at, updated_by \
                 FROM round_phases WHERE round_id = $1 ORDER BY phase",
            )
            .bind(round.id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Records the dates and summary of one phase (the caller checked the dates and that the
    /// actor files for the round), with a timeline entry.
    pub async fn record_phase(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        record: &PhaseRecord<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require_open(round)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO round_phases (round_id, phase, started_on, completed_on, summary, \
                 updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (round_id, phase) DO UPDATE SET started_on = excluded.started_on, \
                 completed_on = excluded.completed_on, summary = excluded.summary, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(round.id)
            .bind(i64::from(record.phase.number()))
            .bind(record.started_on.map(date_text))
            .bind(record.completed_on.map(date_text))
            .bind(record.summary.trim())
            .bind(timestamp(now))
            .bind(actor.actor())
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        let detail = json!({"phase": record.phase.number(), "name": record.phase.label_zh(),
            "started_on": record.started_on.map(date_text),
            "completed_on": record.completed_on.map(date_text)});
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action: "phase_recorded",
                from_state: None,
                to_state: None,
                actor,
                reason: record.summary,
                detail: detail.clone(),
                attachments: record.attachments,
            },
            now,
        )
        .await?;
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "round.phase",
            &detail,
            now,
        )
        .await?;
        chain.commit(tx).await
    }

    /// Saves the start filing (mode, consultancy, audit team, work plan, Art. 15 evidence). It
    /// can change while the round is open: an enterprise whose consultancy is sanctioned
    /// switches consultancy or turns to a self-audit here.
    pub async fn save_start_filing(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        filing: &StartFiling,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require_open(round)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let changed = on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE rounds SET audit_mode = $1, consultancy_id = $2, start_filing_json = $3, \
                 version = version + 1 WHERE id = $4 AND version = $5",
            )
            .bind(filing.mode.as_str())
            .bind(filing.consultancy_id)
            .bind(filing.filing.to_string())
            .bind(round.id)
            .bind(round.version)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        if changed == 0 {
            return Err(StorageError::VersionConflict {
                current: round.version,
            });
        }
        let detail = json!({"mode": filing.mode.as_str(), "consultancy_id": filing.consultancy_id,
            "filing": filing.filing});
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action: "start_filing_saved",
                from_state: None,
                to_state: None,
                actor,
                reason: "",
                detail: detail.clone(),
                attachments: &[],
            },
            now,
        )
        .await?;
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "round.start_filing",
            &detail,
            now,
        )
        .await?;
        chain.commit(tx).await
    }
}

async fn move_state(
    tx: &mut Tx,
    round_id: i64,
    record: &TransitionRecord<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let changed = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE rounds SET state = $1, state_since = $2, version = version + 1 \
             WHERE id = $3 AND state = $4 AND version = $5",
        )
        .bind(record.to.as_str())
        .bind(timestamp(now))
        .bind(round_id)
        .bind(record.from.as_str())
        .bind(record.expected_version)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    if changed == 0 {
        return Err(StorageError::VersionConflict {
            current: record.expected_version,
        });
    }
    Ok(())
}

/// Marks met the open deadlines the action meets; a cancelled round stops all of them.
async fn settle_deadlines(tx: &mut Tx, round_id: i64, record: &TransitionRecord<'_>) -> Result<()> {
    if record.to == RoundState::Cancelled {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE round_deadlines SET closed_reason = 'round cancelled' \
                 WHERE round_id = $1 AND met_on IS NULL AND closed_reason IS NULL",
            )
            .bind(round_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        return Ok(());
    }
    for kind in DeadlineKind::ALL
        .into_iter()
        .filter(|kind| kind.is_met_by(record.action))
    {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE round_deadlines SET met_on = $1 WHERE round_id = $2 AND kind = $3 \
                 AND met_on IS NULL AND closed_reason IS NULL",
            )
            .bind(date_text(record.today))
            .bind(round_id)
            .bind(kind.as_str())
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

async fn next_deadline_seq(tx: &mut Tx, round_id: i64, kind: DeadlineKind) -> Result<i64> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM round_deadlines WHERE round_id = $1 AND kind = $2",
        )
        .bind(round_id)
        .bind(kind.as_str())
        .fetch_one(conn)
        .await
    })?)
}

/// Publishes the latest saved disclosure on `today`.
async fn publish_disclosure(tx: &mut Tx, round_id: i64, today: NaiveDate) -> Result<()> {
    let changed = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE disclosures SET published_on = $1 WHERE round_id = $2 AND version = \
             (SELECT MAX(version) FROM disclosures WHERE round_id = $2)",
        )
        .bind(date_text(today))
        .bind(round_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    if changed == 0 {
        return Err(StorageError::conflict(
            "no_disclosure_to_publish",
            "尚无已保存的信息公开内容，无法发布",
            "there is no saved disclosure to publish",
        ));
    }
    Ok(())
}

/// Filters of the round work list.
#[derive(Debug, Clone, Default)]
pub struct RoundFilter {
    pub state: Option<RoundState>,
    pub city: Option<String>,
    /// A key industry id.
    pub industry: Option<String>,
    /// Only rounds with an open deadline past its last day as of this date.
    pub overdue_on: Option<NaiveDate>,
    pub list_year: Option<i64>,
    /// Only rounds not yet closed or cancelled.
    pub open_only: bool,
    pub limit: i64,
}

/// A round on a work list: the round and its next open deadline.
#[derive(Debug, Clone, Serialize)]
pub struct RoundListRow {
    #[serde(flatten)]
    pub round: RoundRow,
    /// The earliest last day of the open deadlines.
    pub next_due_on: Option<NaiveDate>,
    /// The kind of that deadline.
    pub next_due_kind: Option<DeadlineKind>,
}

/// The columns of a [`RoundListRow`] as stored.
#[derive(sqlx::FromRow)]
struct StoredRoundListRow {
    #[sqlx(flatten)]
    round: RoundRow,
    next_due_on: Option<String>,
    next_due_kind: Option<String>,
}

impl StoredRoundListRow {
    fn decode(self) -> Result<RoundListRow> {
        let row = StoredRow::new("rounds", self.round.id);
        Ok(RoundListRow {
            next_due_on: row.read_optional("next_due_on", self.next_due_on.as_deref())?,
            next_due_kind: row.read_optional("next_due_kind", self.next_due_kind.as_deref())?,
            round: self.round,
        })
    }
}

crate::decoded_row!(RoundListRow, StoredRoundListRow);

impl Db {
    /// The rounds within the scope matching the filter, the most urgent first.
    pub async fn list_rounds(
        &self,
        scope: &Scope,
        filter: &RoundFilter,
    ) -> Result<Vec<RoundListRow>> {
        let mut sql = Sql::default();
        let mut conditions = vec![round_scope_condition(&mut sql, scope)];
        if let Some(state) = filter.state {
            conditions.push(format!(
                "r.state = {}",
                sql.arg(Arg::Text(state.as_str().into()))
            ));
        }
        if let Some(city) = &filter.city {
            conditions.push(format!(
                "r.jurisdiction_code = {}",
                sql.arg(Arg::Text(city.clone()))
            ));
        }
        if let Some(industry) = &filter.industry {
            conditions.push(format!(
                "i.key_industry_id = {}",
                sql.arg(Arg::Text(industry.clone()))
            ));
        }
        if filter.open_only {
            conditions.push("r.state NOT IN ('closed', 'cancelled')".into());
        }
        if let Some(year) = filter.list_year {
            conditions.push(format!("r.list_year = {}", sql.arg(Arg::Int(year))));
        }
        if let Some(day) = filter.overdue_on {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM round_deadlines o WHERE o.round_id = r.id AND {OPEN} \
                 AND o.due_on < {})",
                sql.arg(Arg::Text(date_text(day))),
                OPEN = "o.met_on IS NULL AND o.closed_reason IS NULL"
            ));
        }
        let limit = sql.arg(Arg::Int(filter.limit.clamp(1, 100_000)));
        let next = "(SELECT MIN(o.due_on) FROM round_deadlines o WHERE o.round_id = r.id \
                    AND o.met_on IS NULL AND o.closed_reason IS NULL)";
        let select = ROUND_SELECT.replacen(
            "SELECT ",
            &format!(
                "SELECT {next} AS next_due_on, (SELECT MIN(o2.kind) FROM round_deadlines o2 \
                 WHERE o2.round_id = r.id AND o2.met_on IS NULL AND o2.closed_reason IS NULL \
                 AND o2.due_on = {next}) AS next_due_kind, "
            ),
            1,
        );
        let text = format!(
            "{select} WHERE {} ORDER BY CASE WHEN {next} IS NULL THEN 1 ELSE 0 END, {next}, r.id \
             LIMIT {limit}",
            conditions.join(" AND ")
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_all(pool)
                .await?
        }))
    }
}

impl Db {
    /// Whether the round's enterprise has an engagement in force with the consultancy.
    pub async fn is_engaged(&self, round: &InScope<RoundRow>, consultancy_id: i64) -> Result<bool> {
        let count: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM engagements WHERE enterprise_id = $1 AND consultancy_id = $2 \
                 AND ended_on IS NULL",
            )
            .bind(round.enterprise_id)
            .bind(consultancy_id)
            .fetch_one(pool)
            .await?
        });
        Ok(count > 0)
    }
}

impl Db {
    /// The ids of a round's documents (attachments must be among them).
    pub async fn round_document_ids(&self, round: &InScope<RoundRow>) -> Result<Vec<i64>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT id FROM documents WHERE round_id = $1")
                .bind(round.id)
                .fetch_all(pool)
                .await?
        }))
    }
}

/// Cancels the open round of an enterprise removed from a list by a correction, inside the
/// correction's transaction: its deadlines stop and its timeline says why.
pub(crate) async fn cancel_for_correction(
    tx: &mut Tx,
    actor: &Principal,
    list_year: i64,
    enterprise_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let open: Option<(i64, String)> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, state FROM rounds WHERE enterprise_id = $1 AND list_year = $2 \
             AND state NOT IN ('closed', 'cancelled') ORDER BY id DESC LIMIT 1",
        )
        .bind(enterprise_id)
        .bind(list_year)
        .fetch_optional(conn)
        .await
    })?;
    let Some((round_id, state)) = open else {
        return Ok(());
    };
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE rounds SET state = 'cancelled', state_since = $1, version = version + 1 \
             WHERE id = $2",
        )
        .bind(timestamp(now))
        .bind(round_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE round_deadlines SET closed_reason = 'removed from the list' \
             WHERE round_id = $1 AND met_on IS NULL AND closed_reason IS NULL",
        )
        .bind(round_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    append_round_event(
        tx,
        round_id,
        RoundEventInsert {
            action: RoundAction::Cancel.as_str(),
            from_state: RoundState::parse(&state),
            to_state: Some(RoundState::Cancelled),
            actor,
            reason: &format!("名单更正：{}", reason.trim()),
            detail: json!({"list_correction": true}),
            attachments: &[],
        },
        now,
    )
    .await
}

/// How one round a consultancy handled turned out, for its scorecard.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsultancyRoundRow {
    pub round_id: i64,
    pub enterprise_id: i64,
    pub list_year: i64,
    /// Score and conclusion of the first decided assessment (or combined review).
    pub first_score: Option<f64>,
    pub first_conclusion: Option<String>,
    /// Deadlines met late, or open past their last day as of the given date.
    pub overdue: i64,
}

impl Db {
    /// The rounds a consultancy was engaged for, with their first assessment and late
    /// milestones (public figures of the consultancy's scorecard).
    pub async fn consultancy_rounds(
        &self,
        consultancy_id: i64,
        today: NaiveDate,
    ) -> Result<Vec<ConsultancyRoundRow>> {
        let first =
            "FROM reviews rv WHERE rv.round_id = r.id AND rv.kind IN ('assessment', 'combined') \
                     AND rv.conclusion IS NOT NULL ORDER BY rv.decided_at LIMIT 1";
        let text = format!(
            "SELECT r.id AS round_id, r.enterprise_id, r.list_year, \
             (SELECT rv.score {first}) AS first_score, \
             (SELECT rv.conclusion {first}) AS first_conclusion, \
             (SELECT COUNT(*) FROM round_deadlines d WHERE d.round_id = r.id AND \
              ((d.met_on IS NOT NULL AND d.met_on > d.due_on) OR \
               (d.met_on IS NULL AND d.closed_reason IS NULL AND d.due_on < $2))) AS overdue \
             FROM rounds r WHERE r.consultancy_id = $1 ORDER BY r.id"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(consultancy_id)
                .bind(date_text(today))
                .fetch_all(pool)
                .await?
        }))
    }
}
