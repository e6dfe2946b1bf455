//! The FreeBSD backend: each [`Kernel`] method is one request (or the short
//! fixed sequence its doc names) on one `AF_LOCAL` datagram socket, the way
//! libifconfig talks to the kernel (`ifconfig_ioctlwrap`). Nothing here
//! decides anything; `plan` does.
//!
//! This module (with `ifaddrs`, its getifaddrs walk) is the only code of the
//! crate allowed `unsafe`. Each block says which buffer the kernel reads or
//! writes and why it lives long enough. Structs
//! and request numbers come from `abi`, whose values `tests/abi.rs`
//! checks against FreeBSD's headers; the requests are typed here ([`Request`])
//! so an argument of the wrong type, or a struct whose size does not match
//! the length encoded in its request number, fails to compile.
//!
//! Errors carry FreeBSD's errno (`Errno::from_code`), so `apply` and the
//! tests treat this backend and the simulator alike. Errors of a lagg port
//! request (`SIOCSLAGGPORT`, `SIOCSLAGGDELPORT`) name the port, the
//! interface the usual errnos (EEXIST, EBUSY, ENOENT, EPROTONOSUPPORT) are
//! about.
//!
//! Runtime behaviour on a real FreeBSD kernel has not been verified: this
//! file is cross-compiled and linked in CI, never run there.

#![allow(unsafe_code)]

mod bpf;
mod ifaddrs;
mod layer3;
mod route;
mod route_socket;

pub use route_socket::RouteSocket;

use core::ffi::{c_char, c_int, c_void, CStr};
use core::marker::PhantomData;
use core::mem::{offset_of, size_of};
use core::ptr;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;

use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

use crate::abi::{self, ifreq, IFNAMSIZ};
use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeResult,
    Ssid, WpaState,
};
use crate::domain::model::WpaAddress;
use crate::domain::model::{Caps, LaggModule, MacAddr, PortFlags};
use crate::domain::model::{IfKind, IfName, Interface, LaggPort, LaggProto, LaggStatus};
use crate::domain::text;
use crate::kernel::{Errno, Kernel, KernelError, Op};
use crate::sys::spawn;
use crate::sys::wpa_ctrl::WpaCtrl;
use std::net::IpAddr;

// The mirrors in `abi` spell `size_t` as `usize` and `unsigned long` request
// numbers as `u64`; both are right only on LP64. i386 FreeBSD has other
// request numbers (SIOCGLAGG = 0xc040698f) that nothing here has checked.
const _: () = assert!(usize::BITS == 64, "lagghook supports LP64 FreeBSD only (amd64, arm64)");

// getifaddrs(3) hands back libc's `ifaddrs`; the mirror in `abi` is the one
// `tests/abi.rs` compares with `ifaddrs.h`, so libc must agree with it.
const _: () = {
    assert!(size_of::<libc::ifaddrs>() == size_of::<abi::ifaddrs>());
    assert!(offset_of!(libc::ifaddrs, ifa_next) == offset_of!(abi::ifaddrs, ifa_next));
    assert!(offset_of!(libc::ifaddrs, ifa_name) == offset_of!(abi::ifaddrs, ifa_name));
    assert!(offset_of!(libc::ifaddrs, ifa_flags) == offset_of!(abi::ifaddrs, ifa_flags));
    assert!(offset_of!(libc::ifaddrs, ifa_addr) == offset_of!(abi::ifaddrs, ifa_addr));
    assert!(offset_of!(libc::ifaddrs, ifa_data) == offset_of!(abi::ifaddrs, ifa_data));
};

/// A request number bound to the type of its argument.
struct Request<T> {
    code: libc::c_ulong,
    arg: PhantomData<fn(&mut T)>,
}

impl<T> Clone for Request<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Request<T> {}

/// Binds `code` to `T`. Every `Request` is a `const`, so the check that the
/// length encoded in the number (`IOCPARM_LEN`) is `size_of::<T>()` runs at
/// compile time: a mismatch is a build error, never a runtime panic.
const fn request<T>(code: u64) -> Request<T> {
    assert!(
        (code >> 16) as usize & abi::IOCPARM_MASK as usize == size_of::<T>(),
        "ioctl argument type does not match the request's encoded length"
    );
    Request { code, arg: PhantomData }
}

const SIOCGIFFLAGS: Request<ifreq> = request(abi::SIOCGIFFLAGS);
const SIOCSIFFLAGS: Request<ifreq> = request(abi::SIOCSIFFLAGS);
const SIOCSIFLLADDR: Request<ifreq> = request(abi::SIOCSIFLLADDR);
const SIOCGHWADDR: Request<ifreq> = request(abi::SIOCGHWADDR);
const SIOCIFCREATE2: Request<ifreq> = request(abi::SIOCIFCREATE2);
const SIOCIFDESTROY: Request<ifreq> = request(abi::SIOCIFDESTROY);
const SIOCSIFNAME: Request<ifreq> = request(abi::SIOCSIFNAME);
const SIOCGLAGG: Request<abi::lagg_reqall> = request(abi::SIOCGLAGG);
const SIOCSLAGG: Request<abi::lagg_reqall> = request(abi::SIOCSLAGG);
const SIOCSLAGGPORT: Request<abi::lagg_reqport> = request(abi::SIOCSLAGGPORT);
const SIOCSLAGGDELPORT: Request<abi::lagg_reqport> = request(abi::SIOCSLAGGDELPORT);
const SIOCG80211: Request<abi::ieee80211req> = request(abi::SIOCG80211);
const SIOCGIFCAP: Request<ifreq> = request(abi::SIOCGIFCAP);

