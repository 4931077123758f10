//! Determination: for one enterprise and one list year, whether it must run a mandatory cleaner
//! production audit (强制性清洁生产审核), is deemed audited through a park pilot, or is not
//! required to — with the evidence and the rules that produced the answer.
//!
//! The conditions are those of 促进法 Art. 27(2) and 办法 Art. 8 within the environment
//! department's remit (Gansu plan §三(一)(二)): 双超 (over a discharge standard, or over a
//! total-load quota) and 双有 (toxic or hazardous raw materials or discharges, five categories).
//! 高耗能 belongs to the energy-saving authority and is not determined here.
//!
//! Semantics (the rule file states the same choices):
//!
//! - **Which evidence counts.** Only evidence with status `Confirmed`, confirmed on or before
//!   `as_of` and observed on or before `as_of`. Candidates and dismissed evidence never count.
//!   `as_of` reproduces "the determination as it stood on date D": evidence confirmed later,
//!   parks that passed later and acceptances later than D are ignored. Registry facts
//!   (registration, closure) carry no date of knowledge and are taken as recorded.
//! - **Existence.** An enterprise closed on or before 1 January of the year, or registered
//!   after 31 December of it, is not required. Closure later in the year does not exempt it
//!   (it operated that year). Evidence observed before `registered_on` is kept: evidence
//!   belongs to the plant, and a registry date often records a re-registration (new credit
//!   code, change of owner) rather than the start of operation.
//! - **双超** ("依法及时纳入当年强制性审核企业名单"): evidence observed in the calendar years
//!   `[year − exceedance_lookback_years, year]` makes the enterprise must-audit for `year` and
//!   puts it on that year's list at once. Evidence observed in year E is consumed by an
//!   `Audit` round listed in `[E, year − 1]`: that round already dealt with it. A park round
//!   consumes nothing, so 双超 always wins over park coverage.
//! - **双有** is planned, not added mid-year: evidence observed in the calendar years
//!   `[year − toxic_lookback_years, year − 1]` counts for `year`; evidence observed during
//!   `year` counts from `year + 1`. Categories come from `toxic_category` (1..=5), else from
//!   the kind (`HazardousWaste` → 1, `HeavyMetal` → 3). 双有 evidence is never consumed: the
//!   rounds only move the due year.
//! - **Due year (双有).** The rounds that count are the `Audit` rounds listed before `year`,
//!   the `ParkDeemed` rounds listed up to `year`, and every park pilot that passed evaluation
//!   by `as_of` in a year up to `year` (each "视同开展一次清洁生产审核", listed in the year it
//!   passed). From the last of them (latest list year): due = list year + interval when the
//!   interval is measured between list years; when measured between acceptance dates, due =
//!   year of acceptance + interval, falling back to the list year while the round is not
//!   accepted by `as_of`. With no round: the last year of the planning window containing
//!   `year`, windows being `[first_window_start + k·window_years, … + window_years − 1]`.
//!   (Counting 双有 evidence is at latest from `year − 1`, so "the window containing
//!   max(year, first evidence year + 1)" is always the window containing `year`.)
//!   `overdue` = due < year; the enterprise belongs on this year's list when due ≤ year,
//!   otherwise the city's plan places it.
//! - **Deemed audited.** A member of a park pilot that passed evaluation (by `as_of`) in year
//!   P is deemed audited for the years `[P, P + interval − 1]`, unless 双超 evidence counts.
//!   From `P + interval` the park no longer covers it.
//! - **Otherwise** not required; the explanation names each piece of evidence that did not
//!   count and why.
//! - **Audit rounds listed in `year` or later** are ignored (they are the result of this
//!   determination, not its input); only park rounds of `year` itself count, being facts.
//! - **Explanation and rules.** One line per piece of evidence (why it counts or not), per
//!   known park, for the due year, and a conclusion; each names its evidence ids and rule ids.
//!   `rules` holds exactly the rules the lines name, in the order of `DeterminationRules::refs`.

#[cfg(test)]
mod scenarios;

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::rules::{RuleBook, RuleError, RuleRef, Unit};

/// Ids of the rule book parameters the determination reads, in the order of
/// [`DeterminationRules::refs`].
pub mod rule_id {
    pub const INTERVAL: &str = "interval.double_toxic";
    pub const MEASURED_BETWEEN: &str = "interval.measured_between";
    pub const WINDOW_YEARS: &str = "planning.window_years";
    pub const FIRST_WINDOW_START: &str = "planning.first_window_start";
    pub const EXCEEDANCE_LOOKBACK: &str = "determination.exceedance_lookback_years";
    pub const TOXIC_LOOKBACK: &str = "determination.toxic_lookback_years";

    pub const ALL: [&str; 6] = [
        INTERVAL,
        MEASURED_BETWEEN,
        WINDOW_YEARS,
        FIRST_WINDOW_START,
        EXCEEDANCE_LOOKBACK,
        TOXIC_LOOKBACK,
    ];
}

/// A mandatory-audit condition (促进法 Art. 27(2) items 1 and 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// 双超: discharge over a national or local discharge standard.
    ExceedConcentration,
    /// 双超: within the standard but over the total-load quota of a key pollutant.
    ExceedTotalLoad,
    /// 双有: toxic or hazardous raw materials used, or toxic or hazardous substances discharged.
    DoubleToxic,
}

impl Reason {
    pub const ALL: [Reason; 3] = [
        Self::ExceedConcentration,
        Self::ExceedTotalLoad,
        Self::DoubleToxic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExceedConcentration => "exceed_concentration",
            Self::ExceedTotalLoad => "exceed_total_load",
            Self::DoubleToxic => "double_toxic",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::ExceedConcentration => "双超-超标",
            Self::ExceedTotalLoad => "双超-超总量",
            Self::DoubleToxic => "双有",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::ExceedConcentration => "over a discharge standard (双超)",
            Self::ExceedTotalLoad => "over a total-load quota (双超)",
            Self::DoubleToxic => "toxic or hazardous substances (双有)",
        }
    }

    /// 双超 reasons put the enterprise on the current year's list at once.
    pub fn is_double_exceedance(self) -> bool {
        matches!(self, Self::ExceedConcentration | Self::ExceedTotalLoad)
    }
}

/// What a piece of evidence shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    ConcentrationExceedance,
    TotalLoadExceedance,
    ToxicRawMaterial,
    ToxicDischarge,
    HazardousWaste,
    HeavyMetal,
}

impl EvidenceKind {
    const ALL: [EvidenceKind; 6] = [
        Self::ConcentrationExceedance,
        Self::TotalLoadExceedance,
        Self::ToxicRawMaterial,
        Self::ToxicDischarge,
        Self::HazardousWaste,
        Self::HeavyMetal,
    ];

