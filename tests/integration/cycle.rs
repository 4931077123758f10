//! The yearly cycle end to end: evidence → determination → library → plan → review →
//! publication → clocks → written notification, with the law's dates and the scopes.
//! The test clock stands at 2027-01-15 09:00 China Standard Time.

use std::collections::HashSet;

use axum::http::StatusCode;
use chrono::NaiveDate;
use cpaudit_core::determination::{determine, DeterminationRules, Outcome};
use cpaudit_core::listing::ClockKind;
use cpaudit_core::rules::RuleBook;
use cpaudit_storage::Principal;
use serde_json::json;

use crate::support::{enterprise_in, TestApp};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn every_demo_enterprise_gets_exactly_one_result_per_year() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let records = app
        .db()
        .determination_facts(operator.scope(), None, None)
        .await
        .unwrap();
    let rules = DeterminationRules::from_book(&RuleBook::embedded(), date(2027, 1, 15)).unwrap();
    let total = crate::support::enterprise_count(app.db()).await as usize;
    assert_eq!(records.len(), total);
    let mut outcomes = HashSet::new();
    for year in 2026..=2032 {
        let mut seen = HashSet::new();
        for record in &records {
            let d = determine(&record.facts, year, date(2027, 1, 15), &rules);
            assert!(
                seen.insert(d.enterprise_id),
                "two results for one enterprise"
            );
            match d.outcome {
                Outcome::MustAudit => assert!(!d.reasons.is_empty(), "must-audit without reason"),
                Outcome::NotRequired => assert!(d.reasons.is_empty() && d.due_year.is_none()),
                Outcome::DeemedAudited => {}
            }
            assert!(!d.explanation.is_empty(), "every result explains itself");
            outcomes.insert(d.outcome);
        }
        assert_eq!(seen.len(), total, "one result per enterprise in {year}");
    }
    assert_eq!(
        outcomes.len(),
        3,
        "the demo shows every outcome: {outcomes:?}"
    );
}

#[tokio::test]
async fn the_demo_list_of_2027_runs_its_clocks_from_10_january() {
    let app = TestApp::new().await;
    let lists = app.db().published_lists(Some(2027)).await.unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].published_on.to_string(), "2027-01-10");
    let entries = app
        .db()
        .published_entries(lists[0].id, &Default::default())
        .await
        .unwrap();
    assert!(!entries.is_empty());
    let clocks = app
        .db()
        .clocks(
            lists[0].id,
            &crate::support::read::enterprise(app.db(), entries[0].enterprise_id).await,
        )
        .await
        .unwrap();
    let effective = |kind: ClockKind| {
        clocks
            .iter()
            .find(|c| c.kind == kind)
            .map(|c| (c.nominal_on.to_string(), c.effective_on.to_string()))
            .unwrap()
    };
    // 办法 Art. 11: one month; 民法典 Art. 201–202: from 2027-01-11, ending on 2027-02-10.
    assert_eq!(
        effective(ClockKind::Disclose),
        ("2027-02-10".into(), "2027-02-10".into())
    );
    assert_eq!(
        effective(ClockKind::Start),
        ("2027-03-10".into(), "2027-03-10".into())
    );
    // 2028-01-10 is a Monday; 2027 and 2028 have no State Council calendar yet (weekends only).
    assert_eq!(
        effective(ClockKind::Report),
        ("2028-01-10".into(), "2028-01-10".into())
    );
    assert!(clocks.iter().all(|c| c.rule_book_version == "gansu-2021.3"));
    assert!(clocks.iter().any(|c| c.uncovered_years.contains("2027")));
}