/// `net.link.lagg.failover_rx_all` (`SYSCTL_INT` in `sys/net/if_lagg.c`).
const FAILOVER_RX_ALL: &CStr = c"net.link.lagg.failover_rx_all";

/// The 802.11 devices (`SYSCTL_PROC(_net_wlan, OID_AUTO, devices, …)` in
/// `sys/net80211/ieee80211.c`).
const WLAN_DEVICES: &CStr = c"net.wlan.devices";

/// The module ifconfig loads before creating a lagg (`ifmaybeload`):
/// `DECLARE_MODULE(if_lagg, …)` in `sys/net/if_lagg.c`; kldload(2) of a
/// name without `/` or `.` looks the module up by this name
/// (`kern_kldload` in `sys/kern/kern_linker.c`).
const IF_LAGG: &CStr = c"if_lagg";

// modfind(2) and kldload(2): libc.so.7 system calls the `libc` crate does
// not declare (`sys/module.h`, `sys/linker.h`).
extern "C" {
    fn modfind(modname: *const c_char) -> c_int;
    fn kldload(file: *const c_char) -> c_int;
}

/// The rc script lagghook restarts; an absolute path, run without a shell.
const WPA_SUPPLICANT_RC: &str = "/etc/rc.d/wpa_supplicant";

/// The rc script that configures an interface as boot does.
const NETIF_RC: &str = "/etc/rc.d/netif";

/// How far `lagg_status` grows its port buffer when the kernel fills it.
const LAGG_PORTS_LIMIT: usize = 4 * abi::LAGG_MAX_PORTS;

/// FreeBSD's kernel, through ioctl(2), sysctl(3) and getifaddrs(3).
#[derive(Debug)]
pub struct FreeBsdKernel {
    /// Any socket reaches `ifioctl` (`soo_ioctl` in `sys/kern/sys_socket.c`);
    /// `AF_LOCAL`'s protocol answers EOPNOTSUPP to every interface request,
    /// so each falls through to the interface's own `if_ioctl` (lagg,
    /// net80211) exactly as libifconfig's requests do.
    sock: OwnedFd,
}

