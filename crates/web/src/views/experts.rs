//! The expert pool as the API shows it.

use chrono::NaiveDate;
use cpaudit_core::experts::ExpertStatus;
use cpaudit_storage::experts::{
    DeclarationRow, EmploymentRow, ExpertEvent as StoredEvent, ExpertRecord,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A pool member as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Expert {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub employer: String,
    /// Key industry ids.
    pub specialties: Vec<String>,
    pub jurisdiction_code: String,
    pub id_number_masked: String,
    /// applied | admitted | suspended | removed
    #[schema(value_type = String)]
    pub status: ExpertStatus,
    pub title_level: String,
    pub years_experience: i64,
    pub contact: String,
    pub available: bool,
    /// Assigned at admission.
    pub pool_number: Option<i64>,
    pub version: i64,
}

impl From<ExpertRecord> for Expert {
    fn from(row: ExpertRecord) -> Self {
        Expert {
            id: row.id,
            name: row.name,
            title: row.title,
            employer: row.employer,
            specialties: row.specialties.0,
            jurisdiction_code: row.jurisdiction_code,
            id_number_masked: row.id_number_masked,
            status: row.status,
            title_level: row.title_level,
            years_experience: row.years_experience,
            contact: row.contact,
            available: row.available,
            pool_number: row.pool_number,
            version: row.version,
        }
    }
}

/// One step of an expert's life cycle.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpertEvent {
    pub action: String,
    #[schema(value_type = Option<String>)]
    pub from_status: Option<ExpertStatus>,
    #[schema(value_type = String)]
    pub to_status: ExpertStatus,
    pub reason: String,
    pub actor: String,
    pub at: String,
}

impl From<StoredEvent> for ExpertEvent {
    fn from(row: StoredEvent) -> Self {
        ExpertEvent {
            action: row.action,
            from_status: row.from_status,
            to_status: row.to_status,
            reason: row.reason,
            actor: row.actor,
            at: row.at,
        }
    }
}

/// Where an expert worked (or works: no end date).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Employment {
    pub enterprise_id: Option<i64>,
    pub consultancy_id: Option<i64>,
    pub organisation: String,
    #[schema(value_type = String)]
    pub starts_on: NaiveDate,
    #[schema(value_type = Option<String>)]
    pub ends_on: Option<NaiveDate>,
}

impl From<EmploymentRow> for Employment {
    fn from(row: EmploymentRow) -> Self {
        Employment {
            enterprise_id: row.enterprise_id,
            consultancy_id: row.consultancy_id,
            organisation: row.organisation,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
        }
    }
}

/// A conflict of interest the expert declared.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Declaration {
    pub enterprise_id: Option<i64>,
    pub consultancy_id: Option<i64>,
    pub organisation: String,
    pub reason: String,
    pub declared_at: String,
}

impl From<DeclarationRow> for Declaration {
    fn from(row: DeclarationRow) -> Self {
        Declaration {
            enterprise_id: row.enterprise_id,
            consultancy_id: row.consultancy_id,
            organisation: row.organisation,
            reason: row.reason,
            declared_at: row.declared_at,
        }
    }
}
