//! Pages and API of the yearly cycle for officials and enterprises: an enterprise's
//! determination with its "why", the 名单管理库, the cities' plans and the province's review,
//! publication and corrections, and the written notifications with their delivery.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use chrono::{Datelike, NaiveDate};
use cpaudit_app::cycle::{self, Determined, Proposal};
use cpaudit_app::registry::enterprise_in_scope;
use cpaudit_core::determination::{Determination, Reason};
use cpaudit_core::listing::{
    chinese_date, clocks_from_publication, notification_letter, submission_deadline, ClockKind,
    LetterFacts, NotificationLetter, PlanStatus,
};
use cpaudit_core::planning::Placement;
use cpaudit_core::rules::RuleRef;
use cpaudit_office::docx::{write_docx, DocumentTable, OfficialDocument};
use cpaudit_office::{SheetSpec, TableFormat};
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::evidence::{date_text, reasons_text};
use cpaudit_storage::lists::{
    ClockRow, LetterRow, LibraryAction, ListEntryFilter, PlanRow, PublishedEntry, PublishedList,
};
use cpaudit_storage::{Principal, Reasons, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::action::{Done, Input};
use crate::auth::Caller;
use crate::error::{ApiError, AppError};
use crate::i18n::Lang;
use crate::pages::{beijing_time, city_name, render, Ctx};
use crate::views::lists as views;
use crate::AppState;

// ---- shared helpers ----------------------------------------------------------------------------

/// Reasons as the pages show them: "双超-超标、双有（第1、3类）".
pub fn reasons_label(lang: Lang, reasons: &BTreeSet<Reason>, categories: &BTreeSet<u8>) -> String {
    let parts: Vec<String> = reasons
        .iter()
        .map(|reason| {
            let label = lang.pick(reason.label_zh(), reason.label_en()).to_string();
            if *reason == Reason::DoubleToxic && !categories.is_empty() {
                let list: Vec<String> = categories.iter().map(u8::to_string).collect();
                match lang {
                    Lang::Zh => format!("{label}（第{}类）", list.join("、")),
                    Lang::En => format!("{label} (category {})", list.join(", ")),
                }
            } else {
                label
            }
        })
        .collect();
    parts.join(lang.texts().text_4)
}

/// A rule as a page shows it: id, value, citations with documents, and whether unverified.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleView {
    pub id: String,
    pub value: String,
    pub citations: Vec<String>,
    pub unverified: bool,
    /// The value is the rule file's own text (a choice or a list of ids), which a page shows
    /// as a code.
    #[serde(skip)]
    pub value_is_code: bool,
}

fn rule_view(state: &AppState, lang: Lang, rule: &RuleRef) -> RuleView {
    let value_is_code = state
        .rules()
        .at(&rule.id, rule.effective_from)
        .is_ok_and(|in_force| {
            matches!(
                in_force.period.value,
                cpaudit_core::rules::RuleValue::Text(_) | cpaudit_core::rules::RuleValue::List(_)
            )
        });
    // The recorded value is English ("5 years"); Chinese pages show it with the unit words
    // legal texts use, read from the same value period of the rule book.
    let value = match lang {
        Lang::En => rule.value.clone(),
        Lang::Zh => state
            .rules()
            .at(&rule.id, rule.effective_from)
            .map(|in_force| {
                crate::public::value_text_zh(&in_force.period.value, in_force.parameter.unit)
            })
            .unwrap_or_else(|_| rule.value.clone()),
    };
    RuleView {
        id: rule.id.clone(),
        value,
        citations: rule
            .citations
            .iter()
            .map(|citation| {
                let title = state
                    .rules()
                    .document(&citation.document)
                    .map_or(citation.document.clone(), |d| d.title.clone());
                let mark = if citation.confidence.needs_verification() {
                    lang.texts().unverified_2
                } else {
                    ""
                };
                format!("{title} {}{mark}", citation.article)
            })
            .collect(),
        unverified: rule.needs_verification(),
        value_is_code,
    }
}

fn year_param(year: Option<i32>, state: &AppState) -> Result<i32, AppError> {
    Ok(cpaudit_app::input::list_year(
        year.unwrap_or_else(|| state.today().year()),
    )?)
}

fn date_param(field: &str, text: Option<&str>, default: NaiveDate) -> Result<NaiveDate, AppError> {
    Ok(cpaudit_app::input::date_or(field, text, default)?)
}

fn city_of(principal: &Principal) -> Option<&str> {
    match principal.scope().kind() {
        ScopeKind::City(code) => Some(code),
        _ => None,
    }
}

// ---- determination ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct DeterminationQuery {
    /// List year (default: this year in China Standard Time).
    pub year: Option<i32>,
    /// The day the determination is taken as of (default today): evidence confirmed later
    /// does not count.
    pub as_of: Option<String>,
}

/// An enterprise's determination with its explanation and rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeterminationJson {
    #[schema(value_type = Object)]
    pub determination: Determination,
    pub outcome_label: String,
    pub reasons_label: String,
    pub rules: Vec<RuleView>,
}

async fn one_determination(
    state: &AppState,
    principal: &Principal,
    id: i64,
    year: i32,
    as_of: NaiveDate,
) -> Result<Determined, AppError> {
    Ok(cycle::determine_one(state.app(), principal, id, year, as_of).await?)
}

fn determination_json(state: &AppState, lang: Lang, item: Determined) -> DeterminationJson {
    let d = item.determination;
    DeterminationJson {
        outcome_label: lang
            .pick(d.outcome.label_zh(), d.outcome.label_en())
            .to_string(),
        reasons_label: reasons_label(lang, &d.reasons, &d.toxic_categories),
        rules: d
            .rules
            .iter()
            .map(|rule| rule_view(state, lang, rule))
            .collect(),
        determination: d,
    }
}

