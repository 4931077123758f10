//! Planning: the city's proposal of which must-audit enterprises go on which year's list.
//!
//! Gansu plan §三(二): "对'双有'企业依法按5年实施一轮强制性清洁生产审核的要求，统筹安排每年实施
//! 审核的企业，对'双超'企业依法及时纳入当年强制性审核企业名单". So for a coming year Y:
//!
//! - 双超 enterprises, overdue 双有 enterprises and those due in Y (or that the determination
//!   put on Y's list) go to Y.
//! - An official's move is honoured when [`check_move`] accepts it; a move that no longer
//!   passes (the facts changed since) is ignored, so that no enterprise passes its due year.
//! - The other 双有 enterprises due within the horizon `[Y, Y + years − 1]` are levelled: each
//!   may go in `[max(Y, due − slack), due]` when it had an earlier round (keeping it near its
//!   5-year rhythm), else in `[Y, due]`; taken earliest deadline first (then by id), each goes
//!   to the least-loaded year of its range, ties to the latest year (auditing no earlier than
//!   needed keeps the rhythm). Loads start from `already_listed` plus the fixed placements.
//! - Due beyond the horizon: not placed now. Without a due year (the determination gives
//!   every 双有 enterprise one, so only odd input), anywhere in the horizon.
//!
//! With ranges `[Y, due]`, earliest deadline first into the least-loaded year reaches the lower
//! bound on the busiest year (a test checks it on random input); the slack ranges of renewals
//! trade a little of that levelness for the 5-year rhythm.
//!
//! The result depends only on the inputs (candidates are sorted, ties broken by id).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::determination::Reason;

/// A must-audit enterprise as the determination left it, plus an official's move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCandidate {
    pub enterprise_id: i64,
    pub reasons: BTreeSet<Reason>,
    pub due_year: Option<i32>,
    pub list_this_year: bool,
    pub has_earlier_round: bool,
    /// The year an official moved it to.
    pub moved_to: Option<i32>,
}

impl PlanCandidate {
    fn is_double_exceedance(&self) -> bool {
        self.reasons
            .iter()
            .any(|reason| reason.is_double_exceedance())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSettings {
    /// The coming year Y.
    pub first_year: i32,
    /// Length of the horizon (the rule book's planning.window_years).
    pub years: i32,
    /// How many years before its due year an enterprise with an earlier round may be listed.
    pub levelling_slack_years: i32,
}

impl PlanSettings {
    pub fn last_year(&self) -> i32 {
        self.first_year + self.years - 1
    }
}

/// Why an enterprise is in its year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    DoubleExceedance,
    Overdue,
    DueThisYear,
    Levelled,
    Moved,
    BeyondHorizon,
}

impl Placement {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::DoubleExceedance => "双超企业，及时纳入当年名单",
            Self::Overdue => "已超过应审核年份，纳入当年名单",
            Self::DueThisYear => "当年到期，纳入当年名单",
            Self::Levelled => "按年度工作量均衡安排",
            Self::Moved => "经办人员调整",
            Self::BeyondHorizon => "到期年份在规划期之后，暂不安排",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::DoubleExceedance => "双超: on the current list at once",
            Self::Overdue => "overdue: on the first year's list",
            Self::DueThisYear => "due in the first year",
            Self::Levelled => "placed to level the yearly workload",
            Self::Moved => "moved by an official",
            Self::BeyondHorizon => "due after the horizon: not placed yet",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub enterprise_id: i64,
    /// `None`: due beyond the horizon, not placed.
    pub year: Option<i32>,
    pub placement: Placement,
    /// The years its rules allow: the first year for fixed placements, the range a move may
    /// use for a moved one, the levelling range otherwise (beyond the horizon: unclipped).
    pub earliest: i32,
    pub latest: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub first_year: i32,
    pub years: i32,
    /// One per candidate, ascending by enterprise id.
    pub assignments: Vec<Assignment>,
    /// For every year of the horizon, the enterprises on its list: those already listed plus
    /// this plan's. This is the load that levelling evens out.
    pub counts: BTreeMap<i32, usize>,
}

impl Plan {
    pub fn year_of(&self, enterprise_id: i64) -> Option<i32> {
        let index = self
            .assignments
            .binary_search_by_key(&enterprise_id, |assignment| assignment.enterprise_id)
            .ok()?;
        self.assignments[index].year
    }

