//! Whole-park audit pilots (工业园区整体清洁生产审核试点, Gansu plan §三(四)): the park's targets
//! and measures and its centralized wastewater treatment. When the province records that the
//! pilot passed assessment, the park's `pilot_passed_on` is set in the same transaction, and
//! the determination counts every member as audited for the cycle (视同开展一次清洁生产审核).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::evidence::date_text;
use crate::{on_pool, on_tx, timestamp, Db, Principal, Result, StorageError};

/// Where a park's audit pilot stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParkAuditState {
    UnderWay,
    Assessed,
    Failed,
}

impl ParkAuditState {
    /// The stored name, the same as serde's.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnderWay => "under_way",
            Self::Assessed => "assessed",
            Self::Failed => "failed",
        }
    }
}

/// A park's audit pilot, its state and dates decoded.
#[derive(Debug, Clone, Serialize)]
pub struct ParkAuditRow {
    pub id: i64,
    pub park_id: i64,
    pub park_name: String,
    pub jurisdiction_code: String,
    pub title: String,
    pub started_on: NaiveDate,
    /// The targets: indicator, baseline, target, unit.
    pub targets: crate::JsonColumn<Vec<serde_json::Value>>,
    pub measures: String,
    pub wastewater_status: String,
    pub wastewater_compliant: bool,
    pub state: ParkAuditState,
    pub assessed_on: Option<NaiveDate>,
    pub assessment_note: Option<String>,
    pub updated_at: String,
    pub updated_by: String,
}

/// The columns of [`SELECT`] as they come from the database.
#[derive(sqlx::FromRow)]
struct StoredParkAudit {
    id: i64,
    park_id: i64,
    park_name: String,
    jurisdiction_code: String,
    title: String,
    started_on: String,
    #[sqlx(rename = "targets_json", try_from = "String")]
    targets: crate::JsonColumn<Vec<serde_json::Value>>,
    measures: String,
    wastewater_status: String,
    wastewater_compliant: bool,
    state: String,
    assessed_on: Option<String>,
    assessment_note: Option<String>,
    updated_at: String,
    updated_by: String,
}

impl StoredParkAudit {
    fn decode(self) -> Result<ParkAuditRow> {
        let row = StoredRow::new("park_audits", self.id);
        Ok(ParkAuditRow {
            started_on: row.read("started_on", &self.started_on)?,
            state: row.read("state", &self.state)?,
            assessed_on: row.read_optional("assessed_on", self.assessed_on.as_deref())?,
            id: self.id,
            park_id: self.park_id,
            park_name: self.park_name,
            jurisdiction_code: self.jurisdiction_code,
            title: self.title,
            targets: self.targets,
            measures: self.measures,
            wastewater_status: self.wastewater_status,
            wastewater_compliant: self.wastewater_compliant,
            assessment_note: self.assessment_note,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

crate::decoded_row!(ParkAuditRow, StoredParkAudit);

/// The content of a pilot, as entered.
#[derive(Debug, Clone)]
pub struct ParkAuditDraft {
    pub title: String,
    pub started_on: NaiveDate,
    pub targets: Value,
    pub measures: String,
    pub wastewater_status: String,
    pub wastewater_compliant: bool,
}

const SELECT: &str = "SELECT a.id, a.park_id, p.name AS park_name, p.jurisdiction_code, a.title, \
    a.started_on, a.targets_json, a.measures, a.wastewater_status, a.wastewater_compliant, a.state, \
    a.assessed_on, a.assessment_note, a.updated_at, a.updated_by \
    FROM park_audits a JOIN parks p ON p.id = a.park_id";

fn may_manage(actor: &Principal, city: &str) -> Result<()> {
    if actor.scope().may_manage_city(city) {
        Ok(())
    } else {
        Err(StorageError::refused(
            "park_pilot_outside_jurisdiction",
            "园区整体审核试点只能由园区所在市州或省级主管部门管理",
            "park pilots are kept by the park's city or the province",
        ))
    }
}

impl Db {
    /// The pilots of a park, newest first (officials with the park's city in scope).
    pub async fn park_audits(&self, actor: &Principal, park_id: i64) -> Result<Vec<ParkAuditRow>> {
        let city = self.park_city(park_id).await?;
        may_manage(actor, &city).map_err(|_| StorageError::NotFound)?;
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT} WHERE a.park_id = $1 ORDER BY a.id DESC"))
                .bind(park_id)
                .fetch_all(pool)
                .await?
        }))
    }

