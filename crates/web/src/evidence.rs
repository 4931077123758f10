//! Evidence against enterprises and their past audit rounds: the pages, the JSON API and the
//! .xlsx/.csv imports.
//!
//! Officials of the enterprise's city or of the province enter evidence; what they enter is
//! confirmed by that entry. Evidence produced automatically (online monitoring) arrives as a
//! candidate and counts only once an official of the enterprise's city confirms it; that
//! official may also dismiss it, or withdraw confirmed evidence, always with a reason.

use std::fmt;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use cpaudit_app::evidence as use_case;
use cpaudit_core::determination::{
    EvidenceKind, EvidenceSource, EvidenceStatus, Reason, RoundKind,
};
use cpaudit_core::evidence::{name_of, parse_name, EvidenceDraft};

use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::enterprises::EnterpriseRow;
use cpaudit_storage::evidence::{
    evidence_sources, EvidenceDecision, EvidenceFilter, EvidenceRow, PastRoundRow,
};
use cpaudit_storage::InScope;
use cpaudit_storage::Principal;
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use crate::action::{Done, Input};
use crate::auth::Caller;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::form::Redisplay as FormRedisplay;
use crate::i18n::Lang;
use crate::pages::{beijing_time, render_with, Ctx, OptionView};
pub use crate::rows::{RowsRefusal, RowsReport};
use crate::views::evidence::{Evidence, PastRound};
use crate::AppState;
use cpaudit_app::evidence_import::{self, EVIDENCE_COLUMNS, ROUND_COLUMNS};
use cpaudit_app::rows::Column;

/// Longest decision reason, in characters.
/// Rows the pages list at most; they say when there may be more.
const PAGE_ROWS: i64 = 500;
/// Rows the API lists unless asked otherwise, and at most.
const API_DEFAULT_ROWS: i64 = 200;
const API_MAX_ROWS: i64 = 1000;

// ----------------------------------------------------------------------------------------------
// Input shared by forms and the API

/// Evidence as a form or a JSON client sends it. Every field is text so that each mistake is
/// reported by field name; the numbers may also be sent as JSON numbers.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EvidenceInput {
    /// concentration_exceedance | total_load_exceedance | toxic_raw_material | toxic_discharge |
    /// hazardous_waste | heavy_metal
    pub kind: String,
    /// YYYY-MM-DD, not after today (China Standard Time).
    pub observed_on: String,
    /// supervisory_monitoring | online_monitoring | inspection | pollution_census |
    /// discharge_permit | enterprise_report | other
    pub source: String,
    /// The document that proves it: monitoring report number, inspection record, permit number.
    pub document_ref: String,
    /// Pollutant (exceedances), substance (toxic kinds, hazardous waste) or metal symbol
    /// Pb, Hg, Cd, Cr, As (heavy metals).
    pub substance: String,
    /// Measured concentration, emitted total, quantity or tonnes; greater than 0. A number or
    /// its text.
    #[serde(deserialize_with = "text_or_number")]
    pub amount: String,
    /// Exceedances only: the standard's limit or the quota, below `amount`. A number or its text.
    #[serde(deserialize_with = "text_or_number")]
    pub limit: String,
    /// Unit of `amount` and `limit`, e.g. mg/m3, mg/L, t/a, t, kg.
    pub unit: String,
    /// Exceedances only: the standard or quota document, e.g. GB 13223-2011.
    pub standard: String,
    /// Toxic raw materials and toxic discharges only: category 1–5 (Measures Art. 8).
    #[serde(deserialize_with = "text_or_number")]
    pub toxic_category: String,
    /// Hazardous waste only: HW01–HW50 of the National Hazardous Waste List.
    pub hw_code: String,
}

impl EvidenceInput {
    fn draft(self) -> EvidenceDraft {
        EvidenceDraft {
            kind: self.kind,
            observed_on: self.observed_on,
            source: self.source,
            document_ref: self.document_ref,
            substance: self.substance,
            amount: self.amount,
            limit: self.limit,
            unit: self.unit,
            standard: self.standard,
            toxic_category: self.toxic_category,
            hw_code: self.hw_code,
        }
    }
}

/// Forms send text; JSON clients naturally send quantities as numbers and flags as booleans.
/// All become text, which validation then reads the same way.
pub(crate) fn text_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a number or text")
        }
        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
    }
    deserializer.deserialize_any(Text)
}

