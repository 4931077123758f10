//! The API's own shapes of what storage reads: each view names the fields a response shows
//! and how they are written, so that a storage row can change without changing the API. Typed
//! values are written under the names they are stored with, and days as YYYY-MM-DD.

pub mod consultancies;
pub mod enterprises;
pub mod evidence;
pub mod experts;
pub mod monitoring;
pub mod park_audits;
pub mod registry;
