//! The segments a laptop's ports lead to and what the kernel keeps about
//! them: networks (an IPv4 subnet with its gateway, an IPv6 prefix with its
//! router), BSSes, and per interface the IPv4 and IPv6 addresses, the
//! neighbour entries (ARP, NDP) and the routes. Who answers an ARP request
//! or a Neighbor Solicitation is decided here. Not owned here: DHCP
//! ([`super::dhcp`]) and router advertisements ([`super::rtadv`]).
//!
//! Kernel rules, as read in FreeBSD's `sys/netinet/in.c`: `in_difaddr`
//! (its `in_scrubprefix(ia, LLE_STATIC)` and `in_ifadown(&ia->ia_ifa, 1)`)
//! and `in_scrubprefix` in a 14-era copy found by its text with the search
//! tool (`ia_need_loopback_route`, `in_scrubprefixlle`), and the lltable
//! side (`in_lltable_match_prefix`) in `gmshake/freebsd-src` at
//! 9c7ea78ddb9157b66c96bdd552a31f205bf81272; `sys/netinet/if_ether.c`'s
//! timers are recalled, not re-read:
//! - removing an IPv4 address (`in_difaddr`) removes its prefix route and
//!   every ARP entry of its prefix when no other address of the interface
//!   covers it (`in_scrubprefix` → `in_scrubprefixlle` →
//!   `lltable_prefix_free`), and "all the rest of the routes" through that
//!   address (`in_ifadown(&ia->ia_ifa, 1)`): the default route through a
//!   gateway of that prefix goes too;
//! - ifconfig's `inet ADDR` without `alias` first deletes the interface's
//!   first IPv4 address (`clearaddr`, a SIOCDIFADDR of INADDR_ANY, which
//!   `in_difaddr` takes as the first address), then adds ADDR (ifconfig's
//!   side recalled from `sbin/ifconfig`, not re-read);
//! - an ARP entry lives `net.link.ether.inet.max_age` (1200 s, `V_arpt_keep`
//!   in `if_ether.c`); one in use is refreshed by a unicast request to the
//!   MAC it holds before it expires (`arptimer`), so an entry whose MAC
//!   no longer answers lapses then and the next packet broadcasts a new
//!   request (`arpresolve_full`). A stale entry is never replaced by an
//!   answer to someone else: only its own refresh, its expiry, a deletion,
//!   or its prefix's address going replaces it. (An ARP request *from* the
//!   gateway would update it sooner, `in_arpinput`; the simulated gateway's
//!   requests are taken to come only where the laptop has no entry for it.)
//!
//! Traffic is taken to be continuous (the user's sessions): a lagg with a
//! default route and no ARP entry for the gateway resolves it at once, and
//! gets one when the gateway of the network its active port is on has that
//! address ([`Network::kernel_learns`]: `answers_arp = false` makes it
//! ignore probes only, [`Network::answers_arp_for`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::model::{IfName, MacAddr};

/// `net.link.ether.inet.max_age`: how long an ARP entry lives (ms).
pub(crate) const ARP_MAX_AGE_MS: u64 = 1_200_000;

/// An IPv4 address with its prefix length (`192.168.1.100/24`), or a
/// subnet when the host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv4Net {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Ipv4Net {
    fn mask(self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        }
    }

    /// The subnet's first address (host bits cleared).
    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network())
    }

    /// The same address with the prefix's host bits cleared.
    pub fn subnet(self) -> Ipv4Net {
        Ipv4Net { addr: self.network(), len: self.len }
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl TryFrom<String> for Ipv4Net {
    type Error = String;

    fn try_from(s: String) -> Result<Ipv4Net, String> {
        s.parse()
    }
}

impl From<Ipv4Net> for String {
    fn from(n: Ipv4Net) -> String {
        n.to_string()
    }
}

impl FromStr for Ipv4Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Ipv4Net, String> {
        let bad = || format!("{s:?} is not an IPv4 address/prefix length like 192.168.1.0/24");
        let (a, l) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
        let len: u8 = l.parse().map_err(|_| bad())?;
        if len > 32 {
            return Err(bad());
        }
        Ok(Ipv4Net { addr, len })
    }
}

