//! The writer task: group commit. It takes every job waiting in the queue (up to a batch
//! limit), writes them in one transaction on its durable connection, and only once that
//! transaction has committed tells each connection which replies to send.
//!
//! While one commit waits for the disk, the next packets queue up and go into the next batch,
//! so the cost of a durable commit (an fsync on SQLite) is shared by all the packets that
//! arrived meanwhile, and the batch grows with the load.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use cpaudit_hj212::{DetectedVersion, ProtocolVersion};
use cpaudit_storage::monitoring::{
    BatchOutcome, IngestBatch, MonitoringWriter, QuarantineFate, StatusUpdate,
};
use tokio::sync::mpsc;

use crate::metrics::{Metrics, Outcome};
use crate::session::{ConnMsg, Job, Link, StatusDelta, Work};

/// How a device's status shows the version its packets announce, e.g. `2017 Flag=5`.
pub fn version_text(version: DetectedVersion) -> String {
    let edition = match version.version {
        ProtocolVersion::Hj212_2005 => "2005".to_string(),
        ProtocolVersion::Hj212_2017 => "2017".to_string(),
        ProtocolVersion::Hj212_2025 => "2025".to_string(),
        ProtocolVersion::Unassigned(bits) => format!("unassigned({bits})"),
    };
    match version.flag {
        Some(flag) => format!("{edition} Flag={flag}"),
        None => format!("{edition} no Flag"),
    }
}

/// What the writer must remember of a job once its work went into the batch.
struct Ticket {
    reply: Option<Vec<u8>>,
    link: Option<Arc<Link>>,
    received: Instant,
    kind: TicketKind,
}

enum TicketKind {
    Data,
    Status(Option<Outcome>),
    /// Index into the batch's quarantined packets; whether the packet held data.
    Quarantine(usize, bool),
}

fn add_status(
    statuses: &mut HashMap<i64, StatusUpdate>,
    delta: StatusDelta,
    seen_at: &str,
    peer: &str,
) {
    let entry = statuses
        .entry(delta.device_id)
        .or_insert_with(|| StatusUpdate {
            device_id: delta.device_id,
            ..StatusUpdate::default()
        });
    seen_at.clone_into(&mut entry.seen_at);
    entry.last_data_time = entry.last_data_time.max(delta.data_time);
    if let Some(version) = delta.version {
        entry.protocol_version = version_text(version);
    }
    if !peer.is_empty() {
        entry.peer = peer.to_string();
    }
    if delta.rejection.is_some() {
        entry.rejected += 1;
        entry.last_rejection = delta.rejection;
    } else {
        entry.packets += 1;
        entry.deviations += i64::from(delta.deviated);
    }
}

/// How often device status is written: a device's packets within this interval share one
/// upsert. Status is informational (last seen, counts), so a crash loses at most this much of it;
/// the data and its acknowledgement do not depend on it.
const STATUS_INTERVAL: Duration = Duration::from_secs(1);

/// Device status gathered since the last flush.
struct StatusBuffer {
    pending: HashMap<i64, StatusUpdate>,
    last_flush: Instant,
}

impl StatusBuffer {
    fn new() -> StatusBuffer {
        StatusBuffer {
            pending: HashMap::new(),
            last_flush: Instant::now()
                .checked_sub(STATUS_INTERVAL)
                .unwrap_or_else(Instant::now),
        }
    }

    fn due_at(&self) -> Option<Instant> {
        (!self.pending.is_empty()).then_some(self.last_flush + STATUS_INTERVAL)
    }

    fn due(&self, now: Instant) -> bool {
        self.due_at().is_some_and(|at| now >= at)
    }

    fn snapshot(&self) -> Vec<StatusUpdate> {
        self.pending.values().cloned().collect()
    }

    fn flushed(&mut self, now: Instant) {
        self.pending.clear();
        self.last_flush = now;
    }
}

/// Turns jobs into one batch and the tickets to settle after the commit; their status goes
/// into `statuses`.
fn build(jobs: Vec<Job>, statuses: &mut HashMap<i64, StatusUpdate>) -> (IngestBatch, Vec<Ticket>) {
    let seen_at = cpaudit_storage::timestamp(Utc::now());
    let mut batch = IngestBatch::default();
    let mut tickets = Vec::with_capacity(jobs.len());
    for job in jobs {
        let peer = job.link.as_ref().map_or("", |l| &l.peer).to_string();
        let kind = match job.work {
            Work::Data { row, status } => {
                add_status(statuses, status, &seen_at, &peer);
                batch.rows.push(row);
                TicketKind::Data
            }
            Work::Status { status, outcome } => {
                add_status(statuses, status, &seen_at, &peer);
                TicketKind::Status(outcome)
            }
            Work::Quarantine { packet } => {
                let has_data = packet.data.is_some();
                batch.quarantined.push(packet);
                TicketKind::Quarantine(batch.quarantined.len() - 1, has_data)
            }
        };
        tickets.push(Ticket {
            reply: job.reply,
            link: job.link,
            received: job.received,
            kind,
        });
    }
    (batch, tickets)
}

fn send(link: Option<&Arc<Link>>, msg: ConnMsg) {
    if let Some(link) = link {
        // The connection may be gone; its device will send the packet again.
        let _ = link.tx.send(msg);
    }
}