    pub fn listed_in(&self, year: i32) -> impl Iterator<Item = &Assignment> {
        self.assignments
            .iter()
            .filter(move |assignment| assignment.year == Some(year))
    }
}

/// Proposes the list years for `candidates` (unique enterprise ids); `already_listed` counts
/// enterprises already on each year's list from elsewhere.
pub fn propose(
    settings: &PlanSettings,
    candidates: &[PlanCandidate],
    already_listed: &BTreeMap<i32, usize>,
) -> Plan {
    let mut loads: BTreeMap<i32, usize> = (settings.first_year..=settings.last_year())
        .map(|year| (year, already_listed.get(&year).copied().unwrap_or(0)))
        .collect();
    let mut assignments = Vec::with_capacity(candidates.len());
    let mut flexible = Vec::new();
    for candidate in candidates {
        match fixed_assignment(settings, candidate) {
            Some(assignment) => {
                add_load(&mut loads, assignment.year);
                assignments.push(assignment);
            }
            None => flexible.push(levelling_range(settings, candidate)),
        }
    }
    flexible.sort_by_key(|assignment| (assignment.latest, assignment.enterprise_id));
    for mut assignment in flexible {
        assignment.year = least_loaded(&loads, assignment.earliest, assignment.latest);
        if assignment.year.is_none() {
            assignment.placement = Placement::BeyondHorizon;
        }
        add_load(&mut loads, assignment.year);
        assignments.push(assignment);
    }
    assignments.sort_by_key(|assignment| assignment.enterprise_id);
    Plan {
        first_year: settings.first_year,
        years: settings.years,
        assignments,
        counts: loads,
    }
}

fn add_load(loads: &mut BTreeMap<i32, usize>, year: Option<i32>) {
    if let Some(load) = year.and_then(|year| loads.get_mut(&year)) {
        *load += 1;
    }
}

/// The least-loaded year in `[earliest, latest]`, the latest on ties; `None` for an empty range.
fn least_loaded(loads: &BTreeMap<i32, usize>, earliest: i32, latest: i32) -> Option<i32> {
    loads
        .range(earliest..=latest)
        .rev()
        .min_by_key(|(_, load)| **load)
        .map(|(year, _)| *year)
}

/// The placement that levelling does not decide, if any.
fn fixed_assignment(settings: &PlanSettings, candidate: &PlanCandidate) -> Option<Assignment> {
    let first = settings.first_year;
    let in_first_year = |placement| Assignment {
        enterprise_id: candidate.enterprise_id,
        year: Some(first),
        placement,
        earliest: first,
        latest: first,
    };
    if candidate.is_double_exceedance() {
        return Some(in_first_year(Placement::DoubleExceedance));
    }
    match candidate.due_year {
        Some(due) if due < first => return Some(in_first_year(Placement::Overdue)),
        Some(due) if due == first => return Some(in_first_year(Placement::DueThisYear)),
        _ if candidate.list_this_year => return Some(in_first_year(Placement::DueThisYear)),
        _ => {}
    }
    let allowed_move = candidate
        .moved_to
        .filter(|to| check_move(settings, candidate, *to).is_ok());
    if let Some(to) = allowed_move {
        let due = candidate.due_year.unwrap_or(settings.last_year());
        return Some(Assignment {
            enterprise_id: candidate.enterprise_id,
            year: Some(to),
            placement: Placement::Moved,
            earliest: first,
            latest: due.min(settings.last_year()),
        });
    }
    let beyond = candidate
        .due_year
        .is_some_and(|due| due > settings.last_year());
    beyond.then(|| Assignment {
        year: None,
        placement: Placement::BeyondHorizon,
        ..levelling_range(settings, candidate)
    })
}

/// The candidate's levelling range, as a levelled assignment not yet given a year.
fn levelling_range(settings: &PlanSettings, candidate: &PlanCandidate) -> Assignment {
    let first = settings.first_year;
    let latest = candidate.due_year.unwrap_or(settings.last_year());
    let slack = settings.levelling_slack_years.max(0);
    let earliest = if candidate.has_earlier_round {
        first.max(latest - slack)
    } else {
        first
    };
    Assignment {
        enterprise_id: candidate.enterprise_id,
        year: None,
        placement: Placement::Levelled,
        earliest,
        latest,
    }
}

/// Why an official's move was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("an enterprise cannot be moved before the first year of the plan")]
    BeforeFirstYear,
    #[error("an enterprise cannot be moved past its due year {due_year}")]
    PastDueYear { due_year: i32 },
    #[error("a 双超 enterprise stays on the first year's list")]
    DoubleExceedanceStaysInFirstYear,
    #[error("an enterprise cannot be moved beyond the plan's horizon")]
    BeyondHorizon,
}

