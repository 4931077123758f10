//! Evidence as it arrives (form, API, .xlsx row, online monitoring) and its validation, and the
//! record of past audit rounds imported so that 双有 due years are right from the first day.
//!
//! Every field arrives as text; validation turns it into typed evidence or a list of field
//! errors in Chinese and English, the same for every input path.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::determination::{EvidenceKind, EvidenceSource, Reason};
use crate::registry::{FieldError, Message};

/// Longest free text of a reference or substance name.
pub const MAX_TEXT_CHARS: usize = 200;
/// The heavy metals of toxic category 3 (Pb, Hg, Cd, Cr and the metalloid As).
pub const HEAVY_METALS: [&str; 5] = ["Pb", "Hg", "Cd", "Cr", "As"];

/// Evidence fields as text, named as the form, the API and the import columns name them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceDraft {
    /// concentration_exceedance | total_load_exceedance | toxic_raw_material | toxic_discharge |
    /// hazardous_waste | heavy_metal
    pub kind: String,
    /// YYYY-MM-DD: when the fact was observed (sampling, inspection, reporting period end).
    pub observed_on: String,
    /// supervisory_monitoring | online_monitoring | inspection | pollution_census |
    /// discharge_permit | enterprise_report | other
    pub source: String,
    /// The document that proves it: monitoring report number, inspection record, permit number.
    pub document_ref: String,
    /// Pollutant (exceedances), substance (toxic kinds) or metal symbol (heavy metals).
    #[serde(default)]
    pub substance: String,
    /// Measured concentration, emitted total, quantity used or discharged, or tonnes of waste.
    #[serde(default)]
    pub amount: String,
    /// The limit: concentration standard or total-load quota (exceedances only).
    #[serde(default)]
    pub limit: String,
    /// Unit of `amount` and `limit`, e.g. "mg/m3", "t/a", "kg".
    #[serde(default)]
    pub unit: String,
    /// The standard or quota document, e.g. "GB 13223-2011" (exceedances only).
    #[serde(default)]
    pub standard: String,
    /// Toxic category 1–5 (toxic raw materials and toxic discharges).
    #[serde(default)]
    pub toxic_category: String,
    /// National hazardous waste list class, e.g. "HW17" (hazardous waste only).
    #[serde(default)]
    pub hw_code: String,
}

/// Validated evidence, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidEvidence {
    pub kind: EvidenceKind,
    pub observed_on: NaiveDate,
    pub source: EvidenceSource,
    pub document_ref: String,
    pub substance: String,
    pub amount: f64,
    pub limit: Option<f64>,
    pub unit: String,
    pub standard: String,
    pub toxic_category: Option<u8>,
    pub hw_code: String,
    /// One readable line, e.g. "COD 120 mg/L > 100 mg/L (GB 8978-1996)".
    pub summary: String,
}

/// Parses a snake_case name into one of the domain enums (they all serialize as snake_case).
pub fn parse_name<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_string())).ok()
}

/// The snake_case name of a domain enum value.
pub fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