/// Why an enterprise must (or need not) audit in a year, with evidence and rule citations.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/determination", tag = "lists",
    params(("id" = i64, Path), DeterminationQuery),
    responses((status = 200, body = DeterminationJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_determination(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<DeterminationQuery>,
) -> Result<Json<DeterminationJson>, ApiError> {
    let principal = caller.principal()?;
    let year = year_param(query.year, &state)?;
    let as_of = date_param("as_of", query.as_of.as_deref(), state.today())?;
    let item = one_determination(&state, principal, id, year, as_of).await?;
    Ok(Json(determination_json(&state, caller.lang, item)))
}

#[derive(Template)]
#[template(path = "determination.html")]
struct DeterminationPage {
    ctx: Ctx,
    enterprise_id: i64,
    name: String,
    year: i32,
    as_of: String,
    outcome_label: String,
    reasons: String,
    due_year: Option<i32>,
    overdue: bool,
    list_this_year: bool,
    lines: Vec<String>,
    rules: Vec<RuleView>,
    library: Vec<LibraryView>,
    listings: Vec<ListingView>,
    may_change_library: bool,
    in_library: bool,
    suggested_reasons: String,
}

struct LibraryView {
    action: String,
    reasons: String,
    due_year: String,
    note: String,
    valid_from: String,
    recorded_at: String,
    recorded_by: String,
}

struct ListingView {
    list_id: i64,
    list_title: String,
    reasons: String,
    clocks: Vec<ClockView>,
    letter: Option<LetterRow>,
}

struct ClockView {
    label: String,
    nominal: String,
    effective: String,
    shifted: bool,
    trace: String,
    /// The rule the deadline follows (its id, linked and shown as a code).
    rule: String,
    citation: String,
    unverified: bool,
    uncovered: String,
}

fn clock_view(state: &AppState, lang: Lang, row: &ClockRow) -> ClockView {
    let view = rule_view(state, lang, &row.rule);
    ClockView {
        label: lang.pick(row.kind.label_zh(), row.kind.label_en()).into(),
        nominal: row.nominal_on.to_string(),
        effective: row.effective_on.to_string(),
        shifted: row.nominal_on != row.effective_on,
        trace: lang.pick(&row.trace_zh, &row.trace_en).to_string(),
        rule: view.id.clone(),
        citation: view.citations.join(lang.texts().text_3),
        unverified: view.unverified,
        uncovered: row.uncovered_years.clone(),
    }
}

pub async fn determination_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<DeterminationQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let year = year_param(query.year, &state)?;
    let as_of = date_param("as_of", query.as_of.as_deref(), state.today())?;
    let item = one_determination(&state, principal, id, year, as_of).await?;
    let enterprise = enterprise_in_scope(state.app(), principal.scope(), id).await?;
    let history = state
        .db()
        .library_history(principal.scope(), &enterprise)
        .await?;
    let listings = listing_views(&state, principal.scope(), lang, id).await?;
    let d = &item.determination;
    let may_change_library = principal
        .scope()
        .may_manage_city(&item.record.jurisdiction_code);
    Ok(render(&DeterminationPage {
        ctx: Ctx::new(&caller),
        enterprise_id: id,
        name: item.record.facts.name.clone(),
        year,
        as_of: date_text(as_of),
        outcome_label: lang.pick(d.outcome.label_zh(), d.outcome.label_en()).into(),
        reasons: reasons_label(lang, &d.reasons, &d.toxic_categories),
        due_year: d.due_year,
        overdue: d.overdue,
        list_this_year: d.list_this_year,
        lines: d
            .explanation
            .iter()
            .map(|line| lang.pick(&line.zh, &line.en).to_string())
            .collect(),
        rules: d
            .rules
            .iter()
            .map(|rule| rule_view(&state, lang, rule))
            .collect(),
        in_library: history
            .last()
            .is_some_and(|v| v.action != LibraryAction::Remove),
        library: history
            .iter()
            .map(|v| LibraryView {
                action: library_action_label(lang, v.action),
                reasons: reasons_label(lang, &v.reasons.0, &v.toxic_categories.0),
                due_year: v.due_year.map_or("—".into(), |y| y.to_string()),
                note: v.note.clone(),
                valid_from: v.valid_from.to_string(),
                recorded_at: beijing_time(&v.recorded_at),
                recorded_by: v.recorded_by.clone(),
            })
            .collect(),
        listings,
        may_change_library,
        suggested_reasons: reasons_text(&d.reasons),
    }))
}

fn library_action_label(lang: Lang, action: LibraryAction) -> String {
    match action {
        LibraryAction::Add => lang.texts().added,
        LibraryAction::Change => lang.texts().changed,
        LibraryAction::Remove => lang.texts().removed,
    }
    .to_string()
}

async fn listing_views(
    state: &AppState,
    scope: &Scope,
    lang: Lang,
    id: i64,
) -> Result<Vec<ListingView>, AppError> {
    let mut views = Vec::new();
    let enterprise = enterprise_in_scope(state.app(), scope, id).await?;
    for (entry, clocks) in state.db().listings_of(&enterprise).await? {
        let list = state.db().published_list(entry.list_id).await?;
        let letter = state
            .db()
            .letters(scope, entry.list_id)
            .await?
            .into_iter()
            .find(|l| l.enterprise_id == id);
        views.push(ListingView {
            list_id: entry.list_id,
            list_title: list.map_or_else(String::new, |l| l.title),
            reasons: reasons_label(lang, &entry.reasons.0, &entry.toxic_categories.0),
            clocks: clocks.iter().map(|c| clock_view(state, lang, c)).collect(),
            letter,
        });
    }
    Ok(views)
}

// ---- 名单管理库 -------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct LibraryQuery {
    /// The library as it stood at the end of this day (default today).
    pub as_of: Option<String>,
    pub city: Option<String>,
}

