//! The connectivity oracle: can traffic flow through a lagg right now, and
//! could it? What the user of a laptop feels, as opposed to what the
//! planner thinks: a TCP session survives when frames keep moving with the
//! lagg's address, whatever `SIOCGLAGG` says. Reading only; the rules that
//! change the state live in [`super::ifnet`], [`super::if_lagg`] and
//! [`super::net80211`].
//!
//! Traffic flows through a lagg when the port lagg sends on (failover:
//! `lagg_link_active(sc, sc_primary)`, [`SimKernel::lagg`]'s ACTIVE flag)
//! has its link up and IFF_UP (`LAGG_PORTACTIVE`), and, for a vap, the
//! station speaks with the lagg's address: on a WPA network
//! wpa_supplicant's own address, the vap's on-air address (`iv_myaddr`)
//! and the lagg's MAC are one address (the AP drops frames from a source
//! that did not associate; the 4-way handshake runs with
//! wpa_supplicant's address); on an open network `iv_myaddr` is the
//! lagg's MAC. Either way the radio itself must use that address too: a
//! radio that kept its creation address (its class, [`super::net80211`])
//! carries nothing under the lagg's, whatever `ifconfig` shows.
//! An Ethernet port receives only what is sent to its own
//! address: `if_setlladdr` re-initialises an UP interface "in order to
//! reprogram its address filter" (`sys/net/if.c`, `gmshake/freebsd-src` @
//! 1cd38e218689d442d8810e283800302b9e5ad1e1), so a port whose address was
//! changed away from the lagg's (by hand, by another tool) drops every
//! unicast frame for the lagg, while lagg goes on sending through it: it
//! does not push its address again while it runs (`lagg_init` does that
//! only when the lagg starts running, and lagg registers no
//! `iflladdr_event` handler for its ports; `sys/net/if_lagg.c`,
//! `gmshake/freebsd-src` @ 1e26f0025cf0271681edc407d803bb7f68404361).
//! Promiscuous ports are not modelled. A vlan port is left out of that
//! rule: what it receives is filtered by its parent's address.

use crate::domain::model::{IfKind, IfName, MacAddr};

use super::SimKernel;

impl SimKernel {
    /// Whether traffic flows through `lagg` now (see the module doc).
    pub fn traffic_flows(&self, lagg: &str) -> bool {
        let Some(status) = self.lagg(lagg) else {
            return false;
        };
        // A lagg that is not running drops what its ports receive
        // (`lagg_input_ethernet`) and sends nothing.
        if !self.ifnets.values().any(|i| i.name.as_str() == lagg && i.up) {
            return false;
        }
        let Some(mac) = self.lagg_mac(lagg) else {
            return false;
        };
        let Some(port) = status.active() else {
            return false;
        };
        let Some(ifn) = self.ifnets.get(port) else {
            return false;
        };
        match &ifn.vap {
            None if ifn.kind == IfKind::Ether => ifn.lladdr == mac,
            None => true,
            Some(vap) if vap.radio != mac => false,
            Some(vap) if vap.open => vap.air == mac,
            Some(vap) => vap.air == mac && vap.wpa == Some(mac),
        }
    }

    /// Whether `port` could carry traffic if lagg used it: an Ethernet NIC
    /// (or vlan) with its cable in, a vap that exists with its AP in reach.
    /// Whether it is up, a member or correctly addressed is lagghook's
    /// business, not the world's.
    pub fn could_carry(&self, port: &IfName) -> bool {
        self.ifnets.get(port).is_some_and(|i| {
            matches!(i.kind, IfKind::Ether | IfKind::Vlan | IfKind::Wlan) && i.medium
        })
    }

    /// The lagg's current MAC, `None` if there is no such lagg.
    pub fn lagg_mac(&self, lagg: &str) -> Option<MacAddr> {
        self.ifnets.values().find(|i| i.name.as_str() == lagg && i.lagg.is_some()).map(|i| i.lladdr)
    }

    /// Notes every lagg whose MAC differs from the last one noted for it,
    /// so a change that is undone within one instant still counts
    /// ([`SimKernel::take_lagg_macs`]).
    pub(super) fn note_lagg_macs(&mut self) {
        for ifn in self.ifnets.values().filter(|i| i.lagg.is_some()) {
            if self.lagg_mac_last.get(&ifn.name) != Some(&ifn.lladdr) {
                self.lagg_mac_last.insert(ifn.name.clone(), ifn.lladdr);
                self.lagg_macs.push((ifn.name.clone(), ifn.lladdr));
            }
        }
    }

    /// Every address a lagg took since the last take, in order, noted
    /// after each kernel request, happening and link change.
    pub fn take_lagg_macs(&mut self) -> Vec<(IfName, MacAddr)> {
        std::mem::take(&mut self.lagg_macs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use crate::sim::fixture::{laptop, mac, n, W};

    #[test]
    fn converged_laptop_flows_on_the_cable_then_on_wifi() {
        let mut k = laptop();
        assert!(k.traffic_flows("lagg0"));
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        assert!(k.traffic_flows("lagg0"), "failover to wlan0 is immediate");
        assert!(!k.could_carry(&n("em0")));
        assert!(k.could_carry(&n("wlan0")));
    }

    #[test]
    fn a_vap_whose_air_address_is_not_the_laggs_carries_nothing() {
        let mut k = laptop();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        // A new address while UP: iv_myaddr and wpa_supplicant keep the
        // old one (`wlan_iflladdr`), the lagg has the new one.
        k.set_lladdr(&n("lagg0"), mac(W)).unwrap();
        k.settle();
        assert_ne!(k.air_mac("wlan0"), Some(mac(W)));
        assert!(!k.traffic_flows("lagg0"));
    }

    /// Issue 19.3: a member NIC given another address by hand receives
    /// nothing for the lagg, though SIOCGLAGG still calls it active.
    #[test]
    fn an_ethernet_port_with_another_address_than_the_laggs_carries_nothing() {
        let mut k = laptop();
        k.happen(&"ether em0 02:00:00:00:00:01".parse().unwrap()).unwrap();
        k.settle();
        assert_eq!(k.lagg("lagg0").unwrap().active(), Some(&n("em0")));
        assert!(!k.traffic_flows("lagg0"));
        // lagghook's repair: the lagg's address back on the port.
        k.set_lladdr(&n("em0"), k.lagg_mac("lagg0").unwrap()).unwrap();
        assert!(k.traffic_flows("lagg0"), "wlan0 carries while em0 negotiates");
        k.settle();
        assert_eq!(k.lagg("lagg0").unwrap().active(), Some(&n("em0")));
        assert!(k.traffic_flows("lagg0"));
    }

    #[test]
    fn a_lagg_mac_change_undone_at_once_is_still_noted() {
        let mut k = laptop();
        k.take_lagg_macs();
        let old = k.lagg_mac("lagg0").unwrap();
        k.set_lladdr(&n("lagg0"), mac(W)).unwrap();
        k.set_lladdr(&n("lagg0"), old).unwrap();
        let seen: Vec<MacAddr> = k.take_lagg_macs().into_iter().map(|(_, m)| m).collect();
        assert_eq!(seen, [mac(W), old]);
        assert!(k.take_lagg_macs().is_empty());
    }
}
