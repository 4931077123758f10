//! The API's own shapes of what storage reads: each view names the fields a response shows
//! and how they are written, so that a storage row can change without changing the API. Typed
//! values are written under the names they are stored with, and days as YYYY-MM-DD.

pub mod consultancies;
pub mod disclosures;
pub mod documents;
pub mod draws;
pub mod enforcement;
pub mod enterprises;
pub mod evidence;
pub mod experts;
pub mod lists;
pub mod monitoring;
pub mod notices;
pub mod options;
pub mod park_audits;
pub mod registry;
pub mod reviews;
pub mod rounds;

/// Rows as the views a response shows.
pub fn shown<Row, View: From<Row>>(rows: Vec<Row>) -> Vec<View> {
    rows.into_iter().map(View::from).collect()
}

#[cfg(test)]
mod tests {
    use cpaudit_core::deadlines::{DeadlineKind, NoticeKind};
    use cpaudit_core::enforcement::Outcome;
    use cpaudit_core::options::{CostClass, OptionStatus};
    use cpaudit_core::round::{DocumentKind, ReviewConclusion, ReviewKind, RoundState, Track};
    use serde::Serialize;

    fn written<T: Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Views write typed values with serde: it must write the names storage keeps.
    #[test]
    fn typed_values_are_written_under_their_stored_names() {
        for state in RoundState::ALL {
            assert_eq!(written(state), state.as_str());
        }
        for track in [Track::Standard, Track::SmallMicro] {
            assert_eq!(written(track), track.as_str());
        }
        for kind in [
            ReviewKind::Assessment,
            ReviewKind::Acceptance,
            ReviewKind::Combined,
        ] {
            assert_eq!(written(kind), kind.as_str());
        }
        for kind in DeadlineKind::ALL {
            assert_eq!(written(kind), kind.as_str());
        }
        for kind in NoticeKind::ALL {
            assert_eq!(written(kind), kind.as_str());
        }
        for conclusion in ReviewConclusion::ALL {
            assert_eq!(written(conclusion), conclusion.as_str());
        }
        for kind in DocumentKind::ALL {
            assert_eq!(written(kind), kind.as_str());
        }
        for class in CostClass::ALL {
            assert_eq!(written(class), class.as_str());
        }
        for status in OptionStatus::ALL {
            assert_eq!(written(status), status.as_str());
        }
        for outcome in Outcome::ALL {
            assert_eq!(written(outcome), outcome.as_str());
        }
    }
}
