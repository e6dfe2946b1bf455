//! FreeBSD's userland ABI for the requests lagghook makes: `#[repr(C)]`
//! mirrors of the structs the `libc` crate lacks (`sys/net/if_lagg.h`, the
//! `ifreq` union members we use), the
//! `sys/sys/ioccom.h` request encoding as a pure `const fn`, and the request
//! numbers computed from it with `size_of` of the mirrors.
//!
//! It is also the one home of every other FreeBSD number the crate uses:
//! limits (`LAGG_MAX_PORTS`, `IFNAMSIZ`, MTUs), protocol and flag values,
//! and the errno numbers with their names and strerror(3) texts. It is a
//! leaf: it imports nothing from the crate, so every layer (the model, the
//! kernel seam, both backends, the simulator) can take its facts from here.
//!
//! This module is compiled on every OS, with no `cfg`, so that the host test
//! `tests/abi.rs` can compare [`abi_values`] against numbers read from
//! FreeBSD's own headers (compiled with `zig cc -target *-freebsd -S`).
//! It never calls the OS and never uses the host's ioctl macros: Linux
//! encodes `_IOWR` differently (nix `ioctl/linux.rs` vs `ioctl/bsd.rs`).
//!
//! Only LP64 FreeBSD (x86_64, aarch64) is supported: the mirrors spell
//! `size_t` as `usize` and pointers as `*mut c_void`, which is right on
//! every target, but i386's request numbers differ (SIOCGLAGG is
//! 0xc040698f there), and nobody has compared them; the backend refuses
//! to compile for a 32-bit FreeBSD.
//!
//! Names follow C (`lagg_reqall`, `ra_ports`) so a mirror can be read next
//! to its header. Byte arrays are `u8` where C has `char`: the bytes are the
//! same, and `char` is signed on x86_64 but unsigned on aarch64.

#![allow(non_camel_case_types)]

/// `(name, value)` of each constant, for [`abi_values`].
macro_rules! k {
    ($($name:ident),* $(,)?) => { [$((stringify!($name), $name as u64)),*] };
}

/// `sizeof_T` and `offsetof_T_F` of a mirror, for [`abi_values`].
macro_rules! layout {
    ($t:ident: $($f:ident),* $(,)?) => {
        [(concat!("sizeof_", stringify!($t)), size_of::<$t>() as u64),
         $((concat!("offsetof_", stringify!($t), "_", stringify!($f)),
            offset_of!($t, $f) as u64)),*]
    };
}

/// The network check's part: routing socket, bpf(4), IPv4/IPv6 addresses.
pub mod net;

use core::ffi::{c_int, c_void};
use core::mem::{offset_of, size_of};
use core::ptr;

// ---------------------------------------------------------------------------
// sys/sys/ioccom.h
// ---------------------------------------------------------------------------

/// Parameter length mask: 13 bits (`IOCPARM_MASK`).
pub const IOCPARM_MASK: u32 = 0x1fff;
/// Largest parameter a request can carry (`IOCPARM_MAX`).
pub const IOCPARM_MAX: usize = IOCPARM_MASK as usize + 1;
/// No parameters (`IOC_VOID`).
pub const IOC_VOID: u32 = 0x2000_0000;
/// Copy parameters out, kernel to user (`IOC_OUT`, `_IOR`).
pub const IOC_OUT: u32 = 0x4000_0000;
/// Copy parameters in, user to kernel (`IOC_IN`, `_IOW`).
pub const IOC_IN: u32 = 0x8000_0000;
/// Copy in and out (`IOC_INOUT`, `_IOWR`).
pub const IOC_INOUT: u32 = IOC_IN | IOC_OUT;

/// FreeBSD's `_IOC(inout, group, num, len)`:
/// `inout | ((len & IOCPARM_MASK) << 16) | (group << 8) | num`.
/// The result is an `unsigned long` in C (`ioctl(2)` takes one), which is
/// 64 bits on the LP64 targets; the top 32 bits are always zero.
pub const fn ioc(dir: u32, group: u8, num: u8, len: usize) -> u64 {
    // `len` is masked exactly as the C macro does; the const asserts below
    // make sure no struct of ours is big enough to be truncated by it.
    let len = (len as u32) & IOCPARM_MASK;
    (dir | (len << 16) | ((group as u32) << 8) | num as u32) as u64
}

/// `_IOW(group, num, type)`: the argument is copied in.
pub const fn iow(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_IN, group, num, len)
}

/// `_IOR(group, num, type)`: the argument is copied out.
pub const fn ior(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_OUT, group, num, len)
}

/// `_IOWR(group, num, type)`: the argument is copied in and back out.
pub const fn iowr(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_INOUT, group, num, len)
}

// ---------------------------------------------------------------------------
// sys/net/if.h, sys/sys/socket.h, sys/net/if_dl.h, ifaddrs.h
// ---------------------------------------------------------------------------

