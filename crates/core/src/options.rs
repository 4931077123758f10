//! Cleaner production options (清洁生产方案) of an audit round: the indicators their effects are
//! counted in, their cost class and status, the checks on what is entered, who may enter what
//! and when, and the totals a bulletin reports.
//!
//! **Counting model** (domain reference §15, a design of this system: no national counting
//! method exists). Each option's effects are recorded at two stages and kept apart:
//!
//! - *expected* (预期（评估）): what the audit report claims, reviewed at assessment;
//! - *verified* (已验证（验收）): confirmed at acceptance from monitoring before and after
//!   implementation. 无/低费 options are implemented during the audit; 中/高费 options only after
//!   assessment, so their effects can only be verified at acceptance.
//!
//! Totals are kept per stage and never mixed: an expected value is never added to a verified
//! total. Verified values count once, in the year the round is accepted (the bulletin's business);
//! expected values of dropped options no longer count.
//!
//! **Signs.** Every value is an annual *reduction* (or saving, or benefit), so it is normally
//! positive. A pollutant reduction cannot be negative: an option that adds a pollutant is not a
//! cleaner production option for it. CO₂, energy, water and the economic benefit may be negative
//! (an end-of-pipe option burns power, uses water and costs money to run), and a negative value
//! must then say why in its note.
//!
//! **Plausibility.** Upper bounds on investment and on each unit's values are rule data
//! (`options.max_*`, design values that catch slips such as yuan typed for 万元); the bound
//! applies to the magnitude, so a negative value is bounded too.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::registry::{FieldError, Message};
use crate::round::{RoundActor, RoundState, Track};
use crate::rules::{RuleBook, RuleError};

/// Longest option code, in characters (reports number options like "F-12" or "中高-3").
pub const MAX_CODE_CHARS: usize = 20;
/// Longest option name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Longest note, basis or reason, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// The environmental medium or kind of effect an indicator measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    /// 大气: emissions to air (CO₂ among them, as Gansu lists it).
    Air,
    /// 水: discharges to water (heavy metals among them, as Gansu lists them).
    Water,
    /// Energy and water saved.
    Resource,
    /// Money saved or earned.
    Economy,
}

impl Medium {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Air => "大气",
            Self::Water => "水",
            Self::Resource => "资源能源",
            Self::Economy => "经济",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Air => "air",
            Self::Water => "water",
            Self::Resource => "resources",
            Self::Economy => "economy",
        }
    }
}

/// The unit an indicator's values are entered and totalled in. Each indicator has exactly one:
/// a value in another unit is refused rather than converted, so nothing is guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantityUnit {
    /// t/a: air and water pollutants, and water saved.
    TonnesPerYear,
    /// tCO2/a.
    TonnesCo2PerYear,
    /// kg/a: heavy metals.
    KilogramsPerYear,
    /// tce/a (吨标准煤): energy saved.
    TonnesCoalEquivalentPerYear,
    /// 万元/a: economic benefit.
    TenThousandYuanPerYear,
}

impl QuantityUnit {
    const ALL: [QuantityUnit; 5] = [
        Self::TonnesPerYear,
        Self::TonnesCo2PerYear,
        Self::KilogramsPerYear,
        Self::TonnesCoalEquivalentPerYear,
        Self::TenThousandYuanPerYear,
    ];

    /// The symbol stored with each value and shown in headers.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::TonnesPerYear => "t/a",
            Self::TonnesCo2PerYear => "tCO2/a",
            Self::KilogramsPerYear => "kg/a",
            Self::TonnesCoalEquivalentPerYear => "tce/a",
            Self::TenThousandYuanPerYear => "万元/a",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::TonnesPerYear => "吨/年",
            Self::TonnesCo2PerYear => "吨二氧化碳/年",
            Self::KilogramsPerYear => "千克/年",
            Self::TonnesCoalEquivalentPerYear => "吨标准煤/年",
            Self::TenThousandYuanPerYear => "万元/年",
        }
    }

    /// The ways people write this unit, compared after [`unit_key`].
    fn spellings(self) -> &'static [&'static str] {
        match self {
            Self::TonnesPerYear => &["t/a", "t/yr", "t/year", "吨/年", "t/年", "吨/a"],
            Self::TonnesCo2PerYear => &["tco2/a", "tco2/yr", "tco2/年", "吨二氧化碳/年", "tco2e/a"],
            Self::KilogramsPerYear => &["kg/a", "kg/yr", "kg/year", "千克/年", "公斤/年", "kg/年"],
            Self::TonnesCoalEquivalentPerYear => {
                &["tce/a", "tce/yr", "tce/年", "吨标准煤/年", "吨标煤/年"]
            }
            Self::TenThousandYuanPerYear => &["万元/a", "万元/年", "万元/yr"],
        }
    }

    /// The unit `text` names, however it is spelt ("吨/年", "t/a", "tCO₂/a"…).
    pub fn parse(text: &str) -> Option<Self> {
        let key = unit_key(text);
        Self::ALL
            .into_iter()
            .find(|unit| unit.spellings().iter().any(|s| unit_key(s) == key))
    }
}

/// A unit as compared: lower case, without spaces, with full-width slashes and subscript digits
/// made plain.
fn unit_key(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '／' => '/',
            '₂' => '2',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// What an option's effect is counted in: Gansu's ten indicators (重金属 split into five), and
/// energy, water and the economic benefit that audit reports state with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    So2,
    Nox,
    /// 烟（粉）尘.
    Dust,
    Co2,
    Vocs,
    Cod,
    /// 氨氮.
    AmmoniaNitrogen,
    TotalNitrogen,
    TotalPhosphorus,
    /// 重金属: lead.
    Pb,
    Hg,
    Cd,
    Cr,
    /// Arsenic, a metalloid the heavy-metal category counts with the metals.
    As,
    /// 节能量.
    Energy,
    /// 节水量.
    Water,
    /// 经济效益: 节能降耗的经济效益与削减污染物排放的经济效益的加和.
    EconomicBenefit,
}

impl Indicator {
    /// In the order of the Gansu plan, then energy, water and the economic benefit.
    pub const ALL: [Indicator; 17] = [
        Self::So2,
        Self::Nox,
        Self::Dust,
        Self::Co2,
        Self::Vocs,
        Self::Cod,
        Self::AmmoniaNitrogen,
        Self::TotalNitrogen,
        Self::TotalPhosphorus,
        Self::Pb,
        Self::Hg,
        Self::Cd,
        Self::Cr,
        Self::As,
        Self::Energy,
        Self::Water,
        Self::EconomicBenefit,
    ];

