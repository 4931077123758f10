//! Enforcement on an audit round: orders to correct, fines and public criticisms, each resting
//! on one article of the rule book.
//!
//! The articles are data: every parameter of unit `penalty` (`rules/<province>/parameters.toml`)
//! is an article a decision can name as its basis, with the kinds of decision it allows and the
//! fine range, so a changed range takes effect from its date without a code change. The
//! two-step procedure of 促进法 Art. 39(1) — 责令限期改正, then a fine only if the enterprise
//! refuses to correct (拒不改正) — is the article's `fine_after_expired_order`: such a fine
//! must follow an order under the same article whose date has passed and which was found not
//! corrected. Articles without it (Art. 36 可以处, 令第24号 Art. 28/29 并可以处) let the fine be
//! decided together with the order.
//!
//! Pure: the rule book, the round's earlier orders and today come in as parameters; every
//! refusal names the field at fault and, for a fine, quotes the range and the article.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::listing::chinese_date;
use crate::registry::{FieldError, Message};
use crate::rules::{Penalty, PenaltyKind, RuleBook, RuleRef, Unit};

/// An article a decision can rest on: a parameter of unit penalty, as in force on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Article {
    /// The parameter id, recorded as the decision's basis, e.g. "penalty.law_39_1".
    pub id: String,
    /// E.g. 《清洁生产促进法》第三十九条.
    pub name_zh: String,
    pub name_en: String,
    pub description: String,
    pub penalty: Penalty,
    /// The article's wording, from the first citation that quotes it.
    pub text: Option<String>,
    pub rule: RuleRef,
}

impl Article {
    /// Every article in force on a day, in the rule book's order.
    pub fn all_in_force(book: &RuleBook, on: NaiveDate) -> Vec<Article> {
        book.parameters
            .iter()
            .filter(|parameter| parameter.unit == Unit::Penalty)
            .filter_map(|parameter| Self::in_force(book, &parameter.id, on).ok())
            .collect()
    }

    /// The article a decision names, as in force on the decision's day.
    pub fn in_force(book: &RuleBook, id: &str, on: NaiveDate) -> Result<Article, FieldError> {
        let parameter = book
            .parameter(id)
            .filter(|parameter| parameter.unit == Unit::Penalty)
            .ok_or_else(|| unknown_basis(book, id, on))?;
        let (penalty, rule) = book.penalty_at(id, on).map_err(|_| {
            refused(
                "basis",
                "not_in_force",
                format!(
                    "{}在{}尚未施行或已失效",
                    parameter.name_zh,
                    chinese_date(on)
                ),
                format!("{} is not in force on {on}", parameter.name_en),
            )
        })?;
        let text = rule
            .citations
            .iter()
            .find_map(|citation| citation.quote.clone());
        Ok(Article {
            id: parameter.id.clone(),
            name_zh: parameter.name_zh.clone(),
            name_en: parameter.name_en.clone(),
            description: parameter.description.clone(),
            penalty,
            text,
            rule,
        })
    }

    /// What may be decided under it, in Chinese: "责令改正、罚款".
    pub fn kinds_zh(&self) -> String {
        let labels: Vec<&str> = self.penalty.kinds.iter().map(|k| k.label_zh()).collect();
        labels.join("、")
    }

    pub fn kinds_en(&self) -> String {
        let labels: Vec<&str> = self.penalty.kinds.iter().map(|k| k.label_en()).collect();
        labels.join(", ")
    }
}

fn refused(field: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(field, code, Message::new(zh, en))
}

fn unknown_basis(book: &RuleBook, id: &str, on: NaiveDate) -> FieldError {
    let known: Vec<String> = Article::all_in_force(book, on)
        .into_iter()
        .map(|article| article.id)
        .collect();
    refused(
        "basis",
        "unknown_basis",
        format!("没有处罚依据“{id}”；可选：{}", known.join("、")),
        format!("no penalty article \"{id}\"; known: {}", known.join(", ")),
    )
}

