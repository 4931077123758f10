//! Verifiable expert panel draws: conflicts of interest, RFC 3797 selection, the draw record.
//!
//! An assessment or acceptance review (or the combined review of the small and micro track) is
//! judged by a panel drawn at random from the expert pool. So that nobody has to trust whoever
//! runs the draw, the draw is computed from published inputs only, by a published algorithm,
//! and its record lets anyone recompute it ([`verify`]). Until the review is finished the public
//! copy ([`public_copy`]) names experts by pool number only and exclusions by category only.
//!
//! # The algorithm `cpaudit-draw/1`
//!
//! 1. **Pool.** The pool is the expert pool as frozen at `pool_frozen_at`; every expert has a
//!    pool number. Pool numbers and experts are unique; the record lists the pool by number.
//! 2. **Exclusions.** Before any draw, [`exclusions`] excludes every expert with a conflict of
//!    interest or who cannot serve ([`ConflictCategory`]): employed by the enterprise or the
//!    consultancy it engaged; worked for either within `experts.conflict_years` before the review;
//!    a conflict the expert declared; already at `experts.yearly_cap` reviews in the review's
//!    calendar year; not an admitted pool member; absent on the review day. The eligible list is
//!    the pool numbers left, ascending.
//! 3. **Randomness.** The sources are public values fixed before the draw, such as lottery
//!    results. Each must be dated after the day the pool was frozen: values known while the pool
//!    was composed could have steered it. A source dated that day is refused as well, since a
//!    date alone cannot show which came first. The key is built from the sources as RFC 3797 §4
//!    says ([`rfc3797_key`]).
//! 4. **Ranking.** RFC 3797 selection ([`rfc3797_select`]) over the whole eligible list ranks
//!    every eligible expert.
//! 5. **Panel.** The panel has `panel.min_members` seats, one more when `panel.odd_size` asks for
//!    an odd panel and that number is even ([`PanelRules::panel_size`]). The first that many
//!    of the ranking take them. Fewer eligible experts than seats is an error naming the
//!    shortfall ([`DrawError::PoolTooSmall`]); a partial panel is never drawn.
//! 6. **Industry member.** When `panel.industry_member` holds and no panel member has the
//!    enterprise's key industry among their specialties, the highest-ranked expert beyond the
//!    panel who has it takes the last panel seat, and the member displaced becomes the first
//!    alternate. No eligible expert with the industry is an error
//!    ([`DrawError::NoIndustryExpert`]).
//! 7. **Alternates.** The next `panel.alternates` experts of the ranking, in order, are the
//!    alternates; fewer when the eligible list runs out.
//! 8. **Fingerprint.** The outcome hash is the SHA-256 (lower-case hex) of the compact JSON
//!    object with the keys `review`, `rules`, `pool_frozen_at`, `pool` (each entry's
//!    `pool_number` and `specialties` only), `exclusions` (each one's `pool_number` and
//!    `category` only), `eligible`, `sources`, `key`, `panel`, `alternates` and
//!    `private_digest`, in that order, as the record spells them. The private digest is the
//!    SHA-256 of the compact JSON array `[pool, exclusions]` of the full record, names, expert
//!    ids and details included. The public copy carries the digest, so the hash is recomputed
//!    from either form, and any change to the pool, an exclusion, a source, the key or the
//!    outcome shows.
//!
//! Any change to these steps is a new algorithm version: records name the version they were
//! drawn with, and rule data (`draw.algorithm_version`) names the one to draw with.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, Months, NaiveDate};
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::experts::ExpertStatus;
use crate::registry::Message;
use crate::rules::{RuleBook, RuleError, RuleRef};

/// The draw algorithm this code implements, as records and the rule data name it.
pub const ALGORITHM_VERSION: &str = "cpaudit-draw/1";

// ---- RFC 3797 -----------------------------------------------------------------------------------

/// One public source of randomness and the values it produced (RFC 3797 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSource {
    /// What the source is, precisely enough for anyone to look it up, e.g.
    /// "中国福利彩票双色球第2024052期开奖号码（红球）".
    pub name: String,
    /// The day the values were drawn or published; it must fall after the day the pool froze.
    pub drawn_on: NaiveDate,
    /// The values as published, in any order: non-negative decimal numbers ("07", "3051.27").
    pub values: Vec<String>,
}

/// A value of a source in the form RFC 3797 §4 writes it; ordered by numeric value.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RfcNumber {
    // Integer digits without leading zeros: ordering by length first orders them numerically.
    whole_len: usize,
    whole: String,
    // Fraction digits without trailing zeros, which order numerically as text.
    fraction: String,
}

impl RfcNumber {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return None;
        }
        let whole = match whole.trim_start_matches('0') {
            "" => "0",
            trimmed => trimmed,
        };
        Some(Self {
            whole_len: whole.len(),
            whole: whole.to_string(),
            fraction: fraction.trim_end_matches('0').to_string(),
        })
    }

    /// RFC 3797 §4 step 1: an integer is terminated by a period ("12."); a number with a
    /// fraction has the period between its parts ("3051.27").
    fn write(&self, key: &mut String) {
        key.push_str(&self.whole);
        key.push('.');
        key.push_str(&self.fraction);
    }
}

/// The key string of RFC 3797 §4: for each source in the order given, its values as decimal
/// numbers without leading zeros (one zero before the period of a number below one) and without
/// trailing zeros of a fraction, an integer terminated by a period, sorted ascending and
/// concatenated, followed by "/". The RFC's example gives `9319./2.5.8.10.12./9.18.26.34.41.45./`.
///
/// # Errors
/// No sources, a source without values, or a value that is not a non-negative decimal number.
pub fn rfc3797_key(sources: &[RandomSource]) -> Result<String, DrawError> {
    if sources.is_empty() {
        return Err(DrawError::NoSources);
    }
    let mut key = String::new();
    for source in sources {
        for number in source_numbers(source)? {
            number.write(&mut key);
        }
        key.push('/');
    }
    Ok(key)
}

fn source_numbers(source: &RandomSource) -> Result<Vec<RfcNumber>, DrawError> {
    if source.values.is_empty() {
        return Err(DrawError::EmptySource {
            source_name: source.name.clone(),
        });
    }
    let mut numbers = source
        .values
        .iter()
        .map(|value| {
            RfcNumber::parse(value).ok_or_else(|| DrawError::BadSourceValue {
                source_name: source.name.clone(),
                value: value.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    numbers.sort();
    Ok(numbers)
}

/// The MD5 digest of the key with the counter `index` as a two-byte big-endian prefix and
/// suffix (RFC 3797 §4): the `index`-th random value, counting from zero.
pub fn rfc3797_digest(key: &str, index: u16) -> [u8; 16] {
    let counter = index.to_be_bytes();
    let mut hasher = Md5::new();
    hasher.update(counter);
    hasher.update(key.as_bytes());
    hasher.update(counter);
    hasher.finalize().into()
}

/// RFC 3797 selection of `count` from a published list of `pool_size`, ranked: the `i`-th random
/// value ([`rfc3797_digest`]) read as a 128-bit big-endian integer, modulo the number of entries
/// not yet selected, plus one, is the position of the next selectee among those entries.
///
/// Returns positions in the list, counting from one as the RFC does. At most
/// `min(count, pool_size)` are returned, and at most 65,536, the range of the RFC's counter.
pub fn rfc3797_select(key: &str, pool_size: usize, count: usize) -> Vec<usize> {
    let mut remaining: Vec<usize> = (1..=pool_size).collect();
    let mut selected = Vec::with_capacity(count.min(pool_size));
    for index in (0..=u16::MAX).take(count.min(pool_size)) {
        let value = u128::from_be_bytes(rfc3797_digest(key, index));
        // The remainder is below the list's length, a usize, so it converts back losslessly.
        let slot = (value % remaining.len() as u128) as usize;
        selected.push(remaining.remove(slot));
    }
    selected
}

// ---- the review and the rules -------------------------------------------------------------------

/// Which review a panel is drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// 评估: before the medium and high-cost options are implemented.
    Assessment,
    /// 验收: after they are implemented.
    Acceptance,
    /// The single review of the simplified small and micro enterprise track.
    Combined,
}

impl ReviewKind {
    /// The name shown in the Chinese interface.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Assessment => "评估",
            Self::Acceptance => "验收",
            Self::Combined => "评估验收（小微企业简化程序）",
        }
    }

    /// The name shown in the English interface.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Assessment => "assessment",
            Self::Acceptance => "acceptance",
            Self::Combined => "combined review (small and micro track)",
        }
    }
}

