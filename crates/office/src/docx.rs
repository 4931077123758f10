//! Word (.docx) documents laid out as Chinese official documents (公文).
//!
//! The system writes two kinds of Word documents: the written notification
//! (书面通知) a city bureau sends to each enterprise on the yearly mandatory
//! cleaner-production-audit list, and technical review opinions. Both are an
//! [`OfficialDocument`] — issuer, document number, title, addressee, body,
//! an optional table, signature, date, 抄送 — which [`write_docx`] lays out
//! in the spirit of GB/T 9704-2012 (党政机关公文格式):
//!
//! - A4 page, margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right;
//! - issuer line (发文机关标志) centred in red 小标宋, as large as fits one
//!   line (22–36 pt); document number (发文字号) centred two lines below it,
//!   with the red separator line under it;
//! - title two lines below the separator, centred, bold 小标宋 二号 (22 pt);
//! - addressee one line below the title, flush left, ending in "："; body
//!   paragraphs in 仿宋 三号 (16 pt) with a first-line indent of two
//!   characters, justified, at a fixed line pitch of 28.95 pt (22 lines fill
//!   the text block, as the standard asks);
//! - the optional table after the body paragraphs (header row in 黑体,
//!   cells in 仿宋 四号), then the closing paragraphs;
//! - signature and date right-aligned one line below the body, indented as
//!   §7.3.5.2 says: the date two characters from the right margin or further,
//!   and its first character two characters right of the signature's;
//! - the 抄送 line at the end, in 四号 between two rules, wrapped lines
//!   aligned after the colon;
//! - page numbers "— 1 —" in the footer, odd pages on the right and even
//!   pages on the left, one character in from the margin.
//!
//! Numbering of body paragraphs ("一、", "（一）", "1.") is part of their
//! text, not added here: a 公文 body mixes numbered items with unnumbered
//! lead-in and closing sentences, and only the author knows which is which.
//! A line break in any text becomes a line break within its paragraph (a
//! title may run over two lines); an empty string leaves its line out,
//! except in the body, where it is an empty paragraph.
//!
//! Every run names its font in all four slots, East Asian (`w:eastAsia`)
//! included, so Word and LibreOffice do not fall back to a Latin font for
//! Chinese text. Fonts missing on the reader's machine fall back as the font
//! table says: 方正小标宋简体 (not installed everywhere) to 宋体, and the
//! Windows fonts to their English names.
//!
//! # Why docx-rs
//!
//! The document is built with [docx-rs](https://docs.rs/docx-rs) rather than
//! by writing OOXML by hand: it covers everything this layout needs (page
//! size and margins, East Asian fonts, fixed line spacing, indents,
//! paragraph borders, tables with a fixed grid, odd and even footers with a
//! PAGE field), escapes text, and writes the package parts and their
//! relationships consistently. It is used without its `image` feature, so
//! no image codecs are compiled in. Two things are done around it:
//!
//! - Its font table is fixed to a few Latin fonts; it is replaced by one that
//!   lists the Chinese fonts used here with their fallbacks and GB2312
//!   charset, which is what Word consults when a font is missing.
//! - It numbers paragraphs (`w14:paraId`) from a per-thread counter that
//!   keeps running between documents; every paragraph here gets an explicit
//!   number instead, so the same input gives the same bytes on any thread.
//!   The ZIP entries carry the fixed DOS date 1980-01-01 and the core
//!   properties the document date, so nothing depends on the clock.

use std::fmt::Write as _;
use std::io::Cursor;

use chrono::{Datelike, NaiveDate};
use docx_rs::{
    AlignmentType, BorderType, BreakType, Docx, FieldCharType, Footer, InstrPAGE, InstrText,
    LineSpacing, LineSpacingType, PageMargin, Paragraph, ParagraphBorder, ParagraphBorderPosition,
    ParagraphBorders, Run, RunFonts, SpecialIndentType, Table, TableAlignmentType, TableCell,
    TableLayoutType, TableRow, VAlignType, WidthType,
};

use crate::OfficeError;

/// The MIME type to send a .docx file with.
pub const DOCX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// An official document (公文): a notification, a review opinion.
///
/// Texts are plain; see the [module docs](self) for how each is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialDocument {
    /// The issuing authority's name shown at the head (发文机关标志), e.g.
    /// "兰州市生态环境局". Empty for no head line.
    pub issuer: String,
    /// The document number (发文字号), e.g. "兰环清审〔2027〕3号". Empty for
    /// none.
    pub number: String,
    /// The title, e.g. "关于开展2027年度强制性清洁生产审核的通知".
    pub title: String,
    /// The main addressee (主送机关/单位), e.g. "甘肃某某化工有限公司",
    /// without the colon (one is added). Empty for none.
    pub addressee: String,
    /// The body paragraphs, in order.
    pub paragraphs: Vec<String>,
    /// A table placed after [`paragraphs`](Self::paragraphs).
    pub table: Option<DocumentTable>,
    /// Paragraphs after the table, e.g. "特此通知。".
    pub closing: Vec<String>,
    /// The issuing authority signing under the body (发文机关署名). Empty
    /// for none.
    pub signature: String,
    /// The date the document was made (成文日期).
    pub date: NaiveDate,
    /// Whom a copy goes to (抄送), without "抄送：", e.g. "兰州市人民政府".
    pub copy_to: Option<String>,
}

