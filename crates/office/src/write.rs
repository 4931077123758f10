//! Writing tables to .xlsx and .csv.

use rust_xlsxwriter::{Format, Workbook};

use crate::xlsx_read::number_text;
use crate::OfficeError;

/// One cell of a table to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, written as text in both formats: codes keep their leading zeros
    /// and a text that looks like a formula is never run as one.
    Text(String),
    /// A number. Not finite (NaN, ±∞) is written as an empty cell.
    Number(f64),
    /// A whole number. In .xlsx, beyond ±999,999,999,999,999 (more digits
    /// than Excel keeps) it is written as text so that no digit is lost.
    Integer(i64),
    /// A boolean: `TRUE`/`FALSE` in CSV, a boolean cell in .xlsx.
    Bool(bool),
    /// An empty cell.
    Empty,
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<f64> for Cell {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<i32> for Cell {
    fn from(value: i32) -> Self {
        Self::Integer(value.into())
    }
}

impl From<u32> for Cell {
    fn from(value: u32) -> Self {
        Self::Integer(value.into())
    }
}

impl From<bool> for Cell {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Empty, Into::into)
    }
}

/// How to lay out the one worksheet [`write_xlsx`] writes.
#[derive(Debug, Clone, Copy)]
pub struct SheetSpec<'a> {
    /// The sheet name; made valid with [`sanitize_sheet_name`].
    pub name: &'a str,
    /// The header row.
    pub headers: &'a [&'a str],
    /// Column widths in Excel's units (about one Latin character each); a
    /// column without one gets a width estimated from its content.
    pub column_widths: Option<&'a [f64]>,
}

/// The characters that make a spreadsheet program take a CSV cell for a
/// formula, also after leading spaces.
const FORMULA_CHARS: [char; 4] = ['=', '+', '-', '@'];

/// The UTF-8 byte order mark: without it Excel reads UTF-8 CSV as the local
/// ANSI code page and garbles Chinese.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes a CSV file: UTF-8 with a BOM (so Excel opens Chinese correctly),
/// CRLF line endings, fields quoted as RFC 4180 requires (when they hold a
/// comma, a quote or a line break; quotes doubled).
///
/// **Formula injection**: a [`Cell::Text`] (or header) starting with
/// `=`, `+`, `-`, `@`, a tab or a CR (also after leading spaces) gets a
/// leading apostrophe `'`, so that a spreadsheet shows it as text instead of
/// running it as a formula (a company name like `=HYPERLINK(…)` typed by
/// someone else could otherwise act when an official opens the export).
/// Numbers are never changed, so a negative [`Cell::Number`] stays `-5`.
/// [`read_table`](crate::read_table) removes that apostrophe again, so a CSV
/// written here reads back as the text it was written from.
pub fn write_csv(headers: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(UTF8_BOM.len() + 64 * (rows.len() + 1));
    out.extend_from_slice(UTF8_BOM);
    push_record(&mut out, headers.iter().map(|h| defuse(h)));
    for row in rows {
        push_record(&mut out, row.iter().map(csv_text));
    }
    out
}

/// The CSV text of a cell, defused when it is text.
fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => defuse(text),
        // `Display` never uses an exponent and prints 4411.0 as "4411".
        Cell::Number(n) if n.is_finite() => n.to_string(),
        Cell::Integer(i) => i.to_string(),
        Cell::Bool(true) => "TRUE".to_owned(),
        Cell::Bool(false) => "FALSE".to_owned(),
        Cell::Number(_) | Cell::Empty => String::new(),
    }
}

/// Whether a spreadsheet could take `text` for a formula: it starts with a
/// formula character (perhaps after spaces), or with a tab or a CR, which
/// can be used to hide one.
pub(crate) fn is_risky(text: &str) -> bool {
    text.starts_with(['\t', '\r']) || text.trim_start().starts_with(FORMULA_CHARS)
}