    /// The key the API, the forms and the stored values use.
    pub fn key(self) -> &'static str {
        match self {
            Self::So2 => "so2",
            Self::Nox => "nox",
            Self::Dust => "dust",
            Self::Co2 => "co2",
            Self::Vocs => "vocs",
            Self::Cod => "cod",
            Self::AmmoniaNitrogen => "ammonia_nitrogen",
            Self::TotalNitrogen => "total_nitrogen",
            Self::TotalPhosphorus => "total_phosphorus",
            Self::Pb => "pb",
            Self::Hg => "hg",
            Self::Cd => "cd",
            Self::Cr => "cr",
            Self::As => "as",
            Self::Energy => "energy",
            Self::Water => "water",
            Self::EconomicBenefit => "economic_benefit",
        }
    }

    /// The indicator of a key (case and surrounding spaces ignored).
    pub fn parse(key: &str) -> Option<Self> {
        let key = key.trim();
        Self::ALL
            .into_iter()
            .find(|indicator| indicator.key().eq_ignore_ascii_case(key))
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::So2 => "二氧化硫",
            Self::Nox => "氮氧化物",
            Self::Dust => "烟（粉）尘",
            Self::Co2 => "二氧化碳",
            Self::Vocs => "挥发性有机物",
            Self::Cod => "化学需氧量",
            Self::AmmoniaNitrogen => "氨氮",
            Self::TotalNitrogen => "总氮",
            Self::TotalPhosphorus => "总磷",
            Self::Pb => "重金属（铅）",
            Self::Hg => "重金属（汞）",
            Self::Cd => "重金属（镉）",
            Self::Cr => "重金属（铬）",
            Self::As => "重金属（砷）",
            Self::Energy => "节能量",
            Self::Water => "节水量",
            Self::EconomicBenefit => "经济效益",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::So2 => "SO2",
            Self::Nox => "NOx",
            Self::Dust => "Smoke and dust",
            Self::Co2 => "CO2",
            Self::Vocs => "VOCs",
            Self::Cod => "COD",
            Self::AmmoniaNitrogen => "Ammonia nitrogen",
            Self::TotalNitrogen => "Total nitrogen",
            Self::TotalPhosphorus => "Total phosphorus",
            Self::Pb => "Heavy metals (Pb)",
            Self::Hg => "Heavy metals (Hg)",
            Self::Cd => "Heavy metals (Cd)",
            Self::Cr => "Heavy metals (Cr)",
            Self::As => "Heavy metals (As)",
            Self::Energy => "Energy saved",
            Self::Water => "Water saved",
            Self::EconomicBenefit => "Economic benefit",
        }
    }

    pub fn unit(self) -> QuantityUnit {
        match self {
            Self::Co2 => QuantityUnit::TonnesCo2PerYear,
            Self::Pb | Self::Hg | Self::Cd | Self::Cr | Self::As => QuantityUnit::KilogramsPerYear,
            Self::Energy => QuantityUnit::TonnesCoalEquivalentPerYear,
            Self::EconomicBenefit => QuantityUnit::TenThousandYuanPerYear,
            _ => QuantityUnit::TonnesPerYear,
        }
    }

    pub fn medium(self) -> Medium {
        match self {
            Self::So2 | Self::Nox | Self::Dust | Self::Co2 | Self::Vocs => Medium::Air,
            Self::Energy | Self::Water => Medium::Resource,
            Self::EconomicBenefit => Medium::Economy,
            _ => Medium::Water,
        }
    }

    /// Whether a value may be below zero: an end-of-pipe option can raise CO₂, energy and water
    /// use and cost more to run than it saves. A pollutant's reduction may not.
    pub fn may_be_negative(self) -> bool {
        matches!(
            self,
            Self::Co2 | Self::Energy | Self::Water | Self::EconomicBenefit
        )
    }

    /// The rule parameter bounding the magnitude of this indicator's values.
    fn bound_parameter(self) -> &'static str {
        match self {
            Self::Co2 => MAX_CO2,
            Self::Pb | Self::Hg | Self::Cd | Self::Cr | Self::As => MAX_HEAVY_METAL,
            Self::Energy => MAX_ENERGY,
            Self::Water => MAX_WATER,
            Self::EconomicBenefit => MAX_BENEFIT,
            _ => MAX_POLLUTANT,
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// 无/低费 or 中/高费, as the audit report classes the option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostClass {
    NoLow,
    MediumHigh,
}

impl CostClass {
    pub const ALL: [CostClass; 2] = [Self::NoLow, Self::MediumHigh];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoLow => "no_low",
            Self::MediumHigh => "medium_high",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::NoLow => "无/低费",
            Self::MediumHigh => "中/高费",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::NoLow => "no/low-cost",
            Self::MediumHigh => "medium/high-cost",
        }
    }

    /// The class `text` names: its key, or its Chinese label with or without the slash.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL.into_iter().find(|class| {
            class.as_str().eq_ignore_ascii_case(text)
                || class.label_zh() == text
                || class.label_zh().replace('/', "") == text
                || class.label_en().eq_ignore_ascii_case(text)
        })
    }
}

/// Where an option stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionStatus {
    /// 已提出: generated and screened.
    Proposed,
    /// 已确定: chosen for implementation (feasible).
    Selected,
    /// 已实施, on a date.
    Implemented,
    /// 已放弃, with a reason.
    Dropped,
}

/// The allowed status changes, from → to. Implemented and dropped are final.
pub const STATUS_TRANSITIONS: [(OptionStatus, OptionStatus); 4] = [
    (OptionStatus::Proposed, OptionStatus::Selected),
    (OptionStatus::Selected, OptionStatus::Implemented),
    (OptionStatus::Proposed, OptionStatus::Dropped),
    (OptionStatus::Selected, OptionStatus::Dropped),
];

impl OptionStatus {
    pub const ALL: [OptionStatus; 4] = [
        Self::Proposed,
        Self::Selected,
        Self::Implemented,
        Self::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Selected => "selected",
            Self::Implemented => "implemented",
            Self::Dropped => "dropped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text))
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Proposed => "已提出",
            Self::Selected => "已确定实施",
            Self::Implemented => "已实施",
            Self::Dropped => "已放弃",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Selected => "selected",
            Self::Implemented => "implemented",
            Self::Dropped => "dropped",
        }
    }

    pub fn is_final(self) -> bool {
        self.next().is_empty()
    }

    /// The statuses this one may change to.
    pub fn next(self) -> Vec<OptionStatus> {
        STATUS_TRANSITIONS
            .iter()
            .filter(|(from, _)| *from == self)
            .map(|(_, to)| *to)
            .collect()
    }
}

/// The two stages at which an option's effects are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Claimed in the audit report and reviewed at assessment.
    Expected,
    /// Confirmed at acceptance from monitoring before and after implementation.
    Verified,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expected => "expected",
            Self::Verified => "verified",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Expected, Self::Verified]
            .into_iter()
            .find(|stage| stage.as_str() == text.trim())
    }

    /// As bulletins head the column.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Expected => "预期（评估）",
            Self::Verified => "已验证（验收）",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Expected => "Expected (assessment)",
            Self::Verified => "Verified (acceptance)",
        }
    }
}

