//! The online-monitoring pages and API on both databases, over the demo's monitoring data, which
//! each test loads as `serve --demo` does: the tests live on 2027-01-15 09:00 China time; the
//! demo stores 2027-01-12 00:00 to 09:00 of
//! ten-minute and hourly data for a handful of devices and judged it. The demo enterprise user's
//! stack (Lanzhou, GB 13223-2011, SO₂ 200 mg/m³) exceeded at 14:00, 15:00 and 20:00 on
//! 2027-01-14; a Lanzhou cement kiln had a fault (02:00–05:59 flagged D, 06:00–07:59 silent); one
//! device stopped sending at 03:00 on 2027-01-15; one unknown MN waits in quarantine.

use axum::http::StatusCode;
use cpaudit::demo_monitoring::{plan, PlannedDevice, Scenario, UNKNOWN_MN};
use cpaudit::setup;
use cpaudit_storage::monitoring::{IngestBatch, QuarantinedPacket};
use cpaudit_storage::Principal;
use serde_json::{json, Value};

use crate::support::{demo_enterprise_id, reference, test_now, TestApp};

/// The application over the demo data set with the demo's monitoring data.
async fn monitored_app() -> TestApp {
    let app = TestApp::new().await;
    let loaded =
        setup::load_demo_monitoring(app.db(), &reference(), setup::DEMO_ENTERPRISES, test_now())
            .await
            .unwrap();
    assert_eq!(loaded.report.candidates, 1, "{loaded:?}");
    app
}

fn planned() -> Vec<PlannedDevice> {
    plan(&cpaudit_core::demo::generate(
        &reference(),
        setup::DEMO_SEED,
        setup::DEMO_ENTERPRISES,
    ))
}

/// The device id and enterprise id of the demo device with a scenario.
async fn demo_device(app: &TestApp, scenario: Scenario) -> (i64, i64) {
    let device = planned()
        .into_iter()
        .find(|d| d.scenario == scenario)
        .expect("the demo has the scenario");
    let province = Principal::console_operator("test");
    let id = app
        .db()
        .device_id_by_mn(province.scope(), &device.mn)
        .await
        .unwrap()
        .expect("the demo device is registered");
    let view = app
        .db()
        .monitoring_device(province.scope(), id, test_now(), chrono::Duration::hours(2))
        .await
        .unwrap()
        .unwrap();
    (id, view.enterprise_id)
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let response = app.api("GET", path, Some(token), None).await;
    let status = response.status;
    let body = if response.body.is_empty() {
        Value::Null
    } else {
        response.json()
    };
    (status, body)
}

fn assert_refused(status: StatusCode, body: &Value, code: &str, field: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["field"], field, "{body}");
}

