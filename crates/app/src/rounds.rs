//! The audit round's use cases: the transitions, the Art. 11 disclosure with trade-secret
//! claims, the start filing and the seven phases.
//!
//! Every action goes through [`take_action`]: the caller's roles on the round and the facts
//! the guards read are gathered here, the core machine decides, storage records.

use std::collections::{BTreeMap, BTreeSet};

use cpaudit_core::deadlines::{deadline_from, DeadlineKind};
use cpaudit_core::disclosure::{
    check as check_disclosure, required_items, DisclosureItem, SecretClaim,
};
use cpaudit_core::registry::{FieldError, Message};
use cpaudit_core::round::{
    review_kind, AuditMode, DocumentKind, Phase, RoundAction, RoundActor, RoundFacts, RoundMachine,
    RoundState, TransitionError,
};
use cpaudit_storage::disclosures::{ClaimStatus, DisclosureDraft, DisclosureRow, SecretClaimRow};
use cpaudit_storage::documents::NewDocument;
use cpaudit_storage::evidence::parse_date;
use cpaudit_storage::reviews::Decision;
use cpaudit_storage::rounds::{PhaseRecord, ReviewStep, RoundRow, StartFiling, TransitionRecord};
use cpaudit_storage::InScope;
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::input::{optional_date, Problems};
use crate::reviews::{proposal_of, review_opinion, scoring_book};
use crate::{App, Error, Result};

// ---- reading a round -----------------------------------------------------------------------

/// The round, if the caller's scope covers it.
pub async fn load_round(app: &App, principal: &Principal, id: i64) -> Result<InScope<RoundRow>> {
    app.db()
        .get_round(principal.scope(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// The parts the caller plays on this round.
pub fn actors_for(principal: &Principal, round: &RoundRow) -> BTreeSet<RoundActor> {
    cpaudit_storage::rounds::round_actors(principal, round)
}

/// Whether these parts file for the round (the enterprise or its engaged consultancy).
pub fn files_for(actors: &BTreeSet<RoundActor>) -> bool {
    actors.contains(&RoundActor::Enterprise) || actors.contains(&RoundActor::Consultancy)
}

/// Refuses anyone but the enterprise or its engaged consultancy.
pub fn require_filer(principal: &Principal, round: &RoundRow) -> Result<()> {
    if files_for(&actors_for(principal, round)) {
        Ok(())
    } else {
        Err(Error::Forbidden(Message::new(
            "只有本企业或其委托的咨询服务机构可以填报",
            "Only the enterprise or its engaged consultancy files for the round",
        )))
    }
}

/// The machine with the step requirements in force when the round was listed.
pub fn machine_for(app: &App, round: &RoundRow) -> Result<RoundMachine> {
    Ok(RoundMachine::from_book(app.rules(), round.listed_on)?)
}

/// The Art. 11 items the round's listing reasons require, as the rule book stood at listing.
pub fn required_disclosure(app: &App, round: &RoundRow) -> Result<Vec<DisclosureItem>> {
    let (items, _) = required_items(app.rules(), &round.reasons.0, round.listed_on)?;
    Ok(items)
}

/// The stored trade-secret claims by item.
pub fn claims_map(rows: &[SecretClaimRow]) -> BTreeMap<DisclosureItem, SecretClaim> {
    rows.iter()
        .filter_map(|row| {
            Some((
                DisclosureItem::parse(&row.item_key)?,
                SecretClaim {
                    reason: row.reason.clone(),
                    rejected: row.status == ClaimStatus::Rejected,
                },
            ))
        })
        .collect()
}

fn values_map(row: Option<&DisclosureRow>) -> BTreeMap<DisclosureItem, String> {
    row.map(DisclosureRow::items)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, value)| Some((DisclosureItem::parse(&key)?, value)))
        .collect()
}

/// The start filing as the enterprise enters it (and as the round stores it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StartFilingInput {
    /// self | consultancy
    pub mode: String,
    /// The engaged consultancy (mode consultancy).
    #[serde(default)]
    pub consultancy_id: Option<i64>,
    /// The audit team, one member per line: 姓名，职务，分工.
    #[serde(default)]
    pub team: String,
    /// The work plan: phases, dates and who does what.
    #[serde(default)]
    pub work_plan: String,
    /// 办法 Art. 15 (self-audit): testing instruments for material, energy and water balance.
    #[serde(default)]
    pub art15_instruments: String,
    /// 办法 Art. 15 (self-audit): technical staff who know the processes and rules.
    #[serde(default)]
    pub art15_staff: String,
}

