//! Scenario files: executable specifications. A scenario names a
//! configuration, an initial machine and steps; each step is something the
//! world does (or an administrator's `reconcile`). The simulated kernel
//! emits the devd events FreeBSD would, each is dispatched as devd does
//! (only the highest-priority matching statement, stock FreeBSD rules
//! included) through the rules `lagghook devd-conf` generates, and the
//! command lines those rules produce run in-process against the simulated
//! kernel. Then the step's expectations are checked.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::devd::{self, Rule, PROGRAM};
use crate::domain::config::Config;
use crate::domain::event::DevdEvent;
use crate::domain::text;
use crate::run::error::Error;
use crate::run::log::{Level, MemoryLog};
use crate::run::pending;
use crate::run::state::{MemoryStore, StateStore};
use crate::sim::{Happening, Machine, SimKernel};

/// The scenario `lagghook simulate` runs without a file: a laptop's day.
pub const LAPTOP_DAY: &str = include_str!("laptop-day.toml");

/// devd keeps going whatever happens; a scenario whose events never stop
/// (lagghook's changes causing events that cause changes…) is a bug.
pub const MAX_EVENTS_PER_STEP: usize = 64;

/// Simulated time starts here (2026-11-24 18:30 UTC) and advances a minute
/// per step, so "offline for" durations in logs are predictable.
pub const START_TIME: u64 = 1_795_545_000;
pub const STEP_SECONDS: u64 = 60;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    description: String,
    config: String,
    machine: Machine,
    #[serde(default)]
    step: Vec<StepFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    #[serde(rename = "do")]
    action: String,
    #[serde(default)]
    expect: Expect,
}

/// A step's expectations; every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// lagg → the port carrying traffic, or "none".
    #[serde(default)]
    pub active: BTreeMap<String, String>,
    /// lagg → primary (MASTER) port, or "none".
    #[serde(default)]
    pub primary: BTreeMap<String, String>,
    /// lagg → ports in kernel list order.
    #[serde(default)]
    pub ports: BTreeMap<String, Vec<String>>,
    /// interface → current MAC.
    #[serde(default)]
    pub mac: BTreeMap<String, String>,
    /// Each must appear in some log line of this step.
    #[serde(default)]
    pub log: Vec<String>,
    /// State-changing kernel calls lagghook made in this step.
    pub writes: Option<u64>,
    /// Each must appear in some devd line of this step (`event: command`,
    /// as `lagghook simulate` prints them), in this order.
    #[serde(default)]
    pub devd: Vec<String>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepAction {
    Happen(Happening),
    /// `lagghook reconcile`, as an administrator or rc would run it.
    Reconcile,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub text: String,
    pub action: StepAction,
    pub expect: Expect,
}

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub config: Config,
    pub machine: Machine,
    pub steps: Vec<Step>,
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        Scenario::parse(&text, &path.display().to_string())
    }

    /// `name` is used in messages (a path, or "built-in").
    pub fn parse(text: &str, name: &str) -> Result<Scenario, Error> {
        let file: ScenarioFile = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| position(text, s.start)).unwrap_or_default();
            // toml quotes keys whole (`unknown field `a<newline>b``).
            let message = text::one_line(e.message(), 4 * text::ECHO_MAX_CHARS);
            Error::Input(format!("{name}{at}: {message}"))
        })?;
        let config = Config::parse(&file.config, &PathBuf::from(format!("{name} [config]")))?;
        let steps = file
            .step
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let action = if s.action.trim() == "reconcile" {
                    StepAction::Reconcile
                } else {
                    StepAction::Happen(s.action.parse().map_err(|e| {
                        Error::Input(format!("{name}: step {}: {:?}: {e}", i + 1, s.action))
                    })?)
                };
                Ok(Step { text: s.action, action, expect: s.expect })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        // Fail on a broken machine now, not at the first step.
        SimKernel::from_machine(&file.machine).map_err(|e| Error::Input(format!("{name}: {e}")))?;
        Ok(Scenario {
            name: name.to_owned(),
            description: file.description,
            config,
            machine: file.machine,
            steps,
        })
    }
}

/// `:LINE:COL` of a byte offset, 1-based.
fn position(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(":{line}:{col}")
}

/// What happened in one step.
#[derive(Debug, Clone, Default)]
pub struct StepReport {
    pub text: String,
    /// Each devd event and what devd ran for it.
    pub dispatched: Vec<String>,
    /// Lines lagghook logged (notice and above, as syslog would get them).
    pub log: Vec<String>,
    pub writes: u64,
    /// The kernel calls lagghook made, in order.
    pub calls: Vec<String>,
    pub met: Vec<String>,
    pub failed: Vec<String>,
}

/// What happened in a scenario.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub steps: Vec<StepReport>,
    /// Failures of the end-of-scenario checks.
    pub end_failed: Vec<String>,
    pub kernel: String,
}

