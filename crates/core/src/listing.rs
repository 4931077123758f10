//! The yearly list: the city's plan and its review by the province, publication, the legal
//! clocks that publication starts, and the written notification to each listed enterprise.
//!
//! Everything here is pure: the rule book and the holiday calendar come in as parameters, and
//! so do the dates, so a five-year cycle runs in a test in milliseconds.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::periods::{period_end, HolidayCalendar, PeriodEnd, PeriodUnit};
use crate::rules::{RuleBook, RuleError, RuleRef, Unit};

/// A legal clock that runs for every listed enterprise from the list's publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 信息公开: disclose the audit-relevant information.
    Disclose,
    /// 开展清洁生产审核: start the audit (file the start).
    Start,
    /// 完成本轮审核并报送审核报告: complete the round and submit the report.
    Report,
}

impl ClockKind {
    pub const ALL: [ClockKind; 3] = [ClockKind::Disclose, ClockKind::Start, ClockKind::Report];

    /// The rule book parameter that fixes the period.
    pub fn rule_id(self) -> &'static str {
        match self {
            Self::Disclose => "deadline.disclose",
            Self::Start => "deadline.start",
            Self::Report => "deadline.report",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disclose => "disclose",
            Self::Start => "start",
            Self::Report => "report",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Disclose => "信息公开",
            Self::Start => "开展清洁生产审核",
            Self::Report => "完成审核并报送审核报告",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Disclose => "Disclose information",
            Self::Start => "Start the audit",
            Self::Report => "Complete the round and submit the report",
        }
    }
}

/// One clock of one listed enterprise: the period, its rule and both last days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clock {
    pub kind: ClockKind,
    /// The deadline rule in force on the publication date.
    pub rule: RuleRef,
    /// The rule that says whether weekends are rest days (民法典 Art. 203 as applied).
    pub rest_day_rule: RuleRef,
    pub end: PeriodEnd,
}

/// The clocks a publication on `published_on` starts. The rules in force on the publication
/// date apply, so a rule change from a later date changes only later lists' deadlines.
pub fn clocks_from_publication(
    published_on: NaiveDate,
    book: &RuleBook,
    calendar: &HolidayCalendar,
) -> Result<Vec<Clock>, RuleError> {
    let (weekends_are_rest_days, rest_day_rule) =
        book.bool_at("period.weekends_are_rest_days", published_on)?;
    ClockKind::ALL
        .into_iter()
        .map(|kind| {
            let (amount, unit, rule) = period_rule(book, kind.rule_id(), published_on)?;
            Ok(Clock {
                kind,
                rule,
                rest_day_rule: rest_day_rule.clone(),
                end: period_end(published_on, amount, unit, calendar, weekends_are_rest_days),
            })
        })
        .collect()
}

/// A period parameter (unit day, month or year) in force on `date`.
pub fn period_rule(
    book: &RuleBook,
    id: &str,
    date: NaiveDate,
) -> Result<(u32, PeriodUnit, RuleRef), RuleError> {
    let in_force = book.at(id, date)?;
    let unit = match in_force.parameter.unit {
        Unit::Day => PeriodUnit::Day,
        Unit::Month => PeriodUnit::Month,
        Unit::Year => PeriodUnit::Year,
        other => {
            return Err(RuleError::WrongType {
                id: id.to_string(),
                expected: "a period (day, month or year)",
                found: other,
            })
        }
    };
    let (amount, rule) = book.integer_at(id, date)?;
    let amount = u32::try_from(amount).map_err(|_| RuleError::WrongType {
        id: id.to_string(),
        expected: "a non-negative period",
        found: in_force.parameter.unit,
    })?;
    Ok((amount, unit, rule))
}

/// The day by which a city must submit the list and plan for `list_year` (Gansu plan: by 31
/// December of the year before), with its rule.
pub fn submission_deadline(
    book: &RuleBook,
    list_year: i32,
) -> Result<(NaiveDate, RuleRef), RuleError> {
    let probe = NaiveDate::from_ymd_opt(list_year - 1, 1, 1).unwrap_or(NaiveDate::MIN);
    let (month_day, rule) = book.month_day_at("calendar.city_list_submission", probe)?;
    Ok((month_day.in_year(list_year - 1), rule))
}

