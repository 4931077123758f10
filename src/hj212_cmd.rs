//! `cpaudit hj212 simulate`: the demo devices' data loggers sending HJ 212-2017 uploads to a
//! receiver, one TCP connection per device, for demos, tests and benchmarks.
//!
//! Each device runs as one task: it connects (reconnecting with a back-off when the receiver is
//! away), sends minute and hourly uploads with `Flag=5` (acknowledgement requested), pipelined
//! with at most `--window` uploads waiting for their 9014 reply, paced to its share of `--rate`
//! and, with `--speed`, to a simulated clock. Faults are injected per upload: a wrong CRC (the
//! receiver must not acknowledge it), line noise before it, the upload split over several
//! writes, or the connection dropped half-way through it.
//!
//! Every upload sent ends in exactly one outcome: acknowledged, or failed with a reason, so the
//! report's counts add up. `--acked-log` writes `MN CN DataTime` for every acknowledged upload,
//! which is what a durability check compares with the database.

use std::collections::VecDeque;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::NaiveDateTime;
use clap::{Args, Subcommand};
use cpaudit_core::reference::ReferenceData;
use cpaudit_hj212::{StreamDecoder, Tolerance};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::hj212_traffic::{demo_devices, DeviceSpec, Logger, Medium, Rng, TrafficSettings};
use crate::setup;

/// HJ 212 tools.
#[derive(Debug, Subcommand)]
pub enum Hj212Command {
    /// Send realistic HJ 212-2017 minute and hourly uploads of the demo devices to a receiver
    /// and report what was acknowledged.
    Simulate(SimulateArgs),
    /// Judge the stored data against the emission limits once (the server does it on every
    /// scheduler tick).
    Evaluate(crate::hj212_evaluate::EvaluateArgs),
}

/// The faults injected unless told otherwise: each a share of the uploads.
pub const DEFAULT_FAULTS: &str = "crc=0.002,garbage=0.002,split=0.01,disconnect=0.0005";

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The receiver, HOST:PORT.
    #[arg(long)]
    target: String,
    /// Number of devices, each on its own connection: the first N devices of the demo data.
    #[arg(long, default_value_t = 100)]
    devices: usize,
    /// Uploads per second over all devices; 0 = as fast as the receiver acknowledges.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Seconds to send for (then up to --ack-timeout more to collect replies).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Uploads a device may have waiting for their reply (pipelining); 1 = send and wait.
    #[arg(long, default_value_t = 8)]
    window: usize,
    /// Run the devices' clock at this many times real time: each upload waits until its
    /// interval has passed on that clock (1 = real time). Without it, uploads go as fast as
    /// --rate allows and the data time advances one interval per upload.
    #[arg(long)]
    speed: Option<f64>,
    /// Data time of the first uploads, China time, e.g. 2027-01-15T08:00 (default: with
    /// --speed now, otherwise midnight 30 days ago).
    #[arg(long)]
    start: Option<String>,
    /// Share of periods (air: hours, water: days) in which a pollutant exceeds every limit.
    #[arg(long, default_value_t = 0.02)]
    exceedance_share: f64,
    /// Share of hours in which an instrument reports a fault (D) or maintenance (M).
    #[arg(long, default_value_t = 0.005)]
    invalid_share: f64,
    /// Faults, each a share of the uploads: crc (wrong CRC), garbage (noise before the
    /// upload), split (written in pieces), disconnect (connection dropped mid-upload);
    /// `none` for none.
    #[arg(long, default_value = DEFAULT_FAULTS)]
    faults: Faults,
    /// Write `MN CN DataTime` for every acknowledged upload to this file.
    #[arg(long)]
    acked_log: Option<PathBuf>,
    /// Seconds to wait for a reply before counting the upload as failed (HJ 212: 5–10 s).
    #[arg(long, default_value_t = 10.0)]
    ack_timeout: f64,
    /// Size of the demo data set the receiver's database was loaded with (`cpaudit demo
    /// --scale`; `serve --demo` loads the default).
    #[arg(long, default_value_t = setup::DEMO_ENTERPRISES)]
    scale: usize,
    /// Connect and send one upload per device, then hold the connections open until the end.
    #[arg(long)]
    idle: bool,
    /// Seed of the simulated values (not of the devices, which are the demo data's).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Fault shares, each the probability that an upload gets that fault.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    pub bad_crc: f64,
    pub garbage: f64,
    pub split: f64,
    pub disconnect: f64,
}

impl FromStr for Faults {
    type Err = String;

    fn from_str(text: &str) -> Result<Faults, String> {
        let mut faults = Faults::default();
        if text.trim() == "none" {
            return Ok(faults);
        }
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, share) = part
                .split_once('=')
                .ok_or_else(|| format!("{part}: expected NAME=SHARE"))?;
            let share: f64 = share
                .parse()
                .ok()
                .filter(|s| (0.0..=1.0).contains(s))
                .ok_or_else(|| format!("{part}: the share must be a number from 0 to 1"))?;
            match name {
                "crc" => faults.bad_crc = share,
                "garbage" => faults.garbage = share,
                "split" => faults.split = share,
                "disconnect" => faults.disconnect = share,
                other => {
                    return Err(format!(
                        "unknown fault {other}: use crc, garbage, split or disconnect"
                    ))
                }
            }
        }
        Ok(faults)
    }
}

