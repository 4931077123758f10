//! Expert panel draws: the organizer freezes and publishes the pool, runs the draw once the
//! announced random sources are published (RFC 3797), experts answer, and the public can
//! verify every record. The organizer follows the jurisdiction rule (Gansu plan §三(五)).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{FixedOffset, NaiveDate};
use cpaudit_core::draw::{
    draw, public_copy, verify_public, Absence, Declaration, DrawInputs, DrawRecord, Employment,
    ExpertFacts, PanelRules, Party, PoolEntry, PublicDraw, RandomSource, ReviewKind, ReviewRef,
};
use cpaudit_core::evidence::{name_of, parse_name};
use cpaudit_core::experts::ExpertStatus;
use cpaudit_storage::draws::{AssignmentRow, DrawRow, PartyRow, PoolSnapshot};
use cpaudit_storage::evidence::{date_text, parse_date};
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::pages::{render, Ctx};
use crate::AppState;

/// What is frozen and published before any random source exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FrozenInputs {
    review: ReviewRef,
    rules: PanelRules,
    pool_frozen_at: chrono::DateTime<FixedOffset>,
    pool: Vec<PoolEntry>,
    experts: Vec<ExpertFacts>,
}

fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

fn draw_error(error: cpaudit_core::draw::DrawError) -> AppError {
    let message = error.message();
    AppError::bad_field("draw", "draw_refused", &message.zh, &message.en)
}

