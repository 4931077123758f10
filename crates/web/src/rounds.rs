//! Audit rounds online: the work list, a round's page (deadlines with their citations, what
//! the caller can do now and what is still missing, the timeline), the transitions, the Art. 11
//! disclosure with trade-secret claims, the start filing and the seven phases; the public
//! disclosure pages.
//!
//! The use cases beneath them (the transitions, the disclosure, the start filing and the
//! phases) are [`cpaudit_app::rounds`]; this module reads the requests and words the answers.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use cpaudit_app::rounds::{self, ActionInput, DisclosureInput, PhaseInput, StartFilingInput};
use cpaudit_core::disclosure::{public_item, DisclosureItem, PublicItem};
use cpaudit_core::round::{Phase, RoundAction, RoundActor, RoundState, TransitionError};
use cpaudit_core::rules::RuleRef;
use cpaudit_storage::disclosures::{ClaimStatus, DisclosureRow};
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::rounds::{DeadlineRow, RoundEventRow, RoundFilter, RoundListRow, RoundRow};
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::views::disclosures::{Disclosure, PublicDisclosure, SecretClaim};
use crate::views::rounds::{Deadline, Round, RoundEvent, RoundListEntry, RoundPhase};

use crate::action::{Done, FromForm, Input, Shaped};
use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::i18n::Lang;
use crate::pages::{render, Ctx};
use crate::AppState;

// ---- reading a round -----------------------------------------------------------------------

/// The parts the caller plays on this round.
pub use cpaudit_app::rounds::actors_for;

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
    fn input(self) -> StartFilingInput {
        StartFilingInput {
            mode: self.mode,
            consultancy_id: self.consultancy_id,
            team: self.team,
            work_plan: self.work_plan,
            art15_instruments: self.art15_instruments,
            art15_staff: self.art15_staff,
        }
    }
}

impl From<StartFilingInput> for StartFilingJson {
    fn from(filing: StartFilingInput) -> Self {
        StartFilingJson {
            mode: filing.mode,
            consultancy_id: filing.consultancy_id,
            team: filing.team,
            work_plan: filing.work_plan,
            art15_instruments: filing.art15_instruments,
            art15_staff: filing.art15_staff,
        }
    }
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

impl ActionJson {
    fn input(self) -> ActionInput {
        ActionInput {
            action: self.action,
            reason: self.reason,
            attachments: self.attachments,
            meeting_on: self.meeting_on,
            place: self.place,
            opinion_number: self.opinion_number,
        }
    }
}

/// Takes an action on a round (who may, and when, is in docs/ROUND.md).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/actions", tag = "rounds",
    params(("id" = i64, Path)), request_body = ActionJson,
    responses((status = 200, body = RoundJson), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn round_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<ActionJson>,
) -> Result<Done<RoundJson>, AppError> {
    let principal = caller.principal()?;
    rounds::take_action(state.app(), principal, id, &input.input()).await?;
    let (_, round) = round_json(&state, principal, caller.lang, id).await?;
    Ok(Done::with(round, format!("/rounds/{id}")))
}

// ---- the round as a whole ------------------------------------------------------------------

/// A deadline with its standing today.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineView {
    #[serde(flatten)]
    pub deadline: Deadline,
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
    pub round: Round,
    pub state_label: String,
    pub track_label: String,
    pub organizer_name: String,
    pub deadlines: Vec<DeadlineView>,
    /// What the caller may do now or next, with what is missing.
    pub actions: Vec<ActionView>,
    pub phases: Vec<RoundPhase>,
    pub start_filing: StartFilingJson,
    pub start_gaps: Vec<String>,
    pub disclosure: Option<Disclosure>,
    pub secret_claims: Vec<SecretClaim>,
    /// The round's latest review (scheduled or decided), if any.
    pub review_id: Option<i64>,
    pub timeline: Vec<RoundEvent>,
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
    let days_left = row.is_open().then(|| (row.due_on - today).num_days());
    let standing = match (&row.met_on, &row.closed_reason, days_left) {
        (Some(_), _, _) => "met",
        (None, Some(_), _) => "stopped",
        (None, None, Some(days)) if days < 0 => "overdue",
        _ => "open",
    };
    DeadlineView {
        label: lang.pick(row.kind.label_zh(), row.kind.label_en()).into(),
        standing: standing.into(),
        days_left,
        citation: citation_text(state, lang, &row.rule),
        deadline: row.into(),
    }
}

