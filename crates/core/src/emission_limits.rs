//! Emission limits as rule data: which concentration an outlet's hourly or daily mean may not
//! exceed, under which standard, for which source class, from which day, and how sure we are of
//! the number.
//!
//! The limits live in `rules/emission_limits.toml` (national, embedded), never in code: the
//! domain reference marks most of them recalled rather than read in the official text, so they
//! must be correctable by editing a file, and a corrected value takes effect from its date
//! without changing what was judged before. Each citation carries the reference's own mark
//! ([`LimitConfidence`]: `std17`, `verified`, `secondary`, `recall`, `unsure`).
//!
//! An outlet is bound to one standard and one of its source classes ([`OutletBinding`]), with
//! the special-limit flag of its region. [`EmissionLimits::limit_for`] answers which limit
//! applies to one factor on one day; [`EmissionLimits::check`] refuses a binding that names no
//! standard or class of the file. [`EmissionLimits::from_toml`] reports every fault of the file
//! at once, each naming the entry, as the other rule files do.

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::registry::{FieldError, Message};
use crate::rules::{plain_date, Confidence, RuleBook, RuleFault};

/// The national limits file, embedded.
pub const EMISSION_LIMITS_TOML: &str = include_str!("../../../rules/emission_limits.toml");

/// The file name faults carry.
const LIMITS_FILE: &str = "emission_limits.toml";

/// Air (flue gas) or water.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Air,
    Water,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Air => "air",
            Self::Water => "water",
        }
    }

    /// The medium of an outlet kind as stored ("air" | "water").
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "air" => Some(Self::Air),
            "water" => Some(Self::Water),
            _ => None,
        }
    }
}

/// Over which period the mean is compared with the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Averaging {
    /// Hourly mean (air: GB 16297's "any 1-hour average").
    Hour,
    /// Daily mean (water: GB 18918's 日均值).
    Day,
}

impl Averaging {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }
}

/// How sure a limit is, exactly as the domain reference marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitConfidence {
    /// Read in the text of HJ 212-2017 ([STD17]).
    Std17,
    /// Checked against an implementation or real data ([VERIFIED]).
    Verified,
    /// Stated consistently by several third-party sources ([SECONDARY]).
    Secondary,
    /// Domain knowledge with no primary text seen ([RECALL]).
    Recall,
    /// Conflicting or thin evidence ([UNSURE]).
    Unsure,
}

impl LimitConfidence {
    /// The reference's label, e.g. "[RECALL]".
    pub fn label(self) -> &'static str {
        match self {
            Self::Std17 => "[STD17]",
            Self::Verified => "[VERIFIED]",
            Self::Secondary => "[SECONDARY]",
            Self::Recall => "[RECALL]",
            Self::Unsure => "[UNSURE]",
        }
    }

    /// The rule book's confidence it corresponds to (rules/README.md).
    pub fn rule_confidence(self) -> Confidence {
        match self {
            Self::Std17 | Self::Verified => Confidence::Verified,
            Self::Secondary => Confidence::PartlyVerified,
            Self::Recall | Self::Unsure => Confidence::Unverified,
        }
    }

    /// True when the value must be shown as not confirmed against the official text.
    pub fn needs_verification(self) -> bool {
        self.rule_confidence().needs_verification()
    }
}

/// One citation of a limit: the document (an id of `documents.toml`), the table or clause, and
/// the reference's mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitCitation {
    pub document: String,
    pub article: String,
    pub confidence: LimitConfidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A concentration unit: mass per volume of gas (m³, standard state, dry) or of water (L).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConcentrationUnit {
    #[serde(rename = "mg/m3")]
    MgPerM3,
    #[serde(rename = "ug/m3")]
    UgPerM3,
    #[serde(rename = "ng/m3")]
    NgPerM3,
    #[serde(rename = "mg/L")]
    MgPerL,
    #[serde(rename = "ug/L")]
    UgPerL,
    #[serde(rename = "ng/L")]
    NgPerL,
}

impl ConcentrationUnit {
    pub const ALL: [ConcentrationUnit; 6] = [
        Self::MgPerM3,
        Self::UgPerM3,
        Self::NgPerM3,
        Self::MgPerL,
        Self::UgPerL,
        Self::NgPerL,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MgPerM3 => "mg/m3",
            Self::UgPerM3 => "ug/m3",
            Self::NgPerM3 => "ng/m3",
            Self::MgPerL => "mg/L",
            Self::UgPerL => "ug/L",
            Self::NgPerL => "ng/L",
        }
    }

    /// Reads a unit as written in the file, a form or a device setting ("µg/L" and "μg/L" too).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().replace(['µ', 'μ'], "u").replace('³', "3");
        Self::ALL.into_iter().find(|unit| unit.as_str() == text)
    }

    /// The medium whose concentrations this unit measures.
    pub fn medium(self) -> Medium {
        match self {
            Self::MgPerM3 | Self::UgPerM3 | Self::NgPerM3 => Medium::Air,
            Self::MgPerL | Self::UgPerL | Self::NgPerL => Medium::Water,
        }
    }

    /// Milligrams per one unit of mass.
    fn milligrams(self) -> f64 {
        match self {
            Self::MgPerM3 | Self::MgPerL => 1.0,
            Self::UgPerM3 | Self::UgPerL => 1e-3,
            Self::NgPerM3 | Self::NgPerL => 1e-6,
        }
    }

    /// The factor a value in `self` is multiplied by to be in `to`; `None` across media
    /// (m³ and L are not convertible without a density).
    pub fn factor_to(self, to: ConcentrationUnit) -> Option<f64> {
        (self.medium() == to.medium()).then(|| self.milligrams() / to.milligrams())
    }

    /// Kilograms per one unit of the cumulative amount (`-Cou`) that goes with this
    /// concentration unit: HJ 212-2017 Appendix B pairs mg/L with kg, µg/L with g and ng/L with
    /// mg (Table B.1), and Appendix D computes flue-gas amounts in kg from mg/m³.
    pub fn amount_kg(self) -> f64 {
        self.milligrams()
    }
}

