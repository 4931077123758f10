//! The command line.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use cpaudit_app::registry::{export_file, DocumentLanguage};
use cpaudit_app::SystemAuthority;
use cpaudit_core::audit::ChainVerdict;
use cpaudit_core::reference::ReferenceData;
use cpaudit_storage::auth::NewUser;
use cpaudit_storage::Role;

use crate::config::{self, Overrides, Settings};
use crate::determine_cmd::DetermineArgs;
use crate::draw_cmd::DrawCommand;
use crate::hj212_cmd::Hj212Command;
use crate::rules_cmd::RulesCommand;
use crate::setup;

/// 清洁生产审核管理系统 — runs the mandatory cleaner production audits of a province online.
#[derive(Debug, Parser)]
#[command(name = "cpaudit", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: ./cpaudit.toml if it exists).
    #[arg(long, global = true, env = "CPAUDIT_CONFIG")]
    config: Option<PathBuf>,
    /// Database: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "CPAUDIT_DATABASE_URL")]
    database_url: Option<String>,
    /// Log filter, e.g. info or cpaudit=debug.
    #[arg(long, global = true, env = "CPAUDIT_LOG")]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web interface and the API (migrates the database first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit trail.
    #[command(name = "audit-log", subcommand)]
    AuditLog(AuditLogCommand),
    /// Generate demo data into an empty database (for trials and benchmarks).
    Demo(DemoArgs),
    /// Export the enterprise registry to an .xlsx or .csv file (as the province sees it).
    Export(ExportArgs),
    /// Check the rule files, or show the legal parameters with their citations.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Determine who must audit in a year (as the province sees it): counts by outcome and
    /// reason, one enterprise's explanation, each city's plan, timings.
    Determine(DetermineArgs),
    /// Verify a published expert panel draw by recomputing it from its record (no database).
    #[command(subcommand)]
    Draw(DrawCommand),
    /// Online monitoring (HJ 212): a simulator of the demo devices' data loggers, and the
    /// judgement of the stored data against the emission limits.
    #[command(subcommand)]
    Hj212(Hj212Command),
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// Output file; its extension (.xlsx or .csv) picks the format.
    output: PathBuf,
    /// Only this city (jurisdiction code).
    #[arg(long)]
    city: Option<String>,
    /// Only names or credit codes containing this text.
    #[arg(long)]
    q: Option<String>,
    /// At most this many rows.
    #[arg(long)]
    limit: Option<usize>,
    /// Header language: zh or en.
    #[arg(long, default_value = "zh")]
    lang: String,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CPAUDIT_LISTEN")]
    listen: Option<String>,
    /// Load the demo data set and demo users into an empty database first.
    #[arg(long)]
    demo: bool,
    /// Largest accepted upload in MiB (default 20).
    #[arg(long, env = "CPAUDIT_MAX_UPLOAD_MIB")]
    max_upload_mib: Option<usize>,
    /// Largest document filed on an audit round in MiB (default 50).
    #[arg(long, env = "CPAUDIT_MAX_DOCUMENT_MIB")]
    max_document_mib: Option<usize>,
    /// Hours a login lasts (default 12).
    #[arg(long, env = "CPAUDIT_SESSION_HOURS")]
    session_hours: Option<i64>,
    /// Mark cookies Secure (when served over HTTPS).
    #[arg(long, env = "CPAUDIT_SECURE_COOKIES")]
    secure_cookies: Option<bool>,
    /// Minutes between runs of the deadline notice scheduler (default 10).
    #[arg(long, env = "CPAUDIT_NOTICE_INTERVAL_MINUTES")]
    notice_interval_minutes: Option<u64>,
    /// Queue every fired notice in the notice_outbox table for an external mailer
    /// (default false).
    #[arg(long, env = "CPAUDIT_NOTICE_EMAIL")]
    notice_email: Option<bool>,
    /// Run the HJ 212 receiver for the data loggers on this address (e.g. 0.0.0.0:9212) beside
    /// the web server; its other settings are in the [hj212] section of the configuration file.
    #[arg(long, env = "CPAUDIT_HJ212_LISTEN")]
    hj212_listen: Option<String>,
    /// TEST ONLY: acknowledge HJ 212 packets before they are committed, which breaks the
    /// receiver's promise; it exists to prove that the durability test can fail.
    #[arg(long, hide = true)]
    hj212_ack_before_commit: bool,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input (one line).
    Add {
        username: String,
        /// province | city | enterprise | consultancy | expert
        #[arg(long)]
        role: String,
        /// Name shown in the interface (default: the username).
        #[arg(long)]
        display_name: Option<String>,
        /// For a city user: the jurisdiction code, e.g. 620100.
        #[arg(long)]
        city: Option<String>,
        /// For an enterprise user: the enterprise's credit code.
        #[arg(long)]
        enterprise: Option<String>,
        /// For a consultancy user: the consultancy's id.
        #[arg(long)]
        consultancy: Option<i64>,
        /// For an expert user: the expert's id.
        #[arg(long)]
        expert: Option<i64>,
    },
    /// Set a new password (read from standard input); ends the user's sessions.
    Passwd { username: String },
    /// List accounts.
    List,
    /// Disable an account and end its sessions.
    Disable { username: String },
    /// Enable a disabled account.
    Enable { username: String },
}

