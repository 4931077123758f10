//! Consultancies (咨询服务机构): their 办法 Art. 16 evidence, sanctions decided by the province
//! and engagements with enterprises. Sanctions and the blacklist are public information; the
//! refusal of new business while a sanction is in force is decided in core and enforced here,
//! in the one transaction that would record the engagement.

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::consultancy::SanctionKind;
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::enterprises::EnterpriseRow;
use crate::evidence::date_text;
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, StorageError};

/// A sanction, its kind and dates decoded.
#[derive(Debug, Clone, Serialize)]
pub struct SanctionRow {
    pub id: i64,
    pub consultancy_id: i64,
    pub consultancy_name: String,
    pub consultancy_credit_code: String,
    pub kind: SanctionKind,
    pub reason: String,
    pub legal_basis: String,
    pub starts_on: NaiveDate,
    /// The last day, when fixed; none for a sanction that lasts until corrected.
    pub ends_on: Option<NaiveDate>,
    pub until_corrected: bool,
    pub lifted_on: Option<NaiveDate>,
    pub lifted_reason: Option<String>,
    pub decided_by: String,
    pub decided_at: String,
}

/// The columns of [`SANCTION_SELECT`] as they come from the database.
#[derive(sqlx::FromRow)]
struct StoredSanction {
    id: i64,
    consultancy_id: i64,
    consultancy_name: String,
    consultancy_credit_code: String,
    kind: String,
    reason: String,
    legal_basis: String,
    starts_on: String,
    ends_on: Option<String>,
    until_corrected: bool,
    lifted_on: Option<String>,
    lifted_reason: Option<String>,
    decided_by: String,
    decided_at: String,
}

impl StoredSanction {
    fn decode(self) -> Result<SanctionRow> {
        let row = StoredRow::new("sanctions", self.id);
        Ok(SanctionRow {
            kind: row.read("kind", &self.kind)?,
            starts_on: row.read("starts_on", &self.starts_on)?,
            ends_on: row.read_optional("ends_on", self.ends_on.as_deref())?,
            lifted_on: row.read_optional("lifted_on", self.lifted_on.as_deref())?,
            id: self.id,
            consultancy_id: self.consultancy_id,
            consultancy_name: self.consultancy_name,
            consultancy_credit_code: self.consultancy_credit_code,
            reason: self.reason,
            legal_basis: self.legal_basis,
            until_corrected: self.until_corrected,
            lifted_reason: self.lifted_reason,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
        })
    }
}

crate::decoded_row!(SanctionRow, StoredSanction);

/// A sanction to impose.
#[derive(Debug, Clone)]
pub struct NewSanction {
    pub consultancy_id: i64,
    pub kind: String,
    pub reason: String,
    pub legal_basis: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// The Art. 16 evidence on file for a consultancy.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Art16Filing {
    pub consultancy_id: i64,
    /// The evidence as filed.
    #[sqlx(rename = "evidence_json", try_from = "String")]
    pub evidence: crate::JsonColumn<cpaudit_core::consultancy::Art16Evidence>,
    pub filed_at: String,
    pub filed_by: String,
}

/// An engagement of a consultancy by an enterprise.
#[derive(Debug, Clone, Serialize)]
pub struct EngagementRow {
    pub consultancy_id: i64,
    pub consultancy_name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub since: String,
    pub ended_on: Option<NaiveDate>,
}

/// The columns of [`ENGAGEMENT_SELECT`] as they come from the database.
#[derive(sqlx::FromRow)]
struct StoredEngagement {
    consultancy_id: i64,
    consultancy_name: String,
    enterprise_id: i64,
    enterprise_name: String,
    jurisdiction_code: String,
    since: String,
    ended_on: Option<String>,
}

impl StoredEngagement {
    fn decode(self) -> Result<EngagementRow> {
        // Engagements have no id of their own: one consultancy's list names them by enterprise.
        let row = StoredRow::new("engagements", self.enterprise_id);
        Ok(EngagementRow {
            ended_on: row.read_optional("ended_on", self.ended_on.as_deref())?,
            consultancy_id: self.consultancy_id,
            consultancy_name: self.consultancy_name,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            jurisdiction_code: self.jurisdiction_code,
            since: self.since,
        })
    }
}