/// Where a city's list plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// The city is preparing it.
    Draft,
    /// Sent to the province for 核定.
    Submitted,
    /// Sent back by the province with comments; the city revises and submits again.
    Returned,
    /// Approved (核定) by the province, possibly with amendments.
    Approved,
    /// Its enterprises are on a published list.
    Published,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 5] = [
        Self::Draft,
        Self::Submitted,
        Self::Returned,
        Self::Approved,
        Self::Published,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::Approved => "approved",
            Self::Published => "published",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Draft => "草拟中",
            Self::Submitted => "已报送待核定",
            Self::Returned => "已退回修改",
            Self::Approved => "已核定",
            Self::Published => "已公布",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Submitted => "Submitted for approval",
            Self::Returned => "Returned for revision",
            Self::Approved => "Approved",
            Self::Published => "Published",
        }
    }

    /// Whether the city may still change entries, moves and text.
    pub fn city_may_edit(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }
}

/// Who acts on a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanActor {
    City,
    Province,
}

/// What can be done to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    /// The city sends the plan for 核定.
    Submit,
    /// The province sends it back with comments.
    Return,
    /// The province changes entries with a reason (stays submitted until approved).
    Amend,
    /// The province approves (核定) it.
    Approve,
    /// The province publishes the list that contains it.
    Publish,
}

impl PlanAction {
    pub const ALL: [PlanAction; 5] = [
        Self::Submit,
        Self::Return,
        Self::Amend,
        Self::Approve,
        Self::Publish,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Return => "return",
            Self::Amend => "amend",
            Self::Approve => "approve",
            Self::Publish => "publish",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }

    /// Who may take the action.
    pub fn actor(self) -> PlanActor {
        match self {
            Self::Submit => PlanActor::City,
            _ => PlanActor::Province,
        }
    }

    /// Whether the action must carry a reason or comment.
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Return | Self::Amend)
    }
}

/// Why a plan action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanTransitionError {
    #[error("a plan that is {from:?} cannot be {action:?}ed")]
    NotAllowed {
        from: PlanStatus,
        action: PlanAction,
    },
    #[error("only the {expected:?} may {action:?} a plan")]
    WrongActor {
        action: PlanAction,
        expected: PlanActor,
    },
    #[error("{action:?} needs a reason")]
    ReasonRequired { action: PlanAction },
}

impl PlanTransitionError {
    pub fn message_zh(&self) -> String {
        match self {
            Self::NotAllowed { from, action } => format!(
                "当前状态为“{}”，不能执行“{}”",
                from.label_zh(),
                action_label_zh(*action)
            ),
            Self::WrongActor { action, expected } => format!(
                "只有{}可以执行“{}”",
                match expected {
                    PlanActor::City => "市州",
                    PlanActor::Province => "省级",
                },
                action_label_zh(*action)
            ),
            Self::ReasonRequired { action } => {
                format!("“{}”必须填写理由或意见", action_label_zh(*action))
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotAllowed { from, action } => format!(
                "a plan that is “{}” cannot be {}",
                from.label_en(),
                action_label_en(*action)
            ),
            Self::WrongActor { action, expected } => format!(
                "only the {} may {} a plan",
                match expected {
                    PlanActor::City => "city",
                    PlanActor::Province => "province",
                },
                action.as_str()
            ),
            Self::ReasonRequired { action } => {
                format!("{} needs a reason or comment", action.as_str())
            }
        }
    }
}

pub fn action_label_zh(action: PlanAction) -> &'static str {
    match action {
        PlanAction::Submit => "报送",
        PlanAction::Return => "退回",
        PlanAction::Amend => "调整",
        PlanAction::Approve => "核定",
        PlanAction::Publish => "公布",
    }
}

pub fn action_label_en(action: PlanAction) -> &'static str {
    match action {
        PlanAction::Submit => "submitted",
        PlanAction::Return => "returned",
        PlanAction::Amend => "amended",
        PlanAction::Approve => "approved",
        PlanAction::Publish => "published",
    }
}

/// The plan's next status after `action` by `actor`, or why not. The one place that knows the
/// plan's life cycle; storage and web ask it.
pub fn plan_transition(
    from: PlanStatus,
    action: PlanAction,
    actor: PlanActor,
    reason: &str,
) -> Result<PlanStatus, PlanTransitionError> {
    if action.actor() != actor {
        return Err(PlanTransitionError::WrongActor {
            action,
            expected: action.actor(),
        });
    }
    if action.needs_reason() && reason.trim().is_empty() {
        return Err(PlanTransitionError::ReasonRequired { action });
    }
    use PlanAction as A;
    use PlanStatus as S;
    match (from, action) {
        (S::Draft | S::Returned, A::Submit) => Ok(S::Submitted),
        (S::Submitted, A::Return) => Ok(S::Returned),
        (S::Submitted, A::Amend) => Ok(S::Submitted),
        (S::Submitted, A::Approve) => Ok(S::Approved),
        (S::Approved, A::Publish) => Ok(S::Published),
        _ => Err(PlanTransitionError::NotAllowed { from, action }),
    }
}

