//! Storage for cpaudit: one [`Db`] over SQLite or PostgreSQL, the embedded migrations, and the
//! repositories. Every read of scoped data takes a [`Scope`], which only authentication
//! ([`auth`]) can create, so a query that forgets the caller's jurisdiction does not compile.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
mod coded;
pub mod columns;
pub mod consultancies;
mod db;
pub mod disclosures;
pub mod documents;
pub mod draws;
pub mod enforcement;
pub mod enterprises;
pub mod evidence;
pub mod experts;
mod in_scope;
pub mod json_column;
pub mod lists;
pub mod monitoring;
pub mod monitoring_judgement;
pub mod monitoring_views;
pub mod notices;
pub mod options;
pub mod park_audits;
pub mod registry;
pub mod reviews;
pub mod rounds;
mod sql;

pub use auth::{Principal, Role, Scope};
pub use columns::{Reasons, ToxicCategories};
pub use db::{migration_versions, redact_url, Backend, Db, Tx};
pub(crate) use db::{on_pool, on_tx};
pub use in_scope::InScope;
pub use json_column::JsonColumn;

use cpaudit_core::registry::Message;
use thiserror::Error;

/// Errors from storage. Constraint violations are mapped by kind (SQLite names no constraint).
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("{field} already exists: {value}")]
    Duplicate { field: &'static str, value: String },
    #[error("the record was changed by someone else (version {current})")]
    VersionConflict { current: i64 },
    /// The records' state does not allow the change now (already lifted, already decided, not
    /// open…); retrying the same request will not help until the state changes.
    #[error("conflict ({code}): {}", message.en)]
    Conflict {
        code: &'static str,
        message: Message,
    },
    /// The caller may not do this to this record.
    #[error("refused ({code}): {}", message.en)]
    Refused {
        code: &'static str,
        message: Message,
    },
    /// Input the store checks itself, behind the callers' own validation, naming its field.
    #[error("invalid {field} ({code}): {}", message.en)]
    Invalid {
        code: &'static str,
        field: &'static str,
        message: Message,
    },
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A stored value this version does not know (written by a newer version, or by hand): the
    /// read fails rather than take it for another value.
    #[error("{table} row {row_id}: unknown {column} {value:?}")]
    Corrupt {
        table: &'static str,
        row_id: i64,
        column: &'static str,
        value: String,
    },
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the database is busy: another write held it for more than {0} s")]
    WriteBusy(u64),
}

impl StorageError {
    pub(crate) fn conflict(
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        StorageError::Conflict {
            code,
            message: Message::new(zh, en),
        }
    }

    pub(crate) fn refused(
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        StorageError::Refused {
            code,
            message: Message::new(zh, en),
        }
    }

    pub(crate) fn invalid(
        field: &'static str,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        StorageError::Invalid {
            code,
            field,
            message: Message::new(zh, en),
        }
    }

    /// Whether the error is a unique-constraint violation (on either database).
    pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            // A typed row that failed to decode (see `decoded_row!`) carries its own error.
            sqlx::Error::Decode(source) => match source.downcast::<StorageError>() {
                Ok(own) => *own,
                Err(source) => StorageError::Database(sqlx::Error::Decode(source)),
            },
            other => StorageError::Database(other),
        }
    }
}

/// Implements `sqlx::FromRow` on both backends for a row type that is read as its stored form
/// (`$stored`, deriving `FromRow`) and then decoded by `$stored::decode`, so that every query
/// reading the row decodes it and a value the code does not know fails the read.
macro_rules! decoded_row {
    ($row:ty, $stored:ty) => {
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $row {
            fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> sqlx::Result<Self> {
                <$stored as sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>>::from_row(row)?
                    .decode()
                    .map_err(|error| sqlx::Error::Decode(Box::new(error)))
            }
        }

        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $row {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
                <$stored as sqlx::FromRow<'r, sqlx::postgres::PgRow>>::from_row(row)?
                    .decode()
                    .map_err(|error| sqlx::Error::Decode(Box::new(error)))
            }
        }
    };
}
pub(crate) use decoded_row;

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The current time as stored: UTC, RFC 3339 with microseconds. Tests pass fixed times where it
/// matters; the server uses the wall clock.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