impl StartFilingInput {
    /// The filing the round stores, or an empty one.
    pub fn from_round(round: &RoundRow) -> Self {
        round
            .start_filing
            .as_ref()
            .and_then(|filing| serde_json::from_value(filing.clone()).ok())
            .unwrap_or_default()
    }

    /// What is missing for the start to count as filed.
    pub fn gaps(&self) -> Vec<Message> {
        let mut gaps = Vec::new();
        let mut need = |missing: bool, zh: &str, en: &str| {
            if missing {
                gaps.push(Message::new(zh, en));
            }
        };
        need(
            self.team.trim().is_empty(),
            "审核小组成员",
            "audit team members",
        );
        need(
            self.work_plan.trim().is_empty(),
            "审核工作计划",
            "work plan",
        );
        match AuditMode::parse(&self.mode) {
            Some(AuditMode::SelfAudit) => {
                need(
                    self.art15_instruments.trim().is_empty(),
                    "办法第十五条：物料平衡、能量和水平衡测试的检测分析器具、设备或手段",
                    "Measures Art. 15: instruments for material, energy and water balance tests",
                );
                need(
                    self.art15_staff.trim().is_empty(),
                    "办法第十五条：熟悉生产工艺、技术规程和节能、节水、污染防治管理要求的技术人员",
                    "Measures Art. 15: technical staff who know the processes and rules",
                );
            }
            Some(AuditMode::Consultancy) => need(
                self.consultancy_id.is_none(),
                "委托的咨询服务机构",
                "the engaged consultancy",
            ),
            None => need(
                true,
                "审核方式（自行审核或委托）",
                "audit mode (self or consultancy)",
            ),
        }
        gaps
    }
}

/// Why the consultancy preparing the round's filings may not do so now, if it is sanctioned.
async fn preparer_refusal(app: &App, round: &InScope<RoundRow>) -> Result<Option<Message>> {
    match round.consultancy_id {
        Some(id) if round.audit_mode == Some(AuditMode::Consultancy) => {
            crate::consultancies::refusal_of(app, id).await
        }
        _ => Ok(None),
    }
}

/// The facts the guards read, as of now. A sanctioned preparer's refusal is given in Chinese;
/// [`take_action`] words a refusal in both languages.
pub async fn facts_for(
    app: &App,
    round: &InScope<RoundRow>,
    reason_given: bool,
) -> Result<RoundFacts> {
    let refusal = preparer_refusal(app, round).await?;
    facts_with(app, round, refusal.map(|refusal| refusal.zh), reason_given).await
}

async fn facts_with(
    app: &App,
    round: &InScope<RoundRow>,
    preparer_sanction: Option<String>,
    reason_given: bool,
) -> Result<RoundFacts> {
    let db = app.db();
    let latest = db.latest_disclosure(round).await?;
    let claims = db.secret_claims(round).await?;
    let required = required_disclosure(app, round)?;
    let disclosure_complete = latest.is_some()
        && check_disclosure(
            &required,
            &values_map(latest.as_ref()),
            &claims_map(&claims),
        )
        .is_empty();
    let filing = StartFilingInput::from_round(round);
    let stored = db.stored_facts(round).await?;
    let (option_count, medium_high_open) = db.option_summary(round).await?;
    let last_rectification = db
        .latest_upload_at(round, DocumentKind::Rectification)
        .await?;
    let rectification_uploaded = match (&last_rectification, &stored.last_decision_at) {
        (Some(upload), Some(decision)) => upload > decision,
        (Some(_), None) => true,
        _ => false,
    };
    Ok(RoundFacts {
        disclosure_complete,
        start_filed: round.audit_mode.is_some() && filing.gaps().is_empty(),
        preparer_sanction,
        phases_completed: stored
            .phases_completed
            .iter()
            .filter_map(|n| Phase::from_number(*n))
            .collect(),
        documents: db.documents_on_file(round).await?,
        option_count,
        medium_high_open,
        panel_ready: match review_kind(round.state, round.track) {
            Some(kind) => db.ready_panel_draw(round, kind).await?.is_some(),
            None => false,
        },
        scores_complete: match db.latest_review(round).await? {
            Some(review) if !review.is_decided() => db.scores_complete(&review).await?,
            _ => false,
        },
        rectification_uploaded,
        reason_given,
    })
}

