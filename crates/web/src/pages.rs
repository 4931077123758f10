//! The HTML pages. Every page works without JavaScript: links and forms only.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cpaudit_core::registry::{
    EnterpriseDraft, FieldError, SizeClass, MAX_ADDRESS_CHARS, MAX_NAME_CHARS, MAX_PERMIT_CHARS,
    MAX_PERSON_CHARS,
};
use cpaudit_office::TableFormat;
use cpaudit_storage::auth::{LoginError, SessionKind};
use cpaudit_storage::enterprises::{
    CityCount, EnterpriseDetail, EnterpriseRow, ImportOutcome, Page, SortKey,
};
use cpaudit_storage::Role;
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::action::Input;
use crate::auth::{set_cookie, Caller, SESSION_COOKIE};
use crate::error::AppError;
use crate::form::Redisplay;
use crate::i18n::{Lang, Texts, LANG_COOKIE};
use crate::registry::{export_response, ImportReport, ListQuery};
use crate::routes::{OFFICIALS, PROVINCE, REGISTRY_READERS};
use crate::AppState;
use cpaudit_app::registry_import;

/// What every page's layout needs.
pub struct Ctx {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub other_lang_code: &'static str,
    pub path_encoded: String,
    pub user: Option<UserView>,
    pub csrf: String,
    pub nav: Vec<NavLink>,
    /// Unread notices (the header's badge); none for callers who read no notices.
    pub unread_notices: Option<i64>,
    /// A refused form shown again: its values and errors.
    redisplay: Option<Arc<Redisplay>>,
}

pub struct UserView {
    pub display_name: String,
    pub role_label: &'static str,
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Ctx {
    pub fn new(caller: &Caller) -> Ctx {
        let lang = caller.lang;
        let t = lang.texts();
        let path = caller.path.split('?').next().unwrap_or("/");
        let links: [(&'static str, &'static str, &[Role]); 14] = [
            ("/", t.home, &Role::ALL),
            ("/work", lang.texts().to_do, &Role::ALL),
            ("/enterprises", t.enterprises, REGISTRY_READERS),
            ("/rounds", lang.texts().rounds_3, &Role::ALL),
            ("/evidence", lang.texts().evidence, OFFICIALS),
            ("/library", lang.texts().library, OFFICIALS),
            ("/plans", lang.texts().yearly_lists, OFFICIALS),
            ("/lists", lang.texts().published_5, OFFICIALS),
            ("/parks", t.parks, OFFICIALS),
            ("/monitoring", lang.texts().monitoring, OFFICIALS),
            ("/consultancies", t.consultancies, OFFICIALS),
            ("/experts", t.experts, PROVINCE),
            (
                "/experts/me",
                lang.texts().my_expert_record,
                &[Role::Expert],
            ),
            // No roles: public information, shown to everyone, logged in or not.
            ("/public/lists", lang.texts().published_lists_3, &[]),
        ];
        let nav = links
            .into_iter()
            .filter(|(href, _, roles)| *href == "/" || roles.is_empty() || caller.has_role(roles))
            .map(|(href, label, _)| NavLink {
                href,
                label,
                current: href == path || (href != "/" && path.starts_with(href)),
            })
            .collect();
        Ctx {
            t,
            lang: lang.code(),
            other_lang_code: match lang {
                Lang::Zh => "en",
                Lang::En => "zh",
            },
            path_encoded: serde_urlencoded::to_string([("", caller.path.as_str())])
                .map(|s| s.trim_start_matches('=').to_string())
                .unwrap_or_default(),
            user: caller.principal.as_ref().map(|p| UserView {
                display_name: p.display_name.clone(),
                role_label: match lang {
                    Lang::Zh => p.role.name_zh(),
                    Lang::En => p.role.as_str(),
                },
            }),
            csrf: caller.csrf.clone(),
            nav,
            unread_notices: caller.unread_notices,
            redisplay: caller.redisplay.clone(),
        }
    }

    /// The value a form field shows: what was submitted when the form posted to `action` was
    /// refused, else `stored`.
    pub fn kept(
        &self,
        action: impl AsRef<str>,
        field: impl AsRef<str>,
        stored: impl AsRef<str>,
    ) -> String {
        self.redisplay
            .as_ref()
            .and_then(|redisplay| redisplay.value(action.as_ref(), field.as_ref()))
            .unwrap_or(stored.as_ref())
            .to_string()
    }

    /// The error shown beside a field of the form posted to `action`, when it was refused.
    pub fn error_for(&self, action: impl AsRef<str>, field: impl AsRef<str>) -> Option<String> {
        self.redisplay
            .as_ref()
            .and_then(|redisplay| redisplay.error(action.as_ref(), field.as_ref()))
            .map(str::to_string)
    }

    /// Every problem of a refused form, for the summary above the page's content.
    pub fn form_problems(&self) -> Vec<String> {
        let Some(redisplay) = &self.redisplay else {
            return Vec::new();
        };
        redisplay
            .general
            .iter()
            .chain(redisplay.field_errors.iter().map(|(_, message)| message))
            .cloned()
            .collect()
    }

    /// The label of an enterprise field as the form shows it (for the change history).
    /// Of a record's two names, the one in the page's language.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.lang == "en" {
            en
        } else {
            zh
        }
    }

    /// A disclosure item's name, from its key.
    pub fn disclosure_item(&self, key: &str) -> String {
        match cpaudit_core::disclosure::DisclosureItem::parse(key) {
            Some(item) if self.lang == "en" => item.label_en().to_string(),
            Some(item) => item.label_zh().to_string(),
            None => key.to_string(),
        }
    }

    /// A park pilot's state in words.
    pub fn park_audit_state(&self, state: &str) -> &'static str {
        match state {
            "under_way" => self.t.park_pilot_under_way,
            "assessed" => self.t.park_pilot_assessed,
            "failed" => self.t.park_pilot_failed,
            _ => "—",
        }
    }

    /// A stored time in China Standard Time, to the second.
    pub fn time(&self, stored: &str) -> String {
        beijing_time(stored)
    }

    pub fn size_label(&self, size: &str) -> &'static str {
        match SizeClass::parse(size) {
            Some(size) if self.lang == "en" => size.as_str(),
            Some(size) => size.name_zh(),
            None => "—",
        }
    }
}

pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(crate) fn render_with(status: StatusCode, template: &impl Template) -> Response {
    let mut response = render(template);
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: Ctx,
    status: u16,
    message: String,
}

/// Renders an error as a page in the caller's language.
pub fn error_page(_state: &AppState, caller: &Caller, error: AppError) -> Response {
    let message = error.message();
    let page = ErrorPage {
        ctx: Ctx::new(caller),
        status: error.status().as_u16(),
        message: caller.lang.pick(&message.zh, &message.en).to_string(),
    };
    let mut response = render_with(error.status(), &page);
    if let AppError::TooManyRequests {
        retry_after_seconds,
    } = error
    {
        if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// Unknown paths: JSON under the API, a page elsewhere.
pub async fn not_found(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return AppError::NotFound.into_json(Lang::from_accept_language(&headers));
    }
    let caller = Caller {
        principal: None,
        csrf: String::new(),
        lang: Lang::from_cookies(&headers),
        path: uri.path().to_string(),
        unread_notices: None,
        redisplay: None,
    };
    let message = AppError::NotFound.message();
    render_with(
        StatusCode::NOT_FOUND,
        &ErrorPage {
            ctx: Ctx::new(&caller),
            status: 404,
            message: caller.lang.pick(&message.zh, &message.en).to_string(),
        },
    )
}

pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.db().ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// The HJ 212 receiver's counters in the Prometheus text format. Public like `/healthz`: the
/// output holds counts only (no MN, address or enterprise), and a scraper holds no session.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        state.metrics_text(),
    )
        .into_response()
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}

/// Only local paths are followed after login or a language switch (no open redirect).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn switch_language(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&lang).ok_or(AppError::NotFound)?;
    let mut response = Redirect::to(&local_path(query.next.as_deref())).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(
            LANG_COOKIE,
            lang.code(),
            365 * 24 * 3600,
            state.settings().secure_cookies,
        ),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    counts: Vec<CountView>,
    own_enterprise: Option<i64>,
}

