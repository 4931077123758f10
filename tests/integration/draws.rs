//! Expert panel draws through the API: freeze, run with sources published after the freeze,
//! conflicts excluded, answers, alternates moving up, and the public record.

use axum::http::StatusCode;
use cpaudit_storage::auth::NewUser;
use cpaudit_storage::{Principal, Role};
use serde_json::json;

use crate::support::{enterprise_in, raw_execute, TestApp, PASSWORD};

fn sources(day: &str) -> serde_json::Value {
    json!({"sources": [
        {"name": "中国福利彩票双色球开奖号码（红球）", "drawn_on": day, "values": ["3", "11", "17", "22", "28", "31"]},
        {"name": "深圳证券交易所成份指数收盘点位", "drawn_on": day, "values": ["10234.56"]}
    ]})
}

/// Logs in as the expert behind `expert_id` (the demo has one expert user only).
pub(crate) async fn expert_token(app: &TestApp, expert_id: i64) -> String {
    let operator = Principal::console_operator("test");
    let username = format!("expert{expert_id}");
    app.db()
        .add_user(
            &operator,
            &NewUser {
                username: username.clone(),
                display_name: username.clone(),
                password: PASSWORD.into(),
                role: Role::Expert,
                jurisdiction_code: None,
                enterprise_id: None,
                consultancy_id: None,
                expert_id: Some(expert_id),
            },
            crate::support::test_now(),
        )
        .await
        .unwrap();
    app.token(&username).await
}

#[tokio::test]
async fn a_panel_is_drawn_after_the_pool_is_frozen_and_anyone_can_check_it() {
    let app = TestApp::new().await;
    let enterprise_id = enterprise_in(app.db(), "620100").await;
    // Expert 2 declared a conflict with the enterprise: excluded before any draw.
    raw_execute(
        app.db(),
        &format!(
            "INSERT INTO conflict_declarations (expert_id, enterprise_id, reason, declared_at) \
             VALUES (2, {enterprise_id}, '曾为该企业编制环评报告', '2027-01-10T00:00:00.000000Z')"
        ),
    )
    .await;
    let province = app.token("province").await;
    let tianshui = app.token("tianshui").await;
    let body = json!({"kind": "assessment", "round_id": 7, "enterprise_id": enterprise_id, "review_on": "2027-03-01"});
    let foreign = app
        .api("POST", "/api/v1/draws", Some(&tianshui), Some(body.clone()))
        .await;
    assert_eq!(
        foreign.status,
        StatusCode::NOT_FOUND,
        "not Tianshui's enterprise"
    );
    let frozen = app
        .api("POST", "/api/v1/draws", Some(&province), Some(body))
        .await;
    assert_eq!(frozen.status, StatusCode::CREATED, "{}", frozen.text());
    let id = frozen.json()["draw"]["id"].as_i64().unwrap();
    assert_eq!(frozen.json()["draw"]["stage"], "frozen");

    // Numbers published on the day the pool froze could have been known: refused.
    let same_day = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/run"),
            Some(&province),
            Some(sources("2027-01-15")),
        )
        .await;
    assert_eq!(
        same_day.status,
        StatusCode::BAD_REQUEST,
        "{}",
        same_day.text()
    );
    assert_eq!(same_day.json()["error"]["field"], "draw");

    app.clock.advance(chrono::Duration::days(2));
    let province = app.token("province").await;
    let drawn = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/run"),
            Some(&province),
            Some(sources("2027-01-16")),
        )
        .await;
    assert_eq!(drawn.status, StatusCode::OK, "{}", drawn.text());
    let assignments = drawn.json()["assignments"].as_array().unwrap().clone();
    let panel: Vec<i64> = assignments
        .iter()
        .filter(|a| a["role"] == "panel")
        .map(|a| a["expert_id"].as_i64().unwrap())
        .collect();
    assert_eq!(panel.len(), 5, "panel.min_members = 5 (odd)");
    assert!(
        !assignments.iter().any(|a| a["expert_id"] == 2),
        "the declared conflict is out"
    );
    let again = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/run"),
            Some(&province),
            Some(sources("2027-01-16")),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a draw runs once");

    // The public record: pool numbers, exclusion categories, no names; it recomputes.
    let public = app
        .api("GET", &format!("/api/v1/public/draws/{id}"), None, None)
        .await;
    assert_eq!(public.status, StatusCode::OK);
    let public = public.json();
    assert_eq!(public["verified"], true);
    let text = public.to_string();
    assert!(text.contains("\"declared\""), "{text}");
    assert!(
        !text.contains("曾为该企业编制环评报告"),
        "exclusion details stay private"
    );
    assert!(public["record"]["pool"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["name"].is_null()));
    let list = app
        .api("GET", "/api/v1/public/draws", None, None)
        .await
        .json();
    assert_eq!(list[0]["id"], id);
    let page = app.get(&format!("/public/draws/{id}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("RFC 3797"));

    // A drawn expert must confirm no conflict to accept; another declines with a reason and
    // the best-ranked alternate takes the seat.
    let first = expert_token(&app, panel[0]).await;
    let unconfirmed = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/response"),
            Some(&first),
            Some(json!({"accept": true})),
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert_eq!(unconfirmed.json()["error"]["field"], "no_conflict");
    let accepted = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/response"),
            Some(&first),
            Some(json!({"accept": true, "no_conflict": true})),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
    assert_eq!(accepted.json()["no_conflict_confirmed"], true);
    let second = expert_token(&app, panel[1]).await;
    let declined = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/response"),
            Some(&second),
            Some(json!({"accept": false, "reason": "评审日出差"})),
        )
        .await;
    assert_eq!(declined.status, StatusCode::OK, "{}", declined.text());
    let first_alternate = assignments
        .iter()
        .find(|a| a["role"] == "alternate")
        .unwrap()["expert_id"]
        .clone();
    let now = app
        .db()
        .assignments(&crate::support::read::draw(app.db(), id).await)
        .await
        .unwrap();
    let promoted = now
        .iter()
        .find(|a| serde_json::json!(a.expert_id) == first_alternate)
        .unwrap();
    assert_eq!(promoted.role.as_str(), "panel");
    let mine = app
        .api("GET", "/api/v1/draws/assignments", Some(&second), None)
        .await
        .json();
    assert_eq!(mine[0]["response"], "declined");

    // Once the review is finished the panel's names are published.
    let finished = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/finish"),
            Some(&province),
            None,
        )
        .await;
    assert_eq!(finished.status, StatusCode::NO_CONTENT);
    let public = app
        .api("GET", &format!("/api/v1/public/draws/{id}"), None, None)
        .await
        .json();
    assert_eq!(public["record"]["names_shown"], true);
    assert_eq!(public["verified"], true);
}

