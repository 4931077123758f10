//! Online monitoring (HJ 212) pages and API: an enterprise's monitoring page (devices online or
//! offline, latest values, an SVG chart of hourly or daily means of one pollutant against its
//! limit, exceedances, invalid and missing-data periods kept apart, yearly loads against the
//! permit, candidate evidence), the officials' devices page (online/offline by city, counts,
//! today's exceedances), the province's quarantine of unknown MNs (assign, discard) and the
//! device settings (tolerance switches, in service). See docs/MONITORING.md, "Pages and API".
//!
//! Everything is read through the caller's scope: another city's enterprise or device is "not
//! found", an enterprise sees only itself. Query parameters are checked before anything is
//! read, and a bad one is a 400 naming it.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use cpaudit_core::determination::{EvidenceKind, EvidenceStatus};
use cpaudit_core::emission_limits::EmissionLimits;
use cpaudit_core::monitoring::{
    self as judgement, hour_of, parse_day_key, parse_time_key, Status, KIND_HOUR, KIND_REALTIME,
};
use cpaudit_core::registry::{Message, OutletKind};
use cpaudit_hj212::{Deviation, Deviations};
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::enterprises::EnterpriseRow;
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::monitoring_judgement::china_time;
use cpaudit_storage::monitoring_views::{DeviceFilter, DeviceView};
use cpaudit_storage::InScope;
use cpaudit_storage::{Principal, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::action::{Done, FromForm, Input, Shaped};
use crate::auth::Caller;
use crate::chart::{LineChart, Slot, SlotState};
use crate::error::{ApiError, AppError, ErrorBody};
use crate::i18n::Lang;
use crate::pages::{beijing_time, render, Ctx};
use crate::registry::{blank, invalid};
use crate::views::monitoring::{
    AssignOutcome, Candidate, Device, ExceedanceDay, ExceedanceEvent, Gap, LatestValues, Load,
    OutletStandard, QuarantineMn, QuarantinePacket, SeriesPoint,
};
use crate::AppState;

// ---- reference: limits, factor names, units -----------------------------------------------------

/// Measured parameters the limits file does not list (HJ 212-2017 Appendix B): code, Chinese
/// and English names, the unit a device sends.
const PARAMETERS: [(&str, &str, &str, &str); 9] = [
    ("a19001", "氧含量", "O2 content", "%"),
    ("a00000", "废气流量", "Flue gas flow", "m3/s"),
    ("a01011", "烟气流速", "Flue gas velocity", "m/s"),
    ("a01012", "烟气温度", "Flue gas temperature", "°C"),
    ("a01013", "烟气压力", "Flue gas pressure", "kPa"),
    ("a01014", "烟气湿度", "Flue gas humidity", "%"),
    ("w00000", "废水流量", "Wastewater flow", "L/s"),
    ("w01001", "pH值", "pH", ""),
    ("w01010", "水温", "Water temperature", "°C"),
];

/// A factor's name in the caller's language, with its code.
pub fn factor_label(limits: &EmissionLimits, code: &str, lang: Lang) -> String {
    let name = limits
        .factor(code)
        .map(|f| lang.pick(&f.name_zh, &f.name_en).to_string())
        .or_else(|| {
            PARAMETERS
                .iter()
                .find(|(c, ..)| *c == code)
                .map(|(_, zh, en, _)| lang.pick(zh, en).to_string())
        });
    match name {
        Some(name) => format!("{name} ({code})"),
        None => code.to_string(),
    }
}

/// The unit a device sends a factor in by default.
fn factor_unit(limits: &EmissionLimits, code: &str) -> String {
    limits
        .factor(code)
        .map(|f| f.unit.as_str().to_string())
        .or_else(|| {
            PARAMETERS
                .iter()
                .find(|(c, ..)| *c == code)
                .map(|(.., unit)| unit.to_string())
        })
        .unwrap_or_default()
}

/// Whether the code is a pollutant of the limits file or a measured parameter.
fn known_factor(limits: &EmissionLimits, code: &str) -> bool {
    limits.factor(code).is_some() || PARAMETERS.iter().any(|(c, ..)| *c == code)
}

/// HJ 212-2017 Table 8 data flags.
fn flag_label(flag: &str, lang: Lang) -> String {
    let (zh, en) = match flag {
        "N" => ("正常", "normal"),
        "F" => ("停运", "shut down"),
        "M" => ("维护", "maintenance"),
        "S" => ("手工输入", "manual input"),
        "D" => ("故障", "fault"),
        "C" => ("校准", "calibration"),
        "T" => ("超测定上限", "over range"),
        "B" => ("通讯异常", "communication fault"),
        _ => return flag.to_string(),
    };
    format!("{flag} {}", lang.pick(zh, en))
}

/// Why an hour or period is invalid or missing (`monitoring_gaps.reason`).
fn gap_reason_label(reason: &str, lang: Lang) -> &'static str {
    match reason {
        "no_data" => lang.texts().no_data_received,
        "absent" => lang.texts().factor_absent_from_the_data,
        "flagged" => lang.texts().data_flagged_other_than_n,
        "over_range" => lang.texts().over_the_instrument_s_range,
        "insufficient" => lang.texts().too_little_valid_data_under_45,
        "o2_invalid" => lang.texts().o2_invalid,
        "o2_near_ambient" => lang.texts().o2_near_ambient_cannot_be_converted,
        "unit" => lang.texts().unit_cannot_be_converted,
        _ => lang.texts().other,
    }
}

/// A number as a table shows it: at most three decimals, no trailing zeros.
pub fn number(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.to_string()
    }
}

fn time_text(key: i64) -> String {
    parse_time_key(key).map_or_else(
        || key.to_string(),
        |at| at.format("%Y-%m-%d %H:%M").to_string(),
    )
}

fn day_text(key: i64) -> String {
    parse_day_key(key).map_or_else(|| key.to_string(), date_text)
}

/// "08:00–10:59" style: the last hour of a period is included, so it ends an hour later.
fn hours_text(first: i64, last: i64) -> String {
    match (parse_time_key(first), parse_time_key(last)) {
        (Some(first), Some(last)) => {
            let end = last + Duration::hours(1);
            if first.date() == (end - Duration::seconds(1)).date() {
                format!(
                    "{} {}–{}",
                    date_text(first.date()),
                    first.format("%H:%M"),
                    end.format("%H:%M")
                )
            } else {
                format!(
                    "{} – {}",
                    first.format("%Y-%m-%d %H:%M"),
                    end.format("%Y-%m-%d %H:%M")
                )
            }
        }
        _ => format!("{first}–{last}"),
    }
}

// ---- query parameters -----------------------------------------------------------------------------

/// Hourly or daily means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Hour,
    Day,
}

impl Interval {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "hour" => Some(Interval::Hour),
            "day" => Some(Interval::Day),
            _ => None,
        }
    }

    /// Air is judged by hourly means, water by daily means.
    fn for_outlet(kind: OutletKind) -> Self {
        match kind {
            OutletKind::Water => Interval::Day,
            OutletKind::Air => Interval::Hour,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Interval::Hour => "hour",
            Interval::Day => "day",
        }
    }

    /// Days shown when no range is given: a week of hours, a month of days.
    fn default_days(self) -> i64 {
        match self {
            Interval::Hour => 7,
            Interval::Day => 30,
        }
    }

    /// The longest range one request may ask for (design: about 2,200 hourly points or a
    /// year of days keeps a page and an answer small).
    fn max_days(self) -> i64 {
        match self {
            Interval::Hour => MAX_HOURLY_DAYS,
            Interval::Day => MAX_DAILY_DAYS,
        }
    }
}

/// The longest range of hourly means per request, in days.
pub const MAX_HOURLY_DAYS: i64 = 92;
/// The longest range of daily means or exceedances per request, in days.
pub const MAX_DAILY_DAYS: i64 = 366;

