//! Cleaner production options (清洁生产方案) of a round: the page `/rounds/{id}/options` and the
//! JSON API under `/api/v1/rounds/{id}/options`.
//!
//! The page shows every option with its status and investment, its expected and its verified
//! values, and the totals per indicator in two separate rows, 预期（评估） and 已验证（验收）,
//! then per cost class. Its forms add and edit options (with their expected values), change a
//! status, enter verified values, delete a proposed option, and import options from the .xlsx
//! template (or .csv) with a row-by-row report, all rows or none. The export puts expected and
//! verified values in separate column groups.
//!
//! Who may do what and when is `cpaudit_core::options::check_work`: the enterprise and its
//! engaged consultancy enter options and expected values until the report is submitted (and
//! while rectifying), change statuses until acceptance, and enter verified values from the
//! passed assessment (small/micro track: at the combined review) until acceptance; the review
//! organizer's officials enter verified values at acceptance. Anyone who may read the round
//! (experts on its panel among them) reads its options. A round outside the caller's scope is
//! 404; bad input is 400 naming each field; work the caller may not do (now) is 403.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cpaudit_app::options::{self as use_case, check, may};
use cpaudit_core::options::{
    value_field, CostClass, Indicator, IndicatorTotals, OptionStatus, OptionWork, Stage, Totals,
};
use cpaudit_core::round::Track;
use cpaudit_office::{Cell, ColumnGroup, SheetSpec, TableFormat};
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::options::{OptionEntry, OptionSheet, OptionValueRow};
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::InScope;
use cpaudit_storage::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::action::{Done, FromForm, Input, Shaped};
use crate::auth::Caller;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::evidence::text_or_number;
use crate::i18n::Lang;
use crate::pages::{render_with, Ctx};
use crate::rows::{RowProblem, RowsReport};
use crate::views::options::OptionEntry as EntryView;
use crate::AppState;
use cpaudit_app::options_import::{self, COLUMNS};

// ----------------------------------------------------------------------------------------------
// The API's input, converted to the use cases' (the forms build theirs from the fields)

/// One value of an indicator.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ValueInput {
    /// so2 | nox | dust | co2 | vocs | cod | ammonia_nitrogen | total_nitrogen |
    /// total_phosphorus | pb | hg | cd | cr | as | energy | water | economic_benefit
    pub indicator: String,
    /// The yearly reduction (saving, benefit) in the indicator's unit; a number or its text.
    /// Negative only for co2, energy, water and economic_benefit, with a basis saying why.
    #[serde(deserialize_with = "text_or_number")]
    pub quantity: String,
    /// Optional: the indicator's unit (t/a; tCO2/a; kg/a for heavy metals; tce/a; 万元/a).
    /// Another unit is refused, not converted.
    pub unit: String,
    /// Expected: how it was estimated. Verified: the monitoring report it rests on (required).
    pub basis: String,
}

impl From<ValueInput> for use_case::ValueInput {
    fn from(input: ValueInput) -> Self {
        use_case::ValueInput {
            indicator: input.indicator,
            quantity: input.quantity,
            unit: input.unit,
            basis: input.basis,
        }
    }
}

/// An option as a JSON client sends it (create, or replace all its fields).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct OptionInput {
    /// Unique in the round (letter case ignored), e.g. F-01.
    pub code: String,
    pub name: String,
    /// no_low (无/低费) | medium_high (中/高费)
    pub cost_class: String,
    pub description: String,
    /// 万元, at least 0; a number or its text.
    #[serde(deserialize_with = "text_or_number")]
    pub investment_10k_yuan: String,
    /// Expected values, replacing any stored.
    pub expected: Vec<ValueInput>,
}

impl From<OptionInput> for use_case::OptionInput {
    fn from(input: OptionInput) -> Self {
        use_case::OptionInput {
            code: input.code,
            name: input.name,
            cost_class: input.cost_class,
            description: input.description,
            investment_10k_yuan: input.investment_10k_yuan,
            expected: input.expected.into_iter().map(Into::into).collect(),
        }
    }
}

/// The values of one stage, replacing those stored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ValuesInput {
    pub values: Vec<ValueInput>,
    /// The basis of every value that gives none (e.g. the monitoring report of all of them).
    pub basis: String,
}

impl From<ValuesInput> for use_case::ValuesInput {
    fn from(input: ValuesInput) -> Self {
        use_case::ValuesInput {
            values: input.values.into_iter().map(Into::into).collect(),
            basis: input.basis,
        }
    }
}