impl FreeBsdKernel {
    /// Opens the request socket: `socket(AF_LOCAL, SOCK_DGRAM|SOCK_CLOEXEC)`.
    /// Its failure is reported as `ListInterfaces`, the first request a run
    /// makes.
    pub fn open() -> Result<FreeBsdKernel, KernelError> {
        let sock = socket(AddressFamily::Unix, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
            .map_err(|e| {
                KernelError::errno(Op::ListInterfaces, None, Errno::from_code(e as i32))
            })?;
        Ok(FreeBsdKernel { sock })
    }

    /// ioctl(2) on the request socket; `Err` holds the errno.
    ///
    /// # Safety
    /// Every pointer inside `*arg` (`ra_port`, `ifr_data`) must be valid for
    /// what the kernel does with it during this call (reads or writes of the
    /// length the request implies).
    unsafe fn ioctl<T>(&self, req: Request<T>, arg: &mut T) -> Result<(), i32> {
        // SAFETY: `arg` is an exclusive borrow of a `T` of exactly the size
        // encoded in `req.code` (checked by `request`), alive for the whole
        // call, so the kernel's copyin/copyout of IOCPARM_LEN bytes stays
        // inside it; pointers inside it are the caller's promise.
        let rc = unsafe { libc::ioctl(self.sock.as_raw_fd(), req.code, ptr::from_mut(arg)) };
        if rc == -1 {
            Err(last_errno())
        } else {
            Ok(())
        }
    }

    /// Is `name` a lagg? `SIOCGLAGG` with an empty port buffer succeeds
    /// only on a lagg (`lagg_ioctl`); other drivers reject the unknown
    /// request (`ether_ioctl`: EINVAL). Asking the kernel rather than
    /// trusting the `lagg` name prefix keeps a renamed lagg a lagg.
    fn is_lagg(&self, name: &IfName) -> bool {
        let Some(buf) = abi::ifname_bytes(name.as_str()) else { return false };
        let mut ra = abi::lagg_reqall::new(buf);
        // SAFETY: `ra_port` is null and `ra_size` 0, so `lagg_ioctl` copies
        // out 0 bytes (`copyout(outbuf, ra_port, 0)`); `ra` lives on this
        // stack frame for the whole call.
        unsafe { self.ioctl(SIOCGLAGG, &mut ra) }.is_ok()
    }

    /// The radio of vap `name`, or `None` if `name` is no vap: `SIOCG80211`
    /// with `IEEE80211_IOC_IC_NAME`, as ifconfig's `getdevicename` asks
    /// (`sbin/ifconfig/ifieee80211.c`). net80211 answers with `ic_name`
    /// (`ieee80211_ioctl_get80211` in `sys/net80211/ieee80211_ioctl.c`);
    /// any other driver passes the unknown request to `ether_ioctl`, which
    /// answers EINVAL. A vap inside a lagg still answers:
    /// `lagg_port_ioctl` hands requests it does not know to the port's own
    /// `if_ioctl`. Asking net80211 rather than trusting the `wlan<N>` name
    /// keeps a renamed vap (`ifconfig_wlan0_name="wifi0"`) a vap, which the
    /// `net.wlan.<unit>.%parent` sysctl, keyed by unit, could not.
    fn ic_name(&self, name: &IfName) -> Result<Option<IfName>, i32> {
        let mut buf = [0u8; IFNAMSIZ];
        let mut req = abi::ieee80211req {
            i_name: abi::ifname_bytes(name.as_str()).ok_or(abi::EINVAL)?,
            i_type: abi::IEEE80211_IOC_IC_NAME,
            i_val: -1,
            i_len: IFNAMSIZ as u16,
            i_data: buf.as_mut_ptr().cast::<c_void>(),
        };
        // SAFETY: `i_data` points to `buf`, `i_len` (16) bytes on this stack
        // frame, alive for the whole call; net80211 copies out at most
        // `i_len` bytes into it and keeps no pointer.
        match unsafe { self.ioctl(SIOCG80211, &mut req) } {
            Ok(()) => {
                let len = usize::from(req.i_len).min(IFNAMSIZ);
                let raw = &buf[..len];
                let raw = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
                let parent = std::str::from_utf8(raw).ok().and_then(|s| IfName::new(s).ok());
                parent.map(Some).ok_or(abi::EINVAL)
            }
            Err(code) if code == abi::EINVAL || code == abi::EOPNOTSUPP => Ok(None),
            Err(code) => Err(code),
        }
    }

    /// `SIOCGIFCAP` (`ifhwioctl` in `sys/net/if.c`, for every interface):
    /// `if_capabilities` in `ifr_reqcap`, `if_capenable` in `ifr_curcap`.
    /// A lagg's are the intersection of its ports' (`lagg_capabilities`).
    fn caps(&self, name: &IfName) -> Result<Option<Caps>, i32> {
        let mut ifr = ifreq::new(abi::ifname_bytes(name.as_str()).ok_or(abi::EINVAL)?);
        // SAFETY: `ifr` is a pointer-free ifreq on this stack frame.
        match unsafe { self.ioctl(SIOCGIFCAP, &mut ifr) } {
            Ok(()) => {
                // SAFETY: the union was fully initialised by `ifreq::new`;
                // `ifru_cap` is two ints, valid for any bit pattern.
                let [supported, enabled] = unsafe { ifr.ifr_ifru.ifru_cap };
                Ok(Some(Caps { supported: supported as u32, enabled: enabled as u32 }))
            }
            Err(code) if code == abi::EINVAL || code == abi::EOPNOTSUPP => Ok(None),
            Err(code) => Err(code),
        }
    }

    /// `SIOCGHWADDR` (`if_gethwaddr` in `sys/net/if.c`): the address the
    /// interface was attached with. `Ok(None)` where the kernel has none
    /// (ENODEV: not `IFT_ETHER`/`IFT_IEEE8023ADLAG`); `Err(ENXIO)` when the
    /// interface left after getifaddrs listed it.
    fn hwaddr(&self, name: &IfName) -> Result<Option<MacAddr>, i32> {
        let mut ifr = ifreq::new(abi::ifname_bytes(name.as_str()).ok_or(abi::EINVAL)?);
        // ifconfig's `link_status` passes AF_LOCAL in sa_family; the kernel
        // only writes `ifr_addr.sa_data`.
        ifr.ifr_ifru.ifru_addr =
            abi::sockaddr { sa_len: 0, sa_family: abi::AF_LOCAL, sa_data: [0; 14] };
        // SAFETY: `ifr` is a pointer-free ifreq on this stack frame.
        match unsafe { self.ioctl(SIOCGHWADDR, &mut ifr) } {
            // SAFETY: the union was fully initialised by `ifreq::new` and
            // `ifru_addr` is plain bytes, so any content is a valid value.
            Ok(()) => Ok(Some(mac_from(&unsafe { ifr.ifr_ifru.ifru_addr }.sa_data))),
            Err(code) if code == abi::ENODEV => Ok(None),
            Err(code) => Err(code),
        }
    }

    /// `SIOCIFCREATE2` with `ifr_data` → `params`; the kernel may answer
    /// with another name (it picks a unit when none is given), which is
    /// reported rather than hidden, since later requests use `name`.
    fn clone_create<P>(&self, op: Op, name: &IfName, params: &mut P) -> Result<(), KernelError> {
        let wanted = name_buf(op, name)?;
        let mut ifr = ifreq::new(wanted);
        ifr.ifr_ifru.ifru_data = ptr::from_mut(params).cast::<c_void>();
        // SAFETY: `ifr_data` points to `*params`, borrowed exclusively for
        // this whole function; the cloner copies in its parameter struct
        // from it (`ifc_copyin` in `lagg_clone_create`) during the call and
        // keeps no pointer to it.
        unsafe { self.ioctl(SIOCIFCREATE2, &mut ifr) }.map_err(|c| errno(op, name, c))?;
        if ifr.ifr_name != wanted {
            let got = String::from_utf8_lossy(abi::ifname_str(&ifr.ifr_name)).into_owned();
            return Err(KernelError::other(
                op,
                Some(name),
                format!("kernel created {got} instead"),
            ));
        }
        Ok(())
    }

    /// Starts `script args…` (no shell; stdio to /dev/null; descriptors
    /// closed) and does not wait for it: devd waits for lagghook before it
    /// handles the next event (`my_system` in `sbin/devd/devd.cc`), and an
    /// rc script may wait for a process (`wait_for_pids`). The child is
    /// reparented to init when lagghook exits. Only a failed spawn is an
    /// error.
    fn spawn_rc(
        &self,
        op: Op,
        name: &IfName,
        script: &str,
        args: &[&str],
    ) -> Result<(), KernelError> {
        let mut command = spawn::command(Path::new(script), args);
        // SAFETY: the closure runs in the child between fork and exec and
        // calls only closefrom(2), which is async-signal-safe and touches no
        // memory of the parent's: descriptors devd left open to lagghook
        // (std's own are close-on-exec) do not reach the rc script.
        unsafe {
            command.pre_exec(|| {
                libc::closefrom(3);
                Ok(())
            });
        }
        match command.spawn() {
            // Dropping a `Child` neither waits for nor kills it.
            Ok(_child) => Ok(()),
            Err(e) => Err(match e.raw_os_error() {
                Some(code) => errno(op, name, code),
                None => KernelError::other(op, Some(name), text::io_error(&e)),
            }),
        }
    }

    /// One lagg port request (`SIOCSLAGGPORT` / `SIOCSLAGGDELPORT`).
    fn port_request(
        &self,
        op: Op,
        req: Request<abi::lagg_reqport>,
        lagg: &IfName,
        port: &IfName,
    ) -> Result<(), KernelError> {
        let mut rp = abi::lagg_reqport::new(name_buf(op, lagg)?, name_buf(op, port)?);
        // SAFETY: `rp` is a pointer-free lagg_reqport on this stack frame.
        unsafe { self.ioctl(req, &mut rp) }.map_err(|c| errno(op, port, c))
    }
}

impl Kernel for FreeBsdKernel {
    /// getifaddrs(3); per Ethernet-like interface then: `SIOCG80211`
    /// `IEEE80211_IOC_IC_NAME` (is it a vap, on which radio),
    /// `SIOCGLAGG` (IFT_ETHER interfaces that are not vaps) and
    /// `SIOCGHWADDR`; per interface `SIOCGIFCAP`.
    ///
    /// Link state is `ifi_link_state`, not `SIOCGIFMEDIA`: it is the value
    /// lagg itself tests (`LAGG_PORTACTIVE` in `sys/net/if_lagg.h`), it
    /// comes with getifaddrs at no extra request, and it is what devd's
    /// LINK_UP/LINK_DOWN report (`do_link_state_change`).
    fn interfaces(&mut self) -> Result<Vec<Interface>, KernelError> {
        let mut out = Vec::new();
        for e in ifaddrs::link_entries()? {
            let ethernet_like =
                e.ifi_type == abi::IFT_ETHER || e.ifi_type == abi::IFT_IEEE8023ADLAG;
            // Only an ifnet of an Ethernet type can be a vap
            // (`ieee80211_vap_setup`: IFT_ETHER, IFT_IEEE8023ADLAG in a lagg).
            let parent = if ethernet_like {
                match self.ic_name(&e.name) {
                    Ok(p) => p,
                    // Gone since getifaddrs listed it: it is not there.
                    Err(code) if code == abi::ENXIO => continue,
                    Err(code) => return Err(errno(Op::ListInterfaces, &e.name, code)),
                }
            } else {
                None
            };
            // Order matters: a vap is IFT_ETHER, and so is a lagg
            // (`lagg_clone_create` → `ether_ifattach`).
            let kind = if parent.is_some() {
                IfKind::Wlan
            } else if e.ifi_type == abi::IFT_ETHER && self.is_lagg(&e.name) {
                IfKind::Lagg
            } else if ethernet_like {
                IfKind::Ether
            } else if e.ifi_type == abi::IFT_L2VLAN {
                // A vlan inside a lagg is IFT_IEEE8023ADLAG, so Ether above.
                IfKind::Vlan
            } else {
                IfKind::Other
            };
            let hwaddr = if ethernet_like || e.ifi_type == abi::IFT_L2VLAN {
                match self.hwaddr(&e.name) {
                    Ok(mac) => mac,
                    // Gone since getifaddrs listed it: it is not there.
                    Err(code) if code == abi::ENXIO => continue,
                    Err(code) => return Err(errno(Op::ListInterfaces, &e.name, code)),
                }
            } else {
                None
            };
            let caps = match self.caps(&e.name) {
                Ok(caps) => caps,
                Err(code) if code == abi::ENXIO => continue,
                Err(code) => return Err(errno(Op::ListInterfaces, &e.name, code)),
            };
            out.push(Interface {
                name: e.name,
                index: e.index,
                kind,
                mac: e.mac,
                hwaddr,
                up: e.up,
                link: e.link,
                mtu: e.mtu,
                parent,
                caps,
            });
        }
        out.sort_by_key(|i| i.index);
        Ok(out)
    }

