//! The five deadlines of an audit round, and the notices each one sends: a reminder before it,
//! an overdue notice the day after, and an escalation to the province later.
//!
//! Disclose, start and report run from the list's publication (their dates are computed by
//! [`crate::listing::clocks_from_publication`] and copied onto the round); rectify runs from a
//! review that asked for rectification, accept from the passed assessment. A deadline is met
//! by the actions [`DeadlineKind::is_met_by`] names. Which notices are due on a day, and what
//! each says ([`due_notices`]: the enterprise, the obligation, the last day and the rule's
//! citations, marked where they are not confirmed law), is pure here; the scheduler stores each
//! under a unique key, so a notice fires once even when the scheduler runs twice, restarts, or
//! skips days.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::listing::{chinese_date, period_rule, ClockKind};
use crate::periods::{period_end, HolidayCalendar, PeriodEnd};
use crate::round::{ReviewConclusion, RoundAction};
use crate::rules::{Confidence, RuleBook, RuleCitation, RuleError, RuleRef, RuleValue};

/// A deadline of one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    Disclose,
    Start,
    Report,
    Rectify,
    Accept,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 5] = [
        Self::Disclose,
        Self::Start,
        Self::Report,
        Self::Rectify,
        Self::Accept,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disclose => "disclose",
            Self::Start => "start",
            Self::Report => "report",
            Self::Rectify => "rectify",
            Self::Accept => "accept",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn from_clock(kind: ClockKind) -> Self {
        match kind {
            ClockKind::Disclose => Self::Disclose,
            ClockKind::Start => Self::Start,
            ClockKind::Report => Self::Report,
        }
    }

    /// The rule book parameter that fixes the period.
    pub fn rule_id(self) -> &'static str {
        match self {
            Self::Disclose => "deadline.disclose",
            Self::Start => "deadline.start",
            Self::Report => "deadline.report",
            Self::Rectify => "deadline.rectify",
            Self::Accept => "deadline.accept",
        }
    }

    /// Whether `action` meets the deadline. A rectification runs after a review asked for it
    /// and is met by whatever files the corrected work: a resubmission, a new report after a
    /// failed assessment, or a new acceptance application after an unqualified acceptance.
    pub fn is_met_by(self, action: RoundAction) -> bool {
        match self {
            Self::Disclose => action == RoundAction::Disclose,
            Self::Start => action == RoundAction::FileStart,
            Self::Report => action == RoundAction::SubmitReport,
            Self::Rectify => matches!(
                action,
                RoundAction::Resubmit | RoundAction::SubmitReport | RoundAction::ApplyAcceptance
            ),
            Self::Accept => action == RoundAction::ApplyAcceptance,
        }
    }

    /// The deadline a review decision starts, if any: rectification after any conclusion that
    /// sends the work back, acceptance after a passed assessment.
    pub fn started_by(action: RoundAction) -> Option<Self> {
        match action {
            RoundAction::Decide(
                ReviewConclusion::Rectify | ReviewConclusion::Fail | ReviewConclusion::NotQualified,
            ) => Some(Self::Rectify),
            RoundAction::Decide(ReviewConclusion::Pass) => Some(Self::Accept),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Disclose => "信息公开",
            Self::Start => "开展清洁生产审核",
            Self::Report => "报送审核报告",
            Self::Rectify => "评估整改后重新报送",
            Self::Accept => "申请验收",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Disclose => "Disclose information",
            Self::Start => "Start the audit",
            Self::Report => "Submit the audit report",
            Self::Rectify => "Resubmit after rectification",
            Self::Accept => "Apply for acceptance",
        }
    }
}

/// A deadline that a review decision starts (rectify or accept), with its rule and last day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartedDeadline {
    pub kind: DeadlineKind,
    pub starts_on: NaiveDate,
    pub rule: RuleRef,
    pub rest_day_rule: RuleRef,
    pub end: PeriodEnd,
}

