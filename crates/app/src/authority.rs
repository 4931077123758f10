//! Who acts when no user does. The command line, the scheduler's jobs and the demo loader act
//! with [`SystemAuthority`]: the person at the server's console already holds the database, so
//! it has the province's reach, and the audit trail records it as the console.
//!
//! The web crate never constructs one (a test reads its sources): a request always acts as
//! the signed-in user it came from.

use cpaudit_storage::{Principal, Role};

/// The authority of the server itself: the command line, the scheduler and the demo loader.
#[derive(Debug, Clone)]
pub struct SystemAuthority {
    principal: Principal,
}

impl SystemAuthority {
    /// The operator at the console, named in the audit trail as `console:<name>`.
    pub fn console(name: &str) -> Self {
        SystemAuthority {
            principal: Principal::console_operator(name),
        }
    }

    /// The province-wide principal the storage layer records this authority as.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The console acting in the part of an enterprise, a consultancy or an expert (the demo
    /// loader walks rounds through their steps this way). No more than the console may do
    /// already; recorded as the console in the audit trail.
    pub fn acting_for(&self, role: Role, subject_id: i64) -> Principal {
        Principal::console_acting_for(&self.principal.username, role, subject_id)
    }

    /// The console acting as an official of one city.
    pub fn acting_for_city(&self, city_code: &str) -> Principal {
        Principal::console_acting_for_city(&self.principal.username, city_code)
    }
}
