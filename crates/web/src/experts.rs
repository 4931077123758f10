//! The expert pool (专家库): the province's pool pages (applications checked against the entry
//! conditions of the rule book, the life cycle, employment history, the yearly evaluation) and
//! the expert's own page with its conflict declarations. Decisions come from core
//! (`check_entry`, `expert_transition`, `evaluate`); storage applies them with the audit trail.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use chrono::{Datelike, NaiveDate};
use cpaudit_core::experts::{
    evaluate, Evaluation, EvaluationRules, ExpertAction, ExpertStatus, Proposal, Rating,
    ReviewRecord, TitleLevel,
};
use cpaudit_core::registry::{FieldError, JurisdictionLevel, Message};
use cpaudit_storage::experts::ExpertRecord;
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use cpaudit_app::experts as use_case;

use crate::action::{Done, FromForm, Input, Shaped};
use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::i18n::Lang;
use crate::pages::{city_name, render, Ctx};
use crate::views::experts::{Declaration, Employment, Expert, ExpertEvent};
use crate::AppState;

// ---- reading ----------------------------------------------------------------------------------

/// A filter of the pool by status.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PoolQuery {
    /// applied | admitted | suspended | removed; empty: all.
    #[serde(default)]
    pub status: String,
}

fn status_filter(text: &str) -> Result<Option<ExpertStatus>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    ExpertStatus::parse(text).map(Some).ok_or_else(|| {
        AppError::bad_field(
            "status",
            "invalid_status",
            "状态应为 applied、admitted、suspended 或 removed",
            "status must be applied, admitted, suspended or removed",
        )
    })
}

fn industry_name(state: &AppState, lang: Lang, id: &str) -> String {
    state
        .reference()
        .key_industries
        .iter()
        .find(|k| k.id == id)
        .map(|k| lang.pick(&k.name_zh, &k.name_en).to_string())
        .unwrap_or_else(|| id.to_string())
}

fn status_label(lang: Lang, status: ExpertStatus) -> String {
    lang.pick(status.label_zh(), status.label_en()).to_string()
}

/// One pool member with its status in words.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpertJson {
    #[serde(flatten)]
    pub record: Expert,
    pub status_label: String,
}

/// The yearly evaluation of one member.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationJson {
    pub expert_id: i64,
    pub name: String,
    pub pool_number: Option<i64>,
    pub year: i32,
    /// Reviews drawn for in the year, declined ones included.
    pub count: u32,
    pub rated_count: u32,
    pub average_rating: Option<f64>,
    pub late_count: u32,
    /// Declined without a declared conflict with the reviewed enterprise.
    pub declined_count: u32,
    /// keep | warn | remove
    pub proposal: String,
    pub proposal_label: String,
    /// Each reason with the rule it applies.
    pub reasons: Vec<String>,
}

/// A member with its life cycle, employment, declarations and this year's evaluation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpertDetailJson {
    pub expert: ExpertJson,
    pub events: Vec<ExpertEvent>,
    pub employment: Vec<Employment>,
    pub declarations: Vec<Declaration>,
    pub evaluation: EvaluationJson,
}

fn expert_json(lang: Lang, record: ExpertRecord) -> ExpertJson {
    ExpertJson {
        status_label: status_label(lang, record.status),
        record: record.into(),
    }
}

/// The year's review records of every member, as core's evaluation reads them.
async fn review_records(
    state: &AppState,
    principal: &Principal,
    year: i32,
) -> Result<Vec<ReviewRecord>, AppError> {
    Ok(state
        .db()
        .review_figures(principal, year)
        .await?
        .into_iter()
        .map(|row| ReviewRecord {
            expert_id: row.expert_id.to_string(),
            year,
            rating: row
                .rating
                .and_then(|points| u8::try_from(points).ok())
                .and_then(Rating::new),
            late: row.late,
            declined: row.response == "declined" && !row.conflict_declared,
            // Undeclared conflicts found after a review are not recorded yet.
            conflict_found_later: false,
        })
        .collect())
}

