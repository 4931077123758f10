//! Deadline notices: the real scheduler driven through rounds' deadlines with an injected
//! clock, who reads which notice, read marks, the overdue list and the e-mail outbox.
//!
//! The demo's list 1 was published on 2027-01-10, so every demo round owes: disclose by
//! 2027-02-10, start by 2027-03-10 and its report by 2028-01-10. A reminder goes out 7 days
//! before a last day, the overdue notice the day after it, the escalation to the province 30
//! days after it (`notices.*` in the rule book).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use cpaudit_app::jobs::Scheduler;
use cpaudit_app::{App, Clock};
use cpaudit_core::deadlines::{deadline_from, DeadlineKind, NoticeKind, NoticeSchedule};
use cpaudit_core::periods::HolidayCalendar;
use cpaudit_core::rules::RuleBook;
use cpaudit_storage::auth::NewUser;
use cpaudit_storage::evidence::parse_date;
use cpaudit_storage::notices::{FiredCount, NoticeFilter, NoticeRow};
use cpaudit_storage::{Db, Principal, Role};

use crate::support::{raw_execute, reference, TestApp, PASSWORD};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The state `cpaudit serve` hands its scheduler, on the test's database and clock.
fn scheduler_state(app: &TestApp) -> App {
    App::new(app.db().clone(), reference(), app.clock.clone())
}

/// Moves the clock to 09:00 China Standard Time on `on`.
fn set_day(app: &TestApp, on: NaiveDate) {
    let target = Utc.from_utc_datetime(&on.and_hms_opt(1, 0, 0).unwrap());
    app.clock.advance(target - app.clock.now());
}

async fn tick(state: &App) -> FiredCount {
    Scheduler::default().tick(state).await.expect("tick")
}

fn fired(reminders: u64, overdue: u64, escalations: u64) -> FiredCount {
    FiredCount {
        reminders,
        overdue,
        escalations,
    }
}

/// Numbers from SQL run behind the application's back (test setup and checks).
async fn numbers(db: &Db, sql: &str) -> Vec<i64> {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    }
}

/// Every notice fired, as the province sees them on request.
async fn all_notices(db: &Db) -> Vec<NoticeRow> {
    let filter = NoticeFilter {
        all: true,
        unread_only: false,
        limit: 1000,
    };
    db.notices_for(&Principal::console_operator("test"), filter)
        .await
        .unwrap()
}

/// The last day of each deadline of a round, by kind.
async fn due_dates(db: &Db, round_id: i64) -> BTreeMap<String, NaiveDate> {
    let sql = format!("SELECT kind, due_on FROM round_deadlines WHERE round_id = {round_id}");
    let rows: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => sqlx::query_as(&sql).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(&sql).fetch_all(pool).await.unwrap(),
    };
    rows.into_iter()
        .map(|(kind, due_on)| (kind, parse_date(&due_on).unwrap()))
        .collect()
}

/// A notice as sent: its kind, the day the schedule put it on, the day it fired.
type Sent = (String, String, String);

fn days_of(schedule: &NoticeSchedule) -> [(NoticeKind, NaiveDate); 3] {
    [
        (NoticeKind::Reminder, schedule.reminder_on),
        (NoticeKind::Overdue, schedule.overdue_on),
        (NoticeKind::Escalation, schedule.escalation_on),
    ]
}