/// A decision on one piece of evidence.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DecisionInput {
    /// confirm (a candidate) | dismiss (a candidate, or withdraw confirmed evidence)
    pub decision: String,
    /// Why; required. Kept with the record and in the audit trail.
    pub reason: String,
    /// The version the decision was made on; 409 when the evidence changed meanwhile.
    pub version: Option<i64>,
    /// Pages only: where the official goes back to (the queue or the enterprise's page).
    pub return_to: String,
}

/// The list filter of the queue page and the API.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    /// candidate | confirmed | dismissed (the API lists every status when absent; the queue
    /// page shows candidates)
    pub status: Option<String>,
    /// Jurisdiction code of a city, e.g. 620100 (a city official sees its own city anyway).
    pub city: Option<String>,
    /// API only: rows to return, 1–1000, default 200; newest first.
    pub limit: Option<String>,
}

impl EvidenceQuery {
    fn filter(&self, default_status: Option<EvidenceStatus>) -> Result<EvidenceFilter, AppError> {
        let status = match crate::registry::blank(&self.status) {
            Some(text) => Some(parse_name::<EvidenceStatus>(text).ok_or_else(|| {
                crate::registry::invalid("status", text, "candidate|confirmed|dismissed")
            })?),
            None => default_status,
        };
        Ok(EvidenceFilter {
            enterprise_id: None,
            status,
            city: crate::registry::blank(&self.city).map(str::to_string),
        })
    }