pub const MAX_INVESTMENT: &str = "options.max_investment_10k_yuan";
pub const MAX_POLLUTANT: &str = "options.max_pollutant_t_per_year";
pub const MAX_CO2: &str = "options.max_co2_t_per_year";
pub const MAX_HEAVY_METAL: &str = "options.max_heavy_metal_kg_per_year";
pub const MAX_ENERGY: &str = "options.max_energy_tce_per_year";
pub const MAX_WATER: &str = "options.max_water_t_per_year";
pub const MAX_BENEFIT: &str = "options.max_benefit_10k_yuan_per_year";

/// The plausibility bounds in force on a day (`options.max_*`).
#[derive(Debug, Clone, PartialEq)]
pub struct OptionLimits {
    /// 万元.
    pub max_investment: f64,
    /// The largest magnitude of a value, by the parameter that bounds it.
    max_value: BTreeMap<&'static str, f64>,
}

impl OptionLimits {
    pub fn from_book(book: &RuleBook, date: NaiveDate) -> Result<Self, RuleError> {
        let bound = |id: &str| -> Result<f64, RuleError> {
            let (value, _) = crate::experts::non_negative_at(book, id, date)?;
            Ok(f64::from(value))
        };
        let mut max_value = BTreeMap::new();
        for id in [
            MAX_POLLUTANT,
            MAX_CO2,
            MAX_HEAVY_METAL,
            MAX_ENERGY,
            MAX_WATER,
            MAX_BENEFIT,
        ] {
            max_value.insert(id, bound(id)?);
        }
        Ok(Self {
            max_investment: bound(MAX_INVESTMENT)?,
            max_value,
        })
    }

    /// The largest magnitude a value of `indicator` may have.
    pub fn max_value(&self, indicator: Indicator) -> f64 {
        self.max_value
            .get(indicator.bound_parameter())
            .copied()
            .unwrap_or(f64::INFINITY)
    }
}

/// One value as it arrives: all text, so each mistake is reported by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueDraft {
    /// An [`Indicator`] key.
    pub indicator: String,
    pub quantity: String,
    /// Optional; when given it must be the indicator's unit, however spelt.
    pub unit: String,
    /// Expected values: how the value was estimated (required when negative). Verified values:
    /// the monitoring report or calculation it rests on (required).
    pub basis: String,
}

/// A checked value in its indicator's unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidValue {
    pub indicator: Indicator,
    pub quantity: f64,
    pub basis: String,
}

/// The field an indicator's value is reported under: `values.<key>`.
pub fn value_field(key: &str) -> String {
    format!("values.{}", key.trim())
}

fn error(
    field: &str,
    code: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> FieldError {
    FieldError::new(field, code, Message::new(zh, en))
}

/// A number as typed: plain decimal notation, finite.
fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    text.parse::<f64>().ok().filter(|n| plain && n.is_finite())
}