fn defuse(text: &str) -> String {
    if is_risky(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Appends one record and its CRLF, quoting fields that need it.
fn push_record(out: &mut Vec<u8>, fields: impl Iterator<Item = String>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push(b'"');
            out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(field.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// The most rows and columns a worksheet holds.
const XLSX_MAX_ROWS: usize = 1_048_576;
const XLSX_MAX_COLUMNS: usize = 16_384;
/// Integers with more digits than this are written as text (see [`Cell`]).
const XLSX_MAX_EXACT_INTEGER: i64 = 999_999_999_999_999;

/// Writes a workbook with one worksheet: the header row in bold, frozen and
/// with an autofilter, then `rows`. Text is written as text (so "0012" stays
/// "0012" and "=1+1" is not a formula), numbers as numbers. Column widths
/// are those of `sheet.column_widths`, else estimated from the content
/// (a CJK character counting as two).
pub fn write_xlsx(sheet: &SheetSpec<'_>, rows: &[Vec<Cell>]) -> Result<Vec<u8>, OfficeError> {
    write_sheet(sheet, &[], rows)
}

/// A heading over a run of adjacent columns, such as "预期（评估）" over the
/// expected values and "已验证（验收）" over the verified ones.
#[derive(Debug, Clone, Copy)]
pub struct ColumnGroup<'a> {
    /// The heading.
    pub title: &'a str,
    /// The first column it spans, 0-based.
    pub first: usize,
    /// How many columns it spans (at least 1).
    pub count: usize,
}

/// Like [`write_xlsx`], with a row of group headings above the header row:
/// each group's title in bold, merged across its columns. Both rows are
/// frozen; the autofilter sits on the header row. A table read back with
/// [`read_table`](crate::read_table) has the group row as its header, so
/// this layout is for reading by people, not for re-import.
pub fn write_xlsx_grouped(
    sheet: &SheetSpec<'_>,
    groups: &[ColumnGroup<'_>],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, OfficeError> {
    write_sheet(sheet, groups, rows)
}

fn write_sheet(
    sheet: &SheetSpec<'_>,
    groups: &[ColumnGroup<'_>],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, OfficeError> {
    let columns = rows
        .iter()
        .map(Vec::len)
        .chain([sheet.headers.len()])
        .chain(groups.iter().map(|g| g.first + g.count.max(1)))
        .max()
        .unwrap_or(0);
    if columns > XLSX_MAX_COLUMNS {
        return Err(OfficeError::TooManyColumns {
            limit: XLSX_MAX_COLUMNS,
        });
    }
    // The header row, and the group row above it when there are groups.
    let header_rows = if groups.is_empty() { 1 } else { 2 };
    if rows.len() + header_rows > XLSX_MAX_ROWS {
        return Err(OfficeError::TooManyRows {
            limit: XLSX_MAX_ROWS - header_rows,
        });
    }
    let header_row = u32::try_from(header_rows - 1).unwrap_or(0);

    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet
        .set_name(sanitize_sheet_name(sheet.name))
        .map_err(write_error)?;

    let bold = Format::new().set_bold();
    write_groups(worksheet, groups, &bold)?;
    for (col, header) in (0u16..).zip(sheet.headers) {
        worksheet
            .write_string_with_format(header_row, col, *header, &bold)
            .map_err(write_error)?;
    }
    for (row_number, row) in (header_row + 1..).zip(rows) {
        for (col, cell) in (0u16..).zip(row) {
            match cell {
                Cell::Text(text) if !text.is_empty() => {
                    worksheet.write_string(row_number, col, text)
                }
                Cell::Number(n) if n.is_finite() => worksheet.write_number(row_number, col, *n),
                Cell::Integer(i) if i.unsigned_abs() > XLSX_MAX_EXACT_INTEGER.unsigned_abs() => {
                    worksheet.write_string(row_number, col, i.to_string())
                }
                // Exact: |i| has at most 15 digits, below 2^53.
                Cell::Integer(i) => worksheet.write_number(row_number, col, *i as f64),
                Cell::Bool(b) => worksheet.write_boolean(row_number, col, *b),
                Cell::Text(_) | Cell::Number(_) | Cell::Empty => continue,
            }
            .map_err(write_error)?;
        }
    }

    if let Some(last_col) = sheet.headers.len().checked_sub(1) {
        // Both fit: checked against the worksheet limits above.
        let last_col = u16::try_from(last_col).map_err(|_| OfficeError::TooManyColumns {
            limit: XLSX_MAX_COLUMNS,
        })?;
        let last_row = u32::try_from(rows.len())
            .ok()
            .and_then(|n| n.checked_add(header_row))
            .ok_or(OfficeError::TooManyRows {
                limit: XLSX_MAX_ROWS - header_rows,
            })?;
        worksheet
            .set_freeze_panes(header_row + 1, 0)
            .map_err(write_error)?;
        worksheet
            .autofilter(header_row, 0, last_row, last_col)
            .map_err(write_error)?;
    }

    let given = sheet.column_widths.unwrap_or(&[]);
    for (col, index) in (0u16..).zip(0..columns) {
        let width = match given.get(index) {
            Some(width) if width.is_finite() && *width >= 0.0 => *width,
            _ => estimate_width(sheet.headers.get(index).copied(), rows, index),
        };
        worksheet
            .set_column_width(col, width)
            .map_err(write_error)?;
    }

    workbook.save_to_buffer().map_err(write_error)
}

/// The group headings in the first row, each merged across its columns.
fn write_groups(
    worksheet: &mut rust_xlsxwriter::Worksheet,
    groups: &[ColumnGroup<'_>],
    bold: &Format,
) -> Result<(), OfficeError> {
    let column = |index: usize| {
        u16::try_from(index).map_err(|_| OfficeError::TooManyColumns {
            limit: XLSX_MAX_COLUMNS,
        })
    };
    for group in groups {
        let first = column(group.first)?;
        let last = column(group.first + group.count.max(1) - 1)?;
        if last > first {
            worksheet.merge_range(0, first, 0, last, group.title, bold)
        } else {
            worksheet.write_string_with_format(0, first, group.title, bold)
        }
        .map_err(write_error)?;
    }
    Ok(())
}

fn write_error(error: rust_xlsxwriter::XlsxError) -> OfficeError {
    OfficeError::Write {
        detail: error.to_string(),
    }
}

/// How many rows are looked at to estimate a column's width.
const WIDTH_SAMPLE_ROWS: usize = 1_000;

/// A column width that fits the header (bold, so a little wider) and the
/// widest of the first rows, within 8 and 60.
fn estimate_width(header: Option<&str>, rows: &[Vec<Cell>], index: usize) -> f64 {
    let header_width = header.map_or(0, display_width) as f64 * 1.1;
    let content_width = rows
        .iter()
        .take(WIDTH_SAMPLE_ROWS)
        .filter_map(|row| row.get(index))
        .map(|cell| match cell {
            Cell::Text(text) => display_width(text),
            Cell::Number(n) => number_text(*n).len(),
            Cell::Integer(i) => i.to_string().len(),
            Cell::Bool(_) => 5,
            Cell::Empty => 0,
        })
        .max()
        .unwrap_or(0) as f64;
    (header_width.max(content_width) + 2.0).clamp(8.0, 60.0)
}

/// The width of the longest line of `text`, counting a wide (CJK, full-width)
/// character as two.
fn display_width(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum())
        .max()
        .unwrap_or(0)
}

/// East Asian wide and full-width characters (the common blocks).
fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F        // Hangul Jamo
        | 0x2E80..=0x303E      // CJK radicals, punctuation
        | 0x3041..=0x33FF      // kana, CJK symbols
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xA000..=0xA4CF      // Yi
        | 0xAC00..=0xD7A3      // Hangul syllables
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFE30..=0xFE4F      // CJK compatibility forms
        | 0xFF00..=0xFF60      // full-width forms
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD    // CJK extensions B and beyond
    )
}

/// Makes `name` a valid Excel sheet name: the characters `[ ] : * ? / \`
/// become `_`, leading and trailing apostrophes and spaces are dropped, the
/// name is cut to 31 characters (UTF-16 units, as Excel counts), and an
/// empty name or the reserved "History" becomes "Sheet1".
pub fn sanitize_sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let mut out = String::new();
    let mut units = 0;
    for c in cleaned
        .trim_matches(|c: char| c == '\'' || c.is_whitespace())
        .chars()
    {
        units += c.len_utf16();
        if units > 31 {
            break;
        }
        out.push(c);
    }
    let out = out.trim_end_matches(|c: char| c == '\'' || c.is_whitespace());
    if out.is_empty() || out.eq_ignore_ascii_case("history") {
        "Sheet1".to_owned()
    } else {
        out.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_bom_crlf_and_defusing() {
        let rows = vec![
            vec![
                Cell::from("甲,公司"),
                Cell::from("说\"好\""),
                Cell::from("第一行\n第二行"),
            ],
            vec![
                Cell::from("=HYPERLINK(\"http://x\")"),
                Cell::Number(-5.5),
                Cell::Integer(-7),
            ],
            vec![
                Cell::from("+1"),
                Cell::from("@SUM(A1)"),
                Cell::from("-x"),
                Cell::from("\tcmd"),
                Cell::from("  =1"),
            ],
            vec![
                Cell::Bool(true),
                Cell::Empty,
                Cell::Number(f64::NAN),
                Cell::Number(4411.0),
                Cell::from(None::<&str>),
            ],
        ];
        let bytes = write_csv(&["名称", "备注", "-说明"], &rows);
        assert!(bytes.starts_with(UTF8_BOM));
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert_eq!(
            text,
            "名称,备注,'-说明\r\n\
             \"甲,公司\",\"说\"\"好\"\"\",\"第一行\n第二行\"\r\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",-5.5,-7\r\n\
             '+1,'@SUM(A1),'-x,'\tcmd,'  =1\r\n\
             TRUE,,,4411,\r\n"
        );
    }

    #[test]
    fn sheet_names() {
        assert_eq!(sanitize_sheet_name("企业名单"), "企业名单");
        assert_eq!(sanitize_sheet_name("a[b]:c*d?e/f\\g"), "a_b__c_d_e_f_g");
        assert_eq!(sanitize_sheet_name(" 'quoted' "), "quoted");
        assert_eq!(sanitize_sheet_name(""), "Sheet1");
        assert_eq!(sanitize_sheet_name("History"), "Sheet1");
        let long = "清洁生产审核企业名单".repeat(4);
        assert_eq!(sanitize_sheet_name(&long).chars().count(), 31);
        // 16 astral characters are 32 UTF-16 units: only 15 fit.
        assert_eq!(sanitize_sheet_name(&"𠀀".repeat(16)).chars().count(), 15);
    }

    #[test]
    fn widths() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("企业ab"), 6);
        assert_eq!(display_width("短\n更长的一行"), 10);
        let rows = vec![vec![Cell::from("广东省某某环保科技有限公司")]];
        assert_eq!(estimate_width(Some("企业名称"), &rows, 0), 28.0);
        assert_eq!(estimate_width(Some("a"), &[], 0), 8.0);
        let long = vec![vec![Cell::from("x".repeat(500))]];
        assert_eq!(estimate_width(None, &long, 0), 60.0);
    }

    #[test]
    fn text_longer_than_excel_allows() {
        let spec = SheetSpec {
            name: "x",
            headers: &["a"],
            column_widths: None,
        };
        let err = write_xlsx(&spec, &[vec![Cell::Text("x".repeat(40_000))]]).unwrap_err();
        assert!(matches!(err, OfficeError::Write { .. }), "{err:?}");
    }

    #[test]
    fn group_headings_stand_in_a_row_above_the_header() {
        let spec = SheetSpec {
            name: "方案",
            headers: &["编号", "SO2", "COD", "SO2", "COD"],
            column_widths: None,
        };
        let groups = [
            ColumnGroup {
                title: "预期（评估）",
                first: 1,
                count: 2,
            },
            ColumnGroup {
                title: "已验证（验收）",
                first: 3,
                count: 2,
            },
        ];
        let rows = vec![vec![
            Cell::from("F1"),
            Cell::Number(1.5),
            Cell::Empty,
            Cell::Number(1.2),
            Cell::Number(-3.0),
        ]];
        let bytes = write_xlsx_grouped(&spec, &groups, &rows).unwrap();
        let table =
            crate::read_table(&bytes, crate::TableFormat::Xlsx, &Default::default()).unwrap();
        assert_eq!(table.headers, ["", "预期（评估）", "", "已验证（验收）"]);
        assert_eq!(table.rows[0].cells, ["编号", "SO2", "COD", "SO2", "COD"]);
        assert_eq!(table.rows[1].line, 3);
        assert_eq!(table.rows[1].cells, ["F1", "1.5", "", "1.2", "-3"]);
    }

    #[test]
    fn too_many_columns_to_write() {
        let row = vec![Cell::Empty; XLSX_MAX_COLUMNS + 1];
        let spec = SheetSpec {
            name: "x",
            headers: &[],
            column_widths: None,
        };
        assert_eq!(
            write_xlsx(&spec, &[row]).unwrap_err(),
            OfficeError::TooManyColumns {
                limit: XLSX_MAX_COLUMNS
            }
        );
    }
}
