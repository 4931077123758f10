//! The JSON API under `/api/v1/`. Clients authenticate with a bearer token from
//! `POST /api/v1/auth/token`. The OpenAPI document is assembled from the route table, each
//! operation described by its handler's `#[utoipa::path]`.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cpaudit_core::registry::{EnterpriseDraft, Message};
use cpaudit_office::TableFormat;
use cpaudit_storage::auth::{LoginError, SessionKind};
use cpaudit_storage::enterprises::EnterpriseRow;
use cpaudit_storage::InScope;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::action::{Done, Input};
use crate::auth::Caller;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::registry::{export_response, parse_bool, ImportReport, ListQuery};
use crate::views::enterprises::{Enterprise, ImportOutcome, Outlet};
use crate::views::registry::{Industry, Jurisdiction};
use crate::AppState;
use cpaudit_app::registry_import;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cpaudit API",
        description = "清洁生产审核管理系统 JSON API. Errors are `{\"error\": {\"code\", \"message\", \"field\"}}` with a 4xx status; messages follow Accept-Language (zh by default, en)."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document (also snapshot-tested): its operations are those of the API routes
/// in [`crate::routes::table`], each described by its handler's `#[utoipa::path]`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    for entry in crate::routes::specs()
        .into_iter()
        .filter_map(|spec| spec.openapi)
    {
        let components = utoipa::openapi::ComponentsBuilder::new()
            .schemas_from_iter(entry.schemas)
            .build();
        document.merge(
            utoipa::openapi::OpenApiBuilder::new()
                .paths(entry.paths)
                .components(Some(components))
                .build(),
        );
    }
    document
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "reference", security(()),
    responses((status = 200, description = "The OpenAPI document of this API", content_type = "application/json")))]
pub async fn openapi_json() -> Response {
    Json(openapi()).into_response()
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    /// Always "Bearer".
    pub token_type: &'static str,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

/// Exchanges a username and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()),
    request_body = TokenRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = ErrorBody, description = "wrong username or password"),
        (status = 429, body = ErrorBody, description = "too many failed attempts")
    ))]
pub async fn issue_token(
    State(state): State<AppState>,
    Json(request): Json<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let now = state.now();
    let outcome = state
        .db()
        .login(
            request.username.trim(),
            &request.password,
            now,
            state.settings().throttle,
        )
        .await?;
    match outcome {
        Ok(principal) => {
            let session = state
                .db()
                .create_session(
                    &principal,
                    SessionKind::Bearer,
                    now,
                    state.settings().session_lifetime,
                )
                .await?;
            Ok(Json(TokenResponse {
                token: session.token,
                token_type: "Bearer",
                expires_at: cpaudit_storage::timestamp(session.expires_at),
            }))
        }
        Err(LoginError::InvalidCredentials) => Err(ApiError(AppError::Unauthorized)),
        Err(LoginError::Throttled {
            retry_after_seconds,
        }) => Err(ApiError(AppError::TooManyRequests {
            retry_after_seconds,
        })),
    }
}

/// The province and its city-level units.
#[utoipa::path(get, path = "/api/v1/jurisdictions", tag = "reference", security(()),
    responses((status = 200, body = Vec<Jurisdiction>)))]
pub async fn jurisdictions(
    State(state): State<AppState>,
) -> Result<Json<Vec<Jurisdiction>>, ApiError> {
    let rows = state.db().list_jurisdictions().await?;
    Ok(Json(rows.into_iter().map(Jurisdiction::from).collect()))
}

/// GB/T 4754-2017 industry classes with their key industry and province-organized industry.
#[utoipa::path(get, path = "/api/v1/industries", tag = "reference", security(()),
    responses((status = 200, body = Vec<Industry>)))]
