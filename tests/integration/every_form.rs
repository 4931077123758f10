//! Every page form, found as a person finds it — by following the links of the pages each role
//! sees — is submitted once with one field that cannot be right (a number that is no number, a
//! day that does not exist, a required field left empty). The answer must be the same form
//! again: refused with a client error, the message beside that field, and what was typed in
//! another field still there. The world is set up in scenes (see [`scenes`]) so that every page
//! form of the route table is met; `SHOW_CRAWL=1` prints the pages read and the forms met.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{header, Request};
use scraper::{ElementRef, Html};

use crate::crawl::{self, kind_of, selector};

use crate::support::{Browser, TestApp};

/// The test world's people, one or more of each role.
const PEOPLE: &[&str] = &[
    "province",
    "lanzhou",
    "enterprise",
    "round1",
    "consultancy",
    "expert",
];
/// What a person types into a field the test keeps an eye on.
const TYPED: &str = "留存的文字 kept text";

/// One field of a form as the page shows it.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: String,
    value: String,
    required: bool,
}

/// A form as found on a page.
#[derive(Debug, Clone)]
struct FoundForm {
    page: String,
    action: String,
    fields: Vec<Field>,
    /// Not every button is disabled (a form that cannot be sent lists what it lacks).
    sendable: bool,
}

impl FoundForm {
    /// The hidden fields that tell forms with one action apart (which round action, which row).
    fn hidden_key(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter(|f| {
                f.kind == "hidden" && !["csrf_token", "_page", "version"].contains(&f.name.as_str())
            })
            .map(|f| (f.name.clone(), kind_of(&f.value)))
            .collect()
    }

    fn key(&self) -> String {
        format!("{} {:?}", kind_of(&self.action), self.hidden_key())
    }
}

fn fields_of(form: ElementRef) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut radios_seen = BTreeSet::new();
    for element in form.select(&selector("input[name], select[name], textarea[name]")) {
        let value = element.value();
        let name = value.attr("name").unwrap_or_default().to_string();
        let required = value.attr("required").is_some();
        match value.name() {
            "select" => {
                let chosen = element
                    .select(&selector("option[selected]"))
                    .next()
                    .or_else(|| element.select(&selector("option")).next());
                let value = chosen
                    .map(|option| {
                        option
                            .value()
                            .attr("value")
                            .map(str::to_string)
                            .unwrap_or_else(|| option.text().collect())
                    })
                    .unwrap_or_default();
                fields.push(Field {
                    name,
                    kind: "select".into(),
                    value,
                    required,
                });
            }
            "textarea" => fields.push(Field {
                name,
                kind: "textarea".into(),
                value: element.text().collect(),
                required,
            }),
            _ => {
                let numeric = value
                    .attr("inputmode")
                    .is_some_and(|mode| mode == "decimal" || mode == "numeric");
                let kind = match value.attr("type") {
                    None if numeric => "number".to_string(),
                    kind => kind.unwrap_or("text").to_ascii_lowercase(),
                };
                let field_value = value.attr("value").unwrap_or_default().to_string();
                match kind.as_str() {
                    "checkbox" if value.attr("checked").is_none() => continue,
                    "checkbox" => {
                        let value = if field_value.is_empty() {
                            "on".into()
                        } else {
                            field_value
                        };
                        fields.push(Field {
                            name,
                            kind,
                            value,
                            required,
                        });
                    }
                    "radio" => {
                        let checked = value.attr("checked").is_some();
                        // The checked one, else the first of the group.
                        if checked {
                            fields.retain(|f: &Field| !(f.kind == "radio" && f.name == name));
                            radios_seen.insert(name.clone());
                            fields.push(Field {
                                name,
                                kind,
                                value: field_value,
                                required,
                            });
                        } else if !radios_seen.contains(&name)
                            && !fields.iter().any(|f| f.kind == "radio" && f.name == name)
                        {
                            fields.push(Field {
                                name,
                                kind,
                                value: field_value,
                                required,
                            });
                        }
                    }
                    "submit" | "button" | "reset" | "image" | "file" | "password" => continue,
                    _ => fields.push(Field {
                        name,
                        kind,
                        value: field_value,
                        required,
                    }),
                }
            }
        }
    }
    // The first named submit button is the one a person presses.
    if let Some(button) = form.select(&selector("button[name][value]")).next() {
        let value = button.value();
        fields.push(Field {
            name: value.attr("name").unwrap_or_default().into(),
            kind: "button".into(),
            value: value.attr("value").unwrap_or_default().into(),
            required: false,
        });
    }
    fields
}

