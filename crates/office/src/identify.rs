//! Telling whether an uploaded file is a document the system keeps.
//!
//! An audit round keeps reports, evidence and opinions as PDF, OFD (the
//! Chinese fixed-layout format, GB/T 33190), Word (.docx, .doc) or Excel
//! (.xlsx, .xls) files. [`identify_document`] decides by the **bytes**: the
//! file name's extension and the browser's Content-Type are claims, and a
//! text file renamed .pdf, a program, a web page or an image is refused with
//! a message naming what the bytes are. A file whose content is accepted but
//! whose name says otherwise is refused too, naming both, so that what is
//! stored opens in the program its name promises.

use std::fmt;

use crate::sniff::{sniff, text_kind, Sniffed};
use crate::ContentKind;

/// The formats a round's documents may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentFormat {
    /// A PDF document.
    Pdf,
    /// An OFD document (GB/T 33190).
    Ofd,
    /// A Word document (.docx).
    Docx,
    /// An old Word 97-2003 document (.doc).
    Doc,
    /// An Excel workbook (.xlsx).
    Xlsx,
    /// An old Excel 97-2003 workbook (.xls).
    Xls,
}

impl DocumentFormat {
    /// Every accepted format, in the order messages list them.
    pub const ALL: [DocumentFormat; 6] = [
        Self::Pdf,
        Self::Ofd,
        Self::Docx,
        Self::Doc,
        Self::Xlsx,
        Self::Xls,
    ];

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Ofd => "ofd",
            Self::Docx => "docx",
            Self::Doc => "doc",
            Self::Xlsx => "xlsx",
            Self::Xls => "xls",
        }
    }

    /// The MIME type to send a file of this format with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Ofd => "application/ofd",
            Self::Docx => crate::DOCX_CONTENT_TYPE,
            Self::Doc => "application/msword",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Xls => "application/vnd.ms-excel",
        }
    }

    /// What content of this format is, for messages.
    pub fn content_kind(self) -> ContentKind {
        match self {
            Self::Pdf => ContentKind::Pdf,
            Self::Ofd => ContentKind::Ofd,
            Self::Docx => ContentKind::WordDocument,
            Self::Doc => ContentKind::LegacyWord,
            Self::Xlsx => ContentKind::XlsxWorkbook,
            Self::Xls => ContentKind::LegacyExcel,
        }
    }

    fn from_content(kind: ContentKind) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|format| format.content_kind() == kind)
    }
}

/// Shows the extension with its dot: ".pdf".
impl fmt::Display for DocumentFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ".{}", self.extension())
    }
}

/// Why an upload is not kept as a document. `Display` gives the English
/// message, [`DocumentRefusal::message_zh`] the Chinese one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentRefusal {
    /// Not a single byte.
    #[error("The file is empty.")]
    Empty,
    /// The content is of a kind the system does not keep.
    #[error(
        "{}its content is {found}, which is not accepted. {}",
        named_en(.extension.as_deref()),
        advice_en(*.found)
    )]
    NotAccepted {
        /// The file name's extension as written, if it has one.
        extension: Option<String>,
        /// What the bytes are.
        found: ContentKind,
    },
    /// The content is accepted but the file name claims another format.
    #[error(
        "{}its content is {}. Name it {found} and upload it again.",
        named_en(.extension.as_deref()),
        .found.content_kind()
    )]
    NameMismatch {
        /// The file name's extension as written, if it has one.
        extension: Option<String>,
        /// The format the bytes are.
        found: DocumentFormat,
    },
}

impl DocumentRefusal {
    /// The message in English (the same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }

    /// The message in Chinese, for the people who upload the files.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Empty => "文件为空（0 字节）。".to_owned(),
            Self::NotAccepted { extension, found } => format!(
                "{}其内容是{}，不予接收。{}",
                named_zh(extension.as_deref()),
                found.description_zh(),
                advice_zh(*found)
            ),
            Self::NameMismatch { extension, found } => format!(
                "{}其内容是{}。请将文件扩展名改为 {found} 后重新上传。",
                named_zh(extension.as_deref()),
                found.content_kind().description_zh()
            ),
        }
    }
}

