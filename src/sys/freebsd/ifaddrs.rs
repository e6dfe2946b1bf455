//! The interfaces as getifaddrs(3) lists them: one `AF_LINK` entry per
//! interface, with its `sockaddr_dl` (index, MAC) and `if_data` (type, link
//! state, MTU), copied out of the library's buffer within the lengths the
//! kernel wrote. Runtime on FreeBSD unverified, as for the whole backend.

#![allow(unsafe_code)]

use core::ffi::CStr;
use core::mem::{offset_of, size_of};
use core::ptr;

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::abi;
use crate::domain::layer3::IfAddr;
use crate::domain::model::{IfName, LinkState, MacAddr};
use crate::kernel::{Errno, KernelError, Op};

use super::last_errno;

/// One interface as getifaddrs(3) describes it in its `AF_LINK` entry.
pub(super) struct LinkEntry {
    pub(super) name: IfName,
    pub(super) index: u32,
    pub(super) mac: MacAddr,
    pub(super) up: bool,
    pub(super) ifi_type: u8,
    pub(super) link: LinkState,
    pub(super) mtu: u32,
}

/// The `AF_LINK` entries of getifaddrs(3) (`lib/libc/net/getifaddrs.c`,
/// built from sysctl `NET_RT_IFLISTL`): one per interface, carrying its
/// `sockaddr_dl` (index, MAC) and `if_data` (type, link state, MTU).
pub(super) fn link_entries() -> Result<Vec<LinkEntry>, KernelError> {
    let mut head: *mut libc::ifaddrs = ptr::null_mut();
    // SAFETY: `head` is a valid out-pointer for the duration of the call;
    // on success getifaddrs stores a list that `IfAddrs` frees below.
    if unsafe { libc::getifaddrs(&mut head) } == -1 {
        return Err(KernelError::errno(Op::ListInterfaces, None, Errno::from_code(last_errno())));
    }
    let list = IfAddrs(head);
    let mut out = Vec::new();
    let mut cur = list.0;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, which
        // stays allocated until `list` is dropped at the end of this fn.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if let Some(entry) = link_entry(ifa) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// The `AF_INET` and `AF_INET6` entries of `ifname` in getifaddrs(3), in
/// its order (the kernel's `if_addrhead`), each with the prefix length of
/// its netmask. ENXIO when the interface has no `AF_LINK` entry either.
pub(super) fn inet_entries(ifname: &IfName) -> Result<Vec<IfAddr>, KernelError> {
    let op = Op::GetAddresses;
    let mut head: *mut libc::ifaddrs = ptr::null_mut();
    // SAFETY: as in `link_entries`.
    if unsafe { libc::getifaddrs(&mut head) } == -1 {
        return Err(KernelError::errno(op, Some(ifname), Errno::from_code(last_errno())));
    }
    let list = IfAddrs(head);
    let (mut out, mut seen) = (Vec::new(), false);
    let mut cur = list.0;
    while !cur.is_null() {
        // SAFETY: a node of the list, alive until `list` drops.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() || ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: the NUL-terminated name in the same buffer.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) };
        if name.to_bytes() != ifname.as_str().as_bytes() {
            continue;
        }
        seen = true;
        let addr = sockaddr_bytes(ifa.ifa_addr);
        let mask =
            if ifa.ifa_netmask.is_null() { Vec::new() } else { sockaddr_bytes(ifa.ifa_netmask) };
        let entry = match addr.get(1).copied() {
            Some(f) if f == abi::net::AF_INET && addr.len() >= 8 => {
                let ip = Ipv4Addr::new(addr[4], addr[5], addr[6], addr[7]);
                Some(IfAddr::v4(ip, prefix_len(mask.get(4..8).unwrap_or(&[]))))
            }
            Some(f) if f == abi::net::AF_INET6 && addr.len() >= 24 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(&addr[8..24]);
                // KAME embeds a link-local address's zone in bytes 2-3.
                if b[0] == 0xfe && b[1] & 0xc0 == 0x80 {
                    b[2] = 0;
                    b[3] = 0;
                }
                Some(IfAddr::v6(Ipv6Addr::from(b), prefix_len(mask.get(8..24).unwrap_or(&[]))))
            }
            _ => None,
        };
        out.extend(entry);
    }
    if !seen {
        return Err(KernelError::errno(op, Some(ifname), Errno::ENXIO));
    }
    Ok(out)
}

/// The `sa_len` bytes of a socket address in the getifaddrs buffer (at
/// most 128): a netmask's may be shorter than its family's struct, its
/// missing bytes being zeros.
fn sockaddr_bytes(sa: *const libc::sockaddr) -> Vec<u8> {
    // SAFETY: every sockaddr getifaddrs returns starts with sa_len, and
    // `sa` points into its buffer, alive while the caller's list is.
    let len = usize::from(unsafe { (*sa).sa_len }).min(128);
    let mut out = vec![0u8; len];
    // SAFETY: copies the `sa_len` bytes the kernel wrote into `out`.
    unsafe { ptr::copy_nonoverlapping(sa.cast::<u8>(), out.as_mut_ptr(), len) };
    out
}

/// The number of leading one bits of a netmask.
fn prefix_len(mask: &[u8]) -> u8 {
    let mut n = 0u8;
    for &b in mask {
        n += b.leading_ones() as u8;
        if b != 0xff {
            break;
        }
    }
    n
}

/// The list getifaddrs(3) allocated; freed with freeifaddrs(3) on drop.
struct IfAddrs(*mut libc::ifaddrs);

