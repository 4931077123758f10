//! Disclosures and trade-secret claims as the API shows them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cpaudit_storage::disclosures::{
    DisclosureRow, PendingClaimRow, PublicDisclosureRow, SecretClaimRow,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A saved version of a disclosure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Disclosure {
    pub round_id: i64,
    pub version: i64,
    /// The items' texts by key.
    pub items: BTreeMap<String, String>,
    /// Where else it was published: 主要媒体, 企业官网, 其他.
    pub channel: String,
    /// The URL or the medium's name.
    pub channel_detail: String,
    /// Set when the version is published (the disclose action, or a later correction).
    pub published_on: Option<NaiveDate>,
    pub saved_at: String,
    pub saved_by: String,
}

impl From<DisclosureRow> for Disclosure {
    fn from(row: DisclosureRow) -> Self {
        Disclosure {
            round_id: row.round_id,
            version: row.version,
            items: row.items.0,
            channel: row.channel,
            channel_detail: row.channel_detail,
            published_on: row.published_on,
            saved_at: row.saved_at,
            saved_by: row.saved_by,
        }
    }
}

/// A trade-secret claim on one item.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretClaim {
    pub round_id: i64,
    pub item_key: String,
    pub reason: String,
    /// claimed | rejected
    pub status: String,
    pub claimed_at: String,
    pub claimed_by: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
}

impl From<SecretClaimRow> for SecretClaim {
    fn from(row: SecretClaimRow) -> Self {
        SecretClaim {
            round_id: row.round_id,
            item_key: row.item_key,
            reason: row.reason,
            status: row.status.as_str().into(),
            claimed_at: row.claimed_at,
            claimed_by: row.claimed_by,
            decided_at: row.decided_at,
            decided_by: row.decided_by,
            decision_reason: row.decision_reason,
        }
    }
}

/// A published disclosure on the public pages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicDisclosure {
    pub round_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_name_zh: String,
    pub list_year: i64,
    /// Comma-separated reasons as published.
    #[schema(value_type = String)]
    pub reasons: cpaudit_storage::Reasons,
    pub version: i64,
    pub published_on: NaiveDate,
    /// The disclose deadline's last day, to flag late disclosure.
    pub due_on: Option<NaiveDate>,
}

impl From<PublicDisclosureRow> for PublicDisclosure {
    fn from(row: PublicDisclosureRow) -> Self {
        PublicDisclosure {
            round_id: row.round_id,
            enterprise_id: row.enterprise_id,
            enterprise_name: row.enterprise_name,
            credit_code: row.credit_code,
            jurisdiction_name_zh: row.jurisdiction_name_zh,
            list_year: row.list_year,
            reasons: row.reasons,
            version: row.version,
            published_on: row.published_on,
            due_on: row.due_on,
        }
    }
}

/// A trade-secret claim awaiting the city's look, with its round.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingClaim {
    pub round_id: i64,
    pub enterprise_name: String,
    pub item_key: String,
    pub reason: String,
    pub claimed_at: String,
}

impl From<PendingClaimRow> for PendingClaim {
    fn from(row: PendingClaimRow) -> Self {
        PendingClaim {
            round_id: row.round_id,
            enterprise_name: row.enterprise_name,
            item_key: row.item_key,
            reason: row.reason,
            claimed_at: row.claimed_at,
        }
    }
}
