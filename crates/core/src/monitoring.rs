//! The judgement of online-monitoring data (HJ 212) against emission limits: hourly and daily
//! means, their validity, the reference-O₂ conversion, exceedance hours, events and days,
//! invalid and missing-data periods kept apart from them, daily loads for the yearly total, and
//! when exceedances make a candidate piece of 双超 evidence.
//!
//! Pure: the caller reads the stored packets (`monitoring_data`, one row per packet with the CP
//! data area as sent) and passes them in as [`Record`]s with the limits in force
//! ([`crate::emission_limits`]) and the rule book's thresholds ([`JudgementRules`]); no clock is
//! read. Every decision is documented in `docs/MONITORING.md` ("Judgement"):
//!
//! - **Valid data** is flagged `N` (and `T` only when `monitoring.over_range_is_valid`); any other
//!   flag, or none, makes a value invalid. Invalid values are never averaged and never exceed.
//! - **Air hours** (HJ 212-2017 D.2.2 formula 24): the arithmetic mean of the valid minute
//!   values; the hour is valid when they cover at least `monitoring.air_hour_valid_minutes` of its
//!   60 minutes, coverage being the count of valid values times the device's minute interval.
//!   Converted to the class's reference O₂ with formula 28, `C × (21 − O₂ref) / (21 − O₂)`, using
//!   the hour's valid mean O₂ (itself subject to the same coverage rule); an hour whose O₂ is at
//!   or above `monitoring.o2_invalid_at_percent` is invalid.
//! - **Which value judges**: the platform's recomputed value when the device sent minute data for
//!   the factor in that hour; otherwise the device's own hourly value (2061), `ZsAvg` as sent when
//!   the limit has a reference O₂ (else `Avg` converted with the device's hourly O₂). Both are kept.
//! - **Water** (D.1): hourly and daily means flow-weighted, `C = ΣG / ΣD`, with `G` the minute's
//!   `Cou` (or `Avg × D`) and `D` the wastewater flow's `Cou` (w00000); arithmetic when any valid
//!   value lacks a valid flow, and marked so. A water hour is valid with one valid value; a day
//!   with `monitoring.water_day_valid_hours` valid hours.
//! - **Units** are converted to the limit's unit before anything is compared (µg/L → mg/L).
//! - **Exceedance**: a valid mean strictly above the limit of its averaging period. Events are
//!   consecutive exceedance hours of one device and factor; a day is an exceedance day when its
//!   valid daily mean is above a daily limit or it has an exceedance hour.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::emission_limits::{AppliedLimit, Averaging, ConcentrationUnit, Medium};
use crate::evidence::EvidenceDraft;
use crate::rules::{RuleBook, RuleError, RuleRef};

/// HJ 212-2017 factor code of the flue gas's O₂ content (%), Table B.2.
pub const O2: &str = "a19001";
/// HJ 212-2017 factor code of the wastewater flow (`Cou` in m³), Table B.1.
pub const WATER_FLOW: &str = "w00000";
/// HJ 212-2017 factor code of the flue-gas flow, Table B.2.
pub const GAS_FLOW: &str = "a00000";
/// HJ 212-2017 factor code of the water temperature (°C), Table B.1.
pub const WATER_TEMPERATURE: &str = "w01010";

/// Command codes of the data kinds stored in `monitoring_data.kind`.
pub const KIND_REALTIME: i64 = 2011;
pub const KIND_MINUTE: i64 = 2051;
pub const KIND_HOUR: i64 = 2061;
pub const KIND_DAY: i64 = 2031;

/// The minute intervals HJ 2017 allows (`MinInterval`, minutes).
pub const MINUTE_INTERVALS: [u32; 11] = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];

// ---- time keys ----------------------------------------------------------------------------------

/// A time as stored: the digits `YYYYMMDDhhmmss` as an integer (China time, as devices send it).
pub fn time_key(at: NaiveDateTime) -> i64 {
    i64::from(at.year()) * 10_000_000_000
        + i64::from(at.month()) * 100_000_000
        + i64::from(at.day()) * 1_000_000
        + i64::from(at.hour()) * 10_000
        + i64::from(at.minute()) * 100
        + i64::from(at.second())
}

/// A day as stored: `YYYYMMDD`.
pub fn day_key(day: NaiveDate) -> i64 {
    i64::from(day.year()) * 10_000 + i64::from(day.month()) * 100 + i64::from(day.day())
}

/// Reads a stored time key (`YYYYMMDDhhmmss`).
pub fn parse_time_key(key: i64) -> Option<NaiveDateTime> {
    let day = NaiveDate::from_ymd_opt(
        i32::try_from(key / 10_000_000_000).ok()?,
        u32::try_from(key / 100_000_000 % 100).ok()?,
        u32::try_from(key / 1_000_000 % 100).ok()?,
    )?;
    let time = NaiveTime::from_hms_opt(
        u32::try_from(key / 10_000 % 100).ok()?,
        u32::try_from(key / 100 % 100).ok()?,
        u32::try_from(key % 100).ok()?,
    )?;
    Some(day.and_time(time))
}

/// Reads a stored day key (`YYYYMMDD`).
pub fn parse_day_key(key: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::try_from(key / 10_000).ok()?,
        u32::try_from(key / 100 % 100).ok()?,
        u32::try_from(key % 100).ok()?,
    )
}

