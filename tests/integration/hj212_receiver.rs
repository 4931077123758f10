//! The HJ 212 receiver against the test database (either backend) with the demo devices: real
//! packets over TCP, coalesced and split writes, garbage, bad CRCs, duplicates, split messages,
//! unknown MNs through quarantine and assignment, a tolerant device, the limits, and the
//! counters. Every reply must arrive only for a packet that is in the database by then.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cpaudit_hj212::{CrcAlgorithm, Deviation, Deviations, FrameEncoder, StreamDecoder, Tolerance};
use cpaudit_ingest::{Metrics, Outcome, Receiver, ReceiverConfig, Throttle};
use cpaudit_storage::monitoring::{DataRow, IngestBatch, Retention};
use cpaudit_storage::{Db, Principal, StorageError};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

use crate::support::{raw_execute, reference, test_db, test_now, TestDb};

const SAMPLES: &str = include_str!("../data/hj212/public-samples.txt");

/// A receiver on a free loopback port, without rate limits unless the test sets them.
async fn start(store: &TestDb, tweak: impl FnOnce(&mut ReceiverConfig)) -> Receiver {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let mut config = ReceiverConfig {
        listen: "127.0.0.1:0".into(),
        max_bytes_per_sec: 0,
        max_packets_per_sec: 0,
        directory_refresh: Duration::from_millis(100),
        ..ReceiverConfig::default()
    };
    tweak(&mut config);
    Receiver::start(store.db.clone(), config).await.unwrap()
}

