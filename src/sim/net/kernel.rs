//! The layer-3 [`crate::kernel::Kernel`] requests as the simulated kernel
//! answers them (the contract in `/work/wt/h20-interface.md` §1): reads of
//! addresses, default routes, neighbour entries, SSIDs and wpa_state; the
//! probe exchange, answered by the simulated gateways and routers; the
//! deletions, with the kernel's side effects ([`super::link`]); and the
//! DHCP client and rtsol lagghook starts, which are the [`super::dhcp`]
//! and [`super::rtadv`] models themselves. `sim/mod.rs` records each call
//! and hands it here.
//!
//! The probe: time does not pass inside the call. Each frame is sent at its
//! `at_ms` (while below the budget), the network the lagg reaches at the
//! call instant answers after its `rtt_ms` (machine key, default 2 ms),
//! and the exchange ends at the first reply: frames due later are not
//! sent. A network is reached only while traffic flows through the lagg
//! at the link level, so a WiFi port that cannot carry the lagg's MAC, or
//! a vap before its handshake, hears nothing.

use std::net::IpAddr;

use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeFrame,
    ProbeReply, ProbeResult, Ssid, WpaState,
};
use crate::domain::model::{IfName, LinkState};
use crate::kernel::Errno;

use super::dhcp::DhclientArgs;
use super::link::link_local;
use super::{SimKernel, Spawned};

/// Where lagghook keeps its lease files (`LeaseFile::name` below it).
pub const LAGGHOOK_LEASES: &str = "/var/db/lagghook/leases";

impl SimKernel {
    /// getifaddrs(3), AF_INET then AF_INET6, in `if_addrhead` order: the
    /// IPv4 addresses (dhclient's `0.0.0.0` alias included, as FreeBSD
    /// lists it), then, on an interface with IPv6 autoconfiguration, its
    /// link-local address and the SLAAC addresses past DAD (a tentative
    /// address is left out: nothing may use it).
    pub(in crate::sim) fn l3_addresses(&self, ifname: &IfName) -> Vec<IfAddr> {
        let Some(stack) = self.net.stacks.get(ifname) else { return Vec::new() };
        let mut out: Vec<IfAddr> = stack.inet.iter().map(|a| IfAddr::v4(a.addr, a.len)).collect();
        if stack.accept_rtadv || !stack.inet6.is_empty() {
            if let Some(ifn) = self.ifnets.get(ifname) {
                out.push(IfAddr::v6(link_local(ifn.lladdr), 64));
            }
        }
        out.extend(stack.global_inet6().map(|a| IfAddr::v6(a.addr, a.prefix.len)));
        out
    }

    /// The IPv4 default route, then every router in each interface's
    /// default router list (by link-local address).
    pub(in crate::sim) fn l3_default_routes(&self) -> Vec<DefaultRoute> {
        let v4 = self
            .net
            .default4
            .iter()
            .map(|r| DefaultRoute { gateway: IpAddr::V4(r.gateway), ifname: r.ifname.clone() });
        let v6 = self.net.stacks.iter().flat_map(|(i, s)| {
            s.routers6.keys().map(|r| DefaultRoute { gateway: IpAddr::V6(*r), ifname: i.clone() })
        });
        v4.chain(v6).collect()
    }

    /// The ARP or NDP entry for `ip` on `ifname`.
    pub(in crate::sim) fn l3_neighbour(&self, ifname: &IfName, ip: IpAddr) -> Option<Neighbour> {
        let stack = self.net.stacks.get(ifname)?;
        let mac = match ip {
            IpAddr::V4(a) => stack.arp.get(&a)?.mac,
            IpAddr::V6(a) => stack.nd.get(&a)?.mac,
        };
        Some(Neighbour { ip, mac: Some(mac) })
    }

