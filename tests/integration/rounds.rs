//! The audit round through the HTTP API: disclosure with trade secrets, the start filing and
//! its refusal of a sanctioned consultancy, phases, transitions refused with reasons, deadlines
//! met, the timeline, cancellation.

use axum::http::StatusCode;
use chrono::Duration;
use cpaudit_storage::auth::NewUser;
use cpaudit_storage::{Principal, Role};
use serde_json::{json, Value};

use crate::support::{test_now, TestApp, PASSWORD};

/// Round 1: the demo list's first round, a Lanzhou enterprise listed on 2027-01-10.
const ROUND: i64 = 1;

async fn round(app: &TestApp, token: &str) -> Value {
    let response = app
        .api("GET", &format!("/api/v1/rounds/{ROUND}"), Some(token), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

/// A user of the enterprise of round 1, and its token.
pub(crate) async fn enterprise_token(app: &TestApp) -> String {
    let operator = Principal::console_operator("test");
    let round = app
        .db()
        .get_round(operator.scope(), ROUND)
        .await
        .unwrap()
        .unwrap();
    app.db()
        .add_user(
            &operator,
            &NewUser {
                username: "round1".into(),
                display_name: "round one".into(),
                password: PASSWORD.into(),
                role: Role::Enterprise,
                jurisdiction_code: None,
                enterprise_id: Some(round.enterprise_id),
                consultancy_id: None,
                expert_id: None,
            },
            test_now(),
        )
        .await
        .unwrap();
    app.token("round1").await
}

async fn enterprise_of_round(app: &TestApp) -> i64 {
    let operator = Principal::console_operator("test");
    app.db()
        .get_round(operator.scope(), ROUND)
        .await
        .unwrap()
        .unwrap()
        .enterprise_id
}

/// Every item the round's reasons require, filled in.
async fn full_disclosure(app: &TestApp, token: &str) -> Value {
    let required = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/disclosure"),
            Some(token),
            Some(json!({"channel": "企业官网", "channel_detail": "https://example.cn/gk"})),
        )
        .await;
    assert_eq!(required.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = required.json()["error"]["details"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        missing > 5,
        "every missing item at once: {}",
        required.text()
    );
    let mut items = serde_json::Map::new();
    for key in [
        "enterprise_name",
        "legal_representative",
        "address",
        "pollutant_names",
        "discharge_mode",
        "concentrations",
        "totals",
        "exceedances",
        "applicable_standards",
        "toxic_materials",
        "toxic_discharges",
        "hazardous_waste",
        "risk_controls",
    ] {
        items.insert(key.into(), json!(format!("{key} 的内容")));
    }
    Value::Object(items)
}

/// An item the round's reasons require that may be claimed as a trade secret.
pub(crate) async fn secret_item(app: &TestApp, token: &str) -> &'static str {
    let reasons = round(app, token).await["round"]["reasons"]
        .as_str()
        .unwrap()
        .to_string();
    if reasons.contains("double_toxic") {
        "toxic_materials"
    } else {
        "pollutant_names"
    }
}

async fn act(app: &TestApp, token: &str, action: &str, reason: &str) -> crate::support::Response {
    app.api(
        "POST",
        &format!("/api/v1/rounds/{ROUND}/actions"),
        Some(token),
        Some(json!({"action": action, "reason": reason})),
    )
    .await
}

pub(crate) async fn disclose(app: &TestApp, token: &str, secrets: Value) {
    let items = full_disclosure(app, token).await;
    let saved = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/disclosure"),
            Some(token),
            Some(json!({"items": items, "channel": "企业官网",
                "channel_detail": "https://example.cn/gk", "secrets": secrets})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let published = act(app, token, "disclose", "").await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text());
}

#[tokio::test]
async fn a_listed_enterprise_discloses_and_the_public_sees_it_without_its_trade_secrets() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    let secret = secret_item(&app, &token).await;
    disclose(
        &app,
        &token,
        json!({secret: "原料配方属于核心工艺，公开将损害竞争地位"}),
    )
    .await;
    let after = round(&app, &token).await;
    assert_eq!(after["round"]["state"], "disclosed");
    let disclose_deadline = after["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "disclose")
        .unwrap();
    assert_eq!(disclose_deadline["standing"], "met");
    assert_eq!(disclose_deadline["met_on"], "2027-01-15");

    let public = app
        .api(
            "GET",
            &format!("/api/v1/public/disclosures/{ROUND}"),
            None,
            None,
        )
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    let public = public.json();
    assert_eq!(public["late"], false);
    let items = public["items"].as_array().unwrap();
    let withheld = items.iter().find(|i| i["key"] == secret).unwrap();
    assert_eq!(withheld["item"]["shown"], "withheld");
    assert!(withheld["item"]["reason"]
        .as_str()
        .unwrap()
        .contains("核心工艺"));
    assert!(!public.to_string().contains(&format!("{secret} 的内容")));
    let page = app.get(&format!("/public/disclosures/{ROUND}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("enterprise_name 的内容"));
}

#[tokio::test]
async fn the_city_rejects_an_unjustified_trade_secret_claim_and_the_item_is_published() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    let secret = secret_item(&app, &token).await;
    disclose(&app, &token, json!({secret: "不愿公开"})).await;
    let city = app.token("lanzhou").await;
    let no_reason = app
        .api(
            "POST",
            &format!("/api/v1/rounds/{ROUND}/secret-claims/{secret}/reject"),
            Some(&city),
            Some(json!({"reason": " "})),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    let other_city = app.token("tianshui").await;
    let refused = app
        .api(
            "POST",
            &format!("/api/v1/rounds/{ROUND}/secret-claims/{secret}/reject"),
            Some(&other_city),
            Some(json!({"reason": "排放污染物名称不属于商业秘密"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let rejected = app
        .api(
            "POST",
            &format!("/api/v1/rounds/{ROUND}/secret-claims/{secret}/reject"),
            Some(&city),
            Some(json!({"reason": "排放污染物名称依法应当公开，不属于商业秘密"})),
        )
        .await;
    assert_eq!(
        rejected.status,
        StatusCode::NO_CONTENT,
        "{}",
        rejected.text()
    );
    let public = app
        .api(
            "GET",
            &format!("/api/v1/public/disclosures/{ROUND}"),
            None,
            None,
        )
        .await
        .json();
    let item = public["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == secret)
        .unwrap();
    assert_eq!(item["item"]["shown"], "value");
    assert_eq!(item["item"]["text"], format!("{secret} 的内容"));
    let timeline = round(&app, &token).await["timeline"].clone();
    assert!(timeline
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "secret_claim_rejected"
            && e["actor"].as_str().unwrap().contains("lanzhou")));
}

#[tokio::test]
async fn an_enterprise_that_discloses_after_the_month_is_flagged_late() {
    // Listed 2027-01-10: the disclosure is due by 2027-02-10 (办法 Art. 11, one month).
    let app = TestApp::new().await;
    app.clock.advance(Duration::days(30));
    let token = enterprise_token(&app).await;
    disclose(&app, &token, json!({})).await;
    let public = app
        .api(
            "GET",
            &format!("/api/v1/public/disclosures/{ROUND}"),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(public["late"], true, "{public}");
    assert_eq!(public["summary"]["due_on"], "2027-02-10");
}

#[tokio::test]
async fn a_disclosure_without_a_reason_for_its_secret_is_refused_naming_the_item() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    let items = full_disclosure(&app, &token).await;
    let response = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/disclosure"),
            Some(&token),
            Some(
                json!({"items": items, "channel": "企业官网", "channel_detail": "x",
                "secrets": {"enterprise_name": "不愿公开"}}),
            ),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json()["error"]["field"], "enterprise_name");
    let unknown = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/disclosure"),
            Some(&token),
            Some(json!({"items": {"favourite_colour": "red"}, "channel": "企业官网", "channel_detail": "x"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json()["error"]["field"], "favourite_colour");
}

#[tokio::test]
async fn an_illegal_transition_is_refused_with_the_state_and_what_is_possible() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    let refused = act(&app, &token, "apply_acceptance", "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("已列入名单"), "{message}");
    assert!(message.contains("发布信息公开"), "{message}");
    let early = act(&app, &token, "disclose", "").await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("信息公开的必填项"));
    let unknown = act(&app, &token, "win", "").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_the_city_or_province_cancels_and_only_with_a_reason() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    let by_enterprise = act(&app, &token, "cancel", "企业已关停").await;
    assert_eq!(by_enterprise.status, StatusCode::FORBIDDEN);
    let city = app.token("lanzhou").await;
    assert_eq!(
        act(&app, &city, "cancel", "").await.status,
        StatusCode::BAD_REQUEST
    );
    let cancelled = act(&app, &city, "cancel", "企业已依法关停（演示）").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text());
    let after = cancelled.json();
    assert_eq!(after["round"]["state"], "cancelled");
    assert!(after["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["standing"] == "stopped"));
    assert!(after["actions"].as_array().unwrap().is_empty());
    let again = act(&app, &city, "cancel", "再次撤销").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_start_filing_refuses_a_sanctioned_consultancy_and_says_what_to_do() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    disclose(&app, &token, json!({})).await;
    let enterprise = enterprise_of_round(&app).await;
    let province = app.token("province").await;
    // Consultancy 2 is engaged while still clean, then blacklisted by the province.
    let engaged = app
        .api(
            "POST",
            &format!("/api/v1/enterprises/{enterprise}/engagements"),
            Some(&token),
            Some(json!({"consultancy_id": 2})),
        )
        .await;
    assert!(engaged.status.is_success(), "{}", engaged.text());
    let filing = json!({"mode": "consultancy", "consultancy_id": 2,
        "team": "张三，厂长，组长\n李四，环保科长，组员", "work_plan": "2027年2月完成预审核"});
    let saved = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/start"),
            Some(&token),
            Some(filing.clone()),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let sanction = app
        .api(
            "POST",
            "/api/v1/consultancies/2/sanctions",
            Some(&province),
            Some(json!({"kind": "blacklist", "reason": "审核报告弄虚作假"})),
        )
        .await;
    assert_eq!(sanction.status, StatusCode::CREATED, "{}", sanction.text());
    let refused = act(&app, &token, "file_start", "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("审核报告弄虚作假"), "{message}");
    assert!(
        message.contains("更换咨询服务机构或改为自行审核"),
        "{message}"
    );
    let resave = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/start"),
            Some(&token),
            Some(filing),
        )
        .await;
    assert_eq!(resave.status, StatusCode::BAD_REQUEST);
    assert_eq!(resave.json()["error"]["field"], "consultancy_id");
    // A self-audit needs the Art. 15 evidence; with it the start is filed.
    let self_audit = json!({"mode": "self", "team": "张三，厂长，组长", "work_plan": "计划"});
    app.api(
        "PUT",
        &format!("/api/v1/rounds/{ROUND}/start"),
        Some(&token),
        Some(self_audit),
    )
    .await;
    let missing = act(&app, &token, "file_start", "").await;
    assert_eq!(missing.status, StatusCode::CONFLICT);
    let complete = json!({"mode": "self", "team": "张三，厂长，组长", "work_plan": "计划",
        "art15_instruments": "电子天平、流量计、电能表", "art15_staff": "环保工程师二名"});
    let saved = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/start"),
            Some(&token),
            Some(complete),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let started = act(&app, &token, "file_start", "").await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    assert_eq!(started.json()["round"]["state"], "started");
}

#[tokio::test]
async fn phases_are_dated_after_the_start_and_never_in_the_future() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    let phase = |n: i64, done: &str| json!({"phase": n, "started_on": "2027-01-11", "completed_on": done, "summary": "完成"});
    let early = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/phases"),
            Some(&token),
            Some(phase(1, "2027-01-12")),
        )
        .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    disclose(&app, &token, json!({})).await;
    app.api(
        "PUT",
        &format!("/api/v1/rounds/{ROUND}/start"),
        Some(&token),
        Some(json!({"mode": "self", "team": "张三", "work_plan": "计划",
            "art15_instruments": "流量计", "art15_staff": "工程师"})),
    )
    .await;
    assert_eq!(
        act(&app, &token, "file_start", "").await.status,
        StatusCode::OK
    );
    let future = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/phases"),
            Some(&token),
            Some(phase(1, "2027-03-01")),
        )
        .await;
    assert_eq!(future.status, StatusCode::BAD_REQUEST);
    assert_eq!(future.json()["error"]["field"], "completed_on");
    let eighth = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/phases"),
            Some(&token),
            Some(phase(8, "2027-01-12")),
        )
        .await;
    assert_eq!(eighth.json()["error"]["field"], "phase");
    let ok = app
        .api(
            "PUT",
            &format!("/api/v1/rounds/{ROUND}/phases"),
            Some(&token),
            Some(phase(1, "2027-01-14")),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let body = ok.json();
    assert_eq!(body["phases"][0]["completed_on"], "2027-01-14");
    // Submitting the report still needs phases 2–5, the report and options: all named.
    let refused = act(&app, &token, "submit_report", "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("预审核"), "{message}");
    assert!(message.contains("清洁生产审核报告"), "{message}");
}

#[tokio::test]
async fn the_round_page_shows_deadlines_with_citations_actions_and_the_timeline() {
    let app = TestApp::new().await;
    enterprise_token(&app).await;
    let browser = app.browser("round1").await;
    let page = app.get(&format!("/rounds/{ROUND}"), Some(&browser)).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("2027-02-10"), "disclose deadline shown");
    assert!(text.contains("清洁生产审核办法"), "citation shown");
    assert!(text.contains("发布信息公开"), "the next action shown");
    assert!(text.contains("列入名单"), "timeline shown");
    let list = app.get("/rounds?state=listed", Some(&browser)).await;
    assert_eq!(list.status, StatusCode::OK);
    let bad = app.get("/rounds?state=nonsense", Some(&browser)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_work_list_filters_by_state_city_and_overdue_and_exports_xlsx() {
    let app = TestApp::new().await;
    let city = app.token("lanzhou").await;
    let all = app
        .api("GET", "/api/v1/rounds", Some(&city), None)
        .await
        .json();
    let rows = all.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["jurisdiction_code"] == "620100"));
    let none_overdue = app
        .api("GET", "/api/v1/rounds?overdue=1", Some(&city), None)
        .await
        .json();
    assert!(none_overdue.as_array().unwrap().is_empty());
    app.clock.advance(Duration::days(40));
    let city = app.token("lanzhou").await;
    let overdue = app
        .api("GET", "/api/v1/rounds?overdue=1", Some(&city), None)
        .await
        .json();
    assert_eq!(overdue.as_array().unwrap().len(), rows.len());
    let province = app.browser("province").await;
    let xlsx = app.get("/rounds.xlsx?overdue=1", Some(&province)).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"));
}

#[test]
fn the_documented_transition_table_is_the_machine() {
    use cpaudit_core::round::RoundMachine;
    use cpaudit_core::rules::RuleBook;
    let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
    let table = RoundMachine::from_book(&RuleBook::embedded(), day)
        .unwrap()
        .markdown_table();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ROUND.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = "<!-- transition table: generated, do not edit by hand -->\n";
    let end = "<!-- end of transition table -->";
    let (head, rest) = doc.split_once(start).expect("start marker");
    let (current, tail) = rest.split_once(end).expect("end marker");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, format!("{head}{start}{table}{end}{tail}")).unwrap();
        return;
    }
    assert_eq!(
        current, table,
        "docs/ROUND.md is stale: run UPDATE_SNAPSHOTS=1 cargo test --test integration documented_transition"
    );
}

#[tokio::test]
async fn each_caller_sees_what_needs_its_action_now() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    let mine = app
        .api("GET", "/api/v1/work", Some(&token), None)
        .await
        .json();
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{mine}");
    assert_eq!(items[0]["round_id"], ROUND);
    assert_eq!(items[0]["actions"], json!(["disclose"]));
    assert_eq!(items[0]["next_due_on"], "2027-02-10");
    // The city has nothing to do while its enterprises disclose, except claims to look at.
    disclose(
        &app,
        &token,
        json!({secret_item(&app, &token).await: "核心工艺"}),
    )
    .await;
    let city = app.token("lanzhou").await;
    let work = app
        .api("GET", "/api/v1/work", Some(&city), None)
        .await
        .json();
    assert_eq!(work["secret_claims"].as_array().unwrap().len(), 1, "{work}");
    assert_eq!(work["overdue_rounds"], 0);
    let page = app.get("/work", Some(&app.browser("round1").await)).await;
    assert!(
        page.text().contains("开展审核备案"),
        "the next step after disclosure"
    );
}
