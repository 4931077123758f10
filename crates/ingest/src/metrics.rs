//! The receiver's counters: atomics updated on the hot path without locks, rendered in the
//! Prometheus text exposition format (version 0.0.4) by [`Metrics::render`].
//!
//! Only counts: no MN, address or other identifier appears in the output, so the page can be
//! served without a login (see docs/MONITORING.md).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

use cpaudit_hj212::{Deviation, FrameError, ParseError};

/// What became of a packet (outcome and reason, the two labels of
/// `cpaudit_hj212_packets_total`). Every packet is counted exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Stored as new data, by kind.
    StoredRealtime,
    StoredMinute,
    StoredHourly,
    StoredDaily,
    /// The same device, kind and data time is already stored (a resend): acknowledged again,
    /// not stored twice.
    DuplicateRealtime,
    DuplicateMinute,
    DuplicateHourly,
    DuplicateDaily,
    /// Real-time data while real-time storage is off: acknowledged, device status updated.
    NotStoredRealtimeOff,
    /// Another command (restart time, running time, parameters, …): acknowledged when asked,
    /// device status updated.
    NotStoredOtherCommand,
    /// From an unknown MN, kept in quarantine.
    Quarantined,
    /// From an unknown MN whose kept packets reached the cap.
    DroppedQuarantineFull,
    /// From an MN the province discarded.
    DroppedDiscardedMn,
    /// Accepted, but its batch failed to commit: not acknowledged, so the device sends it again.
    DroppedStorageError,
    /// Refused by framing or CRC.
    RejectedBadLengthField,
    RejectedSegmentTooLong,
    RejectedLengthMismatch,
    RejectedMissingTail,
    RejectedBareLfTail,
    RejectedBadCrcField,
    RejectedCrcMismatch,
    RejectedTruncated,
    RejectedOtherFrame,
    /// Refused by the data-segment parser.
    RejectedNotUtf8,
    RejectedBadSegment,
    /// Accepted by the codec only under a deviation the device is not allowed.
    RejectedDeviationNotAllowed,
    /// From a device that is out of service.
    RejectedDeviceDisabled,
    /// Data (2011/2051/2061/2031) without a valid `DataTime`.
    RejectedBadDataTime,
}

impl Outcome {
    pub const ALL: [Outcome; 28] = [
        Outcome::StoredRealtime,
        Outcome::StoredMinute,
        Outcome::StoredHourly,
        Outcome::StoredDaily,
        Outcome::DuplicateRealtime,
        Outcome::DuplicateMinute,
        Outcome::DuplicateHourly,
        Outcome::DuplicateDaily,
        Outcome::NotStoredRealtimeOff,
        Outcome::NotStoredOtherCommand,
        Outcome::Quarantined,
        Outcome::DroppedQuarantineFull,
        Outcome::DroppedDiscardedMn,
        Outcome::DroppedStorageError,
        Outcome::RejectedBadLengthField,
        Outcome::RejectedSegmentTooLong,
        Outcome::RejectedLengthMismatch,
        Outcome::RejectedMissingTail,
        Outcome::RejectedBareLfTail,
        Outcome::RejectedBadCrcField,
        Outcome::RejectedCrcMismatch,
        Outcome::RejectedTruncated,
        Outcome::RejectedOtherFrame,
        Outcome::RejectedNotUtf8,
        Outcome::RejectedBadSegment,
        Outcome::RejectedDeviationNotAllowed,
        Outcome::RejectedDeviceDisabled,
        Outcome::RejectedBadDataTime,
    ];