/// Days `from` to `to`, both included (China dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    fn start(self) -> NaiveDateTime {
        self.from.and_hms_opt(0, 0, 0).expect("midnight exists")
    }

    /// The first instant after the range.
    fn end(self) -> NaiveDateTime {
        (self.to + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
    }

    fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

fn date_param(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    match blank(value) {
        None => Ok(None),
        Some(text) => cpaudit_storage::evidence::parse_date(text)
            .map(Some)
            .ok_or_else(|| invalid(field, text, "YYYY-MM-DD")),
    }
}

/// Reads `from` and `to` (YYYY-MM-DD, both included): by default the `default_days` up to
/// today; `from` after `to` or a range longer than `max_days` is refused, naming the field.
pub fn parse_range(
    from: &Option<String>,
    to: &Option<String>,
    default_days: i64,
    max_days: i64,
    today: NaiveDate,
) -> Result<Range, AppError> {
    let to_day = date_param("to", to)?;
    let from_day = date_param("from", from)?;
    let to = to_day.unwrap_or(today);
    let from = from_day.unwrap_or(to - Duration::days(default_days - 1));
    if from > to {
        return Err(AppError::bad_request(
            "bad_range",
            Some("from"),
            Message::new(
                format!("起始日期 from（{from}）晚于结束日期 to（{to}）"),
                format!("from ({from}) is after to ({to})"),
            ),
        ));
    }
    let range = Range { from, to };
    if range.days() > max_days {
        return Err(AppError::bad_request(
            "range_too_long",
            Some("to"),
            Message::new(
                format!(
                    "查询范围为 {} 天，超过上限 {max_days} 天，请缩短 from 至 to 的范围",
                    range.days()
                ),
                format!(
                    "the range is {} days, more than the {max_days} allowed; shorten from–to",
                    range.days()
                ),
            ),
        ));
    }
    Ok(range)
}

fn parse_interval(value: &Option<String>) -> Result<Option<Interval>, AppError> {
    match blank(value) {
        None => Ok(None),
        Some(text) => Interval::parse(text)
            .map(Some)
            .ok_or_else(|| invalid("interval", text, "hour|day")),
    }
}

fn unknown_factor(code: &str) -> AppError {
    AppError::bad_request(
        "unknown_factor",
        Some("factor"),
        Message::new(
            format!("未知的监测因子“{code}”：应为 HJ 212-2017 附录 B 的因子编码，如 a21026（二氧化硫）、w01018（化学需氧量）"),
            format!("unknown pollutant \"{code}\": expected an HJ 212-2017 Appendix B factor code such as a21026 (SO2) or w01018 (COD)"),
        ),
    )
}

/// A series of one device: which pollutant, over which days, hourly or daily.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// HJ 212-2017 factor code, e.g. a21026 (SO2), w01018 (COD). Required.
    pub factor: Option<String>,
    /// First day, YYYY-MM-DD (China time); default: 7 days (hourly) or 30 days (daily) up to `to`.
    pub from: Option<String>,
    /// Last day included, YYYY-MM-DD; default today.
    pub to: Option<String>,
    /// hour | day; default hour for an air outlet, day for a water outlet. At most 92 days of
    /// hours or 366 days of days.
    pub interval: Option<String>,
}

/// A period of exceedances and invalid or missing data.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day, YYYY-MM-DD; default: 30 days up to `to` (today for the officials' list).
    pub from: Option<String>,
    /// Last day included, YYYY-MM-DD; default today. At most 366 days.
    pub to: Option<String>,
    /// Officials' list only: a city's jurisdiction code, e.g. 620100.
    pub city: Option<String>,
}

/// The devices list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DevicesQuery {
    /// A city's jurisdiction code, e.g. 620100 (a city official sees its own city anyway).
    pub city: Option<String>,
    /// online | offline | out_of_service; default all.
    pub state: Option<String>,
}

/// The enterprise page and overview.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// The year of the loads, e.g. 2027; default this year.
    pub year: Option<String>,
}

fn parse_year(value: &Option<String>, today: NaiveDate) -> Result<i32, AppError> {
    match blank(value) {
        None => Ok(today.year()),
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|year| (2000..=today.year() + 1).contains(year))
            .ok_or_else(|| invalid("year", text, "a year from 2000 to next year")),
    }
}

fn check_city(state: &AppState, value: &Option<String>) -> Result<Option<String>, AppError> {
    match blank(value) {
        None => Ok(None),
        Some(code) if state.reference().cities().any(|c| c.code == code) => {
            Ok(Some(code.to_string()))
        }
        Some(code) => Err(invalid(
            "city",
            code,
            "a city's jurisdiction code, e.g. 620100",
        )),
    }
}

/// Device states a list may be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceState {
    Online,
    Offline,
    OutOfService,
}

impl DeviceState {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "online" => Some(Self::Online),
            "offline" => Some(Self::Offline),
            "out_of_service" => Some(Self::OutOfService),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline => "offline",
            Self::OutOfService => "out_of_service",
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match self {
            Self::Online => lang.texts().online,
            Self::Offline => lang.texts().offline,
            Self::OutOfService => lang.texts().out_of_service,
        }
    }

    fn of(device: &DeviceView) -> Self {
        if !device.enabled {
            Self::OutOfService
        } else if device.online {
            Self::Online
        } else {
            Self::Offline
        }
    }
}

// ---- reading --------------------------------------------------------------------------------------

fn offline_after(state: &AppState) -> Duration {
    state.settings().device_offline_after
}

async fn visible_device(
    state: &AppState,
    scope: &Scope,
    device_id: i64,
) -> Result<DeviceView, AppError> {
    state
        .db()
        .monitoring_device(scope, device_id, state.now(), offline_after(state))
        .await?
        .ok_or(AppError::NotFound)
}

/// The factor asked for, checked: a known code, or one the device has judged values of.
async fn checked_factor(
    state: &AppState,
    scope: &Scope,
    device_id: i64,
    value: &Option<String>,
) -> Result<String, AppError> {
    let limits = state.emission_limits();
    let Some(code) = blank(value) else {
        return Err(AppError::bad_field(
            "factor",
            "required",
            "请指定监测因子 factor，如 a21026（二氧化硫）",
            "factor is required, e.g. a21026 (SO2)",
        ));
    };
    if known_factor(limits, code) {
        return Ok(code.to_string());
    }
    let judged = state
        .db()
        .judged_factors(scope, device_id)
        .await?
        .unwrap_or_default();
    if judged.iter().any(|f| f == code) {
        Ok(code.to_string())
    } else {
        Err(unknown_factor(code))
    }
}

/// The means of one factor of a device over a range.
async fn series_points(
    state: &AppState,
    scope: &Scope,
    device_id: i64,
    factor: &str,
    interval: Interval,
    range: Range,
) -> Result<Vec<SeriesPoint>, AppError> {
    let db = state.db();
    let points = match interval {
        Interval::Hour => {
            db.hourly_series(scope, device_id, factor, range.start(), range.end())
                .await?
        }
        Interval::Day => {
            db.daily_series(
                scope,
                device_id,
                factor,
                range.from,
                range.to + Duration::days(1),
            )
            .await?
        }
    };
    points.map(crate::views::shown).ok_or(AppError::NotFound)
}

/// One device's series of one pollutant, as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesJson {
    pub device_id: i64,
    pub mn: String,
    pub enterprise_id: i64,
    pub outlet_code: String,
    pub factor: String,
    pub factor_name_zh: String,
    pub factor_name_en: String,
    pub interval: Interval,
    pub from: String,
    /// The last day included.
    pub to: String,
    /// The unit of the values and limits (the limit's unit where the factor has one).
    pub unit: String,
    /// `at` is `YYYYMMDDhh0000` for hours and `YYYYMMDD` for days (China time). Hours or days
    /// not judged yet are absent; judged ones are valid, invalid or missing.
    pub points: Vec<SeriesPoint>,
    pub exceeded: usize,
    pub invalid: usize,
    pub missing: usize,
}

fn series_unit(limits: &EmissionLimits, points: &[SeriesPoint], factor: &str) -> String {
    points
        .iter()
        .map(|p| p.unit.as_str())
        .find(|unit| !unit.is_empty())
        .map_or_else(|| factor_unit(limits, factor), str::to_string)
}

fn count_status(points: &[SeriesPoint], status: Status) -> usize {
    points.iter().filter(|p| p.status == status).count()
}

async fn series_json(
    state: &AppState,
    scope: &Scope,
    device_id: i64,
    query: &SeriesQuery,
) -> Result<SeriesJson, AppError> {
    let limits = state.emission_limits();
    let interval = parse_interval(&query.interval)?;
    let device = visible_device(state, scope, device_id).await?;
    let factor = checked_factor(state, scope, device_id, &query.factor).await?;
    let interval = interval.unwrap_or_else(|| Interval::for_outlet(device.outlet_kind));
    let range = parse_range(
        &query.from,
        &query.to,
        interval.default_days(),
        interval.max_days(),
        state.today(),
    )?;
    let points = series_points(state, scope, device_id, &factor, interval, range).await?;
    let (name_zh, name_en) = limits.factor(&factor).map_or_else(
        || {
            PARAMETERS
                .iter()
                .find(|(c, ..)| *c == factor)
                .map_or((factor.clone(), factor.clone()), |(_, zh, en, _)| {
                    (zh.to_string(), en.to_string())
                })
        },
        |f| (f.name_zh.clone(), f.name_en.clone()),
    );
    Ok(SeriesJson {
        device_id,
        mn: device.mn,
        enterprise_id: device.enterprise_id,
        outlet_code: device.outlet_code,
        unit: series_unit(limits, &points, &factor),
        exceeded: points.iter().filter(|p| p.exceeded).count(),
        invalid: count_status(&points, Status::Invalid),
        missing: count_status(&points, Status::Missing),
        factor,
        factor_name_zh: name_zh,
        factor_name_en: name_en,
        interval,
        from: date_text(range.from),
        to: date_text(range.to),
        points,
    })
}