/// The library as it stood on a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct LibraryJson {
    pub as_of: String,
    pub entries: Vec<views::LibraryVersion>,
}

/// The 名单管理库 as it stood at the end of a day (China Standard Time).
#[utoipa::path(get, path = "/api/v1/library", tag = "lists", params(LibraryQuery),
    responses((status = 200, body = LibraryJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_library(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<LibraryQuery>,
) -> Result<Json<LibraryJson>, ApiError> {
    let principal = caller.principal()?;
    let as_of = date_param("as_of", query.as_of.as_deref(), state.today())?;
    let entries = state
        .db()
        .library_as_of(principal.scope(), query.city.as_deref(), as_of)
        .await?;
    Ok(Json(LibraryJson {
        as_of: date_text(as_of),
        entries: entries.into_iter().map(Into::into).collect(),
    }))
}

/// A change to the library: add, change or remove one enterprise, with a reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryChangeJson {
    pub enterprise_id: i64,
    /// add | change | remove
    pub action: String,
    /// Reasons, e.g. "exceed_concentration,double_toxic" (default: from the determination).
    pub reasons: Option<String>,
    /// The day the change takes effect (default today).
    pub valid_from: Option<String>,
    /// Why (required).
    pub note: String,
}

impl From<LibraryChangeJson> for cpaudit_app::listing::LibraryChangeInput {
    fn from(input: LibraryChangeJson) -> Self {
        cpaudit_app::listing::LibraryChangeInput {
            enterprise_id: input.enterprise_id,
            action: input.action,
            reasons: input.reasons,
            valid_from: input.valid_from,
            note: input.note,
        }
    }
}

/// Records a library change (a new version; nothing is overwritten).
///
/// On the enterprise's determination page, the official goes back there.
#[utoipa::path(post, path = "/api/v1/library", tag = "lists", request_body = LibraryChangeJson,
    responses((status = 201, body = LibraryJson), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn library_change(
    State(state): State<AppState>,
    caller: Caller,
    Input(input): Input<LibraryChangeJson>,
) -> Result<Done<LibraryJson>, AppError> {
    let principal = caller.principal()?;
    let enterprise_id = input.enterprise_id;
    cpaudit_app::listing::change_library(state.app(), principal, &input.into()).await?;
    let enterprise = enterprise_in_scope(state.app(), principal.scope(), enterprise_id).await?;
    let entries = state
        .db()
        .library_history(principal.scope(), &enterprise)
        .await?;
    let library = LibraryJson {
        as_of: date_text(state.today()),
        entries: entries.into_iter().map(Into::into).collect(),
    };
    let page = format!("/enterprises/{enterprise_id}/determination");
    Ok(Done::with(library, page).created())
}

#[derive(Template)]
#[template(path = "library.html")]
struct LibraryPage {
    ctx: Ctx,
    as_of: String,
    city: String,
    cities: Vec<(String, String)>,
    rows: Vec<LibraryRowView>,
    may_sync: bool,
    year: i32,
}

struct LibraryRowView {
    enterprise_id: i64,
    name: String,
    credit_code: String,
    city: String,
    reasons: String,
    due_year: String,
    valid_from: String,
    note: String,
}

pub async fn library_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<LibraryQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let as_of = date_param("as_of", query.as_of.as_deref(), state.today())?;
    let city = query.city.filter(|c| !c.is_empty());
    let entries = state
        .db()
        .library_as_of(principal.scope(), city.as_deref(), as_of)
        .await?;
    let rows = entries
        .into_iter()
        .map(|v| LibraryRowView {
            enterprise_id: v.enterprise_id,
            city: city_name(&state, lang, &v.jurisdiction_code),
            reasons: reasons_label(lang, &v.reasons.0, &v.toxic_categories.0),
            due_year: v.due_year.map_or("—".into(), |y| y.to_string()),
            name: v.enterprise_name,
            credit_code: v.credit_code,
            valid_from: v.valid_from.to_string(),
            note: v.note,
        })
        .collect();
    Ok(render(&LibraryPage {
        ctx: Ctx::new(&caller),
        as_of: date_text(as_of),
        city: city.unwrap_or_default(),
        cities: city_options(&state, lang),
        rows,
        may_sync: city_of(principal).is_some(),
        year: state.today().year(),
    }))
}

fn city_options(state: &AppState, lang: Lang) -> Vec<(String, String)> {
    state
        .reference()
        .cities()
        .map(|c| {
            (
                c.code.clone(),
                lang.pick(&c.name_zh, &c.name_en).to_string(),
            )
        })
        .collect()
}

/// The library as of a day, as .xlsx.
pub async fn library_export(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<LibraryQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let as_of = date_param("as_of", query.as_of.as_deref(), state.today())?;
    let entries = state
        .db()
        .library_as_of(principal.scope(), query.city.as_deref(), as_of)
        .await?;
    let headers: Vec<String> = [
        ("统一社会信用代码", "credit_code"),
        ("企业名称", "name"),
        ("市州", "city"),
        ("审核原因", "reasons"),
        ("应审核年份", "due_year"),
        ("生效日期", "valid_from"),
        ("记录时间", "recorded_at"),
        ("说明", "note"),
    ]
    .iter()
    .map(|(zh, en)| lang.pick(zh, en).to_string())
    .collect();
    let rows: Vec<Vec<String>> = entries
        .into_iter()
        .map(|v| {
            vec![
                v.credit_code,
                v.enterprise_name,
                city_name(&state, lang, &v.jurisdiction_code),
                reasons_label(lang, &v.reasons.0, &v.toxic_categories.0),
                v.due_year.map_or(String::new(), |y| y.to_string()),
                v.valid_from.to_string(),
                beijing_time(&v.recorded_at),
                v.note,
            ]
        })
        .collect();
    let name = format!("library-{}.xlsx", date_text(as_of));
    table_download(&name, lang.texts().library, headers, rows)
}

/// An .xlsx download of one sheet of text cells.
pub(crate) fn table_download(
    file_name: &str,
    sheet: &str,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
) -> Result<Response, AppError> {
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let cells: Vec<Vec<cpaudit_office::Cell>> = rows
        .into_iter()
        .map(|row| row.into_iter().map(cpaudit_office::Cell::Text).collect())
        .collect();
    let bytes = cpaudit_office::write_xlsx(
        &SheetSpec {
            name: sheet,
            headers: &header_refs,
            column_widths: None,
        },
        &cells,
    )
    .map_err(|error| {
        tracing::error!(%error, "xlsx export");
        AppError::Internal
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                TableFormat::Xlsx.content_type().to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct SyncForm {
    pub year: i32,
}

/// Adds every enterprise the determination finds must-audit (or deemed audited) and the library
/// lacks, and records changed reasons or due years, as of today. City officials only.
pub async fn library_sync(
    State(state): State<AppState>,
    caller: Caller,
    Input(form): Input<SyncForm>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let Some(city) = city_of(principal) else {
        return Err(AppError::Forbidden(cpaudit_core::registry::Message::new(
            "名单管理库由市州维护",
            "the library is kept by the cities",
        )));
    };
    let year = year_param(Some(form.year), &state)?;
    cpaudit_app::listing::sync_library(state.app(), principal, city, year).await?;
    Ok(Redirect::to("/library").into_response())
}

// ---- plans -----------------------------------------------------------------------------------

/// The proposal and the stored plan of a city's list year.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanJson {
    pub city: String,
    pub year: i32,
    /// The submission deadline (rule calendar.city_list_submission).
    pub deadline: NaiveDate,
    pub plan: Option<views::Plan>,
    pub entries: Vec<views::PlanEntry>,
    /// Per-year counts of the proposal over the planning window.
    pub counts: BTreeMap<i32, usize>,
    pub proposal: Vec<ProposedEntry>,
}

/// One enterprise of the proposal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposedEntry {
    pub enterprise_id: i64,
    pub name: String,
    pub year: Option<i32>,
    #[schema(value_type = String)]
    pub placement: Placement,
    /// Reason codes, comma-separated.
    #[schema(value_type = String)]
    pub reasons: Reasons,
    pub due_year: Option<i32>,
    pub earliest: i32,
    pub latest: i32,
    pub move_reason: Option<String>,
}

async fn plan_json(
    state: &AppState,
    principal: &Principal,
    city: &str,
    year: i32,
) -> Result<(PlanJson, Proposal), AppError> {
    cpaudit_app::plans::check_city_access(principal, city)?;
    let proposal = cycle::propose_city(state.app(), principal, city, year).await?;
    let stored = state.db().get_plan(principal.scope(), city, year).await?;
    let (deadline, _) =
        submission_deadline(state.rules(), year).map_err(crate::cycle::rule_error)?;
    let mut proposed: Vec<ProposedEntry> = proposal
        .plan
        .assignments
        .iter()
        .map(|a| {
            let item = &proposal.determined[&a.enterprise_id];
            ProposedEntry {
                enterprise_id: a.enterprise_id,
                name: item.record.facts.name.clone(),
                year: a.year,
                placement: a.placement,
                reasons: Reasons(item.determination.reasons.clone()),
                due_year: item.determination.due_year,
                earliest: a.earliest,
                latest: a.latest,
                move_reason: proposal
                    .moves
                    .get(&a.enterprise_id)
                    .map(|m| m.reason.clone()),
            }
        })
        .collect();
    proposed.sort_by_key(|e| (e.year.unwrap_or(i32::MAX), e.name.clone()));
    let (plan, entries) = match stored {
        Some((plan, entries)) => (
            Some(plan.into()),
            entries.into_iter().map(Into::into).collect(),
        ),
        None => (None, Vec::new()),
    };
    Ok((
        PlanJson {
            city: city.to_string(),
            year,
            deadline,
            plan,
            entries,
            counts: proposal.plan.counts.clone(),
            proposal: proposed,
        },
        proposal,
    ))
}

/// A city's proposal for a list year (load-levelled over the window) and its stored plan.
#[utoipa::path(get, path = "/api/v1/plans/{city}/{year}", tag = "lists",
    params(("city" = String, Path), ("year" = i32, Path)),
    responses((status = 200, body = PlanJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path((city, year)): Path<(String, i32)>,
) -> Result<Json<PlanJson>, ApiError> {
    let principal = caller.principal()?;
    let year = year_param(Some(year), &state)?;
    Ok(Json(plan_json(&state, principal, &city, year).await?.0))
}

/// The plan's text: what the city submits with the list.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanDraftJson {
    /// The implementation plan (实施计划).
    pub plan_text: String,
    /// The schedule (进度安排).
    #[serde(default)]
    pub schedule_text: String,
}

async fn save_draft(
    state: &AppState,
    principal: &Principal,
    city: &str,
    year: i32,
    draft: &PlanDraftJson,
) -> Result<i64, AppError> {
    let draft = cpaudit_app::plans::DraftInput {
        plan_text: draft.plan_text.clone(),
        schedule_text: draft.schedule_text.clone(),
    };
    Ok(cpaudit_app::plans::save_draft(state.app(), principal, city, year, &draft).await?)
}

/// Saves the city's draft: its text and the enterprises of the year from the proposal.
#[utoipa::path(post, path = "/api/v1/plans/{city}/{year}", tag = "lists",
    params(("city" = String, Path), ("year" = i32, Path)), request_body = PlanDraftJson,
    responses((status = 200, body = PlanJson), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn plan_save(
    State(state): State<AppState>,
    caller: Caller,
    Path((city, year)): Path<(String, i32)>,
    Input(draft): Input<PlanDraftJson>,
) -> Result<Done<PlanJson>, AppError> {
    let principal = caller.principal()?;
    let year = year_param(Some(year), &state)?;
    save_draft(&state, principal, &city, year, &draft).await?;
    let (plan, _) = plan_json(&state, principal, &city, year).await?;
    Ok(Done::with(plan, format!("/plans/{city}/{year}")))
}

/// An official's move of an enterprise to another year of the window, with a reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveJson {
    pub enterprise_id: i64,
    pub to_year: i32,
    /// Required; checked with a message naming the field.
    #[serde(default)]
    pub reason: String,
}

async fn move_enterprise(
    state: &AppState,
    principal: &Principal,
    city: &str,
    year: i32,
    input: &MoveJson,
) -> Result<(), AppError> {
    let input = cpaudit_app::plans::MoveInput {
        enterprise_id: input.enterprise_id,
        to_year: input.to_year,
        reason: input.reason.clone(),
    };
    Ok(cpaudit_app::plans::move_enterprise(state.app(), principal, city, year, &input).await?)
}

/// Moves an enterprise between years; never past its due year, 双超 never off the first year.
#[utoipa::path(post, path = "/api/v1/plans/{city}/{year}/moves", tag = "lists",
    params(("city" = String, Path), ("year" = i32, Path)), request_body = MoveJson,
    responses((status = 200, body = PlanJson), (status = 400, body = crate::error::ErrorBody)))]