/// The text of a written notification (书面通知) to one listed enterprise. Office formats turn
/// it into a .docx letter and the web into a printable page; both read the same content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationLetter {
    pub issuer: String,
    pub number: String,
    pub title: String,
    pub addressee: String,
    pub paragraphs: Vec<String>,
    /// 事项 / 期限 / 法律依据, one row per clock.
    pub deadline_rows: Vec<[String; 3]>,
    pub closing: Vec<String>,
    pub signature: String,
    pub date: NaiveDate,
    pub copy_to: Option<String>,
}

/// What a letter is written from.
#[derive(Clone)]
pub struct LetterFacts<'a> {
    pub issuer: &'a str,
    pub number: &'a str,
    pub enterprise_name: &'a str,
    pub list_year: i32,
    pub list_title: &'a str,
    pub published_on: NaiveDate,
    /// Reasons in Chinese, e.g. ["双超（超标排放）", "双有（第1类）"].
    pub reasons_zh: &'a [String],
    pub clocks: &'a [Clock],
    /// Titles of documents by id, to name the law in each citation.
    pub document_title: &'a dyn Fn(&str) -> String,
    pub date: NaiveDate,
}

/// Writes the notification. The body cites the law for the duty (促进法 Art. 27) and each
/// deadline with the effective last day and the rule it comes from.
pub fn notification_letter(facts: &LetterFacts<'_>) -> NotificationLetter {
    let reasons = facts.reasons_zh.join("、");
    let paragraphs = vec![
        format!(
            "根据《中华人民共和国清洁生产促进法》第二十七条和《清洁生产审核办法》的规定，\
             经省生态环境厅核定，你单位已列入《{}》（{}公布），须在{}年度实施强制性清洁生产审核。\
             列入原因：{}。",
            facts.list_title,
            chinese_date(facts.published_on),
            facts.list_year,
            if reasons.is_empty() {
                "见名单"
            } else {
                &reasons
            }
        ),
        "请你单位按下列期限完成各项工作。期限自名单公布之日的次日起算；\
         期限最后一日是法定休假日的，以法定休假日结束的次日为最后一日（《中华人民共和国民法典》\
         第二百零一条至第二百零三条）。"
            .to_string(),
    ];
    let deadline_rows = facts
        .clocks
        .iter()
        .map(|clock| {
            [
                clock.kind.label_zh().to_string(),
                deadline_text(clock),
                citation_text(&clock.rule, facts.document_title),
            ]
        })
        .collect();
    let closing = vec![
        "未按规定实施强制性清洁生产审核、在审核中弄虚作假或者不报告、不如实报告审核结果的，\
         将依照《中华人民共和国清洁生产促进法》第三十九条责令限期改正；拒不改正的，依法处以罚款。"
            .to_string(),
        "特此通知。".to_string(),
    ];
    NotificationLetter {
        issuer: facts.issuer.to_string(),
        number: facts.number.to_string(),
        title: format!("关于开展{}年度强制性清洁生产审核的通知", facts.list_year),
        addressee: facts.enterprise_name.to_string(),
        paragraphs,
        deadline_rows,
        closing,
        signature: facts.issuer.to_string(),
        date: facts.date,
        copy_to: None,
    }
}

fn deadline_text(clock: &Clock) -> String {
    if clock.end.effective == clock.end.nominal {
        format!("{}前", chinese_date(clock.end.effective))
    } else {
        format!(
            "{}前（期满日{}为法定休假日，顺延）",
            chinese_date(clock.end.effective),
            chinese_date(clock.end.nominal)
        )
    }
}

fn citation_text(rule: &RuleRef, document_title: &dyn Fn(&str) -> String) -> String {
    let cited: Vec<String> = rule
        .citations
        .iter()
        .map(|citation| format!("{}{}", document_title(&citation.document), citation.article))
        .collect();
    cited.join("；")
}

/// "2027年1月20日", the way official documents write dates.
pub fn chinese_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// A display form for a list batch: "2027年度第1批".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLabel {
    pub year: i32,
    pub batch: i32,
}