/// The first `n` demo devices: (id, MN).
async fn demo_devices(db: &Db, n: i64) -> Vec<(i64, String)> {
    let sql = "SELECT id, mn FROM devices ORDER BY id LIMIT $1";
    match db {
        Db::Sqlite(pool) => sqlx::query_as(sql).bind(n).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(sql).bind(n).fetch_all(pool).await.unwrap(),
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

async fn text(db: &Db, sql: &str) -> Option<String> {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_optional(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_optional(pool).await.unwrap(),
    }
}

async fn rows_of(db: &Db, device: i64, kind: i64, data_time: i64) -> i64 {
    scalar(
        db,
        &format!(
            "SELECT COUNT(*) FROM monitoring_data WHERE device_id = {device} AND kind = {kind} \
             AND data_time = {data_time}"
        ),
    )
    .await
}

/// Waits until `check` holds (the receiver works asynchronously).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the receiver's device directory has reloaded twice since now, so that it holds
/// every change made before the call (the first reload may have begun before the change).
async fn directory_reloaded(metrics: &Metrics) {
    let before = metrics.directory_reloads();
    eventually("the device directory reloaded", || async {
        metrics.directory_reloads() >= before + 2
    })
    .await;
}

fn frame(segment: &str) -> Vec<u8> {
    FrameEncoder::STANDARD
        .with_max_segment_len(9999)
        .encode(segment)
        .unwrap()
}

/// A 2017 upload: `Flag` 5 asks for a reply, 4 does not.
fn upload(mn: &str, cn: u16, qn: &str, flag: u8, time: &str, items: &str) -> String {
    format!("QN={qn};ST=31;CN={cn};PW=123456;MN={mn};Flag={flag};CP=&&DataTime={time};{items}&&")
}

fn minute(mn: &str, qn: &str, flag: u8, time: &str) -> Vec<u8> {
    frame(&upload(
        mn,
        2051,
        qn,
        flag,
        time,
        "a21026-Avg=35.2,a21026-Flag=N;a21002-Avg=80.1,a21002-Flag=N",
    ))
}

/// The public sample with this id (S10 …), as on the wire.
fn sample(id: &str) -> Vec<u8> {
    let mut lines = SAMPLES.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("# {id}") {
            let packet = lines.find(|l| l.starts_with("##")).unwrap();
            return format!("{packet}\r\n").into_bytes();
        }
    }
    panic!("no sample {id}");
}

/// A data logger on the other end of a TCP connection.
struct Logger {
    stream: TcpStream,
    decoder: StreamDecoder,
}

/// A reply as read back: its data segment and the CRC it was framed with.
#[derive(Debug)]
struct ReplyFrame {
    segment: String,
    crc: CrcAlgorithm,
}

impl ReplyFrame {
    fn field(&self, key: &str) -> &str {
        self.segment
            .split(';')
            .find_map(|f| f.strip_prefix(&format!("{key}=")))
            .unwrap_or("")
    }
}

impl Logger {
    async fn connect(receiver: &Receiver) -> Logger {
        Logger {
            stream: TcpStream::connect(receiver.local_addr()).await.unwrap(),
            decoder: StreamDecoder::new(Tolerance::STRICT.allow(Deviation::CrcModbusSwapped)),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Sends in small pieces, pausing between them, so that the receiver reads them apart.
    async fn send_in_pieces(&mut self, bytes: &[u8], piece: usize) {
        for chunk in bytes.chunks(piece) {
            self.stream.write_all(chunk).await.unwrap();
            self.stream.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Reads replies until `n` arrived or `wait` passed.
    async fn replies(&mut self, n: usize, wait: Duration) -> Vec<ReplyFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while out.len() < n {
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await;
            let Ok(Ok(got)) = read else { break };
            if got == 0 {
                break;
            }
            self.decoder.decode(&buf[..got], |item| {
                let frame = item.expect("the receiver's replies are well-formed");
                out.push(ReplyFrame {
                    segment: String::from_utf8(frame.segment().to_vec()).unwrap(),
                    crc: frame.crc_algorithm(),
                });
            });
        }
        out
    }

    /// Whether the receiver closed the connection within `wait`.
    async fn closed_within(&mut self, wait: Duration) -> bool {
        let mut buf = [0u8; 64];
        matches!(
            tokio::time::timeout(wait, self.stream.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

fn no_reply_wait() -> Duration {
    Duration::from_millis(400)
}

fn count(metrics: &Metrics, outcome: Outcome) -> u64 {
    metrics.packets(outcome)
}

#[tokio::test]
async fn packets_are_stored_and_acknowledged_only_after_commit() {
    let store = test_db().await;
    let db = &store.db;
    let receiver = start(&store, |_| {}).await;
    let metrics = receiver.metrics();
    let (device, mn) = demo_devices(db, 1).await.remove(0);

    // Three minute packets in one write, behind modem noise.
    let p1 = minute(&mn, "20270115080100001", 5, "20270115080100");
    let p2 = minute(&mn, "20270115080200001", 5, "20270115080200");
    let p3 = minute(&mn, "20270115080300001", 5, "20270115080300");
    let mut bad_crc = minute(&mn, "20270115080400001", 5, "20270115080400");
    let n = bad_crc.len();
    bad_crc[n - 3] = if bad_crc[n - 3] == b'0' { b'1' } else { b'0' };
    let mut wire = b"AT+OK\r\n".to_vec();
    for p in [&p1, &p2, &p3, &bad_crc] {
        wire.extend_from_slice(p);
    }
    let mut logger = Logger::connect(&receiver).await;
    logger.send(&wire).await;
    let replies = logger.replies(3, Duration::from_secs(10)).await;
    assert_eq!(replies.len(), 3, "{replies:?}");
    for (reply, time) in replies.iter().zip([80100, 80200, 80300]) {
        assert_eq!(reply.field("CN"), "9014");
        assert_eq!(reply.field("ST"), "91");
        assert_eq!(reply.field("MN"), mn);
        assert_eq!(reply.field("Flag"), "4");
        assert_eq!(reply.crc, CrcAlgorithm::Hj212);
        // The reply came after the commit: the row is there.
        assert_eq!(rows_of(db, device, 2051, 20270115000000 + time).await, 1);
        let qn = reply.field("QN").to_string();
        assert_eq!(
            scalar(
                db,
                &format!("SELECT COUNT(*) FROM monitoring_data WHERE qn = '{qn}'")
            )
            .await,
            1
        );
    }
    assert!(
        logger.replies(1, no_reply_wait()).await.is_empty(),
        "no reply to a bad CRC"
    );
    assert_eq!(rows_of(db, device, 2051, 20270115080400).await, 0);

    // A split hourly message, each piece written a few bytes at a time.
    let piece = |qn: &str, pno: u8, items: &str| {
        frame(&format!(
            "QN={qn};ST=31;CN=2061;PW=123456;MN={mn};Flag=7;PNUM=2;PNO={pno};\
             CP=&&DataTime=20270115080000;{items}&&"
        ))
    };
    let q1 = piece("20270115090000101", 1, "a21026-Avg=30.0,a21026-Flag=N");
    let q2 = piece("20270115090000102", 2, "a21002-Avg=70.0,a21002-Flag=N");
    logger.send_in_pieces(&q1, 9).await;
    let first = logger.replies(1, Duration::from_secs(10)).await;
    assert_eq!(first[0].field("QN"), "20270115090000101");
    assert_eq!(rows_of(db, device, 2061, 20270115080000).await, 1);
    logger.send_in_pieces(&q2, 13).await;
    let second = logger.replies(1, Duration::from_secs(10)).await;
    assert_eq!(
        second[0].field("QN"),
        "20270115090000102",
        "each piece with its own QN"
    );
    let cp = text(
        db,
        &format!(
            "SELECT cp FROM monitoring_data WHERE device_id = {device} AND kind = 2061 \
             AND data_time = 20270115080000"
        ),
    )
    .await
    .unwrap();
    assert!(
        cp.contains("a21026-Avg=30.0") && cp.contains("a21002-Avg=70.0"),
        "{cp}"
    );

    // A resend of p1 (the device missed our reply): acknowledged again, not stored twice;
    // real-time data: acknowledged, not stored (off by default); Flag=4: stored, no reply.
    let rtd = frame(&upload(
        &mn,
        2011,
        "20270115080500001",
        5,
        "20270115080500",
        "a21026-Rtd=36.0,a21026-Flag=N",
    ));
    let quiet = minute(&mn, "20270115080600001", 4, "20270115080600");
    let mut wire = p1.clone();
    wire.extend_from_slice(&rtd);
    wire.extend_from_slice(&quiet);
    logger.send(&wire).await;
    let replies = logger.replies(2, Duration::from_secs(10)).await;
    assert_eq!(
        replies.iter().map(|r| r.field("QN")).collect::<Vec<_>>(),
        ["20270115080100001", "20270115080500001"]
    );
    assert!(logger.replies(1, no_reply_wait()).await.is_empty());
    eventually("the Flag=4 packet stored", || async {
        rows_of(db, device, 2051, 20270115080600).await == 1
    })
    .await;
    assert_eq!(rows_of(db, device, 2051, 20270115080100).await, 1);
    assert_eq!(rows_of(db, device, 2011, 20270115080500).await, 0);

    assert_eq!(count(&metrics, Outcome::StoredMinute), 4);
    assert_eq!(count(&metrics, Outcome::StoredHourly), 2);
    assert_eq!(count(&metrics, Outcome::DuplicateMinute), 1);
    assert_eq!(count(&metrics, Outcome::NotStoredRealtimeOff), 1);
    assert_eq!(count(&metrics, Outcome::RejectedCrcMismatch), 1);
    assert_eq!(metrics.packets_with_outcome("rejected"), 1);
    assert_eq!(metrics.bytes_skipped(), 7);
    assert_eq!(metrics.replies_sent(), 7);
    assert_eq!(metrics.split_messages(), (1, 0));
    assert!(metrics.commit_batches() >= 1);

    // The device's status (written at most once a second): last heard, the newest data time,
    // the version its packets announce; every accepted packet counted (the bad CRC cannot be
    // attributed to a device).
    eventually("the device's status written", || async {
        scalar(
            db,
            &format!(
                "SELECT COUNT(*) FROM device_status WHERE device_id = {device} AND packets = 8"
            ),
        )
        .await
            == 1
    })
    .await;
    assert_eq!(
        scalar(
            db,
            &format!("SELECT last_data_time FROM device_status WHERE device_id = {device}")
        )
        .await,
        20270115080600
    );
    let version = text(
        db,
        &format!("SELECT protocol_version FROM device_status WHERE device_id = {device}"),
    )
    .await
    .unwrap();
    assert!(version.starts_with("2017 Flag="), "{version}");

    // GET /metrics serves the counters through the web layer.
    let state = cpaudit_web::AppState::new(
        cpaudit_app::App::new(db.clone(), reference(), Arc::new(cpaudit_app::SystemClock)),
        cpaudit_web::WebSettings::default(),
    );
    let router = cpaudit_web::app(state.clone());
    let empty = router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::OK, "no receiver: an empty page");
    state.set_metrics(receiver.renderer());
    let response = router
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.contains("cpaudit_hj212_packets_total{outcome=\"stored\",reason=\"minute\"} 4\n"));
    assert!(
        body.contains("cpaudit_hj212_packets_total{outcome=\"duplicate\",reason=\"minute\"} 1\n")
    );
    assert!(!body.contains(&mn), "no MN on the metrics page");

    drop(logger);
    receiver.shutdown().await;
}

#[tokio::test]
async fn unknown_mns_are_quarantined_then_assigned_and_replayed_or_discarded() {
    let store = test_db().await;
    let db = &store.db;
    let receiver = start(&store, |c| c.quarantine_cap = 2).await;
    let metrics = receiver.metrics();
    let devices = demo_devices(db, 2).await;
    let (device, old_mn) = devices[1].clone();
    let unknown = "62TEST0000000000000000U1";

    let mut logger = Logger::connect(&receiver).await;
    let mut wire = Vec::new();
    for (i, time) in ["20270115090100", "20270115090200", "20270115090300"]
        .iter()
        .enumerate()
    {
        wire.extend_from_slice(&minute(unknown, &format!("2027011509000000{i}"), 5, time));
    }
    logger.send(&wire).await;
    let replies = logger.replies(3, Duration::from_secs(3)).await;
    assert_eq!(
        replies.len(),
        2,
        "kept packets are acknowledged, the one over the cap is not"
    );
    assert_eq!(count(&metrics, Outcome::Quarantined), 2);
    assert_eq!(count(&metrics, Outcome::DroppedQuarantineFull), 1);
    assert_eq!(
        (metrics.unknown_mn_packets(), metrics.unknown_mns()),
        (3, 1)
    );

    let province = Principal::console_operator("test");
    let open = db.quarantined_mns(&province, false).await.unwrap();
    let entry = open.iter().find(|q| q.mn == unknown).unwrap();
    assert_eq!(
        (
            entry.packets,
            entry.kept,
            entry.dropped,
            entry.resolution.as_str()
        ),
        (3, 2, 1, "open")
    );
    assert!(entry.last_peer.starts_with("127.0.0.1:"));
    let kept = db
        .quarantined_packets(&province, unknown, 10)
        .await
        .unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept[0].packet.starts_with("##") && kept[0].packet.contains(unknown));
    let city = Principal::console_acting_for_city("test", "620100");
    assert!(matches!(
        db.quarantined_mns(&city, false).await,
        Err(StorageError::Refused {
            code: "province_only",
            ..
        })
    ));
    assert!(matches!(
        db.assign_quarantined_mn(&city, unknown, device, test_now())
            .await,
        Err(StorageError::Refused {
            code: "province_only",
            ..
        })
    ));

    // The province assigns the MN to a registered device: the kept packets become its data.
    let done = db
        .assign_quarantined_mn(&province, unknown, device, test_now())
        .await
        .unwrap();
    assert_eq!(
        (done.replayed, done.duplicates, done.without_data),
        (2, 0, 0)
    );
    assert_eq!(rows_of(db, device, 2051, 20270115090100).await, 1);
    assert_eq!(rows_of(db, device, 2051, 20270115090200).await, 1);
    assert_eq!(rows_of(db, device, 2051, 20270115090300).await, 0);
    assert_eq!(
        text(db, &format!("SELECT mn FROM devices WHERE id = {device}"))
            .await
            .unwrap(),
        unknown
    );
    assert_ne!(old_mn, unknown);
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'hj212.mn_assigned'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM quarantine_packets").await,
        0
    );
    assert!(db
        .quarantined_mns(&province, false)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        db.assign_quarantined_mn(&province, unknown, device, test_now())
            .await,
        Err(StorageError::Conflict {
            code: "mn_already_resolved",
            ..
        })
    ));

    // Later packets from the MN are the device's, whether or not the receiver has reloaded
    // its directory yet; the one that was over the cap is accepted when sent again.
    logger
        .send(&minute(unknown, "20270115090000003", 5, "20270115090300"))
        .await;
    assert_eq!(logger.replies(1, Duration::from_secs(10)).await.len(), 1);
    assert_eq!(rows_of(db, device, 2051, 20270115090300).await, 1);

    // Another unknown MN, discarded: its kept packet is deleted, later ones are not kept.
    let stray = "62TEST0000000000000000U2";
    logger
        .send(&minute(stray, "20270115091000001", 5, "20270115091000"))
        .await;
    assert_eq!(logger.replies(1, Duration::from_secs(10)).await.len(), 1);
    assert_eq!(
        db.discard_quarantined_mn(&province, stray, test_now())
            .await
            .unwrap(),
        1
    );
    logger
        .send(&minute(stray, "20270115091100001", 5, "20270115091100"))
        .await;
    assert!(logger.replies(1, no_reply_wait()).await.is_empty());
    eventually("the discarded MN's packet counted", || async {
        count(&metrics, Outcome::DroppedDiscardedMn) == 1
    })
    .await;
    let all = db.quarantined_mns(&province, true).await.unwrap();
    let stray_entry = all.iter().find(|q| q.mn == stray).unwrap();
    assert_eq!(
        (
            stray_entry.resolution.as_str(),
            stray_entry.kept,
            stray_entry.dropped
        ),
        ("discarded", 0, 1)
    );
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'hj212.mn_discarded'"
        )
        .await,
        1
    );
    drop(logger);
    receiver.shutdown().await;
}

#[tokio::test]
async fn a_tolerant_device_with_byte_swapped_modbus_crc_is_accepted_and_answered_in_its_dialect() {
    let store = test_db().await;
    let db = &store.db;
    let receiver = start(&store, |c| c.store_realtime = true).await;
    let metrics = receiver.metrics();
    let devices = demo_devices(db, 2).await;
    // The real devices of samples S10 (4201003) and S08/S11/S12/S19 (88888880000001).
    let (swapped, big) = (devices[0].0, devices[1].0);
    raw_execute(
        db,
        &format!("UPDATE devices SET mn = '4201003' WHERE id = {swapped}"),
    )
    .await;
    raw_execute(
        db,
        &format!("UPDATE devices SET mn = '88888880000001' WHERE id = {big}"),
    )
    .await;
    let province = Principal::console_operator("test");
    let mut logger = Logger::connect(&receiver).await;
    // Wait for the directory to know the new MNs.
    directory_reloaded(&metrics).await;

    // Strict by default: S10's CRC is CRC-16/MODBUS printed low byte first, refused, and the
    // refusal is recorded against the device.
    logger.send(&sample("S10")).await;
    eventually("S10 refused", || async {
        count(&metrics, Outcome::RejectedDeviationNotAllowed) == 1
    })
    .await;
    assert_eq!(metrics.deviations(Deviation::CrcModbusSwapped, false), 1);
    eventually("the refusal recorded", || async {
        scalar(
            db,
            &format!(
                "SELECT COUNT(*) FROM device_status WHERE device_id = {swapped} AND rejected = 1"
            ),
        )
        .await
            == 1
    })
    .await;
    let why = text(
        db,
        &format!("SELECT last_rejection FROM device_status WHERE device_id = {swapped}"),
    )
    .await
    .unwrap();
    assert!(why.contains("crc_modbus_swapped"), "{why}");
    assert_eq!(rows_of(db, swapped, 2011, 20200923111707).await, 0);

    // The city sets the device's switches; the receiver reads them with its next reload.
    let tolerance = Deviations::EMPTY
        .with(Deviation::CrcModbusSwapped)
        .with(Deviation::MissingQn)
        .with(Deviation::MissingFlag);
    db.set_device_settings(&province, swapped, tolerance, true, test_now())
        .await
        .unwrap();
    assert_eq!(
        db.device_settings(province.scope(), swapped)
            .await
            .unwrap()
            .tolerance,
        tolerance
    );
    directory_reloaded(&metrics).await;
    logger.send(&sample("S10")).await;
    eventually("S10 stored", || async {
        rows_of(db, swapped, 2011, 20200923111707).await == 1
    })
    .await;
    assert_eq!(metrics.deviations(Deviation::CrcModbusSwapped, true), 1);
    assert_eq!(count(&metrics, Outcome::StoredRealtime), 1);

    // A 2017 upload from the same device asking for a reply gets it with the device's CRC.
    let seg = upload(
        "4201003",
        2051,
        "20270115100000001",
        5,
        "20270115100000",
        "a21026-Avg=1.5,a21026-Flag=N",
    );
    let wire = FrameEncoder::STANDARD
        .with_crc(CrcAlgorithm::ModbusSwapped)
        .encode(&seg)
        .unwrap();
    logger.send(&wire).await;
    let replies = logger.replies(1, Duration::from_secs(10)).await;
    assert_eq!(replies[0].crc, CrcAlgorithm::ModbusSwapped);
    assert_eq!(replies[0].field("QN"), "20270115100000001");
    assert_eq!(rows_of(db, swapped, 2051, 20270115100000).await, 1);
    eventually("the accepted deviations counted for the device", || async {
        scalar(
            db,
            &format!("SELECT COUNT(*) FROM device_status WHERE device_id = {swapped} AND deviations >= 2"),
        )
        .await
            == 1
    })
    .await;

    // S11 and S12: over-size data segments with the swapped CRC, allowed for that device; S19
    // is a restart notice (acknowledged, not stored).
    db.set_device_settings(
        &province,
        big,
        tolerance.with(Deviation::OversizeSegment),
        true,
        test_now(),
    )
    .await
    .unwrap();
    directory_reloaded(&metrics).await;
    let mut wire = sample("S11");
    wire.extend_from_slice(&sample("S12"));
    wire.extend_from_slice(&sample("S08"));
    wire.extend_from_slice(&sample("S19"));
    logger.send(&wire).await;
    let replies = logger.replies(1, Duration::from_secs(10)).await;
    assert_eq!(replies[0].field("CN"), "9014", "S19 asks for a reply");
    eventually("S11, S12 and S08 stored", || async {
        rows_of(db, big, 2011, 20200923113557).await == 1
            && rows_of(db, big, 2051, 20200924101000).await == 1
            && rows_of(db, big, 2011, 20200921174057).await == 1
    })
    .await;
    assert_eq!(metrics.deviations(Deviation::OversizeSegment, true), 2);
    assert_eq!(count(&metrics, Outcome::NotStoredOtherCommand), 1);

    // Out of service: refused.
    db.set_device_settings(&province, swapped, tolerance, false, test_now())
        .await
        .unwrap();
    directory_reloaded(&metrics).await;
    let seg = upload(
        "4201003",
        2051,
        "20270115100100001",
        5,
        "20270115100100",
        "a21026-Avg=1.5",
    );
    logger
        .send(
            &FrameEncoder::STANDARD
                .with_crc(CrcAlgorithm::ModbusSwapped)
                .encode(&seg)
                .unwrap(),
        )
        .await;
    assert!(logger.replies(1, no_reply_wait()).await.is_empty());
    assert_eq!(count(&metrics, Outcome::RejectedDeviceDisabled), 1);
    assert_eq!(rows_of(db, swapped, 2051, 20270115100100).await, 0);
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'device.settings'"
        )
        .await,
        3
    );
    drop(logger);
    receiver.shutdown().await;
}