    /// `SIOCGLAGG` with a `LAGG_MAX_PORTS`-entry buffer, as ifconfig's
    /// `lagg_status` does. The kernel copies at most `ra_size` bytes of
    /// ports and reports only how many it copied (`ra_ports`), silently
    /// truncating, so a full buffer is the only sign the list may be longer:
    /// then the buffer doubles and the request is repeated. With 32 entries
    /// that cannot happen (`lagg_port_create` refuses a 33rd port); the
    /// retry guards against a kernel with a larger limit.
    fn lagg_status(&mut self, lagg: &IfName) -> Result<LaggStatus, KernelError> {
        let op = Op::GetLagg;
        let name = name_buf(op, lagg)?;
        let mut cap = abi::LAGG_MAX_PORTS;
        loop {
            let mut ports = vec![abi::lagg_reqport::new([0; IFNAMSIZ], [0; IFNAMSIZ]); cap];
            let mut ra = abi::lagg_reqall::new(name);
            ra.ra_size = cap * size_of::<abi::lagg_reqport>();
            ra.ra_port = ports.as_mut_ptr();
            // SAFETY: `ra_port` points to `ports`, `cap` lagg_reqport
            // (`ra_size` bytes), a Vec alive and not moved until after the
            // call; the kernel writes at most `ra_size` bytes there.
            unsafe { self.ioctl(SIOCGLAGG, &mut ra) }.map_err(|c| errno(op, lagg, c))?;
            let copied = usize::try_from(ra.ra_ports).unwrap_or(0).min(cap);
            if copied == cap && cap < LAGG_PORTS_LIMIT {
                cap *= 2;
                continue;
            }
            let mut out = Vec::with_capacity(copied);
            for rp in &ports[..copied] {
                let raw = abi::ifname_str(&rp.rp_portname);
                let port = std::str::from_utf8(raw).ok().and_then(|s| IfName::new(s).ok());
                let Some(port) = port else {
                    let shown = String::from_utf8_lossy(raw).into_owned();
                    return Err(KernelError::other(
                        op,
                        Some(lagg),
                        format!("port name {shown:?} is not an interface name"),
                    ));
                };
                out.push(LaggPort { name: port, flags: PortFlags::from_raw(rp.rp_flags) });
            }
            return Ok(LaggStatus { proto: LaggProto::from_raw(ra.ra_proto), ports: out });
        }
    }

