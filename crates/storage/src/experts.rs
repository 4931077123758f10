//! The expert pool (专家库): applications, the life cycle decided by the province, employment
//! history, the experts' own conflict declarations and the review figures the yearly evaluation
//! reads. The life cycle itself is core's `expert_transition`; this module applies its answer in
//! the same transaction that records the event and the audit entry, so that a status never
//! changes without its reason and actor.

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::experts::{expert_transition, ExpertAction, ExpertStatus, ExpertTransitionError};
use serde::Serialize;
use serde_json::json;

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::evidence::date_text;
use crate::JsonColumn;
use crate::{on_pool, on_tx, timestamp, Db, Principal, Result, StorageError};

/// A pool member, its status decoded.
#[derive(Debug, Clone, Serialize)]
pub struct ExpertRecord {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub employer: String,
    /// Key industry ids.
    pub specialties: JsonColumn<Vec<String>>,
    pub jurisdiction_code: String,
    pub id_number_masked: String,
    pub status: ExpertStatus,
    pub title_level: String,
    pub years_experience: i64,
    pub contact: String,
    pub available: bool,
    /// Assigned at admission.
    pub pool_number: Option<i64>,
    pub version: i64,
}

/// The columns of [`EXPERT_COLUMNS`] as they come from the database.
#[derive(sqlx::FromRow)]
struct StoredExpert {
    id: i64,
    name: String,
    title: String,
    employer: String,
    #[sqlx(try_from = "String")]
    specialties: JsonColumn<Vec<String>>,
    jurisdiction_code: String,
    id_number_masked: String,
    status: String,
    title_level: String,
    years_experience: i64,
    contact: String,
    available: bool,
    pool_number: Option<i64>,
    version: i64,
}

impl StoredExpert {
    fn decode(self) -> Result<ExpertRecord> {
        Ok(ExpertRecord {
            status: StoredRow::new("experts", self.id).read("status", &self.status)?,
            id: self.id,
            name: self.name,
            title: self.title,
            employer: self.employer,
            specialties: self.specialties,
            jurisdiction_code: self.jurisdiction_code,
            id_number_masked: self.id_number_masked,
            title_level: self.title_level,
            years_experience: self.years_experience,
            contact: self.contact,
            available: self.available,
            pool_number: self.pool_number,
            version: self.version,
        })
    }
}

crate::decoded_row!(ExpertRecord, StoredExpert);

/// One step of an expert's life cycle.
#[derive(Debug, Clone, Serialize)]
pub struct ExpertEvent {
    /// apply, or one of the province's actions.
    pub action: String,
    pub from_status: Option<ExpertStatus>,
    pub to_status: ExpertStatus,
    pub reason: String,
    pub actor: String,
    pub at: String,
}

#[derive(sqlx::FromRow)]
struct StoredExpertEvent {
    id: i64,
    action: String,
    from_status: Option<String>,
    to_status: String,
    reason: String,
    actor: String,
    at: String,
}

impl StoredExpertEvent {
    fn decode(self) -> Result<ExpertEvent> {
        let row = StoredRow::new("expert_events", self.id);
        Ok(ExpertEvent {
            from_status: row.read_optional("from_status", self.from_status.as_deref())?,
            to_status: row.read("to_status", &self.to_status)?,
            action: self.action,
            reason: self.reason,
            actor: self.actor,
            at: self.at,
        })
    }
}

crate::decoded_row!(ExpertEvent, StoredExpertEvent);

/// Where an expert worked (or works: no end date).
#[derive(Debug, Clone, Serialize)]
pub struct EmploymentRow {
    pub enterprise_id: Option<i64>,
    pub consultancy_id: Option<i64>,
    pub organisation: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct StoredEmployment {
    id: i64,
    enterprise_id: Option<i64>,
    consultancy_id: Option<i64>,
    organisation: String,
    starts_on: String,
    ends_on: Option<String>,
}

impl StoredEmployment {
    fn decode(self) -> Result<EmploymentRow> {
        let row = StoredRow::new("expert_employment", self.id);
        Ok(EmploymentRow {
            starts_on: row.read("starts_on", &self.starts_on)?,
            ends_on: row.read_optional("ends_on", self.ends_on.as_deref())?,
            enterprise_id: self.enterprise_id,
            consultancy_id: self.consultancy_id,
            organisation: self.organisation,
        })
    }
}

crate::decoded_row!(EmploymentRow, StoredEmployment);

/// A conflict of interest the expert declared.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeclarationRow {
    pub enterprise_id: Option<i64>,
    pub consultancy_id: Option<i64>,
    pub organisation: String,
    pub reason: String,
    pub declared_at: String,
}

