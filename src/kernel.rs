//! The seam between lagghook's policy and an operating system: one trait
//! method per kernel request, named after it. The real FreeBSD backend
//! (`sys::freebsd`) and the simulated kernel (`sim`) both implement it, and
//! return the same [`KernelError`] kinds, so the planner and the tests treat
//! them alike. Nothing here decides anything.

use std::fmt;

use crate::abi;
use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeResult,
    Ssid, WpaState,
};
use crate::domain::model::WpaAddress;
use crate::domain::model::{IfName, Interface, LaggModule, LaggProto, LaggStatus, MacAddr};
use std::net::IpAddr;

/// The errnos lagghook tells apart. Their numbers, `<errno.h>` names and
/// strerror(3) texts are FreeBSD's and live in one place, `abi`
/// ([`abi::ERRNOS`]); they differ from Linux's, so errors carry this enum
/// rather than a host `nix::Errno`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    EPERM,
    ENOENT,
    ESRCH,
    ENXIO,
    ENOMEM,
    EACCES,
    EBUSY,
    EEXIST,
    ENODEV,
    EINVAL,
    ENOSPC,
    EPROTONOSUPPORT,
    EOPNOTSUPP,
    EADDRNOTAVAIL,
    ENETDOWN,
    /// Anything else, with FreeBSD's number.
    Other(i32),
}

impl Errno {
    /// Every named variant, for [`Errno::from_code`].
    const NAMED: [Errno; 15] = [
        Errno::EPERM,
        Errno::ENOENT,
        Errno::ESRCH,
        Errno::ENXIO,
        Errno::ENOMEM,
        Errno::EACCES,
        Errno::EBUSY,
        Errno::EEXIST,
        Errno::ENODEV,
        Errno::EINVAL,
        Errno::ENOSPC,
        Errno::EPROTONOSUPPORT,
        Errno::EOPNOTSUPP,
        Errno::EADDRNOTAVAIL,
        Errno::ENETDOWN,
    ];

    /// FreeBSD's numeric value.
    pub fn code(self) -> i32 {
        match self {
            Errno::EPERM => abi::EPERM,
            Errno::ENOENT => abi::ENOENT,
            Errno::ESRCH => abi::ESRCH,
            Errno::ENXIO => abi::ENXIO,
            Errno::ENOMEM => abi::ENOMEM,
            Errno::EACCES => abi::EACCES,
            Errno::EBUSY => abi::EBUSY,
            Errno::EEXIST => abi::EEXIST,
            Errno::ENODEV => abi::ENODEV,
            Errno::EINVAL => abi::EINVAL,
            Errno::ENOSPC => abi::ENOSPC,
            Errno::EPROTONOSUPPORT => abi::EPROTONOSUPPORT,
            Errno::EOPNOTSUPP => abi::EOPNOTSUPP,
            Errno::EADDRNOTAVAIL => abi::EADDRNOTAVAIL,
            Errno::ENETDOWN => abi::ENETDOWN,
            Errno::Other(n) => n,
        }
    }

    /// From FreeBSD's numeric value.
    pub fn from_code(code: i32) -> Errno {
        Errno::NAMED.into_iter().find(|e| e.code() == code).unwrap_or(Errno::Other(code))
    }

    /// The `<errno.h>` name ("EEXIST"); `None` for [`Errno::Other`].
    pub fn name(self) -> Option<&'static str> {
        match self {
            Errno::Other(_) => None,
            e => abi::errno_info(e.code()).map(|i| i.name),
        }
    }
}

impl fmt::Display for Errno {
    /// strerror(3) wording of FreeBSD's libc, so messages read like ifconfig's.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Errno::Other(_) => None,
            e => abi::errno_info(e.code()).map(|i| i.text),
        };
        match text {
            Some(t) => f.write_str(t),
            None => write!(f, "Unknown error: {}", self.code()),
        }
    }
}