/// `IFNAMSIZ`: interface name buffer, NUL included.
pub const IFNAMSIZ: usize = 16;
/// `ETHER_ADDR_LEN` (`sys/net/ethernet.h`).
pub const ETHER_ADDR_LEN: usize = 6;
/// `AF_LOCAL`: the family of the ioctl socket (libifconfig's default).
pub const AF_LOCAL: u8 = 1;
/// `AF_LINK`: link-level addresses (`sockaddr_dl`).
pub const AF_LINK: u8 = 18;
/// `IFF_UP`: administratively up.
pub const IFF_UP: u32 = 0x1;
/// `LINK_STATE_UNKNOWN`.
pub const LINK_STATE_UNKNOWN: u8 = 0;
/// `LINK_STATE_DOWN`.
pub const LINK_STATE_DOWN: u8 = 1;
/// `LINK_STATE_UP`.
pub const LINK_STATE_UP: u8 = 2;

/// `struct sockaddr`: BSD layout, with a length byte before the family.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sockaddr {
    pub sa_len: u8,
    pub sa_family: u8,
    pub sa_data: [u8; 14],
}

/// `struct ifreq_buffer`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ifreq_buffer {
    pub length: usize,
    pub buffer: *mut c_void,
}

/// The union `ifr_ifru` of `struct ifreq`, restricted to the members
/// lagghook uses; `ifru_buffer` (16 bytes, pointer-aligned) gives it the
/// header's size and alignment, which `tests/abi.rs` checks.
#[repr(C)]
#[derive(Clone, Copy)]
pub union ifr_ifru {
    /// `ifr_addr`: SIOCSIFLLADDR, SIOCGHWADDR.
    pub ifru_addr: sockaddr,
    /// `ifr_buffer`.
    pub ifru_buffer: ifreq_buffer,
    /// `ifr_flags` (`[0]`, low 16 bits) and `ifr_flagshigh` (`[1]`).
    pub ifru_flags: [i16; 2],
    /// `ifr_media`.
    pub ifru_media: c_int,
    /// `ifr_data`: SIOCIFCREATE2's clone parameters.
    pub ifru_data: *mut c_void,
    /// `ifr_reqcap`, `ifr_curcap`.
    pub ifru_cap: [c_int; 2],
}

/// `struct ifreq` (`sys/net/if.h`): 16-byte name, then the 16-byte union.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ifreq {
    pub ifr_name: [u8; IFNAMSIZ],
    pub ifr_ifru: ifr_ifru,
}

impl ifreq {
    /// An all-zero request naming `name` (the `bzero` + `strlcpy` every
    /// ifconfig handler starts with).
    pub fn new(name: [u8; IFNAMSIZ]) -> ifreq {
        ifreq {
            ifr_name: name,
            ifr_ifru: ifr_ifru {
                // The largest member, so every byte of the union is zero.
                ifru_buffer: ifreq_buffer { length: 0, buffer: ptr::null_mut() },
            },
        }
    }
}

/// `struct ifmediareq` (`sys/net/if.h`), for `SIOCGIFMEDIA`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ifmediareq {
    pub ifm_name: [u8; IFNAMSIZ],
    pub ifm_current: c_int,
    pub ifm_mask: c_int,
    pub ifm_status: c_int,
    pub ifm_active: c_int,
    pub ifm_count: c_int,
    pub ifm_ulist: *mut c_int,
}

/// `struct sockaddr_dl` (`sys/net/if_dl.h`): what getifaddrs(3) puts in
/// `ifa_addr` for the `AF_LINK` entry of each interface. The MAC is at
/// `sdl_data[sdl_nlen..sdl_nlen + sdl_alen]` (the `LLADDR` macro).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sockaddr_dl {
    pub sdl_len: u8,
    pub sdl_family: u8,
    pub sdl_index: u16,
    pub sdl_type: u8,
    pub sdl_nlen: u8,
    pub sdl_alen: u8,
    pub sdl_slen: u8,
    pub sdl_data: [u8; 46],
}

/// `struct if_data` (`sys/net/if.h`): what `ifa_data` of an `AF_LINK`
/// getifaddrs entry points to (`lib/libc/net/getifaddrs.c`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct if_data {
    pub ifi_type: u8,
    pub ifi_physical: u8,
    pub ifi_addrlen: u8,
    pub ifi_hdrlen: u8,
    pub ifi_link_state: u8,
    pub ifi_vhid: u8,
    pub ifi_datalen: u16,
    pub ifi_mtu: u32,
    pub ifi_metric: u32,
    pub ifi_baudrate: u64,
    pub ifi_ipackets: u64,
    pub ifi_ierrors: u64,
    pub ifi_opackets: u64,
    pub ifi_oerrors: u64,
    pub ifi_collisions: u64,
    pub ifi_ibytes: u64,
    pub ifi_obytes: u64,
    pub ifi_imcasts: u64,
    pub ifi_omcasts: u64,
    pub ifi_iqdrops: u64,
    pub ifi_oqdrops: u64,
    pub ifi_noproto: u64,
    pub ifi_hwassist: u64,
    /// A union of `time_t` and `uint64_t` in the header.
    pub __ifi_epoch: u64,
    /// A union of `struct timeval` and two `uint64_t` in the header.
    pub __ifi_lastchange: [u64; 2],
}

