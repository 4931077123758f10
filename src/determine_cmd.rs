//! `cpaudit determine`: the year's determination over the database as the console operator
//! (province scope) sees it, one enterprise's full explanation, each city's proposed plan, and
//! the timings the determination benchmark reports.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use cpaudit_app::cycle::{self, Determined, Proposal};
use cpaudit_app::{App, Clock, SystemAuthority};
use cpaudit_core::determination::{Determination, DeterminationRules, Outcome, Reason};
use cpaudit_core::planning::PlanSettings;
use cpaudit_core::reference::ReferenceData;
use cpaudit_storage::Db;
use serde::Serialize;

use crate::rules_cmd::confidence_label;

#[derive(Debug, Args)]
pub struct DetermineArgs {
    /// The list year.
    #[arg(long)]
    year: i32,
    /// Only this city (jurisdiction code, e.g. 620100).
    #[arg(long)]
    city: Option<String>,
    /// Only this enterprise, by id or by 18-character credit code; prints its full explanation.
    #[arg(long)]
    enterprise: Option<String>,
    /// Determine (and plan) as on this date, YYYY-MM-DD (default: today in China Standard Time).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Also propose each city's lists over the planning window and print the counts per year.
    #[arg(long, conflicts_with = "json")]
    plan: bool,
    /// Print the time to load the facts, to determine, to plan, the total and the peak memory.
    #[arg(long)]
    timing: bool,
    /// Print the determinations as JSON lines instead of the counts (timings go to stderr).
    #[arg(long)]
    json: bool,
}

/// The clock of the command: the `--as-of` day, so that the plan (which reads "today" from the
/// application) and the determination use the same date.
struct AsOfClock(DateTime<Utc>);

impl Clock for AsOfClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// How long each step took.
#[derive(Default)]
struct Timings {
    open: Duration,
    load: Duration,
    determine: Duration,
    plan: Option<(Duration, usize)>,
}

pub async fn run(database_url: &str, reference: ReferenceData, args: DetermineArgs) -> Result<()> {
    let started = Instant::now();
    let mut timings = Timings::default();
    if let Some(city) = &args.city {
        if reference.city(city).is_none() {
            bail!("unknown city code {city}");
        }
    }
    let db = crate::setup::open_database(database_url, &reference).await?;
    timings.open = started.elapsed();
    // 04:00 UTC is noon in China Standard Time: well inside the as-of day there.
    let now = match args.as_of {
        Some(day) => day
            .and_hms_opt(4, 0, 0)
            .context("the --as-of date")?
            .and_utc(),
        None => Utc::now(),
    };
    let app = App::new(db, reference, Arc::new(AsOfClock(now)));
    let as_of = app.today();
    let authority = SystemAuthority::console("determine");
    let operator = authority.principal();
    let enterprise_id = match &args.enterprise {
        Some(text) => Some(enterprise_id(app.db(), text).await?),
        None => None,
    };
    let rules = DeterminationRules::from_book(app.rules(), as_of)
        .with_context(|| format!("the rule book has no usable determination rules on {as_of}"))?;

    // The two steps of `cycle::determine_scope`, run apart so that the timing can tell loading
    // from computing.
    let step = Instant::now();
    let records = app
        .db()
        .determination_facts(operator.scope(), args.city.as_deref(), enterprise_id)
        .await?;
    timings.load = step.elapsed();
    let step = Instant::now();
    let determined = cycle::determine_records(records, args.year, as_of, &rules);
    timings.determine = step.elapsed();
    if let (Some(text), true) = (&args.enterprise, determined.is_empty()) {
        bail!("enterprise {text} is not in the database");
    }

    if args.json {
        print_json(&determined)?;
    } else {
        println!(
            "list year {}, as of {as_of}, rule book {}",
            args.year,
            app.rules().version
        );
        if args.enterprise.is_some() {
            for item in &determined {
                print_explanation(item, &app);
            }
        } else {
            print_counts(&determined);
        }
    }
    // The plans load their own copies of the facts; holding this one meanwhile would double
    // the peak memory.
    drop(determined);
    if args.plan {
        let cities: Vec<String> = match &args.city {
            Some(city) => vec![city.clone()],
            None => app.reference().cities().map(|c| c.code.clone()).collect(),
        };
        let step = Instant::now();
        let mut rows = Vec::new();
        let mut settings = None;
        for city in &cities {
            let proposal = cycle::propose_city(&app, operator, city, args.year)
                .await
                .with_context(|| format!("planning {city} failed"))?;
            // Only the counts are kept: a proposal holds its city's facts.
            rows.push((city.as_str(), plan_row(&proposal)));
            settings = Some(proposal.settings);
        }
        timings.plan = Some((step.elapsed(), cities.len()));
        if let Some(settings) = settings {
            print_plans(&settings, &rows, &app);
        }
    }
    if args.timing {
        let total = started.elapsed();
        // Keep standard output pure JSON lines when --json is given.
        if args.json {
            print_timings(&mut std::io::stderr().lock(), &timings, total)?;
        } else {
            print_timings(&mut std::io::stdout().lock(), &timings, total)?;
        }
    }
    Ok(())
}

