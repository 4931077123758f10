//! Whole-park audit pilots: targets, measures and wastewater treatment kept by the city or the
//! province; the province's pass makes every member count as audited.

use axum::http::StatusCode;
use cpaudit_storage::Principal;
use serde_json::json;

use crate::support::TestApp;

/// Park 3 of the demo: 金昌化工园区, in Jinchang, whose pilot has not passed.
const PARK: i64 = 3;

fn pilot() -> serde_json::Value {
    json!({"title": "金昌化工园区整体清洁生产审核试点", "started_on": "2026-03-01",
        "targets": [{"indicator": "单位工业增加值用水量", "baseline": 12.5, "target": 10.0, "unit": "m³/万元"},
                    {"indicator": "COD 排放量", "baseline": 320.0, "target": 280.0, "unit": "t/a"}],
        "measures": "中水回用、集中供热改造", "wastewater_status": "园区污水处理厂一期运行",
        "wastewater_compliant": true})
}

#[tokio::test]
async fn a_park_pilot_that_passes_makes_its_members_count_as_audited() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let operator = Principal::console_operator("test");
    let facts = app
        .db()
        .determination_facts(operator.scope(), Some("620300"), None)
        .await
        .unwrap();
    let members_before = facts
        .iter()
        .filter(|r| !r.facts.park_pilots.is_empty())
        .count();

    let mut no_targets = pilot();
    no_targets["targets"] = json!([]);
    let refused = app
        .api(
            "PUT",
            &format!("/api/v1/parks/{PARK}/audit"),
            Some(&province),
            Some(no_targets),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["error"]["field"], "targets");
    let other_city = app.token("lanzhou").await;
    let foreign = app
        .api(
            "PUT",
            &format!("/api/v1/parks/{PARK}/audit"),
            Some(&other_city),
            Some(pilot()),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    let saved = app
        .api(
            "PUT",
            &format!("/api/v1/parks/{PARK}/audit"),
            Some(&province),
            Some(pilot()),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()[0]["state"], "under_way");
    let assessed = app
        .api(
            "POST",
            &format!("/api/v1/parks/{PARK}/audit/assessment"),
            Some(&province),
            Some(json!({"result": "passed", "assessed_on": "2027-01-10", "note": "目标全部达成"})),
        )
        .await;
    assert_eq!(
        assessed.status,
        StatusCode::NO_CONTENT,
        "{}",
        assessed.text()
    );
    let facts = app
        .db()
        .determination_facts(operator.scope(), Some("620300"), None)
        .await
        .unwrap();
    let members_after = facts
        .iter()
        .filter(|r| !r.facts.park_pilots.is_empty())
        .count();
    assert!(
        members_after > members_before,
        "{members_before} → {members_after}"
    );
    let again = app
        .api(
            "POST",
            &format!("/api/v1/parks/{PARK}/audit/assessment"),
            Some(&province),
            Some(json!({"result": "passed", "note": "重复"})),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "no pilot under way any more"
    );
    let page = app
        .get(
            &format!("/parks/{PARK}"),
            Some(&app.browser("province").await),
        )
        .await;
    assert!(page.text().contains("视同开展一次清洁生产审核"));
}

#[tokio::test]
async fn the_pilot_is_kept_on_the_park_page_with_targets_one_per_line() {
    let app = TestApp::new().await;
    let browser = app.browser("province").await;
    let page = format!("/parks/{PARK}");
    let action = format!("{page}/audit");
    let refused = app
        .post_form(
            &action,
            Some(&browser),
            &[
                ("_page", &page),
                ("title", "金昌化工园区整体清洁生产审核试点"),
                ("started_on", "2026-03-01"),
                ("targets", "COD 排放量，320，二百八，t/a"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let html = refused.text();
    assert!(html.contains("id=\"targets-error\""), "{html}");
    assert!(
        html.contains(">COD 排放量，320，二百八，t/a</textarea>"),
        "{html}"
    );
    let saved = app
        .post_form(
            &action,
            Some(&browser),
            &[
                ("title", "金昌化工园区整体清洁生产审核试点"),
                ("started_on", "2026-03-01"),
                ("targets", "COD 排放量，320，280，t/a"),
                ("measures", "中水回用"),
                ("wastewater_status", "园区污水处理厂一期运行"),
                ("wastewater_compliant", "true"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let province = app.token("province").await;
    let audits = app
        .api(
            "GET",
            &format!("/api/v1/parks/{PARK}/audits"),
            Some(&province),
            None,
        )
        .await
        .json();
    assert_eq!(audits[0]["wastewater_compliant"], true, "{audits}");
    assert_eq!(audits[0]["targets"][0]["target"], 280.0, "{audits}");
}
