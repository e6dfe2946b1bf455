//! What lagghook remembers of the networks a lagg has been on (issue 20,
//! point 2), and of its network checks: pure data and the rules that
//! update it. The file it lives in (`/var/db/lagghook/networks`) is
//! `run::networks`'s; the verdict that uses it is `attach`'s.
//!
//! A network is known by its IPv4 gateway's MAC and IP (a router on a stick
//! serves several VLANs with one MAC, so the MAC alone would merge them),
//! or for an IPv6-only network by its first router's MAC. What is kept of
//! it: the addresses the lagg held there, the gateway and routers with
//! their MACs (what a probe asks for), the SSIDs a verdict put the laptop
//! on, and when it was last seen. Bounded: at most [`MAX_NETWORKS`] per
//! lagg, the least recently seen forgotten first (never the current one).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::domain::layer3::{DefaultRoute, IfAddr, LeaseFile, Neighbour, Ssid};
use crate::domain::model::{IfName, MacAddr};

/// Networks remembered per lagg.
pub const MAX_NETWORKS: usize = 32;
/// SSIDs remembered per network (an office with a few BSSs, an extender).
pub const MAX_SSIDS: usize = 8;
/// Addresses of a family remembered per network.
pub const MAX_ADDRESSES: usize = 4;
/// IPv6 routers remembered per network.
pub const MAX_ROUTERS: usize = 4;

/// A gateway or router: its address and its Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Gateway {
    pub ip: IpAddr,
    pub mac: MacAddr,
}

impl fmt::Display for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.ip, self.mac)
    }
}

/// A network's key, which also names its lease file: `000db9000001-192.168.1.1`,
/// or `000db9000001-v6` for an IPv6-only network.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NetworkKey(String);

impl NetworkKey {
    pub fn of_gateway(gw: &Gateway) -> NetworkKey {
        NetworkKey(format!("{}-{}", hex(gw.mac), gw.ip))
    }

    pub fn of_router(router: &Gateway) -> NetworkKey {
        NetworkKey(format!("{}-v6", hex(router.mac)))
    }

    /// A key as read back from a file, if it has a key's shape.
    pub fn parse(s: &str) -> Option<NetworkKey> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
        ok.then(|| NetworkKey(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This network's own lease file for `lagg` (`:` of an IPv6 gateway
    /// turned into `_`).
    pub fn lease_file(&self, lagg: &IfName) -> Option<LeaseFile> {
        LeaseFile::new(lagg, &self.0.replace(':', "_"))
    }
}

impl fmt::Display for NetworkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn hex(mac: MacAddr) -> String {
    mac.0.iter().map(|b| format!("{b:02x}")).collect()
}

/// One remembered network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownNetwork {
    pub key: NetworkKey,
    /// The IPv4 addresses the lagg held there (usually one).
    #[serde(default)]
    pub inet: Vec<IfAddr>,
    /// The IPv4 default gateway.
    pub gateway: Option<Gateway>,
    /// The global IPv6 addresses the lagg held there (their prefixes are
    /// the network's).
    #[serde(default)]
    pub inet6: Vec<IfAddr>,
    /// The IPv6 default routers (link-local addresses).
    #[serde(default)]
    pub routers: Vec<Gateway>,
    /// SSIDs a verdict put the laptop on while on this network.
    #[serde(default)]
    pub ssids: BTreeSet<Ssid>,
    /// Unix time.
    pub last_seen: u64,
}

impl KnownNetwork {
    /// Whether `reply` (an answer heard during a probe) comes from this
    /// network's gateway or one of its routers.
    pub fn answers_as(&self, ip: IpAddr, mac: MacAddr) -> bool {
        self.gateway.iter().chain(self.routers.iter()).any(|g| g.ip == ip && g.mac == mac)
    }

    /// A short name for log lines: its gateway (`192.168.1.1 at 00:0d:…`).
    pub fn describe(&self) -> String {
        match (self.gateway, self.routers.first()) {
            (Some(g), _) | (None, Some(&g)) => g.to_string(),
            (None, None) => self.key.to_string(),
        }
    }
}

/// What a run read of a lagg that carries traffic: the kernel reads of
/// issue 20's point 2.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observation {
    pub addresses: Vec<IfAddr>,
    /// The default routes that leave by this lagg.
    pub routes: Vec<DefaultRoute>,
    /// The neighbour entries of those routes' gateways.
    pub neighbours: Vec<Neighbour>,
    /// The active port's SSID, when it is a vap.
    pub ssid: Option<Ssid>,
}

