//! The JSON API: creation and edits, every kind of bad input, and the OpenAPI document.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::registry::fresh_credit_code;
use crate::support::{enterprise_count, TestApp};

fn valid_body(credit_code: &str) -> Value {
    json!({
        "name": "兰州绿色化工有限公司",
        "credit_code": credit_code,
        "legal_representative": "王五",
        "address": "兰州市西固区环保路 1 号",
        "jurisdiction_code": "620100",
        "industry_code": "2614",
        "size_class": "小",
        "key_emission_unit": true,
        "permit_number": "",
    })
}

#[tokio::test]
async fn an_official_registers_reads_and_changes_an_enterprise() {
    let app = TestApp::new().await;
    let token = app.token("lanzhou").await;
    let code = fresh_credit_code(7);
    let created = app
        .api(
            "POST",
            "/api/v1/enterprises",
            Some(&token),
            Some(valid_body(&code)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    assert_eq!(body["size_class"], "small");
    assert!(body["key_industry_id"].as_str().is_some());
    let id = body["id"].as_i64().unwrap();
    assert_eq!(created.location(), format!("/api/v1/enterprises/{id}"));

    let fetched = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}"),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(fetched["enterprise"]["credit_code"], code.as_str());

    let found = app
        .api(
            "GET",
            &format!("/api/v1/enterprises?q={}", &code[10..16]),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(found["total"], 1);

    let version = body["version"].as_i64().unwrap();
    let patched = app
        .api(
            "PATCH",
            &format!("/api/v1/enterprises/{id}"),
            Some(&token),
            Some(json!({"status": "closed", "version": version})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(patched.json()["status"], "closed");
    let stale = app
        .api(
            "PATCH",
            &format!("/api/v1/enterprises/{id}"),
            Some(&token),
            Some(json!({"status": "active", "version": version})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.json()["error"]["code"], "version_conflict");
}

/// Posts a body and checks the refusal: status, error code, the field named, nothing written.
async fn refused(
    app: &TestApp,
    token: &str,
    body: Value,
    status: StatusCode,
    code: &str,
    field: &str,
) {
    let before = enterprise_count(app.db()).await;
    let response = app
        .api(
            "POST",
            "/api/v1/enterprises",
            Some(token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(response.status, status, "{body} → {}", response.text());
    let error = &response.json()["error"];
    assert_eq!(error["code"], code, "{body} → {error}");
    assert_eq!(error["field"], field, "{body} → {error}");
    assert!(!error["message"].as_str().unwrap().is_empty());
    assert_eq!(
        enterprise_count(app.db()).await,
        before,
        "nothing written for {body}"
    );
}

#[tokio::test]
async fn bad_enterprise_input_is_refused_naming_the_field() {
    let app = TestApp::new().await;
    let token = app.token("lanzhou").await;
    let good = fresh_credit_code(9);
    let with = |key: &str, value: Value| {
        let mut body = valid_body(&good);
        body[key] = value;
        body
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    // A wrong check digit: the last character replaced by another valid one.
    let last = good.chars().last().unwrap();
    let wrong_check = format!("{}{}", &good[..17], if last == '0' { '1' } else { '0' });
    refused(
        &app,
        &token,
        with("credit_code", json!(wrong_check)),
        unprocessable,
        "invalid_check_digit",
        "credit_code",
    )
    .await;
    refused(
        &app,
        &token,
        with("credit_code", json!(&good[..17])),
        unprocessable,
        "wrong_length",
        "credit_code",
    )
    .await;
    let illegal = format!("{}I{}", &good[..8], &good[9..]);
    refused(
        &app,
        &token,
        with("credit_code", json!(illegal)),
        unprocessable,
        "illegal_character",
        "credit_code",
    )
    .await;
    refused(
        &app,
        &token,
        with("industry_code", json!("9999")),
        unprocessable,
        "unknown_industry",
        "industry_code",
    )
    .await;
    refused(
        &app,
        &token,
        with("jurisdiction_code", json!("629900")),
        unprocessable,
        "unknown_jurisdiction",
        "jurisdiction_code",
    )
    .await;
    refused(
        &app,
        &token,
        with("name", json!("")),
        unprocessable,
        "required",
        "name",
    )
    .await;
    refused(
        &app,
        &token,
        with("name", json!("企".repeat(201))),
        unprocessable,
        "too_long",
        "name",
    )
    .await;
    refused(
        &app,
        &token,
        with("size_class", json!("巨")),
        unprocessable,
        "invalid_choice",
        "size_class",
    )
    .await;
    let mut missing = valid_body(&good);
    missing
        .as_object_mut()
        .unwrap()
        .remove("legal_representative");
    refused(
        &app,
        &token,
        missing,
        unprocessable,
        "required",
        "legal_representative",
    )
    .await;

    let operator = cpaudit_storage::Principal::console_operator("test");
    let taken = app
        .db()
        .search_enterprises(operator.scope(), &Default::default())
        .await
        .unwrap()
        .items[0]
        .credit_code
        .clone();
    refused(
        &app,
        &token,
        with("credit_code", json!(taken)),
        StatusCode::CONFLICT,
        "duplicate",
        "credit_code",
    )
    .await;
    // Another city's enterprise is outside the caller's jurisdiction.
    refused(
        &app,
        &token,
        with("jurisdiction_code", json!("620500")),
        StatusCode::FORBIDDEN,
        "outside_jurisdiction",
        "jurisdiction_code",
    )
    .await;
}

#[tokio::test]
async fn malformed_requests_get_json_errors_not_500s() {
    let app = TestApp::new().await;
    let token = app.token("province").await;
    let not_json = app
        .send(
            axum::http::Request::post("/api/v1/enterprises")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert!(not_json.json()["error"]["message"].as_str().is_some());
    let bad_filter = app
        .api("GET", "/api/v1/enterprises?size=huge", Some(&token), None)
        .await;
    assert_eq!(bad_filter.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_filter.json()["error"]["field"], "size");
    let bad_page = app
        .api(
            "GET",
            "/api/v1/enterprises?per_page=5000",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(bad_page.json()["error"]["field"], "per_page");
    let bad_id = app
        .api("GET", "/api/v1/enterprises/abc", Some(&token), None)
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    let wrong_token = app
        .api("GET", "/api/v1/enterprises", Some("not-a-token"), None)
        .await;
    assert_eq!(wrong_token.status, StatusCode::UNAUTHORIZED);
    let english = app
        .send(
            axum::http::Request::get("/api/v1/enterprises?size=huge")
                .header("authorization", format!("Bearer {token}"))
                .header("accept-language", "en-US,en;q=0.9")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(english.json()["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("parameter size"));
}

#[tokio::test]
async fn the_page_form_shows_the_servers_message_next_to_the_field() {
    let app = TestApp::new().await;
    let browser = app.browser("lanzhou").await;
    let response = app
        .post_form(
            "/enterprises",
            Some(&browser),
            &[
                ("_page", "/enterprises/new"),
                ("name", "兰州某公司"),
                ("credit_code", "91620100MA0000000X"),
                ("jurisdiction_code", "620100"),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text();
    assert!(html.contains("id=\"credit_code-error\""), "{html}");
    assert!(html.contains("统一社会信用代码"));
    assert!(html.contains("id=\"legal_representative-error\""));
    assert!(
        html.contains("value=\"兰州某公司\""),
        "the form keeps what was typed"
    );
}

/// Two types under one schema name would make the document describe one of them wrongly
/// (whichever operation is merged first wins).
#[test]
fn each_schema_name_of_the_openapi_document_stands_for_one_type() {
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut clashes = Vec::new();
    for spec in cpaudit_web::routes::specs() {
        let Some(entry) = spec.openapi else { continue };
        for (name, schema) in entry.schemas {
            let schema = serde_json::to_string(&schema).unwrap();
            match seen.get(&name) {
                Some(earlier) if *earlier != schema => clashes.push(name),
                Some(_) => {}
                None => {
                    seen.insert(name, schema);
                }
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "schema names used by two types: {clashes:?}"
    );
}

#[tokio::test]
async fn the_openapi_document_matches_its_snapshot_and_the_route_table() {
    let document = serde_json::to_value(cpaudit_web::api::openapi()).unwrap();
    let pretty = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let snapshot_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/integration/snapshots/openapi.json"
    );
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::write(snapshot_path, &pretty).unwrap();
    }
    let snapshot = std::fs::read_to_string(snapshot_path).unwrap_or_default();
    assert!(
        snapshot == pretty,
        "the OpenAPI document changed; review it and run UPDATE_SNAPSHOTS=1 cargo test --test integration openapi"
    );

    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut routed: Vec<(String, String)> = cpaudit_web::routes::specs()
        .into_iter()
        .filter(|spec| spec.kind == cpaudit_web::routes::Kind::Api)
        .map(|spec| (spec.method.to_string(), spec.path.to_string()))
        .collect();
    routed.sort();
    assert_eq!(
        documented, routed,
        "every API route is documented, and nothing else"
    );
}

/// A response field holding a JSON document as a string makes every client parse twice and
/// hides the document's shape; stored JSON is decoded when the row is read.
#[test]
fn no_field_of_the_openapi_document_holds_json_text() {
    let document = serde_json::to_value(cpaudit_web::api::openapi()).unwrap();
    let mut offenders = Vec::new();
    for (schema_name, schema) in document["components"]["schemas"].as_object().unwrap() {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        for (field, property) in properties {
            let description = property["description"].as_str().unwrap_or_default();
            let says_json = description.contains("JSON");
            if field.ends_with("_json") || (property["type"] == "string" && says_json) {
                offenders.push(format!("{schema_name}.{field}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "fields holding JSON as text: {offenders:?}"
    );
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = TestApp::new().await;
    let served = app.api("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.json()["info"]["title"], "cpaudit API");
}