#[tokio::test]
async fn a_pool_smaller_than_the_panel_is_refused_naming_the_shortfall() {
    let app = TestApp::new().await;
    let enterprise_id = enterprise_in(app.db(), "620100").await;
    // Only three experts remain available.
    raw_execute(
        app.db(),
        "UPDATE experts SET available = FALSE WHERE id > 3",
    )
    .await;
    let province = app.token("province").await;
    let frozen = app
        .api(
            "POST",
            "/api/v1/draws",
            Some(&province),
            Some(json!({"kind": "acceptance", "round_id": 8, "enterprise_id": enterprise_id, "review_on": "2027-04-01"})),
        )
        .await;
    let id = frozen.json()["draw"]["id"].as_i64().unwrap();
    app.clock.advance(chrono::Duration::days(2));
    let province = app.token("province").await;
    let refused = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/run"),
            Some(&province),
            Some(sources("2027-01-16")),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains('2') || message.contains("shortfall"),
        "{message}"
    );
    assert!(
        app.db()
            .assignments(&crate::support::read::draw(app.db(), id).await)
            .await
            .unwrap()
            .is_empty(),
        "no partial panel"
    );
    let bad = app
        .api(
            "POST",
            "/api/v1/draws",
            Some(&province),
            Some(json!({"kind": "audit", "round_id": 8, "enterprise_id": enterprise_id, "review_on": "2027-04-01"})),
        )
        .await;
    assert_eq!(bad.json()["error"]["field"], "kind");
}