fn named_en(extension: Option<&str>) -> String {
    match extension {
        Some(extension) => format!("The file is named .{extension} but "),
        None => "The file name has no extension and ".to_owned(),
    }
}

fn named_zh(extension: Option<&str>) -> String {
    match extension {
        Some(extension) => format!("文件扩展名为 .{extension}，但"),
        None => "文件名没有扩展名，".to_owned(),
    }
}

const ACCEPTED_EN: &str = "Upload a PDF or OFD file, a Word document (.docx, .doc) or an Excel \
                           workbook (.xlsx, .xls).";
const ACCEPTED_ZH: &str =
    "请上传 PDF、OFD 文件、Word 文档（.docx、.doc）或 Excel 工作簿（.xlsx、.xls）。";

fn advice_en(found: ContentKind) -> String {
    match found {
        ContentKind::EncryptedOffice => {
            format!("Remove the password so that reviewers can open it. {ACCEPTED_EN}")
        }
        _ => ACCEPTED_EN.to_owned(),
    }
}

fn advice_zh(found: ContentKind) -> String {
    match found {
        ContentKind::EncryptedOffice => format!("请取消密码保护，以便审查人员打开。{ACCEPTED_ZH}"),
        _ => ACCEPTED_ZH.to_owned(),
    }
}

/// Identifies an uploaded document by its bytes and checks that its name
/// agrees. Accepts PDF, OFD, .docx, .doc, .xlsx and .xls; see the
/// [module docs](self).
///
/// ```
/// use cpaudit_office::{identify_document, DocumentFormat, DocumentRefusal};
///
/// let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n";
/// assert_eq!(identify_document("审核报告.PDF", pdf), Ok(DocumentFormat::Pdf));
///
/// let refusal = identify_document("审核报告.pdf", "不是 PDF".as_bytes()).unwrap_err();
/// assert_eq!(
///     refusal.to_string(),
///     "The file is named .pdf but its content is plain text, which is not accepted. \
///      Upload a PDF or OFD file, a Word document (.docx, .doc) or an Excel workbook \
///      (.xlsx, .xls)."
/// );
/// ```
pub fn identify_document(file_name: &str, bytes: &[u8]) -> Result<DocumentFormat, DocumentRefusal> {
    let extension = extension_of(file_name);
    let found = match sniff(bytes) {
        Sniffed::Empty => return Err(DocumentRefusal::Empty),
        Sniffed::Text => text_kind(bytes),
        // A ZIP whose directory cannot be read is damaged (or ZIP64, which no
        // document of the size accepted needs).
        Sniffed::Zip(directory) => directory.map_or(ContentKind::ZipArchive, |d| d.kind),
        Sniffed::Other(kind) => kind,
    };
    let Some(format) = DocumentFormat::from_content(found) else {
        return Err(DocumentRefusal::NotAccepted { extension, found });
    };
    match &extension {
        Some(named) if named.eq_ignore_ascii_case(format.extension()) => Ok(format),
        _ => Err(DocumentRefusal::NameMismatch {
            extension,
            found: format,
        }),
    }
}

/// The extension of a file name as written, without the dot; `None` when
/// there is none (no dot, or only a leading one as in ".profile").
fn extension_of(file_name: &str) -> Option<String> {
    let (stem, extension) = file_name.trim().rsplit_once('.')?;
    (!stem.is_empty() && !extension.is_empty()).then(|| extension.to_owned())
}

/// Longest file name kept, in characters (file systems allow 255 bytes,
/// which is 85 Chinese characters in UTF-8; 120 characters still shows a
/// long Chinese title in full).
const MAX_FILE_NAME_CHARS: usize = 120;