/// `struct ifaddrs` (`include/ifaddrs.h`). The backend walks libc's own
/// `libc::ifaddrs`; this mirror lets the host test check the offsets the
/// backend then asserts libc agrees with.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ifaddrs {
    pub ifa_next: *mut ifaddrs,
    pub ifa_name: *mut u8,
    pub ifa_flags: u32,
    pub ifa_addr: *mut sockaddr,
    pub ifa_netmask: *mut sockaddr,
    pub ifa_dstaddr: *mut sockaddr,
    pub ifa_data: *mut c_void,
}

/// `ETHERMTU` (`sys/net/ethernet.h`): the MTU `ether_ifattach` gives every
/// Ethernet-like ifnet (NICs, vaps, laggs).
pub const ETHERMTU: u32 = 1500;

// ---------------------------------------------------------------------------
// sys/net/if_types.h, sys/net/if_media.h
// ---------------------------------------------------------------------------

/// `IFT_ETHER`: Ethernet NICs, wlan vaps (`ieee80211_vap_setup`) and lagg
/// interfaces themselves (`lagg_clone_create` → `ether_ifattach`).
pub const IFT_ETHER: u8 = 0x6;
/// `struct if_msghdr` (`sys/net/if.h`): a routing socket's RTM_IFINFO,
/// which `rt_ifmsg` sends on every flag or link state change
/// (`sys/net/rtsock.c`); the conformance harness reads it in a vnet jail,
/// where no devd event is raised.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct if_msghdr {
    pub ifm_msglen: u16,
    pub ifm_version: u8,
    pub ifm_type: u8,
    pub ifm_addrs: i32,
    pub ifm_flags: i32,
    pub ifm_index: u16,
    pub _ifm_spare1: u16,
    pub ifm_data: if_data,
}

/// `struct if_announcemsghdr` (`sys/net/if.h`): RTM_IFANNOUNCE, an
/// interface's arrival or departure (a rename is a departure under the
/// old name, then an arrival under the new).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct if_announcemsghdr {
    pub ifan_msglen: u16,
    pub ifan_version: u8,
    pub ifan_type: u8,
    pub ifan_index: u16,
    pub ifan_name: [u8; IFNAMSIZ],
    pub ifan_what: u16,
}

/// `PF_ROUTE`/`AF_ROUTE` (`sys/sys/socket.h`).
pub const AF_ROUTE: i32 = 17;
/// `RTM_VERSION` (`net/route.h`): every routing message carries it.
pub const RTM_VERSION: u8 = 5;
/// `RTM_IFINFO`: interface flags or link state changed.
pub const RTM_IFINFO: u8 = 0xe;
/// `RTM_IFANNOUNCE`: interface arrival or departure.
pub const RTM_IFANNOUNCE: u8 = 0x11;
/// `IFAN_ARRIVAL`, `IFAN_DEPARTURE` (`net/if.h`).
pub const IFAN_ARRIVAL: u16 = 0;
pub const IFAN_DEPARTURE: u16 = 1;
/// `IFF_LINK0` (`net/if.h`): for tap(4), keep the interface up and its
/// addresses when the device is closed (`tundtor`).
pub const IFF_LINK0: u32 = 0x1000;

/// `IFT_L2VLAN`.
pub const IFT_L2VLAN: u8 = 0x87;
/// `IFT_IEEE8023ADLAG`: what `lagg_port_create` retypes a member port to.
pub const IFT_IEEE8023ADLAG: u8 = 0xa1;
/// `IFM_AVALID`: `ifm_status` is meaningful.
pub const IFM_AVALID: c_int = 0x1;
/// `IFM_ACTIVE`: carrier / associated.
pub const IFM_ACTIVE: c_int = 0x2;

// ---------------------------------------------------------------------------
// sys/net/if_lagg.h
// ---------------------------------------------------------------------------

