//! The seam between lagghook's policy and an operating system: one trait
//! method per kernel request, named after it. The real FreeBSD backend
//! (`sys::freebsd`) and the simulated kernel (`sim`) both implement it, and
//! return the same [`KernelError`] kinds, so the planner and the tests treat
//! them alike. Nothing here decides anything.

use std::fmt;

use crate::domain::model::{IfName, Interface, LaggProto, LaggStatus, MacAddr};

/// FreeBSD errno values (`sys/sys/errno.h`). They differ from Linux's, so
/// errors carry this enum rather than a host `nix::Errno`.
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
    /// FreeBSD's numeric value.
    pub fn code(self) -> i32 {
        match self {
            Errno::EPERM => 1,
            Errno::ENOENT => 2,
            Errno::ENXIO => 6,
            Errno::ENOMEM => 12,
            Errno::EBUSY => 16,
            Errno::EEXIST => 17,
            Errno::ENODEV => 19,
            Errno::EINVAL => 22,
            Errno::ENOSPC => 28,
            Errno::EPROTONOSUPPORT => 43,
            Errno::EOPNOTSUPP => 45,
            Errno::ENETDOWN => 50,
            Errno::Other(n) => n,
        }
    }

    /// From FreeBSD's numeric value.
    pub fn from_code(code: i32) -> Errno {
        match code {
            1 => Errno::EPERM,
            2 => Errno::ENOENT,
            6 => Errno::ENXIO,
            12 => Errno::ENOMEM,
            16 => Errno::EBUSY,
            17 => Errno::EEXIST,
            19 => Errno::ENODEV,
            22 => Errno::EINVAL,
            28 => Errno::ENOSPC,
            43 => Errno::EPROTONOSUPPORT,
            45 => Errno::EOPNOTSUPP,
            50 => Errno::ENETDOWN,
            n => Errno::Other(n),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Errno::EPERM => "Operation not permitted",
            Errno::ENOENT => "No such file or directory",
            Errno::ENXIO => "Device not configured",
            Errno::ENOMEM => "Cannot allocate memory",
            Errno::EBUSY => "Device busy",
            Errno::EEXIST => "File exists",
            Errno::ENODEV => "Operation not supported by device",
            Errno::EINVAL => "Invalid argument",
            Errno::ENOSPC => "No space left on device",
            Errno::EPROTONOSUPPORT => "Protocol not supported",
            Errno::EOPNOTSUPP => "Operation not supported",
            Errno::ENETDOWN => "Network is down",
            Errno::Other(_) => "Unknown error",
        }
    }
}

impl fmt::Display for Errno {
    /// strerror(3) wording of FreeBSD's libc, so messages read like ifconfig's.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Errno::Other(n) => write!(f, "Unknown error: {n}"),
            e => f.write_str(e.describe()),
        }
    }
}

/// The kernel request (or, for `RestartWpaSupplicant`, the rc script) that failed.
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
                f.write_str("no kernel backend on this OS (use --kernel sim:FILE)")
            }
            KernelErrorKind::Other(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for KernelError {}

/// A kernel lagghook can observe and change. Every method is one request
/// (or a fixed short sequence the doc names); policy lives in `plan`.
pub trait Kernel {
    /// getifaddrs(3) plus, per interface, `SIOCGHWADDR` and (for wlan vaps)
    /// the `net.wlan.N.%parent` sysctl: every interface, in `if_index` order.
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

    /// `/etc/rc.d/wpa_supplicant restart IF`, run directly (no shell), so
    /// wpa_supplicant re-reads the vap's address (it reads it once, at
    /// start: `l2_packet_init` in hostap's `l2_packet_freebsd.c`).
    fn restart_wpa_supplicant(&mut self, wlan: &IfName) -> Result<(), KernelError>;
}