    /// sysctlbyname(3) read of `net.link.lagg.failover_rx_all` (an int).
    fn failover_rx_all(&mut self) -> Result<Option<bool>, KernelError> {
        let mut value: c_int = 0;
        let mut len = size_of::<c_int>();
        // SAFETY: `oldp` is `value` and `oldlenp` `len` (its size), both on
        // this stack frame for the whole call; no new value is passed.
        let rc = unsafe {
            libc::sysctlbyname(
                FAILOVER_RX_ALL.as_ptr(),
                ptr::from_mut(&mut value).cast::<c_void>(),
                &mut len,
                ptr::null(),
                0,
            )
        };
        if rc == -1 {
            return match last_errno() {
                // if_lagg is not loaded: the sysctl does not exist yet.
                code if code == abi::ENOENT => Ok(None),
                code => Err(KernelError::errno(Op::GetSysctl, None, Errno::from_code(code))),
            };
        }
        Ok(Some(value != 0))
    }

    /// `modfind("if_lagg")`; then `kern.securelevel`, `kern.module_path`
    /// and a stat(2) of `if_lagg.ko` in each of its directories, the way
    /// `linker_load_module` searches them. Reads only.
    fn lagg_module(&mut self) -> Result<LaggModule, KernelError> {
        let op = Op::GetModule;
        let err = |code| KernelError::errno(op, None, Errno::from_code(code));
        // SAFETY: `IF_LAGG` is a NUL-terminated static string that
        // modfind(2) only reads.
        let loaded = unsafe { modfind(IF_LAGG.as_ptr()) } != -1;
        let mut level = [0u8; size_of::<c_int>()];
        let securelevel = match sysctl_read(c"kern.securelevel", &mut level).map_err(err)? {
            len if len == level.len() => c_int::from_ne_bytes(level),
            _ => return Err(KernelError::other(op, None, "kern.securelevel is not an int")),
        };
        let mut path = [0u8; 1024];
        let len = sysctl_read(c"kern.module_path", &mut path).map_err(err)?;
        let path = &path[..len];
        let path = &path[..path.iter().position(|&b| b == 0).unwrap_or(path.len())];
        let module_path = String::from_utf8_lossy(path).into_owned();
        let module_file = module_path
            .split(';')
            .filter(|dir| !dir.is_empty())
            .map(|dir| format!("{}/if_lagg.ko", dir.trim_end_matches('/')))
            .find(|file| Path::new(file).is_file());
        Ok(LaggModule { loaded, securelevel, module_path, module_file })
    }

    /// ifconfig's `ifmaybeload` (`sbin/ifconfig/ifconfig.c`): nothing if
    /// `modfind("if_lagg")` finds it (loaded, or compiled into the
    /// kernel), else `kldload("if_lagg")`; EEXIST (loaded meanwhile by
    /// someone else) is success.
    fn load_lagg_module(&mut self) -> Result<(), KernelError> {
        // SAFETY: as in `lagg_module`: a static C string, only read.
        if unsafe { modfind(IF_LAGG.as_ptr()) } != -1 {
            return Ok(());
        }
        // SAFETY: the same string; kldload(2) only reads it.
        if unsafe { kldload(IF_LAGG.as_ptr()) } == -1 {
            let code = last_errno();
            if code != abi::EEXIST {
                return Err(KernelError::errno(Op::LoadModule, None, Errno::from_code(code)));
            }
        }
        Ok(())
    }

    /// sysctlbyname(3) write of `net.link.lagg.failover_rx_all`.
    fn set_failover_rx_all(&mut self, value: bool) -> Result<(), KernelError> {
        let new: c_int = c_int::from(value);
        // SAFETY: `newp` is `new`, `newlen` its size, on this stack frame
        // for the whole call; no old value is asked for (null `oldp`).
        let rc = unsafe {
            libc::sysctlbyname(
                FAILOVER_RX_ALL.as_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::from_ref(&new).cast::<c_void>(),
                size_of::<c_int>(),
            )
        };
        if rc == -1 {
            return Err(KernelError::errno(Op::SetSysctl, None, Errno::from_code(last_errno())));
        }
        Ok(())
    }

    /// `SIOCIFCREATE2` on the lagg cloner with `struct iflaggparam`
    /// { `LAGG_TYPE_ETHERNET` }, which is `LAGG_TYPE_DEFAULT`, what
    /// ifconfig's `lagg_create` (`sbin/ifconfig/iflagg.c`) passes.
    fn create_lagg(&mut self, lagg: &IfName) -> Result<(), KernelError> {
        let mut params =
            abi::iflaggparam { lagg_type: abi::LAGG_TYPE_ETHERNET, ..Default::default() };
        self.clone_create(Op::CreateLagg, lagg, &mut params)
    }

