//! Authentication and authorization, in one place: every route passes through [`authorize`],
//! which finds the caller (session cookie for pages, bearer token for the API), checks the
//! route's [`Access`], checks the CSRF token of state-changing page requests, and renders
//! errors in the caller's language.

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cpaudit_core::registry::Message;
use cpaudit_storage::auth::SessionKind;
use cpaudit_storage::{Principal, Role};

use std::sync::Arc;

use crate::action::PageOutcome;
use crate::error::{AppError, PageErrorMarker};
use crate::form::{self, Redisplay, Redisplayer};
use crate::i18n::Lang;
use crate::routes::{Access, Kind, RouteSpec};
use crate::AppState;

pub const SESSION_COOKIE: &str = "cpaudit_session";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Largest urlencoded form body read for the CSRF check (forms are small; uploads are multipart).
pub(crate) const MAX_FORM_BYTES: usize = 1024 * 1024;

tokio::task_local! {
    /// The language of the API request being served, for JSON error messages.
    pub static CURRENT_API_LANG: Lang;
}

/// Who is calling, as established by [`authorize`]; every handler can extract it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Option<Principal>,
    /// The session's CSRF token, put into every form.
    pub csrf: String,
    pub lang: Lang,
    /// The request path and query, for "log in and come back" and the language switch.
    pub path: String,
    /// Unread notices, for the badge in a page's header; none on the API and for callers who
    /// read no notices.
    pub unread_notices: Option<i64>,
    /// A refused form answered with its page again: the values and errors to show.
    pub redisplay: Option<Arc<Redisplay>>,
}

impl Caller {
    /// The principal of a route whose access rule requires one.
    pub fn principal(&self) -> Result<&Principal, AppError> {
        self.principal.as_ref().ok_or(AppError::Unauthorized)
    }