impl Report {
    pub fn failures(&self) -> usize {
        self.steps.iter().map(|s| s.failed.len()).sum::<usize>() + self.end_failed.len()
    }

    pub fn met(&self) -> usize {
        self.steps.iter().map(|s| s.met.len()).sum()
    }
}

/// Runs one lagghook command line (argv without the program) in-process,
/// inside the simulated machine. The command front end provides it
/// (`cli::simulate`), so the harness runs the very command lines its devd
/// rules produce without depending on the front end.
pub type Lagghook = fn(
    &[&str],
    &Config,
    &mut SimKernel,
    &mut MemoryLog,
    &mut MemoryStore,
    u64,
) -> Result<(), Error>;

/// Runs a scenario to the end (failed expectations do not stop it).
pub fn run(scenario: &Scenario, lagghook: Lagghook) -> Result<Report, Error> {
    let mut kernel =
        SimKernel::from_machine(&scenario.machine).map_err(|e| Error::Input(e.to_string()))?;
    let generated = devd::rules_for(&scenario.config, PROGRAM);
    let mut rules =
        devd::stock_rules().map_err(|e| Error::Input(format!("stock devd rules: {e}")))?;
    rules.extend(
        devd::parse(&generated).map_err(|e| Error::Input(format!("generated devd rules: {e}")))?,
    );
    let program = Program { config: &scenario.config, lagghook };
    let mut store = MemoryStore::default();
    let mut report = Report::default();
    let mut now = START_TIME;
    for step in &scenario.steps {
        now += STEP_SECONDS;
        kernel.clear_record();
        let mut sr = StepReport { text: step.text.clone(), ..StepReport::default() };
        let mut log = MemoryLog::default();
        match &step.action {
            StepAction::Happen(h) => {
                kernel.happen(h).map_err(|e| Error::Input(format!("step {:?}: {e}", step.text)))?;
            }
            StepAction::Reconcile => {
                program.run(&["reconcile"], &mut kernel, &mut log, &mut store, now, &mut sr);
            }
        }
        dispatch(&rules, &program, &mut kernel, &mut log, &mut store, now, &mut sr);
        sr.log.extend(
            log.lines.iter().filter(|(l, _)| *l != Level::Info).map(|(_, line)| line.clone()),
        );
        sr.writes = kernel.writes();
        sr.calls = kernel.calls().to_vec();
        check(&step.expect, &kernel, &mut sr);
        report.steps.push(sr);
    }
    // A second run right after any run plans nothing.
    let macs = store.load().map(|s| s.macs).unwrap_or_default();
    match pending(&mut kernel, &scenario.config, &macs) {
        Ok(again) => {
            if !again.is_empty() {
                report.end_failed.push(format!(
                    "end state is not converged; reconcile would still run: {}",
                    again.actions.iter().map(|a| a.to_string()).collect::<Vec<_>>().join("; ")
                ));
            }
        }
        Err(e) => report.end_failed.push(format!("end state unobservable: {e}")),
    }
    report.kernel = kernel.render();
    Ok(report)
}

/// devd: every queued event, in order, through the one rule it picks.
fn dispatch(
    rules: &[Rule],
    program: &Program<'_>,
    kernel: &mut SimKernel,
    log: &mut MemoryLog,
    store: &mut MemoryStore,
    now: u64,
    sr: &mut StepReport,
) {
    let mut queue: VecDeque<DevdEvent> = kernel.take_events().into();
    let mut handled = 0;
    while let Some(event) = queue.pop_front() {
        handled += 1;
        if handled > MAX_EVENTS_PER_STEP {
            sr.failed.push(format!("devd event storm: more than {MAX_EVENTS_PER_STEP} events"));
            return;
        }
        let media = |name: &str| kernel.media_type(name);
        let Some(rule) = devd::select(rules, &event, &media) else {
            sr.dispatched.push(format!("{event}: no rule"));
            continue;
        };
        for argv in rule.commands(&event) {
            sr.dispatched.push(format!("{event}: {}", argv.join(" ")));
            if argv.first().map(String::as_str) == Some(PROGRAM) {
                let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
                program.run(&args, kernel, log, store, now, sr);
                queue.extend(kernel.take_events());
            }
        }
    }
}

/// The lagghook devd runs, with the scenario's configuration.
struct Program<'a> {
    config: &'a Config,
    lagghook: Lagghook,
}

impl Program<'_> {
    /// A run that fails shows in the step's log as devd would see it: the
    /// command line and its exit status.
    fn run(
        &self,
        args: &[&str],
        kernel: &mut SimKernel,
        log: &mut MemoryLog,
        store: &mut MemoryStore,
        now: u64,
        sr: &mut StepReport,
    ) {
        if let Err(e) = (self.lagghook)(args, self.config, kernel, log, store, now) {
            sr.log.push(format!("lagghook {} exited {}: {e}", args.join(" "), e.exit_code()));
        }
    }
}