/// The deadline of `kind` running from `starts_on`, under the rules in force that day.
pub fn deadline_from(
    kind: DeadlineKind,
    starts_on: NaiveDate,
    book: &RuleBook,
    calendar: &HolidayCalendar,
) -> Result<StartedDeadline, RuleError> {
    let (weekends_are_rest_days, rest_day_rule) =
        book.bool_at("period.weekends_are_rest_days", starts_on)?;
    let (amount, unit, rule) = period_rule(book, kind.rule_id(), starts_on)?;
    Ok(StartedDeadline {
        kind,
        starts_on,
        rule,
        rest_day_rule,
        end: period_end(starts_on, amount, unit, calendar, weekends_are_rest_days),
    })
}

/// The notices a deadline sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Before the deadline, to the enterprise and its consultancy.
    Reminder,
    /// The day after, to the enterprise, its consultancy and the city.
    Overdue,
    /// Later, to the province (the city and the enterprise see it too).
    Escalation,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 3] = [Self::Reminder, Self::Overdue, Self::Escalation];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Overdue => "overdue",
            Self::Escalation => "escalation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Reminder => "到期提醒",
            Self::Overdue => "逾期",
            Self::Escalation => "逾期上报省级",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Reminder => "Reminder",
            Self::Overdue => "Overdue",
            Self::Escalation => "Escalated to the province",
        }
    }
}

/// Who reads notices, by the part they play in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeReader {
    Enterprise,
    /// A consultancy engaged by the enterprise.
    Consultancy,
    /// The city of the enterprise.
    City,
    Province,
}

impl NoticeKind {
    /// Whether a notice of this kind is addressed to `reader`. Overdue items climb from the
    /// enterprise to the city and then the province (SPEC §3): the enterprise hears of
    /// everything about its own round, its consultancy of what it can still help with, the
    /// city from the day a deadline is missed, the province once it is escalated.
    pub fn addressed_to(self, reader: NoticeReader) -> bool {
        match reader {
            NoticeReader::Enterprise => true,
            NoticeReader::Consultancy => self != Self::Escalation,
            NoticeReader::City => self != Self::Reminder,
            NoticeReader::Province => self == Self::Escalation,
        }
    }
}

/// When each notice of a deadline falls due, from the notice rules in force on the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeSchedule {
    pub reminder_on: NaiveDate,
    pub overdue_on: NaiveDate,
    pub escalation_on: NaiveDate,
    pub rules: Vec<RuleRef>,
}

impl NoticeSchedule {
    /// The schedule for a deadline whose effective last day is `due_on`.
    pub fn for_due_date(book: &RuleBook, due_on: NaiveDate) -> Result<Self, RuleError> {
        let (before, reminder_rule) = book.integer_at("notices.reminder_days_before", due_on)?;
        let (after, escalation_rule) =
            book.integer_at("notices.escalate_to_province_after_days", due_on)?;
        let days = |n: i64| Days::new(n.unsigned_abs());
        Ok(Self {
            reminder_on: due_on.checked_sub_days(days(before)).unwrap_or(due_on),
            // The last day itself is still in time (民法典 Art. 203: until 24:00).
            overdue_on: due_on.succ_opt().unwrap_or(due_on),
            escalation_on: due_on.checked_add_days(days(after)).unwrap_or(due_on),
            rules: vec![reminder_rule, escalation_rule],
        })
    }

    fn falls_on(&self, kind: NoticeKind) -> NaiveDate {
        match kind {
            NoticeKind::Reminder => self.reminder_on,
            NoticeKind::Overdue => self.overdue_on,
            NoticeKind::Escalation => self.escalation_on,
        }
    }

    /// The notices due by `today` for a deadline still open (not met, round not finished).
    /// A reminder whose day was missed is not sent once the deadline has passed: the overdue
    /// notice says more.
    pub fn due_by(&self, today: NaiveDate) -> Vec<NoticeKind> {
        let due: Vec<NoticeKind> = NoticeKind::ALL
            .into_iter()
            .filter(|kind| self.falls_on(*kind) <= today)
            .collect();
        if today >= self.overdue_on {
            due.into_iter()
                .filter(|kind| *kind != NoticeKind::Reminder)
                .collect()
        } else {
            due
        }
    }
}