#[derive(Debug, Subcommand)]
enum AuditLogCommand {
    /// Recompute the hash chain; prints OK with the entry count and head hash, or the first
    /// broken entry (exit code 1).
    Verify {
        /// The head hash recorded earlier: also detects entries removed from the end.
        #[arg(long)]
        expect_head: Option<String>,
    },
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Number of enterprises to generate.
    #[arg(long, default_value_t = setup::DEMO_ENTERPRISES)]
    scale: usize,
}

pub fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    let (settings, warnings) = match load_settings(&cli) {
        Ok(found) => found,
        Err(error) => {
            eprintln!("error: {error:#}");
            return std::process::ExitCode::from(2);
        }
    };
    init_tracing(&settings.log);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command, settings)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load_settings(cli: &Cli) -> Result<(Settings, Vec<String>)> {
    let path = cli
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("cpaudit.toml"));
    let file = config::read_file(&path, cli.config.is_some())?;
    let warnings = config::unknown_keys(&file, &path, std::env::vars().map(|(name, _)| name));
    let mut overrides = Overrides {
        database_url: cli.database_url.clone(),
        log: cli.log.clone(),
        ..Overrides::default()
    };
    if let Command::Serve(serve) = &cli.command {
        overrides.listen = serve.listen.clone();
        overrides.max_upload_mib = serve.max_upload_mib;
        overrides.max_document_mib = serve.max_document_mib;
        overrides.session_hours = serve.session_hours;
        overrides.secure_cookies = serve.secure_cookies;
        overrides.notice_interval_minutes = serve.notice_interval_minutes;
        overrides.notice_email = serve.notice_email;
        overrides.hj212_listen = serve.hj212_listen.clone();
        overrides.hj212_ack_before_commit = serve.hj212_ack_before_commit;
    }
    Ok((Settings::resolve(overrides, file), warnings))
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

