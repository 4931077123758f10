//! Reference data: jurisdictions and industries, read from rule files.
//!
//! Nothing here is hard-wired to Gansu: a province ships `rules/<province>/jurisdictions.toml`
//! and `rules/<province>/industries.toml`, and [`ReferenceData::from_toml`] checks them. The Gansu
//! files are embedded as the default ([`ReferenceData::gansu`]) so that the binary runs with no
//! files on disk. Every file carries a version, an effective date and its citations, so that a
//! computed result can record which reference data it used.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::registry::{Catalog, Industry, Jurisdiction, JurisdictionLevel, KeyIndustry};

/// The Gansu jurisdictions file, embedded.
pub const GANSU_JURISDICTIONS_TOML: &str = include_str!("../../../rules/gansu/jurisdictions.toml");
/// The Gansu industries file, embedded.
pub const GANSU_INDUSTRIES_TOML: &str = include_str!("../../../rules/gansu/industries.toml");

/// Label of the jurisdictions file in errors and in [`RuleFile::name`].
pub const JURISDICTIONS: &str = "jurisdictions";
/// Label of the industries file in errors and in [`RuleFile::name`].
pub const INDUSTRIES: &str = "industries";

/// An industry whose assessment and acceptance the province organises for enterprises on its key
/// emission unit list (Gansu plan §三(五): 火电、钢铁、有色金属采选及冶炼、石油、化工、危废).
/// A separate set from the key industries: the two do not map one-to-one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceIndustry {
    /// Stable short id, e.g. "thermal_power"; a namespace of its own, apart from key industry ids.
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A legal or standards source: which document, which article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    pub document: String,
    pub article: String,
}

/// The header of one rule file: what version of the data a result was computed with, and why
/// the data say what they say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleFile {
    /// [`JURISDICTIONS`] or [`INDUSTRIES`].
    pub name: &'static str,
    pub version: String,
    pub effective_from: NaiveDate,
    pub citations: Vec<Citation>,
}

/// How a jurisdiction code is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeScheme {
    /// A GB/T 2260 administrative division code: 6 digits.
    #[default]
    Gb2260,
    /// A local code for a unit that has no division code of its own (e.g. 兰州新区): letters and
    /// digits with at least one letter, so it can never equal a GB/T 2260 code.
    Local,
}

/// A county-level area of a city-level unit, for addresses and registration codes. Districts are
/// not jurisdictions of the system: scoping stops at the city level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct District {
    pub name_zh: String,
    /// The GB/T 2260 code under which enterprises of the area register (characters 3–8 of their
    /// credit codes).
    pub division_code: String,
}

/// What the rule file says about a jurisdiction beyond [`Jurisdiction`] itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JurisdictionDetail {
    pub code: String,
    pub scheme: CodeScheme,
    /// The name without its administrative suffix, as enterprise names use it (兰州 for 兰州市).
    pub short_name_zh: String,
    /// The GB/T 2260 code under which enterprises register when no district applies.
    pub division_code: String,
    pub districts: Vec<District>,
}

/// Jurisdictions and industries of one province, checked for consistency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceData {
    /// One entry per rule file: version, effective date, citations.
    pub sources: Vec<RuleFile>,
    /// The province first, then its city-level units in file order (the capital first).
    pub jurisdictions: Vec<Jurisdiction>,
    /// One entry per jurisdiction, in the same order as `jurisdictions`.
    pub details: Vec<JurisdictionDetail>,
    pub key_industries: Vec<KeyIndustry>,
    pub province_industries: Vec<ProvinceIndustry>,
    pub industries: Vec<Industry>,
}

/// Why a rule file was refused. Each variant names the file and the offending entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("{file}: not a valid rule file: {message}")]
    Syntax { file: &'static str, message: String },
    #[error("{file}: effective_from must be a plain date such as 2021-12-08, found {found}")]
    EffectiveFrom { file: &'static str, found: String },
    #[error("{file}: {entry}: {field} is empty")]
    EmptyField {
        file: &'static str,
        entry: String,
        field: &'static str,
    },
    #[error("{file}: duplicate {kind} \"{id}\"")]
    Duplicate {
        file: &'static str,
        kind: &'static str,
        id: String,
    },
    #[error("{file}: {kind} id \"{id}\" must be lower-case ASCII letters, digits and underscores")]
    InvalidId {
        file: &'static str,
        kind: &'static str,
        id: String,
    },
    #[error("jurisdictions: expected exactly one province, found {found}: {codes:?}")]
    ProvinceCount { found: usize, codes: Vec<String> },
    #[error("jurisdictions: \"{code}\": {reason}")]
    InvalidJurisdiction { code: String, reason: String },
    #[error("jurisdictions: \"{code}\" names parent \"{parent}\", which does not exist")]
    UnknownParent { code: String, parent: String },
    #[error("industries: \"{code}\" is not a GB/T 4754 code (2 to 4 digits)")]
    InvalidIndustryCode { code: String },
    #[error("industries: \"{code}\" names key industry \"{key_industry}\", which does not exist")]
    UnknownKeyIndustry { code: String, key_industry: String },
    #[error(
        "industries: \"{code}\" names province industry \"{province_industry}\", which does not exist"
    )]
    UnknownProvinceIndustry {
        code: String,
        province_industry: String,
    },
}

