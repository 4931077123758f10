//! Consultancies (咨询服务机构): the four conditions of Measures Art. 16, an outcome scorecard,
//! and sanctions with their publication and the refusal the Gansu plan orders (四、保障措施（四）:
//! "在未满足规定的要求前，各级生态环境部门不得再受理其清洁生产相关业务").
//!
//! There is no licence to check (domain reference §12): a consultancy shows evidence for each
//! condition, and a blacklisting ends only when fresh evidence meets all four again.
//!
//! Pure: the rule book and the dates come in as parameters.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::experts::non_negative_at;
use crate::listing::chinese_date;
use crate::registry::Message;
use crate::rules::{RuleBook, RuleError, RuleRef};
use crate::CreditCode;

// ---- Art. 16 evidence ---------------------------------------------------------------------------

/// An uploaded file that evidences something, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub title: String,
    /// SHA-256 of the content, hex: uploads are stored by content hash.
    pub content_hash: String,
}

/// A member of a consultancy's technical staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub name: String,
    /// Employment, title or training certificate; a name alone proves nothing.
    pub evidence: Option<EvidenceFile>,
    /// Cleaner production audit rounds the person has consulted on.
    pub audit_rounds: u32,
}

/// What a consultancy submits to show that it meets Measures Art. 16.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Art16Evidence {
    /// The day the set was submitted: lifting a sanction needs a set from after it started.
    pub submitted_on: NaiveDate,
    /// 统一社会信用代码, as entered.
    pub legal_person_credit_code: String,
    /// The quality assurance system and management rules (质量保证体系和管理制度).
    pub quality_system: Option<EvidenceFile>,
    /// Instruments and equipment for material, energy and water balance tests.
    pub instruments: Vec<String>,
    /// Staff who know the industries' processes and the energy, water and pollution rules.
    pub industry_staff: Vec<Staff>,
    /// Staff who master the audit method and have consulted on audits.
    pub audit_staff: Vec<Staff>,
}

impl Art16Evidence {
    /// Nothing on file: every condition unmet.
    pub fn empty(submitted_on: NaiveDate) -> Self {
        Self {
            submitted_on,
            legal_person_credit_code: String::new(),
            quality_system: None,
            instruments: Vec::new(),
            industry_staff: Vec::new(),
            audit_staff: Vec::new(),
        }
    }
}

/// The four conditions of Measures Art. 16, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Art16Condition {
    LegalPersonAndQuality,
    Instruments,
    IndustryStaff,
    AuditStaff,
}

impl Art16Condition {
    pub const ALL: [Art16Condition; 4] = [
        Self::LegalPersonAndQuality,
        Self::Instruments,
        Self::IndustryStaff,
        Self::AuditStaff,
    ];

    pub fn number(self) -> &'static str {
        match self {
            Self::LegalPersonAndQuality => "①",
            Self::Instruments => "②",
            Self::IndustryStaff => "③",
            Self::AuditStaff => "④",
        }
    }

    /// The condition as the Measures word it (domain reference §12, verified).
    pub fn text_zh(self) -> &'static str {
        match self {
            Self::LegalPersonAndQuality => {
                "具有独立法人资格，具备为企业清洁生产审核提供公平、公正和高效率服务的质量保证体系和管理制度"
            }
            Self::Instruments => {
                "具备开展清洁生产审核物料平衡测试、能量和水平衡测试的基本检测分析器具、设备或手段"
            }
            Self::IndustryStaff => {
                "有熟悉相关行业生产工艺、技术规程和节能、节水、污染防治管理要求的技术人员"
            }
            Self::AuditStaff => "拥有掌握清洁生产审核方法并具有清洁生产审核咨询经验的技术人员",
        }
    }

    pub fn text_en(self) -> &'static str {
        match self {
            Self::LegalPersonAndQuality => {
                "an independent legal person with a quality assurance system and management rules \
                 for fair, impartial and efficient audit services"
            }
            Self::Instruments => {
                "basic instruments, equipment or means for material, energy and water balance tests"
            }
            Self::IndustryStaff => {
                "technical staff who know the industry's processes, technical rules and energy, \
                 water and pollution control requirements"
            }
            Self::AuditStaff => {
                "technical staff who master the audit method and have audit consulting experience"
            }
        }
    }
}

/// One unmet condition of Art. 16 and what is missing for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Art16Gap {
    pub condition: Art16Condition,
    /// "①", "②", …
    pub number: &'static str,
    /// The condition's wording in the Measures.
    pub condition_zh: &'static str,
    pub shortfalls: Vec<Message>,
}

impl Art16Gap {
    /// One line for a page or a letter: the condition, quoted, and what is missing.
    pub fn message(&self) -> Message {
        let (zh, en): (Vec<&str>, Vec<&str>) = self
            .shortfalls
            .iter()
            .map(|shortfall| (shortfall.zh.as_str(), shortfall.en.as_str()))
            .unzip();
        Message::new(
            format!(
                "不满足《清洁生产审核办法》第十六条第{}项“{}”：{}",
                self.number,
                self.condition_zh,
                zh.join("；")
            ),
            format!(
                "Measures Art. 16 condition {} ({}) is not met: {}",
                self.number,
                self.condition.text_en(),
                en.join("; ")
            ),
        )
    }
}

