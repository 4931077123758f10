//! Errors of this crate, each with a Chinese and an English message.

use std::fmt;

use crate::TableFormat;

/// Why a file could not be read as a table (or a table could not be written).
///
/// `Display` gives the English message; [`OfficeError::message_zh`] gives the
/// Chinese one meant for the people who upload the files. Every message is a
/// complete sentence that says what is wrong and, where it helps, what to do.
///
/// Line numbers are 1-based and count lines the way a user sees them: the row
/// number in Excel, or the physical line in a text editor (header = 1).
/// Column numbers are 1-based too (column A = 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfficeError {
    /// The file is empty, or every row is blank: there is no header row.
    #[error("The file contains no table: it is empty or every row is blank.")]
    NoHeader,

    /// The file has a header row but not a single data row.
    #[error("The file has a header row but no data rows.")]
    NoDataRows,

    /// The content of the file is not what its extension says.
    #[error(
        "The file is named {declared} but its content is {found}.{hint}",
        hint = hint_en(*.declared, *.found)
    )]
    NotWhatNameSays {
        /// The format the file name claims.
        declared: TableFormat,
        /// What the content turned out to be.
        found: ContentKind,
    },

    /// The file has the right kind but its content is damaged or malformed.
    #[error("{}", malformed_en(*.line, *.kind, .detail))]
    Malformed {
        /// Where the problem is, when it can be told.
        line: Option<usize>,
        /// What kind of problem it is.
        kind: MalformedKind,
        /// Technical detail (from the parser), possibly empty; not translated.
        detail: String,
    },

    /// More data rows than [`ReadLimits::max_rows`](crate::ReadLimits::max_rows)
    /// (or than a worksheet can hold, when writing).
    #[error("The file has more than {limit} data rows. Split it and import the parts one by one.")]
    TooManyRows {
        /// The limit that was exceeded.
        limit: usize,
    },

    /// More columns than [`ReadLimits::max_columns`](crate::ReadLimits::max_columns)
    /// (or than a worksheet can hold, when writing).
    #[error("The file has more than {limit} columns.")]
    TooManyColumns {
        /// The limit that was exceeded.
        limit: usize,
    },

    /// A cell holds more characters than
    /// [`ReadLimits::max_cell_chars`](crate::ReadLimits::max_cell_chars).
    #[error(
        "Line {line}, column {column} ({letter}): the cell is longer than {limit} characters.",
        letter = column_letter(*.column)
    )]
    CellTooLong {
        /// Line (row) of the cell.
        line: usize,
        /// Column of the cell, 1-based (A = 1).
        column: usize,
        /// The limit that was exceeded.
        limit: usize,
    },

    /// Two header cells have the same name (compared trimmed, case-insensitively).
    #[error("The header row has the column \"{name}\" more than once.")]
    DuplicateHeader {
        /// The repeated header, as written in its second occurrence.
        name: String,
    },

    /// An .xlsx unpacks (by what its ZIP directory declares) to more than
    /// [`ReadLimits::max_unpacked_bytes`](crate::ReadLimits::max_unpacked_bytes).
    #[error(
        "The workbook unpacks to more than {mib} MiB, which is too large to import.",
        mib = .limit / (1024 * 1024)
    )]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },

    /// Writing a spreadsheet failed (for example a text longer than the
    /// 32,767 characters an Excel cell can hold).
    #[error("Could not write the spreadsheet ({detail}).")]
    Write {
        /// Technical detail from the writer; not translated.
        detail: String,
    },
}

impl OfficeError {
    /// The message in English (the same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }

