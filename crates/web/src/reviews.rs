//! Reviews of a round (评估, 验收, the combined small/micro review), as the panel and the
//! organizer work on them: the review page with the panel, the sheets the caller may see and
//! the proposal; the expert's score form; the technical review opinion (printable page and
//! .docx) once the organizer has decided; and the public list of decided reviews.
//!
//! Scheduling and deciding are round transitions (another module); this one scores. The forms
//! are the embedded `rules/gansu/scoring.toml` (core `scoring`, [`scoring_book`]), and a review
//! is scored with the form version it recorded when it was scheduled: the schedule transition
//! passes `scoring_book().form_at(kind, meeting_on)` to `storage::reviews::insert_review`, and
//! the decide transition records what [`proposal_of`] proposes.
//!
//! Routes: `GET /reviews/{id}` and `GET /api/v1/reviews/{id}` (anyone whose scope covers the
//! round; the panel is shown to the organizer and the panel, to others once decided; sheets as
//! [`cpaudit_storage::Db::review_sheets`] allows; the proposal to the organizer, and to the
//! panel once decided); `GET|POST /reviews/{id}/score` and `POST /api/v1/reviews/{id}/scores`
//! (a seated expert, until the decision; a bad sheet is a 400 naming `items.<id>`, `vetoes` or
//! `opinion`); `GET /reviews/{id}/opinion` and `/reviews/{id}/opinion.docx` (in scope, after the
//! decision; 404 before); `GET /public/reviews` and `GET /api/v1/public/reviews` (anyone:
//! enterprise, kind, conclusion, date, opinion number; no expert, no score).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use cpaudit_app::reviews::{self as use_case, form_of, SheetInput};
use cpaudit_core::round::{ReviewConclusion, ReviewKind};
use cpaudit_core::scoring::{Proposal, ScoringForm};
use cpaudit_office::{write_review_opinion, ReviewOpinion};
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::reviews::{is_organizer, ReviewRow};
use cpaudit_storage::InScope;
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::action::{Done, FromForm, Shaped};
use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::i18n::Lang;
use crate::pages::{render, Ctx};
use crate::views::reviews::{PanelSeat, Review, ScoreSheet};
use crate::AppState;

pub use cpaudit_app::reviews::scoring_book;

/// A review as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewJson {
    pub review: Review,
    pub enterprise_name: String,
    pub credit_code: String,
    pub list_year: i64,
    pub round_state: String,
    /// The form the review is scored with: items with their points, veto items.
    #[schema(value_type = Object)]
    pub form: FormJson,
    /// The seated panel: shown to the organizer and the panel, to others once decided.
    pub panel: Vec<PanelSeat>,
    pub panel_size: usize,
    pub sheets_in: usize,
    /// Every seated member has a sheet in.
    pub scores_complete: bool,
    /// The sheets the caller may read: the organizer all; an expert their own until the
    /// decision, all after it; others none.
    pub sheets: Vec<ScoreSheet>,
    /// What the sheets propose (the organizer; the panel once decided).
    #[schema(value_type = Option<Object>)]
    pub proposal: Option<Proposal>,
    /// Whether the caller has a seat and may still score.
    pub may_score: bool,
    pub is_organizer: bool,
}

/// The form's items and veto items, as a score sheet shows them.
#[derive(Debug, Serialize)]
pub struct FormJson {
    pub version: String,
    pub name_zh: String,
    pub name_en: String,
    pub items: Vec<cpaudit_core::scoring::ScoreItem>,
    pub vetoes: Vec<cpaudit_core::scoring::VetoItem>,
}

impl FormJson {
    fn of(form: &ScoringForm) -> Self {
        FormJson {
            version: form.version.clone(),
            name_zh: form.name_zh.clone(),
            name_en: form.name_en.clone(),
            items: form.items.clone(),
            vetoes: form.vetoes.clone(),
        }
    }
}

fn own_expert(principal: &Principal) -> Option<i64> {
    match principal.scope().kind() {
        ScopeKind::Expert(id) => Some(*id),
        _ => None,
    }
}

