//! Evidence against enterprises, past audit rounds and park pilots: the facts the
//! determination reads. Every read is scoped through the enterprise it concerns.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::determination::{
    EnterpriseFacts, EvidenceFact, EvidenceKind, EvidenceSource, EvidenceStatus, ParkPilot,
    PastRound, Reason, RoundKind,
};
use cpaudit_core::evidence::{name_of, ValidEvidence, ValidPastRound};
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::columns::StoredRow;
use crate::enterprises::EnterpriseRow;
use crate::sql::{bind_args, scope_condition, Arg, Sql};
use crate::{
    on_pool, on_tx, timestamp, Db, InScope, Principal, Reasons, Result, Scope, StorageError, Tx,
};

/// China Standard Time, in which legal dates are counted. China has no daylight saving time.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    at.with_timezone(&offset).date_naive()
}

/// Dates are stored as 'YYYY-MM-DD'.
pub fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Reasons are stored as a comma-separated list of their snake_case names.
pub fn reasons_text(reasons: &BTreeSet<Reason>) -> String {
    reasons.iter().map(name_of).collect::<Vec<_>>().join(",")
}

pub fn categories_text(categories: &BTreeSet<u8>) -> String {
    categories
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// One evidence record, its kind, status, source and dates decoded.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub kind: EvidenceKind,
    pub status: EvidenceStatus,
    pub observed_on: NaiveDate,
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
    pub confirmed_on: Option<NaiveDate>,
    pub decision_reason: Option<String>,
    pub version: i64,
}

impl EvidenceRow {
    /// The fact the determination reads.
    pub fn fact(&self) -> EvidenceFact {
        EvidenceFact {
            id: self.id,
            kind: self.kind,
            observed_on: self.observed_on,
            status: self.status,
            confirmed_on: self.confirmed_on,
            toxic_category: self.toxic_category.and_then(|c| u8::try_from(c).ok()),
            summary: self.summary.clone(),
            source: self.source,
            document_ref: self.document_ref.clone(),
        }
    }
}

/// The columns of [`EVIDENCE_SELECT`] as they come from the database.
#[derive(sqlx::FromRow)]
struct StoredEvidence {
    id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    jurisdiction_code: String,
    kind: String,
    status: String,
    observed_on: String,
    source: String,
    document_ref: String,
    substance: String,
    amount: f64,
    limit_value: Option<f64>,
    unit: String,
    standard: String,
    toxic_category: Option<i64>,
    hw_code: String,
    summary: String,
    entered_by: String,
    entered_at: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
    confirmed_on: Option<String>,
    decision_reason: Option<String>,
    version: i64,
}

impl StoredEvidence {
    fn decode(self) -> Result<EvidenceRow> {
        let row = StoredRow::new("evidence", self.id);
        Ok(EvidenceRow {
            kind: row.read("kind", &self.kind)?,
            status: row.read("status", &self.status)?,
            observed_on: row.read("observed_on", &self.observed_on)?,
            source: row.read("source", &self.source)?,
            confirmed_on: row.read_optional("confirmed_on", self.confirmed_on.as_deref())?,
            id: self.id,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            jurisdiction_code: self.jurisdiction_code,
            document_ref: self.document_ref,
            substance: self.substance,
            amount: self.amount,
            limit_value: self.limit_value,
            unit: self.unit,
            standard: self.standard,
            toxic_category: self.toxic_category,
            hw_code: self.hw_code,
            summary: self.summary,
            entered_by: self.entered_by,
            entered_at: self.entered_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            decision_reason: self.decision_reason,
            version: self.version,
        })
    }
}

crate::decoded_row!(EvidenceRow, StoredEvidence);

