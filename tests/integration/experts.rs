//! The expert pool: applications checked against the entry conditions, the life cycle with
//! reason and actor, conflict declarations, the yearly evaluation and who sees what.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{demo_enterprise_id, raw_execute, TestApp};

fn good_application() -> Value {
    json!({
        "name": "赵工",
        "id_number_masked": "620102********1234",
        "employer": "兰州理工大学",
        "title": "高级工程师",
        "title_level": "senior",
        "years_experience": 12,
        "specialties": ["energy"],
        "jurisdiction_code": "620100",
        "contact": "0931-0000000",
    })
}

async fn pool_size(app: &TestApp, token: &str) -> usize {
    let pool = app.api("GET", "/api/v1/experts", Some(token), None).await;
    assert_eq!(pool.status, StatusCode::OK, "{}", pool.text());
    pool.json().as_array().unwrap().len()
}

async fn apply(app: &TestApp, token: &str) -> i64 {
    let created = app
        .api(
            "POST",
            "/api/v1/experts",
            Some(token),
            Some(good_application()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    assert_eq!(body["status"], "applied");
    assert!(body["pool_number"].is_null());
    body["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, token: &str, id: i64, action: &str, reason: &str) -> Value {
    let response = app
        .api(
            "POST",
            &format!("/api/v1/experts/{id}/actions"),
            Some(token),
            Some(json!({"action": action, "reason": reason})),
        )
        .await;
    json!({"status": response.status.as_u16(), "body": response.json()})
}

#[tokio::test]
async fn experts_an_application_with_a_bad_id_and_too_few_years_is_refused_field_by_field() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let before = pool_size(&app, &province).await;

    let mut bad = good_application();
    bad["id_number_masked"] = json!("620102199001011234");
    bad["years_experience"] = json!(3);
    let refused = app
        .api("POST", "/api/v1/experts", Some(&province), Some(bad))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let details = refused.json()["error"]["details"].clone();
    let fields: Vec<&str> = details
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"id_number_masked"), "{details}");
    assert!(fields.contains(&"years_experience"), "{details}");

    // The form shows each error next to its field, keeps the values, and stores nothing.
    let browser = app.browser("province").await;
    let page = app
        .post_form(
            "/experts",
            Some(&browser),
            &[
                ("_page", "/experts"),
                ("name", "钱工"),
                ("id_number_masked", "6201021990"),
                ("title", "高级工程师"),
                ("title_level", "senior"),
                ("years_experience", "3"),
                ("specialties", "energy"),
                ("jurisdiction_code", "620100"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = page.text();
    assert!(html.contains("id=\"id_number_masked-error\""), "{html}");
    assert!(html.contains("id=\"years_experience-error\""), "{html}");
    assert!(html.contains("身份证号码应为18位"), "{html}");
    assert!(html.contains("value=\"钱工\""));
    assert_eq!(pool_size(&app, &province).await, before);

    // A correct form is stored as an application and shown.
    let stored = app
        .post_form(
            "/experts",
            Some(&browser),
            &[
                ("name", "钱工"),
                ("id_number_masked", "620102********123X"),
                ("title", "高级工程师"),
                ("title_level", "senior"),
                ("years_experience", "15"),
                ("specialties", "energy"),
                ("specialties", "metallurgy"),
                ("jurisdiction_code", "620100"),
                ("available", "true"),
            ],
        )
        .await;
    assert_eq!(stored.status, StatusCode::SEE_OTHER, "{}", stored.text());
    assert_eq!(pool_size(&app, &province).await, before + 1);
    let detail = app.get(&stored.location(), Some(&browser)).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.text().contains("钱工"));
}

#[tokio::test]
async fn experts_admission_assigns_a_pool_number_and_records_actor_and_reason() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let id = apply(&app, &province).await;

    let admitted = act(&app, &province, id, "admit", "符合入库条件").await;
    assert_eq!(admitted["status"], 200, "{admitted}");
    let number = admitted["body"]["pool_number"].as_i64().unwrap();
    let pool = app
        .api("GET", "/api/v1/experts", Some(&province), None)
        .await;
    let highest = pool
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["pool_number"].as_i64())
        .max()
        .unwrap();
    assert_eq!(number, highest, "the newest member gets the next number");

    // Suspension needs a reason; the refusal is the life cycle's message.
    let refused = act(&app, &province, id, "suspend", "  ").await;
    assert_eq!(refused["status"], 400);
    assert_eq!(refused["body"]["error"]["field"], "reason");
    assert!(refused["body"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("必须填写理由"));
    assert_eq!(
        act(&app, &province, id, "suspend", "评审迟到").await["status"],
        200
    );
    let reinstated = act(&app, &province, id, "reinstate", "已整改").await;
    assert_eq!(
        reinstated["body"]["pool_number"], number,
        "a member keeps its number"
    );

    let detail = app
        .api(
            "GET",
            &format!("/api/v1/experts/{id}"),
            Some(&province),
            None,
        )
        .await
        .json();
    let events = detail["events"].as_array().unwrap();
    let steps: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["apply", "admit", "suspend", "reinstate"]);
    assert_eq!(events[1]["reason"], "符合入库条件");
    assert_eq!(events[1]["from_status"], "applied");
    assert!(events[1]["actor"].as_str().unwrap().ends_with(":province"));
    let audited = raw_count(
        &app,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'expert' AND entity_id = '{id}'"
        ),
    )
    .await;
    assert_eq!(audited, 4);
}