    /// The `outcome` and `reason` labels.
    pub const fn labels(self) -> (&'static str, &'static str) {
        use Outcome::*;
        match self {
            StoredRealtime => ("stored", "realtime"),
            StoredMinute => ("stored", "minute"),
            StoredHourly => ("stored", "hourly"),
            StoredDaily => ("stored", "daily"),
            DuplicateRealtime => ("duplicate", "realtime"),
            DuplicateMinute => ("duplicate", "minute"),
            DuplicateHourly => ("duplicate", "hourly"),
            DuplicateDaily => ("duplicate", "daily"),
            NotStoredRealtimeOff => ("not_stored", "realtime_off"),
            NotStoredOtherCommand => ("not_stored", "other_command"),
            Quarantined => ("quarantined", "unknown_mn"),
            DroppedQuarantineFull => ("dropped", "quarantine_full"),
            DroppedDiscardedMn => ("dropped", "discarded_mn"),
            DroppedStorageError => ("dropped", "storage_error"),
            RejectedBadLengthField => ("rejected", "bad_length_field"),
            RejectedSegmentTooLong => ("rejected", "segment_too_long"),
            RejectedLengthMismatch => ("rejected", "length_mismatch"),
            RejectedMissingTail => ("rejected", "missing_tail"),
            RejectedBareLfTail => ("rejected", "bare_lf_tail"),
            RejectedBadCrcField => ("rejected", "bad_crc_field"),
            RejectedCrcMismatch => ("rejected", "crc_mismatch"),
            RejectedTruncated => ("rejected", "truncated"),
            RejectedOtherFrame => ("rejected", "other_frame_error"),
            RejectedNotUtf8 => ("rejected", "not_utf8"),
            RejectedBadSegment => ("rejected", "bad_segment"),
            RejectedDeviationNotAllowed => ("rejected", "deviation_not_allowed"),
            RejectedDeviceDisabled => ("rejected", "device_disabled"),
            RejectedBadDataTime => ("rejected", "bad_data_time"),
        }
    }

    fn index(self) -> usize {
        // ALL lists the variants in declaration order (checked by a test).
        self as usize
    }

    /// The outcome for a frame the stream decoder refused (`Skipped` is counted as bytes, not
    /// as a packet, and has no outcome).
    pub fn of_frame_error(error: &FrameError) -> Option<Outcome> {
        Some(match error {
            FrameError::Skipped { .. } => return None,
            FrameError::BadLengthField { .. } => Outcome::RejectedBadLengthField,
            FrameError::SegmentTooLong { .. } => Outcome::RejectedSegmentTooLong,
            FrameError::LengthMismatch { .. } => Outcome::RejectedLengthMismatch,
            FrameError::MissingTail { .. } => Outcome::RejectedMissingTail,
            FrameError::BareLfTail => Outcome::RejectedBareLfTail,
            FrameError::BadCrcField { .. } => Outcome::RejectedBadCrcField,
            FrameError::CrcMismatch { .. } => Outcome::RejectedCrcMismatch,
            FrameError::Truncated { .. } => Outcome::RejectedTruncated,
            _ => Outcome::RejectedOtherFrame,
        })
    }

    /// The outcome for a data segment the parser refused.
    pub fn of_parse_error(error: &ParseError) -> Outcome {
        match error {
            ParseError::NotUtf8 { .. } => Outcome::RejectedNotUtf8,
            _ => Outcome::RejectedBadSegment,
        }
    }

    /// Stored or duplicate for a data kind (2011, 2051, 2061, 2031).
    pub fn data(kind: i64, duplicate: bool) -> Option<Outcome> {
        use cpaudit_storage::monitoring::{KIND_DAILY, KIND_HOURLY, KIND_MINUTE, KIND_REALTIME};
        Some(match (kind, duplicate) {
            (KIND_REALTIME, false) => Outcome::StoredRealtime,
            (KIND_MINUTE, false) => Outcome::StoredMinute,
            (KIND_HOURLY, false) => Outcome::StoredHourly,
            (KIND_DAILY, false) => Outcome::StoredDaily,
            (KIND_REALTIME, true) => Outcome::DuplicateRealtime,
            (KIND_MINUTE, true) => Outcome::DuplicateMinute,
            (KIND_HOURLY, true) => Outcome::DuplicateHourly,
            (KIND_DAILY, true) => Outcome::DuplicateDaily,
            _ => return None,
        })
    }
}

/// Upper bounds of the commit-lag histogram, in seconds.
const LAG_BUCKETS: [f64; 13] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

/// Distinct unknown MNs remembered for the gauge; beyond this the gauge stops growing.
const MAX_DISTINCT_UNKNOWN: usize = 100_000;

/// A fixed-bucket histogram of durations.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LAG_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    max_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = LAG_BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(micros, Relaxed);
        self.max_micros.fetch_max(micros, Relaxed);
    }
}

/// Which per-connection limit made the receiver wait before reading on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Bytes,
    Packets,
}

