//! The routing socket (`PF_ROUTE`, route(4)) for the network check: the
//! default routes (`RTM_GET`, as `route -n get default` asks), their
//! removal (`RTM_DELETE`), and the neighbour table: read from sysctl
//! `net.route.0.AF.flags.RTF_LLINFO` (`NET_RT_FLAGS`, what arp(8) and
//! ndp(8) dump), an entry removed with `RTM_DELETE` and `RTF_LLINFO`
//! (`lla_rt_output` in `sys/net/rtsock.c` finds the interface by the
//! gateway's `sdl_index`). Messages are built and parsed byte by byte at
//! the offsets `abi::net` mirrors, so no struct is transmuted.
//!
//! Runtime on FreeBSD unverified, as for the whole backend.

use core::ffi::{c_int, c_void};
use core::mem::offset_of;
use core::ptr;
use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

use crate::abi::net::{self as n, rt_msghdr, sa_size};
use crate::abi::{self, sockaddr_dl};
use crate::domain::layer3::{DefaultRoute, Neighbour};
use crate::domain::model::{IfName, MacAddr};
use crate::kernel::{Errno, KernelError, Op};

use super::last_errno;

/// How long a reply to our own request may take.
const REPLY_WAIT: Duration = Duration::from_millis(500);
const HDR: usize = core::mem::size_of::<rt_msghdr>();

/// A socket address for a routing message.
fn sockaddr_of(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => {
            let mut s = vec![0u8; 16];
            s[0] = 16;
            s[1] = n::AF_INET;
            s[4..8].copy_from_slice(&a.octets());
            s
        }
        IpAddr::V6(a) => {
            let mut s = vec![0u8; 28];
            s[0] = 28;
            s[1] = n::AF_INET6;
            s[8..24].copy_from_slice(&a.octets());
            s
        }
    }
}

/// A `sockaddr_dl` naming interface `index` (and nothing else).
fn sockaddr_dl_of(index: u16) -> Vec<u8> {
    let len = core::mem::size_of::<sockaddr_dl>();
    let mut s = vec![0u8; len];
    s[0] = len as u8;
    s[1] = abi::AF_LINK;
    s[offset_of!(sockaddr_dl, sdl_index)..][..2].copy_from_slice(&index.to_ne_bytes());
    s
}