impl EvidenceDraft {
    /// Checks every field; `today` refuses evidence from the future.
    pub fn validate(&self, today: NaiveDate) -> Result<ValidEvidence, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = parse_name::<EvidenceKind>(&self.kind);
        if kind.is_none() {
            errors.push(error(
                "kind",
                "invalid_kind",
                "证据类型无效：应为 concentration_exceedance、total_load_exceedance、toxic_raw_material、toxic_discharge、hazardous_waste 或 heavy_metal",
                "unknown evidence kind: expected concentration_exceedance, total_load_exceedance, toxic_raw_material, toxic_discharge, hazardous_waste or heavy_metal",
            ));
        }
        let observed_on = self.observed_on(today, &mut errors);
        let source = parse_name::<EvidenceSource>(&self.source);
        if source.is_none() {
            errors.push(error(
                "source",
                "invalid_source",
                "证据来源无效：应为 supervisory_monitoring、online_monitoring、inspection、pollution_census、discharge_permit、enterprise_report 或 other",
                "unknown source: expected supervisory_monitoring, online_monitoring, inspection, pollution_census, discharge_permit, enterprise_report or other",
            ));
        }
        let document_ref = required_text(&self.document_ref, "document_ref", &mut errors);
        let details = kind.map(|kind| self.details(kind, &mut errors));
        match (kind, observed_on, source, details) {
            (Some(kind), Some(observed_on), Some(source), Some(details)) if errors.is_empty() => {
                let summary = summary(kind, &details);
                Ok(ValidEvidence {
                    kind,
                    observed_on,
                    source,
                    document_ref,
                    substance: details.substance,
                    amount: details.amount,
                    limit: details.limit,
                    unit: details.unit,
                    standard: details.standard,
                    toxic_category: details.toxic_category,
                    hw_code: details.hw_code,
                    summary,
                })
            }
            _ => Err(errors),
        }
    }

    fn observed_on(&self, today: NaiveDate, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(self.observed_on.trim(), "%Y-%m-%d") {
            Ok(date) if date > today => {
                errors.push(error(
                    "observed_on",
                    "in_future",
                    &format!("观测日期 {date} 晚于今天（{today}）"),
                    &format!("observed_on {date} is after today ({today})"),
                ));
                None
            }
            Ok(date) => Some(date),
            Err(_) => {
                errors.push(error(
                    "observed_on",
                    "invalid_date",
                    "观测日期应为 YYYY-MM-DD 格式的有效日期",
                    "observed_on must be a valid date written YYYY-MM-DD",
                ));
                None
            }
        }
    }

    /// The kind-specific fields.
    fn details(&self, kind: EvidenceKind, errors: &mut Vec<FieldError>) -> Details {
        let substance = match kind {
            EvidenceKind::HeavyMetal => self.metal(errors),
            _ => required_text(&self.substance, "substance", errors),
        };
        let amount = positive_number(&self.amount, "amount", errors).unwrap_or_default();
        let unit = required_text(&self.unit, "unit", errors);
        let mut details = Details {
            substance,
            amount,
            unit,
            ..Details::default()
        };
        match kind {
            EvidenceKind::ConcentrationExceedance | EvidenceKind::TotalLoadExceedance => {
                details.limit = positive_number(&self.limit, "limit", errors);
                details.standard = required_text(&self.standard, "standard", errors);
                if let Some(limit) = details.limit {
                    if amount > 0.0 && amount <= limit {
                        errors.push(error(
                            "amount",
                            "not_exceeding",
                            &format!("数值 {amount} 未超过限值 {limit}，不构成超标或超总量"),
                            &format!("{amount} does not exceed the limit {limit}: no exceedance"),
                        ));
                    }
                }
            }
            EvidenceKind::ToxicRawMaterial | EvidenceKind::ToxicDischarge => {
                details.toxic_category = self.category(errors);
            }
            EvidenceKind::HazardousWaste => {
                details.hw_code = self.hw_code(errors);
                details.toxic_category = kind.implied_category();
            }
            EvidenceKind::HeavyMetal => details.toxic_category = kind.implied_category(),
        }
        details
    }

    fn category(&self, errors: &mut Vec<FieldError>) -> Option<u8> {
        match self.toxic_category.trim().parse::<u8>() {
            Ok(category @ 1..=5) => Some(category),
            _ => {
                errors.push(error(
                    "toxic_category",
                    "invalid_category",
                    "有毒有害类别应为 1 至 5（《清洁生产审核办法》第八条）",
                    "toxic_category must be 1 to 5 (Measures Art. 8)",
                ));
                None
            }
        }
    }

    fn hw_code(&self, errors: &mut Vec<FieldError>) -> String {
        let code = self.hw_code.trim().to_ascii_uppercase();
        let valid = code.len() == 4
            && code.starts_with("HW")
            && code[2..]
                .parse::<u8>()
                .is_ok_and(|number| (1..=50).contains(&number));
        if !valid {
            errors.push(error(
                "hw_code",
                "invalid_hw_code",
                "危险废物类别应为《国家危险废物名录》的 HW01 至 HW50",
                "hw_code must be a class of the National Hazardous Waste List, HW01 to HW50",
            ));
        }
        code
    }

    fn metal(&self, errors: &mut Vec<FieldError>) -> String {
        let symbol = self.substance.trim();
        match HEAVY_METALS
            .iter()
            .find(|metal| metal.eq_ignore_ascii_case(symbol))
        {
            Some(metal) => metal.to_string(),
            None => {
                errors.push(error(
                    "substance",
                    "invalid_metal",
                    "重金属应为 Pb、Hg、Cd、Cr 或 As",
                    "the heavy metal must be Pb, Hg, Cd, Cr or As",
                ));
                String::new()
            }
        }
    }
}

