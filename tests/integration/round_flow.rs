//! A whole audit round through the HTTP API, as its parties would file it: disclosure, the
//! start, the phases, the report with its documents and options, a drawn panel that scores the
//! assessment, the organizer's decision and its opinion, implementation and verified values,
//! the acceptance with a second panel, and the close. Runs on both databases like every test.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::Duration;
use cpaudit_storage::auth::NewUser;
use cpaudit_storage::{Db, Principal, Role};
use serde_json::{json, Value};

use crate::support::{test_now, Auth, TestApp, PASSWORD};

async fn query_rows(db: &Db, sql: &str) -> Vec<(i64, i64, String)> {
    match db {
        Db::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    }
}

/// The parties of one round and their logins (tokens are fetched again after the clock moves).
struct Round {
    app: TestApp,
    id: i64,
    organizer: &'static str,
    experts: HashMap<i64, String>,
}

fn pdf(label: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {label}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

impl Round {
    /// The first standard-track round organized by the province, Lanzhou or Tianshui, with a
    /// user for its enterprise.
    async fn open() -> Round {
        let app = TestApp::new().await;
        let (id, enterprise, organizer) = query_rows(
            app.db(),
            "SELECT id, enterprise_id, organizer_code FROM rounds WHERE track = 'standard' \
             AND organizer_code IN ('620000', '620100', '620500') ORDER BY id LIMIT 1",
        )
        .await
        .remove(0);
        app.db()
            .add_user(
                &Principal::console_operator("test"),
                &NewUser {
                    username: "filer".into(),
                    display_name: "filer".into(),
                    password: PASSWORD.into(),
                    role: Role::Enterprise,
                    jurisdiction_code: None,
                    enterprise_id: Some(enterprise),
                    consultancy_id: None,
                    expert_id: None,
                },
                test_now(),
            )
            .await
            .unwrap();
        let organizer = match organizer.as_str() {
            "620000" => "province",
            "620100" => "lanzhou",
            _ => "tianshui",
        };
        Round {
            app,
            id,
            organizer,
            experts: HashMap::new(),
        }
    }

    async fn call(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        let token = self.app.token(who).await;
        let response = self.app.api(method, path, Some(&token), body).await;
        assert!(
            response.status.is_success(),
            "{method} {path} as {who}: {} {}",
            response.status,
            response.text()
        );
        if response.body.is_empty() {
            Value::Null
        } else {
            response.json()
        }
    }

    async fn act(&self, who: &str, action: &str, extra: Value) -> Value {
        let mut body = json!({"action": action, "reason": "依评审意见"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let after = self
            .call(
                who,
                "POST",
                &format!("/api/v1/rounds/{}/actions", self.id),
                Some(body),
            )
            .await;
        after["round"]["state"].as_str().unwrap().to_string().into()
    }

    async fn upload(&self, kind: &str) {
        let token = self.app.token("filer").await;
        let response = self
            .app
            .upload(
                &format!("/api/v1/rounds/{}/documents", self.id),
                Auth::Bearer(&token),
                &format!("{kind}.pdf"),
                &pdf(kind),
                &[("kind", kind)],
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{kind}: {}",
            response.text()
        );
    }

    async fn phase(&self, number: i64, day: &str) {
        self.call(
            "filer",
            "PUT",
            &format!("/api/v1/rounds/{}/phases", self.id),
            Some(
                json!({"phase": number, "started_on": day, "completed_on": day,
                "summary": format!("第{number}阶段完成")}),
            ),
        )
        .await;
    }

    /// The organizer freezes a draw for the round's pending review; two days later it runs with
    /// sources of the day after the freeze, and every panel member accepts.
    async fn drawn_panel(&mut self, sources_on: &str) {
        let frozen = self
            .call(
                self.organizer,
                "POST",
                "/api/v1/draws",
                Some(json!({"audit_round_id": self.id, "review_on": "2027-03-01"})),
            )
            .await;
        let draw_id = frozen["draw"]["id"].as_i64().unwrap();
        self.app.clock.advance(Duration::days(2));
        let drawn = self
            .call(
                self.organizer,
                "POST",
                &format!("/api/v1/draws/{draw_id}/run"),
                Some(json!({"sources": [
                    {"name": "中国福利彩票双色球开奖号码（红球）", "drawn_on": sources_on,
                     "values": ["4", "8", "15", "16", "23", "32"]},
                    {"name": "深圳证券交易所成份指数收盘点位", "drawn_on": sources_on,
                     "values": ["10555.55"]}]})),
            )
            .await;
        let panel: Vec<i64> = drawn["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["role"] == "panel")
            .map(|a| a["expert_id"].as_i64().unwrap())
            .collect();
        for expert in panel {
            let username = self.expert_login(expert).await;
            self.call(
                &username,
                "POST",
                &format!("/api/v1/draws/{draw_id}/response"),
                Some(json!({"accept": true, "no_conflict": true})),
            )
            .await;
        }
    }

    async fn expert_login(&mut self, expert: i64) -> String {
        if let Some(username) = self.experts.get(&expert) {
            return username.clone();
        }
        let username = format!("expert{expert}");
        self.app
            .db()
            .add_user(
                &Principal::console_operator("test"),
                &NewUser {
                    username: username.clone(),
                    display_name: username.clone(),
                    password: PASSWORD.into(),
                    role: Role::Expert,
                    jurisdiction_code: None,
                    enterprise_id: None,
                    consultancy_id: None,
                    expert_id: Some(expert),
                },
                test_now(),
            )
            .await
            .unwrap();
        self.experts.insert(expert, username.clone());
        username
    }

    /// Every seated expert scores each item at `share` of its maximum.
    async fn scored(&self, share: f64) -> i64 {
        let round = self
            .call("filer", "GET", &format!("/api/v1/rounds/{}", self.id), None)
            .await;
        let review_id = round["review_id"].as_i64().unwrap();
        let review = self
            .call(
                self.organizer,
                "GET",
                &format!("/api/v1/reviews/{review_id}"),
                None,
            )
            .await;
        let items: serde_json::Map<String, Value> = review["form"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let max = item["max"].as_f64().unwrap();
                (item["id"].as_str().unwrap().to_string(), json!(max * share))
            })
            .collect();
        for seat in review["panel"].as_array().unwrap() {
            let expert = seat["expert_id"].as_i64().unwrap();
            self.call(
                &self.experts[&expert],
                "POST",
                &format!("/api/v1/reviews/{review_id}/scores"),
                Some(json!({"items": items, "vetoes": [], "opinion": "审核过程真实，方案可行"})),
            )
            .await;
        }
        review_id
    }
}

#[tokio::test]
async fn a_round_goes_online_from_listing_to_close() {
    let mut round = Round::open().await;
    let id = round.id;
    let day = "2027-01-15";

    // Disclosure (办法 Art. 11) and the start filing (self-audit with Art. 15 capability).
    let mut items = serde_json::Map::new();
    for key in [
        "enterprise_name",
        "legal_representative",
        "address",
        "pollutant_names",
        "discharge_mode",
        "concentrations",
        "totals",
        "exceedances",
        "applicable_standards",
        "toxic_materials",
        "toxic_discharges",
        "hazardous_waste",
        "risk_controls",
    ] {
        items.insert(key.into(), json!(format!("{key}：详见企业官网")));
    }
    round
        .call(
            "filer",
            "PUT",
            &format!("/api/v1/rounds/{id}/disclosure"),
            Some(json!({"items": items, "channel": "企业官网", "channel_detail": "https://example.cn"})),
        )
        .await;
    assert_eq!(round.act("filer", "disclose", json!({})).await, "disclosed");
    round
        .call(
            "filer",
            "PUT",
            &format!("/api/v1/rounds/{id}/start"),
            Some(
                json!({"mode": "self", "team": "王五，总经理，组长", "work_plan": "一年内完成",
                "art15_instruments": "流量计、电能表", "art15_staff": "工程师三名"}),
            ),
        )
        .await;
    assert_eq!(round.act("filer", "file_start", json!({})).await, "started");

    // Phases 1–5, the report with its evidence, and the options.
    for phase in 1..=5 {
        round.phase(phase, day).await;
    }
    round.upload("audit_report").await;
    round.upload("technical_evidence").await;
    let mut option_ids = Vec::new();
    for (code, class) in [("F1", "no_low"), ("Z1", "medium_high")] {
        let created = round
            .call(
                "filer",
                "POST",
                &format!("/api/v1/rounds/{id}/options"),
                Some(
                    json!({"code": code, "name": format!("方案{code}"), "cost_class": class,
                    "description": "余热回收", "investment_10k_yuan": 80.0,
                    "expected": [{"indicator": "so2", "quantity": 12.5, "unit": "t/a"}]}),
                ),
            )
            .await;
        option_ids.push(created["id"].as_i64().unwrap());
    }
    assert_eq!(
        round.act("filer", "submit_report", json!({})).await,
        "report_submitted"
    );

    // The organizer draws a panel, schedules the assessment; the panel scores 95 %: pass.
    round.drawn_panel("2027-01-16").await;
    let schedule = json!({"meeting_on": "2027-03-01", "place": "评审会议室"});
    assert_eq!(
        round
            .act(round.organizer, "schedule_review", schedule.clone())
            .await,
        "assessment_scheduled"
    );
    round.scored(0.95).await;
    // The enterprise sees that experts scored, not who.
    let seen = round
        .call("filer", "GET", &format!("/api/v1/rounds/{id}"), None)
        .await;
    let sheets: Vec<&Value> = seen["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "score_sheet_submitted")
        .collect();
    assert_eq!(sheets.len(), 5);
    assert!(
        sheets.iter().all(|e| e["actor"] == "评审专家 expert"),
        "{sheets:?}"
    );
    assert_eq!(
        round.act(round.organizer, "decide_pass", json!({})).await,
        "assessed"
    );
    let after = round
        .call("filer", "GET", &format!("/api/v1/rounds/{id}"), None)
        .await;
    let accept = after["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "accept")
        .expect("a passed assessment starts the acceptance deadline");
    assert_eq!(accept["starts_on"], "2027-01-17");
    assert_eq!(accept["rule_id"], "deadline.accept");
    let documents = round
        .call(
            "filer",
            "GET",
            &format!("/api/v1/rounds/{id}/documents"),
            None,
        )
        .await;
    assert!(
        documents.to_string().contains("review_opinion"),
        "{documents}"
    );
    let public = round
        .call("filer", "GET", "/api/v1/public/reviews", None)
        .await;
    assert!(public.to_string().contains("pass"), "{public}");

    // Implementation, verified values, the acceptance documents, acceptance applied.
    for option in &option_ids {
        for status in [
            json!({"status": "selected"}),
            json!({"status": "implemented", "implemented_on": "2027-01-17"}),
        ] {
            round
                .call(
                    "filer",
                    "POST",
                    &format!("/api/v1/rounds/{id}/options/{option}/status"),
                    Some(status),
                )
                .await;
        }
        round
            .call(
                "filer",
                "PUT",
                &format!("/api/v1/rounds/{id}/options/{option}/verified"),
                Some(json!({"basis": "验收监测报告", "values": [{"indicator": "so2", "quantity": 11.0}]})),
            )
            .await;
    }
    for kind in ["monitoring_before", "monitoring_after", "acceptance_report"] {
        round.upload(kind).await;
    }
    assert_eq!(
        round.act("filer", "apply_acceptance", json!({})).await,
        "acceptance_applied"
    );

    // A second panel accepts the round: qualified; phases 6–7 dated; the round is closed.
    round.drawn_panel("2027-01-18").await;
    assert_eq!(
        round
            .act(round.organizer, "schedule_review", schedule)
            .await,
        "acceptance_scheduled"
    );
    round.scored(0.9).await;
    assert_eq!(
        round
            .act(round.organizer, "decide_qualified", json!({}))
            .await,
        "accepted"
    );
    round.phase(6, "2027-01-19").await;
    round.phase(7, "2027-01-19").await;
    assert_eq!(
        round.act(round.organizer, "close", json!({})).await,
        "closed"
    );

    let closed = round
        .call(
            round.organizer,
            "GET",
            &format!("/api/v1/rounds/{id}"),
            None,
        )
        .await;
    let transitions: Vec<&str> = closed["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["to_state"].is_null())
        .map(|e| e["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        transitions,
        [
            "listed",
            "disclosed",
            "started",
            "report_submitted",
            "assessment_scheduled",
            "assessed",
            "acceptance_applied",
            "acceptance_scheduled",
            "accepted",
            "closed"
        ]
    );
    assert!(closed["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["standing"] == "met"));
    assert!(closed["actions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_demo_walks_rounds_into_every_state_through_the_real_steps() {
    let app = TestApp::new().await;
    let published_on = chrono::NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
    let walked = cpaudit::demo_rounds::walk_demo_rounds(
        app.db(),
        &crate::support::reference(),
        published_on,
        test_now(),
    )
    .await
    .unwrap();
    for state in [
        "disclosed",
        "started",
        "report_submitted",
        "assessment_scheduled",
        "rectifying",
        "assessed",
        "acceptance_applied",
        "acceptance_scheduled",
        "accepted",
        "closed",
        "cancelled",
    ] {
        let ids = walked
            .get(state)
            .unwrap_or_else(|| panic!("{state}: {walked:?}"));
        assert!(!ids.is_empty(), "{state}");
        let operator = Principal::console_operator("test");
        let round = app
            .db()
            .get_round(operator.scope(), ids[0])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(round.state.as_str(), state);
    }
    let documents: i64 = match app.db() {
        Db::Sqlite(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM documents")
            .fetch_one(pool)
            .await
            .unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM documents")
            .fetch_one(pool)
            .await
            .unwrap(),
    };
    assert!(documents > 10, "{documents} documents filed");
}
