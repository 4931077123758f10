//! The rule book: legal parameters as versioned data with typed citations.
//!
//! Every legal parameter the system computes with (a deadline, an interval, a set of industries, a
//! calendar date) lives in `rules/documents.toml` and `rules/<province>/parameters.toml`, never in
//! code. A value that the domain reference marks unverified can then be corrected by editing a
//! file, and a value changed by a new document takes effect from its date without changing what
//! was computed before it. Each value period names its sources ([`RuleCitation`]), and each result
//! records the [`RuleRef`] it used, so that the result can show why and can be reproduced.
//!
//! The Gansu files are embedded ([`RuleBook::embedded`]) so that the binary runs with no files on
//! disk; another province ships its own parameters file. The file schema is documented in
//! `rules/README.md`. [`RuleBook::from_toml`] reports every fault of both files at once, each
//! naming the file, the entry and the value period, so that whoever edits a file fixes it in one
//! pass.

use std::collections::HashSet;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize, Serializer};

use crate::reference::{ReferenceData, INDUSTRIES};

/// The documents table, embedded: the sources that citations name by id.
pub const DOCUMENTS_TOML: &str = include_str!("../../../rules/documents.toml");
/// The legal parameters of the Gansu deployment, embedded.
pub const GANSU_PARAMETERS_TOML: &str = include_str!("../../../rules/gansu/parameters.toml");

// Labels of the files in faults. The loader reads text, not paths, so these are the file names a
// person editing the rules recognises.
const DOCUMENTS_FILE: &str = "documents.toml";
const PARAMETERS_FILE: &str = "parameters.toml";
const OVERLAY_FILE: &str = "parameters overlay";

/// How sure we are of a rule's source, as labelled in the domain reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// The wording was read in the cited source (reference label [V], and [G] for the Gansu
    /// plan, which is authoritative for this system wherever it speaks).
    Verified,
    /// A secondary source states the content; the exact wording or article was not seen ([P]).
    PartlyVerified,
    /// Background knowledge or an unofficial source ([U]). Shown as "unverified" everywhere.
    Unverified,
    /// The practice of a local authority, used as a default where the law is silent.
    LocalPractice,
    /// A design decision of this system ([D]); not law, never cited as law.
    Design,
}

impl Confidence {
    /// True when the UI and API must mark a value as not confirmed against an official text.
    pub fn needs_verification(self) -> bool {
        matches!(self, Self::Unverified | Self::PartlyVerified)
    }
}

/// One typed citation: which document (an id of the documents table), which article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleCitation {
    /// Id of a document in the documents table, e.g. "measures-2016".
    pub document: String,
    /// Article, paragraph or section, e.g. "第十一条" or "三(一)".
    pub article: String,
    pub confidence: Confidence,
    /// Wording quoted from the source, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Why the value is what it is, or what remains to verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a computed result records about one rule it used: enough to show the citation and to
/// reproduce the computation with the same rule version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    /// Parameter id, e.g. "deadline.disclose".
    pub id: String,
    /// Version of the rule book the value came from.
    pub book_version: String,
    /// The first day of the value period that was in force.
    pub effective_from: NaiveDate,
    /// The value in force, as text for display (e.g. "1 month").
    pub value: String,
    pub citations: Vec<RuleCitation>,
}

impl RuleRef {
    /// True when no citation settles the value: every one is partly verified or unverified
    /// (a verified secondary citation beside an unverified one settles it).
    pub fn needs_verification(&self) -> bool {
        self.citations
            .iter()
            .all(|citation| citation.confidence.needs_verification())
    }
}

// ---- the book -----------------------------------------------------------------------------------

/// A source that citations name: a law, a regulation, a notice, a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// Stable short id, e.g. "measures-2016".
    pub id: String,
    /// Title as published, e.g. 《清洁生产审核办法》.
    pub title: String,
    /// Document number (文号), e.g. 甘环气候发〔2021〕10号.
    pub number: Option<String>,
    pub issuer: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub repealed_on: Option<NaiveDate>,
    pub url: Option<String>,
    /// How sure we are of this entry itself (title, number, dates), apart from any article.
    pub confidence: Confidence,
    pub note: Option<String>,
}

/// What a parameter's values measure, which fixes their type in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A period of whole days (integer, at least 1).
    Day,
    /// A period of whole months (integer, at least 1), counted per Civil Code Art. 202.
    Month,
    /// A period of whole years (integer, at least 1).
    Year,
    /// A plain integer: a year number, or a number used arithmetically.
    Integer,
    Bool,
    /// A string; one of the parameter's `allowed` values when it lists any.
    Text,
    /// A list of ids; each one of `allowed` when the parameter lists any.
    List,
    /// A day of the year: "12-31", or "02-end" for a month's last day.
    MonthDay,
    /// What one article lets the authorities decide: a [`Penalty`].
    Penalty,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
            Self::Year => "year",
            Self::Integer => "integer",
            Self::Bool => "bool",
            Self::Text => "text",
            Self::List => "list",
            Self::MonthDay => "month_day",
            Self::Penalty => "penalty",
        }
    }

    /// What a value of this unit looks like in a file, for fault messages.
    fn expected(self) -> &'static str {
        match self {
            Self::Day | Self::Month | Self::Year => "a whole number of at least 1",
            Self::Integer => "an integer",
            Self::Bool => "true or false",
            Self::Text => "a non-empty string",
            Self::List => "an array of non-empty strings",
            Self::MonthDay => "a string \"MM-DD\" or \"MM-end\"",
            Self::Penalty => {
                "a table { kinds = [...], fine_min_yuan, fine_max_yuan, fine_after_expired_order }"
            }
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A day that recurs every year, such as a reporting date.
///
/// The month's end is a form of its own because "2月底" falls on the 28th or the 29th depending on
/// the year; a fixed day that some years lack (02-29) is refused by the loader for that reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MonthDay {
    Day { month: u32, day: u32 },
    MonthEnd { month: u32 },
}

impl MonthDay {
    /// The date in the given year. A fixed day the month lacks in that year (only possible in a
    /// value built by hand, such as 02-29) falls on the month's last day, as Civil Code Art. 202
    /// does for a period without a corresponding day.
    ///
    /// # Panics
    /// If the month is not 1–12 (values read by the loader always are) or the year is outside
    /// the range of [`NaiveDate`].
    pub fn in_year(self, year: i32) -> NaiveDate {
        let month = match self {
            Self::Day { month, .. } | Self::MonthEnd { month } => month,
        };
        let first = NaiveDate::from_ymd_opt(year, month, 1)
            .unwrap_or_else(|| panic!("{year}-{month:02} is not a calendar month"));
        let last_day = u32::from(first.num_days_in_month());
        match self {
            Self::Day { day, .. } => NaiveDate::from_ymd_opt(year, month, day)
                .unwrap_or_else(|| first.with_day(last_day).unwrap_or(first)),
            Self::MonthEnd { .. } => first.with_day(last_day).unwrap_or(first),
        }
    }

    /// The form used in rule files: "12-31" or "02-end".
    fn file_form(self) -> String {
        match self {
            Self::Day { month, day } => format!("{month:02}-{day:02}"),
            Self::MonthEnd { month } => format!("{month:02}-end"),
        }
    }
}

/// "12-31", or "end of February" for a month's last day.
impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Day { .. } => f.write_str(&self.file_form()),
            Self::MonthEnd { month } => {
                let index = usize::try_from(month).unwrap_or(0).wrapping_sub(1);
                match MONTH_NAMES.get(index) {
                    Some(name) => write!(f, "end of {name}"),
                    None => write!(f, "end of month {month}"),
                }
            }
        }
    }
}

/// Serialised in the file form, so that an API shows what the rule file says.
impl Serialize for MonthDay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.file_form())
    }
}

/// A decision the authorities may take under an article (the vocabulary of unit `penalty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PenaltyKind {
    /// 责令（限期）改正: an order to correct by a date.
    OrderToCorrect,
    /// 罚款.
    Fine,
    /// 通报批评: a public criticism.
    PublicCriticism,
}

impl PenaltyKind {
    pub const ALL: [PenaltyKind; 3] = [Self::OrderToCorrect, Self::Fine, Self::PublicCriticism];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderToCorrect => "order_to_correct",
            Self::Fine => "fine",
            Self::PublicCriticism => "public_criticism",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::OrderToCorrect => "责令改正",
            Self::Fine => "罚款",
            Self::PublicCriticism => "通报批评",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::OrderToCorrect => "order to correct",
            Self::Fine => "fine",
            Self::PublicCriticism => "public criticism",
        }
    }
}

/// What one article lets the authorities decide: the kinds of decision and, when a fine is
/// among them, its range. Serialised in the file's flat form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Penalty {
    pub kinds: Vec<PenaltyKind>,
    /// Present exactly when `kinds` has a fine.
    #[serde(flatten)]
    pub fine: Option<FineRange>,
}

impl Penalty {
    pub fn allows(&self, kind: PenaltyKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// "责令改正、罚款；罚款五万元以上五十万元以下，须在责令限期改正逾期未改正后".
    pub fn describe_zh(&self) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|kind| kind.label_zh()).collect();
        let mut text = kinds.join("、");
        if let Some(fine) = &self.fine {
            text.push_str(&format!("；罚款{}", fine.describe_zh()));
            if fine.after_expired_order {
                text.push_str("，须在责令限期改正逾期未改正后");
            }
        }
        text
    }
}

/// "order to correct, fine; fine of 50,000 to 500,000 yuan, only after an order to correct has
/// expired uncorrected".
impl fmt::Display for Penalty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<&str> = self.kinds.iter().map(|kind| kind.label_en()).collect();
        f.write_str(&kinds.join(", "))?;
        if let Some(fine) = &self.fine {
            write!(f, "; fine of {}", fine.describe_en())?;
            if fine.after_expired_order {
                f.write_str(", only after an order to correct has expired uncorrected")?;
            }
        }
        Ok(())
    }
}

/// The fine an article allows, in whole yuan. Both ends are included: statutes read 以上 and 以下
/// as including the number itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FineRange {
    /// None when the article sets only a maximum (十万元以下); a fine is then at least 1 yuan.
    #[serde(rename = "fine_min_yuan", skip_serializing_if = "Option::is_none")]
    pub min_yuan: Option<i64>,
    #[serde(rename = "fine_max_yuan")]
    pub max_yuan: i64,
    /// The fine may only follow an order to correct whose date passed without correction
    /// (拒不改正的，处以罚款).
    #[serde(rename = "fine_after_expired_order")]
    pub after_expired_order: bool,
}

impl FineRange {
    pub fn contains(&self, amount_yuan: i64) -> bool {
        (self.min_yuan.unwrap_or(1)..=self.max_yuan).contains(&amount_yuan)
    }

    /// As statutes word it: "五万元以上五十万元以下", "十万元以下".
    pub fn describe_zh(&self) -> String {
        match self.min_yuan {
            Some(min) => format!("{}以上{}以下", yuan_zh(min), yuan_zh(self.max_yuan)),
            None => format!("{}以下", yuan_zh(self.max_yuan)),
        }
    }

    /// "50,000 to 500,000 yuan", "up to 100,000 yuan".
    pub fn describe_en(&self) -> String {
        match self.min_yuan {
            Some(min) => format!(
                "{} to {} yuan",
                grouped_digits(min),
                grouped_digits(self.max_yuan)
            ),
            None => format!("up to {} yuan", grouped_digits(self.max_yuan)),
        }
    }
}