struct CountView {
    code: String,
    name: String,
    enterprises: i64,
    key_emission_units: i64,
}

pub async fn home(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let mut counts = Vec::new();
    let mut own_enterprise = None;
    if let Some(principal) = &caller.principal {
        match principal.scope().kind() {
            cpaudit_storage::auth::ScopeKind::Enterprise(id) => own_enterprise = Some(*id),
            cpaudit_storage::auth::ScopeKind::Province
            | cpaudit_storage::auth::ScopeKind::City(_) => {
                counts = state
                    .db()
                    .enterprise_counts_by_city(principal.scope())
                    .await?
                    .into_iter()
                    .map(|c: CityCount| CountView {
                        name: caller.lang.pick(&c.name_zh, &c.name_en).to_string(),
                        code: c.code,
                        enterprises: c.enterprises,
                        key_emission_units: c.key_emission_units,
                    })
                    .collect();
            }
            _ => {}
        }
    }
    Ok(render(&HomePage {
        ctx: Ctx::new(&caller),
        counts,
        own_enterprise,
    }))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    next: String,
    username: String,
    error: Option<String>,
}

pub async fn login_form(caller: Caller, Query(query): Query<NextQuery>) -> Response {
    render(&LoginPage {
        ctx: Ctx::new(&caller),
        next: local_path(query.next.as_deref()),
        username: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    Input(form): Input<LoginForm>,
) -> Result<Response, AppError> {
    let now = state.now();
    let outcome = state
        .db()
        .login(
            form.username.trim(),
            &form.password,
            now,
            state.settings().throttle,
        )
        .await?;
    let failed = |status: StatusCode, zh: String, en: String| {
        render_with(
            status,
            &LoginPage {
                ctx: Ctx::new(&caller),
                next: local_path(form.next.as_deref()),
                username: form.username.clone(),
                error: Some(caller.lang.pick(&zh, &en).to_string()),
            },
        )
    };
    match outcome {
        Ok(principal) => {
            let session = state
                .db()
                .create_session(
                    &principal,
                    SessionKind::Cookie,
                    now,
                    state.settings().session_lifetime,
                )
                .await?;
            tracing::info!(user = %principal.username, "login");
            let mut response = Redirect::to(&local_path(form.next.as_deref())).into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &session.token,
                    state.settings().session_lifetime.num_seconds(),
                    state.settings().secure_cookies,
                ),
            );
            Ok(response)
        }
        Err(LoginError::InvalidCredentials) => Ok(failed(
            StatusCode::UNAUTHORIZED,
            "用户名或密码错误".into(),
            "Wrong username or password".into(),
        )),
        Err(LoginError::Throttled {
            retry_after_seconds,
        }) => {
            let mut response = failed(
                StatusCode::TOO_MANY_REQUESTS,
                format!("登录失败次数过多，请 {retry_after_seconds} 秒后再试"),
                format!("Too many failed logins; try again in {retry_after_seconds} seconds"),
            );
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(token) = crate::auth::cookie(&headers, SESSION_COOKIE) {
        state.db().delete_session(&token).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.settings().secure_cookies),
    );
    Ok(response)
}

pub struct SelectView {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<OptionView>,
}

pub struct OptionView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct ColumnView {
    pub label: &'static str,
    pub sort_href: Option<String>,
    pub marker: &'static str,
}

#[derive(Template)]
#[template(path = "enterprises.html")]
struct ListPage {
    ctx: Ctx,
    query: ListQuery,
    selects: Vec<SelectView>,
    columns: Vec<ColumnView>,
    page: Page<EnterpriseRow>,
    page_count: u32,
    previous_href: Option<String>,
    next_href: Option<String>,
    export_query: String,
    can_edit: bool,
}

fn options<'a>(
    items: impl Iterator<Item = (&'a str, String)>,
    selected: Option<&str>,
) -> Vec<OptionView> {
    items
        .map(|(value, label)| OptionView {
            selected: selected == Some(value),
            value: value.to_string(),
            label,
        })
        .collect()
}

fn filter_selects(state: &AppState, caller: &Caller, query: &ListQuery) -> Vec<SelectView> {
    let t = caller.lang.texts();
    let lang = caller.lang;
    let reference = state.reference();
    let mut selects = Vec::new();
    if caller.has_role(&[Role::Province]) {
        selects.push(SelectView {
            name: "city",
            label: t.city,
            options: options(
                reference.cities().map(|j| {
                    (
                        j.code.as_str(),
                        lang.pick(&j.name_zh, &j.name_en).to_string(),
                    )
                }),
                query.city.as_deref(),
            ),
        });
    }
    selects.push(SelectView {
        name: "key_industry",
        label: t.key_industry,
        options: options(
            reference
                .key_industries
                .iter()
                .map(|k| (k.id.as_str(), lang.pick(&k.name_zh, &k.name_en).to_string())),
            query.key_industry.as_deref(),
        ),
    });
    selects.push(SelectView {
        name: "industry",
        label: t.industry,
        options: options(
            reference.industries.iter().map(|i| {
                (
                    i.code.as_str(),
                    format!("{} {}", i.code, lang.pick(&i.name_zh, &i.name_en)),
                )
            }),
            query.industry.as_deref(),
        ),
    });
    selects.push(SelectView {
        name: "size",
        label: t.size_class,
        options: options(
            SizeClass::ALL
                .iter()
                .map(|s| (s.as_str(), lang.pick(s.name_zh(), s.as_str()).to_string())),
            query.size.as_deref(),
        ),
    });
    selects.push(SelectView {
        name: "key_emission_unit",
        label: t.key_emission_unit,
        options: options(
            [("true", t.yes.to_string()), ("false", t.no.to_string())].into_iter(),
            query.key_emission_unit.as_deref(),
        ),
    });
    selects.push(SelectView {
        name: "status",
        label: t.status,
        options: options(
            [
                ("active", t.status_active.to_string()),
                ("closed", t.status_closed.to_string()),
            ]
            .into_iter(),
            query.status.as_deref(),
        ),
    });
    selects
}

fn sort_columns(
    caller: &Caller,
    query: &ListQuery,
    current: SortKey,
    descending: bool,
) -> Vec<ColumnView> {
    let t = caller.lang.texts();
    let column = |label: &'static str, key: Option<SortKey>| {
        let Some(key) = key else {
            return ColumnView {
                label,
                sort_href: None,
                marker: "",
            };
        };
        let mut next = query.clone();
        next.sort = Some(key.as_str().to_string());
        next.order = Some(
            if key == current && !descending {
                "desc"
            } else {
                "asc"
            }
            .to_string(),
        );
        next.page = None;
        ColumnView {
            label,
            sort_href: Some(serde_urlencoded::to_string(&next).unwrap_or_default()),
            marker: match (key == current, descending) {
                (true, false) => " ▲",
                (true, true) => " ▼",
                _ => "",
            },
        }
    };
    vec![
        column(t.name, Some(SortKey::Name)),
        column(t.credit_code, Some(SortKey::CreditCode)),
        column(t.city, Some(SortKey::City)),
        column(t.industry, Some(SortKey::Industry)),
        column(t.key_industry, None),
        column(t.size_class, None),
        column(t.key_emission_unit, None),
        column(t.status, None),
    ]
}