// ---- orders and their outcome -------------------------------------------------------------------

/// How an order to correct ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 已改正: corrected on a day.
    Corrected,
    /// 逾期未改正: the date passed without correction (拒不改正).
    NotCorrected,
}

impl Outcome {
    pub const ALL: [Outcome; 2] = [Self::Corrected, Self::NotCorrected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Corrected => "corrected",
            Self::NotCorrected => "not_corrected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Corrected => "已改正",
            Self::NotCorrected => "逾期未改正",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Corrected => "corrected",
            Self::NotCorrected => "not corrected by the date",
        }
    }
}

/// An order to correct as recorded on the round, with its outcome once known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOrder {
    pub id: i64,
    /// The article it was based on.
    pub basis: String,
    pub decided_on: NaiveDate,
    /// The last day to correct.
    pub correct_by: NaiveDate,
    pub outcome: Option<(Outcome, NaiveDate)>,
}

/// Where an order stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// The date to correct has not passed.
    Running,
    /// The date passed and nobody has recorded whether it was corrected: an open work item.
    AwaitingOutcome,
    Corrected(NaiveDate),
    NotCorrected(NaiveDate),
}

impl RecordedOrder {
    pub fn status(&self, on: NaiveDate) -> OrderStatus {
        match self.outcome {
            Some((Outcome::Corrected, day)) => OrderStatus::Corrected(day),
            Some((Outcome::NotCorrected, day)) => OrderStatus::NotCorrected(day),
            None if on > self.correct_by => OrderStatus::AwaitingOutcome,
            None => OrderStatus::Running,
        }
    }

    /// The first day after the date to correct: from then on the order has expired.
    pub fn expired_from(&self) -> NaiveDate {
        self.correct_by
            .checked_add_days(Days::new(1))
            .unwrap_or(self.correct_by)
    }

    fn not_expired(&self, field: &str, what_zh: &str, what_en: &str) -> FieldError {
        refused(
            field,
            "order_not_expired",
            format!(
                "责令改正期限至{}，{}起方可{what_zh}",
                chinese_date(self.correct_by),
                chinese_date(self.expired_from())
            ),
            format!(
                "the order gives until {} to correct; {what_en} only from {}",
                self.correct_by,
                self.expired_from()
            ),
        )
    }
}

/// Checks the outcome of an order before it is recorded: once only, not in the future, not
/// before the order, and "not corrected" only once the date to correct has passed.
pub fn check_outcome(
    order: &RecordedOrder,
    outcome: Outcome,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<(), FieldError> {
    if let Some((recorded, day)) = order.outcome {
        return Err(refused(
            "outcome",
            "already_recorded",
            format!(
                "该责令改正决定已记录为{}（{}）",
                recorded.label_zh(),
                chinese_date(day)
            ),
            format!(
                "the order is already recorded as {} on {day}",
                recorded.label_en()
            ),
        ));
    }
    if on > today {
        return Err(in_future("outcome_on"));
    }
    if on < order.decided_on {
        return Err(refused(
            "outcome_on",
            "before_order",
            format!(
                "日期不能早于责令改正决定日期（{}）",
                chinese_date(order.decided_on)
            ),
            format!(
                "the date cannot be before the order of {}",
                order.decided_on
            ),
        ));
    }
    if outcome == Outcome::NotCorrected && on <= order.correct_by {
        return Err(order.not_expired(
            "outcome_on",
            "认定逾期未改正",
            "it can be found not corrected",
        ));
    }
    Ok(())
}

fn in_future(field: &str) -> FieldError {
    refused(
        field,
        "in_future",
        "日期不能晚于今天".into(),
        "the date cannot be after today".into(),
    )
}

// ---- decisions ----------------------------------------------------------------------------------

/// A decision as an official enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The article applied: a parameter id of unit penalty.
    pub basis: String,
    /// The facts found, e.g. the falsified figures or the missed deadline.
    pub reason: String,
    pub decided_on: NaiveDate,
    pub action: Action,
}

