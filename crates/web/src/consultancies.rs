//! Consultancies: the detail page with 办法 Art. 16 evidence and its gaps, the scorecard,
//! sanctions (province) and engagements; the refusal of new business while a blacklisting is in
//! force; the public blacklist.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use chrono::NaiveDate;
use cpaudit_app::consultancies::{self as use_case, core_sanction};
use cpaudit_core::consultancy::{
    art16_check, public_blacklist, scorecard, Art16Evidence, BlacklistRules, PublicSanction,
    RoundOutcome, Sanction, Scorecard,
};
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::consultancies::{ConsultancyDocumentRow, NewConsultancyDocument, SanctionRow};
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::action::{Done, FromForm, Input, Shaped};
use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::pages::{render, Ctx};
use crate::views;
use crate::AppState;

/// Why new business naming this consultancy is refused today, in the caller's language.
pub async fn refusal_of(
    state: &AppState,
    consultancy_id: i64,
    lang: crate::i18n::Lang,
) -> Result<Option<String>, AppError> {
    Ok(
        cpaudit_app::consultancies::refusal_of(state.app(), consultancy_id)
            .await?
            .map(|refusal| lang.pick(&refusal.zh, &refusal.en).to_string()),
    )
}

/// The outcomes of the rounds the consultancy was engaged for, as the scorecard reads them.
async fn round_outcomes(state: &AppState, id: i64) -> Result<Vec<RoundOutcome>, AppError> {
    Ok(state
        .db()
        .consultancy_rounds(id, state.today())
        .await?
        .into_iter()
        .map(|row| RoundOutcome {
            round_id: row.round_id.to_string(),
            enterprise_id: row.enterprise_id.to_string(),
            year: i32::try_from(row.list_year).unwrap_or_default(),
            assessment_score: row.first_score,
            first_assessment_passed: row
                .first_conclusion
                .as_deref()
                .map(|c| matches!(c, "pass" | "qualified")),
            overdue_milestones: u32::try_from(row.overdue).unwrap_or_default(),
        })
        .collect())
}

/// A consultancy with its evidence, gaps, sanctions, engagements and scorecard.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultancyJson {
    pub consultancy: views::registry::Consultancy,
    #[schema(value_type = Option<Object>)]
    pub art16: Option<Art16Evidence>,
    /// Unmet Art. 16 conditions (all four when nothing is on file).
    pub art16_gaps: Vec<String>,
    pub sanctions: Vec<views::consultancies::Sanction>,
    /// Why the authorities accept no new business from it today, if so.
    pub refusal: Option<String>,
    pub engagements: Vec<views::consultancies::Engagement>,
    #[schema(value_type = Object)]
    pub scorecard: Scorecard,
    /// The Art. 16 documents on file, newest first.
    pub documents: Vec<views::consultancies::ConsultancyDocument>,
}

/// The consultancy as the API shows it, and its sanctions as stored, which the page judges.
async fn detail(
    state: &AppState,
    principal: &Principal,
    lang: crate::i18n::Lang,
    id: i64,
) -> Result<(ConsultancyJson, Vec<SanctionRow>), AppError> {
    use_case::check_access(principal, id)?;
    let consultancy = use_case::consultancy(state.app(), id).await?;
    let art16: Option<Art16Evidence> = state.db().art16_filing(id).await?.map(|f| f.evidence.0);
    let gaps = match &art16 {
        Some(evidence) => art16_check(evidence),
        None => art16_check(&Art16Evidence::empty(state.today())),
    };
    let sanctions = state.db().sanctions(Some(id)).await?;
    let core: Vec<Sanction> = sanctions.iter().map(core_sanction).collect();
    let json = ConsultancyJson {
        art16_gaps: gaps
            .iter()
            .map(|gap| {
                let message = gap.message();
                lang.pick(&message.zh, &message.en).to_string()
            })
            .collect(),
        art16,
        refusal: refusal_of(state, id, lang).await?,
        engagements: crate::views::shown(
            state.db().engagements_of_consultancy(principal, id).await?,
        ),
        scorecard: scorecard(&round_outcomes(state, id).await?, &core, state.today()),
        documents: crate::views::shown(state.db().consultancy_documents(id).await?),
        sanctions: crate::views::shown(sanctions.clone()),
        consultancy: consultancy.into(),
    };
    Ok((json, sanctions))
}

