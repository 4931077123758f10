//! `cpaudit rules check | show | list`: the rule files as an official or a CI job sees them.
//!
//! `check` loads every rule file with the loaders the server uses (so it refuses exactly what the
//! server would refuse), adds the cross-file check, and prints each fault as
//! `file: location: message` so that whoever edits a file can fix every fault in one pass.

use std::path::PathBuf;

use anyhow::{bail, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use cpaudit_core::emission_limits::{EmissionLimits, EMISSION_LIMITS_TOML};
use cpaudit_core::periods::{CalendarError, HolidayCalendar, CHINA_CALENDAR_TOML};
use cpaudit_core::reference::{
    ReferenceData, ReferenceError, GANSU_INDUSTRIES_TOML, GANSU_JURISDICTIONS_TOML, INDUSTRIES,
    JURISDICTIONS,
};
use cpaudit_core::rules::{
    Confidence, Parameter, RuleBook, RuleCitation, RuleError, RuleFault, ValuePeriod,
    DOCUMENTS_TOML, GANSU_PARAMETERS_TOML,
};
use cpaudit_core::scoring::{ScoringBook, GANSU_SCORING_TOML};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load and check every rule file: prints each fault as `file: location: message` and a
    /// summary; exit code 1 on any fault.
    Check {
        #[command(flatten)]
        source: RuleSource,
    },
    /// One parameter: its names and unit, the value in force on a date with its period, and
    /// every citation with its confidence.
    Show {
        /// Parameter id, e.g. deadline.disclose (`cpaudit rules list` shows them all).
        id: String,
        /// The date (YYYY-MM-DD; default: today in China Standard Time).
        #[arg(long)]
        at: Option<NaiveDate>,
        #[command(flatten)]
        source: RuleSource,
    },
    /// Every parameter with the value in force on a date and how sure that value is.
    List {
        /// The date (YYYY-MM-DD; default: today in China Standard Time).
        #[arg(long)]
        at: Option<NaiveDate>,
        #[command(flatten)]
        source: RuleSource,
    },
}

/// Where the rule files come from: the embedded Gansu files, or a folder laid out like the
/// repository's `rules/`.
#[derive(Debug, Args)]
pub struct RuleSource {
    /// Read the rule files from this folder instead of the embedded ones:
    /// DIR/documents.toml, DIR/emission_limits.toml,
    /// DIR/PROVINCE/{parameters,scoring,jurisdictions,industries}.toml and
    /// DIR/calendars/china.toml.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The province's folder under --dir.
    #[arg(long, default_value = "gansu", requires = "dir")]
    province: String,
}

/// One rule file: its text (`None` when it could not be read) and the name faults give it.
struct RuleText {
    label: String,
    text: Option<String>,
}

struct RuleTexts {
    documents: RuleText,
    parameters: RuleText,
    scoring: RuleText,
    limits: RuleText,
    jurisdictions: RuleText,
    industries: RuleText,
    calendar: RuleText,
}

impl RuleSource {
    /// Reads the files; a file that cannot be read is a fault.
    fn read(&self, faults: &mut Vec<String>) -> RuleTexts {
        let Some(dir) = &self.dir else {
            let embedded = |path: &str, text: &str| RuleText {
                label: format!("{path} (embedded)"),
                text: Some(text.to_string()),
            };
            return RuleTexts {
                documents: embedded("rules/documents.toml", DOCUMENTS_TOML),
                parameters: embedded("rules/gansu/parameters.toml", GANSU_PARAMETERS_TOML),
                scoring: embedded("rules/gansu/scoring.toml", GANSU_SCORING_TOML),
                limits: embedded("rules/emission_limits.toml", EMISSION_LIMITS_TOML),
                jurisdictions: embedded("rules/gansu/jurisdictions.toml", GANSU_JURISDICTIONS_TOML),
                industries: embedded("rules/gansu/industries.toml", GANSU_INDUSTRIES_TOML),
                calendar: embedded("rules/calendars/china.toml", CHINA_CALENDAR_TOML),
            };
        };
        let mut read = |path: PathBuf| {
            let label = path.display().to_string();
            let text = std::fs::read_to_string(&path)
                .map_err(|error| faults.push(format!("{label}: cannot read: {error}")))
                .ok();
            RuleText { label, text }
        };
        let province = dir.join(&self.province);
        RuleTexts {
            documents: read(dir.join("documents.toml")),
            parameters: read(province.join("parameters.toml")),
            scoring: read(province.join("scoring.toml")),
            limits: read(dir.join("emission_limits.toml")),
            jurisdictions: read(province.join("jurisdictions.toml")),
            industries: read(province.join("industries.toml")),
            calendar: read(dir.join("calendars").join("china.toml")),
        }
    }

