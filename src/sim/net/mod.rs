//! The simulator's layer 3: the networks the ports lead to and what the
//! machine does on them, split as FreeBSD splits it:
//! - [`link`]: networks, gateways and their ARP/NDP answers, BSSes, each
//!   interface's addresses, neighbour entries and routes (`sys/netinet/in.c`,
//!   `if_ether.c`, `sys/netinet6/nd6.c`);
//! - [`dhcp`]: DHCPv4 servers, FreeBSD's `sbin/dhclient` and
//!   `dhclient-script`, and `rc.d/dhclient` (what the stock devd rule and rc
//!   run);
//! - [`rtadv`]: router advertisements, `rtsol`, SLAAC and DAD
//!   (`sys/netinet6/nd6_rtr.c`, `nd6_nbr.c`, `usr.sbin/rtsold`);
//! - [`reach`]: whether IPv4 and IPv6 traffic flows (the oracle's layer 3)
//!   and which network a lagg is on;
//! - [`file`]: the machine file's network keys; [`happen`]: the network
//!   happenings.
//!
//! This file holds the state ([`Net`]), its timers on the simulator's
//! clock, and the hooks the ifnet layer calls when a link, a flag or an
//! interface changes.
//!
//! A machine without `[[machine.network]]` has no layer 3 at all, exactly
//! as before: no DHCP client runs (the stock rule's `service dhclient`
//! does nothing), no timer is pending, and every figure is what it was.
//!
//! Timers are one-shot or periodic. The periodic ones (lease renewals,
//! unsolicited router advertisements, ARP entry refreshes, router
//! lifetimes) run when the clock passes them, but a world with only
//! periodic timers pending counts as settled ([`SimKernel::next_due`]).

mod dhcp;
pub(super) mod file;
mod happen;
mod kernel;
pub mod link;
mod rc_net;
mod reach;
mod rtadv;

pub use happen::NetHappening;
pub use link::{Ipv4Net, Ipv6Net};
pub(super) use rc_net::RcNet;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::domain::model::{IfKind, IfName, LinkState, MacAddr};

use super::SimKernel;
use dhcp::Dhclient;
use link::{Bss, Network, Route4, Stack};
use rtadv::Rtsol;

/// Something that happens on a timer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Due {
    /// A DHCP client's own timeout (retransmission, selecting, T1, …), for
    /// the client generation that set it.
    Dhclient(IfName, u64),
    /// A server's answer reaching the interface.
    DhcpReply(IfName, u64, dhcp::Reply),
    /// rtsol's next solicitation (or its giving up), for its generation.
    Rtsol(IfName, u64),
    /// An advertisement from `network`'s router reaching an interface.
    Advert(IfName, String),
    /// Every network's routers advertising unsolicited (periodic).
    UnsolicitedAdverts,
    /// DAD of an address ends.
    Dad(IfName, std::net::Ipv6Addr),
    /// An ARP entry's refresh or expiry (periodic).
    ArpExpiry(IfName, Ipv4Addr),
    /// A default router's lifetime ends (periodic).
    RouterExpiry(IfName, std::net::Ipv6Addr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Timer {
    at: u64,
    seq: u64,
    periodic: bool,
    due: Due,
}

/// A detached helper the kernel was asked to start: `lagghook netcheck
/// LAGG GENERATION`, at simulated ms `at` (taken by the scenario harness,
/// [`Net::take_spawned`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    pub lagg: IfName,
    pub generation: u64,
    pub at: u64,
}

/// What the layer-3 world records for the scenario harness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetRecord {
    /// DHCP exchanges started (a client starting, or re-starting on a
    /// link-up), by anyone.
    pub dhcp_exchanges: u32,
}