impl fmt::Display for ConcentrationUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HJ 212 factor the limits name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Factor {
    /// HJ 212-2017 code, e.g. "a21026".
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub medium: Medium,
    /// The unit a device sends by default (Appendix B).
    pub unit: ConcentrationUnit,
    pub citations: Vec<LimitCitation>,
}

/// An emission standard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standard {
    /// Stable id that bindings use, e.g. "gb13223-2011".
    pub id: String,
    /// As printed, e.g. "GB 13223-2011".
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub medium: Medium,
    /// Id of the standard in `documents.toml`.
    pub document: String,
}

/// Whether a class covers new sources, existing ones or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sources {
    New,
    Existing,
    All,
}

/// A source class of a standard (facility type, new or existing): what an outlet is bound to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceClass {
    pub standard: String,
    /// Unique within the standard, e.g. "coal_boiler.new".
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub sources: Sources,
    /// The day the standard applies to this class.
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
    /// The standard's reference O₂ content for this facility type, in %; `None` when the
    /// measured dry concentration is judged without conversion.
    pub reference_o2: Option<f64>,
    pub o2_citations: Vec<LimitCitation>,
    pub note: Option<String>,
}

/// One limit value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limit {
    pub standard: String,
    /// Classes of the standard the value applies to.
    pub classes: Vec<String>,
    /// HJ 212 factor code.
    pub factor: String,
    pub value: f64,
    pub unit: ConcentrationUnit,
    pub averaging: Averaging,
    /// First day the value is in force (for a class: the later of this and the class's `from`).
    pub from: NaiveDate,
    /// First day it is no longer in force.
    pub until: Option<NaiveDate>,
    /// A special limit (特别排放限值), applied where the region's announcement says so.
    pub special: bool,
    /// Version or amendment (修改单) the value comes from, when not the original text.
    pub amendment: Option<String>,
    /// The limit applies only on a day whose mean water temperature is above this (°C).
    pub water_temp_above: Option<f64>,
    /// The limit applies only on a day whose mean water temperature is at most this (°C).
    pub water_temp_at_most: Option<f64>,
    pub note: Option<String>,
    pub citations: Vec<LimitCitation>,
}

impl Limit {
    fn has_condition(&self) -> bool {
        self.water_temp_above.is_some() || self.water_temp_at_most.is_some()
    }

    fn in_force(&self, class: &SourceClass, on: NaiveDate) -> bool {
        let from = self.from.max(class.from);
        let until = match (self.until, class.until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        from <= on && until.is_none_or(|until| on < until)
    }

    /// Whether the limit's temperature condition holds; `None` when it cannot be told.
    fn condition_holds(&self, water_temp: Option<f64>) -> Option<bool> {
        if !self.has_condition() {
            return Some(true);
        }
        let temp = water_temp?;
        Some(
            self.water_temp_above.is_none_or(|above| temp > above)
                && self
                    .water_temp_at_most
                    .is_none_or(|at_most| temp <= at_most),
        )
    }

    /// The file's mark that settles the value: the strongest of its citations.
    pub fn confidence(&self) -> LimitConfidence {
        strongest(&self.citations)
    }
}

fn strongest(citations: &[LimitCitation]) -> LimitConfidence {
    let rank = |c: LimitConfidence| match c {
        LimitConfidence::Std17 => 0,
        LimitConfidence::Verified => 1,
        LimitConfidence::Secondary => 2,
        LimitConfidence::Recall => 3,
        LimitConfidence::Unsure => 4,
    };
    citations
        .iter()
        .map(|c| c.confidence)
        .min_by_key(|c| rank(*c))
        .unwrap_or(LimitConfidence::Unsure)
}

/// The standard and source class an outlet is judged by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutletBinding {
    /// Id of a `[[standard]]`, e.g. "gb13223-2011".
    pub standard: String,
    /// Id of a `[[class]]` of that standard, e.g. "coal_boiler.existing".
    pub source_class: String,
    /// The region applies the special limits (特别排放限值).
    pub special_limits: bool,
}

/// How the temperature-dependent choice was made, when a factor has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemperatureChoice {
    /// The limit does not depend on temperature.
    NotApplicable,
    /// Chosen by the day's mean water temperature.
    ByTemperature,
    /// The temperature was unknown: the laxer of the values was applied.
    UnknownLaxer,
}

