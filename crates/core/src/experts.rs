//! The expert pool (清洁生产审核专家库): who may enter it, the life of a member, and the yearly
//! evaluation. The Gansu plan asks for "明确入库条件，集中考核，动态管理" (四、保障措施（三）) but
//! sets no numbers, so the entry conditions and the evaluation thresholds are rule book
//! parameters (`experts.entry.*`, `experts.evaluation.*`), and every decision carries the
//! [`RuleRef`]s it used.
//!
//! Pure: the rule book and the dates come in as parameters.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::registry::{FieldError, Message, MAX_NAME_CHARS, MAX_PERSON_CHARS};
use crate::rules::{RuleBook, RuleError, RuleRef, Unit};

// ---- the life of a pool member ------------------------------------------------------------------

/// Where an expert stands in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpertStatus {
    /// Applied; the entry conditions are being checked.
    Applied,
    /// In the pool: may be drawn for panels.
    Admitted,
    /// Temporarily not drawn (e.g. after a warning, or while a complaint is examined).
    Suspended,
    /// Out of the pool for good: removed, or the application was rejected. A person who applies
    /// again is a new application, so the history of the old one stays as it was.
    Removed,
}

impl ExpertStatus {
    pub const ALL: [ExpertStatus; 4] = [
        Self::Applied,
        Self::Admitted,
        Self::Suspended,
        Self::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Admitted => "admitted",
            Self::Suspended => "suspended",
            Self::Removed => "removed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Applied => "已申请待审核",
            Self::Admitted => "在库",
            Self::Suspended => "暂停抽取",
            Self::Removed => "已出库",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Applied => "Applied",
            Self::Admitted => "Admitted",
            Self::Suspended => "Suspended",
            Self::Removed => "Removed",
        }
    }

    /// Whether panel draws may pick the expert.
    pub fn drawable(self) -> bool {
        self == Self::Admitted
    }
}

/// What the province can do to a pool member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpertAction {
    /// 准予入库: the application meets the entry conditions.
    Admit,
    /// 不予入库.
    Reject,
    /// 暂停抽取.
    Suspend,
    /// 恢复抽取.
    Reinstate,
    /// 移出专家库.
    Remove,
}

impl ExpertAction {
    pub const ALL: [ExpertAction; 5] = [
        Self::Admit,
        Self::Reject,
        Self::Suspend,
        Self::Reinstate,
        Self::Remove,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admit => "admit",
            Self::Reject => "reject",
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
            Self::Remove => "remove",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Admit => "准予入库",
            Self::Reject => "不予入库",
            Self::Suspend => "暂停抽取",
            Self::Reinstate => "恢复抽取",
            Self::Remove => "移出专家库",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Admit => "admit",
            Self::Reject => "reject",
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
            Self::Remove => "remove",
        }
    }

    /// Every action that takes something from an expert, or gives back what was taken, must say
    /// why: the expert is told, and the decision can be reviewed. Admission follows from the
    /// entry check, which is its reason.
    pub fn needs_reason(self) -> bool {
        self != Self::Admit
    }
}

/// Why an action on a pool member was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpertTransitionError {
    #[error("an expert who is {from:?} cannot be {action:?}ed")]
    NotAllowed {
        from: ExpertStatus,
        action: ExpertAction,
    },
    #[error("a removed expert cannot be {action:?}ed; a new application is needed")]
    Final { action: ExpertAction },
    #[error("{action:?} needs a reason")]
    ReasonRequired { action: ExpertAction },
}

impl ExpertTransitionError {
    pub fn message_zh(&self) -> String {
        match self {
            Self::NotAllowed { from, action } => format!(
                "专家当前状态为“{}”，不能执行“{}”",
                from.label_zh(),
                action.label_zh()
            ),
            Self::Final { action } => format!(
                "专家已出库，不能执行“{}”；如需重新入库，须重新提交申请",
                action.label_zh()
            ),
            Self::ReasonRequired { action } => {
                format!("“{}”必须填写理由", action.label_zh())
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotAllowed { from, action } => format!(
                "an expert who is “{}” cannot be given the action “{}”",
                from.label_en(),
                action.label_en()
            ),
            Self::Final { action } => format!(
                "the expert has been removed and cannot be given the action “{}”; \
                 a new application is needed",
                action.label_en()
            ),
            Self::ReasonRequired { action } => {
                format!("“{}” needs a reason", action.label_en())
            }
        }
    }
}

/// The expert's next status after `action`, or why not. The one place that knows the pool's life
/// cycle; storage and web ask it.
pub fn expert_transition(
    from: ExpertStatus,
    action: ExpertAction,
    reason: &str,
) -> Result<ExpertStatus, ExpertTransitionError> {
    use ExpertAction as A;
    use ExpertStatus as S;
    let to = match (from, action) {
        (S::Removed, _) => return Err(ExpertTransitionError::Final { action }),
        (S::Applied, A::Admit) => S::Admitted,
        (S::Applied, A::Reject) => S::Removed,
        (S::Admitted, A::Suspend) => S::Suspended,
        (S::Suspended, A::Reinstate) => S::Admitted,
        (S::Admitted | S::Suspended, A::Remove) => S::Removed,
        _ => return Err(ExpertTransitionError::NotAllowed { from, action }),
    };
    if action.needs_reason() && reason.trim().is_empty() {
        return Err(ExpertTransitionError::ReasonRequired { action });
    }
    Ok(to)
}

/// Every allowed (from, action, to), in the order of [`ExpertStatus::ALL`] and
/// [`ExpertAction::ALL`]: for the rules page and the documentation, derived from
/// [`expert_transition`] so that it cannot drift from it.
pub fn transition_table() -> Vec<(ExpertStatus, ExpertAction, ExpertStatus)> {
    ExpertStatus::ALL
        .into_iter()
        .flat_map(|from| {
            ExpertAction::ALL.into_iter().filter_map(move |action| {
                let to = expert_transition(from, action, "reason").ok()?;
                Some((from, action, to))
            })
        })
        .collect()
}

// ---- entry conditions ---------------------------------------------------------------------------

/// Level of a professional title (专业技术职称), lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleLevel {
    /// 初级.
    Junior,
    /// 中级.
    Intermediate,
    /// 副高级.
    Senior,
    /// 正高级.
    FullSenior,
}

