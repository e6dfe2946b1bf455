//! How a vap gets the address its lagg needs, the way its radio's driver
//! takes one. Not owned here: which address that is (`identity`), joining
//! and bringing ports up, and wpa_supplicant's refresh (`plan`).
//!
//! Every driver takes the address a vap is created with (`wlanaddr`,
//! `IEEE80211_CLONE_MACADDR` → the driver's `ic_vap_create`); a native
//! net80211 driver, and a LinuxKPI one since D46121, also take an address
//! set while the vap is down; a LinuxKPI driver that programs its firmware
//! from `vif->addr` (iwlwifi, rtw88, rtw89) takes nothing later
//! (`wifi_driver` has the sources). What `ifconfig` then shows is no
//! proof: it is the ifnet's address, not the radio's. FreeBSD cannot be
//! asked a driver's class, so lagghook goes by its table:
//! - a driver believed native or while-down: the address is set while the
//!   vap is down (`plan`'s join and refresh), which costs an association;
//! - a driver believed at-create, or one not in the table: the vap is
//!   re-created with `wlanaddr` ([`Action::RecreateVap`]), which also
//!   costs an association (and the vap's DETACH and ATTACH), and is the one
//!   repair every class takes. An unknown driver gets it because a wrong
//!   guess the other way fails silently: a radio that refuses an address
//!   never joins, and nothing tells lagghook so until the cable goes.
//! - the table can be wrong: a vap that lagghook or rc re-addressed (its
//!   creation address, `SIOCGHWADDR`, is not its address), that is up and
//!   a member, and that runs have seen up without a link for
//!   [`ASSOCIATION_GRACE_SECS`] although its wpa_supplicant uses its
//!   address, is re-created too, once (after that its creation address is
//!   the address), in the run in which its lagg loses the port that
//!   carried its traffic (the cable going): when the WiFi is needed. A run
//!   cannot wait for the grace to pass, and one that finds the lagg
//!   offline already does not act, so a settled world stays settled. A vap
//!   stuck while its lagg was already offline (its card reset while on
//!   WiFi) waits for the lagg's next loss. lagghook cannot tell a refusing
//!   driver from an AP out of reach; the cost when it was the AP is a
//!   re-creation while nothing could flow anyway. A vap that
//!   is the primary of a lagg with other ports is not re-created so: its
//!   leaving would make lagg re-address, and so re-initialise, every other
//!   port (`lagg_port_destroy`), for what may only be an AP out of reach.

use std::collections::BTreeSet;
use std::fmt;

use crate::domain::config::LaggConfig;
use crate::domain::model::{IfKind, IfName, Interface, LaggStatus, MacAddr, Snapshot, WpaAddress};
use crate::domain::plan::{Action, Plan, WpaRefreshes};
use crate::domain::wifi_driver::{self, LladdrClass};

/// How long runs must have seen a re-addressed vap up without a link
/// before lagghook takes it that its radio refused the address: longer
/// than an association takes (2 s in the simulator), and as long as
/// wpa_supplicant gives one before it gives up on it (10 s with
/// `ap_scan=1`, `wpas_start_assoc_cb` in `wpa_supplicant/wpa_supplicant.c`;
/// recalled, not re-read).
pub const ASSOCIATION_GRACE_SECS: u64 = 10;

/// Why lagghook re-creates a vap rather than setting its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecreateWhy {
    /// Its driver takes an address only at creation (the table).
    AtCreate { driver: &'static str },
    /// Its driver is not in the table: the repair every driver takes.
    UnknownDriver,
    /// The address set while it was down did not reach its radio: it has
    /// not associated since.
    NotTaken,
}

impl fmt::Display for RecreateWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecreateWhy::AtCreate { driver } => {
                write!(f, "{driver} takes a new address only when its vap is created")
            }
            RecreateWhy::UnknownDriver => {
                f.write_str("its driver is not one lagghook knows, and every driver takes wlanaddr")
            }
            RecreateWhy::NotTaken => f.write_str(
                "it has not associated since its address was set while down: the radio kept its own",
            ),
        }
    }
}