/// Every unmet condition of Art. 16, in the article's order; empty when the evidence is complete.
pub fn art16_check(evidence: &Art16Evidence) -> Vec<Art16Gap> {
    [
        (
            Art16Condition::LegalPersonAndQuality,
            legal_person_shortfalls(evidence),
        ),
        (
            Art16Condition::Instruments,
            instrument_shortfalls(&evidence.instruments),
        ),
        (
            Art16Condition::IndustryStaff,
            staff_shortfalls(&evidence.industry_staff, false),
        ),
        (
            Art16Condition::AuditStaff,
            staff_shortfalls(&evidence.audit_staff, true),
        ),
    ]
    .into_iter()
    .filter(|(_, shortfalls)| !shortfalls.is_empty())
    .map(|(condition, shortfalls)| Art16Gap {
        condition,
        number: condition.number(),
        condition_zh: condition.text_zh(),
        shortfalls,
    })
    .collect()
}

fn legal_person_shortfalls(evidence: &Art16Evidence) -> Vec<Message> {
    let mut shortfalls = Vec::new();
    if let Err(error) = CreditCode::parse(&evidence.legal_person_credit_code) {
        shortfalls.push(error.to_field_error("legal_person_credit_code").message);
    }
    if evidence.quality_system.is_none() {
        shortfalls.push(Message::new(
            "未提供质量保证体系和管理制度文件",
            "no quality assurance system or management rules were provided",
        ));
    }
    shortfalls
}

fn instrument_shortfalls(instruments: &[String]) -> Vec<Message> {
    if instruments.iter().any(|item| !item.trim().is_empty()) {
        return Vec::new();
    }
    vec![Message::new(
        "未列出物料平衡、能量和水平衡测试的检测分析器具、设备或手段",
        "no instruments or equipment for balance tests are listed",
    )]
}

/// Art. 16 asks for such staff without a number, so one qualified person meets it; a person
/// qualifies with a name and evidence, and for audit staff with at least one round consulted on.
fn staff_shortfalls(staff: &[Staff], needs_experience: bool) -> Vec<Message> {
    let named: Vec<&Staff> = staff
        .iter()
        .filter(|person| !person.name.trim().is_empty())
        .collect();
    let evidenced: Vec<&&Staff> = named
        .iter()
        .filter(|person| person.evidence.is_some())
        .collect();
    let shortfall = if named.is_empty() {
        Message::new("未列出技术人员", "no staff are listed")
    } else if evidenced.is_empty() {
        Message::new(
            "所列技术人员均未附证明材料（劳动合同、职称或培训证书等）",
            "none of the listed staff has evidence attached \
             (contract, title or training certificate)",
        )
    } else if needs_experience && evidenced.iter().all(|person| person.audit_rounds == 0) {
        Message::new(
            "所列技术人员均无清洁生产审核咨询经验（参与审核轮次为0）",
            "none of the listed staff has consulted on an audit round",
        )
    } else {
        return Vec::new();
    };
    vec![shortfall]
}

// ---- scorecard ----------------------------------------------------------------------------------

/// How one audit round a consultancy handled turned out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundOutcome {
    pub round_id: String,
    pub enterprise_id: String,
    pub year: i32,
    /// The assessment (评估) score, once assessed.
    pub assessment_score: Option<f64>,
    /// Whether the first assessment passed without rectification; `None` until assessed.
    pub first_assessment_passed: Option<bool>,
    /// Milestones of the round that went past their deadline.
    pub overdue_milestones: u32,
}

/// A consultancy's outcome figures, for the province and the public pages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub rounds_handled: usize,
    /// Rounds whose first assessment has a result.
    pub assessed_rounds: usize,
    /// Share (0–1) of assessed rounds that passed at the first assessment; `None` when none was
    /// assessed, which is not the same as a rate of 0.
    pub first_pass_rate: Option<f64>,
    /// Mean assessment score of the scored rounds; `None` when none was scored.
    pub average_score: Option<f64>,
    pub overdue_milestones: u32,
    pub sanctions_in_force: usize,
    pub sanctions_total: usize,
}

/// The scorecard of the rounds and sanctions given (the caller picks the consultancy and the
/// years), with sanctions in force counted on `date`.
pub fn scorecard(rounds: &[RoundOutcome], sanctions: &[Sanction], date: NaiveDate) -> Scorecard {
    let first_results: Vec<bool> = rounds
        .iter()
        .filter_map(|round| round.first_assessment_passed)
        .collect();
    let passed = first_results.iter().filter(|passed| **passed).count();
    let scores: Vec<f64> = rounds
        .iter()
        .filter_map(|round| round.assessment_score)
        .collect();
    Scorecard {
        rounds_handled: rounds.len(),
        assessed_rounds: first_results.len(),
        first_pass_rate: ratio(passed as f64, first_results.len()),
        average_score: ratio(scores.iter().sum(), scores.len()),
        overdue_milestones: rounds.iter().map(|round| round.overdue_milestones).sum(),
        sanctions_in_force: sanctions
            .iter()
            .filter(|sanction| in_force(sanction, date))
            .count(),
        sanctions_total: sanctions.len(),
    }
}