/// The thresholds in force at the end of the evaluated year (or today, for the current year).
fn evaluation_rules(state: &AppState, year: i32) -> Result<EvaluationRules, AppError> {
    let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
    EvaluationRules::from_book(state.rules(), year_end.min(state.today()))
        .map_err(crate::cycle::rule_error)
}

fn evaluation_json(lang: Lang, record: &ExpertRecord, evaluation: Evaluation) -> EvaluationJson {
    let proposal = match evaluation.proposal {
        Proposal::Keep => "keep",
        Proposal::Warn => "warn",
        Proposal::Remove => "remove",
    };
    EvaluationJson {
        expert_id: record.id,
        name: record.name.clone(),
        pool_number: record.pool_number,
        year: evaluation.year,
        count: evaluation.count,
        rated_count: evaluation.rated_count,
        average_rating: evaluation.average_rating,
        late_count: evaluation.late_count,
        declined_count: evaluation.declined_count,
        proposal: proposal.to_string(),
        proposal_label: lang
            .pick(
                evaluation.proposal.label_zh(),
                evaluation.proposal.label_en(),
            )
            .to_string(),
        reasons: evaluation
            .reasons
            .iter()
            .map(|reason| match lang {
                Lang::Zh => format!("{}（规则 {}）", reason.message.zh, reason.rule.id),
                Lang::En => format!("{} (rule {})", reason.message.en, reason.rule.id),
            })
            .collect(),
    }
}

fn year_of(state: &AppState, text: Option<&str>) -> Result<i32, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(state.today().year()),
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|year| (2000..=2100).contains(year))
            .ok_or_else(|| {
                AppError::bad_field(
                    "year",
                    "invalid_year",
                    "年度应为 2000 至 2100 之间的四位数字",
                    "year must be a four-digit year between 2000 and 2100",
                )
            }),
    }
}

/// Every admitted member's evaluation of `year`.
async fn evaluations(
    state: &AppState,
    principal: &Principal,
    lang: Lang,
    year: i32,
) -> Result<Vec<EvaluationJson>, AppError> {
    let rules = evaluation_rules(state, year)?;
    let records = review_records(state, principal, year).await?;
    Ok(state
        .db()
        .expert_pool(principal, Some(ExpertStatus::Admitted))
        .await?
        .iter()
        .map(|expert| {
            let evaluation = evaluate(&expert.id.to_string(), year, &records, &rules);
            evaluation_json(lang, expert, evaluation)
        })
        .collect())
}