    pub fn has_role(&self, roles: &[Role]) -> bool {
        self.principal
            .as_ref()
            .is_some_and(|p| roles.contains(&p.role))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(AppError::Internal)
    }
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (a link from a notification e-mail still
/// arrives logged in; CSRF tokens guard the writes), Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The middleware around every route. `spec` is the route's own entry in the route table.
pub async fn authorize(
    State((state, spec)): State<(AppState, RouteSpec)>,
    request: Request,
    next: Next,
) -> Response {
    match spec.kind {
        Kind::Api => {
            let lang = Lang::from_accept_language(request.headers());
            CURRENT_API_LANG
                .scope(lang, authorize_api(state, spec, request, next, lang))
                .await
        }
        Kind::Page => authorize_page(state, spec, request, next).await,
    }
}

async fn authorize_api(
    state: AppState,
    spec: RouteSpec,
    mut request: Request,
    next: Next,
    lang: Lang,
) -> Response {
    let principal = match bearer_token(request.headers()) {
        Some(token) => match state
            .db()
            .session_principal(token, SessionKind::Bearer, state.now())
            .await
        {
            Ok(Some((principal, _))) => Some(principal),
            Ok(None) => return AppError::Unauthorized.into_json(lang),
            Err(error) => return AppError::from(error).into_json(lang),
        },
        None => None,
    };
    if let Err(error) = check_access(spec.access, principal.as_ref()) {
        return error.into_json(lang);
    }
    let path = request.uri().to_string();
    request.extensions_mut().insert(Caller {
        principal,
        csrf: String::new(),
        lang,
        path,
        unread_notices: None,
        redisplay: None,
    });
    let response = next.run(request).await;
    // An action's handler serves the page too and refuses with a page error: word it as JSON.
    if let Some(PageErrorMarker(error)) = response.extensions().get::<PageErrorMarker>().cloned() {
        return error.into_json(lang);
    }
    json_for_plain_rejections(response, lang).await
}

async fn authorize_page(
    state: AppState,
    spec: RouteSpec,
    request: Request,
    next: Next,
) -> Response {
    let lang = Lang::from_cookies(request.headers());
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let session = match cookie(request.headers(), SESSION_COOKIE) {
        Some(token) => state
            .db()
            .session_principal(&token, SessionKind::Cookie, state.now())
            .await
            .unwrap_or_else(|error| {
                tracing::error!(%error, "session lookup failed");
                None
            }),
        None => None,
    };
    let (principal, csrf) = match session {
        Some((principal, csrf)) => (Some(principal), csrf),
        None => (None, String::new()),
    };
    let unread_notices = match &principal {
        Some(principal) => crate::notices::unread_badge(&state, principal).await,
        None => None,
    };
    let mut caller = Caller {
        principal,
        csrf,
        lang,
        path: path.clone(),
        unread_notices,
        redisplay: request.extensions().get::<Arc<Redisplay>>().cloned(),
    };
    if let Err(error) = check_access(spec.access, caller.principal.as_ref()) {
        if matches!(error, AppError::Unauthorized) {
            let next_path =
                serde_urlencoded::to_string([("next", path.as_str())]).unwrap_or_default();
            return Redirect::to(&format!("/login?{next_path}")).into_response();
        }
        return crate::pages::error_page(&state, &caller, error);
    }
    let request = match check_csrf(&caller, request).await {
        Ok(request) => request,
        Err(error) => return crate::pages::error_page(&state, &caller, error),
    };
    let (mut request, submitted) = match submitted_form(request).await {
        Ok(read) => read,
        Err(error) => return crate::pages::error_page(&state, &caller, error),
    };
    let redisplayer = request.extensions().get::<Redisplayer>().cloned();
    let referer = request.headers().get(header::REFERER).cloned();
    let cookies = request.headers().get(header::COOKIE).cloned();
    let action = request.uri().path().to_string();
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    if let Some(PageErrorMarker(error)) = response.extensions().get::<PageErrorMarker>().cloned() {
        caller.lang = lang;
        let again = submitted
            .zip(redisplayer)
            .and_then(|(values, redisplayer)| {
                let page = form::page_of(&values, referer.as_ref())?;
                let redisplay = Redisplay::of(&action, values, &error, lang)?;
                Some((redisplayer, page, redisplay))
            });
        if let Some((redisplayer, page, redisplay)) = again {
            if let Some(response) = redisplayer.answer(&page, cookies, redisplay, &error).await {
                return response;
            }
        }
        return crate::pages::error_page(&state, &caller, error);
    }
    if is_plain_rejection(&response) {
        let status = response.status();
        let text = body_text(response).await;
        return crate::pages::error_page(&state, &caller, rejection_error(status, text));
    }
    // An action's handler serves the API too: a page goes on to where the action says.
    if let Some(PageOutcome(then)) = response.extensions().get::<PageOutcome>() {
        if response.status().is_success() {
            return Redirect::to(then).into_response();
        }
    }
    response
}

/// The values of a urlencoded form posted to a page, read from the body (which is put back),
/// to answer a refusal with the same form.
async fn submitted_form(
    request: Request,
) -> Result<(Request, Option<Vec<(String, String)>>), AppError> {
    let is_form = request.method() != Method::GET
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge {
            limit_bytes: MAX_FORM_BYTES,
        })?;
    let values = form_urlencoded::parse(&bytes).into_owned().collect();
    Ok((Request::from_parts(parts, Body::from(bytes)), Some(values)))
}

fn check_access(access: Access, principal: Option<&Principal>) -> Result<(), AppError> {
    match (access, principal) {
        (Access::Public, _) => Ok(()),
        (Access::Roles(_), None) => Err(AppError::Unauthorized),
        (Access::Roles(roles), Some(principal)) if roles.contains(&principal.role) => Ok(()),
        (Access::Roles(_), Some(_)) => Err(AppError::forbidden()),
    }
}

fn csrf_failure() -> AppError {
    AppError::Forbidden(Message::new(
        "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试",
        "The form expired or came from elsewhere (CSRF check failed); reload the page and retry",
    ))
}

/// State-changing page requests must carry the session's CSRF token (form field, query
/// parameter for multipart uploads, or header), and must not come from another origin.
async fn check_csrf(caller: &Caller, request: Request) -> Result<Request, AppError> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(request);
    }
    if cross_origin(request.headers()) {
        return Err(csrf_failure());
    }
    // Before login there is no session to protect; the origin check above still applies.
    if caller.principal.is_none() {
        return Ok(request);
    }
    let expected = caller.csrf.as_str();
    let matches = |token: &str| !expected.is_empty() && constant_time_eq(token, expected);
    if let Some(token) = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        return if matches(token) {
            Ok(request)
        } else {
            Err(csrf_failure())
        };
    }
    if let Some(token) = query_value(request.uri().query(), CSRF_FIELD) {
        return if matches(&token) {
            Ok(request)
        } else {
            Err(csrf_failure())
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(csrf_failure());
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge {
            limit_bytes: MAX_FORM_BYTES,
        })?;
    let token = query_value(std::str::from_utf8(&bytes).ok(), CSRF_FIELD);
    match token {
        Some(token) if matches(&token) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(csrf_failure()),
    }
}

fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A browser sends `Origin` on cross-site posts; it must name this host.
fn cross_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split("://").nth(1).unwrap_or("");
    origin == "null" || origin_host != host
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// axum's own extractor rejections are plain text; render them like every other error.
fn is_plain_rejection(response: &Response) -> bool {
    (response.status().is_client_error())
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"))
}

async fn body_text(response: Response) -> String {
    to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

fn rejection_error(status: StatusCode, text: String) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge { limit_bytes: 0 },
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            AppError::UnsupportedMediaType(Message::new(text.clone(), text))
        }
        _ => AppError::bad_request("bad_request", None, Message::new(text.clone(), text)),
    }
}

async fn json_for_plain_rejections(response: Response, lang: Lang) -> Response {
    if !is_plain_rejection(&response) {
        return response;
    }
    let status = response.status();
    let text = body_text(response).await;
    rejection_error(status, text).into_json(lang)
}