/// The review a panel is drawn for, with what the conflict rules compare against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRef {
    /// The audit round under review.
    pub round_id: i64,
    /// Assessment, acceptance or the combined review.
    pub kind: ReviewKind,
    /// The enterprise under review.
    pub enterprise_id: i64,
    /// The enterprise's key industry id, as in `industries.toml`.
    pub enterprise_industry: String,
    /// The consultancy the enterprise engaged for the round, if any.
    pub consultancy_id: Option<i64>,
    /// Who organises the review: a jurisdiction code, the province's or a city's.
    pub organizer: String,
    /// The day of the review: conflict periods, the yearly cap and absences count from it.
    pub review_on: NaiveDate,
}

/// The rule values a draw uses, read from the rule book and recorded with their citations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelRules {
    /// `draw.algorithm_version`: the algorithm the draw must use.
    pub algorithm_version: String,
    /// `panel.min_members`: the fewest panel members.
    pub min_members: u32,
    /// `panel.odd_size`: the panel has an odd number of members.
    pub odd_size: bool,
    /// `panel.industry_member`: one member at least has the enterprise's industry.
    pub industry_member: bool,
    /// `panel.alternates`: how many ranked alternates follow the panel.
    pub alternates: u32,
    /// `experts.conflict_years`: past work for the enterprise or its consultancy within this many
    /// years before the review excludes an expert.
    pub conflict_years: u32,
    /// `experts.yearly_cap`: reviews per expert per calendar year.
    pub yearly_cap: u32,
    /// The rules these values came from, with their citations and confidence.
    pub rule_refs: Vec<RuleRef>,
}

impl PanelRules {
    /// The values in force on a day, usually the day of the draw.
    ///
    /// # Errors
    /// A parameter missing, not in force or of the wrong type, or a count below what a draw
    /// needs (no panel members, a yearly cap of zero, a negative number).
    pub fn from_book(book: &RuleBook, on: NaiveDate) -> Result<Self, DrawError> {
        let mut reader = RuleReader {
            book,
            on,
            refs: Vec::new(),
        };
        Ok(Self {
            algorithm_version: reader.text("draw.algorithm_version")?,
            min_members: reader.count("panel.min_members", 1)?,
            odd_size: reader.flag("panel.odd_size")?,
            industry_member: reader.flag("panel.industry_member")?,
            alternates: reader.count("panel.alternates", 0)?,
            conflict_years: reader.count("experts.conflict_years", 0)?,
            yearly_cap: reader.count("experts.yearly_cap", 1)?,
            rule_refs: reader.refs,
        })
    }

    /// The number of panel seats: `min_members`, or the next odd number when an odd panel is
    /// required and `min_members` is even. Both rules are then met by the smallest panel that can
    /// meet them, rather than a province's draws stopping over an even minimum.
    pub fn panel_size(&self) -> usize {
        let least = self.min_members as usize;
        if self.odd_size {
            // Setting the lowest bit turns an even number into the next odd one, an odd one
            // into itself.
            least | 1
        } else {
            least
        }
    }
}

/// Reads rule values and collects their references.
struct RuleReader<'a> {
    book: &'a RuleBook,
    on: NaiveDate,
    refs: Vec<RuleRef>,
}

impl RuleReader<'_> {
    fn count(&mut self, id: &str, least: u32) -> Result<u32, DrawError> {
        let (value, rule) = self.book.integer_at(id, self.on)?;
        self.refs.push(rule);
        u32::try_from(value)
            .ok()
            .filter(|count| *count >= least)
            .ok_or_else(|| DrawError::BadRule {
                id: id.to_string(),
                value,
                least,
            })
    }

    fn flag(&mut self, id: &str) -> Result<bool, DrawError> {
        let (value, rule) = self.book.bool_at(id, self.on)?;
        self.refs.push(rule);
        Ok(value)
    }

    fn text(&mut self, id: &str) -> Result<String, DrawError> {
        let (value, rule) = self.book.text_at(id, self.on)?;
        self.refs.push(rule);
        Ok(value)
    }
}

// ---- the pool and the facts about its experts ---------------------------------------------------

/// One expert of the frozen pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolEntry {
    /// The expert's published number in the pool.
    pub pool_number: u32,
    /// The expert's id in the expert registry; private until the review is finished.
    pub expert_id: i64,
    /// Industry ids the expert is admitted for, as in `industries.toml`.
    pub specialties: Vec<String>,
    /// Private until the review is finished.
    pub name: String,
}

/// An enterprise or a consultancy, as far as conflicts go. Employment elsewhere does not matter
/// to the conflict rules and is left out of the facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Party {
    /// An enterprise, by id.
    Enterprise(i64),
    /// A consultancy, by id.
    Consultancy(i64),
}

impl Party {
    /// True when the party is the enterprise under review or the consultancy it engaged.
    fn concerns(self, review: &ReviewRef) -> bool {
        match self {
            Self::Enterprise(id) => id == review.enterprise_id,
            Self::Consultancy(id) => Some(id) == review.consultancy_id,
        }
    }

    fn label_zh(self) -> &'static str {
        match self {
            Self::Enterprise(_) => "被审核企业",
            Self::Consultancy(_) => "被审核企业委托的咨询机构",
        }
    }

    fn label_en(self) -> &'static str {
        match self {
            Self::Enterprise(_) => "the enterprise",
            Self::Consultancy(_) => "the enterprise's consultancy",
        }
    }
}

/// A period of employment at an enterprise or a consultancy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Employment {
    /// The employer.
    pub party: Party,
    /// The first day employed.
    pub from: NaiveDate,
    /// The last day employed; `None` while the employment lasts.
    pub until: Option<NaiveDate>,
}

/// A conflict of interest the expert declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// Whom the conflict is with.
    pub party: Party,
    /// The expert's own words.
    pub note: String,
}

/// Days on which the expert cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Absence {
    /// The first day of the absence.
    pub from: NaiveDate,
    /// The last day of the absence.
    pub until: NaiveDate,
    /// Why, as the expert or the office reported it.
    pub note: String,
}

/// What the conflict rules need to know about one expert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpertFacts {
    /// The expert's id in the expert registry, as pool entries name it.
    pub expert_id: i64,
    /// The expert's standing in the pool; only a drawable one may be drawn.
    pub status: ExpertStatus,
    /// Employment at enterprises and consultancies, past and present.
    pub employments: Vec<Employment>,
    /// Conflicts the expert declared.
    pub declarations: Vec<Declaration>,
    /// Days of the reviews the expert sat on or was drawn for; those in the review's calendar
    /// year count against the yearly cap.
    pub reviews: Vec<NaiveDate>,
    /// Periods the expert reported as unavailable.
    pub absences: Vec<Absence>,
}

/// Everything the conflict rules compare: the review, the rules and the expert registry.
#[derive(Debug, Clone, Copy)]
pub struct ConflictFacts<'a> {
    /// The review the panel is drawn for.
    pub review: &'a ReviewRef,
    /// The conflict period and the yearly cap come from these.
    pub rules: &'a PanelRules,
    /// Facts about every expert of the pool; others may be included.
    pub experts: &'a [ExpertFacts],
}

// ---- exclusions ---------------------------------------------------------------------------------

/// Why an expert is excluded from a draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictCategory {
    /// Employed by the enterprise or the consultancy it engaged.
    Employer,
    /// Worked for either within `experts.conflict_years` before the review.
    RecentWork,
    /// A conflict the expert declared.
    Declared,
    /// Already at `experts.yearly_cap` reviews in the review's calendar year.
    YearlyCap,
    /// Not an admitted member of the pool.
    NotAdmitted,
    /// Absent on the review day.
    Unavailable,
}

