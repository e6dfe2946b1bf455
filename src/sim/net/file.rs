//! The machine file's layer-3 keys: `[[machine.network]]`, `[[machine.bss]]`,
//! the interface keys `network` (an Ethernet's cable), `bss` (a vap's
//! BSS), `dhcp` and `accept_rtadv` (a lagg as rc left it), and the extra
//! `[machine.layer3]` table [`SimKernel::save`] writes so a saved machine
//! reloads with its addresses, routes, neighbour entries, running clients
//! and lease files.
//!
//! ```toml
//! [[machine.network]]
//! name = "home"
//! subnet = "192.168.1.0/24"          # omitted: IPv6-only
//! gateway = "192.168.1.1"
//! gateway_mac = "00:0d:b9:00:00:01"
//! answers_arp = true                 # default true
//! dhcp = { pool = "192.168.1.100-192.168.1.199", authoritative = true, delay_ms = 5, lease_s = 3600 }
//! ra = { prefix = "2001:db8:1::/64", router_mac = "00:0d:b9:00:00:01", delay_ms = 200 }
//! captive_portal = false
//!
//! [[machine.bss]]
//! name = "HomeNet"
//! ssid = "HomeNet"
//! network = "home"
//! ```
//!
//! A lagg with `dhcp = true` starts as rc and devd's stock rule would have
//! left it: its dhclient bound (in the background) to a lease from its
//! active port's network (the server's first free address, bound to the
//! lagg's MAC, in `/var/db/dhclient.leases.IF`), the address, the default
//! route and the gateway's ARP entry; with `accept_rtadv = true`, the
//! address of that network's prefix, its router as default router and in
//! the neighbour cache. Unknown names are errors naming the key's place.
//! Times are not kept in the file (it has no clock): a reloaded lease,
//! ARP entry or router starts its lifetime again at load.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::domain::model::{IfKind, IfName, MacAddr};

use super::dhcp::{lease_file, Dhclient, DhclientArgs, Lease};
use super::link::{
    eui64, link_local, Bss, DhcpServer, Inet6, Ipv4Net, Ipv6Net, Neighbour, Network, Route4,
    RouterAdverts,
};
use super::rtadv::UNSOLICITED_MS;
use super::{Due, SimKernel};
use crate::sim::{Machine, SimError};

fn yes() -> bool {
    true
}

fn default_dhcp_delay() -> u64 {
    5
}

fn default_lease() -> u64 {
    3600
}

fn default_ra_delay() -> u64 {
    200
}

fn default_rtt() -> u64 {
    2
}

fn is_default_rtt(ms: &u64) -> bool {
    *ms == default_rtt()
}

/// `dhcp = { … }` of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpFile {
    /// `FIRST-LAST`.
    pub pool: String,
    #[serde(default = "yes")]
    pub authoritative: bool,
    #[serde(default = "default_dhcp_delay")]
    pub delay_ms: u64,
    #[serde(default = "default_lease")]
    pub lease_s: u64,
}

/// `ra = { … }` of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaFile {
    pub prefix: Ipv6Net,
    pub router_mac: MacAddr,
    #[serde(default = "default_ra_delay")]
    pub delay_ms: u64,
}

/// One `[[machine.network]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<Ipv4Net>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_mac: Option<MacAddr>,
    #[serde(default = "yes")]
    pub answers_arp: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp: Option<DhcpFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ra: Option<RaFile>,
    #[serde(default)]
    pub captive_portal: bool,
    /// The gateway's and router's round trip for a probe (ms, default 2).
    #[serde(default = "default_rtt", skip_serializing_if = "is_default_rtt")]
    pub rtt_ms: u64,
    /// Extra: the DHCP server's bindings, chaddr → address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindings: Option<BTreeMap<MacAddr, Ipv4Addr>>,
}

/// One `[[machine.bss]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BssFile {
    pub name: String,
    pub ssid: String,
    pub network: Spanned<String>,
}

/// A bound or sleeping dhclient in `[machine.layer3]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhclientFile {
    pub background: bool,
    pub lease_file: String,
}

/// One interface's layer 3 in `[machine.layer3.interface]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackFile {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inet: Vec<Ipv4Net>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inet6: Vec<Ipv6Net>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arp: BTreeMap<Ipv4Addr, MacAddr>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub nd: BTreeMap<Ipv6Addr, MacAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routers6: Vec<Ipv6Addr>,
    #[serde(default)]
    pub accept_rtadv: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhclient: Option<DhclientFile>,
}

/// A lease file's lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseFile {
    pub addr: Ipv4Net,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router: Option<Ipv4Addr>,
    pub server: String,
    pub lease_s: u64,
}

