//! The registry on storage: migrations, demo data, search, scoping, edits.

use cpaudit_core::registry::{EnterpriseDraft, SizeClass};
use cpaudit_storage::enterprises::{EnterpriseFilter, SortKey};
use cpaudit_storage::{Principal, StorageError};

use crate::support::{enterprise_in, reference, test_db, test_now};

#[test]
fn both_migration_folders_have_the_same_versions() {
    let (sqlite, postgres) = cpaudit_storage::migration_versions();
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must stay in lockstep"
    );
}

/// SQLite has one writer at a time: a write transaction that finds another open waits for its
/// turn (it does not fail, and it is not starved by writers that came later), and the waiting
/// ones go in the order they came. PostgreSQL lets the three run side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_transactions_take_turns_in_the_order_they_came() {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    let store = test_db().await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let first = store.db.begin().await.unwrap();
    let mut waiting = Vec::new();
    for name in ["second", "third"] {
        let (db, log) = (store.db.clone(), Arc::clone(&log));
        waiting.push(tokio::spawn(async move {
            let tx = db.begin().await.unwrap();
            log.lock().unwrap().push(name);
            tx.commit().await.unwrap();
        }));
        // Let it queue before the next one comes.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    log.lock().unwrap().push("first");
    first.commit().await.unwrap();
    for task in waiting {
        task.await.unwrap();
    }
    let expected = match store.db.backend() {
        cpaudit_storage::Backend::Sqlite => ["first", "second", "third"],
        cpaudit_storage::Backend::Postgres => ["second", "third", "first"],
    };
    assert_eq!(*log.lock().unwrap(), expected);
}

#[tokio::test]
async fn the_demo_set_covers_every_city_and_key_industry() {
    let store = test_db().await;
    let operator = Principal::console_operator("test");
    let counts = store
        .db
        .enterprise_counts_by_city(operator.scope())
        .await
        .unwrap();
    assert_eq!(counts.len(), 16, "all 16 city-level units have enterprises");
    let total: i64 = counts.iter().map(|c| c.enterprises).sum();
    assert!(total >= 300, "at least 300 enterprises, found {total}");
    for key in &reference().key_industries {
        let filter = EnterpriseFilter {
            key_industry: Some(key.id.clone()),
            ..Default::default()
        };
        let page = store
            .db
            .search_enterprises(operator.scope(), &filter)
            .await
            .unwrap();
        assert!(
            page.total > 0,
            "no demo enterprise in key industry {}",
            key.id
        );
    }
    let jurisdictions = store.db.list_jurisdictions().await.unwrap();
    assert_eq!(
        jurisdictions.iter().filter(|j| j.level == "city").count(),
        16
    );
    assert_eq!(
        jurisdictions
            .iter()
            .filter(|j| j.level == "province")
            .count(),
        1
    );
}

/// Every row the scope sees, through the paged search.
async fn all_rows(db: &cpaudit_storage::Db, filter: &EnterpriseFilter) -> Vec<(String, String)> {
    let operator = Principal::console_operator("test");
    let mut rows = Vec::new();
    let mut page = 1;
    loop {
        let filter = EnterpriseFilter {
            page,
            per_page: 200,
            sort: SortKey::CreditCode,
            ..filter.clone()
        };
        let found = db
            .search_enterprises(operator.scope(), &filter)
            .await
            .unwrap();
        let done = found.items.len() < 200;
        rows.extend(found.items.into_iter().map(|e| (e.name, e.credit_code)));
        if done {
            return rows;
        }
        page += 1;
    }
}

