//! The yearly cycle's use cases: facts from storage, the determination and planning from core,
//! with the rule book and clock of the application. The one place that joins the two, so that
//! the pages, the API, the command line and the demo loader compute the same thing.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use cpaudit_core::determination::{determine, Determination, DeterminationRules, Outcome};
use cpaudit_core::listing::clocks_from_publication;
use cpaudit_core::planning::{check_move, propose, Plan, PlanCandidate, PlanSettings};
use cpaudit_core::round::RoundPolicy;
use cpaudit_core::rules::RuleBook;
use cpaudit_storage::evidence::FactsRecord;
use cpaudit_storage::lists::{NewListEntry, PlanMove};
use cpaudit_storage::Principal;

use crate::{App, Error, Result};

/// An enterprise with its determination for a year.
#[derive(Debug, Clone)]
pub struct Determined {
    pub record: FactsRecord,
    pub determination: Determination,
}

/// Determinations for a year, as they stand on `as_of`, for what the principal sees
/// (optionally one city or one enterprise).
pub async fn determine_scope(
    app: &App,
    principal: &Principal,
    city: Option<&str>,
    enterprise_id: Option<i64>,
    year: i32,
    as_of: NaiveDate,
) -> Result<Vec<Determined>> {
    let rules = DeterminationRules::from_book(app.rules(), as_of)?;
    let records = app
        .db()
        .determination_facts(principal.scope(), city, enterprise_id)
        .await?;
    Ok(determine_records(records, year, as_of, &rules))
}

/// The pure part, also used by the benchmark.
pub fn determine_records(
    records: Vec<FactsRecord>,
    year: i32,
    as_of: NaiveDate,
    rules: &DeterminationRules,
) -> Vec<Determined> {
    records
        .into_iter()
        .map(|record| {
            let determination = determine(&record.facts, year, as_of, rules);
            Determined {
                record,
                determination,
            }
        })
        .collect()
}

/// The proposal for a city's list of `year`: determinations, the plan over the window and the
/// moves that shaped it.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub year: i32,
    pub settings: PlanSettings,
    pub plan: Plan,
    pub determined: HashMap<i64, Determined>,
    pub candidates: HashMap<i64, PlanCandidate>,
    pub moves: HashMap<i64, PlanMove>,
    /// Enterprises already on a published list of `year` (e.g. an earlier batch).
    pub already_listed: usize,
}

/// The plan settings for a coming year, from the rule book.
pub fn plan_settings(book: &RuleBook, year: i32, on: NaiveDate) -> Result<PlanSettings> {
    let (years, _) = book.integer_at("planning.window_years", on)?;
    let (slack, _) = book.integer_at("planning.levelling_slack_years", on)?;
    Ok(PlanSettings {
        first_year: year,
        years: i32::try_from(years).unwrap_or(5),
        levelling_slack_years: i32::try_from(slack).unwrap_or(0),
    })
}

/// Proposes a city's list for `year` (as of today): every 双超 enterprise at once and the
/// 双有 enterprises levelled over the window, honouring the officials' moves.
pub async fn propose_city(
    app: &App,
    principal: &Principal,
    city: &str,
    year: i32,
) -> Result<Proposal> {
    let today = app.today();
    let settings = plan_settings(app.rules(), year, today)?;
    let determined = determine_scope(app, principal, Some(city), None, year, today).await?;
    let listed = app.db().listed_in_year(year).await?;
    let moves: HashMap<i64, PlanMove> = app
        .db()
        .plan_moves(principal.scope(), city)
        .await?
        .into_iter()
        .filter(|m| m.planned_in == i64::from(year))
        .map(|m| (m.enterprise_id, m))
        .collect();
    let mut already_listed = 0;
    let mut candidates = HashMap::new();
    let mut by_id = HashMap::new();
    for item in determined {
        let id = item.record.facts.enterprise_id;
        if listed.contains(&id) {
            already_listed += 1;
            continue;
        }
        if item.determination.outcome == Outcome::MustAudit {
            candidates.insert(id, candidate(&item, moves.get(&id)));
        }
        by_id.insert(id, item);
    }
    let mut sorted: Vec<PlanCandidate> = candidates.values().cloned().collect();
    sorted.sort_by_key(|c| c.enterprise_id);
    let loads = BTreeMap::from([(year, already_listed)]);
    let plan = propose(&settings, &sorted, &loads);
    Ok(Proposal {
        year,
        settings,
        plan,
        determined: by_id,
        candidates,
        moves,
        already_listed,
    })
}

fn candidate(item: &Determined, moved: Option<&PlanMove>) -> PlanCandidate {
    let d = &item.determination;
    PlanCandidate {
        enterprise_id: d.enterprise_id,
        reasons: d.reasons.clone(),
        due_year: d.due_year,
        list_this_year: d.list_this_year,
        has_earlier_round: item
            .record
            .facts
            .rounds
            .iter()
            .any(|round| round.list_year < d.year),
        moved_to: moved.and_then(|m| i32::try_from(m.to_year).ok()),
    }
}

/// Checks an official's move against the law before it is recorded.
pub fn validate_move(proposal: &Proposal, enterprise_id: i64, to_year: i32) -> Result<()> {
    let Some(candidate) = proposal.candidates.get(&enterprise_id) else {
        return Err(Error::bad_field(
            "enterprise_id",
            "not_a_candidate",
            "该企业不在本年度的拟审核企业中",
            "the enterprise is not a must-audit candidate of this plan",
        ));
    };
    check_move(&proposal.settings, candidate, to_year).map_err(|error| {
        Error::bad_field(
            "to_year",
            "invalid_move",
            &error.message_zh(),
            &error.message_en(),
        )
    })
}

/// Track and organizer of the rounds a publication on `published_on` opens.
pub fn round_policy(app: &App, published_on: NaiveDate) -> Result<RoundPolicy> {
    let province = app
        .reference()
        .province()
        .map_or(String::new(), |p| p.code.clone());
    Ok(RoundPolicy::from_book(
        app.rules(),
        published_on,
        &province,
    )?)
}

/// The entries of a list published on `published_on`, each with the clocks publication starts.
pub fn list_entries(
    app: &App,
    determined: &[&Determined],
    published_on: NaiveDate,
) -> Result<Vec<NewListEntry>> {
    let clocks = clocks_from_publication(published_on, app.rules(), app.calendar())?;
    Ok(determined
        .iter()
        .map(|item| NewListEntry {
            enterprise_id: item.determination.enterprise_id,
            reasons: item.determination.reasons.clone(),
            toxic_categories: item.determination.toxic_categories.clone(),
            due_year: item.determination.due_year,
            clocks: clocks.clone(),
        })
        .collect())
}

/// One enterprise's determination for a year as of a day; "not found" outside the scope.
pub async fn determine_one(
    app: &App,
    principal: &Principal,
    enterprise_id: i64,
    year: i32,
    as_of: NaiveDate,
) -> Result<Determined> {
    determine_scope(app, principal, None, Some(enterprise_id), year, as_of)
        .await?
        .into_iter()
        .next()
        .ok_or(crate::Error::NotFound)
}