    pub fn all() -> &'static [EvidenceKind] {
        &Self::ALL
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConcentrationExceedance => "concentration_exceedance",
            Self::TotalLoadExceedance => "total_load_exceedance",
            Self::ToxicRawMaterial => "toxic_raw_material",
            Self::ToxicDischarge => "toxic_discharge",
            Self::HazardousWaste => "hazardous_waste",
            Self::HeavyMetal => "heavy_metal",
        }
    }

    /// The kind named by its snake_case id (as stored and as in the API).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn reason(self) -> Reason {
        match self {
            Self::ConcentrationExceedance => Reason::ExceedConcentration,
            Self::TotalLoadExceedance => Reason::ExceedTotalLoad,
            Self::ToxicRawMaterial
            | Self::ToxicDischarge
            | Self::HazardousWaste
            | Self::HeavyMetal => Reason::DoubleToxic,
        }
    }

    /// The toxic category (办法 Art. 8, second paragraph) the kind implies by itself: hazardous
    /// waste is category 1, heavy metals category 3; the other kinds need a stated category.
    pub fn implied_category(self) -> Option<u8> {
        match self {
            Self::HazardousWaste => Some(1),
            Self::HeavyMetal => Some(3),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::ConcentrationExceedance => "超过排放标准",
            Self::TotalLoadExceedance => "超过重点污染物排放总量控制指标",
            Self::ToxicRawMaterial => "使用有毒有害原料",
            Self::ToxicDischarge => "排放有毒有害物质",
            Self::HazardousWaste => "产生危险废物",
            Self::HeavyMetal => "涉重金属",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::ConcentrationExceedance => "over a discharge standard",
            Self::TotalLoadExceedance => "over a total-load quota",
            Self::ToxicRawMaterial => "toxic or hazardous raw material",
            Self::ToxicDischarge => "toxic or hazardous discharge",
            Self::HazardousWaste => "hazardous waste",
            Self::HeavyMetal => "heavy metals",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// Found (e.g. by the HJ 212 receiver) but not yet checked by an official.
    Candidate,
    Confirmed,
    Dismissed,
}

/// Where the evidence comes from (Gansu plan §三(一)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    SupervisoryMonitoring,
    OnlineMonitoring,
    Inspection,
    PollutionCensus,
    DischargePermit,
    EnterpriseReport,
    Other,
}

impl EvidenceSource {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::SupervisoryMonitoring => "监督性监测",
            Self::OnlineMonitoring => "在线监测",
            Self::Inspection => "日常检查/现场督查",
            Self::PollutionCensus => "污染源普查",
            Self::DischargePermit => "排污许可证登记信息",
            Self::EnterpriseReport => "企业报告",
            Self::Other => "其他",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::SupervisoryMonitoring => "supervisory monitoring",
            Self::OnlineMonitoring => "online monitoring",
            Self::Inspection => "inspection",
            Self::PollutionCensus => "pollution census",
            Self::DischargePermit => "discharge permit",
            Self::EnterpriseReport => "enterprise report",
            Self::Other => "other source",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFact {
    pub id: i64,
    pub kind: EvidenceKind,
    pub observed_on: NaiveDate,
    pub status: EvidenceStatus,
    pub confirmed_on: Option<NaiveDate>,
    /// Toxic category 1..=5, for the 双有 kinds; other values are ignored.
    pub toxic_category: Option<u8>,
    /// What was observed, e.g. "COD 120 mg/L > 100 mg/L (GB 8978)".
    pub summary: String,
    pub source: EvidenceSource,
    pub document_ref: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundKind {
    Audit,
    /// 视同开展一次清洁生产审核: a member of a park pilot that passed evaluation.
    ParkDeemed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastRound {
    pub list_year: i32,
    pub kind: RoundKind,
    pub reasons: BTreeSet<Reason>,
    pub accepted_on: Option<NaiveDate>,
    /// Where the record comes from, e.g. "import 2026-03", "park 兰州经济技术开发区".
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkPilot {
    pub park_id: i64,
    pub park_name: String,
    /// The day the pilot project passed evaluation.
    pub passed_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseFacts {
    pub enterprise_id: i64,
    pub name: String,
    pub registered_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub evidence: Vec<EvidenceFact>,
    pub rounds: Vec<PastRound>,
    pub park_pilots: Vec<ParkPilot>,
}

/// Between which events the 双有 interval is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMeasure {
    ListYears,
    AcceptanceDates,
}

impl IntervalMeasure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ListYears => "list_years",
            Self::AcceptanceDates => "acceptance_dates",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::ListYears, Self::AcceptanceDates]
            .into_iter()
            .find(|measure| measure.as_str() == text)
    }
}

/// The rule book parameters the determination needs, read once for a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeterminationRules {
    pub interval_years: i32,
    pub measured_between: IntervalMeasure,
    pub window_years: i32,
    pub first_window_start: i32,
    pub exceedance_lookback_years: i32,
    pub toxic_lookback_years: i32,
    /// The rules these came from, in the order of [`rule_id::ALL`].
    pub refs: Vec<RuleRef>,
}

impl DeterminationRules {
    /// The parameters in force on `on`.
    pub fn from_book(book: &RuleBook, on: NaiveDate) -> Result<Self, RuleError> {
        const POSITIVE: &str = "a whole number of years, at least 1";
        const NON_NEGATIVE: &str = "a whole number of years, at least 0";
        let (interval_years, interval) = years_at(book, rule_id::INTERVAL, on, 1, POSITIVE)?;
        let (measure, measured) = book.text_at(rule_id::MEASURED_BETWEEN, on)?;
        let measured_between =
            IntervalMeasure::parse(&measure).ok_or_else(|| RuleError::WrongType {
                id: rule_id::MEASURED_BETWEEN.to_string(),
                expected: "list_years or acceptance_dates",
                found: Unit::Text,
            })?;
        let (window_years, window) = years_at(book, rule_id::WINDOW_YEARS, on, 1, POSITIVE)?;
        let (first_window_start, start) =
            years_at(book, rule_id::FIRST_WINDOW_START, on, i32::MIN, "a year")?;
        let (exceedance_lookback_years, exceedance) =
            years_at(book, rule_id::EXCEEDANCE_LOOKBACK, on, 0, NON_NEGATIVE)?;
        let (toxic_lookback_years, toxic) =
            years_at(book, rule_id::TOXIC_LOOKBACK, on, 0, NON_NEGATIVE)?;
        Ok(Self {
            interval_years,
            measured_between,
            window_years,
            first_window_start,
            exceedance_lookback_years,
            toxic_lookback_years,
            refs: vec![interval, measured, window, start, exceedance, toxic],
        })
    }

    pub fn rule(&self, id: &str) -> Option<&RuleRef> {
        self.refs.iter().find(|rule| rule.id == id)
    }

    /// The last year of the planning window that contains `year`.
    pub fn window_end(&self, year: i32) -> i32 {
        let offset = (year - self.first_window_start).div_euclid(self.window_years);
        self.first_window_start + (offset + 1) * self.window_years - 1
    }
}