/// What is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// 责令（限期）改正 by a date after the decision.
    OrderToCorrect { correct_by: NaiveDate },
    /// 罚款, following an earlier order when the article requires it; published on request.
    Fine {
        amount_yuan: i64,
        follows: Option<i64>,
        publish: bool,
    },
    /// 通报批评: public by nature, so always published.
    PublicCriticism,
}

impl Action {
    pub fn kind(&self) -> PenaltyKind {
        match self {
            Self::OrderToCorrect { .. } => PenaltyKind::OrderToCorrect,
            Self::Fine { .. } => PenaltyKind::Fine,
            Self::PublicCriticism => PenaltyKind::PublicCriticism,
        }
    }
}

/// A decision that passed the checks: what is recorded with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub kind: PenaltyKind,
    /// The article as in force on the decision's day.
    pub rule: RuleRef,
    /// The order a fine follows.
    pub follows: Option<i64>,
    /// Whether it appears on the public list.
    pub published: bool,
}

/// Checks a decision against the article it names (as in force on the decision's day) and the
/// round's earlier orders.
pub fn check_decision(
    book: &RuleBook,
    decision: &Decision,
    orders: &[RecordedOrder],
    today: NaiveDate,
) -> Result<Checked, FieldError> {
    if decision.reason.trim().is_empty() {
        return Err(refused(
            "reason",
            "required",
            "请填写事实和理由".into(),
            "reason is required".into(),
        ));
    }
    if decision.decided_on > today {
        return Err(in_future("decided_on"));
    }
    let article = Article::in_force(book, &decision.basis, decision.decided_on)?;
    let kind = decision.action.kind();
    if !article.penalty.allows(kind) {
        return Err(refused(
            "kind",
            "not_allowed_by_basis",
            format!(
                "{}未规定{}，可作出：{}",
                article.name_zh,
                kind.label_zh(),
                article.kinds_zh()
            ),
            format!(
                "{} provides no {}; it allows: {}",
                article.name_en,
                kind.label_en(),
                article.kinds_en()
            ),
        ));
    }
    let (follows, published) = match decision.action {
        Action::OrderToCorrect { correct_by } => {
            check_correct_by(decision.decided_on, correct_by)?;
            (None, false)
        }
        Action::Fine {
            amount_yuan,
            follows,
            publish,
        } => {
            check_amount(&article, amount_yuan)?;
            let order = preceding_order(&article, decision, follows, orders)?;
            (order.map(|order| order.id), publish)
        }
        Action::PublicCriticism => (None, true),
    };
    Ok(Checked {
        kind,
        rule: article.rule,
        follows,
        published,
    })
}

fn check_correct_by(decided_on: NaiveDate, correct_by: NaiveDate) -> Result<(), FieldError> {
    if correct_by <= decided_on {
        return Err(refused(
            "correct_by",
            "not_after_decision",
            format!("改正期限应晚于决定日期（{}）", chinese_date(decided_on)),
            format!("the date to correct must be after the decision of {decided_on}"),
        ));
    }
    Ok(())
}

/// "罚款金额应在五万元以上五十万元以下（《清洁生产促进法》第三十九条）".
fn check_amount(article: &Article, amount_yuan: i64) -> Result<(), FieldError> {
    let Some(range) = article.penalty.fine else {
        return Ok(());
    };
    if range.contains(amount_yuan) {
        return Ok(());
    }
    Err(refused(
        "amount_yuan",
        "out_of_range",
        format!("罚款金额应在{}（{}）", range.describe_zh(), article.name_zh),
        format!(
            "the fine must be {} ({})",
            range.describe_en(),
            article.name_en
        ),
    ))
}

