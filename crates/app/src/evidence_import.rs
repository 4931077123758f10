//! Importing evidence and past audit rounds from a spreadsheet: every row names a registered
//! enterprise within the caller's jurisdiction by its credit code; a file is written whole, in
//! one transaction, or not at all.

use std::collections::HashMap;

use cpaudit_core::determination::EvidenceKind;
use cpaudit_core::evidence::{EvidenceDraft, PastRoundDraft};
use cpaudit_core::registry::{FieldError, Message};
use cpaudit_core::CreditCode;
use cpaudit_storage::evidence::evidence_sources;
use cpaudit_storage::Principal;

use crate::rows::{read_rows, CheckedRows, Column, ImportRow, RowsReport};
use crate::{App, Result};

pub const EVIDENCE_COLUMNS: [Column; 12] = [
    Column {
        field: "credit_code",
        aliases: &["统一社会信用代码", "credit_code", "信用代码"],
        required: true,
        note: (
            "企业名录中已登记、且在您管辖范围内的企业",
            "an enterprise of the registry within your jurisdiction",
        ),
    },
    Column {
        field: "kind",
        aliases: &["证据类型", "kind"],
        required: true,
        note: (
            "见下方证据类型表（代码或中文名称均可）",
            "see the kinds below (code or name)",
        ),
    },
    Column {
        field: "observed_on",
        aliases: &["观测日期", "observed_on", "监测日期"],
        required: true,
        note: ("YYYY-MM-DD，不晚于今天", "YYYY-MM-DD, not after today"),
    },
    Column {
        field: "source",
        aliases: &["证据来源", "source", "来源"],
        required: true,
        note: (
            "见下方来源表（代码或中文名称均可）",
            "see the sources below (code or name)",
        ),
    },
    Column {
        field: "document_ref",
        aliases: &["证明文件编号", "document_ref", "文件编号"],
        required: true,
        note: (
            "监测报告编号、检查笔录等",
            "monitoring report number, inspection record…",
        ),
    },
    Column {
        field: "substance",
        aliases: &["污染物或物质", "substance", "污染物", "物质"],
        required: false,
        note: (
            "污染物、物质或废物名称；重金属填 Pb、Hg、Cd、Cr 或 As",
            "pollutant, substance or waste; for heavy metals Pb, Hg, Cd, Cr or As",
        ),
    },
    Column {
        field: "amount",
        aliases: &["数值", "amount", "数量"],
        required: false,
        note: ("大于 0 的数值", "a number above 0"),
    },
    Column {
        field: "limit",
        aliases: &["限值", "limit"],
        required: false,
        note: (
            "仅超标、超总量：标准限值或总量指标",
            "exceedances only: limit or quota",
        ),
    },
    Column {
        field: "unit",
        aliases: &["单位", "unit"],
        required: false,
        note: ("如 mg/m3、t/a、t", "e.g. mg/m3, t/a, t"),
    },
    Column {
        field: "standard",
        aliases: &["执行标准", "standard"],
        required: false,
        note: (
            "仅超标、超总量：如 GB 13223-2011",
            "exceedances only: e.g. GB 13223-2011",
        ),
    },
    Column {
        field: "toxic_category",
        aliases: &["有毒有害类别", "toxic_category"],
        required: false,
        note: (
            "仅有毒有害原料、排放：1–5",
            "toxic raw materials and discharges only: 1–5",
        ),
    },
    Column {
        field: "hw_code",
        aliases: &["危险废物类别", "hw_code", "危废代码"],
        required: false,
        note: ("仅危险废物：HW01–HW50", "hazardous waste only: HW01–HW50"),
    },
];

pub const ROUND_COLUMNS: [Column; 4] = [
    Column {
        field: "credit_code",
        aliases: &["统一社会信用代码", "credit_code", "信用代码"],
        required: true,
        note: ("企业名录中已登记、且在您管辖范围内的企业", "an enterprise of the registry within your jurisdiction"),
    },
    Column {
        field: "list_year",
        aliases: &["列入年份", "list_year", "年份"],
        required: true,
        note: ("列入强制性清洁生产审核名单的年份", "the year the enterprise was listed for a mandatory audit"),
    },
    Column {
        field: "reasons",
        aliases: &["审核原因", "reasons", "原因"],
        required: true,
        note: ("超标、超总量、双有中的一项或多项，用顿号或逗号分隔", "one or more of exceed_concentration, exceed_total_load, double_toxic, separated by commas"),
    },
    Column {
        field: "accepted_on",
        aliases: &["验收日期", "accepted_on"],
        required: false,
        note: ("YYYY-MM-DD；尚未验收则留空", "YYYY-MM-DD; empty when not yet accepted"),
    },
];

/// Spreadsheets carry names as people write them: the code, or its Chinese or English label.
fn kind_code(text: &str) -> String {
    EvidenceKind::all()
        .iter()
        .find(|k| k.label_zh() == text || k.label_en().eq_ignore_ascii_case(text))
        .map(|k| k.as_str().to_string())
        .unwrap_or_else(|| text.to_string())
}

fn source_code(text: &str) -> String {
    evidence_sources()
        .into_iter()
        .find(|(_, s)| s.label_zh() == text || s.label_en().eq_ignore_ascii_case(text))
        .map_or_else(|| text.to_string(), |(name, _)| name)
}

fn normalized_code(text: &str) -> String {
    text.trim().to_ascii_uppercase()
}