#[derive(Debug, Default)]
struct Details {
    substance: String,
    amount: f64,
    limit: Option<f64>,
    unit: String,
    standard: String,
    toxic_category: Option<u8>,
    hw_code: String,
}

fn summary(kind: EvidenceKind, details: &Details) -> String {
    let Details {
        substance,
        amount,
        limit,
        unit,
        standard,
        toxic_category,
        hw_code,
    } = details;
    let amount = measured(*amount);
    match kind {
        EvidenceKind::ConcentrationExceedance | EvidenceKind::TotalLoadExceedance => format!(
            "{substance} {amount} {unit} > {} {unit} ({standard})",
            measured(limit.unwrap_or_default())
        ),
        EvidenceKind::ToxicRawMaterial | EvidenceKind::ToxicDischarge => format!(
            "{substance} {amount} {unit}（第{}类）",
            toxic_category.unwrap_or_default()
        ),
        EvidenceKind::HazardousWaste => format!("{hw_code} {substance} {amount} {unit}"),
        EvidenceKind::HeavyMetal => format!("{substance} {amount} {unit}"),
    }
}

/// A measured quantity as a person reads it: one decimal from 100, two from 1, three below,
/// without trailing zeros (a mean of monitoring data has many more digits than it is precise).
pub fn measured(value: f64) -> String {
    let decimals = match value.abs() {
        v if v >= 100.0 => 1,
        v if v >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" {
        "0".to_string()
    } else {
        text
    }
}

