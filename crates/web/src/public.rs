//! Public information, open to anyone without a login: the published lists of enterprises that
//! must audit (pages, open-data downloads with their data dictionary, and a JSON API), and the
//! rule book the system computes with, each value with its sources and how sure we are of them.
//!
//! A published list is frozen; a correction is a new version. Both versions stay visible so that
//! anyone can see what was published, what changed, when and why.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use cpaudit_core::determination::Reason;
use cpaudit_core::registry::Message;
use cpaudit_core::rules::{
    Confidence, Document, InForce, MonthDay, Parameter, RuleBook, RuleCitation, RuleValue, Unit,
    ValuePeriod,
};
use cpaudit_office::{Cell, SheetSpec, TableFormat};
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::lists::{ListEntryFilter, ListKind, PublishedEntry, PublishedList};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::i18n::Lang;
use crate::pages::{city_name, render, Ctx, OptionView};
use crate::views::lists as views;
use crate::AppState;

/// Where the columns of the downloads are explained; named in every JSON download.
const DICTIONARY_PATH: &str = "/public/data-dictionary";

/// The same limit as the enterprise search: longer input is no name or credit code.
const MAX_QUERY_CHARS: usize = 100;

fn blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn bad_parameter(field: &str, value: &str, expected: &str) -> AppError {
    AppError::bad_request(
        "invalid_parameter",
        Some(field),
        Message::new(
            format!("参数 {field} 的值“{value}”无效，应为 {expected}"),
            format!("parameter {field}: \"{value}\" is not valid; expected {expected}"),
        ),
    )
}

// ---- labels ----------------------------------------------------------------------------------

/// How an entry's reason reads on the list: 双超（超标）, 双有（第1、3类）.
fn reason_label(reason: Reason, categories: &BTreeSet<u8>, lang: Lang) -> String {
    let numbers = |separator: &str| {
        categories
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(separator)
    };
    match (lang, reason) {
        (Lang::Zh, Reason::ExceedConcentration) => "双超（超标）".into(),
        (Lang::Zh, Reason::ExceedTotalLoad) => "双超（超总量）".into(),
        (Lang::Zh, Reason::DoubleToxic) if categories.is_empty() => "双有".into(),
        (Lang::Zh, Reason::DoubleToxic) => format!("双有（第{}类）", numbers("、")),
        (Lang::En, Reason::DoubleToxic) if !categories.is_empty() => {
            let word = if categories.len() == 1 {
                "category"
            } else {
                "categories"
            };
            format!("{}, {word} {}", reason.label_en(), numbers(", "))
        }
        (Lang::En, reason) => reason.label_en().into(),
    }
}

fn reason_labels(reasons: &BTreeSet<Reason>, categories: &BTreeSet<u8>, lang: Lang) -> Vec<String> {
    reasons
        .iter()
        .map(|reason| reason_label(*reason, categories, lang))
        .collect()
}

fn kind_label(kind: ListKind, lang: Lang) -> &'static str {
    match kind {
        ListKind::Supplementary => lang.texts().supplementary_list,
        ListKind::Main => lang.texts().main_list,
    }
}

fn version_label(version: i64, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("第 {version} 版"),
        Lang::En => format!("version {version}"),
    }
}

fn industry_name(state: &AppState, code: &str, fallback_zh: &str, lang: Lang) -> String {
    state
        .reference()
        .industries
        .iter()
        .find(|i| i.code == code)
        .map_or(fallback_zh, |i| lang.pick(&i.name_zh, &i.name_en))
        .to_string()
}

// ---- entry filters -------------------------------------------------------------------------

/// The filters of a list's entries, as the page's form, the downloads and the API take them.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// Any part of the enterprise name or credit code.
    pub q: Option<String>,
    /// Jurisdiction code of a city-level unit, e.g. 620100.
    pub city: Option<String>,
    /// exceed_concentration | exceed_total_load | double_toxic
    pub reason: Option<String>,
}

impl EntryQuery {
    /// Checks the filters; a bad value names its parameter.
    fn filter(&self, state: &AppState) -> Result<ListEntryFilter, AppError> {
        let q = blank(&self.q);
        if q.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            return Err(bad_parameter("q", "…", "at most 100 characters"));
        }
        let city = blank(&self.city);
        if let Some(city) = city {
            if !state.reference().cities().any(|j| j.code == city) {
                return Err(bad_parameter(
                    "city",
                    city,
                    "the code of a city-level unit, e.g. 620100",
                ));
            }
        }
        let reason = match blank(&self.reason) {
            Some(reason) => Some(Reason::parse(reason).ok_or_else(|| {
                bad_parameter(
                    "reason",
                    reason,
                    "exceed_concentration|exceed_total_load|double_toxic",
                )
            })?),
            None => None,
        };
        Ok(ListEntryFilter {
            city: city.map(str::to_string),
            q: q.map(str::to_string),
            reason,
        })
    }

    /// The filters without blanks, as echoed in downloads and links.
    fn normalized(&self) -> EntryQuery {
        let keep = |value: &Option<String>| blank(value).map(str::to_string);
        EntryQuery {
            q: keep(&self.q),
            city: keep(&self.city),
            reason: keep(&self.reason),
        }
    }

    fn query_string(&self) -> String {
        serde_urlencoded::to_string(self.normalized()).unwrap_or_default()
    }
}

