//! Settings from (highest first) command-line flags, `CPAUDIT_*` environment variables, an
//! optional `cpaudit.toml`, and defaults. Keys nobody reads are reported, not ignored.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
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
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://cpaudit.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_UPLOAD_MIB: usize = 20;
/// Audit reports with their scanned annexes run to tens of MiB.
pub const DEFAULT_MAX_DOCUMENT_MIB: usize = 50;
pub const DEFAULT_SESSION_HOURS: i64 = 12;
pub const DEFAULT_NOTICE_INTERVAL_MINUTES: u64 =
    cpaudit_web::scheduler::DEFAULT_INTERVAL.as_secs() / 60;
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
    let mut warnings: Vec<String> = file
        .unknown
        .keys()
        .cloned()
        .chain(notice_keys)
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
        }
    }
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
        let file: FileSettings =
            toml::from_str("listn = \"x\"\n[notices]\nemial = true\n").unwrap();
        let warnings = unknown_keys(
            &file,
            Path::new("cpaudit.toml"),
            ["CPAUDIT_LISTEN".to_string(), "CPAUDIT_LISTN".to_string()].into_iter(),
        );
        assert_eq!(warnings.len(), 3);
        assert!(warnings[0].contains("listn"));
        assert!(warnings[1].contains("notices.emial"));
        assert!(warnings[2].contains("CPAUDIT_LISTN"));
    }
}
