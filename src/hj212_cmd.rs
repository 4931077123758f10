//! `cpaudit hj212 evaluate`: the judgement of the stored online-monitoring data, run once from
//! the command line (the server runs it on every scheduler tick).

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use cpaudit_core::emission_limits::EmissionLimits;
use cpaudit_core::reference::ReferenceData;
use cpaudit_core::rules::RuleBook;
use cpaudit_storage::monitoring_judgement::EvaluateOptions;

use crate::setup;

#[derive(Debug, Subcommand)]
pub enum Hj212Command {
    /// Evaluate the hours that have settled and were not evaluated yet: hourly and daily means,
    /// exceedances, invalid and missing-data periods, loads, and candidate evidence. Prints what
    /// it did as one JSON line. Re-running creates nothing new.
    Evaluate {
        /// Evaluate as at this instant (RFC 3339, e.g. 2027-01-15T09:00:00+08:00; default now).
        #[arg(long)]
        now: Option<DateTime<Utc>>,
        /// Minutes after an hour's end before it is evaluated, so that late packets are in.
        #[arg(long, default_value_t = 60)]
        settle_minutes: i64,
        /// At most this many days per device in one run.
        #[arg(long, default_value_t = 31)]
        max_days: u32,
    },
}

pub async fn run(
    database_url: &str,
    reference: &ReferenceData,
    command: Hj212Command,
) -> Result<()> {
    match command {
        Hj212Command::Evaluate {
            now,
            settle_minutes,
            max_days,
        } => {
            let db = setup::open_database(database_url, reference).await?;
            let options = EvaluateOptions {
                settle: chrono::Duration::minutes(settle_minutes.max(0)),
                max_days_per_device: max_days.max(1),
            };
            let report = db
                .evaluate_monitoring(
                    &EmissionLimits::embedded(),
                    &RuleBook::embedded(),
                    now.unwrap_or_else(Utc::now),
                    &options,
                )
                .await
                .context("evaluating the monitoring data")?;
            println!("{}", serde_json::to_string(&report)?);
            db.close().await;
            Ok(())
        }
    }
}
