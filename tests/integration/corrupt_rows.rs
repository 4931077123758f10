//! A stored value this version does not know (a row written by a newer version, or edited by
//! hand) fails the read, naming the table, the row, the column and the value, instead of
//! passing for another value.

use axum::http::StatusCode;
use cpaudit_storage::{Db, Principal, StorageError};

use crate::support::TestApp;

/// Round 1 of the demo list (Lanzhou).
const ROUND: i64 = 1;

/// Writes a round state the schema's CHECK constraint does not admit, behind its back.
async fn write_unknown_state(db: &Db, state: &str) {
    let update = format!("UPDATE rounds SET state = '{state}' WHERE id = {ROUND}");
    match db {
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await.unwrap();
            for sql in [
                "PRAGMA ignore_check_constraints = ON",
                update.as_str(),
                "PRAGMA ignore_check_constraints = OFF",
            ] {
                sqlx::query(sql).execute(&mut *conn).await.unwrap();
            }
        }
        Db::Postgres(pool) => {
            for sql in [
                "ALTER TABLE rounds DROP CONSTRAINT rounds_state_check",
                update.as_str(),
            ] {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
        }
    }
}

#[tokio::test]
async fn a_round_in_an_unknown_state_fails_the_read_naming_table_row_and_value() {
    let app = TestApp::new().await;
    let operator = Principal::console_operator("test");
    write_unknown_state(app.db(), "suspended").await;

    let read = app.db().get_round(operator.scope(), ROUND).await;
    let Err(error) = read else {
        panic!("the read passed: {read:?}");
    };
    assert_eq!(
        error.to_string(),
        "rounds row 1: unknown state \"suspended\"",
        "the logged text names the table, the row and the value"
    );
    assert!(
        matches!(
            &error,
            StorageError::Corrupt { table: "rounds", row_id: ROUND, column: "state", value }
                if value == "suspended"
        ),
        "{error:?}"
    );

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