impl TitleLevel {
    pub const ALL: [TitleLevel; 4] = [
        Self::Junior,
        Self::Intermediate,
        Self::Senior,
        Self::FullSenior,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Junior => "junior",
            Self::Intermediate => "intermediate",
            Self::Senior => "senior",
            Self::FullSenior => "full_senior",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Junior => "初级",
            Self::Intermediate => "中级",
            Self::Senior => "副高级",
            Self::FullSenior => "正高级",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Junior => "junior",
            Self::Intermediate => "intermediate",
            Self::Senior => "senior (associate professor level)",
            Self::FullSenior => "full senior (professor level)",
        }
    }

    /// Accepts the stored id or the Chinese name.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|level| level.as_str() == text || level.label_zh() == text)
    }
}

/// An application to the pool, as the form or an import row gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpertApplication {
    pub name: String,
    /// 居民身份证号码 with the birth date masked, e.g. "620102********1234": the system needs to
    /// tell people apart, not to know their age.
    pub id_number_masked: String,
    /// 工作单位; empty for a retired or independent expert. Panel draws use it for conflicts.
    pub employer: String,
    /// The title as on the certificate, e.g. 高级工程师.
    pub title: String,
    /// `None` when the applicant holds no professional title.
    pub title_level: Option<TitleLevel>,
    /// Years worked in the field of the specialties applied for.
    pub years_experience: u32,
    /// Key industry ids (`KeyIndustry::id`) the applicant would review.
    pub specialties: Vec<String>,
}

/// The entry conditions in force on a date, with the rules they come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryRules {
    pub min_title_level: TitleLevel,
    pub title_rule: RuleRef,
    pub min_years_experience: u32,
    pub years_rule: RuleRef,
    /// Meeting one of the two conditions suffices; otherwise both are needed.
    pub either_suffices: bool,
    pub either_rule: RuleRef,
}

pub const MIN_TITLE_LEVEL: &str = "experts.entry.min_title_level";
pub const MIN_YEARS_EXPERIENCE: &str = "experts.entry.min_years_experience";
pub const EITHER_SUFFICES: &str = "experts.entry.either";

impl EntryRules {
    pub fn from_book(book: &RuleBook, date: NaiveDate) -> Result<Self, RuleError> {
        let (level, title_rule) = book.text_at(MIN_TITLE_LEVEL, date)?;
        let min_title_level = TitleLevel::parse(&level).ok_or_else(|| RuleError::WrongType {
            id: MIN_TITLE_LEVEL.to_string(),
            expected: "a title level (intermediate, senior or full_senior)",
            found: Unit::Text,
        })?;
        let (min_years_experience, years_rule) = non_negative_at(book, MIN_YEARS_EXPERIENCE, date)?;
        let (either_suffices, either_rule) = book.bool_at(EITHER_SUFFICES, date)?;
        Ok(Self {
            min_title_level,
            title_rule,
            min_years_experience,
            years_rule,
            either_suffices,
            either_rule,
        })
    }
}

/// An integer parameter that counts something, so it cannot be negative.
pub(crate) fn non_negative_at(
    book: &RuleBook,
    id: &str,
    date: NaiveDate,
) -> Result<(u32, RuleRef), RuleError> {
    let (value, rule) = book.integer_at(id, date)?;
    let value = u32::try_from(value).map_err(|_| RuleError::WrongType {
        id: id.to_string(),
        expected: "a non-negative count",
        found: Unit::Integer,
    })?;
    Ok((value, rule))
}

/// Every problem of an application at once, so a form can mark each field: the person's data,
/// the entry conditions of `rules`, and the specialties against the key industry ids `known`.
/// An empty result means the application may be admitted.
pub fn check_entry(
    application: &ExpertApplication,
    rules: &EntryRules,
    known_industries: &[String],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    errors.extend(check_text(
        "name",
        ("姓名", "Name"),
        &application.name,
        MAX_PERSON_CHARS,
        true,
    ));
    errors.extend(check_masked_id_number(&application.id_number_masked).err());
    errors.extend(check_text(
        "employer",
        ("工作单位", "Employer"),
        &application.employer,
        MAX_NAME_CHARS,
        false,
    ));
    errors.extend(check_title(application));
    errors.extend(check_conditions(application, rules));
    errors.extend(check_specialties(
        &application.specialties,
        known_industries,
    ));
    errors
}