/// An integer parameter that counts years (or is a year), at least `minimum`: a zero window
/// or interval would make every computation below meaningless.
fn years_at(
    book: &RuleBook,
    id: &str,
    on: NaiveDate,
    minimum: i32,
    expected: &'static str,
) -> Result<(i32, RuleRef), RuleError> {
    let (value, rule) = book.integer_at(id, on)?;
    match i32::try_from(value) {
        Ok(years) if years >= minimum => Ok((years, rule)),
        _ => Err(RuleError::WrongType {
            id: id.to_string(),
            expected,
            found: book.at(id, on)?.parameter.unit,
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    MustAudit,
    DeemedAudited,
    NotRequired,
}

impl Outcome {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::MustAudit => "须实施强制性清洁生产审核",
            Self::DeemedAudited => "视同已开展清洁生产审核",
            Self::NotRequired => "不需实施强制性清洁生产审核",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::MustAudit => "must audit",
            Self::DeemedAudited => "deemed audited",
            Self::NotRequired => "not required",
        }
    }
}

/// One readable step of the reasoning, with the evidence and rules it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplanationLine {
    pub zh: String,
    pub en: String,
    pub evidence_ids: Vec<i64>,
    pub rule_ids: Vec<String>,
}

impl ExplanationLine {
    fn new(zh: String, en: String, evidence_ids: Vec<i64>, rule_ids: &[&str]) -> Self {
        Self {
            zh,
            en,
            evidence_ids,
            rule_ids: rule_ids.iter().map(|id| id.to_string()).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determination {
    pub enterprise_id: i64,
    pub year: i32,
    pub as_of: NaiveDate,
    pub outcome: Outcome,
    /// The conditions met. With `DeemedAudited` only 双有 can appear: the park round covers it.
    pub reasons: BTreeSet<Reason>,
    pub toxic_categories: BTreeSet<u8>,
    /// For 双有: the last list year by which the next round is due.
    pub due_year: Option<i32>,
    pub overdue: bool,
    /// Must be on this year's list (双超, or 双有 due this year or earlier).
    pub list_this_year: bool,
    /// The evidence that counted, ascending.
    pub evidence_ids: Vec<i64>,
    pub explanation: Vec<ExplanationLine>,
    /// Exactly the rules used, in the order of [`DeterminationRules::refs`].
    pub rules: Vec<RuleRef>,
}

/// The determination for `facts` in list `year`, as it stood on `as_of`.
pub fn determine(
    facts: &EnterpriseFacts,
    year: i32,
    as_of: NaiveDate,
    rules: &DeterminationRules,
) -> Determination {
    let mut result = Determination {
        enterprise_id: facts.enterprise_id,
        year,
        as_of,
        outcome: Outcome::NotRequired,
        reasons: BTreeSet::new(),
        toxic_categories: BTreeSet::new(),
        due_year: None,
        overdue: false,
        list_this_year: false,
        evidence_ids: Vec::new(),
        explanation: Vec::new(),
        rules: Vec::new(),
    };
    if let Some(line) = existence_line(facts, year) {
        result.explanation.push(line);
        return result;
    }
    let review = Review::of(facts, year, as_of, rules);
    let park = covering_park(facts, year, as_of, rules);
    let due = (!review.toxic.is_empty()).then(|| due_year(facts, year, as_of, rules));
    let exceeds = !review.exceedance.is_empty();
    result.outcome = outcome(exceeds, park.is_some(), due.is_some());
    result.reasons = review.reasons();
    result.toxic_categories = review.categories();
    result.evidence_ids = review.counted_ids();
    result.due_year = due.as_ref().map(|due| due.year);
    result.overdue = result.due_year.is_some_and(|due| due < year);
    result.list_this_year = result.outcome == Outcome::MustAudit
        && (exceeds || result.due_year.is_some_and(|due| due <= year));
    result.explanation = review.lines;
    result
        .explanation
        .extend(park_lines(facts, year, as_of, rules));
    result.explanation.extend(due.map(|due| due.line));
    result.rules = used_rules(&result.explanation, rules);
    let conclusion = conclusion_line(&result, park);
    result.explanation.push(conclusion);
    result
}

/// 双超 comes first: it is listed at once even in a covered park (Gansu plan §三(二)).
fn outcome(exceeds: bool, in_covering_park: bool, toxic: bool) -> Outcome {
    if exceeds {
        Outcome::MustAudit
    } else if in_covering_park {
        Outcome::DeemedAudited
    } else if toxic {
        Outcome::MustAudit
    } else {
        Outcome::NotRequired
    }
}

/// Why the enterprise did not exist for `year`, if it did not.
fn existence_line(facts: &EnterpriseFacts, year: i32) -> Option<ExplanationLine> {
    let closed_by_new_year = facts
        .closed_on
        .filter(|closed| closed.year() < year || (closed.year() == year && closed.ordinal() == 1));
    if let Some(closed) = closed_by_new_year {
        return Some(ExplanationLine::new(
            format!("企业已于{closed}关闭，{year}年不需实施强制性清洁生产审核"),
            format!("The enterprise closed on {closed}; no audit is required for {year}."),
            Vec::new(),
            &[],
        ));
    }
    let registered = facts.registered_on;
    (registered.year() > year).then(|| {
        ExplanationLine::new(
            format!("企业于{registered}登记，晚于{year}年，{year}年不需实施强制性清洁生产审核"),
            format!(
                "The enterprise was registered on {registered}, after {year}; no audit is \
                 required for {year}."
            ),
            Vec::new(),
            &[],
        )
    })
}

/// How one piece of evidence stands for the list year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Counts,
    Candidate,
    Dismissed,
    /// Not confirmed (or not even observed) by `as_of`.
    Unconfirmed,
    /// Observed before the lookback window.
    Lapsed,
    /// Observed after the list year.
    AfterYear,
    /// 双有 observed during the list year: counts from the next year.
    NextYear,
    /// 双超 already dealt with by the audit round of this list year.
    Consumed(i32),
}

fn standing(
    fact: &EvidenceFact,
    year: i32,
    as_of: NaiveDate,
    context: &EvidenceContext,
) -> Standing {
    match fact.status {
        EvidenceStatus::Candidate => return Standing::Candidate,
        EvidenceStatus::Dismissed => return Standing::Dismissed,
        EvidenceStatus::Confirmed => {}
    }
    if fact.observed_on > as_of || fact.confirmed_on.is_none_or(|on| on > as_of) {
        return Standing::Unconfirmed;
    }
    let observed = fact.observed_on.year();
    if observed > year {
        Standing::AfterYear
    } else if fact.kind.reason().is_double_exceedance() {
        exceedance_standing(observed, year, context)
    } else {
        toxic_standing(observed, year, context.rules)
    }
}

fn exceedance_standing(observed: i32, year: i32, context: &EvidenceContext) -> Standing {
    if observed < year - context.rules.exceedance_lookback_years {
        return Standing::Lapsed;
    }
    let consumed_by = context
        .audit_years
        .iter()
        .copied()
        .filter(|&listed| listed >= observed && listed < year)
        .min();
    consumed_by.map_or(Standing::Counts, Standing::Consumed)
}

fn toxic_standing(observed: i32, year: i32, rules: &DeterminationRules) -> Standing {
    if observed == year {
        Standing::NextYear
    } else if observed < year - rules.toxic_lookback_years {
        Standing::Lapsed
    } else {
        Standing::Counts
    }
}

/// What the standing of a piece of evidence depends on besides its own dates.
struct EvidenceContext<'a> {
    rules: &'a DeterminationRules,
    /// List years of the enterprise's audit rounds (they consume 双超 evidence).
    audit_years: Vec<i32>,
}

/// The evidence sorted by how it stands, with a line for each piece.
struct Review<'a> {
    exceedance: Vec<&'a EvidenceFact>,
    toxic: Vec<&'a EvidenceFact>,
    lines: Vec<ExplanationLine>,
}

