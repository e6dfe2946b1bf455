//! One lagghook run, whatever started it: observe, plan, apply, observe
//! again until a round plans nothing (or fails), then log the transitions
//! and remember the new topology and each lagg's identity. Kernel, log
//! sink, state store and clock are passed in, so the same code runs on
//! FreeBSD and on the simulator.

/// Executes a plan against a kernel, continuing past a failing port.
pub mod apply;
/// The top-level error and exit codes.
pub mod error;
/// The transitions file's format: a text log a run appends to.
pub mod history;
/// The syslog / stderr sink.
pub mod log;
/// The network check: the devd run's decision and the detached helper.
pub mod netcheck;
/// The known-networks file the network check keeps (issue 20).
pub mod networks;
/// What runs remember: the volatile state under /var/run/lagghook (last
/// topology, times, the lock), the identities and the transitions under
/// /var/db/lagghook.
pub mod state;

use crate::domain::config::{Config, ConfigError, LaggConfig};
use crate::domain::event::{DevdEvent, IfnetEvent};
use crate::domain::flap::{self, FlapState};
use crate::domain::identity;
use crate::domain::model::{IfKind, IfName, Interface, Snapshot, WpaAddress};
use crate::domain::plan::{
    plan, plan_with, Action, Group, Plan, RememberedMacs, Scope, WpaRefresh, WpaRefreshes,
};
use crate::domain::text;
use crate::domain::transition::{describe, LaggView};
use crate::domain::vap;
use crate::kernel::{Kernel, KernelError};
use crate::sim::SimKernel;
use crate::sys::file;
use std::collections::BTreeSet;
use std::path::Path;

use crate::run::apply::{apply, Applied, Outcome};
use crate::run::error::Error;
use crate::run::log::{Level, Log};
use crate::run::state::{State, StateStore, Stored};

/// A round applies what one observation justifies; the next observes the
/// result. Converging needs at most: create the lagg; add ports; let the
/// wrongly placed primary leave; re-add it. One more round to spare.
pub const MAX_ROUNDS: usize = 5;

/// What a run needs from the world.
pub struct Context<'a> {
    pub kernel: &'a mut dyn Kernel,
    pub log: &'a mut dyn Log,
    pub state: &'a mut dyn StateStore,
    /// Unix time, seconds.
    pub now: u64,
    /// `-n`: plan the first round, predict the later ones on a simulated
    /// copy of the kernel, change nothing.
    pub dry_run: bool,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// The plan of each round, in order; under `-n`, the first round's and
    /// the predicted later ones.
    pub plans: Vec<Plan>,
    pub applied: Vec<Applied>,
    /// Transition lines logged.
    pub transitions: Vec<String>,
    /// Under `-n`: why the rounds in `plans` end where they do; every plan
    /// after the first is a prediction.
    pub prediction_end: PredictionEnd,
    /// Each lagg in scope as the previous run left it and as this one
    /// does, for the network check ([`netcheck::after_run`]).
    pub ends: Vec<(IfName, netcheck::LaggEnds)>,
}

impl Report {
    pub fn failures(&self) -> usize {
        self.applied.iter().filter(|a| matches!(a.outcome, Outcome::Failed(_))).count()
    }
}

/// Reads and validates the configuration at `path`. The file is trusted
/// only if it is safe to be (see [`file::read_trusted`]); any problem is a
/// [`ConfigError`] naming the file.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    Config::parse(&read_config(path)?, path)
}

/// The text of the configuration at `path`, read as [`load_config`]
/// reads it, not yet parsed.
pub fn read_config(path: &Path) -> Result<String, ConfigError> {
    file::read_trusted(path).map_err(|e| Config::unreadable(path, e))
}

/// Whether an event concerns this configuration, and which lagg.
pub fn event_scope(config: &Config, event: &IfnetEvent) -> Option<Scope> {
    if let Some(lagg) = config.lagg_for_port(&event.ifname) {
        return Some(Scope::Lagg(lagg.name.clone()));
    }
    config.lagg(&event.ifname).map(|l| Scope::Lagg(l.name.clone()))
}

/// The IFNET event a devd line is about, if lagghook manages its interface.
/// Anything else is ignored before any kernel call.
pub fn managed_event(config: &Config, event: &DevdEvent) -> Option<(IfnetEvent, Scope)> {
    let ifnet = event.ifnet_event()?;
    let scope = event_scope(config, &ifnet)?;
    Some((ifnet, scope))
}