pub async fn enterprise_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let filter = query.to_filter()?;
    let page = state
        .db()
        .search_enterprises(principal.scope(), &filter)
        .await?;
    let page_count = page.page_count().max(1);
    let previous_href = (page.page > 1).then(|| query.with_page(page.page - 1));
    let next_href = (page.page < page_count).then(|| query.with_page(page.page + 1));
    Ok(render(&ListPage {
        selects: filter_selects(&state, &caller, &query),
        columns: sort_columns(&caller, &query, filter.sort, filter.descending),
        export_query: query.without_page(),
        can_edit: caller.has_role(OFFICIALS),
        ctx: Ctx::new(&caller),
        query,
        page,
        page_count,
        previous_href,
        next_href,
    }))
}

struct HistoryView {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    changes: Vec<ChangeView>,
    hash_prefix: String,
}

struct ChangeView {
    field: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "enterprise.html")]
struct DetailPage {
    ctx: Ctx,
    d: EnterpriseDetail,
    history: Vec<HistoryView>,
    can_edit: bool,
    /// Officials and the enterprise itself see its online monitoring.
    can_monitor: bool,
    /// The directory to engage a consultancy from; empty when the caller may not engage one.
    consultancies: Vec<cpaudit_storage::registry::ConsultancyRow>,
    today: String,
}