async fn detail(
    state: &AppState,
    principal: &Principal,
    lang: Lang,
    id: i64,
) -> Result<ExpertDetailJson, AppError> {
    let record = state
        .db()
        .expert(principal, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let year = state.today().year();
    let rules = evaluation_rules(state, year)?;
    let records = review_records(state, principal, year).await?;
    let evaluation = evaluation_json(
        lang,
        &record,
        evaluate(&id.to_string(), year, &records, &rules),
    );
    Ok(ExpertDetailJson {
        events: crate::views::shown(state.db().expert_events(principal, id).await?),
        employment: crate::views::shown(state.db().expert_employment(principal, id).await?),
        declarations: crate::views::shown(state.db().expert_declarations(principal, id).await?),
        evaluation,
        expert: expert_json(lang, record),
    })
}

/// The pool (province), optionally of one status.
#[utoipa::path(get, path = "/api/v1/experts", tag = "experts", params(PoolQuery),
    responses((status = 200, body = [ExpertJson]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_pool(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PoolQuery>,
) -> Result<Json<Vec<ExpertJson>>, ApiError> {
    let principal = caller.principal()?;
    let status = status_filter(&query.status)?;
    let pool = state.db().expert_pool(principal, status).await?;
    Ok(Json(
        pool.into_iter()
            .map(|record| expert_json(caller.lang, record))
            .collect(),
    ))
}

/// One member with its life cycle, employment, declarations and this year's evaluation
/// (province).
#[utoipa::path(get, path = "/api/v1/experts/{id}", tag = "experts", params(("id" = i64, Path)),
    responses((status = 200, body = ExpertDetailJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_expert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ExpertDetailJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(detail(&state, principal, caller.lang, id).await?))
}

/// The year of the evaluation.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct EvaluationQuery {
    /// Default: this year.
    pub year: Option<String>,
}

/// The yearly evaluation of every admitted member: figures and a proposal with reasons
/// (province). The province decides and acts through `/experts/{id}/actions`.
#[utoipa::path(get, path = "/api/v1/experts/evaluation", tag = "experts", params(EvaluationQuery),
    responses((status = 200, body = [EvaluationJson]), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_evaluation(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EvaluationQuery>,
) -> Result<Json<Vec<EvaluationJson>>, ApiError> {
    let principal = caller.principal()?;
    let year = year_of(&state, query.year.as_deref())?;
    Ok(Json(
        evaluations(&state, principal, caller.lang, year).await?,
    ))
}

/// The expert's own record and declarations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnRecordJson {
    pub expert: ExpertJson,
    pub declarations: Vec<Declaration>,
}

fn own_id(principal: &Principal) -> Result<i64, AppError> {
    match principal.scope().kind() {
        cpaudit_storage::auth::ScopeKind::Expert(id) => Ok(*id),
        _ => Err(AppError::forbidden()),
    }
}

async fn own_record(
    state: &AppState,
    principal: &Principal,
    lang: Lang,
) -> Result<OwnRecordJson, AppError> {
    let id = own_id(principal)?;
    let record = state
        .db()
        .expert(principal, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(OwnRecordJson {
        declarations: crate::views::shown(state.db().expert_declarations(principal, id).await?),
        expert: expert_json(lang, record),
    })
}

/// The calling expert's own record and declarations.
#[utoipa::path(get, path = "/api/v1/experts/me", tag = "experts",
    responses((status = 200, body = OwnRecordJson), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<OwnRecordJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(own_record(&state, principal, caller.lang).await?))
}

// ---- applications -----------------------------------------------------------------------------

/// An application to the pool.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApplicationJson {
    pub name: String,
    /// 居民身份证号码 with the birth date masked, e.g. 620102********1234.
    pub id_number_masked: String,
    pub employer: String,
    pub title: String,
    /// junior | intermediate | senior | full_senior; empty: no professional title.
    pub title_level: String,
    pub years_experience: u32,
    /// Key industry ids.
    pub specialties: Vec<String>,
    /// The city-level jurisdiction the expert lives or works in.
    pub jurisdiction_code: String,
    pub contact: String,
    /// Whether the expert can be drawn now (default true).
    pub available: Option<bool>,
}

/// The application as the form sent it: years as text, so that a wrong number is a field
/// error, and specialties as repeated checkboxes.
#[derive(Debug, Default)]
pub struct ApplicationInput {
    json: ApplicationJson,
    years_text: String,
}

impl ApplicationInput {
    /// The application with the years read, and the problem of years that do not read.
    fn checked(mut self) -> (ApplicationJson, Vec<FieldError>) {
        let years_error = match self.years_text.trim().parse::<u32>() {
            Ok(years) => {
                self.json.years_experience = years;
                None
            }
            Err(_) => Some(FieldError::new(
                "years_experience",
                "invalid_number",
                Message::new(
                    "从业年限应为不小于 0 的整数",
                    "years of experience must be a whole number, 0 or more",
                ),
            )),
        };
        (self.json, years_error.into_iter().collect())
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut input = ApplicationInput::default();
        let mut available = false;
        for (key, value) in pairs {
            let json = &mut input.json;
            match key.as_str() {
                "name" => json.name = value,
                "id_number_masked" => json.id_number_masked = value,
                "employer" => json.employer = value,
                "title" => json.title = value,
                "title_level" => json.title_level = value,
                "years_experience" => input.years_text = value,
                "specialties" => json.specialties.push(value),
                "jurisdiction_code" => json.jurisdiction_code = value,
                "contact" => json.contact = value,
                // An unchecked checkbox sends nothing.
                "available" => available = value == "true",
                _ => {}
            }
        }
        input.json.available = Some(available);
        input
    }
}

impl From<&ApplicationJson> for use_case::Application {
    fn from(input: &ApplicationJson) -> Self {
        use_case::Application {
            name: input.name.clone(),
            id_number_masked: input.id_number_masked.clone(),
            employer: input.employer.clone(),
            title: input.title.clone(),
            title_level: input.title_level.clone(),
            years_experience: input.years_experience,
            specialties: input.specialties.clone(),
            jurisdiction_code: input.jurisdiction_code.clone(),
            contact: input.contact.clone(),
            available: input.available,
        }
    }
}

/// Records an application (province): checked against the entry conditions in force; the
/// applicant gets a pool number when admitted.
#[utoipa::path(post, path = "/api/v1/experts", tag = "experts", request_body = ApplicationJson,
    responses((status = 201, body = ExpertJson), (status = 422, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Shaped(application): Shaped<Application>,
) -> Result<Done<ExpertJson>, AppError> {
    let principal = caller.principal()?;
    let (json, earlier) = match application {
        Application::Json(json) => (json, Vec::new()),
        Application::Form(input) => input.checked(),
    };
    let id = use_case::apply(state.app(), principal, &(&json).into(), earlier).await?;
    let record = state
        .db()
        .expert(principal, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Done::with(expert_json(caller.lang, record), format!("/experts/{id}")).created())
}

/// An application as sent: the API's JSON, or the page's form (years as typed, so that a
/// wrong number is reported with the other fields' problems).
pub enum Application {
    Json(ApplicationJson),
    Form(ApplicationInput),
}

impl<'de> Deserialize<'de> for Application {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ApplicationJson::deserialize(deserializer).map(Application::Json)
    }
}

impl FromForm for Application {
    type Form = Vec<(String, String)>;

    fn from_form(pairs: Vec<(String, String)>) -> Result<Self, AppError> {
        Ok(Application::Form(ApplicationInput::from_pairs(pairs)))
    }
}

// ---- life cycle and employment ------------------------------------------------------------------

/// A province decision on a member.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ExpertActionJson {
    /// admit | reject | suspend | reinstate | remove
    pub action: String,
    pub reason: String,
}

