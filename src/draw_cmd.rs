//! `cpaudit draw verify FILE`: anyone holding a published draw recomputes it.
//!
//! The file is the department's full draw record or the public copy of it (as JSON); either is
//! recomputed with `cpaudit_core::draw`, with no database. The exit code says the verdict: 0
//! when the record matches, 1 when it does not, 2 when the file is not a draw record at all.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use cpaudit_core::draw::{verify, verify_public, DrawRecord, PublicDraw, Verification};

#[derive(Debug, Subcommand)]
pub enum DrawCommand {
    /// Recompute a draw from its record: prints MATCH with the panel (exit code 0), or MISMATCH
    /// with each difference (exit code 1); a file that is not a draw record exits with 2.
    Verify {
        /// The draw record or its public copy, as JSON.
        file: PathBuf,
    },
}

/// Runs a `draw` command; its exit code is the verdict.
pub fn run(command: DrawCommand) -> ExitCode {
    match command {
        DrawCommand::Verify { file } => match read(&file) {
            Ok(draw) => report(&draw),
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            }
        },
    }
}

/// A draw in either published form.
enum Published {
    Record(DrawRecord),
    Public(PublicDraw),
}

fn read(path: &Path) -> Result<Published> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{shown} is not JSON"))?;
    // Only the public copy says whether names are shown, so the field tells the forms apart
    // and a fault is reported against the form the file claims to be.
    let parsed = if value.get("names_shown").is_some() {
        serde_json::from_value(value).map(Published::Public)
    } else {
        serde_json::from_value(value).map(Published::Record)
    };
    parsed.with_context(|| format!("{shown} is not a draw record"))
}

fn report(draw: &Published) -> ExitCode {
    let (verification, panel, alternates, hash): (Verification, &[u32], &[u32], &str) = match draw {
        Published::Record(record) => (
            verify(record),
            &record.panel,
            &record.alternates,
            &record.outcome_hash,
        ),
        Published::Public(copy) => (
            verify_public(copy),
            &copy.panel,
            &copy.alternates,
            &copy.outcome_hash,
        ),
    };
    if !verification.matches() {
        println!("MISMATCH");
        for mismatch in &verification.mismatches {
            println!("  {mismatch}");
        }
        return ExitCode::FAILURE;
    }
    println!("MATCH");
    println!("panel (pool numbers, ranked): {}", joined(panel));
    println!("alternates (ranked): {}", joined(alternates));
    println!("outcome hash: {hash}");
    ExitCode::SUCCESS
}

fn joined(numbers: &[u32]) -> String {
    if numbers.is_empty() {
        return "-".to_string();
    }
    numbers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