/// The default route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    pub gateway: Ipv4Addr,
    pub interface: IfName,
}

/// `[machine.layer3]`: the machine's layer-3 state, as saved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer3File {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_route: Option<RouteFile>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub interface: BTreeMap<IfName, StackFile>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lease_files: BTreeMap<String, LeaseFile>,
}

fn err(msg: String) -> SimError {
    SimError::new(msg)
}

fn spanned_err(msg: String, at: &Spanned<String>) -> SimError {
    SimError::at(msg, at.span().start)
}

fn pool(name: &str, text: &str, subnet: Option<Ipv4Net>) -> Result<(Ipv4Addr, Ipv4Addr), SimError> {
    let bad = || err(format!("network {name}: dhcp pool {text:?}: want FIRST-LAST addresses"));
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let (a, b): (Ipv4Addr, Ipv4Addr) =
        (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if u32::from(a) > u32::from(b) {
        return Err(bad());
    }
    match subnet {
        Some(s) if s.contains(a) && s.contains(b) => Ok((a, b)),
        Some(s) => Err(err(format!("network {name}: dhcp pool {text} is not inside {s}"))),
        None => Err(err(format!("network {name}: dhcp needs a subnet"))),
    }
}

fn network(f: &NetworkFile) -> Result<Network, SimError> {
    let name = &f.name;
    if f.subnet.is_some() && (f.gateway.is_none() || f.gateway_mac.is_none()) {
        return Err(err(format!("network {name}: a subnet needs gateway and gateway_mac")));
    }
    if let (Some(s), Some(g)) = (f.subnet, f.gateway) {
        if !s.contains(g) {
            return Err(err(format!("network {name}: gateway {g} is not in {s}")));
        }
    }
    if f.subnet.is_none() && f.ra.is_none() {
        return Err(err(format!("network {name}: needs a subnet, ra or both")));
    }
    let dhcp = match &f.dhcp {
        None => None,
        Some(d) => Some(DhcpServer {
            pool: pool(name, &d.pool, f.subnet)?,
            authoritative: d.authoritative,
            delay_ms: d.delay_ms,
            lease_s: d.lease_s,
            bindings: f.bindings.clone().unwrap_or_default(),
        }),
    };
    Ok(Network {
        subnet: f.subnet.map(Ipv4Net::subnet),
        gateway: f.gateway,
        gateway_mac: f.gateway_mac,
        answers_arp: f.answers_arp,
        dhcp,
        ra: f.ra.as_ref().map(|r| RouterAdverts {
            prefix: r.prefix.prefix(),
            router_mac: r.router_mac,
            delay_ms: r.delay_ms,
        }),
        captive_portal: f.captive_portal,
        rtt_ms: f.rtt_ms,
    })
}

/// Builds the layer-3 world of `m` into `k` (rules in the module doc).
/// Called once the interfaces are built and settled.
pub(in crate::sim) fn build(k: &mut SimKernel, m: &Machine) -> Result<(), SimError> {
    for f in &m.network {
        if k.net.networks.insert(f.name.clone(), network(f)?).is_some() {
            return Err(err(format!("network {}: listed twice", f.name)));
        }
    }
    for b in &m.bss {
        if !k.net.networks.contains_key(b.network.get_ref()) {
            let msg = format!("bss {}: unknown network {:?}", b.name, b.network.get_ref());
            return Err(spanned_err(msg, &b.network));
        }
        let bss = Bss { ssid: b.ssid.clone(), network: b.network.get_ref().clone() };
        if k.net.bsses.insert(b.name.clone(), bss).is_some() {
            return Err(err(format!("bss {}: listed twice", b.name)));
        }
    }
    for mi in &m.interface {
        let kind = k.ifnets.get(&mi.name).map(|i| i.kind);
        if let Some(net) = &mi.network {
            if !matches!(kind, Some(IfKind::Ether | IfKind::Vlan)) {
                let msg = format!("interface {}: network is for an ether or vlan", mi.name);
                return Err(spanned_err(msg, net));
            }
            if !k.net.networks.contains_key(net.get_ref()) {
                let msg = format!("interface {}: unknown network {:?}", mi.name, net.get_ref());
                return Err(spanned_err(msg, net));
            }
            k.net.cables.insert(mi.name.clone(), net.get_ref().clone());
        }
        if let Some(bss) = &mi.bss {
            if kind != Some(IfKind::Wlan) {
                return Err(spanned_err(format!("interface {}: bss is for a wlan", mi.name), bss));
            }
            if !k.net.bsses.contains_key(bss.get_ref()) {
                let msg = format!("interface {}: unknown bss {:?}", mi.name, bss.get_ref());
                return Err(spanned_err(msg, bss));
            }
            k.net.assoc.insert(mi.name.clone(), bss.get_ref().clone());
        }
    }
    let saved = m.layer3.clone().unwrap_or_default();
    if !k.net.enabled() {
        let any = m.interface.iter().any(|i| i.dhcp == Some(true) || i.accept_rtadv == Some(true));
        if any || saved != Layer3File::default() {
            return Err(err(
                "machine: dhcp, accept_rtadv and layer3 need a [[machine.network]]".into()
            ));
        }
        return Ok(());
    }
    restore(k, &saved)?;
    for mi in &m.interface {
        if saved.interface.contains_key(&mi.name) {
            continue;
        }
        if mi.dhcp == Some(true) {
            as_rc_left_dhcp(k, &mi.name);
        }
        if mi.accept_rtadv == Some(true) {
            as_rc_left_rtadv(k, &mi.name);
        }
    }
    if k.net.networks.values().any(|n| n.ra.is_some()) {
        k.net.schedule(UNSOLICITED_MS, true, Due::UnsolicitedAdverts);
    }
    Ok(())
}

/// `dhcp = true`: a bound, backgrounded dhclient with a lease from the
/// network the interface reaches (or one that found none, sleeping).
fn as_rc_left_dhcp(k: &mut SimKernel, ifname: &IfName) {
    let Some(mac) = k.ifnets.get(ifname).map(|i| i.lladdr) else { return };
    let reached = k.reached(ifname).map(|(n, _)| n.to_owned());
    let lease = reached.and_then(|name| {
        let n = k.net.networks.get_mut(&name)?;
        let (subnet, router) = (n.subnet?, n.gateway);
        let server = n.dhcp.as_mut()?;
        let taken =
            |s: &DhcpServer, ip: Ipv4Addr| s.bindings.iter().any(|(m, a)| *a == ip && *m != mac);
        let ip = match server.bindings.get(&mac) {
            Some(ip) => *ip,
            None => (u32::from(server.pool.0)..=u32::from(server.pool.1))
                .map(Ipv4Addr::from)
                .find(|&ip| !taken(server, ip))?,
        };
        server.bindings.insert(mac, ip);
        Some((Ipv4Net { addr: ip, len: subnet.len }, router, name, server.lease_s))
    });
    let file = lease_file(ifname);
    if let Some((addr, router, server, lease_s)) = lease {
        let l = LeaseFile { addr, router, server, lease_s };
        k.net.lease_files.insert(file.clone(), lease_of(&l, k.now));
        restore_client(k, ifname, &DhclientFile { background: true, lease_file: file });
        k.net.stack_mut(ifname).add_inet(addr);
        if let Some(router) = router {
            k.route_add_default(ifname, router);
        }
        k.net_refresh();
    } else {
        restore_client(k, ifname, &DhclientFile { background: true, lease_file: file });
    }
}

/// `accept_rtadv = true`: the reached network's prefix, router and
/// neighbour entry, as after its advertisement.
fn as_rc_left_rtadv(k: &mut SimKernel, ifname: &IfName) {
    k.set_accept_rtadv(ifname, true);
    let Some(mac) = k.ifnets.get(ifname).map(|i| i.lladdr) else { return };
    let Some(ra) = k.reached(ifname).and_then(|(_, n)| n.ra) else { return };
    let stack = k.net.stack_mut(ifname);
    let prefix = ra.prefix.prefix();
    let router = link_local(ra.router_mac);
    stack.inet6.push(Inet6 { addr: eui64(prefix.addr, mac), prefix, tentative_until: None });
    stack.routers6.insert(router, super::rtadv::router_end(0));
    stack.nd.insert(router, Neighbour { mac: ra.router_mac, expires: u64::MAX });
}

fn lease_of(l: &LeaseFile, now: u64) -> Lease {
    let lease = l.lease_s.max(60) * 1_000;
    Lease {
        addr: l.addr,
        router: l.router,
        server: l.server.clone(),
        renewal: now + lease / 2,
        rebind: now + lease / 2 / 4 * 7,
        expiry: now + lease,
    }
}

fn restore_client(k: &mut SimKernel, ifname: &IfName, f: &DhclientFile) {
    let active = k.net.lease_files.get(&f.lease_file).cloned();
    let args = DhclientArgs { background: f.background, lease_file: Some(f.lease_file.clone()) };
    let mut client = Dhclient::restored(&args, active);
    client.pid = k.net.next_pid();
    k.net.clients.insert(ifname.clone(), client);
    k.dhclient_restored(ifname);
}

fn restore(k: &mut SimKernel, saved: &Layer3File) -> Result<(), SimError> {
    for (path, l) in &saved.lease_files {
        if !k.net.networks.contains_key(&l.server) {
            return Err(err(format!("layer3: lease file {path}: unknown network {:?}", l.server)));
        }
        k.net.lease_files.insert(path.clone(), lease_of(l, k.now));
    }
    for (ifname, s) in &saved.interface {
        if !k.ifnets.contains_key(ifname) {
            return Err(err(format!("layer3: interface {ifname}: no such interface")));
        }
        let now = k.now;
        let stack = k.net.stack_mut(ifname);
        stack.inet = s.inet.clone();
        stack.inet6 = s
            .inet6
            .iter()
            .map(|a| Inet6 { addr: a.addr, prefix: a.prefix(), tentative_until: None })
            .collect();
        stack.nd =
            s.nd.iter()
                .map(|(ip, mac)| (*ip, Neighbour { mac: *mac, expires: u64::MAX }))
                .collect();
        stack.routers6 = s.routers6.iter().map(|r| (*r, super::rtadv::router_end(now))).collect();
        stack.accept_rtadv = s.accept_rtadv;
        for (ip, mac) in &s.arp {
            k.arp_learn(ifname, *ip, *mac);
        }
        if let Some(c) = &s.dhclient {
            restore_client(k, ifname, c);
        }
    }
    if let Some(r) = &saved.default_route {
        k.net.default4 = Some(Route4 { gateway: r.gateway, ifname: r.interface.clone() });
    }
    Ok(())
}

/// Writes the layer-3 world of `k` into `m` (the networks with their
/// bindings, the BSSes, the interface keys and `[machine.layer3]`).
pub(in crate::sim) fn describe(k: &SimKernel, m: &mut Machine) {
    if !k.net.enabled() {
        return;
    }
    for (name, n) in &k.net.networks {
        m.network.push(NetworkFile {
            name: name.clone(),
            subnet: n.subnet,
            gateway: n.gateway,
            gateway_mac: n.gateway_mac,
            answers_arp: n.answers_arp,
            dhcp: n.dhcp.as_ref().map(|d| DhcpFile {
                pool: format!("{}-{}", d.pool.0, d.pool.1),
                authoritative: d.authoritative,
                delay_ms: d.delay_ms,
                lease_s: d.lease_s,
            }),
            ra: n.ra.map(|r| RaFile {
                prefix: r.prefix,
                router_mac: r.router_mac,
                delay_ms: r.delay_ms,
            }),
            captive_portal: n.captive_portal,
            rtt_ms: n.rtt_ms,
            bindings: n
                .dhcp
                .as_ref()
                .filter(|d| !d.bindings.is_empty())
                .map(|d| d.bindings.clone()),
        });
    }
    for (name, b) in &k.net.bsses {
        m.bss.push(BssFile {
            name: name.clone(),
            ssid: b.ssid.clone(),
            network: Spanned::new(0..0, b.network.clone()),
        });
    }
    for mi in &mut m.interface {
        mi.network = k.net.cables.get(&mi.name).map(|n| Spanned::new(0..0, n.clone()));
        mi.bss = k.net.assoc.get(&mi.name).map(|n| Spanned::new(0..0, n.clone()));
    }
    let mut l3 = Layer3File {
        default_route: k
            .net
            .default4
            .as_ref()
            .map(|r| RouteFile { gateway: r.gateway, interface: r.ifname.clone() }),
        ..Layer3File::default()
    };
    for (path, l) in &k.net.lease_files {
        let lease_s = (l.expiry.saturating_sub(l.renewal) * 2 / 1_000).max(60);
        let f = LeaseFile { addr: l.addr, router: l.router, server: l.server.clone(), lease_s };
        l3.lease_files.insert(path.clone(), f);
    }
    let names: std::collections::BTreeSet<&IfName> =
        k.net.stacks.keys().chain(k.net.clients.keys()).collect();
    for ifname in names {
        let s = k.net.stacks.get(ifname).cloned().unwrap_or_default();
        let f = StackFile {
            inet: s.inet.clone(),
            inet6: s.inet6.iter().map(|a| Ipv6Net { addr: a.addr, len: a.prefix.len }).collect(),
            arp: s.arp.iter().map(|(ip, e)| (*ip, e.mac)).collect(),
            nd: s.nd.iter().map(|(ip, e)| (*ip, e.mac)).collect(),
            routers6: s.routers6.keys().copied().collect(),
            accept_rtadv: s.accept_rtadv,
            dhclient: k.net.clients.get(ifname).map(Dhclient::file),
        };
        if f != StackFile::default() {
            l3.interface.insert(ifname.clone(), f);
        }
    }
    if l3 != Layer3File::default() {
        m.layer3 = Some(l3);
    }
}
