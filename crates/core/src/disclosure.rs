//! The information a listed enterprise discloses (信息公开, 办法 Art. 11), item by item.
//!
//! Which items are required depends on why the enterprise is listed: 双超 items for an
//! enterprise over a standard or a quota, 双有 items for one using or discharging toxic
//! substances, both when both apply (`disclosure.items.*` rule parameters). An item the
//! enterprise claims as a trade secret (商业秘密, 促进法 Art. 27(4)) needs a reason; it is then
//! withheld from the public pages with that reason shown, until the city rejects the claim.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::determination::Reason;
use crate::rules::{RuleBook, RuleError, RuleRef};

/// One item of the disclosure form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureItem {
    EnterpriseName,
    LegalRepresentative,
    Address,
    PollutantNames,
    DischargeMode,
    Concentrations,
    Totals,
    Exceedances,
    ApplicableStandards,
    ToxicMaterials,
    ToxicDischarges,
    HazardousWaste,
    RiskControls,
}

impl DisclosureItem {
    pub const ALL: [DisclosureItem; 13] = [
        Self::EnterpriseName,
        Self::LegalRepresentative,
        Self::Address,
        Self::PollutantNames,
        Self::DischargeMode,
        Self::Concentrations,
        Self::Totals,
        Self::Exceedances,
        Self::ApplicableStandards,
        Self::ToxicMaterials,
        Self::ToxicDischarges,
        Self::HazardousWaste,
        Self::RiskControls,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::EnterpriseName => "enterprise_name",
            Self::LegalRepresentative => "legal_representative",
            Self::Address => "address",
            Self::PollutantNames => "pollutant_names",
            Self::DischargeMode => "discharge_mode",
            Self::Concentrations => "concentrations",
            Self::Totals => "totals",
            Self::Exceedances => "exceedances",
            Self::ApplicableStandards => "applicable_standards",
            Self::ToxicMaterials => "toxic_materials",
            Self::ToxicDischarges => "toxic_discharges",
            Self::HazardousWaste => "hazardous_waste",
            Self::RiskControls => "risk_controls",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|item| item.key() == key)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::EnterpriseName => "企业名称",
            Self::LegalRepresentative => "法定代表人",
            Self::Address => "企业所在地址",
            Self::PollutantNames => "排放污染物名称",
            Self::DischargeMode => "排放方式",
            Self::Concentrations => "排放浓度",
            Self::Totals => "排放总量",
            Self::Exceedances => "超标、超总量情况",
            Self::ApplicableStandards => "执行的排放标准及总量限额",
            Self::ToxicMaterials => "使用有毒有害原料的名称、数量、用途",
            Self::ToxicDischarges => "排放有毒有害物质的名称、浓度和数量",
            Self::HazardousWaste => "危险废物的产生和处置情况",
            Self::RiskControls => "依法落实环境风险防控措施情况",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::EnterpriseName => "Enterprise name",
            Self::LegalRepresentative => "Legal representative",
            Self::Address => "Address",
            Self::PollutantNames => "Pollutants discharged",
            Self::DischargeMode => "Discharge mode",
            Self::Concentrations => "Discharge concentrations",
            Self::Totals => "Discharge totals",
            Self::Exceedances => "Exceedances of standards and quotas",
            Self::ApplicableStandards => "Applicable standards and total-load quotas",
            Self::ToxicMaterials => "Toxic raw materials: names, quantities, uses",
            Self::ToxicDischarges => "Toxic substances discharged: names, concentrations, amounts",
            Self::HazardousWaste => "Hazardous waste generated and disposed of",
            Self::RiskControls => "Environmental risk controls in place",
        }
    }

    /// Whether the item can be withheld as a trade secret. The enterprise's identity cannot:
    /// the public must know who is listed.
    pub fn may_be_secret(self) -> bool {
        !matches!(
            self,
            Self::EnterpriseName | Self::LegalRepresentative | Self::Address
        )
    }
}

/// The items required of an enterprise listed for `reasons`, in form order, with the rules
/// that required them.
pub fn required_items(
    book: &RuleBook,
    reasons: &BTreeSet<Reason>,
    date: NaiveDate,
) -> Result<(Vec<DisclosureItem>, Vec<RuleRef>), RuleError> {
    let mut ids = vec!["disclosure.items.common"];
    if reasons
        .iter()
        .any(|r| matches!(r, Reason::ExceedConcentration | Reason::ExceedTotalLoad))
    {
        ids.push("disclosure.items.double_exceed");
    }
    if reasons.contains(&Reason::DoubleToxic) {
        ids.push("disclosure.items.double_toxic");
    }
    let mut wanted = BTreeSet::new();
    let mut rules = Vec::new();
    for id in ids {
        let (keys, rule) = book.list_at(id, date)?;
        wanted.extend(keys.iter().filter_map(|k| DisclosureItem::parse(k)));
        rules.push(rule);
    }
    let items = DisclosureItem::ALL
        .into_iter()
        .filter(|item| wanted.contains(item))
        .collect();
    Ok((items, rules))
}

/// A trade-secret claim on one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretClaim {
    pub reason: String,
    /// The city rejected the claim: the item is published after all.
    pub rejected: bool,
}

/// What is wrong with a disclosure, item by item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisclosureProblem {
    pub item: String,
    pub message_zh: String,
    pub message_en: String,
}

const MAX_ITEM_CHARS: usize = 4000;

