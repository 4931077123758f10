//! The 名单管理库's use cases: keeping a city's library in line with the determinations, and an
//! official's change to one entry.

use std::collections::HashMap;

use chrono::Datelike;

use cpaudit_core::determination::Outcome;
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::lists::{LibraryAction, LibraryChange, LibraryVersion};
use cpaudit_storage::Principal;

use crate::input::{date_or, required_reason, Problems};
use crate::{cycle, App, Error, Result};

/// Adds to a city's library every enterprise the determination of `year` finds must-audit (or
/// deemed audited) and the library lacks, and records changed reasons or due years, as of
/// today. Returns the number of changes recorded.
pub async fn sync_library(
    app: &App,
    principal: &Principal,
    city: &str,
    year: i32,
) -> Result<usize> {
    let today = app.today();
    let current: HashMap<i64, LibraryVersion> = app
        .db()
        .library_as_of(principal.scope(), Some(city), today)
        .await?
        .into_iter()
        .map(|v| (v.enterprise_id, v))
        .collect();
    let determined = cycle::determine_scope(app, principal, Some(city), None, year, today).await?;
    let note = format!(
        "依据{}的确认证据和往轮审核记录同步（{year}年度判定）",
        date_text(today)
    );
    let changes: Vec<LibraryChange> = determined
        .into_iter()
        .filter(|item| item.determination.outcome != Outcome::NotRequired)
        .filter(|item| !item.determination.reasons.is_empty())
        .filter_map(|item| {
            let d = item.determination;
            let action = match current.get(&d.enterprise_id) {
                None => LibraryAction::Add,
                Some(v)
                    if v.reasons.0 != d.reasons
                        || v.toxic_categories.0 != d.toxic_categories
                        || v.due_year != d.due_year.map(i64::from) =>
                {
                    LibraryAction::Change
                }
                Some(_) => return None,
            };
            Some(LibraryChange {
                enterprise_id: d.enterprise_id,
                action,
                reasons: d.reasons,
                toxic_categories: d.toxic_categories,
                due_year: d.due_year,
                evidence_ids: d.evidence_ids,
                note: note.clone(),
                valid_from: today,
            })
        })
        .collect();
    Ok(app
        .db()
        .change_library(principal, &changes, app.now())
        .await?)
}

/// An official's change to one enterprise's library entry.
#[derive(Debug, Clone, Default)]
pub struct LibraryChangeInput {
    pub enterprise_id: i64,
    /// add | change | remove
    pub action: String,
    /// Comma-separated reason codes; empty keeps the determination's.
    pub reasons: Option<String>,
    /// YYYY-MM-DD; default today.
    pub valid_from: Option<String>,
    /// Why (required).
    pub note: String,
}

/// Records a library change as a new version (nothing is overwritten). An enterprise is
/// added only with a confirmed reason for a mandatory audit.
pub async fn change_library(
    app: &App,
    principal: &Principal,
    input: &LibraryChangeInput,
) -> Result<()> {
    let change = library_change(app, principal, input).await?;
    app.db()
        .change_library(principal, &[change], app.now())
        .await?;
    Ok(())
}

async fn library_change(
    app: &App,
    principal: &Principal,
    input: &LibraryChangeInput,
) -> Result<LibraryChange> {
    let action = LibraryAction::parse(input.action.trim()).ok_or_else(|| {
        Error::bad_field(
            "action",
            "invalid_action",
            "操作应为 add、change 或 remove",
            "action must be add, change or remove",
        )
    })?;
    let today = app.today();
    let mut problems = Problems::default();
    problems.check(required_reason("note", &input.note))?;
    let valid_from = problems.check(date_or("valid_from", input.valid_from.as_deref(), today))?;
    let valid_from = problems.finish(valid_from)?;
    let item = cycle::determine_one(
        app,
        principal,
        input.enterprise_id,
        valid_from.year(),
        today,
    )
    .await?;
    let d = item.determination;
    let reasons = match input
        .reasons
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(text) => cpaudit_core::evidence::parse_reasons(text).ok_or_else(|| {
            Error::bad_field(
                "reasons",
                "invalid_reasons",
                "原因应为 exceed_concentration、exceed_total_load、double_toxic",
                "reasons must be exceed_concentration, exceed_total_load or double_toxic",
            )
        })?,
        None => d.reasons.clone(),
    };
    if action == LibraryAction::Add && reasons.is_empty() {
        return Err(Error::bad_field(
            "reasons",
            "no_reason",
            "该企业没有经确认的强制性审核原因，不能纳入名单管理库",
            "the enterprise has no confirmed reason for a mandatory audit",
        ));
    }
    Ok(LibraryChange {
        enterprise_id: input.enterprise_id,
        action,
        reasons,
        toxic_categories: d.toxic_categories,
        due_year: d.due_year,
        evidence_ids: d.evidence_ids,
        note: input.note.trim().to_string(),
        valid_from,
    })
}
