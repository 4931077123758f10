//! Cleaner production options of a round: entered by form, API or import; their statuses;
//! expected values locked with the report, verified values entered at acceptance; totals that
//! never mix the two stages; and the round's scope.
//!
//! Rounds are moved into the state a test needs with SQL: the transitions are not these tests'
//! business.

use axum::http::StatusCode;
use cpaudit_office::{Cell, SheetSpec, TableFormat};
use cpaudit_storage::Db;
use serde_json::{json, Value};

use crate::support::{raw_execute, Auth, Browser, TestApp};

/// The first Lanzhou round of the demo list that Lanzhou organizes, with the demo consultancy
/// engaged by its enterprise and the demo enterprise user moved to that enterprise: (round id,
/// enterprise id).
async fn lanzhou_round(app: &TestApp) -> (i64, i64) {
    let sql = "SELECT id, enterprise_id FROM rounds \
         WHERE jurisdiction_code = '620100' AND organizer_code = '620100' ORDER BY id";
    let (round, enterprise): (i64, i64) = match app.db() {
        Db::Sqlite(pool) => sqlx::query_as(sql).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await.unwrap(),
    };
    raw_execute(
        app.db(),
        &format!(
            "INSERT INTO engagements (consultancy_id, enterprise_id, since) \
             SELECT consultancy_id, {enterprise}, '2027-01-15' FROM users WHERE username = 'consultancy'"
        ),
    )
    .await;
    raw_execute(
        app.db(),
        &format!("UPDATE users SET enterprise_id = {enterprise} WHERE username = 'enterprise'"),
    )
    .await;
    (round, enterprise)
}

/// Puts the round in `state` on `track` (test setup standing in for the transitions).
async fn set_round(app: &TestApp, round: i64, state: &str, track: &str) {
    raw_execute(
        app.db(),
        &format!("UPDATE rounds SET state = '{state}', track = '{track}' WHERE id = {round}"),
    )
    .await;
}

fn option_json(code: &str, class: &str) -> Value {
    json!({
        "code": code,
        "name": format!("方案{code}"),
        "cost_class": class,
        "description": "燃煤锅炉低氮燃烧改造",
        "investment_10k_yuan": 120.5,
        "expected": [
            {"indicator": "nox", "quantity": 35.2, "unit": "t/a"},
            {"indicator": "energy", "quantity": -12, "basis": "引风机增加电耗"},
        ],
    })
}

async fn create(app: &TestApp, token: &str, round: i64, body: Value) -> crate::support::Response {
    app.api(
        "POST",
        &format!("/api/v1/rounds/{round}/options"),
        Some(token),
        Some(body),
    )
    .await
}