/// Reads everything the planner looks at: all interfaces, then `SIOCGLAGG`
/// of every lagg (configured or not, so a port held by another lagg is
/// recognised), then wpa_supplicant's own address for every configured
/// port that exists and is a vap, then the rx_all sysctl. Nothing else is
/// asked: a converged run makes exactly these reads (issue 11), so the
/// wpa_supplicant read, up to 200 ms for a silent one, is made only for
/// the vaps lagghook manages, never for other interfaces.
pub fn observe(kernel: &mut dyn Kernel, config: &Config) -> Result<Snapshot, KernelError> {
    let mut snapshot = Snapshot::default();
    for iface in kernel.interfaces()? {
        snapshot.interfaces.insert(iface.name.clone(), iface);
    }
    let laggs: Vec<IfName> = snapshot
        .interfaces
        .values()
        .filter(|i| i.kind == IfKind::Lagg)
        .map(|i| i.name.clone())
        .collect();
    for lagg in laggs {
        let status = kernel.lagg_status(&lagg)?;
        snapshot.laggs.insert(lagg, status);
    }
    // The kernel, not the name or a `wlan.X` table, says what is a vap
    // (`SIOCG80211`, see `Kernel::interfaces`): a renamed vap is asked
    // about, an Ethernet port named wlan-something is not.
    let vaps: Vec<IfName> = config
        .ports()
        .map(|(_, port)| port)
        .filter(|port| snapshot.interface(port).is_some_and(|i| i.kind == IfKind::Wlan))
        .cloned()
        .collect();
    for vap in vaps {
        let wpa = kernel.wpa_supplicant_address(&vap)?;
        snapshot.wpa.insert(vap, wpa);
    }
    snapshot.failover_rx_all = kernel.failover_rx_all()?;
    Ok(snapshot)
}

/// What a run would do right now, from a fresh observation: empty once
/// converged. `macs` are the remembered identities.
pub fn pending(
    kernel: &mut dyn Kernel,
    config: &Config,
    macs: &RememberedMacs,
) -> Result<Plan, KernelError> {
    Ok(plan(config, &observe(kernel, config)?, macs, &Scope::All))
}

/// [`pending`] for a run that also remembers what earlier runs did about
/// vaps and their wpa_supplicants (`refreshed`, the state file's).
pub fn pending_with(
    kernel: &mut dyn Kernel,
    config: &Config,
    macs: &RememberedMacs,
    refreshed: &WpaRefreshes,
) -> Result<Plan, KernelError> {
    let snapshot = observe(kernel, config)?;
    Ok(plan_with(config, &snapshot, macs, refreshed, &BTreeSet::new(), &Scope::All))
}

