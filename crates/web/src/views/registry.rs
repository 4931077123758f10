//! Reference data and consultancies as the API shows them.

use cpaudit_storage::registry::{ConsultancyRow, IndustryRow, JurisdictionRow};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jurisdiction {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: String,
    pub parent_code: Option<String>,
}

impl From<JurisdictionRow> for Jurisdiction {
    fn from(row: JurisdictionRow) -> Self {
        Jurisdiction {
            code: row.code,
            name_zh: row.name_zh,
            name_en: row.name_en,
            level: row.level,
            parent_code: row.parent_code,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Industry {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub key_industry_id: Option<String>,
    pub key_industry_name_zh: Option<String>,
    pub key_industry_name_en: Option<String>,
    pub province_industry_id: Option<String>,
    pub province_industry_name_zh: Option<String>,
    pub province_industry_name_en: Option<String>,
}

impl From<IndustryRow> for Industry {
    fn from(row: IndustryRow) -> Self {
        Industry {
            code: row.code,
            name_zh: row.name_zh,
            name_en: row.name_en,
            key_industry_id: row.key_industry_id,
            key_industry_name_zh: row.key_industry_name_zh,
            key_industry_name_en: row.key_industry_name_en,
            province_industry_id: row.province_industry_id,
            province_industry_name_zh: row.province_industry_name_zh,
            province_industry_name_en: row.province_industry_name_en,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Consultancy {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub jurisdiction_code: String,
    pub contact: String,
}

impl From<ConsultancyRow> for Consultancy {
    fn from(row: ConsultancyRow) -> Self {
        Consultancy {
            id: row.id,
            name: row.name,
            credit_code: row.credit_code,
            jurisdiction_code: row.jurisdiction_code,
            contact: row.contact,
        }
    }
}
