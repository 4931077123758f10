//! Import from .xlsx and .csv with preview and row-by-row report; export of filtered lists.

use axum::http::StatusCode;
use cpaudit_office::{Cell, SheetSpec, TableFormat};
use cpaudit_web::WebSettings;

use crate::registry::fresh_credit_code;
use crate::support::{enterprise_count, Auth, TestApp};

const HEADERS: [&str; 9] = [
    "企业名称",
    "统一社会信用代码",
    "法定代表人",
    "地址",
    "市州代码",
    "行业代码",
    "企业规模",
    "重点排污单位",
    "排污许可证编号",
];

fn row(name: &str, code: &str, city: &str) -> Vec<Cell> {
    [
        name,
        code,
        "赵六",
        "兰州市安宁区导入路 3 号",
        city,
        "3011",
        "中",
        "是",
        "",
    ]
    .into_iter()
    .map(|text| Cell::Text(text.to_string()))
    .collect()
}

fn workbook(rows: &[Vec<Cell>]) -> Vec<u8> {
    cpaudit_office::write_xlsx(
        &SheetSpec {
            name: "企业",
            headers: &HEADERS,
            column_widths: None,
        },
        rows,
    )
    .unwrap()
}

/// Three rows; the second has a wrong check digit when `broken`.
fn three_rows(serial: u32, broken: bool) -> Vec<Vec<Cell>> {
    let second = fresh_credit_code(serial + 1);
    let second = if broken {
        let last = second.chars().last().unwrap();
        format!("{}{}", &second[..17], if last == '0' { '1' } else { '0' })
    } else {
        second
    };
    vec![
        row("导入甲水泥有限公司", &fresh_credit_code(serial), "620100"),
        row("导入乙水泥有限公司", &second, "620100"),
        row(
            "导入丙水泥有限公司",
            &fresh_credit_code(serial + 2),
            "620100",
        ),
    ]
}

fn staged_id(html: &str) -> Option<String> {
    let marker = "name=\"id\" value=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_string())
}

