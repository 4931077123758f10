//! Legal periods under the PRC Civil Code (民法典) Art. 200–204, and the holiday calendar they
//! need.
//!
//! A deadline such as "disclose within 1 month of the list's publication" is computed in two
//! steps. [`nominal_end`] applies Art. 201–202: the start day is not counted, and a period of
//! months or years ends on the corresponding day of the last month, or on that month's last day
//! when it has no corresponding day. [`period_end`] then applies Art. 203: a period whose last day
//! is a statutory holiday or rest day ends on the first working day after it, at 24:00.
//!
//! Which days are holidays and which weekend days are worked (调休) is decided each year by the
//! State Council (国务院办公厅关于XXXX年部分节假日安排的通知). Those arrangements are data, in
//! `rules/calendars/china.toml`, read by [`HolidayCalendar`]. A year the calendar lacks falls back
//! to "weekends are rest days, no holidays", and the result lists that year in
//! [`PeriodEnd::uncovered_years`] so that the UI can warn.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use toml::value::Datetime;

use crate::rules::Confidence;

/// The Chinese holiday calendar file, embedded.
pub const CHINA_CALENDAR_TOML: &str = include_str!("../../../rules/calendars/china.toml");

/// The longest block of days off a calendar file may declare. The longest so far is the 2020
/// Spring Festival, extended to 10 days; a longer block is far more likely a typo in `last`.
pub const MAX_HOLIDAY_DAYS: i64 = 14;

// ---- Art. 201–202: the nominal end -------------------------------------------------------------

/// The unit a legal period is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Day,
    Month,
    Year,
}

/// The last day of a period by Civil Code Art. 201–202, before any holiday shift.
///
/// The start day is not counted (Art. 201), so `N` days end on the `N`th day after `start`. A
/// period of months or years ends on the corresponding day of the last month; when that month
/// has no such day, on its last day (Art. 202): 2027-01-31 + 1 month is 2027-02-28. An `amount`
/// of zero returns `start`.
///
/// # Panics
/// If the end lies beyond the dates chrono represents (past the year 262,000), which no
/// legal period reaches.
pub fn nominal_end(start: NaiveDate, amount: u32, unit: PeriodUnit) -> NaiveDate {
    let end = match unit {
        PeriodUnit::Day => start.checked_add_days(Days::new(amount.into())),
        // chrono clamps a missing corresponding day to the month's last day: Art. 202 exactly.
        PeriodUnit::Month => start.checked_add_months(Months::new(amount)),
        PeriodUnit::Year => amount
            .checked_mul(12)
            .and_then(|months| start.checked_add_months(Months::new(months))),
    };
    end.unwrap_or_else(|| {
        panic!("a period of {amount} {unit:?} from {start} ends beyond the supported dates")
    })
}

// ---- the holiday calendar ----------------------------------------------------------------------

/// A block of consecutive days off announced by an arrangement notice (放假调休期间).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// The festival(s) as the notice names them, e.g. "国庆节、中秋节".
    pub name_zh: String,
    pub name_en: String,
    /// First day off.
    pub first: NaiveDate,
    /// Last day off, inclusive.
    pub last: NaiveDate,
}

impl Holiday {
    /// True when `date` is one of the block's days off.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }
}

/// One year's arrangement: the State Council notice and the days it declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearArrangement {
    pub year: i32,
    /// Document number, e.g. "国办发明电〔2024〕12号".
    pub notice: String,
    /// The notice's title.
    pub title: String,
    /// The notice's signature date.
    pub published_on: NaiveDate,
    /// How the data were checked against the notice.
    pub confidence: Confidence,
    /// Sources checked, or what remains to verify.
    pub note: Option<String>,
    /// Blocks of days off, in date order; all inside `year`, none overlapping.
    pub holidays: Vec<Holiday>,
    /// Weekend days declared working days (调休上班), in date order.
    pub adjusted_working_days: Vec<NaiveDate>,
}

impl YearArrangement {
    /// The block of days off that contains `date`, if any.
    pub fn holiday_on(&self, date: NaiveDate) -> Option<&Holiday> {
        self.holidays.iter().find(|holiday| holiday.contains(date))
    }
}

/// What a day is for the purpose of Art. 203.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary working day.
    Working,
    /// A weekend day the arrangement declares a working day (调休上班).
    AdjustedWorkingDay,
    /// A Saturday or Sunday that is a rest day.
    Weekend,
    /// A day off of an arrangement's block, weekday or not.
    Holiday { name_zh: String, name_en: String },
}

impl DayKind {
    /// True for the days Art. 203 skips: holidays and rest-day weekends.
    pub fn is_rest_day(&self) -> bool {
        matches!(self, Self::Weekend | Self::Holiday { .. })
    }
}

/// The State Council holiday arrangements of several years, checked and versioned.
#[derive(Debug, Clone)]
pub struct HolidayCalendar {
    version: String,
    years: BTreeMap<i32, YearArrangement>,
}

