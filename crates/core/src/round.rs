//! One audit round (一轮清洁生产审核), from listing to closing: its states, the actions that
//! move it, who may take each action and what must be true first.
//!
//! The machine is pure. Storage gathers the [`RoundFacts`] a guard reads (is the disclosure
//! complete, which phases are dated, which documents are on file, has the panel scored…) and
//! the web layer says which [`RoundActor`]s the caller is; [`transition`] answers with the next
//! state or with every reason the action is refused. [`transition_table`] prints the same
//! rules as a table for `docs/ROUND.md`, so the documentation cannot drift from the code.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::rules::{RuleBook, RuleError, Unit};

/// Where a round stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundState {
    /// 已列入名单: listed and notified; the disclosure clock runs.
    Listed,
    /// 已信息公开: the Art. 11 disclosure is published.
    Disclosed,
    /// 审核进行中: the start is filed (self-audit or consultancy); phases are being worked.
    Started,
    /// 已报送审核报告: the report is in; the organizer schedules the review.
    ReportSubmitted,
    /// 评估已安排 (or, on the small/micro track, the combined review): a panel is drawn.
    AssessmentScheduled,
    /// 评估整改中: the assessment asked for rectification and resubmission.
    Rectifying,
    /// 评估通过，方案实施中: medium/high-cost options are being implemented.
    Assessed,
    /// 已申请验收.
    AcceptanceApplied,
    /// 验收已安排: a panel is drawn.
    AcceptanceScheduled,
    /// 验收合格.
    Accepted,
    /// 本轮结束: accepted and the continuing plan (持续清洁生产) is on file.
    Closed,
    /// 已撤销: the round was withdrawn (e.g. the enterprise closed down), with a reason.
    Cancelled,
}

impl RoundState {
    pub const ALL: [RoundState; 12] = [
        Self::Listed,
        Self::Disclosed,
        Self::Started,
        Self::ReportSubmitted,
        Self::AssessmentScheduled,
        Self::Rectifying,
        Self::Assessed,
        Self::AcceptanceApplied,
        Self::AcceptanceScheduled,
        Self::Accepted,
        Self::Closed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listed => "listed",
            Self::Disclosed => "disclosed",
            Self::Started => "started",
            Self::ReportSubmitted => "report_submitted",
            Self::AssessmentScheduled => "assessment_scheduled",
            Self::Rectifying => "rectifying",
            Self::Assessed => "assessed",
            Self::AcceptanceApplied => "acceptance_applied",
            Self::AcceptanceScheduled => "acceptance_scheduled",
            Self::Accepted => "accepted",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Listed => "已列入名单",
            Self::Disclosed => "已信息公开",
            Self::Started => "审核进行中",
            Self::ReportSubmitted => "已报送审核报告",
            Self::AssessmentScheduled => "评估已安排",
            Self::Rectifying => "评估整改中",
            Self::Assessed => "评估通过，方案实施中",
            Self::AcceptanceApplied => "已申请验收",
            Self::AcceptanceScheduled => "验收已安排",
            Self::Accepted => "验收合格",
            Self::Closed => "本轮结束",
            Self::Cancelled => "已撤销",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Listed => "Listed",
            Self::Disclosed => "Disclosed",
            Self::Started => "Audit under way",
            Self::ReportSubmitted => "Report submitted",
            Self::AssessmentScheduled => "Assessment scheduled",
            Self::Rectifying => "Rectifying after assessment",
            Self::Assessed => "Assessed; options being implemented",
            Self::AcceptanceApplied => "Acceptance applied for",
            Self::AcceptanceScheduled => "Acceptance scheduled",
            Self::Accepted => "Accepted",
            Self::Closed => "Closed",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Whether the round is finished (no deadline runs, no action but none).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }
}

impl fmt::Display for RoundState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which procedure a round follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// Assessment, then acceptance.
    Standard,
    /// 小微企业: shortened forms, assessment and acceptance combined in one review.
    SmallMicro,
}

impl Track {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::SmallMicro => "small_micro",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Standard, Self::SmallMicro]
            .into_iter()
            .find(|track| track.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Standard => "一般程序",
            Self::SmallMicro => "小微企业简化程序",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Standard => "Standard",
            Self::SmallMicro => "Small/micro (simplified)",
        }
    }
}

/// Who is acting on a round. One caller may hold several (a city official of the organizing
/// city is both `City` and `Organizer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundActor {
    /// A user of the listed enterprise.
    Enterprise,
    /// A user of the consultancy engaged for the round, preparing filings for the enterprise.
    Consultancy,
    /// An official of the enterprise's city.
    City,
    /// An official of the province.
    Province,
    /// An official of the level that organizes the reviews (jurisdiction rule).
    Organizer,
}

impl RoundActor {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Enterprise => "企业",
            Self::Consultancy => "咨询服务机构",
            Self::City => "市州生态环境局",
            Self::Province => "省生态环境厅",
            Self::Organizer => "评估验收组织单位",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Enterprise => "enterprise",
            Self::Consultancy => "engaged consultancy",
            Self::City => "city bureau",
            Self::Province => "province",
            Self::Organizer => "review organizer",
        }
    }
}

/// The result an organizer records for a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewConclusion {
    /// 评估通过 / 合并评审通过.
    Pass,
    /// 整改后重新报送.
    Rectify,
    /// 评估不通过: the audit is redone.
    Fail,
    /// 验收合格.
    Qualified,
    /// 验收不合格: back to implementation.
    NotQualified,
}

impl ReviewConclusion {
    pub const ALL: [ReviewConclusion; 5] = [
        Self::Pass,
        Self::Rectify,
        Self::Fail,
        Self::Qualified,
        Self::NotQualified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Rectify => "rectify",
            Self::Fail => "fail",
            Self::Qualified => "qualified",
            Self::NotQualified => "not_qualified",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Pass => "通过",
            Self::Rectify => "整改后重新报送",
            Self::Fail => "不通过",
            Self::Qualified => "合格",
            Self::NotQualified => "不合格",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Rectify => "rectify and resubmit",
            Self::Fail => "fail",
            Self::Qualified => "qualified",
            Self::NotQualified => "not qualified",
        }
    }
}

/// The review a scheduled panel holds, by state and track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    Assessment,
    Acceptance,
    /// Small/micro track: assessment and acceptance in one review.
    Combined,
}

