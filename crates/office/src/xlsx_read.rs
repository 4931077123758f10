//! Reading the first worksheet of an .xlsx workbook.
//!
//! Cells are streamed with calamine's cell reader rather than loaded as a
//! dense `Range`: a sheet with one cell in A1 and one in XFD1048576 would
//! otherwise allocate seventeen billion cells before any limit could be
//! checked. Limits are applied cell by cell as they arrive.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{DataRef, ExcelDateTime, ExcelDateTimeType, Reader, SheetType, SheetVisible, Xlsx};

use crate::table::{check_cell_length, ReadLimits, TableBuilder};
use crate::{MalformedKind, OfficeError, Table};

/// Reads the first visible worksheet of the workbook in `bytes`.
pub(crate) fn read_xlsx(bytes: &[u8], limits: &ReadLimits) -> Result<Table, OfficeError> {
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(corrupt)?;
    let sheet = first_worksheet(&workbook).ok_or_else(|| OfficeError::Malformed {
        line: None,
        kind: MalformedKind::CorruptWorkbook,
        detail: "the workbook has no worksheet".to_owned(),
    })?;
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(corrupt)?;

    // Rows by 0-based row index; only non-empty cells are stored.
    let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    while let Some(cell) = cells.next_cell().map_err(corrupt)? {
        let (row, col) = cell.get_position();
        let text = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        let column = col as usize; // 0-based, from column A
        if column >= limits.max_columns {
            return Err(OfficeError::TooManyColumns {
                limit: limits.max_columns,
            });
        }
        let line = row as usize + 1;
        check_cell_length(&text, line, column + 1, limits)?;
        // The header row plus `max_rows` data rows may be stored, no more.
        if !rows.contains_key(&row) && rows.len() > limits.max_rows {
            return Err(OfficeError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        let cells = rows.entry(row).or_default();
        if cells.len() <= column {
            cells.resize(column + 1, String::new());
        }
        cells[column] = text;
    }

    let mut table = TableBuilder::new(limits);
    for (row, cells) in rows {
        table.push(row as usize + 1, cells)?;
    }
    table.finish()
}

/// The name of the first visible worksheet, else of the first worksheet
/// (chart sheets and macro sheets hold no table).
fn first_worksheet<R: std::io::Read + std::io::Seek>(workbook: &Xlsx<R>) -> Option<String> {
    let sheets = workbook.sheets_metadata();
    let worksheets = || sheets.iter().filter(|s| s.typ == SheetType::WorkSheet);
    worksheets()
        .find(|s| s.visible == SheetVisible::Visible)
        .or_else(|| worksheets().next())
        .map(|s| s.name.clone())
}

fn corrupt(error: calamine::XlsxError) -> OfficeError {
    OfficeError::Malformed {
        line: None,
        kind: MalformedKind::CorruptWorkbook,
        detail: error.to_string(),
    }
}

/// The text of a cell, as a user would want it imported:
///
/// - strings trimmed;
/// - numbers as Excel shows them in the General format, to 15 significant
///   digits but never with an exponent, whole numbers without ".0" (an
///   industry code typed as the number 4411 reads "4411");
/// - booleans as "TRUE" / "FALSE" (what Excel displays, in Chinese Excel
///   too);
/// - dates as "yyyy-mm-dd", with " hh:mm:ss" when there is a time of day;
///   times of day alone as "hh:mm:ss"; durations as "h:mm:ss";
/// - error values as Excel shows them ("#N/A", "#DIV/0!", …).
pub(crate) fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::String(s) => s.trim().to_owned(),
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::Bool(true) => "TRUE".to_owned(),
        DataRef::Bool(false) => "FALSE".to_owned(),
        DataRef::DateTime(dt) => datetime_text(dt),
        DataRef::DateTimeIso(s) => s.trim().trim_end_matches("T00:00:00").to_owned(),
        DataRef::DurationIso(s) => s.trim().to_owned(),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

/// A number to 15 significant digits (Excel's precision), without exponent
/// and without a trailing ".0".
pub(crate) fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return String::new();
    }
    // Fast path for the common case: a whole number of at most 15 digits is
    // exact in an f64 and as an i64, and needs no rounding.
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return (f as i64).to_string();
    }
    // Round to 15 significant digits through the exponent form; the parse of
    // our own formatting cannot fail, but fall back to the value itself.
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    if rounded == 0.0 {
        return "0".to_owned(); // not "-0"
    }
    // `Display` for f64 prints the shortest exact form, never an exponent.
    rounded.to_string()
}