/// Why a vap with this observation must be re-created, if it must: its
/// driver takes only a creation address (or is unknown) and it was not
/// created with `want`; or it is believed to take one set while down, but
/// such an address did not take (see the module doc); `free_member`: it is
/// a member of a lagg no port carries traffic for, whose leaving
/// re-addresses no other port. `refreshed` says
/// what earlier runs did to it; `waited`, whether runs have seen it up
/// without a link for [`ASSOCIATION_GRACE_SECS`].
fn recreate_why(
    vap: &Interface,
    want: MacAddr,
    free_member: bool,
    wpa: Option<&WpaAddress>,
    refreshed: &WpaRefreshes,
    waited: bool,
) -> Option<RecreateWhy> {
    if vap.hwaddr == Some(want) {
        return None;
    }
    let driver = vap.parent.as_ref().and_then(wifi_driver::driver_of);
    match driver.map(|d| (d.name, d.lladdr)) {
        Some((driver, LladdrClass::AtCreate)) => return Some(RecreateWhy::AtCreate { driver }),
        None => return Some(RecreateWhy::UnknownDriver),
        Some(_) => {}
    }
    // Its wpa_supplicant uses its address (a silent one after a refresh):
    // a stale wpa_supplicant is `plan`'s refresh to make, not this.
    let speaks = match wpa {
        Some(WpaAddress::Known(w)) => *w == vap.mac,
        Some(WpaAddress::Unknown) => refreshed.get(&vap.name).is_some_and(|r| r.mac == vap.mac),
        _ => false,
    };
    let stuck = free_member && vap.up && !vap.link.is_up() && vap.mac == want && waited && speaks;
    stuck.then_some(RecreateWhy::NotTaken)
}