// ---- reviews beside the transitions ----------------------------------------------------------

/// The review side of a schedule or decide action: the drawn panel, meeting and scoring form;
/// or the proposal from the sheets beside the organizer's conclusion.
async fn review_step<'a>(
    app: &App,
    round: &InScope<RoundRow>,
    action: RoundAction,
    input: &'a ActionInput,
    scoring_form: &'a mut String,
    opinion_number: &'a mut String,
) -> Result<Option<ReviewStep<'a>>> {
    match action {
        RoundAction::ScheduleReview => {
            let Some(kind) = review_kind(round.state, round.track) else {
                return Ok(None);
            };
            let meeting_on = parse_date(input.meeting_on.trim())
                .filter(|day| *day >= app.today())
                .ok_or_else(|| {
                    Error::bad_field(
                        "meeting_on",
                        "invalid_date",
                        "请填写评审会日期（不早于今天，YYYY-MM-DD）",
                        "give the meeting day (today or later, YYYY-MM-DD)",
                    )
                })?;
            if input.place.trim().is_empty() {
                return Err(Error::bad_field(
                    "place",
                    "required",
                    "请填写评审会地点",
                    "give the meeting place",
                ));
            }
            let form = scoring_book().form_at(kind, meeting_on).ok_or_else(|| {
                Error::bad_field(
                    "meeting_on",
                    "no_scoring_form",
                    "该日期没有适用的评分表",
                    "no scoring form applies on that day",
                )
            })?;
            *scoring_form = form.version.clone();
            // The guard made sure a ready panel exists.
            let draw = app
                .db()
                .ready_panel_draw(round, kind)
                .await?
                .ok_or(Error::NotFound)?;
            Ok(Some(ReviewStep::Schedule {
                kind,
                draw,
                meeting_on,
                place: input.place.as_str(),
                scoring_form: scoring_form.as_str(),
            }))
        }
        RoundAction::Decide(conclusion) => {
            let review = app
                .db()
                .latest_review(round)
                .await?
                .filter(|review| !review.is_decided())
                .ok_or(Error::NotFound)?;
            let seated = app.db().review_panel(&review).await?.len();
            let proposal = proposal_of(app, &review, seated).await?;
            *opinion_number = if input.opinion_number.trim().is_empty() {
                format!("评审意见〔{}〕{}号", app.today().format("%Y"), review.id)
            } else {
                input.opinion_number.trim().to_string()
            };
            Ok(Some(ReviewStep::Decide {
                review,
                decision: Decision {
                    proposed: proposal.as_ref().map(|p| p.conclusion),
                    conclusion,
                    score: proposal.as_ref().map(|p| p.score),
                    reasons: input.reason.as_str(),
                    decided_on: app.today(),
                    opinion_number: opinion_number.as_str(),
                },
            }))
        }
        _ => Ok(None),
    }
}

/// Files the technical review opinion the decision produced as the round's document.
async fn file_opinion(app: &App, principal: &Principal, round: &InScope<RoundRow>) -> Result<()> {
    let Some(review) = app.db().latest_review(round).await? else {
        return Ok(());
    };
    let opinion = review_opinion(app, round, &review).await?;
    let bytes = cpaudit_office::write_review_opinion(&opinion)
        .map_err(|error| Error::Internal(format!("review opinion: {error}")))?;
    let file_name = format!("技术审查意见-{}.docx", review.id);
    app.db()
        .file_generated_document(
            principal,
            round,
            &NewDocument {
                kind: DocumentKind::ReviewOpinion,
                file_name: &file_name,
                content_type: cpaudit_office::DOCX_CONTENT_TYPE,
                content: &bytes,
                note: &opinion.opinion_number,
            },
            app.now(),
        )
        .await?;
    Ok(())
}

// ---- transitions ---------------------------------------------------------------------------

/// An action on a round.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    /// e.g. disclose, file_start, submit_report, resubmit, apply_acceptance, close, cancel
    pub action: String,
    pub reason: String,
    /// Ids of the round's documents attached to the step.
    pub attachments: Vec<i64>,
    /// schedule_review: the meeting day (YYYY-MM-DD).
    pub meeting_on: String,
    /// schedule_review: where the panel meets.
    pub place: String,
    /// decide_*: the opinion's number (文号); default 评审意见〔year〕id号.
    pub opinion_number: String,
}