    /// The message in Chinese, for the people who upload the files.
    pub fn message_zh(&self) -> String {
        match self {
            Self::NoHeader => "文件中没有表格内容：文件为空或所有行都是空行。".to_owned(),
            Self::NoDataRows => "文件只有表头，没有数据行。".to_owned(),
            Self::NotWhatNameSays { declared, found } => format!(
                "文件扩展名为 {declared}，但其内容是{}。{}",
                found.description_zh(),
                hint_zh(*declared, *found)
            ),
            Self::Malformed { line, kind, detail } => malformed_zh(*line, *kind, detail),
            Self::TooManyRows { limit } => {
                format!("数据行超过 {limit} 行的上限，请拆分文件后分批导入。")
            }
            Self::TooManyColumns { limit } => format!("列数超过 {limit} 列的上限。"),
            Self::CellTooLong {
                line,
                column,
                limit,
            } => format!(
                "第 {line} 行第 {column} 列（{} 列）：单元格内容超过 {limit} 个字符的上限。",
                column_letter(*column)
            ),
            Self::DuplicateHeader { name } => {
                format!("表头中的列“{name}”出现了不止一次，请删除或改名重复的列。")
            }
            Self::TooLarge { limit } => format!(
                "工作簿解压后超过 {} MB，文件过大，无法导入。",
                limit / (1024 * 1024)
            ),
            Self::Write { detail } => format!("无法生成表格文件（{detail}）。"),
        }
    }

    /// The line (row) the error is about, if it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Malformed { line, .. } => *line,
            Self::CellTooLong { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// The kinds of damage [`OfficeError::Malformed`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MalformedKind {
    /// The .xlsx (its ZIP container or its XML) is damaged or incomplete.
    CorruptWorkbook,
    /// A CSV field opens a quote that is never closed.
    UnclosedQuote,
    /// CSV text that is neither UTF-8 (or UTF-16 with a BOM) nor GB18030/GBK.
    UnknownTextEncoding,
}

fn malformed_en(line: Option<usize>, kind: MalformedKind, detail: &str) -> String {
    let at = line.map_or(String::new(), |l| format!("Line {l}: "));
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    };
    match kind {
        MalformedKind::CorruptWorkbook => format!(
            "{at}The workbook is damaged and cannot be read{detail}. \
             Open it in Excel, save it again as .xlsx and upload it again."
        ),
        MalformedKind::UnclosedQuote => {
            format!("{at}a quoted field is never closed (a \" is missing){detail}.")
        }
        MalformedKind::UnknownTextEncoding => format!(
            "{at}The text is neither UTF-8 nor GBK/GB18030 encoded{detail}. \
             Save the file in Excel as \"CSV UTF-8\"."
        ),
    }
}

fn malformed_zh(line: Option<usize>, kind: MalformedKind, detail: &str) -> String {
    let at = line.map_or(String::new(), |l| format!("第 {l} 行："));
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!("（{detail}）")
    };
    match kind {
        MalformedKind::CorruptWorkbook => format!(
            "{at}工作簿已损坏，无法读取{detail}。请用 Excel 打开后重新另存为 .xlsx 再上传。"
        ),
        MalformedKind::UnclosedQuote => {
            format!("{at}引号未闭合（缺少一个 \"）{detail}。")
        }
        MalformedKind::UnknownTextEncoding => format!(
            "{at}无法识别文件的文字编码（既不是 UTF-8 也不是 GBK/GB18030）{detail}。\
             请在 Excel 中另存为“CSV UTF-8”格式。"
        ),
    }
}