/// The review organizer for an enterprise (the province for key emission units in the
/// province-organized industries, else the enterprise's city: rule `jurisdiction.organizer`),
/// the enterprise's key industry and the consultancy it engaged.
async fn organizer_of(
    state: &AppState,
    principal: &Principal,
    enterprise_id: i64,
    on: NaiveDate,
) -> Result<(String, String, Option<i64>), AppError> {
    let enterprise = state
        .db()
        .get_enterprise(principal.scope(), enterprise_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (province_industries, _) = state
        .rules()
        .list_at("industries.province_organized", on)
        .map_err(crate::cycle::rule_error)?;
    let province_organizes = enterprise.key_emission_unit
        && enterprise
            .province_industry_id
            .as_ref()
            .is_some_and(|id| province_industries.contains(id));
    let organizer = if province_organizes {
        state
            .reference()
            .province()
            .map_or(String::new(), |p| p.code.clone())
    } else {
        enterprise.jurisdiction_code.clone()
    };
    Ok((
        organizer,
        enterprise.key_industry_id.clone().unwrap_or_default(),
        current_consultancy(state, principal, enterprise_id).await?,
    ))
}

async fn current_consultancy(
    state: &AppState,
    principal: &Principal,
    enterprise_id: i64,
) -> Result<Option<i64>, AppError> {
    let detail = state
        .db()
        .enterprise_detail(principal.scope(), enterprise_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let operator = Principal::console_operator("draw");
    let consultancies = state.db().list_consultancies(operator.scope()).await?;
    Ok(detail
        .consultancies
        .first()
        .and_then(|name| consultancies.iter().find(|c| &c.name == name))
        .map(|c| c.id))
}

fn party(row: &PartyRow) -> Option<Party> {
    match (row.enterprise_id, row.consultancy_id) {
        (Some(id), None) => Some(Party::Enterprise(id)),
        (None, Some(id)) => Some(Party::Consultancy(id)),
        _ => None,
    }
}

/// The pool entries and the facts the conflict rules read, from the registry as it stands.
fn pool_and_facts(snapshot: &PoolSnapshot) -> (Vec<PoolEntry>, Vec<ExpertFacts>) {
    let mut pool = Vec::new();
    let mut facts = Vec::new();
    for expert in &snapshot.experts {
        let Some(pool_number) = expert.pool_number.and_then(|n| u32::try_from(n).ok()) else {
            continue;
        };
        pool.push(PoolEntry {
            pool_number,
            expert_id: expert.id,
            specialties: serde_json::from_str(&expert.specialties).unwrap_or_default(),
            name: expert.name.clone(),
        });
        let of = |rows: &[PartyRow]| -> Vec<PartyRow> {
            rows.iter()
                .filter(|r| r.expert_id == expert.id)
                .cloned()
                .collect()
        };
        facts.push(ExpertFacts {
            expert_id: expert.id,
            status: parse_name(&expert.status).unwrap_or(ExpertStatus::Applied),
            employments: of(&snapshot.employments)
                .iter()
                .filter_map(|r| {
                    Some(Employment {
                        party: party(r)?,
                        from: r.starts_on.as_deref().and_then(parse_date)?,
                        until: r.ends_on.as_deref().and_then(parse_date),
                    })
                })
                .collect(),
            declarations: of(&snapshot.declarations)
                .iter()
                .filter_map(|r| {
                    Some(Declaration {
                        party: party(r)?,
                        note: r.note.clone().unwrap_or_default(),
                    })
                })
                .collect(),
            reviews: snapshot
                .reviews
                .iter()
                .filter(|(id, _)| *id == expert.id)
                .map(|(_, day)| *day)
                .collect(),
            absences: if expert.available {
                Vec::new()
            } else {
                vec![Absence {
                    from: NaiveDate::MIN,
                    until: NaiveDate::MAX,
                    note: "不可参加评审（专家库登记）".into(),
                }]
            },
        });
    }
    (pool, facts)
}

/// A draw to freeze: the review it is for. With `audit_round_id` the draw is linked to that
/// stored round: the kind and the enterprise then come from the round, and must match it when
/// they are given as well. Without it, `kind`, `round_id` and `enterprise_id` are required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FreezeJson {
    /// assessment | acceptance | combined
    #[serde(default)]
    pub kind: Option<String>,
    /// The round's reference as the organizer numbers it (default: `audit_round_id`).
    #[serde(default)]
    pub round_id: Option<i64>,
    #[serde(default)]
    pub enterprise_id: Option<i64>,
    /// The stored audit round (its id) the draw is for.
    #[serde(default)]
    pub audit_round_id: Option<i64>,
    /// The day of the review (YYYY-MM-DD).
    pub review_on: String,
}

/// The review a draw is frozen for: its kind, reference, enterprise and linked round.
struct DrawTarget {
    kind: ReviewKind,
    round_ref: i64,
    enterprise_id: i64,
    audit_round_id: Option<i64>,
}

fn required_field<T>(value: Option<T>, field: &str) -> Result<T, AppError> {
    value.ok_or_else(|| {
        AppError::bad_field(
            field,
            "required",
            &format!("{field} 为必填项（未给出 audit_round_id 时）"),
            &format!("{field} is required when audit_round_id is not given"),
        )
    })
}

fn parse_kind(text: &str) -> Result<ReviewKind, AppError> {
    parse_name(text).ok_or_else(|| {
        AppError::bad_field(
            "kind",
            "invalid_kind",
            "评审类型应为 assessment、acceptance 或 combined",
            "kind must be assessment, acceptance or combined",
        )
    })
}

fn mismatch(field: &str, zh: &str, en: &str) -> AppError {
    AppError::bad_field(field, "round_mismatch", zh, en)
}

/// Who the draw is for: from the stored round when one is named, else as given.
async fn draw_target(
    state: &AppState,
    principal: &Principal,
    input: &FreezeJson,
) -> Result<DrawTarget, AppError> {
    let given_kind = input.kind.as_deref().map(parse_kind).transpose()?;
    let Some(audit_round_id) = input.audit_round_id else {
        return Ok(DrawTarget {
            kind: required_field(given_kind, "kind")?,
            round_ref: required_field(input.round_id, "round_id")?,
            enterprise_id: required_field(input.enterprise_id, "enterprise_id")?,
            audit_round_id: None,
        });
    };
    let round = state
        .db()
        .get_round(principal.scope(), audit_round_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = cpaudit_core::round::review_kind(round.state(), round.track())
        .map(|kind| parse_kind(kind.as_str()))
        .transpose()?
        .ok_or_else(|| {
            mismatch(
                "audit_round_id",
                &format!("该审核轮次处于“{}”，不在评审环节", round.state().label_zh()),
                &format!(
                    "the round is {}, not awaiting a review",
                    round.state().label_en()
                ),
            )
        })?;
    if given_kind.is_some_and(|given| given != kind) {
        return Err(mismatch(
            "kind",
            &format!("该审核轮次的评审类型为 {}", name_of(&kind)),
            &format!("the round's review is {}", name_of(&kind)),
        ));
    }
    if input
        .enterprise_id
        .is_some_and(|id| id != round.enterprise_id)
    {
        return Err(mismatch(
            "enterprise_id",
            "企业与该审核轮次的企业不一致",
            "the enterprise is not the round's",
        ));
    }
    Ok(DrawTarget {
        kind,
        round_ref: input.round_id.unwrap_or(audit_round_id),
        enterprise_id: round.enterprise_id,
        audit_round_id: Some(audit_round_id),
    })
}

/// A draw as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawJson {
    pub draw: DrawRow,
    pub assignments: Vec<AssignmentRow>,
}

pub async fn freeze(
    state: &AppState,
    principal: &Principal,
    input: &FreezeJson,
) -> Result<i64, AppError> {
    let target = draw_target(state, principal, input).await?;
    let review_on = parse_date(input.review_on.trim()).ok_or_else(|| {
        AppError::bad_field(
            "review_on",
            "invalid_date",
            "评审日期应为 YYYY-MM-DD 格式的有效日期",
            "review_on must be a valid date written YYYY-MM-DD",
        )
    })?;
    let today = state.today();
    let (organizer, industry, consultancy_id) =
        organizer_of(state, principal, target.enterprise_id, today).await?;
    let rules = PanelRules::from_book(state.rules(), today).map_err(draw_error)?;
    let (pool, experts) = pool_and_facts(&state.db().pool_snapshot().await?);
    let frozen = FrozenInputs {
        review: ReviewRef {
            round_id: target.round_ref,
            kind: target.kind,
            enterprise_id: target.enterprise_id,
            enterprise_industry: industry,
            consultancy_id,
            organizer: organizer.clone(),
            review_on,
        },
        rules,
        pool_frozen_at: state.now().with_timezone(&china_offset()),
        pool,
        experts,
    };
    let json = serde_json::to_string(&frozen).map_err(|_| AppError::Internal)?;
    Ok(state
        .db()
        .freeze_draw(
            principal,
            &name_of(&target.kind),
            &target.round_ref.to_string(),
            target.audit_round_id,
            target.enterprise_id,
            &organizer,
            &json,
            state.now(),
        )
        .await?)
}

async fn draw_json(state: &AppState, id: i64) -> Result<DrawJson, AppError> {
    Ok(DrawJson {
        draw: state.db().get_draw(id).await?.ok_or(AppError::NotFound)?,
        assignments: state.db().assignments(id).await?,
    })
}

/// Freezes and publishes the pool for a review (the review's organizer). The random sources are
/// announced now and used only once published after this day.
#[utoipa::path(post, path = "/api/v1/draws", tag = "draws", request_body = FreezeJson,
    responses((status = 201, body = DrawJson), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_freeze(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<FreezeJson>,
) -> Result<Response, ApiError> {
    let principal = caller.principal()?;
    let id = freeze(&state, principal, &input).await?;
    Ok((StatusCode::CREATED, Json(draw_json(&state, id).await?)).into_response())
}

/// The random sources, as published after the freeze.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RunJson {
    #[schema(value_type = Vec<Object>)]
    pub sources: Vec<RandomSource>,
}

pub async fn run(
    state: &AppState,
    principal: &Principal,
    id: i64,
    input: &RunJson,
) -> Result<(), AppError> {
    let row = state.db().get_draw(id).await?.ok_or(AppError::NotFound)?;
    if row.stage != "frozen" {
        return Err(AppError::Conflict {
            code: "already_drawn",
            message: cpaudit_core::registry::Message::new(
                "该次抽取已经完成，不能重复抽取",
                "this draw has been run already; a draw runs once",
            ),
            field: None,
        });
    }
    let frozen: FrozenInputs =
        serde_json::from_value(row.inputs.0.clone()).map_err(|_| AppError::Internal)?;
    let record = draw(&DrawInputs {
        review: frozen.review,
        rules: frozen.rules,
        pool_frozen_at: frozen.pool_frozen_at,
        pool: frozen.pool,
        experts: frozen.experts,
        sources: input.sources.clone(),
    })
    .map_err(draw_error)?;
    let expert_of = |number: &u32| {
        record
            .pool
            .iter()
            .find(|p| p.pool_number == *number)
            .map(|p| p.expert_id)
    };
    let ranked: Vec<(i64, &str)> = record
        .panel
        .iter()
        .filter_map(|n| expert_of(n).map(|id| (id, "panel")))
        .chain(
            record
                .alternates
                .iter()
                .filter_map(|n| expert_of(n).map(|id| (id, "alternate"))),
        )
        .collect();
    let json = serde_json::to_string(&record).map_err(|_| AppError::Internal)?;
    state
        .db()
        .record_draw(
            principal,
            id,
            &json,
            &record.outcome_hash,
            &ranked,
            state.now(),
        )
        .await?;
    Ok(())
}

/// Runs a frozen draw with the published random sources (RFC 3797).
#[utoipa::path(post, path = "/api/v1/draws/{id}/run", tag = "draws", params(("id" = i64, Path)),
    request_body = RunJson,
    responses((status = 200, body = DrawJson), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<RunJson>,
) -> Result<Json<DrawJson>, ApiError> {
    let principal = caller.principal()?;
    run(&state, principal, id, &input).await?;
    Ok(Json(draw_json(&state, id).await?))
}

/// An expert's answer to an assignment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResponseJson {
    pub accept: bool,
    /// Accepting requires confirming "no conflict of interest".
    #[serde(default)]
    pub no_conflict: bool,
    /// Declining requires a reason.
    #[serde(default)]
    pub reason: String,
}

