//! One device connection: reads under the rate limits and the idle timeout, hands the
//! session's jobs to the writer, and writes the replies the writer releases after each commit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit};

use crate::limits::TokenBucket;
use crate::metrics::Throttle;
use crate::session::{ConnMsg, Job, Link, Session};
use crate::Shared;

/// Bytes read from the socket at a time.
const READ_BUFFER: usize = 4096;
/// A write to a device that does not read its replies gives up after this.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the replies still owed to it.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

async fn write_replies(
    writer: &mut OwnedWriteHalf,
    first: ConnMsg,
    rx: &mut mpsc::UnboundedReceiver<ConnMsg>,
    in_flight: &mut usize,
    shared: &Shared,
) -> bool {
    let mut out = Vec::new();
    let mut replies = 0;
    let mut take = |msg: ConnMsg, out: &mut Vec<u8>| {
        *in_flight = in_flight.saturating_sub(1);
        if let ConnMsg::Reply(bytes) = msg {
            out.extend_from_slice(&bytes);
            replies += 1;
        }
    };
    take(first, &mut out);
    while let Ok(msg) = rx.try_recv() {
        take(msg, &mut out);
    }
    if out.is_empty() {
        return true;
    }
    let written = tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(&out)).await;
    let ok = matches!(written, Ok(Ok(())));
    for _ in 0..replies {
        shared.metrics.reply(ok);
    }
    ok
}

/// Serves one connection until the peer closes, the idle timeout passes, an I/O error occurs
/// or the receiver shuts down.
pub async fn serve(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    shared: Arc<Shared>,
    jobs: mpsc::Sender<Job>,
    mut shutdown: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let metrics = Arc::clone(&shared.metrics);
    metrics.connection_opened();
    let _ = stream.set_nodelay(true);
    let peer: Arc<str> = peer.to_string().into();
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let link = Arc::new(Link {
        tx,
        peer: Arc::clone(&peer),
    });
    let mut jobs = Some(jobs);
    let mut session = Session::new(
        Arc::clone(&shared.session),
        Arc::clone(&shared.metrics),
        Arc::clone(&shared.log),
        Arc::clone(&peer),
    );
    let config = &shared.config;
    let start = Instant::now();
    let mut bytes_budget = TokenBucket::new(config.max_bytes_per_sec, start);
    let mut packet_budget = TokenBucket::new(config.max_packets_per_sec, start);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut in_flight = 0usize;
    let mut last_read = start;
    let mut idle = false;
    let stopping = *shutdown.borrow_and_update();

    'serve: loop {
        if stopping {
            break 'serve;
        }
        let now = Instant::now();
        let hold = [
            bytes_budget.as_mut().and_then(|b| b.wait(now)),
            packet_budget.as_mut().and_then(|b| b.wait(now)),
        ]
        .into_iter()
        .flatten()
        .max();
        let idle_at = tokio::time::Instant::from_std(last_read + config.idle_timeout);
        let expire_at = session.next_deadline();
        tokio::select! {
            biased;
            _ = shutdown.changed() => break 'serve,
            Some(msg) = rx.recv() => {
                if !write_replies(&mut writer, msg, &mut rx, &mut in_flight, &shared).await {
                    break 'serve;
                }
            }
            () = tokio::time::sleep_until(tokio::time::Instant::from_std(
                expire_at.unwrap_or(now),
            )), if expire_at.is_some() => {
                session.expire(Instant::now());
            }
            () = tokio::time::sleep_until(idle_at) => {
                idle = true;
                break 'serve;
            }
            () = tokio::time::sleep(hold.unwrap_or_default()), if hold.is_some() => {}
            read = reader.read(&mut buf), if hold.is_none() => {
                let n = match read {
                    Ok(0) | Err(_) => break 'serve,
                    Ok(n) => n,
                };
                let now = Instant::now();
                last_read = now;
                metrics.bytes(n as u64);
                let directory = shared.directory.current();
                let received_at = cpaudit_storage::timestamp(chrono::Utc::now());
                let fed = session.feed(&buf[..n], &directory, now, &received_at);
                if std::mem::take(&mut session.unknown_seen) {
                    shared.directory.request_refresh();
                }
                if let Some(budget) = bytes_budget.as_mut() {
                    budget.take(n as u64, now);
                    if budget.wait(now).is_some() {
                        metrics.throttle(Throttle::Bytes);
                    }
                }
                if let Some(budget) = packet_budget.as_mut() {
                    budget.take(fed.packets, now);
                    if budget.wait(now).is_some() {
                        metrics.throttle(Throttle::Packets);
                    }
                }
                for mut job in fed.jobs {
                    if config.ack_before_commit {
                        // Test only: the reply goes out before the data is stored.
                        if let Some(reply) = job.reply.take() {
                            let ok = matches!(
                                tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(&reply)).await,
                                Ok(Ok(()))
                            );
                            metrics.reply(ok);
                            if !ok {
                                break 'serve;
                            }
                        }
                    }
                    if job.reply.is_some() {
                        in_flight += 1;
                    }
                    job.link = Some(Arc::clone(&link));
                    let Some(sender) = jobs.as_ref() else { break 'serve };
                    if sender.send(job).await.is_err() {
                        // The writer is gone (shutting down).
                        break 'serve;
                    }
                }
            }
        }
    }

    session.finish();
    // Let the writer finish without this connection, then deliver what it still owes us: a
    // device that half-closed after sending, or a shutdown, still gets the replies of packets
    // that were committed.
    drop(jobs.take());
    if !idle && in_flight > 0 {
        let drain = async {
            while in_flight > 0 {
                let Some(msg) = rx.recv().await else { break };
                if !write_replies(&mut writer, msg, &mut rx, &mut in_flight, &shared).await {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
    }
    let _ = writer.shutdown().await;
    metrics.connection_closed(idle);
}
