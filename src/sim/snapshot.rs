//! A simulated kernel rebuilt from one observation ([`Snapshot`]): the
//! predictor `-n` applies a plan to, so that it can show the rounds after
//! the first. What it owns: turning what lagghook observed into a
//! [`Machine`]. What it does not own: the rules that then decide what each
//! request does (the rest of the simulator), or the planning.
//!
//! A snapshot does not show everything a machine file describes. What is
//! missing is filled in with the guess that changes the least, and named
//! here so `-n` can say its later rounds are predictions:
//! - a lagg port's saved address (`lp_lladdr`, what lagg gives it back when
//!   it leaves, and the lagg's next MAC when the primary leaves) is not
//!   reported by `SIOCGLAGG`: taken to be the port's hardware address, or
//!   its current one when it has none;
//! - the primary of a lagg in another protocol than failover is not
//!   reported either (`lagg_port2req` flags `LAGG_PORT_MASTER` only in
//!   failover): taken to be the port at the head of the list;
//! - a vap's on-air address (`iv_myaddr`) is taken to be its current
//!   address;
//! - a wpa_supplicant that cannot say its address (no control socket) is
//!   taken to use the vap's current address, and keeps not saying it;
//! - the medium (cable in, AP in reach) is known only where the link is
//!   up: an interface without link is taken to have none, so a port the
//!   plan brings up or re-initialises stays without link in the following
//!   rounds, as a real run's next observation, milliseconds later, finds it
//!   (an autonegotiation or association takes seconds);
//! - drivers' limits (`max_mtu`), `kern.securelevel` and `if_lagg.ko` are
//!   unknown: no limit, and if_lagg loadable;
//! - radios without a vap are unknown (no plan creates a vap).

use std::collections::BTreeMap;

use super::file::{Machine, MachineInterface, WpaMac};
use super::{SimError, SimKernel};
use crate::domain::model::{IfKind, IfName, LinkState, Snapshot, WpaAddress};

impl SimKernel {
    /// The kernel `snapshot` shows, as far as it shows it (see the module
    /// documentation for the guesses). Fails when the snapshot describes
    /// something the simulator cannot build, such as a lagg whose ports
    /// the simulated `lagg_port_create` refuses.
    pub fn from_snapshot(snapshot: &Snapshot) -> Result<SimKernel, SimError> {
        SimKernel::from_machine(&machine_of(snapshot))
    }
}

