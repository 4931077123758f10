//! The judgement of online-monitoring data, stored: which standard each outlet is judged by,
//! the permit's yearly load limits, the hourly and daily means computed from the packets in
//! `monitoring_data`, exceedance events, invalid and missing-data periods, daily loads, and the
//! candidate evidence created from them (migration 0007; docs/MONITORING.md, "Judgement").
//!
//! [`Db::evaluate_monitoring`] is the job: for each device it reads the hours not yet evaluated
//! (a watermark per device), judges them with `cpaudit_core::monitoring` and writes the results
//! in one transaction per device and day; then it counts exceedances per enterprise, factor and
//! period and creates candidate evidence through the evidence code, once per period. The read
//! functions below serve the pages; every one is limited by the caller's [`Scope`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use cpaudit_core::determination::{EvidenceKind, EvidenceStatus};
use cpaudit_core::emission_limits::{
    AppliedLimit, Averaging, ConcentrationUnit, EmissionLimits, Medium, OutletBinding,
};
use cpaudit_core::monitoring::{
    self as judgement, concentration_evidence, day_key, hour_of, judge_day, judge_hour,
    minute_interval, parse_day_key, parse_time_key, runs, time_key, total_load_evidence, Basis,
    ExceedanceTally, GapReason, HourContext, HourInput, HourResult, JudgementRules, LoadLimit,
    Period, Record, Status, TallyEntry, KIND_DAY, KIND_HOUR, KIND_MINUTE, KIND_REALTIME,
};
use cpaudit_core::registry::OutletKind;
use cpaudit_core::rules::RuleBook;
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::columns::StoredRow;
use crate::enterprises::EnterpriseRow;
use crate::evidence::{china_date, insert_evidence};
use crate::sql::{scope_condition, Arg, Sql};
use crate::{
    on_pool, on_tx, timestamp, Backend, Db, InScope, Principal, Result, Scope, StorageError, Tx,
};

/// The principal the evaluation job acts as in the audit trail.
pub const JUDGEMENT_ACTOR: &str = "hj212-judgement";

/// China Standard Time of an instant, as devices write `DataTime`.
pub fn china_time(at: DateTime<Utc>) -> NaiveDateTime {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    at.with_timezone(&offset).naive_local()
}

// ---- rows ---------------------------------------------------------------------------------------

/// An outlet with the standard it is judged by (`None` when not yet bound).
#[derive(Debug, Clone, Serialize)]
pub struct OutletStandardRow {
    pub outlet_id: i64,
    pub enterprise_id: i64,
    pub outlet_code: String,
    pub outlet_name: String,
    pub outlet_kind: OutletKind,
    pub standard: Option<String>,
    pub source_class: Option<String>,
    pub special_limits: Option<bool>,
    pub set_by: Option<String>,
    pub set_at: Option<String>,
}

/// An outlet and its standard as they come from the database.
#[derive(sqlx::FromRow)]
struct StoredOutletStandard {
    outlet_id: i64,
    enterprise_id: i64,
    outlet_code: String,
    outlet_name: String,
    outlet_kind: String,
    standard: Option<String>,
    source_class: Option<String>,
    special_limits: Option<bool>,
    set_by: Option<String>,
    set_at: Option<String>,
}

impl StoredOutletStandard {
    fn decode(self) -> Result<OutletStandardRow> {
        let row = StoredRow::new("outlets", self.outlet_id);
        Ok(OutletStandardRow {
            outlet_kind: row.read("kind", &self.outlet_kind)?,
            outlet_id: self.outlet_id,
            enterprise_id: self.enterprise_id,
            outlet_code: self.outlet_code,
            outlet_name: self.outlet_name,
            standard: self.standard,
            source_class: self.source_class,
            special_limits: self.special_limits,
            set_by: self.set_by,
            set_at: self.set_at,
        })
    }
}

crate::decoded_row!(OutletStandardRow, StoredOutletStandard);

impl OutletStandardRow {
    pub fn binding(&self) -> Option<OutletBinding> {
        outlet_binding(
            self.standard.as_deref(),
            self.source_class.as_deref(),
            self.special_limits,
        )
    }
}

/// The standard an outlet is judged by, once both the standard and the source class are bound.
pub fn outlet_binding(
    standard: Option<&str>,
    source_class: Option<&str>,
    special_limits: Option<bool>,
) -> Option<OutletBinding> {
    Some(OutletBinding {
        standard: standard?.to_string(),
        source_class: source_class?.to_string(),
        special_limits: special_limits.unwrap_or(false),
    })
}

/// A yearly load limit of a permit as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PermitLoadLimitRow {
    pub id: i64,
    pub enterprise_id: i64,
    /// `None`: the enterprise's total.
    pub outlet_id: Option<i64>,
    pub factor: String,
    pub year: i64,
    pub limit_tonnes: f64,
    pub permit_ref: String,
    pub set_by: String,
    pub set_at: String,
}

/// A device, where it is, and whether it was heard from recently.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeviceStatusRow {
    pub device_id: i64,
    pub mn: String,
    pub outlet_id: i64,
    pub outlet_code: String,
    pub outlet_name: String,
    pub outlet_kind: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    /// RFC 3339, UTC; `None` when never heard from.
    pub last_seen_at: Option<String>,
    /// `YYYYMMDDhhmmss` of the newest data, China time.
    pub last_data_time: Option<i64>,
    #[sqlx(skip)]
    pub online: bool,
}

/// The newest packet of a device, parsed.
#[derive(Debug, Clone, Serialize)]
pub struct LatestValues {
    pub device_id: i64,
    pub mn: String,
    pub outlet_code: String,
    /// 2051 minute, 2011 real-time or 2061 hourly: the newest of what the device sends.
    pub kind: i64,
    pub data_time: i64,
    pub received_at: String,
    pub values: Vec<LatestValue>,
}

/// One factor of a latest packet.
#[derive(Debug, Clone, Serialize)]
pub struct LatestValue {
    pub factor: String,
    /// `Avg` (minute, hour) or `Rtd` (real-time), as sent.
    pub value: Option<f64>,
    pub zs_value: Option<f64>,
    pub flag: Option<String>,
}

/// One point of an hourly or daily series: `at` is `YYYYMMDDhh0000` for hours, `YYYYMMDD` for
/// days.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesPoint {
    pub at: i64,
    pub status: Status,
    pub reason: String,
    pub basis: Basis,
    /// The value judged (valid means only).
    pub value: Option<f64>,
    /// The platform's recomputed value (hours) or the mean (days).
    pub platform_value: Option<f64>,
    /// The device's own value, on the judged basis (hours) or as sent (days).
    pub device_value: Option<f64>,
    pub unit: String,
    pub limit_value: Option<f64>,
    pub limit_id: Option<String>,
    pub exceeded: bool,
}

#[derive(sqlx::FromRow)]
struct StoredPoint {
    at: i64,
    status: String,
    reason: String,
    basis: String,
    value: Option<f64>,
    platform_value: Option<f64>,
    device_value: Option<f64>,
    unit: String,
    limit_value: Option<f64>,
    limit_id: Option<String>,
    exceeded: bool,
}

impl StoredPoint {
    fn decode(self) -> Result<SeriesPoint> {
        // A mean has no id of its own: the error names its hour or day, whose length tells
        // the table.
        let table = if self.at > 99_999_999 {
            "monitoring_hours"
        } else {
            "monitoring_days"
        };
        let row = StoredRow::new(table, self.at);
        Ok(SeriesPoint {
            status: row.read("status", &self.status)?,
            basis: row.read("basis", &self.basis)?,
            at: self.at,
            reason: self.reason,
            value: self.value,
            platform_value: self.platform_value,
            device_value: self.device_value,
            unit: self.unit,
            limit_value: self.limit_value,
            limit_id: self.limit_id,
            exceeded: self.exceeded,
        })
    }
}

crate::decoded_row!(SeriesPoint, StoredPoint);

/// An exceedance event: consecutive exceedance hours of one device and factor.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub outlet_code: String,
    pub outlet_name: String,
    pub device_id: i64,
    pub mn: String,
    pub factor: String,
    /// `YYYYMMDDhh0000`, China time; the last hour is included.
    pub first_hour: i64,
    pub last_hour: i64,
    pub hours: i64,
    pub max_value: f64,
    pub limit_value: f64,
    pub unit: String,
    pub limit_id: String,
}

/// An exceedance day of one device and factor.
#[derive(Debug, Clone, Serialize)]
pub struct ExceedanceDayRow {
    pub enterprise_id: i64,
    pub outlet_code: String,
    pub device_id: i64,
    pub mn: String,
    pub factor: String,
    /// `YYYYMMDD`.
    pub day: i64,
    pub status: Status,
    pub value: Option<f64>,
    pub unit: String,
    pub limit_value: Option<f64>,
    pub exceedance_hours: i64,
    pub mean_exceeded: bool,
}

#[derive(sqlx::FromRow)]
struct StoredExceedanceDay {
    enterprise_id: i64,
    outlet_code: String,
    device_id: i64,
    mn: String,
    factor: String,
    day: i64,
    status: String,
    value: Option<f64>,
    unit: String,
    limit_value: Option<f64>,
    exceedance_hours: i64,
    mean_exceeded: bool,
}

impl StoredExceedanceDay {
    fn decode(self) -> Result<ExceedanceDayRow> {
        // A day's mean has no id of its own: the error names the day.
        let row = StoredRow::new("monitoring_days", self.day);
        Ok(ExceedanceDayRow {
            status: row.read("status", &self.status)?,
            enterprise_id: self.enterprise_id,
            outlet_code: self.outlet_code,
            device_id: self.device_id,
            mn: self.mn,
            factor: self.factor,
            day: self.day,
            value: self.value,
            unit: self.unit,
            limit_value: self.limit_value,
            exceedance_hours: self.exceedance_hours,
            mean_exceeded: self.mean_exceeded,
        })
    }
}