/// Checks the values of one stage: every problem of every value, by field.
pub fn check_values(
    stage: Stage,
    drafts: &[ValueDraft],
    limits: &OptionLimits,
) -> Result<Vec<ValidValue>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut values: Vec<ValidValue> = Vec::new();
    for draft in drafts {
        let Some(indicator) = Indicator::parse(&draft.indicator) else {
            errors.push(unknown_indicator(&draft.indicator));
            continue;
        };
        if values.iter().any(|v| v.indicator == indicator) {
            errors.push(error(
                &value_field(indicator.key()),
                "duplicate_indicator",
                format!("{}的数值重复录入", indicator.label_zh()),
                format!("{} is given twice", indicator.label_en()),
            ));
            continue;
        }
        match check_value(stage, indicator, draft, limits) {
            Ok(value) => values.push(value),
            Err(mut found) => errors.append(&mut found),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn unknown_indicator(given: &str) -> FieldError {
    let known: Vec<&str> = Indicator::ALL.iter().map(|i| i.key()).collect();
    let given = given.trim();
    error(
        &value_field(if given.is_empty() { "indicator" } else { given }),
        "unknown_indicator",
        format!("未知的指标“{given}”，应为 {}", known.join("、")),
        format!(
            "unknown indicator \"{given}\": expected one of {}",
            known.join(", ")
        ),
    )
}

fn check_value(
    stage: Stage,
    indicator: Indicator,
    draft: &ValueDraft,
    limits: &OptionLimits,
) -> Result<ValidValue, Vec<FieldError>> {
    let field = value_field(indicator.key());
    let (zh, en) = (indicator.label_zh(), indicator.label_en());
    let unit = indicator.unit();
    let mut errors = Vec::new();
    let given_unit = draft.unit.trim();
    if !given_unit.is_empty() && QuantityUnit::parse(given_unit) != Some(unit) {
        errors.push(error(
            &format!("{field}.unit"),
            "wrong_unit",
            format!(
                "{zh}的单位应为 {}（{}），不是“{given_unit}”",
                unit.symbol(),
                unit.label_zh()
            ),
            format!("{en} is entered in {}, not \"{given_unit}\"", unit.symbol()),
        ));
    }
    let basis = draft.basis.trim().to_string();
    if basis.chars().count() > MAX_NOTE_CHARS {
        errors.push(error(
            &format!("{field}.basis"),
            "too_long",
            format!("{zh}的说明不能超过 {MAX_NOTE_CHARS} 个字符"),
            format!("the note on {en} must be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if stage == Stage::Verified && basis.is_empty() {
        errors.push(error(
            &format!("{field}.basis"),
            "basis_required",
            format!("{zh}的验证值须注明依据（如监测报告编号或名称）"),
            format!("a verified value of {en} needs its basis (e.g. the monitoring report)"),
        ));
    }
    let quantity = parse_number(&draft.quantity);
    match quantity {
        None if draft.quantity.trim().is_empty() => errors.push(error(
            &field,
            "required",
            format!("请填写{zh}的数值"),
            format!("a quantity of {en} is required"),
        )),
        None => errors.push(error(
            &field,
            "not_a_number",
            format!("{zh}的数值“{}”不是有效数字", draft.quantity.trim()),
            format!("the quantity of {en} \"{}\" is not a number", draft.quantity.trim()),
        )),
        Some(q) if q < 0.0 && !indicator.may_be_negative() => errors.push(error(
            &field,
            "negative",
            format!("{zh}的削减量不能为负数"),
            format!("a reduction of {en} cannot be negative"),
        )),
        Some(q) if q < 0.0 && basis.is_empty() => errors.push(error(
            &format!("{field}.basis"),
            "negative_needs_note",
            format!("{zh}为负值（如末端治理增加能耗）时须说明原因"),
            format!("a negative {en} (e.g. an end-of-pipe option using more power) needs a note saying why"),
        )),
        Some(q) if q.abs() > limits.max_value(indicator) => errors.push(error(
            &field,
            "implausible",
            format!(
                "{zh} {q} {} 超出合理范围（绝对值不超过 {}），请核对单位",
                unit.symbol(),
                limits.max_value(indicator)
            ),
            format!(
                "{en} {q} {} is implausible (at most {} either way); check the unit",
                unit.symbol(),
                limits.max_value(indicator)
            ),
        )),
        Some(_) => {}
    }
    match quantity {
        Some(quantity) if errors.is_empty() => Ok(ValidValue {
            indicator,
            quantity,
            basis,
        }),
        _ => Err(errors),
    }
}

/// An option as it arrives from a form, the API or an import row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionDraft {
    pub code: String,
    pub name: String,
    /// no_low | medium_high (or 无/低费, 中/高费).
    pub cost_class: String,
    pub description: String,
    /// 万元.
    pub investment_10k_yuan: String,
    /// Expected values; verified ones are entered separately, at acceptance.
    pub expected: Vec<ValueDraft>,
}

/// A checked option, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidOption {
    pub code: String,
    pub name: String,
    pub cost_class: CostClass,
    pub description: String,
    pub investment_10k_yuan: f64,
    pub expected: Vec<ValidValue>,
}

impl OptionDraft {
    /// Checks every field and reports every problem. `other_codes` are the codes of the round's
    /// other options (not this one's, when it is being edited): a code is unique in its round,
    /// whatever its letter case.
    pub fn validate(
        &self,
        other_codes: &[String],
        limits: &OptionLimits,
    ) -> Result<ValidOption, Vec<FieldError>> {
        let mut errors = Vec::new();
        let code = text_field(
            &mut errors,
            "code",
            ("方案编号", "Code"),
            &self.code,
            MAX_CODE_CHARS,
            true,
        );
        if !code.is_empty()
            && other_codes
                .iter()
                .any(|c| c.trim().eq_ignore_ascii_case(&code))
        {
            errors.push(error(
                "code",
                "duplicate",
                format!("本轮已有编号为“{code}”的方案"),
                format!("the round already has an option coded \"{code}\""),
            ));
        }
        let name = text_field(
            &mut errors,
            "name",
            ("方案名称", "Name"),
            &self.name,
            MAX_NAME_CHARS,
            true,
        );
        let description = text_field(
            &mut errors,
            "description",
            ("方案简述", "Description"),
            &self.description,
            MAX_DESCRIPTION_CHARS,
            true,
        );
        let cost_class = CostClass::parse(&self.cost_class);
        if cost_class.is_none() {
            errors.push(error(
                "cost_class",
                "invalid_choice",
                "方案类别应为 no_low（无/低费）或 medium_high（中/高费）",
                "cost_class must be no_low or medium_high",
            ));
        }
        let investment = check_investment(&mut errors, &self.investment_10k_yuan, limits);
        let expected = check_values(Stage::Expected, &self.expected, limits)
            .map_err(|mut found| errors.append(&mut found))
            .ok();
        match (cost_class, investment, expected) {
            (Some(cost_class), Some(investment_10k_yuan), Some(expected)) if errors.is_empty() => {
                Ok(ValidOption {
                    code,
                    name,
                    cost_class,
                    description,
                    investment_10k_yuan,
                    expected,
                })
            }
            _ => Err(errors),
        }
    }
}

fn text_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    (zh, en): (&str, &str),
    value: &str,
    max_chars: usize,
    required: bool,
) -> String {
    let value = value.trim();
    let length = value.chars().count();
    if required && value.is_empty() {
        errors.push(error(
            field,
            "required",
            format!("{zh}不能为空"),
            format!("{en} is required"),
        ));
    } else if length > max_chars {
        errors.push(error(
            field,
            "too_long",
            format!("{zh}过长：{length} 个字符，最多 {max_chars} 个"),
            format!("{en} is too long: {length} characters, at most {max_chars}"),
        ));
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        errors.push(error(
            field,
            "control_character",
            format!("{zh}含有不可见的控制字符"),
            format!("{en} contains a control character"),
        ));
    }
    value.to_string()
}

fn check_investment(
    errors: &mut Vec<FieldError>,
    text: &str,
    limits: &OptionLimits,
) -> Option<f64> {
    let field = "investment_10k_yuan";
    let Some(investment) = parse_number(text) else {
        errors.push(if text.trim().is_empty() {
            error(
                field,
                "required",
                "请填写投资额（万元）",
                "the investment (10k yuan) is required",
            )
        } else {
            error(
                field,
                "not_a_number",
                format!("投资额“{}”不是有效数字", text.trim()),
                format!("the investment \"{}\" is not a number", text.trim()),
            )
        });
        return None;
    };
    if investment < 0.0 {
        errors.push(error(
            field,
            "negative",
            "投资额不能为负数",
            "the investment cannot be negative",
        ));
        return None;
    }
    if investment > limits.max_investment {
        errors.push(error(
            field,
            "implausible",
            format!(
                "投资额 {investment} 万元超出合理范围（不超过 {} 万元），请核对单位是否为万元",
                limits.max_investment
            ),
            format!(
                "an investment of {investment} (10k yuan) is implausible (at most {}); is it in 10k yuan?",
                limits.max_investment
            ),
        ));
        return None;
    }
    Some(investment)
}

/// A status change as it arrives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDraft {
    /// The new status.
    pub status: String,
    /// Required to drop an option; kept as the status note otherwise.
    pub reason: String,
    /// YYYY-MM-DD; required to mark an option implemented.
    pub implemented_on: String,
}

/// A checked status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub from: OptionStatus,
    pub to: OptionStatus,
    pub note: String,
    pub implemented_on: Option<NaiveDate>,
}

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRefusal {
    /// The change is not in [`STATUS_TRANSITIONS`].
    NotAllowed {
        from: OptionStatus,
        to: OptionStatus,
    },
    /// Bad input, by field.
    Invalid(Vec<FieldError>),
}

impl StatusRefusal {
    pub fn message(&self) -> Message {
        match self {
            Self::NotAllowed { from, to } => {
                let next = from.next();
                Message::new(
                    format!(
                        "方案当前为“{}”，不能改为“{}”{}",
                        from.label_zh(),
                        to.label_zh(),
                        if next.is_empty() {
                            "（已是最终状态）".to_string()
                        } else {
                            format!(
                                "，只能改为：{}",
                                next.iter()
                                    .map(|s| s.label_zh())
                                    .collect::<Vec<_>>()
                                    .join("、")
                            )
                        }
                    ),
                    format!(
                        "an option that is {} cannot become {}{}",
                        from.label_en(),
                        to.label_en(),
                        if next.is_empty() {
                            " (its status is final)".to_string()
                        } else {
                            format!(
                                "; it can become {}",
                                next.iter()
                                    .map(|s| s.label_en())
                                    .collect::<Vec<_>>()
                                    .join(" or ")
                            )
                        }
                    ),
                )
            }
            Self::Invalid(errors) => errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| Message::new("输入无效", "invalid input")),
        }
    }
}

