//! Online monitoring (HJ 212), the receiver's side of the tables of migrations 0005 and 0006:
//! the device directory the receiver maps MNs with, the batch write (data, quarantine, device
//! status in one transaction) on a dedicated durable connection, the quarantine the province
//! resolves, retention, and the per-device receiver settings. See docs/MONITORING.md.
//!
//! The write path is built for group commit: the receiver collects the packets of many
//! connections into one [`IngestBatch`], [`MonitoringWriter::store`] writes it with multi-row
//! statements of a few fixed sizes (so every statement text is prepared once per connection and
//! then reused) and commits once; only then does the receiver acknowledge the packets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use cpaudit_hj212::{Deviation, Deviations};
use serde::Serialize;
use serde_json::json;
use sqlx::{Connection, PgConnection, SqliteConnection, SqlitePool};

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::{on_pool, timestamp, Backend, Db, Principal, Result, Scope, StorageError, Tx};

/// HJ 212 command code of real-time data.
pub const KIND_REALTIME: i64 = 2011;
/// HJ 212 command code of minute data.
pub const KIND_MINUTE: i64 = 2051;
/// HJ 212 command code of hourly data.
pub const KIND_HOURLY: i64 = 2061;
/// HJ 212 command code of daily data.
pub const KIND_DAILY: i64 = 2031;
/// The data kinds kept in `monitoring_data`.
pub const DATA_KINDS: [i64; 4] = [KIND_REALTIME, KIND_MINUTE, KIND_HOURLY, KIND_DAILY];

/// Kept packets per unknown MN unless configured otherwise: about a week of minute data from one
/// device (design: enough to cover the days until the province assigns the MN, bounded so that
/// a misconfigured fleet cannot fill the disk).
pub const DEFAULT_QUARANTINE_CAP: u32 = 10_000;

/// One registered device as the receiver sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub device_id: i64,
    pub mn: String,
    pub outlet_id: i64,
    /// air | water
    pub outlet_kind: String,
    pub enterprise_id: i64,
    /// The deviations from HJ 212-2017 this device is allowed (empty: strict).
    pub tolerance: Deviations,
    /// Whether the device is in service; packets of a device out of service are refused.
    pub enabled: bool,
}

/// The stored form of a tolerance: the deviations' names, comma-separated, in a stable order.
pub fn tolerance_text(set: Deviations) -> String {
    set.iter()
        .map(Deviation::name)
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads a stored tolerance; names no deviation has are returned apart (a newer or older
/// program wrote them) so the caller can report them.
pub fn parse_tolerance(text: &str) -> (Deviations, Vec<String>) {
    let mut set = Deviations::EMPTY;
    let mut unknown = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match Deviation::ALL.into_iter().find(|d| d.name() == name) {
            Some(deviation) => set.insert(deviation),
            None => unknown.push(name.to_string()),
        }
    }
    (set, unknown)
}

/// A device's stored tolerance as its settings page and API read it: a switch this version
/// does not know fails the read instead of being dropped from what the province sees. (The
/// receiver's directory logs and ignores it instead: one bad row must not stop the intake.)
fn stored_tolerance(device_id: i64, text: &str) -> Result<Deviations> {
    match parse_tolerance(text) {
        (set, unknown) if unknown.is_empty() => Ok(set),
        _ => Err(StorageError::Corrupt {
            table: "device_settings",
            row_id: device_id,
            column: "tolerance",
            value: text.to_string(),
        }),
    }
}

/// One packet's data for `monitoring_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRow {
    pub device_id: i64,
    /// The command code: 2011, 2051, 2061 or 2031.
    pub kind: i64,
    /// `DataTime` as `YYYYMMDDhhmmss`, China time as sent.
    pub data_time: i64,
    pub qn: String,
    pub received_at: String,
    /// The data area as sent.
    pub cp: String,
    /// A piece of a split message (PNUM > 1): merged into the row of its data time (its data
    /// area appended unless already there) instead of being a duplicate of the first piece.
    pub split: bool,
}

/// What the receiver read from a quarantined packet, for the replay when the MN is assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedData {
    pub kind: i64,
    pub data_time: i64,
    pub qn: String,
    pub cp: String,
    pub split: bool,
}

/// A packet from an MN no device is registered under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedPacket {
    pub mn: String,
    pub received_at: String,
    pub peer: String,
    /// The whole packet as received, `##` to the CRC.
    pub packet: String,
    /// `None` when the packet holds nothing for `monitoring_data`.
    pub data: Option<QuarantinedData>,
}

/// What one device did within a batch. A batch may hold several for one device; they are
/// merged (latest time, sums of the counts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusUpdate {
    pub device_id: i64,
    pub seen_at: String,
    /// The latest data time received (the stored value only ever moves forward).
    pub last_data_time: Option<i64>,
    /// The version the packets announce, e.g. `2017 Flag=5`; empty keeps the stored one.
    pub protocol_version: String,
    pub peer: String,
    pub packets: i64,
    /// Packets accepted under a tolerance switch.
    pub deviations: i64,
    /// Packets refused.
    pub rejected: i64,
    pub last_rejection: Option<String>,
}

impl StatusUpdate {
    fn merge(&mut self, other: &StatusUpdate) {
        if other.seen_at > self.seen_at {
            self.seen_at.clone_from(&other.seen_at);
        }
        self.last_data_time = self.last_data_time.max(other.last_data_time);
        if !other.protocol_version.is_empty() {
            self.protocol_version.clone_from(&other.protocol_version);
        }
        if !other.peer.is_empty() {
            self.peer.clone_from(&other.peer);
        }
        self.packets += other.packets;
        self.deviations += other.deviations;
        self.rejected += other.rejected;
        if other.last_rejection.is_some() {
            self.last_rejection.clone_from(&other.last_rejection);
        }
    }
}

/// Everything one group commit writes.
#[derive(Debug, Clone, Default)]
pub struct IngestBatch {
    pub rows: Vec<DataRow>,
    pub quarantined: Vec<QuarantinedPacket>,
    pub statuses: Vec<StatusUpdate>,
}