fn check(expect: &Expect, kernel: &SimKernel, sr: &mut StepReport) {
    let mut verdict = |ok: bool, what: String, found: String| {
        if ok {
            sr.met.push(what);
        } else {
            sr.failed.push(format!("expected {what}, found {found}"));
        }
    };
    let lagg = |name: &str| kernel.lagg(name);
    for (l, want) in &expect.active {
        let found = lagg(l).map(|s| s.active().map_or("none".to_owned(), |p| p.to_string()));
        let found = found.unwrap_or_else(|| "no such lagg".into());
        verdict(&found == want, format!("active {l} = {want}"), found);
    }
    for (l, want) in &expect.primary {
        let found = lagg(l).map(|s| s.primary().map_or("none".to_owned(), |p| p.to_string()));
        let found = found.unwrap_or_else(|| "no such lagg".into());
        verdict(&found == want, format!("primary {l} = {want}"), found);
    }
    for (l, want) in &expect.ports {
        let found: Option<Vec<String>> =
            lagg(l).map(|s| s.ports.iter().map(|p| p.name.to_string()).collect());
        let text = found.as_ref().map_or("no such lagg".into(), |f| format!("{f:?}"));
        verdict(found.as_ref() == Some(want), format!("ports {l} = {want:?}"), text);
    }
    for (i, want) in &expect.mac {
        let found = kernel.interface(i).map(|x| x.mac.to_string());
        let want_norm = want
            .parse::<crate::domain::model::MacAddr>()
            .map(|m| m.to_string())
            .unwrap_or(want.clone());
        let text = found.clone().unwrap_or_else(|| "no such interface".into());
        verdict(found.as_deref() == Some(want_norm.as_str()), format!("mac {i} = {want}"), text);
    }
    for needle in &expect.log {
        let ok = sr.log.iter().any(|l| l.contains(needle.as_str()));
        let found = if sr.log.is_empty() { "no log line".into() } else { format!("{:?}", sr.log) };
        verdict(ok, format!("a log line containing {needle:?}"), found);
    }
    let mut from = 0;
    for needle in &expect.devd {
        let at = sr.dispatched[from.min(sr.dispatched.len())..]
            .iter()
            .position(|d| d.contains(needle.as_str()));
        let found = format!("{:?}", sr.dispatched);
        verdict(at.is_some(), format!("a later devd line containing {needle:?}"), found);
        from += at.map_or(0, |i| i + 1);
    }
    if let Some(want) = expect.writes {
        let found = kernel.writes();
        verdict(found == want, format!("writes = {want}"), found.to_string());
    }
}

/// The human-readable account of a run.
pub fn render(scenario: &Scenario, report: &Report, verbose: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "scenario: {}", scenario.name);
    for line in scenario.description.trim().lines() {
        let _ = writeln!(s, "  {line}");
    }
    for (i, step) in report.steps.iter().enumerate() {
        let _ = writeln!(s, "\nstep {}: {}", i + 1, step.text);
        for d in &step.dispatched {
            let _ = writeln!(s, "  devd    {d}");
        }
        if verbose {
            for c in &step.calls {
                let _ = writeln!(s, "  kernel  {c}");
            }
        }
        for l in &step.log {
            let _ = writeln!(s, "  log     {l}");
        }
        let _ = writeln!(s, "  writes  {}", step.writes);
        for m in &step.met {
            let _ = writeln!(s, "  ok      {m}");
        }
        for f in &step.failed {
            let _ = writeln!(s, "  FAILED  {f}");
        }
    }
    for f in &report.end_failed {
        let _ = writeln!(s, "\nFAILED  {f}");
    }
    if verbose || report.failures() > 0 {
        let _ = writeln!(s, "\nkernel at the end:\n{}", report.kernel);
    }
    let _ = writeln!(
        s,
        "\n{}: {} steps, {} expectations met, {} failed",
        if report.failures() == 0 { "PASS" } else { "FAIL" },
        report.steps.len(),
        report.met(),
        report.failures()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scenario fuzz target's property: an error is one line. toml's
    /// message quotes an unknown key whole, so a key with a newline made
    /// a two-line error, and a long key a long one.
    #[test]
    fn errors_are_one_line() {
        for (text, want) in [
            (
                "description = \"d\"\nconfig = \"\"\n\"a\\nb\" = 1\n",
                "x.toml:3:1: unknown field `a\\nb`, expected one of",
            ),
            ("[machine]\n\"x\ty\" = 1\n", "x.toml:2:1: unknown field `x\\ty`, expected one of"),
        ] {
            let err = Scenario::parse(text, "x.toml").unwrap_err().to_string();
            assert!(err.starts_with(want), "{err}");
            assert!(!err.contains(char::is_control), "{err:?}");
        }
        let long = format!("description = \"d\"\nconfig = \"\"\n\"{}\" = 1\n", "k".repeat(5000));
        let err = Scenario::parse(&long, "x.toml").unwrap_err().to_string();
        assert!(err.len() < 300, "{} bytes: {err}", err.len());
    }
}
