//! The reconcile planner: from the configuration, one observed [`Snapshot`]
//! and the remembered identity MACs, the ordered [`Action`]s that move the
//! kernel one round closer to the configured lagg failover topology.
//!
//! Pure and total: no OS calls, no clock, no errors. A plan only ever uses
//! what was observed, never a prediction of what the kernel will do after
//! the first action; `run` applies a round, observes again and plans again
//! until a round plans nothing. That keeps every decision grounded in real
//! state (for example a port's MAC after `SIOCSLAGGDELPORT` restored it from
//! its `lp_lladdr`, which userland cannot read beforehand).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::domain::config::{Config, Failback, LaggConfig};
use crate::domain::identity::{self, Identities};
use crate::domain::model::{IfKind, IfName, Interface, LaggProto, MacAddr, Snapshot, WpaAddress};
use crate::domain::vap::{self, RecreateWhy};

/// One change to the system, in the words of the command an administrator
/// would type for it (its `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `modfind`/`kldload(2)` of if_lagg (ifconfig's `ifmaybeload`).
    LoadLaggModule,
    /// `SIOCIFCREATE2`.
    CreateLagg { lagg: IfName },
    /// `SIOCSLAGG`.
    SetProto { lagg: IfName, proto: LaggProto },
    /// `SIOCSIFFLAGS` with `IFF_UP`.
    Up { ifname: IfName },
    /// `SIOCSIFFLAGS` without `IFF_UP`.
    Down { ifname: IfName },
    /// `SIOCSIFLLADDR`; `was` is the address observed before.
    SetLladdr { ifname: IfName, mac: MacAddr, was: MacAddr },
    /// `/etc/rc.d/wpa_supplicant restart IF`.
    RestartWpaSupplicant { wlan: IfName },
    /// The vap destroyed and created again on `parent` with `wlanaddr
    /// mac`, then configured by rc (`Kernel::recreate_vap`): the way to an
    /// address every driver takes (`domain::vap`). `was` is its creation
    /// address before.
    RecreateVap { wlan: IfName, parent: IfName, mac: MacAddr, was: MacAddr, why: RecreateWhy },
    /// `SIOCSLAGGPORT`.
    AddPort { lagg: IfName, port: IfName },
    /// `SIOCSLAGGDELPORT`.
    /// `after`: the port a primary swap hands over to, when it joins in the
    /// same round; if it failed to join, the primary does not leave.
    RemovePort { lagg: IfName, port: IfName, after: Option<IfName> },
    /// sysctl `net.link.lagg.failover_rx_all`.
    SetFailoverRxAll { value: bool },
}

impl Action {
    /// Actions that share a group depend on each other: once one fails, the
    /// rest of its group is skipped, while other groups go on (a failing
    /// port must not take the lagg down, as `setlaggport` in
    /// `sbin/ifconfig/iflagg.c` argues for `ifconfig`).
    pub fn group(&self) -> Group {
        match self {
            Action::CreateLagg { lagg } | Action::SetProto { lagg, .. } => {
                Group::Lagg(lagg.clone())
            }
            Action::Up { ifname } | Action::Down { ifname } | Action::SetLladdr { ifname, .. } => {
                Group::Interface(ifname.clone())
            }
            Action::RestartWpaSupplicant { wlan } | Action::RecreateVap { wlan, .. } => {
                Group::Interface(wlan.clone())
            }
            Action::AddPort { port, .. } | Action::RemovePort { port, .. } => {
                Group::Interface(port.clone())
            }
            Action::SetFailoverRxAll { .. } | Action::LoadLaggModule => Group::Global,
        }
    }

    /// The group this action also needs, beyond its own: a port joins or
    /// leaves a lagg that must exist, the lagg interface itself is not
    /// brought up or readdressed if creating it failed, and no lagg is
    /// created once loading if_lagg failed.
    ///
    /// A primary swap's leaving ports also need the port they hand over to,
    /// when it joins in the same round: without it, the lagg would be left
    /// to whichever port is the head of its list.
    pub fn needs(&self) -> Vec<Group> {
        match self {
            Action::AddPort { lagg, .. } => vec![Group::Lagg(lagg.clone())],
            Action::RemovePort { lagg, after, .. } => {
                let mut needs = vec![Group::Lagg(lagg.clone())];
                needs.extend(after.iter().map(|p| Group::Interface(p.clone())));
                needs
            }
            Action::Up { ifname } | Action::Down { ifname } | Action::SetLladdr { ifname, .. } => {
                vec![Group::Lagg(ifname.clone())]
            }
            // Without if_lagg there is no lagg cloner: once loading it
            // failed (the only global action planned before this one),
            // SIOCIFCREATE2 could only fail with EINVAL.
            Action::CreateLagg { .. } => vec![Group::Global],
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::LoadLaggModule => f.write_str("kldload if_lagg"),
            Action::CreateLagg { lagg } => write!(f, "ifconfig {lagg} create"),
            Action::SetProto { lagg, proto } => write!(f, "ifconfig {lagg} laggproto {proto}"),
            Action::Up { ifname } => write!(f, "ifconfig {ifname} up"),
            Action::Down { ifname } => write!(f, "ifconfig {ifname} down"),
            Action::SetLladdr { ifname, mac, .. } => write!(f, "ifconfig {ifname} ether {mac}"),
            Action::RestartWpaSupplicant { wlan } => {
                write!(f, "/etc/rc.d/wpa_supplicant restart {wlan}")
            }
            Action::RecreateVap { wlan, parent, mac, .. } => write!(
                f,
                "ifconfig {wlan} destroy; ifconfig {wlan} create wlandev {parent} wlanaddr {mac}; \
                 /etc/rc.d/netif quietstart {wlan}"
            ),
            Action::AddPort { lagg, port } => write!(f, "ifconfig {lagg} laggport {port}"),
            Action::RemovePort { lagg, port, .. } => write!(f, "ifconfig {lagg} -laggport {port}"),
            Action::SetFailoverRxAll { value } => {
                write!(f, "sysctl net.link.lagg.failover_rx_all={}", u8::from(*value))
            }
        }
    }
}

