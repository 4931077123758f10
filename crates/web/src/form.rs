//! Page forms: strict decoding and answering a refused form with the same form again.
//!
//! [`PageForm`] decodes a form body strictly: a field left empty counts as absent (so an empty
//! optional number is no number, not a parse error), and a value that does not parse is an
//! error at its field, never dropped.
//!
//! When a page form is refused for its input, the page middleware answers with the page the
//! form is on (the `_page` field, else the Referer), rendered again with a [`Redisplay`]: every
//! submitted value kept and every error beside its field, with the refusal's status.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use cpaudit_core::registry::{FieldError, Message};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::i18n::Lang;

/// The hidden field naming the page a form is on, to answer a refusal with it.
pub const PAGE_FIELD: &str = "_page";

/// The longest value quoted back in a message about it.
const QUOTED_CHARS: usize = 40;

/// A form body decoded strictly; see the module documentation.
#[derive(Debug, Clone)]
pub struct PageForm<T>(pub T);

impl<T, S> FromRequest<S> for PageForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|_| AppError::PayloadTooLarge {
                limit_bytes: crate::auth::MAX_FORM_BYTES,
            })?;
        decode(&bytes).map(PageForm)
    }
}

/// Decodes a urlencoded body into `T`. A field left empty that does not decode as empty (a
/// number, a date, a choice) counts as absent; text fields keep their empty value, so that the
/// use case reports every missing text at once. The first value that does not parse is
/// reported at its field.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    loop {
        let encoded = serde_urlencoded::to_string(&pairs).map_err(|_| AppError::Internal)?;
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
        let error = match serde_path_to_error::deserialize(deserializer) {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let field = error.path().to_string();
        let field = field.trim_start_matches('.');
        let before = pairs.len();
        pairs.retain(|(name, value)| !(name == field && value.trim().is_empty()));
        if pairs.len() == before {
            let reason = error.into_inner().to_string();
            let error = field_error(field, &reason, &pairs);
            return Err(AppError::BadRequest {
                code: error.code,
                message: error.message,
                field: Some(error.field),
            });
        }
    }
}

/// The error of one field that did not decode: missing, or a value of the wrong kind.
fn field_error(field: &str, reason: &str, pairs: &[(String, String)]) -> FieldError {
    if let Some(field) = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return FieldError::new(
            field,
            "required",
            Message::new("此项必填", "this field is required"),
        );
    }
    let value: String = pairs
        .iter()
        .find(|(name, _)| name == field)
        .map(|(_, value)| value.chars().take(QUOTED_CHARS).collect())
        .unwrap_or_default();
    FieldError::new(
        field,
        "invalid_value",
        Message::new(
            format!("“{value}”不是此项可接受的值"),
            format!("\"{value}\" is not a value this field accepts"),
        ),
    )
}

/// What a refused form is answered with: the form's action, the values submitted and the
/// errors, worded in the caller's language.
#[derive(Debug, Clone, Default)]
pub struct Redisplay {
    /// The path the form was posted to, so that a page with several forms keeps only this
    /// one's values.
    pub action: String,
    pub values: Vec<(String, String)>,
    /// Field errors: (field, message).
    pub field_errors: Vec<(String, String)>,
    /// Errors that name no field.
    pub general: Vec<String>,
}

impl Redisplay {
    /// The redisplay of a form refused with `error`, or `None` when the refusal is not about
    /// the input (not found, too large, an internal error…), which keeps its error page.
    pub fn of(
        action: &str,
        values: Vec<(String, String)>,
        error: &AppError,
        lang: Lang,
    ) -> Option<Redisplay> {
        let word = |message: &Message| lang.pick(&message.zh, &message.en).to_string();
        let mut redisplay = Redisplay {
            action: action.to_string(),
            values: values
                .into_iter()
                .filter(|(name, _)| name != "csrf_token" && name != PAGE_FIELD)
                .collect(),
            ..Redisplay::default()
        };
        match error {
            AppError::Validation(errors) => {
                for error in errors {
                    redisplay
                        .field_errors
                        .push((error.field.clone(), word(&error.message)));
                }
            }
            AppError::BadRequest { message, field, .. }
            | AppError::Conflict { message, field, .. }
            | AppError::ForbiddenField { message, field, .. } => match field {
                Some(field) => redisplay.field_errors.push((field.clone(), word(message))),
                None => redisplay.general.push(word(message)),
            },
            _ => return None,
        }
        Some(redisplay)
    }

