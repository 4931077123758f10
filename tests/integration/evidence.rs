//! Evidence against enterprises (form, API, import), the decision on candidates by the
//! enterprise's city, and the import of past audit rounds.

use axum::http::StatusCode;
use chrono::NaiveDate;
use cpaudit_core::determination::EvidenceStatus;
use cpaudit_core::evidence::EvidenceDraft;
use cpaudit_office::{Cell, SheetSpec};
use cpaudit_storage::Principal;
use serde_json::{json, Value};

use crate::registry::fresh_credit_code;
use crate::support::{demo_enterprise_id, test_now, Auth, TestApp};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
}

/// An enterprise of its own for a test (the demo enterprises carry demo evidence and rounds):
/// its id and credit code.
async fn fresh_enterprise(app: &TestApp, city: &str, serial: u32) -> (i64, String) {
    let code = fresh_credit_code(700_000 + serial);
    let token = app.token("province").await;
    let created = app
        .api(
            "POST",
            "/api/v1/enterprises",
            Some(&token),
            Some(json!({
                "name": format!("证据测试{serial}有限公司"),
                "credit_code": code,
                "legal_representative": "王五",
                "address": "测试路 1 号",
                "jurisdiction_code": city,
                "industry_code": "4411",
                "size_class": "small",
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    (created.json()["id"].as_i64().unwrap(), code)
}

/// A COD exceedance as the add form posts it.
fn exceedance_form<'a>(document_ref: &'a str, amount: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "concentration_exceedance"),
        ("observed_on", "2026-08-14"),
        ("source", "supervisory_monitoring"),
        ("document_ref", document_ref),
        ("substance", "COD"),
        ("amount", amount),
        ("limit", "100"),
        ("unit", "mg/L"),
        ("standard", "GB 8978-1996"),
        ("toxic_category", ""),
        ("hw_code", ""),
    ]
}

/// Evidence produced automatically, as the online-monitoring receiver records it.
async fn candidate(
    app: &TestApp,
    enterprise_id: i64,
    document_ref: &str,
    observed_on: &str,
) -> i64 {
    let draft = EvidenceDraft {
        kind: "concentration_exceedance".into(),
        observed_on: observed_on.into(),
        source: "online_monitoring".into(),
        document_ref: document_ref.into(),
        substance: "SO2".into(),
        amount: "260".into(),
        limit: "200".into(),
        unit: "mg/m3".into(),
        standard: "GB 13223-2011".into(),
        ..EvidenceDraft::default()
    };
    let valid = draft.validate(today()).unwrap();
    app.db()
        .add_evidence(
            &Principal::console_operator("hj212-receiver"),
            &crate::support::read::enterprise(app.db(), enterprise_id).await,
            &valid,
            EvidenceStatus::Candidate,
            test_now(),
        )
        .await
        .unwrap()
}

async fn evidence_of(app: &TestApp, token: &str, enterprise_id: i64) -> Vec<Value> {
    let response = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{enterprise_id}/evidence"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json().as_array().unwrap().clone()
}

async fn evidence_row(app: &TestApp, token: &str, enterprise_id: i64, id: i64) -> Value {
    evidence_of(app, token, enterprise_id)
        .await
        .into_iter()
        .find(|row| row["id"] == id)
        .unwrap()
}

fn workbook(headers: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|row| row.iter().map(|text| Cell::from(*text)).collect())
        .collect();
    cpaudit_office::write_xlsx(
        &SheetSpec {
            name: "证据",
            headers,
            column_widths: None,
        },
        &cells,
    )
    .unwrap()
}

const EVIDENCE_HEADERS: [&str; 12] = [
    "统一社会信用代码",
    "证据类型",
    "观测日期",
    "证据来源",
    "证明文件编号",
    "污染物或物质",
    "数值",
    "限值",
    "单位",
    "执行标准",
    "有毒有害类别",
    "危险废物类别",
];

