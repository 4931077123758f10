//! Notices of round deadlines (reminders, overdue notices, escalations), who reads them, and
//! the overdue list of the officials' work lists.
//!
//! Firing: [`Db::fire_due_notices`] reads the open deadlines of open rounds that may have a
//! notice due, asks the caller's planner which notices are due and what they say (the rules
//! are in `cpaudit_core::deadlines`; storage holds none), and inserts each under the unique key
//! (round, deadline kind, deadline seq, notice kind) with `ON CONFLICT DO NOTHING`. The insert
//! re-checks in the same statement that the deadline is still open and the round not finished,
//! so a deadline met a moment before fires nothing. A second run, a concurrent run or a run
//! after a restart therefore fires nothing twice. Each notice that fired is appended to the
//! audit chain, and queued in `notice_outbox` when e-mail is on, in the same transaction.
//!
//! `notices.due_on` holds the day the schedule put the notice on, `fired_on` the day it fired;
//! they differ only when the scheduler was not running that day.
//!
//! Reading: each role sees the notices addressed to it (`NoticeKind::addressed_to`) within its
//! scope; officials may ask for every notice of their scope. Read marks are per user.

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::deadlines::{DeadlineKind, NoticeKind, NoticeReader};
use cpaudit_core::round::RoundState;
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::evidence::date_text;
use crate::rounds::{audit_round_step, round_scope_condition};
use crate::sql::{bind_args, Arg, Sql};
use crate::{on_pool, on_tx, timestamp, Db, Principal, Result, Scope, StorageError};

/// An open deadline of an open round that may have a notice due: what the planner reads.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenDeadline {
    pub round_id: i64,
    pub enterprise_name: String,
    /// disclose | start | report | rectify | accept
    pub kind: String,
    pub seq: i64,
    /// The effective last day.
    pub due_on: String,
    /// The rule that fixed the deadline, for the citation.
    #[sqlx(rename = "rule_json", try_from = "String")]
    pub rule: crate::JsonColumn<cpaudit_core::rules::RuleRef>,
    /// The notices fired before (the escalation has not, or the deadline would not be here).
    reminder_id: Option<i64>,
    overdue_id: Option<i64>,
}

impl OpenDeadline {
    fn has_fired(&self, kind: NoticeKind) -> bool {
        match kind {
            NoticeKind::Reminder => self.reminder_id.is_some(),
            NoticeKind::Overdue => self.overdue_id.is_some(),
            NoticeKind::Escalation => false,
        }
    }
}

/// A notice the planner says is due for an open deadline.
#[derive(Debug, Clone)]
pub struct NoticeDraft {
    pub kind: NoticeKind,
    /// The day the schedule puts it on.
    pub falls_on: NaiveDate,
    pub message_zh: String,
    pub message_en: String,
}

/// How many notices one run fired, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FiredCount {
    pub reminders: u64,
    pub overdue: u64,
    pub escalations: u64,
}

impl FiredCount {
    pub fn total(&self) -> u64 {
        self.reminders + self.overdue + self.escalations
    }

    fn count(&mut self, kind: NoticeKind) {
        match kind {
            NoticeKind::Reminder => self.reminders += 1,
            NoticeKind::Overdue => self.overdue += 1,
            NoticeKind::Escalation => self.escalations += 1,
        }
    }
}

/// A notice as its reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeRow {
    pub id: i64,
    pub round_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    pub deadline_kind: DeadlineKind,
    pub deadline_seq: i64,
    /// The deadline's effective last day.
    pub deadline_due_on: NaiveDate,
    pub kind: NoticeKind,
    /// The day the schedule put the notice on.
    pub scheduled_on: NaiveDate,
    pub fired_on: NaiveDate,
    pub fired_at: String,
    pub message_zh: String,
    pub message_en: String,
    /// When the caller marked it read; none while unread.
    pub read_at: Option<String>,
}