/// The start of the hour a time falls in.
pub fn hour_of(at: NaiveDateTime) -> NaiveDateTime {
    at.date()
        .and_hms_opt(at.hour(), 0, 0)
        .expect("the start of an hour exists")
}

// ---- readings -----------------------------------------------------------------------------------

/// The values one packet carries for one factor, as sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Reading {
    pub code: String,
    pub rtd: Option<f64>,
    pub avg: Option<f64>,
    pub zs_avg: Option<f64>,
    pub cou: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The data flag as sent (`N`, `C`, …); `None` when the packet has none for the factor.
    pub flag: Option<String>,
}

/// One stored packet: its data time and its readings by factor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// `DataTime`: the start of the interval (minute, hour, day) or the sampling instant.
    pub start: NaiveDateTime,
    pub readings: Vec<Reading>,
}

impl Record {
    /// Reads a stored row: the data time key and the data area as sent. A data area the codec
    /// cannot read gives no readings (the receiver stored only what it could parse).
    pub fn from_stored(data_time: i64, cp: &str) -> Option<Record> {
        Some(Record {
            start: parse_time_key(data_time)?,
            readings: readings(cp),
        })
    }

    pub fn get(&self, code: &str) -> Option<&Reading> {
        self.readings.iter().find(|reading| reading.code == code)
    }
}

/// The per-factor values of a data area (`CP=&&…&&` without the delimiters), in order of first
/// appearance. Unknown suffixes are ignored; unknown factor codes are kept.
pub fn readings(cp: &str) -> Vec<Reading> {
    use cpaudit_hj212::{Cp, ItemKind, Suffix};
    let Ok(cp) = Cp::parse(cp) else {
        return Vec::new();
    };
    let mut out: Vec<Reading> = Vec::new();
    for item in cp.items() {
        let ItemKind::Factor { code, suffix } = item.kind() else {
            continue;
        };
        let index = match out.iter().position(|reading| reading.code == code) {
            Some(index) => index,
            None => {
                out.push(Reading {
                    code: code.to_string(),
                    ..Reading::default()
                });
                out.len() - 1
            }
        };
        let reading = &mut out[index];
        match suffix {
            Suffix::Rtd => reading.rtd = item.as_f64(),
            Suffix::Avg => reading.avg = item.as_f64(),
            Suffix::ZsAvg => reading.zs_avg = item.as_f64(),
            Suffix::Cou => reading.cou = item.as_f64(),
            Suffix::Min => reading.min = item.as_f64(),
            Suffix::Max => reading.max = item.as_f64(),
            Suffix::Flag => reading.flag = Some(item.value.to_string()),
            _ => {}
        }
    }
    out
}

// ---- rules --------------------------------------------------------------------------------------

/// Over which period exceedances are counted for a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidatePeriod {
    CalendarMonth,
    CalendarQuarter,
    CalendarYear,
}

/// One counting period: its key as stored ("2026-12", "2026-Q4", "2026") and its days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub key: String,
    pub first_day: NaiveDate,
    /// The first day after the period.
    pub end: NaiveDate,
}

impl CandidatePeriod {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "calendar_month" => Some(Self::CalendarMonth),
            "calendar_quarter" => Some(Self::CalendarQuarter),
            "calendar_year" => Some(Self::CalendarYear),
            _ => None,
        }
    }

    /// The period a day falls in.
    pub fn containing(self, day: NaiveDate) -> Period {
        let year = day.year();
        let (first_month, months, key) = match self {
            Self::CalendarMonth => (day.month(), 1, format!("{year}-{:02}", day.month())),
            Self::CalendarQuarter => {
                let quarter = (day.month() - 1) / 3;
                (quarter * 3 + 1, 3, format!("{year}-Q{}", quarter + 1))
            }
            Self::CalendarYear => (1, 12, year.to_string()),
        };
        let first_day = NaiveDate::from_ymd_opt(year, first_month, 1).expect("first of a month");
        let end = first_day
            .checked_add_months(chrono::Months::new(months))
            .expect("within the calendar");
        Period {
            key,
            first_day,
            end,
        }
    }
}

/// A year as a counting period (total load).
pub fn year_period(year: i32) -> Period {
    CandidatePeriod::CalendarYear
        .containing(NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January exists"))
}

/// The rule book's thresholds in force on the day of the data judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgementRules {
    pub air_hour_valid_minutes: u32,
    pub air_day_valid_hours: u32,
    pub water_day_valid_hours: u32,
    pub o2_invalid_at_percent: f64,
    pub over_range_is_valid: bool,
    pub candidate_period: CandidatePeriod,
    pub min_exceedance_hours: u32,
    pub min_exceedance_days: u32,
    /// Version of the rule book the values came from.
    pub book_version: String,
    /// What a result records about the values used.
    pub refs: Vec<RuleRef>,
}

