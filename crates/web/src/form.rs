//! Page forms: strict decoding and answering a refused form with the same form again.
//!
//! [`decode`] reads a form body strictly (for `action::Input`): a non-text field left empty
//! counts as absent (so an empty optional number is no number, not a parse error), and a value
//! that does not parse is an error at its field, never dropped.
//!
//! When a page form is refused for its input, the page middleware answers with the page the
//! form is on (the `_page` field, else the Referer), rendered again with a [`Redisplay`]: every
//! submitted value kept and every error beside its field, with the refusal's status.

use axum::http::header;
use cpaudit_core::registry::{FieldError, Message};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::i18n::Lang;

/// The hidden field naming the page a form is on, to answer a refusal with it.
pub const PAGE_FIELD: &str = "_page";

/// The largest page a refused form is answered with (pages are far smaller).
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// The longest value quoted back in a message about it.
const QUOTED_CHARS: usize = 40;

/// Decodes a urlencoded body into `T`. A field left empty that does not decode as empty (a
/// number, a date, a choice) counts as absent; text fields keep their empty value, so that the
/// use case reports every missing text at once. The first value that does not parse is
/// reported at its field.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    // The CSRF token (checked before) and the page (for a refusal) are not the action's input.
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body)
        .into_owned()
        .filter(|(name, _)| name != "csrf_token" && name != PAGE_FIELD)
        .collect();
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

/// The page's HTML with the refused form filled in: each field of the form posted to the
/// redisplay's action gets the value submitted (a choice its option, a box its check), and
/// each field with an error gets the error beside it — unless the template already placed it
/// (the field then names its error with `aria-describedby`). Where a page has several forms
/// posting to the same action (one per row), only the one whose hidden fields match what was
/// submitted is filled. Passwords and files are never filled in again.
pub fn refill(
    html: &str,
    redisplay: &Redisplay,
) -> Result<String, lol_html::errors::RewritingError> {
    let form = format!("form[action=\"{}\"]", css_string(&redisplay.action));
    match submitted_form(html, &form, redisplay)? {
        Some(index) => fill(html, &form, index, redisplay),
        None => Ok(html.to_string()),
    }
}

/// Which of the page's forms posting to the action was submitted: the first whose hidden
/// fields (but the CSRF token and the page) hold what was submitted.
fn submitted_form(
    html: &str,
    form: &str,
    redisplay: &Redisplay,
) -> Result<Option<usize>, lol_html::errors::RewritingError> {
    use lol_html::{element, rewrite_str, RewriteStrSettings};
    use std::cell::RefCell;

    let matches: RefCell<Vec<bool>> = RefCell::new(Vec::new());
    let hidden = format!("{form} input[type=hidden][name]");
    let settings = RewriteStrSettings {
        element_content_handlers: vec![
            element!(form, |_| {
                matches.borrow_mut().push(true);
                Ok(())
            }),
            element!(hidden, |el| {
                let name = el.get_attribute("name").unwrap_or_default();
                if name == "csrf_token" || name == PAGE_FIELD {
                    return Ok(());
                }
                let value = el.get_attribute("value").unwrap_or_default();
                let held = redisplay
                    .values
                    .iter()
                    .any(|(n, v)| *n == name && *v == value);
                if let Some(last) = matches.borrow_mut().last_mut() {
                    *last &= held;
                }
                Ok(())
            }),
        ],
        ..RewriteStrSettings::new()
    };
    rewrite_str(html, settings)?;
    let found = matches.borrow().iter().position(|matched| *matched);
    Ok(found)
}

