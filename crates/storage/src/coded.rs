//! How the registry, evidence, expert, consultancy, park, monitoring and user values are read from
//! their text columns (see [`crate::columns`]).

use cpaudit_core::consultancy::SanctionKind;
use cpaudit_core::determination::{EvidenceKind, EvidenceSource, EvidenceStatus, RoundKind};
use cpaudit_core::experts::ExpertStatus;
use cpaudit_core::monitoring::{GapReason, Status};
use cpaudit_core::registry::{EnterpriseStatus, OutletKind, SizeClass};

use crate::columns::StoredText;
use crate::park_audits::ParkAuditState;
use crate::Role;

/// Types stored under their serde (snake_case) name are read back by exactly that name: the
/// parsers of user input also take Chinese names and surrounding blanks, which storage never
/// writes and so must not find.
macro_rules! stored_by_name {
    ($($type:ty),* $(,)?) => {
        $(impl StoredText for $type {
            fn from_text(text: &str) -> Option<Self> {
                serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
            }
        })*
    };
}

stored_by_name!(
    EnterpriseStatus,
    EvidenceKind,
    EvidenceSource,
    EvidenceStatus,
    ExpertStatus,
    GapReason,
    OutletKind,
    ParkAuditState,
    RoundKind,
    SanctionKind,
    SizeClass,
    Status,
);

/// Roles are written by their own names, which are not serde's.
impl StoredText for Role {
    fn from_text(text: &str) -> Option<Self> {
        Role::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::StoredRow;

    fn serde_name<T: serde::Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Storage writes these types with `as_str` and reads them by their serde name (which is
    /// also how the API writes them): the two must be the same names.
    #[test]
    fn what_storage_writes_is_what_it_reads() {
        for status in [EnterpriseStatus::Active, EnterpriseStatus::Closed] {
            assert_eq!(serde_name(status), status.as_str());
        }
        for size in SizeClass::ALL {
            assert_eq!(serde_name(size), size.as_str());
        }
        for kind in [OutletKind::Air, OutletKind::Water] {
            assert_eq!(serde_name(kind), kind.as_str());
        }
        for &kind in EvidenceKind::all() {
            assert_eq!(serde_name(kind), kind.as_str());
        }
        for status in ExpertStatus::ALL {
            assert_eq!(serde_name(status), status.as_str());
        }
        for status in [Status::Valid, Status::Invalid, Status::Missing] {
            assert_eq!(serde_name(status), status.as_str());
        }
        for state in [
            ParkAuditState::UnderWay,
            ParkAuditState::Assessed,
            ParkAuditState::Failed,
        ] {
            assert_eq!(serde_name(state), state.as_str());
        }
        let reason: GapReason = StoredRow::new("monitoring_gaps", 1)
            .read("reason", GapReason::O2NearAmbient.as_str())
            .unwrap();
        assert_eq!(reason, GapReason::O2NearAmbient);
    }

    #[test]
    fn only_the_stored_name_is_read() {
        let row = StoredRow::new("enterprises", 7);
        let status: EnterpriseStatus = row.read("status", "closed").unwrap();
        assert_eq!(status, EnterpriseStatus::Closed);
        for alias in ["关停", " closed", "Closed"] {
            let error = row.read::<EnterpriseStatus>("status", alias).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("enterprises row 7: unknown status {alias:?}")
            );
        }
    }
}