/// Converges the laggs in `scope`. Failed changes are logged as they
/// happen and counted in the report; only an unobservable kernel is an
/// `Err`.
pub fn reconcile(ctx: &mut Context<'_>, config: &Config, scope: &Scope) -> Result<Report, Error> {
    // An identity file that must not be read stops the run here, before
    // the kernel is even observed.
    let stored = ctx.state.load()?;
    let loaded = stored.state.clone();
    let mut snapshot = observe(ctx.kernel, config)?;
    let mut state = loaded.clone().unwrap_or_default();
    let mut macs = remembered(config, &snapshot, &stored);
    identity::remember(config, &snapshot, &mut macs);
    let laggs: Vec<IfName> = config
        .laggs
        .iter()
        .filter(|l| matches!(scope, Scope::All) || scope == &Scope::Lagg(l.name.clone()))
        .map(|l| l.name.clone())
        .collect();
    // Without a previous record, the topology found at the start is the
    // reference, so the first run logs what it changed and nothing else.
    for lagg in &laggs {
        if loaded.as_ref().is_none_or(|s| !s.laggs.contains_key(lagg)) {
            state.laggs.insert(lagg.clone(), LaggView::observe(&snapshot, lagg));
        }
    }

    // Vaps runs have seen up without a link for long enough to think a
    // re-addressed one's radio refused its address (`domain::vap`), in a
    // lagg that has just lost the port carrying its traffic: the WiFi is
    // needed now. The ones this run touches start over.
    let went_offline = |lagg: &LaggConfig| {
        let was = loaded.as_ref().and_then(|s| s.laggs.get(&lagg.name)).and_then(Option::as_ref);
        let now = LaggView::observe(&snapshot, &lagg.name);
        was.is_some_and(|v| v.active.is_some()) && now.is_some_and(|v| v.active.is_none())
    };
    let waited: BTreeSet<IfName> = config
        .laggs
        .iter()
        .filter(|lagg| went_offline(lagg))
        .flat_map(|lagg| lagg.ports.iter())
        .filter(|port| {
            state
                .unlinked
                .get(*port)
                .is_some_and(|since| ctx.now.saturating_sub(*since) >= vap::ASSOCIATION_GRACE_SECS)
        })
        .cloned()
        .collect();
    let mut touched: BTreeSet<IfName> = BTreeSet::new();
    let mut report = Report::default();
    let mut unfinished = None;
    // Laggs whose address this run set back: their `MAC a -> b` transition
    // is the "MAC … set" line already logged, not a second one.
    let mut readdressed: BTreeSet<IfName> = BTreeSet::new();
    for round_number in 1..=MAX_ROUNDS + 1 {
        let untouched: BTreeSet<IfName> = waited.difference(&touched).cloned().collect();
        let round = plan_with(config, &snapshot, &macs, &state.wpa, &untouched, scope);
        for note in &round.notes {
            ctx.log.log(Level::Info, &note.to_string());
        }
        if ctx.dry_run {
            let later = predict(config, &snapshot, &round, &macs, &state.wpa, &untouched, scope);
            report.plans.push(round);
            report.plans.extend(later.plans);
            report.prediction_end = later.end;
            return Ok(report);
        }
        if round.is_empty() {
            report.plans.push(round);
            break;
        }
        if round_number > MAX_ROUNDS {
            // Planned, not applied: the kernel keeps undoing what the
            // rounds do, or the planner has a bug. Either way, saying so
            // beats a storm of devd events.
            unfinished = Some(round);
            break;
        }
        let applied = apply(ctx.kernel, &round);
        let failed = applied.iter().any(|a| matches!(a.outcome, Outcome::Failed(_)));
        for a in &applied {
            if let Some((level, line)) = applied_line(a, &applied, &snapshot) {
                if level == Level::Notice {
                    transition(ctx.log, &mut state, ctx.now, line);
                } else {
                    ctx.log.log(level, &line);
                }
            }
            if let (Action::SetLladdr { ifname, .. }, Outcome::Done) = (&a.action, &a.outcome) {
                if snapshot.interface(ifname).is_some_and(|i| i.kind == IfKind::Lagg) {
                    readdressed.insert(ifname.clone());
                }
            }
            note_wpa_refresh(&mut state.wpa, &snapshot, a, &applied);
            if let (Group::Interface(name), Outcome::Done) = (a.action.group(), &a.outcome) {
                touched.insert(name);
            }
        }
        report.plans.push(round);
        report.applied.extend(applied);
        snapshot = observe(ctx.kernel, config)?;
        identity::remember(config, &snapshot, &mut macs);
        if failed {
            break;
        }
    }
    if let Some(why) = &stored.unreadable {
        // Said once: the file is rewritten below, whatever it holds now.
        ctx.log.log(Level::Warning, &format!("{why}; identities rebuilt from the kernel"));
    }
    for lagg in &config.laggs {
        let name = &lagg.name;
        if let Some(line) = identity::describe(name, stored.macs.get(name), macs.get(name)) {
            transition(ctx.log, &mut state, ctx.now, line.clone());
            report.transitions.push(line);
        }
    }

    for lagg in &laggs {
        let mut before = state.laggs.get(lagg).cloned().flatten();
        let after = LaggView::observe(&snapshot, lagg);
        if let (Some(b), Some(a), true) = (&mut before, &after, readdressed.contains(lagg)) {
            b.mac = a.mac;
        }
        let offline_for = state.offline_since.get(lagg).map(|t| ctx.now.saturating_sub(*t));
        let lines = describe(lagg, before.as_ref(), after.as_ref(), offline_for);
        let flap = state.flaps.entry(lagg.clone()).or_default();
        let lines = flap::fold(lagg, before.as_ref(), after.as_ref(), lines, flap, ctx.now);
        if state.flaps.get(lagg).is_some_and(|f| *f == FlapState::default()) {
            state.flaps.remove(lagg);
        }
        let online = after.as_ref().is_some_and(|v| v.active.is_some());
        if online {
            state.offline_since.remove(lagg);
        } else if after.is_some() && !state.offline_since.contains_key(lagg) {
            state.offline_since.insert(lagg.clone(), ctx.now);
        }
        for line in lines {
            transition(ctx.log, &mut state, ctx.now, line.clone());
            report.transitions.push(line);
        }
        let active_is_vap = after
            .as_ref()
            .and_then(|v| v.active.as_ref())
            .and_then(|p| snapshot.interface(p))
            .is_some_and(|i| i.kind == IfKind::Wlan);
        let before = state.laggs.get(lagg).cloned().flatten();
        let end = netcheck::LaggEnds { before, after: after.clone(), active_is_vap };
        report.ends.push((lagg.clone(), end));
        state.laggs.insert(lagg.clone(), after);
    }
    settle_wpa_refreshes(ctx.log, &mut state, &snapshot, ctx.now, &mut report);
    note_unlinked(config, &mut state, &snapshot, &touched, ctx.now);
    let rebuilt = stored.unreadable.is_some();
    let remembered = remember(ctx.log, ctx.state, &stored, Some(&state), &macs, rebuilt);
    match (report.failures(), unfinished) {
        (0, None) => remembered.map(|()| report),
        (0, Some(pending)) => Err(Error::NotConverged { rounds: MAX_ROUNDS, pending }),
        (n, _) => Err(Error::ChangesFailed(n)),
    }
}

/// Saves what a run remembers where it differs from what it loaded
/// (`loaded`): the state and history, and the identities (also when
/// `rebuild`, an unusable identity file). Steady state writes nothing,
/// not even the state file. Each file that could not be written is
/// logged under its own name ("history not saved: PATH: why"), and so is
/// each provisional identity left unsaved, which a reboot would forget:
/// the next boot could give the lagg another MAC. The kernel's repair
/// stands either way; the `Err` ([`Error::NotRemembered`]) says that the
/// run's memory of it does not.
pub fn remember(
    log: &mut dyn Log,
    store: &mut dyn StateStore,
    loaded: &Stored,
    state: Option<&State>,
    macs: &RememberedMacs,
    rebuild: bool,
) -> Result<(), Error> {
    let mut lines = Vec::new();
    if let Some(state) = state.filter(|s| loaded.state.as_ref() != Some(*s)) {
        if let Err(failed) = store.save(state) {
            lines.extend(failed.iter().map(ToString::to_string));
        }
    }
    if rebuild || &loaded.macs != macs {
        if let Err(failed) = store.save_identities(macs) {
            lines.push(failed.to_string());
            let unsaved =
                macs.iter().filter(|(l, id)| id.provisional && loaded.macs.get(*l) != Some(*id));
            for (lagg, id) in unsaved {
                lines.push(format!(
                    "{lagg}: provisional identity {} is at risk at the next reboot: \
                     not saved, the next boot may give {lagg} another MAC",
                    id.mac
                ));
            }
        }
    }
    for line in &lines {
        log.log(Level::Err, line);
    }
    match lines.len() {
        0 => Ok(()),
        _ => Err(Error::NotRemembered),
    }
}

