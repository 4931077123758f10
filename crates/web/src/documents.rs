//! The documents of an audit round: the page that lists every kind with all its versions and
//! takes uploads, the download, and the API.
//!
//! - `GET /rounds/{id}/documents`, `GET /api/v1/rounds/{id}/documents`: every version of every
//!   kind (file name, version, size, the SHA-256 in full, who uploaded it and when) and the
//!   kinds the caller may file now.
//! - `POST /rounds/{id}/documents` (multipart, CSRF token in the query like every upload form),
//!   `POST /api/v1/rounds/{id}/documents`: fields `kind`, `file`, `note`. The file is
//!   identified by its bytes (`cpaudit_office::identify_document`: PDF, OFD, .docx, .doc, .xlsx,
//!   .xls, and a name that agrees) and must be within `WebSettings::max_document_bytes`; these
//!   two routes alone allow a body that large.
//! - `GET /documents/{id}/download`, `GET /api/v1/documents/{id}/content`: the content as
//!   uploaded, with the stored content type, `Content-Disposition: attachment` (RFC 5987 UTF-8
//!   file name), `X-Content-Type-Options: nosniff`, and the SHA-256 as `ETag` and
//!   `X-Content-SHA256`.
//!
//! Everything is read through the round within the caller's scope: an official of another city,
//! another enterprise, or an expert without an accepted seat on a panel drawn for the round gets
//! 404. Filing rules are in `cpaudit_core::documents`; a filing that is the work of a
//! blacklisted consultancy is refused with the seed §四(四) message (see
//! [`crate::consultancies::refusal_of`]).

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use cpaudit_core::documents::may_upload;
use cpaudit_core::round::DocumentKind;
use cpaudit_office::{clean_file_name, identify_document, DocumentFormat, DocumentRefusal};
use cpaudit_storage::documents::{DocumentRow, NewDocument};
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::InScope;
use cpaudit_storage::Principal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{byte_size, ApiError, AppError};
use crate::i18n::Lang;
use crate::pages::{beijing_time, render_with, Ctx};
use crate::views::documents::Document;
use crate::AppState;

/// The routes whose POST carries a document, and so may have a body as large as
/// `WebSettings::max_document_bytes`.
pub(crate) const UPLOAD_PATHS: [&str; 4] = [
    "/rounds/{id}/documents",
    "/api/v1/rounds/{id}/documents",
    "/consultancies/{id}/documents",
    "/api/v1/consultancies/{id}/documents",
];

/// Longest note kept with an upload, in characters.
const MAX_NOTE_CHARS: usize = 500;

/// A round's documents as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundDocumentsJson {
    pub round_id: i64,
    pub state: String,
    /// The kinds the caller may file now; empty when the round is finished or the caller has
    /// no part in it that files documents.
    pub may_upload: Vec<String>,
    /// The largest document accepted, in bytes.
    pub max_document_bytes: usize,
    /// Every version of every kind, by kind and version.
    pub documents: Vec<Document>,
}