impl ReviewKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assessment => "assessment",
            Self::Acceptance => "acceptance",
            Self::Combined => "combined",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Assessment, Self::Acceptance, Self::Combined]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Assessment => "评估",
            Self::Acceptance => "验收",
            Self::Combined => "评估验收（合并）",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Assessment => "assessment",
            Self::Acceptance => "acceptance",
            Self::Combined => "combined assessment and acceptance",
        }
    }

    /// The conclusions an organizer may record for this review.
    pub fn conclusions(self) -> &'static [ReviewConclusion] {
        match self {
            Self::Assessment => &[
                ReviewConclusion::Pass,
                ReviewConclusion::Rectify,
                ReviewConclusion::Fail,
            ],
            Self::Acceptance => &[ReviewConclusion::Qualified, ReviewConclusion::NotQualified],
            Self::Combined => &[
                ReviewConclusion::Qualified,
                ReviewConclusion::Rectify,
                ReviewConclusion::NotQualified,
            ],
        }
    }
}

/// The review the panel of a round in `state` holds on `track`.
pub fn review_kind(state: RoundState, track: Track) -> Option<ReviewKind> {
    match (state, track) {
        (RoundState::ReportSubmitted | RoundState::AssessmentScheduled, Track::Standard) => {
            Some(ReviewKind::Assessment)
        }
        (RoundState::ReportSubmitted | RoundState::AssessmentScheduled, Track::SmallMicro) => {
            Some(ReviewKind::Combined)
        }
        (RoundState::AcceptanceApplied | RoundState::AcceptanceScheduled, _) => {
            Some(ReviewKind::Acceptance)
        }
        _ => None,
    }
}

/// The seven phases of an audit (办法; HJ 469 names phase 5 可行性分析).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Preparation,
    PreAudit,
    Audit,
    OptionGeneration,
    Feasibility,
    Implementation,
    Continuing,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Self::Preparation,
        Self::PreAudit,
        Self::Audit,
        Self::OptionGeneration,
        Self::Feasibility,
        Self::Implementation,
        Self::Continuing,
    ];

    /// 1 to 7, as the Measures number them.
    pub fn number(self) -> u8 {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0) as u8 + 1
    }

    pub fn from_number(number: i64) -> Option<Self> {
        usize::try_from(number)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|index| Self::ALL.get(index).copied())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preparation => "preparation",
            Self::PreAudit => "pre_audit",
            Self::Audit => "audit",
            Self::OptionGeneration => "option_generation",
            Self::Feasibility => "feasibility",
            Self::Implementation => "implementation",
            Self::Continuing => "continuing",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|phase| phase.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Preparation => "审核准备",
            Self::PreAudit => "预审核",
            Self::Audit => "审核",
            Self::OptionGeneration => "方案的产生和筛选",
            Self::Feasibility => "方案的确定",
            Self::Implementation => "方案的实施",
            Self::Continuing => "持续清洁生产",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Preparation => "Preparation",
            Self::PreAudit => "Pre-audit",
            Self::Audit => "Audit",
            Self::OptionGeneration => "Generating and screening options",
            Self::Feasibility => "Feasibility of options",
            Self::Implementation => "Implementing options",
            Self::Continuing => "Continuing cleaner production",
        }
    }
}

/// The kinds of document a round keeps, each in its own numbered versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 清洁生产审核报告.
    AuditReport,
    /// 技术佐证材料.
    TechnicalEvidence,
    /// 实施前监测报告.
    MonitoringBefore,
    /// 实施后监测报告.
    MonitoringAfter,
    /// 清洁生产审核验收报告.
    AcceptanceReport,
    /// 整改报告 after a "rectify" assessment.
    Rectification,
    /// 技术审查意见 (written by the system when a review is decided; also uploadable signed).
    ReviewOpinion,
    /// 工作计划 and other filing attachments.
    WorkPlan,
    /// Anything else, described by its file name.
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 9] = [
        Self::AuditReport,
        Self::TechnicalEvidence,
        Self::MonitoringBefore,
        Self::MonitoringAfter,
        Self::AcceptanceReport,
        Self::Rectification,
        Self::ReviewOpinion,
        Self::WorkPlan,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuditReport => "audit_report",
            Self::TechnicalEvidence => "technical_evidence",
            Self::MonitoringBefore => "monitoring_before",
            Self::MonitoringAfter => "monitoring_after",
            Self::AcceptanceReport => "acceptance_report",
            Self::Rectification => "rectification",
            Self::ReviewOpinion => "review_opinion",
            Self::WorkPlan => "work_plan",
            Self::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::AuditReport => "清洁生产审核报告",
            Self::TechnicalEvidence => "技术佐证材料",
            Self::MonitoringBefore => "方案实施前监测报告",
            Self::MonitoringAfter => "方案实施后监测报告",
            Self::AcceptanceReport => "清洁生产审核验收报告",
            Self::Rectification => "整改报告",
            Self::ReviewOpinion => "技术审查意见",
            Self::WorkPlan => "审核工作计划",
            Self::Other => "其他材料",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::AuditReport => "Audit report",
            Self::TechnicalEvidence => "Technical evidence",
            Self::MonitoringBefore => "Monitoring report before implementation",
            Self::MonitoringAfter => "Monitoring report after implementation",
            Self::AcceptanceReport => "Acceptance report",
            Self::Rectification => "Rectification report",
            Self::ReviewOpinion => "Technical review opinion",
            Self::WorkPlan => "Audit work plan",
            Self::Other => "Other document",
        }
    }
}

/// How the enterprise carries out the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditMode {
    /// 自行组织 with the capability of 办法 Art. 15.
    SelfAudit,
    /// 委托咨询服务机构 meeting 办法 Art. 16.
    Consultancy,
}

impl AuditMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfAudit => "self",
            Self::Consultancy => "consultancy",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::SelfAudit, Self::Consultancy]
            .into_iter()
            .find(|mode| mode.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::SelfAudit => "企业自行组织",
            Self::Consultancy => "委托咨询服务机构",
        }
    }
}