impl<'a> Review<'a> {
    fn of(
        facts: &'a EnterpriseFacts,
        year: i32,
        as_of: NaiveDate,
        rules: &DeterminationRules,
    ) -> Self {
        let context = EvidenceContext {
            rules,
            audit_years: facts
                .rounds
                .iter()
                .filter(|round| round.kind == RoundKind::Audit)
                .map(|round| round.list_year)
                .collect(),
        };
        let mut evidence: Vec<&EvidenceFact> = facts.evidence.iter().collect();
        evidence.sort_by_key(|fact| (fact.observed_on, fact.id));
        let mut review = Review {
            exceedance: Vec::new(),
            toxic: Vec::new(),
            lines: Vec::new(),
        };
        for fact in evidence {
            let standing = standing(fact, year, as_of, &context);
            review
                .lines
                .push(evidence_line(fact, standing, year, as_of));
            if standing == Standing::Counts && fact.kind.reason().is_double_exceedance() {
                review.exceedance.push(fact);
            } else if standing == Standing::Counts {
                review.toxic.push(fact);
            }
        }
        review
    }

    fn counted(&self) -> impl Iterator<Item = &&'a EvidenceFact> {
        self.exceedance.iter().chain(&self.toxic)
    }

    fn reasons(&self) -> BTreeSet<Reason> {
        self.counted().map(|fact| fact.kind.reason()).collect()
    }

    fn categories(&self) -> BTreeSet<u8> {
        self.toxic
            .iter()
            .filter_map(|fact| category(fact))
            .collect()
    }

    fn counted_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.counted().map(|fact| fact.id).collect();
        ids.sort_unstable();
        ids
    }
}

fn category(fact: &EvidenceFact) -> Option<u8> {
    fact.toxic_category
        .filter(|category| (1..=5).contains(category))
        .or(fact.kind.implied_category())
}

fn lookback_rule(kind: EvidenceKind) -> &'static str {
    if kind.reason().is_double_exceedance() {
        rule_id::EXCEEDANCE_LOOKBACK
    } else {
        rule_id::TOXIC_LOOKBACK
    }
}

/// The line for one piece of evidence: what it shows when it counts, else why it does not.
fn evidence_line(
    fact: &EvidenceFact,
    standing: Standing,
    year: i32,
    as_of: NaiveDate,
) -> ExplanationLine {
    let ids = vec![fact.id];
    let id = fact.id;
    let (kind_zh, kind_en) = (fact.kind.label_zh(), fact.kind.label_en());
    let on = fact.observed_on;
    match standing {
        Standing::Counts => counted_line(fact),
        Standing::Candidate => ExplanationLine::new(
            format!("证据#{id}（{on}，{kind_zh}）尚待核实，不计入"),
            format!("Evidence #{id} ({on}, {kind_en}) awaits confirmation; not counted."),
            ids,
            &[],
        ),
        Standing::Dismissed => ExplanationLine::new(
            format!("证据#{id}（{on}，{kind_zh}）已排除，不计入"),
            format!("Evidence #{id} ({on}, {kind_en}) was dismissed; not counted."),
            ids,
            &[],
        ),
        Standing::Unconfirmed => ExplanationLine::new(
            format!("证据#{id}（{on}，{kind_zh}）截至{as_of}尚未确认，不计入"),
            format!("Evidence #{id} ({on}, {kind_en}) was not confirmed by {as_of}; not counted."),
            ids,
            &[],
        ),
        Standing::Lapsed => ExplanationLine::new(
            format!("证据#{id}（{on}，{kind_zh}）早于回溯期，不计入{year}年"),
            format!(
                "Evidence #{id} ({on}, {kind_en}) is older than the lookback period; not \
                 counted for {year}."
            ),
            ids,
            &[lookback_rule(fact.kind)],
        ),
        Standing::AfterYear => ExplanationLine::new(
            format!("证据#{id}（{on}，{kind_zh}）晚于{year}年，不计入{year}年"),
            format!("Evidence #{id} ({on}, {kind_en}) is from after {year}; not counted for it."),
            ids,
            &[],
        ),
        Standing::NextYear => ExplanationLine::new(
            format!(
                "证据#{id}（{on}，{kind_zh}）为{year}年内发现的双有情形，自{}年起计入（双有企业按计划安排，不在年中增补）",
                year + 1
            ),
            format!(
                "Evidence #{id} ({on}, {kind_en}) was observed during {year}; 双有 counts from \
                 {} (双有 enterprises are planned, not added mid-year).",
                year + 1
            ),
            ids,
            &[],
        ),
        Standing::Consumed(listed) => ExplanationLine::new(
            format!("证据#{id}（{on}，{kind_zh}）已由{listed}年名单的审核处理，不再计入"),
            format!(
                "Evidence #{id} ({on}, {kind_en}) was dealt with by the audit on the {listed} \
                 list; not counted again."
            ),
            ids,
            &[],
        ),
    }
}

/// E.g. "2026-08-14 监督性监测：COD 120 mg/L > 100 mg/L，超过排放标准（双超-超标）".
fn counted_line(fact: &EvidenceFact) -> ExplanationLine {
    let reason = fact.kind.reason();
    let (category_zh, category_en) = match category(fact) {
        Some(category) if reason == Reason::DoubleToxic => (
            format!("，第{category}类"),
            format!(", category {category}"),
        ),
        _ => (String::new(), String::new()),
    };
    let (summary, summary_en) = match fact.summary.as_str() {
        "" => (String::new(), String::new()),
        text => (format!("{text}，"), format!("{text}; ")),
    };
    ExplanationLine::new(
        format!(
            "{} {}：{summary}{}（{}{category_zh}）",
            fact.observed_on,
            fact.source.label_zh(),
            fact.kind.label_zh(),
            reason.label_zh()
        ),
        format!(
            "{} {}: {summary_en}{} ({}{category_en})",
            fact.observed_on,
            fact.source.label_en(),
            fact.kind.label_en(),
            reason.label_en()
        ),
        vec![fact.id],
        &[lookback_rule(fact.kind)],
    )
}

