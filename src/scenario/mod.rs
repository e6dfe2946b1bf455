//! Scenario files: executable specifications. A scenario names a
//! configuration, an initial machine and steps; each step is something the
//! world does (or an administrator's `reconcile`). The simulated kernel
//! emits the devd events FreeBSD would, each is dispatched as devd does
//! (only the highest-priority matching statement, stock FreeBSD rules
//! included) through the rules `lagghook devd-conf` generates, and the
//! command lines those rules produce run in-process against the simulated
//! kernel. Then the step's expectations are checked.
//!
//! A scenario may carry `rc_conf = """…"""`, the rc.conf(5) lines rc reads
//! when the machine reboots, a radio attaches or a driver reloads
//! ([`crate::sim::RcConf`]); without it the caller supplies the lines
//! `lagghook rc-conf` prints for the scenario's configuration
//! (`cli::simulate`). A `reboot` step empties lagghook's /var/run state
//! ([`MemoryStore::reboot`]); a `resume` step runs `lagghook reconcile` as
//! rc.resume's `resume` scripts do, once devd has read the resume's
//! interface events (in a baseline there is no lagghook to run).

mod devd_queue;
mod figures;
mod helpers;
mod layer3;
pub mod table;

use figures::Figures;
pub use figures::{NeverWord, Outage, OutageLimit};

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::devd::{self, Rule, PROGRAM};
use crate::domain::config::Config;
use crate::domain::model::{IfKind, IfName};
use crate::domain::plan::Action;
use crate::domain::text;
use crate::run::apply::Outcome;
use crate::run::error::Error;
use crate::run::log::{Level, MemoryLog};
use crate::run::state::MemoryStore;
use crate::run::{pending_with, Report as RunReport};
use crate::sim::{Happening, Machine, RcConf, SimKernel};
use crate::sys::file::{self, Links};

/// The scenario `lagghook simulate` runs without a file: a laptop's day.
pub const LAPTOP_DAY: &str = include_str!("laptop-day.toml");

/// devd keeps going whatever happens; a scenario whose events never stop
/// (lagghook's changes causing events that cause changes…) is a bug.
pub const MAX_EVENTS_PER_STEP: usize = 256;

