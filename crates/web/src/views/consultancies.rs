//! Consultancies' sanctions, engagements and documents as the API shows them.

use chrono::NaiveDate;
use cpaudit_core::consultancy::SanctionKind;
use cpaudit_storage::consultancies::{ConsultancyDocumentRow, EngagementRow, SanctionRow};
use serde::Serialize;
use utoipa::ToSchema;

/// A sanction as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sanction {
    pub id: i64,
    pub consultancy_id: i64,
    pub consultancy_name: String,
    pub consultancy_credit_code: String,
    /// correction_order | blacklist
    #[schema(value_type = String)]
    pub kind: SanctionKind,
    pub reason: String,
    pub legal_basis: String,
    #[schema(value_type = String)]
    pub starts_on: NaiveDate,
    /// The last day, when fixed; none for a sanction that lasts until corrected.
    #[schema(value_type = Option<String>)]
    pub ends_on: Option<NaiveDate>,
    pub until_corrected: bool,
    #[schema(value_type = Option<String>)]
    pub lifted_on: Option<NaiveDate>,
    pub lifted_reason: Option<String>,
    pub decided_by: String,
    pub decided_at: String,
}

impl From<SanctionRow> for Sanction {
    fn from(row: SanctionRow) -> Self {
        Sanction {
            id: row.id,
            consultancy_id: row.consultancy_id,
            consultancy_name: row.consultancy_name,
            consultancy_credit_code: row.consultancy_credit_code,
            kind: row.kind,
            reason: row.reason,
            legal_basis: row.legal_basis,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            until_corrected: row.until_corrected,
            lifted_on: row.lifted_on,
            lifted_reason: row.lifted_reason,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
        }
    }
}

/// An engagement of a consultancy by an enterprise.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Engagement {
    pub consultancy_id: i64,
    pub consultancy_name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub jurisdiction_code: String,
    pub since: String,
    #[schema(value_type = Option<String>)]
    pub ended_on: Option<NaiveDate>,
}

impl From<EngagementRow> for Engagement {
    fn from(row: EngagementRow) -> Self {
        Engagement {
            consultancy_id: row.consultancy_id,
            consultancy_name: row.consultancy_name,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            jurisdiction_code: row.jurisdiction_code,
            since: row.since,
            ended_on: row.ended_on,
        }
    }
}

/// One of a consultancy's Art. 16 documents.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsultancyDocument {
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

impl From<ConsultancyDocumentRow> for ConsultancyDocument {
    fn from(row: ConsultancyDocumentRow) -> Self {
        ConsultancyDocument {
            id: row.id,
            consultancy_id: row.consultancy_id,
            file_name: row.file_name,
            content_type: row.content_type,
            size: row.size,
            sha256: row.sha256,
            note: row.note,
            uploaded_by: row.uploaded_by,
            uploaded_at: row.uploaded_at,
        }
    }
}