/// The order a fine follows. Where the article fines only a refusal to correct, there must be
/// one: under the same article, its date passed before the fine's day, found not corrected.
fn preceding_order<'a>(
    article: &Article,
    decision: &Decision,
    follows: Option<i64>,
    orders: &'a [RecordedOrder],
) -> Result<Option<&'a RecordedOrder>, FieldError> {
    let required = article
        .penalty
        .fine
        .is_some_and(|range| range.after_expired_order);
    let Some(id) = follows else {
        if !required {
            return Ok(None);
        }
        let any_under_article = orders.iter().any(|order| order.basis == article.id);
        return Err(if any_under_article {
            refused(
                "follows",
                "required",
                "请选择罚款所依据的责令改正决定".into(),
                "choose the order to correct the fine follows".into(),
            )
        } else {
            refused(
                "follows",
                "order_missing",
                format!(
                    "依据{}，罚款须在责令限期改正、逾期未改正后作出；本轮没有依据该条的责令改正决定",
                    article.name_zh
                ),
                format!(
                    "under {} a fine follows only an order to correct that was not complied \
                     with; this round has no order under it",
                    article.name_en
                ),
            )
        });
    };
    let order = orders.iter().find(|order| order.id == id).ok_or_else(|| {
        refused(
            "follows",
            "unknown_order",
            format!("本轮没有编号为 {id} 的责令改正决定"),
            format!("this round has no order to correct with id {id}"),
        )
    })?;
    if order.basis != article.id {
        return Err(refused(
            "follows",
            "other_basis",
            format!("所选责令改正决定的依据不是{}", article.name_zh),
            format!("the order chosen was not made under {}", article.name_en),
        ));
    }
    if required {
        check_refusal_to_correct(order, decision.decided_on)?;
    }
    Ok(Some(order))
}