fn ratio(total: f64, count: usize) -> Option<f64> {
    (count > 0).then(|| total / count as f64)
}

// ---- sanctions ----------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionKind {
    /// 责令改正: an order to correct by a deadline.
    CorrectionOrder,
    /// 公布名单: the name is published and no new business is accepted until it is lifted.
    Blacklist,
}

impl SanctionKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::CorrectionOrder => "责令改正",
            Self::Blacklist => "列入违规名单",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::CorrectionOrder => "order to correct",
            Self::Blacklist => "blacklisting",
        }
    }

    /// The Gansu plan ties the refusal to the published name ("并公布其名单，在未满足规定的要求
    /// 前…不得再受理"); an order to correct alone leaves the consultancy working while it corrects.
    pub fn refuses_business(self) -> bool {
        self == Self::Blacklist
    }
}

/// How a sanction ends, lifting aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionEnd {
    /// In force through this day (inclusive), as a decision writes "至2027年6月30日".
    Until(NaiveDate),
    /// In force until lifted on fresh Art. 16 evidence (the Gansu rule for the blacklist).
    UntilCorrected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sanction {
    pub kind: SanctionKind,
    pub reason: String,
    /// The legal basis as the decision states it.
    pub legal_basis: String,
    /// First day in force.
    pub starts_on: NaiveDate,
    pub ends: SanctionEnd,
    /// First day no longer in force because it was lifted.
    pub lifted_on: Option<NaiveDate>,
    pub lifted_reason: Option<String>,
}

impl Sanction {
    /// A blacklisting from `starts_on` until corrected, with the legal basis of the rule book.
    pub fn blacklist(reason: &str, starts_on: NaiveDate, rules: &BlacklistRules) -> Self {
        Self {
            kind: SanctionKind::Blacklist,
            reason: reason.trim().to_string(),
            legal_basis: rules.basis.clone(),
            starts_on,
            ends: SanctionEnd::UntilCorrected,
            lifted_on: None,
            lifted_reason: None,
        }
    }

    /// The first day the sanction is no longer in force, if that day is known: the day after a
    /// fixed term, or the day it was lifted, whichever is earlier.
    pub fn ended_on(&self) -> Option<NaiveDate> {
        let expiry = match self.ends {
            SanctionEnd::Until(last_day) => last_day.succ_opt(),
            SanctionEnd::UntilCorrected => None,
        };
        match (self.lifted_on, expiry) {
            (Some(lifted), Some(expiry)) => Some(lifted.min(expiry)),
            (lifted, expiry) => lifted.or(expiry),
        }
    }
}

/// Whether the sanction is in force on `date`.
pub fn in_force(sanction: &Sanction, date: NaiveDate) -> bool {
    sanction.starts_on <= date && sanction.ended_on().is_none_or(|end| date < end)
}

/// Why an application naming a consultancy is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Index into the sanctions given of the one that refuses.
    pub sanction_index: usize,
    pub message_zh: String,
    pub message_en: String,
}

/// The refusal, if a sanction in force on `date` bars the consultancy from new business. The
/// message says why, on what basis, and what the enterprise can do instead.
pub fn refuses_business(sanctions: &[Sanction], date: NaiveDate) -> Option<Refusal> {
    let (sanction_index, sanction) = sanctions
        .iter()
        .enumerate()
        .find(|(_, sanction)| sanction.kind.refuses_business() && in_force(sanction, date))?;
    let (until_zh, until_en) = match sanction.ends {
        SanctionEnd::Until(last_day) => (
            format!("期限至{}", chinese_date(last_day)),
            format!("until {last_day}"),
        ),
        SanctionEnd::UntilCorrected => (
            "至其重新满足《清洁生产审核办法》第十六条规定的条件并经解除为止".to_string(),
            "until it is shown to meet Measures Art. 16 again and the listing is lifted"
                .to_string(),
        ),
    };
    Some(Refusal {
        sanction_index,
        message_zh: format!(
            "该咨询服务机构自{}起被列入违规名单（{}），{}。依据{}，在其未满足规定的要求前，\
             各级生态环境部门不得再受理其清洁生产相关业务，本次申请不予受理。\
             请改为委托其他符合《清洁生产审核办法》第十六条条件的咨询服务机构，\
             或由企业按该办法第十五条自行开展审核。",
            chinese_date(sanction.starts_on),
            sanction.reason,
            until_zh,
            sanction.legal_basis
        ),
        message_en: format!(
            "This consultancy has been blacklisted since {} ({}), {}. Under {}, no ecology and \
             environment department accepts its cleaner production business until it meets the \
             requirements again, so this application is refused. Engage another consultancy that \
             meets Measures Art. 16, or carry out the audit yourself under Art. 15.",
            sanction.starts_on, sanction.reason, until_en, sanction.legal_basis
        ),
    })
}