/// Simulated time 0 is this Unix time (2026-11-24 18:30 UTC), so "offline
/// for" durations in logs are predictable.
pub const START_TIME: u64 = 1_795_545_000;
/// A step's happening comes this long after the previous one's, or when
/// the previous step's world has settled if that is later (ms).
pub const STEP_GAP_MS: u64 = 60_000;
/// How long after its happening a step's world may run before it is
/// declared unsettled (ms). A world in which only stations that cannot
/// finish their handshake have anything pending retries for ever
/// (`sim::station`): it is followed up to here and the step ends with the
/// flapping reported ([`StepReport::flapping`]), its expectations checked
/// as usual, not failed as unsettled.
pub const HORIZON_MS: u64 = 120_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    description: String,
    config: String,
    /// rc.conf(5) lines for reboots, radio attaches and driver reloads.
    rc_conf: Option<String>,
    machine: Machine,
    #[serde(default)]
    step: Vec<StepFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    #[serde(rename = "do")]
    action: Spanned<String>,
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
    /// interface → current MTU.
    #[serde(default)]
    pub mtu: BTreeMap<String, u32>,
    /// interface → whether it is UP (`IFF_UP`).
    #[serde(default)]
    pub up: BTreeMap<String, bool>,
    /// Each must appear in some log line of this step.
    #[serde(default)]
    pub log: Vec<String>,
    /// Each must appear in some line rc wrote on the console during this
    /// step (the requests of its ifconfig commands that failed); `[]`:
    /// none.
    pub console: Option<Vec<String>>,
    /// State-changing kernel calls lagghook made in this step.
    pub writes: Option<u64>,
    /// Each must appear in some devd line of this step (`event: command`,
    /// as `lagghook simulate` prints them), in this order.
    #[serde(default)]
    pub devd: Vec<String>,
    /// The step's outage is at most this many seconds (or `"never"`: the
    /// step may end without traffic while a port could carry it).
    pub outage_max: Option<OutageLimit>,
    /// How many times a configured lagg took a new MAC during the step.
    pub lagg_mac_changes: Option<u32>,
    /// `true`: at the end of the step a reconcile would plan nothing and
    /// every configured lagg with a port that could carry carries traffic.
    pub converged: Option<bool>,
    /// lagg → the network it is on (its address, its default route to
    /// that network's gateway or router, the right neighbour entry), or
    /// "none".
    #[serde(default)]
    pub network: BTreeMap<String, String>,
    /// lagg → its one IPv4 address, or "none".
    #[serde(default)]
    pub inet: BTreeMap<String, String>,
    /// lagg → the one prefix of its IPv6 addresses, or "none".
    #[serde(default)]
    pub inet6_prefix: BTreeMap<String, String>,
    /// DHCP exchanges started in the step, by anyone.
    pub dhcp_exchanges: Option<u32>,
    /// Times a configured lagg's global addresses changed.
    pub addr_changes: Option<u32>,
    /// Seconds without a working IPv4 address while the active port
    /// carried (or `"never"`).
    pub outage_inet_max: Option<OutageLimit>,
    /// The same for IPv6.
    pub outage_inet6_max: Option<OutageLimit>,
    /// The longest devd waited on one action, seconds.
    pub devd_blocked_max: Option<f64>,
    /// Whether a station is still flapping (associating, failing its
    /// handshake, trying again) when the step ends.
    pub flapping: Option<bool>,
    /// The step's devd events are at most this many.
    pub events_max: Option<usize>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepAction {
    Happen(Happening),
    /// `A; +Nms B; …`: happenings at these offsets from the step's start
    /// (the first at 0), for flaps within one step.
    Sequence(Vec<(u64, Happening)>),
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
    /// The scenario's `rc_conf` lines; `None`: the caller's default.
    pub rc_conf: Option<RcConf>,
    pub machine: Machine,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Reads the scenario at `path` as every file lagghook reads is read
    /// ([`file::read_regular`]): a FIFO or a device is refused at once, and
    /// no more than [`file::MAX_FILE_SIZE`] bytes are read.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let text = file::read_regular(path, Links::Follow)
            .map_err(|e| Error::Input(format!("{}: {}", text::path(path), text::io_error(&e))))?;
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
        let rc_conf = file.rc_conf.as_deref().map(RcConf::parse).transpose().map_err(|e| {
            let message = text::one_line(&e.to_string(), 4 * text::ECHO_MAX_CHARS);
            Error::Input(format!("{name}: rc_conf {message}"))
        })?;
        // Fail on a broken machine now, not at the first step; a name a
        // later key does not know is reported where it stands.
        let kernel = SimKernel::from_machine(&file.machine).map_err(|e| {
            let at = e.offset().map(|o| position(text, o)).unwrap_or_default();
            Error::Input(format!("{name}{at}: {e}"))
        })?;
        let steps = file
            .step
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let at = position(text, s.action.span().start);
                let words = s.action.into_inner();
                let bad =
                    |e: String| Error::Input(format!("{name}{at}: step {}: {words:?}: {e}", i + 1));
                let action = parse_action(&words).map_err(bad)?;
                let parts: Vec<&Happening> = match &action {
                    StepAction::Happen(h) => vec![h],
                    StepAction::Sequence(v) => v.iter().map(|(_, h)| h).collect(),
                    StepAction::Reconcile => Vec::new(),
                };
                for h in parts {
                    if let Happening::Net(n) = h {
                        kernel.check_net_happening(n).map_err(bad)?;
                    }
                }
                Ok(Step { text: words, action, expect: s.expect })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Scenario {
            name: name.to_owned(),
            description: file.description,
            config,
            rc_conf,
            machine: file.machine,
            steps,
        })
    }
}

