//! Enforcement on audit rounds (责令限期改正, 罚款, 通报批评): decided by an official with
//! jurisdiction over the round (its city, or the province), each decision in one transaction
//! with its timeline event and audit entry; the public list of published fines and criticisms;
//! and the orders whose date passed without a recorded outcome, for the officials' work lists.
//!
//! The checks are core's (`cpaudit_core::enforcement`). They run inside the recording
//! transaction, after the audit chain's lock, on the round's orders as they stand then: two
//! officials acting on one order at once are taken in turn, and the second sees the first.

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::enforcement::{Action, Checked, Decision, Outcome, RecordedOrder};
use cpaudit_core::rules::PenaltyKind;
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::columns::StoredRow;
use crate::evidence::date_text;
use crate::rounds::{
    append_round_event, audit_round_step, round_scope_condition, RoundEventInsert, RoundRow,
};
use crate::sql::{bind_args, Arg, Sql};
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, Scope, StorageError, Tx};

/// One enforcement decision on a round.
#[derive(Debug, Clone, Serialize)]
pub struct EnforcementRow {
    pub id: i64,
    pub round_id: i64,
    pub kind: PenaltyKind,
    /// The rule id of the article applied, e.g. penalty.law_39_1.
    pub basis: String,
    /// The order to correct a fine follows.
    pub follows: Option<i64>,
    pub reason: String,
    /// The decision's document number (文号), when given.
    pub document_number: String,
    pub decided_on: NaiveDate,
    /// Orders: the last day to correct.
    pub correct_by: Option<NaiveDate>,
    /// Fines: the amount in yuan.
    pub amount_yuan: Option<i64>,
    /// On the public list (public criticisms always, fines when the official chose so).
    pub published: bool,
    /// Orders, once recorded.
    pub outcome: Option<Outcome>,
    pub outcome_on: Option<NaiveDate>,
    /// The article as in force on the decision day.
    pub rule: crate::JsonColumn<cpaudit_core::rules::RuleRef>,
    pub decided_by: String,
    pub decided_at: String,
}

/// The columns of [`ACTION_COLUMNS`] as stored.
#[derive(sqlx::FromRow)]
struct StoredEnforcement {
    id: i64,
    round_id: i64,
    kind: String,
    basis: String,
    follows: Option<i64>,
    reason: String,
    document_number: String,
    decided_on: String,
    correct_by: Option<String>,
    amount_yuan: Option<i64>,
    published: bool,
    outcome: Option<String>,
    outcome_on: Option<String>,
    #[sqlx(rename = "rule_json", try_from = "String")]
    rule: crate::JsonColumn<cpaudit_core::rules::RuleRef>,
    decided_by: String,
    decided_at: String,
}

impl StoredEnforcement {
    fn decode(self) -> Result<EnforcementRow> {
        let row = StoredRow::new("enforcement_actions", self.id);
        Ok(EnforcementRow {
            id: self.id,
            round_id: self.round_id,
            kind: row.read("kind", &self.kind)?,
            basis: self.basis,
            follows: self.follows,
            reason: self.reason,
            document_number: self.document_number,
            decided_on: row.read("decided_on", &self.decided_on)?,
            correct_by: row.read_optional("correct_by", self.correct_by.as_deref())?,
            amount_yuan: self.amount_yuan,
            published: self.published,
            outcome: row.read_optional("outcome", self.outcome.as_deref())?,
            outcome_on: row.read_optional("outcome_on", self.outcome_on.as_deref())?,
            rule: self.rule,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
        })
    }
}

crate::decoded_row!(EnforcementRow, StoredEnforcement);

impl EnforcementRow {
    /// The core view of an order to correct; `None` for other kinds.
    pub fn as_order(&self) -> Option<RecordedOrder> {
        if self.kind != PenaltyKind::OrderToCorrect {
            return None;
        }
        Some(RecordedOrder {
            id: self.id,
            basis: self.basis.clone(),
            decided_on: self.decided_on,
            correct_by: self.correct_by?,
            outcome: self.outcome.zip(self.outcome_on),
        })
    }
}