/// Checks a change of an option now `from` to what `draft` asks, on `today`: the change must
/// be in the table, a drop needs a reason, an implementation a date that is not in the future.
pub fn check_status_change(
    from: OptionStatus,
    draft: &StatusDraft,
    today: NaiveDate,
) -> Result<StatusChange, StatusRefusal> {
    let Some(to) = OptionStatus::parse(&draft.status) else {
        return Err(StatusRefusal::Invalid(vec![error(
            "status",
            "invalid_choice",
            "状态应为 selected（确定实施）、implemented（已实施）或 dropped（放弃）",
            "status must be selected, implemented or dropped",
        )]));
    };
    if !STATUS_TRANSITIONS.contains(&(from, to)) {
        return Err(StatusRefusal::NotAllowed { from, to });
    }
    let mut errors = Vec::new();
    let note = text_field(
        &mut errors,
        "reason",
        ("理由", "Reason"),
        &draft.reason,
        MAX_NOTE_CHARS,
        to == OptionStatus::Dropped,
    );
    let implemented_on = if to == OptionStatus::Implemented {
        implementation_date(&mut errors, &draft.implemented_on, today)
    } else {
        // Only an implementation keeps a date, but one typed that does not read is still
        // refused rather than dropped unseen.
        let text = draft.implemented_on.trim();
        if !text.is_empty() && NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() {
            errors.push(invalid_implementation_date());
        }
        None
    };
    if errors.is_empty() {
        Ok(StatusChange {
            from,
            to,
            note,
            implemented_on,
        })
    } else {
        Err(StatusRefusal::Invalid(errors))
    }
}

fn implementation_date(
    errors: &mut Vec<FieldError>,
    text: &str,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let field = "implemented_on";
    let text = text.trim();
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) if date > today => {
            errors.push(error(
                field,
                "in_future",
                format!("实施日期 {date} 晚于今天"),
                format!("the implementation date {date} is after today"),
            ));
            None
        }
        Ok(date) => Some(date),
        Err(_) if text.is_empty() => {
            errors.push(error(
                field,
                "required",
                "请填写实施日期",
                "the implementation date is required",
            ));
            None
        }
        Err(_) => {
            errors.push(invalid_implementation_date());
            None
        }
    }
}

fn invalid_implementation_date() -> FieldError {
    error(
        "implemented_on",
        "invalid_date",
        "实施日期应为 YYYY-MM-DD 格式的有效日期",
        "implemented_on must be a valid date written YYYY-MM-DD",
    )
}

/// What a caller does to a round's options; each has its own people and its own window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionWork {
    /// Add, edit or delete options and set their expected values: the report's content.
    Edit,
    /// Select, implement or drop an option.
    ChangeStatus,
    /// Enter verified values at acceptance.
    EnterVerified,
}

/// Why a caller may not do some [`OptionWork`] now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkRefusal {
    /// The caller is none of the actors who may.
    NotYours {
        work: OptionWork,
        allowed: Vec<RoundActor>,
    },
    /// Not in the round's present state.
    Locked { work: OptionWork, state: RoundState },
}

const FILERS: [RoundActor; 2] = [RoundActor::Enterprise, RoundActor::Consultancy];

impl WorkRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotYours { .. } => "not_your_option_work",
            Self::Locked { .. } => "options_locked",
        }
    }

    pub fn message(&self) -> Message {
        match self {
            Self::NotYours { allowed, .. } => Message::new(
                format!(
                    "只有{}可以执行此操作",
                    allowed
                        .iter()
                        .map(|a| a.label_zh())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                format!(
                    "only the {} may do this",
                    allowed
                        .iter()
                        .map(|a| a.label_en())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ),
            Self::Locked { work, state } => locked_message(*work, *state),
        }
    }
}

fn locked_message(work: OptionWork, state: RoundState) -> Message {
    let (zh, en) = match work {
        OptionWork::Edit => (
            "报送审核报告后，方案及其预期效益即锁定（评估要求整改期间除外）",
            "options and their expected values are locked once the report is submitted, except while rectifying after assessment",
        ),
        OptionWork::ChangeStatus => (
            "本轮已验收、结束或撤销，方案状态不能再改",
            "the round is accepted, closed or cancelled: option statuses can no longer change",
        ),
        OptionWork::EnterVerified if verified_locked_after(state) => (
            "本轮已验收、结束或撤销，验证值已锁定",
            "the round is accepted, closed or cancelled: verified values are locked",
        ),
        OptionWork::EnterVerified => (
            "验证值在评估通过后（小微企业简化程序在合并评审时）录入",
            "verified values are entered once the assessment is passed (on the small/micro track, at the combined review)",
        ),
    };
    Message::new(
        format!("{zh}；本轮当前为“{}”", state.label_zh()),
        format!("{en}; the round is now: {}", state.label_en()),
    )
}

fn verified_locked_after(state: RoundState) -> bool {
    matches!(
        state,
        RoundState::Accepted | RoundState::Closed | RoundState::Cancelled
    )
}

/// Who may do `work`, and in which states of a round on `track`:
///
/// - the report's content (options and expected values) is the filers' (the enterprise and its
///   engaged consultancy) until the report is submitted, and again while rectifying;
/// - statuses are the filers' while the round is open and not yet accepted;
/// - verified values are the filers' from the passed assessment until acceptance, and the
///   review organizer's at acceptance; on the small/micro track both enter them at the combined
///   review.
pub fn work_rule(work: OptionWork, track: Track) -> (Vec<RoundActor>, Vec<RoundState>) {
    use RoundState as S;
    let filers = FILERS.to_vec();
    match (work, track) {
        (OptionWork::Edit, _) => (
            filers,
            vec![S::Listed, S::Disclosed, S::Started, S::Rectifying],
        ),
        (OptionWork::ChangeStatus, _) => (
            filers,
            S::ALL
                .into_iter()
                .filter(|s| !s.is_final() && *s != S::Accepted)
                .collect(),
        ),
        (OptionWork::EnterVerified, Track::Standard) => (
            vec![
                RoundActor::Enterprise,
                RoundActor::Consultancy,
                RoundActor::Organizer,
            ],
            vec![S::Assessed, S::AcceptanceApplied, S::AcceptanceScheduled],
        ),
        (OptionWork::EnterVerified, Track::SmallMicro) => (
            vec![
                RoundActor::Enterprise,
                RoundActor::Consultancy,
                RoundActor::Organizer,
            ],
            vec![S::AssessmentScheduled],
        ),
    }
}

/// Whether callers who are `actors` may do `work` on a round now in `state` on `track`. The
/// organizer enters verified values only at acceptance itself (not while the enterprise is
/// still implementing, in `assessed`).
pub fn check_work(
    work: OptionWork,
    state: RoundState,
    track: Track,
    actors: &[RoundActor],
) -> Result<(), WorkRefusal> {
    let (allowed, states) = work_rule(work, track);
    let acting: Vec<RoundActor> = actors
        .iter()
        .copied()
        .filter(|actor| allowed.contains(actor))
        .filter(|actor| !(*actor == RoundActor::Organizer && state == RoundState::Assessed))
        .collect();
    if acting.is_empty() && !actors.iter().any(|a| allowed.contains(a)) {
        return Err(WorkRefusal::NotYours { work, allowed });
    }
    if acting.is_empty() || !states.contains(&state) {
        return Err(WorkRefusal::Locked { work, state });
    }
    Ok(())
}

/// An option's figures as totals read them.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionFigures {
    pub cost_class: CostClass,
    pub status: OptionStatus,
    pub investment_10k_yuan: f64,
    pub values: Vec<(Stage, Indicator, f64)>,
}