    fn limit(&self) -> Result<i64, AppError> {
        match crate::registry::blank(&self.limit) {
            None => Ok(API_DEFAULT_ROWS),
            Some(text) => text
                .parse()
                .ok()
                .filter(|n| (1..=API_MAX_ROWS).contains(n))
                .ok_or_else(|| crate::registry::invalid("limit", text, "1–1000")),
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Rules shared by pages and API

/// The enterprise if the caller may see it; anything else is "not found".
async fn visible_enterprise(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> Result<InScope<EnterpriseRow>, AppError> {
    state
        .db()
        .get_enterprise(principal.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

fn decision_value(decision: EvidenceDecision) -> &'static str {
    match decision {
        EvidenceDecision::Confirm => "confirm",
        EvidenceDecision::Dismiss => "dismiss",
    }
}

// ----------------------------------------------------------------------------------------------
// Presentation

fn kind_label(kind: EvidenceKind, lang: Lang) -> String {
    lang.pick(kind.label_zh(), kind.label_en()).to_string()
}

fn source_label(source: EvidenceSource, lang: Lang) -> String {
    lang.pick(source.label_zh(), source.label_en()).to_string()
}

/// Dismissed evidence that had been confirmed was withdrawn, which officials tell apart.
fn status_label(row: &EvidenceRow, lang: Lang) -> &'static str {
    match row.status {
        EvidenceStatus::Candidate => lang.texts().candidate,
        EvidenceStatus::Confirmed => lang.texts().confirmed,
        EvidenceStatus::Dismissed if row.confirmed_on.is_some() => lang.texts().withdrawn,
        EvidenceStatus::Dismissed => lang.texts().dismissed,
    }
}

/// The audit trail names users "user:<id>:<username>"; people know each other by username.
fn who(actor: &str) -> String {
    match actor
        .strip_prefix("user:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((_, username)) => username.to_string(),
        None => actor.to_string(),
    }
}

fn city_name(state: &AppState, lang: Lang, code: &str) -> String {
    state
        .reference()
        .jurisdictions
        .iter()
        .find(|j| j.code == code)
        .map(|j| lang.pick(&j.name_zh, &j.name_en).to_string())
        .unwrap_or_else(|| code.to_string())
}

struct ActionView {
    /// The `decision` sent, also the button's style.
    value: &'static str,
    label: &'static str,
}

struct DecisionView {
    actions: Vec<ActionView>,
    return_to: String,
}

struct EvidenceView {
    id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    city: String,
    kind: String,
    observed_on: String,
    source: String,
    document_ref: String,
    summary: String,
    status: String,
    status_label: &'static str,
    entered: String,
    decided: Option<String>,
    reason: Option<String>,
    confirmed_on: String,
    version: i64,
    decision: Option<DecisionView>,
}

fn evidence_view(
    state: &AppState,
    caller: &Caller,
    row: EvidenceRow,
    return_to: &str,
) -> EvidenceView {
    let lang = caller.lang;
    let decidable = caller
        .principal
        .as_ref()
        .is_some_and(|p| use_case::may_decide(p, &row));
    let decision = (decidable && !use_case::open_decisions(row.status).is_empty()).then(|| {
        let withdrawing = row.status == EvidenceStatus::Confirmed;
        DecisionView {
            actions: use_case::open_decisions(row.status)
                .iter()
                .map(|decision| ActionView {
                    value: decision_value(*decision),
                    label: match (decision, withdrawing) {
                        (EvidenceDecision::Confirm, _) => lang.texts().confirm,
                        (EvidenceDecision::Dismiss, false) => lang.texts().dismiss,
                        (EvidenceDecision::Dismiss, true) => lang.texts().withdraw,
                    },
                })
                .collect(),
            return_to: return_to.to_string(),
        }
    });
    EvidenceView {
        status_label: status_label(&row, lang),
        kind: kind_label(row.kind, lang),
        source: source_label(row.source, lang),
        city: city_name(state, lang, &row.jurisdiction_code),
        entered: format!("{} {}", who(&row.entered_by), beijing_time(&row.entered_at)),
        decided: row.decided_by.as_deref().map(|by| {
            format!(
                "{} {}",
                who(by),
                row.decided_at
                    .as_deref()
                    .map(beijing_time)
                    .unwrap_or_default()
            )
        }),
        confirmed_on: row
            .confirmed_on
            .map(|on| on.to_string())
            .unwrap_or_else(|| "—".into()),
        id: row.id,
        enterprise_id: row.enterprise_id,
        enterprise_name: row.enterprise_name,
        observed_on: row.observed_on.to_string(),
        document_ref: row.document_ref,
        summary: row.summary,
        status: name_of(&row.status),
        reason: row.decision_reason,
        version: row.version,
        decision,
    }
}

struct RoundView {
    list_year: i64,
    kind: &'static str,
    reasons: String,
    accepted_on: String,
    source: String,
}

fn round_view(row: PastRoundRow, lang: Lang) -> RoundView {
    let reasons: Vec<&str> = row
        .reasons
        .0
        .iter()
        .map(|r| lang.pick(r.label_zh(), r.label_en()))
        .collect();
    RoundView {
        list_year: row.list_year,
        kind: match row.kind {
            RoundKind::ParkDeemed => lang.texts().deemed_audited_park_pilot_passed,
            RoundKind::Audit => lang.texts().audit,
        },
        reasons: reasons.join(lang.texts().text_2),
        accepted_on: row
            .accepted_on
            .map(|on| on.to_string())
            .unwrap_or_else(|| "—".into()),
        source: row.source,
    }
}

/// One field of the evidence form, with a hint saying which kinds it applies to.
struct InputView {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    required: bool,
    /// "text" or "date"; a field with options is a select.
    input_type: &'static str,
    options: Vec<OptionView>,
    error: Option<String>,
}

fn choices(items: Vec<(String, String)>, selected: &str) -> Vec<OptionView> {
    items
        .into_iter()
        .map(|(value, label)| OptionView {
            selected: value == selected.trim(),
            value,
            label,
        })
        .collect()
}

/// The wording of the five toxic categories comes from the rule book, which cites the Measures.
fn category_choices(state: &AppState, lang: Lang, selected: &str) -> Vec<OptionView> {
    let today = state.today();
    let items = (1..=5)
        .map(|n| {
            let wording = state
                .rules()
                .text_at(&format!("toxic.category.{n}"), today)
                .map(|(text, _)| text)
                .unwrap_or_default();
            let label = match lang {
                Lang::Zh => format!("第{n}类 {wording}"),
                Lang::En => format!("Category {n}: {wording}"),
            };
            (n.to_string(), label)
        })
        .collect();
    choices(items, selected)
}

/// The evidence form, empty or as a refused post left it (`refused`: its values and errors).
fn form_inputs(state: &AppState, lang: Lang, refused: Option<&FormRedisplay>) -> Vec<InputView> {
    let error_for = |name: &str| {
        let messages: Vec<&str> = refused
            .iter()
            .flat_map(|r| r.field_errors.iter())
            .filter(|(field, _)| field == name)
            .map(|(_, message)| message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(lang.texts().text_3))
    };
    let typed = |name: &str| {
        refused
            .and_then(|r| r.values.iter().find(|(field, _)| field == name))
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    let p = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let text = |name: &'static str, label, hint, value: &str, required| InputView {
        name,
        label,
        hint,
        value: value.to_string(),
        required,
        input_type: "text",
        options: Vec::new(),
        error: error_for(name),
    };
    let kinds = EvidenceKind::all()
        .iter()
        .map(|k| {
            (
                k.as_str().to_string(),
                lang.pick(k.label_zh(), k.label_en()).to_string(),
            )
        })
        .collect();
    let sources = evidence_sources()
        .into_iter()
        .map(|(name, source)| (name, source_label(source, lang)))
        .collect();
    vec![
        InputView {
            options: choices(kinds, &typed("kind")),
            ..text(
                "kind",
                p("证据类型", "Kind"),
                p(
                    "决定下面哪些字段适用",
                    "decides which of the fields below apply",
                ),
                "",
                true,
            )
        },
        InputView {
            input_type: "date",
            ..text(
                "observed_on",
                p("观测日期", "Observed on"),
                p(
                    "采样、检查或报告期末的日期，不晚于今天",
                    "day of sampling, inspection or end of the reporting period; not after today",
                ),
                &typed("observed_on"),
                true,
            )
        },
        InputView {
            options: choices(sources, &typed("source")),
            ..text("source", p("来源", "Source"), "", "", true)
        },
        text(
            "document_ref",
            p("证明文件编号", "Document reference"),
            p(
                "监测报告编号、检查笔录、排污许可证编号等",
                "monitoring report number, inspection record, permit number…",
            ),
            &typed("document_ref"),
            true,
        ),
        text(
            "substance",
            p("污染物或物质", "Pollutant or substance"),
            p(
                "超标、超总量：污染物；有毒有害原料、排放、危险废物：物质或废物名称；重金属：Pb、Hg、Cd、Cr 或 As",
                "exceedances: the pollutant; toxic kinds and hazardous waste: the substance or waste; heavy metals: Pb, Hg, Cd, Cr or As",
            ),
            &typed("substance"),
            true,
        ),
        text(
            "amount",
            p("数值", "Amount"),
            p(
                "所有类型：监测浓度、排放总量、使用量、排放量或危险废物产生量，大于 0",
                "every kind: measured concentration, emitted total, quantity used or discharged, or tonnes of waste; above 0",
            ),
            &typed("amount"),
            true,
        ),
        text(
            "limit",
            p("限值", "Limit"),
            p(
                "仅超标、超总量：排放标准限值或总量控制指标，须低于数值",
                "exceedances only: the standard's limit or the total-load quota, below the amount",
            ),
            &typed("limit"),
            false,
        ),
        text(
            "unit",
            p("单位", "Unit"),
            p(
                "数值和限值的单位，如 mg/m3、mg/L、t/a、t、kg",
                "unit of amount and limit, e.g. mg/m3, mg/L, t/a, t, kg",
            ),
            &typed("unit"),
            true,
        ),
        text(
            "standard",
            p("执行标准或总量文件", "Standard or quota document"),
            p(
                "仅超标、超总量：如 GB 13223-2011",
                "exceedances only: e.g. GB 13223-2011",
            ),
            &typed("standard"),
            false,
        ),
        InputView {
            options: category_choices(state, lang, &typed("toxic_category")),
            ..text(
                "toxic_category",
                p("有毒有害类别", "Toxic category"),
                p(
                    "仅有毒有害原料、有毒有害物质排放（《清洁生产审核办法》第八条）；危险废物即第1类，重金属即第3类，无须选择",
                    "toxic raw materials and toxic discharges only (Measures Art. 8); hazardous waste is category 1 and heavy metals category 3 by themselves",
                ),
                "",
                false,
            )
        },
        text(
            "hw_code",
            p("危险废物类别", "Hazardous waste class"),
            p(
                "仅危险废物：《国家危险废物名录》HW01–HW50",
                "hazardous waste only: HW01–HW50 of the National Hazardous Waste List",
            ),
            &typed("hw_code"),
            false,
        ),
    ]
}

// ----------------------------------------------------------------------------------------------
// The enterprise's evidence page

#[derive(Template)]
#[template(path = "evidence_enterprise.html")]
struct EnterprisePage {
    ctx: Ctx,
    enterprise_id: i64,
    enterprise_name: String,
    is_official: bool,
    show_enterprise: bool,
    any_decisions: bool,
    truncated: bool,
    items: Vec<EvidenceView>,
    rounds: Vec<RoundView>,
    form: Option<Vec<InputView>>,
}

async fn enterprise_page(
    state: &AppState,
    caller: &Caller,
    enterprise: InScope<EnterpriseRow>,
) -> Result<EnterprisePage, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let filter = EvidenceFilter {
        enterprise_id: Some(enterprise.id),
        ..EvidenceFilter::default()
    };
    let return_to = format!("/enterprises/{}/evidence", enterprise.id);
    let rows = state
        .db()
        .list_evidence(principal.scope(), &filter, PAGE_ROWS)
        .await?;
    let truncated = rows.len() as i64 >= PAGE_ROWS;
    let items: Vec<EvidenceView> = rows
        .into_iter()
        .map(|row| evidence_view(state, caller, row, &return_to))
        .collect();
    let rounds = state
        .db()
        .past_rounds(principal.scope(), &enterprise)
        .await?
        .into_iter()
        .map(|row| round_view(row, lang))
        .collect();
    // A refused entry comes back here with what was typed (see `crate::form`).
    let refused = caller
        .redisplay
        .as_deref()
        .filter(|refused| refused.action == return_to);
    let form =
        use_case::may_enter(principal, &enterprise).then(|| form_inputs(state, lang, refused));
    Ok(EnterprisePage {
        ctx: Ctx::new(caller),
        enterprise_id: enterprise.id,
        enterprise_name: enterprise.into_inner().name,
        is_official: matches!(
            principal.scope().kind(),
            ScopeKind::Province | ScopeKind::City(_)
        ),
        show_enterprise: false,
        any_decisions: items.iter().any(|i| i.decision.is_some()),
        truncated,
        items,
        rounds,
        form,
    })
}

pub async fn enterprise_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let enterprise = visible_enterprise(&state, caller.principal()?, id).await?;
    let page = enterprise_page(&state, &caller, enterprise).await?;
    Ok(render_with(StatusCode::OK, &page))
}

/// Records evidence an official entered; it is confirmed by that entry.
///
/// On the page, a refused entry comes back with every problem beside its field.
#[utoipa::path(post, path = "/api/v1/enterprises/{id}/evidence", tag = "evidence",
    params(("id" = i64, Path)), request_body = EvidenceInput,
    responses((status = 201, body = Evidence), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "invalid fields, each named")))]