fn forms_of(page: &str, html: &Html) -> Vec<FoundForm> {
    html.select(&selector("form"))
        .filter(|form| {
            let value = form.value();
            value
                .attr("method")
                .is_some_and(|m| m.eq_ignore_ascii_case("post"))
                && !value
                    .attr("enctype")
                    .is_some_and(|e| e.contains("multipart"))
        })
        .filter_map(|form| {
            let action = form.value().attr("action").unwrap_or(page).to_string();
            let pass = ["/logout", "/login", "/lang/"];
            (!pass.iter().any(|p| action.starts_with(p))).then(|| FoundForm {
                page: page.to_string(),
                action,
                fields: fields_of(form),
                sendable: form
                    .select(&selector(
                        "button:not([disabled]), input[type=submit]:not([disabled])",
                    ))
                    .next()
                    .is_some(),
            })
        })
        .collect()
}

/// Every post form each person meets, one per kind.
async fn every_form(
    app: &TestApp,
    browsers: &BTreeMap<String, Browser>,
) -> Vec<(String, FoundForm)> {
    let mut forms: BTreeMap<String, (String, FoundForm)> = BTreeMap::new();
    for (person, browser) in browsers {
        for (path, html) in crawl::pages(app, person, Some(browser)).await {
            for form in forms_of(&path, &html).into_iter().filter(|f| f.sendable) {
                forms
                    .entry(form.key())
                    .or_insert_with(|| (person.clone(), form));
            }
        }
    }
    forms.into_values().collect()
}

/// The field to spoil and what to put in it.
fn spoil(form: &FoundForm) -> Option<(usize, &'static str)> {
    let position = |kind: &str| form.fields.iter().position(|f| f.kind == kind);
    if let Some(i) = position("number") {
        return Some((i, "abc"));
    }
    if let Some(i) = position("date") {
        return Some((i, "2027-02-30"));
    }
    if let Some(i) = position("select").or_else(|| position("radio")) {
        return Some((i, "no-such-choice"));
    }
    if let Some(i) = form
        .fields
        .iter()
        .position(|f| f.required && ["text", "textarea"].contains(&f.kind.as_str()))
    {
        return Some((i, ""));
    }
    position("checkbox").map(|i| (i, "no-such-choice"))
}

/// A field whose typed value the answer must keep: free text (a reason, a name, a note), other
/// than the spoiled one. Fields that hold ids or codes are left as they are.
fn watched(form: &FoundForm, spoiled: usize) -> Option<usize> {
    const FREE_TEXT: &[&str] = &[
        "reason",
        "note",
        "name",
        "title",
        "summary",
        "description",
        "detail",
        "place",
        "document_number",
        "team",
        "work_plan",
        "number_prefix",
        "plan_text",
    ];
    form.fields.iter().enumerate().position(|(i, f)| {
        i != spoiled
            && ["text", "textarea"].contains(&f.kind.as_str())
            && FREE_TEXT.iter().any(|word| f.name.contains(word))
    })
}

async fn submit(
    app: &TestApp,
    browser: &Browser,
    form: &FoundForm,
    fields: &[(String, String)],
) -> (u16, String) {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request = Request::post(&form.action)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &browser.cookie)
        .header(header::REFERER, format!("http://localhost{}", form.page))
        .body(Body::from(body))
        .unwrap();
    let response = app.send(request).await;
    (response.status.as_u16(), response.text())
}