/// An amount in yuan as statutes write it, in Chinese numerals: "五万元", "十万元", "一万零五百元".
/// Amounts below 1 or of 一亿 and more are written in digits.
pub fn yuan_zh(amount: i64) -> String {
    if !(1..100_000_000).contains(&amount) {
        return format!("{amount}元");
    }
    let (wan, rest) = (amount / 10_000, amount % 10_000);
    let mut text = String::new();
    if wan > 0 {
        text.push_str(&below_ten_thousand_zh(wan, true));
        text.push('万');
        if (1..1000).contains(&rest) {
            text.push('零');
        }
    }
    if rest > 0 {
        text.push_str(&below_ten_thousand_zh(rest, wan == 0));
    }
    text.push('元');
    text
}

/// 1–9999 in Chinese numerals. `leading`: the number starts the amount, so a leading ten is
/// written 十, not 一十 (十二万, but 一百一十万).
fn below_ten_thousand_zh(number: i64, leading: bool) -> String {
    const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    const PLACES: [&str; 4] = ["千", "百", "十", ""];
    let digits = [
        number / 1000 % 10,
        number / 100 % 10,
        number / 10 % 10,
        number % 10,
    ];
    let mut text = String::new();
    let mut zero_pending = false;
    for (place, digit) in digits.into_iter().enumerate() {
        if digit == 0 {
            zero_pending = !text.is_empty();
            continue;
        }
        if zero_pending {
            text.push('零');
            zero_pending = false;
        }
        let bare_ten = leading && text.is_empty() && place == 2 && digit == 1;
        if !bare_ten {
            text.push(DIGITS[usize::try_from(digit).unwrap_or(0)]);
        }
        text.push_str(PLACES[place]);
    }
    text
}

/// 500000 → "500,000".
fn grouped_digits(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut text = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    if amount < 0 {
        text.insert(0, '-');
    }
    text
}

/// The value of one period; its variant follows the parameter's [`Unit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RuleValue {
    /// For the units day, month, year and integer.
    Integer(i64),
    Bool(bool),
    Text(String),
    List(Vec<String>),
    MonthDay(MonthDay),
    Penalty(Penalty),
}

impl RuleValue {
    /// The value with its unit, for display and for [`RuleRef::value`]: "1 month", "5 years",
    /// "end of February". Only periods carry a unit word; other values read as [`fmt::Display`].
    pub fn describe(&self, unit: Unit) -> String {
        let word = match unit {
            Unit::Day => "day",
            Unit::Month => "month",
            Unit::Year => "year",
            _ => return self.to_string(),
        };
        match self {
            Self::Integer(1) => format!("1 {word}"),
            Self::Integer(amount) => format!("{amount} {word}s"),
            other => other.to_string(),
        }
    }
}

/// The value without its unit word (see [`RuleValue::describe`]); lists are comma-separated.
impl fmt::Display for RuleValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Integer(value) => write!(f, "{value}"),
            Self::Bool(value) => write!(f, "{value}"),
            Self::Text(value) => f.write_str(value),
            Self::List(items) => f.write_str(&items.join(", ")),
            Self::MonthDay(value) => write!(f, "{value}"),
            Self::Penalty(value) => write!(f, "{value}"),
        }
    }
}

/// One value of a parameter and the dates it is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValuePeriod {
    /// The first day the value is in force. It stays in force until the next period's `from`.
    pub from: NaiveDate,
    /// For a value that lapses without a successor: the first day it is no longer in force.
    pub until: Option<NaiveDate>,
    pub value: RuleValue,
    /// At least one; the reasons for the value.
    pub citations: Vec<RuleCitation>,
    pub note: Option<String>,
}

/// A legal parameter with its values over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parameter {
    /// Stable id that code names, e.g. "deadline.disclose".
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: Unit,
    pub description: String,
    /// For units text and list: the values the code understands. Empty means any.
    pub allowed: Vec<String>,
    /// Sorted by `from`, not overlapping.
    pub values: Vec<ValuePeriod>,
}

impl Parameter {
    /// The value period in force on a date, if any.
    pub fn period_at(&self, date: NaiveDate) -> Option<&ValuePeriod> {
        self.values
            .iter()
            .rev()
            .find(|period| period.from <= date)
            .filter(|period| period.until.is_none_or(|until| date < until))
    }
}

/// The documents and the legal parameters of one deployment, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleBook {
    /// Recorded in every [`RuleRef`]; changes whenever a value or citation changes.
    pub version: String,
    pub documents: Vec<Document>,
    pub parameters: Vec<Parameter>,
}

/// A parameter and the value period in force on the date asked for.
#[derive(Debug, Clone, Copy)]
pub struct InForce<'a> {
    pub parameter: &'a Parameter,
    pub period: &'a ValuePeriod,
}

impl InForce<'_> {
    /// What a result records about this value.
    pub fn rule_ref(&self, book_version: &str) -> RuleRef {
        RuleRef {
            id: self.parameter.id.clone(),
            book_version: book_version.to_string(),
            effective_from: self.period.from,
            value: self.period.value.describe(self.parameter.unit),
            citations: self.period.citations.clone(),
        }
    }
}

/// Why a value could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the rule book has no parameter \"{id}\"")]
    UnknownParameter { id: String },
    #[error("parameter \"{id}\" has no value in force on {date}")]
    NotInForce { id: String, date: NaiveDate },
    #[error("parameter \"{id}\" has unit {found}, but {expected} was asked for")]
    WrongType {
        id: String,
        expected: &'static str,
        found: Unit,
    },
}

/// One fault of a rule file: which file, which entry and period, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{file}: {location}: {message}")]
pub struct RuleFault {
    pub file: String,
    /// E.g. "parameter deadline.start, value from 2016-07-01".
    pub location: String,
    pub message: String,
}

impl RuleBook {
    /// The embedded documents table and Gansu parameters.
    ///
    /// # Panics
    /// Only if the embedded files are broken, which the tests of this module rule out.
    pub fn embedded() -> Self {
        match Self::from_toml(DOCUMENTS_TOML, GANSU_PARAMETERS_TOML) {
            Ok(book) => book,
            Err(faults) => panic!("embedded rule book is invalid:\n{}", join_faults(&faults)),
        }
    }

    /// Reads and checks a documents table and a parameters file; every fault of both is reported.
    pub fn from_toml(documents_toml: &str, parameters_toml: &str) -> Result<Self, Vec<RuleFault>> {
        let mut faults = Vec::new();
        let documents = read_documents(documents_toml, &mut faults);
        let known = documents.as_ref().map(|documents| &documents.ids);
        let parameters = read_parameters(
            &mut FileCheck::new(PARAMETERS_FILE, &mut faults),
            parameters_toml,
            known,
            None,
        );
        match (documents, parameters) {
            (Some(documents), Some(parameters)) if faults.is_empty() => Ok(Self {
                version: parameters.version,
                documents: documents.documents,
                parameters: parameters.parameters,
            }),
            _ => Err(faults),
        }
    }

    /// Checks the book against the province's reference data: `industries.key` must list exactly
    /// the key industries of the industries file, and every id of `industries.province_organized`
    /// must be a province industry there. Only periods still in force when the industries file
    /// took effect are compared: an older period describes an older list.
    pub fn check_against(&self, reference: &ReferenceData) -> Vec<RuleFault> {
        let since = reference
            .sources
            .iter()
            .find(|source| source.name == INDUSTRIES)
            .map(|source| source.effective_from);
        let key_ids: Vec<&str> = reference
            .key_industries
            .iter()
            .map(|industry| industry.id.as_str())
            .collect();
        let province_ids: Vec<&str> = reference
            .province_industries
            .iter()
            .map(|industry| industry.id.as_str())
            .collect();
        let mut faults = Vec::new();
        self.check_list(&mut faults, "industries.key", since, |items| {
            let missing: Vec<&str> = key_ids
                .iter()
                .copied()
                .filter(|id| !items.iter().any(|item| item == id))
                .collect();
            let extra: Vec<&str> = items
                .iter()
                .map(String::as_str)
                .filter(|item| !key_ids.contains(item))
                .collect();
            let mut problems = Vec::new();
            if !missing.is_empty() {
                problems.push(format!(
                    "lacks the key industries {} of the industries file",
                    missing.join(", ")
                ));
            }
            if !extra.is_empty() {
                problems.push(format!(
                    "names {}, which the industries file has no [[key_industry]] for",
                    extra.join(", ")
                ));
            }
            (!problems.is_empty()).then(|| problems.join("; "))
        });
        self.check_list(
            &mut faults,
            "industries.province_organized",
            since,
            |items| {
                let unknown: Vec<&str> = items
                    .iter()
                    .map(String::as_str)
                    .filter(|item| !province_ids.contains(item))
                    .collect();
                (!unknown.is_empty()).then(|| {
                    format!(
                        "names {}, which the industries file has no [[province_industry]] for",
                        unknown.join(", ")
                    )
                })
            },
        );
        faults
    }

    fn check_list(
        &self,
        faults: &mut Vec<RuleFault>,
        id: &str,
        since: Option<NaiveDate>,
        check: impl Fn(&[String]) -> Option<String>,
    ) {
        let location = format!("parameter {id}");
        let Some(parameter) = self.parameter(id) else {
            faults.push(fault(
                PARAMETERS_FILE,
                location,
                "is missing; the industries file needs it to be checked against",
            ));
            return;
        };
        for (index, period) in parameter.values.iter().enumerate() {
            let end = period
                .until
                .or_else(|| parameter.values.get(index + 1).map(|next| next.from));
            if since.zip(end).is_some_and(|(since, end)| end <= since) {
                continue;
            }
            let location = format!("{location}, value from {}", period.from);
            let message = match &period.value {
                RuleValue::List(items) => check(items),
                other => Some(format!("must be a list of ids, found {other}")),
            };
            if let Some(message) = message {
                faults.push(fault(PARAMETERS_FILE, location, message));
            }
        }
    }

