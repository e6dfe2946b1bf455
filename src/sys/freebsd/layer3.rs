//! The FreeBSD backend's layer-3 requests for the network check (issue
//! 20), one function per `Kernel` method (`mod.rs` delegates):
//! getifaddrs(3) addresses ([`super::ifaddrs`]), the routing socket
//! ([`super::route`]), bpf(4) ([`super::bpf`]) with the kernel's own ARP as
//! its fallback, `SIOCDIFADDR`/`SIOCDIFADDR_IN6`, `SIOCG80211`
//! `IEEE80211_IOC_SSID`, wpa_supplicant's `wpa_state`, and the programs
//! started detached: the DHCP client (its pidfile read and locked as
//! pidfile(3) locks it), rtsol(8) and the helper.
//!
//! Runtime on FreeBSD unverified, as for the whole backend: the
//! conformance test (`tests/conformance.rs`, issue 20) is what checks it.

use core::ffi::c_void;
use std::net::{IpAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use nix::unistd::Pid;

use crate::abi::net::{self as n, in6_ifreq, in6_ifreq_ifru};
use crate::abi::{self, ifreq, IFNAMSIZ};
use crate::devd::ADMIN_PROGRAM;
use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeFrame,
    ProbeReply, ProbeResult, Ssid, WpaState,
};
use crate::domain::model::IfName;
use crate::domain::text;
use crate::kernel::{Errno, KernelError, Op};
use crate::run::state::{DB_DIR, DEFAULT_DIR};
use crate::sys::file;
use crate::sys::spawn;
use crate::sys::wpa_ctrl::{parse_pid, WpaCtrl};

use super::{bpf, errno, ifaddrs, ioctl_fd, name_buf, request, route, FreeBsdKernel, Request};

const SIOCDIFADDR: Request<ifreq> = request(n::SIOCDIFADDR);
const SIOCDIFADDR_IN6: Request<in6_ifreq> = request(n::SIOCDIFADDR_IN6);

/// How long a stopped DHCP client may take to go, its pidfile released.
const STOP_WAIT: Duration = Duration::from_millis(500);
/// How long `dhclient -b` may take to go into the background (it waits
/// for link first, up to 10 s, `main` in `sbin/dhclient/dhclient.c`; the
/// helper does not wait that long: a client still starting is running).
const START_WAIT: Duration = Duration::from_secs(2);
/// The fallback probe polls the neighbour entry this often.
const FALLBACK_POLL: Duration = Duration::from_millis(20);
/// The marker of a bpf fallback already reported this boot (`/var/run`
/// is emptied at boot).
const BPF_WARNED: &str = "bpf-fallback";

pub(super) fn addresses(_k: &FreeBsdKernel, ifname: &IfName) -> Result<Vec<IfAddr>, KernelError> {
    ifaddrs::inet_entries(ifname)
}

pub(super) fn default_routes(_k: &FreeBsdKernel) -> Result<Vec<DefaultRoute>, KernelError> {
    route::default_routes()
}

pub(super) fn neighbour(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    ip: IpAddr,
) -> Result<Option<Neighbour>, KernelError> {
    route::neighbour(ifname, ip)
}

/// bpf(4); when it cannot be used, the kernel's own ARP: the old gateway's
/// entry is deleted, a datagram to its discard port makes the kernel ask
/// (broadcast) for it, and the entry is read back until it resolves or
/// the budget runs out. Slower, broadcast only, IPv4 only, and it removes
/// one ARP entry even on the same network; said once per boot.
pub(super) fn probe(
    _k: &FreeBsdKernel,
    lagg: &IfName,
    exchange: &ProbeExchange,
) -> Result<ProbeResult, KernelError> {
    let refused = match bpf::probe(lagg, exchange)? {
        Ok(result) => return Ok(result),
        Err(refused) => refused.0,
    };
    let mut result = kernel_arp(lagg, exchange)?;
    let marker = Path::new(DEFAULT_DIR).join(BPF_WARNED);
    if file::check_regular(&marker, file::Links::Refuse).is_err() {
        let _ = file::write_atomically(&marker, b"");
        result.warning = Some(format!(
            "{lagg}: {}: {}; probing with the kernel's ARP (broadcast only)",
            "/dev/bpf",
            Errno::from_code(refused)
        ));
    }
    Ok(result)
}

