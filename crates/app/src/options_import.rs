//! Importing a round's cleaner production options from the .xlsx template or a .csv with its
//! columns: the option's fields, one column per indicator for its expected value, and a note
//! that becomes the basis of the row's expected values.

use std::sync::LazyLock;

use cpaudit_core::options::{Indicator, OptionDraft, OptionWork, ValueDraft};
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::{InScope, Principal};

use crate::options::{check, limits, other_codes};
use crate::rows::{read_rows, CheckedRows, Column, ImportRow, RowsReport};
use crate::{App, Result};

/// The template's Chinese headers of the indicator columns, with their units.
static INDICATOR_HEADERS: LazyLock<Vec<String>> = LazyLock::new(|| {
    Indicator::ALL
        .iter()
        .map(|i| format!("{}（{}）", i.label_zh(), i.unit().symbol()))
        .collect()
});

/// The headers each indicator column accepts: the Chinese one and the key.
static INDICATOR_ALIASES: LazyLock<Vec<[&'static str; 2]>> = LazyLock::new(|| {
    INDICATOR_HEADERS
        .iter()
        .zip(Indicator::ALL)
        .map(|(header, indicator)| [header.as_str(), indicator.key()])
        .collect()
});

const NOTE_FIELD: &str = "note";

/// The columns of the options template: the option's fields, one column per indicator for its
/// expected value, and a note that becomes the basis of the row's expected values.
pub static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let mut columns = vec![
        Column {
            field: "code",
            aliases: &["方案编号", "code", "编号"],
            required: true,
            note: ("本轮内唯一，如 F-01", "unique in the round, e.g. F-01"),
        },
        Column {
            field: "name",
            aliases: &["方案名称", "name", "名称"],
            required: true,
            note: ("", ""),
        },
        Column {
            field: "cost_class",
            aliases: &["方案类别", "cost_class", "类别"],
            required: true,
            note: (
                "无/低费 或 中/高费（也可填 no_low、medium_high）",
                "no_low or medium_high (or 无/低费, 中/高费)",
            ),
        },
        Column {
            field: "description",
            aliases: &["方案简述", "description", "简述", "方案内容"],
            required: true,
            note: ("", ""),
        },
        Column {
            field: "investment_10k_yuan",
            aliases: &["投资（万元）", "investment_10k_yuan", "投资额（万元）"],
            required: true,
            note: ("不小于 0，单位万元", "at least 0, in 10k yuan"),
        },
    ];
    for (indicator, aliases) in Indicator::ALL.iter().zip(INDICATOR_ALIASES.iter()) {
        columns.push(Column {
            field: indicator.key(),
            aliases,
            required: false,
            note: if indicator.may_be_negative() {
                (
                    "预期年效益，单位见表头；可为负值，须在“说明”列写明原因；可留空",
                    "expected yearly effect in the header's unit; may be negative with a note saying why; may be empty",
                )
            } else {
                (
                    "预期年削减量，单位见表头，不为负；可留空",
                    "expected yearly reduction in the header's unit, not negative; may be empty",
                )
            },
        });
    }
    columns.push(Column {
        field: NOTE_FIELD,
        aliases: &["说明", NOTE_FIELD, "备注"],
        required: false,
        note: (
            "预期值的测算依据；有负值时必填",
            "how the expected values were estimated; required when one is negative",
        ),
    });
    columns
});

/// The column a core field error is about: `values.<key>` is the indicator's column, a value's
/// basis is the note column.
fn import_field(field: &str) -> String {
    match field.strip_prefix("values.") {
        Some(rest) if rest.ends_with(".basis") => NOTE_FIELD.to_string(),
        Some(rest) => rest.split('.').next().unwrap_or(rest).to_string(),
        None => field.to_string(),
    }
}

fn row_draft(row: &ImportRow) -> OptionDraft {
    let note = row.text(NOTE_FIELD);
    OptionDraft {
        code: row.text("code"),
        name: row.text("name"),
        cost_class: row.text("cost_class"),
        description: row.text("description"),
        investment_10k_yuan: row.text("investment_10k_yuan"),
        expected: Indicator::ALL
            .iter()
            .filter(|i| !row.text(i.key()).is_empty())
            .map(|i| ValueDraft {
                indicator: i.key().to_string(),
                quantity: row.text(i.key()),
                unit: String::new(),
                basis: note.clone(),
            })
            .collect(),
    }
}

/// Imports options (status proposed): checks every row against the round's options and the
/// file's earlier rows, and adds all of them in one transaction only when every row is valid.
pub async fn import(
    app: &App,
    principal: &Principal,
    round: &InScope<RoundRow>,
    file_name: &str,
    bytes: &[u8],
) -> Result<RowsReport> {
    check(OptionWork::Edit, round, principal)?;
    let limits = limits(app)?;
    let rows = read_rows(file_name, bytes, &COLUMNS)?;
    let mut codes = other_codes(&app.db().option_sheet(round).await?, None);
    let checked = CheckedRows::check(
        &rows,
        |_| None,
        |row, errors| match row_draft(row).validate(&codes, &limits) {
            Ok(option) => {
                codes.push(option.code.clone());
                Some(option)
            }
            Err(found) => {
                errors.extend(found.into_iter().map(|mut e| {
                    e.field = import_field(&e.field);
                    e
                }));
                None
            }
        },
    );
    let written = if checked.all_valid() {
        app.db()
            .import_options(principal, round, &checked.valid, file_name, app.now())
            .await?
    } else {
        0
    };
    Ok(checked.report(file_name, written))
}
