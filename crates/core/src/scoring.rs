//! Scoring of assessment (评估), acceptance (验收) and the combined small/micro review: the
//! experts' score sheets and the proposal the organizer decides on.
//!
//! The forms — items with their points, veto items (否定项), the thresholds of each conclusion
//! and how a panel's sheets combine — are data in `rules/<province>/scoring.toml`, read by
//! [`ScoringBook::from_toml`] and checked there (points sum to 100, thresholds ordered, ids
//! unique, every review kind covered on every day from the first form's date). None of it is
//! verified national law: the file marks every value local practice or design.
//!
//! A review records the version of the form in force on its meeting day and is scored with that
//! form to the end. Each expert's [`ScoreSheet`] is checked against the form
//! ([`ScoringForm::check_sheet`]); [`propose`] combines the sheets into a [`Proposal`] with its
//! reasons in both languages. The organizer decides: the proposal is advice, recorded beside the
//! decision.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::registry::{FieldError, Message};
use crate::round::{ReviewConclusion, ReviewKind};
use crate::rules::{plain_date, RuleBook, RuleCitation, RuleFault};

/// The Gansu scoring forms, embedded.
pub const GANSU_SCORING_TOML: &str = include_str!("../../../rules/gansu/scoring.toml");

/// The file name faults carry.
const SCORING_FILE: &str = "scoring.toml";

/// Every item's points add up to this.
pub const FULL_MARKS: u32 = 100;

/// All scoring forms of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoringBook {
    /// Recorded with every proposal, beside the form's own version.
    pub version: String,
    pub forms: Vec<ScoringForm>,
}

/// One form of one review kind, in force from `from` (until `until`, exclusive).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoringForm {
    pub kind: ReviewKind,
    /// Unique across the book; a review records it.
    pub version: String,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
    pub name_zh: String,
    pub name_en: String,
    pub note: Option<String>,
    /// What the items and weights rest on.
    pub citations: Vec<RuleCitation>,
    pub items: Vec<ScoreItem>,
    pub vetoes: Vec<VetoItem>,
    pub veto_citations: Vec<RuleCitation>,
    pub thresholds: Thresholds,
    pub panel: PanelRule,
}

/// One scored item of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreItem {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// The most points an expert may give.
    pub max: u32,
    /// What the expert looks at.
    pub guidance: String,
}

/// A veto item (否定项): when it stands, the review fails whatever the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VetoItem {
    pub id: String,
    pub text_zh: String,
    pub text_en: String,
}

/// The score each conclusion needs, highest first; below the last band the review gets the
/// kind's lowest conclusion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    /// (conclusion, lowest score that earns it), in the order of `ReviewKind::conclusions`.
    pub bands: Vec<(ReviewConclusion, u32)>,
    /// The conclusion below every band, and whenever a veto item stands.
    pub below: ReviewConclusion,
    pub citations: Vec<RuleCitation>,
}

/// How the panel's sheets combine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelRule {
    pub combine: Combine,
    pub veto_stands_when: VetoQuorum,
    pub citations: Vec<RuleCitation>,
}

/// How the members' totals become the panel's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The mean of every sheet.
    Mean,
    /// With at least `at_least` sheets, the sheet with the highest total and the one with the
    /// lowest are set aside and the rest averaged; with fewer, the plain mean.
    TrimmedMean { at_least: usize },
}

/// How many of the seated panel must mark a veto item for it to stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VetoQuorum {
    /// More than half of the seated members.
    Majority,
    /// Any one member.
    Any,
}

impl VetoQuorum {
    fn stands(self, marks: usize, seated: usize) -> bool {
        match self {
            Self::Majority => marks * 2 > seated,
            Self::Any => marks > 0,
        }
    }

    fn describe_zh(self) -> &'static str {
        match self {
            Self::Majority => "过半数",
            Self::Any => "任一",
        }
    }

    fn describe_en(self) -> &'static str {
        match self {
            Self::Majority => "a majority",
            Self::Any => "any one",
        }
    }
}