async fn round_in_scope(
    state: &AppState,
    principal: &Principal,
    round_id: i64,
) -> Result<InScope<RoundRow>, AppError> {
    state
        .db()
        .get_round(principal.scope(), round_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The kinds the caller may file on the round now.
fn uploadable_kinds(principal: &Principal, round: &RoundRow) -> Vec<DocumentKind> {
    if round.state.is_final() {
        return Vec::new();
    }
    let actors = cpaudit_storage::rounds::round_actors(principal, round);
    DocumentKind::ALL
        .into_iter()
        .filter(|kind| may_upload(&actors, *kind).is_ok())
        .collect()
}

async fn documents_json(
    state: &AppState,
    principal: &Principal,
    round_id: i64,
) -> Result<(InScope<RoundRow>, RoundDocumentsJson), AppError> {
    let round = round_in_scope(state, principal, round_id).await?;
    let documents = state.db().round_documents(&round).await?;
    let json = RoundDocumentsJson {
        round_id: round.id,
        state: round.state.as_str().into(),
        may_upload: uploadable_kinds(principal, &round)
            .into_iter()
            .map(|kind| kind.as_str().to_string())
            .collect(),
        max_document_bytes: state.settings().max_document_bytes,
        documents: documents.into_iter().map(Into::into).collect(),
    };
    Ok((round, json))
}

/// Every version of every document of a round, and what the caller may file.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/documents", tag = "rounds",
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = RoundDocumentsJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_round_documents(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RoundDocumentsJson>, ApiError> {
    let principal = caller.principal()?;
    Ok(Json(documents_json(&state, principal, id).await?.1))
}

/// An upload as read from the multipart body, its content identified.
struct Upload {
    kind: DocumentKind,
    file_name: String,
    format: DocumentFormat,
    bytes: Vec<u8>,
    note: String,
}

async fn read_document_upload(
    state: &AppState,
    multipart: &mut Multipart,
) -> Result<Upload, AppError> {
    let limit = state.settings().max_document_bytes;
    let (file_name, bytes, fields) = crate::pages::read_upload_within(multipart, limit).await?;
    let kind = fields
        .get("kind")
        .and_then(|kind| DocumentKind::parse(kind.trim()))
        .ok_or_else(kind_error)?;
    let format = identify_document(&file_name, &bytes).map_err(refusal_error)?;
    let note = fields
        .get("note")
        .map(|note| note.trim().to_string())
        .unwrap_or_default();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::bad_field(
            "note",
            "too_long",
            &format!("说明不能超过 {MAX_NOTE_CHARS} 个字符"),
            &format!("note must be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(Upload {
        kind,
        file_name,
        format,
        bytes,
        note,
    })
}

fn kind_error() -> AppError {
    let list = |label: fn(DocumentKind) -> &'static str| {
        DocumentKind::ALL
            .iter()
            .map(|kind| format!("{} ({})", kind.as_str(), label(*kind)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    AppError::bad_field(
        "kind",
        "invalid_kind",
        &format!("材料类型应为以下之一：{}", list(DocumentKind::label_zh)),
        &format!("kind must be one of: {}", list(DocumentKind::label_en)),
    )
}

pub(crate) fn refusal_error(refusal: DocumentRefusal) -> AppError {
    let code = match refusal {
        DocumentRefusal::Empty => "empty_file",
        DocumentRefusal::NotAccepted { .. } => "file_type_not_accepted",
        DocumentRefusal::NameMismatch { .. } => "file_name_mismatch",
    };
    AppError::bad_field("file", code, &refusal.message_zh(), &refusal.message_en())
}

/// Reads and checks an upload, then keeps it (`cpaudit_app::documents::upload`).
async fn upload(
    state: &AppState,
    caller: &Caller,
    round_id: i64,
    multipart: &mut Multipart,
) -> Result<DocumentRow, AppError> {
    let principal = caller.principal()?;
    round_in_scope(state, principal, round_id).await?;
    let upload = read_document_upload(state, multipart).await?;
    let file_name = clean_file_name(&upload.file_name, upload.format);
    let document = NewDocument {
        kind: upload.kind,
        file_name: &file_name,
        content_type: upload.format.content_type(),
        content: &upload.bytes,
        note: &upload.note,
    };
    Ok(cpaudit_app::documents::upload(state.app(), principal, round_id, &document).await?)
}

/// Files a document of a round (multipart: `kind`, `file`, optional `note`). The content is
/// identified by its bytes; a new upload of a kind is its next version.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/documents", tag = "rounds",
    params(("id" = i64, Path, description = "round id")),
    request_body(content_type = "multipart/form-data",
        description = "fields: kind (audit_report | technical_evidence | monitoring_before | monitoring_after | acceptance_report | rectification | review_opinion | work_plan | other), file (PDF, OFD, .docx, .doc, .xlsx or .xls), note (optional)"),
    responses((status = 201, body = Document),
        (status = 400, body = crate::error::ErrorBody, description = "bad kind; empty file; a type not accepted; a name that disagrees with the content"),
        (status = 403, body = crate::error::ErrorBody, description = "the caller does not file this kind; the work of a blacklisted consultancy"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "the same file is already on file; the round is finished"),
        (status = 413, body = crate::error::ErrorBody, description = "larger than the document limit")))]
pub async fn api_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let row = upload(&state, &caller, id, &mut multipart).await?;
    Ok((StatusCode::CREATED, Json(Document::from(row))).into_response())
}

/// The content of a document as uploaded.
#[utoipa::path(get, path = "/api/v1/documents/{id}/content", tag = "rounds",
    params(("id" = i64, Path, description = "document id")),
    responses((status = 200, description = "the file, with its stored content type; ETag and X-Content-SHA256 carry its SHA-256"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_content(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(content_response(&state, &caller, id).await?)
}

pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    content_response(&state, &caller, id).await
}

async fn content_response(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let (document, content) = state
        .db()
        .document_content(principal.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    file_response(
        &document.file_name,
        &document.content_type,
        &document.sha256,
        content,
    )
}

/// A stored file as a download: its content type, an attachment name, no sniffing, its hash as
/// the ETag, and no shared caching (documents may hold trade secrets).
pub(crate) fn file_response(
    file_name: &str,
    content_type: &str,
    sha256: &str,
    content: Vec<u8>,
) -> Result<Response, AppError> {
    let header_value = |text: &str| HeaderValue::from_str(text).map_err(|_| AppError::Internal);
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header_value(content_type)?);
    headers.insert(
        header::CONTENT_DISPOSITION,
        header_value(&content_disposition(file_name))?,
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::ETAG, header_value(&format!("\"{sha256}\""))?);
    headers.insert("x-content-sha256", header_value(sha256)?);
    // Documents may hold trade secrets: no shared cache keeps them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    Ok(response)
}

/// `attachment` with the file name twice: an ASCII stand-in for old clients and the UTF-8 name
/// percent-encoded as RFC 5987 (and RFC 6266) say, which every current browser prefers.
fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(Template)]
#[template(path = "round_documents.html")]
struct DocumentsPage {
    ctx: Ctx,
    round: RoundRow,
    state_label: &'static str,
    groups: Vec<KindGroup>,
    may_upload: Vec<KindOption>,
    limit: String,
    alert: Option<String>,
}

/// One kind with its versions, newest first.
struct KindGroup {
    label: &'static str,
    versions: Vec<VersionView>,
}

struct VersionView {
    id: i64,
    version: i64,
    file_name: String,
    size: String,
    sha256: String,
    uploaded_by: String,
    uploaded_at: String,
    note: String,
}

struct KindOption {
    value: &'static str,
    label: &'static str,
}

/// Who uploaded a document as a page names them: the user name (and the consultancy).
fn uploader(document: &Document) -> String {
    let name = document
        .uploaded_by
        .rsplit(':')
        .next()
        .unwrap_or(&document.uploaded_by);
    match &document.consultancy_name {
        Some(consultancy) => format!("{name}（{consultancy}）"),
        None => name.to_string(),
    }
}

fn groups(lang: Lang, documents: &[Document]) -> Vec<KindGroup> {
    DocumentKind::ALL
        .into_iter()
        .map(|kind| KindGroup {
            label: lang.pick(kind.label_zh(), kind.label_en()),
            versions: documents
                .iter()
                .rev()
                .filter(|document| document.kind == kind)
                .map(|document| VersionView {
                    id: document.id,
                    version: document.version,
                    file_name: document.file_name.clone(),
                    size: byte_size(u64::try_from(document.size).unwrap_or(0)),
                    sha256: document.sha256.clone(),
                    uploaded_by: uploader(document),
                    uploaded_at: beijing_time(&document.uploaded_at),
                    note: document.note.clone(),
                })
                .collect(),
        })
        .collect()
}

async fn documents_page(
    state: &AppState,
    caller: &Caller,
    round_id: i64,
    alert: Option<&AppError>,
) -> Result<Response, AppError> {
    let principal = caller.principal()?;
    let lang = caller.lang;
    let (round, json) = documents_json(state, principal, round_id).await?;
    let may_upload = uploadable_kinds(principal, &round)
        .into_iter()
        .map(|kind| KindOption {
            value: kind.as_str(),
            label: lang.pick(kind.label_zh(), kind.label_en()),
        })
        .collect();
    let page = DocumentsPage {
        ctx: Ctx::new(caller),
        state_label: lang.pick(round.state.label_zh(), round.state.label_en()),
        groups: groups(lang, &json.documents),
        may_upload,
        limit: byte_size(state.settings().max_document_bytes as u64),
        alert: alert.map(|error| {
            let message = error.message();
            lang.pick(&message.zh, &message.en).to_string()
        }),
        round: round.into_inner(),
    };
    let status = alert.map_or(StatusCode::OK, AppError::status);
    Ok(render_with(status, &page))
}

pub async fn documents_page_get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    documents_page(&state, &caller, id, None).await
}

/// The upload form: back to the list on success; a refusal about the upload is shown above the
/// form with its status, anything else (an unknown round) is an error page.
pub async fn upload_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    match upload(&state, &caller, id, &mut multipart).await {
        Ok(row) => Ok(
            Redirect::to(&format!("/rounds/{id}/documents#document-{}", row.id)).into_response(),
        ),
        Err(error @ (AppError::NotFound | AppError::Unauthorized | AppError::Internal)) => {
            Err(error)
        }
        Err(error) => documents_page(&state, &caller, id, Some(&error)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_travels_as_rfc_5987_utf_8() {
        assert_eq!(
            content_disposition("审核报告 v2.pdf"),
            "attachment; filename=\"____ v2.pdf\"; \
             filename*=UTF-8''%E5%AE%A1%E6%A0%B8%E6%8A%A5%E5%91%8A%20v2.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c.pdf"),
            "attachment; filename=\"a_b_c.pdf\"; filename*=UTF-8''a%22b%5Cc.pdf"
        );
    }
}