/// Every counter of the receiver.
#[derive(Debug, Default)]
pub struct Metrics {
    packets: [AtomicU64; Outcome::ALL.len()],
    deviations_accepted: [AtomicU64; Deviation::ALL.len()],
    deviations_rejected: [AtomicU64; Deviation::ALL.len()],
    connections_open: AtomicI64,
    connections_total: AtomicU64,
    connections_refused: AtomicU64,
    connections_idle_closed: AtomicU64,
    bytes_received: AtomicU64,
    bytes_skipped: AtomicU64,
    replies_sent: AtomicU64,
    replies_unsent: AtomicU64,
    commit_batches: AtomicU64,
    commit_failures: AtomicU64,
    commit_packets: AtomicU64,
    commit_lag: Histogram,
    unknown_mn_packets: AtomicU64,
    unknown_mns: Mutex<HashSet<String>>,
    throttled_bytes: AtomicU64,
    throttled_packets: AtomicU64,
    split_complete: AtomicU64,
    split_incomplete: AtomicU64,
    split_duplicate_pieces: AtomicU64,
    writer_queue: AtomicI64,
    log_suppressed: AtomicU64,
    directory_devices: AtomicI64,
    directory_refresh_failures: AtomicU64,
    directory_reloads: AtomicU64,
    retention_deleted: AtomicU64,
}

impl Metrics {
    pub fn count(&self, outcome: Outcome) {
        self.count_n(outcome, 1);
    }

    pub fn count_n(&self, outcome: Outcome, n: u64) {
        if n > 0 {
            self.packets[outcome.index()].fetch_add(n, Relaxed);
        }
    }

    /// Packets counted with `outcome` so far.
    pub fn packets(&self, outcome: Outcome) -> u64 {
        self.packets[outcome.index()].load(Relaxed)
    }

    /// All packets with an outcome label `outcome` (e.g. "rejected").
    pub fn packets_with_outcome(&self, outcome: &str) -> u64 {
        Outcome::ALL
            .iter()
            .filter(|o| o.labels().0 == outcome)
            .map(|o| self.packets(*o))
            .sum()
    }

    pub fn deviation(&self, deviation: Deviation, accepted: bool) {
        let i = Deviation::ALL
            .iter()
            .position(|d| *d == deviation)
            .expect("every deviation is listed in ALL");
        let counters = if accepted {
            &self.deviations_accepted
        } else {
            &self.deviations_rejected
        };
        counters[i].fetch_add(1, Relaxed);
    }

    /// Packets accepted (or rejected) showing `deviation`.
    pub fn deviations(&self, deviation: Deviation, accepted: bool) -> u64 {
        let i = Deviation::ALL
            .iter()
            .position(|d| *d == deviation)
            .expect("every deviation is listed in ALL");
        let counters = if accepted {
            &self.deviations_accepted
        } else {
            &self.deviations_rejected
        };
        counters[i].load(Relaxed)
    }

    pub(crate) fn connection_opened(&self) {
        self.connections_total.fetch_add(1, Relaxed);
        self.connections_open.fetch_add(1, Relaxed);
    }