/// `LAGG_MAX_PORTS`: `lagg_port_create` refuses a 33rd port (ENOSPC).
pub const LAGG_MAX_PORTS: usize = 32;
/// `LAGG_PROTO_NONE` … `LAGG_PROTO_MAX` (`enum lagg_proto`).
pub const LAGG_PROTO_NONE: u32 = 0;
pub const LAGG_PROTO_ROUNDROBIN: u32 = 1;
pub const LAGG_PROTO_FAILOVER: u32 = 2;
pub const LAGG_PROTO_LOADBALANCE: u32 = 3;
pub const LAGG_PROTO_LACP: u32 = 4;
pub const LAGG_PROTO_BROADCAST: u32 = 5;
pub const LAGG_PROTO_MAX: u32 = 6;
/// `LAGG_PORT_*`, as `lagg_port2req` reports them in `rp_flags`.
pub const LAGG_PORT_SLAVE: u32 = 0x00;
pub const LAGG_PORT_MASTER: u32 = 0x01;
pub const LAGG_PORT_STACK: u32 = 0x02;
pub const LAGG_PORT_ACTIVE: u32 = 0x04;
pub const LAGG_PORT_COLLECTING: u32 = 0x08;
pub const LAGG_PORT_DISTRIBUTING: u32 = 0x10;
/// `LAGG_TYPE_ETHERNET` (`enum lagg_iftype`); also `LAGG_TYPE_DEFAULT`,
/// which is what ifconfig's `lagg_create` passes.
pub const LAGG_TYPE_ETHERNET: u8 = 0;

/// `struct lacp_opreq`: only here because it sizes the `rp_psc`/`ra_psc`
/// unions (their single member).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct lacp_opreq {
    pub actor_prio: u16,
    pub actor_mac: [u8; ETHER_ADDR_LEN],
    pub actor_key: u16,
    pub actor_portprio: u16,
    pub actor_portno: u16,
    pub actor_state: u8,
    pub partner_prio: u16,
    pub partner_mac: [u8; ETHER_ADDR_LEN],
    pub partner_key: u16,
    pub partner_portprio: u16,
    pub partner_portno: u16,
    pub partner_state: u8,
}

/// `struct lagg_reqport`: one port, for SIOCSLAGGPORT / SIOCSLAGGDELPORT /
/// SIOCGLAGGPORT and as the element of SIOCGLAGG's `ra_port` array.
/// `rp_psc` is a one-member union (`rpsc_lacp`) in the header.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lagg_reqport {
    /// The lagg.
    pub rp_ifname: [u8; IFNAMSIZ],
    /// The port.
    pub rp_portname: [u8; IFNAMSIZ],
    pub rp_prio: u32,
    pub rp_flags: u32,
    pub rp_psc: lacp_opreq,
}

impl lagg_reqport {
    pub fn new(lagg: [u8; IFNAMSIZ], port: [u8; IFNAMSIZ]) -> lagg_reqport {
        lagg_reqport {
            rp_ifname: lagg,
            rp_portname: port,
            rp_prio: 0,
            rp_flags: 0,
            rp_psc: lacp_opreq::default(),
        }
    }
}

/// `struct lagg_reqall`: SIOCGLAGG (protocol and port list) and SIOCSLAGG
/// (protocol). `ra_port` points to `ra_size` bytes of `lagg_reqport`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lagg_reqall {
    pub ra_ifname: [u8; IFNAMSIZ],
    pub ra_proto: u32,
    pub ra_size: usize,
    pub ra_port: *mut lagg_reqport,
    pub ra_ports: c_int,
    pub ra_psc: lacp_opreq,
}

impl lagg_reqall {
    pub fn new(lagg: [u8; IFNAMSIZ]) -> lagg_reqall {
        lagg_reqall {
            ra_ifname: lagg,
            ra_proto: 0,
            ra_size: 0,
            ra_port: ptr::null_mut(),
            ra_ports: 0,
            ra_psc: lacp_opreq::default(),
        }
    }
}

/// `struct lagg_reqopts`: SIOCGLAGGOPTS / SIOCSLAGGOPTS.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct lagg_reqopts {
    pub ro_ifname: [u8; IFNAMSIZ],
    pub ro_opts: c_int,
    pub ro_count: u32,
    pub ro_active: u32,
    pub ro_flapping: u32,
    pub ro_flowid_shift: c_int,
    pub ro_bkt: u32,
}

/// `struct iflaggparam`: SIOCIFCREATE2's `ifr_data` for the lagg cloner
/// (`lagg_clone_create` copies it in when present).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct iflaggparam {
    pub lagg_type: u8,
    pub reserved_8: [u8; 3],
    pub reserved_32: [u32; 3],
}

// ---------------------------------------------------------------------------
// sys/net80211/ieee80211.h
// ---------------------------------------------------------------------------

/// `IEEE80211_MTU_MIN`: the smallest MTU net80211's SIOCSIFMTU accepts
/// (`ieee80211_ioctl` in `sys/net80211/ieee80211_ioctl.c`).
pub const IEEE80211_MTU_MIN: u32 = 32;
/// `IEEE80211_MTU_MAX`: the largest, so a wlan cannot join a jumbo lagg.
pub const IEEE80211_MTU_MAX: u32 = 2290;

