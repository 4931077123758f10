//! Enforcement on an audit round: 促进法 Art. 39(1) orders to correct, then a fine only after
//! the enterprise failed to correct by the date, within the article's range; Art. 36 fines
//! without an order; public criticisms on the public page; the province sanctioning the round's
//! consultancy from the round's page. Round 1 is the demo list's first round, in Lanzhou; the
//! tests live on 2027-01-15.

use axum::http::StatusCode;
use chrono::NaiveDate;
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::Principal;
use serde_json::{json, Value};

use crate::support::{raw_execute, Response, TestApp};

const ROUND: i64 = 1;

async fn lanzhou_round(app: &TestApp) -> cpaudit_storage::InScope<RoundRow> {
    let operator = Principal::console_operator("test");
    let round = app
        .db()
        .get_round(operator.scope(), ROUND)
        .await
        .unwrap()
        .expect("the demo list opens round 1");
    assert_eq!(round.jurisdiction_code, "620100", "round 1 is in Lanzhou");
    round
}

async fn decide(app: &TestApp, token: &str, body: Value) -> Response {
    app.api(
        "POST",
        &format!("/api/v1/rounds/{ROUND}/enforcement"),
        Some(token),
        Some(body),
    )
    .await
}

async fn record_outcome(app: &TestApp, token: &str, order: i64, body: Value) -> Response {
    app.api(
        "POST",
        &format!("/api/v1/enforcement/{order}/outcome"),
        Some(token),
        Some(body),
    )
    .await
}

