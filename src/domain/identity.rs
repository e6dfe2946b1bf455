//! A lagg's identity: the MAC address every port carries, so the lagg's
//! own address — what TCP peers, the ARP caches and the DHCP server know
//! the machine by — never changes, whichever port is primary (issue 7,
//! point 4). This module decides which address that is, from the
//! configuration, what earlier runs remembered and one observation; it
//! also names the reason, for `status`, `check` and the log. Pure: where
//! the remembered identities are kept (`/var/db/lagghook/identity`) is
//! `run::state`'s business.
//!
//! Precedence, first that applies:
//! 1. a literal `mac` in the configuration;
//! 2. the identity remembered for the lagg;
//! 3. the hardware address (`SIOCGHWADDR`) of the port `mac` names, when
//!    that port is seen;
//! 4. the lagg's own MAC while it holds configured ports, remembered as
//!    *provisional*.
//!
//! A provisional identity gives way to the port's hardware address only
//! while the lagg is empty or does not exist, i.e. when no traffic depends
//! on the lagg's current address: booting undocked (the lagg built on the
//! wlan, the `mac` port absent) and docking later must not change the
//! lagg's address. A remembered non-provisional identity is never replaced
//! by what is observed; only the configuration can change it.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::config::{Config, LaggConfig, MacSource};
use crate::domain::model::{IfName, MacAddr, Snapshot};

/// One lagg's identity, as remembered across reboots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub mac: MacAddr,
    /// The `mac` setting it was chosen for. Kept so that a changed setting
    /// (the administrator wrote `mac = "ue0"` instead of `"em0"`, or
    /// reordered `ports` without `mac`) is noticed, not silently ignored.
    pub source: MacSource,
    /// Taken from the lagg's own MAC because the `mac` port's hardware
    /// address could not be adopted (the port was never seen, or the
    /// identity file was lost while the lagg held ports).
    pub provisional: bool,
}

/// Each lagg's remembered identity, by lagg name.
pub type Identities = BTreeMap<IfName, Identity>;

/// Why a lagg's identity is the address it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// A literal `mac` in the configuration.
    Literal,
    /// Remembered: the `mac` port's hardware address as an earlier run saw
    /// it.
    Stored,
    /// The `mac` port's hardware address, adopted from this observation.
    PortHwaddr,
    /// The lagg's own MAC, kept until the port's hardware address can
    /// replace it without changing a busy lagg's address.
    Provisional,
    /// Chosen for an earlier `mac` setting, `was`; kept until the port the
    /// configuration names now is seen, since no address at all would be
    /// worse.
    Superseded { was: MacSource },
}

impl Basis {
    /// The word `status -j` reports.
    pub fn name(&self) -> &'static str {
        match self {
            Basis::Literal => "literal",
            Basis::Stored => "stored",
            Basis::PortHwaddr => "port-hwaddr",
            Basis::Provisional => "provisional",
            Basis::Superseded { .. } => "superseded",
        }
    }
}

/// A lagg's identity, why it is that, and what the `mac` port offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// What a run uses and remembers.
    pub identity: Identity,
    pub basis: Basis,
    /// The port `mac` names, if it names one.
    pub port: Option<IfName>,
    /// That port's hardware address, when it is seen now: how a
    /// provisional or superseded identity differs from it.
    pub port_hwaddr: Option<MacAddr>,
}

impl Resolved {
    /// Whether the `mac` port is seen with another address than the
    /// identity: the case `status` and `check` explain.
    pub fn port_differs(&self) -> bool {
        self.port_hwaddr.is_some_and(|hw| hw != self.identity.mac)
    }
}