#[tokio::test]
async fn a_clean_workbook_is_previewed_then_imported_in_one_step() {
    let app = TestApp::new().await;
    let browser = app.browser("lanzhou").await;
    let before = enterprise_count(app.db()).await;
    let preview = app
        .upload(
            "/enterprises/import",
            Auth::Browser(&browser),
            "企业.xlsx",
            &workbook(&three_rows(100, false)),
            &[],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    assert_eq!(
        enterprise_count(app.db()).await,
        before,
        "a preview writes nothing"
    );
    let id = staged_id(&preview.text()).expect("a confirmation form");
    let done = app
        .post_form(
            "/enterprises/import/confirm",
            Some(&browser),
            &[("id", &id), ("mode", "all")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(enterprise_count(app.db()).await, before + 3);
    // Each imported name is searchable at once (its grams were written with it).
    let token = app.token("lanzhou").await;
    let found = app
        .api(
            "GET",
            "/api/v1/enterprises?q=%E4%B9%99%E6%B0%B4",
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(found["total"], 1, "乙水 finds 导入乙水泥有限公司");
    // The staged upload is used up.
    let again = app
        .post_form(
            "/enterprises/import/confirm",
            Some(&browser),
            &[("id", &id), ("mode", "all")],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn one_invalid_row_blocks_the_import_unless_only_valid_rows_are_chosen() {
    let app = TestApp::new().await;
    let browser = app.browser("lanzhou").await;
    let before = enterprise_count(app.db()).await;
    let file = workbook(&three_rows(200, true));
    let preview = app
        .upload(
            "/enterprises/import",
            Auth::Browser(&browser),
            "企业.xlsx",
            &file,
            &[],
        )
        .await;
    assert_eq!(preview.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = preview.text();
    assert!(
        html.contains("<td class=\"num\">3</td>"),
        "the bad row is reported by its line (3)"
    );
    assert!(html.contains("校验位"), "with the reason");
    let id = staged_id(&html).unwrap();
    let blocked = app
        .post_form(
            "/enterprises/import/confirm",
            Some(&browser),
            &[("id", &id), ("mode", "all")],
        )
        .await;
    assert_eq!(blocked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(enterprise_count(app.db()).await, before, "nothing written");

    let preview = app
        .upload(
            "/enterprises/import",
            Auth::Browser(&browser),
            "企业.xlsx",
            &file,
            &[],
        )
        .await;
    let id = staged_id(&preview.text()).unwrap();
    let partial = app
        .post_form(
            "/enterprises/import/confirm",
            Some(&browser),
            &[("id", &id), ("mode", "valid_only")],
        )
        .await;
    assert_eq!(partial.status, StatusCode::OK);
    assert_eq!(enterprise_count(app.db()).await, before + 2);
}

#[tokio::test]
async fn the_api_import_reports_rows_and_honours_mode_and_dry_run() {
    let app = TestApp::new().await;
    let token = app.token("lanzhou").await;
    let before = enterprise_count(app.db()).await;
    let file = workbook(&three_rows(300, true));
    let refused = app
        .upload(
            "/api/v1/enterprises/import",
            Auth::Bearer(&token),
            "list.xlsx",
            &file,
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.json();
    assert_eq!(body["error"]["code"], "invalid_rows");
    let bad = &body["report"]["rows"][1];
    assert_eq!(bad["line"], 3);
    assert_eq!(bad["outcome"], "invalid");
    assert_eq!(bad["errors"][0]["field"], "credit_code");
    assert_eq!(enterprise_count(app.db()).await, before);

    let dry = app
        .upload(
            "/api/v1/enterprises/import",
            Auth::Bearer(&token),
            "list.xlsx",
            &file,
            &[("mode", "valid_only"), ("dry_run", "true")],
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK);
    assert!(dry.json()["outcome"].is_null());
    assert_eq!(enterprise_count(app.db()).await, before);

    let audit_before = audit_entries(&app).await;
    let partial = app
        .upload(
            "/api/v1/enterprises/import",
            Auth::Bearer(&token),
            "list.xlsx",
            &file,
            &[("mode", "valid_only")],
        )
        .await;
    assert_eq!(partial.status, StatusCode::OK, "{}", partial.text());
    assert_eq!(partial.json()["outcome"]["created"], 2);
    assert_eq!(enterprise_count(app.db()).await, before + 2);
    assert_eq!(
        audit_entries(&app).await,
        audit_before + 2,
        "one audit entry per imported row"
    );
}

#[tokio::test]
async fn csv_rows_are_checked_against_each_other_and_the_callers_jurisdiction() {
    let app = TestApp::new().await;
    let token = app.token("tianshui").await;
    let code = fresh_credit_code(400);
    let rows = vec![
        row("天水甲公司", &code, "620500"),
        row("天水乙公司", &code, "620500"),
        row("越界公司", &fresh_credit_code(401), "620100"),
    ];
    let csv = cpaudit_office::write_csv(&HEADERS, &rows);
    let response = app
        .upload(
            "/api/v1/enterprises/import",
            Auth::Bearer(&token),
            "list.csv",
            &csv,
            &[("mode", "valid_only")],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let report = &response.json()["report"];
    assert_eq!(report["rows"][0]["outcome"], "new");
    assert_eq!(report["rows"][1]["errors"][0]["code"], "duplicate_in_file");
    assert_eq!(
        report["rows"][2]["errors"][0]["code"],
        "outside_jurisdiction"
    );
    assert_eq!(response.json()["outcome"]["created"], 1);
}

async fn upload_error(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, serde_json::Value) {
    let before = enterprise_count(app.db()).await;
    let response = app
        .upload(
            "/api/v1/enterprises/import",
            Auth::Bearer(token),
            name,
            bytes,
            &[],
        )
        .await;
    assert_eq!(
        enterprise_count(app.db()).await,
        before,
        "nothing written for {name}"
    );
    (response.status, response.json()["error"].clone())
}

#[tokio::test]
async fn bad_files_are_refused_with_a_clear_message() {
    let app = TestApp::new().await;
    let token = app.token("province").await;
    let (status, error) = upload_error(&app, &token, "empty.xlsx", b"").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let header_only = workbook(&[]);
    let (status, error) = upload_error(&app, &token, "header.xlsx", &header_only).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, error) = upload_error(
        &app,
        &token,
        "report.xlsx",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("PDF"),
        "{error}"
    );
    let (status, _) = upload_error(&app, &token, "list.txt", b"a,b\n1,2\n").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, error) = upload_error(
        &app,
        &token,
        "broken.xlsx",
        b"PK\x03\x04 this is not a real zip",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, error) = upload_error(
        &app,
        &token,
        "columns.csv",
        "企业名称,地址\n某公司,某地\n".as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "missing_column");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("统一社会信用代码"),
        "{error}"
    );
    let (status, error) = upload_error(
        &app,
        &token,
        "quote.csv",
        "企业名称,统一社会信用代码\n\"未闭合,x\n".as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains('2'),
        "names the line: {error}"
    );
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_with_413() {
    let settings = WebSettings {
        max_upload_bytes: 4096,
        ..WebSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let token = app.token("province").await;
    let big = vec![b'a'; 64 * 1024];
    let response = app
        .upload(
            "/api/v1/enterprises/import",
            Auth::Bearer(&token),
            "big.csv",
            &big,
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.json()["error"]["code"], "payload_too_large");
    let browser = app.browser("province").await;
    let page = app
        .upload(
            "/enterprises/import",
            Auth::Browser(&browser),
            "big.csv",
            &big,
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn exports_hold_exactly_the_filtered_rows_and_import_back_unchanged() {
    let app = TestApp::new().await;
    let token = app.token("province").await;
    let filter = "city=620100&size=large";
    let expected = app
        .api(
            "GET",
            &format!("/api/v1/enterprises?{filter}&per_page=200"),
            Some(&token),
            None,
        )
        .await
        .json();
    let mut expected_codes: Vec<String> = expected["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["credit_code"].as_str().unwrap().to_string())
        .collect();
    expected_codes.sort();
    assert!(!expected_codes.is_empty());
    for (path, format) in [
        ("export.xlsx", TableFormat::Xlsx),
        ("export.csv", TableFormat::Csv),
    ] {
        let response = app
            .api(
                "GET",
                &format!("/api/v1/enterprises/{path}?{filter}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
        let table =
            cpaudit_office::read_table(&response.body, format, &Default::default()).unwrap();
        let column = table.column(&["统一社会信用代码"]);
        let mut codes: Vec<String> = table
            .rows
            .iter()
            .map(|r| r.get(column).to_string())
            .collect();
        codes.sort();
        assert_eq!(codes, expected_codes, "{path}");

        // What was exported imports back as updates that change nothing.
        let before = match app.db().verify_audit_log(None).await.unwrap() {
            cpaudit_core::audit::ChainVerdict::Intact { entries, .. } => entries,
            broken => panic!("{broken:?}"),
        };
        let file_name = format!("back.{}", format.extension());
        let back = app
            .upload(
                "/api/v1/enterprises/import",
                Auth::Bearer(&token),
                &file_name,
                &response.body,
                &[],
            )
            .await;
        assert_eq!(back.status, StatusCode::OK, "{}", back.text());
        assert_eq!(back.json()["outcome"]["updated"], expected_codes.len());
        let after = match app.db().verify_audit_log(None).await.unwrap() {
            cpaudit_core::audit::ChainVerdict::Intact { entries, .. } => entries,
            broken => panic!("{broken:?}"),
        };
        assert_eq!(before, after, "unchanged rows write nothing");
    }
}

async fn audit_entries(app: &TestApp) -> u64 {
    match app.db().verify_audit_log(None).await.unwrap() {
        cpaudit_core::audit::ChainVerdict::Intact { entries, .. } => entries,
        broken => panic!("{broken:?}"),
    }
}
