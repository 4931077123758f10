//! The documents of an audit round, stored by content: each file once in `blobs` under its
//! SHA-256, each upload the next numbered version of its kind in `documents`, so a new version
//! never overwrites an old one. An upload is one transaction with its timeline event and its
//! audit entry.
//!
//! Who may file which kind is decided in `cpaudit_core::documents` from the caller's part in
//! the round ([`crate::rounds::round_actors`]). Whether the work of a sanctioned consultancy is refused is
//! decided by the caller from the sanctions in force (as for engagements) and enforced here,
//! inside the transaction that would record the filing. Reads are scoped through the round.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cpaudit_core::documents::may_upload;
use cpaudit_core::registry::Message;
use cpaudit_core::round::{AuditMode, DocumentKind, RoundState};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::rounds::{
    append_round_event, audit_round_step, require_open, round_scope_condition, RoundEventInsert,
    RoundRow, ROUND_SELECT,
};
use crate::sql::{bind_args, Arg, Sql};
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, Scope, StorageError, Tx};

/// One version of one document of a round, as stored (without its content).
#[derive(Debug, Clone, Serialize)]
pub struct DocumentRow {
    pub id: i64,
    pub round_id: i64,
    pub kind: DocumentKind,
    /// 1 for the first upload of the kind in the round, then 2, 3, …
    pub version: i64,
    pub file_name: String,
    /// The MIME type of the format the content was identified as.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
    pub note: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    /// The consultancy whose user uploaded it, when one did.
    pub prepared_by_consultancy: Option<i64>,
    pub consultancy_name: Option<String>,
}

/// The columns of [`DOCUMENT_SELECT`] as stored.
#[derive(sqlx::FromRow)]
struct StoredDocument {
    id: i64,
    round_id: i64,
    kind: String,
    version: i64,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    note: String,
    uploaded_by: String,
    uploaded_at: String,
    prepared_by_consultancy: Option<i64>,
    consultancy_name: Option<String>,
}

impl StoredDocument {
    fn decode(self) -> Result<DocumentRow> {
        Ok(DocumentRow {
            id: self.id,
            round_id: self.round_id,
            kind: StoredRow::new("documents", self.id).read("kind", &self.kind)?,
            version: self.version,
            file_name: self.file_name,
            content_type: self.content_type,
            size: self.size,
            sha256: self.sha256,
            note: self.note,
            uploaded_by: self.uploaded_by,
            uploaded_at: self.uploaded_at,
            prepared_by_consultancy: self.prepared_by_consultancy,
            consultancy_name: self.consultancy_name,
        })
    }
}

crate::decoded_row!(DocumentRow, StoredDocument);

/// A file to keep as the next version of its kind. The caller has identified the content's
/// format (`content_type`) and cleaned the file name.
#[derive(Debug, Clone, Copy)]
pub struct NewDocument<'a> {
    pub kind: DocumentKind,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
    pub note: &'a str,
}

/// Why an upload was not kept.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The round is closed or cancelled.
    #[error("the round is {0} and takes no more documents")]
    Finished(RoundState),
    /// The caller has no part in the round that files this kind.
    #[error("{}", .0.en)]
    NotAllowed(Message),
    /// The filing is the work of a consultancy under a sanction that refuses its business.
    #[error("{0}")]
    Sanctioned(String),
    /// The same content is already on file for the round, as this document.
    #[error("the same file is already on file as {} version {}", .0.kind.as_str(), .0.version)]
    Duplicate(Box<DocumentRow>),
}

const DOCUMENT_SELECT: &str = "SELECT d.id, d.round_id, d.kind, d.version, d.file_name, \
    d.content_type, d.size, d.sha256, d.note, d.uploaded_by, d.uploaded_at, \
    d.prepared_by_consultancy, c.name AS consultancy_name \
    FROM documents d LEFT JOIN consultancies c ON c.id = d.prepared_by_consultancy";