/// The machine's refusal as the caller is told it; a sanctioned preparer's refusal (carried by
/// the machine in Chinese) is worded in each language.
fn transition_error(error: &TransitionError, preparer_refusal: Option<&Message>) -> Error {
    let message = match (error, preparer_refusal) {
        (
            TransitionError::GuardsUnmet {
                action,
                unmet,
                sanction: Some(_),
            },
            Some(refusal),
        ) => {
            let worded = |text: &str| TransitionError::GuardsUnmet {
                action,
                unmet: unmet.clone(),
                sanction: Some(text.to_string()),
            };
            Message::new(
                worded(&refusal.zh).message_zh(),
                worded(&refusal.en).message_en(),
            )
        }
        _ => Message::new(error.message_zh(), error.message_en()),
    };
    match error {
        TransitionError::NotYourAction { .. } => Error::ForbiddenField {
            code: "not_your_action",
            message,
            field: Some("action".into()),
        },
        TransitionError::NotFromState { .. } => {
            Error::conflict("illegal_transition", Some("action"), message)
        }
        TransitionError::GuardsUnmet { .. } => {
            Error::conflict("conditions_unmet", Some("action"), message)
        }
    }
}

/// Takes an action on a round: the machine decides from the caller's roles and the facts; the
/// round moves, the deadlines it meets are marked, and the step joins the timeline.
pub async fn take_action(
    app: &App,
    principal: &Principal,
    round_id: i64,
    input: &ActionInput,
) -> Result<RoundState> {
    let round = load_round(app, principal, round_id).await?;
    let action = RoundAction::parse(input.action.trim()).ok_or_else(|| {
        Error::bad_field(
            "action",
            "unknown_action",
            &format!("未知的操作“{}”", input.action),
            &format!("unknown action \"{}\"", input.action),
        )
    })?;
    if action.needs_reason() && input.reason.trim().is_empty() {
        return Err(Error::bad_field(
            "reason",
            "required",
            "此操作须填写理由",
            "this action needs a reason",
        ));
    }
    check_attachments(app, &round, &input.attachments).await?;
    let machine = machine_for(app, &round)?;
    let refusal = preparer_refusal(app, &round).await?;
    let facts = facts_with(
        app,
        &round,
        refusal.as_ref().map(|refusal| refusal.zh.clone()),
        !input.reason.trim().is_empty(),
    )
    .await?;
    let to = machine
        .transition(
            round.state,
            round.track,
            action,
            &actors_for(principal, &round),
            &facts,
        )
        .map_err(|error| transition_error(&error, refusal.as_ref()))?;
    let mut scoring_form = String::new();
    let mut opinion_number = String::new();
    let review = review_step(
        app,
        &round,
        action,
        input,
        &mut scoring_form,
        &mut opinion_number,
    )
    .await?;
    let today = app.today();
    let started = DeadlineKind::started_by(action)
        .filter(|_| to != RoundState::Accepted)
        .map(|kind| deadline_from(kind, today, app.rules(), app.calendar()))
        .transpose()?;
    app.db()
        .apply_transition(
            principal,
            &round,
            &TransitionRecord {
                action,
                from: round.state,
                to,
                expected_version: round.version,
                reason: &input.reason,
                attachments: &input.attachments,
                today,
                started,
                detail: json!({"meeting_on": input.meeting_on.trim(), "place": input.place.trim()}),
                review,
            },
            app.now(),
        )
        .await?;
    if matches!(action, RoundAction::Decide(_)) {
        file_opinion(app, principal, &round).await?;
    }
    Ok(to)
}

/// Attachments must be documents of this round.
async fn check_attachments(
    app: &App,
    round: &InScope<RoundRow>,
    attachments: &[i64],
) -> Result<()> {
    if attachments.is_empty() {
        return Ok(());
    }
    let known = app.db().round_document_ids(round).await?;
    if let Some(stranger) = attachments.iter().find(|id| !known.contains(id)) {
        return Err(Error::bad_field(
            "attachments",
            "unknown_document",
            &format!("附件 {stranger} 不是本轮审核的材料"),
            &format!("attachment {stranger} is not a document of this round"),
        ));
    }
    Ok(())
}

// ---- disclosure ----------------------------------------------------------------------------