impl ConflictCategory {
    /// The category as the Chinese interface and the public page show it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Employer => "任职于被审核企业或其咨询机构",
            Self::RecentWork => "回避期内曾任职于被审核企业或其咨询机构",
            Self::Declared => "本人申报利益冲突",
            Self::YearlyCap => "本年度评审次数已达上限",
            Self::NotAdmitted => "不在库",
            Self::Unavailable => "评审当日无法参加",
        }
    }

    /// The category as the English interface and the public page show it.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Employer => "employed by the enterprise or its consultancy",
            Self::RecentWork => "worked for the enterprise or its consultancy recently",
            Self::Declared => "declared a conflict of interest",
            Self::YearlyCap => "at the yearly cap of reviews",
            Self::NotAdmitted => "not an admitted pool member",
            Self::Unavailable => "unavailable on the review day",
        }
    }
}

/// A private text in both interface languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detail {
    /// In Chinese.
    pub zh: String,
    /// In English.
    pub en: String,
}

/// One reason to exclude one expert. An expert excluded for several reasons has one each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    /// The expert excluded.
    pub pool_number: u32,
    /// The kind of reason, which the public copy shows.
    pub category: ConflictCategory,
    /// The facts behind it: private, the public copy shows the category only.
    pub detail: Detail,
}

/// The exclusions of a pool for a review, sorted by pool number and category: every expert with
/// a conflict of interest or who cannot serve, for each reason (see the module's algorithm).
///
/// # Errors
/// [`DrawError::UnknownExpert`] when a pool entry names an expert the facts lack.
pub fn exclusions(
    pool: &[PoolEntry],
    facts: &ConflictFacts<'_>,
) -> Result<Vec<Exclusion>, DrawError> {
    let mut found = Vec::new();
    for entry in pool {
        let expert = facts
            .experts
            .iter()
            .find(|expert| expert.expert_id == entry.expert_id)
            .ok_or(DrawError::UnknownExpert {
                pool_number: entry.pool_number,
                expert_id: entry.expert_id,
            })?;
        found.extend(
            conflicts_of(expert, facts)
                .into_iter()
                .map(|(category, detail)| Exclusion {
                    pool_number: entry.pool_number,
                    category,
                    detail,
                }),
        );
    }
    found.sort_by_key(|exclusion| (exclusion.pool_number, exclusion.category));
    Ok(found)
}

type Conflict = (ConflictCategory, Detail);

fn conflicts_of(expert: &ExpertFacts, facts: &ConflictFacts<'_>) -> Vec<Conflict> {
    let review = facts.review;
    let on = review.review_on;
    let mut found: Vec<Conflict> = expert
        .employments
        .iter()
        .filter(|job| job.party.concerns(review))
        .filter_map(|job| employment_conflict(job, on, facts.rules.conflict_years))
        .collect();
    found.extend(
        expert
            .declarations
            .iter()
            .filter(|declaration| declaration.party.concerns(review))
            .map(declared_conflict),
    );
    found.extend(cap_conflict(&expert.reviews, on, facts.rules.yearly_cap));
    found.extend(status_conflict(expert.status));
    found.extend(
        expert
            .absences
            .iter()
            .filter(|absence| absence.from <= on && on <= absence.until)
            .map(absence_conflict),
    );
    found
}

fn detail(zh: String, en: String) -> Detail {
    Detail { zh, en }
}

fn employment_conflict(job: &Employment, on: NaiveDate, years: u32) -> Option<Conflict> {
    if job.from > on {
        return None;
    }
    let (party_zh, party_en, from) = (job.party.label_zh(), job.party.label_en(), job.from);
    match job.until {
        Some(until) if until < on => (until >= conflict_window_start(on, years)).then(|| {
            let text = detail(
                format!("{from}至{until}任职于{party_zh}，在{years}年回避期内"),
                format!(
                    "worked for {party_en} from {from} to {until}, within the {years}-year \
                     conflict period"
                ),
            );
            (ConflictCategory::RecentWork, text)
        }),
        _ => {
            let text = detail(
                format!("自{from}起任职于{party_zh}"),
                format!("employed by {party_en} since {from}"),
            );
            Some((ConflictCategory::Employer, text))
        }
    }
}

/// The first day of the conflict period: `years` years before the review day, counted per
/// Civil Code Art. 202 (a missing corresponding day falls on the month's last day).
fn conflict_window_start(on: NaiveDate, years: u32) -> NaiveDate {
    on.checked_sub_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MIN)
}

fn declared_conflict(declaration: &Declaration) -> Conflict {
    let (party_zh, party_en, note) = (
        declaration.party.label_zh(),
        declaration.party.label_en(),
        &declaration.note,
    );
    let text = detail(
        format!("本人申报与{party_zh}存在利益冲突：{note}"),
        format!("declared a conflict with {party_en}: {note}"),
    );
    (ConflictCategory::Declared, text)
}

fn cap_conflict(reviews: &[NaiveDate], on: NaiveDate, cap: u32) -> Option<Conflict> {
    let year = on.year();
    let count = reviews.iter().filter(|day| day.year() == year).count();
    (count >= cap as usize).then(|| {
        let text = detail(
            format!("{year}年已参加或已抽中评审{count}次，达到年度上限{cap}次"),
            format!("{count} reviews in {year}, at the yearly cap of {cap}"),
        );
        (ConflictCategory::YearlyCap, text)
    })
}

fn status_conflict(status: ExpertStatus) -> Option<Conflict> {
    (!status.drawable()).then(|| {
        let text = detail(
            format!("入库状态：{}", status.label_zh()),
            format!("pool status: {}", status.label_en()),
        );
        (ConflictCategory::NotAdmitted, text)
    })
}

fn absence_conflict(absence: &Absence) -> Conflict {
    let (from, until, note) = (absence.from, absence.until, &absence.note);
    let text = detail(
        format!("{from}至{until}无法参加评审：{note}"),
        format!("unavailable from {from} to {until}: {note}"),
    );
    (ConflictCategory::Unavailable, text)
}

// ---- the draw -----------------------------------------------------------------------------------

/// What a draw is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawInputs {
    /// The review the panel is drawn for.
    pub review: ReviewRef,
    /// Usually [`PanelRules::from_book`] on the day of the draw.
    pub rules: PanelRules,
    /// When the pool was frozen and published; with its offset, so that its day is the local one.
    pub pool_frozen_at: DateTime<FixedOffset>,
    /// The frozen pool, in any order.
    pub pool: Vec<PoolEntry>,
    /// The expert registry's facts about every pool member.
    pub experts: Vec<ExpertFacts>,
    /// The sources of randomness, in their announced order.
    pub sources: Vec<RandomSource>,
}

/// The published record of a draw: its inputs, the exclusions, the key and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawRecord {
    /// The review the panel was drawn for.
    pub review: ReviewRef,
    /// The rule values used, with the algorithm version and the citations.
    pub rules: PanelRules,
    /// When the pool was frozen; random sources must be dated after its day.
    pub pool_frozen_at: DateTime<FixedOffset>,
    /// Sorted by pool number.
    pub pool: Vec<PoolEntry>,
    /// Sorted by pool number and category.
    pub exclusions: Vec<Exclusion>,
    /// Pool numbers of the eligible experts, ascending.
    pub eligible: Vec<u32>,
    /// The sources of randomness, in their announced order.
    pub sources: Vec<RandomSource>,
    /// The RFC 3797 key string built from the sources.
    pub key: String,
    /// Pool numbers of the panel, in ranked order.
    pub panel: Vec<u32>,
    /// Pool numbers of the alternates, in ranked order.
    pub alternates: Vec<u32>,
    /// SHA-256 (hex) of the record's content; see the module's algorithm, step 8.
    pub outcome_hash: String,
}

/// Draws a panel and its alternates by the algorithm the module describes.
///
/// # Errors
/// The rules ask for another algorithm version or for no members; a source is dated on or
/// before the day the pool was frozen, or is not a list of numbers; a pool number or expert
/// appears twice; a pool entry names an unknown expert; fewer eligible experts than seats; no
/// eligible expert of the enterprise's industry when one is required.
pub fn draw(inputs: &DrawInputs) -> Result<DrawRecord, DrawError> {
    check_rules(&inputs.rules)?;
    check_source_dates(&inputs.sources, inputs.pool_frozen_at)?;
    let key = rfc3797_key(&inputs.sources)?;
    let pool = sorted_pool(&inputs.pool)?;
    let facts = ConflictFacts {
        review: &inputs.review,
        rules: &inputs.rules,
        experts: &inputs.experts,
    };
    let exclusions = exclusions(&pool, &facts)?;
    let eligible = eligible_numbers(
        pool.iter().map(|entry| entry.pool_number),
        exclusions.iter().map(|exclusion| exclusion.pool_number),
    );
    let industry = &inputs.review.enterprise_industry;
    let selection = select(&key, &eligible, &inputs.rules, industry, &numbered(&pool))?;
    let mut record = DrawRecord {
        review: inputs.review.clone(),
        rules: inputs.rules.clone(),
        pool_frozen_at: inputs.pool_frozen_at,
        pool,
        exclusions,
        eligible,
        sources: inputs.sources.clone(),
        key,
        panel: selection.panel,
        alternates: selection.alternates,
        outcome_hash: String::new(),
    };
    record.outcome_hash = Fingerprinted::of_record(&record).hash();
    Ok(record)
}

