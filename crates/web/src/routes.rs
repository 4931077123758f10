//! The route table: every route with its access rule. The router is built from this table,
//! so a route cannot exist without an access rule, and the authorization test walks it.

use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use cpaudit_storage::Role;

use crate::{api, pages, AppState};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// Logged-in users with one of these roles; data is further limited by their scope.
    Roles(&'static [Role]),
}

/// Whether a route serves pages (session cookie, CSRF tokens, HTML errors) or the API (bearer
/// token, JSON errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Page,
    Api,
}

pub const EVERYONE_LOGGED_IN: &[Role] = &Role::ALL;
pub const OFFICIALS: &[Role] = &[Role::Province, Role::City];
pub const PROVINCE: &[Role] = &[Role::Province];
/// Those who see enterprise records (each within its scope); experts see only their reviews.
pub const REGISTRY_READERS: &[Role] = &[
    Role::Province,
    Role::City,
    Role::Enterprise,
    Role::Consultancy,
];

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub kind: Kind,
}

type Handler = MethodRouter<AppState>;

fn page(
    method: Method,
    path: &'static str,
    access: Access,
    handler: Handler,
) -> (RouteSpec, Handler) {
    (
        RouteSpec {
            method,
            path,
            access,
            kind: Kind::Page,
        },
        handler,
    )
}

fn api(
    method: Method,
    path: &'static str,
    access: Access,
    handler: Handler,
) -> (RouteSpec, Handler) {
    (
        RouteSpec {
            method,
            path,
            access,
            kind: Kind::Api,
        },
        handler,
    )
}

/// Every route of the application.
pub fn table() -> Vec<(RouteSpec, Handler)> {
    use Access::{Public, Roles};
    use Method as M;
    vec![
        page(M::GET, "/", Public, get(pages::home)),
        page(M::GET, "/healthz", Public, get(pages::healthz)),
        page(M::GET, "/static/app.css", Public, get(pages::stylesheet)),
        page(M::GET, "/lang/{lang}", Public, get(pages::switch_language)),
        page(M::GET, "/login", Public, get(pages::login_form)),
        page(M::POST, "/login", Public, post(pages::login)),
        page(
            M::POST,
            "/logout",
            Roles(EVERYONE_LOGGED_IN),
            post(pages::logout),
        ),
        page(
            M::GET,
            "/enterprises",
            Roles(REGISTRY_READERS),
            get(pages::enterprise_list),
        ),
        page(
            M::POST,
            "/enterprises",
            Roles(OFFICIALS),
            post(pages::enterprise_create),
        ),
        page(
            M::GET,
            "/enterprises/new",
            Roles(OFFICIALS),
            get(pages::enterprise_new),
        ),
        page(
            M::GET,
            "/enterprises/export.xlsx",
            Roles(REGISTRY_READERS),
            get(pages::export_xlsx),
        ),
        page(
            M::GET,
            "/enterprises/export.csv",
            Roles(REGISTRY_READERS),
            get(pages::export_csv),
        ),
        page(
            M::GET,
            "/enterprises/import",
            Roles(OFFICIALS),
            get(pages::import_form),
        ),
        page(
            M::POST,
            "/enterprises/import",
            Roles(OFFICIALS),
            post(pages::import_upload),
        ),
        page(
            M::POST,
            "/enterprises/import/confirm",
            Roles(OFFICIALS),
            post(pages::import_confirm),
        ),
        page(
            M::GET,
            "/enterprises/{id}",
            Roles(REGISTRY_READERS),
            get(pages::enterprise_detail),
        ),
        page(
            M::GET,
            "/enterprises/{id}/edit",
            Roles(OFFICIALS),
            get(pages::enterprise_edit),
        ),
        page(
            M::POST,
            "/enterprises/{id}/edit",
            Roles(OFFICIALS),
            post(pages::enterprise_update),
        ),
        page(M::GET, "/parks", Roles(OFFICIALS), get(pages::park_list)),
        page(
            M::GET,
            "/consultancies",
            Roles(OFFICIALS),
            get(pages::consultancy_list),
        ),
        page(M::GET, "/experts", Roles(PROVINCE), get(pages::expert_list)),
        api(
            M::POST,
            "/api/v1/auth/token",
            Public,
            post(api::issue_token),
        ),
        api(
            M::GET,
            "/api/v1/openapi.json",
            Public,
            get(api::openapi_json),
        ),
        api(
            M::GET,
            "/api/v1/jurisdictions",
            Public,
            get(api::jurisdictions),
        ),
        api(M::GET, "/api/v1/industries", Public, get(api::industries)),
        api(
            M::GET,
            "/api/v1/enterprises",
            Roles(REGISTRY_READERS),
            get(api::list_enterprises),
        ),
        api(
            M::POST,
            "/api/v1/enterprises",
            Roles(OFFICIALS),
            post(api::create_enterprise),
        ),
        api(
            M::POST,
            "/api/v1/enterprises/import",
            Roles(OFFICIALS),
            post(api::import_enterprises),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/export.xlsx",
            Roles(REGISTRY_READERS),
            get(api::export_xlsx),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/export.csv",
            Roles(REGISTRY_READERS),
            get(api::export_csv),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/{id}",
            Roles(REGISTRY_READERS),
            get(api::get_enterprise),
        ),
        api(
            M::PATCH,
            "/api/v1/enterprises/{id}",
            Roles(OFFICIALS),
            axum::routing::patch(api::update_enterprise),
        ),
    ]
}

/// The route list without handlers, for tests and documentation.
pub fn specs() -> Vec<RouteSpec> {
    table().into_iter().map(|(spec, _)| spec).collect()
}