crate::decoded_row!(ExceedanceDayRow, StoredExceedanceDay);

/// An invalid or missing-data period of one device and factor ('' = the whole device).
#[derive(Debug, Clone, Serialize)]
pub struct GapRow {
    pub id: i64,
    pub enterprise_id: i64,
    pub outlet_code: String,
    pub device_id: i64,
    pub mn: String,
    pub factor: String,
    pub first_hour: i64,
    pub last_hour: i64,
    pub hours: i64,
    /// Invalid or missing.
    pub status: Status,
    pub reason: GapReason,
    pub detail: String,
}

/// A gap as it comes from the database.
#[derive(sqlx::FromRow)]
struct StoredGap {
    id: i64,
    enterprise_id: i64,
    outlet_code: String,
    device_id: i64,
    mn: String,
    factor: String,
    first_hour: i64,
    last_hour: i64,
    hours: i64,
    status: String,
    reason: String,
    detail: String,
}

impl StoredGap {
    fn decode(self) -> Result<GapRow> {
        let row = StoredRow::new("monitoring_gaps", self.id);
        Ok(GapRow {
            status: row.read("status", &self.status)?,
            reason: row.read("reason", &self.reason)?,
            id: self.id,
            enterprise_id: self.enterprise_id,
            outlet_code: self.outlet_code,
            device_id: self.device_id,
            mn: self.mn,
            factor: self.factor,
            first_hour: self.first_hour,
            last_hour: self.last_hour,
            hours: self.hours,
            detail: self.detail,
        })
    }
}

crate::decoded_row!(GapRow, StoredGap);

/// A year's cumulative load of one factor, of an outlet or the whole enterprise, beside the
/// permit's limit.
#[derive(Debug, Clone, Serialize)]
pub struct LoadRow {
    /// `None`: the enterprise's total.
    pub outlet_id: Option<i64>,
    pub outlet_code: Option<String>,
    pub factor: String,
    pub year: i64,
    pub load_kg: f64,
    pub limit_tonnes: Option<f64>,
    pub permit_ref: Option<String>,
    pub exceeded: bool,
}

/// A candidate created from online monitoring, with the evidence it became.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateRow {
    pub id: i64,
    pub enterprise_id: i64,
    pub kind: EvidenceKind,
    pub factor: String,
    pub period: String,
    pub evidence_id: i64,
    pub evidence_status: EvidenceStatus,
    /// The hours or loads behind it, the limit and the rule versions.
    pub detail: crate::JsonColumn<serde_json::Value>,
    pub created_at: String,
}

/// A candidate as it comes from the database, with the status of its evidence.
#[derive(sqlx::FromRow)]
struct StoredCandidate {
    id: i64,
    enterprise_id: i64,
    kind: String,
    factor: String,
    period: String,
    evidence_id: i64,
    evidence_status: String,
    #[sqlx(try_from = "String")]
    detail: crate::JsonColumn<serde_json::Value>,
    created_at: String,
}

impl StoredCandidate {
    fn decode(self) -> Result<CandidateRow> {
        let kind = StoredRow::new("monitoring_candidates", self.id).read("kind", &self.kind)?;
        // The status is the evidence's own column, named as such.
        let evidence = StoredRow::new("evidence", self.evidence_id);
        Ok(CandidateRow {
            kind,
            evidence_status: evidence.read("status", &self.evidence_status)?,
            id: self.id,
            enterprise_id: self.enterprise_id,
            factor: self.factor,
            period: self.period,
            evidence_id: self.evidence_id,
            detail: self.detail,
            created_at: self.created_at,
        })
    }
}

crate::decoded_row!(CandidateRow, StoredCandidate);

/// The settings of an evaluation run.
#[derive(Debug, Clone, Copy)]
pub struct EvaluateOptions {
    /// An hour is evaluated only this long after it ended, so that late packets (a device
    /// resending what we did not acknowledge) are in.
    pub settle: Duration,
    /// At most this many days per device in one run (a device catching up on a year of data
    /// is evaluated over several runs).
    pub max_days_per_device: u32,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        Self {
            settle: Duration::hours(1),
            max_days_per_device: 31,
        }
    }
}

/// What an evaluation run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvaluationReport {
    pub devices: usize,
    /// Device-hours evaluated.
    pub hours: usize,
    /// Factor-hours above an hourly limit.
    pub exceedance_hours: usize,
    /// Device-days completed.
    pub days: usize,
    pub candidates: usize,
    pub load_candidates: usize,
    /// Devices skipped because no rule book value was in force for their data.
    pub skipped: usize,
    /// Devices whose judged hours were taken back because data came late for them
    /// (`judgement_rewinds`); their hours are evaluated again in this and later runs.
    pub rewound: usize,
}

// ---- writes: bindings, permit limits, units ----------------------------------------------------

const OUTLET_STANDARD_SELECT: &str = "SELECT o.id AS outlet_id, o.enterprise_id, \
     o.code AS outlet_code, o.name AS outlet_name, o.kind AS outlet_kind, s.standard, \
     s.source_class, s.special_limits, s.set_by, s.set_at \
     FROM outlets o JOIN enterprises e ON e.id = o.enterprise_id \
     LEFT JOIN outlet_standards s ON s.outlet_id = o.id";

impl Db {
    /// The outlets of an enterprise with the standard each is judged by.
    pub async fn outlet_standards(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Vec<OutletStandardRow>> {
        let enterprise_id = enterprise.id;
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "{OUTLET_STANDARD_SELECT} WHERE {condition} AND o.enterprise_id = {} ORDER BY o.code",
            sql.arg(Arg::Int(enterprise_id))
        );
        self.scoped_query(&text, &sql).await
    }

