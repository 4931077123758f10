//! Authorization, sessions, CSRF, throttling and the language switch.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use cpaudit_web::routes::{specs, Kind};

use crate::support::{demo_enterprise_id, Browser, TestApp, PASSWORD};

const CALLERS: [&str; 7] = [
    "anonymous",
    "province",
    "lanzhou",
    "tianshui",
    "enterprise",
    "consultancy",
    "expert",
];

/// What a caller must get. `Login` is the redirect to the login page.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Status(u16),
    Login,
}

use Expect::{Login, Status};

/// The expected answer of every route for each caller, in the order of `CALLERS`.
/// `C` stands for the consultancy's answer on the demo enterprise's routes, which depends on
/// whether that consultancy is engaged by the enterprise (read from the table directly).
fn expected(
    method: &Method,
    path: &str,
    consultancy_sees_it: bool,
    consultancy_sees_round: bool,
) -> Option<[Expect; 7]> {
    let c = if consultancy_sees_it {
        Status(200)
    } else {
        Status(404)
    };
    // Round routes: `{id}` is round 1, a Lanzhou round of another enterprise than the demo
    // enterprise user's; the consultancy sees it when engaged with that enterprise.
    let cr = |seen: u16| {
        if consultancy_sees_round {
            Status(seen)
        } else {
            Status(404)
        }
    };
    let all = |s: u16| [Status(s); 7];
    let readers = |ok: u16| {
        [
            Login,
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(403),
        ]
    };
    let officials = |ok: u16| {
        [
            Login,
            Status(ok),
            Status(ok),
            Status(ok),
            Status(403),
            Status(403),
            Status(403),
        ]
    };
    let api_readers = |ok: u16| {
        [
            Status(401),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(403),
        ]
    };
    let api_officials = |ok: u16| {
        [
            Status(401),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(403),
            Status(403),
            Status(403),
        ]
    };
    let province_only = |ok: u16, anonymous: Expect| {
        [
            anonymous,
            Status(ok),
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(403),
        ]
    };
    let all_but_anonymous = |ok: u16| {
        [
            Status(401),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
        ]
    };
    let readers_all = |ok: u16, anonymous: Expect| {
        [
            anonymous,
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
            Status(ok),
        ]
    };
    let expert_only = |ok: u16, anonymous: Expect| {
        [
            anonymous,
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(ok),
        ]
    };
    // Round 1 of the demo list: see the options routes below.
    let round_readers = |anonymous: Expect, ok: u16| {
        [
            anonymous,
            Status(ok),
            Status(ok),
            Status(404),
            Status(404),
            Status(404),
            Status(404),
        ]
    };
    let round_writers = |anonymous: Expect, official: u16| {
        [
            anonymous,
            Status(official),
            Status(official),
            Status(404),
            Status(404),
            Status(404),
            Status(403),
        ]
    };
    Some(match (method.as_str(), path) {
        // A consultancy's Art. 16 documents: `{id}` is consultancy 1, the demo consultancy's
        // own; an empty body is no multipart upload; document 1 does not exist.
        ("POST", "/consultancies/{id}/art16") => [
            Login,
            Status(303),
            Status(403),
            Status(403),
            Status(403),
            Status(303),
            Status(403),
        ],
        ("POST", "/consultancies/{id}/documents") => [
            Login,
            Status(400),
            Status(403),
            Status(403),
            Status(403),
            Status(400),
            Status(403),
        ],
        ("POST", "/api/v1/consultancies/{id}/documents") => [
            Status(401),
            Status(400),
            Status(403),
            Status(403),
            Status(403),
            Status(400),
            Status(403),
        ],
        ("GET", "/consultancy-documents/{id}/download") => [
            Login,
            Status(404),
            Status(404),
            Status(404),
            Status(403),
            Status(404),
            Status(403),
        ],
        // Park pilots (crates/web/src/parks.rs): `{id}` is park 1, in Lanzhou.
        ("GET", "/parks/{id}") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        ("GET", "/api/v1/parks/{id}/audits") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        ("POST", "/parks/{id}/audit") => officials(400),
        ("PUT", "/api/v1/parks/{id}/audit") => api_officials(400),
        ("POST", "/parks/{id}/audit/assessment") => province_only(400, Login),
        ("POST", "/api/v1/parks/{id}/audit/assessment") => province_only(400, Status(401)),
        // A round's documents (crates/web/src/documents.rs). `{id}` is round 1 for the round
        // routes and document 1, which does not exist, for the others; a post that is no
        // multipart upload is malformed.
        ("GET", "/rounds/{id}/documents") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(404),
            cr(200),
            Status(404),
        ],
        ("GET", "/api/v1/rounds/{id}/documents") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(404),
            cr(200),
            Status(404),
        ],
        ("POST", "/rounds/{id}/documents") => readers(400),
        ("POST", "/api/v1/rounds/{id}/documents") => api_readers(400),
        ("GET", "/documents/{id}/download") => [
            Login,
            Status(404),
            Status(404),
            Status(404),
            Status(404),
            Status(404),
            Status(404),
        ],
        ("GET", "/api/v1/documents/{id}/content") => all_but_anonymous(404),
        // Audit rounds (crates/web/src/rounds.rs).
        ("GET", "/rounds" | "/rounds.xlsx" | "/work") => readers_all(200, Login),
        ("GET", "/api/v1/rounds" | "/api/v1/work") => readers_all(200, Status(401)),
        ("GET", "/rounds/{id}") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(404),
            cr(200),
            Status(404),
        ],
        ("GET", "/api/v1/rounds/{id}") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(404),
            cr(200),
            Status(404),
        ],
        // Only the enterprise or its engaged consultancy files; officials are refused.
        ("GET" | "POST", "/rounds/{id}/disclosure") => [
            Login,
            Status(403),
            Status(403),
            Status(404),
            Status(404),
            cr(403),
            Status(403),
        ],
        ("PUT", "/api/v1/rounds/{id}/disclosure") => [
            Status(401),
            Status(403),
            Status(403),
            Status(404),
            Status(404),
            cr(403),
            Status(403),
        ],
        // Empty bodies lack the required field.
        ("POST", "/rounds/{id}/actions" | "/rounds/{id}/start" | "/rounds/{id}/phases") => {
            readers(400)
        }
        ("POST", "/api/v1/rounds/{id}/actions")
        | ("PUT", "/api/v1/rounds/{id}/start" | "/api/v1/rounds/{id}/phases") => api_readers(400),
        ("POST", "/rounds/{id}/secret-claims/{item}/reject") => officials(400),
        ("POST", "/api/v1/rounds/{id}/secret-claims/{item}/reject") => api_officials(400),
        ("GET", "/public/disclosures" | "/api/v1/public/disclosures") => all(200),
        ("GET", "/public/disclosures/{round_id}" | "/api/v1/public/disclosures/{round_id}") => {
            all(404)
        }
        // Enforcement on a round (crates/web/src/enforcement.rs): round 1 has no enforcement
        // and no consultancy; an empty request lacks its kind (or outcome) and is malformed.
        ("GET", "/rounds/{id}/enforcement") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(404),
            cr(200),
            Status(403),
        ],
        ("GET", "/api/v1/rounds/{id}/enforcement") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(404),
            cr(200),
            Status(403),
        ],
        ("POST", "/rounds/{id}/enforcement" | "/enforcement/{id}/outcome") => officials(400),
        ("POST", "/api/v1/rounds/{id}/enforcement" | "/api/v1/enforcement/{id}/outcome") => {
            api_officials(400)
        }
        ("POST", "/rounds/{id}/enforcement/sanction") => province_only(400, Login),
        ("GET", "/public/enforcement" | "/api/v1/public/enforcement") => all(200),
        // Panel draws (crates/web/src/draws.rs); the demo holds no draw.
        ("POST", "/draws" | "/draws/{id}/run") => officials(400),
        ("GET", "/draws/{id}") | ("POST", "/draws/{id}/finish") => officials(404),
        ("POST", "/draws/{id}/response") => [
            Login,
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(400),
        ],
        ("POST", "/api/v1/draws" | "/api/v1/draws/{id}/run") => api_officials(400),
        ("POST", "/api/v1/draws/{id}/finish") => api_officials(404),
        ("GET", "/api/v1/draws/assignments") => [
            Status(401),
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(200),
        ],
        ("POST", "/api/v1/draws/{id}/response") => [
            Status(401),
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(403),
            Status(400),
        ],
        ("GET", "/api/v1/public/draws/{id}" | "/public/draws/{id}") => all(404),
        ("GET", "/api/v1/public/draws" | "/public/draws") => all(200),
        // Reviews (crates/web/src/reviews.rs); the demo holds no review, so `{id}` is none.
        ("GET", "/reviews/{id}" | "/reviews/{id}/opinion" | "/reviews/{id}/opinion.docx") => [
            Login,
            Status(404),
            Status(404),
            Status(404),
            Status(404),
            Status(404),
            Status(404),
        ],
        ("GET", "/api/v1/reviews/{id}") => [
            Status(401),
            Status(404),
            Status(404),
            Status(404),
            Status(404),
            Status(404),
            Status(404),
        ],
        ("GET" | "POST", "/reviews/{id}/score") => expert_only(404, Login),
        ("POST", "/api/v1/reviews/{id}/scores") => expert_only(404, Status(401)),
        ("GET", "/public/reviews" | "/api/v1/public/reviews") => all(200),
        // Consultancies (crates/web/src/consultancies.rs). `{id}` is consultancy 1 here, the
        // demo consultancy user's own.
        ("GET", "/consultancies/{id}") => [
            Login,
            Status(200),
            Status(200),
            Status(200),
            Status(403),
            Status(200),
            Status(403),
        ],
        ("GET", "/api/v1/consultancies/{id}") => [
            Status(401),
            Status(200),
            Status(200),
            Status(200),
            Status(403),
            Status(200),
            Status(403),
        ],
        ("POST", "/consultancies/{id}/sanctions" | "/sanctions/{id}/lift") => {
            province_only(400, Login)
        }
        ("POST", "/api/v1/consultancies/{id}/sanctions" | "/api/v1/sanctions/{id}/lift") => {
            province_only(400, Status(401))
        }
        ("PUT", "/api/v1/consultancies/{id}/art16") => [
            Status(401),
            Status(400),
            Status(403),
            Status(403),
            Status(403),
            Status(400),
            Status(403),
        ],
        ("POST", "/enterprises/{id}/engagements") => [
            Login,
            Status(400),
            Status(400),
            Status(400),
            Status(400),
            Status(403),
            Status(403),
        ],
        ("POST", "/api/v1/enterprises/{id}/engagements") => [
            Status(401),
            Status(400),
            Status(400),
            Status(400),
            Status(400),
            Status(403),
            Status(403),
        ],
        ("GET", "/public/blacklist" | "/api/v1/public/blacklist") => all(200),
        // Notices (crates/web/src/notices.rs); the demo has fired none, so `{id}` names none.
        ("GET", "/notices") => readers(200),
        ("POST", "/notices/{id}/read") => readers(404),
        ("GET", "/overdue/export.xlsx") => officials(200),
        ("GET", "/api/v1/notices") => api_readers(200),
        ("POST", "/api/v1/notices/{id}/read") => api_readers(404),
        ("GET", "/api/v1/overdue" | "/api/v1/overdue/export.xlsx") => api_officials(200),
        // The yearly cycle (see crates/web/src/listing.rs).
        ("GET", "/enterprises/{id}/determination" | "/api/v1/enterprises/{id}/determination") => [
            if path.starts_with("/api") {
                Status(401)
            } else {
                Login
            },
            Status(200),
            Status(200),
            Status(404),
            Status(200),
            c,
            Status(403),
        ],
        // Outside the scope the enterprise is not found, as its own page is.
        ("GET", "/api/v1/enterprises/{id}/listings") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(200),
            c,
            Status(403),
        ],
        ("GET", "/library" | "/library/export.xlsx" | "/plans" | "/lists") => officials(200),
        // Empty forms are malformed (400) before anything else is looked at.
        ("POST", "/library" | "/library/sync") => officials(400),
        ("GET", "/plans/{city}/{year}") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        (
            "POST",
            "/plans/{city}/{year}" | "/plans/{city}/{year}/moves" | "/plans/{city}/{year}/actions",
        ) => [
            Login,
            Status(400),
            Status(400),
            Status(400),
            Status(403),
            Status(403),
            Status(403),
        ],
        ("POST", "/lists" | "/lists/{id}/corrections") => province_only(400, Login),
        // The demo publishes this year's list as list 1.
        ("GET", "/lists/{id}") => officials(200),
        ("POST", "/lists/{id}/letters" | "/letters/{id}/delivery") => officials(400),
        ("GET", "/letters/{id}" | "/letters/{id}/letter.docx") => readers(404),
        ("GET", "/api/v1/library") => api_officials(200),
        ("POST", "/api/v1/library") => api_officials(400),
        ("GET", "/api/v1/plans/{city}/{year}") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        (
            "POST",
            "/api/v1/plans/{city}/{year}"
            | "/api/v1/plans/{city}/{year}/moves"
            | "/api/v1/plans/{city}/{year}/actions",
        ) => api_officials(400),
        ("POST", "/api/v1/lists") => province_only(400, Status(401)),
        ("POST", "/api/v1/lists/{id}/corrections") => province_only(400, Status(401)),
        ("POST", "/api/v1/lists/{id}/letters" | "/api/v1/letters/{id}/delivery") => {
            api_officials(400)
        }
        // Online monitoring (crates/web/src/monitoring.rs): `{id}` is the demo enterprise,
        // `{device}` its stack, `{mn}` an MN that is not in quarantine. The series without a
        // pollutant is malformed for those who may see the device; the settings form without
        // `enabled` takes the device out of service.
        ("GET", "/enterprises/{id}/monitoring") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(200),
            Status(403),
            Status(403),
        ],
        ("GET", "/api/v1/enterprises/{id}/monitoring" | "/api/v1/enterprises/{id}/exceedances") => {
            [
                Status(401),
                Status(200),
                Status(200),
                Status(404),
                Status(200),
                Status(403),
                Status(403),
            ]
        }
        ("GET", "/api/v1/devices/{device}/series") => [
            Status(401),
            Status(400),
            Status(400),
            Status(404),
            Status(400),
            Status(403),
            Status(403),
        ],
        ("GET", "/monitoring") => officials(200),
        ("GET", "/api/v1/monitoring/devices" | "/api/v1/monitoring/exceedances") => {
            api_officials(200)
        }
        ("GET", "/monitoring/quarantine" | "/monitoring/devices/{device}") => {
            province_only(200, Login)
        }
        ("POST", "/monitoring/quarantine/{mn}/assign") => province_only(400, Login),
        ("POST", "/monitoring/quarantine/{mn}/discard") => province_only(404, Login),
        ("POST", "/monitoring/devices/{device}/settings") => province_only(303, Login),
        ("GET", "/api/v1/monitoring/quarantine" | "/api/v1/devices/{device}/settings") => {
            province_only(200, Status(401))
        }
        ("POST", "/api/v1/monitoring/quarantine/{mn}/assign")
        | ("PUT", "/api/v1/devices/{device}/settings") => province_only(400, Status(401)),
        ("POST", "/api/v1/monitoring/quarantine/{mn}/discard") => province_only(404, Status(401)),
        ("GET", "/" | "/healthz" | "/metrics" | "/static/app.css" | "/login") => all(200),
        ("GET", "/lang/{lang}") => all(303),
        // An empty login form is malformed for everyone.
        ("POST", "/login") => all(400),
        ("POST", "/logout") => [
            Login,
            Status(303),
            Status(303),
            Status(303),
            Status(303),
            Status(303),
            Status(303),
        ],
        ("GET", "/enterprises" | "/enterprises/export.xlsx" | "/enterprises/export.csv") => {
            readers(200)
        }
        ("POST", "/enterprises") => officials(422),
        ("GET", "/enterprises/new" | "/enterprises/import" | "/parks" | "/consultancies") => {
            officials(200)
        }
        ("POST", "/enterprises/import") => officials(400),
        ("POST", "/enterprises/import/confirm") => officials(404),
        ("GET", "/enterprises/{id}") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(200),
            c,
            Status(403),
        ],
        ("GET", "/enterprises/{id}/edit") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        ("POST", "/enterprises/{id}/edit") => [
            Login,
            Status(422),
            Status(422),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        // The expert pool (crates/web/src/experts.rs): `{id}` is expert 1, the demo expert
        // user's own record, which only the province opens by id.
        ("GET", "/experts" | "/experts/evaluation" | "/experts/{id}") => province_only(200, Login),
        ("POST", "/experts") => province_only(422, Login),
        ("POST", "/experts/{id}/actions" | "/experts/{id}/employment") => province_only(400, Login),
        ("GET", "/api/v1/experts" | "/api/v1/experts/evaluation" | "/api/v1/experts/{id}") => {
            province_only(200, Status(401))
        }
        ("POST", "/api/v1/experts") => province_only(422, Status(401)),
        ("POST", "/api/v1/experts/{id}/actions" | "/api/v1/experts/{id}/employment") => {
            province_only(400, Status(401))
        }
        ("GET", "/experts/me") => expert_only(200, Login),
        ("POST", "/experts/me/declarations") => expert_only(400, Login),
        ("GET", "/api/v1/experts/me") => expert_only(200, Status(401)),
        ("POST", "/api/v1/experts/me/declarations") => expert_only(400, Status(401)),
        ("POST", "/api/v1/auth/token") => all(400),
        ("GET", "/api/v1/openapi.json" | "/api/v1/jurisdictions" | "/api/v1/industries") => {
            all(200)
        }
        (
            "GET",
            "/api/v1/enterprises"
            | "/api/v1/enterprises/export.xlsx"
            | "/api/v1/enterprises/export.csv",
        ) => api_readers(200),
        ("POST", "/api/v1/enterprises") => api_officials(422),
        ("POST", "/api/v1/enterprises/import") => api_officials(400),
        ("GET", "/api/v1/enterprises/{id}") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(200),
            c,
            Status(403),
        ],
        ("PATCH", "/api/v1/enterprises/{id}") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        // Evidence and past rounds. An empty decision is refused before the evidence `{id}` is
        // looked up, so the answer does not depend on the demo evidence.
        ("GET", "/enterprises/{id}/evidence") => [
            Login,
            Status(200),
            Status(200),
            Status(404),
            Status(200),
            c,
            Status(403),
        ],
        ("POST", "/enterprises/{id}/evidence") => [
            Login,
            Status(422),
            Status(422),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        ("POST", "/evidence/{id}/decision") => [
            Login,
            Status(422),
            Status(422),
            Status(422),
            Status(403),
            Status(403),
            Status(403),
        ],
        (
            "GET",
            "/evidence"
            | "/evidence/import"
            | "/evidence/import/template.xlsx"
            | "/rounds/import"
            | "/rounds/import/template.xlsx",
        ) => officials(200),
        ("POST", "/evidence/import" | "/rounds/import") => officials(400),
        ("GET", "/api/v1/enterprises/{id}/evidence" | "/api/v1/enterprises/{id}/rounds") => [
            Status(401),
            Status(200),
            Status(200),
            Status(404),
            Status(200),
            c,
            Status(403),
        ],
        ("POST", "/api/v1/enterprises/{id}/evidence") => [
            Status(401),
            Status(422),
            Status(422),
            Status(404),
            Status(403),
            Status(403),
            Status(403),
        ],
        ("POST", "/api/v1/evidence/{id}/decision") => [
            Status(401),
            Status(422),
            Status(422),
            Status(422),
            Status(403),
            Status(403),
            Status(403),
        ],
        ("GET", "/api/v1/evidence") => api_officials(200),
        ("POST", "/api/v1/evidence/import" | "/api/v1/rounds/import") => api_officials(400),
        // Public information; the demo publishes this year's list as list 1, and `{id}` is no
        // rule id.
        (
            "GET",
            "/public/lists"
            | "/public/data-dictionary"
            | "/public/data-dictionary.json"
            | "/rules"
            | "/api/v1/public/lists"
            | "/api/v1/rules"
            | "/public/lists/{id}"
            | "/public/lists/{id}/entries.csv"
            | "/public/lists/{id}/entries.xlsx"
            | "/public/lists/{id}/entries.json"
            | "/api/v1/public/lists/{id}",
        ) => all(200),
        ("GET", "/rules/{id}" | "/api/v1/rules/{id}") => all(404),
        // Cleaner production options (crates/web/src/options.rs). `{id}` read as a round is
        // round 1 of the demo list, of a Lanzhou enterprise that is neither the demo enterprise
        // nor engaged by the demo consultancy: Lanzhou and the province read it but do not
        // write the report's content (403); the others do not see it, and the expert is on no
        // panel. `{option}` is no option.
        ("GET", "/rounds/{id}/options" | "/rounds/{id}/options/export.xlsx") => {
            round_readers(Login, 200)
        }
        ("GET", "/api/v1/rounds/{id}/options" | "/api/v1/rounds/{id}/options/export.xlsx") => {
            round_readers(Status(401), 200)
        }
        ("GET", "/rounds/{id}/options/template.xlsx") => round_writers(Login, 200),
        ("POST", "/rounds/{id}/options") => round_writers(Login, 403),
        ("POST", "/api/v1/rounds/{id}/options") => round_writers(Status(401), 403),
        // A form post is no multipart upload: malformed for everyone allowed to try.
        ("POST", "/rounds/{id}/options/import") => readers(400),
        ("POST", "/api/v1/rounds/{id}/options/import") => api_readers(400),
        (
            "POST",
            "/rounds/{id}/options/{option}/edit"
            | "/rounds/{id}/options/{option}/status"
            | "/rounds/{id}/options/{option}/verified"
            | "/rounds/{id}/options/{option}/delete",
        ) => readers(404),
        (
            "PUT" | "DELETE" | "POST",
            "/api/v1/rounds/{id}/options/{option}"
            | "/api/v1/rounds/{id}/options/{option}/status"
            | "/api/v1/rounds/{id}/options/{option}/expected"
            | "/api/v1/rounds/{id}/options/{option}/verified",
        ) => api_readers(404),
        _ => return None,
    })
}

