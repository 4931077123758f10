//! The route table: every route with its access rule. The router is built from this table,
//! so a route cannot exist without an access rule, and the authorization test walks it.

use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use cpaudit_storage::Role;

use utoipa::openapi::path::Paths;
use utoipa::openapi::{RefOr, Schema};

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
    /// The page route ("METHOD path") through which every role the API route admits takes it,
    /// served by a handler of its own, and why.
    Page {
        page: &'static str,
        apart: &'static str,
    },
    /// Deliberately without a page, and why.
    ApiOnly(&'static str),
}

/// Why a page and its API write are two handlers, by the shape of their input.
const UPLOAD: &str = "a file upload (multipart), read by its own extractor";
const PREVIEW: &str = "the page shows the rows and writes on confirmation; the API writes at once";

/// Every write of the API ("METHOD path") that is not declared once as an action (whose page
/// is its twin) and its page; a test checks that the list names every other API write, and
/// that each page exists and admits every role its API route admits.
pub const API_WRITES: &[(&str, PageFor)] = &[
    (
        "POST /api/v1/auth/token",
        PageFor::ApiOnly("a bearer token is for programs; people sign in on the login page"),
    ),
    (
        "PATCH /api/v1/enterprises/{id}",
        PageFor::Page {
            page: "POST /enterprises/{id}/edit",
            apart: "a PATCH changes the fields given; the page sends the whole record, a checkbox left unticked as absent",
        },
    ),
    (
        "POST /api/v1/enterprises/import",
        PageFor::Page {
            page: "POST /enterprises/import",
            apart: PREVIEW,
        },
    ),
    (
        "POST /api/v1/evidence/import",
        PageFor::Page {
            page: "POST /evidence/import",
            apart: PREVIEW,
        },
    ),
    (
        "POST /api/v1/rounds/import",
        PageFor::Page {
            page: "POST /rounds/import",
            apart: PREVIEW,
        },
    ),
    (
        "POST /api/v1/consultancies/{id}/documents",
        PageFor::Page {
            page: "POST /consultancies/{id}/documents",
            apart: UPLOAD,
        },
    ),
    (
        "POST /api/v1/rounds/{id}/documents",
        PageFor::Page {
            page: "POST /rounds/{id}/documents",
            apart: UPLOAD,
        },
    ),
    (
        "POST /api/v1/rounds/{id}/options/import",
        PageFor::Page {
            page: "POST /rounds/{id}/options/import",
            apart: UPLOAD,
        },
    ),
    (
        "PUT /api/v1/rounds/{id}/options/{option}/expected",
        PageFor::Page {
            page: "POST /rounds/{id}/options/{option}/edit",
            apart: "on the page, expected values change in the option's edit form with its \
                other fields; the API also changes them alone",
        },
    ),
];

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: String,
    pub access: Access,
    pub kind: Kind,
    /// For an action declared once: the other route ("METHOD path") of the same handler.
    pub twin: Option<String>,
    /// An API route's entry in the OpenAPI document, taken from its handler's
    /// `#[utoipa::path]` (which also gives the route its method and path).
    pub openapi: Option<OpenApiEntry>,
}