/// One consultancy (officials; the consultancy itself).
#[utoipa::path(get, path = "/api/v1/consultancies/{id}", tag = "consultancies", params(("id" = i64, Path)),
    responses((status = 200, body = ConsultancyJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_consultancy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ConsultancyJson>, ApiError> {
    let principal = caller.principal()?;
    let (json, _) = detail(&state, principal, caller.lang, id).await?;
    Ok(Json(json))
}

#[derive(Template)]
#[template(path = "consultancy.html")]
struct ConsultancyPage {
    ctx: Ctx,
    d: ConsultancyJson,
    is_province: bool,
    may_file: bool,
    today: String,
    sanction_rows: Vec<SanctionView>,
    /// The filing on file, as the Art. 16 form shows it.
    art16_lines: Art16FormValues,
}

/// The Art. 16 form's fields: the filing on file written back as lines.
#[derive(Debug, Default)]
struct Art16FormValues {
    legal_person_credit_code: String,
    quality_system: String,
    instruments: String,
    industry_staff: String,
    audit_staff: String,
}

impl Art16FormValues {
    fn of(evidence: Option<&Art16Evidence>, credit_code: &str) -> Self {
        let Some(evidence) = evidence else {
            return Art16FormValues {
                legal_person_credit_code: credit_code.to_string(),
                ..Art16FormValues::default()
            };
        };
        let staff = |members: &[cpaudit_core::consultancy::Staff]| {
            members
                .iter()
                .map(|member| {
                    let document = member.evidence.as_ref().map_or("", |f| f.title.as_str());
                    format!("{}，{}，{}", member.name, document, member.audit_rounds)
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        Art16FormValues {
            legal_person_credit_code: evidence.legal_person_credit_code.clone(),
            quality_system: evidence
                .quality_system
                .as_ref()
                .map(|f| f.content_hash.clone())
                .unwrap_or_default(),
            instruments: evidence.instruments.join("\n"),
            industry_staff: staff(&evidence.industry_staff),
            audit_staff: staff(&evidence.audit_staff),
        }
    }
}

/// The Art. 16 form: the lists one item per line, staff as "name, document, rounds".
#[derive(Debug, Deserialize)]
pub struct Art16Form {
    #[serde(default)]
    legal_person_credit_code: String,
    #[serde(default)]
    quality_system: String,
    #[serde(default)]
    instruments: String,
    #[serde(default)]
    industry_staff: String,
    #[serde(default)]
    audit_staff: String,
}

/// The Art. 16 evidence as filed: the API's JSON, or the page's lines (whose documents are
/// chosen among the consultancy's uploads, so they are read when filed).
pub enum Art16Filing {
    Evidence(Box<Art16Evidence>),
    Lines(cpaudit_app::art16_form::Art16Lines),
}

impl<'de> Deserialize<'de> for Art16Filing {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Art16Evidence::deserialize(deserializer)
            .map(|evidence| Art16Filing::Evidence(Box::new(evidence)))
    }
}

impl FromForm for Art16Filing {
    type Form = Art16Form;

    fn from_form(form: Art16Form) -> Result<Self, AppError> {
        Ok(Art16Filing::Lines(cpaudit_app::art16_form::Art16Lines {
            legal_person_credit_code: form.legal_person_credit_code,
            quality_system: form.quality_system,
            instruments: form.instruments,
            industry_staff: form.industry_staff,
            audit_staff: form.audit_staff,
        }))
    }
}

struct SanctionView {
    id: i64,
    kind: String,
    reason: String,
    legal_basis: String,
    period: String,
    status: String,
    liftable: bool,
}

fn sanction_view(lang: crate::i18n::Lang, row: &SanctionRow, today: NaiveDate) -> SanctionView {
    let sanction = core_sanction(row);
    let in_force = cpaudit_core::consultancy::in_force(&sanction, today);
    SanctionView {
        id: row.id,
        kind: lang
            .pick(sanction.kind.label_zh(), sanction.kind.label_en())
            .to_string(),
        reason: row.reason.clone(),
        legal_basis: row.legal_basis.clone(),
        period: format!(
            "{} – {}",
            row.starts_on,
            row.ends_on
                .map(|last| last.to_string())
                .unwrap_or_else(|| lang.texts().until_corrected.to_string())
        ),
        status: match (&row.lifted_on, in_force) {
            (Some(on), _) => format!("{} {on}", lang.texts().lifted_2),
            (None, true) => lang.texts().in_force.to_string(),
            (None, false) => lang.texts().not_in_force.to_string(),
        },
        liftable: row.lifted_on.is_none() && in_force,
    }
}

pub async fn consultancy_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let (d, sanctions) = detail(&state, principal, caller.lang, id).await?;
    let today = state.today();
    Ok(render(&ConsultancyPage {
        ctx: Ctx::new(&caller),
        sanction_rows: sanctions
            .iter()
            .map(|row| sanction_view(caller.lang, row, today))
            .collect(),
        is_province: matches!(principal.scope().kind(), ScopeKind::Province),
        may_file: matches!(principal.scope().kind(), ScopeKind::Province)
            || matches!(principal.scope().kind(), ScopeKind::Consultancy(own) if *own == id),
        today: date_text(today),
        art16_lines: Art16FormValues::of(d.art16.as_ref(), &d.consultancy.credit_code),
        d,
    }))
}

/// A sanction decided by the province.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SanctionJson {
    /// correction_order | blacklist
    pub kind: String,
    pub reason: String,
    /// Default: the rule book's `sanctions.blacklist_basis`.
    #[serde(default)]
    pub legal_basis: String,
    /// Default today.
    #[serde(default)]
    pub starts_on: String,
    /// Last day; empty = until corrected.
    #[serde(default)]
    pub ends_on: String,
}

/// Imposes a sanction (province): the one path for the consultancy page and a round's page.
pub(crate) async fn impose(
    state: &AppState,
    principal: &Principal,
    id: i64,
    input: &SanctionJson,
) -> Result<i64, AppError> {
    let input = use_case::SanctionInput {
        kind: input.kind.clone(),
        reason: input.reason.clone(),
        legal_basis: input.legal_basis.clone(),
        starts_on: input.starts_on.clone(),
        ends_on: input.ends_on.clone(),
    };
    Ok(use_case::impose(state.app(), principal, id, &input).await?)
}

/// Records a sanction (province).
#[utoipa::path(post, path = "/api/v1/consultancies/{id}/sanctions", tag = "consultancies",
    params(("id" = i64, Path)), request_body = SanctionJson,
    responses((status = 201, body = views::consultancies::Sanction), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn sanction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<SanctionJson>,
) -> Result<Done<views::consultancies::Sanction>, AppError> {
    let principal = caller.principal()?;
    let sanction_id = impose(&state, principal, id, &input).await?;
    let row = state
        .db()
        .sanction(sanction_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Done::with(
        views::consultancies::Sanction::from(row),
        format!("/consultancies/{id}"),
    )
    .created())
}

/// Lifting a sanction: the province's reason; fresh Art. 16 evidence must be on file.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LiftJson {
    pub reason: String,
}

/// Lifts a sanction (province), on fresh and complete Art. 16 evidence: the consultancy
/// page's form and the API alike.
#[utoipa::path(post, path = "/api/v1/sanctions/{id}/lift", tag = "consultancies",
    params(("id" = i64, Path)), request_body = LiftJson,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn lift(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<LiftJson>,
) -> Result<Done<()>, AppError> {
    let principal = caller.principal()?;
    let consultancy_id = use_case::lift(state.app(), principal, id, &input.reason).await?;
    Ok(Done::then(format!("/consultancies/{consultancy_id}")))
}

/// Files the consultancy's Art. 16 evidence (the consultancy itself or the province).
#[utoipa::path(put, path = "/api/v1/consultancies/{id}/art16", tag = "consultancies",
    params(("id" = i64, Path)), request_body(content = Object, description = "core consultancy::Art16Evidence"),
    responses((status = 200, body = ConsultancyJson), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn file_art16(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Shaped(filing): Shaped<Art16Filing>,
) -> Result<Done<ConsultancyJson>, AppError> {
    let principal = caller.principal()?;
    match filing {
        Art16Filing::Evidence(evidence) => {
            use_case::file_art16(state.app(), principal, id, &evidence).await?
        }
        Art16Filing::Lines(lines) => {
            cpaudit_app::art16_form::file_lines(state.app(), principal, id, &lines).await?
        }
    }
    let (json, _) = detail(&state, principal, caller.lang, id).await?;
    Ok(Done::with(json, format!("/consultancies/{id}#art16")))
}

/// An enterprise engages a consultancy.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EngageJson {
    pub consultancy_id: i64,
    /// Default today.
    #[serde(default)]
    pub since: String,
}

async fn engage(
    state: &AppState,
    caller: &Caller,
    enterprise_id: i64,
    input: &EngageJson,
) -> Result<(), AppError> {
    let principal = caller.principal()?;
    Ok(use_case::engage(
        state.app(),
        principal,
        enterprise_id,
        input.consultancy_id,
        &input.since,
    )
    .await?)
}

/// Records that an enterprise engages a consultancy; refused while the consultancy is
/// blacklisted (seed §四(四)), with the reason.
#[utoipa::path(post, path = "/api/v1/enterprises/{id}/engagements", tag = "consultancies",
    params(("id" = i64, Path)), request_body = EngageJson,
    responses((status = 201), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn engagement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<EngageJson>,
) -> Result<Done<()>, AppError> {
    engage(&state, &caller, id, &input).await?;
    Ok(Done::then(format!("/enterprises/{id}")).created())
}

async fn blacklist(state: &AppState) -> Result<Vec<PublicSanction>, AppError> {
    let today = state.today();
    let rules =
        BlacklistRules::from_book(state.rules(), today).map_err(crate::cycle::rule_error)?;
    let named: Vec<(String, Sanction)> = state
        .db()
        .sanctions(None)
        .await?
        .iter()
        .map(|row| (row.consultancy_name.clone(), core_sanction(row)))
        .collect();
    Ok(public_blacklist(&named, today, &rules))
}

/// The public blacklist: blacklistings in force, and ended ones for a while, marked.
#[utoipa::path(get, path = "/api/v1/public/blacklist", tag = "public",
    responses((status = 200, body = [Object])))]