/// The limit that applies to one factor of one outlet on one day, as a result records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedLimit {
    /// Identifies the value within the file version, e.g.
    /// "gb13223-2011/coal_boiler.existing/a21026@2014-07-01".
    pub id: String,
    /// Version of the limits file.
    pub version: String,
    /// Code of the standard as printed, e.g. "GB 13223-2011".
    pub standard_code: String,
    pub factor: String,
    pub value: f64,
    pub unit: ConcentrationUnit,
    pub averaging: Averaging,
    pub reference_o2: Option<f64>,
    /// A special limit was applied.
    pub special: bool,
    /// The binding asked for special limits but the standard has none for this factor, so the
    /// ordinary limit was applied.
    pub special_missing: bool,
    pub temperature: TemperatureChoice,
    /// The first day the value is in force for the class.
    pub effective_from: NaiveDate,
    pub citations: Vec<LimitCitation>,
    pub o2_citations: Vec<LimitCitation>,
}

impl AppliedLimit {
    /// True when no citation of the value is std17 or verified.
    pub fn needs_verification(&self) -> bool {
        strongest(&self.citations).needs_verification()
    }
}

/// The limits file, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmissionLimits {
    /// Recorded with every judgement.
    pub version: String,
    pub factors: Vec<Factor>,
    pub standards: Vec<Standard>,
    pub classes: Vec<SourceClass>,
    pub limits: Vec<Limit>,
}

impl EmissionLimits {
    /// The embedded national file, checked against the embedded rule book's documents.
    ///
    /// # Panics
    /// Only if the embedded file is broken, which the tests of this module rule out.
    pub fn embedded() -> Self {
        Self::from_toml(EMISSION_LIMITS_TOML, &RuleBook::embedded()).unwrap_or_else(|faults| {
            let lines: Vec<String> = faults.iter().map(ToString::to_string).collect();
            panic!(
                "embedded emission limits are invalid:\n{}",
                lines.join("\n")
            )
        })
    }

    /// Reads and checks a limits file; citations must name documents of `book`. Every fault is
    /// reported at once.
    pub fn from_toml(text: &str, book: &RuleBook) -> Result<Self, Vec<RuleFault>> {
        let mut check = Check {
            book,
            faults: Vec::new(),
        };
        let file: FileRow = match toml::from_str(text) {
            Ok(file) => file,
            Err(error) => {
                check.add("syntax", error.to_string().trim_end());
                return Err(check.faults);
            }
        };
        check.required("version", "version", &file.version);
        let factors = read_factors(&mut check, file.factor);
        let standards = read_standards(&mut check, file.standard);
        let classes = read_classes(&mut check, &standards, file.class);
        let limits: Vec<Limit> = file
            .limit
            .into_iter()
            .enumerate()
            .filter_map(|(index, row)| {
                read_limit(&mut check, index + 1, row, &factors, &standards, &classes)
            })
            .collect();
        check_overlaps(&mut check, &limits);
        if check.faults.is_empty() {
            Ok(Self {
                version: file.version,
                factors,
                standards,
                classes,
                limits,
            })
        } else {
            Err(check.faults)
        }
    }

    pub fn factor(&self, code: &str) -> Option<&Factor> {
        self.factors.iter().find(|factor| factor.code == code)
    }

    pub fn standard(&self, id: &str) -> Option<&Standard> {
        self.standards.iter().find(|standard| standard.id == id)
    }

    pub fn class(&self, standard: &str, id: &str) -> Option<&SourceClass> {
        self.classes
            .iter()
            .find(|class| class.standard == standard && class.id == id)
    }

    /// The classes of one standard, in file order.
    pub fn classes_of<'a>(&'a self, standard: &'a str) -> impl Iterator<Item = &'a SourceClass> {
        self.classes
            .iter()
            .filter(move |class| class.standard == standard)
    }

