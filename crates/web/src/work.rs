//! "What needs my action now": for each caller, the rounds where it has an action to take,
//! with the next deadline, the trade-secret claims a city must look at, and the overdue count.
//! Guards are not evaluated here (that needs every round's facts); the round page says what
//! is still missing.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use cpaudit_core::round::{RoundAction, RoundMachine};
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::rounds::{RoundFilter, RoundListRow};
use cpaudit_storage::{Principal, Role};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::i18n::Lang;
use crate::pages::{render, Ctx};
use crate::rounds::actors_for;
use crate::views::disclosures::PendingClaim;
use crate::views::enforcement::OverdueOrder;
use crate::AppState;

/// One thing to do on one round.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkItem {
    pub round_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_name_zh: String,
    pub state: String,
    pub state_label: String,
    /// The actions the caller may take now (their conditions are checked on the round page).
    pub actions: Vec<String>,
    pub action_labels: Vec<String>,
    /// The next open deadline of the round, and what it is for.
    pub next_due_on: Option<String>,
    pub next_due_label: String,
    pub overdue: bool,
}

/// The caller's work list.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkJson {
    pub items: Vec<WorkItem>,
    /// Trade-secret claims awaiting the city (officials only).
    pub secret_claims: Vec<PendingClaim>,
    /// Orders to correct whose date passed with no outcome recorded (officials only).
    pub orders_awaiting_outcome: Vec<OverdueOrder>,
    /// Rounds in scope with an overdue deadline.
    pub overdue_rounds: usize,
}

fn work_item(
    lang: Lang,
    today: NaiveDate,
    machine: &RoundMachine,
    principal: &Principal,
    row: &RoundListRow,
) -> Option<WorkItem> {
    let round = &row.round;
    let actions: Vec<RoundAction> = machine
        .available(round.state, round.track, &actors_for(principal, round))
        .into_iter()
        .filter(|action| *action != RoundAction::Cancel)
        .collect();
    let overdue = row.next_due_on.is_some_and(|due| due < today);
    if actions.is_empty() && !overdue {
        return None;
    }
    let kind = row.next_due_kind;
    Some(WorkItem {
        round_id: round.id,
        enterprise_name: round.enterprise_name.clone(),
        jurisdiction_name_zh: round.jurisdiction_name_zh.clone(),
        state: round.state.as_str().into(),
        state_label: lang
            .pick(round.state.label_zh(), round.state.label_en())
            .into(),
        action_labels: actions
            .iter()
            .map(|a| match lang {
                Lang::Zh => a.label_zh(),
                Lang::En => a.label_en(),
            })
            .collect(),
        actions: actions.iter().map(|a| a.as_str().to_string()).collect(),
        next_due_on: row.next_due_on.map(date_text),
        next_due_label: kind.map_or(String::new(), |k| {
            lang.pick(k.label_zh(), k.label_en()).into()
        }),
        overdue,
    })
}

async fn work(state: &AppState, principal: &Principal, lang: Lang) -> Result<WorkJson, AppError> {
    let today = state.today();
    let machine =
        RoundMachine::from_book(state.rules(), today).map_err(crate::cycle::rule_error)?;
    let rows = state
        .db()
        .list_rounds(
            principal.scope(),
            &RoundFilter {
                open_only: true,
                limit: 20_000,
                ..RoundFilter::default()
            },
        )
        .await?;
    let items: Vec<WorkItem> = rows
        .iter()
        .filter_map(|row| work_item(lang, today, &machine, principal, row))
        .collect();
    let overdue_rounds = items.iter().filter(|i| i.overdue).count();
    let official = matches!(principal.role, Role::Province | Role::City);
    let secret_claims = if official {
        let claims = state.db().pending_secret_claims(principal.scope()).await?;
        claims.into_iter().map(Into::into).collect()
    } else {
        Vec::new()
    };
    let orders_awaiting_outcome = if official {
        let orders = state
            .db()
            .orders_awaiting_outcome(principal.scope(), today)
            .await?;
        orders.into_iter().map(Into::into).collect()
    } else {
        Vec::new()
    };
    Ok(WorkJson {
        items,
        secret_claims,
        orders_awaiting_outcome,
        overdue_rounds,
    })
}

/// What needs the caller's action now, the most urgent first.
#[utoipa::path(get, path = "/api/v1/work", tag = "rounds",
    responses((status = 200, body = WorkJson)))]
pub async fn api_work(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WorkJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(work(&state, principal, caller.lang).await?))
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    ctx: Ctx,
    w: WorkJson,
}

pub async fn work_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let w = work(&state, principal, caller.lang).await?;
    Ok(render(&WorkPage {
        ctx: Ctx::new(&caller),
        w,
    }))
}