/// `IFCAP_*` (`sys/net/if.h`): the interface capability bits of
/// `if_capabilities` / `if_capenable`, as SIOCGIFCAP reports them in
/// `ifr_reqcap` (supported) and `ifr_curcap` (enabled).
pub const IFCAP_RXCSUM: u32 = 0x1;
pub const IFCAP_TXCSUM: u32 = 0x2;
pub const IFCAP_VLAN_MTU: u32 = 0x8;
pub const IFCAP_VLAN_HWTAGGING: u32 = 0x10;
pub const IFCAP_JUMBO_MTU: u32 = 0x20;
pub const IFCAP_VLAN_HWCSUM: u32 = 0x80;
pub const IFCAP_TSO4: u32 = 0x100;
pub const IFCAP_TSO6: u32 = 0x200;
pub const IFCAP_LRO: u32 = 0x400;
pub const IFCAP_VLAN_HWFILTER: u32 = 0x1_0000;
pub const IFCAP_VLAN_HWTSO: u32 = 0x4_0000;
pub const IFCAP_LINKSTATE: u32 = 0x8_0000;
pub const IFCAP_RXCSUM_IPV6: u32 = 0x20_0000;
pub const IFCAP_TXCSUM_IPV6: u32 = 0x40_0000;
pub const IFCAP_HWSTATS: u32 = 0x80_0000;

/// The capability bits lagghook names, as ifconfig prints them
/// (`IFCAPBITS` in `sbin/ifconfig/ifconfig.c`).
pub const IFCAP_NAMES: &[(u32, &str)] = &[
    (IFCAP_RXCSUM, "RXCSUM"),
    (IFCAP_TXCSUM, "TXCSUM"),
    (IFCAP_VLAN_MTU, "VLAN_MTU"),
    (IFCAP_VLAN_HWTAGGING, "VLAN_HWTAGGING"),
    (IFCAP_JUMBO_MTU, "JUMBO_MTU"),
    (IFCAP_VLAN_HWCSUM, "VLAN_HWCSUM"),
    (IFCAP_TSO4, "TSO4"),
    (IFCAP_TSO6, "TSO6"),
    (IFCAP_LRO, "LRO"),
    (IFCAP_VLAN_HWFILTER, "VLAN_HWFILTER"),
    (IFCAP_VLAN_HWTSO, "VLAN_HWTSO"),
    (IFCAP_LINKSTATE, "LINKSTATE"),
    (IFCAP_RXCSUM_IPV6, "RXCSUM_IPV6"),
    (IFCAP_TXCSUM_IPV6, "TXCSUM_IPV6"),
    (IFCAP_HWSTATS, "HWSTATS"),
];

// ---------------------------------------------------------------------------
// sys/net80211/ieee80211_ioctl.h
// ---------------------------------------------------------------------------

/// `struct ieee80211req`, the argument of `SIOCG80211`: which item
/// (`i_type`), a value or a buffer (`i_data`, `i_len` bytes) for it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ieee80211req {
    pub i_name: [u8; IFNAMSIZ],
    pub i_type: u16,
    pub i_val: i16,
    pub i_len: u16,
    pub i_data: *mut c_void,
}

/// `IEEE80211_IOC_IC_NAME`: the name of the vap's radio (`ic_name`), what
/// ifconfig's `getdevicename` asks for (`sbin/ifconfig/ifieee80211.c`).
pub const IEEE80211_IOC_IC_NAME: u16 = 210;

/// `struct ieee80211_clone_params`: SIOCIFCREATE2's `ifr_data` for the
/// wlan cloner (`wlan_clone_create` copies it in), as ifconfig's
/// `wlan_create` fills it for `create wlandev PARENT wlanaddr MAC`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ieee80211_clone_params {
    /// The radio (`wlandev`).
    pub icp_parent: [u8; IFNAMSIZ],
    /// `enum ieee80211_opmode`.
    pub icp_opmode: u16,
    /// `IEEE80211_CLONE_*`.
    pub icp_flags: u16,
    pub icp_bssid: [u8; 6],
    /// The vap's address, used when `IEEE80211_CLONE_MACADDR` is set.
    pub icp_macaddr: [u8; 6],
}

/// `IEEE80211_CLONE_MACADDR`: use `icp_macaddr` (ifconfig's `wlanaddr`).
pub const IEEE80211_CLONE_MACADDR: u16 = 0x0008;
/// `IEEE80211_M_STA` of `enum ieee80211_opmode`: a station, ifconfig's
/// default `wlanmode`.
pub const IEEE80211_M_STA: u16 = 1;

// ---------------------------------------------------------------------------
// sys/sys/errno.h, lib/libc/gen/errlst.c
// ---------------------------------------------------------------------------

/// One errno lagghook names: its `<errno.h>` name, FreeBSD's number (they
/// differ from Linux's), and the text FreeBSD's strerror(3) gives it
/// (`sys_errlist` in `lib/libc/gen/errlst.c`), so messages read like
/// ifconfig's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrnoInfo {
    pub name: &'static str,
    pub code: c_int,
    pub text: &'static str,
}