fn required_text(value: &str, field: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.push(error(
            field,
            "required",
            &format!("{field} 为必填项"),
            &format!("{field} is required"),
        ));
    } else if value.chars().count() > MAX_TEXT_CHARS {
        errors.push(error(
            field,
            "too_long",
            &format!("{field} 不能超过 {MAX_TEXT_CHARS} 个字符"),
            &format!("{field} must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    value.to_string()
}

fn positive_number(value: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    match value.trim().parse::<f64>() {
        Ok(number) if number.is_finite() && number > 0.0 => Some(number),
        _ => {
            errors.push(error(
                field,
                "not_positive",
                &format!("{field} 应为大于 0 的数值"),
                &format!("{field} must be a number greater than 0"),
            ));
            None
        }
    }
}

fn error(field: &str, code: &'static str, zh: &str, en: &str) -> FieldError {
    FieldError::new(field, code, Message::new(zh, en))
}

/// A past round as imported: list year, reasons and acceptance date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastRoundDraft {
    pub credit_code: String,
    pub list_year: String,
    /// Reasons separated by commas or 、: exceed_concentration, exceed_total_load, double_toxic
    /// (or 超标, 超总量, 双有).
    pub reasons: String,
    /// YYYY-MM-DD, empty when not yet accepted.
    #[serde(default)]
    pub accepted_on: String,
}

/// A validated past round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidPastRound {
    pub credit_code: String,
    pub list_year: i32,
    pub reasons: BTreeSet<Reason>,
    pub accepted_on: Option<NaiveDate>,
}

impl PastRoundDraft {
    /// Checks the row: a list year from 2003 (the first audit measures) to `today`'s year, known
    /// reasons, and an acceptance on or after 1 January of the list year and not in the future.
    pub fn validate(&self, today: NaiveDate) -> Result<ValidPastRound, Vec<FieldError>> {
        use chrono::Datelike;
        let mut errors = Vec::new();
        let credit_code = self.credit_code.trim().to_ascii_uppercase();
        if crate::CreditCode::parse(&credit_code).is_err() {
            errors.push(error(
                "credit_code",
                "invalid_credit_code",
                "统一社会信用代码无效",
                "invalid unified social credit code",
            ));
        }
        let list_year = match self.list_year.trim().parse::<i32>() {
            Ok(year) if (2003..=today.year()).contains(&year) => Some(year),
            _ => {
                errors.push(error(
                    "list_year",
                    "invalid_year",
                    &format!("列入年份应为 2003 至 {} 之间的年份", today.year()),
                    &format!("list_year must be a year from 2003 to {}", today.year()),
                ));
                None
            }
        };
        let reasons = parse_reasons(&self.reasons);
        if reasons.as_ref().is_none_or(BTreeSet::is_empty) {
            errors.push(error(
                "reasons",
                "invalid_reasons",
                "审核原因应为 超标、超总量、双有 中的一项或多项",
                "reasons must be one or more of exceed_concentration, exceed_total_load, double_toxic",
            ));
        }
        let accepted_on = self.accepted_on(list_year, today, &mut errors);
        match (list_year, reasons) {
            (Some(list_year), Some(reasons)) if errors.is_empty() => Ok(ValidPastRound {
                credit_code,
                list_year,
                reasons,
                accepted_on,
            }),
            _ => Err(errors),
        }
    }

    fn accepted_on(
        &self,
        list_year: Option<i32>,
        today: NaiveDate,
        errors: &mut Vec<FieldError>,
    ) -> Option<NaiveDate> {
        use chrono::Datelike;
        let text = self.accepted_on.trim();
        if text.is_empty() {
            return None;
        }
        let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") else {
            errors.push(error(
                "accepted_on",
                "invalid_date",
                "验收日期应为 YYYY-MM-DD 格式的有效日期",
                "accepted_on must be a valid date written YYYY-MM-DD",
            ));
            return None;
        };
        let too_early = list_year.is_some_and(|year| date.year() < year);
        if too_early || date > today {
            errors.push(error(
                "accepted_on",
                "out_of_range",
                "验收日期不能早于列入年份，也不能晚于今天",
                "accepted_on cannot be before the list year or after today",
            ));
        }
        Some(date)
    }
}

