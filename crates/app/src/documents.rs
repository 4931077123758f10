//! A round's documents: an upload is kept as the next version of its kind, refused when the
//! round is finished, when the uploader's part in the round does not file the kind, while the
//! consultancy behind it is refused business, and when the same content is on file already.

use chrono::{DateTime, FixedOffset};
use cpaudit_core::documents::consultancy_behind;
use cpaudit_core::registry::Message;
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::documents::{engaged_consultancy, DocumentRow, NewDocument, UploadError};
use cpaudit_storage::Principal;

use crate::rounds::load_round;
use crate::{App, Error, Result};

/// Keeps an upload whose type the caller has checked by its content; answers the stored
/// version.
pub async fn upload(
    app: &App,
    principal: &Principal,
    round_id: i64,
    document: &NewDocument<'_>,
) -> Result<DocumentRow> {
    let round = load_round(app, principal, round_id).await?;
    let uploader_consultancy = match principal.scope().kind() {
        ScopeKind::Consultancy(id) => Some(*id),
        _ => None,
    };
    let behind = consultancy_behind(
        uploader_consultancy,
        engaged_consultancy(&round),
        document.kind,
    );
    let refusal = match behind {
        Some(consultancy_id) => crate::consultancies::refusal_of(app, consultancy_id).await?,
        None => None,
    };
    let refusal_text = refusal.as_ref().map(|message| message.zh.clone());
    app.db()
        .upload_document(
            principal,
            &round,
            document,
            refusal_text.as_deref(),
            app.now(),
        )
        .await
        .map_err(|error| upload_error(error, refusal))
}

fn upload_error(error: UploadError, refusal: Option<Message>) -> Error {
    match error {
        UploadError::Storage(error) => error.into(),
        UploadError::Finished(state) => Error::conflict(
            "round_finished",
            None,
            Message::new(
                format!("本轮审核{}，不再接收材料。", state.label_zh()),
                format!(
                    "The round is {}; it takes no more documents.",
                    state.label_en().to_lowercase()
                ),
            ),
        ),
        UploadError::NotAllowed(message) => Error::ForbiddenField {
            code: "not_allowed_to_file",
            message,
            field: Some("kind".into()),
        },
        UploadError::Sanctioned(text) => Error::ForbiddenField {
            code: "consultancy_sanctioned",
            message: refusal.unwrap_or_else(|| Message::new(text.clone(), text)),
            field: None,
        },
        UploadError::Duplicate(existing) => duplicate_error(&existing),
    }
}

fn duplicate_error(existing: &DocumentRow) -> Error {
    let kind = existing.kind;
    let day = beijing_day(&existing.uploaded_at);
    Error::conflict(
        "duplicate_document",
        Some("file"),
        Message::new(
            format!(
                "同一文件已于 {day} 作为《{}》第 {} 版上传（{}），不能重复上传。",
                kind.label_zh(),
                existing.version,
                existing.file_name
            ),
            format!(
                "The same file is already on file as {} version {} ({}), uploaded on {day}.",
                kind.label_en().to_lowercase(),
                existing.version,
                existing.file_name
            ),
        ),
    )
}

/// The day (Beijing time) of a stored UTC timestamp.
fn beijing_day(stored: &str) -> String {
    let beijing = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    DateTime::parse_from_rfc3339(stored)
        .map(|at| at.with_timezone(&beijing).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| stored.chars().take(10).collect())
}