async fn act(
    state: &AppState,
    principal: &Principal,
    id: i64,
    input: &ExpertActionJson,
) -> Result<ExpertStatus, AppError> {
    Ok(use_case::act(state.app(), principal, id, &input.action, &input.reason).await?)
}

/// Admits, rejects, suspends, reinstates or removes a member (province), with the reason;
/// refused with the life cycle's message when the step is not allowed.
#[utoipa::path(post, path = "/api/v1/experts/{id}/actions", tag = "experts",
    params(("id" = i64, Path)), request_body = ExpertActionJson,
    responses((status = 200, body = ExpertJson), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn expert_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<ExpertActionJson>,
) -> Result<Done<ExpertJson>, AppError> {
    let principal = caller.principal()?;
    act(&state, principal, id, &input).await?;
    let record = state
        .db()
        .expert(principal, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Done::with(
        expert_json(caller.lang, record),
        format!("/experts/{id}"),
    ))
}

/// An organisation named by kind and id: an employment or a declared conflict.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EmploymentJson {
    /// enterprise | consultancy
    pub kind: String,
    pub organisation_id: i64,
    pub starts_on: String,
    /// Empty: still employed there.
    pub ends_on: String,
}

async fn add_employment(
    state: &AppState,
    principal: &Principal,
    id: i64,
    input: &EmploymentJson,
) -> Result<(), AppError> {
    let input = use_case::EmploymentInput {
        kind: input.kind.clone(),
        organisation_id: input.organisation_id,
        starts_on: input.starts_on.clone(),
        ends_on: input.ends_on.clone(),
    };
    Ok(use_case::add_employment(state.app(), principal, id, &input).await?)
}

