//! Scoring an assessment: a round awaiting its review gets a panel drawn for it, the five
//! accepted experts submit score sheets, the sheets propose a conclusion by the form's
//! thresholds, the organizer decides, and the technical review opinion is issued and published.
//! Scheduling and deciding are transitions of another module: here the review is scheduled and
//! decided with the storage functions those transitions call.

use std::io::Read;

use axum::http::StatusCode;
use chrono::NaiveDate;
use cpaudit_core::round::{ReviewConclusion, ReviewKind};
use cpaudit_core::scoring::ScoringBook;
use cpaudit_storage::reviews::{insert_review, record_decision, Decision};
use cpaudit_storage::{Db, Principal};
use serde_json::{json, Value};

use crate::draws::expert_token;
use crate::support::{raw_execute, test_now, TestApp};

async fn query_i64(db: &Db, sql: &str) -> Vec<i64> {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    }
}

fn sources() -> Value {
    json!({"sources": [
        {"name": "中国福利彩票双色球开奖号码（红球）", "drawn_on": "2027-01-16", "values": ["5", "9", "14", "20", "26", "33"]},
        {"name": "深圳证券交易所成份指数收盘点位", "drawn_on": "2027-01-16", "values": ["10876.12"]}
    ]})
}

/// A scheduled assessment with five seated experts and their API tokens.
struct Scheduled {
    app: TestApp,
    round_id: i64,
    draw_id: i64,
    review_id: i64,
    panel: Vec<i64>,
    tokens: Vec<String>,
    province: String,
}