    /// `SIOCSLAGG` with `ra_proto` (`setlaggproto` in ifconfig).
    fn set_lagg_proto(&mut self, lagg: &IfName, proto: LaggProto) -> Result<(), KernelError> {
        let op = Op::SetLaggProto;
        let mut ra = abi::lagg_reqall::new(name_buf(op, lagg)?);
        ra.ra_proto = proto.to_raw();
        // SAFETY: `ra_port` is null and `ra_size` 0; SIOCSLAGG only reads
        // `ra_proto` (`lagg_ioctl`). `ra` lives on this stack frame.
        unsafe { self.ioctl(SIOCSLAGG, &mut ra) }.map_err(|c| errno(op, lagg, c))
    }

    /// `SIOCSLAGGPORT` (`setlaggport` in ifconfig).
    fn add_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        self.port_request(Op::AddLaggPort, SIOCSLAGGPORT, lagg, port)
    }

    /// `SIOCSLAGGDELPORT` (`unsetlaggport` in ifconfig).
    fn remove_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        self.port_request(Op::RemoveLaggPort, SIOCSLAGGDELPORT, lagg, port)
    }

    /// `SIOCSIFLLADDR` with `ifr_addr` = { `sa_len` = 6, `AF_LINK`, MAC }:
    /// `ifhwioctl` passes `sa_len` to `if_setlladdr` as the address length
    /// (EINVAL unless it equals the interface's), which is why ifconfig's
    /// `link_getaddr` (`sbin/ifconfig/af_link.c`) sets it to `sdl_alen`.
    fn set_lladdr(&mut self, ifname: &IfName, mac: MacAddr) -> Result<(), KernelError> {
        let op = Op::SetLladdr;
        let mut sa_data = [0u8; 14];
        sa_data[..abi::ETHER_ADDR_LEN].copy_from_slice(&mac.0);
        let mut ifr = ifreq::new(name_buf(op, ifname)?);
        ifr.ifr_ifru.ifru_addr =
            abi::sockaddr { sa_len: abi::ETHER_ADDR_LEN as u8, sa_family: abi::AF_LINK, sa_data };
        // SAFETY: `ifr` is a pointer-free ifreq on this stack frame.
        unsafe { self.ioctl(SIOCSIFLLADDR, &mut ifr) }.map_err(|c| errno(op, ifname, c))
    }

    /// `SIOCGIFFLAGS`, then `SIOCSIFFLAGS` with `IFF_UP` set or cleared,
    /// as ifconfig's `setifflags`: the flags are `ifr_flags` (low 16 bits)
    /// | `ifr_flagshigh` << 16, written back split the same way.
    fn set_up(&mut self, ifname: &IfName, up: bool) -> Result<(), KernelError> {
        let op = Op::SetFlags;
        let mut ifr = ifreq::new(name_buf(op, ifname)?);
        // SAFETY: `ifr` is a pointer-free ifreq on this stack frame.
        unsafe { self.ioctl(SIOCGIFFLAGS, &mut ifr) }.map_err(|c| errno(op, ifname, c))?;
        // SAFETY: the union was fully initialised by `ifreq::new` and the
        // kernel wrote `ifru_flags`; two i16 accept any bit pattern.
        let [low, high] = unsafe { ifr.ifr_ifru.ifru_flags };
        let flags = u32::from(low as u16) | (u32::from(high as u16) << 16);
        let flags = if up { flags | abi::IFF_UP } else { flags & !abi::IFF_UP };
        ifr.ifr_ifru.ifru_flags = [(flags & 0xffff) as u16 as i16, (flags >> 16) as u16 as i16];
        // SAFETY: as above; `ifr` still holds no pointer.
        unsafe { self.ioctl(SIOCSIFFLAGS, &mut ifr) }.map_err(|c| errno(op, ifname, c))
    }

    /// Spawns `/etc/rc.d/wpa_supplicant restart <wlan>` (no shell; stdio
    /// to /dev/null) and does not wait: stopping wpa_supplicant waits for
    /// its pid to exit (`wait_for_pids` in rc.subr's `run_rc_command`), and
    /// devd waits for lagghook before handling the next event (`my_system`
    /// in `sbin/devd/devd.cc`). (14.x's script has no post-start; 13.x's
    /// slept 2 s in one: lagghook does not depend on either.) The child is
    /// reparented to init when lagghook exits. Only a failed spawn is an
    /// error.
    fn restart_wpa_supplicant(&mut self, wlan: &IfName) -> Result<(), KernelError> {
        let op = Op::RestartWpaSupplicant;
        self.spawn_rc(op, wlan, WPA_SUPPLICANT_RC, &["restart", wlan.as_str()])
    }

    /// The vap re-created with `wlanaddr`, as rc creates and configures
    /// one (`libexec/rc/network.subr` at 03ccfdd2…: `wlan_up` runs
    /// `ifconfig CHILD create wlandev PARENT create_args`, or `ifconfig
    /// wlan create … name CHILD` for a child not named `wlan<N>`; `wlan_down`
    /// destroys with `ifconfig -n CHILD destroy`):
    /// 1. `SIOCIFDESTROY` (`if_clone_destroy`: lagg drops the port,
    ///    `lagg_port_ifdetach`);
    /// 2. `SIOCIFCREATE2` on the wlan cloner with `ieee80211_clone_params`
    ///    { PARENT, `IEEE80211_M_STA`, `IEEE80211_CLONE_MACADDR`, MAC }, what
    ///    ifconfig's `wlan_create` (`sbin/ifconfig/ifieee80211.c`) passes for
    ///    `wlanaddr`, so the driver's `ic_vap_create` gets the address
    ///    (`wlan_clone_create`, `sys/net80211/ieee80211_freebsd.c`); a child
    ///    not named `wlan<N>` is created as `wlan` and renamed with
    ///    `SIOCSIFNAME`, as `name CHILD` does;
    /// 3. `/etc/rc.d/netif quietstart CHILD`, spawned, not waited for:
    ///    `netif_start` skips `wlan_up` for a child that exists and runs
    ///    `ifn_start`, whose `ifconfig_up` applies `ifconfig_CHILD` and, for
    ///    `WPA`, runs `/etc/rc.d/wpa_supplicant start CHILD`
    ///    (`libexec/rc/rc.d/netif` at 023fc80e…).
    ///
    /// wpa_supplicant ends up with the new address either way: a new one
    /// reads it at start (`l2_packet_init`); the old one, if it outlived its
    /// interface, hears the departure and the arrival of the same name on
    /// the routing socket (`wpa_driver_bsd_event_receive`, RTM_IFANNOUNCE:
    /// EVENT_INTERFACE_REMOVED, then EVENT_INTERFACE_ADDED with the new
    /// ifindex, in `contrib/wpa/src/drivers/driver_bsd.c` at
    /// 1a1679562a940b8ec0f2189adb09f150e1405e09), re-initialises its
    /// driver and reads it then, and `start` finds it running and leaves
    /// it. ifconfig's own `wlan_create` applies the default regulatory
    /// domain afterwards (`setdefregdomain`); this does not, and the other
    /// words of `create_args_CHILD` (`country`, `regdomain`) are not
    /// re-applied: `ifconfig_CHILD`'s are.
    fn recreate_vap(
        &mut self,
        wlan: &IfName,
        parent: &IfName,
        mac: MacAddr,
    ) -> Result<(), KernelError> {
        let op = Op::RecreateVap;
        let mut ifr = ifreq::new(name_buf(op, wlan)?);
        // SAFETY: `ifr` is a pointer-free ifreq on this stack frame.
        unsafe { self.ioctl(SIOCIFDESTROY, &mut ifr) }.map_err(|c| errno(op, wlan, c))?;
        let mut params = abi::ieee80211_clone_params {
            icp_parent: name_buf(op, parent)?,
            icp_opmode: abi::IEEE80211_M_STA,
            icp_flags: abi::IEEE80211_CLONE_MACADDR,
            icp_macaddr: mac.0,
            ..Default::default()
        };
        if crate::domain::config::is_wlan_name(wlan.as_str()) {
            self.clone_create(op, wlan, &mut params)?;
        } else {
            let cloner = IfName::new("wlan")
                .map_err(|e| KernelError::other(op, Some(wlan), e.to_string()))?;
            let mut ifr = ifreq::new(name_buf(op, &cloner)?);
            ifr.ifr_ifru.ifru_data = ptr::from_mut(&mut params).cast::<c_void>();
            // SAFETY: `ifr_data` points to `params`, borrowed for the call;
            // `wlan_clone_create` copies it in (`ifc_copyin`) and keeps no
            // pointer. The kernel writes the unit it chose into `ifr_name`.
            unsafe { self.ioctl(SIOCIFCREATE2, &mut ifr) }.map_err(|c| errno(op, wlan, c))?;
            let mut new_name = name_buf(op, wlan)?;
            ifr.ifr_ifru.ifru_data = new_name.as_mut_ptr().cast::<c_void>();
            // SAFETY: `ifr_name` holds the created vap's name as the kernel
            // wrote it, NUL-terminated within IFNAMSIZ; `ifr_data` points to
            // `new_name`, a NUL-terminated IFNAMSIZ buffer on this frame
            // that `ifhwioctl` copies in (`copyinstr`) during the call.
            unsafe { self.ioctl(SIOCSIFNAME, &mut ifr) }.map_err(|c| errno(op, wlan, c))?;
        }
        self.spawn_rc(op, wlan, NETIF_RC, &["quietstart", wlan.as_str()])
    }

    /// `STATUS` on `/var/run/wpa_supplicant/IF` from a socket bound in
    /// `/var/run/lagghook`, after a look at the pidfile `IF.pid`
    /// ([`WpaCtrl::own_address`], which holds the sources). No ioctl: the
    /// ifnet is not asked, so a name that is no vap is simply one no
    /// wpa_supplicant runs for. Never an `Err` (see the trait): whatever
    /// goes wrong between lagghook and wpa_supplicant is `Unknown`.
    fn wpa_supplicant_address(&mut self, wlan: &IfName) -> Result<WpaAddress, KernelError> {
        Ok(WpaCtrl::freebsd().own_address(wlan))
    }

    /// sysctlbyname(3) read of `net.wlan.devices`, a string of radio names
    /// separated by single spaces and without a NUL
    /// (`sysctl_ieee80211coms` in `sys/net80211/ieee80211.c`). ENOENT: no
    /// wlan(4) in the kernel yet, so no radio. 4 KiB hold 256 radios of
    /// 15 bytes; a longer list fails with ENOMEM rather than being cut.
    fn wlan_devices(&mut self) -> Result<Vec<IfName>, KernelError> {
        let op = Op::GetWlanDevices;
        let mut buf = [0u8; 4096];
        let len = match sysctl_read(WLAN_DEVICES, &mut buf) {
            Ok(len) => len,
            Err(code) if code == abi::ENOENT => return Ok(Vec::new()),
            Err(code) => return Err(KernelError::errno(op, None, Errno::from_code(code))),
        };
        let text = &buf[..len];
        let text = &text[..text.iter().position(|&b| b == 0).unwrap_or(text.len())];
        let text = std::str::from_utf8(text)
            .map_err(|_| KernelError::other(op, None, "the list is not text"))?;
        text.split_whitespace()
            .map(|name| {
                IfName::new(name).map_err(|e| {
                    KernelError::other(op, None, format!("radio {}: {e}", text::echo(name)))
                })
            })
            .collect()
    }

    fn addresses(&mut self, ifname: &IfName) -> Result<Vec<IfAddr>, KernelError> {
        layer3::addresses(self, ifname)
    }

    fn default_routes(&mut self) -> Result<Vec<DefaultRoute>, KernelError> {
        layer3::default_routes(self)
    }

    fn neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<Option<Neighbour>, KernelError> {
        layer3::neighbour(self, ifname, ip)
    }

    fn probe(
        &mut self,
        lagg: &IfName,
        exchange: &ProbeExchange,
    ) -> Result<ProbeResult, KernelError> {
        layer3::probe(self, lagg, exchange)
    }

    fn delete_address(&mut self, ifname: &IfName, addr: IfAddr) -> Result<(), KernelError> {
        layer3::delete_address(self, ifname, addr)
    }

    fn delete_default_route(&mut self, route: &DefaultRoute) -> Result<(), KernelError> {
        layer3::delete_default_route(self, route)
    }

    fn delete_neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<(), KernelError> {
        layer3::delete_neighbour(self, ifname, ip)
    }

    fn ssid(&mut self, wlan: &IfName) -> Result<Option<Ssid>, KernelError> {
        layer3::ssid(self, wlan)
    }

    fn wpa_supplicant_state(&mut self, wlan: &IfName) -> Result<WpaState, KernelError> {
        layer3::wpa_supplicant_state(self, wlan)
    }

    fn dhcp_client(&mut self, ifname: &IfName) -> Result<Option<DhcpProcess>, KernelError> {
        layer3::dhcp_client(self, ifname)
    }

    fn stop_dhcp_client(
        &mut self,
        ifname: &IfName,
        process: DhcpProcess,
    ) -> Result<(), KernelError> {
        layer3::stop_dhcp_client(self, ifname, process)
    }

    fn start_dhcp_client(
        &mut self,
        ifname: &IfName,
        client: DhcpClient,
        lease: &Lease,
    ) -> Result<(), KernelError> {
        layer3::start_dhcp_client(self, ifname, client, lease)
    }

    fn solicit_router(&mut self, ifname: &IfName) -> Result<(), KernelError> {
        layer3::solicit_router(self, ifname)
    }

    fn spawn_netcheck(&mut self, lagg: &IfName, generation: u64) -> Result<(), KernelError> {
        layer3::spawn_netcheck(self, lagg, generation)
    }
}