/// The kernel request that failed (or, for `RestartWpaSupplicant` and
/// `GetWpaAddress`, the rc script or the daemon asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ListInterfaces,
    GetLagg,
    GetSysctl,
    SetSysctl,
    CreateLagg,
    SetLaggProto,
    AddLaggPort,
    RemoveLaggPort,
    SetLladdr,
    SetFlags,
    RestartWpaSupplicant,
    RecreateVap,
    GetModule,
    LoadModule,
    GetWpaAddress,
    GetWlanDevices,
    // Layer 3, for the network check (issue 20).
    GetAddresses,
    GetDefaultRoutes,
    GetNeighbour,
    Probe,
    DeleteAddress,
    DeleteAddress6,
    DeleteRoute,
    DeleteNeighbour,
    GetSsid,
    GetWpaState,
    GetDhcpClient,
    StopDhcpClient,
    StartDhcpClient,
    SolicitRouter,
    SpawnNetcheck,
}

impl Op {
    /// The request name as FreeBSD spells it, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Op::ListInterfaces => "getifaddrs",
            Op::GetLagg => "SIOCGLAGG",
            Op::GetSysctl => "sysctl net.link.lagg.failover_rx_all",
            Op::SetSysctl => "sysctl net.link.lagg.failover_rx_all=",
            Op::CreateLagg => "SIOCIFCREATE2",
            Op::SetLaggProto => "SIOCSLAGG",
            Op::AddLaggPort => "SIOCSLAGGPORT",
            Op::RemoveLaggPort => "SIOCSLAGGDELPORT",
            Op::SetLladdr => "SIOCSIFLLADDR",
            Op::SetFlags => "SIOCSIFFLAGS",
            Op::RestartWpaSupplicant => "/etc/rc.d/wpa_supplicant restart",
            Op::RecreateVap => "re-creating the vap with wlanaddr",
            Op::GetModule => "modfind if_lagg",
            Op::LoadModule => "kldload if_lagg",
            Op::GetWpaAddress => "wpa_supplicant STATUS",
            Op::GetWlanDevices => "sysctl net.wlan.devices",
            Op::GetAddresses => "getifaddrs AF_INET/AF_INET6",
            Op::GetDefaultRoutes => "RTM_GET default",
            Op::GetNeighbour => "RTM_GET llinfo",
            Op::Probe => "bpf probe",
            Op::DeleteAddress => "SIOCDIFADDR",
            Op::DeleteAddress6 => "SIOCDIFADDR_IN6",
            Op::DeleteRoute => "RTM_DELETE default",
            Op::DeleteNeighbour => "RTM_DELETE llinfo",
            Op::GetSsid => "SIOCG80211 IEEE80211_IOC_SSID",
            Op::GetWpaState => "wpa_supplicant STATUS wpa_state",
            Op::GetDhcpClient => "DHCP client pidfile",
            Op::StopDhcpClient => "kill(SIGTERM) DHCP client",
            Op::StartDhcpClient => "start DHCP client",
            Op::SolicitRouter => "rtsol",
            Op::SpawnNetcheck => "spawn lagghook netcheck",
        }
    }
}

/// Why a kernel request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelErrorKind {
    /// The kernel answered with this errno.
    Errno(Errno),
    /// This build has no backend for the running OS (`sys::unsupported`).
    Unsupported,
    /// Anything that is not an errno: a malformed answer, a helper program
    /// that exited non-zero, a simulated-kernel file that cannot be read.
    Other(String),
}

/// A failed kernel request: (operation, interface, errno), as libifconfig
/// reports its errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    pub op: Op,
    pub ifname: Option<IfName>,
    pub kind: KernelErrorKind,
}

impl KernelError {
    pub fn errno(op: Op, ifname: Option<&IfName>, errno: Errno) -> KernelError {
        KernelError { op, ifname: ifname.cloned(), kind: KernelErrorKind::Errno(errno) }
    }

    pub fn unsupported(op: Op, ifname: Option<&IfName>) -> KernelError {
        KernelError { op, ifname: ifname.cloned(), kind: KernelErrorKind::Unsupported }
    }

    pub fn other(op: Op, ifname: Option<&IfName>, why: impl Into<String>) -> KernelError {
        KernelError { op, ifname: ifname.cloned(), kind: KernelErrorKind::Other(why.into()) }
    }