/// Plans the re-creation of every configured vap of `cfg` that needs one
/// ([`recreate_why`]) with the lagg's identity `want`; returns whether it
/// planned any, in which case the rest of the lagg waits for the next
/// round, which observes the new vaps (they join as any new port does).
/// `waited`: the vaps runs have seen up without a link for
/// [`ASSOCIATION_GRACE_SECS`], in a lagg that has just lost the port
/// carrying its traffic, none of which this run has touched.
pub fn plan_recreate(
    cfg: &LaggConfig,
    snap: &Snapshot,
    status: &LaggStatus,
    want: Option<MacAddr>,
    refreshed: &WpaRefreshes,
    waited: &BTreeSet<IfName>,
    plan: &mut Plan,
) -> bool {
    let Some(want) = want else { return false };
    let mut any = false;
    for port in &cfg.ports {
        let Some(vap) = snap.interface(port).filter(|i| i.kind == IfKind::Wlan) else {
            continue;
        };
        let Some(parent) = vap.parent.clone() else { continue };
        // A primary with other ports: its leaving re-addresses them. And
        // while another port carries the traffic, the WiFi is not needed.
        let free_member = status.has_port(port)
            && !(status.primary() == Some(port) && status.ports.len() > 1)
            && status.active().is_none();
        if !status.has_port(port) && snap.lagg_of(port).is_some() {
            // Another lagg's port is left alone (`plan` notes it).
            continue;
        }
        let wpa = snap.wpa.get(port);
        let waited = waited.contains(port);
        if let Some(why) = recreate_why(vap, want, free_member, wpa, refreshed, waited) {
            plan.actions.push(Action::RecreateVap {
                wlan: port.clone(),
                parent,
                mac: want,
                was: vap.hwaddr.unwrap_or(vap.mac),
                why,
            });
            any = true;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::{Config, MacSource};
    use crate::domain::model::{LaggPort, LaggProto, LinkState, PortFlags};
    use crate::domain::plan::{plan_with, RememberedMacs, Scope, WpaRefresh};
    use std::path::PathBuf;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }
    const EM: MacAddr = MacAddr([0, 0x11, 0x22, 0x33, 0x44, 0x55]);
    const FACTORY: MacAddr = MacAddr([0, 0x24, 0xd7, 0xaa, 0xbb, 0xcc]);

    /// em0 and wlan0 (on `radio`, created with `hwaddr`, now `mac`) in
    /// lagg0, em0 primary; wlan0 up without a link, its wpa_supplicant
    /// using `mac`.
    fn laptop(radio: &str, hwaddr: MacAddr, mac: MacAddr) -> (Config, Snapshot) {
        let config = Config {
            path: PathBuf::from("test.toml"),
            laggs: vec![LaggConfig {
                name: n("lagg0"),
                ports: vec![n("em0"), n("wlan0")],
                mac: MacSource::Port(n("em0")),
                failover_rx_all: true,
                wlans: Vec::new(),
                failback: Default::default(),
                network: Default::default(),
            }],
        };
        let iface = |name: &str, index, kind, mac, link| Interface {
            name: n(name),
            index,
            kind,
            mac,
            hwaddr: Some(mac),
            up: true,
            link,
            mtu: 1500,
            parent: None,
            caps: None,
        };
        let mut s = Snapshot { failover_rx_all: Some(true), ..Snapshot::default() };
        let mut wlan0 = iface("wlan0", 2, IfKind::Wlan, mac, LinkState::Down);
        (wlan0.hwaddr, wlan0.parent) = (Some(hwaddr), Some(n(radio)));
        for i in [
            iface("em0", 1, IfKind::Ether, EM, LinkState::Up),
            wlan0,
            iface("lagg0", 3, IfKind::Lagg, EM, LinkState::Up),
        ] {
            s.interfaces.insert(i.name.clone(), i);
        }
        let port =
            |p: &str, master| LaggPort { name: n(p), flags: PortFlags { master, active: master } };
        let status = LaggStatus {
            proto: LaggProto::Failover,
            ports: vec![port("em0", true), port("wlan0", false)],
        };
        s.laggs.insert(n("lagg0"), status);
        s.wpa.insert(n("wlan0"), WpaAddress::Known(mac));
        (config, s)
    }

    fn actions(config: &Config, s: &Snapshot, waited: &[&str]) -> Vec<String> {
        let waited = waited.iter().map(|w| n(w)).collect();
        let p = plan_with(
            config,
            s,
            &RememberedMacs::new(),
            &WpaRefreshes::new(),
            &waited,
            &Scope::All,
        );
        p.actions.iter().map(|a| a.to_string()).collect()
    }

    const RECREATE: &str = "ifconfig wlan0 destroy; ifconfig wlan0 create wlandev iwlwifi0 \
                            wlanaddr 00:11:22:33:44:55; /etc/rc.d/netif quietstart wlan0";

    /// Issue 19.1: a vap on a driver that takes an address only at
    /// creation, and one on a driver lagghook does not know, is re-created
    /// with the identity rather than re-addressed; once it was created
    /// with it, nothing is left to do.
    #[test]
    fn issue19_at_create_and_unknown_drivers_get_a_recreated_vap() {
        let (config, s) = laptop("iwlwifi0", FACTORY, FACTORY);
        assert_eq!(actions(&config, &s, &[]), [RECREATE]);
        let (config, s) = laptop("foo0", FACTORY, FACTORY);
        assert_eq!(actions(&config, &s, &[])[0].replace("foo0", "iwlwifi0"), RECREATE);
        // rc's laggport gave it the identity, but the radio kept its own.
        let (config, s) = laptop("iwlwifi0", FACTORY, EM);
        assert_eq!(actions(&config, &s, &[]), [RECREATE]);
        let (config, s) = laptop("iwlwifi0", EM, EM);
        assert!(actions(&config, &s, &["wlan0"]).is_empty());
    }

    /// Issue 19.1: a native driver's vap gets the address while down; if
    /// runs then see it without a link for the grace, its radio is taken
    /// to have refused it, and it is re-created, once.
    #[test]
    fn issue19_a_native_vap_that_did_not_take_its_address_is_recreated_after_the_grace() {
        let (config, carried) = laptop("iwn0", FACTORY, EM);
        assert!(actions(&config, &carried, &["wlan0"]).is_empty(), "em0 carries: not needed");
        // The cable out: lagg0 offline, the WiFi needed.
        let mut s = carried;
        if let Some(em0) = s.interfaces.get_mut(&n("em0")) {
            em0.link = LinkState::Down;
        }
        if let Some(l) = s.laggs.get_mut(&n("lagg0")) {
            l.ports[0].flags.active = false;
        }
        assert!(actions(&config, &s, &[]).is_empty(), "associating, for all we know");
        let got = actions(&config, &s, &["wlan0"]);
        assert_eq!(got, [RECREATE.replace("iwlwifi0", "iwn0")]);
        let mut linked = s.clone();
        if let Some(w) = linked.interfaces.get_mut(&n("wlan0")) {
            w.link = LinkState::Up;
        }
        assert!(actions(&config, &linked, &["wlan0"]).is_empty(), "it associated");
        // A stale wpa_supplicant is refreshed first, not re-created.
        let mut stale = s.clone();
        stale.wpa.insert(n("wlan0"), WpaAddress::Known(FACTORY));
        assert!(!actions(&config, &stale, &["wlan0"]).iter().any(|a| a.contains("destroy")));
        // A silent one counts only after a refresh at this address.
        let mut silent = s.clone();
        silent.wpa.insert(n("wlan0"), WpaAddress::Unknown);
        let refreshed = WpaRefreshes::from([(
            n("wlan0"),
            WpaRefresh { mac: EM, restarted: false, this_run: false, readdressed: true },
        )]);
        let waited = [n("wlan0")].into_iter().collect();
        let p =
            plan_with(&config, &silent, &RememberedMacs::new(), &refreshed, &waited, &Scope::All);
        assert!(p.actions.iter().any(|a| matches!(a, Action::RecreateVap { .. })), "{p}");
    }
}