#[tokio::test]
async fn stepping_day_by_day_every_deadline_sends_one_reminder_one_overdue_notice_and_one_escalation_each_on_its_day(
) {
    let app = TestApp::new().await;
    let db = app.db();
    let state = scheduler_state(&app);
    let book = RuleBook::embedded();
    let rounds = numbers(db, "SELECT id FROM rounds ORDER BY id").await;
    assert_eq!(rounds.len(), 40, "the demo list has 40 rounds");
    // One round is cancelled (it sends nothing); one meets its disclosure deadline on
    // 2027-02-05, after the reminder and before the last day.
    let (meets_disclosure, cancelled) = (rounds[0], rounds[1]);
    let disclosed_on = day(2027, 2, 5);
    raw_execute(
        db,
        &format!("UPDATE rounds SET state = 'cancelled' WHERE id = {cancelled}"),
    )
    .await;

    let mut owed: BTreeMap<(i64, String), NoticeSchedule> = BTreeMap::new();
    for &round in rounds.iter().filter(|&&round| round != cancelled) {
        for (kind, due_on) in due_dates(db, round).await {
            owed.insert(
                (round, kind),
                NoticeSchedule::for_due_date(&book, due_on).unwrap(),
            );
        }
    }
    assert_eq!(owed.len(), 39 * 3);
    let last_escalation = owed.values().map(|s| s.escalation_on).max().unwrap();
    assert_eq!(
        last_escalation,
        day(2028, 2, 9),
        "report due 2028-01-10 + 30 days"
    );
    let stops_after = |key: &(i64, String), on: NaiveDate| {
        key.0 == meets_disclosure && key.1 == "disclose" && on >= disclosed_on
    };

    let mut on = state.today();
    assert_eq!(on, day(2027, 1, 15));
    while on <= last_escalation + Duration::days(3) {
        if on == disclosed_on {
            raw_execute(
                db,
                &format!(
                    "UPDATE round_deadlines SET met_on = '2027-02-05' \
                     WHERE round_id = {meets_disclosure} AND kind = 'disclose'"
                ),
            )
            .await;
        }
        let mut expected = FiredCount::default();
        for (key, schedule) in &owed {
            for (kind, falls_on) in days_of(schedule) {
                if falls_on == on && !stops_after(key, on) {
                    match kind {
                        NoticeKind::Reminder => expected.reminders += 1,
                        NoticeKind::Overdue => expected.overdue += 1,
                        NoticeKind::Escalation => expected.escalations += 1,
                    }
                }
            }
        }
        set_day(&app, on);
        assert_eq!(tick(&state).await, expected, "first run on {on}");
        if expected.total() > 0 {
            // The server runs every ten minutes: later runs that day owe nothing.
            app.clock.advance(Duration::hours(10));
            assert_eq!(tick(&state).await, fired(0, 0, 0), "second run on {on}");
        }
        on = on.succ_opt().unwrap();
    }

    let notices = all_notices(db).await;
    let mut sent: BTreeMap<(i64, String), Vec<Sent>> = BTreeMap::new();
    for notice in &notices {
        sent.entry((notice.round_id, notice.deadline_kind.as_str().to_string()))
            .or_default()
            .push((
                notice.kind.as_str().to_string(),
                notice.scheduled_on.to_string(),
                notice.fired_on.to_string(),
            ));
    }
    assert!(!sent.keys().any(|(round, _)| *round == cancelled));
    for (key, schedule) in &owed {
        let mut expected: Vec<Sent> = days_of(schedule)
            .into_iter()
            .filter(|(_, falls_on)| !stops_after(key, *falls_on))
            .map(|(kind, falls_on)| {
                let falls_on = falls_on.to_string();
                (kind.as_str().to_string(), falls_on.clone(), falls_on)
            })
            .collect();
        expected.sort();
        let mut got = sent.get(key).cloned().unwrap_or_default();
        got.sort();
        assert_eq!(got, expected, "notices of {key:?}");
    }
    assert_eq!(notices.len(), 39 * 3 * 3 - 2);
}

/// Inserts a running deadline as a review decision would (test setup), with its rule.
async fn start_deadline(db: &Db, round_id: i64, kind: DeadlineKind, starts_on: NaiveDate) {
    let deadline = deadline_from(
        kind,
        starts_on,
        &RuleBook::embedded(),
        &HolidayCalendar::china(),
    )
    .unwrap();
    let quote = |text: &str| text.replace('\'', "''");
    raw_execute(
        db,
        &format!(
            "INSERT INTO round_deadlines (round_id, kind, seq, starts_on, nominal_on, due_on, \
             rule_id, rule_book_version, rule_json, trace_zh, trace_en) VALUES \
             ({round_id}, '{}', 1, '{starts_on}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')",
            kind.as_str(),
            deadline.end.nominal,
            deadline.end.effective,
            deadline.rule.id,
            deadline.rule.book_version,
            quote(&serde_json::to_string(&deadline.rule).unwrap()),
            quote(&deadline.end.trace_zh()),
            quote(&deadline.end.trace_en()),
        ),
    )
    .await;
}

