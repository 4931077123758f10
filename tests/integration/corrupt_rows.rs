//! A stored value this version does not know (a row written by a newer version, or edited by
//! hand) fails the read, naming the table, the row, the column and the value, instead of
//! passing for another value.

use axum::http::StatusCode;
use cpaudit_storage::{Db, Principal, StorageError};

use crate::support::{raw_execute, TestApp};

/// Round 1 of the demo list (Lanzhou).
const ROUND: i64 = 1;

/// Runs `statement` with the schema's CHECK constraint on `table.column` out of its way, as a
/// newer version or a hand edit could have written it.
async fn write_past_check(db: &Db, table: &str, column: &str, statement: &str) {
    match db {
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await.unwrap();
            for sql in [
                "PRAGMA ignore_check_constraints = ON",
                statement,
                "PRAGMA ignore_check_constraints = OFF",
            ] {
                sqlx::query(sql).execute(&mut *conn).await.unwrap();
            }
        }
        Db::Postgres(pool) => {
            let drop =
                format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_check");
            for sql in [drop.as_str(), statement] {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
        }
    }
}

/// Writes a round state the schema's CHECK constraint does not admit, behind its back.
async fn write_unknown_state(db: &Db, state: &str) {
    let update = format!("UPDATE rounds SET state = '{state}' WHERE id = {ROUND}");
    write_past_check(db, "rounds", "state", &update).await;
}

