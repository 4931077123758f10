//! The domain error every use case returns: a kind (what went wrong, which decides the HTTP
//! status a web caller answers with), a stable machine code, the field responsible where one
//! is, and the words in both languages. It knows no HTTP and picks no language.

use cpaudit_core::registry::{FieldError, Message};
use cpaudit_core::rules::RuleError;
use cpaudit_storage::StorageError;

/// What kind of failure an [`Error`] is; presentation maps kinds to statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input in one field or line.
    Invalid,
    /// Several field errors at once (a form or a body that fails validation).
    Validation,
    /// The caller may not do this.
    Forbidden,
    /// The record does not exist or is outside the caller's scope.
    NotFound,
    /// The request is valid but the records' state does not allow it now.
    Conflict,
    /// An input larger than its bound.
    TooLarge,
    /// A file whose content is not of an accepted kind.
    UnsupportedFormat,
    /// A failure of the system, logged and never shown.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input in one field or one line.
    #[error("invalid input ({code})")]
    Invalid {
        code: &'static str,
        message: Message,
        field: Option<String>,
    },
    /// Several field errors at once.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("forbidden")]
    Forbidden(Message),
    /// A refusal with its own code, naming the field responsible where there is one.
    #[error("forbidden ({code})")]
    ForbiddenField {
        code: &'static str,
        message: Message,
        field: Option<String>,
    },
    #[error("not found")]
    NotFound,
    #[error("conflict ({code})")]
    Conflict {
        code: &'static str,
        message: Message,
        field: Option<String>,
    },
    #[error("input larger than {limit_bytes} bytes")]
    TooLarge { limit_bytes: usize },
    #[error("unsupported format")]
    UnsupportedFormat(Message),
    /// A storage failure that is not the caller's doing.
    #[error(transparent)]
    Storage(StorageError),
    /// A rule-book failure (a parameter missing for the date asked about).
    #[error("rule book: {0}")]
    Rule(#[from] RuleError),
    /// Another failure of the system (a generated document that could not be written, a
    /// record naming a form this build does not know); logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid { .. } => ErrorKind::Invalid,
            Error::Validation(_) => ErrorKind::Validation,
            Error::Forbidden(_) | Error::ForbiddenField { .. } => ErrorKind::Forbidden,
            Error::NotFound => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::UnsupportedFormat(_) => ErrorKind::UnsupportedFormat,
            Error::Storage(_) | Error::Rule(_) | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// Bad input in one named field, with the message in both languages.
    pub fn bad_field(field: &str, code: &'static str, zh: &str, en: &str) -> Self {
        Error::Invalid {
            code,
            message: Message::new(zh, en),
            field: Some(field.to_string()),
        }
    }

    pub fn invalid(code: &'static str, field: Option<&str>, message: Message) -> Self {
        Error::Invalid {
            code,
            message,
            field: field.map(str::to_string),
        }
    }

    /// A conflict with the records' state, naming the field responsible where there is one.
    pub fn conflict(code: &'static str, field: Option<&str>, message: Message) -> Self {
        Error::Conflict {
            code,
            message,
            field: field.map(str::to_string),
        }
    }

    /// A refusal tied to a field (e.g. a jurisdiction outside the caller's own).
    pub fn forbidden_field(error: FieldError) -> Self {
        Error::ForbiddenField {
            code: error.code,
            message: error.message,
            field: Some(error.field),
        }
    }

    pub fn forbidden() -> Self {
        Error::Forbidden(Message::new(
            "无权执行此操作",
            "You are not allowed to do this",
        ))
    }
}

impl From<StorageError> for Error {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => Error::NotFound,
            StorageError::Duplicate { field, value } => Error::Conflict {
                code: "duplicate",
                message: Message::new(
                    format!("“{value}”已登记，不能重复"),
                    format!("\"{value}\" is already registered"),
                ),
                field: Some(field.to_string()),
            },
            StorageError::VersionConflict { current } => Error::Conflict {
                code: "version_conflict",
                message: Message::new(
                    format!("该记录已被他人修改（当前版本 {current}），请刷新后重试"),
                    format!("The record was changed by someone else (now version {current}); reload and retry"),
                ),
                field: Some("version".into()),
            },
            StorageError::Conflict { code, message } => Error::Conflict {
                code,
                message,
                field: None,
            },
            StorageError::Refused { code, message } => Error::ForbiddenField {
                code,
                message,
                field: None,
            },
            StorageError::Invalid {
                code,
                field,
                message,
            } => Error::Invalid {
                code,
                message,
                field: Some(field.to_string()),
            },
            other => Error::Storage(other),
        }
    }
}
