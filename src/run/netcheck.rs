//! The network check's two halves (issue 20, points 2 and 6).
//!
//! - [`after_run`], in the devd run (and `reconcile`, `resume`): decides,
//!   never waits. When a check is due ([`attach::check_due`]) and a network
//!   is remembered, it bumps the lagg's generation in the networks file and
//!   starts the detached helper (`Kernel::spawn_netcheck`); otherwise, on a
//!   lagg that carries traffic, it records the network it is on with kernel
//!   reads only, writing the file only when that changed.
//! - [`Helper`], the detached helper `lagghook netcheck LAGG GENERATION`: a
//!   state machine of steps, each run at the instant the previous one asked
//!   for ([`Next::At`]), so the same code runs as a process that sleeps
//!   between steps (`cli`) and on the scenario harness's simulated time.
//!   It waits for the vap's WPA handshake, probes, decides, re-addresses
//!   and waits for the new address, within [`DEADLINE_MS`] of its spawn.
//!   It never holds the lock while it waits: every step that reads or
//!   writes the networks file or the kernel's addresses takes it
//!   ([`Locker`]) for that step only, and first checks that its generation
//!   is still the lagg's: a newer helper for the same lagg (a cable out and
//!   back within 300 ms) makes it give way, so there is one outcome, the
//!   last.

use crate::domain::attach::{self, AttachAction, Current, Destination, Verdict};
use crate::domain::config::{Config, LaggConfig};
use crate::domain::layer3::{DefaultRoute, IfAddr, ProbeExchange, ProbeResult, Ssid, WpaState};
use crate::domain::model::IfName;
use crate::domain::network::{
    InFlight, KnownNetwork, LaggNetworks, LastCheck, Networks, Observation,
};
use crate::domain::transition::LaggView;
use crate::kernel::{Errno, Kernel, KernelError};
use crate::run::log::{Level, Log};
use crate::run::state::{StateError, StateStore};

/// The helper is gone this long after its spawn, finished or not.
pub const DEADLINE_MS: u64 = 10_000;
/// How often the helper asks wpa_supplicant whether the handshake is done.
pub const HANDSHAKE_POLL_MS: u64 = 50;
/// How often the helper looks for the new address.
pub const ADDRESS_POLL_MS: u64 = 100;

/// What a run saw of one lagg at its start (the previous run's view, or
/// its own first observation) and at its end, for [`after_run`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaggEnds {
    pub before: Option<LaggView>,
    pub after: Option<LaggView>,
    /// The active port at the end is a vap (`SIOCG80211` said so).
    pub active_is_vap: bool,
}

