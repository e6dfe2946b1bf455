//! Detecting network attachment on a lagg (issue 20): when a check is due,
//! what the probe exchange sends, the verdict from the evidence, and the
//! actions each verdict takes. Pure, like `plan`: the devd run and the
//! helper (`run::netcheck`) read the kernel and carry the actions out.
//!
//! The method is RFC 4436's (IPv4) and RFC 6059's (IPv6): a unicast ARP
//! request (Neighbor Solicitation) to the remembered gateway's (router's)
//! IP *and* MAC reaches only that station, so an answer proves the laptop
//! is on the same link; silence proves nothing (a gateway may ignore ARP,
//! a frame may be lost), so a broadcast request for the gateway's IP
//! follows, whose answer from another MAC proves another network. The
//! rules (issue 20, points 1, 3-5):
//! - same network: touch nothing;
//! - another network, proved: stop the DHCP client, remove the old
//!   network's addresses, default routes and neighbour entries, start the
//!   client with that network's own lease, solicit a router;
//! - undecided: settled by the SSID only when SSIDs were recorded for the
//!   old network and none is this one; else ask DHCP for the old lease
//!   without removing anything (or, configured, do nothing). An undecided
//!   move never removes an address.

use std::fmt;
use std::net::IpAddr;

use crate::domain::layer3::{
    DefaultRoute, DhcpClient, IfAddr, Lease, LeaseFile, ProbeExchange, ProbeFrame, ProbeReply,
    ProbeResult, ProbeSend, Ssid,
};
use crate::domain::model::{IfName, MacAddr};
use crate::domain::network::{Gateway, KnownNetwork, LaggNetworks, NetworkKey};
use crate::domain::network_config::{Ipv6Mode, NetworkConfig, Undecided};
use crate::domain::transition::LaggView;

/// Other known networks probed in the same exchange, at most.
pub const MAX_KNOWN_PROBED: usize = 4;
/// Unicast tries per target.
pub const UNICAST_TRIES: u32 = 3;

/// Why a check is due (issue 20, point 1). Nothing else starts one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The lagg's active port changed.
    PortChanged { from: IfName, to: IfName },
    /// The lagg has an active port again after having none.
    Regained { port: IfName },
    /// The active vap's SSID differs from the one recorded at the last check.
    SsidChanged { from: Option<Ssid>, to: Ssid },
    /// rc.resume's reconcile.
    Resume,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::PortChanged { from, to } => write!(f, "active port {from} -> {to}"),
            Trigger::Regained { port } => write!(f, "active port {port} after none"),
            Trigger::SsidChanged { from: Some(from), to } => write!(f, "SSID {from} -> {to}"),
            Trigger::SsidChanged { from: None, to } => write!(f, "SSID {to}"),
            Trigger::Resume => f.write_str("resume"),
        }
    }
}

/// Whether a run that saw the lagg as `before` (the previous run's view)
/// and leaves it as `after` must start a check. `ssid` is the active vap's
/// SSID now, `recorded` the one kept at the last check. Never for a lagg
/// whose configuration asks for none ([`NetworkConfig::checks`]), never
/// while the lagg has no active port (there is nothing to probe through;
/// regaining one is a trigger).
pub fn check_due(
    cfg: &NetworkConfig,
    before: Option<&LaggView>,
    after: Option<&LaggView>,
    ssid: Option<&Ssid>,
    recorded: Option<&Ssid>,
    resume: bool,
) -> Option<Trigger> {
    if !cfg.checks() {
        return None;
    }
    let now = after?.active.clone()?;
    match before.and_then(|b| b.active.clone()) {
        Some(was) if was != now => return Some(Trigger::PortChanged { from: was, to: now }),
        None if before.is_some() => return Some(Trigger::Regained { port: now }),
        _ => {}
    }
    if let (Some(ssid), Some(recorded)) = (ssid, recorded) {
        if ssid != recorded {
            return Some(Trigger::SsidChanged { from: Some(recorded.clone()), to: ssid.clone() });
        }
    }
    resume.then_some(Trigger::Resume)
}

/// What the exchange probes: the old network and, with `probe_known`, up
/// to [`MAX_KNOWN_PROBED`] others, most recently seen first.
pub fn probed<'a>(cfg: &NetworkConfig, nets: &'a LaggNetworks) -> Vec<&'a KnownNetwork> {
    let mut out: Vec<&KnownNetwork> = nets.current().into_iter().collect();
    if cfg.probe_known {
        out.extend(nets.others().take(MAX_KNOWN_PROBED));
    }
    out
}