// ---- reading the file ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRow {
    #[serde(default)]
    version: String,
    #[serde(default)]
    form: Vec<FormRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormRow {
    kind: ReviewKind,
    #[serde(default)]
    version: String,
    from: toml::value::Datetime,
    until: Option<toml::value::Datetime>,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
    note: Option<String>,
    #[serde(default)]
    citation: Vec<RuleCitation>,
    #[serde(default)]
    item: Vec<ScoreItem>,
    #[serde(default)]
    veto: Vec<VetoItem>,
    #[serde(default)]
    veto_citation: Vec<RuleCitation>,
    thresholds: ThresholdsRow,
    panel: PanelRow,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsRow {
    pass: Option<u32>,
    rectify: Option<u32>,
    qualified: Option<u32>,
    #[serde(default)]
    citation: Vec<RuleCitation>,
}

impl ThresholdsRow {
    fn given(&self) -> Vec<(ReviewConclusion, u32)> {
        [
            (ReviewConclusion::Pass, self.pass),
            (ReviewConclusion::Rectify, self.rectify),
            (ReviewConclusion::Qualified, self.qualified),
        ]
        .into_iter()
        .filter_map(|(conclusion, score)| score.map(|score| (conclusion, score)))
        .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum CombineName {
    Mean,
    TrimmedMean,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PanelRow {
    combine: CombineName,
    trim_at_least: Option<usize>,
    veto_stands_when: VetoQuorum,
    #[serde(default)]
    citation: Vec<RuleCitation>,
}

/// Collects the faults of the scoring file.
struct Faults<'a> {
    book: &'a RuleBook,
    faults: Vec<RuleFault>,
}

impl Faults<'_> {
    fn add(&mut self, location: &str, message: impl Into<String>) {
        self.faults.push(RuleFault {
            file: SCORING_FILE.into(),
            location: location.into(),
            message: message.into(),
        });
    }

    fn required(&mut self, location: &str, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.add(location, format!("{field} is missing or empty"));
        }
    }

    fn date(&mut self, location: &str, field: &str, value: &toml::value::Datetime) -> NaiveDate {
        plain_date(value).unwrap_or_else(|| {
            self.add(
                location,
                format!("{field} must be a plain date such as 2016-07-01, found {value}"),
            );
            NaiveDate::MIN
        })
    }

    fn citations(&mut self, location: &str, what: &str, citations: &[RuleCitation]) {
        if citations.is_empty() {
            self.add(location, format!("{what} needs at least one citation"));
        }
        for citation in citations {
            if self.book.document(&citation.document).is_none() {
                self.add(
                    location,
                    format!(
                        "{what} cites unknown document \"{}\" (not in documents.toml)",
                        citation.document
                    ),
                );
            }
            if citation.article.trim().is_empty() {
                self.add(location, format!("{what}: a citation's article is empty"));
            }
        }
    }

    /// Ids are unique, non-empty and written as lower-case ASCII words joined by `_`.
    fn ids<'i>(&mut self, location: &str, what: &str, ids: impl Iterator<Item = &'i str>) {
        let mut seen = HashSet::new();
        for id in ids {
            if !is_item_id(id) {
                self.add(
                    location,
                    format!("{what} id \"{id}\" must be lower-case ASCII letters, digits and _"),
                );
            }
            if !seen.insert(id) {
                self.add(location, format!("duplicate {what} id \"{id}\""));
            }
        }
    }
}

fn is_item_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl ScoringBook {
    /// The embedded Gansu forms, checked against the embedded rule book's documents.
    ///
    /// # Panics
    /// Only if the embedded file is broken, which the tests of this module rule out.
    pub fn embedded() -> Self {
        Self::from_toml(GANSU_SCORING_TOML, &RuleBook::embedded()).unwrap_or_else(|faults| {
            let lines: Vec<String> = faults.iter().map(ToString::to_string).collect();
            panic!("embedded scoring forms are invalid:\n{}", lines.join("\n"))
        })
    }

    /// Reads and checks a scoring file; citations must name documents of `book`. Every fault
    /// is reported at once.
    pub fn from_toml(text: &str, book: &RuleBook) -> Result<Self, Vec<RuleFault>> {
        let mut faults = Faults {
            book,
            faults: Vec::new(),
        };
        let file: FileRow = match toml::from_str(text) {
            Ok(file) => file,
            Err(error) => {
                faults.add("syntax", error.to_string().trim_end());
                return Err(faults.faults);
            }
        };
        faults.required("version", "version", &file.version);
        let forms: Vec<ScoringForm> = file
            .form
            .into_iter()
            .enumerate()
            .map(|(index, row)| read_form(&mut faults, index + 1, row))
            .collect();
        check_versions(&mut faults, &forms);
        check_coverage(&mut faults, &forms);
        if faults.faults.is_empty() {
            Ok(Self {
                version: file.version,
                forms,
            })
        } else {
            Err(faults.faults)
        }
    }

    /// The form of `kind` in force on `date` (the meeting day).
    pub fn form_at(&self, kind: ReviewKind, date: NaiveDate) -> Option<&ScoringForm> {
        self.forms.iter().find(|form| {
            form.kind == kind && form.from <= date && form.until.is_none_or(|until| date < until)
        })
    }

    /// The form a review recorded.
    pub fn form(&self, version: &str) -> Option<&ScoringForm> {
        self.forms.iter().find(|form| form.version == version)
    }
}

