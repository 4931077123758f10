//! End-to-end tests: files written here are read back, and every error a
//! reader can give is provoked.

use super::*;

fn limits() -> ReadLimits {
    ReadLimits::default()
}

fn text_rows(table: &Table) -> Vec<(usize, Vec<&str>)> {
    table
        .rows
        .iter()
        .map(|r| (r.line, r.cells.iter().map(String::as_str).collect()))
        .collect()
}

const HEADERS: [&str; 5] = ["企业名称", "统一社会信用代码", "行业代码", "排放量", "备注"];

fn sample_rows() -> Vec<Vec<Cell>> {
    vec![
        vec![
            Cell::from("广东某某环保科技有限公司"),
            Cell::from("91440300MA5ABCDE1X"),
            Cell::from("0441"),
            Cell::Number(12.5),
            Cell::from("第一行\n第二行, 含逗号和\"引号\""),
        ],
        vec![
            Cell::from("=HYPERLINK(\"http://evil\")"),
            Cell::from("914403001234567890"),
            Cell::Integer(4411),
            Cell::Number(-3.0),
            Cell::Empty,
        ],
        vec![
            Cell::from("  前后有空格  "),
            Cell::Empty,
            Cell::Number(4411.0),
            Cell::Integer(1_234_567_890_123),
            Cell::Bool(false),
        ],
    ]
}

fn expected_rows() -> Vec<(usize, Vec<&'static str>)> {
    vec![
        (
            2,
            vec![
                "广东某某环保科技有限公司",
                "91440300MA5ABCDE1X",
                "0441",
                "12.5",
                "第一行\n第二行, 含逗号和\"引号\"",
            ],
        ),
        (
            3,
            vec![
                "=HYPERLINK(\"http://evil\")",
                "914403001234567890",
                "4411",
                "-3",
            ],
        ),
        (4, vec!["前后有空格", "", "4411", "1234567890123", "FALSE"]),
    ]
}

fn sample_xlsx() -> Vec<u8> {
    let spec = SheetSpec {
        name: "企业名单",
        headers: &HEADERS,
        column_widths: None,
    };
    write_xlsx(&spec, &sample_rows()).unwrap()
}

#[test]
fn xlsx_round_trip() {
    let table = read_table(&sample_xlsx(), TableFormat::Xlsx, &limits()).unwrap();
    assert_eq!(table.header_line, 1);
    assert_eq!(table.headers, HEADERS);
    assert_eq!(text_rows(&table), expected_rows());
    let code = table.column(&["行业代码", "industry_code"]);
    assert_eq!(table.rows[1].get(code), "4411");
}

#[test]
fn csv_round_trip() {
    let bytes = write_csv(&HEADERS, &sample_rows());
    let table = read_table(&bytes, TableFormat::Csv, &limits()).unwrap();
    assert_eq!(table.headers, HEADERS);
    // The first record spans two physical lines, which shifts the others.
    let expected: Vec<_> = expected_rows()
        .into_iter()
        .zip([2, 4, 5])
        .map(|((_, cells), line)| (line, cells))
        .collect();
    assert_eq!(text_rows(&table), expected);
}

#[test]
fn csv_line_numbers_count_physical_lines() {
    let csv = "\r\n名称,备注\r\n甲,\"两\r\n行\"\r\n,\r\n乙,x\r\n";
    let table = read_table(csv.as_bytes(), TableFormat::Csv, &limits()).unwrap();
    assert_eq!(table.header_line, 2);
    assert_eq!(
        text_rows(&table),
        vec![(3, vec!["甲", "两\n行"]), (6, vec!["乙", "x"])]
    );
}

#[test]
fn gbk_csv() {
    let (bytes, _, unmappable) =
        encoding_rs::GBK.encode("企业名称,行业代码\r\n深圳市某某电镀厂,3360\r\n");
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err());
    let table = read_table(&bytes, TableFormat::Csv, &limits()).unwrap();
    assert_eq!(table.headers, ["企业名称", "行业代码"]);
    assert_eq!(
        text_rows(&table),
        vec![(2, vec!["深圳市某某电镀厂", "3360"])]
    );
}