    /// The probe exchange (see the module doc).
    pub(in crate::sim) fn l3_probe(&self, lagg: &IfName, exchange: &ProbeExchange) -> ProbeResult {
        let reached = self.reached(lagg).map(|(_, n)| n);
        let rtt = reached.map_or(0, |n| u32::try_from(n.rtt_ms).unwrap_or(u32::MAX));
        let mut sends: Vec<(usize, u32, ProbeFrame)> = exchange
            .sends
            .iter()
            .enumerate()
            .filter(|(_, s)| s.at_ms < exchange.budget_ms)
            .map(|(i, s)| (i, s.at_ms, s.frame))
            .collect();
        sends.sort_by_key(|&(i, at, _)| (at, i));
        let answer = |frame: ProbeFrame| {
            let n = reached?;
            match frame {
                ProbeFrame::ArpUnicast { target, to, .. } => {
                    n.answers_arp_for(target, Some(to)).map(|m| (IpAddr::V4(target), m))
                }
                ProbeFrame::ArpBroadcast { target, .. } => {
                    n.answers_arp_for(target, None).map(|m| (IpAddr::V4(target), m))
                }
                ProbeFrame::NsUnicast { target, to, .. } => {
                    n.answers_ns_for(target, Some(to)).map(|m| (IpAddr::V6(target), m))
                }
            }
        };
        let replies: Vec<ProbeReply> = sends
            .iter()
            .filter_map(|&(send, at, frame)| {
                let (ip, mac) = answer(frame)?;
                let at_ms = at.saturating_add(rtt);
                (at_ms < exchange.budget_ms).then_some(ProbeReply { send, ip, mac, at_ms })
            })
            .collect();
        let first = replies.iter().map(|r| r.at_ms).min();
        let end = first.unwrap_or(exchange.budget_ms);
        let sent = sends.iter().filter(|(_, at, _)| *at <= end).count() as u32;
        let mut replies: Vec<ProbeReply> =
            replies.into_iter().filter(|r| Some(r.at_ms) == first).collect();
        replies.sort_by_key(|r| r.send);
        ProbeResult { replies, sent, elapsed_ms: end, fallback: false, warning: None }
    }

    /// SIOCDIFADDR / SIOCDIFADDR_IN6: EADDRNOTAVAIL when it is not there.
    pub(in crate::sim) fn l3_delete_address(
        &mut self,
        ifname: &IfName,
        addr: IfAddr,
    ) -> Result<(), Errno> {
        let gone = match addr.addr {
            IpAddr::V4(a) => self.inet_delete(ifname, a),
            IpAddr::V6(a) => self.inet6_delete(ifname, a),
        };
        self.net_refresh();
        if gone {
            Ok(())
        } else {
            Err(Errno::EADDRNOTAVAIL)
        }
    }

    /// RTM_DELETE of a default route: ESRCH when there is no such route.
    pub(in crate::sim) fn l3_delete_default_route(
        &mut self,
        route: &DefaultRoute,
    ) -> Result<(), Errno> {
        let gone = match route.gateway {
            IpAddr::V4(g) => {
                let here = self
                    .net
                    .default4
                    .as_ref()
                    .is_some_and(|r| r.gateway == g && r.ifname == route.ifname);
                if here {
                    self.route_delete_default();
                }
                here
            }
            IpAddr::V6(r) => self.router6_delete(&route.ifname, r),
        };
        if gone {
            Ok(())
        } else {
            Err(Errno::ESRCH)
        }
    }

    /// RTM_DELETE of a neighbour entry: ESRCH when there is none. The next
    /// packet resolves the address again ([`SimKernel::net_refresh`]).
    pub(in crate::sim) fn l3_delete_neighbour(
        &mut self,
        ifname: &IfName,
        ip: IpAddr,
    ) -> Result<(), Errno> {
        let Some(stack) = self.net.stacks.get_mut(ifname) else { return Err(Errno::ESRCH) };
        let gone = match ip {
            IpAddr::V4(a) => stack.arp.remove(&a).is_some(),
            IpAddr::V6(a) => stack.nd.remove(&a).is_some(),
        };
        self.net_refresh();
        if gone {
            Ok(())
        } else {
            Err(Errno::ESRCH)
        }
    }