/// The exchange for `networks` (the old one first), with budget B:
/// unicast ARP to each IPv4 gateway and unicast NS to each router at 0,
/// B/6 and 2B/6 ms; broadcast ARP for the old gateway's IP at B/2 and
/// 2B/3. The sender of an ARP request is the address the lagg holds (or
/// held) on that network; of an NS, the lagg's link-local address. A
/// network whose sender address is unknown is asked by NS only, and an
/// IPv6 router without a link-local address of ours is not asked.
/// `None` when there is nothing to send.
pub fn exchange(
    cfg: &NetworkConfig,
    mac: MacAddr,
    networks: &[&KnownNetwork],
    link_local: Option<std::net::Ipv6Addr>,
) -> Option<ProbeExchange> {
    let budget = cfg.probe_budget_ms;
    let mut frames = Vec::new();
    for net in networks {
        if let (Some(Gateway { ip: IpAddr::V4(target), mac: to }), Some(sender)) =
            (net.gateway, net.inet.first().and_then(IfAddr::ipv4))
        {
            frames.push(ProbeFrame::ArpUnicast { target, to, sender });
        }
        if let Some(sender) = link_local {
            for r in &net.routers {
                if let IpAddr::V6(target) = r.ip {
                    frames.push(ProbeFrame::NsUnicast { target, to: r.mac, sender });
                }
            }
        }
    }
    let mut sends = Vec::new();
    for i in 0..UNICAST_TRIES {
        let at_ms = budget * i / 6;
        sends.extend(frames.iter().map(|&frame| ProbeSend { at_ms, frame }));
    }
    let old = networks.first();
    if let Some((IpAddr::V4(target), Some(sender))) =
        old.and_then(|n| Some((n.gateway?.ip, n.inet.first().and_then(IfAddr::ipv4))))
    {
        for at_ms in [budget / 2, budget * 2 / 3] {
            sends.push(ProbeSend { at_ms, frame: ProbeFrame::ArpBroadcast { target, sender } });
        }
    }
    (!sends.is_empty()).then_some(ProbeExchange { from: mac, sends, budget_ms: budget })
}

/// Where a verdict says the lagg is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A known network: its key.
    Known(NetworkKey),
    /// A network never seen; `gateway` when a broadcast reply revealed it.
    Unknown { gateway: Option<Gateway> },
}

/// What proved a move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    Reply(ProbeReply),
    /// No reply, and an SSID none of the old network's.
    Ssid(Ssid),
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The remembered gateway or router answered.
    Same { reply: ProbeReply, unicast: bool },
    /// The lagg is on another network, proved.
    Another { to: Destination, proof: Proof },
    /// Nothing proves anything.
    Undecided { why: &'static str },
}

/// The verdict from the evidence: the old network (`networks[0]`) and the
/// other probed ones, the exchange and what it heard, the active vap's
/// SSID.
pub fn verdict(
    networks: &[&KnownNetwork],
    exchange: &ProbeExchange,
    result: &ProbeResult,
    ssid: Option<&Ssid>,
) -> Verdict {
    let Some(old) = networks.first() else {
        return Verdict::Undecided { why: "no network remembered" };
    };
    for reply in &result.replies {
        let Some(send) = exchange.sends.get(reply.send) else { continue };
        let unicast = !result.fallback && !matches!(send.frame, ProbeFrame::ArpBroadcast { .. });
        if old.answers_as(reply.ip, reply.mac) {
            return Verdict::Same { reply: *reply, unicast };
        }
        // A unicast frame reaches only the MAC it was sent to, so its
        // answer names a known network; a broadcast answer for a known
        // network's gateway IP and MAC does as well.
        if let Some(other) = networks[1..].iter().find(|n| n.answers_as(reply.ip, reply.mac)) {
            return Verdict::Another {
                to: Destination::Known(other.key.clone()),
                proof: Proof::Reply(*reply),
            };
        }
        // Someone else holds the old gateway's address: two cafés both on
        // 192.168.1.1.
        if old.gateway.is_some_and(|g| g.ip == reply.ip && g.mac != reply.mac) {
            let gateway = Some(Gateway { ip: reply.ip, mac: reply.mac });
            return Verdict::Another {
                to: Destination::Unknown { gateway },
                proof: Proof::Reply(*reply),
            };
        }
    }
    // Silence. A network only ever seen by cable gives no hint.
    match ssid {
        Some(s) if !old.ssids.is_empty() && !old.ssids.contains(s) => Verdict::Another {
            to: Destination::Unknown { gateway: None },
            proof: Proof::Ssid(s.clone()),
        },
        _ if result.fallback => Verdict::Undecided { why: "no reply to the kernel's ARP" },
        _ => Verdict::Undecided { why: "no reply" },
    }
}