fn read_form(faults: &mut Faults<'_>, index: usize, row: FormRow) -> ScoringForm {
    let location = if row.version.trim().is_empty() {
        format!("form #{index}")
    } else {
        format!("form {}", row.version)
    };
    faults.required(&location, "version", &row.version);
    faults.required(&location, "name_zh", &row.name_zh);
    faults.required(&location, "name_en", &row.name_en);
    let from = faults.date(&location, "from", &row.from);
    let until = row
        .until
        .as_ref()
        .map(|until| faults.date(&location, "until", until));
    if until.is_some_and(|until| until <= from) {
        faults.add(&location, "until must be after from");
    }
    faults.citations(&location, "the form", &row.citation);
    check_items(faults, &location, &row.item);
    check_vetoes(faults, &location, &row.veto, &row.veto_citation);
    let thresholds = read_thresholds(faults, &location, row.kind, row.thresholds);
    let panel = read_panel(faults, &location, row.panel);
    ScoringForm {
        kind: row.kind,
        version: row.version,
        from,
        until,
        name_zh: row.name_zh,
        name_en: row.name_en,
        note: row.note,
        citations: row.citation,
        items: row.item,
        vetoes: row.veto,
        veto_citations: row.veto_citation,
        thresholds,
        panel,
    }
}

fn check_items(faults: &mut Faults<'_>, location: &str, items: &[ScoreItem]) {
    if items.is_empty() {
        faults.add(location, "a form needs at least one item");
    }
    faults.ids(location, "item", items.iter().map(|item| item.id.as_str()));
    for item in items {
        let at = format!("{location}, item {}", item.id);
        faults.required(&at, "name_zh", &item.name_zh);
        faults.required(&at, "name_en", &item.name_en);
        faults.required(&at, "guidance", &item.guidance);
        if item.max == 0 {
            faults.add(&at, "max must be at least 1");
        }
    }
    let total: u32 = items.iter().map(|item| item.max).sum();
    if total != FULL_MARKS {
        faults.add(
            location,
            format!("the items' points add up to {total}, not {FULL_MARKS}"),
        );
    }
}

fn check_vetoes(
    faults: &mut Faults<'_>,
    location: &str,
    vetoes: &[VetoItem],
    citations: &[RuleCitation],
) {
    faults.ids(location, "veto", vetoes.iter().map(|veto| veto.id.as_str()));
    for veto in vetoes {
        let at = format!("{location}, veto {}", veto.id);
        faults.required(&at, "text_zh", &veto.text_zh);
        faults.required(&at, "text_en", &veto.text_en);
    }
    if !vetoes.is_empty() {
        faults.citations(location, "the veto items", citations);
    }
}

/// Every conclusion of the kind but the last needs a threshold, strictly falling, within
/// 1..=100; the last is what is left below.
fn read_thresholds(
    faults: &mut Faults<'_>,
    location: &str,
    kind: ReviewKind,
    row: ThresholdsRow,
) -> Thresholds {
    let (below, banded) = kind
        .conclusions()
        .split_last()
        .expect("every review kind has conclusions");
    let given = row.given();
    let mut bands = Vec::new();
    for conclusion in banded {
        match given.iter().find(|(c, _)| c == conclusion) {
            Some(band) => bands.push(*band),
            None => faults.add(
                location,
                format!("thresholds.{} is missing", conclusion.as_str()),
            ),
        }
    }
    for (conclusion, _) in given.iter().filter(|(c, _)| !banded.contains(c)) {
        faults.add(
            location,
            format!(
                "thresholds.{} does not apply to a {} form",
                conclusion.as_str(),
                kind.as_str()
            ),
        );
    }
    for (conclusion, score) in &bands {
        if *score == 0 || *score > FULL_MARKS {
            faults.add(
                location,
                format!(
                    "thresholds.{} must be within 1..={FULL_MARKS}",
                    conclusion.as_str()
                ),
            );
        }
    }
    if bands.windows(2).any(|pair| pair[0].1 <= pair[1].1) {
        let order: Vec<&str> = banded.iter().map(|c| c.as_str()).collect();
        faults.add(
            location,
            format!(
                "thresholds must fall strictly in the order {}",
                order.join(" > ")
            ),
        );
    }
    faults.citations(location, "the thresholds", &row.citation);
    Thresholds {
        bands,
        below: *below,
        citations: row.citation,
    }
}