    pub(crate) fn connection_closed(&self, idle: bool) {
        self.connections_open.fetch_sub(1, Relaxed);
        if idle {
            self.connections_idle_closed.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    /// Connections open now.
    pub fn connections_open(&self) -> i64 {
        self.connections_open.load(Relaxed)
    }

    /// Connections refused because `max_connections` were open.
    pub fn connections_refused(&self) -> u64 {
        self.connections_refused.load(Relaxed)
    }

    /// Connections closed after the idle timeout.
    pub fn connections_idle_closed(&self) -> u64 {
        self.connections_idle_closed.load(Relaxed)
    }

    pub(crate) fn bytes(&self, received: u64) {
        self.bytes_received.fetch_add(received, Relaxed);
    }

    pub(crate) fn skipped(&self, bytes: u64) {
        self.bytes_skipped.fetch_add(bytes, Relaxed);
    }

    /// Bytes passed over while looking for a packet header (garbage).
    pub fn bytes_skipped(&self) -> u64 {
        self.bytes_skipped.load(Relaxed)
    }

    pub(crate) fn reply(&self, sent: bool) {
        if sent {
            self.replies_sent.fetch_add(1, Relaxed);
        } else {
            self.replies_unsent.fetch_add(1, Relaxed);
        }
    }

    /// Replies written to devices.
    pub fn replies_sent(&self) -> u64 {
        self.replies_sent.load(Relaxed)
    }

    pub(crate) fn commit(&self, packets: u64, ok: bool) {
        if ok {
            self.commit_batches.fetch_add(1, Relaxed);
            self.commit_packets.fetch_add(packets, Relaxed);
        } else {
            self.commit_failures.fetch_add(1, Relaxed);
        }
    }

    /// Batches committed.
    pub fn commit_batches(&self) -> u64 {
        self.commit_batches.load(Relaxed)
    }

    pub(crate) fn commit_lag(&self, lag: Duration) {
        self.commit_lag.observe(lag);
    }

    /// The longest time a packet waited from its arrival to its commit.
    pub fn commit_lag_max(&self) -> Duration {
        Duration::from_micros(self.commit_lag.max_micros.load(Relaxed))
    }

    pub(crate) fn unknown_mn(&self, mn: &str) {
        self.unknown_mn_packets.fetch_add(1, Relaxed);
        if let Ok(mut seen) = self.unknown_mns.lock() {
            if seen.len() < MAX_DISTINCT_UNKNOWN && !seen.contains(mn) {
                seen.insert(mn.to_string());
            }
        }
    }

    /// Packets from MNs no device is registered under.
    pub fn unknown_mn_packets(&self) -> u64 {
        self.unknown_mn_packets.load(Relaxed)
    }

    /// Distinct unknown MNs seen since start.
    pub fn unknown_mns(&self) -> usize {
        self.unknown_mns.lock().map_or(0, |seen| seen.len())
    }

    pub(crate) fn throttle(&self, which: Throttle) {
        match which {
            Throttle::Bytes => self.throttled_bytes.fetch_add(1, Relaxed),
            Throttle::Packets => self.throttled_packets.fetch_add(1, Relaxed),
        };
    }

    /// Times a connection was made to wait by a rate limit.
    pub fn throttled(&self, which: Throttle) -> u64 {
        match which {
            Throttle::Bytes => self.throttled_bytes.load(Relaxed),
            Throttle::Packets => self.throttled_packets.load(Relaxed),
        }
    }

    pub(crate) fn split(&self, complete: u64, incomplete: u64, duplicate_pieces: u64) {
        self.split_complete.fetch_add(complete, Relaxed);
        self.split_incomplete.fetch_add(incomplete, Relaxed);
        self.split_duplicate_pieces
            .fetch_add(duplicate_pieces, Relaxed);
    }

    /// Split messages completed, and left incomplete by the reassembly timeout.
    pub fn split_messages(&self) -> (u64, u64) {
        (
            self.split_complete.load(Relaxed),
            self.split_incomplete.load(Relaxed),
        )
    }

    pub(crate) fn set_writer_queue(&self, jobs: usize) {
        self.writer_queue
            .store(i64::try_from(jobs).unwrap_or(i64::MAX), Relaxed);
    }

    pub(crate) fn log_suppressed(&self, n: u64) {
        self.log_suppressed.fetch_add(n, Relaxed);
    }

    /// Counts a reload of the device directory, once the new directory is in force.
    pub(crate) fn directory(&self, devices: usize, ok: bool) {
        if ok {
            self.directory_devices
                .store(i64::try_from(devices).unwrap_or(i64::MAX), Relaxed);
            self.directory_reloads.fetch_add(1, Relaxed);
        } else {
            self.directory_refresh_failures.fetch_add(1, Relaxed);
        }
    }

    /// Reloads of the device directory that succeeded: a change to the devices is in force
    /// once this has grown by two since the change (the first may have read before it).
    pub fn directory_reloads(&self) -> u64 {
        self.directory_reloads.load(Relaxed)
    }

    pub(crate) fn retention_deleted(&self, rows: u64) {
        self.retention_deleted.fetch_add(rows, Relaxed);
    }

    /// The counters in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let load = |c: &AtomicU64| c.load(Relaxed);

        header(
            &mut out,
            "cpaudit_hj212_packets_total",
            "HJ 212 packets by outcome and reason.",
            "counter",
        );
        for outcome in Outcome::ALL {
            let (o, r) = outcome.labels();
            let _ = writeln!(
                out,
                "cpaudit_hj212_packets_total{{outcome=\"{o}\",reason=\"{r}\"}} {}",
                self.packets(outcome)
            );
        }

        header(
            &mut out,
            "cpaudit_hj212_deviations_total",
            "Packets showing a known deviation from HJ 212-2017, by deviation and verdict \
             (accepted under the device's tolerance, or rejected).",
            "counter",
        );
        for (i, d) in Deviation::ALL.iter().enumerate() {
            for (verdict, counters) in [
                ("accepted", &self.deviations_accepted),
                ("rejected", &self.deviations_rejected),
            ] {
                let _ = writeln!(
                    out,
                    "cpaudit_hj212_deviations_total{{deviation=\"{}\",verdict=\"{verdict}\"}} {}",
                    d.name(),
                    load(&counters[i])
                );
            }
        }

        let simple: [(&str, &str, &str, u64); 19] = [
            (
                "cpaudit_hj212_connections_open",
                "Device connections open now.",
                "gauge",
                u64::try_from(self.connections_open.load(Relaxed).max(0)).unwrap_or(0),
            ),
            (
                "cpaudit_hj212_connections_total",
                "Device connections accepted.",
                "counter",
                load(&self.connections_total),
            ),
            (
                "cpaudit_hj212_connections_refused_total",
                "Connections refused because max_connections were open.",
                "counter",
                load(&self.connections_refused),
            ),
            (
                "cpaudit_hj212_connections_idle_closed_total",
                "Connections closed after the idle timeout.",
                "counter",
                load(&self.connections_idle_closed),
            ),
            (
                "cpaudit_hj212_received_bytes_total",
                "Bytes received from devices.",
                "counter",
                load(&self.bytes_received),
            ),
            (
                "cpaudit_hj212_skipped_bytes_total",
                "Bytes passed over while looking for a packet header (garbage).",
                "counter",
                load(&self.bytes_skipped),
            ),
            (
                "cpaudit_hj212_replies_sent_total",
                "Replies (9014, 9013) written to devices.",
                "counter",
                load(&self.replies_sent),
            ),
            (
                "cpaudit_hj212_replies_unsent_total",
                "Replies owed but not written (the connection was gone or failed).",
                "counter",
                load(&self.replies_unsent),
            ),
            (
                "cpaudit_hj212_commit_batches_total",
                "Group commits that succeeded.",
                "counter",
                load(&self.commit_batches),
            ),
            (
                "cpaudit_hj212_commit_failures_total",
                "Group commits that failed (their packets were not acknowledged).",
                "counter",
                load(&self.commit_failures),
            ),
            (
                "cpaudit_hj212_committed_packets_total",
                "Packets written by successful group commits.",
                "counter",
                load(&self.commit_packets),
            ),
            (
                "cpaudit_hj212_unknown_mn_packets_total",
                "Packets from MNs no device is registered under.",
                "counter",
                load(&self.unknown_mn_packets),
            ),
            (
                "cpaudit_hj212_unknown_mns",
                "Distinct unknown MNs seen since start.",
                "gauge",
                self.unknown_mns() as u64,
            ),
            (
                "cpaudit_hj212_split_pieces_duplicate_total",
                "Pieces of split messages received more than once.",
                "counter",
                load(&self.split_duplicate_pieces),
            ),
            (
                "cpaudit_hj212_writer_queue",
                "Packets waiting for the next group commit.",
                "gauge",
                u64::try_from(self.writer_queue.load(Relaxed).max(0)).unwrap_or(0),
            ),
            (
                "cpaudit_hj212_log_suppressed_total",
                "Warnings about bad input not logged because of the log rate limit.",
                "counter",
                load(&self.log_suppressed),
            ),
            (
                "cpaudit_hj212_directory_devices",
                "Registered devices known to the receiver.",
                "gauge",
                u64::try_from(self.directory_devices.load(Relaxed).max(0)).unwrap_or(0),
            ),
            (
                "cpaudit_hj212_directory_reloads_total",
                "Successful reloads of the device directory.",
                "counter",
                load(&self.directory_reloads),
            ),
            (
                "cpaudit_hj212_retention_deleted_rows_total",
                "Monitoring data rows deleted by the retention policy.",
                "counter",
                load(&self.retention_deleted),
            ),
        ];
        for (name, help, kind, value) in simple {
            header(&mut out, name, help, kind);
            let _ = writeln!(out, "{name} {value}");
        }

        header(
            &mut out,
            "cpaudit_hj212_directory_refresh_failures_total",
            "Failed reloads of the device directory.",
            "counter",
        );
        let _ = writeln!(
            out,
            "cpaudit_hj212_directory_refresh_failures_total {}",
            load(&self.directory_refresh_failures)
        );

        header(
            &mut out,
            "cpaudit_hj212_throttled_total",
            "Times a connection had to wait for a per-connection rate limit.",
            "counter",
        );
        for (limit, value) in [
            ("bytes", load(&self.throttled_bytes)),
            ("packets", load(&self.throttled_packets)),
        ] {
            let _ = writeln!(
                out,
                "cpaudit_hj212_throttled_total{{limit=\"{limit}\"}} {value}"
            );
        }

        header(
            &mut out,
            "cpaudit_hj212_split_messages_total",
            "Split messages (PNUM > 1) by whether all pieces arrived before the timeout.",
            "counter",
        );
        for (state, value) in [
            ("complete", load(&self.split_complete)),
            ("incomplete", load(&self.split_incomplete)),
        ] {
            let _ = writeln!(
                out,
                "cpaudit_hj212_split_messages_total{{state=\"{state}\"}} {value}"
            );
        }

        header(
            &mut out,
            "cpaudit_hj212_commit_lag_seconds",
            "Time from a packet's arrival to the commit of its batch.",
            "histogram",
        );
        let mut cumulative = 0;
        for (i, bound) in LAG_BUCKETS.iter().enumerate() {
            cumulative += load(&self.commit_lag.buckets[i]);
            let _ = writeln!(
                out,
                "cpaudit_hj212_commit_lag_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = load(&self.commit_lag.count);
        let _ = writeln!(
            out,
            "cpaudit_hj212_commit_lag_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "cpaudit_hj212_commit_lag_seconds_sum {}",
            load(&self.commit_lag.sum_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "cpaudit_hj212_commit_lag_seconds_count {count}");
        header(
            &mut out,
            "cpaudit_hj212_commit_lag_max_seconds",
            "The longest commit lag seen since start.",
            "gauge",
        );
        let _ = writeln!(
            out,
            "cpaudit_hj212_commit_lag_max_seconds {}",
            load(&self.commit_lag.max_micros) as f64 / 1e6
        );
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_labels_are_unique() {
        for (i, outcome) in Outcome::ALL.iter().enumerate() {
            assert_eq!(outcome.index(), i, "{outcome:?}");
        }
        let mut labels: Vec<_> = Outcome::ALL.iter().map(|o| o.labels()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), Outcome::ALL.len());
    }

    #[test]
    fn render_is_prometheus_text() {
        let m = Metrics::default();
        m.count(Outcome::StoredMinute);
        m.count_n(Outcome::RejectedCrcMismatch, 3);
        m.deviation(Deviation::CrcModbusSwapped, true);
        m.commit_lag(Duration::from_millis(3));
        m.commit_lag(Duration::from_millis(30));
        m.unknown_mn("X");
        m.unknown_mn("X");
        let text = m.render();
        assert!(
            text.contains("cpaudit_hj212_packets_total{outcome=\"stored\",reason=\"minute\"} 1\n")
        );
        assert!(text.contains(
            "cpaudit_hj212_packets_total{outcome=\"rejected\",reason=\"crc_mismatch\"} 3\n"
        ));
        assert!(text.contains(
            "cpaudit_hj212_deviations_total{deviation=\"crc_modbus_swapped\",verdict=\"accepted\"} 1\n"
        ));
        assert!(text.contains("cpaudit_hj212_commit_lag_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("cpaudit_hj212_commit_lag_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("cpaudit_hj212_commit_lag_seconds_count 2\n"));
        assert!(text.contains("cpaudit_hj212_commit_lag_max_seconds 0.03\n"));
        assert!(text.contains("cpaudit_hj212_unknown_mn_packets_total 2\n"));
        assert!(text.contains("cpaudit_hj212_unknown_mns 1\n"));
        assert!(!text.contains("X"), "no identifiers in the output");
        // Every sample line belongs to a family announced by a TYPE line.
        let mut families = HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                families.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let family = name
                    .strip_suffix("_bucket")
                    .or_else(|| name.strip_suffix("_sum"))
                    .or_else(|| name.strip_suffix("_count"))
                    .filter(|f| families.contains(*f))
                    .unwrap_or(name);
                assert!(families.contains(family), "{line}");
            }
        }
    }
}