pub async fn plan_move(
    State(state): State<AppState>,
    caller: Caller,
    Path((city, year)): Path<(String, i32)>,
    Input(input): Input<MoveJson>,
) -> Result<Done<PlanJson>, AppError> {
    let principal = caller.principal()?;
    let year = year_param(Some(year), &state)?;
    move_enterprise(&state, principal, &city, year, &input).await?;
    let (plan, _) = plan_json(&state, principal, &city, year).await?;
    Ok(Done::with(plan, format!("/plans/{city}/{year}")))
}

/// Submit (city), return / amend / approve (province).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanActionJson {
    /// submit | return | amend | approve
    pub action: String,
    /// Required for return and amend.
    #[serde(default)]
    pub reason: String,
    /// amend: enterprise ids the province takes off the plan.
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    pub remove: EnterpriseIds,
}

async fn act_on_plan(
    state: &AppState,
    principal: &Principal,
    city: &str,
    year: i32,
    input: PlanActionJson,
) -> Result<PlanRow, AppError> {
    let input = cpaudit_app::plans::PlanActionInput {
        action: input.action,
        reason: input.reason,
        remove: input.remove.ids("remove")?,
    };
    Ok(cpaudit_app::plans::act_on_plan(state.app(), principal, city, year, &input).await?)
}

