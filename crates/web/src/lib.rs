//! The web layer of cpaudit: server-rendered pages (askama, no JavaScript needed), the JSON
//! API under `/api/v1/` with its OpenAPI document, and the authorization that guards both.
#![forbid(unsafe_code)]

pub mod action;
pub mod api;
pub mod auth;
mod chart;
pub mod consultancies;
pub mod cycle;
pub mod documents;
pub mod draws;
pub mod enforcement;
pub mod error;
mod evidence;
pub mod experts;
pub mod form;
mod history;
pub mod i18n;
pub mod listing;
pub mod monitoring;
pub mod notices;
pub mod options;
mod pages;
mod parks;
mod public;
pub mod registry;
pub mod reviews;
pub mod rounds;
pub mod routes;
mod rows;
pub mod views;
mod work;

use std::sync::{Arc, OnceLock};

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::Router;
use chrono::{DateTime, Utc};
use cpaudit_app::App;
use cpaudit_core::emission_limits::EmissionLimits;
use cpaudit_core::periods::HolidayCalendar;
use cpaudit_core::reference::ReferenceData;
use cpaudit_core::rules::RuleBook;
use cpaudit_storage::auth::Throttle;
use cpaudit_storage::Db;
use tower_http::trace::TraceLayer;

/// Settings of the web layer (the binary fills them from config).
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Largest accepted upload, in bytes.
    pub max_upload_bytes: usize,
    /// Largest document (report, evidence, opinion) filed on an audit round, in bytes. Only the
    /// document upload routes allow a body this large.
    pub max_document_bytes: usize,
    /// How long a login lasts.
    pub session_lifetime: chrono::Duration,
    /// Mark cookies `Secure` (set when served over HTTPS, e.g. behind a TLS proxy).
    pub secure_cookies: bool,
    pub throttle: Throttle,
    /// A monitoring device not heard from for longer than this is offline (design default: two
    /// hours, twice the hourly data interval, so one late hourly packet does not flip it).
    pub device_offline_after: chrono::Duration,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            max_upload_bytes: 20 * 1024 * 1024,
            max_document_bytes: 50 * 1024 * 1024,
            session_lifetime: chrono::Duration::hours(12),
            secure_cookies: false,
            throttle: Throttle::default(),
            device_offline_after: chrono::Duration::hours(2),
        }
    }
}

/// Renders counters in the Prometheus text format (the HJ 212 receiver's, passed in by the
/// binary, so that this crate does not depend on the receiver).
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

struct Inner {
    app: App,
    metrics: OnceLock<MetricsRenderer>,
    settings: WebSettings,
}

/// Shared state of all handlers: the application layer beneath and the web's own settings.
/// Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub fn new(app: App, settings: WebSettings) -> Self {
        AppState(Arc::new(Inner {
            app,
            metrics: OnceLock::new(),
            settings,
        }))
    }

    /// The application layer the handlers call.
    pub fn app(&self) -> &App {
        &self.0.app
    }

    pub fn db(&self) -> &Db {
        self.0.app.db()
    }

    /// Installs what `GET /metrics` serves; the first one installed stays.
    pub fn set_metrics(&self, render: MetricsRenderer) {
        let _ = self.0.metrics.set(render);
    }

    /// The counters for `GET /metrics`: empty when no receiver runs.
    pub fn metrics_text(&self) -> String {
        self.0
            .metrics
            .get()
            .map(|render| render())
            .unwrap_or_default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.app.now()
    }

    pub fn settings(&self) -> &WebSettings {
        &self.0.settings
    }

    pub fn reference(&self) -> &ReferenceData {
        self.0.app.reference()
    }

    /// The legal parameters in force (deadlines, intervals, calendar dates).
    pub fn rules(&self) -> &RuleBook {
        self.0.app.rules()
    }

    /// The national emission limits online-monitoring data is judged against.
    pub fn emission_limits(&self) -> &EmissionLimits {
        self.0.app.emission_limits()
    }

    /// The State Council's holiday arrangements, for the Civil Code's period rule.
    pub fn calendar(&self) -> &HolidayCalendar {
        self.0.app.calendar()
    }

    /// Today in China Standard Time, the day legal dates are counted in.
    pub fn today(&self) -> chrono::NaiveDate {
        self.0.app.today()
    }
}

/// The pages' GET routes alone, behind [`auth::authorize`]: what a refused form is answered
/// with (see [`form`]).
fn page_reads(state: &AppState) -> Router {
    let mut router = Router::new();
    for (spec, handler) in routes::table() {
        if spec.kind == routes::Kind::Page && spec.method == axum::http::Method::GET {
            let path = spec.path.clone();
            router = router.route(
                &path,
                handler.route_layer(from_fn_with_state((state.clone(), spec), auth::authorize)),
            );
        }
    }
    router.with_state(state.clone())
}

/// The application: every route of [`routes::table`] behind [`auth::authorize`].
pub fn app(state: AppState) -> Router {
    // Uploads are checked against the configured limit; the extra room is for the multipart
    // envelope, so the file itself may be as large as the limit says.
    let envelope = 64 * 1024;
    let body_limit = state.settings().max_upload_bytes + envelope;
    let document_limit = state.settings().max_document_bytes + envelope;
    let mut router = Router::new();
    let redisplayer = form::Redisplayer(page_reads(&state));
    for (spec, handler) in routes::table() {
        let path = spec.path.clone();
        let is_document_upload = spec.method == axum::http::Method::POST
            && documents::UPLOAD_PATHS.contains(&path.as_str());
        let mut guarded =
            handler.route_layer(from_fn_with_state((state.clone(), spec), auth::authorize));
        if is_document_upload {
            // The route's own limit replaces the router's for this route alone.
            guarded = guarded.layer(DefaultBodyLimit::max(document_limit));
        }
        router = router.route(&path, guarded);
    }
    let router = router
        .fallback(pages::not_found)
        .layer(axum::Extension(redisplayer));
    with_security_headers(router)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            // The path only: query strings may carry CSRF tokens or search terms.
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

/// Headers every answer carries unless it sets its own: no sniffing, no framing, no referrer
/// to other sites, and a policy that lets pages load nothing but this site's own files (the
/// pages use no script, and no style outside the stylesheet).
fn with_security_headers(router: Router<AppState>) -> Router<AppState> {
    use axum::http::{header, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer;
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}