async fn raw_count(app: &TestApp, sql: &str) -> i64 {
    match app.db() {
        cpaudit_storage::Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        cpaudit_storage::Db::Postgres(pool) => {
            sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
        }
    }
}

#[tokio::test]
async fn experts_removal_is_final_and_illegal_steps_are_refused() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let id = apply(&app, &province).await;
    let early = act(&app, &province, id, "suspend", "未入库").await;
    assert_eq!(early["status"], 400);
    assert_eq!(early["body"]["error"]["code"], "transition_refused");
    assert_eq!(act(&app, &province, id, "admit", "").await["status"], 200);
    assert_eq!(
        act(&app, &province, id, "remove", "本人申请退出").await["status"],
        200
    );
    for action in ["admit", "reinstate", "suspend", "remove"] {
        let refused = act(&app, &province, id, action, "再试").await;
        assert_eq!(refused["status"], 400, "{action}");
        assert!(
            refused["body"]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("已出库"),
            "{refused}"
        );
    }
    // The page form is refused the same way.
    let browser = app.browser("province").await;
    let page = app
        .post_form(
            &format!("/experts/{id}/actions"),
            Some(&browser),
            &[("action", "reinstate"), ("reason", "再试")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn experts_a_declared_conflict_appears_on_the_provinces_view() {
    let app = TestApp::new().await;
    let expert = app.token("expert").await;
    let enterprise_id = demo_enterprise_id(app.db()).await;
    let without_reason = app
        .api(
            "POST",
            "/api/v1/experts/me/declarations",
            Some(&expert),
            Some(json!({"kind": "enterprise", "organisation_id": enterprise_id, "reason": ""})),
        )
        .await;
    assert_eq!(without_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(without_reason.json()["error"]["field"], "reason");

    let browser = app.browser("expert").await;
    let declared = app
        .post_form(
            "/experts/me/declarations",
            Some(&browser),
            &[
                ("kind", "enterprise"),
                ("organisation_id", &enterprise_id.to_string()),
                ("reason", "曾在该企业任职"),
            ],
        )
        .await;
    assert_eq!(
        declared.status,
        StatusCode::SEE_OTHER,
        "{}",
        declared.text()
    );
    let own = app.get("/experts/me", Some(&browser)).await;
    assert!(own.text().contains("曾在该企业任职"));

    let me = app
        .api("GET", "/api/v1/experts/me", Some(&expert), None)
        .await
        .json();
    let expert_id = me["expert"]["id"].as_i64().unwrap();
    let province = app.token("province").await;
    let detail = app
        .api(
            "GET",
            &format!("/api/v1/experts/{expert_id}"),
            Some(&province),
            None,
        )
        .await
        .json();
    let declarations = detail["declarations"].as_array().unwrap();
    assert_eq!(declarations.len(), 1);
    assert_eq!(declarations[0]["enterprise_id"], enterprise_id);
    assert_eq!(declarations[0]["reason"], "曾在该企业任职");

    // The province cannot declare for an expert.
    let refused = app
        .api(
            "POST",
            "/api/v1/experts/me/declarations",
            Some(&province),
            Some(json!({"kind": "enterprise", "organisation_id": enterprise_id, "reason": "x"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn experts_the_evaluation_proposes_warn_and_remove_from_the_ratings() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let enterprise_id = demo_enterprise_id(app.db()).await;
    let pool = app
        .api(
            "GET",
            "/api/v1/experts?status=admitted",
            Some(&province),
            None,
        )
        .await
        .json();
    let ids: Vec<i64> = pool
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let (poor, middling, good) = (ids[0], ids[1], ids[2]);
    // Ratings per draw: poor 1 and 2 (average 1.5, below the removal line 2.0), middling 3 and
    // 2 (2.5, below the warning line 3.0), good 5 and 4; the good one declined a third draw
    // of an enterprise it had declared a conflict with, which does not count against it.
    let assignments = [
        (9001, poor, Some(1)),
        (9002, poor, Some(2)),
        (9001, middling, Some(3)),
        (9002, middling, Some(2)),
        (9001, good, Some(5)),
        (9002, good, Some(4)),
    ];
    for draw in [9001, 9002, 9003] {
        raw_execute(
            app.db(),
            &format!(
                "INSERT INTO draws (id, review_kind, round_ref, enterprise_id, organizer_code, \
                 stage, inputs_json, frozen_at, created_at, created_by) VALUES ({draw}, \
                 'assessment', 'r{draw}', {enterprise_id}, '620000', 'drawn', '{{}}', \
                 '2027-03-01T00:00:00.000000Z', '2027-03-01T00:00:00.000000Z', 'test')"
            ),
        )
        .await;
    }
    for (rank, (draw, expert, rating)) in assignments.into_iter().enumerate() {
        let rating = rating.map_or("NULL".to_string(), |r: i32| r.to_string());
        raw_execute(
            app.db(),
            &format!(
                "INSERT INTO draw_assignments (draw_id, expert_id, rank, role, response, rating) \
                 VALUES ({draw}, {expert}, {rank}, 'panel', 'accepted', {rating})"
            ),
        )
        .await;
    }
    raw_execute(
        app.db(),
        &format!(
            "INSERT INTO draw_assignments (draw_id, expert_id, rank, role, response) \
             VALUES (9003, {good}, 1, 'panel', 'declined')"
        ),
    )
    .await;
    raw_execute(
        app.db(),
        &format!(
            "INSERT INTO conflict_declarations (expert_id, enterprise_id, reason, declared_at) \
             VALUES ({good}, {enterprise_id}, '亲属任职', '2027-02-01T00:00:00.000000Z')"
        ),
    )
    .await;

    let evaluation = app
        .api(
            "GET",
            "/api/v1/experts/evaluation?year=2027",
            Some(&province),
            None,
        )
        .await;
    assert_eq!(evaluation.status, StatusCode::OK, "{}", evaluation.text());
    let rows = evaluation.json();
    let row = |id: i64| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["expert_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(row(poor)["proposal"], "remove", "{}", row(poor));
    assert_eq!(row(poor)["average_rating"], 1.5);
    assert!(row(poor)["reasons"][0]
        .as_str()
        .unwrap()
        .contains("experts.evaluation.remove_below_rating_tenths"));
    assert_eq!(row(middling)["proposal"], "warn", "{}", row(middling));
    assert_eq!(row(good)["proposal"], "keep", "{}", row(good));
    assert_eq!(row(good)["count"], 3);
    assert_eq!(row(good)["declined_count"], 0);

    // Another year has no reviews; a bad year is a field error.
    let other = app
        .api(
            "GET",
            "/api/v1/experts/evaluation?year=2026",
            Some(&province),
            None,
        )
        .await
        .json();
    assert!(other
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["proposal"] == "keep"));
    let bad = app
        .api(
            "GET",
            "/api/v1/experts/evaluation?year=20x7",
            Some(&province),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let browser = app.browser("province").await;
    let page = app
        .get("/experts/evaluation?year=2027", Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("建议出库"));
}

#[tokio::test]
async fn experts_employment_is_recorded_with_dates() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let enterprise_id = demo_enterprise_id(app.db()).await;
    let path = "/api/v1/experts/1/employment";
    let backwards = app
        .api(
            "POST",
            path,
            Some(&province),
            Some(
                json!({"kind": "enterprise", "organisation_id": enterprise_id,
                "starts_on": "2020-01-01", "ends_on": "2019-01-01"}),
            ),
        )
        .await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);
    assert_eq!(backwards.json()["error"]["field"], "ends_on");
    let added = app
        .api(
            "POST",
            path,
            Some(&province),
            Some(
                json!({"kind": "enterprise", "organisation_id": enterprise_id,
                "starts_on": "2015-03-01", "ends_on": "2019-06-30"}),
            ),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    let detail = app
        .api("GET", "/api/v1/experts/1", Some(&province), None)
        .await
        .json();
    assert_eq!(detail["employment"][0]["enterprise_id"], enterprise_id);
    assert_eq!(detail["employment"][0]["ends_on"], "2019-06-30");
}

#[tokio::test]
async fn experts_only_the_province_sees_the_pool_and_an_expert_only_its_own_record() {
    let app = TestApp::new().await;
    for user in ["lanzhou", "tianshui", "enterprise", "consultancy", "expert"] {
        let browser = app.browser(user).await;
        for path in ["/experts", "/experts/1", "/experts/evaluation"] {
            let page = app.get(path, Some(&browser)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{user} {path}");
        }
        let token = app.token(user).await;
        let api = app
            .api("GET", "/api/v1/experts/1", Some(&token), None)
            .await;
        assert_eq!(api.status, StatusCode::FORBIDDEN, "{user}");
    }
    let expert = app.browser("expert").await;
    assert_eq!(
        app.get("/experts/me", Some(&expert)).await.status,
        StatusCode::OK
    );
    let province = app.browser("province").await;
    assert_eq!(
        app.get("/experts/me", Some(&province)).await.status,
        StatusCode::FORBIDDEN
    );
    let pool = app.get("/experts?status=admitted", Some(&province)).await;
    assert_eq!(pool.status, StatusCode::OK);
}