fn check_rules(rules: &PanelRules) -> Result<(), DrawError> {
    if rules.algorithm_version != ALGORITHM_VERSION {
        return Err(DrawError::UnsupportedAlgorithm {
            version: rules.algorithm_version.clone(),
        });
    }
    if rules.min_members == 0 {
        return Err(DrawError::BadRule {
            id: "panel.min_members".to_string(),
            value: 0,
            least: 1,
        });
    }
    Ok(())
}

fn check_source_dates(
    sources: &[RandomSource],
    frozen: DateTime<FixedOffset>,
) -> Result<(), DrawError> {
    match sources
        .iter()
        .find(|source| source.drawn_on <= frozen.date_naive())
    {
        Some(early) => Err(DrawError::SourcesBeforeFreeze {
            source_name: early.name.clone(),
            date: early.drawn_on,
            frozen,
        }),
        None => Ok(()),
    }
}

fn sorted_pool(pool: &[PoolEntry]) -> Result<Vec<PoolEntry>, DrawError> {
    let mut sorted = pool.to_vec();
    sorted.sort_by_key(|entry| entry.pool_number);
    check_unique(sorted.iter().map(|entry| entry.pool_number))?;
    let mut experts = BTreeSet::new();
    match sorted.iter().find(|entry| !experts.insert(entry.expert_id)) {
        Some(twice) => Err(DrawError::DuplicateExpert {
            expert_id: twice.expert_id,
        }),
        None => Ok(sorted),
    }
}

fn check_unique(numbers: impl IntoIterator<Item = u32>) -> Result<(), DrawError> {
    let mut seen = BTreeSet::new();
    match numbers.into_iter().find(|number| !seen.insert(*number)) {
        Some(pool_number) => Err(DrawError::DuplicatePoolNumber { pool_number }),
        None => Ok(()),
    }
}

fn eligible_numbers(
    pool: impl IntoIterator<Item = u32>,
    excluded: impl IntoIterator<Item = u32>,
) -> Vec<u32> {
    let excluded: BTreeSet<u32> = excluded.into_iter().collect();
    let eligible: BTreeSet<u32> = pool
        .into_iter()
        .filter(|number| !excluded.contains(number))
        .collect();
    eligible.into_iter().collect()
}

struct Selection {
    panel: Vec<u32>,
    alternates: Vec<u32>,
}

/// Steps 4–7 of the algorithm over the eligible list; the pool tells who has the industry.
fn select(
    key: &str,
    eligible: &[u32],
    rules: &PanelRules,
    industry: &str,
    pool: &[NumberedEntry<'_>],
) -> Result<Selection, DrawError> {
    let size = rules.panel_size();
    if eligible.len() < size {
        return Err(DrawError::PoolTooSmall {
            needed: size,
            eligible: eligible.len(),
            shortfall: size - eligible.len(),
        });
    }
    let mut ranking: Vec<u32> = rfc3797_select(key, eligible.len(), eligible.len())
        .into_iter()
        .map(|position| eligible[position - 1])
        .collect();
    if rules.industry_member {
        seat_industry_member(&mut ranking, size, industry, pool)?;
    }
    let mut alternates = ranking.split_off(size.min(ranking.len()));
    alternates.truncate(rules.alternates as usize);
    Ok(Selection {
        panel: ranking,
        alternates,
    })
}

/// Step 6: the highest-ranked expert of the industry beyond the panel takes the last seat when
/// no member has the industry; the member displaced becomes the first alternate.
fn seat_industry_member(
    ranking: &mut Vec<u32>,
    size: usize,
    industry: &str,
    pool: &[NumberedEntry<'_>],
) -> Result<(), DrawError> {
    let covers = |number: u32| {
        pool.iter().any(|entry| {
            entry.pool_number == number && entry.specialties.iter().any(|s| s == industry)
        })
    };
    let seats = size.min(ranking.len());
    if ranking[..seats].iter().any(|number| covers(*number)) {
        return Ok(());
    }
    let beyond = ranking[seats..]
        .iter()
        .position(|number| covers(*number))
        .ok_or_else(|| DrawError::NoIndustryExpert {
            industry: industry.to_string(),
        })?;
    let promoted = ranking.remove(seats + beyond);
    ranking.insert(seats.saturating_sub(1), promoted);
    Ok(())
}

// ---- the fingerprint ----------------------------------------------------------------------------

/// A pool entry as the public sees it: its number and specialties, and after the review the
/// name of a panel member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicPoolEntry {
    /// The expert's published number in the pool.
    pub pool_number: u32,
    /// Published because the industry-member rule is checked against them.
    pub specialties: Vec<String>,
    /// A panel member's name once the review is finished; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An exclusion as the public sees it: the category without the facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicExclusion {
    /// The expert excluded.
    pub pool_number: u32,
    /// The kind of reason.
    pub category: ConflictCategory,
}

#[derive(Serialize)]
struct NumberedEntry<'a> {
    pool_number: u32,
    specialties: &'a [String],
}

/// What the outcome hash covers, the same read from the full record or from its public copy:
/// private details enter through their digest only.
#[derive(Serialize)]
struct Fingerprinted<'a> {
    review: &'a ReviewRef,
    rules: &'a PanelRules,
    pool_frozen_at: DateTime<FixedOffset>,
    pool: Vec<NumberedEntry<'a>>,
    exclusions: Vec<PublicExclusion>,
    eligible: &'a [u32],
    sources: &'a [RandomSource],
    key: &'a str,
    panel: &'a [u32],
    alternates: &'a [u32],
    private_digest: String,
}

impl<'a> Fingerprinted<'a> {
    fn of_record(record: &'a DrawRecord) -> Self {
        Self {
            review: &record.review,
            rules: &record.rules,
            pool_frozen_at: record.pool_frozen_at,
            pool: numbered(&record.pool),
            exclusions: record.exclusions.iter().map(public_exclusion).collect(),
            eligible: &record.eligible,
            sources: &record.sources,
            key: &record.key,
            panel: &record.panel,
            alternates: &record.alternates,
            private_digest: private_digest(record),
        }
    }

    fn of_public(copy: &'a PublicDraw) -> Self {
        Self {
            review: &copy.review,
            rules: &copy.rules,
            pool_frozen_at: copy.pool_frozen_at,
            pool: copy
                .pool
                .iter()
                .map(|entry| NumberedEntry {
                    pool_number: entry.pool_number,
                    specialties: &entry.specialties,
                })
                .collect(),
            exclusions: copy.exclusions.clone(),
            eligible: &copy.eligible,
            sources: &copy.sources,
            key: &copy.key,
            panel: &copy.panel,
            alternates: &copy.alternates,
            private_digest: copy.private_digest.clone(),
        }
    }

    fn hash(&self) -> String {
        sha256_json(self)
    }
}

fn numbered(pool: &[PoolEntry]) -> Vec<NumberedEntry<'_>> {
    pool.iter()
        .map(|entry| NumberedEntry {
            pool_number: entry.pool_number,
            specialties: &entry.specialties,
        })
        .collect()
}

fn public_exclusion(exclusion: &Exclusion) -> PublicExclusion {
    PublicExclusion {
        pool_number: exclusion.pool_number,
        category: exclusion.category,
    }
}

/// SHA-256 over the pool and the exclusions in full, names and details included.
fn private_digest(record: &DrawRecord) -> String {
    sha256_json(&(&record.pool, &record.exclusions))
}

fn sha256_json(value: &impl Serialize) -> String {
    // Plain structs, strings, numbers and dates: serialising them cannot fail.
    let bytes = serde_json::to_vec(value).expect("draw content serialises to JSON");
    hex::encode(Sha256::digest(bytes))
}