/// The park pilot that covers `year`, if any (the latest to pass evaluation).
fn covering_park<'a>(
    facts: &'a EnterpriseFacts,
    year: i32,
    as_of: NaiveDate,
    rules: &DeterminationRules,
) -> Option<&'a ParkPilot> {
    known_parks(facts, year, as_of)
        .filter(|park| year < park.passed_on.year() + rules.interval_years)
        .max_by_key(|park| park.passed_on)
}

/// Park pilots that passed evaluation by `as_of`, in `year` or before.
fn known_parks(
    facts: &EnterpriseFacts,
    year: i32,
    as_of: NaiveDate,
) -> impl Iterator<Item = &ParkPilot> {
    facts
        .park_pilots
        .iter()
        .filter(move |park| park.passed_on <= as_of && park.passed_on.year() <= year)
}

/// One line per known park: whether it still covers `year`.
fn park_lines(
    facts: &EnterpriseFacts,
    year: i32,
    as_of: NaiveDate,
    rules: &DeterminationRules,
) -> Vec<ExplanationLine> {
    let mut parks: Vec<&ParkPilot> = known_parks(facts, year, as_of).collect();
    parks.sort_by_key(|park| (park.passed_on, park.park_id));
    parks
        .into_iter()
        .map(|park| {
            let (name, passed) = (&park.park_name, park.passed_on);
            let last = passed.year() + rules.interval_years - 1;
            let (zh, en) = if year <= last {
                (
                    format!("属于{name}整体清洁生产审核试点，项目于{passed}通过评估，视同开展一次清洁生产审核，覆盖{}–{last}年",
                        passed.year()),
                    format!("Member of the {name} park pilot, which passed evaluation on {passed}: deemed audited once, covering {}–{last}.",
                        passed.year()),
                )
            } else {
                (
                    format!("{name}整体清洁生产审核试点（{passed}通过评估）的覆盖期已于{last}年结束"),
                    format!("The {name} park pilot (passed on {passed}) covered the years up to {last} only."),
                )
            };
            ExplanationLine::new(zh, en, Vec::new(), &[rule_id::INTERVAL])
        })
        .collect()
}

/// The 双有 due year with the line that explains it.
struct Due {
    year: i32,
    line: ExplanationLine,
}

/// A round that counts for the 双有 interval, reduced to what the interval needs.
struct CountingRound<'a> {
    list_year: i32,
    accepted_on: Option<NaiveDate>,
    source: &'a str,
}

fn due_year(
    facts: &EnterpriseFacts,
    year: i32,
    as_of: NaiveDate,
    rules: &DeterminationRules,
) -> Due {
    let explicit = facts
        .rounds
        .iter()
        .filter(|round| match round.kind {
            RoundKind::Audit => round.list_year < year,
            RoundKind::ParkDeemed => round.list_year <= year,
        })
        .map(|round| CountingRound {
            list_year: round.list_year,
            accepted_on: round.accepted_on.filter(|on| *on <= as_of),
            source: &round.source,
        });
    let parks = known_parks(facts, year, as_of).map(|park| CountingRound {
        list_year: park.passed_on.year(),
        accepted_on: Some(park.passed_on),
        source: &park.park_name,
    });
    let base = |round: &CountingRound| match (rules.measured_between, round.accepted_on) {
        (IntervalMeasure::AcceptanceDates, Some(accepted)) => accepted.year(),
        _ => round.list_year,
    };
    let last = explicit
        .chain(parks)
        .max_by_key(|round| (round.list_year, base(round)));
    match last {
        Some(round) => due_from_round(&round, base(&round), rules),
        None => due_from_window(year, rules),
    }
}

fn due_from_round(round: &CountingRound, base: i32, rules: &DeterminationRules) -> Due {
    let due = base + rules.interval_years;
    let (listed, interval, source) = (round.list_year, rules.interval_years, round.source);
    let (measure_zh, measure_en) = match (rules.measured_between, round.accepted_on) {
        (IntervalMeasure::ListYears, _) => (
            "按名单年度计".to_string(),
            "measured between list years".to_string(),
        ),
        (IntervalMeasure::AcceptanceDates, Some(accepted)) => (
            format!("按验收日期计（{accepted}通过验收）"),
            format!("measured between acceptance dates (accepted on {accepted})"),
        ),
        (IntervalMeasure::AcceptanceDates, None) => (
            "按验收日期计，尚未验收，暂按名单年度计".to_string(),
            "measured between acceptance dates; not accepted yet, so from the list year"
                .to_string(),
        ),
    };
    Due {
        year: due,
        line: ExplanationLine::new(
            format!("上一轮审核列入{listed}年名单（{source}），两次审核间隔不超过{interval}年，{measure_zh}，下一轮应不晚于{due}年"),
            format!("The last round was on the {listed} list ({source}); rounds are at most {interval} years apart, {measure_en}; the next is due by {due}."),
            Vec::new(),
            &[rule_id::INTERVAL, rule_id::MEASURED_BETWEEN],
        ),
    }
}

fn due_from_window(year: i32, rules: &DeterminationRules) -> Due {
    let due = rules.window_end(year);
    let first = due - rules.window_years + 1;
    Due {
        year: due,
        line: ExplanationLine::new(
            format!("无既往审核记录，应在所在{}年规划周期（{first}–{due}年）内完成首轮审核，即不晚于{due}年", rules.window_years),
            format!("No earlier round: the first is due within the {}-year planning window {first}–{due}, so by {due}.", rules.window_years),
            Vec::new(),
            &[rule_id::WINDOW_YEARS, rule_id::FIRST_WINDOW_START],
        ),
    }
}

fn conclusion_line(result: &Determination, park: Option<&ParkPilot>) -> ExplanationLine {
    let year = result.year;
    let due = result.due_year.unwrap_or(year);
    let reasons_zh: Vec<&str> = result.reasons.iter().map(|r| r.label_zh()).collect();
    let reasons_en: Vec<&str> = result.reasons.iter().map(|r| r.label_en()).collect();
    let (reasons_zh, reasons_en) = (reasons_zh.join("、"), reasons_en.join("; "));
    let (zh, en) = match result.outcome {
        Outcome::MustAudit if park.is_some() => (
            format!("{year}年须实施强制性清洁生产审核（{reasons_zh}）：双超企业依法及时纳入当年名单，园区试点不予豁免"),
            format!("Must audit in {year} ({reasons_en}): a 双超 enterprise goes on the current list; the park pilot does not exempt it."),
        ),
        Outcome::MustAudit if result.overdue => (
            format!("{year}年须实施强制性清洁生产审核（{reasons_zh}），已超过应审核年份{due}年，应列入{year}年名单"),
            format!("Must audit in {year} ({reasons_en}); overdue since {due}, belongs on the {year} list."),
        ),
        Outcome::MustAudit if result.list_this_year => (
            format!("{year}年须实施强制性清洁生产审核（{reasons_zh}），应列入{year}年名单"),
            format!("Must audit in {year} ({reasons_en}); belongs on the {year} list."),
        ),
        Outcome::MustAudit => (
            format!("须实施强制性清洁生产审核（{reasons_zh}），由年度计划统筹安排，不晚于{due}年"),
            format!("Must audit ({reasons_en}); the yearly plan places it, by {due} at the latest."),
        ),
        Outcome::DeemedAudited => {
            let name = park.map_or("", |park| park.park_name.as_str());
            (
                format!("{year}年视同已开展清洁生产审核（{name}），不列入当年名单"),
                format!("Deemed audited in {year} through {name}; not on this year's list."),
            )
        }
        Outcome::NotRequired => (
            format!("无计入的已确认证据，{year}年不需实施强制性清洁生产审核"),
            format!("No confirmed evidence counts; no audit is required for {year}."),
        ),
    };
    ExplanationLine {
        zh,
        en,
        evidence_ids: result.evidence_ids.clone(),
        rule_ids: result.rules.iter().map(|rule| rule.id.clone()).collect(),
    }
}