pub async fn add_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<EvidenceInput>,
) -> Result<Done<Evidence>, AppError> {
    let principal = caller.principal()?;
    let evidence_id = use_case::add(state.app(), principal, id, &input.draft()).await?;
    let row = use_case::evidence_in_scope(state.app(), principal, evidence_id).await?;
    let page = format!("/enterprises/{id}/evidence#evidence-{evidence_id}");
    Ok(Done::with(Evidence::from(row.into_inner()), page).created())
}

/// Only the two pages that carry decision forms are followed (no open redirect; and a header
/// value must be visible ASCII).
fn back_path(return_to: &str, enterprise_id: i64) -> String {
    let own = format!("/enterprises/{enterprise_id}/evidence");
    let queue = return_to == "/evidence" || return_to.starts_with("/evidence?");
    if (queue || return_to == own) && return_to.bytes().all(|b| b.is_ascii_graphic()) {
        return_to.to_string()
    } else {
        own
    }
}

/// Confirms or dismisses a candidate, or withdraws confirmed evidence (`dismiss`), with a
/// reason. Only an official of the enterprise's city decides.
///
/// On a page, the official goes back to where the form was (the queue or the enterprise's
/// evidence); a refusal comes back there with the error beside the item's reason.
#[utoipa::path(post, path = "/api/v1/evidence/{id}/decision", tag = "evidence",
    params(("id" = i64, Path)), request_body = DecisionInput,
    responses((status = 200, body = Evidence), (status = 403, body = ErrorBody, description = "not an official of the enterprise's city"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "changed meanwhile, or no longer open to this decision"),
        (status = 422, body = ErrorBody, description = "no reason, or an unknown decision")))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Input(input): Input<DecisionInput>,
) -> Result<Done<Evidence>, AppError> {
    let decision = use_case::DecisionInput {
        decision: input.decision,
        reason: input.reason,
        version: input.version,
    };
    let row = use_case::decide(state.app(), caller.principal()?, id, &decision).await?;
    let back = back_path(&input.return_to, row.enterprise_id);
    Ok(Done::with(Evidence::from(row), back))
}