const EVIDENCE_SELECT: &str = "SELECT v.id, v.enterprise_id, e.name AS enterprise_name, \
     e.jurisdiction_code, v.kind, v.status, v.observed_on, v.source, v.document_ref, v.substance, \
     v.amount, v.limit_value, v.unit, v.standard, v.toxic_category, v.hw_code, v.summary, \
     v.entered_by, v.entered_at, v.decided_by, v.decided_at, v.confirmed_on, v.decision_reason, \
     v.version FROM evidence v JOIN enterprises e ON e.id = v.enterprise_id";

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct EvidenceFilter {
    pub enterprise_id: Option<i64>,
    pub status: Option<EvidenceStatus>,
    pub city: Option<String>,
}

/// A past round, its kind, reasons and acceptance date decoded.
#[derive(Debug, Clone, Serialize)]
pub struct PastRoundRow {
    pub id: i64,
    pub enterprise_id: i64,
    pub list_year: i64,
    pub kind: RoundKind,
    pub reasons: Reasons,
    pub accepted_on: Option<NaiveDate>,
    pub source: String,
}

/// A past round as it comes from the database (an imported one, or a listing read as one).
#[derive(sqlx::FromRow)]
struct StoredPastRound {
    id: i64,
    enterprise_id: i64,
    list_year: i64,
    kind: String,
    reasons: String,
    accepted_on: Option<String>,
    source: String,
}

impl StoredPastRound {
    fn decode(self) -> Result<PastRoundRow> {
        let row = StoredRow::new("past_rounds", self.id);
        Ok(PastRoundRow {
            kind: row.read("kind", &self.kind)?,
            reasons: row.read("reasons", &self.reasons)?,
            accepted_on: row.read_optional("accepted_on", self.accepted_on.as_deref())?,
            id: self.id,
            enterprise_id: self.enterprise_id,
            list_year: self.list_year,
            source: self.source,
        })
    }
}

crate::decoded_row!(PastRoundRow, StoredPastRound);

/// An enterprise as the determination sees it, with what the list pages show beside it.
#[derive(Debug, Clone)]
pub struct FactsRecord {
    pub jurisdiction_code: String,
    pub credit_code: String,
    pub industry_code: String,
    pub facts: EnterpriseFacts,
}

/// The decision on a piece of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceDecision {
    Confirm,
    Dismiss,
}

impl Db {
    /// Evidence the scope may see, newest observation first.
    pub async fn list_evidence(
        &self,
        scope: &Scope,
        filter: &EvidenceFilter,
        limit: i64,
    ) -> Result<Vec<EvidenceRow>> {
        let mut sql = Sql::default();
        let mut conditions = vec![scope_condition(&mut sql, scope)];
        if let Some(id) = filter.enterprise_id {
            conditions.push(format!("v.enterprise_id = {}", sql.arg(Arg::Int(id))));
        }
        if let Some(status) = filter.status {
            let status = sql.arg(Arg::Text(name_of(&status)));
            conditions.push(format!("v.status = {status}"));
        }
        if let Some(city) = &filter.city {
            let city = sql.arg(Arg::Text(city.clone()));
            conditions.push(format!("e.jurisdiction_code = {city}"));
        }
        let text = format!(
            "{EVIDENCE_SELECT} WHERE {} ORDER BY v.observed_on DESC, v.id DESC LIMIT {}",
            conditions.join(" AND "),
            sql.arg(Arg::Int(limit))
        );
        self.scoped_query(&text, &sql).await
    }