/// An Art. 39(1) order to correct recorded by Lanzhou; returns its id.
async fn art_39_order(app: &TestApp, token: &str, decided_on: &str, correct_by: &str) -> i64 {
    let created = decide(
        app,
        token,
        json!({"kind": "order_to_correct", "basis": "penalty.law_39_1",
            "reason": "名单公布后未按期开展强制性清洁生产审核", "decided_on": decided_on,
            "correct_by": correct_by, "document_number": "兰环责改〔2027〕1号"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let row = created.json();
    assert_eq!(row["kind"], "order_to_correct");
    assert_eq!(row["correct_by"], correct_by);
    row["id"].as_i64().unwrap()
}

/// An Art. 39(1) order of 2027-01-04 to correct by 2027-01-11, found not corrected on
/// 2027-01-12.
async fn order_not_corrected(app: &TestApp, token: &str) -> i64 {
    let order = art_39_order(app, token, "2027-01-04", "2027-01-11").await;
    let found = record_outcome(
        app,
        token,
        order,
        json!({"outcome": "not_corrected", "outcome_on": "2027-01-12"}),
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    assert_eq!(found.json()["outcome"], "not_corrected");
    order
}

fn art_39_fine(amount: i64, follows: Option<i64>) -> Value {
    json!({"kind": "fine", "basis": "penalty.law_39_1", "reason": "逾期拒不改正",
        "amount_yuan": amount, "follows": follows, "publish": true,
        "document_number": "兰环罚〔2027〕8号"})
}

fn assert_refused(response: &Response, field: &str, code: &str) -> String {
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text()
    );
    let error = &response.json()["error"];
    assert_eq!(error["field"], field, "{error}");
    assert_eq!(error["code"], code, "{error}");
    error["message"].as_str().unwrap().to_string()
}

async fn enforcement(app: &TestApp, token: &str) -> Value {
    let response = app
        .api(
            "GET",
            &format!("/api/v1/rounds/{ROUND}/enforcement"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

#[tokio::test]
async fn an_order_not_corrected_by_its_date_is_followed_by_a_fine_within_the_range() {
    let app = TestApp::new().await;
    let round = lanzhou_round(&app).await;
    let lanzhou = app.token("lanzhou").await;
    let order = order_not_corrected(&app, &lanzhou).await;
    let fined = decide(&app, &lanzhou, art_39_fine(80_000, Some(order))).await;
    assert_eq!(fined.status, StatusCode::CREATED, "{}", fined.text());
    let fine = fined.json();
    assert_eq!(fine["amount_yuan"], 80_000);
    assert_eq!(fine["follows"], order);
    assert_eq!(fine["decided_on"], "2027-01-15", "decided today by default");
    let rule = &fine["rule"];
    assert_eq!(rule["id"], "penalty.law_39_1");
    assert_eq!(rule["citations"][0]["article"], "第三十九条第一款");

    let record = enforcement(&app, &lanzhou).await;
    assert_eq!(record["actions"].as_array().unwrap().len(), 2);
    assert_eq!(record["awaiting_outcome"], json!([]));
    assert_eq!(record["may_decide"], true);

    // Each step is on the round's timeline and in the verified audit chain.
    let events = app.db().round_events(&round).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "enforcement_order_to_correct",
        "enforcement_outcome",
        "enforcement_fine",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let verify = crate::support::cpaudit_command(&app.store.url, &["audit-log", "verify"]);
    assert!(verify.status.success());

    // The published fine is public, with the article and the amount but not the reason.
    let public = app
        .api("GET", "/api/v1/public/enforcement", None, None)
        .await
        .json();
    assert_eq!(public[0]["kind"], "fine");
    assert_eq!(public[0]["enterprise_name"], round.enterprise_name.as_str());
    assert_eq!(public[0]["article_zh"], "《清洁生产促进法》第三十九条");
    assert_eq!(public[0]["amount_yuan"], 80_000);
    assert_eq!(public[0]["document_number"], "兰环罚〔2027〕8号");
    assert!(!public.to_string().contains("逾期拒不改正"));
    assert_eq!(public.as_array().unwrap().len(), 1, "orders are not listed");
}

#[tokio::test]
async fn a_fine_outside_the_article_range_is_refused_naming_the_field_range_and_article() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let order = order_not_corrected(&app, &lanzhou).await;
    for amount in [49_999, 500_001] {
        let refused = decide(&app, &lanzhou, art_39_fine(amount, Some(order))).await;
        let message = assert_refused(&refused, "amount_yuan", "out_of_range");
        assert_eq!(
            message,
            "罚款金额应在五万元以上五十万元以下（《清洁生产促进法》第三十九条）"
        );
    }
    let zero = decide(&app, &lanzhou, art_39_fine(0, Some(order))).await;
    assert_refused(&zero, "amount_yuan", "out_of_range");
    let text = decide(
        &app,
        &lanzhou,
        json!({"kind": "fine", "basis": "penalty.law_39_1", "reason": "x",
            "amount_yuan": "五万", "follows": order}),
    )
    .await;
    assert_refused(&text, "amount_yuan", "invalid_number");
    let record = enforcement(&app, &lanzhou).await;
    assert_eq!(
        record["actions"].as_array().unwrap().len(),
        1,
        "no fine recorded"
    );
}

#[tokio::test]
async fn a_fine_under_art_39_without_an_order_to_correct_is_refused() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let refused = decide(&app, &lanzhou, art_39_fine(60_000, None)).await;
    let message = assert_refused(&refused, "follows", "order_missing");
    assert!(
        message.contains("《清洁生产促进法》第三十九条"),
        "{message}"
    );
    // Naming an order that does not exist is no better.
    let refused = decide(&app, &lanzhou, art_39_fine(60_000, Some(999))).await;
    assert_refused(&refused, "follows", "unknown_order");
    assert_eq!(
        enforcement(&app, &lanzhou).await["actions"],
        json!([]),
        "nothing recorded"
    );
}

#[tokio::test]
async fn no_fine_and_no_finding_of_refusal_before_the_date_to_correct_has_passed() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let order = art_39_order(&app, &lanzhou, "2027-01-10", "2027-01-20").await;
    let early = record_outcome(
        &app,
        &lanzhou,
        order,
        json!({"outcome": "not_corrected", "outcome_on": "2027-01-15"}),
    )
    .await;
    let message = assert_refused(&early, "outcome_on", "order_not_expired");
    assert_eq!(
        message,
        "责令改正期限至2027年1月20日，2027年1月21日起方可认定逾期未改正"
    );
    let fine = decide(&app, &lanzhou, art_39_fine(60_000, Some(order))).await;
    let message = assert_refused(&fine, "decided_on", "order_not_expired");
    assert_eq!(
        message,
        "责令改正期限至2027年1月20日，2027年1月21日起方可罚款"
    );

    // Once the date has passed the order waits for its outcome on the work list.
    app.clock.advance(chrono::Duration::days(7));
    let lanzhou = app.token("lanzhou").await;
    let today = NaiveDate::from_ymd_opt(2027, 1, 22).unwrap();
    let operator = Principal::console_operator("test");
    let overdue = app
        .db()
        .orders_awaiting_outcome(operator.scope(), today)
        .await
        .unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!((overdue[0].id, overdue[0].round_id), (order, ROUND));
    assert_eq!(
        enforcement(&app, &lanzhou).await["awaiting_outcome"],
        json!([order])
    );
    let work = app
        .api("GET", "/api/v1/work", Some(&lanzhou), None)
        .await
        .json();
    assert_eq!(work["orders_awaiting_outcome"][0]["id"], order);
    let tianshui = app.token("tianshui").await;
    let work = app
        .api("GET", "/api/v1/work", Some(&tianshui), None)
        .await
        .json();
    assert_eq!(
        work["orders_awaiting_outcome"],
        json!([]),
        "another city's order"
    );
    let fine = decide(&app, &lanzhou, art_39_fine(60_000, Some(order))).await;
    assert_refused(&fine, "follows", "outcome_missing");
}

#[tokio::test]
async fn a_corrected_order_cannot_be_followed_by_a_fine_and_an_outcome_is_recorded_once() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let order = art_39_order(&app, &lanzhou, "2027-01-04", "2027-01-11").await;
    let corrected = record_outcome(
        &app,
        &lanzhou,
        order,
        json!({"outcome": "corrected", "outcome_on": "2027-01-08"}),
    )
    .await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.text());
    let fine = decide(&app, &lanzhou, art_39_fine(60_000, Some(order))).await;
    let message = assert_refused(&fine, "follows", "order_corrected");
    assert_eq!(message, "企业已于2027年1月8日改正，不得罚款");
    let again = record_outcome(&app, &lanzhou, order, json!({"outcome": "not_corrected"})).await;
    assert_refused(&again, "outcome", "already_recorded");
}

#[tokio::test]
async fn an_art_36_fine_needs_no_order_and_is_at_most_100_000_yuan() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let fine = |amount: i64| {
        json!({"kind": "fine", "basis": "penalty.law_36", "amount_yuan": amount,
            "reason": "未按规定公布重点污染物排放情况", "publish": false})
    };
    let refused = decide(&app, &province, fine(100_001)).await;
    let message = assert_refused(&refused, "amount_yuan", "out_of_range");
    assert_eq!(
        message,
        "罚款金额应在十万元以下（《清洁生产促进法》第三十六条）"
    );
    let accepted = decide(&app, &province, fine(100_000)).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text());
    assert_eq!(accepted.json()["follows"], Value::Null);
    assert_eq!(accepted.json()["published"], false);
    let public = app
        .api("GET", "/api/v1/public/enforcement", None, None)
        .await;
    assert_eq!(
        public.json(),
        json!([]),
        "an unpublished fine stays off the list"
    );
    // Art. 39 offers no public criticism.
    let criticism = decide(
        &app,
        &province,
        json!({"kind": "public_criticism", "basis": "penalty.law_39_1", "reason": "x"}),
    )
    .await;
    assert_refused(&criticism, "kind", "not_allowed_by_basis");
}