/// 拒不改正: the date passed before the fine's day, and the order was found not corrected no
/// later than the fine.
fn check_refusal_to_correct(order: &RecordedOrder, fine_on: NaiveDate) -> Result<(), FieldError> {
    if fine_on <= order.correct_by {
        return Err(order.not_expired("decided_on", "罚款", "a fine can follow it"));
    }
    match order.outcome {
        None => Err(refused(
            "follows",
            "outcome_missing",
            "请先记录该责令改正决定逾期未改正".into(),
            "record first that the order was not corrected".into(),
        )),
        Some((Outcome::Corrected, day)) => Err(refused(
            "follows",
            "order_corrected",
            format!("企业已于{}改正，不得罚款", chinese_date(day)),
            format!("the enterprise corrected on {day}; no fine can follow"),
        )),
        Some((Outcome::NotCorrected, day)) if fine_on < day => Err(refused(
            "decided_on",
            "before_finding",
            format!(
                "罚款决定日期不能早于认定逾期未改正的日期（{}）",
                chinese_date(day)
            ),
            format!("the fine cannot be decided before the order was found not corrected ({day})"),
        )),
        Some((Outcome::NotCorrected, _)) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2027, 9, 1);

    fn today() -> NaiveDate {
        day(TODAY.0, TODAY.1, TODAY.2)
    }

    fn decide(
        basis: &str,
        decided_on: NaiveDate,
        action: Action,
        orders: &[RecordedOrder],
    ) -> Result<Checked, FieldError> {
        let decision = Decision {
            basis: basis.into(),
            reason: "审核报告数据弄虚作假".into(),
            decided_on,
            action,
        };
        check_decision(&RuleBook::embedded(), &decision, orders, today())
    }

    fn fine(amount_yuan: i64, follows: Option<i64>) -> Action {
        Action::Fine {
            amount_yuan,
            follows,
            publish: true,
        }
    }

    /// An Art. 39 order of 2027-01-15 to correct by 2027-06-30.
    fn art_39_order(outcome: Option<(Outcome, NaiveDate)>) -> RecordedOrder {
        RecordedOrder {
            id: 7,
            basis: "penalty.law_39_1".into(),
            decided_on: day(2027, 1, 15),
            correct_by: day(2027, 6, 30),
            outcome,
        }
    }

    fn not_corrected_on(on: NaiveDate) -> Option<(Outcome, NaiveDate)> {
        Some((Outcome::NotCorrected, on))
    }

    fn refusal(result: Result<Checked, FieldError>) -> FieldError {
        result.expect_err("the decision should be refused")
    }

    #[test]
    fn a_fine_under_art_39_without_a_preceding_order_to_correct_is_refused() {
        let error = refusal(decide(
            "penalty.law_39_1",
            day(2027, 7, 1),
            fine(60_000, None),
            &[],
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("follows", "order_missing")
        );
        assert!(error.message.zh.contains("《清洁生产促进法》第三十九条"));
        // With an order on file the official must say which one the fine follows.
        let orders = [art_39_order(not_corrected_on(day(2027, 7, 1)))];
        let error = refusal(decide(
            "penalty.law_39_1",
            day(2027, 7, 1),
            fine(60_000, None),
            &orders,
        ));
        assert_eq!((error.field.as_str(), error.code), ("follows", "required"));
    }

    #[test]
    fn an_order_to_correct_by_2027_06_30_cannot_be_followed_by_a_fine_on_2027_06_30_only_from_2027_07_01(
    ) {
        let orders = [art_39_order(not_corrected_on(day(2027, 7, 1)))];
        let error = refusal(decide(
            "penalty.law_39_1",
            day(2027, 6, 30),
            fine(60_000, Some(7)),
            &orders,
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("decided_on", "order_not_expired")
        );
        assert_eq!(
            error.message.zh,
            "责令改正期限至2027年6月30日，2027年7月1日起方可罚款"
        );
        let checked = decide(
            "penalty.law_39_1",
            day(2027, 7, 1),
            fine(60_000, Some(7)),
            &orders,
        )
        .unwrap();
        assert_eq!(checked.kind, PenaltyKind::Fine);
        assert_eq!(checked.follows, Some(7));
        assert_eq!(checked.rule.id, "penalty.law_39_1");
        assert!(checked.published);
    }

    #[test]
    fn an_art_39_fine_is_from_50_000_to_500_000_yuan_and_a_refusal_quotes_range_and_article() {
        let orders = [art_39_order(not_corrected_on(day(2027, 7, 1)))];
        let on = day(2027, 7, 2);
        for amount in [50_000, 500_000] {
            assert!(decide("penalty.law_39_1", on, fine(amount, Some(7)), &orders).is_ok());
        }
        for amount in [49_999, 500_001, 0] {
            let error = refusal(decide(
                "penalty.law_39_1",
                on,
                fine(amount, Some(7)),
                &orders,
            ));
            assert_eq!(
                (error.field.as_str(), error.code),
                ("amount_yuan", "out_of_range")
            );
            assert_eq!(
                error.message.zh,
                "罚款金额应在五万元以上五十万元以下（《清洁生产促进法》第三十九条）"
            );
            assert_eq!(
                error.message.en,
                "the fine must be 50,000 to 500,000 yuan (Cleaner Production Promotion Law, \
                 Art. 39)"
            );
        }
    }

    #[test]
    fn an_art_36_fine_of_100_001_yuan_is_refused_and_one_of_100_000_needs_no_order() {
        let on = day(2027, 3, 1);
        let error = refusal(decide("penalty.law_36", on, fine(100_001, None), &[]));
        assert_eq!(
            error.message.zh,
            "罚款金额应在十万元以下（《清洁生产促进法》第三十六条）"
        );
        let checked = decide("penalty.law_36", on, fine(100_000, None), &[]).unwrap();
        assert_eq!(checked.follows, None);
        assert!(decide("penalty.law_36", on, fine(1, None), &[]).is_ok());
    }

    #[test]
    fn a_corrected_order_cannot_be_followed_by_a_fine() {
        let orders = [art_39_order(Some((Outcome::Corrected, day(2027, 6, 20))))];
        let error = refusal(decide(
            "penalty.law_39_1",
            day(2027, 7, 5),
            fine(60_000, Some(7)),
            &orders,
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("follows", "order_corrected")
        );
        assert_eq!(error.message.zh, "企业已于2027年6月20日改正，不得罚款");
    }

    #[test]
    fn an_expired_order_must_be_found_not_corrected_before_a_fine_follows_it() {
        let orders = [art_39_order(None)];
        let error = refusal(decide(
            "penalty.law_39_1",
            day(2027, 7, 5),
            fine(60_000, Some(7)),
            &orders,
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("follows", "outcome_missing")
        );
        let orders = [art_39_order(not_corrected_on(day(2027, 7, 10)))];
        let error = refusal(decide(
            "penalty.law_39_1",
            day(2027, 7, 5),
            fine(60_000, Some(7)),
            &orders,
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("decided_on", "before_finding")
        );
    }

    #[test]
    fn a_fine_follows_an_order_of_this_round_under_the_same_article() {
        let mut other = art_39_order(not_corrected_on(day(2027, 7, 1)));
        other.basis = "penalty.law_36".into();
        let error = refusal(decide(
            "penalty.law_39_1",
            day(2027, 7, 5),
            fine(60_000, Some(7)),
            &[other],
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("follows", "other_basis")
        );
        let orders = [art_39_order(not_corrected_on(day(2027, 7, 1)))];
        let error = refusal(decide(
            "penalty.law_39_1",
            day(2027, 7, 5),
            fine(60_000, Some(8)),
            &orders,
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("follows", "unknown_order")
        );
    }

    #[test]
    fn the_date_to_correct_is_after_the_decision_day() {
        let on = day(2027, 1, 15);
        let error = refusal(decide(
            "penalty.law_39_1",
            on,
            Action::OrderToCorrect { correct_by: on },
            &[],
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("correct_by", "not_after_decision")
        );
        let checked = decide(
            "penalty.law_39_1",
            on,
            Action::OrderToCorrect {
                correct_by: day(2027, 1, 16),
            },
            &[],
        )
        .unwrap();
        assert!(!checked.published, "orders are not on the public list");
    }

    #[test]
    fn public_criticism_rests_on_order_24_or_the_gansu_plan_not_on_art_39() {
        let on = day(2027, 3, 1);
        for basis in [
            "penalty.order24_art28",
            "penalty.order24_art29",
            "penalty.gansu_plan_4_4",
        ] {
            let checked = decide(basis, on, Action::PublicCriticism, &[]).unwrap();
            assert!(
                checked.published,
                "{basis}: a public criticism is published"
            );
        }
        let error = refusal(decide("penalty.law_39_1", on, Action::PublicCriticism, &[]));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("kind", "not_allowed_by_basis")
        );
        assert_eq!(
            error.message.zh,
            "《清洁生产促进法》第三十九条未规定通报批评，可作出：责令改正、罚款"
        );
        let error = refusal(decide("penalty.gansu_plan_4_4", on, fine(1_000, None), &[]));
        assert_eq!(error.code, "not_allowed_by_basis");
    }

    #[test]
    fn order_24_fines_are_from_10_000_to_100_000_and_up_to_50_000_yuan() {
        let on = day(2027, 3, 1);
        assert!(decide("penalty.order24_art28", on, fine(10_000, None), &[]).is_ok());
        let error = refusal(decide("penalty.order24_art28", on, fine(9_999, None), &[]));
        assert_eq!(
            error.message.zh,
            "罚款金额应在一万元以上十万元以下（《企业环境信息依法披露管理办法》第二十八条）"
        );
        let error = refusal(decide("penalty.order24_art29", on, fine(50_001, None), &[]));
        assert_eq!(
            error.message.zh,
            "罚款金额应在五万元以下（《企业环境信息依法披露管理办法》第二十九条）"
        );
    }

    #[test]
    fn an_article_is_applied_as_in_force_on_the_decision_day() {
        // 令第24号 took effect on 2022-02-08.
        let error = refusal(decide(
            "penalty.order24_art28",
            day(2022, 2, 7),
            Action::PublicCriticism,
            &[],
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("basis", "not_in_force")
        );
        assert!(decide(
            "penalty.order24_art28",
            day(2022, 2, 8),
            Action::PublicCriticism,
            &[]
        )
        .is_ok());
        let error = refusal(decide(
            "deadline.disclose",
            day(2027, 3, 1),
            Action::PublicCriticism,
            &[],
        ));
        assert_eq!(
            (error.field.as_str(), error.code),
            ("basis", "unknown_basis")
        );
        assert!(error.message.en.contains("penalty.law_39_1"));
    }

    #[test]
    fn a_decision_needs_a_reason_and_cannot_be_dated_after_today() {
        let mut decision = Decision {
            basis: "penalty.gansu_plan_4_4".into(),
            reason: " ".into(),
            decided_on: today(),
            action: Action::PublicCriticism,
        };
        let book = RuleBook::embedded();
        let error = check_decision(&book, &decision, &[], today()).unwrap_err();
        assert_eq!((error.field.as_str(), error.code), ("reason", "required"));
        decision.reason = "提供虚假审核报告".into();
        decision.decided_on = day(2027, 9, 2);
        let error = check_decision(&book, &decision, &[], today()).unwrap_err();
        assert_eq!(
            (error.field.as_str(), error.code),
            ("decided_on", "in_future")
        );
    }

    #[test]
    fn not_corrected_is_found_only_after_the_date_and_an_outcome_is_recorded_once() {
        let order = art_39_order(None);
        let error =
            check_outcome(&order, Outcome::NotCorrected, day(2027, 6, 30), today()).unwrap_err();
        assert_eq!(
            error.message.zh,
            "责令改正期限至2027年6月30日，2027年7月1日起方可认定逾期未改正"
        );
        assert!(check_outcome(&order, Outcome::NotCorrected, day(2027, 7, 1), today()).is_ok());
        // A correction can be recorded on any day from the order to today.
        assert!(check_outcome(&order, Outcome::Corrected, day(2027, 2, 1), today()).is_ok());
        let error =
            check_outcome(&order, Outcome::Corrected, day(2027, 1, 14), today()).unwrap_err();
        assert_eq!(error.code, "before_order");
        let error =
            check_outcome(&order, Outcome::Corrected, day(2027, 9, 2), today()).unwrap_err();
        assert_eq!(error.code, "in_future");
        let decided = art_39_order(Some((Outcome::Corrected, day(2027, 2, 1))));
        let error =
            check_outcome(&decided, Outcome::NotCorrected, day(2027, 7, 1), today()).unwrap_err();
        assert_eq!(error.code, "already_recorded");
    }

    #[test]
    fn an_order_awaits_its_outcome_from_the_day_after_its_date() {
        let order = art_39_order(None);
        assert_eq!(order.status(day(2027, 6, 30)), OrderStatus::Running);
        assert_eq!(order.status(day(2027, 7, 1)), OrderStatus::AwaitingOutcome);
        let found = art_39_order(not_corrected_on(day(2027, 7, 2)));
        assert_eq!(
            found.status(day(2027, 8, 1)),
            OrderStatus::NotCorrected(day(2027, 7, 2))
        );
    }

    #[test]
    fn every_article_in_force_is_offered_with_its_wording() {
        let book = RuleBook::embedded();
        let ids: Vec<String> = Article::all_in_force(&book, day(2027, 1, 1))
            .into_iter()
            .map(|article| {
                assert!(article.text.is_some(), "{} quotes its article", article.id);
                assert!(!article.rule.needs_verification(), "{}", article.id);
                article.id
            })
            .collect();
        assert_eq!(
            ids,
            [
                "penalty.law_36",
                "penalty.law_39_1",
                "penalty.order24_art28",
                "penalty.order24_art29",
                "penalty.gansu_plan_4_4"
            ]
        );
        // Before 令第24号 took effect only the law and the plan apply.
        assert_eq!(Article::all_in_force(&book, day(2022, 1, 1)).len(), 3);
    }
}