/// What is wrong with the answer to a form with one spoiled field, if anything.
fn judge(
    form: &FoundForm,
    spoiled: &Field,
    kept: Option<&Field>,
    status: u16,
    html: &str,
) -> Option<String> {
    if !(400..500).contains(&status) {
        return Some(format!("answered {status}"));
    }
    let page = Html::parse_document(html);
    let hidden = form.hidden_key();
    let again = forms_of(&form.page, &page)
        .into_iter()
        .find(|f| f.action == form.action && f.hidden_key() == hidden);
    let Some(again) = again else {
        return Some(format!("answered {status} without the form"));
    };
    let error_id = format!("{}-error", spoiled.name);
    let beside = page
        .select(&selector(&format!(
            "form[action=\"{}\"] [id=\"{error_id}\"]",
            form.action
        )))
        .next()
        .is_some()
        || page
            .select(&selector(&format!(
                "[name=\"{}\"][aria-describedby]",
                spoiled.name
            )))
            .filter_map(|e| e.value().attr("aria-describedby"))
            .any(|ids| {
                ids.split_whitespace().any(|id| {
                    page.select(&selector(&format!("[id=\"{id}\"]")))
                        .next()
                        .is_some()
                })
            });
    if !beside {
        let said: Vec<String> = page
            .select(&selector(".field-error, [role=alert]"))
            .map(|e| {
                e.text()
                    .collect::<String>()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        return Some(format!(
            "no message beside `{}`; the page said {said:?}",
            spoiled.name
        ));
    }
    if let Some(kept) = kept {
        let value = again
            .fields
            .iter()
            .find(|f| f.name == kept.name)
            .map(|f| f.value.as_str());
        if value != Some(kept.value.as_str()) {
            return Some(format!("`{}` lost what was typed: {value:?}", kept.name));
        }
    }
    None
}

/// What the forms met so far came to.
#[derive(Default)]
struct Tally {
    /// Keys of the forms submitted or looked at, so that each kind is tried once.
    met: BTreeSet<String>,
    /// The paths of the actions met (to compare with the route table).
    actions: BTreeSet<String>,
    tried: usize,
    nothing_to_spoil: Vec<String>,
    problems: Vec<String>,
}

/// Submits, once, each form not met before, as the person who met it.
async fn try_forms(app: &TestApp, people: &[String], tally: &mut Tally) {
    let mut browsers = BTreeMap::new();
    for person in people {
        browsers.insert(person.clone(), app.browser(person).await);
    }
    for (person, form) in every_form(app, &browsers).await {
        if !tally.met.insert(form.key()) {
            continue;
        }
        let path = form.action.split(['#', '?']).next().unwrap_or_default();
        tally.actions.insert(path.to_string());
        let Some((spoiled, bad)) = spoil(&form) else {
            tally.nothing_to_spoil.push(form.key());
            continue;
        };
        let kept = watched(&form, spoiled);
        let fields: Vec<(String, String)> = form
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let value = if i == spoiled {
                    bad.to_string()
                } else if Some(i) == kept && field.value.is_empty() {
                    TYPED.to_string()
                } else {
                    field.value.clone()
                };
                (field.name.clone(), value)
            })
            .collect();
        let (status, html) = submit(app, &browsers[&person], &form, &fields).await;
        let kept_field = kept.map(|i| Field {
            value: fields[i].1.clone(),
            ..form.fields[i].clone()
        });
        tally.tried += 1;
        let spoiled = &form.fields[spoiled];
        if let Some(problem) = judge(&form, spoiled, kept_field.as_ref(), status, &html) {
            tally.problems.push(format!(
                "{} (on {} as {person}, `{}` = {bad:?}): {problem}",
                form.action, form.page, spoiled.name
            ));
        }
    }
}

/// Whether an action's path is one of the route's (a `{placeholder}` stands for any segment).
fn matches_route(route: &str, action: &str) -> bool {
    let route: Vec<&str> = route.split('/').collect();
    let action: Vec<&str> = action.split('/').collect();
    route.len() == action.len()
        && route
            .iter()
            .zip(&action)
            .all(|(r, a)| r.starts_with('{') || r == a)
}