/// The enterprise a row's credit code names, if the caller manages it.
fn enterprise_for(
    code: &str,
    registered: &HashMap<String, (i64, String)>,
    principal: &Principal,
) -> Result<i64, FieldError> {
    CreditCode::parse(code).map_err(|error| error.to_field_error("credit_code"))?;
    match registered.get(code) {
        None => Err(FieldError::new(
            "credit_code",
            "unknown_enterprise",
            Message::new(
                "企业名录中没有该统一社会信用代码的企业",
                "no enterprise with this credit code is registered",
            ),
        )),
        Some((_, city)) if !principal.scope().may_manage_city(city) => Err(FieldError::new(
            "credit_code",
            "outside_jurisdiction",
            Message::new(
                "该企业不在您的管辖范围内",
                "this enterprise is outside your jurisdiction",
            ),
        )),
        Some((id, _)) => Ok(*id),
    }
}

/// Reads and checks a file whose rows each name an enterprise by credit code: `check` gets the
/// row, its normalized code and the registered enterprises (id, city) by code.
async fn check_enterprise_rows<T>(
    app: &App,
    file_name: &str,
    bytes: &[u8],
    columns: &[Column],
    mut check: impl FnMut(
        &ImportRow,
        &str,
        &HashMap<String, (i64, String)>,
        &mut Vec<FieldError>,
    ) -> Option<T>,
) -> Result<CheckedRows<T>> {
    let rows = read_rows(file_name, bytes, columns)?;
    let code_of = |row: &ImportRow| normalized_code(&row.text("credit_code"));
    let codes: Vec<String> = rows.iter().map(code_of).collect();
    let registered = app.db().registered_credit_codes(&codes).await?;
    Ok(CheckedRows::check(
        &rows,
        |row| Some(code_of(row)),
        |row, errors| check(row, &code_of(row), &registered, errors),
    ))
}

/// Imports confirmed evidence: checks every row, and writes all of them in one transaction only
/// when every row is valid.
pub async fn import_evidence(
    app: &App,
    principal: &Principal,
    file_name: &str,
    bytes: &[u8],
) -> Result<RowsReport> {
    let today = app.today();
    let checked = check_enterprise_rows(
        app,
        file_name,
        bytes,
        &EVIDENCE_COLUMNS,
        |row, code, registered, errors| {
            let enterprise = enterprise_for(code, registered, principal)
                .map_err(|error| errors.push(error))
                .ok();
            let draft = EvidenceDraft {
                kind: kind_code(&row.text("kind")),
                observed_on: row.text("observed_on"),
                source: source_code(&row.text("source")),
                document_ref: row.text("document_ref"),
                substance: row.text("substance"),
                amount: row.text("amount"),
                limit: row.text("limit"),
                unit: row.text("unit"),
                standard: row.text("standard"),
                toxic_category: row.text("toxic_category"),
                hw_code: row.text("hw_code"),
            };
            match (draft.validate(today), enterprise) {
                (Ok(evidence), Some(id)) => Some((id, evidence)),
                (Ok(_), None) => None,
                (Err(mut found), _) => {
                    errors.append(&mut found);
                    None
                }
            }
        },
    )
    .await?;
    let written = if checked.all_valid() {
        app.db()
            .import_evidence(principal, &checked.valid, app.now())
            .await?
    } else {
        0
    };
    Ok(checked.report(file_name, written))
}

/// Imports past rounds: the same checks, and one round per enterprise and year in a file (a
/// second one would silently replace the first).
pub async fn import_past_rounds(
    app: &App,
    principal: &Principal,
    file_name: &str,
    bytes: &[u8],
) -> Result<RowsReport> {
    let today = app.today();
    let mut first_line: HashMap<(i64, i32), usize> = HashMap::new();
    let checked = check_enterprise_rows(
        app,
        file_name,
        bytes,
        &ROUND_COLUMNS,
        |row, code, registered, errors| {
            let draft = PastRoundDraft {
                credit_code: code.to_string(),
                list_year: row.text("list_year"),
                reasons: row.text("reasons"),
                accepted_on: row.text("accepted_on"),
            };
            // A malformed code is reported by the round's own validation.
            let enterprise = if CreditCode::parse(code).is_ok() {
                enterprise_for(code, registered, principal)
                    .map_err(|error| errors.push(error))
                    .ok()
            } else {
                None
            };
            match (draft.validate(today), enterprise) {
                (Ok(round), Some(id)) => match first_line.get(&(id, round.list_year)) {
                    Some(first) => {
                        errors.push(FieldError::new(
                            "list_year",
                            "duplicate_in_file",
                            Message::new(
                                format!("与第 {first} 行重复：同一企业同一年份只能有一轮"),
                                format!("same enterprise and year as line {first}"),
                            ),
                        ));
                        None
                    }
                    None => {
                        first_line.insert((id, round.list_year), row.line);
                        Some((id, round))
                    }
                },
                (Ok(_), None) => None,
                (Err(mut found), _) => {
                    errors.append(&mut found);
                    None
                }
            }
        },
    )
    .await?;
    let written = if checked.all_valid() {
        let source: String = format!("import {today} {file_name}")
            .chars()
            .take(120)
            .collect();
        app.db()
            .import_past_rounds(principal, &checked.valid, &source, app.now())
            .await?
    } else {
        0
    };
    Ok(checked.report(file_name, written))
}
