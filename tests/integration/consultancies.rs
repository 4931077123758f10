//! Consultancies: a blacklisted consultancy gets no new business (seed §四(四)), lifting needs
//! fresh Art. 16 evidence, and the public sees the blacklist.

use axum::http::StatusCode;
use cpaudit_core::consultancy::SanctionKind;
use cpaudit_storage::Principal;
use serde_json::json;

use crate::support::{enterprise_in, raw_execute, Auth, TestApp};

async fn sanctioned_consultancy(app: &TestApp) -> (i64, String) {
    let sanction = app.db().sanctions(None).await.unwrap();
    let row = sanction
        .iter()
        .find(|s| s.kind == SanctionKind::Blacklist && s.lifted_on.is_none())
        .expect("the demo blacklists one consultancy");
    (row.consultancy_id, row.consultancy_name.clone())
}

fn complete_art16(submitted_on: &str, hashes: &[String; 3]) -> serde_json::Value {
    json!({
        "submitted_on": submitted_on,
        "legal_person_credit_code": "91330100716105852F",
        "quality_system": {"title": "质量手册（2027版）", "content_hash": hashes[0]},
        "instruments": ["超声波流量计", "烟气分析仪"],
        "industry_staff": [{"name": "王工", "evidence": {"title": "化工工程师证", "content_hash": hashes[1]}, "audit_rounds": 0}],
        "audit_staff": [{"name": "李工", "evidence": {"title": "审核业绩证明", "content_hash": hashes[2]}, "audit_rounds": 4}],
    })
}

/// Uploads the three Art. 16 documents as the province and returns their SHA-256.
async fn art16_documents(app: &TestApp, token: &str, consultancy_id: i64) -> [String; 3] {
    let mut hashes = Vec::new();
    for title in ["质量手册", "工程师证", "审核业绩"] {
        let pdf = format!("%PDF-1.4\n% {title}\n%%EOF\n");
        let uploaded = app
            .upload(
                &format!("/api/v1/consultancies/{consultancy_id}/documents"),
                Auth::Bearer(token),
                &format!("{title}.pdf"),
                pdf.as_bytes(),
                &[("note", title)],
            )
            .await;
        assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.text());
        hashes.push(uploaded.json()["sha256"].as_str().unwrap().to_string());
    }
    hashes.try_into().unwrap()
}