/// What the content of a file turned out to be, when it is not what its name
/// says. Found by looking at the bytes, never at the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    /// An Office Open XML workbook (.xlsx).
    XlsxWorkbook,
    /// An Excel binary workbook (.xlsb).
    XlsbWorkbook,
    /// An old Excel 97-2003 workbook (.xls, an OLE2 compound file; also
    /// WPS .et files).
    LegacyExcel,
    /// An old Word 97-2003 document (.doc).
    LegacyWord,
    /// A password-protected (encrypted) Office file.
    EncryptedOffice,
    /// A Word document (.docx).
    WordDocument,
    /// A PowerPoint presentation (.pptx).
    PowerPoint,
    /// An OpenDocument file (.ods, .odt, …).
    OpenDocument,
    /// An OFD document (GB/T 33190, the Chinese fixed-layout format: a ZIP
    /// package with `OFD.xml` at its root).
    Ofd,
    /// An OLE2 compound file that is neither a Word nor an Excel file
    /// (a PowerPoint 97 presentation, an installer, …).
    OtherCompoundFile,
    /// A ZIP archive that is none of the above.
    ZipArchive,
    /// Another compressed archive (RAR, 7z, gzip).
    OtherArchive,
    /// A PDF document.
    Pdf,
    /// A PNG image.
    Png,
    /// A JPEG image.
    Jpeg,
    /// A GIF image.
    Gif,
    /// A BMP image.
    Bmp,
    /// An HTML page (some systems export those with a spreadsheet extension).
    Html,
    /// Plain text (perhaps a CSV file).
    Text,
    /// A program (Linux ELF, Windows or DOS .exe/.dll, macOS Mach-O).
    Executable,
    /// Binary data of no kind recognised here.
    Binary,
}

impl ContentKind {
    /// English description with an article, e.g. "a PDF document".
    pub fn description_en(self) -> &'static str {
        match self {
            Self::XlsxWorkbook => "an Excel .xlsx workbook",
            Self::XlsbWorkbook => "an Excel binary .xlsb workbook",
            Self::LegacyExcel => "an old Excel 97-2003 .xls workbook",
            Self::LegacyWord => "an old Word 97-2003 .doc document",
            Self::EncryptedOffice => "a password-protected Office file",
            Self::WordDocument => "a Word .docx document",
            Self::PowerPoint => "a PowerPoint presentation",
            Self::OpenDocument => "an OpenDocument file (.ods/.odt)",
            Self::Ofd => "an OFD document",
            Self::OtherCompoundFile => "an old-style Office file that is neither Word nor Excel",
            Self::ZipArchive => "a ZIP archive that is not an Office document",
            Self::OtherArchive => "a compressed archive (RAR, 7z or gzip)",
            Self::Pdf => "a PDF document",
            Self::Png => "a PNG image",
            Self::Jpeg => "a JPEG image",
            Self::Gif => "a GIF image",
            Self::Bmp => "a BMP image",
            Self::Html => "an HTML web page",
            Self::Text => "plain text",
            Self::Executable => "an executable program",
            Self::Binary => "binary data of an unknown kind",
        }
    }

    /// Chinese description, e.g. "PDF 文档".
    pub fn description_zh(self) -> &'static str {
        match self {
            Self::XlsxWorkbook => "Excel 工作簿（.xlsx）",
            Self::XlsbWorkbook => "Excel 二进制工作簿（.xlsb）",
            Self::LegacyExcel => "旧版 Excel 97-2003 工作簿（.xls）",
            Self::LegacyWord => "旧版 Word 97-2003 文档（.doc）",
            Self::EncryptedOffice => "设置了密码保护的 Office 文件",
            Self::WordDocument => "Word 文档（.docx）",
            Self::PowerPoint => "PowerPoint 演示文稿",
            Self::OpenDocument => "OpenDocument 文件（.ods/.odt）",
            Self::Ofd => "OFD 版式文档",
            Self::OtherCompoundFile => "既不是 Word 也不是 Excel 的旧版 Office 格式文件",
            Self::ZipArchive => "ZIP 压缩包（不是 Office 文档）",
            Self::OtherArchive => "压缩包（RAR、7z 或 gzip）",
            Self::Pdf => "PDF 文档",
            Self::Png => "PNG 图片",
            Self::Jpeg => "JPEG 图片",
            Self::Gif => "GIF 图片",
            Self::Bmp => "BMP 图片",
            Self::Html => "网页（HTML）文件",
            Self::Text => "纯文本",
            Self::Executable => "可执行程序",
            Self::Binary => "无法识别的二进制数据",
        }
    }
}

impl fmt::Display for ContentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description_en())
    }
}

