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