// ----------------------------------------------------------------------------------------------
// The queue

#[derive(Template)]
#[template(path = "evidence_queue.html")]
struct QueuePage {
    ctx: Ctx,
    statuses: Vec<OptionView>,
    cities: Vec<OptionView>,
    read_only: bool,
    truncated: bool,
    show_enterprise: bool,
    any_decisions: bool,
    items: Vec<EvidenceView>,
}

pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EvidenceQuery>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let filter = query.filter(Some(EvidenceStatus::Candidate))?;
    let rows = state
        .db()
        .list_evidence(principal.scope(), &filter, PAGE_ROWS)
        .await?;
    let truncated = rows.len() as i64 >= PAGE_ROWS;
    let items: Vec<EvidenceView> = rows
        .into_iter()
        .map(|row| evidence_view(&state, &caller, row, &caller.path))
        .collect();
    let selected_status = filter.status.map(|s| cpaudit_core::evidence::name_of(&s));
    let statuses = [
        (EvidenceStatus::Candidate, lang.texts().candidate),
        (EvidenceStatus::Confirmed, lang.texts().confirmed),
        (
            EvidenceStatus::Dismissed,
            lang.texts().dismissed_or_withdrawn,
        ),
    ]
    .into_iter()
    .map(|(status, label)| (cpaudit_core::evidence::name_of(&status), label.to_string()))
    .collect();
    let province = matches!(principal.scope().kind(), ScopeKind::Province);
    let cities = if province {
        let all = state
            .reference()
            .cities()
            .map(|j| {
                (
                    j.code.clone(),
                    lang.pick(&j.name_zh, &j.name_en).to_string(),
                )
            })
            .collect();
        choices(all, filter.city.as_deref().unwrap_or_default())
    } else {
        Vec::new()
    };
    Ok(render_with(
        StatusCode::OK,
        &QueuePage {
            ctx: Ctx::new(&caller),
            statuses: choices(statuses, selected_status.as_deref().unwrap_or_default()),
            cities,
            read_only: province,
            truncated,
            show_enterprise: true,
            any_decisions: items.iter().any(|i| i.decision.is_some()),
            items,
        },
    ))
}