/// What may be done to a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundAction {
    /// Publish the Art. 11 disclosure.
    Disclose,
    /// File the start: audit mode, audit team, work plan.
    FileStart,
    /// Submit the audit report and apply for assessment (or the combined review).
    SubmitReport,
    /// Schedule the review with a drawn panel.
    ScheduleReview,
    /// Record the review's conclusion.
    Decide(ReviewConclusion),
    /// Resubmit after rectification.
    Resubmit,
    /// Apply for acceptance once medium/high-cost options are implemented.
    ApplyAcceptance,
    /// Close an accepted round once the continuing plan is on file.
    Close,
    /// Withdraw the round, with a reason.
    Cancel,
}

impl RoundAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disclose => "disclose",
            Self::FileStart => "file_start",
            Self::SubmitReport => "submit_report",
            Self::ScheduleReview => "schedule_review",
            Self::Decide(ReviewConclusion::Pass) => "decide_pass",
            Self::Decide(ReviewConclusion::Rectify) => "decide_rectify",
            Self::Decide(ReviewConclusion::Fail) => "decide_fail",
            Self::Decide(ReviewConclusion::Qualified) => "decide_qualified",
            Self::Decide(ReviewConclusion::NotQualified) => "decide_not_qualified",
            Self::Resubmit => "resubmit",
            Self::ApplyAcceptance => "apply_acceptance",
            Self::Close => "close",
            Self::Cancel => "cancel",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        all_actions().into_iter().find(|a| a.as_str() == text)
    }

    pub fn label_zh(self) -> String {
        match self {
            Self::Disclose => "发布信息公开".into(),
            Self::FileStart => "开展审核备案".into(),
            Self::SubmitReport => "报送审核报告".into(),
            Self::ScheduleReview => "安排评审（抽取专家）".into(),
            Self::Decide(conclusion) => format!("评审结论：{}", conclusion.label_zh()),
            Self::Resubmit => "整改后重新报送".into(),
            Self::ApplyAcceptance => "申请验收".into(),
            Self::Close => "本轮结束".into(),
            Self::Cancel => "撤销本轮".into(),
        }
    }

    pub fn label_en(self) -> String {
        match self {
            Self::Disclose => "Publish the disclosure".into(),
            Self::FileStart => "File the start".into(),
            Self::SubmitReport => "Submit the audit report".into(),
            Self::ScheduleReview => "Schedule the review (panel drawn)".into(),
            Self::Decide(conclusion) => format!("Review conclusion: {}", conclusion.label_en()),
            Self::Resubmit => "Resubmit after rectification".into(),
            Self::ApplyAcceptance => "Apply for acceptance".into(),
            Self::Close => "Close the round".into(),
            Self::Cancel => "Cancel the round".into(),
        }
    }

    /// Whether the actor must give a reason (recorded in the audit trail and the timeline).
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Decide(_) | Self::Cancel)
    }
}

fn all_actions() -> Vec<RoundAction> {
    let mut actions = vec![
        RoundAction::Disclose,
        RoundAction::FileStart,
        RoundAction::SubmitReport,
        RoundAction::ScheduleReview,
    ];
    actions.extend(ReviewConclusion::ALL.map(RoundAction::Decide));
    actions.extend([
        RoundAction::Resubmit,
        RoundAction::ApplyAcceptance,
        RoundAction::Close,
        RoundAction::Cancel,
    ]);
    actions
}

/// A condition an action requires, checked against [`RoundFacts`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "guard", content = "detail")]
pub enum Guard {
    /// Every required disclosure item is filled or claimed as a trade secret with a reason.
    DisclosureComplete,
    /// The audit mode is chosen; a self-audit has its Art. 15 evidence; the audit team and
    /// work plan are on file.
    StartFiled,
    /// The consultancy preparing the filing is not under a sanction in force (seed §四(四)).
    PreparerNotSanctioned,
    /// These phases have a completion date.
    PhasesCompleted(Vec<Phase>),
    /// These documents are on file (the current version of each).
    DocumentsOnFile(Vec<DocumentKind>),
    /// At least one option is recorded.
    OptionsRecorded,
    /// Every medium/high-cost option is implemented or dropped.
    MediumHighOptionsDone,
    /// A panel is drawn for this review and every seat is accepted.
    PanelReady,
    /// Every seated panel member has submitted a score sheet.
    ScoresComplete,
    /// A rectification report is uploaded after the review asked for it.
    RectificationUploaded,
    /// The action needs a reason.
    ReasonGiven,
}

impl Guard {
    pub fn describe_zh(&self) -> String {
        match self {
            Self::DisclosureComplete => "信息公开的必填项均已填写（或已说明商业秘密理由）".into(),
            Self::StartFiled => {
                "已选择审核方式（自行审核须具备办法第十五条条件；委托须为已签约且未被处理的咨询服务机构），审核小组与工作计划已填报".into()
            }
            Self::PreparerNotSanctioned => "编制材料的咨询服务机构不在处理期内（实施方案四(四)）".into(),
            Self::PhasesCompleted(phases) => format!(
                "以下审核阶段已完成：{}",
                phases.iter().map(|p| p.label_zh()).collect::<Vec<_>>().join("、")
            ),
            Self::DocumentsOnFile(kinds) => format!(
                "已上传：{}",
                kinds.iter().map(|k| k.label_zh()).collect::<Vec<_>>().join("、")
            ),
            Self::OptionsRecorded => "已录入清洁生产方案".into(),
            Self::MediumHighOptionsDone => "中/高费方案均已实施或已说明放弃".into(),
            Self::PanelReady => "已抽取专家组且全部专家确认参加".into(),
            Self::ScoresComplete => "专家组成员均已提交评分表".into(),
            Self::RectificationUploaded => "已上传整改报告".into(),
            Self::ReasonGiven => "已填写理由".into(),
        }
    }

    pub fn describe_en(&self) -> String {
        match self {
            Self::DisclosureComplete => {
                "every required disclosure item is filled in (or claimed as a trade secret with a reason)".into()
            }
            Self::StartFiled => {
                "the audit mode is chosen (self-audit with Measures Art. 15 capability, or an engaged consultancy not under sanction), and the audit team and work plan are filed".into()
            }
            Self::PreparerNotSanctioned => {
                "the consultancy preparing the filing is not under a sanction in force (Gansu plan §四(四))".into()
            }
            Self::PhasesCompleted(phases) => format!(
                "these phases are completed: {}",
                phases.iter().map(|p| p.label_en()).collect::<Vec<_>>().join(", ")
            ),
            Self::DocumentsOnFile(kinds) => format!(
                "on file: {}",
                kinds.iter().map(|k| k.label_en()).collect::<Vec<_>>().join(", ")
            ),
            Self::OptionsRecorded => "cleaner production options are recorded".into(),
            Self::MediumHighOptionsDone => {
                "every medium/high-cost option is implemented or dropped with a reason".into()
            }
            Self::PanelReady => "a panel is drawn and every member has accepted".into(),
            Self::ScoresComplete => "every panel member has submitted a score sheet".into(),
            Self::RectificationUploaded => "a rectification report is uploaded".into(),
            Self::ReasonGiven => "a reason is given".into(),
        }
    }
}

