//! Reading CSV text.
//!
//! The parser is written here rather than taken from the `csv` crate because
//! that crate, like Excel, silently accepts a quote that is never closed (the
//! rest of the file becomes one cell), while an import must report it with
//! its line. It also tracks the physical line each record starts on.

use std::borrow::Cow;

use encoding_rs::{Encoding, GB18030};

use crate::table::{ReadLimits, TableBuilder};
use crate::{MalformedKind, OfficeError, Table};

/// Reads CSV `bytes` (already known to be text) into a table.
pub(crate) fn read_csv(bytes: &[u8], limits: &ReadLimits) -> Result<Table, OfficeError> {
    let text = decode(bytes)?;
    let mut table = TableBuilder::new(limits);
    parse(&text, limits, |line, fields| table.push(line, fields))?;
    table.finish()
}

/// Decodes CSV bytes to text: by their BOM (UTF-8, UTF-16LE/BE), else as
/// UTF-8 when they are valid UTF-8, else as GB18030 (a superset of GBK and
/// GB2312, which is what Chinese versions of Excel save "CSV" files in).
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, OfficeError> {
    let unknown = || OfficeError::Malformed {
        line: None,
        kind: MalformedKind::UnknownTextEncoding,
        detail: String::new(),
    };
    let (encoding, body): (&'static Encoding, &[u8]) = match Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => (encoding, &bytes[bom_len..]),
        None => match std::str::from_utf8(bytes) {
            Ok(text) => return Ok(Cow::Borrowed(text)),
            Err(_) => (GB18030, bytes),
        },
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    if had_errors {
        return Err(unknown());
    }
    if text.contains('\0') {
        // UTF-16 "text" with NUL characters in it is not text.
        return Err(OfficeError::NotWhatNameSays {
            declared: crate::TableFormat::Csv,
            found: crate::ContentKind::Binary,
        });
    }
    Ok(text)
}

/// Splits `text` into records of fields (RFC 4180, comma-separated) and
/// hands each to `on_record` with the line it starts on.
///
/// - Records end at CRLF, LF or a lone CR; a line break inside a quoted
///   field is kept as `\n`.
/// - `""` inside a quoted field is one `"`. Text after a closing quote, up to
///   the next comma, is appended as it stands (as Excel does with `"a"b`); a
///   `"` inside an unquoted field is an ordinary character.
/// - A quote that is never closed is an error reporting the line it opens on.
/// - Fields are trimmed, after removing the apostrophe that
///   [`write_csv`](crate::write_csv) puts before a text that a spreadsheet
///   could take for a formula (see there). A user's own `'=…` loses its
///   apostrophe too, which is harmless.
fn parse(
    text: &str,
    limits: &ReadLimits,
    mut on_record: impl FnMut(usize, Vec<String>) -> Result<(), OfficeError>,
) -> Result<(), OfficeError> {
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let record_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut at_field_start = true;
        while let Some(c) = chars.next() {
            match c {
                '"' if at_field_start => {
                    let opened_on = line;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(OfficeError::Malformed {
                                    line: Some(opened_on),
                                    kind: MalformedKind::UnclosedQuote,
                                    detail: String::new(),
                                })
                            }
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some('\r') => {
                                chars.next_if_eq(&'\n');
                                line += 1;
                                field.push('\n');
                            }
                            Some('\n') => {
                                line += 1;
                                field.push('\n');
                            }
                            Some(other) => field.push(other),
                        }
                    }
                }
                ',' => {
                    fields.push(finish_field(&mut field, record_line, fields.len(), limits)?);
                    at_field_start = true;
                    continue;
                }
                '\r' | '\n' => {
                    if c == '\r' {
                        chars.next_if_eq(&'\n');
                    }
                    line += 1;
                    break;
                }
                other => field.push(other),
            }
            at_field_start = false;
        }
        fields.push(finish_field(&mut field, record_line, fields.len(), limits)?);
        on_record(record_line, fields)?;
    }
    Ok(())
}

/// Takes the finished field out of `field`, defused and trimmed; checks its
/// length (`index` is 0-based) and that the record stays within the column
/// limit when the field is not empty.
fn finish_field(
    field: &mut String,
    line: usize,
    index: usize,
    limits: &ReadLimits,
) -> Result<String, OfficeError> {
    let raw = std::mem::take(field);
    let value = undo_defusing(&raw).trim();
    if !value.is_empty() && index >= limits.max_columns {
        return Err(OfficeError::TooManyColumns {
            limit: limits.max_columns,
        });
    }
    crate::table::check_cell_length(value, line, index + 1, limits)?;
    Ok(if value.len() == raw.len() {
        raw
    } else {
        value.to_owned()
    })
}

/// Removes the apostrophe [`crate::write_csv`] adds before risky text.
fn undo_defusing(field: &str) -> &str {
    match field.strip_prefix('\'') {
        // A CR at the start of a quoted field has become an LF.
        Some(rest) if crate::write::is_risky(rest) || rest.starts_with('\n') => rest,
        _ => field,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, OfficeError> {
        let mut out = Vec::new();
        parse(text, &ReadLimits::default(), |line, fields| {
            out.push((line, fields));
            Ok(())
        })?;
        Ok(out)
    }

    fn rec(line: usize, fields: &[&str]) -> (usize, Vec<String>) {
        (line, fields.iter().map(|f| (*f).to_owned()).collect())
    }

    #[test]
    fn quoting_and_line_numbers() {
        let text = "名称,备注\r\n\"甲,公司\",\"第一行\r\n第二行\"\r\n\r\n乙,\"说\"\"好\"\"\"\n丙";
        assert_eq!(
            records(text).unwrap(),
            vec![
                rec(1, &["名称", "备注"]),
                rec(2, &["甲,公司", "第一行\n第二行"]),
                rec(4, &[""]),
                rec(5, &["乙", "说\"好\""]),
                rec(6, &["丙"]),
            ]
        );
    }

    #[test]
    fn lone_cr_and_trailing_commas_and_lenient_quotes() {
        assert_eq!(
            records("a,b\rc,\r\n\"x\"y, 5\"6 ,").unwrap(),
            vec![
                rec(1, &["a", "b"]),
                rec(2, &["c", ""]),
                rec(3, &["xy", "5\"6", ""])
            ]
        );
    }

    #[test]
    fn unclosed_quote_reports_the_line_it_opens_on() {
        let err = records("a,b\n1,2\n3,\"oops\n4,5\n").unwrap_err();
        assert_eq!(
            err,
            OfficeError::Malformed {
                line: Some(3),
                kind: MalformedKind::UnclosedQuote,
                detail: String::new()
            }
        );
    }

    #[test]
    fn defused_text_comes_back() {
        assert_eq!(
            records("'=1+1,'-5,'plain,'@x,' =1,\"'\r=1\"").unwrap(),
            vec![rec(1, &["=1+1", "-5", "'plain", "@x", "=1", "=1"])]
        );
    }

    #[test]
    fn encodings() {
        assert_eq!(decode("名称".as_bytes()).unwrap(), "名称");
        assert_eq!(decode(b"\xEF\xBB\xBFa,b").unwrap(), "a,b");
        let (gbk, _, _) = encoding_rs::GBK.encode("企业名称");
        assert_eq!(decode(&gbk).unwrap(), "企业名称");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("名,称".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16).unwrap(), "名,称");
        // Not UTF-8, and not valid GB18030 either (0x81 0x30 needs two more bytes).
        assert!(matches!(
            decode(b"ab\x81\x30").unwrap_err(),
            OfficeError::Malformed {
                kind: MalformedKind::UnknownTextEncoding,
                ..
            }
        ));
    }
}
