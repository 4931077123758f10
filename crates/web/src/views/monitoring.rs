//! Online monitoring as the API shows it: devices, judged series, exceedances, gaps, loads,
//! candidates and the quarantine of unknown MNs.

use cpaudit_core::determination::{EvidenceKind, EvidenceStatus};
use cpaudit_core::emission_limits::OutletBinding;
use cpaudit_core::monitoring::{Basis, GapReason, Status};
use cpaudit_core::registry::OutletKind;
use cpaudit_storage::monitoring::{
    AssignOutcome as StoredAssignOutcome, QuarantineMn as StoredMn, QuarantinePacketRow,
};
use cpaudit_storage::monitoring_judgement::{
    outlet_binding, CandidateRow, EventRow, ExceedanceDayRow, GapRow, LatestValue as StoredValue,
    LatestValues as StoredValues, LoadRow, OutletStandardRow, SeriesPoint as StoredPoint,
};
use cpaudit_storage::monitoring_views::DeviceView;
use cpaudit_storage::JsonColumn;
use serde::Serialize;
use utoipa::ToSchema;

/// A registered device with where it is, what the receiver last heard from it and its receiver
/// settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Device {
    pub device_id: i64,
    pub mn: String,
    pub outlet_id: i64,
    pub outlet_code: String,
    pub outlet_name: String,
    /// air | water
    #[schema(value_type = String)]
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

impl From<DeviceView> for Device {
    fn from(row: DeviceView) -> Self {
        Device {
            device_id: row.device_id,
            mn: row.mn,
            outlet_id: row.outlet_id,
            outlet_code: row.outlet_code,
            outlet_name: row.outlet_name,
            outlet_kind: row.outlet_kind,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            jurisdiction_code: row.jurisdiction_code,
            last_seen_at: row.last_seen_at,
            last_data_time: row.last_data_time,
            protocol_version: row.protocol_version,
            peer: row.peer,
            packets: row.packets,
            deviations: row.deviations,
            rejected: row.rejected,
            last_rejection: row.last_rejection,
            last_rejected_at: row.last_rejected_at,
            enabled: row.enabled,
            tolerance: row.tolerance,
            online: row.online,
        }
    }
}

/// An outlet with the standard it is judged by (`None` when not yet bound).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutletStandard {
    pub outlet_id: i64,
    pub enterprise_id: i64,
    pub outlet_code: String,
    pub outlet_name: String,
    /// "air" | "water".
    #[schema(value_type = String)]
    pub outlet_kind: OutletKind,
    pub standard: Option<String>,
    pub source_class: Option<String>,
    pub special_limits: Option<bool>,
    pub set_by: Option<String>,
    pub set_at: Option<String>,
}

impl OutletStandard {
    pub fn binding(&self) -> Option<OutletBinding> {
        outlet_binding(
            self.standard.as_deref(),
            self.source_class.as_deref(),
            self.special_limits,
        )
    }
}

impl From<OutletStandardRow> for OutletStandard {
    fn from(row: OutletStandardRow) -> Self {
        OutletStandard {
            outlet_id: row.outlet_id,
            enterprise_id: row.enterprise_id,
            outlet_code: row.outlet_code,
            outlet_name: row.outlet_name,
            outlet_kind: row.outlet_kind,
            standard: row.standard,
            source_class: row.source_class,
            special_limits: row.special_limits,
            set_by: row.set_by,
            set_at: row.set_at,
        }
    }
}

/// The newest packet of a device, parsed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LatestValues {
    pub device_id: i64,
    pub mn: String,
    pub outlet_code: String,
    /// 2051 minute, 2011 real-time or 2061 hourly: the newest of what the device sends.
    pub kind: i64,
    pub data_time: i64,
    pub received_at: String,
    pub values: Vec<LatestValue>,
}

impl From<StoredValues> for LatestValues {
    fn from(row: StoredValues) -> Self {
        LatestValues {
            device_id: row.device_id,
            mn: row.mn,
            outlet_code: row.outlet_code,
            kind: row.kind,
            data_time: row.data_time,
            received_at: row.received_at,
            values: row.values.into_iter().map(LatestValue::from).collect(),
        }
    }
}

/// One factor of a latest packet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LatestValue {
    pub factor: String,
    /// `Avg` (minute, hour) or `Rtd` (real-time), as sent.
    pub value: Option<f64>,
    pub zs_value: Option<f64>,
    pub flag: Option<String>,
}

