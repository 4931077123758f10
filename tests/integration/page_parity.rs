//! Every write the API offers has a page through which each role the API admits takes it, or
//! says why not: no flow is left to the API.

use cpaudit_storage::Role;
use cpaudit_web::routes::{table, Access, Kind, PageFor, RouteSpec, API_WRITES};

fn admits(access: Access, role: Role) -> bool {
    match access {
        Access::Public => true,
        Access::Roles(roles) => roles.contains(&role),
    }
}

fn name(spec: &RouteSpec) -> String {
    format!("{} {}", spec.method, spec.path)
}

/// The page through which an API write is taken: its twin when the action is declared once,
/// else the page `API_WRITES` names; `Err` with a reason for a deliberately API-only write.
fn page_of(spec: &RouteSpec) -> Result<Option<String>, String> {
    let listed = API_WRITES.iter().find(|(api, _)| *api == name(spec));
    match (&spec.twin, listed) {
        (Some(_), Some(_)) => Err(format!(
            "{}: an action, and listed in API_WRITES",
            name(spec)
        )),
        (Some(twin), None) => Ok(Some(twin.clone())),
        (None, Some((_, PageFor::Page { page, .. }))) => Ok(Some(page.to_string())),
        (None, Some((_, PageFor::ApiOnly(reason)))) => {
            assert!(!reason.is_empty(), "{}", name(spec));
            Ok(None)
        }
        (None, None) => Err(format!(
            "{}: neither an action nor in API_WRITES",
            name(spec)
        )),
    }
}

#[test]
fn every_api_write_has_a_page_for_each_role_it_admits_or_a_reason() {
    let specs: Vec<RouteSpec> = table().into_iter().map(|(spec, _)| spec).collect();
    let page_access = |page: &str| {
        specs
            .iter()
            .find(|spec| spec.kind == Kind::Page && name(spec) == page)
            .map(|spec| spec.access)
    };
    let mut problems = Vec::new();
    let writes = specs
        .iter()
        .filter(|spec| spec.kind == Kind::Api && spec.method != axum::http::Method::GET);
    for spec in writes {
        let page = match page_of(spec) {
            Ok(Some(page)) => page,
            Ok(None) => continue,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let Some(access) = page_access(&page) else {
            problems.push(format!("{}: no page route {page}", name(spec)));
            continue;
        };
        for role in Role::ALL {
            if admits(spec.access, role) && !admits(access, role) {
                problems.push(format!("{}: {page} does not admit {role:?}", name(spec)));
            }
        }
    }
    for (api, _) in API_WRITES {
        if !specs
            .iter()
            .any(|spec| spec.kind == Kind::Api && name(spec) == *api)
        {
            problems.push(format!("API_WRITES names {api}, which is no API route"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_action_declared_once_has_one_access_rule_for_its_page_and_its_api() {
    let specs: Vec<RouteSpec> = table().into_iter().map(|(spec, _)| spec).collect();
    let declared: Vec<&RouteSpec> = specs.iter().filter(|spec| spec.twin.is_some()).collect();
    assert!(declared.len() >= 10, "{} routes of actions", declared.len());
    for spec in declared {
        let twin = spec.twin.as_deref().unwrap();
        let other = specs
            .iter()
            .find(|other| name(other) == twin)
            .unwrap_or_else(|| panic!("{}: its twin {twin} is no route", name(spec)));
        assert_eq!(other.twin.as_deref(), Some(name(spec).as_str()));
        assert_eq!(other.access, spec.access, "{}", name(spec));
        assert_ne!(other.kind, spec.kind, "{}", name(spec));
    }
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