#[tokio::test]
async fn rectify_and_accept_deadlines_fire_too_and_a_reminder_missed_while_the_server_was_down_is_not_sent_late(
) {
    let app = TestApp::new().await;
    let db = app.db();
    let state = scheduler_state(&app);
    let rounds = numbers(db, "SELECT id FROM rounds ORDER BY id").await;
    let (rectifying, assessed) = (rounds[0], rounds[1]);
    raw_execute(
        db,
        &format!(
            "UPDATE rounds SET state = 'cancelled' WHERE id NOT IN ({rectifying}, {assessed})"
        ),
    )
    .await;
    raw_execute(
        db,
        &format!(
            "UPDATE round_deadlines SET met_on = '2027-02-01' \
             WHERE round_id IN ({rectifying}, {assessed})"
        ),
    )
    .await;
    raw_execute(
        db,
        &format!("UPDATE rounds SET state = 'rectifying' WHERE id = {rectifying}"),
    )
    .await;
    raw_execute(
        db,
        &format!("UPDATE rounds SET state = 'assessed' WHERE id = {assessed}"),
    )
    .await;
    // Rectification asked on 2027-03-31: three months, so by Wednesday 2027-06-30.
    start_deadline(db, rectifying, DeadlineKind::Rectify, day(2027, 3, 31)).await;
    // Assessment passed on 2027-06-30: acceptance within two years, so by Monday 2029-07-02
    // (2029-06-30 is a Saturday).
    start_deadline(db, assessed, DeadlineKind::Accept, day(2027, 6, 30)).await;
    assert_eq!(due_dates(db, rectifying).await["rectify"], day(2027, 6, 30));
    assert_eq!(due_dates(db, assessed).await["accept"], day(2029, 7, 2));

    let steps = [
        (day(2027, 6, 22), fired(0, 0, 0)),
        (day(2027, 6, 23), fired(1, 0, 0)),
        (day(2027, 6, 30), fired(0, 0, 0)),
        (day(2027, 7, 1), fired(0, 1, 0)),
        (day(2027, 7, 29), fired(0, 0, 0)),
        (day(2027, 7, 30), fired(0, 0, 1)),
        (day(2027, 8, 9), fired(0, 0, 0)),
        (day(2029, 6, 24), fired(0, 0, 0)),
        // The server was down from 2029-06-25 (the reminder's day) until after the last day:
        // the overdue notice says more than a late reminder would, so only it is sent.
        (day(2029, 7, 5), fired(0, 1, 0)),
        (day(2029, 7, 31), fired(0, 0, 0)),
        (day(2029, 8, 1), fired(0, 0, 1)),
        (day(2029, 12, 31), fired(0, 0, 0)),
    ];
    for (on, expected) in steps {
        set_day(&app, on);
        assert_eq!(tick(&state).await, expected, "{on}");
        assert_eq!(tick(&state).await, fired(0, 0, 0), "again on {on}");
    }
    let kinds: Vec<(String, String, String)> = all_notices(db)
        .await
        .into_iter()
        .map(|n| {
            (
                n.deadline_kind.as_str().to_string(),
                n.kind.as_str().to_string(),
                n.fired_on.to_string(),
            )
        })
        .collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    assert!(kinds.contains(&("accept".into(), "overdue".into(), "2029-07-05".into())));
    assert!(!kinds
        .iter()
        .any(|(d, k, _)| d == "accept" && k == "reminder"));
}