impl From<StoredValue> for LatestValue {
    fn from(row: StoredValue) -> Self {
        LatestValue {
            factor: row.factor,
            value: row.value,
            zs_value: row.zs_value,
            flag: row.flag,
        }
    }
}

/// One point of an hourly or daily series: `at` is `YYYYMMDDhh0000` for hours, `YYYYMMDD` for
/// days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesPoint {
    pub at: i64,
    /// valid | invalid | missing
    #[schema(value_type = String)]
    pub status: Status,
    pub reason: String,
    /// recomputed | device | none
    #[schema(value_type = String)]
    pub basis: Basis,
    /// The value judged (valid means only).
    pub value: Option<f64>,
    /// The platform's recomputed value (hours) or the mean (days).
    pub platform_value: Option<f64>,
    /// The device's own value, on the judged basis (hours) or as sent (days).
    pub device_value: Option<f64>,
    pub unit: String,
    pub limit_value: Option<f64>,
    pub limit_id: Option<String>,
    pub exceeded: bool,
}

impl From<StoredPoint> for SeriesPoint {
    fn from(row: StoredPoint) -> Self {
        SeriesPoint {
            at: row.at,
            status: row.status,
            reason: row.reason,
            basis: row.basis,
            value: row.value,
            platform_value: row.platform_value,
            device_value: row.device_value,
            unit: row.unit,
            limit_value: row.limit_value,
            limit_id: row.limit_id,
            exceeded: row.exceeded,
        }
    }
}

/// An exceedance event: consecutive exceedance hours of one device and factor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceedanceEvent {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub outlet_code: String,
    pub outlet_name: String,
    pub device_id: i64,
    pub mn: String,
    pub factor: String,
    /// `YYYYMMDDhh0000`, China time; the last hour is included.
    pub first_hour: i64,
    pub last_hour: i64,
    pub hours: i64,
    pub max_value: f64,
    pub limit_value: f64,
    pub unit: String,
    pub limit_id: String,
}

impl From<EventRow> for ExceedanceEvent {
    fn from(row: EventRow) -> Self {
        ExceedanceEvent {
            id: row.id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            jurisdiction_code: row.jurisdiction_code,
            outlet_code: row.outlet_code,
            outlet_name: row.outlet_name,
            device_id: row.device_id,
            mn: row.mn,
            factor: row.factor,
            first_hour: row.first_hour,
            last_hour: row.last_hour,
            hours: row.hours,
            max_value: row.max_value,
            limit_value: row.limit_value,
            unit: row.unit,
            limit_id: row.limit_id,
        }
    }
}

/// An exceedance day of one device and factor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceedanceDay {
    pub enterprise_id: i64,
    pub outlet_code: String,
    pub device_id: i64,
    pub mn: String,
    pub factor: String,
    /// `YYYYMMDD`.
    pub day: i64,
    /// valid | invalid | missing
    #[schema(value_type = String)]
    pub status: Status,
    pub value: Option<f64>,
    pub unit: String,
    pub limit_value: Option<f64>,
    pub exceedance_hours: i64,
    pub mean_exceeded: bool,
}

impl From<ExceedanceDayRow> for ExceedanceDay {
    fn from(row: ExceedanceDayRow) -> Self {
        ExceedanceDay {
            enterprise_id: row.enterprise_id,
            outlet_code: row.outlet_code,
            device_id: row.device_id,
            mn: row.mn,
            factor: row.factor,
            day: row.day,
            status: row.status,
            value: row.value,
            unit: row.unit,
            limit_value: row.limit_value,
            exceedance_hours: row.exceedance_hours,
            mean_exceeded: row.mean_exceeded,
        }
    }
}

/// An invalid or missing-data period of one device and factor ('' = the whole device).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Gap {
    pub id: i64,
    pub enterprise_id: i64,
    pub outlet_code: String,
    pub device_id: i64,
    pub mn: String,
    pub factor: String,
    pub first_hour: i64,
    pub last_hour: i64,
    pub hours: i64,
    /// invalid | missing.
    #[schema(value_type = String)]
    pub status: Status,
    /// no_data | absent | flagged | over_range | insufficient | o2_invalid | o2_near_ambient | unit.
    #[schema(value_type = String)]
    pub reason: GapReason,
    pub detail: String,
}

