//! `lagghook simulate [FILE]`: plays a scenario (the built-in laptop's day
//! without a file) through the harness in [`crate::scenario`], with this
//! front end running the lagghook command lines devd's rules produce.

use std::io::Write;
use std::path::Path;

use crate::cli::args;
use crate::cli::command::execute_in;
use crate::cli::output::write_out;
use crate::domain::config::Config;
use crate::run::error::Error;
use crate::run::log::MemoryLog;
use crate::run::state::MemoryStore;
use crate::scenario::{self, render, Player, Report, Scenario, LAPTOP_DAY};
use crate::sim::SimKernel;

/// Runs `scenario` with this crate's lagghook as the program devd calls.
pub fn run_scenario(scenario: &Scenario) -> Result<Report, Error> {
    scenario::run(scenario, Player::Lagghook(lagghook))
}

/// Runs `scenario` as the seed's static set-up lives it: stock devd rules,
/// no lagghook.
pub fn run_baseline(scenario: &Scenario) -> Result<Report, Error> {
    scenario::run(scenario, Player::Baseline)
}

/// One lagghook command line, parsed and executed in-process.
fn lagghook(
    args: &[&str],
    config: &Config,
    kernel: &mut SimKernel,
    log: &mut MemoryLog,
    store: &mut MemoryStore,
    now: u64,
) -> Result<(), Error> {
    // What the command prints (a `-n` plan) is not part of a scenario.
    let mut out = Vec::new();
    args::parse(args.iter().copied())
        .and_then(|inv| execute_in(&inv, config, kernel, log, store, now, &mut out))
}

/// `lagghook simulate [FILE]`: runs a scenario and prints what happened.
/// With `baseline`, expectations are reported but do not fail the run:
/// the baseline shows what lagghook buys, it is expected to fall short.
pub fn simulate(
    file: Option<&Path>,
    baseline: bool,
    verbose: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let scenario = match file {
        Some(path) => Scenario::load(path)?,
        None => Scenario::parse(LAPTOP_DAY, "built-in laptop-day scenario")?,
    };
    let report = if baseline { run_baseline(&scenario)? } else { run_scenario(&scenario)? };
    let text = render(&scenario, &report, verbose);
    write_out(out, &text)?;
    match report.failures() {
        n if n > 0 && !baseline => Err(Error::Unmet(n)),
        _ => Ok(()),
    }
}