/// Which phases and documents each step requires on each track. Read from rule data
/// (`round.*` parameters) by storage; [`StepRequirements::standard`] is the shipped default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRequirements {
    pub report_phases: Vec<Phase>,
    pub report_documents: Vec<DocumentKind>,
    pub acceptance_documents: Vec<DocumentKind>,
    pub close_phases: Vec<Phase>,
}

impl StepRequirements {
    /// The requirements of `track` in force on `date` (`round.*` parameters).
    pub fn from_book(book: &RuleBook, track: Track, date: NaiveDate) -> Result<Self, RuleError> {
        let prefix = match track {
            Track::Standard => "round.",
            Track::SmallMicro => "round.small_micro.",
        };
        let phases = |name: &str| -> Result<Vec<Phase>, RuleError> {
            let id = format!("{prefix}{name}");
            let (items, _) = book.list_at(&id, date)?;
            items
                .iter()
                .map(|item| Phase::parse(item).ok_or_else(|| unknown_item(&id, item)))
                .collect()
        };
        let documents = |id: &str| -> Result<Vec<DocumentKind>, RuleError> {
            let (items, _) = book.list_at(id, date)?;
            items
                .iter()
                .map(|item| DocumentKind::parse(item).ok_or_else(|| unknown_item(id, item)))
                .collect()
        };
        Ok(Self {
            report_phases: phases("report_phases")?,
            report_documents: documents(&format!("{prefix}report_documents"))?,
            // The small/micro track has no separate acceptance application.
            acceptance_documents: documents("round.acceptance_documents")?,
            close_phases: phases("close_phases")?,
        })
    }
}

fn unknown_item(id: &str, item: &str) -> RuleError {
    RuleError::WrongType {
        id: format!("{id} ({item})"),
        expected: "a known phase or document kind",
        found: Unit::List,
    }
}

/// Which track a round follows and who organizes its reviews, as the rules in force on the
/// publication day say; fixed on the round when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundPolicy {
    /// `round.small_micro.size_classes`.
    pub small_micro_sizes: Vec<String>,
    /// `industries.province_organized`.
    pub province_industries: Vec<String>,
    pub province_code: String,
    pub rule_book_version: String,
}

impl RoundPolicy {
    pub fn from_book(
        book: &RuleBook,
        date: NaiveDate,
        province_code: &str,
    ) -> Result<Self, RuleError> {
        let (small_micro_sizes, _) = book.list_at("round.small_micro.size_classes", date)?;
        let (province_industries, _) = book.list_at("industries.province_organized", date)?;
        Ok(Self {
            small_micro_sizes,
            province_industries,
            province_code: province_code.to_string(),
            rule_book_version: book.version.clone(),
        })
    }

    /// The track of an enterprise of `size_class`.
    pub fn track(&self, size_class: &str) -> Track {
        if self.small_micro_sizes.iter().any(|c| c == size_class) {
            Track::SmallMicro
        } else {
            Track::Standard
        }
    }

    /// Who organizes the reviews (rule `jurisdiction.organizer`, Gansu plan §三(五)): the
    /// province for key emission units in the province-organized industries, the city for
    /// all others.
    pub fn organizer(
        &self,
        key_emission_unit: bool,
        province_industry_id: Option<&str>,
        city_code: &str,
    ) -> String {
        let province_industry =
            province_industry_id.is_some_and(|id| self.province_industries.iter().any(|i| i == id));
        if key_emission_unit && province_industry {
            self.province_code.clone()
        } else {
            city_code.to_string()
        }
    }
}

/// What the guards read, gathered by storage for one round at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundFacts {
    pub disclosure_complete: bool,
    pub start_filed: bool,
    /// The sanction (its reason) of the consultancy preparing filings, when one is in force.
    pub preparer_sanction: Option<String>,
    pub phases_completed: BTreeSet<Phase>,
    pub documents: BTreeSet<DocumentKind>,
    pub option_count: usize,
    pub medium_high_open: usize,
    pub panel_ready: bool,
    pub scores_complete: bool,
    pub rectification_uploaded: bool,
    pub reason_given: bool,
}

impl RoundFacts {
    fn holds(&self, guard: &Guard) -> bool {
        match guard {
            Guard::DisclosureComplete => self.disclosure_complete,
            Guard::StartFiled => self.start_filed,
            Guard::PreparerNotSanctioned => self.preparer_sanction.is_none(),
            Guard::PhasesCompleted(phases) => {
                phases.iter().all(|p| self.phases_completed.contains(p))
            }
            Guard::DocumentsOnFile(kinds) => kinds.iter().all(|k| self.documents.contains(k)),
            Guard::OptionsRecorded => self.option_count > 0,
            Guard::MediumHighOptionsDone => self.medium_high_open == 0,
            Guard::PanelReady => self.panel_ready,
            Guard::ScoresComplete => self.scores_complete,
            Guard::RectificationUploaded => self.rectification_uploaded,
            Guard::ReasonGiven => self.reason_given,
        }
    }
}

/// One allowed transition: from a state, by an action, to a state, by whom, if what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionRule {
    pub from: RoundState,
    pub action: RoundAction,
    pub to: RoundState,
    pub actors: Vec<RoundActor>,
    pub guards: Vec<Guard>,
    /// Tracks the rule applies to.
    pub tracks: Vec<Track>,
}

const FILERS: [RoundActor; 2] = [RoundActor::Enterprise, RoundActor::Consultancy];
const BOTH_TRACKS: [Track; 2] = [Track::Standard, Track::SmallMicro];