/// The name to keep for an uploaded file: the last path component (some
/// browsers send "C:\fakepath\报告.pdf"), without control characters, and
/// shortened in the middle of the stem so the extension survives. An empty
/// result becomes "document" with the format's extension.
pub fn clean_file_name(file_name: &str, format: DocumentFormat) -> String {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>();
    let base = base.trim();
    let extension = format!(".{}", format.extension());
    let stem = match base.rsplit_once('.') {
        Some((stem, named)) if named.eq_ignore_ascii_case(format.extension()) => stem.trim(),
        _ => base,
    };
    let stem = if stem.is_empty() { "document" } else { stem };
    let room = MAX_FILE_NAME_CHARS - extension.len();
    let stem: String = stem.chars().take(room).collect();
    format!("{stem}{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sniff::tests::zip_of;

    const OLE2: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
            .to_vec()
    }

    /// An OLE2 compound file whose directory names `stream`.
    fn compound_file(stream: &str) -> Vec<u8> {
        let mut bytes = OLE2.to_vec();
        bytes.resize(512, 0);
        bytes.extend(stream.encode_utf16().flat_map(u16::to_le_bytes));
        bytes.resize(1024, 0);
        bytes
    }

    fn docx() -> Vec<u8> {
        zip_of(
            &[
                ("[Content_Types].xml", b"<Types/>"),
                ("word/document.xml", b"<w:document/>"),
            ],
            None,
        )
    }

    fn xlsx() -> Vec<u8> {
        zip_of(
            &[
                ("[Content_Types].xml", b"<Types/>"),
                ("xl/workbook.xml", b"<workbook/>"),
            ],
            None,
        )
    }

    fn ofd() -> Vec<u8> {
        zip_of(
            &[
                ("OFD.xml", b"<ofd:OFD DocType=\"OFD\"/>"),
                ("Doc_0/Document.xml", b"<ofd:Document/>"),
            ],
            None,
        )
    }

    #[test]
    fn the_six_accepted_formats_are_recognised_by_their_bytes() {
        let cases = [
            ("审核报告.pdf", pdf(), DocumentFormat::Pdf),
            ("审核报告.ofd", ofd(), DocumentFormat::Ofd),
            ("审核报告.docx", docx(), DocumentFormat::Docx),
            (
                "审核报告.doc",
                compound_file("WordDocument"),
                DocumentFormat::Doc,
            ),
            ("监测数据.xlsx", xlsx(), DocumentFormat::Xlsx),
            (
                "监测数据.xls",
                compound_file("Workbook"),
                DocumentFormat::Xls,
            ),
        ];
        for (name, bytes, format) in cases {
            assert_eq!(identify_document(name, &bytes), Ok(format), "{name}");
        }
        // Extensions compare without regard to case.
        assert_eq!(
            identify_document("REPORT.PDF", &pdf()),
            Ok(DocumentFormat::Pdf)
        );
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert_eq!(
            identify_document("报告.pdf", b""),
            Err(DocumentRefusal::Empty)
        );
        assert_eq!(DocumentRefusal::Empty.message_zh(), "文件为空（0 字节）。");
    }

    #[test]
    fn text_renamed_pdf_is_refused_naming_what_it_is() {
        let refusal = identify_document("报告.pdf", "这是一段文字".as_bytes()).unwrap_err();
        assert_eq!(
            refusal,
            DocumentRefusal::NotAccepted {
                extension: Some("pdf".into()),
                found: ContentKind::Text
            }
        );
        assert!(refusal
            .message_zh()
            .starts_with("文件扩展名为 .pdf，但其内容是纯文本，不予接收。"));
        let html = identify_document("报告.pdf", b"<!DOCTYPE html><html><body>x</body></html>");
        assert!(matches!(
            html,
            Err(DocumentRefusal::NotAccepted {
                found: ContentKind::Html,
                ..
            })
        ));
    }

    #[test]
    fn programs_are_refused_whatever_their_name() {
        let elf = b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3E\0";
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0PE\0\0";
        let mach_o = b"\xCF\xFA\xED\xFE\x07\0\0\x01";
        for bytes in [&elf[..], &exe[..], &mach_o[..]] {
            let refusal = identify_document("审核报告.pdf", bytes).unwrap_err();
            assert_eq!(
                refusal,
                DocumentRefusal::NotAccepted {
                    extension: Some("pdf".into()),
                    found: ContentKind::Executable
                }
            );
            assert!(refusal.to_string().contains("an executable program"));
            assert!(refusal.message_zh().contains("可执行程序"));
        }
        // Text that merely starts with "MZ" is text.
        assert!(matches!(
            identify_document("notes.pdf", b"MZ 2027 notes"),
            Err(DocumentRefusal::NotAccepted {
                found: ContentKind::Text,
                ..
            })
        ));
    }

    #[test]
    fn images_archives_and_other_office_files_are_refused() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
        let rar = b"Rar!\x1a\x07\x01\0".to_vec();
        let zip = zip_of(&[("report.pdf", b"%PDF-1.7")], None);
        let ppt = compound_file("PowerPoint Document");
        let encrypted = compound_file("EncryptedPackage");
        let odt = zip_of(
            &[("mimetype", b"application/vnd.oasis.opendocument.text")],
            None,
        );
        let cases = [
            (png, ContentKind::Png),
            (rar, ContentKind::OtherArchive),
            (zip, ContentKind::ZipArchive),
            (ppt, ContentKind::OtherCompoundFile),
            (encrypted, ContentKind::EncryptedOffice),
            (odt, ContentKind::OpenDocument),
        ];
        for (bytes, found) in cases {
            assert_eq!(
                identify_document("材料.docx", &bytes),
                Err(DocumentRefusal::NotAccepted {
                    extension: Some("docx".into()),
                    found
                })
            );
        }
        let encrypted = identify_document("材料.docx", &compound_file("EncryptedPackage"));
        assert!(encrypted.unwrap_err().message_zh().contains("取消密码保护"));
        // A damaged ZIP (its directory cut off) is no document either.
        let docx = docx();
        assert!(matches!(
            identify_document("报告.docx", &docx[..docx.len() / 2]),
            Err(DocumentRefusal::NotAccepted {
                found: ContentKind::ZipArchive,
                ..
            })
        ));
    }

    #[test]
    fn an_accepted_content_under_another_name_is_refused_naming_both() {
        let refusal = identify_document("审核报告.doc", &pdf()).unwrap_err();
        assert_eq!(
            refusal,
            DocumentRefusal::NameMismatch {
                extension: Some("doc".into()),
                found: DocumentFormat::Pdf
            }
        );
        assert_eq!(
            refusal.to_string(),
            "The file is named .doc but its content is a PDF document. \
             Name it .pdf and upload it again."
        );
        assert_eq!(
            refusal.message_zh(),
            "文件扩展名为 .doc，但其内容是PDF 文档。请将文件扩展名改为 .pdf 后重新上传。"
        );
        // A .docx named .xlsx, an .xls named .doc, and no extension at all.
        assert!(matches!(
            identify_document("数据.xlsx", &docx()),
            Err(DocumentRefusal::NameMismatch {
                found: DocumentFormat::Docx,
                ..
            })
        ));
        assert!(matches!(
            identify_document("数据.doc", &compound_file("Workbook")),
            Err(DocumentRefusal::NameMismatch {
                found: DocumentFormat::Xls,
                ..
            })
        ));
        let unnamed = identify_document("审核报告", &pdf()).unwrap_err();
        assert!(unnamed
            .to_string()
            .starts_with("The file name has no extension"));
        assert!(unnamed.message_zh().starts_with("文件名没有扩展名"));
    }

    #[test]
    fn content_types_follow_the_format() {
        assert_eq!(DocumentFormat::Pdf.content_type(), "application/pdf");
        assert_eq!(DocumentFormat::Doc.content_type(), "application/msword");
        assert_eq!(
            DocumentFormat::Xls.content_type(),
            "application/vnd.ms-excel"
        );
        assert!(DocumentFormat::Docx
            .content_type()
            .contains("wordprocessingml"));
        assert_eq!(DocumentFormat::Ofd.to_string(), ".ofd");
    }

    #[test]
    fn file_names_are_kept_without_paths_or_control_characters() {
        let pdf = DocumentFormat::Pdf;
        assert_eq!(
            clean_file_name("C:\\fakepath\\审核报告.pdf", pdf),
            "审核报告.pdf"
        );
        assert_eq!(clean_file_name("../../etc/报告.PDF", pdf), "报告.pdf");
        assert_eq!(clean_file_name("a\u{0}b\r\n.pdf", pdf), "ab.pdf");
        assert_eq!(clean_file_name("   ", pdf), "document.pdf");
        assert_eq!(clean_file_name("报告", pdf), "报告.pdf");
        let long = "长".repeat(300) + ".pdf";
        let kept = clean_file_name(&long, pdf);
        assert_eq!(kept.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(kept.ends_with("长.pdf"));
    }
}
