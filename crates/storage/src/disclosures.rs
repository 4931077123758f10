//! The Art. 11 disclosure of a round: saved versions, trade-secret claims and the city's
//! decisions on them, and the published disclosures the public pages show. Publication itself
//! is a round transition ([`Db::apply_transition`] with the disclose action).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::columns::{Reasons, StoredRow};
use crate::evidence::date_text;
use crate::in_scope::OfRound;
use crate::rounds::round_scope_condition;
use crate::rounds::{
    append_round_event, audit_round_step, require_open, RoundEventInsert, RoundRow,
};
use crate::sql::{bind_args, Arg, Sql};
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, Scope, StorageError};

/// A saved version of a disclosure.
#[derive(Debug, Clone, Serialize)]
pub struct DisclosureRow {
    pub round_id: i64,
    pub version: i64,
    /// The items' texts by key.
    pub items: crate::JsonColumn<BTreeMap<String, String>>,
    /// Where else it was published: 主要媒体, 企业官网, 其他.
    pub channel: String,
    /// The URL or the medium's name.
    pub channel_detail: String,
    /// Set when the version is published (the disclose action, or a later correction).
    pub published_on: Option<NaiveDate>,
    pub saved_at: String,
    pub saved_by: String,
}

impl OfRound for DisclosureRow {
    fn round_id(&self) -> i64 {
        self.round_id
    }
}

/// The columns of [`DISCLOSURE_SELECT`] as stored.
#[derive(sqlx::FromRow)]
struct StoredDisclosure {
    id: i64,
    round_id: i64,
    version: i64,
    #[sqlx(rename = "items_json", try_from = "String")]
    items: crate::JsonColumn<BTreeMap<String, String>>,
    channel: String,
    channel_detail: String,
    published_on: Option<String>,
    saved_at: String,
    saved_by: String,
}

impl StoredDisclosure {
    fn decode(self) -> Result<DisclosureRow> {
        let row = StoredRow::new("disclosures", self.id);
        Ok(DisclosureRow {
            round_id: self.round_id,
            version: self.version,
            items: self.items,
            channel: self.channel,
            channel_detail: self.channel_detail,
            published_on: row.read_optional("published_on", self.published_on.as_deref())?,
            saved_at: self.saved_at,
            saved_by: self.saved_by,
        })
    }
}

crate::decoded_row!(DisclosureRow, StoredDisclosure);

impl DisclosureRow {
    pub fn items(&self) -> BTreeMap<String, String> {
        self.items.0.clone()
    }
}

/// A trade-secret claim on one item.
#[derive(Debug, Clone, Serialize)]
pub struct SecretClaimRow {
    pub round_id: i64,
    pub item_key: String,
    pub reason: String,
    pub status: ClaimStatus,
    pub claimed_at: String,
    pub claimed_by: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
}

crate::columns::stored_names!(
    /// Where a trade-secret claim stands: withheld until the city looks at it, or rejected
    /// (the item is disclosed).
    ClaimStatus { Claimed => "claimed", Rejected => "rejected" }
);

/// The columns of a [`SecretClaimRow`] as stored. Claims have no id of their own: an unknown
/// value names the round's.
#[derive(sqlx::FromRow)]
struct StoredSecretClaim {
    round_id: i64,
    item_key: String,
    reason: String,
    status: String,
    claimed_at: String,
    claimed_by: String,
    decided_at: Option<String>,
    decided_by: Option<String>,
    decision_reason: Option<String>,
}

impl StoredSecretClaim {
    fn decode(self) -> Result<SecretClaimRow> {
        let row = StoredRow::new("secret_claims", self.round_id);
        Ok(SecretClaimRow {
            round_id: self.round_id,
            item_key: self.item_key,
            reason: self.reason,
            status: row.read("status", &self.status)?,
            claimed_at: self.claimed_at,
            claimed_by: self.claimed_by,
            decided_at: self.decided_at,
            decided_by: self.decided_by,
            decision_reason: self.decision_reason,
        })
    }
}

crate::decoded_row!(SecretClaimRow, StoredSecretClaim);

/// A disclosure to save.
#[derive(Debug, Clone)]
pub struct DisclosureDraft {
    pub items: BTreeMap<String, String>,
    pub channel: String,
    pub channel_detail: String,
    /// Item key → reason, for the items withheld as trade secrets.
    pub claims: BTreeMap<String, String>,
    /// Publish this version at once (a correction of an already published disclosure).
    pub publish_on: Option<NaiveDate>,
}

