//! The seam between lagghook's policy and an operating system: one trait
//! method per kernel request, named after it. The real FreeBSD backend
//! (`sys::freebsd`) and the simulated kernel (`sim`) both implement it, and
//! return the same [`KernelError`] kinds, so the planner and the tests treat
//! them alike. Nothing here decides anything.

use std::fmt;

use crate::abi;
use crate::domain::model::WpaAddress;
use crate::domain::model::{IfName, Interface, LaggModule, LaggProto, LaggStatus, MacAddr};

/// The errnos lagghook tells apart. Their numbers, `<errno.h>` names and
/// strerror(3) texts are FreeBSD's and live in one place, `abi`
/// ([`abi::ERRNOS`]); they differ from Linux's, so errors carry this enum
/// rather than a host `nix::Errno`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    EPERM,
    ENOENT,
    ENXIO,
    ENOMEM,
    EBUSY,
    EEXIST,
    ENODEV,
    EINVAL,
    ENOSPC,
    EPROTONOSUPPORT,
    EOPNOTSUPP,
    ENETDOWN,
    /// Anything else, with FreeBSD's number.
    Other(i32),
}

impl Errno {
    /// Every named variant, for [`Errno::from_code`].
    const NAMED: [Errno; 12] = [
        Errno::EPERM,
        Errno::ENOENT,
        Errno::ENXIO,
        Errno::ENOMEM,
        Errno::EBUSY,
        Errno::EEXIST,
        Errno::ENODEV,
        Errno::EINVAL,
        Errno::ENOSPC,
        Errno::EPROTONOSUPPORT,
        Errno::EOPNOTSUPP,
        Errno::ENETDOWN,
    ];

    /// FreeBSD's numeric value.
    pub fn code(self) -> i32 {
        match self {
            Errno::EPERM => abi::EPERM,
            Errno::ENOENT => abi::ENOENT,
            Errno::ENXIO => abi::ENXIO,
            Errno::ENOMEM => abi::ENOMEM,
            Errno::EBUSY => abi::EBUSY,
            Errno::EEXIST => abi::EEXIST,
            Errno::ENODEV => abi::ENODEV,
            Errno::EINVAL => abi::EINVAL,
            Errno::ENOSPC => abi::ENOSPC,
            Errno::EPROTONOSUPPORT => abi::EPROTONOSUPPORT,
            Errno::EOPNOTSUPP => abi::EOPNOTSUPP,
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