fn read_panel(faults: &mut Faults<'_>, location: &str, row: PanelRow) -> PanelRule {
    let combine = match (row.combine, row.trim_at_least) {
        (CombineName::Mean, None) => Combine::Mean,
        (CombineName::Mean, Some(_)) => {
            faults.add(location, "panel.trim_at_least applies to trimmed_mean only");
            Combine::Mean
        }
        (CombineName::TrimmedMean, Some(at_least)) if at_least >= 3 => {
            Combine::TrimmedMean { at_least }
        }
        (CombineName::TrimmedMean, _) => {
            faults.add(
                location,
                "panel.trim_at_least must be at least 3 for trimmed_mean (one sheet must remain)",
            );
            Combine::Mean
        }
    };
    faults.citations(location, "the panel rule", &row.citation);
    PanelRule {
        combine,
        veto_stands_when: row.veto_stands_when,
        citations: row.citation,
    }
}

fn check_versions(faults: &mut Faults<'_>, forms: &[ScoringForm]) {
    let mut seen = HashSet::new();
    for form in forms {
        if !form.version.is_empty() && !seen.insert(form.version.as_str()) {
            faults.add(&format!("form {}", form.version), "duplicate form version");
        }
    }
}

/// From the earliest `from` of any form on, every kind has exactly one form on every day.
fn check_coverage(faults: &mut Faults<'_>, forms: &[ScoringForm]) {
    let Some(first) = forms.iter().map(|form| form.from).min() else {
        faults.add("form", "the file has no form");
        return;
    };
    for kind in [
        ReviewKind::Assessment,
        ReviewKind::Acceptance,
        ReviewKind::Combined,
    ] {
        let mut periods: Vec<&ScoringForm> = forms.iter().filter(|f| f.kind == kind).collect();
        periods.sort_by_key(|form| form.from);
        let location = format!("{} forms", kind.as_str());
        let mut covered_until = Some(first);
        for form in &periods {
            match covered_until {
                Some(day) if form.from == day => {}
                Some(day) if form.from > day => faults.add(
                    &location,
                    format!("no form is in force from {day} to {}", form.from),
                ),
                _ => faults.add(
                    &location,
                    format!("form {} overlaps the form before it", form.version),
                ),
            }
            covered_until = form.until;
        }
        match (periods.is_empty(), covered_until) {
            (true, _) => faults.add(&location, format!("no form from {first} on")),
            (false, Some(day)) => faults.add(&location, format!("no form from {day} on")),
            (false, None) => {}
        }
    }
}

// ---- score sheets -------------------------------------------------------------------------------

/// One expert's score sheet: points per item id, the veto items they mark, their opinion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSheet {
    pub items: BTreeMap<String, f64>,
    #[serde(default)]
    pub vetoes: Vec<String>,
    pub opinion: String,
}

impl ScoreSheet {
    /// The sum of the item scores.
    pub fn total(&self) -> f64 {
        self.items.values().sum()
    }
}

fn sheet_fault(field: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(field, code, Message::new(zh, en))
}

impl ScoringForm {
    /// Every fault of a sheet: each item scored within 0..=max and no unknown item, known and
    /// distinct veto ids, a non-empty opinion. Fields are named `items.<id>`, `vetoes`,
    /// `opinion`.
    pub fn check_sheet(&self, sheet: &ScoreSheet) -> Result<(), Vec<FieldError>> {
        let mut faults = Vec::new();
        for item in &self.items {
            let field = format!("items.{}", item.id);
            match sheet.items.get(&item.id) {
                None => faults.push(sheet_fault(
                    &field,
                    "missing_score",
                    format!("请为“{}”评分", item.name_zh),
                    format!("score \"{}\"", item.name_en),
                )),
                Some(score) if !(0.0..=f64::from(item.max)).contains(score) => {
                    faults.push(sheet_fault(
                        &field,
                        "out_of_range",
                        format!("“{}”的得分应在 0 至 {} 分之间", item.name_zh, item.max),
                        format!("\"{}\" is scored 0 to {}", item.name_en, item.max),
                    ))
                }
                Some(_) => {}
            }
        }
        for id in sheet.items.keys() {
            if !self.items.iter().any(|item| &item.id == id) {
                faults.push(sheet_fault(
                    &format!("items.{id}"),
                    "unknown_item",
                    format!("评分表 {} 没有评分项“{id}”", self.version),
                    format!("form {} has no item \"{id}\"", self.version),
                ));
            }
        }
        self.check_vetoes(&sheet.vetoes, &mut faults);
        if sheet.opinion.trim().is_empty() {
            faults.push(sheet_fault(
                "opinion",
                "required",
                "请填写专家意见".into(),
                "the opinion is required".into(),
            ));
        }
        if faults.is_empty() {
            Ok(())
        } else {
            Err(faults)
        }
    }