#[test]
fn xlsx_sheet_line_numbers_survive_blank_rows() {
    let rows = vec![
        vec![Cell::from("甲")],
        vec![Cell::Empty, Cell::from("  ")],
        vec![Cell::from("乙")],
    ];
    let spec = SheetSpec {
        name: "x",
        headers: &["名称"],
        column_widths: Some(&[30.0]),
    };
    let bytes = write_xlsx(&spec, &rows).unwrap();
    let table = read_table(&bytes, TableFormat::Xlsx, &limits()).unwrap();
    assert_eq!(text_rows(&table), vec![(2, vec!["甲"]), (4, vec!["乙"])]);
}

/// A workbook as a person might make it: a hidden notes sheet first, the
/// table starting at B3, typed numbers, a date, a boolean, stray spaces.
#[test]
fn xlsx_cells_read_as_excel_shows_them() {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let notes = workbook.add_worksheet();
    notes.set_name("说明").unwrap();
    notes.write_string(0, 0, "不是表格").unwrap();
    notes.set_hidden(true);
    let sheet = workbook.add_worksheet();
    sheet.set_active(true); // the first sheet can be hidden only then
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let header = [
        "企业名称",
        "行业代码",
        "信用代码",
        "投产日期",
        "检查时间",
        "达标",
        "比例",
    ];
    for (col, h) in (1u16..).zip(header) {
        sheet.write_string(2, col, h).unwrap();
    }
    sheet.write_string(3, 1, " 甲公司\u{3000}").unwrap();
    sheet.write_number(3, 2, 4411.0).unwrap();
    sheet.write_number(3, 3, 914_403_001_234_567.0).unwrap();
    sheet
        .write_number_with_format(3, 4, 45_658.0, &date)
        .unwrap();
    sheet
        .write_number_with_format(3, 5, 45_658.75, &datetime)
        .unwrap();
    sheet.write_boolean(3, 6, true).unwrap();
    sheet.write_number(3, 7, 0.1 + 0.2).unwrap();
    sheet.write_string(4, 1, "   ").unwrap();
    sheet.write_string(5, 1, "乙公司").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();

    let table = read_table(&bytes, TableFormat::Xlsx, &limits()).unwrap();
    assert_eq!(table.header_line, 3);
    // Columns count from A, so the empty column A has an empty header.
    assert_eq!(table.headers[0], "");
    assert_eq!(table.headers[1..], header);
    assert_eq!(
        text_rows(&table),
        vec![
            (
                4,
                vec![
                    "",
                    "甲公司",
                    "4411",
                    "914403001234567",
                    "2025-01-01",
                    "2025-01-01 18:00:00",
                    "TRUE",
                    "0.3"
                ]
            ),
            (6, vec!["", "乙公司"]),
        ]
    );
    assert_eq!(table.rows[0].get(table.column(&["投产日期"])), "2025-01-01");
}

#[test]
fn large_xlsx_reads_completely() {
    const ROWS: usize = 10_000;
    const COLUMNS: usize = 12;
    let headers: Vec<String> = (0..COLUMNS).map(|c| format!("列{c}")).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<Cell>> = (0..ROWS)
        .map(|r| {
            (0..COLUMNS)
                .map(|c| match c % 3 {
                    0 => Cell::Text(format!("企业{r}-{c}")),
                    1 => Cell::Integer((r * COLUMNS + c) as i64),
                    _ => Cell::Text(format!("{:06}", r)),
                })
                .collect()
        })
        .collect();
    let spec = SheetSpec {
        name: "大表",
        headers: &headers,
        column_widths: None,
    };
    let bytes = write_xlsx(&spec, &rows).unwrap();
    let table = read_table(&bytes, TableFormat::Xlsx, &limits()).unwrap();
    assert_eq!(table.headers, headers);
    assert_eq!(table.rows.len(), ROWS);
    let last = &table.rows[ROWS - 1];
    assert_eq!(last.line, ROWS + 1);
    assert_eq!(last.cells.len(), COLUMNS);
    assert_eq!(last.cells[0], format!("企业{}-0", ROWS - 1));
    assert_eq!(last.cells[1], ((ROWS - 1) * COLUMNS + 1).to_string());
    assert_eq!(last.cells[2], format!("{:06}", ROWS - 1));
}