/// Sums per indicator of one stage.
pub type IndicatorTotals = BTreeMap<Indicator, f64>;

/// The totals of one cost class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClassTotals {
    /// Options not dropped.
    pub options: usize,
    /// Investment of the options not dropped, 万元.
    pub investment_10k_yuan: f64,
    pub expected: IndicatorTotals,
    pub verified: IndicatorTotals,
}

/// A round's totals: per indicator and stage, and per cost class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub expected: IndicatorTotals,
    pub verified: IndicatorTotals,
    pub investment_10k_yuan: f64,
    pub no_low: ClassTotals,
    pub medium_high: ClassTotals,
}

/// Sums the options' values, each stage apart: expected values of options not dropped, verified
/// values of implemented options only (an option is verified once it is implemented). Dropped
/// options count nowhere, not even their investment.
pub fn totals(options: &[OptionFigures]) -> Totals {
    let mut totals = Totals::default();
    for option in options.iter().filter(|o| o.status != OptionStatus::Dropped) {
        let class = match option.cost_class {
            CostClass::NoLow => &mut totals.no_low,
            CostClass::MediumHigh => &mut totals.medium_high,
        };
        class.options += 1;
        class.investment_10k_yuan += option.investment_10k_yuan;
        totals.investment_10k_yuan += option.investment_10k_yuan;
        for (stage, indicator, quantity) in &option.values {
            let (overall, by_class) = match stage {
                Stage::Expected => (&mut totals.expected, &mut class.expected),
                Stage::Verified if option.status == OptionStatus::Implemented => {
                    (&mut totals.verified, &mut class.verified)
                }
                Stage::Verified => continue,
            };
            *overall.entry(*indicator).or_default() += quantity;
            *by_class.entry(*indicator).or_default() += quantity;
        }
    }
    totals
}

