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
/// Officials, and a consultancy for its own record (checked in the handler).
pub const CONSULTANCY_READERS: &[Role] = &[Role::Province, Role::City, Role::Consultancy];
/// Officials, and an enterprise for itself (checked in storage).
pub const ENTERPRISE_ACTORS: &[Role] = &[Role::Province, Role::City, Role::Enterprise];
/// Those who file a round's documents (which kinds, and on which rounds, is checked in storage).
pub const DOCUMENT_FILERS: &[Role] = &[
    Role::Province,
    Role::City,
    Role::Enterprise,
    Role::Consultancy,
];
/// Those who see enterprise records (each within its scope); experts see only their reviews.
pub const REGISTRY_READERS: &[Role] = &[
    Role::Province,
    Role::City,
    Role::Enterprise,
    Role::Consultancy,
];

/// Where a person takes, in a browser, a write the API offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFor {
    /// The page route ("METHOD path") through which every role the API route admits takes it.
    Page(&'static str),
    /// Deliberately without a page, and why.
    ApiOnly(&'static str),
}

/// Every write of the API ("METHOD path") that is not declared once as an action (whose page
/// is its twin) and its page; a test checks that the list names every other API write, and
/// that each page exists and admits every role its API route admits.
pub const API_WRITES: &[(&str, PageFor)] = &[
    (
        "POST /api/v1/auth/token",
        PageFor::ApiOnly("a bearer token is for programs; people sign in on the login page"),
    ),
    (
        "POST /api/v1/enterprises",
        PageFor::Page("POST /enterprises"),
    ),
    (
        "PATCH /api/v1/enterprises/{id}",
        PageFor::Page("POST /enterprises/{id}/edit"),
    ),
    (
        "POST /api/v1/enterprises/import",
        PageFor::Page("POST /enterprises/import"),
    ),
    (
        "POST /api/v1/enterprises/{id}/evidence",
        PageFor::Page("POST /enterprises/{id}/evidence"),
    ),
    (
        "POST /api/v1/evidence/{id}/decision",
        PageFor::Page("POST /evidence/{id}/decision"),
    ),
    (
        "POST /api/v1/evidence/import",
        PageFor::Page("POST /evidence/import"),
    ),
    (
        "POST /api/v1/rounds/import",
        PageFor::Page("POST /rounds/import"),
    ),
    (
        "POST /api/v1/library",
        PageFor::Page("POST /enterprises/{id}/library"),
    ),
    (
        "PUT /api/v1/consultancies/{id}/art16",
        PageFor::Page("POST /consultancies/{id}/art16"),
    ),
    (
        "POST /api/v1/consultancies/{id}/documents",
        PageFor::Page("POST /consultancies/{id}/documents"),
    ),
    ("POST /api/v1/experts", PageFor::Page("POST /experts")),
    (
        "PUT /api/v1/rounds/{id}/disclosure",
        PageFor::Page("POST /rounds/{id}/disclosure"),
    ),
    (
        "POST /api/v1/rounds/{id}/documents",
        PageFor::Page("POST /rounds/{id}/documents"),
    ),
    (
        "POST /api/v1/reviews/{id}/scores",
        PageFor::Page("POST /reviews/{id}/score"),
    ),
    (
        "POST /api/v1/rounds/{id}/options",
        PageFor::Page("POST /rounds/{id}/options"),
    ),
    (
        "POST /api/v1/rounds/{id}/options/import",
        PageFor::Page("POST /rounds/{id}/options/import"),
    ),
    (
        "PUT /api/v1/rounds/{id}/options/{option}",
        PageFor::Page("POST /rounds/{id}/options/{option}/edit"),
    ),
    (
        "DELETE /api/v1/rounds/{id}/options/{option}",
        PageFor::Page("POST /rounds/{id}/options/{option}/delete"),
    ),
    (
        "POST /api/v1/rounds/{id}/options/{option}/status",
        PageFor::Page("POST /rounds/{id}/options/{option}/status"),
    ),
    (
        "PUT /api/v1/rounds/{id}/options/{option}/expected",
        PageFor::Page("POST /rounds/{id}/options/{option}/edit"),
    ),
    (
        "PUT /api/v1/rounds/{id}/options/{option}/verified",
        PageFor::Page("POST /rounds/{id}/options/{option}/verified"),
    ),
    (
        "PUT /api/v1/devices/{device}/settings",
        PageFor::Page("POST /monitoring/devices/{device}/settings"),
    ),
];

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub kind: Kind,
    /// For an action declared once: the other route ("METHOD path") of the same handler.
    pub twin: Option<String>,
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
            twin: None,
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
            twin: None,
        },
        handler,
    )
}