impl Observation {
    /// The IPv4 gateway with its MAC, when its route and a resolved
    /// neighbour entry are there.
    pub fn gateway(&self) -> Option<Gateway> {
        self.resolved().find(|g| g.ip.is_ipv4())
    }

    /// The IPv6 default routers with their MACs.
    pub fn routers(&self) -> Vec<Gateway> {
        self.resolved().filter(|g| g.ip.is_ipv6()).take(MAX_ROUTERS).collect()
    }

    fn resolved(&self) -> impl Iterator<Item = Gateway> + '_ {
        self.routes.iter().filter_map(|r| {
            let n = self.neighbours.iter().find(|n| n.ip == r.gateway)?;
            Some(Gateway { ip: r.gateway, mac: n.mac? })
        })
    }

    /// The network this observation shows, if a gateway or router is
    /// resolved. SSIDs are not taken from an observation: only a verdict
    /// adds one ([`Networks::add_ssid`]).
    pub fn network(&self, now: u64) -> Option<KnownNetwork> {
        let gateway = self.gateway();
        let routers = self.routers();
        let key = match (&gateway, routers.first()) {
            (Some(g), _) => NetworkKey::of_gateway(g),
            (None, Some(r)) => NetworkKey::of_router(r),
            (None, None) => return None,
        };
        let inet: Vec<IfAddr> = self
            .addresses
            .iter()
            // dhclient-script's PREINIT alias 0.0.0.0/8 (14's `inet alias
            // 0.0.0.0 netmask 255.0.0.0`) is no address of a network.
            .filter(|a| a.ipv4().is_some() && a.is_assigned())
            .filter(|a| gateway.is_none_or(|g| a.contains(g.ip)))
            .take(MAX_ADDRESSES)
            .copied()
            .collect();
        let inet6: Vec<IfAddr> = self
            .addresses
            .iter()
            .filter(|a| a.ipv6().is_some() && a.is_global())
            .take(MAX_ADDRESSES)
            .copied()
            .collect();
        Some(KnownNetwork {
            key,
            inet,
            gateway,
            inet6,
            routers,
            ssids: BTreeSet::new(),
            last_seen: now,
        })
    }
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    /// Unix time.
    pub time: u64,
    /// The verdict line, as logged (`same network (gateway …)`).
    pub verdict: String,
    /// A re-address that failed (a DHCP client missing or exiting
    /// non-zero, a removal refused): `status` shows the lagg degraded.
    #[serde(default)]
    pub failed: Option<String>,
}

/// A check started and not yet finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub generation: u64,
    /// Unix time, ms.
    pub spawned_ms: u64,
    /// Unix time, ms: the helper is gone by then, finished or not.
    pub deadline_ms: u64,
    /// The check follows the lagg's own link-up (it had no active port):
    /// its DHCP client is already asking for its lease.
    #[serde(default)]
    pub lagg_bounced: bool,
}

/// Everything remembered for one lagg.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LaggNetworks {
    /// The network the lagg was last seen on.
    pub current: Option<NetworkKey>,
    /// The active port's SSID at the last check (or the last record).
    pub ssid: Option<Ssid>,
    /// Bumped for every check started; a helper whose generation is no
    /// longer this one gives way.
    #[serde(default)]
    pub generation: u64,
    pub in_flight: Option<InFlight>,
    pub last_check: Option<LastCheck>,
    /// Most recently seen first.
    #[serde(default)]
    pub networks: Vec<KnownNetwork>,
}

impl LaggNetworks {
    pub fn network(&self, key: &NetworkKey) -> Option<&KnownNetwork> {
        self.networks.iter().find(|n| &n.key == key)
    }

    /// The network the lagg was last seen on.
    pub fn current(&self) -> Option<&KnownNetwork> {
        self.current.as_ref().and_then(|k| self.network(k))
    }