/// Moves the plan through its life cycle (submission is flagged late after the deadline).
#[utoipa::path(post, path = "/api/v1/plans/{city}/{year}/actions", tag = "lists",
    params(("city" = String, Path), ("year" = i32, Path)), request_body = PlanActionJson,
    responses((status = 200, body = views::Plan), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn plan_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((city, year)): Path<(String, i32)>,
    Input(input): Input<PlanActionJson>,
) -> Result<Done<views::Plan>, AppError> {
    let principal = caller.principal()?;
    let year = year_param(Some(year), &state)?;
    let plan = act_on_plan(&state, principal, &city, year, input).await?;
    Ok(Done::with(
        views::Plan::from(plan),
        format!("/plans/{city}/{year}"),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    pub year: Option<i32>,
}

#[derive(Template)]
#[template(path = "plans.html")]
struct PlansPage {
    ctx: Ctx,
    year: i32,
    deadline: String,
    rows: Vec<PlanOverview>,
}

struct PlanOverview {
    city_code: String,
    city: String,
    status: String,
    submitted_at: String,
    late: bool,
}

pub async fn plans_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<YearQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let year = year_param(Some(query.year.unwrap_or(state.today().year() + 1)), &state)?;
    let (deadline, _) =
        submission_deadline(state.rules(), year).map_err(crate::cycle::rule_error)?;
    let plans: HashMap<String, PlanRow> = state
        .db()
        .list_plans(principal.scope(), year)
        .await?
        .into_iter()
        .map(|p| (p.jurisdiction_code.clone(), p))
        .collect();
    let rows = state
        .reference()
        .cities()
        .filter(|c| principal.scope().may_manage_city(&c.code))
        .map(|c| {
            let plan = plans.get(&c.code);
            PlanOverview {
                city_code: c.code.clone(),
                city: lang.pick(&c.name_zh, &c.name_en).to_string(),
                status: plan
                    .map(|p| p.status)
                    .map_or(lang.texts().not_started.to_string(), |s| {
                        lang.pick(s.label_zh(), s.label_en()).to_string()
                    }),
                submitted_at: plan
                    .and_then(|p| p.submitted_at.clone())
                    .unwrap_or_default(),
                late: plan.is_some_and(|p| p.submitted_late)
                    || (plan.is_none_or(|p| p.submitted_at.is_none()) && state.today() > deadline),
            }
        })
        .collect();
    Ok(render(&PlansPage {
        ctx: Ctx::new(&caller),
        year,
        deadline: date_text(deadline),
        rows,
    }))
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    ctx: Ctx,
    city: String,
    city_name: String,
    year: i32,
    deadline: String,
    status: String,
    status_label: String,
    late: bool,
    review_comment: String,
    plan_text: String,
    schedule_text: String,
    counts: Vec<(i32, usize)>,
    proposal: Vec<ProposalRow>,
    entries: Vec<PlanEntryRow>,
    is_city: bool,
    is_province: bool,
    city_may_edit: bool,
    years: Vec<i32>,
}

struct ProposalRow {
    enterprise_id: i64,
    name: String,
    year: String,
    placement: String,
    reasons: String,
    due_year: String,
    earliest: i32,
    latest: i32,
    move_reason: String,
}

struct PlanEntryRow {
    enterprise_id: i64,
    name: String,
    reasons: String,
    due_year: String,
    placement: String,
    note: String,
}

fn placement_label(lang: Lang, placement: Placement) -> String {
    lang.pick(placement.label_zh(), placement.label_en())
        .to_string()
}

pub async fn plan_page(
    State(state): State<AppState>,
    caller: Caller,
    Path((city, year)): Path<(String, i32)>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let year = year_param(Some(year), &state)?;
    let (json, proposal) = plan_json(&state, principal, &city, year).await?;
    let status = json.plan.as_ref().map(|p| p.status);
    Ok(render(&PlanPage {
        ctx: Ctx::new(&caller),
        city_name: city_name(&state, lang, &city),
        year,
        deadline: date_text(json.deadline),
        status: status.map_or("none".into(), |s| s.as_str().to_string()),
        status_label: status.map_or(lang.texts().not_started.to_string(), |s| {
            lang.pick(s.label_zh(), s.label_en()).to_string()
        }),
        late: json.plan.as_ref().is_some_and(|p| p.submitted_late),
        review_comment: json
            .plan
            .as_ref()
            .map(|p| p.review_comment.clone())
            .unwrap_or_default(),
        plan_text: json
            .plan
            .as_ref()
            .map(|p| p.plan_text.clone())
            .unwrap_or_default(),
        schedule_text: json
            .plan
            .as_ref()
            .map(|p| p.schedule_text.clone())
            .unwrap_or_default(),
        counts: json.counts.iter().map(|(y, c)| (*y, *c)).collect(),
        proposal: json
            .proposal
            .iter()
            .map(|p| ProposalRow {
                enterprise_id: p.enterprise_id,
                name: p.name.clone(),
                year: p.year.map_or("—".into(), |y| y.to_string()),
                placement: placement_label(lang, p.placement),
                reasons: reasons_label(lang, &p.reasons.0, &BTreeSet::new()),
                due_year: p.due_year.map_or("—".into(), |y| y.to_string()),
                earliest: p.earliest,
                latest: p.latest,
                move_reason: p.move_reason.clone().unwrap_or_default(),
            })
            .collect(),
        entries: json
            .entries
            .iter()
            .map(|e| PlanEntryRow {
                enterprise_id: e.enterprise_id,
                name: e.enterprise_name.clone(),
                reasons: reasons_label(lang, &e.reasons.0, &e.toxic_categories.0),
                due_year: e.due_year.map_or("—".into(), |y| y.to_string()),
                placement: placement_label(lang, e.placement),
                note: e.note.clone(),
            })
            .collect(),
        is_city: city_of(principal) == Some(city.as_str()),
        is_province: matches!(principal.scope().kind(), ScopeKind::Province),
        city_may_edit: status.is_none_or(PlanStatus::city_may_edit),
        years: (year..=proposal.settings.last_year()).collect(),
        city,
    }))
}

// ---- publication -----------------------------------------------------------------------------

/// A list to publish: the main batch from the approved plans, or a supplementary batch of
/// 双超 enterprises found during the year.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PublishJson {
    pub year: i32,
    pub title: String,
    pub document_number: String,
    /// The publication date; the clocks start the day after (民法典 Art. 201). Default today.
    pub published_on: Option<String>,
    /// Supplementary batch: the enterprises to add (each must be 双超 this year and not yet
    /// listed this year).
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    pub supplementary: EnterpriseIds,
}