/// A status change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct StatusInput {
    /// selected | implemented | dropped (proposed → selected → implemented; proposed or
    /// selected → dropped).
    pub status: String,
    /// Required to drop.
    pub reason: String,
    /// YYYY-MM-DD, not after today; required to mark implemented.
    pub implemented_on: String,
}

impl From<StatusInput> for use_case::StatusInput {
    fn from(input: StatusInput) -> Self {
        use_case::StatusInput {
            status: input.status,
            reason: input.reason,
            implemented_on: input.implemented_on,
        }
    }
}

// ----------------------------------------------------------------------------------------------
// The API

/// What the caller may do on the round now.
#[derive(Debug, Serialize, ToSchema)]
pub struct MayJson {
    /// Add, edit and delete options and set expected values.
    pub edit: bool,
    pub change_status: bool,
    pub enter_verified: bool,
}

/// A round's options with their values, the totals of each stage (never mixed) and what the
/// acceptance guard reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptionsJson {
    pub round_id: i64,
    pub round_state: String,
    pub track: String,
    pub options: Vec<EntryView>,
    /// Totals per indicator: `expected` (options not dropped) and `verified` (implemented
    /// options), and the same per cost class (`no_low`, `medium_high`).
    #[schema(value_type = Object)]
    pub totals: Totals,
    pub option_count: usize,
    /// Medium/high-cost options neither implemented nor dropped (acceptance needs 0).
    pub medium_high_open: usize,
    pub may: MayJson,
}

async fn options_json(
    state: &AppState,
    principal: &Principal,
    round: &InScope<RoundRow>,
) -> Result<OptionsJson, AppError> {
    let sheet = state.db().option_sheet(round).await?;
    let (option_count, medium_high_open) = state.db().option_summary(round).await?;
    Ok(OptionsJson {
        round_id: round.id,
        round_state: round.state.as_str().into(),
        track: round.track.as_str().into(),
        options: sheet.options.into_iter().map(Into::into).collect(),
        totals: sheet.totals,
        option_count,
        medium_high_open,
        may: MayJson {
            edit: may(OptionWork::Edit, round, principal),
            change_status: may(OptionWork::ChangeStatus, round, principal),
            enter_verified: may(OptionWork::EnterVerified, round, principal),
        },
    })
}

async fn entry_json(
    state: &AppState,
    round: &InScope<RoundRow>,
    option_id: i64,
) -> Result<EntryView, AppError> {
    let sheet = state.db().option_sheet(round).await?;
    sheet
        .options
        .into_iter()
        .find(|entry| entry.option.id == option_id)
        .map(Into::into)
        .ok_or(AppError::NotFound)
}

/// A round's options, their values and totals; 404 outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/options", tag = "options",
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = OptionsJson), (status = 404, body = ErrorBody)))]
pub async fn api_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<OptionsJson>, ApiError> {
    let principal = caller.principal()?;
    let round = use_case::visible_round(state.app(), principal, id).await?;
    Ok(Json(options_json(&state, principal, &round).await?))
}

/// Adds an option with its expected values (the round's enterprise or engaged consultancy,
/// until the report is submitted or while rectifying).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/options", tag = "options",
    params(("id" = i64, Path, description = "round id")), request_body = OptionInput,
    responses((status = 201, body = EntryView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "every field's problem")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Shaped(input): Shaped<OptionInput>,
) -> Result<Done<EntryView>, AppError> {
    let principal = caller.principal()?;
    let round = use_case::visible_round(state.app(), principal, id).await?;
    let option_id = use_case::create(state.app(), principal, &round, input.into()).await?;
    let created = entry_json(&state, &round, option_id).await?;
    Ok(Done::with(created, format!("/rounds/{id}/options")).created())
}

/// Replaces an option's fields and expected values.
#[utoipa::path(put, path = "/api/v1/rounds/{id}/options/{option}", tag = "options",
    params(("id" = i64, Path, description = "round id"), ("option" = i64, Path)), request_body = OptionInput,
    responses((status = 200, body = EntryView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "every field's problem")))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, option_id)): Path<(i64, i64)>,
    Shaped(input): Shaped<OptionInput>,
) -> Result<Done<EntryView>, AppError> {
    let principal = caller.principal()?;
    let round = use_case::visible_round(state.app(), principal, id).await?;
    use_case::update(state.app(), principal, &round, option_id, input.into()).await?;
    let entry = entry_json(&state, &round, option_id).await?;
    Ok(Done::with(entry, format!("/rounds/{id}/options")))
}

