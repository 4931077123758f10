//! Every page form, found as a person finds it — by following the links of the pages each role
//! sees — is submitted once with one field that cannot be right (a number that is no number, a
//! day that does not exist, a required field left empty). The answer must be the same form
//! again: refused with a client error, the message beside that field, and what was typed in
//! another field still there.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::body::Body;
use axum::http::{header, Request};
use scraper::{ElementRef, Html, Selector};

use crate::support::{Browser, TestApp};

/// The test world's people, one or more of each role.
const PEOPLE: &[&str] = &[
    "province",
    "lanzhou",
    "enterprise",
    "round1",
    "consultancy",
    "expert",
];
/// Pages read per person: enough to reach every kind of page of the test world.
const MAX_PAGES_PER_PERSON: usize = 250;
/// Pages read per kind of page (the same path with other ids).
const MAX_PAGES_PER_KIND: usize = 3;
/// What a person types into a field the test keeps an eye on.
const TYPED: &str = "留存的文字 kept text";

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// A path with each segment that names a record (a number, a code, a rule's id) replaced, so
/// that one kind of page or action is one key.
fn kind_of(path: &str) -> String {
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
fn followable(href: &str) -> Option<String> {
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

/// One field of a form as the page shows it.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: String,
    value: String,
    required: bool,
}

/// A form as found on a page.
#[derive(Debug, Clone)]
struct FoundForm {
    page: String,
    action: String,
    fields: Vec<Field>,
}

impl FoundForm {
    /// The hidden fields that tell forms with one action apart (which round action, which row).
    fn hidden_key(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter(|f| {
                f.kind == "hidden" && !["csrf_token", "_page", "version"].contains(&f.name.as_str())
            })
            .map(|f| (f.name.clone(), kind_of(&f.value)))
            .collect()
    }

    fn key(&self) -> String {
        format!("{} {:?}", kind_of(&self.action), self.hidden_key())
    }
}

fn fields_of(form: ElementRef) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut radios_seen = BTreeSet::new();
    for element in form.select(&selector("input[name], select[name], textarea[name]")) {
        let value = element.value();
        let name = value.attr("name").unwrap_or_default().to_string();
        let required = value.attr("required").is_some();
        match value.name() {
            "select" => {
                let chosen = element
                    .select(&selector("option[selected]"))
                    .next()
                    .or_else(|| element.select(&selector("option")).next());
                let value = chosen
                    .map(|option| {
                        option
                            .value()
                            .attr("value")
                            .map(str::to_string)
                            .unwrap_or_else(|| option.text().collect())
                    })
                    .unwrap_or_default();
                fields.push(Field {
                    name,
                    kind: "select".into(),
                    value,
                    required,
                });
            }
            "textarea" => fields.push(Field {
                name,
                kind: "textarea".into(),
                value: element.text().collect(),
                required,
            }),
            _ => {
                let kind = value.attr("type").unwrap_or("text").to_ascii_lowercase();
                let field_value = value.attr("value").unwrap_or_default().to_string();
                match kind.as_str() {
                    "checkbox" if value.attr("checked").is_none() => continue,
                    "checkbox" => {
                        let value = if field_value.is_empty() {
                            "on".into()
                        } else {
                            field_value
                        };
                        fields.push(Field {
                            name,
                            kind,
                            value,
                            required,
                        });
                    }
                    "radio" => {
                        let checked = value.attr("checked").is_some();
                        // The checked one, else the first of the group.
                        if checked {
                            fields.retain(|f: &Field| !(f.kind == "radio" && f.name == name));
                            radios_seen.insert(name.clone());
                            fields.push(Field {
                                name,
                                kind,
                                value: field_value,
                                required,
                            });
                        } else if !radios_seen.contains(&name)
                            && !fields.iter().any(|f| f.kind == "radio" && f.name == name)
                        {
                            fields.push(Field {
                                name,
                                kind,
                                value: field_value,
                                required,
                            });
                        }
                    }
                    "submit" | "button" | "reset" | "image" | "file" | "password" => continue,
                    _ => fields.push(Field {
                        name,
                        kind,
                        value: field_value,
                        required,
                    }),
                }
            }
        }
    }
    // The first named submit button is the one a person presses.
    if let Some(button) = form.select(&selector("button[name][value]")).next() {
        let value = button.value();
        fields.push(Field {
            name: value.attr("name").unwrap_or_default().into(),
            kind: "button".into(),
            value: value.attr("value").unwrap_or_default().into(),
            required: false,
        });
    }
    fields
}