impl fmt::Display for BatchLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}年度第{}批", self.year, self.batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn an_enterprise_listed_on_2027_01_15_must_disclose_by_2027_02_15_measures_art_11() {
        let book = RuleBook::embedded();
        let clocks =
            clocks_from_publication(date(2027, 1, 15), &book, &HolidayCalendar::china()).unwrap();
        let disclose = clocks
            .iter()
            .find(|c| c.kind == ClockKind::Disclose)
            .unwrap();
        assert_eq!(disclose.end.nominal, date(2027, 2, 15));
        assert_eq!(disclose.rule.id, "deadline.disclose");
        let start = clocks.iter().find(|c| c.kind == ClockKind::Start).unwrap();
        assert_eq!(start.end.nominal, date(2027, 3, 15));
        let report = clocks.iter().find(|c| c.kind == ClockKind::Report).unwrap();
        assert_eq!(report.end.nominal, date(2028, 1, 15));
        assert_eq!(
            report.end.effective,
            date(2028, 1, 17),
            "2028-01-15 is a Saturday"
        );
    }

    #[test]
    fn a_rule_change_from_a_date_changes_only_later_deadlines() {
        let overlay = r#"
            version = "test-1"
            [[parameter]]
            id = "deadline.disclose"
            [[parameter.period]]
            from = 2027-06-01
            value = 2
            [[parameter.period.citation]]
            document = "measures-2016"
            article = "第十一条（测试用修改）"
            confidence = "design"
        "#;
        let book = RuleBook::embedded()
            .with_parameters_overlay(overlay)
            .unwrap();
        let calendar = HolidayCalendar::china();
        let before = clocks_from_publication(date(2027, 5, 31), &book, &calendar).unwrap();
        let after = clocks_from_publication(date(2027, 6, 1), &book, &calendar).unwrap();
        assert_eq!(before[0].end.nominal, date(2027, 6, 30));
        assert_eq!(after[0].end.nominal, date(2027, 8, 1));
        assert_eq!(before[1].end.nominal, date(2027, 7, 31), "start unchanged");
        assert_eq!(after[1].end.nominal, date(2027, 8, 1), "start unchanged");
    }

    #[test]
    fn the_2027_list_is_due_from_the_cities_by_31_december_2026() {
        let (deadline, rule) = submission_deadline(&RuleBook::embedded(), 2027).unwrap();
        assert_eq!(deadline, date(2026, 12, 31));
        assert_eq!(rule.id, "calendar.city_list_submission");
    }

    #[test]
    fn plans_move_draft_submitted_approved_published_and_refuse_the_rest() {
        use PlanAction as A;
        use PlanStatus as S;
        let city = PlanActor::City;
        let province = PlanActor::Province;
        assert_eq!(
            plan_transition(S::Draft, A::Submit, city, ""),
            Ok(S::Submitted)
        );
        assert_eq!(
            plan_transition(S::Submitted, A::Return, province, "补充双有企业"),
            Ok(S::Returned)
        );
        assert_eq!(
            plan_transition(S::Returned, A::Submit, city, ""),
            Ok(S::Submitted)
        );
        assert_eq!(
            plan_transition(S::Submitted, A::Approve, province, ""),
            Ok(S::Approved)
        );
        assert_eq!(
            plan_transition(S::Approved, A::Publish, province, ""),
            Ok(S::Published)
        );
        assert!(matches!(
            plan_transition(S::Submitted, A::Return, province, " "),
            Err(PlanTransitionError::ReasonRequired { .. })
        ));
        assert!(matches!(
            plan_transition(S::Draft, A::Approve, province, ""),
            Err(PlanTransitionError::NotAllowed { .. })
        ));
        assert!(matches!(
            plan_transition(S::Submitted, A::Approve, city, ""),
            Err(PlanTransitionError::WrongActor { .. })
        ));
        assert!(matches!(
            plan_transition(S::Published, A::Submit, city, ""),
            Err(PlanTransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn the_letter_cites_the_law_and_every_deadline() {
        let book = RuleBook::embedded();
        let clocks =
            clocks_from_publication(date(2027, 1, 15), &book, &HolidayCalendar::china()).unwrap();
        let title = |id: &str| {
            book.document(id)
                .map(|d| d.title.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let reasons = vec!["双超（超标排放）".to_string()];
        let letter = notification_letter(&LetterFacts {
            issuer: "兰州市生态环境局",
            number: "兰环清审〔2027〕1号",
            enterprise_name: "兰州某化工有限公司",
            list_year: 2027,
            list_title: "甘肃省2027年度强制性清洁生产审核企业名单（第1批）",
            published_on: date(2027, 1, 15),
            reasons_zh: &reasons,
            clocks: &clocks,
            document_title: &title,
            date: date(2027, 1, 20),
        });
        assert!(letter.paragraphs[0].contains("第二十七条"));
        assert!(letter.paragraphs[0].contains("双超（超标排放）"));
        assert_eq!(letter.deadline_rows.len(), 3);
        assert_eq!(letter.deadline_rows[0][1], "2027年2月15日前");
        assert!(letter.deadline_rows[2][1].contains("顺延"));
        assert!(!letter.deadline_rows[0][2].is_empty());
    }
}