/// The columns of [`NOTICE_SELECT`] as stored.
#[derive(sqlx::FromRow)]
struct StoredNotice {
    id: i64,
    round_id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    jurisdiction_code: String,
    jurisdiction_name_zh: String,
    deadline_kind: String,
    deadline_seq: i64,
    deadline_due_on: String,
    kind: String,
    scheduled_on: String,
    fired_on: String,
    fired_at: String,
    message_zh: String,
    message_en: String,
    read_at: Option<String>,
}

impl StoredNotice {
    fn decode(self) -> Result<NoticeRow> {
        let row = StoredRow::new("notices", self.id);
        let deadline = StoredRow::new("round_deadlines", self.round_id);
        Ok(NoticeRow {
            id: self.id,
            round_id: self.round_id,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            jurisdiction_code: self.jurisdiction_code,
            jurisdiction_name_zh: self.jurisdiction_name_zh,
            deadline_kind: row.read("deadline_kind", &self.deadline_kind)?,
            deadline_seq: self.deadline_seq,
            deadline_due_on: deadline.read("due_on", &self.deadline_due_on)?,
            kind: row.read("kind", &self.kind)?,
            scheduled_on: row.read("due_on", &self.scheduled_on)?,
            fired_on: row.read("fired_on", &self.fired_on)?,
            fired_at: self.fired_at,
            message_zh: self.message_zh,
            message_en: self.message_en,
            read_at: self.read_at,
        })
    }
}

crate::decoded_row!(NoticeRow, StoredNotice);

/// Which of the caller's notices to list.
#[derive(Debug, Clone, Copy)]
pub struct NoticeFilter {
    /// Officials: every notice of their scope, not only those addressed to them.
    pub all: bool,
    pub unread_only: bool,
    pub limit: i64,
}

/// An open deadline past its last day, for the city's and the province's work lists.
#[derive(Debug, Clone, Serialize)]
pub struct OverdueRow {
    pub round_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    pub round_state: RoundState,
    pub deadline_kind: DeadlineKind,
    pub deadline_seq: i64,
    /// The effective last day.
    pub due_on: NaiveDate,
    pub rule_id: String,
    /// Days since the last day (1 on the first day overdue).
    pub days_overdue: i64,
    /// The day the escalation to the province fired, if it has.
    pub escalated_on: Option<NaiveDate>,
}

/// The columns of an [`OverdueRow`] as stored, before the days overdue are counted. The read
/// has no deadline or notice id: an unknown value names the round.
#[derive(sqlx::FromRow)]
struct StoredOverdue {
    round_id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    credit_code: String,
    jurisdiction_code: String,
    jurisdiction_name_zh: String,
    round_state: String,
    deadline_kind: String,
    deadline_seq: i64,
    due_on: String,
    rule_id: String,
    escalated_on: Option<String>,
}

impl StoredOverdue {
    fn decode(self, today: NaiveDate) -> Result<OverdueRow> {
        let round = StoredRow::new("rounds", self.round_id);
        let deadline = StoredRow::new("round_deadlines", self.round_id);
        let due_on: NaiveDate = deadline.read("due_on", &self.due_on)?;
        Ok(OverdueRow {
            round_id: self.round_id,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            credit_code: self.credit_code,
            jurisdiction_code: self.jurisdiction_code,
            jurisdiction_name_zh: self.jurisdiction_name_zh,
            round_state: round.read("state", &self.round_state)?,
            deadline_kind: deadline.read("kind", &self.deadline_kind)?,
            deadline_seq: self.deadline_seq,
            due_on,
            rule_id: self.rule_id,
            days_overdue: (today - due_on).num_days(),
            escalated_on: StoredRow::new("notices", self.round_id)
                .read_optional("fired_on", self.escalated_on.as_deref())?,
        })
    }
}

/// Notices inserted per transaction.
const NOTICES_PER_TRANSACTION: usize = 200;