    /// One outlet with its standard, if the scope may see it.
    pub async fn outlet_standard(
        &self,
        scope: &Scope,
        outlet_id: i64,
    ) -> Result<Option<OutletStandardRow>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "{OUTLET_STANDARD_SELECT} WHERE {condition} AND o.id = {}",
            sql.arg(Arg::Int(outlet_id))
        );
        Ok(self.scoped_query(&text, &sql).await?.into_iter().next())
    }

    /// Binds an outlet to the standard and source class it is judged by. The caller checks the
    /// binding against the limits file first (`EmissionLimits::check`, which names the field at
    /// fault); the outlet's city or the province may set it. One transaction with the audit
    /// entry. Judgements already made keep the limit they recorded.
    pub async fn set_outlet_standard(
        &self,
        actor: &Principal,
        outlet_id: i64,
        binding: &OutletBinding,
        now: DateTime<Utc>,
    ) -> Result<OutletStandardRow> {
        let Some(current) = self.outlet_standard(actor.scope(), outlet_id).await? else {
            return Err(StorageError::NotFound);
        };
        self.managed_city_of(actor, current.enterprise_id).await?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO outlet_standards (outlet_id, standard, source_class, special_limits, \
                 set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (outlet_id) DO UPDATE SET standard = excluded.standard, \
                 source_class = excluded.source_class, special_limits = excluded.special_limits, \
                 set_by = excluded.set_by, set_at = excluded.set_at",
            )
            .bind(outlet_id)
            .bind(&binding.standard)
            .bind(&binding.source_class)
            .bind(binding.special_limits)
            .bind(actor.actor())
            .bind(timestamp(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        let before = current.binding().map(|b| json!(b));
        chain
            .append(
                &mut tx,
                actor,
                "outlet.standard",
                ("outlet", &outlet_id.to_string()),
                before.as_ref(),
                Some(&json!(binding)),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        self.outlet_standard(actor.scope(), outlet_id)
            .await?
            .ok_or(StorageError::NotFound)
    }

    /// The permit's yearly load limits of an enterprise (all years when `year` is `None`).
    pub async fn permit_load_limits(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
        year: Option<i32>,
    ) -> Result<Vec<PermitLoadLimitRow>> {
        let enterprise_id = enterprise.id;
        let mut sql = Sql::default();
        let mut conditions = vec![scope_condition(&mut sql, scope)];
        conditions.push(format!(
            "p.enterprise_id = {}",
            sql.arg(Arg::Int(enterprise_id))
        ));
        if let Some(year) = year {
            conditions.push(format!("p.year = {}", sql.arg(Arg::Int(i64::from(year)))));
        }
        let text = format!(
            "SELECT p.id, p.enterprise_id, p.outlet_id, p.pollutant AS factor, p.year, \
             p.limit_tonnes, p.permit_ref, p.set_by, p.set_at FROM permit_load_limits p \
             JOIN enterprises e ON e.id = p.enterprise_id WHERE {} \
             ORDER BY p.year, p.pollutant, p.outlet_id",
            conditions.join(" AND ")
        );
        self.scoped_query(&text, &sql).await
    }

    /// Records (or replaces) a yearly load limit of the enterprise's permit, for the whole
    /// enterprise (`outlet_id` `None`) or one of its outlets. The enterprise's city or the
    /// province; one transaction with the audit entry.
    pub async fn set_permit_load_limit(
        &self,
        actor: &Principal,
        enterprise: &InScope<EnterpriseRow>,
        outlet_id: Option<i64>,
        limit: &LoadLimit,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let enterprise_id = enterprise.id;
        self.managed_city_of(actor, enterprise_id).await?;
        if let Some(outlet_id) = outlet_id {
            let outlet = self.outlet_standard(actor.scope(), outlet_id).await?;
            if outlet.is_none_or(|o| o.enterprise_id != enterprise_id) {
                return Err(StorageError::NotFound);
            }
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let year = i64::from(limit.year);
        let id: i64 =
            on_tx!(&mut tx, |conn| {
                match outlet_id {
                    Some(outlet_id) => sqlx::query(
                        "DELETE FROM permit_load_limits WHERE outlet_id = $1 AND pollutant = $2 \
                         AND year = $3",
                    )
                    .bind(outlet_id)
                    .bind(&limit.factor)
                    .bind(year)
                    .execute(&mut *conn)
                    .await?,
                    None => {
                        sqlx::query(
                            "DELETE FROM permit_load_limits WHERE enterprise_id = $1 \
                         AND outlet_id IS NULL AND pollutant = $2 AND year = $3",
                        )
                        .bind(enterprise_id)
                        .bind(&limit.factor)
                        .bind(year)
                        .execute(&mut *conn)
                        .await?
                    }
                };
                sqlx::query_scalar(
                    "INSERT INTO permit_load_limits (enterprise_id, outlet_id, pollutant, year, \
                 limit_tonnes, permit_ref, set_by, set_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(enterprise_id)
                .bind(outlet_id)
                .bind(&limit.factor)
                .bind(year)
                .bind(limit.limit_tonnes)
                .bind(&limit.permit_ref)
                .bind(actor.actor())
                .bind(timestamp(now))
                .fetch_one(conn)
                .await
            })?;
        chain
            .append(
                &mut tx,
                actor,
                "permit_load_limit.set",
                ("enterprise", &enterprise_id.to_string()),
                None,
                Some(&json!({
                    "outlet_id": outlet_id,
                    "factor": limit.factor,
                    "year": limit.year,
                    "limit_tonnes": limit.limit_tonnes,
                    "permit_ref": limit.permit_ref,
                })),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Records the unit a device sends a factor in, where it differs from HJ 212's default.
    /// The device's city or the province; one transaction with the audit entry.
    pub async fn set_device_factor_unit(
        &self,
        actor: &Principal,
        device_id: i64,
        factor: &str,
        unit: ConcentrationUnit,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Some(device) = self.device_in_scope(actor.scope(), device_id).await? else {
            return Err(StorageError::NotFound);
        };
        self.managed_city_of(actor, device.enterprise_id).await?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO device_factor_units (device_id, factor, unit, set_by, set_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (device_id, factor) DO UPDATE SET \
                 unit = excluded.unit, set_by = excluded.set_by, set_at = excluded.set_at",
            )
            .bind(device_id)
            .bind(factor)
            .bind(unit.as_str())
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
                "device.factor_unit",
                ("device", &device_id.to_string()),
                None,
                Some(&json!({"factor": factor, "unit": unit.as_str()})),
                now,
            )
            .await?;
        chain.commit(tx).await
    }
}

// ---- reads for the pages ------------------------------------------------------------------------

const DEVICE_SELECT: &str = "SELECT d.id AS device_id, d.mn, o.id AS outlet_id, \
     o.code AS outlet_code, o.name AS outlet_name, o.kind AS outlet_kind, \
     o.enterprise_id, e.name AS enterprise_name, e.jurisdiction_code, \
     t.last_seen_at, t.last_data_time \
     FROM devices d JOIN outlets o ON o.id = d.outlet_id \
     JOIN enterprises e ON e.id = o.enterprise_id \
     LEFT JOIN device_status t ON t.device_id = d.id";

const EVENT_SELECT: &str = "SELECT v.id, o.enterprise_id, e.name AS enterprise_name, \
     e.jurisdiction_code, o.code AS outlet_code, o.name AS outlet_name, v.device_id, d.mn, \
     v.factor, v.first_hour, v.last_hour, v.hours, v.max_value, v.limit_value, v.unit, v.limit_id \
     FROM monitoring_events v JOIN devices d ON d.id = v.device_id \
     JOIN outlets o ON o.id = d.outlet_id JOIN enterprises e ON e.id = o.enterprise_id";

impl Db {
    async fn device_in_scope(
        &self,
        scope: &Scope,
        device_id: i64,
    ) -> Result<Option<DeviceStatusRow>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "{DEVICE_SELECT} WHERE {condition} AND d.id = {}",
            sql.arg(Arg::Int(device_id))
        );
        Ok(self.scoped_query(&text, &sql).await?.into_iter().next())
    }

    /// Every device the scope may see (one enterprise's when given), online when it was heard
    /// from within `offline_after` of `now` (`device_status.last_seen_at`, written by the
    /// receiver).
    pub async fn device_statuses(
        &self,
        scope: &Scope,
        enterprise_id: Option<i64>,
        now: DateTime<Utc>,
        offline_after: Duration,
    ) -> Result<Vec<DeviceStatusRow>> {
        let mut rows = self.devices_of(scope, enterprise_id).await?;
        for row in &mut rows {
            row.online = row
                .last_seen_at
                .as_deref()
                .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                .is_some_and(|at| now - at.with_timezone(&Utc) <= offline_after);
        }
        Ok(rows)
    }

    async fn devices_of(
        &self,
        scope: &Scope,
        enterprise_id: Option<i64>,
    ) -> Result<Vec<DeviceStatusRow>> {
        let mut sql = Sql::default();
        let mut conditions = vec![scope_condition(&mut sql, scope)];
        if let Some(id) = enterprise_id {
            conditions.push(format!("o.enterprise_id = {}", sql.arg(Arg::Int(id))));
        }
        let text = format!(
            "{DEVICE_SELECT} WHERE {} ORDER BY e.jurisdiction_code, e.name, o.code, d.mn",
            conditions.join(" AND ")
        );
        self.scoped_query(&text, &sql).await
    }

    /// The newest packet of each device of an enterprise (minute data, else real-time, else
    /// hourly), parsed.
    pub async fn latest_values(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Vec<LatestValues>> {
        let enterprise_id = enterprise.id;
        let devices = self.devices_of(scope, Some(enterprise_id)).await?;
        let mut out = Vec::new();
        for device in devices {
            let mut newest: Option<(i64, i64, String, String)> = None;
            for kind in [KIND_MINUTE, KIND_REALTIME, KIND_HOUR] {
                let row: Option<(i64, String, String)> = on_pool!(self, |pool| {
                    sqlx::query_as(
                        "SELECT data_time, received_at, cp FROM monitoring_data \
                         WHERE device_id = $1 AND kind = $2 ORDER BY data_time DESC LIMIT 1",
                    )
                    .bind(device.device_id)
                    .bind(kind)
                    .fetch_optional(pool)
                    .await?
                });
                if let Some((data_time, received_at, cp)) = row {
                    if newest
                        .as_ref()
                        .is_none_or(|(_, newest_time, _, _)| data_time > *newest_time)
                    {
                        newest = Some((kind, data_time, received_at, cp));
                    }
                }
            }
            if let Some((kind, data_time, received_at, cp)) = newest {
                let values = judgement::readings(&cp)
                    .into_iter()
                    .map(|reading| LatestValue {
                        value: if kind == KIND_REALTIME {
                            reading.rtd.or(reading.avg)
                        } else {
                            reading.avg.or(reading.rtd)
                        },
                        zs_value: reading.zs_avg,
                        flag: reading.flag,
                        factor: reading.code,
                    })
                    .collect();
                out.push(LatestValues {
                    device_id: device.device_id,
                    mn: device.mn,
                    outlet_code: device.outlet_code,
                    kind,
                    data_time,
                    received_at,
                    values,
                });
            }
        }
        Ok(out)
    }

    /// The hourly means of one factor of a device from `from` to `to` (hours starting in
    /// `[from, to)`), each with its limit. `None` when the scope may not see the device.
    pub async fn hourly_series(
        &self,
        scope: &Scope,
        device_id: i64,
        factor: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Option<Vec<SeriesPoint>>> {
        if self.device_in_scope(scope, device_id).await?.is_none() {
            return Ok(None);
        }
        let rows = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT hour AS at, status, reason, basis, value, platform_value, device_value, \
                 unit, limit_value, limit_id, exceeded FROM monitoring_hours \
                 WHERE device_id = $1 AND factor = $2 AND hour >= $3 AND hour < $4 ORDER BY hour",
            )
            .bind(device_id)
            .bind(factor)
            .bind(time_key(from))
            .bind(time_key(to))
            .fetch_all(pool)
            .await?
        });
        Ok(Some(rows))
    }

    /// The daily means of one factor of a device for the days in `[from, to)`.
    pub async fn daily_series(
        &self,
        scope: &Scope,
        device_id: i64,
        factor: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<Vec<SeriesPoint>>> {
        if self.device_in_scope(scope, device_id).await?.is_none() {
            return Ok(None);
        }
        let rows = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT day AS at, status, reason, basis, value, value AS platform_value, \
                 device_value, unit, limit_value, limit_id, exceeded FROM monitoring_days \
                 WHERE device_id = $1 AND factor = $2 AND day >= $3 AND day < $4 ORDER BY day",
            )
            .bind(device_id)
            .bind(factor)
            .bind(day_key(from))
            .bind(day_key(to))
            .fetch_all(pool)
            .await?
        });
        Ok(Some(rows))
    }

    /// Exceedance events overlapping `[from, to)`, newest first: of one enterprise, or of every
    /// enterprise the scope may see.
    pub async fn exceedance_events(
        &self,
        scope: &Scope,
        enterprise_id: Option<i64>,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<EventRow>> {
        let mut sql = Sql::default();
        let mut conditions = vec![scope_condition(&mut sql, scope)];
        if let Some(id) = enterprise_id {
            conditions.push(format!("o.enterprise_id = {}", sql.arg(Arg::Int(id))));
        }
        conditions.push(format!(
            "v.last_hour >= {}",
            sql.arg(Arg::Int(time_key(from)))
        ));
        conditions.push(format!(
            "v.first_hour < {}",
            sql.arg(Arg::Int(time_key(to)))
        ));
        let text = format!(
            "{EVENT_SELECT} WHERE {} ORDER BY v.last_hour DESC, v.id DESC",
            conditions.join(" AND ")
        );
        self.scoped_query(&text, &sql).await
    }

    /// Today's exceedances in the scope (the province sees the province): the events
    /// overlapping the day, China time.
    pub async fn exceedances_on(&self, scope: &Scope, day: NaiveDate) -> Result<Vec<EventRow>> {
        let from = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        self.exceedance_events(scope, None, from, from + Duration::days(1))
            .await
    }

    /// Exceedance days of an enterprise in `[from, to)`.
    pub async fn exceedance_days(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ExceedanceDayRow>> {
        let enterprise_id = enterprise.id;
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "SELECT o.enterprise_id, o.code AS outlet_code, m.device_id, d.mn, m.factor, m.day, \
             m.status, m.value, m.unit, m.limit_value, m.exceedance_hours, m.mean_exceeded \
             FROM monitoring_days m JOIN devices d ON d.id = m.device_id \
             JOIN outlets o ON o.id = d.outlet_id JOIN enterprises e ON e.id = o.enterprise_id \
             WHERE {condition} AND o.enterprise_id = {} AND m.exceeded AND m.day >= {} \
             AND m.day < {} ORDER BY m.day DESC, o.code, m.factor",
            sql.arg(Arg::Int(enterprise_id)),
            sql.arg(Arg::Int(day_key(from))),
            sql.arg(Arg::Int(day_key(to)))
        );
        self.scoped_query(&text, &sql).await
    }

    /// Invalid and missing-data periods overlapping `[from, to)`: of one enterprise, or of
    /// every enterprise the scope may see.
    pub async fn data_gaps(
        &self,
        scope: &Scope,
        enterprise_id: Option<i64>,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<GapRow>> {
        let mut sql = Sql::default();
        let mut conditions = vec![scope_condition(&mut sql, scope)];
        if let Some(id) = enterprise_id {
            conditions.push(format!("o.enterprise_id = {}", sql.arg(Arg::Int(id))));
        }
        conditions.push(format!(
            "g.last_hour >= {}",
            sql.arg(Arg::Int(time_key(from)))
        ));
        conditions.push(format!(
            "g.first_hour < {}",
            sql.arg(Arg::Int(time_key(to)))
        ));
        let text = format!(
            "SELECT g.id, o.enterprise_id, o.code AS outlet_code, g.device_id, d.mn, g.factor, \
             g.first_hour, g.last_hour, g.hours, g.status, g.reason, g.detail \
             FROM monitoring_gaps g JOIN devices d ON d.id = g.device_id \
             JOIN outlets o ON o.id = d.outlet_id JOIN enterprises e ON e.id = o.enterprise_id \
             WHERE {} ORDER BY g.last_hour DESC, g.id DESC",
            conditions.join(" AND ")
        );
        self.scoped_query(&text, &sql).await
    }

    /// An enterprise's cumulative loads of a year per outlet and in total, beside the permit's
    /// limits. A factor several devices of one outlet report is counted once a day (the largest
    /// daily load): they measure the same stream.
    pub async fn yearly_loads(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
        year: i32,
    ) -> Result<Vec<LoadRow>> {
        let enterprise_id = enterprise.id;
        let limits = self
            .permit_load_limits(scope, enterprise, Some(year))
            .await?;
        let outlets = self.outlet_standards(scope, enterprise).await?;
        let by_outlet = outlet_loads(self, enterprise_id, year).await?;
        let mut rows = Vec::new();
        let mut totals: BTreeMap<String, f64> = BTreeMap::new();
        for ((outlet_id, factor), kg) in &by_outlet {
            *totals.entry(factor.clone()).or_default() += kg;
            let limit = limits
                .iter()
                .find(|l| l.outlet_id == Some(*outlet_id) && &l.factor == factor);
            rows.push(load_row(
                Some(*outlet_id),
                outlets
                    .iter()
                    .find(|o| o.outlet_id == *outlet_id)
                    .map(|o| o.outlet_code.clone()),
                factor,
                year,
                *kg,
                limit,
            ));
        }
        for (factor, kg) in &totals {
            let limit = limits
                .iter()
                .find(|l| l.outlet_id.is_none() && &l.factor == factor);
            rows.push(load_row(None, None, factor, year, *kg, limit));
        }
        // Limits with no data yet still show, at zero.
        for limit in &limits {
            let shown = rows
                .iter()
                .any(|r| r.outlet_id == limit.outlet_id && r.factor == limit.factor);
            if !shown {
                let code = limit.outlet_id.and_then(|id| {
                    outlets
                        .iter()
                        .find(|o| o.outlet_id == id)
                        .map(|o| o.outlet_code.clone())
                });
                rows.push(load_row(
                    limit.outlet_id,
                    code,
                    &limit.factor,
                    year,
                    0.0,
                    Some(limit),
                ));
            }
        }
        Ok(rows)
    }

    /// The candidates online monitoring created for an enterprise, newest first.
    pub async fn monitoring_candidates(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Vec<CandidateRow>> {
        let enterprise_id = enterprise.id;
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "SELECT c.id, c.enterprise_id, c.kind, c.factor, c.period, c.evidence_id, \
             v.status AS evidence_status, c.detail, c.created_at FROM monitoring_candidates c \
             JOIN evidence v ON v.id = c.evidence_id JOIN enterprises e ON e.id = c.enterprise_id \
             WHERE {condition} AND c.enterprise_id = {} ORDER BY c.id DESC",
            sql.arg(Arg::Int(enterprise_id))
        );
        self.scoped_query(&text, &sql).await
    }
}

fn load_row(
    outlet_id: Option<i64>,
    outlet_code: Option<String>,
    factor: &str,
    year: i32,
    load_kg: f64,
    limit: Option<&PermitLoadLimitRow>,
) -> LoadRow {
    LoadRow {
        outlet_id,
        outlet_code,
        factor: factor.to_string(),
        year: i64::from(year),
        load_kg,
        limit_tonnes: limit.map(|l| l.limit_tonnes),
        permit_ref: limit.map(|l| l.permit_ref.clone()),
        exceeded: limit.is_some_and(|l| load_kg / 1000.0 > l.limit_tonnes),
    }
}

/// Loads of a year per (outlet, factor), kg: per day the largest load of the outlet's devices.
async fn outlet_loads(
    db: &Db,
    enterprise_id: i64,
    year: i32,
) -> Result<BTreeMap<(i64, String), f64>> {
    let first = day_key(NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January"));
    let end = day_key(NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("1 January"));
    let rows: Vec<(i64, String, f64)> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT outlet_id, factor, SUM(kg) FROM (SELECT d.outlet_id, m.factor, m.day, \
             MAX(m.load_kg) AS kg FROM monitoring_days m JOIN devices d ON d.id = m.device_id \
             JOIN outlets o ON o.id = d.outlet_id WHERE o.enterprise_id = $1 AND m.day >= $2 \
             AND m.day < $3 AND m.load_kg IS NOT NULL GROUP BY d.outlet_id, m.factor, m.day) t \
             GROUP BY outlet_id, factor ORDER BY outlet_id, factor",
        )
        .bind(enterprise_id)
        .bind(first)
        .bind(end)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(outlet, factor, kg)| ((outlet, factor), kg))
        .collect())
}

