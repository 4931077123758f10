//! The public pages: published lists with their versions, open-data downloads and their data
//! dictionary, the public JSON API, and the rule book with its sources.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use chrono::NaiveDate;
use cpaudit_core::determination::Reason;
use cpaudit_core::listing::clocks_from_publication;
use cpaudit_core::periods::HolidayCalendar;
use cpaudit_core::round::{RoundPolicy, RoundState};
use cpaudit_core::rules::RuleBook;
use cpaudit_office::TableFormat;
use cpaudit_storage::enterprises::{EnterpriseFilter, EnterpriseRow, SortKey};
use cpaudit_storage::lists::{NewList, NewListEntry};
use cpaudit_storage::Principal;
use serde_json::Value;

use crate::support::{raw_execute, test_now, Browser, TestApp};

const TITLE: &str = "甘肃省2027年度强制性清洁生产审核重点企业名单";
const NUMBER: &str = "甘环气候发〔2027〕1号";
const LANZHOU: &str = "620100";
const TIANSHUI: &str = "620500";

/// A published list of four demo enterprises:
/// a (兰州, 超标), b (兰州, 双有 1、3), c (天水, 超总量 + 双有 2), d (天水, 双有 5).
struct Published {
    id: i64,
    /// The batch within 2027 (the demo data publish one list of their own).
    batch: i64,
    a: EnterpriseRow,
    b: EnterpriseRow,
    c: EnterpriseRow,
    d: EnterpriseRow,
}

async fn two_in(app: &TestApp, city: &str) -> (EnterpriseRow, EnterpriseRow) {
    let operator = Principal::console_operator("test");
    let filter = EnterpriseFilter {
        city: Some(city.to_string()),
        sort: SortKey::Name,
        ..Default::default()
    };
    let mut items = app
        .db()
        .search_enterprises(operator.scope(), &filter)
        .await
        .unwrap()
        .items
        .into_iter();
    (items.next().unwrap(), items.next().unwrap())
}

async fn publish(app: &TestApp) -> Published {
    let (a, b) = two_in(app, LANZHOU).await;
    let (c, d) = two_in(app, TIANSHUI).await;
    let published_on = NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
    let clocks = clocks_from_publication(
        published_on,
        &RuleBook::embedded(),
        &HolidayCalendar::china(),
    )
    .unwrap();
    let entry = |row: &EnterpriseRow, reasons: &[Reason], categories: &[u8]| NewListEntry {
        enterprise_id: row.id,
        reasons: reasons.iter().copied().collect(),
        toxic_categories: categories.iter().copied().collect(),
        due_year: (!categories.is_empty()).then_some(2027),
        clocks: clocks.clone(),
    };
    let list = NewList {
        list_year: 2027,
        supplementary: false,
        title: TITLE.into(),
        document_number: NUMBER.into(),
        published_on,
        entries: vec![
            entry(&a, &[Reason::ExceedConcentration], &[]),
            entry(&b, &[Reason::DoubleToxic], &[1, 3]),
            entry(&c, &[Reason::ExceedTotalLoad, Reason::DoubleToxic], &[2]),
            entry(&d, &[Reason::DoubleToxic], &[5]),
        ],
        round_policy: RoundPolicy::from_book(&RuleBook::embedded(), published_on, "620000")
            .unwrap(),
    };
    let id = app
        .db()
        .publish_list(&Principal::console_operator("test"), &list, test_now())
        .await
        .unwrap();
    let batch = app.db().published_list(id).await.unwrap().unwrap().batch;
    Published {
        id,
        batch,
        a,
        b,
        c,
        d,
    }
}

fn english() -> Browser {
    Browser {
        cookie: "cpaudit_lang=en".into(),
        csrf: String::new(),
    }
}

/// The table row with the given id attribute.
fn row<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<tr id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row {id}"));
    let end = html[start..].find("</tr>").unwrap() + start;
    &html[start..end]
}

/// The names of `rows` that a page or file shows, in the order of `rows`.
fn shown<'a>(text: &str, rows: &[&'a EnterpriseRow]) -> Vec<&'a str> {
    rows.iter()
        .filter(|r| text.contains(&r.name))
        .map(|r| r.name.as_str())
        .collect()
}