    /// One piece of evidence if the scope may see its enterprise.
    pub async fn get_evidence(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<InScope<EvidenceRow>>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "{EVIDENCE_SELECT} WHERE {condition} AND v.id = {}",
            sql.arg(Arg::Int(id))
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        })
        .map(InScope::granted))
    }

    /// Records evidence against an enterprise of the actor's jurisdiction. Evidence an official
    /// enters is confirmed by that entry; evidence produced automatically is a candidate.
    pub async fn add_evidence(
        &self,
        actor: &Principal,
        enterprise: &InScope<EnterpriseRow>,
        evidence: &ValidEvidence,
        status: EvidenceStatus,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let enterprise_id = enterprise.id;
        let city = self.managed_city_of(actor, enterprise_id).await?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let id = insert_evidence(
            &mut tx,
            &mut chain,
            actor,
            (enterprise_id, &city),
            evidence,
            status,
            now,
        )
        .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Records many pieces of evidence at once (an import): all or nothing.
    pub async fn import_evidence(
        &self,
        actor: &Principal,
        rows: &[(i64, ValidEvidence)],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let mut cities = HashMap::new();
        for (enterprise_id, _) in rows {
            if !cities.contains_key(enterprise_id) {
                let city = self.managed_city_of(actor, *enterprise_id).await?;
                cities.insert(*enterprise_id, city);
            }
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        for (enterprise_id, evidence) in rows {
            let city = &cities[enterprise_id];
            insert_evidence(
                &mut tx,
                &mut chain,
                actor,
                (*enterprise_id, city),
                evidence,
                EvidenceStatus::Confirmed,
                now,
            )
            .await?;
        }
        chain.commit(tx).await?;
        Ok(rows.len())
    }

    /// Confirms or dismisses a candidate, or withdraws confirmed evidence, with a reason. Only
    /// an official of the enterprise's city decides (the issue: "an official of the
    /// enterprise's city confirms or dismisses it").
    pub async fn decide_evidence(
        &self,
        actor: &Principal,
        current: &InScope<EvidenceRow>,
        decision: EvidenceDecision,
        reason: &str,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<EvidenceRow> {
        let id = current.id;
        if !matches!(actor.scope().kind(), crate::auth::ScopeKind::City(code) if *code == current.jurisdiction_code)
        {
            return Err(StorageError::refused(
                "evidence_decider_only",
                "只有企业所在市州的生态环境部门可以确认或驳回证据",
                "only an official of the enterprise's city decides on its evidence",
            ));
        }
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(StorageError::VersionConflict {
                current: current.version,
            });
        }
        let next = next_status(current.status, decision)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let confirmed_on = (next == EvidenceStatus::Confirmed).then(|| date_text(china_date(now)));
        let changed = on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE evidence SET status = $1, decided_by = $2, decided_at = $3, \
                 confirmed_on = COALESCE($4, confirmed_on), decision_reason = $5, \
                 version = version + 1 WHERE id = $6 AND version = $7",
            )
            .bind(name_of(&next))
            .bind(actor.actor())
            .bind(timestamp(now))
            .bind(confirmed_on)
            .bind(reason.trim())
            .bind(id)
            .bind(current.version)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        if changed == 0 {
            return Err(StorageError::VersionConflict {
                current: current.version + 1,
            });
        }
        chain
            .append(
                &mut tx,
                actor,
                &format!("evidence.{}", name_of(&next)),
                ("evidence", &id.to_string()),
                Some(&json!({"status": name_of(&current.status)})),
                Some(&json!({"status": name_of(&next), "reason": reason.trim()})),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        self.get_evidence(actor.scope(), id)
            .await?
            .map(InScope::into_inner)
            .ok_or(StorageError::NotFound)
    }

    /// Past rounds of one enterprise the scope may see.
    pub async fn past_rounds(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Vec<PastRoundRow>> {
        let enterprise_id = enterprise.id;
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "SELECT r.id, r.enterprise_id, r.list_year, r.kind, r.reasons, r.accepted_on, r.source \
             FROM past_rounds r JOIN enterprises e ON e.id = r.enterprise_id \
             WHERE {condition} AND r.enterprise_id = {} ORDER BY r.list_year",
            sql.arg(Arg::Int(enterprise_id))
        );
        self.scoped_query(&text, &sql).await
    }

    /// Imports past rounds (all or nothing); a round already recorded for the same enterprise
    /// and year is replaced, so a corrected sheet can be imported again.
    pub async fn import_past_rounds(
        &self,
        actor: &Principal,
        rounds: &[(i64, ValidPastRound)],
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        for (enterprise_id, _) in rounds {
            self.managed_city_of(actor, *enterprise_id).await?;
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        for (enterprise_id, round) in rounds {
            insert_past_round(&mut tx, actor, *enterprise_id, round, source, now).await?;
            chain
                .append(
                    &mut tx,
                    actor,
                    "past_round.import",
                    ("enterprise", &enterprise_id.to_string()),
                    None,
                    Some(&json!({
                        "list_year": round.list_year,
                        "reasons": reasons_text(&round.reasons),
                        "accepted_on": round.accepted_on.map(date_text),
                        "source": source,
                    })),
                    now,
                )
                .await?;
        }
        chain.commit(tx).await?;
        Ok(rounds.len())
    }

    /// Records that a park's whole-park audit pilot passed evaluation (province only).
    pub async fn set_park_pilot_passed(
        &self,
        actor: &Principal,
        park_id: i64,
        passed_on: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if !matches!(actor.scope().kind(), crate::auth::ScopeKind::Province) {
            return Err(StorageError::refused(
                "province_records_park_pilots",
                "只有省级主管部门可以登记园区试点评估结果",
                "only the province records park pilot results",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let changed = on_tx!(&mut tx, |conn| {
            sqlx::query("UPDATE parks SET pilot_passed_on = $1 WHERE id = $2")
                .bind(passed_on.map(date_text))
                .bind(park_id)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
        if changed == 0 {
            return Err(StorageError::NotFound);
        }
        chain
            .append(
                &mut tx,
                actor,
                "park.pilot_passed",
                ("park", &park_id.to_string()),
                None,
                Some(&json!({"pilot_passed_on": passed_on.map(date_text)})),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// Everything the determination needs for the enterprises the scope may see, optionally
    /// limited to one city or one enterprise: a handful of ordered scans, grouped here.
    pub async fn determination_facts(
        &self,
        scope: &Scope,
        city: Option<&str>,
        enterprise_id: Option<i64>,
    ) -> Result<Vec<FactsRecord>> {
        let mut sql = Sql::default();
        let mut conditions = vec![scope_condition(&mut sql, scope)];
        if let Some(city) = city {
            let city = sql.arg(Arg::Text(city.to_string()));
            conditions.push(format!("e.jurisdiction_code = {city}"));
        }
        if let Some(id) = enterprise_id {
            conditions.push(format!("e.id = {}", sql.arg(Arg::Int(id))));
        }
        let filter = conditions.join(" AND ");
        let enterprises: Vec<FactsEnterprise> = self
            .scoped_query(
                &format!(
                    "SELECT e.id, e.name, e.jurisdiction_code, e.credit_code, e.industry_code, \
                     e.created_at, e.closed_on FROM enterprises e WHERE {filter} ORDER BY e.id"
                ),
                &sql,
            )
            .await?;
        let evidence: Vec<EvidenceRow> = self
            .scoped_query(
                &format!(
                    "{EVIDENCE_SELECT} WHERE {filter} ORDER BY v.enterprise_id, v.observed_on"
                ),
                &sql,
            )
            .await?;
        let rounds: Vec<PastRoundRow> = self
            .scoped_query(
                &format!(
                    "SELECT r.id, r.enterprise_id, r.list_year, r.kind, r.reasons, r.accepted_on, \
                     r.source FROM past_rounds r JOIN enterprises e ON e.id = r.enterprise_id \
                     WHERE {filter} ORDER BY r.enterprise_id, r.list_year"
                ),
                &sql,
            )
            .await?;
        // A listing on a published list starts a round: it counts for the 双有 interval and
        // consumes the 双超 evidence it was listed for, like an imported past round.
        let listed: Vec<PastRoundRow> = self
            .scoped_query(
                &format!(
                    "SELECT CAST(0 AS BIGINT) AS id, p.enterprise_id, l.list_year, 'audit' AS kind, \
                     p.reasons, CAST(NULL AS TEXT) AS accepted_on, l.title AS source \
                     FROM published_entries p \
                     JOIN published_lists l ON l.id = p.list_id \
                     JOIN enterprises e ON e.id = p.enterprise_id \
                     WHERE {filter} AND l.superseded_by IS NULL \
                     ORDER BY p.enterprise_id, l.list_year"
                ),
                &sql,
            )
            .await?;
        let pilots: Vec<PilotRow> = self
            .scoped_query(
                &format!(
                    "SELECT m.enterprise_id, p.id AS park_id, p.name AS park_name, p.pilot_passed_on \
                     FROM park_members m JOIN parks p ON p.id = m.park_id \
                     JOIN enterprises e ON e.id = m.enterprise_id \
                     WHERE {filter} AND p.pilot_passed_on IS NOT NULL"
                ),
                &sql,
            )
            .await?;
        let rounds = merge_rounds(rounds, listed);
        group_facts(enterprises, evidence, rounds, pilots)
    }

    /// Runs a query built with [`Sql`] and returns every row.
    pub(crate) async fn scoped_query<T>(&self, text: &str, sql: &Sql) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(text), &sql.args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The city of an enterprise the actor manages, or why not.
    pub(crate) async fn managed_city_of(
        &self,
        actor: &Principal,
        enterprise_id: i64,
    ) -> Result<String> {
        let Some(enterprise) = self.get_enterprise(actor.scope(), enterprise_id).await? else {
            return Err(StorageError::NotFound);
        };
        if !actor.scope().may_manage_city(&enterprise.jurisdiction_code) {
            return Err(StorageError::refused(
                "outside_jurisdiction",
                "该企业不在您的管辖范围内",
                "this enterprise is not within your jurisdiction",
            ));
        }
        Ok(enterprise.into_inner().jurisdiction_code)
    }
}

fn next_status(current: EvidenceStatus, decision: EvidenceDecision) -> Result<EvidenceStatus> {
    match (current, decision) {
        (EvidenceStatus::Candidate, EvidenceDecision::Confirm) => Ok(EvidenceStatus::Confirmed),
        (EvidenceStatus::Candidate | EvidenceStatus::Confirmed, EvidenceDecision::Dismiss) => {
            Ok(EvidenceStatus::Dismissed)
        }
        (status, _) => {
            let (zh, en) = match decision {
                EvidenceDecision::Confirm => ("确认", "confirmed"),
                EvidenceDecision::Dismiss => ("驳回", "dismissed"),
            };
            let status_zh = match status {
                EvidenceStatus::Candidate => "待确认（候选）",
                EvidenceStatus::Confirmed => "已确认",
                EvidenceStatus::Dismissed => "已驳回",
            };
            Err(StorageError::conflict(
                "invalid_transition",
                format!("该证据当前为“{status_zh}”，不能{zh}"),
                format!("evidence that is {} cannot be {en}", name_of(&status)),
            ))
        }
    }
}

pub(crate) async fn insert_evidence(
    tx: &mut Tx,
    chain: &mut Chain,
    actor: &Principal,
    (enterprise_id, _city): (i64, &str),
    evidence: &ValidEvidence,
    status: EvidenceStatus,
    now: DateTime<Utc>,
) -> Result<i64> {
    let confirmed_on = (status == EvidenceStatus::Confirmed).then(|| date_text(china_date(now)));
    let id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO evidence (enterprise_id, kind, status, observed_on, source, document_ref, \
             substance, amount, limit_value, unit, standard, toxic_category, hw_code, summary, \
             entered_by, entered_at, confirmed_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             RETURNING id",
        )
        .bind(enterprise_id)
        .bind(name_of(&evidence.kind))
        .bind(name_of(&status))
        .bind(date_text(evidence.observed_on))
        .bind(name_of(&evidence.source))
        .bind(&evidence.document_ref)
        .bind(&evidence.substance)
        .bind(evidence.amount)
        .bind(evidence.limit)
        .bind(&evidence.unit)
        .bind(&evidence.standard)
        .bind(evidence.toxic_category.map(i64::from))
        .bind(&evidence.hw_code)
        .bind(&evidence.summary)
        .bind(actor.actor())
        .bind(timestamp(now))
        .bind(confirmed_on)
        .fetch_one(conn)
        .await
    })?;
    chain
        .append(
            tx,
            actor,
            "evidence.add",
            ("evidence", &id.to_string()),
            None,
            Some(&json!({
                "enterprise_id": enterprise_id,
                "kind": name_of(&evidence.kind),
                "status": name_of(&status),
                "observed_on": date_text(evidence.observed_on),
                "source": name_of(&evidence.source),
                "document_ref": evidence.document_ref,
                "summary": evidence.summary,
            })),
            now,
        )
        .await?;
    Ok(id)
}

async fn insert_past_round(
    tx: &mut Tx,
    actor: &Principal,
    enterprise_id: i64,
    round: &ValidPastRound,
    source: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "DELETE FROM past_rounds WHERE enterprise_id = $1 AND list_year = $2 AND kind = 'audit'",
        )
        .bind(enterprise_id)
        .bind(i64::from(round.list_year))
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO past_rounds (enterprise_id, list_year, kind, reasons, accepted_on, source, \
             entered_by, entered_at) VALUES ($1, $2, 'audit', $3, $4, $5, $6, $7)",
        )
        .bind(enterprise_id)
        .bind(i64::from(round.list_year))
        .bind(reasons_text(&round.reasons))
        .bind(round.accepted_on.map(date_text))
        .bind(source)
        .bind(actor.actor())
        .bind(timestamp(now))
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Imported rounds plus listings, one per enterprise and list year (an imported round with an
/// acceptance date wins over the bare listing of the same year).
fn merge_rounds(imported: Vec<PastRoundRow>, listed: Vec<PastRoundRow>) -> Vec<PastRoundRow> {
    let known: std::collections::HashSet<(i64, i64)> = imported
        .iter()
        .map(|r| (r.enterprise_id, r.list_year))
        .collect();
    let mut all = imported;
    all.extend(
        listed
            .into_iter()
            .filter(|r| !known.contains(&(r.enterprise_id, r.list_year))),
    );
    all
}

#[derive(sqlx::FromRow)]
struct FactsEnterprise {
    id: i64,
    name: String,
    jurisdiction_code: String,
    credit_code: String,
    industry_code: String,
    created_at: String,
    closed_on: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PilotRow {
    enterprise_id: i64,
    park_id: i64,
    park_name: String,
    pilot_passed_on: Option<String>,
}

fn group_facts(
    enterprises: Vec<FactsEnterprise>,
    evidence: Vec<EvidenceRow>,
    rounds: Vec<PastRoundRow>,
    pilots: Vec<PilotRow>,
) -> Result<Vec<FactsRecord>> {
    let mut evidence_by: HashMap<i64, Vec<EvidenceFact>> = HashMap::new();
    for row in &evidence {
        evidence_by
            .entry(row.enterprise_id)
            .or_default()
            .push(row.fact());
    }
    let mut rounds_by: HashMap<i64, Vec<PastRound>> = HashMap::new();
    for row in rounds {
        rounds_by
            .entry(row.enterprise_id)
            .or_default()
            .push(PastRound {
                list_year: i32::try_from(row.list_year).unwrap_or_default(),
                kind: row.kind,
                reasons: row.reasons.0,
                accepted_on: row.accepted_on,
                source: row.source,
            });
    }
    let mut pilots_by: HashMap<i64, Vec<ParkPilot>> = HashMap::new();
    for row in pilots {
        let passed_on = StoredRow::new("parks", row.park_id)
            .read_optional("pilot_passed_on", row.pilot_passed_on.as_deref())?;
        if let Some(passed_on) = passed_on {
            pilots_by
                .entry(row.enterprise_id)
                .or_default()
                .push(ParkPilot {
                    park_id: row.park_id,
                    park_name: row.park_name,
                    passed_on,
                });
        }
    }
    enterprises
        .into_iter()
        .map(|e| {
            let closed_on = StoredRow::new("enterprises", e.id)
                .read_optional("closed_on", e.closed_on.as_deref())?;
            Ok(FactsRecord {
                facts: EnterpriseFacts {
                    enterprise_id: e.id,
                    registered_on: registered_on(&e.created_at),
                    closed_on,
                    evidence: evidence_by.remove(&e.id).unwrap_or_default(),
                    rounds: rounds_by.remove(&e.id).unwrap_or_default(),
                    park_pilots: pilots_by.remove(&e.id).unwrap_or_default(),
                    name: e.name,
                },
                jurisdiction_code: e.jurisdiction_code,
                credit_code: e.credit_code,
                industry_code: e.industry_code,
            })
        })
        .collect()
}

/// The day an enterprise entered the registry, in China Standard Time.
fn registered_on(created_at: &str) -> NaiveDate {
    DateTime::parse_from_rfc3339(created_at)
        .map(|at| china_date(at.with_timezone(&Utc)))
        .unwrap_or(NaiveDate::MIN)
}

/// Kind and source names, for forms and import templates.
pub fn evidence_kinds() -> Vec<(String, EvidenceKind)> {
    EvidenceKind::all()
        .iter()
        .map(|kind| (name_of(kind), *kind))
        .collect()
}

/// Source names, for forms.
pub fn evidence_sources() -> Vec<(String, EvidenceSource)> {
    [
        EvidenceSource::SupervisoryMonitoring,
        EvidenceSource::OnlineMonitoring,
        EvidenceSource::Inspection,
        EvidenceSource::PollutionCensus,
        EvidenceSource::DischargePermit,
        EvidenceSource::EnterpriseReport,
        EvidenceSource::Other,
    ]
    .into_iter()
    .map(|source| (name_of(&source), source))
    .collect()
}

impl Db {
    /// Loads the demo facts (evidence, past rounds, the park pilot) for a loaded demo data set,
    /// in one transaction with its audit entries.
    pub async fn load_demo_facts(
        &self,
        actor: &Principal,
        ids: &crate::registry::DemoIds,
        data: &cpaudit_core::demo::DemoData,
        facts: &cpaudit_core::demo::DemoFacts,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        for item in &facts.evidence {
            let enterprise_id = ids.enterprises[item.enterprise];
            let city = &data.enterprises[item.enterprise]
                .enterprise
                .jurisdiction_code;
            let id = insert_evidence(
                &mut tx,
                &mut chain,
                actor,
                (enterprise_id, city),
                &item.evidence,
                item.status,
                now,
            )
            .await?;
            if item.status == EvidenceStatus::Dismissed {
                dismiss_demo(&mut tx, actor, id, now).await?;
            }
        }
        for round in &facts.past_rounds {
            let valid = ValidPastRound {
                credit_code: data.enterprises[round.enterprise]
                    .enterprise
                    .credit_code
                    .as_str()
                    .to_string(),
                list_year: round.list_year,
                reasons: round.reasons.clone(),
                accepted_on: round.accepted_on,
            };
            let enterprise_id = ids.enterprises[round.enterprise];
            insert_past_round(&mut tx, actor, enterprise_id, &valid, "演示数据", now).await?;
        }
        if let Some((park, passed_on)) = facts.pilot {
            let name = &data.parks[park].name;
            on_tx!(&mut tx, |conn| {
                sqlx::query("UPDATE parks SET pilot_passed_on = $1 WHERE name = $2")
                    .bind(date_text(passed_on))
                    .bind(name)
                    .execute(conn)
                    .await
                    .map(|done| done.rows_affected())
            })?;
        }
        chain.commit(tx).await
    }
}

/// Demo evidence that a city looked at and dismissed.
async fn dismiss_demo(tx: &mut Tx, actor: &Principal, id: i64, now: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE evidence SET decided_by = $1, decided_at = $2, confirmed_on = NULL, \
             decision_reason = '复核：样品采集不规范，数据无效（演示）' WHERE id = $3",
        )
        .bind(actor.actor())
        .bind(timestamp(now))
        .bind(id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}