fn check_text(
    field: &str,
    (label_zh, label_en): (&str, &str),
    value: &str,
    max_chars: usize,
    required: bool,
) -> Option<FieldError> {
    let value = value.trim();
    let length = value.chars().count();
    if required && value.is_empty() {
        return Some(required_error(field, label_zh, label_en));
    }
    (length > max_chars).then(|| {
        FieldError::new(
            field,
            "too_long",
            Message::new(
                format!("{label_zh}过长：{length} 个字符，最多 {max_chars} 个"),
                format!("{label_en} is too long: {length} characters, at most {max_chars}"),
            ),
        )
    })
}

fn required_error(field: &str, label_zh: &str, label_en: &str) -> FieldError {
    FieldError::new(
        field,
        "required",
        Message::new(
            format!("{label_zh}不能为空"),
            format!("{label_en} is required"),
        ),
    )
}

/// Checks a masked 居民身份证号码: 18 characters, the six-digit region code, the birth date
/// (characters 7–14) masked with '*', three digits of the sequence number and the check
/// character (a digit or X). The check character cannot be verified once the birth date is
/// masked; refusing an unmasked number keeps birth dates out of the database.
pub fn check_masked_id_number(text: &str) -> Result<(), FieldError> {
    let field = "id_number_masked";
    let chars: Vec<char> = text.trim().chars().collect();
    let error =
        |code, zh: String, en: String| Err(FieldError::new(field, code, Message::new(zh, en)));
    if chars.is_empty() {
        return Err(required_error(field, "身份证号码", "ID number"));
    }
    if chars.len() != 18 {
        return error(
            "wrong_length",
            format!("身份证号码应为18位，实际为{}位", chars.len()),
            format!("ID number must be 18 characters, found {}", chars.len()),
        );
    }
    if chars[6..14].iter().any(|c| *c != '*') {
        return error(
            "birth_date_not_masked",
            "身份证号码第7至14位（出生日期）须以*遮盖，例如 620102********1234".to_string(),
            "characters 7 to 14 of the ID number (the birth date) must be masked with '*', \
             e.g. 620102********1234"
                .to_string(),
        );
    }
    if !chars[..6]
        .iter()
        .chain(&chars[14..17])
        .all(char::is_ascii_digit)
    {
        return error(
            "invalid_character",
            "身份证号码第1至6位和第15至17位须为数字".to_string(),
            "characters 1 to 6 and 15 to 17 of the ID number must be digits".to_string(),
        );
    }
    if !(chars[17].is_ascii_digit() || chars[17] == 'X' || chars[17] == 'x') {
        return error(
            "invalid_check_character",
            format!("身份证号码最后一位须为数字或X，实际为“{}”", chars[17]),
            format!(
                "the last character of the ID number must be a digit or X, found \"{}\"",
                chars[17]
            ),
        );
    }
    Ok(())
}

/// A title level needs the title it belongs to, so that the certificate can be checked.
fn check_title(application: &ExpertApplication) -> Option<FieldError> {
    check_text(
        "title",
        ("职称名称", "Title"),
        &application.title,
        MAX_PERSON_CHARS,
        application.title_level.is_some(),
    )
}

fn check_conditions(application: &ExpertApplication, rules: &EntryRules) -> Vec<FieldError> {
    let title_met = application
        .title_level
        .is_some_and(|level| level >= rules.min_title_level);
    let years_met = application.years_experience >= rules.min_years_experience;
    let admissible = if rules.either_suffices {
        title_met || years_met
    } else {
        title_met && years_met
    };
    if admissible {
        return Vec::new();
    }
    let (alternative_zh, alternative_en) = if rules.either_suffices {
        (
            "（职称与从业年限满足其一即可）",
            " (meeting either condition suffices)",
        )
    } else {
        ("", "")
    };
    let mut errors = Vec::new();
    if !title_met {
        let level = rules.min_title_level;
        errors.push(FieldError::new(
            "title_level",
            "title_below_entry_level",
            Message::new(
                format!(
                    "入库条件：须具有{}及以上专业技术职称{alternative_zh}",
                    level.label_zh()
                ),
                format!(
                    "entry condition: a professional title of level {} or above{alternative_en}",
                    level.label_en()
                ),
            ),
        ));
    }
    if !years_met {
        let min = rules.min_years_experience;
        let years = application.years_experience;
        errors.push(FieldError::new(
            "years_experience",
            "experience_below_entry_years",
            Message::new(
                format!("入库条件：相关专业从业年限须满{min}年，实际为{years}年{alternative_zh}"),
                format!(
                    "entry condition: at least {min} years in the field, \
                     found {years}{alternative_en}"
                ),
            ),
        ));
    }
    errors
}