/// Accept (confirming no conflict) or decline with a reason; a declined seat goes to the next
/// alternate.
#[utoipa::path(post, path = "/api/v1/draws/{id}/response", tag = "draws", params(("id" = i64, Path)),
    request_body = ResponseJson,
    responses((status = 200, body = AssignmentRow), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_respond(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<ResponseJson>,
) -> Result<Json<AssignmentRow>, ApiError> {
    let principal = caller.principal()?;
    if input.accept && !input.no_conflict {
        return Err(AppError::bad_field(
            "no_conflict",
            "confirmation_required",
            "接受评审任务须确认与被评审企业及其咨询机构不存在利益冲突",
            "accepting requires confirming that there is no conflict of interest",
        )
        .into());
    }
    if !input.accept && input.reason.trim().is_empty() {
        return Err(AppError::bad_field(
            "reason",
            "required",
            "谢绝评审任务须说明理由",
            "declining requires a reason",
        )
        .into());
    }
    Ok(Json(
        state
            .db()
            .respond_to_assignment(
                principal,
                id,
                input.accept,
                input.no_conflict,
                &input.reason,
                state.now(),
            )
            .await?,
    ))
}

/// The caller's own assignments (experts).
#[utoipa::path(get, path = "/api/v1/draws/assignments", tag = "draws",
    responses((status = 200, body = [AssignmentRow])))]
