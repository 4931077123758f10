//! One handler for an action that a page and the API both offer.
//!
//! An action is declared once in the route table (`routes::action`): its page route, its API
//! route, one access rule and one handler. The handler takes its input as [`Input`] — a form
//! or JSON, by the request's content type, decoded strictly with the field named on a value
//! that does not decode — and answers [`Done`]: the API gets the status and the view, a page
//! a redirect to where the person goes next. A refusal is an [`AppError`] either way; the
//! route's middleware words it as JSON for the API and as the form again (or an error page)
//! for a page.

use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cpaudit_core::registry::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::AppError;

/// An action's input, from a form or from JSON by the content type.
#[derive(Debug, Clone)]
pub struct Input<T>(pub T);

impl<T, S> FromRequest<S> for Input<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, AppError> {
        match read(request).await? {
            Body::Form(bytes) => crate::form::decode(&bytes).map(Input),
            Body::Json(bytes) => json(&bytes).map(Input),
        }
    }
}

/// An input whose page form spells nested or repeated values as fields of their own (an
/// item's text in `item.KEY`, a grid's values in `values.KEY`, one entry per line, a checkbox
/// per choice) where JSON nests them: the form is decoded as it is posted and converted, each
/// problem named at its field.
pub trait FromForm: Sized {
    /// The form as posted.
    type Form: DeserializeOwned;

    fn from_form(form: Self::Form) -> Result<Self, AppError>;
}

/// An action's input of a [`FromForm`] type: JSON decoded as `T`, a form as `T::Form` and
/// converted.
#[derive(Debug, Clone)]
pub struct Shaped<T>(pub T);

impl<T, S> FromRequest<S> for Shaped<T>
where
    T: DeserializeOwned + FromForm,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, AppError> {
        match read(request).await? {
            Body::Form(bytes) => T::from_form(crate::form::decode(&bytes)?).map(Shaped),
            Body::Json(bytes) => json(&bytes).map(Shaped),
        }
    }
}

/// A body read within the form limit, by its content type.
enum Body {
    Form(axum::body::Bytes),
    Json(axum::body::Bytes),
}

async fn read(request: Request) -> Result<Body, AppError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form && !content_type.starts_with("application/json") {
        return Err(AppError::UnsupportedMediaType(Message::new(
            "请以 application/json 或表单（application/x-www-form-urlencoded）提交",
            "send application/json or a form (application/x-www-form-urlencoded)",
        )));
    }
    // The limit named in the refusal is the one read against, not the router's (uploads').
    let limit = crate::auth::MAX_FORM_BYTES;
    let bytes = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| AppError::PayloadTooLarge { limit_bytes: limit })?;
    Ok(if is_form {
        Body::Form(bytes)
    } else {
        Body::Json(bytes)
    })
}

/// A JSON body decoded into `T`; a value that does not decode is an error at its field.
fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        let reason = error.into_inner().to_string();
        AppError::BadRequest {
            code: "invalid_json",
            message: Message::new(
                format!("请求内容无法读取：{reason}"),
                format!("the body cannot be read: {reason}"),
            ),
            field: (field != ".").then_some(field),
        }
    })
}

/// Where a page goes after an action, put on the answer for the page middleware.
#[derive(Debug, Clone)]
pub struct PageOutcome(pub String);

/// What an action did: the status and view the API answers, and the page a person goes to.
#[derive(Debug)]
pub struct Done<V> {
    status: StatusCode,
    view: Option<V>,
    then: String,
    /// The API's `Location` of a record it created.
    location: Option<String>,
}

impl Done<()> {
    /// Done without a view: the API answers 204.
    pub fn then(page: impl Into<String>) -> Self {
        Done {
            status: StatusCode::NO_CONTENT,
            view: None,
            then: page.into(),
            location: None,
        }
    }
}

impl<V: Serialize> Done<V> {
    /// Done with a view, which the API answers with 200.
    pub fn with(view: V, page: impl Into<String>) -> Self {
        Done {
            status: StatusCode::OK,
            view: Some(view),
            then: page.into(),
            location: None,
        }
    }
}

impl<V> Done<V> {
    /// The API answers 201: the action created a record.
    pub fn created(mut self) -> Self {
        self.status = StatusCode::CREATED;
        self
    }

    /// The API answers 201 with the created record's address.
    pub fn created_at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self.created()
    }
}

impl<V: Serialize> IntoResponse for Done<V> {
    fn into_response(self) -> Response {
        let mut response = match self.view {
            Some(view) => (self.status, Json(view)).into_response(),
            None => self.status.into_response(),
        };
        if let Some(value) = self
            .location
            .and_then(|location| header::HeaderValue::from_str(&location).ok())
        {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response.extensions_mut().insert(PageOutcome(self.then));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Lift {
        reason: String,
        #[serde(default)]
        on: Option<chrono::NaiveDate>,
    }

    #[test]
    fn a_json_value_that_does_not_decode_names_its_field() {
        let lift: Lift = json(r#"{"reason": "已整改"}"#.as_bytes()).unwrap();
        assert_eq!((lift.reason.as_str(), lift.on), ("已整改", None));
        let Err(AppError::BadRequest { field, .. }) =
            json::<Lift>(r#"{"reason": "x", "on": "明天"}"#.as_bytes())
        else {
            panic!("accepted");
        };
        assert_eq!(field.as_deref(), Some("on"));
    }

    #[test]
    fn done_carries_the_page_to_go_to_and_the_api_status() {
        let response = Done::then("/notices").into_response();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let page = response.extensions().get::<PageOutcome>().unwrap();
        assert_eq!(page.0, "/notices");
        let response = Done::with(serde_json::json!({"ok": true}), "/x").into_response();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