    /// The other known networks, most recently seen first.
    pub fn others(&self) -> impl Iterator<Item = &KnownNetwork> + '_ {
        self.networks.iter().filter(move |n| Some(&n.key) != self.current.as_ref())
    }

    /// Remembers `seen` as the network the lagg is on now: merged into
    /// its record if known (its SSIDs kept), else added; moved to the
    /// front; the least recently seen beyond [`MAX_NETWORKS`] dropped.
    pub fn record(&mut self, mut seen: KnownNetwork) {
        if let Some(i) = self.networks.iter().position(|n| n.key == seen.key) {
            let old = self.networks.remove(i);
            seen.ssids = old.ssids;
            if seen.inet.is_empty() {
                seen.inet = old.inet;
            }
        }
        self.current = Some(seen.key.clone());
        self.networks.insert(0, seen);
        self.networks.truncate(MAX_NETWORKS);
    }

    /// Whether `seen` differs from what is remembered of it, ignoring the
    /// time: a converged run writes only then.
    pub fn differs(&self, seen: &KnownNetwork) -> bool {
        if self.current.as_ref() != Some(&seen.key) {
            return true;
        }
        let Some(known) = self.network(&seen.key) else { return true };
        known.inet != seen.inet
            || known.gateway != seen.gateway
            || known.inet6 != seen.inet6
            || known.routers != seen.routers
    }

    /// Adds `ssid` to the current network (a verdict put the laptop on
    /// it), keeping at most [`MAX_SSIDS`].
    pub fn add_ssid(&mut self, ssid: &Ssid) {
        let Some(key) = self.current.clone() else { return };
        if let Some(n) = self.networks.iter_mut().find(|n| n.key == key) {
            if n.ssids.len() < MAX_SSIDS || n.ssids.contains(ssid) {
                n.ssids.insert(ssid.clone());
            }
        }
    }
}

/// Every lagg's networks: the content of `/var/db/lagghook/networks`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Networks {
    #[serde(default)]
    pub lagg: BTreeMap<IfName, LaggNetworks>,
}

impl Networks {
    pub fn of(&self, lagg: &IfName) -> Option<&LaggNetworks> {
        self.lagg.get(lagg)
    }

    pub fn of_mut(&mut self, lagg: &IfName) -> &mut LaggNetworks {
        self.lagg.entry(lagg.clone()).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::layer3::IfAddr;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn obs(addr: &str, gw: &str, mac: &str) -> Observation {
        let (a, len) = addr.split_once('/').unwrap();
        Observation {
            addresses: vec![IfAddr { addr: a.parse().unwrap(), prefix_len: len.parse().unwrap() }],
            routes: vec![DefaultRoute { gateway: gw.parse().unwrap(), ifname: n("lagg0") }],
            neighbours: vec![Neighbour {
                ip: gw.parse().unwrap(),
                mac: Some(mac.parse().unwrap()),
            }],
            ssid: None,
        }
    }

    #[test]
    fn an_observation_names_its_network_by_gateway_mac_and_ip() {
        let o = obs("192.168.1.100/24", "192.168.1.1", "00:0d:b9:00:00:01");
        let net = o.network(7).unwrap();
        assert_eq!(net.key.as_str(), "000db9000001-192.168.1.1");
        assert_eq!(net.inet[0].to_string(), "192.168.1.100/24");
        assert_eq!(
            net.key.lease_file(&n("lagg0")).unwrap().name(),
            "dhclient.lagg0.000db9000001-192.168.1.1"
        );
        // An unresolved gateway is no network yet.
        let mut o = o;
        o.neighbours[0].mac = None;
        assert!(o.network(7).is_none());
    }

    /// Proves the store is bounded and forgets the least recently seen,
    /// and that a record keeps the SSIDs a verdict added.
    #[test]
    fn the_store_is_bounded_and_keeps_ssids() {
        let mut l = LaggNetworks::default();
        let home = obs("192.168.1.100/24", "192.168.1.1", "00:0d:b9:00:00:01").network(1).unwrap();
        l.record(home.clone());
        l.add_ssid(&Ssid::new(b"HomeNet").unwrap());
        for i in 0..40u8 {
            let mac = format!("00:0d:b9:00:01:{i:02x}");
            l.record(obs("10.0.0.2/24", "10.0.0.1", &mac).network(2 + u64::from(i)).unwrap());
        }
        assert_eq!(l.networks.len(), MAX_NETWORKS);
        assert!(l.network(&home.key).is_none(), "the oldest is forgotten");
        l.record(home.clone());
        l.add_ssid(&Ssid::new(b"HomeNet").unwrap());
        l.record(home.clone());
        assert_eq!(l.current().unwrap().ssids.len(), 1);
        assert!(!l.differs(&home));
    }
}