    /// Checks a binding against the file: the standard and the class exist, and the standard
    /// is for the outlet's medium. Errors name the field (`standard`, `source_class`).
    pub fn check(&self, binding: &OutletBinding, medium: Medium) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let Some(standard) = self.standard(&binding.standard) else {
            errors.push(field_error(
                "standard",
                "unknown_standard",
                &format!("排放标准“{}”不在排放限值文件中", binding.standard),
                &format!(
                    "standard \"{}\" is not in the emission limits file",
                    binding.standard
                ),
            ));
            return Err(errors);
        };
        if standard.medium != medium {
            errors.push(field_error(
                "standard",
                "wrong_medium",
                &format!(
                    "{} 适用于{}，而该排放口为{}",
                    standard.code,
                    medium_zh(standard.medium),
                    medium_zh(medium)
                ),
                &format!(
                    "{} is a standard for {}, the outlet discharges to {}",
                    standard.code,
                    standard.medium.as_str(),
                    medium.as_str()
                ),
            ));
        }
        if self.class(&standard.id, &binding.source_class).is_none() {
            errors.push(field_error(
                "source_class",
                "unknown_class",
                &format!("{} 没有源类别“{}”", standard.code, binding.source_class),
                &format!(
                    "{} has no source class \"{}\"",
                    standard.code, binding.source_class
                ),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The factors the binding has a limit for on a day (any averaging, any temperature).
    pub fn factors_for(&self, binding: &OutletBinding, on: NaiveDate) -> Vec<String> {
        let Some(class) = self.class(&binding.standard, &binding.source_class) else {
            return Vec::new();
        };
        let mut codes: Vec<String> = Vec::new();
        for limit in self.candidates(binding, class) {
            if limit.in_force(class, on) && !codes.contains(&limit.factor) {
                codes.push(limit.factor.clone());
            }
        }
        codes
    }

    /// The limit one factor of a bound outlet is judged by on a day. `water_temp` is the day's
    /// mean water temperature (w01010), which some water limits depend on; when it is unknown the
    /// laxer value applies and the result says so. `None`: the standard sets no limit for the
    /// factor on that day.
    pub fn limit_for(
        &self,
        binding: &OutletBinding,
        factor: &str,
        on: NaiveDate,
        water_temp: Option<f64>,
    ) -> Option<AppliedLimit> {
        let standard = self.standard(&binding.standard)?;
        let class = self.class(&binding.standard, &binding.source_class)?;
        let in_force = |special: bool| -> Vec<&Limit> {
            self.limits
                .iter()
                .filter(|limit| {
                    limit.standard == standard.id
                        && limit.factor == factor
                        && limit.special == special
                        && limit.classes.contains(&class.id)
                        && limit.in_force(class, on)
                })
                .collect()
        };
        let mut special_missing = false;
        let mut rows = in_force(binding.special_limits);
        if rows.is_empty() && binding.special_limits {
            rows = in_force(false);
            special_missing = !rows.is_empty();
        }
        let (limit, temperature) = choose(&rows, water_temp)?;
        let effective_from = limit.from.max(class.from);
        let mut id = format!("{}/{}/{}", standard.id, class.id, limit.factor);
        if limit.special {
            id.push_str("/special");
        }
        if let Some(above) = limit.water_temp_above {
            id.push_str(&format!("/t>{above}"));
        }
        if let Some(at_most) = limit.water_temp_at_most {
            id.push_str(&format!("/t<={at_most}"));
        }
        id.push_str(&format!("@{effective_from}"));
        Some(AppliedLimit {
            id,
            version: self.version.clone(),
            standard_code: standard.code.clone(),
            factor: limit.factor.clone(),
            value: limit.value,
            unit: limit.unit,
            averaging: limit.averaging,
            reference_o2: class.reference_o2,
            special: limit.special,
            special_missing,
            temperature,
            effective_from,
            citations: limit.citations.clone(),
            o2_citations: class.o2_citations.clone(),
        })
    }

    fn candidates<'a>(
        &'a self,
        binding: &'a OutletBinding,
        class: &'a SourceClass,
    ) -> impl Iterator<Item = &'a Limit> {
        self.limits.iter().filter(move |limit| {
            limit.standard == binding.standard && limit.classes.contains(&class.id)
        })
    }
}

/// Picks among the rows in force for one factor: the one whose temperature condition holds, or
/// the laxer one when the temperature is unknown.
fn choose<'a>(
    rows: &[&'a Limit],
    water_temp: Option<f64>,
) -> Option<(&'a Limit, TemperatureChoice)> {
    if let [only] = rows {
        if !only.has_condition() {
            return Some((only, TemperatureChoice::NotApplicable));
        }
    }
    let holding: Vec<&Limit> = rows
        .iter()
        .copied()
        .filter(|limit| limit.condition_holds(water_temp) == Some(true))
        .collect();
    if let Some(limit) = holding.first() {
        let choice = if limit.has_condition() {
            TemperatureChoice::ByTemperature
        } else {
            TemperatureChoice::NotApplicable
        };
        return Some((limit, choice));
    }
    if water_temp.is_none() {
        return rows
            .iter()
            .copied()
            .max_by(|a, b| a.value.total_cmp(&b.value))
            .map(|limit| (limit, TemperatureChoice::UnknownLaxer));
    }
    None
}

fn medium_zh(medium: Medium) -> &'static str {
    match medium {
        Medium::Air => "废气",
        Medium::Water => "废水",
    }
}

fn field_error(field: &str, code: &'static str, zh: &str, en: &str) -> FieldError {
    FieldError::new(field, code, Message::new(zh, en))
}