/// Reads "双有、超标" or "double_toxic, exceed_concentration".
pub fn parse_reasons(text: &str) -> Option<BTreeSet<Reason>> {
    text.split([',', '，', '、', ';', '；'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| match part {
            "超标" | "双超-超标" => Some(Reason::ExceedConcentration),
            "超总量" | "双超-超总量" => Some(Reason::ExceedTotalLoad),
            "双有" => Some(Reason::DoubleToxic),
            other => parse_name(other),
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_measured_value_is_rounded_as_people_read_it() {
        assert_eq!(measured(252.5814584949573), "252.6");
        assert_eq!(measured(35.204), "35.2");
        assert_eq!(measured(0.01234), "0.012");
        assert_eq!(measured(100.0), "100");
        assert_eq!(measured(-0.0001), "0");
    }

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
    }

    fn exceedance() -> EvidenceDraft {
        EvidenceDraft {
            kind: "concentration_exceedance".into(),
            observed_on: "2026-08-14".into(),
            source: "supervisory_monitoring".into(),
            document_ref: "兰环监字〔2026〕118号".into(),
            substance: "COD".into(),
            amount: "120".into(),
            limit: "100".into(),
            unit: "mg/L".into(),
            standard: "GB 8978-1996".into(),
            ..EvidenceDraft::default()
        }
    }

    fn fields(result: Result<ValidEvidence, Vec<FieldError>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_measured_exceedance_is_accepted_with_a_readable_summary() {
        let valid = exceedance().validate(today()).unwrap();
        assert_eq!(valid.kind, EvidenceKind::ConcentrationExceedance);
        assert_eq!(valid.summary, "COD 120 mg/L > 100 mg/L (GB 8978-1996)");
    }

    #[test]
    fn a_value_under_the_limit_is_not_an_exceedance() {
        let draft = EvidenceDraft {
            amount: "80".into(),
            ..exceedance()
        };
        assert_eq!(fields(draft.validate(today())), ["amount"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let draft = EvidenceDraft {
            kind: "rumour".into(),
            observed_on: "2027-02-30".into(),
            source: "newspaper".into(),
            document_ref: " ".into(),
            ..EvidenceDraft::default()
        };
        assert_eq!(
            fields(draft.validate(today())),
            ["kind", "observed_on", "source", "document_ref"]
        );
        let future = EvidenceDraft {
            observed_on: "2027-01-16".into(),
            ..exceedance()
        };
        assert_eq!(fields(future.validate(today())), ["observed_on"]);
    }

    #[test]
    fn toxic_evidence_needs_a_category_from_1_to_5() {
        let draft = EvidenceDraft {
            kind: "toxic_raw_material".into(),
            substance: "氰化钠".into(),
            amount: "12".into(),
            unit: "t".into(),
            toxic_category: "6".into(),
            ..exceedance()
        };
        assert_eq!(fields(draft.validate(today())), ["toxic_category"]);
        let fixed = EvidenceDraft {
            toxic_category: "2".into(),
            ..draft
        };
        assert_eq!(fixed.validate(today()).unwrap().toxic_category, Some(2));
    }

    #[test]
    fn hazardous_waste_is_category_1_with_a_listed_class() {
        let draft = EvidenceDraft {
            kind: "hazardous_waste".into(),
            substance: "废矿物油".into(),
            amount: "35.5".into(),
            unit: "t".into(),
            hw_code: "hw08".into(),
            ..exceedance()
        };
        let valid = draft.validate(today()).unwrap();
        assert_eq!(valid.toxic_category, Some(1));
        assert_eq!(valid.hw_code, "HW08");
        let bad = EvidenceDraft {
            hw_code: "HW51".into(),
            ..draft
        };
        assert_eq!(fields(bad.validate(today())), ["hw_code"]);
    }

    #[test]
    fn heavy_metals_are_the_five_of_category_3() {
        let draft = EvidenceDraft {
            kind: "heavy_metal".into(),
            substance: "pb".into(),
            amount: "3.2".into(),
            unit: "kg".into(),
            ..exceedance()
        };
        let valid = draft.validate(today()).unwrap();
        assert_eq!(
            (valid.substance.as_str(), valid.toxic_category),
            ("Pb", Some(3))
        );
        let bad = EvidenceDraft {
            substance: "Zn".into(),
            ..draft
        };
        assert_eq!(fields(bad.validate(today())), ["substance"]);
    }

    #[test]
    fn past_rounds_read_chinese_or_english_reasons() {
        let draft = PastRoundDraft {
            credit_code: "91330100716105852F".into(),
            list_year: "2022".into(),
            reasons: "双有、超标".into(),
            accepted_on: "2023-11-30".into(),
        };
        let round = draft.validate(today()).unwrap();
        assert_eq!(round.list_year, 2022);
        assert!(round.reasons.contains(&Reason::DoubleToxic));
        assert!(round.reasons.contains(&Reason::ExceedConcentration));
        let bad = PastRoundDraft {
            credit_code: String::new(),
            list_year: "1999".into(),
            reasons: "maybe".into(),
            accepted_on: "2021-01-01".into(),
        };
        let failed: Vec<String> = bad
            .validate(today())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(failed, ["credit_code", "list_year", "reasons"]);
    }
}