/// The proposal from every sheet in, against `seated` accepted panel seats; `None` while no
/// sheet is in. The decide transition records its conclusion and score beside the decision.
pub async fn proposal_of(
    state: &AppState,
    review: &InScope<ReviewRow>,
    seated: usize,
) -> Result<Option<Proposal>, AppError> {
    Ok(use_case::proposal_of(state.app(), review, seated).await?)
}

async fn detail(state: &AppState, principal: &Principal, id: i64) -> Result<ReviewJson, AppError> {
    let (review, round) = use_case::review_in_scope(state.app(), principal, id).await?;
    let form = form_of(&review)?;
    let organizer = is_organizer(principal.scope(), &round);
    let panel = state.db().review_panel(&review).await?;
    let seated = own_expert(principal).is_some_and(|me| panel.iter().any(|p| p.expert_id == me));
    let sees_panel = organizer || seated || review.is_decided();
    let proposal = if organizer || (seated && review.is_decided()) {
        proposal_of(state, &review, panel.len()).await?
    } else {
        None
    };
    Ok(ReviewJson {
        enterprise_name: round.enterprise_name.clone(),
        credit_code: round.credit_code.clone(),
        list_year: round.list_year,
        round_state: round.state.as_str().into(),
        form: FormJson::of(form),
        panel_size: panel.len(),
        sheets_in: panel.iter().filter(|p| p.submitted_at.is_some()).count(),
        scores_complete: state.db().scores_complete(&review).await?,
        sheets: state
            .db()
            .review_sheets(principal, &review, &round)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        proposal,
        may_score: seated && !review.is_decided() && !round.state.is_final(),
        is_organizer: organizer,
        panel: if sees_panel {
            panel.into_iter().map(Into::into).collect()
        } else {
            Vec::new()
        },
        review: review.into_inner().into(),
    })
}

/// One review: panel, the sheets the caller may see, the proposal.
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ReviewJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(detail(&state, principal, id).await?))
}

fn kind_label(lang: Lang, kind: ReviewKind) -> &'static str {
    lang.pick(kind.label_zh(), kind.label_en())
}

fn conclusion_label(lang: Lang, conclusion: Option<ReviewConclusion>) -> String {
    conclusion.map_or(String::new(), |c| {
        lang.pick(c.label_zh(), c.label_en()).to_string()
    })
}

/// A score sheet as the review page lists it, veto items by their text.
struct SheetView {
    expert_name: String,
    total: f64,
    vetoes: String,
    opinion: String,
    submitted_at: String,
}

fn sheet_view(lang: Lang, form: &FormJson, row: &ScoreSheet) -> SheetView {
    let vetoes: Vec<&str> = row
        .sheet()
        .vetoes
        .iter()
        .filter_map(|id| form.vetoes.iter().find(|v| &v.id == id))
        .map(|v| lang.pick(&v.text_zh, &v.text_en))
        .collect();
    SheetView {
        expert_name: row.expert_name.clone(),
        total: row.total,
        vetoes: if vetoes.is_empty() {
            "—".into()
        } else {
            vetoes.join("；")
        },
        opinion: row.opinion.clone(),
        submitted_at: row.submitted_at.clone(),
    }
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    ctx: Ctx,
    d: ReviewJson,
    kind: String,
    conclusion: String,
    proposed: String,
    explanation: String,
    sheets: Vec<SheetView>,
}

/// The review page.
pub async fn review_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let d = detail(&state, principal, id).await?;
    let lang = caller.lang;
    let (proposed, explanation) = d.proposal.as_ref().map_or_else(Default::default, |p| {
        (
            lang.pick(p.conclusion.label_zh(), p.conclusion.label_en())
                .to_string(),
            lang.pick(&p.explanation_zh, &p.explanation_en).to_string(),
        )
    });
    Ok(render(&ReviewPage {
        ctx: Ctx::new(&caller),
        kind: kind_label(lang, d.review.kind).to_string(),
        conclusion: conclusion_label(lang, d.review.conclusion),
        proposed,
        explanation,
        sheets: d
            .sheets
            .iter()
            .map(|row| sheet_view(lang, &d.form, row))
            .collect(),
        d,
    }))
}