    /// The value submitted for `field`, if this redisplay is of the form posted to `action`.
    pub fn value(&self, action: &str, field: &str) -> Option<&str> {
        (self.action == action).then(|| {
            self.values
                .iter()
                .find(|(name, _)| name == field)
                .map_or("", |(_, value)| value.as_str())
        })
    }

    /// The error of `field`, if this redisplay is of the form posted to `action`.
    pub fn error(&self, action: &str, field: &str) -> Option<&str> {
        if self.action != action {
            return None;
        }
        self.field_errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
    }
}

/// The page a form is on: its `_page` field, else the Referer's path; only a path of this
/// site, never another origin.
pub fn page_of(
    values: &[(String, String)],
    referer: Option<&header::HeaderValue>,
) -> Option<String> {
    let from_field = values
        .iter()
        .find(|(name, _)| name == PAGE_FIELD)
        .map(|(_, value)| value.clone());
    let from_referer = || {
        let referer = referer?.to_str().ok()?;
        let uri: axum::http::Uri = referer.parse().ok()?;
        uri.path_and_query().map(|p| p.as_str().to_string())
    };
    from_field
        .or_else(from_referer)
        .filter(|path| path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'))
}

/// Renders the page a refused form is on, again, with the form's values and errors: the pages'
/// GET routes, as a router of their own (so that answering never answers again).
#[derive(Clone)]
pub struct Redisplayer(pub axum::Router);

impl Redisplayer {
    /// The page at `page`, for the same session, with `redisplay`, under the refusal's status;
    /// `None` when that page does not render (then the error page answers).
    pub async fn answer(
        &self,
        page: &str,
        cookies: Option<header::HeaderValue>,
        redisplay: Redisplay,
        error: &AppError,
    ) -> Option<axum::response::Response> {
        use tower::ServiceExt;
        let mut request = axum::http::Request::get(page)
            .body(axum::body::Body::empty())
            .ok()?;
        if let Some(cookies) = cookies {
            request.headers_mut().insert(header::COOKIE, cookies);
        }
        request
            .extensions_mut()
            .insert(std::sync::Arc::new(redisplay));
        let mut response = self.0.clone().oneshot(request).await.ok()?;
        if response.status() != axum::http::StatusCode::OK {
            return None;
        }
        *response.status_mut() = error.status();
        Some(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Filing {
        mode: String,
        consultancy_id: Option<i64>,
        #[serde(default)]
        team: String,
        year: i32,
    }

    #[test]
    fn an_empty_optional_number_is_absent_and_an_empty_text_is_empty() {
        let filing: Filing = decode(b"mode=self&consultancy_id=&team=&year=2027").unwrap();
        assert_eq!(filing.consultancy_id, None);
        assert_eq!(filing.team, "");
        assert_eq!((filing.mode.as_str(), filing.year), ("self", 2027));
    }

    /// The field, code and Chinese message of a refused body.
    fn refusal(body: &[u8]) -> (Option<String>, &'static str, String) {
        match decode::<Filing>(body) {
            Err(AppError::BadRequest {
                code,
                message,
                field,
            }) => (field, code, message.zh),
            other => panic!("not refused at a field: {other:?}"),
        }
    }

    #[test]
    fn a_value_that_does_not_parse_is_an_error_at_its_field() {
        let (field, code, message) = refusal(b"mode=self&consultancy_id=abc&year=2027");
        assert_eq!(
            (field.as_deref(), code),
            (Some("consultancy_id"), "invalid_value")
        );
        assert!(message.contains("abc"), "{message}");
    }

    #[test]
    fn a_required_field_left_empty_is_missing_at_its_field() {
        let (field, code, _) = refusal(b"mode=self&year=&team=");
        assert_eq!((field.as_deref(), code), (Some("year"), "required"));
    }

    #[test]
    fn only_a_path_of_this_site_is_a_page_to_answer_with() {
        let page = |value: &str| page_of(&[(PAGE_FIELD.into(), value.into())], None);
        assert_eq!(page("/rounds/1").as_deref(), Some("/rounds/1"));
        assert_eq!(page("//evil.example/x"), None);
        assert_eq!(page("https://evil.example/x"), None);
        let referer = header::HeaderValue::from_static("http://localhost:8080/rounds/2?tab=a");
        assert_eq!(
            page_of(&[], Some(&referer)).as_deref(),
            Some("/rounds/2?tab=a")
        );
    }
}
