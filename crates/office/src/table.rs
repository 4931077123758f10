//! The table a file is read into, and the rules both readers share.

use crate::OfficeError;

/// A table read from a file: the header row and the data rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The line (row) of the header, 1-based: the first non-empty row.
    pub header_line: usize,
    /// The header cells, trimmed, without trailing empty ones. A header may
    /// be empty (a blank cell between named ones).
    pub headers: Vec<String>,
    /// The data rows, in file order, without blank rows. Never empty.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The 1-based row/line number in the file as a user sees it in Excel or
    /// a text editor (header = 1 when it is on the first line), so error
    /// reports can say "第 5 行". Blank rows are skipped but still counted.
    /// For a CSV record spanning several lines it is the line it starts on.
    pub line: usize,
    /// The cells, trimmed, column `i` under `headers[i]`. Trailing empty
    /// cells are dropped, so a row may be shorter than the header (or longer,
    /// when it has cells under no header); use [`Row::get`].
    pub cells: Vec<String>,
}

impl Table {
    /// The index of the first column whose header matches any of
    /// `header_aliases`, compared trimmed and case-insensitively, so that
    /// `&["企业名称", "name"]` finds "企业名称" as well as "Name".
    pub fn column(&self, header_aliases: &[&str]) -> Option<usize> {
        let wanted: Vec<String> = header_aliases
            .iter()
            .map(|a| header_key(a))
            .filter(|a| !a.is_empty())
            .collect();
        self.headers
            .iter()
            .position(|h| wanted.contains(&header_key(h)))
    }
}

impl Row {
    /// The cell in `column` (as found by [`Table::column`]), or "" when the
    /// column is `None` or the row has no cell there.
    pub fn get(&self, column: Option<usize>) -> &str {
        column
            .and_then(|c| self.cells.get(c))
            .map_or("", String::as_str)
    }
}

/// Limits that keep a hostile or mistaken upload from using up memory.
///
/// Build with struct update syntax to change one limit:
/// `ReadLimits { max_rows: 5_000, ..ReadLimits::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Most data rows (the header row not counted). Default 100,000.
    pub max_rows: usize,
    /// Most columns, counted from column A (CSV: from the first field) up to
    /// the last non-empty cell. Default 200.
    pub max_columns: usize,
    /// Most characters (Unicode scalar values) in one cell. Default 10,000.
    pub max_cell_chars: usize,
    /// Most bytes an .xlsx may declare it unpacks to, all its ZIP entries
    /// together. Default 200 MiB.
    pub max_unpacked_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_rows: 100_000,
            max_columns: 200,
            max_cell_chars: 10_000,
            max_unpacked_bytes: 200 * 1024 * 1024,
        }
    }
}

/// Collects rows from a reader and applies the rules common to all formats:
/// blank rows are skipped, the first non-empty row is the header, headers
/// are unique, and the limits hold.
pub(crate) struct TableBuilder<'a> {
    limits: &'a ReadLimits,
    header: Option<(usize, Vec<String>)>,
    rows: Vec<Row>,
}

impl<'a> TableBuilder<'a> {
    pub(crate) fn new(limits: &'a ReadLimits) -> Self {
        Self {
            limits,
            header: None,
            rows: Vec::new(),
        }
    }