/// A stored UTC time shown in China Standard Time (UTC+8), to the second.
pub(crate) fn beijing_time(stored: &str) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    chrono::DateTime::parse_from_rfc3339(stored)
        .map(|at| {
            at.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| stored.to_string())
}

/// The fields whose values differ between two JSON states (a creation lists every field).
fn changes(before: Option<&str>, after: Option<&str>, lang: Lang) -> Vec<ChangeView> {
    let parse = |text: Option<&str>| -> serde_json::Map<String, serde_json::Value> {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    };
    let (before, after) = (parse(before), parse(after));
    let show = |key: &str, value: Option<&serde_json::Value>| match value {
        None => "—".to_string(),
        Some(serde_json::Value::String(s)) if s.is_empty() => "—".to_string(),
        Some(serde_json::Value::String(s)) => crate::history::value_words(key, s, lang),
        Some(other) => crate::history::value_words(key, &other.to_string(), lang),
    };
    after
        .iter()
        .filter(|(key, value)| before.get(*key) != Some(value))
        .map(|(key, value)| ChangeView {
            field: crate::history::field_words(key, lang),
            before: show(key, before.get(key)),
            after: show(key, Some(value)),
        })
        .collect()
}

pub async fn enterprise_detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let detail = state
        .db()
        .enterprise_detail(principal.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let history = detail
        .history
        .iter()
        .rev()
        .map(|entry| HistoryView {
            seq: entry.seq,
            at: beijing_time(&entry.at),
            actor: entry.actor.clone(),
            action: crate::history::action_words(&entry.action, caller.lang),
            changes: changes(entry.before.as_deref(), entry.after.as_deref(), caller.lang),
            hash_prefix: entry.hash.chars().take(12).collect(),
        })
        .collect();
    // Officials of its city and the enterprise itself engage a consultancy for it.
    let may_engage = caller.has_role(crate::routes::ENTERPRISE_ACTORS);
    let consultancies = if may_engage {
        state.db().consultancy_directory().await?
    } else {
        Vec::new()
    };
    Ok(render(&DetailPage {
        can_monitor: caller.has_role(crate::routes::ENTERPRISE_ACTORS),
        consultancies,
        today: cpaudit_storage::evidence::date_text(state.today()),
        can_edit: principal
            .scope()
            .may_manage_city(&detail.enterprise.jurisdiction_code),
        ctx: Ctx::new(&caller),
        d: detail,
        history,
    }))
}

pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub required: bool,
    pub checkbox: bool,
    pub max_chars: usize,
    pub options: Vec<OptionView>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "enterprise_form.html")]
struct FormPage {
    ctx: Ctx,
    heading: &'static str,
    action: String,
    cancel_href: String,
    version: Option<i64>,
    fields: Vec<FieldView>,
    alert: Option<String>,
}

/// The enterprise form as posted. A checkbox that is not ticked is simply absent.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct EnterpriseForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    legal_representative: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    jurisdiction_code: String,
    #[serde(default)]
    industry_code: String,
    #[serde(default)]
    size_class: String,
    #[serde(default)]
    key_emission_unit: Option<String>,
    #[serde(default)]
    permit_number: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    version: Option<i64>,
}

impl EnterpriseForm {
    fn draft(&self) -> EnterpriseDraft {
        EnterpriseDraft {
            name: self.name.clone(),
            credit_code: self.credit_code.clone(),
            legal_representative: self.legal_representative.clone(),
            address: self.address.clone(),
            jurisdiction_code: self.jurisdiction_code.clone(),
            industry_code: self.industry_code.clone(),
            size_class: self.size_class.clone(),
            key_emission_unit: self
                .key_emission_unit
                .as_deref()
                .is_some_and(|v| v == "true" || v == "on"),
            permit_number: self.permit_number.clone(),
            status: self.status.clone(),
        }
    }
}