// ---- open data -------------------------------------------------------------------------------

/// One enterprise on a published list, as the downloads and the API give it. The field names
/// are the column names of the CSV and Excel downloads and of the data dictionary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenEntry {
    pub list_id: i64,
    pub credit_code: String,
    pub name: String,
    pub jurisdiction_code: String,
    /// The official Chinese name of the city-level unit.
    pub jurisdiction_name: String,
    /// GB/T 4754-2017 industry code.
    pub industry_code: String,
    /// The official Chinese name of the industry class.
    pub industry_name: String,
    /// exceed_concentration | exceed_total_load | double_toxic
    pub reasons: Vec<String>,
    /// The reasons as the list words them, e.g. 双超（超标）；双有（第1、3类）.
    pub reasons_zh: String,
    /// Categories 1–5 of toxic or hazardous substances, for double_toxic.
    pub toxic_categories: Vec<u8>,
    /// For double_toxic: the list year the audit round is due in.
    pub due_year: Option<i64>,
    /// The publication date the legal deadlines run from (YYYY-MM-DD).
    pub clocks_from: String,
}

impl OpenEntry {
    fn new(entry: &PublishedEntry) -> OpenEntry {
        let reasons = &entry.reasons.0;
        let categories = &entry.toxic_categories.0;
        OpenEntry {
            list_id: entry.list_id,
            credit_code: entry.credit_code.clone(),
            name: entry.name.clone(),
            jurisdiction_code: entry.jurisdiction_code.clone(),
            jurisdiction_name: entry.jurisdiction_name_zh.clone(),
            industry_code: entry.industry_code.clone(),
            industry_name: entry.industry_name_zh.clone(),
            reasons: reasons.iter().map(|r| r.as_str().to_string()).collect(),
            reasons_zh: reason_labels(reasons, categories, Lang::Zh).join("；"),
            toxic_categories: categories.iter().copied().collect(),
            due_year: entry.due_year,
            clocks_from: entry.clocks_from.to_string(),
        }
    }

    /// The row of the CSV and Excel downloads, in the order of [`ENTRY_COLUMNS`] (the array
    /// length keeps the two in step).
    fn cells(&self) -> [Cell; ENTRY_COLUMNS.len()] {
        let text = |s: &str| Cell::Text(s.to_string());
        let numbers: Vec<String> = self.toxic_categories.iter().map(u8::to_string).collect();
        [
            Cell::Integer(self.list_id),
            text(&self.credit_code),
            text(&self.name),
            text(&self.jurisdiction_code),
            text(&self.jurisdiction_name),
            text(&self.industry_code),
            text(&self.industry_name),
            Cell::Text(self.reasons.join(",")),
            text(&self.reasons_zh),
            Cell::Text(numbers.join(",")),
            self.due_year.into(),
            text(&self.clocks_from),
        ]
    }
}

/// A published list with its (filtered) entries: the JSON download and the API answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenList {
    pub list: views::PublishedList,
    /// The filters `entries` were selected with.
    pub filters: EntryQuery,
    /// Where the fields are explained.
    pub data_dictionary: &'static str,
    pub entries: Vec<OpenEntry>,
}