/// One operation of the OpenAPI document and the schemas it names.
#[derive(Clone)]
pub struct OpenApiEntry {
    pub paths: Paths,
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

impl std::fmt::Debug for OpenApiEntry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OpenApiEntry")
            .field("paths", &self.paths.paths.keys().collect::<Vec<_>>())
            .field(
                "schemas",
                &self
                    .schemas
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

type Handler = MethodRouter<AppState>;

/// An API handler with its `#[utoipa::path]` description: the method router, the operation
/// and its schemas, all from the one attribute.
pub struct Documented {
    entry: OpenApiEntry,
    router: Handler,
}

impl Documented {
    pub fn new(
        (schemas, paths, router): (Vec<(String, RefOr<Schema>)>, Paths, Handler),
    ) -> Documented {
        Documented {
            entry: OpenApiEntry { paths, schemas },
            router,
        }
    }

    /// The one method and path the handler's attribute declares.
    fn method_and_path(&self) -> (Method, String) {
        let mut operations = self.entry.paths.paths.iter().flat_map(|(path, item)| {
            [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
            ]
            .into_iter()
            .filter(|(_, declared)| *declared)
            .map(move |(method, _)| (method, path.clone()))
        });
        let first = operations
            .next()
            .expect("an API handler's attribute declares an operation");
        assert!(
            operations.next().is_none(),
            "an API handler serves one method at one path: {first:?}"
        );
        first
    }
}

/// [`Documented`] from a handler carrying `#[utoipa::path]`.
macro_rules! documented {
    ($handler:path) => {
        Documented::new(utoipa_axum::routes!($handler))
    };
}

fn page(
    method: Method,
    path: &'static str,
    access: Access,
    handler: Handler,
) -> (RouteSpec, Handler) {
    (
        RouteSpec {
            method,
            path: path.to_string(),
            access,
            kind: Kind::Page,
            twin: None,
            openapi: None,
        },
        handler,
    )
}

fn api(access: Access, documented: Documented) -> (RouteSpec, Handler) {
    let (method, path) = documented.method_and_path();
    (
        RouteSpec {
            method,
            path,
            access,
            kind: Kind::Api,
            twin: None,
            openapi: Some(documented.entry),
        },
        documented.router,
    )
}

/// One action declared once: a page route and an API route served by the same handler under
/// one access rule (see [`crate::action`]); the API route's method and path come from the
/// handler's `#[utoipa::path]`.
fn action<H, T>(
    access: Access,
    (page_method, page_path): (Method, &'static str),
    documented: Documented,
    handler: H,
) -> [(RouteSpec, Handler); 2]
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    let filter = axum::routing::MethodFilter::try_from(page_method.clone())
        .expect("actions use the methods axum routes");
    let (page_spec, page_handler) = page(
        page_method,
        page_path,
        access,
        axum::routing::on(filter, handler),
    );
    let (api_spec, api_handler) = api(access, documented);
    let page_twin = format!("{} {}", api_spec.method, api_spec.path);
    let api_twin = format!("{} {}", page_spec.method, page_spec.path);
    [
        (
            RouteSpec {
                twin: Some(page_twin),
                ..page_spec
            },
            page_handler,
        ),
        (
            RouteSpec {
                twin: Some(api_twin),
                ..api_spec
            },
            api_handler,
        ),
    ]
}

/// [`action`] naming its handler once.
macro_rules! action {
    ($access:expr, $page:expr, $handler:path) => {
        action($access, $page, documented!($handler), $handler)
    };
}

/// The actions declared once, each with its page and its API route.
fn actions() -> Vec<(RouteSpec, Handler)> {
    use Access::Roles;
    use Method as M;
    [
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/notices/{id}/read"),
            crate::notices::mark_read
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/sanctions/{id}/lift"),
            crate::consultancies::lift
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/draws/{id}/finish"),
            crate::draws::finish
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/monitoring/quarantine/{mn}/discard"),
            crate::monitoring::discard
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/rounds/{id}/secret-claims/{item}/reject"),
            crate::rounds::reject_claim
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/experts/{id}/actions"),
            crate::experts::expert_action
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/experts/{id}/employment"),
            crate::experts::employment
        ),
        action!(
            Roles(&[Role::Expert]),
            (M::POST, "/experts/me/declarations"),
            crate::experts::declaration
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/lists/{id}/letters"),
            crate::listing::issue_letters
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/letters/{id}/delivery"),
            crate::listing::delivery
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/rounds/{id}/enforcement"),
            crate::enforcement::decide
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/enforcement/{id}/outcome"),
            crate::enforcement::outcome
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/plans/{city}/{year}"),
            crate::listing::plan_save
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/plans/{city}/{year}/moves"),
            crate::listing::plan_move
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/parks/{id}/audit/assessment"),
            crate::parks::assessment
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/actions"),
            crate::rounds::round_action
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/start"),
            crate::rounds::save_start
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/phases"),
            crate::rounds::record_phase
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/monitoring/quarantine/{mn}/assign"),
            crate::monitoring::assign_mn
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/consultancies/{id}/sanctions"),
            crate::consultancies::sanction
        ),
        action!(Roles(OFFICIALS), (M::POST, "/draws"), crate::draws::freeze),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/draws/{id}/run"),
            crate::draws::run
        ),
        action!(
            Roles(&[Role::Expert]),
            (M::POST, "/draws/{id}/response"),
            crate::draws::respond
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/plans/{city}/{year}/actions"),
            crate::listing::plan_action
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/lists"),
            crate::listing::publish_list
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/lists/{id}/corrections"),
            crate::listing::correct_list
        ),
        action!(
            Roles(ENTERPRISE_ACTORS),
            (M::POST, "/enterprises/{id}/engagements"),
            crate::consultancies::engagement
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/options/{option}/status"),
            crate::options::change_status
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/options/{option}/delete"),
            crate::options::delete
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/monitoring/devices/{device}/settings"),
            crate::monitoring::save_device_settings
        ),
        action!(
            Roles(&[Role::Expert]),
            (M::POST, "/reviews/{id}/score"),
            crate::reviews::submit
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/disclosure"),
            crate::rounds::save_disclosure
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/options"),
            crate::options::create
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/options/{option}/edit"),
            crate::options::update
        ),
        action!(
            Roles(REGISTRY_READERS),
            (M::POST, "/rounds/{id}/options/{option}/verified"),
            crate::options::set_verified
        ),
        action!(
            Roles(&[Role::Province, Role::Consultancy]),
            (M::POST, "/consultancies/{id}/art16"),
            crate::consultancies::file_art16
        ),
        action!(
            Roles(PROVINCE),
            (M::POST, "/experts"),
            crate::experts::apply
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/library"),
            crate::listing::library_change
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/enterprises"),
            api::create_enterprise
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/enterprises/{id}/evidence"),
            crate::evidence::add_evidence
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/evidence/{id}/decision"),
            crate::evidence::decide
        ),
        action!(
            Roles(OFFICIALS),
            (M::POST, "/parks/{id}/audit"),
            crate::parks::save_pilot
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
        api(Public, documented!(crate::public::api_lists)),
        api(Public, documented!(crate::public::api_list)),
        api(Public, documented!(crate::public::api_rules)),
        api(Public, documented!(crate::public::api_rule)),
        api(Public, documented!(api::issue_token)),
        api(Public, documented!(api::openapi_json)),
        api(Public, documented!(api::jurisdictions)),
        api(Public, documented!(api::industries)),
        api(Roles(REGISTRY_READERS), documented!(api::list_enterprises)),
        api(Roles(OFFICIALS), documented!(api::import_enterprises)),
        api(Roles(REGISTRY_READERS), documented!(api::export_xlsx)),
        api(Roles(REGISTRY_READERS), documented!(api::export_csv)),
        api(Roles(REGISTRY_READERS), documented!(api::get_enterprise)),
        api(Roles(OFFICIALS), documented!(api::update_enterprise)),
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
            M::GET,
            "/evidence",
            Roles(OFFICIALS),
            get(crate::evidence::queue),
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
            Roles(REGISTRY_READERS),
            documented!(crate::evidence::api_enterprise_evidence),
        ),
        api(
            Roles(REGISTRY_READERS),
            documented!(crate::evidence::api_enterprise_rounds),
        ),
        api(
            Roles(OFFICIALS),
            documented!(crate::evidence::api_list_evidence),
        ),
        api(
            Roles(OFFICIALS),
            documented!(crate::evidence::api_import_evidence),
        ),
        api(
            Roles(OFFICIALS),
            documented!(crate::evidence::api_import_rounds),
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
            Roles(REGISTRY_READERS),
            documented!(crate::listing::api_determination),
        ),
        api(
            Roles(REGISTRY_READERS),
            documented!(crate::listing::api_listings),
        ),
        api(Roles(OFFICIALS), documented!(crate::listing::api_library)),
        api(Roles(OFFICIALS), documented!(crate::listing::api_plan)),
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
            Roles(CONSULTANCY_READERS),
            documented!(crate::consultancies::api_consultancy),
        ),
        api(Public, documented!(crate::consultancies::api_blacklist)),
        // The expert pool (crates/web/src/experts.rs): the province manages it; an expert
        // sees its own record and declares its conflicts.
        page(
            M::GET,
            "/experts",
            Roles(PROVINCE),
            get(crate::experts::pool_page),
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
        api(Roles(PROVINCE), documented!(crate::experts::api_pool)),
        api(Roles(PROVINCE), documented!(crate::experts::api_evaluation)),
        api(Roles(&[Role::Expert]), documented!(crate::experts::api_me)),
        api(Roles(PROVINCE), documented!(crate::experts::api_expert)),
        // Expert panel draws: the organizer (province or city, checked against the
        // enterprise) freezes and runs; the drawn expert answers; anyone reads the record.
        api(
            Roles(&[Role::Expert]),
            documented!(crate::draws::api_my_assignments),
        ),
        api(Public, documented!(crate::draws::api_public_draws)),
        page(
            M::GET,
            "/public/draws",
            Public,
            get(crate::draws::public_draws_page),
        ),
        api(Public, documented!(crate::draws::api_public_draw)),
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
            "/consultancies/{id}/documents",
            Roles(&[Role::Province, Role::Consultancy]),
            post(crate::consultancies::upload_document_form),
        ),
        api(
            Roles(&[Role::Province, Role::Consultancy]),
            documented!(crate::consultancies::api_upload_document),
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
        api(Roles(OFFICIALS), documented!(crate::parks::api_audits)),
        // ---- audit rounds ----
        page(
            M::GET,
            "/work",
            Roles(EVERYONE_LOGGED_IN),
            get(crate::work::work_page),
        ),
        api(
            Roles(EVERYONE_LOGGED_IN),
            documented!(crate::work::api_work),
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
        api(
            Roles(EVERYONE_LOGGED_IN),
            documented!(crate::rounds::api_rounds),
        ),
        api(
            Roles(EVERYONE_LOGGED_IN),
            documented!(crate::rounds::api_round),
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
        api(Public, documented!(crate::rounds::api_public_disclosures)),
        api(Public, documented!(crate::rounds::api_public_disclosure)),
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
            Roles(EVERYONE_LOGGED_IN),
            documented!(crate::documents::api_round_documents),
        ),
        api(
            Roles(DOCUMENT_FILERS),
            documented!(crate::documents::api_upload),
        ),
        api(
            Roles(EVERYONE_LOGGED_IN),
            documented!(crate::documents::api_content),
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
            Roles(REGISTRY_READERS),
            documented!(crate::notices::api_notices),
        ),
        api(Roles(OFFICIALS), documented!(crate::notices::api_overdue)),
        api(
            Roles(OFFICIALS),
            documented!(crate::notices::api_overdue_xlsx),
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
            Roles(EVERYONE_LOGGED_IN),
            documented!(crate::reviews::api_review),
        ),
        page(
            M::GET,
            "/public/reviews",
            Public,
            get(crate::reviews::public_reviews_page),
        ),
        api(Public, documented!(crate::reviews::api_public_reviews)),
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
        api(
            Roles(EVERYONE_LOGGED_IN),
            documented!(crate::options::api_list),
        ),
        api(
            Roles(REGISTRY_READERS),
            documented!(crate::options::api_import),
        ),
        api(
            Roles(EVERYONE_LOGGED_IN),
            documented!(crate::options::api_export),
        ),
        api(
            Roles(REGISTRY_READERS),
            documented!(crate::options::api_expected),
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
            Roles(REGISTRY_READERS),
            documented!(crate::enforcement::api_round_enforcement),
        ),
        api(
            Public,
            documented!(crate::enforcement::api_public_enforcement),
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
        api(
            Roles(ENTERPRISE_ACTORS),
            documented!(crate::monitoring::api_enterprise_monitoring),
        ),
        api(
            Roles(ENTERPRISE_ACTORS),
            documented!(crate::monitoring::api_enterprise_exceedances),
        ),
        api(
            Roles(ENTERPRISE_ACTORS),
            documented!(crate::monitoring::api_series),
        ),
        api(
            Roles(OFFICIALS),
            documented!(crate::monitoring::api_devices),
        ),
        api(
            Roles(OFFICIALS),
            documented!(crate::monitoring::api_exceedances),
        ),
        api(
            Roles(PROVINCE),
            documented!(crate::monitoring::api_quarantine),
        ),
        api(
            Roles(PROVINCE),
            documented!(crate::monitoring::api_settings),
        ),
    ]
}

/// The route list without handlers, for tests and documentation.
pub fn specs() -> Vec<RouteSpec> {
    table().into_iter().map(|(spec, _)| spec).collect()
}