fn form_fields(
    state: &AppState,
    caller: &Caller,
    draft: &EnterpriseDraft,
    errors: &[FieldError],
) -> Vec<FieldView> {
    let t = caller.lang.texts();
    let lang = caller.lang;
    let reference = state.reference();
    let error_for = |name: &str| {
        errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| lang.pick(&e.message.zh, &e.message.en).to_string())
    };
    let text =
        |name: &'static str, label: &'static str, value: &str, required: bool, max_chars: usize| {
            FieldView {
                name,
                label,
                value: value.to_string(),
                required,
                checkbox: false,
                max_chars,
                options: Vec::new(),
                error: error_for(name),
            }
        };
    let select = |name: &'static str, label: &'static str, options: Vec<OptionView>| FieldView {
        name,
        label,
        value: String::new(),
        required: true,
        checkbox: false,
        max_chars: 0,
        options,
        error: error_for(name),
    };
    // A city official registers enterprises of its own city only.
    let cities: Vec<_> = reference
        .cities()
        .filter(|j| {
            caller
                .principal
                .as_ref()
                .is_some_and(|p| p.scope().may_manage_city(&j.code))
        })
        .map(|j| {
            (
                j.code.as_str(),
                lang.pick(&j.name_zh, &j.name_en).to_string(),
            )
        })
        .collect();
    vec![
        text("name", t.name, &draft.name, true, MAX_NAME_CHARS),
        text("credit_code", t.credit_code, &draft.credit_code, true, 18),
        text(
            "legal_representative",
            t.legal_representative,
            &draft.legal_representative,
            true,
            MAX_PERSON_CHARS,
        ),
        text(
            "address",
            t.address,
            &draft.address,
            true,
            MAX_ADDRESS_CHARS,
        ),
        select(
            "jurisdiction_code",
            t.city,
            options(cities.into_iter(), Some(&draft.jurisdiction_code)),
        ),
        select(
            "industry_code",
            t.industry,
            options(
                reference.industries.iter().map(|i| {
                    (
                        i.code.as_str(),
                        format!("{} {}", i.code, lang.pick(&i.name_zh, &i.name_en)),
                    )
                }),
                Some(&draft.industry_code),
            ),
        ),
        select(
            "size_class",
            t.size_class,
            options(
                SizeClass::ALL
                    .iter()
                    .map(|s| (s.as_str(), lang.pick(s.name_zh(), s.as_str()).to_string())),
                SizeClass::parse(&draft.size_class).map(|s| s.as_str()),
            ),
        ),
        FieldView {
            checkbox: true,
            value: draft.key_emission_unit.to_string(),
            ..text("key_emission_unit", t.key_emission_unit, "", false, 0)
        },
        text(
            "permit_number",
            t.permit_number,
            &draft.permit_number,
            false,
            MAX_PERMIT_CHARS,
        ),
        select(
            "status",
            t.status,
            options(
                [
                    ("active", t.status_active.to_string()),
                    ("closed", t.status_closed.to_string()),
                ]
                .into_iter(),
                Some(if draft.status.is_empty() {
                    "active"
                } else {
                    draft.status.as_str()
                }),
            ),
        ),
    ]
}

struct FormSpec {
    heading: &'static str,
    action: String,
    cancel_href: String,
    version: Option<i64>,
}

fn form_page(
    state: &AppState,
    caller: &Caller,
    spec: FormSpec,
    draft: &EnterpriseDraft,
    errors: &[FieldError],
    alert: Option<String>,
) -> FormPage {
    FormPage {
        fields: form_fields(state, caller, draft, errors),
        ctx: Ctx::new(caller),
        heading: spec.heading,
        action: spec.action,
        cancel_href: spec.cancel_href,
        version: spec.version,
        alert,
    }
}

fn new_spec(caller: &Caller) -> FormSpec {
    FormSpec {
        heading: caller.lang.texts().new_enterprise,
        action: "/enterprises".into(),
        cancel_href: "/enterprises".into(),
        version: None,
    }
}