    pub fn parameter(&self, id: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|parameter| parameter.id == id)
    }

    pub fn document(&self, id: &str) -> Option<&Document> {
        self.documents.iter().find(|document| document.id == id)
    }

    /// The value of a parameter in force on a date.
    pub fn at(&self, id: &str, date: NaiveDate) -> Result<InForce<'_>, RuleError> {
        let parameter = self
            .parameter(id)
            .ok_or_else(|| RuleError::UnknownParameter { id: id.to_string() })?;
        let period = parameter
            .period_at(date)
            .ok_or_else(|| RuleError::NotInForce {
                id: id.to_string(),
                date,
            })?;
        Ok(InForce { parameter, period })
    }

    /// A parameter of unit day, month, year or integer.
    pub fn integer_at(&self, id: &str, date: NaiveDate) -> Result<(i64, RuleRef), RuleError> {
        self.typed_at(
            id,
            date,
            "an integer (unit day, month, year or integer)",
            |value| match value {
                RuleValue::Integer(value) => Some(*value),
                _ => None,
            },
        )
    }

    pub fn bool_at(&self, id: &str, date: NaiveDate) -> Result<(bool, RuleRef), RuleError> {
        self.typed_at(id, date, "a bool", |value| match value {
            RuleValue::Bool(value) => Some(*value),
            _ => None,
        })
    }

    pub fn text_at(&self, id: &str, date: NaiveDate) -> Result<(String, RuleRef), RuleError> {
        self.typed_at(id, date, "a text", |value| match value {
            RuleValue::Text(value) => Some(value.clone()),
            _ => None,
        })
    }

    pub fn list_at(&self, id: &str, date: NaiveDate) -> Result<(Vec<String>, RuleRef), RuleError> {
        self.typed_at(id, date, "a list", |value| match value {
            RuleValue::List(items) => Some(items.clone()),
            _ => None,
        })
    }

    pub fn month_day_at(
        &self,
        id: &str,
        date: NaiveDate,
    ) -> Result<(MonthDay, RuleRef), RuleError> {
        self.typed_at(id, date, "a month-day", |value| match value {
            RuleValue::MonthDay(value) => Some(*value),
            _ => None,
        })
    }

    /// A parameter of unit penalty: what an article lets the authorities decide.
    pub fn penalty_at(&self, id: &str, date: NaiveDate) -> Result<(Penalty, RuleRef), RuleError> {
        self.typed_at(id, date, "a penalty", |value| match value {
            RuleValue::Penalty(value) => Some(value.clone()),
            _ => None,
        })
    }

    fn typed_at<T>(
        &self,
        id: &str,
        date: NaiveDate,
        expected: &'static str,
        extract: impl FnOnce(&RuleValue) -> Option<T>,
    ) -> Result<(T, RuleRef), RuleError> {
        let in_force = self.at(id, date)?;
        match extract(&in_force.period.value) {
            Some(value) => Ok((value, in_force.rule_ref(&self.version))),
            None => Err(RuleError::WrongType {
                id: id.to_string(),
                expected,
                found: in_force.parameter.unit,
            }),
        }
    }

    /// The book with the value periods of an extra parameters file merged in: a parameter the
    /// book has gains the overlay's periods (its unit, names and allowed values stay the book's),
    /// a new parameter is added whole. Used by a province that changes a value from a date, and
    /// by tests. The result's version is "<book version>+<overlay version>", so that results
    /// computed with it are told apart from those of the plain book.
    pub fn with_parameters_overlay(&self, overlay_toml: &str) -> Result<Self, Vec<RuleFault>> {
        let mut faults = Vec::new();
        let known: HashSet<String> = self
            .documents
            .iter()
            .map(|document| document.id.clone())
            .collect();
        let mut check = FileCheck::new(OVERLAY_FILE, &mut faults);
        let Some(overlay) = read_parameters(
            &mut check,
            overlay_toml,
            Some(&known),
            Some(&self.parameters),
        ) else {
            return Err(faults);
        };
        let mut book = self.clone();
        book.version = format!("{}+{}", self.version, overlay.version);
        for parameter in overlay.parameters {
            match book.parameters.iter_mut().find(|p| p.id == parameter.id) {
                Some(existing) => {
                    existing.values.extend(parameter.values);
                    existing.values.sort_by_key(|period| period.from);
                    check_sequence(
                        &mut check,
                        &format!("parameter {}", existing.id),
                        &existing.values,
                    );
                }
                None => book.parameters.push(parameter),
            }
        }
        if faults.is_empty() {
            Ok(book)
        } else {
            Err(faults)
        }
    }
}

fn join_faults(faults: &[RuleFault]) -> String {
    faults
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- file shapes ------------------------------------------------------------------------------
// Private row types mirror the files and refuse unknown keys, so that a misspelt key ("untill")
// is a fault rather than a silently missing value. Rows are read one by one from the parsed
// table, so that one broken row does not hide the faults of the others. Text fields default to
// empty so that "missing" and "empty" give the same, precise fault.
//
// Dates, values and nested tables are taken out of a row's table before the rest is
// deserialised: a parsed table hands a date to serde as a string, which would make
// `from = "2021-12-08"` (a string) indistinguishable from `from = 2021-12-08` (a date), and a
// value's TOML type is what the unit check is about.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentRow {
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: String,
    number: Option<String>,
    issuer: Option<String>,
    url: Option<String>,
    confidence: Option<Confidence>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterRow {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
    unit: Option<Unit>,
    #[serde(default)]
    description: String,
    allowed: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodRow {
    note: Option<String>,
}

struct DocumentsFile {
    documents: Vec<Document>,
    /// Ids of every row that names one, broken rows included, so that a fault in a document
    /// does not also turn every citation of it into an "unknown document" fault.
    ids: HashSet<String>,
}

struct ParametersFile {
    version: String,
    parameters: Vec<Parameter>,
}

// ---- checks -------------------------------------------------------------------------------------

fn fault(file: &str, location: impl Into<String>, message: impl Into<String>) -> RuleFault {
    RuleFault {
        file: file.to_string(),
        location: location.into(),
        message: message.into(),
    }
}

/// Collects the faults of one file.
struct FileCheck<'a> {
    file: &'static str,
    faults: &'a mut Vec<RuleFault>,
}

impl<'a> FileCheck<'a> {
    fn new(file: &'static str, faults: &'a mut Vec<RuleFault>) -> Self {
        Self { file, faults }
    }

    /// Records a fault once: an overlay's periods are checked on their own and again merged
    /// with the book's, which would otherwise report an overlap within the overlay twice.
    fn fault(&mut self, location: &str, message: impl Into<String>) {
        let fault = fault(self.file, location, message);
        if !self.faults.contains(&fault) {
            self.faults.push(fault);
        }
    }

    /// A required text field; false (and a fault) when it is missing or blank.
    fn required(&mut self, location: &str, field: &str, value: &str) -> bool {
        let present = !value.trim().is_empty();
        if !present {
            self.fault(location, format!("{field} is missing or empty"));
        }
        present
    }

    /// An optional text field is left out rather than given empty.
    fn optional(&mut self, location: &str, field: &str, value: Option<&String>) {
        if value.is_some_and(|value| value.trim().is_empty()) {
            self.fault(location, format!("{field} is empty; leave it out instead"));
        }
    }

    /// Takes an optional date field out of a row; `None` (and a fault) when it is not a plain
    /// date.
    fn take_date(
        &mut self,
        location: &str,
        row: &mut toml::Table,
        field: &str,
    ) -> Option<NaiveDate> {
        let value = row.remove(field)?;
        let date = match &value {
            toml::Value::Datetime(datetime) => plain_date(datetime),
            _ => None,
        };
        if date.is_none() {
            self.fault(
                location,
                format!(
                    "{field} must be a plain date such as 2021-12-08 (no quotes, no time), \
                     found {} {value}",
                    value.type_str()
                ),
            );
        }
        date
    }

    /// Takes an optional array of tables out of a row; an item that is not a table is a fault.
    fn take_tables(
        &mut self,
        location: &str,
        row: &mut toml::Table,
        field: &str,
    ) -> Vec<toml::Table> {
        let Some(value) = row.remove(field) else {
            return Vec::new();
        };
        let toml::Value::Array(items) = value else {
            self.fault(
                location,
                format!(
                    "{field} must be an array of tables, found {}",
                    value.type_str()
                ),
            );
            return Vec::new();
        };
        let mut tables = Vec::with_capacity(items.len());
        for item in items {
            match item {
                toml::Value::Table(table) => tables.push(table),
                other => self.fault(
                    location,
                    format!("{field} must hold tables, found {}", other.type_str()),
                ),
            }
        }
        tables
    }

    /// Parses a file into its top-level keys: `version` (when `with_version`) and the array of
    /// tables `rows_key`. Returns the version and the rows with their 1-based positions; `None`
    /// when the file is not TOML at all.
    fn top_level(
        &mut self,
        text: &str,
        rows_key: &str,
        with_version: bool,
    ) -> Option<(String, Vec<(usize, toml::Table)>)> {
        let table: toml::Table = match toml::from_str(text) {
            Ok(table) => table,
            Err(error) => {
                self.fault("syntax", error.to_string().trim_end());
                return None;
            }
        };
        let mut version = String::new();
        let mut rows = Vec::new();
        for (key, value) in table {
            match (key.as_str(), value) {
                ("version", toml::Value::String(text)) if with_version => version = text,
                ("version", other) if with_version => self.fault(
                    "version",
                    format!("must be a string, found {}", other.type_str()),
                ),
                (key, toml::Value::Array(items)) if key == rows_key => {
                    for (index, item) in items.into_iter().enumerate() {
                        match item {
                            toml::Value::Table(row) => rows.push((index + 1, row)),
                            other => self.fault(
                                &format!("{rows_key} #{}", index + 1),
                                format!(
                                    "must be a table ([[{rows_key}]]), found {}",
                                    other.type_str()
                                ),
                            ),
                        }
                    }
                }
                (key, other) if key == rows_key => self.fault(
                    key,
                    format!(
                        "must be an array of tables ([[{rows_key}]]), found {}",
                        other.type_str()
                    ),
                ),
                (key, _) => self.fault(key, "unknown key"),
            }
        }
        if with_version && version.trim().is_empty() {
            self.fault("version", "the rule book version is missing or empty");
        }
        Some((version, rows))
    }
}

pub(crate) fn plain_date(value: &toml::value::Datetime) -> Option<NaiveDate> {
    match (value.date, value.time, value.offset) {
        (Some(date), None, None) => {
            NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
        }
        _ => None,
    }
}

/// Where a row is, by its id when it has a readable one, else by its position.
fn row_location(kind: &str, index: usize, row: &toml::Table) -> String {
    match row.get("id").and_then(toml::Value::as_str) {
        Some(id) if !id.trim().is_empty() => format!("{kind} {id}"),
        _ => format!("{kind} #{index}"),
    }
}

/// Document ids: lower-case ASCII letters, digits, hyphens, dots and underscores, starting with
/// a letter ("measures-2016").
fn is_document_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
}

/// Parameter ids: dot-separated segments of lower-case ASCII letters, digits and underscores,
/// starting with a letter ("toxic.category.1").
fn is_parameter_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

fn read_documents(text: &str, faults: &mut Vec<RuleFault>) -> Option<DocumentsFile> {
    let mut check = FileCheck::new(DOCUMENTS_FILE, faults);
    let (_, rows) = check.top_level(text, "document", false)?;
    let mut ids = HashSet::new();
    let mut documents = Vec::new();
    for (index, mut table) in rows {
        let location = row_location("document", index, &table);
        if let Some(id) = table.get("id").and_then(toml::Value::as_str) {
            if !ids.insert(id.to_string()) {
                check.fault(&location, "duplicate document id");
            }
        }
        let issued_on = check.take_date(&location, &mut table, "issued_on");
        let effective_from = check.take_date(&location, &mut table, "effective_from");
        let repealed_on = check.take_date(&location, &mut table, "repealed_on");
        let row: DocumentRow = match table.try_into() {
            Ok(row) => row,
            Err(error) => {
                check.fault(&location, error.message());
                continue;
            }
        };
        if check.required(&location, "id", &row.id) && !is_document_id(&row.id) {
            check.fault(
                &location,
                "id must start with a lower-case letter and contain only lower-case ASCII \
                 letters, digits, hyphens, dots and underscores",
            );
        }
        check.required(&location, "title", &row.title);
        for (field, value) in [
            ("number", &row.number),
            ("issuer", &row.issuer),
            ("url", &row.url),
            ("note", &row.note),
        ] {
            check.optional(&location, field, value.as_ref());
        }
        if let Some(url) = &row.url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                check.fault(
                    &location,
                    format!("url \"{url}\" is not an http(s) address"),
                );
            }
        }
        if let (Some(issued), Some(effective)) = (issued_on, effective_from) {
            if effective < issued {
                check.fault(
                    &location,
                    format!("effective_from {effective} is before issued_on {issued}"),
                );
            }
        }
        if let Some(repealed) = repealed_on {
            if let Some(start) = effective_from.or(issued_on) {
                if repealed <= start {
                    check.fault(
                        &location,
                        format!("repealed_on {repealed} is not after {start}"),
                    );
                }
            }
        }
        let Some(confidence) = row.confidence else {
            check.fault(&location, "confidence is missing");
            continue;
        };
        documents.push(Document {
            id: row.id,
            title: row.title,
            number: row.number,
            issuer: row.issuer,
            issued_on,
            effective_from,
            repealed_on,
            url: row.url,
            confidence,
            note: row.note,
        });
    }
    Some(DocumentsFile { documents, ids })
}