// ---- file shapes ------------------------------------------------------------------------------
// Private row types mirror the files exactly and refuse unknown keys, so that a misspelt key
// ("key_industy") is an error rather than a silently missing mapping.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JurisdictionsFile {
    version: String,
    effective_from: toml::value::Datetime,
    #[serde(default)]
    source: Vec<Citation>,
    #[serde(default)]
    jurisdiction: Vec<JurisdictionRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JurisdictionRow {
    code: String,
    #[serde(default)]
    scheme: CodeScheme,
    name_zh: String,
    name_en: String,
    short_name_zh: Option<String>,
    level: JurisdictionLevel,
    parent: Option<String>,
    division_code: Option<String>,
    #[serde(default)]
    districts: Vec<District>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndustriesFile {
    version: String,
    effective_from: toml::value::Datetime,
    #[serde(default)]
    source: Vec<Citation>,
    #[serde(default)]
    key_industry: Vec<KeyIndustryRow>,
    #[serde(default)]
    province_industry: Vec<ProvinceIndustry>,
    #[serde(default)]
    industry: Vec<IndustryRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyIndustryRow {
    id: String,
    name_zh: String,
    name_en: String,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndustryRow {
    code: String,
    name_zh: String,
    name_en: String,
    key_industry: Option<String>,
    province_industry: Option<String>,
    /// The reason for a mapping judgment; for reviewers of the file, not used by the system.
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "read by people reviewing the file, not by the system"
    )]
    note: Option<String>,
}

impl ReferenceData {
    /// The embedded Gansu reference data.
    ///
    /// # Panics
    /// Only if the embedded files are broken, which the tests of this module rule out.
    pub fn gansu() -> Self {
        match Self::from_toml(GANSU_JURISDICTIONS_TOML, GANSU_INDUSTRIES_TOML) {
            Ok(data) => data,
            Err(error) => panic!("embedded Gansu reference data is invalid: {error}"),
        }
    }

    /// Reads and checks a province's two rule files.
    pub fn from_toml(
        jurisdictions_toml: &str,
        industries_toml: &str,
    ) -> Result<Self, ReferenceError> {
        let jurisdictions_file: JurisdictionsFile =
            toml::from_str(jurisdictions_toml).map_err(|error| ReferenceError::Syntax {
                file: JURISDICTIONS,
                message: error.to_string(),
            })?;
        let industries_file: IndustriesFile =
            toml::from_str(industries_toml).map_err(|error| ReferenceError::Syntax {
                file: INDUSTRIES,
                message: error.to_string(),
            })?;

        let jurisdictions_source = rule_file(
            JURISDICTIONS,
            jurisdictions_file.version,
            jurisdictions_file.effective_from,
            jurisdictions_file.source,
        )?;
        let industries_source = rule_file(
            INDUSTRIES,
            industries_file.version,
            industries_file.effective_from,
            industries_file.source,
        )?;
        let (jurisdictions, details) = check_jurisdictions(jurisdictions_file.jurisdiction)?;
        let (key_industries, province_industries, industries) = check_industries(
            industries_file.key_industry,
            industries_file.province_industry,
            industries_file.industry,
        )?;
        Ok(Self {
            sources: vec![jurisdictions_source, industries_source],
            jurisdictions,
            details,
            key_industries,
            province_industries,
            industries,
        })
    }

    /// Every citation of every rule file, in file order.
    pub fn citations(&self) -> impl Iterator<Item = &Citation> + '_ {
        self.sources.iter().flat_map(|source| &source.citations)
    }

    /// Any jurisdiction, province or city, by code.
    pub fn jurisdiction(&self, code: &str) -> Option<&Jurisdiction> {
        self.jurisdictions.iter().find(|j| j.code == code)
    }

    /// The province. Always `Some` for data built by [`Self::from_toml`].
    pub fn province(&self) -> Option<&Jurisdiction> {
        self.jurisdictions
            .iter()
            .find(|j| j.level == JurisdictionLevel::Province)
    }

    /// A city-level unit by code; `None` for the province and for unknown codes.
    pub fn city(&self, code: &str) -> Option<&Jurisdiction> {
        self.cities().find(|j| j.code == code)
    }

    /// The city-level units in file order (the capital first).
    pub fn cities(&self) -> impl Iterator<Item = &Jurisdiction> + '_ {
        self.jurisdictions
            .iter()
            .filter(|j| j.level == JurisdictionLevel::City)
    }

    /// A city-level unit by its Chinese name, short name or English name (as import files and
    /// people write it: "兰州市", "兰州" or "Lanzhou").
    pub fn city_by_name(&self, name: &str) -> Option<&Jurisdiction> {
        let name = name.trim();
        self.cities().find(|city| {
            city.name_zh == name
                || city.name_en.eq_ignore_ascii_case(name)
                || self
                    .detail(&city.code)
                    .is_some_and(|detail| detail.short_name_zh == name)
        })
    }

    /// The rule file's extra facts about a jurisdiction (short name, districts).
    pub fn detail(&self, code: &str) -> Option<&JurisdictionDetail> {
        self.details.iter().find(|d| d.code == code)
    }

    /// An industry class by GB/T 4754 code.
    pub fn industry(&self, code: &str) -> Option<&Industry> {
        self.industries.iter().find(|i| i.code == code)
    }

    /// A key industry by id.
    pub fn key_industry(&self, id: &str) -> Option<&KeyIndustry> {
        self.key_industries.iter().find(|k| k.id == id)
    }

    /// A key industry by id, Chinese name or alias (有色金属 finds 有色).
    pub fn key_industry_by_name(&self, name: &str) -> Option<&KeyIndustry> {
        let name = name.trim();
        self.key_industries.iter().find(|k| {
            k.id == name || k.name_zh == name || k.aliases.iter().any(|alias| alias == name)
        })
    }

    /// A province-organised industry by id.
    pub fn province_industry(&self, id: &str) -> Option<&ProvinceIndustry> {
        self.province_industries.iter().find(|p| p.id == id)
    }

    /// The industry classes mapped to a key industry.
    pub fn industries_of_key(&self, key_industry_id: &str) -> impl Iterator<Item = &Industry> + '_ {
        let id = key_industry_id.to_string();
        self.industries
            .iter()
            .filter(move |i| i.key_industry.as_deref() == Some(id.as_str()))
    }
}