impl HolidayCalendar {
    /// The embedded calendar of `rules/calendars/china.toml`.
    ///
    /// # Panics
    /// Only if the embedded file is broken, which the tests of this module rule out.
    pub fn china() -> Self {
        match Self::from_toml(CHINA_CALENDAR_TOML) {
            Ok(calendar) => calendar,
            Err(error) => panic!("embedded holiday calendar is invalid: {error}"),
        }
    }

    /// Reads and checks a calendar file (schema: `rules/calendars/README.md`).
    ///
    /// Refuses unknown keys, a duplicate year, a year without its notice, title, signature date
    /// or confidence, a date outside its year, a holiday block that is reversed, longer than
    /// [`MAX_HOLIDAY_DAYS`] or overlaps another, and an adjusted working day that is a weekday,
    /// repeated, or inside a holiday block.
    pub fn from_toml(text: &str) -> Result<Self, CalendarError> {
        let file: CalendarFile = toml::from_str(text).map_err(|error| CalendarError::Syntax {
            message: error.to_string(),
        })?;
        if file.version.trim().is_empty() {
            return Err(CalendarError::EmptyVersion);
        }
        let mut years = BTreeMap::new();
        for row in file.year {
            if years.contains_key(&row.year) {
                return Err(CalendarError::DuplicateYear { year: row.year });
            }
            let arrangement = check_year(row)?;
            years.insert(arrangement.year, arrangement);
        }
        Ok(Self {
            version: file.version,
            years,
        })
    }

    /// The file's version, recorded with every computed deadline.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// True when the calendar has the State Council arrangement of `year`.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The arrangements, by year.
    pub fn years(&self) -> impl Iterator<Item = &YearArrangement> {
        self.years.values()
    }

    /// What `date` is. In a covered year the arrangement decides first: an adjusted working day
    /// is worked, a day of a holiday block is off. Otherwise a Saturday or Sunday is a rest day
    /// when `weekends_are_rest_days`, and every other day is a working day.
    pub fn day_kind(&self, date: NaiveDate, weekends_are_rest_days: bool) -> DayKind {
        if let Some(arrangement) = self.years.get(&date.year()) {
            if arrangement.adjusted_working_days.contains(&date) {
                return DayKind::AdjustedWorkingDay;
            }
            if let Some(holiday) = arrangement.holiday_on(date) {
                return DayKind::Holiday {
                    name_zh: holiday.name_zh.clone(),
                    name_en: holiday.name_en.clone(),
                };
            }
        }
        if weekends_are_rest_days && is_weekend(date) {
            DayKind::Weekend
        } else {
            DayKind::Working
        }
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Why a calendar file was refused. Each variant names the year, date or field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    #[error("holiday calendar: {message}")]
    Syntax { message: String },
    #[error("holiday calendar: version is empty")]
    EmptyVersion,
    #[error("holiday calendar: year {year} appears more than once")]
    DuplicateYear { year: i32 },
    #[error("holiday calendar, year {year}: {field} is missing or empty")]
    MissingField { year: i32, field: &'static str },
    #[error("holiday calendar, year {year}: {field} = {found} is not a plain date (YYYY-MM-DD)")]
    NotADate {
        year: i32,
        field: String,
        found: String,
    },
    #[error("holiday calendar, year {year}: {field} = {date} lies outside {year}")]
    OutsideYear {
        year: i32,
        field: String,
        date: NaiveDate,
    },
    #[error(
        "holiday calendar, year {year}: holiday {name} ends on {last}, before it starts on {first}"
    )]
    ReversedHoliday {
        year: i32,
        name: String,
        first: NaiveDate,
        last: NaiveDate,
    },
    #[error(
        "holiday calendar, year {year}: holiday {name} ({first} to {last}) is longer than {max} days",
        max = MAX_HOLIDAY_DAYS
    )]
    HolidayTooLong {
        year: i32,
        name: String,
        first: NaiveDate,
        last: NaiveDate,
    },
    #[error(
        "holiday calendar, year {year}: holidays {first_name} and {second_name} overlap on {date}"
    )]
    OverlappingHolidays {
        year: i32,
        first_name: String,
        second_name: String,
        date: NaiveDate,
    },
    #[error(
        "holiday calendar, year {year}: adjusted working day {date} is a {weekday}; only a Saturday or Sunday can be declared a working day"
    )]
    WorkingDayNotWeekend {
        year: i32,
        date: NaiveDate,
        weekday: Weekday,
    },
    #[error("holiday calendar, year {year}: adjusted working day {date} is listed twice")]
    DuplicateWorkingDay { year: i32, date: NaiveDate },
    #[error(
        "holiday calendar, year {year}: {date} is both a day of holiday {name} and an adjusted working day"
    )]
    HolidayAndWorkingDay {
        year: i32,
        date: NaiveDate,
        name: String,
    },
}