/// Advice (with a leading space) for a file whose content is `found`.
fn hint_en(declared: TableFormat, found: ContentKind) -> &'static str {
    match (declared, found) {
        (TableFormat::Csv, ContentKind::XlsxWorkbook) => {
            " Upload it with the .xlsx extension instead."
        }
        (TableFormat::Xlsx, ContentKind::Text) => {
            " If it is a CSV file, give it the .csv extension."
        }
        (
            _,
            ContentKind::LegacyExcel
            | ContentKind::XlsbWorkbook
            | ContentKind::OpenDocument
            | ContentKind::Html,
        ) => " Open it in Excel, save it as .xlsx (Excel Workbook) and upload that.",
        (_, ContentKind::EncryptedOffice) => {
            " Remove the password in Excel, save it and upload it again."
        }
        _ => " Please upload an .xlsx workbook or a .csv file.",
    }
}

fn hint_zh(declared: TableFormat, found: ContentKind) -> &'static str {
    match (declared, found) {
        (TableFormat::Csv, ContentKind::XlsxWorkbook) => "请将扩展名改为 .xlsx 后上传。",
        (TableFormat::Xlsx, ContentKind::Text) => "如果它是 CSV 文件，请将扩展名改为 .csv。",
        (
            _,
            ContentKind::LegacyExcel
            | ContentKind::XlsbWorkbook
            | ContentKind::OpenDocument
            | ContentKind::Html,
        ) => "请用 Excel 打开，“另存为”Excel 工作簿（.xlsx）后再上传。",
        (_, ContentKind::EncryptedOffice) => "请在 Excel 中取消密码保护，保存后重新上传。",
        _ => "请上传 .xlsx 工作簿或 .csv 文件。",
    }
}

/// The Excel letters of a 1-based column number: 1 → "A", 27 → "AA".
/// Returns "?" for 0.
pub fn column_letter(column: usize) -> String {
    if column == 0 {
        return "?".to_owned();
    }
    let mut n = column;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        // rem < 26, so the addition stays within ASCII uppercase letters.
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(1), "A");
        assert_eq!(column_letter(26), "Z");
        assert_eq!(column_letter(27), "AA");
        assert_eq!(column_letter(52), "AZ");
        assert_eq!(column_letter(16384), "XFD");
        assert_eq!(column_letter(0), "?");
    }

    #[test]
    fn messages_in_both_languages() {
        let e = OfficeError::NotWhatNameSays {
            declared: TableFormat::Xlsx,
            found: ContentKind::LegacyExcel,
        };
        assert_eq!(
            e.to_string(),
            "The file is named .xlsx but its content is an old Excel 97-2003 .xls workbook. \
             Open it in Excel, save it as .xlsx (Excel Workbook) and upload that."
        );
        assert_eq!(e.message_en(), e.to_string());
        assert!(e.message_zh().contains("旧版 Excel 97-2003 工作簿"));
        assert!(e.message_zh().contains("另存为"));

        let e = OfficeError::CellTooLong {
            line: 5,
            column: 3,
            limit: 10,
        };
        assert_eq!(
            e.to_string(),
            "Line 5, column 3 (C): the cell is longer than 10 characters."
        );
        assert_eq!(
            e.message_zh(),
            "第 5 行第 3 列（C 列）：单元格内容超过 10 个字符的上限。"
        );
        assert_eq!(e.line(), Some(5));

        let e = OfficeError::Malformed {
            line: Some(7),
            kind: MalformedKind::UnclosedQuote,
            detail: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "Line 7: a quoted field is never closed (a \" is missing)."
        );
        assert_eq!(e.message_zh(), "第 7 行：引号未闭合（缺少一个 \"）。");

        let e = OfficeError::TooLarge {
            limit: 200 * 1024 * 1024,
        };
        assert!(e.to_string().contains("200 MiB"));
        assert!(e.message_zh().contains("200 MB"));
    }
}