/// The page forms of the route table that no form met posts to.
fn not_met(tally: &Tally) -> Vec<String> {
    cpaudit_web::routes::specs()
        .into_iter()
        .filter(|spec| {
            spec.kind == cpaudit_web::routes::Kind::Page && spec.method == axum::http::Method::POST
        })
        .map(|spec| spec.path)
        .filter(|path| {
            !tally
                .actions
                .iter()
                .any(|action| matches_route(path, action))
        })
        .collect()
}

#[tokio::test]
async fn every_page_form_with_one_bad_field_comes_back_with_the_error_beside_it_and_the_rest_kept()
{
    let app = TestApp::new().await;
    let mut people: Vec<String> = PEOPLE.iter().map(|p| p.to_string()).collect();
    let mut tally = Tally::default();
    for scene in scenes::ALL {
        scenes::set(&app, *scene, &mut people).await;
        try_forms(&app, &people, &mut tally).await;
    }
    println!(
        "forms tried: {}; with no field to spoil: {:#?}",
        tally.tried, tally.nothing_to_spoil
    );
    let unmet = not_met(&tally);
    if std::env::var("SHOW_CRAWL").is_ok() {
        println!("met: {:#?}", tally.met);
    }
    assert!(
        tally.problems.is_empty(),
        "{} of {} forms: {:#?}",
        tally.problems.len(),
        tally.tried,
        tally.problems
    );
    assert_eq!(unmet, scenes::NOT_MET, "page forms no scene reaches");
}

/// States of the test world, each adding what lets more forms be met.
pub(crate) mod scenes {
    use serde_json::json;

    use crate::support::TestApp;

    #[derive(Debug, Clone, Copy)]
    pub enum Scene {
        /// Round 1's enterprise has disclosed, claiming a trade secret.
        Disclosed,
        /// Round 1 is under way with a consultancy and an option; letters, an order to
        /// correct, a sanction, a park pilot, a plan draft, a notice, a quarantined data logger.
        UnderWay,
        /// Two reports are in: one awaits its draw, the other's pool is frozen.
        Frozen,
        /// The frozen draw is run; one of its experts answers on the page.
        Drawn,
        /// Every seat is taken and the review scheduled; round 1's option is implemented and
        /// its assessment passed (or, on the small/micro track, its review scheduled).
        Reviewing,
    }

    pub const ALL: &[Scene] = &[
        Scene::Disclosed,
        Scene::UnderWay,
        Scene::Frozen,
        Scene::Drawn,
        Scene::Reviewing,
    ];

    /// Page forms no scene reaches, and why: uploads are multipart (their fields are files)
    /// and signing in and out have their own tests.
    pub const NOT_MET: &[&str] = &[
        "/login",
        "/logout",
        "/enterprises/import",
        "/enterprises/import/confirm",
        "/evidence/import",
        "/rounds/import",
        "/consultancies/{id}/documents",
        "/rounds/{id}/documents",
        "/rounds/{id}/options/import",
    ];

    async fn api(app: &TestApp, method: &str, path: &str, token: &str, body: serde_json::Value) {
        let answer = app.api(method, path, Some(token), Some(body)).await;
        assert!(
            answer.status.is_success(),
            "{method} {path}: {} {}",
            answer.status,
            answer.text()
        );
    }

    pub async fn set(app: &TestApp, scene: Scene, people: &mut Vec<String>) {
        match scene {
            Scene::Disclosed => {
                let token = crate::rounds::enterprise_token(app).await;
                let secret = crate::rounds::secret_item(app, &token).await;
                crate::rounds::disclose(
                    app,
                    &token,
                    json!({secret: "核心工艺配方，公开将损害竞争地位"}),
                )
                .await;
            }
            Scene::UnderWay => under_way(app).await,
            Scene::Frozen => frozen(app).await,
            Scene::Drawn => drawn(app, people).await,
            Scene::Reviewing => reviewing(app).await,
        }
    }