/// A published fine or public criticism, as the public list shows it: the enterprise, the
/// article, the decision; no person's name and not the free-text reason.
#[derive(Debug, Clone, Serialize)]
pub struct PublicEnforcementRow {
    pub id: i64,
    pub kind: PenaltyKind,
    /// The rule id of the article applied.
    pub basis: String,
    pub enterprise_name: String,
    pub jurisdiction_name_zh: String,
    pub decided_on: NaiveDate,
    pub document_number: String,
    /// Fines only.
    pub amount_yuan: Option<i64>,
}

/// The columns of a [`PublicEnforcementRow`] as stored.
#[derive(sqlx::FromRow)]
struct StoredPublicEnforcement {
    id: i64,
    kind: String,
    basis: String,
    enterprise_name: String,
    jurisdiction_name_zh: String,
    decided_on: String,
    document_number: String,
    amount_yuan: Option<i64>,
}

impl StoredPublicEnforcement {
    fn decode(self) -> Result<PublicEnforcementRow> {
        let row = StoredRow::new("enforcement_actions", self.id);
        Ok(PublicEnforcementRow {
            id: self.id,
            kind: row.read("kind", &self.kind)?,
            basis: self.basis,
            enterprise_name: self.enterprise_name,
            jurisdiction_name_zh: self.jurisdiction_name_zh,
            decided_on: row.read("decided_on", &self.decided_on)?,
            document_number: self.document_number,
            amount_yuan: self.amount_yuan,
        })
    }
}

crate::decoded_row!(PublicEnforcementRow, StoredPublicEnforcement);

/// An order to correct whose date passed with no outcome recorded: a work item for the
/// officials with jurisdiction (record "corrected", or "not corrected" and consider a fine).
#[derive(Debug, Clone, Serialize)]
pub struct OverdueOrderRow {
    pub id: i64,
    pub round_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub basis: String,
    pub decided_on: NaiveDate,
    pub correct_by: NaiveDate,
}

/// The columns of an [`OverdueOrderRow`] as stored.
#[derive(sqlx::FromRow)]
struct StoredOverdueOrder {
    id: i64,
    round_id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    jurisdiction_code: String,
    basis: String,
    decided_on: String,
    correct_by: String,
}

impl StoredOverdueOrder {
    fn decode(self) -> Result<OverdueOrderRow> {
        let row = StoredRow::new("enforcement_actions", self.id);
        Ok(OverdueOrderRow {
            id: self.id,
            round_id: self.round_id,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            jurisdiction_code: self.jurisdiction_code,
            basis: self.basis,
            decided_on: row.read("decided_on", &self.decided_on)?,
            correct_by: row.read("correct_by", &self.correct_by)?,
        })
    }
}

crate::decoded_row!(OverdueOrderRow, StoredOverdueOrder);

/// A checked decision to record.
#[derive(Debug, Clone)]
pub struct EnforcementRecord {
    pub decision: Decision,
    pub checked: Checked,
    pub document_number: String,
}

const ACTION_COLUMNS: &str = "id, round_id, kind, basis, follows, reason, document_number, \
    decided_on, correct_by, amount_yuan, published, outcome, outcome_on, rule_json, decided_by, \
    decided_at";

/// Enforcement on a round is decided by its city or the province (促进法 Art. 36 and 39: 县级以上;
/// 令第24号 Art. 28 and 29: 设区的市级以上).
fn require_jurisdiction(actor: &Principal, round: &RoundRow) -> Result<()> {
    if actor.scope().may_manage_city(&round.jurisdiction_code) {
        Ok(())
    } else {
        Err(StorageError::refused(
            "enforcement_outside_jurisdiction",
            "对本轮审核的执法决定只能由企业所在市州或省级主管部门作出",
            "enforcement on a round is decided by its city or the province",
        ))
    }
}