pub async fn industries(State(state): State<AppState>) -> Result<Json<Vec<Industry>>, ApiError> {
    let rows = state.db().list_industries().await?;
    Ok(Json(rows.into_iter().map(Industry::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct EnterprisePage {
    pub items: Vec<Enterprise>,
    /// All matches, over every page.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Enterprises within the caller's scope, filtered, sorted and paged like the list page.
#[utoipa::path(get, path = "/api/v1/enterprises", tag = "enterprises", params(ListQuery),
    responses((status = 200, body = EnterprisePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_enterprises(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<EnterprisePage>, ApiError> {
    let principal = caller.principal()?;
    let filter = query.to_filter()?;
    let page = state
        .db()
        .search_enterprises(principal.scope(), &filter)
        .await?;
    Ok(Json(EnterprisePage {
        items: page.items.into_iter().map(Enterprise::from).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// An enterprise to register. Missing fields are reported by name.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EnterpriseInput {
    pub name: String,
    pub credit_code: String,
    pub legal_representative: String,
    pub address: String,
    pub jurisdiction_code: String,
    pub industry_code: String,
    /// large | medium | small | micro (or 大/中/小/微)
    pub size_class: String,
    pub key_emission_unit: bool,
    pub permit_number: String,
    /// active (default) | closed
    pub status: String,
}

/// Registers an enterprise in a city the caller manages.
///
/// On the page, a refused entry comes back with every problem beside its field.
#[utoipa::path(post, path = "/api/v1/enterprises", tag = "enterprises", request_body = EnterpriseInput,
    responses((status = 201, body = Enterprise), (status = 409, body = ErrorBody, description = "credit code already registered"),
        (status = 422, body = ErrorBody, description = "invalid fields"), (status = 403, body = ErrorBody)))]
pub async fn create_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    Input(input): Input<EnterpriseInput>,
) -> Result<Done<Enterprise>, AppError> {
    let principal = caller.principal()?;
    let draft = EnterpriseDraft {
        name: input.name,
        credit_code: input.credit_code,
        legal_representative: input.legal_representative,
        address: input.address,
        jurisdiction_code: input.jurisdiction_code,
        industry_code: input.industry_code,
        size_class: input.size_class,
        key_emission_unit: input.key_emission_unit,
        permit_number: input.permit_number,
        status: input.status,
    };
    let id = cpaudit_app::registry::create(state.app(), principal, &draft).await?;
    let row = reload(&state, principal, id).await?;
    Ok(Done::with(
        Enterprise::from(row.into_inner()),
        format!("/enterprises/{id}"),
    )
    .created_at(format!("/api/v1/enterprises/{id}")))
}

#[derive(Serialize, ToSchema)]
pub struct EnterpriseDetailJson {
    pub enterprise: Enterprise,
    pub outlets: Vec<Outlet>,
    pub parks: Vec<String>,
    pub consultancies: Vec<String>,
}

/// One enterprise with its outlets and devices; 404 when outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}", tag = "enterprises", params(("id" = i64, Path)),
    responses((status = 200, body = EnterpriseDetailJson), (status = 404, body = ErrorBody)))]
pub async fn get_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<EnterpriseDetailJson>, ApiError> {
    let principal = caller.principal()?;
    let detail = state
        .db()
        .enterprise_detail(principal.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(EnterpriseDetailJson {
        enterprise: detail.enterprise.into(),
        outlets: detail.outlets.into_iter().map(Outlet::from).collect(),
        parks: detail.parks,
        consultancies: detail.consultancies,
    }))
}

/// A partial change: only the fields given are changed. `version`, when given, must be the
/// current version (409 otherwise).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterprisePatch {
    pub name: Option<String>,
    pub credit_code: Option<String>,
    pub legal_representative: Option<String>,
    pub address: Option<String>,
    pub jurisdiction_code: Option<String>,
    pub industry_code: Option<String>,
    pub size_class: Option<String>,
    pub key_emission_unit: Option<bool>,
    pub permit_number: Option<String>,
    pub status: Option<String>,
    pub version: Option<i64>,
}

/// Changes an enterprise in a city the caller manages.
#[utoipa::path(patch, path = "/api/v1/enterprises/{id}", tag = "enterprises", params(("id" = i64, Path)),
    request_body = EnterprisePatch,
    responses((status = 200, body = Enterprise), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(patch): Json<EnterprisePatch>,
) -> Result<Json<Enterprise>, ApiError> {
    let principal = caller.principal()?;
    let mut draft = reload(&state, principal, id).await?.draft();
    let set = |target: &mut String, value: Option<String>| {
        if let Some(value) = value {
            *target = value;
        }
    };
    set(&mut draft.name, patch.name);
    set(&mut draft.credit_code, patch.credit_code);
    set(&mut draft.legal_representative, patch.legal_representative);
    set(&mut draft.address, patch.address);
    set(&mut draft.jurisdiction_code, patch.jurisdiction_code);
    set(&mut draft.industry_code, patch.industry_code);
    set(&mut draft.size_class, patch.size_class);
    set(&mut draft.permit_number, patch.permit_number);
    set(&mut draft.status, patch.status);
    if let Some(flag) = patch.key_emission_unit {
        draft.key_emission_unit = flag;
    }
    cpaudit_app::registry::update(state.app(), principal, id, patch.version, &draft).await?;
    let row = reload(&state, principal, id).await?;
    Ok(Json(row.into_inner().into()))
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub report: ImportReport,
    /// What was written; absent on a dry run.
    pub outcome: Option<ImportOutcome>,
}

#[derive(Serialize)]
struct ImportRefusal {
    error: crate::error::ErrorDetail,
    report: ImportReport,
}

/// Imports enterprises from an .xlsx or .csv file (multipart field `file`). With invalid rows
/// nothing is written (422 with the row-by-row report) unless `mode=valid_only`;
/// `dry_run=true` only checks.
#[utoipa::path(post, path = "/api/v1/enterprises/import", tag = "enterprises",
    request_body(content_type = "multipart/form-data", description = "fields: file (.xlsx or .csv), mode = all | valid_only, dry_run = true | false"),
    responses((status = 200, body = ImportResult), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, description = "invalid rows; nothing written")))]
pub async fn import_enterprises(
    State(state): State<AppState>,
    caller: Caller,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let principal = caller.principal()?;
    let (file_name, bytes, fields) = crate::pages::read_upload(&state, &mut multipart).await?;
    let mode = registry_import::ImportMode::parse(
        fields.get("mode").map(String::as_str).unwrap_or("all"),
    )?;
    let dry_run = fields
        .get("dry_run")
        .and_then(|v| parse_bool(v))
        .unwrap_or(false);
    let checked = registry_import::check_file(state.app(), principal, &file_name, &bytes).await?;
    let outcome = if dry_run {
        None
    } else {
        registry_import::write(state.app(), principal, &checked, mode).await?
    };
    let blocked = checked.invalid_rows() > 0 && mode == registry_import::ImportMode::All;
    let report = ImportReport::shown(checked, caller.lang);
    if blocked {
        let message = Message::new(
            format!("{} 行有错误，未写入任何数据", report.invalid_rows),
            format!(
                "{} rows are invalid; nothing was written",
                report.invalid_rows
            ),
        );
        let error = crate::error::ErrorDetail {
            code: "invalid_rows".into(),
            message: caller.lang.pick(&message.zh, &message.en).to_string(),
            field: Some("file".into()),
            details: Vec::new(),
        };
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ImportRefusal { error, report }),
        )
            .into_response());
    }
    Ok(Json(ImportResult {
        report,
        outcome: outcome.map(Into::into),
    })
    .into_response())
}

/// The filtered list as an Excel workbook (paging ignored; headers follow Accept-Language).
#[utoipa::path(get, path = "/api/v1/enterprises/export.xlsx", tag = "enterprises", params(ListQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    Ok(export_response(&state, &caller, &query, TableFormat::Xlsx).await?)
}

/// The filtered list as CSV (UTF-8 with BOM, so Excel shows Chinese correctly).
#[utoipa::path(get, path = "/api/v1/enterprises/export.csv", tag = "enterprises", params(ListQuery),
    responses((status = 200, content_type = "text/csv")))]
pub async fn export_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    Ok(export_response(&state, &caller, &query, TableFormat::Csv).await?)
}

/// The enterprise as stored after a write, as the caller sees it.
async fn reload(
    state: &AppState,
    principal: &cpaudit_storage::Principal,
    id: i64,
) -> Result<InScope<EnterpriseRow>, AppError> {
    state
        .db()
        .get_enterprise(principal.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}