pub async fn api_blacklist(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(blacklist(&state).await?).into_response())
}

#[derive(Template)]
#[template(path = "blacklist.html")]
struct BlacklistPage {
    ctx: Ctx,
    rows: Vec<(String, String, String, String, String)>,
}

pub async fn blacklist_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let lang = caller.lang;
    let rows = blacklist(&state)
        .await?
        .into_iter()
        .map(|s| {
            (
                s.name,
                s.reason,
                s.legal_basis,
                date_text(s.starts_on),
                match lang {
                    crate::i18n::Lang::Zh => s.status.label_zh(),
                    crate::i18n::Lang::En => s.status.label_en(),
                },
            )
        })
        .collect();
    Ok(render(&BlacklistPage {
        ctx: Ctx::new(&caller),
        rows,
    }))
}

// ---- Art. 16 documents ----------------------------------------------------------------------

/// Stores one Art. 16 document from a multipart upload (fields `file`, `note`), its type
/// checked by content.
async fn upload_document(
    state: &AppState,
    principal: &Principal,
    id: i64,
    multipart: &mut axum::extract::Multipart,
) -> Result<ConsultancyDocumentRow, AppError> {
    use_case::check_access(principal, id)?;
    use_case::consultancy(state.app(), id).await?;
    let limit = state.settings().max_document_bytes;
    let (file_name, bytes, fields) = crate::pages::read_upload_within(multipart, limit).await?;
    let format = cpaudit_office::identify_document(&file_name, &bytes)
        .map_err(crate::documents::refusal_error)?;
    let name = cpaudit_office::clean_file_name(&file_name, format);
    let note = fields.get("note").map(String::as_str).unwrap_or_default();
    let document = NewConsultancyDocument {
        file_name: &name,
        content_type: format.content_type(),
        content: &bytes,
        note,
    };
    Ok(use_case::upload_document(state.app(), principal, id, &document).await?)
}

/// Files one of the consultancy's Art. 16 documents (the consultancy itself or the province);
/// the Art. 16 filing then names it by its SHA-256.
#[utoipa::path(post, path = "/api/v1/consultancies/{id}/documents", tag = "consultancies",
    params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "fields: file (PDF, OFD, Word or Excel), note"),
    responses((status = 201, body = views::consultancies::ConsultancyDocument), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn api_upload_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let principal = caller.principal()?;
    let row = upload_document(&state, principal, id, &mut multipart).await?;
    let document = views::consultancies::ConsultancyDocument::from(row);
    Ok((StatusCode::CREATED, Json(document)).into_response())
}

pub async fn upload_document_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    upload_document(&state, principal, id, &mut multipart).await?;
    Ok(Redirect::to(&format!("/consultancies/{id}")).into_response())
}

/// Downloads an Art. 16 document (officials; the consultancy its own).
pub async fn download_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let (row, content) = state
        .db()
        .consultancy_document_content(id)
        .await?
        .ok_or(AppError::NotFound)?;
    use_case::check_access(principal, row.consultancy_id)?;
    crate::documents::file_response(&row.file_name, &row.content_type, &row.sha256, content)
}