/// Where a disclosure is made public (办法 Art. 11: main local media, the company's website or
/// another way the public can easily learn of it), as stored and shown.
pub const DISCLOSURE_CHANNELS: [&str; 3] = ["企业官网", "主要媒体", "其他"];

/// The disclosure as entered: items by key, channel, trade-secret claims by key.
#[derive(Debug, Clone, Default)]
pub struct DisclosureInput {
    pub items: BTreeMap<String, String>,
    /// 主要媒体 | 企业官网 | 其他
    pub channel: String,
    /// The URL or the medium's name.
    pub channel_detail: String,
    /// Item key → the reason it is a trade secret (商业秘密, 促进法 Art. 27(4)).
    pub secrets: BTreeMap<String, String>,
}

/// Saves the disclosure (before publication: a draft; after: a correction published at once).
pub async fn save_disclosure(
    app: &App,
    principal: &Principal,
    round_id: i64,
    input: &DisclosureInput,
) -> Result<()> {
    let round = load_round(app, principal, round_id).await?;
    require_filer(principal, &round)?;
    let mut errors: Vec<FieldError> = input
        .items
        .keys()
        .chain(input.secrets.keys())
        .filter(|key| DisclosureItem::parse(key).is_none())
        .map(|key| {
            FieldError::new(
                key,
                "unknown_item",
                Message::new(
                    format!("未知的公开事项“{key}”"),
                    format!("unknown disclosure item \"{key}\""),
                ),
            )
        })
        .collect();
    if !DISCLOSURE_CHANNELS.contains(&input.channel.trim()) {
        errors.push(FieldError::new(
            "channel",
            "unknown_channel",
            Message::new(
                "公开渠道应为企业官网、主要媒体或其他",
                "the channel must be 企业官网 (company website), 主要媒体 (main media) or 其他 (other)",
            ),
        ));
    }
    if input.channel_detail.trim().is_empty() {
        errors.push(FieldError::new(
            "channel_detail",
            "required",
            Message::new(
                "请填写公开渠道（主要媒体、企业官网或其他便于公众知晓的方式）及网址或媒体名称",
                "give the channel (main media, company website or another public way) and its address or name",
            ),
        ));
    }
    let items: BTreeMap<DisclosureItem, String> = input
        .items
        .iter()
        .filter_map(|(k, v)| Some((DisclosureItem::parse(k)?, v.clone())))
        .collect();
    let mut claims = claims_map(&app.db().secret_claims(&round).await?);
    claims.retain(|_, claim| claim.rejected);
    for (key, reason) in &input.secrets {
        if let Some(item) = DisclosureItem::parse(key) {
            claims.entry(item).or_insert(SecretClaim {
                reason: reason.clone(),
                rejected: false,
            });
        }
    }
    let required = required_disclosure(app, &round)?;
    // Every problem at once, each at its item, so that a form shows them all beside their items.
    errors.extend(
        check_disclosure(&required, &items, &claims)
            .into_iter()
            .map(|problem| {
                FieldError::new(
                    &problem.item,
                    "disclosure_incomplete",
                    Message::new(problem.message_zh, problem.message_en),
                )
            }),
    );
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let already_published = round.state != RoundState::Listed;
    app.db()
        .save_disclosure(
            principal,
            &round,
            &DisclosureDraft {
                items: input.items.clone(),
                channel: input.channel.clone(),
                channel_detail: input.channel_detail.clone(),
                claims: input.secrets.clone(),
                publish_on: already_published.then(|| app.today()),
            },
            app.now(),
        )
        .await?;
    Ok(())
}

// ---- start filing and phases -----------------------------------------------------------------

