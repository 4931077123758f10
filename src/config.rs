//! Settings from (highest first) command-line flags, `CPAUDIT_*` environment variables, an
//! optional `cpaudit.toml`, and defaults. Keys nobody reads are reported, not ignored.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use cpaudit_ingest::ReceiverConfig;
use cpaudit_storage::monitoring::Retention;
use serde::Deserialize;

/// The file settings: every key is optional; unknown keys are collected for a warning.
#[derive(Debug, Default, Deserialize)]
pub struct FileSettings {
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub max_upload_mib: Option<usize>,
    pub max_document_mib: Option<usize>,
    pub session_hours: Option<i64>,
    pub secure_cookies: Option<bool>,
    pub log: Option<String>,
    /// The `[notices]` table.
    #[serde(default)]
    pub notices: NoticeFileSettings,
    /// The `[hj212]` table.
    #[serde(default)]
    pub hj212: Hj212FileSettings,
    /// The `[monitoring]` table.
    #[serde(default)]
    pub monitoring: MonitoringFileSettings,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, toml::Value>,
}

/// The `[notices]` table of the file: the deadline notice scheduler.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeFileSettings {
    pub interval_minutes: Option<u64>,
    pub email: Option<bool>,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, toml::Value>,
}

/// The `[hj212]` table of the file: the HJ 212 receiver. It runs when `listen` (or the
/// `--hj212-listen` flag) is given.
#[derive(Debug, Default, Deserialize)]
pub struct Hj212FileSettings {
    pub listen: Option<String>,
    pub max_connections: Option<usize>,
    pub idle_timeout_secs: Option<u64>,
    pub max_bytes_per_sec: Option<u64>,
    pub max_packets_per_sec: Option<u64>,
    pub max_segment_len: Option<usize>,
    pub store_realtime: Option<bool>,
    pub retention_days_realtime: Option<u32>,
    pub retention_days_minute: Option<u32>,
    pub retention_days_hourly: Option<u32>,
    pub retention_days_daily: Option<u32>,
    pub quarantine_cap: Option<u32>,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, toml::Value>,
}