crate::decoded_row!(EngagementRow, StoredEngagement);

const SANCTION_SELECT: &str = "SELECT s.id, s.consultancy_id, c.name AS consultancy_name, \
     c.credit_code AS consultancy_credit_code, s.kind, s.reason, s.legal_basis, s.starts_on, \
     s.ends_on, s.until_corrected, s.lifted_on, s.lifted_reason, s.decided_by, s.decided_at \
     FROM sanctions s JOIN consultancies c ON c.id = s.consultancy_id";

const ENGAGEMENT_SELECT: &str = "SELECT g.consultancy_id, c.name AS consultancy_name, \
     g.enterprise_id, e.name AS enterprise_name, e.jurisdiction_code, g.since, g.ended_on \
     FROM engagements g JOIN consultancies c ON c.id = g.consultancy_id \
     JOIN enterprises e ON e.id = g.enterprise_id";

fn require_province(actor: &Principal) -> Result<()> {
    match actor.scope().kind() {
        ScopeKind::Province => Ok(()),
        _ => Err(StorageError::refused(
            "province_decides_sanctions",
            "只有省级主管部门可以决定对咨询服务机构的处理",
            "only the province decides on sanctions",
        )),
    }
}

impl Db {
    /// Every sanction, newest first (public information), optionally of one consultancy.
    pub async fn sanctions(&self, consultancy_id: Option<i64>) -> Result<Vec<SanctionRow>> {
        let text = format!(
            "{SANCTION_SELECT} WHERE ($1 IS NULL OR s.consultancy_id = $1) \
             ORDER BY s.starts_on DESC, s.id DESC"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(consultancy_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// One sanction (public information).
    pub async fn sanction(&self, id: i64) -> Result<Option<SanctionRow>> {
        let text = format!("{SANCTION_SELECT} WHERE s.id = $1");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Records a sanction decided by the province.
    pub async fn impose_sanction(
        &self,
        actor: &Principal,
        sanction: &NewSanction,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        require_province(actor)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let id: i64 = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO sanctions (consultancy_id, kind, reason, legal_basis, starts_on, \
                 ends_on, until_corrected, decided_by, decided_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(sanction.consultancy_id)
            .bind(&sanction.kind)
            .bind(sanction.reason.trim())
            .bind(sanction.legal_basis.trim())
            .bind(date_text(sanction.starts_on))
            .bind(sanction.ends_on.map(date_text))
            .bind(sanction.ends_on.is_none())
            .bind(actor.actor())
            .bind(timestamp(now))
            .fetch_one(conn)
            .await
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "sanction.impose",
                ("consultancy", &sanction.consultancy_id.to_string()),
                None,
                Some(
                    &json!({"sanction": id, "kind": sanction.kind, "reason": sanction.reason,
                    "legal_basis": sanction.legal_basis, "starts_on": date_text(sanction.starts_on),
                    "ends_on": sanction.ends_on.map(date_text)}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Lifts a sanction (province; the caller has checked the fresh Art. 16 evidence).
    pub async fn lift_sanction(
        &self,
        actor: &Principal,
        id: i64,
        lifted_on: NaiveDate,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require_province(actor)?;
        let current = self.sanction(id).await?.ok_or(StorageError::NotFound)?;
        if let Some(earlier) = &current.lifted_on {
            return Err(StorageError::conflict(
                "sanction_already_lifted",
                format!("该处理已于 {earlier} 解除，不能重复解除"),
                format!("the sanction is already lifted (on {earlier})"),
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE sanctions SET lifted_on = $1, lifted_reason = $2, lifted_by = $3 \
                 WHERE id = $4 AND lifted_on IS NULL",
            )
            .bind(date_text(lifted_on))
            .bind(reason.trim())
            .bind(actor.actor())
            .bind(id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "sanction.lift",
                ("consultancy", &current.consultancy_id.to_string()),
                Some(&json!({"sanction": id, "lifted_on": null})),
                Some(&json!({"sanction": id, "lifted_on": date_text(lifted_on), "reason": reason.trim()})),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// The Art. 16 evidence on file, if any (officials and the consultancy itself).
    pub async fn art16_filing(&self, consultancy_id: i64) -> Result<Option<Art16Filing>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT consultancy_id, evidence_json, filed_at, filed_by \
                 FROM consultancy_evidence WHERE consultancy_id = $1",
            )
            .bind(consultancy_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Files Art. 16 evidence: the consultancy for itself, or the province.
    pub async fn file_art16(
        &self,
        actor: &Principal,
        consultancy_id: i64,
        evidence_json: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let allowed = match actor.scope().kind() {
            ScopeKind::Province => true,
            ScopeKind::Consultancy(id) => *id == consultancy_id,
            _ => false,
        };
        if !allowed {
            return Err(StorageError::refused(
                "art16_filer_only",
                "第十六条材料只能由该咨询服务机构本身或省级主管部门报送",
                "Art. 16 evidence is filed by the consultancy or the province",
            ));
        }
        let before = self.art16_filing(consultancy_id).await?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO consultancy_evidence (consultancy_id, evidence_json, filed_at, filed_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (consultancy_id) DO UPDATE SET \
                 evidence_json = excluded.evidence_json, filed_at = excluded.filed_at, \
                 filed_by = excluded.filed_by",
            )
            .bind(consultancy_id)
            .bind(evidence_json)
            .bind(timestamp(now))
            .bind(actor.actor())
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
        chain
            .append(
                &mut tx,
                actor,
                "consultancy.art16",
                ("consultancy", &consultancy_id.to_string()),
                before
                    .as_ref()
                    .and_then(|b| serde_json::to_value(&b.evidence).ok())
                    .as_ref(),
                parse(evidence_json).as_ref(),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// Engagements of a consultancy (officials; the consultancy itself).
    pub async fn engagements_of_consultancy(
        &self,
        actor: &Principal,
        consultancy_id: i64,
    ) -> Result<Vec<EngagementRow>> {
        let (condition, city) = match actor.scope().kind() {
            ScopeKind::Province => ("1 = 1", None),
            ScopeKind::City(code) => ("e.jurisdiction_code = $2", Some(code.clone())),
            ScopeKind::Consultancy(id) if *id == consultancy_id => ("1 = 1", None),
            _ => return Err(StorageError::NotFound),
        };
        let text = format!(
            "{ENGAGEMENT_SELECT} WHERE g.consultancy_id = $1 AND {condition} \
             ORDER BY g.since DESC, e.name"
        );
        Ok(on_pool!(self, |pool| {
            let mut query = sqlx::query_as(&text).bind(consultancy_id);
            if let Some(city) = &city {
                query = query.bind(city.clone());
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Records that an enterprise engages a consultancy, unless `refusal` (decided by the
    /// caller from the sanctions in force) says the authorities accept no business from it.
    /// The enterprise itself or an official of its city (or the province) records it.
    pub async fn engage(
        &self,
        actor: &Principal,
        consultancy_id: i64,
        enterprise: &InScope<EnterpriseRow>,
        since: NaiveDate,
        refusal: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let enterprise_id = enterprise.id;
        let enterprise = self
            .get_enterprise(actor.scope(), enterprise_id)
            .await?
            .ok_or(StorageError::NotFound)?;
        let may = match actor.scope().kind() {
            ScopeKind::Enterprise(id) => *id == enterprise_id,
            _ => actor.scope().may_manage_city(&enterprise.jurisdiction_code),
        };
        if !may {
            return Err(StorageError::refused(
                "engagement_recorder_only",
                "委托关系只能由企业本身或其所在市州主管部门登记",
                "engagements are recorded by the enterprise or its city",
            ));
        }
        if let Some(refusal) = refusal {
            // The caller worded the refusal already, in its user's language.
            return Err(StorageError::refused(
                "consultancy_sanctioned",
                refusal,
                refusal,
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let inserted = on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO engagements (consultancy_id, enterprise_id, since) VALUES ($1, $2, $3) \
                 ON CONFLICT (consultancy_id, enterprise_id) DO UPDATE SET since = excluded.since, \
                 ended_on = NULL WHERE engagements.ended_on IS NOT NULL",
            )
            .bind(consultancy_id)
            .bind(enterprise_id)
            .bind(date_text(since))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        if inserted == 0 {
            return Err(StorageError::Duplicate {
                field: "consultancy_id",
                value: consultancy_id.to_string(),
            });
        }
        chain
            .append(
                &mut tx,
                actor,
                "engagement.start",
                ("enterprise", &enterprise_id.to_string()),
                None,
                Some(&json!({"consultancy_id": consultancy_id, "since": date_text(since)})),
                now,
            )
            .await?;
        chain.commit(tx).await
    }
}

/// One of a consultancy's Art. 16 documents.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConsultancyDocumentRow {
    pub id: i64,
    pub consultancy_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content: what the Art. 16 filing names the document by.
    pub sha256: String,
    pub note: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// A document to file for a consultancy.
#[derive(Debug, Clone, Copy)]
pub struct NewConsultancyDocument<'a> {
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
    pub note: &'a str,
}

const CONSULTANCY_DOCUMENT_SELECT: &str = "SELECT id, consultancy_id, file_name, content_type, \
    size, sha256, note, uploaded_by, uploaded_at FROM consultancy_documents";

/// The consultancy itself or the province keeps its documents.
fn may_keep_documents(actor: &Principal, consultancy_id: i64) -> bool {
    match actor.scope().kind() {
        ScopeKind::Province => true,
        ScopeKind::Consultancy(own) => *own == consultancy_id,
        _ => false,
    }
}

impl Db {
    /// Stores one of a consultancy's Art. 16 documents (the caller checked its type by content).
    /// The same content twice is a duplicate.
    pub async fn upload_consultancy_document(
        &self,
        actor: &Principal,
        consultancy_id: i64,
        file: &NewConsultancyDocument<'_>,
        now: DateTime<Utc>,
    ) -> Result<ConsultancyDocumentRow> {
        let NewConsultancyDocument {
            file_name,
            content_type,
            content,
            note,
        } = *file;
        if !may_keep_documents(actor, consultancy_id) {
            return Err(StorageError::refused(
                "consultancy_document_filer_only",
                "咨询服务机构的材料只能由该机构本身或省级主管部门上传",
                "a consultancy's documents are filed by the consultancy or the province",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let sha256 = crate::documents::store_blob(&mut tx, content, now).await?;
        let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
        let inserted: Option<i64> = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO consultancy_documents (consultancy_id, file_name, content_type, size, \
                 sha256, note, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (consultancy_id, sha256) DO NOTHING RETURNING id",
            )
            .bind(consultancy_id)
            .bind(file_name)
            .bind(content_type)
            .bind(size)
            .bind(&sha256)
            .bind(note.trim())
            .bind(actor.actor())
            .bind(timestamp(now))
            .fetch_optional(conn)
            .await
        })?;
        let Some(id) = inserted else {
            return Err(StorageError::Duplicate {
                field: "file",
                value: file_name.to_string(),
            });
        };
        chain
            .append(
                &mut tx,
                actor,
                "consultancy.document",
                ("consultancy", &consultancy_id.to_string()),
                None,
                Some(&json!({"document_id": id, "file_name": file_name, "sha256": sha256})),
                now,
            )
            .await?;
        let text = format!("{CONSULTANCY_DOCUMENT_SELECT} WHERE id = $1");
        let row = on_tx!(&mut tx, |conn| {
            sqlx::query_as(&text).bind(id).fetch_one(conn).await
        })?;
        chain.commit(tx).await?;
        Ok(row)
    }

    /// A consultancy's documents, newest first (officials and the consultancy read them).
    pub async fn consultancy_documents(
        &self,
        consultancy_id: i64,
    ) -> Result<Vec<ConsultancyDocumentRow>> {
        let text =
            format!("{CONSULTANCY_DOCUMENT_SELECT} WHERE consultancy_id = $1 ORDER BY id DESC");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(consultancy_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// One document with its content.
    pub async fn consultancy_document_content(
        &self,
        id: i64,
    ) -> Result<Option<(ConsultancyDocumentRow, Vec<u8>)>> {
        let text = format!("{CONSULTANCY_DOCUMENT_SELECT} WHERE id = $1");
        let row: Option<ConsultancyDocumentRow> = on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(id).fetch_optional(pool).await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        let content: Vec<u8> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT content FROM blobs WHERE sha256 = $1")
                .bind(&row.sha256)
                .fetch_one(pool)
                .await?
        });
        Ok(Some((row, content)))
    }
}
