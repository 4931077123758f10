//! The `cpaudit` command: configuration, the subcommands, and the wiring of storage and web.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod demo_monitoring;
pub mod demo_rounds;
mod determine_cmd;
mod draw_cmd;
pub mod hj212_cmd;
mod hj212_evaluate;
pub mod hj212_traffic;
mod rules_cmd;
mod serve;
pub mod setup;

/// Runs the command line; the process exit code says whether it worked.
pub fn main() -> std::process::ExitCode {
    cli::run()
}
