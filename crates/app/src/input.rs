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