async fn open_list(state: &AppState, id: i64, query: &EntryQuery) -> Result<OpenList, AppError> {
    let filter = query.filter(state)?;
    let list = state
        .db()
        .published_list(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entries = state.db().published_entries(id, &filter).await?;
    Ok(OpenList {
        list: list.into(),
        filters: query.normalized(),
        data_dictionary: DICTIONARY_PATH,
        entries: entries.iter().map(OpenEntry::new).collect(),
    })
}

fn download_name(list: &views::PublishedList, extension: &str) -> String {
    format!(
        "list-{}-batch{}-v{}.{extension}",
        list.list_year, list.batch, list.version
    )
}

fn attachment(content_type: &str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

async fn table_download(
    state: &AppState,
    id: i64,
    query: &EntryQuery,
    format: TableFormat,
) -> Result<Response, AppError> {
    let open = open_list(state, id, query).await?;
    // Column names, not translated headers: scripts that read the file keep working whatever
    // language the visitor chose, and the data dictionary gives each its Chinese name.
    let headers: Vec<&str> = ENTRY_COLUMNS.iter().map(|c| c.name).collect();
    let rows: Vec<Vec<Cell>> = open.entries.iter().map(|e| e.cells().to_vec()).collect();
    let body = match format {
        TableFormat::Csv => cpaudit_office::write_csv(&headers, &rows),
        TableFormat::Xlsx => cpaudit_office::write_xlsx(
            &SheetSpec {
                name: "entries",
                headers: &headers,
                column_widths: None,
            },
            &rows,
        )
        .map_err(|error| {
            tracing::error!(%error, "xlsx download failed");
            AppError::Internal
        })?,
    };
    Ok(attachment(
        format.content_type(),
        &download_name(&open.list, format.extension()),
        body,
    ))
}

pub async fn entries_csv(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<EntryQuery>,
) -> Result<Response, AppError> {
    table_download(&state, id, &query, TableFormat::Csv).await
}

pub async fn entries_xlsx(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<EntryQuery>,
) -> Result<Response, AppError> {
    table_download(&state, id, &query, TableFormat::Xlsx).await
}

pub async fn entries_json(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<EntryQuery>,
) -> Result<Response, AppError> {
    let open = open_list(&state, id, &query).await?;
    let body = serde_json::to_vec_pretty(&open).map_err(|_| AppError::Internal)?;
    Ok(attachment(
        "application/json",
        &download_name(&open.list, "json"),
        body,
    ))
}

// ---- data dictionary -------------------------------------------------------------------------

/// One column of the downloads (or one field of the list metadata).
struct Column {
    name: &'static str,
    kind: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    meaning_zh: &'static str,
    meaning_en: &'static str,
}

const ENTRY_COLUMNS: [Column; 12] = [
    Column {
        name: "list_id",
        kind: "integer",
        name_zh: "名单编号",
        name_en: "List id",
        meaning_zh: "名单（某一版本）的编号，对应 /public/lists/{编号}。",
        meaning_en: "Id of the list version, as in /public/lists/{id}.",
    },
    Column {
        name: "credit_code",
        kind: "string",
        name_zh: "统一社会信用代码",
        name_en: "Unified social credit code",
        meaning_zh: "企业的 18 位统一社会信用代码。",
        meaning_en: "The enterprise's 18-character unified social credit code.",
    },
    Column {
        name: "name",
        kind: "string",
        name_zh: "企业名称",
        name_en: "Enterprise name",
        meaning_zh: "名单公布时登记的企业名称。",
        meaning_en: "The enterprise's registered name when the list was published.",
    },
    Column {
        name: "jurisdiction_code",
        kind: "string",
        name_zh: "市州代码",
        name_en: "City code",
        meaning_zh: "企业所属市州的行政区划代码（GB/T 2260）。",
        meaning_en: "Administrative division code (GB/T 2260) of the enterprise's city-level unit.",
    },
    Column {
        name: "jurisdiction_name",
        kind: "string",
        name_zh: "市州名称",
        name_en: "City name",
        meaning_zh: "市州的中文名称。",
        meaning_en: "Official Chinese name of the city-level unit.",
    },
    Column {
        name: "industry_code",
        kind: "string",
        name_zh: "行业代码",
        name_en: "Industry code",
        meaning_zh: "国民经济行业分类（GB/T 4754-2017）代码。",
        meaning_en: "Industry code of GB/T 4754-2017.",
    },
    Column {
        name: "industry_name",
        kind: "string",
        name_zh: "行业名称",
        name_en: "Industry name",
        meaning_zh: "行业分类的中文名称。",
        meaning_en: "Official Chinese name of the industry class.",
    },
    Column {
        name: "reasons",
        kind: "list of codes",
        name_zh: "列入原因代码",
        name_en: "Reason codes",
        meaning_zh: "企业被列入名单的原因（《清洁生产促进法》第二十七条）：双超或双有。",
        meaning_en: "Why the enterprise is listed (Cleaner Production Promotion Law Art. 27): over a standard or quota (双超), or toxic or hazardous substances (双有).",
    },
    Column {
        name: "reasons_zh",
        kind: "string",
        name_zh: "列入原因",
        name_en: "Reasons as worded",
        meaning_zh: "名单上的原因表述，如“双超（超标）”“双有（第1、3类）”，以“；”分隔。",
        meaning_en: "The reasons as the list words them, e.g. 双超（超标） or 双有（第1、3类）, separated by \"；\".",
    },
    Column {
        name: "toxic_categories",
        kind: "list of integers",
        name_zh: "有毒有害物质类别",
        name_en: "Toxic substance categories",
        meaning_zh: "双有企业使用或排放的有毒有害物质类别；非双有企业为空。",
        meaning_en: "The categories of toxic or hazardous substances of a 双有 enterprise; empty otherwise.",
    },
    Column {
        name: "due_year",
        kind: "integer",
        name_zh: "审核年度",
        name_en: "Due year",
        meaning_zh: "双有企业本轮审核应在的名单年度；可为空。",
        meaning_en: "For a 双有 enterprise, the list year its audit round is due in; may be empty.",
    },
    Column {
        name: "clocks_from",
        kind: "date",
        name_zh: "期限起算日",
        name_en: "Deadlines run from",
        meaning_zh: "信息公开、开展审核等法定期限的起算日（名单公布日期，YYYY-MM-DD）。",
        meaning_en: "The day the legal deadlines (disclosure, start of the audit, report) run from: the publication date, YYYY-MM-DD.",
    },
];

const LIST_FIELDS: [Column; 13] = [
    Column {
        name: "id",
        kind: "integer",
        name_zh: "名单编号",
        name_en: "List id",
        meaning_zh: "本版本名单的编号。",
        meaning_en: "Id of this list version.",
    },
    Column {
        name: "list_year",
        kind: "integer",
        name_zh: "名单年度",
        name_en: "List year",
        meaning_zh: "名单所属年度。",
        meaning_en: "The year the list is for.",
    },
    Column {
        name: "batch",
        kind: "integer",
        name_zh: "批次",
        name_en: "Batch",
        meaning_zh: "该年度内的公布批次，从 1 起。",
        meaning_en: "The publication batch within the year, from 1.",
    },
    Column {
        name: "kind",
        kind: "string",
        name_zh: "名单类型",
        name_en: "Kind",
        meaning_zh: "主名单或补充名单。",
        meaning_en: "Main or supplementary list.",
    },
    Column {
        name: "version",
        kind: "integer",
        name_zh: "版本",
        name_en: "Version",
        meaning_zh: "版本号，首次公布为 1，每次更正加 1。",
        meaning_en: "1 when first published, one more with each correction.",
    },
    Column {
        name: "supersedes",
        kind: "integer",
        name_zh: "所更正的版本",
        name_en: "Supersedes",
        meaning_zh: "本版本更正的上一版本的编号；首次公布为空。",
        meaning_en: "Id of the version this one corrects; empty for a first publication.",
    },
    Column {
        name: "superseded_by",
        kind: "integer",
        name_zh: "更正后的版本",
        name_en: "Superseded by",
        meaning_zh: "更正本版本的新版本编号；为空表示本版本现行有效。",
        meaning_en:
            "Id of the version that corrects this one; empty while this version is current.",
    },
    Column {
        name: "correction_reason",
        kind: "string",
        name_zh: "更正原因",
        name_en: "Correction reason",
        meaning_zh: "本版本更正上一版本的原因；首次公布为空。",
        meaning_en: "Why this version corrects the previous one; empty for a first publication.",
    },
    Column {
        name: "title",
        kind: "string",
        name_zh: "标题",
        name_en: "Title",
        meaning_zh: "公布文件的标题。",
        meaning_en: "Title of the publication.",
    },
    Column {
        name: "document_number",
        kind: "string",
        name_zh: "文号",
        name_en: "Document number",
        meaning_zh: "公布文件的文号。",
        meaning_en: "Number of the publishing document (文号).",
    },
    Column {
        name: "published_on",
        kind: "date",
        name_zh: "公布日期",
        name_en: "Published on",
        meaning_zh: "本版本的公布日期（北京时间，YYYY-MM-DD）。",
        meaning_en: "The day this version was published (China Standard Time, YYYY-MM-DD).",
    },
    Column {
        name: "published_at",
        kind: "timestamp",
        name_zh: "发布时间",
        name_en: "Published at",
        meaning_zh: "本版本录入系统的时间（UTC，RFC 3339）。",
        meaning_en: "When this version was entered in the system (UTC, RFC 3339).",
    },
    Column {
        name: "entry_count",
        kind: "integer",
        name_zh: "企业数",
        name_en: "Entries",
        meaning_zh: "本版本名单上的企业总数（不受筛选影响）。",
        meaning_en: "Number of enterprises on this version, whatever the filters.",
    },
];

/// A value a column may take.
#[derive(Debug, Serialize)]
pub struct AllowedValue {
    pub value: String,
    pub label_zh: String,
    pub label_en: String,
    /// A page that says more (the rule the value comes from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub see: Option<String>,
}

impl AllowedValue {
    pub fn label(&self, lang: &Lang) -> &str {
        lang.pick(&self.label_zh, &self.label_en)
    }
}

#[derive(Debug, Serialize)]
pub struct ColumnDoc {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub meaning_zh: &'static str,
    pub meaning_en: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<AllowedValue>,
}

impl ColumnDoc {
    pub fn title(&self, lang: &Lang) -> &'static str {
        lang.pick(self.name_zh, self.name_en)
    }

    pub fn meaning(&self, lang: &Lang) -> &'static str {
        lang.pick(self.meaning_zh, self.meaning_en)
    }
}