/// What a failed action takes down with it (see [`Action::group`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// The lagg itself: its ports cannot be handled without it.
    Lagg(IfName),
    Interface(IfName),
    Global,
}

/// Something the planner chose not to do this round, and why. Shown by
/// `-n`, `-v` and `check`; not logged to syslog, since it repeats on every
/// event until the situation changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub subject: IfName,
    pub text: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.text)
    }
}

/// The ordered actions of one round, and the notes on what was left alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub notes: Vec<Note>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    fn note(&mut self, subject: &IfName, text: impl Into<String>) {
        self.notes.push(Note { subject: subject.clone(), text: text.into() });
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for action in &self.actions {
            writeln!(f, "{action}")?;
        }
        for note in &self.notes {
            writeln!(f, "# {note}")?;
        }
        Ok(())
    }
}

/// Which laggs a run looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Only this lagg: an event about one of its ports.
    Lagg(IfName),
}

/// Each lagg's identity as earlier runs remembered it (in
/// `/var/db/lagghook/identity`), by lagg name.
pub type RememberedMacs = Identities;

/// The MAC every port of `lagg` must carry, if it can be known: a literal
/// `mac`, else the identity remembered for the lagg, else the hardware
/// address (`SIOCGHWADDR`) of the port `mac` names, else the lagg's own MAC
/// while it holds configured ports (provisional). [`identity::resolve`]
/// has the rules, and the reason for the choice.
pub fn identity_mac(
    lagg: &LaggConfig,
    snapshot: &Snapshot,
    remembered: &RememberedMacs,
) -> Option<MacAddr> {
    identity::resolve(lagg, snapshot, remembered.get(&lagg.name)).map(|r| r.identity.mac)
}

/// What lagghook did about a member vap whose wpa_supplicant used another
/// address than the vap's ([`plan_wpa`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WpaRefresh {
    /// The vap's address when it was refreshed: a later address change is
    /// a new case.
    pub mac: MacAddr,
    /// wpa_supplicant was restarted too, because the refresh did not take.
    pub restarted: bool,
    /// Done in this run: wpa_supplicant reads the routing socket on its
    /// own time, so it may not have heard the vap come back up yet.
    pub this_run: bool,
    /// Not a refresh of the same address but a new one given while down
    /// (a join's re-addressing, or a re-creation): wpa_supplicant read it
    /// then, and `domain::vap` waits for the vap to associate with it.
    pub readdressed: bool,
}

/// By vap.
pub type WpaRefreshes = BTreeMap<IfName, WpaRefresh>;

/// Plans one round for every lagg in `scope`, knowing nothing of earlier
/// wpa_supplicant refreshes ([`plan_with`]): what a run would do now.
pub fn plan(
    config: &Config,
    snapshot: &Snapshot,
    remembered: &RememberedMacs,
    scope: &Scope,
) -> Plan {
    plan_with(config, snapshot, remembered, &WpaRefreshes::new(), &BTreeSet::new(), scope)
}

/// Plans one round for every lagg in `scope`; `refreshed` is what earlier
/// runs, and earlier rounds of this one, did about stale wpa_supplicants
/// and vap addresses; `waited` are the vaps runs have seen up without a
/// link for `vap::ASSOCIATION_GRACE_SECS`, in a lagg that has just lost
/// the port carrying its traffic, untouched by this run (`domain::vap`).
pub fn plan_with(
    config: &Config,
    snapshot: &Snapshot,
    remembered: &RememberedMacs,
    refreshed: &WpaRefreshes,
    waited: &BTreeSet<IfName>,
    scope: &Scope,
) -> Plan {
    let mut plan = Plan::default();
    let mut touches_a_lagg = false;
    for lagg in &config.laggs {
        if let Scope::Lagg(only) = scope {
            if &lagg.name != only {
                continue;
            }
        }
        touches_a_lagg = true;
        let identity = identity_mac(lagg, snapshot, remembered);
        plan_lagg(lagg, snapshot, identity, refreshed, waited, &mut plan);
    }
    // The sysctl exists exactly when if_lagg is loaded (compiled in or as
    // a module). Without it there is no lagg cloner either, so SIOCIFCREATE2
    // would fail with EINVAL (`if_clone.c`): the module is loaded first, as
    // ifconfig's `ifmaybeload` does before creating a lagg.
    if touches_a_lagg && snapshot.failover_rx_all.is_none() {
        plan.actions.insert(0, Action::LoadLaggModule);
    }
    // The sysctl is global, so it comes after any lagg creation.
    if touches_a_lagg && snapshot.failover_rx_all != Some(config.failover_rx_all()) {
        plan.actions.push(Action::SetFailoverRxAll { value: config.failover_rx_all() });
    }
    plan
}