#[tokio::test]
async fn every_route_answers_every_role_as_expected() {
    let app = TestApp::new().await;
    let enterprise_id = demo_enterprise_id(app.db()).await;
    let consultancy_sees_it = consultancy_is_engaged(&app, enterprise_id).await;
    let round_enterprise: i64 = round_enterprise(&app, ROUND_ID).await;
    let consultancy_sees_round = consultancy_is_engaged(&app, round_enterprise).await;
    let operator = cpaudit_storage::Principal::console_operator("test");
    let device_id = app
        .db()
        .monitoring_devices(
            operator.scope(),
            &cpaudit_storage::monitoring_views::DeviceFilter {
                enterprise_id: Some(enterprise_id),
                ..Default::default()
            },
            crate::support::test_now(),
            chrono::Duration::hours(2),
        )
        .await
        .unwrap()[0]
        .device_id;
    let mut browsers = vec![None];
    let mut tokens = vec![None];
    for caller in &CALLERS[1..] {
        browsers.push(Some(app.browser(caller).await));
        tokens.push(Some(app.token(caller).await));
    }
    let mut failures = Vec::new();
    let mut routes = specs();
    // Logging out ends the sessions the other routes use: it goes last.
    routes.sort_by_key(|spec| spec.path == "/logout");
    for spec in routes {
        let Some(expectations) = expected(
            &spec.method,
            &spec.path,
            consultancy_sees_it,
            consultancy_sees_round,
        ) else {
            failures.push(format!(
                "{} {} has no expected answers in this test",
                spec.method, spec.path
            ));
            continue;
        };
        let id = if spec.path.contains("rounds/{id}") {
            ROUND_ID
        } else {
            enterprise_id
        };
        let path = spec
            .path
            .replace("{id}", &id.to_string())
            .replace("{round_id}", &ROUND_ID.to_string())
            .replace("{lang}", "en")
            .replace("{city}", "620100")
            .replace("{year}", "2028")
            .replace("{option}", "1")
            .replace("{device}", &device_id.to_string())
            .replace("{mn}", "NOT-IN-QUARANTINE");
        for (index, caller) in CALLERS.iter().enumerate() {
            let response = match spec.kind {
                Kind::Page => {
                    page_request(&app, &spec.method, &path, browsers[index].as_ref()).await
                }
                Kind::Api => api_request(&app, &spec.method, &path, tokens[index].as_deref()).await,
            };
            let ok = match expectations[index] {
                Status(status) => response.status.as_u16() == status,
                Login => {
                    response.status == StatusCode::SEE_OTHER
                        && response.location().starts_with("/login?next=")
                }
            };
            if !ok {
                failures.push(format!(
                    "{} {path} as {caller}: expected {:?}, got {} {}",
                    spec.method,
                    expectations[index],
                    response.status,
                    response.location()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "route matrix:\n{}",
        failures.join("\n")
    );
}

/// The round the round routes are called with: the demo list's first, in Lanzhou.
const ROUND_ID: i64 = 1;

async fn round_enterprise(app: &TestApp, round_id: i64) -> i64 {
    let operator = cpaudit_storage::Principal::console_operator("test");
    let round = app
        .db()
        .get_round(operator.scope(), round_id)
        .await
        .unwrap()
        .expect("the demo list opens round 1");
    assert_eq!(round.jurisdiction_code, "620100", "round 1 is in Lanzhou");
    round.enterprise_id
}

async fn consultancy_is_engaged(app: &TestApp, enterprise_id: i64) -> bool {
    let operator = cpaudit_storage::Principal::console_operator("test");
    let users = app.db().list_users(operator.scope()).await.unwrap();
    let consultancy = users
        .iter()
        .find(|u| u.username == "consultancy")
        .unwrap()
        .consultancy_id
        .unwrap();
    let store = cpaudit_storage::Db::connect(&app.store.url).await.unwrap();
    let engaged: i64 = match &store {
        cpaudit_storage::Db::Sqlite(pool) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM engagements WHERE consultancy_id = $1 AND enterprise_id = $2",
        )
        .bind(consultancy)
        .bind(enterprise_id)
        .fetch_one(pool)
        .await
        .unwrap(),
        cpaudit_storage::Db::Postgres(pool) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM engagements WHERE consultancy_id = $1 AND enterprise_id = $2",
        )
        .bind(consultancy)
        .bind(enterprise_id)
        .fetch_one(pool)
        .await
        .unwrap(),
    };
    store.close().await;
    engaged > 0
}

async fn page_request(
    app: &TestApp,
    method: &Method,
    path: &str,
    browser: Option<&Browser>,
) -> crate::support::Response {
    if method == Method::GET {
        return app.get(path, browser).await;
    }
    let fields: &[(&str, &str)] = if path == "/enterprises/import/confirm" {
        &[("id", "unknown"), ("mode", "all")]
    } else {
        &[]
    };
    app.post_form(path, browser, fields).await
}

async fn api_request(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
) -> crate::support::Response {
    let body = (method != Method::GET).then(|| serde_json::json!({}));
    app.api(method.as_str(), path, token, body).await
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_and_writes_nothing() {
    let app = TestApp::new().await;
    let browser = app.browser("lanzhou").await;
    let before = crate::support::enterprise_count(app.db()).await;
    let code = crate::registry::fresh_credit_code(42);
    let fields = [
        ("name", "兰州测试有限公司"),
        ("credit_code", code.as_str()),
        ("legal_representative", "李四"),
        ("address", "兰州市七里河区测试路 2 号"),
        ("jurisdiction_code", "620100"),
        ("industry_code", "4411"),
        ("size_class", "small"),
    ];
    let without_token = Browser {
        cookie: browser.cookie.clone(),
        csrf: "forged".into(),
    };
    let refused = app
        .post_form("/enterprises", Some(&without_token), &fields)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(crate::support::enterprise_count(app.db()).await, before);

    // A post from another site is refused even with a token.
    let body = serde_urlencoded::to_string([("csrf_token", browser.csrf.as_str())]).unwrap();
    let cross_site = app
        .send(
            Request::post("/logout")
                .header(header::COOKIE, &browser.cookie)
                .header(header::HOST, "cpaudit.example")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);

    let accepted = app.post_form("/enterprises", Some(&browser), &fields).await;
    assert_eq!(
        accepted.status,
        StatusCode::SEE_OTHER,
        "{}",
        accepted.text()
    );
    assert_eq!(crate::support::enterprise_count(app.db()).await, before + 1);
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site() {
    let app = TestApp::new().await;
    let response = app
        .post_form(
            "/login",
            None,
            &[
                ("username", "province"),
                ("password", PASSWORD),
                ("next", "/enterprises"),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), "/enterprises");
    let cookie = response
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn login_redirects_only_to_local_paths() {
    let app = TestApp::new().await;
    let response = app
        .post_form(
            "/login",
            None,
            &[
                ("username", "province"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(response.location(), "/");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::new().await;
    let browser = app.browser("province").await;
    assert_eq!(
        app.get("/enterprises", Some(&browser)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.post_form("/logout", Some(&browser), &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let after = app.get("/enterprises", Some(&browser)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().starts_with("/login"));
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_until_the_window_passes() {
    let app = TestApp::new().await;
    for _ in 0..5 {
        let failed = app.attempt_login("lanzhou", "wrong-password").await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while throttled.
    let throttled = app.attempt_login("lanzhou", PASSWORD).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers.contains_key(header::RETRY_AFTER));
    let api = app
        .api(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(serde_json::json!({"username": "lanzhou", "password": PASSWORD})),
        )
        .await;
    assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.json()["error"]["code"], "too_many_requests");

    app.clock.advance(chrono::Duration::minutes(16));
    let again = app.attempt_login("lanzhou", PASSWORD).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_disabled_user_loses_its_session_and_token() {
    let app = TestApp::new().await;
    let browser = app.browser("tianshui").await;
    let token = app.token("tianshui").await;
    let operator = cpaudit_storage::Principal::console_operator("test");
    app.db()
        .set_disabled(&operator, "tianshui", true, crate::support::test_now())
        .await
        .unwrap();
    assert_eq!(
        app.get("/enterprises", Some(&browser)).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.api("GET", "/api/v1/enterprises", Some(&token), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let login = app.attempt_login("tianshui", PASSWORD).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_language_switch_is_remembered() {
    let app = TestApp::new().await;
    let chinese = app.get("/login", None).await;
    assert!(chinese.text().contains("用户名"));
    let switched = app.get("/lang/en?next=/login", None).await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(switched.location(), "/login");
    let cookie = switched
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cookie.starts_with("cpaudit_lang=en"));
    let english = app
        .send(
            Request::get("/login")
                .header(header::COOKIE, "cpaudit_lang=en")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(english.text().contains("Username"), "{}", english.text());
}

#[tokio::test]
async fn the_enterprise_user_sees_only_itself_and_tianshui_sees_no_lanzhou_enterprise() {
    let app = TestApp::new().await;
    let token = app.token("enterprise").await;
    let own = demo_enterprise_id(app.db()).await;
    let list = app
        .api("GET", "/api/v1/enterprises", Some(&token), None)
        .await
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], own);

    let tianshui = app.token("tianshui").await;
    let list = app
        .api(
            "GET",
            "/api/v1/enterprises?per_page=200",
            Some(&tianshui),
            None,
        )
        .await
        .json();
    let items = list["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|e| e["jurisdiction_code"] == "620500"));
    let lanzhou_only = app
        .api(
            "GET",
            "/api/v1/enterprises?city=620100",
            Some(&tianshui),
            None,
        )
        .await
        .json();
    assert_eq!(lanzhou_only["total"], 0, "a filter cannot widen the scope");
    let patch = app
        .api(
            "PATCH",
            &format!("/api/v1/enterprises/{own}"),
            Some(&tianshui),
            Some(serde_json::json!({"address": "x"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_paths_are_404_pages_and_api_json() {
    let app = TestApp::new().await;
    let page = app.get("/no-such-page", None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.text().contains("<html"));
    let api = app.get("/api/v1/no-such-thing", None).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"]["code"], "not_found");
}

fn run_with_stdin(url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cpaudit"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("CPAUDIT_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn accounts_are_managed_from_the_command_line() {
    let app = TestApp::new().await;
    let url = app.store.url.clone();
    let added = run_with_stdin(
        &url,
        &[
            "user", "add", "baiyin", "--role", "city", "--city", "620400",
        ],
        "baiyin-password-1\n",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let login = app.attempt_login("baiyin", "baiyin-password-1").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);

    let short = run_with_stdin(&url, &["user", "passwd", "baiyin"], "short\n");
    assert!(
        !short.status.success(),
        "a password under 10 characters is refused"
    );
    let changed = run_with_stdin(&url, &["user", "passwd", "baiyin"], "baiyin-password-2\n");
    assert!(changed.status.success());
    let old = app.attempt_login("baiyin", "baiyin-password-1").await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);

    let unbound = run_with_stdin(
        &url,
        &["user", "add", "nobody", "--role", "city"],
        "nobody-password-1\n",
    );
    assert!(!unbound.status.success(), "a city user needs --city");
    let list = crate::support::cpaudit_command(&url, &["user", "list"]);
    let listing = String::from_utf8_lossy(&list.stdout);
    assert!(
        listing.contains("baiyin") && listing.contains("620400"),
        "{listing}"
    );
    assert!(!listing.contains("nobody"));
    assert!(!listing.contains("argon2"), "hashes are never printed");

    assert!(
        crate::support::cpaudit_command(&url, &["user", "disable", "baiyin"])
            .status
            .success()
    );
    let disabled = app.attempt_login("baiyin", "baiyin-password-2").await;
    assert_eq!(disabled.status, StatusCode::UNAUTHORIZED);
    // Account changes are in the audit trail.
    assert!(
        crate::support::cpaudit_command(&url, &["audit-log", "verify"])
            .status
            .success()
    );
}

/// `docs/ROUTES.md` is generated from the route table, so the documentation cannot drift.
#[test]
fn the_route_list_in_the_docs_matches_the_route_table_snapshot() {
    let mut text = String::from(
        "# Routes\n\nGenerated from `crates/web/src/routes.rs` by the test \
         `the_route_list_in_the_docs_matches_the_route_table_snapshot`\n\
         (`UPDATE_SNAPSHOTS=1 cargo test --test integration snapshot`).\n\n\
         Pages use the session cookie and CSRF tokens; the API uses bearer tokens. Data is further\n\
         limited by the caller's scope: a city sees its own jurisdiction, an enterprise itself, a\n\
         consultancy the enterprises that engaged it; a record outside the scope answers 404.\n\n\
         | method | path | kind | who |\n|---|---|---|---|\n",
    );
    for spec in specs() {
        let who = match spec.access {
            cpaudit_web::routes::Access::Public => "anyone".to_string(),
            cpaudit_web::routes::Access::Roles(roles) => roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let kind = match spec.kind {
            Kind::Page => "page",
            Kind::Api => "API",
        };
        text.push_str(&format!(
            "| {} | `{}` | {kind} | {who} |\n",
            spec.method, spec.path
        ));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ROUTES.md");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::write(path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == text,
        "docs/ROUTES.md is stale: UPDATE_SNAPSHOTS=1 cargo test --test integration snapshot"
    );
}

/// The real binary: serves, answers /healthz, and stops cleanly on SIGTERM.
#[tokio::test]
async fn serve_answers_health_checks_and_stops_gracefully_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let store = crate::support::test_db().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cpaudit"))
        .args([
            "--database-url",
            &store.url,
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("CPAUDIT_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let address = first
        .trim()
        .trim_start_matches("cpaudit is serving http://")
        .trim_end_matches('/')
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{first}");

    let mut connection = std::net::TcpStream::connect(&address).unwrap();
    connection
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    connection.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("cpaudit stopped"), "{rest}");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::new().await;
    let browser = app.browser("province").await;
    for response in [
        app.get("/", None).await,
        app.get("/enterprises", Some(&browser)).await,
        app.get("/no-such-page", None).await,
        app.api("GET", "/api/v1/public/draws", None, None).await,
    ] {
        let header = |name: &str| {
            response
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("referrer-policy"), "same-origin");
        let policy = header("content-security-policy");
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(policy.contains("script-src 'none'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }
}