// ----------------------------------------------------------------------------------------------
// Imports

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportKind {
    Evidence,
    Rounds,
}

impl ImportKind {
    /// Runs the import and words its report in the caller's language.
    async fn import(
        self,
        state: &AppState,
        principal: &Principal,
        file_name: &str,
        bytes: &[u8],
        lang: Lang,
    ) -> Result<RowsReport, AppError> {
        let report = match self {
            ImportKind::Evidence => {
                evidence_import::import_evidence(state.app(), principal, file_name, bytes).await?
            }
            ImportKind::Rounds => {
                evidence_import::import_past_rounds(state.app(), principal, file_name, bytes)
                    .await?
            }
        };
        Ok(RowsReport::shown(report, self.columns(), lang))
    }

    fn columns(self) -> &'static [Column] {
        match self {
            ImportKind::Evidence => &EVIDENCE_COLUMNS,
            ImportKind::Rounds => &ROUND_COLUMNS,
        }
    }

    fn path(self) -> &'static str {
        match self {
            ImportKind::Evidence => "/evidence/import",
            ImportKind::Rounds => "/rounds/import",
        }
    }

    fn heading(self, lang: Lang) -> &'static str {
        match self {
            ImportKind::Evidence => lang.texts().import_evidence,
            ImportKind::Rounds => lang.texts().import_past_audit_rounds,
        }
    }
}

struct ColumnHelp {
    header: &'static str,
    field: &'static str,
    required: bool,
    note: &'static str,
}

struct ValueTable {
    heading: &'static str,
    values: Vec<(String, String)>,
}

struct ProblemView {
    line: usize,
    credit_code: String,
    field: String,
    message: String,
}

#[derive(Template)]
#[template(path = "evidence_import.html")]
struct ImportPage {
    ctx: Ctx,
    heading: &'static str,
    action: &'static str,
    alert: Option<String>,
    notice: Option<String>,
    file_name: String,
    problems: Vec<ProblemView>,
    columns: Vec<ColumnHelp>,
    value_tables: Vec<ValueTable>,
}