fn kernel_arp(lagg: &IfName, x: &ProbeExchange) -> Result<ProbeResult, KernelError> {
    let start = Instant::now();
    let mut result = ProbeResult { fallback: true, ..ProbeResult::default() };
    let Some((send, target)) = x.sends.iter().enumerate().find_map(|(i, s)| match s.frame {
        ProbeFrame::ArpUnicast { target, .. } | ProbeFrame::ArpBroadcast { target, .. } => {
            Some((i, target))
        }
        ProbeFrame::NsUnicast { .. } => None,
    }) else {
        result.elapsed_ms = x.budget_ms;
        return Ok(result);
    };
    match route::delete_neighbour(lagg, IpAddr::V4(target)) {
        Err(e) if !matches!(e.errno_value(), Some(Errno::ESRCH | Errno::ENOENT)) => return Err(e),
        _ => {}
    }
    let udp = UdpSocket::bind("0.0.0.0:0")
        .map_err(|e| KernelError::other(Op::Probe, Some(lagg), text::io_error(&e)))?;
    // The discard port: nothing answers, the ARP resolution is the point.
    let _ = udp.send_to(&[0], (target, 9));
    result.sent = 1;
    let budget = Duration::from_millis(u64::from(x.budget_ms));
    while start.elapsed() < budget {
        std::thread::sleep(FALLBACK_POLL);
        if let Some(Neighbour { mac: Some(mac), .. }) = route::neighbour(lagg, IpAddr::V4(target))?
        {
            let at_ms = start.elapsed().as_millis().min(u128::from(x.budget_ms)) as u32;
            result.replies.push(ProbeReply { send, ip: IpAddr::V4(target), mac, at_ms });
            result.elapsed_ms = at_ms;
            return Ok(result);
        }
    }
    result.elapsed_ms = x.budget_ms;
    Ok(result)
}

/// `SIOCDIFADDR` on an `AF_INET` socket, `SIOCDIFADDR_IN6` on an
/// `AF_INET6` one: the address requests reach `in_control`/`in6_control`
/// through the socket's protocol (`ifioctl` in `sys/net/if.c`), which an
/// `AF_LOCAL` socket does not have.
pub(super) fn delete_address(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    addr: IfAddr,
) -> Result<(), KernelError> {
    let (op, family) = match addr.addr {
        IpAddr::V4(_) => (Op::DeleteAddress, AddressFamily::Inet),
        IpAddr::V6(_) => (Op::DeleteAddress6, AddressFamily::Inet6),
    };
    let sock = socket(family, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| errno(op, ifname, e as i32))?;
    let name = name_buf(op, ifname)?;
    match addr.addr {
        IpAddr::V4(a) => {
            let mut ifr = ifreq::new(name);
            let mut data = [0u8; 14];
            data[2..6].copy_from_slice(&a.octets());
            ifr.ifr_ifru.ifru_addr =
                abi::sockaddr { sa_len: 16, sa_family: n::AF_INET, sa_data: data };
            // SAFETY: a pointer-free ifreq on this stack frame.
            unsafe { ioctl_fd(sock.as_raw_fd(), SIOCDIFADDR, &mut ifr) }
        }
        IpAddr::V6(a) => {
            let mut req =
                in6_ifreq { ifr_name: name, ifr_ifru: in6_ifreq_ifru { bytes: [0; 272] } };
            let b = &mut req.ifr_ifru.bytes;
            b[0] = 28;
            b[1] = n::AF_INET6;
            b[8..24].copy_from_slice(&a.octets());
            // SAFETY: a pointer-free in6_ifreq on this stack frame.
            unsafe { ioctl_fd(sock.as_raw_fd(), SIOCDIFADDR_IN6, &mut req) }
        }
    }
    .map_err(|code| errno(op, ifname, code))
}

