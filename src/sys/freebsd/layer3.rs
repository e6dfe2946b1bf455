//! The FreeBSD backend's layer-3 requests for the network check (issue
//! 20): getifaddrs(3) addresses, the routing socket, bpf(4), SIOCDIFADDR,
//! SIOCG80211 SSID, the DHCP client's pidfile and the programs started
//! detached. Each function is one `Kernel` method; `mod.rs` delegates.
//!
//! Not yet implemented: every request answers `Unsupported`, so a run on
//! FreeBSD with the network check on logs the request it could not make
//! and changes nothing.

use std::net::IpAddr;

use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeResult,
    Ssid, WpaState,
};
use crate::domain::model::IfName;
use crate::kernel::{KernelError, Op};

use super::FreeBsdKernel;

pub(super) fn addresses(_k: &FreeBsdKernel, ifname: &IfName) -> Result<Vec<IfAddr>, KernelError> {
    Err(KernelError::unsupported(Op::GetAddresses, Some(ifname)))
}

pub(super) fn default_routes(_k: &FreeBsdKernel) -> Result<Vec<DefaultRoute>, KernelError> {
    Err(KernelError::unsupported(Op::GetDefaultRoutes, None))
}

pub(super) fn neighbour(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    _ip: IpAddr,
) -> Result<Option<Neighbour>, KernelError> {
    Err(KernelError::unsupported(Op::GetNeighbour, Some(ifname)))
}

pub(super) fn probe(
    _k: &FreeBsdKernel,
    lagg: &IfName,
    _exchange: &ProbeExchange,
) -> Result<ProbeResult, KernelError> {
    Err(KernelError::unsupported(Op::Probe, Some(lagg)))
}

pub(super) fn delete_address(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    addr: IfAddr,
) -> Result<(), KernelError> {
    let op = if addr.ipv4().is_some() { Op::DeleteAddress } else { Op::DeleteAddress6 };
    Err(KernelError::unsupported(op, Some(ifname)))
}

pub(super) fn delete_default_route(
    _k: &FreeBsdKernel,
    route: &DefaultRoute,
) -> Result<(), KernelError> {
    Err(KernelError::unsupported(Op::DeleteRoute, Some(&route.ifname)))
}

pub(super) fn delete_neighbour(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    _ip: IpAddr,
) -> Result<(), KernelError> {
    Err(KernelError::unsupported(Op::DeleteNeighbour, Some(ifname)))
}

pub(super) fn ssid(_k: &FreeBsdKernel, wlan: &IfName) -> Result<Option<Ssid>, KernelError> {
    Err(KernelError::unsupported(Op::GetSsid, Some(wlan)))
}

pub(super) fn wpa_supplicant_state(
    _k: &FreeBsdKernel,
    wlan: &IfName,
) -> Result<WpaState, KernelError> {
    Err(KernelError::unsupported(Op::GetWpaState, Some(wlan)))
}

pub(super) fn dhcp_client(
    _k: &FreeBsdKernel,
    ifname: &IfName,
) -> Result<Option<DhcpProcess>, KernelError> {
    Err(KernelError::unsupported(Op::GetDhcpClient, Some(ifname)))
}

pub(super) fn stop_dhcp_client(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    _process: DhcpProcess,
) -> Result<(), KernelError> {
    Err(KernelError::unsupported(Op::StopDhcpClient, Some(ifname)))
}

pub(super) fn start_dhcp_client(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    _client: DhcpClient,
    _lease: &Lease,
) -> Result<(), KernelError> {
    Err(KernelError::unsupported(Op::StartDhcpClient, Some(ifname)))
}

pub(super) fn solicit_router(_k: &FreeBsdKernel, ifname: &IfName) -> Result<(), KernelError> {
    Err(KernelError::unsupported(Op::SolicitRouter, Some(ifname)))
}

pub(super) fn spawn_netcheck(
    _k: &FreeBsdKernel,
    lagg: &IfName,
    _generation: u64,
) -> Result<(), KernelError> {
    Err(KernelError::unsupported(Op::SpawnNetcheck, Some(lagg)))
}