/// One action declared once: a page route and an API route served by the same handler under
/// one access rule (see [`crate::action`]).
fn action<H, T>(
    access: Access,
    (page_method, page_path): (Method, &'static str),
    (api_method, api_path): (Method, &'static str),
    handler: H,
) -> [(RouteSpec, Handler); 2]
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    let route = |method: &Method| {
        let filter = axum::routing::MethodFilter::try_from(method.clone())
            .expect("actions use the methods axum routes");
        axum::routing::on(filter, handler.clone())
    };
    let spec = |method: &Method, path, kind, twin: String| RouteSpec {
        method: method.clone(),
        path,
        access,
        kind,
        twin: Some(twin),
    };
    [
        (
            spec(
                &page_method,
                page_path,
                Kind::Page,
                format!("{api_method} {api_path}"),
            ),
            route(&page_method),
        ),
        (
            spec(
                &api_method,
                api_path,
                Kind::Api,
                format!("{page_method} {page_path}"),
            ),
            route(&api_method),
        ),
    ]
}

/// The actions declared once, each with its page and its API route.
fn actions() -> Vec<(RouteSpec, Handler)> {
    use Access::Roles;
    use Method as M;
    [
        action(
            Roles(REGISTRY_READERS),
            (M::POST, "/notices/{id}/read"),
            (M::POST, "/api/v1/notices/{id}/read"),
            crate::notices::mark_read,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/sanctions/{id}/lift"),
            (M::POST, "/api/v1/sanctions/{id}/lift"),
            crate::consultancies::lift,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/draws/{id}/finish"),
            (M::POST, "/api/v1/draws/{id}/finish"),
            crate::draws::finish,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/monitoring/quarantine/{mn}/discard"),
            (M::POST, "/api/v1/monitoring/quarantine/{mn}/discard"),
            crate::monitoring::discard,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/rounds/{id}/secret-claims/{item}/reject"),
            (M::POST, "/api/v1/rounds/{id}/secret-claims/{item}/reject"),
            crate::rounds::reject_claim,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/experts/{id}/actions"),
            (M::POST, "/api/v1/experts/{id}/actions"),
            crate::experts::expert_action,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/experts/{id}/employment"),
            (M::POST, "/api/v1/experts/{id}/employment"),
            crate::experts::employment,
        ),
        action(
            Roles(&[Role::Expert]),
            (M::POST, "/experts/me/declarations"),
            (M::POST, "/api/v1/experts/me/declarations"),
            crate::experts::declaration,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/lists/{id}/letters"),
            (M::POST, "/api/v1/lists/{id}/letters"),
            crate::listing::issue_letters,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/letters/{id}/delivery"),
            (M::POST, "/api/v1/letters/{id}/delivery"),
            crate::listing::delivery,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/rounds/{id}/enforcement"),
            (M::POST, "/api/v1/rounds/{id}/enforcement"),
            crate::enforcement::decide,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/enforcement/{id}/outcome"),
            (M::POST, "/api/v1/enforcement/{id}/outcome"),
            crate::enforcement::outcome,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/plans/{city}/{year}"),
            (M::POST, "/api/v1/plans/{city}/{year}"),
            crate::listing::plan_save,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/plans/{city}/{year}/moves"),
            (M::POST, "/api/v1/plans/{city}/{year}/moves"),
            crate::listing::plan_move,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/parks/{id}/audit/assessment"),
            (M::POST, "/api/v1/parks/{id}/audit/assessment"),
            crate::parks::assessment,
        ),
        action(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/actions"),
            (M::POST, "/api/v1/rounds/{id}/actions"),
            crate::rounds::round_action,
        ),
        action(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/start"),
            (M::PUT, "/api/v1/rounds/{id}/start"),
            crate::rounds::save_start,
        ),
        action(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/phases"),
            (M::PUT, "/api/v1/rounds/{id}/phases"),
            crate::rounds::record_phase,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/monitoring/quarantine/{mn}/assign"),
            (M::POST, "/api/v1/monitoring/quarantine/{mn}/assign"),
            crate::monitoring::assign_mn,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/consultancies/{id}/sanctions"),
            (M::POST, "/api/v1/consultancies/{id}/sanctions"),
            crate::consultancies::sanction,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/draws"),
            (M::POST, "/api/v1/draws"),
            crate::draws::freeze,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/draws/{id}/run"),
            (M::POST, "/api/v1/draws/{id}/run"),
            crate::draws::run,
        ),
        action(
            Roles(&[Role::Expert]),
            (M::POST, "/draws/{id}/response"),
            (M::POST, "/api/v1/draws/{id}/response"),
            crate::draws::respond,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/plans/{city}/{year}/actions"),
            (M::POST, "/api/v1/plans/{city}/{year}/actions"),
            crate::listing::plan_action,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/lists"),
            (M::POST, "/api/v1/lists"),
            crate::listing::publish_list,
        ),
        action(
            Roles(PROVINCE),
            (M::POST, "/lists/{id}/corrections"),
            (M::POST, "/api/v1/lists/{id}/corrections"),
            crate::listing::correct_list,
        ),
        action(
            Roles(ENTERPRISE_ACTORS),
            (M::POST, "/enterprises/{id}/engagements"),
            (M::POST, "/api/v1/enterprises/{id}/engagements"),
            crate::consultancies::engagement,
        ),
        action(
            Roles(OFFICIALS),
            (M::POST, "/parks/{id}/audit"),
            (M::PUT, "/api/v1/parks/{id}/audit"),
            crate::parks::save_pilot,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every route of the application.
pub fn table() -> Vec<(RouteSpec, Handler)> {
    let mut routes = single_routes();
    routes.extend(actions());
    routes
}

/// The routes that are a page or an API route alone (or whose page and API still have a
/// handler each).
fn single_routes() -> Vec<(RouteSpec, Handler)> {
    use Access::{Public, Roles};
    use Method as M;
    vec![
        page(M::GET, "/", Public, get(pages::home)),
        page(M::GET, "/healthz", Public, get(pages::healthz)),
        page(M::GET, "/metrics", Public, get(pages::metrics)),
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
        // Public information: the published lists (pages, open-data downloads, data
        // dictionary, API) and the rule book. Published lists and the law are public.
        page(
            M::GET,
            "/public/lists",
            Public,
            get(crate::public::lists_page),
        ),
        page(
            M::GET,
            "/public/lists/{id}",
            Public,
            get(crate::public::list_page),
        ),
        page(
            M::GET,
            "/public/lists/{id}/entries.csv",
            Public,
            get(crate::public::entries_csv),
        ),
        page(
            M::GET,
            "/public/lists/{id}/entries.xlsx",
            Public,
            get(crate::public::entries_xlsx),
        ),
        page(
            M::GET,
            "/public/lists/{id}/entries.json",
            Public,
            get(crate::public::entries_json),
        ),
        page(
            M::GET,
            "/public/data-dictionary",
            Public,
            get(crate::public::dictionary_page),
        ),
        page(
            M::GET,
            "/public/data-dictionary.json",
            Public,
            get(crate::public::dictionary_json),
        ),
        page(M::GET, "/rules", Public, get(crate::public::rules_page)),
        page(M::GET, "/rules/{id}", Public, get(crate::public::rule_page)),
        api(
            M::GET,
            "/api/v1/public/lists",
            Public,
            get(crate::public::api_lists),
        ),
        api(
            M::GET,
            "/api/v1/public/lists/{id}",
            Public,
            get(crate::public::api_list),
        ),
        api(
            M::GET,
            "/api/v1/rules",
            Public,
            get(crate::public::api_rules),
        ),
        api(
            M::GET,
            "/api/v1/rules/{id}",
            Public,
            get(crate::public::api_rule),
        ),
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
        // Evidence and past audit rounds. Readers see an enterprise's evidence within their
        // scope; officials enter and import; only an official of the enterprise's city decides
        // on candidates (checked in the handlers, as it depends on the enterprise).
        page(
            M::GET,
            "/enterprises/{id}/evidence",
            Roles(REGISTRY_READERS),
            get(crate::evidence::enterprise_evidence),
        ),
        page(
            M::POST,
            "/enterprises/{id}/evidence",
            Roles(OFFICIALS),
            post(crate::evidence::add_evidence),
        ),
        page(
            M::GET,
            "/evidence",
            Roles(OFFICIALS),
            get(crate::evidence::queue),
        ),
        page(
            M::POST,
            "/evidence/{id}/decision",
            Roles(OFFICIALS),
            post(crate::evidence::decide),
        ),
        page(
            M::GET,
            "/evidence/import",
            Roles(OFFICIALS),
            get(crate::evidence::import_evidence_form),
        ),
        page(
            M::POST,
            "/evidence/import",
            Roles(OFFICIALS),
            post(crate::evidence::import_evidence),
        ),
        page(
            M::GET,
            "/evidence/import/template.xlsx",
            Roles(OFFICIALS),
            get(crate::evidence::evidence_template),
        ),
        page(
            M::GET,
            "/rounds/import",
            Roles(OFFICIALS),
            get(crate::evidence::import_rounds_form),
        ),
        page(
            M::POST,
            "/rounds/import",
            Roles(OFFICIALS),
            post(crate::evidence::import_rounds),
        ),
        page(
            M::GET,
            "/rounds/import/template.xlsx",
            Roles(OFFICIALS),
            get(crate::evidence::rounds_template),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/{id}/evidence",
            Roles(REGISTRY_READERS),
            get(crate::evidence::api_enterprise_evidence),
        ),
        api(
            M::POST,
            "/api/v1/enterprises/{id}/evidence",
            Roles(OFFICIALS),
            post(crate::evidence::api_add_evidence),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/{id}/rounds",
            Roles(REGISTRY_READERS),
            get(crate::evidence::api_enterprise_rounds),
        ),
        api(
            M::GET,
            "/api/v1/evidence",
            Roles(OFFICIALS),
            get(crate::evidence::api_list_evidence),
        ),
        api(
            M::POST,
            "/api/v1/evidence/{id}/decision",
            Roles(OFFICIALS),
            post(crate::evidence::api_decide),
        ),
        api(
            M::POST,
            "/api/v1/evidence/import",
            Roles(OFFICIALS),
            post(crate::evidence::api_import_evidence),
        ),
        api(
            M::POST,
            "/api/v1/rounds/import",
            Roles(OFFICIALS),
            post(crate::evidence::api_import_rounds),
        ),
        // The yearly cycle: determination with its "why", the 名单管理库, the cities' plans
        // and the province's review, publication, corrections and written notifications.
        // Who may act within these (city vs province) depends on the record: the handlers and
        // storage check it.
        page(
            M::GET,
            "/enterprises/{id}/determination",
            Roles(REGISTRY_READERS),
            get(crate::listing::determination_page),
        ),
        page(
            M::POST,
            "/enterprises/{id}/library",
            Roles(OFFICIALS),
            post(crate::listing::library_change_form),
        ),
        page(
            M::GET,
            "/library",
            Roles(OFFICIALS),
            get(crate::listing::library_page),
        ),
        page(
            M::GET,
            "/library/export.xlsx",
            Roles(OFFICIALS),
            get(crate::listing::library_export),
        ),
        page(
            M::POST,
            "/library/sync",
            Roles(OFFICIALS),
            post(crate::listing::library_sync),
        ),
        page(
            M::GET,
            "/plans",
            Roles(OFFICIALS),
            get(crate::listing::plans_page),
        ),
        page(
            M::GET,
            "/plans/{city}/{year}",
            Roles(OFFICIALS),
            get(crate::listing::plan_page),
        ),
        page(
            M::GET,
            "/lists",
            Roles(OFFICIALS),
            get(crate::listing::lists_page),
        ),
        page(
            M::GET,
            "/lists/{id}",
            Roles(OFFICIALS),
            get(crate::listing::list_page),
        ),
        page(
            M::GET,
            "/letters/{id}",
            Roles(REGISTRY_READERS),
            get(crate::listing::letter_page),
        ),
        page(
            M::GET,
            "/letters/{id}/letter.docx",
            Roles(REGISTRY_READERS),
            get(crate::listing::letter_docx),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/{id}/determination",
            Roles(REGISTRY_READERS),
            get(crate::listing::api_determination),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/{id}/listings",
            Roles(REGISTRY_READERS),
            get(crate::listing::api_listings),
        ),
        api(
            M::GET,
            "/api/v1/library",
            Roles(OFFICIALS),
            get(crate::listing::api_library),
        ),
        api(
            M::POST,
            "/api/v1/library",
            Roles(OFFICIALS),
            post(crate::listing::api_library_change),
        ),
        api(
            M::GET,
            "/api/v1/plans/{city}/{year}",
            Roles(OFFICIALS),
            get(crate::listing::api_plan),
        ),
        // Consultancies: Art. 16 evidence, scorecard, sanctions (province), engagements
        // (refused while blacklisted), and the public blacklist.
        page(
            M::GET,
            "/consultancies/{id}",
            Roles(CONSULTANCY_READERS),
            get(crate::consultancies::consultancy_page),
        ),
        page(
            M::GET,
            "/public/blacklist",
            Public,
            get(crate::consultancies::blacklist_page),
        ),
        api(
            M::GET,
            "/api/v1/consultancies/{id}",
            Roles(CONSULTANCY_READERS),
            get(crate::consultancies::api_consultancy),
        ),
        api(
            M::PUT,
            "/api/v1/consultancies/{id}/art16",
            Roles(&[Role::Province, Role::Consultancy]),
            axum::routing::put(crate::consultancies::api_file_art16),
        ),
        api(
            M::GET,
            "/api/v1/public/blacklist",
            Public,
            get(crate::consultancies::api_blacklist),
        ),
        // The expert pool (crates/web/src/experts.rs): the province manages it; an expert
        // sees its own record and declares its conflicts.
        page(
            M::GET,
            "/experts",
            Roles(PROVINCE),
            get(crate::experts::pool_page),
        ),
        page(
            M::POST,
            "/experts",
            Roles(PROVINCE),
            post(crate::experts::apply_form),
        ),
        page(
            M::GET,
            "/experts/evaluation",
            Roles(PROVINCE),
            get(crate::experts::evaluation_page),
        ),
        page(
            M::GET,
            "/experts/me",
            Roles(&[Role::Expert]),
            get(crate::experts::me_page),
        ),
        page(
            M::GET,
            "/experts/{id}",
            Roles(PROVINCE),
            get(crate::experts::expert_page),
        ),
        api(
            M::GET,
            "/api/v1/experts",
            Roles(PROVINCE),
            get(crate::experts::api_pool),
        ),
        api(
            M::POST,
            "/api/v1/experts",
            Roles(PROVINCE),
            post(crate::experts::api_apply),
        ),
        api(
            M::GET,
            "/api/v1/experts/evaluation",
            Roles(PROVINCE),
            get(crate::experts::api_evaluation),
        ),
        api(
            M::GET,
            "/api/v1/experts/me",
            Roles(&[Role::Expert]),
            get(crate::experts::api_me),
        ),
        api(
            M::GET,
            "/api/v1/experts/{id}",
            Roles(PROVINCE),
            get(crate::experts::api_expert),
        ),
        // Expert panel draws: the organizer (province or city, checked against the
        // enterprise) freezes and runs; the drawn expert answers; anyone reads the record.
        api(
            M::GET,
            "/api/v1/draws/assignments",
            Roles(&[Role::Expert]),
            get(crate::draws::api_my_assignments),
        ),
        api(
            M::GET,
            "/api/v1/public/draws",
            Public,
            get(crate::draws::api_public_draws),
        ),
        page(
            M::GET,
            "/public/draws",
            Public,
            get(crate::draws::public_draws_page),
        ),
        api(
            M::GET,
            "/api/v1/public/draws/{id}",
            Public,
            get(crate::draws::api_public_draw),
        ),
        page(
            M::GET,
            "/public/draws/{id}",
            Public,
            get(crate::draws::public_draw_page),
        ),
        // ---- panel draws as pages: the organizer freezes, runs and finishes; experts answer ----
        page(
            M::GET,
            "/draws/{id}",
            Roles(OFFICIALS),
            get(crate::draws::draw_page),
        ),
        // ---- a consultancy's Art. 16 documents (crates/web/src/consultancies.rs) ----
        page(
            M::POST,
            "/consultancies/{id}/art16",
            Roles(&[Role::Province, Role::Consultancy]),
            post(crate::consultancies::art16_form),
        ),
        page(
            M::POST,
            "/consultancies/{id}/documents",
            Roles(&[Role::Province, Role::Consultancy]),
            post(crate::consultancies::upload_document_form),
        ),
        api(
            M::POST,
            "/api/v1/consultancies/{id}/documents",
            Roles(&[Role::Province, Role::Consultancy]),
            post(crate::consultancies::api_upload_document),
        ),
        page(
            M::GET,
            "/consultancy-documents/{id}/download",
            Roles(CONSULTANCY_READERS),
            get(crate::consultancies::download_document),
        ),
        // ---- park pilots ----
        page(
            M::GET,
            "/parks/{id}",
            Roles(OFFICIALS),
            get(crate::parks::park_page),
        ),
        api(
            M::GET,
            "/api/v1/parks/{id}/audits",
            Roles(OFFICIALS),
            get(crate::parks::api_audits),
        ),
        // ---- audit rounds ----
        page(
            M::GET,
            "/work",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::work::work_page),
        ),
        api(
            M::GET,
            "/api/v1/work",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::work::api_work),
        ),
        page(
            M::GET,
            "/rounds",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::rounds::rounds_page),
        ),
        page(
            M::GET,
            "/rounds.xlsx",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::rounds::rounds_xlsx),
        ),
        page(
            M::GET,
            "/rounds/{id}",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::rounds::round_page),
        ),
        page(
            M::GET,
            "/rounds/{id}/disclosure",
            Roles(REGISTRY_READERS),
            get(crate::rounds::disclosure_page),
        ),
        page(
            M::POST,
            "/rounds/{id}/disclosure",
            Roles(REGISTRY_READERS),
            post(crate::rounds::disclosure_form),
        ),
        api(
            M::GET,
            "/api/v1/rounds",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::rounds::api_rounds),
        ),
        api(
            M::GET,
            "/api/v1/rounds/{id}",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::rounds::api_round),
        ),
        api(
            M::PUT,
            "/api/v1/rounds/{id}/disclosure",
            Roles(REGISTRY_READERS),
            axum::routing::put(crate::rounds::api_save_disclosure),
        ),
        page(
            M::GET,
            "/public/disclosures",
            Public,
            get(crate::rounds::public_disclosures_page),
        ),
        page(
            M::GET,
            "/public/disclosures/{round_id}",
            Public,
            get(crate::rounds::public_disclosure_page),
        ),
        api(
            M::GET,
            "/api/v1/public/disclosures",
            Public,
            get(crate::rounds::api_public_disclosures),
        ),
        api(
            M::GET,
            "/api/v1/public/disclosures/{round_id}",
            Public,
            get(crate::rounds::api_public_disclosure),
        ),
        // A round's documents (crates/web/src/documents.rs): read by everyone the round's scope
        // covers (an expert once seated on its panel); filed by the audit team and officials.
        page(
            M::GET,
            "/rounds/{id}/documents",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::documents::documents_page_get),
        ),
        page(
            M::POST,
            "/rounds/{id}/documents",
            Roles(DOCUMENT_FILERS),
            post(crate::documents::upload_form),
        ),
        page(
            M::GET,
            "/documents/{id}/download",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::documents::download),
        ),
        api(
            M::GET,
            "/api/v1/rounds/{id}/documents",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::documents::api_round_documents),
        ),
        api(
            M::POST,
            "/api/v1/rounds/{id}/documents",
            Roles(DOCUMENT_FILERS),
            post(crate::documents::api_upload),
        ),
        api(
            M::GET,
            "/api/v1/documents/{id}/content",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::documents::api_content),
        ),
        // Notices of round deadlines (crates/web/src/notices.rs): each reader sees those
        // addressed to it within its scope; officials read the overdue list.
        page(
            M::GET,
            "/notices",
            Roles(REGISTRY_READERS),
            get(crate::notices::notices_page),
        ),
        page(
            M::GET,
            "/overdue/export.xlsx",
            Roles(OFFICIALS),
            get(crate::notices::overdue_xlsx_page),
        ),
        api(
            M::GET,
            "/api/v1/notices",
            Roles(REGISTRY_READERS),
            get(crate::notices::api_notices),
        ),
        api(
            M::GET,
            "/api/v1/overdue",
            Roles(OFFICIALS),
            get(crate::notices::api_overdue),
        ),
        api(
            M::GET,
            "/api/v1/overdue/export.xlsx",
            Roles(OFFICIALS),
            get(crate::notices::api_overdue_xlsx),
        ),
        // Reviews (crates/web/src/reviews.rs): anyone whose scope covers the round reads the
        // review (what they see is decided there); a seated expert scores; the public list
        // shows decided reviews only.
        page(
            M::GET,
            "/reviews/{id}",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::reviews::review_page),
        ),
        page(
            M::GET,
            "/reviews/{id}/score",
            Roles(&[Role::Expert]),
            get(crate::reviews::score_page),
        ),
        page(
            M::POST,
            "/reviews/{id}/score",
            Roles(&[Role::Expert]),
            post(crate::reviews::score_form),
        ),
        page(
            M::GET,
            "/reviews/{id}/opinion",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::reviews::opinion_page),
        ),
        page(
            M::GET,
            "/reviews/{id}/opinion.docx",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::reviews::opinion_docx),
        ),
        api(
            M::GET,
            "/api/v1/reviews/{id}",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::reviews::api_review),
        ),
        api(
            M::POST,
            "/api/v1/reviews/{id}/scores",
            Roles(&[Role::Expert]),
            post(crate::reviews::api_submit),
        ),
        page(
            M::GET,
            "/public/reviews",
            Public,
            get(crate::reviews::public_reviews_page),
        ),
        api(
            M::GET,
            "/api/v1/public/reviews",
            Public,
            get(crate::reviews::api_public_reviews),
        ),
        // Cleaner production options of a round (crates/web/src/options.rs): whoever reads the
        // round reads them; the round's filers and the review organizer write, each only in its
        // window of the round (checked in the handlers against the round).
        page(
            M::GET,
            "/rounds/{id}/options",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::options::page),
        ),
        page(
            M::POST,
            "/rounds/{id}/options",
            Roles(REGISTRY_READERS),
            post(crate::options::add_form),
        ),
        page(
            M::POST,
            "/rounds/{id}/options/import",
            Roles(REGISTRY_READERS),
            post(crate::options::import_upload),
        ),
        page(
            M::GET,
            "/rounds/{id}/options/template.xlsx",
            Roles(REGISTRY_READERS),
            get(crate::options::template_download),
        ),
        page(
            M::GET,
            "/rounds/{id}/options/export.xlsx",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::options::export_download),
        ),
        page(
            M::POST,
            "/rounds/{id}/options/{option}/edit",
            Roles(REGISTRY_READERS),
            post(crate::options::edit_form),
        ),
        page(
            M::POST,
            "/rounds/{id}/options/{option}/status",
            Roles(REGISTRY_READERS),
            post(crate::options::status_form),
        ),
        page(
            M::POST,
            "/rounds/{id}/options/{option}/verified",
            Roles(REGISTRY_READERS),
            post(crate::options::verified_form),
        ),
        page(
            M::POST,
            "/rounds/{id}/options/{option}/delete",
            Roles(REGISTRY_READERS),
            post(crate::options::delete_form),
        ),
        api(
            M::GET,
            "/api/v1/rounds/{id}/options",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::options::api_list),
        ),
        api(
            M::POST,
            "/api/v1/rounds/{id}/options",
            Roles(REGISTRY_READERS),
            post(crate::options::api_create),
        ),
        api(
            M::POST,
            "/api/v1/rounds/{id}/options/import",
            Roles(REGISTRY_READERS),
            post(crate::options::api_import),
        ),
        api(
            M::GET,
            "/api/v1/rounds/{id}/options/export.xlsx",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::options::api_export),
        ),
        api(
            M::PUT,
            "/api/v1/rounds/{id}/options/{option}",
            Roles(REGISTRY_READERS),
            axum::routing::put(crate::options::api_update),
        ),
        api(
            M::DELETE,
            "/api/v1/rounds/{id}/options/{option}",
            Roles(REGISTRY_READERS),
            axum::routing::delete(crate::options::api_delete),
        ),
        api(
            M::POST,
            "/api/v1/rounds/{id}/options/{option}/status",
            Roles(REGISTRY_READERS),
            post(crate::options::api_status),
        ),
        api(
            M::PUT,
            "/api/v1/rounds/{id}/options/{option}/expected",
            Roles(REGISTRY_READERS),
            axum::routing::put(crate::options::api_expected),
        ),
        api(
            M::PUT,
            "/api/v1/rounds/{id}/options/{option}/verified",
            Roles(REGISTRY_READERS),
            axum::routing::put(crate::options::api_verified),
        ),
        // Enforcement on a round (crates/web/src/enforcement.rs): readers of the round see its
        // record; the round's city or the province decides (checked against the round); the
        // province sanctions the round's consultancy from the page. Published fines and
        // criticisms are public.
        page(
            M::GET,
            "/rounds/{id}/enforcement",
            Roles(REGISTRY_READERS),
            get(crate::enforcement::enforcement_page),
        ),
        page(
            M::POST,
            "/rounds/{id}/enforcement/sanction",
            Roles(PROVINCE),
            post(crate::enforcement::sanction_form),
        ),
        page(
            M::GET,
            "/public/enforcement",
            Public,
            get(crate::enforcement::public_enforcement_page),
        ),
        api(
            M::GET,
            "/api/v1/rounds/{id}/enforcement",
            Roles(REGISTRY_READERS),
            get(crate::enforcement::api_round_enforcement),
        ),
        api(
            M::GET,
            "/api/v1/public/enforcement",
            Public,
            get(crate::enforcement::api_public_enforcement),
        ),
        // Online monitoring (crates/web/src/monitoring.rs): an enterprise's page for the
        // officials with jurisdiction and the enterprise itself (scope: another city's
        // enterprise is not found); the officials' devices page and exceedances (a city sees its
        // own); the quarantine of unknown MNs and the device settings for the province.
        page(
            M::GET,
            "/enterprises/{id}/monitoring",
            Roles(ENTERPRISE_ACTORS),
            get(crate::monitoring::enterprise_page),
        ),
        page(
            M::GET,
            "/monitoring",
            Roles(OFFICIALS),
            get(crate::monitoring::devices_page),
        ),
        page(
            M::GET,
            "/monitoring/quarantine",
            Roles(PROVINCE),
            get(crate::monitoring::quarantine_page),
        ),
        page(
            M::GET,
            "/monitoring/devices/{device}",
            Roles(PROVINCE),
            get(crate::monitoring::device_page),
        ),
        page(
            M::POST,
            "/monitoring/devices/{device}/settings",
            Roles(PROVINCE),
            post(crate::monitoring::settings_form),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/{id}/monitoring",
            Roles(ENTERPRISE_ACTORS),
            get(crate::monitoring::api_enterprise_monitoring),
        ),
        api(
            M::GET,
            "/api/v1/enterprises/{id}/exceedances",
            Roles(ENTERPRISE_ACTORS),
            get(crate::monitoring::api_enterprise_exceedances),
        ),
        api(
            M::GET,
            "/api/v1/devices/{device}/series",
            Roles(ENTERPRISE_ACTORS),
            get(crate::monitoring::api_series),
        ),
        api(
            M::GET,
            "/api/v1/monitoring/devices",
            Roles(OFFICIALS),
            get(crate::monitoring::api_devices),
        ),
        api(
            M::GET,
            "/api/v1/monitoring/exceedances",
            Roles(OFFICIALS),
            get(crate::monitoring::api_exceedances),
        ),
        api(
            M::GET,
            "/api/v1/monitoring/quarantine",
            Roles(PROVINCE),
            get(crate::monitoring::api_quarantine),
        ),
        api(
            M::GET,
            "/api/v1/devices/{device}/settings",
            Roles(PROVINCE),
            get(crate::monitoring::api_settings),
        ),
        api(
            M::PUT,
            "/api/v1/devices/{device}/settings",
            Roles(PROVINCE),
            axum::routing::put(crate::monitoring::api_save_settings),
        ),
    ]
}

/// The route list without handlers, for tests and documentation.
pub fn specs() -> Vec<RouteSpec> {
    table().into_iter().map(|(spec, _)| spec).collect()
}