pub(super) fn delete_default_route(
    _k: &FreeBsdKernel,
    route: &DefaultRoute,
) -> Result<(), KernelError> {
    route::delete_default_route(route)
}

pub(super) fn delete_neighbour(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    ip: IpAddr,
) -> Result<(), KernelError> {
    route::delete_neighbour(ifname, ip)
}

/// `SIOCG80211` `IEEE80211_IOC_SSID` (`ieee80211_ioctl_get80211`: the
/// BSS's SSID once associated, the desired one before).
pub(super) fn ssid(k: &FreeBsdKernel, wlan: &IfName) -> Result<Option<Ssid>, KernelError> {
    let op = Op::GetSsid;
    let mut buf = [0u8; Ssid::MAX_LEN];
    let mut req = abi::ieee80211req {
        i_name: name_buf(op, wlan)?,
        i_type: n::IEEE80211_IOC_SSID,
        i_val: 0,
        i_len: buf.len() as u16,
        i_data: buf.as_mut_ptr().cast::<c_void>(),
    };
    // SAFETY: `i_data` points to `buf`, `i_len` (32) bytes on this stack
    // frame alive for the call; net80211 copies out at most `i_len` bytes.
    unsafe { k.ioctl(super::SIOCG80211, &mut req) }.map_err(|code| errno(op, wlan, code))?;
    let len = usize::from(req.i_len).min(buf.len());
    Ok(Ssid::new(&buf[..len]))
}

pub(super) fn wpa_supplicant_state(
    _k: &FreeBsdKernel,
    wlan: &IfName,
) -> Result<WpaState, KernelError> {
    Ok(WpaCtrl::freebsd().state(wlan))
}

/// The pidfile of `client` for `ifname`: rc.d/dhclient's (dhclient's
/// default, `main` in `sbin/dhclient/dhclient.c`), dhcpcd's per interface.
fn pidfile(client: DhcpClient, ifname: &IfName) -> PathBuf {
    match client {
        DhcpClient::Dhclient => PathBuf::from(format!("/var/run/dhclient/dhclient.{ifname}.pid")),
        DhcpClient::Dhcpcd => PathBuf::from(format!("/var/run/dhcpcd/{ifname}.pid")),
    }
}

/// The pid in a pidfile whose lock is held: pidfile(3) (dhclient) and
/// dhcpcd's `pidfile_lock` keep an exclusive flock(2) on it for the
/// process's life, so a pidfile that can be locked is stale, whatever pid
/// it names, and no signal is ever sent to a pid that went to another
/// process.
fn live_pid(path: &Path) -> Option<u32> {
    let text = file::read_small(path, file::Links::Refuse, 64).ok()?;
    let pid = parse_pid(&text)?;
    let f = file::open_pidfile(path).ok()?;
    match Flock::lock(f, FlockArg::LockSharedNonblock) {
        Ok(_unlocked_on_drop) => None,
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => u32::try_from(pid).ok(),
        Err(_) => None,
    }
}

pub(super) fn dhcp_client(
    _k: &FreeBsdKernel,
    ifname: &IfName,
) -> Result<Option<DhcpProcess>, KernelError> {
    for client in [DhcpClient::Dhclient, DhcpClient::Dhcpcd] {
        if let Some(pid) = live_pid(&pidfile(client, ifname)) {
            return Ok(Some(DhcpProcess { client, pid }));
        }
    }
    Ok(None)
}