fn import_page(
    state: &AppState,
    caller: &Caller,
    kind: ImportKind,
    outcome: Option<Result<RowsReport, AppError>>,
) -> (StatusCode, ImportPage) {
    let lang = caller.lang;
    let columns = kind.columns();
    let field_label = |field: &str| {
        columns
            .iter()
            .find(|c| c.field == field)
            .map(|c| match lang {
                Lang::Zh => format!("{}（{}）", c.aliases[0], c.field),
                Lang::En => c.field.to_string(),
            })
            .unwrap_or_else(|| field.to_string())
    };
    let mut page = ImportPage {
        ctx: Ctx::new(caller),
        heading: kind.heading(lang),
        action: kind.path(),
        alert: None,
        notice: None,
        file_name: String::new(),
        problems: Vec::new(),
        columns: columns
            .iter()
            .map(|c| ColumnHelp {
                header: c.aliases[0],
                field: c.field,
                required: c.required,
                note: lang.pick(c.note.0, c.note.1),
            })
            .collect(),
        value_tables: value_tables(state, kind, lang),
    };
    let status = match outcome {
        None => StatusCode::OK,
        Some(Ok(report)) if report.invalid_rows == 0 => {
            page.notice = Some(match (kind, lang) {
                (ImportKind::Evidence, Lang::Zh) => {
                    format!("已导入 {} 条证据（均为已确认）", report.written)
                }
                (ImportKind::Evidence, Lang::En) => {
                    format!("{} pieces of evidence imported (confirmed)", report.written)
                }
                (ImportKind::Rounds, Lang::Zh) => format!("已导入 {} 轮往轮审核", report.written),
                (ImportKind::Rounds, Lang::En) => {
                    format!("{} past rounds imported", report.written)
                }
            });
            StatusCode::OK
        }
        Some(Ok(report)) => {
            page.alert = Some(match lang {
                Lang::Zh => format!(
                    "共 {} 行，其中 {} 行有错误，未写入任何数据。请修改后重新上传。",
                    report.total_rows, report.invalid_rows
                ),
                Lang::En => format!(
                    "{} of {} rows have errors; nothing was written. Correct them and upload again.",
                    report.invalid_rows, report.total_rows
                ),
            });
            page.file_name = report.file_name;
            page.problems = report
                .problems
                .into_iter()
                .map(|p| ProblemView {
                    field: field_label(&p.field),
                    line: p.line,
                    credit_code: p.credit_code.unwrap_or_default(),
                    message: p.message,
                })
                .collect();
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Some(Err(error)) => {
            let message = error.message();
            page.alert = Some(lang.pick(&message.zh, &message.en).to_string());
            error.status()
        }
    };
    (status, page)
}

/// The accepted values, so that officials can fill in the sheet without guessing.
fn value_tables(state: &AppState, kind: ImportKind, lang: Lang) -> Vec<ValueTable> {
    match kind {
        ImportKind::Evidence => vec![
            ValueTable {
                heading: lang.texts().kinds,
                values: EvidenceKind::all()
                    .iter()
                    .map(|k| {
                        (
                            k.as_str().to_string(),
                            lang.pick(k.label_zh(), k.label_en()).to_string(),
                        )
                    })
                    .collect(),
            },
            ValueTable {
                heading: lang.texts().sources_2,
                values: evidence_sources()
                    .into_iter()
                    .map(|(name, source)| (name, source_label(source, lang)))
                    .collect(),
            },
            ValueTable {
                heading: lang.texts().toxic_categories,
                values: category_choices(state, lang, "")
                    .into_iter()
                    .map(|o| (o.value, o.label))
                    .collect(),
            },
        ],
        ImportKind::Rounds => vec![ValueTable {
            heading: lang.texts().reasons_4,
            values: Reason::ALL
                .iter()
                .map(|r| {
                    (
                        r.as_str().to_string(),
                        lang.pick(r.label_zh(), r.label_en()).to_string(),
                    )
                })
                .collect(),
        }],
    }
}

async fn import_upload(
    state: &AppState,
    caller: &Caller,
    kind: ImportKind,
    multipart: &mut Multipart,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let outcome = match crate::pages::read_upload(state, multipart).await {
        Ok((file_name, bytes, _)) => {
            kind.import(state, principal, &file_name, &bytes, caller.lang)
                .await
        }
        Err(error) => Err(error),
    };
    // A file that cannot be read is shown on the form; anything else is a real error.
    if let Err(error) = &outcome {
        let about_the_file = matches!(
            error,
            AppError::BadRequest { .. }
                | AppError::UnsupportedMediaType(_)
                | AppError::PayloadTooLarge { .. }
        );
        if !about_the_file {
            return Err(error.clone());
        }
    }
    let (status, page) = import_page(state, caller, kind, Some(outcome));
    Ok(render_with(status, &page))
}

pub async fn import_evidence_form(State(state): State<AppState>, caller: Caller) -> Response {
    let (status, page) = import_page(&state, &caller, ImportKind::Evidence, None);
    render_with(status, &page)
}

pub async fn import_evidence(
    State(state): State<AppState>,
    caller: Caller,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    import_upload(&state, &caller, ImportKind::Evidence, &mut multipart).await
}

pub async fn import_rounds_form(State(state): State<AppState>, caller: Caller) -> Response {
    let (status, page) = import_page(&state, &caller, ImportKind::Rounds, None);
    render_with(status, &page)
}

pub async fn import_rounds(
    State(state): State<AppState>,
    caller: Caller,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    import_upload(&state, &caller, ImportKind::Rounds, &mut multipart).await
}

/// An empty workbook with the header row in the caller's language (either is accepted back).
fn template_workbook(kind: ImportKind, lang: Lang) -> Result<Response, AppError> {
    let headers: Vec<&str> = kind
        .columns()
        .iter()
        .map(|c| lang.pick(c.aliases[0], c.field))
        .collect();
    let (sheet, file_name) = match kind {
        ImportKind::Evidence => (lang.texts().evidence, "evidence-template.xlsx"),
        ImportKind::Rounds => (lang.texts().past_rounds, "past-rounds-template.xlsx"),
    };
    crate::listing::table_download(
        file_name,
        sheet,
        headers.iter().map(|h| h.to_string()).collect(),
        Vec::new(),
    )
}

pub async fn evidence_template(caller: Caller) -> Result<Response, AppError> {
    template_workbook(ImportKind::Evidence, caller.lang)
}

pub async fn rounds_template(caller: Caller) -> Result<Response, AppError> {
    template_workbook(ImportKind::Rounds, caller.lang)
}

// ----------------------------------------------------------------------------------------------
// The API

/// An enterprise's evidence, every status, newest observation first; 404 outside the scope.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/evidence", tag = "evidence",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Evidence>), (status = 404, body = ErrorBody)))]
pub async fn api_enterprise_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Evidence>>, ApiError> {
    let principal = caller.principal()?;
    visible_enterprise(&state, principal, id).await?;
    let filter = EvidenceFilter {
        enterprise_id: Some(id),
        ..EvidenceFilter::default()
    };
    let rows = state
        .db()
        .list_evidence(principal.scope(), &filter, i64::MAX)
        .await?;
    Ok(Json(rows.into_iter().map(Evidence::from).collect()))
}

/// Evidence in the caller's scope, newest observation first: the candidates queue with
/// `status=candidate`.
#[utoipa::path(get, path = "/api/v1/evidence", tag = "evidence", params(EvidenceQuery),
    responses((status = 200, body = Vec<Evidence>), (status = 400, body = ErrorBody)))]
