//! One application error that renders as JSON for the API and as a page for the UI.
//! Internal causes are logged and never shown to the client.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use cpaudit_core::registry::{FieldError, Message};
use cpaudit_storage::StorageError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::Lang;

#[derive(Debug, Clone)]
pub enum AppError {
    /// Bad input in one field or one line.
    BadRequest {
        code: &'static str,
        message: Message,
        field: Option<String>,
    },
    /// Several field errors at once (form or JSON body).
    Validation(Vec<FieldError>),
    Unauthorized,
    Forbidden(Message),
    /// A refusal that names the field responsible.
    ForbiddenField {
        code: &'static str,
        message: Message,
        field: Option<String>,
    },
    NotFound,
    Conflict {
        code: &'static str,
        message: Message,
        field: Option<String>,
    },
    PayloadTooLarge {
        limit_bytes: usize,
    },
    UnsupportedMediaType(Message),
    TooManyRequests {
        retry_after_seconds: i64,
    },
    Internal,
}

/// The JSON error body: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// Every field error when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldDetail {
    pub code: String,
    pub message: String,
    pub field: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::ForbiddenField { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad_request(code: &'static str, field: Option<&str>, message: Message) -> AppError {
        AppError::BadRequest {
            code,
            message,
            field: field.map(str::to_string),
        }
    }

    /// A refusal tied to a field (e.g. a jurisdiction outside the caller's own).
    pub fn forbidden_field(error: FieldError) -> AppError {
        AppError::ForbiddenField {
            code: error.code,
            message: error.message,
            field: Some(error.field),
        }
    }

    pub fn forbidden() -> AppError {
        AppError::Forbidden(Message::new(
            "无权执行此操作",
            "You are not allowed to do this",
        ))
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::ForbiddenField { code, .. } => code,
            AppError::Validation(errors) => errors.first().map(|e| e.code).unwrap_or("invalid"),
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Internal => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::BadRequest { field, .. }
            | AppError::Conflict { field, .. }
            | AppError::ForbiddenField { field, .. } => field.as_deref(),
            AppError::Validation(errors) => errors.first().map(|e| e.field.as_str()),
            _ => None,
        }
    }

    pub fn message(&self) -> Message {
        match self {
            AppError::BadRequest { message, .. }
            | AppError::Conflict { message, .. }
            | AppError::ForbiddenField { message, .. }
            | AppError::Forbidden(message)
            | AppError::UnsupportedMediaType(message) => message.clone(),
            AppError::Validation(errors) => errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| Message::new("输入无效", "Invalid input")),
            AppError::Unauthorized => Message::new("请先登录", "Authentication required"),
            AppError::NotFound => Message::new("未找到", "Not found"),
            AppError::PayloadTooLarge { limit_bytes } => {
                let limit = byte_size(*limit_bytes as u64);
                Message::new(
                    format!("上传内容过大，上限为 {limit}"),
                    format!("The upload is too large; the limit is {limit}"),
                )
            }
            AppError::TooManyRequests {
                retry_after_seconds,
            } => Message::new(
                format!("登录失败次数过多，请 {retry_after_seconds} 秒后再试"),
                format!("Too many failed logins; try again in {retry_after_seconds} seconds"),
            ),
            AppError::Internal => Message::new(
                "服务器内部错误，已记录，请稍后再试",
                "Internal error; it has been logged, please try again later",
            ),
        }
    }

    /// The JSON rendering, in the language the client asked for.
    pub fn into_json(self, lang: Lang) -> Response {
        let message = self.message();
        let details = match &self {
            AppError::Validation(errors) if errors.len() > 1 => errors
                .iter()
                .map(|e| FieldDetail {
                    code: e.code.to_string(),
                    message: lang.pick(&e.message.zh, &e.message.en).to_string(),
                    field: e.field.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: lang.pick(&message.zh, &message.en).to_string(),
                field: self.field().map(str::to_string),
                details,
            },
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let AppError::TooManyRequests {
            retry_after_seconds,
        } = self
        {
            if let Ok(value) = retry_after_seconds.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// A size in bytes as people read it: "50 MiB", "1.5 KiB", "312 B".
pub fn byte_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    match bytes {
        n if n >= MIB && n % MIB == 0 => format!("{} MiB", n / MIB),
        n if n >= MIB => format!("{:.1} MiB", n as f64 / MIB as f64),
        n if n >= KIB && n % KIB == 0 => format!("{} KiB", n / KIB),
        n if n >= KIB => format!("{:.1} KiB", n as f64 / KIB as f64),
        n => format!("{n} B"),
    }
}

impl AppError {
    /// Bad input in one named field, with the message in both languages.
    pub fn bad_field(field: &str, code: &'static str, zh: &str, en: &str) -> Self {
        AppError::BadRequest {
            code,
            message: Message::new(zh, en),
            field: Some(field.to_string()),
        }
    }
}

impl From<StorageError> for AppError {
    fn from(error: StorageError) -> Self {
        AppError::from(cpaudit_app::Error::from(error))
    }
}

/// A use case's error as the web answers it: the status follows the error's kind.
impl From<cpaudit_app::Error> for AppError {
    fn from(error: cpaudit_app::Error) -> Self {
        use cpaudit_app::Error;
        match error {
            Error::Invalid {
                code,
                message,
                field,
            } => AppError::BadRequest {
                code,
                message,
                field,
            },
            Error::Validation(errors) => AppError::Validation(errors),
            Error::Forbidden(message) => AppError::Forbidden(message),
            Error::ForbiddenField {
                code,
                message,
                field,
            } => AppError::ForbiddenField {
                code,
                message,
                field,
            },
            Error::NotFound => AppError::NotFound,
            Error::Conflict {
                code,
                message,
                field,
            } => AppError::Conflict {
                code,
                message,
                field,
            },
            Error::TooLarge { limit_bytes } => AppError::PayloadTooLarge { limit_bytes },
            Error::UnsupportedFormat(message) => AppError::UnsupportedMediaType(message),
            internal @ (Error::Storage(_) | Error::Rule(_) | Error::Internal(_)) => {
                tracing::error!(error = %internal, "internal error");
                AppError::Internal
            }
        }
    }
}

/// A page-side error: carried to the error-page middleware, which renders it in the caller's
/// language with the navigation.
#[derive(Debug, Clone)]
pub struct PageErrorMarker(pub AppError);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(PageErrorMarker(self));
        response
    }
}

/// An API-side error: rendered as JSON at once (language from Accept-Language, which the
/// API middleware records).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let lang = crate::auth::CURRENT_API_LANG
            .try_with(|lang| *lang)
            .unwrap_or_default();
        self.0.into_json(lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(byte_size(50 * 1024 * 1024), "50 MiB");
        assert_eq!(byte_size(1536 * 1024), "1.5 MiB");
        assert_eq!(byte_size(4096), "4 KiB");
        assert_eq!(byte_size(1536), "1.5 KiB");
        assert_eq!(byte_size(312), "312 B");
        let too_large = AppError::PayloadTooLarge { limit_bytes: 4096 }.message();
        assert_eq!(too_large.zh, "上传内容过大，上限为 4 KiB");
    }
}