/// Hourly (`interval=hour`) or daily (`interval=day`) means of one pollutant of a device, each
/// with its validity, the value judged beside the platform's and the device's own, and the
/// limit in force (officials with jurisdiction, and the enterprise for its own devices).
#[utoipa::path(get, path = "/api/v1/devices/{device}/series", tag = "monitoring",
    params(("device" = i64, Path, description = "device id"), SeriesQuery),
    responses((status = 200, body = SeriesJson), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn api_series(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<i64>,
    Query(query): Query<SeriesQuery>,
) -> Result<Json<SeriesJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(
        series_json(&state, principal.scope(), device, &query).await?,
    ))
}

/// An enterprise's exceedances and invalid or missing-data periods over a range.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceedancesJson {
    pub from: String,
    pub to: String,
    /// Events: consecutive exceedance hours of one device and pollutant, newest first.
    pub events: Vec<ExceedanceEvent>,
    /// Exceedance days (a daily mean above a daily limit, or a day with an exceedance hour).
    pub days: Vec<ExceedanceDay>,
    /// Invalid and missing-data periods, kept apart: never exceedances.
    pub gaps: Vec<Gap>,
}

async fn visible_enterprise(
    state: &AppState,
    scope: &Scope,
    id: i64,
) -> Result<InScope<EnterpriseRow>, AppError> {
    Ok(cpaudit_app::registry::enterprise_in_scope(state.app(), scope, id).await?)
}

async fn exceedances_json(
    state: &AppState,
    scope: &Scope,
    enterprise_id: i64,
    range: Range,
) -> Result<ExceedancesJson, AppError> {
    let enterprise = visible_enterprise(state, scope, enterprise_id).await?;
    let db = state.db();
    Ok(ExceedancesJson {
        from: date_text(range.from),
        to: date_text(range.to),
        events: crate::views::shown(
            db.exceedance_events(scope, Some(enterprise_id), range.start(), range.end())
                .await?,
        ),
        days: crate::views::shown(
            db.exceedance_days(scope, &enterprise, range.from, range.to + Duration::days(1))
                .await?,
        ),
        gaps: crate::views::shown(
            db.data_gaps(scope, Some(enterprise_id), range.start(), range.end())
                .await?,
        ),
    })
}

/// An enterprise's exceedance events, exceedance days and invalid or missing-data periods
/// overlapping the range.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/exceedances", tag = "monitoring",
    params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, body = ExceedancesJson), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn api_enterprise_exceedances(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<ExceedancesJson>, ApiError> {
    let principal = caller.principal()?;
    let range = parse_range(&query.from, &query.to, 30, MAX_DAILY_DAYS, state.today())?;
    Ok(Json(
        exceedances_json(&state, principal.scope(), id, range).await?,
    ))
}

/// An enterprise's monitoring at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitoringJson {
    pub enterprise_id: i64,
    pub enterprise_name: String,
    /// A device not heard from for longer than this is offline.
    pub offline_after_minutes: i64,
    pub devices: Vec<Device>,
    /// The standard each outlet is judged by.
    pub outlets: Vec<OutletStandard>,
    /// The newest packet of each device, parsed.
    pub latest: Vec<LatestValues>,
    pub year: i32,
    /// The year's cumulative loads per outlet and in total against the permit's limits.
    pub loads: Vec<Load>,
    /// Candidate evidence created from exceedances, with its status.
    pub candidates: Vec<Candidate>,
}

async fn monitoring_json(
    state: &AppState,
    scope: &Scope,
    enterprise_id: i64,
    year: i32,
) -> Result<MonitoringJson, AppError> {
    let enterprise = visible_enterprise(state, scope, enterprise_id).await?;
    let db = state.db();
    let filter = DeviceFilter {
        enterprise_id: Some(enterprise_id),
        ..DeviceFilter::default()
    };
    Ok(MonitoringJson {
        enterprise_id,
        enterprise_name: enterprise.name.clone(),
        offline_after_minutes: offline_after(state).num_minutes(),
        devices: crate::views::shown(
            db.monitoring_devices(scope, &filter, state.now(), offline_after(state))
                .await?,
        ),
        outlets: crate::views::shown(db.outlet_standards(scope, &enterprise).await?),
        latest: crate::views::shown(db.latest_values(scope, &enterprise).await?),
        year,
        loads: crate::views::shown(db.yearly_loads(scope, &enterprise, year).await?),
        candidates: crate::views::shown(db.monitoring_candidates(scope, &enterprise).await?),
    })
}

/// An enterprise's devices (online or offline), the standard of each outlet, each device's
/// newest values, the year's loads against the permit and the candidate evidence (officials
/// with jurisdiction, and the enterprise itself).
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/monitoring", tag = "monitoring",
    params(("id" = i64, Path), OverviewQuery),
    responses((status = 200, body = MonitoringJson), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn api_enterprise_monitoring(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<OverviewQuery>,
) -> Result<Json<MonitoringJson>, ApiError> {
    let principal = caller.principal()?;
    let year = parse_year(&query.year, state.today())?;
    Ok(Json(
        monitoring_json(&state, principal.scope(), id, year).await?,
    ))
}

/// The devices an official sees, with counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DevicesJson {
    pub offline_after_minutes: i64,
    /// Counts over the devices listed (after the city filter, before the state filter).
    pub total: usize,
    pub online: usize,
    pub offline: usize,
    pub out_of_service: usize,
    pub devices: Vec<Device>,
}

struct DeviceList {
    all: Vec<DeviceView>,
    shown: Vec<DeviceView>,
    city: Option<String>,
    state: Option<DeviceState>,
}

impl DeviceList {
    fn count(&self, state: DeviceState) -> usize {
        self.all
            .iter()
            .filter(|d| DeviceState::of(d) == state)
            .count()
    }
}

async fn device_list(
    state: &AppState,
    scope: &Scope,
    query: &DevicesQuery,
) -> Result<DeviceList, AppError> {
    let city = check_city(state, &query.city)?;
    let wanted = match blank(&query.state) {
        None | Some("all") => None,
        Some(text) => Some(
            DeviceState::parse(text)
                .ok_or_else(|| invalid("state", text, "online|offline|out_of_service|all"))?,
        ),
    };
    let filter = DeviceFilter {
        city: city.clone(),
        ..DeviceFilter::default()
    };
    let all = state
        .db()
        .monitoring_devices(scope, &filter, state.now(), offline_after(state))
        .await?;
    let shown = all
        .iter()
        .filter(|d| wanted.is_none_or(|w| DeviceState::of(d) == w))
        .cloned()
        .collect();
    Ok(DeviceList {
        all,
        shown,
        city,
        state: wanted,
    })
}

/// Every device in the caller's jurisdiction (the province: all; a city: its own), online when
/// heard from within the offline threshold, with what the receiver last heard and refused.
#[utoipa::path(get, path = "/api/v1/monitoring/devices", tag = "monitoring",
    params(DevicesQuery),
    responses((status = 200, body = DevicesJson), (status = 400, body = ErrorBody)))]
pub async fn api_devices(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DevicesQuery>,
) -> Result<Json<DevicesJson>, ApiError> {
    let principal = caller.principal()?;
    let list = device_list(&state, principal.scope(), &query).await?;
    Ok(Json(DevicesJson {
        offline_after_minutes: offline_after(&state).num_minutes(),
        total: list.all.len(),
        online: list.count(DeviceState::Online),
        offline: list.count(DeviceState::Offline),
        out_of_service: list.count(DeviceState::OutOfService),
        devices: crate::views::shown(list.shown),
    }))
}

/// Exceedance events in the caller's jurisdiction.
#[derive(Debug, Serialize, ToSchema)]
pub struct JurisdictionExceedancesJson {
    pub from: String,
    pub to: String,
    pub events: Vec<ExceedanceEvent>,
}

/// Exceedance events in the caller's jurisdiction (the province: all; a city: its own)
/// overlapping the range; by default today's.
#[utoipa::path(get, path = "/api/v1/monitoring/exceedances", tag = "monitoring",
    params(PeriodQuery),
    responses((status = 200, body = JurisdictionExceedancesJson), (status = 400, body = ErrorBody)))]
