//! Page forms: an empty optional field is absent, a value that does not parse is refused at its
//! field, and a refused form comes back as the same page with every typed value kept and the
//! error beside its field.

use axum::http::StatusCode;
use serde_json::json;

use crate::rounds::{disclose, enterprise_token};
use crate::support::TestApp;

/// Round 1: the demo list's first round, a Lanzhou enterprise listed on 2027-01-10.
const ROUND: i64 = 1;

#[tokio::test]
async fn a_self_audit_start_filing_with_the_consultancy_left_empty_is_saved() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    disclose(&app, &token, json!({})).await;
    let browser = app.browser("round1").await;
    let saved = app
        .post_form(
            &format!("/rounds/{ROUND}/start"),
            Some(&browser),
            &[
                ("mode", "self"),
                ("consultancy_id", ""),
                ("team", "张三，厂长，组长"),
                ("work_plan", "2027年2月完成预审核"),
                ("art15_instruments", "电子天平、流量计"),
                ("art15_staff", "环保工程师二名"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let round = app
        .api(
            "GET",
            &format!("/api/v1/rounds/{ROUND}"),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(round["start_filing"]["mode"], "self", "{round}");
    assert_eq!(round["start_filing"]["team"], "张三，厂长，组长");
}

#[tokio::test]
async fn a_start_filing_with_a_consultancy_that_is_no_number_comes_back_with_the_error_beside_it() {
    let app = TestApp::new().await;
    let token = enterprise_token(&app).await;
    disclose(&app, &token, json!({})).await;
    let browser = app.browser("round1").await;
    let refused = app
        .post_form(
            &format!("/rounds/{ROUND}/start"),
            Some(&browser),
            &[
                ("_page", &format!("/rounds/{ROUND}")),
                ("mode", "consultancy"),
                ("consultancy_id", "abc"),
                ("team", "李四，环保科长，组员"),
                ("work_plan", "三月完成"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let html = refused.text();
    assert!(
        html.contains("开展审核备案"),
        "the round page again: {html}"
    );
    assert!(html.contains("id=\"consultancy_id-error\""), "{html}");
    assert!(html.contains("“abc”不是此项可接受的值"), "{html}");
    assert!(html.contains("value=\"abc\""), "the typed value is kept");
    assert!(html.contains(">李四，环保科长，组员</textarea>"), "{html}");
    assert!(
        html.contains("<option value=\"consultancy\" selected>"),
        "{html}"
    );
}

#[tokio::test]
async fn publishing_with_a_supplementary_batch_that_is_no_id_is_refused_at_that_field() {
    let app = TestApp::new().await;
    let browser = app.browser("province").await;
    let before = app.db().published_lists(None).await.unwrap().len();
    let refused = app
        .post_form(
            "/lists",
            Some(&browser),
            &[
                ("_page", "/lists"),
                ("year", "2027"),
                ("title", "2027年度第二批名单"),
                ("document_number", "甘环发〔2027〕9号"),
                ("published_on", "2027-01-15"),
                ("supplementary", "abc"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let html = refused.text();
    assert!(html.contains("id=\"supplementary-error\""), "{html}");
    assert!(html.contains("“abc”不是企业编号"), "{html}");
    assert!(
        html.contains("value=\"2027年度第二批名单\""),
        "the title is kept"
    );
    assert_eq!(
        app.db().published_lists(None).await.unwrap().len(),
        before,
        "nothing was published"
    );
}

#[tokio::test]
async fn a_refused_form_without_its_page_falls_back_to_the_error_page() {
    let app = TestApp::new().await;
    let browser = app.browser("province").await;
    let refused = app
        .post_form(
            "/lists",
            Some(&browser),
            &[
                ("_page", "//evil.example/lists"),
                ("year", "2027"),
                ("title", "t"),
                ("document_number", "n"),
                ("supplementary", "abc"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("“abc”不是企业编号"));
}

#[tokio::test]
async fn a_disclosure_with_items_missing_names_every_one_beside_it_and_keeps_what_was_typed() {
    let app = TestApp::new().await;
    enterprise_token(&app).await;
    let browser = app.browser("round1").await;
    let path = format!("/rounds/{ROUND}/disclosure");
    let refused = app
        .post_form(
            &path,
            Some(&browser),
            &[
                ("_page", &path),
                ("item.enterprise_name", "兰州某化工有限公司"),
                ("item.address", ""),
                ("channel", "主要媒体"),
                ("channel_detail", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    assert!(html.contains(">兰州某化工有限公司</textarea>"), "{html}");
    assert!(html.contains("id=\"address-error\""), "{html}");
    assert!(html.contains("id=\"legal_representative-error\""), "{html}");
    assert!(html.contains("id=\"channel_detail-error\""), "{html}");
    assert!(!html.contains("id=\"enterprise_name-error\""), "{html}");
    assert!(
        html.contains("<option value=\"主要媒体\" selected>"),
        "{html}"
    );
}

#[tokio::test]
async fn a_sanction_without_a_reason_comes_back_with_the_error_beside_it() {
    let app = TestApp::new().await;
    let browser = app.browser("province").await;
    let refused = app
        .post_form(
            "/consultancies/2/sanctions",
            Some(&browser),
            &[
                ("_page", "/consultancies/2"),
                ("kind", "blacklist"),
                ("reason", ""),
                ("legal_basis", "《清洁生产审核办法》第三十六条"),
                ("ends_on", "2027-01-01"),
                ("starts_on", "2027-02-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let html = refused.text();
    assert!(html.contains("id=\"reason-error\""), "{html}");
    assert!(
        html.contains("value=\"《清洁生产审核办法》第三十六条\""),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"blacklist\" selected>"),
        "{html}"
    );
    let sanctions = app
        .api(
            "GET",
            "/api/v1/consultancies/2",
            Some(&app.token("province").await),
            None,
        )
        .await
        .json();
    assert!(
        sanctions["sanctions"].as_array().is_none_or(Vec::is_empty),
        "nothing recorded: {sanctions}"
    );
}

#[tokio::test]
async fn a_form_whose_template_knows_nothing_of_refusals_is_filled_in_again_all_the_same() {
    let app = TestApp::new().await;
    let browser = app.browser("lanzhou").await;
    let page = "/plans/620100/2028";
    assert_eq!(app.get(page, Some(&browser)).await.status, StatusCode::OK);
    let refused = app
        .post_form(
            page,
            Some(&browser),
            &[
                ("_page", page),
                ("plan_text", "  "),
                ("schedule_text", "三月前完成全部审核"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    let html = refused.text();
    assert!(html.contains(">三月前完成全部审核</textarea>"), "{html}");
    assert!(html.contains("id=\"plan_text-error\""), "{html}");
    assert!(html.contains("请填写年度实施计划"), "{html}");
}

#[tokio::test]
async fn an_amendment_naming_something_that_is_no_enterprise_id_is_refused_at_that_field() {
    let app = TestApp::new().await;
    let browser = app.browser("province").await;
    let refused = app
        .post_form(
            "/plans/620100/2028/actions",
            Some(&browser),
            &[
                ("action", "amend"),
                ("remove", "12, 甲企业"),
                ("reason", "重复"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("“甲企业”不是企业编号"));
}

#[tokio::test]
async fn a_correction_naming_something_that_is_no_enterprise_id_changes_nothing() {
    let app = TestApp::new().await;
    let browser = app.browser("province").await;
    let lists = app.db().published_lists(None).await.unwrap();
    let list = lists.first().expect("the demo publishes a list").id;
    let refused = app
        .post_form(
            &format!("/lists/{list}/corrections"),
            Some(&browser),
            &[("remove", "abc"), ("reason", "误列")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("“abc”不是企业编号"));
    assert_eq!(
        app.db().published_lists(None).await.unwrap().len(),
        lists.len()
    );
}

#[tokio::test]
async fn an_action_body_over_the_form_limit_is_refused_whole() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let reason = "理".repeat(400_000);
    let refused = app
        .api(
            "POST",
            "/api/v1/sanctions/1/lift",
            Some(&province),
            Some(json!({ "reason": reason })),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        refused.text()
    );
    assert!(refused.text().contains("1 MiB"), "{}", refused.text());
}