#[derive(Debug, Serialize)]
pub struct DataDictionary {
    /// The columns of the CSV and Excel downloads, in order; the fields of each entry in JSON.
    pub entry_columns: Vec<ColumnDoc>,
    /// The fields of `list` in the JSON download and the API.
    pub list_fields: Vec<ColumnDoc>,
    pub formats_zh: &'static str,
    pub formats_en: &'static str,
}

fn allowed_values(state: &AppState, column: &str) -> Vec<AllowedValue> {
    let plain = |value: &str, zh: &str, en: &str| AllowedValue {
        value: value.to_string(),
        label_zh: zh.to_string(),
        label_en: en.to_string(),
        see: None,
    };
    match column {
        "reasons" => Reason::ALL
            .iter()
            .map(|r| {
                let none = BTreeSet::new();
                let zh = reason_label(*r, &none, Lang::Zh);
                plain(r.as_str(), &zh, &reason_label(*r, &none, Lang::En))
            })
            .collect(),
        // The categories are whatever the rule book defines, so that the dictionary cannot list
        // a category the law does not have; their wording and how sure we are of it is on the
        // rule's page.
        "toxic_categories" => state
            .rules()
            .parameters
            .iter()
            .filter_map(|p| {
                let number = p.id.strip_prefix("toxic.category.")?;
                Some(AllowedValue {
                    see: Some(format!("/rules/{}", p.id)),
                    ..plain(number, &p.name_zh, &p.name_en)
                })
            })
            .collect(),
        "jurisdiction_code" => state
            .reference()
            .cities()
            .map(|j| plain(&j.code, &j.name_zh, &j.name_en))
            .collect(),
        "kind" => vec![
            plain("main", "主名单", "main list"),
            plain("supplementary", "补充名单", "supplementary list"),
        ],
        _ => Vec::new(),
    }
}