// ---- file shapes ------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRow {
    #[serde(default)]
    version: String,
    #[serde(default)]
    factor: Vec<FactorRow>,
    #[serde(default)]
    standard: Vec<StandardRow>,
    #[serde(default)]
    class: Vec<ClassRow>,
    #[serde(default)]
    limit: Vec<LimitRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactorRow {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
    medium: Medium,
    unit: ConcentrationUnit,
    #[serde(default)]
    citation: Vec<LimitCitation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardRow {
    #[serde(default)]
    id: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
    medium: Medium,
    #[serde(default)]
    document: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassRow {
    #[serde(default)]
    standard: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
    sources: Sources,
    from: toml::value::Datetime,
    until: Option<toml::value::Datetime>,
    reference_o2: Option<f64>,
    #[serde(default)]
    o2_citation: Vec<LimitCitation>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitRow {
    #[serde(default)]
    standard: String,
    #[serde(default)]
    classes: Vec<String>,
    #[serde(default)]
    factor: String,
    value: f64,
    unit: ConcentrationUnit,
    averaging: Averaging,
    from: toml::value::Datetime,
    until: Option<toml::value::Datetime>,
    #[serde(default)]
    special: bool,
    amendment: Option<String>,
    water_temp_above: Option<f64>,
    water_temp_at_most: Option<f64>,
    note: Option<String>,
    #[serde(default)]
    citation: Vec<LimitCitation>,
}

struct Check<'a> {
    book: &'a RuleBook,
    faults: Vec<RuleFault>,
}

impl Check<'_> {
    fn add(&mut self, location: &str, message: impl Into<String>) {
        self.faults.push(RuleFault {
            file: LIMITS_FILE.into(),
            location: location.into(),
            message: message.into(),
        });
    }

    fn required(&mut self, location: &str, field: &str, value: &str) -> bool {
        let present = !value.trim().is_empty();
        if !present {
            self.add(location, format!("{field} is missing or empty"));
        }
        present
    }

    fn optional(&mut self, location: &str, field: &str, value: Option<&String>) {
        if value.is_some_and(|value| value.trim().is_empty()) {
            self.add(location, format!("{field} is empty; leave it out instead"));
        }
    }

    fn date(&mut self, location: &str, field: &str, value: &toml::value::Datetime) -> NaiveDate {
        plain_date(value).unwrap_or_else(|| {
            self.add(
                location,
                format!("{field} must be a plain date such as 2012-01-01, found {value}"),
            );
            NaiveDate::MIN
        })
    }

    fn document(&mut self, location: &str, what: &str, id: &str) {
        if self.required(location, what, id) && self.book.document(id).is_none() {
            self.add(
                location,
                format!("{what} \"{id}\" is not in the documents table (documents.toml)"),
            );
        }
    }

    fn citations(&mut self, location: &str, what: &str, citations: &[LimitCitation]) {
        if citations.is_empty() {
            self.add(location, format!("{what} needs at least one citation"));
        }
        for citation in citations {
            self.document(
                location,
                &format!("{what}: a citation's document"),
                &citation.document,
            );
            if citation.article.trim().is_empty() {
                self.add(
                    location,
                    format!("{what}: a citation's article is empty; say 条款未核实 when unknown"),
                );
            }
            self.optional(location, "quote", citation.quote.as_ref());
            self.optional(location, "note", citation.note.as_ref());
        }
    }
}

fn is_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
}

fn read_factors(check: &mut Check<'_>, rows: Vec<FactorRow>) -> Vec<Factor> {
    let mut seen = HashSet::new();
    let mut factors = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        let location = if row.code.trim().is_empty() {
            format!("factor #{}", index + 1)
        } else {
            format!("factor {}", row.code)
        };
        if check.required(&location, "code", &row.code) && !seen.insert(row.code.clone()) {
            check.add(&location, "duplicate factor code");
        }
        check.required(&location, "name_zh", &row.name_zh);
        check.required(&location, "name_en", &row.name_en);
        if row.unit.medium() != row.medium {
            check.add(
                &location,
                format!(
                    "unit {} does not measure {} concentrations",
                    row.unit,
                    row.medium.as_str()
                ),
            );
        }
        check.citations(&location, "the factor", &row.citation);
        factors.push(Factor {
            code: row.code,
            name_zh: row.name_zh,
            name_en: row.name_en,
            medium: row.medium,
            unit: row.unit,
            citations: row.citation,
        });
    }
    factors
}

fn read_standards(check: &mut Check<'_>, rows: Vec<StandardRow>) -> Vec<Standard> {
    let mut seen = HashSet::new();
    let mut standards = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        let location = if row.id.trim().is_empty() {
            format!("standard #{}", index + 1)
        } else {
            format!("standard {}", row.id)
        };
        if check.required(&location, "id", &row.id) {
            if !is_id(&row.id) {
                check.add(
                    &location,
                    "id must start with a lower-case letter and contain only lower-case ASCII \
                     letters, digits, hyphens, dots and underscores",
                );
            }
            if !seen.insert(row.id.clone()) {
                check.add(&location, "duplicate standard id");
            }
        }
        check.required(&location, "code", &row.code);
        check.required(&location, "name_zh", &row.name_zh);
        check.required(&location, "name_en", &row.name_en);
        check.document(&location, "document", &row.document);
        standards.push(Standard {
            id: row.id,
            code: row.code,
            name_zh: row.name_zh,
            name_en: row.name_en,
            medium: row.medium,
            document: row.document,
        });
    }
    standards
}

fn read_classes(
    check: &mut Check<'_>,
    standards: &[Standard],
    rows: Vec<ClassRow>,
) -> Vec<SourceClass> {
    let mut seen = HashSet::new();
    let mut classes = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        let location = if row.id.trim().is_empty() {
            format!("class #{}", index + 1)
        } else {
            format!("class {}/{}", row.standard, row.id)
        };
        let standard = standards.iter().find(|s| s.id == row.standard);
        if standard.is_none() {
            check.add(
                &location,
                format!(
                    "standard \"{}\" is not a [[standard]] of the file",
                    row.standard
                ),
            );
        }
        if check.required(&location, "id", &row.id) {
            if !is_id(&row.id) {
                check.add(
                    &location,
                    "id must start with a lower-case letter and contain only lower-case ASCII \
                     letters, digits, hyphens, dots and underscores",
                );
            }
            if !seen.insert((row.standard.clone(), row.id.clone())) {
                check.add(&location, "duplicate class id within the standard");
            }
        }
        check.required(&location, "name_zh", &row.name_zh);
        check.required(&location, "name_en", &row.name_en);
        check.optional(&location, "note", row.note.as_ref());
        let from = check.date(&location, "from", &row.from);
        let until = row
            .until
            .as_ref()
            .map(|until| check.date(&location, "until", until));
        if until.is_some_and(|until| until <= from) {
            check.add(&location, "until must be after from");
        }
        match row.reference_o2 {
            Some(o2) => {
                if standard.is_some_and(|s| s.medium != Medium::Air) {
                    check.add(&location, "reference_o2 applies to air standards only");
                }
                if !(0.0..21.0).contains(&o2) {
                    check.add(
                        &location,
                        format!("reference_o2 {o2} must be at least 0 and below 21 (%)"),
                    );
                }
                check.citations(&location, "the reference O2", &row.o2_citation);
            }
            None if !row.o2_citation.is_empty() => {
                check.add(&location, "o2_citation without reference_o2");
            }
            None => {}
        }
        classes.push(SourceClass {
            standard: row.standard,
            id: row.id,
            name_zh: row.name_zh,
            name_en: row.name_en,
            sources: row.sources,
            from,
            until,
            reference_o2: row.reference_o2,
            o2_citations: row.o2_citation,
            note: row.note,
        });
    }
    classes
}