impl Catalog for ReferenceData {
    /// Enterprises belong to a city-level unit, never to the province itself.
    fn has_city(&self, code: &str) -> bool {
        self.city(code).is_some()
    }

    fn has_industry(&self, code: &str) -> bool {
        self.industry(code).is_some()
    }
}

// ---- checks -------------------------------------------------------------------------------------

fn rule_file(
    name: &'static str,
    version: String,
    effective_from: toml::value::Datetime,
    citations: Vec<Citation>,
) -> Result<RuleFile, ReferenceError> {
    require(name, "header", "version", &version)?;
    let date = match (
        effective_from.date,
        effective_from.time,
        effective_from.offset,
    ) {
        (Some(date), None, None) => {
            NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
        }
        _ => None,
    };
    let effective_from = date.ok_or_else(|| ReferenceError::EffectiveFrom {
        file: name,
        found: effective_from.to_string(),
    })?;
    for (index, citation) in citations.iter().enumerate() {
        let entry = format!("source #{}", index + 1);
        require(name, &entry, "document", &citation.document)?;
        require(name, &entry, "article", &citation.article)?;
    }
    Ok(RuleFile {
        name,
        version,
        effective_from,
        citations,
    })
}

fn require(
    file: &'static str,
    entry: &str,
    field: &'static str,
    value: &str,
) -> Result<(), ReferenceError> {
    if value.trim().is_empty() {
        return Err(ReferenceError::EmptyField {
            file,
            entry: entry.to_string(),
            field,
        });
    }
    Ok(())
}

fn is_digits(text: &str, length: usize) -> bool {
    text.len() == length && text.bytes().all(|b| b.is_ascii_digit())
}

fn check_id(file: &'static str, kind: &'static str, id: &str) -> Result<(), ReferenceError> {
    let valid = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ReferenceError::InvalidId {
            file,
            kind,
            id: id.to_string(),
        })
    }
}