/// How a simulation runs (the arguments, checked).
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub target: SocketAddr,
    pub rate: f64,
    pub duration: Duration,
    pub window: usize,
    pub speed: Option<f64>,
    pub start: NaiveDateTime,
    pub traffic: TrafficSettings,
    pub faults: Faults,
    pub acked_log: Option<PathBuf>,
    pub ack_timeout: Duration,
    pub idle: bool,
}

/// Why an upload was not acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Sent with a wrong CRC on purpose; the receiver must not acknowledge it.
    BadCrc,
    /// Cut off by an injected disconnect.
    Cut,
    /// Waiting for its reply when the device dropped the connection on purpose.
    Disconnected,
    /// Waiting for its reply when the receiver closed or reset the connection.
    ConnectionLost,
    /// No reply within the timeout.
    Timeout,
    /// Answered with something other than a 9014 data reply.
    Refused,
}

impl Failure {
    const ALL: [Failure; 6] = [
        Failure::BadCrc,
        Failure::Cut,
        Failure::Disconnected,
        Failure::ConnectionLost,
        Failure::Timeout,
        Failure::Refused,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Failure::BadCrc => "bad_crc",
            Failure::Cut => "cut",
            Failure::Disconnected => "disconnected",
            Failure::ConnectionLost => "connection_lost",
            Failure::Timeout => "timeout",
            Failure::Refused => "refused",
        }
    }

    fn explain(self) -> &'static str {
        match self {
            Failure::BadCrc => "wrong CRC injected; not acknowledged, as it should be",
            Failure::Cut => "cut off by an injected disconnect",
            Failure::Disconnected => "awaiting a reply at an injected disconnect",
            Failure::ConnectionLost => "awaiting a reply when the receiver closed the connection",
            Failure::Timeout => "no reply in time",
            Failure::Refused => "answered with another reply than 9014",
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    sent_hourly: AtomicU64,
    bytes: AtomicU64,
    acked: AtomicU64,
    acked_in_time: AtomicU64,
    failed: [AtomicU64; 6],
    garbage: AtomicU64,
    split: AtomicU64,
    disconnects: AtomicU64,
    connections: AtomicU64,
    connect_errors: AtomicU64,
    unmatched_replies: AtomicU64,
    undecodable_replies: AtomicU64,
    acked_bad_crc: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Acknowledgement latencies in microseconds, log-linear buckets (32 per power of two, so a
/// reported percentile is within about 3 % of the true value), shared by all devices.
#[derive(Debug)]
struct Histogram {
    buckets: Vec<AtomicU64>,
    max: AtomicU64,
}

const SUB_BUCKETS: u64 = 32;

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            buckets: (0..64 * SUB_BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }

    fn bucket(value: u64) -> usize {
        if value < SUB_BUCKETS {
            return value as usize;
        }
        let exponent = 63 - u64::from(value.leading_zeros());
        let shift = exponent - 5;
        ((exponent - 4) * SUB_BUCKETS + ((value >> shift) - SUB_BUCKETS)) as usize
    }

    fn lower_bound(bucket: usize) -> u64 {
        let bucket = bucket as u64;
        if bucket < SUB_BUCKETS {
            return bucket;
        }
        let exponent = bucket / SUB_BUCKETS + 4;
        (SUB_BUCKETS + bucket % SUB_BUCKETS) << (exponent - 5)
    }

    fn record(&self, micros: u64) {
        add(&self.buckets[Self::bucket(micros)], 1);
        self.max.fetch_max(micros, Ordering::Relaxed);
    }

    /// The given quantiles (0–1) in microseconds, or `None` without data.
    fn quantiles(&self, qs: &[f64]) -> Option<Vec<u64>> {
        let counts: Vec<u64> = self.buckets.iter().map(get).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let mut out = Vec::with_capacity(qs.len());
        for &q in qs {
            let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
            let mut seen = 0;
            let mut value = 0;
            for (bucket, &count) in counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    value = Self::lower_bound(bucket);
                    break;
                }
            }
            out.push(value);
        }
        Some(out)
    }
}

struct Shared {
    options: SimOptions,
    /// Seconds between one device's uploads, from --rate.
    period: Option<Duration>,
    t0: Instant,
    deadline: Instant,
    counters: Counters,
    latency: Histogram,
    acked_log: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
    first_connect_error: Mutex<Option<String>>,
}