/// The `[monitoring]` table of the file: how the monitoring pages judge devices.
#[derive(Debug, Default, Deserialize)]
pub struct MonitoringFileSettings {
    /// A device not heard from for longer than this is shown offline.
    pub offline_after_minutes: Option<u32>,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, toml::Value>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub listen: String,
    pub max_upload_mib: usize,
    pub max_document_mib: usize,
    pub session_hours: i64,
    pub secure_cookies: bool,
    pub log: String,
    /// Minutes between two runs of the notice scheduler.
    pub notice_interval_minutes: u64,
    /// Queue every fired notice for an external mailer (`notice_outbox`).
    pub notice_email: bool,
    /// The HJ 212 receiver, when it is to run.
    pub hj212: Option<ReceiverConfig>,
    /// A monitoring device not heard from for longer than this is offline.
    pub device_offline_after_minutes: u32,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://cpaudit.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_UPLOAD_MIB: usize = 20;
/// Audit reports with their scanned annexes run to tens of MiB.
pub const DEFAULT_MAX_DOCUMENT_MIB: usize = 50;
pub const DEFAULT_SESSION_HOURS: i64 = 12;
/// Design: two hours, twice the interval of hourly data, so that one late hourly packet does not
/// flip a device to offline while a device that stopped shows within the morning's first look.
pub const DEFAULT_OFFLINE_AFTER_MINUTES: u32 = 120;
pub const DEFAULT_NOTICE_INTERVAL_MINUTES: u64 = cpaudit_app::jobs::DEFAULT_INTERVAL.as_secs() / 60;
/// sqlx reports PostgreSQL notices (such as "relation already exists, skipping" on every
/// start) at info level; they are noise for an operator.
pub const DEFAULT_LOG: &str = "info,sqlx=warn";

/// Environment variables this program reads (clap reads them through `env = …`), so that a
/// misspelt one can be reported.
pub const KNOWN_ENV: &[&str] = &[
    "CPAUDIT_CONFIG",
    "CPAUDIT_DATABASE_URL",
    "CPAUDIT_LISTEN",
    "CPAUDIT_MAX_UPLOAD_MIB",
    "CPAUDIT_MAX_DOCUMENT_MIB",
    "CPAUDIT_SESSION_HOURS",
    "CPAUDIT_SECURE_COOKIES",
    "CPAUDIT_LOG",
    "CPAUDIT_NOTICE_INTERVAL_MINUTES",
    "CPAUDIT_NOTICE_EMAIL",
    "CPAUDIT_HJ212_LISTEN",
    // Read by the test suite, not by the program.
    "CPAUDIT_TEST_DATABASE_URL",
];

/// Reads the file if it exists. An explicitly named file must exist.
pub fn read_file(path: &Path, explicit: bool) -> Result<FileSettings> {
    if !path.exists() {
        if explicit {
            anyhow::bail!("configuration file {} does not exist", path.display());
        }
        return Ok(FileSettings::default());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration file {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("configuration file {} is not valid", path.display()))
}

/// Warnings about keys nobody reads, in the file and in the environment.
pub fn unknown_keys(
    file: &FileSettings,
    file_path: &Path,
    env: impl Iterator<Item = String>,
) -> Vec<String> {
    let notice_keys = file
        .notices
        .unknown
        .keys()
        .map(|key| format!("notices.{key}"));
    let hj212_keys = file.hj212.unknown.keys().map(|key| format!("hj212.{key}"));
    let monitoring_keys = file
        .monitoring
        .unknown
        .keys()
        .map(|key| format!("monitoring.{key}"));
    let mut warnings: Vec<String> = file
        .unknown
        .keys()
        .cloned()
        .chain(notice_keys)
        .chain(hj212_keys)
        .chain(monitoring_keys)
        .map(|key| format!("unknown key `{key}` in {} (ignored)", file_path.display()))
        .collect();
    warnings.extend(
        env.filter(|name| name.starts_with("CPAUDIT_") && !KNOWN_ENV.contains(&name.as_str()))
            .map(|name| format!("unknown environment variable {name} (ignored)")),
    );
    warnings
}

/// Command-line (and environment) values; `None` where neither was given.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub max_upload_mib: Option<usize>,
    pub max_document_mib: Option<usize>,
    pub session_hours: Option<i64>,
    pub secure_cookies: Option<bool>,
    pub log: Option<String>,
    pub notice_interval_minutes: Option<u64>,
    pub notice_email: Option<bool>,
    pub hj212_listen: Option<String>,
    /// Test only: acknowledge HJ 212 packets before they are committed.
    pub hj212_ack_before_commit: bool,
}

impl Settings {
    pub fn resolve(overrides: Overrides, file: FileSettings) -> Settings {
        Settings {
            database_url: overrides
                .database_url
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            listen: overrides
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            max_upload_mib: overrides
                .max_upload_mib
                .or(file.max_upload_mib)
                .unwrap_or(DEFAULT_MAX_UPLOAD_MIB),
            max_document_mib: overrides
                .max_document_mib
                .or(file.max_document_mib)
                .unwrap_or(DEFAULT_MAX_DOCUMENT_MIB),
            session_hours: overrides
                .session_hours
                .or(file.session_hours)
                .unwrap_or(DEFAULT_SESSION_HOURS),
            secure_cookies: overrides
                .secure_cookies
                .or(file.secure_cookies)
                .unwrap_or(false),
            log: overrides
                .log
                .or(file.log)
                .unwrap_or_else(|| DEFAULT_LOG.into()),
            notice_interval_minutes: overrides
                .notice_interval_minutes
                .or(file.notices.interval_minutes)
                .unwrap_or(DEFAULT_NOTICE_INTERVAL_MINUTES)
                // Zero would make the scheduler spin; one minute is the shortest interval.
                .max(1),
            notice_email: overrides
                .notice_email
                .or(file.notices.email)
                .unwrap_or(false),
            hj212: hj212_config(
                overrides.hj212_listen,
                overrides.hj212_ack_before_commit,
                file.hj212,
            ),
            // Zero would show every device offline; one minute is the shortest threshold.
            device_offline_after_minutes: file
                .monitoring
                .offline_after_minutes
                .unwrap_or(DEFAULT_OFFLINE_AFTER_MINUTES)
                .max(1),
        }
    }
}

/// The receiver's settings: `None` unless an address to listen on was given.
fn hj212_config(
    listen: Option<String>,
    ack_before_commit: bool,
    file: Hj212FileSettings,
) -> Option<ReceiverConfig> {
    let defaults = ReceiverConfig::default();
    let retention = Retention::default();
    Some(ReceiverConfig {
        listen: listen.or(file.listen)?,
        max_connections: file.max_connections.unwrap_or(defaults.max_connections),
        idle_timeout: file
            .idle_timeout_secs
            .map_or(defaults.idle_timeout, std::time::Duration::from_secs),
        max_bytes_per_sec: file.max_bytes_per_sec.unwrap_or(defaults.max_bytes_per_sec),
        max_packets_per_sec: file
            .max_packets_per_sec
            .unwrap_or(defaults.max_packets_per_sec),
        max_segment_len: file.max_segment_len.unwrap_or(defaults.max_segment_len),
        store_realtime: file.store_realtime.unwrap_or(defaults.store_realtime),
        retention: Retention {
            realtime_days: file
                .retention_days_realtime
                .unwrap_or(retention.realtime_days),
            minute_days: file.retention_days_minute.unwrap_or(retention.minute_days),
            hourly_days: file.retention_days_hourly.unwrap_or(retention.hourly_days),
            daily_days: file.retention_days_daily.unwrap_or(retention.daily_days),
        },
        quarantine_cap: file.quarantine_cap.unwrap_or(defaults.quarantine_cap),
        ack_before_commit,
        ..defaults
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file: FileSettings =
            toml::from_str("listen = \"0.0.0.0:9000\"\nmax_upload_mib = 5\n").unwrap();
        let settings = Settings::resolve(
            Overrides {
                max_upload_mib: Some(7),
                ..Overrides::default()
            },
            file,
        );
        assert_eq!(settings.listen, "0.0.0.0:9000");
        assert_eq!(settings.max_upload_mib, 7);
        assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(settings.max_document_mib, DEFAULT_MAX_DOCUMENT_MIB);
    }

    #[test]
    fn notices_run_every_ten_minutes_without_e_mail_unless_the_file_says_otherwise() {
        let defaults = Settings::resolve(Overrides::default(), FileSettings::default());
        assert_eq!(defaults.notice_interval_minutes, 10);
        assert!(!defaults.notice_email);
        let file: FileSettings =
            toml::from_str("[notices]\ninterval_minutes = 5\nemail = true\n").unwrap();
        let settings = Settings::resolve(Overrides::default(), file);
        assert_eq!(settings.notice_interval_minutes, 5);
        assert!(settings.notice_email);
    }

    #[test]
    fn unknown_keys_are_reported() {
        let file: FileSettings = toml::from_str(
            "listn = \"x\"\n[notices]\nemial = true\n[hj212]\nlisen = \"0.0.0.0:1\"\n",
        )
        .unwrap();
        let warnings = unknown_keys(
            &file,
            Path::new("cpaudit.toml"),
            [
                "CPAUDIT_LISTEN".to_string(),
                "CPAUDIT_HJ212_LISTEN".to_string(),
                "CPAUDIT_LISTN".to_string(),
            ]
            .into_iter(),
        );
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings[0].contains("listn"));
        assert!(warnings[1].contains("notices.emial"));
        assert!(warnings[2].contains("hj212.lisen"));
        assert!(warnings[3].contains("CPAUDIT_LISTN"));
    }

    #[test]
    fn devices_go_offline_after_two_hours_unless_the_file_says_otherwise() {
        let defaults = Settings::resolve(Overrides::default(), FileSettings::default());
        assert_eq!(defaults.device_offline_after_minutes, 120);
        let file: FileSettings =
            toml::from_str("[monitoring]\noffline_after_minutes = 30\nofline = 1\n").unwrap();
        let warnings = unknown_keys(&file, Path::new("cpaudit.toml"), std::iter::empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("monitoring.ofline"));
        let settings = Settings::resolve(Overrides::default(), file);
        assert_eq!(settings.device_offline_after_minutes, 30);
        let file: FileSettings =
            toml::from_str("[monitoring]\noffline_after_minutes = 0\n").unwrap();
        assert_eq!(
            Settings::resolve(Overrides::default(), file).device_offline_after_minutes,
            1
        );
    }

    #[test]
    fn the_receiver_runs_only_with_an_address_and_reads_its_section() {
        let defaults = Settings::resolve(Overrides::default(), FileSettings::default());
        assert!(defaults.hj212.is_none());
        let file: FileSettings = toml::from_str(
            "[hj212]\nlisten = \"0.0.0.0:9212\"\nmax_connections = 50\nidle_timeout_secs = 30\n\
             max_bytes_per_sec = 0\nmax_packets_per_sec = 10\nmax_segment_len = 2048\n\
             store_realtime = true\nretention_days_realtime = 3\nretention_days_minute = 400\n\
             retention_days_hourly = 0\nretention_days_daily = 3650\nquarantine_cap = 5\n",
        )
        .unwrap();
        assert!(file.hj212.unknown.is_empty());
        let settings = Settings::resolve(
            Overrides {
                hj212_listen: Some("127.0.0.1:0".into()),
                ..Overrides::default()
            },
            file,
        );
        let hj212 = settings.hj212.unwrap();
        assert_eq!(hj212.listen, "127.0.0.1:0", "the flag beats the file");
        assert_eq!(hj212.max_connections, 50);
        assert_eq!(hj212.idle_timeout, std::time::Duration::from_secs(30));
        assert_eq!(
            (hj212.max_bytes_per_sec, hj212.max_packets_per_sec),
            (0, 10)
        );
        assert_eq!(hj212.max_segment_len, 2048);
        assert!(hj212.store_realtime);
        assert_eq!(
            hj212.retention,
            Retention {
                realtime_days: 3,
                minute_days: 400,
                hourly_days: 0,
                daily_days: 3650
            }
        );
        assert_eq!(hj212.quarantine_cap, 5);
        assert!(!hj212.ack_before_commit);
        let file: FileSettings = toml::from_str("[hj212]\nlisten = \"0.0.0.0:9212\"\n").unwrap();
        let hj212 = Settings::resolve(Overrides::default(), file).hj212.unwrap();
        assert_eq!(hj212.retention, Retention::default());
        assert!(!hj212.store_realtime);
    }
}