async fn add_exceedance(app: &TestApp, token: &str, enterprise_id: i64, observed_on: &str) {
    let response = app
        .api(
            "POST",
            &format!("/api/v1/enterprises/{enterprise_id}/evidence"),
            Some(token),
            Some(json!({
                "kind": "concentration_exceedance",
                "observed_on": observed_on,
                "source": "supervisory_monitoring",
                "document_ref": "兰环监〔2026〕88号",
                "substance": "化学需氧量",
                "amount": "180",
                "limit": "100",
                "unit": "mg/L",
                "standard": "GB 8978-1996",
            })),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
}

/// An enterprise of Lanzhou with no evidence, round or listing, so a test controls its facts;
/// never the demo enterprise user's own.
async fn clean_enterprise(app: &TestApp) -> i64 {
    let own = crate::support::demo_enterprise_id(app.db()).await;
    let operator = Principal::console_operator("test");
    let records = app
        .db()
        .determination_facts(operator.scope(), Some("620100"), None)
        .await
        .unwrap();
    records
        .iter()
        .find(|r| {
            r.facts.enterprise_id != own
                && r.facts.evidence.is_empty()
                && r.facts.rounds.is_empty()
                && r.facts.park_pilots.is_empty()
        })
        .map(|r| r.facts.enterprise_id)
        .unwrap()
}

#[tokio::test]
async fn confirmed_exceedance_makes_an_enterprise_must_audit_and_explains_why() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let id = clean_enterprise(&app).await;
    let before = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}/determination?year=2027"),
            Some(&lanzhou),
            None,
        )
        .await
        .json();
    assert_eq!(before["determination"]["outcome"], "not_required");

    add_exceedance(&app, &lanzhou, id, "2026-08-14").await;
    let after = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}/determination?year=2027"),
            Some(&lanzhou),
            None,
        )
        .await
        .json();
    assert_eq!(after["determination"]["outcome"], "must_audit");
    assert_eq!(
        after["determination"]["reasons"],
        json!(["exceed_concentration"])
    );
    assert_eq!(after["determination"]["list_this_year"], true);
    let why = after["determination"]["explanation"].to_string();
    assert!(why.contains("化学需氧量"), "{why}");
    // The determination as it stood before the evidence was confirmed.
    let earlier = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}/determination?year=2027&as_of=2027-01-14"),
            Some(&lanzhou),
            None,
        )
        .await
        .json();
    assert_eq!(earlier["determination"]["outcome"], "not_required");
    // The page shows the same, with the rules cited.
    let browser = app.browser("lanzhou").await;
    let page = app
        .get(
            &format!("/enterprises/{id}/determination?year=2027"),
            Some(&browser),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("须实施强制性清洁生产审核"));
    assert!(page
        .text()
        .contains("determination.exceedance_lookback_years"));
    // Out of scope: Tianshui sees nothing of it.
    let tianshui = app.token("tianshui").await;
    let hidden = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}/determination"),
            Some(&tianshui),
            None,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let bad = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}/determination?as_of=2027-02-30"),
            Some(&lanzhou),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "as_of");
}

