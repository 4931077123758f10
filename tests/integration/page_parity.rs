//! Every write the API offers has a page through which each role the API admits takes it, or
//! says why not: no flow is left to the API.

use cpaudit_storage::Role;
use cpaudit_web::routes::{table, Access, Kind, PageFor, API_WRITES};

fn admits(access: Access, role: Role) -> bool {
    match access {
        Access::Public => true,
        Access::Roles(roles) => roles.contains(&role),
    }
}

#[test]
fn every_api_write_has_a_page_for_each_role_it_admits_or_a_reason() {
    let routes: Vec<(String, Kind, Access)> = table()
        .into_iter()
        .map(|(spec, _)| {
            (
                format!("{} {}", spec.method, spec.path),
                spec.kind,
                spec.access,
            )
        })
        .collect();
    let route = |name: &str, kind: Kind| {
        routes
            .iter()
            .find(|(n, k, _)| n == name && *k == kind)
            .map(|(_, _, access)| *access)
    };
    let mut problems = Vec::new();
    for (name, kind, access) in &routes {
        let is_write = !name.starts_with("GET ");
        if *kind != Kind::Api || !is_write {
            continue;
        }
        match API_WRITES.iter().find(|(api, _)| api == name) {
            None => problems.push(format!("{name}: not in API_WRITES")),
            Some((_, PageFor::ApiOnly(reason))) => assert!(!reason.is_empty(), "{name}"),
            Some((_, PageFor::Page(page))) => match route(page, Kind::Page) {
                None => problems.push(format!("{name}: no page route {page}")),
                Some(page_access) => {
                    for role in Role::ALL {
                        if admits(*access, role) && !admits(page_access, role) {
                            problems.push(format!("{name}: {page} does not admit {role:?}"));
                        }
                    }
                }
            },
        }
    }
    for (api, _) in API_WRITES {
        if route(api, Kind::Api).is_none() {
            problems.push(format!("API_WRITES names {api}, which is no API route"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_deliberately_api_only_writes_are_these() {
    let api_only: Vec<&str> = API_WRITES
        .iter()
        .filter(|(_, page)| matches!(page, PageFor::ApiOnly(_)))
        .map(|(api, _)| *api)
        .collect();
    assert_eq!(api_only, vec!["POST /api/v1/auth/token"]);
}
