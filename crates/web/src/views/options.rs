//! Cleaner production options and their values as the API shows them.

use chrono::NaiveDate;
use cpaudit_core::options::{CostClass, OptionStatus};
use cpaudit_storage::options::{OptionEntry as StoredEntry, OptionRow, OptionValueRow};
use serde::Serialize;
use utoipa::ToSchema;

/// A cleaner production option of a round.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CleanerOption {
    pub id: i64,
    pub round_id: i64,
    pub code: String,
    pub name: String,
    /// no_low | medium_high
    #[schema(value_type = String)]
    pub cost_class: CostClass,
    pub description: String,
    pub investment_10k_yuan: f64,
    /// proposed | selected | implemented | dropped
    #[schema(value_type = String)]
    pub status: OptionStatus,
    /// Why it was dropped (or a note on the last status change).
    pub status_note: String,
    pub implemented_on: Option<NaiveDate>,
    pub updated_at: String,
    pub updated_by: String,
}

impl From<OptionRow> for CleanerOption {
    fn from(row: OptionRow) -> Self {
        CleanerOption {
            id: row.id,
            round_id: row.round_id,
            code: row.code,
            name: row.name,
            cost_class: row.cost_class,
            description: row.description,
            investment_10k_yuan: row.investment_10k_yuan,
            status: row.status,
            status_note: row.status_note,
            implemented_on: row.implemented_on,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
        }
    }
}

/// One value of an option at one stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptionValue {
    pub option_id: i64,
    /// expected | verified
    pub stage: String,
    /// An indicator key, e.g. so2, pb, energy.
    pub indicator: String,
    pub quantity: f64,
    /// The indicator's unit, e.g. t/a, kg/a, tCO2/a.
    pub unit: String,
    /// How an expected value was estimated; the monitoring report a verified one rests on.
    pub basis: String,
    pub recorded_at: String,
    pub recorded_by: String,
}

impl From<OptionValueRow> for OptionValue {
    fn from(row: OptionValueRow) -> Self {
        OptionValue {
            option_id: row.option_id,
            stage: row.stage.as_str().into(),
            indicator: row.indicator,
            quantity: row.quantity,
            unit: row.unit,
            basis: row.basis,
            recorded_at: row.recorded_at,
            recorded_by: row.recorded_by,
        }
    }
}

/// An option with its values, each stage in its own list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptionEntry {
    #[serde(flatten)]
    pub option: CleanerOption,
    pub expected: Vec<OptionValue>,
    pub verified: Vec<OptionValue>,
}

impl From<StoredEntry> for OptionEntry {
    fn from(entry: StoredEntry) -> Self {
        OptionEntry {
            option: entry.option.into(),
            expected: entry.expected.into_iter().map(Into::into).collect(),
            verified: entry.verified.into_iter().map(Into::into).collect(),
        }
    }
}