// ---- the expert's score sheet ---------------------------------------------------------------

/// A score sheet as the API takes it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SheetJson {
    /// Points per item id of the review's form.
    #[serde(default)]
    pub items: BTreeMap<String, f64>,
    /// Ids of the veto items the expert marks.
    #[serde(default)]
    pub vetoes: Vec<String>,
    #[serde(default)]
    pub opinion: String,
}

impl From<SheetJson> for SheetInput {
    fn from(input: SheetJson) -> Self {
        SheetInput {
            items: input.items,
            vetoes: input.vetoes,
            opinion: input.opinion,
        }
    }
}

/// Submits (or, until the decision, replaces) the caller's score sheet (a seated expert).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/scores", tag = "reviews", params(("id" = i64, Path)),
    request_body = SheetJson,
    responses((status = 200, body = ReviewJson), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Shaped(input): Shaped<SheetJson>,
) -> Result<Done<ReviewJson>, AppError> {
    let principal = caller.principal()?;
    use_case::submit(state.app(), principal, id, input.into()).await?;
    Ok(Done::with(
        detail(&state, principal, id).await?,
        format!("/reviews/{id}"),
    ))
}

/// The score form: a field per item (`items.ID`), a checkbox per veto (`vetoes`, repeated)
/// and the opinion.
impl FromForm for SheetJson {
    type Form = Vec<(String, String)>;

    fn from_form(fields: Self::Form) -> Result<Self, AppError> {
        let mut sheet = SheetJson::default();
        for (name, value) in fields {
            if let Some(id) = name.strip_prefix("items.") {
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                let score = value.parse::<f64>().map_err(|_| {
                    AppError::bad_field(
                        &name,
                        "invalid_number",
                        &format!("“{value}”不是数字"),
                        &format!("\"{value}\" is not a number"),
                    )
                })?;
                sheet.items.insert(id.to_string(), score);
            } else if name == "vetoes" {
                sheet.vetoes.push(value);
            } else if name == "opinion" {
                sheet.opinion = value;
            }
        }
        Ok(sheet)
    }
}

/// One item of the score form with the caller's earlier score.
struct ItemField {
    id: String,
    name: String,
    guidance: String,
    max: u32,
    value: String,
}

struct VetoField {
    id: String,
    text: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "review_score.html")]
struct ScorePage {
    ctx: Ctx,
    d: ReviewJson,
    kind: String,
    items: Vec<ItemField>,
    vetoes: Vec<VetoField>,
    opinion: String,
}

/// The expert's score form, filled with their earlier sheet.
pub async fn score_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let d = detail(&state, principal, id).await?;
    if !d.may_score {
        return Err(AppError::Forbidden(cpaudit_core::registry::Message::new(
            "只有已接受评审任务的专家组成员可在结论作出前评分",
            "only a seated panel member scores, and only before the decision",
        )));
    }
    let lang = caller.lang;
    let mine = d.sheets.first().map(ScoreSheet::sheet);
    let items = d
        .form
        .items
        .iter()
        .map(|item| ItemField {
            id: item.id.clone(),
            name: lang.pick(&item.name_zh, &item.name_en).to_string(),
            guidance: item.guidance.clone(),
            max: item.max,
            value: mine
                .as_ref()
                .and_then(|s| s.items.get(&item.id))
                .map_or(String::new(), ToString::to_string),
        })
        .collect();
    let vetoes = d
        .form
        .vetoes
        .iter()
        .map(|veto| VetoField {
            id: veto.id.clone(),
            text: lang.pick(&veto.text_zh, &veto.text_en).to_string(),
            checked: mine.as_ref().is_some_and(|s| s.vetoes.contains(&veto.id)),
        })
        .collect();
    Ok(render(&ScorePage {
        ctx: Ctx::new(&caller),
        kind: kind_label(lang, d.review.kind).to_string(),
        opinion: mine.map(|s| s.opinion).unwrap_or_default(),
        items,
        vetoes,
        d,
    }))
}