#[tokio::test]
async fn every_public_sample_is_counted_once_with_its_verdict() {
    let store = test_db().await;
    let receiver = start(&store, |_| {}).await;
    let metrics = receiver.metrics();
    let packets: Vec<&str> = SAMPLES.lines().filter(|l| l.starts_with("##")).collect();
    assert_eq!(packets.len(), 30);
    let mut wire = Vec::new();
    for packet in &packets {
        wire.extend_from_slice(packet.as_bytes());
        wire.extend_from_slice(b"\r\n");
    }
    let mut logger = Logger::connect(&receiver).await;
    logger.send_in_pieces(&wire, 100).await;
    let total = || {
        Outcome::ALL
            .iter()
            .map(|o| metrics.packets(*o))
            .sum::<u64>()
    };
    eventually("every sample counted", || async { total() == 30 }).await;
    // None of these MNs is registered: the HJ212-OK packets go to quarantine (or are not data);
    // the four REJECT samples fail framing or CRC; the three DEVIATION samples, and S28 with
    // its malformed header, are refused because an unknown MN is held to the standard plus the
    // 2005-style header.
    let framing = metrics.packets(Outcome::RejectedCrcMismatch)
        + metrics.packets(Outcome::RejectedLengthMismatch)
        + metrics.packets(Outcome::RejectedMissingTail);
    assert_eq!(framing, 4, "{}", metrics.render());
    assert_eq!(metrics.packets(Outcome::RejectedCrcMismatch), 3);
    assert_eq!(metrics.packets(Outcome::RejectedDeviationNotAllowed), 4);
    assert_eq!(metrics.deviations(Deviation::CrcModbusSwapped, false), 3);
    assert_eq!(metrics.deviations(Deviation::HeaderKeyCase, false), 1);
    let kept = metrics.packets(Outcome::Quarantined);
    assert_eq!(
        kept + metrics.packets(Outcome::RejectedBadDataTime) + framing + 4,
        30,
        "{}",
        metrics.render()
    );
    // S25 is a host's request (CN=2011 without DataTime): not data.
    assert_eq!(metrics.packets(Outcome::RejectedBadDataTime), 1);
    drop(logger);
    receiver.shutdown().await;
}