fn check_specialties(specialties: &[String], known: &[String]) -> Vec<FieldError> {
    if specialties.is_empty() {
        return vec![FieldError::new(
            "specialties",
            "required",
            Message::new(
                "至少选择一个专业领域（重点行业）",
                "choose at least one specialty (key industry)",
            ),
        )];
    }
    let mut errors = Vec::new();
    for (index, specialty) in specialties.iter().enumerate() {
        if !known.contains(specialty) {
            errors.push(FieldError::new(
                "specialties",
                "unknown_specialty",
                Message::new(
                    format!("未知的专业领域“{specialty}”，应为重点行业之一"),
                    format!("unknown specialty \"{specialty}\": not a key industry"),
                ),
            ));
        } else if specialties[..index].contains(specialty) {
            errors.push(FieldError::new(
                "specialties",
                "duplicate_specialty",
                Message::new(
                    format!("专业领域“{specialty}”重复"),
                    format!("specialty \"{specialty}\" is given twice"),
                ),
            ));
        }
    }
    errors
}

// ---- yearly evaluation (集中考核) ---------------------------------------------------------------

/// A rating of one review by its organiser, 1 (poor) to 5 (excellent) points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 5;

    pub fn new(points: u8) -> Option<Self> {
        (Self::MIN..=Self::MAX)
            .contains(&points)
            .then_some(Self(points))
    }

    pub fn points(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = String;

    fn try_from(points: u8) -> Result<Self, Self::Error> {
        Self::new(points).ok_or_else(|| {
            format!(
                "a rating is {} to {} points, found {points}",
                Self::MIN,
                Self::MAX
            )
        })
    }
}

impl From<Rating> for u8 {
    fn from(rating: Rating) -> Self {
        rating.0
    }
}

/// One review an expert was drawn for, as the organiser recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecord {
    pub expert_id: String,
    /// The year the review took place in, which is the year it is evaluated in.
    pub year: i32,
    /// `None` when the organiser gave no rating (e.g. the expert declined).
    pub rating: Option<Rating>,
    /// The opinion or score sheet came in after its deadline.
    pub late: bool,
    /// The expert declined the draw without a declared conflict.
    pub declined: bool,
    /// A conflict of interest the expert had not declared came to light after the review.
    pub conflict_found_later: bool,
}

/// What the evaluation proposes to the province, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proposal {
    Keep,
    Warn,
    Remove,
}

impl Proposal {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Keep => "继续留库",
            Self::Warn => "提醒警示",
            Self::Remove => "建议出库",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Warn => "warn",
            Self::Remove => "propose removal",
        }
    }
}

/// The evaluation thresholds in force on a date, with their rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationRules {
    /// An average rating below this many tenths of a point proposes a warning.
    pub warn_below_tenths: u32,
    pub warn_rule: RuleRef,
    /// An average rating below this many tenths of a point proposes removal.
    pub remove_below_tenths: u32,
    pub remove_rule: RuleRef,
    /// More late reviews than this in the year propose a warning.
    pub max_late: u32,
    pub late_rule: RuleRef,
    /// More declined draws than this in the year propose a warning.
    pub max_declined: u32,
    pub declined_rule: RuleRef,
    /// An undeclared conflict found later proposes removal.
    pub remove_on_conflict: bool,
    pub conflict_rule: RuleRef,
}

impl EvaluationRules {
    pub fn from_book(book: &RuleBook, date: NaiveDate) -> Result<Self, RuleError> {
        let (warn_below_tenths, warn_rule) =
            non_negative_at(book, "experts.evaluation.warn_below_rating_tenths", date)?;
        let (remove_below_tenths, remove_rule) =
            non_negative_at(book, "experts.evaluation.remove_below_rating_tenths", date)?;
        let (max_late, late_rule) = non_negative_at(book, "experts.evaluation.max_late", date)?;
        let (max_declined, declined_rule) =
            non_negative_at(book, "experts.evaluation.max_declined", date)?;
        let (remove_on_conflict, conflict_rule) =
            book.bool_at("experts.evaluation.remove_on_conflict", date)?;
        Ok(Self {
            warn_below_tenths,
            warn_rule,
            remove_below_tenths,
            remove_rule,
            max_late,
            late_rule,
            max_declined,
            declined_rule,
            remove_on_conflict,
            conflict_rule,
        })
    }
}

/// One finding of an evaluation and the rule that turns it into a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationReason {
    pub proposal: Proposal,
    pub message: Message,
    pub rule: RuleRef,
}

/// An expert's yearly evaluation: the figures, the proposal and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub expert_id: String,
    pub year: i32,
    /// Reviews the expert was drawn for in the year, declined ones included.
    pub count: u32,
    /// Of those, the ones the organiser rated.
    pub rated_count: u32,
    /// `None` when no review was rated.
    pub average_rating: Option<f64>,
    pub late_count: u32,
    pub declined_count: u32,
    pub conflict_count: u32,
    /// The strictest proposal among the reasons; `Keep` when there is none.
    pub proposal: Proposal,
    pub reasons: Vec<EvaluationReason>,
}

