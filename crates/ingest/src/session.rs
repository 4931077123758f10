//! What one connection does with its bytes, without the socket: frames out of the stream,
//! packets out of the frames, the device's tolerance applied, split pieces tracked, and for
//! each accepted packet a [`Job`] for the writer, carrying the reply it is owed after commit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cpaudit_hj212::{
    DetectedVersion, Deviation, Deviations, Frame, FrameEncoder, FrameError, Packet, Progress,
    Reassembler, ReassemblyError, Reply, ReplyOptions, ReplyTarget, StreamDecoder, Timestamp,
    Tolerance,
};
use cpaudit_storage::monitoring::{
    DataRow, DirectoryEntry, QuarantinedData, QuarantinedPacket, DATA_KINDS, KIND_REALTIME,
};
use tokio::sync::mpsc;

use crate::limits::LogLimiter;
use crate::metrics::{Metrics, Outcome};

/// What an unknown MN is allowed: the standard, and the 2005-style header without `QN` and
/// `Flag` (HJ/T 212-2005 devices are still in the field; the codec records the version).
pub const UNKNOWN_MN_TOLERANCE: Deviations = Deviations::EMPTY
    .with(Deviation::MissingQn)
    .with(Deviation::MissingFlag);

/// Split messages pending per connection, and the bytes their pieces may hold.
const MAX_PENDING_MESSAGES: usize = 64;
const MAX_PENDING_BYTES: usize = 1 << 20;

/// The registered devices by MN, as last loaded.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    by_mn: HashMap<String, DirectoryEntry>,
}

impl Directory {
    pub fn new(entries: Vec<DirectoryEntry>) -> Directory {
        Directory {
            by_mn: entries.into_iter().map(|e| (e.mn.clone(), e)).collect(),
        }
    }

    pub fn get(&self, mn: &str) -> Option<&DirectoryEntry> {
        self.by_mn.get(mn)
    }

    pub fn len(&self) -> usize {
        self.by_mn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_mn.is_empty()
    }
}

/// The settings a session reads.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Store real-time data (2011); otherwise it is acknowledged and not stored.
    pub store_realtime: bool,
    /// The longest data segment accepted from any device (a device allowed over-size segments
    /// may send up to this; everyone else up to 1024).
    pub max_segment_len: usize,
    /// How long the pieces of a split message are waited for.
    pub reassembly_timeout: Duration,
}

impl SessionSettings {
    /// Framing and parsing accept every known deviation, so that the packet's MN can be read;
    /// the device's own tolerance is applied to what they report.
    fn frame_tolerance(&self) -> Tolerance {
        Tolerance::LENIENT.with_oversize_cap(self.max_segment_len)
    }
}

/// A device's part in a batch's status update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDelta {
    pub device_id: i64,
    pub data_time: Option<i64>,
    pub version: Option<DetectedVersion>,
    /// Accepted under a tolerance switch.
    pub deviated: bool,
    /// Why it was refused, when it was.
    pub rejection: Option<String>,
}

/// What the writer does with one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Data for `monitoring_data`.
    Data { row: DataRow, status: StatusDelta },
    /// Only the device's status: a packet acknowledged but not stored (`outcome` is counted
    /// after the commit), or a refused one (`outcome` is `None`: it was counted already).
    Status {
        status: StatusDelta,
        outcome: Option<Outcome>,
    },
    /// A packet from an unknown MN.
    Quarantine { packet: QuarantinedPacket },
}

/// A message from the writer to a connection.
#[derive(Debug)]
pub enum ConnMsg {
    /// The batch committed: send this reply.
    Reply(Vec<u8>),
    /// The packet owed a reply but will not get one (not stored).
    Unanswered,
}

/// The connection a job came from.
#[derive(Debug)]
pub struct Link {
    pub tx: mpsc::UnboundedSender<ConnMsg>,
    pub peer: Arc<str>,
}