pub async fn api_exceedances(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<JurisdictionExceedancesJson>, ApiError> {
    let principal = caller.principal()?;
    let city = check_city(&state, &query.city)?;
    let range = parse_range(&query.from, &query.to, 1, MAX_DAILY_DAYS, state.today())?;
    let events = state
        .db()
        .exceedance_events(principal.scope(), None, range.start(), range.end())
        .await?
        .into_iter()
        .filter(|e| city.as_ref().is_none_or(|c| &e.jurisdiction_code == c))
        .map(ExceedanceEvent::from)
        .collect();
    Ok(Json(JurisdictionExceedancesJson {
        from: date_text(range.from),
        to: date_text(range.to),
        events,
    }))
}

// ---- the chart ------------------------------------------------------------------------------------

/// How many slots of each kind a chart holds.
#[derive(Debug, Default)]
struct ChartSummary {
    slots: usize,
    valid: usize,
    exceeded: usize,
    invalid: usize,
    missing: usize,
    limit: Option<f64>,
    unit: String,
}

/// The chart of a series: one slot per hour or day of the range, up to now.
fn build_chart(
    points: &[SeriesPoint],
    interval: Interval,
    range: Range,
    now: NaiveDateTime,
    unit: &str,
    label: String,
) -> (LineChart, ChartSummary) {
    let by_key: HashMap<i64, &SeriesPoint> = points.iter().map(|p| (p.at, p)).collect();
    let mut slots = Vec::new();
    let mut ticks = Vec::new();
    let mut summary = ChartSummary {
        unit: unit.to_string(),
        ..ChartSummary::default()
    };
    let days = range.days();
    let tick_every = match interval {
        Interval::Hour => (days + 13) / 14,
        Interval::Day => (days + 11) / 12,
    }
    .max(1);
    let slot_of = |point: Option<&&SeriesPoint>, title: String| -> Slot {
        match point {
            None => Slot {
                value: None,
                limit: None,
                exceeded: false,
                state: SlotState::Unjudged,
                title,
            },
            Some(p) => Slot {
                value: if p.status == Status::Valid {
                    p.value
                } else {
                    None
                },
                limit: p.limit_value,
                exceeded: p.exceeded,
                state: match p.status {
                    Status::Valid => SlotState::Valid,
                    Status::Invalid => SlotState::Invalid,
                    Status::Missing => SlotState::Missing,
                },
                title: match (p.value, p.limit_value) {
                    (Some(value), Some(limit)) => {
                        format!("{title} {} {unit} > {}", number(value), number(limit))
                    }
                    (Some(value), None) => format!("{title} {} {unit}", number(value)),
                    _ => title,
                },
            },
        }
    };
    match interval {
        Interval::Hour => {
            let end = range.end().min(hour_of(now) + Duration::hours(1));
            let mut at = range.start();
            let mut index = 0;
            while at < end || index == 0 {
                let hour = at.hour();
                if hour == 0 {
                    let day = (at.date() - range.from).num_days();
                    if day % tick_every == 0 {
                        ticks.push((index, at.format("%m-%d").to_string()));
                    }
                } else if days <= 3 && hour.is_multiple_of(6) {
                    // Short ranges: the hours of the day too.
                    ticks.push((index, at.format("%H:%M").to_string()));
                }
                let key = judgement::time_key(at);
                slots.push(slot_of(
                    by_key.get(&key),
                    at.format("%Y-%m-%d %H:%M").to_string(),
                ));
                at += Duration::hours(1);
                index += 1;
            }
        }
        Interval::Day => {
            let last = range.to.min(now.date());
            let mut day = range.from;
            let mut index = 0;
            while day <= last || index == 0 {
                if (day - range.from).num_days() % tick_every == 0 {
                    ticks.push((index, day.format("%m-%d").to_string()));
                }
                let key = judgement::day_key(day);
                slots.push(slot_of(by_key.get(&key), date_text(day)));
                day += Duration::days(1);
                index += 1;
            }
        }
    }
    for slot in &slots {
        summary.slots += 1;
        match slot.state {
            SlotState::Valid => summary.valid += 1,
            SlotState::Invalid => summary.invalid += 1,
            SlotState::Missing => summary.missing += 1,
            SlotState::Unjudged => {}
        }
        if slot.exceeded {
            summary.exceeded += 1;
        }
        if slot.limit.is_some() {
            summary.limit = slot.limit;
        }
    }
    (
        LineChart {
            slots,
            ticks,
            unit: unit.to_string(),
            label,
        },
        summary,
    )
}

// ---- the enterprise's monitoring page -------------------------------------------------------------

/// The page's choices: everything of [`SeriesQuery`] and which device and year.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    pub device: Option<String>,
    pub factor: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub interval: Option<String>,
    pub year: Option<String>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct DeviceRowView {
    outlet: String,
    standard: String,
    mn: String,
    kind: String,
    online: bool,
    enabled: bool,
    last_seen: String,
    last_data: String,
}

struct ValueView {
    factor: String,
    value: String,
    unit: String,
    flag: String,
    flag_normal: bool,
}

struct LatestView {
    title: String,
    values: Vec<ValueView>,
}

struct EventView {
    outlet: String,
    mn: String,
    factor: String,
    period: String,
    hours: i64,
    max: String,
    limit: String,
}

struct DayView {
    day: String,
    outlet: String,
    factor: String,
    value: String,
    limit: String,
    hours: i64,
    mean_exceeded: bool,
}

struct GapView {
    outlet: String,
    mn: String,
    factor: String,
    period: String,
    hours: i64,
    missing: bool,
    reason: String,
    detail: String,
}

struct LoadView {
    outlet: String,
    factor: String,
    load: String,
    limit: String,
    share: String,
    exceeded: bool,
}

struct CandidateView {
    kind: String,
    factor: String,
    period: String,
    status: String,
    candidate: bool,
}

#[derive(Template)]
#[template(path = "monitoring_enterprise.html")]
struct EnterprisePage {
    ctx: Ctx,
    enterprise_id: i64,
    enterprise_name: String,
    offline_minutes: i64,
    devices: Vec<DeviceRowView>,
    latest: Vec<LatestView>,
    device_choices: Vec<Choice>,
    factor_choices: Vec<Choice>,
    interval_choices: Vec<Choice>,
    from: String,
    to: String,
    year: i32,
    chart_title: String,
    chart_svg: String,
    has_chart: bool,
    limit_text: String,
    summary_text: String,
    events: Vec<EventView>,
    days: Vec<DayView>,
    gaps: Vec<GapView>,
    loads: Vec<LoadView>,
    candidates: Vec<CandidateView>,
}

fn outlet_label(code: &str, name: &str) -> String {
    if name.is_empty() {
        code.to_string()
    } else {
        format!("{code} {name}")
    }
}

fn standard_label(limits: &EmissionLimits, outlet: Option<&OutletStandard>, lang: Lang) -> String {
    let Some(binding) = outlet.and_then(OutletStandard::binding) else {
        return lang.texts().no_standard_bound.into();
    };
    let code = limits
        .standard(&binding.standard)
        .map_or(binding.standard.clone(), |s| s.code.clone());
    let class = limits
        .class(&binding.standard, &binding.source_class)
        .map_or(binding.source_class.clone(), |c| {
            lang.pick(&c.name_zh, &c.name_en).to_string()
        });
    let special = if binding.special_limits {
        lang.texts().special_limits
    } else {
        ""
    };
    format!("{code} {class}{special}")
}

fn kind_label(kind: i64, lang: Lang) -> &'static str {
    match kind {
        KIND_REALTIME => lang.texts().real_time_data,
        KIND_HOUR => lang.texts().hourly_data,
        judgement::KIND_DAY => lang.texts().daily_data,
        _ => lang.texts().minute_data,
    }
}

/// The pollutants a chart shows first when they are measured: SO₂, NOx and dust for air, COD
/// and ammonia nitrogen, phosphorus and nitrogen for water (the totals that permits cap).
const PRINCIPAL: [&str; 7] = [
    "a21026", "a21002", "a34013", "w01018", "w21003", "w21011", "w21001",
];

/// Picks the factor a chart shows by default: a principal pollutant with a limit and judged
/// values, else the first with a limit that has judged values, else the first with judged
/// values, else the first with a limit.
fn default_factor(
    limits: &EmissionLimits,
    judged: &[String],
    limited: &[String],
) -> Option<String> {
    if let Some(code) = PRINCIPAL
        .iter()
        .find(|code| judged.iter().any(|f| f == *code) && limited.iter().any(|f| f == *code))
    {
        return Some(code.to_string());
    }
    limited
        .iter()
        .find(|f| judged.contains(f))
        .or_else(|| judged.iter().find(|f| known_factor(limits, f)))
        .or_else(|| judged.first())
        .or_else(|| limited.first())
        .cloned()
}