/// A table in an [`OfficialDocument`], e.g. deadlines: 事项 / 期限 / 法律依据.
///
/// The table has as many columns as the longest of the header and the rows;
/// shorter ones are padded with empty cells, so no text is ever dropped. An
/// empty header means a table without a header row, and a table with no
/// cells at all is left out of the document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocumentTable {
    /// The header row, set in bold 黑体.
    pub headers: Vec<String>,
    /// The data rows.
    pub rows: Vec<Vec<String>>,
}

/// A date written the way official documents write it: "2027年1月20日",
/// Arabic numerals without leading zeros (GB/T 9704-2012 §7.3.5.1).
pub fn chinese_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// Writes `document` as a Word .docx file.
///
/// The same document always gives the same bytes. The only error is the
/// ZIP writer failing, which writing to memory does not do in practice.
pub fn write_docx(document: &OfficialDocument) -> Result<Vec<u8>, OfficeError> {
    let mut parts = Layout::default().docx(document).build();
    parts.font_table = font_table_xml().into_bytes();
    let mut bytes = Cursor::new(Vec::new());
    parts.pack(&mut bytes).map_err(|e| OfficeError::Write {
        detail: format!("Word document: {e}"),
    })?;
    Ok(bytes.into_inner())
}

// Lengths are in twips (1/20 pt) and font sizes in half-points, as OOXML
// counts them.

/// A4 portrait.
const PAGE_WIDTH: u32 = 11906;
const PAGE_HEIGHT: u32 = 16838;
/// 37 mm, 35 mm, 28 mm and 26 mm.
const MARGIN_TOP: i32 = 2098;
const MARGIN_BOTTOM: i32 = 1984;
const MARGIN_LEFT: i32 = 1587;
const MARGIN_RIGHT: i32 = 1474;
/// Word's default 15 mm; there is no header.
const HEADER_DISTANCE: i32 = 851;
/// 23 mm from the page edge to the bottom of the 14 pt page-number line puts
/// its top 7 mm below the text block, where GB/T 9704 §7.5 wants it.
const FOOTER_DISTANCE: i32 = 1307;
/// The text block: 210 mm − 28 mm − 26 mm.
const TEXT_WIDTH: usize = 8845;

/// 28.95 pt: 22 lines fill the 225 mm text block (GB/T 9704 §5.2.3).
const LINE_PITCH: i32 = 579;

/// 三号 (16 pt), the body size, and the width of one body character.
const BODY_SIZE: usize = 32;
const BODY_CHAR: i32 = 320;
/// 二号 (22 pt), the title size.
const TITLE_SIZE: usize = 44;
/// 四号 (14 pt), for tables, 抄送 and page numbers, and its character width.
const SMALL_SIZE: usize = 28;
const SMALL_CHAR: i32 = 280;
/// The issuer line is set as large as fits one line, within these sizes (pt).
const ISSUER_MIN_PT: usize = 22;
const ISSUER_MAX_PT: usize = 36;

/// The red of the issuer line and the separator line under the head.
const RED: &str = "FF0000";
/// The separator line: 1.5 pt (in eighths of a point), about 4 mm (11 pt)
/// below the document number.
const SEPARATOR_SIZE: usize = 12;
const SEPARATOR_SPACE: usize = 11;
/// The rules around 抄送: 0.75 pt.
const RULE_SIZE: usize = 6;

/// A font by the name Word knows it by, and the one to use where it is
/// missing.
#[derive(Debug, Clone, Copy)]
struct Face {
    name: &'static str,
    fallback: &'static str,
}

/// 小标宋 for the issuer and the title; often missing outside government
/// machines, hence 宋体.
const TITLE_FACE: Face = Face {
    name: "方正小标宋简体",
    fallback: "宋体",
};
const BODY_FACE: Face = Face {
    name: "仿宋",
    fallback: "FangSong",
};
const HEADING_FACE: Face = Face {
    name: "黑体",
    fallback: "SimHei",
};
/// GB/T 9704 §7.5 sets page numbers in 半角宋体.
const PAGE_NUMBER_FACE: Face = Face {
    name: "宋体",
    fallback: "SimSun",
};

/// The whole text in one face: Chinese, Latin and digits alike, so a line
/// looks the same whichever fonts the reader has.
fn run_fonts(face: Face) -> RunFonts {
    RunFonts::new()
        .ascii(face.name)
        .hi_ansi(face.name)
        .east_asia(face.name)
        .cs(face.name)
}

/// `word/fontTable.xml` naming the faces above with their fallbacks
/// (`w:altName`) and the GB2312 charset, which Word uses to pick a
/// substitute for a missing font.
fn font_table_xml() -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">"#,
    );
    for face in [TITLE_FACE, BODY_FACE, HEADING_FACE, PAGE_NUMBER_FACE] {
        // The names are the constants above, free of XML special characters.
        let _ = write!(
            xml,
            r#"<w:font w:name="{}"><w:altName w:val="{}"/><w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>"#,
            face.name, face.fallback
        );
    }
    xml.push_str("</w:fonts>");
    xml
}

/// A run of `text` in `face` at `size`.
fn text_run(text: &str, face: Face, size: usize) -> Run {
    add_text(Run::new().fonts(run_fonts(face)).size(size), text)
}

/// Adds `text` to `run`: line breaks become breaks, tabs become tabs, and
/// control characters are dropped, since XML 1.0 cannot carry them and Word
/// refuses a file that has them.
fn add_text(mut run: Run, text: &str) -> Run {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                run = run.add_tab();
            }
            let piece: String = piece.chars().filter(|&c| is_xml_char(c)).collect();
            if !piece.is_empty() {
                run = run.add_text(piece);
            }
        }
    }
    run
}

fn is_xml_char(c: char) -> bool {
    !matches!(
        c,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'
    )
}