/// A step's `do`: `reconcile`, one happening, or happenings separated by
/// `;`, each after the first led by `+Nms`, its offset from the step's
/// start (`"unplug em0; +250ms plug em0"`).
fn parse_action(words: &str) -> Result<StepAction, String> {
    if words.trim() == "reconcile" {
        return Ok(StepAction::Reconcile);
    }
    let mut parts = words.split(';');
    let first: Happening = parts
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|e: crate::sim::SimError| e.to_string())?;
    let mut seq = vec![(0, first)];
    for part in parts {
        let part = part.trim();
        let (offset, rest) = part
            .strip_prefix('+')
            .and_then(|p| p.split_once(char::is_whitespace))
            .ok_or_else(|| format!("{part:?}: a later happening starts with +Nms"))?;
        let ms = offset
            .strip_suffix("ms")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&n| n <= HORIZON_MS)
            .ok_or_else(|| format!("{offset:?}: want +Nms, N at most {HORIZON_MS}"))?;
        if seq.last().is_some_and(|(prev, _)| *prev > ms) {
            return Err(format!("+{ms}ms comes before the happening it follows"));
        }
        seq.push((ms, rest.parse().map_err(|e: crate::sim::SimError| e.to_string())?));
    }
    Ok(if seq.len() == 1 { StepAction::Happen(seq.remove(0).1) } else { StepAction::Sequence(seq) })
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
    /// When the step's happening occurred (simulated ms).
    pub at: u64,
    /// Each devd event, when it fired (`+S.Ss` after the happening) and
    /// what devd ran for it.
    pub dispatched: Vec<String>,
    /// Lines lagghook logged (notice and above, as syslog would get them).
    pub log: Vec<String>,
    /// What rc wrote on the console (its failed requests) during the step.
    pub console: Vec<String>,
    pub writes: u64,
    /// The kernel calls lagghook made, in order.
    pub calls: Vec<String>,
    /// How many devd events the step's world emitted.
    pub events: usize,
    /// The vaps still flapping when the step ended: a world that would
    /// retry for ever, followed up to [`HORIZON_MS`] and reported, not
    /// failed (`sim::station`).
    pub flapping: Vec<IfName>,
    /// Time without traffic while a port could carry it.
    pub outage: Outage,
    /// New addresses a configured lagg took.
    pub mac_changes: u32,
    /// Time without a working IPv4 / IPv6 address while the active port
    /// carried ([`layer3`]).
    pub outage_inet: Outage,
    pub outage_inet6: Outage,
    /// Times a configured lagg's global addresses changed.
    pub addr_changes: u32,
    /// DHCP exchanges started.
    pub dhcp_exchanges: u32,
    /// The longest devd waited on one action (ms).
    pub devd_blocked: u64,
    pub met: Vec<String>,
    pub failed: Vec<String>,
}

/// What happened in a scenario.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Played with stock devd rules only, without lagghook.
    pub baseline: bool,
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

    /// The outage of all steps together.
    pub fn outage(&self) -> Outage {
        self.steps.iter().fold(Outage::default(), |acc, s| acc.add(s.outage))
    }

    pub fn mac_changes(&self) -> u32 {
        self.steps.iter().map(|s| s.mac_changes).sum()
    }
}

/// Runs one lagghook command line (argv without the program) in-process,
/// inside the simulated machine. The command front end provides it
/// (`cli::simulate`), so the harness runs the very command lines its devd
/// rules produce without depending on the front end. What the command
/// prints (a `-n` plan) goes to the writer.
pub type Lagghook = fn(
    &[&str],
    &Config,
    &mut SimKernel,
    &mut MemoryLog,
    &mut MemoryStore,
    u64,
    &mut dyn std::io::Write,
) -> Result<Option<RunReport>, Error>;

/// Who answers devd's events.
#[derive(Clone, Copy)]
pub enum Player {
    /// lagghook's generated rules over the stock ones, running this.
    Lagghook(Lagghook),
    /// The stock rules only: the seed's static set-up, no lagghook. A
    /// `reconcile` step does nothing; expectations are checked and
    /// reported, and the caller decides whether they count.
    Baseline,
}

