//! The application layer of cpaudit: one function per use case, beneath the pages, the API,
//! the command line and the scheduled jobs. A use case takes the caller's capability (a
//! signed-in [`Principal`](cpaudit_storage::Principal) or the [`SystemAuthority`]) and a typed
//! input, and returns a typed result or an [`Error`] with a stable code, its kind and the
//! words in both languages. It knows no HTTP, no templates and no language.
#![forbid(unsafe_code)]

pub mod art16_form;
pub mod authority;
pub mod consultancies;
pub mod cycle;
pub mod documents;
pub mod draws;
pub mod enforcement;
pub mod error;
pub mod evidence;
pub mod evidence_import;
pub mod experts;
pub mod input;
pub mod jobs;
pub mod listing;
pub mod lists;
pub mod monitoring;
pub mod notices;
pub mod options;
pub mod options_import;
pub mod parks;
pub mod plans;
pub mod registry;
pub mod registry_import;
pub mod reviews;
pub mod rounds;
pub mod rows;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::emission_limits::EmissionLimits;
use cpaudit_core::periods::HolidayCalendar;
use cpaudit_core::reference::ReferenceData;
use cpaudit_core::rules::RuleBook;
use cpaudit_storage::Db;

pub use authority::SystemAuthority;
pub use error::{Error, ErrorKind, Result};

/// Where the current time comes from; tests and commands inject a fixed or stepping clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

struct Inner {
    db: Db,
    clock: Arc<dyn Clock>,
    reference: ReferenceData,
    rules: RuleBook,
    calendar: HolidayCalendar,
    limits: EmissionLimits,
}

/// What every use case reads: the database, the clock, the reference data, the rule book, the
/// holiday calendar and the emission limits. Cheap to clone.
#[derive(Clone)]
pub struct App(Arc<Inner>);

impl App {
    /// The application with the embedded rule book and holiday calendar.
    pub fn new(db: Db, reference: ReferenceData, clock: Arc<dyn Clock>) -> Self {
        Self::with_rules(
            db,
            reference,
            RuleBook::embedded(),
            HolidayCalendar::china(),
            clock,
        )
    }

    /// The application with a province's own rule book and calendar (checked by the caller).
    pub fn with_rules(
        db: Db,
        reference: ReferenceData,
        rules: RuleBook,
        calendar: HolidayCalendar,
        clock: Arc<dyn Clock>,
    ) -> Self {
        App(Arc::new(Inner {
            db,
            clock,
            reference,
            rules,
            calendar,
            limits: EmissionLimits::embedded(),
        }))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    /// Today in China Standard Time, the day legal dates are counted in.
    pub fn today(&self) -> NaiveDate {
        cpaudit_storage::evidence::china_date(self.now())
    }

    pub fn reference(&self) -> &ReferenceData {
        &self.0.reference
    }

    /// The legal parameters in force (deadlines, intervals, calendar dates).
    pub fn rules(&self) -> &RuleBook {
        &self.0.rules
    }

    /// The national emission limits online-monitoring data is judged against
    /// (`rules/emission_limits.toml`).
    pub fn emission_limits(&self) -> &EmissionLimits {
        &self.0.limits
    }

    /// The State Council's holiday arrangements, for the Civil Code's period rule.
    pub fn calendar(&self) -> &HolidayCalendar {
        &self.0.calendar
    }
}