fn forms_of(page: &str, html: &Html) -> Vec<FoundForm> {
    html.select(&selector("form"))
        .filter(|form| {
            let value = form.value();
            value
                .attr("method")
                .is_some_and(|m| m.eq_ignore_ascii_case("post"))
                && !value
                    .attr("enctype")
                    .is_some_and(|e| e.contains("multipart"))
        })
        .filter_map(|form| {
            let action = form.value().attr("action").unwrap_or(page).to_string();
            let pass = ["/logout", "/login", "/lang/"];
            (!pass.iter().any(|p| action.starts_with(p))).then(|| FoundForm {
                page: page.to_string(),
                action,
                fields: fields_of(form),
            })
        })
        .collect()
}

/// Every post form each person meets, one per kind.
async fn every_form(
    app: &TestApp,
    browsers: &BTreeMap<String, Browser>,
) -> Vec<(String, FoundForm)> {
    let mut forms: BTreeMap<String, (String, FoundForm)> = BTreeMap::new();
    for (person, browser) in browsers {
        // Every page without an id in its path is where a person may start.
        let mut queue: VecDeque<String> = cpaudit_web::routes::specs()
            .into_iter()
            .filter(|spec| {
                spec.kind == cpaudit_web::routes::Kind::Page
                    && spec.method == axum::http::Method::GET
                    && !spec.path.contains('{')
            })
            .filter_map(|spec| followable(&spec.path))
            .collect();
        let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
        let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
        let mut read = 0;
        while let Some(path) = queue.pop_front() {
            if read >= MAX_PAGES_PER_PERSON {
                break;
            }
            let response = app.get(&path, Some(browser)).await;
            if !response.status.is_success()
                || !response
                    .headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|t| t.to_str().unwrap_or_default().starts_with("text/html"))
            {
                continue;
            }
            read += 1;
            if std::env::var("SHOW_CRAWL").is_ok() {
                println!("{person} {path}");
            }
            let html = Html::parse_document(&response.text());
            for form in forms_of(&path, &html) {
                forms
                    .entry(form.key())
                    .or_insert_with(|| (person.clone(), form));
            }
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
        }
    }
    forms.into_values().collect()
}

/// The field to spoil and what to put in it.
fn spoil(form: &FoundForm) -> Option<(usize, &'static str)> {
    let position = |kind: &str| form.fields.iter().position(|f| f.kind == kind);
    if let Some(i) = position("number") {
        return Some((i, "abc"));
    }
    if let Some(i) = position("date") {
        return Some((i, "2027-02-30"));
    }
    form.fields
        .iter()
        .position(|f| f.required && ["text", "textarea"].contains(&f.kind.as_str()))
        .map(|i| (i, ""))
}

/// A field whose typed value the answer must keep: free text (a reason, a name, a note), other
/// than the spoiled one. Fields that hold ids or codes are left as they are.
fn watched(form: &FoundForm, spoiled: usize) -> Option<usize> {
    const FREE_TEXT: &[&str] = &[
        "reason",
        "note",
        "name",
        "title",
        "summary",
        "description",
        "detail",
        "place",
        "document_number",
        "team",
        "work_plan",
        "number_prefix",
        "plan_text",
    ];
    form.fields.iter().enumerate().position(|(i, f)| {
        i != spoiled
            && ["text", "textarea"].contains(&f.kind.as_str())
            && FREE_TEXT.iter().any(|word| f.name.contains(word))
    })
}

async fn submit(
    app: &TestApp,
    browser: &Browser,
    form: &FoundForm,
    fields: &[(String, String)],
) -> (u16, String) {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request = Request::post(&form.action)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &browser.cookie)
        .header(header::REFERER, format!("http://localhost{}", form.page))
        .body(Body::from(body))
        .unwrap();
    let response = app.send(request).await;
    (response.status.as_u16(), response.text())
}