impl IngestBatch {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.quarantined.is_empty() && self.statuses.is_empty()
    }
}

/// What became of a quarantined packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineFate {
    /// Kept in `quarantine_packets`.
    Kept,
    /// Not kept: the MN already has as many kept packets as the cap allows.
    DroppedFull,
    /// Not kept: the province discarded this MN.
    DroppedDiscarded,
    /// The MN was assigned to a device meanwhile: stored as that device's data.
    Redirected,
}

impl QuarantineFate {
    /// Whether the packet is in the database now (and may be acknowledged).
    pub fn is_stored(self) -> bool {
        matches!(self, QuarantineFate::Kept | QuarantineFate::Redirected)
    }
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// New rows (and split pieces merged into a row), by kind.
    pub stored: BTreeMap<i64, u64>,
    /// Rows already there, by kind: not stored twice.
    pub duplicates: BTreeMap<i64, u64>,
    /// The fate of each quarantined packet, in the batch's order.
    pub quarantine: Vec<QuarantineFate>,
}

impl BatchOutcome {
    pub fn stored_total(&self) -> u64 {
        self.stored.values().sum()
    }

    pub fn duplicates_total(&self) -> u64 {
        self.duplicates.values().sum()
    }
}

/// A connection borrowed from a transaction on either database.
enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }
}

fn conn_of(tx: &mut Tx) -> Conn<'_> {
    match tx {
        Tx::Sqlite(tx, _) => Conn::Sqlite(tx),
        Tx::Postgres(tx) => Conn::Postgres(tx),
    }
}

/// Runs the same expression on whichever connection a [`Conn`] holds.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            Conn::Sqlite(inner) => {
                let $c = &mut **inner;
                $body
            }
            Conn::Postgres(inner) => {
                let $c = &mut **inner;
                $body
            }
        }
    };
}

/// Rows per multi-row statement: at most this many, and otherwise a power of two, so that a
/// connection prepares at most nine texts per statement kind and reuses them.
const MAX_ROWS_PER_STATEMENT: usize = 256;

/// Splits `n` rows into statement sizes: 256s, then descending powers of two.
fn statement_sizes(mut n: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    while n > 0 {
        let size = if n >= MAX_ROWS_PER_STATEMENT {
            MAX_ROWS_PER_STATEMENT
        } else {
            1 << (usize::BITS - 1 - n.leading_zeros())
        };
        sizes.push(size);
        n -= size;
    }
    sizes
}

/// `($1, $2, …), (…)` for `rows` rows of `columns` parameters; on SQLite anonymous `?`
/// placeholders, bound in order: sqlx looks each `$N` up by name, a linear scan in SQLite, which
/// makes a statement of a thousand parameters cost a million steps.
fn values_list(rows: usize, columns: usize, backend: Backend) -> String {
    let mut text = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..columns {
            if column > 0 {
                text.push_str(", ");
            }
            match backend {
                Backend::Sqlite => text.push('?'),
                Backend::Postgres => {
                    text.push('$');
                    text.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        text.push(')');
    }
    text
}

/// Statement texts for 1, 2, 4, … 256 rows, per backend, built once.
type TextCache = OnceLock<[Vec<String>; 2]>;

/// The text of a multi-row statement of `rows` rows (a power of two up to 256).
fn cached_text(
    cache: &'static TextCache,
    backend: Backend,
    rows: usize,
    build: impl Fn(usize, Backend) -> String,
) -> &'static str {
    let texts = cache.get_or_init(|| {
        [Backend::Sqlite, Backend::Postgres]
            .map(|b| (0..=8).map(|exp| build(1 << exp, b)).collect())
    });
    let index = match backend {
        Backend::Sqlite => 0,
        Backend::Postgres => 1,
    };
    &texts[index][rows.trailing_zeros() as usize]
}

fn insert_data_text(backend: Backend, rows: usize) -> &'static str {
    static CACHE: TextCache = OnceLock::new();
    cached_text(&CACHE, backend, rows, |n, b| {
        format!(
            "INSERT INTO monitoring_data (device_id, kind, data_time, qn, received_at, cp) \
             VALUES {} ON CONFLICT (device_id, kind, data_time) DO NOTHING",
            values_list(n, 6, b)
        )
    })
}

const STATUS_COLUMNS: usize = 10;

fn upsert_status_text(backend: Backend, rows: usize) -> &'static str {
    static CACHE: TextCache = OnceLock::new();
    cached_text(&CACHE, backend, rows, |n, b| {
        format!(
            "INSERT INTO device_status (device_id, last_seen_at, last_data_time, \
             protocol_version, peer, packets, deviations, rejected, last_rejection, \
             last_rejected_at) VALUES {} \
             ON CONFLICT (device_id) DO UPDATE SET \
             last_seen_at = CASE WHEN excluded.last_seen_at > device_status.last_seen_at \
                 THEN excluded.last_seen_at ELSE device_status.last_seen_at END, \
             last_data_time = CASE WHEN device_status.last_data_time IS NULL \
                 OR excluded.last_data_time > device_status.last_data_time \
                 THEN excluded.last_data_time ELSE device_status.last_data_time END, \
             protocol_version = CASE WHEN excluded.protocol_version = '' \
                 THEN device_status.protocol_version ELSE excluded.protocol_version END, \
             peer = CASE WHEN excluded.peer = '' THEN device_status.peer ELSE excluded.peer END, \
             packets = device_status.packets + excluded.packets, \
             deviations = device_status.deviations + excluded.deviations, \
             rejected = device_status.rejected + excluded.rejected, \
             last_rejection = COALESCE(excluded.last_rejection, device_status.last_rejection), \
             last_rejected_at = COALESCE(excluded.last_rejected_at, device_status.last_rejected_at)",
            values_list(n, STATUS_COLUMNS, b)
        )
    })
}

const QUARANTINE_PACKET_COLUMNS: usize = 8;

