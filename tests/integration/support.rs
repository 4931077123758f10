//! Test support: a fresh database per test on the backend chosen by
//! `CPAUDIT_TEST_DATABASE_URL` (unset: a temporary SQLite file; `postgres://…`: a fresh
//! PostgreSQL database), and an in-process application with an injectable clock.
//!
//! The schema, reference data and demo data are created once per test run in a template
//! (a SQLite file, or a PostgreSQL template database); each test starts from a copy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use cpaudit::setup;
use cpaudit_app::{App, Clock};
use cpaudit_core::reference::ReferenceData;
use cpaudit_storage::Db;
use cpaudit_web::{AppState, WebSettings};
use http_body_util::BodyExt;
use sqlx::Connection;
use tokio::sync::OnceCell;
use tower::ServiceExt;

pub const PASSWORD: &str = setup::DEMO_PASSWORD;

/// The time the tests live at: 2027-01-15 09:00 China Standard Time.
pub fn test_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 15, 1, 0, 0).unwrap()
}

/// A clock the test moves.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

enum Backing {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { name: String, admin_url: String },
}

/// A database for one test, removed when the test ends.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    backing: Backing,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Backing::Postgres { name, admin_url } = &self.backing {
            let (name, admin_url) = (name.clone(), admin_url.clone());
            // Drop runs inside the test's runtime: use a thread with a runtime of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .execute(&mut admin)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();
static CREATE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn backend_url() -> Option<String> {
    std::env::var("CPAUDIT_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

pub fn reference() -> ReferenceData {
    ReferenceData::gansu()
}

/// Fills a fresh database with what every test starts from.
async fn populate(url: &str) {
    let db = setup::open_database(url, &reference())
        .await
        .expect("migrate template");
    setup::load_demo(&db, &reference(), setup::DEMO_ENTERPRISES, test_now())
        .await
        .expect("load demo data");
    db.close().await;
}

/// The admin URL (database `postgres`) of a PostgreSQL URL.
fn admin_url(url: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("CPAUDIT_TEST_DATABASE_URL is a URL");
    parsed.set_path("/postgres");
    parsed.to_string()
}

fn database_url(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("CPAUDIT_TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// Removes test databases left by earlier runs whose process is gone.
async fn drop_stale_databases(admin: &mut sqlx::PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'cpaudit\\_tpl\\_%' OR datname LIKE 'cpaudit\\_t\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            match backend_url() {
                None => {
                    let dir = std::env::temp_dir()
                        .join(format!("cpaudit-test-template-{}", std::process::id()));
                    std::fs::create_dir_all(&dir).unwrap();
                    let build = dir.join("build.db");
                    let path = dir.join("template.db");
                    let _ = std::fs::remove_file(&path);
                    populate(&format!("sqlite://{}", build.display())).await;
                    // VACUUM INTO writes one self-contained file, whatever is still in the
                    // build database's write-ahead log.
                    let db = Db::connect(&format!("sqlite://{}", build.display()))
                        .await
                        .unwrap();
                    if let Db::Sqlite(pool) = &db {
                        sqlx::query(&format!("VACUUM INTO '{}'", path.display()))
                            .execute(pool)
                            .await
                            .unwrap();
                    }
                    db.close().await;
                    path.display().to_string()
                }
                Some(url) => {
                    let admin = admin_url(&url);
                    let mut connection = sqlx::PgConnection::connect(&admin)
                        .await
                        .expect("connect to PostgreSQL");
                    drop_stale_databases(&mut connection).await;
                    let name = format!("cpaudit_tpl_{}", std::process::id());
                    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut connection)
                        .await
                        .unwrap();
                    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                        .execute(&mut connection)
                        .await
                        .unwrap();
                    populate(&database_url(&url, &name)).await;
                    name
                }
            }
        })
        .await
        .clone()
}

/// A fresh database with the schema, reference data and demo data.
pub async fn test_db() -> TestDb {
    let template = template().await;
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match backend_url() {
        None => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("test.db");
            std::fs::copy(&template, &path).unwrap();
            let url = format!("sqlite://{}", path.display());
            let db = Db::connect(&url).await.unwrap();
            TestDb {
                db,
                url,
                backing: Backing::Sqlite(dir),
            }
        }
        Some(base) => {
            let admin = admin_url(&base);
            let name = format!("cpaudit_t_{}_{n}", std::process::id());
            {
                let _serial = CREATE_LOCK.lock().await;
                let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::query(&format!(
                    "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
                ))
                .execute(&mut connection)
                .await
                .unwrap();
            }
            let url = database_url(&base, &name);
            let db = Db::connect(&url).await.unwrap();
            TestDb {
                db,
                url,
                backing: Backing::Postgres {
                    name,
                    admin_url: admin,
                },
            }
        }
    }
}

/// The application in process, with a test clock.
pub struct TestApp {
    pub store: TestDb,
    pub clock: Arc<TestClock>,
    pub router: axum::Router,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }

    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