/// `'closed', 'cancelled'`: the states in which a round sends nothing.
fn final_states_sql() -> String {
    RoundState::ALL
        .into_iter()
        .filter(|state| state.is_final())
        .map(|state| format!("'{}'", state.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The condition on the notice alias `n` (joined with round `r`) that limits rows to those the
/// scope reads: its rounds, and of those the notice kinds addressed to it (or every kind, for
/// an official who asks).
fn notice_condition(sql: &mut Sql, scope: &Scope, all: bool) -> String {
    let reader = match scope.kind() {
        ScopeKind::Province => NoticeReader::Province,
        ScopeKind::City(_) => NoticeReader::City,
        ScopeKind::Enterprise(_) => NoticeReader::Enterprise,
        ScopeKind::Consultancy(_) => NoticeReader::Consultancy,
        // Experts take no part in deadlines.
        ScopeKind::Expert(_) => return "1 = 0".into(),
    };
    let official = matches!(reader, NoticeReader::Province | NoticeReader::City);
    let kinds: Vec<String> = NoticeKind::ALL
        .into_iter()
        .filter(|kind| (all && official) || kind.addressed_to(reader))
        .map(|kind| sql.arg(Arg::Text(kind.as_str().into())))
        .collect();
    let rounds = round_scope_condition(sql, scope);
    format!("{rounds} AND n.kind IN ({})", kinds.join(", "))
}

const NOTICE_SELECT: &str = "SELECT n.id, n.round_id, r.enterprise_id, e.name AS enterprise_name, \
    r.jurisdiction_code, j.name_zh AS jurisdiction_name_zh, n.deadline_kind, n.deadline_seq, \
    d.due_on AS deadline_due_on, n.kind, n.due_on AS scheduled_on, n.fired_on, n.fired_at, \
    n.message_zh, n.message_en, nr.read_at \
    FROM notices n JOIN rounds r ON r.id = n.round_id \
    JOIN enterprises e ON e.id = r.enterprise_id \
    JOIN jurisdictions j ON j.code = r.jurisdiction_code \
    JOIN round_deadlines d ON d.round_id = n.round_id AND d.kind = n.deadline_kind \
    AND d.seq = n.deadline_seq";

impl Db {
    /// Fires every notice due by `today` for the open deadlines of open rounds that fall due on
    /// or before `reach` (today plus the longest reminder lead). `plan` says which notices are
    /// due for a deadline and what they say. Returns what fired now; nothing fires twice.
    pub async fn fire_due_notices(
        &self,
        plan: impl Fn(&OpenDeadline) -> Vec<NoticeDraft>,
        reach: NaiveDate,
        today: NaiveDate,
        email: bool,
        now: DateTime<Utc>,
    ) -> Result<FiredCount> {
        let deadlines = self.deadlines_with_notices_to_come(reach).await?;
        // Between its overdue notice and its escalation a deadline is planned on every run;
        // what fired before is left out here, so a run with nothing new writes nothing.
        let drafts: Vec<(&OpenDeadline, NoticeDraft)> = deadlines
            .iter()
            .flat_map(|deadline| {
                plan(deadline)
                    .into_iter()
                    .filter(|draft| !deadline.has_fired(draft.kind))
                    .map(move |draft| (deadline, draft))
            })
            .collect();
        let mut fired = FiredCount::default();
        for batch in drafts.chunks(NOTICES_PER_TRANSACTION) {
            let mut tx = self.begin().await?;
            let mut chain = Chain::open(&mut tx).await?;
            for (deadline, draft) in batch {
                let notice = NoticeInsert {
                    deadline,
                    draft,
                    today,
                    email,
                    now,
                };
                if notice.insert(&mut tx, &mut chain).await? {
                    fired.count(draft.kind);
                }
            }
            chain.commit(tx).await?;
        }
        Ok(fired)
    }

    /// Open deadlines of open rounds due by `reach` whose escalation, the last notice, has not
    /// fired yet, with the notices they fired before.
    async fn deadlines_with_notices_to_come(&self, reach: NaiveDate) -> Result<Vec<OpenDeadline>> {
        let fired = |kind: NoticeKind| {
            format!(
                "(SELECT n.id FROM notices n WHERE n.round_id = d.round_id \
                 AND n.deadline_kind = d.kind AND n.deadline_seq = d.seq AND n.kind = '{}')",
                kind.as_str()
            )
        };
        let text = format!(
            "SELECT d.round_id, e.name AS enterprise_name, d.kind, d.seq, d.due_on, d.rule_json, \
             {} AS reminder_id, {} AS overdue_id \
             FROM round_deadlines d JOIN rounds r ON r.id = d.round_id \
             JOIN enterprises e ON e.id = r.enterprise_id \
             WHERE d.met_on IS NULL AND d.closed_reason IS NULL AND d.due_on <= $1 \
             AND r.state NOT IN ({}) AND NOT EXISTS {} \
             ORDER BY d.due_on, d.round_id, d.kind, d.seq",
            fired(NoticeKind::Reminder),
            fired(NoticeKind::Overdue),
            final_states_sql(),
            fired(NoticeKind::Escalation),
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(date_text(reach))
                .fetch_all(pool)
                .await?
        }))
    }

    /// The caller's notices, newest first.
    pub async fn notices_for(
        &self,
        principal: &Principal,
        filter: NoticeFilter,
    ) -> Result<Vec<NoticeRow>> {
        let mut sql = Sql::default();
        let user = sql.arg(Arg::Int(reader_id(principal)));
        let condition = notice_condition(&mut sql, principal.scope(), filter.all);
        let unread = if filter.unread_only {
            " AND nr.read_at IS NULL"
        } else {
            ""
        };
        let limit = sql.arg(Arg::Int(filter.limit));
        let text = format!(
            "{NOTICE_SELECT} LEFT JOIN notice_reads nr ON nr.notice_id = n.id AND nr.user_id = {user} \
             WHERE {condition}{unread} ORDER BY n.fired_at DESC, n.id DESC LIMIT {limit}"
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// How many notices addressed to the caller it has not marked read (the badge).
    pub async fn unread_notice_count(&self, principal: &Principal) -> Result<i64> {
        let mut sql = Sql::default();
        let user = sql.arg(Arg::Int(reader_id(principal)));
        let condition = notice_condition(&mut sql, principal.scope(), false);
        let text = format!(
            "SELECT COUNT(*) FROM notices n JOIN rounds r ON r.id = n.round_id \
             WHERE {condition} AND NOT EXISTS (SELECT 1 FROM notice_reads nr \
             WHERE nr.notice_id = n.id AND nr.user_id = {user})"
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_scalar(&text), &sql.args)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Marks a notice read for the caller. Not found unless the caller may read it; marking
    /// it again changes nothing. A read mark is the reader's own, not a business record, so it
    /// is not in the audit trail.
    pub async fn mark_notice_read(
        &self,
        principal: &Principal,
        notice_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let user_id = principal.user_id.ok_or_else(|| {
            StorageError::refused(
                "notice_reader_needs_user",
                "只有用户账号可以将通知标记为已读",
                "only a user account can mark a notice read",
            )
        })?;
        let mut sql = Sql::default();
        let condition = notice_condition(&mut sql, principal.scope(), true);
        let id = sql.arg(Arg::Int(notice_id));
        let text = format!(
            "SELECT n.id FROM notices n JOIN rounds r ON r.id = n.round_id \
             WHERE {condition} AND n.id = {id}"
        );
        let visible: Option<i64> = on_pool!(self, |pool| {
            bind_args!(sqlx::query_scalar(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        });
        visible.ok_or(StorageError::NotFound)?;
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO notice_reads (notice_id, user_id, read_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (notice_id, user_id) DO NOTHING",
            )
            .bind(notice_id)
            .bind(user_id)
            .bind(timestamp(now))
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(())
    }

    /// Every open deadline of an open round past its last day on `today`, within the scope
    /// (a city its own, the province all, optionally one city), by city and then the longest
    /// overdue first.
    pub async fn overdue_deadlines(
        &self,
        scope: &Scope,
        today: NaiveDate,
        city: Option<&str>,
    ) -> Result<Vec<OverdueRow>> {
        let mut sql = Sql::default();
        let condition = round_scope_condition(&mut sql, scope);
        let today_arg = sql.arg(Arg::Text(date_text(today)));
        let escalation = sql.arg(Arg::Text(NoticeKind::Escalation.as_str().into()));
        let city_condition = match city {
            Some(code) => format!(
                " AND r.jurisdiction_code = {}",
                sql.arg(Arg::Text(code.into()))
            ),
            None => String::new(),
        };
        let text = format!(
            "SELECT d.round_id, r.enterprise_id, e.name AS enterprise_name, e.credit_code, \
             r.jurisdiction_code, j.name_zh AS jurisdiction_name_zh, r.state AS round_state, \
             d.kind AS deadline_kind, d.seq AS deadline_seq, d.due_on, d.rule_id, \
             (SELECT n.fired_on FROM notices n WHERE n.round_id = d.round_id \
             AND n.deadline_kind = d.kind AND n.deadline_seq = d.seq AND n.kind = {escalation}) \
             AS escalated_on \
             FROM round_deadlines d JOIN rounds r ON r.id = d.round_id \
             JOIN enterprises e ON e.id = r.enterprise_id \
             JOIN jurisdictions j ON j.code = r.jurisdiction_code \
             WHERE {condition}{city_condition} AND d.met_on IS NULL AND d.closed_reason IS NULL \
             AND d.due_on < {today_arg} AND r.state NOT IN ({}) \
             ORDER BY r.jurisdiction_code, d.due_on, e.name, d.kind, d.seq",
            final_states_sql()
        );
        let rows: Vec<StoredOverdue> = on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(|row| row.decode(today)).collect()
    }
}

/// The user whose read marks count; the console operator has none (no user has id 0).
fn reader_id(principal: &Principal) -> i64 {
    principal.user_id.unwrap_or(0)
}

/// One notice to insert, with what else its firing writes.
struct NoticeInsert<'a> {
    deadline: &'a OpenDeadline,
    draft: &'a NoticeDraft,
    today: NaiveDate,
    email: bool,
    now: DateTime<Utc>,
}

impl NoticeInsert<'_> {
    /// Inserts the notice unless it fired before or the deadline stopped running; returns
    /// whether it fired now.
    async fn insert(&self, tx: &mut crate::Tx, chain: &mut Chain) -> Result<bool> {
        let (deadline, draft) = (self.deadline, self.draft);
        let text = format!(
            "INSERT INTO notices (round_id, deadline_kind, deadline_seq, kind, due_on, fired_on, \
             fired_at, message_zh, message_en) \
             SELECT d.round_id, d.kind, d.seq, $4, $5, $6, $7, $8, $9 \
             FROM round_deadlines d JOIN rounds r ON r.id = d.round_id \
             WHERE d.round_id = $1 AND d.kind = $2 AND d.seq = $3 AND d.met_on IS NULL \
             AND d.closed_reason IS NULL AND r.state NOT IN ({}) \
             ON CONFLICT (round_id, deadline_kind, deadline_seq, kind) DO NOTHING RETURNING id",
            final_states_sql()
        );
        let id: Option<i64> = on_tx!(&mut *tx, |conn| {
            sqlx::query_scalar(&text)
                .bind(deadline.round_id)
                .bind(&deadline.kind)
                .bind(deadline.seq)
                .bind(draft.kind.as_str())
                .bind(date_text(draft.falls_on))
                .bind(date_text(self.today))
                .bind(timestamp(self.now))
                .bind(&draft.message_zh)
                .bind(&draft.message_en)
                .fetch_optional(conn)
                .await
        })?;
        let Some(id) = id else {
            return Ok(false);
        };
        let scheduler = Principal::console_operator("scheduler");
        let record = json!({"notice": id, "kind": draft.kind.as_str(), "deadline": deadline.kind,
            "seq": deadline.seq, "due_on": deadline.due_on, "falls_on": date_text(draft.falls_on)});
        audit_round_step(
            tx,
            chain,
            &scheduler,
            deadline.round_id,
            "notice.fire",
            &record,
            self.now,
        )
        .await?;
        if self.email {
            on_tx!(&mut *tx, |conn| {
                sqlx::query("INSERT INTO notice_outbox (notice_id, queued_at) VALUES ($1, $2)")
                    .bind(id)
                    .bind(timestamp(self.now))
                    .execute(conn)
                    .await
                    .map(|done| done.rows_affected())
            })?;
        }
        Ok(true)
    }
}