// ---- the evaluation job -------------------------------------------------------------------------

/// A device as the job sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct JobDevice {
    device_id: i64,
    outlet_kind: String,
    enterprise_id: i64,
    standard: Option<String>,
    source_class: Option<String>,
    special_limits: Option<bool>,
    next_hour: Option<i64>,
    minute_interval: Option<i64>,
}

impl JobDevice {
    fn binding(&self) -> Option<OutletBinding> {
        outlet_binding(
            self.standard.as_deref(),
            self.source_class.as_deref(),
            self.special_limits,
        )
    }

    fn medium(&self) -> Option<Medium> {
        Medium::parse(&self.outlet_kind)
    }
}

/// A stored hour row, read back to judge its day.
#[derive(Debug, Clone, sqlx::FromRow)]
struct HourRow {
    factor: String,
    hour: i64,
    status: String,
    reason: String,
    basis: String,
    valid_count: i64,
    valid_minutes: i64,
    flags: String,
    mean: Option<f64>,
    o2: Option<f64>,
    platform_value: Option<f64>,
    device_avg: Option<f64>,
    device_zs_avg: Option<f64>,
    device_flag: Option<String>,
    device_value: Option<f64>,
    value: Option<f64>,
    unit: String,
    weight_sum: Option<f64>,
    weighted_sum: Option<f64>,
    load_kg: Option<f64>,
    limit_value: Option<f64>,
    limit_id: Option<String>,
    exceeded: bool,
}

impl HourRow {
    fn result(self) -> Option<HourResult> {
        Some(HourResult {
            hour: parse_time_key(self.hour)?,
            status: Status::parse(&self.status)?,
            reason: GapReason::parse(&self.reason),
            detail: String::new(),
            basis: Basis::parse(&self.basis)?,
            valid_count: u32::try_from(self.valid_count).unwrap_or_default(),
            valid_minutes: u32::try_from(self.valid_minutes).unwrap_or_default(),
            flags: self.flags,
            mean: self.mean,
            o2: self.o2,
            platform_value: self.platform_value,
            device_avg: self.device_avg,
            device_zs_avg: self.device_zs_avg,
            device_flag: self.device_flag,
            device_value: self.device_value,
            value: self.value,
            unit: self.unit,
            weight_sum: self.weight_sum,
            weighted_sum: self.weighted_sum,
            load_kg: self.load_kg,
            limit_value: self.limit_value,
            limit_id: self.limit_id,
            exceeded: self.exceeded,
            factor: self.factor,
        })
    }
}

/// Enterprise, factor and period whose exceedance count may have reached the candidate rule.
type Touched = BTreeSet<(i64, String, String)>;

/// What one device's chunk touched.
#[derive(Default)]
struct ChunkOutcome {
    hours: usize,
    exceedance_hours: usize,
    days: usize,
    /// (factor, period) with new exceedances.
    touched: Vec<(String, Period)>,
    years: BTreeSet<i32>,
}