/// The round as read, for the page's own checks, and everything its page shows.
async fn round_json(
    state: &AppState,
    principal: &Principal,
    lang: Lang,
    id: i64,
) -> Result<(cpaudit_storage::InScope<RoundRow>, RoundJson), AppError> {
    let round = rounds::load_round(state.app(), principal, id).await?;
    let db = state.db();
    let today = state.today();
    let machine = rounds::machine_for(state.app(), &round)?;
    let facts = rounds::facts_for(state.app(), &round, true).await?;
    let actors = actors_for(principal, &round);
    let actions = machine
        .available(round.state, round.track, &actors)
        .into_iter()
        .map(|action| {
            let missing =
                match machine.transition(round.state, round.track, action, &actors, &facts) {
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
    let filing = StartFilingInput::from_round(&round);
    let json = RoundJson {
        state_label: lang
            .pick(round.state.label_zh(), round.state.label_en())
            .into(),
        track_label: lang
            .pick(round.track.label_zh(), round.track.label_en())
            .into(),
        organizer_name: crate::pages::city_name(state, lang, &round.organizer_code),
        deadlines: db
            .round_deadlines(&round)
            .await?
            .into_iter()
            .map(|row| deadline_view(state, row, today, lang))
            .collect(),
        actions,
        phases: db
            .round_phases(&round)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        start_gaps: filing
            .gaps()
            .iter()
            .map(|gap| lang.pick(&gap.zh, &gap.en).to_string())
            .collect(),
        start_filing: filing.into(),
        disclosure: db.latest_disclosure(&round).await?.map(Into::into),
        secret_claims: db
            .secret_claims(&round)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        review_id: db.latest_review(&round).await?.map(|r| r.id),
        timeline: masked_timeline(db.round_events(&round).await?, &actors)
            .into_iter()
            .map(Into::into)
            .collect(),
        round: (*round).clone().into(),
    };
    Ok((round, json))
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
    Ok(Json(
        round_json(&state, principal, caller.lang, id).await?.1,
    ))
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
    /// The start of the audit is filed, so its phases may be recorded.
    may_record_phases: bool,
    may_reject_claims: bool,
    today: String,
    /// The panel draws frozen for the round, newest first.
    draws: Vec<crate::draws::DrawLine>,
    /// Whether the caller may freeze a draw now: an official, the round awaiting a review.
    may_draw: bool,
}

fn event_label(lang: Lang, event: &RoundEvent) -> String {
    if let Some(action) = RoundAction::parse(&event.action) {
        let to = event
            .to_state
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

fn phase_views(lang: Lang, rows: &[RoundPhase]) -> Vec<PhaseView> {
    Phase::ALL
        .into_iter()
        .map(|phase| {
            let row = rows.iter().find(|r| r.phase == i64::from(phase.number()));
            PhaseView {
                number: phase.number(),
                name: lang.pick(phase.label_zh(), phase.label_en()).into(),
                started_on: row
                    .and_then(|r| r.started_on)
                    .map(date_text)
                    .unwrap_or_default(),
                completed_on: row
                    .and_then(|r| r.completed_on)
                    .map(date_text)
                    .unwrap_or_default(),
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
    let (round, r) = round_json(&state, principal, caller.lang, id).await?;
    let actors = actors_for(principal, &round);
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
    let draws = state
        .db()
        .draws_of_round(&round)
        .await?
        .iter()
        .map(|row| crate::draws::DrawLine::of(row, caller.lang))
        .collect();
    let awaits_review = cpaudit_core::round::review_kind(round.state, round.track).is_some();
    let official = matches!(
        principal.scope().kind(),
        cpaudit_storage::auth::ScopeKind::Province | cpaudit_storage::auth::ScopeKind::City(_)
    );
    Ok(render(&RoundPage {
        ctx: Ctx::new(&caller),
        phases: phase_views(caller.lang, &r.phases),
        events,
        draws,
        may_draw: official && awaits_review,
        may_file: rounds::files_for(&actors) && !r.round.state.is_final(),
        may_record_phases: rounds::files_for(&actors)
            && !r.round.state.is_final()
            && rounds::phases_open(&round),
        may_reject_claims: principal
            .scope()
            .may_manage_city(&r.round.jurisdiction_code),
        today: date_text(state.today()),
        r,
    }))
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
    responses((status = 200, body = [RoundListEntry]), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_rounds(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RoundQuery>,
) -> Result<Json<Vec<RoundListEntry>>, ApiError> {
    let principal = caller.principal()?;
    let filter = round_filter(&state, &query)?;
    let rows = state.db().list_rounds(principal.scope(), &filter).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
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
            let state = row.round.state;
            let kind = row.next_due_kind;
            RoundLine {
                id: row.round.id,
                enterprise: row.round.enterprise_name.clone(),
                city: row.round.jurisdiction_name_zh.clone(),
                year: row.round.list_year,
                state: lang.pick(state.label_zh(), state.label_en()).into(),
                next_due: row.next_due_on.map(date_text).unwrap_or_default(),
                next_due_kind: kind.map_or(String::new(), |k| {
                    lang.pick(k.label_zh(), k.label_en()).into()
                }),
                overdue: row.next_due_on.is_some_and(|due| due < today),
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

impl DisclosureJson {
    fn input(self) -> DisclosureInput {
        DisclosureInput {
            items: self.items,
            channel: self.channel,
            channel_detail: self.channel_detail,
            secrets: self.secrets,
        }
    }
}

/// Saves the disclosure (before publication: a draft; after: a correction published at once).
#[utoipa::path(put, path = "/api/v1/rounds/{id}/disclosure", tag = "rounds",
    params(("id" = i64, Path)), request_body = DisclosureJson,
    responses((status = 200, body = RoundJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn save_disclosure(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Shaped(input): Shaped<DisclosureJson>,
) -> Result<Done<RoundJson>, AppError> {
    let principal = caller.principal()?;
    rounds::save_disclosure(state.app(), principal, id, &input.input()).await?;
    let (_, round) = round_json(&state, principal, caller.lang, id).await?;
    Ok(Done::with(round, format!("/rounds/{id}")))
}

/// The disclosure form: a field per item (`item.KEY`), a trade-secret reason per item
/// (`secret.KEY`, empty when not claimed), the channel and its address.
impl FromForm for DisclosureJson {
    type Form = Vec<(String, String)>;

    fn from_form(fields: Self::Form) -> Result<Self, AppError> {
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
        Ok(input)
    }
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
    let round = rounds::load_round(state.app(), principal, id).await?;
    rounds::require_filer(principal, &round)?;
    let latest = state.db().latest_disclosure(&round).await?;
    let claims = state.db().secret_claims(&round).await?;
    let values = latest
        .as_ref()
        .map(DisclosureRow::items)
        .unwrap_or_default();
    let lang = caller.lang;
    let fields = rounds::required_disclosure(state.app(), &round)?
        .into_iter()
        .map(|item| {
            let claim = claims.iter().find(|c| c.item_key == item.key());
            ItemField {
                key: item.key().into(),
                label: lang.pick(item.label_zh(), item.label_en()).into(),
                value: values.get(item.key()).cloned().unwrap_or_default(),
                secret_reason: claim.map(|c| c.reason.clone()).unwrap_or_default(),
                may_be_secret: item.may_be_secret(),
                rejected: claim.is_some_and(|c| c.status == ClaimStatus::Rejected),
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
        published: round.state != RoundState::Listed,
        round: round.into_inner(),
    }))
}

/// The disclosure form posts `item.KEY` and `secret.KEY` fields beside the channel.
/// The city's rejection of a trade-secret claim.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectClaimJson {
    pub reason: String,
}

/// The city rejects an unjustified trade-secret claim on a disclosure item, with its reason:
/// the disclosure page's form and the API alike.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/secret-claims/{item}/reject", tag = "rounds",
    params(("id" = i64, Path), ("item" = String, Path)), request_body = RejectClaimJson,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn reject_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(i64, String)>,
    Input(input): Input<RejectClaimJson>,
) -> Result<Done<()>, AppError> {
    let principal = caller.principal()?;
    rounds::reject_secret_claim(state.app(), principal, id, &item, &input.reason).await?;
    Ok(Done::then(format!("/rounds/{id}")))
}

// ---- start filing and phases -----------------------------------------------------------------

/// Saves the start filing: audit mode, the engaged consultancy (refused while it is
/// sanctioned), the audit team, the work plan and, for a self-audit, the Art. 15 evidence.
#[utoipa::path(put, path = "/api/v1/rounds/{id}/start", tag = "rounds",
    params(("id" = i64, Path)), request_body = StartFilingJson,
    responses((status = 200, body = RoundJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn save_start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<StartFilingJson>,
) -> Result<Done<RoundJson>, AppError> {
    let principal = caller.principal()?;
    rounds::save_start(state.app(), principal, id, &input.input()).await?;
    let (_, round) = round_json(&state, principal, caller.lang, id).await?;
    Ok(Done::with(round, format!("/rounds/{id}")))
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

impl PhaseJson {
    fn input(self) -> PhaseInput {
        PhaseInput {
            phase: self.phase,
            started_on: self.started_on,
            completed_on: self.completed_on,
            summary: self.summary,
            attachments: self.attachments,
        }
    }
}

/// Records the dates, summary and attachments of one of the seven phases.
#[utoipa::path(put, path = "/api/v1/rounds/{id}/phases", tag = "rounds",
    params(("id" = i64, Path)), request_body = PhaseJson,
    responses((status = 200, body = RoundJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn record_phase(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<PhaseJson>,
) -> Result<Done<RoundJson>, AppError> {
    let principal = caller.principal()?;
    rounds::record_phase(state.app(), principal, id, &input.input()).await?;
    let (_, round) = round_json(&state, principal, caller.lang, id).await?;
    Ok(Done::with(round, format!("/rounds/{id}")))
}

// ---- public disclosures --------------------------------------------------------------------

/// A published disclosure as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicDisclosureJson {
    pub summary: PublicDisclosure,
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
    let claims = rounds::claims_map(&db.secret_claims(&published).await?);
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
    let published = published.into_inner();
    Ok(PublicDisclosureJson {
        late: summary.is_late(),
        channel: published.channel,
        channel_detail: published.channel_detail,
        items,
        summary: summary.into(),
    })
}

/// Published disclosures of listed enterprises (信息公开), newest first; public.
#[utoipa::path(get, path = "/api/v1/public/disclosures", tag = "public",
    responses((status = 200, body = [PublicDisclosure])))]
pub async fn api_public_disclosures(
    State(state): State<AppState>,
) -> Result<Json<Vec<PublicDisclosure>>, ApiError> {
    let rows = state.db().public_disclosures(None, None).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
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
    rows: Vec<(PublicDisclosure, bool)>,
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
            let late = row.is_late();
            (row.into(), late)
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
    let reasons = d
        .summary
        .reasons
        .0
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