/// The demo places some experts at demo enterprises: a draw for such an enterprise excludes
/// them as its employees.
#[tokio::test]
async fn an_expert_employed_by_the_enterprise_is_excluded_as_employer() {
    let app = TestApp::new().await;
    let query = "SELECT enterprise_id, expert_id FROM expert_employment \
                 WHERE enterprise_id IS NOT NULL ORDER BY id LIMIT 1";
    let (enterprise_id, expert_id): (i64, i64) = match app.db() {
        cpaudit_storage::Db::Sqlite(pool) => sqlx::query_as(query).fetch_one(pool).await.unwrap(),
        cpaudit_storage::Db::Postgres(pool) => sqlx::query_as(query).fetch_one(pool).await.unwrap(),
    };
    let province = app.token("province").await;
    let frozen = app
        .api(
            "POST",
            "/api/v1/draws",
            Some(&province),
            Some(json!({"kind": "assessment", "round_id": 9, "enterprise_id": enterprise_id, "review_on": "2027-03-01"})),
        )
        .await;
    assert_eq!(frozen.status, StatusCode::CREATED, "{}", frozen.text());
    let id = frozen.json()["draw"]["id"].as_i64().unwrap();
    app.clock.advance(chrono::Duration::days(2));
    let province = app.token("province").await;
    let drawn = app
        .api(
            "POST",
            &format!("/api/v1/draws/{id}/run"),
            Some(&province),
            Some(sources("2027-01-16")),
        )
        .await;
    assert_eq!(drawn.status, StatusCode::OK, "{}", drawn.text());
    assert!(!drawn.json()["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["expert_id"] == expert_id));
    let public = app
        .api("GET", &format!("/api/v1/public/draws/{id}"), None, None)
        .await
        .json();
    let categories: Vec<String> = public["record"]["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["category"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(categories.iter().any(|c| c == "employer"), "{categories:?}");
}

/// The organizer freezes, runs and finishes a draw on pages, and a drawn expert answers on the
/// own page: no step needs the API.
#[tokio::test]
async fn the_whole_draw_is_taken_on_pages_by_the_organizer_and_the_experts() {
    let app = TestApp::new().await;
    let round_id: i64 = match app.db() {
        cpaudit_storage::Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT id FROM rounds WHERE track = 'standard' ORDER BY id LIMIT 1")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        cpaudit_storage::Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT id FROM rounds WHERE track = 'standard' ORDER BY id LIMIT 1")
                .fetch_one(pool)
                .await
                .unwrap()
        }
    };
    crate::support::raw_execute(
        app.db(),
        &format!("UPDATE rounds SET state = 'report_submitted' WHERE id = {round_id}"),
    )
    .await;
    let province = app.browser("province").await;
    let round_page = app
        .get(&format!("/rounds/{round_id}"), Some(&province))
        .await
        .text();
    assert!(
        round_page.contains("action=\"/draws\""),
        "a freeze button: {round_page}"
    );

    let frozen = app
        .post_form(
            "/draws",
            Some(&province),
            &[
                ("audit_round_id", &round_id.to_string()),
                ("review_on", "2027-03-01"),
            ],
        )
        .await;
    assert_eq!(frozen.status, StatusCode::SEE_OTHER, "{}", frozen.text());
    let draw_path = frozen.headers["location"].to_str().unwrap().to_string();
    let draw_id: i64 = draw_path.trim_start_matches("/draws/").parse().unwrap();
    // The public list words the review and the stage, not their codes.
    let public = app.get("/public/draws", None).await.text();
    assert!(public.contains("已冻结专家库，待公布随机源"), "{public}");
    assert!(
        !public.contains(">frozen<") && !public.contains(">assessment<"),
        "{public}"
    );

    // A source line that does not read comes back beside the field, as typed.
    app.clock.advance(chrono::Duration::days(2));
    let province = app.browser("province").await;
    let run = format!("{draw_path}/run");
    let refused = app
        .post_form(
            &run,
            Some(&province),
            &[("_page", &draw_path), ("sources", "双色球 | 昨天 | 5 9")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    assert!(html.contains("id=\"sources-error\""), "{html}");
    assert!(html.contains("双色球 | 昨天 | 5 9</textarea>"), "{html}");

    let sources = "中国福利彩票双色球开奖号码（红球） | 2027-01-16 | 5 9 14 20 26 33\n\
                   深圳证券交易所成份指数收盘点位 | 2027-01-16 | 10876.12";
    let drawn = app
        .post_form(&run, Some(&province), &[("sources", sources)])
        .await;
    assert_eq!(drawn.status, StatusCode::SEE_OTHER, "{}", drawn.text());
    let page = app.get(&draw_path, Some(&province)).await.text();
    assert!(page.contains("评审专家"), "{page}");

    // A panel expert declines without a reason (refused beside it), then accepts.
    let draw = app.db().get_draw(draw_id).await.unwrap().unwrap();
    let seat = app
        .db()
        .assignments(&draw)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.role == cpaudit_storage::draws::SeatRole::Panel)
        .unwrap();
    expert_token(&app, seat.expert_id).await;
    let expert = app.browser(&format!("expert{}", seat.expert_id)).await;
    let own = app.get("/experts/me", Some(&expert)).await.text();
    assert!(
        own.contains(&format!("action=\"/draws/{draw_id}/response\"")),
        "{own}"
    );
    let respond = format!("/draws/{draw_id}/response");
    let refused = app
        .post_form(
            &respond,
            Some(&expert),
            &[("_page", "/experts/me"), ("accept", "true")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    assert!(refused
        .text()
        .contains(&format!("id=\"no_conflict-{draw_id}-error\"")));
    let accepted = app
        .post_form(
            &respond,
            Some(&expert),
            &[("accept", "true"), ("no_conflict", "true")],
        )
        .await;
    assert_eq!(
        accepted.status,
        StatusCode::SEE_OTHER,
        "{}",
        accepted.text()
    );
    let own = app.get("/experts/me", Some(&expert)).await.text();
    assert!(own.contains("已确认参加"), "{own}");

    let finished = app
        .post_form(&format!("{draw_path}/finish"), Some(&province), &[])
        .await;
    assert_eq!(
        finished.status,
        StatusCode::SEE_OTHER,
        "{}",
        finished.text()
    );
    assert!(app
        .get(&draw_path, Some(&province))
        .await
        .text()
        .contains("评审已结束"));
}