impl Verdict {
    /// The log line's body, after `LAGG: `.
    pub fn describe(&self, networks: &[&KnownNetwork]) -> String {
        let find = |key: &NetworkKey| networks.iter().find(|n| &n.key == key);
        match self {
            Verdict::Same { reply, unicast } => format!(
                "same network (gateway {} at {}, {} ms{})",
                reply.ip,
                reply.mac,
                reply.at_ms,
                if *unicast { "" } else { ", broadcast" }
            ),
            Verdict::Another { to, proof } => {
                let to = match to {
                    Destination::Known(k) => {
                        format!("known network {}", find(k).map_or(k.to_string(), |n| n.describe()))
                    }
                    Destination::Unknown { gateway: Some(g) } => {
                        format!("new network (gateway {g})")
                    }
                    Destination::Unknown { gateway: None } => "new network".to_owned(),
                };
                let proof = match proof {
                    Proof::Reply(r) => format!("{} at {} answered in {} ms", r.ip, r.mac, r.at_ms),
                    Proof::Ssid(s) => format!("no reply, SSID \"{s}\" never seen there"),
                };
                format!("moved to {to}: {proof}")
            }
            Verdict::Undecided { why } => format!("network undecided ({why})"),
        }
    }
}

/// One step of a re-address, carried out by the helper in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachAction {
    /// Stop the lagg's running DHCP client (if one runs).
    StopDhcpClient,
    DeleteAddress(IfAddr),
    DeleteDefaultRoute(DefaultRoute),
    DeleteNeighbour(IpAddr),
    StartDhcpClient {
        client: DhcpClient,
        lease: Lease,
    },
    SolicitRouter,
}

impl fmt::Display for AttachAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachAction::StopDhcpClient => f.write_str("stop the DHCP client"),
            AttachAction::DeleteAddress(a) => write!(f, "delete address {a}"),
            AttachAction::DeleteDefaultRoute(r) => {
                write!(f, "delete default route via {}", r.gateway)
            }
            AttachAction::DeleteNeighbour(ip) => write!(f, "delete neighbour {ip}"),
            AttachAction::StartDhcpClient { client, lease } => {
                write!(f, "start {client} ({lease})")
            }
            AttachAction::SolicitRouter => f.write_str("rtsol"),
        }
    }
}

/// What the lagg holds now, read by the helper just before it acts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Current {
    pub addresses: Vec<IfAddr>,
    pub routes: Vec<DefaultRoute>,
    /// The neighbour entry of the gateway that answered, if any.
    pub gateway_entry: Option<crate::domain::layer3::Neighbour>,
    /// The lagg itself went down and up (it had no active port): its
    /// DHCP client heard that (dhclient's `routehandler`: RTM_IFINFO, link
    /// down to up, `state_reboot`) and is already asking for its lease.
    pub lagg_bounced: bool,
}