pub async fn api_list_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EvidenceQuery>,
) -> Result<Json<Vec<Evidence>>, ApiError> {
    let principal = caller.principal()?;
    let filter = query.filter(None)?;
    let limit = query.limit()?;
    let rows = state
        .db()
        .list_evidence(principal.scope(), &filter, limit)
        .await?;
    Ok(Json(rows.into_iter().map(Evidence::from).collect()))
}

async fn api_import(
    state: &AppState,
    caller: &Caller,
    kind: ImportKind,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let principal = caller.principal()?;
    let (file_name, bytes, _) = crate::pages::read_upload(state, &mut multipart).await?;
    let report = kind
        .import(state, principal, &file_name, &bytes, caller.lang)
        .await?;
    Ok(crate::rows::api_answer(report, caller.lang))
}

/// Imports evidence from an .xlsx or .csv file (multipart field `file`): all rows in one
/// transaction, or none when any row is invalid (422 with the row-by-row report).
#[utoipa::path(post, path = "/api/v1/evidence/import", tag = "evidence",
    request_body(content_type = "multipart/form-data", description = "field: file (.xlsx or .csv) with columns credit_code, kind, observed_on, source, document_ref, substance, amount, limit, unit, standard, toxic_category, hw_code"),
    responses((status = 200, body = RowsReport), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = RowsRefusal, description = "invalid rows; nothing written")))]
pub async fn api_import_evidence(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    api_import(&state, &caller, ImportKind::Evidence, multipart).await
}

/// Imports past audit rounds from an .xlsx or .csv file (multipart field `file`), all or
/// nothing; a round already recorded for the same enterprise and year is replaced.
#[utoipa::path(post, path = "/api/v1/rounds/import", tag = "evidence",
    request_body(content_type = "multipart/form-data", description = "field: file (.xlsx or .csv) with columns credit_code, list_year, reasons, accepted_on"),
    responses((status = 200, body = RowsReport), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = RowsRefusal, description = "invalid rows; nothing written")))]
pub async fn api_import_rounds(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    api_import(&state, &caller, ImportKind::Rounds, multipart).await
}

/// An enterprise's past audit rounds, oldest first; 404 outside the scope.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/rounds", tag = "evidence",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PastRound>), (status = 404, body = ErrorBody)))]
pub async fn api_enterprise_rounds(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PastRound>>, ApiError> {
    let principal = caller.principal()?;
    let enterprise = visible_enterprise(&state, principal, id).await?;
    let rows = state
        .db()
        .past_rounds(principal.scope(), &enterprise)
        .await?;
    Ok(Json(rows.into_iter().map(PastRound::from).collect()))
}