    /// Adds the row at `line`, whose cells are already trimmed.
    pub(crate) fn push(&mut self, line: usize, mut cells: Vec<String>) -> Result<(), OfficeError> {
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if cells.is_empty() {
            return Ok(());
        }
        if cells.len() > self.limits.max_columns {
            return Err(OfficeError::TooManyColumns {
                limit: self.limits.max_columns,
            });
        }
        for (i, cell) in cells.iter().enumerate() {
            check_cell_length(cell, line, i + 1, self.limits)?;
        }
        if self.header.is_none() {
            check_unique(&cells)?;
            self.header = Some((line, cells));
            return Ok(());
        }
        if self.rows.len() >= self.limits.max_rows {
            return Err(OfficeError::TooManyRows {
                limit: self.limits.max_rows,
            });
        }
        self.rows.push(Row { line, cells });
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<Table, OfficeError> {
        let (header_line, headers) = self.header.ok_or(OfficeError::NoHeader)?;
        if self.rows.is_empty() {
            return Err(OfficeError::NoDataRows);
        }
        Ok(Table {
            header_line,
            headers,
            rows: self.rows,
        })
    }
}

/// Fails when `cell` (at `line`, 1-based `column`) has too many characters.
pub(crate) fn check_cell_length(
    cell: &str,
    line: usize,
    column: usize,
    limits: &ReadLimits,
) -> Result<(), OfficeError> {
    // A UTF-8 string has at least as many bytes as characters, so most
    // cells pass without counting.
    if cell.len() > limits.max_cell_chars && cell.chars().count() > limits.max_cell_chars {
        return Err(OfficeError::CellTooLong {
            line,
            column,
            limit: limits.max_cell_chars,
        });
    }
    Ok(())
}

/// How headers are compared: trimmed and lower-cased.
fn header_key(header: &str) -> String {
    header.trim().to_lowercase()
}

fn check_unique(headers: &[String]) -> Result<(), OfficeError> {
    let mut seen = std::collections::HashSet::new();
    for header in headers {
        let key = header_key(header);
        if !key.is_empty() && !seen.insert(key) {
            return Err(OfficeError::DuplicateHeader {
                name: header.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn header_is_first_non_empty_row_and_blank_rows_are_skipped() {
        let limits = ReadLimits::default();
        let mut b = TableBuilder::new(&limits);
        b.push(1, strings(&["", ""])).unwrap();
        b.push(2, strings(&["企业名称", "Code", "", ""])).unwrap();
        b.push(3, strings(&[])).unwrap();
        b.push(4, strings(&["甲公司", "0012", ""])).unwrap();
        let t = b.finish().unwrap();
        assert_eq!(t.header_line, 2);
        assert_eq!(t.headers, strings(&["企业名称", "Code"]));
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].line, 4);
        assert_eq!(t.rows[0].cells, strings(&["甲公司", "0012"]));
    }

    #[test]
    fn column_lookup_by_alias() {
        let t = Table {
            header_line: 1,
            headers: strings(&["企业名称", " Credit Code ", ""]),
            rows: vec![Row {
                line: 2,
                cells: strings(&["甲公司"]),
            }],
        };
        assert_eq!(t.column(&["name", "企业名称"]), Some(0));
        assert_eq!(t.column(&["credit code", "统一社会信用代码"]), Some(1));
        assert_eq!(t.column(&["industry"]), None);
        // An empty alias never matches an empty header.
        assert_eq!(t.column(&["", " "]), None);

        let row = &t.rows[0];
        assert_eq!(row.get(t.column(&["name", "企业名称"])), "甲公司");
        assert_eq!(row.get(t.column(&["credit code"])), "");
        assert_eq!(row.get(None), "");
    }

    #[test]
    fn duplicate_headers_compare_case_insensitively() {
        let limits = ReadLimits::default();
        let mut b = TableBuilder::new(&limits);
        let err = b.push(1, strings(&["Name", "", "", "name "])).unwrap_err();
        assert_eq!(
            err,
            OfficeError::DuplicateHeader {
                name: "name ".to_owned()
            }
        );
    }

    #[test]
    fn empty_and_header_only() {
        let limits = ReadLimits::default();
        assert_eq!(
            TableBuilder::new(&limits).finish().unwrap_err(),
            OfficeError::NoHeader
        );
        let mut b = TableBuilder::new(&limits);
        b.push(1, strings(&["a"])).unwrap();
        assert_eq!(b.finish().unwrap_err(), OfficeError::NoDataRows);
    }

    #[test]
    fn cell_length_counts_characters_not_bytes() {
        let limits = ReadLimits {
            max_cell_chars: 3,
            ..ReadLimits::default()
        };
        assert!(check_cell_length("企业名", 1, 1, &limits).is_ok());
        assert_eq!(
            check_cell_length("企业名称", 4, 2, &limits).unwrap_err(),
            OfficeError::CellTooLong {
                line: 4,
                column: 2,
                limit: 3
            }
        );
    }
}
