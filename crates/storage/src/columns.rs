//! Typed columns: states, statuses, kinds, reason codes and dates are stored as text and decoded
//! into their Rust types when a row is read. A value this version does not know fails the read
//! with [`StorageError::Corrupt`], naming the table, the row, the column and the value, instead
//! of passing for another value or for nothing.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use cpaudit_core::deadlines::{DeadlineKind, NoticeKind};
use cpaudit_core::determination::Reason;
use cpaudit_core::enforcement::Outcome;
use cpaudit_core::listing::{ClockKind, PlanStatus};
use cpaudit_core::monitoring::Basis;
use cpaudit_core::options::{CostClass, OptionStatus, Stage};
use cpaudit_core::planning::Placement;
use cpaudit_core::round::{
    AuditMode, DocumentKind, ReviewConclusion, ReviewKind, RoundAction, RoundState, Track,
};
use cpaudit_core::rules::PenaltyKind;
use serde::{Serialize, Serializer};

use crate::{Result, StorageError};

/// The row being decoded, named in the error of a value the code does not know.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoredRow {
    table: &'static str,
    id: i64,
}

impl StoredRow {
    pub(crate) fn new(table: &'static str, id: i64) -> Self {
        StoredRow { table, id }
    }

    /// The value stored as `text` in `column`.
    pub(crate) fn read<T: StoredText>(&self, column: &'static str, text: &str) -> Result<T> {
        T::from_text(text).ok_or_else(|| self.corrupt(column, text))
    }

    /// A nullable column: NULL is `None`, text is read as by [`StoredRow::read`].
    pub(crate) fn read_optional<T: StoredText>(
        &self,
        column: &'static str,
        text: Option<&str>,
    ) -> Result<Option<T>> {
        text.map(|text| self.read(column, text)).transpose()
    }

    pub(crate) fn corrupt(&self, column: &'static str, value: &str) -> StorageError {
        StorageError::Corrupt {
            table: self.table,
            row_id: self.id,
            column,
            value: value.to_owned(),
        }
    }
}

/// A value kept in a text column under its stored name: the code's own `as_str` names, not
/// serde's, which differ for some values (the audit mode `self`).
pub trait StoredText: Sized {
    fn from_text(text: &str) -> Option<Self>;
}

/// The core types read by their own `parse`, the inverse of the `as_str` they are written with.
macro_rules! stored_by_parse {
    ($($type:ty),* $(,)?) => {
        $(impl StoredText for $type {
            fn from_text(text: &str) -> Option<Self> {
                <$type>::parse(text)
            }
        })*
    };
}

stored_by_parse!(
    AuditMode,
    Basis,
    ClockKind,
    CostClass,
    DeadlineKind,
    DocumentKind,
    NoticeKind,
    OptionStatus,
    Outcome,
    PenaltyKind,
    PlanStatus,
    ReviewConclusion,
    ReviewKind,
    RoundAction,
    RoundState,
    Stage,
    Track,
);

/// A fixed set of values only storage knows, kept in a text column under the names given,
/// which serde writes too.
macro_rules! stored_names {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl $crate::columns::StoredText for $name {
            fn from_text(text: &str) -> Option<Self> {
                [$(Self::$variant),+].into_iter().find(|value| value.as_str() == text)
            }
        }
    };
}
pub(crate) use stored_names;

/// A plan entry's placement is kept under its serde name, the name the planner's output uses.
impl StoredText for Placement {
    fn from_text(text: &str) -> Option<Self> {
        cpaudit_core::evidence::parse_name(text)
    }
}

/// The review a draw is for is kept under its serde name.
impl StoredText for cpaudit_core::draw::ReviewKind {
    fn from_text(text: &str) -> Option<Self> {
        cpaudit_core::evidence::parse_name(text)
    }
}

/// Dates are kept as YYYY-MM-DD, the way serde writes them too.
impl StoredText for NaiveDate {
    fn from_text(text: &str) -> Option<Self> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }
}

/// Reason codes kept as one comma-separated text ("exceed_concentration,double_toxic"), in the
/// column and in the API alike. Reading fails on a code this version does not know, where a
/// lenient parse would drop it and understate why the enterprise is listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reasons(pub BTreeSet<Reason>);

impl fmt::Display for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|reason| reason.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Reasons {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl StoredText for Reasons {
    fn from_text(text: &str) -> Option<Self> {
        text.split(',')
            .filter(|code| !code.is_empty())
            .map(Reason::parse)
            .collect::<Option<_>>()
            .map(Reasons)
    }
}

/// Toxic categories (1 to 5) kept as one comma-separated text ("1,3"), in the column and in
/// the API alike. Reading fails on anything else, where a lenient parse would drop it and
/// understate the substances that list the enterprise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToxicCategories(pub BTreeSet<u8>);

impl fmt::Display for ToxicCategories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(u8::to_string).collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for ToxicCategories {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl StoredText for ToxicCategories {
    fn from_text(text: &str) -> Option<Self> {
        text.split(',')
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse()
                    .ok()
                    .filter(|category| (1..=5).contains(category))
            })
            .collect::<Option<_>>()
            .map(ToxicCategories)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> StoredRow {
        StoredRow::new("rounds", 7)
    }

    #[test]
    fn known_values_are_read_into_their_types() {
        let state: RoundState = row().read("state", "listed").unwrap();
        assert_eq!(state, RoundState::Listed);
        let mode: AuditMode = row().read("audit_mode", "self").unwrap();
        assert_eq!(mode, AuditMode::SelfAudit);
        let on: Option<NaiveDate> = row()
            .read_optional("listed_on", Some("2027-03-01"))
            .unwrap();
        assert_eq!(on, NaiveDate::from_ymd_opt(2027, 3, 1));
        let reasons: Reasons = row()
            .read("reasons", "exceed_concentration,double_toxic")
            .unwrap();
        assert_eq!(reasons.to_string(), "exceed_concentration,double_toxic");
        assert_eq!(
            serde_json::to_value(&reasons).unwrap(),
            serde_json::json!("exceed_concentration,double_toxic")
        );
    }

    #[test]
    fn an_unknown_value_names_table_row_column_and_value() {
        let corrupt = |error: StorageError| error.to_string();
        let state = row().read::<RoundState>("state", "suspended").unwrap_err();
        assert_eq!(corrupt(state), "rounds row 7: unknown state \"suspended\"");
        let date = row()
            .read::<NaiveDate>("listed_on", "2027-02-30")
            .unwrap_err();
        assert_eq!(
            corrupt(date),
            "rounds row 7: unknown listed_on \"2027-02-30\""
        );
        let reasons = row()
            .read::<Reasons>("reasons", "double_toxic,double_exceed")
            .unwrap_err();
        assert_eq!(
            corrupt(reasons),
            "rounds row 7: unknown reasons \"double_toxic,double_exceed\""
        );
    }
}