#[tokio::test]
async fn connection_limit_idle_timeout_and_rate_limits_hold_devices_back_without_losing_data() {
    let store = test_db().await;
    let db = &store.db;
    let (device, mn) = demo_devices(db, 1).await.remove(0);

    let receiver = start(&store, |c| {
        c.max_connections = 2;
        c.idle_timeout = Duration::from_millis(300);
    })
    .await;
    let metrics = receiver.metrics();
    let mut a = Logger::connect(&receiver).await;
    let mut b = Logger::connect(&receiver).await;
    eventually("two connections open", || async {
        metrics.connections_open() == 2
    })
    .await;
    let mut refused = Logger::connect(&receiver).await;
    assert!(refused.closed_within(Duration::from_secs(5)).await);
    assert_eq!(metrics.connections_refused(), 1);
    // Both sit idle and are closed.
    assert!(a.closed_within(Duration::from_secs(5)).await);
    assert!(b.closed_within(Duration::from_secs(5)).await);
    eventually("idle connections counted", || async {
        metrics.connections_idle_closed() == 2 && metrics.connections_open() == 0
    })
    .await;
    receiver.shutdown().await;

    // Ten packets a second: a burst of 25 is held back, not dropped.
    let receiver = start(&store, |c| c.max_packets_per_sec = 10).await;
    let metrics = receiver.metrics();
    let mut logger = Logger::connect(&receiver).await;
    let mut wire = Vec::new();
    for i in 0..25 {
        let time = format!("202701151{:03}00", 100 + i);
        wire.extend_from_slice(&minute(&mn, &format!("{time}001"), 5, &time));
    }
    let started = Instant::now();
    logger.send(&wire).await;
    let replies = logger.replies(25, Duration::from_secs(20)).await;
    let took = started.elapsed();
    assert_eq!(replies.len(), 25);
    assert!(took >= Duration::from_millis(1200), "{took:?}");
    assert!(metrics.throttled(Throttle::Packets) >= 1);
    assert_eq!(count(&metrics, Outcome::StoredMinute), 25);
    drop(logger);
    receiver.shutdown().await;

    // 3,000 bytes a second: about 9 KB take two seconds more.
    let receiver = start(&store, |c| c.max_bytes_per_sec = 3000).await;
    let metrics = receiver.metrics();
    let mut logger = Logger::connect(&receiver).await;
    let mut wire = Vec::new();
    for i in 0..60 {
        let time = format!("202701151{:03}00", 200 + i);
        wire.extend_from_slice(&minute(&mn, &format!("{time}001"), 5, &time));
    }
    assert!(wire.len() > 8000, "{}", wire.len());
    let started = Instant::now();
    logger.send(&wire).await;
    let replies = logger.replies(60, Duration::from_secs(20)).await;
    let took = started.elapsed();
    assert_eq!(replies.len(), 60);
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(metrics.throttled(Throttle::Bytes) >= 1);
    assert_eq!(
        scalar(
            db,
            &format!("SELECT COUNT(*) FROM monitoring_data WHERE device_id = {device}")
        )
        .await,
        85
    );
    drop(logger);
    receiver.shutdown().await;
}