impl JudgementRules {
    /// The thresholds in force on `on`.
    pub fn from_book(book: &RuleBook, on: NaiveDate) -> Result<Self, RuleError> {
        let mut refs = Vec::new();
        let mut count = |id: &str| -> Result<u32, RuleError> {
            let (value, rule) = book.integer_at(id, on)?;
            refs.push(rule);
            Ok(u32::try_from(value.max(0)).unwrap_or(u32::MAX))
        };
        let air_hour_valid_minutes = count("monitoring.air_hour_valid_minutes")?;
        let air_day_valid_hours = count("monitoring.air_day_valid_hours")?;
        let water_day_valid_hours = count("monitoring.water_day_valid_hours")?;
        let o2_invalid_at_percent = f64::from(count("monitoring.o2_invalid_at_percent")?);
        let min_exceedance_hours = count("monitoring.candidate.min_exceedance_hours")?;
        let min_exceedance_days = count("monitoring.candidate.min_exceedance_days")?;
        let (over_range_is_valid, rule) = book.bool_at("monitoring.over_range_is_valid", on)?;
        refs.push(rule);
        let (period, rule) = book.text_at("monitoring.candidate.period", on)?;
        refs.push(rule);
        let candidate_period =
            CandidatePeriod::parse(&period).ok_or_else(|| RuleError::WrongType {
                id: "monitoring.candidate.period".into(),
                expected: "calendar_month, calendar_quarter or calendar_year",
                found: crate::rules::Unit::Text,
            })?;
        Ok(Self {
            air_hour_valid_minutes,
            air_day_valid_hours,
            water_day_valid_hours,
            o2_invalid_at_percent,
            over_range_is_valid,
            candidate_period,
            min_exceedance_hours: min_exceedance_hours.max(1),
            min_exceedance_days: min_exceedance_days.max(1),
            book_version: book.version.clone(),
            refs,
        })
    }

    /// Whether a value with this flag is valid data.
    fn flag_is_valid(&self, flag: Option<&str>) -> bool {
        matches!(flag, Some("N")) || (self.over_range_is_valid && flag == Some("T"))
    }
}

// ---- results ------------------------------------------------------------------------------------

/// Whether a mean is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    /// Data arrived but is not valid (flags, coverage, O₂).
    Invalid,
    /// No data for the factor.
    Missing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Missing => "missing",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "valid" => Some(Self::Valid),
            "invalid" => Some(Self::Invalid),
            "missing" => Some(Self::Missing),
            _ => None,
        }
    }
}

/// Which value a mean's judgement rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Recomputed by the platform from the device's minute (or hourly) data.
    Recomputed,
    /// The device's own hourly or daily value, as sent.
    Device,
    /// Nothing to judge.
    None,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recomputed => "recomputed",
            Self::Device => "device",
            Self::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "recomputed" => Some(Self::Recomputed),
            "device" => Some(Self::Device),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// Why a mean is invalid or missing: kept apart from exceedances, never counted as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapReason {
    /// The device sent nothing for the period.
    NoData,
    /// The device sent data, but nothing for this factor.
    Absent,
    /// Values flagged other than N (F, M, S, D, C, B, P, unknown, or no flag).
    Flagged,
    /// Values flagged T (above the instrument's range) while T does not count as valid.
    OverRange,
    /// Valid values, but too few (below the coverage or hour count the rules require).
    Insufficient,
    /// The reference-O₂ conversion needs an O₂ value the hour does not validly have.
    O2Invalid,
    /// Measured O₂ at or above the conversion threshold.
    O2NearAmbient,
    /// The device's unit for the factor cannot be converted to the limit's.
    Unit,
}

impl GapReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoData => "no_data",
            Self::Absent => "absent",
            Self::Flagged => "flagged",
            Self::OverRange => "over_range",
            Self::Insufficient => "insufficient",
            Self::O2Invalid => "o2_invalid",
            Self::O2NearAmbient => "o2_near_ambient",
            Self::Unit => "unit",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::NoData,
            Self::Absent,
            Self::Flagged,
            Self::OverRange,
            Self::Insufficient,
            Self::O2Invalid,
            Self::O2NearAmbient,
            Self::Unit,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == text)
    }

    /// The status a period with this reason has.
    pub fn status(self) -> Status {
        match self {
            Self::NoData | Self::Absent => Status::Missing,
            _ => Status::Invalid,
        }
    }
}

/// One hour of one factor of one device: what the platform computed beside what the device
/// sent, and the judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourResult {
    pub factor: String,
    pub hour: NaiveDateTime,
    pub status: Status,
    pub reason: Option<GapReason>,
    /// E.g. "30 min < 45", "C×12", "O2 20.1 ≥ 19".
    pub detail: String,
    pub basis: Basis,
    /// Valid values used.
    pub valid_count: u32,
    /// Minutes the valid values cover (count × minute interval, at most 60).
    pub valid_minutes: u32,
    /// Count of minute values by flag, e.g. "C:12,N:48".
    pub flags: String,
    /// The platform's mean (before O₂ conversion), in `unit`.
    pub mean: Option<f64>,
    /// The hour's mean O₂ used for the conversion (%).
    pub o2: Option<f64>,
    /// The platform's value as judged (converted to the reference O₂ where the limit has one).
    pub platform_value: Option<f64>,
    /// The device's hourly values as sent (2061), in the device's unit.
    pub device_avg: Option<f64>,
    pub device_zs_avg: Option<f64>,
    pub device_flag: Option<String>,
    /// The device's hourly value on the judged basis and in `unit` (ZsAvg, or Avg converted).
    pub device_value: Option<f64>,
    /// The value judged (valid hours only).
    pub value: Option<f64>,
    /// Unit of `mean`, `platform_value`, `device_value` and `value`: the limit's, else the
    /// device's; empty when unknown (flows, O₂).
    pub unit: String,
    /// Water: the flow of the hour's valid values (m³) and the flow-weighted sum Σ(C·D) in
    /// `unit`·m³; `None` when the mean is arithmetic.
    pub weight_sum: Option<f64>,
    pub weighted_sum: Option<f64>,
    /// Emitted mass of the hour's valid data, kg.
    pub load_kg: Option<f64>,
    pub limit_value: Option<f64>,
    pub limit_id: Option<String>,
    pub exceeded: bool,
}