fn plan_lagg(
    cfg: &LaggConfig,
    snap: &Snapshot,
    identity: Option<MacAddr>,
    refreshed: &WpaRefreshes,
    waited: &BTreeSet<IfName>,
    plan: &mut Plan,
) {
    let lagg = &cfg.name;
    let status = match (snap.interface(lagg), snap.laggs.get(lagg)) {
        (None, _) => {
            plan.actions.push(Action::CreateLagg { lagg: lagg.clone() });
            plan.actions.push(Action::Up { ifname: lagg.clone() });
            // A new lagg has no ports; its ports are added next round,
            // from a fresh observation.
            return;
        }
        (Some(iface), Some(status)) if iface.kind == IfKind::Lagg => {
            if !iface.up {
                plan.actions.push(Action::Up { ifname: lagg.clone() });
            }
            status
        }
        (Some(iface), _) => {
            plan.note(
                lagg,
                format!("exists but is {} interface, not a lagg; left alone", article(iface.kind)),
            );
            return;
        }
    };

    if status.proto != LaggProto::Failover {
        plan.actions.push(Action::SetProto { lagg: lagg.clone(), proto: LaggProto::Failover });
    }

    // A vap whose radio cannot take the address another way is re-created
    // with it first; the next round observes the new vap (`domain::vap`).
    if vap::plan_recreate(cfg, snap, status, identity, refreshed, waited, plan) {
        return;
    }

    // Ports brought up at the end of the round, after every membership
    // change: a DOWN interface is not bounced by `if_setlladdr`, so a port
    // that joins, or sees the primary leave, while down costs nothing; it
    // negotiates or associates once, when it comes up.
    let mut ups: Vec<IfName> = Vec::new();

    // The lagg's MAC drifts when a port that joined with another address
    // (rc adding a wlan with its factory MAC) becomes primary:
    // `lagg_port_destroy` gives the lagg the new primary's lp_lladdr.
    // SIOCSIFLLADDR on the lagg puts it back, and `lagg_init` pushes it to
    // every port that differs. A member vap is taken down first: pushed
    // while UP, its new address would not reach `iv_myaddr` (net80211
    // syncs it only while the vap is down, `wlan_iflladdr`, and lagg's
    // hooked ioctl defeats the resync in `ieee80211_ioctl`), and the vap
    // would associate with one address and send with another. Cost: one
    // association for each vap, a renegotiation for each wired port whose
    // address differs (the push bounces it).
    let mut lagg_readdressed = false;
    if let (Some(mac), Some(iface)) = (identity, snap.interface(lagg)) {
        if !status.ports.is_empty() && iface.mac != mac {
            lagg_readdressed = true;
            for port in &status.ports {
                let vap = snap.interface(&port.name).filter(|i| i.kind == IfKind::Wlan && i.up);
                if let Some(vap) = vap.filter(|v| cfg.ports.contains(&v.name)) {
                    plan.actions.push(Action::Down { ifname: vap.name.clone() });
                    ups.push(vap.name.clone());
                }
            }
            plan.actions.push(Action::SetLladdr { ifname: lagg.clone(), mac, was: iface.mac });
        }
    }

    // Members that are down come up (lagg never sets IFF_UP on its ports,
    // and LAGG_PORTACTIVE needs it, `sys/net/if_lagg.h`), at the end.
    for port in &status.ports {
        if !cfg.ports.contains(&port.name) {
            continue;
        }
        if snap.interface(&port.name).is_some_and(|i| !i.up) && !ups.contains(&port.name) {
            ups.push(port.name.clone());
        }
    }

    plan_wpa(cfg, snap, status, refreshed, plan, &mut ups);

    // Configured ports that exist but are not members, in preference order,
    // so that into an empty lagg the most preferred one goes first and
    // becomes the primary (`lagg_port_create`).
    let mut joining: Vec<&Interface> = Vec::new();
    for port in &cfg.ports {
        if status.has_port(port) {
            continue;
        }
        let Some(iface) = snap.interface(port) else { continue };
        if let Some(other) = snap.lagg_of(port) {
            plan.note(port, format!("is a port of {other}, not {lagg}; left alone"));
            continue;
        }
        // `lagg_port_create` takes IFT_ETHER (NICs, vaps) and IFT_L2VLAN.
        if !matches!(iface.kind, IfKind::Ether | IfKind::Vlan | IfKind::Wlan) {
            plan.note(
                port,
                format!("is {} interface; lagg takes only Ethernet ports", article(iface.kind)),
            );
            continue;
        }
        joining.push(iface);
    }

    let repair = plan_order_repair(cfg, snap, status, &joining, plan);
    let mut members = status.ports.len();
    for iface in joining {
        if repair.as_ref().is_some_and(|r| iface.index < r.wanted_index && iface.name != r.wanted) {
            // It would sort in front of the wanted primary and take its
            // place when the current primary leaves: it joins next round,
            // behind the new primary.
            plan.note(&iface.name, format!("joins {lagg} after its primary port changes"));
            continue;
        }
        join(lagg, iface, identity, members > 0, plan, &mut ups);
        members += 1;
    }
    // The lagg's own re-addressing (`lagg_init`) and a primary leaving
    // (`lagg_port_destroy`) both re-set every member's address: nothing
    // to add then.
    if !lagg_readdressed && repair.is_none() {
        plan_member_macs(cfg, snap, status, plan);
    }
    if let Some(repair) = repair {
        for port in repair.leaving {
            let after = repair.joins_now.then(|| repair.wanted.clone());
            plan.actions.push(Action::RemovePort { lagg: lagg.clone(), port, after });
        }
    }
    for ifname in ups {
        plan.actions.push(Action::Up { ifname });
    }
}

/// A port joins `lagg`, carrying the identity MAC first, so the address
/// lagg saves for it (`lp_lladdr`) is the identity too and the lagg's MAC
/// cannot change whichever port becomes primary later.
///
/// A port that would be re-initialised on the way (`lagg_port_create`
/// re-sets the address of every port joining a non-empty lagg, and
/// SIOCSIFLLADDR does the same, both through `if_setlladdr`, which bounces
/// an UP interface) is taken down first and brought up at the end of the
/// round: one negotiation or association, never two. A vap is never
/// re-addressed while up: its new address reaches `iv_myaddr` only while
/// it is down (`wlan_iflladdr`), and wpa_supplicant reads it again when a
/// userland up tells it the interface is back (hostap `driver_bsd.c`
/// RTM_IFINFO → `EVENT_INTERFACE_ENABLED` → `wpa_supplicant_update_mac_addr`
/// in `events.c`). An UP port with the right address joining an empty lagg
/// is left up: nothing bounces it, and it may already have its link.
fn join(
    lagg: &IfName,
    iface: &Interface,
    identity: Option<MacAddr>,
    lagg_has_ports: bool,
    plan: &mut Plan,
    ups: &mut Vec<IfName>,
) {
    let name = &iface.name;
    let readdress = identity.filter(|mac| *mac != iface.mac);
    let bounced = lagg_has_ports || readdress.is_some();
    if iface.up && bounced {
        plan.actions.push(Action::Down { ifname: name.clone() });
    }
    if let Some(mac) = readdress {
        plan.actions.push(Action::SetLladdr { ifname: name.clone(), mac, was: iface.mac });
    }
    plan.actions.push(Action::AddPort { lagg: lagg.clone(), port: name.clone() });
    if (!iface.up || bounced) && !ups.contains(name) {
        ups.push(name.clone());
    }
}