#[tokio::test]
async fn retention_deletes_old_data_per_kind_and_device_settings_follow_jurisdiction() {
    let store = test_db().await;
    let db = &store.db;
    let devices = demo_devices(db, 2).await;
    let row = |device: i64, kind: i64, data_time: i64| DataRow {
        device_id: device,
        kind,
        data_time,
        qn: String::new(),
        received_at: "2027-01-15T01:00:00.000000Z".into(),
        cp: format!("DataTime={data_time};a21026-Avg=1"),
        split: false,
    };
    let mut batch = IngestBatch::default();
    for (device, _) in &devices {
        for kind in [2011, 2051, 2061, 2031] {
            batch.rows.push(row(*device, kind, 20250101000000));
            batch.rows.push(row(*device, kind, 20270110000000));
        }
    }
    let outcome = db.store_monitoring_batch(&batch, 10).await.unwrap();
    assert_eq!(outcome.stored_total(), 16);
    let again = db.store_monitoring_batch(&batch, 10).await.unwrap();
    assert_eq!((again.stored_total(), again.duplicates_total()), (0, 16));

    // Now is 2027-01-15: real-time data older than 3 days and minute data older than 365 days
    // go; hourly and daily values are kept for good.
    let policy = Retention {
        realtime_days: 3,
        minute_days: 365,
        hourly_days: 0,
        daily_days: 0,
    };
    let done = db.apply_retention(&policy, test_now()).await.unwrap();
    assert_eq!(done, [(2011, 4), (2051, 2)]);
    let left = |kind: i64| {
        let sql = format!("SELECT COUNT(*) FROM monitoring_data WHERE kind = {kind}");
        async move { scalar(db, &sql).await }
    };
    assert_eq!(left(2011).await, 0);
    assert_eq!(left(2051).await, 2);
    assert_eq!(left(2061).await, 4);
    assert_eq!(left(2031).await, 4);

    // Device settings: the province and the device's own city; another city does not learn
    // that the device exists; an enterprise may not.
    let device = devices[0].0;
    let city: String = text(
        db,
        &format!(
            "SELECT e.jurisdiction_code FROM devices d JOIN outlets o ON o.id = d.outlet_id \
             JOIN enterprises e ON e.id = o.enterprise_id WHERE d.id = {device}"
        ),
    )
    .await
    .unwrap();
    let other = if city == "620100" { "620500" } else { "620100" };
    let own = Principal::console_acting_for_city("test", &city);
    let stranger = Principal::console_acting_for_city("test", other);
    let enterprise = Principal::console_acting_for("test", cpaudit_storage::Role::Enterprise, 1);
    let swapped = Deviations::only(Deviation::CrcModbusSwapped);
    assert!(matches!(
        db.set_device_settings(&stranger, device, swapped, true, test_now())
            .await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.set_device_settings(&enterprise, device, swapped, true, test_now())
            .await,
        Err(StorageError::Refused {
            code: "device_settings_officials_only",
            ..
        })
    ));
    let before = db.device_settings(own.scope(), device).await.unwrap();
    assert_eq!(
        (before.tolerance, before.enabled, before.updated_by),
        (Deviations::EMPTY, true, None)
    );
    db.set_device_settings(&own, device, swapped, true, test_now())
        .await
        .unwrap();
    // The same settings again change nothing and write no audit entry.
    db.set_device_settings(&own, device, swapped, true, test_now())
        .await
        .unwrap();
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'device.settings'"
        )
        .await,
        1
    );
    let directory = db.device_directory().await.unwrap();
    let entry = directory.iter().find(|e| e.device_id == device).unwrap();
    assert_eq!((entry.tolerance, entry.enabled), (swapped, true));
    assert!(directory
        .iter()
        .filter(|e| e.device_id != device)
        .all(|e| e.tolerance.is_empty() && e.enabled));
}