/// The counts of one expert's records of one year. Ratings are summed as integers so that a
/// threshold is compared exactly: an average of exactly 3.0 is not below 3.0.
#[derive(Debug, Default)]
struct Tally {
    count: u32,
    rated_count: u32,
    rating_sum: u32,
    late_count: u32,
    declined_count: u32,
    conflict_count: u32,
}

impl Tally {
    fn of(expert_id: &str, year: i32, records: &[ReviewRecord]) -> Self {
        let mut tally = Self::default();
        let mine = records
            .iter()
            .filter(|record| record.expert_id == expert_id && record.year == year);
        for record in mine {
            tally.count += 1;
            if let Some(rating) = record.rating {
                tally.rated_count += 1;
                tally.rating_sum += u32::from(rating.points());
            }
            tally.late_count += u32::from(record.late);
            tally.declined_count += u32::from(record.declined);
            tally.conflict_count += u32::from(record.conflict_found_later);
        }
        tally
    }

    fn average(&self) -> Option<f64> {
        (self.rated_count > 0).then(|| f64::from(self.rating_sum) / f64::from(self.rated_count))
    }

    /// Whether the average rating is below `tenths` tenths of a point.
    fn average_below(&self, tenths: u32) -> bool {
        self.rated_count > 0
            && u64::from(self.rating_sum) * 10 < u64::from(tenths) * u64::from(self.rated_count)
    }
}

/// Evaluates one expert's year from the review records (records of other experts and years are
/// ignored, so the whole year's records may be passed). The result is a proposal: the province
/// decides, and acts through [`expert_transition`].
pub fn evaluate(
    expert_id: &str,
    year: i32,
    records: &[ReviewRecord],
    rules: &EvaluationRules,
) -> Evaluation {
    let tally = Tally::of(expert_id, year, records);
    let reasons: Vec<EvaluationReason> = [
        rating_reason(&tally, rules),
        late_reason(&tally, rules),
        declined_reason(&tally, rules),
        conflict_reason(&tally, rules),
    ]
    .into_iter()
    .flatten()
    .collect();
    let proposal = reasons
        .iter()
        .map(|reason| reason.proposal)
        .max()
        .unwrap_or(Proposal::Keep);
    Evaluation {
        expert_id: expert_id.to_string(),
        year,
        count: tally.count,
        rated_count: tally.rated_count,
        average_rating: tally.average(),
        late_count: tally.late_count,
        declined_count: tally.declined_count,
        conflict_count: tally.conflict_count,
        proposal,
        reasons,
    }
}

/// "3.0" for 30 tenths.
fn points_text(tenths: u32) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn rating_reason(tally: &Tally, rules: &EvaluationRules) -> Option<EvaluationReason> {
    let (proposal, tenths, rule) = if tally.average_below(rules.remove_below_tenths) {
        (
            Proposal::Remove,
            rules.remove_below_tenths,
            &rules.remove_rule,
        )
    } else if tally.average_below(rules.warn_below_tenths) {
        (Proposal::Warn, rules.warn_below_tenths, &rules.warn_rule)
    } else {
        return None;
    };
    let average = tally.average().unwrap_or_default();
    let line = points_text(tenths);
    let rated = tally.rated_count;
    Some(EvaluationReason {
        proposal,
        message: Message::new(
            format!("年度平均评分{average:.2}分（{rated}次评分），低于{line}分"),
            format!("average rating {average:.2} over {rated} rated reviews is below {line}"),
        ),
        rule: rule.clone(),
    })
}

fn late_reason(tally: &Tally, rules: &EvaluationRules) -> Option<EvaluationReason> {
    let (late, max) = (tally.late_count, rules.max_late);
    (late > max).then(|| EvaluationReason {
        proposal: Proposal::Warn,
        message: Message::new(
            format!("年度逾期提交评审意见{late}次，超过{max}次"),
            format!("{late} reviews submitted late in the year, more than {max}"),
        ),
        rule: rules.late_rule.clone(),
    })
}

fn declined_reason(tally: &Tally, rules: &EvaluationRules) -> Option<EvaluationReason> {
    let (declined, max) = (tally.declined_count, rules.max_declined);
    (declined > max).then(|| EvaluationReason {
        proposal: Proposal::Warn,
        message: Message::new(
            format!("年度无故不参加评审{declined}次，超过{max}次"),
            format!("{declined} draws declined in the year, more than {max}"),
        ),
        rule: rules.declined_rule.clone(),
    })
}