pub async fn enterprise_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let scope = principal.scope();
    let lang = caller.lang;
    let limits = state.emission_limits();
    let today = state.today();
    let interval_asked = parse_interval(&query.interval)?;
    let year = parse_year(&query.year, today)?;
    let device_asked = match blank(&query.device) {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| invalid("device", text, "a device id"))?,
        ),
    };
    let overview = monitoring_json(&state, scope, id, year).await?;
    // The device charted: the one asked for (it must be this enterprise's), else the first
    // with data, else the first.
    let device = match device_asked {
        Some(asked) => Some(
            overview
                .devices
                .iter()
                .find(|d| d.device_id == asked)
                .ok_or_else(|| {
                    AppError::bad_field(
                        "device",
                        "not_this_enterprise",
                        "所选设备不属于本企业",
                        "the device is not one of this enterprise's",
                    )
                })?,
        ),
        None => overview
            .devices
            .iter()
            .find(|d| d.last_data_time.is_some())
            .or_else(|| overview.devices.first()),
    };
    let interval = interval_asked
        .unwrap_or_else(|| device.map_or(Interval::Hour, |d| Interval::for_outlet(d.outlet_kind)));
    let range = parse_range(
        &query.from,
        &query.to,
        interval.default_days(),
        interval.max_days(),
        today,
    )?;
    let outlet_of = |outlet_id: i64| overview.outlets.iter().find(|o| o.outlet_id == outlet_id);
    let exceedances = exceedances_json(&state, scope, id, range).await?;

    // The factors offered for the device: those judged, and those its standard limits.
    let mut factor_choices = Vec::new();
    let mut chart_svg = String::new();
    let mut chart_title = String::new();
    let mut limit_text = String::new();
    let mut summary_text = String::new();
    if let Some(device) = device {
        let judged = state
            .db()
            .judged_factors(scope, device.device_id)
            .await?
            .unwrap_or_default();
        let limited = outlet_of(device.outlet_id)
            .and_then(OutletStandard::binding)
            .map(|binding| limits.factors_for(&binding, range.to))
            .unwrap_or_default();
        let factor = match blank(&query.factor) {
            Some(code) if known_factor(limits, code) || judged.iter().any(|f| f == code) => {
                Some(code.to_string())
            }
            Some(code) => return Err(unknown_factor(code)),
            // The pollutant of the device's newest exceedance in the range, else the first the
            // standard limits.
            None => exceedances
                .events
                .iter()
                .find(|e| e.device_id == device.device_id)
                .map(|e| e.factor.clone())
                .or_else(|| default_factor(limits, &judged, &limited)),
        };
        let mut offered: Vec<String> = limited.clone();
        for code in &judged {
            if !offered.contains(code) {
                offered.push(code.clone());
            }
        }
        if let Some(factor) = &factor {
            if !offered.contains(factor) {
                offered.push(factor.clone());
            }
        }
        factor_choices = offered
            .iter()
            .map(|code| Choice {
                value: code.clone(),
                label: factor_label(limits, code, lang),
                selected: Some(code) == factor.as_ref(),
            })
            .collect();
        if let Some(factor) = factor {
            let points =
                series_points(&state, scope, device.device_id, &factor, interval, range).await?;
            let unit = series_unit(limits, &points, &factor);
            let what = match interval {
                Interval::Hour => lang.texts().hourly_means,
                Interval::Day => lang.texts().daily_means,
            };
            chart_title = format!(
                "{} · {} · {} · {} {} – {}",
                outlet_label(&device.outlet_code, &device.outlet_name),
                device.mn,
                factor_label(limits, &factor, lang),
                what,
                date_text(range.from),
                date_text(range.to)
            );
            let (chart, summary) = build_chart(
                &points,
                interval,
                range,
                china_time(state.now()),
                &unit,
                chart_title.clone(),
            );
            chart_svg = chart.svg();
            limit_text = match summary.limit {
                Some(limit) => format!(
                    "{} {} {} ({})",
                    lang.texts().emission_limit,
                    number(limit),
                    unit,
                    standard_label(limits, outlet_of(device.outlet_id), lang)
                ),
                None => lang
                    .pick(
                        "该因子在所绑定的排放标准中无限值",
                        "The bound standard sets no limit for this factor",
                    )
                    .into(),
            };
            summary_text = match lang {
                Lang::Zh => format!(
                    "共 {} 个{}：有效 {}，超标 {}，无效 {}，缺失 {}（单位 {}）",
                    summary.slots,
                    if interval == Interval::Hour {
                        "小时"
                    } else {
                        "日"
                    },
                    summary.valid,
                    summary.exceeded,
                    summary.invalid,
                    summary.missing,
                    summary.unit
                ),
                Lang::En => format!(
                    "{} {}: {} valid, {} exceeded, {} invalid, {} missing (unit {})",
                    summary.slots,
                    if interval == Interval::Hour {
                        "hours"
                    } else {
                        "days"
                    },
                    summary.valid,
                    summary.exceeded,
                    summary.invalid,
                    summary.missing,
                    summary.unit
                ),
            };
        }
    }
    let device_choices = overview
        .devices
        .iter()
        .map(|d| Choice {
            value: d.device_id.to_string(),
            label: format!(
                "{} · {}",
                outlet_label(&d.outlet_code, &d.outlet_name),
                d.mn
            ),
            selected: device.is_some_and(|chosen| chosen.device_id == d.device_id),
        })
        .collect();
    let interval_choices = [Interval::Hour, Interval::Day]
        .into_iter()
        .map(|i| Choice {
            value: i.as_str().into(),
            label: match i {
                Interval::Hour => lang.texts().hourly_means.into(),
                Interval::Day => lang.texts().daily_means.into(),
            },
            selected: i == interval,
        })
        .collect();
    let devices = overview
        .devices
        .iter()
        .map(|d| DeviceRowView {
            outlet: outlet_label(&d.outlet_code, &d.outlet_name),
            standard: standard_label(limits, outlet_of(d.outlet_id), lang),
            mn: d.mn.clone(),
            kind: if d.outlet_kind == OutletKind::Water {
                lang.texts().water_2.into()
            } else {
                lang.texts().air_2.into()
            },
            online: d.online,
            enabled: d.enabled,
            last_seen: d
                .last_seen_at
                .as_deref()
                .map(beijing_time)
                .unwrap_or_else(|| lang.texts().never.into()),
            last_data: d.last_data_time.map(time_text).unwrap_or_default(),
        })
        .collect();
    let enterprise = visible_enterprise(&state, scope, id).await?;
    let units = state
        .db()
        .device_factor_units_of(scope, &enterprise)
        .await?;
    let latest = overview
        .latest
        .iter()
        .map(|l| LatestView {
            title: format!(
                "{} · {} · {} {}",
                l.outlet_code,
                l.mn,
                kind_label(l.kind, lang),
                time_text(l.data_time)
            ),
            values: l
                .values
                .iter()
                .map(|v| ValueView {
                    factor: factor_label(limits, &v.factor, lang),
                    value: v.value.map(number).unwrap_or_else(|| "—".into()),
                    unit: units
                        .get(&(l.device_id, v.factor.clone()))
                        .cloned()
                        .unwrap_or_else(|| factor_unit(limits, &v.factor)),
                    flag: v
                        .flag
                        .as_deref()
                        .map(|f| flag_label(f, lang))
                        .unwrap_or_default(),
                    flag_normal: v.flag.as_deref().is_none_or(|f| f == "N"),
                })
                .collect(),
        })
        .collect();
    let device_label = |device_id: i64| {
        overview
            .devices
            .iter()
            .find(|d| d.device_id == device_id)
            .map(|d| outlet_label(&d.outlet_code, &d.outlet_name))
            .unwrap_or_default()
    };
    let events = exceedances
        .events
        .iter()
        .map(|e| EventView {
            outlet: outlet_label(&e.outlet_code, &e.outlet_name),
            mn: e.mn.clone(),
            factor: factor_label(limits, &e.factor, lang),
            period: hours_text(e.first_hour, e.last_hour),
            hours: e.hours,
            max: format!("{} {}", number(e.max_value), e.unit),
            limit: format!("{} {}", number(e.limit_value), e.unit),
        })
        .collect();
    let days = exceedances
        .days
        .iter()
        .map(|d| DayView {
            day: day_text(d.day),
            outlet: device_label(d.device_id),
            factor: factor_label(limits, &d.factor, lang),
            value: d
                .value
                .map(|v| format!("{} {}", number(v), d.unit))
                .unwrap_or_else(|| "—".into()),
            limit: d
                .limit_value
                .map(|v| format!("{} {}", number(v), d.unit))
                .unwrap_or_else(|| "—".into()),
            hours: d.exceedance_hours,
            mean_exceeded: d.mean_exceeded,
        })
        .collect();
    let gaps = exceedances
        .gaps
        .iter()
        .map(|g| GapView {
            outlet: device_label(g.device_id),
            mn: g.mn.clone(),
            factor: if g.factor.is_empty() {
                lang.texts().whole_device.into()
            } else {
                factor_label(limits, &g.factor, lang)
            },
            period: hours_text(g.first_hour, g.last_hour),
            hours: g.hours,
            missing: g.status == Status::Missing,
            reason: gap_reason_label(g.reason.as_str(), lang).into(),
            detail: g.detail.clone(),
        })
        .collect();
    let loads = overview
        .loads
        .iter()
        .map(|l| LoadView {
            outlet: l
                .outlet_code
                .clone()
                .unwrap_or_else(|| lang.texts().whole_enterprise.into()),
            factor: factor_label(limits, &l.factor, lang),
            load: number(l.load_kg / 1000.0),
            limit: l.limit_tonnes.map(number).unwrap_or_else(|| "—".into()),
            share: l
                .limit_tonnes
                .filter(|t| *t > 0.0)
                .map(|t| format!("{:.1} %", l.load_kg / 1000.0 / t * 100.0))
                .unwrap_or_default(),
            exceeded: l.exceeded,
        })
        .collect();
    let candidates = overview
        .candidates
        .iter()
        .map(|c| CandidateView {
            kind: if c.kind == EvidenceKind::TotalLoadExceedance {
                lang.texts().total_load_above_the_permit.into()
            } else {
                lang.texts().concentration_exceedance.into()
            },
            factor: factor_label(limits, &c.factor, lang),
            period: c.period.clone(),
            status: match c.evidence_status {
                EvidenceStatus::Candidate => lang.texts().awaiting_the_city.into(),
                EvidenceStatus::Confirmed => lang.texts().confirmed.into(),
                EvidenceStatus::Dismissed => lang.texts().dismissed.into(),
            },
            candidate: c.evidence_status == EvidenceStatus::Candidate,
        })
        .collect();
    Ok(render(&EnterprisePage {
        ctx: Ctx::new(&caller),
        enterprise_id: id,
        enterprise_name: overview.enterprise_name.clone(),
        offline_minutes: overview.offline_after_minutes,
        devices,
        latest,
        device_choices,
        has_chart: !chart_svg.is_empty(),
        factor_choices,
        interval_choices,
        from: date_text(range.from),
        to: date_text(range.to),
        year,
        chart_title,
        chart_svg,
        limit_text,
        summary_text,
        events,
        days,
        gaps,
        loads,
        candidates,
    }))
}