/// Declares each errno constant and the [`ERRNOS`] table from one list, so
/// a name, its number and its text cannot drift apart.
macro_rules! errnos {
    ($($name:ident = $code:literal : $text:literal),* $(,)?) => {
        $(#[doc = concat!("`", stringify!($name), "`: ", $text, ".")]
          pub const $name: c_int = $code;)*
        /// Every errno lagghook names (`kernel::Errno` has one variant each).
        pub const ERRNOS: &[ErrnoInfo] =
            &[$(ErrnoInfo { name: stringify!($name), code: $name, text: $text }),*];
    };
}

errnos! {
    EPERM = 1: "Operation not permitted",
    ENOENT = 2: "No such file or directory",
    ESRCH = 3: "No such process",
    ENXIO = 6: "Device not configured",
    ENOMEM = 12: "Cannot allocate memory",
    EACCES = 13: "Permission denied",
    EBUSY = 16: "Device busy",
    EEXIST = 17: "File exists",
    ENODEV = 19: "Operation not supported by device",
    EINVAL = 22: "Invalid argument",
    ENOSPC = 28: "No space left on device",
    EPROTONOSUPPORT = 43: "Protocol not supported",
    EOPNOTSUPP = 45: "Operation not supported",
    EADDRNOTAVAIL = 49: "Can't assign requested address",
    ENETDOWN = 50: "Network is down",
}

/// `EIO`: what the FreeBSD backend reports when a failed call left no
/// errno at all (it has no `kernel::Errno` variant of its own).
pub const EIO: c_int = 5;

/// The entry of [`ERRNOS`] for `code`, if lagghook names that errno.
pub fn errno_info(code: c_int) -> Option<&'static ErrnoInfo> {
    ERRNOS.iter().find(|e| e.code == code)
}

// ---------------------------------------------------------------------------
// sys/sys/sockio.h: request numbers, from the sizes of the mirrors above
// ---------------------------------------------------------------------------

const IFREQ: usize = size_of::<ifreq>();
const REQALL: usize = size_of::<lagg_reqall>();
const REQPORT: usize = size_of::<lagg_reqport>();

pub const SIOCSIFFLAGS: u64 = iow(b'i', 16, IFREQ);
pub const SIOCGIFFLAGS: u64 = iowr(b'i', 17, IFREQ);
pub const SIOCGIFCAP: u64 = iowr(b'i', 31, IFREQ);
pub const SIOCGIFMTU: u64 = iowr(b'i', 51, IFREQ);
pub const SIOCGIFMEDIA: u64 = iowr(b'i', 56, size_of::<ifmediareq>());
pub const SIOCSIFLLADDR: u64 = iow(b'i', 60, IFREQ);
pub const SIOCGHWADDR: u64 = iowr(b'i', 62, IFREQ);
pub const SIOCIFDESTROY: u64 = iow(b'i', 121, IFREQ);
pub const SIOCSIFNAME: u64 = iow(b'i', 40, IFREQ);
pub const SIOCIFCREATE2: u64 = iowr(b'i', 124, IFREQ);
pub const SIOCGLAGGPORT: u64 = iowr(b'i', 140, REQPORT);
pub const SIOCSLAGGPORT: u64 = iow(b'i', 141, REQPORT);
pub const SIOCSLAGGDELPORT: u64 = iow(b'i', 142, REQPORT);
pub const SIOCGLAGG: u64 = iowr(b'i', 143, REQALL);
pub const SIOCSLAGG: u64 = iow(b'i', 144, REQALL);
pub const SIOCGLAGGOPTS: u64 = iowr(b'i', 152, size_of::<lagg_reqopts>());
pub const SIOCG80211: u64 = iowr(b'i', 235, size_of::<ieee80211req>());

// `ioc` masks the length to 13 bits like the C macro; none of ours may
// need more, or its request number would silently name a shorter struct.
const _: () = assert!(IFREQ < IOCPARM_MAX && REQALL < IOCPARM_MAX && REQPORT < IOCPARM_MAX);
const _: () = assert!(size_of::<ifmediareq>() < IOCPARM_MAX);
const _: () = assert!(size_of::<ieee80211req>() < IOCPARM_MAX);

/// Copies an interface name into a NUL-terminated `IFNAMSIZ` buffer, as
/// `strlcpy(ifr.ifr_name, name, IFNAMSIZ)` but refusing to truncate:
/// `None` if the name does not fit with its NUL, or contains a NUL.
pub fn ifname_bytes(name: &str) -> Option<[u8; IFNAMSIZ]> {
    let src = name.as_bytes();
    if src.len() >= IFNAMSIZ || src.contains(&0) {
        return None;
    }
    let mut out = [0u8; IFNAMSIZ];
    out[..src.len()].copy_from_slice(src);
    Some(out)
}