/// An IPv6 address with its prefix length (`2001:db8:1::/64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv6Net {
    pub addr: Ipv6Addr,
    pub len: u8,
}

impl Ipv6Net {
    fn mask(self) -> u128 {
        if self.len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.len))
        }
    }

    pub fn contains(self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & self.mask() == u128::from(self.addr) & self.mask()
    }

    /// The prefix itself (interface-identifier bits cleared).
    pub fn prefix(self) -> Ipv6Net {
        Ipv6Net { addr: Ipv6Addr::from(u128::from(self.addr) & self.mask()), len: self.len }
    }
}

impl fmt::Display for Ipv6Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl TryFrom<String> for Ipv6Net {
    type Error = String;

    fn try_from(s: String) -> Result<Ipv6Net, String> {
        s.parse()
    }
}

impl From<Ipv6Net> for String {
    fn from(n: Ipv6Net) -> String {
        n.to_string()
    }
}

impl FromStr for Ipv6Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Ipv6Net, String> {
        let bad = || format!("{s:?} is not an IPv6 prefix like 2001:db8:1::/64");
        let (a, l) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv6Addr = a.parse().map_err(|_| bad())?;
        let len: u8 = l.parse().map_err(|_| bad())?;
        if len > 128 {
            return Err(bad());
        }
        Ok(Ipv6Net { addr, len })
    }
}

/// The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix
/// A): what FreeBSD's SLAAC puts after a /64 (`in6_get_ifid` from the
/// interface's link-level address; `net.inet6.ip6.use_tempaddr` is 0 by
/// default) and what a router's link-local address is made of.
pub fn eui64(prefix: Ipv6Addr, mac: MacAddr) -> Ipv6Addr {
    let m = mac.0;
    let iid = [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]];
    let mut bytes = prefix.octets();
    bytes[8..].copy_from_slice(&iid);
    Ipv6Addr::from(bytes)
}

/// A router's link-local address, `fe80::` and its EUI-64.
pub fn link_local(mac: MacAddr) -> Ipv6Addr {
    eui64(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), mac)
}

/// A DHCPv4 server's configuration and its bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpServer {
    /// The pool, first and last address.
    pub pool: (Ipv4Addr, Ipv4Addr),
    /// NAKs a request for an address that is not valid here (ISC dhcpd's
    /// `authoritative`); a non-authoritative server stays silent.
    pub authoritative: bool,
    /// From a client's message to the server's answer (ms).
    pub delay_ms: u64,
    pub lease_s: u64,
    /// chaddr → address, as the server remembers its clients.
    pub bindings: BTreeMap<MacAddr, Ipv4Addr>,
}

/// The routers of an IPv6 network (one, as the machine file says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterAdverts {
    pub prefix: Ipv6Net,
    pub router_mac: MacAddr,
    /// From a Router Solicitation to the solicited advertisement (ms).
    pub delay_ms: u64,
}

/// One `[[machine.network]]`: a segment behind a cable or a BSS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub subnet: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    pub gateway_mac: Option<MacAddr>,
    pub answers_arp: bool,
    pub dhcp: Option<DhcpServer>,
    pub ra: Option<RouterAdverts>,
    /// A captive portal: addresses, ARP and routes work as anywhere
    /// (what the portal intercepts is above IP, so the oracle counts the
    /// network reached).
    pub captive_portal: bool,
    /// A probe's round trip to the gateway or router (ms).
    pub rtt_ms: u64,
}

