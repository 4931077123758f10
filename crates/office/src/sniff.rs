//! Telling what a file is from its bytes.
//!
//! Only the first bytes (the "magic numbers") and, for ZIP files, the
//! central directory at the end are looked at. A ZIP's directory is read
//! here (rather than by the `zip` crate inside calamine) so that a ZIP which
//! is not a workbook can be named for what it is (a .docx, an .ods, …) and so
//! that what a workbook declares it unpacks to can be checked before anything
//! is unpacked.

use crate::ContentKind;

/// What the bytes of a file look like.
#[derive(Debug)]
pub(crate) enum Sniffed {
    /// No bytes at all.
    Empty,
    /// No known binary signature and no NUL byte (or a UTF-16 BOM).
    Text,
    /// A ZIP archive; `None` when its directory could not be read here (it
    /// may be truncated, or use ZIP64), in which case calamine decides.
    Zip(Option<ZipDirectory>),
    /// Anything else that was recognised, or [`ContentKind::Binary`].
    Other(ContentKind),
}

/// What a ZIP archive's central directory says.
#[derive(Debug)]
pub(crate) struct ZipDirectory {
    /// What the archive holds, judged by its entry names.
    pub kind: ContentKind,
    /// The sum of the sizes its entries declare they unpack to (saturating).
    pub unpacked_bytes: u64,
}

const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY: &[u8] = b"PK\x05\x06";
const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Looks at `bytes` and says what they are.
pub(crate) fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.is_empty() {
        return Sniffed::Empty;
    }
    if bytes.starts_with(ZIP_LOCAL) || bytes.starts_with(ZIP_EMPTY) {
        return Sniffed::Zip(read_zip_directory(bytes));
    }
    let signatures: [(&[u8], ContentKind); 16] = [
        (b"%PDF-", ContentKind::Pdf),
        (b"\x7FELF", ContentKind::Executable),
        (&[0xCF, 0xFA, 0xED, 0xFE], ContentKind::Executable),
        (&[0xCE, 0xFA, 0xED, 0xFE], ContentKind::Executable),
        (&[0xFE, 0xED, 0xFA, 0xCE], ContentKind::Executable),
        (&[0xFE, 0xED, 0xFA, 0xCF], ContentKind::Executable),
        (b"MZ", ContentKind::Executable),
        (b"\x89PNG\r\n\x1a\n", ContentKind::Png),
        (&[0xFF, 0xD8, 0xFF], ContentKind::Jpeg),
        (b"GIF87a", ContentKind::Gif),
        (b"GIF89a", ContentKind::Gif),
        (b"Rar!\x1a\x07", ContentKind::OtherArchive),
        (b"7z\xBC\xAF\x27\x1C", ContentKind::OtherArchive),
        (&[0x1F, 0x8B], ContentKind::OtherArchive),
        (b"BM", ContentKind::Bmp),
        (OLE2, ContentKind::LegacyExcel),
    ];
    for (signature, kind) in signatures {
        if !bytes.starts_with(signature) {
            continue;
        }
        return match kind {
            ContentKind::LegacyExcel => Sniffed::Other(ole2_kind(bytes)),
            // "BM" is also how a text file could start; require a plausible
            // BMP header (the declared file size) and a NUL byte.
            ContentKind::Bmp if !looks_like_bmp(bytes) => break,
            // So could "MZ"; a DOS or Windows program has NUL bytes in its
            // header, text has none.
            ContentKind::Executable if bytes.starts_with(b"MZ") && !bytes.contains(&0) => break,
            _ => Sniffed::Other(kind),
        };
    }
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    if !utf16 && bytes.contains(&0) {
        return Sniffed::Other(ContentKind::Binary);
    }
    Sniffed::Text
}

/// For text found where a workbook was expected: an HTML page or plain text.
pub(crate) fn text_kind(bytes: &[u8]) -> ContentKind {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let html = head
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
        && ["<html", "<!doctype html", "<table"]
            .iter()
            .any(|tag| head.contains(tag));
    if html {
        ContentKind::Html
    } else {
        ContentKind::Text
    }
}

fn looks_like_bmp(bytes: &[u8]) -> bool {
    u32_at(bytes, 2).is_some_and(|size| size as usize == bytes.len()) && bytes.contains(&0)
}

/// An OLE2 compound file: the stream names in its directory (UTF-16LE) tell
/// an encrypted OOXML file, a Word document and an Excel workbook ("Workbook",
/// or "Book" before Excel 97) from the rest (PowerPoint 97, installers, …).
fn ole2_kind(bytes: &[u8]) -> ContentKind {
    if contains_utf16le(bytes, "EncryptedPackage") {
        ContentKind::EncryptedOffice
    } else if contains_utf16le(bytes, "WordDocument") {
        ContentKind::LegacyWord
    } else if contains_utf16le(bytes, "Workbook") || contains_utf16le(bytes, "Book") {
        ContentKind::LegacyExcel
    } else {
        ContentKind::OtherCompoundFile
    }
}