/// Days from 1970-01-01 to Excel's day 0 in the 1900 date system
/// (1899-12-30, which makes serial 61 = 1900-03-01 given Excel's fictitious
/// 1900-02-29) and in the 1904 system (1904-01-01).
const EPOCH_1900: i64 = -25_569;
const EPOCH_1904: i64 = -24_107;
/// The last day Excel knows, 9999-12-31, in the 1900 system.
const MAX_SERIAL: f64 = 2_958_466.0;

fn datetime_text(dt: &ExcelDateTime) -> String {
    let value = dt.as_f64();
    // calamine only tells the kind of date and the date system with its
    // "dates" feature (which brings in chrono); without it, compare with
    // values built of each kind, which `PartialEq` allows.
    let is = |kind, is_1904| *dt == ExcelDateTime::new(value, kind, is_1904);
    if is(ExcelDateTimeType::TimeDelta, false) || is(ExcelDateTimeType::TimeDelta, true) {
        return duration_text(value);
    }
    let is_1904 = is(ExcelDateTimeType::DateTime, true);
    serial_text(value, is_1904).unwrap_or_else(|| number_text(value))
}

/// An Excel date serial as "yyyy-mm-dd[ hh:mm:ss]", or a time of day alone
/// as "hh:mm:ss" (1900 system, serial below 1). `None` outside 0..=9999-12-31.
fn serial_text(serial: f64, is_1904: bool) -> Option<String> {
    if !(0.0..MAX_SERIAL).contains(&serial) {
        return None;
    }
    // Round to the second first, so 23:59:59.7 becomes the next day.
    let seconds = (serial * 86_400.0).round() as i64;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let time = format!(
        "{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    if days == 0 && !is_1904 {
        return Some(time);
    }
    let unix_days = if is_1904 {
        days + EPOCH_1904
    } else if days < 60 {
        // Before Excel's fictitious 1900-02-29 the serials are off by one.
        days + EPOCH_1900 + 1
    } else {
        days + EPOCH_1900
    };
    let (y, m, d) = civil_from_days(unix_days);
    let date = format!("{y:04}-{m:02}-{d:02}");
    Some(if second_of_day == 0 {
        date
    } else {
        format!("{date} {time}")
    })
}

fn duration_text(days: f64) -> String {
    let seconds = (days * 86_400.0).round() as i64;
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.abs();
    format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The proleptic Gregorian (year, month, day) of a count of days since
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(number_text(4411.0), "4411");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(-12.5), "-12.5");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(123_456_789_012_345.0), "123456789012345");
        // An 18-digit code typed as a number: Excel keeps 15 digits.
        assert_eq!(number_text(440_300_199_001_011_234.0), "440300199001011000");
        assert_eq!(number_text(1e21), "1000000000000000000000");
        assert_eq!(number_text(0.000_012_5), "0.0000125");
    }

    #[test]
    fn date_serials() {
        let dt = |v| ExcelDateTime::new(v, ExcelDateTimeType::DateTime, false);
        assert_eq!(datetime_text(&dt(45_658.0)), "2025-01-01");
        assert_eq!(datetime_text(&dt(25_569.0)), "1970-01-01");
        assert_eq!(datetime_text(&dt(1.0)), "1900-01-01");
        assert_eq!(datetime_text(&dt(61.0)), "1900-03-01");
        assert_eq!(datetime_text(&dt(45_658.5)), "2025-01-01 12:00:00");
        assert_eq!(datetime_text(&dt(0.75)), "18:00:00");
        assert_eq!(datetime_text(&dt(2_958_465.0)), "9999-12-31");
        assert_eq!(datetime_text(&dt(-1.0)), "-1");
        let mac = ExcelDateTime::new(0.0, ExcelDateTimeType::DateTime, true);
        assert_eq!(datetime_text(&mac), "1904-01-01");
        let duration = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(datetime_text(&duration), "36:00:00");
    }

    #[test]
    fn other_cells() {
        assert_eq!(
            cell_text(&DataRef::SharedString("  甲公司 \u{3000}")),
            "甲公司"
        );
        assert_eq!(cell_text(&DataRef::Int(4411)), "4411");
        assert_eq!(cell_text(&DataRef::Bool(true)), "TRUE");
        assert_eq!(
            cell_text(&DataRef::DateTimeIso("2024-05-06T00:00:00".to_owned())),
            "2024-05-06"
        );
        assert_eq!(
            cell_text(&DataRef::Error(calamine::CellErrorType::NA)),
            "#N/A"
        );
    }
}