/// Why a sanction cannot be lifted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiftError {
    #[error("the sanction starts on {starts_on}, after the day of lifting")]
    NotStarted { starts_on: NaiveDate },
    #[error("the sanction was already lifted on {on}")]
    AlreadyLifted { on: NaiveDate },
    #[error("the sanction ran out on {on}; there is nothing to lift")]
    Expired { on: NaiveDate },
    #[error(
        "the Art. 16 evidence was submitted on {submitted_on}, \
         before the sanction started on {starts_on}"
    )]
    EvidenceNotFresh {
        submitted_on: NaiveDate,
        starts_on: NaiveDate,
    },
    #[error("the Art. 16 evidence is dated {submitted_on}, after the day of lifting")]
    EvidenceFromTheFuture { submitted_on: NaiveDate },
    #[error("the Art. 16 evidence does not meet {} condition(s)", gaps.len())]
    EvidenceIncomplete { gaps: Vec<Art16Gap> },
    #[error("lifting needs a reason")]
    ReasonRequired,
}

impl LiftError {
    pub fn message_zh(&self) -> String {
        match self {
            Self::NotStarted { starts_on } => {
                format!(
                    "该处理措施自{}起执行，尚未开始，不能解除",
                    chinese_date(*starts_on)
                )
            }
            Self::AlreadyLifted { on } => format!("该处理措施已于{}解除", chinese_date(*on)),
            Self::Expired { on } => {
                format!("该处理措施已于{}期满失效，无需解除", chinese_date(*on))
            }
            Self::EvidenceNotFresh {
                submitted_on,
                starts_on,
            } => format!(
                "证明材料提交于{}，早于处理措施执行日{}；解除须提交其后重新整理的第十六条证明材料",
                chinese_date(*submitted_on),
                chinese_date(*starts_on)
            ),
            Self::EvidenceFromTheFuture { submitted_on } => format!(
                "证明材料日期{}晚于解除日期，请核对",
                chinese_date(*submitted_on)
            ),
            Self::EvidenceIncomplete { gaps } => {
                let lines: Vec<String> = gaps.iter().map(|gap| gap.message().zh).collect();
                format!("证明材料不完整，不能解除：{}", lines.join("；"))
            }
            Self::ReasonRequired => "解除须填写理由".to_string(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::EvidenceIncomplete { gaps } => {
                let lines: Vec<String> = gaps.iter().map(|gap| gap.message().en).collect();
                format!(
                    "the evidence is incomplete, so the sanction cannot be lifted: {}",
                    lines.join("; ")
                )
            }
            other => other.to_string(),
        }
    }
}

/// Whether the sanction may be lifted on `date` with `fresh` evidence: it must be in force, and
/// the evidence must post-date its start and meet all four Art. 16 conditions (the Gansu plan
/// lifts the refusal only once the consultancy meets "规定的要求" again). A sanction until
/// corrected ends in no other way.
pub fn lift_check(
    sanction: &Sanction,
    fresh: &Art16Evidence,
    date: NaiveDate,
) -> Result<(), LiftError> {
    if let Some(on) = sanction.lifted_on {
        return Err(LiftError::AlreadyLifted { on });
    }
    if date < sanction.starts_on {
        return Err(LiftError::NotStarted {
            starts_on: sanction.starts_on,
        });
    }
    if let Some(on) = sanction.ended_on().filter(|end| *end <= date) {
        return Err(LiftError::Expired { on });
    }
    if fresh.submitted_on < sanction.starts_on {
        return Err(LiftError::EvidenceNotFresh {
            submitted_on: fresh.submitted_on,
            starts_on: sanction.starts_on,
        });
    }
    if fresh.submitted_on > date {
        return Err(LiftError::EvidenceFromTheFuture {
            submitted_on: fresh.submitted_on,
        });
    }
    let gaps = art16_check(fresh);
    if !gaps.is_empty() {
        return Err(LiftError::EvidenceIncomplete { gaps });
    }
    Ok(())
}

/// The sanction lifted on `date`, after [`lift_check`], with the reason recorded.
pub fn lift(
    sanction: &Sanction,
    fresh: &Art16Evidence,
    date: NaiveDate,
    reason: &str,
) -> Result<Sanction, LiftError> {
    lift_check(sanction, fresh, date)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(LiftError::ReasonRequired);
    }
    Ok(Sanction {
        lifted_on: Some(date),
        lifted_reason: Some(reason.to_string()),
        ..sanction.clone()
    })
}

// ---- the public blacklist -----------------------------------------------------------------------

/// The blacklist rules in force on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlacklistRules {
    /// Legal basis recorded on a new blacklisting.
    pub basis: String,
    pub basis_rule: RuleRef,
    /// Days an ended blacklisting stays on the public list.
    pub public_after_lift_days: u32,
    pub public_rule: RuleRef,
}

impl BlacklistRules {
    pub fn from_book(book: &RuleBook, date: NaiveDate) -> Result<Self, RuleError> {
        let (basis, basis_rule) = book.text_at("sanctions.blacklist_basis", date)?;
        let (public_after_lift_days, public_rule) =
            non_negative_at(book, "sanctions.public_after_lift_days", date)?;
        Ok(Self {
            basis,
            basis_rule,
            public_after_lift_days,
            public_rule,
        })
    }
}