/// The layer-3 world and the machine's layer 3 (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Net {
    networks: BTreeMap<String, Network>,
    bsses: BTreeMap<String, Bss>,
    /// An Ethernet port's (or vlan's) cable → the network it leads to.
    cables: BTreeMap<IfName, String>,
    /// A vap → the BSS it is (or would be) associated with.
    assoc: BTreeMap<IfName, String>,
    stacks: BTreeMap<IfName, Stack>,
    default4: Option<Route4>,
    clients: BTreeMap<IfName, Dhclient>,
    /// dhclient's lease files: path → the last lease written.
    lease_files: BTreeMap<String, dhcp::Lease>,
    rtsols: BTreeMap<IfName, Rtsol>,
    timers: Vec<Timer>,
    seq: u64,
    /// Generations of DHCP clients and rtsols, so a stale timer is ignored.
    generation: u64,
    /// The next pid a started process gets.
    next_pid: u32,
    record: NetRecord,
    /// Helpers spawned and not yet taken by the harness. Not state: not
    /// compared, not saved.
    spawned: Vec<Spawned>,
}

impl Net {
    /// Whether the machine has any network: without one, layer 3 is not
    /// modelled at all.
    pub(super) fn enabled(&self) -> bool {
        !self.networks.is_empty()
    }

    /// The helpers spawned since the last take, in order.
    pub fn take_spawned(&mut self) -> Vec<Spawned> {
        std::mem::take(&mut self.spawned)
    }

    fn next_pid(&mut self) -> u32 {
        self.next_pid = self.next_pid.max(100) + 1;
        self.next_pid
    }

    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    fn schedule(&mut self, at: u64, periodic: bool, due: Due) {
        self.seq += 1;
        self.timers.push(Timer { at, seq: self.seq, periodic, due });
    }

    /// The next timer that is not periodic.
    pub(super) fn next_due(&self) -> Option<u64> {
        self.timers.iter().filter(|t| !t.periodic).map(|t| t.at).min()
    }

    /// The next timer of any kind at or before `to`.
    pub(super) fn next_at(&self, to: u64) -> Option<u64> {
        self.timers.iter().map(|t| t.at).filter(|&at| at <= to).min()
    }

    /// Takes the earliest timer due at `at` (in the order they were set).
    fn take_due(&mut self, at: u64) -> Option<Due> {
        let i = self
            .timers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.at <= at)
            .min_by_key(|(_, t)| (t.at, t.seq))
            .map(|(i, _)| i)?;
        Some(self.timers.remove(i).due)
    }

    fn stack_mut(&mut self, ifname: &IfName) -> &mut Stack {
        self.stacks.entry(ifname.clone()).or_default()
    }

    /// The record since the last take.
    pub(super) fn take_record(&mut self) -> NetRecord {
        std::mem::take(&mut self.record)
    }

    /// The state a machine file keeps, compared without its clock (timer
    /// times, lease and neighbour lifetimes): networks and their bindings,
    /// BSSes, cables, associations, addresses, neighbour entries, routes,
    /// which DHCP clients run and what the lease files hold.
    pub(super) fn same_state(&self, other: &Net) -> bool {
        let stacks = |n: &Net| {
            n.stacks
                .iter()
                .map(|(i, s)| {
                    let arp: Vec<_> = s.arp.iter().map(|(ip, e)| (*ip, e.mac)).collect();
                    let nd: Vec<_> = s.nd.iter().map(|(ip, e)| (*ip, e.mac)).collect();
                    let v6: Vec<_> = s.inet6.iter().map(|a| (a.addr, a.prefix)).collect();
                    let routers: Vec<_> = s.routers6.keys().copied().collect();
                    (i.clone(), s.inet.clone(), v6, arp, nd, routers, s.accept_rtadv)
                })
                .filter(|(_, a, b, c, d, e, f)| {
                    !(a.is_empty()
                        && b.is_empty()
                        && c.is_empty()
                        && d.is_empty()
                        && e.is_empty()
                        && !f)
                })
                .collect::<Vec<_>>()
        };
        let leases = |n: &Net| {
            n.lease_files
                .iter()
                .map(|(p, l)| (p.clone(), l.addr, l.router, l.server.clone()))
                .collect::<Vec<_>>()
        };
        self.networks == other.networks
            && self.bsses == other.bsses
            && self.cables == other.cables
            && self.assoc == other.assoc
            && self.default4 == other.default4
            && self.clients.keys().eq(other.clients.keys())
            && stacks(self) == stacks(other)
            && leases(self) == leases(other)
    }
}

