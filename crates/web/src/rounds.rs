//! Audit rounds online: the work list, a round's page (deadlines with their citations, what
//! the caller can do now and what is still missing, the timeline), the transitions, the Art. 11
//! disclosure with trade-secret claims, the start filing and the seven phases; the public
//! disclosure pages.
//!
//! Every action goes through [`take_action`]: the caller's roles on the round and the facts
//! the guards read are gathered here, the core machine decides, storage records.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use cpaudit_core::deadlines::{deadline_from, DeadlineKind};
use cpaudit_core::determination::Reason;
use cpaudit_core::disclosure::{
    check as check_disclosure, public_item, required_items, DisclosureItem, PublicItem, SecretClaim,
};
use cpaudit_core::round::{
    review_kind, AuditMode, DocumentKind, Phase, RoundAction, RoundActor, RoundFacts, RoundMachine,
    RoundState, TransitionError,
};
use cpaudit_core::rules::RuleRef;
use cpaudit_storage::disclosures::{
    DisclosureDraft, DisclosureRow, PublicDisclosureRow, SecretClaimRow,
};
use cpaudit_storage::documents::NewDocument;
use cpaudit_storage::evidence::{date_text, parse_date, parse_reasons};
use cpaudit_storage::reviews::{Decision, ReviewRow};
use cpaudit_storage::rounds::{
    DeadlineRow, PhaseRecord, PhaseRow, ReviewStep, RoundEventRow, RoundFilter, RoundListRow,
    RoundRow, StartFiling, TransitionRecord,
};
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::i18n::Lang;
use crate::pages::{render, Ctx};
use crate::AppState;

// ---- reading a round -----------------------------------------------------------------------