/// What the acceptance guard reads: how many options there are, and how many medium/high-cost
/// options are neither implemented nor dropped.
pub fn summary(options: &[(CostClass, OptionStatus)]) -> (usize, usize) {
    let open = options
        .iter()
        .filter(|(class, status)| *class == CostClass::MediumHigh && !status.is_final())
        .count();
    (options.len(), open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn limits() -> OptionLimits {
        OptionLimits::from_book(&RuleBook::embedded(), day(2027, 1, 15)).unwrap()
    }

    fn value(indicator: &str, quantity: &str) -> ValueDraft {
        ValueDraft {
            indicator: indicator.into(),
            quantity: quantity.into(),
            ..ValueDraft::default()
        }
    }

    fn draft() -> OptionDraft {
        OptionDraft {
            code: "F1".into(),
            name: "脱硫系统改造".into(),
            cost_class: "medium_high".into(),
            description: "石灰石-石膏湿法脱硫增效改造".into(),
            investment_10k_yuan: "850".into(),
            expected: vec![
                value("so2", "120.5"),
                ValueDraft {
                    basis: "增压风机增加电耗".into(),
                    ..value("energy", "-30")
                },
            ],
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
    }

    #[test]
    fn the_ten_indicators_of_gansu_with_heavy_metals_split_into_five() {
        let pollutants: Vec<&str> = Indicator::ALL
            .iter()
            .filter(|i| !matches!(i.medium(), Medium::Resource | Medium::Economy))
            .map(|i| i.label_zh())
            .collect();
        assert_eq!(pollutants.len(), 14);
        assert_eq!(
            &pollutants[..5],
            [
                "二氧化硫",
                "氮氧化物",
                "烟（粉）尘",
                "二氧化碳",
                "挥发性有机物"
            ]
        );
        assert!(pollutants[9..]
            .iter()
            .all(|label| label.starts_with("重金属")));
        assert_eq!(Indicator::So2.unit().symbol(), "t/a");
        assert_eq!(Indicator::Co2.unit().symbol(), "tCO2/a");
        assert_eq!(Indicator::Hg.unit().symbol(), "kg/a");
        assert_eq!(Indicator::Energy.unit().symbol(), "tce/a");
        assert_eq!(Indicator::Water.unit().symbol(), "t/a");
        assert_eq!(Indicator::EconomicBenefit.unit().symbol(), "万元/a");
        assert_eq!(Indicator::Co2.medium(), Medium::Air);
        assert_eq!(Indicator::As.medium(), Medium::Water);
        for indicator in Indicator::ALL {
            assert_eq!(Indicator::parse(indicator.key()), Some(indicator));
            assert_eq!(name_of(&indicator), indicator.key(), "serde and key agree");
        }
        assert_eq!(Indicator::parse(" SO2 "), Some(Indicator::So2));
        assert_eq!(Indicator::parse("heavy_metals"), None);
    }

    fn name_of<T: Serialize>(value: &T) -> String {
        crate::evidence::name_of(value)
    }

    #[test]
    fn units_are_recognised_however_they_are_written() {
        assert_eq!(
            QuantityUnit::parse("吨/年"),
            Some(QuantityUnit::TonnesPerYear)
        );
        assert_eq!(
            QuantityUnit::parse(" T / A "),
            Some(QuantityUnit::TonnesPerYear)
        );
        assert_eq!(
            QuantityUnit::parse("tCO₂/a"),
            Some(QuantityUnit::TonnesCo2PerYear)
        );
        assert_eq!(
            QuantityUnit::parse("公斤/年"),
            Some(QuantityUnit::KilogramsPerYear)
        );
        assert_eq!(
            QuantityUnit::parse("吨标煤/年"),
            Some(QuantityUnit::TonnesCoalEquivalentPerYear)
        );
        assert_eq!(
            QuantityUnit::parse("万元／年"),
            Some(QuantityUnit::TenThousandYuanPerYear)
        );
        assert_eq!(QuantityUnit::parse("mg/L"), None);
    }

    #[test]
    fn a_complete_option_is_valid_with_its_expected_values_in_their_units() {
        let option = draft().validate(&[], &limits()).unwrap();
        assert_eq!(option.cost_class, CostClass::MediumHigh);
        assert_eq!(option.investment_10k_yuan, 850.0);
        assert_eq!(option.expected.len(), 2);
        assert_eq!(option.expected[0].indicator, Indicator::So2);
        assert_eq!(option.expected[0].quantity, 120.5);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = OptionDraft {
            code: " ".into(),
            name: String::new(),
            cost_class: "cheap".into(),
            description: String::new(),
            investment_10k_yuan: "-5".into(),
            expected: vec![value("radon", "1"), value("cod", "abc"), value("nox", "")],
        };
        assert_eq!(
            codes(&bad.validate(&[], &limits()).unwrap_err()),
            [
                ("code", "required"),
                ("name", "required"),
                ("description", "required"),
                ("cost_class", "invalid_choice"),
                ("investment_10k_yuan", "negative"),
                ("values.radon", "unknown_indicator"),
                ("values.cod", "not_a_number"),
                ("values.nox", "required"),
            ]
        );
    }

    #[test]
    fn a_code_is_unique_in_its_round_whatever_its_case() {
        let errors = draft()
            .validate(&["f1".to_string(), "F2".to_string()], &limits())
            .unwrap_err();
        assert_eq!(codes(&errors), [("code", "duplicate")]);
        assert!(errors[0].message.zh.contains("F1"));
    }

    #[test]
    fn a_value_in_another_unit_is_refused_not_converted() {
        let mut option = draft();
        option.expected = vec![ValueDraft {
            unit: "kg/a".into(),
            ..value("so2", "120")
        }];
        let errors = option.validate(&[], &limits()).unwrap_err();
        assert_eq!(codes(&errors), [("values.so2.unit", "wrong_unit")]);
        assert!(errors[0].message.zh.contains("t/a"));
        option.expected[0].unit = "吨/年".into();
        assert!(option.validate(&[], &limits()).is_ok());
    }

    #[test]
    fn a_pollutant_reduction_is_never_negative() {
        let mut option = draft();
        option.expected = vec![ValueDraft {
            basis: "SCR 氨逃逸".into(),
            ..value("ammonia_nitrogen", "-0.5")
        }];
        assert_eq!(
            codes(&option.validate(&[], &limits()).unwrap_err()),
            [("values.ammonia_nitrogen", "negative")]
        );
    }

    #[test]
    fn co2_energy_water_and_benefit_may_be_negative_with_a_note_saying_why() {
        for indicator in ["co2", "energy", "water", "economic_benefit"] {
            let mut option = draft();
            option.expected = vec![value(indicator, "-12")];
            assert_eq!(
                codes(&option.validate(&[], &limits()).unwrap_err()),
                [(
                    format!("values.{indicator}.basis").as_str(),
                    "negative_needs_note"
                )]
            );
            option.expected[0].basis = "末端治理设施运行增加电耗".into();
            assert!(option.validate(&[], &limits()).is_ok(), "{indicator}");
        }
    }

    #[test]
    fn implausible_amounts_are_refused_by_the_rule_books_bounds() {
        let limits = limits();
        assert_eq!(limits.max_investment, 1_000_000.0);
        let mut option = draft();
        option.investment_10k_yuan = "8500000".into();
        option.expected = vec![value("hg", "200000")];
        let errors = option.validate(&[], &limits).unwrap_err();
        assert_eq!(
            codes(&errors),
            [
                ("investment_10k_yuan", "implausible"),
                ("values.hg", "implausible")
            ]
        );
        assert!(errors[0].message.zh.contains("万元"));
        // The bound is on the magnitude: a negative value is bounded too.
        option.investment_10k_yuan = "0".into();
        option.expected = vec![ValueDraft {
            basis: "x".into(),
            ..value("co2", "-999999999")
        }];
        assert_eq!(
            codes(&option.validate(&[], &limits).unwrap_err()),
            [("values.co2", "implausible")]
        );
    }

    #[test]
    fn numbers_are_plain_decimals() {
        for text in ["NaN", "inf", "1,5", "１２", "0x10", "12t"] {
            let mut option = draft();
            option.expected = vec![value("so2", text)];
            assert_eq!(
                codes(&option.validate(&[], &limits()).unwrap_err()),
                [("values.so2", "not_a_number")],
                "{text}"
            );
        }
        assert_eq!(parse_number(" 1.5e2 "), Some(150.0));
    }

    #[test]
    fn an_indicator_is_given_once_per_stage() {
        let values = [value("so2", "1"), value("SO2", "2")];
        let errors = check_values(Stage::Expected, &values, &limits()).unwrap_err();
        assert_eq!(codes(&errors), [("values.so2", "duplicate_indicator")]);
    }

    #[test]
    fn a_verified_value_names_its_basis() {
        let errors = check_values(Stage::Verified, &[value("cod", "3.2")], &limits()).unwrap_err();
        assert_eq!(codes(&errors), [("values.cod.basis", "basis_required")]);
        let with_report = ValueDraft {
            basis: "甘环监字〔2027〕第15号监测报告".into(),
            ..value("cod", "3.2")
        };
        assert_eq!(
            check_values(Stage::Verified, &[with_report], &limits()).unwrap()[0].basis,
            "甘环监字〔2027〕第15号监测报告"
        );
    }

    #[test]
    fn the_status_table_runs_proposed_selected_implemented_and_any_open_option_may_be_dropped() {
        use OptionStatus::*;
        assert_eq!(Proposed.next(), [Selected, Dropped]);
        assert_eq!(Selected.next(), [Implemented, Dropped]);
        assert!(Implemented.is_final() && Dropped.is_final());
        let today = day(2027, 1, 15);
        let to = |status: &str| StatusDraft {
            status: status.into(),
            ..StatusDraft::default()
        };
        assert_eq!(
            check_status_change(Proposed, &to("implemented"), today),
            Err(StatusRefusal::NotAllowed {
                from: Proposed,
                to: Implemented
            })
        );
        assert!(check_status_change(Proposed, &to("selected"), today).is_ok());
        let refusal = check_status_change(Implemented, &to("dropped"), today).unwrap_err();
        assert!(refusal.message().zh.contains("最终状态"));
    }

    #[test]
    fn dropping_needs_a_reason_and_implementing_a_date_not_in_the_future() {
        let today = day(2027, 1, 15);
        let invalid = |from, draft: StatusDraft| match check_status_change(from, &draft, today) {
            Err(StatusRefusal::Invalid(errors)) => codes(&errors)
                .into_iter()
                .map(|(f, c)| format!("{f}:{c}"))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let drop = StatusDraft {
            status: "dropped".into(),
            ..StatusDraft::default()
        };
        assert_eq!(
            invalid(OptionStatus::Selected, drop.clone()),
            ["reason:required"]
        );
        let implement = |on: &str| StatusDraft {
            status: "implemented".into(),
            implemented_on: on.into(),
            ..StatusDraft::default()
        };
        assert_eq!(
            invalid(OptionStatus::Selected, implement("")),
            ["implemented_on:required"]
        );
        assert_eq!(
            invalid(OptionStatus::Selected, implement("2027-01-16")),
            ["implemented_on:in_future"]
        );
        assert_eq!(
            invalid(OptionStatus::Selected, implement("15/01/2027")),
            ["implemented_on:invalid_date"]
        );
        // A date that does not read is refused whatever the new status.
        let select_dated = StatusDraft {
            status: "selected".into(),
            implemented_on: "2027-02-30".into(),
            ..StatusDraft::default()
        };
        assert_eq!(
            invalid(OptionStatus::Proposed, select_dated),
            ["implemented_on:invalid_date"]
        );
        let done =
            check_status_change(OptionStatus::Selected, &implement("2027-01-15"), today).unwrap();
        assert_eq!(done.implemented_on, Some(today));
        let dropped = check_status_change(
            OptionStatus::Proposed,
            &StatusDraft {
                reason: "投资回收期过长".into(),
                ..drop
            },
            today,
        )
        .unwrap();
        assert_eq!(dropped.note, "投资回收期过长");
    }

    #[test]
    fn expected_values_are_locked_once_the_report_is_submitted_except_while_rectifying() {
        use RoundState as S;
        let filer = [RoundActor::Enterprise];
        for state in [S::Listed, S::Disclosed, S::Started, S::Rectifying] {
            assert!(
                check_work(OptionWork::Edit, state, Track::Standard, &filer).is_ok(),
                "{state}"
            );
        }
        for state in [
            S::ReportSubmitted,
            S::AssessmentScheduled,
            S::Assessed,
            S::Accepted,
        ] {
            assert!(matches!(
                check_work(OptionWork::Edit, state, Track::Standard, &filer),
                Err(WorkRefusal::Locked { .. })
            ));
        }
        let officials = [RoundActor::City, RoundActor::Organizer];
        assert!(matches!(
            check_work(OptionWork::Edit, S::Started, Track::Standard, &officials),
            Err(WorkRefusal::NotYours { .. })
        ));
    }

    #[test]
    fn verified_values_come_after_the_passed_assessment_and_lock_at_acceptance() {
        use RoundState as S;
        let consultancy = [RoundActor::Consultancy];
        let verify = |state, track, actors: &[RoundActor]| {
            check_work(OptionWork::EnterVerified, state, track, actors)
        };
        let before = verify(S::Started, Track::Standard, &consultancy).unwrap_err();
        assert!(before.message().zh.contains("评估通过后"));
        for state in [S::Assessed, S::AcceptanceApplied, S::AcceptanceScheduled] {
            assert!(
                verify(state, Track::Standard, &consultancy).is_ok(),
                "{state}"
            );
        }
        let after = verify(S::Accepted, Track::Standard, &consultancy).unwrap_err();
        assert!(after.message().zh.contains("已锁定"));
        // The small/micro track verifies at its combined review.
        assert!(verify(S::AssessmentScheduled, Track::SmallMicro, &consultancy).is_ok());
        assert!(verify(S::AssessmentScheduled, Track::Standard, &consultancy).is_err());
        // The organizer enters them at acceptance, not while the options are being implemented.
        let organizer = [RoundActor::City, RoundActor::Organizer];
        assert!(verify(S::AcceptanceScheduled, Track::Standard, &organizer).is_ok());
        assert!(matches!(
            verify(S::Assessed, Track::Standard, &organizer),
            Err(WorkRefusal::Locked { .. })
        ));
        assert!(matches!(
            verify(S::AcceptanceScheduled, Track::Standard, &[RoundActor::City]),
            Err(WorkRefusal::NotYours { .. })
        ));
    }

    #[test]
    fn statuses_change_until_the_round_is_accepted() {
        use RoundState as S;
        let filer = [RoundActor::Enterprise];
        for state in [
            S::Started,
            S::AssessmentScheduled,
            S::Assessed,
            S::AcceptanceScheduled,
        ] {
            assert!(check_work(OptionWork::ChangeStatus, state, Track::Standard, &filer).is_ok());
        }
        for state in [S::Accepted, S::Closed, S::Cancelled] {
            assert!(check_work(OptionWork::ChangeStatus, state, Track::Standard, &filer).is_err());
        }
    }

    fn figures(
        class: CostClass,
        status: OptionStatus,
        values: &[(Stage, Indicator, f64)],
    ) -> OptionFigures {
        OptionFigures {
            cost_class: class,
            status,
            investment_10k_yuan: 10.0,
            values: values.to_vec(),
        }
    }

    #[test]
    fn an_expected_value_is_never_added_to_verified_totals() {
        use Indicator::*;
        use Stage::*;
        let options = [
            figures(
                CostClass::MediumHigh,
                OptionStatus::Implemented,
                &[(Expected, So2, 100.0), (Verified, So2, 80.0)],
            ),
            figures(
                CostClass::MediumHigh,
                OptionStatus::Selected,
                &[(Expected, So2, 50.0)],
            ),
            figures(
                CostClass::NoLow,
                OptionStatus::Implemented,
                &[(Expected, Cod, 2.0), (Verified, Cod, 2.5)],
            ),
        ];
        let totals = totals(&options);
        assert_eq!(totals.expected[&So2], 150.0);
        assert_eq!(totals.verified[&So2], 80.0);
        assert_eq!(totals.verified[&Cod], 2.5);
        assert_eq!(totals.medium_high.expected[&So2], 150.0);
        assert_eq!(totals.medium_high.verified[&So2], 80.0);
        assert_eq!(totals.no_low.verified.get(&So2), None);
        assert_eq!(totals.medium_high.options, 2);
        assert_eq!(totals.investment_10k_yuan, 30.0);
    }

    #[test]
    fn a_dropped_option_counts_nowhere() {
        use Stage::*;
        let options = [
            figures(
                CostClass::MediumHigh,
                OptionStatus::Dropped,
                &[(Expected, Indicator::Nox, 40.0)],
            ),
            figures(
                CostClass::NoLow,
                OptionStatus::Proposed,
                &[(Verified, Indicator::Nox, 5.0)],
            ),
        ];
        let totals = totals(&options);
        assert!(totals.expected.is_empty());
        assert!(
            totals.verified.is_empty(),
            "only implemented options are verified"
        );
        assert_eq!(totals.medium_high.options, 0);
        assert_eq!(totals.investment_10k_yuan, 10.0);
    }

    #[test]
    fn the_acceptance_guard_counts_medium_high_options_neither_implemented_nor_dropped() {
        use CostClass::*;
        use OptionStatus::*;
        let options = [
            (MediumHigh, Proposed),
            (MediumHigh, Selected),
            (MediumHigh, Implemented),
            (MediumHigh, Dropped),
            (NoLow, Proposed),
        ];
        assert_eq!(summary(&options), (5, 2));
        assert_eq!(summary(&[]), (0, 0));
    }
}