fn check_unique<'a>(
    seen: &mut HashSet<&'a str>,
    file: &'static str,
    kind: &'static str,
    id: &'a str,
) -> Result<(), ReferenceError> {
    if seen.insert(id) {
        Ok(())
    } else {
        Err(ReferenceError::Duplicate {
            file,
            kind,
            id: id.to_string(),
        })
    }
}

fn invalid_jurisdiction(code: &str, reason: impl Into<String>) -> ReferenceError {
    ReferenceError::InvalidJurisdiction {
        code: code.to_string(),
        reason: reason.into(),
    }
}

fn check_jurisdictions(
    rows: Vec<JurisdictionRow>,
) -> Result<(Vec<Jurisdiction>, Vec<JurisdictionDetail>), ReferenceError> {
    // Codes: well formed and unique.
    let mut seen = HashSet::new();
    for row in &rows {
        require(JURISDICTIONS, &row.code, "code", &row.code)?;
        match row.scheme {
            CodeScheme::Gb2260 if !is_digits(&row.code, 6) => {
                return Err(invalid_jurisdiction(
                    &row.code,
                    "a GB/T 2260 code is 6 digits (mark a local code with scheme = \"local\")",
                ));
            }
            CodeScheme::Local => {
                let well_formed = (2..=12).contains(&row.code.len())
                    && row
                        .code
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    && row.code.bytes().any(|b| b.is_ascii_uppercase());
                if !well_formed {
                    return Err(invalid_jurisdiction(
                        &row.code,
                        "a local code is 2 to 12 capital letters and digits with at least one \
                         letter, so that it cannot equal a GB/T 2260 code",
                    ));
                }
            }
            CodeScheme::Gb2260 => {}
        }
        require(JURISDICTIONS, &row.code, "name_zh", &row.name_zh)?;
        require(JURISDICTIONS, &row.code, "name_en", &row.name_en)?;
        check_unique(&mut seen, JURISDICTIONS, "jurisdiction code", &row.code)?;
    }

    // Exactly one province, without a parent.
    let provinces: Vec<&JurisdictionRow> = rows
        .iter()
        .filter(|row| row.level == JurisdictionLevel::Province)
        .collect();
    let [province] = provinces.as_slice() else {
        return Err(ReferenceError::ProvinceCount {
            found: provinces.len(),
            codes: provinces.iter().map(|row| row.code.clone()).collect(),
        });
    };
    if let Some(parent) = &province.parent {
        return Err(invalid_jurisdiction(
            &province.code,
            format!("the province has no parent, but names \"{parent}\""),
        ));
    }
    if province.scheme != CodeScheme::Gb2260 {
        return Err(invalid_jurisdiction(
            &province.code,
            "the province needs its GB/T 2260 code",
        ));
    }
    // Province-level division codes end in 0000; every division code of the province starts with
    // its first two digits.
    let province_prefix = &province.code[..2];

    // Cities: parent exists and is the province; districts belong to the province (and to the
    // city, when the city has a GB/T 2260 code).
    for row in rows
        .iter()
        .filter(|row| row.level == JurisdictionLevel::City)
    {
        let Some(parent) = &row.parent else {
            return Err(invalid_jurisdiction(&row.code, "a city needs a parent"));
        };
        if !rows.iter().any(|other| &other.code == parent) {
            return Err(ReferenceError::UnknownParent {
                code: row.code.clone(),
                parent: parent.clone(),
            });
        }
        if parent != &province.code {
            return Err(invalid_jurisdiction(
                &row.code,
                format!(
                    "parent \"{parent}\" is not the province \"{}\"",
                    province.code
                ),
            ));
        }
    }
    let mut details = Vec::with_capacity(rows.len());
    for row in &rows {
        let division_code = match (&row.division_code, row.scheme) {
            (Some(code), _) => code.clone(),
            (None, CodeScheme::Gb2260) => row.code.clone(),
            (None, CodeScheme::Local) => match row.districts.first() {
                Some(district) => district.division_code.clone(),
                None => {
                    return Err(invalid_jurisdiction(
                        &row.code,
                        "a unit with a local code needs a division_code or districts",
                    ))
                }
            },
        };
        let in_province = |code: &str| is_digits(code, 6) && code.starts_with(province_prefix);
        if !in_province(&division_code) {
            return Err(invalid_jurisdiction(
                &row.code,
                format!(
                    "division_code \"{division_code}\" is not a GB/T 2260 code of the province"
                ),
            ));
        }
        let mut district_names = HashSet::new();
        for district in &row.districts {
            require(
                JURISDICTIONS,
                &row.code,
                "district name_zh",
                &district.name_zh,
            )?;
            if !district_names.insert(district.name_zh.as_str()) {
                return Err(invalid_jurisdiction(
                    &row.code,
                    format!("district \"{}\" is listed twice", district.name_zh),
                ));
            }
            let in_city = match row.scheme {
                CodeScheme::Gb2260 => district.division_code.starts_with(&row.code[..4]),
                CodeScheme::Local => true,
            };
            if !in_province(&district.division_code) || !in_city {
                return Err(invalid_jurisdiction(
                    &row.code,
                    format!(
                        "district \"{}\" has division_code \"{}\", which is not a GB/T 2260 code \
                         within the unit",
                        district.name_zh, district.division_code
                    ),
                ));
            }
        }
        details.push(JurisdictionDetail {
            code: row.code.clone(),
            scheme: row.scheme,
            short_name_zh: row
                .short_name_zh
                .clone()
                .filter(|name| !name.trim().is_empty())
                .unwrap_or_else(|| row.name_zh.clone()),
            division_code,
            districts: row.districts.clone(),
        });
    }

    // The province first, then the cities in file order.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&index| rows[index].level != JurisdictionLevel::Province);
    let details = order.iter().map(|&index| details[index].clone()).collect();
    let jurisdictions = order
        .iter()
        .map(|&index| {
            let row = &rows[index];
            Jurisdiction {
                code: row.code.clone(),
                name_zh: row.name_zh.clone(),
                name_en: row.name_en.clone(),
                level: row.level,
                parent: row.parent.clone(),
            }
        })
        .collect();
    Ok((jurisdictions, details))
}

