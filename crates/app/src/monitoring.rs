//! The province's monitoring settings: resolving an unknown MN from the quarantine by assigning
//! it to a registered device, and a device's tolerance switches and service status.

use cpaudit_core::registry::Message;
use cpaudit_hj212::Deviations;
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::monitoring::AssignOutcome;
use cpaudit_storage::{Principal, StorageError};

use crate::{App, Error, Result};

fn require_province(principal: &Principal, zh: &str, en: &str) -> Result<()> {
    if matches!(principal.scope().kind(), ScopeKind::Province) {
        Ok(())
    } else {
        Err(Error::Forbidden(Message::new(zh, en)))
    }
}

/// Whether the device exists within the caller's scope.
async fn device_in_scope(app: &App, principal: &Principal, device_id: i64) -> Result<bool> {
    match app.db().device_settings(principal.scope(), device_id).await {
        Ok(_) => Ok(true),
        Err(StorageError::NotFound) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The device a form or client names, by id or MN.
async fn named_device(app: &App, principal: &Principal, text: &str) -> Result<i64> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::bad_field(
            "device",
            "required",
            "请填写已登记设备的编号（设备 ID）或其 MN",
            "device is required: a registered device's id or MN",
        ));
    }
    let by_id = match text.parse::<i64>() {
        // An MN is 24 characters; anything shorter that is a number is an id.
        Ok(id) if text.len() < 24 && device_in_scope(app, principal, id).await? => Some(id),
        _ => None,
    };
    let found = match by_id {
        Some(id) => Some(id),
        None => app.db().device_id_by_mn(principal.scope(), text).await?,
    };
    found.ok_or_else(|| {
        Error::invalid(
            "unknown_device",
            Some("device"),
            Message::new(
                format!("没有编号或 MN 为“{text}”的已登记设备"),
                format!("no registered device has the id or MN \"{text}\""),
            ),
        )
    })
}

/// Assigns an unknown MN to a registered device (the province only): the device takes the MN,
/// the kept packets are replayed into its data, and later packets from the MN are the
/// device's. Answers the device and what was replayed.
pub async fn assign_mn(
    app: &App,
    principal: &Principal,
    mn: &str,
    device: &str,
) -> Result<(i64, AssignOutcome)> {
    require_province(
        principal,
        "仅省级生态环境部门可处理未登记设备",
        "only the province resolves unknown MNs",
    )?;
    let device_id = named_device(app, principal, device).await?;
    require_open(app, principal, mn).await?;
    let outcome = app
        .db()
        .assign_quarantined_mn(principal, mn, device_id, app.now())
        .await?;
    Ok((device_id, outcome))
}

/// The MN must be in the quarantine and still open.
async fn require_open(app: &App, principal: &Principal, mn: &str) -> Result<()> {
    let entry = app.db().quarantined_mn(principal, mn).await?;
    if entry.resolution == "open" {
        return Ok(());
    }
    Err(Error::conflict(
        "already_resolved",
        Some("mn"),
        Message::new(
            format!("MN {mn} 已处理（{}）", entry.resolution),
            format!("MN {mn} is already {}", entry.resolution),
        ),
    ))
}

/// Discards an unknown MN (the province only): its kept packets are deleted and later packets
/// from it are counted, not kept. Answers how many packets were deleted.
pub async fn discard_mn(app: &App, principal: &Principal, mn: &str) -> Result<u64> {
    require_province(
        principal,
        "仅省级生态环境部门可处理未登记设备",
        "only the province resolves unknown MNs",
    )?;
    require_open(app, principal, mn).await?;
    Ok(app
        .db()
        .discard_quarantined_mn(principal, mn, app.now())
        .await?)
}

/// Sets a device's tolerance switches and whether it is in service (the province only).
pub async fn save_device_settings(
    app: &App,
    principal: &Principal,
    device_id: i64,
    tolerance: Deviations,
    enabled: bool,
) -> Result<()> {
    require_province(
        principal,
        "仅省级生态环境部门可设置设备的容错与启用状态",
        "only the province sets a device's tolerance and service status",
    )?;
    if !device_in_scope(app, principal, device_id).await? {
        return Err(Error::NotFound);
    }
    Ok(app
        .db()
        .set_device_settings(principal, device_id, tolerance, enabled, app.now())
        .await?)
}
