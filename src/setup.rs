//! Opening the database and loading the demo data set: shared by `serve`, the other commands
//! and the test suite.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use cpaudit_core::reference::ReferenceData;
use cpaudit_storage::auth::NewUser;
use cpaudit_storage::{Db, Principal, Role};

/// The password of every demo account (printed at start; `--demo` only).
pub const DEMO_PASSWORD: &str = "cpaudit-demo";
/// The seed of the demo data set: the same data on every machine.
pub const DEMO_SEED: u64 = 20_270_101;
pub const DEMO_ENTERPRISES: usize = 320;

/// Connects, migrates and writes the reference data.
pub async fn open_database(url: &str, reference: &ReferenceData) -> Result<Db> {
    let db = Db::connect(url)
        .await
        .with_context(|| format!("cannot open database {}", cpaudit_storage::redact_url(url)))?;
    db.migrate().await.context("migrating the database")?;
    db.load_reference(reference)
        .await
        .context("loading reference data")?;
    Ok(db)
}

/// One demo login, for the start-up banner.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: &'static str,
    pub description: String,
}

/// Loads the demo data set and its users into an empty database. Returns the logins; when the
/// database already holds data, nothing is loaded and the logins are still returned.
pub async fn load_demo(
    db: &Db,
    reference: &ReferenceData,
    enterprises: usize,
    now: DateTime<Utc>,
) -> Result<Vec<DemoLogin>> {
    let operator = Principal::console_operator("demo");
    if db.is_empty().await? {
        let data = cpaudit_core::demo::generate(reference, DEMO_SEED, enterprises);
        let ids = db
            .load_demo(&operator, &data, now)
            .await
            .context("loading demo data")?;
        let consultancy = data
            .consultancies
            .iter()
            .position(|c| !c.sanctioned)
            .unwrap_or(0);
        let users = [
            (
                "province",
                "省生态环境厅（演示）",
                Role::Province,
                None,
                None,
                None,
                None,
            ),
            (
                "lanzhou",
                "兰州市生态环境局（演示）",
                Role::City,
                Some("620100"),
                None,
                None,
                None,
            ),
            (
                "tianshui",
                "天水市生态环境局（演示）",
                Role::City,
                Some("620500"),
                None,
                None,
                None,
            ),
            (
                "enterprise",
                "企业用户（演示）",
                Role::Enterprise,
                None,
                ids.enterprises.first().copied(),
                None,
                None,
            ),
            (
                "consultancy",
                "咨询服务机构（演示）",
                Role::Consultancy,
                None,
                None,
                ids.consultancies.get(consultancy).copied(),
                None,
            ),
            (
                "expert",
                "专家（演示）",
                Role::Expert,
                None,
                None,
                None,
                ids.experts.first().copied(),
            ),
        ];
        for (username, display_name, role, city, enterprise_id, consultancy_id, expert_id) in users
        {
            db.add_user(
                &operator,
                &NewUser {
                    username: username.into(),
                    display_name: display_name.into(),
                    password: DEMO_PASSWORD.into(),
                    role,
                    jurisdiction_code: city.map(str::to_string),
                    enterprise_id,
                    consultancy_id,
                    expert_id,
                },
                now,
            )
            .await
            .with_context(|| format!("creating demo user {username}"))?;
        }
    }
    Ok(demo_logins())
}

pub fn demo_logins() -> Vec<DemoLogin> {
    [
        ("province", "省级 province: 全省 whole province"),
        ("lanzhou", "市州 city: 兰州市 Lanzhou"),
        ("tianshui", "市州 city: 天水市 Tianshui"),
        ("enterprise", "企业 enterprise: a Lanzhou enterprise"),
        ("consultancy", "咨询服务机构 consultancy"),
        ("expert", "专家 expert"),
    ]
    .into_iter()
    .map(|(username, description)| DemoLogin {
        username,
        description: description.to_string(),
    })
    .collect()
}