/// How wide the longest line of `text` prints, in half characters: Chinese
/// characters and full-width punctuation take a whole character, Latin
/// letters and digits half of one, as Chinese fonts set them.
fn half_widths(text: &str) -> i32 {
    text.lines()
        .map(|line| {
            line.chars()
                .map(|c| if is_half_width(c) { 1 } else { 2 })
                .sum()
        })
        .max()
        .unwrap_or(0)
}

/// Latin, Greek and Cyrillic (below the general punctuation block) and the
/// half-width forms; Chinese fonts set the rest, quotes and dashes included,
/// at full width.
fn is_half_width(c: char) -> bool {
    c < '\u{2000}' || ('\u{FF61}'..='\u{FFDC}').contains(&c)
}

/// The issuer line's size in half-points: the largest that fits the longest
/// line on one line of the text block, within 22–36 pt.
fn issuer_size(issuer: &str) -> usize {
    let text_width_pt = TEXT_WIDTH / 20;
    // A half character is half the font size wide.
    let units = half_widths(issuer).max(1).unsigned_abs() as usize;
    (2 * text_width_pt / units).clamp(ISSUER_MIN_PT, ISSUER_MAX_PT) * 2
}

/// Right indents (twips) of the signature and the date, per GB/T 9704
/// §7.3.5.2: the signature two characters in from the right margin and the
/// date's first character two characters right of the signature's; where
/// that would bring the date closer than two characters to the margin, the
/// date stays two characters in and the signature moves left.
fn signature_indents(signature: &str, date: &str) -> (i32, i32) {
    const TWO_CHARS: i32 = 4; // in half characters
    let signature = half_widths(signature);
    let date = half_widths(date);
    let (signature_right, date_right) = if signature - date >= TWO_CHARS {
        (TWO_CHARS, signature - date)
    } else {
        (date + 2 * TWO_CHARS - signature, TWO_CHARS)
    };
    let half_char = BODY_CHAR / 2;
    (signature_right * half_char, date_right * half_char)
}

/// Column widths (twips) filling the text block, in proportion to the
/// widest text of each column, bounded so a short column stays readable and
/// a long one does not squeeze the rest.
fn column_widths(table: &DocumentTable, columns: usize) -> Vec<usize> {
    let weights: Vec<usize> = (0..columns)
        .map(|column| {
            std::iter::once(&table.headers)
                .chain(&table.rows)
                .filter_map(|row| row.get(column))
                .map(|text| half_widths(text))
                .max()
                .unwrap_or(0)
                .clamp(8, 60)
                .unsigned_abs() as usize
        })
        .collect();
    let total: usize = weights.iter().sum();
    let mut widths: Vec<usize> = weights.iter().map(|w| TEXT_WIDTH * w / total).collect();
    // Rounding down leaves a few twips; the last column takes them so the
    // table is exactly as wide as the text.
    let rest = TEXT_WIDTH - widths.iter().sum::<usize>();
    if let Some(last) = widths.last_mut() {
        *last += rest;
    }
    widths
}

fn exact_lines(lines: i32) -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(LINE_PITCH)
        .before((lines * LINE_PITCH).unsigned_abs())
}

/// Builds the document, numbering its paragraphs.
#[derive(Default)]
struct Layout {
    paragraphs: u32,
}

impl Layout {
    /// A new paragraph with the next number, in hexadecimal as Word writes
    /// them.
    fn paragraph(&mut self) -> Paragraph {
        self.paragraphs += 1;
        Paragraph::new().id(format!("{:08X}", self.paragraphs))
    }

    fn docx(&mut self, document: &OfficialDocument) -> Docx {
        // W3CDTF, as docProps/core.xml wants it.
        let created = format!("{}T00:00:00Z", document.date.format("%Y-%m-%d"));
        let mut docx = Docx::new()
            .page_size(PAGE_WIDTH, PAGE_HEIGHT)
            .page_margin(
                PageMargin::new()
                    .top(MARGIN_TOP)
                    .bottom(MARGIN_BOTTOM)
                    .left(MARGIN_LEFT)
                    .right(MARGIN_RIGHT)
                    .header(HEADER_DISTANCE)
                    .footer(FOOTER_DISTANCE),
            )
            .default_fonts(run_fonts(BODY_FACE))
            .default_size(BODY_SIZE)
            .footer(self.page_number_footer(true))
            .even_footer(self.page_number_footer(false))
            .created_at(&created)
            .updated_at(&created);

        let has_head = !document.issuer.is_empty() || !document.number.is_empty();
        for paragraph in self.head(document) {
            docx = docx.add_paragraph(paragraph);
        }
        if !document.title.is_empty() {
            let blank_lines = if has_head { 2 } else { 0 };
            docx = docx.add_paragraph(
                self.paragraph()
                    .align(AlignmentType::Center)
                    .line_spacing(exact_lines(blank_lines))
                    .keep_next(true)
                    .keep_lines(true)
                    .add_run(text_run(&document.title, TITLE_FACE, TITLE_SIZE).bold()),
            );
        }
        if !document.addressee.is_empty() {
            let addressee = document.addressee.trim_end_matches([':', '：']);
            docx = docx.add_paragraph(
                self.paragraph()
                    .align(AlignmentType::Left)
                    .line_spacing(exact_lines(1))
                    .add_run(text_run(&format!("{addressee}："), BODY_FACE, BODY_SIZE)),
            );
        }
        for text in &document.paragraphs {
            docx = docx.add_paragraph(self.body(text));
        }
        if let Some(table) = document.table.as_ref().and_then(|t| self.table(t)) {
            docx = docx.add_table(table);
        }
        for text in &document.closing {
            docx = docx.add_paragraph(self.body(text));
        }
        for paragraph in self.signature(document) {
            docx = docx.add_paragraph(paragraph);
        }
        if let Some(copy_to) = document.copy_to.as_deref().filter(|c| !c.is_empty()) {
            docx = docx.add_paragraph(self.copy_to(copy_to));
        }
        docx
    }