fn data_dictionary(state: &AppState) -> DataDictionary {
    let docs = |columns: &[Column]| {
        columns
            .iter()
            .map(|c| ColumnDoc {
                name: c.name,
                kind: c.kind,
                name_zh: c.name_zh,
                name_en: c.name_en,
                meaning_zh: c.meaning_zh,
                meaning_en: c.meaning_en,
                allowed: allowed_values(state, c.name),
            })
            .collect()
    };
    DataDictionary {
        entry_columns: docs(&ENTRY_COLUMNS),
        list_fields: docs(&LIST_FIELDS),
        formats_zh: "CSV 为 UTF-8 编码（带 BOM，Excel 可直接打开），首行为列名；以 =、+、-、@ 开头的文本前加单引号，防止被当作公式执行。CSV 与 Excel 中的列表以英文逗号分隔，JSON 中为数组；空值表示无。JSON 下载另含名单信息（list）与所用筛选条件（filters）。",
        formats_en: "CSV is UTF-8 with a BOM (Excel opens it directly), column names in the first row; text starting with =, +, - or @ gets a leading apostrophe so that it is never run as a formula. Lists are comma-separated in CSV and Excel, arrays in JSON; an empty cell means none. The JSON download also carries the list metadata (list) and the filters used (filters).",
    }
}

#[derive(Template)]
#[template(path = "data_dictionary.html")]
struct DictionaryPage {
    ctx: Ctx,
    lang: Lang,
    dictionary: DataDictionary,
}

pub async fn dictionary_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    Ok(render(&DictionaryPage {
        ctx: Ctx::new(&caller),
        lang: caller.lang,
        dictionary: data_dictionary(&state),
    }))
}

pub async fn dictionary_json(State(state): State<AppState>) -> Response {
    Json(data_dictionary(&state)).into_response()
}

// ---- list pages ------------------------------------------------------------------------------

struct ListView {
    list: views::PublishedList,
    kind: &'static str,
    version: String,
}

impl ListView {
    fn new(list: impl Into<views::PublishedList>, lang: Lang) -> ListView {
        let list = list.into();
        ListView {
            kind: kind_label(list.kind, lang),
            version: version_label(list.version, lang),
            list,
        }
    }
}

struct YearGroup {
    heading: String,
    lists: Vec<ListView>,
}

#[derive(Template)]
#[template(path = "public_lists.html")]
struct ListsPage {
    ctx: Ctx,
    years: Vec<YearGroup>,
}

pub async fn lists_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    let lang = caller.lang;
    let mut years: Vec<(i64, Vec<ListView>)> = Vec::new();
    // Newest year first, then batch and version: consecutive rows of a year form its group.
    for list in state.db().published_lists(None).await? {
        match years.last_mut() {
            Some((year, lists)) if *year == list.list_year => lists.push(ListView::new(list, lang)),
            _ => years.push((list.list_year, vec![ListView::new(list, lang)])),
        }
    }
    let years = years
        .into_iter()
        .map(|(year, lists)| YearGroup {
            heading: match lang {
                Lang::Zh => format!("{year} 年度"),
                Lang::En => format!("List year {year}"),
            },
            lists,
        })
        .collect();
    Ok(render(&ListsPage {
        ctx: Ctx::new(&caller),
        years,
    }))
}

struct EntryView {
    name: String,
    credit_code: String,
    city: String,
    industry_code: String,
    industry: String,
    reasons: Vec<String>,
    due_year: Option<i64>,
}

/// A link to another version of the list.
struct VersionLink {
    id: i64,
    label: String,
    published_on: String,
}

impl VersionLink {
    fn new(list: &PublishedList, lang: Lang) -> VersionLink {
        VersionLink {
            id: list.id,
            label: version_label(list.version, lang),
            published_on: date_text(list.published_on),
        }
    }
}

#[derive(Template)]
#[template(path = "public_list.html")]
struct ListPage {
    ctx: Ctx,
    lang: Lang,
    view: ListView,
    /// The version in force, when this one was superseded.
    current: Option<VersionLink>,
    /// The version this correction replaced.
    previous: Option<VersionLink>,
    query: EntryQuery,
    cities: Vec<OptionView>,
    reasons: Vec<OptionView>,
    entries: Vec<EntryView>,
    download_query: String,
}

