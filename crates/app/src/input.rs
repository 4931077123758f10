//! Checks of typed text that several use cases share.

use chrono::NaiveDate;
use cpaudit_storage::evidence::parse_date;

use crate::{Error, Result};

/// An optional day written YYYY-MM-DD: empty is `None`; anything else that is not a valid
/// date is refused naming the field.
pub fn optional_date(field: &str, text: &str) -> Result<Option<NaiveDate>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse_date(text).map(Some).ok_or_else(|| {
        Error::bad_field(
            field,
            "invalid_date",
            &format!("{field} 应为 YYYY-MM-DD 格式的有效日期"),
            &format!("{field} must be a valid date written YYYY-MM-DD"),
        )
    })
}

/// A day written YYYY-MM-DD, or `default` when the text is empty.
pub fn date_or(field: &str, text: Option<&str>, default: NaiveDate) -> Result<NaiveDate> {
    Ok(optional_date(field, text.unwrap_or_default())?.unwrap_or(default))
}

/// A list year: 2003 (the cleaner production law) to 2100.
pub fn list_year(year: i32) -> Result<i32> {
    if (2003..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(Error::bad_field(
            "year",
            "invalid_year",
            "年份应在 2003 至 2100 之间",
            "year must be between 2003 and 2100",
        ))
    }
}

/// A reason the action requires.
pub fn required_reason(field: &str, reason: &str) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(Error::bad_field(
            field,
            "required",
            "必须填写理由",
            "a reason is required",
        ));
    }
    Ok(())
}

/// Yes/no as people type it in forms and spreadsheets; empty is no.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" | "on" => Some(true),
        "false" | "0" | "no" | "n" | "否" | "" => Some(false),
        _ => None,
    }
}