#[tokio::test]
async fn runs_at_the_same_time_fire_each_notice_once_and_e_mail_is_queued_only_when_on() {
    let app = TestApp::new().await;
    let db = app.db();
    let state = scheduler_state(&app);
    let outbox = "SELECT COUNT(*) FROM notice_outbox";
    set_day(&app, day(2027, 2, 3));
    let with_email = Scheduler {
        email: true,
        ..Scheduler::default()
    };
    let (first, second) = tokio::join!(with_email.tick(&state), with_email.tick(&state));
    let total = first.unwrap().total() + second.unwrap().total();
    assert_eq!(total, 40, "one disclosure reminder per round");
    assert_eq!(numbers(db, outbox).await, vec![40]);

    set_day(&app, day(2027, 2, 11));
    assert_eq!(tick(&state).await, fired(0, 40, 0));
    assert_eq!(
        numbers(db, outbox).await,
        vec![40],
        "e-mail is off by default"
    );
}

/// Waits (briefly) until the query counts `want`.
async fn wait_for(db: &Db, sql: &str, want: i64) {
    for _ in 0..400 {
        if numbers(db, sql).await == [want] {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{sql} never reached {want}");
}

#[tokio::test]
async fn the_server_s_scheduler_fires_at_start_and_then_on_every_interval() {
    let app = TestApp::new().await;
    let reminders = "SELECT COUNT(*) FROM notices WHERE kind = 'reminder'";
    let overdue = "SELECT COUNT(*) FROM notices WHERE kind = 'overdue'";
    set_day(&app, day(2027, 2, 3));
    let hourly = Scheduler {
        interval: std::time::Duration::from_secs(3600),
        ..Scheduler::default()
    };
    let running = tokio::spawn(hourly.run(scheduler_state(&app)));
    wait_for(app.db(), reminders, 40).await;
    running.abort();

    let often = Scheduler {
        interval: std::time::Duration::from_millis(20),
        ..Scheduler::default()
    };
    let running = tokio::spawn(often.run(scheduler_state(&app)));
    // Its first run, still on 2027-02-03, owes nothing; a later run finds the next day's due.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(numbers(app.db(), overdue).await, [0]);
    set_day(&app, day(2027, 2, 11));
    wait_for(app.db(), overdue, 40).await;
    running.abort();
    assert_eq!(numbers(app.db(), reminders).await, [40]);
}

/// The demo enterprise and consultancy have no round on list 1: give the enterprise of the
/// first round (a Lanzhou enterprise) a user, and engage the demo consultancy.
async fn reader_of_first_round(app: &TestApp) -> (i64, i64) {
    let db = app.db();
    let round = numbers(db, "SELECT id FROM rounds ORDER BY id LIMIT 1").await[0];
    let enterprise = numbers(
        db,
        &format!("SELECT enterprise_id FROM rounds WHERE id = {round}"),
    )
    .await[0];
    db.add_user(
        &Principal::console_operator("test"),
        &NewUser {
            username: "listed".into(),
            display_name: "被列入名单的企业".into(),
            password: PASSWORD.into(),
            role: Role::Enterprise,
            jurisdiction_code: None,
            enterprise_id: Some(enterprise),
            consultancy_id: None,
            expert_id: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap();
    let consultancy = numbers(
        db,
        "SELECT consultancy_id FROM users WHERE username = 'consultancy'",
    )
    .await[0];
    raw_execute(
        db,
        &format!(
            "INSERT INTO engagements (consultancy_id, enterprise_id, since) \
             VALUES ({consultancy}, {enterprise}, '2026-12-01')"
        ),
    )
    .await;
    (round, enterprise)
}

/// Reminders on 2027-02-03, overdue notices on 2027-02-11, disclosure escalations (and the
/// start deadline's overdue notices) on 2027-03-12.
async fn fire_through_the_disclosure_deadline(app: &TestApp) {
    let state = scheduler_state(app);
    for on in [day(2027, 2, 3), day(2027, 2, 11), day(2027, 3, 12)] {
        set_day(app, on);
        tick(&state).await;
    }
}

async fn notices_of(app: &TestApp, user: &str, query: &str) -> serde_json::Value {
    let token = app.token(user).await;
    let response = app
        .api(
            "GET",
            &format!("/api/v1/notices{query}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

fn field<'a>(body: &'a serde_json::Value, name: &str) -> Vec<&'a str> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[name].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn each_reader_sees_the_notices_addressed_to_it_within_its_scope() {
    let app = TestApp::new().await;
    let (_, enterprise) = reader_of_first_round(&app).await;
    fire_through_the_disclosure_deadline(&app).await;

    // The enterprise: everything about its own round.
    let own = notices_of(&app, "listed", "").await;
    let items = own["items"].as_array().unwrap();
    assert!(items.iter().all(|n| n["enterprise_id"] == enterprise));
    let mut kinds = field(&own, "kind");
    kinds.sort();
    assert_eq!(kinds, ["escalation", "overdue", "overdue", "reminder"]);
    let reminder = items.iter().find(|n| n["kind"] == "reminder").unwrap();
    let name = reminder["enterprise_name"].as_str().unwrap();
    assert!(reminder["message_zh"].as_str().unwrap().contains(name));
    assert!(reminder["message_zh"]
        .as_str()
        .unwrap()
        .contains("2027年2月10日"));
    assert!(reminder["message_zh"]
        .as_str()
        .unwrap()
        .contains("《清洁生产审核办法》 第十一条"));
    assert_eq!(own["unread"], 4);

    // Its consultancy: reminders and overdue notices of the enterprises that engaged it.
    let consultancy = notices_of(&app, "consultancy", "").await;
    assert!(field(&consultancy, "kind")
        .iter()
        .all(|k| *k != "escalation"));
    assert_eq!(field(&consultancy, "kind").len(), 3);
    assert!(consultancy["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["enterprise_id"] == enterprise));

    // The city: overdue notices and escalations of its own jurisdiction only.
    let lanzhou = notices_of(&app, "lanzhou", "").await;
    assert!(field(&lanzhou, "jurisdiction_code")
        .iter()
        .all(|c| *c == "620100"));
    assert!(field(&lanzhou, "kind").iter().all(|k| *k != "reminder"));
    assert_eq!(field(&lanzhou, "kind").len(), 8 * 3, "8 Lanzhou rounds");
    let tianshui = notices_of(&app, "tianshui", "?all=true").await;
    assert!(!tianshui["items"].as_array().unwrap().is_empty());
    assert!(field(&tianshui, "jurisdiction_code")
        .iter()
        .all(|c| *c == "620500"));

    // The province: escalations, and everything when it asks.
    let province = notices_of(&app, "province", "").await;
    assert!(field(&province, "kind").iter().all(|k| *k == "escalation"));
    assert_eq!(field(&province, "kind").len(), 40);
    let everything = notices_of(&app, "province", "?all=true&limit=1000").await;
    assert_eq!(field(&everything, "kind").len(), 40 * 4);

    // A bad parameter names itself.
    let token = app.token("province").await;
    let bad = app
        .api("GET", "/api/v1/notices?limit=0", Some(&token), None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "limit");
}

#[tokio::test]
async fn a_reader_marks_notices_read_on_the_page_or_the_api_and_the_badge_counts_the_rest() {
    let app = TestApp::new().await;
    reader_of_first_round(&app).await;
    fire_through_the_disclosure_deadline(&app).await;
    let browser = app.browser("listed").await;
    let page = app.get("/notices", Some(&browser)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("title=\"未读\">4</span>"),
        "{}",
        page.text()
    );
    assert!(page.text().contains("标为已读"));

    let listed = notices_of(&app, "listed", "").await;
    let ids: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    let token = app.token("listed").await;
    for _ in 0..2 {
        let marked = app
            .api(
                "POST",
                &format!("/api/v1/notices/{}/read", ids[0]),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(marked.status, StatusCode::NO_CONTENT, "{}", marked.text());
    }
    assert_eq!(notices_of(&app, "listed", "").await["unread"], 3);

    let form = app
        .post_form(&format!("/notices/{}/read", ids[1]), Some(&browser), &[])
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    assert_eq!(form.location(), "/notices");
    let unread = notices_of(&app, "listed", "?unread=true").await;
    assert_eq!(unread["unread"], 2);
    assert_eq!(field(&unread, "kind").len(), 2);
    let home = app.get("/", Some(&browser)).await;
    assert!(home.text().contains("title=\"未读\">2</span>"));

    // Another enterprise's notice is not there for this reader.
    let foreign = all_notices(app.db())
        .await
        .into_iter()
        .find(|n| !ids.contains(&n.id))
        .unwrap();
    let refused = app
        .api(
            "POST",
            &format!("/api/v1/notices/{}/read", foreign.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_overdue_list_shows_each_open_deadline_past_its_day_by_city_with_days_overdue() {
    use calamine::Reader;
    let app = TestApp::new().await;
    let state = scheduler_state(&app);
    let first = numbers(app.db(), "SELECT id FROM rounds ORDER BY id LIMIT 1").await[0];
    raw_execute(
        app.db(),
        &format!(
            "UPDATE round_deadlines SET met_on = '2027-02-09' \
             WHERE round_id = {first} AND kind = 'disclose'"
        ),
    )
    .await;

    set_day(&app, day(2027, 2, 10));
    let lanzhou = app.token("lanzhou").await;
    let on_the_last_day = app
        .api("GET", "/api/v1/overdue", Some(&lanzhou), None)
        .await;
    assert_eq!(
        on_the_last_day.status,
        StatusCode::OK,
        "{}",
        on_the_last_day.text()
    );
    assert_eq!(on_the_last_day.json()["items"].as_array().unwrap().len(), 0);

    set_day(&app, day(2027, 3, 12));
    tick(&state).await;
    // Logins last hours: log in again on the day.
    let lanzhou = app.token("lanzhou").await;
    let province = app.token("province").await;
    let city = app
        .api("GET", "/api/v1/overdue", Some(&lanzhou), None)
        .await
        .json();
    let items = city["items"].as_array().unwrap();
    // 8 Lanzhou rounds owe their start filing; 7 still owe their disclosure.
    assert_eq!(items.len(), 15);
    assert!(items.iter().all(|i| i["jurisdiction_code"] == "620100"));
    let disclose: Vec<&serde_json::Value> = items
        .iter()
        .filter(|i| i["deadline_kind"] == "disclose")
        .collect();
    assert_eq!(disclose.len(), 7);
    assert!(disclose
        .iter()
        .all(|i| i["days_overdue"] == 30 && i["escalated_on"] == "2027-03-12"));
    let start = items
        .iter()
        .find(|i| i["deadline_kind"] == "start")
        .unwrap();
    assert_eq!(start["days_overdue"], 2);
    assert!(start["escalated_on"].is_null());

    let all = app
        .api("GET", "/api/v1/overdue", Some(&province), None)
        .await
        .json();
    assert_eq!(all["items"].as_array().unwrap().len(), 40 * 2 - 1);
    let codes = field(&all, "jurisdiction_code");
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted, "by city");
    let tianshui = app
        .api("GET", "/api/v1/overdue?city=620500", Some(&province), None)
        .await
        .json();
    assert!(field(&tianshui, "jurisdiction_code")
        .iter()
        .all(|c| *c == "620500"));
    let unknown = app
        .api("GET", "/api/v1/overdue?city=999999", Some(&province), None)
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json()["error"]["field"], "city");

    let browser = app.browser("lanzhou").await;
    let download = app.get("/overdue/export.xlsx", Some(&browser)).await;
    assert_eq!(download.status, StatusCode::OK);
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(download.body)).unwrap();
    let range = workbook.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|row| row.iter().map(|cell| cell.to_string()).collect())
        .collect();
    assert_eq!(rows[0][0], "市州");
    assert_eq!(rows[0][5], "逾期天数");
    assert_eq!(rows.len(), 1 + 15);
}