    fn check_vetoes(&self, vetoes: &[String], faults: &mut Vec<FieldError>) {
        let mut seen = HashSet::new();
        for id in vetoes {
            if !self.vetoes.iter().any(|veto| &veto.id == id) {
                faults.push(sheet_fault(
                    "vetoes",
                    "unknown_veto",
                    format!("评分表 {} 没有否定项“{id}”", self.version),
                    format!("form {} has no veto item \"{id}\"", self.version),
                ));
            } else if !seen.insert(id) {
                faults.push(sheet_fault(
                    "vetoes",
                    "duplicate_veto",
                    format!("否定项“{id}”重复勾选"),
                    format!("veto item \"{id}\" is marked twice"),
                ));
            }
        }
    }
}

// ---- the proposal -------------------------------------------------------------------------------

/// An item's mean over the sheets that count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemMean {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub max: u32,
    pub mean: f64,
}

/// A veto item with how many members marked it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VetoTally {
    pub id: String,
    pub text_zh: String,
    pub text_en: String,
    pub marks: usize,
    pub stands: bool,
}

/// What the sheets propose: the panel's score, the conclusion the thresholds give, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub kind: ReviewKind,
    pub form_version: String,
    pub sheets: usize,
    pub seated: usize,
    /// The panel's score, rounded to one decimal; the thresholds compare this number.
    pub score: f64,
    /// Per item, the mean over the sheets that count (they add up to the score).
    pub item_means: Vec<ItemMean>,
    /// Totals of the sheets set aside by a trimmed mean (highest, lowest).
    pub set_aside: Option<(f64, f64)>,
    /// Every veto item, with its marks; `vetoes_standing` are the ones that stand.
    pub veto_tally: Vec<VetoTally>,
    pub vetoes_standing: Vec<String>,
    pub conclusion: ReviewConclusion,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// Why no proposal can be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProposalError {
    #[error("no score sheet has been submitted")]
    NoSheets,
}