/// One accepted packet on its way to the writer.
#[derive(Debug)]
pub struct Job {
    pub work: Work,
    /// The reply owed once the packet is committed (9014 or 9013), framed.
    pub reply: Option<Vec<u8>>,
    pub received: Instant,
    pub link: Option<Arc<Link>>,
}

/// The state of one connection.
pub struct Session {
    decoder: StreamDecoder,
    reassembler: Reassembler,
    settings: Arc<SessionSettings>,
    metrics: Arc<Metrics>,
    log: Arc<LogLimiter>,
    peer: Arc<str>,
    /// An unknown MN was seen: the directory may be stale.
    pub unknown_seen: bool,
}

/// What [`Session::feed`] found.
#[derive(Debug, Default)]
pub struct Fed {
    pub jobs: Vec<Job>,
    /// Frames and framing errors: what the packet-rate limit counts.
    pub packets: u64,
}

impl Session {
    pub fn new(
        settings: Arc<SessionSettings>,
        metrics: Arc<Metrics>,
        log: Arc<LogLimiter>,
        peer: Arc<str>,
    ) -> Session {
        Session {
            decoder: StreamDecoder::new(settings.frame_tolerance()),
            reassembler: Reassembler::new(settings.reassembly_timeout)
                .with_limits(MAX_PENDING_MESSAGES, MAX_PENDING_BYTES),
            settings,
            metrics,
            log,
            peer,
            unknown_seen: false,
        }
    }

    /// Bytes the decoder holds (at most one maximal frame).
    pub fn buffered(&self) -> usize {
        self.decoder.buffered()
    }

    /// When the oldest pending split message times out.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.reassembler.next_deadline()
    }

    /// Takes the bytes of one read, received at `now` (`received_at` as stored).
    pub fn feed(
        &mut self,
        chunk: &[u8],
        directory: &Directory,
        now: Instant,
        received_at: &str,
    ) -> Fed {
        let mut fed = Fed::default();
        let Session {
            decoder,
            reassembler,
            settings,
            metrics,
            log,
            peer,
            unknown_seen,
        } = self;
        let mut ctx = Ctx {
            settings,
            metrics,
            log,
            peer,
            reassembler,
            directory,
            now,
            received_at,
            unknown_seen,
        };
        decoder.decode(chunk, |item| match item {
            Err(FrameError::Skipped { bytes }) => {
                ctx.metrics.skipped(bytes as u64);
                ctx.warn(
                    "garbage",
                    format_args!("skipped {bytes} bytes that were not part of a packet"),
                );
            }
            Err(error) => {
                fed.packets += 1;
                if let Some(outcome) = Outcome::of_frame_error(&error) {
                    ctx.reject(outcome, None, format_args!("{error}"));
                }
            }
            Ok(frame) => {
                fed.packets += 1;
                if let Some(job) = ctx.packet(frame) {
                    fed.jobs.push(job);
                }
            }
        });
        fed
    }

    /// Split messages whose time is up: counted and logged as incomplete. Their pieces are
    /// stored already (each piece is stored and acknowledged on its own).
    pub fn expire(&mut self, now: Instant) {
        let expired = self.reassembler.expire(now);
        if expired.is_empty() {
            return;
        }
        self.metrics.split(0, expired.len() as u64, 0);
        for message in expired {
            if self.log.admit().is_some() {
                let key = message.key();
                tracing::warn!(
                    peer = %self.peer,
                    mn = %key.mn,
                    cn = %key.cn,
                    time = %key.time,
                    missing = ?message.missing(),
                    "split message incomplete after the reassembly timeout"
                );
            }
        }
    }

    /// The peer closed: what is left in the decoder is counted, pending split messages are
    /// given up.
    pub fn finish(&mut self) {
        for error in self.decoder.finish() {
            match error {
                FrameError::Skipped { bytes } => self.metrics.skipped(bytes as u64),
                other => {
                    if let Some(outcome) = Outcome::of_frame_error(&other) {
                        self.metrics.count(outcome);
                    }
                }
            }
        }
        self.expire(Instant::now() + self.settings.reassembly_timeout + Duration::from_secs(1));
    }
}