    /// Standard-track rounds other than round 1, the first few.
    async fn standard_rounds(app: &TestApp) -> Vec<i64> {
        let sql = "SELECT id FROM rounds WHERE track = 'standard' AND id <> 1 ORDER BY id LIMIT 2";
        match app.db() {
            cpaudit_storage::Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            cpaudit_storage::Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        }
        .unwrap()
    }

    async fn frozen(app: &TestApp) {
        let rounds = standard_rounds(app).await;
        for round in &rounds {
            crate::support::raw_execute(
                app.db(),
                &format!("UPDATE rounds SET state = 'report_submitted' WHERE id = {round}"),
            )
            .await;
        }
        let province = app.token("province").await;
        api(
            app,
            "POST",
            "/api/v1/draws",
            &province,
            json!({"audit_round_id": rounds[1], "review_on": "2027-03-01"}),
        )
        .await;
    }

    /// The draw of the second report, run two days after its freeze.
    async fn drawn(app: &TestApp, people: &mut Vec<String>) {
        app.clock.advance(chrono::Duration::days(2));
        let province = app.token("province").await;
        let sources = json!({"sources": [
            {"name": "中国福利彩票双色球开奖号码（红球）", "drawn_on": "2027-01-16", "values": ["5", "9", "14", "20", "26", "33"]},
            {"name": "深圳证券交易所成份指数收盘点位", "drawn_on": "2027-01-16", "values": ["10876.12"]}
        ]});
        let drawn = app
            .api(
                "POST",
                &format!("/api/v1/draws/{}/run", draw_id(app).await),
                Some(&province),
                Some(sources),
            )
            .await;
        assert!(drawn.status.is_success(), "{}", drawn.text());
        let first = panel(&drawn.json())[0];
        crate::draws::expert_token(app, first).await;
        people.push(format!("expert{first}"));
    }

