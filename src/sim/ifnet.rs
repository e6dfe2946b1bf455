//! The generic ifnet layer, `sys/net/if.c`: one [`Ifnet`] per interface,
//! `if_index` allocation, the link-level address and the `if_setlladdr`
//! bounce, IFF_UP, attach and detach, link state changes and the devd
//! `IFNET` events they emit. Which driver an ifnet has decides the rest:
//! Ethernet NICs are modelled here, vaps in [`super::net80211`], laggs in
//! [`super::if_lagg`]; this file calls into them where `if.c` calls a
//! driver's `if_ioctl` or an event handler.
//!
//! Models `sys/net/if.c` as read in `gmshake/freebsd-src` (see the module
//! doc of [`super`] for the commit): `ifindex_alloc`/`if_alloc_domain`,
//! `if_attach_internal`, `if_detach_internal`, `do_link_state_change`,
//! `ifhwioctl` (SIOCSIFFLAGS, SIOCSIFLLADDR), `if_setlladdr`.

use std::collections::BTreeSet;

use crate::abi::{self, ETHERMTU};
use crate::domain::event::{DevdEvent, IfnetEventKind};
use crate::domain::model::{Caps, IfKind, IfName, Interface, LinkState, MacAddr};
use crate::kernel::Errno;

/// `IF_MINMTU` and `IF_MAXMTU` (`sys/net/if_var.h`, kernel-only, so not in
/// the userland headers the ABI check reads): the MTUs `ifhwioctl`'s
/// SIOCSIFMTU passes on to a driver at all.
pub const IF_MINMTU: u32 = 72;
pub const IF_MAXMTU: u32 = 65_535;

/// What the simulator's Ethernet NICs offload, supported and enabled at
/// attach: the checksum, TSO, LRO and VLAN bits of an em(4) (iflib) NIC.
pub(super) const ETHER_CAPS: u32 = abi::IFCAP_RXCSUM
    | abi::IFCAP_TXCSUM
    | abi::IFCAP_VLAN_MTU
    | abi::IFCAP_VLAN_HWTAGGING
    | abi::IFCAP_TSO4
    | abi::IFCAP_LRO
    | abi::IFCAP_RXCSUM_IPV6
    | abi::IFCAP_TXCSUM_IPV6;

use super::if_lagg::Lagg;
use super::net80211::Vap;
use super::pseudo::Pseudo;
use super::SimKernel;

/// What a pending timer does when it fires (ties: links first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Link,
    Deauth,
}

/// One `struct ifnet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ifnet {
    pub(super) name: IfName,
    pub(super) index: u32,
    pub(super) kind: IfKind,
    /// `IF_LLADDR`.
    pub(super) lladdr: MacAddr,
    /// `if_hw_addr` (`SIOCGHWADDR`); `None` for non-Ethernet types (ENODEV).
    pub(super) hwaddr: Option<MacAddr>,
    /// `IFF_UP` (`IFF_DRV_RUNNING` is taken to follow it).
    pub(super) up: bool,
    /// The physical medium: cable in (ether), AP in reach (wlan).
    pub(super) medium: bool,
    /// `if_link_state`, as last reported.
    pub(super) link: LinkState,
    pub(super) mtu: u32,
    /// The largest MTU the driver's SIOCSIFMTU accepts; `None`: any the
    /// kind allows. iflib drivers refuse more than their frame size
    /// allows with EINVAL (`iflib_if_ioctl`), a vlan more than its
    /// parent's MTU (`vlan_ioctl`).
    pub(super) max_mtu: Option<u32>,
    /// `if_capabilities`: what the driver can offload.
    pub(super) capabilities: u32,
    /// `if_capenable`: what is enabled (a lagg's is derived from its
    /// ports', [`SimKernel::lagg_caps`]).
    pub(super) caps: u32,
    pub(super) vap: Option<Vap>,
    pub(super) lagg: Option<Lagg>,
    /// When the driver will report LINK_UP (simulated ms): the end of the
    /// autonegotiation or association that began when the interface
    /// became able to carry ([`SimKernel::refresh_link`]); `None` when
    /// nothing is under way.
    pub(super) link_due: Option<u64>,
    /// The machine file's `autoneg`/`assoc` for this interface, in ms;
    /// `None`: the kind's default ([`default_link_delay`]).
    pub(super) link_delay: Option<u64>,
    /// A pseudo driver's own rules (tap(4), epair(4): [`super::pseudo`]);
    /// `None` for a NIC and every other kind.
    pub(super) pseudo: Option<Pseudo>,
}

