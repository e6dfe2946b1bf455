//! IPv6 autoconfiguration: the networks' routers and their advertisements,
//! `rtsol`, SLAAC and Duplicate Address Detection.
//!
//! As read (see `freebsd-net.md` §12): `usr.sbin/rtsold` in
//! `fel1x-developer/freebsd-src` at 2d614aa2fe3e037bd11d351b0b5cfda776e65814
//! (`rtsol IF` is `rtsold -f1`: up to `MAX_RTR_SOLICITATIONS` (3)
//! solicitations `RTR_SOLICITATION_INTERVAL` (4 s) apart, exiting on the
//! first advertisement; the random initial delay of up to 1 s is left out,
//! as `-i` does); `sys/netinet6/nd6_rtr.c` (`nd6_ra_input`: an
//! advertisement on an interface with `ND6_IFF_ACCEPT_RTADV` adds its
//! source as a default router for its router lifetime, its source
//! link-layer option to the neighbour cache, and for an autonomous prefix
//! a SLAAC address, `in6_ifadd`, with the interface's EUI-64;
//! `nd6_ifnet_link_event` sends no solicitation on link up; nothing removes
//! an old prefix's address or router before their lifetimes end);
//! `sys/netinet6/nd6_nbr.c` (`nd6_dad_start`: the address is tentative for
//! `net.inet6.ip6.dad_count` (1) retransmission timer (1 s); the random
//! start delay `IN6_IFAUPDATE_DADDELAY` adds is left out; collisions are not
//! modelled). The nd6 items are `freebsd-net.md` §12's reading; the DAD
//! count and timer are FreeBSD's defaults as recalled, not re-read. Routers advertise unsolicited every `MaxRtrAdvInterval` (600
//! s, RFC 4861's default; real routers randomise between 200 and 600 s),
//! with a router lifetime of 1800 s.

use std::net::Ipv6Addr;

use crate::domain::model::IfName;

use super::link::{eui64, link_local, Inet6, Neighbour};
use super::{Due, SimKernel};

const RTR_SOLICITATIONS: u32 = 3;
const RTR_SOLICITATION_INTERVAL_MS: u64 = 4_000;
const DAD_MS: u64 = 1_000;
pub(super) const UNSOLICITED_MS: u64 = 600_000;
const ROUTER_LIFETIME_MS: u64 = 1_800_000;

/// When a router learnt at `now` leaves the default router list.
pub(super) fn router_end(now: u64) -> u64 {
    now + ROUTER_LIFETIME_MS
}

/// One `rtsol` process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::sim) struct Rtsol {
    sent: u32,
    generation: u64,
}

impl SimKernel {
    /// `ifconfig IF inet6 accept_rtadv` (or `-accept_rtadv`).
    pub(in crate::sim) fn set_accept_rtadv(&mut self, ifname: &IfName, on: bool) {
        self.net.stack_mut(ifname).accept_rtadv = on;
    }

    /// `rtsol IF`: solicits at once; one running already carries on.
    pub(in crate::sim) fn rtsol_start(&mut self, ifname: &IfName) {
        if !self.net.enabled() || self.net.rtsols.contains_key(ifname) {
            return;
        }
        let generation = self.net.next_generation();
        self.net.rtsols.insert(ifname.clone(), Rtsol { sent: 0, generation });
        self.rtsol_send(ifname);
    }

    /// Whether an rtsol runs for `ifname`.
    pub fn rtsol_running(&self, ifname: &str) -> bool {
        self.net.rtsols.keys().any(|k| k.as_str() == ifname)
    }

    fn rtsol_send(&mut self, ifname: &IfName) {
        let Some(r) = self.net.rtsols.get_mut(ifname) else { return };
        r.sent += 1;
        let generation = r.generation;
        let answer = self.reached(ifname).and_then(|(name, n)| Some((name.to_owned(), n.ra?)));
        if let Some((name, ra)) = answer {
            self.net.schedule(self.now + ra.delay_ms, false, Due::Advert(ifname.clone(), name));
        }
        let at = self.now + RTR_SOLICITATION_INTERVAL_MS;
        self.net.schedule(at, false, Due::Rtsol(ifname.clone(), generation));
    }