struct Ctx<'a> {
    settings: &'a SessionSettings,
    metrics: &'a Metrics,
    log: &'a LogLimiter,
    peer: &'a str,
    reassembler: &'a mut Reassembler,
    directory: &'a Directory,
    now: Instant,
    received_at: &'a str,
    unknown_seen: &'a mut bool,
}

/// `DataTime` as `YYYYMMDDhhmmss`, when it is a valid timestamp (17 digits lose the
/// milliseconds).
fn data_time_value(text: Option<&str>) -> Option<i64> {
    let text = text?;
    Timestamp::parse(text)?;
    text.get(..14)?.parse().ok()
}

/// The reply a packet is owed, framed with the CRC the device itself uses (a device that
/// computes CRC-16/MODBUS checks our reply with it too).
fn reply_for(packet: &Packet<'_>) -> Option<Vec<u8>> {
    let reply = Reply::for_packet(&packet.segment)?;
    let options = ReplyOptions {
        encoder: FrameEncoder::STANDARD.with_crc(packet.frame.crc_algorithm()),
        ..ReplyOptions::default()
    };
    reply
        .encode_with(&ReplyTarget::from(&packet.segment), &options)
        .ok()
}

impl Ctx<'_> {
    fn warn(&self, what: &str, detail: std::fmt::Arguments<'_>) {
        if let Some(suppressed) = self.log.admit() {
            tracing::warn!(peer = %self.peer, what, suppressed, "HJ 212 input refused: {detail}");
        } else {
            self.metrics.log_suppressed(1);
        }
    }

    /// Counts a refusal, logs it (rate-limited) and, for a known device, returns the status
    /// job that records it against the device.
    fn reject(
        &self,
        outcome: Outcome,
        device: Option<&DirectoryEntry>,
        detail: std::fmt::Arguments<'_>,
    ) -> Option<Job> {
        self.metrics.count(outcome);
        let reason = outcome.labels().1;
        self.warn(reason, detail);
        let device = device?;
        Some(Job {
            work: Work::Status {
                status: StatusDelta {
                    device_id: device.device_id,
                    data_time: None,
                    version: None,
                    deviated: false,
                    rejection: Some(format!("{reason}: {detail}")),
                },
                outcome: None,
            },
            reply: None,
            received: self.now,
            link: None,
        })
    }

    fn packet(&mut self, frame: Frame<'_>) -> Option<Job> {
        let packet = match Packet::from_frame(frame, &self.settings.frame_tolerance()) {
            Ok(packet) => packet,
            Err(error) => {
                return self.reject(
                    Outcome::of_parse_error(&error),
                    None,
                    format_args!("bad data segment: {error}"),
                )
            }
        };
        let mn = packet.mn();
        let device = self.directory.get(mn);
        let allowed = device.map_or(UNKNOWN_MN_TOLERANCE, |d| d.tolerance);
        let deviations = packet.deviations();
        let refused: Vec<Deviation> = deviations
            .iter()
            .filter(|d| !allowed.contains(*d))
            .collect();
        if !refused.is_empty() {
            for deviation in &refused {
                self.metrics.deviation(*deviation, false);
            }
            let names: Vec<&str> = refused.iter().map(|d| d.name()).collect();
            return self.reject(
                Outcome::RejectedDeviationNotAllowed,
                device,
                format_args!(
                    "MN {mn}: deviation not allowed for this device: {}",
                    names.join(",")
                ),
            );
        }
        for deviation in deviations.iter() {
            self.metrics.deviation(deviation, true);
        }
        let Some(device) = device else {
            return self.quarantine(&packet);
        };
        if !device.enabled {
            return self.reject(
                Outcome::RejectedDeviceDisabled,
                Some(device),
                format_args!("MN {mn}: the device is out of service"),
            );
        }
        let split = self.track_split(&packet);
        let status = StatusDelta {
            device_id: device.device_id,
            data_time: None,
            version: Some(packet.version()),
            deviated: !deviations.is_empty(),
            rejection: None,
        };
        let kind = packet.cn_number().map(i64::from);
        let work = match kind.filter(|k| DATA_KINDS.contains(k)) {
            Some(kind) => {
                let Some(data_time) = data_time_value(packet.data_time()) else {
                    return self.reject(
                        Outcome::RejectedBadDataTime,
                        Some(device),
                        format_args!("MN {mn}: CN {kind} without a valid DataTime"),
                    );
                };
                let status = StatusDelta {
                    data_time: Some(data_time),
                    ..status
                };
                if kind == KIND_REALTIME && !self.settings.store_realtime {
                    Work::Status {
                        status,
                        outcome: Some(Outcome::NotStoredRealtimeOff),
                    }
                } else {
                    Work::Data {
                        row: DataRow {
                            device_id: device.device_id,
                            kind,
                            data_time,
                            qn: packet.qn().unwrap_or("").to_string(),
                            received_at: self.received_at.to_string(),
                            cp: packet.cp().as_str().to_string(),
                            split,
                        },
                        status,
                    }
                }
            }
            None => Work::Status {
                status,
                outcome: Some(Outcome::NotStoredOtherCommand),
            },
        };
        Some(Job {
            work,
            reply: reply_for(&packet),
            received: self.now,
            link: None,
        })
    }

    /// Whether the packet is a piece of a split message; tracks its message's completeness.
    fn track_split(&mut self, packet: &Packet<'_>) -> bool {
        let Some(numbers) = packet.packet_numbers() else {
            return false;
        };
        if numbers.pnum <= 1 {
            return false;
        }
        match self.reassembler.push(&packet.segment, self.now) {
            Ok(Progress::Complete(_)) => self.metrics.split(1, 0, 0),
            Ok(Progress::Pending { .. }) => {}
            Err(ReassemblyError::DuplicatePiece { .. }) => self.metrics.split(0, 0, 1),
            Err(error) => self.warn(
                "reassembly",
                format_args!("MN {}: split piece not tracked: {error}", packet.mn()),
            ),
        }
        true
    }

    fn quarantine(&mut self, packet: &Packet<'_>) -> Option<Job> {
        let mn = packet.mn();
        self.metrics.unknown_mn(mn);
        *self.unknown_seen = true;
        let kind = packet
            .cn_number()
            .map(i64::from)
            .filter(|k| DATA_KINDS.contains(k));
        let data = match kind {
            Some(kind) => {
                let Some(data_time) = data_time_value(packet.data_time()) else {
                    return self.reject(
                        Outcome::RejectedBadDataTime,
                        None,
                        format_args!("unknown MN {mn}: CN {kind} without a valid DataTime"),
                    );
                };
                (kind != KIND_REALTIME || self.settings.store_realtime).then(|| QuarantinedData {
                    kind,
                    data_time,
                    qn: packet.qn().unwrap_or("").to_string(),
                    cp: packet.cp().as_str().to_string(),
                    split: packet.packet_numbers().is_some_and(|n| n.pnum > 1),
                })
            }
            None => None,
        };
        let wire = packet.frame.as_bytes();
        let text = String::from_utf8_lossy(wire);
        Some(Job {
            work: Work::Quarantine {
                packet: QuarantinedPacket {
                    mn: mn.to_string(),
                    received_at: self.received_at.to_string(),
                    peer: self.peer.to_string(),
                    packet: text.trim_end_matches(['\r', '\n']).to_string(),
                    data,
                },
            },
            reply: reply_for(packet),
            received: self.now,
            link: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpaudit_hj212::{CrcAlgorithm, FrameEncoder};

    const MN: &str = "62010000000000000000A001";

    fn directory(tolerance: Deviations, enabled: bool) -> Directory {
        Directory::new(vec![DirectoryEntry {
            device_id: 7,
            mn: MN.into(),
            outlet_id: 3,
            outlet_kind: "air".into(),
            enterprise_id: 1,
            tolerance,
            enabled,
        }])
    }

    fn session(max_segment_len: usize) -> Session {
        Session::new(
            Arc::new(SessionSettings {
                store_realtime: false,
                max_segment_len,
                reassembly_timeout: Duration::from_secs(60),
            }),
            Arc::new(Metrics::default()),
            Arc::new(LogLimiter::new(1000)),
            "127.0.0.1:1".into(),
        )
    }

    fn minute(mn: &str, time: &str, flag: u8) -> String {
        format!(
            "QN={time}000;ST=31;CN=2051;PW=123456;MN={mn};Flag={flag};\
             CP=&&DataTime={time};a21026-Avg=12.5,a21026-Flag=N&&"
        )
    }

    fn frame(segment: &str) -> Vec<u8> {
        FrameEncoder::STANDARD
            .with_max_segment_len(9999)
            .encode(segment)
            .unwrap()
    }

    fn feed(s: &mut Session, dir: &Directory, wire: &[u8]) -> Fed {
        s.feed(wire, dir, Instant::now(), "2027-01-15T01:00:00.000000Z")
    }

    #[test]
    fn a_minute_packet_becomes_a_data_job_with_its_reply() {
        let mut s = session(4096);
        let dir = directory(Deviations::EMPTY, true);
        let fed = feed(&mut s, &dir, &frame(&minute(MN, "20270115085900", 5)));
        assert_eq!(fed.packets, 1);
        let [job] = &fed.jobs[..] else {
            panic!("{:?}", fed.jobs)
        };
        let Work::Data { row, status } = &job.work else {
            panic!()
        };
        assert_eq!(
            (row.device_id, row.kind, row.data_time),
            (7, 2051, 20270115085900)
        );
        assert_eq!(
            row.cp,
            "DataTime=20270115085900;a21026-Avg=12.5,a21026-Flag=N"
        );
        assert_eq!(status.data_time, Some(20270115085900));
        let reply = job.reply.as_ref().unwrap();
        assert!(reply.starts_with(b"##"));
        assert!(String::from_utf8_lossy(reply).contains("CN=9014"));
        // Flag=4 asks for no reply.
        let fed = feed(&mut s, &dir, &frame(&minute(MN, "20270115090000", 4)));
        assert!(fed.jobs[0].reply.is_none());
    }

    #[test]
    fn oversize_frames_are_refused_by_the_size_limit() {
        let mut s = session(1500);
        let strict = directory(Deviations::EMPTY, true);
        let long_cp: String = (0..40)
            .map(|i| format!("a{i:05}-Avg=1.000,a{i:05}-Flag=N;"))
            .collect();
        let seg = format!(
            "QN=20270115085900000;ST=31;CN=2051;PW=123456;MN={MN};Flag=5;\
             CP=&&DataTime=20270115085900;{long_cp}x-Avg=1&&"
        );
        assert!(seg.len() > 1024 && seg.len() <= 1500, "{}", seg.len());
        // Over 1024 from a strict device: refused as a deviation it is not allowed (recorded
        // against the device, not acknowledged).
        let fed = feed(&mut s, &strict, &frame(&seg));
        assert!(matches!(
            &fed.jobs[..],
            [Job {
                work: Work::Status { outcome: None, .. },
                reply: None,
                ..
            }]
        ));
        assert_eq!(s.metrics.packets(Outcome::RejectedDeviationNotAllowed), 1);
        // Allowed over-size segments: accepted up to the receiver's limit …
        let lenient = directory(Deviations::only(Deviation::OversizeSegment), true);
        let fed = feed(&mut s, &lenient, &frame(&seg));
        assert_eq!(fed.jobs.len(), 1);
        assert_eq!(s.metrics.deviations(Deviation::OversizeSegment, true), 1);
        // … and no further: a longer frame is refused by its length field, and the decoder's
        // buffer never holds more than one maximal frame.
        let longer = seg.replace("x-Avg=1", &"y".repeat(600));
        let fed = feed(&mut s, &lenient, &frame(&longer));
        assert!(fed.jobs.is_empty());
        assert_eq!(s.metrics.packets(Outcome::RejectedSegmentTooLong), 1);
        assert!(s.buffered() <= 1500 + 12);
        // The stream goes on after the refusal.
        let fed = feed(&mut s, &lenient, &frame(&minute(MN, "20270115090000", 5)));
        assert_eq!(fed.jobs.len(), 1);
    }

    #[test]
    fn tolerance_is_per_device_and_unknown_mns_are_quarantined() {
        let seg = minute(MN, "20270115085900", 5);
        let swapped = FrameEncoder::STANDARD
            .with_crc(CrcAlgorithm::ModbusSwapped)
            .encode(&seg)
            .unwrap();
        let mut s = session(4096);
        let strict = directory(Deviations::EMPTY, true);
        let fed = feed(&mut s, &strict, &swapped);
        assert_eq!(
            fed.jobs.len(),
            1,
            "a rejection is recorded against the device"
        );
        assert!(matches!(
            &fed.jobs[0].work,
            Work::Status { status, outcome: None } if status.rejection.as_deref().unwrap().contains("crc_modbus_swapped")
        ));
        assert!(fed.jobs[0].reply.is_none());
        assert_eq!(s.metrics.deviations(Deviation::CrcModbusSwapped, false), 1);

        let tolerant = directory(Deviations::only(Deviation::CrcModbusSwapped), true);
        let fed = feed(&mut s, &tolerant, &swapped);
        let job = &fed.jobs[0];
        assert!(matches!(&job.work, Work::Data { status, .. } if status.deviated));
        // The reply carries the device's own CRC dialect.
        let reply = job.reply.as_ref().unwrap();
        let back = cpaudit_hj212::decode_frame(
            reply,
            &Tolerance::STRICT.allow(Deviation::CrcModbusSwapped),
        )
        .unwrap();
        assert_eq!(back.crc_algorithm(), CrcAlgorithm::ModbusSwapped);

        // Unknown MN: strict plus the 2005 header.
        let legacy = "ST=31;CN=2051;PW=123456;MN=UNKNOWN01;CP=&&DataTime=20270115085900;a-Avg=1&&";
        let fed = feed(&mut s, &strict, &frame(legacy));
        let Work::Quarantine { packet } = &fed.jobs[0].work else {
            panic!()
        };
        assert_eq!(packet.mn, "UNKNOWN01");
        assert!(packet.packet.starts_with("##0") && !packet.packet.ends_with('\n'));
        assert_eq!(packet.data.as_ref().unwrap().data_time, 20270115085900);
        assert!(s.unknown_seen);
        let fed = feed(
            &mut s,
            &strict,
            &FrameEncoder::STANDARD
                .with_crc(CrcAlgorithm::ModbusSwapped)
                .encode(legacy)
                .unwrap(),
        );
        assert!(fed.jobs.is_empty());
        assert_eq!(s.metrics.packets(Outcome::RejectedDeviationNotAllowed), 2);
        assert_eq!(s.metrics.unknown_mn_packets(), 1);
    }

    #[test]
    fn disabled_devices_bad_times_realtime_and_other_commands() {
        let mut s = session(4096);
        let off = directory(Deviations::EMPTY, false);
        let fed = feed(&mut s, &off, &frame(&minute(MN, "20270115085900", 5)));
        assert!(fed.jobs[0].reply.is_none());
        assert_eq!(s.metrics.packets(Outcome::RejectedDeviceDisabled), 1);

        let on = directory(Deviations::EMPTY, true);
        let fed = feed(&mut s, &on, &frame(&minute(MN, "20270230085900", 5)));
        assert!(fed.jobs[0].reply.is_none());
        assert_eq!(s.metrics.packets(Outcome::RejectedBadDataTime), 1);

        let rtd = format!(
            "QN=20270115085900000;ST=31;CN=2011;PW=123456;MN={MN};Flag=5;\
             CP=&&DataTime=20270115085900;a21026-Rtd=12.5&&"
        );
        let fed = feed(&mut s, &on, &frame(&rtd));
        assert!(matches!(
            fed.jobs[0].work,
            Work::Status {
                outcome: Some(Outcome::NotStoredRealtimeOff),
                ..
            }
        ));
        assert!(
            fed.jobs[0].reply.is_some(),
            "acknowledged even when not stored"
        );

        let restart = format!(
            "QN=20270115085900000;ST=31;CN=2081;PW=123456;MN={MN};Flag=5;\
             CP=&&DataTime=20270115085900;RestartTime=20270115085000&&"
        );
        let fed = feed(&mut s, &on, &frame(&restart));
        assert!(matches!(
            fed.jobs[0].work,
            Work::Status {
                outcome: Some(Outcome::NotStoredOtherCommand),
                ..
            }
        ));
    }

    #[test]
    fn garbage_and_bad_crcs_are_counted_and_the_stream_resynchronises() {
        let mut s = session(4096);
        let dir = directory(Deviations::EMPTY, true);
        let good = frame(&minute(MN, "20270115085900", 5));
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 3] = if bad[n - 3] == b'0' { b'1' } else { b'0' };
        let mut wire = b"AT+OK\r\n\0\0".to_vec();
        wire.extend_from_slice(&bad);
        wire.extend_from_slice(&good);
        let mut jobs = 0;
        for chunk in wire.chunks(7) {
            jobs += feed(&mut s, &dir, chunk).jobs.len();
        }
        assert_eq!(jobs, 1);
        assert_eq!(s.metrics.packets(Outcome::RejectedCrcMismatch), 1);
        assert_eq!(s.metrics.bytes_skipped(), 9);
        feed(&mut s, &dir, &good[..20]);
        s.finish();
        assert_eq!(s.metrics.packets(Outcome::RejectedTruncated), 1);
    }

    #[test]
    fn split_pieces_are_stored_each_and_tracked_until_complete_or_timed_out() {
        let mut s = session(4096);
        let dir = directory(Deviations::EMPTY, true);
        let piece = |qn: &str, pno: u16, cp: &str| {
            frame(&format!(
                "QN={qn};ST=31;CN=2061;PW=123456;MN={MN};Flag=7;PNUM=2;PNO={pno};\
                 CP=&&DataTime=20270115080000;{cp}&&"
            ))
        };
        let t0 = Instant::now();
        let a = s.feed(&piece("20270115090000001", 1, "a-Avg=1"), &dir, t0, "x");
        let Work::Data { row, .. } = &a.jobs[0].work else {
            panic!()
        };
        assert!(row.split);
        assert!(
            a.jobs[0].reply.is_some(),
            "each piece is acknowledged with its own QN"
        );
        s.feed(&piece("20270115090000002", 2, "b-Avg=2"), &dir, t0, "x");
        assert_eq!(s.metrics.split_messages(), (1, 0));
        s.feed(&piece("20270115090000003", 1, "a-Avg=1"), &dir, t0, "x");
        assert_eq!(s.next_deadline(), Some(t0 + Duration::from_secs(60)));
        s.expire(t0 + Duration::from_secs(61));
        assert_eq!(s.metrics.split_messages(), (1, 1));
    }
}