/// Runs a scenario to the end (failed expectations do not stop it).
pub fn run(scenario: &Scenario, player: Player) -> Result<Report, Error> {
    let mut kernel =
        SimKernel::from_machine(&scenario.machine).map_err(|e| Error::Input(e.to_string()))?;
    kernel.set_rc_conf(scenario.rc_conf.clone().unwrap_or_default());
    let mut rules =
        devd::stock_rules().map_err(|e| Error::Input(format!("stock devd rules: {e}")))?;
    let lagghook = match player {
        Player::Lagghook(f) => {
            let generated = devd::rules_for(&scenario.config, PROGRAM);
            rules.extend(
                devd::parse(&generated)
                    .map_err(|e| Error::Input(format!("generated devd rules: {e}")))?,
            );
            Some(f)
        }
        Player::Baseline => None,
    };
    let program = Program { config: &scenario.config, lagghook };
    let mut store = MemoryStore::default();
    let mut report = Report { baseline: lagghook.is_none(), ..Report::default() };
    let mut figures = Figures::new(&scenario.config, &mut kernel);
    let mut helpers = helpers::Helpers::default();
    let mut l3 = layer3::Layer3::new(&scenario.config, &kernel);
    let mut devd = devd_queue::Devd::default();
    let mut last_at = None;
    for step in &scenario.steps {
        let at = last_at.map_or(0, |t: u64| (t + STEP_GAP_MS).max(kernel.now()));
        last_at = Some(at);
        kernel.advance(at);
        kernel.clear_record();
        kernel.take_net_record();
        figures.begin(&mut kernel);
        l3.begin();
        devd.begin_step(kernel.now());
        let mut sr = StepReport { text: step.text.clone(), at, ..StepReport::default() };
        let mut log = MemoryLog::default();
        let now = |k: &SimKernel| START_TIME + k.now() / 1000;
        let mut handled = 0;
        // The happenings still to come in this step, and how long it lasts
        // at least (a `wait`).
        let mut later: VecDeque<(u64, Happening)> = match &step.action {
            StepAction::Happen(h) => VecDeque::from([(at, h.clone())]),
            StepAction::Sequence(v) => v.iter().map(|(o, h)| (at + o, h.clone())).collect(),
            StepAction::Reconcile => {
                let t = now(&kernel);
                program.run(&["reconcile"], &mut kernel, &mut log, &mut store, t, &mut sr);
                VecDeque::new()
            }
        };
        let mut until = at;
        let mut horizon = at + HORIZON_MS;
        loop {
            while let Some((when, h)) = later.front().cloned().filter(|(w, _)| *w <= kernel.now()) {
                later.pop_front();
                if let Happening::Net(crate::sim::NetHappening::Wait { ms }) = &h {
                    until = until.max(when + ms);
                    horizon = horizon.max(when + ms + HORIZON_MS);
                }
                horizon = horizon.max(when + HORIZON_MS);
                kernel
                    .happen(&h)
                    .map_err(|e| Error::Input(format!("step {:?}: {e}", step.text)))?;
                handled += after_happening(
                    &h,
                    &rules,
                    &program,
                    &mut devd,
                    &mut kernel,
                    &mut log,
                    &mut store,
                    &mut sr,
                );
            }
            let t = now(&kernel);
            handled += devd.pump(&rules, &program, &mut kernel, &mut log, &mut store, t, &mut sr);
            if handled > MAX_EVENTS_PER_STEP {
                sr.failed.push(format!("devd event storm: more than {MAX_EVENTS_PER_STEP} events"));
                break;
            }
            // The network-check helpers devd's runs spawned act at their
            // own instants, between devd's runs (issue 20).
            helpers.take_spawned(&mut kernel);
            if helpers.run_due(&scenario.config, &mut kernel, &mut log, &mut store) > 0 {
                continue;
            }
            figures.sample(&mut kernel);
            l3.sample(&kernel);
            let next = kernel
                .next_due()
                .into_iter()
                .chain(later.front().map(|(w, _)| *w))
                .chain(helpers.next_due())
                .min();
            match next {
                Some(due) if due <= horizon => kernel.advance(due),
                // Only stations that cannot finish their handshake have
                // anything pending: they retry for ever, and the step ends
                // with them reported, its expectations checked as usual.
                Some(_)
                    if kernel.next_settling_due().is_none()
                        && later.is_empty()
                        && helpers.next_due().is_none() =>
                {
                    break
                }
                Some(_) => {
                    sr.failed
                        .push(format!("the world did not settle within {} s", HORIZON_MS / 1000));
                    break;
                }
                None if kernel.now() < until => kernel.advance(until),
                None => break,
            }
        }
        sr.events = handled;
        sr.flapping = kernel.flapping_vaps();
        (sr.outage, sr.mac_changes) = figures.end();
        (sr.outage_inet, sr.outage_inet6, sr.addr_changes) = l3.end();
        sr.dhcp_exchanges = kernel.take_net_record().dhcp_exchanges;
        sr.devd_blocked = devd.longest(kernel.now());
        sr.console = kernel.take_console();
        sr.log.extend(
            log.lines.iter().filter(|(l, _)| *l != Level::Info).map(|(_, line)| line.clone()),
        );
        sr.writes = kernel.writes();
        sr.calls = kernel.calls().to_vec();
        check(&step.expect, &scenario.config, &mut kernel, &store, &mut sr);
        report.steps.push(sr);
    }
    if lagghook.is_some() {
        // A second run right after any run plans nothing.
        match pending_for(&mut kernel, &scenario.config, &store) {
            Ok(again) if !again.is_empty() => report.end_failed.push(format!(
                "end state is not converged; reconcile would still run: {}",
                again.actions.iter().map(|a| a.to_string()).collect::<Vec<_>>().join("; ")
            )),
            Ok(_) => {
                let t = START_TIME + kernel.now() / 1000;
                let mut log = MemoryLog::default();
                let mut sr = StepReport::default();
                if let Some(why) = converged_run_cost(
                    &scenario.config,
                    &program,
                    &mut kernel,
                    &mut log,
                    &mut store,
                    t,
                    &mut sr,
                ) {
                    report.end_failed.push(why);
                }
            }
            Err(e) => report.end_failed.push(format!("end state unobservable: {e}")),
        }
    }
    report.kernel = kernel.render();
    Ok(report)
}