fn conflict_reason(tally: &Tally, rules: &EvaluationRules) -> Option<EvaluationReason> {
    let conflicts = tally.conflict_count;
    (rules.remove_on_conflict && conflicts > 0).then(|| EvaluationReason {
        proposal: Proposal::Remove,
        message: Message::new(
            format!("事后发现{conflicts}次未主动申报回避的利益冲突"),
            format!("{conflicts} undeclared conflicts of interest found after the review"),
        ),
        rule: rules.conflict_rule.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    // ---- transitions ----------------------------------------------------------------------------

    #[test]
    fn every_status_and_action_pair_is_allowed_or_refused_as_designed() {
        use ExpertAction as A;
        use ExpertStatus as S;
        let allowed = [
            (S::Applied, A::Admit, S::Admitted),
            (S::Applied, A::Reject, S::Removed),
            (S::Admitted, A::Suspend, S::Suspended),
            (S::Admitted, A::Remove, S::Removed),
            (S::Suspended, A::Reinstate, S::Admitted),
            (S::Suspended, A::Remove, S::Removed),
        ];
        for from in S::ALL {
            for action in A::ALL {
                let result = expert_transition(from, action, "年度考核结果");
                match allowed.iter().find(|(f, a, _)| (*f, *a) == (from, action)) {
                    Some((_, _, to)) => assert_eq!(result, Ok(*to), "{from:?} {action:?}"),
                    None if from == S::Removed => assert_eq!(
                        result,
                        Err(ExpertTransitionError::Final { action }),
                        "{action:?}"
                    ),
                    None => assert_eq!(
                        result,
                        Err(ExpertTransitionError::NotAllowed { from, action }),
                        "{from:?} {action:?}"
                    ),
                }
            }
        }
        assert_eq!(transition_table(), allowed.to_vec());
    }

    #[test]
    fn every_action_but_admission_needs_a_reason() {
        use ExpertAction as A;
        use ExpertStatus as S;
        assert_eq!(expert_transition(S::Applied, A::Admit, ""), Ok(S::Admitted));
        for (from, action) in [
            (S::Applied, A::Reject),
            (S::Admitted, A::Suspend),
            (S::Suspended, A::Reinstate),
            (S::Admitted, A::Remove),
            (S::Suspended, A::Remove),
        ] {
            assert_eq!(
                expert_transition(from, action, "  "),
                Err(ExpertTransitionError::ReasonRequired { action }),
                "{from:?} {action:?}"
            );
        }
        // A refused transition reports the refusal, not the missing reason.
        assert!(matches!(
            expert_transition(S::Removed, A::Reinstate, ""),
            Err(ExpertTransitionError::Final { .. })
        ));
    }

    #[test]
    fn refusals_explain_themselves_in_both_languages() {
        let final_error = ExpertTransitionError::Final {
            action: ExpertAction::Reinstate,
        };
        assert!(final_error.message_zh().contains("重新提交申请"));
        assert!(final_error.message_en().contains("new application"));
        let not_allowed = ExpertTransitionError::NotAllowed {
            from: ExpertStatus::Applied,
            action: ExpertAction::Suspend,
        };
        assert_eq!(
            not_allowed.message_zh(),
            "专家当前状态为“已申请待审核”，不能执行“暂停抽取”"
        );
        let missing = ExpertTransitionError::ReasonRequired {
            action: ExpertAction::Remove,
        };
        assert_eq!(missing.message_zh(), "“移出专家库”必须填写理由");
    }

    #[test]
    fn statuses_and_actions_round_trip_through_their_ids() {
        for status in ExpertStatus::ALL {
            assert_eq!(ExpertStatus::parse(status.as_str()), Some(status));
        }
        for action in ExpertAction::ALL {
            assert_eq!(ExpertAction::parse(action.as_str()), Some(action));
        }
        for level in TitleLevel::ALL {
            assert_eq!(TitleLevel::parse(level.as_str()), Some(level));
            assert_eq!(TitleLevel::parse(level.label_zh()), Some(level));
        }
        assert!(ExpertStatus::Admitted.drawable());
        assert!(!ExpertStatus::Suspended.drawable());
    }

    // ---- entry ----------------------------------------------------------------------------------

    fn known() -> Vec<String> {
        ["energy", "chemical", "metallurgy"]
            .map(String::from)
            .to_vec()
    }

    fn application() -> ExpertApplication {
        ExpertApplication {
            name: "王建国".to_string(),
            id_number_masked: "620102********123X".to_string(),
            employer: "甘肃省环境科学设计研究院".to_string(),
            title: "高级工程师".to_string(),
            title_level: Some(TitleLevel::Senior),
            years_experience: 12,
            specialties: vec!["energy".to_string(), "chemical".to_string()],
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|error| (error.field.as_str(), error.code))
            .collect()
    }

    #[test]
    fn entry_rules_come_from_the_embedded_book_with_their_citations() {
        let rules = EntryRules::from_book(&RuleBook::embedded(), day(2024, 3, 1)).unwrap();
        assert_eq!(rules.min_title_level, TitleLevel::Senior);
        assert_eq!(rules.min_years_experience, 10);
        assert!(!rules.either_suffices);
        for rule in [&rules.title_rule, &rules.years_rule, &rules.either_rule] {
            assert!(rule.id.starts_with("experts.entry."));
            assert_eq!(rule.citations[0].document, "gansu-plan-2021");
            assert!(!rule.needs_verification(), "design values are not law");
        }
        assert!(matches!(
            EntryRules::from_book(&RuleBook::embedded(), day(2021, 12, 7)),
            Err(RuleError::NotInForce { .. })
        ));
    }

    #[test]
    fn a_senior_engineer_with_twelve_years_is_admissible() {
        let rules = EntryRules::from_book(&RuleBook::embedded(), day(2024, 3, 1)).unwrap();
        assert_eq!(check_entry(&application(), &rules, &known()), Vec::new());
    }

    #[test]
    fn both_conditions_are_needed_unless_either_suffices() {
        let mut rules = EntryRules::from_book(&RuleBook::embedded(), day(2024, 3, 1)).unwrap();
        let intermediate = ExpertApplication {
            title_level: Some(TitleLevel::Intermediate),
            ..application()
        };
        let junior_of_nine_years = ExpertApplication {
            title_level: None,
            title: String::new(),
            years_experience: 9,
            ..application()
        };
        let exactly_ten = ExpertApplication {
            years_experience: 10,
            ..application()
        };
        assert_eq!(
            codes(&check_entry(&intermediate, &rules, &known())),
            [("title_level", "title_below_entry_level")]
        );
        assert_eq!(
            codes(&check_entry(&junior_of_nine_years, &rules, &known())),
            [
                ("title_level", "title_below_entry_level"),
                ("years_experience", "experience_below_entry_years")
            ]
        );
        assert!(check_entry(&exactly_ten, &rules, &known()).is_empty());

        rules.either_suffices = true;
        assert!(check_entry(&intermediate, &rules, &known()).is_empty());
        let errors = check_entry(&junior_of_nine_years, &rules, &known());
        assert_eq!(errors.len(), 2);
        assert!(errors[0].message.zh.contains("满足其一即可"));
        assert!(errors[1].message.zh.contains("须满10年，实际为9年"));
    }

    #[test]
    fn a_title_level_needs_the_title_it_belongs_to() {
        let rules = EntryRules::from_book(&RuleBook::embedded(), day(2024, 3, 1)).unwrap();
        let untitled = ExpertApplication {
            title: " ".to_string(),
            ..application()
        };
        assert_eq!(
            codes(&check_entry(&untitled, &rules, &known())),
            [("title", "required")]
        );
    }

    #[test]
    fn the_id_number_must_be_masked_and_well_formed() {
        let code = |text: &str| check_masked_id_number(text).err().map(|error| error.code);
        assert_eq!(code("620102********1234"), None);
        assert_eq!(code("620102********123X"), None);
        assert_eq!(code("620102********123x"), None);
        assert_eq!(code(""), Some("required"));
        assert_eq!(code("620102********123"), Some("wrong_length"));
        assert_eq!(code("62010219800101123X"), Some("birth_date_not_masked"));
        assert_eq!(code("620102****0101123X"), Some("birth_date_not_masked"));
        assert_eq!(code("62A102********123X"), Some("invalid_character"));
        assert_eq!(code("620102*********23X"), Some("invalid_character"));
        assert_eq!(code("620102********1*3X"), Some("invalid_character"));
        assert_eq!(code("620102********123Y"), Some("invalid_check_character"));
    }

    #[test]
    fn specialties_must_be_known_key_industries_given_once() {
        let rules = EntryRules::from_book(&RuleBook::embedded(), day(2024, 3, 1)).unwrap();
        let none = ExpertApplication {
            specialties: Vec::new(),
            ..application()
        };
        assert_eq!(
            codes(&check_entry(&none, &rules, &known())),
            [("specialties", "required")]
        );
        let odd = ExpertApplication {
            specialties: ["energy", "mining", "energy"].map(String::from).to_vec(),
            ..application()
        };
        assert_eq!(
            codes(&check_entry(&odd, &rules, &known())),
            [
                ("specialties", "unknown_specialty"),
                ("specialties", "duplicate_specialty")
            ]
        );
    }

    #[test]
    fn every_field_problem_is_reported_at_once() {
        let rules = EntryRules::from_book(&RuleBook::embedded(), day(2024, 3, 1)).unwrap();
        let bad = ExpertApplication {
            name: String::new(),
            id_number_masked: "62010219800101123X".to_string(),
            employer: "单".repeat(MAX_NAME_CHARS + 1),
            years_experience: 3,
            specialties: Vec::new(),
            ..application()
        };
        assert_eq!(
            codes(&check_entry(&bad, &rules, &known())),
            [
                ("name", "required"),
                ("id_number_masked", "birth_date_not_masked"),
                ("employer", "too_long"),
                ("years_experience", "experience_below_entry_years"),
                ("specialties", "required"),
            ]
        );
    }

    // ---- evaluation -----------------------------------------------------------------------------

    fn rules() -> EvaluationRules {
        EvaluationRules::from_book(&RuleBook::embedded(), day(2024, 12, 31)).unwrap()
    }

    fn rated(points: &[u8]) -> Vec<ReviewRecord> {
        points
            .iter()
            .map(|points| ReviewRecord {
                expert_id: "E1".to_string(),
                year: 2024,
                rating: Rating::new(*points),
                late: false,
                declined: false,
                conflict_found_later: false,
            })
            .collect()
    }

    #[test]
    fn evaluation_thresholds_come_from_the_embedded_book() {
        let rules = rules();
        assert_eq!(rules.warn_below_tenths, 30);
        assert_eq!(rules.remove_below_tenths, 20);
        assert_eq!(rules.max_late, 2);
        assert_eq!(rules.max_declined, 3);
        assert!(rules.remove_on_conflict);
        assert_eq!(rules.warn_rule.value, "30");
    }

    #[test]
    fn ratings_are_one_to_five_points() {
        assert_eq!(Rating::new(0), None);
        assert_eq!(Rating::new(6), None);
        assert_eq!(Rating::new(5).map(Rating::points), Some(5));
        assert!(serde_json::from_str::<Rating>("7").is_err());
        assert_eq!(serde_json::from_str::<Rating>("4").unwrap().points(), 4);
    }

    #[test]
    fn an_average_of_exactly_three_keeps_and_just_below_warns() {
        let exactly = evaluate("E1", 2024, &rated(&[3, 3, 3]), &rules());
        assert_eq!(exactly.average_rating, Some(3.0));
        assert_eq!(exactly.proposal, Proposal::Keep);
        assert!(exactly.reasons.is_empty());

        // 8 / 3 = 2.67: below 3.0, not below 2.0.
        let below = evaluate("E1", 2024, &rated(&[3, 3, 2]), &rules());
        assert_eq!(below.proposal, Proposal::Warn);
        assert_eq!(
            below.reasons[0].rule.id,
            "experts.evaluation.warn_below_rating_tenths"
        );
        assert!(below.reasons[0].message.zh.contains("低于3.0分"));
    }

    #[test]
    fn an_average_of_exactly_two_warns_and_just_below_proposes_removal() {
        let exactly = evaluate("E1", 2024, &rated(&[2, 2]), &rules());
        assert_eq!(exactly.proposal, Proposal::Warn);
        let below = evaluate("E1", 2024, &rated(&[2, 2, 1]), &rules());
        assert_eq!(below.proposal, Proposal::Remove);
        assert_eq!(
            below.reasons.len(),
            1,
            "the removal line replaces the warning"
        );
        assert_eq!(
            below.reasons[0].rule.id,
            "experts.evaluation.remove_below_rating_tenths"
        );
    }

    #[test]
    fn two_late_reviews_are_tolerated_and_a_third_warns() {
        let mut records = rated(&[5, 5, 5]);
        records[0].late = true;
        records[1].late = true;
        assert_eq!(
            evaluate("E1", 2024, &records, &rules()).proposal,
            Proposal::Keep
        );
        records[2].late = true;
        let evaluation = evaluate("E1", 2024, &records, &rules());
        assert_eq!(evaluation.late_count, 3);
        assert_eq!(evaluation.proposal, Proposal::Warn);
        assert_eq!(evaluation.reasons[0].rule.id, "experts.evaluation.max_late");
    }

    #[test]
    fn three_declined_draws_are_tolerated_and_a_fourth_warns() {
        let mut records = rated(&[4]);
        let declined = ReviewRecord {
            rating: None,
            declined: true,
            ..records[0].clone()
        };
        records.extend([declined.clone(), declined.clone(), declined.clone()]);
        let three = evaluate("E1", 2024, &records, &rules());
        assert_eq!((three.count, three.rated_count), (4, 1));
        assert_eq!(three.declined_count, 3);
        assert_eq!(three.proposal, Proposal::Keep);
        records.push(declined);
        let four = evaluate("E1", 2024, &records, &rules());
        assert_eq!(four.proposal, Proposal::Warn);
        assert!(four.reasons[0].message.en.contains("4 draws declined"));
    }

    #[test]
    fn a_conflict_found_later_proposes_removal_whatever_the_ratings() {
        let mut records = rated(&[5, 5]);
        records[1].conflict_found_later = true;
        let evaluation = evaluate("E1", 2024, &records, &rules());
        assert_eq!(evaluation.proposal, Proposal::Remove);
        assert_eq!(
            evaluation.reasons[0].rule.id,
            "experts.evaluation.remove_on_conflict"
        );
        let lenient = EvaluationRules {
            remove_on_conflict: false,
            ..rules()
        };
        assert_eq!(
            evaluate("E1", 2024, &records, &lenient).proposal,
            Proposal::Keep
        );
    }

    #[test]
    fn only_the_experts_own_year_counts_and_an_empty_year_keeps() {
        let mut records = rated(&[1, 1]);
        records[0].expert_id = "E2".to_string();
        records[1].year = 2023;
        let evaluation = evaluate("E1", 2024, &records, &rules());
        assert_eq!(evaluation.count, 0);
        assert_eq!(evaluation.average_rating, None);
        assert_eq!(evaluation.proposal, Proposal::Keep);
        assert_eq!(
            evaluate("E2", 2024, &records, &rules()).proposal,
            Proposal::Remove
        );
    }

    #[test]
    fn several_findings_give_the_strictest_proposal_and_every_reason() {
        let mut records = rated(&[2, 3, 3]);
        for record in &mut records {
            record.late = true;
        }
        let evaluation = evaluate("E1", 2024, &records, &rules());
        assert_eq!(evaluation.proposal, Proposal::Warn);
        assert_eq!(evaluation.reasons.len(), 2);
        records[0].conflict_found_later = true;
        let evaluation = evaluate("E1", 2024, &records, &rules());
        assert_eq!(evaluation.proposal, Proposal::Remove);
        assert_eq!(evaluation.reasons.len(), 3);
    }
}