    async fn draw_id(app: &TestApp) -> i64 {
        let sql = "SELECT MAX(id) FROM draws";
        match app.db() {
            cpaudit_storage::Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            cpaudit_storage::Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .unwrap()
    }

    fn panel(draw: &serde_json::Value) -> Vec<i64> {
        draw["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["role"] == "panel")
            .map(|a| a["expert_id"].as_i64().unwrap())
            .collect()
    }

    async fn reviewing(app: &TestApp) {
        let draw = draw_id(app).await;
        let province = app.token("province").await;
        let row = app.db().get_draw(draw).await.unwrap().unwrap();
        let experts: Vec<i64> = app
            .db()
            .assignments(&row)
            .await
            .unwrap()
            .into_iter()
            .filter(|seat| seat.role == cpaudit_storage::draws::SeatRole::Panel)
            .map(|seat| seat.expert_id)
            .collect();
        for (seat, expert) in experts.iter().enumerate() {
            // The first expert's user exists already; the page takes their answer later.
            let token = if seat == 0 {
                app.token(&format!("expert{expert}")).await
            } else {
                crate::draws::expert_token(app, *expert).await
            };
            api(
                app,
                "POST",
                &format!("/api/v1/draws/{draw}/response"),
                &token,
                json!({"accept": true, "no_conflict": true}),
            )
            .await;
        }
        let round = standard_rounds(app).await[1];
        api(
            app,
            "POST",
            &format!("/api/v1/rounds/{round}/actions"),
            &province,
            json!({"action": "schedule_review", "meeting_on": "2027-03-01", "place": "评审会议室"}),
        )
        .await;
        let enterprise = app.token("round1").await;
        api(
            app,
            "POST",
            "/api/v1/rounds/1/options/1/status",
            &enterprise,
            json!({"status": "selected"}),
        )
        .await;
        api(
            app,
            "POST",
            "/api/v1/rounds/1/options/1/status",
            &enterprise,
            json!({"status": "implemented", "implemented_on": "2027-01-16"}),
        )
        .await;
        crate::support::raw_execute(
            app.db(),
            "UPDATE rounds SET state = CASE track WHEN 'standard' THEN 'assessed' \
             ELSE 'assessment_scheduled' END WHERE id = 1",
        )
        .await;
    }

    async fn under_way(app: &TestApp) {
        let enterprise = app.token("round1").await;
        let lanzhou = app.token("lanzhou").await;
        let province = app.token("province").await;
        let round = crate::support::read::round(app.db(), 1).await;
        let enterprise_id = round.enterprise_id;
        api(
            app,
            "POST",
            &format!("/api/v1/enterprises/{enterprise_id}/engagements"),
            &enterprise,
            json!({"consultancy_id": 1}),
        )
        .await;
        api(
            app,
            "PUT",
            "/api/v1/rounds/1/start",
            &enterprise,
            json!({"mode": "consultancy", "consultancy_id": 1, "team": "张三，厂长，组长",
                "work_plan": "2027年2月完成预审核"}),
        )
        .await;
        api(
            app,
            "POST",
            "/api/v1/rounds/1/actions",
            &enterprise,
            json!({"action": "file_start"}),
        )
        .await;
        api(
            app,
            "POST",
            "/api/v1/rounds/1/options",
            &enterprise,
            json!({"code": "F-01", "name": "余热回收", "cost_class": "no_low",
                "description": "回收烟气余热", "investment_10k_yuan": 12.5, "expected": []}),
        )
        .await;
        api(
            app,
            "POST",
            "/api/v1/lists/1/letters",
            &lanzhou,
            json!({"number_prefix": "兰环清审"}),
        )
        .await;
        api(
            app,
            "POST",
            "/api/v1/rounds/1/enforcement",
            &lanzhou,
            json!({"kind": "order_to_correct", "basis": "penalty.law_39_1",
                "reason": "名单公布后未按期开展强制性清洁生产审核", "decided_on": "2027-01-14",
                "correct_by": "2027-02-14", "document_number": "兰环责改〔2027〕1号"}),
        )
        .await;
        api(
            app,
            "POST",
            "/api/v1/consultancies/2/sanctions",
            &province,
            json!({"kind": "correction_order", "reason": "报告格式不规范"}),
        )
        .await;
        api(
            app,
            "POST",
            "/api/v1/plans/620100/2028",
            &lanzhou,
            json!({"plan_text": "按年度建议名单分批实施", "schedule_text": "2028年内完成"}),
        )
        .await;
        crate::support::raw_execute(
            app.db(),
            "INSERT INTO notices (round_id, deadline_kind, deadline_seq, kind, due_on, fired_on, \
             fired_at, message_zh, message_en) SELECT round_id, kind, seq, 'reminder', due_on, \
             '2027-01-15', '2027-01-15T00:00:00.000000Z', '请按期完成', 'complete it in time' \
             FROM round_deadlines WHERE round_id = 1 ORDER BY due_on DESC LIMIT 1",
        )
        .await;
        app.db()
            .store_monitoring_batch(
                &cpaudit_storage::monitoring::IngestBatch {
                    quarantined: vec![cpaudit_storage::monitoring::QuarantinedPacket {
                        mn: "STRAY000000000000000001".into(),
                        received_at: "2027-01-15T00:30:00.000000Z".into(),
                        peer: "192.0.2.8:50000".into(),
                        packet:
                            "##0040QN=1;ST=22;CN=9021;PW=1;MN=STRAY000000000000000001;&&&&ABCD\r\n"
                                .into(),
                        data: None,
                    }],
                    ..Default::default()
                },
                100,
            )
            .await
            .unwrap();
        api(app, "PUT", "/api/v1/parks/3/audit", &province,
            json!({"title": "园区整体清洁生产审核试点", "started_on": "2026-03-01",
                "targets": [{"indicator": "COD 排放量", "baseline": 320.0, "target": 280.0, "unit": "t/a"}],
                "measures": "中水回用", "wastewater_status": "园区污水处理厂一期运行",
                "wastewater_compliant": true})).await;
    }
}