/// The rules named by the explanation, in the fixed order of `rules.refs`.
fn used_rules(explanation: &[ExplanationLine], rules: &DeterminationRules) -> Vec<RuleRef> {
    let used: BTreeSet<&str> = explanation
        .iter()
        .flat_map(|line| line.rule_ids.iter().map(String::as_str))
        .collect();
    rules
        .refs
        .iter()
        .filter(|rule| used.contains(rule.id.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn rules() -> DeterminationRules {
        let values = ["5", "list_years", "5", "2021", "1", "5"];
        DeterminationRules {
            interval_years: 5,
            measured_between: IntervalMeasure::ListYears,
            window_years: 5,
            first_window_start: 2021,
            exceedance_lookback_years: 1,
            toxic_lookback_years: 5,
            refs: rule_id::ALL
                .into_iter()
                .zip(values)
                .map(|(id, value)| RuleRef {
                    id: id.to_string(),
                    book_version: "test".into(),
                    effective_from: date("2016-07-01"),
                    value: value.into(),
                    citations: Vec::new(),
                })
                .collect(),
        }
    }

    fn enterprise() -> EnterpriseFacts {
        EnterpriseFacts {
            enterprise_id: 7,
            name: "兰州某化工有限公司".into(),
            registered_on: date("2010-03-01"),
            closed_on: None,
            evidence: Vec::new(),
            rounds: Vec::new(),
            park_pilots: Vec::new(),
        }
    }

    fn evidence(id: i64, kind: EvidenceKind, observed_on: &str) -> EvidenceFact {
        EvidenceFact {
            id,
            kind,
            observed_on: date(observed_on),
            status: EvidenceStatus::Confirmed,
            confirmed_on: Some(date(observed_on)),
            toxic_category: None,
            summary: "COD 120 mg/L > 100 mg/L (GB 8978)".into(),
            source: EvidenceSource::SupervisoryMonitoring,
            document_ref: "兰环监字〔2026〕118号".into(),
        }
    }

    fn with(evidence: Vec<EvidenceFact>) -> EnterpriseFacts {
        EnterpriseFacts {
            evidence,
            ..enterprise()
        }
    }

    fn round(list_year: i32, kind: RoundKind, accepted_on: Option<&str>) -> PastRound {
        PastRound {
            list_year,
            kind,
            reasons: BTreeSet::from([Reason::DoubleToxic]),
            accepted_on: accepted_on.map(date),
            source: "import 2026-03".into(),
        }
    }

    fn park(passed_on: &str) -> ParkPilot {
        ParkPilot {
            park_id: 3,
            park_name: "兰州经济技术开发区".into(),
            passed_on: date(passed_on),
        }
    }

    fn run(facts: &EnterpriseFacts, year: i32, as_of: &str) -> Determination {
        determine(facts, year, date(as_of), &rules())
    }

    fn toxic(id: i64, observed_on: &str) -> EvidenceFact {
        evidence(id, EvidenceKind::HazardousWaste, observed_on)
    }

    fn exceed(id: i64, observed_on: &str) -> EvidenceFact {
        evidence(id, EvidenceKind::ConcentrationExceedance, observed_on)
    }

    fn rule_ids(result: &Determination) -> Vec<&str> {
        result.rules.iter().map(|rule| rule.id.as_str()).collect()
    }

    fn explains(result: &Determination, fragment: &str) -> bool {
        result
            .explanation
            .iter()
            .any(|line| line.zh.contains(fragment) || line.en.contains(fragment))
    }

    #[test]
    fn candidates_and_dismissed_evidence_never_count() {
        let mut candidate = exceed(1, "2026-08-14");
        candidate.status = EvidenceStatus::Candidate;
        candidate.confirmed_on = None;
        let mut dismissed = toxic(2, "2025-05-01");
        dismissed.status = EvidenceStatus::Dismissed;
        let result = run(&with(vec![candidate, dismissed]), 2027, "2027-03-01");
        assert_eq!(result.outcome, Outcome::NotRequired);
        assert!(result.reasons.is_empty() && result.evidence_ids.is_empty());
        assert!(explains(
            &result,
            "证据#1（2026-08-14，超过排放标准）尚待核实"
        ));
        assert!(explains(
            &result,
            "Evidence #2 (2025-05-01, hazardous waste) was dismissed"
        ));
        assert!(result.rules.is_empty());
    }

    #[test]
    fn evidence_counts_from_its_confirmation_as_of() {
        let mut late = exceed(1, "2026-11-20");
        late.confirmed_on = Some(date("2027-02-10"));
        let facts = with(vec![late]);
        let before = run(&facts, 2027, "2027-02-09");
        assert_eq!(before.outcome, Outcome::NotRequired);
        assert!(explains(&before, "截至2027-02-09尚未确认"));
        let after = run(&facts, 2027, "2027-02-10");
        assert_eq!(after.outcome, Outcome::MustAudit);
        assert_eq!(after.evidence_ids, vec![1]);
    }

    #[test]
    fn confirmed_evidence_without_a_confirmation_date_does_not_count() {
        let mut fact = exceed(1, "2026-11-20");
        fact.confirmed_on = None;
        assert_eq!(
            run(&with(vec![fact]), 2027, "2027-03-01").outcome,
            Outcome::NotRequired
        );
    }

    #[test]
    fn an_enterprise_closed_by_new_year_is_not_required() {
        let mut facts = with(vec![exceed(1, "2026-08-14")]);
        facts.closed_on = Some(date("2027-01-01"));
        let closed = run(&facts, 2027, "2027-03-01");
        assert_eq!(closed.outcome, Outcome::NotRequired);
        assert!(closed.evidence_ids.is_empty() && closed.rules.is_empty());
        assert!(explains(&closed, "企业已于2027-01-01关闭"));
        facts.closed_on = Some(date("2027-01-02"));
        assert_eq!(run(&facts, 2027, "2027-03-01").outcome, Outcome::MustAudit);
    }

    #[test]
    fn registration_after_the_year_exempts_but_mid_year_does_not() {
        let mut facts = with(vec![exceed(1, "2027-02-14")]);
        facts.registered_on = date("2028-01-01");
        let later = run(&facts, 2027, "2027-12-31");
        assert_eq!(later.outcome, Outcome::NotRequired);
        assert!(explains(&later, "晚于2027年"));
        facts.registered_on = date("2027-06-30");
        let mid_year = run(&facts, 2027, "2027-12-31");
        assert_eq!(mid_year.outcome, Outcome::MustAudit);
        assert_eq!(
            mid_year.evidence_ids,
            vec![1],
            "evidence observed before registration belongs to the enterprise"
        );
    }

    #[test]
    fn exceedance_lookback_starts_on_the_first_of_january() {
        let lapsed = run(&with(vec![exceed(1, "2025-12-31")]), 2027, "2027-03-01");
        assert_eq!(lapsed.outcome, Outcome::NotRequired);
        assert_eq!(rule_ids(&lapsed), vec![rule_id::EXCEEDANCE_LOOKBACK]);
        assert!(explains(&lapsed, "早于回溯期"));
        let counted = run(&with(vec![exceed(1, "2026-01-01")]), 2027, "2027-03-01");
        assert_eq!(counted.outcome, Outcome::MustAudit);
        assert_eq!(
            counted.reasons,
            BTreeSet::from([Reason::ExceedConcentration])
        );
        assert!(counted.list_this_year);
        assert_eq!((counted.due_year, counted.overdue), (None, false));
        assert_eq!(rule_ids(&counted), vec![rule_id::EXCEEDANCE_LOOKBACK]);
    }

    #[test]
    fn exceedance_during_the_year_lists_at_once() {
        let result = run(&with(vec![exceed(1, "2027-05-20")]), 2027, "2027-06-01");
        assert_eq!(result.outcome, Outcome::MustAudit);
        assert!(result.list_this_year);
    }

    #[test]
    fn exceedance_is_consumed_by_an_audit_round_listed_since() {
        let mut facts = with(vec![exceed(1, "2026-03-01")]);
        facts.rounds = vec![round(2026, RoundKind::Audit, None)];
        let consumed = run(&facts, 2027, "2027-03-01");
        assert_eq!(consumed.outcome, Outcome::NotRequired);
        assert!(explains(&consumed, "已由2026年名单的审核处理"));
        facts.rounds = vec![round(2025, RoundKind::Audit, None)];
        assert_eq!(run(&facts, 2027, "2027-03-01").outcome, Outcome::MustAudit);
        facts.rounds = vec![round(2027, RoundKind::Audit, None)];
        assert_eq!(
            run(&facts, 2027, "2027-03-01").outcome,
            Outcome::MustAudit,
            "this year's own listing does not consume its evidence"
        );
        facts.rounds = vec![round(2026, RoundKind::ParkDeemed, None)];
        assert_eq!(run(&facts, 2027, "2027-03-01").outcome, Outcome::MustAudit);
    }

    #[test]
    fn toxic_evidence_of_the_year_counts_from_the_next() {
        let facts = with(vec![toxic(1, "2027-04-01")]);
        let this_year = run(&facts, 2027, "2027-06-01");
        assert_eq!(this_year.outcome, Outcome::NotRequired);
        assert!(explains(&this_year, "自2028年起计入"));
        let next_year = run(&facts, 2028, "2028-01-05");
        assert_eq!(next_year.outcome, Outcome::MustAudit);
        assert_eq!(next_year.reasons, BTreeSet::from([Reason::DoubleToxic]));
        assert_eq!(next_year.toxic_categories, BTreeSet::from([1]));
    }

    #[test]
    fn toxic_evidence_lapses_after_its_lookback() {
        let facts = with(vec![toxic(1, "2021-12-31")]);
        let lapsed = run(&facts, 2027, "2027-03-01");
        assert_eq!(lapsed.outcome, Outcome::NotRequired);
        assert_eq!(rule_ids(&lapsed), vec![rule_id::TOXIC_LOOKBACK]);
        let kept = run(&with(vec![toxic(1, "2022-01-01")]), 2027, "2027-03-01");
        assert_eq!(kept.outcome, Outcome::MustAudit);
    }

    #[test]
    fn the_fifth_anniversary_is_due_not_overdue() {
        let mut facts = with(vec![toxic(1, "2024-05-01")]);
        facts.rounds = vec![round(2022, RoundKind::Audit, Some("2023-06-30"))];
        let due = run(&facts, 2027, "2027-01-10");
        assert_eq!(
            (due.due_year, due.overdue, due.list_this_year),
            (Some(2027), false, true)
        );
        let before = run(&facts, 2026, "2026-01-10");
        assert_eq!(before.outcome, Outcome::MustAudit);
        assert_eq!(
            (before.due_year, before.list_this_year),
            (Some(2027), false)
        );
        assert!(explains(&before, "由年度计划统筹安排，不晚于2027年"));
        let overdue = run(&facts, 2028, "2028-01-10");
        assert_eq!((overdue.due_year, overdue.overdue), (Some(2027), true));
        assert!(overdue.list_this_year);
        assert_eq!(
            rule_ids(&overdue),
            vec![
                rule_id::INTERVAL,
                rule_id::MEASURED_BETWEEN,
                rule_id::TOXIC_LOOKBACK
            ]
        );
    }

    #[test]
    fn acceptance_dates_measure_from_the_year_of_acceptance() {
        let mut facts = with(vec![toxic(1, "2021-05-01"), toxic(2, "2024-05-01")]);
        facts.rounds = vec![round(2022, RoundKind::Audit, Some("2023-06-30"))];
        let rules = DeterminationRules {
            measured_between: IntervalMeasure::AcceptanceDates,
            ..rules()
        };
        let accepted = determine(&facts, 2027, date("2027-01-10"), &rules);
        assert_eq!(
            (accepted.due_year, accepted.list_this_year),
            (Some(2028), false)
        );
        let not_yet_known = determine(&facts, 2023, date("2023-03-01"), &rules);
        assert_eq!(not_yet_known.due_year, Some(2027));
        facts.rounds[0].accepted_on = None;
        let unaccepted = determine(&facts, 2027, date("2027-01-10"), &rules);
        assert_eq!(unaccepted.due_year, Some(2027));
        assert!(explains(&unaccepted, "尚未验收，暂按名单年度计"));
    }

    #[test]
    fn the_last_round_sets_the_interval() {
        let mut facts = with(vec![toxic(1, "2022-05-01")]);
        facts.rounds = vec![
            round(2024, RoundKind::Audit, None),
            round(2019, RoundKind::Audit, Some("2020-10-01")),
        ];
        assert_eq!(run(&facts, 2026, "2026-01-10").due_year, Some(2029));
    }

    #[test]
    fn without_a_round_the_planning_window_sets_the_due_year() {
        let facts = with(vec![toxic(1, "2026-05-01")]);
        let result = run(&facts, 2027, "2027-01-10");
        assert_eq!(
            (result.due_year, result.list_this_year),
            (Some(2030), false)
        );
        assert_eq!(
            rule_ids(&result),
            vec![
                rule_id::WINDOW_YEARS,
                rule_id::FIRST_WINDOW_START,
                rule_id::TOXIC_LOOKBACK
            ]
        );
        let last_window_year = run(&facts, 2030, "2030-01-10");
        assert_eq!(
            (last_window_year.due_year, last_window_year.list_this_year),
            (Some(2030), true)
        );
        assert_eq!(run(&facts, 2031, "2031-01-10").due_year, Some(2035));
    }

    #[test]
    fn windows_before_the_first_start_extend_backwards() {
        let rules = rules();
        assert_eq!(rules.window_end(2021), 2025);
        assert_eq!(rules.window_end(2025), 2025);
        assert_eq!(rules.window_end(2026), 2030);
        assert_eq!(rules.window_end(2020), 2020);
        assert_eq!(rules.window_end(2016), 2020);
    }

    #[test]
    fn a_park_member_is_deemed_audited_for_five_years() {
        let mut facts = with(vec![toxic(1, "2023-05-01"), toxic(2, "2027-05-01")]);
        facts.park_pilots = vec![park("2024-08-15")];
        for year in 2024..=2028 {
            let result = run(&facts, year, &format!("{year}-12-31"));
            assert_eq!(result.outcome, Outcome::DeemedAudited, "{year}");
            assert_eq!(result.due_year, Some(2029));
            assert!(!result.list_this_year && !result.overdue);
            assert!(explains(&result, "兰州经济技术开发区"));
        }
        let ended = run(&facts, 2029, "2029-01-10");
        assert_eq!(ended.outcome, Outcome::MustAudit);
        assert_eq!((ended.due_year, ended.list_this_year), (Some(2029), true));
        assert!(explains(&ended, "覆盖期已于2028年结束"));
    }

    #[test]
    fn a_park_that_passes_after_as_of_does_not_cover_yet() {
        let mut facts = with(vec![toxic(1, "2023-05-01")]);
        facts.park_pilots = vec![park("2024-08-15")];
        assert_eq!(run(&facts, 2024, "2024-08-14").outcome, Outcome::MustAudit);
        assert_eq!(
            run(&facts, 2024, "2024-08-15").outcome,
            Outcome::DeemedAudited
        );
    }

    #[test]
    fn double_exceedance_wins_over_the_park() {
        let mut facts = with(vec![exceed(1, "2025-03-01"), toxic(2, "2023-05-01")]);
        facts.park_pilots = vec![park("2024-08-15")];
        let result = run(&facts, 2025, "2025-04-01");
        assert_eq!(result.outcome, Outcome::MustAudit);
        assert!(result.list_this_year);
        assert_eq!(
            result.reasons,
            BTreeSet::from([Reason::ExceedConcentration, Reason::DoubleToxic])
        );
        assert_eq!(result.due_year, Some(2029));
        assert!(explains(&result, "园区试点不予豁免"));
    }

    #[test]
    fn several_reasons_and_categories_at_once() {
        let mut stated = evidence(3, EvidenceKind::ToxicRawMaterial, "2026-02-01");
        stated.toxic_category = Some(2);
        let mut invalid = evidence(4, EvidenceKind::ToxicDischarge, "2026-02-01");
        invalid.toxic_category = Some(9);
        let facts = with(vec![
            exceed(1, "2026-10-01"),
            evidence(2, EvidenceKind::TotalLoadExceedance, "2027-01-20"),
            stated,
            invalid,
            evidence(5, EvidenceKind::HeavyMetal, "2025-07-01"),
        ]);
        let result = run(&facts, 2027, "2027-02-01");
        assert_eq!(result.outcome, Outcome::MustAudit);
        assert_eq!(result.reasons, BTreeSet::from(Reason::ALL));
        assert_eq!(result.toxic_categories, BTreeSet::from([2, 3]));
        assert_eq!(result.evidence_ids, vec![1, 2, 3, 4, 5]);
        assert_eq!((result.due_year, result.list_this_year), (Some(2030), true));
        let conclusion = result.explanation.last().unwrap();
        assert!(conclusion.zh.contains("双超-超标、双超-超总量、双有"));
        assert_eq!(conclusion.evidence_ids, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_counted_line_reads_like_the_record() {
        let result = run(&with(vec![exceed(1, "2026-08-14")]), 2027, "2027-01-10");
        let line = &result.explanation[0];
        assert_eq!(
            line.zh,
            "2026-08-14 监督性监测：COD 120 mg/L > 100 mg/L (GB 8978)，超过排放标准（双超-超标）"
        );
        assert_eq!(line.evidence_ids, vec![1]);
        assert_eq!(
            line.rule_ids,
            vec![rule_id::EXCEEDANCE_LOOKBACK.to_string()]
        );
    }

    #[test]
    fn rules_used_are_exactly_those_named_and_in_book_order() {
        let mut facts = with(vec![toxic(1, "2024-05-01"), exceed(2, "2026-05-01")]);
        facts.rounds = vec![round(2022, RoundKind::Audit, None)];
        let result = run(&facts, 2027, "2027-01-10");
        assert_eq!(
            rule_ids(&result),
            vec![
                rule_id::INTERVAL,
                rule_id::MEASURED_BETWEEN,
                rule_id::EXCEEDANCE_LOOKBACK,
                rule_id::TOXIC_LOOKBACK
            ]
        );
        let named: BTreeSet<&str> = result
            .explanation
            .iter()
            .flat_map(|line| line.rule_ids.iter().map(String::as_str))
            .collect();
        assert_eq!(named, rule_ids(&result).into_iter().collect());
        assert_eq!(rules().rule(rule_id::INTERVAL).unwrap().value, "5");
        assert!(rules().rule("deadline.disclose").is_none());
    }

    #[test]
    fn ids_and_labels_round_trip() {
        for kind in EvidenceKind::all() {
            assert_eq!(EvidenceKind::parse(kind.as_str()), Some(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(EvidenceKind::parse("HeavyMetal"), None);
        assert!(Reason::ExceedTotalLoad.is_double_exceedance());
        assert!(!Reason::DoubleToxic.is_double_exceedance());
        assert_eq!(EvidenceKind::HeavyMetal.reason(), Reason::DoubleToxic);
        assert_eq!(EvidenceKind::ToxicDischarge.implied_category(), None);
        assert_eq!(
            IntervalMeasure::parse("acceptance_dates"),
            Some(IntervalMeasure::AcceptanceDates)
        );
    }

    #[test]
    fn a_determination_serializes_in_snake_case() {
        let result = run(&with(vec![exceed(1, "2026-08-14")]), 2027, "2027-01-10");
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["outcome"], "must_audit");
        assert_eq!(json["reasons"][0], "exceed_concentration");
        let back: Determination = serde_json::from_value(json).unwrap();
        assert_eq!(back, result);
    }
}
