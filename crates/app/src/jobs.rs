//! The scheduled jobs. The scheduler fires the reminders, overdue notices and escalations of
//! round deadlines. `cpaudit serve` runs [`Scheduler::run`], which ticks once at start and then on an
//! interval (setting `notices.interval_minutes`, default 10); tests call [`Scheduler::tick`]
//! with an injected clock. A tick reads the day from the application's clock, so a tick on a
//! day fires what that day owes and nothing fires twice (see `cpaudit_storage::notices`).
//!
//! E-mail (setting `notices.email`, off by default): each notice fired is also queued in the
//! `notice_outbox` table for an external mailer; cpaudit sends no e-mail itself.
//!
//! Each tick also evaluates the online-monitoring data that has settled since the last one
//! ([`Scheduler::evaluate_monitoring`]: hourly and daily means, exceedances, gaps, loads and
//! candidate evidence; see `cpaudit_storage::monitoring_judgement`), with the same clock.

use std::time::Duration;

use chrono::NaiveDate;
use cpaudit_core::deadlines::{
    due_notices, longest_reminder_lead, DeadlineKind, DueNotice, NoticeSubject,
};
use cpaudit_core::rules::RuleBook;
use cpaudit_storage::evidence::{china_date, parse_date};
use cpaudit_storage::monitoring_judgement::{EvaluateOptions, EvaluationReport};
use cpaudit_storage::notices::{FiredCount, NoticeDraft, OpenDeadline};
use cpaudit_storage::StorageError;

use crate::App;

/// How often the scheduler ticks when nothing else is configured.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// The scheduler's settings.
#[derive(Debug, Clone, Copy)]
pub struct Scheduler {
    pub interval: Duration,
    /// Queue every fired notice for the external mailer.
    pub email: bool,
    /// Evaluate online-monitoring data on each tick (`None`: not here, e.g. when another
    /// server of the installation does it).
    pub monitoring: Option<EvaluateOptions>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler {
            interval: DEFAULT_INTERVAL,
            email: false,
            monitoring: Some(EvaluateOptions::default()),
        }
    }
}

impl Scheduler {
    /// Fires every notice due today by the application's clock and evaluates the monitoring data
    /// that has settled; returns the notices fired now. A failed evaluation is logged and does
    /// not hold back the notices (it is retried on the next tick).
    pub async fn tick(&self, app: &App) -> Result<FiredCount, StorageError> {
        let fired = self.fire_notices(app).await?;
        if self.monitoring.is_some() {
            if let Err(error) = self.evaluate_monitoring(app).await {
                tracing::warn!(%error, "monitoring evaluation failed");
            }
        }
        Ok(fired)
    }

    /// Evaluates the online-monitoring data that has settled by the application's clock: the
    /// hours not yet evaluated of every device, their days, and the candidate evidence the rule
    /// book's candidate rule calls for. Does nothing when monitoring is off.
    pub async fn evaluate_monitoring(&self, app: &App) -> Result<EvaluationReport, StorageError> {
        let Some(options) = &self.monitoring else {
            return Ok(EvaluationReport::default());
        };
        let report = app
            .db()
            .evaluate_monitoring(app.emission_limits(), app.rules(), app.now(), options)
            .await?;
        if report.hours > 0 || report.rewound > 0 {
            tracing::info!(
                devices = report.devices,
                rewound = report.rewound,
                hours = report.hours,
                exceedance_hours = report.exceedance_hours,
                candidates = report.candidates,
                load_candidates = report.load_candidates,
                "monitoring evaluated"
            );
        }
        Ok(report)
    }

    /// Fires every notice due today by the application's clock; returns what fired now.
    async fn fire_notices(&self, app: &App) -> Result<FiredCount, StorageError> {
        let now = app.now();
        let today = china_date(now);
        let book = app.rules();
        let reach = today
            .checked_add_days(longest_reminder_lead(book))
            .unwrap_or(today);
        let fired = app
            .db()
            .fire_due_notices(
                |deadline| plan(book, deadline, today),
                reach,
                today,
                self.email,
                now,
            )
            .await?;
        // Counts only: notices name enterprises, which stay out of the logs.
        if fired.total() > 0 {
            tracing::info!(
                reminders = fired.reminders,
                overdue = fired.overdue,
                escalations = fired.escalations,
                "notices fired"
            );
        } else {
            tracing::debug!("no notice due");
        }
        Ok(fired)
    }

    /// Ticks now and then every interval, until the task is aborted. A failed tick is logged
    /// and retried at the next interval.
    pub async fn run(self, app: App) {
        let mut interval = tokio::time::interval(self.interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = self.tick(&app).await {
                tracing::warn!(%error, "notice scheduler tick failed");
            }
        }
    }
}

/// The notices due today for one open deadline. A deadline whose kind or day cannot be read
/// (which the schema rules out) or a day without a notice rule in force plans nothing and is logged.
fn plan(book: &RuleBook, deadline: &OpenDeadline, today: NaiveDate) -> Vec<NoticeDraft> {
    let kind = DeadlineKind::parse(&deadline.kind);
    let due_on = parse_date(&deadline.due_on);
    let (Some(kind), Some(due_on)) = (kind, due_on) else {
        tracing::warn!(
            round = deadline.round_id,
            deadline = %deadline.kind,
            "deadline row unreadable; no notice planned"
        );
        return Vec::new();
    };
    let subject = NoticeSubject {
        enterprise: &deadline.enterprise_name,
        deadline: kind,
        due_on,
        rule: &deadline.rule,
    };
    match due_notices(book, &subject, today) {
        Ok(due) => due.into_iter().map(draft).collect(),
        Err(error) => {
            tracing::warn!(%error, round = deadline.round_id, "no notice rule in force");
            Vec::new()
        }
    }
}

fn draft(notice: DueNotice) -> NoticeDraft {
    NoticeDraft {
        kind: notice.kind,
        falls_on: notice.falls_on,
        message_zh: notice.text.zh,
        message_en: notice.text.en,
    }
}