/// The devd run's part, after its repair: for each lagg in `ends`, start a
/// check or record the network. Kernel reads only; one networks-file write
/// when something changed. Failures are logged (WARN, naming the request
/// and errno) and never fail the run: the repair is done, and the next
/// event re-evaluates.
#[allow(clippy::too_many_arguments)]
pub fn after_run(
    kernel: &mut dyn Kernel,
    log: &mut dyn Log,
    store: &mut dyn StateStore,
    config: &Config,
    ends: &[(IfName, LaggEnds)],
    now_ms: u64,
    resume: bool,
) {
    let checked: Vec<&(IfName, LaggEnds)> = ends
        .iter()
        .filter(|(lagg, _)| config.lagg(lagg).is_some_and(|l| l.network.checks()))
        .collect();
    if checked.is_empty() {
        return;
    }
    let loaded = store.load_networks();
    if let Some(w) = &loaded.warning {
        log.log(Level::Warning, w);
    }
    let mut nets = loaded.networks.clone();
    for (lagg, end) in checked {
        let Some(cfg) = config.lagg(lagg) else { continue };
        one_lagg(kernel, log, store, cfg, end, &mut nets, now_ms, resume);
    }
    // Nothing learnt of a lagg is nothing to write.
    nets.lagg.retain(|_, l| *l != LaggNetworks::default());
    if loaded.warning.is_some() || nets != loaded.networks {
        if let Err(e) = store.save_networks(&nets) {
            log.log(Level::Warning, &format!("known networks not saved: {e}"));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn one_lagg(
    kernel: &mut dyn Kernel,
    log: &mut dyn Log,
    store: &mut dyn StateStore,
    cfg: &LaggConfig,
    end: &LaggEnds,
    nets: &mut Networks,
    now_ms: u64,
    resume: bool,
) {
    let lagg = &cfg.name;
    let Some(after) = &end.after else { return };
    let Some(active) = after.active.clone() else { return };
    let l = nets.of_mut(lagg);
    if let Some(f) = l.in_flight {
        if now_ms >= f.deadline_ms {
            let line = format!(
                "{lagg}: network check {} did not finish (killed or past its {} s deadline)",
                f.generation,
                DEADLINE_MS / 1000
            );
            log.log(Level::Warning, &line);
            l.in_flight = None;
            l.last_check = Some(LastCheck {
                time: now_ms / 1000,
                verdict: "did not finish".to_owned(),
                failed: Some(format!("check {} did not finish", f.generation)),
            });
        }
    }
    let ssid = if end.active_is_vap {
        match kernel.ssid(&active) {
            Ok(s) => s,
            Err(e) => return log.log(Level::Warning, &format!("{e}; no network check")),
        }
    } else {
        None
    };
    let trigger = attach::check_due(
        &cfg.network,
        end.before.as_ref(),
        Some(after),
        ssid.as_ref(),
        l.ssid.as_ref(),
        resume,
    );
    if let Some(trigger) = trigger {
        if l.current().is_none() {
            // Nothing to compare with: what lagghook did before the feature,
            // and what a machine without networks keeps doing.
            let line = format!("{lagg}: {trigger}: no network remembered, nothing to check");
            return log.log(Level::Info, &line);
        }
        l.generation += 1;
        let generation = l.generation;
        let lagg_bounced = matches!(trigger, attach::Trigger::Regained { .. });
        l.in_flight = Some(InFlight {
            generation,
            spawned_ms: now_ms,
            deadline_ms: now_ms + DEADLINE_MS,
            lagg_bounced,
        });
        if ssid.is_some() {
            l.ssid = ssid;
        }
        // The helper reads its generation from the file: saved first.
        if let Err(e) = store.save_networks(nets) {
            return log.log(Level::Warning, &format!("{lagg}: no network check: {e}"));
        }
        log.log(Level::Info, &format!("{lagg}: {trigger}: network check {generation} started"));
        if let Err(e) = kernel.spawn_netcheck(lagg, generation) {
            log.log(Level::Warning, &format!("{e}; no network check"));
            nets.of_mut(lagg).in_flight = None;
        }
        return;
    }
    if l.in_flight.is_some() {
        return; // the helper records what it finds
    }
    if l.ssid.is_none() && ssid.is_some() {
        l.ssid = ssid;
    }
    match observation(kernel, lagg) {
        Ok(obs) => {
            if let Some(net) = obs.network(now_ms / 1000) {
                if l.differs(&net) {
                    l.record(net);
                }
                if let Some(c) = l.last_check.as_mut() {
                    // An address is there now: a slow DHCP server answered.
                    if c.failed.is_some() && !obs.addresses.iter().all(IfAddr::is_link_local) {
                        c.failed = None;
                    }
                }
            }
        }
        Err(e) => log.log(Level::Warning, &format!("{e}; network not recorded")),
    }
}

/// The reads of issue 20's point 2: the lagg's addresses, the default
/// routes that leave by it, and their gateways' neighbour entries.
pub fn observation(kernel: &mut dyn Kernel, lagg: &IfName) -> Result<Observation, KernelError> {
    let addresses = kernel.addresses(lagg)?;
    let routes: Vec<DefaultRoute> =
        kernel.default_routes()?.into_iter().filter(|r| &r.ifname == lagg).collect();
    let mut neighbours = Vec::new();
    for r in &routes {
        if let Some(n) = kernel.neighbour(lagg, r.gateway)? {
            neighbours.push(n);
        }
    }
    Ok(Observation { addresses, routes, neighbours, ssid: None })
}

/// Runs `f` on the state store with the main lock held, for one step:
/// the real helper opens the files and takes the lock (bounded, as every
/// run does) and lets go when `f` returns; the simulator's store is simply
/// lent.
pub trait Locker {
    fn with_lock(&mut self, f: &mut dyn FnMut(&mut dyn StateStore)) -> Result<(), StateError>;
}

impl<S: StateStore> Locker for S {
    fn with_lock(&mut self, f: &mut dyn FnMut(&mut dyn StateStore)) -> Result<(), StateError> {
        f(self);
        Ok(())
    }
}

/// When the helper wants its next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// At this instant (ms, the same clock as `now_ms`).
    At(u64),
    /// Finished (or gave way, or past its deadline).
    Done,
}

/// The helper's memory between steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    pub lagg: IfName,
    pub generation: u64,
    pub spawned_ms: u64,
    pub deadline_ms: u64,
    /// From the in-flight record: the lagg itself went down and up.
    lagg_bounced: bool,
    step: Step,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Start,
    WaitHandshake {
        port: IfName,
    },
    Decide {
        probed: Vec<KnownNetwork>,
        exchange: ProbeExchange,
        result: ProbeResult,
        ssid: Option<Ssid>,
    },
    AwaitAddress {
        old: KnownNetwork,
        /// The lagg's addresses once the actions ran.
        present: Vec<IfAddr>,
        moved_ms: u64,
        ssid: Option<Ssid>,
        /// `None`: an undecided move, where the old lease may well be kept.
        to: Option<Destination>,
    },
}

/// What one step found out.
enum Outcome {
    Next(Step, u64),
    Finish { verdict: Option<String>, failed: Option<String>, record: Option<Record> },
    GiveWay,
}

/// What a finished check adds to the store.
struct Record {
    seen: Option<KnownNetwork>,
    ssid: Option<Ssid>,
}

impl Helper {
    /// The helper spawned at `now_ms` for `generation`.
    pub fn new(lagg: IfName, generation: u64, now_ms: u64) -> Helper {
        Helper {
            lagg,
            generation,
            spawned_ms: now_ms,
            deadline_ms: now_ms + DEADLINE_MS,
            lagg_bounced: false,
            step: Step::Start,
        }
    }

    /// Runs the step that is due at `now_ms`.
    pub fn step(
        &mut self,
        config: &Config,
        kernel: &mut dyn Kernel,
        log: &mut dyn Log,
        store: &mut dyn Locker,
        now_ms: u64,
    ) -> Next {
        let lagg = self.lagg.clone();
        let Some(cfg) = config.lagg(&lagg).filter(|l| l.network.checks()) else {
            return self.finish(
                log,
                store,
                now_ms,
                None,
                Some("no longer configured".into()),
                None,
            );
        };
        if now_ms >= self.deadline_ms {
            let line = format!("{lagg}: network check {}: past its deadline", self.generation);
            log.log(Level::Warning, &line);
            return self.finish(log, store, now_ms, None, Some("past its deadline".into()), None);
        }
        // Every step starts by making sure it is still the lagg's check,
        // and reads the networks under the lock.
        let mut nets = None;
        let locked = store.with_lock(&mut |s| nets = Some(s.load_networks().networks));
        if let Err(e) = locked {
            log.log(Level::Warning, &format!("{lagg}: network check: {e}"));
            return Next::At(now_ms + ADDRESS_POLL_MS);
        }
        let nets = nets.unwrap_or_default();
        let mine = nets.of(&lagg).map_or(LaggNetworks::default(), Clone::clone);
        if mine.generation != self.generation {
            return Next::Done; // gave way to a newer check
        }
        let outcome = match std::mem::replace(&mut self.step, Step::Start) {
            Step::Start => {
                self.lagg_bounced = mine.in_flight.is_some_and(|f| f.lagg_bounced);
                self.start(kernel, log, &mine)
            }
            Step::WaitHandshake { port } => {
                self.wait_handshake(kernel, log, cfg, &mine, port, now_ms)
            }
            Step::Decide { probed, exchange, result, ssid } => {
                self.decide(kernel, log, store, cfg, probed, &exchange, &result, ssid, now_ms)
            }
            Step::AwaitAddress { old, present, moved_ms, ssid, to } => {
                self.await_address(kernel, log, old, present, moved_ms, ssid, to, now_ms)
            }
        };
        match outcome {
            Outcome::Next(step, at) => {
                self.step = step;
                Next::At(at.min(self.deadline_ms).max(now_ms))
            }
            Outcome::Finish { verdict, failed, record } => {
                self.finish(log, store, now_ms, verdict, failed, record)
            }
            Outcome::GiveWay => Next::Done,
        }
    }

    fn start(&self, kernel: &mut dyn Kernel, log: &mut dyn Log, mine: &LaggNetworks) -> Outcome {
        let lagg = &self.lagg;
        if mine.current().is_none() {
            return finish_with("nothing remembered to probe");
        }
        let status = match kernel.lagg_status(lagg) {
            Ok(s) => s,
            Err(e) => return failed(log, e),
        };
        let Some(port) = status.active().cloned() else {
            return finish_with("no active port");
        };
        Outcome::Next(Step::WaitHandshake { port }, 0)
    }

    fn wait_handshake(
        &self,
        kernel: &mut dyn Kernel,
        log: &mut dyn Log,
        cfg: &LaggConfig,
        mine: &LaggNetworks,
        port: IfName,
        now_ms: u64,
    ) -> Outcome {
        let lagg = &self.lagg;
        // A probe sent before the 4-way handshake is dropped (net80211's
        // `sta_input` drops data until the port is authorized): wait for
        // COMPLETED, as long as the probe still fits before the deadline.
        let is_vap = match kernel.wpa_supplicant_state(&port) {
            Ok(WpaState::Completed | WpaState::NotRunning) => true,
            Ok(WpaState::Other(_) | WpaState::Unknown) => {
                let last =
                    self.deadline_ms.saturating_sub(u64::from(cfg.network.probe_budget_ms) + 1000);
                if now_ms + HANDSHAKE_POLL_MS <= last {
                    return Outcome::Next(Step::WaitHandshake { port }, now_ms + HANDSHAKE_POLL_MS);
                }
                return finish_with("no WPA handshake in time");
            }
            Err(e) if e.errno_value() == Some(Errno::EINVAL) => false, // no vap
            Err(e) => return failed(log, e),
        };
        let ssid = if is_vap {
            match kernel.ssid(&port) {
                Ok(s) => s,
                Err(e) => return failed(log, e),
            }
        } else {
            None
        };
        let addresses = match kernel.addresses(lagg) {
            Ok(a) => a,
            Err(e) => return failed(log, e),
        };
        let lladdr = match kernel.interfaces() {
            Ok(list) => list.into_iter().find(|i| &i.name == lagg).map(|i| i.mac),
            Err(e) => return failed(log, e),
        };
        let Some(mac) = lladdr else { return finish_with("the lagg is gone") };
        let link_local = addresses.iter().find(|a| a.is_link_local()).and_then(IfAddr::ipv6);
        let probed: Vec<KnownNetwork> =
            attach::probed(&cfg.network, mine).into_iter().cloned().collect();
        let refs: Vec<&KnownNetwork> = probed.iter().collect();
        let Some(exchange) = attach::exchange(&cfg.network, mac, &refs, link_local) else {
            return finish_with("nothing to probe");
        };
        self.probe(kernel, log, probed, exchange, ssid, now_ms)
    }

    #[allow(clippy::too_many_arguments)]
    fn probe(
        &self,
        kernel: &mut dyn Kernel,
        log: &mut dyn Log,
        probed: Vec<KnownNetwork>,
        exchange: ProbeExchange,
        ssid: Option<Ssid>,
        now_ms: u64,
    ) -> Outcome {
        let result = match kernel.probe(&self.lagg, &exchange) {
            Ok(r) => r,
            Err(e) => return failed(log, e),
        };
        if let Some(w) = &result.warning {
            log.log(Level::Warning, w);
        }
        let at = now_ms + u64::from(result.elapsed_ms.min(exchange.budget_ms));
        Outcome::Next(Step::Decide { probed, exchange, result, ssid }, at)
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        kernel: &mut dyn Kernel,
        log: &mut dyn Log,
        store: &mut dyn Locker,
        cfg: &LaggConfig,
        probed: Vec<KnownNetwork>,
        exchange: &ProbeExchange,
        result: &ProbeResult,
        ssid: Option<Ssid>,
        now_ms: u64,
    ) -> Outcome {
        let lagg = &self.lagg;
        let refs: Vec<&KnownNetwork> = probed.iter().collect();
        let verdict = attach::verdict(&refs, exchange, result, ssid.as_ref());
        let line = verdict.describe(&refs);
        let Some(old) = probed.first().cloned() else { return finish_with("nothing remembered") };
        let level = if matches!(verdict, Verdict::Undecided { .. }) {
            Level::Warning
        } else {
            Level::Notice
        };
        log.log(level, &format!("{lagg}: {line}"));
        // The writes, under the lock, after one more look at the
        // generation: a newer check may have started while this one probed.
        let mut outcome = None;
        let generation = self.generation;
        let locked = store.with_lock(&mut |s| {
            let current = s.load_networks().networks;
            if current.of(lagg).map_or(0, |l| l.generation) != generation {
                outcome = Some(Outcome::GiveWay);
                return;
            }
            outcome = Some(self.act(kernel, log, cfg, &verdict, &old, &line, ssid.clone(), now_ms));
        });
        if let Err(e) = locked {
            return failed_text(log, format!("{lagg}: network check: {e}"));
        }
        outcome.unwrap_or(Outcome::GiveWay)
    }

    #[allow(clippy::too_many_arguments)]
    fn act(
        &self,
        kernel: &mut dyn Kernel,
        log: &mut dyn Log,
        cfg: &LaggConfig,
        verdict: &Verdict,
        old: &KnownNetwork,
        line: &str,
        ssid: Option<Ssid>,
        now_ms: u64,
    ) -> Outcome {
        let lagg = &self.lagg;
        let (addresses, routes) = match (kernel.addresses(lagg), kernel.default_routes()) {
            (Ok(addresses), Ok(routes)) => (addresses, routes),
            (Err(e), _) | (_, Err(e)) => return failed(log, e),
        };
        let gateway_entry = match verdict {
            Verdict::Same { reply, .. } => match kernel.neighbour(lagg, reply.ip) {
                Ok(n) => n,
                Err(e) => return failed(log, e),
            },
            _ => None,
        };
        let current = Current { addresses, routes, gateway_entry, lagg_bounced: self.lagg_bounced };
        let actions = attach::actions(&cfg.network, lagg, verdict, old, &current);
        let mut failure = None;
        let mut started = false;
        for action in &actions {
            match carry_out(kernel, lagg, action) {
                Ok(did) => started |= did && matches!(action, AttachAction::StartDhcpClient { .. }),
                Err(e) => {
                    // `CHANGE failed: WHY`, the subject named once.
                    let why = KernelError { ifname: None, ..e.clone() };
                    let line = format!("{lagg}: {action} failed: {why}");
                    log.log(Level::Err, &line);
                    failure.get_or_insert(line);
                    // A removal refused leaves the old network half in
                    // place: starting a client on top would only mix them.
                    if !matches!(action, AttachAction::SolicitRouter) {
                        break;
                    }
                }
            }
        }
        // What the lagg holds once the actions ran: the new lease is an
        // address that appears after this, the old one given back included
        // when it was removed.
        let present = if started && failure.is_none() {
            match kernel.addresses(lagg) {
                Ok(a) => a,
                Err(e) => return failed(log, e),
            }
        } else {
            Vec::new()
        };
        let await_address = |to: Option<Destination>, ssid: Option<Ssid>| {
            let step = Step::AwaitAddress {
                present: present.clone(),
                moved_ms: self.spawned_ms,
                ssid,
                to,
                old: old.clone(),
            };
            Outcome::Next(step, now_ms + ADDRESS_POLL_MS)
        };
        match verdict {
            Verdict::Same { .. } if started && failure.is_none() => {
                let line = format!(
                    "{lagg}: holds no address of this network: its client asks for the lease of {}",
                    old.describe()
                );
                log.log(Level::Notice, &line);
                await_address(Some(Destination::Known(old.key.clone())), ssid)
            }
            Verdict::Same { .. } if failure.is_none() => Outcome::Finish {
                verdict: Some(line.to_owned()),
                failed: None,
                record: Some(Record { seen: None, ssid }),
            },
            Verdict::Another { to, .. } if started && failure.is_none() => {
                await_address(Some(to.clone()), ssid)
            }
            Verdict::Undecided { .. } if started && failure.is_none() => await_address(None, None),
            _ => Outcome::Finish { verdict: Some(line.to_owned()), failed: failure, record: None },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn await_address(
        &self,
        kernel: &mut dyn Kernel,
        log: &mut dyn Log,
        old: KnownNetwork,
        present: Vec<IfAddr>,
        moved_ms: u64,
        ssid: Option<Ssid>,
        to: Option<Destination>,
        now_ms: u64,
    ) -> Outcome {
        let lagg = &self.lagg;
        let obs = match observation(kernel, lagg) {
            Ok(o) => o,
            Err(e) => return failed(log, e),
        };
        let new: Vec<&IfAddr> = obs
            .addresses
            .iter()
            .filter(|a| a.is_assigned())
            // Only what appeared after the actions ran: after a proved move
            // the old addresses were removed, so the old one given back
            // counts (two cafés with one subnet); a lease that came before
            // the move does not.
            .filter(|a| !present.iter().any(|p| p.addr == a.addr))
            .collect();
        // An undecided move that DHCP settled as another network: the new
        // lease is of another subnet, but dhclient-script replaced only the
        // first address (the PREINIT placeholder, if it came first) and its
        // `route add default` found the old one in place. What is left of
        // the old network goes now, as after a proved move, and the client
        // starts again on the lease it just got, so it binds at once and
        // adds its route.
        let off_old =
            |a: &&IfAddr| a.ipv4().is_some() && !old.inet.iter().any(|o| o.contains(a.addr));
        if to.is_none() && new.iter().any(off_old) {
            if let Some(client) = self.client(kernel) {
                let mut stale: Vec<AttachAction> = vec![AttachAction::StopDhcpClient];
                stale.extend(
                    obs.addresses
                        .iter()
                        .filter(|a| {
                            a.ipv4().is_some() && old.inet.iter().any(|o| o.contains(a.addr))
                        })
                        .map(|a| AttachAction::DeleteAddress(*a)),
                );
                if let Some(g) = old.gateway {
                    stale.extend(
                        obs.routes
                            .iter()
                            .filter(|r| r.gateway == g.ip)
                            .cloned()
                            .map(AttachAction::DeleteDefaultRoute),
                    );
                }
                // Only when something of the old network is left: the
                // usual BOUND replaced the address and the route itself.
                if stale.len() > 1 {
                    if let Some(g) = old.gateway {
                        stale.push(AttachAction::DeleteNeighbour(g.ip));
                    }
                    if let Some(file) = old.key.lease_file(lagg) {
                        stale.push(AttachAction::StartDhcpClient {
                            client,
                            lease: crate::domain::layer3::Lease { file, fresh: false },
                        });
                    }
                    for action in &stale {
                        if let Err(e) = carry_out(kernel, lagg, action) {
                            let why = KernelError { ifname: None, ..e.clone() };
                            let line = format!("{lagg}: {action} failed: {why}");
                            log.log(Level::Err, &line);
                            return Outcome::Finish {
                                verdict: None,
                                failed: Some(line),
                                record: None,
                            };
                        }
                    }
                    let line = format!(
                        "{lagg}: DHCP gave an address of another network: the old one removed"
                    );
                    log.log(Level::Notice, &line);
                    // The new lease's address stays; once its route is
                    // there again it is the address to report.
                    let present: Vec<IfAddr> = match kernel.addresses(lagg) {
                        Ok(a) => a.into_iter().filter(|a| !off_old(&a)).collect(),
                        Err(e) => return failed(log, e),
                    };
                    let to = Some(Destination::Unknown { gateway: None });
                    let step = Step::AwaitAddress { old, present, moved_ms, ssid, to };
                    return Outcome::Next(step, now_ms + ADDRESS_POLL_MS);
                }
            }
        }
        if new.is_empty() || obs.routes.is_empty() {
            if now_ms + ADDRESS_POLL_MS >= self.deadline_ms && to.is_none() {
                // Undecided: the old lease was asked for again. Still there
                // is the likely answer (an ACK changes nothing visible).
                let kept = obs.addresses.iter().any(|a| old.inet.iter().any(|o| o.addr == a.addr));
                let why = (!kept).then(|| "no address from DHCP yet".to_owned());
                if kept {
                    log.log(Level::Info, &format!("{lagg}: the old address is still there"));
                } else {
                    let line = format!("{lagg}: no address within {} s", DEADLINE_MS / 1000);
                    log.log(Level::Warning, &line);
                }
                return Outcome::Finish { verdict: None, failed: why, record: None };
            }
            if now_ms + ADDRESS_POLL_MS >= self.deadline_ms {
                let line = format!(
                    "{lagg}: no address on the new network within {} s of the move",
                    DEADLINE_MS / 1000
                );
                log.log(Level::Warning, &line);
                return Outcome::Finish {
                    verdict: None,
                    failed: Some("no address from DHCP yet".into()),
                    record: None,
                };
            }
            let step = Step::AwaitAddress { old, present, moved_ms, ssid, to };
            return Outcome::Next(step, now_ms + ADDRESS_POLL_MS);
        }
        let took = now_ms.saturating_sub(moved_ms);
        let addrs: Vec<String> = new.iter().map(|a| a.to_string()).collect();
        let line = format!(
            "{lagg}: {} on the new network, {}.{} s after the move",
            addrs.join(", "),
            took / 1000,
            took % 1000 / 100
        );
        log.log(Level::Notice, &line);
        Outcome::Finish {
            verdict: None,
            failed: None,
            record: Some(Record { seen: obs.network(now_ms / 1000), ssid }),
        }
    }

    /// The DHCP client running for the lagg (which one the backend found).
    fn client(&self, kernel: &mut dyn Kernel) -> Option<crate::domain::layer3::DhcpClient> {
        kernel.dhcp_client(&self.lagg).ok().flatten().map(|p| p.client)
    }

    /// Ends the check: clears the in-flight record if it is still this
    /// check's, keeps the verdict and what it learnt.
    fn finish(
        &self,
        log: &mut dyn Log,
        store: &mut dyn Locker,
        now_ms: u64,
        verdict: Option<String>,
        failed: Option<String>,
        record: Option<Record>,
    ) -> Next {
        let lagg = &self.lagg;
        let generation = self.generation;
        let mut record = record;
        let saved = store.with_lock(&mut |s| {
            let mut nets = s.load_networks().networks;
            let l = nets.of_mut(lagg);
            if l.generation != generation {
                return;
            }
            l.in_flight = None;
            if let Some(r) = record.take() {
                if let Some(seen) = r.seen {
                    l.record(seen);
                }
                if let Some(ssid) = &r.ssid {
                    l.add_ssid(ssid);
                    l.ssid = Some(ssid.clone());
                }
            }
            match (&verdict, &mut l.last_check) {
                (Some(v), last) => {
                    *last = Some(LastCheck {
                        time: now_ms / 1000,
                        verdict: v.clone(),
                        failed: failed.clone(),
                    })
                }
                (None, Some(last)) => {
                    last.failed = failed.clone();
                }
                (None, None) => {}
            }
            if let Err(e) = s.save_networks(&nets) {
                log.log(Level::Warning, &format!("{lagg}: known networks not saved: {e}"));
            }
        });
        if let Err(e) = saved {
            log.log(Level::Warning, &format!("{lagg}: network check: {e}"));
        }
        Next::Done
    }
}

fn finish_with(why: &str) -> Outcome {
    Outcome::Finish { verdict: Some(format!("no check: {why}")), failed: None, record: None }
}

fn failed(log: &mut dyn Log, e: KernelError) -> Outcome {
    failed_text(log, format!("{e}; network check abandoned"))
}

fn failed_text(log: &mut dyn Log, line: String) -> Outcome {
    log.log(Level::Warning, &line);
    Outcome::Finish { verdict: None, failed: Some(line), record: None }
}

/// One action; `Ok(true)` when it did something.
fn carry_out(
    kernel: &mut dyn Kernel,
    lagg: &IfName,
    action: &AttachAction,
) -> Result<bool, KernelError> {
    let gone = |e: &KernelError, ok: &[Errno]| e.errno_value().is_some_and(|v| ok.contains(&v));
    match action {
        AttachAction::StopDhcpClient => match kernel.dhcp_client(lagg)? {
            None => Ok(false),
            Some(p) => match kernel.stop_dhcp_client(lagg, p) {
                Err(e) if gone(&e, &[Errno::ESRCH]) => Ok(false),
                r => r.map(|()| true),
            },
        },
        AttachAction::DeleteAddress(a) => match kernel.delete_address(lagg, *a) {
            Err(e) if gone(&e, &[Errno::EADDRNOTAVAIL]) => Ok(false),
            r => r.map(|()| true),
        },
        AttachAction::DeleteDefaultRoute(r) => match kernel.delete_default_route(r) {
            Err(e) if gone(&e, &[Errno::ESRCH]) => Ok(false),
            r => r.map(|()| true),
        },
        AttachAction::DeleteNeighbour(ip) => match kernel.delete_neighbour(lagg, *ip) {
            Err(e) if gone(&e, &[Errno::ESRCH, Errno::ENOENT]) => Ok(false),
            r => r.map(|()| true),
        },
        AttachAction::StartDhcpClient { client, lease } => {
            kernel.start_dhcp_client(lagg, *client, lease).map(|()| true)
        }
        AttachAction::SolicitRouter => kernel.solicit_router(lagg).map(|()| true),
    }
}