/// What a device was told to judge for an hour: the limits by factor and the units its values
/// come in.
#[derive(Debug, Clone, Default)]
pub struct HourContext {
    pub medium: Option<Medium>,
    /// The limit in force for each factor that has one (any averaging).
    pub limits: BTreeMap<String, AppliedLimit>,
    /// The unit the device sends each factor's concentration in.
    pub units: BTreeMap<String, ConcentrationUnit>,
}

/// The packets of one device for one hour.
#[derive(Debug, Clone, Copy)]
pub struct HourInput<'a> {
    pub hour: NaiveDateTime,
    /// Minute packets (2051) whose data time falls in the hour.
    pub minutes: &'a [&'a Record],
    /// The device's minute interval (minutes).
    pub minute_interval: u32,
    /// The device's hourly packet (2061), when it sent one.
    pub device_hour: Option<&'a Record>,
}

/// Valid values of one factor over a set of minute records.
#[derive(Debug, Default)]
struct Gathered {
    values: Vec<f64>,
    /// (concentration in the device's unit, flow m³, amount Cou) of valid values, water only.
    flows: Vec<(f64, Option<f64>, Option<f64>)>,
    cou: Vec<f64>,
    flags: BTreeMap<String, u32>,
    present: bool,
}

fn gather(records: &[&Record], factor: &str, rules: &JudgementRules, water: bool) -> Gathered {
    let mut out = Gathered::default();
    for record in records {
        let Some(reading) = record.get(factor) else {
            continue;
        };
        out.present = true;
        let flag = reading.flag.as_deref();
        *out.flags
            .entry(flag.unwrap_or("-").to_string())
            .or_default() += 1;
        let Some(avg) = reading.avg.or(reading.rtd) else {
            continue;
        };
        if !rules.flag_is_valid(flag) {
            continue;
        }
        out.values.push(avg);
        if let Some(cou) = reading.cou {
            out.cou.push(cou);
        }
        if water {
            let flow = record
                .get(WATER_FLOW)
                .filter(|flow| rules.flag_is_valid(flow.flag.as_deref()))
                .and_then(|flow| flow.cou);
            out.flows.push((avg, flow, reading.cou));
        }
    }
    out
}