fn contains_utf16le(haystack: &[u8], needle: &str) -> bool {
    let needle: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_slice())
}

/// Reads the central directory of a ZIP archive. `None` when it cannot be
/// found or parsed, or when the archive uses ZIP64 records.
fn read_zip_directory(bytes: &[u8]) -> Option<ZipDirectory> {
    const EOCD_LEN: usize = 22;
    const ENTRY_LEN: usize = 46;
    // The end-of-central-directory record sits at the very end, followed by
    // a comment of at most 65,535 bytes.
    let last = bytes.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    let eocd = (first..=last)
        .rev()
        .find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))?;
    let entries = u16_at(bytes, eocd + 10)?;
    let directory_offset = u32_at(bytes, eocd + 16)?;
    if entries == u16::MAX || directory_offset == u32::MAX {
        return None; // ZIP64: leave it to the zip crate.
    }

    let mut pos = usize::try_from(directory_offset).ok()?;
    let mut unpacked_bytes: u64 = 0;
    let mut kind = ContentKind::ZipArchive;
    for _ in 0..entries {
        if !bytes.get(pos..)?.starts_with(b"PK\x01\x02") {
            return None;
        }
        let unpacked = u32_at(bytes, pos + 24)?;
        let name_len = usize::from(u16_at(bytes, pos + 28)?);
        let extra_len = usize::from(u16_at(bytes, pos + 30)?);
        let comment_len = usize::from(u16_at(bytes, pos + 32)?);
        let name_start = pos + ENTRY_LEN;
        let name = bytes.get(name_start..name_start + name_len)?;
        let extra = bytes.get(name_start + name_len..name_start + name_len + extra_len)?;
        let unpacked = if unpacked == u32::MAX {
            zip64_unpacked_size(extra).unwrap_or(u64::MAX)
        } else {
            u64::from(unpacked)
        };
        unpacked_bytes = unpacked_bytes.saturating_add(unpacked);
        kind = stronger(kind, kind_of_entry(name));
        pos = name_start + name_len + extra_len + comment_len;
    }
    Some(ZipDirectory {
        kind,
        unpacked_bytes,
    })
}

/// What an archive holding an entry of this name is, as far as that one
/// entry tells.
fn kind_of_entry(name: &[u8]) -> ContentKind {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    match name.as_str() {
        "xl/workbook.xml" => ContentKind::XlsxWorkbook,
        "xl/workbook.bin" => ContentKind::XlsbWorkbook,
        "mimetype" => ContentKind::OpenDocument,
        // GB/T 33190: the entry file of an OFD package sits at its root.
        "ofd.xml" => ContentKind::Ofd,
        n if n.starts_with("word/") => ContentKind::WordDocument,
        n if n.starts_with("ppt/") => ContentKind::PowerPoint,
        _ => ContentKind::ZipArchive,
    }
}