/// The identity of `lagg`, given the one remembered for it (`stored`) and
/// a fresh observation; `None` when nothing tells it yet (no literal,
/// nothing remembered, the port not seen, the lagg holding no configured
/// port). Feeding the result back as `stored` yields it again, so a run
/// that re-resolves after each round never flips.
pub fn resolve(lagg: &LaggConfig, snap: &Snapshot, stored: Option<&Identity>) -> Option<Resolved> {
    let port = match &lagg.mac {
        MacSource::Literal(mac) => {
            let identity = Identity { mac: *mac, source: lagg.mac.clone(), provisional: false };
            return Some(Resolved {
                identity,
                basis: Basis::Literal,
                port: None,
                port_hwaddr: None,
            });
        }
        MacSource::Port(port) => port,
    };
    let hw = port_hwaddr(snap, port);
    let resolved = |identity: Identity, basis: Basis| Resolved {
        identity,
        basis,
        port: Some(port.clone()),
        port_hwaddr: hw,
    };
    let adopt = |hw: MacAddr| {
        let identity = Identity { mac: hw, source: lagg.mac.clone(), provisional: false };
        resolved(identity, Basis::PortHwaddr)
    };
    match (stored, hw) {
        (Some(s), _) if s.source == lagg.mac && !s.provisional => {
            Some(resolved(s.clone(), Basis::Stored))
        }
        // Taking the port's address costs nothing when it is the address
        // already in use, or when no port of the lagg carries traffic.
        (Some(s), Some(hw)) if s.source == lagg.mac => {
            if hw == s.mac || empty_or_absent(snap, &lagg.name) {
                Some(adopt(hw))
            } else {
                Some(resolved(s.clone(), Basis::Provisional))
            }
        }
        (Some(s), None) if s.source == lagg.mac => Some(resolved(s.clone(), Basis::Provisional)),
        // The administrator named another source: that is an instruction,
        // as a changed literal is, so its address is taken as soon as it is
        // readable, busy lagg or not (one address change, asked for).
        (Some(_), Some(hw)) => Some(adopt(hw)),
        (Some(s), None) => Some(resolved(s.clone(), Basis::Superseded { was: s.source.clone() })),
        // Nothing remembered: lagghook has never chosen an identity here
        // (a first run, a new lagg), so the configuration is the only
        // statement of intent, as the issue's precedence has it, even if a
        // busy lagg carries another address. A file that was lost rather
        // than never written goes through `salvage` first instead.
        (None, Some(hw)) => Some(adopt(hw)),
        (None, None) => {
            let mac = own_mac_while_holding_ports(lagg, snap)?;
            let identity = Identity { mac, source: lagg.mac.clone(), provisional: true };
            Some(resolved(identity, Basis::Provisional))
        }
    }
}

/// What a run keeps after observing `snap`: every configured lagg's
/// [`resolve`]d identity replaces the remembered one; a lagg that cannot be
/// resolved, or is no longer configured, keeps its record (it may come
/// back, and a record is never dropped by an observation).
pub fn remember(config: &Config, snap: &Snapshot, identities: &mut Identities) {
    for lagg in &config.laggs {
        if let Some(r) = resolve(lagg, snap, identities.get(&lagg.name)) {
            identities.insert(lagg.name.clone(), r.identity);
        }
    }
}

/// After the identity file was found corrupt: the best evidence left of
/// each lagg's identity, as provisional records, so that losing the file
/// does not make lagghook adopt a port's hardware address under a lagg
/// whose address live connections use. The evidence is the MAC the lagg
/// carries while it holds configured ports, else the last MAC an earlier
/// run of this boot saw it carry (`last_seen`, from /var/run). A literal
/// `mac` needs no evidence. [`resolve`] promotes a record whose address is
/// the port's hardware address.
pub fn salvage(
    config: &Config,
    snap: &Snapshot,
    last_seen: &BTreeMap<IfName, MacAddr>,
) -> Identities {
    let mut out = Identities::new();
    for lagg in &config.laggs {
        if let MacSource::Literal(_) = lagg.mac {
            continue;
        }
        let last = last_seen.get(&lagg.name).copied().filter(|m| usable(*m));
        if let Some(mac) = own_mac_while_holding_ports(lagg, snap).or(last) {
            let identity = Identity { mac, source: lagg.mac.clone(), provisional: true };
            out.insert(lagg.name.clone(), identity);
        }
    }
    out
}