/// One review assignment of a year, as the evaluation reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewFigures {
    pub expert_id: i64,
    pub rating: Option<i64>,
    pub late: bool,
    /// pending | accepted | declined
    pub response: String,
    /// Whether the expert had declared a conflict with the reviewed enterprise: a decline for
    /// that reason is no failure to serve.
    pub conflict_declared: bool,
}

/// An application to the pool, already checked against the entry conditions by the caller.
#[derive(Debug, Clone)]
pub struct NewExpert {
    pub name: String,
    pub title: String,
    pub title_level: String,
    pub employer: String,
    pub specialties: Vec<String>,
    pub jurisdiction_code: String,
    pub id_number_masked: String,
    pub years_experience: u32,
    pub contact: String,
    pub available: bool,
}

/// The organisation an employment or a declaration names: exactly one of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Organisation {
    Enterprise(i64),
    Consultancy(i64),
}

impl Organisation {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            Organisation::Enterprise(id) => (Some(id), None),
            Organisation::Consultancy(id) => (None, Some(id)),
        }
    }
}

/// What an action on a pool member may fail with: the life cycle's refusal is the caller's to
/// word, storage failures are storage's.
#[derive(Debug)]
pub enum ActionError {
    Transition(ExpertTransitionError),
    Storage(StorageError),
}

impl From<StorageError> for ActionError {
    fn from(error: StorageError) -> Self {
        ActionError::Storage(error)
    }
}

const EXPERT_COLUMNS: &str = "id, name, title, employer, specialties, jurisdiction_code, \
     id_number_masked, status, title_level, years_experience, contact, available, pool_number, \
     version";

/// The organisation's name next to the ids, so that pages need no second lookup.
const ORGANISATION_NAME: &str = "COALESCE(e.name, c.name, '') AS organisation";

fn require_province(actor: &Principal) -> Result<()> {
    match actor.scope().kind() {
        ScopeKind::Province => Ok(()),
        _ => Err(StorageError::refused(
            "province_manages_experts",
            "只有省级主管部门可以管理专家库",
            "only the province manages the expert pool",
        )),
    }
}

/// The province sees every member; an expert sees its own record only.
fn may_read(actor: &Principal, expert_id: i64) -> bool {
    match actor.scope().kind() {
        ScopeKind::Province => true,
        ScopeKind::Expert(own) => *own == expert_id,
        _ => false,
    }
}