fn read_limit(
    check: &mut Check<'_>,
    index: usize,
    row: LimitRow,
    factors: &[Factor],
    standards: &[Standard],
    classes: &[SourceClass],
) -> Option<Limit> {
    let location = format!(
        "limit #{index} ({} {} {}{})",
        row.standard,
        row.classes.join("+"),
        row.factor,
        if row.special { " special" } else { "" }
    );
    let standard = standards.iter().find(|s| s.id == row.standard);
    match standard {
        None => check.add(
            &location,
            format!(
                "standard \"{}\" is not a [[standard]] of the file",
                row.standard
            ),
        ),
        Some(standard) => {
            if row.classes.is_empty() {
                check.add(
                    &location,
                    "classes is empty: name the source classes it applies to",
                );
            }
            let mut seen = HashSet::new();
            for class in &row.classes {
                if !classes
                    .iter()
                    .any(|c| c.standard == standard.id && &c.id == class)
                {
                    check.add(
                        &location,
                        format!("class \"{class}\" is not a [[class]] of {}", standard.id),
                    );
                }
                if !seen.insert(class) {
                    check.add(&location, format!("class \"{class}\" is listed twice"));
                }
            }
            if row.unit.medium() != standard.medium {
                check.add(
                    &location,
                    format!(
                        "unit {} does not measure {} concentrations",
                        row.unit,
                        standard.medium.as_str()
                    ),
                );
            }
        }
    }
    match factors.iter().find(|f| f.code == row.factor) {
        None => check.add(
            &location,
            format!("factor \"{}\" is not a [[factor]] of the file", row.factor),
        ),
        Some(factor) => {
            if standard.is_some_and(|s| s.medium != factor.medium) {
                check.add(
                    &location,
                    format!(
                        "factor {} is a {} factor, the standard is for {}",
                        factor.code,
                        factor.medium.as_str(),
                        standard.map_or("", |s| s.medium.as_str())
                    ),
                );
            }
        }
    }
    if !(row.value.is_finite() && row.value > 0.0) {
        check.add(
            &location,
            format!("value {} must be a positive number", row.value),
        );
    }
    let from = check.date(&location, "from", &row.from);
    let until = row
        .until
        .as_ref()
        .map(|until| check.date(&location, "until", until));
    if until.is_some_and(|until| until <= from) {
        check.add(&location, "until must be after from");
    }
    if row.water_temp_above.is_some() && row.water_temp_at_most.is_some() {
        check.add(
            &location,
            "give water_temp_above or water_temp_at_most, not both (one row per condition)",
        );
    }
    if (row.water_temp_above.is_some() || row.water_temp_at_most.is_some())
        && standard.is_some_and(|s| s.medium != Medium::Water)
    {
        check.add(
            &location,
            "a water-temperature condition applies to water standards only",
        );
    }
    check.optional(&location, "amendment", row.amendment.as_ref());
    check.optional(&location, "note", row.note.as_ref());
    check.citations(&location, "the limit", &row.citation);
    Some(Limit {
        standard: row.standard,
        classes: row.classes,
        factor: row.factor,
        value: row.value,
        unit: row.unit,
        averaging: row.averaging,
        from,
        until,
        special: row.special,
        amendment: row.amendment,
        water_temp_above: row.water_temp_above,
        water_temp_at_most: row.water_temp_at_most,
        note: row.note,
        citations: row.citation,
    })
}

