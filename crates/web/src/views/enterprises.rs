//! The enterprise registry as the API shows it.

use cpaudit_core::registry::{EnterpriseStatus, OutletKind, SizeClass};
use cpaudit_storage::enterprises::{
    EnterpriseRow, ImportOutcome as StoredOutcome, Outlet as StoredOutlet,
};
use serde::Serialize;
use utoipa::ToSchema;

/// One enterprise with the names of what it refers to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Enterprise {
    pub id: i64,
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub address: String,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    pub jurisdiction_name_en: String,
    pub industry_code: String,
    pub industry_name_zh: String,
    pub industry_name_en: String,
    pub key_industry_id: Option<String>,
    pub key_industry_name_zh: Option<String>,
    pub key_industry_name_en: Option<String>,
    pub province_industry_id: Option<String>,
    #[schema(value_type = String)]
    pub size_class: SizeClass,
    pub key_emission_unit: bool,
    pub permit_number: Option<String>,
    #[schema(value_type = String)]
    pub status: EnterpriseStatus,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<EnterpriseRow> for Enterprise {
    fn from(row: EnterpriseRow) -> Self {
        Enterprise {
            id: row.id,
            credit_code: row.credit_code,
            name: row.name,
            legal_representative: row.legal_representative,
            address: row.address,
            jurisdiction_code: row.jurisdiction_code,
            jurisdiction_name_zh: row.jurisdiction_name_zh,
            jurisdiction_name_en: row.jurisdiction_name_en,
            industry_code: row.industry_code,
            industry_name_zh: row.industry_name_zh,
            industry_name_en: row.industry_name_en,
            key_industry_id: row.key_industry_id,
            key_industry_name_zh: row.key_industry_name_zh,
            key_industry_name_en: row.key_industry_name_en,
            province_industry_id: row.province_industry_id,
            size_class: row.size_class,
            key_emission_unit: row.key_emission_unit,
            permit_number: row.permit_number,
            status: row.status,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Outlet {
    pub id: i64,
    #[schema(value_type = String)]
    pub kind: OutletKind,
    pub code: String,
    pub name: String,
    /// HJ 212 MNs of the devices at this outlet.
    pub devices: Vec<String>,
}

impl From<StoredOutlet> for Outlet {
    fn from(row: StoredOutlet) -> Self {
        Outlet {
            id: row.id,
            kind: row.kind,
            code: row.code,
            name: row.name,
            devices: row.devices,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
}

impl From<StoredOutcome> for ImportOutcome {
    fn from(row: StoredOutcome) -> Self {
        ImportOutcome {
            created: row.created,
            updated: row.updated,
        }
    }
}