/// The machine description of `snapshot`: every interface with its
/// observed index, address, flags and MTU; ports before their laggs, each
/// lagg replaying its ports primary first.
fn machine_of(snapshot: &Snapshot) -> Machine {
    let mut ifaces: Vec<_> = snapshot.interfaces.values().collect();
    ifaces.sort_by_key(|i| (i.kind == IfKind::Lagg, i.index));
    let mut interface = Vec::new();
    for iface in ifaces {
        let mut mi = MachineInterface::new(iface.name.clone(), iface.kind);
        mi.index = Some(iface.index);
        mi.up = iface.up;
        mi.mtu = Some(iface.mtu);
        mi.lladdr = Some(iface.mac);
        mi.hwaddr = iface.hwaddr;
        // A link that is up proves the medium; one that is not proves
        // nothing, and the guess is no medium (module doc).
        mi.link = iface.kind != IfKind::Lagg && iface.link == LinkState::Up;
        match iface.kind {
            IfKind::Ether | IfKind::Vlan | IfKind::Other => {
                mi.mac = Some(iface.hwaddr.unwrap_or(iface.mac));
                if let Some(caps) = iface.caps {
                    mi.capabilities = Some(caps.supported);
                    mi.capenable = Some(caps.enabled & caps.supported);
                } else {
                    mi.capabilities = Some(0);
                }
            }
            IfKind::Wlan => {
                mi.parent = iface.parent.clone();
                // The creation address (`wlanaddr`, or the radio's own) is
                // what SIOCGHWADDR reports for a vap.
                mi.mac = Some(iface.hwaddr.unwrap_or(iface.mac));
                mi.air_mac = Some(iface.mac);
                match snapshot.wpa.get(&iface.name) {
                    Some(WpaAddress::Known(mac)) => mi.wpa_mac = Some(WpaMac::Read(*mac)),
                    Some(WpaAddress::NotRunning) => mi.wpa_mac = Some(WpaMac::NotRunning),
                    Some(WpaAddress::Unknown) => {
                        mi.wpa_mac = Some(WpaMac::Read(iface.mac));
                        mi.wpa_ctrl = Some(false);
                    }
                    // Not asked (not a configured port): its address.
                    None => mi.wpa_mac = Some(WpaMac::Read(iface.mac)),
                }
            }
            IfKind::Lagg => {
                mi.hwaddr = None;
                let status = snapshot.laggs.get(&iface.name);
                if let Some(status) = status {
                    mi.proto = Some(status.proto.to_string());
                    let primary = status.primary().cloned();
                    let mut ports: Vec<IfName> = primary.iter().cloned().collect();
                    ports.extend(
                        status
                            .ports
                            .iter()
                            .map(|p| &p.name)
                            .filter(|p| Some(*p) != primary.as_ref())
                            .cloned(),
                    );
                    let saved: BTreeMap<IfName, _> = ports
                        .iter()
                        .filter_map(|p| snapshot.interface(p))
                        .map(|p| (p.name.clone(), p.hwaddr.unwrap_or(p.mac)))
                        .collect();
                    if ports.is_empty() {
                        mi.link_state = Some(link_state_name(iface.link).to_owned());
                    }
                    mi.primary = primary;
                    mi.ports = Some(ports);
                    mi.saved_mac = Some(saved);
                } else {
                    mi.link_state = Some(link_state_name(iface.link).to_owned());
                }
            }
        }
        interface.push(mi);
    }
    Machine {
        if_lagg: Some(snapshot.failover_rx_all.is_some()),
        failover_rx_all: snapshot.failover_rx_all.map(u32::from),
        interface,
        ..Machine::default()
    }
}

fn link_state_name(link: LinkState) -> &'static str {
    match link {
        LinkState::Unknown => "unknown",
        LinkState::Down => "down",
        LinkState::Up => "up",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::Config;
    use crate::kernel::Kernel;
    use crate::sim::fixture::laptop;

    fn observe(k: &mut SimKernel) -> Snapshot {
        let config =
            Config::parse("[lagg0]\nports = [\"em0\", \"wlan0\"]\n", "x.toml".as_ref()).unwrap();
        crate::run::observe(k, &config).unwrap()
    }

    /// Proves a settled laptop, observed and rebuilt, is observed again
    /// exactly as it was: the predictor starts from what the run saw.
    #[test]
    fn a_rebuilt_laptop_looks_the_same() {
        let mut k = laptop();
        let seen = observe(&mut k);
        let mut again = SimKernel::from_snapshot(&seen).unwrap();
        assert_eq!(observe(&mut again), seen, "\n{}", again.render());
        assert_eq!(again.writes(), 0);
    }

    /// Proves the predictor answers requests as the simulator does: taking
    /// wlan0 out of the rebuilt lagg0 is seen in the next observation, and
    /// the machine it came from is untouched.
    #[test]
    fn the_rebuilt_kernel_takes_requests() {
        let mut k = laptop();
        let seen = observe(&mut k);
        let mut again = SimKernel::from_snapshot(&seen).unwrap();
        let lagg0 = IfName::new("lagg0").unwrap();
        again.remove_lagg_port(&lagg0, &IfName::new("wlan0").unwrap()).unwrap();
        assert_eq!(again.lagg_status(&lagg0).unwrap().ports.len(), 1);
        assert_eq!(k.lagg_status(&lagg0).unwrap().ports.len(), 2);
    }
}