#[tokio::test]
async fn the_library_keeps_every_version_and_shows_any_past_day() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let id = clean_enterprise(&app).await;
    add_exceedance(&app, &lanzhou, id, "2026-08-14").await;
    let added = app
        .api(
            "POST",
            "/api/v1/library",
            Some(&lanzhou),
            Some(json!({"enterprise_id": id, "action": "add", "note": "2026年监督性监测超标"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    let twice = app
        .api(
            "POST",
            "/api/v1/library",
            Some(&lanzhou),
            Some(json!({"enterprise_id": id, "action": "add", "note": "again"})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let no_reason = app
        .api(
            "POST",
            "/api/v1/library",
            Some(&lanzhou),
            Some(json!({"enterprise_id": id, "action": "remove", "note": " "})),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_reason.json()["error"]["field"], "note");

    app.clock.advance(chrono::Duration::days(40));
    let lanzhou = app.token("lanzhou").await;
    let removed = app
        .api(
            "POST",
            "/api/v1/library",
            Some(&lanzhou),
            Some(json!({"enterprise_id": id, "action": "remove", "note": "复核：监测数据无效"})),
        )
        .await;
    assert_eq!(removed.status, StatusCode::CREATED, "{}", removed.text());
    let has = |json: serde_json::Value| {
        json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["enterprise_id"] == id)
    };
    let then = app
        .api(
            "GET",
            "/api/v1/library?as_of=2027-01-20",
            Some(&lanzhou),
            None,
        )
        .await
        .json();
    assert!(has(then), "on 2027-01-20 the entry was in the library");
    let now = app
        .api("GET", "/api/v1/library", Some(&lanzhou), None)
        .await
        .json();
    assert!(!has(now), "after the removal it is not");
    let before = app
        .api(
            "GET",
            "/api/v1/library?as_of=2027-01-14",
            Some(&lanzhou),
            None,
        )
        .await
        .json();
    assert!(!has(before), "before it was added it was not");
    let operator = Principal::console_operator("test");
    let history = app
        .db()
        .library_history(
            operator.scope(),
            &crate::support::read::enterprise(app.db(), id).await,
        )
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|v| v.action.as_str())
            .collect::<Vec<_>>(),
        ["add", "remove"]
    );
    let export = app
        .get(
            "/library/export.xlsx?as_of=2027-01-20",
            Some(&app.browser("lanzhou").await),
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.body.starts_with(b"PK"));
}

#[tokio::test]
async fn a_city_plans_submits_and_the_province_reviews_and_publishes() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let province = app.token("province").await;
    let id = clean_enterprise(&app).await;
    add_exceedance(&app, &lanzhou, id, "2027-01-10").await;

    let plan = app
        .api("GET", "/api/v1/plans/620100/2028", Some(&lanzhou), None)
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text());
    let plan = plan.json();
    assert_eq!(plan["deadline"], "2027-12-31");
    let counts = plan["counts"].as_object().unwrap();
    assert_eq!(counts.len(), 5, "the five-year window 2028–2032");
    let ours = plan["proposal"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["enterprise_id"] == id)
        .cloned()
        .unwrap();
    assert_eq!(ours["year"], 2028, "双超 at once");
    assert_eq!(ours["placement"], "double_exceedance");
    // No 双有 enterprise passes its due year.
    for p in plan["proposal"].as_array().unwrap() {
        if let (Some(year), Some(due)) = (p["year"].as_i64(), p["due_year"].as_i64()) {
            assert!(year <= due.max(2028), "{p}");
        }
    }
    // A 双超 enterprise cannot be moved off the first year.
    let moved = app
        .api(
            "POST",
            "/api/v1/plans/620100/2028/moves",
            Some(&lanzhou),
            Some(json!({"enterprise_id": id, "to_year": 2029, "reason": "工作量"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST);
    assert_eq!(moved.json()["error"]["field"], "to_year");

    // Tianshui cannot see or act on Lanzhou's plan; the province cannot draft it.
    let tianshui = app.token("tianshui").await;
    let foreign = app
        .api("GET", "/api/v1/plans/620100/2028", Some(&tianshui), None)
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let draft = json!({"plan_text": "2028年度兰州市强制性清洁生产审核实施计划", "schedule_text": "一季度公开，二季度启动"});
    let by_province = app
        .api(
            "POST",
            "/api/v1/plans/620100/2028",
            Some(&province),
            Some(draft.clone()),
        )
        .await;
    assert_eq!(by_province.status, StatusCode::FORBIDDEN);

    let saved = app
        .api(
            "POST",
            "/api/v1/plans/620100/2028",
            Some(&lanzhou),
            Some(draft),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let entries = saved.json()["entries"].as_array().unwrap().clone();
    assert!(entries.iter().any(|e| e["enterprise_id"] == id));

    let act = |token: &str, body: serde_json::Value| {
        let token = token.to_string();
        let app = &app;
        async move {
            app.api(
                "POST",
                "/api/v1/plans/620100/2028/actions",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    // The province cannot approve a draft; the city submits (on time: the deadline is 2027-12-31).
    let early = act(&province, json!({"action": "approve"})).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    let submitted = act(&lanzhou, json!({"action": "submit"})).await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.text());
    assert_eq!(submitted.json()["status"], "submitted");
    assert_eq!(submitted.json()["submitted_late"], false);
    let returned = act(&province, json!({"action": "return", "reason": ""})).await;
    assert_eq!(
        returned.status,
        StatusCode::BAD_REQUEST,
        "a return needs comments"
    );
    let returned = act(
        &province,
        json!({"action": "return", "reason": "请补充双有企业安排"}),
    )
    .await;
    assert_eq!(returned.json()["status"], "returned");
    assert_eq!(returned.json()["review_comment"], "请补充双有企业安排");
    act(&lanzhou, json!({"action": "submit"})).await;
    let amended = act(
        &province,
        json!({"action": "amend", "reason": "移出已关停企业", "remove": [entries.iter().find(|e| e["enterprise_id"] != id).map_or(0, |e| e["enterprise_id"].as_i64().unwrap())]}),
    )
    .await;
    assert_eq!(amended.status, StatusCode::OK, "{}", amended.text());
    let approved = act(&province, json!({"action": "approve"})).await;
    assert_eq!(approved.json()["status"], "approved");

    // Publication (province only) starts the clocks.
    let by_city = app
        .api(
            "POST",
            "/api/v1/lists",
            Some(&lanzhou),
            Some(json!({"year": 2028, "title": "x", "document_number": "x"})),
        )
        .await;
    assert_eq!(by_city.status, StatusCode::FORBIDDEN);
    let published = app
        .api(
            "POST",
            "/api/v1/lists",
            Some(&province),
            Some(
                json!({"year": 2028, "title": "甘肃省2028年度强制性清洁生产审核企业名单",
                "document_number": "甘环气候函〔2027〕1号", "published_on": "2027-01-15"}),
            ),
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        published.text()
    );
    let list_id = published.json()["id"].as_i64().unwrap();
    assert_eq!(published.json()["batch"], 1);
    let listings = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}/listings"),
            Some(&lanzhou),
            None,
        )
        .await
        .json();
    let clocks = listings[0]["clocks"].as_array().unwrap();
    let disclose = clocks.iter().find(|c| c["kind"] == "disclose").unwrap();
    assert_eq!(disclose["nominal_on"], "2027-02-15");
    let plan = app
        .api("GET", "/api/v1/plans/620100/2028", Some(&lanzhou), None)
        .await
        .json();
    assert_eq!(plan["plan"]["status"], "published");

    // The city issues the written notifications and records delivery.
    let issued = app
        .api(
            "POST",
            &format!("/api/v1/lists/{list_id}/letters"),
            Some(&lanzhou),
            Some(json!({"number_prefix": "兰环清审"})),
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text());
    let letters = issued.json()["letters"].as_array().unwrap().clone();
    assert!(letters.iter().all(|l| l["number"]
        .as_str()
        .unwrap()
        .starts_with("兰环清审〔2028〕")));
    let letter = letters.iter().find(|l| l["enterprise_id"] == id).unwrap();
    let letter_id = letter["id"].as_i64().unwrap();
    let browser = app.browser("lanzhou").await;
    let page = app
        .get(&format!("/letters/{letter_id}"), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("第二十七条"));
    assert!(page.text().contains("2027年2月15日前"));
    let docx = app
        .get(&format!("/letters/{letter_id}/letter.docx"), Some(&browser))
        .await;
    assert_eq!(docx.status, StatusCode::OK);
    assert!(docx.body.starts_with(b"PK"));
    let tianshui_browser = app.browser("tianshui").await;
    let foreign = app
        .get(&format!("/letters/{letter_id}"), Some(&tianshui_browser))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    // Enterprises see their own letters only.
    let other_enterprise = app.browser("enterprise").await;
    let foreign = app
        .get(
            &format!("/letters/{letter_id}/letter.docx"),
            Some(&other_enterprise),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let early = app
        .api(
            "POST",
            &format!("/api/v1/letters/{letter_id}/delivery"),
            Some(&lanzhou),
            Some(json!({"delivered_on": "2027-01-01", "method": "直接送达"})),
        )
        .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert_eq!(early.json()["error"]["field"], "delivered_on");
    let delivered = app
        .api(
            "POST",
            &format!("/api/v1/letters/{letter_id}/delivery"),
            Some(&lanzhou),
            Some(json!({"delivered_on": "2027-01-15", "method": "直接送达"})),
        )
        .await;
    assert_eq!(
        delivered.status,
        StatusCode::NO_CONTENT,
        "{}",
        delivered.text()
    );

    // A correction is a new version naming the old one; the old stays.
    let corrected = app
        .api(
            "POST",
            &format!("/api/v1/lists/{list_id}/corrections"),
            Some(&province),
            Some(json!({"remove": [id], "reason": "监测数据复核无效"})),
        )
        .await;
    assert_eq!(
        corrected.status,
        StatusCode::CREATED,
        "{}",
        corrected.text()
    );
    assert_eq!(corrected.json()["version"], 2);
    assert_eq!(corrected.json()["supersedes"], list_id);
    let old = app.db().published_list(list_id).await.unwrap().unwrap();
    assert!(old.superseded_by.is_some());
}

#[tokio::test]
async fn a_plan_submitted_after_31_december_is_flagged_late() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let draft = json!({"plan_text": "2027年度实施计划（补报）"});
    let saved = app
        .api(
            "POST",
            "/api/v1/plans/620100/2027",
            Some(&lanzhou),
            Some(draft),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let submitted = app
        .api(
            "POST",
            "/api/v1/plans/620100/2027/actions",
            Some(&lanzhou),
            Some(json!({"action": "submit"})),
        )
        .await;
    assert_eq!(
        submitted.json()["submitted_late"],
        true,
        "deadline 2026-12-31"
    );
    let browser = app.browser("province").await;
    let overview = app.get("/plans?year=2027", Some(&browser)).await;
    assert!(overview.text().contains("逾期"));
}

#[tokio::test]
async fn a_supplementary_batch_adds_mid_year_exceedances_only() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let province = app.token("province").await;
    let id = clean_enterprise(&app).await;
    let other = enterprise_in(app.db(), "620500").await;
    add_exceedance(&app, &lanzhou, id, "2027-01-12").await;
    let refused = app
        .api(
            "POST",
            "/api/v1/lists",
            Some(&province),
            Some(json!({"year": 2027, "title": "增补", "document_number": "增补1号", "supplementary": [other]})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let added = app
        .api(
            "POST",
            "/api/v1/lists",
            Some(&province),
            Some(json!({"year": 2027, "title": "2027年度增补名单（第二批）", "document_number": "甘环〔2027〕5号", "supplementary": [id]})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    assert_eq!(added.json()["kind"], "supplementary");
    assert_eq!(added.json()["batch"], 2);
    let again = app
        .api(
            "POST",
            "/api/v1/lists",
            Some(&province),
            Some(json!({"year": 2027, "title": "再增补", "document_number": "x", "supplementary": [id]})),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::BAD_REQUEST,
        "already listed this year"
    );
}
