//! The 名单管理库's use cases: keeping a city's library in line with the determinations.

use std::collections::HashMap;

use cpaudit_core::determination::Outcome;
use cpaudit_storage::evidence::{categories_text, date_text, reasons_text};
use cpaudit_storage::lists::{LibraryAction, LibraryChange, LibraryVersion};
use cpaudit_storage::Principal;

use crate::{cycle, App, Result};

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
                    if v.reasons != reasons_text(&d.reasons)
                        || v.toxic_categories != categories_text(&d.toxic_categories)
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