pub async fn api_my_assignments(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AssignmentRow>>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(state.db().my_assignments(principal).await?))
}

/// Marks the review finished (the organizer): names become public.
#[utoipa::path(post, path = "/api/v1/draws/{id}/finish", tag = "draws", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_finish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let principal = caller.principal()?;
    state.db().finish_draw(principal, id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The published form of a draw: the frozen pool (numbers and specialties only) while it
/// waits for its sources, the verifiable public record once drawn.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicDrawJson {
    pub id: i64,
    pub stage: String,
    pub frozen_at: String,
    /// Pool numbers and specialties of the frozen pool.
    #[schema(value_type = Vec<Object>)]
    pub frozen_pool: Vec<(u32, Vec<String>)>,
    #[schema(value_type = Option<Object>)]
    pub record: Option<PublicDraw>,
    /// Whether the public record recomputes to the same result.
    pub verified: Option<bool>,
}

async fn public_draw(state: &AppState, id: i64) -> Result<PublicDrawJson, AppError> {
    let row = state.db().get_draw(id).await?.ok_or(AppError::NotFound)?;
    let frozen: FrozenInputs =
        serde_json::from_value(row.inputs.0.clone()).map_err(|_| AppError::Internal)?;
    let record: Option<DrawRecord> = row
        .record
        .as_ref()
        .and_then(|json| serde_json::from_value(json.clone()).ok());
    let copy = record
        .as_ref()
        .map(|r| public_copy(r, row.finished_at.is_some()));
    Ok(PublicDrawJson {
        id,
        stage: row.stage,
        frozen_at: row.frozen_at,
        frozen_pool: frozen
            .pool
            .iter()
            .map(|p| (p.pool_number, p.specialties.clone()))
            .collect(),
        verified: copy
            .as_ref()
            .map(|c| verify_public(c).mismatches.is_empty()),
        record: copy,
    })
}