/// What is wrong with the answer to a form with one spoiled field, if anything.
fn judge(
    form: &FoundForm,
    spoiled: &Field,
    kept: Option<&Field>,
    status: u16,
    html: &str,
) -> Option<String> {
    if !(400..500).contains(&status) {
        return Some(format!("answered {status}"));
    }
    let page = Html::parse_document(html);
    let hidden = form.hidden_key();
    let again = forms_of(&form.page, &page)
        .into_iter()
        .find(|f| f.action == form.action && f.hidden_key() == hidden);
    let Some(again) = again else {
        return Some(format!("answered {status} without the form"));
    };
    let error_id = format!("{}-error", spoiled.name);
    let beside = page
        .select(&selector(&format!(
            "form[action=\"{}\"] [id=\"{error_id}\"]",
            form.action
        )))
        .next()
        .is_some()
        || page
            .select(&selector(&format!(
                "[name=\"{}\"][aria-describedby]",
                spoiled.name
            )))
            .filter_map(|e| e.value().attr("aria-describedby"))
            .any(|ids| {
                ids.split_whitespace().any(|id| {
                    page.select(&selector(&format!("[id=\"{id}\"]")))
                        .next()
                        .is_some()
                })
            });
    if !beside {
        let said: Vec<String> = page
            .select(&selector(".field-error, [role=alert]"))
            .map(|e| {
                e.text()
                    .collect::<String>()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        return Some(format!(
            "no message beside `{}`; the page said {said:?}",
            spoiled.name
        ));
    }
    if let Some(kept) = kept {
        let value = again
            .fields
            .iter()
            .find(|f| f.name == kept.name)
            .map(|f| f.value.as_str());
        if value != Some(kept.value.as_str()) {
            return Some(format!("`{}` lost what was typed: {value:?}", kept.name));
        }
    }
    None
}

#[tokio::test]
async fn every_page_form_with_one_bad_field_comes_back_with_the_error_beside_it_and_the_rest_kept()
{
    let app = TestApp::new().await;
    // The enterprise of a round that has disclosed, so its start filing is open.
    let token = crate::rounds::enterprise_token(&app).await;
    crate::rounds::disclose(&app, &token, serde_json::json!({})).await;
    let mut browsers = BTreeMap::new();
    for person in PEOPLE {
        browsers.insert(person.to_string(), app.browser(person).await);
    }
    let forms = every_form(&app, &browsers).await;
    let mut tried = Vec::new();
    let mut nothing_to_spoil = Vec::new();
    let mut problems = Vec::new();
    for (person, form) in &forms {
        let Some((spoiled, bad)) = spoil(form) else {
            nothing_to_spoil.push(form.key());
            continue;
        };
        let kept = watched(form, spoiled);
        let mut fields: Vec<(String, String)> = Vec::new();
        for (i, field) in form.fields.iter().enumerate() {
            let value = if i == spoiled {
                bad.to_string()
            } else if Some(i) == kept && field.value.is_empty() {
                TYPED.to_string()
            } else {
                field.value.clone()
            };
            fields.push((field.name.clone(), value));
        }
        let (status, html) = submit(&app, &browsers[person], form, &fields).await;
        let kept_field = kept.map(|i| Field {
            value: fields[i].1.clone(),
            ..form.fields[i].clone()
        });
        tried.push(form.key());
        if let Some(problem) = judge(
            form,
            &form.fields[spoiled],
            kept_field.as_ref(),
            status,
            &html,
        ) {
            problems.push(format!(
                "{} (on {} as {person}, `{}` = {bad:?}): {problem}",
                form.action, form.page, form.fields[spoiled].name
            ));
        }
    }
    println!(
        "forms tried: {}; with no field to spoil: {nothing_to_spoil:#?}",
        tried.len()
    );
    assert!(
        problems.is_empty(),
        "{} of {} forms: {problems:#?}",
        problems.len(),
        tried.len()
    );
}