/// Member vaps whose station cannot speak with the vap's address: traffic
/// cannot flow through them although the AP may be in reach, and nothing
/// in the kernel says so. wpa_supplicant runs the 4-way handshake with the
/// address it read last (at start, or when it heard the vap come up again:
/// hostap `driver_bsd.c` turns RTM_IFINFO into `EVENT_INTERFACE_ENABLED`,
/// and `events.c` calls `wpa_supplicant_update_mac_addr`), and net80211
/// sends with `iv_myaddr`, which follows the vap's address only while the
/// vap is down (`wlan_iflladdr`); a vap re-addressed while up, as lagg does
/// to its ports, can end with either one stale.
///
/// The refresh: down, the address set again (so `iv_myaddr` takes it),
/// then up at the end of the round (so wpa_supplicant reads it). Cost: one
/// association, which it did not have anyway. It is made when
/// wpa_supplicant says it uses another address, or, when it does not say
/// (no `ctrl_interface`: `WpaAddress::Unknown`), when the vap has no link,
/// at most once per address. If wpa_supplicant still uses the old address
/// in a later run, `/etc/rc.d/wpa_supplicant restart` follows, once; after
/// that, a note. `iv_myaddr` itself cannot be read from userland.
fn plan_wpa(
    cfg: &LaggConfig,
    snap: &Snapshot,
    status: &crate::domain::model::LaggStatus,
    refreshed: &WpaRefreshes,
    plan: &mut Plan,
    ups: &mut Vec<IfName>,
) {
    for port in &status.ports {
        let Some(vap) = snap.interface(&port.name) else { continue };
        if vap.kind != IfKind::Wlan || !vap.up || !cfg.ports.contains(&vap.name) {
            continue;
        }
        if ups.contains(&vap.name) {
            // Already cycled this round (a lagg MAC repair): that is a
            // refresh too.
            continue;
        }
        let done = refreshed.get(&vap.name).filter(|r| r.mac == vap.mac);
        // A silent wpa_supplicant may be stale when the vap has no link,
        // and when its address is not its creation one (rc's `laggport`,
        // lagg's own re-addressing): a station whose handshake cannot
        // finish still associates and reports LINK_UP (`sim::station`),
        // so waiting for its link to go again costs a handshake timeout.
        let readdressed = vap.hwaddr != Some(vap.mac);
        let uses = match snap.wpa.get(&vap.name) {
            Some(WpaAddress::Known(w)) if *w != vap.mac => Some(*w),
            Some(WpaAddress::Unknown) if done.is_none() && (!vap.link.is_up() || readdressed) => {
                None
            }
            _ => continue,
        };
        let name = &vap.name;
        match done {
            Some(r) if r.this_run => {
                plan.note(name, "waiting for wpa_supplicant to read the vap's address again");
            }
            None => {
                let why = match uses {
                    Some(w) => format!("wpa_supplicant uses {w}, not the vap's {}", vap.mac),
                    None if vap.link.is_up() => format!(
                        "wpa_supplicant does not say its address, and the vap's {} is not the \
                         one it was created with",
                        vap.mac
                    ),
                    None => {
                        "wpa_supplicant does not say its address and the vap has no link".to_owned()
                    }
                };
                plan.note(name, format!("{why}: refreshing it (down, address, up)"));
                plan.actions.push(Action::Down { ifname: name.clone() });
                plan.actions.push(Action::SetLladdr {
                    ifname: name.clone(),
                    mac: vap.mac,
                    was: vap.mac,
                });
                ups.push(name.clone());
            }
            Some(r) if !r.restarted && uses.is_some() => {
                plan.actions.push(Action::RestartWpaSupplicant { wlan: name.clone() });
            }
            Some(_) => plan.note(
                name,
                format!(
                    "wpa_supplicant still uses {} after a refresh and a restart; left alone",
                    uses.map_or_else(|| "an unknown address".to_owned(), |w| w.to_string())
                ),
            ),
        }
    }
}

/// Wired members whose address is not the lagg's, changed by hand or by
/// another tool (`ifconfig em0 ether …`): such a port receives nothing
/// sent to the lagg, because `if_setlladdr` reprogrammed its receive
/// filter to its own address (`sys/net/if.c`), and lagg does not put its
/// address back while it runs (`lagg_init` does so only when the lagg
/// starts running, `sys/net/if_lagg.c`). While it is the active port the
/// lagg is deaf, though SIOCGLAGG calls the port ACTIVE.
///
/// The repair is the lagg's address set on the port, one SIOCSIFLLADDR:
/// `if_setlladdr` re-initialises an UP port, which costs one
/// autonegotiation, during which lagg fails over to the next port; the
/// port carried nothing before. A port that is down is re-addressed
/// without a bounce and comes up at the end of the round. A vap member is
/// the vap repairs' business (its address reaches `iv_myaddr` only while
/// it is down); a vlan's frames are filtered by its parent's address; a
/// member the configuration does not name is left alone.
fn plan_member_macs(
    cfg: &LaggConfig,
    snap: &Snapshot,
    status: &crate::domain::model::LaggStatus,
    plan: &mut Plan,
) {
    let Some(lagg) = snap.interface(&cfg.name) else { return };
    for port in &status.ports {
        let Some(p) = snap.interface(&port.name) else { continue };
        if p.kind != IfKind::Ether || p.mac == lagg.mac {
            continue;
        }
        if !cfg.ports.contains(&p.name) {
            plan.note(
                &p.name,
                format!(
                    "has MAC {}, not {}'s {}; not managed, left alone",
                    p.mac, cfg.name, lagg.mac
                ),
            );
            continue;
        }
        plan.actions.push(Action::SetLladdr { ifname: p.name.clone(), mac: lagg.mac, was: p.mac });
    }
}

/// A primary swap planned for this round.
struct OrderRepair {
    /// The port that becomes primary.
    wanted: IfName,
    /// Its `if_index`: the lagg keeps its ports sorted by it.
    wanted_index: u32,
    /// The members that leave, every one in front of `wanted` first and
    /// the current primary last; the next round re-adds them behind it.
    leaving: Vec<IfName>,
    /// The wanted port joins in this round.
    joins_now: bool,
}