/// Of two judgements of an archive, the one that says more (a workbook entry
/// outweighs everything else).
fn stronger(a: ContentKind, b: ContentKind) -> ContentKind {
    let rank = |k: ContentKind| match k {
        ContentKind::XlsxWorkbook => 3,
        ContentKind::XlsbWorkbook => 2,
        ContentKind::ZipArchive => 0,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// The uncompressed size in a ZIP64 extended-information extra field.
fn zip64_unpacked_size(mut extra: &[u8]) -> Option<u64> {
    while extra.len() >= 4 {
        let id = u16_at(extra, 0)?;
        let len = usize::from(u16_at(extra, 2)?);
        let data = extra.get(4..4 + len)?;
        if id == 0x0001 {
            return Some(u64::from_le_bytes(data.get(..8)?.try_into().ok()?));
        }
        extra = &extra[4 + len..];
    }
    None
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a stored (uncompressed) ZIP archive by hand. `declared` can
    /// override the uncompressed size an entry declares. CRCs are left 0:
    /// nothing here checks them.
    pub(crate) fn zip_of(entries: &[(&str, &[u8])], declared: Option<u32>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut directory = Vec::new();
        for (name, data) in entries {
            let offset = out.len() as u32;
            let size = data.len() as u32;
            let header = |sig: &[u8], central: bool| {
                let mut h = Vec::new();
                h.extend_from_slice(sig);
                if central {
                    h.extend_from_slice(&20u16.to_le_bytes()); // made by
                }
                h.extend_from_slice(&20u16.to_le_bytes()); // needed
                h.extend_from_slice(&0u16.to_le_bytes()); // flags
                h.extend_from_slice(&0u16.to_le_bytes()); // stored
                h.extend_from_slice(&0u32.to_le_bytes()); // time, date
                h.extend_from_slice(&0u32.to_le_bytes()); // crc
                h.extend_from_slice(&size.to_le_bytes());
                h.extend_from_slice(&declared.unwrap_or(size).to_le_bytes());
                h.extend_from_slice(&(name.len() as u16).to_le_bytes());
                h.extend_from_slice(&0u16.to_le_bytes()); // extra
                if central {
                    h.extend_from_slice(&0u16.to_le_bytes()); // comment
                    h.extend_from_slice(&0u16.to_le_bytes()); // disk
                    h.extend_from_slice(&0u16.to_le_bytes()); // internal attr
                    h.extend_from_slice(&0u32.to_le_bytes()); // external attr
                    h.extend_from_slice(&offset.to_le_bytes());
                }
                h.extend_from_slice(name.as_bytes());
                h
            };
            out.extend(header(b"PK\x03\x04", false));
            out.extend_from_slice(data);
            directory.extend(header(b"PK\x01\x02", true));
        }
        let directory_offset = out.len() as u32;
        out.extend_from_slice(&directory);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]); // disk numbers
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        out.extend_from_slice(&directory_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn kind(bytes: &[u8]) -> Option<ContentKind> {
        match sniff(bytes) {
            Sniffed::Other(kind) => Some(kind),
            Sniffed::Zip(Some(dir)) => Some(dir.kind),
            _ => None,
        }
    }

    #[test]
    fn signatures() {
        assert!(matches!(sniff(b""), Sniffed::Empty));
        assert!(matches!(sniff("名称,代码\r\n".as_bytes()), Sniffed::Text));
        assert!(matches!(sniff(b"\xFF\xFEa\x00"), Sniffed::Text));
        assert_eq!(kind(b"%PDF-1.7\n%\xE2\xE3"), Some(ContentKind::Pdf));
        assert_eq!(
            kind(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ContentKind::Png)
        );
        assert_eq!(kind(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ContentKind::Jpeg));
        assert_eq!(kind(b"GIF89a\x01\0"), Some(ContentKind::Gif));
        assert_eq!(kind(b"\x1F\x8B\x08\0"), Some(ContentKind::OtherArchive));
        assert_eq!(kind(b"abc\0def"), Some(ContentKind::Binary));
        // Text that happens to start like a BMP is still text.
        assert!(matches!(sniff(b"BMW,1\n"), Sniffed::Text));
    }

    #[test]
    fn ole2_flavours() {
        let mut xls = OLE2.to_vec();
        xls.extend_from_slice(&[0; 64]);
        xls.extend("Workbook".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(kind(&xls), Some(ContentKind::LegacyExcel));

        let mut doc = OLE2.to_vec();
        doc.extend("WordDocument".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(kind(&doc), Some(ContentKind::LegacyWord));

        let mut encrypted = OLE2.to_vec();
        encrypted.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(kind(&encrypted), Some(ContentKind::EncryptedOffice));
    }

    #[test]
    fn zip_flavours() {
        let zip = zip_of(&[("a.txt", b"hello")], None);
        assert_eq!(kind(&zip), Some(ContentKind::ZipArchive));
        let docx = zip_of(
            &[
                ("[Content_Types].xml", b"<x/>"),
                ("word/document.xml", b"<x/>"),
            ],
            None,
        );
        assert_eq!(kind(&docx), Some(ContentKind::WordDocument));
        let ods = zip_of(&[("mimetype", b"application/vnd.oasis")], None);
        assert_eq!(kind(&ods), Some(ContentKind::OpenDocument));
        let xlsx = zip_of(
            &[("docProps/app.xml", b"<x/>"), ("xl/workbook.xml", b"<x/>")],
            None,
        );
        assert_eq!(kind(&xlsx), Some(ContentKind::XlsxWorkbook));

        let bomb = zip_of(
            &[
                ("xl/workbook.xml", b"<x/>"),
                ("xl/worksheets/sheet1.xml", b""),
            ],
            Some(u32::MAX - 1),
        );
        match sniff(&bomb) {
            Sniffed::Zip(Some(dir)) => assert_eq!(dir.unpacked_bytes, 2 * u64::from(u32::MAX - 1)),
            other => panic!("{other:?}"),
        }

        // A truncated archive has no directory to read.
        assert!(matches!(sniff(&xlsx[..xlsx.len() / 2]), Sniffed::Zip(None)));
    }

    #[test]
    fn html_or_text() {
        assert_eq!(
            text_kind(b"\xEF\xBB\xBF <!DOCTYPE html><html>"),
            ContentKind::Html
        );
        assert_eq!(
            text_kind(b"<table><tr><td>1</td></tr></table>"),
            ContentKind::Html
        );
        assert_eq!(text_kind("名称,代码".as_bytes()), ContentKind::Text);
    }
}