// ---- file shapes and checks --------------------------------------------------------------------
// The row types mirror the file and refuse unknown keys, so a misspelt key is an error rather
// than a silently missing day. Fields a year must have are optional here so that their absence
// is reported with the year rather than as a bare TOML error.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    version: String,
    #[serde(default)]
    year: Vec<YearRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearRow {
    year: i32,
    notice: Option<String>,
    title: Option<String>,
    published_on: Option<Datetime>,
    confidence: Option<Confidence>,
    note: Option<String>,
    #[serde(default)]
    adjusted_working_days: Vec<Datetime>,
    #[serde(default)]
    holiday: Vec<HolidayRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayRow {
    name_zh: String,
    name_en: String,
    first: Datetime,
    last: Datetime,
}

fn check_year(row: YearRow) -> Result<YearArrangement, CalendarError> {
    let year = row.year;
    let missing = |field| CalendarError::MissingField { year, field };
    let notice = non_empty(row.notice).ok_or_else(|| missing("notice"))?;
    let title = non_empty(row.title).ok_or_else(|| missing("title"))?;
    let published_on = row.published_on.ok_or_else(|| missing("published_on"))?;
    let published_on = plain_date(&published_on, year, "published_on")?;
    let confidence = row.confidence.ok_or_else(|| missing("confidence"))?;
    let holidays = check_holidays(year, row.holiday)?;
    let adjusted_working_days = check_working_days(year, &row.adjusted_working_days, &holidays)?;
    Ok(YearArrangement {
        year,
        notice,
        title,
        published_on,
        confidence,
        note: non_empty(row.note),
        holidays,
        adjusted_working_days,
    })
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

/// Holiday blocks of one year, checked and in date order.
fn check_holidays(year: i32, rows: Vec<HolidayRow>) -> Result<Vec<Holiday>, CalendarError> {
    let mut holidays = rows
        .into_iter()
        .map(|row| check_holiday(year, row))
        .collect::<Result<Vec<_>, _>>()?;
    holidays.sort_by_key(|holiday| holiday.first);
    for pair in holidays.windows(2) {
        if pair[1].first <= pair[0].last {
            return Err(CalendarError::OverlappingHolidays {
                year,
                first_name: pair[0].name_zh.clone(),
                second_name: pair[1].name_zh.clone(),
                date: pair[1].first,
            });
        }
    }
    Ok(holidays)
}

fn check_holiday(year: i32, row: HolidayRow) -> Result<Holiday, CalendarError> {
    let missing = |field| CalendarError::MissingField { year, field };
    let name_zh = non_empty(Some(row.name_zh)).ok_or_else(|| missing("holiday name_zh"))?;
    let name_en = non_empty(Some(row.name_en)).ok_or_else(|| missing("holiday name_en"))?;
    let first = date_in_year(&row.first, year, &format!("holiday {name_zh} first"))?;
    let last = date_in_year(&row.last, year, &format!("holiday {name_zh} last"))?;
    if last < first {
        return Err(CalendarError::ReversedHoliday {
            year,
            name: name_zh,
            first,
            last,
        });
    }
    if (last - first).num_days() + 1 > MAX_HOLIDAY_DAYS {
        return Err(CalendarError::HolidayTooLong {
            year,
            name: name_zh,
            first,
            last,
        });
    }
    Ok(Holiday {
        name_zh,
        name_en,
        first,
        last,
    })
}

/// Adjusted working days of one year, checked and in date order.
fn check_working_days(
    year: i32,
    values: &[Datetime],
    holidays: &[Holiday],
) -> Result<Vec<NaiveDate>, CalendarError> {
    let mut days = BTreeSet::new();
    for value in values {
        let date = date_in_year(value, year, "adjusted_working_days")?;
        if !is_weekend(date) {
            return Err(CalendarError::WorkingDayNotWeekend {
                year,
                date,
                weekday: date.weekday(),
            });
        }
        if let Some(holiday) = holidays.iter().find(|holiday| holiday.contains(date)) {
            return Err(CalendarError::HolidayAndWorkingDay {
                year,
                date,
                name: holiday.name_zh.clone(),
            });
        }
        if !days.insert(date) {
            return Err(CalendarError::DuplicateWorkingDay { year, date });
        }
    }
    Ok(days.into_iter().collect())
}

/// A TOML local date (no time, no offset) that falls inside `year`.
fn date_in_year(value: &Datetime, year: i32, field: &str) -> Result<NaiveDate, CalendarError> {
    let date = plain_date(value, year, field)?;
    if date.year() != year {
        return Err(CalendarError::OutsideYear {
            year,
            field: field.to_string(),
            date,
        });
    }
    Ok(date)
}

/// A TOML local date (no time, no offset); `year` only names the entry in the error.
fn plain_date(value: &Datetime, year: i32, field: &str) -> Result<NaiveDate, CalendarError> {
    let date = match (value.date, value.time, value.offset) {
        (Some(date), None, None) => {
            NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
        }
        _ => None,
    };
    date.ok_or_else(|| CalendarError::NotADate {
        year,
        field: field.to_string(),
        found: value.to_string(),
    })
}

// ---- Art. 203: the effective end ---------------------------------------------------------------

/// A computed period end, with everything needed to show and reproduce it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodEnd {
    /// The event the period runs from (e.g. the list's publication); not itself counted.
    pub start: NaiveDate,
    pub amount: u32,
    pub unit: PeriodUnit,
    /// The last day by Art. 201–202.
    pub nominal: NaiveDate,
    /// The last day by Art. 203: the first working day on or after `nominal`. The period ends
    /// at 24:00 of this day.
    pub effective: NaiveDate,
    /// The rest days from `nominal` up to `effective`, in order; empty when `nominal` is a
    /// working day.
    pub skipped: Vec<(NaiveDate, DayKind)>,
    /// [`HolidayCalendar::version`] of the calendar used.
    pub calendar_version: String,
    /// Whether Saturdays and Sundays counted as rest days in this computation.
    pub weekends_are_rest_days: bool,
    /// Years consulted that the calendar has no arrangement for, ascending. For them no
    /// holiday and no adjusted working day was known, so the result must be checked by hand.
    pub uncovered_years: Vec<i32>,
}

/// The end of a period of `amount` `unit`s running from `start`, by Civil Code Art. 201–203.
///
/// The nominal end is [`nominal_end`]; if it is a rest day of `calendar` (see
/// [`HolidayCalendar::day_kind`]), the period ends on the first working day after it.
pub fn period_end(
    start: NaiveDate,
    amount: u32,
    unit: PeriodUnit,
    calendar: &HolidayCalendar,
    weekends_are_rest_days: bool,
) -> PeriodEnd {
    let nominal = nominal_end(start, amount, unit);
    let mut effective = nominal;
    let mut skipped = Vec::new();
    let mut uncovered_years = BTreeSet::new();
    loop {
        if !calendar.covers(effective.year()) {
            uncovered_years.insert(effective.year());
        }
        let kind = calendar.day_kind(effective, weekends_are_rest_days);
        if !kind.is_rest_day() {
            break;
        }
        skipped.push((effective, kind));
        // Ends: holiday blocks are bounded and a weekend is two days, so a working day follows.
        effective = effective
            .succ_opt()
            .unwrap_or_else(|| panic!("no working day after {effective} in the supported dates"));
    }
    PeriodEnd {
        start,
        amount,
        unit,
        nominal,
        effective,
        skipped,
        calendar_version: calendar.version().to_string(),
        weekends_are_rest_days,
        uncovered_years: uncovered_years.into_iter().collect(),
    }
}

impl PeriodEnd {
    /// How the end was found, in one Chinese sentence citing Art. 201–203 and the calendar.
    pub fn trace_zh(&self) -> String {
        let parts = [
            format!(
                "自 {} 的次日起算（民法典第二百零一条：开始的当日不计入）",
                self.start
            ),
            self.nominal_zh(),
            self.effective_zh(),
            self.calendar_zh(),
        ];
        format!("{}。", parts.join("；"))
    }

    /// How the end was found, in one English sentence citing Art. 201–203 and the calendar.
    pub fn trace_en(&self) -> String {
        let parts = [
            format!(
                "Counted from the day after {} (Civil Code Art. 201: the start day is not counted)",
                self.start
            ),
            self.nominal_en(),
            self.effective_en(),
            self.calendar_en(),
        ];
        format!("{}.", parts.join("; "))
    }

    /// True when Art. 202 had no corresponding day and took the month's last day instead.
    fn took_month_end(&self) -> bool {
        self.unit != PeriodUnit::Day && self.nominal.day() != self.start.day()
    }

    fn nominal_zh(&self) -> String {
        let amount = amount_zh(self.amount, self.unit);
        match self.unit {
            PeriodUnit::Day => format!("期间 {amount}，最后一日为 {}", self.nominal),
            _ if self.took_month_end() => format!(
                "期间 {amount}，到期月没有对应日，以月末日 {} 为最后一日（第二百零二条）",
                self.nominal
            ),
            _ => format!(
                "期间 {amount}，以到期月的对应日 {} 为最后一日（第二百零二条）",
                self.nominal
            ),
        }
    }

    fn nominal_en(&self) -> String {
        let amount = amount_en(self.amount, self.unit);
        match self.unit {
            PeriodUnit::Day => format!("a period of {amount} ends on {}", self.nominal),
            _ if self.took_month_end() => format!(
                "a period of {amount} ends on {}, the last day of the month, as that month has no corresponding day (Art. 202)",
                self.nominal
            ),
            _ => format!(
                "a period of {amount} ends on {}, the corresponding day (Art. 202)",
                self.nominal
            ),
        }
    }

    fn effective_zh(&self) -> String {
        let adjusted = if self.effective_is_adjusted() {
            "（调休上班日）"
        } else {
            // Keeps the space between a date and the Chinese text that follows it.
            " "
        };
        match self.skipped.last() {
            None => format!(
                "{}{adjusted}为工作日，期间于当日二十四时届满（第二百零三条）",
                self.nominal
            ),
            Some((last_rest_day, _)) => {
                let span = if *last_rest_day == self.nominal {
                    self.nominal.to_string()
                } else {
                    format!("{} 至 {last_rest_day}", self.nominal)
                };
                let names = self.rest_day_names(|kind| match kind {
                    DayKind::Holiday { name_zh, .. } => name_zh.as_str(),
                    _ => "周末",
                });
                format!(
                    "{span} 为休假日（{}），以休假日结束的次日 {}{adjusted}为期间的最后一日，截止时间为二十四时（第二百零三条）",
                    names.join("、"),
                    self.effective
                )
            }
        }
    }

    fn effective_en(&self) -> String {
        let adjusted = if self.effective_is_adjusted() {
            " (a weekend day declared a working day)"
        } else {
            ""
        };
        match self.skipped.last() {
            None => format!(
                "{}{adjusted} is a working day, so the period ends there at 24:00 (Art. 203)",
                self.nominal
            ),
            Some((last_rest_day, _)) => {
                let span = if *last_rest_day == self.nominal {
                    format!("{} is a rest day", self.nominal)
                } else {
                    format!("{} to {last_rest_day} are rest days", self.nominal)
                };
                let names = self.rest_day_names(|kind| match kind {
                    DayKind::Holiday { name_en, .. } => name_en.as_str(),
                    _ => "weekend",
                });
                format!(
                    "{span} ({}), so the period ends on the next working day, {}{adjusted}, at 24:00 (Art. 203)",
                    names.join(", "),
                    self.effective
                )
            }
        }
    }

    /// True when the effective end is a weekend day worked under the arrangement (调休上班): the
    /// only way a Saturday or Sunday is a working day while weekends are rest days.
    fn effective_is_adjusted(&self) -> bool {
        self.weekends_are_rest_days && is_weekend(self.effective)
    }

    /// The distinct names of the skipped days, in order of first appearance.
    fn rest_day_names<'a>(&'a self, name: impl Fn(&'a DayKind) -> &'a str) -> Vec<&'a str> {
        let mut names = Vec::new();
        for (_, kind) in &self.skipped {
            let label = name(kind);
            if !names.contains(&label) {
                names.push(label);
            }
        }
        names
    }

    fn calendar_zh(&self) -> String {
        let mut text = format!("节假日依据日历版本 {}", self.calendar_version);
        if !self.weekends_are_rest_days {
            text.push_str("，周末不视为休息日");
        }
        if !self.uncovered_years.is_empty() {
            let years: Vec<String> = self.uncovered_years.iter().map(i32::to_string).collect();
            let fallback = if self.weekends_are_rest_days {
                "仅按周末休息、无节假日计算"
            } else {
                "按无节假日计算"
            };
            text.push_str(&format!(
                "；日历未收录 {} 年的国务院节假日安排，该年{fallback}，结果需人工核实",
                years.join("、")
            ));
        }
        text
    }

    fn calendar_en(&self) -> String {
        let mut text = format!("holiday calendar version {}", self.calendar_version);
        if !self.weekends_are_rest_days {
            text.push_str(", weekends not treated as rest days");
        }
        if !self.uncovered_years.is_empty() {
            let years: Vec<String> = self.uncovered_years.iter().map(i32::to_string).collect();
            let fallback = if self.weekends_are_rest_days {
                "only weekends were treated as rest days, with no holidays"
            } else {
                "no holidays were known"
            };
            text.push_str(&format!(
                "; the calendar has no State Council arrangement for {}, so {fallback}: check the result by hand",
                years.join(", ")
            ));
        }
        text
    }
}

