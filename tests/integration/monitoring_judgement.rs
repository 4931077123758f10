//! The judgement of online-monitoring data on both databases: packets written into
//! `monitoring_data` as the receiver stores them, evaluated into hours, days, events, gaps and
//! loads, and exceedances turned into exactly one candidate that an official of the city confirms
//! and the determination then counts. The test clock stands at 2027-01-15 09:00 China time; the
//! data is of 2027-01-14.

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use cpaudit_core::determination::{EvidenceSource, EvidenceStatus};
use cpaudit_core::emission_limits::{EmissionLimits, OutletBinding};
use cpaudit_core::monitoring::LoadLimitDraft;
use cpaudit_core::rules::RuleBook;
use cpaudit_storage::monitoring::{DataRow, IngestBatch};
use cpaudit_storage::monitoring_judgement::{EvaluateOptions, EvaluationReport};
use cpaudit_storage::{Db, Principal, StorageError};
use serde_json::json;

use crate::registry::fresh_credit_code;
use crate::support::{raw_execute, test_now, TestApp};

fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2027, 1, day)
        .unwrap()
        .and_hms_opt(hour, minute, 0)
        .unwrap()
}

fn key(time: NaiveDateTime) -> i64 {
    cpaudit_core::monitoring::time_key(time)
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// A Lanzhou enterprise of its own with one outlet and one device: (enterprise, outlet, device).
async fn monitored_enterprise(app: &TestApp, serial: u32, kind: &str) -> (i64, i64, i64) {
    let token = app.token("province").await;
    let created = app
        .api(
            "POST",
            "/api/v1/enterprises",
            Some(&token),
            Some(json!({
                "name": format!("在线监测测试{serial}有限公司"),
                "credit_code": fresh_credit_code(810_000 + serial),
                "legal_representative": "赵六",
                "address": "测试路 2 号",
                "jurisdiction_code": "620100",
                "industry_code": "4411",
                "size_class": "medium",
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let enterprise = created.json()["id"].as_i64().unwrap();
    let code = if kind == "air" { "DA001" } else { "DW001" };
    let outlet = scalar(
        app.db(),
        &format!(
            "INSERT INTO outlets (enterprise_id, kind, code, name) \
             VALUES ({enterprise}, '{kind}', '{code}', '测试排放口') RETURNING id"
        ),
    )
    .await;
    let device = scalar(
        app.db(),
        &format!(
            "INSERT INTO devices (outlet_id, mn, created_at) VALUES ({outlet}, \
             '0100AA00000000000000{serial:04}', '2026-01-01T00:00:00.000000Z') RETURNING id"
        ),
    )
    .await;
    (enterprise, outlet, device)
}

/// Stores one packet as the receiver does (`Db::store_monitoring_batch`, the receiver's write):
/// the data area as sent.
async fn packet(db: &Db, device: i64, kind: i64, start: NaiveDateTime, cp: &str) {
    let data_time = key(start);
    let batch = IngestBatch {
        rows: vec![DataRow {
            device_id: device,
            kind,
            data_time,
            qn: String::new(),
            received_at: "2027-01-14T00:00:00.000000Z".into(),
            cp: format!("DataTime={data_time};{cp}"),
            split: false,
        }],
        ..IngestBatch::default()
    };
    db.store_monitoring_batch(&batch, 10).await.unwrap();
}

async fn bind(app: &TestApp, outlet: i64, standard: &str, class: &str) {
    let city = Principal::console_acting_for_city("test", "620100");
    app.db()
        .set_outlet_standard(
            &city,
            outlet,
            &OutletBinding {
                standard: standard.into(),
                source_class: class.into(),
                special_limits: false,
            },
            test_now(),
        )
        .await
        .unwrap();
}

async fn evaluate(app: &TestApp) -> EvaluationReport {
    app.db()
        .evaluate_monitoring(
            &EmissionLimits::embedded(),
            &RuleBook::embedded(),
            test_now(),
            &EvaluateOptions::default(),
        )
        .await
        .unwrap()
}

async fn count(db: &Db, sql: &str) -> i64 {
    scalar(
        db,
        &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM ({sql}) t"),
    )
    .await
}

/// Ten-minute SO2 and O2 data of one hour of 2027-01-14: `valid` values flagged N and the
/// rest of the six flagged C, each with 0.5 kg of SO2.
async fn air_hour(db: &Db, device: i64, hour: u32, so2: f64, valid: u32) {
    for slot in 0..6 {
        let flag = if slot < valid { "N" } else { "C" };
        packet(
            db,
            device,
            2051,
            at(14, hour, slot * 10),
            &format!(
                "a21026-Avg={so2},a21026-Cou=0.5,a21026-Flag={flag};a19001-Avg=6.0,a19001-Flag=N"
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn air_exceedances_become_one_candidate_that_the_city_confirms_and_the_determination_counts()
{
    let app = TestApp::new().await;
    let db = app.db();
    let (enterprise, outlet, device) = monitored_enterprise(&app, 1, "air").await;
    // An existing coal-fired boiler: SO2 200 mg/m³ at 6 % O2 (GB 13223-2011).
    bind(&app, outlet, "gb13223-2011", "coal_boiler.existing").await;
    air_hour(db, device, 8, 300.0, 6).await;
    air_hour(db, device, 9, 320.0, 6).await;
    // 10:00: four valid ten-minute values cover 40 minutes, two are calibration: invalid.
    air_hour(db, device, 10, 900.0, 4).await;
    // 11:00 nothing; 12:00 only the device's own hourly value, converted by the device.
    packet(
        db,
        device,
        2061,
        at(14, 12, 0),
        "a21026-Avg=210,a21026-ZsAvg=250,a21026-Cou=2.5,a21026-Flag=N;a19001-Avg=7.6,a19001-Flag=N",
    )
    .await;

    let report = evaluate(&app).await;
    // From the first data hour (01-14 08:00) to the last settled hour (01-15 07:00).
    assert_eq!(report.hours, 24, "{report:?}");
    assert_eq!(report.exceedance_hours, 3);
    assert_eq!(report.days, 1);
    assert_eq!(report.candidates, 1);

    let province = Principal::console_operator("test");
    let scope = province.scope();
    let series = db
        .hourly_series(scope, device, "a21026", at(14, 0, 0), at(15, 0, 0))
        .await
        .unwrap()
        .unwrap();
    let hour = |h: u32| series.iter().find(|p| p.at == key(at(14, h, 0))).unwrap();
    assert_eq!(
        (
            hour(8).status.as_str(),
            hour(8).basis.as_str(),
            hour(8).value
        ),
        ("valid", "recomputed", Some(300.0))
    );
    assert!(hour(8).exceeded && hour(9).exceeded);
    assert_eq!(hour(8).limit_value, Some(200.0));
    assert_eq!(
        (hour(10).status.as_str(), hour(10).reason.as_str()),
        ("invalid", "flagged")
    );
    assert!(!hour(10).exceeded, "invalid data is never an exceedance");
    assert_eq!(
        (hour(11).status.as_str(), hour(11).reason.as_str()),
        ("missing", "no_data")
    );
    assert_eq!(
        (hour(12).basis.as_str(), hour(12).value),
        ("device", Some(250.0))
    );
    assert!(hour(12).exceeded);

    // Events: 08–09 (two hours) and 12 (one hour).
    let events = db
        .exceedance_events(scope, Some(enterprise), at(14, 0, 0), at(15, 0, 0))
        .await
        .unwrap();
    let spans: Vec<(i64, i64, i64)> = events
        .iter()
        .map(|e| (e.first_hour, e.last_hour, e.hours))
        .collect();
    assert_eq!(
        spans,
        [
            (key(at(14, 12, 0)), key(at(14, 12, 0)), 1),
            (key(at(14, 8, 0)), key(at(14, 9, 0)), 2)
        ]
    );
    assert_eq!(events[1].max_value, 320.0);
    // Gaps, kept apart: the flagged hour of SO2, and the device's silence from 11:00 (13:00
    // through the night into the next morning is one period).
    let gaps = db
        .data_gaps(scope, Some(enterprise), at(14, 0, 0), at(16, 0, 0))
        .await
        .unwrap();
    let gap = |factor: &str, reason: &str| {
        gaps.iter()
            .filter(|g| g.factor == factor && g.reason.as_str() == reason)
            .map(|g| (g.first_hour, g.hours))
            .collect::<Vec<_>>()
    };
    assert_eq!(gap("a21026", "flagged"), [(key(at(14, 10, 0)), 1)]);
    let mut silent = gap("", "no_data");
    silent.sort();
    assert_eq!(
        silent,
        [(key(at(14, 11, 0)), 1), (key(at(14, 13, 0)), 19)],
        "13:00 to 07:00 the next morning"
    );
    // The day: three valid hours of 24 make no valid daily mean, but it is an exceedance day.
    let days = db
        .exceedance_days(
            scope,
            &crate::support::read::enterprise(db, enterprise).await,
            at(14, 0, 0).date(),
            at(15, 0, 0).date(),
        )
        .await
        .unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(
        (days[0].status.as_str(), days[0].exceedance_hours),
        ("invalid", 3)
    );
    // The day's SO2 load: 3 + 3 kg, 2 kg of the valid values at 10:00, 2.5 kg at 12:00.
    let loads = db
        .yearly_loads(
            scope,
            &crate::support::read::enterprise(db, enterprise).await,
            2027,
        )
        .await
        .unwrap();
    let so2 = loads
        .iter()
        .find(|l| l.factor == "a21026" && l.outlet_id.is_none())
        .unwrap();
    assert_eq!(so2.load_kg, 10.5);

    // Exactly one candidate, carrying the hours and the rule versions.
    let candidates = db
        .monitoring_candidates(
            scope,
            &crate::support::read::enterprise(db, enterprise).await,
        )
        .await
        .unwrap();
    assert_eq!(candidates.len(), 1);
    let candidate = &candidates[0];
    assert_eq!(
        (
            candidate.kind.as_str(),
            candidate.factor.as_str(),
            candidate.period.as_str()
        ),
        ("concentration_exceedance", "a21026", "2027-01")
    );
    assert_eq!(candidate.evidence_status, EvidenceStatus::Candidate);
    let detail = &*candidate.detail;
    assert_eq!(detail["hours"], 3);
    assert_eq!(detail["rule_book_version"], "gansu-2021.3");
    assert_eq!(
        detail["emission_limits_version"],
        EmissionLimits::embedded().version
    );
    assert_eq!(detail["entries"].as_array().unwrap().len(), 3);
    let evidence = db
        .get_evidence(scope, candidate.evidence_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (evidence.source, evidence.amount, evidence.limit_value),
        (EvidenceSource::OnlineMonitoring, 320.0, Some(200.0))
    );
    assert_eq!(evidence.standard, "GB 13223-2011");
    assert_eq!(evidence.observed_on.to_string(), "2027-01-14");
    assert_eq!(evidence.entered_by, "console:hj212-judgement");

    // Evaluating again creates nothing new.
    let again = evaluate(&app).await;
    assert_eq!(again, EvaluationReport::default());
    let later = app
        .db()
        .evaluate_monitoring(
            &EmissionLimits::embedded(),
            &RuleBook::embedded(),
            test_now() + Duration::hours(3),
            &EvaluateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!((later.hours, later.candidates), (3, 0));
    assert_eq!(
        db.monitoring_candidates(
            scope,
            &crate::support::read::enterprise(db, enterprise).await
        )
        .await
        .unwrap()
        .len(),
        1
    );
    assert_eq!(
        count(
            db,
            &format!("SELECT id FROM evidence WHERE enterprise_id = {enterprise}")
        )
        .await,
        1
    );

    // The city confirms it; the determination then lists the enterprise for 双超.
    let lanzhou = app.token("lanzhou").await;
    let before = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{enterprise}/determination?year=2027"),
            Some(&lanzhou),
            None,
        )
        .await
        .json();
    assert_eq!(before["determination"]["outcome"], "not_required");
    let confirmed = app
        .api(
            "POST",
            &format!("/api/v1/evidence/{}/decision", candidate.evidence_id),
            Some(&lanzhou),
            Some(json!({"decision": "confirm", "reason": "已核对在线监测数据", "version": 1})),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    let after = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{enterprise}/determination?year=2027"),
            Some(&lanzhou),
            None,
        )
        .await
        .json();
    assert_eq!(after["determination"]["outcome"], "must_audit");
    assert_eq!(
        after["determination"]["reasons"],
        json!(["exceed_concentration"])
    );
}

#[tokio::test]
async fn a_water_day_is_flow_weighted_and_the_yearly_load_against_the_permit_makes_a_candidate() {
    let app = TestApp::new().await;
    let db = app.db();
    let (enterprise, outlet, device) = monitored_enterprise(&app, 2, "water").await;
    // GB 8978-1996 grade 1: COD 100 mg/L, daily mean.
    bind(&app, outlet, "gb8978-1996", "grade_1").await;
    let city = Principal::console_acting_for_city("test", "620100");
    let limit = LoadLimitDraft {
        factor: "w01018".into(),
        year: "2027".into(),
        limit_tonnes: "0.02".into(),
        permit_ref: "排污许可证 91620100TEST001P".into(),
    }
    .validate()
    .unwrap();
    db.set_permit_load_limit(
        &city,
        &crate::support::read::enterprise(db, enterprise).await,
        None,
        &limit,
        test_now(),
    )
    .await
    .unwrap();
    // 08:00: 100 m³ at 50 mg/L (5 kg); 09:00: 300 m³ at 150 mg/L (45 kg), as ten-minute
    // packets. Flow-weighted: 125 mg/L; the arithmetic mean of the values would be 100.
    for (hour, cod, m3) in [(8, 50.0, 100.0), (9, 150.0, 300.0)] {
        for slot in 0..6 {
            let part = m3 / 6.0;
            let kg = cod * part * 1e-3;
            packet(
                db,
                device,
                2051,
                at(14, hour, slot * 10),
                &format!(
                    "w01018-Avg={cod},w01018-Cou={kg},w01018-Flag=N;w00000-Cou={part},w00000-Flag=N"
                ),
            )
            .await;
        }
    }
    let report = evaluate(&app).await;
    assert_eq!(report.exceedance_hours, 0, "water is judged by the day");
    let province = Principal::console_operator("test");
    let scope = province.scope();
    let days = db
        .daily_series(
            scope,
            device,
            "w01018",
            at(14, 0, 0).date(),
            at(15, 0, 0).date(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(days.len(), 1);
    assert!((days[0].value.unwrap() - 125.0).abs() < 1e-9, "{days:?}");
    assert!(days[0].exceeded);
    let loads = db
        .yearly_loads(
            scope,
            &crate::support::read::enterprise(db, enterprise).await,
            2027,
        )
        .await
        .unwrap();
    let total = loads
        .iter()
        .find(|l| l.factor == "w01018" && l.outlet_id.is_none())
        .unwrap();
    assert!((total.load_kg - 50.0).abs() < 1e-9);
    assert_eq!(total.limit_tonnes, Some(0.02));
    assert!(total.exceeded);
    // One candidate of each kind.
    let candidates = db
        .monitoring_candidates(
            scope,
            &crate::support::read::enterprise(db, enterprise).await,
        )
        .await
        .unwrap();
    let kinds: Vec<(&str, &str)> = candidates
        .iter()
        .map(|c| (c.kind.as_str(), c.period.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("total_load_exceedance", "2027"),
            ("concentration_exceedance", "2027-01")
        ]
    );
    assert_eq!((report.candidates, report.load_candidates), (1, 1));
    let evidence = db
        .get_evidence(scope, candidates[0].evidence_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            evidence.kind.as_str(),
            evidence.unit.as_str(),
            evidence.limit_value
        ),
        ("total_load_exceedance", "t/a", Some(0.02))
    );
    assert_eq!(evidence.standard, "排污许可证 91620100TEST001P");
    let again = evaluate(&app).await;
    assert_eq!((again.candidates, again.load_candidates), (0, 0));
}

#[tokio::test]
async fn the_judgement_is_read_within_the_callers_scope() {
    let app = TestApp::new().await;
    let db = app.db();
    let (enterprise, outlet, device) = monitored_enterprise(&app, 3, "air").await;
    bind(&app, outlet, "gb16297-1996", "general.new").await;
    for slot in 0..6 {
        packet(
            db,
            device,
            2051,
            at(15, 7, slot * 10),
            "a34013-Avg=150,a34013-Flag=N",
        )
        .await;
    }
    raw_execute(
        db,
        &format!(
            "INSERT INTO device_status (device_id, last_seen_at, last_data_time) \
             VALUES ({device}, '2027-01-15T00:55:00.000000Z', {})",
            key(at(15, 7, 50))
        ),
    )
    .await;
    // 07:00 is settled at 09:00 China time.
    evaluate(&app).await;
    let province = Principal::console_operator("test");
    let today = at(15, 0, 0).date();
    let events = db.exceedances_on(province.scope(), today).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.enterprise_id == enterprise && e.factor == "a34013"));
    let tianshui = Principal::console_acting_for_city("test", "620500");
    let hidden = db.exceedances_on(tianshui.scope(), today).await.unwrap();
    assert!(hidden.iter().all(|e| e.enterprise_id != enterprise));
    assert!(db
        .hourly_series(
            tianshui.scope(),
            device,
            "a34013",
            at(15, 0, 0),
            at(16, 0, 0)
        )
        .await
        .unwrap()
        .is_none());
    // Online: heard from five minutes ago.
    let statuses = db
        .device_statuses(
            province.scope(),
            Some(enterprise),
            test_now(),
            Duration::minutes(30),
        )
        .await
        .unwrap();
    assert_eq!(statuses.len(), 1);
    assert!(statuses[0].online);
    let later = db
        .device_statuses(
            province.scope(),
            Some(enterprise),
            test_now() + Duration::hours(1),
            Duration::minutes(30),
        )
        .await
        .unwrap();
    assert!(!later[0].online);
    let latest = db
        .latest_values(
            province.scope(),
            &crate::support::read::enterprise(db, enterprise).await,
        )
        .await
        .unwrap();
    assert_eq!(latest[0].data_time, key(at(15, 7, 50)));
    assert_eq!(latest[0].values[0].value, Some(150.0));
    // Only the enterprise's city or the province binds its outlets.
    let other = Principal::console_acting_for_city("test", "620500");
    let refused = db
        .set_outlet_standard(
            &other,
            outlet,
            &OutletBinding {
                standard: "gb16297-1996".into(),
                source_class: "general.existing".into(),
                special_limits: false,
            },
            test_now(),
        )
        .await;
    assert!(matches!(refused, Err(StorageError::NotFound)));
    let bindings = db
        .outlet_standards(
            province.scope(),
            &crate::support::read::enterprise(db, enterprise).await,
        )
        .await
        .unwrap();
    assert_eq!(bindings[0].source_class.as_deref(), Some("general.new"));
    assert_eq!(
        count(
            db,
            &format!(
                "SELECT seq FROM audit_log WHERE action = 'outlet.standard' \
                 AND entity_id = '{outlet}'"
            )
        )
        .await,
        1
    );
}

#[tokio::test]
async fn every_demo_outlet_is_bound_to_a_standard() {
    let app = TestApp::new().await;
    let unbound = count(
        app.db(),
        "SELECT o.id FROM outlets o LEFT JOIN outlet_standards s ON s.outlet_id = o.id \
         WHERE s.outlet_id IS NULL",
    )
    .await;
    assert_eq!(unbound, 0);
    let standards = count(app.db(), "SELECT DISTINCT standard FROM outlet_standards").await;
    assert_eq!(standards, 6);
}

#[tokio::test]
async fn the_scheduler_tick_evaluates_with_its_clock_and_the_command_line_finds_nothing_left() {
    let app = TestApp::new().await;
    let db = app.db();
    let (enterprise, outlet, device) = monitored_enterprise(&app, 4, "air").await;
    bind(&app, outlet, "gb16297-1996", "general.new").await;
    for slot in 0..6 {
        packet(
            db,
            device,
            2051,
            at(15, 6, slot * 10),
            "a34013-Avg=150,a34013-Flag=N",
        )
        .await;
    }
    let state = cpaudit_app::App::new(db.clone(), crate::support::reference(), app.clock.clone());
    let scheduler = cpaudit_app::jobs::Scheduler::default();
    scheduler.tick(&state).await.unwrap();
    let province = Principal::console_operator("test");
    let candidates = db
        .monitoring_candidates(
            province.scope(),
            &crate::support::read::enterprise(db, enterprise).await,
        )
        .await
        .unwrap();
    assert_eq!(candidates.len(), 1, "06:00 and 07:00 have settled at 09:00");
    // The clock moves on by an hour: 08:00 is evaluated (silent), nothing new is created.
    app.clock.advance(Duration::hours(1));
    let report = scheduler.evaluate_monitoring(&state).await.unwrap();
    assert_eq!((report.hours, report.candidates), (1, 0));
    let output = crate::support::cpaudit_command(
        &app.store.url,
        &["hj212", "evaluate", "--now", "2027-01-15T10:00:00+08:00"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["hours"], 0);
    assert_eq!(printed["candidates"], 0);
}

/// A data logger that was offline uploads what it buffered (补传) after the judgement found
/// those hours missing: the hours are judged again on the late data, the exceedance in it is
/// found and makes a candidate, and the missing-data period shrinks to what is still missing.
#[tokio::test]
async fn data_uploaded_late_for_hours_already_judged_is_judged_again() {
    let app = TestApp::new().await;
    let db = app.db();
    let (enterprise, outlet, device) = monitored_enterprise(&app, 5, "air").await;
    bind(&app, outlet, "gb13223-2011", "coal_boiler.existing").await;
    air_hour(db, device, 8, 150.0, 6).await;
    let first = evaluate(&app).await;
    assert_eq!(
        (first.hours, first.exceedance_hours, first.rewound),
        (24, 0, 0)
    );
    let province = Principal::console_operator("test");
    let scope = province.scope();
    let no_data = |gaps: &[cpaudit_storage::monitoring_judgement::GapRow]| {
        let mut spans: Vec<(i64, i64)> = gaps
            .iter()
            .filter(|g| g.factor.is_empty())
            .map(|g| (g.first_hour, g.last_hour))
            .collect();
        spans.sort();
        spans
    };
    let gaps = db
        .data_gaps(scope, Some(enterprise), at(14, 0, 0), at(16, 0, 0))
        .await
        .unwrap();
    assert_eq!(no_data(&gaps), [(key(at(14, 9, 0)), key(at(15, 7, 0)))]);

    // A resend of what was judged is not late.
    air_hour(db, device, 8, 150.0, 6).await;
    assert_eq!(
        count(db, "SELECT device_id FROM judgement_rewinds").await,
        0
    );

    // The logger comes back and uploads 13:00 and 14:00, above the SO2 limit of 200 mg/m³.
    air_hour(db, device, 13, 300.0, 6).await;
    air_hour(db, device, 14, 320.0, 6).await;
    assert_eq!(
        scalar(
            db,
            &format!("SELECT from_time FROM judgement_rewinds WHERE device_id = {device}")
        )
        .await,
        key(at(14, 13, 0)),
        "the earliest late data time is kept"
    );

    let again = evaluate(&app).await;
    assert_eq!(again.rewound, 1);
    // From the device's first data hour (08:00) to the last settled hour, once more.
    assert_eq!(
        (again.hours, again.exceedance_hours, again.days),
        (24, 2, 1)
    );
    assert_eq!(
        again.candidates, 1,
        "one exceedance hour in a month makes a candidate"
    );
    let events = db
        .exceedance_events(scope, Some(enterprise), at(14, 0, 0), at(15, 0, 0))
        .await
        .unwrap();
    let spans: Vec<(i64, i64, i64)> = events
        .iter()
        .map(|e| (e.first_hour, e.last_hour, e.hours))
        .collect();
    assert_eq!(spans, [(key(at(14, 13, 0)), key(at(14, 14, 0)), 2)]);
    let gaps = db
        .data_gaps(scope, Some(enterprise), at(14, 0, 0), at(16, 0, 0))
        .await
        .unwrap();
    assert_eq!(
        no_data(&gaps),
        [
            (key(at(14, 9, 0)), key(at(14, 12, 0))),
            (key(at(14, 15, 0)), key(at(15, 7, 0)))
        ]
    );
    assert_eq!(
        count(db, "SELECT device_id FROM judgement_rewinds").await,
        0,
        "taken up"
    );

    // Late again, inside the silence that began the day before: the rewind goes back to the
    // start of that period, so it is not left half judged. Data for hours not yet judged (09:00
    // of the 15th) is not late.
    for slot in 0..6 {
        let cp = "a21026-Avg=150,a21026-Cou=0.5,a21026-Flag=N;a19001-Avg=6.0,a19001-Flag=N";
        packet(db, device, 2051, at(15, 3, slot * 10), cp).await;
    }
    packet(
        db,
        device,
        2051,
        at(15, 9, 0),
        "a21026-Avg=100,a21026-Flag=N",
    )
    .await;
    let third = evaluate(&app).await;
    assert_eq!((third.rewound, third.hours), (1, 24));
    assert_eq!(third.candidates, 0, "the month's candidate exists already");
    let series = db
        .hourly_series(scope, device, "a21026", at(15, 0, 0), at(15, 8, 0))
        .await
        .unwrap()
        .unwrap();
    let late_hour = series.iter().find(|p| p.at == key(at(15, 3, 0))).unwrap();
    assert_eq!(
        (late_hour.status.as_str(), late_hour.value),
        ("valid", Some(150.0))
    );
    let gaps = db
        .data_gaps(scope, Some(enterprise), at(14, 0, 0), at(16, 0, 0))
        .await
        .unwrap();
    assert_eq!(
        no_data(&gaps),
        [
            (key(at(14, 9, 0)), key(at(14, 12, 0))),
            (key(at(14, 15, 0)), key(at(15, 2, 0))),
            (key(at(15, 4, 0)), key(at(15, 7, 0)))
        ]
    );
    assert_eq!(
        count(db, "SELECT device_id FROM judgement_rewinds").await,
        0,
        "09:00 of the 15th had not been judged: not late"
    );
}