impl Db {
    /// The pool, optionally of one status, by pool number (applicants last).
    pub async fn expert_pool(
        &self,
        actor: &Principal,
        status: Option<ExpertStatus>,
    ) -> Result<Vec<ExpertRecord>> {
        require_province(actor)?;
        let text = format!(
            "SELECT {EXPERT_COLUMNS} FROM experts WHERE ($1 IS NULL OR status = $1) \
             ORDER BY pool_number IS NULL, pool_number, id"
        );
        let status = status.map(|s| s.as_str().to_string());
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(&status).fetch_all(pool).await?
        }))
    }

    /// One member: the province, or the expert itself.
    pub async fn expert(&self, actor: &Principal, id: i64) -> Result<Option<ExpertRecord>> {
        if !may_read(actor, id) {
            return Err(StorageError::refused(
                "expert_record_private",
                "专家信息仅限省级主管部门和专家本人查看",
                "an expert's record is for the province and the expert",
            ));
        }
        let text = format!("SELECT {EXPERT_COLUMNS} FROM experts WHERE id = $1");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The life cycle of a member, oldest first.
    pub async fn expert_events(&self, actor: &Principal, id: i64) -> Result<Vec<ExpertEvent>> {
        if !may_read(actor, id) {
            return Err(StorageError::NotFound);
        }
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, action, from_status, to_status, reason, actor, at FROM expert_events \
                 WHERE expert_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Records an application (province); the applicant has no pool number until admitted.
    pub async fn apply_expert(
        &self,
        actor: &Principal,
        application: &NewExpert,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        require_province(actor)?;
        let specialties =
            serde_json::to_string(&application.specialties).unwrap_or_else(|_| "[]".into());
        let applied = ExpertStatus::Applied.as_str();
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let id: i64 = on_tx!(&mut tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO experts (name, title, employer, specialties, jurisdiction_code, \
                 id_number_masked, status, title_level, years_experience, contact, available) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(application.name.trim())
            .bind(application.title.trim())
            .bind(application.employer.trim())
            .bind(&specialties)
            .bind(&application.jurisdiction_code)
            .bind(application.id_number_masked.trim().to_uppercase())
            .bind(applied)
            .bind(&application.title_level)
            .bind(i64::from(application.years_experience))
            .bind(application.contact.trim())
            .bind(application.available)
            .fetch_one(conn)
            .await
        })?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO expert_events (expert_id, action, from_status, to_status, reason, \
                 actor, at) VALUES ($1, 'apply', NULL, $2, '', $3, $4)",
            )
            .bind(id)
            .bind(applied)
            .bind(actor.actor())
            .bind(timestamp(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "expert.apply",
                ("expert", &id.to_string()),
                None,
                Some(&json!({"name": application.name.trim(), "title": application.title.trim(),
                    "title_level": application.title_level, "employer": application.employer.trim(),
                    "specialties": application.specialties, "jurisdiction_code": application.jurisdiction_code,
                    "years_experience": application.years_experience, "available": application.available,
                    "status": applied})),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Applies a province decision through core's life cycle; admission assigns the next pool
    /// number when the member has none (a reinstated member keeps its number).
    pub async fn act_on_expert(
        &self,
        actor: &Principal,
        id: i64,
        action: ExpertAction,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<ExpertStatus, ActionError> {
        require_province(actor)?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        // Read inside the transaction so that two decisions on one member take turns.
        let current: Option<(String, Option<i64>, i64)> = on_tx!(&mut tx, |conn| {
            sqlx::query_as("SELECT status, pool_number, version FROM experts WHERE id = $1")
                .bind(id)
                .fetch_optional(conn)
                .await
        })
        .map_err(StorageError::from)?;
        let (status, pool_number, version) = current.ok_or(StorageError::NotFound)?;
        let from = ExpertStatus::parse(&status).ok_or(StorageError::NotFound)?;
        let to = expert_transition(from, action, reason).map_err(ActionError::Transition)?;
        let pool_number = match (to, pool_number) {
            (ExpertStatus::Admitted, None) => Some(
                on_tx!(&mut tx, |conn| {
                    sqlx::query_scalar::<_, i64>(
                        "SELECT COALESCE(MAX(pool_number), 0) + 1 FROM experts",
                    )
                    .fetch_one(conn)
                    .await
                })
                .map_err(StorageError::from)?,
            ),
            (_, number) => number,
        };
        let updated = on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE experts SET status = $1, pool_number = $2, version = version + 1 \
                 WHERE id = $3 AND version = $4",
            )
            .bind(to.as_str())
            .bind(pool_number)
            .bind(id)
            .bind(version)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(StorageError::from)?;
        if updated == 0 {
            return Err(StorageError::VersionConflict { current: version }.into());
        }
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO expert_events (expert_id, action, from_status, to_status, reason, \
                 actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(action.as_str())
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(reason.trim())
            .bind(actor.actor())
            .bind(timestamp(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(StorageError::from)?;
        chain
            .append(
                &mut tx,
                actor,
                &format!("expert.{}", action.as_str()),
                ("expert", &id.to_string()),
                Some(&json!({"status": from.as_str()})),
                Some(&json!({"status": to.as_str(), "pool_number": pool_number,
                    "reason": reason.trim()})),
                now,
            )
            .await?;
        chain.commit(tx).await?;
        Ok(to)
    }

    /// Where a member worked, newest first.
    pub async fn expert_employment(
        &self,
        actor: &Principal,
        id: i64,
    ) -> Result<Vec<EmploymentRow>> {
        if !may_read(actor, id) {
            return Err(StorageError::NotFound);
        }
        let text = format!(
            "SELECT m.id, m.enterprise_id, m.consultancy_id, {ORGANISATION_NAME}, m.starts_on, \
             m.ends_on FROM expert_employment m \
             LEFT JOIN enterprises e ON e.id = m.enterprise_id \
             LEFT JOIN consultancies c ON c.id = m.consultancy_id \
             WHERE m.expert_id = $1 ORDER BY m.starts_on DESC, m.id DESC"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(id).fetch_all(pool).await?
        }))
    }

    /// Records a past or current employment (province); draws read it for conflicts.
    pub async fn add_employment(
        &self,
        actor: &Principal,
        expert_id: i64,
        organisation: Organisation,
        starts_on: NaiveDate,
        ends_on: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require_province(actor)?;
        let (enterprise_id, consultancy_id) = organisation.ids();
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO expert_employment (expert_id, enterprise_id, consultancy_id, \
                 starts_on, ends_on) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(expert_id)
            .bind(enterprise_id)
            .bind(consultancy_id)
            .bind(date_text(starts_on))
            .bind(ends_on.map(date_text))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "expert.employment",
                ("expert", &expert_id.to_string()),
                None,
                Some(
                    &json!({"enterprise_id": enterprise_id, "consultancy_id": consultancy_id,
                    "starts_on": date_text(starts_on), "ends_on": ends_on.map(date_text)}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// The conflicts a member declared, newest first (the province; the expert itself).
    pub async fn expert_declarations(
        &self,
        actor: &Principal,
        id: i64,
    ) -> Result<Vec<DeclarationRow>> {
        if !may_read(actor, id) {
            return Err(StorageError::NotFound);
        }
        let text = format!(
            "SELECT d.enterprise_id, d.consultancy_id, {ORGANISATION_NAME}, d.reason, \
             d.declared_at FROM conflict_declarations d \
             LEFT JOIN enterprises e ON e.id = d.enterprise_id \
             LEFT JOIN consultancies c ON c.id = d.consultancy_id \
             WHERE d.expert_id = $1 ORDER BY d.declared_at DESC, d.id DESC"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(id).fetch_all(pool).await?
        }))
    }

    /// An expert declares a conflict of interest for itself; nobody declares for another.
    pub async fn declare_conflict(
        &self,
        actor: &Principal,
        organisation: Organisation,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let ScopeKind::Expert(expert_id) = actor.scope().kind() else {
            return Err(StorageError::refused(
                "experts_declare_own_conflicts",
                "利益冲突只能由专家本人申报",
                "experts declare their own conflicts",
            ));
        };
        let expert_id = *expert_id;
        let (enterprise_id, consultancy_id) = organisation.ids();
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO conflict_declarations (expert_id, enterprise_id, consultancy_id, \
                 reason, declared_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(expert_id)
            .bind(enterprise_id)
            .bind(consultancy_id)
            .bind(reason.trim())
            .bind(timestamp(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        chain
            .append(
                &mut tx,
                actor,
                "expert.declare_conflict",
                ("expert", &expert_id.to_string()),
                None,
                Some(
                    &json!({"enterprise_id": enterprise_id, "consultancy_id": consultancy_id,
                    "reason": reason.trim()}),
                ),
                now,
            )
            .await?;
        chain.commit(tx).await
    }

    /// Every assignment of draws made in `year` (province), for the yearly evaluation.
    pub async fn review_figures(&self, actor: &Principal, year: i32) -> Result<Vec<ReviewFigures>> {
        require_province(actor)?;
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT a.expert_id, a.rating, a.late, a.response, EXISTS (SELECT 1 \
                 FROM conflict_declarations c WHERE c.expert_id = a.expert_id \
                 AND c.enterprise_id = d.enterprise_id) AS conflict_declared \
                 FROM draw_assignments a JOIN draws d ON d.id = a.draw_id \
                 WHERE substr(d.created_at, 1, 4) = $1 \
                 ORDER BY a.expert_id, a.draw_id",
            )
            .bind(format!("{year:04}"))
            .fetch_all(pool)
            .await?
        }))
    }

    /// Whether an enterprise or consultancy exists (ids come from forms).
    pub async fn organisation_exists(&self, organisation: Organisation) -> Result<bool> {
        let (table, id) = match organisation {
            Organisation::Enterprise(id) => ("enterprises", id),
            Organisation::Consultancy(id) => ("consultancies", id),
        };
        let text = format!("SELECT COUNT(*) FROM {table} WHERE id = $1");
        let count: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(&text).bind(id).fetch_one(pool).await?
        });
        Ok(count > 0)
    }
}
