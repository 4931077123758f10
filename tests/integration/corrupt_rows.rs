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

    let read = app.db().secret_claims(ROUND).await;
    assert_corrupt(read, "secret_claims", ROUND, "status", "withdrawn");
}