async fn execute(command: Command, settings: Settings) -> Result<std::process::ExitCode> {
    let reference = ReferenceData::gansu();
    match command {
        Command::Serve(args) => crate::serve::run(settings, reference, args.demo).await?,
        Command::Migrate => {
            setup::open_database(&settings.database_url, &reference).await?;
            println!(
                "migrated {}",
                cpaudit_storage::redact_url(&settings.database_url)
            );
        }
        Command::User(command) => user(settings, reference, command).await?,
        Command::AuditLog(AuditLogCommand::Verify { expect_head }) => {
            let db = setup::open_database(&settings.database_url, &reference).await?;
            return Ok(match db.verify_audit_log(expect_head.as_deref()).await? {
                ChainVerdict::Intact { entries, head } => {
                    println!("OK: {entries} entries, head {head}");
                    std::process::ExitCode::SUCCESS
                }
                ChainVerdict::Broken { seq, reason } => {
                    println!("BROKEN at entry {seq}: {reason}");
                    std::process::ExitCode::FAILURE
                }
            });
        }
        Command::Export(args) => export(settings, reference, args).await?,
        Command::Rules(command) => {
            return crate::rules_cmd::run(
                command,
                cpaudit_storage::evidence::china_date(chrono::Utc::now()),
            );
        }
        Command::Determine(args) => {
            crate::determine_cmd::run(&settings.database_url, reference, args).await?;
        }
        Command::Draw(command) => return Ok(crate::draw_cmd::run(command)),
        Command::Hj212(command) => {
            return crate::hj212_cmd::run(command, reference, &settings.database_url).await
        }
        Command::Demo(args) => {
            let db = setup::open_database(&settings.database_url, &reference).await?;
            if !db.is_empty().await? {
                bail!(
                    "the database already holds enterprises; demo data goes into an empty database"
                );
            }
            let started = std::time::Instant::now();
            let data = cpaudit_core::demo::generate(&reference, setup::DEMO_SEED, args.scale);
            let now = chrono::Utc::now();
            let ids = db
                .load_demo(SystemAuthority::console("demo").principal(), &data, now)
                .await?;
            // Evidence, past rounds, a park pilot and this year's list: what the determination
            // and its benchmark work on.
            setup::load_demo_cycle(&db, &reference, &ids, &data, now).await?;
            println!(
                "generated {} enterprises in {:.1} s",
                data.enterprises.len(),
                started.elapsed().as_secs_f64()
            );
            // A few days of online monitoring for a handful of the devices, judged.
            let started = std::time::Instant::now();
            let monitoring =
                crate::demo_monitoring::load_demo_monitoring(&db, &data, setup::DEMO_SEED, now)
                    .await?;
            println!(
                "stored {} monitoring packets of {} devices in {:.2} s and judged {} device-hours \
                 ({} exceedance hours, {} candidate) in {:.2} s; {:.2} s in all",
                monitoring.packets,
                monitoring.devices,
                monitoring.store_time.as_secs_f64(),
                monitoring.report.hours,
                monitoring.report.exceedance_hours,
                monitoring.report.candidates,
                monitoring.judge_time.as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn read_password() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the password from standard input")?;
    let password = text.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        bail!("no password on standard input (pipe it in: echo 'PASSWORD' | cpaudit user …)");
    }
    Ok(password)
}

async fn user(settings: Settings, reference: ReferenceData, command: UserCommand) -> Result<()> {
    let db = setup::open_database(&settings.database_url, &reference).await?;
    let authority =
        SystemAuthority::console(&std::env::var("USER").unwrap_or_else(|_| "console".into()));
    let operator = authority.principal();
    let now = chrono::Utc::now();
    match command {
        UserCommand::Add {
            username,
            role,
            display_name,
            city,
            enterprise,
            consultancy,
            expert,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!(
                    "unknown role {role}: use province, city, enterprise, consultancy or expert"
                )
            })?;
            if let Some(code) = &city {
                if reference.city(code).is_none() {
                    bail!("unknown city code {code}");
                }
            }
            let enterprise_id = match enterprise {
                Some(code) => Some(
                    db.registered_credit_codes(std::slice::from_ref(&code))
                        .await?
                        .get(&code)
                        .map(|(id, _)| *id)
                        .with_context(|| format!("no enterprise with credit code {code}"))?,
                ),
                None => None,
            };
            let password = read_password()?;
            let id = db
                .add_user(
                    operator,
                    &NewUser {
                        display_name: display_name.unwrap_or_else(|| username.clone()),
                        username: username.clone(),
                        password,
                        role,
                        jurisdiction_code: city,
                        enterprise_id,
                        consultancy_id: consultancy,
                        expert_id: expert,
                    },
                    now,
                )
                .await?;
            println!("created user {username} (id {id})");
        }
        UserCommand::Passwd { username } => {
            let password = read_password()?;
            db.set_password(operator, &username, &password, now).await?;
            println!("password of {username} changed; its sessions were ended");
        }
        UserCommand::List => {
            let scope = operator.scope();
            println!(
                "{:<20} {:<12} {:<10} {:<8} NAME",
                "USERNAME", "ROLE", "SCOPE", "STATUS"
            );
            for user in db.list_users(scope).await? {
                let bound = user
                    .jurisdiction_code
                    .clone()
                    .or(user.enterprise_id.map(|id| format!("ent:{id}")))
                    .or(user.consultancy_id.map(|id| format!("con:{id}")))
                    .or(user.expert_id.map(|id| format!("exp:{id}")))
                    .unwrap_or_else(|| "-".into());
                let status = if user.disabled { "disabled" } else { "active" };
                println!(
                    "{:<20} {:<12} {:<10} {:<8} {}",
                    user.username,
                    user.role.as_str(),
                    bound,
                    status,
                    user.display_name
                );
            }
        }
        UserCommand::Disable { username } => {
            db.set_disabled(operator, &username, true, now).await?;
            println!("disabled {username}");
        }
        UserCommand::Enable { username } => {
            db.set_disabled(operator, &username, false, now).await?;
            println!("enabled {username}");
        }
    }
    Ok(())
}

async fn export(settings: Settings, reference: ReferenceData, args: ExportArgs) -> Result<()> {
    let file_name = args.output.display().to_string();
    let format = cpaudit_office::TableFormat::from_file_name(&file_name)
        .with_context(|| format!("{file_name}: the output must end in .xlsx or .csv"))?;
    let language = DocumentLanguage::parse(&args.lang).context("--lang must be zh or en")?;
    let db = setup::open_database(&settings.database_url, &reference).await?;
    let authority = SystemAuthority::console("export");
    let filter = cpaudit_storage::enterprises::EnterpriseFilter {
        city: args.city,
        q: args.q,
        ..Default::default()
    };
    let mut rows = db
        .export_enterprises(authority.principal().scope(), &filter)
        .await?;
    rows.truncate(args.limit.unwrap_or(usize::MAX));
    let file = export_file(&rows, language, format).context("export failed")?;
    std::fs::write(&args.output, file.bytes).with_context(|| format!("writing {file_name}"))?;
    println!("exported {} enterprises to {file_name}", rows.len());
    Ok(())
}
