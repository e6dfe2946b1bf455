//! FreeBSD's ABI for the network check's requests (issue 20): the routing
//! socket (`sys/net/route.h`), bpf(4) (`sys/net/bpf.h`), the IPv4 and IPv6
//! socket addresses (`sys/netinet/in.h`, `sys/netinet6/in6.h`), the
//! address-removal requests (`sys/sockio.h`, `sys/netinet6/in6_var.h`),
//! the sysctl names of the neighbour-table dump (`sys/sys/sysctl.h`,
//! `sys/sys/socket.h`) and `IEEE80211_IOC_SSID`. Mirrors and numbers only,
//! checked by `tests/abi.rs` like the rest of `abi`.

use core::ffi::c_int;
use core::mem::{offset_of, size_of};

use super::{ifreq, ior, iow, IFNAMSIZ, IOCPARM_MAX};

pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 28;
/// `PF_ROUTE` (= `AF_ROUTE`).
pub const PF_ROUTE: c_int = 17;
/// `CTL_NET`, the sysctl tree of `net.*`.
pub const CTL_NET: c_int = 4;
/// `NET_RT_DUMP`: every route of a family.
pub const NET_RT_DUMP: c_int = 1;
/// `NET_RT_FLAGS`: the routes (lltable entries, with `RTF_LLINFO`) that
/// have a flag: what arp(8) and ndp(8) read to list the neighbours.
pub const NET_RT_FLAGS: c_int = 2;

/// `RTM_VERSION`: a message of another version is refused (EPROTONOSUPPORT).
pub use super::RTM_VERSION;
pub const RTM_DELETE: u8 = 2;
pub const RTM_GET: u8 = 4;

pub const RTA_DST: c_int = 0x1;
pub const RTA_GATEWAY: c_int = 0x2;
pub const RTA_NETMASK: c_int = 0x4;
pub const RTA_IFP: c_int = 0x10;

pub const RTF_UP: c_int = 0x1;
pub const RTF_GATEWAY: c_int = 0x2;
pub const RTF_HOST: c_int = 0x4;
/// `RTF_LLINFO` (= `RTF_LLDATA`): a neighbour entry, not a route.
pub const RTF_LLINFO: c_int = 0x400;
pub const RTF_STATIC: c_int = 0x800;

/// `IEEE80211_IOC_SSID`: the SSID of the BSS a vap is on.
pub const IEEE80211_IOC_SSID: u16 = 1;

/// `struct sockaddr_in`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct sockaddr_in {
    pub sin_len: u8,
    pub sin_family: u8,
    pub sin_port: u16,
    /// Network byte order.
    pub sin_addr: [u8; 4],
    pub sin_zero: [u8; 8],
}

/// `struct sockaddr_in6`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct sockaddr_in6 {
    pub sin6_len: u8,
    pub sin6_family: u8,
    pub sin6_port: u16,
    pub sin6_flowinfo: u32,
    pub sin6_addr: [u8; 16],
    pub sin6_scope_id: u32,
}

/// `struct rt_metrics`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rt_metrics {
    pub rmx_locks: u64,
    pub rmx_mtu: u64,
    pub rmx_hopcount: u64,
    pub rmx_expire: u64,
    pub rmx_recvpipe: u64,
    pub rmx_sendpipe: u64,
    pub rmx_ssthresh: u64,
    pub rmx_rtt: u64,
    pub rmx_rttvar: u64,
    pub rmx_pksent: u64,
    pub rmx_weight: u64,
    pub rmx_nhidx: u64,
    pub rmx_filler: [u64; 2],
}

/// `struct rt_msghdr`, the head of every routing-socket message; the
/// socket addresses named by `rtm_addrs` follow, each rounded up to a
/// `long` (`SA_SIZE`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rt_msghdr {
    pub rtm_msglen: u16,
    pub rtm_version: u8,
    pub rtm_type: u8,
    pub rtm_index: u16,
    pub _rtm_spare1: u16,
    pub rtm_flags: c_int,
    pub rtm_addrs: c_int,
    pub rtm_pid: i32,
    pub rtm_seq: c_int,
    pub rtm_errno: c_int,
    pub rtm_fmask: c_int,
    pub rtm_inits: u64,
    pub rtm_rmx: rt_metrics,
}

/// `SA_SIZE(sa)` of `sys/net/route.h`: a socket address's length in a
/// routing message, rounded up to a `long`; 8 for a length of 0.
pub const fn sa_size(sa_len: u8) -> usize {
    if sa_len == 0 {
        8
    } else {
        1 + ((sa_len as usize - 1) | 7)
    }
}

/// The union of `struct in6_ifreq` past its name: 272 bytes, its largest
/// member `struct icmp6_ifstat`, aligned for its 64-bit counters; only
/// `ifru_addr`, a `sockaddr_in6` at its start, is used.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy)]
pub struct in6_ifreq_ifru {
    pub bytes: [u8; 272],
}

