//! The connectivity oracle's layer 3: whether IPv4 and IPv6 traffic flows
//! through an interface now, which network it is on, and what addresses
//! it holds. Reading only.
//!
//! IPv4 flows when the frames reach a network ([`SimKernel::reached`]:
//! for a lagg, its active port's, while traffic flows at the link level),
//! the interface holds an address of that network's subnet, the default
//! route leaves by it to that network's gateway, and its ARP entry for the
//! gateway holds the gateway's MAC: a stale entry from another network with
//! the same gateway address carries nothing. IPv6 flows when it holds an
//! address of the network's advertised prefix that passed DAD, the
//! network's router is in its default router list and its neighbour entry
//! for the router holds the router's MAC. Old routers in the list do not
//! stop it: FreeBSD's `defrouter_select_fib` (`sys/netinet6/nd6_rtr.c`)
//! prefers a router that is reachable, and neighbour unreachability
//! detection finds the old one gone (the time that takes is left out).

use std::net::Ipv6Addr;

use crate::domain::model::IfName;

use super::link::{link_local, Ipv4Net, Ipv6Net, Network};
use super::SimKernel;

impl SimKernel {
    fn ifname_of(&self, name: &str) -> Option<IfName> {
        self.ifnets.keys().find(|k| k.as_str() == name).cloned()
    }

    fn inet_flows_on(&self, ifname: &IfName, n: &Network) -> bool {
        let (Some(subnet), Some(gw), Some(gw_mac)) = (n.subnet, n.gateway, n.gateway_mac) else {
            return false;
        };
        let Some(stack) = self.net.stacks.get(ifname) else { return false };
        stack.global_inet().any(|a| subnet.contains(a.addr))
            && self.net.default4.as_ref().is_some_and(|r| &r.ifname == ifname && r.gateway == gw)
            && stack.arp.get(&gw).is_some_and(|e| e.mac == gw_mac)
    }

    fn inet6_flows_on(&self, ifname: &IfName, n: &Network) -> bool {
        let Some(ra) = n.ra else { return false };
        let Some(stack) = self.net.stacks.get(ifname) else { return false };
        let router = link_local(ra.router_mac);
        stack.global_inet6().any(|a| ra.prefix.contains(a.addr))
            && stack.routers6.contains_key(&router)
            && stack.nd.get(&router).is_some_and(|e| e.mac == ra.router_mac)
    }

    /// Whether IPv4 traffic flows through `ifname` now (see the module
    /// doc).
    pub fn inet_flows(&self, ifname: &str) -> bool {
        let Some(i) = self.ifname_of(ifname) else { return false };
        self.reached(&i).is_some_and(|(_, n)| self.inet_flows_on(&i, n))
    }

    /// Whether IPv6 traffic flows through `ifname` now.
    pub fn inet6_flows(&self, ifname: &str) -> bool {
        let Some(i) = self.ifname_of(ifname) else { return false };
        self.reached(&i).is_some_and(|(_, n)| self.inet6_flows_on(&i, n))
    }

    /// Whether `ifname` reaches a network that offers IPv4 (a subnet) and
    /// IPv6 (routers): where an address of that family is owed.
    pub fn families_owed(&self, ifname: &str) -> (bool, bool) {
        let Some(i) = self.ifname_of(ifname) else { return (false, false) };
        self.reached(&i).map_or((false, false), |(_, n)| (n.subnet.is_some(), n.ra.is_some()))
    }

    /// The network `ifname` is on: the one it reaches, when IPv4 or IPv6
    /// traffic flows there (its address, its default route to that
    /// network's gateway or router, the right neighbour entry).
    pub fn network_of(&self, ifname: &str) -> Option<String> {
        let i = self.ifname_of(ifname)?;
        let (name, n) = self.reached(&i)?;
        (self.inet_flows_on(&i, n) || self.inet6_flows_on(&i, n)).then(|| name.to_owned())
    }

    /// The network `ifname`'s frames reach now, whatever its addresses.
    pub fn network_reached(&self, ifname: &str) -> Option<String> {
        let i = self.ifname_of(ifname)?;
        self.reached(&i).map(|(n, _)| n.to_owned())
    }

    /// The IPv4 addresses a session could use on `ifname`, in order.
    pub fn inet_addrs(&self, ifname: &str) -> Vec<Ipv4Net> {
        let i = self.ifname_of(ifname);
        let stack = i.as_ref().and_then(|i| self.net.stacks.get(i));
        stack.map(|s| s.global_inet().collect()).unwrap_or_default()
    }

    /// The IPv6 addresses (past DAD) on `ifname`, in order.
    pub fn inet6_addrs(&self, ifname: &str) -> Vec<Ipv6Addr> {
        let i = self.ifname_of(ifname);
        let stack = i.as_ref().and_then(|i| self.net.stacks.get(i));
        stack.map(|s| s.global_inet6().map(|a| a.addr).collect()).unwrap_or_default()
    }

    /// The prefixes of those IPv6 addresses.
    pub fn inet6_prefixes(&self, ifname: &str) -> Vec<Ipv6Net> {
        let i = self.ifname_of(ifname);
        let stack = i.as_ref().and_then(|i| self.net.stacks.get(i));
        stack.map(|s| s.global_inet6().map(|a| a.prefix).collect()).unwrap_or_default()
    }

    /// Whether the machine models layer 3 (it has networks).
    pub fn has_networks(&self) -> bool {
        self.net.enabled()
    }

    /// The names of the machine's networks, in name order.
    pub fn network_names(&self) -> Vec<String> {
        self.net.networks.keys().cloned().collect()
    }
}