/// What a simulation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub devices: usize,
    pub air: usize,
    pub water: usize,
    pub seconds: f64,
    pub sent: u64,
    pub sent_hourly: u64,
    pub bytes: u64,
    pub acked: u64,
    /// Acknowledged before the sending period ended.
    pub acked_in_time: u64,
    pub failed: Vec<(Failure, u64)>,
    pub garbage: u64,
    pub split: u64,
    pub disconnects: u64,
    pub connections: u64,
    pub connect_errors: u64,
    pub first_connect_error: Option<String>,
    pub unmatched_replies: u64,
    pub undecodable_replies: u64,
    pub acked_bad_crc: u64,
    /// p50, p90, p99, p99.9 and maximum acknowledgement latency, µs.
    pub latency_micros: Option<[u64; 5]>,
}

impl Report {
    pub fn failed(&self, failure: Failure) -> u64 {
        self.failed
            .iter()
            .find(|(f, _)| *f == failure)
            .map_or(0, |(_, n)| *n)
    }

    pub fn failed_total(&self) -> u64 {
        self.failed.iter().map(|(_, n)| n).sum()
    }
}

/// Runs the command.
pub async fn run(
    command: Hj212Command,
    reference: ReferenceData,
    database_url: &str,
) -> Result<std::process::ExitCode> {
    let args = match command {
        Hj212Command::Simulate(args) => args,
        Hj212Command::Evaluate(args) => {
            crate::hj212_evaluate::run(database_url, &reference, args).await?;
            return Ok(std::process::ExitCode::SUCCESS);
        }
    };
    let options = options(&args).await?;
    let data = cpaudit_core::demo::generate(&reference, setup::DEMO_SEED, args.scale);
    let mut devices = demo_devices(&data);
    if args.devices == 0 {
        bail!("--devices must be at least 1");
    }
    if args.devices > devices.len() {
        bail!(
            "the demo data of {} enterprises has {} devices, fewer than --devices {}: raise \
             --scale, and load the receiver's database with `cpaudit demo --scale` of the same size",
            args.scale,
            devices.len(),
            args.devices
        );
    }
    devices.truncate(args.devices);
    println!(
        "simulating {} devices → {} for {:.0} s, {}, window {}, faults {}",
        devices.len(),
        options.target,
        options.duration.as_secs_f64(),
        if args.idle {
            "idle (one upload each)".to_string()
        } else if options.rate > 0.0 {
            format!("{} uploads/s", options.rate)
        } else {
            "as fast as acknowledged".to_string()
        },
        options.window,
        describe_faults(&options.faults),
    );
    let report = simulate(options, devices).await?;
    print_report(&report);
    if report.acked_bad_crc > 0 {
        eprintln!(
            "error: the receiver acknowledged {} uploads with a wrong CRC",
            report.acked_bad_crc
        );
        return Ok(std::process::ExitCode::FAILURE);
    }
    if report.sent > 0 && report.acked == 0 {
        eprintln!("error: no upload was acknowledged");
        return Ok(std::process::ExitCode::FAILURE);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn describe_faults(f: &Faults) -> String {
    if *f == Faults::default() {
        return "none".into();
    }
    format!(
        "crc={},garbage={},split={},disconnect={}",
        f.bad_crc, f.garbage, f.split, f.disconnect
    )
}

fn china_now() -> NaiveDateTime {
    (chrono::Utc::now() + chrono::Duration::hours(8)).naive_utc()
}

fn parse_start(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y%m%d%H%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t);
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

async fn options(args: &SimulateArgs) -> Result<SimOptions> {
    let target = tokio::net::lookup_host(&args.target)
        .await
        .with_context(|| format!("--target {}: not a reachable HOST:PORT", args.target))?
        .next()
        .with_context(|| format!("--target {}: no address", args.target))?;
    if !(args.rate >= 0.0 && args.rate.is_finite()) {
        bail!("--rate must be 0 or more");
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        bail!("--duration must be more than 0 seconds");
    }
    if args.window == 0 {
        bail!("--window must be at least 1");
    }
    if let Some(speed) = args.speed {
        if !(speed > 0.0 && speed.is_finite()) {
            bail!("--speed must be more than 0");
        }
    }
    if !(args.ack_timeout > 0.0 && args.ack_timeout.is_finite()) {
        bail!("--ack-timeout must be more than 0 seconds");
    }
    for (name, share) in [
        ("--exceedance-share", args.exceedance_share),
        ("--invalid-share", args.invalid_share),
    ] {
        if !(0.0..=1.0).contains(&share) {
            bail!("{name} must be from 0 to 1");
        }
    }
    let start = match &args.start {
        Some(text) => parse_start(text).with_context(|| {
            format!("--start {text}: expected YYYY-MM-DDTHH:MM (China time) or YYYY-MM-DD")
        })?,
        None if args.speed.is_some() => china_now(),
        None => (china_now().date() - chrono::Duration::days(30))
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists"),
    };
    Ok(SimOptions {
        target,
        rate: args.rate,
        duration: Duration::from_secs_f64(args.duration),
        window: args.window,
        speed: args.speed,
        start,
        traffic: TrafficSettings {
            exceedance_share: args.exceedance_share,
            invalid_share: args.invalid_share,
            seed: args.seed,
        },
        faults: args.faults,
        acked_log: args.acked_log.clone(),
        ack_timeout: Duration::from_secs_f64(args.ack_timeout),
        idle: args.idle,
    })
}

/// Runs the devices against the receiver and reports. Usable without the command line.
///
/// # Errors
/// Only when the acknowledgement log cannot be written; connection problems are counted.
pub async fn simulate(options: SimOptions, devices: Vec<DeviceSpec>) -> Result<Report> {
    let acked_log = match &options.acked_log {
        Some(path) => Some(Mutex::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ))),
        None => None,
    };
    let count = devices.len();
    let air = devices
        .iter()
        .filter(|d| matches!(d.medium, Medium::Air { .. }))
        .count();
    let t0 = Instant::now();
    let shared = Arc::new(Shared {
        period: (options.rate > 0.0).then(|| Duration::from_secs_f64(count as f64 / options.rate)),
        deadline: t0 + options.duration,
        options,
        t0,
        counters: Counters::default(),
        latency: Histogram::new(),
        acked_log,
        first_connect_error: Mutex::new(None),
    });
    // Connections open over the first second (a quarter of a short run), not all at once.
    let ramp = Duration::from_secs(1).min(shared.options.duration / 4);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, spec) in devices.into_iter().enumerate() {
        let shared = shared.clone();
        let begin = t0 + ramp.mul_f64(index as f64 / count as f64);
        tasks.spawn(async move { Device::new(&spec, &shared).run(begin, &shared).await });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("a device task failed")?;
    }
    let seconds = shared.options.duration.as_secs_f64();
    if let Some(log) = &shared.acked_log {
        log.lock()
            .expect("log lock")
            .flush()
            .context("writing the acknowledgement log")?;
    }
    let c = &shared.counters;
    let latency_micros = shared
        .latency
        .quantiles(&[0.5, 0.9, 0.99, 0.999])
        .map(|q| [q[0], q[1], q[2], q[3], get(&shared.latency.max)]);
    let first_connect_error = shared.first_connect_error.lock().expect("lock").clone();
    Ok(Report {
        devices: count,
        air,
        water: count - air,
        seconds,
        sent: get(&c.sent),
        sent_hourly: get(&c.sent_hourly),
        bytes: get(&c.bytes),
        acked: get(&c.acked),
        acked_in_time: get(&c.acked_in_time),
        failed: Failure::ALL
            .iter()
            .enumerate()
            .map(|(i, f)| (*f, get(&c.failed[i])))
            .collect(),
        garbage: get(&c.garbage),
        split: get(&c.split),
        disconnects: get(&c.disconnects),
        connections: get(&c.connections),
        connect_errors: get(&c.connect_errors),
        first_connect_error,
        unmatched_replies: get(&c.unmatched_replies),
        undecodable_replies: get(&c.undecodable_replies),
        acked_bad_crc: get(&c.acked_bad_crc),
        latency_micros,
    })
}