impl From<GapRow> for Gap {
    fn from(row: GapRow) -> Self {
        Gap {
            id: row.id,
            enterprise_id: row.enterprise_id,
            outlet_code: row.outlet_code,
            device_id: row.device_id,
            mn: row.mn,
            factor: row.factor,
            first_hour: row.first_hour,
            last_hour: row.last_hour,
            hours: row.hours,
            status: row.status,
            reason: row.reason,
            detail: row.detail,
        }
    }
}

/// A year's cumulative load of one factor, of an outlet or the whole enterprise, beside the
/// permit's limit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Load {
    /// `None`: the enterprise's total.
    pub outlet_id: Option<i64>,
    pub outlet_code: Option<String>,
    pub factor: String,
    pub year: i64,
    pub load_kg: f64,
    pub limit_tonnes: Option<f64>,
    pub permit_ref: Option<String>,
    pub exceeded: bool,
}

impl From<LoadRow> for Load {
    fn from(row: LoadRow) -> Self {
        Load {
            outlet_id: row.outlet_id,
            outlet_code: row.outlet_code,
            factor: row.factor,
            year: row.year,
            load_kg: row.load_kg,
            limit_tonnes: row.limit_tonnes,
            permit_ref: row.permit_ref,
            exceeded: row.exceeded,
        }
    }
}

/// A candidate created from online monitoring, with the evidence it became.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidate {
    pub id: i64,
    pub enterprise_id: i64,
    #[schema(value_type = String)]
    pub kind: EvidenceKind,
    pub factor: String,
    pub period: String,
    pub evidence_id: i64,
    #[schema(value_type = String)]
    pub evidence_status: EvidenceStatus,
    /// The hours or loads behind it, the limit and the rule versions.
    #[schema(value_type = Object)]
    pub detail: JsonColumn<serde_json::Value>,
    pub created_at: String,
}

impl From<CandidateRow> for Candidate {
    fn from(row: CandidateRow) -> Self {
        Candidate {
            id: row.id,
            enterprise_id: row.enterprise_id,
            kind: row.kind,
            factor: row.factor,
            period: row.period,
            evidence_id: row.evidence_id,
            evidence_status: row.evidence_status,
            detail: row.detail,
            created_at: row.created_at,
        }
    }
}

/// An unknown MN, as the province sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuarantineMn {
    pub mn: String,
    pub first_seen_at: String,
    pub last_seen_at: String,
    /// The address the last packet came from.
    pub last_peer: String,
    /// Packets received from this MN.
    pub packets: i64,
    /// Packets kept now (until assigned or discarded).
    pub kept: i64,
    /// Packets not kept: the cap was reached, or the MN had been discarded.
    pub dropped: i64,
    /// open | assigned | discarded
    pub resolution: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
    pub device_id: Option<i64>,
}

impl From<StoredMn> for QuarantineMn {
    fn from(row: StoredMn) -> Self {
        QuarantineMn {
            mn: row.mn,
            first_seen_at: row.first_seen_at,
            last_seen_at: row.last_seen_at,
            last_peer: row.last_peer,
            packets: row.packets,
            kept: row.kept,
            dropped: row.dropped,
            resolution: row.resolution,
            resolved_by: row.resolved_by,
            resolved_at: row.resolved_at,
            device_id: row.device_id,
        }
    }
}

/// A kept packet of an unknown MN.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuarantinePacket {
    pub id: i64,
    pub received_at: String,
    pub packet: String,
}

impl From<QuarantinePacketRow> for QuarantinePacket {
    fn from(row: QuarantinePacketRow) -> Self {
        QuarantinePacket {
            id: row.id,
            received_at: row.received_at,
            packet: row.packet,
        }
    }
}

/// What assigning an MN did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignOutcome {
    /// Kept packets written into the device's data.
    pub replayed: u64,
    /// Kept packets whose data the device already had.
    pub duplicates: u64,
    /// Kept packets that held no data (other commands), removed with the rest.
    pub without_data: u64,
}

impl From<StoredAssignOutcome> for AssignOutcome {
    fn from(row: StoredAssignOutcome) -> Self {
        AssignOutcome {
            replayed: row.replayed,
            duplicates: row.duplicates,
            without_data: row.without_data,
        }
    }
}
