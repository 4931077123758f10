//! The scenario suite: cases of the law written as data (`testdata/scenarios.toml`), run with
//! the embedded rule book. Every scenario is checked before the test fails, and each failure
//! names the scenario and the field that differed.

use std::collections::BTreeSet;
use std::fmt::Debug;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

use super::*;
use crate::listing::{clocks_from_publication, ClockKind};
use crate::periods::HolidayCalendar;

const SCENARIOS: &str = include_str!("../../testdata/scenarios.toml");

/// A date written as a bare TOML date (`2027-01-31`), which reads better than a string.
#[derive(Debug, Clone, Copy)]
struct Day(NaiveDate);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let datetime = toml::value::Datetime::deserialize(deserializer)?;
        datetime
            .date
            .filter(|_| datetime.time.is_none() && datetime.offset.is_none())
            .and_then(|date| {
                NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
            })
            .map(Day)
            .ok_or_else(|| serde::de::Error::custom(format!("{datetime} is not a plain date")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    scenario: Vec<Scenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    citation: String,
    registered_on: Option<Day>,
    closed_on: Option<Day>,
    year: Option<i32>,
    as_of: Option<Day>,
    #[serde(default)]
    evidence: Vec<Evidence>,
    #[serde(default)]
    round: Vec<Round>,
    #[serde(default)]
    park: Vec<Park>,
    /// Rule book values that differ from the embedded book, from a date.
    #[serde(default, rename = "override")]
    overrides: Vec<Override>,
    expect: Option<Expect>,
    published_on: Option<Day>,
    deadlines: Option<Deadlines>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Evidence {
    id: i64,
    kind: EvidenceKind,
    observed_on: Day,
    #[serde(default = "confirmed")]
    status: EvidenceStatus,
    /// Defaults to `observed_on` for confirmed evidence.
    confirmed_on: Option<Day>,
    category: Option<u8>,
    summary: Option<String>,
}

fn confirmed() -> EvidenceStatus {
    EvidenceStatus::Confirmed
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Round {
    list_year: i32,
    #[serde(default = "audit")]
    kind: RoundKind,
    #[serde(default)]
    reasons: BTreeSet<Reason>,
    accepted_on: Option<Day>,
}

fn audit() -> RoundKind {
    RoundKind::Audit
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Park {
    name: String,
    passed_on: Day,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    id: String,
    from: Day,
    value: toml::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    outcome: Outcome,
    reasons: BTreeSet<Reason>,
    #[serde(default)]
    categories: BTreeSet<u8>,
    /// Absent: no due year.
    due_year: Option<i32>,
    overdue: bool,
    list_this_year: bool,
    /// Ids of the rules used, when the scenario is about them.
    rules: Option<Vec<String>>,
    /// Fragments the explanation must contain (in Chinese or English).
    #[serde(default)]
    explains: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deadlines {
    disclose_nominal: Day,
    disclose_effective: Day,
    start_nominal: Day,
    start_effective: Day,
    report_nominal: Day,
    report_effective: Day,
}

/// Collects the differences of one scenario.
struct Differences(Vec<String>);

impl Differences {
    fn check<T: PartialEq + Debug>(&mut self, field: &str, expected: T, actual: T) {
        if expected != actual {
            self.0
                .push(format!("{field}: expected {expected:?}, got {actual:?}"));
        }
    }
}

#[test]
fn every_scenario_holds() {
    let suite: Suite = toml::from_str(SCENARIOS).expect("testdata/scenarios.toml is malformed");
    let book = RuleBook::embedded();
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for scenario in &suite.scenario {
        if !names.insert(scenario.name.as_str()) {
            failures.push(format!("{}: the name is used twice", scenario.name));
        }
        failures.extend(
            run(scenario, &book)
                .into_iter()
                .map(|difference| format!("{}: {difference}", scenario.name)),
        );
    }
    assert!(
        suite.scenario.len() >= 40,
        "only {} scenarios",
        suite.scenario.len()
    );
    assert!(
        failures.is_empty(),
        "{} difference(s) in {} scenarios:\n{}",
        failures.len(),
        suite.scenario.len(),
        failures.join("\n")
    );
}

fn run(scenario: &Scenario, book: &RuleBook) -> Vec<String> {
    let mut differences = Differences(Vec::new());
    if scenario.citation.trim().is_empty() {
        differences.0.push("citation: empty".into());
    }
    let book = match with_overrides(book, &scenario.overrides) {
        Ok(book) => book,
        Err(fault) => return vec![format!("override: {fault}")],
    };
    match (&scenario.expect, scenario.year, scenario.as_of) {
        (Some(expect), Some(year), Some(Day(as_of))) => {
            check_determination(scenario, expect, year, as_of, &book, &mut differences)
        }
        (None, None, None) => {}
        _ => differences
            .0
            .push("expect, year and as_of go together".into()),
    }
    match (&scenario.deadlines, scenario.published_on) {
        (Some(deadlines), Some(Day(published_on))) => {
            check_deadlines(deadlines, published_on, &book, &mut differences)
        }
        (None, None) if scenario.expect.is_none() => differences
            .0
            .push("checks nothing: no expect, no deadlines".into()),
        (None, None) => {}
        _ => differences
            .0
            .push("deadlines and published_on go together".into()),
    }
    differences.0
}

/// The book with the scenario's overrides as an overlay, each cited as a scenario assumption.
fn with_overrides(book: &RuleBook, overrides: &[Override]) -> Result<RuleBook, String> {
    if overrides.is_empty() {
        return Ok(book.clone());
    }
    let mut overlay = String::from("version = \"scenario\"\n");
    for item in overrides {
        overlay.push_str(&format!(
            "[[parameter]]\nid = \"{}\"\n[[parameter.period]]\nfrom = {}\nvalue = {}\n\
             [[parameter.period.citation]]\ndocument = \"gansu-plan-2021\"\n\
             article = \"scenario\"\nconfidence = \"design\"\n",
            item.id, item.from.0, item.value
        ));
    }
    book.with_parameters_overlay(&overlay).map_err(|faults| {
        faults
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })
}

fn facts(scenario: &Scenario) -> EnterpriseFacts {
    let day = |text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    EnterpriseFacts {
        enterprise_id: 1,
        name: scenario.name.clone(),
        registered_on: scenario
            .registered_on
            .map(|Day(date)| date)
            .or_else(|| day("2005-01-01"))
            .unwrap_or_default(),
        closed_on: scenario.closed_on.map(|Day(date)| date),
        evidence: scenario.evidence.iter().map(evidence_fact).collect(),
        rounds: scenario
            .round
            .iter()
            .map(|round| PastRound {
                list_year: round.list_year,
                kind: round.kind,
                reasons: round.reasons.clone(),
                accepted_on: round.accepted_on.map(|Day(date)| date),
                source: "scenario".into(),
            })
            .collect(),
        park_pilots: scenario
            .park
            .iter()
            .zip(1..)
            .map(|(park, park_id)| ParkPilot {
                park_id,
                park_name: park.name.clone(),
                passed_on: park.passed_on.0,
            })
            .collect(),
    }
}

fn evidence_fact(evidence: &Evidence) -> EvidenceFact {
    let confirmed_on = match (evidence.status, evidence.confirmed_on) {
        (_, Some(Day(date))) => Some(date),
        (EvidenceStatus::Confirmed, None) => Some(evidence.observed_on.0),
        _ => None,
    };
    EvidenceFact {
        id: evidence.id,
        kind: evidence.kind,
        observed_on: evidence.observed_on.0,
        status: evidence.status,
        confirmed_on,
        toxic_category: evidence.category,
        summary: evidence.summary.clone().unwrap_or_default(),
        source: EvidenceSource::SupervisoryMonitoring,
        document_ref: format!("scenario evidence {}", evidence.id),
    }
}

fn check_determination(
    scenario: &Scenario,
    expect: &Expect,
    year: i32,
    as_of: NaiveDate,
    book: &RuleBook,
    differences: &mut Differences,
) {
    let rules = match DeterminationRules::from_book(book, as_of) {
        Ok(rules) => rules,
        Err(error) => return differences.0.push(format!("rules: {error}")),
    };
    let result = determine(&facts(scenario), year, as_of, &rules);
    differences.check("outcome", expect.outcome, result.outcome);
    differences.check("reasons", &expect.reasons, &result.reasons);
    differences.check("categories", &expect.categories, &result.toxic_categories);
    differences.check("due_year", expect.due_year, result.due_year);
    differences.check("overdue", expect.overdue, result.overdue);
    differences.check(
        "list_this_year",
        expect.list_this_year,
        result.list_this_year,
    );
    if let Some(expected) = &expect.rules {
        let used: Vec<&str> = result.rules.iter().map(|rule| rule.id.as_str()).collect();
        differences.check("rules", expected.iter().map(String::as_str).collect(), used);
    }
    for fragment in &expect.explains {
        let found = result
            .explanation
            .iter()
            .any(|line| line.zh.contains(fragment.as_str()) || line.en.contains(fragment.as_str()));
        if !found {
            differences
                .0
                .push(format!("explanation: no line says {fragment:?}"));
        }
    }
}

fn check_deadlines(
    expected: &Deadlines,
    published_on: NaiveDate,
    book: &RuleBook,
    differences: &mut Differences,
) {
    let calendar = HolidayCalendar::china();
    let clocks = match clocks_from_publication(published_on, book, &calendar) {
        Ok(clocks) => clocks,
        Err(error) => return differences.0.push(format!("clocks: {error}")),
    };
    let expectations = [
        (
            ClockKind::Disclose,
            "disclose",
            expected.disclose_nominal,
            expected.disclose_effective,
        ),
        (
            ClockKind::Start,
            "start",
            expected.start_nominal,
            expected.start_effective,
        ),
        (
            ClockKind::Report,
            "report",
            expected.report_nominal,
            expected.report_effective,
        ),
    ];
    for (kind, name, Day(nominal), Day(effective)) in expectations {
        let Some(clock) = clocks.iter().find(|clock| clock.kind == kind) else {
            differences.0.push(format!("{name}: no clock"));
            continue;
        };
        differences.check(&format!("{name}_nominal"), nominal, clock.end.nominal);
        differences.check(&format!("{name}_effective"), effective, clock.end.effective);
    }
}
