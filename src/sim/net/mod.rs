//! Layer 3 in the simulated kernel (issue 20): what the network check
//! reads and changes. h20sim owns this folder and grows it into the model
//! of networks, gateways, ARP/NS answers, DHCP servers, FreeBSD's
//! dhclient and dhclient-script, rtsol and SLAAC (see
//! /work/wt/h20-interface.md). This first version is the contract's
//! floor: a machine without networks, where every read answers "nothing
//! there" (no address, no route, no neighbour, no SSID, no DHCP client),
//! a probe hears nothing, and the writes change only this state. It keeps
//! every existing scenario's figures, as the issue requires of a machine
//! without networks.
//!
//! The one part that is the harness's, not the kernel model's: detached
//! helpers spawned (`Kernel::spawn_netcheck`) are queued here for the
//! scenario harness to take ([`Net::take_spawned`]) and run on simulated
//! time.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeResult,
    Ssid, WpaState,
};
use crate::domain::model::IfName;
use crate::kernel::Errno;

/// A detached helper the kernel was asked to start: `lagghook netcheck
/// LAGG GENERATION`, at simulated ms `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    pub lagg: IfName,
    pub generation: u64,
    pub at: u64,
}

/// The layer-3 state of the simulated machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Net {
    /// Each interface's addresses, in `if_addrhead` order.
    pub addresses: BTreeMap<IfName, Vec<IfAddr>>,
    /// The default routes, IPv4 first.
    pub default_routes: Vec<DefaultRoute>,
    /// Neighbour entries per interface.
    pub neighbours: BTreeMap<IfName, Vec<Neighbour>>,
    /// The SSID each associated vap is on.
    pub ssids: BTreeMap<IfName, Ssid>,
    /// Running DHCP clients per interface.
    pub dhcp: BTreeMap<IfName, DhcpProcess>,
    /// The next pid a started process gets.
    pub next_pid: u32,
    /// Helpers spawned and not yet taken by the harness. Not state: not
    /// compared, not saved.
    pub spawned: Vec<Spawned>,
}

impl Net {
    pub fn addresses(&self, ifname: &IfName) -> Vec<IfAddr> {
        self.addresses.get(ifname).cloned().unwrap_or_default()
    }

    pub fn neighbour(&self, ifname: &IfName, ip: IpAddr) -> Option<Neighbour> {
        self.neighbours.get(ifname)?.iter().find(|n| n.ip == ip).copied()
    }

    /// Nobody answers on a machine without networks.
    pub fn probe(&mut self, _lagg: &IfName, exchange: &ProbeExchange) -> ProbeResult {
        ProbeResult {
            replies: Vec::new(),
            sent: exchange.sends.iter().filter(|s| s.at_ms < exchange.budget_ms).count() as u32,
            elapsed_ms: exchange.budget_ms,
            fallback: false,
        }
    }

    /// `in_difaddr`: EADDRNOTAVAIL when the address is not there.
    pub fn delete_address(&mut self, ifname: &IfName, addr: IfAddr) -> Result<(), Errno> {
        let list = self.addresses.get_mut(ifname).ok_or(Errno::EADDRNOTAVAIL)?;
        let before = list.len();
        list.retain(|a| a.addr != addr.addr);
        if list.len() == before {
            return Err(Errno::EADDRNOTAVAIL);
        }
        Ok(())
    }

    /// `rib_del_route`: ESRCH when there is no such route.
    pub fn delete_default_route(&mut self, route: &DefaultRoute) -> Result<(), Errno> {
        let before = self.default_routes.len();
        self.default_routes.retain(|r| r != route);
        if self.default_routes.len() == before {
            return Err(Errno::ESRCH);
        }
        Ok(())
    }

    pub fn delete_neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<(), Errno> {
        let list = self.neighbours.get_mut(ifname).ok_or(Errno::ESRCH)?;
        let before = list.len();
        list.retain(|n| n.ip != ip);
        if list.len() == before {
            return Err(Errno::ESRCH);
        }
        Ok(())
    }

    pub fn wpa_state(&self, _wlan: &IfName) -> WpaState {
        WpaState::NotRunning
    }

    pub fn stop_dhcp_client(&mut self, ifname: &IfName, process: DhcpProcess) -> Result<(), Errno> {
        match self.dhcp.get(ifname) {
            Some(p) if *p == process => {
                self.dhcp.remove(ifname);
                Ok(())
            }
            _ => Err(Errno::ESRCH),
        }
    }

    /// A client starts and keeps running (no server answers here).
    pub fn start_dhcp_client(
        &mut self,
        ifname: &IfName,
        client: DhcpClient,
        _lease: &Lease,
    ) -> Result<(), Errno> {
        if self.dhcp.contains_key(ifname) {
            // pidfile_open in dhclient's main: "dhclient already running".
            return Err(Errno::EEXIST);
        }
        self.next_pid = self.next_pid.max(100) + 1;
        self.dhcp.insert(ifname.clone(), DhcpProcess { client, pid: self.next_pid });
        Ok(())
    }

    pub fn solicit_router(&mut self, _ifname: &IfName) -> Result<(), Errno> {
        Ok(())
    }

    pub fn spawn_netcheck(&mut self, lagg: &IfName, generation: u64, at: u64) {
        self.spawned.push(Spawned { lagg: lagg.clone(), generation, at });
    }

    /// The helpers spawned since the last take, in order.
    pub fn take_spawned(&mut self) -> Vec<Spawned> {
        std::mem::take(&mut self.spawned)
    }
}