fn insert_quarantine_text(backend: Backend, rows: usize) -> &'static str {
    static CACHE: TextCache = OnceLock::new();
    cached_text(&CACHE, backend, rows, |n, b| {
        format!(
            "INSERT INTO quarantine_packets (mn, received_at, packet, kind, data_time, qn, cp, \
             split) VALUES {}",
            values_list(n, QUARANTINE_PACKET_COLUMNS, b)
        )
    })
}

/// A split piece: a new row, or its data area appended to the row of its data time unless the
/// row already holds it (a retransmitted piece), so pieces arriving in any order, across
/// reconnections or after a timeout all end in one row.
fn merge_piece_text(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "INSERT INTO monitoring_data (device_id, kind, data_time, qn, received_at, cp) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id, kind, data_time) DO UPDATE \
             SET cp = monitoring_data.cp || ';' || excluded.cp \
             WHERE instr(monitoring_data.cp, excluded.cp) = 0"
        }
        Backend::Postgres => {
            "INSERT INTO monitoring_data (device_id, kind, data_time, qn, received_at, cp) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id, kind, data_time) DO UPDATE \
             SET cp = monitoring_data.cp || ';' || excluded.cp \
             WHERE strpos(monitoring_data.cp, excluded.cp) = 0"
        }
    }
}

/// Late data: minute and hourly rows for hours the judgement has evaluated already (the device's
/// watermark is past them), typically what a logger buffered while offline (补传). The earliest
/// such data time per device goes into `judgement_rewinds`, and the judgement job evaluates the
/// device again from there (docs/MONITORING.md, "Late data"). Rows already stored (a resend) are
/// not late; a split piece is, since it adds to its row. Runs before the rows are inserted, in
/// their transaction: one statement per batch reads the watermarks of its devices; only late
/// rows cost more.
async fn note_late_data(conn: &mut Conn<'_>, rows: &[&DataRow]) -> Result<()> {
    let judged = |row: &&&DataRow| matches!(row.kind, KIND_MINUTE | KIND_HOURLY);
    let devices: BTreeSet<i64> = rows.iter().filter(judged).map(|r| r.device_id).collect();
    if devices.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(&devices).expect("numbers serialize");
    let watermarks_sql = match conn.backend() {
        Backend::Sqlite => {
            "SELECT device_id, next_hour FROM judgement_watermarks \
             WHERE device_id IN (SELECT value FROM json_each($1))"
        }
        Backend::Postgres => {
            "SELECT device_id, next_hour FROM judgement_watermarks \
             WHERE device_id IN (SELECT CAST(json_array_elements_text($1::json) AS BIGINT))"
        }
    };
    let watermarks: Vec<(i64, i64)> = on_conn!(conn, |c| {
        sqlx::query_as(watermarks_sql)
            .bind(ids.as_str())
            .fetch_all(c)
            .await
    })?;
    if watermarks.is_empty() {
        return Ok(());
    }
    let watermarks: HashMap<i64, i64> = watermarks.into_iter().collect();
    let mut earliest: BTreeMap<i64, i64> = BTreeMap::new();
    for row in rows.iter().filter(judged) {
        let Some(&next_hour) = watermarks.get(&row.device_id) else {
            continue;
        };
        if row.data_time >= next_hour || (!row.split && stored_already(conn, row).await?) {
            continue;
        }
        let from = earliest.entry(row.device_id).or_insert(row.data_time);
        *from = (*from).min(row.data_time);
    }
    for (device_id, from_time) in earliest {
        note_rewind(conn, device_id, from_time).await?;
    }
    Ok(())
}