/// Reads a parameters file. With `base`, the file is an overlay: a parameter the base has takes
/// its definition from there, and may only restate it unchanged. `known_documents` is `None`
/// when the documents table could not be read, so that citations are not all reported unknown.
fn read_parameters(
    check: &mut FileCheck<'_>,
    text: &str,
    known_documents: Option<&HashSet<String>>,
    base: Option<&[Parameter]>,
) -> Option<ParametersFile> {
    let (version, rows) = check.top_level(text, "parameter", true)?;
    let mut seen = HashSet::new();
    let mut parameters = Vec::new();
    for (index, mut table) in rows {
        let location = row_location("parameter", index, &table);
        let periods = check.take_tables(&location, &mut table, "period");
        let row: ParameterRow = match table.try_into() {
            Ok(row) => row,
            Err(error) => {
                check.fault(&location, error.message());
                continue;
            }
        };
        let mut id_ok = check.required(&location, "id", &row.id);
        if id_ok && !is_parameter_id(&row.id) {
            check.fault(
                &location,
                "id must be dot-separated segments of lower-case ASCII letters, digits and \
                 underscores, starting with a letter",
            );
            id_ok = false;
        }
        if id_ok && !seen.insert(row.id.clone()) {
            check.fault(&location, "duplicate parameter id");
            id_ok = false;
        }
        let existing = base.and_then(|base| base.iter().find(|p| p.id == row.id));
        let definition = match existing {
            Some(existing) => overlay_definition(check, &location, &row, existing),
            None => book_definition(check, &location, &row),
        };
        if periods.is_empty() {
            check.fault(&location, "has no value periods ([[parameter.period]])");
        }
        let values: Vec<ValuePeriod> = periods
            .into_iter()
            .enumerate()
            .filter_map(|(index, table)| {
                read_period(
                    check,
                    &location,
                    index + 1,
                    table,
                    definition.as_ref(),
                    known_documents,
                )
            })
            .collect();
        check_sequence(check, &location, &values);
        if let (true, Some((unit, allowed))) = (id_ok, definition) {
            parameters.push(Parameter {
                id: row.id,
                name_zh: existing.map_or(row.name_zh, |p| p.name_zh.clone()),
                name_en: existing.map_or(row.name_en, |p| p.name_en.clone()),
                unit,
                description: existing.map_or(row.description, |p| p.description.clone()),
                allowed,
                values,
            });
        }
    }
    Some(ParametersFile {
        version,
        parameters,
    })
}

/// The unit and allowed values of a parameter the file defines; `None` when the unit is missing.
fn book_definition(
    check: &mut FileCheck<'_>,
    location: &str,
    row: &ParameterRow,
) -> Option<(Unit, Vec<String>)> {
    check.required(location, "name_zh", &row.name_zh);
    check.required(location, "name_en", &row.name_en);
    check.required(location, "description", &row.description);
    let Some(unit) = row.unit else {
        check.fault(location, "unit is missing");
        return None;
    };
    let allowed = row.allowed.clone().unwrap_or_default();
    if !allowed.is_empty() && !matches!(unit, Unit::Text | Unit::List) {
        check.fault(
            location,
            format!("allowed applies only to units text and list, not {unit}"),
        );
    }
    let mut seen = HashSet::new();
    for value in &allowed {
        if value.trim().is_empty() {
            check.fault(location, "allowed has an empty value");
        } else if !seen.insert(value.as_str()) {
            check.fault(location, format!("allowed lists \"{value}\" twice"));
        }
    }
    Some((unit, allowed))
}

/// The definition of a parameter an overlay adds periods to: the book's. Restating a field is
/// allowed only unchanged, since periods already computed with the book depend on it.
fn overlay_definition(
    check: &mut FileCheck<'_>,
    location: &str,
    row: &ParameterRow,
    existing: &Parameter,
) -> Option<(Unit, Vec<String>)> {
    let mut changed = Vec::new();
    for (field, given, book) in [
        ("name_zh", &row.name_zh, &existing.name_zh),
        ("name_en", &row.name_en, &existing.name_en),
        ("description", &row.description, &existing.description),
    ] {
        if !given.trim().is_empty() && given != book {
            changed.push(field);
        }
    }
    if row.unit.is_some_and(|unit| unit != existing.unit) {
        changed.push("unit");
    }
    if row
        .allowed
        .as_ref()
        .is_some_and(|allowed| allowed != &existing.allowed)
    {
        changed.push("allowed");
    }
    if !changed.is_empty() {
        check.fault(
            location,
            format!(
                "an overlay adds value periods but cannot change the book's {}",
                changed.join(", ")
            ),
        );
    }
    Some((existing.unit, existing.allowed.clone()))
}

/// Reads one value period. `definition` is `None` when the parameter's unit is unknown, in
/// which case the value's type cannot be checked (the missing unit is already a fault).
fn read_period(
    check: &mut FileCheck<'_>,
    parameter_location: &str,
    index: usize,
    mut table: toml::Table,
    definition: Option<&(Unit, Vec<String>)>,
    known_documents: Option<&HashSet<String>>,
) -> Option<ValuePeriod> {
    let location = match table.get("from").and_then(toml::Value::as_datetime) {
        Some(from) => format!("{parameter_location}, value from {from}"),
        None => format!("{parameter_location}, value #{index}"),
    };
    if !table.contains_key("from") {
        check.fault(&location, "from is missing");
    }
    let from = check.take_date(&location, &mut table, "from");
    let until = check.take_date(&location, &mut table, "until");
    let raw_value = table.remove("value");
    let citation_tables = check.take_tables(&location, &mut table, "citation");
    let row: PeriodRow = match table.try_into() {
        Ok(row) => row,
        Err(error) => {
            check.fault(&location, error.message());
            return None;
        }
    };
    if let (Some(from), Some(until)) = (from, until) {
        if until <= from {
            check.fault(
                &location,
                format!("until {until} is not after from {from}: the period would be empty"),
            );
        }
    }
    check.optional(&location, "note", row.note.as_ref());
    let value = match (&raw_value, definition) {
        (None, _) => {
            check.fault(&location, "value is missing");
            None
        }
        (Some(raw), Some((unit, allowed))) => match typed_value(*unit, allowed, raw) {
            Ok(value) => Some(value),
            Err(message) => {
                check.fault(&location, format!("value: {message}"));
                None
            }
        },
        (Some(_), None) => None,
    };
    if citation_tables.is_empty() {
        check.fault(
            &location,
            "has no citation ([[parameter.period.citation]]); every value needs a source",
        );
    }
    let citations: Vec<RuleCitation> = citation_tables
        .into_iter()
        .enumerate()
        .filter_map(|(index, table)| {
            let location = format!("{location}, citation #{}", index + 1);
            read_citation(check, &location, table, known_documents)
        })
        .collect();
    Some(ValuePeriod {
        from: from?,
        until,
        value: value?,
        citations,
        note: row.note,
    })
}

fn read_citation(
    check: &mut FileCheck<'_>,
    location: &str,
    table: toml::Table,
    known_documents: Option<&HashSet<String>>,
) -> Option<RuleCitation> {
    let citation: RuleCitation = match table.try_into() {
        Ok(citation) => citation,
        Err(error) => {
            check.fault(location, error.message());
            return None;
        }
    };
    if check.required(location, "document", &citation.document)
        && known_documents.is_some_and(|known| !known.contains(&citation.document))
    {
        check.fault(
            location,
            format!(
                "document \"{}\" is not in the documents table",
                citation.document
            ),
        );
    }
    check.required(location, "article", &citation.article);
    check.optional(location, "quote", citation.quote.as_ref());
    check.optional(location, "note", citation.note.as_ref());
    Some(citation)
}

/// The value of a period, typed by the parameter's unit.
fn typed_value(unit: Unit, allowed: &[String], raw: &toml::Value) -> Result<RuleValue, String> {
    let mismatch = || {
        format!(
            "unit {unit} expects {}, found {} {raw}",
            unit.expected(),
            raw.type_str()
        )
    };
    let check_allowed = |text: &str| {
        if allowed.is_empty() || allowed.iter().any(|value| value == text) {
            Ok(())
        } else {
            Err(format!(
                "\"{text}\" is not one of the allowed values: {}",
                allowed.join(", ")
            ))
        }
    };
    match (unit, raw) {
        (Unit::Day | Unit::Month | Unit::Year, toml::Value::Integer(amount)) if *amount >= 1 => {
            Ok(RuleValue::Integer(*amount))
        }
        (Unit::Integer, toml::Value::Integer(value)) => Ok(RuleValue::Integer(*value)),
        (Unit::Bool, toml::Value::Boolean(value)) => Ok(RuleValue::Bool(*value)),
        (Unit::Text, toml::Value::String(text)) if !text.trim().is_empty() => {
            check_allowed(text)?;
            Ok(RuleValue::Text(text.clone()))
        }
        (Unit::List, toml::Value::Array(items)) => {
            let mut list: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(text) if !text.trim().is_empty() => {
                        check_allowed(text)?;
                        if list.iter().any(|seen| seen == text) {
                            return Err(format!("\"{text}\" is listed twice"));
                        }
                        list.push(text.to_string());
                    }
                    _ => return Err(mismatch()),
                }
            }
            Ok(RuleValue::List(list))
        }
        (Unit::MonthDay, toml::Value::String(text)) => {
            parse_month_day(text).map(RuleValue::MonthDay)
        }
        (Unit::Penalty, toml::Value::Table(table)) => parse_penalty(table).map(RuleValue::Penalty),
        _ => Err(mismatch()),
    }
}

fn parse_month_day(text: &str) -> Result<MonthDay, String> {
    let shape = || {
        format!(
            "\"{text}\" is not a month-day: write \"MM-DD\" (e.g. \"12-31\") or \"MM-end\" for \
             the last day of a month (e.g. \"02-end\")"
        )
    };
    let two_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    let (month, day) = text.split_once('-').ok_or_else(shape)?;
    if !two_digits(month) {
        return Err(shape());
    }
    let month: u32 = month.parse().map_err(|_| shape())?;
    if !(1..=12).contains(&month) {
        return Err(format!("\"{text}\": there is no month {month:02}"));
    }
    if day == "end" {
        return Ok(MonthDay::MonthEnd { month });
    }
    if !two_digits(day) {
        return Err(shape());
    }
    let day: u32 = day.parse().map_err(|_| shape())?;
    // A recurring day must exist every year; 2023 is a common year, so 02-29 is refused.
    if NaiveDate::from_ymd_opt(2023, month, day).is_some() {
        Ok(MonthDay::Day { month, day })
    } else if (month, day) == (2, 29) {
        Err(
            "\"02-29\" does not exist in common years: write \"02-end\" for the last day of \
             February"
                .to_string(),
        )
    } else {
        Err(format!("\"{text}\" is not a day of the calendar"))
    }
}