/// Where a published blacklisting stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum PublicStatus {
    InForce,
    /// Lifted; not in force from `on`.
    Lifted {
        on: NaiveDate,
    },
    /// A fixed term ran out; not in force from `on`.
    Expired {
        on: NaiveDate,
    },
}

impl PublicStatus {
    pub fn label_zh(self) -> String {
        match self {
            Self::InForce => "执行中".to_string(),
            Self::Lifted { on } => format!("已于{}解除", chinese_date(on)),
            Self::Expired { on } => format!("已于{}期满", chinese_date(on)),
        }
    }

    pub fn label_en(self) -> String {
        match self {
            Self::InForce => "in force".to_string(),
            Self::Lifted { on } => format!("lifted on {on}"),
            Self::Expired { on } => format!("expired on {on}"),
        }
    }
}

/// One line of the public blacklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicSanction {
    /// The consultancy's name.
    pub name: String,
    pub reason: String,
    pub legal_basis: String,
    pub starts_on: NaiveDate,
    pub ends: SanctionEnd,
    pub status: PublicStatus,
}

/// The public blacklist on `date`, in the order given: blacklistings in force, and ended ones
/// for `public_after_lift_days` days from the day they ended, marked as such. Orders to correct
/// are not on it; they are not published by themselves.
pub fn public_blacklist(
    sanctions_with_names: &[(String, Sanction)],
    date: NaiveDate,
    rules: &BlacklistRules,
) -> Vec<PublicSanction> {
    sanctions_with_names
        .iter()
        .filter_map(|(name, sanction)| {
            let status = public_status(sanction, date, rules.public_after_lift_days)?;
            Some(PublicSanction {
                name: name.clone(),
                reason: sanction.reason.clone(),
                legal_basis: sanction.legal_basis.clone(),
                starts_on: sanction.starts_on,
                ends: sanction.ends,
                status,
            })
        })
        .collect()
}

