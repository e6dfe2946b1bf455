//! The backend for operating systems lagghook does not support: every
//! request fails with `Unsupported`, never a made-up answer.

use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeResult,
    Ssid, WpaState,
};
use crate::domain::model::WpaAddress;
use crate::domain::model::{IfName, Interface, LaggModule, LaggProto, LaggStatus, MacAddr};
use crate::kernel::{Kernel, KernelError, Op};
use std::net::IpAddr;

/// Stands in for the FreeBSD backend on other systems.
#[derive(Debug, Default)]
pub struct UnsupportedKernel;

impl UnsupportedKernel {
    /// Mirrors `FreeBsdKernel::open`, but always fails: with `Unsupported`,
    /// reported as `ListInterfaces` like the FreeBSD backend's socket
    /// failure, so a run on another OS stops before its first request.
    pub fn open() -> Result<UnsupportedKernel, KernelError> {
        Err(KernelError::unsupported(Op::ListInterfaces, None))
    }
}

impl Kernel for UnsupportedKernel {
    fn interfaces(&mut self) -> Result<Vec<Interface>, KernelError> {
        Err(KernelError::unsupported(Op::ListInterfaces, None))
    }
    fn lagg_status(&mut self, lagg: &IfName) -> Result<LaggStatus, KernelError> {
        Err(KernelError::unsupported(Op::GetLagg, Some(lagg)))
    }
    fn failover_rx_all(&mut self) -> Result<Option<bool>, KernelError> {
        Err(KernelError::unsupported(Op::GetSysctl, None))
    }
    fn set_failover_rx_all(&mut self, _value: bool) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::SetSysctl, None))
    }
    fn create_lagg(&mut self, lagg: &IfName) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::CreateLagg, Some(lagg)))
    }
    fn set_lagg_proto(&mut self, lagg: &IfName, _proto: LaggProto) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::SetLaggProto, Some(lagg)))
    }
    fn add_lagg_port(&mut self, lagg: &IfName, _port: &IfName) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::AddLaggPort, Some(lagg)))
    }
    fn remove_lagg_port(&mut self, lagg: &IfName, _port: &IfName) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::RemoveLaggPort, Some(lagg)))
    }
    fn set_lladdr(&mut self, ifname: &IfName, _mac: MacAddr) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::SetLladdr, Some(ifname)))
    }
    fn set_up(&mut self, ifname: &IfName, _up: bool) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::SetFlags, Some(ifname)))
    }
    fn lagg_module(&mut self) -> Result<LaggModule, KernelError> {
        Err(KernelError::unsupported(Op::GetModule, None))
    }
    fn load_lagg_module(&mut self) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::LoadModule, None))
    }
    fn restart_wpa_supplicant(&mut self, wlan: &IfName) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::RestartWpaSupplicant, Some(wlan)))
    }
    fn recreate_vap(&mut self, wlan: &IfName, _: &IfName, _: MacAddr) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::RecreateVap, Some(wlan)))
    }
    fn wpa_supplicant_address(&mut self, wlan: &IfName) -> Result<WpaAddress, KernelError> {
        Err(KernelError::unsupported(Op::GetWpaAddress, Some(wlan)))
    }
    fn wlan_devices(&mut self) -> Result<Vec<IfName>, KernelError> {
        Err(KernelError::unsupported(Op::GetWlanDevices, None))
    }
    fn addresses(&mut self, ifname: &IfName) -> Result<Vec<IfAddr>, KernelError> {
        Err(KernelError::unsupported(Op::GetAddresses, Some(ifname)))
    }
    fn default_routes(&mut self) -> Result<Vec<DefaultRoute>, KernelError> {
        Err(KernelError::unsupported(Op::GetDefaultRoutes, None))
    }
    fn neighbour(
        &mut self,
        ifname: &IfName,
        _ip: IpAddr,
    ) -> Result<Option<Neighbour>, KernelError> {
        Err(KernelError::unsupported(Op::GetNeighbour, Some(ifname)))
    }
    fn probe(&mut self, lagg: &IfName, _x: &ProbeExchange) -> Result<ProbeResult, KernelError> {
        Err(KernelError::unsupported(Op::Probe, Some(lagg)))
    }
    fn delete_address(&mut self, ifname: &IfName, _addr: IfAddr) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::DeleteAddress, Some(ifname)))
    }
    fn delete_default_route(&mut self, route: &DefaultRoute) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::DeleteRoute, Some(&route.ifname)))
    }
    fn delete_neighbour(&mut self, ifname: &IfName, _ip: IpAddr) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::DeleteNeighbour, Some(ifname)))
    }
    fn ssid(&mut self, wlan: &IfName) -> Result<Option<Ssid>, KernelError> {
        Err(KernelError::unsupported(Op::GetSsid, Some(wlan)))
    }
    fn wpa_supplicant_state(&mut self, wlan: &IfName) -> Result<WpaState, KernelError> {
        Err(KernelError::unsupported(Op::GetWpaState, Some(wlan)))
    }
    fn dhcp_client(&mut self, ifname: &IfName) -> Result<Option<DhcpProcess>, KernelError> {
        Err(KernelError::unsupported(Op::GetDhcpClient, Some(ifname)))
    }
    fn stop_dhcp_client(&mut self, ifname: &IfName, _p: DhcpProcess) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::StopDhcpClient, Some(ifname)))
    }
    fn start_dhcp_client(
        &mut self,
        ifname: &IfName,
        _client: DhcpClient,
        _lease: &Lease,
    ) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::StartDhcpClient, Some(ifname)))
    }
    fn solicit_router(&mut self, ifname: &IfName) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::SolicitRouter, Some(ifname)))
    }
    fn spawn_netcheck(&mut self, lagg: &IfName, _generation: u64) -> Result<(), KernelError> {
        Err(KernelError::unsupported(Op::SpawnNetcheck, Some(lagg)))
    }
}

/// No alarm(2) to arm where no helper runs natively.
pub fn arm_alarm(_seconds: u32) {}

/// Stands in for the FreeBSD routing socket: it cannot be opened.
#[derive(Debug)]
pub struct RouteSocket;

impl RouteSocket {
    /// Always `Unsupported`: only FreeBSD has route(4) as the harness reads it.
    pub fn open() -> std::io::Result<RouteSocket> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no route(4) socket on this OS"))
    }

    /// Nothing: never opened.
    pub fn drain(&mut self) -> std::io::Result<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }
}
