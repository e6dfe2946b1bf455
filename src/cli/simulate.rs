//! `lagghook simulate [FILE]`: plays a scenario (the built-in laptop's day
//! without a file) through the harness in [`crate::scenario`], with this
//! front end running the lagghook command lines devd's rules produce, and
//! giving a scenario without `rc_conf` the lines `lagghook rc-conf` prints
//! for it.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use crate::cli::args::{self, Command};
use crate::cli::command::{execute_in, reconcile_in};
use crate::cli::output::write_out;
use crate::cli::rc_conf::rc_conf;
use crate::domain::config::{Config, LaggConfig};
use crate::domain::identity;
use crate::run;
use crate::run::error::Error;
use crate::run::log::MemoryLog;
use crate::run::observe;
use crate::run::state::MemoryStore;
use crate::scenario::{self, render, Player, Report, Scenario, LAPTOP_DAY};
use crate::sim::{RcConf, SimKernel};

/// Runs `scenario` with this crate's lagghook as the program devd calls.
pub fn run_scenario(scenario: &Scenario) -> Result<Report, Error> {
    scenario::run(&*with_rc_conf(scenario)?, Player::Lagghook(lagghook))
}

/// Runs `scenario` as the seed's static set-up lives it: stock devd rules,
/// no lagghook.
pub fn run_baseline(scenario: &Scenario) -> Result<Report, Error> {
    scenario::run(&*with_rc_conf(scenario)?, Player::Baseline)
}

/// `scenario` with its rc.conf lines: its own `rc_conf`, else what
/// `lagghook rc-conf` prints for its configuration on its first machine
/// (a literal `mac`, else the `mac` port's hardware address, else lagg0's
/// MAC while it holds ports), as a user who ran `lagghook rc-conf` once on
/// that machine would have. Baseline and lagghook boot from the same lines.
pub fn with_rc_conf(scenario: &Scenario) -> Result<Cow<'_, Scenario>, Error> {
    if scenario.rc_conf.is_some() {
        return Ok(Cow::Borrowed(scenario));
    }
    let mut kernel = SimKernel::from_machine(&scenario.machine)
        .map_err(|e| Error::Input(format!("{}: {e}", scenario.name)))?;
    // A machine that cannot be observed leaves the MAC a comment, as the
    // command does.
    let snapshot = observe(&mut kernel, &scenario.config).unwrap_or_default();
    let identity = |lagg: &LaggConfig| identity::resolve(lagg, &snapshot, None);
    let text = rc_conf(&scenario.config, &identity);
    let lines = RcConf::parse(&text)
        .map_err(|e| Error::Input(format!("{}: lagghook rc-conf lines: {e}", scenario.name)))?;
    let mut with = scenario.clone();
    with.rc_conf = Some(lines);
    Ok(Cow::Owned(with))
}

/// One lagghook command line, parsed and executed in-process.
fn lagghook(
    args: &[&str],
    config: &Config,
    kernel: &mut SimKernel,
    log: &mut MemoryLog,
    store: &mut MemoryStore,
    now: u64,
    out: &mut dyn Write,
) -> Result<Option<run::Report>, Error> {
    let inv = args::parse(args.iter().copied())?;
    match inv.command {
        Command::Event(_) | Command::Reconcile => {
            reconcile_in(&inv, config, kernel, log, store, now, out)
        }
        _ => execute_in(&inv, config, kernel, log, store, now, out).map(|()| None),
    }
}

/// `lagghook simulate [FILE]`: runs a scenario and prints what happened.
/// With `config` (`-c FILE`), the scenario runs with that configuration
/// instead of its own, so a user can replay it with theirs (its rc.conf
/// lines, unless the scenario gives its own, are then the ones `rc-conf`
/// prints for that configuration). With `baseline`, expectations are
/// reported but do not fail the run: the baseline shows what lagghook
/// buys, it is expected to fall short.
pub fn simulate(
    file: Option<&Path>,
    config: Option<&Path>,
    baseline: bool,
    verbose: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut scenario = match file {
        Some(path) => Scenario::load(path)?,
        None => Scenario::parse(LAPTOP_DAY, "built-in laptop-day scenario")?,
    };
    if let Some(path) = config {
        scenario.config = run::load_config(path)?;
    }
    let report = if baseline { run_baseline(&scenario)? } else { run_scenario(&scenario)? };
    let mut text = render(&scenario, &report, verbose);
    if let Some(path) = config {
        text = format!(
            "configuration: {} (instead of the scenario's own)\n{text}",
            crate::domain::text::path(path)
        );
    }
    write_out(out, &text)?;
    match report.failures() {
        n if n > 0 && !baseline => Err(Error::Unmet(n)),
        _ => Ok(()),
    }
}