fn public_status(sanction: &Sanction, date: NaiveDate, days_after: u32) -> Option<PublicStatus> {
    if sanction.kind != SanctionKind::Blacklist || date < sanction.starts_on {
        return None;
    }
    let Some(end) = sanction.ended_on().filter(|end| *end <= date) else {
        return Some(PublicStatus::InForce);
    };
    let shown_until = end.checked_add_days(Days::new(u64::from(days_after)));
    if shown_until.is_some_and(|first_day_hidden| date >= first_day_hidden) {
        return None;
    }
    Some(match sanction.lifted_on {
        Some(on) if on == end => PublicStatus::Lifted { on },
        _ => PublicStatus::Expired { on: end },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn file(title: &str) -> Option<EvidenceFile> {
        Some(EvidenceFile {
            title: title.to_string(),
            content_hash: "ab".repeat(32),
        })
    }

    fn staff(name: &str, audit_rounds: u32) -> Staff {
        Staff {
            name: name.to_string(),
            evidence: file("劳动合同及职称证书"),
            audit_rounds,
        }
    }

    /// A valid credit code: the check character is computed, not typed.
    fn valid_code() -> String {
        let first17 = "91620100MA71ABCD9";
        let check = crate::credit_code::check_char(first17).unwrap();
        format!("{first17}{check}")
    }

    /// A complete evidence set.
    fn evidence(submitted_on: NaiveDate) -> Art16Evidence {
        Art16Evidence {
            submitted_on,
            legal_person_credit_code: valid_code(),
            quality_system: file("质量手册"),
            instruments: vec!["便携式烟气分析仪".to_string(), "超声波流量计".to_string()],
            industry_staff: vec![staff("李工", 0)],
            audit_staff: vec![staff("张工", 6)],
        }
    }

    fn conditions(gaps: &[Art16Gap]) -> Vec<Art16Condition> {
        gaps.iter().map(|gap| gap.condition).collect()
    }

    // ---- Art. 16 --------------------------------------------------------------------------------

    #[test]
    fn complete_evidence_has_no_gap() {
        assert_eq!(art16_check(&evidence(day(2025, 1, 1))), Vec::new());
    }

    #[test]
    fn an_empty_set_misses_all_four_conditions_each_quoted() {
        let empty = Art16Evidence {
            submitted_on: day(2025, 1, 1),
            legal_person_credit_code: String::new(),
            quality_system: None,
            instruments: vec![" ".to_string()],
            industry_staff: Vec::new(),
            audit_staff: Vec::new(),
        };
        let gaps = art16_check(&empty);
        assert_eq!(conditions(&gaps), Art16Condition::ALL);
        assert_eq!(
            gaps[0].shortfalls.len(),
            2,
            "credit code and quality system"
        );
        let first = gaps[0].message();
        assert!(first
            .zh
            .starts_with("不满足《清洁生产审核办法》第十六条第①项“具有独立法人资格"));
        assert!(first.zh.contains("统一社会信用代码不能为空"));
        assert!(first.zh.contains("质量保证体系"));
        assert!(gaps[1]
            .message()
            .zh
            .contains("第②项“具备开展清洁生产审核物料平衡测试"));
        assert!(gaps[2]
            .message()
            .zh
            .contains("第③项“有熟悉相关行业生产工艺"));
        assert!(gaps[3]
            .message()
            .zh
            .contains("第④项“拥有掌握清洁生产审核方法"));
        assert!(gaps[3].message().en.contains("condition ④"));
    }

    #[test]
    fn each_condition_is_named_alone_when_only_it_fails() {
        let on = day(2025, 1, 1);
        let mut code = valid_code();
        let check = code.pop().unwrap();
        code.push(if check == '0' { '1' } else { '0' });
        let bad_code = Art16Evidence {
            legal_person_credit_code: code,
            ..evidence(on)
        };
        let gaps = art16_check(&bad_code);
        assert_eq!(conditions(&gaps), [Art16Condition::LegalPersonAndQuality]);
        assert!(gaps[0].shortfalls[0].zh.contains("校验"), "{:?}", gaps[0]);

        let no_quality = Art16Evidence {
            quality_system: None,
            ..evidence(on)
        };
        assert_eq!(
            conditions(&art16_check(&no_quality)),
            [Art16Condition::LegalPersonAndQuality]
        );
        let no_instruments = Art16Evidence {
            instruments: Vec::new(),
            ..evidence(on)
        };
        assert_eq!(
            conditions(&art16_check(&no_instruments)),
            [Art16Condition::Instruments]
        );
        let unproven_staff = Art16Evidence {
            industry_staff: vec![Staff {
                evidence: None,
                ..staff("李工", 0)
            }],
            ..evidence(on)
        };
        let gaps = art16_check(&unproven_staff);
        assert_eq!(conditions(&gaps), [Art16Condition::IndustryStaff]);
        assert!(gaps[0].shortfalls[0].zh.contains("未附证明材料"));
        let inexperienced = Art16Evidence {
            audit_staff: vec![staff("张工", 0), staff("  ", 9)],
            ..evidence(on)
        };
        let gaps = art16_check(&inexperienced);
        assert_eq!(conditions(&gaps), [Art16Condition::AuditStaff]);
        assert!(gaps[0].shortfalls[0].zh.contains("咨询经验"));
    }

    // ---- scorecard ------------------------------------------------------------------------------

    fn round(id: &str, score: Option<f64>, passed: Option<bool>, overdue: u32) -> RoundOutcome {
        RoundOutcome {
            round_id: id.to_string(),
            enterprise_id: format!("ent-{id}"),
            year: 2024,
            assessment_score: score,
            first_assessment_passed: passed,
            overdue_milestones: overdue,
        }
    }

    fn blacklisting(starts_on: NaiveDate, ends: SanctionEnd) -> Sanction {
        Sanction {
            kind: SanctionKind::Blacklist,
            reason: "提供虚假审核报告".to_string(),
            legal_basis: "甘环气候发〔2021〕10号 四、保障措施（四）".to_string(),
            starts_on,
            ends,
            lifted_on: None,
            lifted_reason: None,
        }
    }

    #[test]
    fn an_empty_scorecard_has_no_rates() {
        let card = scorecard(&[], &[], day(2025, 1, 1));
        assert_eq!(card.rounds_handled, 0);
        assert_eq!(card.first_pass_rate, None);
        assert_eq!(card.average_score, None);
        assert_eq!(
            (
                card.overdue_milestones,
                card.sanctions_in_force,
                card.sanctions_total
            ),
            (0, 0, 0)
        );
    }

    #[test]
    fn the_scorecard_counts_only_assessed_rounds_in_its_rates() {
        let rounds = [
            round("a", Some(92.0), Some(true), 0),
            round("b", Some(78.0), Some(false), 2),
            round("c", Some(85.0), Some(true), 1),
            round("d", None, None, 3),
        ];
        let sanctions = [
            blacklisting(day(2024, 6, 1), SanctionEnd::UntilCorrected),
            blacklisting(day(2023, 1, 1), SanctionEnd::Until(day(2023, 12, 31))),
        ];
        let card = scorecard(&rounds, &sanctions, day(2025, 1, 1));
        assert_eq!(card.rounds_handled, 4);
        assert_eq!(card.assessed_rounds, 3);
        let rate = card.first_pass_rate.unwrap();
        assert!((rate - 2.0 / 3.0).abs() < 1e-12);
        assert!((card.average_score.unwrap() - 85.0).abs() < 1e-12);
        assert_eq!(card.overdue_milestones, 6);
        assert_eq!((card.sanctions_in_force, card.sanctions_total), (1, 2));
    }

    #[test]
    fn partial_data_gives_the_rates_it_can() {
        // A score recorded without the pass flag, and a pass flag without a score.
        let rounds = [
            round("a", Some(70.0), None, 0),
            round("b", None, Some(false), 0),
        ];
        let card = scorecard(&rounds, &[], day(2025, 1, 1));
        assert_eq!(card.first_pass_rate, Some(0.0));
        assert_eq!(card.average_score, Some(70.0));
        let unassessed = scorecard(&[round("c", None, None, 1)], &[], day(2025, 1, 1));
        assert_eq!(unassessed.rounds_handled, 1);
        assert_eq!(unassessed.first_pass_rate, None);
        assert_eq!(unassessed.average_score, None);
    }

    // ---- sanctions ------------------------------------------------------------------------------

    #[test]
    fn a_fixed_term_sanction_is_in_force_from_its_first_to_its_last_day() {
        let sanction = blacklisting(day(2025, 3, 1), SanctionEnd::Until(day(2025, 8, 31)));
        assert!(!in_force(&sanction, day(2025, 2, 28)));
        assert!(in_force(&sanction, day(2025, 3, 1)));
        assert!(in_force(&sanction, day(2025, 8, 31)));
        assert!(!in_force(&sanction, day(2025, 9, 1)));
        assert_eq!(sanction.ended_on(), Some(day(2025, 9, 1)));
    }

    #[test]
    fn a_sanction_until_corrected_runs_until_lifted() {
        let mut sanction = blacklisting(day(2025, 3, 1), SanctionEnd::UntilCorrected);
        assert!(in_force(&sanction, day(2035, 3, 1)));
        assert_eq!(sanction.ended_on(), None);
        sanction.lifted_on = Some(day(2025, 10, 9));
        assert!(in_force(&sanction, day(2025, 10, 8)));
        assert!(!in_force(&sanction, day(2025, 10, 9)));
    }

    #[test]
    fn lifting_a_fixed_term_early_ends_it_early() {
        let mut sanction = blacklisting(day(2025, 3, 1), SanctionEnd::Until(day(2025, 8, 31)));
        sanction.lifted_on = Some(day(2025, 5, 1));
        assert_eq!(sanction.ended_on(), Some(day(2025, 5, 1)));
        assert!(!in_force(&sanction, day(2025, 6, 1)));
    }

    #[test]
    fn a_blacklisting_refuses_new_business_and_says_what_to_do() {
        let sanctions = [
            Sanction {
                kind: SanctionKind::CorrectionOrder,
                ..blacklisting(day(2025, 3, 1), SanctionEnd::Until(day(2025, 6, 30)))
            },
            blacklisting(day(2025, 3, 1), SanctionEnd::UntilCorrected),
        ];
        assert_eq!(refuses_business(&sanctions, day(2025, 2, 28)), None);
        let refusal = refuses_business(&sanctions, day(2025, 4, 1)).unwrap();
        assert_eq!(
            refusal.sanction_index, 1,
            "an order to correct alone does not refuse"
        );
        assert!(refusal.message_zh.contains("2025年3月1日"));
        assert!(refusal.message_zh.contains("提供虚假审核报告"));
        assert!(refusal
            .message_zh
            .contains("在其未满足规定的要求前，各级生态环境部门不得再受理其清洁生产相关业务"));
        assert!(refusal
            .message_zh
            .contains("委托其他符合《清洁生产审核办法》第十六条条件"));
        assert!(refusal.message_zh.contains("自行开展审核"));
        assert!(refusal.message_en.contains("Engage another consultancy"));
        assert!(refusal.message_en.contains("under Art. 15"));
        assert!(refuses_business(&sanctions[..1], day(2025, 4, 1)).is_none());
    }

    #[test]
    fn a_fixed_term_refusal_names_its_last_day() {
        let sanctions = [blacklisting(
            day(2025, 3, 1),
            SanctionEnd::Until(day(2025, 8, 31)),
        )];
        let refusal = refuses_business(&sanctions, day(2025, 8, 31)).unwrap();
        assert!(refusal.message_zh.contains("期限至2025年8月31日"));
        assert_eq!(refuses_business(&sanctions, day(2025, 9, 1)), None);
    }

    #[test]
    fn lifting_needs_fresh_complete_evidence_and_a_reason() {
        let sanction = blacklisting(day(2025, 3, 1), SanctionEnd::UntilCorrected);
        let on = day(2025, 10, 9);
        assert_eq!(
            lift_check(&sanction, &evidence(day(2025, 2, 28)), on),
            Err(LiftError::EvidenceNotFresh {
                submitted_on: day(2025, 2, 28),
                starts_on: day(2025, 3, 1)
            })
        );
        assert_eq!(
            lift_check(&sanction, &evidence(day(2025, 10, 10)), on),
            Err(LiftError::EvidenceFromTheFuture {
                submitted_on: day(2025, 10, 10)
            })
        );
        let incomplete = Art16Evidence {
            audit_staff: Vec::new(),
            ..evidence(day(2025, 9, 1))
        };
        let error = lift_check(&sanction, &incomplete, on).unwrap_err();
        assert!(matches!(&error, LiftError::EvidenceIncomplete { gaps }
            if conditions(gaps) == [Art16Condition::AuditStaff]));
        assert!(error.message_zh().contains("第④项"));
        assert!(error.message_en().contains("condition ④"));

        let fresh = evidence(day(2025, 3, 1));
        assert_eq!(lift_check(&sanction, &fresh, on), Ok(()));
        assert_eq!(
            lift(&sanction, &fresh, on, " "),
            Err(LiftError::ReasonRequired)
        );
        let lifted = lift(&sanction, &fresh, on, "已按第十六条完成整改").unwrap();
        assert_eq!(lifted.lifted_on, Some(on));
        assert_eq!(
            lifted.lifted_reason.as_deref(),
            Some("已按第十六条完成整改")
        );
        assert!(refuses_business(std::slice::from_ref(&lifted), on).is_none());
        assert_eq!(
            lift_check(&lifted, &fresh, day(2025, 11, 1)),
            Err(LiftError::AlreadyLifted { on })
        );
    }

    #[test]
    fn only_a_sanction_in_force_can_be_lifted() {
        let fixed = blacklisting(day(2025, 3, 1), SanctionEnd::Until(day(2025, 8, 31)));
        let fresh = evidence(day(2025, 3, 1));
        assert_eq!(
            lift_check(&fixed, &fresh, day(2025, 2, 1)),
            Err(LiftError::NotStarted {
                starts_on: day(2025, 3, 1)
            })
        );
        assert_eq!(lift_check(&fixed, &fresh, day(2025, 8, 31)), Ok(()));
        let error = lift_check(&fixed, &fresh, day(2025, 9, 1)).unwrap_err();
        assert_eq!(
            error,
            LiftError::Expired {
                on: day(2025, 9, 1)
            }
        );
        assert!(error.message_zh().contains("期满失效"));
    }

    // ---- the public blacklist -------------------------------------------------------------------

    fn blacklist_rules() -> BlacklistRules {
        BlacklistRules::from_book(&RuleBook::embedded(), day(2025, 1, 1)).unwrap()
    }

    #[test]
    fn blacklist_rules_come_from_the_embedded_book_with_their_citations() {
        let rules = blacklist_rules();
        assert_eq!(rules.public_after_lift_days, 365);
        assert!(rules.basis.contains("甘环气候发〔2021〕10号"));
        assert!(rules.basis.contains("第十六条"));
        let cited: Vec<(&str, &str)> = rules
            .basis_rule
            .citations
            .iter()
            .map(|citation| (citation.document.as_str(), citation.article.as_str()))
            .collect();
        assert_eq!(
            cited,
            [
                ("gansu-plan-2021", "四、保障措施（四）"),
                ("measures-2016", "第十六条")
            ]
        );
        assert!(!rules.basis_rule.needs_verification());
        let sanction = Sanction::blacklist(" 弄虚作假 ", day(2025, 3, 1), &rules);
        assert_eq!(sanction.legal_basis, rules.basis);
        assert_eq!(sanction.reason, "弄虚作假");
        assert_eq!(sanction.ends, SanctionEnd::UntilCorrected);
    }

    #[test]
    fn the_public_list_shows_a_lifted_entry_for_exactly_the_window() {
        let rules = BlacklistRules {
            public_after_lift_days: 365,
            ..blacklist_rules()
        };
        let mut lifted = blacklisting(day(2025, 3, 1), SanctionEnd::UntilCorrected);
        lifted.lifted_on = Some(day(2025, 10, 9));
        let entries = [
            ("甲咨询公司".to_string(), lifted),
            (
                "乙咨询公司".to_string(),
                blacklisting(day(2025, 6, 1), SanctionEnd::UntilCorrected),
            ),
            (
                "丙咨询公司".to_string(),
                Sanction {
                    kind: SanctionKind::CorrectionOrder,
                    ..blacklisting(day(2025, 6, 1), SanctionEnd::UntilCorrected)
                },
            ),
        ];
        let names = |date| -> Vec<(String, PublicStatus)> {
            public_blacklist(&entries, date, &rules)
                .into_iter()
                .map(|entry| (entry.name, entry.status))
                .collect()
        };
        assert_eq!(
            names(day(2025, 5, 1)),
            [("甲咨询公司".to_string(), PublicStatus::InForce)]
        );
        let lifted_status = PublicStatus::Lifted {
            on: day(2025, 10, 9),
        };
        assert_eq!(
            names(day(2025, 10, 9)),
            [
                ("甲咨询公司".to_string(), lifted_status),
                ("乙咨询公司".to_string(), PublicStatus::InForce)
            ]
        );
        // 365 days from 2025-10-09: shown through 2026-10-08, gone on 2026-10-09.
        assert_eq!(names(day(2026, 10, 8)).len(), 2);
        assert_eq!(
            names(day(2026, 10, 9)),
            [("乙咨询公司".to_string(), PublicStatus::InForce)]
        );
        assert_eq!(lifted_status.label_zh(), "已于2025年10月9日解除");
    }

    #[test]
    fn an_expired_fixed_term_is_marked_expired_for_the_window() {
        let rules = BlacklistRules {
            public_after_lift_days: 30,
            ..blacklist_rules()
        };
        let entries = [(
            "丁咨询公司".to_string(),
            blacklisting(day(2025, 3, 1), SanctionEnd::Until(day(2025, 8, 31))),
        )];
        let list = public_blacklist(&entries, day(2025, 9, 1), &rules);
        assert_eq!(
            list[0].status,
            PublicStatus::Expired {
                on: day(2025, 9, 1)
            }
        );
        assert_eq!(list[0].legal_basis, entries[0].1.legal_basis);
        assert_eq!(
            public_blacklist(&entries, day(2025, 9, 30), &rules).len(),
            1
        );
        assert!(public_blacklist(&entries, day(2025, 10, 1), &rules).is_empty());
    }
}
