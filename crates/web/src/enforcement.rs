//! Enforcement on an audit round: the round's enforcement page and API (history; orders to
//! correct, their outcome, fines and public criticisms decided by the round's city or the
//! province), the province's sanction of the round's consultancy from that page, and the public
//! list of published fines and criticisms.
//!
//! The articles and their ranges come from the rule book (unit `penalty`); the checks are
//! `cpaudit_core::enforcement`'s and run inside the recording transaction.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use chrono::NaiveDate;
use cpaudit_app::enforcement::{self as use_case, may_decide};
use cpaudit_core::enforcement::{Article, OrderStatus, Outcome};
use cpaudit_core::rules::PenaltyKind;
use cpaudit_storage::consultancies::SanctionRow;
use cpaudit_storage::enforcement::{EnforcementRow, PublicEnforcementRow};
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::InScope;
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::action::{Done, Input};
use crate::auth::Caller;
use crate::consultancies::SanctionJson;
use crate::error::{ApiError, AppError};
use crate::evidence::text_or_number;
use crate::i18n::Lang;
use crate::pages::{render, Ctx};
use crate::views::enforcement::Enforcement;
use crate::AppState;

// ---- input --------------------------------------------------------------------------------------

/// A decision as a form or a JSON client sends it. Every field is text so that each mistake is
/// reported by its field; numbers and flags may also be sent as JSON numbers and booleans.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EnforcementInput {
    /// order_to_correct | fine | public_criticism
    pub kind: String,
    /// The article applied: a rule id of unit penalty (e.g. penalty.law_39_1); the round's
    /// enforcement record lists those in force.
    pub basis: String,
    /// The facts found.
    pub reason: String,
    /// YYYY-MM-DD, not after today; default today.
    pub decided_on: String,
    /// The decision's document number (文号).
    pub document_number: String,
    /// Orders: the last day to correct, after `decided_on`.
    pub correct_by: String,
    /// Fines: whole yuan, within the article's range.
    #[serde(deserialize_with = "text_or_number")]
    pub amount_yuan: String,
    /// Fines: the id of the order to correct the fine follows (required where the article
    /// fines only a refusal to correct, as 促进法 Art. 39 does).
    #[serde(deserialize_with = "text_or_number")]
    pub follows: String,
    /// Fines: put the fine on the public list (true/false). Public criticisms always are.
    #[serde(deserialize_with = "text_or_number")]
    pub publish: String,
}

impl From<EnforcementInput> for use_case::EnforcementInput {
    fn from(input: EnforcementInput) -> Self {
        use_case::EnforcementInput {
            kind: input.kind,
            basis: input.basis,
            reason: input.reason,
            decided_on: input.decided_on,
            document_number: input.document_number,
            correct_by: input.correct_by,
            amount_yuan: input.amount_yuan,
            follows: input.follows,
            publish: input.publish,
        }
    }
}

/// How an order to correct ended, as a form or a JSON client sends it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EnforcementOutcomeInput {
    /// corrected | not_corrected
    pub outcome: String,
    /// YYYY-MM-DD: the day it was corrected, or the day it is found not corrected (after the
    /// date to correct); default today.
    pub outcome_on: String,
}

impl From<EnforcementOutcomeInput> for use_case::OutcomeInput {
    fn from(input: EnforcementOutcomeInput) -> Self {
        use_case::OutcomeInput {
            outcome: input.outcome,
            outcome_on: input.outcome_on,
        }
    }
}

// ---- recording ----------------------------------------------------------------------------------