impl SimKernel {
    /// Runs every layer-3 timer due at `at` (the clock is already there).
    pub(super) fn net_fire(&mut self, at: u64) {
        while let Some(due) = self.net.take_due(at) {
            match due {
                Due::Dhclient(ifn, generation) => self.dhclient_timer(&ifn, generation),
                Due::DhcpReply(ifn, generation, reply) => {
                    self.dhclient_receive(&ifn, generation, reply)
                }
                Due::Rtsol(ifn, generation) => self.rtsol_timer(&ifn, generation),
                Due::Advert(ifn, network) => self.advert_arrives(&ifn, &network),
                Due::UnsolicitedAdverts => self.unsolicited_adverts(),
                Due::Dad(ifn, addr) => self.dad_done(&ifn, addr),
                Due::ArpExpiry(ifn, ip) => self.arp_expiry(&ifn, ip),
                Due::RouterExpiry(ifn, router) => self.router_expiry(&ifn, router),
            }
            self.net_refresh();
        }
    }

    /// The network a port leads to now: an Ethernet NIC's (or vlan's)
    /// cable while it is in, a vap's BSS while its AP is in reach.
    fn port_network(&self, port: &IfName) -> Option<&str> {
        let ifn = self.ifnets.get(port)?;
        if !ifn.medium {
            return None;
        }
        let name = match ifn.kind {
            IfKind::Wlan => &self.net.bsses.get(self.net.assoc.get(port)?)?.network,
            _ => self.net.cables.get(port)?,
        };
        Some(name.as_str())
    }

    /// The network `ifname`'s frames reach now, with the network itself:
    /// a lagg's is its active port's, while traffic flows through it at
    /// the link level ([`SimKernel::traffic_flows`]: a WiFi port that
    /// cannot carry the lagg's MAC reaches nobody); any other interface's
    /// is its own while its link is up.
    fn reached(&self, ifname: &IfName) -> Option<(&str, &Network)> {
        let ifn = self.ifnets.get(ifname)?;
        let name = if ifn.lagg.is_some() {
            if !self.traffic_flows(ifname.as_str()) {
                return None;
            }
            let port = self.lagg(ifname.as_str())?.active()?.clone();
            self.port_network(&port)?
        } else {
            if ifn.link != LinkState::Up || !ifn.up {
                return None;
            }
            self.port_network(ifname)?
        };
        let (name, network) = self.net.networks.get_key_value(name)?;
        Some((name.as_str(), network))
    }

    /// The kernel resolving what traffic needs (see [`link`]'s module doc):
    /// a default route's gateway with no ARP entry gets one when the
    /// network reached answers for it. Run after every layer-3 change and
    /// every link change.
    pub(super) fn net_refresh(&mut self) {
        if !self.net.enabled() {
            return;
        }
        let Some(route) = self.net.default4.clone() else {
            return;
        };
        if self.net.stacks.get(&route.ifname).is_some_and(|s| s.arp.contains_key(&route.gateway)) {
            return;
        }
        let answer = self.reached(&route.ifname).and_then(|(_, n)| n.kernel_learns(route.gateway));
        if let Some(mac) = answer {
            self.arp_learn(&route.ifname, route.gateway, mac);
        }
    }

    /// An ARP entry for `ip`, refreshed at its max age.
    fn arp_learn(&mut self, ifname: &IfName, ip: Ipv4Addr, mac: MacAddr) {
        let expires = self.now + link::ARP_MAX_AGE_MS;
        self.net.stack_mut(ifname).arp.insert(ip, link::Neighbour { mac, expires });
        self.net.schedule(expires, true, Due::ArpExpiry(ifname.clone(), ip));
    }

    /// `arptimer` (`sys/netinet/if_ether.c`): an entry at its max age is
    /// refreshed by a unicast request to the MAC it holds; unanswered, it
    /// is deleted, and the next packet resolves the address again.
    fn arp_expiry(&mut self, ifname: &IfName, ip: Ipv4Addr) {
        let Some(entry) = self.net.stacks.get(ifname).and_then(|s| s.arp.get(&ip)).copied() else {
            return;
        };
        if entry.expires > self.now {
            return;
        }
        let refreshed =
            self.reached(ifname).and_then(|(_, n)| n.kernel_learns(ip)).filter(|m| *m == entry.mac);
        match refreshed {
            Some(mac) => self.arp_learn(ifname, ip, mac),
            None => {
                self.net.stack_mut(ifname).arp.remove(&ip);
            }
        }
    }