/// A published disclosure on the public pages.
#[derive(Debug, Clone, Serialize)]
pub struct PublicDisclosureRow {
    pub round_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub jurisdiction_name_zh: String,
    pub list_year: i64,
    pub reasons: Reasons,
    pub version: i64,
    pub published_on: NaiveDate,
    /// The disclose deadline's last day, to flag late disclosure.
    pub due_on: Option<NaiveDate>,
}

impl PublicDisclosureRow {
    /// Whether it was published after the disclose deadline's last day.
    pub fn is_late(&self) -> bool {
        self.due_on.is_some_and(|due| self.published_on > due)
    }
}

/// The columns of a [`PublicDisclosureRow`] as stored: an unknown value names the table it
/// comes from (the round's reasons, the disclosure's day, the deadline's last day).
#[derive(sqlx::FromRow)]
struct StoredPublicDisclosure {
    disclosure_id: i64,
    round_id: i64,
    enterprise_id: i64,
    enterprise_name: String,
    credit_code: String,
    jurisdiction_name_zh: String,
    list_year: i64,
    reasons: String,
    version: i64,
    published_on: String,
    due_on: Option<String>,
}

impl StoredPublicDisclosure {
    fn decode(self) -> Result<PublicDisclosureRow> {
        let round = StoredRow::new("rounds", self.round_id);
        let disclosure = StoredRow::new("disclosures", self.disclosure_id);
        let deadline = StoredRow::new("round_deadlines", self.round_id);
        Ok(PublicDisclosureRow {
            round_id: self.round_id,
            enterprise_id: self.enterprise_id,
            enterprise_name: self.enterprise_name,
            credit_code: self.credit_code,
            jurisdiction_name_zh: self.jurisdiction_name_zh,
            list_year: self.list_year,
            reasons: round.read("reasons", &self.reasons)?,
            version: self.version,
            published_on: disclosure.read("published_on", &self.published_on)?,
            due_on: deadline.read_optional("due_on", self.due_on.as_deref())?,
        })
    }
}

crate::decoded_row!(PublicDisclosureRow, StoredPublicDisclosure);

const DISCLOSURE_SELECT: &str =
    "SELECT id, round_id, version, items_json, channel, channel_detail, \
    published_on, saved_at, saved_by FROM disclosures";

/// A trade-secret claim awaiting the city's look, with its round.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PendingClaimRow {
    pub round_id: i64,
    pub enterprise_name: String,
    pub item_key: String,
    pub reason: String,
    pub claimed_at: String,
}