/// The longest lead any period of the reminder rule gives. The scheduler looks this far ahead
/// for deadlines whose reminder may be due (each deadline then uses the rule in force on its
/// own last day).
pub fn longest_reminder_lead(book: &RuleBook) -> Days {
    let longest = book
        .parameter("notices.reminder_days_before")
        .map(|parameter| {
            parameter
                .values
                .iter()
                .filter_map(|period| match period.value {
                    RuleValue::Integer(days) => Some(days.unsigned_abs()),
                    _ => None,
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    Days::new(longest)
}

/// The deadline a notice is about.
#[derive(Debug, Clone, Copy)]
pub struct NoticeSubject<'a> {
    pub enterprise: &'a str,
    pub deadline: DeadlineKind,
    /// The effective last day.
    pub due_on: NaiveDate,
    /// The rule that fixed the deadline, with its citations.
    pub rule: &'a RuleRef,
}

/// What a notice says, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeText {
    pub zh: String,
    pub en: String,
}

/// A notice due today for an open deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueNotice {
    pub kind: NoticeKind,
    /// The day the schedule puts it on (earlier than today when the scheduler was not running).
    pub falls_on: NaiveDate,
    pub text: NoticeText,
}

/// The notices due by `today` for a deadline still open, with what each says: the enterprise,
/// the obligation, the last day and the rule's citations.
pub fn due_notices(
    book: &RuleBook,
    subject: &NoticeSubject<'_>,
    today: NaiveDate,
) -> Result<Vec<DueNotice>, RuleError> {
    let schedule = NoticeSchedule::for_due_date(book, subject.due_on)?;
    Ok(schedule
        .due_by(today)
        .into_iter()
        .map(|kind| DueNotice {
            kind,
            falls_on: schedule.falls_on(kind),
            text: notice_text(book, kind, subject, &schedule),
        })
        .collect())
}

fn notice_text(
    book: &RuleBook,
    kind: NoticeKind,
    subject: &NoticeSubject<'_>,
    schedule: &NoticeSchedule,
) -> NoticeText {
    let enterprise = subject.enterprise;
    let (task_zh, task_en) = (subject.deadline.label_zh(), subject.deadline.label_en());
    let (due_zh, due_en) = (chinese_date(subject.due_on), subject.due_on.to_string());
    let basis = citation_text(book, subject.rule);
    let days_late = (schedule.escalation_on - subject.due_on).num_days();
    match kind {
        NoticeKind::Reminder => NoticeText {
            zh: format!(
                "到期提醒：{enterprise}应于{due_zh}（含当日）前完成“{task_zh}”。依据：{}。",
                basis.zh
            ),
            en: format!(
                "Reminder: {enterprise} must complete \"{task_en}\" by {due_en} (that day \
                 included). Basis: {}.",
                basis.en
            ),
        },
        NoticeKind::Overdue => NoticeText {
            zh: format!(
                "逾期：{enterprise}“{task_zh}”的期限已于{due_zh}届满，尚未完成。依据：{}。",
                basis.zh
            ),
            en: format!(
                "Overdue: the deadline for {enterprise} to complete \"{task_en}\" ended on \
                 {due_en} and it is not done. Basis: {}.",
                basis.en
            ),
        },
        NoticeKind::Escalation => NoticeText {
            zh: format!(
                "逾期上报省级：{enterprise}“{task_zh}”已逾期{days_late}日（期限{due_zh}），\
                 仍未完成。依据：{}。",
                basis.zh
            ),
            en: format!(
                "Escalated to the province: {enterprise} is {days_late} days late to complete \
                 \"{task_en}\" (due {due_en}). Basis: {}.",
                basis.en
            ),
        },
    }
}

/// The rule's citations as a notice names them: document title and article, each marked when
/// it is not confirmed law (unverified, or a local practice or design default).
pub fn citation_text(book: &RuleBook, rule: &RuleRef) -> NoticeText {
    let cite = |citation: &RuleCitation, mark: &str| {
        let title = book
            .document(&citation.document)
            .map_or(citation.document.as_str(), |document| {
                document.title.as_str()
            });
        format!("{title} {}{mark}", citation.article)
    };
    let (zh, en): (Vec<String>, Vec<String>) = rule
        .citations
        .iter()
        .map(|citation| {
            let (mut mark_zh, mark_en) = confidence_mark(citation.confidence);
            // An article still to be found reads 条款未核实 already.
            if citation.article.contains("未核实") {
                mark_zh = "";
            }
            (cite(citation, mark_zh), cite(citation, mark_en))
        })
        .unzip();
    NoticeText {
        zh: zh.join("；"),
        en: en.join("; "),
    }
}

fn confidence_mark(confidence: Confidence) -> (&'static str, &'static str) {
    match confidence {
        Confidence::Verified => ("", ""),
        Confidence::PartlyVerified | Confidence::Unverified => ("（未核实）", " (unverified)"),
        Confidence::LocalPractice => ("（地方做法，非法定）", " (local practice, not law)"),
        Confidence::Design => ("（本系统默认，非法定）", " (system default, not law)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn an_assessment_passed_on_2027_06_30_must_be_followed_by_acceptance_by_2029_07_02() {
        // deadline.accept: two years (local practice); 2029-06-30 is a Saturday, so the last
        // day moves to Monday 2029-07-02 (民法典 Art. 203).
        let book = RuleBook::embedded();
        let calendar = HolidayCalendar::china();
        let accept = deadline_from(DeadlineKind::Accept, day(2027, 6, 30), &book, &calendar)
            .expect("rule in force");
        assert_eq!(accept.end.nominal, day(2029, 6, 30));
        assert_eq!(accept.end.effective, day(2029, 7, 2));
        assert_eq!(accept.rule.id, "deadline.accept");
    }

    #[test]
    fn a_rectification_asked_on_2027_03_31_is_due_by_2027_06_30() {
        // Three months from the 31st ends on the last day of June (民法典 Art. 202).
        let book = RuleBook::embedded();
        let rectify = deadline_from(
            DeadlineKind::Rectify,
            day(2027, 3, 31),
            &book,
            &HolidayCalendar::china(),
        )
        .unwrap();
        assert_eq!(rectify.end.nominal, day(2027, 6, 30));
    }

    #[test]
    fn reminder_a_week_before_overdue_the_day_after_escalation_thirty_days_later() {
        let book = RuleBook::embedded();
        let schedule = NoticeSchedule::for_due_date(&book, day(2027, 2, 15)).unwrap();
        assert_eq!(schedule.reminder_on, day(2027, 2, 8));
        assert_eq!(schedule.overdue_on, day(2027, 2, 16));
        assert_eq!(schedule.escalation_on, day(2027, 3, 17));
        assert!(schedule.due_by(day(2027, 2, 7)).is_empty());
        assert_eq!(schedule.due_by(day(2027, 2, 8)), vec![NoticeKind::Reminder]);
        assert_eq!(
            schedule.due_by(day(2027, 2, 15)),
            vec![NoticeKind::Reminder]
        );
        assert_eq!(schedule.due_by(day(2027, 2, 16)), vec![NoticeKind::Overdue]);
        assert_eq!(
            schedule.due_by(day(2027, 12, 31)),
            vec![NoticeKind::Overdue, NoticeKind::Escalation]
        );
    }

    fn disclose_rule(book: &RuleBook, on: NaiveDate) -> RuleRef {
        period_rule(book, DeadlineKind::Disclose.rule_id(), on)
            .expect("rule in force")
            .2
    }

    #[test]
    fn a_reminder_names_the_enterprise_the_obligation_the_last_day_and_the_article() {
        let book = RuleBook::embedded();
        let rule = disclose_rule(&book, day(2027, 1, 10));
        let subject = NoticeSubject {
            enterprise: "兰州甲化工有限公司",
            deadline: DeadlineKind::Disclose,
            due_on: day(2027, 2, 10),
            rule: &rule,
        };
        let due = due_notices(&book, &subject, day(2027, 2, 3)).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].kind, NoticeKind::Reminder);
        assert_eq!(due[0].falls_on, day(2027, 2, 3));
        let text = &due[0].text;
        assert!(text.zh.contains("兰州甲化工有限公司"), "{}", text.zh);
        assert!(text.zh.contains("2027年2月10日"), "{}", text.zh);
        assert!(text.zh.contains("信息公开"), "{}", text.zh);
        assert!(
            text.zh.contains("《清洁生产审核办法》 第十一条"),
            "{}",
            text.zh
        );
        assert!(text.en.contains("by 2027-02-10"), "{}", text.en);
        assert!(text.en.contains("Disclose information"), "{}", text.en);
    }

    #[test]
    fn an_escalation_says_how_late_and_the_overdue_notice_still_stands_beside_it() {
        let book = RuleBook::embedded();
        let rule = disclose_rule(&book, day(2027, 1, 10));
        let subject = NoticeSubject {
            enterprise: "甲公司",
            deadline: DeadlineKind::Disclose,
            due_on: day(2027, 2, 10),
            rule: &rule,
        };
        let due = due_notices(&book, &subject, day(2027, 3, 12)).unwrap();
        let kinds: Vec<NoticeKind> = due.iter().map(|notice| notice.kind).collect();
        assert_eq!(kinds, vec![NoticeKind::Overdue, NoticeKind::Escalation]);
        assert_eq!(due[0].falls_on, day(2027, 2, 11));
        assert_eq!(due[1].falls_on, day(2027, 3, 12));
        assert!(due[1].text.zh.contains("已逾期30日"), "{}", due[1].text.zh);
        assert!(
            due[1].text.en.contains("30 days late"),
            "{}",
            due[1].text.en
        );
    }

    #[test]
    fn a_citation_that_is_not_law_says_so() {
        // deadline.rectify is a design default of this system; deadline.start is only partly
        // verified. Neither may read as settled law.
        let book = RuleBook::embedded();
        let (_, _, rectify) =
            period_rule(&book, DeadlineKind::Rectify.rule_id(), day(2027, 3, 31)).unwrap();
        let text = citation_text(&book, &rectify);
        assert!(text.zh.contains("非法定"), "{}", text.zh);
        assert!(text.en.contains("not law"), "{}", text.en);
        let (_, _, start) =
            period_rule(&book, DeadlineKind::Start.rule_id(), day(2027, 1, 10)).unwrap();
        let text = citation_text(&book, &start);
        assert_eq!(text.zh.matches("未核实").count(), 2, "{}", text.zh);
        assert!(text.en.contains("(unverified)"), "{}", text.en);
    }

    #[test]
    fn overdue_items_climb_from_the_enterprise_to_the_city_to_the_province() {
        let readers = |kind: NoticeKind| {
            [
                NoticeReader::Enterprise,
                NoticeReader::Consultancy,
                NoticeReader::City,
                NoticeReader::Province,
            ]
            .map(|reader| kind.addressed_to(reader))
        };
        assert_eq!(readers(NoticeKind::Reminder), [true, true, false, false]);
        assert_eq!(readers(NoticeKind::Overdue), [true, true, true, false]);
        assert_eq!(readers(NoticeKind::Escalation), [true, false, true, true]);
    }

    #[test]
    fn the_scheduler_looks_a_week_ahead_for_reminders() {
        assert_eq!(longest_reminder_lead(&RuleBook::embedded()), Days::new(7));
    }

    #[test]
    fn each_deadline_is_met_by_its_own_action() {
        assert!(DeadlineKind::Disclose.is_met_by(RoundAction::Disclose));
        assert!(!DeadlineKind::Disclose.is_met_by(RoundAction::FileStart));
        assert!(DeadlineKind::Rectify.is_met_by(RoundAction::Resubmit));
        assert!(DeadlineKind::Accept.is_met_by(RoundAction::ApplyAcceptance));
        assert_eq!(
            DeadlineKind::started_by(RoundAction::Decide(ReviewConclusion::Pass)),
            Some(DeadlineKind::Accept)
        );
        assert_eq!(
            DeadlineKind::started_by(RoundAction::Decide(ReviewConclusion::Fail)),
            Some(DeadlineKind::Rectify)
        );
        assert_eq!(DeadlineKind::started_by(RoundAction::Close), None);
        for kind in DeadlineKind::ALL {
            assert_eq!(DeadlineKind::parse(kind.as_str()), Some(kind));
        }
    }
}