/// Remembers a wpa_supplicant refresh (a vap's own address set again while
/// down) or restart this run made, so the next rounds wait for it and a
/// later run escalates only if it did not take (`plan::plan_wpa`); and a
/// vap given a new address while down, or joined while down, or re-created
/// (`readdressed`: wpa_supplicant read the address then, and
/// `domain::vap` waits for the vap to associate with it). `round` is every
/// outcome of the round `applied` belongs to.
fn note_wpa_refresh(
    refreshed: &mut WpaRefreshes,
    snapshot: &Snapshot,
    applied: &Applied,
    round: &[Applied],
) {
    if applied.outcome != Outcome::Done {
        return;
    }
    let readdressed = |mac| WpaRefresh { mac, restarted: false, this_run: true, readdressed: true };
    let cycled = |vap: &IfName| {
        let down = Action::Down { ifname: vap.clone() };
        snapshot.interface(vap).is_some_and(|i| i.kind == IfKind::Wlan)
            && round.iter().any(|a| a.action == down && a.outcome == Outcome::Done)
    };
    match &applied.action {
        Action::SetLladdr { ifname, mac, was } if mac == was => {
            let r = WpaRefresh { mac: *mac, restarted: false, this_run: true, readdressed: false };
            refreshed.insert(ifname.clone(), r);
        }
        Action::SetLladdr { ifname, mac, .. } if cycled(ifname) => {
            refreshed.insert(ifname.clone(), readdressed(*mac));
        }
        Action::AddPort { lagg, port } if cycled(port) && !refreshed.contains_key(port) => {
            let Some(mac) = snapshot.interface(lagg).map(|i| i.mac) else { return };
            refreshed.insert(port.clone(), readdressed(mac));
        }
        Action::RecreateVap { wlan, mac, .. } => {
            refreshed.insert(wlan.clone(), readdressed(*mac));
        }
        Action::RestartWpaSupplicant { wlan } => {
            let Some(mac) = snapshot.interface(wlan).map(|i| i.mac) else { return };
            let r = WpaRefresh { mac, restarted: true, this_run: true, readdressed: false };
            refreshed.insert(wlan.clone(), r);
        }
        _ => {}
    }
}

/// At the end of a run: a refresh that took (wpa_supplicant now says the
/// vap's address) is logged and forgotten, as is one for a vap that is gone
/// or re-addressed; the rest is kept for the next run, no longer "this
/// run".
fn settle_wpa_refreshes(
    log: &mut dyn Log,
    state: &mut State,
    snapshot: &Snapshot,
    now: u64,
    report: &mut Report,
) {
    let mut done = Vec::new();
    for (vap, r) in &state.wpa {
        let Some(iface) = snapshot.interface(vap) else {
            done.push((vap.clone(), None));
            continue;
        };
        match snapshot.wpa.get(vap) {
            // A new address kept until the vap associates with it.
            _ if r.readdressed && iface.mac == r.mac && !iface.link.is_up() => {}
            _ if r.readdressed => done.push((vap.clone(), None)),
            Some(WpaAddress::Known(w)) if *w == iface.mac => {
                done.push((vap.clone(), Some(format!("{vap}: wpa_supplicant now uses {w}"))));
            }
            _ if iface.mac != r.mac => done.push((vap.clone(), None)),
            _ => {}
        }
    }
    for (vap, line) in done {
        state.wpa.remove(&vap);
        if let Some(line) = line {
            transition(log, state, now, line.clone());
            report.transitions.push(line);
        }
    }
    for r in state.wpa.values_mut() {
        r.this_run = false;
    }
}

/// Since when each configured vap has been up without a link, as runs
/// saw it (`State::unlinked`, for `domain::vap`): a vap this run touched
/// starts over now, one with a link or down is forgotten.
fn note_unlinked(
    config: &Config,
    state: &mut State,
    snapshot: &Snapshot,
    touched: &BTreeSet<IfName>,
    now: u64,
) {
    let vaps: Vec<&Interface> = config
        .ports()
        .filter_map(|(_, port)| snapshot.interface(port))
        .filter(|i| i.kind == IfKind::Wlan)
        .collect();
    state.unlinked.retain(|name, _| vaps.iter().any(|v| &v.name == name));
    for vap in vaps {
        if !vap.up || vap.link.is_up() {
            state.unlinked.remove(&vap.name);
        } else if touched.contains(&vap.name) {
            state.unlinked.insert(vap.name.clone(), now);
        } else {
            state.unlinked.entry(vap.name.clone()).or_insert(now);
        }
    }
}