async fn publish(
    state: &AppState,
    principal: &Principal,
    input: PublishJson,
) -> Result<i64, AppError> {
    let input = cpaudit_app::lists::PublishInput {
        year: input.year,
        title: input.title,
        document_number: input.document_number,
        published_on: input.published_on,
        supplementary: input.supplementary.ids("supplementary")?,
    };
    Ok(cpaudit_app::lists::publish(state.app(), principal, &input).await?)
}

/// Publishes a list (province). Publication starts each listed enterprise's clocks.
#[utoipa::path(post, path = "/api/v1/lists", tag = "lists", request_body = PublishJson,
    responses((status = 201, body = views::PublishedList), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn publish_list(
    State(state): State<AppState>,
    caller: Caller,
    Input(input): Input<PublishJson>,
) -> Result<Done<views::PublishedList>, AppError> {
    let principal = caller.principal()?;
    let id = publish(&state, principal, input).await?;
    let list = state
        .db()
        .published_list(id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Done::with(views::PublishedList::from(list), format!("/lists/{id}")).created())
}

/// A correction: the enterprises to take off and why. The list stays frozen; the correction is
/// a new version naming the old one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CorrectionJson {
    #[schema(value_type = Vec<i64>)]
    pub remove: EnterpriseIds,
    pub reason: String,
}

