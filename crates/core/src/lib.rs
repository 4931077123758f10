//! Domain types and rules of cpaudit. Pure: no I/O, no clock (time is a parameter).
#![forbid(unsafe_code)]

pub mod audit;
pub mod consultancy;
pub mod credit_code;
pub mod deadlines;
pub mod demo;
pub mod determination;
pub mod disclosure;
pub mod documents;
pub mod draw;
pub mod emission_limits;
pub mod enforcement;
pub mod evidence;
pub mod experts;
pub mod listing;
pub mod monitoring;
pub mod options;
pub mod periods;
pub mod planning;
pub mod reference;
pub mod registry;
pub mod round;
pub mod rules;
pub mod scoring;
pub mod search;

pub use credit_code::{CreditCode, CreditCodeError};