/// The identities a run starts from: the remembered ones, or, when the
/// identity file was unusable, what [`identity::salvage`] recovers from the
/// kernel and the last topology this boot saw, so a lost file never makes a
/// busy lagg take another address. `status`, `check` and `rc-conf` start
/// from the same.
pub fn remembered(config: &Config, snapshot: &Snapshot, stored: &Stored) -> RememberedMacs {
    if stored.unreadable.is_none() {
        return stored.macs.clone();
    }
    let last_seen = stored
        .state
        .iter()
        .flat_map(|s| s.laggs.iter())
        .filter_map(|(name, view)| view.as_ref().map(|v| (name.clone(), v.mac)))
        .collect();
    identity::salvage(config, snapshot, &last_seen)
}

/// A transition line: logged, and kept for `status`.
fn transition(log: &mut dyn Log, state: &mut State, now: u64, line: String) {
    log.log(Level::Notice, &line);
    state.record(now, line);
}

/// The log line for one applied action, and its level, if it gets one.
/// Every change is logged at notice exactly once: by the transition line
/// that describes its effect at the end of the run ([`describe`]: a lagg
/// created, a port joined or left, the primary or the lagg's MAC changed),
/// or, for what no transition shows, by its own line here. A port brought
/// down and up again in the same round (to join, or to take an address
/// while down) has not changed its flags: the line of what the bracket was
/// for covers it. `before` is the observation the round was planned from;
/// `round` is every outcome of the round.
pub fn applied_line(
    applied: &Applied,
    round: &[Applied],
    before: &Snapshot,
) -> Option<(Level, String)> {
    let notice = |line: String| Some((Level::Notice, line));
    let done =
        |action: &Action| round.iter().any(|a| &a.action == action && a.outcome == Outcome::Done);
    match (&applied.action, &applied.outcome) {
        (Action::SetLladdr { ifname, mac, was }, Outcome::Done) if mac == was => notice(format!(
            "{ifname}: address {mac} set again while down, for wpa_supplicant and net80211"
        )),
        (Action::SetLladdr { ifname, mac, was }, Outcome::Done)
            if before.interface(ifname).is_some_and(|i| i.kind == IfKind::Wlan) =>
        {
            notice(format!("{ifname}: MAC {mac} set while down (was {was})"))
        }
        (Action::SetLladdr { ifname, mac, was }, Outcome::Done) => {
            notice(format!("{ifname}: MAC {mac} set (was {was})"))
        }
        (Action::RecreateVap { wlan, parent, mac, was, why }, Outcome::Done) => {
            notice(format!("{wlan}: re-created on {parent} with wlanaddr {mac} (was {was}): {why}"))
        }
        (Action::LoadLaggModule, Outcome::Done) => notice("if_lagg: module loaded".to_owned()),
        (Action::RestartWpaSupplicant { wlan }, Outcome::Done) => {
            notice(format!("{wlan}: wpa_supplicant restarted for the new MAC"))
        }
        (Action::SetFailoverRxAll { value }, Outcome::Done) => {
            // As sysctl(8) prints a change. A sysctl that was missing was
            // created by the if_lagg this round loaded, with its default
            // of 0 (`V_lagg_failover_rx_all` in `sys/net/if_lagg.c`).
            let was = u8::from(before.failover_rx_all.unwrap_or(false));
            notice(format!("net.link.lagg.failover_rx_all: {was} -> {}", u8::from(*value)))
        }
        (Action::SetProto { lagg, proto }, Outcome::Done) => match before.laggs.get(lagg) {
            Some(status) => notice(format!("{lagg}: laggproto {} -> {proto}", status.proto)),
            None => notice(format!("{lagg}: laggproto {proto}")),
        },
        (Action::Up { ifname }, Outcome::Done) => {
            let bracket = done(&Action::Down { ifname: ifname.clone() })
                || done(&Action::CreateLagg { lagg: ifname.clone() });
            if bracket {
                Some((Level::Info, applied.action.to_string()))
            } else {
                notice(format!("{ifname}: brought up"))
            }
        }
        (Action::Down { ifname }, Outcome::Done) => {
            if done(&Action::Up { ifname: ifname.clone() }) {
                Some((Level::Info, applied.action.to_string()))
            } else {
                notice(format!("{ifname}: brought down"))
            }
        }
        (action, Outcome::Failed(e)) => {
            Some((Level::Err, text::failed(&action.to_string(), &e.to_string())))
        }
        (action, Outcome::Skipped) => {
            Some((Level::Info, format!("skipped after an earlier failure: {action}")))
        }
        // CreateLagg, AddPort and RemovePort show in the transitions;
        // "already so" changed nothing.
        (action, _) => Some((Level::Info, action.to_string())),
    }
}

/// The rounds a run would make: the first planned from the kernel as
/// observed, the later ones predicted ([`rounds`]).
#[derive(Debug, Clone, Default)]
pub struct Rounds {
    /// The first round's plan (empty when converged, but for its notes),
    /// then the predicted ones; every plan after the first is a
    /// prediction.
    pub plans: Vec<Plan>,
    /// Why the rounds end where they do.
    pub end: PredictionEnd,
}