/// Fills the `index`th form posting to the action; see [`refill`].
fn fill(
    html: &str,
    form: &str,
    index: usize,
    redisplay: &Redisplay,
) -> Result<String, lol_html::errors::RewritingError> {
    use lol_html::html_content::{ContentType, Element};
    use lol_html::{element, rewrite_str, RewriteStrSettings};
    use std::cell::{Cell, RefCell};
    use std::collections::HashSet;

    let submitted = |name: &str| {
        redisplay
            .values
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let was_submitted = |name: &str| redisplay.values.iter().any(|(n, _)| n == name);
    let has_value = |name: &str, value: &str| {
        redisplay
            .values
            .iter()
            .any(|(n, v)| n == name && v == value)
    };
    let forms_seen = Cell::new(0usize);
    let in_form = || forms_seen.get() == index + 1;
    let placed: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    let mark = |element: &mut Element, name: &str| {
        let Some((_, message)) = redisplay.field_errors.iter().find(|(f, _)| f == name) else {
            return;
        };
        if element.has_attribute("aria-describedby")
            || !placed.borrow_mut().insert(name.to_string())
        {
            return;
        }
        let id = format!("{name}-error");
        // The names are the form's own, so these attributes are valid.
        let _ = element.set_attribute("aria-invalid", "true");
        let _ = element.set_attribute("aria-describedby", &id);
        element.after(
            &format!(
                "<p class=\"field-error\" id=\"{}\">{}</p>",
                escape(&id),
                escape(message)
            ),
            ContentType::Html,
        );
    };
    let select_name: RefCell<String> = RefCell::new(String::new());
    let inputs = format!("{form} input[name]");
    let textareas = format!("{form} textarea[name]");
    let selects = format!("{form} select[name]");
    let options = format!("{form} select option");
    let settings = RewriteStrSettings {
        element_content_handlers: vec![
            element!(form, |_| {
                forms_seen.set(forms_seen.get() + 1);
                Ok(())
            }),
            element!(inputs, |el| {
                if !in_form() {
                    return Ok(());
                }
                let name = el.get_attribute("name").unwrap_or_default();
                let kind = el
                    .get_attribute("type")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                match kind.as_str() {
                    "hidden" | "submit" | "button" | "file" | "password" => return Ok(()),
                    "checkbox" | "radio" => {
                        let value = el.get_attribute("value").unwrap_or_else(|| "on".into());
                        if has_value(&name, &value) {
                            if !el.has_attribute("checked") {
                                el.set_attribute("checked", "")?;
                            }
                        } else {
                            el.remove_attribute("checked");
                        }
                    }
                    // lol_html escapes only quotes in attributes: an ampersand typed stays one.
                    _ => el.set_attribute("value", &submitted(&name).replace('&', "&amp;"))?,
                }
                mark(el, &name);
                Ok(())
            }),
            element!(textareas, |el| {
                if !in_form() {
                    return Ok(());
                }
                let name = el.get_attribute("name").unwrap_or_default();
                el.set_inner_content(submitted(&name), ContentType::Text);
                mark(el, &name);
                Ok(())
            }),
            element!(selects, |el| {
                if !in_form() {
                    return Ok(());
                }
                let name = el.get_attribute("name").unwrap_or_default();
                mark(el, &name);
                *select_name.borrow_mut() = name;
                Ok(())
            }),
            element!(options, |el| {
                let name = select_name.borrow().clone();
                if !in_form() || !was_submitted(&name) {
                    return Ok(());
                }
                let value = el.get_attribute("value").unwrap_or_default();
                if has_value(&name, &value) {
                    if !el.has_attribute("selected") {
                        el.set_attribute("selected", "")?;
                    }
                } else {
                    el.remove_attribute("selected");
                }
                Ok(())
            }),
        ],
        ..RewriteStrSettings::new()
    };
    rewrite_str(html, settings)
}

/// A value inside a double-quoted CSS attribute selector.
fn css_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
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
            .insert(std::sync::Arc::new(redisplay.clone()));
        let response = self.0.clone().oneshot(request).await.ok()?;
        if response.status() != axum::http::StatusCode::OK {
            return None;
        }
        let (mut parts, body) = response.into_parts();
        let page = axum::body::to_bytes(body, MAX_PAGE_BYTES).await.ok()?;
        let page = String::from_utf8(page.to_vec()).ok()?;
        let filled = refill(&page, &redisplay).ok()?;
        parts.status = error.status();
        parts.headers.remove(header::CONTENT_LENGTH);
        Some(axum::response::Response::from_parts(
            parts,
            axum::body::Body::from(filled),
        ))
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

    fn redisplay(action: &str, values: &[(&str, &str)], errors: &[(&str, &str)]) -> Redisplay {
        let pairs = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        Redisplay {
            action: action.into(),
            values: pairs(values),
            field_errors: pairs(errors),
            general: Vec::new(),
        }
    }

    #[test]
    fn the_refused_form_is_filled_with_what_was_typed_and_each_error_beside_its_field() {
        let page = r#"<form action="/other"><input name="title" value="x"></form>
<form method="post" action="/plans"><input type="hidden" name="csrf_token" value="t">
<input name="title" value=""><input type="password" name="secret">
<textarea name="plan">old</textarea>
<select name="kind"><option value="a" selected>A</option><option value="b">B</option></select>
<input type="checkbox" name="agree" value="yes"></form>"#;
        let filled = refill(
            page,
            &redisplay(
                "/plans",
                &[
                    ("title", "新<标题> & &amp;"),
                    ("secret", "pw"),
                    ("plan", "计划"),
                    ("kind", "b"),
                    ("agree", "yes"),
                ],
                &[("plan", "请填写\"计划\"")],
            ),
        )
        .unwrap();
        assert!(
            filled.contains(r#"<input name="title" value="x">"#),
            "other forms untouched"
        );
        assert!(
            filled.contains(r#"value="新<标题> &amp; &amp;amp;""#),
            "{filled}"
        );
        assert!(!filled.contains("pw"), "passwords are never filled in");
        assert!(filled.contains(r#"aria-describedby="plan-error">计划</textarea><p class="field-error" id="plan-error">请填写&quot;计划&quot;</p>"#), "{filled}");
        assert!(
            filled.contains(
                r#"<option value="a">A</option><option value="b" selected="">B</option>"#
            ),
            "{filled}"
        );
        assert!(
            filled.contains(r#"name="agree" value="yes" checked="""#),
            "{filled}"
        );
    }

    #[test]
    fn of_forms_posting_to_one_action_only_the_submitted_row_is_filled() {
        let page = r#"<form action="/moves"><input type="hidden" name="id" value="1"><input name="reason"></form>
<form action="/moves"><input type="hidden" name="id" value="2"><input name="reason" aria-describedby="mine"></form>"#;
        let filled = refill(
            page,
            &redisplay(
                "/moves",
                &[("id", "2"), ("reason", "太忙")],
                &[("reason", "理由不足")],
            ),
        )
        .unwrap();
        assert!(
            filled.contains(r#"value="1"><input name="reason"></form>"#),
            "{filled}"
        );
        assert!(
            filled.contains(r#"<input name="reason" aria-describedby="mine" value="太忙">"#),
            "{filled}"
        );
        assert!(
            !filled.contains("field-error"),
            "the template placed its own error: {filled}"
        );
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