/// Saves the start filing: audit mode, the engaged consultancy (refused while it is
/// sanctioned), the audit team, the work plan and, for a self-audit, the Art. 15 evidence.
pub async fn save_start(
    app: &App,
    principal: &Principal,
    round_id: i64,
    input: &StartFilingInput,
) -> Result<()> {
    let round = load_round(app, principal, round_id).await?;
    require_filer(principal, &round)?;
    let mode = AuditMode::parse(input.mode.trim()).ok_or_else(|| {
        Error::bad_field(
            "mode",
            "invalid_mode",
            "审核方式应为 self（企业自行组织）或 consultancy（委托咨询服务机构）",
            "mode must be self or consultancy",
        )
    })?;
    let consultancy_id = match mode {
        AuditMode::SelfAudit => None,
        AuditMode::Consultancy => {
            let id = input.consultancy_id.ok_or_else(|| {
                Error::bad_field(
                    "consultancy_id",
                    "required",
                    "委托审核须选择已签约的咨询服务机构",
                    "an engaged consultancy is required",
                )
            })?;
            if let Some(refusal) = crate::consultancies::refusal_of(app, id).await? {
                return Err(Error::invalid(
                    "consultancy_sanctioned",
                    Some("consultancy_id"),
                    refusal,
                ));
            }
            if !app.db().is_engaged(&round, id).await? {
                return Err(Error::bad_field(
                    "consultancy_id",
                    "not_engaged",
                    "该咨询服务机构尚未与本企业登记委托关系，请先在企业页面登记委托",
                    "the consultancy is not engaged by this enterprise; record the engagement first",
                ));
            }
            Some(id)
        }
    };
    let filing = StartFilingInput {
        mode: mode.as_str().into(),
        consultancy_id,
        ..input.clone()
    };
    app.db()
        .save_start_filing(
            principal,
            &round,
            &StartFiling {
                mode,
                consultancy_id,
                filing: serde_json::to_value(&filing).unwrap_or_default(),
            },
            app.now(),
        )
        .await?;
    Ok(())
}

/// The dates and summary of one phase.
#[derive(Debug, Clone, Default)]
pub struct PhaseInput {
    /// 1–7.
    pub phase: i64,
    pub started_on: String,
    pub completed_on: String,
    pub summary: String,
    pub attachments: Vec<i64>,
}

/// Records the dates, summary and attachments of one of the seven phases.
/// Whether a round's phases may be recorded: once the start of the audit is filed.
pub fn phases_open(round: &RoundRow) -> bool {
    !matches!(round.state, RoundState::Listed | RoundState::Disclosed)
}

pub async fn record_phase(
    app: &App,
    principal: &Principal,
    round_id: i64,
    input: &PhaseInput,
) -> Result<()> {
    let round = load_round(app, principal, round_id).await?;
    require_filer(principal, &round)?;
    if !phases_open(&round) {
        return Err(Error::bad_field(
            "phase",
            "not_started",
            "请先完成开展审核备案，再记录审核阶段",
            "file the start of the audit before recording phases",
        ));
    }
    let mut problems = Problems::default();
    let phase = problems.check(Phase::from_number(input.phase).ok_or_else(|| {
        Error::bad_field(
            "phase",
            "invalid_phase",
            "审核阶段应为 1–7",
            "phase must be 1 to 7",
        )
    }))?;
    let started_on = problems.check(optional_date("started_on", &input.started_on))?;
    let completed_on = problems.check(optional_date("completed_on", &input.completed_on))?;
    let (phase, (started_on, completed_on)) =
        problems.finish(phase.zip(started_on.zip(completed_on)))?;
    let today = app.today();
    for (field, date) in [("started_on", started_on), ("completed_on", completed_on)] {
        if date.is_some_and(|d| d > today || d < round.listed_on) {
            return Err(Error::bad_field(
                field,
                "out_of_range",
                "日期不能早于列入名单之日，也不能晚于今天",
                "the date cannot be before the listing or after today",
            ));
        }
    }
    if let (Some(start), Some(end)) = (started_on, completed_on) {
        if end < start {
            return Err(Error::bad_field(
                "completed_on",
                "before_start",
                "完成日期不能早于开始日期",
                "completed_on cannot be before started_on",
            ));
        }
    }
    check_attachments(app, &round, &input.attachments).await?;
    app.db()
        .record_phase(
            principal,
            &round,
            &PhaseRecord {
                phase,
                started_on,
                completed_on,
                summary: &input.summary,
                attachments: &input.attachments,
            },
            app.now(),
        )
        .await?;
    Ok(())
}

/// The enterprise's city rejects an unjustified trade-secret claim on a disclosure item, with
/// a reason: the item is then published.
pub async fn reject_secret_claim(
    app: &App,
    principal: &Principal,
    round_id: i64,
    item: &str,
    reason: &str,
) -> Result<()> {
    let round = load_round(app, principal, round_id).await?;
    if reason.trim().is_empty() {
        return Err(Error::bad_field(
            "reason",
            "required",
            "驳回商业秘密主张须说明理由",
            "rejecting a trade-secret claim needs a reason",
        ));
    }
    app.db()
        .reject_secret_claim(principal, &round, item, reason, app.now())
        .await?;
    Ok(())
}