fn exceedance_row<'a>(code: &'a str, document_ref: &'a str, observed_on: &'a str) -> Vec<&'a str> {
    vec![
        code,
        "超过排放标准",
        observed_on,
        "监督性监测",
        document_ref,
        "颗粒物",
        "45",
        "30",
        "mg/m3",
        "GB 4915-2013",
        "",
        "",
    ]
}

/// The audit trail of one piece of evidence: (action, actor, after).
async fn trail(app: &TestApp, evidence_id: i64) -> Vec<(String, String, Option<String>)> {
    let sql = "SELECT action, actor, after FROM audit_log WHERE entity_type = 'evidence' \
               AND entity_id = $1 ORDER BY seq";
    let id = evidence_id.to_string();
    match app.db() {
        cpaudit_storage::Db::Sqlite(pool) => {
            sqlx::query_as(sql).bind(&id).fetch_all(pool).await.unwrap()
        }
        cpaudit_storage::Db::Postgres(pool) => {
            sqlx::query_as(sql).bind(&id).fetch_all(pool).await.unwrap()
        }
    }
}

#[tokio::test]
async fn a_city_official_adds_an_exceedance_by_form_and_it_shows_as_confirmed_with_who_entered_it()
{
    let app = TestApp::new().await;
    let (id, _) = fresh_enterprise(&app, "620100", 1).await;
    let browser = app.browser("lanzhou").await;
    let page = app
        .get(&format!("/enterprises/{id}/evidence"), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .text()
        .contains(&format!("action=\"/enterprises/{id}/evidence\"")));

    let added = app
        .post_form(
            &format!("/enterprises/{id}/evidence"),
            Some(&browser),
            &exceedance_form("兰环监字〔2026〕118号", "120"),
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    assert!(added
        .location()
        .starts_with(&format!("/enterprises/{id}/evidence#evidence-")));

    let html = app
        .get(&format!("/enterprises/{id}/evidence"), Some(&browser))
        .await
        .text();
    assert!(html.contains("兰环监字〔2026〕118号"), "{html}");
    assert!(html.contains("COD 120 mg/L") && html.contains("100 mg/L (GB 8978-1996)"));
    assert!(html.contains("已确认") && html.contains("lanzhou"));
    assert!(html.contains("超过排放标准") && html.contains("监督性监测"));

    let token = app.token("lanzhou").await;
    let rows = evidence_of(&app, &token, id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "confirmed");
    assert_eq!(rows[0]["confirmed_on"], "2027-01-15");
    assert!(rows[0]["entered_by"]
        .as_str()
        .unwrap()
        .ends_with(":lanzhou"));
}

#[tokio::test]
async fn a_value_under_its_limit_is_refused_next_to_amount_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let (id, _) = fresh_enterprise(&app, "620100", 1).await;
    let browser = app.browser("lanzhou").await;
    let page = format!("/enterprises/{id}/evidence");
    let mut form = exceedance_form("兰环监字〔2026〕119号", "80");
    form.push(("_page", &page));
    let refused = app.post_form(&page, Some(&browser), &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    let amount = html.find("id=\"amount\"").expect("the amount field");
    let error = html
        .find("id=\"amount-error\"")
        .expect("an error at amount");
    let next_field = html.find("id=\"limit\"").unwrap();
    assert!(
        amount < error && error < next_field,
        "the error sits by its field"
    );
    assert!(html[error..next_field].contains("未超过限值 100"), "{html}");
    // What was typed is kept.
    assert!(html.contains("value=\"80\"") && html.contains("value=\"兰环监字〔2026〕119号\""));
    assert!(html.contains("value=\"concentration_exceedance\" selected"));

    let token = app.token("lanzhou").await;
    assert!(evidence_of(&app, &token, id).await.is_empty());
}

#[tokio::test]
async fn the_api_names_each_bad_field_in_a_4xx_json_error() {
    let app = TestApp::new().await;
    let (id, _) = fresh_enterprise(&app, "620100", 1).await;
    let token = app.token("lanzhou").await;
    let path = format!("/api/v1/enterprises/{id}/evidence");
    let good = json!({
        "kind": "concentration_exceedance",
        "observed_on": "2026-08-14",
        "source": "supervisory_monitoring",
        "document_ref": "兰环监字〔2026〕120号",
        "substance": "COD",
        "amount": 120,
        "limit": 100,
        "unit": "mg/L",
        "standard": "GB 8978-1996",
    });
    let toxic = json!({"kind": "toxic_raw_material", "substance": "氰化钠", "amount": "12", "unit": "t", "limit": "", "standard": ""});
    let cases = [
        (json!({"kind": "rumour"}), "kind"),
        (json!({"observed_on": "2027-02-30"}), "observed_on"),
        (json!({"observed_on": "2027-01-16"}), "observed_on"),
        (json!({"source": "newspaper"}), "source"),
        (json!({"document_ref": " "}), "document_ref"),
        (json!({"amount": "abc"}), "amount"),
        (json!({"amount": 80}), "amount"),
        (json!({"limit": null}), "limit"),
        (json!({"unit": ""}), "unit"),
        (json!({"standard": ""}), "standard"),
        (
            toxic.clone().merge(json!({"toxic_category": 6})),
            "toxic_category",
        ),
        (
            json!({"kind": "hazardous_waste", "substance": "废矿物油", "amount": 35.5, "unit": "t", "hw_code": "HW51"}),
            "hw_code",
        ),
        (
            json!({"kind": "heavy_metal", "substance": "Zn", "amount": 3.2, "unit": "kg"}),
            "substance",
        ),
    ];
    for (changes, field) in cases {
        let response = app
            .api(
                "POST",
                &path,
                Some(&token),
                Some(good.clone().merge(changes.clone())),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{changes}"
        );
        assert_eq!(response.json()["error"]["field"], field, "{changes}");
    }
    assert!(evidence_of(&app, &token, id).await.is_empty());

    let created = app
        .api("POST", &path, Some(&token), Some(good.clone()))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let row = created.json();
    assert_eq!(row["status"], "confirmed");
    assert_eq!(row["summary"], "COD 120 mg/L > 100 mg/L (GB 8978-1996)");
    let toxic = app
        .api(
            "POST",
            &path,
            Some(&token),
            Some(good.merge(toxic).merge(json!({"toxic_category": 2}))),
        )
        .await;
    assert_eq!(toxic.status, StatusCode::CREATED, "{}", toxic.text());
    assert_eq!(toxic.json()["toxic_category"], 2);
}

/// Shallow merge of JSON objects, for building request bodies.
trait Merge {
    fn merge(self, other: Value) -> Value;
}

impl Merge for Value {
    fn merge(mut self, other: Value) -> Value {
        for (key, value) in other.as_object().unwrap() {
            self[key] = value.clone();
        }
        self
    }
}

#[tokio::test]
async fn tianshui_can_neither_add_to_nor_see_a_lanzhou_enterprise_evidence() {
    let app = TestApp::new().await;
    let (id, _) = fresh_enterprise(&app, "620100", 1).await;
    let lanzhou = app.token("lanzhou").await;
    let created = app
        .api(
            "POST",
            &format!("/api/v1/enterprises/{id}/evidence"),
            Some(&lanzhou),
            Some(json!({"kind": "heavy_metal", "observed_on": "2026-05-01", "source": "pollution_census",
                "document_ref": "普查表 620100-17", "substance": "Cd", "amount": 1.5, "unit": "kg"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let evidence_id = created.json()["id"].as_i64().unwrap();

    let browser = app.browser("tianshui").await;
    let token = app.token("tianshui").await;
    let form = app
        .post_form(
            &format!("/enterprises/{id}/evidence"),
            Some(&browser),
            &exceedance_form("天环监字〔2026〕1号", "120"),
        )
        .await;
    assert_eq!(form.status, StatusCode::NOT_FOUND);
    let api = app
        .api(
            "POST",
            &format!("/api/v1/enterprises/{id}/evidence"),
            Some(&token),
            Some(json!({"kind": "heavy_metal"})),
        )
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/enterprises/{id}/evidence"), Some(&browser))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(
            "GET",
            &format!("/api/v1/enterprises/{id}/evidence"),
            Some(&token),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let listed = app
        .api("GET", "/api/v1/evidence?city=620100", Some(&token), None)
        .await;
    assert_eq!(listed.json(), json!([]), "a filter cannot widen the scope");
    let decided = app
        .api(
            "POST",
            &format!("/api/v1/evidence/{evidence_id}/decision"),
            Some(&token),
            Some(json!({"decision": "dismiss", "reason": "不是我们的"})),
        )
        .await;
    assert_eq!(decided.status, StatusCode::NOT_FOUND);
    assert_eq!(evidence_of(&app, &lanzhou, id).await.len(), 1);
}

#[tokio::test]
async fn a_candidate_is_confirmed_only_by_its_city_with_a_reason() {
    let app = TestApp::new().await;
    let (id, _) = fresh_enterprise(&app, "620100", 1).await;
    let evidence_id = candidate(&app, id, "在线监测 MN620100001 2026-12-03", "2026-12-03").await;
    let path = format!("/api/v1/evidence/{evidence_id}/decision");
    let confirm = json!({"decision": "confirm", "reason": "已核对监测报告", "version": 1});

    let province = app.token("province").await;
    let refused = app
        .api("POST", &path, Some(&province), Some(confirm.clone()))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    let tianshui = app.token("tianshui").await;
    let hidden = app
        .api("POST", &path, Some(&tianshui), Some(confirm.clone()))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    let lanzhou = app.token("lanzhou").await;
    let no_reason = app
        .api(
            "POST",
            &path,
            Some(&lanzhou),
            Some(json!({"decision": "confirm", "reason": "  ", "version": 1})),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.json()["error"]["field"], "reason");
    let unknown = app
        .api(
            "POST",
            &path,
            Some(&lanzhou),
            Some(json!({"decision": "maybe", "reason": "x"})),
        )
        .await;
    assert_eq!(unknown.json()["error"]["field"], "decision");
    let stale = app
        .api(
            "POST",
            &path,
            Some(&lanzhou),
            Some(confirm.clone().merge(json!({"version": 7}))),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(
        evidence_row(&app, &lanzhou, id, evidence_id).await["status"],
        "candidate",
        "no refusal changed anything"
    );

    let confirmed = app
        .api("POST", &path, Some(&lanzhou), Some(confirm.clone()))
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    let row = confirmed.json();
    assert_eq!(row["status"], "confirmed");
    assert_eq!(row["confirmed_on"], "2027-01-15");
    assert_eq!(row["decision_reason"], "已核对监测报告");
    assert!(row["decided_by"].as_str().unwrap().ends_with(":lanzhou"));
    let again = app
        .api(
            "POST",
            &path,
            Some(&lanzhou),
            Some(confirm.merge(json!({"version": 2}))),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"]["code"], "invalid_transition");
}

#[tokio::test]
async fn dismissing_needs_a_reason_and_the_record_keeps_who_and_why() {
    let app = TestApp::new().await;
    let (id, _) = fresh_enterprise(&app, "620100", 1).await;
    let evidence_id = candidate(&app, id, "在线监测 MN620100002 2026-12-20", "2026-12-20").await;
    let browser = app.browser("lanzhou").await;
    let page = app
        .get(&format!("/enterprises/{id}/evidence"), Some(&browser))
        .await
        .text();
    assert!(page.contains(&format!("action=\"/evidence/{evidence_id}/decision\"")));
    assert!(page.contains("待确认"));

    let path = format!("/evidence/{evidence_id}/decision");
    let no_reason = app
        .post_form(
            &path,
            Some(&browser),
            &[
                ("_page", &format!("/enterprises/{id}/evidence")),
                ("return_to", &format!("/enterprises/{id}/evidence")),
                ("decision", "dismiss"),
                ("reason", ""),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The same page, the error beside the reason of this item's form.
    let html = no_reason.text();
    let form = html
        .split(&format!("action=\"/evidence/{evidence_id}/decision\""))
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .expect("the decision form again");
    assert!(form.contains("id=\"reason-error\""), "{form}");
    let token = app.token("lanzhou").await;
    assert_eq!(
        evidence_row(&app, &token, id, evidence_id).await["status"],
        "candidate"
    );

    let dismissed = app
        .post_form(
            &path,
            Some(&browser),
            &[
                ("decision", "dismiss"),
                ("reason", "在线监测设备故障期间数据，无效"),
                ("version", "1"),
                ("return_to", "/evidence?status=candidate"),
            ],
        )
        .await;
    assert_eq!(
        dismissed.status,
        StatusCode::SEE_OTHER,
        "{}",
        dismissed.text()
    );
    assert_eq!(dismissed.location(), "/evidence?status=candidate");
    let row = evidence_row(&app, &token, id, evidence_id).await;
    assert_eq!(row["status"], "dismissed");
    assert_eq!(row["decision_reason"], "在线监测设备故障期间数据，无效");
    assert!(row["decided_by"].as_str().unwrap().ends_with(":lanzhou"));
    let html = app
        .get(&format!("/enterprises/{id}/evidence"), Some(&browser))
        .await
        .text();
    assert!(html.contains("已驳回") && html.contains("在线监测设备故障期间数据，无效"));
    assert!(
        !html.contains(&format!("action=\"/evidence/{evidence_id}/decision\"")),
        "a dismissal is final"
    );

    // Confirmed evidence can be withdrawn, also only with a reason, and is marked as such.
    app.post_form(
        &format!("/enterprises/{id}/evidence"),
        Some(&browser),
        &exceedance_form("兰环监字〔2026〕121号", "120"),
    )
    .await;
    let confirmed = evidence_of(&app, &token, id)
        .await
        .into_iter()
        .find(|row| row["status"] == "confirmed")
        .unwrap();
    let confirmed_id = confirmed["id"].as_i64().unwrap();
    let withdrawn = app
        .post_form(
            &format!("/evidence/{confirmed_id}/decision"),
            Some(&browser),
            &[
                ("decision", "dismiss"),
                ("reason", "报告编号录入错误"),
                ("version", "1"),
                // Anywhere else is not followed.
                ("return_to", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    assert_eq!(withdrawn.location(), format!("/enterprises/{id}/evidence"));
    let html = app
        .get(&format!("/enterprises/{id}/evidence"), Some(&browser))
        .await
        .text();
    assert!(html.contains("已撤回") && html.contains("报告编号录入错误"));
}

#[tokio::test]
async fn the_province_sees_the_queue_read_only_and_each_city_its_own() {
    let app = TestApp::new().await;
    let (lanzhou_id, _) = fresh_enterprise(&app, "620100", 1).await;
    let (tianshui_id, _) = fresh_enterprise(&app, "620500", 2).await;
    let older = candidate(&app, lanzhou_id, "兰州-较早", "2026-10-01").await;
    let newer = candidate(&app, lanzhou_id, "兰州-较新", "2026-12-01").await;
    candidate(&app, tianshui_id, "天水-候选", "2026-11-01").await;

    let lanzhou = app.browser("lanzhou").await;
    let html = app.get("/evidence", Some(&lanzhou)).await.text();
    let (first, second) = (
        html.find("兰州-较新").unwrap(),
        html.find("兰州-较早").unwrap(),
    );
    assert!(first < second, "newest first");
    assert!(!html.contains("天水-候选"));
    assert!(html.contains(&format!("action=\"/evidence/{older}/decision\"")));

    let province = app.browser("province").await;
    let html = app
        .get("/evidence?status=candidate", Some(&province))
        .await
        .text();
    assert!(html.contains("兰州-较新") && html.contains("天水-候选"));
    assert!(
        !html.contains("/decision\""),
        "the province does not decide"
    );

    let token = app.token("lanzhou").await;
    let listed = app
        .api(
            "GET",
            "/api/v1/evidence?status=candidate",
            Some(&token),
            None,
        )
        .await
        .json();
    let rows = listed.as_array().unwrap();
    assert!(rows
        .iter()
        .all(|row| row["status"] == "candidate" && row["jurisdiction_code"] == "620100"));
    let ours: Vec<i64> = rows
        .iter()
        .map(|row| row["id"].as_i64().unwrap())
        .filter(|id| [newer, older].contains(id))
        .collect();
    assert_eq!(ours, [newer, older], "newest first");
    let bad = app
        .api("GET", "/api/v1/evidence?status=pending", Some(&token), None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "status");
}

#[tokio::test]
async fn the_enterprise_user_sees_its_own_evidence_but_cannot_add_or_decide() {
    let app = TestApp::new().await;
    let id = demo_enterprise_id(app.db()).await;
    let evidence_id = candidate(&app, id, "在线监测 MN620100009 2026-12-24", "2026-12-24").await;
    let browser = app.browser("enterprise").await;
    let html = app
        .get(&format!("/enterprises/{id}/evidence"), Some(&browser))
        .await
        .text();
    assert!(html.contains("在线监测 MN620100009 2026-12-24"));
    assert!(!html.contains("#add\""), "no form to add evidence");
    assert!(!html.contains("/decision\""), "no decision form");
    let detail = app
        .get(&format!("/enterprises/{id}"), Some(&browser))
        .await
        .text();
    assert!(detail.contains(&format!("href=\"/enterprises/{id}/evidence\"")));

    let form = app
        .post_form(
            &format!("/enterprises/{id}/evidence"),
            Some(&browser),
            &exceedance_form("自报", "120"),
        )
        .await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    let decision = app
        .post_form(
            &format!("/evidence/{evidence_id}/decision"),
            Some(&browser),
            &[
                ("decision", "dismiss"),
                ("reason", "我们不同意"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(decision.status, StatusCode::FORBIDDEN);
    let token = app.token("enterprise").await;
    let api = app
        .api(
            "POST",
            &format!("/api/v1/evidence/{evidence_id}/decision"),
            Some(&token),
            Some(json!({"decision": "dismiss", "reason": "我们不同意"})),
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(
        evidence_row(&app, &token, id, evidence_id).await["status"],
        "candidate"
    );
}

#[tokio::test]
async fn every_decision_is_in_the_audit_trail() {
    let app = TestApp::new().await;
    let (id, _) = fresh_enterprise(&app, "620100", 1).await;
    let evidence_id = candidate(&app, id, "在线监测 MN620100003 2026-12-28", "2026-12-28").await;
    let token = app.token("lanzhou").await;
    let path = format!("/api/v1/evidence/{evidence_id}/decision");
    for (decision, reason) in [("confirm", "与监督性监测一致"), ("dismiss", "复核后撤回")]
    {
        let response = app
            .api(
                "POST",
                &path,
                Some(&token),
                Some(json!({"decision": decision, "reason": reason})),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    }
    let entries = trail(&app, evidence_id).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|(action, _, _)| action.as_str())
        .collect();
    assert_eq!(
        actions,
        ["evidence.add", "evidence.confirmed", "evidence.dismissed"]
    );
    assert!(entries[0].1.contains("hj212-receiver"));
    for ((_, actor, after), reason) in entries[1..].iter().zip(["与监督性监测一致", "复核后撤回"])
    {
        assert!(actor.ends_with(":lanzhou"), "{actor}");
        assert!(after.as_deref().unwrap().contains(reason));
    }
    assert!(matches!(
        app.db().verify_audit_log(None).await.unwrap(),
        cpaudit_core::audit::ChainVerdict::Intact { .. }
    ));
}

#[tokio::test]
async fn an_evidence_import_with_one_bad_row_writes_nothing_and_reports_the_row_and_field() {
    let app = TestApp::new().await;
    let (lanzhou_id, code) = fresh_enterprise(&app, "620100", 1).await;
    let (_, tianshui_code) = fresh_enterprise(&app, "620500", 2).await;
    let bytes = workbook(
        &EVIDENCE_HEADERS,
        &[
            exceedance_row(&code, "导入-1", "2026-06-01"),
            exceedance_row(&code, "导入-2", "2026-13-01"),
            exceedance_row(&code, "导入-3", "2026-06-03"),
        ],
    );
    let browser = app.browser("lanzhou").await;
    let page = app
        .upload(
            "/evidence/import",
            Auth::Browser(&browser),
            "证据.xlsx",
            &bytes,
            &[],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.text()
    );
    let html = page.text();
    assert!(html.contains("<td class=\"num\">3</td>"), "{html}");
    assert!(html.contains("观测日期（observed_on）"));
    assert!(html.contains("未写入任何数据"));
    let token = app.token("lanzhou").await;
    assert!(evidence_of(&app, &token, lanzhou_id).await.is_empty());

    // The API gives the same report; unknown codes and enterprises elsewhere are row errors.
    let bytes = workbook(
        &EVIDENCE_HEADERS,
        &[
            exceedance_row(&code, "导入-1", "2026-06-01"),
            exceedance_row(&tianshui_code, "导入-2", "2026-06-02"),
            exceedance_row("91620100MA00000000", "导入-3", "2026-06-03"),
        ],
    );
    let api = app
        .upload(
            "/api/v1/evidence/import",
            Auth::Bearer(&token),
            "evidence.xlsx",
            &bytes,
            &[],
        )
        .await;
    assert_eq!(
        api.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        api.text()
    );
    let body = api.json();
    assert_eq!(body["error"]["code"], "invalid_rows");
    assert_eq!(body["report"]["invalid_rows"], 2);
    assert_eq!(body["report"]["written"], 0);
    let problems = body["report"]["problems"].as_array().unwrap();
    assert_eq!(problems[0]["line"], 3);
    assert_eq!(problems[0]["field"], "credit_code");
    assert_eq!(problems[0]["code"], "outside_jurisdiction");
    assert_eq!(problems[1]["line"], 4);
    assert_eq!(problems[1]["field"], "credit_code");
    assert!(evidence_of(&app, &token, lanzhou_id).await.is_empty());
}

#[tokio::test]
async fn a_good_evidence_import_writes_every_row() {
    let app = TestApp::new().await;
    let (lanzhou_id, code) = fresh_enterprise(&app, "620100", 1).await;
    let hazardous = vec![
        code.as_str(),
        "hazardous_waste",
        "2026-12-31",
        "discharge_permit",
        "排污许可执行报告 2026",
        "废矿物油",
        "35.5",
        "",
        "t",
        "",
        "",
        "HW08",
    ];
    let bytes = workbook(
        &EVIDENCE_HEADERS,
        &[
            exceedance_row(&code, "导入-1", "2026-06-01"),
            exceedance_row(&code, "导入-2", "2026-06-02"),
            hazardous,
        ],
    );
    let browser = app.browser("lanzhou").await;
    let page = app
        .upload(
            "/evidence/import",
            Auth::Browser(&browser),
            "证据.xlsx",
            &bytes,
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("已导入 3 条证据"));
    let token = app.token("lanzhou").await;
    let rows = evidence_of(&app, &token, lanzhou_id).await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|row| row["status"] == "confirmed"));
    assert!(rows
        .iter()
        .any(|row| row["hw_code"] == "HW08" && row["toxic_category"] == 1));

    // CSV with English headers through the API.
    let row: Vec<Cell> = [
        code.as_str(),
        "heavy_metal",
        "2026-09-09",
        "inspection",
        "现场检查笔录 88",
        "pb",
        "2.5",
        "kg",
    ]
    .into_iter()
    .map(Cell::from)
    .collect();
    let csv = cpaudit_office::write_csv(
        &[
            "credit_code",
            "kind",
            "observed_on",
            "source",
            "document_ref",
            "substance",
            "amount",
            "unit",
        ],
        &[row],
    );
    let api = app
        .upload(
            "/api/v1/evidence/import",
            Auth::Bearer(&token),
            "evidence.csv",
            &csv,
            &[],
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text());
    assert_eq!(api.json()["written"], 1);
    assert_eq!(evidence_of(&app, &token, lanzhou_id).await.len(), 4);
}

#[tokio::test]
async fn the_template_comes_back_as_an_importable_header() {
    use calamine::Reader;
    let app = TestApp::new().await;
    let (_, code) = fresh_enterprise(&app, "620100", 1).await;
    let browser = app.browser("lanzhou").await;
    for (template, import, row) in [
        (
            "/evidence/import/template.xlsx",
            "/evidence/import",
            exceedance_row(&code, "模板-1", "2026-06-01"),
        ),
        (
            "/rounds/import/template.xlsx",
            "/rounds/import",
            vec![code.as_str(), "2021", "超标、双有", "2022-05-20"],
        ),
    ] {
        let download = app.get(template, Some(&browser)).await;
        assert_eq!(download.status, StatusCode::OK);
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(download.body)).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        let headers: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(headers[0], "统一社会信用代码");
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let bytes = workbook(&headers, &[row]);
        let page = app
            .upload(import, Auth::Browser(&browser), "filled.xlsx", &bytes, &[])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{template}: {}", page.text());
        assert!(page.text().contains("已导入 1 "));
    }
}

#[tokio::test]
async fn the_past_round_import_sets_rounds_shown_on_the_page_and_in_the_api() {
    let app = TestApp::new().await;
    let (id, code) = fresh_enterprise(&app, "620100", 1).await;
    let headers = ["统一社会信用代码", "列入年份", "审核原因", "验收日期"];
    let browser = app.browser("lanzhou").await;

    let bad = workbook(
        &headers,
        &[
            vec![code.as_str(), "2022", "双有", "2023-06-30"],
            vec![code.as_str(), "2022", "超标", ""],
            vec![code.as_str(), "1999", "双有", ""],
        ],
    );
    let refused = app
        .upload(
            "/rounds/import",
            Auth::Browser(&browser),
            "往轮.xlsx",
            &bad,
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    assert!(
        html.contains("与第 2 行重复") && html.contains("列入年份（list_year）"),
        "{html}"
    );
    let token = app.token("lanzhou").await;
    let rounds = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}/rounds"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(rounds.json(), json!([]));

    let good = workbook(
        &headers,
        &[
            vec![code.as_str(), "2018", "超标", "2019-04-12"],
            vec![code.as_str(), "2022", "双有、超总量", "2023-06-30"],
        ],
    );
    let imported = app
        .upload(
            "/rounds/import",
            Auth::Browser(&browser),
            "往轮.xlsx",
            &good,
            &[],
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text());
    assert!(imported.text().contains("已导入 2 轮往轮审核"));
    let html = app
        .get(&format!("/enterprises/{id}/evidence"), Some(&browser))
        .await
        .text();
    assert!(html.contains("2023-06-30") && html.contains("双有") && html.contains("双超-超总量"));

    let rounds = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}/rounds"),
            Some(&token),
            None,
        )
        .await
        .json();
    let rounds = rounds.as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    assert_eq!(rounds[1]["list_year"], 2022);
    assert_eq!(rounds[1]["reasons"], "exceed_total_load,double_toxic");
    assert_eq!(rounds[1]["accepted_on"], "2023-06-30");

    // Tianshui cannot import rounds for a Lanzhou enterprise; the API reports it by row.
    let tianshui = app.token("tianshui").await;
    let api = app
        .upload(
            "/api/v1/rounds/import",
            Auth::Bearer(&tianshui),
            "rounds.xlsx",
            &workbook(&headers, &[vec![code.as_str(), "2024", "双有", ""]]),
            &[],
        )
        .await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        api.json()["report"]["problems"][0]["code"],
        "outside_jurisdiction"
    );
}
