//! Reads of online-monitoring data for the pages and the API that the receiver's and the
//! judgement's modules do not offer: devices with their receiver status and settings (one
//! query, filtered by city and enterprise within the caller's scope), the factors a device has
//! judged values of, a device found by its MN, and the newest kept packet of each unknown MN.
//! Every read is limited by the caller's [`Scope`].

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use cpaudit_core::registry::OutletKind;
use serde::Serialize;

use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::enterprises::EnterpriseRow;
use crate::monitoring::QuarantinePacketRow;
use crate::sql::{bind_args, scope_condition, Arg, Sql};
use crate::{on_pool, Db, InScope, Principal, Result, Scope, StorageError};

/// A registered device with where it is, what the receiver last heard from it and its receiver
/// settings.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    pub device_id: i64,
    pub mn: String,
    pub outlet_id: i64,
    pub outlet_code: String,
    pub outlet_name: String,
    pub outlet_kind: OutletKind,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    /// The enterprise's city (jurisdiction code).
    pub jurisdiction_code: String,
    /// RFC 3339, UTC: the last packet received; `None` when never heard from.
    pub last_seen_at: Option<String>,
    /// `YYYYMMDDhhmmss` (China time, as sent) of the newest data.
    pub last_data_time: Option<i64>,
    /// What the packets announce, e.g. `2017 Flag=5`.
    pub protocol_version: Option<String>,
    /// The address the last packet came from.
    pub peer: Option<String>,
    /// Packets received.
    pub packets: Option<i64>,
    /// Packets accepted under a tolerance switch.
    pub deviations: Option<i64>,
    /// Packets refused (a deviation the device is not allowed, out of service, …).
    pub rejected: Option<i64>,
    pub last_rejection: Option<String>,
    pub last_rejected_at: Option<String>,
    /// In service: packets of a device out of service are refused.
    pub enabled: bool,
    /// The tolerance switches, comma-separated names (empty: strict).
    pub tolerance: String,
    /// Heard from within the offline threshold of now.
    pub online: bool,
}

/// A device as it comes from the database; whether it is online is worked out afterwards.
#[derive(sqlx::FromRow)]
struct StoredDevice {
    device_id: i64,
    mn: String,
    outlet_id: i64,
    outlet_code: String,
    outlet_name: String,
    outlet_kind: String,
    enterprise_id: i64,
    enterprise_name: String,
    jurisdiction_code: String,
    last_seen_at: Option<String>,
    last_data_time: Option<i64>,
    protocol_version: Option<String>,
    peer: Option<String>,
    packets: Option<i64>,
    deviations: Option<i64>,
    rejected: Option<i64>,
    last_rejection: Option<String>,
    last_rejected_at: Option<String>,
    enabled: bool,
    tolerance: String,
}

impl StoredDevice {
    fn decode(self) -> Result<DeviceView> {
        let row = StoredRow::new("outlets", self.outlet_id);
        Ok(DeviceView {
            outlet_kind: row.read("kind", &self.outlet_kind)?,
            device_id: self.device_id,
            mn: self.mn,
            outlet_id: self.outlet_id,
            outlet_code: self.outlet_code,
            outlet_name: self.outlet_name,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            jurisdiction_code: self.jurisdiction_code,
            last_seen_at: self.last_seen_at,
            last_data_time: self.last_data_time,
            protocol_version: self.protocol_version,
            peer: self.peer,
            packets: self.packets,
            deviations: self.deviations,
            rejected: self.rejected,
            last_rejection: self.last_rejection,
            last_rejected_at: self.last_rejected_at,
            enabled: self.enabled,
            tolerance: self.tolerance,
            online: false,
        })
    }
}

crate::decoded_row!(DeviceView, StoredDevice);

/// Which devices to read.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    /// Jurisdiction code of a city (within the scope: a city official asking for another city
    /// gets nothing).
    pub city: Option<String>,
    pub enterprise_id: Option<i64>,
    pub device_id: Option<i64>,
}

const DEVICE_VIEW_SELECT: &str = "SELECT d.id AS device_id, d.mn, o.id AS outlet_id, \
     o.code AS outlet_code, o.name AS outlet_name, o.kind AS outlet_kind, o.enterprise_id, \
     e.name AS enterprise_name, e.jurisdiction_code, t.last_seen_at, t.last_data_time, \
     t.protocol_version, t.peer, t.packets, t.deviations, t.rejected, t.last_rejection, \
     t.last_rejected_at, COALESCE(s.enabled, TRUE) AS enabled, \
     COALESCE(s.tolerance, '') AS tolerance \
     FROM devices d JOIN outlets o ON o.id = d.outlet_id \
     JOIN enterprises e ON e.id = o.enterprise_id \
     LEFT JOIN device_status t ON t.device_id = d.id \
     LEFT JOIN device_settings s ON s.device_id = d.id";

/// Whether a device last heard at `last_seen_at` (RFC 3339) is online at `now`.
pub fn is_online(last_seen_at: Option<&str>, now: DateTime<Utc>, offline_after: Duration) -> bool {
    last_seen_at
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .is_some_and(|at| now - at.with_timezone(&Utc) <= offline_after)
}