impl Db {
    /// A round's enforcement decisions in the order they were taken. The caller has read the
    /// round within its scope.
    pub async fn round_enforcement(
        &self,
        round: &InScope<RoundRow>,
    ) -> Result<Vec<EnforcementRow>> {
        let text = format!(
            "SELECT {ACTION_COLUMNS} FROM enforcement_actions WHERE round_id = $1 \
             ORDER BY decided_on, id"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(round.id).fetch_all(pool).await?
        }))
    }

    /// One decision and its round, if the scope covers the round.
    pub async fn enforcement_with_round(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<(EnforcementRow, InScope<RoundRow>)>> {
        let text = format!("SELECT {ACTION_COLUMNS} FROM enforcement_actions WHERE id = $1");
        let row: Option<EnforcementRow> = on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(id).fetch_optional(pool).await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(self
            .get_round(scope, row.round_id)
            .await?
            .map(|round| (row, round)))
    }

    /// Records a decision. `decide` sees the round's orders as they stand inside the
    /// transaction and returns the checked decision, or refuses with the caller's error.
    pub async fn record_enforcement<E: From<StorageError>>(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        decide: impl FnOnce(&[RecordedOrder]) -> Result<EnforcementRecord, E>,
        now: DateTime<Utc>,
    ) -> Result<i64, E> {
        require_jurisdiction(actor, round)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let orders = round_orders(&mut tx, round.id).await?;
        let record = decide(&orders)?;
        let id = insert_action(&mut tx, actor, round.id, &record, now).await?;
        let decision = &record.decision;
        let kind = record.checked.kind.as_str();
        let detail = json!({
            "enforcement_id": id,
            "kind": kind,
            "basis": decision.basis,
            "decided_on": date_text(decision.decided_on),
            "document_number": record.document_number.trim(),
            "correct_by": correct_by(&record).map(date_text),
            "amount_yuan": amount_yuan(&record),
            "follows": record.checked.follows,
            "published": record.checked.published,
        });
        let action = format!("enforcement_{kind}");
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action: &action,
                from_state: None,
                to_state: None,
                actor,
                reason: &decision.reason,
                detail: detail.clone(),
                attachments: &[],
            },
            now,
        )
        .await?;
        let audit_action = format!("round.{action}");
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            &audit_action,
            &detail,
            now,
        )
        .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Records how an order to correct ended. `decide` sees the order as it stands inside the
    /// transaction and returns the outcome and its day, or refuses with the caller's error.
    pub async fn record_enforcement_outcome<E: From<StorageError>>(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        order_id: i64,
        decide: impl FnOnce(&RecordedOrder) -> Result<(Outcome, NaiveDate), E>,
        now: DateTime<Utc>,
    ) -> Result<(), E> {
        require_jurisdiction(actor, round)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let order = round_orders(&mut tx, round.id)
            .await?
            .into_iter()
            .find(|order| order.id == order_id)
            .ok_or(StorageError::NotFound)?;
        let (outcome, on) = decide(&order)?;
        set_outcome(&mut tx, order_id, outcome, on).await?;
        let detail = json!({
            "enforcement_id": order_id,
            "outcome": outcome.as_str(),
            "outcome_on": date_text(on),
        });
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action: "enforcement_outcome",
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
            "round.enforcement_outcome",
            &detail,
            now,
        )
        .await?;
        chain.commit(tx).await?;
        Ok(())
    }

    /// Published fines and public criticisms, newest first (public information).
    pub async fn public_enforcement(&self) -> Result<Vec<PublicEnforcementRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT a.id, a.kind, a.basis, e.name AS enterprise_name, \
                 j.name_zh AS jurisdiction_name_zh, a.decided_on, a.document_number, \
                 a.amount_yuan FROM enforcement_actions a JOIN rounds r ON r.id = a.round_id \
                 JOIN enterprises e ON e.id = r.enterprise_id \
                 JOIN jurisdictions j ON j.code = r.jurisdiction_code \
                 WHERE a.published = TRUE AND a.kind IN ('fine', 'public_criticism') \
                 ORDER BY a.decided_on DESC, a.id DESC",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Orders to correct within the scope whose date passed before `today` with no outcome
    /// recorded, oldest date first.
    pub async fn orders_awaiting_outcome(
        &self,
        scope: &Scope,
        today: NaiveDate,
    ) -> Result<Vec<OverdueOrderRow>> {
        let mut sql = Sql::default();
        let condition = round_scope_condition(&mut sql, scope);
        let today = sql.arg(Arg::Text(date_text(today)));
        let text = format!(
            "SELECT a.id, a.round_id, r.enterprise_id, e.name AS enterprise_name, \
             r.jurisdiction_code, a.basis, a.decided_on, a.correct_by \
             FROM enforcement_actions a JOIN rounds r ON r.id = a.round_id \
             JOIN enterprises e ON e.id = r.enterprise_id \
             WHERE {condition} AND a.kind = 'order_to_correct' AND a.outcome IS NULL \
             AND a.correct_by < {today} ORDER BY a.correct_by, a.id"
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_all(pool)
                .await?
        }))
    }
}