#[tokio::test]
async fn the_enterprise_page_charts_its_means_against_the_limit_and_lists_its_exceedances() {
    let app = monitored_app().await;
    let enterprise = demo_enterprise_id(app.db()).await;
    let (_, exceeding_enterprise) = demo_device(&app, Scenario::Exceedances).await;
    assert_eq!(
        enterprise, exceeding_enterprise,
        "the demo user's stack exceeded"
    );
    let browser = app.browser("enterprise").await;
    let page = app
        .get(
            &format!("/enterprises/{enterprise}/monitoring"),
            Some(&browser),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    // The chart: a week of hourly SO₂ means, the 200 mg/m³ limit as a line, three hours marked.
    assert!(html.contains("<svg"), "a chart");
    assert!(html.contains("二氧化硫 (a21026)"));
    assert_eq!(html.matches("class=\"limit\"").count(), 1, "the limit line");
    assert_eq!(
        html.matches("<circle class=\"exceedance\"").count(),
        3,
        "three exceedance hours"
    );
    assert!(html.contains("排放限值 200 mg/m3"), "the limit is named");
    assert!(html.contains("GB 13223-2011"));
    // Two events (14:00–16:00 and 20:00–21:00 on 2027-01-14), one exceedance day.
    assert_eq!(html.matches("<tr class=\"exceedance\">").count(), 2);
    assert!(html.contains("2027-01-14 14:00–16:00"), "{html}");
    assert!(html.contains("2027-01-14 20:00–21:00"));
    assert!(html.contains("<td>2027-01-14</td>"), "the exceedance day");
    // The device is online; its newest minute values are shown with their flag.
    assert!(html.contains("在线"));
    assert!(html.contains("分钟数据 2027-01-15 08:50"), "{html}");
    assert!(html.contains("N 正常"));
    // The permit's yearly limit and the candidate awaiting the city.
    assert!(html.contains("420"), "the permitted SO₂ load");
    assert!(html.contains("待市州确认"));
    // The enterprise page links to it.
    let detail = app
        .get(&format!("/enterprises/{enterprise}"), Some(&browser))
        .await;
    assert!(detail
        .text()
        .contains(&format!("/enterprises/{enterprise}/monitoring")));

    // A device set to send a factor in another unit shows its values in that unit.
    let (device, _) = demo_device(&app, Scenario::Exceedances).await;
    app.db()
        .set_device_factor_unit(
            &Principal::console_operator("test"),
            device,
            "a20057",
            cpaudit_core::emission_limits::ConcentrationUnit::UgPerM3,
            test_now(),
        )
        .await
        .unwrap();
    let html = app
        .get(
            &format!("/enterprises/{enterprise}/monitoring"),
            Some(&browser),
        )
        .await
        .text();
    assert!(
        html.contains("<td>汞及其化合物 (a20057)</td><td class=\"num\">"),
        "{html}"
    );
    assert!(html.contains("</td><td>ug/m3</td>"));

    // In English, daily means of the same device, and a chosen range.
    let lanzhou = app.browser("lanzhou").await;
    let english = app.get("/lang/en?next=/", Some(&lanzhou)).await;
    assert_eq!(english.status, StatusCode::SEE_OTHER);
    let cookie = english
        .headers
        .get(axum::http::header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let lanzhou_en = crate::support::Browser {
        cookie: format!("{}; {cookie}", lanzhou.cookie),
        csrf: lanzhou.csrf.clone(),
    };
    let daily = app
        .get(
            &format!(
                "/enterprises/{enterprise}/monitoring?factor=a21026&interval=day&from=2027-01-10&to=2027-01-15"
            ),
            Some(&lanzhou_en),
        )
        .await;
    assert_eq!(daily.status, StatusCode::OK);
    let html = daily.text();
    assert!(html.contains("daily means"), "{html}");
    assert!(html.contains("Sulphur dioxide (SO2) (a21026)"));

    // A pollutant that is no HJ 212 code is refused, naming the parameter.
    let bad = app
        .get(
            &format!("/enterprises/{enterprise}/monitoring?factor=so2"),
            Some(&browser),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("so2"));
}

#[tokio::test]
async fn invalid_and_missing_periods_are_listed_apart_from_exceedances() {
    let app = monitored_app().await;
    let (_, fault_enterprise) = demo_device(&app, Scenario::Fault).await;
    let token = app.token("lanzhou").await;
    let (status, body) = get_json(
        &app,
        &format!(
            "/api/v1/enterprises/{fault_enterprise}/exceedances?from=2027-01-14&to=2027-01-14"
        ),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["events"].as_array().unwrap().len(), 0, "no exceedance");
    let gaps = body["gaps"].as_array().unwrap();
    let flagged: Vec<&Value> = gaps.iter().filter(|g| g["reason"] == "flagged").collect();
    assert!(!flagged.is_empty());
    assert!(flagged.iter().all(|g| g["status"] == "invalid"
        && g["first_hour"] == 20_270_114_020_000_i64
        && g["last_hour"] == 20_270_114_050_000_i64
        && g["hours"] == 4));
    let silent: Vec<&Value> = gaps.iter().filter(|g| g["reason"] == "no_data").collect();
    assert_eq!(silent.len(), 1, "{gaps:?}");
    assert_eq!(silent[0]["factor"], "", "the whole device");
    assert_eq!(silent[0]["status"], "missing");
    assert_eq!(silent[0]["hours"], 2);

    let browser = app.browser("lanzhou").await;
    let page = app
        .get(
            &format!("/enterprises/{fault_enterprise}/monitoring?from=2027-01-14&to=2027-01-14"),
            Some(&browser),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("数据标记非正常（N）"));
    assert!(html.contains("未收到数据"));
    assert!(html.contains("整台设备"));
    assert!(
        html.contains("class=\"invalid\""),
        "the chart shades the invalid hours"
    );
    assert!(html.contains("class=\"missing\""), "and the missing ones");
    assert_eq!(html.matches("class=\"exceedance\"").count(), 0);
}

#[tokio::test]
async fn another_city_and_other_enterprises_do_not_see_an_enterprise_s_monitoring() {
    let app = monitored_app().await;
    let enterprise = demo_enterprise_id(app.db()).await;
    let (device, _) = demo_device(&app, Scenario::Exceedances).await;
    let (fault_device, fault_enterprise) = demo_device(&app, Scenario::Fault).await;
    let path = format!("/enterprises/{enterprise}/monitoring");
    for (user, status) in [
        ("province", StatusCode::OK),
        ("lanzhou", StatusCode::OK),
        ("enterprise", StatusCode::OK),
        ("tianshui", StatusCode::NOT_FOUND),
        ("consultancy", StatusCode::FORBIDDEN),
        ("expert", StatusCode::FORBIDDEN),
    ] {
        let browser = app.browser(user).await;
        let page = app.get(&path, Some(&browser)).await;
        assert_eq!(page.status, status, "{user}");
    }
    // The enterprise sees only itself.
    let enterprise_browser = app.browser("enterprise").await;
    let other = app
        .get(
            &format!("/enterprises/{fault_enterprise}/monitoring"),
            Some(&enterprise_browser),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let own_token = app.token("enterprise").await;
    let series = |device: i64| format!("/api/v1/devices/{device}/series?factor=a21026");
    assert_eq!(
        get_json(&app, &series(device), &own_token).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get_json(&app, &series(fault_device), &own_token).await.0,
        StatusCode::NOT_FOUND
    );
    let tianshui = app.token("tianshui").await;
    assert_eq!(
        get_json(&app, &series(device), &tianshui).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_json(
            &app,
            &format!("/api/v1/enterprises/{enterprise}/monitoring"),
            &tianshui
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Checked parameters do not tell another city's device from a missing one.
    assert_eq!(
        get_json(
            &app,
            "/api/v1/devices/999999/series?factor=a21026",
            &tianshui
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_series_api_answers_means_with_their_limit_and_refuses_bad_parameters() {
    let app = monitored_app().await;
    let (device, _) = demo_device(&app, Scenario::Exceedances).await;
    let token = app.token("lanzhou").await;
    let base = format!("/api/v1/devices/{device}/series");
    let (status, body) = get_json(&app, &format!("{base}?factor=a21026"), &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["interval"], "hour", "an air outlet");
    assert_eq!(
        (body["from"].as_str(), body["to"].as_str()),
        (Some("2027-01-09"), Some("2027-01-15"))
    );
    assert_eq!(body["unit"], "mg/m3");
    assert_eq!(body["exceeded"], 3);
    let points = body["points"].as_array().unwrap();
    // 2027-01-12 00:00 to 2027-01-15 07:00: the hours that ended an hour before now.
    assert_eq!(points.len(), 3 * 24 + 8, "{}", points.len());
    assert!(points.iter().all(|p| p["limit_value"] == 200.0));
    let exceeded: Vec<i64> = points
        .iter()
        .filter(|p| p["exceeded"] == true)
        .map(|p| p["at"].as_i64().unwrap())
        .collect();
    assert_eq!(
        exceeded,
        [20_270_114_140_000, 20_270_114_150_000, 20_270_114_200_000]
    );
    let (status, body) = get_json(
        &app,
        &format!("{base}?factor=a21026&interval=day&from=2027-01-12&to=2027-01-14"),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["points"].as_array().unwrap().len(), 3);

    for (query, code, field) in [
        ("", "required", "factor"),
        ("?factor=a99999", "unknown_factor", "factor"),
        (
            "?factor=a21026&from=2027-01-10&to=2027-01-09",
            "bad_range",
            "from",
        ),
        (
            "?factor=a21026&from=2026-01-01&to=2027-01-15",
            "range_too_long",
            "to",
        ),
        (
            "?factor=a21026&interval=day&from=2025-01-01&to=2027-01-15",
            "range_too_long",
            "to",
        ),
        (
            "?factor=a21026&from=2027-13-01",
            "invalid_parameter",
            "from",
        ),
        ("?factor=a21026&to=yesterday", "invalid_parameter", "to"),
        (
            "?factor=a21026&interval=week",
            "invalid_parameter",
            "interval",
        ),
    ] {
        let (status, body) = get_json(&app, &format!("{base}{query}"), &token).await;
        assert_refused(status, &body, code, field);
    }
    let enterprise = demo_enterprise_id(app.db()).await;
    let (status, body) = get_json(
        &app,
        &format!("/api/v1/enterprises/{enterprise}/exceedances?from=2026-01-01&to=2027-01-15"),
        &token,
    )
    .await;
    assert_refused(status, &body, "range_too_long", "to");
    let (status, body) = get_json(
        &app,
        &format!("/api/v1/enterprises/{enterprise}/monitoring?year=last"),
        &token,
    )
    .await;
    assert_refused(status, &body, "invalid_parameter", "year");
    let (status, body) = get_json(&app, "/api/v1/monitoring/devices?state=asleep", &token).await;
    assert_refused(status, &body, "invalid_parameter", "state");
    let (status, body) = get_json(&app, "/api/v1/monitoring/devices?city=999999", &token).await;
    assert_refused(status, &body, "invalid_parameter", "city");

    // The overview: the device online, its latest values, the year's loads against the permit.
    let (status, body) = get_json(
        &app,
        &format!("/api/v1/enterprises/{enterprise}/monitoring"),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["devices"][0]["online"], true);
    assert_eq!(body["latest"][0]["data_time"], 20_270_115_085_000_i64);
    let so2 = body["loads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["factor"] == "a21026" && l["outlet_id"].is_null())
        .unwrap();
    assert_eq!(so2["limit_tonnes"], 420.0);
    assert!(so2["load_kg"].as_f64().unwrap() > 0.0 && so2["exceeded"] == false);
    assert_eq!(body["candidates"][0]["evidence_status"], "candidate");
}

#[tokio::test]
async fn the_devices_page_counts_devices_by_state_and_shows_exceedances_in_the_jurisdiction() {
    let app = monitored_app().await;
    let province = app.token("province").await;
    let (status, all) = get_json(&app, "/api/v1/monitoring/devices", &province).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let total = all["total"].as_u64().unwrap();
    assert_eq!(all["devices"].as_array().unwrap().len() as u64, total);
    assert_eq!(
        all["online"], 5,
        "every demo device but the one that stopped"
    );
    assert_eq!(all["offline_after_minutes"], 120);
    assert_eq!(
        all["online"].as_u64().unwrap()
            + all["offline"].as_u64().unwrap()
            + all["out_of_service"].as_u64().unwrap(),
        total
    );
    let (_, online) = get_json(&app, "/api/v1/monitoring/devices?state=online", &province).await;
    assert_eq!(online["devices"].as_array().unwrap().len(), 5);
    let (silent, _) = demo_device(&app, Scenario::Silent).await;
    let (_, offline) = get_json(&app, "/api/v1/monitoring/devices?state=offline", &province).await;
    let stopped = offline["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == silent)
        .expect("the device that stopped is offline");
    assert_eq!(stopped["last_data_time"], 20_270_115_025_000_i64);

    // A city sees its own devices only; asking for another city gives nothing.
    let lanzhou = app.token("lanzhou").await;
    let (_, own) = get_json(&app, "/api/v1/monitoring/devices", &lanzhou).await;
    assert!(own["devices"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["jurisdiction_code"] == "620100"));
    assert_eq!(own["online"], 3, "Lanzhou has three demo devices");
    let tianshui = app.token("tianshui").await;
    let (_, other) = get_json(&app, "/api/v1/monitoring/devices?city=620100", &tianshui).await;
    assert_eq!(other["total"], 0);

    // Yesterday's exceedances: two events in Lanzhou, none in Tianshui.
    let path = "/api/v1/monitoring/exceedances?from=2027-01-14&to=2027-01-14";
    let (status, body) = get_json(&app, path, &province).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["events"].as_array().unwrap().len(), 2);
    assert_eq!(
        get_json(&app, path, &lanzhou).await.1["events"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        get_json(&app, path, &tianshui).await.1["events"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // The page: counts, per-city counts for the province, and today's exceedances (none yet
    // today; moved back to the evening of 2027-01-14, the two events show).
    let browser = app.browser("province").await;
    let page = app.get("/monitoring", Some(&browser)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(&format!("设备 {total} 台：在线 5")), "{html}");
    assert!(html.contains("class=\"city-counts\""));
    assert!(html.contains("/monitoring/quarantine"));
    assert!(!html.contains("<tr class=\"exceedance\">"));
    app.clock.advance(chrono::Duration::hours(-12));
    let page = app.get("/monitoring", Some(&browser)).await;
    let html = page.text();
    assert_eq!(
        html.matches("<tr class=\"exceedance\">").count(),
        2,
        "{html}"
    );
    let enterprise = demo_enterprise_id(app.db()).await;
    assert!(html.contains(&format!("/enterprises/{enterprise}/monitoring")));
    let lanzhou_browser = app.browser("lanzhou").await;
    let city_page = app
        .get("/monitoring?state=online", Some(&lanzhou_browser))
        .await;
    assert_eq!(city_page.status, StatusCode::OK);
    let html = city_page.text();
    assert!(!html.contains("class=\"city-counts\""));
    assert!(!html.contains("/monitoring/quarantine"));
    let tianshui_browser = app.browser("tianshui").await;
    let html = app.get("/monitoring", Some(&tianshui_browser)).await.text();
    assert_eq!(html.matches("<tr class=\"exceedance\">").count(), 0);
}

#[tokio::test]
async fn the_province_assigns_and_discards_unknown_mns() {
    let app = monitored_app().await;
    let province = app.token("province").await;
    let (status, list) = get_json(&app, "/api/v1/monitoring/quarantine", &province).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let entries = list.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["mn"], UNKNOWN_MN);
    assert_eq!(entries[0]["packets"], 3);
    assert_eq!(entries[0]["resolution"], "open");
    let last = entries[0]["last_packet"]["packet"].as_str().unwrap();
    assert!(
        last.starts_with("##") && last.contains(UNKNOWN_MN),
        "{last}"
    );

    let browser = app.browser("province").await;
    let page = app.get("/monitoring/quarantine", Some(&browser)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(UNKNOWN_MN));
    let city = app.browser("lanzhou").await;
    assert_eq!(
        app.get("/monitoring/quarantine", Some(&city)).await.status,
        StatusCode::FORBIDDEN
    );

    // A device no one registered is refused by name; the MN of a registered device is taken.
    let assign = format!("/monitoring/quarantine/{UNKNOWN_MN}/assign");
    let refused = app
        .post_form(
            &assign,
            Some(&browser),
            &[
                ("_page", "/monitoring/quarantine"),
                ("device", "NO-SUCH-DEVICE"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // The quarantine again, the MN typed kept and the refusal beside it.
    let html = refused.text();
    assert!(html.contains("value=\"NO-SUCH-DEVICE\""), "{html}");
    assert!(
        html.contains(&format!("id=\"device-{UNKNOWN_MN}-error\"")),
        "{html}"
    );
    assert!(html.contains("没有编号或 MN 为“NO-SUCH-DEVICE”的已登记设备"));
    let operator = Principal::console_operator("test");
    let all = app
        .db()
        .monitoring_devices(
            operator.scope(),
            &Default::default(),
            test_now(),
            chrono::Duration::hours(2),
        )
        .await
        .unwrap();
    let idle = all
        .iter()
        .find(|d| d.last_seen_at.is_none())
        .expect("a registered device that never sent");
    let done = app
        .post_form(&assign, Some(&browser), &[("device", &idle.mn)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let device = app
        .db()
        .monitoring_device(
            operator.scope(),
            idle.device_id,
            test_now(),
            chrono::Duration::hours(2),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(device.mn, UNKNOWN_MN, "the device took the MN");
    let replayed = get_json(
        &app,
        &format!("/api/v1/enterprises/{}/monitoring", device.enterprise_id),
        &province,
    )
    .await
    .1;
    assert!(replayed["latest"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["device_id"] == idle.device_id && l["mn"] == UNKNOWN_MN));
    let again = app
        .api(
            "POST",
            &format!("/api/v1/monitoring/quarantine/{UNKNOWN_MN}/assign"),
            Some(&province),
            Some(json!({"device": idle.device_id})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert_eq!(again.json()["error"]["field"], "mn");
    let (_, open) = get_json(&app, "/api/v1/monitoring/quarantine", &province).await;
    assert_eq!(open.as_array().unwrap().len(), 0, "nothing open");
    let (_, all_entries) =
        get_json(&app, "/api/v1/monitoring/quarantine?all=true", &province).await;
    assert_eq!(all_entries[0]["resolution"], "assigned");

    // Another unknown MN, discarded through the API.
    let stray = "STRAY000000000000000001";
    app.db()
        .store_monitoring_batch(
            &IngestBatch {
                quarantined: vec![QuarantinedPacket {
                    mn: stray.into(),
                    received_at: "2027-01-15T00:30:00.000000Z".into(),
                    peer: "192.0.2.8:50000".into(),
                    packet: "##0040QN=1;ST=22;CN=9021;PW=1;MN=STRAY000000000000000001;&&&&ABCD\r\n"
                        .into(),
                    data: None,
                }],
                ..IngestBatch::default()
            },
            100,
        )
        .await
        .unwrap();
    let discard = format!("/api/v1/monitoring/quarantine/{stray}/discard");
    let lanzhou = app.token("lanzhou").await;
    assert_eq!(
        app.api("POST", &discard, Some(&lanzhou), None).await.status,
        StatusCode::FORBIDDEN
    );
    let done = app.api("POST", &discard, Some(&province), None).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(done.json()["discarded_packets"], 1);
    assert_eq!(
        app.api("POST", &discard, Some(&province), None)
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.api(
            "POST",
            "/api/v1/monitoring/quarantine/NEVER-SEEN/discard",
            Some(&province),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_province_sets_a_device_s_tolerance_and_takes_it_out_of_service() {
    let app = monitored_app().await;
    let (device, _) = demo_device(&app, Scenario::Normal).await;
    let province = app.token("province").await;
    let path = format!("/api/v1/devices/{device}/settings");
    let (status, body) = get_json(&app, &path, &province).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], true);
    assert_eq!(body["tolerance"], json!([]));
    assert!(body["available"].as_array().unwrap().len() >= 8);

    let bad = app
        .api(
            "PUT",
            &path,
            Some(&province),
            Some(json!({"tolerance": ["lenient"], "enabled": true})),
        )
        .await;
    assert_refused(bad.status, &bad.json(), "invalid_parameter", "tolerance");
    let bad = app
        .api(
            "PUT",
            &path,
            Some(&province),
            Some(json!({"tolerance": ["crc_modbus"]})),
        )
        .await;
    assert_refused(bad.status, &bad.json(), "required", "enabled");
    let saved = app
        .api(
            "PUT",
            &path,
            Some(&province),
            Some(json!({"tolerance": ["crc_modbus"], "enabled": false})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()["tolerance"], json!(["crc_modbus"]));
    assert_eq!(saved.json()["enabled"], false);
    let (_, out) = get_json(
        &app,
        "/api/v1/monitoring/devices?state=out_of_service",
        &province,
    )
    .await;
    assert!(out["devices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["device_id"] == device && d["tolerance"] == "crc_modbus"));

    // The page's form: repeated checkboxes, and `enabled` ticked.
    let browser = app.browser("province").await;
    let page = app
        .get(&format!("/monitoring/devices/{device}"), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("value=\"crc_modbus\" checked"));
    let done = app
        .post_form(
            &format!("/monitoring/devices/{device}/settings"),
            Some(&browser),
            &[
                ("tolerance", "missing_qn"),
                ("tolerance", "missing_flag"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let (_, body) = get_json(&app, &path, &province).await;
    assert_eq!(body["tolerance"], json!(["missing_qn", "missing_flag"]));
    assert_eq!(body["enabled"], true);
    // Officials of a city and the enterprise may not change it.
    let lanzhou = app.token("lanzhou").await;
    assert_eq!(
        app.api(
            "PUT",
            &path,
            Some(&lanzhou),
            Some(json!({"tolerance": [], "enabled": true}))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}