/// The end of the chain of corrections that starts at `list`.
async fn current_version(
    state: &AppState,
    list: &views::PublishedList,
) -> Result<Option<PublishedList>, AppError> {
    let mut current = None;
    let mut next = list.superseded_by;
    // Each step is one version newer; the bound only guards against a damaged chain.
    for _ in 0..1000 {
        let Some(id) = next else { break };
        let version = state
            .db()
            .published_list(id)
            .await?
            .ok_or(AppError::Internal)?;
        next = version.superseded_by;
        current = Some(version);
    }
    Ok(current)
}

pub async fn list_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<EntryQuery>,
) -> Result<Response, AppError> {
    let lang = caller.lang;
    let open = open_list(&state, id, &query).await?;
    let current = current_version(&state, &open.list).await?;
    let previous = match open.list.supersedes {
        Some(previous) => state.db().published_list(previous).await?,
        None => None,
    };
    let query = open.filters;
    let cities = state
        .reference()
        .cities()
        .map(|j| OptionView {
            value: j.code.clone(),
            label: lang.pick(&j.name_zh, &j.name_en).to_string(),
            selected: query.city.as_deref() == Some(j.code.as_str()),
        })
        .collect();
    let reasons = Reason::ALL
        .iter()
        .map(|r| OptionView {
            value: r.as_str().to_string(),
            label: reason_label(*r, &BTreeSet::new(), lang),
            selected: query.reason.as_deref() == Some(r.as_str()),
        })
        .collect();
    let entries = open
        .entries
        .iter()
        .map(|e| {
            let reasons = e.reasons.iter().filter_map(|r| Reason::parse(r)).collect();
            let categories = e.toxic_categories.iter().copied().collect();
            EntryView {
                name: e.name.clone(),
                credit_code: e.credit_code.clone(),
                city: city_name(&state, lang, &e.jurisdiction_code),
                industry_code: e.industry_code.clone(),
                industry: industry_name(&state, &e.industry_code, &e.industry_name, lang),
                reasons: reason_labels(&reasons, &categories, lang),
                due_year: e.due_year,
            }
        })
        .collect();
    Ok(render(&ListPage {
        ctx: Ctx::new(&caller),
        lang,
        current: current.as_ref().map(|l| VersionLink::new(l, lang)),
        previous: previous.as_ref().map(|l| VersionLink::new(l, lang)),
        view: ListView::new(open.list, lang),
        download_query: query.query_string(),
        query,
        cities,
        reasons,
        entries,
    }))
}

// ---- public list API -------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Only the lists of this year.
    pub year: Option<String>,
}

/// Every published list (all versions: a correction is a new version naming the one it
/// supersedes), newest year first. Public: no token needed.
#[utoipa::path(get, path = "/api/v1/public/lists", tag = "public", security(()), params(YearQuery),
    responses((status = 200, body = Vec<views::PublishedList>), (status = 400, body = ErrorBody)))]
pub async fn api_lists(
    State(state): State<AppState>,
    Query(query): Query<YearQuery>,
) -> Result<Json<Vec<views::PublishedList>>, ApiError> {
    let year = match blank(&query.year) {
        Some(year) => Some(
            year.parse::<i32>()
                .map_err(|_| bad_parameter("year", year, "a year such as 2027"))?,
        ),
        None => None,
    };
    let lists = state.db().published_lists(year).await?;
    Ok(Json(lists.into_iter().map(Into::into).collect()))
}

/// One published list with its entries, filtered like the public page. Public: no token needed.
#[utoipa::path(get, path = "/api/v1/public/lists/{id}", tag = "public", security(()),
    params(("id" = i64, Path), EntryQuery),
    responses((status = 200, body = OpenList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn api_list(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<EntryQuery>,
) -> Result<Json<OpenList>, ApiError> {
    Ok(Json(open_list(&state, id, &query).await?))
}

// ---- the rule book ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RulesQuery {
    /// The day to show the values in force on (YYYY-MM-DD); today (China Standard Time) if absent.
    pub at: Option<String>,
}

impl RulesQuery {
    fn date(&self, state: &AppState) -> Result<NaiveDate, AppError> {
        match blank(&self.at) {
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| bad_parameter("at", text, "a date YYYY-MM-DD")),
            None => Ok(state.today()),
        }
    }
}

pub(crate) fn confidence_label(confidence: Confidence, lang: Lang) -> &'static str {
    match confidence {
        Confidence::Verified => lang.texts().verified_2,
        Confidence::PartlyVerified => lang.texts().unverified_secondary_source,
        Confidence::Unverified => lang.texts().unverified,
        Confidence::LocalPractice => lang.texts().local_practice_not_law,
        Confidence::Design => lang.texts().design_decision_not_law,
    }
}

/// One citation of a value.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleCitationJson {
    /// Id in the documents table.
    pub document: String,
    pub document_title: String,
    pub article: String,
    /// verified | partly_verified | unverified | local_practice | design
    #[schema(value_type = String)]
    pub confidence: Confidence,
    /// True when the citation is not confirmed against an official text.
    pub needs_verification: bool,
    pub quote: Option<String>,
    pub note: Option<String>,
}

