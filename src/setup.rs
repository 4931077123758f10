//! Opening the database and loading the demo data set: shared by `serve`, the other commands
//! and the test suite.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use cpaudit_app::cycle::{self, Determined};
use cpaudit_app::{App, SystemAuthority};
use cpaudit_core::reference::ReferenceData;
use cpaudit_storage::auth::NewUser;
use cpaudit_storage::lists::NewList;
use cpaudit_storage::{Db, Role};

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
    let authority = SystemAuthority::console("demo");
    let operator = authority.principal();
    if db.is_empty().await? {
        let data = cpaudit_core::demo::generate(reference, DEMO_SEED, enterprises);
        let ids = db
            .load_demo(operator, &data, now)
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
                operator,
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
        load_demo_cycle(db, reference, &ids, &data, now).await?;
    }
    Ok(demo_logins())
}

/// The demo's yearly cycle: evidence, past rounds and a park pilot; the library kept from the
/// determination; and this year's list, published in January with its clocks running.
pub async fn load_demo_cycle(
    db: &Db,
    reference: &ReferenceData,
    ids: &cpaudit_storage::registry::DemoIds,
    data: &cpaudit_core::demo::DemoData,
    now: DateTime<Utc>,
) -> Result<()> {
    let authority = SystemAuthority::console("demo");
    let operator = authority.principal();
    let today = cpaudit_storage::evidence::china_date(now);
    let facts = cpaudit_core::demo::generate_facts(data, DEMO_SEED, today);
    db.load_demo_facts(operator, ids, data, &facts, now)
        .await
        .context("loading demo evidence")?;
    for (index, consultancy) in data.consultancies.iter().enumerate() {
        if consultancy.sanctioned {
            db.impose_sanction(
                operator,
                &cpaudit_storage::consultancies::NewSanction {
                    consultancy_id: ids.consultancies[index],
                    kind: "blacklist".into(),
                    reason: "出具的清洁生产审核报告物料平衡数据弄虚作假（演示）".into(),
                    legal_basis: "《清洁生产审核办法》第十六条；《甘肃省清洁生产审核实施方案（2021-2023）》四、（四）"
                        .into(),
                    starts_on: today - chrono::Duration::days(90),
                    ends_on: None,
                },
                now,
            )
            .await
            .context("recording the demo sanction")?;
        }
    }
    let app = App::new(db.clone(), reference.clone(), Arc::new(FixedClock(now)));
    let year = today.year();
    let mut entries = Vec::new();
    for city in reference.cities() {
        cpaudit_app::listing::sync_library(&app, operator, &city.code, year)
            .await
            .map_err(|error| anyhow::anyhow!("demo library for {}: {error:?}", city.code))?;
        let proposal = cycle::propose_city(&app, operator, &city.code, year)
            .await
            .map_err(|error| anyhow::anyhow!("demo plan for {}: {error:?}", city.code))?;
        entries.extend(
            proposal
                .plan
                .listed_in(year)
                .filter_map(|a| proposal.determined.get(&a.enterprise_id).cloned()),
        );
    }
    let published_on = demo_published_on(today);
    let refs: Vec<&Determined> = entries.iter().collect();
    let list_entries = cycle::list_entries(&app, &refs, published_on)
        .map_err(|error| anyhow::anyhow!("demo list: {error:?}"))?;
    if !list_entries.is_empty() {
        let province = reference.province().map_or("", |p| p.name_zh.as_str());
        db.publish_list(
            operator,
            &NewList {
                list_year: year,
                supplementary: false,
                title: format!("{province}{year}年度强制性清洁生产审核企业名单（第一批）"),
                document_number: format!("演示〔{year}〕1号"),
                published_on,
                entries: list_entries,
                round_policy: cycle::round_policy(&app, published_on)
                    .map_err(|error| anyhow::anyhow!("demo rounds: {error:?}"))?,
            },
            now,
        )
        .await
        .context("publishing the demo list")?;
    }
    Ok(())
}

/// The demo's online monitoring (see `demo_monitoring`): a few days of data for a handful of the
/// devices of the demo data set of `enterprises` enterprises, already loaded, judged as of `now`.
/// A fresh `serve --demo` and `cpaudit demo` load it; the tests' shared database does not, so
/// that each monitoring test starts from the data it writes.
pub async fn load_demo_monitoring(
    db: &Db,
    reference: &ReferenceData,
    enterprises: usize,
    now: DateTime<Utc>,
) -> Result<crate::demo_monitoring::DemoMonitoring> {
    let data = cpaudit_core::demo::generate(reference, DEMO_SEED, enterprises);
    let started = std::time::Instant::now();
    let monitoring =
        crate::demo_monitoring::load_demo_monitoring(db, &data, DEMO_SEED, now).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis(),
        devices = monitoring.devices,
        packets = monitoring.packets,
        report = ?monitoring.report,
        "demo monitoring data stored and judged"
    );
    Ok(monitoring)
}

/// The day the demo publishes this year's list: 10 January, or today early in January.
pub fn demo_published_on(today: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(today.year(), 1, 10)
        .filter(|day| *day <= today)
        .unwrap_or(today)
}

/// A clock that always says the same time: the demo is generated as of one instant.
struct FixedClock(DateTime<Utc>);

impl cpaudit_app::Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
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