/// The file form of a penalty value: one inline table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PenaltyRow {
    #[serde(default)]
    kinds: Vec<String>,
    fine_min_yuan: Option<i64>,
    fine_max_yuan: Option<i64>,
    fine_after_expired_order: Option<bool>,
}

fn parse_penalty(table: &toml::Table) -> Result<Penalty, String> {
    let row: PenaltyRow = table
        .clone()
        .try_into()
        .map_err(|error: toml::de::Error| error.message().to_string())?;
    let known = || {
        PenaltyKind::ALL
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if row.kinds.is_empty() {
        return Err(format!(
            "kinds is missing or empty: name one or more of {}",
            known()
        ));
    }
    let mut kinds = Vec::with_capacity(row.kinds.len());
    for text in &row.kinds {
        let kind = PenaltyKind::parse(text)
            .ok_or_else(|| format!("\"{text}\" is not a penalty kind: {}", known()))?;
        if kinds.contains(&kind) {
            return Err(format!("\"{text}\" is listed twice"));
        }
        kinds.push(kind);
    }
    let fine = match (kinds.contains(&PenaltyKind::Fine), row.fine_max_yuan) {
        (true, Some(max_yuan)) => Some(fine_range(&kinds, &row, max_yuan)?),
        (true, None) => return Err("kinds has fine, so fine_max_yuan is required".into()),
        (false, None) if row.fine_min_yuan.is_none() && row.fine_after_expired_order.is_none() => {
            None
        }
        (false, _) => {
            return Err(
                "fine_min_yuan, fine_max_yuan and fine_after_expired_order apply only when kinds \
                 has fine"
                    .into(),
            )
        }
    };
    Ok(Penalty { kinds, fine })
}

fn fine_range(kinds: &[PenaltyKind], row: &PenaltyRow, max_yuan: i64) -> Result<FineRange, String> {
    if max_yuan < 1 {
        return Err(format!(
            "fine_max_yuan must be at least 1, found {max_yuan}"
        ));
    }
    if let Some(min_yuan) = row.fine_min_yuan {
        if !(1..=max_yuan).contains(&min_yuan) {
            return Err(format!(
                "fine_min_yuan must be from 1 to fine_max_yuan ({max_yuan}), found {min_yuan}"
            ));
        }
    }
    let after_expired_order = row.fine_after_expired_order.unwrap_or(false);
    if after_expired_order && !kinds.contains(&PenaltyKind::OrderToCorrect) {
        return Err(
            "fine_after_expired_order needs order_to_correct in kinds: the fine follows an order"
                .into(),
        );
    }
    Ok(FineRange {
        min_yuan: row.fine_min_yuan,
        max_yuan,
        after_expired_order,
    })
}

/// Faults of a parameter's periods taken in order: out of order, starting on the same day, or a
/// lapsing period running past the next one's start.
fn check_sequence(check: &mut FileCheck<'_>, parameter_location: &str, values: &[ValuePeriod]) {
    for pair in values.windows(2) {
        let [earlier, later] = pair else { continue };
        let location = format!("{parameter_location}, value from {}", later.from);
        if later.from < earlier.from {
            check.fault(
                &location,
                format!(
                    "is out of order: it follows the period from {}; list periods by date",
                    earlier.from
                ),
            );
        } else if later.from == earlier.from {
            check.fault(&location, "another period starts on the same day");
        } else if let Some(until) = earlier.until.filter(|until| *until > later.from) {
            check.fault(
                &location,
                format!(
                    "overlaps the period from {}, which runs until {until}",
                    earlier.from
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    const DOCUMENTS: &str = r#"
[[document]]
id = "law"
title = "某法"
issued_on = 2020-01-01
effective_from = 2020-02-01
confidence = "verified"

[[document]]
id = "notice"
title = "某通知"
confidence = "partly_verified"
"#;

    /// A valid period of a month-unit parameter, with one citation.
    fn period(from: &str, value: &str) -> String {
        format!(
            "[[parameter.period]]\nfrom = {from}\nvalue = {value}\n\n\
             [[parameter.period.citation]]\ndocument = \"law\"\narticle = \"第一条\"\n\
             confidence = \"verified\"\n\n"
        )
    }

    /// A parameters file with one parameter: its `unit` line (and any extra keys) and periods.
    fn parameters(definition: &str, periods: &str) -> String {
        format!(
            "version = \"test-1\"\n\n[[parameter]]\nid = \"deadline.test\"\nname_zh = \"期限\"\n\
             name_en = \"Deadline\"\ndescription = \"A deadline.\"\n{definition}\n\n{periods}"
        )
    }

    fn book(definition: &str, periods: &str) -> RuleBook {
        RuleBook::from_toml(DOCUMENTS, &parameters(definition, periods))
            .unwrap_or_else(|faults| panic!("{}", join_faults(&faults)))
    }

    fn refused(documents: &str, parameters: &str) -> Vec<RuleFault> {
        match RuleBook::from_toml(documents, parameters) {
            Ok(_) => panic!("expected faults, the files were accepted"),
            Err(faults) => faults,
        }
    }

    /// Asserts that exactly one fault has the file, a location containing `location` and a
    /// message containing `message`.
    fn assert_fault(faults: &[RuleFault], file: &str, location: &str, message: &str) {
        let found = faults.iter().any(|fault| {
            fault.file == file
                && fault.location.contains(location)
                && fault.message.contains(message)
        });
        assert!(
            found,
            "no fault {file}: …{location}…: …{message}… among:\n{}",
            join_faults(faults)
        );
    }

    // ---- the embedded book -----------------------------------------------------------------------

    #[test]
    fn embedded_book_loads_and_agrees_with_the_gansu_reference_data() {
        let book = RuleBook::embedded();
        assert_eq!(book.version, "gansu-2021.3");
        let faults = book.check_against(&ReferenceData::gansu());
        assert!(faults.is_empty(), "{}", join_faults(&faults));
    }

    #[test]
    fn embedded_book_has_every_parameter_other_code_reads_with_its_unit() {
        let book = RuleBook::embedded();
        let expected = [
            ("deadline.disclose", Unit::Month),
            ("deadline.start", Unit::Month),
            ("deadline.report", Unit::Year),
            ("period.weekends_are_rest_days", Unit::Bool),
            ("interval.double_toxic", Unit::Year),
            ("interval.measured_between", Unit::Text),
            ("planning.window_years", Unit::Year),
            ("planning.first_window_start", Unit::Integer),
            ("planning.levelling_slack_years", Unit::Integer),
            ("determination.exceedance_lookback_years", Unit::Integer),
            ("determination.toxic_lookback_years", Unit::Integer),
            ("industries.key", Unit::List),
            ("industries.province_organized", Unit::List),
            ("jurisdiction.organizer", Unit::Text),
            ("toxic.category.1", Unit::Text),
            ("toxic.category.2", Unit::Text),
            ("toxic.category.3", Unit::Text),
            ("toxic.category.4", Unit::Text),
            ("toxic.category.5", Unit::Text),
            ("calendar.city_list_submission", Unit::MonthDay),
            ("calendar.city_annual_report", Unit::MonthDay),
            ("calendar.province_publication_target", Unit::MonthDay),
            ("calendar.city_notification", Unit::Month),
            ("calendar.annual_disclosure", Unit::MonthDay),
            ("disclosure_list.years_after_acceptance", Unit::Year),
            ("disclosure_list.third_year_ends", Unit::Text),
            ("panel.min_members", Unit::Integer),
            ("panel.odd_size", Unit::Bool),
            ("panel.industry_member", Unit::Bool),
            ("panel.alternates", Unit::Integer),
            ("experts.conflict_years", Unit::Integer),
            ("experts.yearly_cap", Unit::Integer),
            ("draw.algorithm_version", Unit::Text),
            ("experts.entry.min_title_level", Unit::Text),
            ("experts.entry.min_years_experience", Unit::Integer),
            ("experts.entry.either", Unit::Bool),
            ("experts.evaluation.warn_below_rating_tenths", Unit::Integer),
            (
                "experts.evaluation.remove_below_rating_tenths",
                Unit::Integer,
            ),
            ("experts.evaluation.max_late", Unit::Integer),
            ("experts.evaluation.max_declined", Unit::Integer),
            ("experts.evaluation.remove_on_conflict", Unit::Bool),
            ("sanctions.blacklist_basis", Unit::Text),
            ("sanctions.public_after_lift_days", Unit::Integer),
            ("round.report_phases", Unit::List),
            ("round.report_documents", Unit::List),
            ("round.acceptance_documents", Unit::List),
            ("round.close_phases", Unit::List),
            ("round.small_micro.size_classes", Unit::List),
            ("round.small_micro.report_phases", Unit::List),
            ("round.small_micro.report_documents", Unit::List),
            ("round.small_micro.close_phases", Unit::List),
            ("deadline.rectify", Unit::Month),
            ("deadline.accept", Unit::Year),
            ("notices.reminder_days_before", Unit::Day),
            ("notices.escalate_to_province_after_days", Unit::Day),
            ("disclosure.items.common", Unit::List),
            ("disclosure.items.double_exceed", Unit::List),
            ("disclosure.items.double_toxic", Unit::List),
            ("options.max_investment_10k_yuan", Unit::Integer),
            ("options.max_pollutant_t_per_year", Unit::Integer),
            ("options.max_co2_t_per_year", Unit::Integer),
            ("options.max_heavy_metal_kg_per_year", Unit::Integer),
            ("options.max_energy_tce_per_year", Unit::Integer),
            ("options.max_water_t_per_year", Unit::Integer),
            ("options.max_benefit_10k_yuan_per_year", Unit::Integer),
            ("penalty.law_36", Unit::Penalty),
            ("penalty.law_39_1", Unit::Penalty),
            ("penalty.order24_art28", Unit::Penalty),
            ("penalty.order24_art29", Unit::Penalty),
            ("penalty.gansu_plan_4_4", Unit::Penalty),
            ("monitoring.air_hour_valid_minutes", Unit::Integer),
            ("monitoring.air_day_valid_hours", Unit::Integer),
            ("monitoring.water_day_valid_hours", Unit::Integer),
            ("monitoring.o2_invalid_at_percent", Unit::Integer),
            ("monitoring.over_range_is_valid", Unit::Bool),
            ("monitoring.candidate.period", Unit::Text),
            ("monitoring.candidate.min_exceedance_hours", Unit::Integer),
            ("monitoring.candidate.min_exceedance_days", Unit::Integer),
        ];
        for (id, unit) in expected {
            let parameter = book.parameter(id).unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(parameter.unit, unit, "{id}");
            // Every parameter has a value for a list year of the Gansu plan.
            assert!(book.at(id, day(2023, 1, 1)).is_ok(), "{id} not in force");
        }
        assert_eq!(book.parameters.len(), expected.len());
        for id in [
            "law-2012",
            "measures-2016",
            "guide-2018",
            "disclosure-2021",
            "notice-2020-27",
            "civil-code",
            "gansu-plan-2021",
            "hj212-2017",
            "gb13223-2011",
            "gb28662-2012",
            "gb4915-2013",
            "gb16297-1996",
            "gb8978-1996",
            "gb18918-2002",
        ] {
            assert!(book.document(id).is_some(), "document {id} missing");
        }
    }

    #[test]
    fn embedded_values_carry_the_reference_confidence() {
        let book = RuleBook::embedded();
        let on = day(2023, 1, 1);
        let (months, rule) = book.integer_at("deadline.disclose", on).unwrap();
        assert_eq!((months, rule.value.as_str()), (1, "1 month"));
        assert_eq!(rule.effective_from, day(2016, 7, 1));
        assert_eq!(rule.book_version, "gansu-2021.3");
        assert_eq!(rule.citations[0].article, "第十一条");
        assert!(!rule.needs_verification());

        let (months, rule) = book.integer_at("deadline.start", on).unwrap();
        assert_eq!((months, rule.value.as_str()), (2, "2 months"));
        assert!(rule.needs_verification(), "deadline.start is [P]");
        let (years, rule) = book.integer_at("deadline.report", on).unwrap();
        assert_eq!((years, rule.value.as_str()), (1, "1 year"));
        assert!(rule.needs_verification(), "deadline.report is [P]");
        let (weekends, rule) = book.bool_at("period.weekends_are_rest_days", on).unwrap();
        assert!(weekends);
        assert!(rule.needs_verification(), "weekends as rest days is [P]");

        // The interval is [P] from the Measures alone, settled once the Gansu plan states it.
        let (years, rule) = book
            .integer_at("interval.double_toxic", day(2020, 1, 1))
            .unwrap();
        assert_eq!(years, 5);
        assert!(rule.needs_verification());
        let (_, rule) = book.integer_at("interval.double_toxic", on).unwrap();
        assert_eq!(rule.effective_from, day(2021, 12, 8));
        assert!(!rule.needs_verification());

        let text = |id: &str| book.text_at(id, on).unwrap().0;
        let integer = |id: &str| book.integer_at(id, on).unwrap().0;
        assert_eq!(text("interval.measured_between"), "list_years");
        assert_eq!(integer("planning.window_years"), 5);
        assert_eq!(integer("planning.first_window_start"), 2022);
        assert_eq!(integer("planning.levelling_slack_years"), 2);
        assert_eq!(integer("determination.exceedance_lookback_years"), 1);
        assert_eq!(integer("determination.toxic_lookback_years"), 5);
        assert_eq!(
            text("jurisdiction.organizer"),
            "province_for_key_emission_units_in_province_industries"
        );
        assert_eq!(text("disclosure_list.third_year_ends"), "calendar_year_end");
        assert_eq!(integer("disclosure_list.years_after_acceptance"), 3);
        let (key, _) = book.list_at("industries.key", on).unwrap();
        assert_eq!(key.len(), 14);
        let (province, _) = book.list_at("industries.province_organized", on).unwrap();
        assert_eq!(province.len(), 6);

        // Design values are not law and do not ask for verification; they say so.
        let (_, rule) = book.integer_at("planning.first_window_start", on).unwrap();
        assert!(rule
            .citations
            .iter()
            .all(|citation| citation.confidence == Confidence::Design));

        // Category 1 is verified in substance, 2–5 are unverified.
        assert!(!book
            .text_at("toxic.category.1", on)
            .unwrap()
            .1
            .needs_verification());
        for category in 2..=5 {
            let (_, rule) = book
                .text_at(&format!("toxic.category.{category}"), on)
                .unwrap();
            assert!(rule.needs_verification(), "category {category}");
        }

        let month_day = |id: &str| book.month_day_at(id, on).unwrap();
        assert_eq!(
            month_day("calendar.city_list_submission").0,
            MonthDay::Day { month: 12, day: 31 }
        );
        let (report, rule) = month_day("calendar.city_annual_report");
        assert_eq!(report, MonthDay::MonthEnd { month: 2 });
        assert_eq!(rule.value, "end of February");
        assert_eq!(
            month_day("calendar.province_publication_target").0,
            MonthDay::Day { month: 1, day: 31 }
        );
        assert_eq!(
            month_day("calendar.annual_disclosure").0,
            MonthDay::Day { month: 3, day: 15 }
        );
        let (months, rule) = book.integer_at("calendar.city_notification", on).unwrap();
        assert_eq!(months, 1);
        assert_eq!(rule.citations[0].confidence, Confidence::LocalPractice);

        // The disclosure regulation took effect on 2022-02-08; before it there is no value.
        assert!(matches!(
            book.month_day_at("calendar.annual_disclosure", day(2022, 2, 7)),
            Err(RuleError::NotInForce { .. })
        ));
    }

    #[test]
    fn rules_are_data_an_overlay_changes_a_value_from_its_date() {
        let overlay = r#"
version = "overlay-1"

[[parameter]]
id = "deadline.disclose"

[[parameter.period]]
from = 2027-06-01
value = 2

[[parameter.period.citation]]
document = "gansu-plan-2021"
article = "假设的修订条款"
confidence = "design"
note = "a test overlay"
"#;
        let base = RuleBook::embedded();
        let book = base
            .with_parameters_overlay(overlay)
            .unwrap_or_else(|faults| panic!("{}", join_faults(&faults)));
        assert_eq!(book.version, "gansu-2021.3+overlay-1");

        let (before, rule) = book
            .integer_at("deadline.disclose", day(2027, 5, 31))
            .unwrap();
        assert_eq!(before, 1);
        assert_eq!(rule.effective_from, day(2016, 7, 1));
        assert_eq!(rule.citations[0].document, "measures-2016");

        let (after, rule) = book
            .integer_at("deadline.disclose", day(2027, 6, 1))
            .unwrap();
        assert_eq!(after, 2);
        assert_eq!(rule.value, "2 months");
        assert_eq!(rule.effective_from, day(2027, 6, 1));
        assert_eq!(rule.book_version, "gansu-2021.3+overlay-1");
        assert_eq!(rule.citations.len(), 1);
        assert_eq!(rule.citations[0].article, "假设的修订条款");

        // The book itself is unchanged.
        assert_eq!(
            base.integer_at("deadline.disclose", day(2027, 6, 1))
                .unwrap()
                .0,
            1
        );
    }

    #[test]
    fn an_overlay_may_add_a_parameter_but_not_redefine_or_overlap_one() {
        let base = book("unit = \"month\"", &period("2020-01-01", "1"));
        let added = format!(
            "version = \"o\"\n\n[[parameter]]\nid = \"deadline.other\"\nname_zh = \"另一期限\"\n\
             name_en = \"Other\"\ndescription = \"Another.\"\nunit = \"day\"\n\n{}",
            period("2021-01-01", "10")
        );
        let merged = base.with_parameters_overlay(&added).unwrap();
        assert_eq!(
            merged
                .integer_at("deadline.other", day(2021, 1, 1))
                .unwrap()
                .1
                .value,
            "10 days"
        );

        let redefined = format!(
            "version = \"o\"\n\n[[parameter]]\nid = \"deadline.test\"\nunit = \"year\"\n\n{}",
            period("2021-01-01", "1")
        );
        let faults = base.with_parameters_overlay(&redefined).unwrap_err();
        assert_fault(&faults, OVERLAY_FILE, "parameter deadline.test", "unit");

        let same_day = format!(
            "version = \"o\"\n\n[[parameter]]\nid = \"deadline.test\"\n\n{}",
            period("2020-01-01", "3")
        );
        let faults = base.with_parameters_overlay(&same_day).unwrap_err();
        assert_fault(&faults, OVERLAY_FILE, "value from 2020-01-01", "same day");

        let lapsing = book(
            "unit = \"month\"",
            &period("2020-01-01", "1").replace("value = 1", "until = 2022-01-01\nvalue = 1"),
        );
        let overlapping = format!(
            "version = \"o\"\n\n[[parameter]]\nid = \"deadline.test\"\n\n{}",
            period("2021-01-01", "3")
        );
        let faults = lapsing.with_parameters_overlay(&overlapping).unwrap_err();
        assert_fault(&faults, OVERLAY_FILE, "value from 2021-01-01", "overlaps");

        let unknown_document = format!(
            "version = \"o\"\n\n[[parameter]]\nid = \"deadline.test\"\n\n{}",
            period("2021-01-01", "3").replace("\"law\"", "\"nowhere\"")
        );
        let faults = base.with_parameters_overlay(&unknown_document).unwrap_err();
        assert_fault(&faults, OVERLAY_FILE, "citation #1", "\"nowhere\"");
    }

    // ---- lookup ----------------------------------------------------------------------------------

    #[test]
    fn lookup_before_at_and_after_effective_dates() {
        let periods = format!(
            "{}{}",
            period("2020-01-01", "1"),
            period("2025-06-01", "2").replace("value = 2", "until = 2026-01-01\nvalue = 2")
        );
        let book = book("unit = \"month\"", &periods);
        let value = |date| book.integer_at("deadline.test", date).map(|(v, _)| v);
        assert_eq!(
            value(day(2019, 12, 31)),
            Err(RuleError::NotInForce {
                id: "deadline.test".into(),
                date: day(2019, 12, 31)
            })
        );
        assert_eq!(value(day(2020, 1, 1)), Ok(1));
        assert_eq!(value(day(2025, 5, 31)), Ok(1));
        assert_eq!(value(day(2025, 6, 1)), Ok(2));
        assert_eq!(value(day(2025, 12, 31)), Ok(2));
        // `until` is the first day the value no longer applies; nothing follows it.
        assert!(matches!(
            value(day(2026, 1, 1)),
            Err(RuleError::NotInForce { .. })
        ));
        let in_force = book.at("deadline.test", day(2025, 7, 1)).unwrap();
        assert_eq!(in_force.period.from, day(2025, 6, 1));
        assert_eq!(in_force.rule_ref("v9").book_version, "v9");
    }

    #[test]
    fn lookup_refuses_unknown_ids_and_wrong_types() {
        let book = book("unit = \"month\"", &period("2020-01-01", "1"));
        assert_eq!(
            book.integer_at("deadline.none", day(2021, 1, 1))
                .unwrap_err(),
            RuleError::UnknownParameter {
                id: "deadline.none".into()
            }
        );
        let error = book.text_at("deadline.test", day(2021, 1, 1)).unwrap_err();
        assert_eq!(
            error,
            RuleError::WrongType {
                id: "deadline.test".into(),
                expected: "a text",
                found: Unit::Month
            }
        );
        assert_eq!(
            error.to_string(),
            "parameter \"deadline.test\" has unit month, but a text was asked for"
        );
        assert!(book.bool_at("deadline.test", day(2021, 1, 1)).is_err());
        assert!(book.list_at("deadline.test", day(2021, 1, 1)).is_err());
        assert!(book.month_day_at("deadline.test", day(2021, 1, 1)).is_err());
    }

    #[test]
    fn values_of_every_unit_are_read_and_described() {
        let cases = [
            ("unit = \"day\"", "1", "1 day"),
            ("unit = \"day\"", "10", "10 days"),
            ("unit = \"year\"", "5", "5 years"),
            ("unit = \"integer\"", "2022", "2022"),
            ("unit = \"integer\"", "0", "0"),
            ("unit = \"bool\"", "false", "false"),
            ("unit = \"text\"\nallowed = [\"a\", \"b\"]", "\"b\"", "b"),
            (
                "unit = \"list\"",
                "[\"energy\", \"coking\"]",
                "energy, coking",
            ),
            ("unit = \"list\"", "[]", ""),
            ("unit = \"month_day\"", "\"12-31\"", "12-31"),
            ("unit = \"month_day\"", "\"02-end\"", "end of February"),
            (
                "unit = \"penalty\"",
                "{ kinds = [\"order_to_correct\", \"fine\"], fine_min_yuan = 50000, \
                 fine_max_yuan = 500000, fine_after_expired_order = true }",
                "order to correct, fine; fine of 50,000 to 500,000 yuan, only after an order to \
                 correct has expired uncorrected",
            ),
            (
                "unit = \"penalty\"",
                "{ kinds = [\"public_criticism\"] }",
                "public criticism",
            ),
        ];
        for (definition, value, described) in cases {
            let book = book(definition, &period("2020-01-01", value));
            let in_force = book.at("deadline.test", day(2020, 1, 1)).unwrap();
            assert_eq!(
                in_force.rule_ref("v").value,
                described,
                "{definition} {value}"
            );
        }
    }

    // ---- faults ----------------------------------------------------------------------------------

    #[test]
    fn syntax_errors_are_faults_of_their_file() {
        let good = parameters("unit = \"month\"", &period("2020-01-01", "1"));
        let faults = refused("[[document]\nid = ", &good);
        assert_eq!(faults[0].file, DOCUMENTS_FILE);
        assert_eq!(faults[0].location, "syntax");
        // An unreadable documents table does not make every citation "unknown".
        assert_eq!(faults.len(), 1, "{}", join_faults(&faults));

        let faults = refused(DOCUMENTS, "version = \"x\"\n[[parameter]\n");
        assert_fault(&faults, PARAMETERS_FILE, "syntax", "");
        // TOML itself refuses a date that does not exist.
        let faults = refused(
            DOCUMENTS,
            &parameters("unit = \"month\"", &period("2021-02-30", "1")),
        );
        assert_fault(&faults, PARAMETERS_FILE, "syntax", "day");
    }

    #[test]
    fn unknown_keys_are_faults_at_every_level() {
        let cases = [
            (
                format!(
                    "colour = 1\n{}",
                    parameters("unit = \"month\"", &period("2020-01-01", "1"))
                ),
                "colour",
                "unknown key",
            ),
            (
                parameters(
                    "unit = \"month\"\nunits = \"x\"",
                    &period("2020-01-01", "1"),
                ),
                "parameter deadline.test",
                "units",
            ),
            (
                parameters(
                    "unit = \"month\"",
                    &period("2020-01-01", "1")
                        .replace("value = 1", "value = 1\nuntill = 2021-01-01"),
                ),
                "value from 2020-01-01",
                "untill",
            ),
            (
                parameters(
                    "unit = \"month\"",
                    &period("2020-01-01", "1").replace("article", "articel"),
                ),
                "citation #1",
                "articel",
            ),
        ];
        for (file, location, message) in cases {
            assert_fault(
                &refused(DOCUMENTS, &file),
                PARAMETERS_FILE,
                location,
                message,
            );
        }
        let documents = format!("{DOCUMENTS}\n[[document]]\nid = \"x\"\ntitle = \"X\"\nconfidence = \"verified\"\nnumbr = \"1\"\n");
        let good = parameters("unit = \"month\"", &period("2020-01-01", "1"));
        assert_fault(
            &refused(&documents, &good),
            DOCUMENTS_FILE,
            "document x",
            "numbr",
        );
    }

    #[test]
    fn missing_or_empty_fields_are_faults() {
        let periods = period("2020-01-01", "1");
        let cases = [
            (
                parameters("unit = \"month\"", &periods).replace("id = \"deadline.test\"", ""),
                "parameter #1",
                "id is missing",
            ),
            (
                parameters("unit = \"month\"", &periods)
                    .replace("name_zh = \"期限\"", "name_zh = \" \""),
                "parameter deadline.test",
                "name_zh is missing or empty",
            ),
            (
                parameters("unit = \"month\"", &periods).replace("name_en = \"Deadline\"", ""),
                "parameter deadline.test",
                "name_en is missing",
            ),
            (
                parameters("unit = \"month\"", &periods)
                    .replace("description = \"A deadline.\"", "description = \"\""),
                "parameter deadline.test",
                "description",
            ),
            (
                parameters("", &periods),
                "parameter deadline.test",
                "unit is missing",
            ),
            (
                parameters("unit = \"month\"", ""),
                "parameter deadline.test",
                "no value periods",
            ),
            (
                parameters("unit = \"month\"", &periods).replace("from = 2020-01-01\n", ""),
                "value #1",
                "from is missing",
            ),
            (
                parameters("unit = \"month\"", &periods).replace("value = 1\n", ""),
                "value from 2020-01-01",
                "value is missing",
            ),
            (
                parameters("unit = \"month\"", &periods).replace("version = \"test-1\"", ""),
                "version",
                "version is missing",
            ),
            (
                parameters("unit = \"month\"", &periods)
                    .replace("version = \"test-1\"", "version = \"\""),
                "version",
                "version is missing",
            ),
        ];
        for (file, location, message) in cases {
            assert_fault(
                &refused(DOCUMENTS, &file),
                PARAMETERS_FILE,
                location,
                message,
            );
        }
        let good = parameters("unit = \"month\"", &periods);
        let untitled = "[[document]]\nid = \"law\"\nconfidence = \"verified\"\n";
        assert_fault(
            &refused(untitled, &good),
            DOCUMENTS_FILE,
            "document law",
            "title",
        );
        let unsure = "[[document]]\nid = \"law\"\ntitle = \"某法\"\n";
        assert_fault(
            &refused(unsure, &good),
            DOCUMENTS_FILE,
            "document law",
            "confidence",
        );
        let blank = "[[document]]\nid = \"law\"\ntitle = \"某法\"\nconfidence = \"verified\"\nnumber = \"\"\n";
        assert_fault(
            &refused(blank, &good),
            DOCUMENTS_FILE,
            "document law",
            "number is empty",
        );
    }

    #[test]
    fn ids_must_be_unique_and_well_formed() {
        let one = parameters("unit = \"month\"", &period("2020-01-01", "1"));
        let twice = format!("{one}\n{}", one.replace("version = \"test-1\"", ""));
        assert_fault(
            &refused(DOCUMENTS, &twice),
            PARAMETERS_FILE,
            "parameter deadline.test",
            "duplicate parameter id",
        );
        for bad in [
            "Deadline.test",
            "deadline..test",
            "deadline-test",
            "1deadline",
            "deadline.test.",
        ] {
            let file = one.replace("id = \"deadline.test\"", &format!("id = \"{bad}\""));
            assert_fault(
                &refused(DOCUMENTS, &file),
                PARAMETERS_FILE,
                bad,
                "id must be",
            );
        }
        let documents = format!("{DOCUMENTS}\n[[document]]\nid = \"law\"\ntitle = \"又一法\"\nconfidence = \"verified\"\n");
        assert_fault(
            &refused(&documents, &one),
            DOCUMENTS_FILE,
            "document law",
            "duplicate document id",
        );
        let documents =
            "[[document]]\nid = \"Law 2012\"\ntitle = \"某法\"\nconfidence = \"verified\"\n";
        assert_fault(
            &refused(documents, &one),
            DOCUMENTS_FILE,
            "document Law 2012",
            "id must",
        );
    }

    #[test]
    fn values_must_fit_the_unit_and_the_allowed_values() {
        let cases = [
            (
                "unit = \"month\"",
                "\"1 month\"",
                "unit month expects a whole number of at least 1, found string",
            ),
            ("unit = \"month\"", "0", "unit month expects"),
            ("unit = \"year\"", "1.5", "found float"),
            (
                "unit = \"integer\"",
                "true",
                "unit integer expects an integer, found boolean",
            ),
            (
                "unit = \"bool\"",
                "\"yes\"",
                "unit bool expects true or false",
            ),
            (
                "unit = \"text\"",
                "\"\"",
                "unit text expects a non-empty string",
            ),
            (
                "unit = \"text\"\nallowed = [\"list_years\", \"acceptance_dates\"]",
                "\"list_year\"",
                "\"list_year\" is not one of the allowed values: list_years, acceptance_dates",
            ),
            (
                "unit = \"list\"",
                "\"energy\"",
                "unit list expects an array",
            ),
            (
                "unit = \"list\"",
                "[\"energy\", 3]",
                "unit list expects an array",
            ),
            (
                "unit = \"list\"",
                "[\"energy\", \"energy\"]",
                "listed twice",
            ),
            (
                "unit = \"list\"\nallowed = [\"energy\"]",
                "[\"coking\"]",
                "not one of the allowed values",
            ),
            (
                "unit = \"month_day\"",
                "\"02-30\"",
                "\"02-30\" is not a day of the calendar",
            ),
            ("unit = \"month_day\"", "\"02-29\"", "write \"02-end\""),
            ("unit = \"month_day\"", "\"13-01\"", "no month 13"),
            ("unit = \"month_day\"", "\"12/31\"", "is not a month-day"),
            ("unit = \"month_day\"", "\"2-end\"", "is not a month-day"),
            ("unit = \"month_day\"", "1231", "found integer"),
            (
                "unit = \"penalty\"",
                "\"fine\"",
                "unit penalty expects a table",
            ),
            (
                "unit = \"penalty\"",
                "{ kinds = [] }",
                "kinds is missing or empty",
            ),
            (
                "unit = \"penalty\"",
                "{ kinds = [\"warning\"] }",
                "\"warning\" is not a penalty kind: order_to_correct, fine, public_criticism",
            ),
            (
                "unit = \"penalty\"",
                "{ kinds = [\"fine\"] }",
                "fine_max_yuan is required",
            ),
            (
                "unit = \"penalty\"",
                "{ kinds = [\"public_criticism\"], fine_max_yuan = 100 }",
                "apply only when kinds has fine",
            ),
            (
                "unit = \"penalty\"",
                "{ kinds = [\"fine\"], fine_min_yuan = 600000, fine_max_yuan = 500000 }",
                "fine_min_yuan must be from 1 to fine_max_yuan (500000), found 600000",
            ),
            (
                "unit = \"penalty\"",
                "{ kinds = [\"fine\"], fine_max_yuan = 100, fine_after_expired_order = true }",
                "fine_after_expired_order needs order_to_correct",
            ),
            (
                "unit = \"penalty\"",
                "{ kinds = [\"fine\"], fine_max_yuan = 100, fine_maximum = 3 }",
                "unknown field `fine_maximum`",
            ),
        ];
        for (definition, value, message) in cases {
            let file = parameters(definition, &period("2020-01-01", value));
            assert_fault(
                &refused(DOCUMENTS, &file),
                PARAMETERS_FILE,
                "parameter deadline.test, value from 2020-01-01",
                message,
            );
        }
        let file = parameters(
            "unit = \"month\"\nallowed = [\"x\"]",
            &period("2020-01-01", "1"),
        );
        assert_fault(
            &refused(DOCUMENTS, &file),
            PARAMETERS_FILE,
            "parameter deadline.test",
            "allowed applies only to units text and list",
        );
        let file = parameters(
            "unit = \"text\"\nallowed = [\"x\", \"x\"]",
            &period("2020-01-01", "\"x\""),
        );
        assert_fault(
            &refused(DOCUMENTS, &file),
            PARAMETERS_FILE,
            "parameter deadline.test",
            "allowed lists \"x\" twice",
        );
        let file = parameters("unit = \"weeks\"", &period("2020-01-01", "1"));
        assert_fault(
            &refused(DOCUMENTS, &file),
            PARAMETERS_FILE,
            "parameter deadline.test",
            "weeks",
        );
    }

    #[test]
    fn dates_must_be_plain_and_periods_ordered_without_overlap() {
        let file = parameters("unit = \"month\"", &period("2020-01-01T08:00:00", "1"));
        assert_fault(
            &refused(DOCUMENTS, &file),
            PARAMETERS_FILE,
            "value from 2020-01-01T08:00:00",
            "from must be a plain date",
        );

        let until_before =
            period("2020-01-01", "1").replace("value = 1", "until = 2019-01-01\nvalue = 1");
        assert_fault(
            &refused(DOCUMENTS, &parameters("unit = \"month\"", &until_before)),
            PARAMETERS_FILE,
            "value from 2020-01-01",
            "until 2019-01-01 is not after from 2020-01-01",
        );

        let out_of_order = format!("{}{}", period("2022-01-01", "2"), period("2020-01-01", "1"));
        assert_fault(
            &refused(DOCUMENTS, &parameters("unit = \"month\"", &out_of_order)),
            PARAMETERS_FILE,
            "value from 2020-01-01",
            "out of order",
        );

        let same_from = format!("{}{}", period("2020-01-01", "1"), period("2020-01-01", "2"));
        assert_fault(
            &refused(DOCUMENTS, &parameters("unit = \"month\"", &same_from)),
            PARAMETERS_FILE,
            "value from 2020-01-01",
            "same day",
        );

        let overlapping = format!(
            "{}{}",
            period("2020-01-01", "1").replace("value = 1", "until = 2023-01-01\nvalue = 1"),
            period("2022-01-01", "2")
        );
        assert_fault(
            &refused(DOCUMENTS, &parameters("unit = \"month\"", &overlapping)),
            PARAMETERS_FILE,
            "value from 2022-01-01",
            "overlaps the period from 2020-01-01, which runs until 2023-01-01",
        );

        // A lapse ending on the next period's first day is not an overlap.
        let adjoining = format!(
            "{}{}",
            period("2020-01-01", "1").replace("value = 1", "until = 2022-01-01\nvalue = 1"),
            period("2022-01-01", "2")
        );
        book("unit = \"month\"", &adjoining);

        let documents = "[[document]]\nid = \"law\"\ntitle = \"某法\"\nconfidence = \"verified\"\nissued_on = 2020-03-01\neffective_from = 2020-02-01\n";
        let good = parameters("unit = \"month\"", &period("2020-01-01", "1"));
        assert_fault(
            &refused(documents, &good),
            DOCUMENTS_FILE,
            "document law",
            "effective_from 2020-02-01 is before issued_on 2020-03-01",
        );
        let documents = "[[document]]\nid = \"law\"\ntitle = \"某法\"\nconfidence = \"verified\"\neffective_from = 2020-02-01\nrepealed_on = 2020-01-01\n";
        assert_fault(
            &refused(documents, &good),
            DOCUMENTS_FILE,
            "document law",
            "repealed_on 2020-01-01 is not after 2020-02-01",
        );
        let documents = "[[document]]\nid = \"law\"\ntitle = \"某法\"\nconfidence = \"verified\"\nissued_on = \"2020-01-01\"\n";
        assert_fault(
            &refused(documents, &good),
            DOCUMENTS_FILE,
            "document law",
            "issued_on",
        );
    }

    #[test]
    fn every_value_needs_a_known_cited_article() {
        let bare = "[[parameter.period]]\nfrom = 2020-01-01\nvalue = 1\n";
        assert_fault(
            &refused(DOCUMENTS, &parameters("unit = \"month\"", bare)),
            PARAMETERS_FILE,
            "value from 2020-01-01",
            "has no citation",
        );

        let unknown = period("2020-01-01", "1").replace("\"law\"", "\"law-1999\"");
        assert_fault(
            &refused(DOCUMENTS, &parameters("unit = \"month\"", &unknown)),
            PARAMETERS_FILE,
            "value from 2020-01-01, citation #1",
            "document \"law-1999\" is not in the documents table",
        );

        let no_article =
            period("2020-01-01", "1").replace("article = \"第一条\"", "article = \"\"");
        assert_fault(
            &refused(DOCUMENTS, &parameters("unit = \"month\"", &no_article)),
            PARAMETERS_FILE,
            "citation #1",
            "article is missing or empty",
        );

        let bad_confidence = period("2020-01-01", "1").replace("\"verified\"", "\"certain\"");
        assert_fault(
            &refused(DOCUMENTS, &parameters("unit = \"month\"", &bad_confidence)),
            PARAMETERS_FILE,
            "citation #1",
            "certain",
        );
    }

    #[test]
    fn all_faults_of_both_files_are_reported_at_once() {
        let documents = "[[document]]\nid = \"law\"\ntitle = \"\"\nconfidence = \"verified\"\n";
        let second = parameters("unit = \"bool\"", &period("2020-01-01", "1"))
            .replace("version = \"test-1\"", "")
            .replace("deadline.test", "deadline.second");
        let file = format!(
            "{}\n{second}",
            parameters("unit = \"month\"", &period("2020-01-01", "\"one\""))
        );
        let faults = refused(documents, &file);
        assert_fault(&faults, DOCUMENTS_FILE, "document law", "title");
        assert_fault(
            &faults,
            PARAMETERS_FILE,
            "parameter deadline.test",
            "unit month expects",
        );
        assert_fault(
            &faults,
            PARAMETERS_FILE,
            "parameter deadline.second",
            "unit bool expects",
        );
        assert_eq!(faults.len(), 3, "{}", join_faults(&faults));
        assert_eq!(
            faults[1].to_string(),
            "parameters.toml: parameter deadline.test, value from 2020-01-01: value: unit month \
             expects a whole number of at least 1, found string \"one\""
        );
    }

    #[test]
    fn check_against_compares_the_industry_lists_with_the_reference_data() {
        let reference = ReferenceData::gansu();
        // `key` is the industries.key periods, `province` the province_organized value.
        let with_lists = |key: &str, province: &str| {
            let file = format!(
                "version = \"t\"\n\n\
                 [[parameter]]\nid = \"industries.key\"\nname_zh = \"重点行业\"\nname_en = \"Key\"\n\
                 description = \"d\"\nunit = \"list\"\n\n{}\
                 [[parameter]]\nid = \"industries.province_organized\"\nname_zh = \"省级\"\n\
                 name_en = \"Province\"\ndescription = \"d\"\nunit = \"list\"\n\n{}",
                key,
                period("2021-12-08", province)
            );
            RuleBook::from_toml(DOCUMENTS, &file).unwrap()
        };
        let embedded = RuleBook::embedded();
        let on = day(2022, 1, 1);
        let key = embedded.list_at("industries.key", on).unwrap().0;
        let quoted = |ids: &[String]| {
            let quoted: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let fewer = quoted(&key[1..]);
        let more = quoted(&[key.clone(), vec!["mining".to_string()]].concat());
        let faults =
            with_lists(&period("2021-12-08", &fewer), "[\"steel\"]").check_against(&reference);
        assert_fault(
            &faults,
            PARAMETERS_FILE,
            "parameter industries.key, value from 2021-12-08",
            "lacks the key industries energy",
        );
        let faults = with_lists(&period("2021-12-08", &more), "[\"steel\", \"cement\"]")
            .check_against(&reference);
        assert_fault(
            &faults,
            PARAMETERS_FILE,
            "parameter industries.key",
            "names mining",
        );
        assert_fault(
            &faults,
            PARAMETERS_FILE,
            "parameter industries.province_organized",
            "names cement",
        );
        assert_eq!(faults.len(), 2);
        assert!(with_lists(&period("2021-12-08", &quoted(&key)), "[]")
            .check_against(&reference)
            .is_empty());
        // A period that ended before the industries file took effect describes an older list.
        let history = format!(
            "{}{}",
            period("2016-07-01", &fewer),
            period("2021-12-08", &quoted(&key))
        );
        assert!(with_lists(&history, "[]")
            .check_against(&reference)
            .is_empty());

        let without = book("unit = \"month\"", &period("2020-01-01", "1"));
        let faults = without.check_against(&reference);
        assert_fault(
            &faults,
            PARAMETERS_FILE,
            "parameter industries.key",
            "is missing",
        );
        assert_eq!(faults.len(), 2);
    }

    // ---- month-days ------------------------------------------------------------------------------

    #[test]
    fn month_days_fall_on_the_right_date_every_year() {
        let february_end = MonthDay::MonthEnd { month: 2 };
        assert_eq!(february_end.in_year(2023), day(2023, 2, 28));
        assert_eq!(february_end.in_year(2024), day(2024, 2, 29));
        assert_eq!(
            MonthDay::MonthEnd { month: 12 }.in_year(2024),
            day(2024, 12, 31)
        );
        assert_eq!(
            MonthDay::Day { month: 3, day: 15 }.in_year(2025),
            day(2025, 3, 15)
        );
        // Built by hand: a day the month lacks falls on its last day.
        assert_eq!(
            MonthDay::Day { month: 2, day: 29 }.in_year(2025),
            day(2025, 2, 28)
        );
        assert_eq!(february_end.to_string(), "end of February");
        assert_eq!(MonthDay::Day { month: 1, day: 5 }.to_string(), "01-05");
        assert_eq!(serde_json::to_string(&february_end).unwrap(), "\"02-end\"");
        assert_eq!(
            serde_json::to_string(&RuleValue::MonthDay(MonthDay::Day { month: 12, day: 31 }))
                .unwrap(),
            "\"12-31\""
        );
    }

    #[test]
    fn fine_ranges_read_as_statutes_word_them_and_include_both_ends() {
        let law_39 = FineRange {
            min_yuan: Some(50_000),
            max_yuan: 500_000,
            after_expired_order: true,
        };
        assert_eq!(law_39.describe_zh(), "五万元以上五十万元以下");
        assert_eq!(law_39.describe_en(), "50,000 to 500,000 yuan");
        assert!(law_39.contains(50_000) && law_39.contains(500_000));
        assert!(!law_39.contains(49_999) && !law_39.contains(500_001));
        let law_36 = FineRange {
            min_yuan: None,
            max_yuan: 100_000,
            after_expired_order: false,
        };
        assert_eq!(law_36.describe_zh(), "十万元以下");
        assert_eq!(law_36.describe_en(), "up to 100,000 yuan");
        assert!(law_36.contains(1) && law_36.contains(100_000));
        assert!(!law_36.contains(0) && !law_36.contains(100_001));
    }

    #[test]
    fn amounts_are_written_in_chinese_numerals() {
        for (amount, text) in [
            (1, "一元"),
            (10, "十元"),
            (105, "一百零五元"),
            (1_001, "一千零一元"),
            (10_000, "一万元"),
            (10_010, "一万零一十元"),
            (10_500, "一万零五百元"),
            (15_000, "一万五千元"),
            (50_000, "五万元"),
            (100_000, "十万元"),
            (120_000, "十二万元"),
            (500_000, "五十万元"),
            (1_100_000, "一百一十万元"),
            (99_999_999, "九千九百九十九万九千九百九十九元"),
            (100_000_000, "100000000元"),
        ] {
            assert_eq!(yuan_zh(amount), text, "{amount}");
        }
    }

    #[test]
    fn a_penalty_serialises_in_the_file_form() {
        let penalty = Penalty {
            kinds: vec![PenaltyKind::OrderToCorrect, PenaltyKind::Fine],
            fine: Some(FineRange {
                min_yuan: None,
                max_yuan: 100_000,
                after_expired_order: false,
            }),
        };
        assert_eq!(
            serde_json::to_value(RuleValue::Penalty(penalty.clone())).unwrap(),
            serde_json::json!({"kinds": ["order_to_correct", "fine"], "fine_max_yuan": 100000,
                "fine_after_expired_order": false})
        );
        assert_eq!(penalty.describe_zh(), "责令改正、罚款；罚款十万元以下");
    }
}
