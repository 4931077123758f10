//! A round's documents: uploaded as PDF, OFD or office files, identified by their bytes,
//! size-limited, kept by SHA-256 with every version, downloadable byte for byte by those the
//! round's scope covers; the filings of a blacklisted consultancy are refused (seed §四(四)).

use axum::http::{header, StatusCode};
use cpaudit_storage::auth::NewUser;
use cpaudit_storage::documents::sha256_hex;
use cpaudit_storage::{Db, Principal, Role};
use cpaudit_web::WebSettings;
use serde_json::json;

use crate::support::{raw_execute, test_now, Auth, TestApp, PASSWORD};

/// A small but real-looking PDF; `n` makes each one different.
fn pdf(n: u32) -> Vec<u8> {
    format!(
        "%PDF-1.7\n%\u{e2}\u{e3}\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
         2 0 obj\n<< /Type /Pages /Kids [] /Count 0 /Version {n} >>\nendobj\ntrailer\n\
         << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// Rows of two integers, read behind the application's back.
async fn pairs(db: &Db, sql: &str) -> Vec<(i64, i64)> {
    match db {
        Db::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    }
}

/// A listed round of a Lanzhou enterprise whose reviews Lanzhou organizes: (round, enterprise).
async fn lanzhou_round(app: &TestApp) -> (i64, i64) {
    pairs(
        app.db(),
        "SELECT id, enterprise_id FROM rounds WHERE jurisdiction_code = '620100' \
         AND organizer_code = '620100' AND state = 'listed' ORDER BY id LIMIT 1",
    )
    .await[0]
}

/// Adds a user and returns its bearer token.
async fn user_token(app: &TestApp, username: &str, role: Role, binding: Binding) -> String {
    let operator = Principal::console_operator("test");
    let (enterprise_id, consultancy_id, expert_id) = match binding {
        Binding::Enterprise(id) => (Some(id), None, None),
        Binding::Expert(id) => (None, None, Some(id)),
    };
    app.db()
        .add_user(
            &operator,
            &NewUser {
                username: username.into(),
                display_name: username.into(),
                password: PASSWORD.into(),
                role,
                jurisdiction_code: None,
                enterprise_id,
                consultancy_id,
                expert_id,
            },
            test_now(),
        )
        .await
        .unwrap();
    app.token(username).await
}

enum Binding {
    Enterprise(i64),
    Expert(i64),
}

/// The round, and a token of a user of its enterprise.
async fn round_with_enterprise_user(app: &TestApp) -> (i64, String) {
    let (round, enterprise) = lanzhou_round(app).await;
    let token = user_token(
        app,
        "round-enterprise",
        Role::Enterprise,
        Binding::Enterprise(enterprise),
    )
    .await;
    (round, token)
}

async fn upload(
    app: &TestApp,
    round: i64,
    token: &str,
    kind: &str,
    file_name: &str,
    bytes: &[u8],
) -> crate::support::Response {
    app.upload(
        &format!("/api/v1/rounds/{round}/documents"),
        Auth::Bearer(token),
        file_name,
        bytes,
        &[("kind", kind)],
    )
    .await
}

async fn document_count(app: &TestApp) -> i64 {
    pairs(app.db(), "SELECT COUNT(*), COUNT(*) FROM documents").await[0].0
}

fn error_message(response: &crate::support::Response) -> String {
    response.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_new_version_never_overwrites_the_old_and_both_download_byte_for_byte() {
    let app = TestApp::new().await;
    let (round, token) = round_with_enterprise_user(&app).await;
    let first = pdf(1);
    let uploaded = upload(&app, round, &token, "audit_report", "审核报告.pdf", &first).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.text());
    let v1 = uploaded.json();
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["kind"], "audit_report");
    assert_eq!(v1["content_type"], "application/pdf");
    assert_eq!(v1["size"], first.len());
    assert_eq!(v1["sha256"], sha256_hex(&first));

    // The second version comes through the page's form.
    let browser = app.browser("lanzhou").await;
    let page = app
        .get(&format!("/rounds/{round}/documents"), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let enterprise_browser = app.browser("round-enterprise").await;
    let second = pdf(2);
    let posted = app
        .upload(
            &format!("/rounds/{round}/documents"),
            Auth::Browser(&enterprise_browser),
            "审核报告（修改稿）.pdf",
            &second,
            &[("kind", "audit_report"), ("note", "按专家意见修改")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.text());

    let listed = app
        .api(
            "GET",
            &format!("/api/v1/rounds/{round}/documents"),
            Some(&token),
            None,
        )
        .await
        .json();
    let documents = listed["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 2, "both versions are kept");
    assert_eq!(documents[1]["version"], 2);
    assert_eq!(documents[1]["note"], "按专家意见修改");
    assert!(listed["may_upload"]
        .as_array()
        .unwrap()
        .contains(&json!("audit_report")));

    for (document, bytes) in documents.iter().zip([&first, &second]) {
        let id = document["id"].as_i64().unwrap();
        let content = app
            .api(
                "GET",
                &format!("/api/v1/documents/{id}/content"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(content.status, StatusCode::OK);
        assert_eq!(&content.body, bytes, "byte for byte what was uploaded");
        let sha = sha256_hex(bytes);
        assert_eq!(content.headers[header::ETAG], format!("\"{sha}\"").as_str());
        assert_eq!(content.headers["x-content-sha256"], sha.as_str());
        assert_eq!(content.headers[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(content.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let disposition = content.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap();
        assert!(disposition.starts_with("attachment; "), "{disposition}");
        assert!(
            disposition.contains("filename*=UTF-8''%E5%AE%A1%E6%A0%B8%E6%8A%A5%E5%91%8A"),
            "{disposition}"
        );
        // The page shows the hash in full and links the download, which the city can follow.
        let page = app
            .get(&format!("/rounds/{round}/documents"), Some(&browser))
            .await
            .text();
        assert!(page.contains(&sha), "the page shows the SHA-256 in full");
        let download = app
            .get(&format!("/documents/{id}/download"), Some(&browser))
            .await;
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(&download.body, bytes);
    }

    // Each upload is a step on the round's timeline, with the document attached, and in the
    // audit chain.
    let operator = Principal::console_operator("test");
    let round_row = app
        .db()
        .get_round(operator.scope(), round)
        .await
        .unwrap()
        .unwrap();
    let events = app.db().round_events(&round_row).await.unwrap();
    let uploads: Vec<_> = events
        .iter()
        .filter(|e| e.action == "document_uploaded")
        .collect();
    assert_eq!(uploads.len(), 2);
    assert_eq!(
        *uploads[0].attachments,
        vec![documents[0]["id"].as_i64().unwrap()]
    );
    assert!(matches!(
        app.db().verify_audit_log(None).await.unwrap(),
        cpaudit_core::audit::ChainVerdict::Intact { .. }
    ));
    let on_file = app
        .db()
        .documents_on_file(&crate::support::read::round(app.db(), round).await)
        .await
        .unwrap();
    assert_eq!(
        on_file.into_iter().collect::<Vec<_>>(),
        vec![cpaudit_core::round::DocumentKind::AuditReport]
    );
    let latest = app
        .db()
        .latest_upload_at(
            &crate::support::read::round(app.db(), round).await,
            cpaudit_core::round::DocumentKind::AuditReport,
        )
        .await
        .unwrap();
    assert_eq!(latest.as_deref(), documents[1]["uploaded_at"].as_str());
}

#[tokio::test]
async fn a_file_whose_bytes_are_no_document_is_refused_naming_what_they_are() {
    let app = TestApp::new().await;
    let (round, token) = round_with_enterprise_user(&app).await;
    let text = upload(
        &app,
        round,
        &token,
        "audit_report",
        "审核报告.pdf",
        "这其实是一个文本文件".as_bytes(),
    )
    .await;
    assert_eq!(text.status, StatusCode::BAD_REQUEST);
    assert_eq!(text.json()["error"]["code"], "file_type_not_accepted");
    assert_eq!(text.json()["error"]["field"], "file");
    assert!(
        error_message(&text).contains("文件扩展名为 .pdf，但其内容是纯文本"),
        "{}",
        text.text()
    );

    let elf = b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3E\0\x01\0\0\0";
    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0\xB8\0\0\0\0\0\0\0PE\0\0";
    for program in [&elf[..], &exe[..]] {
        let refused = upload(&app, round, &token, "audit_report", "报告.pdf", program).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(
            error_message(&refused).contains("可执行程序"),
            "{}",
            refused.text()
        );
    }
    // The page's form shows the refusal above the form, with the status.
    let browser = app.browser("round-enterprise").await;
    let page = app
        .upload(
            &format!("/rounds/{round}/documents"),
            Auth::Browser(&browser),
            "index.pdf",
            b"<!DOCTYPE html><html><body>report</body></html>",
            &[("kind", "other")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text().contains("role=\"alert\""), "{}", page.text());
    assert!(page.text().contains("网页（HTML）文件"), "{}", page.text());
    assert_eq!(document_count(&app).await, 0, "nothing was stored");
}

#[tokio::test]
async fn a_name_that_disagrees_with_the_content_is_refused_naming_both() {
    let app = TestApp::new().await;
    let (round, token) = round_with_enterprise_user(&app).await;
    let refused = upload(
        &app,
        round,
        &token,
        "audit_report",
        "审核报告.docx",
        &pdf(1),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["error"]["code"], "file_name_mismatch");
    let message = error_message(&refused);
    assert!(
        message.contains(".docx") && message.contains("PDF") && message.contains(".pdf"),
        "{message}"
    );
    assert_eq!(document_count(&app).await, 0);
}

#[tokio::test]
async fn an_empty_file_and_an_unknown_kind_are_refused() {
    let app = TestApp::new().await;
    let (round, token) = round_with_enterprise_user(&app).await;
    let empty = upload(&app, round, &token, "audit_report", "审核报告.pdf", b"").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.json()["error"]["code"], "empty_file");
    let unknown = upload(&app, round, &token, "report", "审核报告.pdf", &pdf(1)).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json()["error"]["field"], "kind");
    assert!(error_message(&unknown).contains("audit_report"));
    assert_eq!(document_count(&app).await, 0);
}

#[tokio::test]
async fn a_file_over_the_document_limit_is_413_naming_the_limit() {
    // The general upload limit with its envelope lets bodies up to 68 KiB through.
    let settings = WebSettings {
        max_upload_bytes: 4 * 1024,
        max_document_bytes: 256 * 1024,
        ..WebSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let (round, token) = round_with_enterprise_user(&app).await;
    // Larger than the general upload limit, within the document limit: the document routes
    // allow it.
    let mut within = pdf(1);
    within.resize(160 * 1024, b' ');
    let kept = upload(&app, round, &token, "audit_report", "审核报告.pdf", &within).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.text());

    let mut over = pdf(2);
    over.resize(300 * 1024, b' ');
    let refused = upload(&app, round, &token, "audit_report", "审核报告.pdf", &over).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(refused.json()["error"]["code"], "payload_too_large");
    assert!(
        error_message(&refused).contains("256 KiB"),
        "{}",
        refused.text()
    );
    // Far over: the body limit itself stops it, with the same answer.
    let mut far_over = pdf(3);
    far_over.resize(1024 * 1024, b' ');
    let stopped = upload(
        &app,
        round,
        &token,
        "audit_report",
        "审核报告.pdf",
        &far_over,
    )
    .await;
    assert_eq!(stopped.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(document_count(&app).await, 1);

    // Other uploads keep their own, smaller limit.
    let province = app.token("province").await;
    let import = app
        .upload(
            "/api/v1/enterprises/import",
            Auth::Bearer(&province),
            "enterprises.csv",
            &within,
            &[],
        )
        .await;
    assert_eq!(import.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_same_content_twice_is_refused_naming_the_document_on_file() {
    let app = TestApp::new().await;
    let (round, token) = round_with_enterprise_user(&app).await;
    let report = pdf(1);
    let first = upload(&app, round, &token, "audit_report", "审核报告.pdf", &report).await;
    assert_eq!(first.status, StatusCode::CREATED);
    // Same bytes, another name and kind: still the same file.
    let again = upload(
        &app,
        round,
        &token,
        "technical_evidence",
        "佐证.pdf",
        &report,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert_eq!(again.json()["error"]["code"], "duplicate_document");
    let message = error_message(&again);
    assert!(
        message.contains("2027-01-15")
            && message.contains("《清洁生产审核报告》第 1 版")
            && message.contains("审核报告.pdf"),
        "{message}"
    );
    assert_eq!(document_count(&app).await, 1);
}

#[tokio::test]
async fn a_finished_round_takes_no_uploads() {
    let app = TestApp::new().await;
    let (round, token) = round_with_enterprise_user(&app).await;
    for state in ["closed", "cancelled"] {
        raw_execute(
            app.db(),
            &format!("UPDATE rounds SET state = '{state}' WHERE id = {round}"),
        )
        .await;
        let refused = upload(&app, round, &token, "audit_report", "审核报告.pdf", &pdf(1)).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
        assert_eq!(refused.json()["error"]["code"], "round_finished");
        let listed = app
            .api(
                "GET",
                &format!("/api/v1/rounds/{round}/documents"),
                Some(&token),
                None,
            )
            .await
            .json();
        assert_eq!(listed["may_upload"], json!([]));
    }
    assert_eq!(document_count(&app).await, 0);
}

#[tokio::test]
async fn the_work_of_a_blacklisted_consultancy_is_refused_and_the_message_says_what_to_do() {
    let app = TestApp::new().await;
    let (round, enterprise) = round_with_enterprise_user(&app).await;
    let consultancy_id = app
        .db()
        .list_users(Principal::console_operator("test").scope())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "consultancy")
        .and_then(|u| u.consultancy_id)
        .unwrap();
    // The start filing engaged the demo consultancy for the round.
    raw_execute(
        app.db(),
        &format!(
            "UPDATE rounds SET state = 'started', audit_mode = 'consultancy', \
             consultancy_id = {consultancy_id} WHERE id = {round}"
        ),
    )
    .await;
    let consultancy = app.token("consultancy").await;
    let before = upload(
        &app,
        round,
        &consultancy,
        "work_plan",
        "工作计划.pdf",
        &pdf(1),
    )
    .await;
    assert_eq!(before.status, StatusCode::CREATED, "{}", before.text());
    assert_eq!(before.json()["prepared_by_consultancy"], consultancy_id);

    let province = app.token("province").await;
    let sanction = app
        .api(
            "POST",
            &format!("/api/v1/consultancies/{consultancy_id}/sanctions"),
            Some(&province),
            Some(json!({"kind": "blacklist", "reason": "审核报告数据弄虚作假"})),
        )
        .await;
    assert_eq!(sanction.status, StatusCode::CREATED, "{}", sanction.text());

    let refused = upload(
        &app,
        round,
        &consultancy,
        "audit_report",
        "审核报告.pdf",
        &pdf(2),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert_eq!(refused.json()["error"]["code"], "consultancy_sanctioned");
    let message = error_message(&refused);
    for words in [
        "审核报告数据弄虚作假",
        "不得再受理",
        "其他符合",
        "自行开展审核",
    ] {
        assert!(message.contains(words), "{words}: {message}");
    }
    // The enterprise cannot file the consultancy's report under its own name either...
    let by_enterprise = upload(
        &app,
        round,
        &enterprise,
        "audit_report",
        "审核报告.pdf",
        &pdf(3),
    )
    .await;
    assert_eq!(by_enterprise.status, StatusCode::FORBIDDEN);
    assert_eq!(
        by_enterprise.json()["error"]["code"],
        "consultancy_sanctioned"
    );
    // ...but a monitoring body's report is no consultancy's work.
    let monitoring = upload(
        &app,
        round,
        &enterprise,
        "monitoring_before",
        "监测报告.pdf",
        &pdf(4),
    )
    .await;
    assert_eq!(
        monitoring.status,
        StatusCode::CREATED,
        "{}",
        monitoring.text()
    );
    // In English on request.
    let english = app
        .send(
            axum::http::Request::post(format!("/api/v1/rounds/{round}/documents"))
                .header(header::AUTHORIZATION, format!("Bearer {consultancy}"))
                .header(header::ACCEPT_LANGUAGE, "en")
                .header(
                    header::CONTENT_TYPE,
                    "multipart/form-data; boundary=b",
                )
                .body(axum::body::Body::from(
                    [
                        &b"--b\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nother\r\n"[..],
                        &b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"[..],
                        &pdf(5)[..],
                        &b"\r\n--b--\r\n"[..],
                    ]
                    .concat(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(english.status, StatusCode::FORBIDDEN);
    assert!(
        error_message(&english).contains("carry out the audit yourself"),
        "{}",
        english.text()
    );
}

#[tokio::test]
async fn the_authorities_file_review_opinions_and_the_enterprise_does_not() {
    let app = TestApp::new().await;
    let (round, enterprise) = round_with_enterprise_user(&app).await;
    let lanzhou = app.token("lanzhou").await;
    let opinion = upload(
        &app,
        round,
        &lanzhou,
        "review_opinion",
        "技术审查意见.pdf",
        &pdf(1),
    )
    .await;
    assert_eq!(opinion.status, StatusCode::CREATED, "{}", opinion.text());
    let report = upload(
        &app,
        round,
        &lanzhou,
        "audit_report",
        "审核报告.pdf",
        &pdf(2),
    )
    .await;
    assert_eq!(report.status, StatusCode::FORBIDDEN);
    assert_eq!(report.json()["error"]["code"], "not_allowed_to_file");
    let forged = upload(
        &app,
        round,
        &enterprise,
        "review_opinion",
        "意见.pdf",
        &pdf(3),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(error_message(&forged).contains("组织评估验收的生态环境部门"));
}

#[tokio::test]
async fn documents_are_read_within_the_rounds_scope() {
    let app = TestApp::new().await;
    let (round, enterprise) = round_with_enterprise_user(&app).await;
    let report = pdf(1);
    let uploaded = upload(
        &app,
        round,
        &enterprise,
        "audit_report",
        "审核报告.pdf",
        &report,
    )
    .await;
    let id = uploaded.json()["id"].as_i64().unwrap();
    let list = format!("/api/v1/rounds/{round}/documents");
    let content = format!("/api/v1/documents/{id}/content");

    // Another city, another enterprise, and an expert not seated on the round's panel: 404.
    let tianshui = app.token("tianshui").await;
    let other_enterprise = app.token("enterprise").await;
    let expert = app.token("expert").await;
    for token in [&tianshui, &other_enterprise, &expert] {
        for path in [&list, &content] {
            let response = app.api("GET", path, Some(token), None).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        }
        let upload = upload(&app, round, token, "other", "其他.pdf", &pdf(9)).await;
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::FORBIDDEN].contains(&upload.status),
            "{}",
            upload.status
        );
    }
    let tianshui_browser = app.browser("tianshui").await;
    let page = app
        .get(
            &format!("/documents/{id}/download"),
            Some(&tianshui_browser),
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // A draw for this round in which the expert accepted a seat opens it to the expert; a
    // declined seat does not.
    let seated = user_token(&app, "seated-expert", Role::Expert, Binding::Expert(2)).await;
    let declined = user_token(&app, "declined-expert", Role::Expert, Binding::Expert(3)).await;
    let (_, enterprise_id) = lanzhou_round(&app).await;
    raw_execute(
        app.db(),
        &format!(
            "INSERT INTO draws (id, review_kind, round_ref, enterprise_id, organizer_code, stage, \
             inputs_json, frozen_at, created_at, created_by, round_id) VALUES (900, 'combined', \
             'round-{round}', {enterprise_id}, '620100', 'drawn', '{{}}', \
             '2027-01-15T01:00:00.000000Z', '2027-01-15T01:00:00.000000Z', 'test', {round})"
        ),
    )
    .await;
    raw_execute(
        app.db(),
        "INSERT INTO draw_assignments (draw_id, expert_id, rank, role, response) VALUES \
         (900, 2, 1, 'panel', 'accepted'), (900, 3, 2, 'panel', 'declined')",
    )
    .await;
    let listed = app.api("GET", &list, Some(&seated), None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.json()["may_upload"],
        json!([]),
        "experts read, not file"
    );
    let downloaded = app.api("GET", &content, Some(&seated), None).await;
    assert_eq!(downloaded.status, StatusCode::OK);
    assert_eq!(downloaded.body, report);
    let not_seated = app.api("GET", &content, Some(&declined), None).await;
    assert_eq!(not_seated.status, StatusCode::NOT_FOUND);
    let expert_upload = upload(&app, round, &seated, "other", "意见.pdf", &pdf(8)).await;
    assert_eq!(expert_upload.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_stored_json_document_the_code_cannot_read_fails_the_read_instead_of_defaulting() {
    let app = TestApp::new().await;
    let (round_id, _) = lanzhou_round(&app).await;
    raw_execute(
        app.db(),
        &format!(
            "INSERT INTO round_events (round_id, action, from_state, to_state, actor, actor_role, \
             reason, detail_json, attachments_json, at) VALUES ({round_id}, 'document_uploaded', \
             NULL, NULL, 'test', 'enterprise', '', '{{}}', 'not a list', \
             '2027-01-15T01:00:00.000000Z')"
        ),
    )
    .await;
    let operator = Principal::console_operator("test");
    let round = app
        .db()
        .get_round(operator.scope(), round_id)
        .await
        .unwrap()
        .unwrap();
    let error = app.db().round_events(&round).await.unwrap_err().to_string();
    assert!(
        error.contains("attachments_json"),
        "the failure names the column: {error}"
    );
}
