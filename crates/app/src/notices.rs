//! Notices: what the scheduler sent a user, marked read by that user.

use cpaudit_storage::Principal;

use crate::{App, Result};

/// Marks one of the caller's notices read; marking it again changes nothing.
pub async fn mark_read(app: &App, principal: &Principal, id: i64) -> Result<()> {
    app.db().mark_notice_read(principal, id, app.now()).await?;
    Ok(())
}