fn flags_text(flags: &BTreeMap<String, u32>) -> String {
    flags
        .iter()
        .map(|(flag, count)| format!("{flag}:{count}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Why valid values fell short: T values first (they need attention), then other flags.
fn shortfall_reason(flags: &BTreeMap<String, u32>, rules: &JudgementRules) -> GapReason {
    let invalid = |flag: &str| flag != "N" && !(rules.over_range_is_valid && flag == "T");
    if !rules.over_range_is_valid && flags.contains_key("T") {
        GapReason::OverRange
    } else if flags.keys().any(|flag| invalid(flag)) {
        GapReason::Flagged
    } else {
        GapReason::Insufficient
    }
}

fn invalid_flags(flags: &BTreeMap<String, u32>) -> String {
    flags
        .iter()
        .filter(|(flag, _)| flag.as_str() != "N")
        .map(|(flag, count)| format!("{flag}×{count}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Formula 28 of HJ 212-2017 D.2.3: `C × (21 − O₂ref) / (21 − O₂)`.
pub fn convert_to_reference_o2(concentration: f64, o2: f64, reference_o2: f64) -> f64 {
    concentration * (21.0 - reference_o2) / (21.0 - o2)
}

/// The hour's valid mean O₂ under the air coverage rule, or why there is none.
fn o2_of_hour(input: &HourInput<'_>, rules: &JudgementRules) -> Result<f64, (GapReason, String)> {
    let gathered = gather(input.minutes, O2, rules, false);
    if !gathered.present {
        return Err((GapReason::O2Invalid, "no O2 data".into()));
    }
    let minutes = covered_minutes(gathered.values.len(), input.minute_interval);
    if minutes < rules.air_hour_valid_minutes {
        return Err((
            GapReason::O2Invalid,
            format!("O2 {minutes} min < {}", rules.air_hour_valid_minutes),
        ));
    }
    Ok(mean(&gathered.values).expect("at least one value"))
}

fn covered_minutes(count: usize, interval: u32) -> u32 {
    u32::try_from(count)
        .unwrap_or(u32::MAX)
        .saturating_mul(interval.max(1))
        .min(60)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The factors an hour judges: those the device sent (with a number) and those with a limit.
fn hour_factors(input: &HourInput<'_>, context: &HourContext) -> BTreeSet<String> {
    let mut factors: BTreeSet<String> = context.limits.keys().cloned().collect();
    let records = input.minutes.iter().copied().chain(input.device_hour);
    for record in records {
        for reading in &record.readings {
            if reading.avg.is_some() || reading.rtd.is_some() || reading.zs_avg.is_some() {
                factors.insert(reading.code.clone());
            }
        }
    }
    factors
}

/// Judges one hour of one device: one result per factor it sent or has a limit for.
pub fn judge_hour(
    input: &HourInput<'_>,
    context: &HourContext,
    rules: &JudgementRules,
) -> Vec<HourResult> {
    hour_factors(input, context)
        .into_iter()
        .map(|factor| judge_factor_hour(input, context, rules, &factor))
        .collect()
}

fn judge_factor_hour(
    input: &HourInput<'_>,
    context: &HourContext,
    rules: &JudgementRules,
    factor: &str,
) -> HourResult {
    let water = context.medium == Some(Medium::Water);
    let limit = context.limits.get(factor);
    let device_unit = context.units.get(factor).copied();
    // The unit results are in, and the factor that takes a device value there.
    let (unit, scale) = match (limit, device_unit) {
        (Some(limit), Some(device)) => (Some(limit.unit), device.factor_to(limit.unit)),
        (Some(limit), None) => (Some(limit.unit), Some(1.0)),
        (None, Some(device)) => (Some(device), Some(1.0)),
        (None, None) => (None, Some(1.0)),
    };
    let amount_kg = device_unit.or(unit).map(ConcentrationUnit::amount_kg);
    let reference_o2 = limit.and_then(|limit| limit.reference_o2);
    let mut result = HourResult {
        factor: factor.to_string(),
        hour: input.hour,
        status: Status::Missing,
        reason: None,
        detail: String::new(),
        basis: Basis::None,
        valid_count: 0,
        valid_minutes: 0,
        flags: String::new(),
        mean: None,
        o2: None,
        platform_value: None,
        device_avg: None,
        device_zs_avg: None,
        device_flag: None,
        device_value: None,
        value: None,
        unit: unit.map(|u| u.as_str().to_string()).unwrap_or_default(),
        weight_sum: None,
        weighted_sum: None,
        load_kg: None,
        limit_value: limit.map(|limit| limit.value),
        limit_id: limit.map(|limit| limit.id.clone()),
        exceeded: false,
    };
    let device_reading = input.device_hour.and_then(|record| record.get(factor));
    if let Some(reading) = device_reading {
        result.device_avg = reading.avg;
        result.device_zs_avg = reading.zs_avg;
        result.device_flag = reading.flag.clone();
        result.device_value = device_value(input, reading, reference_o2, scale, rules);
    }
    let Some(scale) = scale else {
        result.status = Status::Invalid;
        result.reason = Some(GapReason::Unit);
        result.detail = format!(
            "device unit {} cannot be converted to {}",
            device_unit.map_or("?", ConcentrationUnit::as_str),
            unit.map_or("?", ConcentrationUnit::as_str)
        );
        return result;
    };
    let gathered = gather(input.minutes, factor, rules, water);
    if gathered.present {
        result.basis = Basis::Recomputed;
        result.flags = flags_text(&gathered.flags);
        result.valid_count = u32::try_from(gathered.values.len()).unwrap_or(u32::MAX);
        result.valid_minutes = covered_minutes(gathered.values.len(), input.minute_interval);
        result.load_kg = amount_kg.and_then(|kg| {
            (!gathered.cou.is_empty()).then(|| gathered.cou.iter().sum::<f64>() * kg)
        });
        let enough = if water {
            result.valid_count >= 1
        } else {
            result.valid_minutes >= rules.air_hour_valid_minutes
        };
        if !enough {
            result.status = Status::Invalid;
            let reason = shortfall_reason(&gathered.flags, rules);
            result.reason = Some(reason);
            result.detail = match reason {
                GapReason::Insufficient => format!(
                    "{} min < {}",
                    result.valid_minutes, rules.air_hour_valid_minutes
                ),
                _ => format!(
                    "{}; {} min valid",
                    invalid_flags(&gathered.flags),
                    result.valid_minutes
                ),
            };
            return result;
        }
        if water {
            water_mean(&mut result, &gathered, scale);
        } else {
            result.mean = mean(&gathered.values).map(|m| m * scale);
        }
        let Some(mean) = result.mean else {
            result.status = Status::Invalid;
            result.reason = Some(GapReason::Insufficient);
            return result;
        };
        match reference_o2.filter(|_| !water) {
            None => result.platform_value = Some(mean),
            Some(reference) => match o2_of_hour(input, rules) {
                Err((reason, detail)) => {
                    result.status = Status::Invalid;
                    result.reason = Some(reason);
                    result.detail = detail;
                    return result;
                }
                Ok(o2) => {
                    result.o2 = Some(o2);
                    if o2 >= rules.o2_invalid_at_percent {
                        result.status = Status::Invalid;
                        result.reason = Some(GapReason::O2NearAmbient);
                        result.detail = format!("O2 {o2:.1} ≥ {}", rules.o2_invalid_at_percent);
                        return result;
                    }
                    result.platform_value = Some(convert_to_reference_o2(mean, o2, reference));
                }
            },
        }
        result.status = Status::Valid;
        result.value = result.platform_value;
    } else if let Some(reading) = device_reading {
        result.basis = Basis::Device;
        result.flags = format!("{}:1", reading.flag.as_deref().unwrap_or("-"));
        let flag_ok = rules.flag_is_valid(reading.flag.as_deref());
        if flag_ok {
            result.load_kg = amount_kg.and_then(|kg| reading.cou.map(|cou| cou * kg));
        }
        match (flag_ok, result.device_value) {
            (true, Some(value)) => {
                result.status = Status::Valid;
                result.valid_count = 1;
                result.valid_minutes = 60;
                result.value = Some(value);
                if water {
                    if let Some(flow) = input
                        .device_hour
                        .and_then(|record| record.get(WATER_FLOW))
                        .filter(|flow| rules.flag_is_valid(flow.flag.as_deref()))
                        .and_then(|flow| flow.cou)
                    {
                        result.weight_sum = Some(flow);
                        result.weighted_sum = Some(value * flow);
                    }
                }
            }
            (true, None) => {
                result.status = Status::Invalid;
                result.reason = Some(GapReason::O2Invalid);
                result.detail = "the device's hourly value cannot be converted".into();
            }
            (false, _) => {
                result.status = Status::Invalid;
                let mut flags = BTreeMap::new();
                flags.insert(reading.flag.clone().unwrap_or_else(|| "-".into()), 1);
                result.reason = Some(shortfall_reason(&flags, rules));
                result.detail = format!(
                    "device hourly flag {}",
                    reading.flag.as_deref().unwrap_or("-")
                );
            }
        }
    } else {
        result.reason = Some(if input.minutes.is_empty() && input.device_hour.is_none() {
            GapReason::NoData
        } else {
            GapReason::Absent
        });
    }
    if result.status == Status::Valid {
        if let (Some(limit), Some(value)) = (limit, result.value) {
            result.exceeded = limit.averaging == Averaging::Hour && value > limit.value;
        }
    }
    result
}

/// The flow-weighted mean of a water hour, `C = ΣG/ΣD`, or the arithmetic mean when a valid
/// value lacks a valid flow.
fn water_mean(result: &mut HourResult, gathered: &Gathered, scale: f64) {
    let weighted = !gathered.flows.is_empty()
        && gathered
            .flows
            .iter()
            .all(|(_, flow, _)| flow.is_some_and(|flow| flow > 0.0));
    if weighted {
        let mut weight = 0.0;
        let mut sum = 0.0;
        for (avg, flow, cou) in &gathered.flows {
            let flow = flow.unwrap_or_default();
            // G in the amount unit of the device's concentration unit (kg for mg/L); C·D in
            // (concentration unit)·m³ is G × 10³.
            let g = cou.unwrap_or(avg * flow * 1e-3);
            weight += flow;
            sum += g * 1e3 * scale;
        }
        result.weight_sum = Some(weight);
        result.weighted_sum = Some(sum);
        result.mean = Some(sum / weight);
    } else {
        result.mean = mean(&gathered.values).map(|m| m * scale);
    }
}

/// The device's hourly value on the judged basis: `ZsAvg` as sent where the limit has a
/// reference O₂ (else `Avg` converted with the device's own hourly O₂), `Avg` otherwise.
fn device_value(
    input: &HourInput<'_>,
    reading: &Reading,
    reference_o2: Option<f64>,
    scale: Option<f64>,
    rules: &JudgementRules,
) -> Option<f64> {
    let scale = scale?;
    match reference_o2 {
        None => reading.avg.map(|avg| avg * scale),
        Some(reference) => {
            if let Some(zs) = reading.zs_avg {
                return Some(zs * scale);
            }
            let o2 = input
                .device_hour
                .and_then(|record| record.get(O2))
                .filter(|o2| rules.flag_is_valid(o2.flag.as_deref()))
                .and_then(|o2| o2.avg)
                .filter(|o2| *o2 < rules.o2_invalid_at_percent)?;
            reading
                .avg
                .map(|avg| convert_to_reference_o2(avg * scale, o2, reference))
        }
    }
}

/// The device's minute interval, from the data times of its minute packets: the smallest gap
/// between two of them, rounded down to an interval HJ 212 allows. `None` with fewer than two
/// packets. Rounding down never makes an hour valid that the true interval would not.
pub fn minute_interval(starts: &[NaiveDateTime]) -> Option<u32> {
    let mut sorted: Vec<NaiveDateTime> = starts.to_vec();
    sorted.sort();
    sorted.dedup();
    let gap = sorted
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).num_minutes())
        .filter(|minutes| *minutes > 0)
        .min()?;
    let gap = u32::try_from(gap).unwrap_or(u32::MAX);
    MINUTE_INTERVALS
        .iter()
        .rev()
        .find(|interval| **interval <= gap)
        .copied()
}

// ---- days ---------------------------------------------------------------------------------------

/// How a daily mean was averaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// Air: the arithmetic mean of the valid hourly values (D.2.2 formula 25).
    Hourly,
    /// Water: flow-weighted, `C = ΣG/ΣD` (D.1.2.3).
    Flow,
    /// Water without flow data: arithmetic mean of the valid hourly means (D.1.3), marked.
    Arithmetic,
    /// The device's daily value (2031) as sent.
    Device,
}

impl Weighting {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hourly => "hourly",
            Self::Flow => "flow",
            Self::Arithmetic => "arithmetic",
            Self::Device => "device",
        }
    }
}

/// One day of one factor of one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayResult {
    pub factor: String,
    pub day: NaiveDate,
    pub status: Status,
    pub reason: Option<GapReason>,
    pub basis: Basis,
    pub valid_hours: u32,
    pub weighting: Option<Weighting>,
    pub value: Option<f64>,
    /// The device's daily value (2031) as sent.
    pub device_value: Option<f64>,
    pub unit: String,
    pub load_kg: Option<f64>,
    pub limit_value: Option<f64>,
    pub limit_id: Option<String>,
    /// Hours of the day above an hourly limit.
    pub exceedance_hours: u32,
    /// The valid daily mean is above a daily limit.
    pub mean_exceeded: bool,
    /// An exceedance day: the daily mean exceeded, or the day has an exceedance hour.
    pub exceeded: bool,
}

/// Judges a day of one factor from its hours (all stored hours of the day for the factor), the
/// device's daily packet and the limit in force (any averaging; a daily limit judges the mean).
pub fn judge_day(
    medium: Option<Medium>,
    factor: &str,
    day: NaiveDate,
    hours: &[HourResult],
    device_day: Option<&Reading>,
    limit: Option<&AppliedLimit>,
    rules: &JudgementRules,
) -> DayResult {
    let valid: Vec<&HourResult> = hours.iter().filter(|h| h.status == Status::Valid).collect();
    let valid_hours = u32::try_from(valid.len()).unwrap_or(u32::MAX);
    let water = medium == Some(Medium::Water);
    let needed = if water {
        rules.water_day_valid_hours
    } else {
        rules.air_day_valid_hours
    };
    let loads: Vec<f64> = hours.iter().filter_map(|h| h.load_kg).collect();
    let unit = hours
        .iter()
        .map(|h| h.unit.clone())
        .find(|u| !u.is_empty())
        .or_else(|| limit.map(|l| l.unit.as_str().to_string()))
        .unwrap_or_default();
    let mut result = DayResult {
        factor: factor.to_string(),
        day,
        status: Status::Missing,
        reason: None,
        basis: Basis::None,
        valid_hours,
        weighting: None,
        value: None,
        device_value: device_day.and_then(|reading| reading.avg),
        unit,
        load_kg: (!loads.is_empty()).then(|| loads.iter().sum()),
        limit_value: limit.map(|l| l.value),
        limit_id: limit.map(|l| l.id.clone()),
        exceedance_hours: u32::try_from(hours.iter().filter(|h| h.exceeded).count())
            .unwrap_or(u32::MAX),
        mean_exceeded: false,
        exceeded: false,
    };
    if valid_hours >= needed.max(1) {
        result.status = Status::Valid;
        result.basis = if valid.iter().all(|h| h.basis == Basis::Device) {
            Basis::Device
        } else {
            Basis::Recomputed
        };
        let weighted = water
            && valid
                .iter()
                .all(|h| h.weight_sum.is_some_and(|w| w > 0.0) && h.weighted_sum.is_some());
        if weighted {
            let weight: f64 = valid.iter().filter_map(|h| h.weight_sum).sum();
            let sum: f64 = valid.iter().filter_map(|h| h.weighted_sum).sum();
            result.value = Some(sum / weight);
            result.weighting = Some(Weighting::Flow);
        } else {
            let values: Vec<f64> = valid.iter().filter_map(|h| h.value).collect();
            result.value = mean(&values);
            result.weighting = Some(if water {
                Weighting::Arithmetic
            } else {
                Weighting::Hourly
            });
        }
    } else if let Some(reading) =
        device_day.filter(|_| valid.is_empty() && hours.iter().all(|h| h.basis == Basis::None))
    {
        // No hourly data at all: the device's daily value, when valid, is what there is.
        result.basis = Basis::Device;
        if rules.flag_is_valid(reading.flag.as_deref()) && reading.avg.is_some() {
            result.status = Status::Valid;
            result.value = reading.avg;
            result.weighting = Some(Weighting::Device);
        } else {
            result.status = Status::Invalid;
            result.reason = Some(GapReason::Flagged);
        }
    } else {
        let any_data = hours.iter().any(|h| h.basis != Basis::None);
        result.status = if any_data {
            Status::Invalid
        } else {
            Status::Missing
        };
        result.reason = Some(if any_data {
            GapReason::Insufficient
        } else {
            GapReason::NoData
        });
    }
    if let (Status::Valid, Some(limit), Some(value)) = (result.status, limit, result.value) {
        result.mean_exceeded = limit.averaging == Averaging::Day && value > limit.value;
    }
    result.exceeded = result.mean_exceeded || result.exceedance_hours > 0;
    result
}

// ---- events and gaps ----------------------------------------------------------------------------

/// A run of consecutive hours: first and last hour (inclusive) and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub first: NaiveDateTime,
    pub last: NaiveDateTime,
    pub hours: u32,
}

