//! Round documents as the API shows them.

use cpaudit_core::round::DocumentKind;
use cpaudit_storage::documents::DocumentRow;
use serde::Serialize;
use utoipa::ToSchema;

/// One version of one document of a round (without its content).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    pub id: i64,
    pub round_id: i64,
    /// audit_report | technical_evidence | monitoring_before | monitoring_after |
    /// acceptance_report | rectification | review_opinion | work_plan | other
    #[schema(value_type = String)]
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

impl From<DocumentRow> for Document {
    fn from(row: DocumentRow) -> Self {
        Document {
            id: row.id,
            round_id: row.round_id,
            kind: row.kind,
            version: row.version,
            file_name: row.file_name,
            content_type: row.content_type,
            size: row.size,
            sha256: row.sha256,
            note: row.note,
            uploaded_by: row.uploaded_by,
            uploaded_at: row.uploaded_at,
            prepared_by_consultancy: row.prepared_by_consultancy,
            consultancy_name: row.consultancy_name,
        }
    }
}