/// Deletes an option that is still only proposed.
#[utoipa::path(delete, path = "/api/v1/rounds/{id}/options/{option}", tag = "options",
    params(("id" = i64, Path, description = "round id"), ("option" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, option_id)): Path<(i64, i64)>,
) -> Result<Done<()>, AppError> {
    let principal = caller.principal()?;
    let round = use_case::visible_round(state.app(), principal, id).await?;
    use_case::delete(state.app(), principal, &round, option_id).await?;
    Ok(Done::then(format!("/rounds/{id}/options")))
}

/// Changes an option's status: proposed → selected → implemented (with a date not in the
/// future); proposed or selected → dropped (with a reason). 409 for another change.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/options/{option}/status", tag = "options",
    params(("id" = i64, Path, description = "round id"), ("option" = i64, Path)), request_body = StatusInput,
    responses((status = 200, body = EntryView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "every field's problem")))]
pub async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, option_id)): Path<(i64, i64)>,
    Input(input): Input<StatusInput>,
) -> Result<Done<EntryView>, AppError> {
    let principal = caller.principal()?;
    let round = use_case::visible_round(state.app(), principal, id).await?;
    use_case::change_status(state.app(), principal, &round, option_id, input.into()).await?;
    let entry = entry_json(&state, &round, option_id).await?;
    Ok(Done::with(entry, format!("/rounds/{id}/options")))
}

async fn set_values(
    state: &AppState,
    caller: &Caller,
    (id, option_id): (i64, i64),
    stage: Stage,
    input: ValuesInput,
) -> Result<Done<EntryView>, AppError> {
    let principal = caller.principal()?;
    let round = use_case::visible_round(state.app(), principal, id).await?;
    use_case::set_values(
        state.app(),
        principal,
        &round,
        option_id,
        stage,
        input.into(),
    )
    .await?;
    let entry = entry_json(state, &round, option_id).await?;
    Ok(Done::with(entry, format!("/rounds/{id}/options")))
}

/// Replaces an option's expected values (while the report's content may change).
#[utoipa::path(put, path = "/api/v1/rounds/{id}/options/{option}/expected", tag = "options",
    params(("id" = i64, Path, description = "round id"), ("option" = i64, Path)), request_body = ValuesInput,
    responses((status = 200, body = EntryView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "every value's problem")))]
pub async fn api_expected(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<(i64, i64)>,
    Json(input): Json<ValuesInput>,
) -> Result<Done<EntryView>, AppError> {
    set_values(&state, &caller, ids, Stage::Expected, input).await
}

/// Replaces an implemented option's verified values, each with its basis: from the passed
/// assessment (small/micro track: at the combined review) until acceptance; the organizer's
/// officials at acceptance.
#[utoipa::path(put, path = "/api/v1/rounds/{id}/options/{option}/verified", tag = "options",
    params(("id" = i64, Path, description = "round id"), ("option" = i64, Path)), request_body = ValuesInput,
    responses((status = 200, body = EntryView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "every value's problem")))]
pub async fn set_verified(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<(i64, i64)>,
    Shaped(input): Shaped<ValuesInput>,
) -> Result<Done<EntryView>, AppError> {
    set_values(&state, &caller, ids, Stage::Verified, input).await
}

/// Imports options from the .xlsx template or a .csv with its columns (multipart field `file`):
/// every row is checked, and either all are added (status proposed) or none (422 with the
/// problems by line and column).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/options/import", tag = "options",
    params(("id" = i64, Path, description = "round id")),
    request_body(content_type = "multipart/form-data", description = "field: file (.xlsx or .csv) with the columns of the template: code, name, cost_class, description, investment_10k_yuan, one column per indicator key, note"),
    responses((status = 200, body = RowsReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = crate::rows::RowsRefusal, description = "invalid rows; nothing written")))]
pub async fn api_import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let principal = caller.principal()?;
    let round = use_case::visible_round(state.app(), principal, id).await?;
    let (file_name, bytes, _) = crate::pages::read_upload(&state, &mut multipart).await?;
    let report = import(&state, principal, &round, &file_name, &bytes, caller.lang).await?;
    Ok(crate::rows::api_answer(report, caller.lang))
}

/// The round's options as .xlsx: expected and verified values in separate column groups.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/options/export.xlsx", tag = "options",
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = ErrorBody)))]
pub async fn api_export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(export(&state, &caller, id).await?)
}

// ----------------------------------------------------------------------------------------------
// Import, template and export

/// Runs the import and words its report in the caller's language.
async fn import(
    state: &AppState,
    principal: &Principal,
    round: &InScope<RoundRow>,
    file_name: &str,
    bytes: &[u8],
    lang: Lang,
) -> Result<RowsReport, AppError> {
    let report = options_import::import(state.app(), principal, round, file_name, bytes).await?;
    Ok(RowsReport::shown(report, &COLUMNS, lang))
}