/// The actions of `verdict` for `lagg`, whose old network is `old`.
/// Same network: none. Another: remove exactly what belongs to the old
/// network (addresses in its prefixes, default routes via its gateway or
/// routers, their neighbour entries) and start over with the destination's
/// own lease. Undecided: restart the client on the old lease, or nothing;
/// never a removal.
pub fn actions(
    cfg: &NetworkConfig,
    lagg: &IfName,
    verdict: &Verdict,
    old: &KnownNetwork,
    current: &Current,
) -> Vec<AttachAction> {
    let mut out = Vec::new();
    match verdict {
        // Same network: nothing, unless the kernel's entry for the gateway
        // holds another MAC (learnt on another segment with the same
        // gateway address): that entry carries nothing, and removing it is
        // the one write that lets the kernel resolve the gateway again.
        Verdict::Same { reply, .. } => {
            if let Some(n) = current.gateway_entry {
                if n.ip == reply.ip && n.mac.is_some_and(|m| m != reply.mac) {
                    out.push(AttachAction::DeleteNeighbour(n.ip));
                }
            }
            // On the remembered network, but holding only another
            // network's IPv4 address (a lease that came after the last
            // check ended): what is there carries nothing here, so it goes
            // and the client asks for this network's own lease.
            if let (Some(client), Some(file)) = (cfg.dhcp, old.key.lease_file(lagg)) {
                let held: Vec<IfAddr> = current
                    .addresses
                    .iter()
                    .filter(|a| a.ipv4().is_some() && a.is_assigned())
                    .copied()
                    .collect();
                let ours = |a: &IfAddr| old.inet.iter().any(|o| o.contains(a.addr));
                if !old.inet.is_empty() && !held.is_empty() && !held.iter().any(ours) {
                    out.clear();
                    out.push(AttachAction::StopDhcpClient);
                    out.extend(held.into_iter().map(AttachAction::DeleteAddress));
                    out.extend(
                        current
                            .routes
                            .iter()
                            .filter(|r| r.gateway.is_ipv4() && &r.ifname == lagg)
                            .cloned()
                            .map(AttachAction::DeleteDefaultRoute),
                    );
                    out.push(AttachAction::DeleteNeighbour(reply.ip));
                    out.push(AttachAction::StartDhcpClient {
                        client,
                        lease: Lease { file, fresh: false },
                    });
                }
            }
        }
        Verdict::Another { to, .. } => {
            if cfg.dhcp.is_some() {
                out.push(AttachAction::StopDhcpClient);
                out.extend(old_v4(old, current).map(AttachAction::DeleteAddress));
                if let Some(g) = old.gateway {
                    out.extend(
                        current
                            .routes
                            .iter()
                            .filter(|r| r.gateway == g.ip && &r.ifname == lagg)
                            .cloned()
                            .map(AttachAction::DeleteDefaultRoute),
                    );
                    out.push(AttachAction::DeleteNeighbour(g.ip));
                }
            }
            if cfg.ipv6 == Ipv6Mode::Rtsol {
                out.extend(old_v6(old, current).map(AttachAction::DeleteAddress));
                for r in &old.routers {
                    out.extend(
                        current
                            .routes
                            .iter()
                            .filter(|d| d.gateway == r.ip && &d.ifname == lagg)
                            .cloned()
                            .map(AttachAction::DeleteDefaultRoute),
                    );
                    out.push(AttachAction::DeleteNeighbour(r.ip));
                }
            }
            if let (Some(client), Some(lease)) = (cfg.dhcp, destination_lease(lagg, to)) {
                out.push(AttachAction::StartDhcpClient { client, lease });
            }
            if cfg.ipv6 == Ipv6Mode::Rtsol {
                out.push(AttachAction::SolicitRouter);
            }
        }
        Verdict::Undecided { .. } if cfg.undecided == Undecided::Keep => {}
        // The client already asks for its old lease (INIT-REBOOT on the
        // lagg's link-up): a restart would only add an exchange.
        Verdict::Undecided { .. } if current.lagg_bounced => {
            if cfg.ipv6 == Ipv6Mode::Rtsol {
                out.push(AttachAction::SolicitRouter);
            }
        }
        Verdict::Undecided { .. } => {
            if let (Some(client), Some(file)) = (cfg.dhcp, old.key.lease_file(lagg)) {
                // dhcpcd releases its address when it stops (unless run
                // with its persistent option); a running one is asked to rebind
                // instead (`dhcpcd -n`, the backend's start of a running
                // dhcpcd), which keeps it. dhclient leaves the address as
                // it is when killed.
                if client == DhcpClient::Dhclient {
                    out.push(AttachAction::StopDhcpClient);
                }
                out.push(AttachAction::StartDhcpClient {
                    client,
                    lease: Lease { file, fresh: false },
                });
            }
            if cfg.ipv6 == Ipv6Mode::Rtsol {
                out.push(AttachAction::SolicitRouter);
            }
        }
    }
    out
}

/// The lagg's IPv4 addresses in the old network's prefixes.
fn old_v4<'a>(old: &'a KnownNetwork, current: &'a Current) -> impl Iterator<Item = IfAddr> + 'a {
    current
        .addresses
        .iter()
        .filter(|a| a.ipv4().is_some() && old.inet.iter().any(|o| o.contains(a.addr)))
        .copied()
}

/// The lagg's global IPv6 addresses in the old network's prefixes.
fn old_v6<'a>(old: &'a KnownNetwork, current: &'a Current) -> impl Iterator<Item = IfAddr> + 'a {
    current
        .addresses
        .iter()
        .filter(|a| a.ipv6().is_some() && a.is_global())
        .filter(|a| old.inet6.iter().any(|o| o.contains(a.addr)))
        .copied()
}