pub async fn enterprise_new(State(state): State<AppState>, caller: Caller) -> Response {
    let draft = EnterpriseDraft {
        jurisdiction_code: match caller.principal.as_ref().map(|p| p.scope().kind()) {
            Some(cpaudit_storage::auth::ScopeKind::City(code)) => code.clone(),
            _ => String::new(),
        },
        ..EnterpriseDraft::default()
    };
    render(&form_page(
        &state,
        &caller,
        new_spec(&caller),
        &draft,
        &[],
        None,
    ))
}

/// Turns a storage refusal of a valid form into a field error where it belongs to a field.
/// The faults of a refused enterprise form, each to show beside its field, with the status
/// to answer; a refusal that names no field is answered as an error page.
fn form_faults(error: cpaudit_app::Error) -> Result<(Vec<FieldError>, StatusCode), AppError> {
    let status = match error.kind() {
        cpaudit_app::ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        cpaudit_app::ErrorKind::Conflict => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match error {
        cpaudit_app::Error::Validation(errors) => Ok((errors, status)),
        cpaudit_app::Error::Conflict {
            code,
            message,
            field: Some(field),
        }
        | cpaudit_app::Error::ForbiddenField {
            code,
            message,
            field: Some(field),
        } => Ok((
            vec![FieldError {
                field,
                code,
                message,
            }],
            status,
        )),
        other => Err(other.into()),
    }
}

fn edit_spec(caller: &Caller, id: i64, version: i64) -> FormSpec {
    FormSpec {
        heading: caller.lang.texts().edit,
        action: format!("/enterprises/{id}/edit"),
        cancel_href: format!("/enterprises/{id}"),
        version: Some(version),
    }
}

pub async fn enterprise_edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let row = state
        .db()
        .get_enterprise(principal.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let draft = row.draft();
    Ok(render(&form_page(
        &state,
        &caller,
        edit_spec(&caller, id, row.version),
        &draft,
        &[],
        None,
    )))
}

pub async fn enterprise_update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(form): Input<EnterpriseForm>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let draft = form.draft();
    let version = form.version;
    let lang = caller.lang;
    let invalid = |errors: Vec<FieldError>, status, alert: &str| {
        let spec = edit_spec(&caller, id, version.unwrap_or_default());
        render_with(
            status,
            &form_page(
                &state,
                &caller,
                spec,
                &draft,
                &errors,
                Some(alert.to_string()),
            ),
        )
    };
    // Out of scope is "not found", whatever the form says.
    match cpaudit_app::registry::update(state.app(), principal, id, version, &draft).await {
        Ok(()) => Ok(Redirect::to(&format!("/enterprises/{id}")).into_response()),
        Err(cpaudit_app::Error::Conflict {
            code: "version_conflict",
            ..
        }) => Ok(invalid(
            Vec::new(),
            StatusCode::CONFLICT,
            lang.texts().version_conflict,
        )),
        Err(error) => {
            let (errors, status) = form_faults(error)?;
            Ok(invalid(errors, status, lang.texts().form_has_errors))
        }
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    ctx: Ctx,
    report: Option<ImportReport>,
    staged_id: Option<String>,
    outcome: Option<ImportOutcome>,
    alert: Option<String>,
}

impl ImportPage {
    fn new(caller: &Caller) -> ImportPage {
        ImportPage {
            ctx: Ctx::new(caller),
            report: None,
            staged_id: None,
            outcome: None,
            alert: None,
        }
    }
}

pub async fn import_form(caller: Caller) -> Response {
    render(&ImportPage::new(&caller))
}

/// Reads the one file field of an upload, enforcing the size limit with a clear message.
pub async fn read_upload(
    state: &AppState,
    multipart: &mut Multipart,
) -> Result<(String, Vec<u8>, std::collections::HashMap<String, String>), AppError> {
    read_upload_within(multipart, state.settings().max_upload_bytes).await
}

/// Reads the one file field of an upload of at most `limit` bytes, and the other fields.
pub async fn read_upload_within(
    multipart: &mut Multipart,
    limit: usize,
) -> Result<(String, Vec<u8>, std::collections::HashMap<String, String>), AppError> {
    let too_large = || AppError::PayloadTooLarge { limit_bytes: limit };
    let mut file = None;
    let mut fields = std::collections::HashMap::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large())
            }
            Err(error) => {
                return Err(AppError::bad_request(
                    "invalid_upload",
                    Some("file"),
                    cpaudit_core::registry::Message::new(
                        format!("上传格式错误：{error}"),
                        format!("malformed upload: {error}"),
                    ),
                ))
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(|error| {
            if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                AppError::bad_request(
                    "invalid_upload",
                    Some("file"),
                    cpaudit_core::registry::Message::new(
                        format!("上传中断：{error}"),
                        format!("upload failed: {error}"),
                    ),
                )
            }
        })?;
        if name == "file" {
            if bytes.len() > limit {
                return Err(too_large());
            }
            file = Some((file_name.unwrap_or_default(), bytes.to_vec()));
        } else {
            fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    let (file_name, bytes) = file.ok_or_else(|| {
        AppError::bad_request(
            "required",
            Some("file"),
            cpaudit_core::registry::Message::new("请选择要上传的文件", "choose a file to upload"),
        )
    })?;
    Ok((file_name, bytes, fields))
}