/// What a devd run costs once everything is converged (issue 11): the
/// reads [`crate::run::observe`] needs and nothing else — the interface
/// listing, one `SIOCGLAGG` per lagg, one wpa_supplicant read per
/// configured vap, the sysctl — and no write. `None` when so, else why not.
fn converged_run_cost(
    config: &Config,
    program: &Program<'_>,
    kernel: &mut SimKernel,
    log: &mut MemoryLog,
    store: &mut MemoryStore,
    now: u64,
    sr: &mut StepReport,
) -> Option<String> {
    // Asked of the kernel before the run, so it counts in none of its
    // reads; in if_index order, as getifaddrs(3) lists them.
    let everything = crate::kernel::Kernel::interfaces(kernel).unwrap_or_default();
    let exists = |name: &IfName| everything.iter().any(|i| &i.name == name);
    let first_port = config.ports().map(|(_, p)| p).find(|p| exists(p)).map(|p| p.to_string());
    let mut want = vec!["getifaddrs".to_owned()];
    // `run::observe` asks about the laggs in name order.
    let mut laggs: Vec<&IfName> =
        everything.iter().filter(|i| i.kind == IfKind::Lagg).map(|i| &i.name).collect();
    laggs.sort();
    want.extend(laggs.into_iter().map(|l| format!("SIOCGLAGG {l}")));
    for (_, port) in config.ports() {
        if everything.iter().any(|i| &i.name == port && i.kind == IfKind::Wlan) {
            want.push(format!("wpa_supplicant STATUS {port}"));
        }
    }
    want.push("sysctl net.link.lagg.failover_rx_all".to_owned());
    // The network check's record (issue 20, point 2): for the lagg the
    // event is about, when it checks and carries traffic, the active vap's
    // SSID, the lagg's addresses, the default routes and the neighbour
    // entry of each that leaves by it; kernel reads only.
    let event_lagg = match &first_port {
        Some(port) => {
            config.laggs.iter().filter(|l| l.ports.iter().any(|p| p.as_str() == port)).collect()
        }
        None => config.laggs.iter().collect::<Vec<_>>(),
    };
    for lagg in event_lagg.into_iter().filter(|l| l.network.checks()) {
        let active = kernel.lagg(lagg.name.as_str()).and_then(|s| s.active().cloned());
        let Some(active) = active else { continue };
        if everything.iter().any(|i| i.name == active && i.kind == IfKind::Wlan) {
            want.push(format!("SIOCG80211 SSID {active}"));
        }
        // A run that sees the active port changed since the last run
        // starts a check (or finds nothing to check) instead of recording.
        let last = store.state.as_ref().and_then(|s| s.laggs.get(&lagg.name)).cloned().flatten();
        if last.is_some_and(|v| v.active.as_ref() != Some(&active)) {
            continue;
        }
        want.push(format!("getifaddrs inet {}", lagg.name));
        want.push("RTM_GET default".to_owned());
        let routes = crate::kernel::Kernel::default_routes(kernel).unwrap_or_default();
        for r in routes.iter().filter(|r| r.ifname == lagg.name) {
            want.push(format!("RTM_GET llinfo {} {}", lagg.name, r.gateway));
        }
    }
    kernel.clear_record();
    match &first_port {
        Some(port) => {
            program.run(&["event", "IFNET", port, "LINK_UP"], kernel, log, store, now, sr)
        }
        None => program.run(&["reconcile"], kernel, log, store, now, sr),
    }
    let (reads, writes) = (kernel.reads().to_vec(), kernel.writes());
    (reads != want || writes != 0).then(|| {
        format!(
            "a converged run should read {want:?} and write nothing; it read {reads:?} and \
             made {writes} writes"
        )
    })
}

