//! Notices and the overdue list.
//!
//! - `GET /notices` (page) and `GET /api/v1/notices`: the caller's notices, newest first, with
//!   the unread ones marked. Each role reads what is addressed to it (core
//!   `NoticeKind::addressed_to`): the enterprise everything about its rounds, its consultancy
//!   reminders and overdue notices, the city overdue notices and escalations of its
//!   jurisdiction, the province escalations. `all=true` shows an official every notice of its
//!   scope; `unread=true` only the unread; `limit` (API, 1–1000, default 100).
//! - `POST /notices/{id}/read` (form) and `POST /api/v1/notices/{id}/read`: marks a notice read
//!   for the caller (404 unless the caller may read it).
//! - `GET /api/v1/overdue` (officials): every open deadline past its last day with days
//!   overdue and the escalation day, by city (a city its own, the province all or `city=`);
//!   the same as .xlsx at `GET /api/v1/overdue/export.xlsx` and, for pages, at
//!   `GET /overdue/export.xlsx`.
//!
//! The unread count shown in every page's header comes from [`unread_badge`].

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use cpaudit_core::deadlines::{DeadlineKind, NoticeKind};
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::notices::NoticeFilter;
use cpaudit_storage::{Principal, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::action::Done;
use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::i18n::Lang;
use crate::pages::{beijing_time, render, Ctx};
use crate::registry::{blank, invalid, parse_bool};
use crate::routes::OFFICIALS;
use crate::views::notices::{Notice, OverdueDeadline};
use crate::AppState;

/// Notices listed when the caller gives no limit, and the most it may ask for.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// The roles that read notices (experts take no part in deadlines).
const NOTICE_READERS: &[Role] = crate::routes::REGISTRY_READERS;

/// Which notices to list.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// true: every notice of an official's scope, not only those addressed to it.
    pub all: Option<String>,
    /// true: only the unread.
    pub unread: Option<String>,
    /// At most this many, newest first (1–1000, default 100).
    pub limit: Option<String>,
}

impl NoticeQuery {
    fn to_filter(&self) -> Result<NoticeFilter, AppError> {
        let flag = |field: &str, value: &Option<String>| match blank(value) {
            None => Ok(false),
            Some(text) => parse_bool(text).ok_or_else(|| invalid(field, text, "true|false")),
        };
        let limit = match blank(&self.limit) {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse()
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or_else(|| invalid("limit", text, "1–1000"))?,
        };
        Ok(NoticeFilter {
            all: flag("all", &self.all)?,
            unread_only: flag("unread", &self.unread)?,
            limit,
        })
    }
}

/// The caller's notices and how many addressed to it are unread.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticesJson {
    pub unread: i64,
    pub items: Vec<Notice>,
}

/// The unread count for the page header; none for callers who read no notices. A failed count
/// hides the badge rather than the page.
pub(crate) async fn unread_badge(state: &AppState, principal: &Principal) -> Option<i64> {
    if !NOTICE_READERS.contains(&principal.role) {
        return None;
    }
    match state.db().unread_notice_count(principal).await {
        Ok(count) => Some(count),
        Err(error) => {
            tracing::error!(%error, "unread notice count failed");
            None
        }
    }
}

async fn notices(
    state: &AppState,
    principal: &Principal,
    filter: NoticeFilter,
) -> Result<NoticesJson, AppError> {
    Ok(NoticesJson {
        unread: state.db().unread_notice_count(principal).await?,
        items: state
            .db()
            .notices_for(principal, filter)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    })
}

/// The caller's notices, newest first.
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NoticeQuery),
    responses((status = 200, body = NoticesJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_notices(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<NoticeQuery>,
) -> Result<Json<NoticesJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(notices(&state, principal, query.to_filter()?).await?))
}

/// Marks a notice read for the caller; marking it again changes nothing. The notices page's
/// button and the API alike.
#[utoipa::path(post, path = "/api/v1/notices/{id}/read", tag = "notices", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Done<()>, AppError> {
    let principal = caller.principal()?;
    cpaudit_app::notices::mark_read(state.app(), principal, id).await?;
    Ok(Done::then("/notices"))
}

/// A notice as the page shows it.
struct NoticeView {
    id: i64,
    fired_on: String,
    kind: &'static str,
    kind_class: &'static str,
    enterprise: String,
    obligation: String,
    deadline_due_on: String,
    message: String,
    read_at: Option<String>,
}