/// Groups hours (each the start of an hour) into runs of consecutive hours.
pub fn runs(hours: &[NaiveDateTime]) -> Vec<Run> {
    let mut sorted = hours.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out: Vec<Run> = Vec::new();
    for hour in sorted {
        match out.last_mut() {
            Some(run) if run.last + Duration::hours(1) == hour => {
                run.last = hour;
                run.hours += 1;
            }
            _ => out.push(Run {
                first: hour,
                last: hour,
                hours: 1,
            }),
        }
    }
    out
}

// ---- candidates ---------------------------------------------------------------------------------

/// One exceedance behind a candidate: an hour (hourly limit) or a day (daily limit) of one
/// outlet, with the value and the limit it exceeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TallyEntry {
    /// The hour's start, or the day's midnight for a daily mean.
    pub at: NaiveDateTime,
    pub averaging: Averaging,
    pub outlet: String,
    pub device: String,
    pub value: f64,
    pub limit: f64,
    pub unit: String,
    /// Code of the standard as printed, e.g. "GB 13223-2011".
    pub standard: String,
    pub limit_id: String,
}

/// The exceedances of one enterprise and factor within one counting period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceedanceTally {
    pub factor: String,
    pub period: Period,
    pub entries: Vec<TallyEntry>,
}

impl ExceedanceTally {
    /// Exceedance hours (valid hourly means above an hourly limit).
    pub fn hours(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.averaging == Averaging::Hour)
            .count()
    }

    /// Exceedance days (valid daily means above a daily limit).
    pub fn days(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.averaging == Averaging::Day)
            .count()
    }

    /// Whether the tally makes a candidate under the rules.
    pub fn makes_candidate(&self, rules: &JudgementRules) -> bool {
        u32::try_from(self.hours()).unwrap_or(u32::MAX) >= rules.min_exceedance_hours
            || u32::try_from(self.days()).unwrap_or(u32::MAX) >= rules.min_exceedance_days
    }

    /// The last day with an exceedance: the day the evidence is observed on.
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.entries.iter().map(|e| e.at.date()).max()
    }

    /// The exceedance with the highest value relative to its limit.
    pub fn worst(&self) -> Option<&TallyEntry> {
        self.entries
            .iter()
            .max_by(|a, b| (a.value / a.limit).total_cmp(&(b.value / b.limit)))
    }
}