    /// The issuer line and the document number, the last of them carrying
    /// the red separator line.
    fn head(&mut self, document: &OfficialDocument) -> Vec<Paragraph> {
        let mut head = Vec::new();
        if !document.issuer.is_empty() {
            let size = issuer_size(&document.issuer);
            head.push(
                self.paragraph()
                    .align(AlignmentType::Center)
                    .keep_next(true)
                    .add_run(
                        text_run(&document.issuer, TITLE_FACE, size)
                            .bold()
                            .color(RED),
                    ),
            );
        }
        if !document.number.is_empty() {
            let blank_lines = if head.is_empty() { 0 } else { 2 };
            head.push(
                self.paragraph()
                    .align(AlignmentType::Center)
                    .line_spacing(exact_lines(blank_lines))
                    .keep_next(true)
                    .add_run(text_run(&document.number, BODY_FACE, BODY_SIZE)),
            );
        }
        if let Some(last) = head.last_mut() {
            let separator = ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                .val(BorderType::Single)
                .size(SEPARATOR_SIZE)
                .space(SEPARATOR_SPACE)
                .color(RED);
            // Starting from no borders: docx-rs's default draws a box.
            last.property = std::mem::take(&mut last.property)
                .set_borders(ParagraphBorders::with_empty().set(separator));
        }
        head
    }

    /// A body paragraph: justified, first line indented two characters.
    fn body(&mut self, text: &str) -> Paragraph {
        self.paragraph()
            .align(AlignmentType::Both)
            .line_spacing(exact_lines(0))
            .indent(
                None,
                Some(SpecialIndentType::FirstLine(2 * BODY_CHAR)),
                None,
                None,
            )
            .add_run(text_run(text, BODY_FACE, BODY_SIZE))
    }

    /// The table, or `None` when it has no cells at all.
    fn table(&mut self, table: &DocumentTable) -> Option<Table> {
        let longest_row = table.rows.iter().map(Vec::len).max().unwrap_or(0);
        let columns = table.headers.len().max(longest_row);
        if columns == 0 {
            return None;
        }
        let widths = column_widths(table, columns);
        let mut rows = Vec::with_capacity(table.rows.len() + 1);
        if !table.headers.is_empty() {
            rows.push(self.table_row(&table.headers, &widths, true));
        }
        for row in &table.rows {
            rows.push(self.table_row(row, &widths, false));
        }
        Some(
            Table::new(rows)
                .set_grid(widths)
                .width(TEXT_WIDTH, WidthType::Dxa)
                // Fixed, so Word keeps the grid instead of fitting columns to
                // their text on its own.
                .layout(TableLayoutType::Fixed)
                .align(TableAlignmentType::Center),
        )
    }

    fn table_row(&mut self, texts: &[String], widths: &[usize], header: bool) -> TableRow {
        let cells = widths
            .iter()
            .enumerate()
            .map(|(column, &width)| {
                let text = texts.get(column).map_or("", String::as_str);
                let (face, align) = if header {
                    (HEADING_FACE, AlignmentType::Center)
                } else {
                    (BODY_FACE, AlignmentType::Left)
                };
                let mut run = text_run(text, face, SMALL_SIZE);
                if header {
                    run = run.bold();
                }
                TableCell::new()
                    .width(width, WidthType::Dxa)
                    .vertical_align(VAlignType::Center)
                    .add_paragraph(
                        self.paragraph()
                            .align(align)
                            .line_spacing(
                                LineSpacing::new()
                                    .line_rule(LineSpacingType::Auto)
                                    .line(240),
                            )
                            .add_run(run),
                    )
            })
            .collect();
        TableRow::new(cells).cant_split()
    }

    /// The signature one line below the body and the date under it.
    fn signature(&mut self, document: &OfficialDocument) -> Vec<Paragraph> {
        let date = chinese_date(document.date);
        let (signature_right, date_right) = signature_indents(&document.signature, &date);
        let mut paragraphs = Vec::new();
        if !document.signature.is_empty() {
            paragraphs.push(
                self.paragraph()
                    .align(AlignmentType::Right)
                    .line_spacing(exact_lines(1))
                    .indent(None, None, Some(signature_right), None)
                    .keep_next(true)
                    .add_run(text_run(&document.signature, BODY_FACE, BODY_SIZE)),
            );
        }
        let blank_lines = if paragraphs.is_empty() { 1 } else { 0 };
        paragraphs.push(
            self.paragraph()
                .align(AlignmentType::Right)
                .line_spacing(exact_lines(blank_lines))
                .indent(None, None, Some(date_right), None)
                .add_run(text_run(&date, BODY_FACE, BODY_SIZE)),
        );
        paragraphs
    }