/// A standard-track round of the demo list, its report in, gets a draw frozen for it (the kind
/// and enterprise come from the round), run, and accepted by every panel member.
async fn drawn_panel() -> (TestApp, i64, i64, Vec<i64>, Vec<String>) {
    let app = TestApp::new().await;
    let round_id = query_i64(
        app.db(),
        "SELECT id FROM rounds WHERE track = 'standard' ORDER BY id LIMIT 1",
    )
    .await[0];
    raw_execute(
        app.db(),
        &format!("UPDATE rounds SET state = 'report_submitted' WHERE id = {round_id}"),
    )
    .await;
    let province = app.token("province").await;
    let frozen = app
        .api(
            "POST",
            "/api/v1/draws",
            Some(&province),
            Some(json!({"audit_round_id": round_id, "review_on": "2027-03-01"})),
        )
        .await;
    assert_eq!(frozen.status, StatusCode::CREATED, "{}", frozen.text());
    let draw = frozen.json()["draw"].clone();
    assert_eq!(draw["round_id"], round_id);
    assert_eq!(draw["review_kind"], "assessment", "the round's review");
    let draw_id = draw["id"].as_i64().unwrap();
    app.clock.advance(chrono::Duration::days(2));
    let province = app.token("province").await;
    let drawn = app
        .api(
            "POST",
            &format!("/api/v1/draws/{draw_id}/run"),
            Some(&province),
            Some(sources()),
        )
        .await;
    assert_eq!(drawn.status, StatusCode::OK, "{}", drawn.text());
    let panel: Vec<i64> = drawn.json()["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["role"] == "panel")
        .map(|a| a["expert_id"].as_i64().unwrap())
        .collect();
    assert_eq!(panel.len(), 5);
    let mut tokens = Vec::new();
    for (seat, expert) in panel.iter().enumerate() {
        assert_eq!(
            app.db()
                .ready_panel_draw(
                    &crate::support::read::round(app.db(), round_id).await,
                    ReviewKind::Assessment
                )
                .await
                .unwrap()
                .map(|draw| draw.id),
            None,
            "not ready with {seat} of 5 seats accepted"
        );
        let token = expert_token(&app, *expert).await;
        let accepted = app
            .api(
                "POST",
                &format!("/api/v1/draws/{draw_id}/response"),
                Some(&token),
                Some(json!({"accept": true, "no_conflict": true})),
            )
            .await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
        tokens.push(token);
    }
    (app, round_id, draw_id, panel, tokens)
}

/// The panel is ready; the organizer schedules the review (as the schedule transition does).
async fn scheduled() -> Scheduled {
    let (app, round_id, draw_id, panel, tokens) = drawn_panel().await;
    assert_eq!(
        app.db()
            .ready_panel_draw(
                &crate::support::read::round(app.db(), round_id).await,
                ReviewKind::Assessment
            )
            .await
            .unwrap()
            .map(|draw| draw.id),
        Some(draw_id),
        "every seat accepted: the panel is ready"
    );
    let meeting_on = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    let form = ScoringBook::embedded()
        .form_at(ReviewKind::Assessment, meeting_on)
        .unwrap()
        .version
        .clone();
    let organizer = Principal::console_operator("test");
    let round = crate::support::read::round(app.db(), round_id).await;
    let draw = crate::support::read::draw(app.db(), draw_id).await;
    let mut tx = app.db().begin().await.unwrap();
    let review_id = insert_review(
        &mut tx,
        &round,
        ReviewKind::Assessment,
        &draw,
        meeting_on,
        "甘肃省生态环境厅第三会议室",
        &form,
        &organizer,
        test_now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    raw_execute(
        app.db(),
        &format!("UPDATE rounds SET state = 'assessment_scheduled' WHERE id = {round_id}"),
    )
    .await;
    let province = app.token("province").await;
    Scheduled {
        app,
        round_id,
        draw_id,
        review_id,
        panel,
        tokens,
        province,
    }
}

/// A sheet of the assessment form whose items add up to `total` (each item the same share).
fn sheet(total: f64, vetoes: &[&str], opinion: &str) -> Value {
    let maxima = [
        ("process", 15.0),
        ("report", 15.0),
        ("status", 20.0),
        ("focus_targets", 15.0),
        ("no_low_options", 10.0),
        ("medium_high_options", 15.0),
        ("targets_supported", 10.0),
    ];
    let items: serde_json::Map<String, Value> = maxima
        .iter()
        .map(|(id, max)| (id.to_string(), json!(max * total / 100.0)))
        .collect();
    json!({"items": items, "vetoes": vetoes, "opinion": opinion})
}

impl Scheduled {
    async fn submit(&self, seat: usize, body: Value) -> crate::support::Response {
        self.app
            .api(
                "POST",
                &format!("/api/v1/reviews/{}/scores", self.review_id),
                Some(&self.tokens[seat]),
                Some(body),
            )
            .await
    }

    async fn review_as(&self, token: &str) -> Value {
        let response = self
            .app
            .api(
                "GET",
                &format!("/api/v1/reviews/{}", self.review_id),
                Some(token),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()
    }

    async fn complete(&self) -> bool {
        self.app
            .db()
            .scores_complete(&crate::support::read::review(self.app.db(), self.review_id).await)
            .await
            .unwrap()
    }

    async fn decide(&self, conclusion: ReviewConclusion) -> cpaudit_storage::Result<()> {
        let review = crate::support::read::review(self.app.db(), self.review_id).await;
        let mut tx = self.app.db().begin().await.unwrap();
        record_decision(
            &mut tx,
            &review,
            &Decision {
                proposed: Some(ReviewConclusion::Rectify),
                conclusion,
                score: Some(85.0),
                reasons: "中/高费方案的可行性分析不充分，须补充后重新报送。",
                decided_on: NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
                opinion_number: "甘环清审意〔2027〕1号",
            },
            &Principal::console_operator("test"),
            test_now(),
        )
        .await?;
        tx.commit().await
    }
}

#[tokio::test]
async fn five_experts_score_an_assessment_averaging_85_and_it_is_sent_back_for_rectification() {
    let s = scheduled().await;
    // Totals 80, 84, 85, 86, 95: the highest and the lowest are set aside, the rest average 85.
    let totals = [80.0, 84.0, 85.0, 86.0, 95.0];
    for (seat, total) in totals.iter().enumerate() {
        assert!(!s.complete().await, "{seat} of 5 sheets in: not complete");
        let response = s.submit(seat, sheet(*total, &[], "报告基本规范。")).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    }
    assert!(s.complete().await, "every seated expert has a sheet in");

    let organizer = s.review_as(&s.province).await;
    assert_eq!(organizer["sheets"].as_array().unwrap().len(), 5);
    assert_eq!(organizer["scores_complete"], true);
    let proposal = &organizer["proposal"];
    assert_eq!(proposal["score"], 85.0);
    assert_eq!(proposal["conclusion"], "rectify");
    assert_eq!(proposal["set_aside"], json!([95.0, 80.0]));
    assert_eq!(proposal["form_version"], "assessment-2016.1");

    // Before the decision an expert sees their own sheet only, and no proposal.
    let first = s.review_as(&s.tokens[0]).await;
    let sheets = first["sheets"].as_array().unwrap();
    assert_eq!(sheets.len(), 1);
    assert_eq!(sheets[0]["expert_id"], s.panel[0]);
    assert!(first["proposal"].is_null());
    assert_eq!(first["may_score"], true);

    // Until the decision an expert may change their sheet; the timeline says so.
    let again = s
        .submit(0, sheet(81.0, &[], "补充意见：目标可再提高。"))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    let replaced = query_i64(
        s.app.db(),
        &format!(
            "SELECT COUNT(*) FROM round_events WHERE round_id = {} AND action = 'score_sheet_replaced'",
            s.round_id
        ),
    )
    .await[0];
    assert_eq!(replaced, 1);

    s.decide(ReviewConclusion::Rectify).await.unwrap();
    let late = s.submit(1, sheet(99.0, &[], "改分。")).await;
    assert_eq!(
        late.status,
        StatusCode::CONFLICT,
        "decided: sheets are closed"
    );
    let after = s.review_as(&s.tokens[0]).await;
    assert_eq!(
        after["sheets"].as_array().unwrap().len(),
        5,
        "after the decision the panel sees every sheet"
    );
    assert_eq!(after["review"]["conclusion"], "rectify");
    assert_eq!(after["may_score"], false);
}

#[tokio::test]
async fn a_veto_marked_by_3_of_5_experts_fails_the_assessment_whatever_the_score() {
    let s = scheduled().await;
    for seat in 0..5 {
        let vetoes: &[&str] = if seat < 3 {
            &["industrial_policy"]
        } else {
            &[]
        };
        let response = s.submit(seat, sheet(96.0, vetoes, "使用淘汰工艺。")).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    }
    let proposal = s.review_as(&s.province).await["proposal"].clone();
    assert_eq!(proposal["score"], 96.0);
    assert_eq!(proposal["conclusion"], "fail");
    assert_eq!(proposal["vetoes_standing"], json!(["industrial_policy"]));
}

#[tokio::test]
async fn bad_sheets_are_refused_naming_the_field() {
    let s = scheduled().await;
    let mut over = sheet(80.0, &[], "意见。");
    over["items"]["process"] = json!(16);
    let mut missing = sheet(80.0, &[], "意见。");
    missing["items"].as_object_mut().unwrap().remove("report");
    for (body, field, code) in [
        (over, "items.process", "out_of_range"),
        (missing, "items.report", "missing_score"),
        (
            sheet(80.0, &["bribery"], "意见。"),
            "vetoes",
            "unknown_veto",
        ),
        (sheet(80.0, &[], "   "), "opinion", "required"),
    ] {
        let response = s.submit(0, body).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{}",
            response.text()
        );
        assert_eq!(response.json()["error"]["field"], field);
        assert_eq!(response.json()["error"]["code"], code);
    }
    assert!(s
        .app
        .db()
        .all_sheets(&crate::support::read::review(s.app.db(), s.review_id).await)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn only_the_seated_panel_scores() {
    let s = scheduled().await;
    let outsider = query_i64(
        s.app.db(),
        &format!(
            "SELECT id FROM experts WHERE id NOT IN \
             (SELECT expert_id FROM draw_assignments WHERE draw_id = {}) ORDER BY id LIMIT 1",
            s.draw_id
        ),
    )
    .await[0];
    let token = expert_token(&s.app, outsider).await;
    let refused = s
        .app
        .api(
            "POST",
            &format!("/api/v1/reviews/{}/scores", s.review_id),
            Some(&token),
            Some(sheet(90.0, &[], "意见。")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "not their round");
    let enterprise = s.app.token("enterprise").await;
    let officials_only = s
        .app
        .api(
            "POST",
            &format!("/api/v1/reviews/{}/scores", s.review_id),
            Some(&enterprise),
            Some(sheet(90.0, &[], "意见。")),
        )
        .await;
    assert_eq!(officials_only.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_expert_scores_on_the_page_form() {
    let s = scheduled().await;
    let browser = s.app.browser(&format!("expert{}", s.panel[0])).await;
    let form = s
        .app
        .get(&format!("/reviews/{}/score", s.review_id), Some(&browser))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let html = form.text();
    assert!(html.contains("name=\"items.process\"") && html.contains("max=\"15\""));
    assert!(html.contains("name=\"vetoes\" value=\"industrial_policy\""));
    let posted = s
        .app
        .post_form(
            &format!("/reviews/{}/score", s.review_id),
            Some(&browser),
            &[
                ("items.process", "12"),
                ("items.report", "13"),
                ("items.status", "17"),
                ("items.focus_targets", "12.5"),
                ("items.no_low_options", "8"),
                ("items.medium_high_options", "12"),
                ("items.targets_supported", "8"),
                ("vetoes", "wrong_focus"),
                ("opinion", "审核重点选择基本合理。"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.text());
    let sheets = s
        .app
        .db()
        .all_sheets(&crate::support::read::review(s.app.db(), s.review_id).await)
        .await
        .unwrap();
    assert_eq!(sheets.len(), 1);
    assert_eq!(sheets[0].total, 82.5);
    assert_eq!(*sheets[0].vetoes, vec!["wrong_focus".to_string()]);
    let page = s
        .app
        .get(&format!("/reviews/{}", s.review_id), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("审核重点选择基本合理。"));
}

#[tokio::test]
async fn the_decided_review_issues_its_opinion_and_is_published() {
    let s = scheduled().await;
    for (seat, total) in [80.0, 84.0, 85.0, 86.0, 95.0].iter().enumerate() {
        s.submit(seat, sheet(*total, &[], "报告基本规范。")).await;
    }
    let browser = s.app.browser("province").await;
    let early = s
        .app
        .get(
            &format!("/reviews/{}/opinion.docx", s.review_id),
            Some(&browser),
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::NOT_FOUND,
        "no opinion before the decision"
    );

    assert!(
        s.decide(ReviewConclusion::Qualified).await.is_err(),
        "an assessment is not concluded 'qualified'"
    );
    s.decide(ReviewConclusion::Rectify).await.unwrap();
    assert!(
        s.decide(ReviewConclusion::Pass).await.is_err(),
        "a review is decided once"
    );

    let docx = s
        .app
        .get(
            &format!("/reviews/{}/opinion.docx", s.review_id),
            Some(&browser),
        )
        .await;
    assert_eq!(docx.status, StatusCode::OK);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx.body)).unwrap();
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.contains("三、审查结论：整改后重新报送。"), "{xml}");
    assert!(xml.contains("甘环清审意〔2027〕1号"));
    assert!(xml.contains("综合得分 85.0 分"));

    let page = s
        .app
        .get(&format!("/reviews/{}/opinion", s.review_id), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("技术审查意见"));
    assert!(page.text().contains("专家组成员："));

    let public = s.app.api("GET", "/api/v1/public/reviews", None, None).await;
    assert_eq!(public.status, StatusCode::OK);
    let rows = public.json();
    assert_eq!(rows[0]["review_id"], s.review_id);
    assert_eq!(rows[0]["conclusion"], "rectify");
    assert_eq!(rows[0]["opinion_number"], "甘环清审意〔2027〕1号");
    let text = rows.to_string();
    assert!(
        !text.contains("expert") && !text.contains("score"),
        "no expert and no score in public: {text}"
    );
    let finished = query_i64(
        s.app.db(),
        &format!(
            "SELECT COUNT(*) FROM draws WHERE id = {} AND finished_at IS NOT NULL",
            s.draw_id
        ),
    )
    .await[0];
    assert_eq!(
        finished, 1,
        "deciding finishes the draw: names become public"
    );
    let page = s.app.get("/public/reviews", None).await;
    assert!(page.text().contains("整改后重新报送"));
}

#[tokio::test]
async fn a_draw_for_a_round_must_match_its_kind_and_enterprise() {
    let app = TestApp::new().await;
    let rounds = query_i64(
        app.db(),
        "SELECT id FROM rounds WHERE track = 'standard' ORDER BY id LIMIT 2",
    )
    .await;
    let other_enterprise = query_i64(
        app.db(),
        &format!("SELECT enterprise_id FROM rounds WHERE id = {}", rounds[1]),
    )
    .await[0];
    let province = app.token("province").await;
    let listed = app
        .api(
            "POST",
            "/api/v1/draws",
            Some(&province),
            Some(json!({"audit_round_id": rounds[0], "review_on": "2027-03-01"})),
        )
        .await;
    assert_eq!(
        listed.status,
        StatusCode::BAD_REQUEST,
        "a listed round awaits no review"
    );
    assert_eq!(listed.json()["error"]["field"], "audit_round_id");
    raw_execute(
        app.db(),
        &format!(
            "UPDATE rounds SET state = 'report_submitted' WHERE id = {}",
            rounds[0]
        ),
    )
    .await;
    for (body, field) in [
        (
            json!({"audit_round_id": rounds[0], "kind": "acceptance", "review_on": "2027-03-01"}),
            "kind",
        ),
        (
            json!({"audit_round_id": rounds[0], "enterprise_id": other_enterprise, "review_on": "2027-03-01"}),
            "enterprise_id",
        ),
    ] {
        let refused = app
            .api("POST", "/api/v1/draws", Some(&province), Some(body))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{}",
            refused.text()
        );
        assert_eq!(refused.json()["error"]["field"], field);
    }
}