/// Two rows for the same class, factor, special flag and temperature condition must not be in
/// force on the same day: the judgement would not know which applies.
fn check_overlaps(check: &mut Check<'_>, limits: &[Limit]) {
    for (i, a) in limits.iter().enumerate() {
        for b in &limits[i + 1..] {
            let same_key = a.standard == b.standard
                && a.factor == b.factor
                && a.special == b.special
                && a.water_temp_above.map(f64::to_bits) == b.water_temp_above.map(f64::to_bits)
                && a.water_temp_at_most.map(f64::to_bits) == b.water_temp_at_most.map(f64::to_bits);
            if !same_key {
                continue;
            }
            let overlap = a.from < b.until.unwrap_or(NaiveDate::MAX)
                && b.from < a.until.unwrap_or(NaiveDate::MAX);
            if !overlap {
                continue;
            }
            for class in a.classes.iter().filter(|class| b.classes.contains(class)) {
                check.add(
                    &format!("limits of {}/{class}/{}", a.standard, a.factor),
                    format!(
                        "two{} limits ({} and {}) are in force at once from {}",
                        if a.special { " special" } else { "" },
                        a.value,
                        b.value,
                        a.from.max(b.from)
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn binding(standard: &str, class: &str, special: bool) -> OutletBinding {
        OutletBinding {
            standard: standard.into(),
            source_class: class.into(),
            special_limits: special,
        }
    }

    fn refused(text: &str) -> Vec<RuleFault> {
        match EmissionLimits::from_toml(text, &RuleBook::embedded()) {
            Ok(_) => panic!("the file was accepted"),
            Err(faults) => faults,
        }
    }

    fn assert_fault(faults: &[RuleFault], location: &str, message: &str) {
        assert!(
            faults
                .iter()
                .any(|f| f.location.contains(location) && f.message.contains(message)),
            "no fault …{location}…: …{message}… among:\n{}",
            faults
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn the_embedded_file_has_the_six_standards_the_issue_names_each_with_its_confidence() {
        let limits = EmissionLimits::embedded();
        assert!(!limits.version.is_empty());
        let on = day(2026, 6, 1);
        // (standard, class, factor, value, unit, averaging, reference O2, mark in the reference)
        let expected = [
            (
                "gb13223-2011",
                "coal_boiler.existing",
                "a21026",
                200.0,
                "mg/m3",
                Averaging::Hour,
                Some(6.0),
                LimitConfidence::Secondary,
            ),
            (
                "gb13223-2011",
                "coal_boiler.new",
                "a34013",
                30.0,
                "mg/m3",
                Averaging::Hour,
                Some(6.0),
                LimitConfidence::Recall,
            ),
            (
                "gb4915-2013",
                "kiln.existing",
                "a21002",
                400.0,
                "mg/m3",
                Averaging::Hour,
                Some(10.0),
                LimitConfidence::Recall,
            ),
            (
                "gb4915-2013",
                "dryer.new",
                "a21026",
                600.0,
                "mg/m3",
                Averaging::Hour,
                Some(8.0),
                LimitConfidence::Unsure,
            ),
            (
                "gb28662-2012",
                "sinter_head.existing",
                "a21026",
                200.0,
                "mg/m3",
                Averaging::Hour,
                Some(16.0),
                LimitConfidence::Recall,
            ),
            (
                "gb28662-2012",
                "pellet_grate_kiln.new",
                "a34013",
                50.0,
                "mg/m3",
                Averaging::Hour,
                Some(18.0),
                LimitConfidence::Recall,
            ),
            (
                "gb16297-1996",
                "general.new",
                "a34013",
                120.0,
                "mg/m3",
                Averaging::Hour,
                None,
                LimitConfidence::Recall,
            ),
            (
                "gb8978-1996",
                "grade_1",
                "w01018",
                100.0,
                "mg/L",
                Averaging::Day,
                None,
                LimitConfidence::Secondary,
            ),
            (
                "gb8978-1996",
                "first_category",
                "w20120",
                1.0,
                "mg/L",
                Averaging::Day,
                None,
                LimitConfidence::Recall,
            ),
            (
                "gb18918-2002",
                "grade_1a",
                "w01018",
                50.0,
                "mg/L",
                Averaging::Day,
                None,
                LimitConfidence::Secondary,
            ),
            (
                "gb18918-2002",
                "grade_1a",
                "w20115",
                0.01,
                "mg/L",
                Averaging::Day,
                None,
                LimitConfidence::Unsure,
            ),
        ];
        for (standard, class, factor, value, unit, averaging, o2, mark) in expected {
            let applied = limits
                .limit_for(&binding(standard, class, false), factor, on, None)
                .unwrap_or_else(|| panic!("{standard}/{class}/{factor} missing"));
            assert_eq!(applied.value, value, "{standard}/{class}/{factor}");
            assert_eq!(applied.unit.as_str(), unit);
            assert_eq!(applied.averaging, averaging);
            assert_eq!(applied.reference_o2, o2, "{standard}/{class}");
            assert_eq!(
                strongest(&applied.citations),
                mark,
                "{standard}/{class}/{factor}"
            );
            assert!(
                applied.needs_verification(),
                "no GB value here was read in the official text"
            );
            let standard = limits.standard(standard).unwrap();
            let document = RuleBook::embedded();
            assert!(document.document(&standard.document).is_some());
        }
        for id in [
            "gb13223-2011",
            "gb4915-2013",
            "gb28662-2012",
            "gb16297-1996",
            "gb8978-1996",
            "gb18918-2002",
        ] {
            assert!(
                limits.limits.iter().any(|l| l.standard == id),
                "{id} has no limit"
            );
        }
    }

    #[test]
    fn a_limit_is_in_force_for_a_class_from_the_later_of_its_date_and_the_classs() {
        let limits = EmissionLimits::embedded();
        let existing = binding("gb13223-2011", "coal_boiler.existing", false);
        // Existing coal-fired units are judged by GB 13223-2011 from 2014-07-01 only.
        assert!(limits
            .limit_for(&existing, "a21026", day(2014, 6, 30), None)
            .is_none());
        let so2 = limits
            .limit_for(&existing, "a21026", day(2014, 7, 1), None)
            .unwrap();
        assert_eq!(so2.effective_from, day(2014, 7, 1));
        assert_eq!(
            so2.id,
            "gb13223-2011/coal_boiler.existing/a21026@2014-07-01"
        );
        // Mercury from 2015-01-01 for every coal-fired class.
        assert!(limits
            .limit_for(&existing, "a20057", day(2014, 12, 31), None)
            .is_none());
        assert!(limits
            .limit_for(&existing, "a20057", day(2015, 1, 1), None)
            .is_some());
    }

    #[test]
    fn special_limits_apply_where_the_binding_says_and_fall_back_to_the_ordinary_limit() {
        let limits = EmissionLimits::embedded();
        let on = day(2026, 1, 1);
        let ordinary = limits
            .limit_for(
                &binding("gb4915-2013", "kiln.existing", false),
                "a21002",
                on,
                None,
            )
            .unwrap();
        let special = limits
            .limit_for(
                &binding("gb4915-2013", "kiln.existing", true),
                "a21002",
                on,
                None,
            )
            .unwrap();
        assert_eq!((ordinary.value, special.value), (400.0, 320.0));
        assert!(special.special && !special.special_missing);
        // GB 18918 has no special limits: the ordinary one applies, marked.
        let water = limits
            .limit_for(
                &binding("gb18918-2002", "grade_1a", true),
                "w01018",
                on,
                None,
            )
            .unwrap();
        assert_eq!(water.value, 50.0);
        assert!(!water.special && water.special_missing);
    }

    #[test]
    fn ammonia_nitrogen_of_gb_18918_depends_on_the_water_temperature_and_the_laxer_applies_when_unknown(
    ) {
        let limits = EmissionLimits::embedded();
        let plant = binding("gb18918-2002", "grade_1a", false);
        let on = day(2026, 1, 10);
        let warm = limits.limit_for(&plant, "w21003", on, Some(15.0)).unwrap();
        let cold = limits.limit_for(&plant, "w21003", on, Some(12.0)).unwrap();
        let unknown = limits.limit_for(&plant, "w21003", on, None).unwrap();
        assert_eq!((warm.value, cold.value, unknown.value), (5.0, 8.0, 8.0));
        assert_eq!(warm.temperature, TemperatureChoice::ByTemperature);
        assert_eq!(unknown.temperature, TemperatureChoice::UnknownLaxer);
    }

    #[test]
    fn units_convert_within_a_medium_only() {
        let ug = ConcentrationUnit::parse("µg/L").unwrap();
        assert_eq!(ug, ConcentrationUnit::UgPerL);
        assert_eq!(ug.factor_to(ConcentrationUnit::MgPerL), Some(1e-3));
        assert_eq!(
            ConcentrationUnit::MgPerL.factor_to(ConcentrationUnit::UgPerL),
            Some(1e3)
        );
        assert_eq!(
            ConcentrationUnit::MgPerM3.factor_to(ConcentrationUnit::MgPerL),
            None
        );
        assert_eq!(
            ConcentrationUnit::parse("mg/m³"),
            Some(ConcentrationUnit::MgPerM3)
        );
        assert_eq!(ConcentrationUnit::parse("ppm"), None);
    }

    #[test]
    fn a_binding_is_checked_against_the_file_and_the_outlets_medium() {
        let limits = EmissionLimits::embedded();
        assert!(limits
            .check(
                &binding("gb13223-2011", "coal_boiler.new", false),
                Medium::Air
            )
            .is_ok());
        let errors = limits
            .check(&binding("gb13223-2011", "kiln.new", false), Medium::Water)
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["standard", "source_class"]);
        let unknown = limits
            .check(&binding("gb99999", "x", false), Medium::Air)
            .unwrap_err();
        assert_eq!(unknown[0].code, "unknown_standard");
    }

    #[test]
    fn faults_name_the_entry_and_are_all_reported_at_once() {
        let text = EMISSION_LIMITS_TOML
            .replacen("value = 100.0", "value = -1.0", 1)
            .replacen(
                "classes = [\"coal_boiler.new\"]",
                "classes = [\"coal_boiler.newer\"]",
                1,
            );
        let faults = refused(&text);
        assert_fault(&faults, "limit #", "must be a positive number");
        assert_fault(
            &faults,
            "limit #",
            "class \"coal_boiler.newer\" is not a [[class]]",
        );
        assert!(faults.len() >= 2, "{faults:?}");
        let unknown_key = refused(&EMISSION_LIMITS_TOML.replacen(
            "averaging = \"hour\"",
            "averaging = \"hour\"\naveraging_period = \"hour\"",
            1,
        ));
        assert_fault(&unknown_key, "syntax", "averaging_period");
    }

    #[test]
    fn two_limits_in_force_at_once_for_one_class_and_factor_are_refused() {
        let text = format!(
            "{EMISSION_LIMITS_TOML}\n[[limit]]\nstandard = \"gb8978-1996\"\nclasses = [\"grade_1\"]\n\
             factor = \"w01018\"\nvalue = 90.0\nunit = \"mg/L\"\naveraging = \"day\"\nfrom = 2020-01-01\n\
             citation = [{{ document = \"gb8978-1996\", article = \"表4\", confidence = \"recall\" }}]\n"
        );
        let faults = refused(&text);
        assert_fault(
            &faults,
            "limits of gb8978-1996/grade_1/w01018",
            "in force at once",
        );
    }
}