/// `name` as an `IFNAMSIZ` buffer for request `op`. `IfName` already
/// guarantees it fits (at most 15 bytes, no NUL); this never truncates
/// regardless.
fn name_buf(op: Op, name: &IfName) -> Result<[u8; IFNAMSIZ], KernelError> {
    abi::ifname_bytes(name.as_str())
        .ok_or_else(|| KernelError::other(op, Some(name), "name does not fit IFNAMSIZ"))
}

/// sysctlbyname(3) read into `buf`; the length the kernel wrote, or errno.
fn sysctl_read(name: &CStr, buf: &mut [u8]) -> Result<usize, i32> {
    let mut len = buf.len();
    // SAFETY: `oldp` is `buf` and `oldlenp` holds its length, both borrowed
    // for the whole call, so the kernel writes at most `buf.len()` bytes;
    // `name` is NUL-terminated; no new value is passed.
    let rc = unsafe {
        libc::sysctlbyname(
            name.as_ptr(),
            buf.as_mut_ptr().cast::<c_void>(),
            &mut len,
            ptr::null(),
            0,
        )
    };
    if rc == -1 {
        Err(last_errno())
    } else {
        Ok(len.min(buf.len()))
    }
}

/// The first 6 bytes of a `sa_data` as a MAC address.
fn mac_from(sa_data: &[u8; 14]) -> MacAddr {
    let mut m = [0u8; 6];
    m.copy_from_slice(&sa_data[..abi::ETHER_ADDR_LEN]);
    MacAddr(m)
}

