//! A request the records' state no longer allows answers 409 with a stable code and the
//! message in the caller's language, not a 403 "not allowed".

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use cpaudit_storage::{Principal, StorageError};
use serde_json::json;

use crate::support::{test_now, TestApp};

/// Park 3 of the demo: 金昌化工园区, whose pilot has not passed.
const PARK: i64 = 3;

async fn assess(app: &TestApp, token: &str, language: &str) -> crate::support::Response {
    let body = json!({"result": "passed", "assessed_on": "2027-01-10", "note": "目标全部达成"});
    app.send(
        Request::post(format!("/api/v1/parks/{PARK}/audit/assessment"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT_LANGUAGE, language)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_conflict_answers_409_in_the_callers_language() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let pilot = json!({"title": "金昌化工园区整体清洁生产审核试点", "started_on": "2026-03-01",
        "targets": [{"indicator": "COD 排放量", "baseline": 320.0, "target": 280.0, "unit": "t/a"}],
        "measures": "中水回用", "wastewater_status": "园区污水处理厂一期运行",
        "wastewater_compliant": true});
    let saved = app
        .api(
            "PUT",
            &format!("/api/v1/parks/{PARK}/audit"),
            Some(&province),
            Some(pilot),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let first = assess(&app, &province, "zh-CN").await;
    assert_eq!(first.status, StatusCode::NO_CONTENT, "{}", first.text());

    // The pilot is assessed: a second assessment meets the park's state, not a lack of rights.
    let chinese = assess(&app, &province, "zh-CN,zh;q=0.9,en;q=0.8").await;
    assert_eq!(chinese.status, StatusCode::CONFLICT, "{}", chinese.text());
    let error = &chinese.json()["error"];
    assert_eq!(error["code"], "no_pilot_under_way");
    assert_eq!(error["message"], "该园区没有正在进行的整体审核试点");

    let english = assess(&app, &province, "en-US,en;q=0.9").await;
    assert_eq!(english.status, StatusCode::CONFLICT, "{}", english.text());
    let error = &english.json()["error"];
    assert_eq!(error["code"], "no_pilot_under_way");
    assert_eq!(error["message"], "the park has no pilot under way");
}

#[tokio::test]
async fn lifting_a_lifted_sanction_is_a_conflict_in_both_languages() {
    let app = TestApp::new().await;
    let sanction = app
        .db()
        .sanctions(None)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.lifted_on.is_none())
        .expect("the demo has a sanction in force");
    let province = Principal::console_operator("test");
    let lifted_on = chrono::NaiveDate::from_ymd_opt(2027, 1, 14).unwrap();
    app.db()
        .lift_sanction(&province, sanction.id, lifted_on, "已整改", test_now())
        .await
        .unwrap();
    let again = app
        .db()
        .lift_sanction(&province, sanction.id, lifted_on, "重复解除", test_now())
        .await;
    let Err(StorageError::Conflict { code, message }) = again else {
        panic!("expected a conflict, got {again:?}");
    };
    assert_eq!(code, "sanction_already_lifted");
    assert_eq!(message.zh, "该处理已于 2027-01-14 解除，不能重复解除");
    assert_eq!(message.en, "the sanction is already lifted (on 2027-01-14)");
    // A use case answers it as a conflict, keeping the code and the words.
    let error = cpaudit_app::Error::from(StorageError::Conflict { code, message });
    assert_eq!(error.kind(), cpaudit_app::ErrorKind::Conflict);
}