/// Asserts that a read failed on the stored value, naming where it is.
fn assert_corrupt<T: std::fmt::Debug>(
    read: Result<T, StorageError>,
    table: &str,
    row_id: i64,
    column: &str,
    value: &str,
) {
    let Err(error) = read else {
        panic!("the read passed: {read:?}");
    };
    assert_eq!(
        error.to_string(),
        format!("{table} row {row_id}: unknown {column} {value:?}")
    );
    assert!(
        matches!(
            &error,
            StorageError::Corrupt { table: t, row_id: r, column: c, value: v }
                if *t == table && *r == row_id && *c == column && v == value
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_round_in_an_unknown_state_fails_the_read_naming_table_row_and_value() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    write_unknown_state(app.db(), "suspended").await;

    let read = app.db().get_round(operator.scope(), ROUND).await;
    assert_corrupt(read, "rounds", ROUND, "state", "suspended");

    // The API answers a 500 (the cause is logged, not shown), not a round in another state.
    let token = app.token("province").await;
    let response = app
        .api(
            "GET",
            &format!("/api/v1/rounds/{ROUND}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !response.text().contains("suspended"),
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn a_reason_code_this_version_does_not_know_fails_the_read_instead_of_being_dropped() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let update =
        format!("UPDATE rounds SET reasons = 'double_toxic,double_exceed' WHERE id = {ROUND}");
    raw_execute(app.db(), &update).await;

    let read = app.db().get_round(operator.scope(), ROUND).await;
    assert_corrupt(
        read,
        "rounds",
        ROUND,
        "reasons",
        "double_toxic,double_exceed",
    );
}

#[tokio::test]
async fn a_malformed_day_fails_the_read_instead_of_reading_as_no_day() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let update = format!("UPDATE rounds SET listed_on = '2027-02-30' WHERE id = {ROUND}");
    raw_execute(app.db(), &update).await;

    let read = app.db().get_round(operator.scope(), ROUND).await;
    assert_corrupt(read, "rounds", ROUND, "listed_on", "2027-02-30");
}

#[tokio::test]
async fn a_deadline_of_an_unknown_kind_fails_the_deadline_read() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let round = app
        .db()
        .get_round(operator.scope(), ROUND)
        .await
        .unwrap()
        .expect("the demo round");
    let update = format!(
        "UPDATE round_deadlines SET kind = 'extend' WHERE round_id = {ROUND} AND kind = 'start'"
    );
    write_past_check(app.db(), "round_deadlines", "kind", &update).await;

    // Deadlines have no id of their own: the error names their round.
    let read = app.db().round_deadlines(&round).await;
    assert_corrupt(read, "round_deadlines", ROUND, "kind", "extend");

    let token = app.token("province").await;
    let response = app
        .api(
            "GET",
            &format!("/api/v1/rounds/{ROUND}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_secret_claim_in_an_unknown_status_fails_the_read() {
    let app = TestApp::new().await;
    let insert = format!(
        "INSERT INTO secret_claims (round_id, item_key, reason, status, claimed_at, claimed_by) \
         VALUES ({ROUND}, 'raw_materials', 'formula', 'withdrawn', \
         '2027-03-01T00:00:00.000000Z', 'user:1:test')"
    );
    write_past_check(app.db(), "secret_claims", "status", &insert).await;

    let round = crate::support::read::round(app.db(), ROUND).await;
    let read = app.db().secret_claims(&round).await;
    assert_corrupt(read, "secret_claims", ROUND, "status", "withdrawn");
}

/// Evidence of the demo enterprise, as an official enters it.
async fn some_evidence(app: &TestApp, enterprise_id: i64) -> i64 {
    let draft = cpaudit_core::evidence::EvidenceDraft {
        kind: "concentration_exceedance".into(),
        observed_on: "2026-03-02".into(),
        source: "inspection".into(),
        document_ref: "INSP-2026-017".into(),
        substance: "COD".into(),
        amount: "120".into(),
        limit: "100".into(),
        unit: "mg/L".into(),
        standard: "GB 8978-1996".into(),
        ..Default::default()
    };
    let valid = draft
        .validate(crate::support::test_now().date_naive())
        .unwrap();
    let operator = Principal::console_operator("test");
    app.db()
        .add_evidence(
            &operator,
            &crate::support::read::enterprise(app.db(), enterprise_id).await,
            &valid,
            cpaudit_core::determination::EvidenceStatus::Confirmed,
            crate::support::test_now(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn an_enterprise_in_an_unknown_status_fails_the_read_and_the_api_answers_500() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let id = crate::support::demo_enterprise_id(app.db()).await;
    let update = format!("UPDATE enterprises SET status = 'dormant' WHERE id = {id}");
    write_past_check(app.db(), "enterprises", "status", &update).await;

    let read = app.db().get_enterprise(operator.scope(), id).await;
    assert_corrupt(read, "enterprises", id, "status", "dormant");

    let token = app.token("province").await;
    let response = app
        .api(
            "GET",
            &format!("/api/v1/enterprises/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!response.text().contains("dormant"), "{}", response.text());
}

#[tokio::test]
async fn evidence_in_an_unknown_status_or_on_a_day_that_does_not_exist_fails_the_read() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let enterprise_id = crate::support::demo_enterprise_id(app.db()).await;
    let id = some_evidence(&app, enterprise_id).await;

    let update = format!("UPDATE evidence SET status = 'withdrawn' WHERE id = {id}");
    write_past_check(app.db(), "evidence", "status", &update).await;
    let read = app.db().get_evidence(operator.scope(), id).await;
    assert_corrupt(read, "evidence", id, "status", "withdrawn");

    let update = format!(
        "UPDATE evidence SET status = 'confirmed', observed_on = '2026-02-30' WHERE id = {id}"
    );
    crate::support::raw_execute(app.db(), &update).await;
    let read = app.db().get_evidence(operator.scope(), id).await;
    assert_corrupt(read, "evidence", id, "observed_on", "2026-02-30");
}

#[tokio::test]
async fn a_past_round_with_a_reason_this_version_does_not_know_is_not_read_without_it() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let enterprise_id = crate::support::demo_enterprise_id(app.db()).await;
    let insert = format!(
        "INSERT INTO past_rounds (enterprise_id, list_year, kind, reasons, accepted_on, source, \
         entered_by, entered_at) VALUES ({enterprise_id}, 2019, 'audit', \
         'double_toxic,double_exceed', '2020-06-30', 'sheet', 'test', '2026-01-05T00:00:00Z') \
         RETURNING id"
    );
    let id = number(app.db(), &insert).await;

    let enterprise = crate::support::read::enterprise(app.db(), enterprise_id).await;
    let read = app.db().past_rounds(operator.scope(), &enterprise).await;
    assert_corrupt(
        read,
        "past_rounds",
        id,
        "reasons",
        "double_toxic,double_exceed",
    );
}

#[tokio::test]
async fn an_expert_in_an_unknown_status_fails_the_read() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let pool = app.db().expert_pool(&operator, None).await.unwrap();
    let id = pool.first().expect("the demo pool has experts").id;
    let update = format!("UPDATE experts SET status = 'retired' WHERE id = {id}");
    write_past_check(app.db(), "experts", "status", &update).await;

    let read = app.db().expert(&operator, id).await;
    assert_corrupt(read, "experts", id, "status", "retired");
    let pool = app.db().expert_pool(&operator, None).await;
    assert_corrupt(pool, "experts", id, "status", "retired");
    // A draw frozen now would not pass the expert for an applicant.
    let snapshot = app.db().pool_snapshot().await;
    assert_corrupt(snapshot, "experts", id, "status", "retired");
}

#[tokio::test]
async fn a_draw_for_a_review_this_version_does_not_know_fails_the_read() {
    let app = TestApp::new().await;
    let enterprise = number(app.db(), "SELECT MIN(id) FROM enterprises").await;
    let insert = format!(
        "INSERT INTO draws (id, review_kind, round_ref, enterprise_id, organizer_code, stage, \
         inputs_json, frozen_at, created_at, created_by) VALUES (900, 'interim', 'round-x', \
         {enterprise}, '620100', 'frozen', '{{}}', '2027-01-15T01:00:00.000000Z', \
         '2027-01-15T01:00:00.000000Z', 'test')"
    );
    write_past_check(app.db(), "draws", "review_kind", &insert).await;

    let read = app.db().list_draws().await;
    assert_corrupt(read, "draws", 900, "review_kind", "interim");
}

/// The one number a query answers (an id chosen or returned).
async fn number(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

#[tokio::test]
async fn an_outlet_of_an_unknown_kind_fails_every_read_of_it() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let device = number(app.db(), "SELECT MIN(id) FROM devices").await;
    let outlet = number(
        app.db(),
        &format!("SELECT outlet_id FROM devices WHERE id = {device}"),
    )
    .await;
    let enterprise = number(
        app.db(),
        &format!("SELECT enterprise_id FROM outlets WHERE id = {outlet}"),
    )
    .await;
    let update = format!("UPDATE outlets SET kind = 'noise' WHERE id = {outlet}");
    write_past_check(app.db(), "outlets", "kind", &update).await;

    let detail = app
        .db()
        .enterprise_detail(operator.scope(), enterprise)
        .await;
    assert_corrupt(detail, "outlets", outlet, "kind", "noise");
    let now = crate::support::test_now();
    let device = app
        .db()
        .monitoring_device(operator.scope(), device, now, chrono::Duration::minutes(30))
        .await;
    assert_corrupt(device, "outlets", outlet, "kind", "noise");
    let standards = app
        .db()
        .outlet_standards(
            operator.scope(),
            &crate::support::read::enterprise(app.db(), enterprise).await,
        )
        .await;
    assert_corrupt(standards, "outlets", outlet, "kind", "noise");
}

/// The first published entry of the demo list: its list and enterprise.
async fn a_published_entry(db: &Db) -> (i64, i64) {
    let list = number(db, "SELECT MIN(list_id) FROM published_entries").await;
    let enterprise = number(
        db,
        &format!("SELECT MIN(enterprise_id) FROM published_entries WHERE list_id = {list}"),
    )
    .await;
    (list, enterprise)
}

#[tokio::test]
async fn a_published_entry_with_a_reason_this_version_does_not_know_fails_the_read() {
    let app = TestApp::new().await;
    let (list, enterprise) = a_published_entry(app.db()).await;
    let update = format!(
        "UPDATE published_entries SET reasons = 'double_toxic,double_exceed' \
         WHERE list_id = {list} AND enterprise_id = {enterprise}"
    );
    write_past_check(app.db(), "published_entries", "reasons", &update).await;

    let read = app
        .db()
        .published_entries(list, &cpaudit_storage::lists::ListEntryFilter::default())
        .await;
    // An entry has no id of its own: the error names the enterprise it lists.
    assert_corrupt(
        read,
        "published_entries",
        enterprise,
        "reasons",
        "double_toxic,double_exceed",
    );
}

#[tokio::test]
async fn a_clock_on_a_day_that_does_not_exist_fails_the_read() {
    let app = TestApp::new().await;
    let (list, enterprise) = a_published_entry(app.db()).await;
    let update = format!(
        "UPDATE clocks SET effective_on = '2027-02-30' \
         WHERE list_id = {list} AND enterprise_id = {enterprise}"
    );
    write_past_check(app.db(), "clocks", "effective_on", &update).await;

    let read = app.db().list_clocks(list).await;
    // A clock has no id of its own: the error names the enterprise it runs for.
    assert_corrupt(read, "clocks", enterprise, "effective_on", "2027-02-30");
}

#[tokio::test]
async fn a_plan_in_an_unknown_status_fails_the_read() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let insert = "INSERT INTO list_plans (id, jurisdiction_code, list_year, status, plan_text, \
                  schedule_text, deadline, created_at, updated_at) VALUES (900, '620100', 2030, \
                  'withdrawn', '', '', '2029-11-30', '2029-11-01T00:00:00.000000Z', \
                  '2029-11-01T00:00:00.000000Z')";
    write_past_check(app.db(), "list_plans", "status", insert).await;

    let read = app.db().list_plans(operator.scope(), 2030).await;
    assert_corrupt(read, "list_plans", 900, "status", "withdrawn");
}

#[tokio::test]
async fn a_plan_entry_placed_for_a_reason_this_version_does_not_know_fails_the_plan_read() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let enterprise = number(
        app.db(),
        "SELECT MIN(id) FROM enterprises WHERE jurisdiction_code LIKE '6201%'",
    )
    .await;
    raw_execute(
        app.db(),
        "INSERT INTO list_plans (id, jurisdiction_code, list_year, status, plan_text, \
         schedule_text, deadline, created_at, updated_at) VALUES (900, '620100', 2030, \
         'draft', '', '', '2029-11-30', '2029-11-01T00:00:00.000000Z', \
         '2029-11-01T00:00:00.000000Z')",
    )
    .await;
    let insert = format!(
        "INSERT INTO list_plan_entries (plan_id, enterprise_id, reasons, toxic_categories, \
         due_year, placement, note) VALUES (900, {enterprise}, 'double_toxic', '1', 2030, \
         'postponed', '')"
    );
    write_past_check(app.db(), "list_plan_entries", "placement", &insert).await;

    let read = app.db().get_plan(operator.scope(), "620100", 2030).await;
    // An entry has no id of its own: the error names the enterprise it plans.
    assert_corrupt(
        read,
        "list_plan_entries",
        enterprise,
        "placement",
        "postponed",
    );
}

#[tokio::test]
async fn a_published_list_of_a_kind_this_version_does_not_know_fails_the_read() {
    let app = TestApp::new().await;
    let (list, _) = a_published_entry(app.db()).await;
    let update = format!("UPDATE published_lists SET kind = 'interim' WHERE id = {list}");
    write_past_check(app.db(), "published_lists", "kind", &update).await;

    let read = app.db().published_list(list).await;
    assert_corrupt(read, "published_lists", list, "kind", "interim");
}

#[tokio::test]
async fn a_tolerance_switch_this_version_does_not_know_fails_the_settings_read() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    let device = number(app.db(), "SELECT MIN(id) FROM devices").await;
    let insert = format!(
        "INSERT INTO device_settings (device_id, tolerance, enabled, updated_by, updated_at) \
         VALUES ({device}, 'missing_qn,teleport', TRUE, 'test', '2027-03-01T00:00:00.000000Z')"
    );
    raw_execute(app.db(), &insert).await;

    let read = app.db().device_settings(operator.scope(), device).await;
    assert_corrupt(
        read,
        "device_settings",
        device,
        "tolerance",
        "missing_qn,teleport",
    );
}
