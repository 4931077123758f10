//! The use cases beneath the pages and the API, called directly as the command line and the
//! demo loader call them: no request, no language. Each refusal is asserted by its kind, its
//! stable code and the field it names, which is all a caller needs to word and place it.
//!
//! Rounds are put into the state a test needs with SQL, as the other round tests do.

use chrono::NaiveDate;
use cpaudit_app::draws::{FreezeInput, RunInput};
use cpaudit_app::enforcement::EnforcementInput;
use cpaudit_app::options::{OptionInput, StatusInput, ValueInput, ValuesInput};
use cpaudit_app::reviews::SheetInput;
use cpaudit_app::{App, Error, ErrorKind, SystemAuthority};
use cpaudit_core::options::Stage;
use cpaudit_core::round::ReviewKind;
use cpaudit_core::scoring::ScoringBook;
use cpaudit_storage::draws::SeatRole;
use cpaudit_storage::reviews::insert_review;
use cpaudit_storage::{Db, Role};

use crate::support::{raw_execute, reference, test_now, TestApp};

async fn query_pair(db: &Db, sql: &str) -> (i64, i64) {
    match db {
        Db::Sqlite(pool) => sqlx::query_as(sql).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await.unwrap(),
    }
}

async fn query_i64(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// The application over the test's database and clock, without the web layer.
fn app_of(test: &TestApp) -> App {
    App::new(test.db().clone(), reference(), test.clock.clone())
}

/// The code and field of an error that names them.
fn code_and_field(error: &Error) -> (&'static str, Option<&str>) {
    match error {
        Error::Invalid { code, field, .. }
        | Error::Conflict { code, field, .. }
        | Error::ForbiddenField { code, field, .. } => (code, field.as_deref()),
        other => panic!("no code and field in {other:?}"),
    }
}

fn option(code: &str, cost_class: &str, investment: &str) -> OptionInput {
    OptionInput {
        code: code.into(),
        name: format!("方案{code}"),
        cost_class: cost_class.into(),
        description: "燃煤锅炉低氮燃烧改造".into(),
        investment_10k_yuan: investment.into(),
        expected: vec![ValueInput {
            indicator: "nox".into(),
            quantity: "35.2".into(),
            unit: "t/a".into(),
            basis: "按审核期间实测数据估算".into(),
        }],
    }
}

#[tokio::test]
async fn options_are_entered_checked_and_refused_by_kind_code_and_field() {
    let test = TestApp::new().await;
    let app = app_of(&test);
    let (round_id, enterprise) = query_pair(
        test.db(),
        "SELECT id, enterprise_id FROM rounds WHERE track = 'standard' ORDER BY id LIMIT 1",
    )
    .await;
    raw_execute(
        test.db(),
        &format!("UPDATE rounds SET state = 'started' WHERE id = {round_id}"),
    )
    .await;
    let authority = SystemAuthority::console("test");
    let filer = authority.acting_for(Role::Enterprise, enterprise);
    let round = cpaudit_app::options::visible_round(&app, &filer, round_id)
        .await
        .unwrap();

    let invalid = cpaudit_app::options::create(&app, &filer, &round, option("F-01", "cheap", "-5"))
        .await
        .unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::Validation);
    let Error::Validation(errors) = &invalid else {
        panic!("{invalid:?}")
    };
    let named: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
    assert_eq!(
        named,
        [
            ("cost_class", "invalid_choice"),
            ("investment_10k_yuan", "negative")
        ]
    );
    assert!(
        errors
            .iter()
            .all(|e| !e.message.zh.is_empty() && !e.message.en.is_empty()),
        "both languages: {errors:?}"
    );

    let option_id =
        cpaudit_app::options::create(&app, &filer, &round, option("F-01", "no_low", "3.5"))
            .await
            .unwrap();
    let duplicate =
        cpaudit_app::options::create(&app, &filer, &round, option("f-01", "no_low", "1"))
            .await
            .unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::Validation, "{duplicate:?}");

    let skipped = cpaudit_app::options::change_status(
        &app,
        &filer,
        &round,
        option_id,
        StatusInput {
            status: "implemented".into(),
            implemented_on: "2027-01-10".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(skipped.kind(), ErrorKind::Conflict);
    assert_eq!(
        code_and_field(&skipped),
        ("invalid_transition", Some("status"))
    );

    let verified = ValuesInput {
        values: vec![ValueInput {
            indicator: "nox".into(),
            quantity: "30".into(),
            ..Default::default()
        }],
        basis: "实施后监测报告".into(),
    };
    let too_early = cpaudit_app::options::set_values(
        &app,
        &filer,
        &round,
        option_id,
        Stage::Verified,
        verified,
    )
    .await
    .unwrap_err();
    assert_eq!(too_early.kind(), ErrorKind::Conflict);
    assert_eq!(code_and_field(&too_early), ("options_locked", None));

    let stranger = authority.acting_for(Role::Enterprise, enterprise + 1);
    let hidden = cpaudit_app::options::visible_round(&app, &stranger, round_id)
        .await
        .unwrap_err();
    assert_eq!(hidden.kind(), ErrorKind::NotFound);

    let sheet = test.db().option_sheet(&round).await.unwrap();
    assert_eq!(sheet.options.len(), 1, "only the valid option is stored");
    assert_eq!(sheet.options[0].option.code, "F-01");
    assert_eq!(sheet.options[0].option.status.as_str(), "proposed");
}

fn sources(day: &str) -> RunInput {
    RunInput {
        sources: serde_json::from_value(serde_json::json!([
            {"name": "中国福利彩票双色球开奖号码（红球）", "drawn_on": day,
             "values": ["5", "9", "14", "20", "26", "33"]},
            {"name": "深圳证券交易所成份指数收盘点位", "drawn_on": day, "values": ["10876.12"]}
        ]))
        .unwrap(),
    }
}

/// A score sheet of the assessment form giving `share` of each item's points.
fn sheet(share: f64, opinion: &str) -> SheetInput {
    let meeting_on = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    let book = ScoringBook::embedded();
    let form = book.form_at(ReviewKind::Assessment, meeting_on).unwrap();
    SheetInput {
        items: form
            .items
            .iter()
            .map(|item| (item.id.clone(), (f64::from(item.max) * share).round()))
            .collect(),
        vetoes: Vec::new(),
        opinion: opinion.into(),
    }
}

#[tokio::test]
async fn a_draw_freezes_the_engaged_consultancy_and_only_the_seated_panel_scores() {
    let test = TestApp::new().await;
    let app = app_of(&test);
    let (round_id, enterprise) = query_pair(
        test.db(),
        "SELECT id, enterprise_id FROM rounds WHERE track = 'standard' ORDER BY id LIMIT 1",
    )
    .await;
    raw_execute(
        test.db(),
        &format!("UPDATE rounds SET state = 'report_submitted' WHERE id = {round_id}"),
    )
    .await;
    raw_execute(
        test.db(),
        &format!(
            "INSERT INTO engagements (consultancy_id, enterprise_id, since) \
             SELECT consultancy_id, {enterprise}, '2027-01-10' FROM users \
             WHERE username = 'consultancy' \
             AND NOT EXISTS (SELECT 1 FROM engagements WHERE enterprise_id = {enterprise})"
        ),
    )
    .await;
    let engaged = query_i64(
        test.db(),
        &format!(
            "SELECT c.id FROM consultancies c JOIN engagements g ON g.consultancy_id = c.id \
             WHERE g.enterprise_id = {enterprise} ORDER BY c.name, c.id LIMIT 1"
        ),
    )
    .await;
    let authority = SystemAuthority::console("test");
    let organizer = authority.principal();

    let unnamed = cpaudit_app::draws::freeze(
        &app,
        organizer,
        &FreezeInput {
            review_on: "2027-03-01".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(unnamed.kind(), ErrorKind::Invalid);
    assert_eq!(code_and_field(&unnamed), ("required", Some("kind")));

    let draw_id = cpaudit_app::draws::freeze(
        &app,
        organizer,
        &FreezeInput {
            audit_round_id: Some(round_id),
            review_on: "2027-03-01".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let row = test.db().get_draw(draw_id).await.unwrap().unwrap();
    let frozen: serde_json::Value = row.inputs.0.clone();
    assert_eq!(
        frozen["review"]["consultancy_id"], engaged,
        "the conflict rules read the consultancy the enterprise engaged"
    );
    assert_eq!(frozen["review"]["enterprise_id"], enterprise);

    test.clock.advance(chrono::Duration::days(2));
    cpaudit_app::draws::run(&app, organizer, draw_id, &sources("2027-01-16"))
        .await
        .unwrap();
    let again = cpaudit_app::draws::run(&app, organizer, draw_id, &sources("2027-01-16"))
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Conflict);
    assert_eq!(code_and_field(&again), ("already_drawn", None));

    let assignments = test
        .db()
        .assignments(&crate::support::read::draw(test.db(), draw_id).await)
        .await
        .unwrap();
    let panel: Vec<i64> = assignments
        .iter()
        .filter(|a| a.role == SeatRole::Panel)
        .map(|a| a.expert_id)
        .collect();
    let alternate = assignments
        .iter()
        .find(|a| a.role == SeatRole::Alternate)
        .map(|a| a.expert_id)
        .expect("the draw ranks alternates");
    for expert in &panel {
        let seat = authority.acting_for(Role::Expert, *expert);
        test.db()
            .respond_to_assignment(
                &seat,
                &crate::support::read::draw(test.db(), draw_id).await,
                true,
                true,
                "",
                app.now(),
            )
            .await
            .unwrap();
    }
    let meeting_on = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    let form = ScoringBook::embedded()
        .form_at(ReviewKind::Assessment, meeting_on)
        .unwrap()
        .version
        .clone();
    let round = crate::support::read::round(test.db(), round_id).await;
    let draw = crate::support::read::draw(test.db(), draw_id).await;
    let mut tx = test.db().begin().await.unwrap();
    let review_id = insert_review(
        &mut tx,
        &round,
        ReviewKind::Assessment,
        &draw,
        meeting_on,
        "甘肃省生态环境厅第三会议室",
        &form,
        organizer,
        test_now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    raw_execute(
        test.db(),
        &format!("UPDATE rounds SET state = 'assessment_scheduled' WHERE id = {round_id}"),
    )
    .await;

    let alternate = authority.acting_for(Role::Expert, alternate);
    let unseen = cpaudit_app::reviews::submit(&app, &alternate, review_id, sheet(0.8, "同意"))
        .await
        .unwrap_err();
    assert_eq!(
        unseen.kind(),
        ErrorKind::NotFound,
        "an alternate who holds no seat does not see the review: {unseen:?}"
    );
    let refused = cpaudit_app::reviews::submit(&app, organizer, review_id, sheet(0.8, "同意"))
        .await
        .unwrap_err();
    assert_eq!(
        refused.kind(),
        ErrorKind::Forbidden,
        "the organizer sees the review but is not on the panel: {refused:?}"
    );

    let seated = authority.acting_for(Role::Expert, panel[0]);
    let silent = cpaudit_app::reviews::submit(&app, &seated, review_id, sheet(0.8, "  "))
        .await
        .unwrap_err();
    assert_eq!(silent.kind(), ErrorKind::Invalid);
    assert_eq!(code_and_field(&silent), ("required", Some("opinion")));

    cpaudit_app::reviews::submit(&app, &seated, review_id, sheet(0.8, "材料齐全，同意通过"))
        .await
        .unwrap();
    let sheets = test
        .db()
        .all_sheets(&crate::support::read::review(test.db(), review_id).await)
        .await
        .unwrap();
    assert_eq!(sheets.len(), 1, "the seated expert's sheet, and only it");
    let round = test
        .db()
        .get_round(organizer.scope(), round_id)
        .await
        .unwrap()
        .unwrap();
    let review = test.db().latest_review(&round).await.unwrap().unwrap();
    let proposal = cpaudit_app::reviews::proposal_of(&app, &review, panel.len())
        .await
        .unwrap();
    assert!(proposal.is_some(), "a sheet in proposes a conclusion");
}

#[tokio::test]
async fn an_enforcement_decision_is_the_city_s_and_each_mistake_names_its_field() {
    let test = TestApp::new().await;
    let app = app_of(&test);
    let (round_id, enterprise) = query_pair(
        test.db(),
        "SELECT id, enterprise_id FROM rounds ORDER BY id LIMIT 1",
    )
    .await;
    let authority = SystemAuthority::console("test");
    let round = test
        .db()
        .get_round(authority.principal().scope(), round_id)
        .await
        .unwrap()
        .unwrap();
    let city = authority.acting_for_city(&round.jurisdiction_code);
    let order = |correct_by: &str| EnforcementInput {
        kind: "order_to_correct".into(),
        basis: "penalty.law_36".into(),
        reason: "列入名单后逾期未公布企业相关信息".into(),
        document_number: "责改〔2027〕1号".into(),
        correct_by: correct_by.into(),
        ..Default::default()
    };

    let unknown = EnforcementInput {
        kind: "warning".into(),
        ..order("2027-02-15")
    };
    let refused = cpaudit_app::enforcement::decide(&app, &city, round_id, &unknown)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid);
    assert_eq!(code_and_field(&refused), ("invalid_kind", Some("kind")));

    let undated = cpaudit_app::enforcement::decide(&app, &city, round_id, &order(""))
        .await
        .unwrap_err();
    assert_eq!(code_and_field(&undated), ("required", Some("correct_by")));

    let own = authority.acting_for(Role::Enterprise, enterprise);
    let not_theirs = cpaudit_app::enforcement::decide(&app, &own, round_id, &order("2027-02-15"))
        .await
        .unwrap_err();
    assert_eq!(
        not_theirs.kind(),
        ErrorKind::Forbidden,
        "the enterprise sees its round but does not decide on it"
    );

    let id = cpaudit_app::enforcement::decide(&app, &city, round_id, &order("2027-02-15"))
        .await
        .unwrap();
    let (row, _) = test
        .db()
        .enforcement_with_round(city.scope(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.round_id, round_id);
    assert_eq!(row.kind.as_str(), "order_to_correct");
}