/// The SHA-256 of a content, as stored and shown: 64 lowercase hex digits.
pub fn sha256_hex(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

/// The consultancy the round's start filing engaged, unless the enterprise audits itself.
pub fn engaged_consultancy(round: &RoundRow) -> Option<i64> {
    round
        .consultancy_id
        .filter(|_| round.audit_mode != Some(AuditMode::SelfAudit))
}

impl Db {
    /// Every version of every document of a round, by kind and version. The caller has read
    /// the round within its scope.
    pub async fn round_documents(&self, round: &InScope<RoundRow>) -> Result<Vec<DocumentRow>> {
        let text = format!("{DOCUMENT_SELECT} WHERE d.round_id = $1 ORDER BY d.kind, d.version");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(round.id).fetch_all(pool).await?
        }))
    }

    /// One document, if the scope covers its round.
    pub async fn get_document(&self, scope: &Scope, id: i64) -> Result<Option<DocumentRow>> {
        let mut sql = Sql::default();
        let condition = round_scope_condition(&mut sql, scope);
        let id = sql.arg(Arg::Int(id));
        let text = format!(
            "{DOCUMENT_SELECT} JOIN rounds r ON r.id = d.round_id WHERE {condition} AND d.id = {id}"
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// A document with its content, if the scope covers its round. Content that no longer
    /// matches its hash is an error, never served.
    pub async fn document_content(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<(DocumentRow, Vec<u8>)>> {
        let Some(document) = self.get_document(scope, id).await? else {
            return Ok(None);
        };
        let content: Vec<u8> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT content FROM blobs WHERE sha256 = $1")
                .bind(&document.sha256)
                .fetch_one(pool)
                .await?
        });
        if sha256_hex(&content) != document.sha256 {
            tracing::error!(document = id, "stored content does not match its SHA-256");
            return Err(StorageError::Database(sqlx::Error::Decode(
                format!("the content of document {id} does not match its SHA-256").into(),
            )));
        }
        Ok(Some((document, content)))
    }

    /// The kinds of which a round has at least one version on file (for the round's guards).
    pub async fn documents_on_file(
        &self,
        round: &InScope<RoundRow>,
    ) -> Result<BTreeSet<DocumentKind>> {
        let kinds: Vec<String> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT DISTINCT kind FROM documents WHERE round_id = $1")
                .bind(round.id)
                .fetch_all(pool)
                .await?
        });
        Ok(kinds
            .iter()
            .filter_map(|kind| DocumentKind::parse(kind))
            .collect())
    }

    /// When the latest version of a kind was uploaded (RFC 3339, UTC, as stored), if any: the
    /// guard "rectification uploaded after the decision" compares it with the decision.
    pub async fn latest_upload_at(
        &self,
        round: &InScope<RoundRow>,
        kind: DocumentKind,
    ) -> Result<Option<String>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT MAX(uploaded_at) FROM documents WHERE round_id = $1 AND kind = $2",
            )
            .bind(round.id)
            .bind(kind.as_str())
            .fetch_one(pool)
            .await?
        }))
    }

    /// Keeps an uploaded file as the next version of its kind, with the timeline event
    /// "document_uploaded" and the audit entry, in one transaction. Refused when the round is
    /// finished, when the caller's part in the round does not file this kind, when `refusal`
    /// (decided by the caller from the sanctions on the consultancy behind the filing) says
    /// the authorities accept no business from that consultancy, and when the same content is
    /// already on file for the round.
    pub async fn upload_document(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        document: &NewDocument<'_>,
        refusal: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DocumentRow, UploadError> {
        let round_id = round.id;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        // Read again inside the transaction: the state may have moved since the caller's read.
        let round = scoped_round(&mut tx, actor.scope(), round_id)
            .await?
            .ok_or(StorageError::NotFound)?;
        require_open(&round).map_err(|_| UploadError::Finished(round.state))?;
        may_upload(&crate::rounds::round_actors(actor, &round), document.kind)
            .map_err(UploadError::NotAllowed)?;
        if let Some(refusal) = refusal {
            return Err(UploadError::Sanctioned(refusal.to_string()));
        }
        let sha256 = sha256_hex(document.content);
        if let Some(existing) = same_content(&mut tx, round_id, &sha256).await? {
            return Err(UploadError::Duplicate(Box::new(existing)));
        }
        let prepared_by = match actor.scope().kind() {
            ScopeKind::Consultancy(id) => Some(*id),
            _ => None,
        };
        let stored = insert_document(&mut tx, round_id, document, actor, prepared_by, now).await?;
        let after = stored.audit_json(document);
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round_id,
            "document.upload",
            &after,
            now,
        )
        .await?;
        append_round_event(
            &mut tx,
            round_id,
            RoundEventInsert {
                action: "document_uploaded",
                from_state: None,
                to_state: None,
                actor,
                reason: document.note,
                detail: after,
                attachments: &[stored.id],
            },
            now,
        )
        .await?;
        let row = document_in_tx(&mut tx, stored.id).await?;
        chain.commit(tx).await?;
        Ok(row)
    }
}