fn errno(op: Op, ifname: &IfName, code: i32) -> KernelError {
    KernelError::errno(op, Some(ifname), Errno::from_code(code))
}

/// ioctl(2) on another descriptor than the request socket (bpf(4), an
/// `AF_INET`/`AF_INET6` socket for the address requests); `Err` holds the
/// errno.
///
/// # Safety
/// As [`FreeBsdKernel::ioctl`]: every pointer inside `*arg` must be valid
/// for what the kernel does with it during this call.
unsafe fn ioctl_fd<T>(fd: std::os::fd::RawFd, req: Request<T>, arg: &mut T) -> Result<(), i32> {
    // SAFETY: `arg` is an exclusive borrow of a `T` of exactly the size
    // encoded in `req.code` (checked by `request`), alive for the call.
    let rc = unsafe { libc::ioctl(fd, req.code, ptr::from_mut(arg)) };
    if rc == -1 {
        Err(last_errno())
    } else {
        Ok(())
    }
}

/// alarm(2): the network-check helper's backstop. SIGALRM's default
/// action ends the process, so a request that hangs past the helper's own
/// deadline checks cannot keep it alive.
pub fn arm_alarm(seconds: u32) {
    // SAFETY: alarm(2) takes an integer and touches no memory.
    unsafe { libc::alarm(seconds) };
}

/// errno after a failed call; FreeBSD's numbers, since this runs there.
pub(super) fn last_errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(abi::EIO)
}