fn amount_zh(amount: u32, unit: PeriodUnit) -> String {
    match unit {
        PeriodUnit::Day => format!("{amount} 日"),
        PeriodUnit::Month => format!("{amount} 个月"),
        PeriodUnit::Year => format!("{amount} 年"),
    }
}

fn amount_en(amount: u32, unit: PeriodUnit) -> String {
    let noun = match unit {
        PeriodUnit::Day => "day",
        PeriodUnit::Month => "month",
        PeriodUnit::Year => "year",
    };
    let plural = if amount == 1 { "" } else { "s" };
    format!("{amount} {noun}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
    }

    fn china_end(start: NaiveDate, amount: u32, unit: PeriodUnit) -> PeriodEnd {
        period_end(start, amount, unit, &HolidayCalendar::china(), true)
    }

    fn holiday(name_zh: &str) -> DayKind {
        let calendar = HolidayCalendar::china();
        let found = calendar
            .years()
            .flat_map(|year| &year.holidays)
            .find(|holiday| holiday.name_zh == name_zh)
            .expect("holiday in the embedded calendar");
        DayKind::Holiday {
            name_zh: found.name_zh.clone(),
            name_en: found.name_en.clone(),
        }
    }

    // ---- Art. 201–202 ----

    #[test]
    fn art_202_months_and_years_end_on_the_corresponding_day_or_the_month_end() {
        let cases = [
            (date(2027, 1, 15), 1, PeriodUnit::Month, date(2027, 2, 15)),
            (date(2027, 1, 31), 1, PeriodUnit::Month, date(2027, 2, 28)),
            (date(2028, 1, 31), 1, PeriodUnit::Month, date(2028, 2, 29)),
            (date(2028, 2, 29), 1, PeriodUnit::Year, date(2029, 2, 28)),
            (date(2027, 3, 31), 2, PeriodUnit::Month, date(2027, 5, 31)),
            (date(2027, 8, 31), 1, PeriodUnit::Month, date(2027, 9, 30)),
        ];
        for (start, amount, unit, expected) in cases {
            assert_eq!(
                nominal_end(start, amount, unit),
                expected,
                "{start} + {amount} {unit:?}"
            );
        }
    }

    #[test]
    fn art_201_days_are_counted_from_the_day_after_the_start() {
        assert_eq!(
            nominal_end(date(2027, 1, 15), 10, PeriodUnit::Day),
            date(2027, 1, 25)
        );
        assert_eq!(
            nominal_end(date(2027, 12, 25), 10, PeriodUnit::Day),
            date(2028, 1, 4)
        );
    }

    #[test]
    fn a_zero_period_ends_on_its_start() {
        assert_eq!(
            nominal_end(date(2027, 1, 15), 0, PeriodUnit::Month),
            date(2027, 1, 15)
        );
    }

    // ---- the calendar ----

    #[test]
    fn the_embedded_calendar_loads_with_2024_to_2026_each_citing_its_notice() {
        let calendar = HolidayCalendar::china();
        assert!(!calendar.version().is_empty());
        let years: Vec<i32> = calendar.years().map(|year| year.year).collect();
        assert_eq!(years, [2024, 2025, 2026]);
        assert!(!calendar.covers(2027), "no 2027 notice was confirmed");
        for year in calendar.years() {
            assert!(year.notice.starts_with("国办发明电"), "{}", year.year);
            assert!(year.title.contains(&year.year.to_string()), "{}", year.year);
            assert!(year.published_on.year() < year.year, "{}", year.year);
            assert!(year.note.is_some(), "{} explains its sources", year.year);
            assert!(year.holidays.len() >= 6, "{}", year.year);
        }
    }

    #[test]
    fn the_arrangement_decides_before_the_weekend_rule() {
        let calendar = HolidayCalendar::china();
        // 2025-02-08 is a Saturday worked for the Spring Festival (调休上班).
        assert_eq!(
            calendar.day_kind(date(2025, 2, 8), true),
            DayKind::AdjustedWorkingDay
        );
        // 2025-10-08 is a Wednesday inside the National Day block.
        assert_eq!(
            calendar.day_kind(date(2025, 10, 8), true),
            holiday("国庆节、中秋节")
        );
        assert_eq!(calendar.day_kind(date(2025, 3, 15), true), DayKind::Weekend);
        assert_eq!(
            calendar.day_kind(date(2025, 3, 15), false),
            DayKind::Working
        );
        assert_eq!(calendar.day_kind(date(2025, 3, 17), true), DayKind::Working);
    }

    #[test]
    fn a_single_day_holiday_joined_to_the_weekend_leaves_the_weekend_a_weekend() {
        // 2024 端午节: "6月10日放假，与周末连休".
        let calendar = HolidayCalendar::china();
        assert_eq!(calendar.day_kind(date(2024, 6, 8), true), DayKind::Weekend);
        assert_eq!(
            calendar.day_kind(date(2024, 6, 10), true),
            holiday("端午节")
        );
        assert_eq!(
            calendar.day_kind(date(2024, 2, 18), true),
            DayKind::AdjustedWorkingDay
        );
    }

    // ---- Art. 203 ----

    #[test]
    fn a_nominal_end_in_the_national_day_block_moves_to_the_day_after_it() {
        let end = china_end(date(2025, 9, 1), 1, PeriodUnit::Month);
        assert_eq!(end.nominal, date(2025, 10, 1));
        assert_eq!(end.effective, date(2025, 10, 9));
        let days: Vec<NaiveDate> = end.skipped.iter().map(|(day, _)| *day).collect();
        let expected: Vec<NaiveDate> = (1..=8).map(|day| date(2025, 10, day)).collect();
        assert_eq!(days, expected);
        for (_, kind) in &end.skipped {
            assert_eq!(kind, &holiday("国庆节、中秋节"));
        }
        assert!(end.uncovered_years.is_empty());
        assert!(end.trace_zh().contains("国庆节、中秋节"));
        assert!(end
            .trace_en()
            .contains("National Day and Mid-Autumn Festival"));
    }

    #[test]
    fn the_spring_festival_2026_block_is_skipped_whole() {
        let end = china_end(date(2026, 1, 15), 1, PeriodUnit::Month);
        assert_eq!(end.nominal, date(2026, 2, 15));
        assert_eq!(end.effective, date(2026, 2, 24));
        assert_eq!(end.skipped.len(), 9);
    }

    #[test]
    fn a_nominal_end_on_an_adjusted_working_saturday_stays() {
        let end = china_end(date(2025, 1, 8), 1, PeriodUnit::Month);
        assert_eq!(end.nominal.weekday(), Weekday::Sat);
        assert_eq!(end.nominal, date(2025, 2, 8));
        assert_eq!(end.effective, end.nominal);
        assert!(end.skipped.is_empty());
        assert!(end.trace_zh().contains("调休上班日"));
    }

    #[test]
    fn a_nominal_end_on_a_weekend_moves_to_monday() {
        let end = china_end(date(2025, 3, 5), 10, PeriodUnit::Day);
        assert_eq!(end.nominal, date(2025, 3, 15));
        assert_eq!(end.nominal.weekday(), Weekday::Sat);
        assert_eq!(end.effective, date(2025, 3, 17));
        assert_eq!(
            end.skipped,
            [
                (date(2025, 3, 15), DayKind::Weekend),
                (date(2025, 3, 16), DayKind::Weekend)
            ]
        );
    }

    #[test]
    fn a_plain_saturday_stays_when_weekends_are_not_rest_days() {
        let calendar = HolidayCalendar::china();
        let end = period_end(date(2025, 3, 5), 10, PeriodUnit::Day, &calendar, false);
        assert_eq!(end.effective, date(2025, 3, 15));
        assert!(end.skipped.is_empty());
        assert!(!end.weekends_are_rest_days);
        assert!(end.trace_zh().contains("周末不视为休息日"));
        // A holiday is still a rest day.
        let end = period_end(date(2025, 9, 1), 1, PeriodUnit::Month, &calendar, false);
        assert_eq!(end.effective, date(2025, 10, 9));
    }

    #[test]
    fn an_uncovered_year_falls_back_to_weekends_and_says_so() {
        let end = china_end(date(2031, 2, 22), 7, PeriodUnit::Day);
        assert_eq!(end.nominal, date(2031, 3, 1));
        assert_eq!(end.nominal.weekday(), Weekday::Sat);
        assert_eq!(end.effective, date(2031, 3, 3));
        assert_eq!(end.uncovered_years, [2031]);
        assert!(end.trace_zh().contains("日历未收录 2031 年"));
        assert!(end
            .trace_en()
            .contains("no State Council arrangement for 2031"));
    }

    #[test]
    fn only_the_years_consulted_are_reported_uncovered() {
        // Starts in an uncovered year but ends on a working day of a covered one.
        let end = china_end(date(2023, 12, 15), 1, PeriodUnit::Month);
        assert_eq!(end.effective, date(2024, 1, 15));
        assert!(end.uncovered_years.is_empty());
    }

    #[test]
    fn the_traces_cite_articles_201_to_203_and_the_calendar_version() {
        let end = china_end(date(2027, 1, 31), 1, PeriodUnit::Month);
        assert_eq!(end.nominal, date(2027, 2, 28));
        let zh = end.trace_zh();
        for needle in [
            "2027-01-31",
            "第二百零一条",
            "第二百零二条",
            "没有对应日",
            "2027-02-28",
            "第二百零三条",
            "二十四时",
            end.calendar_version.as_str(),
        ] {
            assert!(zh.contains(needle), "{needle} missing from {zh}");
        }
        let en = end.trace_en();
        for needle in ["Art. 201", "Art. 202", "no corresponding day", "Art. 203"] {
            assert!(en.contains(needle), "{needle} missing from {en}");
        }
        let corresponding = china_end(date(2026, 3, 16), 1, PeriodUnit::Month);
        assert!(corresponding.trace_zh().contains("对应日 2026-04-16"));
        assert!(corresponding.trace_en().contains("the corresponding day"));
    }

    #[test]
    fn period_ends_serialize_with_snake_case_names() {
        let end = china_end(date(2025, 9, 1), 1, PeriodUnit::Month);
        let json = serde_json::to_value(&end).expect("serializes");
        assert_eq!(json["unit"], "month");
        assert_eq!(json["skipped"][0][1]["kind"], "holiday");
        let back: PeriodEnd = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, end);
    }

    // ---- refused files ----

    const VALID: &str = r#"