// ---- the officials' devices page ------------------------------------------------------------------

struct CityCount {
    name: String,
    total: usize,
    online: usize,
    offline: usize,
    out_of_service: usize,
}

struct OfficialDeviceView {
    id: i64,
    city: String,
    enterprise_id: i64,
    enterprise: String,
    outlet: String,
    mn: String,
    /// online | offline | out_of_service
    state: &'static str,
    state_label: &'static str,
    last_seen: String,
    last_data: String,
    version: String,
    rejected: i64,
    last_rejection: String,
}

struct TodayEventView {
    enterprise_id: i64,
    enterprise: String,
    city: String,
    outlet: String,
    mn: String,
    factor: String,
    period: String,
    hours: i64,
    max: String,
    limit: String,
}

#[derive(Template)]
#[template(path = "monitoring_devices.html")]
struct DevicesPage {
    ctx: Ctx,
    is_province: bool,
    offline_minutes: i64,
    city_choices: Vec<Choice>,
    state_choices: Vec<Choice>,
    total: usize,
    online: usize,
    offline: usize,
    out_of_service: usize,
    cities: Vec<CityCount>,
    today: String,
    today_events: Vec<TodayEventView>,
    devices: Vec<OfficialDeviceView>,
    open_quarantine: usize,
}

fn city_name(state: &AppState, code: &str, lang: Lang) -> String {
    state
        .reference()
        .cities()
        .find(|c| c.code == code)
        .map_or(code.to_string(), |c| {
            lang.pick(&c.name_zh, &c.name_en).to_string()
        })
}

pub async fn devices_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DevicesQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let scope = principal.scope();
    let lang = caller.lang;
    let limits = state.emission_limits();
    let list = device_list(&state, scope, &query).await?;
    let is_province = matches!(scope.kind(), ScopeKind::Province);
    let today = state.today();
    let today_events = state
        .db()
        .exceedances_on(scope, today)
        .await?
        .into_iter()
        .filter(|e| list.city.as_ref().is_none_or(|c| &e.jurisdiction_code == c))
        .map(|e| TodayEventView {
            enterprise_id: e.enterprise_id,
            city: city_name(&state, &e.jurisdiction_code, lang),
            enterprise: e.enterprise_name,
            outlet: outlet_label(&e.outlet_code, &e.outlet_name),
            mn: e.mn,
            factor: factor_label(limits, &e.factor, lang),
            period: hours_text(e.first_hour, e.last_hour),
            hours: e.hours,
            max: format!("{} {}", number(e.max_value), e.unit),
            limit: format!("{} {}", number(e.limit_value), e.unit),
        })
        .collect();
    let mut per_city: BTreeMap<String, CityCount> = BTreeMap::new();
    for device in &list.all {
        let entry = per_city
            .entry(device.jurisdiction_code.clone())
            .or_insert_with(|| CityCount {
                name: city_name(&state, &device.jurisdiction_code, lang),
                total: 0,
                online: 0,
                offline: 0,
                out_of_service: 0,
            });
        entry.total += 1;
        match DeviceState::of(device) {
            DeviceState::Online => entry.online += 1,
            DeviceState::Offline => entry.offline += 1,
            DeviceState::OutOfService => entry.out_of_service += 1,
        }
    }
    let city_choices = if is_province {
        state
            .reference()
            .cities()
            .map(|c| Choice {
                value: c.code.clone(),
                label: lang.pick(&c.name_zh, &c.name_en).to_string(),
                selected: list.city.as_deref() == Some(c.code.as_str()),
            })
            .collect()
    } else {
        Vec::new()
    };
    let state_choices = [
        DeviceState::Online,
        DeviceState::Offline,
        DeviceState::OutOfService,
    ]
    .into_iter()
    .map(|s| Choice {
        value: s.as_str().into(),
        label: s.label(lang).into(),
        selected: list.state == Some(s),
    })
    .collect();
    let open_quarantine = if is_province {
        state.db().quarantined_mns(principal, false).await?.len()
    } else {
        0
    };
    // Devices that stopped sending first (they need a look), then those out of service, those
    // online, and last those never heard from.
    let rank = |d: &DeviceView| match (DeviceState::of(d), d.last_seen_at.is_some()) {
        (DeviceState::Offline, true) => 0,
        (DeviceState::OutOfService, _) => 1,
        (DeviceState::Online, _) => 2,
        (DeviceState::Offline, false) => 3,
    };
    let mut shown: Vec<&DeviceView> = list.shown.iter().collect();
    shown.sort_by_key(|d| rank(d));
    let devices = shown
        .into_iter()
        .map(|d| OfficialDeviceView {
            id: d.device_id,
            city: city_name(&state, &d.jurisdiction_code, lang),
            enterprise_id: d.enterprise_id,
            enterprise: d.enterprise_name.clone(),
            outlet: outlet_label(&d.outlet_code, &d.outlet_name),
            mn: d.mn.clone(),
            state: DeviceState::of(d).as_str(),
            state_label: DeviceState::of(d).label(lang),
            last_seen: d
                .last_seen_at
                .as_deref()
                .map(beijing_time)
                .unwrap_or_else(|| lang.texts().never.into()),
            last_data: d.last_data_time.map(time_text).unwrap_or_default(),
            version: d.protocol_version.clone().unwrap_or_default(),
            rejected: d.rejected.unwrap_or(0),
            last_rejection: d.last_rejection.clone().unwrap_or_default(),
        })
        .collect();
    Ok(render(&DevicesPage {
        ctx: Ctx::new(&caller),
        is_province,
        offline_minutes: offline_after(&state).num_minutes(),
        city_choices,
        state_choices,
        total: list.all.len(),
        online: list.count(DeviceState::Online),
        offline: list.count(DeviceState::Offline),
        out_of_service: list.count(DeviceState::OutOfService),
        cities: per_city.into_values().collect(),
        today: date_text(today),
        today_events,
        devices,
        open_quarantine,
    }))
}