/// The log line for a lagg's identity going from `before` to `after`, if
/// it changed.
pub fn describe(
    lagg: &IfName,
    before: Option<&Identity>,
    after: Option<&Identity>,
) -> Option<String> {
    let after = after?;
    if before == Some(after) {
        return None;
    }
    let why = Why { lagg, identity: after };
    Some(match before {
        Some(b) if b.mac != after.mac => {
            format!("{lagg}: identity {} -> {} ({why})", b.mac, after.mac)
        }
        _ => format!("{lagg}: identity {} ({why})", after.mac),
    })
}

/// Where a remembered identity came from, in words.
struct Why<'a> {
    lagg: &'a IfName,
    identity: &'a Identity,
}

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.identity.source, self.identity.provisional) {
            (MacSource::Literal(_), _) => f.write_str("from the configuration"),
            (MacSource::Port(port), false) => write!(f, "hardware address of {port}"),
            (MacSource::Port(port), true) => {
                write!(f, "provisional: {}'s own MAC, until {port} can give its own", self.lagg)
            }
        }
    }
}

/// The `mac` setting as the configuration file spells it.
pub fn setting(source: &MacSource) -> String {
    match source {
        MacSource::Port(p) => format!("mac = \"{p}\""),
        MacSource::Literal(m) => format!("mac = \"{m}\""),
    }
}

/// The port's hardware address, if it is seen and has a usable one.
fn port_hwaddr(snap: &Snapshot, port: &IfName) -> Option<MacAddr> {
    snap.interface(port).and_then(|i| i.hwaddr).filter(|m| usable(*m))
}

/// The lagg's own address, while it holds a configured port: the address
/// its traffic uses now.
fn own_mac_while_holding_ports(lagg: &LaggConfig, snap: &Snapshot) -> Option<MacAddr> {
    let status = snap.laggs.get(&lagg.name)?;
    if !status.ports.iter().any(|p| lagg.ports.contains(&p.name)) {
        return None;
    }
    snap.interface(&lagg.name).map(|i| i.mac).filter(|m| usable(*m))
}

/// No port of the lagg carries traffic: it has none, or it does not exist
/// (or is not a lagg, which the planner leaves alone anyway). Its address
/// may change without cutting a connection: an empty lagg takes the first
/// joining port's address anyway (`lagg_port_create`).
fn empty_or_absent(snap: &Snapshot, lagg: &IfName) -> bool {
    snap.laggs.get(lagg).is_none_or(|s| s.ports.is_empty())
}