    /// The SSID of the BSS the vap is associated with: while its link is
    /// up (net80211 in RUN).
    pub(in crate::sim) fn l3_ssid(&self, wlan: &IfName) -> Option<Ssid> {
        let ifn = self.ifnets.get(wlan)?;
        if ifn.link != LinkState::Up || !ifn.medium {
            return None;
        }
        let bss = self.net.bsses.get(self.net.assoc.get(wlan)?)?;
        Ssid::new(bss.ssid.as_bytes())
    }

    /// wpa_supplicant's `wpa_state`: COMPLETED once the handshake is done
    /// (the vap's link is up: the simulated vap reports LINK_UP at the end
    /// of the handshake), NotRunning without a wpa_supplicant or on an open
    /// network.
    pub(in crate::sim) fn l3_wpa_state(&self, wlan: &IfName) -> WpaState {
        let Some(ifn) = self.ifnets.get(wlan) else { return WpaState::NotRunning };
        let Some(vap) = &ifn.vap else { return WpaState::NotRunning };
        if vap.open || vap.wpa.is_none() {
            return WpaState::NotRunning;
        }
        if !vap.ctrl {
            return WpaState::Unknown;
        }
        match (ifn.link, ifn.medium) {
            (LinkState::Up, true) => WpaState::Completed,
            (_, true) if ifn.up => WpaState::Other("ASSOCIATING".into()),
            _ => WpaState::Other("DISCONNECTED".into()),
        }
    }

    /// The DHCP client running for `ifname`, whoever started it.
    pub(in crate::sim) fn l3_dhcp_client(&self, ifname: &IfName) -> Option<DhcpProcess> {
        let c = self.net.clients.get(ifname)?;
        Some(DhcpProcess { client: DhcpClient::Dhclient, pid: c.pid })
    }

    /// SIGTERM to the client: ESRCH when that process is not the one
    /// running.
    pub(in crate::sim) fn l3_stop_dhcp_client(
        &mut self,
        ifname: &IfName,
        process: DhcpProcess,
    ) -> Result<(), Errno> {
        if self.l3_dhcp_client(ifname) != Some(process) {
            return Err(Errno::ESRCH);
        }
        self.dhclient_kill(ifname);
        Ok(())
    }

    /// `dhclient -b -l /var/db/lagghook/leases/FILE IF`, the file emptied
    /// first when the lease is fresh. dhcpcd is not installed on a
    /// simulated machine (ENOENT); EEXIST when a client runs; ENXIO for no
    /// such interface.
    pub(in crate::sim) fn l3_start_dhcp_client(
        &mut self,
        ifname: &IfName,
        client: DhcpClient,
        lease: &Lease,
    ) -> Result<(), Errno> {
        if client == DhcpClient::Dhcpcd {
            return Err(Errno::ENOENT);
        }
        if !self.ifnets.contains_key(ifname) {
            return Err(Errno::ENXIO);
        }
        if self.net.clients.contains_key(ifname) {
            return Err(Errno::EEXIST);
        }
        let path = format!("{LAGGHOOK_LEASES}/{}", lease.file.name());
        if lease.fresh {
            self.net.lease_files.remove(&path);
        }
        let args = DhclientArgs { background: true, lease_file: Some(path) };
        self.dhclient_start(ifname, &args).map_err(|_| Errno::EEXIST)
    }

    /// `rtsol -i IF`, detached.
    pub(in crate::sim) fn l3_solicit_router(&mut self, ifname: &IfName) -> Result<(), Errno> {
        if !self.ifnets.contains_key(ifname) {
            return Err(Errno::ENXIO);
        }
        self.rtsol_start(ifname);
        Ok(())
    }

    /// `lagghook netcheck LAGG GEN` spawned: queued for the harness.
    pub(in crate::sim) fn l3_spawn_netcheck(&mut self, lagg: &IfName, generation: u64) {
        let at = self.now;
        self.net.spawned.push(Spawned { lagg: lagg.clone(), generation, at });
    }
}
