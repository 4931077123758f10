//! The audit trail: every business write appends a chained entry; tampering is detected.

use axum::http::StatusCode;
use cpaudit_core::audit::ChainVerdict;

use crate::support::{cpaudit_command, demo_enterprise_id, raw_execute, TestApp};

async fn change_an_address(app: &TestApp) -> i64 {
    let token = app.token("lanzhou").await;
    let id = demo_enterprise_id(app.db()).await;
    let response = app
        .api(
            "PATCH",
            &format!("/api/v1/enterprises/{id}"),
            Some(&token),
            Some(serde_json::json!({"address": "兰州市城关区审计路 8 号"})),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    id
}

#[tokio::test]
async fn an_edit_appends_an_entry_with_before_and_after_that_the_page_shows() {
    let app = TestApp::new().await;
    let id = change_an_address(&app).await;
    let operator = cpaudit_storage::Principal::console_operator("test");
    let detail = app
        .db()
        .enterprise_detail(operator.scope(), id)
        .await
        .unwrap()
        .unwrap();
    let last = detail.history.last().unwrap();
    assert_eq!(last.action, "enterprise.update");
    assert!(last.actor.ends_with(":lanzhou"), "{}", last.actor);
    assert!(last.before.as_deref().unwrap().contains("address"));
    assert!(last.after.as_deref().unwrap().contains("审计路 8 号"));

    let browser = app.browser("lanzhou").await;
    let page = app
        .get(&format!("/enterprises/{id}"), Some(&browser))
        .await
        .text();
    assert!(
        page.contains("修改企业信息")
            && page.contains("<b>地址</b>")
            && page.contains("审计路 8 号"),
        "history on the page, in words"
    );

    // An edit that changes nothing writes nothing.
    let entries = match app.db().verify_audit_log(None).await.unwrap() {
        ChainVerdict::Intact { entries, .. } => entries,
        broken => panic!("{broken:?}"),
    };
    let token = app.token("lanzhou").await;
    app.api(
        "PATCH",
        &format!("/api/v1/enterprises/{id}"),
        Some(&token),
        Some(serde_json::json!({})),
    )
    .await;
    assert!(
        matches!(app.db().verify_audit_log(None).await.unwrap(), ChainVerdict::Intact { entries: e, .. } if e == entries)
    );
}

#[tokio::test]
async fn an_altered_entry_breaks_the_chain_at_that_entry() {
    let app = TestApp::new().await;
    change_an_address(&app).await;
    assert!(matches!(
        app.db().verify_audit_log(None).await.unwrap(),
        ChainVerdict::Intact { .. }
    ));
    raw_execute(app.db(), "UPDATE audit_log SET after = replace(after, '审计路', '篡改路') WHERE action = 'enterprise.update'").await;
    match app.db().verify_audit_log(None).await.unwrap() {
        ChainVerdict::Broken { reason, .. } => assert!(reason.contains("altered"), "{reason}"),
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
    let output = cpaudit_command(&app.store.url, &["audit-log", "verify"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("BROKEN at entry"));
}

#[tokio::test]
async fn a_deleted_newest_entry_is_caught_with_the_expected_head() {
    let app = TestApp::new().await;
    change_an_address(&app).await;
    let output = cpaudit_command(&app.store.url, &["audit-log", "verify"]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.starts_with("OK: "), "{stdout}");
    let head = stdout.trim().rsplit(' ').next().unwrap().to_string();
    assert_eq!(head.len(), 64);

    raw_execute(
        app.db(),
        "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
    )
    .await;
    // Without the recorded head the shortened chain still looks whole …
    assert!(cpaudit_command(&app.store.url, &["audit-log", "verify"])
        .status
        .success());
    // … with it, the removal is found.
    let output = cpaudit_command(
        &app.store.url,
        &["audit-log", "verify", "--expect-head", &head],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("removed"));
}

#[tokio::test]
async fn a_deleted_middle_entry_breaks_the_numbering() {
    let app = TestApp::new().await;
    raw_execute(app.db(), "DELETE FROM audit_log WHERE seq = 5").await;
    match app.db().verify_audit_log(None).await.unwrap() {
        ChainVerdict::Broken { seq, .. } => assert_eq!(seq, 6),
        intact => panic!("{intact:?}"),
    }
}