version = "test.1"

[[year]]
year = 2025
notice = "国办发明电〔2024〕12号"
title = "国务院办公厅关于2025年部分节假日安排的通知"
published_on = 2024-11-12
confidence = "verified"
adjusted_working_days = [2025-01-26, 2025-02-08]

[[year.holiday]]
name_zh = "元旦"
name_en = "New Year's Day"
first = 2025-01-01
last = 2025-01-01

[[year.holiday]]
name_zh = "春节"
name_en = "Spring Festival"
first = 2025-01-28
last = 2025-02-04
"#;

    fn refused(text: &str) -> CalendarError {
        HolidayCalendar::from_toml(text).expect_err("the file is refused")
    }

    fn assert_names(error: &CalendarError, needles: &[&str]) {
        let message = error.to_string();
        for needle in needles {
            assert!(message.contains(needle), "{needle} missing from {message}");
        }
    }

    #[test]
    fn the_valid_sample_loads() {
        let calendar = HolidayCalendar::from_toml(VALID).expect("valid");
        assert_eq!(calendar.version(), "test.1");
        assert!(calendar.covers(2025));
    }

    #[test]
    fn a_weekday_declared_a_working_day_is_refused() {
        let error = refused(&VALID.replace("2025-01-26,", "2025-01-27,"));
        assert!(matches!(
            error,
            CalendarError::WorkingDayNotWeekend {
                weekday: Weekday::Mon,
                ..
            }
        ));
        assert_names(&error, &["2025", "2025-01-27"]);
    }

    #[test]
    fn a_date_outside_its_year_is_refused() {
        let error = refused(&VALID.replace("2025-01-26,", "2024-12-28,"));
        assert!(matches!(error, CalendarError::OutsideYear { .. }));
        assert_names(
            &error,
            &["year 2025", "2024-12-28", "adjusted_working_days"],
        );
        let error = refused(&VALID.replace("last = 2025-02-04", "last = 2026-02-04"));
        assert_names(&error, &["year 2025", "2026-02-04", "春节 last"]);
    }

    #[test]
    fn a_duplicate_year_is_refused() {
        let year = &VALID[VALID.find("[[year]]").expect("has a year")..];
        let error = refused(&format!("{VALID}\n{year}"));
        assert_eq!(error, CalendarError::DuplicateYear { year: 2025 });
        assert_names(&error, &["2025"]);
    }

    #[test]
    fn a_year_without_its_notice_is_refused() {
        let error = refused(&VALID.replace("notice = \"国办发明电〔2024〕12号\"\n", ""));
        assert_eq!(
            error,
            CalendarError::MissingField {
                year: 2025,
                field: "notice"
            }
        );
        assert_names(&error, &["year 2025", "notice"]);
        let error = refused(&VALID.replace("国办发明电〔2024〕12号", " "));
        assert!(matches!(error, CalendarError::MissingField { .. }));
    }

    #[test]
    fn a_day_both_off_and_worked_is_refused() {
        let error = refused(&VALID.replace("2025-02-08]", "2025-02-01]"));
        assert!(matches!(error, CalendarError::HolidayAndWorkingDay { .. }));
        assert_names(&error, &["2025-02-01", "春节"]);
    }

    #[test]
    fn a_working_day_listed_twice_is_refused() {
        let error = refused(&VALID.replace("2025-02-08]", "2025-01-26]"));
        assert!(matches!(error, CalendarError::DuplicateWorkingDay { .. }));
        assert_names(&error, &["2025-01-26"]);
    }

    #[test]
    fn insane_holiday_blocks_are_refused() {
        let reversed = refused(&VALID.replace("first = 2025-01-28", "first = 2025-02-05"));
        assert!(matches!(reversed, CalendarError::ReversedHoliday { .. }));
        assert_names(&reversed, &["春节", "2025-02-05"]);

        let too_long = refused(&VALID.replace("last = 2025-02-04", "last = 2025-02-28"));
        assert!(matches!(too_long, CalendarError::HolidayTooLong { .. }));
        assert_names(&too_long, &["春节", "2025-02-28"]);

        let overlapping = refused(&VALID.replace(
            "first = 2025-01-01\nlast = 2025-01-01",
            "first = 2025-01-30\nlast = 2025-01-31",
        ));
        assert!(matches!(
            overlapping,
            CalendarError::OverlappingHolidays { .. }
        ));
        assert_names(&overlapping, &["元旦", "春节", "2025-01-30"]);
    }

    #[test]
    fn a_date_time_is_not_a_date() {
        let error = refused(&VALID.replace(
            "published_on = 2024-11-12",
            "published_on = 2024-11-12T08:00:00",
        ));
        assert!(matches!(error, CalendarError::NotADate { .. }));
        assert_names(&error, &["year 2025", "published_on"]);
    }

    #[test]
    fn unknown_keys_and_an_empty_version_are_refused() {
        let error = refused(&VALID.replace("adjusted_working_days", "adjusted_workdays"));
        assert!(matches!(error, CalendarError::Syntax { .. }));
        let error = refused(&VALID.replace("\"test.1\"", "\"\""));
        assert_eq!(error, CalendarError::EmptyVersion);
    }
}
