//! The audit round's use cases called directly, as the command line and the demo loader call
//! them: no HTTP, no language. What the law says about a round shows as the error's kind, code
//! and field, and as the words in both languages.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cpaudit_app::rounds::{take_action, ActionInput, DisclosureInput, StartFilingInput};
use cpaudit_app::{App, Clock, Error, ErrorKind, SystemAuthority};
use cpaudit_core::disclosure::DisclosureItem;
use cpaudit_core::round::RoundState;
use cpaudit_storage::consultancies::NewSanction;
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::{Principal, Role};

use crate::support::{reference, test_db, test_now, TestDb};

/// Round 1: the demo list's first round, a Lanzhou enterprise listed on 2027-01-10.
const ROUND: i64 = 1;

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        test_now()
    }
}

struct Setting {
    // Keeps the test database for as long as the application uses it.
    _store: TestDb,
    app: App,
    console: SystemAuthority,
    round: cpaudit_storage::InScope<RoundRow>,
}

impl Setting {
    async fn new() -> Setting {
        let store = test_db().await;
        let app = App::new(store.db.clone(), reference(), Arc::new(FixedClock));
        let console = SystemAuthority::console("app-test");
        let round = app
            .db()
            .get_round(console.principal().scope(), ROUND)
            .await
            .unwrap()
            .expect("the demo list's first round");
        Setting {
            _store: store,
            app,
            console,
            round,
        }
    }

    fn enterprise(&self) -> Principal {
        self.console
            .acting_for(Role::Enterprise, self.round.enterprise_id)
    }

    /// The round's organizer: the province, or the round's city.
    fn organizer(&self) -> Principal {
        if self.round.organizer_code.ends_with("0000") {
            self.console.principal().clone()
        } else {
            self.console.acting_for_city(&self.round.organizer_code)
        }
    }

    async fn state(&self) -> RoundState {
        cpaudit_app::rounds::load_round(&self.app, self.console.principal(), ROUND)
            .await
            .unwrap()
            .state
    }

    /// Every required item filled in, published through the enterprise's site.
    async fn disclose(&self) {
        let items = cpaudit_app::rounds::required_disclosure(&self.app, &self.round)
            .unwrap()
            .iter()
            .map(|item: &DisclosureItem| (item.key().to_string(), format!("{} 的内容", item.key())))
            .collect();
        let input = DisclosureInput {
            items,
            channel: "企业官网".into(),
            channel_detail: "https://example.cn/gk".into(),
            ..DisclosureInput::default()
        };
        cpaudit_app::rounds::save_disclosure(&self.app, &self.enterprise(), ROUND, &input)
            .await
            .unwrap();
        let to = take_action(
            &self.app,
            &self.enterprise(),
            ROUND,
            &action("disclose", ""),
        )
        .await
        .unwrap();
        assert_eq!(to, RoundState::Disclosed);
    }
}

fn action(name: &str, reason: &str) -> ActionInput {
    ActionInput {
        action: name.into(),
        reason: reason.into(),
        ..ActionInput::default()
    }
}

/// The error's kind, code and field.
fn shape(error: &Error) -> (ErrorKind, &'static str, Option<&str>) {
    match error {
        Error::Invalid { code, field, .. }
        | Error::ForbiddenField { code, field, .. }
        | Error::Conflict { code, field, .. } => (error.kind(), code, field.as_deref()),
        other => panic!("expected a coded error, got {other:?}"),
    }
}