/// The rounds a run would make from `observed`, as `-n` shows them and
/// `check` lists them: the first planned from the observation with the
/// remembered identities `macs` and the wpa_supplicant refreshes
/// `refreshed` of earlier runs, each later one predicted ([`predict`]).
pub fn rounds(
    config: &Config,
    observed: &Snapshot,
    macs: &RememberedMacs,
    refreshed: &WpaRefreshes,
    scope: &Scope,
) -> Rounds {
    let mut macs = macs.clone();
    identity::remember(config, observed, &mut macs);
    let waited = BTreeSet::new();
    let first = plan_with(config, observed, &macs, refreshed, &waited, scope);
    let later = predict(config, observed, &first, &macs, refreshed, &waited, scope);
    let mut plans = vec![first];
    plans.extend(later.plans);
    Rounds { plans, end: later.end }
}

/// The rounds after the first, as `-n` shows them.
struct Prediction {
    plans: Vec<Plan>,
    end: PredictionEnd,
}

/// Why the rounds `-n` shows end where they end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PredictionEnd {
    /// The last round shown is followed by one that plans nothing.
    #[default]
    Converged,
    /// The observation cannot be rebuilt as a simulated kernel, so no
    /// later round can be predicted.
    Unpredictable(String),
    /// A change of a predicted round failed in the simulation; a real run
    /// stops there too, and the next run starts from what it leaves.
    Failed(String),
    /// After [`MAX_ROUNDS`] rounds the prediction still plans this: a real
    /// run would stop with "not converged".
    Unfinished(Plan),
}

/// The rounds a run would make after `first`, predicted by applying each
/// plan to a simulated kernel rebuilt from the observation
/// ([`SimKernel::from_snapshot`], whose documentation lists what it has to
/// guess) and planning again from what it then shows, as [`reconcile`]
/// does on the real kernel. The simulator is the predictor: its rules are
/// the ones the scenario tests hold lagghook to, not FreeBSD's.
fn predict(
    config: &Config,
    observed: &Snapshot,
    first: &Plan,
    macs: &RememberedMacs,
    refreshed: &WpaRefreshes,
    waited: &BTreeSet<IfName>,
    scope: &Scope,
) -> Prediction {
    let mut plans = Vec::new();
    let mut waited = waited.clone();
    if first.is_empty() {
        return Prediction { plans, end: PredictionEnd::Converged };
    }
    let mut kernel = match SimKernel::from_snapshot(observed) {
        Ok(k) => k,
        Err(e) => return Prediction { plans, end: PredictionEnd::Unpredictable(e.to_string()) },
    };
    let (mut macs, mut refreshed) = (macs.clone(), refreshed.clone());
    let mut snapshot = observed.clone();
    let mut round = first.clone();
    for _ in 1..=MAX_ROUNDS {
        let applied = apply(&mut kernel, &round);
        for a in &applied {
            note_wpa_refresh(&mut refreshed, &snapshot, a, &applied);
            if let Group::Interface(name) = a.action.group() {
                waited.remove(&name);
            }
        }
        if let Some(a) = applied.iter().find(|a| matches!(a.outcome, Outcome::Failed(_))) {
            let Outcome::Failed(e) = &a.outcome else { break };
            let end = PredictionEnd::Failed(text::failed(&a.action.to_string(), &e.to_string()));
            return Prediction { plans, end };
        }
        snapshot = match observe(&mut kernel, config) {
            Ok(s) => s,
            Err(e) => {
                return Prediction { plans, end: PredictionEnd::Unpredictable(e.to_string()) }
            }
        };
        identity::remember(config, &snapshot, &mut macs);
        round = plan_with(config, &snapshot, &macs, &refreshed, &waited, scope);
        if round.is_empty() {
            return Prediction { plans, end: PredictionEnd::Converged };
        }
        plans.push(round.clone());
    }
    // The last plan pushed is the one a real run would not apply.
    let unfinished = plans.pop().unwrap_or_default();
    Prediction { plans, end: PredictionEnd::Unfinished(unfinished) }
}