/// What follows a happening: after a boot, rc runs rc.d/lagghook
/// (REQUIRE: netif devd) once devd has started; after a resume, rc.resume
/// runs the `resume` scripts, rc.d/lagghook among them, when devd reads the
/// ACPI Resume notify, after the interface events of the resume. Either way
/// devd has the interface events first. A reboot also empties lagghook's
/// /var/run state. Returns the events devd took.
#[allow(clippy::too_many_arguments)]
fn after_happening(
    h: &Happening,
    rules: &[Rule],
    program: &Program<'_>,
    devd: &mut devd_queue::Devd,
    kernel: &mut SimKernel,
    log: &mut MemoryLog,
    store: &mut MemoryStore,
    sr: &mut StepReport,
) -> usize {
    let rebooted = matches!(h, Happening::Reboot { .. });
    if rebooted {
        store.reboot();
    }
    let script = if rebooted {
        Some(("rc: /usr/local/etc/rc.d/lagghook start", "reconcile"))
    } else if kernel.take_resume_scripts() {
        Some(("rc.resume: /usr/local/etc/rc.d/lagghook resume", "resume"))
    } else {
        None
    };
    let Some((script, command)) = script else { return 0 };
    let t = START_TIME + kernel.now() / 1000;
    let handled = devd.pump(rules, program, kernel, log, store, t, sr);
    let offset = Outage::Millis(kernel.now().saturating_sub(sr.at));
    let runs = match program.lagghook {
        Some(_) => format!("lagghook {command}"),
        None => "nothing (no lagghook)".to_owned(),
    };
    sr.dispatched.push(format!("+{offset} {script}: {runs}"));
    program.run(&[command], kernel, log, store, t, sr);
    handled
}

/// The lagghook devd runs, with the scenario's configuration; none in a
/// baseline.
struct Program<'a> {
    config: &'a Config,
    lagghook: Option<Lagghook>,
}