/// Every allowed transition, for the given step requirements of each track.
pub fn transition_rules(
    standard: &StepRequirements,
    small_micro: &StepRequirements,
) -> Vec<TransitionRule> {
    use ReviewConclusion as C;
    use RoundState as S;
    let rule = |from, action, to, actors: &[RoundActor], guards: Vec<Guard>, tracks: &[Track]| {
        TransitionRule {
            from,
            action,
            to,
            actors: actors.to_vec(),
            guards,
            tracks: tracks.to_vec(),
        }
    };
    let filer_guards = |mut guards: Vec<Guard>| {
        guards.push(Guard::PreparerNotSanctioned);
        guards
    };
    let report_guards = |req: &StepRequirements| {
        filer_guards(vec![
            Guard::PhasesCompleted(req.report_phases.clone()),
            Guard::DocumentsOnFile(req.report_documents.clone()),
            Guard::OptionsRecorded,
        ])
    };
    let organizer = [RoundActor::Organizer];
    let decided = || vec![Guard::ScoresComplete, Guard::ReasonGiven];
    let mut rules = vec![
        rule(
            S::Listed,
            RoundAction::Disclose,
            S::Disclosed,
            &FILERS,
            filer_guards(vec![Guard::DisclosureComplete]),
            &BOTH_TRACKS,
        ),
        rule(
            S::Disclosed,
            RoundAction::FileStart,
            S::Started,
            &FILERS,
            filer_guards(vec![Guard::StartFiled]),
            &BOTH_TRACKS,
        ),
        rule(
            S::Started,
            RoundAction::SubmitReport,
            S::ReportSubmitted,
            &FILERS,
            report_guards(standard),
            &[Track::Standard],
        ),
        rule(
            S::Started,
            RoundAction::SubmitReport,
            S::ReportSubmitted,
            &FILERS,
            report_guards(small_micro),
            &[Track::SmallMicro],
        ),
        rule(
            S::ReportSubmitted,
            RoundAction::ScheduleReview,
            S::AssessmentScheduled,
            &organizer,
            vec![Guard::PanelReady],
            &BOTH_TRACKS,
        ),
        rule(
            S::AssessmentScheduled,
            RoundAction::Decide(C::Pass),
            S::Assessed,
            &organizer,
            decided(),
            &[Track::Standard],
        ),
        rule(
            S::AssessmentScheduled,
            RoundAction::Decide(C::Rectify),
            S::Rectifying,
            &organizer,
            decided(),
            &BOTH_TRACKS,
        ),
        rule(
            S::AssessmentScheduled,
            RoundAction::Decide(C::Fail),
            S::Started,
            &organizer,
            decided(),
            &[Track::Standard],
        ),
        rule(
            S::AssessmentScheduled,
            RoundAction::Decide(C::Qualified),
            S::Accepted,
            &organizer,
            decided(),
            &[Track::SmallMicro],
        ),
        rule(
            S::AssessmentScheduled,
            RoundAction::Decide(C::NotQualified),
            S::Started,
            &organizer,
            decided(),
            &[Track::SmallMicro],
        ),
        rule(
            S::Rectifying,
            RoundAction::Resubmit,
            S::ReportSubmitted,
            &FILERS,
            filer_guards(vec![Guard::RectificationUploaded]),
            &BOTH_TRACKS,
        ),
        rule(
            S::Assessed,
            RoundAction::ApplyAcceptance,
            S::AcceptanceApplied,
            &FILERS,
            filer_guards(vec![
                Guard::MediumHighOptionsDone,
                Guard::DocumentsOnFile(standard.acceptance_documents.clone()),
            ]),
            &[Track::Standard],
        ),
        rule(
            S::AcceptanceApplied,
            RoundAction::ScheduleReview,
            S::AcceptanceScheduled,
            &organizer,
            vec![Guard::PanelReady],
            &[Track::Standard],
        ),
        rule(
            S::AcceptanceScheduled,
            RoundAction::Decide(C::Qualified),
            S::Accepted,
            &organizer,
            decided(),
            &[Track::Standard],
        ),
        rule(
            S::AcceptanceScheduled,
            RoundAction::Decide(C::NotQualified),
            S::Assessed,
            &organizer,
            decided(),
            &[Track::Standard],
        ),
        rule(
            S::Accepted,
            RoundAction::Close,
            S::Closed,
            &organizer,
            vec![Guard::PhasesCompleted(standard.close_phases.clone())],
            &[Track::Standard],
        ),
        rule(
            S::Accepted,
            RoundAction::Close,
            S::Closed,
            &organizer,
            vec![Guard::PhasesCompleted(small_micro.close_phases.clone())],
            &[Track::SmallMicro],
        ),
    ];
    for from in S::ALL.into_iter().filter(|s| !s.is_final()) {
        rules.push(rule(
            from,
            RoundAction::Cancel,
            S::Cancelled,
            &[RoundActor::City, RoundActor::Province],
            vec![Guard::ReasonGiven],
            &BOTH_TRACKS,
        ));
    }
    rules
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("action {action} is not possible in state {state}")]
    NotFromState {
        state: RoundState,
        action: &'static str,
        /// The actions that are possible from this state on this track.
        possible: Vec<RoundAction>,
    },
    #[error("action {action} is not for this caller")]
    NotYourAction {
        action: &'static str,
        allowed: Vec<RoundActor>,
    },
    #[error("action {action} is refused: {} condition(s) unmet", unmet.len())]
    GuardsUnmet {
        action: &'static str,
        unmet: Vec<Guard>,
        /// The sanction's reason, when the preparer is under one.
        sanction: Option<String>,
    },
}

impl TransitionError {
    pub fn message_zh(&self) -> String {
        self.message(true)
    }

    pub fn message_en(&self) -> String {
        self.message(false)
    }

