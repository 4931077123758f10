//! The 名单管理库 (append-only, "as it stood on day D"), the cities' yearly list plans, the
//! province's published lists with their clocks, and the written notifications.
//!
//! Published lists are frozen: a correction is a new version that names the one it supersedes
//! and why. Every write is one transaction with its audit entries.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cpaudit_core::determination::Reason;
use cpaudit_core::evidence::name_of;
use cpaudit_core::listing::{
    plan_transition, Clock, ClockKind, PlanAction, PlanActor, PlanStatus, PlanTransitionError,
};
use cpaudit_core::planning::Placement;
use cpaudit_core::registry::Message;
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::auth::ScopeKind;
use cpaudit_core::round::RoundPolicy;

use crate::columns::{Reasons, StoredRow, StoredText, ToxicCategories};
use crate::enterprises::EnterpriseRow;
use crate::evidence::{categories_text, china_date, date_text, reasons_text};
use crate::sql::{bind_args, scope_condition, Arg, Sql};
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, Scope, StorageError, Tx};

/// What happened to a library entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LibraryAction {
    Add,
    Change,
    Remove,
}

impl LibraryAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Change => "change",
            Self::Remove => "remove",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Add, Self::Change, Self::Remove]
            .into_iter()
            .find(|action| action.as_str() == text)
    }
}

impl StoredText for LibraryAction {
    fn from_text(text: &str) -> Option<Self> {
        LibraryAction::parse(text)
    }
}

/// One version of one library entry, its action, reasons, categories and day decoded.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryVersion {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_code: String,
    pub action: LibraryAction,
    pub reasons: Reasons,
    pub toxic_categories: ToxicCategories,
    pub due_year: Option<i64>,
    /// The evidence the entry rests on.
    pub evidence_ids: Vec<i64>,
    pub note: String,
    pub valid_from: NaiveDate,
    pub recorded_at: String,
    pub recorded_by: String,
}

#[derive(sqlx::FromRow)]
struct StoredLibraryVersion {
    id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    credit_code: String,
    jurisdiction_code: String,
    action: String,
    reasons: String,
    toxic_categories: String,
    due_year: Option<i64>,
    #[sqlx(try_from = "String")]
    evidence_ids: crate::JsonColumn<Vec<i64>>,
    note: String,
    valid_from: String,
    recorded_at: String,
    recorded_by: String,
}

impl StoredLibraryVersion {
    fn decode(self) -> Result<LibraryVersion> {
        let row = StoredRow::new("library_versions", self.id);
        Ok(LibraryVersion {
            action: row.read("action", &self.action)?,
            reasons: row.read("reasons", &self.reasons)?,
            toxic_categories: row.read("toxic_categories", &self.toxic_categories)?,
            valid_from: row.read("valid_from", &self.valid_from)?,
            id: self.id,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            credit_code: self.credit_code,
            jurisdiction_code: self.jurisdiction_code,
            due_year: self.due_year,
            evidence_ids: self.evidence_ids.0,
            note: self.note,
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by,
        })
    }
}

crate::decoded_row!(LibraryVersion, StoredLibraryVersion);

/// A change to the library as an official asks for it.
#[derive(Debug, Clone)]
pub struct LibraryChange {
    pub enterprise_id: i64,
    pub action: LibraryAction,
    pub reasons: BTreeSet<Reason>,
    pub toxic_categories: BTreeSet<u8>,
    pub due_year: Option<i32>,
    pub evidence_ids: Vec<i64>,
    pub note: String,
    pub valid_from: NaiveDate,
}

const LIBRARY_SELECT: &str = "SELECT v.id, v.enterprise_id, e.name AS enterprise_name, \
     e.credit_code, v.jurisdiction_code, v.action, v.reasons, v.toxic_categories, v.due_year, \
     v.evidence_ids, v.note, v.valid_from, v.recorded_at, v.recorded_by \
     FROM library_versions v JOIN enterprises e ON e.id = v.enterprise_id";

/// The first instant after day `date` ends in China Standard Time, as a stored timestamp.
fn end_of_china_day(date: NaiveDate) -> String {
    let midnight = (date + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        - Duration::hours(8);
    timestamp(midnight.and_utc())
}

/// A move of a 双有 enterprise to another year, as recorded.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlanMove {
    pub id: i64,
    pub enterprise_id: i64,
    pub jurisdiction_code: String,
    pub planned_in: i64,
    pub to_year: i64,
    pub reason: String,
    pub moved_by: String,
    pub moved_at: String,
}

/// A city's plan for a list year, its status decoded.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    pub id: i64,
    pub jurisdiction_code: String,
    pub list_year: i64,
    pub status: PlanStatus,
    pub plan_text: String,
    pub schedule_text: String,
    /// The submission deadline (rule calendar.city_list_submission).
    pub deadline: NaiveDate,
    pub submitted_at: Option<String>,
    pub submitted_late: bool,
    pub review_comment: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(sqlx::FromRow)]
