//! The append-only audit trail: each business write appends an entry in the same transaction,
//! chained by SHA-256 to the one before (see `cpaudit_core::audit`).

use chrono::{DateTime, Utc};
use cpaudit_core::audit::{entry_hash, AuditEntry, ChainVerdict, ChainVerifier, GENESIS_HASH};
use serde_json::Value;

use crate::{on_pool, on_tx, timestamp, Backend, Db, Principal, Result, Tx};

const ENTRY_COLUMNS: &str =
    "seq, at, actor, action, entity_type, entity_id, before, after, prev_hash, hash";

#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    entity_type: String,
    entity_id: String,
    before: Option<String>,
    after: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<EntryRow> for AuditEntry {
    fn from(row: EntryRow) -> Self {
        AuditEntry {
            seq: row.seq,
            at: row.at,
            actor: row.actor,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            before: row.before,
            after: row.after,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

/// The head of the chain inside one write transaction: opened once, then every append of that
/// transaction extends it without reading the table again (a 10,000-row import appends 10,000
/// entries).
pub(crate) struct Chain {
    next_seq: i64,
    prev_hash: String,
    /// Entries computed but not yet written: they are inserted in multi-row statements, so a
    /// 10,000-row import does not pay one statement per entry. [`Chain::commit`] writes the
    /// rest before the transaction commits.
    pending: Vec<AuditEntry>,
}

/// Entries per multi-row insert (10 parameters each, well within both databases' limits).
const ENTRIES_PER_INSERT: usize = 100;

impl Chain {
    /// Takes the chain's head for this transaction.
    pub(crate) async fn open(tx: &mut Tx) -> Result<Chain> {
        // Writers must take turns at the head of the chain. SQLite's BEGIN IMMEDIATE already
        // serializes writers; PostgreSQL needs a lock held until the transaction ends.
        if tx.backend() == Backend::Postgres {
            on_tx!(tx, |conn| {
                sqlx::query("SELECT pg_advisory_xact_lock(212212)")
                    .execute(conn)
                    .await
                    .map(|done| done.rows_affected())
            })?;
        }
        let head: Option<(i64, String)> = on_tx!(tx, |conn| {
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(conn)
                .await
        })?;
        Ok(match head {
            Some((seq, hash)) => Chain {
                next_seq: seq + 1,
                prev_hash: hash,
                pending: Vec::new(),
            },
            None => Chain {
                next_seq: 1,
                prev_hash: GENESIS_HASH.to_string(),
                pending: Vec::new(),
            },
        })
    }

    /// Appends one entry inside the transaction the chain was opened in.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn append(
        &mut self,
        tx: &mut Tx,
        actor: &Principal,
        action: &str,
        entity: (&str, &str),
        before: Option<&Value>,
        after: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (entity_type, entity_id) = entity;
        let at = timestamp(now);
        let actor = actor.actor();
        let before = before.map(Value::to_string);
        let after = after.map(Value::to_string);
        let seq = self.next_seq;
        let hash = entry_hash(
            seq,
            &at,
            &actor,
            action,
            entity_type,
            entity_id,
            before.as_deref(),
            after.as_deref(),
            &self.prev_hash,
        );
        self.pending.push(AuditEntry {
            seq,
            at,
            actor,
            action: action.to_string(),
            entity_type: entity_type.to_string(),
            entity_id: entity_id.to_string(),
            before,
            after,
            prev_hash: self.prev_hash.clone(),
            hash: hash.clone(),
        });
        if self.pending.len() >= ENTRIES_PER_INSERT {
            self.flush(tx).await?;
        }
        self.next_seq += 1;
        self.prev_hash = hash;
        Ok(())
    }

    /// Writes the pending entries with one multi-row insert.
    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows: Vec<String> = (0..self.pending.len())
            .map(|row| {
                let first = row * 10;
                let params: Vec<String> = (1..=10).map(|n| format!("${}", first + n)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let text = format!(
            "INSERT INTO audit_log (seq, at, actor, action, entity_type, entity_id, before, after, \
             prev_hash, hash) VALUES {}",
            rows.join(", ")
        );
        let entries = std::mem::take(&mut self.pending);
        on_tx!(tx, |conn| {
            let mut query = sqlx::query(&text);
            for entry in &entries {
                query = query
                    .bind(entry.seq)
                    .bind(&entry.at)
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(&entry.entity_type)
                    .bind(&entry.entity_id)
                    .bind(&entry.before)
                    .bind(&entry.after)
                    .bind(&entry.prev_hash)
                    .bind(&entry.hash);
            }
            query.execute(conn).await.map(|done| done.rows_affected())
        })?;
        Ok(())
    }

    /// Writes what is pending and commits: the only way a chained transaction ends well, so no
    /// entry can be left behind.
    pub(crate) async fn commit(mut self, mut tx: Tx) -> Result<()> {
        self.flush(&mut tx).await?;
        tx.commit().await
    }
}

impl Db {
    /// Reads the whole chain in order, in pages so memory stays flat, and checks it.
    pub async fn verify_audit_log(&self, expect_head: Option<&str>) -> Result<ChainVerdict> {
        const PAGE: i64 = 5_000;
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT {PAGE}"
        );
        let mut verifier = ChainVerifier::default();
        let mut after_seq = 0_i64;
        loop {
            let rows: Vec<EntryRow> = on_pool!(self, |pool| {
                sqlx::query_as(&sql).bind(after_seq).fetch_all(pool).await
            })?;
            let Some(last) = rows.last() else { break };
            after_seq = last.seq;
            for row in rows {
                let entry = AuditEntry::from(row);
                if let Err(reason) = verifier.check(&entry) {
                    return Ok(ChainVerdict::Broken {
                        seq: entry.seq,
                        reason,
                    });
                }
            }
        }
        Ok(verifier.finish(expect_head))
    }

    /// The history of one entity, oldest first. Reached only through scoped reads.
    pub(crate) async fn entity_history(
        &self,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE entity_type = $1 AND entity_id = $2 \
             ORDER BY seq"
        );
        let rows: Vec<EntryRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(entity_type)
                .bind(entity_id)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }
}