/// Corrects a published list by a new version with a reason (province).
#[utoipa::path(post, path = "/api/v1/lists/{id}/corrections", tag = "lists", params(("id" = i64, Path)),
    request_body = CorrectionJson,
    responses((status = 201, body = views::PublishedList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn correct_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<CorrectionJson>,
) -> Result<Done<views::PublishedList>, AppError> {
    let principal = caller.principal()?;
    let remove = input.remove.ids("remove")?;
    let new_id =
        cpaudit_app::lists::correct(state.app(), principal, id, &remove, &input.reason).await?;
    let list = state
        .db()
        .published_list(new_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Done::with(views::PublishedList::from(list), format!("/lists/{new_id}")).created())
}

#[derive(Template)]
#[template(path = "lists.html")]
struct ListsPage {
    ctx: Ctx,
    lists: Vec<PublishedList>,
    is_province: bool,
    year: i32,
    today: String,
}

pub async fn lists_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    Ok(render(&ListsPage {
        ctx: Ctx::new(&caller),
        lists: state.db().published_lists(None).await?,
        is_province: matches!(principal.scope().kind(), ScopeKind::Province),
        year: state.today().year(),
        today: date_text(state.today()),
    }))
}

/// Enterprise ids as a person types them, separated by commas, 、 or spaces; anything that is
/// not an id is an error at `field`, never dropped.
fn enterprise_ids(field: &str, text: &str) -> Result<Vec<i64>, AppError> {
    text.split([',', '，', '、', ' ', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| AppError::BadRequest {
                    code: "invalid_id",
                    message: cpaudit_core::registry::Message::new(
                        format!("“{part}”不是企业编号：请填写数字编号，用逗号分隔"),
                        format!(
                            "\"{part}\" is not an enterprise id: enter numeric ids separated by commas"
                        ),
                    ),
                    field: Some(field.to_string()),
                })
        })
        .collect()
}

/// Enterprise ids as a list (JSON) or as a person types them (a form): separated by commas,
/// 、 or spaces. Anything that is not an id is an error at its field, never dropped.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum EnterpriseIds {
    List(Vec<i64>),
    Text(String),
}

impl Default for EnterpriseIds {
    fn default() -> Self {
        EnterpriseIds::List(Vec::new())
    }
}

impl EnterpriseIds {
    fn ids(&self, field: &str) -> Result<Vec<i64>, AppError> {
        match self {
            EnterpriseIds::List(ids) => Ok(ids.clone()),
            EnterpriseIds::Text(text) => enterprise_ids(field, text),
        }
    }
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    ctx: Ctx,
    list: PublishedList,
    rows: Vec<ListRow>,
    is_province: bool,
    is_city: bool,
    today: String,
    letter_prefix: String,
}

struct ListRow {
    enterprise_id: i64,
    name: String,
    credit_code: String,
    city: String,
    reasons: String,
    disclose: String,
    start: String,
    report: String,
    letter: Option<LetterRow>,
}

pub async fn list_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let list = state
        .db()
        .published_list(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let city = city_of(principal).map(str::to_string);
    let entries = state
        .db()
        .published_entries(
            id,
            &ListEntryFilter {
                city: city.clone(),
                ..ListEntryFilter::default()
            },
        )
        .await?;
    let letters: HashMap<i64, LetterRow> = state
        .db()
        .letters(principal.scope(), id)
        .await?
        .into_iter()
        .map(|l| (l.enterprise_id, l))
        .collect();
    let mut clocks_of: HashMap<i64, Vec<ClockRow>> = HashMap::new();
    for clock in state.db().list_clocks(id).await? {
        clocks_of
            .entry(clock.enterprise_id)
            .or_default()
            .push(clock);
    }
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let clocks = clocks_of.remove(&entry.enterprise_id).unwrap_or_default();
        let effective = |kind: ClockKind| {
            clocks
                .iter()
                .find(|c| c.kind == kind)
                .map_or(String::new(), |c| c.effective_on.to_string())
        };
        rows.push(ListRow {
            enterprise_id: entry.enterprise_id,
            city: city_name(&state, lang, &entry.jurisdiction_code),
            reasons: reasons_label(lang, &entry.reasons.0, &entry.toxic_categories.0),
            disclose: effective(ClockKind::Disclose),
            start: effective(ClockKind::Start),
            report: effective(ClockKind::Report),
            letter: letters.get(&entry.enterprise_id).cloned(),
            name: entry.name,
            credit_code: entry.credit_code,
        });
    }
    let letter_prefix = city
        .as_deref()
        .map(|code| format!("{}环清审", short_city_name(&state, code)))
        .unwrap_or_default();
    Ok(render(&ListPage {
        ctx: Ctx::new(&caller),
        list,
        rows,
        is_province: matches!(principal.scope().kind(), ScopeKind::Province),
        is_city: city.is_some(),
        today: date_text(state.today()),
        letter_prefix,
    }))
}

fn short_city_name(state: &AppState, code: &str) -> String {
    state
        .reference()
        .detail(code)
        .map_or(code.to_string(), |d| {
            d.short_name_zh.chars().take(1).collect()
        })
}

// ---- written notifications -------------------------------------------------------------------

/// Letters to issue: number prefix (e.g. "兰环清审") and the issue date (default today).
#[derive(Debug, Deserialize, ToSchema)]
pub struct IssueLettersJson {
    pub number_prefix: String,
    pub issued_on: Option<String>,
}

async fn issue(
    state: &AppState,
    principal: &Principal,
    list_id: i64,
    input: &IssueLettersJson,
) -> Result<usize, AppError> {
    Ok(cpaudit_app::lists::issue_letters(
        state.app(),
        principal,
        list_id,
        &input.number_prefix,
        input.issued_on.as_deref(),
    )
    .await?)
}

/// How many letters were issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedJson {
    pub issued: usize,
    pub letters: Vec<views::Letter>,
}