async fn visible_round(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> Result<InScope<RoundRow>, AppError> {
    state
        .db()
        .get_round(principal.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn action_row(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> Result<EnforcementRow, AppError> {
    state
        .db()
        .enforcement_with_round(principal.scope(), id)
        .await?
        .map(|(row, _)| row)
        .ok_or(AppError::NotFound)
}

/// Records an order to correct, a fine or a public criticism on a round (the round's city or
/// the province). A fine under 促进法 Art. 39 follows an order found not corrected after its date.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/enforcement", tag = "enforcement",
    params(("id" = i64, Path)), request_body = EnforcementInput,
    responses((status = 201, body = Enforcement), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<EnforcementInput>,
) -> Result<Done<Enforcement>, AppError> {
    let principal = caller.principal()?;
    let action_id = use_case::decide(state.app(), principal, id, &input.into()).await?;
    let row = action_row(&state, principal, action_id).await?;
    let then = format!("/rounds/{id}/enforcement#enforcement-{action_id}");
    Ok(Done::with(Enforcement::from(row), then).created())
}

/// Records how an order to correct ended: corrected on a day, or not corrected once its date
/// has passed (the round's city or the province). Recorded once.
#[utoipa::path(post, path = "/api/v1/enforcement/{id}/outcome", tag = "enforcement",
    params(("id" = i64, Path, description = "the order to correct")), request_body = EnforcementOutcomeInput,
    responses((status = 200, body = Enforcement), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<EnforcementOutcomeInput>,
) -> Result<Done<Enforcement>, AppError> {
    let principal = caller.principal()?;
    let round_id = use_case::record_outcome(state.app(), principal, id, &input.into()).await?;
    let view = Enforcement::from(action_row(&state, principal, id).await?);
    Ok(Done::with(
        view,
        format!("/rounds/{round_id}/enforcement#enforcement-{id}"),
    ))
}

// ---- reading ------------------------------------------------------------------------------------

/// An article a decision can rest on, with what it allows and its wording.
#[derive(Debug, Serialize, ToSchema)]
pub struct PenaltyArticleJson {
    /// The rule id, sent as `basis`.
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// order_to_correct | fine | public_criticism
    pub kinds: Vec<String>,
    pub fine_min_yuan: Option<i64>,
    pub fine_max_yuan: Option<i64>,
    /// A fine needs an earlier order under this article, found not corrected after its date.
    pub fine_after_expired_order: bool,
    /// E.g. 五万元以上五十万元以下.
    pub fine_range_zh: Option<String>,
    /// E.g. 50,000 to 500,000 yuan.
    pub fine_range_en: Option<String>,
    /// The article's wording.
    pub text: Option<String>,
}

impl PenaltyArticleJson {
    fn new(article: &Article) -> Self {
        let fine = article.penalty.fine;
        PenaltyArticleJson {
            id: article.id.clone(),
            name_zh: article.name_zh.clone(),
            name_en: article.name_en.clone(),
            kinds: article
                .penalty
                .kinds
                .iter()
                .map(|kind| kind.as_str().to_string())
                .collect(),
            fine_min_yuan: fine.and_then(|range| range.min_yuan),
            fine_max_yuan: fine.map(|range| range.max_yuan),
            fine_after_expired_order: fine.is_some_and(|range| range.after_expired_order),
            fine_range_zh: fine.map(|range| range.describe_zh()),
            fine_range_en: fine.map(|range| range.describe_en()),
            text: article.text.clone(),
        }
    }

    fn allows(&self, kind: PenaltyKind) -> bool {
        self.kinds.iter().any(|k| k == kind.as_str())
    }

    fn name(&self, lang: &Lang) -> &str {
        lang.pick(&self.name_zh, &self.name_en)
    }
}

/// A round's enforcement record.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnforcementJson {
    pub round_id: i64,
    pub enterprise_name: String,
    /// Whether the caller may decide (the round's city or the province).
    pub may_decide: bool,
    /// Every decision, oldest first.
    pub actions: Vec<Enforcement>,
    /// Orders whose date passed with no outcome recorded.
    pub awaiting_outcome: Vec<i64>,
    /// The articles in force today.
    pub articles: Vec<PenaltyArticleJson>,
}

/// The round's decisions as read, for the page's own checks, and its enforcement record.
async fn enforcement_json(
    state: &AppState,
    principal: &Principal,
    round: &InScope<RoundRow>,
) -> Result<(Vec<EnforcementRow>, EnforcementJson), AppError> {
    let today = state.today();
    let actions = state.db().round_enforcement(round).await?;
    let awaiting_outcome = actions
        .iter()
        .filter_map(EnforcementRow::as_order)
        .filter(|order| order.status(today) == OrderStatus::AwaitingOutcome)
        .map(|order| order.id)
        .collect();
    let json = EnforcementJson {
        round_id: round.id,
        enterprise_name: round.enterprise_name.clone(),
        may_decide: may_decide(principal, round),
        actions: actions.iter().cloned().map(Into::into).collect(),
        awaiting_outcome,
        articles: Article::all_in_force(state.rules(), today)
            .iter()
            .map(PenaltyArticleJson::new)
            .collect(),
    };
    Ok((actions, json))
}

/// A round's enforcement record and the articles in force (readers of the round).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/enforcement", tag = "enforcement",
    params(("id" = i64, Path)),
    responses((status = 200, body = EnforcementJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_round_enforcement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<EnforcementJson>, ApiError> {
    let principal = caller.principal()?;
    let round = visible_round(&state, principal, id).await?;
    Ok(Json(enforcement_json(&state, principal, &round).await?.1))
}

// ---- the round's enforcement page ---------------------------------------------------------------

struct ActionView {
    id: i64,
    decided_on: String,
    kind: String,
    article: String,
    reason: String,
    detail: String,
    document_number: String,
    status: String,
    published: bool,
    /// An order whose date passed with no outcome recorded.
    awaiting_outcome: bool,
    /// An order with no outcome recorded yet: the outcome form is shown.
    outcome_open: bool,
}

/// An article offered in one form, with its range and wording.
struct Choice {
    id: String,
    name: String,
    range: String,
    text: String,
}

struct OrderChoice {
    id: i64,
    label: String,
}

#[derive(Template)]
#[template(path = "round_enforcement.html")]
struct EnforcementPage {
    ctx: Ctx,
    round: RoundRow,
    may_decide: bool,
    is_province: bool,
    today: String,
    actions: Vec<ActionView>,
    order_articles: Vec<Choice>,
    fine_articles: Vec<Choice>,
    criticism_articles: Vec<Choice>,
    orders: Vec<OrderChoice>,
    sanctions: Vec<SanctionRow>,
}

fn article_name(articles: &[PenaltyArticleJson], lang: Lang, basis: &str) -> String {
    articles
        .iter()
        .find(|article| article.id == basis)
        .map_or(basis.to_string(), |article| article.name(&lang).to_string())
}

fn status_of(lang: Lang, row: &EnforcementRow, today: NaiveDate) -> String {
    let Some(order) = row.as_order() else {
        return String::new();
    };
    let outcome = |outcome: Outcome, on: NaiveDate| {
        format!("{} {on}", lang.pick(outcome.label_zh(), outcome.label_en()))
    };
    match order.status(today) {
        OrderStatus::Running => format!("{} {}", lang.texts().to_correct_by, order.correct_by),
        OrderStatus::AwaitingOutcome => format!(
            "{} {}",
            lang.texts().expired_outcome_to_record_the_date,
            order.correct_by
        ),
        OrderStatus::Corrected(on) => outcome(Outcome::Corrected, on),
        OrderStatus::NotCorrected(on) => outcome(Outcome::NotCorrected, on),
    }
}

fn action_view(
    lang: Lang,
    articles: &[PenaltyArticleJson],
    row: &EnforcementRow,
    awaiting: &[i64],
    today: NaiveDate,
) -> ActionView {
    let detail = match (row.amount_yuan, row.follows) {
        (Some(amount), Some(order)) => format!(
            "{amount} {}（{} #{order}）",
            lang.texts().yuan,
            lang.texts().following_order
        ),
        (Some(amount), None) => format!("{amount} {}", lang.texts().yuan),
        _ => String::new(),
    };
    ActionView {
        id: row.id,
        decided_on: date_text(row.decided_on),
        kind: lang.pick(row.kind.label_zh(), row.kind.label_en()).into(),
        article: article_name(articles, lang, &row.basis),
        reason: row.reason.clone(),
        detail,
        document_number: row.document_number.clone(),
        status: status_of(lang, row, today),
        published: row.published,
        awaiting_outcome: awaiting.contains(&row.id),
        outcome_open: row.as_order().is_some_and(|order| order.outcome.is_none()),
    }
}

fn choices(lang: Lang, articles: &[PenaltyArticleJson], kind: PenaltyKind) -> Vec<Choice> {
    articles
        .iter()
        .filter(|article| article.allows(kind))
        .map(|article| {
            let range = match (&article.fine_range_zh, &article.fine_range_en) {
                (Some(zh), Some(en)) if kind == PenaltyKind::Fine => {
                    let mut range = lang.pick(zh, en).to_string();
                    if article.fine_after_expired_order {
                        range.push_str(lang.texts().only_after_an_order_under_this);
                    }
                    range
                }
                _ => String::new(),
            };
            Choice {
                id: article.id.clone(),
                name: article.name(&lang).to_string(),
                range,
                text: article.text.clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// The round's orders to correct, for the fine form's "follows" choice.
fn order_choices(rows: &[EnforcementRow], views: &[ActionView]) -> Vec<OrderChoice> {
    rows.iter()
        .zip(views)
        .filter(|(row, _)| row.kind == PenaltyKind::OrderToCorrect)
        .map(|(row, view)| OrderChoice {
            id: row.id,
            label: format!(
                "#{} {} {} · {}",
                row.id, row.decided_on, view.article, view.status
            ),
        })
        .collect()
}

pub async fn enforcement_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let round = visible_round(&state, principal, id).await?;
    let (rows, record) = enforcement_json(&state, principal, &round).await?;
    let lang = caller.lang;
    let today = state.today();
    let actions: Vec<ActionView> = rows
        .iter()
        .map(|row| action_view(lang, &record.articles, row, &record.awaiting_outcome, today))
        .collect();
    let sanctions = match round.consultancy_id {
        Some(consultancy) => state.db().sanctions(Some(consultancy)).await?,
        None => Vec::new(),
    };
    Ok(render(&EnforcementPage {
        ctx: Ctx::new(&caller),
        may_decide: record.may_decide,
        is_province: matches!(
            principal.scope().kind(),
            cpaudit_storage::auth::ScopeKind::Province
        ),
        today: date_text(today),
        order_articles: choices(lang, &record.articles, PenaltyKind::OrderToCorrect),
        fine_articles: choices(lang, &record.articles, PenaltyKind::Fine),
        criticism_articles: choices(lang, &record.articles, PenaltyKind::PublicCriticism),
        orders: order_choices(&rows, &actions),
        actions,
        sanctions,
        round: round.into_inner(),
    }))
}

// ---- sanctioning the round's consultancy ----------------------------------------------------------

/// The province's sanction of the consultancy a round engaged, from the round's page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoundSanctionForm {
    /// correction_order | blacklist
    pub kind: String,
    pub reason: String,
    /// Last day; empty = until corrected.
    pub ends_on: String,
}

/// Imposes the sanction through the consultancy module, with the round named in the reason so
/// that the public blacklist says which audit it concerns.
pub async fn sanction_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(form): Input<RoundSanctionForm>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let round = visible_round(&state, principal, id).await?;
    let consultancy = round.consultancy_id.ok_or_else(|| {
        AppError::bad_field(
            "consultancy_id",
            "no_consultancy",
            "本轮审核没有委托咨询服务机构",
            "this round engaged no consultancy",
        )
    })?;
    if form.reason.trim().is_empty() {
        return Err(AppError::bad_field(
            "reason",
            "required",
            "reason 为必填项",
            "reason is required",
        ));
    }
    let input = SanctionJson {
        kind: form.kind,
        reason: format!(
            "{}（{} {} 年度清洁生产审核，审核轮次 #{}）：{}",
            round.enterprise_name,
            round.jurisdiction_name_zh,
            round.list_year,
            round.id,
            form.reason.trim()
        ),
        legal_basis: String::new(),
        starts_on: String::new(),
        ends_on: form.ends_on,
    };
    crate::consultancies::impose(&state, principal, consultancy, &input).await?;
    Ok(Redirect::to(&format!("/rounds/{id}/enforcement#sanctions")).into_response())
}

// ---- the public list ----------------------------------------------------------------------------

/// A published fine or public criticism.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicEnforcementJson {
    /// fine | public_criticism
    pub kind: String,
    pub enterprise_name: String,
    pub jurisdiction_name_zh: String,
    /// The rule id of the article applied.
    pub basis: String,
    pub article_zh: String,
    pub article_en: String,
    pub decided_on: NaiveDate,
    pub document_number: String,
    /// Fines only, in yuan.
    pub amount_yuan: Option<i64>,
}

fn public_json(state: &AppState, row: PublicEnforcementRow) -> PublicEnforcementJson {
    let (article_zh, article_en) = state.rules().parameter(&row.basis).map_or_else(
        || (row.basis.clone(), row.basis.clone()),
        |parameter| (parameter.name_zh.clone(), parameter.name_en.clone()),
    );
    PublicEnforcementJson {
        kind: row.kind.as_str().into(),
        enterprise_name: row.enterprise_name,
        jurisdiction_name_zh: row.jurisdiction_name_zh,
        basis: row.basis,
        article_zh,
        article_en,
        decided_on: row.decided_on,
        document_number: row.document_number,
        amount_yuan: row.amount_yuan,
    }
}

async fn public_list(state: &AppState) -> Result<Vec<PublicEnforcementJson>, AppError> {
    Ok(state
        .db()
        .public_enforcement()
        .await?
        .into_iter()
        .map(|row| public_json(state, row))
        .collect())
}

/// Published fines and public criticisms, newest first: the enterprise, the article, the
/// decision; no person's name.
#[utoipa::path(get, path = "/api/v1/public/enforcement", tag = "public", security(()),
    responses((status = 200, body = [PublicEnforcementJson])))]
pub async fn api_public_enforcement(
    State(state): State<AppState>,
) -> Result<Json<Vec<PublicEnforcementJson>>, ApiError> {
    Ok(Json(public_list(&state).await?))
}

struct PublicRowView {
    decided_on: String,
    enterprise_name: String,
    city: String,
    kind: String,
    article: String,
    document_number: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "public_enforcement.html")]
struct PublicEnforcementPage {
    ctx: Ctx,
    rows: Vec<PublicRowView>,
}

pub async fn public_enforcement_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let lang = caller.lang;
    let rows = public_list(&state)
        .await?
        .into_iter()
        .map(|row| PublicRowView {
            kind: PenaltyKind::parse(&row.kind).map_or(row.kind.clone(), |kind| {
                lang.pick(kind.label_zh(), kind.label_en()).to_string()
            }),
            article: lang.pick(&row.article_zh, &row.article_en).to_string(),
            amount: row
                .amount_yuan
                .map(|amount| format!("{amount} {}", lang.texts().yuan))
                .unwrap_or_default(),
            decided_on: date_text(row.decided_on),
            enterprise_name: row.enterprise_name,
            city: row.jurisdiction_name_zh,
            document_number: row.document_number,
        })
        .collect();
    Ok(render(&PublicEnforcementPage {
        ctx: Ctx::new(&caller),
        rows,
    }))
}