impl MoveError {
    pub fn message_zh(&self) -> String {
        match self {
            Self::BeforeFirstYear => "不能调整到计划首年之前".to_string(),
            Self::PastDueYear { due_year } => {
                format!("不能调整到应审核年份（{due_year}年）之后")
            }
            Self::DoubleExceedanceStaysInFirstYear => {
                "双超企业应依法及时纳入当年名单，不能调整到其他年份".to_string()
            }
            Self::BeyondHorizon => "不能调整到规划期之外".to_string(),
        }
    }

    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

/// Whether an official may move `candidate` to `to_year`. Moves are the official's call within
/// the law, so the levelling slack does not bind them; the due year and 双超 do.
pub fn check_move(
    settings: &PlanSettings,
    candidate: &PlanCandidate,
    to_year: i32,
) -> Result<(), MoveError> {
    if candidate.is_double_exceedance() && to_year != settings.first_year {
        return Err(MoveError::DoubleExceedanceStaysInFirstYear);
    }
    if to_year < settings.first_year {
        return Err(MoveError::BeforeFirstYear);
    }
    if let Some(due_year) = candidate.due_year.filter(|due| to_year > *due) {
        return Err(MoveError::PastDueYear { due_year });
    }
    if to_year > settings.last_year() {
        return Err(MoveError::BeyondHorizon);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const Y: i32 = 2027;

    fn settings() -> PlanSettings {
        PlanSettings {
            first_year: Y,
            years: 5,
            levelling_slack_years: 1,
        }
    }

    fn toxic(id: i64, due_year: i32) -> PlanCandidate {
        PlanCandidate {
            enterprise_id: id,
            reasons: BTreeSet::from([Reason::DoubleToxic]),
            due_year: Some(due_year),
            list_this_year: due_year <= Y,
            has_earlier_round: false,
            moved_to: None,
        }
    }

    fn renewal(id: i64, due_year: i32) -> PlanCandidate {
        PlanCandidate {
            has_earlier_round: true,
            ..toxic(id, due_year)
        }
    }

    fn exceedance(id: i64) -> PlanCandidate {
        PlanCandidate {
            enterprise_id: id,
            reasons: BTreeSet::from([Reason::ExceedConcentration]),
            due_year: None,
            list_this_year: true,
            has_earlier_round: false,
            moved_to: None,
        }
    }

    fn loads(plan: &Plan) -> Vec<usize> {
        plan.counts.values().copied().collect()
    }

    fn placement(plan: &Plan, id: i64) -> Placement {
        plan.assignments[plan
            .assignments
            .binary_search_by_key(&id, |a| a.enterprise_id)
            .unwrap()]
        .placement
    }

    #[test]
    fn fifty_new_enterprises_level_to_ten_a_year() {
        let candidates: Vec<_> = (1..=50).map(|id| toxic(id, 2031)).collect();
        let plan = propose(&settings(), &candidates, &BTreeMap::new());
        assert_eq!(loads(&plan), vec![10; 5]);
        assert!(plan
            .assignments
            .iter()
            .all(|a| a.placement == Placement::Levelled));
        assert_eq!(plan.listed_in(2029).count(), 10);
    }

    #[test]
    fn fixed_placements_go_to_the_first_year_and_count_in_loads() {
        let mut candidates = vec![exceedance(1), toxic(2, 2025), toxic(3, Y)];
        candidates.extend((10..17).map(|id| toxic(id, 2031)));
        let plan = propose(&settings(), &candidates, &BTreeMap::new());
        assert_eq!(placement(&plan, 1), Placement::DoubleExceedance);
        assert_eq!(placement(&plan, 2), Placement::Overdue);
        assert_eq!(placement(&plan, 3), Placement::DueThisYear);
        assert_eq!(loads(&plan), vec![3, 1, 2, 2, 2]);
    }

    #[test]
    fn already_listed_enterprises_count_in_loads() {
        let already = BTreeMap::from([(2028, 4), (2029, 4), (2040, 9)]);
        let candidates: Vec<_> = (1..=7).map(|id| toxic(id, 2031)).collect();
        let plan = propose(&settings(), &candidates, &already);
        assert_eq!(loads(&plan), vec![2, 4, 4, 2, 3]);
        assert_eq!(
            plan.counts.keys().copied().collect::<Vec<_>>(),
            (Y..=2031).collect::<Vec<_>>()
        );
    }

    #[test]
    fn nobody_passes_the_due_year_and_ties_go_late() {
        let candidates = vec![
            toxic(1, 2028),
            toxic(2, 2028),
            toxic(3, 2028),
            toxic(4, 2031),
        ];
        let plan = propose(&settings(), &candidates, &BTreeMap::new());
        assert_eq!(plan.year_of(1), Some(2028));
        assert_eq!(plan.year_of(2), Some(Y));
        assert_eq!(plan.year_of(3), Some(2028));
        assert_eq!(plan.year_of(4), Some(2031));
    }

    #[test]
    fn slack_keeps_renewals_near_their_rhythm() {
        let candidates: Vec<_> = (1..=10).map(|id| renewal(id, 2030)).collect();
        let plan = propose(&settings(), &candidates, &BTreeMap::new());
        assert_eq!(loads(&plan), vec![0, 0, 5, 5, 0]);
        let assignment = &plan.assignments[0];
        assert_eq!((assignment.earliest, assignment.latest), (2029, 2030));
    }

    #[test]
    fn due_beyond_the_horizon_is_not_placed() {
        let plan = propose(&settings(), &[renewal(1, 2033)], &BTreeMap::new());
        let assignment = &plan.assignments[0];
        assert_eq!(
            (assignment.year, assignment.placement),
            (None, Placement::BeyondHorizon)
        );
        assert_eq!((assignment.earliest, assignment.latest), (2032, 2033));
        assert_eq!(plan.year_of(1), None);
        assert_eq!(plan.year_of(99), None);
        assert_eq!(loads(&plan), vec![0; 5]);
    }

    #[test]
    fn moves_are_checked() {
        let settings = settings();
        assert_eq!(check_move(&settings, &toxic(1, 2030), 2029), Ok(()));
        assert_eq!(check_move(&settings, &toxic(1, 2030), 2030), Ok(()));
        assert_eq!(
            check_move(&settings, &toxic(1, 2030), 2031),
            Err(MoveError::PastDueYear { due_year: 2030 })
        );
        assert_eq!(
            check_move(&settings, &toxic(1, 2030), 2026),
            Err(MoveError::BeforeFirstYear)
        );
        assert_eq!(
            check_move(&settings, &exceedance(2), 2028),
            Err(MoveError::DoubleExceedanceStaysInFirstYear)
        );
        assert_eq!(check_move(&settings, &exceedance(2), Y), Ok(()));
        assert_eq!(
            check_move(&settings, &renewal(3, 2035), 2032),
            Err(MoveError::BeyondHorizon)
        );
        assert_eq!(
            check_move(&settings, &renewal(3, 2035), 2027),
            Ok(()),
            "slack does not bind"
        );
        let error = MoveError::PastDueYear { due_year: 2030 };
        assert!(error.message_zh().contains("2030年"));
        assert!(error.message_en().contains("2030"));
    }

    #[test]
    fn valid_moves_are_honoured_and_stale_ones_ignored() {
        let moved = PlanCandidate {
            moved_to: Some(2027),
            ..renewal(1, 2031)
        };
        let stale = PlanCandidate {
            moved_to: Some(2031),
            ..toxic(2, 2029)
        };
        let plan = propose(&settings(), &[moved, stale], &BTreeMap::new());
        assert_eq!(
            (plan.year_of(1), placement(&plan, 1)),
            (Some(2027), Placement::Moved)
        );
        assert_eq!(
            (plan.assignments[0].earliest, plan.assignments[0].latest),
            (Y, 2031)
        );
        assert_eq!(
            (plan.year_of(2), placement(&plan, 2)),
            (Some(2029), Placement::Levelled)
        );
    }

    #[test]
    fn the_plan_does_not_depend_on_input_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut candidates = random_candidates(&mut rng, 200);
        let plan = propose(&settings(), &candidates, &BTreeMap::new());
        candidates.shuffle(&mut rng);
        assert_eq!(propose(&settings(), &candidates, &BTreeMap::new()), plan);
    }

    fn random_candidates(rng: &mut ChaCha8Rng, count: i64) -> Vec<PlanCandidate> {
        (1..=count)
            .map(|id| {
                let mut candidate = match rng.gen_range(0..10) {
                    0 => exceedance(id),
                    1..=5 => toxic(id, rng.gen_range(2024..=2034)),
                    _ => renewal(id, rng.gen_range(2024..=2034)),
                };
                if rng.gen_bool(0.1) {
                    candidate.moved_to = Some(rng.gen_range(2025..=2033));
                }
                candidate
            })
            .collect()
    }

    fn random_already(rng: &mut ChaCha8Rng) -> BTreeMap<i32, usize> {
        (Y..Y + 5).map(|year| (year, rng.gen_range(0..8))).collect()
    }

    #[test]
    fn random_plans_keep_every_rule() {
        let mut rng = ChaCha8Rng::seed_from_u64(2027);
        let settings = settings();
        for _ in 0..200 {
            let count = rng.gen_range(0..120);
            let candidates = random_candidates(&mut rng, count);
            let already = random_already(&mut rng);
            let plan = propose(&settings, &candidates, &already);
            assert_eq!(plan.assignments.len(), candidates.len());
            for (candidate, assignment) in candidates.iter().zip(&plan.assignments) {
                assert_eq!(candidate.enterprise_id, assignment.enterprise_id);
                check_assignment(&settings, candidate, assignment);
            }
            for (year, load) in &plan.counts {
                let placed = plan.listed_in(*year).count();
                assert_eq!(*load, placed + already.get(year).copied().unwrap_or(0));
            }
        }
    }

    fn check_assignment(
        settings: &PlanSettings,
        candidate: &PlanCandidate,
        assignment: &Assignment,
    ) {
        let Some(year) = assignment.year else {
            assert_eq!(assignment.placement, Placement::BeyondHorizon);
            assert!(candidate.due_year.unwrap() > settings.last_year());
            return;
        };
        assert!((settings.first_year..=settings.last_year()).contains(&year));
        if candidate.is_double_exceedance() {
            assert_eq!(year, settings.first_year);
        }
        if let Some(due) = candidate.due_year {
            assert!(
                year <= due.max(settings.first_year),
                "{candidate:?} → {year}"
            );
        }
        if assignment.placement == Placement::Levelled {
            assert!((assignment.earliest..=assignment.latest).contains(&year));
        }
    }

    /// With ranges `[Y, due]` a plan can do no better than the fullest prefix of years
    /// (or the fullest fixed year); levelling must reach that bound.
    #[test]
    fn random_plans_reach_the_lower_bound_on_the_busiest_year() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let settings = settings();
        for _ in 0..200 {
            let candidates: Vec<_> = (1..=rng.gen_range(0..150))
                .map(|id| match rng.gen_range(0..6) {
                    0 => exceedance(id),
                    _ => toxic(id, rng.gen_range(Y..=2031)),
                })
                .collect();
            let already = random_already(&mut rng);
            let plan = propose(&settings, &candidates, &already);
            let busiest = plan.counts.values().copied().max().unwrap();
            assert_eq!(busiest, lower_bound(&settings, &candidates, &already));
        }
    }

    fn lower_bound(
        settings: &PlanSettings,
        candidates: &[PlanCandidate],
        already: &BTreeMap<i32, usize>,
    ) -> usize {
        let last = settings.last_year();
        let flexible_due_by = |end: i32| {
            candidates
                .iter()
                .filter(|c| !c.is_double_exceedance())
                .filter(|c| (Y + 1..=end).contains(&c.due_year.unwrap()))
                .count()
        };
        let mut fixed = already.clone();
        *fixed.entry(Y).or_default() += candidates.len() - flexible_due_by(last);
        let busiest_fixed = fixed.values().copied().max().unwrap_or(0);
        let prefixes = (Y..=last).map(|end| {
            let fixed_load: usize = fixed.range(Y..=end).map(|(_, load)| load).sum();
            let years = usize::try_from(end - Y + 1).unwrap();
            (fixed_load + flexible_due_by(end)).div_ceil(years)
        });
        prefixes.chain([busiest_fixed]).max().unwrap()
    }
}