fn one_decimal(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The sheets that count: all of them, or with a trimmed mean and enough sheets, all but the
/// one with the highest total and the one with the lowest (the first of equals).
fn counted_sheets(
    combine: Combine,
    sheets: &[ScoreSheet],
) -> (Vec<&ScoreSheet>, Option<(f64, f64)>) {
    let mut ordered: Vec<&ScoreSheet> = sheets.iter().collect();
    match combine {
        Combine::TrimmedMean { at_least } if sheets.len() >= at_least => {
            ordered.sort_by(|a, b| a.total().total_cmp(&b.total()));
            let lowest = ordered.remove(0).total();
            let highest = ordered.pop().map_or(lowest, ScoreSheet::total);
            (ordered, Some((highest, lowest)))
        }
        _ => (ordered, None),
    }
}

fn item_means(form: &ScoringForm, counted: &[&ScoreSheet]) -> Vec<ItemMean> {
    let count = counted.len().max(1) as f64;
    form.items
        .iter()
        .map(|item| ItemMean {
            id: item.id.clone(),
            name_zh: item.name_zh.clone(),
            name_en: item.name_en.clone(),
            max: item.max,
            mean: counted
                .iter()
                .map(|sheet| sheet.items.get(&item.id).copied().unwrap_or(0.0))
                .sum::<f64>()
                / count,
        })
        .collect()
}

fn veto_tally(form: &ScoringForm, sheets: &[ScoreSheet], seated: usize) -> Vec<VetoTally> {
    form.vetoes
        .iter()
        .map(|veto| {
            let marks = sheets
                .iter()
                .filter(|sheet| sheet.vetoes.contains(&veto.id))
                .count();
            VetoTally {
                id: veto.id.clone(),
                text_zh: veto.text_zh.clone(),
                text_en: veto.text_en.clone(),
                marks,
                stands: form.panel.veto_stands_when.stands(marks, seated),
            }
        })
        .collect()
}

/// The conclusion the thresholds give a score.
fn banded_conclusion(thresholds: &Thresholds, score: f64) -> ReviewConclusion {
    thresholds
        .bands
        .iter()
        .find(|(_, at_least)| score >= f64::from(*at_least))
        .map_or(thresholds.below, |(conclusion, _)| *conclusion)
}

/// Combines the panel's sheets (checked against `form`) into a proposal. `seated` is the number
/// of accepted panel seats, which a veto quorum counts against; every veto ground is counted
/// over all sheets, trimmed or not, since a veto is not a score.
pub fn propose(
    form: &ScoringForm,
    sheets: &[ScoreSheet],
    seated: usize,
) -> Result<Proposal, ProposalError> {
    if sheets.is_empty() {
        return Err(ProposalError::NoSheets);
    }
    let seated = seated.max(sheets.len());
    let (counted, set_aside) = counted_sheets(form.panel.combine, sheets);
    let means = item_means(form, &counted);
    let score = one_decimal(means.iter().map(|item| item.mean).sum());
    let tally = veto_tally(form, sheets, seated);
    let vetoes_standing: Vec<String> = tally
        .iter()
        .filter(|veto| veto.stands)
        .map(|veto| veto.id.clone())
        .collect();
    let conclusion = if vetoes_standing.is_empty() {
        banded_conclusion(&form.thresholds, score)
    } else {
        form.thresholds.below
    };
    let mut proposal = Proposal {
        kind: form.kind,
        form_version: form.version.clone(),
        sheets: sheets.len(),
        seated,
        score,
        item_means: means,
        set_aside,
        veto_tally: tally,
        vetoes_standing,
        conclusion,
        explanation_zh: String::new(),
        explanation_en: String::new(),
    };
    proposal.explanation_zh = explain_zh(form, &proposal);
    proposal.explanation_en = explain_en(form, &proposal);
    Ok(proposal)
}

fn band_zh(form: &ScoringForm, conclusion: ReviewConclusion) -> String {
    let bands = &form.thresholds.bands;
    let position = bands.iter().position(|(c, _)| *c == conclusion);
    match position {
        Some(0) => format!("不低于 {} 分", bands[0].1),
        Some(index) => format!(
            "不低于 {} 分、低于 {} 分",
            bands[index].1,
            bands[index - 1].1
        ),
        None => format!("低于 {} 分", bands.last().map_or(0, |band| band.1)),
    }
}

fn band_en(form: &ScoringForm, conclusion: ReviewConclusion) -> String {
    let bands = &form.thresholds.bands;
    let position = bands.iter().position(|(c, _)| *c == conclusion);
    match position {
        Some(0) => format!("at least {}", bands[0].1),
        Some(index) => format!(
            "at least {} and below {}",
            bands[index].1,
            bands[index - 1].1
        ),
        None => format!("below {}", bands.last().map_or(0, |band| band.1)),
    }
}

fn explain_zh(form: &ScoringForm, proposal: &Proposal) -> String {
    let mut text = match proposal.set_aside {
        Some((highest, lowest)) => format!(
            "收到 {} 份评分表（应到 {} 人），去掉最高分 {highest:.1} 和最低分 {lowest:.1} 后平均 {:.1} 分",
            proposal.sheets, proposal.seated, proposal.score
        ),
        None => format!(
            "收到 {} 份评分表（应到 {} 人），平均 {:.1} 分",
            proposal.sheets, proposal.seated, proposal.score
        ),
    };
    let standing: Vec<&VetoTally> = proposal.veto_tally.iter().filter(|v| v.stands).collect();
    if standing.is_empty() {
        text.push_str(&format!(
            "；{}：{}",
            band_zh(form, proposal.conclusion),
            proposal.conclusion.label_zh()
        ));
    } else {
        let vetoes: Vec<String> = standing
            .iter()
            .map(|v| format!("“{}”（{}/{} 人勾选）", v.text_zh, v.marks, proposal.seated))
            .collect();
        text.push_str(&format!(
            "；否定项{}经{}专家勾选成立，不论得分：{}",
            vetoes.join("、"),
            form.panel.veto_stands_when.describe_zh(),
            proposal.conclusion.label_zh()
        ));
    }
    text.push_str(&format!("（评分表 {}）。", form.version));
    text
}

fn explain_en(form: &ScoringForm, proposal: &Proposal) -> String {
    let mut text = match proposal.set_aside {
        Some((highest, lowest)) => format!(
            "{} of {} sheets in; mean {:.1} after setting aside the highest ({highest:.1}) and the lowest ({lowest:.1})",
            proposal.sheets, proposal.seated, proposal.score
        ),
        None => format!(
            "{} of {} sheets in; mean {:.1}",
            proposal.sheets, proposal.seated, proposal.score
        ),
    };
    let standing: Vec<&VetoTally> = proposal.veto_tally.iter().filter(|v| v.stands).collect();
    if standing.is_empty() {
        text.push_str(&format!(
            "; {}: {}",
            band_en(form, proposal.conclusion),
            proposal.conclusion.label_en()
        ));
    } else {
        let vetoes: Vec<String> = standing
            .iter()
            .map(|v| format!("\"{}\" ({} of {})", v.text_en, v.marks, proposal.seated))
            .collect();
        text.push_str(&format!(
            "; veto item {} marked by {} of the panel stands, whatever the score: {}",
            vetoes.join(", "),
            form.panel.veto_stands_when.describe_en(),
            proposal.conclusion.label_en()
        ));
    }
    text.push_str(&format!(" (form {}).", form.version));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> ScoringBook {
        ScoringBook::embedded()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn form(kind: ReviewKind) -> ScoringForm {
        book().form_at(kind, day("2027-03-01")).unwrap().clone()
    }

    /// A sheet scoring every item the same share of its maximum, so the total is `total`.
    fn sheet(form: &ScoringForm, total: f64, vetoes: &[&str]) -> ScoreSheet {
        ScoreSheet {
            items: form
                .items
                .iter()
                .map(|item| (item.id.clone(), f64::from(item.max) * total / 100.0))
                .collect(),
            vetoes: vetoes.iter().map(|v| v.to_string()).collect(),
            opinion: "报告基本规范。".into(),
        }
    }

    fn sheets(form: &ScoringForm, totals: &[f64]) -> Vec<ScoreSheet> {
        totals.iter().map(|t| sheet(form, *t, &[])).collect()
    }

    #[test]
    fn the_embedded_forms_load_and_cover_every_review_kind() {
        let book = book();
        for kind in [
            ReviewKind::Assessment,
            ReviewKind::Acceptance,
            ReviewKind::Combined,
        ] {
            let form = book.form_at(kind, day("2016-07-01")).unwrap();
            assert_eq!(form.items.iter().map(|i| i.max).sum::<u32>(), 100);
            assert_eq!(book.form(&form.version), Some(form));
        }
        assert!(book
            .form_at(ReviewKind::Assessment, day("2016-06-30"))
            .is_none());
    }

    #[test]
    fn an_assessment_averaging_85_is_sent_back_for_rectification() {
        let form = form(ReviewKind::Assessment);
        let proposal = propose(&form, &sheets(&form, &[85.0; 5]), 5).unwrap();
        assert_eq!(proposal.score, 85.0);
        assert_eq!(proposal.conclusion, ReviewConclusion::Rectify);
        assert!(
            proposal.explanation_zh.contains("不低于 70 分、低于 90 分"),
            "{}",
            proposal.explanation_zh
        );
    }

    #[test]
    fn an_assessment_of_90_or_more_passes_and_below_70_fails() {
        let form = form(ReviewKind::Assessment);
        let pass = propose(&form, &sheets(&form, &[90.0; 3]), 3).unwrap();
        assert_eq!(pass.conclusion, ReviewConclusion::Pass);
        let fail = propose(&form, &sheets(&form, &[69.9; 3]), 3).unwrap();
        assert_eq!(fail.conclusion, ReviewConclusion::Fail);
    }

    #[test]
    fn a_veto_marked_by_3_of_5_experts_fails_the_review_whatever_the_score() {
        let form = form(ReviewKind::Assessment);
        let mut panel = sheets(&form, &[98.0; 5]);
        for sheet in panel.iter_mut().take(3) {
            sheet.vetoes.push("industrial_policy".into());
        }
        let proposal = propose(&form, &panel, 5).unwrap();
        assert_eq!(proposal.conclusion, ReviewConclusion::Fail);
        assert_eq!(proposal.vetoes_standing, vec!["industrial_policy"]);
        assert!(proposal.explanation_en.contains("3 of 5"));
    }

    #[test]
    fn a_veto_marked_by_2_of_5_experts_does_not_stand() {
        let form = form(ReviewKind::Assessment);
        let mut panel = sheets(&form, &[95.0; 5]);
        for sheet in panel.iter_mut().take(2) {
            sheet.vetoes.push("wrong_focus".into());
        }
        let proposal = propose(&form, &panel, 5).unwrap();
        assert!(proposal.vetoes_standing.is_empty());
        assert_eq!(proposal.conclusion, ReviewConclusion::Pass);
    }

    #[test]
    fn with_five_sheets_the_highest_and_lowest_are_set_aside() {
        let form = form(ReviewKind::Assessment);
        let proposal = propose(&form, &sheets(&form, &[60.0, 88.0, 90.0, 92.0, 100.0]), 5).unwrap();
        assert_eq!(proposal.set_aside, Some((100.0, 60.0)));
        assert_eq!(proposal.score, 90.0);
        assert_eq!(proposal.conclusion, ReviewConclusion::Pass);
        let sum: f64 = proposal.item_means.iter().map(|i| i.mean).sum();
        assert!((sum - 90.0).abs() < 1e-9, "item means add up to the score");
    }

    #[test]
    fn with_fewer_than_five_sheets_the_plain_mean_counts() {
        let form = form(ReviewKind::Assessment);
        let proposal = propose(&form, &sheets(&form, &[60.0, 90.0, 90.0]), 3).unwrap();
        assert_eq!(proposal.set_aside, None);
        assert_eq!(proposal.score, 80.0);
    }

    #[test]
    fn acceptance_is_qualified_from_80() {
        let form = form(ReviewKind::Acceptance);
        let qualified = propose(&form, &sheets(&form, &[80.0; 5]), 5).unwrap();
        assert_eq!(qualified.conclusion, ReviewConclusion::Qualified);
        let not = propose(&form, &sheets(&form, &[79.0; 5]), 5).unwrap();
        assert_eq!(not.conclusion, ReviewConclusion::NotQualified);
    }

    #[test]
    fn a_combined_review_between_70_and_80_is_sent_back_for_rectification() {
        let form = form(ReviewKind::Combined);
        let proposal = propose(&form, &sheets(&form, &[75.0; 5]), 5).unwrap();
        assert_eq!(proposal.conclusion, ReviewConclusion::Rectify);
        assert!(ReviewKind::Combined
            .conclusions()
            .contains(&proposal.conclusion));
    }

    #[test]
    fn no_sheets_no_proposal() {
        let form = form(ReviewKind::Assessment);
        assert_eq!(propose(&form, &[], 5), Err(ProposalError::NoSheets));
    }

    #[test]
    fn a_sheet_is_refused_with_the_field_that_is_wrong() {
        let form = form(ReviewKind::Assessment);
        let good = sheet(&form, 80.0, &["wrong_focus"]);
        assert_eq!(form.check_sheet(&good), Ok(()));

        let mut over = good.clone();
        over.items.insert("process".into(), 16.0);
        assert_eq!(
            form.check_sheet(&over).unwrap_err()[0].field,
            "items.process"
        );

        let mut unknown = good.clone();
        unknown.vetoes.push("bribery".into());
        let faults = form.check_sheet(&unknown).unwrap_err();
        assert_eq!(
            (faults[0].field.as_str(), faults[0].code),
            ("vetoes", "unknown_veto")
        );

        let mut silent = good.clone();
        silent.opinion = "  ".into();
        assert_eq!(form.check_sheet(&silent).unwrap_err()[0].field, "opinion");

        let mut missing = good.clone();
        missing.items.remove("report");
        assert_eq!(
            form.check_sheet(&missing).unwrap_err()[0].code,
            "missing_score"
        );

        let mut extra = good;
        extra.items.insert("charm".into(), 1.0);
        assert_eq!(
            form.check_sheet(&extra).unwrap_err()[0].field,
            "items.charm"
        );
    }

    fn faults_of(text: &str) -> Vec<String> {
        ScoringBook::from_toml(text, &RuleBook::embedded())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn points_that_do_not_add_up_to_100_are_a_fault() {
        let text = GANSU_SCORING_TOML.replacen("max = 15", "max = 14", 1);
        let faults = faults_of(&text);
        assert!(
            faults.iter().any(|f| f.contains("add up to 99")),
            "{faults:?}"
        );
    }

    #[test]
    fn thresholds_out_of_order_are_a_fault() {
        let text = GANSU_SCORING_TOML.replacen("rectify = 70", "rectify = 95", 1);
        let faults = faults_of(&text);
        assert!(
            faults.iter().any(|f| f.contains("pass > rectify")),
            "{faults:?}"
        );
    }

    #[test]
    fn a_threshold_for_the_lowest_conclusion_is_a_fault() {
        let text =
            GANSU_SCORING_TOML.replacen("qualified = 80\n", "qualified = 80\nrectify = 70\n", 1);
        let faults = faults_of(&text);
        assert!(
            faults
                .iter()
                .any(|f| f.contains("thresholds.rectify does not apply to a acceptance form")),
            "{faults:?}"
        );
    }

    #[test]
    fn duplicate_ids_and_unknown_documents_are_faults() {
        let text = GANSU_SCORING_TOML
            .replacen("id = \"report\"", "id = \"process\"", 1)
            .replacen("document = \"guide-2018\"", "document = \"guide-2099\"", 1);
        let faults = faults_of(&text);
        assert!(faults
            .iter()
            .any(|f| f.contains("duplicate item id \"process\"")));
        assert!(faults
            .iter()
            .any(|f| f.contains("unknown document \"guide-2099\"")));
    }

    #[test]
    fn a_kind_without_a_form_on_some_day_is_a_fault() {
        let text = GANSU_SCORING_TOML.replacen(
            "version = \"combined-2016.1\"\nfrom = 2016-07-01",
            "version = \"combined-2016.1\"\nfrom = 2018-01-01",
            1,
        );
        let faults = faults_of(&text);
        assert!(
            faults
                .iter()
                .any(|f| f
                    .contains("combined forms: no form is in force from 2016-07-01 to 2018-01-01")),
            "{faults:?}"
        );
        let text = GANSU_SCORING_TOML.replacen(
            "version = \"combined-2016.1\"\nfrom = 2016-07-01",
            "version = \"combined-2016.1\"\nfrom = 2016-07-01\nuntil = 2020-01-01",
            1,
        );
        assert!(faults_of(&text)
            .iter()
            .any(|f| f.contains("combined forms: no form from 2020-01-01 on")));
    }
}