fn xlsx_download(file_name: &str, bytes: Vec<u8>) -> Response {
    (
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
        .into_response()
}

fn office_error(error: cpaudit_office::OfficeError) -> AppError {
    tracing::error!(%error, "options workbook");
    AppError::Internal
}

/// The import template: the header row in the caller's language (either is accepted back).
async fn template(state: &AppState, caller: &Caller, id: i64) -> Result<Response, AppError> {
    use_case::visible_round(state.app(), caller.principal()?, id).await?;
    let lang = caller.lang;
    let headers: Vec<&str> = COLUMNS
        .iter()
        .map(|c| c.header(lang.document_language()))
        .collect();
    let bytes = cpaudit_office::write_xlsx(
        &SheetSpec {
            name: lang.texts().options,
            headers: &headers,
            column_widths: None,
        },
        &[],
    )
    .map_err(office_error)?;
    Ok(xlsx_download("options-template.xlsx", bytes))
}

fn quantity_cells(values: &[OptionValueRow]) -> Vec<Cell> {
    Indicator::ALL
        .iter()
        .map(|i| {
            values
                .iter()
                .find(|v| v.indicator == i.key())
                .map_or(Cell::Empty, |v| Cell::Number(v.quantity))
        })
        .collect()
}

fn total_cells(totals: &IndicatorTotals) -> Vec<Cell> {
    Indicator::ALL
        .iter()
        .map(|i| totals.get(i).map_or(Cell::Empty, |q| Cell::Number(*q)))
        .collect()
}

/// The round's options: the option's fields, then its expected values and its verified values
/// under their own group headings, then the totals, each stage in its own group.
async fn export(state: &AppState, caller: &Caller, id: i64) -> Result<Response, AppError> {
    let round = use_case::visible_round(state.app(), caller.principal()?, id).await?;
    let sheet = state.db().option_sheet(&round).await?;
    let lang = caller.lang;
    let mut headers: Vec<String> = [
        ("方案编号", "Code"),
        ("方案名称", "Name"),
        ("方案类别", "Cost class"),
        ("状态", "Status"),
        ("投资（万元）", "Investment (10k yuan)"),
        ("实施日期", "Implemented on"),
        ("状态说明", "Status note"),
    ]
    .iter()
    .map(|(zh, en)| lang.pick(zh, en).to_string())
    .collect();
    let fixed = headers.len();
    for _stage in [Stage::Expected, Stage::Verified] {
        headers.extend(Indicator::ALL.iter().map(|i| indicator_header(*i, lang)));
    }
    headers.push(lang.texts().basis_of_verified_values.to_string());
    let mut rows: Vec<Vec<Cell>> = sheet
        .options
        .iter()
        .map(|entry| export_row(entry, lang))
        .collect();
    let mut total = vec![Cell::Empty; fixed];
    total[1] = Cell::from(lang.texts().total_dropped_options_excluded);
    total[4] = Cell::Number(sheet.totals.investment_10k_yuan);
    total.extend(total_cells(&sheet.totals.expected));
    total.extend(total_cells(&sheet.totals.verified));
    rows.push(total);
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let groups = [
        ColumnGroup {
            title: lang.pick(Stage::Expected.label_zh(), Stage::Expected.label_en()),
            first: fixed,
            count: Indicator::ALL.len(),
        },
        ColumnGroup {
            title: lang.pick(Stage::Verified.label_zh(), Stage::Verified.label_en()),
            first: fixed + Indicator::ALL.len(),
            count: Indicator::ALL.len(),
        },
    ];
    let bytes = cpaudit_office::write_xlsx_grouped(
        &SheetSpec {
            name: lang.texts().options,
            headers: &header_refs,
            column_widths: None,
        },
        &groups,
        &rows,
    )
    .map_err(office_error)?;
    Ok(xlsx_download(
        &format!("round-{}-options.xlsx", round.id),
        bytes,
    ))
}

fn export_row(entry: &OptionEntry, lang: Lang) -> Vec<Cell> {
    let option = &entry.option;
    let class = option.cost_class;
    let status = option.status;
    let mut row = vec![
        Cell::from(option.code.as_str()),
        Cell::from(option.name.as_str()),
        Cell::from(lang.pick(class.label_zh(), class.label_en())),
        Cell::from(lang.pick(status.label_zh(), status.label_en())),
        Cell::Number(option.investment_10k_yuan),
        Cell::from(option.implemented_on.map(date_text)),
        Cell::from(option.status_note.as_str()),
    ];
    row.extend(quantity_cells(&entry.expected));
    row.extend(quantity_cells(&entry.verified));
    row.push(Cell::from(verified_bases(entry, lang)));
    row
}

/// The distinct bases of an option's verified values, in the order first given.
fn verified_bases(entry: &OptionEntry, lang: Lang) -> String {
    let mut bases: Vec<&str> = Vec::new();
    for value in &entry.verified {
        if !bases.contains(&value.basis.as_str()) {
            bases.push(&value.basis);
        }
    }
    bases.join(lang.texts().text_3)
}

fn indicator_header(indicator: Indicator, lang: Lang) -> String {
    format!(
        "{} ({})",
        lang.pick(indicator.label_zh(), indicator.label_en()),
        indicator.unit().symbol()
    )
}

// ----------------------------------------------------------------------------------------------
// The page

/// A form that failed, shown again: which option and form it was, what was typed and what was
/// wrong ((field, message) in the caller's language). It is read from the refusal's
/// [`crate::form::Redisplay`], which also puts each error beside its field.
struct Redisplay {
    option_id: Option<i64>,
    form: &'static str,
    fields: HashMap<String, String>,
    errors: Vec<(String, String)>,
}

impl Redisplay {
    fn is(&self, option_id: Option<i64>, form: &str) -> bool {
        self.option_id == option_id && self.form == form
    }

    /// The options form a refused post came from, by the path it was posted to.
    fn of(round_id: i64, refused: &crate::form::Redisplay) -> Option<Redisplay> {
        let base = format!("/rounds/{round_id}/options");
        let rest = refused.action.strip_prefix(&base)?;
        let (option_id, form) = match rest.trim_start_matches('/').split_once('/') {
            None if rest.is_empty() => (None, "add"),
            Some((option, form)) => {
                let form = ["edit", "status", "verified"]
                    .into_iter()
                    .find(|known| *known == form)?;
                (Some(option.parse().ok()?), form)
            }
            None => return None,
        };
        Some(Redisplay {
            option_id,
            form,
            fields: refused.values.iter().cloned().collect(),
            errors: refused.field_errors.clone(),
        })
    }
}

/// One indicator's inputs in a values grid.
struct GridRow {
    label: String,
    unit: &'static str,
    quantity_name: String,
    quantity: String,
    basis_name: String,
    basis: String,
    error: Option<String>,
}

/// The fields of an option form.
struct OptionFormView {
    code: String,
    name: String,
    cost_class: String,
    description: String,
    investment: String,
    grid: Vec<GridRow>,
}

struct StatusFormView {
    choices: Vec<(&'static str, &'static str)>,
}

struct OptionView {
    id: i64,
    code: String,
    name: String,
    class_label: &'static str,
    description: String,
    investment: String,
    status_label: &'static str,
    status_note: String,
    implemented_on: String,
    expected: Vec<String>,
    verified: Vec<String>,
    verified_bases: String,
    open: bool,
    deletable: bool,
    edit: OptionFormView,
    status: StatusFormView,
    verify: Option<VerifyFormView>,
}

struct VerifyFormView {
    grid: Vec<GridRow>,
}

struct TotalView {
    label: String,
    values: Vec<String>,
}

struct ClassView {
    label: &'static str,
    options: usize,
    investment: String,
}

struct ProblemView {
    line: usize,
    column: String,
    message: String,
}

#[derive(Template)]
#[template(path = "options.html")]
struct OptionsPage {
    ctx: Ctx,
    round_id: i64,
    enterprise: String,
    round_facts: String,
    verify_hint: &'static str,
    may_edit: bool,
    locks: Vec<String>,
    /// The indicators shown as columns: those with a value at either stage.
    columns: Vec<String>,
    options: Vec<OptionView>,
    totals: Vec<TotalView>,
    classes: Vec<ClassView>,
    class_totals: Vec<TotalView>,
    medium_high_open: usize,
    add: OptionFormView,
    add_open: bool,
    alert: Option<String>,
    notice: Option<String>,
    problems: Vec<ProblemView>,
    import_columns: Vec<(&'static str, &'static str, bool, &'static str)>,
}

/// A quantity as people read it: at most four decimals, no trailing zeros.
fn quantity_text(quantity: f64) -> String {
    let text = format!("{quantity:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" => "0".to_string(),
        other => other.to_string(),
    }
}

/// A values grid, filled from what was typed (when the form failed) or from the stored values.
fn grid(stored: &[OptionValueRow], redisplay: Option<&Redisplay>, lang: Lang) -> Vec<GridRow> {
    Indicator::ALL
        .iter()
        .map(|indicator| {
            let field = value_field(indicator.key());
            let basis_field = format!("{field}.basis");
            let stored = stored.iter().find(|v| v.indicator == indicator.key());
            let typed =
                |name: &str| redisplay.map(|r| r.fields.get(name).cloned().unwrap_or_default());
            let messages: Vec<&str> = redisplay
                .map(|r| {
                    r.errors
                        .iter()
                        .filter(|(name, _)| name.starts_with(&field))
                        .map(|(_, message)| message.as_str())
                        .collect()
                })
                .unwrap_or_default();
            GridRow {
                label: lang
                    .pick(indicator.label_zh(), indicator.label_en())
                    .to_string(),
                unit: indicator.unit().symbol(),
                quantity: typed(&field).unwrap_or_else(|| {
                    stored
                        .map(|v| quantity_text(v.quantity))
                        .unwrap_or_default()
                }),
                basis: typed(&basis_field)
                    .unwrap_or_else(|| stored.map(|v| v.basis.clone()).unwrap_or_default()),
                quantity_name: field.clone(),
                basis_name: basis_field.clone(),
                error: (!messages.is_empty()).then(|| messages.join(lang.texts().text_3)),
            }
        })
        .collect()
}

fn option_form(
    entry: Option<&OptionEntry>,
    redisplay: Option<&Redisplay>,
    lang: Lang,
) -> OptionFormView {
    let field = |name: &str, stored: String| match redisplay {
        Some(r) => r.fields.get(name).cloned().unwrap_or_default(),
        None => stored,
    };
    let option = entry.map(|e| &e.option);
    OptionFormView {
        code: field("code", option.map(|o| o.code.clone()).unwrap_or_default()),
        name: field("name", option.map(|o| o.name.clone()).unwrap_or_default()),
        cost_class: field(
            "cost_class",
            option
                .map(|o| o.cost_class.as_str().to_string())
                .unwrap_or_default(),
        ),
        description: field(
            "description",
            option.map(|o| o.description.clone()).unwrap_or_default(),
        ),
        investment: field(
            "investment_10k_yuan",
            option
                .map(|o| quantity_text(o.investment_10k_yuan))
                .unwrap_or_default(),
        ),
        grid: grid(entry.map_or(&[], |e| &e.expected), redisplay, lang),
    }
}

fn values_in(values: &[OptionValueRow], columns: &[Indicator]) -> Vec<String> {
    columns
        .iter()
        .map(|i| {
            values
                .iter()
                .find(|v| v.indicator == i.key())
                .map(|v| quantity_text(v.quantity))
                .unwrap_or_default()
        })
        .collect()
}

fn totals_in(totals: &IndicatorTotals, columns: &[Indicator]) -> Vec<String> {
    columns
        .iter()
        .map(|i| totals.get(i).map(|q| quantity_text(*q)).unwrap_or_default())
        .collect()
}

struct PageInput<'a> {
    round: &'a RoundRow,
    sheet: OptionSheet,
    medium_high_open: usize,
    redisplay: Option<Redisplay>,
    import: Option<RowsReport>,
}

fn option_view(
    entry: &OptionEntry,
    columns: &[Indicator],
    permissions: Permissions,
    redisplay: Option<&Redisplay>,
    lang: Lang,
) -> OptionView {
    let option = &entry.option;
    let id = Some(option.id);
    let failed = |form: &str| redisplay.filter(|r| r.is(id, form));
    let class = option.cost_class;
    let status = option.status;
    OptionView {
        id: option.id,
        code: option.code.clone(),
        name: option.name.clone(),
        class_label: lang.pick(class.label_zh(), class.label_en()),
        description: option.description.clone(),
        investment: quantity_text(option.investment_10k_yuan),
        status_label: lang.pick(status.label_zh(), status.label_en()),
        status_note: option.status_note.clone(),
        implemented_on: option.implemented_on.map(date_text).unwrap_or_default(),
        expected: values_in(&entry.expected, columns),
        verified: values_in(&entry.verified, columns),
        verified_bases: verified_bases(entry, lang),
        open: redisplay.is_some_and(|r| r.option_id == id),
        deletable: permissions.edit && status == OptionStatus::Proposed,
        edit: option_form(Some(entry), failed("edit"), lang),
        status: StatusFormView {
            choices: if permissions.change_status {
                status
                    .next()
                    .into_iter()
                    .map(|s| (s.as_str(), lang.pick(s.label_zh(), s.label_en())))
                    .collect()
            } else {
                Vec::new()
            },
        },
        verify: (permissions.enter_verified && status == OptionStatus::Implemented).then(|| {
            VerifyFormView {
                grid: grid(&entry.verified, failed("verified"), lang),
            }
        }),
    }
}

/// What the caller may do on the round now.
#[derive(Debug, Clone, Copy)]
struct Permissions {
    edit: bool,
    change_status: bool,
    enter_verified: bool,
}

impl Permissions {
    fn of(round: &RoundRow, principal: &Principal) -> Self {
        Self {
            edit: may(OptionWork::Edit, round, principal),
            change_status: may(OptionWork::ChangeStatus, round, principal),
            enter_verified: may(OptionWork::EnterVerified, round, principal),
        }
    }
}

/// The indicators the tables show: those any option has a value of, at either stage.
fn shown_indicators(sheet: &OptionSheet) -> Vec<Indicator> {
    Indicator::ALL
        .into_iter()
        .filter(|i| {
            sheet.options.iter().any(|e| {
                e.expected
                    .iter()
                    .chain(&e.verified)
                    .any(|v| v.indicator == i.key())
            })
        })
        .collect()
}

fn stage_label(stage: Stage, lang: Lang) -> String {
    lang.pick(stage.label_zh(), stage.label_en()).to_string()
}

/// Per cost class: the counts and investment, and a totals row per stage.
fn class_views(
    totals: &Totals,
    columns: &[Indicator],
    lang: Lang,
) -> (Vec<ClassView>, Vec<TotalView>) {
    let mut classes = Vec::new();
    let mut rows = Vec::new();
    for (class, figures) in [
        (CostClass::NoLow, &totals.no_low),
        (CostClass::MediumHigh, &totals.medium_high),
    ] {
        let label = lang.pick(class.label_zh(), class.label_en());
        classes.push(ClassView {
            label,
            options: figures.options,
            investment: quantity_text(figures.investment_10k_yuan),
        });
        for (stage, values) in [
            (Stage::Expected, &figures.expected),
            (Stage::Verified, &figures.verified),
        ] {
            rows.push(TotalView {
                label: format!("{label} · {}", stage_label(stage, lang)),
                values: totals_in(values, columns),
            });
        }
    }
    (classes, rows)
}

/// Why the caller's work is locked in the round's present state, for each locked work.
fn lock_notes(round: &RoundRow, principal: &Principal, lang: Lang) -> Vec<String> {
    [
        OptionWork::Edit,
        OptionWork::ChangeStatus,
        OptionWork::EnterVerified,
    ]
    .into_iter()
    .filter_map(|work| match check(work, round, principal) {
        Err(cpaudit_app::Error::Conflict {
            code: "options_locked",
            message,
            ..
        }) => Some(lang.pick(&message.zh, &message.en).to_string()),
        _ => None,
    })
    .collect()
}

fn options_page(caller: &Caller, input: PageInput<'_>) -> Result<OptionsPage, AppError> {
    let lang = caller.lang;
    let principal = caller.principal()?;
    let round = input.round;
    let permissions = Permissions::of(round, principal);
    let columns = shown_indicators(&input.sheet);
    let redisplay = input.redisplay.as_ref();
    let totals = &input.sheet.totals;
    let (classes, class_totals) = class_views(totals, &columns, lang);
    let (alert, notice, problems) = import_outcome(input.import, lang);
    Ok(OptionsPage {
        ctx: Ctx::new(caller),
        round_id: round.id,
        enterprise: round.enterprise_name.clone(),
        round_facts: round_facts(round, lang),
        verify_hint: verify_hint(round.track, lang),
        may_edit: permissions.edit,
        locks: lock_notes(round, principal, lang),
        columns: columns.iter().map(|i| indicator_header(*i, lang)).collect(),
        options: input
            .sheet
            .options
            .iter()
            .map(|entry| option_view(entry, &columns, permissions, redisplay, lang))
            .collect(),
        totals: [
            (Stage::Expected, &totals.expected),
            (Stage::Verified, &totals.verified),
        ]
        .into_iter()
        .map(|(stage, values)| TotalView {
            label: stage_label(stage, lang),
            values: totals_in(values, &columns),
        })
        .collect(),
        classes,
        class_totals,
        medium_high_open: input.medium_high_open,
        add: option_form(None, redisplay.filter(|r| r.is(None, "add")), lang),
        add_open: redisplay.is_some_and(|r| r.is(None, "add")),
        alert,
        notice,
        problems,
        import_columns: COLUMNS
            .iter()
            .map(|c| {
                (
                    c.aliases[0],
                    c.field,
                    c.required,
                    lang.pick(c.note.0, c.note.1),
                )
            })
            .collect(),
    })
}

fn round_facts(round: &RoundRow, lang: Lang) -> String {
    let state = round.state;
    let track = round.track;
    format!(
        "{} {} · {} · {}",
        round.list_year,
        lang.texts().list_2,
        lang.pick(state.label_zh(), state.label_en()),
        lang.pick(track.label_zh(), track.label_en()),
    )
}

fn import_outcome(
    report: Option<RowsReport>,
    lang: Lang,
) -> (Option<String>, Option<String>, Vec<ProblemView>) {
    match report {
        None => (None, None, Vec::new()),
        Some(report) if report.invalid_rows == 0 => (
            None,
            Some(match lang {
                Lang::Zh => format!("已从 {} 导入 {} 项方案", report.file_name, report.written),
                Lang::En => format!("{} options imported from {}", report.written, report.file_name),
            }),
            Vec::new(),
        ),
        Some(report) => (
            Some(match lang {
                Lang::Zh => format!(
                    "{}：共 {} 行，其中 {} 行有错误，未导入任何方案。请修改后重新上传。",
                    report.file_name, report.total_rows, report.invalid_rows
                ),
                Lang::En => format!(
                    "{}: {} of {} rows have errors; nothing was imported. Correct them and upload again.",
                    report.file_name, report.invalid_rows, report.total_rows
                ),
            }),
            None,
            report
                .problems
                .into_iter()
                .map(|p: RowProblem| ProblemView {
                    line: p.line,
                    column: p.column,
                    message: p.message,
                })
                .collect(),
        ),
    }
}

async fn page_response(
    state: &AppState,
    caller: &Caller,
    round: &InScope<RoundRow>,
    status: StatusCode,
    redisplay: Option<Redisplay>,
    import: Option<RowsReport>,
) -> Result<Response, AppError> {
    let sheet = state.db().option_sheet(round).await?;
    let (_, medium_high_open) = state.db().option_summary(round).await?;
    let page = options_page(
        caller,
        PageInput {
            round,
            sheet,
            medium_high_open,
            redisplay,
            import,
        },
    )?;
    Ok(render_with(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let round = use_case::visible_round(state.app(), caller.principal()?, id).await?;
    let redisplay = caller
        .redisplay
        .as_deref()
        .and_then(|refused| Redisplay::of(round.id, refused));
    page_response(&state, &caller, &round, StatusCode::OK, redisplay, None).await
}

/// Back to the page after a form succeeded; the page again with the form's errors after bad
/// input; any other refusal as an error page.
fn text(fields: &HashMap<String, String>, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

/// The values a grid sent (`values.KEY` and `values.KEY.basis`): an indicator whose quantity
/// and basis are both empty has no value.
fn grid_values(fields: &HashMap<String, String>) -> Vec<ValueInput> {
    Indicator::ALL
        .iter()
        .filter_map(|indicator| {
            let field = value_field(indicator.key());
            let quantity = text(fields, &field);
            let basis = text(fields, &format!("{field}.basis"));
            if quantity.trim().is_empty() && basis.trim().is_empty() {
                return None;
            }
            Some(ValueInput {
                indicator: indicator.key().to_string(),
                quantity,
                unit: String::new(),
                basis,
            })
        })
        .collect()
}

/// The option form: its fields, and a grid of expected values.
impl FromForm for OptionInput {
    type Form = HashMap<String, String>;

    fn from_form(fields: Self::Form) -> Result<Self, AppError> {
        Ok(OptionInput {
            code: text(&fields, "code"),
            name: text(&fields, "name"),
            cost_class: text(&fields, "cost_class"),
            description: text(&fields, "description"),
            investment_10k_yuan: text(&fields, "investment_10k_yuan"),
            expected: grid_values(&fields),
        })
    }
}

/// The verified values form: a grid and the basis of every value without its own.
impl FromForm for ValuesInput {
    type Form = HashMap<String, String>;

    fn from_form(fields: Self::Form) -> Result<Self, AppError> {
        Ok(ValuesInput {
            values: grid_values(&fields),
            basis: text(&fields, "basis"),
        })
    }
}

pub async fn import_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let round = use_case::visible_round(state.app(), principal, id).await?;
    let (file_name, bytes, _) = crate::pages::read_upload(&state, &mut multipart).await?;
    let report = import(&state, principal, &round, &file_name, &bytes, caller.lang).await?;
    let status = if report.invalid_rows == 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page_response(&state, &caller, &round, status, None, Some(report)).await
}

pub async fn template_download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    template(&state, &caller, id).await
}

pub async fn export_download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    export(&state, &caller, id).await
}

/// When verified values are entered, as the page says it for the round's track.
fn verify_hint(track: Track, lang: Lang) -> &'static str {
    match track {
        Track::Standard => lang.texts().verified_values_are_entered_after_the,
        Track::SmallMicro => lang.texts().small_micro_track_verified_values_are,
    }
}