/// The IP of a socket address in a message, with a link-local address's
/// embedded scope (KAME's bytes 2–3) cleared.
fn ip_of(sa: &[u8]) -> Option<IpAddr> {
    match *sa.get(1)? {
        f if f == n::AF_INET => {
            let b = sa.get(4..8)?;
            Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
        }
        f if f == n::AF_INET6 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(sa.get(8..24)?);
            if b[0] == 0xfe && b[1] & 0xc0 == 0x80 {
                b[2] = 0;
                b[3] = 0;
            }
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// The name and MAC of a `sockaddr_dl` in a message.
fn link_of(sa: &[u8]) -> Option<(u16, Option<IfName>, Option<MacAddr>)> {
    if *sa.get(1)? != abi::AF_LINK {
        return None;
    }
    let index = u16::from_ne_bytes([*sa.get(2)?, *sa.get(3)?]);
    let (nlen, alen) = (usize::from(*sa.get(5)?), usize::from(*sa.get(6)?));
    let data = offset_of!(sockaddr_dl, sdl_data);
    let name = sa
        .get(data..data + nlen)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| IfName::new(s).ok());
    let mac = sa.get(data + nlen..data + nlen + alen).filter(|b| b.len() == 6).map(|b| {
        let mut m = [0u8; 6];
        m.copy_from_slice(b);
        MacAddr(m)
    });
    Some((index, name, mac))
}

/// The socket addresses of one message, by `RTAX_*` slot.
fn addrs_of(msg: &[u8]) -> [Option<&[u8]>; 8] {
    let mut out = [None; 8];
    let Some(bits) = msg.get(offset_of!(rt_msghdr, rtm_addrs)..).and_then(|b| b.get(..4)) else {
        return out;
    };
    let bits = c_int::from_ne_bytes([bits[0], bits[1], bits[2], bits[3]]);
    let mut at = HDR;
    for (slot, out) in out.iter_mut().enumerate() {
        if bits & (1 << slot) == 0 {
            continue;
        }
        let Some(&len) = msg.get(at) else { break };
        let end = (at + usize::from(len)).min(msg.len());
        *out = msg.get(at..end);
        at += sa_size(len);
    }
    out
}

fn field_i32(msg: &[u8], at: usize) -> Option<i32> {
    let b = msg.get(at..at + 4)?;
    Some(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Sends one message and returns the kernel's answer to it: the first
/// message on the socket with our pid and sequence number.
fn exchange(
    op: Op,
    ifname: Option<&IfName>,
    kind: u8,
    flags: c_int,
    addrs: &[(c_int, Vec<u8>)],
) -> Result<Vec<u8>, KernelError> {
    let err = |code: i32| KernelError::errno(op, ifname, Errno::from_code(code));
    let fd = socket(AddressFamily::Route, SockType::Raw, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| err(e as i32))?;
    let mut sock = File::from(fd);
    let seq: c_int = 1;
    let pid = std::process::id() as i32;
    let mut msg = vec![0u8; HDR];
    let mut bits = 0;
    for (bit, sa) in addrs {
        bits |= bit;
        let mut sa = sa.clone();
        sa.resize(sa_size(sa[0]), 0);
        msg.extend_from_slice(&sa);
    }
    let len = msg.len() as u16;
    msg[offset_of!(rt_msghdr, rtm_msglen)..][..2].copy_from_slice(&len.to_ne_bytes());
    msg[offset_of!(rt_msghdr, rtm_version)] = n::RTM_VERSION;
    msg[offset_of!(rt_msghdr, rtm_type)] = kind;
    msg[offset_of!(rt_msghdr, rtm_flags)..][..4].copy_from_slice(&flags.to_ne_bytes());
    msg[offset_of!(rt_msghdr, rtm_addrs)..][..4].copy_from_slice(&bits.to_ne_bytes());
    msg[offset_of!(rt_msghdr, rtm_pid)..][..4].copy_from_slice(&pid.to_ne_bytes());
    msg[offset_of!(rt_msghdr, rtm_seq)..][..4].copy_from_slice(&seq.to_ne_bytes());
    // A refused request fails the write itself with its errno (ESRCH: no
    // such route), as route(8) sees it (`rtmsg` in sbin/route/route.c).
    if let Err(e) = sock.write_all(&msg) {
        return Err(err(e.raw_os_error().unwrap_or(abi::EIO)));
    }
    let deadline = Instant::now() + REPLY_WAIT;
    let mut buf = vec![0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(KernelError::other(op, ifname, "no answer on the routing socket"));
        }
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) => continue,
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(err(e as i32)),
        }
        let got = sock.read(&mut buf).map_err(|e| err(e.raw_os_error().unwrap_or(abi::EIO)))?;
        let reply = &buf[..got];
        let mine = field_i32(reply, offset_of!(rt_msghdr, rtm_pid)) == Some(pid)
            && field_i32(reply, offset_of!(rt_msghdr, rtm_seq)) == Some(seq);
        if !mine {
            continue;
        }
        match field_i32(reply, offset_of!(rt_msghdr, rtm_errno)) {
            Some(0) | None => return Ok(reply.to_vec()),
            Some(code) => return Err(err(code)),
        }
    }
}

/// `RTM_GET` of the default route of `family` (0.0.0.0/0 or ::/0) with
/// `RTA_IFP`, so the answer names its interface. ESRCH: none.
fn default_route(any: IpAddr) -> Result<Option<DefaultRoute>, KernelError> {
    let op = Op::GetDefaultRoutes;
    let addrs = [
        (n::RTA_DST, sockaddr_of(any)),
        (n::RTA_NETMASK, sockaddr_of(any)),
        (n::RTA_IFP, sockaddr_dl_of(0)),
    ];
    let reply = match exchange(op, None, n::RTM_GET, n::RTF_UP | n::RTF_GATEWAY, &addrs) {
        Err(e) if e.errno_value() == Some(Errno::ESRCH) => return Ok(None),
        r => r?,
    };
    let sa = addrs_of(&reply);
    let Some(gateway) = sa[1].and_then(ip_of) else { return Ok(None) };
    let ifname = sa[4].and_then(link_of).and_then(|(_, name, _)| name);
    Ok(ifname.map(|ifname| DefaultRoute { gateway, ifname }))
}

pub(super) fn default_routes() -> Result<Vec<DefaultRoute>, KernelError> {
    let mut out = Vec::new();
    out.extend(default_route(IpAddr::V4(Ipv4Addr::UNSPECIFIED))?);
    out.extend(default_route(IpAddr::V6(Ipv6Addr::UNSPECIFIED))?);
    Ok(out)
}