    /// The rule book alone, for the commands that only look values up.
    fn book(&self) -> Result<RuleBook> {
        let mut faults = Vec::new();
        let texts = self.read(&mut faults);
        if let Some(book) = texts.book(&mut faults) {
            return Ok(book);
        }
        bail!(
            "the rule files have faults (run `cpaudit rules check` for all of them):\n{}",
            faults.join("\n")
        )
    }
}

/// The loaders the server uses. A file that could not be read is not loaded (its fault is
/// already reported), so that one missing file does not bring a cascade of parse faults.
impl RuleTexts {
    fn book(&self, faults: &mut Vec<String>) -> Option<RuleBook> {
        let (Some(documents), Some(parameters)) = (&self.documents.text, &self.parameters.text)
        else {
            return None;
        };
        RuleBook::from_toml(documents, parameters)
            .map_err(|book_faults| faults.extend(book_faults.iter().map(|f| self.rule_fault(f))))
            .ok()
    }

    /// The scoring forms; their citations name documents of the book.
    fn scoring(&self, book: &RuleBook, faults: &mut Vec<String>) -> Option<ScoringBook> {
        ScoringBook::from_toml(self.scoring.text.as_deref()?, book)
            .map_err(|scoring_faults| {
                faults.extend(
                    scoring_faults
                        .iter()
                        .map(|f| format!("{}: {}: {}", self.scoring.label, f.location, f.message)),
                )
            })
            .ok()
    }

    /// The emission limits; their citations name documents of the book.
    fn limits(&self, book: &RuleBook, faults: &mut Vec<String>) -> Option<EmissionLimits> {
        EmissionLimits::from_toml(self.limits.text.as_deref()?, book)
            .map_err(|limit_faults| {
                faults.extend(
                    limit_faults
                        .iter()
                        .map(|f| format!("{}: {}: {}", self.limits.label, f.location, f.message)),
                )
            })
            .ok()
    }

    fn reference(&self, faults: &mut Vec<String>) -> Option<ReferenceData> {
        let (Some(jurisdictions), Some(industries)) =
            (&self.jurisdictions.text, &self.industries.text)
        else {
            return None;
        };
        ReferenceData::from_toml(jurisdictions, industries)
            .map_err(|error| faults.push(self.reference_fault(&error)))
            .ok()
    }

    fn calendar(&self, faults: &mut Vec<String>) -> Option<HolidayCalendar> {
        HolidayCalendar::from_toml(self.calendar.text.as_deref()?)
            .map_err(|error| faults.push(self.calendar_fault(&error)))
            .ok()
    }

    /// A rule book fault, named by the path it came from. The loader reads text, not files, so
    /// its faults carry the file's base name; `check_against` faults belong to the parameters.
    fn rule_fault(&self, fault: &RuleFault) -> String {
        let file = match fault.file.as_str() {
            "documents.toml" => &self.documents.label,
            "parameters.toml" => &self.parameters.label,
            other => other,
        };
        format!("{file}: {}: {}", fault.location, fault.message)
    }

    fn reference_fault(&self, error: &ReferenceError) -> String {
        let file = match error {
            ReferenceError::Syntax { file, .. }
            | ReferenceError::EffectiveFrom { file, .. }
            | ReferenceError::EmptyField { file, .. }
            | ReferenceError::Duplicate { file, .. }
            | ReferenceError::InvalidId { file, .. } => *file,
            ReferenceError::ProvinceCount { .. }
            | ReferenceError::InvalidJurisdiction { .. }
            | ReferenceError::UnknownParent { .. } => JURISDICTIONS,
            ReferenceError::InvalidIndustryCode { .. }
            | ReferenceError::UnknownKeyIndustry { .. }
            | ReferenceError::UnknownProvinceIndustry { .. } => INDUSTRIES,
        };
        let label = if file == INDUSTRIES {
            &self.industries.label
        } else {
            &self.jurisdictions.label
        };
        // The message starts with the file's short name, which the path replaces.
        let message = error.to_string();
        let message = message
            .strip_prefix(&format!("{file}: "))
            .unwrap_or(&message);
        format!("{label}: {message}")
    }

    fn calendar_fault(&self, error: &CalendarError) -> String {
        let message = error.to_string();
        let message = message
            .strip_prefix("holiday calendar: ")
            .or_else(|| message.strip_prefix("holiday calendar, "))
            .unwrap_or(&message);
        format!("{}: {message}", self.calendar.label)
    }
}