struct StoredPlan {
    id: i64,
    jurisdiction_code: String,
    list_year: i64,
    status: String,
    plan_text: String,
    schedule_text: String,
    deadline: String,
    submitted_at: Option<String>,
    submitted_late: bool,
    review_comment: String,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl StoredPlan {
    fn decode(self) -> Result<PlanRow> {
        let row = StoredRow::new("list_plans", self.id);
        Ok(PlanRow {
            status: row.read("status", &self.status)?,
            id: self.id,
            jurisdiction_code: self.jurisdiction_code,
            list_year: self.list_year,
            plan_text: self.plan_text,
            schedule_text: self.schedule_text,
            deadline: row.read("deadline", &self.deadline)?,
            submitted_at: self.submitted_at,
            submitted_late: self.submitted_late,
            review_comment: self.review_comment,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

crate::decoded_row!(PlanRow, StoredPlan);

/// One enterprise on a plan, its reasons, categories and placement decoded.
#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub reasons: Reasons,
    pub toxic_categories: ToxicCategories,
    pub due_year: Option<i64>,
    pub placement: Placement,
    pub note: String,
}

#[derive(sqlx::FromRow)]
struct StoredPlanEntry {
    enterprise_id: i64,
    enterprise_name: String,
    reasons: String,
    toxic_categories: String,
    due_year: Option<i64>,
    placement: String,
    note: String,
}

impl StoredPlanEntry {
    fn decode(self) -> Result<PlanEntry> {
        // An entry has no id of its own: the error names the enterprise it plans.
        let row = StoredRow::new("list_plan_entries", self.enterprise_id);
        Ok(PlanEntry {
            reasons: row.read("reasons", &self.reasons)?,
            toxic_categories: row.read("toxic_categories", &self.toxic_categories)?,
            placement: row.read("placement", &self.placement)?,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            due_year: self.due_year,
            note: self.note,
        })
    }
}

crate::decoded_row!(PlanEntry, StoredPlanEntry);

crate::columns::stored_names!(
    /// Whether a list is the year's main list or a supplementary one (办法 Art. 9).
    ListKind {
        Main => "main",
        Supplementary => "supplementary",
    }
);

/// A published list (one version of one batch), its kind and date decoded.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedList {
    pub id: i64,
    pub list_year: i64,
    pub batch: i64,
    pub kind: ListKind,
    pub version: i64,
    pub supersedes: Option<i64>,
    pub superseded_by: Option<i64>,
    pub correction_reason: Option<String>,
    pub title: String,
    pub document_number: String,
    pub published_on: NaiveDate,
    pub published_at: String,
    pub entry_count: i64,
}

#[derive(sqlx::FromRow)]
struct StoredList {
    id: i64,
    list_year: i64,
    batch: i64,
    kind: String,
    version: i64,
    supersedes: Option<i64>,
    superseded_by: Option<i64>,
    correction_reason: Option<String>,
    title: String,
    document_number: String,
    published_on: String,
    published_at: String,
    entry_count: i64,
}

impl StoredList {
    fn decode(self) -> Result<PublishedList> {
        let row = StoredRow::new("published_lists", self.id);
        Ok(PublishedList {
            kind: row.read("kind", &self.kind)?,
            published_on: row.read("published_on", &self.published_on)?,
            id: self.id,
            list_year: self.list_year,
            batch: self.batch,
            version: self.version,
            supersedes: self.supersedes,
            superseded_by: self.superseded_by,
            correction_reason: self.correction_reason,
            title: self.title,
            document_number: self.document_number,
            published_at: self.published_at,
            entry_count: self.entry_count,
        })
    }
}

crate::decoded_row!(PublishedList, StoredList);

/// One enterprise on a published list, its reasons, categories and date decoded.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedEntry {
    pub list_id: i64,
    pub enterprise_id: i64,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    pub credit_code: String,
    pub name: String,
    pub industry_code: String,
    pub industry_name_zh: String,
    pub reasons: Reasons,
    pub toxic_categories: ToxicCategories,
    pub due_year: Option<i64>,
    /// The publication date the entry's clocks run from.
    pub clocks_from: NaiveDate,
}

#[derive(sqlx::FromRow)]
struct StoredPublishedEntry {
    list_id: i64,
    enterprise_id: i64,
    jurisdiction_code: String,
    jurisdiction_name_zh: String,
    credit_code: String,
    name: String,
    industry_code: String,
    industry_name_zh: String,
    reasons: String,
    toxic_categories: String,
    due_year: Option<i64>,
    clocks_from: String,
}

impl StoredPublishedEntry {
    fn decode(self) -> Result<PublishedEntry> {
        // An entry has no id of its own: the error names the enterprise it lists.
        let row = StoredRow::new("published_entries", self.enterprise_id);
        Ok(PublishedEntry {
            reasons: row.read("reasons", &self.reasons)?,
            toxic_categories: row.read("toxic_categories", &self.toxic_categories)?,
            clocks_from: row.read("clocks_from", &self.clocks_from)?,
            list_id: self.list_id,
            enterprise_id: self.enterprise_id,
            jurisdiction_code: self.jurisdiction_code,
            jurisdiction_name_zh: self.jurisdiction_name_zh,
            credit_code: self.credit_code,
            name: self.name,
            industry_code: self.industry_code,
            industry_name_zh: self.industry_name_zh,
            due_year: self.due_year,
        })
    }
}

crate::decoded_row!(PublishedEntry, StoredPublishedEntry);

/// What to publish for one enterprise.
#[derive(Debug, Clone)]
pub struct NewListEntry {
    pub enterprise_id: i64,
    pub reasons: BTreeSet<Reason>,
    pub toxic_categories: BTreeSet<u8>,
    pub due_year: Option<i32>,
    pub clocks: Vec<Clock>,
}

/// A list to publish.
#[derive(Debug, Clone)]
pub struct NewList {
    pub list_year: i32,
    pub supplementary: bool,
    pub title: String,
    pub document_number: String,
    pub published_on: NaiveDate,
    pub entries: Vec<NewListEntry>,
    /// Track and organizer of the rounds publication opens (rules in force that day).
    pub round_policy: RoundPolicy,
}

/// A stored clock, its kind and days decoded.
#[derive(Debug, Clone, Serialize)]
pub struct ClockRow {
    pub list_id: i64,
    pub enterprise_id: i64,
    pub kind: ClockKind,
    pub starts_on: NaiveDate,
    pub nominal_on: NaiveDate,
    pub effective_on: NaiveDate,
    pub rule_id: String,
    pub rule_book_version: String,
    /// The rule that fixed the clock: value, citations and their confidence.
    pub rule: crate::JsonColumn<cpaudit_core::rules::RuleRef>,
    pub calendar_version: String,
    /// Comma-separated years the holiday calendar did not cover (fallback to weekends).
    pub uncovered_years: String,
    pub trace_zh: String,
    pub trace_en: String,
}

#[derive(sqlx::FromRow)]
struct StoredClock {
    list_id: i64,
    enterprise_id: i64,
    kind: String,
    starts_on: String,
    nominal_on: String,
    effective_on: String,
    rule_id: String,
    rule_book_version: String,
    #[sqlx(rename = "rule_json", try_from = "String")]
    rule: crate::JsonColumn<cpaudit_core::rules::RuleRef>,
    calendar_version: String,
    uncovered_years: String,
    trace_zh: String,
    trace_en: String,
}

impl StoredClock {
    fn decode(self) -> Result<ClockRow> {
        // A clock has no id of its own: the error names the enterprise it runs for.
        let row = StoredRow::new("clocks", self.enterprise_id);
        Ok(ClockRow {
            kind: row.read("kind", &self.kind)?,
            starts_on: row.read("starts_on", &self.starts_on)?,
            nominal_on: row.read("nominal_on", &self.nominal_on)?,
            effective_on: row.read("effective_on", &self.effective_on)?,
            list_id: self.list_id,
            enterprise_id: self.enterprise_id,
            rule_id: self.rule_id,
            rule_book_version: self.rule_book_version,
            rule: self.rule,
            calendar_version: self.calendar_version,
            uncovered_years: self.uncovered_years,
            trace_zh: self.trace_zh,
            trace_en: self.trace_en,
        })
    }
}

crate::decoded_row!(ClockRow, StoredClock);

/// A written notification, its days decoded.
#[derive(Debug, Clone, Serialize)]
pub struct LetterRow {
    pub id: i64,
    pub list_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub number: String,
    pub issued_on: NaiveDate,
    pub delivered_on: Option<NaiveDate>,
    pub delivery_method: Option<String>,
    pub delivery_note: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StoredLetter {
    id: i64,
    list_id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    jurisdiction_code: String,
    number: String,
    issued_on: String,
    delivered_on: Option<String>,
    delivery_method: Option<String>,
    delivery_note: Option<String>,
}

impl StoredLetter {
    fn decode(self) -> Result<LetterRow> {
        let row = StoredRow::new("notification_letters", self.id);
        Ok(LetterRow {
            issued_on: row.read("issued_on", &self.issued_on)?,
            delivered_on: row.read_optional("delivered_on", self.delivered_on.as_deref())?,
            id: self.id,
            list_id: self.list_id,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            jurisdiction_code: self.jurisdiction_code,
            number: self.number,
            delivery_method: self.delivery_method,
            delivery_note: self.delivery_note,
        })
    }
}

crate::decoded_row!(LetterRow, StoredLetter);

/// Search within a published list.
#[derive(Debug, Clone, Default)]
pub struct ListEntryFilter {
    pub city: Option<String>,
    pub q: Option<String>,
    pub reason: Option<Reason>,
}

/// A plan action the life cycle refuses: the plan's state (a conflict), the wrong party, or a
/// missing reason.
fn plan_refusal(error: PlanTransitionError) -> StorageError {
    let message = Message::new(error.message_zh(), error.message_en());
    match error {
        PlanTransitionError::NotAllowed { .. } => StorageError::Conflict {
            code: "plan_state",
            message,
        },
        PlanTransitionError::WrongActor { .. } => StorageError::Refused {
            code: "plan_wrong_actor",
            message,
        },
        PlanTransitionError::ReasonRequired { .. } => StorageError::Invalid {
            code: "reason_required",
            field: "reason",
            message,
        },
    }
}

fn require_province(actor: &Principal) -> Result<()> {
    match actor.scope().kind() {
        ScopeKind::Province => Ok(()),
        _ => Err(StorageError::refused(
            "province_only",
            "只有省级主管部门可以执行此操作",
            "only the province may do this",
        )),
    }
}

fn require_city(actor: &Principal, city: &str) -> Result<()> {
    match actor.scope().kind() {
        ScopeKind::City(code) if code == city => Ok(()),
        _ => Err(StorageError::refused(
            "own_city_only",
            "只有本市州主管部门可以执行此操作",
            "only the city's own officials may do this",
        )),
    }
}

impl Db {
    // ---- 名单管理库 -------------------------------------------------------------------------

    /// The library as it stood at the end of day `on` (China Standard Time): for each
    /// enterprise its latest version valid by then and recorded by then, removals left out.
    pub async fn library_as_of(
        &self,
        scope: &Scope,
        city: Option<&str>,
        on: NaiveDate,
    ) -> Result<Vec<LibraryVersion>> {
        let mut sql = Sql::default();
        let mut conditions = vec![scope_condition(&mut sql, scope)];
        if let Some(city) = city {
            let city = sql.arg(Arg::Text(city.to_string()));
            conditions.push(format!("v.jurisdiction_code = {city}"));
        }
        let valid = sql.arg(Arg::Text(date_text(on)));
        let recorded = sql.arg(Arg::Text(end_of_china_day(on)));
        let text = format!(
            "{LIBRARY_SELECT} WHERE {} AND v.valid_from <= {valid} AND v.recorded_at < {recorded} \
             ORDER BY v.enterprise_id, v.valid_from, v.id",
            conditions.join(" AND ")
        );
        let versions: Vec<LibraryVersion> = self.scoped_query(&text, &sql).await?;
        Ok(latest_present(versions))
    }

    /// Every version of one enterprise's entry, oldest first.
    pub async fn library_history(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Vec<LibraryVersion>> {
        self.library_versions(scope, enterprise.id).await
    }

    async fn library_versions(
        &self,
        scope: &Scope,
        enterprise_id: i64,
    ) -> Result<Vec<LibraryVersion>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "{LIBRARY_SELECT} WHERE {condition} AND v.enterprise_id = {} \
             ORDER BY v.recorded_at, v.id",
            sql.arg(Arg::Int(enterprise_id))
        );
        self.scoped_query(&text, &sql).await
    }

    /// Records library changes in one transaction. Adding needs the enterprise to be absent on
    /// `valid_from`, changing and removing need it present; every change carries a note.
    pub async fn change_library(
        &self,
        actor: &Principal,
        changes: &[LibraryChange],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let mut checked = Vec::with_capacity(changes.len());
        for change in changes {
            let city = self.managed_city_of(actor, change.enterprise_id).await?;
            if change.note.trim().is_empty() {
                return Err(StorageError::invalid(
                    "note",
                    "reason_required",
                    "调整名单管理库须说明理由",
                    "a library change needs a reason",
                ));
            }
            let present = self
                .library_versions(actor.scope(), change.enterprise_id)
                .await?
                .into_iter()
                .rfind(|v| v.valid_from <= change.valid_from)
                .is_some_and(|v| v.action != LibraryAction::Remove);
            match (change.action, present) {
                (LibraryAction::Add, true) => {
                    return Err(StorageError::Duplicate {
                        field: "enterprise_id",
                        value: change.enterprise_id.to_string(),
                    })
                }
                (LibraryAction::Change | LibraryAction::Remove, false) => {
                    return Err(StorageError::NotFound)
                }
                _ => checked.push((city, change)),
            }
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        for (city, change) in checked {
            insert_library_version(&mut tx, &mut chain, actor, &city, change, now).await?;
        }
        chain.commit(tx).await?;
        Ok(changes.len())
    }

    // ---- plans -----------------------------------------------------------------------------

    /// The latest move per enterprise of a city (older moves stay as history).
    pub async fn plan_moves(&self, scope: &Scope, city: &str) -> Result<Vec<PlanMove>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "SELECT m.id, m.enterprise_id, m.jurisdiction_code, m.planned_in, m.to_year, m.reason, \
             m.moved_by, m.moved_at FROM plan_moves m JOIN enterprises e ON e.id = m.enterprise_id \
             WHERE {condition} AND m.jurisdiction_code = {} ORDER BY m.enterprise_id, m.id",
            sql.arg(Arg::Text(city.to_string()))
        );
        let moves: Vec<PlanMove> = self.scoped_query(&text, &sql).await?;
        let mut latest: Vec<PlanMove> = Vec::new();
        for one in moves {
            match latest.last_mut() {
                Some(last) if last.enterprise_id == one.enterprise_id => *last = one,
                _ => latest.push(one),
            }
        }
        Ok(latest)
    }

    /// Records an official's move (already checked against the due year by the caller, which
    /// holds the determination).
    pub async fn record_plan_move(
        &self,
        actor: &Principal,
        enterprise: &InScope<EnterpriseRow>,
        planned_in: i32,
        to_year: i32,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let enterprise_id = enterprise.id;
        let city = self.managed_city_of(actor, enterprise_id).await?;
        if reason.trim().is_empty() {
            return Err(StorageError::invalid(
                "reason",
                "reason_required",
                "调整审核年度须说明理由",
                "a move needs a reason",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO plan_moves (enterprise_id, jurisdiction_code, planned_in, to_year, \
                 reason, moved_by, moved_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(enterprise_id)
            .bind(&city)
            .bind(i64::from(planned_in))
            .bind(i64::from(to_year))
            .bind(reason.trim())
            .bind(actor.actor())
            .bind(timestamp(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "plan.move",
                ("enterprise", &enterprise_id.to_string()),
                Some(&json!({"year": planned_in})),
                Some(&json!({"year": to_year, "reason": reason.trim()})),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// Plans of a list year the scope may see (a city its own, the province all).
    pub async fn list_plans(&self, scope: &Scope, list_year: i32) -> Result<Vec<PlanRow>> {
        let (condition, args) = plan_scope(scope);
        let text = format!(
            "SELECT {PLAN_COLUMNS} FROM list_plans p WHERE {condition} AND p.list_year = ${} \
             ORDER BY p.jurisdiction_code",
            args.len() + 1
        );
        let mut sql = Sql { args };
        sql.arg(Arg::Int(i64::from(list_year)));
        self.scoped_query(&text, &sql).await
    }

    /// One city's plan for a year, with its entries.
    pub async fn get_plan(
        &self,
        scope: &Scope,
        city: &str,
        list_year: i32,
    ) -> Result<Option<(PlanRow, Vec<PlanEntry>)>> {
        let (condition, args) = plan_scope(scope);
        let text = format!(
            "SELECT {PLAN_COLUMNS} FROM list_plans p WHERE {condition} \
             AND p.jurisdiction_code = ${} AND p.list_year = ${}",
            args.len() + 1,
            args.len() + 2
        );
        let mut sql = Sql { args };
        sql.arg(Arg::Text(city.to_string()));
        sql.arg(Arg::Int(i64::from(list_year)));
        let plan: Option<PlanRow> = on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        });
        let Some(plan) = plan else { return Ok(None) };
        let entries = self.plan_entries(plan.id).await?;
        Ok(Some((plan, entries)))
    }

    async fn plan_entries(&self, plan_id: i64) -> Result<Vec<PlanEntry>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.enterprise_id, e.name AS enterprise_name, p.reasons, p.toxic_categories, \
                 p.due_year, p.placement, p.note FROM list_plan_entries p \
                 JOIN enterprises e ON e.id = p.enterprise_id WHERE p.plan_id = $1 ORDER BY e.name",
            )
            .bind(plan_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Creates or replaces the city's draft: text, schedule and the enterprises of the year.
    /// Refused once submitted (until the province returns it).
    #[allow(clippy::too_many_arguments)]
    pub async fn save_plan_draft(
        &self,
        actor: &Principal,
        city: &str,
        list_year: i32,
        plan_text: &str,
        schedule_text: &str,
        deadline: NaiveDate,
        entries: &[PlanEntry],
        now: DateTime<Utc>,
    ) -> Result<i64> {
        require_city(actor, city)?;
        let existing = self.get_plan(actor.scope(), city, list_year).await?;
        if let Some((plan, _)) = &existing {
            let editable = plan.status.city_may_edit();
            if !editable {
                return Err(StorageError::conflict(
                    "plan_not_editable",
                    "计划已报送，不能再修改",
                    "the plan has been submitted and cannot be edited",
                ));
            }
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let id = match &existing {
            Some((plan, _)) => {
                update_plan_text(&mut tx, plan.id, plan_text, schedule_text, now).await?;
                plan.id
            }
            None => {
                insert_plan(
                    &mut tx,
                    city,
                    list_year,
                    plan_text,
                    schedule_text,
                    deadline,
                    now,
                )
                .await?
            }
        };
        replace_plan_entries(&mut tx, id, entries).await?;
        chain
            .append(
                &mut tx,
                actor,
                "plan.save",
                ("plan", &id.to_string()),
                None,
                Some(&json!({"city": city, "year": list_year, "entries": entries.len()})),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Submits, returns, amends or approves a plan. `amended` replaces the entries (amend
    /// only). Submission after the deadline is accepted and flagged late.
    pub async fn plan_action(
        &self,
        actor: &Principal,
        plan_id: i64,
        action: PlanAction,
        reason: &str,
        amended: Option<&[PlanEntry]>,
        now: DateTime<Utc>,
    ) -> Result<PlanRow> {
        let plan = self.plan_by_id(actor.scope(), plan_id).await?;
        let plan_actor = match actor.scope().kind() {
            ScopeKind::Province => PlanActor::Province,
            ScopeKind::City(code) if *code == plan.jurisdiction_code => PlanActor::City,
            _ => {
                return Err(StorageError::refused(
                    "not_your_plan",
                    "该计划不属于本市州",
                    "not your plan",
                ))
            }
        };
        let from = plan.status;
        let to = plan_transition(from, action, plan_actor, reason).map_err(plan_refusal)?;
        let late = action == PlanAction::Submit && china_date(now) > plan.deadline;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        update_plan_status(&mut tx, &plan, to, action, reason, late, now).await?;
        if let (PlanAction::Amend, Some(entries)) = (action, amended) {
            replace_plan_entries(&mut tx, plan.id, entries).await?;
        }
        chain
            .append(
                &mut tx,
                actor,
                &format!("plan.{}", action.as_str()),
                ("plan", &plan.id.to_string()),
                Some(&json!({"status": plan.status.as_str()})),
                Some(
                    &json!({"status": to.as_str(), "reason": reason.trim(), "late": late,
                    "entries": amended.map(<[PlanEntry]>::len)}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        self.plan_by_id(actor.scope(), plan_id).await
    }

    async fn plan_by_id(&self, scope: &Scope, plan_id: i64) -> Result<PlanRow> {
        let (condition, args) = plan_scope(scope);
        let text = format!(
            "SELECT {PLAN_COLUMNS} FROM list_plans p WHERE {condition} AND p.id = ${}",
            args.len() + 1
        );
        let mut sql = Sql { args };
        sql.arg(Arg::Int(plan_id));
        let plan: Option<PlanRow> = on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        });
        plan.ok_or(StorageError::NotFound)
    }

    /// Entries of the approved plans of a year, for the province to publish.
    pub async fn approved_plan_entries(
        &self,
        actor: &Principal,
        list_year: i32,
    ) -> Result<Vec<(PlanRow, Vec<PlanEntry>)>> {
        require_province(actor)?;
        let mut approved = Vec::new();
        for plan in self.list_plans(actor.scope(), list_year).await? {
            if plan.status == PlanStatus::Approved {
                let entries = self.plan_entries(plan.id).await?;
                approved.push((plan, entries));
            }
        }
        Ok(approved)
    }

    // ---- publication -----------------------------------------------------------------------

    /// Publishes a list (province only): the next batch of the year, its entries and their
    /// clocks, and marks the approved plans of the year published (main batches).
    pub async fn publish_list(
        &self,
        actor: &Principal,
        list: &NewList,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        require_province(actor)?;
        if list.entries.is_empty() {
            return Err(StorageError::invalid(
                "entries",
                "list_empty",
                "名单至少须包含一家企业",
                "a list needs at least one enterprise",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let batch = next_batch(&mut tx, list.list_year).await?;
        let kind = if list.supplementary {
            ListKind::Supplementary
        } else {
            ListKind::Main
        };
        let header = ListHeader {
            list_year: list.list_year,
            title: &list.title,
            document_number: &list.document_number,
            published_on: list.published_on,
        };
        let id = insert_list(&mut tx, actor, &header, batch, kind, None, now).await?;
        for entry in &list.entries {
            insert_entry(&mut tx, id, entry, list.published_on).await?;
            for clock in &entry.clocks {
                insert_clock(&mut tx, id, entry.enterprise_id, clock).await?;
            }
            crate::rounds::create_round(
                &mut tx,
                actor,
                id,
                list.list_year,
                entry.enterprise_id,
                &reasons_text(&entry.reasons),
                &categories_text(&entry.toxic_categories),
                &list.round_policy,
                &entry.clocks,
                list.published_on,
                now,
            )
            .await?;
        }
        if !list.supplementary {
            mark_plans_published(&mut tx, list.list_year, now).await?;
        }
        chain
            .append(
                &mut tx,
                actor,
                "list.publish",
                ("published_list", &id.to_string()),
                None,
                Some(
                    &json!({"year": list.list_year, "batch": batch, "kind": kind,
                    "published_on": date_text(list.published_on), "entries": list.entries.len(),
                    "title": list.title, "document_number": list.document_number}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Corrects a published list: a new version without the removed enterprises, naming the
    /// version it supersedes and the reason. The remaining entries keep their clocks.
    pub async fn correct_list(
        &self,
        actor: &Principal,
        list_id: i64,
        removed: &[i64],
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        require_province(actor)?;
        if reason.trim().is_empty() {
            return Err(StorageError::invalid(
                "reason",
                "reason_required",
                "更正名单须说明理由",
                "a correction needs a reason",
            ));
        }
        let old = self
            .published_list(list_id)
            .await?
            .ok_or(StorageError::NotFound)?;
        if old.superseded_by.is_some() {
            return Err(StorageError::conflict(
                "list_superseded",
                "该名单已有更正版本，只能更正现行版本",
                "only the current version of a list can be corrected",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let id = insert_correction(&mut tx, actor, &old, reason, now).await?;
        copy_entries(&mut tx, old.id, id, removed).await?;
        for enterprise_id in removed {
            crate::rounds::cancel_for_correction(
                &mut tx,
                actor,
                old.list_year,
                *enterprise_id,
                reason,
                now,
            )
            .await?;
        }
        on_tx!(&mut tx, |conn| {
            sqlx::query("UPDATE published_lists SET superseded_by = $1 WHERE id = $2")
                .bind(id)
                .bind(old.id)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "list.correct",
                ("published_list", &id.to_string()),
                Some(&json!({"list_id": old.id, "version": old.version})),
                Some(&json!({"version": old.version + 1, "removed": removed, "reason": reason.trim()})),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// All published lists, newest year first; public information.
    pub async fn published_lists(&self, list_year: Option<i32>) -> Result<Vec<PublishedList>> {
        let year_filter = list_year.map_or(String::new(), |y| format!("WHERE l.list_year = {y}"));
        let text = format!(
            "{LIST_SELECT} {year_filter} GROUP BY {LIST_GROUP} \
             ORDER BY l.list_year DESC, l.batch, l.version"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).fetch_all(pool).await?
        }))
    }

    /// One published list; public information.
    pub async fn published_list(&self, list_id: i64) -> Result<Option<PublishedList>> {
        let text = format!("{LIST_SELECT} WHERE l.id = $1 GROUP BY {LIST_GROUP}");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(list_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Entries of a published list, searchable; public information.
    pub async fn published_entries(
        &self,
        list_id: i64,
        filter: &ListEntryFilter,
    ) -> Result<Vec<PublishedEntry>> {
        let mut sql = Sql::default();
        let mut conditions = vec![format!("p.list_id = {}", sql.arg(Arg::Int(list_id)))];
        if let Some(city) = &filter.city {
            let city = sql.arg(Arg::Text(city.clone()));
            conditions.push(format!("p.jurisdiction_code = {city}"));
        }
        if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = sql.arg(Arg::Text(q.to_string()));
            conditions.push(format!(
                "(strpos_text(p.name, {pattern}) OR strpos_text(p.credit_code, {pattern}))"
            ));
        }
        if let Some(reason) = filter.reason {
            let reason = sql.arg(Arg::Text(cpaudit_core::evidence::name_of(&reason)));
            conditions.push(format!("strpos_text(p.reasons, {reason})"));
        }
        let text = format!(
            "{ENTRY_SELECT} WHERE {} ORDER BY p.jurisdiction_code, p.name",
            conditions.join(" AND ")
        );
        let text = self.substring_test(&text);
        self.scoped_query(&text, &sql).await
    }

    /// `strpos_text(a, b)` is a portable "b occurs in a".
    fn substring_test(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("strpos_text(") {
            out.push_str(&rest[..at]);
            let args_start = at + "strpos_text(".len();
            let close = rest[args_start..]
                .find(')')
                .map_or(rest.len(), |i| args_start + i);
            let args = &rest[args_start..close];
            out.push_str(&match self.backend() {
                crate::Backend::Sqlite => format!("(instr({args}) > 0)"),
                crate::Backend::Postgres => format!("(strpos({args}) > 0)"),
            });
            rest = &rest[(close + 1).min(rest.len())..];
        }
        out.push_str(rest);
        out
    }

    /// Where the scope's enterprise stands on published lists: entries and clocks.
    pub async fn listings_of(
        &self,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Vec<(PublishedEntry, Vec<ClockRow>)>> {
        let entries: Vec<PublishedEntry> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{ENTRY_SELECT} JOIN published_lists l ON l.id = p.list_id \
                 WHERE p.enterprise_id = $1 AND l.superseded_by IS NULL ORDER BY p.list_id DESC"
            ))
            .bind(enterprise.id)
            .fetch_all(pool)
            .await?
        });
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let clocks = self.clocks(entry.list_id, enterprise).await?;
            out.push((entry, clocks));
        }
        Ok(out)
    }

    /// The clocks of one enterprise on one list.
    pub async fn clocks(
        &self,
        list_id: i64,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Vec<ClockRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT list_id, enterprise_id, kind, starts_on, nominal_on, effective_on, rule_id, \
                 rule_book_version, rule_json, calendar_version, uncovered_years, trace_zh, \
                 trace_en FROM clocks WHERE list_id = $1 AND enterprise_id = $2 \
                 ORDER BY nominal_on",
            )
            .bind(list_id)
            .bind(enterprise.id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The clocks of every enterprise on one list, by enterprise (the list's own page).
    pub async fn list_clocks(&self, list_id: i64) -> Result<Vec<ClockRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT list_id, enterprise_id, kind, starts_on, nominal_on, effective_on, rule_id, \
                 rule_book_version, rule_json, calendar_version, uncovered_years, trace_zh, \
                 trace_en FROM clocks WHERE list_id = $1 ORDER BY enterprise_id, nominal_on",
            )
            .bind(list_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Enterprise ids on any current list of a year (to keep batches apart).
    pub async fn listed_in_year(&self, list_year: i32) -> Result<BTreeSet<i64>> {
        let ids: Vec<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT p.enterprise_id FROM published_entries p \
                 JOIN published_lists l ON l.id = p.list_id \
                 WHERE l.list_year = $1 AND l.superseded_by IS NULL",
            )
            .bind(i64::from(list_year))
            .fetch_all(pool)
            .await?
        });
        Ok(ids.into_iter().collect())
    }

    // ---- written notifications -------------------------------------------------------------

    /// Issues letters to the city's enterprises on a list that have none yet, numbered
    /// "{prefix}〔{year}〕{n}号" in name order. Returns how many were issued.
    pub async fn issue_letters(
        &self,
        actor: &Principal,
        list_id: i64,
        number_prefix: &str,
        issued_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let ScopeKind::City(city) = actor.scope().kind() else {
            return Err(StorageError::refused(
                "city_issues_letters",
                "书面通知只能由企业所在市州主管部门出具",
                "letters are issued by the enterprise's city",
            ));
        };
        let list = self
            .published_list(list_id)
            .await?
            .ok_or(StorageError::NotFound)?;
        let entries = self
            .published_entries(
                list_id,
                &ListEntryFilter {
                    city: Some(city.clone()),
                    ..ListEntryFilter::default()
                },
            )
            .await?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let mut next = letters_issued(&mut tx, city, list.list_year).await? + 1;
        let mut issued = 0;
        for entry in entries {
            let number = format!("{number_prefix}〔{}〕{next}号", list.list_year);
            if insert_letter(&mut tx, actor, &entry, &number, issued_on, now).await? {
                chain
                    .append(
                        &mut tx,
                        actor,
                        "letter.issue",
                        ("enterprise", &entry.enterprise_id.to_string()),
                        None,
                        Some(&json!({"list_id": list_id, "number": number,
                            "issued_on": date_text(issued_on)})),
                        now,
                    )
                    .await?;
                next += 1;
                issued += 1;
            }
        }
        chain.commit(tx).await?;
        Ok(issued)
    }

    /// Letters of a list the scope may see.
    pub async fn letters(&self, scope: &Scope, list_id: i64) -> Result<Vec<LetterRow>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "{LETTER_SELECT} WHERE {condition} AND n.list_id = {} ORDER BY n.id",
            sql.arg(Arg::Int(list_id))
        );
        self.scoped_query(&text, &sql).await
    }

    /// One letter the scope may see.
    pub async fn letter(&self, scope: &Scope, letter_id: i64) -> Result<Option<LetterRow>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "{LETTER_SELECT} WHERE {condition} AND n.id = {}",
            sql.arg(Arg::Int(letter_id))
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Records how and when a letter reached the enterprise (the city that issued it).
    pub async fn record_delivery(
        &self,
        actor: &Principal,
        letter_id: i64,
        delivered_on: NaiveDate,
        method: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let letter = self
            .letter(actor.scope(), letter_id)
            .await?
            .ok_or(StorageError::NotFound)?;
        require_city(actor, &letter.jurisdiction_code)?;
        if delivered_on < letter.issued_on {
            return Err(StorageError::invalid(
                "delivered_on",
                "before_issue",
                "送达日期不能早于发文日期",
                "a letter cannot be delivered before it was issued",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE notification_letters SET delivered_on = $1, delivery_method = $2, \
                 delivery_note = $3 WHERE id = $4",
            )
            .bind(date_text(delivered_on))
            .bind(method.trim())
            .bind(note.trim())
            .bind(letter_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "letter.deliver",
                ("enterprise", &letter.enterprise_id.to_string()),
                Some(&json!({"delivered_on": letter.delivered_on.map(date_text)})),
                Some(
                    &json!({"letter": letter.number, "delivered_on": date_text(delivered_on),
                    "method": method.trim()}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await
    }
}

const PLAN_COLUMNS: &str = "p.id, p.jurisdiction_code, p.list_year, p.status, p.plan_text, \
     p.schedule_text, p.deadline, p.submitted_at, p.submitted_late, p.review_comment, p.version, \
     p.created_at, p.updated_at";

const LIST_SELECT: &str = "SELECT l.id, l.list_year, l.batch, l.kind, l.version, l.supersedes, \
     l.superseded_by, l.correction_reason, l.title, l.document_number, l.published_on, \
     l.published_at, COUNT(p.enterprise_id) AS entry_count FROM published_lists l \
     LEFT JOIN published_entries p ON p.list_id = l.id";

const LIST_GROUP: &str = "l.id, l.list_year, l.batch, l.kind, l.version, l.supersedes, \
     l.superseded_by, l.correction_reason, l.title, l.document_number, l.published_on, \
     l.published_at";

const ENTRY_SELECT: &str = "SELECT p.list_id, p.enterprise_id, p.jurisdiction_code, \
     j.name_zh AS jurisdiction_name_zh, p.credit_code, p.name, p.industry_code, \
     i.name_zh AS industry_name_zh, p.reasons, p.toxic_categories, p.due_year, p.clocks_from \
     FROM published_entries p JOIN jurisdictions j ON j.code = p.jurisdiction_code \
     JOIN industries i ON i.code = p.industry_code";

const LETTER_SELECT: &str = "SELECT n.id, n.list_id, n.enterprise_id, e.name AS enterprise_name, \
     n.jurisdiction_code, n.number, n.issued_on, n.delivered_on, n.delivery_method, \
     n.delivery_note FROM notification_letters n JOIN enterprises e ON e.id = n.enterprise_id";

/// Plans belong to cities: a city sees its own, the province all, nobody else any.
fn plan_scope(scope: &Scope) -> (String, Vec<Arg>) {
    match scope.kind() {
        ScopeKind::Province => ("1 = 1".into(), Vec::new()),
        ScopeKind::City(code) => (
            "p.jurisdiction_code = $1".into(),
            vec![Arg::Text(code.clone())],
        ),
        _ => ("1 = 0".into(), Vec::new()),
    }
}

fn latest_present(versions: Vec<LibraryVersion>) -> Vec<LibraryVersion> {
    let mut latest: Vec<LibraryVersion> = Vec::new();
    for version in versions {
        match latest.last_mut() {
            Some(last) if last.enterprise_id == version.enterprise_id => *last = version,
            _ => latest.push(version),
        }
    }
    latest.retain(|v| v.action != LibraryAction::Remove);
    latest
}

async fn insert_library_version(
    tx: &mut Tx,
    chain: &mut Chain,
    actor: &Principal,
    city: &str,
    change: &LibraryChange,
    now: DateTime<Utc>,
) -> Result<()> {
    let evidence_ids = serde_json::to_string(&change.evidence_ids).unwrap_or_else(|_| "[]".into());
    let id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO library_versions (enterprise_id, jurisdiction_code, action, reasons, \
             toxic_categories, due_year, evidence_ids, note, valid_from, recorded_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(change.enterprise_id)
        .bind(city)
        .bind(change.action.as_str())
        .bind(reasons_text(&change.reasons))
        .bind(categories_text(&change.toxic_categories))
        .bind(change.due_year.map(i64::from))
        .bind(&evidence_ids)
        .bind(change.note.trim())
        .bind(date_text(change.valid_from))
        .bind(timestamp(now))
        .bind(actor.actor())
        .fetch_one(conn)
        .await
    })?;
    chain
        .append(
            tx,
            actor,
            &format!("library.{}", change.action.as_str()),
            ("enterprise", &change.enterprise_id.to_string()),
            None,
            Some(
                &json!({"library_version": id, "reasons": reasons_text(&change.reasons),
                "due_year": change.due_year, "evidence_ids": change.evidence_ids,
                "note": change.note.trim(), "valid_from": date_text(change.valid_from)}),
            ),
            now,
        )
        .await
}

async fn insert_plan(
    tx: &mut Tx,
    city: &str,
    list_year: i32,
    plan_text: &str,
    schedule_text: &str,
    deadline: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO list_plans (jurisdiction_code, list_year, status, plan_text, \
             schedule_text, deadline, created_at, updated_at) \
             VALUES ($1, $2, 'draft', $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(city)
        .bind(i64::from(list_year))
        .bind(plan_text.trim())
        .bind(schedule_text.trim())
        .bind(date_text(deadline))
        .bind(timestamp(now))
        .fetch_one(conn)
        .await
    })?)
}

async fn update_plan_text(
    tx: &mut Tx,
    plan_id: i64,
    plan_text: &str,
    schedule_text: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE list_plans SET plan_text = $1, schedule_text = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4",
        )
        .bind(plan_text.trim())
        .bind(schedule_text.trim())
        .bind(timestamp(now))
        .bind(plan_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

async fn replace_plan_entries(tx: &mut Tx, plan_id: i64, entries: &[PlanEntry]) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM list_plan_entries WHERE plan_id = $1")
            .bind(plan_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    for entry in entries {
        on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO list_plan_entries (plan_id, enterprise_id, reasons, \
                 toxic_categories, due_year, placement, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(plan_id)
            .bind(entry.enterprise_id)
            .bind(entry.reasons.to_string())
            .bind(entry.toxic_categories.to_string())
            .bind(entry.due_year)
            .bind(name_of(&entry.placement))
            .bind(&entry.note)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

async fn update_plan_status(
    tx: &mut Tx,
    plan: &PlanRow,
    to: PlanStatus,
    action: PlanAction,
    reason: &str,
    late: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let submitted = action == PlanAction::Submit;
    let changed = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE list_plans SET status = $1, \
             submitted_at = CASE WHEN $2 THEN $3 ELSE submitted_at END, \
             submitted_late = CASE WHEN $2 THEN $4 ELSE submitted_late END, \
             review_comment = CASE WHEN $5 = '' THEN review_comment ELSE $5 END, \
             updated_at = $3, version = version + 1 WHERE id = $6 AND version = $7",
        )
        .bind(to.as_str())
        .bind(submitted)
        .bind(timestamp(now))
        .bind(late)
        .bind(reason.trim())
        .bind(plan.id)
        .bind(plan.version)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    if changed == 0 {
        return Err(StorageError::VersionConflict {
            current: plan.version + 1,
        });
    }
    Ok(())
}

async fn mark_plans_published(tx: &mut Tx, list_year: i32, now: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE list_plans SET status = 'published', updated_at = $1, version = version + 1 \
             WHERE list_year = $2 AND status = 'approved'",
        )
        .bind(timestamp(now))
        .bind(i64::from(list_year))
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

async fn next_batch(tx: &mut Tx, list_year: i32) -> Result<i64> {
    let last: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT MAX(batch) FROM published_lists WHERE list_year = $1")
            .bind(i64::from(list_year))
            .fetch_one(conn)
            .await
    })?;
    Ok(last.unwrap_or(0) + 1)
}

/// The header of a list version.
struct ListHeader<'a> {
    list_year: i32,
    title: &'a str,
    document_number: &'a str,
    published_on: NaiveDate,
}

async fn insert_list(
    tx: &mut Tx,
    actor: &Principal,
    list: &ListHeader<'_>,
    batch: i64,
    kind: ListKind,
    supersedes: Option<(i64, i64, &str)>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (version, supersedes_id, reason) = match supersedes {
        Some((id, version, reason)) => (version, Some(id), Some(reason.trim().to_string())),
        None => (1, None, None),
    };
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO published_lists (list_year, batch, kind, version, supersedes, \
             correction_reason, title, document_number, published_on, published_at, published_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(i64::from(list.list_year))
        .bind(batch)
        .bind(kind.as_str())
        .bind(version)
        .bind(supersedes_id)
        .bind(reason)
        .bind(list.title.trim())
        .bind(list.document_number.trim())
        .bind(date_text(list.published_on))
        .bind(timestamp(now))
        .bind(actor.actor())
        .fetch_one(conn)
        .await
    })?)
}

async fn insert_correction(
    tx: &mut Tx,
    actor: &Principal,
    old: &PublishedList,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let list = ListHeader {
        list_year: i32::try_from(old.list_year).unwrap_or_default(),
        title: &old.title,
        document_number: &old.document_number,
        published_on: china_date(now),
    };
    insert_list(
        tx,
        actor,
        &list,
        old.batch,
        old.kind,
        Some((old.id, old.version + 1, reason)),
        now,
    )
    .await
}

async fn insert_entry(
    tx: &mut Tx,
    list_id: i64,
    entry: &NewListEntry,
    clocks_from: NaiveDate,
) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO published_entries (list_id, enterprise_id, jurisdiction_code, \
             credit_code, name, industry_code, reasons, toxic_categories, due_year, clocks_from) \
             SELECT $1, e.id, e.jurisdiction_code, e.credit_code, e.name, e.industry_code, \
             $2, $3, $4, $5 FROM enterprises e WHERE e.id = $6",
        )
        .bind(list_id)
        .bind(reasons_text(&entry.reasons))
        .bind(categories_text(&entry.toxic_categories))
        .bind(entry.due_year.map(i64::from))
        .bind(date_text(clocks_from))
        .bind(entry.enterprise_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

async fn insert_clock(tx: &mut Tx, list_id: i64, enterprise_id: i64, clock: &Clock) -> Result<()> {
    let rule_json = serde_json::to_string(&clock.rule).unwrap_or_default();
    let uncovered = clock
        .end
        .uncovered_years
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO clocks (list_id, enterprise_id, kind, starts_on, nominal_on, effective_on, \
             rule_id, rule_book_version, rule_json, calendar_version, uncovered_years, trace_zh, \
             trace_en) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(list_id)
        .bind(enterprise_id)
        .bind(clock.kind.as_str())
        .bind(date_text(clock.end.start))
        .bind(date_text(clock.end.nominal))
        .bind(date_text(clock.end.effective))
        .bind(&clock.rule.id)
        .bind(&clock.rule.book_version)
        .bind(&rule_json)
        .bind(&clock.end.calendar_version)
        .bind(&uncovered)
        .bind(clock.end.trace_zh())
        .bind(clock.end.trace_en())
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Copies a list's entries and clocks to its new version, leaving out `removed`.
async fn copy_entries(tx: &mut Tx, from: i64, to: i64, removed: &[i64]) -> Result<()> {
    let removed = serde_json::to_string(removed).unwrap_or_else(|_| "[]".into());
    let (entries_sql, clocks_sql) = match tx.backend() {
        crate::Backend::Sqlite => (
            "INSERT INTO published_entries SELECT $1, enterprise_id, jurisdiction_code, \
             credit_code, name, industry_code, reasons, toxic_categories, due_year, clocks_from \
             FROM published_entries WHERE list_id = $2 \
             AND enterprise_id NOT IN (SELECT value FROM json_each($3))",
            "INSERT INTO clocks SELECT $1, enterprise_id, kind, starts_on, nominal_on, \
             effective_on, rule_id, rule_book_version, rule_json, calendar_version, \
             uncovered_years, trace_zh, trace_en FROM clocks WHERE list_id = $2 \
             AND enterprise_id NOT IN (SELECT value FROM json_each($3))",
        ),
        crate::Backend::Postgres => (
            "INSERT INTO published_entries SELECT $1, enterprise_id, jurisdiction_code, \
             credit_code, name, industry_code, reasons, toxic_categories, due_year, clocks_from \
             FROM published_entries WHERE list_id = $2 \
             AND enterprise_id NOT IN (SELECT jsonb_array_elements_text($3::jsonb)::bigint)",
            "INSERT INTO clocks SELECT $1, enterprise_id, kind, starts_on, nominal_on, \
             effective_on, rule_id, rule_book_version, rule_json, calendar_version, \
             uncovered_years, trace_zh, trace_en FROM clocks WHERE list_id = $2 \
             AND enterprise_id NOT IN (SELECT jsonb_array_elements_text($3::jsonb)::bigint)",
        ),
    };
    for statement in [entries_sql, clocks_sql] {
        on_tx!(tx, |conn| {
            sqlx::query(statement)
                .bind(to)
                .bind(from)
                .bind(&removed)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

async fn letters_issued(tx: &mut Tx, city: &str, list_year: i64) -> Result<i64> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM notification_letters n JOIN published_lists l ON l.id = n.list_id \
             WHERE n.jurisdiction_code = $1 AND l.list_year = $2",
        )
        .bind(city)
        .bind(list_year)
        .fetch_one(conn)
        .await
    })?)
}

/// Inserts a letter unless the enterprise already has one for the list.
async fn insert_letter(
    tx: &mut Tx,
    actor: &Principal,
    entry: &PublishedEntry,
    number: &str,
    issued_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool> {
    let inserted = on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO notification_letters (list_id, enterprise_id, jurisdiction_code, number, \
             issued_on, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (list_id, enterprise_id) DO NOTHING",
        )
        .bind(entry.list_id)
        .bind(entry.enterprise_id)
        .bind(&entry.jurisdiction_code)
        .bind(number)
        .bind(date_text(issued_on))
        .bind(timestamp(now))
        .bind(actor.actor())
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(inserted > 0)
}