pub async fn import_upload(
    State(state): State<AppState>,
    caller: Caller,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let (file_name, bytes, _) = read_upload(&state, &mut multipart).await?;
    let checked = registry_import::check_file(state.app(), principal, &file_name, &bytes).await?;
    let staged_id = registry_import::stage(state.app(), principal, &checked).await?;
    let report = ImportReport::shown(checked, caller.lang);
    let status = if report.invalid_rows > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render_with(
        status,
        &ImportPage {
            report: Some(report),
            staged_id,
            ..ImportPage::new(&caller)
        },
    ))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    id: String,
    mode: String,
}

pub async fn import_confirm(
    State(state): State<AppState>,
    caller: Caller,
    Input(form): Input<ConfirmForm>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let mode = registry_import::ImportMode::parse(&form.mode)?;
    let outcome = registry_import::confirm(state.app(), principal, &form.id, mode).await?;
    let Some(outcome) = outcome else {
        return Ok(render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ImportPage {
                alert: Some(caller.lang.texts().import_blocked.to_string()),
                ..ImportPage::new(&caller)
            },
        ));
    };
    Ok(render(&ImportPage {
        outcome: Some(outcome),
        ..ImportPage::new(&caller)
    }))
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    export_response(&state, &caller, &query, TableFormat::Xlsx).await
}

pub async fn export_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    export_response(&state, &caller, &query, TableFormat::Csv).await
}

#[derive(Template)]
#[template(path = "table.html")]
struct TablePage {
    ctx: Ctx,
    heading: &'static str,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

pub(crate) fn city_name(state: &AppState, lang: Lang, code: &str) -> String {
    state
        .reference()
        .jurisdictions
        .iter()
        .find(|j| j.code == code)
        .map(|j| lang.pick(&j.name_zh, &j.name_en).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub async fn park_list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let t = caller.lang.texts();
    let rows = state
        .db()
        .list_parks(principal.scope())
        .await?
        .into_iter()
        .map(|p| {
            vec![
                p.name,
                city_name(&state, caller.lang, &p.jurisdiction_code),
                p.members.to_string(),
            ]
        })
        .collect();
    Ok(render(&TablePage {
        ctx: Ctx::new(&caller),
        heading: t.parks,
        headers: vec![t.name, t.city, t.members],
        rows,
    }))
}

pub async fn consultancy_list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let t = caller.lang.texts();
    let rows = state
        .db()
        .list_consultancies(principal.scope())
        .await?
        .into_iter()
        .map(|c| {
            vec![
                c.name,
                c.credit_code,
                city_name(&state, caller.lang, &c.jurisdiction_code),
                c.contact,
            ]
        })
        .collect();
    Ok(render(&TablePage {
        ctx: Ctx::new(&caller),
        heading: t.consultancies,
        headers: vec![t.name, t.credit_code, t.city, t.contact],
        rows,
    }))
}