    fn message(&self, zh: bool) -> String {
        let pick = |chinese: &str, english: &str| {
            if zh {
                chinese.to_string()
            } else {
                english.to_string()
            }
        };
        match self {
            Self::NotFromState {
                state, possible, ..
            } => {
                let possible = if possible.is_empty() {
                    pick("无", "none")
                } else {
                    possible
                        .iter()
                        .map(|a| if zh { a.label_zh() } else { a.label_en() })
                        .collect::<Vec<_>>()
                        .join(if zh { "、" } else { ", " })
                };
                if zh {
                    format!(
                        "本轮当前状态为“{}”，不能进行此操作；当前可进行的操作：{possible}",
                        state.label_zh()
                    )
                } else {
                    format!(
                        "The round is \"{}\"; this action is not possible now. Possible now: {possible}",
                        state.label_en()
                    )
                }
            }
            Self::NotYourAction { allowed, .. } => {
                let parties = allowed
                    .iter()
                    .map(|a| pick(a.label_zh(), a.label_en()))
                    .collect::<Vec<_>>()
                    .join(if zh { "或" } else { " or " });
                pick(
                    &format!("此操作只能由{parties}进行"),
                    &format!("Only the {parties} may take this action"),
                )
            }
            Self::GuardsUnmet {
                unmet, sanction, ..
            } => {
                let conditions = unmet
                    .iter()
                    .map(|g| if zh { g.describe_zh() } else { g.describe_en() })
                    .collect::<Vec<_>>()
                    .join(if zh { "；" } else { "; " });
                let mut text = pick(
                    &format!("尚不满足以下条件：{conditions}"),
                    &format!("Not yet possible: {conditions}"),
                );
                if let Some(reason) = sanction {
                    text.push_str(&pick(
                        &format!("。编制材料的咨询服务机构正处于处理期（{reason}），依实施方案四(四)各级生态环境部门不得再受理其清洁生产相关业务，请更换咨询服务机构或改为自行审核"),
                        &format!(". The consultancy preparing the filing is under a sanction in force ({reason}); under Gansu plan §四(四) no authority accepts its cleaner production business, so switch consultancy or audit on your own"),
                    ));
                }
                text
            }
        }
    }
}

/// The machine for one deployment: the rules with the step requirements of both tracks.
#[derive(Debug, Clone)]
pub struct RoundMachine {
    rules: Vec<TransitionRule>,
}

impl RoundMachine {
    pub fn new(standard: &StepRequirements, small_micro: &StepRequirements) -> Self {
        Self {
            rules: transition_rules(standard, small_micro),
        }
    }

    /// The machine with the step requirements in force on `date`.
    pub fn from_book(book: &RuleBook, date: NaiveDate) -> Result<Self, RuleError> {
        Ok(Self::new(
            &StepRequirements::from_book(book, Track::Standard, date)?,
            &StepRequirements::from_book(book, Track::SmallMicro, date)?,
        ))
    }

    pub fn rules(&self) -> &[TransitionRule] {
        &self.rules
    }

    /// The actions possible from `state` on `track`, whoever the caller is.
    pub fn possible(&self, state: RoundState, track: Track) -> Vec<RoundAction> {
        let mut actions: Vec<RoundAction> = Vec::new();
        for rule in self.matching(state, track) {
            if !actions.contains(&rule.action) {
                actions.push(rule.action);
            }
        }
        actions
    }

    /// The actions `actors` may attempt from `state` (guards not yet checked).
    pub fn available(
        &self,
        state: RoundState,
        track: Track,
        actors: &BTreeSet<RoundActor>,
    ) -> Vec<RoundAction> {
        self.possible(state, track)
            .into_iter()
            .filter(|action| {
                self.find(state, track, *action)
                    .is_some_and(|rule| rule.actors.iter().any(|a| actors.contains(a)))
            })
            .collect()
    }

    /// The rule for an action from a state on a track.
    pub fn find(
        &self,
        state: RoundState,
        track: Track,
        action: RoundAction,
    ) -> Option<&TransitionRule> {
        self.matching(state, track)
            .find(|rule| rule.action == action)
    }

    fn matching(&self, state: RoundState, track: Track) -> impl Iterator<Item = &TransitionRule> {
        self.rules
            .iter()
            .filter(move |rule| rule.from == state && rule.tracks.contains(&track))
    }

    /// The next state, or every reason the action is refused: wrong state first, then wrong
    /// caller, then all unmet conditions at once so the user can fix them in one go.
    pub fn transition(
        &self,
        state: RoundState,
        track: Track,
        action: RoundAction,
        actors: &BTreeSet<RoundActor>,
        facts: &RoundFacts,
    ) -> Result<RoundState, TransitionError> {
        let rule =
            self.find(state, track, action)
                .ok_or_else(|| TransitionError::NotFromState {
                    state,
                    action: action.as_str(),
                    possible: self.possible(state, track),
                })?;
        if !rule.actors.iter().any(|a| actors.contains(a)) {
            return Err(TransitionError::NotYourAction {
                action: action.as_str(),
                allowed: rule.actors.clone(),
            });
        }
        let unmet: Vec<Guard> = rule
            .guards
            .iter()
            .filter(|guard| !facts.holds(guard))
            .cloned()
            .collect();
        if unmet.is_empty() {
            Ok(rule.to)
        } else {
            let sanction = unmet
                .contains(&Guard::PreparerNotSanctioned)
                .then(|| facts.preparer_sanction.clone())
                .flatten();
            Err(TransitionError::GuardsUnmet {
                action: action.as_str(),
                unmet,
                sanction,
            })
        }
    }