fn words(error: &Error) -> (&str, &str) {
    match error {
        Error::Invalid { message, .. }
        | Error::ForbiddenField { message, .. }
        | Error::Conflict { message, .. } => (&message.zh, &message.en),
        other => panic!("expected a worded error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_action_the_round_state_does_not_allow_is_a_conflict_on_the_action() {
    let setting = Setting::new().await;
    assert_eq!(setting.state().await, RoundState::Listed);
    // A report cannot be submitted before the audit has even started.
    let error = take_action(
        &setting.app,
        &setting.enterprise(),
        ROUND,
        &action("submit_report", ""),
    )
    .await
    .unwrap_err();
    assert_eq!(
        shape(&error),
        (ErrorKind::Conflict, "illegal_transition", Some("action"))
    );
    let (zh, en) = words(&error);
    assert!(zh.contains("不能进行此操作"), "{zh}");
    assert!(en.contains("not possible now"), "{en}");
    assert_eq!(setting.state().await, RoundState::Listed);
}

#[tokio::test]
async fn refusals_name_the_field_and_the_party() {
    let setting = Setting::new().await;
    // Cancelling a round needs a reason (an administrative decision states its grounds).
    let error = take_action(
        &setting.app,
        &setting.organizer(),
        ROUND,
        &action("cancel", "  "),
    )
    .await
    .unwrap_err();
    assert_eq!(
        shape(&error),
        (ErrorKind::Invalid, "required", Some("reason"))
    );
    // Only the organizer cancels, whatever the reason the enterprise gives.
    let error = take_action(
        &setting.app,
        &setting.enterprise(),
        ROUND,
        &action("cancel", "企业已关停"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        shape(&error),
        (ErrorKind::Forbidden, "not_your_action", Some("action"))
    );
    // The enterprise discloses only once every required item is in.
    let error = take_action(
        &setting.app,
        &setting.enterprise(),
        ROUND,
        &action("disclose", ""),
    )
    .await
    .unwrap_err();
    assert_eq!(
        shape(&error),
        (ErrorKind::Conflict, "conditions_unmet", Some("action"))
    );
    // An unknown action and a stranger's round.
    let error = take_action(
        &setting.app,
        &setting.enterprise(),
        ROUND,
        &action("approve_everything", ""),
    )
    .await
    .unwrap_err();
    assert_eq!(
        shape(&error),
        (ErrorKind::Invalid, "unknown_action", Some("action"))
    );
    let stranger = setting
        .console
        .acting_for(Role::Enterprise, setting.round.enterprise_id + 1);
    let error = take_action(&setting.app, &stranger, ROUND, &action("disclose", ""))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(setting.state().await, RoundState::Listed);
    setting.disclose().await;
    assert_eq!(setting.state().await, RoundState::Disclosed);
}

#[tokio::test]
async fn a_sanctioned_preparer_is_refused_in_both_languages() {
    let setting = Setting::new().await;
    setting.disclose().await;
    let enterprise = setting.enterprise();
    let db = setting.app.db();
    // Consultancy 2 is engaged while clean and named in the start filing.
    db.engage(
        &enterprise,
        2,
        &crate::support::read::enterprise(db, setting.round.enterprise_id).await,
        setting.app.today(),
        None,
        test_now(),
    )
    .await
    .unwrap();
    let filing = StartFilingInput {
        mode: "consultancy".into(),
        consultancy_id: Some(2),
        team: "张三，厂长，组长\n李四，环保科长，组员".into(),
        work_plan: "2027年2月完成预审核".into(),
        ..StartFilingInput::default()
    };
    cpaudit_app::rounds::save_start(&setting.app, &enterprise, ROUND, &filing)
        .await
        .unwrap();
    // Then the province blacklists it.
    db.impose_sanction(
        setting.console.principal(),
        &NewSanction {
            consultancy_id: 2,
            kind: "blacklist".into(),
            reason: "审核报告弄虚作假".into(),
            legal_basis: "《甘肃省清洁生产审核实施方案》".into(),
            starts_on: setting.app.today(),
            ends_on: None,
        },
        test_now(),
    )
    .await
    .unwrap();
    let error = take_action(&setting.app, &enterprise, ROUND, &action("file_start", ""))
        .await
        .unwrap_err();
    assert_eq!(
        shape(&error),
        (ErrorKind::Conflict, "conditions_unmet", Some("action"))
    );
    let (zh, en) = words(&error);
    assert!(zh.contains("审核报告弄虚作假"), "{zh}");
    assert!(zh.contains("更换咨询服务机构或改为自行审核"), "{zh}");
    assert!(en.contains("blacklisted since"), "{en}");
    assert!(en.contains("switch consultancy"), "{en}");
    assert!(
        !en.contains("不得再受理"),
        "the English words are English: {en}"
    );
    // Naming it again in the filing is refused on the field, in both languages.
    let error = cpaudit_app::rounds::save_start(&setting.app, &enterprise, ROUND, &filing)
        .await
        .unwrap_err();
    assert_eq!(
        shape(&error),
        (
            ErrorKind::Invalid,
            "consultancy_sanctioned",
            Some("consultancy_id")
        )
    );
    let (zh, en) = words(&error);
    assert!(zh.contains("不得再受理"), "{zh}");
    assert!(en.contains("blacklisted since"), "{en}");
    assert_eq!(setting.state().await, RoundState::Disclosed);
}