pub(super) fn stop_dhcp_client(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    process: DhcpProcess,
) -> Result<(), KernelError> {
    let op = Op::StopDhcpClient;
    let path = pidfile(process.client, ifname);
    // Only the process that still holds its pidfile's lock is signalled.
    if live_pid(&path) != Some(process.pid) {
        return Err(KernelError::errno(op, Some(ifname), Errno::ESRCH));
    }
    let pid = i32::try_from(process.pid)
        .map_err(|_| KernelError::errno(op, Some(ifname), Errno::EINVAL))?;
    kill(Pid::from_raw(pid), Signal::SIGTERM).map_err(|e| errno(op, ifname, e as i32))?;
    let start = Instant::now();
    while start.elapsed() < STOP_WAIT {
        if live_pid(&path).is_none() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(KernelError::other(op, Some(ifname), format!("pid {pid} still running after SIGTERM")))
}

/// A fixed program with fixed arguments, its own session, nothing
/// inherited (`spawn::command`, `closefrom(3)`).
fn detached(program: &Path, args: &[&str]) -> std::process::Command {
    let mut command = spawn::command(program, args);
    // SAFETY: the closure runs in the child between fork and exec and
    // calls only setsid(2) and closefrom(2), both async-signal-safe, and
    // touches no memory of the parent's.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            libc::closefrom(3);
            Ok(())
        });
    }
    command
}

fn spawn_error(op: Op, ifname: &IfName, e: &std::io::Error) -> KernelError {
    match e.raw_os_error() {
        Some(code) => errno(op, ifname, code),
        None => KernelError::other(op, Some(ifname), text::io_error(e)),
    }
}

pub(super) fn start_dhcp_client(
    _k: &FreeBsdKernel,
    ifname: &IfName,
    client: DhcpClient,
    lease: &Lease,
) -> Result<(), KernelError> {
    let op = Op::StartDhcpClient;
    let io = |e: std::io::Error| spawn_error(op, ifname, &e);
    let dir = Path::new(DB_DIR).join("leases");
    file::private_dir(&dir).map_err(io)?;
    let path = dir.join(lease.file.name());
    if lease.fresh {
        file::write_atomically(&path, b"").map_err(io)?;
    }
    let path_text = path.to_string_lossy().into_owned();
    // A dhcpcd still running is told to rebind (`-n`), keeping its
    // address; otherwise one is started in the background.
    let rebind = client == DhcpClient::Dhcpcd && live_pid(&pidfile(client, ifname)).is_some();
    let args: Vec<&str> = match client {
        DhcpClient::Dhclient => vec!["-b", "-l", &path_text, ifname.as_str()],
        DhcpClient::Dhcpcd if rebind => vec!["-n", ifname.as_str()],
        DhcpClient::Dhcpcd => vec!["-b", ifname.as_str()],
    };
    let mut child = detached(Path::new(client.program()), &args).spawn().map_err(io)?;
    let start = Instant::now();
    while start.elapsed() < START_WAIT {
        match child.try_wait().map_err(io)? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => {
                let why = match status.code() {
                    Some(code) => format!("{} exited {code}", client.program()),
                    None => format!("{} was killed", client.program()),
                };
                return Err(KernelError::other(op, Some(ifname), why));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    // Still in the foreground part (waiting for link): it is running.
    Ok(())
}

pub(super) fn solicit_router(_k: &FreeBsdKernel, ifname: &IfName) -> Result<(), KernelError> {
    let op = Op::SolicitRouter;
    detached(Path::new("/sbin/rtsol"), &["-i", ifname.as_str()])
        .spawn()
        .map(drop)
        .map_err(|e| spawn_error(op, ifname, &e))
}

pub(super) fn spawn_netcheck(
    _k: &FreeBsdKernel,
    lagg: &IfName,
    generation: u64,
) -> Result<(), KernelError> {
    let op = Op::SpawnNetcheck;
    let generation = generation.to_string();
    detached(Path::new(ADMIN_PROGRAM), &["netcheck", lagg.as_str(), &generation])
        .spawn()
        .map(drop)
        .map_err(|e| spawn_error(op, lagg, &e))
}

// IFNAMSIZ is what `name_buf` fills; both request structs start with it.
const _: () = assert!(IFNAMSIZ == 16);
