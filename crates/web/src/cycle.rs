//! The yearly cycle's use cases live in `cpaudit_app::cycle`; what remains here is how the web
//! answers a rule-book fault met while presenting a page.

use cpaudit_core::rules::RuleError;

use crate::error::AppError;

/// A rule book fault is a configuration error of the deployment, not the caller's fault; it is
/// reported as such (and `rules check` catches it before start).
pub fn rule_error(error: RuleError) -> AppError {
    AppError::from(cpaudit_app::Error::Rule(error))
}
