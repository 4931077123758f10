//! Reading the site as a person does: every page of the route table as a starting point (those
//! with ids for the first few records), then every link of this site, as far as a limit; each
//! kind of page a few times. The form test and the wording test read the pages this way.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::http::header;
use scraper::{Html, Selector};

use crate::support::{Browser, TestApp};

/// Pages read per person: enough to reach every kind of page of the test world.
const MAX_PAGES_PER_PERSON: usize = 250;
/// Pages read per kind of page (the same path with other ids).
const MAX_PAGES_PER_KIND: usize = 3;
pub fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// A path with each segment that names a record (a number, a code, a rule's id) replaced, so
/// that one kind of page or action is one key.
pub fn kind_of(path: &str) -> String {
    let path = path.split(['#', '?']).next().unwrap_or(path);
    path.split('/')
        .map(|segment| {
            let word = segment.chars().all(|c| {
                c.is_ascii_lowercase() || c == '-' || c == '_' || c == '?' || c == '=' || c == '&'
            });
            if word || segment.is_empty() {
                segment
            } else {
                "N"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Links a person would follow: this site's pages, not files, not the API, not sign-out.
pub fn followable(href: &str) -> Option<String> {
    let path = href.split('#').next()?;
    let skip = [
        "/logout", "/lang/", "/static/", "/login", "/api/", "/metrics", "/healthz",
    ];
    let is_file = [
        ".xlsx", ".csv", ".docx", ".pdf", ".svg", ".json", "/content",
    ]
    .iter()
    .any(|ending| path.split('?').next().unwrap_or(path).ends_with(ending));
    (path.starts_with('/')
        && !path.starts_with("//")
        && !skip.iter().any(|prefix| path.starts_with(prefix))
        && !is_file)
        .then(|| path.to_string())
}

/// Where a person may start: every page of the route table, those with ids in their path
/// with the first few records' ids (a link may lead there only in some states of the world).
pub fn starting_pages() -> Vec<String> {
    let mut pages = Vec::new();
    for spec in cpaudit_web::routes::specs() {
        if spec.kind != cpaudit_web::routes::Kind::Page || spec.method != axum::http::Method::GET {
            continue;
        }
        let numbered = ["{id}", "{option}", "{device}"];
        if !spec.path.contains('{') {
            pages.extend(followable(&spec.path));
        } else if numbered.iter().any(|p| spec.path.contains(p))
            && spec.path.matches('{').count() == 1
        {
            for id in 1..=3 {
                let path = numbered.iter().fold(spec.path.clone(), |path, p| {
                    path.replace(p, &id.to_string())
                });
                pages.extend(followable(&path));
            }
        }
    }
    pages
}

/// The HTML pages `person` (signed in with `browser`, or anyone) reads: their paths and their documents. `SHOW_CRAWL=1` prints them.
pub async fn pages(app: &TestApp, person: &str, browser: Option<&Browser>) -> Vec<(String, Html)> {
    let mut pages = Vec::new();
    let mut queue: VecDeque<String> = starting_pages().into();
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(path) = queue.pop_front() {
        if pages.len() >= MAX_PAGES_PER_PERSON {
            break;
        }
        let response = app.get(&path, browser).await;
        let is_html = response
            .headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.to_str().unwrap_or_default().starts_with("text/html"));
        if std::env::var("SHOW_CRAWL").is_ok() {
            println!("{person} {path} {}", response.status);
        }
        if !response.status.is_success() || !is_html {
            continue;
        }
        let html = Html::parse_document(&response.text());
        for link in html.select(&selector("a[href]")) {
            let Some(next) = link.value().attr("href").and_then(followable) else {
                continue;
            };
            let kind = kind_of(next.split('?').next().unwrap_or(&next));
            let count = per_kind.entry(kind).or_default();
            if *count < MAX_PAGES_PER_KIND && seen.insert(next.clone()) {
                *count += 1;
                queue.push_back(next);
            }
        }
        pages.push((path, html));
    }
    pages
}