    /// The transition table as Markdown, one row per rule (docs/ROUND.md holds this output).
    pub fn markdown_table(&self) -> String {
        let mut out = String::from(
            "| From | Action | To | Who | Conditions | Track |\n|---|---|---|---|---|---|\n",
        );
        for rule in &self.rules {
            let actors = rule
                .actors
                .iter()
                .map(|a| a.label_en())
                .collect::<Vec<_>>()
                .join(", ");
            let guards = if rule.guards.is_empty() {
                "—".to_string()
            } else {
                rule.guards
                    .iter()
                    .map(|g| g.describe_en())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let tracks = rule
                .tracks
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "| {} `{}` | {} `{}` | {} `{}` | {actors} | {guards} | {tracks} |\n",
                rule.from.label_zh(),
                rule.from.as_str(),
                rule.action.label_zh(),
                rule.action.as_str(),
                rule.to.label_zh(),
                rule.to.as_str(),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard() -> StepRequirements {
        StepRequirements {
            report_phases: Phase::ALL[..5].to_vec(),
            report_documents: vec![DocumentKind::AuditReport],
            acceptance_documents: vec![DocumentKind::MonitoringAfter],
            close_phases: vec![Phase::Continuing],
        }
    }

    fn machine() -> RoundMachine {
        let small = StepRequirements {
            report_phases: vec![Phase::Preparation, Phase::PreAudit, Phase::Audit],
            report_documents: vec![DocumentKind::AuditReport],
            acceptance_documents: vec![],
            close_phases: vec![],
        };
        RoundMachine::new(&standard(), &small)
    }

    #[test]
    fn the_shipped_rule_book_sets_both_tracks() {
        let book = RuleBook::embedded();
        let day = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        let standard = StepRequirements::from_book(&book, Track::Standard, day).unwrap();
        assert_eq!(standard.report_phases, Phase::ALL[..5].to_vec());
        assert!(standard
            .acceptance_documents
            .contains(&DocumentKind::MonitoringBefore));
        let small = StepRequirements::from_book(&book, Track::SmallMicro, day).unwrap();
        assert!(small.report_phases.len() < standard.report_phases.len());
        let policy = RoundPolicy::from_book(&book, day, "620000").unwrap();
        assert_eq!(policy.track("micro"), Track::SmallMicro);
        assert_eq!(policy.track("large"), Track::Standard);
        assert_eq!(policy.organizer(true, Some("steel"), "620100"), "620000");
        assert_eq!(policy.organizer(false, Some("steel"), "620100"), "620100");
        assert_eq!(policy.organizer(true, None, "620100"), "620100");
        RoundMachine::from_book(&book, day).unwrap();
    }

    fn actors(list: &[RoundActor]) -> BTreeSet<RoundActor> {
        list.iter().copied().collect()
    }

    fn everything_done() -> RoundFacts {
        RoundFacts {
            disclosure_complete: true,
            start_filed: true,
            preparer_sanction: None,
            phases_completed: Phase::ALL.into_iter().collect(),
            documents: DocumentKind::ALL.into_iter().collect(),
            option_count: 3,
            medium_high_open: 0,
            panel_ready: true,
            scores_complete: true,
            rectification_uploaded: true,
            reason_given: true,
        }
    }

    #[test]
    fn a_standard_round_goes_from_listed_to_closed() {
        let m = machine();
        let facts = everything_done();
        let filer = actors(&[RoundActor::Enterprise]);
        let organizer = actors(&[RoundActor::City, RoundActor::Organizer]);
        let steps = [
            (RoundAction::Disclose, &filer, RoundState::Disclosed),
            (RoundAction::FileStart, &filer, RoundState::Started),
            (
                RoundAction::SubmitReport,
                &filer,
                RoundState::ReportSubmitted,
            ),
            (
                RoundAction::ScheduleReview,
                &organizer,
                RoundState::AssessmentScheduled,
            ),
            (
                RoundAction::Decide(ReviewConclusion::Pass),
                &organizer,
                RoundState::Assessed,
            ),
            (
                RoundAction::ApplyAcceptance,
                &filer,
                RoundState::AcceptanceApplied,
            ),
            (
                RoundAction::ScheduleReview,
                &organizer,
                RoundState::AcceptanceScheduled,
            ),
            (
                RoundAction::Decide(ReviewConclusion::Qualified),
                &organizer,
                RoundState::Accepted,
            ),
            (RoundAction::Close, &organizer, RoundState::Closed),
        ];
        let mut state = RoundState::Listed;
        for (action, who, expected) in steps {
            state = m
                .transition(state, Track::Standard, action, who, &facts)
                .unwrap_or_else(|e| panic!("{action:?} from {state}: {e}"));
            assert_eq!(state, expected);
        }
    }

    #[test]
    fn the_small_micro_track_has_one_combined_review() {
        let m = machine();
        let facts = everything_done();
        let organizer = actors(&[RoundActor::Organizer]);
        assert_eq!(
            review_kind(RoundState::ReportSubmitted, Track::SmallMicro),
            Some(ReviewKind::Combined)
        );
        let accepted = m.transition(
            RoundState::AssessmentScheduled,
            Track::SmallMicro,
            RoundAction::Decide(ReviewConclusion::Qualified),
            &organizer,
            &facts,
        );
        assert_eq!(accepted, Ok(RoundState::Accepted));
        let pass = m.transition(
            RoundState::AssessmentScheduled,
            Track::SmallMicro,
            RoundAction::Decide(ReviewConclusion::Pass),
            &organizer,
            &facts,
        );
        assert!(matches!(pass, Err(TransitionError::NotFromState { .. })));
    }

    #[test]
    fn small_micro_report_needs_only_its_shortened_phases() {
        let m = machine();
        let mut facts = everything_done();
        facts.phases_completed = [Phase::Preparation, Phase::PreAudit, Phase::Audit]
            .into_iter()
            .collect();
        let filer = actors(&[RoundActor::Consultancy]);
        let small = m.transition(
            RoundState::Started,
            Track::SmallMicro,
            RoundAction::SubmitReport,
            &filer,
            &facts,
        );
        assert_eq!(small, Ok(RoundState::ReportSubmitted));
        let standard = m.transition(
            RoundState::Started,
            Track::Standard,
            RoundAction::SubmitReport,
            &filer,
            &facts,
        );
        let Err(TransitionError::GuardsUnmet { unmet, .. }) = standard else {
            panic!("standard track must require phases 4 and 5: {standard:?}");
        };
        assert_eq!(
            unmet,
            vec![Guard::PhasesCompleted(Phase::ALL[..5].to_vec())]
        );
    }

    #[test]
    fn an_enterprise_cannot_decide_its_own_review() {
        let m = machine();
        let refused = m.transition(
            RoundState::AssessmentScheduled,
            Track::Standard,
            RoundAction::Decide(ReviewConclusion::Pass),
            &actors(&[RoundActor::Enterprise]),
            &everything_done(),
        );
        let Err(error) = refused else {
            panic!("must refuse")
        };
        assert!(matches!(error, TransitionError::NotYourAction { .. }));
        assert!(error.message_zh().contains("评估验收组织单位"));
    }

    #[test]
    fn all_unmet_conditions_are_reported_at_once() {
        let m = machine();
        let facts = RoundFacts::default();
        let refused = m.transition(
            RoundState::Started,
            Track::Standard,
            RoundAction::SubmitReport,
            &actors(&[RoundActor::Enterprise]),
            &facts,
        );
        let Err(TransitionError::GuardsUnmet { unmet, .. }) = refused else {
            panic!("must refuse: {refused:?}")
        };
        assert_eq!(unmet.len(), 3, "phases, report and options: {unmet:?}");
    }

    #[test]
    fn a_sanctioned_preparer_is_refused_with_the_reason_and_the_way_out() {
        let m = machine();
        let mut facts = everything_done();
        facts.preparer_sanction = Some("提供虚假审核报告".into());
        let refused = m.transition(
            RoundState::Started,
            Track::Standard,
            RoundAction::SubmitReport,
            &actors(&[RoundActor::Consultancy]),
            &facts,
        );
        let Err(error) = refused else {
            panic!("must refuse")
        };
        let message = error.message_zh();
        assert!(message.contains("提供虚假审核报告"), "{message}");
        assert!(
            message.contains("更换咨询服务机构或改为自行审核"),
            "{message}"
        );
        assert!(error.message_en().contains("switch consultancy"));
    }

    #[test]
    fn illegal_transitions_name_the_state_and_what_is_possible() {
        let m = machine();
        let refused = m.transition(
            RoundState::Listed,
            Track::Standard,
            RoundAction::ApplyAcceptance,
            &actors(&[RoundActor::Enterprise]),
            &everything_done(),
        );
        let Err(error) = refused else {
            panic!("must refuse")
        };
        let message = error.message_zh();
        assert!(message.contains("已列入名单"), "{message}");
        assert!(message.contains("发布信息公开"), "{message}");
    }

    #[test]
    fn final_states_allow_nothing_and_every_open_state_can_be_cancelled() {
        let m = machine();
        for state in RoundState::ALL {
            let possible = m.possible(state, Track::Standard);
            if state.is_final() {
                assert!(possible.is_empty(), "{state}: {possible:?}");
            } else {
                assert!(possible.contains(&RoundAction::Cancel), "{state}");
            }
        }
    }

    #[test]
    fn every_open_state_is_reachable_and_has_a_way_forward() {
        let m = machine();
        for track in [Track::Standard, Track::SmallMicro] {
            let mut reached = BTreeSet::from([RoundState::Listed]);
            let mut frontier = vec![RoundState::Listed];
            while let Some(state) = frontier.pop() {
                for rule in m.rules().iter().filter(|r| r.from == state) {
                    if rule.tracks.contains(&track) && reached.insert(rule.to) {
                        frontier.push(rule.to);
                    }
                }
            }
            assert!(reached.contains(&RoundState::Closed), "{track:?}");
            assert!(reached.contains(&RoundState::Cancelled), "{track:?}");
        }
    }

    /// Facts with exactly one guard unmet.
    fn without(guard: &Guard) -> RoundFacts {
        let mut facts = everything_done();
        match guard {
            Guard::DisclosureComplete => facts.disclosure_complete = false,
            Guard::StartFiled => facts.start_filed = false,
            Guard::PreparerNotSanctioned => facts.preparer_sanction = Some("弄虚作假".into()),
            Guard::PhasesCompleted(phases) => {
                facts.phases_completed.remove(&phases[0]);
            }
            Guard::DocumentsOnFile(kinds) => {
                facts.documents.remove(&kinds[0]);
            }
            Guard::OptionsRecorded => facts.option_count = 0,
            Guard::MediumHighOptionsDone => facts.medium_high_open = 1,
            Guard::PanelReady => facts.panel_ready = false,
            Guard::ScoresComplete => facts.scores_complete = false,
            Guard::RectificationUploaded => facts.rectification_uploaded = false,
            Guard::ReasonGiven => facts.reason_given = false,
        }
        facts
    }

    #[test]
    fn every_transition_succeeds_when_met_and_each_guard_alone_refuses_it() {
        let book = RuleBook::embedded();
        let day = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        let m = RoundMachine::from_book(&book, day).unwrap();
        let everyone: BTreeSet<RoundActor> = [
            RoundActor::Enterprise,
            RoundActor::Consultancy,
            RoundActor::City,
            RoundActor::Province,
            RoundActor::Organizer,
        ]
        .into_iter()
        .collect();
        for rule in m.rules() {
            for track in &rule.tracks {
                for actor in &rule.actors {
                    let allowed = m.transition(
                        rule.from,
                        *track,
                        rule.action,
                        &actors(&[*actor]),
                        &everything_done(),
                    );
                    assert_eq!(allowed, Ok(rule.to), "{rule:?} by {actor:?}");
                }
                let outsiders: BTreeSet<RoundActor> = everyone
                    .iter()
                    .filter(|a| !rule.actors.contains(a))
                    .copied()
                    .collect();
                if !outsiders.is_empty() {
                    let refused = m.transition(
                        rule.from,
                        *track,
                        rule.action,
                        &outsiders,
                        &everything_done(),
                    );
                    assert!(
                        matches!(refused, Err(TransitionError::NotYourAction { .. })),
                        "{rule:?} by {outsiders:?}: {refused:?}"
                    );
                }
                for guard in &rule.guards {
                    let refused = m.transition(
                        rule.from,
                        *track,
                        rule.action,
                        &actors(&rule.actors),
                        &without(guard),
                    );
                    let Err(TransitionError::GuardsUnmet { unmet, .. }) = refused else {
                        panic!("{rule:?} without {guard:?}: {refused:?}");
                    };
                    assert_eq!(unmet, vec![guard.clone()], "{rule:?}");
                }
            }
        }
    }

    #[test]
    fn no_action_is_possible_from_a_state_the_table_does_not_list_it_for() {
        let m = machine();
        for track in [Track::Standard, Track::SmallMicro] {
            for state in RoundState::ALL {
                for action in all_actions() {
                    if m.find(state, track, action).is_none() {
                        let refused = m.transition(
                            state,
                            track,
                            action,
                            &actors(&[RoundActor::Organizer, RoundActor::Enterprise]),
                            &everything_done(),
                        );
                        assert!(
                            matches!(refused, Err(TransitionError::NotFromState { .. })),
                            "{state} {action:?} on {track:?}: {refused:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for state in RoundState::ALL {
            assert_eq!(RoundState::parse(state.as_str()), Some(state));
        }
        for action in all_actions() {
            assert_eq!(RoundAction::parse(action.as_str()), Some(action));
        }
        for phase in Phase::ALL {
            assert_eq!(Phase::from_number(i64::from(phase.number())), Some(phase));
            assert_eq!(Phase::parse(phase.as_str()), Some(phase));
        }
        for kind in DocumentKind::ALL {
            assert_eq!(DocumentKind::parse(kind.as_str()), Some(kind));
        }
    }
}