    pub(super) fn rtsol_timer(&mut self, ifname: &IfName, generation: u64) {
        let Some(r) = self.net.rtsols.get(ifname) else { return };
        if r.generation != generation {
            return;
        }
        if r.sent >= RTR_SOLICITATIONS {
            self.net.rtsols.remove(ifname);
        } else {
            self.rtsol_send(ifname);
        }
    }

    /// `nd6_ra_input` for an advertisement from `network`'s router, if
    /// the interface still reaches it and accepts advertisements.
    pub(super) fn advert_arrives(&mut self, ifname: &IfName, network: &str) {
        let Some((name, n)) = self.reached(ifname) else { return };
        let Some(ra) = n.ra.filter(|_| name == network) else { return };
        if !self.net.stacks.get(ifname).is_some_and(|s| s.accept_rtadv) {
            return;
        }
        let Some(mac) = self.ifnets.get(ifname).map(|i| i.lladdr) else { return };
        self.net.rtsols.remove(ifname);
        let now = self.now;
        let router = link_local(ra.router_mac);
        let stack = self.net.stack_mut(ifname);
        stack.nd.insert(router, Neighbour { mac: ra.router_mac, expires: u64::MAX });
        stack.routers6.insert(router, now + ROUTER_LIFETIME_MS);
        let prefix = ra.prefix.prefix();
        let has = stack.inet6.iter().any(|a| a.prefix == prefix);
        if !has {
            let addr = eui64(prefix.addr, mac);
            stack.inet6.push(Inet6 { addr, prefix, tentative_until: Some(now + DAD_MS) });
            self.net.schedule(now + DAD_MS, false, Due::Dad(ifname.clone(), addr));
        }
        let end = now + ROUTER_LIFETIME_MS;
        self.net.schedule(end, true, Due::RouterExpiry(ifname.clone(), router));
    }

    pub(super) fn dad_done(&mut self, ifname: &IfName, addr: Ipv6Addr) {
        let now = self.now;
        if let Some(a) = self.net.stack_mut(ifname).inet6.iter_mut().find(|a| a.addr == addr) {
            if a.tentative_until.is_some_and(|t| t <= now) {
                a.tentative_until = None;
            }
        }
    }

    pub(super) fn router_expiry(&mut self, ifname: &IfName, router: Ipv6Addr) {
        let now = self.now;
        let stack = self.net.stack_mut(ifname);
        if stack.routers6.get(&router).is_some_and(|&end| end <= now) {
            stack.routers6.remove(&router);
        }
    }

    /// Every router advertising: each interface that accepts them hears the
    /// one of the network it reaches.
    pub(super) fn unsolicited_adverts(&mut self) {
        let listening: Vec<IfName> = self
            .net
            .stacks
            .iter()
            .filter(|(_, s)| s.accept_rtadv)
            .map(|(n, _)| n.clone())
            .collect();
        for ifname in listening {
            if let Some(name) = self.reached(&ifname).map(|(n, _)| n.to_owned()) {
                self.advert_arrives(&ifname, &name);
            }
        }
        self.net.schedule(self.now + UNSOLICITED_MS, true, Due::UnsolicitedAdverts);
    }

    /// `SIOCDIFADDR_IN6`. Whether it was there.
    pub(in crate::sim) fn inet6_delete(&mut self, ifname: &IfName, addr: Ipv6Addr) -> bool {
        let stack = self.net.stack_mut(ifname);
        let before = stack.inet6.len();
        stack.inet6.retain(|a| a.addr != addr);
        stack.inet6.len() != before
    }

    /// `route delete -inet6 default ROUTER` on the interface: the router
    /// leaves the default router list. Whether it was there.
    pub(in crate::sim) fn router6_delete(&mut self, ifname: &IfName, router: Ipv6Addr) -> bool {
        self.net.stack_mut(ifname).routers6.remove(&router).is_some()
    }
}