    /// `SIOCDIFADDR` of an IPv4 address, with what the kernel does to the
    /// prefix's ARP entries and the routes through it (see [`link`]).
    /// Whether it was there.
    pub(super) fn inet_delete(&mut self, ifname: &IfName, addr: Ipv4Addr) -> bool {
        let Some(gone) = self.net.stack_mut(ifname).remove_inet(addr) else {
            return false;
        };
        let through = self
            .net
            .default4
            .as_ref()
            .is_some_and(|r| &r.ifname == ifname && gone.contains(r.gateway));
        if through && !gone.addr.is_unspecified() {
            self.net.default4 = None;
        }
        self.dhclient_address_deleted(ifname, addr);
        true
    }

    /// ifconfig's `IF inet ADDR netmask …` without `alias`: the first
    /// address goes, then ADDR is added (see [`link`]).
    pub(super) fn inet_replace_first(&mut self, ifname: &IfName, net: Ipv4Net) {
        let first = self.net.stacks.get(ifname).and_then(|s| s.inet.first()).map(|a| a.addr);
        if let Some(first) = first {
            self.inet_delete(ifname, first);
        }
        self.net.stack_mut(ifname).add_inet(net);
    }

    /// `route add default GW`: EEXIST when there is one already.
    pub(super) fn route_add_default(&mut self, ifname: &IfName, gateway: Ipv4Addr) -> bool {
        if self.net.default4.is_some() {
            return false;
        }
        self.net.default4 = Some(Route4 { gateway, ifname: ifname.clone() });
        true
    }

    /// `route delete default`.
    pub(super) fn route_delete_default(&mut self) {
        self.net.default4 = None;
    }

    /// The hook `if.c`'s link state change reaches (`rt_ifmsg`'s
    /// RTM_IFINFO, which dhclient's routehandler reads): `ifname`'s link
    /// is now `link`. Also re-resolves what traffic needs.
    pub(super) fn net_link_changed(&mut self, ifname: &IfName, link: LinkState) {
        if !self.net.enabled() {
            return;
        }
        self.dhclient_ifinfo(ifname, link == LinkState::Up);
        self.net_refresh();
    }

    /// The hook of SIOCSIFFLAGS: `ifname` is now UP or not.
    pub(super) fn net_flags_changed(&mut self, ifname: &IfName, up: bool) {
        if !self.net.enabled() {
            return;
        }
        if !up {
            self.dhclient_exit(ifname, "is down");
        }
        self.net_refresh();
    }

    /// The hook of `if_detach`: the interface and its layer 3 are gone
    /// (RTM_IFANNOUNCE departure for dhclient).
    pub(super) fn net_detached(&mut self, ifname: &IfName) {
        if !self.net.enabled() {
            return;
        }
        self.dhclient_exit(ifname, "is gone");
        self.net.rtsols.remove(ifname);
        self.net.stacks.remove(ifname);
        if self.net.default4.as_ref().is_some_and(|r| &r.ifname == ifname) {
            self.net.default4 = None;
        }
    }

    /// A reboot: processes, addresses, routes and neighbour entries are
    /// gone; the lease files (`/var/db`) and the world (networks, servers'
    /// bindings, cables, BSSes, the routers' schedule) stay.
    pub(super) fn net_reboot(&mut self) {
        let net = &mut self.net;
        net.clients.clear();
        net.rtsols.clear();
        net.stacks.clear();
        net.default4 = None;
        net.timers.retain(|t| t.due == Due::UnsolicitedAdverts);
    }

    /// When the next layer-3 timer that is not periodic runs, if any: what
    /// the world must still run to before it is settled.
    pub fn net_next_due(&self) -> Option<u64> {
        self.net.next_due()
    }

    /// What the layer-3 world recorded since the last take.
    pub fn take_net_record(&mut self) -> NetRecord {
        self.net.take_record()
    }
}