// ---- verification -------------------------------------------------------------------------------

/// One way a published draw differs from its recomputation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The inputs break a rule of the draw, so the record cannot stand as drawn.
    Refused(DrawError),
    /// The eligible list is not the pool less the excluded.
    Eligible {
        /// What the record says.
        recorded: Vec<u32>,
        /// What the recomputation gives.
        computed: Vec<u32>,
    },
    /// The key is not the one the sources give.
    Key {
        /// What the record says.
        recorded: String,
        /// What the recomputation gives.
        computed: String,
    },
    /// The panel is not the one the draw gives.
    Panel {
        /// What the record says.
        recorded: Vec<u32>,
        /// What the recomputation gives.
        computed: Vec<u32>,
    },
    /// The alternates are not the ones the draw gives.
    Alternates {
        /// What the record says.
        recorded: Vec<u32>,
        /// What the recomputation gives.
        computed: Vec<u32>,
    },
    /// The content was changed after the draw: it no longer hashes to the recorded value.
    Hash {
        /// What the record says.
        recorded: String,
        /// What its content hashes to.
        computed: String,
    },
}

impl Mismatch {
    /// The difference in both interface languages.
    pub fn message(&self) -> Message {
        match self {
            Self::Refused(error) => {
                let message = error.message();
                Message::new(
                    format!("抽取输入不符合抽取规则：{}", message.zh),
                    format!("the inputs break a rule of the draw: {}", message.en),
                )
            }
            Self::Eligible { recorded, computed } => {
                list_message(("可抽取名单", "eligible list"), recorded, computed)
            }
            Self::Key { recorded, computed } => Message::new(
                format!("随机数种子：记录为“{recorded}”，按随机数来源应为“{computed}”"),
                format!("key: the record says \"{recorded}\", the sources give \"{computed}\""),
            ),
            Self::Panel { recorded, computed } => {
                list_message(("评审组", "panel"), recorded, computed)
            }
            Self::Alternates { recorded, computed } => {
                list_message(("候补", "alternates"), recorded, computed)
            }
            Self::Hash { recorded, computed } => Message::new(
                format!("结果校验值：记录为{recorded}，记录内容的校验值为{computed}"),
                format!(
                    "outcome hash: the record says {recorded}, its content hashes to {computed}"
                ),
            ),
        }
    }
}

fn list_message((zh, en): (&str, &str), recorded: &[u32], computed: &[u32]) -> Message {
    let (recorded, computed) = (numbers(recorded), numbers(computed));
    Message::new(
        format!("{zh}：记录为{recorded}，重新计算为{computed}"),
        format!("{en}: the record says {recorded}, the recomputation gives {computed}"),
    )
}

fn numbers(list: &[u32]) -> String {
    if list.is_empty() {
        return "-".to_string();
    }
    list.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message().en)
    }
}

/// The outcome of recomputing a draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Empty when the record matches its recomputation.
    pub mismatches: Vec<Mismatch>,
}

impl Verification {
    /// True when nothing differs.
    pub fn matches(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Recomputes a full draw record: the eligible list from the pool and the exclusions, the key
/// from the sources, the panel and alternates from those, and the outcome hash; a source dated
/// on or before the day the pool froze is a mismatch too. Every difference is reported.
pub fn verify(record: &DrawRecord) -> Verification {
    recheck(&Fingerprinted::of_record(record), &record.outcome_hash)
}

/// As [`verify`], from the public copy: its private digest stands for the private details.
pub fn verify_public(copy: &PublicDraw) -> Verification {
    recheck(&Fingerprinted::of_public(copy), &copy.outcome_hash)
}

fn recheck(view: &Fingerprinted<'_>, recorded_hash: &str) -> Verification {
    let mut mismatches: Vec<Mismatch> = [
        check_source_dates(view.sources, view.pool_frozen_at),
        check_unique(view.pool.iter().map(|entry| entry.pool_number)),
        check_exclusions_in_pool(view),
    ]
    .into_iter()
    .filter_map(Result::err)
    .map(Mismatch::Refused)
    .collect();
    let eligible = eligible_numbers(
        view.pool.iter().map(|entry| entry.pool_number),
        view.exclusions
            .iter()
            .map(|exclusion| exclusion.pool_number),
    );
    if view.eligible != eligible.as_slice() {
        mismatches.push(Mismatch::Eligible {
            recorded: view.eligible.to_vec(),
            computed: eligible.clone(),
        });
    }
    mismatches.extend(recheck_outcome(view, &eligible));
    let computed = view.hash();
    if computed != recorded_hash {
        mismatches.push(Mismatch::Hash {
            recorded: recorded_hash.to_string(),
            computed,
        });
    }
    Verification { mismatches }
}

fn check_exclusions_in_pool(view: &Fingerprinted<'_>) -> Result<(), DrawError> {
    let unknown = view.exclusions.iter().find(|exclusion| {
        !view
            .pool
            .iter()
            .any(|entry| entry.pool_number == exclusion.pool_number)
    });
    match unknown {
        Some(exclusion) => Err(DrawError::UnknownPoolNumber {
            pool_number: exclusion.pool_number,
        }),
        None => Ok(()),
    }
}

/// The key, panel and alternates recomputed and compared; a refusal instead where the rules or
/// the sources do not allow a draw.
fn recheck_outcome(view: &Fingerprinted<'_>, eligible: &[u32]) -> Vec<Mismatch> {
    let key = match check_rules(view.rules).and_then(|()| rfc3797_key(view.sources)) {
        Ok(key) => key,
        Err(error) => return vec![Mismatch::Refused(error)],
    };
    let mut mismatches = Vec::new();
    if view.key != key {
        mismatches.push(Mismatch::Key {
            recorded: view.key.to_string(),
            computed: key.clone(),
        });
    }
    let industry = &view.review.enterprise_industry;
    match select(&key, eligible, view.rules, industry, &view.pool) {
        Ok(selection) => {
            if view.panel != selection.panel.as_slice() {
                mismatches.push(Mismatch::Panel {
                    recorded: view.panel.to_vec(),
                    computed: selection.panel,
                });
            }
            if view.alternates != selection.alternates.as_slice() {
                mismatches.push(Mismatch::Alternates {
                    recorded: view.alternates.to_vec(),
                    computed: selection.alternates,
                });
            }
        }
        Err(error) => mismatches.push(Mismatch::Refused(error)),
    }
    mismatches
}

// ---- the public copy ----------------------------------------------------------------------------

/// The copy of a draw record that is published on the public page and as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicDraw {
    /// False until the review is finished: experts appear by pool number only. Once true, the
    /// panel members' names follow; other experts stay numbers, and exclusions stay categories.
    pub names_shown: bool,
    /// As [`DrawRecord::review`].
    pub review: ReviewRef,
    /// As [`DrawRecord::rules`].
    pub rules: PanelRules,
    /// As [`DrawRecord::pool_frozen_at`].
    pub pool_frozen_at: DateTime<FixedOffset>,
    /// The pool by number, with specialties; names of panel members once shown.
    pub pool: Vec<PublicPoolEntry>,
    /// The exclusions by category.
    pub exclusions: Vec<PublicExclusion>,
    /// As [`DrawRecord::eligible`].
    pub eligible: Vec<u32>,
    /// As [`DrawRecord::sources`].
    pub sources: Vec<RandomSource>,
    /// As [`DrawRecord::key`].
    pub key: String,
    /// As [`DrawRecord::panel`].
    pub panel: Vec<u32>,
    /// As [`DrawRecord::alternates`].
    pub alternates: Vec<u32>,
    /// SHA-256 over the pool and the exclusions in full: it commits the department to the
    /// private details without showing them.
    pub private_digest: String,
    /// As [`DrawRecord::outcome_hash`].
    pub outcome_hash: String,
}

/// The public copy of a record. Before the review is finished it names no one; after, it names
/// the panel members. Names shown are not covered by the outcome hash (the full record is).
pub fn public_copy(record: &DrawRecord, review_finished: bool) -> PublicDraw {
    let name_of = |entry: &PoolEntry| {
        (review_finished && record.panel.contains(&entry.pool_number)).then(|| entry.name.clone())
    };
    PublicDraw {
        names_shown: review_finished,
        review: record.review.clone(),
        rules: record.rules.clone(),
        pool_frozen_at: record.pool_frozen_at,
        pool: record
            .pool
            .iter()
            .map(|entry| PublicPoolEntry {
                pool_number: entry.pool_number,
                specialties: entry.specialties.clone(),
                name: name_of(entry),
            })
            .collect(),
        exclusions: record.exclusions.iter().map(public_exclusion).collect(),
        eligible: record.eligible.clone(),
        sources: record.sources.clone(),
        key: record.key.clone(),
        panel: record.panel.clone(),
        alternates: record.alternates.clone(),
        private_digest: private_digest(record),
        outcome_hash: record.outcome_hash.clone(),
    }
}

// ---- errors -------------------------------------------------------------------------------------

/// Why a draw was refused. No draw is made then: never a partial panel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    /// A rule the draw needs is missing, not in force or of the wrong type.
    #[error("rule book: {0}")]
    Rule(#[from] RuleError),
    /// A count in the rule data is below what a draw needs.
    #[error("rule {id} is {value}, but a draw needs a whole number of at least {least}")]
    BadRule { id: String, value: i64, least: u32 },
    /// The rules name an algorithm version this code does not implement.
    #[error(
        "draw algorithm \"{version}\" is not implemented here (this build implements \
         {ALGORITHM_VERSION})"
    )]
    UnsupportedAlgorithm { version: String },
    /// Fewer eligible experts than panel seats.
    #[error(
        "the panel needs {needed} experts but only {eligible} are eligible after exclusions: \
         {shortfall} short; no panel was drawn"
    )]
    PoolTooSmall {
        /// Panel seats.
        needed: usize,
        /// Eligible experts after exclusions.
        eligible: usize,
        /// Seats that would stay empty.
        shortfall: usize,
    },
    /// No eligible expert has the enterprise's industry, and the rules require one.
    #[error(
        "no eligible expert has the enterprise's industry ({industry}) among their specialties, \
         and the rules require one panel member who has"
    )]
    NoIndustryExpert { industry: String },
    /// A pool entry names an expert the registry lacks.
    #[error("pool number {pool_number} names expert {expert_id}, whom the expert registry lacks")]
    UnknownExpert { pool_number: u32, expert_id: i64 },
    /// An exclusion names a pool number the pool lacks.
    #[error("an exclusion names pool number {pool_number}, which is not in the pool")]
    UnknownPoolNumber { pool_number: u32 },
    /// Two pool entries share a number.
    #[error("pool number {pool_number} appears twice in the pool")]
    DuplicatePoolNumber { pool_number: u32 },
    /// Two pool entries name the same expert.
    #[error("expert {expert_id} appears twice in the pool")]
    DuplicateExpert { expert_id: i64 },
    /// No source of randomness.
    #[error("no source of randomness was given")]
    NoSources,
    /// A source without values.
    #[error("source \"{source_name}\" has no values")]
    EmptySource { source_name: String },
    /// A source value that is not a non-negative decimal number.
    #[error("source \"{source_name}\": \"{value}\" is not a non-negative decimal number")]
    BadSourceValue { source_name: String, value: String },
    /// A source dated on or before the day the pool was frozen.
    #[error(
        "source \"{source_name}\" is dated {date}, not after the day the pool was frozen ({frozen}): \
         its values could have been known while the pool was composed"
    )]
    SourcesBeforeFreeze {
        /// The source's name.
        source_name: String,
        /// Its date.
        date: NaiveDate,
        /// When the pool was frozen.
        frozen: DateTime<FixedOffset>,
    },
}