/// After a commit: counts and replies.
fn settle_committed(tickets: Vec<Ticket>, outcome: &BatchOutcome, metrics: &Metrics) {
    for (kind, n) in &outcome.stored {
        if let Some(o) = Outcome::data(*kind, false) {
            metrics.count_n(o, *n);
        }
    }
    for (kind, n) in &outcome.duplicates {
        if let Some(o) = Outcome::data(*kind, true) {
            metrics.count_n(o, *n);
        }
    }
    let done = Instant::now();
    for ticket in tickets {
        let answered = match ticket.kind {
            TicketKind::Data => true,
            TicketKind::Status(counted) => {
                if let Some(o) = counted {
                    metrics.count(o);
                }
                counted.is_some()
            }
            TicketKind::Quarantine(i, has_data) => {
                let fate = outcome
                    .quarantine
                    .get(i)
                    .copied()
                    .unwrap_or(QuarantineFate::DroppedFull);
                match fate {
                    QuarantineFate::Kept => metrics.count(Outcome::Quarantined),
                    QuarantineFate::DroppedFull => metrics.count(Outcome::DroppedQuarantineFull),
                    QuarantineFate::DroppedDiscarded => {
                        metrics.count(Outcome::DroppedDiscardedMn);
                    }
                    // Counted as stored or duplicate with the data rows.
                    QuarantineFate::Redirected if has_data => {}
                    QuarantineFate::Redirected => metrics.count(Outcome::NotStoredOtherCommand),
                }
                fate.is_stored()
            }
        };
        metrics.commit_lag(done.saturating_duration_since(ticket.received));
        if let Some(reply) = ticket.reply {
            let msg = if answered {
                ConnMsg::Reply(reply)
            } else {
                ConnMsg::Unanswered
            };
            send(ticket.link.as_ref(), msg);
        }
    }
}

/// After a failed commit: nothing was stored, nothing is acknowledged.
fn settle_failed(tickets: Vec<Ticket>, metrics: &Metrics) {
    for ticket in tickets {
        let counted = match ticket.kind {
            TicketKind::Data | TicketKind::Quarantine(..) => true,
            TicketKind::Status(outcome) => outcome.is_some(),
        };
        if counted {
            metrics.count(Outcome::DroppedStorageError);
        }
        if ticket.reply.is_some() {
            send(ticket.link.as_ref(), ConnMsg::Unanswered);
        }
    }
}

/// Runs until every sender of `jobs` is gone and the queue is empty.
pub async fn run(
    mut jobs: mpsc::Receiver<Job>,
    mut writer: MonitoringWriter,
    metrics: Arc<Metrics>,
    max_batch: usize,
    quarantine_cap: u32,
) {
    let mut backoff = Duration::from_millis(50);
    let mut statuses = StatusBuffer::new();
    loop {
        // Wait for packets; with status waiting to be written, not beyond its flush time.
        let first = match statuses.due_at() {
            None => match jobs.recv().await {
                Some(job) => Some(job),
                None => break,
            },
            Some(at) => {
                match tokio::time::timeout_at(tokio::time::Instant::from_std(at), jobs.recv()).await
                {
                    Ok(Some(job)) => Some(job),
                    Ok(None) => break,
                    Err(_) => None,
                }
            }
        };
        let mut taken: Vec<Job> = first.into_iter().collect();
        while !taken.is_empty() && taken.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => taken.push(job),
                Err(_) => break,
            }
        }
        metrics.set_writer_queue(jobs.len());
        let count = taken.len() as u64;
        let (mut batch, tickets) = build(taken, &mut statuses.pending);
        let now = Instant::now();
        let flush = statuses.due(now);
        if flush {
            batch.statuses = statuses.snapshot();
        }
        if batch.is_empty() && tickets.is_empty() {
            continue;
        }
        match writer.store(&batch, quarantine_cap).await {
            Ok(outcome) => {
                if flush {
                    statuses.flushed(now);
                }
                if count > 0 {
                    metrics.commit(count, true);
                }
                settle_committed(tickets, &outcome, &metrics);
                backoff = Duration::from_millis(50);
            }
            Err(error) => {
                metrics.commit(count, false);
                tracing::error!(%error, packets = count, "HJ 212 batch not stored; not acknowledged");
                settle_failed(tickets, &metrics);
                // The database may be down: do not spin; devices resend what was not
                // acknowledged.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
    if !statuses.pending.is_empty() {
        let batch = IngestBatch {
            statuses: statuses.snapshot(),
            ..IngestBatch::default()
        };
        if let Err(error) = writer.store(&batch, quarantine_cap).await {
            tracing::warn!(%error, "the last device status was not written");
        }
    }
    metrics.set_writer_queue(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_as_an_operator_expects() {
        let v = |version, flag| version_text(DetectedVersion { version, flag });
        assert_eq!(v(ProtocolVersion::Hj212_2017, Some(5)), "2017 Flag=5");
        assert_eq!(v(ProtocolVersion::Hj212_2005, None), "2005 no Flag");
        assert_eq!(
            v(ProtocolVersion::Unassigned(5), Some(21)),
            "unassigned(5) Flag=21"
        );
    }
}