#[tokio::test]
async fn a_public_criticism_is_recorded_from_the_page_and_published() {
    let app = TestApp::new().await;
    let round = lanzhou_round(&app).await;
    let browser = app.browser("lanzhou").await;
    let page = app
        .get(&format!("/rounds/{ROUND}/enforcement"), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    // Each form offers the articles with their ranges and wording from the rule book.
    assert!(html.contains("五万元以上五十万元以下"), "the Art. 39 range");
    assert!(html.contains("拒不改正的，处以五万元以上五十万元以下的罚款"));
    assert!(html.contains("value=\"penalty.order24_art28\""));
    assert!(
        !html.contains("/enforcement/sanction"),
        "a city does not sanction consultancies"
    );

    let posted = app
        .post_form(
            &format!("/rounds/{ROUND}/enforcement"),
            Some(&browser),
            &[
                ("kind", "public_criticism"),
                ("basis", "penalty.order24_art28"),
                ("reason", "未按规定披露环境信息"),
                ("decided_on", "2027-01-14"),
                ("document_number", "兰环通〔2027〕3号"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.text());
    assert!(posted
        .location()
        .starts_with("/rounds/1/enforcement#enforcement-"));

    let public = app.get("/public/enforcement", None).await;
    assert_eq!(public.status, StatusCode::OK);
    let html = public.text();
    for expected in [
        round.enterprise_name.as_str(),
        "通报批评",
        "《企业环境信息依法披露管理办法》第二十八条",
        "兰环通〔2027〕3号",
        "2027-01-14",
    ] {
        assert!(html.contains(expected), "{expected} on the public page");
    }
    assert!(
        !html.contains("未按规定披露环境信息"),
        "no free-text reason"
    );

    // A form with a bad value comes back as an error page naming the problem.
    let refused = app
        .post_form(
            &format!("/rounds/{ROUND}/enforcement"),
            Some(&browser),
            &[
                ("kind", "fine"),
                ("basis", "penalty.order24_art29"),
                ("reason", "披露超过规定时限"),
                ("amount_yuan", "60000"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("罚款金额应在五万元以下"));
}

#[tokio::test]
async fn an_outcome_recorded_from_the_page_returns_to_the_round() {
    let app = TestApp::new().await;
    let lanzhou = app.token("lanzhou").await;
    let order = art_39_order(&app, &lanzhou, "2027-01-04", "2027-01-11").await;
    let browser = app.browser("lanzhou").await;
    let page = app
        .get(&format!("/rounds/{ROUND}/enforcement"), Some(&browser))
        .await
        .text();
    assert!(page.contains(&format!("/enforcement/{order}/outcome")));
    let posted = app
        .post_form(
            &format!("/enforcement/{order}/outcome"),
            Some(&browser),
            &[("outcome", "not_corrected"), ("outcome_on", "2027-01-15")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.text());
    assert_eq!(
        posted.location(),
        format!("/rounds/{ROUND}/enforcement#enforcement-{order}")
    );
    let record = enforcement(&app, &lanzhou).await;
    assert_eq!(record["actions"][0]["outcome"], "not_corrected");
}

#[tokio::test]
async fn only_the_rounds_city_and_the_province_decide_and_others_see_nothing() {
    let app = TestApp::new().await;
    let order = json!({"kind": "order_to_correct", "basis": "penalty.law_39_1",
        "reason": "弄虚作假", "correct_by": "2027-03-31"});
    for user in ["enterprise", "consultancy", "expert"] {
        let token = app.token(user).await;
        let refused = decide(&app, &token, order.clone()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{user}");
    }
    let tianshui = app.token("tianshui").await;
    assert_eq!(
        decide(&app, &tianshui, order.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    let read = app
        .api(
            "GET",
            &format!("/api/v1/rounds/{ROUND}/enforcement"),
            Some(&tianshui),
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);

    let lanzhou = app.token("lanzhou").await;
    let created = decide(&app, &lanzhou, order).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_i64().unwrap();
    let outcome = record_outcome(&app, &tianshui, id, json!({"outcome": "corrected"})).await;
    assert_eq!(
        outcome.status,
        StatusCode::NOT_FOUND,
        "another city's order"
    );
}

/// A consultancy that no sanction names.
async fn clean_consultancy(app: &TestApp) -> (i64, String) {
    let operator = Principal::console_operator("test");
    let sanctioned: Vec<i64> = app
        .db()
        .sanctions(None)
        .await
        .unwrap()
        .iter()
        .map(|s| s.consultancy_id)
        .collect();
    let consultancy = app
        .db()
        .list_consultancies(operator.scope())
        .await
        .unwrap()
        .into_iter()
        .find(|c| !sanctioned.contains(&c.id))
        .expect("the demo has an unsanctioned consultancy");
    (consultancy.id, consultancy.name)
}

#[tokio::test]
async fn the_province_sanctions_the_rounds_consultancy_from_the_round_page_and_it_is_blacklisted() {
    let app = TestApp::new().await;
    let (consultancy, name) = clean_consultancy(&app).await;
    raw_execute(
        app.db(),
        &format!(
            "UPDATE rounds SET state = 'report_submitted', audit_mode = 'consultancy', \
             consultancy_id = {consultancy} WHERE id = {ROUND}"
        ),
    )
    .await;
    let province = app.browser("province").await;
    let page = app
        .get(&format!("/rounds/{ROUND}/enforcement"), Some(&province))
        .await
        .text();
    assert!(page.contains(&name), "the round's consultancy is named");
    assert!(page.contains(&format!("action=\"/rounds/{ROUND}/enforcement/sanction\"")));
    let city = app.browser("lanzhou").await;
    let city_page = app
        .get(&format!("/rounds/{ROUND}/enforcement"), Some(&city))
        .await
        .text();
    assert!(!city_page.contains("/enforcement/sanction"));
    let city_post = app
        .post_form(
            &format!("/rounds/{ROUND}/enforcement/sanction"),
            Some(&city),
            &[("kind", "blacklist"), ("reason", "提供虚假审核报告")],
        )
        .await;
    assert_eq!(city_post.status, StatusCode::FORBIDDEN);

    let posted = app
        .post_form(
            &format!("/rounds/{ROUND}/enforcement/sanction"),
            Some(&province),
            &[("kind", "blacklist"), ("reason", "提供虚假审核报告")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.text());
    assert_eq!(
        posted.location(),
        format!("/rounds/{ROUND}/enforcement#sanctions")
    );

    let blacklist = app
        .api("GET", "/api/v1/public/blacklist", None, None)
        .await
        .json();
    let entry = blacklist
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == name.as_str())
        .unwrap_or_else(|| panic!("{name} on the blacklist: {blacklist}"));
    let reason = entry["reason"].as_str().unwrap();
    assert!(reason.contains("审核轮次 #1"), "{reason}");
    assert!(reason.ends_with("提供虚假审核报告"), "{reason}");
    let public_page = app.get("/public/blacklist", None).await.text();
    assert!(public_page.contains(&name));
    let after = app
        .get(&format!("/rounds/{ROUND}/enforcement"), Some(&province))
        .await
        .text();
    assert!(
        after.contains("提供虚假审核报告"),
        "the sanction is listed on the page"
    );
}

#[tokio::test]
async fn a_round_without_a_consultancy_has_nobody_to_sanction() {
    let app = TestApp::new().await;
    let province = app.browser("province").await;
    let posted = app
        .post_form(
            &format!("/rounds/{ROUND}/enforcement/sanction"),
            Some(&province),
            &[("kind", "blacklist"), ("reason", "提供虚假审核报告")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST);
    assert!(posted.text().contains("本轮审核没有委托咨询服务机构"));
}