impl Report {
    /// What `-n` prints: the plan of the first round, from the kernel as
    /// observed, then the predicted ones, each under a heading that says
    /// it is a prediction; `# nothing to do` when the first round plans
    /// nothing; a last comment when the prediction stops early.
    pub fn dry_run_text(&self) -> String {
        let Some(first) = self.plans.first() else { return "# nothing to do\n".to_owned() };
        if first.actions.is_empty() && first.notes.is_empty() {
            return "# nothing to do\n".to_owned();
        }
        let mut text = String::new();
        let several = self.plans.len() > 1;
        for (i, plan) in self.plans.iter().enumerate() {
            match i {
                0 if several => text.push_str("# round 1\n"),
                0 => {}
                n => text.push_str(&format!("# round {} (predicted)\n", n + 1)),
            }
            text.push_str(&plan.to_string());
        }
        match &self.prediction_end {
            PredictionEnd::Converged => {}
            PredictionEnd::Unpredictable(why) => {
                text.push_str(&format!("# later rounds cannot be predicted: {why}\n"));
            }
            PredictionEnd::Failed(why) => {
                text.push_str(&format!("# the prediction stops at a failed change: {why}\n"));
            }
            PredictionEnd::Unfinished(plan) => {
                let actions: Vec<String> = plan.actions.iter().map(ToString::to_string).collect();
                text.push_str(&format!(
                    "# not converged after {MAX_ROUNDS} rounds (predicted); still to do: {}\n",
                    actions.join("; ")
                ));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{MacAddr, WpaAddress};
    use crate::kernel::{Errno, Op};
    use crate::sim::{Faulty, Machine, SimKernel};

    /// lagg0's configured ports: a vap (wlan0, wpa_supplicant running), a
    /// renamed vap (wifi0, none running), an Ethernet NIC named like a vap
    /// (wlan5), one absent port (wlan7); and a vap nobody configured
    /// (wlan1).
    const MACHINE: &str = r#"
[machine]
[[machine.interface]]
name = "em0"
kind = "ether"
mac = "00:11:22:33:44:55"
link = true
[[machine.interface]]
name = "wlan0"
kind = "wlan"
parent = "iwn0"
mac = "00:11:22:33:44:55"
link = true
[[machine.interface]]
name = "wifi0"
kind = "wlan"
parent = "ath0"
mac = "00:24:d7:00:00:02"
wpa_mac = "none"
[[machine.interface]]
name = "wlan5"
kind = "ether"
mac = "00:11:22:33:44:66"
[[machine.interface]]
name = "wlan1"
kind = "wlan"
parent = "ath0"
mac = "00:24:d7:00:00:03"
"#;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn setup() -> (SimKernel, Config) {
        let kernel = SimKernel::from_machine(&Machine::parse(MACHINE).unwrap()).unwrap();
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\", \"wifi0\", \"wlan5\", \"wlan7\"]\n";
        (kernel, Config::parse(text, "lagghook.toml".as_ref()).unwrap())
    }

    /// Proves the wpa_supplicant read is made once per configured port the
    /// kernel calls a vap, and for nothing else: a failure planted on every
    /// other interface is never reached, and a second read of wlan0 would
    /// fail but is never made.
    #[test]
    fn observe_asks_wpa_supplicant_once_per_configured_vap_and_no_more() {
        let (kernel, config) = setup();
        let mut kernel = Faulty::new(kernel);
        for other in ["em0", "wlan5", "wlan7", "wlan1", "lagg0"] {
            kernel.fail_always_for(Op::GetWpaAddress, &n(other), Errno::ENXIO);
        }
        kernel.fail_nth_for(Op::GetWpaAddress, &n("wlan0"), 2, Errno::ENXIO);
        kernel.fail_nth_for(Op::GetWpaAddress, &n("wifi0"), 2, Errno::ENXIO);
        let snap = observe(&mut kernel, &config).unwrap();
        let em0: MacAddr = "00:11:22:33:44:55".parse().unwrap();
        let expected = [(n("wifi0"), WpaAddress::NotRunning), (n("wlan0"), WpaAddress::Known(em0))];
        assert_eq!(snap.wpa, expected.into_iter().collect());
        assert!(kernel.injected().is_empty(), "{:?}", kernel.injected());
    }

    /// Proves a failed wpa_supplicant read fails the observation, as any
    /// other failed read does: the run cannot see the kernel whole.
    #[test]
    fn a_failed_wpa_supplicant_read_is_a_failed_observation() {
        let (kernel, config) = setup();
        let mut kernel = Faulty::new(kernel);
        kernel.fail_nth_for(Op::GetWpaAddress, &n("wlan0"), 1, Errno::ENXIO);
        let err = observe(&mut kernel, &config).unwrap_err();
        assert_eq!((err.op, err.ifname), (Op::GetWpaAddress, Some(n("wlan0"))));
    }

    /// The simulator's answer where the question makes no sense, as its
    /// other reads answer: ENXIO for no interface, EINVAL for no vap.
    #[test]
    fn the_simulator_refuses_what_is_no_vap() {
        let (mut kernel, _) = setup();
        let errno = |k: &mut SimKernel, name: &str| {
            k.wpa_supplicant_address(&n(name)).unwrap_err().errno_value()
        };
        assert_eq!(errno(&mut kernel, "wlan7"), Some(Errno::ENXIO));
        assert_eq!(errno(&mut kernel, "em0"), Some(Errno::EINVAL));
        assert_eq!(kernel.writes(), 0, "a read");
    }

    const LAPTOP_CONFIG: &str = "[lagg0]\nports = [\"em0\", \"wlan0\"]\n";

    /// One run of `config` on `machine` from an empty state: the notice
    /// lines it logged, and the report.
    fn run_once(machine: &str, dry_run: bool) -> (Vec<String>, Report) {
        let mut kernel = SimKernel::from_machine(&Machine::parse(machine).unwrap()).unwrap();
        let config = Config::parse(LAPTOP_CONFIG, "lagghook.toml".as_ref()).unwrap();
        let mut log = crate::run::log::MemoryLog::default();
        let mut store = state::MemoryStore::default();
        let mut ctx =
            Context { kernel: &mut kernel, log: &mut log, state: &mut store, now: 1, dry_run };
        let report = reconcile(&mut ctx, &config, &Scope::All).unwrap();
        let notices =
            log.lines.into_iter().filter(|(l, _)| *l == Level::Notice).map(|(_, t)| t).collect();
        (notices, report)
    }

    const EM0: &str = "[[machine.interface]]\nname = \"em0\"\nkind = \"ether\"\n\
                       mac = \"00:11:22:33:44:55\"\nlink = true\n";
    const WLAN0: &str = "[[machine.interface]]\nname = \"wlan0\"\nkind = \"wlan\"\n\
                         parent = \"iwn0\"\nmac = \"00:11:22:33:44:55\"\nlink = true\n";

    /// Proves every change of a run that builds the laptop from nothing is
    /// logged at notice once: the module load and the sysctl by their own
    /// lines (as sysctl(8) prints a change), the lagg and its ports by the
    /// transitions, and nothing twice (issue 10, point 10).
    #[test]
    fn issue10_every_change_is_logged_once() {
        let machine = format!("[machine]\nif_lagg = false\n{EM0}{WLAN0}");
        let (notices, report) = run_once(&machine, false);
        for line in [
            "if_lagg: module loaded",
            "net.link.lagg.failover_rx_all: 0 -> 1",
            "lagg0: created",
            "lagg0: port em0 joined",
            "lagg0: port wlan0 joined",
        ] {
            assert_eq!(notices.iter().filter(|l| *l == line).count(), 1, "{line}: {notices:?}");
        }
        let unique: BTreeSet<&String> = notices.iter().collect();
        assert_eq!(unique.len(), notices.len(), "a line logged twice: {notices:?}");
        assert!(report.applied.iter().all(|a| a.outcome == Outcome::Done), "{report:?}");
    }

    /// Proves a protocol change and a port brought up, which no transition
    /// shows, get lines of their own.
    #[test]
    fn issue10_a_protocol_change_and_a_port_brought_up_are_logged() {
        let machine = format!(
            "[machine]\nfailover_rx_all = 1\n{}{WLAN0}[[machine.interface]]\nname = \"lagg0\"\n\
             kind = \"lagg\"\nproto = \"lacp\"\nports = [\"em0\", \"wlan0\"]\n",
            EM0.replace("link = true", "link = true\nup = false")
        );
        let (notices, _) = run_once(&machine, false);
        assert!(notices.contains(&"lagg0: laggproto lacp -> failover".to_owned()), "{notices:?}");
        assert!(notices.contains(&"em0: brought up".to_owned()), "{notices:?}");
    }

    /// Proves a lagg whose address lagghook sets back is logged once, as
    /// set, not also as a `lagg0: MAC a -> b` transition.
    #[test]
    fn issue10_a_lagg_address_set_back_is_one_line() {
        let machine = format!(
            "[machine]\nfailover_rx_all = 1\n{EM0}{WLAN0}[[machine.interface]]\nname = \"lagg0\"\n\
             kind = \"lagg\"\nports = [\"em0\", \"wlan0\"]\nlladdr = \"00:24:d7:00:00:09\"\n"
        );
        let (notices, _) = run_once(&machine, false);
        let about_lagg_mac: Vec<&String> =
            notices.iter().filter(|l| l.starts_with("lagg0: MAC")).collect();
        assert_eq!(
            about_lagg_mac,
            ["lagg0: MAC 00:11:22:33:44:55 set (was 00:24:d7:00:00:09)"],
            "{notices:?}"
        );
    }

    /// Proves `-n` shows the rounds after the first as predictions, and
    /// `# nothing to do` for a converged laptop (issue 10, point 9).
    #[test]
    fn issue10_dry_run_shows_every_round() {
        let machine = format!("[machine]\nif_lagg = false\n{EM0}{WLAN0}");
        let (notices, report) = run_once(&machine, true);
        assert!(notices.is_empty(), "a dry run logs no change: {notices:?}");
        assert_eq!(
            report.dry_run_text(),
            "# round 1\nkldload if_lagg\nifconfig lagg0 create\nifconfig lagg0 up\n\
             sysctl net.link.lagg.failover_rx_all=1\n# round 2 (predicted)\n\
             ifconfig lagg0 laggport em0\nifconfig wlan0 down\nifconfig lagg0 laggport wlan0\n\
             ifconfig wlan0 up\n"
        );
        let converged = format!(
            "[machine]\nfailover_rx_all = 1\n{EM0}{WLAN0}[[machine.interface]]\nname = \"lagg0\"\n\
             kind = \"lagg\"\nports = [\"em0\", \"wlan0\"]\n"
        );
        assert_eq!(run_once(&converged, true).1.dry_run_text(), "# nothing to do\n");
    }

    /// Proves a prediction that cannot go on says why, after the rounds it
    /// could predict.
    #[test]
    fn a_prediction_that_stops_says_why() {
        let report = Report {
            plans: vec![Plan { actions: vec![Action::Up { ifname: n("em0") }], notes: Vec::new() }],
            prediction_end: PredictionEnd::Unpredictable("interface x: y".into()),
            ..Report::default()
        };
        assert_eq!(
            report.dry_run_text(),
            "ifconfig em0 up\n# later rounds cannot be predicted: interface x: y\n"
        );
    }

    /// The wpa_supplicant client binds in the directory the state lives in,
    /// the one `FileStore::open_dir` makes root's alone.
    #[test]
    fn the_wpa_client_binds_in_the_state_directory() {
        assert_eq!(crate::sys::wpa_ctrl::CLIENT_DIR, state::DEFAULT_DIR);
    }
}