/// Rule 4: the most preferred port that is a member, or joins this round,
/// should be the primary. lagg offers no way to choose the primary: it is
/// the first port added to an empty lagg, and when the primary leaves, the
/// head of the list (lowest `if_index`) takes over (`lagg_port_create`
/// keeps `sc_ports` sorted by `if_index`, `lagg_port_destroy` picks
/// `CK_SLIST_FIRST`). So every member in front of the wanted port, and the
/// current primary, leave together, and no port that would sort in front
/// of it joins in the same round (the caller defers those): the wanted port
/// is then the head when the primary leaves, and becomes primary once.
/// Taking the ports away one per round instead let a port joining in front
/// take the primary, and with three ports the primary alternated between
/// the two unwanted ones for ever (issue 6).
///
/// When the primary leaves, `lagg_port_destroy` re-sets the MAC of every
/// remaining port, which bounces each one that is UP (`if_setlladdr`), the
/// wanted port included. So the swap is made when it is free, or, under
/// `failback = "immediate"`, when it buys something:
/// - free: no port carries traffic, and the wanted port has no link (it
///   is joining this round, a member not yet up, or one still negotiating,
///   as after the kernel re-addressed it when the old primary left): the
///   swap re-initialises only ports that carry nothing. Outage: none
///   beyond the one under way.
/// - immediate: the current primary carries traffic and the wanted port is
///   an active member (up, link up). The wanted port is bounced and the old
///   primary re-joins (down, join, up) in the next round of the same run,
///   so traffic resumes on whichever comes up first. Outage: one
///   association or one autonegotiation, the shorter, never both.
///
/// While the wanted port carries traffic and the primary does not, a swap
/// would only bounce the port carrying it: it waits for the primary's link
/// to come back (whose LINK_UP brings lagghook back). A port the
/// configuration does not name is never removed (lagghook(8)), so a
/// stranger as primary or in front of the wanted port stops the swap.
fn plan_order_repair(
    cfg: &LaggConfig,
    snap: &Snapshot,
    status: &crate::domain::model::LaggStatus,
    joining: &[&Interface],
    plan: &mut Plan,
) -> Option<OrderRepair> {
    let lagg = &cfg.name;
    let primary = status.primary()?;
    let wanted =
        cfg.ports.iter().find(|p| status.has_port(p) || joining.iter().any(|j| &j.name == *p))?;
    if primary == wanted {
        return None;
    }
    if !cfg.ports.contains(primary) {
        plan.note(
            wanted,
            format!("cannot become primary of {lagg}: its primary {primary} is not managed"),
        );
        return None;
    }
    let wanted_iface = snap.interface(wanted)?;
    let index_of = |name: &IfName| snap.interface(name).map_or(0, |i| i.index);
    let in_front: Vec<&IfName> = status
        .ports
        .iter()
        .map(|p| &p.name)
        .filter(|name| *name != wanted && *name != primary)
        .filter(|name| index_of(name) < wanted_iface.index)
        .collect();
    if let Some(stranger) = in_front.iter().find(|name| !cfg.ports.contains(name)) {
        plan.note(
            wanted,
            format!(
                "cannot become primary of {lagg}: unmanaged port {stranger} is listed before it"
            ),
        );
        return None;
    }
    let active = status.active();
    let joins_now = !status.has_port(wanted);
    // A joining port comes up only at the end of the round (see `join`).
    // A member without link carries nothing either: re-initialised, it
    // starts its negotiation again (typically the one the kernel's own
    // re-addressing began this very moment, when the primary left).
    let wanted_idle = joins_now || !wanted_iface.up || !wanted_iface.link.is_up();
    let free = active.is_none() && wanted_idle;
    let worth_it = cfg.failback == Failback::Immediate
        && active == Some(primary)
        && status.has_port(wanted)
        && wanted_iface.up
        && wanted_iface.link.is_up();
    if !(free || worth_it) {
        let why = match (cfg.failback, active) {
            (Failback::Deferred, Some(_)) => "failback is deferred while traffic flows".to_owned(),
            (_, Some(a)) if a == wanted => {
                format!("it carries the traffic; swapping now would interrupt it until {primary} is back")
            }
            _ => "waiting for its LINK_UP".to_owned(),
        };
        plan.note(wanted, format!("preferred over {primary} in {lagg}; {why}"));
        return None;
    }
    // The non-primary ones go first, so the primary changes only once,
    // straight to the wanted port, and the lagg MAC with it at most once.
    let mut leaving: Vec<IfName> = in_front.into_iter().cloned().collect();
    leaving.push(primary.clone());
    Some(OrderRepair {
        wanted: wanted.clone(),
        wanted_index: wanted_iface.index,
        leaving,
        joins_now,
    })
}