#[test]
fn file_names() {
    assert_eq!(
        TableFormat::from_file_name("企业名单.XLSX"),
        Some(TableFormat::Xlsx)
    );
    assert_eq!(
        TableFormat::from_file_name("C:\\导出\\list.csv "),
        Some(TableFormat::Csv)
    );
    assert_eq!(TableFormat::from_file_name("old.xls"), None);
    assert_eq!(TableFormat::from_file_name("csv"), None);
    assert_eq!(TableFormat::Xlsx.extension(), "xlsx");
    assert_eq!(TableFormat::Csv.to_string(), ".csv");
    assert!(TableFormat::Csv.content_type().starts_with("text/csv"));
    assert!(TableFormat::Xlsx.content_type().contains("spreadsheetml"));
}

// ---- errors -------------------------------------------------------------

fn not_what_name_says(bytes: &[u8], declared: TableFormat) -> ContentKind {
    match read_table(bytes, declared, &limits()) {
        Err(OfficeError::NotWhatNameSays { declared: d, found }) => {
            assert_eq!(d, declared);
            found
        }
        other => panic!("expected NotWhatNameSays, got {other:?}"),
    }
}

#[test]
fn pdf_named_xlsx() {
    let pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n";
    assert_eq!(not_what_name_says(pdf, TableFormat::Xlsx), ContentKind::Pdf);
    assert_eq!(not_what_name_says(pdf, TableFormat::Csv), ContentKind::Pdf);
}

#[test]
fn xls_named_xlsx() {
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.resize(512, 0);
    xls.extend("Workbook".encode_utf16().flat_map(u16::to_le_bytes));
    let found = not_what_name_says(&xls, TableFormat::Xlsx);
    assert_eq!(found, ContentKind::LegacyExcel);
    let err = OfficeError::NotWhatNameSays {
        declared: TableFormat::Xlsx,
        found,
    };
    assert!(err.to_string().contains("old Excel 97-2003 .xls"));
    assert!(err.to_string().contains("save it as .xlsx"));
}

#[test]
fn png_named_csv() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
    assert_eq!(not_what_name_says(png, TableFormat::Csv), ContentKind::Png);
}

#[test]
fn binary_named_csv() {
    assert_eq!(
        not_what_name_says(b"a,b\r\n\0\x01\x02", TableFormat::Csv),
        ContentKind::Binary
    );
}

#[test]
fn xlsx_named_csv_and_text_named_xlsx() {
    assert_eq!(
        not_what_name_says(&sample_xlsx(), TableFormat::Csv),
        ContentKind::XlsxWorkbook
    );
    assert_eq!(
        not_what_name_says("名称,代码\r\n甲,1\r\n".as_bytes(), TableFormat::Xlsx),
        ContentKind::Text
    );
    assert_eq!(
        not_what_name_says(
            b"<html><body><table></table></body></html>",
            TableFormat::Xlsx
        ),
        ContentKind::Html
    );
}

#[test]
fn zip_that_is_not_a_workbook() {
    let docx = sniff::tests::zip_of(&[("word/document.xml", b"<w:document/>")], None);
    assert_eq!(
        not_what_name_says(&docx, TableFormat::Xlsx),
        ContentKind::WordDocument
    );
    let zip = sniff::tests::zip_of(&[("readme.txt", b"hello")], None);
    let found = not_what_name_says(&zip, TableFormat::Xlsx);
    assert_eq!(found, ContentKind::ZipArchive);
    assert_eq!(
        found.to_string(),
        "a ZIP archive that is not an Office document"
    );
}