impl RuleCitationJson {
    fn new(book: &RuleBook, citation: &RuleCitation) -> RuleCitationJson {
        RuleCitationJson {
            document_title: book
                .document(&citation.document)
                .map_or_else(|| citation.document.clone(), |d| d.title.clone()),
            document: citation.document.clone(),
            article: citation.article.clone(),
            confidence: citation.confidence,
            needs_verification: citation.confidence.needs_verification(),
            quote: citation.quote.clone(),
            note: citation.note.clone(),
        }
    }

    pub fn confidence_label(&self, lang: &Lang) -> &'static str {
        confidence_label(self.confidence, *lang)
    }
}

/// One value of a parameter and the dates it is in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleValueJson {
    pub from: NaiveDate,
    /// The first day the value no longer applies, when it lapses without a successor.
    pub until: Option<NaiveDate>,
    /// The value as the rule file gives it (number, text, list, "MM-DD", true/false).
    pub value: serde_json::Value,
    /// The value with its unit, e.g. "1 个月".
    pub text_zh: String,
    /// The value with its unit, e.g. "1 month".
    pub text_en: String,
    /// In force on the day asked for.
    pub in_force: bool,
    /// True when no citation confirms the value against an official text.
    pub unverified: bool,
    /// law | design | local_practice: what the value rests on.
    pub basis: &'static str,
    pub citations: Vec<RuleCitationJson>,
    pub note: Option<String>,
}

/// The value in Chinese, with the unit words legal texts use.
pub(crate) fn value_text_zh(value: &RuleValue, unit: Unit) -> String {
    match (value, unit) {
        (RuleValue::Integer(n), Unit::Day) => format!("{n} 日"),
        (RuleValue::Integer(n), Unit::Month) => format!("{n} 个月"),
        (RuleValue::Integer(n), Unit::Year) => format!("{n} 年"),
        (RuleValue::Bool(true), _) => "是".into(),
        (RuleValue::Bool(false), _) => "否".into(),
        (RuleValue::List(items), _) => items.join("、"),
        (RuleValue::MonthDay(MonthDay::Day { month, day }), _) => format!("{month}月{day}日"),
        (RuleValue::MonthDay(MonthDay::MonthEnd { month }), _) => format!("{month}月底"),
        (RuleValue::Penalty(penalty), _) => penalty.describe_zh(),
        (other, _) => other.to_string(),
    }
}

/// What a value rests on. A design or local-practice citation means that the value itself is
/// this system's choice or another authority's practice (the other citations then give the duty
/// it fills in), so it must not be presented as law.
fn basis(citations: &[RuleCitation]) -> &'static str {
    let cites = |confidence| citations.iter().any(|c| c.confidence == confidence);
    if cites(Confidence::Design) {
        "design"
    } else if cites(Confidence::LocalPractice) {
        "local_practice"
    } else {
        "law"
    }
}

impl RuleValueJson {
    fn new(
        book: &RuleBook,
        parameter: &Parameter,
        period: &ValuePeriod,
        at: NaiveDate,
    ) -> RuleValueJson {
        // The same test a computed result applies to the rule it used.
        let unverified = InForce { parameter, period }
            .rule_ref(&book.version)
            .needs_verification();
        RuleValueJson {
            from: period.from,
            until: period.until,
            value: serde_json::to_value(&period.value).unwrap_or_default(),
            text_zh: value_text_zh(&period.value, parameter.unit),
            text_en: period.value.describe(parameter.unit),
            in_force: parameter
                .period_at(at)
                .is_some_and(|p| std::ptr::eq(p, period)),
            unverified,
            basis: basis(&period.citations),
            citations: period
                .citations
                .iter()
                .map(|c| RuleCitationJson::new(book, c))
                .collect(),
            note: period.note.clone(),
        }
    }

    pub fn text(&self, lang: &Lang) -> &str {
        lang.pick(&self.text_zh, &self.text_en)
    }

    pub fn basis_label(&self, lang: &Lang) -> Option<&'static str> {
        match self.basis {
            "design" => Some(lang.texts().a_design_choice_of_this_system),
            "local_practice" => Some(lang.texts().follows_local_practice_not_law),
            _ => None,
        }
    }
}

/// A legal parameter.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleJson {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// day | month | year | integer | bool | text | list | month_day
    #[schema(value_type = String)]
    pub unit: Unit,
    pub description: String,
    /// For units text and list: the values the system understands.
    pub allowed: Vec<String>,
    /// The value in force on the day asked for; absent when none is.
    pub in_force: Option<RuleValueJson>,
}

impl RuleJson {
    fn new(book: &RuleBook, parameter: &Parameter, at: NaiveDate) -> RuleJson {
        RuleJson {
            id: parameter.id.clone(),
            name_zh: parameter.name_zh.clone(),
            name_en: parameter.name_en.clone(),
            unit: parameter.unit,
            description: parameter.description.clone(),
            allowed: parameter.allowed.clone(),
            in_force: parameter
                .period_at(at)
                .map(|period| RuleValueJson::new(book, parameter, period, at)),
        }
    }