fn article(kind: IfKind) -> &'static str {
    match kind {
        IfKind::Ether => "an Ethernet",
        IfKind::Wlan => "a wlan",
        IfKind::Vlan => "a vlan",
        IfKind::Lagg => "a lagg",
        IfKind::Other => "a non-Ethernet",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::{MacSource, WlanConfig};
    use crate::domain::identity::Identity;
    use crate::domain::model::{LaggPort, LaggStatus, LinkState, PortFlags, WpaAddress};
    use std::path::PathBuf;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }
    fn m(s: &str) -> MacAddr {
        s.parse().unwrap()
    }
    const EM: &str = "00:11:22:33:44:55";
    const FACTORY: &str = "00:24:d7:aa:bb:cc";

    fn config(ports: &[&str]) -> Config {
        Config {
            path: PathBuf::from("test.toml"),
            laggs: vec![LaggConfig {
                failback: Default::default(),
                network: Default::default(),
                name: n("lagg0"),
                ports: ports.iter().map(|p| n(p)).collect(),
                mac: MacSource::Port(n(ports[0])),
                failover_rx_all: true,
                wlans: vec![(n("wlan0"), WlanConfig::default())],
            }],
        }
    }

    fn iface(name: &str, index: u32, kind: IfKind, mac: &str, link: bool) -> Interface {
        Interface {
            name: n(name),
            index,
            kind,
            mac: m(mac),
            hwaddr: Some(m(mac)),
            up: true,
            link: if link { LinkState::Up } else { LinkState::Down },
            mtu: 1500,
            parent: None,
            caps: None,
        }
    }

    /// em0 (1), wlan0 (2), lagg0 (3) with the given members `(name, master, active)`.
    fn laptop(members: &[(&str, bool, bool)]) -> Snapshot {
        let mut s = Snapshot { failover_rx_all: Some(true), ..Snapshot::default() };
        for i in [
            iface("em0", 1, IfKind::Ether, EM, true),
            iface("wlan0", 2, IfKind::Wlan, EM, true),
            iface("lagg0", 3, IfKind::Lagg, EM, true),
        ] {
            s.interfaces.insert(i.name.clone(), i);
        }
        let ports = members
            .iter()
            .map(|(p, master, active)| LaggPort {
                name: n(p),
                flags: PortFlags { master: *master, active: *active },
            })
            .collect();
        s.laggs.insert(n("lagg0"), LaggStatus { proto: LaggProto::Failover, ports });
        s
    }

    fn strings(plan: &Plan) -> Vec<String> {
        plan.actions.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn converged_laptop_plans_nothing() {
        let s = laptop(&[("em0", true, true), ("wlan0", false, false)]);
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn recreated_wlan_with_factory_mac_is_recloned_then_added() {
        let mut s = laptop(&[("em0", true, true)]);
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            w.mac = m(FACTORY);
            w.hwaddr = Some(m(FACTORY));
        }
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(
            strings(&p),
            // Re-addressed and joined while down, so neither bounces it;
            // the userland up makes wpa_supplicant read the new address.
            [
                "ifconfig wlan0 down",
                "ifconfig wlan0 ether 00:11:22:33:44:55",
                "ifconfig lagg0 laggport wlan0",
                "ifconfig wlan0 up",
            ]
        );
    }

    #[test]
    fn recreated_wlan_with_right_mac_joins_while_down() {
        // Joining a non-empty lagg re-sets its address (`lagg_port_create`):
        // while UP that would be one association, then another for the up.
        let s = laptop(&[("em0", true, true)]);
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(
            strings(&p),
            ["ifconfig wlan0 down", "ifconfig lagg0 laggport wlan0", "ifconfig wlan0 up"]
        );
        // Already down: it joins and comes up.
        let mut s = s;
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            w.up = false;
        }
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(strings(&p), ["ifconfig lagg0 laggport wlan0", "ifconfig wlan0 up"]);
    }

    #[test]
    fn missing_lagg_is_created_and_brought_up_first() {
        let mut s = laptop(&[]);
        s.interfaces.remove(&n("lagg0"));
        s.laggs.clear();
        s.failover_rx_all = None;
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        // Issue 8: no sysctl means no if_lagg: kldload first.
        assert_eq!(
            strings(&p),
            [
                "kldload if_lagg",
                "ifconfig lagg0 create",
                "ifconfig lagg0 up",
                "sysctl net.link.lagg.failover_rx_all=1"
            ]
        );
    }

    #[test]
    fn empty_lagg_gets_ports_in_preference_order() {
        let s = laptop(&[]);
        let p = plan(&config(&["wlan0", "em0"]), &s, &RememberedMacs::new(), &Scope::All);
        // The first one joins the empty lagg as it is (nothing bounces it);
        // the second would be re-addressed by the lagg, so it joins down.
        assert_eq!(
            strings(&p),
            [
                "ifconfig lagg0 laggport wlan0",
                "ifconfig em0 down",
                "ifconfig lagg0 laggport em0",
                "ifconfig em0 up"
            ]
        );
    }

    #[test]
    fn wrong_proto_and_rx_all_are_set() {
        let mut s = laptop(&[("em0", true, true), ("wlan0", false, false)]);
        s.failover_rx_all = Some(false);
        if let Some(l) = s.laggs.get_mut(&n("lagg0")) {
            l.proto = LaggProto::Lacp;
        }
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(
            strings(&p),
            ["ifconfig lagg0 laggproto failover", "sysctl net.link.lagg.failover_rx_all=1"]
        );
    }

    #[test]
    fn preferred_port_behind_wlan_primary_makes_wlan_leave_when_it_has_link() {
        // wlan0 became primary while em0 was gone; em0 (index 1) is back
        // and listed first, but the primary stays wlan0 until it leaves.
        let s = laptop(&[("em0", false, false), ("wlan0", true, true)]);
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(strings(&p), ["ifconfig lagg0 -laggport wlan0"]);
    }

    #[test]
    fn order_repair_waits_for_link_of_the_preferred_port() {
        let mut s = laptop(&[("em0", false, false), ("wlan0", true, true)]);
        if let Some(e) = s.interfaces.get_mut(&n("em0")) {
            e.link = LinkState::Down;
        }
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert!(p.is_empty(), "{p}");
        assert!(p.notes.iter().any(|note| note.text.contains("waiting for its LINK_UP")), "{p}");
    }

    #[test]
    fn no_swap_that_would_only_bounce_the_port_carrying_the_traffic() {
        // wlan0 is primary but has no link; em0 carries the traffic. A swap
        // now would bounce em0 for nothing: it waits for wlan0 to be back.
        let mut s = laptop(&[("em0", false, true), ("wlan0", true, false)]);
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            w.link = LinkState::Down;
        }
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert!(p.is_empty(), "{p}");
        assert!(p.notes.iter().any(|note| note.text.contains("carries the traffic")), "{p}");
    }

    #[test]
    fn a_free_swap_is_made_under_either_policy() {
        // Nothing carries traffic and em0 is down: the swap happens before
        // em0 comes up, so no port is bounced by it.
        let mut s = laptop(&[("em0", false, false), ("wlan0", true, false)]);
        for (name, up) in [("em0", false), ("wlan0", true)] {
            if let Some(i) = s.interfaces.get_mut(&n(name)) {
                (i.up, i.link) = (up, LinkState::Down);
            }
        }
        for failback in [Failback::Immediate, Failback::Deferred] {
            let mut cfg = config(&["em0", "wlan0"]);
            cfg.laggs[0].failback = failback;
            let p = plan(&cfg, &s, &RememberedMacs::new(), &Scope::All);
            assert_eq!(strings(&p), ["ifconfig lagg0 -laggport wlan0", "ifconfig em0 up"]);
        }
    }

    #[test]
    fn deferred_failback_leaves_a_working_primary_alone() {
        let s = laptop(&[("em0", false, false), ("wlan0", true, true)]);
        let mut cfg = config(&["em0", "wlan0"]);
        cfg.laggs[0].failback = Failback::Deferred;
        let p = plan(&cfg, &s, &RememberedMacs::new(), &Scope::All);
        assert!(p.is_empty(), "{p}");
        assert!(p.notes.iter().any(|note| note.text.contains("deferred")), "{p}");
    }

    #[test]
    fn an_unmanaged_primary_is_never_removed() {
        let mut s = laptop(&[("em0", false, false), ("re0", true, true)]);
        s.interfaces.insert(n("re0"), iface("re0", 4, IfKind::Ether, EM, true));
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert!(strings(&p).iter().all(|a| !a.contains("re0")), "{p}");
        assert!(p.notes.iter().any(|note| note.text.contains("re0 is not managed")), "{p}");
    }

    #[test]
    fn order_repair_removes_ports_listed_in_front_before_the_primary() {
        // ue0 got index 4 after wlan0 (2) and a second wlan1 (3); wlan0 is
        // primary. Removing wlan0 alone would make wlan1 primary.
        let mut s =
            laptop(&[("wlan0", true, true), ("wlan1", false, false), ("ue0", false, false)]);
        for i in
            [iface("wlan1", 3, IfKind::Wlan, EM, true), iface("ue0", 4, IfKind::Ether, EM, true)]
        {
            s.interfaces.insert(i.name.clone(), i);
        }
        let p = plan(&config(&["ue0", "wlan0", "wlan1"]), &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(
            strings(&p),
            ["ifconfig lagg0 -laggport wlan1", "ifconfig lagg0 -laggport wlan0"]
        );
    }

    #[test]
    fn unmanaged_port_in_front_blocks_order_repair() {
        let mut s = laptop(&[("wlan0", true, true), ("re0", false, false), ("ue0", false, false)]);
        for i in
            [iface("re0", 3, IfKind::Ether, EM, true), iface("ue0", 4, IfKind::Ether, EM, true)]
        {
            s.interfaces.insert(i.name.clone(), i);
        }
        let p = plan(&config(&["ue0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert!(p.is_empty(), "{p}");
        assert!(p.notes.iter().any(|note| note.text.contains("unmanaged port re0")), "{p}");
    }

    #[test]
    fn down_members_are_brought_up_and_unmanaged_members_left_alone() {
        let mut s = laptop(&[("em0", true, true), ("wlan0", false, false), ("re0", false, false)]);
        let mut re0 = iface("re0", 4, IfKind::Ether, EM, false);
        re0.up = false;
        s.interfaces.insert(n("re0"), re0);
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            w.up = false;
        }
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(strings(&p), ["ifconfig wlan0 up"]);
    }

    #[test]
    fn port_of_another_lagg_is_not_stolen() {
        let mut s = laptop(&[("em0", true, true)]);
        s.laggs.insert(
            n("lagg1"),
            LaggStatus {
                proto: LaggProto::Failover,
                ports: vec![LaggPort { name: n("wlan0"), flags: PortFlags::default() }],
            },
        );
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert!(p.is_empty(), "{p}");
        assert!(p.notes.iter().any(|note| note.text.contains("port of lagg1")));
    }

    /// lagg0's identity as an earlier run stored it: its `mac` port's
    /// hardware address.
    fn remembered(cfg: &Config, mac: &str) -> RememberedMacs {
        let identity =
            Identity { mac: m(mac), source: cfg.laggs[0].mac.clone(), provisional: false };
        RememberedMacs::from([(n("lagg0"), identity)])
    }

    #[test]
    fn identity_is_remembered_while_its_port_is_absent() {
        let mut s = laptop(&[("wlan0", true, true)]);
        s.interfaces.remove(&n("em0"));
        let cfg = config(&["em0", "wlan0"]);
        let remembered = remembered(&cfg, "00:aa:bb:cc:dd:ee");
        assert_eq!(identity_mac(&cfg.laggs[0], &s, &remembered), Some(m("00:aa:bb:cc:dd:ee")));
        // With nothing remembered, a lagg with ports keeps its own MAC.
        assert_eq!(identity_mac(&cfg.laggs[0], &s, &RememberedMacs::new()), Some(m(EM)));
    }

    /// Issue 19.3: a wired member given another address by hand gets the
    /// lagg's back, in one SIOCSIFLLADDR (its bounce is the repair's one
    /// autonegotiation); down, it is re-addressed without one and comes up.
    #[test]
    fn a_member_nic_with_another_address_gets_the_laggs_back() {
        let mut s = laptop(&[("em0", true, true), ("wlan0", false, false)]);
        if let Some(e) = s.interfaces.get_mut(&n("em0")) {
            e.mac = m("02:00:00:00:00:01");
        }
        let cfg = config(&["em0", "wlan0"]);
        let p = plan(&cfg, &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(strings(&p), ["ifconfig em0 ether 00:11:22:33:44:55"]);
        if let Some(e) = s.interfaces.get_mut(&n("em0")) {
            e.up = false;
        }
        let p = plan(&cfg, &s, &RememberedMacs::new(), &Scope::All);
        assert_eq!(strings(&p), ["ifconfig em0 ether 00:11:22:33:44:55", "ifconfig em0 up"]);
        // Not named by the configuration: a note, no change.
        let p = plan(&config(&["wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert!(p.actions.iter().all(|a| !a.to_string().contains("em0 ether")), "{p}");
        assert!(p.notes.iter().any(|n| n.to_string().contains("has MAC 02:00:00:00:00:01")));
        // The lagg's own re-addressing pushes its MAC to every member
        // (`lagg_init`): no second change for em0.
        if let Some(l) = s.interfaces.get_mut(&n("lagg0")) {
            l.mac = m(FACTORY);
        }
        let p = plan(&cfg, &s, &remembered(&cfg, EM), &Scope::All);
        assert!(p.actions.iter().all(|a| !a.to_string().contains("em0 ether")), "{p}");
    }

    #[test]
    fn lagg_mac_drift_is_repaired() {
        let mut s = laptop(&[("wlan0", true, true)]);
        s.interfaces.remove(&n("em0"));
        if let Some(l) = s.interfaces.get_mut(&n("lagg0")) {
            l.mac = m(FACTORY);
        }
        let cfg = config(&["em0", "wlan0"]);
        let p = plan(&cfg, &s, &remembered(&cfg, EM), &Scope::All);
        // The member vap goes down around it: pushed while up, the address
        // would not reach its iv_myaddr.
        assert_eq!(
            strings(&p),
            ["ifconfig wlan0 down", "ifconfig lagg0 ether 00:11:22:33:44:55", "ifconfig wlan0 up"]
        );
    }

    #[test]
    fn non_lagg_interface_named_like_the_lagg_is_left_alone() {
        let mut s = laptop(&[]);
        s.laggs.clear();
        if let Some(l) = s.interfaces.get_mut(&n("lagg0")) {
            l.kind = IfKind::Ether;
        }
        let p = plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::All);
        assert!(strings(&p).iter().all(|a| !a.contains("lagg0")), "{p}");
    }

    /// lagg0 with em0 and wlan0, wlan0 up without link, wpa_supplicant's
    /// answer `wpa`.
    fn stale(wpa: WpaAddress) -> Snapshot {
        let mut s = laptop(&[("em0", true, true), ("wlan0", false, false)]);
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            w.link = LinkState::Down;
        }
        s.wpa.insert(n("wlan0"), wpa);
        s
    }

    fn refreshed(restarted: bool, this_run: bool) -> WpaRefreshes {
        let r = WpaRefresh { mac: m(EM), restarted, this_run, readdressed: false };
        WpaRefreshes::from([(n("wlan0"), r)])
    }

    const REFRESH: [&str; 3] =
        ["ifconfig wlan0 down", "ifconfig wlan0 ether 00:11:22:33:44:55", "ifconfig wlan0 up"];

    #[test]
    fn a_stale_wpa_supplicant_is_refreshed_then_restarted_then_left() {
        let cfg = config(&["em0", "wlan0"]);
        let s = stale(WpaAddress::Known(m(FACTORY)));
        let go = |r: &WpaRefreshes| {
            plan_with(&cfg, &s, &RememberedMacs::new(), r, &BTreeSet::new(), &Scope::All)
        };
        assert_eq!(strings(&go(&WpaRefreshes::new())), REFRESH);
        // Refreshed in this run: wpa_supplicant may not have heard yet.
        let p = go(&refreshed(false, true));
        assert!(p.is_empty() && p.notes.iter().any(|n| n.text.contains("waiting")), "{p}");
        // Refreshed by an earlier run and still stale: restart it, once.
        assert_eq!(
            strings(&go(&refreshed(false, false))),
            ["/etc/rc.d/wpa_supplicant restart wlan0"]
        );
        let p = go(&refreshed(true, false));
        assert!(p.is_empty() && p.notes.iter().any(|n| n.text.contains("left alone")), "{p}");
        // A refresh made for another address does not count.
        let mut other = refreshed(true, false);
        if let Some(r) = other.get_mut(&n("wlan0")) {
            r.mac = m(FACTORY);
        }
        assert_eq!(strings(&go(&other)), REFRESH);
    }

    #[test]
    fn a_silent_wpa_supplicant_is_refreshed_once_per_address_and_only_without_link() {
        let cfg = config(&["em0", "wlan0"]);
        let s = stale(WpaAddress::Unknown);
        let go = |s: &Snapshot, r: &WpaRefreshes| {
            plan_with(&cfg, s, &RememberedMacs::new(), r, &BTreeSet::new(), &Scope::All)
        };
        assert_eq!(strings(&go(&s, &WpaRefreshes::new())), REFRESH);
        assert!(go(&s, &refreshed(false, false)).is_empty());
        // Associated: the handshake worked, nothing to refresh.
        let mut linked = s.clone();
        if let Some(w) = linked.interfaces.get_mut(&n("wlan0")) {
            w.link = LinkState::Up;
        }
        assert!(go(&linked, &WpaRefreshes::new()).is_empty());
        // Not running, or using the vap's address: nothing either.
        for wpa in [WpaAddress::NotRunning, WpaAddress::Known(m(EM))] {
            assert!(go(&stale(wpa), &WpaRefreshes::new()).is_empty(), "{wpa:?}");
        }
    }

    /// Issue 19.2: a station whose handshake cannot finish still reports
    /// LINK_UP at association, so a silent wpa_supplicant on a vap that
    /// someone re-addressed (rc's laggport, lagg) is refreshed at its first
    /// LINK_UP, not a handshake timeout later when the link goes again;
    /// once per address, as without a link.
    #[test]
    fn issue19_a_silent_wpa_supplicant_on_a_readdressed_vap_is_refreshed_at_link_up() {
        let cfg = config(&["em0", "wlan0"]);
        let mut s = stale(WpaAddress::Unknown);
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            (w.link, w.hwaddr) = (LinkState::Up, Some(m(FACTORY)));
        }
        let go = |r: &WpaRefreshes| {
            plan_with(&cfg, &s, &RememberedMacs::new(), r, &BTreeSet::new(), &Scope::All)
        };
        let p = go(&WpaRefreshes::new());
        assert_eq!(strings(&p), REFRESH);
        assert!(p.notes.iter().any(|n| n.text.contains("not the one it was created with")), "{p}");
        assert!(go(&refreshed(false, false)).is_empty());
    }

    #[test]
    fn scope_limits_the_plan_to_one_lagg() {
        let mut s = laptop(&[]);
        s.interfaces.remove(&n("lagg0"));
        s.laggs.clear();
        let p =
            plan(&config(&["em0", "wlan0"]), &s, &RememberedMacs::new(), &Scope::Lagg(n("lagg9")));
        assert!(p.is_empty());
    }
}