impl DrawError {
    /// The error in both interface languages.
    pub fn message(&self) -> Message {
        Message::new(self.message_zh(), self.to_string())
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Rule(error) => format!("规则库：{error}"),
            Self::BadRule { id, value, least } => {
                format!("规则{id}的值为{value}，抽取需要不小于{least}的整数")
            }
            Self::UnsupportedAlgorithm { version } => {
                format!("本系统未实现抽取算法“{version}”（实现的是{ALGORITHM_VERSION}）")
            }
            Self::PoolTooSmall {
                needed,
                eligible,
                shortfall,
            } => format!(
                "评审组需要专家{needed}名，回避后可抽取的仅{eligible}名，缺{shortfall}名；\
                 未抽取评审组"
            ),
            Self::NoIndustryExpert { industry } => format!(
                "没有可抽取的专家具备企业所属行业（{industry}）专长，而规则要求评审组至少一名"
            ),
            Self::UnknownExpert {
                pool_number,
                expert_id,
            } => format!("库编号{pool_number}对应的专家{expert_id}未在专家库登记"),
            Self::UnknownPoolNumber { pool_number } => {
                format!("回避名单中的库编号{pool_number}不在专家库中")
            }
            Self::DuplicatePoolNumber { pool_number } => format!("库编号{pool_number}重复"),
            Self::DuplicateExpert { expert_id } => format!("专家{expert_id}在库中重复出现"),
            Self::NoSources => "未提供随机数来源".to_string(),
            Self::EmptySource { source_name } => format!("随机数来源“{source_name}”没有数值"),
            Self::BadSourceValue { source_name, value } => {
                format!("随机数来源“{source_name}”：“{value}”不是非负十进制数")
            }
            Self::SourcesBeforeFreeze {
                source_name,
                date,
                frozen,
            } => format!(
                "随机数来源“{source_name}”日期为{date}，不晚于专家库冻结之日（{frozen}），\
                 其数值在确定专家库时可能已经知晓"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Confidence;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn source(name: &str, drawn_on: &str, values: &[&str]) -> RandomSource {
        RandomSource {
            name: name.to_string(),
            drawn_on: day(drawn_on),
            values: values.iter().map(|value| value.to_string()).collect(),
        }
    }

    const ENTERPRISE: i64 = 70;
    const CONSULTANCY: i64 = 9;

    fn review() -> ReviewRef {
        ReviewRef {
            round_id: 41,
            kind: ReviewKind::Acceptance,
            enterprise_id: ENTERPRISE,
            enterprise_industry: "thermal_power".to_string(),
            consultancy_id: Some(CONSULTANCY),
            organizer: "620000".to_string(),
            review_on: day("2024-06-20"),
        }
    }

    fn rules() -> PanelRules {
        PanelRules::from_book(&RuleBook::embedded(), day("2024-06-01")).unwrap()
    }

    /// Pool numbers 101.. with expert ids 1..; every fourth expert has the enterprise's industry.
    fn pool(size: u32) -> Vec<PoolEntry> {
        (1..=size)
            .map(|n| PoolEntry {
                pool_number: 100 + n,
                expert_id: i64::from(n),
                specialties: if n % 4 == 0 {
                    vec!["thermal_power".to_string(), "energy".to_string()]
                } else {
                    vec!["chemical".to_string()]
                },
                name: format!("姓名{n}"),
            })
            .collect()
    }

    fn clean_facts(expert_id: i64) -> ExpertFacts {
        ExpertFacts {
            expert_id,
            status: ExpertStatus::Admitted,
            employments: Vec::new(),
            declarations: Vec::new(),
            reviews: Vec::new(),
            absences: Vec::new(),
        }
    }

    fn inputs(size: u32) -> DrawInputs {
        DrawInputs {
            review: review(),
            rules: rules(),
            pool_frozen_at: "2024-06-03T10:00:00+08:00".parse().unwrap(),
            pool: pool(size),
            experts: (1..=i64::from(size)).map(clean_facts).collect(),
            sources: vec![
                source("福彩3D 2024150期", "2024-06-05", &["3", "0", "7"]),
                source(
                    "双色球 2024064期 红球",
                    "2024-06-06",
                    &["02", "11", "14", "20", "27", "33"],
                ),
                source("上证指数 2024-06-06 收盘", "2024-06-06", &["3048.79"]),
            ],
        }
    }

    fn categories_of(found: &[Exclusion], pool_number: u32) -> Vec<ConflictCategory> {
        found
            .iter()
            .filter(|exclusion| exclusion.pool_number == pool_number)
            .map(|exclusion| exclusion.category)
            .collect()
    }

    #[test]
    fn rfc3797_worked_example_of_section_6() {
        // RFC 3797 §6: three sources, a pool of 25 volunteers, ten selected.
        let sources = [
            source("RFC 3797 §6 source 1", "2004-11-01", &["9319"]),
            source(
                "RFC 3797 §6 source 2",
                "2004-11-01",
                &["2", "5", "12", "8", "10"],
            ),
            source(
                "RFC 3797 §6 source 3",
                "2004-11-01",
                &["9", "18", "26", "34", "41", "45"],
            ),
        ];
        let key = rfc3797_key(&sources).unwrap();
        assert_eq!(key, "9319./2.5.8.10.12./9.18.26.34.41.45./");

        let digests = [
            "990DD0A5692A029A98B5E01AA28F3459",
            "3691E55CB63FCC37914430B2F70B5EC6",
            "FE814EDF564C190AC1D25753979990FA",
            "1863CCACEB568C31D7DDBDF1D4E91387",
            "F4AB33DF4889F0AF29C513905BE1D758",
            "13EAEB529F61ACFB9A29D0BA3A60DE4A",
            "992DB77C382CA2BDB9727001F3CDCCD9",
            "63AB4258ECA922976811C7F55C383CE7",
            "DFBC5AC97CED01B3A6E348E3CC63F40D",
            "31CB111C4A4EBE9287CEAE16FE51B909",
        ];
        for (index, expected) in (0u16..).zip(digests) {
            assert_eq!(hex::encode_upper(rfc3797_digest(&key, index)), expected);
        }

        let volunteers = [
            "John",
            "Mary",
            "Bashful",
            "Dopey",
            "Sleepy",
            "Grouchy",
            "Doc",
            "Sneazy",
            "Handsome",
            "Cassandra",
            "Pollyanna",
            "Pendragon",
            "Pandora",
            "Faith",
            "Hope",
            "Charity",
            "Lee",
            "Longsuffering",
            "Chastity",
            "Smith",
            "Pride",
            "Sloth",
            "Envy",
            "Anger",
            "Kasczynski",
        ];
        let positions = rfc3797_select(&key, volunteers.len(), 10);
        assert_eq!(positions, [17, 7, 2, 16, 25, 23, 8, 24, 19, 13]);
        let selected: Vec<&str> = positions.iter().map(|p| volunteers[p - 1]).collect();
        assert_eq!(
            selected,
            [
                "Lee",
                "Doc",
                "Mary",
                "Charity",
                "Kasczynski",
                "Envy",
                "Sneazy",
                "Anger",
                "Chastity",
                "Pandora"
            ]
        );
        // A selection is a prefix of any longer one, and never exceeds the list.
        assert_eq!(rfc3797_select(&key, 25, 3), [17, 7, 2]);
        assert_eq!(rfc3797_select(&key, 25, 40).len(), 25);
    }

    #[test]
    fn key_values_are_written_as_the_rfc_says() {
        let key = rfc3797_key(&[
            source(
                "a",
                "2024-06-05",
                &["10", "007", "9.50", ".5", "0", "3051.270"],
            ),
            source("b", "2024-06-05", &[" 12 "]),
        ])
        .unwrap();
        assert_eq!(key, "0.0.57.9.510.3051.27/12./");

        for bad in ["-1", "1e3", "", "1.2.3", "一", "."] {
            let error = rfc3797_key(&[source("a", "2024-06-05", &[bad])]).unwrap_err();
            assert!(
                matches!(&error, DrawError::BadSourceValue { value, .. } if value == bad),
                "{bad}: {error}"
            );
        }
        assert_eq!(rfc3797_key(&[]), Err(DrawError::NoSources));
        assert!(matches!(
            rfc3797_key(&[source("empty", "2024-06-05", &[])]),
            Err(DrawError::EmptySource { .. })
        ));
    }

    #[test]
    fn each_kind_of_conflict_excludes_the_expert() {
        let review = review();
        let rules = rules();
        let on = review.review_on;
        let mut experts: Vec<ExpertFacts> = (1..=10).map(clean_facts).collect();
        let job = |party, from: &str, until: Option<&str>| Employment {
            party,
            from: day(from),
            until: until.map(day),
        };
        experts[0]
            .employments
            .push(job(Party::Enterprise(ENTERPRISE), "2015-01-01", None));
        experts[1].employments.push(job(
            Party::Consultancy(CONSULTANCY),
            "2010-01-01",
            Some("2021-06-20"),
        ));
        experts[2].declarations.push(Declaration {
            party: Party::Enterprise(ENTERPRISE),
            note: "配偶任该企业环保部经理".to_string(),
        });
        experts[3].reviews = vec![day("2024-01-10"); 6];
        experts[4].status = ExpertStatus::Suspended;
        experts[5].absences.push(Absence {
            from: day("2024-06-18"),
            until: on,
            note: "出差".to_string(),
        });
        // Near misses: none of these excludes.
        experts[6].employments.push(job(
            Party::Consultancy(CONSULTANCY),
            "2010-01-01",
            Some("2021-06-19"),
        ));
        experts[6]
            .employments
            .push(job(Party::Enterprise(ENTERPRISE + 1), "2020-01-01", None));
        experts[7].declarations.push(Declaration {
            party: Party::Consultancy(CONSULTANCY + 1),
            note: "曾合作".to_string(),
        });
        experts[8].reviews = [vec![day("2023-12-30"); 6], vec![day("2024-03-01"); 5]].concat();
        experts[9].absences.push(Absence {
            from: day("2024-06-21"),
            until: day("2024-06-30"),
            note: "休假".to_string(),
        });

        let pool = pool(10);
        let facts = ConflictFacts {
            review: &review,
            rules: &rules,
            experts: &experts,
        };
        let found = exclusions(&pool, &facts).unwrap();
        let expected = [
            (101, ConflictCategory::Employer),
            (102, ConflictCategory::RecentWork),
            (103, ConflictCategory::Declared),
            (104, ConflictCategory::YearlyCap),
            (105, ConflictCategory::NotAdmitted),
            (106, ConflictCategory::Unavailable),
        ];
        for (pool_number, category) in expected {
            assert_eq!(categories_of(&found, pool_number), [category]);
        }
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        assert!(found[1].detail.en.contains("3-year"), "{:?}", found[1]);
        assert!(found[2].detail.zh.contains("配偶"));

        // An expert the registry lacks is refused, not silently drawn.
        let error = exclusions(
            &pool,
            &ConflictFacts {
                experts: &experts[..9],
                ..facts
            },
        );
        assert_eq!(
            error,
            Err(DrawError::UnknownExpert {
                pool_number: 110,
                expert_id: 10
            })
        );
    }

    #[test]
    fn the_same_inputs_give_a_byte_identical_record_that_verifies() {
        let inputs = inputs(20);
        let record = draw(&inputs).unwrap();
        let json = serde_json::to_string_pretty(&record).unwrap();
        assert_eq!(
            json,
            serde_json::to_string_pretty(&draw(&inputs).unwrap()).unwrap()
        );
        let read: DrawRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(read, record);
        assert_eq!(serde_json::to_string_pretty(&read).unwrap(), json);

        assert_eq!(record.panel.len(), 5);
        assert_eq!(record.alternates.len(), 3);
        assert_eq!(record.eligible.len(), 20);
        assert_eq!(record.key, "0.3.7./2.11.14.20.27.33./3048.79/");
        assert!(verify(&record).matches(), "{:?}", verify(&record));
        for finished in [false, true] {
            let copy = public_copy(&record, finished);
            assert!(verify_public(&copy).matches(), "{:?}", verify_public(&copy));
        }

        // The pool's order as given does not matter; other sources give another panel.
        let mut shuffled = inputs.clone();
        shuffled.pool.reverse();
        assert_eq!(draw(&shuffled).unwrap(), record);
        let mut other = inputs.clone();
        other.sources[1].values[0] = "03".to_string();
        assert_ne!(draw(&other).unwrap().panel, record.panel);
    }

    fn mismatch_kinds(record: &DrawRecord) -> Vec<&'static str> {
        verify(record)
            .mismatches
            .iter()
            .map(|mismatch| match mismatch {
                Mismatch::Refused(_) => "refused",
                Mismatch::Eligible { .. } => "eligible",
                Mismatch::Key { .. } => "key",
                Mismatch::Panel { .. } => "panel",
                Mismatch::Alternates { .. } => "alternates",
                Mismatch::Hash { .. } => "hash",
            })
            .collect()
    }

    #[test]
    fn any_change_to_a_record_fails_verification_naming_what() {
        let mut inputs = inputs(20);
        inputs.experts[1].status = ExpertStatus::Suspended;
        let record = draw(&inputs).unwrap();
        assert_eq!(
            categories_of(&record.exclusions, 102),
            [ConflictCategory::NotAdmitted]
        );

        let mut renamed = record.clone();
        renamed.pool[4].name = "别人".to_string();
        assert_eq!(mismatch_kinds(&renamed), ["hash"]);

        let mut respecialised = record.clone();
        respecialised.pool[4].specialties.push("steel".to_string());
        assert_eq!(mismatch_kinds(&respecialised), ["hash"]);

        let mut unexcluded = record.clone();
        unexcluded.exclusions.clear();
        let kinds = mismatch_kinds(&unexcluded);
        assert_eq!(kinds.first(), Some(&"eligible"));
        assert_eq!(kinds.last(), Some(&"hash"));

        let mut reseeded = record.clone();
        reseeded.sources[0].values[0] = "4".to_string();
        let kinds = mismatch_kinds(&reseeded);
        assert!(
            kinds.starts_with(&["key"]) && kinds.ends_with(&["hash"]),
            "{kinds:?}"
        );

        let mut swapped = record.clone();
        swapped.panel[0] = swapped.alternates[0];
        assert_eq!(mismatch_kinds(&swapped), ["panel", "hash"]);
        let message = verify(&swapped).mismatches[0].to_string();
        assert!(message.starts_with("panel: the record says"), "{message}");

        let mut rehashed = record.clone();
        rehashed.outcome_hash = "0".repeat(64);
        assert_eq!(mismatch_kinds(&rehashed), ["hash"]);

        // The public copy fails the same way when its content changes.
        let mut copy = public_copy(&record, false);
        copy.exclusions.pop();
        assert!(!verify_public(&copy).matches());
    }

    #[test]
    fn sources_dated_on_or_before_the_freeze_day_are_refused() {
        let mut early = inputs(20);
        early.sources[2].drawn_on = day("2024-06-03");
        let error = draw(&early).unwrap_err();
        assert!(
            matches!(&error, DrawError::SourcesBeforeFreeze { source_name, date, .. }
                if source_name.starts_with("上证指数") && *date == day("2024-06-03")),
            "{error}"
        );

        // A record whose source is back-dated fails verification, even with a fresh hash.
        let mut record = draw(&inputs(20)).unwrap();
        record.sources[0].drawn_on = day("2024-06-01");
        record.outcome_hash = Fingerprinted::of_record(&record).hash();
        let verification = verify(&record);
        assert!(matches!(
            verification.mismatches.as_slice(),
            [Mismatch::Refused(DrawError::SourcesBeforeFreeze { .. })]
        ));
    }

    #[test]
    fn a_pool_too_small_is_refused_naming_the_shortfall() {
        let mut small = inputs(4);
        small.experts[0].status = ExpertStatus::Removed;
        let error = draw(&small).unwrap_err();
        assert_eq!(
            error,
            DrawError::PoolTooSmall {
                needed: 5,
                eligible: 3,
                shortfall: 2
            }
        );
        assert!(error.to_string().contains("2 short"), "{error}");
        assert!(error.message().zh.contains("缺2名"));

        // Enough for the panel, not for every alternate: the alternates run out, the panel is full.
        let record = draw(&inputs(6)).unwrap();
        assert_eq!((record.panel.len(), record.alternates.len()), (5, 1));
    }

    #[test]
    fn an_unknown_or_repeated_expert_is_refused() {
        let mut unknown = inputs(10);
        unknown.experts.retain(|expert| expert.expert_id != 3);
        assert_eq!(
            draw(&unknown),
            Err(DrawError::UnknownExpert {
                pool_number: 103,
                expert_id: 3
            })
        );
        let mut repeated = inputs(10);
        repeated.pool[1].pool_number = 101;
        assert_eq!(
            draw(&repeated),
            Err(DrawError::DuplicatePoolNumber { pool_number: 101 })
        );
        let mut twice = inputs(10);
        twice.pool[1].expert_id = 1;
        assert_eq!(
            draw(&twice),
            Err(DrawError::DuplicateExpert { expert_id: 1 })
        );
    }

    #[test]
    fn one_member_of_the_enterprise_industry_is_guaranteed() {
        let covers = |record: &DrawRecord, number: u32| {
            record.pool[(number - 101) as usize]
                .specialties
                .contains(&"thermal_power".to_string())
        };
        // Only pool number 120 has the industry; it lands on the panel whatever the sources.
        let mut seated = 0;
        for lottery in 0..12 {
            let mut inputs = inputs(20);
            for entry in &mut inputs.pool {
                entry
                    .specialties
                    .retain(|s| entry.pool_number == 120 || s != "thermal_power");
            }
            inputs.sources[0].values = vec![lottery.to_string()];
            let record = draw(&inputs).unwrap();
            assert!(record.panel.contains(&120), "{:?}", record.panel);
            assert!(verify(&record).matches());

            let mut free = inputs.clone();
            free.rules.industry_member = false;
            let unconstrained = draw(&free).unwrap();
            if !unconstrained.panel.iter().any(|n| covers(&record, *n)) {
                // The industry expert took the last seat; the member it displaced leads the
                // alternates.
                seated += 1;
                assert_eq!(record.panel[..4], unconstrained.panel[..4]);
                assert_eq!(record.panel[4], 120);
                assert_eq!(record.alternates[0], unconstrained.panel[4]);
            }
        }
        assert!(seated > 0, "no source made the industry rule act");

        let mut none = inputs(20);
        for entry in &mut none.pool {
            entry.specialties.retain(|s| s != "thermal_power");
        }
        assert_eq!(
            draw(&none),
            Err(DrawError::NoIndustryExpert {
                industry: "thermal_power".to_string()
            })
        );
    }

    #[test]
    fn panel_size_rounds_an_even_minimum_up_when_odd_is_required() {
        let mut rules = rules();
        rules.min_members = 6;
        assert_eq!(rules.panel_size(), 7);
        rules.odd_size = false;
        assert_eq!(rules.panel_size(), 6);
        rules.min_members = 5;
        rules.odd_size = true;
        assert_eq!(rules.panel_size(), 5);

        let mut other = inputs(10);
        other.rules.algorithm_version = "cpaudit-draw/0".to_string();
        assert!(matches!(
            draw(&other),
            Err(DrawError::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn panel_rules_come_from_the_rule_book_and_are_not_presented_as_law() {
        let rules = rules();
        assert_eq!(rules.algorithm_version, ALGORITHM_VERSION);
        assert_eq!(
            (rules.min_members, rules.odd_size, rules.industry_member),
            (5, true, true)
        );
        assert_eq!(
            (rules.alternates, rules.conflict_years, rules.yearly_cap),
            (3, 3, 6)
        );
        assert_eq!(rules.rule_refs.len(), 7);
        for rule in &rules.rule_refs {
            assert!(
                rule.citations.iter().all(|citation| matches!(
                    citation.confidence,
                    Confidence::LocalPractice | Confidence::Design | Confidence::Unverified
                )),
                "{} is cited as law",
                rule.id
            );
        }
        let book = RuleBook::embedded();
        for id in ["gansu-review-2024", "hunan-review-2016"] {
            assert!(book.document(id).is_some(), "{id}");
        }
    }

    #[test]
    fn the_public_copy_names_no_one_until_the_review_is_finished() {
        let mut inputs = inputs(20);
        inputs.experts[2].declarations.push(Declaration {
            party: Party::Enterprise(ENTERPRISE),
            note: "曾为该企业编制环评报告".to_string(),
        });
        let record = draw(&inputs).unwrap();
        let before = serde_json::to_string(&public_copy(&record, false)).unwrap();
        assert!(!before.contains("姓名"), "{before}");
        assert!(!before.contains("环评"), "{before}");
        assert!(before.contains("\"category\":\"declared\""));

        let after = public_copy(&record, true);
        for entry in &after.pool {
            let named = record.panel.contains(&entry.pool_number);
            assert_eq!(entry.name.is_some(), named, "{}", entry.pool_number);
        }
        let after = serde_json::to_string(&after).unwrap();
        assert!(!after.contains("环评"));
        let read: PublicDraw = serde_json::from_str(&after).unwrap();
        assert!(verify_public(&read).matches());
    }
}