impl Db {
    /// Trade-secret claims not yet decided on, in the rounds of the scope's city (province:
    /// all), oldest first.
    pub async fn pending_secret_claims(&self, scope: &Scope) -> Result<Vec<PendingClaimRow>> {
        let mut sql = Sql::default();
        let condition = round_scope_condition(&mut sql, scope);
        let text = format!(
            "SELECT s.round_id, e.name AS enterprise_name, s.item_key, s.reason, s.claimed_at \
             FROM secret_claims s JOIN rounds r ON r.id = s.round_id \
             JOIN enterprises e ON e.id = r.enterprise_id \
             WHERE {condition} AND s.status = 'claimed' ORDER BY s.claimed_at LIMIT 500"
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The latest saved version (published or not). The caller has read the round.
    pub async fn latest_disclosure(
        &self,
        round: &InScope<RoundRow>,
    ) -> Result<Option<DisclosureRow>> {
        let text = format!("{DISCLOSURE_SELECT} WHERE round_id = $1 ORDER BY version DESC LIMIT 1");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(round.id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The latest published version of a round's disclosure; public information.
    pub async fn published_disclosure(
        &self,
        round_id: i64,
    ) -> Result<Option<InScope<DisclosureRow>>> {
        let text = format!(
            "{DISCLOSURE_SELECT} WHERE round_id = $1 AND published_on IS NOT NULL \
             ORDER BY version DESC LIMIT 1"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text)
                .bind(round_id)
                .fetch_optional(pool)
                .await?
        })
        .map(InScope::granted))
    }

    /// The trade-secret claims of a round (public: the reason is shown with the withheld item).
    pub async fn secret_claims(&self, of: &InScope<impl OfRound>) -> Result<Vec<SecretClaimRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT round_id, item_key, reason, status, claimed_at, claimed_by, decided_at, \
                 decided_by, decision_reason FROM secret_claims WHERE round_id = $1 ORDER BY item_key",
            )
            .bind(of.round_id())
            .fetch_all(pool)
            .await?
        }))
    }

    /// Published disclosures, newest first, optionally of one list year or one enterprise.
    pub async fn public_disclosures(
        &self,
        list_year: Option<i64>,
        enterprise_id: Option<i64>,
    ) -> Result<Vec<PublicDisclosureRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT d.id AS disclosure_id, r.id AS round_id, r.enterprise_id, \
                 e.name AS enterprise_name, e.credit_code, j.name_zh AS jurisdiction_name_zh, r.list_year, r.reasons, d.version, \
                 d.published_on AS published_on, \
                 (SELECT due_on FROM round_deadlines WHERE round_id = r.id AND kind = 'disclose' \
                  AND seq = 1) AS due_on \
                 FROM disclosures d JOIN rounds r ON r.id = d.round_id \
                 JOIN enterprises e ON e.id = r.enterprise_id \
                 JOIN jurisdictions j ON j.code = r.jurisdiction_code \
                 WHERE d.published_on IS NOT NULL \
                 AND d.version = (SELECT MAX(version) FROM disclosures x WHERE x.round_id = d.round_id \
                     AND x.published_on IS NOT NULL) \
                 AND ($1 IS NULL OR r.list_year = $1) AND ($2 IS NULL OR r.enterprise_id = $2) \
                 ORDER BY d.published_on DESC, r.id DESC",
            )
            .bind(list_year)
            .bind(enterprise_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Saves a new version of the disclosure with its trade-secret claims (the caller checked
    /// the items against the form the round's reasons require). Claims not repeated are
    /// withdrawn; a claim the city rejected stays rejected.
    pub async fn save_disclosure(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        draft: &DisclosureDraft,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        require_open(round)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let version: i64 = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO disclosures (round_id, version, items_json, channel, channel_detail, \
                 published_on, saved_at, saved_by) SELECT $1, COALESCE(MAX(version), 0) + 1, \
                 $2, $3, $4, $5, $6, $7 FROM disclosures WHERE round_id = $1 RETURNING version",
            )
            .bind(round.id)
            .bind(json!(draft.items).to_string())
            .bind(draft.channel.trim())
            .bind(draft.channel_detail.trim())
            .bind(draft.publish_on.map(date_text))
            .bind(timestamp(now))
            .bind(actor.actor())
            .fetch_one(conn)
            .await
        })?;
        on_tx!(&mut tx, |conn| {
            sqlx::query("DELETE FROM secret_claims WHERE round_id = $1 AND status = 'claimed'")
                .bind(round.id)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
        for (item, reason) in &draft.claims {
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                    "INSERT INTO secret_claims (round_id, item_key, reason, status, claimed_at, \
                     claimed_by) VALUES ($1, $2, $3, 'claimed', $4, $5) \
                     ON CONFLICT (round_id, item_key) DO NOTHING",
                )
                .bind(round.id)
                .bind(item)
                .bind(reason.trim())
                .bind(timestamp(now))
                .bind(actor.actor())
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
            })?;
        }
        let detail = json!({"version": version, "claims": draft.claims.keys().collect::<Vec<_>>(),
            "published_on": draft.publish_on.map(date_text)});
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action: if draft.publish_on.is_some() {
                    "disclosure_corrected"
                } else {
                    "disclosure_saved"
                },
                from_state: None,
                to_state: None,
                actor,
                reason: "",
                detail: detail.clone(),
                attachments: &[],
            },
            now,
        )
        .await?;
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "round.disclosure",
            &detail,
            now,
        )
        .await?;
        chain.commit(tx).await?;
        Ok(version)
    }

    /// The city's decision on a trade-secret claim: rejecting it publishes the item. Only an
    /// official of the round's city or the province decides.
    pub async fn reject_secret_claim(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        item_key: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if !actor.scope().may_manage_city(&round.jurisdiction_code) {
            return Err(StorageError::refused(
                "secret_claim_decider_only",
                "商业秘密主张只能由企业所在市州或省级主管部门决定",
                "trade-secret claims are decided by the enterprise's city",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let changed = on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE secret_claims SET status = 'rejected', decided_at = $1, decided_by = $2, \
                 decision_reason = $3 WHERE round_id = $4 AND item_key = $5 AND status = 'claimed'",
            )
            .bind(timestamp(now))
            .bind(actor.actor())
            .bind(reason.trim())
            .bind(round.id)
            .bind(item_key)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        if changed == 0 {
            return Err(StorageError::NotFound);
        }
        let detail = json!({"item": item_key});
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action: "secret_claim_rejected",
                from_state: None,
                to_state: None,
                actor,
                reason,
                detail: detail.clone(),
                attachments: &[],
            },
            now,
        )
        .await?;
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "round.secret_rejected",
            &detail,
            now,
        )
        .await?;
        chain.commit(tx).await
    }
}