/// Keeps a file the system wrote (a review opinion .docx, say) as the next version of its kind,
/// inside the caller's transaction, with an audit entry. No timeline event: the caller's own
/// step lists the returned document id among its attachments. The same content may already be
/// on file (a decision written twice reads the same); the blob is then shared.
pub(crate) async fn store_generated_document(
    tx: &mut Tx,
    chain: &mut Chain,
    actor: &Principal,
    round_id: i64,
    document: &NewDocument<'_>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let stored = insert_document(tx, round_id, document, actor, None, now).await?;
    let after = stored.audit_json(document);
    audit_round_step(tx, chain, actor, round_id, "document.generate", &after, now).await?;
    Ok(stored.id)
}

impl Db {
    /// Files a document the system wrote (the technical review opinion of a decided review) as
    /// the next version of its kind, with the timeline step and the audit entry.
    pub async fn file_generated_document(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        document: &NewDocument<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let id =
            store_generated_document(&mut tx, &mut chain, actor, round.id, document, now).await?;
        chain.commit(tx).await?;
        Ok(id)
    }
}

/// What [`insert_document`] wrote.
struct Stored {
    id: i64,
    version: i64,
    sha256: String,
}

impl Stored {
    /// The record of the document in the audit log and on the timeline.
    fn audit_json(&self, document: &NewDocument<'_>) -> serde_json::Value {
        json!({"document_id": self.id, "kind": document.kind.as_str(), "version": self.version,
            "file_name": document.file_name, "size": document.content.len(),
            "sha256": self.sha256})
    }
}

/// Stores a content once under its SHA-256 (a second upload of it shares the copy); returns
/// the hash.
pub(crate) async fn store_blob(tx: &mut Tx, content: &[u8], now: DateTime<Utc>) -> Result<String> {
    let sha256 = sha256_hex(content);
    let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO blobs (sha256, size, content, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(size)
        .bind(content)
        .bind(timestamp(now))
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(sha256)
}

/// Writes the content (once per hash) and the document row as the next version of its kind.
/// The caller holds the audit chain, which serializes writers, so the version cannot race.
async fn insert_document(
    tx: &mut Tx,
    round_id: i64,
    document: &NewDocument<'_>,
    actor: &Principal,
    prepared_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Stored> {
    let sha256 = store_blob(tx, document.content, now).await?;
    let size = i64::try_from(document.content.len()).unwrap_or(i64::MAX);
    let at = timestamp(now);
    let version: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM documents WHERE round_id = $1 AND kind = $2",
        )
        .bind(round_id)
        .bind(document.kind.as_str())
        .fetch_one(conn)
        .await
    })?;
    let id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO documents (round_id, kind, version, file_name, content_type, size, \
             sha256, note, uploaded_by, uploaded_at, prepared_by_consultancy) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(round_id)
        .bind(document.kind.as_str())
        .bind(version)
        .bind(document.file_name)
        .bind(document.content_type)
        .bind(size)
        .bind(&sha256)
        .bind(document.note.trim())
        .bind(actor.actor())
        .bind(&at)
        .bind(prepared_by)
        .fetch_one(conn)
        .await
    })?;
    Ok(Stored {
        id,
        version,
        sha256,
    })
}

/// The round, if the scope covers it, read inside the transaction.
async fn scoped_round(tx: &mut Tx, scope: &Scope, round_id: i64) -> Result<Option<RoundRow>> {
    let mut sql = Sql::default();
    let condition = round_scope_condition(&mut sql, scope);
    let id = sql.arg(Arg::Int(round_id));
    let text = format!("{ROUND_SELECT} WHERE {condition} AND r.id = {id}");
    Ok(on_tx!(tx, |conn| {
        bind_args!(sqlx::query_as(&text), &sql.args)
            .fetch_optional(conn)
            .await?
    }))
}

/// The first document of the round with this content, if any.
async fn same_content(tx: &mut Tx, round_id: i64, sha256: &str) -> Result<Option<DocumentRow>> {
    let text =
        format!("{DOCUMENT_SELECT} WHERE d.round_id = $1 AND d.sha256 = $2 ORDER BY d.id LIMIT 1");
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(&text)
            .bind(round_id)
            .bind(sha256)
            .fetch_optional(conn)
            .await?
    }))
}

async fn document_in_tx(tx: &mut Tx, id: i64) -> Result<DocumentRow> {
    let text = format!("{DOCUMENT_SELECT} WHERE d.id = $1");
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(&text).bind(id).fetch_one(conn).await?
    }))
}