    async fn park_city(&self, park_id: i64) -> Result<String> {
        let city: Option<String> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT jurisdiction_code FROM parks WHERE id = $1")
                .bind(park_id)
                .fetch_optional(pool)
                .await?
        });
        city.ok_or(StorageError::NotFound)
    }

    /// Starts a pilot, or updates the one under way.
    pub async fn save_park_audit(
        &self,
        actor: &Principal,
        park_id: i64,
        draft: &ParkAuditDraft,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let city = self.park_city(park_id).await?;
        may_manage(actor, &city).map_err(|_| StorageError::NotFound)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let under_way: Option<i64> = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar(
                "SELECT id FROM park_audits WHERE park_id = $1 AND state = 'under_way'",
            )
            .bind(park_id)
            .fetch_optional(conn)
            .await
        })?;
        let targets = draft.targets.to_string();
        let id: i64 =
            on_tx!(&mut tx, |conn| {
                match under_way {
                Some(id) => sqlx::query_scalar(
                    "UPDATE park_audits SET title = $1, started_on = $2, targets_json = $3, \
                     measures = $4, wastewater_status = $5, wastewater_compliant = $6, \
                     updated_at = $7, updated_by = $8 WHERE id = $9 RETURNING id",
                )
                .bind(draft.title.trim())
                .bind(date_text(draft.started_on))
                .bind(&targets)
                .bind(draft.measures.trim())
                .bind(draft.wastewater_status.trim())
                .bind(draft.wastewater_compliant)
                .bind(timestamp(now))
                .bind(actor.actor())
                .bind(id)
                .fetch_one(conn)
                .await,
                None => sqlx::query_scalar(
                    "INSERT INTO park_audits (park_id, title, started_on, targets_json, measures, \
                     wastewater_status, wastewater_compliant, state, updated_at, updated_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'under_way', $8, $9) RETURNING id",
                )
                .bind(park_id)
                .bind(draft.title.trim())
                .bind(date_text(draft.started_on))
                .bind(&targets)
                .bind(draft.measures.trim())
                .bind(draft.wastewater_status.trim())
                .bind(draft.wastewater_compliant)
                .bind(timestamp(now))
                .bind(actor.actor())
                .fetch_one(conn)
                .await,
            }
            })?;
        chain
            .append(
                &mut tx,
                actor,
                "park_audit.save",
                ("park", &park_id.to_string()),
                None,
                Some(
                    &json!({"park_audit": id, "title": draft.title, "targets": draft.targets,
                    "wastewater_compliant": draft.wastewater_compliant}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// The province records the assessment of the pilot under way. A pass sets the park's
    /// `pilot_passed_on`, so its members count as audited from that day.
    pub async fn assess_park_audit(
        &self,
        actor: &Principal,
        park_id: i64,
        passed: bool,
        assessed_on: NaiveDate,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if !matches!(actor.scope().kind(), ScopeKind::Province) {
            return Err(StorageError::refused(
                "province_assesses_park_pilots",
                "园区整体审核试点只能由省级主管部门评估",
                "the province assesses park pilots",
            ));
        }
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let changed = on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE park_audits SET state = $1, assessed_on = $2, assessment_note = $3, \
                 updated_at = $4, updated_by = $5 WHERE park_id = $6 AND state = 'under_way'",
            )
            .bind(
                if passed {
                    ParkAuditState::Assessed
                } else {
                    ParkAuditState::Failed
                }
                .as_str(),
            )
            .bind(date_text(assessed_on))
            .bind(note.trim())
            .bind(timestamp(now))
            .bind(actor.actor())
            .bind(park_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        if changed == 0 {
            return Err(StorageError::conflict(
                "no_pilot_under_way",
                "该园区没有正在进行的整体审核试点",
                "the park has no pilot under way",
            ));
        }
        if passed {
            on_tx!(&mut tx, |conn| {
                sqlx::query("UPDATE parks SET pilot_passed_on = $1 WHERE id = $2")
                    .bind(date_text(assessed_on))
                    .bind(park_id)
                    .execute(conn)
                    .await
                    .map(|done| done.rows_affected())
            })?;
        }
        chain
            .append(
                &mut tx,
                actor,
                "park_audit.assess",
                ("park", &park_id.to_string()),
                None,
                Some(
                    &json!({"passed": passed, "assessed_on": date_text(assessed_on), "note": note}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await
    }
}

impl Db {
    /// The day the park's pilot passed, if it has.
    pub async fn park_pilot_passed_on(&self, park_id: i64) -> Result<Option<String>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT pilot_passed_on FROM parks WHERE id = $1")
                .bind(park_id)
                .fetch_optional(pool)
                .await?
        })
        .flatten())
    }
}