// ---- the technical review opinion ---------------------------------------------------------------

/// The opinion's content, from the decided review; a review not yet decided has none.
pub(crate) async fn opinion_of(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> Result<ReviewOpinion, AppError> {
    let (review, round) = use_case::review_in_scope(state.app(), principal, id).await?;
    Ok(use_case::review_opinion(state.app(), &round, &review).await?)
}

#[derive(Template)]
#[template(path = "review_opinion.html")]
struct OpinionPage {
    ctx: Ctx,
    id: i64,
    o: ReviewOpinion,
    title: String,
    paragraphs: Vec<String>,
    table: cpaudit_office::DocumentTable,
    closing: Vec<String>,
    date: String,
}

/// The opinion as a printable page (after the decision).
pub async fn opinion_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let o = opinion_of(&state, principal, id).await?;
    Ok(render(&OpinionPage {
        ctx: Ctx::new(&caller),
        id,
        title: o.title(),
        paragraphs: o.paragraphs(),
        table: o.table(),
        closing: o.closing(),
        date: cpaudit_office::chinese_date(o.decided_on),
        o,
    }))
}

/// The opinion as a Word document (after the decision).
pub async fn opinion_docx(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let opinion = opinion_of(&state, principal, id).await?;
    let bytes = write_review_opinion(&opinion).map_err(|error| {
        tracing::error!(%error, "docx");
        AppError::Internal
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                cpaudit_office::DOCX_CONTENT_TYPE.to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"review-opinion-{id}.docx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---- public ---------------------------------------------------------------------------------------

/// A decided review as published: no expert, no score sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicReviewJson {
    pub review_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_name_zh: String,
    pub list_year: i64,
    /// assessment | acceptance | combined
    pub kind: String,
    pub kind_zh: String,
    /// pass | rectify | fail | qualified | not_qualified
    pub conclusion: String,
    pub conclusion_zh: String,
    pub decided_on: NaiveDate,
    pub opinion_number: Option<String>,
}

async fn public_reviews(state: &AppState) -> Result<Vec<PublicReviewJson>, AppError> {
    Ok(state
        .db()
        .published_reviews()
        .await?
        .into_iter()
        .map(|row| PublicReviewJson {
            review_id: row.review_id,
            kind_zh: row.kind.label_zh().into(),
            conclusion_zh: row.conclusion.label_zh().into(),
            enterprise_name: row.enterprise_name,
            credit_code: row.credit_code,
            jurisdiction_name_zh: row.jurisdiction_name_zh,
            list_year: row.list_year,
            kind: row.kind.as_str().into(),
            conclusion: row.conclusion.as_str().into(),
            decided_on: row.decided_on,
            opinion_number: row.opinion_number,
        })
        .collect())
}

/// Decided reviews, newest first (anyone).
#[utoipa::path(get, path = "/api/v1/public/reviews", tag = "public",
    responses((status = 200, body = [PublicReviewJson])))]
pub async fn api_public_reviews(
    State(state): State<AppState>,
) -> Result<Json<Vec<PublicReviewJson>>, ApiError> {
    Ok(Json(public_reviews(&state).await?))
}

struct PublicReviewView {
    row: PublicReviewJson,
    kind: String,
    conclusion: String,
}

#[derive(Template)]
#[template(path = "public_reviews.html")]
struct PublicReviewsPage {
    ctx: Ctx,
    reviews: Vec<PublicReviewView>,
}

/// Decided reviews as a page.
pub async fn public_reviews_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let lang = caller.lang;
    let reviews = public_reviews(&state)
        .await?
        .into_iter()
        .map(|row| PublicReviewView {
            kind: ReviewKind::parse(&row.kind)
                .map_or(String::new(), |k| kind_label(lang, k).to_string()),
            conclusion: conclusion_label(lang, ReviewConclusion::parse(&row.conclusion)),
            row,
        })
        .collect();
    Ok(render(&PublicReviewsPage {
        ctx: Ctx::new(&caller),
        reviews,
    }))
}