impl Db {
    /// The devices the scope may see, narrowed by the filter, ordered by city, enterprise,
    /// outlet and MN; `online` when heard from within `offline_after` of `now`.
    pub async fn monitoring_devices(
        &self,
        scope: &Scope,
        filter: &DeviceFilter,
        now: DateTime<Utc>,
        offline_after: Duration,
    ) -> Result<Vec<DeviceView>> {
        let mut sql = Sql::default();
        let mut conditions = vec![scope_condition(&mut sql, scope)];
        if let Some(city) = &filter.city {
            conditions.push(format!(
                "e.jurisdiction_code = {}",
                sql.arg(Arg::Text(city.clone()))
            ));
        }
        if let Some(id) = filter.enterprise_id {
            conditions.push(format!("o.enterprise_id = {}", sql.arg(Arg::Int(id))));
        }
        if let Some(id) = filter.device_id {
            conditions.push(format!("d.id = {}", sql.arg(Arg::Int(id))));
        }
        let text = format!(
            "{DEVICE_VIEW_SELECT} WHERE {} ORDER BY e.jurisdiction_code, e.name, o.code, d.mn",
            conditions.join(" AND ")
        );
        let mut rows: Vec<DeviceView> = self.scoped_query(&text, &sql).await?;
        for row in &mut rows {
            row.online = is_online(row.last_seen_at.as_deref(), now, offline_after);
        }
        Ok(rows)
    }

    /// One device, if the scope may see it.
    pub async fn monitoring_device(
        &self,
        scope: &Scope,
        device_id: i64,
        now: DateTime<Utc>,
        offline_after: Duration,
    ) -> Result<Option<DeviceView>> {
        let filter = DeviceFilter {
            device_id: Some(device_id),
            ..DeviceFilter::default()
        };
        Ok(self
            .monitoring_devices(scope, &filter, now, offline_after)
            .await?
            .into_iter()
            .next())
    }

    /// The device registered under an MN, if the scope may see it.
    pub async fn device_id_by_mn(&self, scope: &Scope, mn: &str) -> Result<Option<i64>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "SELECT d.id FROM devices d JOIN outlets o ON o.id = d.outlet_id \
             JOIN enterprises e ON e.id = o.enterprise_id WHERE {condition} AND d.mn = {}",
            sql.arg(Arg::Text(mn.to_string()))
        );
        let found: Option<i64> = on_pool!(self, |pool| {
            bind_args!(sqlx::query_scalar(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        });
        Ok(found)
    }

    /// The factors a device has judged hourly or daily values of, in code order. `None` when
    /// the scope may not see the device.
    pub async fn judged_factors(
        &self,
        scope: &Scope,
        device_id: i64,
    ) -> Result<Option<Vec<String>>> {
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "SELECT d.id FROM devices d JOIN outlets o ON o.id = d.outlet_id \
             JOIN enterprises e ON e.id = o.enterprise_id WHERE {condition} AND d.id = {}",
            sql.arg(Arg::Int(device_id))
        );
        let seen: Option<i64> = on_pool!(self, |pool| {
            bind_args!(sqlx::query_scalar(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        });
        if seen.is_none() {
            return Ok(None);
        }
        let factors: Vec<String> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT DISTINCT factor FROM monitoring_hours WHERE device_id = $1 \
                 UNION SELECT DISTINCT factor FROM monitoring_days WHERE device_id = $1 \
                 ORDER BY 1",
            )
            .bind(device_id)
            .fetch_all(pool)
            .await?
        });
        Ok(Some(factors))
    }

    /// The units an enterprise's devices are set to send factors in where they differ from
    /// HJ 212's defaults (`device_factor_units`), by device and factor.
    pub async fn device_factor_units_of(
        &self,
        scope: &Scope,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<HashMap<(i64, String), String>> {
        let enterprise_id = enterprise.id;
        let mut sql = Sql::default();
        let condition = scope_condition(&mut sql, scope);
        let text = format!(
            "SELECT u.device_id, u.factor, u.unit FROM device_factor_units u \
             JOIN devices d ON d.id = u.device_id JOIN outlets o ON o.id = d.outlet_id \
             JOIN enterprises e ON e.id = o.enterprise_id \
             WHERE {condition} AND o.enterprise_id = {}",
            sql.arg(Arg::Int(enterprise_id))
        );
        let rows: Vec<(i64, String, String)> = self.scoped_query(&text, &sql).await?;
        Ok(rows
            .into_iter()
            .map(|(device, factor, unit)| ((device, factor), unit))
            .collect())
    }

    /// The newest kept packet of each unknown MN (province only), by MN.
    pub async fn last_quarantined_packets(
        &self,
        actor: &Principal,
    ) -> Result<HashMap<String, QuarantinePacketRow>> {
        if !matches!(actor.scope().kind(), ScopeKind::Province) {
            return Err(StorageError::refused(
                "province_only",
                "仅省级生态环境部门可查看未登记设备（隔离区）",
                "only the province sees the quarantine",
            ));
        }
        let rows: Vec<(String, i64, String, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT mn, id, received_at, packet FROM quarantine_packets WHERE id IN \
                 (SELECT MAX(id) FROM quarantine_packets GROUP BY mn)",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(mn, id, received_at, packet)| {
                (
                    mn,
                    QuarantinePacketRow {
                        id,
                        received_at,
                        packet,
                    },
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_online_while_heard_within_the_threshold() {
        let now = DateTime::parse_from_rfc3339("2027-01-15T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let two_hours = Duration::hours(2);
        assert!(is_online(
            Some("2027-01-14T23:00:00.000000Z"),
            now,
            two_hours
        ));
        assert!(!is_online(
            Some("2027-01-14T22:59:59.000000Z"),
            now,
            two_hours
        ));
        assert!(!is_online(None, now, two_hours));
        assert!(!is_online(Some("yesterday"), now, two_hours));
    }
}