async fn load_round(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> Result<RoundRow, AppError> {
    state
        .db()
        .get_round(principal.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The parts the caller plays on this round.
pub fn actors_for(principal: &Principal, round: &RoundRow) -> BTreeSet<RoundActor> {
    cpaudit_storage::rounds::round_actors(principal, round)
}

fn rule_error(error: cpaudit_core::rules::RuleError) -> AppError {
    crate::cycle::rule_error(error)
}

fn listed_on(round: &RoundRow) -> NaiveDate {
    parse_date(&round.listed_on).unwrap_or(NaiveDate::MIN)
}

/// The machine with the step requirements in force when the round was listed.
fn machine_for(state: &AppState, round: &RoundRow) -> Result<RoundMachine, AppError> {
    RoundMachine::from_book(state.rules(), listed_on(round)).map_err(rule_error)
}

fn reasons_of(round: &RoundRow) -> BTreeSet<Reason> {
    parse_reasons(&round.reasons)
}

fn required_disclosure(
    state: &AppState,
    round: &RoundRow,
) -> Result<Vec<DisclosureItem>, AppError> {
    required_items(state.rules(), &reasons_of(round), listed_on(round))
        .map(|(items, _)| items)
        .map_err(rule_error)
}

fn claims_map(rows: &[SecretClaimRow]) -> BTreeMap<DisclosureItem, SecretClaim> {
    rows.iter()
        .filter_map(|row| {
            Some((
                DisclosureItem::parse(&row.item_key)?,
                SecretClaim {
                    reason: row.reason.clone(),
                    rejected: row.status == "rejected",
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

/// The start filing as the enterprise enters it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct StartFilingJson {
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

impl StartFilingJson {
    fn from_round(round: &RoundRow) -> Self {
        round
            .start_filing
            .as_ref()
            .and_then(|filing| serde_json::from_value(filing.clone()).ok())
            .unwrap_or_default()
    }

    /// What is missing for the start to count as filed.
    fn gaps(&self, lang: Lang) -> Vec<String> {
        let mut gaps = Vec::new();
        let mut need = |missing: bool, zh: &str, en: &str| {
            if missing {
                gaps.push(lang.pick(zh, en).to_string());
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

/// The round's latest review, read with the console's authority (the caller has read the round).
async fn current_review(state: &AppState, round: &RoundRow) -> Result<Option<ReviewRow>, AppError> {
    let operator = Principal::console_operator("rounds");
    Ok(state
        .db()
        .current_review(operator.scope(), round.id)
        .await?)
}

/// The review side of a schedule or decide action: the drawn panel, meeting and scoring form;
/// or the proposal from the sheets beside the organizer's conclusion.
async fn review_step<'a>(
    state: &AppState,
    round: &RoundRow,
    action: RoundAction,
    input: &'a ActionJson,
    scoring_form: &'a mut String,
    opinion_number: &'a mut String,
) -> Result<Option<ReviewStep<'a>>, AppError> {
    match action {
        RoundAction::ScheduleReview => {
            let Some(kind) = review_kind(round.state(), round.track()) else {
                return Ok(None);
            };
            let meeting_on = parse_date(input.meeting_on.trim())
                .filter(|day| *day >= state.today())
                .ok_or_else(|| {
                    AppError::bad_field(
                        "meeting_on",
                        "invalid_date",
                        "请填写评审会日期（不早于今天，YYYY-MM-DD）",
                        "give the meeting day (today or later, YYYY-MM-DD)",
                    )
                })?;
            if input.place.trim().is_empty() {
                return Err(AppError::bad_field(
                    "place",
                    "required",
                    "请填写评审会地点",
                    "give the meeting place",
                ));
            }
            let form = crate::reviews::scoring_book()
                .form_at(kind, meeting_on)
                .ok_or_else(|| {
                    AppError::bad_field(
                        "meeting_on",
                        "no_scoring_form",
                        "该日期没有适用的评分表",
                        "no scoring form applies on that day",
                    )
                })?;
            *scoring_form = form.version.clone();
            // The guard made sure a ready panel exists.
            let draw_id = state
                .db()
                .ready_panel_draw(round.id, kind)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Some(ReviewStep::Schedule {
                kind,
                draw_id,
                meeting_on,
                place: input.place.as_str(),
                scoring_form: scoring_form.as_str(),
            }))
        }
        RoundAction::Decide(conclusion) => {
            let review = current_review(state, round)
                .await?
                .filter(|review| !review.is_decided())
                .ok_or(AppError::NotFound)?;
            let seated = state.db().review_panel(&review).await?.len();
            let proposal = crate::reviews::proposal_of(state, &review, seated).await?;
            *opinion_number = if input.opinion_number.trim().is_empty() {
                format!("评审意见〔{}〕{}号", state.today().format("%Y"), review.id)
            } else {
                input.opinion_number.trim().to_string()
            };
            Ok(Some(ReviewStep::Decide {
                review_id: review.id,
                decision: Decision {
                    proposed: proposal.as_ref().map(|p| p.conclusion),
                    conclusion,
                    score: proposal.as_ref().map(|p| p.score),
                    reasons: input.reason.as_str(),
                    decided_on: state.today(),
                    opinion_number: opinion_number.as_str(),
                },
            }))
        }
        _ => Ok(None),
    }
}

/// Files the technical review opinion the decision produced as the round's document.
async fn file_opinion(
    state: &AppState,
    principal: &Principal,
    round: &RoundRow,
) -> Result<(), AppError> {
    let Some(review) = current_review(state, round).await? else {
        return Ok(());
    };
    let opinion = crate::reviews::opinion_of(state, principal, review.id).await?;
    let bytes = cpaudit_office::write_review_opinion(&opinion).map_err(|error| {
        tracing::error!(%error, "review opinion");
        AppError::Internal
    })?;
    let file_name = format!("技术审查意见-{}.docx", review.id);
    state
        .db()
        .file_generated_document(
            principal,
            round.id,
            &NewDocument {
                kind: DocumentKind::ReviewOpinion,
                file_name: &file_name,
                content_type: cpaudit_office::DOCX_CONTENT_TYPE,
                content: &bytes,
                note: &opinion.opinion_number,
            },
            state.now(),
        )
        .await?;
    Ok(())
}

/// The facts the guards read, as of now.
async fn facts_for(
    state: &AppState,
    round: &RoundRow,
    lang: Lang,
    reason_given: bool,
) -> Result<RoundFacts, AppError> {
    let db = state.db();
    let latest = db.latest_disclosure(round).await?;
    let claims = db.secret_claims(round.id).await?;
    let required = required_disclosure(state, round)?;
    let disclosure_complete = latest.is_some()
        && check_disclosure(
            &required,
            &values_map(latest.as_ref()),
            &claims_map(&claims),
        )
        .is_empty();
    let filing = StartFilingJson::from_round(round);
    let preparer_sanction = match round.consultancy_id {
        Some(id) if round.audit_mode.as_deref() == Some("consultancy") => {
            crate::consultancies::refusal_of(state, id, lang).await?
        }
        _ => None,
    };
    let stored = db.stored_facts(round).await?;
    let (option_count, medium_high_open) = db.option_summary(round.id).await?;
    let last_rectification = db
        .latest_upload_at(round.id, DocumentKind::Rectification)
        .await?;
    let rectification_uploaded = match (&last_rectification, &stored.last_decision_at) {
        (Some(upload), Some(decision)) => upload > decision,
        (Some(_), None) => true,
        _ => false,
    };
    Ok(RoundFacts {
        disclosure_complete,
        start_filed: round.audit_mode.is_some() && filing.gaps(lang).is_empty(),
        preparer_sanction,
        phases_completed: stored
            .phases_completed
            .iter()
            .filter_map(|n| Phase::from_number(*n))
            .collect(),
        documents: db.documents_on_file(round.id).await?,
        option_count,
        medium_high_open,
        panel_ready: match review_kind(round.state(), round.track()) {
            Some(kind) => db.ready_panel_draw(round.id, kind).await?.is_some(),
            None => false,
        },
        scores_complete: match current_review(state, round).await? {
            Some(review) if !review.is_decided() => db.scores_complete(review.id).await?,
            _ => false,
        },
        rectification_uploaded,
        reason_given,
    })
}

// ---- transitions ---------------------------------------------------------------------------

/// An action on a round, from a form or the API.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ActionJson {
    /// e.g. disclose, file_start, submit_report, resubmit, apply_acceptance, close, cancel
    pub action: String,
    #[serde(default)]
    pub reason: String,
    /// Ids of the round's documents attached to the step.
    #[serde(default)]
    pub attachments: Vec<i64>,
    /// schedule_review: the meeting day (YYYY-MM-DD).
    #[serde(default)]
    pub meeting_on: String,
    /// schedule_review: where the panel meets.
    #[serde(default)]
    pub place: String,
    /// decide_*: the opinion's number (文号); default 评审意见〔year〕id号.
    #[serde(default)]
    pub opinion_number: String,
}

fn transition_error(error: &TransitionError) -> AppError {
    let message = cpaudit_core::registry::Message::new(error.message_zh(), error.message_en());
    match error {
        TransitionError::NotYourAction { .. } => AppError::ForbiddenField {
            code: "not_your_action",
            message,
            field: Some("action".into()),
        },
        TransitionError::NotFromState { .. } => AppError::Conflict {
            code: "illegal_transition",
            message,
            field: Some("action".into()),
        },
        TransitionError::GuardsUnmet { .. } => AppError::Conflict {
            code: "conditions_unmet",
            message,
            field: Some("action".into()),
        },
    }
}

/// Takes an action on a round: the machine decides from the caller's roles and the facts; the
/// round moves, the deadlines it meets are marked, and the step joins the timeline.
pub async fn take_action(
    state: &AppState,
    principal: &Principal,
    lang: Lang,
    round_id: i64,
    input: &ActionJson,
) -> Result<RoundState, AppError> {
    let round = load_round(state, principal, round_id).await?;
    let action = RoundAction::parse(input.action.trim()).ok_or_else(|| {
        AppError::bad_field(
            "action",
            "unknown_action",
            &format!("未知的操作“{}”", input.action),
            &format!("unknown action \"{}\"", input.action),
        )
    })?;
    if action.needs_reason() && input.reason.trim().is_empty() {
        return Err(AppError::bad_field(
            "reason",
            "required",
            "此操作须填写理由",
            "this action needs a reason",
        ));
    }
    check_attachments(state, &round, &input.attachments).await?;
    let machine = machine_for(state, &round)?;
    let facts = facts_for(state, &round, lang, !input.reason.trim().is_empty()).await?;
    let to = machine
        .transition(
            round.state(),
            round.track(),
            action,
            &actors_for(principal, &round),
            &facts,
        )
        .map_err(|error| transition_error(&error))?;
    let mut scoring_form = String::new();
    let mut opinion_number = String::new();
    let review = review_step(
        state,
        &round,
        action,
        input,
        &mut scoring_form,
        &mut opinion_number,
    )
    .await?;
    let today = state.today();
    let started = DeadlineKind::started_by(action)
        .filter(|_| to != RoundState::Accepted)
        .map(|kind| deadline_from(kind, today, state.rules(), state.calendar()))
        .transpose()
        .map_err(rule_error)?;
    state
        .db()
        .apply_transition(
            principal,
            &round,
            &TransitionRecord {
                action,
                from: round.state(),
                to,
                expected_version: round.version,
                reason: &input.reason,
                attachments: &input.attachments,
                today,
                started,
                detail: json!({"meeting_on": input.meeting_on.trim(), "place": input.place.trim()}),
                review,
            },
            state.now(),
        )
        .await?;
    if matches!(action, RoundAction::Decide(_)) {
        file_opinion(state, principal, &round).await?;
    }
    Ok(to)
}

/// Attachments must be documents of this round.
async fn check_attachments(
    state: &AppState,
    round: &RoundRow,
    attachments: &[i64],
) -> Result<(), AppError> {
    if attachments.is_empty() {
        return Ok(());
    }
    let known = state.db().round_document_ids(round).await?;
    if let Some(stranger) = attachments.iter().find(|id| !known.contains(id)) {
        return Err(AppError::bad_field(
            "attachments",
            "unknown_document",
            &format!("附件 {stranger} 不是本轮审核的材料"),
            &format!("attachment {stranger} is not a document of this round"),
        ));
    }
    Ok(())
}

/// Takes an action on a round (who may, and when, is in docs/ROUND.md).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/actions", tag = "rounds",
    params(("id" = i64, Path)), request_body = ActionJson,
    responses((status = 200, body = RoundJson), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn api_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<ActionJson>,
) -> Result<Json<RoundJson>, ApiError> {
    let principal = caller.principal()?;
    take_action(&state, principal, caller.lang, id, &input).await?;
    Ok(Json(round_json(&state, principal, caller.lang, id).await?))
}

pub async fn action_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(input): Form<ActionJson>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    take_action(&state, principal, caller.lang, id, &input).await?;
    Ok(Redirect::to(&format!("/rounds/{id}")).into_response())
}

// ---- the round as a whole ------------------------------------------------------------------

/// A deadline with its standing today.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineView {
    #[serde(flatten)]
    pub deadline: DeadlineRow,
    pub label: String,
    /// met | open | overdue | stopped
    pub standing: String,
    /// Days left (negative: days overdue) for an open deadline.
    pub days_left: Option<i64>,
    /// The citations of the rule behind the period, as text.
    pub citation: String,
}

/// An action and whether the caller can take it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    pub action: String,
    pub label: String,
    pub needs_reason: bool,
    /// The conditions still unmet (empty: it can be taken now).
    pub missing: Vec<String>,
}

/// A round with everything its page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundJson {
    pub round: RoundRow,
    pub state_label: String,
    pub track_label: String,
    pub organizer_name: String,
    pub deadlines: Vec<DeadlineView>,
    /// What the caller may do now or next, with what is missing.
    pub actions: Vec<ActionView>,
    pub phases: Vec<PhaseRow>,
    pub start_filing: StartFilingJson,
    pub start_gaps: Vec<String>,
    pub disclosure: Option<DisclosureRow>,
    pub secret_claims: Vec<SecretClaimRow>,
    /// The round's latest review (scheduled or decided), if any.
    pub review_id: Option<i64>,
    pub timeline: Vec<RoundEventRow>,
}

/// The citations of a stored rule reference, with document titles and confidence.
fn citation_text(state: &AppState, lang: Lang, rule: &RuleRef) -> String {
    rule.citations
        .iter()
        .map(|c| {
            let title = state
                .rules()
                .document(&c.document)
                .map_or(c.document.as_str(), |d| d.title.as_str());
            format!(
                "{title}{}（{}）",
                c.article,
                crate::public::confidence_label(c.confidence, lang)
            )
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn deadline_view(state: &AppState, row: DeadlineRow, today: NaiveDate, lang: Lang) -> DeadlineView {
    let kind = DeadlineKind::parse(&row.kind);
    let due = parse_date(&row.due_on);
    let days_left = due
        .filter(|_| row.is_open())
        .map(|due| (due - today).num_days());
    let standing = match (&row.met_on, &row.closed_reason, days_left) {
        (Some(_), _, _) => "met",
        (None, Some(_), _) => "stopped",
        (None, None, Some(days)) if days < 0 => "overdue",
        _ => "open",
    };
    DeadlineView {
        label: kind.map_or(row.kind.clone(), |k| {
            lang.pick(k.label_zh(), k.label_en()).to_string()
        }),
        standing: standing.into(),
        days_left,
        citation: citation_text(state, lang, &row.rule),
        deadline: row,
    }
}

async fn round_json(
    state: &AppState,
    principal: &Principal,
    lang: Lang,
    id: i64,
) -> Result<RoundJson, AppError> {
    let round = load_round(state, principal, id).await?;
    let db = state.db();
    let today = state.today();
    let machine = machine_for(state, &round)?;
    let facts = facts_for(state, &round, lang, true).await?;
    let actors = actors_for(principal, &round);
    let actions = machine
        .available(round.state(), round.track(), &actors)
        .into_iter()
        .map(|action| {
            let missing =
                match machine.transition(round.state(), round.track(), action, &actors, &facts) {
                    Ok(_) => Vec::new(),
                    Err(TransitionError::GuardsUnmet { unmet, .. }) => unmet
                        .iter()
                        .filter(|g| **g != cpaudit_core::round::Guard::ReasonGiven)
                        .map(|g| match lang {
                            Lang::Zh => g.describe_zh(),
                            Lang::En => g.describe_en(),
                        })
                        .collect(),
                    Err(other) => vec![match lang {
                        Lang::Zh => other.message_zh(),
                        Lang::En => other.message_en(),
                    }],
                };
            ActionView {
                action: action.as_str().into(),
                label: match lang {
                    Lang::Zh => action.label_zh(),
                    Lang::En => action.label_en(),
                },
                needs_reason: action.needs_reason(),
                missing,
            }
        })
        .collect();
    let filing = StartFilingJson::from_round(&round);
    Ok(RoundJson {
        state_label: lang
            .pick(round.state().label_zh(), round.state().label_en())
            .into(),
        track_label: lang
            .pick(round.track().label_zh(), round.track().label_en())
            .into(),
        organizer_name: crate::pages::city_name(state, lang, &round.organizer_code),
        deadlines: db
            .round_deadlines(&round)
            .await?
            .into_iter()
            .map(|row| deadline_view(state, row, today, lang))
            .collect(),
        actions,
        phases: db.round_phases(&round).await?,
        start_gaps: filing.gaps(lang),
        start_filing: filing,
        disclosure: db.latest_disclosure(&round).await?,
        secret_claims: db.secret_claims(round.id).await?,
        review_id: current_review(state, &round).await?.map(|r| r.id),
        timeline: masked_timeline(db.round_events(&round).await?, &actors),
        round,
    })
}

/// One round with its deadlines, possible actions, phases, disclosure and timeline.
#[utoipa::path(get, path = "/api/v1/rounds/{id}", tag = "rounds", params(("id" = i64, Path)),
    responses((status = 200, body = RoundJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_round(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RoundJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(round_json(&state, principal, caller.lang, id).await?))
}

struct PhaseView {
    number: u8,
    name: String,
    started_on: String,
    completed_on: String,
    summary: String,
}

struct EventView {
    at: String,
    what: String,
    actor: String,
    reason: String,
    attachments: String,
}

#[derive(Template)]
#[template(path = "round.html")]
struct RoundPage {
    ctx: Ctx,
    r: RoundJson,
    phases: Vec<PhaseView>,
    events: Vec<EventView>,
    may_file: bool,
    may_reject_claims: bool,
    today: String,
}

fn event_label(lang: Lang, event: &RoundEventRow) -> String {
    if let Some(action) = RoundAction::parse(&event.action) {
        let to = event
            .to_state
            .as_deref()
            .and_then(RoundState::parse)
            .map(|s| lang.pick(s.label_zh(), s.label_en()).to_string())
            .unwrap_or_default();
        let label = match lang {
            Lang::Zh => action.label_zh(),
            Lang::En => action.label_en(),
        };
        return format!("{label} → {to}");
    }
    let known: [(&str, &str, &str); 19] = [
        ("listed", "列入名单", "Listed"),
        ("phase_recorded", "记录审核阶段", "Phase recorded"),
        (
            "start_filing_saved",
            "保存开展审核备案",
            "Start filing saved",
        ),
        ("disclosure_saved", "保存信息公开内容", "Disclosure saved"),
        (
            "disclosure_corrected",
            "更正并重新公开",
            "Disclosure corrected and republished",
        ),
        (
            "secret_claim_rejected",
            "驳回商业秘密主张",
            "Trade-secret claim rejected",
        ),
        ("document_uploaded", "上传材料", "Document uploaded"),
        ("option_added", "新增清洁生产方案", "Option added"),
        ("options_imported", "导入清洁生产方案", "Options imported"),
        ("option_updated", "修改清洁生产方案", "Option changed"),
        ("option_deleted", "删除清洁生产方案", "Option deleted"),
        ("option_status", "方案状态变更", "Option status changed"),
        ("option_values", "录入方案削减量", "Option values entered"),
        (
            "score_sheet_submitted",
            "专家提交评分表",
            "Expert score sheet submitted",
        ),
        (
            "score_sheet_replaced",
            "专家更新评分表",
            "Expert score sheet replaced",
        ),
        (
            "enforcement_order_to_correct",
            "责令改正",
            "Order to correct",
        ),
        ("enforcement_fine", "罚款决定", "Fine decided"),
        (
            "enforcement_public_criticism",
            "通报批评",
            "Public criticism",
        ),
        (
            "enforcement_outcome",
            "记录责令改正结果",
            "Outcome of an order recorded",
        ),
    ];
    known
        .iter()
        .find(|(key, _, _)| *key == event.action)
        .map_or(event.action.clone(), |(_, zh, en)| {
            lang.pick(zh, en).to_string()
        })
}

/// The timeline as the caller may read it: who scored is the organizer's to know (the panel
/// is published only when the review is finished), so others see "评审专家" instead.
fn masked_timeline(
    events: Vec<RoundEventRow>,
    actors: &BTreeSet<RoundActor>,
) -> Vec<RoundEventRow> {
    if actors.contains(&RoundActor::Organizer) {
        return events;
    }
    events
        .into_iter()
        .map(|mut event| {
            if event.action.starts_with("score_sheet_") {
                event.actor = "评审专家 expert".into();
            }
            event
        })
        .collect()
}

/// The username of a stored actor ("user:12:lanzhou" → "lanzhou").
fn display_actor(actor: &str) -> String {
    actor.rsplit(':').next().unwrap_or(actor).to_string()
}

fn phase_views(lang: Lang, rows: &[PhaseRow]) -> Vec<PhaseView> {
    Phase::ALL
        .into_iter()
        .map(|phase| {
            let row = rows.iter().find(|r| r.phase == i64::from(phase.number()));
            PhaseView {
                number: phase.number(),
                name: lang.pick(phase.label_zh(), phase.label_en()).into(),
                started_on: row.and_then(|r| r.started_on.clone()).unwrap_or_default(),
                completed_on: row.and_then(|r| r.completed_on.clone()).unwrap_or_default(),
                summary: row.map(|r| r.summary.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

pub async fn round_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let r = round_json(&state, principal, caller.lang, id).await?;
    let actors = actors_for(principal, &r.round);
    let events = r
        .timeline
        .iter()
        .rev()
        .map(|event| EventView {
            at: crate::pages::beijing_time(&event.at),
            what: event_label(caller.lang, event),
            actor: display_actor(&event.actor),
            reason: event.reason.clone(),
            attachments: event
                .attachments
                .iter()
                .map(|id| format!("#{id}"))
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    Ok(render(&RoundPage {
        ctx: Ctx::new(&caller),
        phases: phase_views(caller.lang, &r.phases),
        events,
        may_file: files_for(&actors) && !r.round.state().is_final(),
        may_reject_claims: principal
            .scope()
            .may_manage_city(&r.round.jurisdiction_code),
        today: date_text(state.today()),
        r,
    }))
}

fn files_for(actors: &BTreeSet<RoundActor>) -> bool {
    actors.contains(&RoundActor::Enterprise) || actors.contains(&RoundActor::Consultancy)
}

fn require_filer(principal: &Principal, round: &RoundRow) -> Result<(), AppError> {
    if files_for(&actors_for(principal, round)) {
        Ok(())
    } else {
        Err(AppError::Forbidden(cpaudit_core::registry::Message::new(
            "只有本企业或其委托的咨询服务机构可以填报",
            "Only the enterprise or its engaged consultancy files for the round",
        )))
    }
}

// ---- the work list -------------------------------------------------------------------------

/// Filters of the round list.
#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct RoundQuery {
    /// A round state, e.g. started.
    #[serde(default)]
    pub state: String,
    /// A city code.
    #[serde(default)]
    pub city: String,
    /// A key industry id.
    #[serde(default)]
    pub industry: String,
    /// Only rounds with an overdue deadline ("1").
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub year: Option<i64>,
}

fn round_filter(state: &AppState, query: &RoundQuery) -> Result<RoundFilter, AppError> {
    let text = |value: &str| Some(value.trim().to_string()).filter(|v| !v.is_empty());
    let round_state = match text(&query.state) {
        Some(name) => Some(RoundState::parse(&name).ok_or_else(|| {
            AppError::bad_field(
                "state",
                "unknown_state",
                &format!("未知的状态“{name}”"),
                &format!("unknown state \"{name}\""),
            )
        })?),
        None => None,
    };
    Ok(RoundFilter {
        state: round_state,
        city: text(&query.city),
        industry: text(&query.industry),
        overdue_on: (!query.overdue.trim().is_empty()).then(|| state.today()),
        list_year: query.year,
        open_only: false,
        limit: 5000,
    })
}

/// The rounds the caller sees, the most urgent first.
#[utoipa::path(get, path = "/api/v1/rounds", tag = "rounds", params(RoundQuery),
    responses((status = 200, body = [RoundListRow]), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_rounds(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RoundQuery>,
) -> Result<Json<Vec<RoundListRow>>, ApiError> {
    let principal = caller.principal()?;
    let filter = round_filter(&state, &query)?;
    Ok(Json(
        state.db().list_rounds(principal.scope(), &filter).await?,
    ))
}

struct RoundLine {
    id: i64,
    enterprise: String,
    city: String,
    year: i64,
    state: String,
    next_due: String,
    next_due_kind: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    ctx: Ctx,
    lines: Vec<RoundLine>,
    states: Vec<(String, String)>,
    query: RoundQuery,
    export_query: String,
}

fn round_lines(lang: Lang, today: NaiveDate, rows: &[RoundListRow]) -> Vec<RoundLine> {
    rows.iter()
        .map(|row| {
            let state = row.round.state();
            let kind = row.next_due_kind.as_deref().and_then(DeadlineKind::parse);
            RoundLine {
                id: row.round.id,
                enterprise: row.round.enterprise_name.clone(),
                city: row.round.jurisdiction_name_zh.clone(),
                year: row.round.list_year,
                state: lang.pick(state.label_zh(), state.label_en()).into(),
                next_due: row.next_due_on.clone().unwrap_or_default(),
                next_due_kind: kind.map_or(String::new(), |k| {
                    lang.pick(k.label_zh(), k.label_en()).into()
                }),
                overdue: row
                    .next_due_on
                    .as_deref()
                    .and_then(parse_date)
                    .is_some_and(|due| due < today),
            }
        })
        .collect()
}

pub async fn rounds_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RoundQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let filter = round_filter(&state, &query)?;
    let rows = state.db().list_rounds(principal.scope(), &filter).await?;
    let lang = caller.lang;
    Ok(render(&RoundsPage {
        ctx: Ctx::new(&caller),
        lines: round_lines(lang, state.today(), &rows),
        states: RoundState::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    lang.pick(s.label_zh(), s.label_en()).to_string(),
                )
            })
            .collect(),
        export_query: serde_urlencoded::to_string([
            ("state", query.state.as_str()),
            ("city", query.city.as_str()),
            ("industry", query.industry.as_str()),
            ("overdue", query.overdue.as_str()),
        ])
        .unwrap_or_default(),
        query,
    }))
}

/// The filtered round list as .xlsx.
pub async fn rounds_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RoundQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let filter = round_filter(&state, &query)?;
    let rows = state.db().list_rounds(principal.scope(), &filter).await?;
    let lines = round_lines(Lang::Zh, state.today(), &rows);
    let headers = [
        "轮次",
        "企业",
        "统一社会信用代码",
        "市州",
        "名单年度",
        "状态",
        "下一期限",
        "期限事项",
        "是否逾期",
    ]
    .map(String::from)
    .to_vec();
    let cells = lines
        .iter()
        .zip(&rows)
        .map(|(line, row)| {
            vec![
                line.id.to_string(),
                line.enterprise.clone(),
                row.round.credit_code.clone(),
                line.city.clone(),
                line.year.to_string(),
                line.state.clone(),
                line.next_due.clone(),
                line.next_due_kind.clone(),
                if line.overdue { "逾期" } else { "" }.to_string(),
            ]
        })
        .collect();
    crate::listing::table_download("rounds.xlsx", "审核轮次", headers, cells)
}

// ---- disclosure ----------------------------------------------------------------------------

/// The disclosure as entered: items by key, channel, trade-secret claims by key.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DisclosureJson {
    #[serde(default)]
    pub items: BTreeMap<String, String>,
    /// 主要媒体 | 企业官网 | 其他
    #[serde(default)]
    pub channel: String,
    /// The URL or the medium's name.
    #[serde(default)]
    pub channel_detail: String,
    /// Item key → the reason it is a trade secret (商业秘密, 促进法 Art. 27(4)).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

pub async fn save_disclosure(
    state: &AppState,
    principal: &Principal,
    round_id: i64,
    input: &DisclosureJson,
) -> Result<(), AppError> {
    let round = load_round(state, principal, round_id).await?;
    require_filer(principal, &round)?;
    for key in input.items.keys().chain(input.secrets.keys()) {
        if DisclosureItem::parse(key).is_none() {
            return Err(AppError::bad_field(
                key,
                "unknown_item",
                &format!("未知的公开事项“{key}”"),
                &format!("unknown disclosure item \"{key}\""),
            ));
        }
    }
    if input.channel.trim().is_empty() || input.channel_detail.trim().is_empty() {
        return Err(AppError::bad_field(
            "channel_detail",
            "required",
            "请填写公开渠道（主要媒体、企业官网或其他便于公众知晓的方式）及网址或媒体名称",
            "give the channel (main media, company website or another public way) and its address or name",
        ));
    }
    let items: BTreeMap<DisclosureItem, String> = input
        .items
        .iter()
        .filter_map(|(k, v)| Some((DisclosureItem::parse(k)?, v.clone())))
        .collect();
    let mut claims = claims_map(&state.db().secret_claims(round.id).await?);
    claims.retain(|_, claim| claim.rejected);
    for (key, reason) in &input.secrets {
        if let Some(item) = DisclosureItem::parse(key) {
            claims.entry(item).or_insert(SecretClaim {
                reason: reason.clone(),
                rejected: false,
            });
        }
    }
    let required = required_disclosure(state, &round)?;
    if let Some(problem) = check_disclosure(&required, &items, &claims)
        .into_iter()
        .next()
    {
        return Err(AppError::bad_field(
            &problem.item,
            "disclosure_incomplete",
            &problem.message_zh,
            &problem.message_en,
        ));
    }
    let already_published = round.state() != RoundState::Listed;
    state
        .db()
        .save_disclosure(
            principal,
            &round,
            &DisclosureDraft {
                items: input.items.clone(),
                channel: input.channel.clone(),
                channel_detail: input.channel_detail.clone(),
                claims: input.secrets.clone(),
                publish_on: already_published.then(|| state.today()),
            },
            state.now(),
        )
        .await?;
    Ok(())
}

/// Saves the disclosure (before publication: a draft; after: a correction published at once).
#[utoipa::path(put, path = "/api/v1/rounds/{id}/disclosure", tag = "rounds",
    params(("id" = i64, Path)), request_body = DisclosureJson,
    responses((status = 200, body = RoundJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_save_disclosure(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<DisclosureJson>,
) -> Result<Json<RoundJson>, ApiError> {
    let principal = caller.principal()?;
    save_disclosure(&state, principal, id, &input).await?;
    Ok(Json(round_json(&state, principal, caller.lang, id).await?))
}

struct ItemField {
    key: String,
    label: String,
    value: String,
    secret_reason: String,
    may_be_secret: bool,
    rejected: bool,
}

#[derive(Template)]
#[template(path = "round_disclosure.html")]
struct DisclosureFormPage {
    ctx: Ctx,
    round: RoundRow,
    fields: Vec<ItemField>,
    channel: String,
    channel_detail: String,
    published: bool,
}

pub async fn disclosure_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let round = load_round(&state, principal, id).await?;
    require_filer(principal, &round)?;
    let latest = state.db().latest_disclosure(&round).await?;
    let claims = state.db().secret_claims(round.id).await?;
    let values = latest
        .as_ref()
        .map(DisclosureRow::items)
        .unwrap_or_default();
    let lang = caller.lang;
    let fields = required_disclosure(&state, &round)?
        .into_iter()
        .map(|item| {
            let claim = claims.iter().find(|c| c.item_key == item.key());
            ItemField {
                key: item.key().into(),
                label: lang.pick(item.label_zh(), item.label_en()).into(),
                value: values.get(item.key()).cloned().unwrap_or_default(),
                secret_reason: claim.map(|c| c.reason.clone()).unwrap_or_default(),
                may_be_secret: item.may_be_secret(),
                rejected: claim.is_some_and(|c| c.status == "rejected"),
            }
        })
        .collect();
    Ok(render(&DisclosureFormPage {
        ctx: Ctx::new(&caller),
        fields,
        channel: latest
            .as_ref()
            .map(|d| d.channel.clone())
            .unwrap_or_default(),
        channel_detail: latest
            .as_ref()
            .map(|d| d.channel_detail.clone())
            .unwrap_or_default(),
        published: round.state() != RoundState::Listed,
        round,
    }))
}

/// The disclosure form posts `item.KEY` and `secret.KEY` fields beside the channel.
pub async fn disclosure_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let mut input = DisclosureJson::default();
    for (name, value) in fields {
        if let Some(key) = name.strip_prefix("item.") {
            input.items.insert(key.to_string(), value);
        } else if let Some(key) = name.strip_prefix("secret.") {
            if !value.trim().is_empty() {
                input.secrets.insert(key.to_string(), value);
            }
        } else if name == "channel" {
            input.channel = value;
        } else if name == "channel_detail" {
            input.channel_detail = value;
        }
    }
    save_disclosure(&state, principal, id, &input).await?;
    Ok(Redirect::to(&format!("/rounds/{id}")).into_response())
}

/// The city's rejection of a trade-secret claim.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectClaimJson {
    pub reason: String,
}

async fn reject_claim(
    state: &AppState,
    principal: &Principal,
    id: i64,
    item: &str,
    input: &RejectClaimJson,
) -> Result<(), AppError> {
    let round = load_round(state, principal, id).await?;
    if input.reason.trim().is_empty() {
        return Err(AppError::bad_field(
            "reason",
            "required",
            "驳回商业秘密主张须说明理由",
            "rejecting a trade-secret claim needs a reason",
        ));
    }
    state
        .db()
        .reject_secret_claim(principal, &round, item, &input.reason, state.now())
        .await?;
    Ok(())
}

/// Rejects an unjustified trade-secret claim (the enterprise's city): the item is published.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/secret-claims/{item}/reject", tag = "rounds",
    params(("id" = i64, Path), ("item" = String, Path)), request_body = RejectClaimJson,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_reject_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(i64, String)>,
    Json(input): Json<RejectClaimJson>,
) -> Result<StatusCode, ApiError> {
    let principal = caller.principal()?;
    reject_claim(&state, principal, id, &item, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reject_claim_form(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(i64, String)>,
    Form(input): Form<RejectClaimJson>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    reject_claim(&state, principal, id, &item, &input).await?;
    Ok(Redirect::to(&format!("/rounds/{id}")).into_response())
}

// ---- start filing and phases -----------------------------------------------------------------

pub async fn save_start(
    state: &AppState,
    principal: &Principal,
    lang: Lang,
    id: i64,
    input: &StartFilingJson,
) -> Result<(), AppError> {
    let round = load_round(state, principal, id).await?;
    require_filer(principal, &round)?;
    let mode = AuditMode::parse(input.mode.trim()).ok_or_else(|| {
        AppError::bad_field(
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
                AppError::bad_field(
                    "consultancy_id",
                    "required",
                    "委托审核须选择已签约的咨询服务机构",
                    "an engaged consultancy is required",
                )
            })?;
            if let Some(refusal) = crate::consultancies::refusal_of(state, id, lang).await? {
                return Err(AppError::bad_field(
                    "consultancy_id",
                    "consultancy_sanctioned",
                    &refusal,
                    &refusal,
                ));
            }
            if !state.db().is_engaged(round.enterprise_id, id).await? {
                return Err(AppError::bad_field(
                    "consultancy_id",
                    "not_engaged",
                    "该咨询服务机构尚未与本企业登记委托关系，请先在企业页面登记委托",
                    "the consultancy is not engaged by this enterprise; record the engagement first",
                ));
            }
            Some(id)
        }
    };
    let filing = StartFilingJson {
        mode: mode.as_str().into(),
        consultancy_id,
        ..input.clone()
    };
    state
        .db()
        .save_start_filing(
            principal,
            &round,
            &StartFiling {
                mode,
                consultancy_id,
                filing: serde_json::to_value(&filing).unwrap_or_default(),
            },
            state.now(),
        )
        .await?;
    Ok(())
}

/// Saves the start filing: audit mode, the engaged consultancy (refused while it is
/// sanctioned), the audit team, the work plan and, for a self-audit, the Art. 15 evidence.
#[utoipa::path(put, path = "/api/v1/rounds/{id}/start", tag = "rounds",
    params(("id" = i64, Path)), request_body = StartFilingJson,
    responses((status = 200, body = RoundJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_save_start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<StartFilingJson>,
) -> Result<Json<RoundJson>, ApiError> {
    let principal = caller.principal()?;
    save_start(&state, principal, caller.lang, id, &input).await?;
    Ok(Json(round_json(&state, principal, caller.lang, id).await?))
}

pub async fn start_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(input): Form<StartFilingJson>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    save_start(&state, principal, caller.lang, id, &input).await?;
    Ok(Redirect::to(&format!("/rounds/{id}")).into_response())
}

/// The dates and summary of one phase.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PhaseJson {
    /// 1–7.
    pub phase: i64,
    #[serde(default)]
    pub started_on: String,
    #[serde(default)]
    pub completed_on: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub attachments: Vec<i64>,
}

pub async fn record_phase(
    state: &AppState,
    principal: &Principal,
    id: i64,
    input: &PhaseJson,
) -> Result<(), AppError> {
    let round = load_round(state, principal, id).await?;
    require_filer(principal, &round)?;
    if matches!(round.state(), RoundState::Listed | RoundState::Disclosed) {
        return Err(AppError::bad_field(
            "phase",
            "not_started",
            "请先完成开展审核备案，再记录审核阶段",
            "file the start of the audit before recording phases",
        ));
    }
    let phase = Phase::from_number(input.phase).ok_or_else(|| {
        AppError::bad_field(
            "phase",
            "invalid_phase",
            "审核阶段应为 1–7",
            "phase must be 1 to 7",
        )
    })?;
    let started_on = crate::consultancies::optional_date("started_on", &input.started_on)?;
    let completed_on = crate::consultancies::optional_date("completed_on", &input.completed_on)?;
    let today = state.today();
    for (field, date) in [("started_on", started_on), ("completed_on", completed_on)] {
        if date.is_some_and(|d| d > today || d < listed_on(&round)) {
            return Err(AppError::bad_field(
                field,
                "out_of_range",
                "日期不能早于列入名单之日，也不能晚于今天",
                "the date cannot be before the listing or after today",
            ));
        }
    }
    if let (Some(start), Some(end)) = (started_on, completed_on) {
        if end < start {
            return Err(AppError::bad_field(
                "completed_on",
                "before_start",
                "完成日期不能早于开始日期",
                "completed_on cannot be before started_on",
            ));
        }
    }
    check_attachments(state, &round, &input.attachments).await?;
    state
        .db()
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
            state.now(),
        )
        .await?;
    Ok(())
}

/// Records the dates, summary and attachments of one of the seven phases.
#[utoipa::path(put, path = "/api/v1/rounds/{id}/phases", tag = "rounds",
    params(("id" = i64, Path)), request_body = PhaseJson,
    responses((status = 200, body = RoundJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_record_phase(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<PhaseJson>,
) -> Result<Json<RoundJson>, ApiError> {
    let principal = caller.principal()?;
    record_phase(&state, principal, id, &input).await?;
    Ok(Json(round_json(&state, principal, caller.lang, id).await?))
}

pub async fn phase_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(input): Form<PhaseJson>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    record_phase(&state, principal, id, &input).await?;
    Ok(Redirect::to(&format!("/rounds/{id}")).into_response())
}

// ---- public disclosures --------------------------------------------------------------------

/// A published disclosure as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicDisclosureJson {
    pub summary: PublicDisclosureRow,
    /// Published after the disclose deadline's last day.
    pub late: bool,
    pub channel: String,
    pub channel_detail: String,
    /// Items in form order: label and value, or the reason it is withheld.
    pub items: Vec<PublicItemJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicItemJson {
    pub key: String,
    pub label: String,
    #[schema(value_type = Object)]
    pub item: PublicItem,
}

fn is_late(row: &PublicDisclosureRow) -> bool {
    matches!((&row.due_on, parse_date(&row.published_on)), (Some(due), Some(on)) if parse_date(due).is_some_and(|due| on > due))
}

async fn public_disclosure(
    state: &AppState,
    lang: Lang,
    round_id: i64,
) -> Result<PublicDisclosureJson, AppError> {
    let db = state.db();
    let summary = db
        .public_disclosures(None, None)
        .await?
        .into_iter()
        .find(|row| row.round_id == round_id)
        .ok_or(AppError::NotFound)?;
    let published = db
        .published_disclosure(round_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let claims = claims_map(&db.secret_claims(round_id).await?);
    let values = published.items();
    let items = DisclosureItem::ALL
        .into_iter()
        .filter(|item| values.contains_key(item.key()) || claims.contains_key(item))
        .map(|item| PublicItemJson {
            key: item.key().into(),
            label: lang.pick(item.label_zh(), item.label_en()).into(),
            item: public_item(
                values.get(item.key()).map(String::as_str),
                claims.get(&item),
            ),
        })
        .collect();
    Ok(PublicDisclosureJson {
        late: is_late(&summary),
        channel: published.channel,
        channel_detail: published.channel_detail,
        items,
        summary,
    })
}

/// Published disclosures of listed enterprises (信息公开), newest first; public.
#[utoipa::path(get, path = "/api/v1/public/disclosures", tag = "public",
    responses((status = 200, body = [PublicDisclosureRow])))]
pub async fn api_public_disclosures(
    State(state): State<AppState>,
) -> Result<Json<Vec<PublicDisclosureRow>>, ApiError> {
    Ok(Json(state.db().public_disclosures(None, None).await?))
}

/// One published disclosure, trade secrets withheld with their reasons; public.
#[utoipa::path(get, path = "/api/v1/public/disclosures/{round_id}", tag = "public",
    params(("round_id" = i64, Path)),
    responses((status = 200, body = PublicDisclosureJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_public_disclosure(
    State(state): State<AppState>,
    caller: Caller,
    Path(round_id): Path<i64>,
) -> Result<Json<PublicDisclosureJson>, ApiError> {
    Ok(Json(
        public_disclosure(&state, caller.lang, round_id).await?,
    ))
}

#[derive(Template)]
#[template(path = "public_disclosures.html")]
struct PublicDisclosuresPage {
    ctx: Ctx,
    rows: Vec<(PublicDisclosureRow, bool)>,
}

pub async fn public_disclosures_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let rows = state
        .db()
        .public_disclosures(None, None)
        .await?
        .into_iter()
        .map(|row| {
            let late = is_late(&row);
            (row, late)
        })
        .collect();
    Ok(render(&PublicDisclosuresPage {
        ctx: Ctx::new(&caller),
        rows,
    }))
}

#[derive(Template)]
#[template(path = "public_disclosure.html")]
struct PublicDisclosurePage {
    ctx: Ctx,
    d: PublicDisclosureJson,
    reasons: String,
}

pub async fn public_disclosure_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(round_id): Path<i64>,
) -> Result<Response, AppError> {
    let d = public_disclosure(&state, caller.lang, round_id).await?;
    let reasons = parse_reasons(&d.summary.reasons)
        .iter()
        .map(|r| caller.lang.pick(r.label_zh(), r.label_en()).to_string())
        .collect::<Vec<_>>()
        .join("、");
    Ok(render(&PublicDisclosurePage {
        ctx: Ctx::new(&caller),
        d,
        reasons,
    }))
}