    /// "抄送：…" in 四号 between two rules, one character in from either
    /// side, wrapped lines aligned after the colon (GB/T 9704 §7.4.2).
    fn copy_to(&mut self, copy_to: &str) -> Paragraph {
        const LABEL: &str = "抄送：";
        let label_width = LABEL.chars().count() as i32 * SMALL_CHAR;
        let rule = |position| {
            ParagraphBorder::new(position)
                .val(BorderType::Single)
                .size(RULE_SIZE)
                .space(4)
        };
        let mut paragraph = self
            .paragraph()
            .align(AlignmentType::Left)
            .line_spacing(exact_lines(2))
            .indent(
                Some(SMALL_CHAR + label_width),
                Some(SpecialIndentType::Hanging(label_width)),
                Some(SMALL_CHAR),
                None,
            )
            .add_run(text_run(
                &format!("{LABEL}{copy_to}"),
                BODY_FACE,
                SMALL_SIZE,
            ));
        paragraph.property = paragraph.property.set_borders(
            ParagraphBorders::with_empty()
                .set(rule(ParagraphBorderPosition::Top))
                .set(rule(ParagraphBorderPosition::Bottom)),
        );
        paragraph
    }

    /// "— 1 —" in 四号 宋体, on odd pages one character in from the right
    /// margin, on even pages from the left (GB/T 9704 §7.5).
    fn page_number_footer(&mut self, odd: bool) -> Footer {
        let dash = |text| text_run(text, PAGE_NUMBER_FACE, SMALL_SIZE);
        let number = Run::new()
            .fonts(run_fonts(PAGE_NUMBER_FACE))
            .size(SMALL_SIZE)
            .add_field_char(FieldCharType::Begin, false)
            .add_instr_text(InstrText::PAGE(InstrPAGE::new()))
            .add_field_char(FieldCharType::Separate, false)
            .add_text("1")
            .add_field_char(FieldCharType::End, false);
        let paragraph = self
            .paragraph()
            .add_run(dash("— "))
            .add_run(number)
            .add_run(dash(" —"));
        let paragraph = if odd {
            paragraph
                .align(AlignmentType::Right)
                .indent(None, None, Some(SMALL_CHAR), None)
        } else {
            paragraph
                .align(AlignmentType::Left)
                .indent(Some(SMALL_CHAR), None, None, None)
        };
        Footer::new().add_paragraph(paragraph)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::{Cursor, Read};

    use quick_xml::events::Event;
    use quick_xml::{Reader, XmlVersion};

    use super::*;
    use crate::{read_table, ContentKind, ReadLimits, TableFormat};

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 20).expect("a valid date")
    }

    fn notification() -> OfficialDocument {
        OfficialDocument {
            issuer: "兰州市生态环境局".to_owned(),
            number: "兰环清审〔2027〕3号".to_owned(),
            title: "关于开展2027年度强制性清洁生产审核的通知".to_owned(),
            addressee: "甘肃某某化工有限公司".to_owned(),
            paragraphs: vec![
                "根据《中华人民共和国清洁生产促进法》，你单位被列入2027年度强制性清洁生产审核名单。"
                    .to_owned(),
                "一、请按下表所列期限完成有关工作。".to_owned(),
            ],
            table: Some(DocumentTable {
                headers: vec!["事项".to_owned(), "期限".to_owned(), "法律依据".to_owned()],
                rows: vec![
                    vec![
                        "公布主要污染物排放情况".to_owned(),
                        "2027年2月20日前".to_owned(),
                        "《清洁生产审核办法》第十条".to_owned(),
                    ],
                    vec![
                        "报送审核评估材料".to_owned(),
                        "2028年1月20日前".to_owned(),
                        "《清洁生产审核办法》第十一条".to_owned(),
                    ],
                ],
            }),
            closing: vec!["特此通知。".to_owned()],
            signature: "兰州市生态环境局".to_owned(),
            date: date(),
            copy_to: Some("兰州市人民政府办公室".to_owned()),
        }
    }

    /// Every part of the package by name; all of them are XML here.
    fn parts(bytes: &[u8]) -> BTreeMap<String, String> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a ZIP archive");
        let mut parts = BTreeMap::new();
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).expect("a readable entry");
            if entry.is_dir() {
                continue;
            }
            let mut text = String::new();
            entry.read_to_string(&mut text).expect("UTF-8 text");
            parts.insert(entry.name().to_owned(), text);
        }
        parts
    }

    fn document_xml(document: &OfficialDocument) -> String {
        let bytes = write_docx(document).expect("the document is written");
        parts(&bytes)
            .remove("word/document.xml")
            .expect("word/document.xml")
    }

    /// Reads all of `xml`, panicking where it is not well-formed, and hands
    /// each event to `visit`.
    fn walk(xml: &str, mut visit: impl FnMut(&Event<'_>)) {
        let mut reader = Reader::from_str(xml);
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(event) => visit(&event),
                Err(e) => panic!("malformed XML at {}: {e}", reader.buffer_position()),
            }
        }
    }

    /// The text of each paragraph (`w:p`) in document order, unescaped, with
    /// line breaks as "\n" and tabs as "\t".
    fn paragraph_texts(xml: &str) -> Vec<String> {
        let mut texts: Vec<String> = Vec::new();
        let mut in_text = false;
        walk(xml, |event| match event {
            Event::Start(e) if e.name().as_ref() == b"w:p" => texts.push(String::new()),
            Event::Start(e) if e.name().as_ref() == b"w:t" => in_text = true,
            Event::End(e) if e.name().as_ref() == b"w:t" => in_text = false,
            Event::Empty(e) if e.name().as_ref() == b"w:br" => {
                texts.last_mut().expect("inside a paragraph").push('\n');
            }
            Event::Empty(e) if e.name().as_ref() == b"w:tab" => {
                texts.last_mut().expect("inside a paragraph").push('\t');
            }
            Event::Text(t) if in_text => texts
                .last_mut()
                .expect("inside a paragraph")
                .push_str(&t.decode().expect("UTF-8")),
            Event::GeneralRef(r) if in_text => {
                let name = r.decode().expect("UTF-8");
                let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                    .unwrap_or_else(|| panic!("unknown entity &{name};"));
                texts
                    .last_mut()
                    .expect("inside a paragraph")
                    .push_str(resolved);
            }
            _ => {}
        });
        texts
    }

    /// The non-empty paragraph texts.
    fn visible_texts(xml: &str) -> Vec<String> {
        paragraph_texts(xml)
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The values of attribute `attribute` on every `element` in `xml`.
    fn attribute_values(xml: &str, element: &str, attribute: &str) -> Vec<String> {
        let mut values = Vec::new();
        walk(xml, |event| {
            if let Event::Start(e) | Event::Empty(e) = event {
                if e.name().as_ref() == element.as_bytes() {
                    for a in e.attributes() {
                        let a = a.expect("a well-formed attribute");
                        if a.key.as_ref() == attribute.as_bytes() {
                            let value = a
                                .normalized_value(XmlVersion::Implicit1_0)
                                .expect("an attribute value");
                            values.push(value.into_owned());
                        }
                    }
                }
            }
        });
        values
    }

    /// The sides each paragraph border (`w:pBdr`) draws.
    fn paragraph_borders(xml: &str) -> Vec<Vec<String>> {
        let mut borders: Vec<Vec<String>> = Vec::new();
        let mut inside = false;
        walk(xml, |event| match event {
            Event::Start(e) if e.name().as_ref() == b"w:pBdr" => {
                inside = true;
                borders.push(Vec::new());
            }
            Event::End(e) if e.name().as_ref() == b"w:pBdr" => inside = false,
            Event::Empty(e) if inside => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                borders.last_mut().expect("inside a border").push(name);
            }
            _ => {}
        });
        borders
    }

    /// The number of cells in each table row.
    fn row_shapes(xml: &str) -> Vec<usize> {
        let mut shapes = Vec::new();
        walk(xml, |event| match event {
            Event::Start(e) if e.name().as_ref() == b"w:tr" => shapes.push(0),
            Event::Start(e) if e.name().as_ref() == b"w:tc" => {
                *shapes.last_mut().expect("inside a row") += 1;
            }
            _ => {}
        });
        shapes
    }

    #[test]
    fn chinese_dates_have_no_leading_zeros() {
        assert_eq!(chinese_date(date()), "2027年1月20日");
        let december = NaiveDate::from_ymd_opt(2027, 12, 5).expect("a valid date");
        assert_eq!(chinese_date(december), "2027年12月5日");
    }

    #[test]
    fn every_text_appears_once_in_document_order() {
        let xml = document_xml(&notification());
        assert_eq!(
            visible_texts(&xml),
            [
                "兰州市生态环境局",
                "兰环清审〔2027〕3号",
                "关于开展2027年度强制性清洁生产审核的通知",
                "甘肃某某化工有限公司：",
                "根据《中华人民共和国清洁生产促进法》，你单位被列入2027年度强制性清洁生产审核名单。",
                "一、请按下表所列期限完成有关工作。",
                "事项",
                "期限",
                "法律依据",
                "公布主要污染物排放情况",
                "2027年2月20日前",
                "《清洁生产审核办法》第十条",
                "报送审核评估材料",
                "2028年1月20日前",
                "《清洁生产审核办法》第十一条",
                "特此通知。",
                "兰州市生态环境局",
                "2027年1月20日",
                "抄送：兰州市人民政府办公室",
            ]
        );
        assert_eq!(row_shapes(&xml), [3, 3, 3]);
    }

    #[test]
    fn addressee_gets_exactly_one_full_width_colon() {
        for addressee in ["甲公司", "甲公司：", "甲公司:"] {
            let document = OfficialDocument {
                addressee: addressee.to_owned(),
                ..notification()
            };
            let texts = visible_texts(&document_xml(&document));
            assert_eq!(texts[3], "甲公司：", "addressee {addressee:?}");
        }
    }

    #[test]
    fn page_is_a4_with_official_margins() {
        let xml = document_xml(&notification());
        assert_eq!(attribute_values(&xml, "w:pgSz", "w:w"), ["11906"]);
        assert_eq!(attribute_values(&xml, "w:pgSz", "w:h"), ["16838"]);
        // 37, 35, 28 and 26 mm in twips.
        assert_eq!(attribute_values(&xml, "w:pgMar", "w:top"), ["2098"]);
        assert_eq!(attribute_values(&xml, "w:pgMar", "w:bottom"), ["1984"]);
        assert_eq!(attribute_values(&xml, "w:pgMar", "w:left"), ["1587"]);
        assert_eq!(attribute_values(&xml, "w:pgMar", "w:right"), ["1474"]);
    }

    #[test]
    fn chinese_text_names_east_asian_fonts() {
        let bytes = write_docx(&notification()).expect("the document is written");
        let parts = parts(&bytes);
        let xml = &parts["word/document.xml"];

        // Every run names its East Asian font: the default is not relied on.
        let run_fonts = attribute_values(xml, "w:rFonts", "w:ascii").len();
        let east_asian = attribute_values(xml, "w:rFonts", "w:eastAsia");
        assert_eq!(east_asian.len(), run_fonts);
        for font in ["方正小标宋简体", "仿宋", "黑体"] {
            assert!(
                east_asian.iter().any(|f| f == font),
                "{font} in {east_asian:?}"
            );
        }
        // The title is in 小标宋 at 22 pt, bold.
        let title_run = xml
            .split("<w:r>")
            .find(|run| run.contains("关于开展2027年度"))
            .expect("the title run");
        assert!(title_run.contains(r#"w:eastAsia="方正小标宋简体""#));
        assert!(title_run.contains(r#"<w:sz w:val="44" />"#));
        assert!(title_run.contains("<w:b />"));

        // Text without a run font of its own falls back to 仿宋 三号.
        let styles = &parts["word/styles.xml"];
        assert_eq!(attribute_values(styles, "w:rFonts", "w:eastAsia"), ["仿宋"]);
        assert!(attribute_values(styles, "w:sz", "w:val").contains(&"32".to_owned()));

        // The page numbers are in 宋体.
        let footer = &parts["word/footer1.xml"];
        assert_eq!(
            attribute_values(footer, "w:rFonts", "w:eastAsia"),
            ["宋体", "宋体", "宋体"]
        );

        // Missing fonts fall back as the font table says.
        let fonts = &parts["word/fontTable.xml"];
        assert_eq!(
            attribute_values(fonts, "w:font", "w:name"),
            ["方正小标宋简体", "仿宋", "黑体", "宋体"]
        );
        assert_eq!(
            attribute_values(fonts, "w:altName", "w:val"),
            ["宋体", "FangSong", "SimHei", "SimSun"]
        );
        assert_eq!(attribute_values(fonts, "w:charset", "w:val"), ["86"; 4]);
    }

    #[test]
    fn body_paragraphs_are_indented_two_characters_at_a_fixed_pitch() {
        let xml = document_xml(&notification());
        // The three body paragraphs (two before the table, one after), each
        // indented two 16 pt characters.
        assert_eq!(attribute_values(&xml, "w:ind", "w:firstLine"), ["640"; 3]);
        // Every line outside the table and the head line is 28.95 pt.
        let pitches = attribute_values(&xml, "w:spacing", "w:line");
        let rules = attribute_values(&xml, "w:spacing", "w:lineRule");
        let exact = rules.iter().filter(|r| *r == "exact").count();
        assert_eq!(
            exact,
            pitches.iter().filter(|p| *p == "579").count(),
            "{pitches:?} {rules:?}"
        );
        // number, title, addressee, 3 body, signature, date, 抄送.
        assert_eq!(exact, 9);
        // The head is red, the separator line under the number too.
        assert_eq!(attribute_values(&xml, "w:color", "w:val"), [RED]);
        assert_eq!(attribute_values(&xml, "w:bottom", "w:color")[0], RED);
        // Rules, not boxes: a line under the number, lines above and
        // below 抄送.
        assert_eq!(
            paragraph_borders(&xml),
            [vec!["bottom"], vec!["top", "bottom"]]
        );
    }

    #[test]
    fn signature_and_date_follow_gbt_9704() {
        // "兰州市生态环境局" is 8 characters, "2027年1月20日" 6.5: the date
        // would end 1.5 characters from the margin, so it stays 2 in and
        // the signature moves left to 2.5 (in 160-twip half characters).
        assert_eq!(
            signature_indents("兰州市生态环境局", "2027年1月20日"),
            (5 * 160, 4 * 160)
        );
        // A long signature: 2 characters in, the date 2 characters right of
        // its start.
        assert_eq!(
            signature_indents("兰州市生态环境局榆中分局", "2027年1月20日"),
            (4 * 160, 11 * 160)
        );
        let xml = document_xml(&notification());
        let rights = attribute_values(&xml, "w:ind", "w:right");
        assert!(rights.contains(&"800".to_owned()), "{rights:?}");
        assert!(rights.contains(&"640".to_owned()), "{rights:?}");
    }

    #[test]
    fn issuer_line_shrinks_to_fit_one_line() {
        assert_eq!(issuer_size("兰州市生态环境局"), 72);
        // 30 characters would need 14 pt; below 22 pt the line wraps instead.
        assert_eq!(issuer_size(&"环".repeat(30)), 44);
        // 16 characters: 442 pt / 16 = 27 pt.
        assert_eq!(issuer_size(&"环".repeat(16)), 54);
    }

    #[test]
    fn xml_special_characters_round_trip_escaped() {
        let tricky = r#"A<B & "C" 'D' > E&amp;"#;
        let document = OfficialDocument {
            title: tricky.to_owned(),
            addressee: tricky.to_owned(),
            paragraphs: vec![tricky.to_owned()],
            table: Some(DocumentTable {
                headers: vec![tricky.to_owned()],
                rows: vec![vec![tricky.to_owned()]],
            }),
            copy_to: Some(tricky.to_owned()),
            ..notification()
        };
        let xml = document_xml(&document);
        let texts = visible_texts(&xml);
        assert_eq!(texts.iter().filter(|t| t.as_str() == tricky).count(), 4);
        assert!(texts.contains(&format!("{tricky}：")));
        assert!(texts.contains(&format!("抄送：{tricky}")));
        // Escaped once, not twice, and never raw.
        assert!(xml.contains("A&lt;B &amp; &quot;C&quot; &apos;D&apos; &gt; E&amp;amp;"));
        assert!(!xml.contains("A<B"));
    }

    #[test]
    fn line_breaks_tabs_and_control_characters() {
        let document = OfficialDocument {
            title: "关于开展2027年度\r\n强制性清洁生产审核的通知".to_owned(),
            paragraphs: vec!["甲\t乙\u{1}丙\u{FFFF}".to_owned()],
            ..notification()
        };
        let texts = visible_texts(&document_xml(&document));
        assert_eq!(texts[2], "关于开展2027年度\n强制性清洁生产审核的通知");
        assert_eq!(texts[4], "甲\t乙丙");
    }

    #[test]
    fn table_without_header_keeps_its_rows() {
        let document = OfficialDocument {
            paragraphs: vec![],
            table: Some(DocumentTable {
                headers: vec![],
                rows: vec![
                    vec!["甲".to_owned(), "乙".to_owned()],
                    vec!["丙".to_owned()],
                ],
            }),
            closing: vec![],
            ..notification()
        };
        let xml = document_xml(&document);
        let texts = paragraph_texts(&xml);
        let first = texts
            .iter()
            .position(|t| t == "甲")
            .expect("the first cell");
        // The short row is padded with an empty cell.
        assert_eq!(texts[first..first + 4], ["甲", "乙", "丙", ""]);
        assert_eq!(row_shapes(&xml), [2, 2]);
        // No header row: nothing in 黑体.
        assert!(!attribute_values(&xml, "w:rFonts", "w:eastAsia").contains(&"黑体".to_owned()));
    }

    #[test]
    fn rows_longer_than_the_header_widen_the_table() {
        let document = OfficialDocument {
            table: Some(DocumentTable {
                headers: vec!["事项".to_owned()],
                rows: vec![vec!["甲".to_owned(), "乙".to_owned(), "丙".to_owned()]],
            }),
            ..notification()
        };
        let xml = document_xml(&document);
        assert_eq!(row_shapes(&xml), [3, 3]);
        assert!(visible_texts(&xml).contains(&"丙".to_owned()));
        // The columns fill the text block exactly.
        let widths: usize = attribute_values(&xml, "w:gridCol", "w:w")
            .iter()
            .map(|w| w.parse::<usize>().expect("a width"))
            .sum();
        assert_eq!(widths, TEXT_WIDTH);
    }

    #[test]
    fn table_without_cells_is_left_out() {
        for table in [
            DocumentTable::default(),
            DocumentTable {
                headers: vec![],
                rows: vec![vec![], vec![]],
            },
        ] {
            let document = OfficialDocument {
                table: Some(table),
                ..notification()
            };
            let xml = document_xml(&document);
            assert!(!xml.contains("<w:tbl>"));
            assert!(row_shapes(&xml).is_empty());
        }
    }

    #[test]
    fn empty_optional_lines_are_left_out() {
        let document = OfficialDocument {
            issuer: String::new(),
            number: String::new(),
            addressee: String::new(),
            table: None,
            signature: String::new(),
            copy_to: Some(String::new()),
            ..notification()
        };
        let xml = document_xml(&document);
        assert_eq!(
            visible_texts(&xml),
            [
                "关于开展2027年度强制性清洁生产审核的通知",
                "根据《中华人民共和国清洁生产促进法》，你单位被列入2027年度强制性清洁生产审核名单。",
                "一、请按下表所列期限完成有关工作。",
                "特此通知。",
                "2027年1月20日",
            ]
        );
        // Without a head there is no separator line and no red.
        assert!(attribute_values(&xml, "w:color", "w:val").is_empty());
        assert!(!xml.contains("<w:tbl>"));
    }

    #[test]
    fn same_document_gives_same_bytes_on_any_thread() {
        let document = notification();
        let here = write_docx(&document).expect("the document is written");
        // Another thread starts docx-rs's own paragraph counter afresh.
        let there = std::thread::spawn(move || write_docx(&document))
            .join()
            .expect("the thread finishes")
            .expect("the document is written");
        assert_eq!(here, write_docx(&notification()).expect("written again"));
        assert_eq!(here, there);

        // Nothing in the package comes from the clock: the entries carry the
        // fixed DOS date, the core properties the document date.
        let mut archive = zip::ZipArchive::new(Cursor::new(&here)).expect("a ZIP archive");
        for index in 0..archive.len() {
            let entry = archive.by_index(index).expect("a readable entry");
            let modified = entry.last_modified().expect("a modification time");
            assert_eq!(
                (modified.year(), modified.month(), modified.day()),
                (1980, 1, 1),
                "{}",
                entry.name()
            );
        }
        let core = &parts(&here)["docProps/core.xml"];
        assert!(
            core.contains(">2027-01-20T00:00:00Z</dcterms:created>"),
            "{core}"
        );
    }

    #[test]
    fn package_is_a_word_document_with_page_numbers() {
        let bytes = write_docx(&notification()).expect("the document is written");
        // What the upload check of this crate makes of it.
        assert_eq!(
            read_table(&bytes, TableFormat::Xlsx, &ReadLimits::default()),
            Err(OfficeError::NotWhatNameSays {
                declared: TableFormat::Xlsx,
                found: ContentKind::WordDocument,
            })
        );
        let parts = parts(&bytes);
        for (name, xml) in &parts {
            assert!(name.ends_with(".xml") || name.ends_with(".rels"), "{name}");
            walk(xml, |_| {});
        }
        // The main part is declared as a Word document's.
        assert!(parts["[Content_Types].xml"].contains(&format!("{DOCX_CONTENT_TYPE}.main+xml")));

        // Odd pages number on the right, even pages on the left, and Word is
        // told to tell them apart.
        for (footer, align) in [("word/footer1.xml", "right"), ("word/footer2.xml", "left")] {
            let xml = &parts[footer];
            assert_eq!(paragraph_texts(xml), ["— 1 —"], "{footer}");
            assert!(xml.contains("<w:instrText>PAGE</w:instrText>"), "{footer}");
            assert_eq!(attribute_values(xml, "w:jc", "w:val"), [align], "{footer}");
        }
        assert!(parts["word/settings.xml"].contains("<w:evenAndOddHeaders"));
    }
}