/// Records a past or current employment of a member at an enterprise or consultancy
/// (province); panel draws read it for conflicts of interest.
#[utoipa::path(post, path = "/api/v1/experts/{id}/employment", tag = "experts",
    params(("id" = i64, Path)), request_body = EmploymentJson,
    responses((status = 201), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn employment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<EmploymentJson>,
) -> Result<Done<()>, AppError> {
    let principal = caller.principal()?;
    add_employment(&state, principal, id, &input).await?;
    Ok(Done::then(format!("/experts/{id}")).created())
}

// ---- declarations -----------------------------------------------------------------------------

/// A conflict of interest the expert declares with an enterprise or consultancy.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeclarationJson {
    /// enterprise | consultancy
    pub kind: String,
    pub organisation_id: i64,
    pub reason: String,
}

async fn declare(
    state: &AppState,
    principal: &Principal,
    input: &DeclarationJson,
) -> Result<(), AppError> {
    Ok(use_case::declare(
        state.app(),
        principal,
        &input.kind,
        input.organisation_id,
        &input.reason,
    )
    .await?)
}

/// The calling expert declares a conflict of interest; draws exclude it from reviews of that
/// enterprise or of that consultancy's clients.
#[utoipa::path(post, path = "/api/v1/experts/me/declarations", tag = "experts",
    request_body = DeclarationJson,
    responses((status = 201), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn declaration(
    State(state): State<AppState>,
    caller: Caller,
    Input(input): Input<DeclarationJson>,
) -> Result<Done<()>, AppError> {
    let principal = caller.principal()?;
    declare(&state, principal, &input).await?;
    Ok(Done::then("/experts/me").created())
}

// ---- pages ------------------------------------------------------------------------------------

/// A pool row as the page shows it.
struct PoolRow {
    id: i64,
    pool_number: String,
    name: String,
    title: String,
    employer: String,
    specialties: String,
    city: String,
    status: String,
    available: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The application form with what was sent and the error of each field.
struct ApplicationForm {
    values: Vec<(String, String)>,
    /// (field, message in the caller's language).
    errors: Vec<(String, String)>,
}

impl ApplicationForm {
    fn value(&self, field: &str) -> &str {
        self.values
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, value)| value.as_str())
            .unwrap_or("")
    }

    /// Every message of a field, joined.
    fn error(&self, field: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .errors
            .iter()
            .filter(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join("；"))
    }

    /// The form as a refused application left it (see `crate::form`), or a new one.
    fn of(caller: &Caller) -> ApplicationForm {
        match caller
            .redisplay
            .as_deref()
            .filter(|refused| refused.action == "/experts")
        {
            Some(refused) => ApplicationForm {
                values: refused.values.clone(),
                errors: refused.field_errors.clone(),
            },
            None => ApplicationForm {
                values: vec![("available".into(), "true".into())],
                errors: Vec::new(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "experts.html")]
struct PoolPage {
    ctx: Ctx,
    rows: Vec<PoolRow>,
    statuses: Vec<Choice>,
    invalid: bool,
    text_fields: Vec<TextField>,
    level_error: Option<String>,
    specialties_error: Option<String>,
    city_error: Option<String>,
    available: bool,
    title_levels: Vec<Choice>,
    industries: Vec<Choice>,
    cities: Vec<Choice>,
}

/// A text input of the application form with its value and error.
struct TextField {
    name: &'static str,
    label: &'static str,
    value: String,
    error: Option<String>,
}

async fn pool_page_of(
    state: &AppState,
    caller: &Caller,
    status_text: &str,
    form: ApplicationForm,
) -> Result<PoolPage, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let status = status_filter(status_text)?;
    let rows = state
        .db()
        .expert_pool(principal, status)
        .await?
        .into_iter()
        .map(|e| PoolRow {
            id: e.id,
            pool_number: e.pool_number.map(|n| n.to_string()).unwrap_or_default(),
            specialties: e
                .specialties
                .0
                .clone()
                .iter()
                .map(|s| industry_name(state, lang, s))
                .collect::<Vec<_>>()
                .join("、"),
            city: city_name(state, lang, &e.jurisdiction_code),
            status: status_label(lang, e.status),
            available: lang
                .pick(
                    if e.available {
                        "可抽取"
                    } else {
                        "暂不可抽取"
                    },
                    if e.available {
                        "available"
                    } else {
                        "unavailable"
                    },
                )
                .to_string(),
            name: e.name,
            title: e.title,
            employer: e.employer,
        })
        .collect();
    let chosen_specialties: Vec<&str> = form
        .values
        .iter()
        .filter(|(name, _)| *name == "specialties")
        .map(|(_, value)| value.as_str())
        .collect();
    let text_fields = [
        ("name", "姓名", "Name"),
        (
            "id_number_masked",
            "身份证号（出生日期以*遮盖）",
            "ID number (birth date masked with *)",
        ),
        ("employer", "工作单位", "Employer"),
        ("title", "职称名称", "Title"),
        ("years_experience", "相关专业从业年限", "Years in the field"),
        ("contact", "联系方式", "Contact"),
    ]
    .into_iter()
    .map(|(name, zh, en)| TextField {
        name,
        label: lang.pick(zh, en),
        value: form.value(name).to_string(),
        error: form.error(name),
    })
    .collect();
    Ok(PoolPage {
        ctx: Ctx::new(caller),
        rows,
        invalid: !form.errors.is_empty(),
        text_fields,
        level_error: form.error("title_level"),
        specialties_error: form.error("specialties"),
        city_error: form.error("jurisdiction_code"),
        available: form.value("available") == "true",
        statuses: ExpertStatus::ALL
            .into_iter()
            .map(|s| Choice {
                value: s.as_str().to_string(),
                label: lang.pick(s.label_zh(), s.label_en()).to_string(),
                selected: status == Some(s),
            })
            .collect(),
        title_levels: TitleLevel::ALL
            .into_iter()
            .map(|l| Choice {
                value: l.as_str().to_string(),
                label: lang.pick(l.label_zh(), l.label_en()).to_string(),
                selected: form.value("title_level") == l.as_str(),
            })
            .collect(),
        industries: state
            .reference()
            .key_industries
            .iter()
            .map(|k| Choice {
                selected: chosen_specialties.contains(&k.id.as_str()),
                value: k.id.clone(),
                label: lang.pick(&k.name_zh, &k.name_en).to_string(),
            })
            .collect(),
        cities: state
            .reference()
            .jurisdictions
            .iter()
            .filter(|j| j.level == JurisdictionLevel::City)
            .map(|j| Choice {
                selected: form.value("jurisdiction_code") == j.code,
                value: j.code.clone(),
                label: lang.pick(&j.name_zh, &j.name_en).to_string(),
            })
            .collect(),
    })
}

pub async fn pool_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PoolQuery>,
) -> Result<Response, AppError> {
    let form = ApplicationForm::of(&caller);
    Ok(render(
        &pool_page_of(&state, &caller, &query.status, form).await?,
    ))
}

#[derive(Template)]
#[template(path = "expert.html")]
struct ExpertPage {
    ctx: Ctx,
    d: ExpertDetailJson,
    specialties: String,
    city: String,
    title_level: String,
    events: Vec<EventView>,
    actions: Vec<Choice>,
    today: String,
}

struct EventView {
    action: String,
    change: String,
    reason: String,
    actor: String,
    at: String,
}

fn title_level_label(lang: Lang, text: &str) -> String {
    TitleLevel::parse(text)
        .map(|l| lang.pick(l.label_zh(), l.label_en()).to_string())
        .unwrap_or_else(|| lang.texts().no_title.to_string())
}

pub async fn expert_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let d = detail(&state, principal, lang, id).await?;
    let events = d
        .events
        .iter()
        .map(|e| EventView {
            action: ExpertAction::parse(&e.action)
                .map(|a| lang.pick(a.label_zh(), a.label_en()).to_string())
                .unwrap_or_else(|| lang.texts().application.to_string()),
            change: format!(
                "{} → {}",
                e.from_status
                    .map(|s| status_label(lang, s))
                    .unwrap_or_else(|| "—".to_string()),
                status_label(lang, e.to_status)
            ),
            reason: e.reason.clone(),
            actor: e.actor.clone(),
            at: e.at.clone(),
        })
        .collect();
    let current = d.expert.record.status;
    // Only the steps the life cycle allows from here are offered.
    let actions = cpaudit_core::experts::transition_table()
        .into_iter()
        .filter(|(from, _, _)| *from == current)
        .map(|(_, action, _)| Choice {
            value: action.as_str().to_string(),
            label: lang.pick(action.label_zh(), action.label_en()).to_string(),
            selected: false,
        })
        .collect();
    Ok(render(&ExpertPage {
        ctx: Ctx::new(&caller),
        specialties: d
            .expert
            .record
            .specialties
            .clone()
            .iter()
            .map(|s| industry_name(&state, lang, s))
            .collect::<Vec<_>>()
            .join("、"),
        city: city_name(&state, lang, &d.expert.record.jurisdiction_code),
        title_level: title_level_label(lang, &d.expert.record.title_level),
        events,
        actions,
        today: state.today().format("%Y-%m-%d").to_string(),
        d,
    }))
}