/// The lease a move to `to` starts from: a known network's own; for a new
/// one, an emptied file named after the gateway the broadcast revealed,
/// else `unknown`.
fn destination_lease(lagg: &IfName, to: &Destination) -> Option<Lease> {
    match to {
        Destination::Known(key) => Some(Lease { file: key.lease_file(lagg)?, fresh: false }),
        Destination::Unknown { gateway: Some(g) } => {
            Some(Lease { file: NetworkKey::of_gateway(g).lease_file(lagg)?, fresh: true })
        }
        Destination::Unknown { gateway: None } => {
            Some(Lease { file: LeaseFile::new(lagg, "unknown")?, fresh: true })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::layer3::Neighbour;
    use crate::domain::network::Observation;
    use std::net::Ipv4Addr;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    const HOME_GW: &str = "00:0d:b9:00:00:01";
    const CAFE_GW: &str = "00:0d:b9:00:00:02";
    const LAGG: &str = "00:11:22:33:44:55";

    fn net(addr: &str, gw: &str, gw_mac: &str) -> KnownNetwork {
        let (a, len) = addr.split_once('/').unwrap();
        Observation {
            addresses: vec![IfAddr { addr: a.parse().unwrap(), prefix_len: len.parse().unwrap() }],
            routes: vec![DefaultRoute { gateway: gw.parse().unwrap(), ifname: n("lagg0") }],
            neighbours: vec![Neighbour { ip: gw.parse().unwrap(), mac: Some(mac(gw_mac)) }],
            ssid: None,
        }
        .network(1)
        .unwrap()
    }

    fn view(active: Option<&str>) -> LaggView {
        LaggView { active: active.map(n), ..LaggView::default() }
    }

    fn reply(x: &ProbeExchange, send: usize, ip: &str, from: &str, at_ms: u32) -> ProbeResult {
        let _ = &x.sends[send];
        ProbeResult {
            replies: vec![ProbeReply { send, ip: ip.parse().unwrap(), mac: mac(from), at_ms }],
            sent: send as u32 + 1,
            elapsed_ms: at_ms,
            ..ProbeResult::default()
        }
    }

    fn silence(x: &ProbeExchange) -> ProbeResult {
        ProbeResult {
            sent: x.sends.len() as u32,
            elapsed_ms: x.budget_ms,
            ..ProbeResult::default()
        }
    }

    /// Proves a check is due on exactly the four triggers of point 1, and
    /// never with the feature off or for a static lagg.
    #[test]
    fn a_check_is_due_on_the_four_triggers_and_nothing_else() {
        let on = NetworkConfig::default();
        let (em0, wlan0, none) = (view(Some("em0")), view(Some("wlan0")), view(None));
        let (home, cafe) = (Ssid::new(b"Home").unwrap(), Ssid::new(b"Cafe").unwrap());
        let due = |b: Option<&LaggView>, a: Option<&LaggView>, s, r, resume| {
            check_due(&on, b, a, s, r, resume)
        };
        assert!(matches!(
            due(Some(&em0), Some(&wlan0), None, None, false),
            Some(Trigger::PortChanged { .. })
        ));
        assert!(matches!(
            due(Some(&none), Some(&wlan0), None, None, false),
            Some(Trigger::Regained { .. })
        ));
        assert!(matches!(
            due(Some(&wlan0), Some(&wlan0), Some(&cafe), Some(&home), false),
            Some(Trigger::SsidChanged { .. })
        ));
        assert_eq!(due(Some(&em0), Some(&em0), None, None, true), Some(Trigger::Resume));
        // Nothing else: the same port, the same SSID, no port at all, a
        // lagg seen for the first time.
        assert_eq!(due(Some(&em0), Some(&em0), None, None, false), None);
        assert_eq!(due(Some(&wlan0), Some(&wlan0), Some(&home), Some(&home), false), None);
        assert_eq!(due(Some(&em0), Some(&none), None, None, true), None);
        assert_eq!(due(None, Some(&em0), None, None, false), None);
        // The feature off, and a static lagg.
        let off = NetworkConfig { check: false, ..NetworkConfig::default() };
        assert_eq!(check_due(&off, Some(&em0), Some(&wlan0), None, None, true), None);
        let fixed = NetworkConfig { dhcp: None, ipv6: Ipv6Mode::Off, ..NetworkConfig::default() };
        assert_eq!(check_due(&fixed, Some(&em0), Some(&wlan0), None, None, true), None);
    }

    #[test]
    fn the_exchange_is_unicast_first_then_broadcast_within_the_budget() {
        let cfg = NetworkConfig::default();
        let home = net("192.168.1.100/24", "192.168.1.1", HOME_GW);
        let x = exchange(&cfg, mac(LAGG), &[&home], None).unwrap();
        let at: Vec<u32> = x.sends.iter().map(|s| s.at_ms).collect();
        assert_eq!(at, [0, 50, 100, 150, 200]);
        assert!(x.sends[..3].iter().all(|s| matches!(
            s.frame,
            ProbeFrame::ArpUnicast { to, sender, .. }
                if to == mac(HOME_GW) && sender == Ipv4Addr::new(192, 168, 1, 100)
        )));
        assert!(matches!(x.sends[3].frame, ProbeFrame::ArpBroadcast { .. }));
        assert!(x.sends.iter().all(|s| s.at_ms < x.budget_ms));
        // Known networks join the unicast tries, each with its own sender.
        let cafe = net("10.0.0.7/24", "10.0.0.1", CAFE_GW);
        let x = exchange(&cfg, mac(LAGG), &[&home, &cafe], None).unwrap();
        assert_eq!(x.sends.len(), 8);
        assert!(x.sends.iter().any(|s| matches!(
            s.frame,
            ProbeFrame::ArpUnicast { sender, .. } if sender == Ipv4Addr::new(10, 0, 0, 7)
        )));
    }

    /// Point 4: an answer from the remembered gateway is the same
    /// network, and nothing is done.
    #[test]
    fn same_network_touches_nothing() {
        let cfg = NetworkConfig::default();
        let home = net("192.168.1.100/24", "192.168.1.1", HOME_GW);
        let x = exchange(&cfg, mac(LAGG), &[&home], None).unwrap();
        let v = verdict(&[&home], &x, &reply(&x, 0, "192.168.1.1", HOME_GW, 4), None);
        assert!(matches!(v, Verdict::Same { unicast: true, .. }), "{v:?}");
        assert_eq!(
            v.describe(&[&home]),
            "same network (gateway 192.168.1.1 at 00:0d:b9:00:00:01, 4 ms)"
        );
        assert!(actions(&cfg, &n("lagg0"), &v, &home, &Current::default()).is_empty());
    }

    /// Point 3/5: two cafés on 192.168.1.1: the broadcast answer from
    /// another MAC proves the move, and the old network's address, route
    /// and neighbour entry go, in order, before the client starts on an
    /// emptied lease.
    #[test]
    fn another_mac_for_the_gateway_ip_is_another_network_and_re_addresses() {
        let cfg = NetworkConfig::default();
        let home = net("192.168.1.100/24", "192.168.1.1", HOME_GW);
        let x = exchange(&cfg, mac(LAGG), &[&home], None).unwrap();
        let v = verdict(&[&home], &x, &reply(&x, 3, "192.168.1.1", CAFE_GW, 152), None);
        let Verdict::Another { to: Destination::Unknown { gateway: Some(_) }, .. } = v else {
            panic!("{v:?}")
        };
        let lagg = n("lagg0");
        let current = Current {
            addresses: vec![
                IfAddr::v4(Ipv4Addr::new(192, 168, 1, 100), 24),
                IfAddr::v6("fe80::211:22ff:fe33:4455".parse().unwrap(), 64),
            ],
            routes: vec![DefaultRoute {
                gateway: "192.168.1.1".parse().unwrap(),
                ifname: lagg.clone(),
            }],
            ..Current::default()
        };
        let acts: Vec<String> =
            actions(&cfg, &lagg, &v, &home, &current).iter().map(|a| a.to_string()).collect();
        assert_eq!(
            acts,
            [
                "stop the DHCP client",
                "delete address 192.168.1.100/24",
                "delete default route via 192.168.1.1",
                "delete neighbour 192.168.1.1",
                "start dhclient (dhclient.lagg0.000db9000002-192.168.1.1 (emptied))",
                "rtsol",
            ]
        );
    }

    /// A unicast answer from another known network's gateway: a return
    /// there, with that network's own lease (not emptied).
    #[test]
    fn a_known_gateway_answering_is_a_return_with_its_own_lease() {
        let cfg = NetworkConfig::default();
        let home = net("192.168.1.100/24", "192.168.1.1", HOME_GW);
        let office = net("10.1.0.20/16", "10.1.0.1", CAFE_GW);
        let x = exchange(&cfg, mac(LAGG), &[&home, &office], None).unwrap();
        let v = verdict(&[&home, &office], &x, &reply(&x, 1, "10.1.0.1", CAFE_GW, 3), None);
        assert_eq!(
            v,
            Verdict::Another {
                to: Destination::Known(office.key.clone()),
                proof: Proof::Reply(ProbeReply {
                    send: 1,
                    ip: "10.1.0.1".parse().unwrap(),
                    mac: mac(CAFE_GW),
                    at_ms: 3
                })
            }
        );
        let acts = actions(&cfg, &n("lagg0"), &v, &home, &Current::default());
        assert!(acts.contains(&AttachAction::StartDhcpClient {
            client: DhcpClient::Dhclient,
            lease: Lease { file: office.key.lease_file(&n("lagg0")).unwrap(), fresh: false }
        }));
    }

    /// Point 3: silence is settled by the SSID only when SSIDs were
    /// recorded for the old network and none is this one; a network only
    /// seen by cable gives no hint; undecided never removes an address.
    #[test]
    fn silence_is_settled_by_ssid_or_by_dhcp_and_never_removes_an_address() {
        let cfg = NetworkConfig::default();
        let mut home = net("192.168.1.100/24", "192.168.1.1", HOME_GW);
        let x = exchange(&cfg, mac(LAGG), &[&home], None).unwrap();
        let cafe = Ssid::new(b"Cafe").unwrap();
        // Seen by cable only: no SSID hint.
        let v = verdict(&[&home], &x, &silence(&x), Some(&cafe));
        assert_eq!(v, Verdict::Undecided { why: "no reply" });
        let current = Current {
            addresses: vec![IfAddr::v4(Ipv4Addr::new(192, 168, 1, 100), 24)],
            ..Current::default()
        };
        let acts = actions(&cfg, &n("lagg0"), &v, &home, &current);
        assert!(!acts.iter().any(|a| matches!(
            a,
            AttachAction::DeleteAddress(_)
                | AttachAction::DeleteDefaultRoute(_)
                | AttachAction::DeleteNeighbour(_)
        )));
        assert!(acts.contains(&AttachAction::StartDhcpClient {
            client: DhcpClient::Dhclient,
            lease: Lease { file: home.key.lease_file(&n("lagg0")).unwrap(), fresh: false }
        }));
        let keep = NetworkConfig { undecided: Undecided::Keep, ..NetworkConfig::default() };
        assert!(actions(&keep, &n("lagg0"), &v, &home, &current).is_empty());
        // The laptop's SSID there, and this one is another.
        home.ssids.insert(Ssid::new(b"HomeNet").unwrap());
        let v = verdict(&[&home], &x, &silence(&x), Some(&cafe));
        assert!(matches!(v, Verdict::Another { proof: Proof::Ssid(_), .. }), "{v:?}");
        // ... but one of its own SSIDs is no hint.
        let v = verdict(&[&home], &x, &silence(&x), Some(&Ssid::new(b"HomeNet").unwrap()));
        assert!(matches!(v, Verdict::Undecided { .. }), "{v:?}");
    }

    /// A same verdict with the kernel's gateway entry pointing at another
    /// MAC removes that entry and nothing else; with the right MAC, or
    /// none, nothing at all.
    #[test]
    fn same_network_with_a_stale_gateway_entry_removes_only_that_entry() {
        let cfg = NetworkConfig::default();
        let home = net("192.168.1.100/24", "192.168.1.1", HOME_GW);
        let x = exchange(&cfg, mac(LAGG), &[&home], None).unwrap();
        let v = verdict(&[&home], &x, &reply(&x, 0, "192.168.1.1", HOME_GW, 4), None);
        let entry = |m: &str| Current {
            gateway_entry: Some(Neighbour {
                ip: "192.168.1.1".parse().unwrap(),
                mac: Some(mac(m)),
            }),
            ..Current::default()
        };
        assert_eq!(
            actions(&cfg, &n("lagg0"), &v, &home, &entry(CAFE_GW)),
            [AttachAction::DeleteNeighbour("192.168.1.1".parse().unwrap())]
        );
        assert!(actions(&cfg, &n("lagg0"), &v, &home, &entry(HOME_GW)).is_empty());
    }

    /// Proves a same verdict while the lagg holds only another network's
    /// address (a lease that came after the last check) re-addresses it
    /// for the network it is on, with that network's own lease.
    #[test]
    fn same_network_with_another_networks_address_re_addresses() {
        let cfg = NetworkConfig::default();
        let lagg = n("lagg0");
        let office = net("10.1.0.100/24", "10.1.0.1", HOME_GW);
        let x = exchange(&cfg, mac(LAGG), &[&office], None).unwrap();
        let v = verdict(&[&office], &x, &reply(&x, 0, "10.1.0.1", HOME_GW, 3), None);
        let current = Current {
            addresses: vec![IfAddr::v4(Ipv4Addr::new(192, 168, 1, 100), 24)],
            routes: vec![DefaultRoute {
                gateway: "192.168.1.1".parse().unwrap(),
                ifname: lagg.clone(),
            }],
            ..Current::default()
        };
        let acts: Vec<String> =
            actions(&cfg, &lagg, &v, &office, &current).iter().map(|a| a.to_string()).collect();
        assert_eq!(
            acts,
            [
                "stop the DHCP client",
                "delete address 192.168.1.100/24",
                "delete default route via 192.168.1.1",
                "delete neighbour 10.1.0.1",
                "start dhclient (dhclient.lagg0.000db9000001-10.1.0.1)",
            ]
        );
        // Holding the network's own address: nothing.
        let fine = Current {
            addresses: vec![IfAddr::v4(Ipv4Addr::new(10, 1, 0, 100), 24)],
            ..Current::default()
        };
        assert!(actions(&cfg, &lagg, &v, &office, &fine).is_empty());
    }

    /// With dhcpcd, which releases its address when stopped, an undecided
    /// move only asks it to rebind: never a stop, so never a removal.
    #[test]
    fn undecided_with_dhcpcd_rebinds_without_stopping_it() {
        let cfg = NetworkConfig { dhcp: Some(DhcpClient::Dhcpcd), ..NetworkConfig::default() };
        let home = net("192.168.1.100/24", "192.168.1.1", HOME_GW);
        let v = Verdict::Undecided { why: "no reply" };
        let acts = actions(&cfg, &n("lagg0"), &v, &home, &Current::default());
        assert!(!acts.contains(&AttachAction::StopDhcpClient), "{acts:?}");
        assert!(acts.iter().any(|a| matches!(a, AttachAction::StartDhcpClient { .. })));
    }

    /// An undecided move of a lagg that went down and up leaves DHCP to
    /// the client already asking for its lease.
    #[test]
    fn undecided_after_the_lagg_bounced_leaves_dhcp_to_its_client() {
        let cfg = NetworkConfig::default();
        let home = net("192.168.1.100/24", "192.168.1.1", HOME_GW);
        let v = Verdict::Undecided { why: "no reply" };
        let bounced = Current { lagg_bounced: true, ..Current::default() };
        assert_eq!(actions(&cfg, &n("lagg0"), &v, &home, &bounced), [AttachAction::SolicitRouter]);
    }

    /// IPv6: an NS answer from the remembered router is the same
    /// network; a move removes the old prefix's address and router and
    /// keeps the link-local one.
    #[test]
    fn ipv6_only_networks_are_probed_by_ns_and_lose_only_their_prefix() {
        let cfg = NetworkConfig::default();
        let lagg = n("lagg0");
        let router: IpAddr = "fe80::20d:b9ff:fe00:1".parse().unwrap();
        let v6 = Observation {
            addresses: vec![IfAddr::v6("2001:db8:1::42".parse().unwrap(), 64)],
            routes: vec![DefaultRoute { gateway: router, ifname: lagg.clone() }],
            neighbours: vec![Neighbour { ip: router, mac: Some(mac(HOME_GW)) }],
            ssid: None,
        }
        .network(1)
        .unwrap();
        assert_eq!(v6.key.as_str(), "000db9000001-v6");
        let ll = "fe80::211:22ff:fe33:4455".parse().unwrap();
        let x = exchange(&cfg, mac(LAGG), &[&v6], Some(ll)).unwrap();
        assert_eq!(x.sends.len(), 3, "three NS, no ARP");
        let v = verdict(&[&v6], &x, &reply(&x, 0, "fe80::20d:b9ff:fe00:1", HOME_GW, 6), None);
        assert!(matches!(v, Verdict::Same { .. }));
        let v = Verdict::Another {
            to: Destination::Unknown { gateway: None },
            proof: Proof::Ssid(Ssid::new(b"x").unwrap()),
        };
        let current = Current {
            addresses: vec![IfAddr::v6("2001:db8:1::42".parse().unwrap(), 64), IfAddr::v6(ll, 64)],
            routes: vec![DefaultRoute { gateway: router, ifname: lagg.clone() }],
            ..Current::default()
        };
        let acts: Vec<String> =
            actions(&cfg, &lagg, &v, &v6, &current).iter().map(|a| a.to_string()).collect();
        assert_eq!(
            acts,
            [
                "stop the DHCP client",
                "delete address 2001:db8:1::42/64",
                "delete default route via fe80::20d:b9ff:fe00:1",
                "delete neighbour fe80::20d:b9ff:fe00:1",
                "start dhclient (dhclient.lagg0.unknown (emptied))",
                "rtsol",
            ]
        );
    }
}