async fn options_of(app: &TestApp, token: &str, round: i64) -> Value {
    let listed = app
        .api(
            "GET",
            &format!("/api/v1/rounds/{round}/options"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    listed.json()
}

async fn set_status(
    app: &TestApp,
    token: &str,
    (round, option): (i64, i64),
    body: Value,
) -> crate::support::Response {
    app.api(
        "POST",
        &format!("/api/v1/rounds/{round}/options/{option}/status"),
        Some(token),
        Some(body),
    )
    .await
}

async fn put_values(
    app: &TestApp,
    token: &str,
    (round, option): (i64, i64),
    stage: &str,
    body: Value,
) -> crate::support::Response {
    app.api(
        "PUT",
        &format!("/api/v1/rounds/{round}/options/{option}/{stage}"),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn the_enterprise_enters_options_by_form_and_its_consultancy_by_api() {
    let app = TestApp::new().await;
    let (round, _) = lanzhou_round(&app).await;
    set_round(&app, round, "started", "standard").await;

    let consultancy = app.token("consultancy").await;
    let created = create(
        &app,
        &consultancy,
        round,
        option_json("F-01", "medium_high"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    assert_eq!(body["status"], "proposed");
    assert_eq!(body["investment_10k_yuan"], 120.5);
    assert_eq!(body["expected"][0]["indicator"], "nox");
    assert_eq!(body["expected"][0]["unit"], "t/a");
    assert_eq!(body["expected"][1]["quantity"], -12.0);
    assert_eq!(body["expected"][1]["unit"], "tce/a");
    assert!(body["verified"].as_array().unwrap().is_empty());

    let browser = app.browser("enterprise").await;
    let path = format!("/rounds/{round}/options");
    let added = app
        .post_form(
            &path,
            Some(&browser),
            &[
                ("code", "Q-01"),
                ("name", "加强设备维护减少跑冒滴漏"),
                ("cost_class", "no_low"),
                ("description", "建立巡检制度"),
                ("investment_10k_yuan", "0.5"),
                ("values.cod", "1.25"),
                ("values.cod.basis", ""),
                ("values.water", "3000"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    assert_eq!(added.location(), path);

    let listed = options_of(&app, &consultancy, round).await;
    let codes: Vec<&str> = listed["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["F-01", "Q-01"]);
    assert_eq!(listed["option_count"], 2);
    assert_eq!(listed["medium_high_open"], 1);
    assert_eq!(listed["may"]["edit"], true);
    assert_eq!(listed["may"]["enter_verified"], false);

    let page = app.get(&path, Some(&browser)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("加强设备维护减少跑冒滴漏"));
    assert!(html.contains("化学需氧量 (t/a)"), "{html}");
    assert!(html.contains("预期（评估）") && html.contains("已验证（验收）"));

    // Each change is on the round's timeline and in the audit chain.
    let operator = cpaudit_storage::Principal::console_operator("test");
    let round_row = app
        .db()
        .get_round(operator.scope(), round)
        .await
        .unwrap()
        .unwrap();
    let events = app.db().round_events(&round_row).await.unwrap();
    let added: Vec<&str> = events
        .iter()
        .filter(|e| e.action == "option_added")
        .map(|e| e.actor.as_str())
        .collect();
    assert_eq!(added.len(), 2);
    assert!(added[0].ends_with(":consultancy") && added[1].ends_with(":enterprise"));
    assert!(matches!(
        app.db().verify_audit_log(None).await.unwrap(),
        cpaudit_core::audit::ChainVerdict::Intact { .. }
    ));
}

#[tokio::test]
async fn bad_input_is_refused_with_422_naming_each_field() {
    let app = TestApp::new().await;
    let (round, _) = lanzhou_round(&app).await;
    set_round(&app, round, "started", "standard").await;
    let token = app.token("enterprise").await;
    assert_eq!(
        create(&app, &token, round, option_json("F-01", "no_low"))
            .await
            .status,
        StatusCode::CREATED
    );
    let cases = [
        (
            json!({"expected": [{"indicator": "radon", "quantity": 1}]}),
            "values.radon",
            "unknown_indicator",
        ),
        (
            json!({"investment_10k_yuan": -5}),
            "investment_10k_yuan",
            "negative",
        ),
        (
            json!({"expected": [{"indicator": "so2", "quantity": "十二"}]}),
            "values.so2",
            "not_a_number",
        ),
        (json!({"code": "f-01"}), "code", "duplicate"),
        (
            json!({"expected": [{"indicator": "so2", "quantity": 3, "unit": "kg/a"}]}),
            "values.so2.unit",
            "wrong_unit",
        ),
        (
            json!({"expected": [{"indicator": "so2", "quantity": -3, "basis": "x"}]}),
            "values.so2",
            "negative",
        ),
        (
            json!({"expected": [{"indicator": "co2", "quantity": -3}]}),
            "values.co2.basis",
            "negative_needs_note",
        ),
    ];
    for (change, field, code) in cases {
        let mut body = option_json("F-02", "no_low");
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let refused = create(&app, &token, round, body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            refused.text()
        );
        let error = &refused.json()["error"];
        assert_eq!(error["field"], field);
        assert_eq!(error["code"], code);
    }
    // Several faults at once: each is named.
    let refused = create(&app, &token, round, json!({"cost_class": "cheap"})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.json();
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "code",
            "name",
            "description",
            "cost_class",
            "investment_10k_yuan"
        ]
    );
    // The form shows the page again with the errors and what was typed.
    let browser = app.browser("enterprise").await;
    let page = app
        .post_form(
            &format!("/rounds/{round}/options"),
            Some(&browser),
            &[
                ("_page", &format!("/rounds/{round}/options")),
                ("code", "F-03"),
                ("name", "余热回收"),
                ("cost_class", "medium_high"),
                ("description", "回收烟气余热"),
                ("investment_10k_yuan", "-1"),
                ("values.so2", "abc"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = page.text();
    assert!(html.contains("投资额不能为负数"), "{html}");
    assert!(html.contains("二氧化硫的数值“abc”不是有效数字"), "{html}");
    assert!(html.contains("value=\"余热回收\""));
    assert_eq!(
        options_of(&app, &token, round).await["option_count"],
        1,
        "nothing was written"
    );
}

fn template_row(code: &str, so2: &str) -> Vec<Cell> {
    let mut row = vec![
        Cell::from(code),
        Cell::from(format!("方案{code}")),
        Cell::from("中/高费"),
        Cell::from("湿法脱硫增效"),
        Cell::Number(300.0),
        Cell::from(so2),
    ];
    row.resize(22, Cell::Empty);
    row.push(Cell::from("增加电耗"));
    row
}

/// The header row of the import template the page offers.
async fn template_headers(app: &TestApp, round: i64) -> Vec<String> {
    use calamine::Reader;
    let browser = app.browser("consultancy").await;
    let template = app
        .get(
            &format!("/rounds/{round}/options/template.xlsx"),
            Some(&browser),
        )
        .await;
    assert_eq!(template.status, StatusCode::OK);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(template.body)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// The template filled with `rows` (SO2 in its sixth column, the note last), as .xlsx.
fn filled(headers: &[String], rows: &[Vec<Cell>]) -> Vec<u8> {
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    cpaudit_office::write_xlsx(
        &SheetSpec {
            name: "方案",
            headers: &refs,
            column_widths: None,
        },
        rows,
    )
    .unwrap()
}

#[tokio::test]
async fn an_import_with_one_bad_row_writes_nothing_and_a_good_one_writes_every_row() {
    let app = TestApp::new().await;
    let (round, _) = lanzhou_round(&app).await;
    set_round(&app, round, "started", "standard").await;
    let token = app.token("consultancy").await;
    let headers = template_headers(&app, round).await;
    assert_eq!(headers[0], "方案编号");
    assert_eq!(headers[5], "二氧化硫（t/a）");
    assert_eq!(headers[14], "重金属（铅）（kg/a）");
    assert_eq!(headers.last().unwrap(), "说明");
    let bad = filled(
        &headers,
        &[
            template_row("F-11", "10"),
            template_row("F-12", "abc"),
            template_row("F-13", "30"),
        ],
    );
    let path = format!("/api/v1/rounds/{round}/options/import");
    let refused = app
        .upload(&path, Auth::Bearer(&token), "方案.xlsx", &bad, &[])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    let report = &refused.json()["report"];
    assert_eq!(report["written"], 0);
    assert_eq!(report["invalid_rows"], 1, "{report}");
    let problem = &report["problems"][0];
    assert_eq!(problem["line"], 3);
    assert_eq!(problem["column"], "二氧化硫（t/a）");
    assert_eq!(problem["field"], "so2");
    assert_eq!(problem["code"], "not_a_number");
    assert_eq!(options_of(&app, &token, round).await["option_count"], 0);

    // The page shows the same report by row and column.
    let browser = app.browser("consultancy").await;
    let page = app
        .upload(
            &format!("/rounds/{round}/options/import"),
            Auth::Browser(&browser),
            "方案.xlsx",
            &bad,
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = page.text();
    assert!(html.contains("<td>二氧化硫（t/a）</td>"), "{html}");
    assert!(html.contains("未导入任何方案"));

    // A good file (here .csv) writes every row, each proposed with its expected values.
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let csv = cpaudit_office::write_csv(
        &refs,
        &[template_row("F-11", "10"), template_row("F-12", "20.5")],
    );
    let imported = app
        .upload(&path, Auth::Bearer(&token), "options.csv", &csv, &[])
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text());
    assert_eq!(imported.json()["written"], 2);
    let listed = options_of(&app, &token, round).await;
    assert_eq!(listed["option_count"], 2);
    assert_eq!(listed["options"][1]["expected"][0]["quantity"], 20.5);
    assert_eq!(listed["options"][1]["expected"][0]["basis"], "增加电耗");
    assert_eq!(listed["totals"]["expected"]["so2"], 30.5);
    // Importing the same codes again is refused row by row.
    let again = app
        .upload(&path, Auth::Bearer(&token), "options.csv", &csv, &[])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.json()["report"]["problems"][0]["column"], "方案编号");
}

#[tokio::test]
async fn statuses_run_proposed_selected_implemented_and_a_drop_needs_a_reason() {
    let app = TestApp::new().await;
    let (round, _) = lanzhou_round(&app).await;
    set_round(&app, round, "started", "standard").await;
    let token = app.token("enterprise").await;
    let first = create(&app, &token, round, option_json("F-01", "medium_high"))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let second = create(&app, &token, round, option_json("F-02", "medium_high"))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();

    let skipped = set_status(
        &app,
        &token,
        (round, first),
        json!({"status": "implemented", "implemented_on": "2027-01-10"}),
    )
    .await;
    assert_eq!(skipped.status, StatusCode::CONFLICT);
    assert_eq!(skipped.json()["error"]["code"], "invalid_transition");
    let selected = set_status(&app, &token, (round, first), json!({"status": "selected"})).await;
    assert_eq!(selected.status, StatusCode::OK, "{}", selected.text());
    assert_eq!(selected.json()["status"], "selected");
    // A selected option is dropped with a reason, never deleted.
    let delete_path = format!("/api/v1/rounds/{round}/options/{first}");
    let delete = app.api("DELETE", &delete_path, Some(&token), None).await;
    assert_eq!(delete.status, StatusCode::CONFLICT);
    let undated = set_status(
        &app,
        &token,
        (round, first),
        json!({"status": "implemented"}),
    )
    .await;
    assert_eq!(undated.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(undated.json()["error"]["field"], "implemented_on");
    let future = set_status(
        &app,
        &token,
        (round, first),
        json!({"status": "implemented", "implemented_on": "2027-02-01"}),
    )
    .await;
    assert_eq!(future.json()["error"]["code"], "in_future");
    let implemented = set_status(
        &app,
        &token,
        (round, first),
        json!({"status": "implemented", "implemented_on": "2027-01-10"}),
    )
    .await;
    assert_eq!(implemented.status, StatusCode::OK);
    assert_eq!(implemented.json()["implemented_on"], "2027-01-10");
    let undo = set_status(
        &app,
        &token,
        (round, first),
        json!({"status": "dropped", "reason": "改主意"}),
    )
    .await;
    assert_eq!(undo.status, StatusCode::CONFLICT, "implemented is final");

    let unexplained = set_status(&app, &token, (round, second), json!({"status": "dropped"})).await;
    assert_eq!(unexplained.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unexplained.json()["error"]["field"], "reason");
    assert_eq!(
        app.db()
            .option_summary(&crate::support::read::round(app.db(), round).await)
            .await
            .unwrap(),
        (2, 1)
    );
    let dropped = set_status(
        &app,
        &token,
        (round, second),
        json!({"status": "dropped", "reason": "投资回收期过长"}),
    )
    .await;
    assert_eq!(dropped.json()["status_note"], "投资回收期过长");
    // Every medium/high-cost option is now implemented or dropped: acceptance may be applied for.
    assert_eq!(
        app.db()
            .option_summary(&crate::support::read::round(app.db(), round).await)
            .await
            .unwrap(),
        (2, 0)
    );

    // A proposed option may be deleted.
    let third = create(&app, &token, round, option_json("F-03", "no_low"))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let deleted = app
        .api(
            "DELETE",
            &format!("/api/v1/rounds/{round}/options/{third}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.db()
            .option_summary(&crate::support::read::round(app.db(), round).await)
            .await
            .unwrap(),
        (2, 0)
    );

    // Once the round is accepted, statuses are final.
    set_round(&app, round, "accepted", "standard").await;
    let fourth_try = set_status(
        &app,
        &token,
        (round, first),
        json!({"status": "dropped", "reason": "x"}),
    )
    .await;
    assert_eq!(fourth_try.status, StatusCode::CONFLICT);
    assert_eq!(fourth_try.json()["error"]["code"], "options_locked");
}

#[tokio::test]
async fn expected_values_lock_with_the_report_and_verified_values_come_after_assessment() {
    let app = TestApp::new().await;
    let (round, _) = lanzhou_round(&app).await;
    set_round(&app, round, "started", "standard").await;
    let token = app.token("consultancy").await;
    let option = create(&app, &token, round, option_json("F-01", "medium_high"))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let ids = (round, option);
    let monitored = json!({"basis": "兰环监〔2027〕第8号监测报告",
        "values": [{"indicator": "nox", "quantity": 30.1}, {"indicator": "energy", "quantity": -10.5}]});

    // Before the assessment there is nothing to verify.
    let early = put_values(&app, &token, ids, "verified", monitored.clone()).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text());
    assert_eq!(early.json()["error"]["code"], "options_locked");
    assert!(early.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("评估通过后"));

    // Once the report is in, expected values are the report's: locked, until rectification.
    set_round(&app, round, "report_submitted", "standard").await;
    let expected = json!({"values": [{"indicator": "nox", "quantity": 40}]});
    let locked = put_values(&app, &token, ids, "expected", expected.clone()).await;
    assert_eq!(locked.status, StatusCode::CONFLICT);
    set_round(&app, round, "rectifying", "standard").await;
    let rectified = put_values(&app, &token, ids, "expected", expected).await;
    assert_eq!(rectified.status, StatusCode::OK, "{}", rectified.text());
    assert_eq!(rectified.json()["expected"][0]["quantity"], 40.0);

    // Assessed: the filers verify implemented options, each value with its basis.
    set_round(&app, round, "assessed", "standard").await;
    let not_done = put_values(&app, &token, ids, "verified", monitored.clone()).await;
    assert_eq!(not_done.status, StatusCode::CONFLICT);
    assert_eq!(not_done.json()["error"]["code"], "not_implemented");
    for status in [
        json!({"status": "selected"}),
        json!({"status": "implemented", "implemented_on": "2027-01-12"}),
    ] {
        assert_eq!(
            set_status(&app, &token, ids, status).await.status,
            StatusCode::OK
        );
    }
    let unsupported = put_values(
        &app,
        &token,
        ids,
        "verified",
        json!({"values": [{"indicator": "nox", "quantity": 30.1}]}),
    )
    .await;
    assert_eq!(unsupported.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unsupported.json()["error"]["field"], "values.nox.basis");
    let verified = put_values(&app, &token, ids, "verified", monitored.clone()).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text());
    let body = verified.json();
    assert_eq!(body["verified"][0]["basis"], "兰环监〔2027〕第8号监测报告");
    assert_eq!(
        body["expected"][0]["quantity"], 40.0,
        "expected values kept apart"
    );

    // The organizer (Lanzhou) settles them at acceptance, not while options are implemented.
    let lanzhou = app.token("lanzhou").await;
    let too_soon = put_values(&app, &lanzhou, ids, "verified", monitored.clone()).await;
    assert_eq!(too_soon.status, StatusCode::CONFLICT);
    set_round(&app, round, "acceptance_scheduled", "standard").await;
    let settled = put_values(&app, &lanzhou, ids, "verified", monitored.clone()).await;
    assert_eq!(settled.status, StatusCode::OK, "{}", settled.text());
    assert!(settled.json()["verified"][0]["recorded_by"]
        .as_str()
        .unwrap()
        .ends_with(":lanzhou"));
    // Tianshui is no organizer of this round and does not even see it.
    let tianshui = app.token("tianshui").await;
    assert_eq!(
        put_values(&app, &tianshui, ids, "verified", monitored.clone())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Accepted: verified values are locked.
    set_round(&app, round, "accepted", "standard").await;
    let late = put_values(&app, &lanzhou, ids, "verified", monitored.clone()).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("已锁定"));

    // A small/micro round verifies at its combined review.
    set_round(&app, round, "assessment_scheduled", "small_micro").await;
    assert_eq!(
        put_values(&app, &token, ids, "verified", monitored)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn totals_keep_expected_and_verified_apart_on_the_page_the_api_and_the_export() {
    let app = TestApp::new().await;
    let (round, _) = lanzhou_round(&app).await;
    set_round(&app, round, "started", "standard").await;
    let token = app.token("enterprise").await;
    let mut ids = Vec::new();
    for (code, class) in [
        ("F-01", "medium_high"),
        ("F-02", "no_low"),
        ("F-03", "medium_high"),
    ] {
        ids.push(
            create(&app, &token, round, option_json(code, class))
                .await
                .json()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for id in &ids[..2] {
        for status in [
            json!({"status": "selected"}),
            json!({"status": "implemented", "implemented_on": "2027-01-12"}),
        ] {
            assert_eq!(
                set_status(&app, &token, (round, *id), status).await.status,
                StatusCode::OK
            );
        }
    }
    assert_eq!(
        set_status(
            &app,
            &token,
            (round, ids[2]),
            json!({"status": "dropped", "reason": "不可行"})
        )
        .await
        .status,
        StatusCode::OK
    );
    set_round(&app, round, "assessed", "standard").await;
    let verified =
        json!({"basis": "监测报告 2027-08", "values": [{"indicator": "nox", "quantity": 30}]});
    assert_eq!(
        put_values(&app, &token, (round, ids[0]), "verified", verified)
            .await
            .status,
        StatusCode::OK
    );

    let totals = options_of(&app, &token, round).await["totals"].clone();
    // Two options not dropped expect 35.2 t/a each; one verified 30 t/a.
    assert_eq!(totals["expected"]["nox"], 70.4);
    assert_eq!(totals["verified"]["nox"], 30.0);
    assert_eq!(totals["expected"]["energy"], -24.0);
    assert!(
        totals["verified"].get("energy").is_none(),
        "an expected value is never a verified one"
    );
    assert_eq!(totals["medium_high"]["expected"]["nox"], 35.2);
    assert_eq!(totals["no_low"]["verified"].as_object().unwrap().len(), 0);
    assert_eq!(totals["investment_10k_yuan"], 241.0);

    let browser = app.browser("enterprise").await;
    let html = app
        .get(&format!("/rounds/{round}/options"), Some(&browser))
        .await
        .text();
    let expected_row = html
        .find("<th>预期（评估）</th><td class=\"num\">70.4</td>")
        .expect(&html);
    let verified_row = html
        .find("<th>已验证（验收）</th><td class=\"num\">30</td>")
        .expect(&html);
    assert!(expected_row < verified_row);

    let export = app
        .get(
            &format!("/rounds/{round}/options/export.xlsx"),
            Some(&browser),
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    let table =
        cpaudit_office::read_table(&export.body, TableFormat::Xlsx, &Default::default()).unwrap();
    // The group headings stand over separate columns; the header row follows.
    let expected_at = table
        .headers
        .iter()
        .position(|h| h == "预期（评估）")
        .unwrap();
    let verified_at = table
        .headers
        .iter()
        .position(|h| h == "已验证（验收）")
        .unwrap();
    assert_eq!(verified_at - expected_at, 17);
    let header = &table.rows[0].cells;
    assert_eq!(header[expected_at + 1], "氮氧化物 (t/a)");
    assert_eq!(header[verified_at + 1], "氮氧化物 (t/a)");
    let first = &table.rows[1].cells;
    assert_eq!(first[expected_at + 1], "35.2");
    assert_eq!(first[verified_at + 1], "30");
    let total = &table.rows.last().unwrap().cells;
    assert_eq!(total[expected_at + 1], "70.4");
    assert_eq!(total[verified_at + 1], "30");
}

#[tokio::test]
async fn a_round_outside_the_callers_scope_is_not_found() {
    let app = TestApp::new().await;
    let (round, _) = lanzhou_round(&app).await;
    set_round(&app, round, "started", "standard").await;
    // The demo enterprise user goes back to an enterprise other than the round's.
    raw_execute(
        app.db(),
        "UPDATE users SET enterprise_id = (SELECT MIN(id) FROM enterprises) WHERE username = 'enterprise'",
    )
    .await;
    let consultancy = app.token("consultancy").await;
    let option = create(&app, &consultancy, round, option_json("F-01", "no_low"))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    for user in ["tianshui", "enterprise", "expert"] {
        let token = app.token(user).await;
        let path = format!("/api/v1/rounds/{round}/options");
        assert_eq!(
            app.api("GET", &path, Some(&token), None).await.status,
            StatusCode::NOT_FOUND,
            "{user}"
        );
        if user != "expert" {
            let created = create(&app, &token, round, option_json("F-09", "no_low")).await;
            assert_eq!(created.status, StatusCode::NOT_FOUND, "{user}");
            let status =
                set_status(&app, &token, (round, option), json!({"status": "selected"})).await;
            assert_eq!(status.status, StatusCode::NOT_FOUND, "{user}");
        }
    }
    let browser = app.browser("tianshui").await;
    let page = app
        .get(&format!("/rounds/{round}/options"), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // Officials of the city read the options but do not write the report's content.
    let lanzhou = app.token("lanzhou").await;
    assert_eq!(options_of(&app, &lanzhou, round).await["option_count"], 1);
    let refused = create(&app, &lanzhou, round, option_json("F-09", "no_low")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"]["code"], "not_your_option_work");
}

#[tokio::test]
async fn the_page_forms_edit_change_status_verify_and_delete() {
    let app = TestApp::new().await;
    let (round, _) = lanzhou_round(&app).await;
    set_round(&app, round, "started", "standard").await;
    let token = app.token("enterprise").await;
    let kept = create(&app, &token, round, option_json("F-01", "medium_high"))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let gone = create(&app, &token, round, option_json("F-02", "no_low"))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let browser = app.browser("enterprise").await;
    let page = format!("/rounds/{round}/options");
    let post = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let (app, browser, page) = (&app, &browser, &page);
        async move {
            let mut fields: Vec<(&str, &str)> = fields;
            fields.push(("_page", page.as_str()));
            app.post_form(&path, Some(browser), &fields).await
        }
    };

    let edited = post(
        format!("{page}/{kept}/edit"),
        vec![
            ("code", "F-01"),
            ("name", "低氮燃烧改造（修订）"),
            ("cost_class", "medium_high"),
            ("description", "更换低氮燃烧器"),
            ("investment_10k_yuan", "150"),
            ("values.nox", "40"),
            ("values.co2", "-20"),
            ("values.co2.basis", "增加风机电耗"),
        ],
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.text());
    let deleted = post(format!("{page}/{gone}/delete"), Vec::new()).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    for fields in [
        vec![("status", "selected")],
        vec![("status", "implemented"), ("implemented_on", "2027-01-14")],
    ] {
        let changed = post(format!("{page}/{kept}/status"), fields).await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text());
    }

    set_round(&app, round, "assessed", "standard").await;
    let unsupported = post(
        format!("{page}/{kept}/verified"),
        vec![("values.nox", "38")],
    )
    .await;
    assert_eq!(unsupported.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unsupported.text().contains("须注明依据"));
    let verified = post(
        format!("{page}/{kept}/verified"),
        vec![("basis", "兰环监〔2027〕第9号"), ("values.nox", "38")],
    )
    .await;
    assert_eq!(
        verified.status,
        StatusCode::SEE_OTHER,
        "{}",
        verified.text()
    );

    let listed = options_of(&app, &token, round).await;
    assert_eq!(listed["option_count"], 1);
    let option = &listed["options"][0];
    assert_eq!(option["name"], "低氮燃烧改造（修订）");
    assert_eq!(option["status"], "implemented");
    // In the order of the indicators: NOx before CO2.
    assert_eq!(option["expected"][0]["quantity"], 40.0);
    assert_eq!(option["expected"][1]["indicator"], "co2");
    assert_eq!(option["expected"][1]["basis"], "增加风机电耗");
    assert_eq!(option["verified"][0]["basis"], "兰环监〔2027〕第9号");

    // The page in English.
    let english = Browser {
        cookie: format!("{}; cpaudit_lang=en", browser.cookie),
        ..browser.clone()
    };
    let html = app.get(&page, Some(&english)).await.text();
    assert!(html.contains("Verified (acceptance)"), "{html}");
    assert!(html.contains("NOx (t/a)"));
}