#[derive(Template)]
#[template(path = "expert_evaluation.html")]
struct EvaluationPage {
    ctx: Ctx,
    year: i32,
    rows: Vec<EvaluationJson>,
}

pub async fn evaluation_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EvaluationQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let year = year_of(&state, query.year.as_deref())?;
    let rows = evaluations(&state, principal, caller.lang, year).await?;
    Ok(render(&EvaluationPage {
        ctx: Ctx::new(&caller),
        year,
        rows,
    }))
}

#[derive(Template)]
#[template(path = "expert_me.html")]
struct OwnPage {
    ctx: Ctx,
    d: OwnRecordJson,
    specialties: String,
    title_level: String,
    /// The seats the expert was drawn for, newest first.
    seats: Vec<OwnSeat>,
}

/// A seat the expert was drawn for, and whether it waits for the expert's answer.
struct OwnSeat {
    draw_id: i64,
    role: &'static str,
    answer: String,
    pending: bool,
}

fn own_seat(row: &cpaudit_storage::draws::AssignmentRow, lang: Lang) -> OwnSeat {
    use cpaudit_storage::draws::{SeatResponse, SeatRole};
    OwnSeat {
        draw_id: row.draw_id,
        role: match row.role {
            SeatRole::Panel => lang.texts().panel_2,
            SeatRole::Alternate => lang.texts().alternate,
        },
        answer: match row.response {
            SeatResponse::Pending => lang.texts().awaiting_your_answer.to_string(),
            SeatResponse::Accepted => lang.texts().accepted.to_string(),
            SeatResponse::Declined => format!(
                "{}{}",
                lang.texts().declined_3,
                row.decline_reason.clone().unwrap_or_default()
            ),
        },
        pending: row.response == SeatResponse::Pending,
    }
}

pub async fn me_page(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let d = own_record(&state, principal, lang).await?;
    Ok(render(&OwnPage {
        ctx: Ctx::new(&caller),
        specialties: d
            .expert
            .record
            .specialties
            .clone()
            .iter()
            .map(|s| industry_name(&state, lang, s))
            .collect::<Vec<_>>()
            .join("、"),
        title_level: title_level_label(lang, &d.expert.record.title_level),
        seats: state
            .db()
            .my_assignments(principal)
            .await?
            .iter()
            .map(|row| own_seat(row, lang))
            .collect(),
        d,
    }))
}
