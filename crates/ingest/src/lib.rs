//! The HJ 212 receiver of cpaudit: a TCP listener beside the web server that takes packets from
//! the data loggers (数采仪) at monitored outlets, stores them, and acknowledges them only once
//! they are durably committed.
//!
//! ```text
//!  device ──TCP──▶ connection task ──jobs──▶ writer task ──one transaction──▶ database
//!    ▲             (StreamDecoder, device          (group commit on a
//!    │              tolerance, reassembly,          durable connection)
//!    │              rate limits)                          │
//!    └──────────── 9014 / 9013 reply ◀── after the commit ┘
//! ```
//!
//! Per connection, a [`session`] cuts the byte stream into frames with the codec's
//! `StreamDecoder`, parses each packet, looks its MN up in the device directory, applies the
//! device's tolerance switches (an unknown MN gets the standard plus the 2005-style header),
//! tracks split messages, and turns each accepted packet into a job carrying the reply it is
//! owed. The [`writer`] task takes all waiting jobs as one batch, writes them in one
//! transaction (data, quarantine, device status) and, after the commit, releases the replies.
//! Bad input is counted in [`Metrics`] and logged at a limited rate; it ends no other
//! connection and never the server.
#![forbid(unsafe_code)]

mod connection;
pub mod limits;
pub mod metrics;
pub mod session;
pub mod writer;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cpaudit_storage::monitoring::{Retention, DEFAULT_QUARANTINE_CAP};
use cpaudit_storage::{Db, StorageError};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Notify, Semaphore};
use tokio::task::JoinHandle;

pub use metrics::{Metrics, Outcome, Throttle};
pub use session::{Directory, SessionSettings, UNKNOWN_MN_TOLERANCE};

/// The receiver's settings (the `[hj212]` section of the configuration file).
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Address to listen on, e.g. `0.0.0.0:9212`.
    pub listen: String,
    /// Connections open at once; further ones are accepted and closed at once, and counted.
    pub max_connections: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// Bytes per second one connection may send (0: no limit). Faster senders are held back.
    pub max_bytes_per_sec: u64,
    /// Packets per second one connection may send (0: no limit). Faster senders are held back.
    pub max_packets_per_sec: u64,
    /// The longest data segment accepted from a device allowed over-size segments (others:
    /// 1024, the standard's limit). Bounds the memory a connection's decoder may hold.
    pub max_segment_len: usize,
    /// Store real-time data (2011). Off by default: it is acknowledged and not stored.
    pub store_realtime: bool,
    /// Days each kind of data is kept.
    pub retention: Retention,
    /// How often the retention policy runs (the first run is a minute after start).
    pub retention_interval: Duration,
    /// Packets kept per unknown MN.
    pub quarantine_cap: u32,
    /// How long the pieces of a split message are waited for.
    pub reassembly_timeout: Duration,
    /// How often the device directory is reloaded (also, at most every few seconds, when an
    /// unknown MN is seen).
    pub directory_refresh: Duration,
    /// Packets per group commit at most.
    pub max_batch: usize,
    /// Packets waiting for the writer at most; beyond, connections stop reading.
    pub queue: usize,
    /// TEST ONLY: reply before the data is committed. It breaks the promise of the
    /// acknowledgement and exists to prove that the durability test can fail.
    pub ack_before_commit: bool,
}

/// A thousand data loggers per city and fourteen cities, with room.
pub const DEFAULT_MAX_CONNECTIONS: usize = 20_000;
/// Devices send minute data; ten quiet minutes mean a dead connection.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// About 300 packets of 900 bytes a second: a device catching up on a day of minute data
/// does so in seconds.
pub const DEFAULT_MAX_BYTES_PER_SEC: u64 = 256 * 1024;
pub const DEFAULT_MAX_PACKETS_PER_SEC: u64 = 200;
/// Over-size segments seen in the field reach about 1,600 characters (sample S12).
pub const DEFAULT_MAX_SEGMENT_LEN: usize = 4096;

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            listen: "0.0.0.0:9212".into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_bytes_per_sec: DEFAULT_MAX_BYTES_PER_SEC,
            max_packets_per_sec: DEFAULT_MAX_PACKETS_PER_SEC,
            max_segment_len: DEFAULT_MAX_SEGMENT_LEN,
            store_realtime: false,
            retention: Retention::default(),
            retention_interval: Duration::from_secs(24 * 3600),
            quarantine_cap: DEFAULT_QUARANTINE_CAP,
            reassembly_timeout: Duration::from_secs(60),
            directory_refresh: Duration::from_secs(30),
            max_batch: 4096,
            queue: 16_384,
            ack_before_commit: false,
        }
    }
}

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot listen for HJ 212 on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The device directory in force, replaced whole on each reload.
pub(crate) struct DirectoryHandle {
    current: RwLock<Arc<Directory>>,
    wanted: Notify,
}

impl DirectoryHandle {
    pub(crate) fn current(&self) -> Arc<Directory> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, directory: Directory) {
        let directory = Arc::new(directory);
        match self.current.write() {
            Ok(mut current) => *current = directory,
            Err(poisoned) => *poisoned.into_inner() = directory,
        }
    }

    pub(crate) fn request_refresh(&self) {
        self.wanted.notify_one();
    }
}

/// What every connection shares.
pub(crate) struct Shared {
    pub(crate) config: ReceiverConfig,
    pub(crate) session: Arc<SessionSettings>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) log: Arc<limits::LogLimiter>,
    pub(crate) directory: DirectoryHandle,
}

/// Reloads after an unknown MN wait at least this long after the previous reload.
const MIN_ON_DEMAND_REFRESH: Duration = Duration::from_secs(5);