/// Checks the draft: every required item is filled, unless claimed as a secret with a reason
/// (and the claim stands); claims only on items that may be secret; no item too long.
pub fn check(
    required: &[DisclosureItem],
    values: &BTreeMap<DisclosureItem, String>,
    claims: &BTreeMap<DisclosureItem, SecretClaim>,
) -> Vec<DisclosureProblem> {
    let mut problems = Vec::new();
    let problem = |item: DisclosureItem, zh: String, en: String| DisclosureProblem {
        item: item.key().to_string(),
        message_zh: zh,
        message_en: en,
    };
    for item in required {
        let filled = values.get(item).is_some_and(|v| !v.trim().is_empty());
        let standing_claim = claims.get(item).filter(|c| !c.rejected);
        if !filled && standing_claim.is_none() {
            problems.push(problem(
                *item,
                format!("请填写“{}”", item.label_zh()),
                format!("fill in \"{}\"", item.label_en()),
            ));
        }
    }
    for (item, claim) in claims {
        if !item.may_be_secret() {
            problems.push(problem(
                *item,
                format!("“{}”不能作为商业秘密不予公开", item.label_zh()),
                format!(
                    "\"{}\" cannot be withheld as a trade secret",
                    item.label_en()
                ),
            ));
        } else if claim.reason.trim().is_empty() {
            problems.push(problem(
                *item,
                format!("“{}”作为商业秘密不予公开，须说明理由", item.label_zh()),
                format!(
                    "withholding \"{}\" as a trade secret needs a reason",
                    item.label_en()
                ),
            ));
        }
    }
    for (item, value) in values {
        if value.chars().count() > MAX_ITEM_CHARS {
            problems.push(problem(
                *item,
                format!("“{}”不能超过 {MAX_ITEM_CHARS} 字", item.label_zh()),
                format!(
                    "\"{}\" is longer than {MAX_ITEM_CHARS} characters",
                    item.label_en()
                ),
            ));
        }
    }
    problems
}

/// What the public sees of one item: its value, or why it is withheld.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "shown", rename_all = "snake_case")]
pub enum PublicItem {
    Value { text: String },
    Withheld { reason: String },
}

/// The public view of an item: withheld while a claim stands, shown otherwise.
pub fn public_item(value: Option<&str>, claim: Option<&SecretClaim>) -> PublicItem {
    match claim.filter(|c| !c.rejected) {
        Some(claim) => PublicItem::Withheld {
            reason: claim.reason.clone(),
        },
        None => PublicItem::Value {
            text: value.unwrap_or_default().to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
    }

    fn items_for(reasons: &[Reason]) -> Vec<DisclosureItem> {
        let reasons = reasons.iter().copied().collect();
        required_items(&RuleBook::embedded(), &reasons, day())
            .unwrap()
            .0
    }

    #[test]
    fn a_double_exceed_enterprise_discloses_pollutants_and_exceedances_not_toxics() {
        let items = items_for(&[Reason::ExceedConcentration]);
        assert!(items.contains(&DisclosureItem::Concentrations));
        assert!(items.contains(&DisclosureItem::Exceedances));
        assert!(!items.contains(&DisclosureItem::ToxicMaterials));
        assert!(items.contains(&DisclosureItem::EnterpriseName));
    }

    #[test]
    fn a_double_toxic_enterprise_discloses_toxics_waste_and_risk_controls() {
        let items = items_for(&[Reason::DoubleToxic]);
        assert!(items.contains(&DisclosureItem::ToxicMaterials));
        assert!(items.contains(&DisclosureItem::HazardousWaste));
        assert!(items.contains(&DisclosureItem::RiskControls));
        assert!(!items.contains(&DisclosureItem::Exceedances));
    }

    #[test]
    fn an_enterprise_listed_for_both_discloses_both_sets() {
        let both = items_for(&[Reason::ExceedTotalLoad, Reason::DoubleToxic]);
        for item in items_for(&[Reason::ExceedTotalLoad])
            .into_iter()
            .chain(items_for(&[Reason::DoubleToxic]))
        {
            assert!(both.contains(&item), "{item:?}");
        }
    }

    #[test]
    fn a_secret_claim_replaces_the_value_but_needs_a_reason() {
        let required = vec![
            DisclosureItem::EnterpriseName,
            DisclosureItem::ToxicMaterials,
        ];
        let values = BTreeMap::from([(DisclosureItem::EnterpriseName, "甲公司".to_string())]);
        let mut claims = BTreeMap::from([(
            DisclosureItem::ToxicMaterials,
            SecretClaim {
                reason: " ".into(),
                rejected: false,
            },
        )]);
        let problems = check(&required, &values, &claims);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message_zh.contains("须说明理由"));
        claims
            .get_mut(&DisclosureItem::ToxicMaterials)
            .unwrap()
            .reason = "原料配方属于核心工艺".into();
        assert!(check(&required, &values, &claims).is_empty());
    }

    #[test]
    fn a_rejected_claim_means_the_item_must_be_filled_and_is_shown() {
        let required = vec![DisclosureItem::ToxicMaterials];
        let claim = SecretClaim {
            reason: "核心工艺".into(),
            rejected: true,
        };
        let claims = BTreeMap::from([(DisclosureItem::ToxicMaterials, claim.clone())]);
        assert_eq!(check(&required, &BTreeMap::new(), &claims).len(), 1);
        assert_eq!(
            public_item(Some("苯 20 t/a"), Some(&claim)),
            PublicItem::Value {
                text: "苯 20 t/a".into()
            }
        );
    }

    #[test]
    fn the_identity_of_a_listed_enterprise_cannot_be_secret() {
        let claims = BTreeMap::from([(
            DisclosureItem::EnterpriseName,
            SecretClaim {
                reason: "不愿公开".into(),
                rejected: false,
            },
        )]);
        let problems = check(&[], &BTreeMap::new(), &claims);
        assert_eq!(problems[0].item, "enterprise_name");
    }
}