/// `struct in6_ifreq`, the argument of `SIOCDIFADDR_IN6`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct in6_ifreq {
    pub ifr_name: [u8; IFNAMSIZ],
    pub ifr_ifru: in6_ifreq_ifru,
}

/// `struct bpf_program`, the argument of `BIOCSETF`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpf_program {
    pub bf_len: u32,
    pub bf_insns: *mut bpf_insn,
}

/// `struct bpf_insn`: one instruction of a filter.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct bpf_insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct timeval` on LP64.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

/// `struct bpf_hdr`: the header bpf(4) puts before each captured frame in
/// a read buffer; frames are `BPF_WORDALIGN`ed (to a `long`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpf_hdr {
    pub bh_tstamp: timeval,
    pub bh_caplen: u32,
    pub bh_datalen: u32,
    pub bh_hdrlen: u16,
}

/// `BPF_WORDALIGN(x)`.
pub const fn bpf_wordalign(x: usize) -> usize {
    (x + 7) & !7
}

// Classic BPF opcodes (`sys/net/bpf.h`): class | size | mode.
pub const BPF_LD: u16 = 0x00;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_H: u16 = 0x08;
pub const BPF_B: u16 = 0x10;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_K: u16 = 0x00;

const IN6_IFREQ: usize = size_of::<in6_ifreq>();

/// `SIOCDIFADDR`: remove an IPv4 address (`struct ifreq`, `ifr_addr`).
pub const SIOCDIFADDR: u64 = iow(b'i', 25, size_of::<ifreq>());
/// `SIOCDIFADDR_IN6`: remove an IPv6 address (`struct in6_ifreq`).
pub const SIOCDIFADDR_IN6: u64 = iow(b'i', 25, IN6_IFREQ);
/// `BIOCGBLEN`: the read buffer's size.
pub const BIOCGBLEN: u64 = ior(b'B', 102, size_of::<u32>());
/// `BIOCSETF`: the read filter.
pub const BIOCSETF: u64 = iow(b'B', 103, size_of::<bpf_program>());
/// `BIOCSETIF`: attach to an interface (`struct ifreq`).
pub const BIOCSETIF: u64 = iow(b'B', 108, size_of::<ifreq>());
/// `BIOCIMMEDIATE`: a read returns as soon as a frame is there.
pub const BIOCIMMEDIATE: u64 = iow(b'B', 112, size_of::<u32>());
/// `BIOCSHDRCMPLT`: written frames carry their own source address.
pub const BIOCSHDRCMPLT: u64 = iow(b'B', 117, size_of::<u32>());

const _: () = assert!(IN6_IFREQ < IOCPARM_MAX);

/// The numbers `tests/abi.rs` compares, named as its probe names them.
pub fn values() -> Vec<(&'static str, u64)> {
    let mut v: Vec<(&'static str, u64)> = Vec::new();
    v.extend(k![
        AF_INET,
        AF_INET6,
        PF_ROUTE,
        CTL_NET,
        NET_RT_DUMP,
        NET_RT_FLAGS,
        RTM_DELETE,
        RTM_GET,
        RTA_DST,
        RTA_GATEWAY,
        RTA_NETMASK,
        RTA_IFP,
        RTF_UP,
        RTF_GATEWAY,
        RTF_HOST,
        RTF_LLINFO,
        RTF_STATIC,
        IEEE80211_IOC_SSID,
        SIOCDIFADDR,
        SIOCDIFADDR_IN6,
        BIOCGBLEN,
        BIOCSETF,
        BIOCSETIF,
        BIOCIMMEDIATE,
        BIOCSHDRCMPLT,
        BPF_LD,
        BPF_JMP,
        BPF_RET,
        BPF_H,
        BPF_B,
        BPF_ABS,
        BPF_JEQ,
        BPF_K,
    ]);
    v.extend(layout![sockaddr_in: sin_len, sin_family, sin_port, sin_addr, sin_zero]);
    v.extend(layout![
        sockaddr_in6: sin6_len,
        sin6_family,
        sin6_port,
        sin6_flowinfo,
        sin6_addr,
        sin6_scope_id,
    ]);
    v.extend(layout![
        rt_msghdr: rtm_msglen,
        rtm_version,
        rtm_type,
        rtm_index,
        rtm_flags,
        rtm_addrs,
        rtm_pid,
        rtm_seq,
        rtm_errno,
        rtm_fmask,
        rtm_inits,
        rtm_rmx,
    ]);
    v.extend(
        layout![rt_metrics: rmx_locks, rmx_mtu, rmx_expire, rmx_weight, rmx_nhidx, rmx_filler],
    );
    v.extend(layout![in6_ifreq: ifr_name, ifr_ifru]);
    v.extend(layout![bpf_program: bf_len, bf_insns]);
    v.extend(layout![bpf_insn: code, jt, jf, k]);
    v.extend(layout![bpf_hdr: bh_tstamp, bh_caplen, bh_datalen, bh_hdrlen]);
    v
}
