//! Checks of typed text that several use cases share.

use chrono::NaiveDate;
use cpaudit_core::registry::FieldError;
use cpaudit_storage::evidence::parse_date;

use crate::{Error, Result};

/// The field problems of one input, gathered so that a form is answered with every problem at
/// once rather than the first one found.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// The checked value, or `None` with its field's problem kept; a failure that is not a
    /// field's (a missing record, a storage failure) is returned at once.
    pub fn check<T>(&mut self, checked: Result<T>) -> Result<Option<T>> {
        match checked {
            Ok(value) => Ok(Some(value)),
            Err(Error::Invalid {
                code,
                message,
                field: Some(field),
            }) => {
                self.0.push(FieldError {
                    field,
                    code,
                    message,
                });
                Ok(None)
            }
            Err(Error::Validation(errors)) => {
                self.0.extend(errors);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// The value built from the checked fields when none had a problem; otherwise the one
    /// problem as it was found, or every problem.
    pub fn finish<T>(mut self, value: Option<T>) -> Result<T> {
        match (value, self.0.len()) {
            (Some(value), 0) => Ok(value),
            (_, 1) => {
                let problem = self.0.remove(0);
                Err(Error::Invalid {
                    code: problem.code,
                    message: problem.message,
                    field: Some(problem.field),
                })
            }
            _ => Err(Error::Validation(self.0)),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_problem_is_reported_at_once_and_one_alone_as_it_was_found() {
        let mut problems = Problems::default();
        let reason = problems.check(required_reason("note", " ")).unwrap();
        let day = problems
            .check(optional_date("valid_from", "2027-02-30"))
            .unwrap();
        let Err(Error::Validation(errors)) = problems.finish(reason.zip(day)) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["note", "valid_from"]);

        let mut problems = Problems::default();
        let day = problems.check(optional_date("valid_from", "明天")).unwrap();
        let Err(Error::Invalid { field, .. }) = problems.finish(day) else {
            panic!("not one field's problem");
        };
        assert_eq!(field.as_deref(), Some("valid_from"));
    }

    #[test]
    fn a_failure_that_is_no_field_s_is_returned_at_once() {
        let mut problems = Problems::default();
        assert!(matches!(
            problems.check::<()>(Err(Error::NotFound)),
            Err(Error::NotFound)
        ));
    }
}