/// An id, or a credit code (18 characters, which an id of this database never reaches).
async fn enterprise_id(db: &Db, text: &str) -> Result<i64> {
    if text.chars().count() != 18 {
        return text.parse().with_context(|| {
            format!("--enterprise {text}: give an id or an 18-character credit code")
        });
    }
    let code = text.to_string();
    db.registered_credit_codes(std::slice::from_ref(&code))
        .await?
        .get(&code)
        .map(|(id, _)| *id)
        .with_context(|| format!("no enterprise with credit code {code}"))
}

/// One JSON line: the enterprise as the registry names it, then its determination.
#[derive(Serialize)]
struct JsonLine<'a> {
    credit_code: &'a str,
    name: &'a str,
    jurisdiction_code: &'a str,
    industry_code: &'a str,
    #[serde(flatten)]
    determination: &'a Determination,
}

fn print_json(determined: &[Determined]) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = determined.iter().try_for_each(|item| {
        let line = JsonLine {
            credit_code: &item.record.credit_code,
            name: &item.record.facts.name,
            jurisdiction_code: &item.record.jurisdiction_code,
            industry_code: &item.record.industry_code,
            determination: &item.determination,
        };
        serde_json::to_writer(&mut out, &line)?;
        writeln!(out)
    });
    match written.and_then(|()| out.flush()) {
        // A reader that stops early (`| head`) is not a failure of the command.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

const OUTCOMES: [Outcome; 3] = [
    Outcome::MustAudit,
    Outcome::DeemedAudited,
    Outcome::NotRequired,
];

fn print_counts(determined: &[Determined]) {
    let facts = determined.iter().map(|item| &item.record.facts);
    let evidence: usize = facts.clone().map(|f| f.evidence.len()).sum();
    let rounds: usize = facts.clone().map(|f| f.rounds.len()).sum();
    let pilots: usize = facts.map(|f| f.park_pilots.len()).sum();
    println!(
        "{} enterprises with {evidence} pieces of evidence, {rounds} past rounds and \
         {pilots} park pilot memberships",
        determined.len()
    );
    for outcome in OUTCOMES {
        let with_outcome: Vec<&Determination> = determined
            .iter()
            .map(|item| &item.determination)
            .filter(|d| d.outcome == outcome)
            .collect();
        let mut line = format!(
            "{:>8}  {} {}",
            with_outcome.len(),
            outcome.label_en(),
            outcome.label_zh()
        );
        if outcome == Outcome::MustAudit {
            let this_year = with_outcome.iter().filter(|d| d.list_this_year).count();
            let overdue = with_outcome.iter().filter(|d| d.overdue).count();
            line.push_str(&format!(
                " (on this year's list: {this_year}; overdue: {overdue})"
            ));
        }
        println!("{line}");
        for reason in Reason::ALL {
            let count = with_outcome
                .iter()
                .filter(|d| d.reasons.contains(&reason))
                .count();
            if count > 0 {
                println!("{:>18}  {} {}", count, reason.label_en(), reason.label_zh());
            }
        }
    }
}

fn print_explanation(item: &Determined, app: &App) {
    let d = &item.determination;
    let record = &item.record;
    let city = app
        .reference()
        .jurisdiction(&record.jurisdiction_code)
        .map_or(record.jurisdiction_code.as_str(), |j| j.name_zh.as_str());
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    println!(
        "enterprise {} {} (credit code {}, {city}, industry {})",
        d.enterprise_id, record.facts.name, record.credit_code, record.industry_code
    );
    println!(
        "outcome: {} / {}",
        d.outcome.label_zh(),
        d.outcome.label_en()
    );
    println!(
        "reasons: {}",
        list(
            d.reasons
                .iter()
                .map(|r| format!("{} / {}", r.label_zh(), r.label_en()))
                .collect()
        )
    );
    println!(
        "toxic categories: {}",
        list(d.toxic_categories.iter().map(u8::to_string).collect())
    );
    let due = match d.due_year {
        Some(year) if d.overdue => format!("{year} (overdue)"),
        Some(year) => year.to_string(),
        None => "none".to_string(),
    };
    println!("due year: {due}");
    println!(
        "on the list of {}: {}",
        d.year,
        if d.list_this_year { "yes" } else { "no" }
    );
    println!(
        "evidence that counted: {}",
        list(d.evidence_ids.iter().map(|id| format!("#{id}")).collect())
    );
    println!("explanation:");
    for (number, line) in d.explanation.iter().enumerate() {
        println!("  {}. {}", number + 1, line.zh);
        println!("     {}", line.en);
        println!(
            "     evidence: {}; rules: {}",
            list(
                line.evidence_ids
                    .iter()
                    .map(|id| format!("#{id}"))
                    .collect()
            ),
            list(line.rule_ids.clone())
        );
    }
    println!("rules used:");
    for rule in &d.rules {
        println!(
            "  {} = {} (in force from {}, rule book {})",
            rule.id, rule.value, rule.effective_from, rule.book_version
        );
        for citation in &rule.citations {
            let title = app
                .rules()
                .document(&citation.document)
                .map_or(citation.document.as_str(), |doc| doc.title.as_str());
            println!(
                "      {title} {} — {}",
                citation.article,
                confidence_label(citation.confidence)
            );
        }
    }
}

/// A city's row: the enterprises on each year's list of the window, those due after it, and
/// those already on a published list of the first year.
fn plan_row(proposal: &Proposal) -> Vec<usize> {
    let settings = &proposal.settings;
    let mut row: Vec<usize> = (settings.first_year..=settings.last_year())
        .map(|year| proposal.plan.counts.get(&year).copied().unwrap_or(0))
        .collect();
    row.push(
        proposal
            .plan
            .assignments
            .iter()
            .filter(|a| a.year.is_none())
            .count(),
    );
    row.push(proposal.already_listed);
    row
}

fn print_plans(settings: &PlanSettings, rows: &[(&str, Vec<usize>)], app: &App) {
    println!();
    println!(
        "plan of the lists {}–{} (levelling slack {} years); each year counts the enterprises \
         already on a published list and the proposed ones",
        settings.first_year,
        settings.last_year(),
        settings.levelling_slack_years
    );
    let mut header = format!("{:<8}", "CITY");
    for year in settings.first_year..=settings.last_year() {
        header.push_str(&format!(" {year:>7}"));
    }
    println!("{header} {:>7} {:>7}  NAME", "LATER", "LISTED");
    let mut totals = vec![0; rows.first().map_or(0, |(_, row)| row.len())];
    for (city, row) in rows {
        let name = app
            .reference()
            .city(city)
            .map_or("", |c| c.name_zh.as_str());
        print_row(city, row, name);
        for (total, value) in totals.iter_mut().zip(row) {
            *total += value;
        }
    }
    if rows.len() > 1 {
        print_row("total", &totals, "");
    }
}

fn print_row(label: &str, values: &[usize], name: &str) {
    let mut line = format!("{label:<8}");
    for value in values {
        line.push_str(&format!(" {value:>7}"));
    }
    println!("{line}  {name}");
}

fn print_timings(out: &mut dyn Write, timings: &Timings, total: Duration) -> Result<()> {
    let seconds = |duration: Duration| format!("{:>8.3} s", duration.as_secs_f64());
    writeln!(out)?;
    writeln!(out, "timing")?;
    writeln!(out, "  open database  {}", seconds(timings.open))?;
    writeln!(out, "  load facts     {}", seconds(timings.load))?;
    writeln!(out, "  determine      {}", seconds(timings.determine))?;
    if let Some((plan, cities)) = timings.plan {
        writeln!(
            out,
            "  plan           {}  ({cities} cities; each proposal loads and determines its city \
             again, then levels)",
            seconds(plan)
        )?;
    }
    writeln!(out, "  total          {}", seconds(total))?;
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    let peak = match (status_kib("VmHWM"), status_kib("RssFile")) {
        (Some(peak), Some(file)) => format!(
            "{} (VmHWM; {} of the resident set at the end are file pages: the program and, on \
             SQLite, the database file mapped into memory)",
            mib(peak),
            mib(file)
        ),
        (Some(peak), None) => format!("{} (VmHWM)", mib(peak)),
        (None, _) => "unavailable".to_string(),
    };
    writeln!(out, "  peak memory    {peak}")?;
    Ok(())
}

/// A memory figure of this process in KiB from Linux's /proc (`VmHWM`: the peak resident set;
/// `RssFile`: resident file pages); `None` elsewhere.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
}