pub(super) fn delete_default_route(route: &DefaultRoute) -> Result<(), KernelError> {
    let any = match route.gateway {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let mut gw = sockaddr_of(route.gateway);
    if let IpAddr::V6(g) = route.gateway {
        // A link-local gateway needs its zone: the interface's index.
        if g.segments()[0] & 0xffc0 == 0xfe80 {
            let index = if_index(Op::DeleteRoute, &route.ifname)?;
            gw[24..28].copy_from_slice(&u32::from(index).to_ne_bytes());
        }
    }
    let addrs =
        [(n::RTA_DST, sockaddr_of(any)), (n::RTA_GATEWAY, gw), (n::RTA_NETMASK, sockaddr_of(any))];
    exchange(Op::DeleteRoute, Some(&route.ifname), n::RTM_DELETE, n::RTF_GATEWAY, &addrs).map(drop)
}

/// if_nametoindex(3).
pub(super) fn if_index(op: Op, ifname: &IfName) -> Result<u16, KernelError> {
    let name = CString::new(ifname.as_str())
        .map_err(|_| KernelError::other(op, Some(ifname), "name has a NUL"))?;
    // SAFETY: `name` is a NUL-terminated string alive for the call; the
    // function only reads it.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    match u16::try_from(index) {
        Ok(0) | Err(_) => Err(KernelError::errno(op, Some(ifname), Errno::ENXIO)),
        Ok(i) => Ok(i),
    }
}

/// The neighbour-table dump of `family` (sysctl `NET_RT_FLAGS`,
/// `RTF_LLINFO`), as arp(8) -an and ndp(8) -an read it.
fn neighbour_dump(op: Op, ifname: &IfName, family: u8) -> Result<Vec<u8>, KernelError> {
    let mut mib: [c_int; 6] =
        [n::CTL_NET, n::PF_ROUTE, 0, c_int::from(family), n::NET_RT_FLAGS, n::RTF_LLINFO];
    let err = |code| KernelError::errno(op, Some(ifname), Errno::from_code(code));
    // The table can grow between the two calls: a few tries with room.
    for _ in 0..4 {
        let mut len: usize = 0;
        // SAFETY: a size query: `oldp` is null, `oldlenp` points to `len`
        // on this stack frame; the mib is 6 ints alive for the call.
        let rc =
            unsafe { libc::sysctl(mib.as_mut_ptr(), 6, ptr::null_mut(), &mut len, ptr::null(), 0) };
        if rc == -1 {
            return Err(err(last_errno()));
        }
        len += len / 4 + 512;
        let mut buf = vec![0u8; len];
        // SAFETY: `oldp` is `buf`, `len` bytes long, both alive for the
        // call; the kernel writes at most `len` bytes and sets `len`.
        let rc = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                6,
                buf.as_mut_ptr().cast::<c_void>(),
                &mut len,
                ptr::null(),
                0,
            )
        };
        if rc == 0 {
            buf.truncate(len);
            return Ok(buf);
        }
        if last_errno() != abi::ENOMEM {
            return Err(err(last_errno()));
        }
    }
    Err(err(abi::ENOMEM))
}

pub(super) fn neighbour(ifname: &IfName, ip: IpAddr) -> Result<Option<Neighbour>, KernelError> {
    let op = Op::GetNeighbour;
    let index = if_index(op, ifname)?;
    let family = if ip.is_ipv4() { n::AF_INET } else { n::AF_INET6 };
    let dump = neighbour_dump(op, ifname, family)?;
    let mut at = 0;
    while at + HDR <= dump.len() {
        let len = usize::from(u16::from_ne_bytes([dump[at], dump[at + 1]]));
        if len < HDR || at + len > dump.len() {
            break;
        }
        let msg = &dump[at..at + len];
        at += len;
        let sa = addrs_of(msg);
        if sa[0].and_then(ip_of) != Some(ip) {
            continue;
        }
        let Some((sdl_index, _, mac)) = sa[1].and_then(link_of) else { continue };
        let rtm_index = u16::from_ne_bytes([msg[4], msg[5]]);
        if sdl_index == index || rtm_index == index {
            return Ok(Some(Neighbour { ip, mac }));
        }
    }
    Ok(None)
}

pub(super) fn delete_neighbour(ifname: &IfName, ip: IpAddr) -> Result<(), KernelError> {
    let op = Op::DeleteNeighbour;
    let index = if_index(op, ifname)?;
    let addrs = [(n::RTA_DST, sockaddr_of(ip)), (n::RTA_GATEWAY, sockaddr_dl_of(index))];
    exchange(op, Some(ifname), n::RTM_DELETE, n::RTF_LLINFO | n::RTF_HOST, &addrs).map(drop)
}