fn millis(micros: u64) -> String {
    format!("{:.1} ms", micros as f64 / 1000.0)
}

pub fn print_report(r: &Report) {
    println!(
        "devices: {} ({} air, {} water), {:.1} s",
        r.devices, r.air, r.water, r.seconds
    );
    println!(
        "sent: {} uploads ({} minute, {} hourly), {:.1} MB",
        r.sent,
        r.sent - r.sent_hourly,
        r.sent_hourly,
        r.bytes as f64 / 1e6
    );
    println!(
        "acknowledged: {} ({} within the sending period)",
        r.acked, r.acked_in_time
    );
    println!("failed: {}", r.failed_total());
    for (failure, n) in &r.failed {
        if *n > 0 {
            println!("  {:<16} {n:>10}  {}", failure.name(), failure.explain());
        }
    }
    println!(
        "faults injected: garbage {}, split {}, disconnect {}, wrong CRC {}",
        r.garbage,
        r.split,
        r.disconnects,
        r.failed(Failure::BadCrc)
    );
    println!(
        "rate: sent {:.0}/s, acknowledged {:.0}/s",
        r.sent as f64 / r.seconds,
        r.acked_in_time as f64 / r.seconds
    );
    if let Some([p50, p90, p99, p999, max]) = r.latency_micros {
        println!(
            "ack latency: p50 {}, p90 {}, p99 {}, p99.9 {}, max {}",
            millis(p50),
            millis(p90),
            millis(p99),
            millis(p999),
            millis(max)
        );
    }
    println!(
        "connections: {} opened, {} connect errors{}",
        r.connections,
        r.connect_errors,
        r.first_connect_error
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    if r.unmatched_replies + r.undecodable_replies > 0 {
        println!(
            "replies: {} matching no upload, {} undecodable",
            r.unmatched_replies, r.undecodable_replies
        );
    }
    if r.acked_bad_crc > 0 {
        println!(
            "ANOMALY: {} uploads with a wrong CRC were acknowledged",
            r.acked_bad_crc
        );
    }
}

/// An upload waiting for its reply.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    qn: u64,
    cn: u16,
    data_time: u64,
    sent: Instant,
}