/// A running receiver.
pub struct Receiver {
    local_addr: SocketAddr,
    metrics: Arc<Metrics>,
    shutdown: watch::Sender<bool>,
    accept: JoinHandle<()>,
    writer: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
    /// One permit per open connection slot: all back means every connection has ended.
    permits: Arc<Semaphore>,
    max_connections: usize,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Loads the device directory, opens the writer's durable connection, binds the listener
    /// and starts serving.
    pub async fn start(db: Db, config: ReceiverConfig) -> Result<Receiver, IngestError> {
        if config.ack_before_commit {
            tracing::error!(
                "TEST ONLY: the HJ 212 receiver acknowledges packets BEFORE they are committed; \
                 an acknowledged packet can be lost. Never run a real platform like this."
            );
        }
        let metrics = Arc::new(Metrics::default());
        let entries = db.device_directory().await?;
        metrics.directory(entries.len(), true);
        let writer = db.monitoring_writer().await?;
        let listener =
            TcpListener::bind(&config.listen)
                .await
                .map_err(|source| IngestError::Bind {
                    address: config.listen.clone(),
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| IngestError::Bind {
            address: config.listen.clone(),
            source,
        })?;
        let shared = Arc::new(Shared {
            session: Arc::new(SessionSettings {
                store_realtime: config.store_realtime,
                max_segment_len: config.max_segment_len,
                reassembly_timeout: config.reassembly_timeout,
            }),
            metrics: Arc::clone(&metrics),
            log: Arc::new(limits::LogLimiter::new(60)),
            directory: DirectoryHandle {
                current: RwLock::new(Arc::new(Directory::new(entries))),
                wanted: Notify::new(),
            },
            config,
        });
        let max_connections = shared.config.max_connections.max(1);
        let permits = Arc::new(Semaphore::new(max_connections));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (jobs_tx, jobs_rx) = mpsc::channel(shared.config.queue.max(1));
        let writer = tokio::spawn(writer::run(
            jobs_rx,
            writer,
            Arc::clone(&metrics),
            shared.config.max_batch.max(1),
            shared.config.quarantine_cap,
        ));
        let accept = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&shared),
            jobs_tx,
            Arc::clone(&permits),
            shutdown_rx.clone(),
        ));
        let background = vec![
            tokio::spawn(refresh_directory(
                db.clone(),
                Arc::clone(&shared),
                shutdown_rx.clone(),
            )),
            tokio::spawn(run_retention(db, Arc::clone(&shared), shutdown_rx)),
        ];
        Ok(Receiver {
            local_addr,
            metrics,
            shutdown,
            accept,
            writer,
            background,
            permits,
            max_connections,
        })
    }

    /// The address bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// A function rendering the counters in the Prometheus text format, for the web layer.
    pub fn renderer(&self) -> Arc<dyn Fn() -> String + Send + Sync> {
        let metrics = Arc::clone(&self.metrics);
        Arc::new(move || metrics.render())
    }

    /// Stops accepting, closes the connections (each first receives the replies for what was
    /// committed), lets the writer commit what is queued, and returns when it has.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.accept.await;
        if tokio::time::timeout(Duration::from_secs(30), self.writer)
            .await
            .is_err()
        {
            tracing::error!("the HJ 212 writer did not finish within 30 s");
        }
        // The connections deliver the replies of the last commits, then end.
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.permits.acquire_many(all)).await;
        for task in self.background {
            task.abort();
        }
        tracing::info!("HJ 212 receiver stopped");
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    jobs: mpsc::Sender<Job>,
    permits: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => match Arc::clone(&permits).try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(connection::serve(
                        stream,
                        peer,
                        Arc::clone(&shared),
                        jobs.clone(),
                        shutdown.clone(),
                        permit,
                    ));
                }
                Err(_) => {
                    shared.metrics.connection_refused();
                    if shared.log.admit().is_some() {
                        tracing::warn!(%peer, "HJ 212 connection refused: max_connections open");
                    }
                    drop(stream);
                }
            },
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                if shared.log.admit().is_some() {
                    tracing::warn!(%error, "HJ 212 accept failed");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

use session::Job;

async fn refresh_directory(db: Db, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut last = Instant::now();
    loop {
        let on_demand = tokio::select! {
            _ = shutdown.changed() => return,
            () = tokio::time::sleep(shared.config.directory_refresh) => false,
            () = shared.directory.wanted.notified() => true,
        };
        if on_demand {
            let since = last.elapsed();
            if since < MIN_ON_DEMAND_REFRESH {
                tokio::select! {
                    _ = shutdown.changed() => return,
                    () = tokio::time::sleep(MIN_ON_DEMAND_REFRESH - since) => {}
                }
            }
        }
        last = Instant::now();
        match db.device_directory().await {
            Ok(entries) => {
                let devices = entries.len();
                shared.directory.replace(Directory::new(entries));
                shared.metrics.directory(devices, true);
            }
            Err(error) => {
                shared.metrics.directory(0, false);
                tracing::warn!(%error, "reloading the HJ 212 device directory failed");
            }
        }
    }
}

async fn run_retention(db: Db, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut wait = Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = shared
            .config
            .retention_interval
            .max(Duration::from_secs(60));
        match db
            .apply_retention(&shared.config.retention, chrono::Utc::now())
            .await
        {
            Ok(done) => {
                let rows: u64 = done.iter().map(|(_, n)| n).sum();
                shared.metrics.retention_deleted(rows);
                tracing::info!(?done, "HJ 212 retention applied (kind, rows deleted)");
            }
            Err(error) => tracing::warn!(%error, "HJ 212 retention failed"),
        }
    }
}