/// Issues the written notifications of the caller's city for a list (one per enterprise).
#[utoipa::path(post, path = "/api/v1/lists/{id}/letters", tag = "lists", params(("id" = i64, Path)),
    request_body = IssueLettersJson,
    responses((status = 200, body = IssuedJson), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn issue_letters(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<IssueLettersJson>,
) -> Result<Done<IssuedJson>, AppError> {
    let principal = caller.principal()?;
    let issued = issue(&state, principal, id, &input).await?;
    let letters = state.db().letters(principal.scope(), id).await?;
    let view = IssuedJson {
        issued,
        letters: letters.into_iter().map(Into::into).collect(),
    };
    Ok(Done::with(view, format!("/lists/{id}")))
}

/// The letter's content, from the stored list, entry and clocks.
async fn letter_content(
    state: &AppState,
    scope: &Scope,
    letter_id: i64,
) -> Result<(LetterRow, NotificationLetter), AppError> {
    let letter = state
        .db()
        .letter(scope, letter_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let list = state
        .db()
        .published_list(letter.list_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entry: PublishedEntry = state
        .db()
        .published_entries(letter.list_id, &ListEntryFilter::default())
        .await?
        .into_iter()
        .find(|e| e.enterprise_id == letter.enterprise_id)
        .ok_or(AppError::NotFound)?;
    let published_on = entry.clocks_from;
    let clocks = clocks_from_publication(published_on, state.rules(), state.calendar())
        .map_err(crate::cycle::rule_error)?;
    let reasons = vec![reasons_label(
        Lang::Zh,
        &entry.reasons.0,
        &entry.toxic_categories.0,
    )];
    let issuer = state
        .reference()
        .jurisdiction(&letter.jurisdiction_code)
        .map_or(String::new(), |j| format!("{}生态环境局", j.name_zh));
    let title = |id: &str| {
        state
            .rules()
            .document(id)
            .map_or(id.to_string(), |d| d.title.clone())
    };
    let content = notification_letter(&LetterFacts {
        issuer: &issuer,
        number: &letter.number,
        enterprise_name: &entry.name,
        list_year: i32::try_from(list.list_year).unwrap_or_default(),
        list_title: &list.title,
        published_on,
        reasons_zh: &reasons,
        clocks: &clocks,
        document_title: &title,
        date: letter.issued_on,
    });
    Ok((letter, content))
}

#[derive(Template)]
#[template(path = "letter.html")]
struct LetterPage {
    ctx: Ctx,
    letter: LetterRow,
    content: NotificationLetter,
    date: String,
    may_record_delivery: bool,
    today: String,
}

/// The letter as a printable page.
pub async fn letter_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let (letter, content) = letter_content(&state, principal.scope(), id).await?;
    Ok(render(&LetterPage {
        ctx: Ctx::new(&caller),
        date: chinese_date(content.date),
        may_record_delivery: city_of(principal) == Some(letter.jurisdiction_code.as_str()),
        today: date_text(state.today()),
        letter,
        content,
    }))
}

/// The letter as a Word document.
pub async fn letter_docx(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let (letter, content) = letter_content(&state, principal.scope(), id).await?;
    let document = OfficialDocument {
        issuer: content.issuer.clone(),
        number: content.number.clone(),
        title: content.title.clone(),
        addressee: content.addressee.clone(),
        paragraphs: content.paragraphs.clone(),
        table: Some(DocumentTable {
            headers: vec!["事项".into(), "期限".into(), "法律依据".into()],
            rows: content
                .deadline_rows
                .iter()
                .map(|row| row.to_vec())
                .collect(),
        }),
        closing: content.closing.clone(),
        signature: content.signature.clone(),
        date: content.date,
        copy_to: content.copy_to.clone(),
    };
    let bytes = write_docx(&document).map_err(|error| {
        tracing::error!(%error, "docx");
        AppError::Internal
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                cpaudit_office::docx::DOCX_CONTENT_TYPE.to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"letter-{}.docx\"", letter.id),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// How and when the letter reached the enterprise.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeliveryJson {
    pub delivered_on: String,
    /// e.g. 直接送达, 邮寄, 电子送达
    pub method: String,
    #[serde(default)]
    pub note: String,
}

async fn deliver(
    state: &AppState,
    principal: &Principal,
    id: i64,
    input: DeliveryJson,
) -> Result<(), AppError> {
    let input = cpaudit_app::lists::DeliveryInput {
        delivered_on: input.delivered_on,
        method: input.method,
        note: input.note,
    };
    Ok(cpaudit_app::lists::record_delivery(state.app(), principal, id, &input).await?)
}

/// Records the delivery of a letter (the issuing city).
#[utoipa::path(post, path = "/api/v1/letters/{id}/delivery", tag = "lists", params(("id" = i64, Path)),
    request_body = DeliveryJson,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<DeliveryJson>,
) -> Result<Done<()>, AppError> {
    let principal = caller.principal()?;
    deliver(&state, principal, id, input).await?;
    Ok(Done::then(format!("/letters/{id}")))
}

/// An enterprise's listings with their clocks and letters.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListingJson {
    pub entry: views::PublishedEntry,
    pub clocks: Vec<views::Clock>,
    pub letter: Option<views::Letter>,
}

/// Where an enterprise stands on published lists: each clock with nominal and effective last
/// day, rule and calendar version, and its written notification.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/listings", tag = "lists", params(("id" = i64, Path)),
    responses((status = 200, body = [ListingJson])))]
pub async fn api_listings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ListingJson>>, ApiError> {
    let principal = caller.principal()?;
    let mut out = Vec::new();
    let enterprise = enterprise_in_scope(state.app(), principal.scope(), id).await?;
    for (entry, clocks) in state.db().listings_of(&enterprise).await? {
        let letter = state
            .db()
            .letters(principal.scope(), entry.list_id)
            .await?
            .into_iter()
            .find(|l| l.enterprise_id == id);
        out.push(ListingJson {
            entry: entry.into(),
            clocks: clocks.into_iter().map(Into::into).collect(),
            letter: letter.map(Into::into),
        });
    }
    Ok(Json(out))
}