pub fn run(command: RulesCommand, today: NaiveDate) -> Result<std::process::ExitCode> {
    match command {
        RulesCommand::Check { source } => Ok(check(&source)),
        RulesCommand::Show { id, at, source } => {
            show(&source.book()?, &id, at.unwrap_or(today))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        RulesCommand::List { at, source } => {
            list(&source.book()?, at.unwrap_or(today));
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

fn check(source: &RuleSource) -> std::process::ExitCode {
    let mut faults = Vec::new();
    let texts = source.read(&mut faults);
    let book = texts.book(&mut faults);
    let scoring = book
        .as_ref()
        .and_then(|book| texts.scoring(book, &mut faults));
    let limits = book
        .as_ref()
        .and_then(|book| texts.limits(book, &mut faults));
    let reference = texts.reference(&mut faults);
    let calendar = texts.calendar(&mut faults);
    if let (Some(book), Some(reference)) = (&book, &reference) {
        faults.extend(
            book.check_against(reference)
                .iter()
                .map(|f| texts.rule_fault(f)),
        );
    }
    for fault in &faults {
        println!("{fault}");
    }
    println!(
        "{}",
        summary(book.as_ref(), reference.as_ref(), calendar.as_ref())
    );
    println!("{}", scoring_summary(scoring.as_ref()));
    println!("{}", limits_summary(limits.as_ref()));
    if faults.is_empty() {
        println!("OK: no faults");
        std::process::ExitCode::SUCCESS
    } else {
        println!("FAILED: {} fault(s)", faults.len());
        std::process::ExitCode::FAILURE
    }
}

/// One line on what loaded; a file that did not load is said to have faults.
fn summary(
    book: Option<&RuleBook>,
    reference: Option<&ReferenceData>,
    calendar: Option<&HolidayCalendar>,
) -> String {
    let book = book.map_or_else(
        || "rule book: not loaded".to_string(),
        |book| {
            let periods: Vec<&ValuePeriod> =
                book.parameters.iter().flat_map(|p| &p.values).collect();
            let count = |confidence: Confidence| {
                periods
                    .iter()
                    .filter(|period| standing(&period.citations) == confidence)
                    .count()
            };
            format!(
                "rule book {}: {} parameters with {} values ({} unverified, {} partly verified, \
                 {} design, {} local practice, {} verified), {} documents",
                book.version,
                book.parameters.len(),
                periods.len(),
                count(Confidence::Unverified),
                count(Confidence::PartlyVerified),
                count(Confidence::Design),
                count(Confidence::LocalPractice),
                count(Confidence::Verified),
                book.documents.len()
            )
        },
    );
    let calendar = calendar.map_or_else(
        || "calendar: not loaded".to_string(),
        |calendar| {
            let years: Vec<String> = calendar.years().map(|y| y.year.to_string()).collect();
            format!(
                "calendar {}: {} years ({})",
                calendar.version(),
                years.len(),
                years.join(", ")
            )
        },
    );
    let reference = reference.map_or_else(
        || "reference data: not loaded".to_string(),
        |reference| {
            format!(
                "{} cities, {} key industries",
                reference.cities().count(),
                reference.key_industries.len()
            )
        },
    );
    format!("{book}; {calendar}; {reference}")
}

/// One line on the scoring forms: how many, of which kinds.
fn scoring_summary(scoring: Option<&ScoringBook>) -> String {
    scoring.map_or_else(
        || "scoring forms: not loaded".to_string(),
        |scoring| {
            let versions: Vec<&str> = scoring.forms.iter().map(|f| f.version.as_str()).collect();
            format!(
                "scoring forms {}: {} forms ({})",
                scoring.version,
                versions.len(),
                versions.join(", ")
            )
        },
    )
}

/// One line on the emission limits: how many, of which standards, and how many rest only on
/// recall or doubt.
fn limits_summary(limits: Option<&EmissionLimits>) -> String {
    limits.map_or_else(
        || "emission limits: not loaded".to_string(),
        |limits| {
            let unsettled = limits
                .limits
                .iter()
                .filter(|limit| limit.confidence().needs_verification())
                .count();
            let standards: Vec<&str> = limits.standards.iter().map(|s| s.code.as_str()).collect();
            format!(
                "emission limits {}: {} limits of {} source classes ({} need verification against \
                 the official text), standards {}",
                limits.version,
                limits.limits.len(),
                limits.classes.len(),
                unsettled,
                standards.join(", ")
            )
        },
    )
}

/// How settled a value is. A value resting only on partly verified or unverified citations needs
/// verification (as `RuleRef::needs_verification` decides); otherwise its strongest other
/// citation says what it rests on.
fn standing(citations: &[RuleCitation]) -> Confidence {
    let confidences = citations.iter().map(|citation| citation.confidence);
    if confidences.clone().all(Confidence::needs_verification) {
        if confidences.clone().any(|c| c == Confidence::PartlyVerified) {
            Confidence::PartlyVerified
        } else {
            Confidence::Unverified
        }
    } else {
        confidences
            .filter(|c| !c.needs_verification())
            .min()
            .unwrap_or(Confidence::Design)
    }
}

/// Loud where a value is not settled: an official must not take it for law.
pub(crate) fn confidence_label(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::Verified => "verified",
        Confidence::PartlyVerified => "partly verified — NEEDS VERIFICATION",
        Confidence::Unverified => "UNVERIFIED — check against the official text",
        Confidence::LocalPractice => "local practice",
        Confidence::Design => "design — a decision of this system, not law",
    }
}

/// The short marker of `rules list`.
fn confidence_marker(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::Verified => "verified",
        Confidence::PartlyVerified => "partly verified",
        Confidence::Unverified => "UNVERIFIED",
        Confidence::LocalPractice => "local practice",
        Confidence::Design => "design",
    }
}

/// The days a period is in force, e.g. "2016-07-01 onwards" or "2016-07-01 to 2020-12-31".
fn period_span(parameter: &Parameter, index: usize) -> String {
    let period = &parameter.values[index];
    let end = period
        .until
        .or_else(|| parameter.values.get(index + 1).map(|next| next.from));
    match end.and_then(|end| end.pred_opt()) {
        Some(last) => format!("{} to {last}", period.from),
        None => format!("{} onwards", period.from),
    }
}

fn show(book: &RuleBook, id: &str, on: NaiveDate) -> Result<()> {
    let in_force = book.at(id, on).map_err(|error| match &error {
        RuleError::UnknownParameter { .. } => {
            anyhow::anyhow!("{error}; `cpaudit rules list` shows every id")
        }
        _ => match book.parameter(id).and_then(|p| p.values.first()) {
            Some(first) => {
                anyhow::anyhow!("{error} (its first value is in force from {})", first.from)
            }
            None => anyhow::anyhow!("{error}"),
        },
    })?;
    let parameter = in_force.parameter;
    let period = in_force.period;
    let index = parameter
        .values
        .iter()
        .position(|p| std::ptr::eq(p, period))
        .unwrap_or_default();
    println!(
        "{} — {} / {}",
        parameter.id, parameter.name_zh, parameter.name_en
    );
    println!("unit: {}", parameter.unit);
    println!("{}", parameter.description);
    println!();
    println!("value on {on}: {}", period.value.describe(parameter.unit));
    println!(
        "  in force {} (rule book {})",
        period_span(parameter, index),
        book.version
    );
    println!(
        "  standing: {}",
        confidence_label(standing(&period.citations))
    );
    if let Some(note) = &period.note {
        println!("  note: {note}");
    }
    println!();
    println!("citations:");
    for (number, citation) in period.citations.iter().enumerate() {
        let document = book.document(&citation.document);
        let title = document.map_or(citation.document.as_str(), |d| d.title.as_str());
        let number_text = document
            .and_then(|d| d.number.as_deref())
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        println!(
            "  {}. {title}{number_text} [{}]",
            number + 1,
            citation.document
        );
        println!("     article: {}", citation.article);
        println!("     confidence: {}", confidence_label(citation.confidence));
        if let Some(quote) = &citation.quote {
            println!("     quote: 「{quote}」");
        }
        if let Some(note) = &citation.note {
            println!("     note: {note}");
        }
    }
    if parameter.values.len() > 1 {
        println!();
        println!("all values:");
        for (position, other) in parameter.values.iter().enumerate() {
            let marker = if position == index { "*" } else { " " };
            println!(
                "  {marker} {:<28} {:<24} {}",
                period_span(parameter, position),
                other.value.describe(parameter.unit),
                confidence_marker(standing(&other.citations))
            );
        }
    }
    Ok(())
}

/// Long texts (the toxic categories) are cut so that one parameter stays on one line.
const LIST_VALUE_CHARS: usize = 48;

fn list(book: &RuleBook, on: NaiveDate) {
    println!("rule book {}, values in force on {on}", book.version);
    println!("{:<44} {:<16} VALUE", "ID", "STANDING");
    for parameter in &book.parameters {
        let (marker, value) = match parameter.period_at(on) {
            Some(period) => (
                confidence_marker(standing(&period.citations)),
                period.value.describe(parameter.unit),
            ),
            None => ("-", "(no value in force)".to_string()),
        };
        let shown: String = value.chars().take(LIST_VALUE_CHARS).collect();
        let cut = if shown.len() < value.len() { "…" } else { "" };
        println!("{:<44} {marker:<16} {shown}{cut}", parameter.id);
    }
}