#[test]
fn corrupt_zip() {
    let xlsx = sample_xlsx();
    for damaged in [&xlsx[..xlsx.len() / 2], &xlsx[..xlsx.len() - 10]] {
        match read_table(damaged, TableFormat::Xlsx, &limits()) {
            Err(OfficeError::Malformed {
                kind: MalformedKind::CorruptWorkbook,
                line: None,
                ..
            }) => {}
            other => panic!("expected a corrupt workbook, got {other:?}"),
        }
    }
    // A workbook entry that is not XML.
    let fake = sniff::tests::zip_of(&[("xl/workbook.xml", b"\x01\x02 not xml")], None);
    let err = read_table(&fake, TableFormat::Xlsx, &limits()).unwrap_err();
    assert!(
        matches!(
            err,
            OfficeError::Malformed {
                kind: MalformedKind::CorruptWorkbook,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.message_zh().contains("工作簿已损坏"));
}

#[test]
fn zip_bomb_by_declared_size() {
    let bomb = sniff::tests::zip_of(
        &[("xl/workbook.xml", b"<workbook/>")],
        Some(300 * 1024 * 1024),
    );
    assert_eq!(
        read_table(&bomb, TableFormat::Xlsx, &limits()).unwrap_err(),
        OfficeError::TooLarge {
            limit: 200 * 1024 * 1024
        }
    );
}

#[test]
fn empty_files() {
    for format in [TableFormat::Xlsx, TableFormat::Csv] {
        assert_eq!(
            read_table(b"", format, &limits()).unwrap_err(),
            OfficeError::NoHeader
        );
    }
    assert_eq!(
        read_table(b"\xEF\xBB\xBF\r\n , \r\n", TableFormat::Csv, &limits()).unwrap_err(),
        OfficeError::NoHeader
    );
    let blank = write_xlsx(
        &SheetSpec {
            name: "空",
            headers: &[],
            column_widths: None,
        },
        &[],
    )
    .unwrap();
    assert_eq!(
        read_table(&blank, TableFormat::Xlsx, &limits()).unwrap_err(),
        OfficeError::NoHeader
    );
}

#[test]
fn header_only_files() {
    assert_eq!(
        read_table("名称,代码\r\n,\r\n".as_bytes(), TableFormat::Csv, &limits()).unwrap_err(),
        OfficeError::NoDataRows
    );
    let spec = SheetSpec {
        name: "x",
        headers: &HEADERS,
        column_widths: None,
    };
    let xlsx = write_xlsx(&spec, &[]).unwrap();
    assert_eq!(
        read_table(&xlsx, TableFormat::Xlsx, &limits()).unwrap_err(),
        OfficeError::NoDataRows
    );
}

#[test]
fn too_many_rows() {
    let small = ReadLimits {
        max_rows: 2,
        ..limits()
    };
    let rows = sample_rows();
    let csv = write_csv(&HEADERS, &rows);
    assert_eq!(
        read_table(&csv, TableFormat::Csv, &small).unwrap_err(),
        OfficeError::TooManyRows { limit: 2 }
    );
    assert_eq!(
        read_table(&sample_xlsx(), TableFormat::Xlsx, &small).unwrap_err(),
        OfficeError::TooManyRows { limit: 2 }
    );
    // Exactly at the limit is fine.
    let exact = ReadLimits {
        max_rows: 3,
        ..limits()
    };
    assert_eq!(
        read_table(&csv, TableFormat::Csv, &exact)
            .unwrap()
            .rows
            .len(),
        3
    );
    assert_eq!(
        read_table(&sample_xlsx(), TableFormat::Xlsx, &exact)
            .unwrap()
            .rows
            .len(),
        3
    );
}

#[test]
fn too_many_columns() {
    let narrow = ReadLimits {
        max_columns: 4,
        ..limits()
    };
    assert_eq!(
        read_table(&sample_xlsx(), TableFormat::Xlsx, &narrow).unwrap_err(),
        OfficeError::TooManyColumns { limit: 4 }
    );
    assert_eq!(
        read_table(
            &write_csv(&HEADERS, &sample_rows()),
            TableFormat::Csv,
            &narrow
        )
        .unwrap_err(),
        OfficeError::TooManyColumns { limit: 4 }
    );
    // Trailing empty fields do not count.
    let table = read_table(b"a,b,,,,,,\r\n1,2,,,,,,,,\r\n", TableFormat::Csv, &narrow).unwrap();
    assert_eq!(table.headers, ["a", "b"]);
}

#[test]
fn cell_too_long() {
    let short = ReadLimits {
        max_cell_chars: 10,
        ..limits()
    };
    let expected = OfficeError::CellTooLong {
        line: 2,
        column: 1,
        limit: 10,
    };
    assert_eq!(
        read_table(&sample_xlsx(), TableFormat::Xlsx, &short).unwrap_err(),
        expected
    );
    let csv = "名称,备注\r\n这是一个超过十个字的企业名称,x\r\n";
    assert_eq!(
        read_table(csv.as_bytes(), TableFormat::Csv, &short).unwrap_err(),
        expected
    );
}

#[test]
fn duplicate_header() {
    let expected = OfficeError::DuplicateHeader {
        name: "企业名称".to_owned(),
    };
    let csv = "企业名称,代码,企业名称\r\n甲,1,乙\r\n";
    assert_eq!(
        read_table(csv.as_bytes(), TableFormat::Csv, &limits()).unwrap_err(),
        expected
    );
    let spec = SheetSpec {
        name: "x",
        headers: &["企业名称", "代码", "企业名称"],
        column_widths: None,
    };
    let xlsx = write_xlsx(&spec, &[vec![Cell::from("甲")]]).unwrap();
    assert_eq!(
        read_table(&xlsx, TableFormat::Xlsx, &limits()).unwrap_err(),
        expected
    );
}

#[test]
fn csv_unterminated_quote_reports_its_line() {
    let csv = "名称,备注\r\n甲,正常\r\n乙,\"没有闭合\r\n丙,x\r\n";
    let err = read_table(csv.as_bytes(), TableFormat::Csv, &limits()).unwrap_err();
    assert_eq!(
        err,
        OfficeError::Malformed {
            line: Some(3),
            kind: MalformedKind::UnclosedQuote,
            detail: String::new(),
        }
    );
    assert_eq!(err.line(), Some(3));
    assert!(err.message_zh().starts_with("第 3 行"));
}

#[test]
fn every_error_has_both_messages() {
    let errors = [
        OfficeError::NoHeader,
        OfficeError::NoDataRows,
        OfficeError::NotWhatNameSays {
            declared: TableFormat::Csv,
            found: ContentKind::Png,
        },
        OfficeError::Malformed {
            line: None,
            kind: MalformedKind::CorruptWorkbook,
            detail: "invalid Zip archive".to_owned(),
        },
        OfficeError::Malformed {
            line: None,
            kind: MalformedKind::UnknownTextEncoding,
            detail: String::new(),
        },
        OfficeError::TooManyRows { limit: 5 },
        OfficeError::TooManyColumns { limit: 5 },
        OfficeError::CellTooLong {
            line: 1,
            column: 28,
            limit: 5,
        },
        OfficeError::DuplicateHeader {
            name: "名称".to_owned(),
        },
        OfficeError::TooLarge { limit: 1 << 20 },
        OfficeError::Write {
            detail: "x".to_owned(),
        },
    ];
    for e in errors {
        let (en, zh) = (e.message_en(), e.message_zh());
        assert!(en.is_ascii() || en.contains("名称"), "{en}");
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{zh}"
        );
        assert!(!en.is_empty() && en.ends_with('.'), "{en}");
        assert!(zh.ends_with('。') || zh.ends_with('）'), "{zh}");
    }
}