fn codes(rows: &[&EnterpriseRow]) -> BTreeSet<String> {
    rows.iter().map(|r| r.credit_code.clone()).collect()
}

fn json_codes(entries: &Value) -> BTreeSet<String> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["credit_code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn anonymous_visitors_see_published_lists_and_their_entries() {
    let app = TestApp::new().await;
    let home = app.get("/", None).await.text();
    assert!(
        home.contains("href=\"/public/lists\""),
        "nav link for everyone"
    );
    assert!(home.contains("公开名单"));
    let p = publish(&app).await;
    let lists = app.get("/public/lists", None).await;
    assert_eq!(lists.status, StatusCode::OK);
    let html = lists.text();
    assert!(html.contains("2027 年度"));
    let listed = row(&html, &format!("list-{}", p.id));
    for expected in [
        TITLE,
        NUMBER,
        "2027-01-10",
        "主名单",
        "第 1 版",
        ">4<",
        "现行有效",
    ] {
        assert!(listed.contains(expected), "{expected} in {listed}");
    }
    assert!(listed.contains(&format!("href=\"/public/lists/{}\"", p.id)));

    let page = app.get(&format!("/public/lists/{}", p.id), None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let all = [&p.a, &p.b, &p.c, &p.d];
    assert_eq!(shown(&html, &all).len(), 4);
    for expected in [
        "双超（超标）",
        "双有（第1、3类）",
        "双超（超总量）；双有（第2类）",
        "双有（第5类）",
        "兰州市",
        "天水市",
        &p.b.credit_code,
        &p.a.industry_name_zh,
    ] {
        assert!(html.contains(expected), "{expected}");
    }
    assert!(!html.contains("本版本已被更正"));
    for format in ["csv", "xlsx", "json"] {
        assert!(html.contains(&format!("/public/lists/{}/entries.{format}?", p.id)));
    }

    // English on request, with the official names translated.
    let english_page = app
        .get(&format!("/public/lists/{}", p.id), Some(&english()))
        .await
        .text();
    assert!(english_page.contains("Listed enterprises"));
    assert!(english_page.contains("over a discharge standard (双超)"));
    assert!(english_page.contains("toxic or hazardous substances (双有), categories 1, 3"));
    assert!(english_page.contains("Tianshui"));
    let english_lists = app.get("/public/lists", Some(&english())).await.text();
    assert!(english_lists.contains("Published lists"));
    assert!(english_lists.contains("main list"));

    let missing = app.get("/public/lists/999999", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_and_filters_narrow_the_entries() {
    let app = TestApp::new().await;
    let p = publish(&app).await;
    let all = [&p.a, &p.b, &p.c, &p.d];
    let page = |query: String| {
        let app = &app;
        let path = format!("/public/lists/{}?{query}", p.id);
        async move {
            let response = app.get(&path, None).await;
            assert_eq!(response.status, StatusCode::OK, "{path}");
            response.text()
        }
    };
    let by_name = serde_urlencoded::to_string([("q", p.a.name.as_str())]).unwrap();
    assert_eq!(shown(&page(by_name).await, &all), [p.a.name.as_str()]);
    let by_code = format!("q={}", p.b.credit_code);
    assert_eq!(shown(&page(by_code).await, &all), [p.b.name.as_str()]);
    let tianshui = page(format!("city={TIANSHUI}")).await;
    assert_eq!(
        shown(&tianshui, &all),
        [p.c.name.as_str(), p.d.name.as_str()]
    );
    assert!(tianshui.contains(&format!("<option value=\"{TIANSHUI}\" selected>")));
    let toxic = page("reason=double_toxic".into()).await;
    assert_eq!(
        shown(&toxic, &all),
        [p.b.name.as_str(), p.c.name.as_str(), p.d.name.as_str()]
    );
    let both = page(format!("city={TIANSHUI}&reason=exceed_total_load")).await;
    assert_eq!(shown(&both, &all), [p.c.name.as_str()]);
    // The download links carry the same filters.
    assert!(both.contains(&format!(
        "/public/lists/{}/entries.csv?city={TIANSHUI}&#38;reason=exceed_total_load",
        p.id
    )));
    // Blank fields of a submitted form filter nothing.
    assert_eq!(shown(&page("q=&city=&reason=".into()).await, &all).len(), 4);

    // The API filters alike, without a token.
    let api = app
        .api(
            "GET",
            &format!(
                "/api/v1/public/lists/{}?city={TIANSHUI}&reason=double_toxic",
                p.id
            ),
            None,
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::OK);
    let body = api.json();
    assert_eq!(json_codes(&body["entries"]), codes(&[&p.c, &p.d]));
    assert_eq!(body["list"]["entry_count"], 4);
    assert_eq!(body["filters"]["city"], TIANSHUI);

    for (query, field) in [
        ("reason=exceed", "reason"),
        ("city=999999", "city"),
        ("city=620000", "city"),
    ] {
        let refused = app
            .get(&format!("/public/lists/{}?{query}", p.id), None)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        let refused = app
            .api(
                "GET",
                &format!("/api/v1/public/lists/{}?{query}", p.id),
                None,
                None,
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(refused.json()["error"]["field"], field);
    }
}

#[tokio::test]
async fn downloads_contain_exactly_the_filtered_entries_and_the_metadata() {
    let app = TestApp::new().await;
    let p = publish(&app).await;
    let dictionary = app.get("/public/data-dictionary.json", None).await.json();
    let columns: Vec<String> = dictionary["entry_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let filter = format!("city={TIANSHUI}&reason=double_toxic");
    let expected = codes(&[&p.c, &p.d]);

    for format in [TableFormat::Csv, TableFormat::Xlsx] {
        let path = format!(
            "/public/lists/{}/entries.{}?{filter}",
            p.id,
            format.extension()
        );
        let response = app.get(&path, None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        let content_type = response.headers["content-type"].to_str().unwrap();
        assert_eq!(content_type, format.content_type());
        let disposition = response.headers["content-disposition"].to_str().unwrap();
        assert!(disposition.contains(&format!(
            "list-2027-batch{}-v1.{}",
            p.batch,
            format.extension()
        )));
        let table =
            cpaudit_office::read_table(&response.body, format, &Default::default()).unwrap();
        assert_eq!(table.headers, columns, "{path}: the dictionary's columns");
        let code = table.column(&["credit_code"]);
        let found: BTreeSet<String> = table.rows.iter().map(|r| r.get(code).to_string()).collect();
        assert_eq!(found, expected, "{path}");
        let c_row = table
            .rows
            .iter()
            .find(|r| r.get(code) == p.c.credit_code)
            .unwrap();
        let cell = |name: &str| c_row.get(table.column(&[name])).to_string();
        assert_eq!(cell("reasons"), "exceed_total_load,double_toxic");
        assert_eq!(cell("reasons_zh"), "双超（超总量）；双有（第2类）");
        assert_eq!(cell("toxic_categories"), "2");
        assert_eq!(cell("jurisdiction_code"), TIANSHUI);
        assert_eq!(cell("jurisdiction_name"), "天水市");
        assert_eq!(cell("list_id"), p.id.to_string());
        assert_eq!(cell("clocks_from"), "2027-01-10");
        if format == TableFormat::Csv {
            assert!(response.body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
        }
    }

    let json = app
        .get(
            &format!("/public/lists/{}/entries.json?{filter}", p.id),
            None,
        )
        .await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(json.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("list-2027-batch{}-v1.json", p.batch)));
    let body = json.json();
    let list = &body["list"];
    assert_eq!(list["id"], p.id);
    assert_eq!(list["list_year"], 2027);
    assert_eq!(list["batch"], p.batch);
    assert_eq!(list["version"], 1);
    assert_eq!(list["kind"], "main");
    assert_eq!(list["supersedes"], Value::Null);
    assert_eq!(list["correction_reason"], Value::Null);
    assert_eq!(list["published_on"], "2027-01-10");
    assert_eq!(list["document_number"], NUMBER);
    assert_eq!(body["data_dictionary"], "/public/data-dictionary");
    assert_eq!(json_codes(&body["entries"]), expected);
    let d = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["credit_code"] == p.d.credit_code.as_str())
        .unwrap();
    assert_eq!(d["reasons"], serde_json::json!(["double_toxic"]));
    assert_eq!(d["toxic_categories"], serde_json::json!([5]));
    assert_eq!(d["due_year"], 2027);
    let mut keys: Vec<String> = d.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    let mut sorted_columns = columns.clone();
    sorted_columns.sort();
    assert_eq!(
        keys, sorted_columns,
        "JSON fields are the dictionary's columns"
    );

    // A name that a spreadsheet would take for a formula is written as text.
    raw_execute(
        app.db(),
        &format!(
            "UPDATE published_entries SET name = '=HYPERLINK(\"http://evil.example\")' \
             WHERE enterprise_id = {}",
            p.a.id
        ),
    )
    .await;
    let csv = app
        .get(&format!("/public/lists/{}/entries.csv", p.id), None)
        .await
        .text();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(!csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"));
}

#[tokio::test]
async fn a_correction_shows_both_versions_the_old_one_marked_and_linked() {
    let app = TestApp::new().await;
    let p = publish(&app).await;
    let reason = "误将已关停企业列入名单";
    let new_id = app
        .db()
        .correct_list(
            &Principal::console_operator("test"),
            p.id,
            &[p.d.id],
            reason,
            test_now(),
        )
        .await
        .unwrap();
    let all = [&p.a, &p.b, &p.c, &p.d];
    // The removed enterprise's round is cancelled with the correction's reason; the others run.
    let operator = Principal::console_operator("test");
    let removed = app
        .db()
        .rounds_of_enterprise(
            operator.scope(),
            &crate::support::read::enterprise(app.db(), p.d.id).await,
        )
        .await
        .unwrap();
    assert_eq!(removed[0].state, RoundState::Cancelled);
    let events = app
        .db()
        .round_events(&crate::support::read::round(app.db(), removed[0].id).await)
        .await
        .unwrap();
    assert!(events.last().unwrap().reason.contains(reason));
    assert_eq!(
        app.db()
            .rounds_of_enterprise(
                operator.scope(),
                &crate::support::read::enterprise(app.db(), p.a.id).await
            )
            .await
            .unwrap()[0]
            .state,
        RoundState::Listed
    );

    let html = app.get("/public/lists", None).await.text();
    let old_row = row(&html, &format!("list-{}", p.id));
    assert!(old_row.contains("已被更正"), "{old_row}");
    assert!(old_row.contains(&format!("href=\"/public/lists/{new_id}\"")));
    assert!(!old_row.contains("现行有效"));
    let new_row = row(&html, &format!("list-{new_id}"));
    for expected in ["更正", reason, "第 2 版", ">3<", "现行有效", "2027-01-15"] {
        assert!(new_row.contains(expected), "{expected} in {new_row}");
    }
    assert!(new_row.contains(&format!("href=\"/public/lists/{}\"", p.id)));

    // The old version stays readable as published, with a banner to the current one.
    let old = app
        .get(&format!("/public/lists/{}", p.id), None)
        .await
        .text();
    assert!(old.contains("本版本已被更正"));
    assert!(old.contains(&format!("<a href=\"/public/lists/{new_id}\">第 2 版")));
    assert_eq!(shown(&old, &all).len(), 4);

    let new = app
        .get(&format!("/public/lists/{new_id}"), None)
        .await
        .text();
    assert!(!new.contains("本版本已被更正"));
    assert!(new.contains(&format!("更正说明：{reason}")));
    assert!(new.contains(&format!("<a href=\"/public/lists/{}\">第 1 版", p.id)));
    assert_eq!(
        shown(&new, &all),
        [p.a.name.as_str(), p.b.name.as_str(), p.c.name.as_str()]
    );

    let json = app
        .get(&format!("/public/lists/{new_id}/entries.json"), None)
        .await
        .json();
    assert_eq!(json["list"]["version"], 2);
    assert_eq!(json["list"]["supersedes"], p.id);
    assert_eq!(json["list"]["correction_reason"], reason);
    assert_eq!(json["list"]["published_on"], "2027-01-15");
    assert_eq!(json_codes(&json["entries"]), codes(&[&p.a, &p.b, &p.c]));

    let lists = app.api("GET", "/api/v1/public/lists", None, None).await;
    assert_eq!(lists.status, StatusCode::OK);
    let lists = lists.json();
    let versions: Vec<(i64, Value)> = lists
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["batch"] == p.batch)
        .map(|l| (l["version"].as_i64().unwrap(), l["superseded_by"].clone()))
        .collect();
    assert_eq!(versions, [(1, Value::from(new_id)), (2, Value::Null)]);
    let other_year = app
        .api("GET", "/api/v1/public/lists?year=2026", None, None)
        .await
        .json();
    assert_eq!(other_year, serde_json::json!([]));
    let refused = app
        .api("GET", "/api/v1/public/lists?year=soon", None, None)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["error"]["field"], "year");
}

#[tokio::test]
async fn the_data_dictionary_lists_every_column_of_the_downloads() {
    let app = TestApp::new().await;
    let p = publish(&app).await;
    let csv = app
        .get(&format!("/public/lists/{}/entries.csv", p.id), None)
        .await;
    let table =
        cpaudit_office::read_table(&csv.body, TableFormat::Csv, &Default::default()).unwrap();
    let dictionary = app.get("/public/data-dictionary.json", None).await;
    assert_eq!(dictionary.status, StatusCode::OK);
    let dictionary = dictionary.json();
    let columns = dictionary["entry_columns"].as_array().unwrap();
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, table.headers);
    for column in columns {
        for field in ["type", "name_zh", "name_en", "meaning_zh", "meaning_en"] {
            assert!(
                !column[field].as_str().unwrap_or_default().is_empty(),
                "{field} of {}",
                column["name"]
            );
        }
    }
    let allowed = |name: &str| -> Vec<String> {
        columns.iter().find(|c| c["name"] == name).unwrap()["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["value"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        allowed("reasons"),
        ["exceed_concentration", "exceed_total_load", "double_toxic"]
    );
    assert_eq!(allowed("toxic_categories"), ["1", "2", "3", "4", "5"]);
    assert!(allowed("jurisdiction_code").contains(&TIANSHUI.to_string()));

    // The list metadata of the JSON download is documented field by field.
    let download = app
        .get(&format!("/public/lists/{}/entries.json", p.id), None)
        .await
        .json();
    let mut list_keys: Vec<&str> = download["list"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    list_keys.sort_unstable();
    let mut list_fields: Vec<&str> = dictionary["list_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    list_fields.sort_unstable();
    assert_eq!(list_keys, list_fields);

    let page = app.get("/public/data-dictionary", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    for name in names.iter().chain(&list_fields) {
        assert!(html.contains(&format!("id=\"column-{name}\"")), "{name}");
    }
    assert!(html.contains("统一社会信用代码"));
    assert!(html.contains("double_toxic"));
    let english = app
        .get("/public/data-dictionary", Some(&english()))
        .await
        .text();
    assert!(english.contains("Unified social credit code"));
}

#[tokio::test]
async fn the_rules_page_shows_values_in_force_with_their_sources_and_marks_the_unverified() {
    let app = TestApp::new().await;
    let page = app.get("/rules", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let disclose = row(&html, "rule-deadline.disclose");
    for expected in [
        "1 个月",
        "《清洁生产审核办法》",
        "第十一条",
        "2016-07-01",
        "已核实",
    ] {
        assert!(disclose.contains(expected), "{expected} in {disclose}");
    }
    assert!(!disclose.contains("未核实"));
    let toxic = row(&html, "rule-toxic.category.2");
    assert!(
        toxic.contains("<span class=\"tag unverified\">未核实</span>"),
        "{toxic}"
    );
    // Design and local-practice values are labelled as not law.
    assert!(row(&html, "rule-planning.levelling_slack_years").contains("系统设计取值，非法律规定"));
    assert!(row(&html, "rule-calendar.city_notification").contains("参照地方惯例，非法律规定"));
    // The documents table follows.
    assert!(row(&html, "document-measures-2016").contains("国家发展和改革委员会"));

    let english = app.get("/rules", Some(&english())).await.text();
    assert!(row(&english, "rule-deadline.disclose").contains("1 month"));
    assert!(row(&english, "rule-toxic.category.2").contains(">unverified<"));

    let detail = app
        .get("/rules/deadline.disclose?at=2027-01-15", None)
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    let detail = detail.text();
    assert!(detail.contains("class=\"period in-force\""));
    assert!(
        detail.contains("在当地主要媒体、企业官方网站或采取其他便于公众知晓的方式公布企业相关信息")
    );
    assert!(detail.contains("于 2027-01-15 施行中"));
    // Before the Measures took effect nothing was in force.
    let before = app
        .get("/rules/deadline.disclose?at=2016-06-30", None)
        .await
        .text();
    assert!(!before.contains("in-force"));

    assert_eq!(
        app.get("/rules/no.such.rule", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/rules?at=2027-13-01", None).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn the_rules_api_returns_the_same_with_confidence_and_refuses_bad_dates() {
    let app = TestApp::new().await;
    let book = app.api("GET", "/api/v1/rules", None, None).await;
    assert_eq!(book.status, StatusCode::OK);
    let book = book.json();
    assert_eq!(book["at"], "2027-01-15", "today in China Standard Time");
    assert_eq!(book["book_version"], RuleBook::embedded().version);
    let parameter = |id: &str| {
        book["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
            .clone()
    };
    let disclose = parameter("deadline.disclose");
    let value = &disclose["in_force"];
    assert_eq!(value["value"], 1);
    assert_eq!(value["text_zh"], "1 个月");
    assert_eq!(value["text_en"], "1 month");
    assert_eq!(value["unverified"], false);
    assert_eq!(value["basis"], "law");
    assert_eq!(value["citations"][0]["document"], "measures-2016");
    assert_eq!(
        value["citations"][0]["document_title"],
        "《清洁生产审核办法》"
    );
    assert_eq!(value["citations"][0]["article"], "第十一条");
    assert_eq!(value["citations"][0]["confidence"], "verified");
    let toxic = parameter("toxic.category.2");
    assert_eq!(toxic["in_force"]["unverified"], true);
    assert_eq!(
        toxic["in_force"]["citations"][0]["confidence"],
        "unverified"
    );
    assert_eq!(
        toxic["in_force"]["citations"][0]["needs_verification"],
        true
    );
    assert_eq!(
        parameter("planning.levelling_slack_years")["in_force"]["basis"],
        "design"
    );
    assert!(book["documents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == "measures-2016" && d["confidence"] == "verified"));

    let detail = app
        .api(
            "GET",
            "/api/v1/rules/deadline.disclose?at=2020-01-01",
            None,
            None,
        )
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    let detail = detail.json();
    assert_eq!(detail["at"], "2020-01-01");
    assert_eq!(detail["values"][0]["from"], "2016-07-01");
    assert_eq!(detail["values"][0]["in_force"], true);
    assert_eq!(
        detail["values"][0]["citations"][0]["quote"],
        "在当地主要媒体、企业官方网站或采取其他便于公众知晓的方式公布企业相关信息"
    );
    let before = app
        .api(
            "GET",
            "/api/v1/rules/deadline.disclose?at=2016-06-30",
            None,
            None,
        )
        .await
        .json();
    assert_eq!(before["parameter"]["in_force"], Value::Null);
    assert_eq!(before["values"][0]["in_force"], false);

    for path in [
        "/api/v1/rules?at=2027-13-01",
        "/api/v1/rules/deadline.disclose?at=2027-13-01",
        "/api/v1/rules/deadline.disclose?at=tomorrow",
    ] {
        let refused = app.api("GET", path, None, None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(refused.json()["error"]["field"], "at", "{path}");
    }
    let unknown = app
        .api("GET", "/api/v1/rules/no.such.rule", None, None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"]["code"], "not_found");
}