type Industries = (Vec<KeyIndustry>, Vec<ProvinceIndustry>, Vec<Industry>);

fn check_industries(
    key_rows: Vec<KeyIndustryRow>,
    province_rows: Vec<ProvinceIndustry>,
    industry_rows: Vec<IndustryRow>,
) -> Result<Industries, ReferenceError> {
    let mut key_ids = HashSet::new();
    for row in &key_rows {
        check_id(INDUSTRIES, "key industry", &row.id)?;
        require(INDUSTRIES, &row.id, "name_zh", &row.name_zh)?;
        require(INDUSTRIES, &row.id, "name_en", &row.name_en)?;
        check_unique(&mut key_ids, INDUSTRIES, "key industry", &row.id)?;
    }
    let mut province_ids = HashSet::new();
    for row in &province_rows {
        check_id(INDUSTRIES, "province industry", &row.id)?;
        require(INDUSTRIES, &row.id, "name_zh", &row.name_zh)?;
        require(INDUSTRIES, &row.id, "name_en", &row.name_en)?;
        check_unique(&mut province_ids, INDUSTRIES, "province industry", &row.id)?;
    }
    let mut codes = HashSet::new();
    for row in &industry_rows {
        let well_formed =
            (2..=4).contains(&row.code.len()) && row.code.bytes().all(|b| b.is_ascii_digit());
        if !well_formed {
            return Err(ReferenceError::InvalidIndustryCode {
                code: row.code.clone(),
            });
        }
        require(INDUSTRIES, &row.code, "name_zh", &row.name_zh)?;
        require(INDUSTRIES, &row.code, "name_en", &row.name_en)?;
        check_unique(&mut codes, INDUSTRIES, "industry code", &row.code)?;
        if let Some(key) = &row.key_industry {
            if !key_ids.contains(key.as_str()) {
                return Err(ReferenceError::UnknownKeyIndustry {
                    code: row.code.clone(),
                    key_industry: key.clone(),
                });
            }
        }
        if let Some(province) = &row.province_industry {
            if !province_ids.contains(province.as_str()) {
                return Err(ReferenceError::UnknownProvinceIndustry {
                    code: row.code.clone(),
                    province_industry: province.clone(),
                });
            }
        }
    }
    let key_industries = key_rows
        .into_iter()
        .map(|row| KeyIndustry {
            id: row.id,
            name_zh: row.name_zh,
            name_en: row.name_en,
            aliases: row.aliases,
        })
        .collect();
    let industries = industry_rows
        .into_iter()
        .map(|row| Industry {
            code: row.code,
            name_zh: row.name_zh,
            name_en: row.name_en,
            key_industry: row.key_industry,
            province_industry: row.province_industry,
        })
        .collect();
    Ok((key_industries, province_rows, industries))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL_JURISDICTIONS: &str = r#"
version = "test"
effective_from = 2024-01-01

[[jurisdiction]]
code = "620000"
name_zh = "甘肃省"
name_en = "Gansu"
level = "province"

[[jurisdiction]]
code = "620100"
name_zh = "兰州市"
name_en = "Lanzhou"
level = "city"
parent = "620000"
"#;

    const MINIMAL_INDUSTRIES: &str = r#"
version = "test"
effective_from = 2024-01-01

[[key_industry]]
id = "energy"
name_zh = "能源"
name_en = "Energy"

[[province_industry]]
id = "thermal_power"
name_zh = "火电"
name_en = "Thermal power"

[[industry]]
code = "4411"
name_zh = "火力发电"
name_en = "Thermal power generation"
key_industry = "energy"
province_industry = "thermal_power"
"#;

    fn with_row(base: &str, row: &str) -> String {
        format!("{base}\n{row}")
    }

    #[test]
    fn embedded_gansu_data_loads() {
        let data = ReferenceData::gansu();
        assert_eq!(data.sources.len(), 2);
        assert!(data.sources.iter().all(|s| !s.citations.is_empty()));
        assert_eq!(
            data.sources[0].effective_from,
            NaiveDate::from_ymd_opt(2021, 12, 8).unwrap()
        );
        assert!(data
            .citations()
            .any(|c| c.document.contains("甘环气候发〔2021〕10号")));
        assert_eq!(data.details.len(), data.jurisdictions.len());
    }

    #[test]
    fn gansu_has_one_province_and_sixteen_cities() {
        let data = ReferenceData::gansu();
        let province = data.province().unwrap();
        assert_eq!(province.code, "620000");
        assert_eq!(province.name_zh, "甘肃省");
        assert_eq!(data.jurisdictions[0], *province);
        assert_eq!(data.cities().count(), 16);
        assert_eq!(data.cities().next().unwrap().code, "620100");
        for (code, name) in [
            ("620100", "兰州市"),
            ("620200", "嘉峪关市"),
            ("620300", "金昌市"),
            ("620400", "白银市"),
            ("620500", "天水市"),
            ("620600", "武威市"),
            ("620700", "张掖市"),
            ("620800", "平凉市"),
            ("620900", "酒泉市"),
            ("621000", "庆阳市"),
            ("621100", "定西市"),
            ("621200", "陇南市"),
            ("622900", "临夏回族自治州"),
            ("623000", "甘南藏族自治州"),
            ("62LZXQ", "兰州新区"),
            ("62GSKQ", "甘肃矿区"),
        ] {
            let city = data.city(code).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(city.name_zh, name);
            assert_eq!(city.parent.as_deref(), Some("620000"));
        }
        assert!(data.city("620000").is_none(), "the province is not a city");
        assert!(data.jurisdiction("620000").is_some());
        assert_eq!(data.city_by_name("兰州").unwrap().code, "620100");
        assert_eq!(
            data.city_by_name("lanzhou new area").unwrap().code,
            "62LZXQ"
        );
        assert_eq!(data.city_by_name("临夏回族自治州").unwrap().code, "622900");
    }

    #[test]
    fn local_codes_cannot_be_division_codes() {
        let data = ReferenceData::gansu();
        for detail in &data.details {
            match detail.scheme {
                CodeScheme::Gb2260 => assert!(is_digits(&detail.code, 6)),
                CodeScheme::Local => assert!(detail.code.bytes().any(|b| b.is_ascii_alphabetic())),
            }
            assert!(is_digits(&detail.division_code, 6), "{}", detail.code);
        }
        assert_eq!(data.detail("62GSKQ").unwrap().division_code, "620000");
        assert_eq!(data.detail("620100").unwrap().districts.len(), 8);
    }

    #[test]
    fn gansu_industries_are_complete() {
        let data = ReferenceData::gansu();
        assert_eq!(data.key_industries.len(), 14);
        assert_eq!(data.province_industries.len(), 6);
        assert!(
            (40..=70).contains(&data.industries.len()),
            "{}",
            data.industries.len()
        );
        for key in &data.key_industries {
            assert!(
                data.industries_of_key(&key.id).next().is_some(),
                "key industry {} has no class",
                key.id
            );
        }
        for province in &data.province_industries {
            assert!(
                data.industries
                    .iter()
                    .any(|i| i.province_industry.as_deref() == Some(province.id.as_str())),
                "province industry {} has no class",
                province.id
            );
        }
        assert!(data.industries.iter().any(|i| i.key_industry.is_none()));
        let power = data.industry("4411").unwrap();
        assert_eq!(power.key_industry.as_deref(), Some("energy"));
        assert_eq!(power.province_industry.as_deref(), Some("thermal_power"));
        let copper_mining = data.industry("0911").unwrap();
        assert_eq!(copper_mining.key_industry.as_deref(), Some("nonferrous"));
        assert_eq!(
            copper_mining.province_industry.as_deref(),
            Some("nonferrous")
        );
        assert_eq!(data.industry("3252").unwrap().province_industry, None);
        assert_eq!(
            data.key_industry_by_name("有色金属").unwrap().id,
            "nonferrous"
        );
        assert_eq!(
            data.key_industry_by_name("化学原料药").unwrap().id,
            "pharmaceutical_api"
        );
        assert_eq!(data.key_industry("coking").unwrap().name_zh, "焦化");
        assert_eq!(data.province_industry("steel").unwrap().name_zh, "钢铁");
    }

    #[test]
    fn catalog_knows_cities_and_industries() {
        let data = ReferenceData::gansu();
        let catalog: &dyn Catalog = &data;
        assert!(catalog.has_city("620100"));
        assert!(catalog.has_city("62LZXQ"));
        assert!(!catalog.has_city("620000"));
        assert!(!catalog.has_city("110000"));
        assert!(catalog.has_industry("3011"));
        assert!(!catalog.has_industry("9999"));
    }

    #[test]
    fn minimal_files_load() {
        let data = ReferenceData::from_toml(MINIMAL_JURISDICTIONS, MINIMAL_INDUSTRIES).unwrap();
        assert_eq!(data.cities().count(), 1);
        assert_eq!(data.detail("620100").unwrap().short_name_zh, "兰州市");
        assert_eq!(data.detail("620100").unwrap().division_code, "620100");
        assert!(data.sources[0].citations.is_empty());
    }

    #[test]
    fn duplicate_code_is_named() {
        let jurisdictions = with_row(
            MINIMAL_JURISDICTIONS,
            "[[jurisdiction]]\ncode = \"620100\"\nname_zh = \"又一个\"\nname_en = \"Again\"\nlevel = \"city\"\nparent = \"620000\"\n",
        );
        let error = ReferenceData::from_toml(&jurisdictions, MINIMAL_INDUSTRIES).unwrap_err();
        assert!(matches!(&error, ReferenceError::Duplicate { id, .. } if id == "620100"));
        assert!(error.to_string().contains("620100"));

        let industries = with_row(
            MINIMAL_INDUSTRIES,
            "[[industry]]\ncode = \"4411\"\nname_zh = \"火力发电\"\nname_en = \"Again\"\n",
        );
        let error = ReferenceData::from_toml(MINIMAL_JURISDICTIONS, &industries).unwrap_err();
        assert!(matches!(&error, ReferenceError::Duplicate { id, .. } if id == "4411"));
    }

    #[test]
    fn unknown_key_and_province_industries_are_named() {
        let industries = with_row(
            MINIMAL_INDUSTRIES,
            "[[industry]]\ncode = \"3011\"\nname_zh = \"水泥制造\"\nname_en = \"Cement\"\nkey_industry = \"cement\"\n",
        );
        let error = ReferenceData::from_toml(MINIMAL_JURISDICTIONS, &industries).unwrap_err();
        assert_eq!(
            error,
            ReferenceError::UnknownKeyIndustry {
                code: "3011".into(),
                key_industry: "cement".into()
            }
        );
        assert!(error.to_string().contains("3011") && error.to_string().contains("cement"));

        let industries = with_row(
            MINIMAL_INDUSTRIES,
            "[[industry]]\ncode = \"3110\"\nname_zh = \"炼铁\"\nname_en = \"Ironmaking\"\nprovince_industry = \"steel\"\n",
        );
        let error = ReferenceData::from_toml(MINIMAL_JURISDICTIONS, &industries).unwrap_err();
        assert!(
            matches!(error, ReferenceError::UnknownProvinceIndustry { code, .. } if code == "3110")
        );
    }

    #[test]
    fn missing_parent_is_named() {
        let jurisdictions = with_row(
            MINIMAL_JURISDICTIONS,
            "[[jurisdiction]]\ncode = \"620200\"\nname_zh = \"嘉峪关市\"\nname_en = \"Jiayuguan\"\nlevel = \"city\"\nparent = \"630000\"\n",
        );
        let error = ReferenceData::from_toml(&jurisdictions, MINIMAL_INDUSTRIES).unwrap_err();
        assert_eq!(
            error,
            ReferenceError::UnknownParent {
                code: "620200".into(),
                parent: "630000".into()
            }
        );
        let jurisdictions = with_row(
            MINIMAL_JURISDICTIONS,
            "[[jurisdiction]]\ncode = \"620200\"\nname_zh = \"嘉峪关市\"\nname_en = \"Jiayuguan\"\nlevel = \"city\"\n",
        );
        let error = ReferenceData::from_toml(&jurisdictions, MINIMAL_INDUSTRIES).unwrap_err();
        assert!(
            matches!(error, ReferenceError::InvalidJurisdiction { code, .. } if code == "620200")
        );
    }

    #[test]
    fn province_count_must_be_one() {
        let jurisdictions = with_row(
            MINIMAL_JURISDICTIONS,
            "[[jurisdiction]]\ncode = \"630000\"\nname_zh = \"青海省\"\nname_en = \"Qinghai\"\nlevel = \"province\"\n",
        );
        let error = ReferenceData::from_toml(&jurisdictions, MINIMAL_INDUSTRIES).unwrap_err();
        assert!(matches!(
            error,
            ReferenceError::ProvinceCount { found: 2, .. }
        ));
        let no_province = "version = \"x\"\neffective_from = 2024-01-01\n";
        let error = ReferenceData::from_toml(no_province, MINIMAL_INDUSTRIES).unwrap_err();
        assert!(matches!(
            error,
            ReferenceError::ProvinceCount { found: 0, .. }
        ));
    }

    #[test]
    fn industry_codes_are_two_to_four_digits() {
        for bad in ["4", "44111", "C441", "44 1"] {
            let industries = with_row(
                MINIMAL_INDUSTRIES,
                &format!("[[industry]]\ncode = \"{bad}\"\nname_zh = \"x\"\nname_en = \"x\"\n"),
            );
            let error = ReferenceData::from_toml(MINIMAL_JURISDICTIONS, &industries).unwrap_err();
            assert_eq!(
                error,
                ReferenceError::InvalidIndustryCode { code: bad.into() }
            );
        }
    }

    #[test]
    fn jurisdiction_codes_follow_their_scheme() {
        let numeric_local = with_row(
            MINIMAL_JURISDICTIONS,
            "[[jurisdiction]]\ncode = \"620171\"\nscheme = \"local\"\nname_zh = \"新区\"\nname_en = \"New Area\"\nlevel = \"city\"\nparent = \"620000\"\ndivision_code = \"620100\"\n",
        );
        let error = ReferenceData::from_toml(&numeric_local, MINIMAL_INDUSTRIES).unwrap_err();
        assert!(
            matches!(error, ReferenceError::InvalidJurisdiction { code, .. } if code == "620171")
        );
        let lettered_gb = with_row(
            MINIMAL_JURISDICTIONS,
            "[[jurisdiction]]\ncode = \"62LZXQ\"\nname_zh = \"新区\"\nname_en = \"New Area\"\nlevel = \"city\"\nparent = \"620000\"\n",
        );
        assert!(ReferenceData::from_toml(&lettered_gb, MINIMAL_INDUSTRIES).is_err());
        let foreign_district = with_row(
            MINIMAL_JURISDICTIONS,
            "[[jurisdiction]]\ncode = \"620200\"\nname_zh = \"嘉峪关市\"\nname_en = \"Jiayuguan\"\nlevel = \"city\"\nparent = \"620000\"\ndistricts = [{ name_zh = \"城关区\", division_code = \"620102\" }]\n",
        );
        let error = ReferenceData::from_toml(&foreign_district, MINIMAL_INDUSTRIES).unwrap_err();
        assert!(error.to_string().contains("城关区"));
    }

    #[test]
    fn misspelt_keys_and_bad_dates_are_refused() {
        let industries = with_row(
            MINIMAL_INDUSTRIES,
            "[[industry]]\ncode = \"3011\"\nname_zh = \"水泥制造\"\nname_en = \"Cement\"\nkey_industy = \"energy\"\n",
        );
        let error = ReferenceData::from_toml(MINIMAL_JURISDICTIONS, &industries).unwrap_err();
        assert!(
            matches!(
                error,
                ReferenceError::Syntax {
                    file: INDUSTRIES,
                    ..
                }
            ),
            "{error}"
        );
        let dated = MINIMAL_JURISDICTIONS.replace("2024-01-01", "2024-01-01T08:00:00");
        let error = ReferenceData::from_toml(&dated, MINIMAL_INDUSTRIES).unwrap_err();
        assert!(matches!(
            error,
            ReferenceError::EffectiveFrom {
                file: JURISDICTIONS,
                ..
            }
        ));
    }
}