impl Drop for IfAddrs {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from a successful getifaddrs and is
            // freed exactly once, here; no reference into it outlives
            // `link_entries`, which owns this guard.
            unsafe { libc::freeifaddrs(self.0) };
        }
    }
}

/// The interface described by one getifaddrs(3) node, if it is the
/// `AF_LINK` node of an interface whose name lagghook can handle. Its
/// data are copied out, bounded by the lengths the kernel put in them.
fn link_entry(ifa: &libc::ifaddrs) -> Option<LinkEntry> {
    if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
        return None;
    }
    // SAFETY: `ifa_addr` points into the getifaddrs buffer (alive while
    // `ifa` is); every sockaddr starts with sa_len and sa_family.
    let (sa_len, family) = unsafe { ((*ifa.ifa_addr).sa_len, (*ifa.ifa_addr).sa_family) };
    if family != abi::AF_LINK {
        return None;
    }
    // SAFETY: `ifa_name` is the NUL-terminated name getifaddrs stored in
    // the same buffer.
    let name = unsafe { CStr::from_ptr(ifa.ifa_name) };
    // Names IfName refuses cannot be configured in lagghook.toml either.
    let name = name.to_str().ok().and_then(|s| IfName::new(s).ok())?;

    let mut sdl = abi::sockaddr_dl {
        sdl_len: 0,
        sdl_family: 0,
        sdl_index: 0,
        sdl_type: 0,
        sdl_nlen: 0,
        sdl_alen: 0,
        sdl_slen: 0,
        sdl_data: [0; 46],
    };
    let n = usize::from(sa_len).min(size_of::<abi::sockaddr_dl>());
    // SAFETY: the source is the `sa_len` bytes of this sockaddr_dl in the
    // getifaddrs buffer (alive while `ifa` is), the destination the local
    // `sdl`; `n` is at most both lengths and the two cannot overlap.
    unsafe {
        ptr::copy_nonoverlapping(
            ifa.ifa_addr.cast::<u8>(),
            ptr::from_mut(&mut sdl).cast::<u8>(),
            n,
        );
    }
    // LLADDR(sdl): the address follows the name inside sdl_data, and must
    // lie within the `n` bytes copied; anything but 6 bytes (lo0 has none)
    // is not an Ethernet address.
    let start = usize::from(sdl.sdl_nlen);
    let end = start + usize::from(sdl.sdl_alen);
    let copied = offset_of!(abi::sockaddr_dl, sdl_data) + end <= n;
    let mac = match sdl.sdl_data.get(start..end) {
        Some(bytes) if bytes.len() == abi::ETHER_ADDR_LEN && copied => {
            let mut m = [0u8; 6];
            m.copy_from_slice(bytes);
            MacAddr(m)
        }
        _ => MacAddr::ZERO,
    };

    let data = if_data_of(ifa);
    let link = match data.as_ref().map(|d| d.ifi_link_state) {
        Some(abi::LINK_STATE_UP) => LinkState::Up,
        Some(abi::LINK_STATE_DOWN) => LinkState::Down,
        _ => LinkState::Unknown,
    };
    Some(LinkEntry {
        name,
        index: u32::from(sdl.sdl_index),
        mac,
        up: ifa.ifa_flags & abi::IFF_UP != 0,
        ifi_type: data.as_ref().map_or(sdl.sdl_type, |d| d.ifi_type),
        link,
        mtu: data.as_ref().map_or(0, |d| d.ifi_mtu),
    })
}

/// A copy of the `if_data` an `AF_LINK` node's `ifa_data` points to,
/// bounded by its own `ifi_datalen`.
fn if_data_of(ifa: &libc::ifaddrs) -> Option<abi::if_data> {
    if ifa.ifa_data.is_null() {
        return None;
    }
    let src = ifa.ifa_data.cast::<u8>();
    // SAFETY: `ifa_data` points to an if_data in the getifaddrs buffer
    // (alive while `ifa` is), which starts with these 8 header bytes.
    let datalen = unsafe {
        ptr::read_unaligned(src.add(offset_of!(abi::if_data, ifi_datalen)).cast::<u16>())
    };
    let n = usize::from(datalen).min(size_of::<abi::if_data>());
    if n < offset_of!(abi::if_data, ifi_metric) {
        return None;
    }
    let mut d = abi::if_data {
        ifi_type: 0,
        ifi_physical: 0,
        ifi_addrlen: 0,
        ifi_hdrlen: 0,
        ifi_link_state: 0,
        ifi_vhid: 0,
        ifi_datalen: 0,
        ifi_mtu: 0,
        ifi_metric: 0,
        ifi_baudrate: 0,
        ifi_ipackets: 0,
        ifi_ierrors: 0,
        ifi_opackets: 0,
        ifi_oerrors: 0,
        ifi_collisions: 0,
        ifi_ibytes: 0,
        ifi_obytes: 0,
        ifi_imcasts: 0,
        ifi_omcasts: 0,
        ifi_iqdrops: 0,
        ifi_oqdrops: 0,
        ifi_noproto: 0,
        ifi_hwassist: 0,
        __ifi_epoch: 0,
        __ifi_lastchange: [0; 2],
    };
    // SAFETY: copies `n` bytes, at most the `ifi_datalen` the kernel wrote
    // and at most the size of the local `d`; the regions cannot overlap.
    unsafe { ptr::copy_nonoverlapping(src, ptr::from_mut(&mut d).cast::<u8>(), n) };
    Some(d)
}