impl Network {
    /// The gateway's MAC, if it answers a probe's ARP request for `ip`
    /// (unicast to `to`, or broadcast when `to` is `None`): the simulated
    /// gateway answers for its own address only, a unicast request only
    /// when it is addressed to its own MAC (a frame to another MAC never
    /// reaches it on a switched segment), and none when it ignores ARP
    /// (`answers_arp = false`).
    pub fn answers_arp_for(&self, ip: Ipv4Addr, to: Option<MacAddr>) -> Option<MacAddr> {
        let mac = self.kernel_learns(ip)?;
        (self.answers_arp && to.is_none_or(|t| t == mac)).then_some(mac)
    }

    /// The gateway's MAC as the laptop's kernel learns it for `ip`: a
    /// gateway that ignores the requests a probe sends (routers that do
    /// not answer a sender they have not seen, or rate-limit requests) is
    /// still learnt, from its own requests to the laptop (`in_arpinput`
    /// in `sys/netinet/if_ether.c` creates or updates the entry of a
    /// request's sender that targets one of our addresses), so
    /// `answers_arp` does not stop traffic, only the probes.
    pub fn kernel_learns(&self, ip: Ipv4Addr) -> Option<MacAddr> {
        (self.gateway == Some(ip)).then_some(self.gateway_mac?)
    }

    /// The router's MAC, if it answers a Neighbor Solicitation for `ip`
    /// (its link-local address), unicast to `to` or multicast.
    pub fn answers_ns_for(&self, ip: Ipv6Addr, to: Option<MacAddr>) -> Option<MacAddr> {
        let ra = self.ra?;
        let ours = link_local(ra.router_mac) == ip;
        (ours && to.is_none_or(|t| t == ra.router_mac)).then_some(ra.router_mac)
    }
}

/// One `[[machine.bss]]`: an access point's BSS and the network behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bss {
    pub ssid: String,
    pub network: String,
}

/// An IPv6 address on an interface: SLAAC's, from an advertised prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inet6 {
    pub addr: Ipv6Addr,
    pub prefix: Ipv6Net,
    /// Duplicate Address Detection ends then (ms); a tentative address is
    /// not used (`IN6_IFF_TENTATIVE`).
    pub tentative_until: Option<u64>,
}

/// A neighbour entry: the MAC and when it lapses (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    pub mac: MacAddr,
    pub expires: u64,
}

/// An interface's layer 3: `if_addrhead`'s IPv4 and IPv6 addresses, its
/// lltables, its IPv6 default routers, and `ND6_IFF_ACCEPT_RTADV`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stack {
    /// In the order they were added (ifconfig's "first" address).
    pub inet: Vec<Ipv4Net>,
    pub inet6: Vec<Inet6>,
    pub arp: BTreeMap<Ipv4Addr, Neighbour>,
    pub nd: BTreeMap<Ipv6Addr, Neighbour>,
    /// The default router list (`nd_defrouter`): router → lifetime end.
    pub routers6: BTreeMap<Ipv6Addr, u64>,
    pub accept_rtadv: bool,
}

impl Stack {
    /// The IPv4 addresses a session can use: not `0.0.0.0` (dhclient's
    /// PREINIT alias).
    pub fn global_inet(&self) -> impl Iterator<Item = Ipv4Net> + '_ {
        self.inet.iter().copied().filter(|a| !a.addr.is_unspecified())
    }

    /// The IPv6 addresses a session can use: past DAD.
    pub fn global_inet6(&self) -> impl Iterator<Item = Inet6> + '_ {
        self.inet6.iter().copied().filter(|a| a.tentative_until.is_none())
    }

    /// `SIOCDIFADDR` of `addr` (`in_difaddr`, see the module doc); the
    /// default route through it is `default4`'s to lose, so the caller
    /// is told whether a removed prefix held `gateway`. Returns whether the
    /// address was there.
    pub fn remove_inet(&mut self, addr: Ipv4Addr) -> Option<Ipv4Net> {
        let at = self.inet.iter().position(|a| a.addr == addr)?;
        let gone = self.inet.remove(at);
        let covered = self.inet.iter().any(|a| a.subnet() == gone.subnet());
        if !covered && !gone.addr.is_unspecified() {
            self.arp.retain(|ip, _| !gone.contains(*ip));
        }
        Some(gone)
    }

    /// `SIOCAIFADDR`: adds `net`, or updates the prefix length of an
    /// address already there.
    pub fn add_inet(&mut self, net: Ipv4Net) {
        match self.inet.iter_mut().find(|a| a.addr == net.addr) {
            Some(a) => a.len = net.len,
            None => self.inet.push(net),
        }
    }
}