// ---- the quarantine (province) --------------------------------------------------------------------

/// An unknown MN with its newest kept packet.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineEntry {
    #[serde(flatten)]
    pub mn: QuarantineMn,
    /// The newest packet kept, as received; `None` when none is kept.
    pub last_packet: Option<QuarantinePacket>,
}

/// The quarantine list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// true: also the MNs already assigned or discarded.
    pub all: Option<String>,
}

async fn quarantine(
    state: &AppState,
    principal: &Principal,
    query: &QuarantineQuery,
) -> Result<Vec<QuarantineEntry>, AppError> {
    let all = match blank(&query.all) {
        None => false,
        Some(text) => {
            crate::registry::parse_bool(text).ok_or_else(|| invalid("all", text, "true|false"))?
        }
    };
    let db = state.db();
    let mut last = db.last_quarantined_packets(principal).await?;
    Ok(db
        .quarantined_mns(principal, all)
        .await?
        .into_iter()
        .map(|mn| QuarantineEntry {
            last_packet: last.remove(&mn.mn).map(QuarantinePacket::from),
            mn: mn.into(),
        })
        .collect())
}

/// Packets from MNs no device is registered under (province only): first and last seen, the
/// packets received, kept and dropped, and the newest kept packet.
#[utoipa::path(get, path = "/api/v1/monitoring/quarantine", tag = "monitoring",
    params(QuarantineQuery),
    responses((status = 200, body = [QuarantineEntry]), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn api_quarantine(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QuarantineQuery>,
) -> Result<Json<Vec<QuarantineEntry>>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(quarantine(&state, principal, &query).await?))
}

/// The registered device an unknown MN is assigned to: its id, or its MN.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AssignInput {
    /// A device id, or the MN a registered device is registered under.
    #[serde(deserialize_with = "crate::evidence::text_or_number")]
    pub device: String,
}

/// What assigning did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignJson {
    pub mn: String,
    pub device_id: i64,
    #[serde(flatten)]
    pub outcome: AssignOutcome,
}

async fn assign(
    state: &AppState,
    principal: &Principal,
    mn: &str,
    input: &AssignInput,
) -> Result<AssignJson, AppError> {
    let (device_id, outcome) =
        cpaudit_app::monitoring::assign_mn(state.app(), principal, mn, &input.device).await?;
    Ok(AssignJson {
        mn: mn.to_string(),
        device_id,
        outcome: outcome.into(),
    })
}

/// Assigns an unknown MN to a registered device (province only): the device takes the MN, the
/// kept packets are replayed into its data, and later packets from the MN are the device's.
#[utoipa::path(post, path = "/api/v1/monitoring/quarantine/{mn}/assign", tag = "monitoring",
    params(("mn" = String, Path)), request_body = AssignInput,
    responses((status = 200, body = AssignJson), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn assign_mn(
    State(state): State<AppState>,
    caller: Caller,
    Path(mn): Path<String>,
    Input(input): Input<AssignInput>,
) -> Result<Done<AssignJson>, AppError> {
    let principal = caller.principal()?;
    let assigned = assign(&state, principal, &mn, &input).await?;
    Ok(Done::with(assigned, "/monitoring/quarantine?all=true"))
}

/// What discarding did.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiscardJson {
    pub mn: String,
    /// Kept packets deleted.
    pub discarded_packets: u64,
}

async fn discard_mn(
    state: &AppState,
    principal: &Principal,
    mn: &str,
) -> Result<DiscardJson, AppError> {
    let discarded_packets = cpaudit_app::monitoring::discard_mn(state.app(), principal, mn).await?;
    Ok(DiscardJson {
        mn: mn.to_string(),
        discarded_packets,
    })
}

/// Discards an unknown MN (province only): its kept packets are deleted; later packets from it
/// are counted and not kept.
#[utoipa::path(post, path = "/api/v1/monitoring/quarantine/{mn}/discard", tag = "monitoring",
    params(("mn" = String, Path)),
    responses((status = 200, body = DiscardJson), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn discard(
    State(state): State<AppState>,
    caller: Caller,
    Path(mn): Path<String>,
) -> Result<Done<DiscardJson>, AppError> {
    let principal = caller.principal()?;
    let discarded = discard_mn(&state, principal, &mn).await?;
    Ok(Done::with(discarded, "/monitoring/quarantine?all=true"))
}

struct QuarantineView {
    mn: String,
    first_seen: String,
    last_seen: String,
    peer: String,
    packets: i64,
    kept: i64,
    dropped: i64,
    open: bool,
    resolution: String,
    last_packet: String,
    last_packet_at: String,
}

#[derive(Template)]
#[template(path = "monitoring_quarantine.html")]
struct QuarantinePage {
    ctx: Ctx,
    all: bool,
    entries: Vec<QuarantineView>,
}

pub async fn quarantine_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QuarantineQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let entries = quarantine(&state, principal, &query).await?;
    let all = blank(&query.all).and_then(crate::registry::parse_bool) == Some(true);
    let entries = entries
        .into_iter()
        .map(|entry| {
            let resolution = match entry.mn.resolution.as_str() {
                "assigned" => format!(
                    "{} #{}",
                    lang.texts().assigned_to_device,
                    entry.mn.device_id.unwrap_or_default()
                ),
                "discarded" => lang.texts().discarded.into(),
                _ => lang.texts().open_3.into(),
            };
            let resolution = match (&entry.mn.resolved_by, &entry.mn.resolved_at) {
                (Some(by), Some(at)) => format!("{resolution}（{by}，{}）", beijing_time(at)),
                _ => resolution,
            };
            QuarantineView {
                open: entry.mn.resolution == "open",
                first_seen: beijing_time(&entry.mn.first_seen_at),
                last_seen: beijing_time(&entry.mn.last_seen_at),
                peer: entry.mn.last_peer.clone(),
                packets: entry.mn.packets,
                kept: entry.mn.kept,
                dropped: entry.mn.dropped,
                resolution,
                last_packet_at: entry
                    .last_packet
                    .as_ref()
                    .map(|p| beijing_time(&p.received_at))
                    .unwrap_or_default(),
                last_packet: entry
                    .last_packet
                    .map(|p| p.packet.trim_end().to_string())
                    .unwrap_or_default(),
                mn: entry.mn.mn,
            }
        })
        .collect();
    Ok(render(&QuarantinePage {
        ctx: Ctx::new(&caller),
        all,
        entries,
    }))
}

// ---- device settings (province) -------------------------------------------------------------------

/// What each tolerance switch accepts, for the form.
fn deviation_label(deviation: Deviation, lang: Lang) -> &'static str {
    match deviation {
        Deviation::CrcModbus => lang.texts().crc_is_crc_16_modbus_high,
        Deviation::CrcModbusSwapped => lang.texts().crc_is_crc_16_modbus_byte,
        Deviation::OversizeSegment => lang.texts().data_segment_over_1024_characters,
        Deviation::BareLfTail => lang.texts().packet_ends_in_a_bare_lf,
        Deviation::MissingQn => lang.texts().no_qn_2005_style_upload,
        Deviation::MissingFlag => lang.texts().no_flag_read_as_hj_t,
        Deviation::HeaderKeyCase => lang.texts().header_key_in_the_wrong_case,
        Deviation::HeaderStraySeparator => lang.texts().stray_separators_in_the_header,
        _ => lang.texts().another_deviation,
    }
}

/// A device's receiver settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceSettingsJson {
    pub device_id: i64,
    pub mn: String,
    /// In service: packets of a device out of service are refused.
    pub enabled: bool,
    /// The deviations from HJ 212-2017 the device's packets may have (empty: strict).
    pub tolerance: Vec<String>,
    /// Every tolerance switch there is.
    pub available: Vec<String>,
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
}

/// A device's receiver settings as a client sends them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeviceSettingsInput {
    /// Names of the deviations to accept (see `available`); empty: strict.
    pub tolerance: Vec<String>,
    /// In service.
    pub enabled: Option<bool>,
}

fn parse_deviations(names: &[String]) -> Result<Deviations, AppError> {
    let mut set = Deviations::EMPTY;
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let deviation = Deviation::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                let allowed: Vec<&str> = Deviation::ALL.iter().map(|d| d.name()).collect();
                invalid("tolerance", name, &allowed.join("|"))
            })?;
        set.insert(deviation);
    }
    Ok(set)
}