/// How long an Ethernet NIC takes from being (re)initialised with its
/// cable in to LINK_UP: 802.3 autonegotiation, typically 1 to 3 s on an
/// em(4) (the figure issue 7 fixes for the simulator).
pub const AUTONEG_MS: u64 = 2_500;
/// How long a vap takes from being (re)started with its AP in reach to
/// LINK_UP: scan, authentication, association and, on a WPA network, the
/// 4-way handshake (`ieee80211_notify_node_join` reports LINK_UP at RUN).
pub const ASSOC_MS: u64 = 2_000;

/// The delay of a kind whose machine entry does not override it. A lagg
/// has none (its link is its ports', `lagg_linkstate`), nor has a pseudo
/// interface (`other`), whose driver reports at once.
pub(super) fn default_link_delay(kind: IfKind) -> u64 {
    match kind {
        IfKind::Ether | IfKind::Vlan => AUTONEG_MS,
        IfKind::Wlan => ASSOC_MS,
        IfKind::Lagg | IfKind::Other => 0,
    }
}

impl SimKernel {
    /// The interface as [`Kernel::interfaces`] would report it.
    pub fn interface(&self, name: &str) -> Option<Interface> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == name)?;
        Some(self.report(ifn))
    }

    /// What devd's `media-type` sees (`media::do_match` in devd.cc, via
    /// SIOCGIFMEDIA): "ethernet" for NICs and laggs (`lagg_media_status`
    /// reports IFM_ETHER), "802.11" for vaps (`ieee80211_media_status`),
    /// `None` for an absent interface or one without media.
    pub fn media_type(&self, name: &str) -> Option<&'static str> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == name)?;
        match ifn.kind {
            // A vlan reports its parent's media (`vlan_media_status`).
            IfKind::Ether | IfKind::Vlan | IfKind::Lagg => Some("ethernet"),
            IfKind::Wlan => Some("802.11"),
            IfKind::Other => None,
        }
    }

    /// Every ifnet in `if_index` order, as getifaddrs(3) lists them.
    pub(super) fn by_index(&self) -> Vec<&Ifnet> {
        let mut v: Vec<&Ifnet> = self.ifnets.values().collect();
        v.sort_by_key(|i| i.index);
        v
    }

    /// What getifaddrs(3), `SIOCGHWADDR` and `net.wlan.N.%parent` report
    /// for `ifn` (`Kernel::interfaces`).
    pub(super) fn report(&self, ifn: &Ifnet) -> Interface {
        Interface {
            name: ifn.name.clone(),
            index: ifn.index,
            kind: ifn.kind,
            mac: ifn.lladdr,
            hwaddr: ifn.hwaddr,
            up: ifn.up,
            link: ifn.link,
            mtu: ifn.mtu,
            parent: ifn.vap.as_ref().map(|v| v.parent.clone()),
            caps: Some(match ifn.lagg {
                Some(_) => self.lagg_caps(ifn),
                None => Caps { supported: ifn.capabilities, enabled: ifn.caps },
            }),
        }
    }

    /// The lowest free `if_index` (`ifindex_alloc` in `if_alloc_domain`,
    /// `sys/net/if.c`), so a re-created interface usually gets its old
    /// index back.
    pub(super) fn lowest_free_index(&self) -> u32 {
        let used: BTreeSet<u32> = self.ifnets.values().map(|i| i.index).collect();
        let mut idx = 1;
        while used.contains(&idx) {
            idx += 1;
        }
        idx
    }

    /// `devctl_notify("IFNET", ifname, type)`; silent while a machine is
    /// being built.
    pub(super) fn emit(&mut self, name: &IfName, kind: IfnetEventKind) {
        if self.emitting {
            self.events.push(DevdEvent::ifnet(name, kind));
        }
    }

    /// `if_attach_internal`: the ifnet appears, `IFNET IF ATTACH`.
    pub(super) fn attach(&mut self, ifn: Ifnet) {
        self.attach_as(None, ifn);
    }

    /// [`SimKernel::attach`] of an ifnet that is attached as `first` and
    /// at once renamed to its name: `IFNET first ATTACH`, then the rename's
    /// `IFNET first RENAME name=NAME`. Read in gmshake/freebsd-src @
    /// 1cd38e218689d442d8810e283800302b9e5ad1e1, `sys/net/if.c`,
    /// `ifhwioctl` case SIOCSIFNAME: `devctl_notify("IFNET", old_name,
    /// "RENAME", "name=" new_name)`, the event named after the old name.
    pub(super) fn attach_as(&mut self, first: Option<&IfName>, ifn: Ifnet) {
        let name = ifn.name.clone();
        self.ifnets.insert(name.clone(), ifn);
        match first {
            None => self.emit(&name, IfnetEventKind::Attach),
            Some(old) => {
                self.emit(old, IfnetEventKind::Attach);
                if self.emitting {
                    let mut ev = DevdEvent::ifnet(old, IfnetEventKind::Rename);
                    ev.data.push(("name".to_owned(), name.to_string()));
                    self.events.push(ev);
                }
            }
        }
    }

    /// `ether_ifattach` of a new Ethernet NIC (a USB NIC plugged): its
    /// address is both IF_LLADDR and the hwaddr, its MTU ETHERMTU. Not UP:
    /// pccard_ether/rc would configure it; lagghook brings ports up itself.
    pub(super) fn ether_attach(&mut self, name: &IfName, mac: MacAddr) {
        self.attach(Ifnet {
            name: name.clone(),
            index: self.lowest_free_index(),
            kind: IfKind::Ether,
            lladdr: mac,
            hwaddr: Some(mac),
            up: false,
            medium: true,
            // `if_alloc`: no driver report yet.
            link: LinkState::Unknown,
            mtu: ETHERMTU,
            vap: None,
            max_mtu: None,
            capabilities: ETHER_CAPS,
            caps: ETHER_CAPS,
            lagg: None,
            link_due: None,
            link_delay: None,
            pseudo: None,
        });
    }

    /// Whether the driver can bring its link up: Ether: a running
    /// interface with its cable in. wlan: net80211 reaches RUN (and
    /// `ieee80211_notify_node_join` reports LINK_UP) with a running vap,
    /// an AP in reach and a station that can join ([`Vap::can_join`]);
    /// whether the join holds is [`super::station`]'s business. It takes
    /// `link_delay` from the moment this becomes true to get there.
    pub(super) fn carrier_ready(ifn: &Ifnet) -> bool {
        if let Some(p) = &ifn.pseudo {
            return p.carrier(ifn);
        }
        match ifn.kind {
            IfKind::Ether | IfKind::Vlan | IfKind::Other => ifn.up && ifn.medium,
            IfKind::Wlan => {
                ifn.up && ifn.medium && ifn.vap.as_ref().is_some_and(|v| v.can_join(ifn.lladdr))
            }
            IfKind::Lagg => false,
        }
    }

    /// `if_link_state_change` → `do_link_state_change`: record, tell the
    /// lagg first (`lagg_linkstate_p`), devctl `LINK_UP`/`LINK_DOWN`.
    pub(super) fn set_link(&mut self, name: &IfName, new: LinkState) {
        let Some(ifn) = self.ifnets.get_mut(name) else {
            return;
        };
        if ifn.link == new {
            return;
        }
        ifn.link = new;
        if new != LinkState::Up {
            // A station that left RUN has no handshake left to fail.
            if let Some(v) = ifn.vap.as_mut() {
                v.deauth_due = None;
            }
        }
        match new {
            LinkState::Up => self.emit(name, IfnetEventKind::LinkUp),
            LinkState::Down => self.emit(name, IfnetEventKind::LinkDown),
            LinkState::Unknown => {}
        }
        if let Some(lagg) = self.lagg_of(name) {
            self.lagg_linkstate(&lagg);
        }
        self.net_link_changed(name, new);
    }

    /// The driver re-evaluating its link after one of its inputs changed
    /// (medium, IFF_UP, the vap's handshake). Losing the ability to carry
    /// is reported at once (`if_link_state_change`, LINK_DOWN); gaining it
    /// starts an autonegotiation or association that reports LINK_UP
    /// `link_delay` later ([`SimKernel::advance`]), unless the interface
    /// loses it again first. A lagg follows its ports at once
    /// (`lagg_linkstate`).
    ///
    /// A new ifnet starts at `if_alloc`'s LINK_STATE_UNKNOWN, and the model
    /// takes a driver's first report to be a LINK_UP: UNKNOWN → down is
    /// silent. That follows net80211, which reports LINK_DOWN when a
    /// station leaves RUN (`ieee80211_notify_node_leave`); for iflib NICs
    /// (a LINK_DOWN only after a LINK_UP, em's `link_active`) it is
    /// recalled, not read in a 14.x tree.
    pub(super) fn refresh_link(&mut self, name: &IfName) {
        let now = self.now;
        let Some(ifn) = self.ifnets.get_mut(name) else {
            return;
        };
        if ifn.kind == IfKind::Lagg {
            self.lagg_linkstate(name);
            return;
        }
        let ready = SimKernel::carrier_ready(ifn);
        let coming = ifn.link == LinkState::Up || ifn.link_due.is_some();
        match (coming, ready) {
            (false, true) => {
                let delay = ifn.link_delay.unwrap_or_else(|| default_link_delay(ifn.kind));
                ifn.link_due = Some(now + delay);
                if delay == 0 {
                    self.link_timer(name);
                }
            }
            (true, false) => {
                ifn.link_due = None;
                if ifn.link == LinkState::Up {
                    self.set_link(name, LinkState::Down);
                }
            }
            _ => {}
        }
    }

    /// The driver starting over on a link it had or was getting (a
    /// wpa_supplicant restart deauthenticates; a NIC reset renegotiates):
    /// down at once, up again `link_delay` later if it still can.
    pub(super) fn restart_link(&mut self, name: &IfName) {
        if let Some(ifn) = self.ifnets.get_mut(name) {
            ifn.link_due = None;
            if ifn.link == LinkState::Up {
                self.set_link(name, LinkState::Down);
            }
        }
        self.refresh_link(name);
    }

    /// An autonegotiation or association completing: the driver reports
    /// LINK_UP (`if_link_state_change`).
    fn link_timer(&mut self, name: &IfName) {
        let Some(ifn) = self.ifnets.get_mut(name) else {
            return;
        };
        ifn.link_due = None;
        if SimKernel::carrier_ready(ifn) {
            self.set_link(name, LinkState::Up);
            if self.ifnets.get(name).is_some_and(|i| i.kind == IfKind::Wlan) {
                self.station_joined(name);
            }
            self.note_lagg_macs();
        }
    }

    /// Every timer pending (simulated ms): a link coming up (`link_due`),
    /// an AP deauthenticating a station ([`super::station`]).
    fn timers(&self) -> impl Iterator<Item = (u64, u32, Timer, &IfName)> {
        self.ifnets.values().flat_map(|i| {
            let link = i.link_due.map(|d| (d, i.index, Timer::Link, &i.name));
            let deauth = i.vap.as_ref().and_then(|v| v.deauth_due);
            link.into_iter().chain(deauth.map(|d| (d, i.index, Timer::Deauth, &i.name)))
        })
    }

    /// When the next pending timer fires (simulated ms), if any, a
    /// layer-3 timer that is not periodic included: a world with only
    /// periodic timers pending (lease renewals, router advertisements) is
    /// settled.
    pub fn next_due(&self) -> Option<u64> {
        self.timers().map(|(d, ..)| d).chain(self.net.next_due()).min()
    }

    /// Simulated time, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Runs the clock forward to `to` (never back): every pending link that
    /// comes up by then does, in time order (ties in if_index order), each
    /// at its own time, with its devd events.
    pub fn advance(&mut self, to: u64) {
        loop {
            let next = self
                .timers()
                .filter(|(d, ..)| *d <= to)
                .min()
                .map(|(d, _, timer, name)| (d, timer, name.clone()));
            // Layer-3 timers due first run first; a link due at the same
            // instant comes before them.
            let net = self.net.next_at(to).filter(|&at| next.as_ref().is_none_or(|n| at < n.0));
            if let Some(at) = net {
                self.now = self.now.max(at);
                self.net_fire(at);
                continue;
            }
            let Some((due, timer, name)) = next else { break };
            self.now = self.now.max(due);
            match timer {
                Timer::Link => self.link_timer(&name),
                Timer::Deauth => self.ap_deauth(&name),
            }
        }
        self.now = self.now.max(to);
    }

    /// Runs the clock until nothing is pending: every link that can come
    /// up has. A station that cannot finish its handshake would retry for
    /// ever; it is left between two tries ([`super::station`]).
    pub fn settle(&mut self) {
        while let Some(due) = self.next_settling_due() {
            self.advance(due);
        }
        self.quiesce_flapping();
    }

    /// The driver's media status changed (cable in or out, AP in or out of
    /// reach); the driver then calls `if_link_state_change`.
    pub(super) fn set_medium(&mut self, name: &IfName, medium: bool) {
        if let Some(ifn) = self.ifnets.get_mut(name) {
            ifn.medium = medium;
        }
        self.refresh_link(name);
    }

    /// SIOCSIFFLAGS reaching the driver with IFF_UP set or cleared
    /// (`ifhwioctl`, and the down/up pair inside `if_setlladdr`).
    pub(super) fn if_setflags(&mut self, name: &IfName, up: bool) {
        let Some(ifn) = self.ifnets.get(name) else {
            return;
        };
        if ifn.up == up {
            // Same flags: `lagg_ioctl` finds IFF_DRV_RUNNING already set,
            // `ieee80211_ioctl` finds the vap not in INIT: nothing happens.
            return;
        }
        let kind = ifn.kind;
        if !up && kind == IfKind::Wlan {
            self.ieee80211_stop(name);
        }
        if let Some(ifn) = self.ifnets.get_mut(name) {
            ifn.up = up;
        }
        self.net_flags_changed(name, up);
        if kind == IfKind::Lagg {
            // `lagg_ioctl` SIOCSIFFLAGS: lagg_init when going up (pushes
            // the lagg MAC), lagg_stop when going down. The lagg's own link
            // does not depend on IFF_UP (`lagg_linkstate`).
            if up {
                self.lagg_init(name);
            }
        } else {
            self.refresh_link(name);
        }
    }

    /// `if_setlladdr` (`sys/net/if.c`): sets IF_LLADDR; if the interface is
    /// UP, drives it down and up again (the "bounce": link drops and
    /// returns, no same-address shortcut), then fires `iflladdr_event`,
    /// whose net80211 handler is [`SimKernel::wlan_iflladdr`].
    ///
    /// The bounce calls the driver's `if_ioctl` directly, without `if_down`
    /// / `if_up`, so `if.c` itself sends no RTM_IFINFO. For a vap that is
    /// not the whole story: `ieee80211_ioctl` stops and starts it, and
    /// `ieee80211_stop_locked` / `ieee80211_start_locked` clear and set
    /// IFF_DRV_RUNNING and call `ieee80211_notify_ifnet_change` (→
    /// `rt_ifmsg`): RTM_IFINFO with IFF_UP and IFF_DRV_RUNNING cleared,
    /// then set (read in `sobomax/freebsd14_vendor` @
    /// 0f7ff3427c99afe8b7a0ccf8638dc10aed02c3f8, a 13.x tree, and in
    /// `fel1x-developer/freebsd-src` @ 2d614aa2…, main after 14.0,
    /// `sys/net80211/ieee80211_proto.c`). A running wpa_supplicant hears
    /// that as interface disabled, then enabled, and reads the address
    /// again ([`SimKernel::wpa_supplicant_enabled`]). Issue 7 assumed it
    /// does not; the sources say otherwise, and the simulator follows them.
    pub(super) fn if_setlladdr(&mut self, name: &IfName, mac: MacAddr) {
        let Some(ifn) = self.ifnets.get_mut(name) else {
            return;
        };
        ifn.lladdr = mac;
        let bounced = ifn.up;
        if bounced {
            self.wpa_supplicant_disabled(name);
            self.if_setflags(name, false);
            self.if_setflags(name, true);
        }
        self.wlan_iflladdr(name);
        if bounced {
            self.wpa_supplicant_enabled(name);
        }
    }

    /// `if_detach_internal`: `ifnet_departure_event` first (lagg drops the
    /// port silently, `lagg_port_ifdetach`), then devctl `DETACH`. The
    /// link changes the departure causes (the lagg's own, through
    /// `lagg_linkstate`) go through `if_link_state_change`, which only
    /// queues `do_link_state_change` on the `if_linktask` taskqueue, so
    /// devd reads them after the DETACH, which `devctl_notify` sends at
    /// once.
    ///
    /// A vap is detached by `ieee80211_vap_detach`: `ether_ifdetach` (this
    /// function, DETACH) first, then `ieee80211_stop`, whose LINK_DOWN of
    /// an associated station (`ieee80211_notify_node_leave`) is delivered
    /// when the function drains the vap's `if_linktask`: after the DETACH
    /// (`sys/net80211/ieee80211.c`).
    pub(super) fn if_detach(&mut self, name: &IfName) {
        self.remember_vap(name);
        let start = self.events.len();
        if let Some(lagg) = self.lagg_of(name) {
            self.lagg_port_destroy(&lagg, name, true, false);
        }
        let queued = self.events.split_off(start.min(self.events.len()));
        let gone = self.ifnets.remove(name);
        self.net_detached(name);
        self.emit(name, IfnetEventKind::Detach);
        self.events.extend(queued);
        if gone.is_some_and(|i| i.kind == IfKind::Wlan && i.link == LinkState::Up) {
            self.emit(name, IfnetEventKind::LinkDown);
        }
    }

    /// SIOCSIFLLADDR: `ifioctl` (unknown name ENXIO), then `ifhwioctl` →
    /// `if_setlladdr`, which accepts only Ethernet-like types (ENODEV).
    pub(super) fn siocsiflladdr(&mut self, name: &IfName, mac: MacAddr) -> Result<(), Errno> {
        let ifn = self.ifnets.get(name).ok_or(Errno::ENXIO)?;
        if ifn.kind == IfKind::Other {
            return Err(Errno::ENODEV);
        }
        self.if_setlladdr(name, mac);
        Ok(())
    }

    /// SIOCSIFMTU from userland (`ifconfig IF mtu N`: rc, an
    /// administrator), as `ifioctl` and `ifhwioctl` (`sys/net/if.c`,
    /// `gmshake/freebsd-src` @ 1cd38e218689d442d8810e283800302b9e5ad1e1)
    /// handle it: an unknown name is ENXIO; an MTU outside
    /// [`IF_MINMTU`]..=[`IF_MAXMTU`] EINVAL, before any driver sees it;
    /// then the interface's `if_ioctl`. For a lagg member that is
    /// `lagg_port_ioctl` (`sys/net/if_lagg.c`, `gmshake/freebsd-src` @
    /// 1e26f0025cf0271681edc407d803bb7f68404361), which refuses every
    /// SIOCSIFMTU with EINVAL ("Do not allow the MTU to be changed once
    /// joined"), even to the MTU the port has; for a lagg `lagg_ioctl`,
    /// which sets it on every port ([`SimKernel::lagg_set_mtu`]); else the
    /// driver ([`SimKernel::driver_set_mtu`]). No same-value shortcut in
    /// `ifhwioctl`: each driver has its own.
    ///
    /// Not in the call record: lagghook never sets an MTU, so this is not
    /// a [`crate::kernel::Kernel`] request; rc and the `mtu IF N`
    /// happening use it, and a harness can compare its errno with a real
    /// kernel's.
    pub fn set_mtu(&mut self, name: &IfName, mtu: u32) -> Result<(), Errno> {
        let ifn = self.ifnets.get(name).ok_or(Errno::ENXIO)?;
        if !(IF_MINMTU..=IF_MAXMTU).contains(&mtu) {
            return Err(Errno::EINVAL);
        }
        if self.lagg_of(name).is_some() {
            return Err(Errno::EINVAL);
        }
        if ifn.kind == IfKind::Lagg {
            return self.lagg_set_mtu(name, mtu);
        }
        self.driver_set_mtu(name, mtu)
    }

    /// A driver's own SIOCSIFMTU (`if_ioctl`, or a member's saved
    /// `lp_ioctl`, which `lagg_ioctl` and `lagg_port_create` call
    /// directly). net80211 accepts IEEE80211_MTU_MIN..IEEE80211_MTU_MAX
    /// (`ieee80211_ioctl`); a driver with a `max_mtu` refuses more with
    /// EINVAL, and an iflib NIC that is running is stopped and
    /// re-initialised around the change (`iflib_if_ioctl` SIOCSIFMTU:
    /// `iflib_stop`, `IFDI_MTU_SET`, `iflib_init_locked`; recalled, not
    /// re-read), modelled as the bounce `lagg_setcaps` uses; the same MTU
    /// changes nothing. Not an interface that can be a port (`other`):
    /// EINVAL.
    pub(super) fn driver_set_mtu(&mut self, name: &IfName, mtu: u32) -> Result<(), Errno> {
        let ifn = self.ifnets.get(name).ok_or(Errno::ENXIO)?;
        if ifn.mtu == mtu {
            return Ok(());
        }
        let (kind, up, max_mtu) = (ifn.kind, ifn.up, ifn.max_mtu);
        match kind {
            IfKind::Lagg => return self.lagg_set_mtu(name, mtu),
            IfKind::Wlan => {
                if !(abi::IEEE80211_MTU_MIN..=abi::IEEE80211_MTU_MAX).contains(&mtu) {
                    return Err(Errno::EINVAL);
                }
            }
            IfKind::Ether | IfKind::Vlan => {
                if max_mtu.is_some_and(|max| mtu > max) {
                    return Err(Errno::EINVAL);
                }
            }
            IfKind::Other => return Err(Errno::EINVAL),
        }
        // tap(4) and epair(4) take any MTU without a reset
        // (`tunifioctl`, `epair_ioctl` SIOCSIFMTU).
        let pseudo = self.ifnets.get(name).is_some_and(|i| i.pseudo.is_some());
        let bounce = kind == IfKind::Ether && up && !pseudo;
        if let Some(ifn) = self.ifnets.get_mut(name) {
            ifn.mtu = mtu;
        }
        if bounce {
            self.if_setflags(name, false);
            self.if_setflags(name, true);
        }
        Ok(())
    }

    /// SIOCSIFNAME (`ifconfig IF name NEW`): `ifioctl` (unknown name
    /// ENXIO), then `ifhwioctl` (`sys/net/if.c`, `gmshake/freebsd-src` @
    /// 1cd38e218689d442d8810e283800302b9e5ad1e1): the same name changes
    /// nothing, a name in use is EEXIST; the interface is marked
    /// IFF_RENAMING around its `ifnet_departure_event`, which
    /// `lagg_port_ifdetach` ignores for it, so a lagg keeps the port; then
    /// `devctl_notify("IFNET", old_name, "RENAME", "name=" new_name)`.
    pub(super) fn if_rename(&mut self, old: &IfName, new: &IfName) -> Result<(), Errno> {
        if !self.ifnets.contains_key(old) {
            return Err(Errno::ENXIO);
        }
        if old == new {
            return Ok(());
        }
        if self.ifnets.contains_key(new) {
            return Err(Errno::EEXIST);
        }
        if let Some(mut ifn) = self.ifnets.remove(old) {
            ifn.name = new.clone();
            self.ifnets.insert(new.clone(), ifn);
        }
        for sc in self.ifnets.values_mut().filter_map(|i| i.lagg.as_mut()) {
            for p in sc.ports.iter_mut().filter(|p| &p.name == old) {
                p.name = new.clone();
            }
            if sc.primary.as_ref() == Some(old) {
                sc.primary = Some(new.clone());
            }
        }
        if self.emitting {
            let mut ev = DevdEvent::ifnet(old, IfnetEventKind::Rename);
            ev.data.push(("name".to_owned(), new.to_string()));
            self.events.push(ev);
        }
        Ok(())
    }

    /// SIOCSIFFLAGS with IFF_UP set or cleared from userland: `ifioctl`
    /// (unknown name ENXIO), then `ifhwioctl` → [`SimKernel::if_setflags`]
    /// through `if_down`/`if_up`, whose `rt_ifmsg` tells the routing
    /// socket. A wpa_supplicant running for a vap hears the stop, then the
    /// start (see [`SimKernel::wpa_supplicant_enabled`]), and reads the
    /// address again.
    pub(super) fn siocsifflags(&mut self, name: &IfName, up: bool) -> Result<(), Errno> {
        let ifn = self.ifnets.get(name).ok_or(Errno::ENXIO)?;
        let (enabling, disabling) = (up && !ifn.up, !up && ifn.up);
        if disabling {
            self.wpa_supplicant_disabled(name);
        }
        self.if_setflags(name, up);
        if enabling {
            self.wpa_supplicant_enabled(name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use crate::sim::fixture::{ev, laptop, n, p, ports};
    use crate::sim::{factory_mac, Machine};

    #[test]
    fn recreated_interface_gets_lowest_free_index_and_is_not_re_added() {
        let mut k = laptop();
        k.happen(&"destroy wlan0".parse().unwrap()).unwrap();
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        // ue0 took wlan0's old slot 2; the new wlan0 gets 4.
        assert_eq!(k.interface("ue0").unwrap().index, 2);
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        k.settle();
        let w = k.interface("wlan0").unwrap();
        assert_eq!(w.index, 4);
        assert_eq!(w.mac, factory_mac(&n("iwn0")));
        assert_eq!(w.hwaddr, Some(factory_mac(&n("iwn0"))));
        assert!(!k.lagg_status(&n("lagg0")).unwrap().has_port(&n("wlan0")));
        let ue0 = k.interface("ue0").unwrap();
        assert!(!ue0.up, "attach-ether leaves the NIC down");
        // A new ifnet starts at LINK_STATE_UNKNOWN (issue 8).
        assert_eq!(ue0.link, LinkState::Unknown);
        assert_eq!(
            k.take_events(),
            vec![
                ev("wlan0", "DETACH"),
                ev("wlan0", "LINK_DOWN"),
                ev("ue0", "ATTACH"),
                ev("wlan0", "ATTACH"),
                ev("wlan0", "LINK_UP"),
            ]
        );
    }

    #[test]
    fn issue8_new_ifnet_is_unknown_until_its_link_comes_up_and_round_trips() {
        let mut k = laptop();
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        k.happen(&"unplug ue0".parse().unwrap()).unwrap();
        k.set_up(&n("ue0"), true).unwrap();
        // No carrier: the driver has nothing to report; UNKNOWN stays.
        assert_eq!(k.interface("ue0").unwrap().link, LinkState::Unknown);
        assert_eq!(k.take_events(), vec![ev("ue0", "ATTACH")]);
        let again = SimKernel::from_machine(&k.to_machine()).unwrap();
        assert_eq!(again, k);
        k.happen(&"plug ue0".parse().unwrap()).unwrap();
        k.settle();
        assert_eq!(k.take_events(), vec![ev("ue0", "LINK_UP")]);
        k.happen(&"unplug ue0".parse().unwrap()).unwrap();
        assert_eq!(k.take_events(), vec![ev("ue0", "LINK_DOWN")]);
        // A vap that joined its BSS reports leaving it.
        k.happen(&"create-wlan wlan1 ath0".parse().unwrap()).unwrap();
        k.settle();
        k.take_events();
        k.happen(&"disassociate wlan1".parse().unwrap()).unwrap();
        assert_eq!(k.take_events(), vec![ev("wlan1", "LINK_DOWN")]);
    }

    #[test]
    fn adding_an_up_port_bounces_it_even_with_the_same_mac() {
        let mut k = laptop();
        k.remove_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        k.settle();
        k.take_events();
        k.add_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        // if_setlladdr has no same-address shortcut: down/up, re-association.
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_DOWN")]);
        let t = k.now();
        k.advance(t + 1_999);
        assert!(k.take_events().is_empty());
        k.advance(t + 2_000);
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_UP")]);
    }

    #[test]
    fn set_up_drives_link_and_events() {
        let mut k = laptop();
        k.set_up(&n("em0"), false).unwrap();
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_DOWN")]);
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, false), p("wlan0", false, true)]);
        k.set_up(&n("em0"), false).unwrap();
        assert!(k.take_events().is_empty());
        k.set_up(&n("em0"), true).unwrap();
        k.settle();
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_UP")]);
        assert_eq!(
            k.calls(),
            ["SIOCSIFFLAGS em0 down: ok", "SIOCSIFFLAGS em0 down: ok", "SIOCSIFFLAGS em0 up: ok"]
        );
        k.clear_record();
        assert_eq!((k.writes(), k.calls().len()), (0, 0));
    }

    #[test]
    fn media_types_as_devd_sees_them() {
        let k = laptop();
        assert_eq!(k.media_type("em0"), Some("ethernet"));
        assert_eq!(k.media_type("lagg0"), Some("ethernet"));
        assert_eq!(k.media_type("wlan0"), Some("802.11"));
        assert_eq!(k.media_type("iwn0"), None);
    }

    #[test]
    fn interfaces_are_reported_in_index_order() {
        let mut k = SimKernel::from_machine(&Machine::default()).unwrap();
        assert!(k.interfaces().unwrap().is_empty());
        let mut k2 = laptop();
        let names: Vec<String> =
            k2.interfaces().unwrap().iter().map(|i| i.name.to_string()).collect();
        assert_eq!(names, ["em0", "wlan0", "lagg0"]);
        k.happen(&"attach-ether ue0 00:11:22:33:44:55".parse().unwrap()).unwrap();
        assert_eq!(k.interface("ue0").unwrap().index, 1);
    }
}
