//! A review's scoring: the scoring form a review recorded when it was scheduled, the score
//! sheet a seated expert submits (replaceable until the decision) and what the sheets propose.
//!
//! The forms are the embedded `rules/gansu/scoring.toml` (core `scoring`, [`scoring_book`]); the
//! schedule transition stores the version in force on the meeting day, and the decide
//! transition records what [`proposal_of`] proposes.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use cpaudit_core::round::ReviewKind;
use cpaudit_core::scoring::{propose, Proposal, ScoreSheet, ScoringBook, ScoringForm};
use cpaudit_office::{ItemScore, PanelMember, ReviewOpinion};
use cpaudit_storage::reviews::{ReviewRow, ScoreSheetRow};
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::InScope;
use cpaudit_storage::{Principal, StorageError};

use crate::{App, Error, Result};

/// The scoring forms, read once.
pub fn scoring_book() -> &'static ScoringBook {
    static BOOK: OnceLock<ScoringBook> = OnceLock::new();
    BOOK.get_or_init(ScoringBook::embedded)
}

/// The scoring form a review recorded when it was scheduled. A form this build does not know
/// is stored data it cannot read, a failure of the system.
pub fn form_of(review: &ReviewRow) -> Result<&'static ScoringForm> {
    scoring_book().form(&review.scoring_form).ok_or_else(|| {
        tracing::error!(form = %review.scoring_form, "a review names an unknown scoring form");
        Error::Storage(StorageError::Corrupt {
            table: "reviews",
            row_id: review.id,
            column: "scoring_form",
            value: review.scoring_form.clone(),
        })
    })
}

/// The review and its round, if the caller's scope covers the round; else "not found".
pub async fn review_in_scope(
    app: &App,
    principal: &Principal,
    id: i64,
) -> Result<(InScope<ReviewRow>, InScope<RoundRow>)> {
    app.db()
        .get_review(principal.scope(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// The proposal from every sheet in, against `seated` accepted panel seats; `None` while no
/// sheet is in.
pub async fn proposal_of(
    app: &App,
    review: &InScope<ReviewRow>,
    seated: usize,
) -> Result<Option<Proposal>> {
    let sheets: Vec<ScoreSheet> = app
        .db()
        .all_sheets(review)
        .await?
        .iter()
        .map(ScoreSheetRow::sheet)
        .collect();
    Ok(propose(form_of(review)?, &sheets, seated).ok())
}

/// A score sheet as an expert fills it in.
#[derive(Debug, Clone, Default)]
pub struct SheetInput {
    /// Points per item id of the review's form.
    pub items: BTreeMap<String, f64>,
    /// Ids of the veto items the expert marks.
    pub vetoes: Vec<String>,
    pub opinion: String,
}

/// Submits (or, until the decision, replaces) the caller's score sheet. The sheet is checked
/// against the review's form first: the first fault is refused naming `items.<id>`, `vetoes`
/// or `opinion`; the store then refuses anyone without an accepted seat on the panel, and a
/// review already decided.
pub async fn submit(app: &App, principal: &Principal, id: i64, input: SheetInput) -> Result<()> {
    let (review, round) = review_in_scope(app, principal, id).await?;
    let sheet = ScoreSheet {
        items: input.items,
        vetoes: input.vetoes,
        opinion: input.opinion.trim().to_string(),
    };
    if let Err(faults) = form_of(&review)?.check_sheet(&sheet) {
        if let Some(first) = faults.into_iter().next() {
            return Err(Error::Invalid {
                code: first.code,
                message: first.message,
                field: Some(first.field),
            });
        }
    }
    Ok(app
        .db()
        .submit_score_sheet(principal, (&review, &round), &sheet, app.now())
        .await?)
}

// ---- the technical review opinion ------------------------------------------------------------

/// The organizing authority: the province's 生态环境厅 or a city's 生态环境局.
fn organizer_name(app: &App, code: &str) -> String {
    let reference = app.reference();
    match (reference.province(), reference.jurisdiction(code)) {
        (Some(province), _) if province.code == code => format!("{}生态环境厅", province.name_zh),
        (_, Some(city)) => format!("{}生态环境局", city.name_zh),
        _ => code.to_string(),
    }
}

/// The review as the opinion's title words it.
fn opinion_kind(kind: ReviewKind) -> &'static str {
    match kind {
        ReviewKind::Assessment => "评估",
        ReviewKind::Acceptance => "验收",
        ReviewKind::Combined => "评估验收",
    }
}

/// The technical review opinion of a decided review of the round.
pub async fn review_opinion(
    app: &App,
    round: &InScope<RoundRow>,
    review: &InScope<ReviewRow>,
) -> Result<ReviewOpinion> {
    let (Some(conclusion), Some(decided_on)) = (review.conclusion, review.decided_on) else {
        return Err(Error::NotFound);
    };
    let form = form_of(review)?;
    let panel = app.db().review_panel(review).await?;
    let proposal = proposal_of(app, review, panel.len()).await?;
    Ok(ReviewOpinion {
        organizer: organizer_name(app, &round.organizer_code),
        opinion_number: review.opinion_number.clone().unwrap_or_default(),
        enterprise: round.enterprise_name.clone(),
        credit_code: round.credit_code.clone(),
        round: format!("{}年度强制性清洁生产审核", round.list_year),
        review_kind: opinion_kind(review.kind).into(),
        meeting_on: review.meeting_on,
        place: review.place.clone(),
        panel: panel
            .iter()
            .map(|p| PanelMember {
                name: p.name.clone(),
                title: p.title.clone(),
            })
            .collect(),
        form: format!("{}（{}）", form.name_zh, form.version),
        items: proposal.as_ref().map_or_else(Vec::new, |p| {
            p.item_means
                .iter()
                .map(|item| ItemScore {
                    name: item.name_zh.clone(),
                    max: item.max,
                    mean: item.mean,
                })
                .collect()
        }),
        total: review
            .score
            .or(proposal.as_ref().map(|p| p.score))
            .unwrap_or(0.0),
        vetoes: proposal.as_ref().map_or_else(Vec::new, |p| {
            p.veto_tally
                .iter()
                .filter(|v| v.stands)
                .map(|v| v.text_zh.clone())
                .collect()
        }),
        conclusion: conclusion.label_zh().into(),
        reasons: review.reasons.clone().unwrap_or_default(),
        decided_on,
    })
}