async fn settings_json(
    state: &AppState,
    principal: &Principal,
    device_id: i64,
) -> Result<DeviceSettingsJson, AppError> {
    let device = visible_device(state, principal.scope(), device_id).await?;
    let settings = state
        .db()
        .device_settings(principal.scope(), device_id)
        .await?;
    Ok(DeviceSettingsJson {
        device_id,
        mn: device.mn,
        enabled: settings.enabled,
        tolerance: settings
            .tolerance
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
        available: Deviation::ALL
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
        updated_by: settings.updated_by,
        updated_at: settings.updated_at,
    })
}

async fn save_settings(
    state: &AppState,
    principal: &Principal,
    device_id: i64,
    tolerance: Deviations,
    enabled: bool,
) -> Result<(), AppError> {
    Ok(cpaudit_app::monitoring::save_device_settings(
        state.app(),
        principal,
        device_id,
        tolerance,
        enabled,
    )
    .await?)
}

/// A device's tolerance switches and whether it is in service (province only).
#[utoipa::path(get, path = "/api/v1/devices/{device}/settings", tag = "monitoring",
    params(("device" = i64, Path, description = "device id")),
    responses((status = 200, body = DeviceSettingsJson), (status = 404, body = ErrorBody)))]
pub async fn api_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<i64>,
) -> Result<Json<DeviceSettingsJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(settings_json(&state, principal, device).await?))
}

/// Sets a device's tolerance switches and whether it is in service (province only, audited);
/// the receiver applies them with its next directory refresh.
#[utoipa::path(put, path = "/api/v1/devices/{device}/settings", tag = "monitoring",
    params(("device" = i64, Path, description = "device id")), request_body = DeviceSettingsInput,
    responses((status = 200, body = DeviceSettingsJson), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn save_device_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<i64>,
    Shaped(input): Shaped<DeviceSettingsInput>,
) -> Result<Done<DeviceSettingsJson>, AppError> {
    let principal = caller.principal()?;
    let tolerance = parse_deviations(&input.tolerance)?;
    let enabled = input.enabled.ok_or_else(|| {
        AppError::bad_field(
            "enabled",
            "required",
            "请指定设备是否在用（enabled: true 或 false）",
            "enabled is required (true or false)",
        )
    })?;
    save_settings(&state, principal, device, tolerance, enabled).await?;
    let settings = settings_json(&state, principal, device).await?;
    Ok(Done::with(
        settings,
        format!("/monitoring/devices/{device}"),
    ))
}

/// The settings form: a checkbox per switch (`tolerance`, repeated) and `enabled`, which a
/// form leaves out when it is not ticked.
impl FromForm for DeviceSettingsInput {
    type Form = Vec<(String, String)>;

    fn from_form(fields: Self::Form) -> Result<Self, AppError> {
        let tolerance = fields
            .iter()
            .filter(|(key, _)| key == "tolerance")
            .map(|(_, value)| value.clone())
            .collect();
        let enabled = match fields.iter().find(|(key, _)| key == "enabled") {
            None => false,
            Some((_, value)) => crate::registry::parse_bool(value)
                .ok_or_else(|| invalid("enabled", value, "true|false"))?,
        };
        Ok(DeviceSettingsInput {
            tolerance,
            enabled: Some(enabled),
        })
    }
}

struct SwitchView {
    name: &'static str,
    label: &'static str,
    on: bool,
}

#[derive(Template)]
#[template(path = "monitoring_device.html")]
struct DevicePage {
    ctx: Ctx,
    device: DeviceView,
    city: String,
    online: bool,
    last_seen: String,
    last_data: String,
    switches: Vec<SwitchView>,
    enabled: bool,
    updated: String,
}

pub async fn device_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let device = visible_device(&state, principal.scope(), device_id).await?;
    let settings = state
        .db()
        .device_settings(principal.scope(), device_id)
        .await?;
    Ok(render(&DevicePage {
        ctx: Ctx::new(&caller),
        city: city_name(&state, &device.jurisdiction_code, lang),
        online: device.online,
        last_seen: device
            .last_seen_at
            .as_deref()
            .map(beijing_time)
            .unwrap_or_else(|| lang.texts().never.into()),
        last_data: device.last_data_time.map(time_text).unwrap_or_default(),
        switches: Deviation::ALL
            .into_iter()
            .map(|d| SwitchView {
                name: d.name(),
                label: deviation_label(d, lang),
                on: settings.tolerance.contains(d),
            })
            .collect(),
        enabled: settings.enabled,
        updated: match (&settings.updated_by, &settings.updated_at) {
            (Some(by), Some(at)) => format!("{by} · {}", beijing_time(at)),
            _ => lang
                .pick(
                    "未设置（严格按标准，在用）",
                    "never set (strict, in service)",
                )
                .into(),
        },
        device,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
    }

    #[test]
    fn ranges_default_to_the_days_up_to_today_and_refuse_what_is_wrong() {
        let range = parse_range(&None, &None, 7, 92, today()).unwrap();
        assert_eq!(
            (date_text(range.from), date_text(range.to)),
            ("2027-01-09".into(), "2027-01-15".into())
        );
        let some = |s: &str| Some(s.to_string());
        let error =
            parse_range(&some("2027-01-10"), &some("2027-01-09"), 7, 92, today()).unwrap_err();
        assert_eq!((error.code(), error.field()), ("bad_range", Some("from")));
        let error =
            parse_range(&some("2026-01-01"), &some("2027-01-01"), 7, 92, today()).unwrap_err();
        assert_eq!(
            (error.code(), error.field()),
            ("range_too_long", Some("to"))
        );
        let error = parse_range(&some("15/01/2027"), &None, 7, 92, today()).unwrap_err();
        assert_eq!(error.field(), Some("from"));
        assert!(parse_range(&some("2026-10-16"), &some("2027-01-15"), 7, 92, today()).is_ok());
    }

    #[test]
    fn factors_are_named_in_both_languages_and_unknown_ones_are_told_apart() {
        let limits = &EmissionLimits::embedded();
        assert_eq!(
            factor_label(limits, "a21026", Lang::Zh),
            "二氧化硫 (a21026)"
        );
        assert!(factor_label(limits, "a19001", Lang::En).starts_with("O2"));
        assert_eq!(factor_label(limits, "x99999", Lang::Zh), "x99999");
        assert!(known_factor(limits, "w01018") && !known_factor(limits, "a99999"));
        assert_eq!(factor_unit(limits, "a21026"), "mg/m3");
    }

    #[test]
    fn numbers_lose_trailing_zeros() {
        assert_eq!(number(200.0), "200");
        assert_eq!(number(12.3456), "12.346");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(-0.0001), "0");
    }

    #[test]
    fn the_chart_has_a_slot_per_hour_up_to_now() {
        let range = Range {
            from: today(),
            to: today(),
        };
        let now = today().and_hms_opt(9, 30, 0).unwrap();
        let point = |hour: u32, value: f64, status: &str| SeriesPoint {
            at: judgement::time_key(today().and_hms_opt(hour, 0, 0).unwrap()),
            status: Status::parse(status).unwrap(),
            reason: String::new(),
            basis: cpaudit_core::monitoring::Basis::Recomputed,
            value: (status == "valid").then_some(value),
            platform_value: Some(value),
            device_value: None,
            unit: "mg/m3".into(),
            limit_value: Some(200.0),
            limit_id: None,
            exceeded: status == "valid" && value > 200.0,
        };
        let points = vec![
            point(1, 100.0, "valid"),
            point(2, 300.0, "valid"),
            point(3, 0.0, "invalid"),
            point(4, 0.0, "missing"),
        ];
        let (chart, summary) =
            build_chart(&points, Interval::Hour, range, now, "mg/m3", "x".into());
        assert_eq!(chart.slots.len(), 10, "00:00 to 09:00");
        assert_eq!(
            (
                summary.valid,
                summary.exceeded,
                summary.invalid,
                summary.missing
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(summary.limit, Some(200.0));
        assert_eq!(
            chart.ticks,
            vec![(0, "01-15".to_string()), (6, "06:00".to_string())]
        );
    }

    #[test]
    fn the_default_pollutant_is_a_principal_one_the_device_measures() {
        let limits = &EmissionLimits::embedded();
        let codes = |list: &[&str]| list.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let limited = codes(&["a34013", "a21026", "a21002", "a20057"]);
        assert_eq!(
            default_factor(limits, &codes(&["a34013", "a21026"]), &limited).as_deref(),
            Some("a21026")
        );
        assert_eq!(
            default_factor(limits, &codes(&["a20057"]), &limited).as_deref(),
            Some("a20057")
        );
        assert_eq!(
            default_factor(limits, &[], &limited).as_deref(),
            Some("a34013")
        );
        assert_eq!(default_factor(limits, &[], &[]), None);
    }
}