/// The evidence a concentration candidate is recorded as, validated by the evidence code like
/// any other: the worst exceedance against the limit it exceeded. `None` for an empty tally.
pub fn concentration_evidence(tally: &ExceedanceTally, factor_name: &str) -> Option<EvidenceDraft> {
    let worst = tally.worst()?;
    let mut counted = Vec::new();
    if tally.hours() > 0 {
        counted.push(format!("超标 {} 小时", tally.hours()));
    }
    if tally.days() > 0 {
        counted.push(format!("超标 {} 日", tally.days()));
    }
    Some(EvidenceDraft {
        kind: "concentration_exceedance".into(),
        observed_on: tally
            .last_day()
            .map(|day| day.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        source: "online_monitoring".into(),
        document_ref: format!(
            "在线监测 {} {factor_name}（{}）{}",
            tally.period.key,
            tally.factor,
            counted.join("、")
        ),
        substance: format!("{factor_name}（{}）", tally.factor),
        amount: worst.value.to_string(),
        limit: worst.limit.to_string(),
        unit: worst.unit.clone(),
        standard: worst.standard.clone(),
        ..EvidenceDraft::default()
    })
}

/// The evidence a total-load candidate is recorded as: the year's load (t) against the permit's.
pub fn total_load_evidence(
    factor: &str,
    factor_name: &str,
    year: i32,
    load_tonnes: f64,
    limit_tonnes: f64,
    permit_ref: &str,
    observed_on: NaiveDate,
) -> EvidenceDraft {
    EvidenceDraft {
        kind: "total_load_exceedance".into(),
        observed_on: observed_on.format("%Y-%m-%d").to_string(),
        source: "online_monitoring".into(),
        document_ref: format!("在线监测 {year} 年 {factor_name}（{factor}）累计排放量"),
        substance: format!("{factor_name}（{factor}）"),
        amount: load_tonnes.to_string(),
        limit: limit_tonnes.to_string(),
        unit: "t/a".into(),
        standard: permit_ref.to_string(),
        ..EvidenceDraft::default()
    }
}

// ---- permit load limits -------------------------------------------------------------------------

/// A yearly load limit of a discharge permit (许可排放量) as a form or the API sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadLimitDraft {
    /// HJ 212 factor code, e.g. "a21026".
    pub factor: String,
    /// Calendar year, e.g. "2026".
    pub year: String,
    /// Tonnes per year.
    pub limit_tonnes: String,
    /// The permit, e.g. "排污许可证 91620100…001P".
    pub permit_ref: String,
}