/// The name in a NUL-terminated `IFNAMSIZ` buffer filled by the kernel
/// (up to the first NUL, or all 16 bytes if there is none).
pub fn ifname_str(buf: &[u8; IFNAMSIZ]) -> &[u8] {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
    &buf[..end]
}

/// Every number `tests/abi.rs` compares with FreeBSD's headers, named as
/// its probe (`tests/abi/probe.c`) names them: the macro or enum name,
/// `sizeof_<struct>`, or `offsetof_<struct>_<field>`.
pub fn abi_values() -> Vec<(&'static str, u64)> {
    // The `ifreq` union members are macros in C (`#define ifr_flags
    // ifr_ifru.ifru_flags[0]`), so their offsets are the union's plus the
    // member's.
    let ifru = offset_of!(ifreq, ifr_ifru);
    let ifreq_members = [
        ("offsetof_ifreq_ifr_addr", ifru + offset_of!(ifr_ifru, ifru_addr)),
        ("offsetof_ifreq_ifr_buffer", ifru + offset_of!(ifr_ifru, ifru_buffer)),
        ("offsetof_ifreq_ifr_flags", ifru + offset_of!(ifr_ifru, ifru_flags)),
        ("offsetof_ifreq_ifr_flagshigh", ifru + offset_of!(ifr_ifru, ifru_flags) + 2),
        ("offsetof_ifreq_ifr_media", ifru + offset_of!(ifr_ifru, ifru_media)),
        ("offsetof_ifreq_ifr_data", ifru + offset_of!(ifr_ifru, ifru_data)),
        ("offsetof_ifreq_ifr_reqcap", ifru + offset_of!(ifr_ifru, ifru_cap)),
        ("offsetof_ifreq_ifr_curcap", ifru + offset_of!(ifr_ifru, ifru_cap) + 4),
    ]
    .map(|(n, v)| (n, v as u64));
    let errnos = ERRNOS.iter().map(|e| (e.name, e.code as u64));

    let mut v: Vec<(&'static str, u64)> = Vec::new();
    v.extend(k![IOC_VOID, IOC_OUT, IOC_IN, IOC_INOUT, IOCPARM_MASK, IOCPARM_MAX]);
    v.extend(k![
        SIOCGLAGG,
        SIOCSLAGG,
        SIOCGLAGGPORT,
        SIOCSLAGGPORT,
        SIOCSLAGGDELPORT,
        SIOCGLAGGOPTS,
        SIOCSIFLLADDR,
        SIOCGHWADDR,
        SIOCGIFFLAGS,
        SIOCSIFFLAGS,
        SIOCGIFMEDIA,
        SIOCIFCREATE2,
        SIOCIFDESTROY,
        SIOCSIFNAME,
        SIOCGIFMTU,
        SIOCG80211,
        SIOCGIFCAP,
    ]);
    v.extend(k![
        IFNAMSIZ,
        ETHER_ADDR_LEN,
        ETHERMTU,
        AF_LOCAL,
        AF_LINK,
        IFF_UP,
        LINK_STATE_UNKNOWN,
        LINK_STATE_DOWN,
        LINK_STATE_UP,
        IFT_ETHER,
        IFT_L2VLAN,
        IFT_IEEE8023ADLAG,
        IFM_AVALID,
        IFM_ACTIVE,
        LAGG_MAX_PORTS,
        LAGG_PROTO_NONE,
        LAGG_PROTO_ROUNDROBIN,
        LAGG_PROTO_FAILOVER,
        LAGG_PROTO_LOADBALANCE,
        LAGG_PROTO_LACP,
        LAGG_PROTO_BROADCAST,
        LAGG_PROTO_MAX,
        LAGG_PORT_SLAVE,
        LAGG_PORT_MASTER,
        LAGG_PORT_STACK,
        LAGG_PORT_ACTIVE,
        LAGG_PORT_COLLECTING,
        LAGG_PORT_DISTRIBUTING,
        LAGG_TYPE_ETHERNET,
        IEEE80211_MTU_MIN,
        IEEE80211_MTU_MAX,
        IEEE80211_IOC_IC_NAME,
        IEEE80211_CLONE_MACADDR,
        IEEE80211_M_STA,
        IFCAP_RXCSUM,
        IFCAP_TXCSUM,
        IFCAP_VLAN_MTU,
        IFCAP_VLAN_HWTAGGING,
        IFCAP_JUMBO_MTU,
        IFCAP_VLAN_HWCSUM,
        IFCAP_TSO4,
        IFCAP_TSO6,
        IFCAP_LRO,
        IFCAP_VLAN_HWFILTER,
        IFCAP_VLAN_HWTSO,
        IFCAP_LINKSTATE,
        IFCAP_RXCSUM_IPV6,
        IFCAP_TXCSUM_IPV6,
        IFCAP_HWSTATS,
        EIO,
        AF_ROUTE,
        RTM_VERSION,
        RTM_IFINFO,
        RTM_IFANNOUNCE,
        IFAN_ARRIVAL,
        IFAN_DEPARTURE,
        IFF_LINK0,
    ]);
    v.extend(errnos);
    v.extend(net::values());
    v.extend(layout![sockaddr: sa_len, sa_family, sa_data]);
    v.extend(layout![ifreq_buffer: length, buffer]);
    v.extend(layout![ifreq: ifr_name, ifr_ifru]);
    v.extend(layout![ieee80211req: i_name, i_type, i_val, i_len, i_data]);
    v.extend(layout![
        ieee80211_clone_params: icp_parent,
        icp_opmode,
        icp_flags,
        icp_bssid,
        icp_macaddr,
    ]);
    v.extend(ifreq_members);
    v.extend(layout![
        ifmediareq: ifm_name,
        ifm_current,
        ifm_mask,
        ifm_status,
        ifm_active,
        ifm_count,
        ifm_ulist,
    ]);
    v.extend(layout![
        sockaddr_dl: sdl_len,
        sdl_family,
        sdl_index,
        sdl_type,
        sdl_nlen,
        sdl_alen,
        sdl_slen,
        sdl_data,
    ]);
    v.extend(layout![
        if_data: ifi_type,
        ifi_physical,
        ifi_addrlen,
        ifi_hdrlen,
        ifi_link_state,
        ifi_vhid,
        ifi_datalen,
        ifi_mtu,
        ifi_metric,
        ifi_baudrate,
        ifi_ipackets,
        ifi_ierrors,
        ifi_opackets,
        ifi_oerrors,
        ifi_collisions,
        ifi_ibytes,
        ifi_obytes,
        ifi_imcasts,
        ifi_omcasts,
        ifi_iqdrops,
        ifi_oqdrops,
        ifi_noproto,
        ifi_hwassist,
        __ifi_epoch,
        __ifi_lastchange,
    ]);
    v.extend(layout![
        if_msghdr: ifm_msglen,
        ifm_version,
        ifm_type,
        ifm_addrs,
        ifm_flags,
        ifm_index,
        ifm_data,
    ]);
    v.extend(layout![
        if_announcemsghdr: ifan_msglen,
        ifan_version,
        ifan_type,
        ifan_index,
        ifan_name,
        ifan_what,
    ]);
    v.extend(layout![
        ifaddrs: ifa_next,
        ifa_name,
        ifa_flags,
        ifa_addr,
        ifa_netmask,
        ifa_dstaddr,
        ifa_data,
    ]);
    v.extend(layout![
        lacp_opreq: actor_prio,
        actor_mac,
        actor_key,
        actor_portprio,
        actor_portno,
        actor_state,
        partner_prio,
        partner_mac,
        partner_key,
        partner_portprio,
        partner_portno,
        partner_state,
    ]);
    v.extend(layout![lagg_reqport: rp_ifname, rp_portname, rp_prio, rp_flags, rp_psc]);
    v.extend(layout![lagg_reqall: ra_ifname, ra_proto, ra_size, ra_port, ra_ports, ra_psc]);
    v.extend(layout![
        lagg_reqopts: ro_ifname,
        ro_opts,
        ro_count,
        ro_active,
        ro_flapping,
        ro_flowid_shift,
        ro_bkt,
    ]);
    v.extend(layout![iflaggparam: lagg_type, reserved_8, reserved_32]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifname_bytes_never_truncates() {
        assert_eq!(ifname_bytes("lagg0").map(|b| b[..6].to_vec()), Some(b"lagg0\0".to_vec()));
        assert!(ifname_bytes("abcdefghijklmno").is_some(), "15 bytes + NUL fit");
        assert_eq!(ifname_bytes("abcdefghijklmnop"), None, "16 bytes leave no room for NUL");
        assert_eq!(ifname_bytes("em\0"), None);
    }

    #[test]
    fn errno_table_has_one_entry_per_name_and_number() {
        for (i, e) in ERRNOS.iter().enumerate() {
            assert_eq!(errno_info(e.code), Some(e));
            assert!(ERRNOS[i + 1..].iter().all(|o| o.code != e.code && o.name != e.name), "{e:?}");
        }
        assert_eq!(errno_info(EEXIST).map(|e| e.text), Some("File exists"));
        assert_eq!(errno_info(EIO), None, "EIO is a constant, not a named Errno");
    }

    #[test]
    fn ifname_str_stops_at_nul_or_end() {
        let mut b = [0u8; IFNAMSIZ];
        b[..3].copy_from_slice(b"em0");
        assert_eq!(ifname_str(&b), b"em0");
        assert_eq!(ifname_str(&[b'x'; IFNAMSIZ]).len(), IFNAMSIZ);
    }
}