/// Asks the judgement to evaluate the device again from `from_time` (a data time), keeping an
/// earlier request.
async fn note_rewind(conn: &mut Conn<'_>, device_id: i64, from_time: i64) -> Result<()> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "INSERT INTO judgement_rewinds (device_id, from_time) VALUES ($1, $2) \
             ON CONFLICT (device_id) DO UPDATE \
             SET from_time = MIN(judgement_rewinds.from_time, excluded.from_time)"
        }
        Backend::Postgres => {
            "INSERT INTO judgement_rewinds (device_id, from_time) VALUES ($1, $2) \
             ON CONFLICT (device_id) DO UPDATE \
             SET from_time = LEAST(judgement_rewinds.from_time, excluded.from_time)"
        }
    };
    on_conn!(conn, |c| {
        sqlx::query(sql)
            .bind(device_id)
            .bind(from_time)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// [`note_rewind`] within a transaction (for the judgement job).
pub(crate) async fn note_rewind_in(tx: &mut Tx, device_id: i64, from_time: i64) -> Result<()> {
    note_rewind(&mut conn_of(tx), device_id, from_time).await
}

async fn stored_already(conn: &mut Conn<'_>, row: &DataRow) -> Result<bool> {
    let found: Option<i64> = on_conn!(conn, |c| {
        sqlx::query_scalar(
            "SELECT kind FROM monitoring_data WHERE device_id = $1 AND kind = $2 \
             AND data_time = $3",
        )
        .bind(row.device_id)
        .bind(row.kind)
        .bind(row.data_time)
        .fetch_optional(c)
        .await
    })?;
    Ok(found.is_some())
}

/// Inserts data rows; whole packets in multi-row statements, one kind per statement so that the
/// rows it inserted tell how many of that kind were stored (the rest were duplicates), split
/// pieces one by one. (`RETURNING` would say the same, but on SQLite sqlx hands every returned
/// row from its worker thread to the caller on its own, a thread wake-up per packet.)
async fn write_rows(
    conn: &mut Conn<'_>,
    rows: &[&DataRow],
    outcome: &mut BatchOutcome,
) -> Result<()> {
    note_late_data(conn, rows).await?;
    let mut whole_by_kind: BTreeMap<i64, Vec<&DataRow>> = BTreeMap::new();
    let mut pieces = Vec::new();
    for row in rows.iter().copied() {
        if row.split {
            pieces.push(row);
        } else {
            whole_by_kind.entry(row.kind).or_default().push(row);
        }
    }
    for (kind, whole) in whole_by_kind {
        let mut offset = 0;
        for size in statement_sizes(whole.len()) {
            let chunk = &whole[offset..offset + size];
            offset += size;
            let text = insert_data_text(conn.backend(), size);
            let inserted = on_conn!(conn, |c| {
                let mut query = sqlx::query(text);
                for row in chunk {
                    query = query
                        .bind(row.device_id)
                        .bind(row.kind)
                        .bind(row.data_time)
                        .bind(row.qn.as_str())
                        .bind(row.received_at.as_str())
                        .bind(row.cp.as_str());
                }
                query.execute(c).await.map(|done| done.rows_affected())
            })?;
            *outcome.stored.entry(kind).or_default() += inserted;
            let duplicates = size as u64 - inserted;
            if duplicates > 0 {
                *outcome.duplicates.entry(kind).or_default() += duplicates;
            }
        }
    }
    let text = merge_piece_text(conn.backend());
    for row in pieces {
        let changed = on_conn!(conn, |c| {
            sqlx::query(text)
                .bind(row.device_id)
                .bind(row.kind)
                .bind(row.data_time)
                .bind(row.qn.as_str())
                .bind(row.received_at.as_str())
                .bind(row.cp.as_str())
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        })?;
        let counts = if changed > 0 {
            &mut outcome.stored
        } else {
            &mut outcome.duplicates
        };
        *counts.entry(row.kind).or_default() += 1;
    }
    Ok(())
}

/// Device status rows, one upsert per device.
async fn write_statuses(conn: &mut Conn<'_>, updates: &[StatusUpdate]) -> Result<()> {
    let mut merged: BTreeMap<i64, StatusUpdate> = BTreeMap::new();
    for update in updates {
        merged
            .entry(update.device_id)
            .and_modify(|m| m.merge(update))
            .or_insert_with(|| update.clone());
    }
    let merged: Vec<StatusUpdate> = merged.into_values().collect();
    let mut offset = 0;
    for size in statement_sizes(merged.len()) {
        let chunk = &merged[offset..offset + size];
        offset += size;
        let text = upsert_status_text(conn.backend(), size);
        on_conn!(conn, |c| {
            let mut query = sqlx::query(text);
            for s in chunk {
                let rejected_at = s.last_rejection.as_ref().map(|_| s.seen_at.as_str());
                query = query
                    .bind(s.device_id)
                    .bind(s.seen_at.as_str())
                    .bind(s.last_data_time)
                    .bind(s.protocol_version.as_str())
                    .bind(s.peer.as_str())
                    .bind(s.packets)
                    .bind(s.deviations)
                    .bind(s.rejected)
                    .bind(s.last_rejection.as_deref())
                    .bind(rejected_at);
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct MnState {
    resolution: String,
    device_id: Option<i64>,
    kept: i64,
}

#[derive(Debug, Default)]
struct MnDelta {
    first_seen_at: String,
    last_seen_at: String,
    last_peer: String,
    packets: i64,
    kept: i64,
    dropped: i64,
}

/// Decides each quarantined packet's fate against the MN's state in the database, then writes
/// the MNs and the kept packets. Packets of an MN assigned meanwhile become `redirected` rows.
async fn write_quarantine(
    conn: &mut Conn<'_>,
    packets: &[QuarantinedPacket],
    cap: u32,
    redirected: &mut Vec<DataRow>,
) -> Result<Vec<QuarantineFate>> {
    let mut states: HashMap<&str, MnState> = HashMap::new();
    for packet in packets {
        if states.contains_key(packet.mn.as_str()) {
            continue;
        }
        let found: Option<MnState> = on_conn!(conn, |c| {
            sqlx::query_as("SELECT resolution, device_id, kept FROM quarantine_mns WHERE mn = $1")
                .bind(packet.mn.as_str())
                .fetch_optional(c)
                .await
        })?;
        states.insert(
            packet.mn.as_str(),
            found.unwrap_or(MnState {
                resolution: "open".into(),
                device_id: None,
                kept: 0,
            }),
        );
    }
    let mut fates = Vec::with_capacity(packets.len());
    let mut deltas: BTreeMap<&str, MnDelta> = BTreeMap::new();
    let mut kept: Vec<&QuarantinedPacket> = Vec::new();
    for packet in packets {
        let state = states
            .get_mut(packet.mn.as_str())
            .expect("every MN was looked up above");
        let delta = deltas.entry(packet.mn.as_str()).or_default();
        if delta.first_seen_at.is_empty() || packet.received_at < delta.first_seen_at {
            delta.first_seen_at.clone_from(&packet.received_at);
        }
        if packet.received_at > delta.last_seen_at {
            delta.last_seen_at.clone_from(&packet.received_at);
        }
        delta.last_peer.clone_from(&packet.peer);
        delta.packets += 1;
        let fate = match (state.resolution.as_str(), state.device_id) {
            ("assigned", Some(device_id)) => {
                if let Some(data) = &packet.data {
                    redirected.push(DataRow {
                        device_id,
                        kind: data.kind,
                        data_time: data.data_time,
                        qn: data.qn.clone(),
                        received_at: packet.received_at.clone(),
                        cp: data.cp.clone(),
                        split: data.split,
                    });
                }
                QuarantineFate::Redirected
            }
            ("discarded", _) => {
                delta.dropped += 1;
                QuarantineFate::DroppedDiscarded
            }
            _ if state.kept >= i64::from(cap) => {
                delta.dropped += 1;
                QuarantineFate::DroppedFull
            }
            _ => {
                state.kept += 1;
                delta.kept += 1;
                kept.push(packet);
                QuarantineFate::Kept
            }
        };
        fates.push(fate);
    }
    for (mn, delta) in &deltas {
        on_conn!(conn, |c| {
            sqlx::query(
                "INSERT INTO quarantine_mns (mn, first_seen_at, last_seen_at, last_peer, packets, \
                 kept, dropped) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (mn) DO UPDATE SET \
                 last_seen_at = CASE WHEN excluded.last_seen_at > quarantine_mns.last_seen_at \
                     THEN excluded.last_seen_at ELSE quarantine_mns.last_seen_at END, \
                 last_peer = excluded.last_peer, \
                 packets = quarantine_mns.packets + excluded.packets, \
                 kept = quarantine_mns.kept + excluded.kept, \
                 dropped = quarantine_mns.dropped + excluded.dropped",
            )
            .bind(*mn)
            .bind(delta.first_seen_at.as_str())
            .bind(delta.last_seen_at.as_str())
            .bind(delta.last_peer.as_str())
            .bind(delta.packets)
            .bind(delta.kept)
            .bind(delta.dropped)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
    }
    let mut offset = 0;
    for size in statement_sizes(kept.len()) {
        let chunk = &kept[offset..offset + size];
        offset += size;
        let text = insert_quarantine_text(conn.backend(), size);
        on_conn!(conn, |c| {
            let mut query = sqlx::query(text);
            for p in chunk {
                let data = p.data.as_ref();
                query = query
                    .bind(p.mn.as_str())
                    .bind(p.received_at.as_str())
                    .bind(p.packet.as_str())
                    .bind(data.map(|d| d.kind))
                    .bind(data.map(|d| d.data_time))
                    .bind(data.map_or("", |d| d.qn.as_str()))
                    .bind(data.map(|d| d.cp.as_str()))
                    .bind(data.is_some_and(|d| d.split));
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(fates)
}

/// The whole batch inside an open transaction.
async fn write_batch(conn: &mut Conn<'_>, batch: &IngestBatch, cap: u32) -> Result<BatchOutcome> {
    let mut outcome = BatchOutcome::default();
    let mut redirected = Vec::new();
    if !batch.quarantined.is_empty() {
        outcome.quarantine =
            write_quarantine(conn, &batch.quarantined, cap, &mut redirected).await?;
    }
    let rows: Vec<&DataRow> = batch.rows.iter().chain(redirected.iter()).collect();
    write_rows(conn, &rows, &mut outcome).await?;
    write_statuses(conn, &batch.statuses).await?;
    Ok(outcome)
}

enum WriterConn {
    /// The pool is kept for the database's write turn.
    Sqlite(SqliteConnection, SqlitePool),
    Postgres(PgConnection),
}

/// The receiver's own connection for its group commits, durable at commit: on SQLite with
/// `synchronous=FULL` (the pool's `NORMAL` in WAL mode may lose the last commits on power loss,
/// and an acknowledged packet must not be lost), on PostgreSQL with `synchronous_commit=on`
/// set explicitly, whatever the server's default. It reconnects after an error.
pub struct MonitoringWriter {
    db: Db,
    conn: Option<WriterConn>,
}

impl std::fmt::Debug for MonitoringWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitoringWriter")
            .field("backend", &self.db.backend())
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl MonitoringWriter {
    async fn connect(db: &Db) -> Result<WriterConn> {
        Ok(match db {
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await?.detach();
                sqlx::query("PRAGMA synchronous = FULL")
                    .execute(&mut conn)
                    .await?;
                WriterConn::Sqlite(conn, pool.clone())
            }
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?.detach();
                sqlx::query("SET synchronous_commit = on")
                    .execute(&mut conn)
                    .await?;
                WriterConn::Postgres(conn)
            }
        })
    }

    /// Writes a batch in one transaction and commits it durably. At most `quarantine_cap`
    /// packets are kept per unknown MN; the rest are counted as dropped.
    pub async fn store(
        &mut self,
        batch: &IngestBatch,
        quarantine_cap: u32,
    ) -> Result<BatchOutcome> {
        if self.conn.is_none() {
            self.conn = Some(Self::connect(&self.db).await?);
        }
        let result = match self.conn.as_mut().expect("connected above") {
            WriterConn::Sqlite(conn, pool) => {
                let _turn = crate::db::sqlite_write_turn(pool).await?;
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                let outcome = write_batch(&mut Conn::Sqlite(&mut tx), batch, quarantine_cap).await;
                match outcome {
                    Ok(outcome) => tx.commit().await.map(|()| outcome).map_err(Into::into),
                    Err(error) => Err(error),
                }
            }
            WriterConn::Postgres(conn) => {
                let mut tx = conn.begin().await?;
                let outcome =
                    write_batch(&mut Conn::Postgres(&mut tx), batch, quarantine_cap).await;
                match outcome {
                    Ok(outcome) => tx.commit().await.map(|()| outcome).map_err(Into::into),
                    Err(error) => Err(error),
                }
            }
        };
        if result.is_err() {
            // The connection may be broken or mid-transaction: start afresh next time.
            self.conn = None;
        }
        result
    }
}

/// An unknown MN, as the province sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
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

/// A kept packet of an unknown MN.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QuarantinePacketRow {
    pub id: i64,
    pub received_at: String,
    pub packet: String,
}

/// What assigning an MN did.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct AssignOutcome {
    /// Kept packets written into the device's data.
    pub replayed: u64,
    /// Kept packets whose data the device already had.
    pub duplicates: u64,
    /// Kept packets that held no data (other commands), removed with the rest.
    pub without_data: u64,
}

/// A device's receiver settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSettings {
    pub device_id: i64,
    pub tolerance: Deviations,
    pub enabled: bool,
    /// Who changed them last; `None` when never set (strict, in service).
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
}

/// How long each kind of data is kept, in days; 0 keeps it forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub realtime_days: u32,
    pub minute_days: u32,
    pub hourly_days: u32,
    pub daily_days: u32,
}

impl Default for Retention {
    /// Design defaults (docs/MONITORING.md): real-time data, stored only on request, for a week
    /// of diagnosis; minute data for 1,830 days (five years and a margin: the original records
    /// of automatic monitoring are kept for at least five years under the 排污许可管理条例, and
    /// the hourly means are recomputed from them); hourly and daily values for good, as the
    /// evidence behind determinations.
    fn default() -> Self {
        Retention {
            realtime_days: 7,
            minute_days: 1_830,
            hourly_days: 0,
            daily_days: 0,
        }
    }
}

impl Retention {
    /// Days to keep `kind`; 0 keeps it forever.
    pub fn days(&self, kind: i64) -> u32 {
        match kind {
            KIND_REALTIME => self.realtime_days,
            KIND_MINUTE => self.minute_days,
            KIND_HOURLY => self.hourly_days,
            KIND_DAILY => self.daily_days,
            _ => 0,
        }
    }
}

/// `YYYYMMDDhhmmss` of a time in China Standard Time, the zone `DataTime` is sent in.
pub fn china_data_time(at: DateTime<Utc>) -> i64 {
    let china = at + chrono::Duration::hours(8);
    china
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .expect("14 digits")
}

fn require_province(actor: &Principal, what_zh: &str, what_en: &str) -> Result<()> {
    match actor.scope().kind() {
        ScopeKind::Province => Ok(()),
        _ => Err(StorageError::refused(
            "province_only",
            format!("仅省级生态环境部门可{what_zh}"),
            format!("only the province {what_en}"),
        )),
    }
}

/// An unknown MN the province resolved already (`resolution` is "assigned" or "discarded").
fn mn_resolved(mn: &str, resolution: &str) -> StorageError {
    let zh = match resolution {
        "assigned" => "已分配给登记设备",
        "discarded" => "已丢弃",
        other => other,
    };
    StorageError::conflict(
        "mn_already_resolved",
        format!("设备编号 {mn} {zh}，不能再次处理"),
        format!("the MN {mn} is already {resolution}"),
    )
}

const QUARANTINE_COLUMNS: &str = "mn, first_seen_at, last_seen_at, last_peer, packets, kept, \
    dropped, resolution, resolved_by, resolved_at, device_id";

/// Devices per retention statement and transaction: short transactions, so ingest is not held.
const PURGE_DEVICES_PER_STATEMENT: usize = 100;

impl Db {
    /// The receiver's own connection for group commits (see [`MonitoringWriter`]).
    pub async fn monitoring_writer(&self) -> Result<MonitoringWriter> {
        let conn = MonitoringWriter::connect(self).await?;
        Ok(MonitoringWriter {
            db: self.clone(),
            conn: Some(conn),
        })
    }

    /// Every registered device with its outlet, enterprise and receiver settings (a device
    /// without settings is strict and in service). Read by the receiver, not by a user, so it
    /// takes no scope. Unknown tolerance names are logged and ignored.
    pub async fn device_directory(&self) -> Result<Vec<DirectoryEntry>> {
        type Row = (i64, String, i64, String, i64, String, i64);
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT d.id, d.mn, d.outlet_id, o.kind, o.enterprise_id, \
                 COALESCE(s.tolerance, ''), \
                 CAST(CASE WHEN s.enabled IS NULL OR s.enabled THEN 1 ELSE 0 END AS BIGINT) \
                 FROM devices d JOIN outlets o ON o.id = d.outlet_id \
                 LEFT JOIN device_settings s ON s.device_id = d.id ORDER BY d.id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(device_id, mn, outlet_id, outlet_kind, enterprise_id, tolerance, enabled)| {
                    let (tolerance, unknown) = parse_tolerance(&tolerance);
                    if !unknown.is_empty() {
                        tracing::warn!(device_id, ?unknown, "unknown tolerance names ignored");
                    }
                    DirectoryEntry {
                        device_id,
                        mn,
                        outlet_id,
                        outlet_kind,
                        enterprise_id,
                        tolerance,
                        enabled: enabled != 0,
                    }
                },
            )
            .collect())
    }

    /// Writes a batch through the pool, in one transaction (tests and tools; the receiver uses
    /// its [`MonitoringWriter`]).
    pub async fn store_monitoring_batch(
        &self,
        batch: &IngestBatch,
        quarantine_cap: u32,
    ) -> Result<BatchOutcome> {
        let mut tx = self.begin().await?;
        let outcome = write_batch(&mut conn_of(&mut tx), batch, quarantine_cap).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The unknown MNs (province only): the open ones, or all with `include_resolved`, most
    /// recently heard first.
    pub async fn quarantined_mns(
        &self,
        actor: &Principal,
        include_resolved: bool,
    ) -> Result<Vec<QuarantineMn>> {
        require_province(actor, "查看未登记设备（隔离区）", "sees the quarantine")?;
        let text = format!(
            "SELECT {QUARANTINE_COLUMNS} FROM quarantine_mns \
             WHERE $1 OR resolution = 'open' ORDER BY last_seen_at DESC, mn"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(include_resolved)
                .fetch_all(pool)
                .await?
        }))
    }

    /// One unknown MN (province only).
    pub async fn quarantined_mn(&self, actor: &Principal, mn: &str) -> Result<QuarantineMn> {
        require_province(actor, "查看未登记设备（隔离区）", "sees the quarantine")?;
        let text = format!("SELECT {QUARANTINE_COLUMNS} FROM quarantine_mns WHERE mn = $1");
        let found: Option<QuarantineMn> = on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(mn).fetch_optional(pool).await?
        });
        found.ok_or(StorageError::NotFound)
    }

    /// The packets kept for an unknown MN, oldest first, at most `limit` (province only).
    pub async fn quarantined_packets(
        &self,
        actor: &Principal,
        mn: &str,
        limit: i64,
    ) -> Result<Vec<QuarantinePacketRow>> {
        require_province(actor, "查看未登记设备（隔离区）", "sees the quarantine")?;
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, received_at, packet FROM quarantine_packets WHERE mn = $1 \
                 ORDER BY id LIMIT $2",
            )
            .bind(mn)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Assigns an unknown MN to a registered device (province only): the device takes the MN
    /// (its data logger was replaced, or the MN was registered wrongly), the kept packets are
    /// replayed into its data, the MN is marked assigned, and the act is audited, all in one
    /// transaction. Later packets from the MN are the device's.
    pub async fn assign_quarantined_mn(
        &self,
        actor: &Principal,
        mn: &str,
        device_id: i64,
        now: DateTime<Utc>,
    ) -> Result<AssignOutcome> {
        require_province(actor, "分配未登记设备", "assigns unknown MNs")?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let mut conn = conn_of(&mut tx);
        let resolution: Option<String> = on_conn!(&mut conn, |c| {
            sqlx::query_scalar("SELECT resolution FROM quarantine_mns WHERE mn = $1")
                .bind(mn)
                .fetch_optional(c)
                .await
        })?;
        match resolution.as_deref() {
            None => return Err(StorageError::NotFound),
            Some("open") => {}
            Some(other) => return Err(mn_resolved(mn, other)),
        }
        let old_mn: Option<String> = on_conn!(&mut conn, |c| {
            sqlx::query_scalar("SELECT mn FROM devices WHERE id = $1")
                .bind(device_id)
                .fetch_optional(c)
                .await
        })?;
        let old_mn = old_mn.ok_or(StorageError::NotFound)?;
        let updated = on_conn!(&mut conn, |c| {
            sqlx::query("UPDATE devices SET mn = $1 WHERE id = $2")
                .bind(mn)
                .bind(device_id)
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        });
        if let Err(error) = updated {
            return Err(if StorageError::is_unique_violation(&error) {
                StorageError::Duplicate {
                    field: "mn",
                    value: mn.to_string(),
                }
            } else {
                error.into()
            });
        }
        type Kept = (
            Option<i64>,
            Option<i64>,
            String,
            Option<String>,
            String,
            bool,
        );
        let kept: Vec<Kept> = on_conn!(&mut conn, |c| {
            sqlx::query_as(
                "SELECT kind, data_time, qn, cp, received_at, split FROM quarantine_packets \
                 WHERE mn = $1 ORDER BY id",
            )
            .bind(mn)
            .fetch_all(c)
            .await
        })?;
        let mut without_data = 0;
        let mut rows = Vec::new();
        for (kind, data_time, qn, cp, received_at, split) in kept {
            match (kind, data_time, cp) {
                (Some(kind), Some(data_time), Some(cp)) => rows.push(DataRow {
                    device_id,
                    kind,
                    data_time,
                    qn,
                    received_at,
                    cp,
                    split,
                }),
                _ => without_data += 1,
            }
        }
        let mut outcome = BatchOutcome::default();
        let refs: Vec<&DataRow> = rows.iter().collect();
        write_rows(&mut conn, &refs, &mut outcome).await?;
        let at = timestamp(now);
        on_conn!(&mut conn, |c| {
            sqlx::query("DELETE FROM quarantine_packets WHERE mn = $1")
                .bind(mn)
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        })?;
        on_conn!(&mut conn, |c| {
            sqlx::query(
                "UPDATE quarantine_mns SET resolution = 'assigned', resolved_by = $1, \
                 resolved_at = $2, device_id = $3, kept = 0 WHERE mn = $4",
            )
            .bind(actor.actor())
            .bind(&at)
            .bind(device_id)
            .bind(mn)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        let result = AssignOutcome {
            replayed: outcome.stored_total(),
            duplicates: outcome.duplicates_total(),
            without_data,
        };
        chain
            .append(
                &mut tx,
                actor,
                "hj212.mn_assigned",
                ("hj212_mn", mn),
                Some(&json!({"device_id": device_id, "device_mn": old_mn})),
                Some(&json!({
                    "device_id": device_id,
                    "device_mn": mn,
                    "replayed": result.replayed,
                    "duplicates": result.duplicates,
                    "without_data": result.without_data,
                })),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(result)
    }

    /// Discards an unknown MN (province only): its kept packets are deleted, later ones are
    /// counted and not kept. Returns the number of packets deleted.
    pub async fn discard_quarantined_mn(
        &self,
        actor: &Principal,
        mn: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        require_province(actor, "丢弃未登记设备", "discards unknown MNs")?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let mut conn = conn_of(&mut tx);
        let resolution: Option<String> = on_conn!(&mut conn, |c| {
            sqlx::query_scalar("SELECT resolution FROM quarantine_mns WHERE mn = $1")
                .bind(mn)
                .fetch_optional(c)
                .await
        })?;
        match resolution.as_deref() {
            None => return Err(StorageError::NotFound),
            Some("open") => {}
            Some(other) => return Err(mn_resolved(mn, other)),
        }
        let deleted = on_conn!(&mut conn, |c| {
            sqlx::query("DELETE FROM quarantine_packets WHERE mn = $1")
                .bind(mn)
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        })?;
        let at = timestamp(now);
        on_conn!(&mut conn, |c| {
            sqlx::query(
                "UPDATE quarantine_mns SET resolution = 'discarded', resolved_by = $1, \
                 resolved_at = $2, kept = 0 WHERE mn = $3",
            )
            .bind(actor.actor())
            .bind(&at)
            .bind(mn)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "hj212.mn_discarded",
                ("hj212_mn", mn),
                None,
                Some(&json!({"discarded_packets": deleted})),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(deleted)
    }

    /// Deletes `kind` data with a data time before `before` (`YYYYMMDDhhmmss`), device by
    /// device along the primary key, in short transactions. Returns the rows deleted.
    pub async fn purge_monitoring_data(&self, kind: i64, before: i64) -> Result<u64> {
        let devices: Vec<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT id FROM devices ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        let mut deleted = 0;
        for chunk in devices.chunks(PURGE_DEVICES_PER_STATEMENT) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            // Device ids are integers from the database itself, so they are written inline.
            let text = format!(
                "DELETE FROM monitoring_data WHERE device_id IN ({}) AND kind = $1 \
                 AND data_time < $2",
                ids.join(", ")
            );
            let mut tx = self.begin().await?;
            deleted += on_conn!(&mut conn_of(&mut tx), |c| {
                sqlx::query(&text)
                    .bind(kind)
                    .bind(before)
                    .persistent(false)
                    .execute(c)
                    .await
                    .map(|done| done.rows_affected())
            })?;
            tx.commit().await?;
        }
        Ok(deleted)
    }

    /// Applies a retention policy as of `now`: each kind with a limit loses what is older.
    /// Returns the rows deleted per kind.
    pub async fn apply_retention(
        &self,
        retention: &Retention,
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, u64)>> {
        let mut done = Vec::new();
        for kind in DATA_KINDS {
            let days = retention.days(kind);
            if days == 0 {
                continue;
            }
            let before = china_data_time(now - chrono::Duration::days(i64::from(days)));
            done.push((kind, self.purge_monitoring_data(kind, before).await?));
        }
        Ok(done)
    }

    /// A device's receiver settings, for an official with jurisdiction over its enterprise.
    pub async fn device_settings(&self, scope: &Scope, device_id: i64) -> Result<DeviceSettings> {
        self.device_jurisdiction_check(scope, device_id).await?;
        type Row = (String, bool, String, String);
        let row: Option<Row> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT tolerance, enabled, updated_by, updated_at FROM device_settings \
                 WHERE device_id = $1",
            )
            .bind(device_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(match row {
            Some((text, enabled, by, at)) => DeviceSettings {
                device_id,
                tolerance: stored_tolerance(device_id, &text)?,
                enabled,
                updated_by: Some(by),
                updated_at: Some(at),
            },
            None => DeviceSettings {
                device_id,
                tolerance: Deviations::EMPTY,
                enabled: true,
                updated_by: None,
                updated_at: None,
            },
        })
    }

    /// Sets a device's tolerance switches and whether it is in service (the province, or the
    /// city of the device's enterprise), with an audit entry. The receiver reads the change
    /// with its next directory refresh.
    pub async fn set_device_settings(
        &self,
        actor: &Principal,
        device_id: i64,
        tolerance: Deviations,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let before = self.device_settings(actor.scope(), device_id).await?;
        if before.tolerance == tolerance && before.enabled == enabled && before.updated_by.is_some()
        {
            return Ok(());
        }
        let text = tolerance_text(tolerance);
        let at = timestamp(now);
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_conn!(&mut conn_of(&mut tx), |c| {
            sqlx::query(
                "INSERT INTO device_settings (device_id, tolerance, enabled, updated_by, \
                 updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (device_id) DO UPDATE SET \
                 tolerance = excluded.tolerance, enabled = excluded.enabled, \
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(device_id)
            .bind(&text)
            .bind(enabled)
            .bind(actor.actor())
            .bind(&at)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "device.settings",
                ("device", &device_id.to_string()),
                Some(&json!({
                    "tolerance": tolerance_text(before.tolerance),
                    "enabled": before.enabled,
                })),
                Some(&json!({"tolerance": text, "enabled": enabled})),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// Officials with jurisdiction over the device's enterprise pass; another city does not
    /// learn that the device exists; other roles are refused.
    async fn device_jurisdiction_check(&self, scope: &Scope, device_id: i64) -> Result<()> {
        if !matches!(scope.kind(), ScopeKind::Province | ScopeKind::City(_)) {
            return Err(StorageError::refused(
                "device_settings_officials_only",
                "设备设置仅限省级和设备所在市州生态环境部门",
                "device settings are for the province and the device's city",
            ));
        }
        let code: Option<String> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT e.jurisdiction_code FROM devices d JOIN outlets o ON o.id = d.outlet_id \
                 JOIN enterprises e ON e.id = o.enterprise_id WHERE d.id = $1",
            )
            .bind(device_id)
            .fetch_optional(pool)
            .await?
        });
        match code {
            Some(code) if scope.may_manage_city(&code) => Ok(()),
            _ => Err(StorageError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_sizes_are_few_and_cover_the_rows() {
        assert_eq!(statement_sizes(0), Vec::<usize>::new());
        assert_eq!(statement_sizes(1), [1]);
        assert_eq!(statement_sizes(7), [4, 2, 1]);
        assert_eq!(statement_sizes(600), [256, 256, 64, 16, 8]);
        for n in 0..2000 {
            let sizes = statement_sizes(n);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes
                .iter()
                .all(|s| s.is_power_of_two() && *s <= MAX_ROWS_PER_STATEMENT));
        }
        assert_eq!(values_list(2, 2, Backend::Postgres), "($1, $2), ($3, $4)");
        assert_eq!(values_list(2, 2, Backend::Sqlite), "(?, ?), (?, ?)");
        assert!(insert_data_text(Backend::Postgres, 4)
            .contains("($19, $20, $21, $22, $23, $24) ON CONFLICT"));
        assert!(insert_data_text(Backend::Sqlite, 2).contains("(?, ?, ?, ?, ?, ?) ON CONFLICT"));
    }

    #[test]
    fn tolerance_round_trips_through_text() {
        let set = Deviations::EMPTY
            .with(Deviation::CrcModbusSwapped)
            .with(Deviation::MissingQn);
        let text = tolerance_text(set);
        assert_eq!(text, "crc_modbus_swapped,missing_qn");
        assert_eq!(parse_tolerance(&text), (set, vec![]));
        assert_eq!(
            parse_tolerance(" missing_qn , sm4 ,"),
            (
                Deviations::only(Deviation::MissingQn),
                vec!["sm4".to_string()]
            )
        );
        assert_eq!(parse_tolerance(""), (Deviations::EMPTY, vec![]));
    }

    #[test]
    fn data_time_is_china_time() {
        use chrono::TimeZone;
        let at = Utc.with_ymd_and_hms(2027, 1, 14, 17, 30, 5).unwrap();
        assert_eq!(china_data_time(at), 20270115013005);
    }

    #[test]
    fn retention_defaults_keep_hourly_and_daily_values() {
        let r = Retention::default();
        assert_eq!(r.days(KIND_HOURLY), 0);
        assert_eq!(r.days(KIND_DAILY), 0);
        assert_eq!(r.days(KIND_MINUTE), 1_830);
        assert_eq!(r.days(KIND_REALTIME), 7);
        assert_eq!(r.days(9999), 0);
    }
}