/// A checked yearly load limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadLimit {
    pub factor: String,
    pub year: i32,
    pub limit_tonnes: f64,
    pub permit_ref: String,
}

impl LoadLimitDraft {
    /// Checks every field; errors name the field.
    pub fn validate(&self) -> Result<LoadLimit, Vec<crate::registry::FieldError>> {
        use crate::registry::{FieldError, Message};
        let mut errors = Vec::new();
        let factor = self.factor.trim();
        let factor_ok =
            (4..=12).contains(&factor.len()) && factor.bytes().all(|b| b.is_ascii_alphanumeric());
        if !factor_ok {
            errors.push(FieldError::new(
                "factor",
                "invalid_factor",
                Message::new(
                    "污染物应为 HJ 212 因子编码，如 a21026、w01018",
                    "factor must be an HJ 212 factor code such as a21026 or w01018",
                ),
            ));
        }
        let year = self
            .year
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y));
        if year.is_none() {
            errors.push(FieldError::new(
                "year",
                "invalid_year",
                Message::new(
                    "年份应为 2000 至 2100 之间的整数",
                    "year must be a whole year from 2000 to 2100",
                ),
            ));
        }
        let tonnes = self
            .limit_tonnes
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && *t > 0.0);
        if tonnes.is_none() {
            errors.push(FieldError::new(
                "limit_tonnes",
                "invalid_amount",
                Message::new(
                    "许可排放量应为大于 0 的吨数",
                    "limit_tonnes must be a number of tonnes above 0",
                ),
            ));
        }
        let permit_ref = self.permit_ref.trim();
        if permit_ref.is_empty() || permit_ref.chars().count() > 200 {
            errors.push(FieldError::new(
                "permit_ref",
                "required",
                Message::new(
                    "请填写排污许可证编号（至多 200 字）",
                    "permit_ref is required (at most 200 characters)",
                ),
            ));
        }
        match (year, tonnes) {
            (Some(year), Some(limit_tonnes)) if errors.is_empty() => Ok(LoadLimit {
                factor: factor.to_string(),
                year,
                limit_tonnes,
                permit_ref: permit_ref.to_string(),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests;
