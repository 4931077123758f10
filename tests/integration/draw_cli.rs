//! `cpaudit draw verify`, run as the built binary on a draw record and its public copy: a record
//! as drawn matches (exit code 0), a changed one is a mismatch naming what changed (exit code 1),
//! and a file that is not a draw record is an error (exit code 2). It reads no database.

use std::path::Path;
use std::process::Output;

use chrono::NaiveDate;
use cpaudit_core::draw::{
    draw, public_copy, DrawInputs, DrawRecord, ExpertFacts, PanelRules, PoolEntry, RandomSource,
    ReviewKind, ReviewRef,
};
use cpaudit_core::experts::ExpertStatus;
use cpaudit_core::rules::RuleBook;

use crate::support::cpaudit_command;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A draw of five from twelve experts, three of whom have the enterprise's industry.
fn record() -> DrawRecord {
    let pool: Vec<PoolEntry> = (1..=12)
        .map(|n| PoolEntry {
            pool_number: n,
            expert_id: i64::from(n) + 500,
            specialties: vec![if n % 4 == 0 { "steel" } else { "chemical" }.to_string()],
            name: format!("姓名{n}"),
        })
        .collect();
    let experts = pool
        .iter()
        .map(|entry| ExpertFacts {
            expert_id: entry.expert_id,
            status: ExpertStatus::Admitted,
            employments: Vec::new(),
            declarations: Vec::new(),
            reviews: Vec::new(),
            absences: Vec::new(),
        })
        .collect();
    let inputs = DrawInputs {
        review: ReviewRef {
            round_id: 3,
            kind: ReviewKind::Assessment,
            enterprise_id: 88,
            enterprise_industry: "steel".to_string(),
            consultancy_id: None,
            organizer: "620000".to_string(),
            review_on: day("2025-04-15"),
        },
        rules: PanelRules::from_book(&RuleBook::embedded(), day("2025-04-01")).unwrap(),
        pool_frozen_at: "2025-04-01T09:30:00+08:00".parse().unwrap(),
        pool,
        experts,
        sources: vec![RandomSource {
            name: "双色球 2025036期 红球".to_string(),
            drawn_on: day("2025-04-02"),
            values: ["05", "09", "16", "21", "28", "31"]
                .map(String::from)
                .to_vec(),
        }],
    };
    draw(&inputs).unwrap()
}

fn verify_file(path: &Path) -> Output {
    cpaudit_command(
        "sqlite::memory:",
        &["draw", "verify", path.to_str().unwrap()],
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn draw_verify_says_match_or_mismatch_by_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let record = record();
    let path = dir.path().join("draw.json");
    std::fs::write(&path, serde_json::to_string_pretty(&record).unwrap()).unwrap();
    let output = verify_file(&path);
    let printed = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(printed.starts_with("MATCH"), "{printed}");
    let panel: Vec<String> = record.panel.iter().map(u32::to_string).collect();
    assert!(printed.contains(&panel.join(", ")), "{printed}");

    // The public copy, before the review, verifies on its own.
    let public = dir.path().join("public.json");
    let copy = serde_json::to_string_pretty(&public_copy(&record, false)).unwrap();
    assert!(!copy.contains("姓名"));
    std::fs::write(&public, copy).unwrap();
    assert_eq!(verify_file(&public).status.code(), Some(0));

    let mut changed = record.clone();
    changed.panel.swap(0, 1);
    std::fs::write(&path, serde_json::to_string(&changed).unwrap()).unwrap();
    let output = verify_file(&path);
    let printed = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{printed}");
    assert!(printed.starts_with("MISMATCH"), "{printed}");
    assert!(printed.contains("panel: the record says"), "{printed}");
    assert!(printed.contains("outcome hash"), "{printed}");
}

#[test]
fn draw_verify_refuses_a_file_that_is_not_a_draw_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.json");
    std::fs::write(&path, r#"{"round_id": 3, "panel": [1, 2, 3]}"#).unwrap();
    let output = verify_file(&path);
    let error = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{error}");
    assert!(error.contains("is not a draw record"), "{error}");

    std::fs::write(&path, "not json").unwrap();
    assert_eq!(verify_file(&path).status.code(), Some(2));
    let missing = dir.path().join("missing.json");
    assert_eq!(verify_file(&missing).status.code(), Some(2));
}