/// A published draw (anyone): no personal data until the review is finished.
#[utoipa::path(get, path = "/api/v1/public/draws/{id}", tag = "public", params(("id" = i64, Path)),
    responses((status = 200, body = PublicDrawJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_public_draw(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<PublicDrawJson>, ApiError> {
    Ok(Json(public_draw(&state, id).await?))
}

#[derive(Template)]
#[template(path = "public_draw.html")]
struct PublicDrawPage {
    ctx: Ctx,
    d: PublicDrawJson,
    json: String,
    review_on: String,
}

/// The published draw as a page, with its JSON for `cpaudit draw verify`.
pub async fn public_draw_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = public_draw(&state, id).await?;
    let json = d
        .record
        .as_ref()
        .and_then(|r| serde_json::to_string_pretty(r).ok())
        .unwrap_or_default();
    let review_on = d
        .record
        .as_ref()
        .map_or(String::new(), |r| date_text(r.review.review_on));
    Ok(render(&PublicDrawPage {
        ctx: Ctx::new(&caller),
        d,
        json,
        review_on,
    }))
}

/// One line of the public list of draws.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawSummary {
    pub id: i64,
    pub review_kind: String,
    pub stage: String,
    pub frozen_at: String,
    pub finished: bool,
    pub record_hash: Option<String>,
}

async fn draw_summaries(state: &AppState) -> Result<Vec<DrawSummary>, AppError> {
    Ok(state
        .db()
        .list_draws()
        .await?
        .into_iter()
        .map(|d| DrawSummary {
            id: d.id,
            review_kind: d.review_kind,
            stage: d.stage,
            frozen_at: d.frozen_at,
            finished: d.finished_at.is_some(),
            record_hash: d.record_hash,
        })
        .collect())
}

/// Every published draw, newest first.
#[utoipa::path(get, path = "/api/v1/public/draws", tag = "public",
    responses((status = 200, body = [DrawSummary])))]
pub async fn api_public_draws(
    State(state): State<AppState>,
) -> Result<Json<Vec<DrawSummary>>, ApiError> {
    Ok(Json(draw_summaries(&state).await?))
}

#[derive(Template)]
#[template(path = "public_draws.html")]
struct PublicDrawsPage {
    ctx: Ctx,
    draws: Vec<DrawSummary>,
}

/// The published draws as a page.
pub async fn public_draws_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    Ok(render(&PublicDrawsPage {
        ctx: Ctx::new(&caller),
        draws: draw_summaries(&state).await?,
    }))
}