/// The IPv4 default route: its gateway and the interface it leaves by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route4 {
    pub gateway: Ipv4Addr,
    pub ifname: IfName,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_contain_and_print() {
        let n: Ipv4Net = "192.168.1.100/24".parse().unwrap();
        assert!(n.contains("192.168.1.1".parse().unwrap()));
        assert!(!n.contains("192.168.2.1".parse().unwrap()));
        assert_eq!(n.subnet().to_string(), "192.168.1.0/24");
        for bad in ["192.168.1.0", "192.168.1.0/33", "x/24", "10.0.0.0/"] {
            assert!(bad.parse::<Ipv4Net>().is_err(), "{bad}");
        }
        let p: Ipv6Net = "2001:db8:1::/64".parse().unwrap();
        let mac: MacAddr = "00:11:22:33:44:55".parse().unwrap();
        let a = eui64(p.addr, mac);
        assert_eq!(a.to_string(), "2001:db8:1:0:211:22ff:fe33:4455");
        assert!(p.contains(a));
        assert!(!"2001:db8:2::/64".parse::<Ipv6Net>().unwrap().contains(a));
        assert_eq!(link_local(mac).to_string(), "fe80::211:22ff:fe33:4455");
    }

    /// A unicast request reaches only the MAC it is sent to; a gateway
    /// that ignores ARP answers neither kind.
    #[test]
    fn a_gateway_answers_its_own_address_at_its_own_mac() {
        let gw: MacAddr = "00:0d:b9:00:00:01".parse().unwrap();
        let other: MacAddr = "00:0d:b9:00:00:02".parse().unwrap();
        let ip: Ipv4Addr = "192.168.1.1".parse().unwrap();
        let mut n = Network {
            subnet: Some("192.168.1.0/24".parse().unwrap()),
            gateway: Some(ip),
            gateway_mac: Some(gw),
            answers_arp: true,
            dhcp: None,
            ra: None,
            captive_portal: false,
            rtt_ms: 2,
        };
        assert_eq!(n.answers_arp_for(ip, Some(gw)), Some(gw));
        assert_eq!(n.answers_arp_for(ip, None), Some(gw));
        assert_eq!(n.answers_arp_for(ip, Some(other)), None);
        assert_eq!(n.answers_arp_for("192.168.1.2".parse().unwrap(), None), None);
        n.answers_arp = false;
        assert_eq!(n.answers_arp_for(ip, None), None);
        assert_eq!(n.kernel_learns(ip), Some(gw), "the kernel still learns it");
    }

    /// `in_difaddr`: the prefix's ARP entries go with the last address
    /// covering it.
    #[test]
    fn removing_an_address_flushes_its_prefix_arp_entries() {
        let mut s = Stack::default();
        let mac: MacAddr = "00:0d:b9:00:00:01".parse().unwrap();
        s.add_inet("192.168.1.100/24".parse().unwrap());
        s.add_inet("0.0.0.0/8".parse().unwrap());
        s.arp.insert("192.168.1.1".parse().unwrap(), Neighbour { mac, expires: 9 });
        s.arp.insert("10.0.0.1".parse().unwrap(), Neighbour { mac, expires: 9 });
        assert_eq!(s.global_inet().count(), 1);
        assert!(s.remove_inet("192.168.1.100".parse().unwrap()).is_some());
        assert_eq!(s.arp.keys().map(|k| k.to_string()).collect::<Vec<_>>(), ["10.0.0.1"]);
        assert!(s.remove_inet("192.168.1.100".parse().unwrap()).is_none());
    }
}