/// An address an identity can have: the configuration refuses the zero
/// and multicast addresses, and an observed one is held to the same rule.
fn usable(mac: MacAddr) -> bool {
    !mac.is_zero() && !mac.is_multicast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::WlanConfig;
    use crate::domain::model::PortFlags;
    use crate::domain::model::{IfKind, Interface, LaggPort, LaggProto, LaggStatus, LinkState};
    use std::path::PathBuf;

    const UE0: &str = "00:11:22:33:44:55";
    const WLAN: &str = "00:24:d7:00:00:01";
    const OTHER: &str = "02:00:00:00:00:09";

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }
    fn m(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    fn config(mac: MacSource) -> Config {
        Config {
            path: PathBuf::from("t.toml"),
            laggs: vec![LaggConfig {
                failback: Default::default(),
                network: Default::default(),
                name: n("lagg0"),
                ports: vec![n("ue0"), n("wlan0")],
                mac,
                failover_rx_all: true,
                wlans: vec![(n("wlan0"), WlanConfig::default())],
            }],
        }
    }

    fn port(name: &str) -> MacSource {
        MacSource::Port(n(name))
    }

    fn iface(name: &str, index: u32, kind: IfKind, mac: &str) -> Interface {
        Interface {
            name: n(name),
            index,
            kind,
            mac: m(mac),
            hwaddr: Some(m(mac)),
            up: true,
            link: LinkState::Up,
            mtu: 1500,
            parent: None,
            caps: None,
        }
    }

    /// A laptop: lagg0 (absent if `lagg` is `None`, else with its MAC and
    /// members), wlan0 with its factory address, and ue0 when `docked`.
    fn snap(docked: bool, lagg: Option<(&str, &[&str])>) -> Snapshot {
        let mut s = Snapshot::default();
        let mut add = |i: Interface| {
            s.interfaces.insert(i.name.clone(), i);
        };
        add(iface("wlan0", 2, IfKind::Wlan, WLAN));
        if docked {
            add(iface("ue0", 4, IfKind::Ether, UE0));
        }
        if let Some((mac, members)) = lagg {
            add(iface("lagg0", 3, IfKind::Lagg, mac));
            let ports = members
                .iter()
                .map(|p| LaggPort { name: n(p), flags: PortFlags::default() })
                .collect();
            s.laggs.insert(n("lagg0"), LaggStatus { proto: LaggProto::Failover, ports });
        }
        s
    }

    fn stored(mac: &str, source: MacSource, provisional: bool) -> Identity {
        Identity { mac: m(mac), source, provisional }
    }

    fn resolve0(cfg: &Config, s: &Snapshot, st: Option<&Identity>) -> Option<Resolved> {
        resolve(&cfg.laggs[0], s, st)
    }

    /// Proves resolving is a fixed point: what a run stores resolves to
    /// itself, so re-resolving after every round cannot flip the address.
    fn assert_stable(cfg: &Config, s: &Snapshot, r: &Resolved) {
        let again = resolve0(cfg, s, Some(&r.identity)).unwrap();
        assert_eq!(again.identity, r.identity, "not a fixed point: {r:?} -> {again:?}");
    }

    #[test]
    fn a_literal_wins_over_everything_remembered_or_seen() {
        let cfg = config(MacSource::Literal(m(OTHER)));
        let s = snap(true, Some((UE0, &["ue0", "wlan0"])));
        let st = stored(UE0, port("ue0"), false);
        let r = resolve0(&cfg, &s, Some(&st)).unwrap();
        assert_eq!((r.identity.mac, r.basis.clone()), (m(OTHER), Basis::Literal));
        assert!(!r.identity.provisional);
        assert_stable(&cfg, &s, &r);
    }

    #[test]
    fn a_stored_identity_beats_the_ports_hardware_address_and_the_laggs_own_mac() {
        let cfg = config(port("ue0"));
        // Another dongle answering to ue0, and a lagg that drifted: the
        // remembered identity stays, and the planner puts it back.
        let s = snap(true, Some((WLAN, &["ue0", "wlan0"])));
        let st = stored(OTHER, port("ue0"), false);
        for lagg in [None, Some((WLAN, &["wlan0"][..])), Some((WLAN, &[][..]))] {
            let s2 = snap(true, lagg);
            let r = resolve0(&cfg, &s2, Some(&st)).unwrap();
            assert_eq!((r.identity.clone(), r.basis.clone()), (st.clone(), Basis::Stored));
        }
        let r = resolve0(&cfg, &s, Some(&st)).unwrap();
        assert!(r.port_differs());
        assert_stable(&cfg, &s, &r);
    }

    #[test]
    fn with_nothing_stored_a_seen_port_gives_its_hardware_address() {
        let cfg = config(port("ue0"));
        for lagg in [None, Some((UE0, &["ue0", "wlan0"][..])), Some((WLAN, &["wlan0"][..]))] {
            let s = snap(true, lagg);
            let r = resolve0(&cfg, &s, None).unwrap();
            assert_eq!(r.identity, stored(UE0, port("ue0"), false), "{lagg:?}");
            assert_eq!(r.basis, Basis::PortHwaddr);
            assert_stable(&cfg, &s, &r);
        }
    }

    #[test]
    fn undocked_with_nothing_stored_the_laggs_own_mac_is_provisional() {
        let cfg = config(port("ue0"));
        let s = snap(false, Some((WLAN, &["wlan0"])));
        let r = resolve0(&cfg, &s, None).unwrap();
        assert_eq!(r.identity, stored(WLAN, port("ue0"), true));
        assert_eq!((r.basis.clone(), r.port_hwaddr), (Basis::Provisional, None));
        assert_stable(&cfg, &s, &r);
        // Nothing to go on: no lagg, an empty one, or one holding only a
        // port the configuration does not name.
        assert_eq!(resolve0(&cfg, &snap(false, None), None), None);
        assert_eq!(resolve0(&cfg, &snap(false, Some((WLAN, &[]))), None), None);
        let mut s = snap(false, Some((WLAN, &["em9"])));
        s.interfaces.insert(n("em9"), iface("em9", 9, IfKind::Ether, WLAN));
        assert_eq!(resolve0(&cfg, &s, None), None);
    }

    /// Issue 7, point 4: booting undocked, then docking, must not change
    /// the lagg's address: the dock's hardware address does not replace a
    /// provisional identity while the lagg holds ports.
    #[test]
    fn issue7_docking_keeps_a_provisional_identity_while_the_lagg_holds_ports() {
        let cfg = config(port("ue0"));
        let st = stored(WLAN, port("ue0"), true);
        for members in [&["wlan0"][..], &["ue0", "wlan0"], &["ue0"]] {
            let s = snap(true, Some((WLAN, members)));
            let r = resolve0(&cfg, &s, Some(&st)).unwrap();
            assert_eq!((r.identity.clone(), r.basis.clone()), (st.clone(), Basis::Provisional));
            assert_eq!(r.port_hwaddr, Some(m(UE0)), "status shows what it differs from");
            assert!(r.port_differs());
            assert_stable(&cfg, &s, &r);
        }
    }

    #[test]
    fn a_provisional_identity_gives_way_only_while_the_lagg_is_empty_or_absent() {
        let cfg = config(port("ue0"));
        let st = stored(WLAN, port("ue0"), true);
        for lagg in [None, Some((WLAN, &[][..]))] {
            let s = snap(true, lagg);
            let r = resolve0(&cfg, &s, Some(&st)).unwrap();
            assert_eq!(r.identity, stored(UE0, port("ue0"), false), "{lagg:?}");
            assert_eq!(r.basis, Basis::PortHwaddr);
            assert_stable(&cfg, &s, &r);
        }
        // Without the port there is nothing to give way to.
        let s = snap(false, None);
        assert_eq!(resolve0(&cfg, &s, Some(&st)).unwrap().identity, st);
        // A provisional address that is the port's is simply confirmed.
        let s = snap(true, Some((UE0, &["ue0", "wlan0"])));
        let r = resolve0(&cfg, &s, Some(&stored(UE0, port("ue0"), true))).unwrap();
        assert_eq!(r.identity, stored(UE0, port("ue0"), false));
    }

    #[test]
    fn a_changed_mac_setting_is_noticed_and_its_port_adopted_once_seen() {
        // Docked run with mac = "em0" remembered; the administrator now
        // says mac = "ue0".
        let cfg = config(port("ue0"));
        let st = stored(OTHER, port("em0"), false);
        let s = snap(false, Some((OTHER, &["wlan0"])));
        let r = resolve0(&cfg, &s, Some(&st)).unwrap();
        assert_eq!(r.identity, st, "kept until ue0 is seen");
        assert_eq!(r.basis, Basis::Superseded { was: port("em0") });
        assert_stable(&cfg, &s, &r);
        let s = snap(true, Some((OTHER, &["wlan0"])));
        let r = resolve0(&cfg, &s, Some(&st)).unwrap();
        assert_eq!(r.identity, stored(UE0, port("ue0"), false));
        assert_stable(&cfg, &s, &r);
        // From a literal to a port alike.
        let st = stored(OTHER, MacSource::Literal(m(OTHER)), false);
        let r = resolve0(&cfg, &s, Some(&st)).unwrap();
        assert_eq!(r.identity, stored(UE0, port("ue0"), false));
    }

    #[test]
    fn zero_and_multicast_hardware_addresses_are_never_adopted() {
        let cfg = config(port("ue0"));
        let mut s = snap(true, Some((WLAN, &["wlan0"])));
        for bad in ["00:00:00:00:00:00", "01:00:5e:00:00:01"] {
            s.interfaces.get_mut(&n("ue0")).unwrap().hwaddr = Some(m(bad));
            let r = resolve0(&cfg, &s, None).unwrap();
            assert_eq!(r.identity, stored(WLAN, port("ue0"), true), "{bad}");
        }
    }

    #[test]
    fn remember_keeps_records_it_cannot_resolve() {
        let cfg = config(port("ue0"));
        let mut ids = Identities::new();
        ids.insert(n("lagg7"), stored(OTHER, port("em7"), false));
        remember(&cfg, &snap(false, None), &mut ids);
        assert_eq!(ids.len(), 1, "nothing learnt, nothing dropped");
        remember(&cfg, &snap(false, Some((WLAN, &["wlan0"]))), &mut ids);
        assert_eq!(ids[&n("lagg0")], stored(WLAN, port("ue0"), true));
        assert_eq!(ids[&n("lagg7")], stored(OTHER, port("em7"), false));
    }

    /// A corrupt identity file must not let a busy lagg take the port's
    /// hardware address silently: the salvaged record is the lagg's own
    /// MAC, provisional, so the address stays until the lagg is empty.
    #[test]
    fn salvage_prefers_the_address_in_use_to_the_ports() {
        let cfg = config(port("ue0"));
        let s = snap(true, Some((WLAN, &["ue0", "wlan0"])));
        let ids = salvage(&cfg, &s, &BTreeMap::new());
        assert_eq!(ids[&n("lagg0")], stored(WLAN, port("ue0"), true));
        let r = resolve0(&cfg, &s, ids.get(&n("lagg0"))).unwrap();
        assert_eq!(r.identity.mac, m(WLAN));
        // An empty lagg: the last address this boot saw, else nothing.
        let s = snap(false, Some((WLAN, &[])));
        assert!(salvage(&cfg, &s, &BTreeMap::new()).is_empty());
        let last = BTreeMap::from([(n("lagg0"), m(OTHER))]);
        assert_eq!(salvage(&cfg, &s, &last)[&n("lagg0")], stored(OTHER, port("ue0"), true));
        // A literal needs no evidence.
        let cfg = config(MacSource::Literal(m(OTHER)));
        assert!(salvage(&cfg, &snap(true, Some((WLAN, &["wlan0"]))), &last).is_empty());
    }

    #[test]
    fn describe_names_the_change_and_its_reason() {
        let l = n("lagg0");
        let prov = stored(WLAN, port("ue0"), true);
        let hw = stored(UE0, port("ue0"), false);
        assert_eq!(describe(&l, Some(&hw), Some(&hw)), None);
        assert_eq!(describe(&l, Some(&hw), None), None);
        assert_eq!(
            describe(&l, None, Some(&prov)).unwrap(),
            "lagg0: identity 00:24:d7:00:00:01 (provisional: lagg0's own MAC, until ue0 can give its own)"
        );
        assert_eq!(
            describe(&l, Some(&prov), Some(&hw)).unwrap(),
            "lagg0: identity 00:24:d7:00:00:01 -> 00:11:22:33:44:55 (hardware address of ue0)"
        );
        let confirmed = stored(WLAN, port("ue0"), false);
        assert_eq!(
            describe(&l, Some(&prov), Some(&confirmed)).unwrap(),
            "lagg0: identity 00:24:d7:00:00:01 (hardware address of ue0)"
        );
        let lit = stored(OTHER, MacSource::Literal(m(OTHER)), false);
        assert_eq!(
            describe(&l, None, Some(&lit)).unwrap(),
            "lagg0: identity 02:00:00:00:00:09 (from the configuration)"
        );
    }
}