fn notice_view(lang: Lang, row: Notice) -> NoticeView {
    NoticeView {
        id: row.id,
        fired_on: date_text(row.fired_on),
        kind: lang.pick(row.kind.label_zh(), row.kind.label_en()),
        kind_class: match row.kind {
            NoticeKind::Reminder => "basis",
            NoticeKind::Overdue | NoticeKind::Escalation => "unverified",
        },
        enterprise: row.enterprise_name,
        obligation: deadline_label(lang, row.deadline_kind),
        deadline_due_on: date_text(row.deadline_due_on),
        message: lang.pick(&row.message_zh, &row.message_en).to_string(),
        read_at: row.read_at.as_deref().map(beijing_time),
    }
}

fn deadline_label(lang: Lang, kind: DeadlineKind) -> String {
    lang.pick(kind.label_zh(), kind.label_en()).to_string()
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    ctx: Ctx,
    rows: Vec<NoticeView>,
    unread: i64,
    official: bool,
    all: bool,
    unread_only: bool,
}

pub async fn notices_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let filter = query.to_filter()?;
    let listed = notices(&state, principal, filter).await?;
    Ok(render(&NoticesPage {
        ctx: Ctx::new(&caller),
        rows: listed
            .items
            .into_iter()
            .map(|row| notice_view(caller.lang, row))
            .collect(),
        unread: listed.unread,
        official: OFFICIALS.contains(&principal.role),
        all: filter.all,
        unread_only: filter.unread_only,
    }))
}

/// Which overdue deadlines to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverdueQuery {
    /// Jurisdiction code of one city-level unit (the province may pick one; a city sees its
    /// own whatever it asks).
    pub city: Option<String>,
}

/// Open deadlines past their last day on `today`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueJson {
    pub today: String,
    pub items: Vec<OverdueDeadline>,
}

async fn overdue(
    state: &AppState,
    principal: &Principal,
    query: &OverdueQuery,
) -> Result<OverdueJson, AppError> {
    let city = blank(&query.city);
    if let Some(code) = city {
        if state.reference().city(code).is_none() {
            return Err(invalid(
                "city",
                code,
                "a city-level jurisdiction code, e.g. 620100",
            ));
        }
    }
    let today = state.today();
    Ok(OverdueJson {
        today: date_text(today),
        items: state
            .db()
            .overdue_deadlines(principal.scope(), today, city)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    })
}

/// Every open deadline past its last day, with days overdue and whether it went to the
/// province, by city (officials: a city its own, the province all).
#[utoipa::path(get, path = "/api/v1/overdue", tag = "notices", params(OverdueQuery),
    responses((status = 200, body = OverdueJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_overdue(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<OverdueQuery>,
) -> Result<Json<OverdueJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(overdue(&state, principal, &query).await?))
}

/// The overdue list as an Excel workbook (headers follow Accept-Language).
#[utoipa::path(get, path = "/api/v1/overdue/export.xlsx", tag = "notices", params(OverdueQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn api_overdue_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<OverdueQuery>,
) -> Result<Response, ApiError> {
    Ok(overdue_xlsx(&state, &caller, &query).await?)
}

/// The overdue list as an Excel workbook, for the work-list pages.
pub async fn overdue_xlsx_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<OverdueQuery>,
) -> Result<Response, AppError> {
    overdue_xlsx(&state, &caller, &query).await
}

async fn overdue_xlsx(
    state: &AppState,
    caller: &Caller,
    query: &OverdueQuery,
) -> Result<Response, AppError> {
    let lang = caller.lang;
    let listed = overdue(state, caller.principal()?, query).await?;
    let headers = [
        ("市州", "City"),
        ("企业名称", "Enterprise"),
        ("统一社会信用代码", "Credit code"),
        ("事项", "Obligation"),
        ("期限（最后一日）", "Last day"),
        ("逾期天数", "Days overdue"),
        ("上报省级日期", "Escalated on"),
        ("审核轮次状态", "Round state"),
        ("依据规则", "Rule"),
    ]
    .iter()
    .map(|(zh, en)| lang.pick(zh, en).to_string())
    .collect();
    let rows = listed
        .items
        .into_iter()
        .map(|row| overdue_cells(lang, row))
        .collect();
    let name = format!("overdue-{}.xlsx", listed.today);
    crate::listing::table_download(&name, lang.texts().overdue_4, headers, rows)
}

fn overdue_cells(lang: Lang, row: OverdueDeadline) -> Vec<String> {
    let state = lang
        .pick(row.round_state.label_zh(), row.round_state.label_en())
        .to_string();
    vec![
        row.jurisdiction_name_zh,
        row.enterprise_name,
        row.credit_code,
        deadline_label(lang, row.deadline_kind),
        date_text(row.due_on),
        row.days_overdue.to_string(),
        row.escalated_on.map(date_text).unwrap_or_default(),
        state,
        row.rule_id,
    ]
}