/// The next upload, built and waiting for its time.
struct Staged {
    frame: Vec<u8>,
    qn: u64,
    cn: u16,
    data_time: u64,
    /// When the device's clock says to send it (with --speed).
    due: Option<Instant>,
}

enum SessionEnd {
    Finished,
    Reconnect(Duration),
}

enum Sent {
    Continue,
    Disconnect,
}

/// Line noise seen from real modems between packets (no `#`, so it never looks like a header).
const NOISE: [&[u8]; 3] = [b"AT+CSQ\r\n+CSQ: 23,99\r\n\r\nOK\r\n", b"\0\0\0\0", b"+++"];

struct Device {
    logger: Logger,
    rng: Rng,
    staged: Option<Staged>,
    /// When --rate lets this device send next.
    rate_due: Instant,
    in_flight: VecDeque<InFlight>,
    /// Uploads sent with a wrong CRC: a reply to one is an anomaly.
    refusals: VecDeque<(u64, Instant)>,
}

impl Device {
    fn new(spec: &DeviceSpec, shared: &Shared) -> Device {
        let logger = Logger::new(spec, shared.options.start, shared.options.traffic);
        let mut rng = Rng::new(
            spec.mn
                .bytes()
                .fold(shared.options.traffic.seed ^ 0x5EED, |h, b| {
                    h.rotate_left(5) ^ u64::from(b)
                }),
        );
        let offset = shared
            .period
            .map_or(Duration::ZERO, |p| p.mul_f64(rng.unit()));
        Device {
            logger,
            rng,
            staged: None,
            rate_due: shared.t0 + offset,
            in_flight: VecDeque::new(),
            refusals: VecDeque::new(),
        }
    }