/// The real binary: `serve --hj212-listen` prints the receiver's address, stores and
/// acknowledges a packet, serves its counters at /metrics, and stops cleanly on SIGTERM.
#[tokio::test]
async fn serve_runs_the_receiver_beside_the_web_server() {
    use std::io::{BufRead, BufReader, Read, Write};
    let store = test_db().await;
    let (device, mn) = demo_devices(&store.db, 1).await.remove(0);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cpaudit"))
        .args([
            "--database-url",
            &store.url,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--hj212-listen",
            "127.0.0.1:0",
        ])
        .env("CPAUDIT_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut web, mut hj212) = (String::new(), String::new());
    for _ in 0..4 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if let Some(address) = line.trim().strip_prefix("cpaudit is serving http://") {
            web = address.trim_end_matches('/').to_string();
        }
        if let Some(address) = line
            .trim()
            .strip_prefix("cpaudit is receiving HJ 212 on tcp://")
        {
            hj212 = address.to_string();
        }
        if !web.is_empty() && !hj212.is_empty() {
            break;
        }
    }
    assert!(hj212.starts_with("127.0.0.1:"), "{hj212}");

    let mut logger = std::net::TcpStream::connect(&hj212).unwrap();
    logger
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    logger
        .write_all(&minute(&mn, "20270115083000001", 5, "20270115083000"))
        .unwrap();
    let mut reply = [0u8; 256];
    let n = logger.read(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]).to_string();
    assert!(
        reply.contains("CN=9014") && reply.contains("QN=20270115083000001"),
        "{reply}"
    );
    assert_eq!(rows_of(&store.db, device, 2051, 20270115083000).await, 1);

    let mut http = std::net::TcpStream::connect(&web).unwrap();
    http.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    http.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("cpaudit_hj212_packets_total{outcome=\"stored\",reason=\"minute\"} 1\n"),
        "{answer}"
    );

    drop(logger);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("cpaudit stopped"), "{rest}");
}