impl Program<'_> {
    /// A run that fails shows in the step's log as devd would see it: the
    /// command line and its exit status. A run that succeeds must make
    /// exactly the kernel changes its plan needs (issue 11): one call per
    /// action it attempts, no retries, no writes outside its plans; and its
    /// first round must be what `-n` lists on copies of the machine and
    /// the state just before (later rounds are predictions: a kernel
    /// rebuilt from one observation cannot see what a lagg keeps to
    /// itself, such as its primary under lacp or a port's saved address).
    fn run(
        &self,
        args: &[&str],
        kernel: &mut SimKernel,
        log: &mut MemoryLog,
        store: &mut MemoryStore,
        now: u64,
        sr: &mut StepReport,
    ) {
        let Some(lagghook) = self.lagghook else { return };
        let listed = self.dry_run_first_round(lagghook, args, kernel, store, now);
        let before = kernel.writes();
        let result = lagghook(args, self.config, kernel, log, store, now, &mut std::io::sink());
        let made = kernel.writes() - before;
        let command = args.join(" ");
        let report = match result {
            Err(e) => {
                sr.log.push(format!("lagghook {command} exited {}: {e}", e.exit_code()));
                return;
            }
            Ok(report) => report,
        };
        let attempted = report.as_ref().map_or(0, |r| {
            r.applied.iter().filter(|a| a.outcome != Outcome::Skipped).count() as u64
        });
        if made != attempted {
            sr.failed.push(format!(
                "lagghook {command} made {made} kernel changes for {attempted} planned actions"
            ));
        }
        let first = report.as_ref().and_then(|r| r.plans.first()).map(|p| &p.actions);
        if let (Some(listed), Some(first)) = (&listed, first) {
            if listed != first {
                let text = |a: &[Action]| a.iter().map(|a| a.to_string()).collect::<Vec<_>>();
                sr.failed.push(format!(
                    "lagghook {command}: -n listed {:?}, the run's first round was {:?}",
                    text(listed),
                    text(first)
                ));
            }
        }
    }

    /// The first round `lagghook -n ARGS` lists, run on copies of the
    /// machine and the state; `None` when it lists nothing to compare.
    fn dry_run_first_round(
        &self,
        lagghook: Lagghook,
        args: &[&str],
        kernel: &SimKernel,
        store: &MemoryStore,
        now: u64,
    ) -> Option<Vec<Action>> {
        let dry: Vec<&str> = std::iter::once("-n").chain(args.iter().copied()).collect();
        let (mut kernel, mut store, mut log) =
            (kernel.clone(), store.clone(), MemoryLog::default());
        let report = lagghook(
            &dry,
            self.config,
            &mut kernel,
            &mut log,
            &mut store,
            now,
            &mut std::io::sink(),
        );
        Some(report.ok()??.plans.into_iter().next()?.actions)
    }
}