    async fn run(mut self, begin: Instant, shared: &Shared) {
        tokio::time::sleep_until(begin).await;
        let mut backoff = Duration::from_millis(100);
        while Instant::now() < shared.deadline {
            let connect = tokio::time::timeout(
                Duration::from_secs(5),
                TcpStream::connect(shared.options.target),
            )
            .await;
            let stream = match connect {
                Ok(Ok(stream)) => stream,
                failed => {
                    add(&shared.counters.connect_errors, 1);
                    let message = match failed {
                        Ok(Err(e)) if e.raw_os_error() == Some(24) => {
                            format!("{e}: raise the open-file limit (ulimit -n)")
                        }
                        Ok(Err(e)) => e.to_string(),
                        _ => "timed out".to_string(),
                    };
                    shared
                        .first_connect_error
                        .lock()
                        .expect("lock")
                        .get_or_insert(message);
                    let left = shared.deadline.saturating_duration_since(Instant::now());
                    tokio::time::sleep(backoff.min(left)).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            add(&shared.counters.connections, 1);
            let _ = stream.set_nodelay(true);
            match self.session(stream, shared).await {
                SessionEnd::Finished => break,
                SessionEnd::Reconnect(pause) => tokio::time::sleep(pause).await,
            }
        }
        // Anything still waiting when the device gives up has not been answered in time.
        self.lose_in_flight(Failure::Timeout, shared);
    }

    fn lose_in_flight(&mut self, reason: Failure, shared: &Shared) {
        add(
            &shared.counters.failed[reason as usize],
            self.in_flight.len() as u64,
        );
        self.in_flight.clear();
        self.refusals.clear();
    }

    async fn session(&mut self, stream: TcpStream, shared: &Shared) -> SessionEnd {
        let options = &shared.options;
        let (mut reader, mut writer) = stream.into_split();
        let mut decoder = StreamDecoder::new(Tolerance::STRICT);
        let mut read_buf = vec![0u8; 4096];
        let mut write_buf = Vec::with_capacity(8192);
        let mut sent_here = 0u64;
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        loop {
            let now = Instant::now();
            let sending = now < shared.deadline;
            if !sending && self.in_flight.is_empty() {
                return SessionEnd::Finished;
            }
            let room = self.in_flight.len() < options.window && !(options.idle && sent_here > 0);
            let send_at = if sending && room {
                Some(self.next_due(shared))
            } else {
                None
            };
            let reply_due = self.in_flight.front().map(|f| f.sent + options.ack_timeout);
            tokio::select! {
                biased;
                read = reader.read(&mut read_buf) => match read {
                    Ok(n) if n > 0 => self.on_replies(&read_buf[..n], &mut decoder, shared),
                    _ => {
                        self.lose_in_flight(Failure::ConnectionLost, shared);
                        return SessionEnd::Reconnect(Duration::from_millis(100));
                    }
                },
                () = tokio::time::sleep_until(reply_due.unwrap_or(far)), if reply_due.is_some() => {
                    self.expire(Instant::now(), shared);
                }
                () = tokio::time::sleep_until(send_at.unwrap_or(far)), if send_at.is_some() => {
                    match self.send_due(&mut writer, &mut write_buf, &mut sent_here, shared).await {
                        Ok(Sent::Continue) => {}
                        Ok(Sent::Disconnect) => {
                            self.lose_in_flight(Failure::Disconnected, shared);
                            return SessionEnd::Reconnect(Duration::from_millis(50));
                        }
                        Err(_) => {
                            self.lose_in_flight(Failure::ConnectionLost, shared);
                            return SessionEnd::Reconnect(Duration::from_millis(100));
                        }
                    }
                }
                () = tokio::time::sleep_until(shared.deadline), if sending => {}
            }
        }
    }

    /// Builds the next upload if none is waiting.
    fn stage(&mut self, shared: &Shared) {
        if self.staged.is_some() {
            return;
        }
        let mut frame = Vec::with_capacity(1024);
        let upload = self.logger.next_packet(&mut frame);
        let due = shared.options.speed.map(|speed| {
            let ahead = (upload.sent_at - shared.options.start).num_milliseconds() as f64;
            shared.t0 + Duration::from_secs_f64((ahead / 1000.0 / speed).max(0.0))
        });
        self.staged = Some(Staged {
            frame,
            qn: upload.qn,
            cn: upload.cn,
            data_time: upload.data_time,
            due,
        });
    }

    fn next_due(&mut self, shared: &Shared) -> Instant {
        self.stage(shared);
        let mut due = if shared.period.is_some() {
            self.rate_due
        } else {
            shared.t0
        };
        if let Some(Some(clock)) = self.staged.as_ref().map(|s| s.due) {
            due = due.max(clock);
        }
        due
    }

    /// Sends every upload that is due while the window has room, in as few writes as faults
    /// allow.
    async fn send_due(
        &mut self,
        writer: &mut OwnedWriteHalf,
        buf: &mut Vec<u8>,
        sent_here: &mut u64,
        shared: &Shared,
    ) -> std::io::Result<Sent> {
        let options = &shared.options;
        let faults = options.faults;
        let counters = &shared.counters;
        buf.clear();
        loop {
            let now = Instant::now();
            if now >= shared.deadline
                || self.in_flight.len() >= options.window
                || (options.idle && *sent_here > 0)
                || self.next_due(shared) > now
            {
                break;
            }
            let Some(mut staged) = self.staged.take() else {
                break;
            };
            if let Some(period) = shared.period {
                // Behind by more than a second (the receiver is slower than --rate): do not
                // try to catch up in one burst.
                let floor = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
                self.rate_due = self.rate_due.max(floor) + period;
            }
            add(&counters.sent, 1);
            if staged.cn == 2061 {
                add(&counters.sent_hourly, 1);
            }
            *sent_here += 1;
            if self.rng.chance(faults.garbage) {
                add(&counters.garbage, 1);
                if self.rng.chance(0.5) {
                    buf.extend_from_slice(NOISE[self.rng.below(NOISE.len() as u64) as usize]);
                } else {
                    let n = 1 + self.rng.below(48);
                    for _ in 0..n {
                        let byte = self.rng.below(256) as u8;
                        buf.push(if byte == b'#' { b'*' } else { byte });
                    }
                }
            }
            if self.rng.chance(faults.disconnect) {
                add(&counters.disconnects, 1);
                add(&counters.failed[Failure::Cut as usize], 1);
                let cut = 1 + self.rng.below(staged.frame.len() as u64 - 1) as usize;
                buf.extend_from_slice(&staged.frame[..cut]);
                add(&counters.bytes, buf.len() as u64);
                writer.write_all(buf).await?;
                buf.clear();
                return Ok(Sent::Disconnect);
            }
            let bad_crc = self.rng.chance(faults.bad_crc);
            if bad_crc {
                // The fourth CRC digit, before CR LF, changed to another hex digit.
                let at = staged.frame.len() - 3;
                staged.frame[at] = if staged.frame[at] == b'0' { b'1' } else { b'0' };
            }
            add(&counters.bytes, staged.frame.len() as u64);
            if self.rng.chance(faults.split) {
                add(&counters.split, 1);
                writer.write_all(buf).await?;
                buf.clear();
                let pieces = 2 + self.rng.below(3) as usize;
                let mut cuts: Vec<usize> = (1..pieces)
                    .map(|_| 1 + self.rng.below(staged.frame.len() as u64 - 1) as usize)
                    .collect();
                cuts.push(0);
                cuts.push(staged.frame.len());
                cuts.sort_unstable();
                cuts.dedup();
                for piece in cuts.windows(2) {
                    writer.write_all(&staged.frame[piece[0]..piece[1]]).await?;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            } else {
                buf.extend_from_slice(&staged.frame);
            }
            if bad_crc {
                add(&counters.failed[Failure::BadCrc as usize], 1);
                self.refusals.push_back((staged.qn, now));
            } else {
                self.in_flight.push_back(InFlight {
                    qn: staged.qn,
                    cn: staged.cn,
                    data_time: staged.data_time,
                    sent: now,
                });
            }
        }
        if !buf.is_empty() {
            writer.write_all(buf).await?;
            buf.clear();
        }
        Ok(Sent::Continue)
    }

    fn on_replies(&mut self, bytes: &[u8], decoder: &mut StreamDecoder, shared: &Shared) {
        let counters = &shared.counters;
        let mut replies: Vec<(u16, u64)> = Vec::new();
        decoder.decode(bytes, |item| {
            let reply = item
                .ok()
                .and_then(|frame| frame.parse(&Tolerance::STRICT).ok())
                .and_then(|seg| Some((seg.cn_number()?, seg.qn()?.parse::<u64>().ok()?)));
            match reply {
                Some(reply) => replies.push(reply),
                None => add(&counters.undecodable_replies, 1),
            }
        });
        let now = Instant::now();
        for (cn, qn) in replies {
            if let Some(at) = self.in_flight.iter().position(|f| f.qn == qn) {
                let upload = self.in_flight.remove(at).expect("position is valid");
                if cn == 9014 {
                    self.acknowledged(&upload, now, shared);
                } else {
                    add(&counters.failed[Failure::Refused as usize], 1);
                }
            } else if let Some(at) = self.refusals.iter().position(|r| r.0 == qn) {
                self.refusals.remove(at);
                if cn == 9014 {
                    add(&counters.acked_bad_crc, 1);
                }
            } else {
                add(&counters.unmatched_replies, 1);
            }
        }
    }

    fn acknowledged(&self, upload: &InFlight, now: Instant, shared: &Shared) {
        let counters = &shared.counters;
        add(&counters.acked, 1);
        if now <= shared.deadline {
            add(&counters.acked_in_time, 1);
        }
        shared
            .latency
            .record(now.duration_since(upload.sent).as_micros() as u64);
        if let Some(log) = &shared.acked_log {
            let mut log = log.lock().expect("log lock");
            // A full disk shows up when the log is flushed at the end.
            let _ = writeln!(
                log,
                "{} {} {:014}",
                self.logger.mn(),
                upload.cn,
                upload.data_time
            );
        }
    }

    fn expire(&mut self, now: Instant, shared: &Shared) {
        let timeout = shared.options.ack_timeout;
        while let Some(front) = self.in_flight.front() {
            if front.sent + timeout > now {
                break;
            }
            self.in_flight.pop_front();
            add(&shared.counters.failed[Failure::Timeout as usize], 1);
        }
        while self
            .refusals
            .front()
            .is_some_and(|(_, sent)| *sent + timeout <= now)
        {
            self.refusals.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpaudit_hj212::{Packet, Reply, ReplyTarget};
    use tokio::net::TcpListener;

    #[test]
    fn faults_parse() {
        assert_eq!("none".parse::<Faults>(), Ok(Faults::default()));
        let f: Faults = DEFAULT_FAULTS.parse().unwrap();
        assert!(f.bad_crc > 0.0 && f.garbage > 0.0 && f.split > 0.0 && f.disconnect > 0.0);
        assert_eq!(
            "split=0.5".parse::<Faults>(),
            Ok(Faults {
                split: 0.5,
                ..Faults::default()
            })
        );
        assert!("split=2".parse::<Faults>().unwrap_err().contains("0 to 1"));
        assert!("fire=0.1".parse::<Faults>().unwrap_err().contains("fire"));
        assert!("crc".parse::<Faults>().is_err());
    }

    #[test]
    fn start_times_parse() {
        let t = parse_start("2027-01-15T08:00").unwrap();
        assert_eq!(t.to_string(), "2027-01-15 08:00:00");
        assert_eq!(parse_start("202701150800"), Some(t));
        assert_eq!(parse_start("2027-01-15 08:00"), Some(t));
        assert_eq!(
            parse_start("2027-01-15").unwrap().to_string(),
            "2027-01-15 00:00:00"
        );
        assert_eq!(parse_start("yesterday"), None);
    }

    #[test]
    fn the_histogram_reports_percentiles_within_a_few_percent() {
        let h = Histogram::new();
        for v in 1..=10_000u64 {
            h.record(v * 10);
        }
        let q = h.quantiles(&[0.5, 0.99]).unwrap();
        assert!((q[0] as f64 - 50_000.0).abs() / 50_000.0 < 0.04, "{q:?}");
        assert!((q[1] as f64 - 99_000.0).abs() / 99_000.0 < 0.04, "{q:?}");
        for v in [0u64, 1, 31, 32, 33, 1000, 123_456_789] {
            let b = Histogram::bucket(v);
            assert!(Histogram::lower_bound(b) <= v);
            assert!(Histogram::lower_bound(b + 1) > v, "{v}");
        }
    }

    /// A receiver for the tests: acknowledges every upload with a valid CRC, with a 9014 reply,
    /// and answers nothing else. Returns its address and the data times it received by MN.
    async fn fake_receiver() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let seen = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut decoder = StreamDecoder::new(Tolerance::STRICT);
                    let mut buf = vec![0u8; 4096];
                    loop {
                        let n = match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let mut out = Vec::new();
                        decoder.decode(&buf[..n], |item| {
                            let Ok(frame) = item else { return };
                            let Ok(packet) = Packet::from_frame(frame, &Tolerance::STRICT) else {
                                return;
                            };
                            seen.lock().unwrap().push(format!(
                                "{} {} {}",
                                packet.mn(),
                                packet.cn(),
                                packet.data_time().unwrap()
                            ));
                            if let Some(reply) = Reply::for_packet(&packet) {
                                out.extend(
                                    reply.encode(&ReplyTarget::from(&packet.segment)).unwrap(),
                                );
                            }
                        });
                        if stream.write_all(&out).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (address, received)
    }

    fn devices(n: usize) -> Vec<DeviceSpec> {
        (0..n)
            .map(|i| DeviceSpec {
                mn: format!("010000A8900016F{i:09X}"),
                medium: if i % 3 == 0 {
                    Medium::Water
                } else {
                    Medium::Air { boiler: i % 2 == 0 }
                },
            })
            .collect()
    }

    fn options(target: SocketAddr, faults: Faults) -> SimOptions {
        SimOptions {
            target,
            rate: 0.0,
            duration: Duration::from_millis(800),
            window: 4,
            speed: None,
            start: parse_start("2027-01-01").unwrap(),
            traffic: TrafficSettings::default(),
            faults,
            acked_log: None,
            ack_timeout: Duration::from_secs(2),
            idle: false,
        }
    }

    #[tokio::test]
    async fn every_upload_sent_is_acknowledged_or_failed_with_a_reason() {
        let (address, received) = fake_receiver().await;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("acked.log");
        let faults = Faults {
            bad_crc: 0.05,
            garbage: 0.05,
            split: 0.05,
            disconnect: 0.01,
        };
        let mut options = options(address, faults);
        options.acked_log = Some(log.clone());
        let report = simulate(options, devices(6)).await.unwrap();
        assert!(report.sent > 500, "{report:?}");
        assert_eq!(
            report.sent,
            report.acked + report.failed_total(),
            "{report:?}"
        );
        assert!(report.failed(Failure::BadCrc) > 0);
        assert!(report.garbage > 0 && report.split > 0 && report.disconnects > 0);
        assert_eq!(report.acked_bad_crc, 0);
        assert_eq!(report.failed(Failure::Refused), 0);
        assert_eq!(report.undecodable_replies + report.unmatched_replies, 0);
        assert!(report.sent_hourly > 0);
        assert!(report.latency_micros.is_some());
        // Every acknowledged upload is in the log, and the receiver did get each of them.
        let acked = std::fs::read_to_string(&log).unwrap();
        let acked: Vec<&str> = acked.lines().collect();
        assert_eq!(acked.len() as u64, report.acked);
        let received: std::collections::HashSet<String> =
            received.lock().unwrap().iter().cloned().collect();
        for line in &acked {
            assert!(received.contains(*line), "{line}");
        }
    }

    #[tokio::test]
    async fn the_rate_limits_what_is_sent() {
        let (address, _) = fake_receiver().await;
        let mut options = options(address, Faults::default());
        options.rate = 200.0;
        options.duration = Duration::from_secs(1);
        let report = simulate(options, devices(4)).await.unwrap();
        assert!((150..=240).contains(&report.sent), "{report:?}");
        assert_eq!(report.acked, report.sent);
    }

    #[tokio::test]
    async fn with_a_real_time_clock_uploads_wait_for_their_interval() {
        let (address, _) = fake_receiver().await;
        let mut options = options(address, Faults::default());
        options.speed = Some(1.0);
        // Starting now, no interval of at least a minute has ended within the run.
        options.start = china_now();
        let report = simulate(options, devices(3)).await.unwrap();
        assert_eq!(report.sent, 0, "{report:?}");
        // At 600 × real time, a 1-minute interval passes every 0.1 s.
        let mut options = options_for(address);
        options.speed = Some(600.0);
        options.duration = Duration::from_secs(2);
        options.start = china_now();
        let report = simulate(options, devices(3)).await.unwrap();
        assert!((1..=80).contains(&report.sent), "{report:?}");
    }

    fn options_for(address: SocketAddr) -> SimOptions {
        options(address, Faults::default())
    }

    #[tokio::test]
    async fn without_a_receiver_connections_fail_and_nothing_is_sent() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let report = simulate(options(address, Faults::default()), devices(2))
            .await
            .unwrap();
        assert_eq!(report.sent, 0);
        assert!(report.connect_errors > 0);
        assert!(report.first_connect_error.is_some());
    }

    #[tokio::test]
    async fn idle_devices_send_one_upload_and_hold_the_connection() {
        let (address, _) = fake_receiver().await;
        let mut options = options(address, Faults::default());
        options.idle = true;
        let report = simulate(options, devices(5)).await.unwrap();
        assert_eq!(report.sent, 5);
        assert_eq!(report.acked, 5);
        assert_eq!(report.connections, 5);
    }
}
