//! Whole-park audit pilots (工业园区整体清洁生产审核试点): the park's page with its pilot —
//! targets and indicators, measures, the centralized wastewater treatment — and the
//! province's assessment, whose pass makes every member count as audited for the cycle.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use cpaudit_storage::park_audits::ParkAuditRow;
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use cpaudit_app::parks as use_case;

use crate::action::{Done, Input};
use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::pages::{render, Ctx};
use crate::views::park_audits::ParkAudit;
use crate::AppState;

/// One target of a park pilot.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParkTarget {
    /// e.g. 单位工业增加值用水量, COD 排放量.
    pub indicator: String,
    pub baseline: f64,
    pub target: f64,
    pub unit: String,
}

/// A park pilot as entered.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ParkAuditJson {
    pub title: String,
    pub started_on: String,
    /// A list of targets, or (as the page's form sends them) one per line, "指标，基准值，目标值，单位".
    #[schema(value_type = Vec<ParkTarget>)]
    pub targets: Targets,
    #[serde(default)]
    pub measures: String,
    /// 集中式污水处理设施建设与运行情况.
    #[serde(default)]
    pub wastewater_status: String,
    /// Whether the centralized treatment discharges stably within its standard.
    #[serde(default)]
    pub wastewater_compliant: bool,
}

/// Targets as a list or as lines of text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Targets {
    List(Vec<ParkTarget>),
    Lines(String),
}

impl ParkAuditJson {
    /// The pilot as the use case takes it; targets typed as lines are read here.
    fn input(&self) -> Result<use_case::PilotInput, AppError> {
        let targets = match &self.targets {
            Targets::List(targets) => targets.clone(),
            Targets::Lines(text) => parse_targets(text)?,
        };
        Ok(use_case::PilotInput {
            title: self.title.clone(),
            started_on: self.started_on.clone(),
            targets: targets
                .iter()
                .map(|t| use_case::ParkTarget {
                    indicator: t.indicator.clone(),
                    baseline: t.baseline,
                    target: t.target,
                    unit: t.unit.clone(),
                })
                .collect(),
            measures: self.measures.clone(),
            wastewater_status: self.wastewater_status.clone(),
            wastewater_compliant: self.wastewater_compliant,
        })
    }
}

async fn save(
    state: &AppState,
    principal: &Principal,
    park_id: i64,
    input: &ParkAuditJson,
) -> Result<(), AppError> {
    Ok(use_case::save(state.app(), principal, park_id, &input.input()?).await?)
}

/// Starts or updates the park's pilot (the park's city or the province).
#[utoipa::path(put, path = "/api/v1/parks/{id}/audit", tag = "parks", params(("id" = i64, Path)),
    request_body = ParkAuditJson,
    responses((status = 200, body = [ParkAudit]), (status = 400, body = crate::error::ErrorBody)))]
pub async fn save_pilot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<ParkAuditJson>,
) -> Result<Done<Vec<ParkAudit>>, AppError> {
    let principal = caller.principal()?;
    save(&state, principal, id, &input).await?;
    let rows = state.db().park_audits(principal, id).await?;
    let view = rows.into_iter().map(ParkAudit::from).collect();
    Ok(Done::with(view, format!("/parks/{id}")))
}

/// The park's pilots, newest first.
#[utoipa::path(get, path = "/api/v1/parks/{id}/audits", tag = "parks", params(("id" = i64, Path)),
    responses((status = 200, body = [ParkAudit])))]
pub async fn api_audits(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ParkAudit>>, ApiError> {
    let principal = caller.principal()?;
    let rows = state.db().park_audits(principal, id).await?;
    Ok(Json(rows.into_iter().map(ParkAudit::from).collect()))
}

/// The province's assessment of the pilot under way.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssessmentJson {
    /// passed | failed
    pub result: String,
    /// Default today.
    #[serde(default)]
    pub assessed_on: String,
    pub note: String,
}

async fn assess(
    state: &AppState,
    principal: &Principal,
    park_id: i64,
    input: &AssessmentJson,
) -> Result<(), AppError> {
    let input = use_case::AssessmentInput {
        result: input.result.clone(),
        assessed_on: input.assessed_on.clone(),
        note: input.note.clone(),
    };
    Ok(use_case::assess(state.app(), principal, park_id, &input).await?)
}

/// Records the assessment (province); a pass makes the members count as audited.
#[utoipa::path(post, path = "/api/v1/parks/{id}/audit/assessment", tag = "parks",
    params(("id" = i64, Path)), request_body = AssessmentJson,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<AssessmentJson>,
) -> Result<Done<()>, AppError> {
    let principal = caller.principal()?;
    assess(&state, principal, id, &input).await?;
    Ok(Done::then(format!("/parks/{id}")))
}

fn parse_targets(text: &str) -> Result<Vec<ParkTarget>, AppError> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(index, line)| {
            let parts: Vec<&str> = line.split([',', '，']).map(str::trim).collect();
            let number = |text: &str| text.parse::<f64>().ok();
            let target =
                match parts.as_slice() {
                    [indicator, baseline, target, unit] => number(baseline)
                        .zip(number(target))
                        .map(|(baseline, target)| ParkTarget {
                            indicator: indicator.to_string(),
                            baseline,
                            target,
                            unit: unit.to_string(),
                        }),
                    _ => None,
                };
            target.ok_or_else(|| {
                AppError::bad_field(
                    "targets",
                    "invalid_line",
                    &format!("目标第 {} 行应为“指标，基准值，目标值，单位”", index + 1),
                    &format!(
                        "target line {} must read indicator, baseline, target, unit",
                        index + 1
                    ),
                )
            })
        })
        .collect()
}

struct AuditView {
    row: ParkAuditRow,
    targets: Vec<ParkTarget>,
}

#[derive(Template)]
#[template(path = "park.html")]
struct ParkPage {
    ctx: Ctx,
    park_id: i64,
    park_name: String,
    members: i64,
    pilot_passed_on: Option<String>,
    audits: Vec<AuditView>,
    is_province: bool,
    today: String,
}

pub async fn park_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let park = state
        .db()
        .list_parks(principal.scope())
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(AppError::NotFound)?;
    let audits = state
        .db()
        .park_audits(principal, id)
        .await?
        .into_iter()
        .map(|row| AuditView {
            targets: serde_json::from_value(row.targets.0.clone().into()).unwrap_or_default(),
            row,
        })
        .collect();
    Ok(render(&ParkPage {
        ctx: Ctx::new(&caller),
        park_id: id,
        park_name: park.name,
        members: park.members,
        pilot_passed_on: state.db().park_pilot_passed_on(id).await?,
        audits,
        is_province: principal.role == cpaudit_storage::Role::Province,
        today: cpaudit_storage::evidence::date_text(state.today()),
    }))
}
