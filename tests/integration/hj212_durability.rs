//! Durability of HJ 212 ingest: the server is killed with SIGKILL in the middle of simulated
//! ingest and started again; every upload the simulator saw acknowledged must be in
//! `monitoring_data`. The same run with `--hj212-ack-before-commit` (acknowledging before the
//! data is committed, a switch that exists only for this test) must lose acknowledged uploads,
//! which shows that the check can fail.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cpaudit_storage::Db;

use crate::support::test_db;

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `cpaudit serve` with the HJ 212 receiver on `port`, once the receiver accepts connections.
fn start_server(url: &str, port: u16, ack_before_commit: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cpaudit"));
    command
        .args(["--database-url", url, "serve", "--listen", "127.0.0.1:0"])
        .args(["--hj212-listen", &format!("127.0.0.1:{port}")])
        .env("CPAUDIT_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if ack_before_commit {
        command.arg("--hj212-ack-before-commit");
    }
    let mut child = command.spawn().expect("start cpaudit serve");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("cpaudit serve exited early: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the HJ 212 receiver did not start listening"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The simulator, as fast as acknowledged, writing what was acknowledged to `acked_log`.
fn start_simulator(port: u16, seconds: f64, acked_log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cpaudit"))
        .args([
            "hj212",
            "simulate",
            "--target",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--devices", "40", "--rate", "0", "--window", "16"])
        .args(["--duration", &seconds.to_string(), "--ack-timeout", "2"])
        .args(["--faults", "none"])
        .arg("--acked-log")
        .arg(acked_log)
        .env("CPAUDIT_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the simulator")
}

/// SIGKILL: no shutdown code runs, whatever was not committed is gone.
fn kill_hard(child: &mut Child) {
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
}

/// Lines of the acknowledgement log (`MN CN DataTime`) with no row in `monitoring_data`.
pub async fn missing_acknowledged(db: &Db, acked_log: &Path) -> (usize, Vec<String>) {
    const SQL: &str = "SELECT d.mn, CAST(m.kind AS BIGINT), CAST(m.data_time AS BIGINT) \
                       FROM monitoring_data m JOIN devices d ON d.id = m.device_id";
    let rows: Vec<(String, i64, i64)> = match db {
        Db::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
    };
    let stored: HashSet<String> = rows
        .into_iter()
        .map(|(mn, kind, time)| format!("{mn} {kind} {time:014}"))
        .collect();
    let log = std::fs::read_to_string(acked_log).unwrap();
    let acked: Vec<&str> = log.lines().collect();
    let missing = acked
        .iter()
        .filter(|line| !stored.contains(**line))
        .map(|line| line.to_string())
        .collect();
    (acked.len(), missing)
}

/// Runs the simulator against a server that is killed with SIGKILL `kills` times in the middle
/// of ingest (restarted each time), and returns the check's result.
async fn ingest_through_kills(ack_before_commit: bool, kills: usize) -> (usize, Vec<String>) {
    let store = test_db().await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let acked_log = dir.path().join("acked.log");
    let mut server = start_server(&store.url, port, ack_before_commit);
    let run = 1.5 + 1.5 * kills as f64;
    let mut simulator = start_simulator(port, run, &acked_log);
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(1200));
        kill_hard(&mut server);
        server = start_server(&store.url, port, ack_before_commit);
    }
    let status = simulator.wait().unwrap();
    let mut report = String::new();
    for line in BufReader::new(simulator.stdout.take().unwrap()).lines() {
        report.push_str(&line.unwrap());
        report.push('\n');
    }
    kill_hard(&mut server);
    assert!(status.success(), "simulator failed:\n{report}");
    assert!(
        report.contains("connection_lost") || report.contains("timeout"),
        "the kills interrupted uploads in flight:\n{report}"
    );
    let result = missing_acknowledged(&store.db, &acked_log).await;
    eprintln!(
        "{} acknowledged, {} missing after {kills} kills (ack before commit: {ack_before_commit})\n{report}",
        result.0,
        result.1.len()
    );
    assert!(
        result.0 > 100,
        "only {} uploads acknowledged:\n{report}",
        result.0
    );
    result
}

#[tokio::test(flavor = "multi_thread")]
async fn every_acknowledged_upload_survives_sigkill() {
    let (acked, missing) = ingest_through_kills(false, 2).await;
    assert!(
        missing.is_empty(),
        "{} of {acked} acknowledged uploads are not in monitoring_data, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

/// The check above can fail: acknowledging before the commit loses acknowledged uploads when
/// the server is killed while the writer holds uncommitted data.
#[tokio::test(flavor = "multi_thread")]
async fn acknowledging_before_commit_loses_acknowledged_uploads_at_sigkill() {
    let (acked, missing) = ingest_through_kills(true, 2).await;
    assert!(
        !missing.is_empty(),
        "all {acked} acknowledged uploads were stored: the kill did not catch uncommitted data"
    );
}