    pub fn name(&self, lang: &Lang) -> &str {
        lang.pick(&self.name_zh, &self.name_en)
    }

    pub fn unit_label(&self, lang: &Lang) -> &'static str {
        match self.unit {
            Unit::Day => lang.texts().days_2,
            Unit::Month => lang.texts().months,
            Unit::Year => lang.texts().years,
            Unit::Integer => lang.texts().integer,
            Unit::Bool => lang.texts().yes_no,
            Unit::Text => lang.texts().text_5,
            Unit::List => lang.texts().list_3,
            Unit::MonthDay => lang.texts().day_of_the_year,
            Unit::Penalty => lang.texts().penalty,
        }
    }
}

/// A source that citations name.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleDocumentJson {
    pub id: String,
    pub title: String,
    pub number: Option<String>,
    pub issuer: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub repealed_on: Option<NaiveDate>,
    pub url: Option<String>,
    /// How sure the entry itself is (title, number, dates).
    #[schema(value_type = String)]
    pub confidence: Confidence,
    pub needs_verification: bool,
    pub note: Option<String>,
}

impl RuleDocumentJson {
    fn new(document: &Document) -> RuleDocumentJson {
        RuleDocumentJson {
            id: document.id.clone(),
            title: document.title.clone(),
            number: document.number.clone(),
            issuer: document.issuer.clone(),
            issued_on: document.issued_on,
            effective_from: document.effective_from,
            repealed_on: document.repealed_on,
            url: document.url.clone(),
            confidence: document.confidence,
            needs_verification: document.confidence.needs_verification(),
            note: document.note.clone(),
        }
    }

    pub fn confidence_label(&self, lang: &Lang) -> &'static str {
        confidence_label(self.confidence, *lang)
    }
}

/// Every parameter with its value on one day, and the documents table.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleBookJson {
    pub book_version: String,
    pub at: NaiveDate,
    pub parameters: Vec<RuleJson>,
    pub documents: Vec<RuleDocumentJson>,
}

/// One parameter with all its value periods.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleDetailJson {
    pub book_version: String,
    pub at: NaiveDate,
    pub parameter: RuleJson,
    /// Oldest first; `in_force` marks the one in force on `at`.
    pub values: Vec<RuleValueJson>,
}

fn rule_book(state: &AppState, at: NaiveDate) -> RuleBookJson {
    let book = state.rules();
    RuleBookJson {
        book_version: book.version.clone(),
        at,
        parameters: book
            .parameters
            .iter()
            .map(|p| RuleJson::new(book, p, at))
            .collect(),
        documents: book.documents.iter().map(RuleDocumentJson::new).collect(),
    }
}

fn rule_detail(state: &AppState, id: &str, at: NaiveDate) -> Result<RuleDetailJson, AppError> {
    let book = state.rules();
    let parameter = book.parameter(id).ok_or(AppError::NotFound)?;
    Ok(RuleDetailJson {
        book_version: book.version.clone(),
        at,
        parameter: RuleJson::new(book, parameter, at),
        values: parameter
            .values
            .iter()
            .map(|period| RuleValueJson::new(book, parameter, period, at))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    ctx: Ctx,
    lang: Lang,
    book: RuleBookJson,
}

pub async fn rules_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RulesQuery>,
) -> Result<Response, AppError> {
    let at = query.date(&state)?;
    Ok(render(&RulesPage {
        ctx: Ctx::new(&caller),
        lang: caller.lang,
        book: rule_book(&state, at),
    }))
}

#[derive(Template)]
#[template(path = "rule.html")]
struct RulePage {
    ctx: Ctx,
    lang: Lang,
    detail: RuleDetailJson,
}

pub async fn rule_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<RulesQuery>,
) -> Result<Response, AppError> {
    let at = query.date(&state)?;
    Ok(render(&RulePage {
        ctx: Ctx::new(&caller),
        lang: caller.lang,
        detail: rule_detail(&state, &id, at)?,
    }))
}

/// Every legal parameter with its value in force on `at` (default today), its citations and
/// how sure each is, and the documents table. Public: no token needed.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", security(()), params(RulesQuery),
    responses((status = 200, body = RuleBookJson), (status = 400, body = ErrorBody, description = "bad date in `at`")))]
pub async fn api_rules(
    State(state): State<AppState>,
    Query(query): Query<RulesQuery>,
) -> Result<Json<RuleBookJson>, ApiError> {
    let at = query.date(&state)?;
    Ok(Json(rule_book(&state, at)))
}

/// One legal parameter with every value period and its citations; `in_force` marks the value
/// in force on `at` (default today). Public: no token needed.
#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules", security(()),
    params(("id" = String, Path, description = "parameter id, e.g. deadline.disclose"), RulesQuery),
    responses((status = 200, body = RuleDetailJson), (status = 400, body = ErrorBody, description = "bad date in `at`"),
        (status = 404, body = ErrorBody)))]
pub async fn api_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<RulesQuery>,
) -> Result<Json<RuleDetailJson>, ApiError> {
    let at = query.date(&state)?;
    Ok(Json(rule_detail(&state, &id, at)?))
}