#[tokio::test]
async fn a_blacklisted_consultancy_cannot_be_engaged_and_the_refusal_says_why() {
    let app = TestApp::new().await;
    let (consultancy_id, _) = sanctioned_consultancy(&app).await;
    let lanzhou = app.token("lanzhou").await;
    let enterprise_id = enterprise_in(app.db(), "620100").await;
    let refused = app
        .api(
            "POST",
            &format!("/api/v1/enterprises/{enterprise_id}/engagements"),
            Some(&lanzhou),
            Some(json!({"consultancy_id": consultancy_id})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    let body = refused.json();
    assert_eq!(body["error"]["code"], "consultancy_sanctioned");
    assert_eq!(body["error"]["field"], "consultancy_id");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("不得再受理") || message.contains("不再受理"),
        "{message}"
    );
    assert!(
        message.contains("自行") || message.contains("更换"),
        "{message}"
    );

    // Another consultancy is fine; engaging it twice is a conflict.
    let operator = Principal::console_operator("test");
    let other = app
        .db()
        .list_consultancies(operator.scope())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id != consultancy_id)
        .unwrap()
        .id;
    let body = json!({"consultancy_id": other});
    let path = format!("/api/v1/enterprises/{enterprise_id}/engagements");
    let ok = app
        .api("POST", &path, Some(&lanzhou), Some(body.clone()))
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());
    let again = app.api("POST", &path, Some(&lanzhou), Some(body)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // Tianshui cannot record engagements for a Lanzhou enterprise.
    let tianshui = app.token("tianshui").await;
    let foreign = app
        .api(
            "POST",
            &path,
            Some(&tianshui),
            Some(json!({"consultancy_id": other})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lifting_needs_a_province_decision_and_fresh_complete_art16_evidence() {
    let app = TestApp::new().await;
    let (consultancy_id, name) = sanctioned_consultancy(&app).await;
    let sanction_id = app.db().sanctions(Some(consultancy_id)).await.unwrap()[0].id;
    let province = app.token("province").await;
    let lift = |token: String| {
        let app = &app;
        async move {
            app.api(
                "POST",
                &format!("/api/v1/sanctions/{sanction_id}/lift"),
                Some(&token),
                Some(json!({"reason": "已整改并重新满足第十六条条件"})),
            )
            .await
        }
    };
    let lanzhou = app.token("lanzhou").await;
    assert_eq!(lift(lanzhou).await.status, StatusCode::FORBIDDEN);
    let without_evidence = lift(province.clone()).await;
    assert_eq!(without_evidence.status, StatusCode::BAD_REQUEST);
    assert_eq!(without_evidence.json()["error"]["field"], "art16");

    // The evidence names documents on file only; the consultancy's documents are uploaded
    // (type checked by content, stored by SHA-256) and downloadable.
    let unknown = ["ab".repeat(32), "cd".repeat(32), "ef".repeat(32)];
    let unfiled = app
        .api(
            "PUT",
            &format!("/api/v1/consultancies/{consultancy_id}/art16"),
            Some(&province),
            Some(complete_art16("2027-01-14", &unknown)),
        )
        .await;
    assert_eq!(unfiled.status, StatusCode::BAD_REQUEST);
    assert_eq!(unfiled.json()["error"]["field"], "quality_system");
    let not_pdf = app
        .upload(
            &format!("/api/v1/consultancies/{consultancy_id}/documents"),
            Auth::Bearer(&province),
            "手册.pdf",
            b"just text",
            &[],
        )
        .await;
    assert_eq!(not_pdf.status, StatusCode::BAD_REQUEST);
    let hashes = art16_documents(&app, &province, consultancy_id).await;
    let listed = app
        .api(
            "GET",
            &format!("/api/v1/consultancies/{consultancy_id}"),
            Some(&province),
            None,
        )
        .await
        .json();
    assert_eq!(listed["documents"].as_array().unwrap().len(), 3);
    let first = listed["documents"][0]["id"].as_i64().unwrap();
    let browser = app.browser("province").await;
    let download = app
        .get(
            &format!("/consultancy-documents/{first}/download"),
            Some(&browser),
        )
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(download.body.starts_with(b"%PDF-1.4"));

    // Evidence from before the sanction started does not count.
    let old = app
        .api(
            "PUT",
            &format!("/api/v1/consultancies/{consultancy_id}/art16"),
            Some(&province),
            Some(complete_art16("2026-01-05", &hashes)),
        )
        .await;
    assert_eq!(old.status, StatusCode::OK, "{}", old.text());
    assert_eq!(lift(province.clone()).await.status, StatusCode::BAD_REQUEST);

    let fresh = app
        .api(
            "PUT",
            &format!("/api/v1/consultancies/{consultancy_id}/art16"),
            Some(&province),
            Some(complete_art16("2027-01-14", &hashes)),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_eq!(fresh.json()["art16_gaps"], json!([]));
    let lifted = lift(province.clone()).await;
    assert_eq!(lifted.status, StatusCode::NO_CONTENT, "{}", lifted.text());

    // Business is accepted again; the blacklist still shows it, marked lifted.
    let detail = app
        .api(
            "GET",
            &format!("/api/v1/consultancies/{consultancy_id}"),
            Some(&province),
            None,
        )
        .await
        .json();
    assert!(detail["refusal"].is_null());
    let blacklist = app
        .api("GET", "/api/v1/public/blacklist", None, None)
        .await
        .json();
    let entry = blacklist
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name.as_str())
        .cloned()
        .unwrap();
    assert_eq!(entry["status"]["status"], "lifted");
    assert_eq!(
        lift(province).await.status,
        StatusCode::BAD_REQUEST,
        "lifted once only"
    );
}

#[tokio::test]
async fn the_public_sees_blacklistings_in_force_and_correction_orders_stay_off_it() {
    let app = TestApp::new().await;
    let (_, name) = sanctioned_consultancy(&app).await;
    let page = app.get("/public/blacklist", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&name));
    assert!(page.text().contains("执行中"));

    let province = app.token("province").await;
    let operator = Principal::console_operator("test");
    let other = app
        .db()
        .list_consultancies(operator.scope())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name != name)
        .unwrap();
    let ordered = app
        .api(
            "POST",
            &format!("/api/v1/consultancies/{}/sanctions", other.id),
            Some(&province),
            Some(json!({"kind": "correction_order", "reason": "报告格式不规范"})),
        )
        .await;
    assert_eq!(ordered.status, StatusCode::CREATED, "{}", ordered.text());
    assert_eq!(ordered.json()["until_corrected"], true);
    let blacklist = app
        .api("GET", "/api/v1/public/blacklist", None, None)
        .await
        .json();
    assert!(blacklist
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["name"] != other.name.as_str()));
    let bad = app
        .api(
            "POST",
            &format!("/api/v1/consultancies/{}/sanctions", other.id),
            Some(&province),
            Some(json!({"kind": "fine", "reason": "x"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "kind");
    // The consultancy sees its own record; the chained audit trail holds the decision.
    let consultancy = app.token("consultancy").await;
    let own = app
        .api("GET", "/api/v1/consultancies/1", Some(&consultancy), None)
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(matches!(
        app.db().verify_audit_log(None).await.unwrap(),
        cpaudit_core::audit::ChainVerdict::Intact { .. }
    ));
}

/// One consultancy scope rule: an engagement in force opens the enterprise's registry record,
/// evidence and rounds; once it ends, the rounds the consultancy handled stay open to it and
/// the registry and evidence do not.
#[tokio::test]
async fn an_ended_engagement_keeps_the_rounds_handled_but_not_the_registry() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let consultancy_id = app
        .db()
        .list_users(operator.scope())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "consultancy")
        .and_then(|u| u.consultancy_id)
        .unwrap();
    let round: (i64, i64) = match app.db() {
        cpaudit_storage::Db::Sqlite(pool) => sqlx::query_as(
            "SELECT id, enterprise_id FROM rounds WHERE state = 'listed' ORDER BY id LIMIT 1",
        )
        .fetch_one(pool)
        .await
        .unwrap(),
        cpaudit_storage::Db::Postgres(pool) => sqlx::query_as(
            "SELECT id, enterprise_id FROM rounds WHERE state = 'listed' ORDER BY id LIMIT 1",
        )
        .fetch_one(pool)
        .await
        .unwrap(),
    };
    let (round_id, enterprise_id) = round;
    raw_execute(
        app.db(),
        &format!(
            "INSERT INTO engagements (consultancy_id, enterprise_id, since) \
             VALUES ({consultancy_id}, {enterprise_id}, '2027-01-02') \
             ON CONFLICT (consultancy_id, enterprise_id) DO UPDATE SET ended_on = NULL"
        ),
    )
    .await;
    raw_execute(
        app.db(),
        &format!(
            "UPDATE rounds SET audit_mode = 'consultancy', consultancy_id = {consultancy_id} \
             WHERE id = {round_id}"
        ),
    )
    .await;
    let token = app.token("consultancy").await;
    let enterprise = format!("/api/v1/enterprises/{enterprise_id}");
    let round = format!("/api/v1/rounds/{round_id}");
    assert_eq!(
        app.api("GET", &enterprise, Some(&token), None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.api("GET", &round, Some(&token), None).await.status,
        StatusCode::OK
    );

    raw_execute(
        app.db(),
        &format!(
            "UPDATE engagements SET ended_on = '2027-01-10' WHERE consultancy_id = \
             {consultancy_id} AND enterprise_id = {enterprise_id}"
        ),
    )
    .await;
    assert_eq!(
        app.api("GET", &enterprise, Some(&token), None).await.status,
        StatusCode::NOT_FOUND,
        "the registry closes with the engagement"
    );
    assert_eq!(
        app.api("GET", &round, Some(&token), None).await.status,
        StatusCode::OK,
        "the round it handled stays open"
    );
}

#[tokio::test]
async fn the_art16_evidence_is_filed_on_the_consultancy_page_naming_uploaded_documents() {
    let app = TestApp::new().await;
    let province = app.token("province").await;
    let (consultancy_id, _) = sanctioned_consultancy(&app).await;
    let hashes = art16_documents(&app, &province, consultancy_id).await;
    let browser = app.browser("province").await;
    let page = format!("/consultancies/{consultancy_id}");
    let action = format!("{page}/art16");
    // A document nobody uploaded is refused beside its field; what was typed stays.
    let refused = app
        .post_form(
            &action,
            Some(&browser),
            &[
                ("_page", &page),
                ("legal_person_credit_code", "91330100716105852F"),
                ("quality_system", &hashes[0]),
                ("instruments", "超声波流量计\n烟气分析仪"),
                ("industry_staff", "王工，不存在的证书.pdf，0"),
                ("audit_staff", "李工，审核业绩.pdf，4"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    assert!(html.contains("id=\"industry_staff-error\""), "{html}");
    assert!(html.contains("不存在的证书.pdf"), "{html}");
    assert!(
        html.contains(">超声波流量计\n烟气分析仪</textarea>"),
        "{html}"
    );
    // Naming the uploaded files, the evidence is filed and all four conditions are met.
    let filed = app
        .post_form(
            &action,
            Some(&browser),
            &[
                ("legal_person_credit_code", "91330100716105852F"),
                ("quality_system", &hashes[0]),
                ("instruments", "超声波流量计\n烟气分析仪"),
                ("industry_staff", "王工，工程师证.pdf，0"),
                ("audit_staff", "李工，审核业绩.pdf，4"),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.text());
    let detail = app
        .api(
            "GET",
            &format!("/api/v1/consultancies/{consultancy_id}"),
            Some(&province),
            None,
        )
        .await
        .json();
    assert_eq!(detail["art16_gaps"], json!([]), "{detail}");
    assert_eq!(detail["art16"]["audit_staff"][0]["audit_rounds"], 4);
    let html = app.get(&page, Some(&browser)).await.text();
    assert!(
        html.contains("李工，审核业绩.pdf，4"),
        "the filing is shown back: {html}"
    );
    assert!(
        !html.contains("PUT /api/v1"),
        "no page sends people to the API"
    );
}