/// A logged-in browser: its session cookie and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_settings(WebSettings::default()).await
    }

    pub async fn with_settings(settings: WebSettings) -> TestApp {
        // Server-side errors are logged; show them in the failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("warn")
            .try_init();
        let store = test_db().await;
        let clock = Arc::new(TestClock(Mutex::new(test_now())));
        let state = AppState::new(
            App::new(store.db.clone(), reference(), clock.clone()),
            settings,
        );
        TestApp {
            router: cpaudit_web::app(state),
            store,
            clock,
        }
    }

    pub fn db(&self) -> &Db {
        &self.store.db
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Response {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, browser: Option<&Browser>) -> Response {
        let mut request = Request::get(path);
        if let Some(browser) = browser {
            request = request.header(header::COOKIE, &browser.cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Posts a urlencoded form; the CSRF token is added when `browser` is given.
    pub async fn post_form(
        &self,
        path: &str,
        browser: Option<&Browser>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(browser) = browser {
            request = request.header(header::COOKIE, &browser.cookie);
            fields.push(("csrf_token", &browser.csrf));
        }
        let body = serde_urlencoded::to_string(&fields).unwrap();
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// One attempt at the login form, without following the redirect.
    pub async fn attempt_login(&self, username: &str, password: &str) -> Response {
        self.post_form(
            "/login",
            None,
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// Logs in through the login form and reads the CSRF token from a page.
    pub async fn browser(&self, username: &str) -> Browser {
        let response = self
            .post_form(
                "/login",
                None,
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "login of {username}: {}",
            response.text()
        );
        let set_cookie = response
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let page = self
            .get(
                "/",
                Some(&Browser {
                    cookie: cookie.clone(),
                    csrf: String::new(),
                }),
            )
            .await;
        let html = page.text();
        let marker = "name=\"csrf_token\" value=\"";
        let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
        let csrf = html[start..].split('"').next().unwrap().to_string();
        Browser { cookie, csrf }
    }

    /// A bearer token for the API.
    pub async fn token(&self, username: &str) -> String {
        let response = self
            .send(
                Request::post("/api/v1/auth/token")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        serde_json::json!({"username": username, "password": PASSWORD}).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()["token"].as_str().unwrap().to_string()
    }

    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    /// Uploads a file as multipart to `path` with extra text fields.
    pub async fn upload(
        &self,
        path: &str,
        auth: Auth<'_>,
        file_name: &str,
        bytes: &[u8],
        fields: &[(&str, &str)],
    ) -> Response {
        let boundary = "cpaudit-test-boundary-7d1c";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut uri = path.to_string();
        let mut request = Request::post("/");
        match auth {
            Auth::Browser(browser) => {
                uri = format!("{path}?csrf_token={}", browser.csrf);
                request = request.header(header::COOKIE, &browser.cookie);
            }
            Auth::Bearer(token) => {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"))
            }
        }
        let request = request
            .uri(uri)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }
}

pub enum Auth<'a> {
    Browser(&'a Browser),
    Bearer(&'a str),
}

/// The id of the first enterprise (by id) in a city, read with province scope.
pub async fn enterprise_in(db: &Db, city: &str) -> i64 {
    let filter = cpaudit_storage::enterprises::EnterpriseFilter {
        city: Some(city.to_string()),
        sort: cpaudit_storage::enterprises::SortKey::Updated,
        ..Default::default()
    };
    let operator = cpaudit_storage::Principal::console_operator("test");
    db.search_enterprises(operator.scope(), &filter)
        .await
        .unwrap()
        .items[0]
        .id
}

/// The demo enterprise user's enterprise.
pub async fn demo_enterprise_id(db: &Db) -> i64 {
    let operator = cpaudit_storage::Principal::console_operator("test");
    db.list_users(operator.scope())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "enterprise")
        .and_then(|u| u.enterprise_id)
        .unwrap()
}

pub async fn enterprise_count(db: &Db) -> i64 {
    let operator = cpaudit_storage::Principal::console_operator("test");
    db.search_enterprises(operator.scope(), &Default::default())
        .await
        .unwrap()
        .total
}

/// Runs raw SQL against a test database behind the application's back (to tamper with it).
pub async fn raw_execute(db: &Db, sql: &str) -> u64 {
    match db {
        Db::Sqlite(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected(),
        Db::Postgres(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected(),
    }
}

/// Runs the `cpaudit` binary against a test database.
pub fn cpaudit_command(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cpaudit"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("CPAUDIT_LOG", "error")
        .output()
        .expect("run cpaudit")
}

/// The province's capability on a stored record, for tests that call storage directly: what a
/// page or use case gets from its scoped read.
pub mod read {
    use cpaudit_storage::draws::DrawRow;
    use cpaudit_storage::enterprises::EnterpriseRow;
    use cpaudit_storage::reviews::ReviewRow;
    use cpaudit_storage::rounds::RoundRow;
    use cpaudit_storage::{Db, InScope, Principal};

    fn province() -> Principal {
        Principal::console_operator("test")
    }

    pub async fn enterprise(db: &Db, id: i64) -> InScope<EnterpriseRow> {
        let province = province();
        db.get_enterprise(province.scope(), id)
            .await
            .unwrap()
            .expect("enterprise")
    }

    pub async fn round(db: &Db, id: i64) -> InScope<RoundRow> {
        let province = province();
        db.get_round(province.scope(), id)
            .await
            .unwrap()
            .expect("round")
    }

    pub async fn review(db: &Db, id: i64) -> InScope<ReviewRow> {
        let province = province();
        db.get_review(province.scope(), id)
            .await
            .unwrap()
            .expect("review")
            .0
    }

    pub async fn draw(db: &Db, id: i64) -> InScope<DrawRow> {
        db.get_draw(id).await.unwrap().expect("draw")
    }
}