fn correct_by(record: &EnforcementRecord) -> Option<NaiveDate> {
    match record.decision.action {
        Action::OrderToCorrect { correct_by } => Some(correct_by),
        _ => None,
    }
}

fn amount_yuan(record: &EnforcementRecord) -> Option<i64> {
    match record.decision.action {
        Action::Fine { amount_yuan, .. } => Some(amount_yuan),
        _ => None,
    }
}

/// The round's orders to correct, read inside the recording transaction.
async fn round_orders(tx: &mut Tx, round_id: i64) -> Result<Vec<RecordedOrder>> {
    let text = format!(
        "SELECT {ACTION_COLUMNS} FROM enforcement_actions WHERE round_id = $1 \
         AND kind = 'order_to_correct' ORDER BY id"
    );
    let rows: Vec<EnforcementRow> = on_tx!(tx, |conn| {
        sqlx::query_as(&text).bind(round_id).fetch_all(conn).await
    })?;
    Ok(rows.iter().filter_map(EnforcementRow::as_order).collect())
}

async fn insert_action(
    tx: &mut Tx,
    actor: &Principal,
    round_id: i64,
    record: &EnforcementRecord,
    now: DateTime<Utc>,
) -> Result<i64> {
    let rule_json = serde_json::to_string(&record.checked.rule).unwrap_or_default();
    let decision = &record.decision;
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO enforcement_actions (round_id, kind, basis, follows, reason, \
             document_number, decided_on, correct_by, amount_yuan, published, rule_json, \
             decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(round_id)
        .bind(record.checked.kind.as_str())
        .bind(&decision.basis)
        .bind(record.checked.follows)
        .bind(decision.reason.trim())
        .bind(record.document_number.trim())
        .bind(date_text(decision.decided_on))
        .bind(correct_by(record).map(date_text))
        .bind(amount_yuan(record))
        .bind(record.checked.published)
        .bind(&rule_json)
        .bind(actor.actor())
        .bind(timestamp(now))
        .fetch_one(conn)
        .await
    })?)
}

async fn set_outcome(tx: &mut Tx, order_id: i64, outcome: Outcome, on: NaiveDate) -> Result<()> {
    let changed = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE enforcement_actions SET outcome = $1, outcome_on = $2 \
             WHERE id = $3 AND outcome IS NULL",
        )
        .bind(outcome.as_str())
        .bind(date_text(on))
        .bind(order_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    // The check inside this transaction saw no outcome; the condition keeps a recorded one
    // from ever being overwritten all the same.
    if changed == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}
