//! Capabilities: a record read within the caller's scope.
//!
//! Only this crate builds an [`InScope`], and only a scoped read does (`get_round`,
//! `get_enterprise`, `get_review`, `get_evidence`, `get_document`…). The reads and writes of a
//! record's children (a round's documents, options and reviews; an enterprise's evidence,
//! outlets and monitoring data; a review's score sheets; a draw's seats) take the parent's
//! `InScope`, not its id, so a caller cannot reach a child of a record it was never allowed to
//! read: forgetting the scoped read does not compile. A test of the integration suite fails if a
//! public storage method takes the bare id of a round, draw, review or enterprise.

use serde::Serialize;

/// A `T` the caller was allowed to read. Derefs to the record; [`InScope::into_inner`] gives it
/// up (for showing it), after which it no longer opens its children.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct InScope<T>(T);

impl<T> InScope<T> {
    /// Wraps a record that a scoped read has just returned.
    pub(crate) fn granted(record: T) -> Self {
        InScope(record)
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for InScope<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// A record that belongs to one round. Its capability opens the round's other children: the
/// public disclosure page, for one, reads the round's secret claims through the published
/// disclosure it was allowed to read, not through the round.
pub trait OfRound {
    fn round_id(&self) -> i64;
}