    /// The errno, when the kernel gave one.
    pub fn errno_value(&self) -> Option<Errno> {
        match self.kind {
            KernelErrorKind::Errno(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.ifname {
            write!(f, "{name}: ")?;
        }
        write!(f, "{}: ", self.op.name())?;
        match &self.kind {
            KernelErrorKind::Errno(e) => write!(f, "{e}"),
            KernelErrorKind::Unsupported => {
                f.write_str("no kernel backend on this OS (use -k sim:FILE)")
            }
            KernelErrorKind::Other(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for KernelError {}

/// A kernel lagghook can observe and change. Every method is one request
/// (or a fixed short sequence the doc names); policy lives in `plan`.
pub trait Kernel {
    /// getifaddrs(3) plus, per interface, `SIOCGHWADDR`, `SIOCGIFCAP` and `SIOCG80211`
    /// `IEEE80211_IOC_IC_NAME` (a vap and its radio, whatever its name):
    /// every interface, in `if_index` order.
    fn interfaces(&mut self) -> Result<Vec<Interface>, KernelError>;

    /// `SIOCGLAGG`: protocol and ports (kernel list order, with
    /// MASTER/ACTIVE flags) of `lagg`.
    fn lagg_status(&mut self, lagg: &IfName) -> Result<LaggStatus, KernelError>;

    /// sysctl `net.link.lagg.failover_rx_all`; `Ok(None)` when the sysctl
    /// does not exist (if_lagg not loaded).
    fn failover_rx_all(&mut self) -> Result<Option<bool>, KernelError>;

    /// `sysctlbyname("net.link.lagg.failover_rx_all", value)`.
    fn set_failover_rx_all(&mut self, value: bool) -> Result<(), KernelError>;

    /// `SIOCIFCREATE2` on the `lagg` cloner with the given unit name.
    fn create_lagg(&mut self, lagg: &IfName) -> Result<(), KernelError>;

    /// `SIOCSLAGG`: set the lagg protocol.
    fn set_lagg_proto(&mut self, lagg: &IfName, proto: LaggProto) -> Result<(), KernelError>;

    /// `SIOCSLAGGPORT`: add `port` to `lagg`.
    fn add_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError>;

    /// `SIOCSLAGGDELPORT`: remove `port` from `lagg`.
    fn remove_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError>;

    /// `SIOCSIFLLADDR`: set the link-level address.
    fn set_lladdr(&mut self, ifname: &IfName, mac: MacAddr) -> Result<(), KernelError>;

    /// `SIOCGIFFLAGS` then `SIOCSIFFLAGS` with `IFF_UP` set or cleared.
    fn set_up(&mut self, ifname: &IfName, up: bool) -> Result<(), KernelError>;

    /// `modfind("if_lagg")`, and sysctls `kern.securelevel` and
    /// `kern.module_path` with a look for `if_lagg.ko` in each directory:
    /// is if_lagg there, and could kldload(2) load it? Reads only.
    fn lagg_module(&mut self) -> Result<LaggModule, KernelError>;

    /// ifconfig's `ifmaybeload` for if_lagg (`sbin/ifconfig/ifconfig.c`):
    /// `modfind("if_lagg")`, and if that fails `kldload("if_lagg")`, an
    /// EEXIST from which (loaded meanwhile) is success. Without if_lagg
    /// there is no lagg cloner, so SIOCIFCREATE2 fails with EINVAL
    /// (`if_clone_create` in `sys/net/if_clone.c`).
    fn load_lagg_module(&mut self) -> Result<(), KernelError>;

    /// `/etc/rc.d/wpa_supplicant restart IF`, run directly (no shell), so
    /// wpa_supplicant re-reads the vap's address (it reads it once, at
    /// start: `l2_packet_init` in hostap's `l2_packet_freebsd.c`).
    fn restart_wpa_supplicant(&mut self, wlan: &IfName) -> Result<(), KernelError>;

    /// Re-creates vap `wlan` on radio `parent` with address `mac`, the way
    /// rc creates a vap with `wlanaddr`, and configures it as rc would:
    /// `/etc/rc.d/wpa_supplicant stop IF`, `SIOCIFDESTROY`, `SIOCIFCREATE2`
    /// on the wlan cloner with `ieee80211_clone_params` { `parent`, station
    /// mode, `IEEE80211_CLONE_MACADDR`, `mac` } (and `SIOCSIFNAME` for a
    /// vap not named `wlan<N>`), then `/etc/rc.d/netif quietstart IF`,
    /// which applies `ifconfig_IF` and starts a wpa_supplicant that reads
    /// the new address. The one way to give a vap an address that every
    /// driver takes (`domain::wifi_driver`). A fixed sequence, one action.
    fn recreate_vap(
        &mut self,
        wlan: &IfName,
        parent: &IfName,
        mac: MacAddr,
    ) -> Result<(), KernelError>;

    /// The address wpa_supplicant uses as its own for vap `wlan`: `STATUS`
    /// on its control socket `/var/run/wpa_supplicant/IF` (line
    /// `address=`), with its pidfile `IF.pid` telling a silent
    /// wpa_supplicant from none (see [`WpaAddress`]). A read.
    ///
    /// Talking to wpa_supplicant never fails: no answer, a slow or a
    /// confused one is [`WpaAddress::Unknown`], so a devd run is never
    /// stopped or slowed by more than the 200 ms bound over it. `Err` is
    /// kept for what makes the question meaningless, as the other reads
    /// answer it: ENXIO for no such interface, EINVAL for one that is no
    /// vap (the simulator); the FreeBSD backend, which asks files and
    /// sockets rather than the ifnet, never returns it.
    fn wpa_supplicant_address(&mut self, wlan: &IfName) -> Result<WpaAddress, KernelError>;

    /// sysctl `net.wlan.devices`: the 802.11 devices (radios, `ic_name`)
    /// net80211 knows, whether or not a vap exists on them; a radio is no
    /// interface, so [`Kernel::interfaces`] never lists it. Empty when
    /// wlan(4) is not loaded (the sysctl does not exist). A read, made
    /// only by `setup`, never by a devd run.
    fn wlan_devices(&mut self) -> Result<Vec<IfName>, KernelError>;

    // ---- Layer 3: the network check (issue 20, /work/wt/h20-interface.md).
    // Reads first, then the exchange, then the writes, then processes.

    /// getifaddrs(3), the `AF_INET` and `AF_INET6` entries of `ifname`:
    /// each address with its prefix length (from `ifa_netmask`), in the
    /// kernel's order (`if_addrhead`: the first IPv4 one is the one
    /// `ifconfig IF inet A` without `alias` replaces). ENXIO: no such
    /// interface. A read.
    fn addresses(&mut self, ifname: &IfName) -> Result<Vec<IfAddr>, KernelError>;

    /// `RTM_GET` of 0.0.0.0/0 and of ::/0 on a `PF_ROUTE` socket: the
    /// default routes of the (default) FIB, with gateway and interface;
    /// none, one or two entries (IPv4 first). A read.
    fn default_routes(&mut self) -> Result<Vec<DefaultRoute>, KernelError>;

    /// `RTM_GET` of `ip` with `RTF_LLINFO` on `ifname` (arp -n / ndp -n):
    /// the neighbour-table entry, `None` when there is none. A read.
    fn neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<Option<Neighbour>, KernelError>;

    /// The probe exchange on `lagg` (see [`ProbeExchange`]): bpf(4) on the
    /// lagg (`BIOCSETIF`, `BIOCIMMEDIATE`, a `BIOCSETF` filter for ARP
    /// replies and ICMPv6 NA, a write(2) per frame, reads bounded by
    /// poll(2)), ending at the first reply or at the budget; never longer
    /// than `budget_ms`. When bpf cannot be opened (EACCES, ENOENT, EBUSY:
    /// no free /dev/bpf) the backend falls back on the kernel's own ARP
    /// and says so in [`ProbeResult::fallback`]. No kernel state changes
    /// except the ARP cache the replies refresh; counted as a write by the
    /// simulator (it sends packets).
    fn probe(
        &mut self,
        lagg: &IfName,
        exchange: &ProbeExchange,
    ) -> Result<ProbeResult, KernelError>;

    /// `SIOCDIFADDR` (IPv4) or `SIOCDIFADDR_IN6` (IPv6) of `addr` on
    /// `ifname`; the kernel also removes the prefix route
    /// (`in_scrubprefix`, `nd6_prefix_offlink`). EADDRNOTAVAIL: no such
    /// address (`in_difaddr`), which the caller counts as done.
    fn delete_address(&mut self, ifname: &IfName, addr: IfAddr) -> Result<(), KernelError>;

    /// `RTM_DELETE` of the default route of `route`'s family via
    /// `route.gateway`. ESRCH: no such route (`rib_del_route`), which the
    /// caller counts as done.
    fn delete_default_route(&mut self, route: &DefaultRoute) -> Result<(), KernelError>;

    /// `RTM_DELETE` of the neighbour entry for `ip` on `ifname` (arp -d /
    /// ndp -d). ESRCH or ENOENT: none, counted as done.
    fn delete_neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<(), KernelError>;

    /// `SIOCG80211` `IEEE80211_IOC_SSID` on vap `wlan`: the SSID it is
    /// associated with, `None` when not associated (an empty answer).
    /// EINVAL: not a vap. A read.
    fn ssid(&mut self, wlan: &IfName) -> Result<Option<Ssid>, KernelError>;

    /// `wpa_state=` of `STATUS` on wpa_supplicant's control socket for
    /// `wlan`, with the same 200 ms bound and pidfile rule as
    /// [`Kernel::wpa_supplicant_address`]. A read.
    fn wpa_supplicant_state(&mut self, wlan: &IfName) -> Result<WpaState, KernelError>;

    /// The DHCP client running for `ifname`, from its pidfile
    /// (`/var/run/dhclient/dhclient.IF.pid`, dhcpcd's `/var/run/dhcpcd/IF.pid`),
    /// checked alive with kill(pid, 0): `None` when no pidfile names a live
    /// process. A read.
    fn dhcp_client(&mut self, ifname: &IfName) -> Result<Option<DhcpProcess>, KernelError>;

    /// kill(2) `SIGTERM` to `process`, then a wait of at most 500 ms for it
    /// to go (its pidfile lock released): dhclient has no SIGTERM handler
    /// (`sbin/dhclient/dhclient.c`), so it leaves the address, routes and
    /// ARP entries as they were, and a new dhclient cannot start while it
    /// holds its pidfile (`pidfile_open`: "dhclient already running").
    /// ESRCH: already gone, counted as done.
    fn stop_dhcp_client(
        &mut self,
        ifname: &IfName,
        process: DhcpProcess,
    ) -> Result<(), KernelError>;

    /// Starts `client` for `ifname` in the background, fixed program and
    /// arguments, no shell, detached from the caller, after emptying the
    /// lease file when `lease.fresh`: `/sbin/dhclient -b
    /// -l /var/db/lagghook/leases/LEASE IF` (the `-b` rc.d/dhclient uses
    /// with `background_dhclient`), or `/usr/local/sbin/dhcpcd -b IF`
    /// (dhcpcd keeps its own lease files; `lease` is not passed), or, to a
    /// dhcpcd still running, `dhcpcd -n IF` (rebind). Returns
    /// once the program has been exec'd and has forked into the
    /// background, or has exited: ENOENT when the program is missing,
    /// [`KernelErrorKind::Other`] with its exit status when it exited
    /// non-zero.
    fn start_dhcp_client(
        &mut self,
        ifname: &IfName,
        client: DhcpClient,
        lease: &Lease,
    ) -> Result<(), KernelError>;

    /// `/sbin/rtsol -i IF` (`rtsold -f1` without the initial random delay),
    /// started detached: up to 3 Router Solicitations 4 s apart, exiting
    /// at the first Router Advertisement. ENOENT: missing.
    fn solicit_router(&mut self, ifname: &IfName) -> Result<(), KernelError>;

    /// Starts the detached helper `lagghook netcheck LAGG GENERATION`
    /// (fixed program, fixed arguments, no shell, its own session, no
    /// terminal, standard descriptors on /dev/null) and returns at once:
    /// the devd run never waits for it. In the simulator, the scenario
    /// harness runs it on simulated time (see `run::netcheck`).
    fn spawn_netcheck(&mut self, lagg: &IfName, generation: u64) -> Result<(), KernelError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_errno_has_its_abi_entry_and_round_trips() {
        for e in Errno::NAMED {
            let info = abi::errno_info(e.code());
            assert_eq!(info.map(|i| i.name), Some(format!("{e:?}").as_str()), "{e:?}");
            assert_eq!(Errno::from_code(e.code()), e);
            assert_eq!(e.name(), info.map(|i| i.name));
        }
        assert_eq!(Errno::NAMED.len(), abi::ERRNOS.len(), "a table entry without a variant");
        assert_eq!(Errno::from_code(5), Errno::Other(5));
        assert_eq!(Errno::Other(5).to_string(), "Unknown error: 5");
        assert_eq!(Errno::EEXIST.to_string(), "File exists");
        assert_eq!(Errno::Other(17).name(), None);
    }
}