#[tokio::test]
async fn name_search_finds_exactly_what_a_substring_filter_finds() {
    let store = test_db().await;
    let everything = all_rows(&store.db, &EnterpriseFilter::default()).await;
    let sample_code = everything[7].1.clone();
    let lower_fragment = sample_code[8..14].to_lowercase();
    let queries = [
        "兰",
        "州",
        "化",
        "化工",
        "有限公司",
        "股份",
        "甘肃",
        "9162",
        &sample_code[4..10],
        &lower_fragment,
        "%",
        "_",
        "\\",
        "不存在的企业",
        " 兰州 ",
        "A",
    ];
    for query in queries {
        let expected: Vec<_> = everything
            .iter()
            .filter(|(name, code)| cpaudit_core::search::matches(name, code, query))
            .cloned()
            .collect();
        let plain: Vec<_> = everything
            .iter()
            .filter(|(name, code)| {
                let q = query.trim().to_lowercase();
                name.to_lowercase().contains(&q) || code.to_lowercase().contains(&q)
            })
            .cloned()
            .collect();
        assert_eq!(
            expected, plain,
            "the reference filter is a plain substring test ({query:?})"
        );
        let found = all_rows(
            &store.db,
            &EnterpriseFilter {
                q: Some(query.to_string()),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(found, expected, "search for {query:?}");
    }
    // One character must really find something, or the comparison above proves little.
    let one = all_rows(
        &store.db,
        &EnterpriseFilter {
            q: Some("兰".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(!one.is_empty());
}

#[tokio::test]
async fn filters_combine_and_pages_do_not_overlap() {
    let store = test_db().await;
    let operator = Principal::console_operator("test");
    let filter = EnterpriseFilter {
        city: Some("620100".into()),
        size: Some(cpaudit_core::registry::SizeClass::Small),
        per_page: 5,
        ..Default::default()
    };
    let first = store
        .db
        .search_enterprises(operator.scope(), &filter)
        .await
        .unwrap();
    let second = store
        .db
        .search_enterprises(
            operator.scope(),
            &EnterpriseFilter {
                page: 2,
                ..filter.clone()
            },
        )
        .await
        .unwrap();
    assert!(first
        .items
        .iter()
        .all(|e| e.jurisdiction_code == "620100" && e.size_class == SizeClass::Small));
    assert!(first
        .items
        .iter()
        .all(|a| second.items.iter().all(|b| a.id != b.id)));
    let names: Vec<_> = first.items.iter().map(|e| e.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        names, sorted,
        "sorted by name (code point order on both databases)"
    );
    assert_eq!(first.total, second.total);
}

fn draft(name: &str, credit_code: &str, city: &str) -> EnterpriseDraft {
    EnterpriseDraft {
        name: name.into(),
        credit_code: credit_code.into(),
        legal_representative: "张三".into(),
        address: "兰州市城关区测试路1号".into(),
        jurisdiction_code: city.into(),
        industry_code: reference().industries[0].code.clone(),
        size_class: "中".into(),
        key_emission_unit: false,
        permit_number: String::new(),
        status: String::new(),
    }
}

/// A valid credit code that the demo set does not use.
pub fn fresh_credit_code(serial: u32) -> String {
    let first17 = format!("91620100MA{serial:07}");
    let check = cpaudit_core::credit_code::check_char(&first17).unwrap();
    format!("{first17}{check}")
}

#[tokio::test]
async fn a_city_registers_only_in_its_own_jurisdiction() {
    let app = crate::support::TestApp::new().await;
    let db = app.db();
    let tianshui = db
        .login(
            "tianshui",
            crate::support::PASSWORD,
            test_now(),
            Default::default(),
        )
        .await
        .unwrap()
        .unwrap();
    let valid = draft("天水测试化工有限公司", &fresh_credit_code(1), "620100")
        .validate(&reference())
        .unwrap();
    let refused = db.create_enterprise(&tianshui, &valid, test_now()).await;
    assert!(
        matches!(
            refused,
            Err(StorageError::Refused {
                code: "outside_jurisdiction",
                ..
            })
        ),
        "{refused:?}"
    );

    let lanzhou_enterprise = enterprise_in(db, "620100").await;
    assert!(db
        .get_enterprise(tianshui.scope(), lanzhou_enterprise)
        .await
        .unwrap()
        .is_none());
    let own = draft("天水测试化工有限公司", &fresh_credit_code(1), "620500")
        .validate(&reference())
        .unwrap();
    let id = db
        .create_enterprise(&tianshui, &own, test_now())
        .await
        .unwrap();
    assert!(db
        .get_enterprise(tianshui.scope(), id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_duplicate_credit_code_is_refused_and_nothing_is_written() {
    let store = test_db().await;
    let operator = Principal::console_operator("test");
    let existing = store
        .db
        .search_enterprises(operator.scope(), &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let before = crate::support::enterprise_count(&store.db).await;
    let copy = draft("另一家公司", &existing.credit_code, "620100")
        .validate(&reference())
        .unwrap();
    let refused = store
        .db
        .create_enterprise(&operator, &copy, test_now())
        .await;
    assert!(
        matches!(
            refused,
            Err(StorageError::Duplicate {
                field: "credit_code",
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(crate::support::enterprise_count(&store.db).await, before);
    let verdict = store.db.verify_audit_log(None).await.unwrap();
    assert!(matches!(
        verdict,
        cpaudit_core::audit::ChainVerdict::Intact { .. }
    ));
}

#[tokio::test]
async fn a_stale_edit_is_refused_as_a_version_conflict() {
    let store = test_db().await;
    let operator = Principal::console_operator("test");
    let row = store
        .db
        .search_enterprises(operator.scope(), &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let mut changed = row.draft();
    changed.address = "新地址 1 号".into();
    let valid = changed.validate(&reference()).unwrap();
    store
        .db
        .update_enterprise(
            &operator,
            &crate::support::read::enterprise(&store.db, row.id).await,
            Some(row.version),
            &valid,
            test_now(),
        )
        .await
        .unwrap();
    let again = store
        .db
        .update_enterprise(
            &operator,
            &crate::support::read::enterprise(&store.db, row.id).await,
            Some(row.version),
            &valid,
            test_now(),
        )
        .await;
    assert!(
        matches!(again, Err(StorageError::VersionConflict { .. })),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_renamed_enterprise_is_found_by_its_new_name_only() {
    let store = test_db().await;
    let operator = Principal::console_operator("test");
    let row = store
        .db
        .search_enterprises(operator.scope(), &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let mut renamed = row.draft();
    renamed.name = "鑫淼测试冶炼有限公司".into();
    let valid = renamed.validate(&reference()).unwrap();
    store
        .db
        .update_enterprise(
            &operator,
            &crate::support::read::enterprise(&store.db, row.id).await,
            None,
            &valid,
            test_now(),
        )
        .await
        .unwrap();
    for query in ["鑫", "鑫淼", "淼测试冶"] {
        let found = all_rows(
            &store.db,
            &EnterpriseFilter {
                q: Some(query.into()),
                ..Default::default()
            },
        )
        .await;
        assert!(
            found.iter().any(|(name, _)| name == "鑫淼测试冶炼有限公司"),
            "{query}"
        );
    }
    let old_fragment: String = row.name.chars().take(2).collect();
    let found = all_rows(
        &store.db,
        &EnterpriseFilter {
            q: Some(row.name.clone()),
            ..Default::default()
        },
    )
    .await;
    assert!(
        found.is_empty(),
        "the old name {} is gone (fragment {old_fragment})",
        row.name
    );
}