fn check(
    expect: &Expect,
    config: &Config,
    kernel: &mut SimKernel,
    store: &MemoryStore,
    sr: &mut StepReport,
) {
    // What "converged" means to the user: nothing left to do, and traffic
    // on every lagg that could carry it.
    let converged = expect.converged.map(|_| converged(config, kernel, store));
    let (outage, mac_changes) = (sr.outage, sr.mac_changes);
    let kernel = &*kernel;
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
    for (i, want) in &expect.mtu {
        let found = kernel.interface(i).map(|x| x.mtu);
        let text = found.map_or_else(|| "no such interface".into(), |m| m.to_string());
        verdict(found == Some(*want), format!("mtu {i} = {want}"), text);
    }
    for (i, want) in &expect.up {
        let found = kernel.interface(i).map(|x| x.up);
        let text = found.map_or_else(|| "no such interface".into(), |u| u.to_string());
        verdict(found == Some(*want), format!("up {i} = {want}"), text);
    }
    match expect.console.as_deref() {
        Some([]) => {
            let found = format!("{:?}", sr.console);
            verdict(sr.console.is_empty(), "nothing on rc's console".into(), found);
        }
        Some(needles) => {
            for needle in needles {
                let ok = sr.console.iter().any(|l| l.contains(needle.as_str()));
                let found = format!("{:?}", sr.console);
                verdict(ok, format!("a console line containing {needle:?}"), found);
            }
        }
        None => {}
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
    if let Some(max) = expect.outage_max {
        verdict(max.allows(outage), format!("outage at most {max}"), outage.to_string());
    }
    if let Some(want) = expect.lagg_mac_changes {
        let what = format!("lagg MAC changes = {want}");
        verdict(mac_changes == want, what, mac_changes.to_string());
    }
    if let Some(want) = expect.flapping {
        let found = if sr.flapping.is_empty() {
            "no station flapping".to_owned()
        } else {
            format!("{:?} flapping", sr.flapping.iter().map(IfName::as_str).collect::<Vec<_>>())
        };
        verdict(sr.flapping.is_empty() != want, format!("flapping = {want}"), found);
    }
    if let Some(max) = expect.events_max {
        let found = sr.events;
        verdict(found <= max, format!("devd events at most {max}"), found.to_string());
    }
    if let (Some(want), Some(found)) = (expect.converged, converged) {
        let ok = found.is_ok() == want;
        let found = found.err().unwrap_or_else(|| "converged".to_owned());
        verdict(ok, format!("converged = {want}"), found);
    }
    let figures = sr.clone();
    let mut verdict = |ok: bool, what: String, found: String| {
        if ok {
            sr.met.push(what);
        } else {
            sr.failed.push(format!("expected {what}, found {found}"));
        }
    };
    layer3::check(expect, kernel, &figures, &mut verdict);
}

/// What a run would do now, remembering what `store` holds of earlier
/// runs (the identities, and what they did about vaps and their
/// wpa_supplicants).
fn pending_for(
    kernel: &mut SimKernel,
    config: &Config,
    store: &MemoryStore,
) -> Result<crate::domain::plan::Plan, crate::kernel::KernelError> {
    let wpa = store.state.as_ref().map(|s| s.wpa.clone()).unwrap_or_default();
    pending_with(kernel, config, &store.macs, &wpa)
}

/// `Ok` when a reconcile would plan nothing and every configured lagg with
/// a port that could carry carries traffic; else why not.
fn converged(config: &Config, kernel: &mut SimKernel, store: &MemoryStore) -> Result<(), String> {
    let plan = pending_for(kernel, config, store).map_err(|e| e.to_string())?;
    if !plan.is_empty() {
        let actions: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
        return Err(format!("a reconcile would still run: {}", actions.join("; ")));
    }
    for lagg in &config.laggs {
        if lagg.ports.iter().any(|p| kernel.could_carry(p))
            && !kernel.traffic_flows(lagg.name.as_str())
        {
            return Err(format!("{} carries no traffic although a port could", lagg.name));
        }
    }
    Ok(())
}

/// The human-readable account of a run.
pub fn render(scenario: &Scenario, report: &Report, verbose: bool) -> String {
    let mut s = String::new();
    let layer3 = !scenario.machine.network.is_empty();
    let _ = writeln!(s, "scenario: {}", scenario.name);
    if report.baseline {
        let _ = writeln!(
            s,
            "  (baseline: stock devd rules only, no lagghook; expectations are reported, \
             they do not decide the exit status)"
        );
    }
    for line in scenario.description.trim().lines() {
        let _ = writeln!(s, "  {line}");
    }
    for (i, step) in report.steps.iter().enumerate() {
        let _ = writeln!(s, "\nstep {}: {}", i + 1, step.text);
        for c in &step.console {
            let _ = writeln!(s, "  rc      {c}");
        }
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
        let _ = writeln!(s, "  devd events  {}", step.events);
        for vap in &step.flapping {
            // One line per command devd ran for an event: count the events.
            let joins: std::collections::BTreeSet<&str> = step
                .dispatched
                .iter()
                .filter(|d| d.contains(&format!("subsystem={vap} type=LINK_UP:")))
                .filter_map(|d| d.split(": ").next())
                .collect();
            let joins = joins.len();
            let _ = writeln!(
                s,
                "  flapping  {vap}: {joins} LINK_UP in the step, still retrying when it ended \
                 (associates, fails its WPA handshake, is deauthenticated)"
            );
        }
        let _ = writeln!(s, "  outage  {}", step.outage);
        let _ = writeln!(s, "  lagg MAC changes  {}", step.mac_changes);
        if layer3 {
            let _ = writeln!(
                s,
                "  IPv4 outage  {}, IPv6 outage  {}, address changes  {}, DHCP exchanges  {}, \
                 devd blocked  {}",
                step.outage_inet,
                step.outage_inet6,
                step.addr_changes,
                step.dhcp_exchanges,
                Outage::Millis(step.devd_blocked)
            );
        }
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
    let steps = report.steps.len();
    let _ = writeln!(
        s,
        "\n{}: {steps} {}, {} expectations met, {} failed; outage {}, lagg MAC changes {}",
        if report.failures() == 0 { "PASS" } else { "FAIL" },
        if steps == 1 { "step" } else { "steps" },
        report.met(),
        report.failures(),
        report.outage(),
        report.mac_changes(),
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