impl Db {
    /// Evaluates every device's hours that ended at least `options.settle` before `now` and
    /// were not evaluated yet, completes their days, and creates the candidate evidence the
    /// rule book's candidate rule calls for. Re-running creates nothing new.
    pub async fn evaluate_monitoring(
        &self,
        limits: &EmissionLimits,
        book: &RuleBook,
        now: DateTime<Utc>,
        options: &EvaluateOptions,
    ) -> Result<EvaluationReport> {
        let ready_end = hour_of(china_time(now) - options.settle);
        let rewound = self.take_up_late_data().await?;
        let devices: Vec<JobDevice> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT d.id AS device_id, o.kind AS outlet_kind, o.enterprise_id, \
                 s.standard, s.source_class, \
                 s.special_limits, w.next_hour, w.minute_interval FROM devices d \
                 JOIN outlets o ON o.id = d.outlet_id \
                 LEFT JOIN outlet_standards s ON s.outlet_id = o.id \
                 LEFT JOIN judgement_watermarks w ON w.device_id = d.id ORDER BY d.id",
            )
            .fetch_all(pool)
            .await?
        });
        let mut report = EvaluationReport {
            rewound,
            ..EvaluationReport::default()
        };
        let mut touched = Touched::new();
        let mut years: BTreeSet<i32> = BTreeSet::new();
        for device in &devices {
            let start = match device.next_hour.and_then(parse_time_key) {
                Some(start) => start,
                None => match self.first_data_time(device.device_id).await? {
                    Some(first) => hour_of(first),
                    None => continue,
                },
            };
            if start >= ready_end {
                continue;
            }
            report.devices += 1;
            let units = self.device_units(device.device_id, limits).await?;
            let mut cursor = start;
            let mut days = 0;
            while cursor < ready_end && days < options.max_days_per_device {
                let midnight = (cursor.date() + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight exists");
                let end = midnight.min(ready_end);
                let Ok(rules) = JudgementRules::from_book(book, cursor.date()) else {
                    tracing::warn!(device = device.device_id, day = %cursor.date(), "no monitoring rule in force; device skipped");
                    report.skipped += 1;
                    break;
                };
                let outcome = self
                    .evaluate_chunk(device, limits, &rules, &units, cursor, end, now)
                    .await?;
                report.hours += outcome.hours;
                report.exceedance_hours += outcome.exceedance_hours;
                report.days += outcome.days;
                years.extend(outcome.years);
                for (factor, period) in outcome.touched {
                    touched.insert((device.enterprise_id, factor, period.key));
                }
                cursor = end;
                days += 1;
            }
        }
        report.candidates = self
            .create_concentration_candidates(limits, book, &touched, now)
            .await?;
        report.load_candidates = self.create_load_candidates(limits, &years, now).await?;
        Ok(report)
    }

    /// Takes up late data: for each device in `judgement_rewinds` (filled by every store of
    /// monitoring data for hours already evaluated, see `monitoring::note_late_data`), forgets what was
    /// judged from the day of its earliest late data on and moves the device's watermark back
    /// there, so that those hours are evaluated again with all their data. An exceedance event
    /// or data gap that runs into that day is forgotten whole and the rewind starts on the day
    /// it began, so that none is left half judged. Returns the devices rewound.
    async fn take_up_late_data(&self) -> Result<usize> {
        let pending: Vec<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT device_id FROM judgement_rewinds ORDER BY device_id")
                .fetch_all(pool)
                .await
        })?;
        let mut rewound = 0;
        for device_id in pending {
            // Hours before the device's first data were never judged, and are not now.
            let first_hour = self.first_data_time(device_id).await?.map(hour_of);
            let mut tx = self.begin().await?;
            lock_device_evaluation(&mut tx, device_id).await?;
            let late: Option<i64> = on_tx!(&mut tx, |conn| {
                sqlx::query_scalar("SELECT from_time FROM judgement_rewinds WHERE device_id = $1")
                    .bind(device_id)
                    .fetch_optional(conn)
                    .await
            })?;
            let watermark: Option<i64> = on_tx!(&mut tx, |conn| {
                sqlx::query_scalar(
                    "SELECT next_hour FROM judgement_watermarks WHERE device_id = $1",
                )
                .bind(device_id)
                .fetch_optional(conn)
                .await
            })?;
            if let (Some(late), Some(watermark)) = (late, watermark) {
                if let Some(start) = rewind_start(&mut tx, device_id, late).await? {
                    let start = first_hour.map_or(start, |first| start.max(time_key(first)));
                    if start < watermark {
                        forget_judged_from(&mut tx, device_id, start).await?;
                        rewound += 1;
                    }
                }
            }
            if let Some(late) = late {
                // Late data stored meanwhile for an earlier time stays for the next run.
                on_tx!(&mut tx, |conn| {
                    sqlx::query(
                        "DELETE FROM judgement_rewinds WHERE device_id = $1 AND from_time >= $2",
                    )
                    .bind(device_id)
                    .bind(late)
                    .execute(conn)
                    .await
                    .map(|done| done.rows_affected())
                })?;
            }
            tx.commit().await?;
        }
        Ok(rewound)
    }

    async fn first_data_time(&self, device_id: i64) -> Result<Option<NaiveDateTime>> {
        let mut first: Option<i64> = None;
        for kind in [KIND_MINUTE, KIND_HOUR, KIND_DAY] {
            let found: Option<i64> = on_pool!(self, |pool| {
                sqlx::query_scalar(
                    "SELECT data_time FROM monitoring_data WHERE device_id = $1 AND kind = $2 \
                     ORDER BY data_time LIMIT 1",
                )
                .bind(device_id)
                .bind(kind)
                .fetch_optional(pool)
                .await?
            });
            first = match (first, found) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(first.and_then(parse_time_key))
    }

    /// The unit each factor arrives in: the device's setting, else HJ 212's default.
    async fn device_units(
        &self,
        device_id: i64,
        limits: &EmissionLimits,
    ) -> Result<BTreeMap<String, ConcentrationUnit>> {
        let mut units: BTreeMap<String, ConcentrationUnit> = limits
            .factors
            .iter()
            .map(|factor| (factor.code.clone(), factor.unit))
            .collect();
        let set: Vec<(String, String)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT factor, unit FROM device_factor_units WHERE device_id = $1")
                .bind(device_id)
                .fetch_all(pool)
                .await?
        });
        for (factor, unit) in set {
            if let Some(unit) = ConcentrationUnit::parse(&unit) {
                units.insert(factor, unit);
            }
        }
        Ok(units)
    }

    /// Evaluates the hours `[from, end)` of one device (within one day) and, when `end` is the
    /// day's end, the day; one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn evaluate_chunk(
        &self,
        device: &JobDevice,
        limits: &EmissionLimits,
        rules: &JudgementRules,
        units: &BTreeMap<String, ConcentrationUnit>,
        from: NaiveDateTime,
        end: NaiveDateTime,
        now: DateTime<Utc>,
    ) -> Result<ChunkOutcome> {
        let day = from.date();
        let binding = device.binding();
        let medium = device.medium();
        let mut context = HourContext {
            medium,
            limits: BTreeMap::new(),
            units: units.clone(),
        };
        if let Some(binding) = &binding {
            for factor in limits.factors_for(binding, day) {
                if let Some(limit) = limits.limit_for(binding, &factor, day, None) {
                    context.limits.insert(factor, limit);
                }
            }
        }
        let mut tx = self.begin().await?;
        lock_device_evaluation(&mut tx, device.device_id).await?;
        let stored: Option<i64> = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar("SELECT next_hour FROM judgement_watermarks WHERE device_id = $1")
                .bind(device.device_id)
                .fetch_optional(conn)
                .await
        })?;
        if stored.is_some_and(|next| next > time_key(from)) {
            // Another run evaluated these hours meanwhile.
            tx.commit().await?;
            return Ok(ChunkOutcome::default());
        }
        // One hour before the chunk too, to read the minute interval across the boundary.
        let rows = read_packets(
            &mut tx,
            device.device_id,
            &[KIND_MINUTE, KIND_HOUR],
            time_key(from - Duration::hours(1)),
            time_key(end),
        )
        .await?;
        let read_in_chunk = rows
            .iter()
            .filter(|(_, data_time, _)| *data_time >= time_key(from))
            .count();
        let records: Vec<(i64, Record)> = rows
            .iter()
            .filter_map(|(kind, data_time, cp)| Some((*kind, Record::from_stored(*data_time, cp)?)))
            .collect();
        let minute_starts: Vec<NaiveDateTime> = records
            .iter()
            .filter(|(kind, _)| *kind == KIND_MINUTE)
            .map(|(_, r)| r.start)
            .collect();
        let interval = minute_interval(&minute_starts)
            .or_else(|| device.minute_interval.and_then(|i| u32::try_from(i).ok()))
            .unwrap_or(1);
        let mut outcome = ChunkOutcome::default();
        let mut results: Vec<HourResult> = Vec::new();
        let mut silent_hours: Vec<NaiveDateTime> = Vec::new();
        let mut hour = from;
        while hour < end {
            let next = hour + Duration::hours(1);
            let minutes: Vec<&Record> = records
                .iter()
                .filter(|(kind, r)| *kind == KIND_MINUTE && r.start >= hour && r.start < next)
                .map(|(_, r)| r)
                .collect();
            let device_hour = records
                .iter()
                .find(|(kind, r)| *kind == KIND_HOUR && hour_of(r.start) == hour)
                .map(|(_, r)| r);
            if minutes.is_empty() && device_hour.is_none() {
                silent_hours.push(hour);
            }
            let input = HourInput {
                hour,
                minutes: &minutes,
                minute_interval: interval,
                device_hour,
            };
            results.extend(judge_hour(&input, &context, rules));
            outcome.hours += 1;
            hour = next;
        }
        for result in &results {
            write_hour(&mut tx, device.device_id, result).await?;
        }
        // Events: consecutive exceedance hours per factor, joined to the last stored event.
        let mut exceeded: BTreeMap<&str, Vec<&HourResult>> = BTreeMap::new();
        for result in results.iter().filter(|r| r.exceeded) {
            exceeded
                .entry(result.factor.as_str())
                .or_default()
                .push(result);
        }
        for (factor, hours) in &exceeded {
            outcome.exceedance_hours += hours.len();
            let period = rules.candidate_period.containing(day);
            outcome.touched.push((factor.to_string(), period));
            let starts: Vec<NaiveDateTime> = hours.iter().map(|h| h.hour).collect();
            for run in runs(&starts) {
                let in_run: Vec<&&HourResult> = hours
                    .iter()
                    .filter(|h| h.hour >= run.first && h.hour <= run.last)
                    .collect();
                let max = in_run
                    .iter()
                    .filter_map(|h| h.value)
                    .fold(f64::MIN, f64::max);
                let sample = in_run[0];
                write_event(
                    &mut tx,
                    device.device_id,
                    factor,
                    run.first,
                    run.last,
                    run.hours,
                    max,
                    sample,
                )
                .await?;
            }
        }
        // Gaps: the device's silent hours, and each factor's invalid or absent hours.
        for run in runs(&silent_hours) {
            write_gap(
                &mut tx,
                device.device_id,
                "",
                run.first,
                run.last,
                run.hours,
                GapReason::NoData,
                "",
            )
            .await?;
        }
        let mut invalid: BTreeMap<(&str, GapReason), Vec<&HourResult>> = BTreeMap::new();
        for result in &results {
            match result.reason {
                Some(GapReason::NoData) | None => {}
                Some(reason) => invalid
                    .entry((result.factor.as_str(), reason))
                    .or_default()
                    .push(result),
            }
        }
        for ((factor, reason), hours) in &invalid {
            let starts: Vec<NaiveDateTime> = hours.iter().map(|h| h.hour).collect();
            for run in runs(&starts) {
                let detail = hours
                    .iter()
                    .find(|h| h.hour == run.first)
                    .map(|h| h.detail.clone())
                    .unwrap_or_default();
                write_gap(
                    &mut tx,
                    device.device_id,
                    factor,
                    run.first,
                    run.last,
                    run.hours,
                    *reason,
                    &detail,
                )
                .await?;
            }
        }
        // The day, once its last hour is in.
        let day_end = (day + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists");
        if end == day_end {
            let touched_days = self
                .complete_day(&mut tx, device, limits, rules, binding.as_ref(), day)
                .await?;
            for factor in touched_days {
                outcome
                    .touched
                    .push((factor, rules.candidate_period.containing(day)));
            }
            outcome.days += 1;
            outcome.years.insert(chrono::Datelike::year(&day));
        }
        if tx.backend() == Backend::Postgres {
            leave_rewind_for_data_stored_meanwhile(
                &mut tx,
                device.device_id,
                from,
                end,
                read_in_chunk,
            )
            .await?;
        }
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO judgement_watermarks (device_id, next_hour, minute_interval, \
                 evaluated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (device_id) DO UPDATE SET \
                 next_hour = excluded.next_hour, minute_interval = excluded.minute_interval, \
                 evaluated_at = excluded.evaluated_at",
            )
            .bind(device.device_id)
            .bind(time_key(end))
            .bind(i64::from(interval))
            .bind(timestamp(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Judges a device's day from its stored hours; returns the factors whose daily mean
    /// exceeded a daily limit.
    async fn complete_day(
        &self,
        tx: &mut Tx,
        device: &JobDevice,
        limits: &EmissionLimits,
        rules: &JudgementRules,
        binding: Option<&OutletBinding>,
        day: NaiveDate,
    ) -> Result<Vec<String>> {
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        let from = time_key(midnight);
        let to = time_key(midnight + Duration::days(1));
        let rows: Vec<HourRow> = on_tx!(tx, |conn| {
            sqlx::query_as(
                "SELECT factor, hour, status, reason, basis, valid_count, valid_minutes, flags, \
                 mean, o2, platform_value, device_avg, device_zs_avg, device_flag, device_value, \
                 value, unit, weight_sum, weighted_sum, load_kg, limit_value, limit_id, exceeded \
                 FROM monitoring_hours WHERE device_id = $1 AND hour >= $2 AND hour < $3 \
                 ORDER BY factor, hour",
            )
            .bind(device.device_id)
            .bind(from)
            .bind(to)
            .fetch_all(conn)
            .await
        })?;
        let mut by_factor: BTreeMap<String, Vec<HourResult>> = BTreeMap::new();
        for row in rows {
            if let Some(result) = row.result() {
                by_factor
                    .entry(result.factor.clone())
                    .or_default()
                    .push(result);
            }
        }
        let day_packets = read_packets(tx, device.device_id, &[KIND_DAY], from, to).await?;
        let device_day = day_packets
            .first()
            .and_then(|(_, data_time, cp)| Record::from_stored(*data_time, cp));
        if let Some(record) = &device_day {
            for reading in &record.readings {
                by_factor.entry(reading.code.clone()).or_default();
            }
        }
        let water_temp = by_factor
            .get(judgement::WATER_TEMPERATURE)
            .and_then(|hours| {
                let values: Vec<f64> = hours
                    .iter()
                    .filter(|h| h.status == Status::Valid)
                    .filter_map(|h| h.value)
                    .collect();
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            });
        let mut exceeded = Vec::new();
        for (factor, hours) in &by_factor {
            let limit: Option<AppliedLimit> =
                binding.and_then(|b| limits.limit_for(b, factor, day, water_temp));
            let result = judge_day(
                device.medium(),
                factor,
                day,
                hours,
                device_day.as_ref().and_then(|r| r.get(factor)),
                limit.as_ref(),
                rules,
            );
            if result.mean_exceeded {
                exceeded.push(factor.clone());
            }
            on_tx!(tx, |conn| {
                sqlx::query(
                    "INSERT INTO monitoring_days (device_id, factor, day, status, reason, basis, \
                     valid_hours, weighting, value, device_value, unit, load_kg, limit_value, \
                     limit_id, exceedance_hours, mean_exceeded, exceeded) VALUES ($1, $2, $3, $4, \
                     $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                     ON CONFLICT (device_id, factor, day) DO UPDATE SET status = excluded.status, \
                     reason = excluded.reason, basis = excluded.basis, \
                     valid_hours = excluded.valid_hours, weighting = excluded.weighting, \
                     value = excluded.value, device_value = excluded.device_value, \
                     unit = excluded.unit, load_kg = excluded.load_kg, \
                     limit_value = excluded.limit_value, limit_id = excluded.limit_id, \
                     exceedance_hours = excluded.exceedance_hours, \
                     mean_exceeded = excluded.mean_exceeded, exceeded = excluded.exceeded",
                )
                .bind(device.device_id)
                .bind(factor)
                .bind(day_key(day))
                .bind(result.status.as_str())
                .bind(result.reason.map(GapReason::as_str).unwrap_or_default())
                .bind(result.basis.as_str())
                .bind(i64::from(result.valid_hours))
                .bind(result.weighting.map(|w| w.as_str()).unwrap_or_default())
                .bind(result.value)
                .bind(result.device_value)
                .bind(&result.unit)
                .bind(result.load_kg)
                .bind(result.limit_value)
                .bind(result.limit_id.as_deref())
                .bind(i64::from(result.exceedance_hours))
                .bind(result.mean_exceeded)
                .bind(result.exceeded)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
            })?;
        }
        Ok(exceeded)
    }

    /// Creates a candidate for each touched enterprise, factor and period whose exceedances
    /// reach the rule book's count and that has none yet.
    async fn create_concentration_candidates(
        &self,
        limits: &EmissionLimits,
        book: &RuleBook,
        touched: &Touched,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let today = china_date(now);
        let mut created = 0;
        for (enterprise_id, factor, period_key) in touched {
            if self
                .candidate_exists(
                    *enterprise_id,
                    "concentration_exceedance",
                    factor,
                    period_key,
                )
                .await?
            {
                continue;
            }
            let Some(first_day) = period_first_day(period_key) else {
                continue;
            };
            let Ok(rules) = JudgementRules::from_book(book, first_day) else {
                continue;
            };
            let period = rules.candidate_period.containing(first_day);
            if period.key != *period_key {
                continue;
            }
            let tally = self.tally(limits, *enterprise_id, factor, &period).await?;
            if !tally.makes_candidate(&rules) {
                continue;
            }
            let name = limits
                .factor(factor)
                .map_or(factor.as_str(), |f| f.name_zh.as_str());
            let Some(draft) = concentration_evidence(&tally, name) else {
                continue;
            };
            let Ok(evidence) = draft.validate(today) else {
                tracing::warn!(
                    enterprise = enterprise_id,
                    factor,
                    "candidate evidence did not validate"
                );
                continue;
            };
            let detail = json!({
                "period": period,
                "hours": tally.hours(),
                "days": tally.days(),
                "entries": tally.entries,
                "emission_limits_version": limits.version,
                "rule_book_version": rules.book_version,
                "rules": rules.refs,
            });
            if self
                .insert_candidate(
                    *enterprise_id,
                    "concentration_exceedance",
                    factor,
                    period_key,
                    &evidence,
                    &detail,
                    now,
                )
                .await?
            {
                created += 1;
            }
        }
        Ok(created)
    }

    /// The exceedances of one enterprise and factor in a period, across its outlets: each
    /// outlet and hour (or day) once, whichever of its devices exceeded.
    async fn tally(
        &self,
        limits: &EmissionLimits,
        enterprise_id: i64,
        factor: &str,
        period: &Period,
    ) -> Result<ExceedanceTally> {
        let first = period
            .first_day
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists");
        let end = period.end.and_hms_opt(0, 0, 0).expect("midnight exists");
        #[derive(sqlx::FromRow)]
        struct Entry {
            at: i64,
            outlet_id: i64,
            outlet_code: String,
            mn: String,
            value: Option<f64>,
            limit_value: Option<f64>,
            unit: String,
            limit_id: Option<String>,
            standard: Option<String>,
        }
        let hours: Vec<Entry> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT h.hour AS at, o.id AS outlet_id, o.code AS outlet_code, d.mn, h.value, \
                 h.limit_value, h.unit, h.limit_id, s.standard FROM monitoring_hours h \
                 JOIN devices d ON d.id = h.device_id JOIN outlets o ON o.id = d.outlet_id \
                 LEFT JOIN outlet_standards s ON s.outlet_id = o.id \
                 WHERE o.enterprise_id = $1 AND h.factor = $2 AND h.exceeded AND h.hour >= $3 \
                 AND h.hour < $4 ORDER BY h.hour, o.id",
            )
            .bind(enterprise_id)
            .bind(factor)
            .bind(time_key(first))
            .bind(time_key(end))
            .fetch_all(pool)
            .await?
        });
        let days: Vec<Entry> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT m.day AS at, o.id AS outlet_id, o.code AS outlet_code, d.mn, m.value, \
                 m.limit_value, m.unit, m.limit_id, s.standard FROM monitoring_days m \
                 JOIN devices d ON d.id = m.device_id JOIN outlets o ON o.id = d.outlet_id \
                 LEFT JOIN outlet_standards s ON s.outlet_id = o.id \
                 WHERE o.enterprise_id = $1 AND m.factor = $2 AND m.mean_exceeded AND m.day >= $3 \
                 AND m.day < $4 ORDER BY m.day, o.id",
            )
            .bind(enterprise_id)
            .bind(factor)
            .bind(day_key(period.first_day))
            .bind(day_key(period.end))
            .fetch_all(pool)
            .await?
        });
        let mut seen = HashSet::new();
        let mut entries = Vec::new();
        for (averaging, rows) in [(Averaging::Hour, hours), (Averaging::Day, days)] {
            for row in rows {
                let at = match averaging {
                    Averaging::Hour => parse_time_key(row.at),
                    Averaging::Day => parse_day_key(row.at).and_then(|d| d.and_hms_opt(0, 0, 0)),
                };
                let (Some(at), Some(value), Some(limit)) = (at, row.value, row.limit_value) else {
                    continue;
                };
                if !seen.insert((averaging.as_str(), row.outlet_id, row.at)) {
                    continue;
                }
                let standard = row
                    .standard
                    .as_deref()
                    .and_then(|id| limits.standard(id))
                    .map_or_else(
                        || row.standard.clone().unwrap_or_default(),
                        |s| s.code.clone(),
                    );
                entries.push(TallyEntry {
                    at,
                    averaging,
                    outlet: row.outlet_code,
                    device: row.mn,
                    value,
                    limit,
                    unit: row.unit,
                    standard,
                    limit_id: row.limit_id.unwrap_or_default(),
                });
            }
        }
        Ok(ExceedanceTally {
            factor: factor.to_string(),
            period: period.clone(),
            entries,
        })
    }

    async fn candidate_exists(
        &self,
        enterprise_id: i64,
        kind: &str,
        factor: &str,
        period: &str,
    ) -> Result<bool> {
        let found: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM monitoring_candidates WHERE enterprise_id = $1 AND kind = $2 \
                 AND factor = $3 AND period = $4",
            )
            .bind(enterprise_id)
            .bind(kind)
            .bind(factor)
            .bind(period)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// Inserts the evidence as a candidate and the candidate row, in one transaction; false
    /// when another run created it first.
    #[allow(clippy::too_many_arguments)]
    async fn insert_candidate(
        &self,
        enterprise_id: i64,
        kind: &str,
        factor: &str,
        period: &str,
        evidence: &cpaudit_core::evidence::ValidEvidence,
        detail: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let actor = Principal::console_operator(JUDGEMENT_ACTOR);
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let exists: Option<i64> = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar(
                "SELECT id FROM monitoring_candidates WHERE enterprise_id = $1 AND kind = $2 \
                 AND factor = $3 AND period = $4",
            )
            .bind(enterprise_id)
            .bind(kind)
            .bind(factor)
            .bind(period)
            .fetch_optional(conn)
            .await
        })?;
        if exists.is_some() {
            return Ok(false);
        }
        let evidence_id = insert_evidence(
            &mut tx,
            &mut chain,
            &actor,
            (enterprise_id, ""),
            evidence,
            EvidenceStatus::Candidate,
            now,
        )
        .await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO monitoring_candidates (enterprise_id, kind, factor, period, \
                 evidence_id, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(enterprise_id)
            .bind(kind)
            .bind(factor)
            .bind(period)
            .bind(evidence_id)
            .bind(detail.to_string())
            .bind(timestamp(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain.commit(tx).await?;
        Ok(true)
    }

    /// Creates a total-load candidate for each permit limit of a touched year whose outlet or
    /// enterprise load exceeds it, once per enterprise, factor and year.
    async fn create_load_candidates(
        &self,
        limits: &EmissionLimits,
        years: &BTreeSet<i32>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let today = china_date(now);
        let mut created = 0;
        for year in years {
            let rows: Vec<PermitLoadLimitRow> = on_pool!(self, |pool| {
                sqlx::query_as(
                    "SELECT id, enterprise_id, outlet_id, pollutant AS factor, year, limit_tonnes, \
                     permit_ref, set_by, set_at FROM permit_load_limits WHERE year = $1 \
                     ORDER BY enterprise_id, pollutant, outlet_id",
                )
                .bind(i64::from(*year))
                .fetch_all(pool)
                .await?
            });
            let mut loads: HashMap<i64, BTreeMap<(i64, String), f64>> = HashMap::new();
            for limit in rows {
                let period = year.to_string();
                if self
                    .candidate_exists(
                        limit.enterprise_id,
                        "total_load_exceedance",
                        &limit.factor,
                        &period,
                    )
                    .await?
                {
                    continue;
                }
                if let std::collections::hash_map::Entry::Vacant(entry) =
                    loads.entry(limit.enterprise_id)
                {
                    entry.insert(outlet_loads(self, limit.enterprise_id, *year).await?);
                }
                let by_outlet = &loads[&limit.enterprise_id];
                let kg: f64 = by_outlet
                    .iter()
                    .filter(|((outlet, factor), _)| {
                        factor == &limit.factor && limit.outlet_id.is_none_or(|id| id == *outlet)
                    })
                    .map(|(_, kg)| kg)
                    .sum();
                let tonnes = kg / 1000.0;
                if tonnes <= limit.limit_tonnes {
                    continue;
                }
                let last_day = NaiveDate::from_ymd_opt(*year, 12, 31).expect("31 December");
                let observed_on = last_day.min(today);
                let name = limits
                    .factor(&limit.factor)
                    .map_or(limit.factor.as_str(), |f| f.name_zh.as_str());
                let draft = total_load_evidence(
                    &limit.factor,
                    name,
                    *year,
                    tonnes,
                    limit.limit_tonnes,
                    &limit.permit_ref,
                    observed_on,
                );
                let Ok(evidence) = draft.validate(today) else {
                    continue;
                };
                let detail = json!({
                    "year": year,
                    "outlet_id": limit.outlet_id,
                    "load_kg": kg,
                    "load_tonnes": tonnes,
                    "limit_tonnes": limit.limit_tonnes,
                    "permit_ref": limit.permit_ref,
                    "loads_by_outlet": by_outlet
                        .iter()
                        .filter(|((_, factor), _)| factor == &limit.factor)
                        .map(|((outlet, _), kg)| json!({"outlet_id": outlet, "load_kg": kg}))
                        .collect::<Vec<_>>(),
                    "emission_limits_version": limits.version,
                });
                if self
                    .insert_candidate(
                        limit.enterprise_id,
                        "total_load_exceedance",
                        &limit.factor,
                        &period,
                        &evidence,
                        &detail,
                        now,
                    )
                    .await?
                {
                    created += 1;
                }
            }
        }
        Ok(created)
    }
}

/// The first day of a stored period key ("2026-12", "2026-Q4", "2026").
fn period_first_day(key: &str) -> Option<NaiveDate> {
    let (year, rest) = key.split_once('-').unwrap_or((key, ""));
    let year: i32 = year.parse().ok()?;
    let month = match rest {
        "" => 1,
        quarter if quarter.starts_with('Q') => (quarter[1..].parse::<u32>().ok()? - 1) * 3 + 1,
        month => month.parse().ok()?,
    };
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// One evaluation of a device at a time (the scheduler and the command line). On SQLite the
/// write transaction already is.
async fn lock_device_evaluation(tx: &mut Tx, device_id: i64) -> Result<()> {
    if tx.backend() == Backend::Postgres {
        on_tx!(tx, |conn| {
            sqlx::query("SELECT pg_advisory_xact_lock(212213, CAST($1 AS INTEGER))")
                .bind(i32::try_from(device_id % i64::from(i32::MAX)).unwrap_or_default())
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// On PostgreSQL the receiver may commit data for the hours a chunk is judging after the chunk
/// read them, having read the old watermark: then it left no rewind. Counting the
/// chunk's data again just before the chunk commits catches that (SQLite runs one write
/// transaction at a time, so it cannot happen there): if more is stored than was read, the
/// chunk is rewound on the next run.
async fn leave_rewind_for_data_stored_meanwhile(
    tx: &mut Tx,
    device_id: i64,
    from: NaiveDateTime,
    end: NaiveDateTime,
    read: usize,
) -> Result<()> {
    let stored: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM monitoring_data WHERE device_id = $1 AND kind IN ($2, $3) \
             AND data_time >= $4 AND data_time < $5",
        )
        .bind(device_id)
        .bind(KIND_MINUTE)
        .bind(KIND_HOUR)
        .bind(time_key(from))
        .bind(time_key(end))
        .fetch_one(conn)
        .await
    })?;
    if usize::try_from(stored).unwrap_or(usize::MAX) > read {
        crate::monitoring::note_rewind_in(tx, device_id, time_key(from)).await?;
    }
    Ok(())
}

/// Midnight (as a time key) of the day of `late`, moved back to the day on which any event or
/// gap began that runs into the days being forgotten; `None` for a time that is no time.
async fn rewind_start(tx: &mut Tx, device_id: i64, late: i64) -> Result<Option<i64>> {
    let midnight = |at: NaiveDateTime| time_key(at.date().and_time(chrono::NaiveTime::MIN));
    let Some(mut start) = parse_time_key(late).map(midnight) else {
        return Ok(None);
    };
    loop {
        let earliest: Option<i64> = on_tx!(tx, |conn| {
            sqlx::query_scalar(
                "SELECT MIN(first_hour) FROM (\
                 SELECT first_hour FROM monitoring_events WHERE device_id = $1 AND last_hour >= $2 \
                 UNION ALL \
                 SELECT first_hour FROM monitoring_gaps WHERE device_id = $1 AND last_hour >= $2\
                 ) spans",
            )
            .bind(device_id)
            .bind(start)
            .fetch_one(conn)
            .await
        })?;
        match earliest.and_then(parse_time_key).map(midnight) {
            Some(earlier) if earlier < start => start = earlier,
            _ => return Ok(Some(start)),
        }
    }
}

/// Deletes the device's judged hours, days, events and gaps from `start` (the time key of a
/// midnight, or of the device's first data hour) on, and moves its watermark back to `start`.
async fn forget_judged_from(tx: &mut Tx, device_id: i64, start: i64) -> Result<()> {
    let day = start / 1_000_000;
    let statements = [
        (
            "DELETE FROM monitoring_events WHERE device_id = $1 AND last_hour >= $2",
            start,
        ),
        (
            "DELETE FROM monitoring_gaps WHERE device_id = $1 AND last_hour >= $2",
            start,
        ),
        (
            "DELETE FROM monitoring_hours WHERE device_id = $1 AND hour >= $2",
            start,
        ),
        (
            "DELETE FROM monitoring_days WHERE device_id = $1 AND day >= $2",
            day,
        ),
        (
            "UPDATE judgement_watermarks SET next_hour = $2 WHERE device_id = $1",
            start,
        ),
    ];
    for (sql, bound) in statements {
        on_tx!(tx, |conn| {
            sqlx::query(sql)
                .bind(device_id)
                .bind(bound)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

async fn read_packets(
    tx: &mut Tx,
    device_id: i64,
    kinds: &[i64],
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, String)>> {
    let mut out = Vec::new();
    for kind in kinds {
        let rows: Vec<(i64, i64, String)> = on_tx!(tx, |conn| {
            sqlx::query_as(
                "SELECT kind, data_time, cp FROM monitoring_data WHERE device_id = $1 \
                 AND kind = $2 AND data_time >= $3 AND data_time < $4 ORDER BY data_time",
            )
            .bind(device_id)
            .bind(*kind)
            .bind(from)
            .bind(to)
            .fetch_all(conn)
            .await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

async fn write_hour(tx: &mut Tx, device_id: i64, r: &HourResult) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO monitoring_hours (device_id, factor, hour, status, reason, basis, \
             valid_count, valid_minutes, flags, mean, o2, platform_value, device_avg, \
             device_zs_avg, device_flag, device_value, value, unit, weight_sum, weighted_sum, \
             load_kg, limit_value, limit_id, exceeded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) \
             ON CONFLICT (device_id, factor, hour) DO UPDATE SET status = excluded.status, \
             reason = excluded.reason, basis = excluded.basis, valid_count = excluded.valid_count, \
             valid_minutes = excluded.valid_minutes, flags = excluded.flags, mean = excluded.mean, \
             o2 = excluded.o2, platform_value = excluded.platform_value, \
             device_avg = excluded.device_avg, device_zs_avg = excluded.device_zs_avg, \
             device_flag = excluded.device_flag, device_value = excluded.device_value, \
             value = excluded.value, unit = excluded.unit, weight_sum = excluded.weight_sum, \
             weighted_sum = excluded.weighted_sum, load_kg = excluded.load_kg, \
             limit_value = excluded.limit_value, limit_id = excluded.limit_id, \
             exceeded = excluded.exceeded",
        )
        .bind(device_id)
        .bind(&r.factor)
        .bind(time_key(r.hour))
        .bind(r.status.as_str())
        .bind(r.reason.map(GapReason::as_str).unwrap_or_default())
        .bind(r.basis.as_str())
        .bind(i64::from(r.valid_count))
        .bind(i64::from(r.valid_minutes))
        .bind(&r.flags)
        .bind(r.mean)
        .bind(r.o2)
        .bind(r.platform_value)
        .bind(r.device_avg)
        .bind(r.device_zs_avg)
        .bind(r.device_flag.as_deref())
        .bind(r.device_value)
        .bind(r.value)
        .bind(&r.unit)
        .bind(r.weight_sum)
        .bind(r.weighted_sum)
        .bind(r.load_kg)
        .bind(r.limit_value)
        .bind(r.limit_id.as_deref())
        .bind(r.exceeded)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Records a run of exceedance hours, extending the device's last event of the factor when the
/// run continues it.
#[allow(clippy::too_many_arguments)]
async fn write_event(
    tx: &mut Tx,
    device_id: i64,
    factor: &str,
    first: NaiveDateTime,
    last: NaiveDateTime,
    hours: u32,
    max_value: f64,
    sample: &HourResult,
) -> Result<()> {
    let previous: Option<(i64, i64)> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, last_hour FROM monitoring_events WHERE device_id = $1 AND factor = $2 \
             ORDER BY last_hour DESC LIMIT 1",
        )
        .bind(device_id)
        .bind(factor)
        .fetch_optional(conn)
        .await
    })?;
    let continues = previous
        .and_then(|(id, last_hour)| {
            parse_time_key(last_hour).map(|last_hour| (id, last_hour + Duration::hours(1) == first))
        })
        .filter(|(_, continues)| *continues)
        .map(|(id, _)| id);
    match continues {
        Some(id) => on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE monitoring_events SET last_hour = $1, hours = hours + $2, \
                 max_value = CASE WHEN max_value > $3 THEN max_value ELSE $3 END WHERE id = $4",
            )
            .bind(time_key(last))
            .bind(i64::from(hours))
            .bind(max_value)
            .bind(id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?,
        None => on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO monitoring_events (device_id, factor, first_hour, last_hour, hours, \
                 max_value, limit_value, unit, limit_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (device_id, factor, first_hour) DO UPDATE SET \
                 last_hour = excluded.last_hour, hours = excluded.hours, \
                 max_value = excluded.max_value",
            )
            .bind(device_id)
            .bind(factor)
            .bind(time_key(first))
            .bind(time_key(last))
            .bind(i64::from(hours))
            .bind(max_value)
            .bind(sample.limit_value.unwrap_or_default())
            .bind(&sample.unit)
            .bind(sample.limit_id.as_deref().unwrap_or_default())
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?,
    };
    Ok(())
}

/// Records a run of invalid or missing hours, extending the last period of the device and
/// factor when it continues it with the same reason.
#[allow(clippy::too_many_arguments)]
async fn write_gap(
    tx: &mut Tx,
    device_id: i64,
    factor: &str,
    first: NaiveDateTime,
    last: NaiveDateTime,
    hours: u32,
    reason: GapReason,
    detail: &str,
) -> Result<()> {
    let previous: Option<(i64, i64, String)> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, last_hour, reason FROM monitoring_gaps WHERE device_id = $1 \
             AND factor = $2 ORDER BY last_hour DESC LIMIT 1",
        )
        .bind(device_id)
        .bind(factor)
        .fetch_optional(conn)
        .await
    })?;
    let continues = previous.and_then(|(id, last_hour, previous_reason)| {
        let adjacent = parse_time_key(last_hour)
            .is_some_and(|last_hour| last_hour + Duration::hours(1) == first);
        (adjacent && previous_reason == reason.as_str()).then_some(id)
    });
    match continues {
        Some(id) => on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE monitoring_gaps SET last_hour = $1, hours = hours + $2 WHERE id = $3",
            )
            .bind(time_key(last))
            .bind(i64::from(hours))
            .bind(id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?,
        None => on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO monitoring_gaps (device_id, factor, first_hour, last_hour, hours, \
                 status, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (device_id, factor, first_hour) DO UPDATE SET \
                 last_hour = excluded.last_hour, hours = excluded.hours, \
                 status = excluded.status, reason = excluded.reason, detail = excluded.detail",
            )
            .bind(device_id)
            .bind(factor)
            .bind(time_key(first))
            .bind(time_key(last))
            .bind(i64::from(hours))
            .bind(reason.status().as_str())
            .bind(reason.as_str())
            .bind(detail)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_point(at: i64, status: &str, basis: &str) -> StoredPoint {
        StoredPoint {
            at,
            status: status.into(),
            reason: String::new(),
            basis: basis.into(),
            value: None,
            platform_value: None,
            device_value: None,
            unit: String::new(),
            limit_value: None,
            limit_id: None,
            exceeded: false,
        }
    }

    #[test]
    fn a_mean_of_a_status_or_basis_this_version_does_not_know_fails_naming_its_hour_or_day() {
        let point = stored_point(20270115030000, "valid", "recomputed")
            .decode()
            .unwrap();
        assert_eq!(
            (point.status, point.basis),
            (Status::Valid, Basis::Recomputed)
        );
        let hour = stored_point(20270115030000, "suspect", "recomputed").decode();
        assert_eq!(
            hour.unwrap_err().to_string(),
            "monitoring_hours row 20270115030000: unknown status \"suspect\""
        );
        let day = stored_point(20270115, "valid", "estimated").decode();
        assert_eq!(
            day.unwrap_err().to_string(),
            "monitoring_days row 20270115: unknown basis \"estimated\""
        );
    }

    #[test]
    fn period_keys_read_back_to_their_first_day() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(period_first_day("2026-12"), Some(day(2026, 12, 1)));
        assert_eq!(period_first_day("2026-Q4"), Some(day(2026, 10, 1)));
        assert_eq!(period_first_day("2026"), Some(day(2026, 1, 1)));
        assert_eq!(period_first_day("x"), None);
    }
}
