//! Office formats for cpaudit: reading uploaded tables from .xlsx and .csv
//! files, writing lists out as .xlsx and .csv, and telling which uploaded
//! documents are PDF, OFD, Word or Excel files.
//!
//! The crate knows formats, not enterprises: it turns a file into a
//! [`Table`] of trimmed text cells with the line each row came from, and a
//! list of [`Cell`]s into a file. What the columns mean, and the row-by-row
//! validation report, belong to the caller.
//!
//! # Reading
//!
//! [`read_table`] takes the uploaded bytes and the [`TableFormat`] that the
//! file name claims ([`TableFormat::from_file_name`]). The **content decides**:
//! the bytes are checked against the claim, and a PDF, an image, an old .xls
//! workbook or a .docx renamed to .xlsx is refused with
//! [`OfficeError::NotWhatNameSays`] naming what it really is, so the user
//! can be told what to do.
//!
//! Both formats follow the same rules:
//!
//! - every cell is text, trimmed; the first non-empty row is the header;
//!   blank rows are skipped, yet [`Row::line`] is the line number the user
//!   sees in Excel or a text editor, so a report can say "第 5 行";
//! - columns are found by header with aliases ([`Table::column`]) and read
//!   with [`Row::get`], so a missing column or a short row reads as "";
//! - [`ReadLimits`] bound rows, columns, cell length and (for .xlsx) how
//!   much the ZIP container may unpack to; every problem is an
//!   [`OfficeError`] with a Chinese and an English message.
//!
//! For .xlsx, the first visible worksheet is read. Cells read as Excel shows
//! them in the General format: whole numbers without ".0" (an industry code
//! typed as the number 4411 reads "4411"), no exponents, dates as
//! `yyyy-mm-dd`, booleans as `TRUE`/`FALSE`. For .csv, the text may be UTF-8
//! (with or without BOM), UTF-16 with a BOM, or GB18030/GBK as Chinese
//! Excel saves it; fields are comma-separated and may be quoted across lines.
//!
//! # Writing
//!
//! [`write_xlsx`] writes one worksheet with a bold, frozen, filterable header
//! row; text stays text (leading zeros kept), numbers are numbers.
//! [`write_csv`] writes UTF-8 with a BOM and CRLF, quotes as RFC 4180 says,
//! and defuses formula injection (see there). Whatever either writes,
//! [`read_table`] reads back as the same text. [`write_xlsx_grouped`] adds a
//! row of headings over groups of columns, for tables people read.
//!
//! ```
//! use cpaudit_office::{read_table, write_xlsx, Cell, ReadLimits, SheetSpec, TableFormat};
//!
//! let headers = ["企业名称", "行业代码"];
//! let rows = vec![vec![Cell::from("甲公司"), Cell::from("0441")]];
//! let spec = SheetSpec { name: "企业名单", headers: &headers, column_widths: None };
//! let bytes = write_xlsx(&spec, &rows)?;
//!
//! let format = TableFormat::from_file_name("企业名单.xlsx").expect("a known extension");
//! let table = read_table(&bytes, format, &ReadLimits::default())?;
//! let code = table.column(&["行业代码", "industry code"]);
//! assert_eq!(table.rows[0].get(code), "0441");
//! assert_eq!(table.rows[0].line, 2);
//! # Ok::<(), cpaudit_office::OfficeError>(())
//! ```
//!
//! # Word documents
//!
//! [`write_docx`] writes an [`OfficialDocument`] (公文: a notification, a
//! review opinion) as a .docx laid out after GB/T 9704-2012; see [`docx`].
//!
//! # Documents uploaded to an audit round
//!
//! [`identify_document`] accepts PDF, OFD, .docx, .doc, .xlsx and .xls by
//! their bytes and refuses anything else (or a name that disagrees with the
//! content) with a message naming what the bytes are; [`clean_file_name`]
//! gives the name to keep.
//! [`review_opinion`] words the technical review opinion of an assessment or
//! acceptance as such a document.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod csv_read;
pub mod docx;
mod error;
mod identify;
pub mod review_opinion;
mod sniff;
mod table;
mod write;
mod xlsx_read;

#[cfg(test)]
mod tests;

use std::fmt;

pub use docx::{chinese_date, write_docx, DocumentTable, OfficialDocument, DOCX_CONTENT_TYPE};
pub use error::{column_letter, ContentKind, MalformedKind, OfficeError};
pub use identify::{clean_file_name, identify_document, DocumentFormat, DocumentRefusal};
pub use review_opinion::{write_review_opinion, ItemScore, PanelMember, ReviewOpinion};
pub use table::{ReadLimits, Row, Table};
pub use write::{
    sanitize_sheet_name, write_csv, write_xlsx, write_xlsx_grouped, Cell, ColumnGroup, SheetSpec,
};

use sniff::{sniff, Sniffed};

/// The two table formats: Office Open XML workbooks and comma-separated
/// text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableFormat {
    /// An Excel 2007+ workbook (.xlsx).
    Xlsx,
    /// Comma-separated values (.csv).
    Csv,
}

impl TableFormat {
    /// The format a file name claims by its extension (case-insensitive):
    /// "名单.XLSX" → `Xlsx`. `None` for any other extension (including the
    /// old .xls, which is not supported) or none.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let (_, extension) = name.trim().rsplit_once('.')?;
        if extension.eq_ignore_ascii_case("xlsx") {
            Some(Self::Xlsx)
        } else if extension.eq_ignore_ascii_case("csv") {
            Some(Self::Csv)
        } else {
            None
        }
    }

    /// The file extension, without the dot: "xlsx" or "csv".
    pub fn extension(&self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }

    /// The MIME type to send a file of this format with. The CSV one names
    /// UTF-8, which is what [`write_csv`] writes.
    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Shows the extension with its dot: ".xlsx", ".csv".
impl fmt::Display for TableFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ".{}", self.extension())
    }
}

/// Reads a table from an uploaded file whose name claims `declared`.
///
/// The content must be what the name claims; see the [crate docs](crate)
/// for the rules. An empty file is [`OfficeError::NoHeader`].
pub fn read_table(
    bytes: &[u8],
    declared: TableFormat,
    limits: &ReadLimits,
) -> Result<Table, OfficeError> {
    let not = |found| OfficeError::NotWhatNameSays { declared, found };
    match (declared, sniff(bytes)) {
        (_, Sniffed::Empty) => Err(OfficeError::NoHeader),
        (_, Sniffed::Other(found)) => Err(not(found)),

        (TableFormat::Xlsx, Sniffed::Text) => Err(not(sniff::text_kind(bytes))),
        (TableFormat::Xlsx, Sniffed::Zip(Some(directory))) => {
            if directory.kind != ContentKind::XlsxWorkbook {
                return Err(not(directory.kind));
            }
            if directory.unpacked_bytes > limits.max_unpacked_bytes {
                return Err(OfficeError::TooLarge {
                    limit: limits.max_unpacked_bytes,
                });
            }
            xlsx_read::read_xlsx(bytes, limits)
        }
        // A ZIP whose directory could not be read here: let calamine try,
        // and report what it finds wrong.
        (TableFormat::Xlsx, Sniffed::Zip(None)) => xlsx_read::read_xlsx(bytes, limits),

        (TableFormat::Csv, Sniffed::Text) => csv_read::read_csv(bytes, limits),
        (TableFormat::Csv, Sniffed::Zip(directory)) => {
            Err(not(directory.map_or(ContentKind::ZipArchive, |d| d.kind)))
        }
    }
}
