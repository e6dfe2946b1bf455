//! Plain value types shared by every layer: interface names, MAC addresses,
//! lagg protocols and port flags, and the [`Snapshot`] of what the kernel
//! looks like at one instant. No OS calls and no policy live here.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::abi;

/// `IFNAMSIZ` on FreeBSD is 16 bytes including the terminating NUL
/// (`sys/net/if.h`), so a usable name has at most 15 bytes.
pub const IFNAME_MAX: usize = abi::IFNAMSIZ - 1;

/// A network interface name that fits `ifr_name` and contains no byte the
/// kernel or devd would treat specially. In files (TOML, JSON) it is the
/// plain name, checked on the way in.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IfName(String);

/// Why a string is not an acceptable interface name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfNameError {
    Empty,
    TooLong(usize),
    BadChar(char),
}

impl fmt::Display for IfNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IfNameError::Empty => f.write_str("empty interface name"),
            IfNameError::TooLong(n) => {
                write!(f, "interface name is {n} bytes long, at most {IFNAME_MAX} fit in IFNAMSIZ")
            }
            IfNameError::BadChar(c) => write!(f, "interface name contains {c:?}"),
        }
    }
}

impl std::error::Error for IfNameError {}

impl IfName {
    /// Accepts what `ifconfig name` can produce and what is safe to pass as
    /// one argument to an rc script: ASCII letters, digits, `_`, `-`, `.`.
    /// The first byte must be a letter, as in every FreeBSD driver name.
    pub fn new(name: &str) -> Result<IfName, IfNameError> {
        if name.is_empty() {
            return Err(IfNameError::Empty);
        }
        if name.len() > IFNAME_MAX {
            return Err(IfNameError::TooLong(name.len()));
        }
        for (i, c) in name.chars().enumerate() {
            let ok = if i == 0 {
                c.is_ascii_alphabetic()
            } else {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
            };
            if !ok {
                return Err(IfNameError::BadChar(c));
            }
        }
        Ok(IfName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The unit number at the end of the name (`wlan0` → 0), as the kernel's
    /// `if_dunit` (of an interface never renamed).
    pub fn unit(&self) -> Option<u32> {
        let digits = self.0.len() - self.0.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        self.0[self.0.len() - digits..].parse().ok()
    }
}

impl FromStr for IfName {
    type Err = IfNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IfName::new(s)
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for IfName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IfName {
    type Error = IfNameError;

    fn try_from(s: String) -> Result<IfName, IfNameError> {
        IfName::new(&s)
    }
}

impl From<IfName> for String {
    fn from(name: IfName) -> String {
        name.0
    }
}

impl TryFrom<String> for MacAddr {
    type Error = MacAddrError;

    fn try_from(s: String) -> Result<MacAddr, MacAddrError> {
        s.parse()
    }
}

impl From<MacAddr> for String {
    fn from(mac: MacAddr) -> String {
        mac.to_string()
    }
}

/// An Ethernet (EUI-48) address, `ETHER_ADDR_LEN` = 6 bytes. In files it is
/// the `xx:xx:xx:xx:xx:xx` text.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddr(pub [u8; 6]);

/// Why a string is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacAddrError(pub String);

impl fmt::Display for MacAddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not a MAC address (want six hex octets like 00:11:22:33:44:55)", self.0)
    }
}

impl std::error::Error for MacAddrError {}

impl MacAddr {
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// Multicast (group) bit set: `if_setlladdr` does not refuse one, but a
    /// port with a group address as its source would be unreachable, so
    /// configuration rejects it.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl FromStr for MacAddr {
    type Err = MacAddrError;
    /// Exactly six groups of two hex digits, separated by `:` (or all by
    /// `-`): `00:11:22:aa:bb:cc`. Stricter than `ether_aton(3)`, which also
    /// takes one digit per group, and than `u8::from_str_radix`, which
    /// takes a sign (`+0:+1:…` must never reach a NIC).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MacAddrError(crate::domain::text::echo(s));
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut groups = s.split(sep);
        for byte in &mut out {
            let group = groups.next().ok_or_else(err)?;
            let [hi, lo] = group.as_bytes() else { return Err(err()) };
            let digit = |b: &u8| char::from(*b).to_digit(16).ok_or_else(err);
            *byte = u8::try_from(digit(hi)? << 4 | digit(lo)?).map_err(|_| err())?;
        }
        if groups.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `enum lagg_proto` in `sys/net/if_lagg.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaggProto {
    None,
    RoundRobin,
    Failover,
    LoadBalance,
    Lacp,
    Broadcast,
    Unknown(u32),
}

impl LaggProto {
    pub fn from_raw(v: u32) -> LaggProto {
        match v {
            abi::LAGG_PROTO_NONE => LaggProto::None,
            abi::LAGG_PROTO_ROUNDROBIN => LaggProto::RoundRobin,
            abi::LAGG_PROTO_FAILOVER => LaggProto::Failover,
            abi::LAGG_PROTO_LOADBALANCE => LaggProto::LoadBalance,
            abi::LAGG_PROTO_LACP => LaggProto::Lacp,
            abi::LAGG_PROTO_BROADCAST => LaggProto::Broadcast,
            other => LaggProto::Unknown(other),
        }
    }

    pub fn to_raw(self) -> u32 {
        match self {
            LaggProto::None => abi::LAGG_PROTO_NONE,
            LaggProto::RoundRobin => abi::LAGG_PROTO_ROUNDROBIN,
            LaggProto::Failover => abi::LAGG_PROTO_FAILOVER,
            LaggProto::LoadBalance => abi::LAGG_PROTO_LOADBALANCE,
            LaggProto::Lacp => abi::LAGG_PROTO_LACP,
            LaggProto::Broadcast => abi::LAGG_PROTO_BROADCAST,
            LaggProto::Unknown(v) => v,
        }
    }
}

impl fmt::Display for LaggProto {
    /// The keywords `ifconfig laggproto` accepts (`sbin/ifconfig/iflagg.c`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaggProto::None => f.write_str("none"),
            LaggProto::RoundRobin => f.write_str("roundrobin"),
            LaggProto::Failover => f.write_str("failover"),
            LaggProto::LoadBalance => f.write_str("loadbalance"),
            LaggProto::Lacp => f.write_str("lacp"),
            LaggProto::Broadcast => f.write_str("broadcast"),
            LaggProto::Unknown(v) => write!(f, "proto#{v}"),
        }
    }
}

impl FromStr for LaggProto {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "none" => LaggProto::None,
            "roundrobin" => LaggProto::RoundRobin,
            "failover" => LaggProto::Failover,
            "loadbalance" => LaggProto::LoadBalance,
            "lacp" => LaggProto::Lacp,
            "broadcast" => LaggProto::Broadcast,
            other => return Err(format!("unknown lagg protocol {other:?}")),
        })
    }
}

/// What kind of interface something is, as far as lagghook cares.
/// A wlan vap is `IFT_ETHER` to the kernel (`ieee80211_vap_setup`); the
/// real backend tells them apart by asking net80211 (`SIOCG80211`
/// `IEEE80211_IOC_IC_NAME`), never by the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfKind {
    Ether,
    Wlan,
    /// A vlan(4) interface (`IFT_L2VLAN`), which lagg accepts as a port
    /// (`lagg_port_create`) and lagghook handles like an Ethernet port.
    Vlan,
    Lagg,
    Other,
}

impl fmt::Display for IfKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IfKind::Ether => "ether",
            IfKind::Wlan => "wlan",
            IfKind::Vlan => "vlan",
            IfKind::Lagg => "lagg",
            IfKind::Other => "other",
        })
    }
}

/// `LINK_STATE_*` in `sys/net/if.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Unknown,
    Down,
    Up,
}

impl LinkState {
    pub fn is_up(self) -> bool {
        self == LinkState::Up
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkState::Unknown => "unknown",
            LinkState::Down => "no carrier",
            LinkState::Up => "active",
        })
    }
}

/// `SIOCGIFCAP`: the capabilities an interface supports
/// (`if_capabilities`, `ifr_reqcap`) and has enabled (`if_capenable`,
/// `ifr_curcap`), `IFCAP_*` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caps {
    pub supported: u32,
    pub enabled: u32,
}

impl Caps {
    /// The names of `bits` ifconfig would print, `,`-separated.
    pub fn names(bits: u32) -> String {
        abi::IFCAP_NAMES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Supported but not enabled.
    pub fn disabled(self) -> u32 {
        self.supported & !self.enabled
    }
}

/// One interface as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: IfName,
    /// `if_index`; the lagg port list is sorted by it.
    pub index: u32,
    pub kind: IfKind,
    /// Current link-level address (`IF_LLADDR`).
    pub mac: MacAddr,
    /// `SIOCGHWADDR`: the address the interface was attached with
    /// (`if_hw_addr`, copied at `ether_ifattach`); `None` where the kernel
    /// answers ENODEV.
    pub hwaddr: Option<MacAddr>,
    /// `IFF_UP`.
    pub up: bool,
    pub link: LinkState,
    pub mtu: u32,
    /// For a wlan vap, its radio (`ic_name`).
    pub parent: Option<IfName>,
    /// `SIOCGIFCAP`; `None` where the driver does not answer it.
    pub caps: Option<Caps>,
}

/// `LAGG_PORT_*` flags reported by `SIOCGLAGG` (`lagg_port2req`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortFlags {
    /// `LAGG_PORT_MASTER`: the port is `sc_primary`.
    pub master: bool,
    /// `LAGG_PORT_ACTIVE`: the port `lagg_link_active(sc, sc_primary)`
    /// returns, i.e. the one carrying traffic now.
    pub active: bool,
}

impl PortFlags {
    pub const MASTER: u32 = abi::LAGG_PORT_MASTER;
    pub const ACTIVE: u32 = abi::LAGG_PORT_ACTIVE;

    pub fn from_raw(v: u32) -> PortFlags {
        PortFlags { master: v & Self::MASTER != 0, active: v & Self::ACTIVE != 0 }
    }

    pub fn to_raw(self) -> u32 {
        (if self.master { Self::MASTER } else { 0 }) | (if self.active { Self::ACTIVE } else { 0 })
    }
}

/// A lagg member as listed by `SIOCGLAGG`, in kernel list order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaggPort {
    pub name: IfName,
    pub flags: PortFlags,
}

/// What `SIOCGLAGG` reports for one lagg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaggStatus {
    pub proto: LaggProto,
    /// In kernel list order (ascending `if_index`, `lagg_port_create`).
    pub ports: Vec<LaggPort>,
}

impl LaggStatus {
    pub fn primary(&self) -> Option<&IfName> {
        self.ports.iter().find(|p| p.flags.master).map(|p| &p.name)
    }

    pub fn active(&self) -> Option<&IfName> {
        self.ports.iter().find(|p| p.flags.active).map(|p| &p.name)
    }

    pub fn has_port(&self, name: &IfName) -> bool {
        self.ports.iter().any(|p| &p.name == name)
    }
}

/// What the kernel says about the if_lagg module: whether it is there
/// (`modfind("if_lagg")`, which also finds a lagg compiled into the
/// kernel) and, if not, what decides whether kldload(2) could load it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaggModule {
    pub loaded: bool,
    /// `kern.securelevel`: above 0, kldload(2) fails with EPERM
    /// (`securelevel_gt` in `kern_kldload`, `sys/kern/kern_linker.c`).
    pub securelevel: i32,
    /// `kern.module_path`, `;`-separated, as the linker searches it.
    pub module_path: String,
    /// The `if_lagg.ko` found in one of those directories, if any.
    pub module_file: Option<String>,
}

impl LaggModule {
    /// Why kldload(2) of if_lagg would fail, or `None` if it is loaded or
    /// loadable.
    pub fn unloadable(&self) -> Option<String> {
        if self.loaded {
            None
        } else if self.securelevel > 0 {
            Some(format!("kern.securelevel is {}, so kldload fails (EPERM)", self.securelevel))
        } else if self.module_file.is_none() {
            Some(format!("no if_lagg.ko in kern.module_path ({})", self.module_path))
        } else {
            None
        }
    }
}

/// What wpa_supplicant says its own address for a vap is: the address it
/// read when it started (or at its last userland down→up of the vap) and
/// uses in the 4-way handshake, which fails unless it equals the vap's
/// on-air address. How the real backend tells the three apart, in detail:
/// `sys::wpa_ctrl::WpaCtrl::own_address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WpaAddress {
    /// Its control interface, `/var/run/wpa_supplicant/IF`, answered
    /// `STATUS` within the bound (200 ms) with an `address=` line: this
    /// address.
    Known(MacAddr),
    /// No wpa_supplicant runs for the vap: its pidfile
    /// `/var/run/wpa_supplicant/IF.pid` (rc.d/wpa_supplicant's `-P`) is
    /// absent or names a dead process, and no control socket takes a
    /// request (none there, or a stale one that refuses).
    NotRunning,
    /// Something runs (a live pidfile, or a socket that takes the request)
    /// but did not say: no control socket (wpa_supplicant.conf has no
    /// `ctrl_interface`, or another directory), no answer within the
    /// bound, an answer without an address, or lagghook could not set up
    /// its own end of the socket.
    Unknown,
}

/// Everything the planner needs to know about the kernel at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub interfaces: BTreeMap<IfName, Interface>,
    /// `SIOCGLAGG` of every configured lagg that exists.
    pub laggs: BTreeMap<IfName, LaggStatus>,
    /// `net.link.lagg.failover_rx_all`; `None` when if_lagg is not loaded
    /// (the sysctl does not exist until `lagg_modevent` ran).
    pub failover_rx_all: Option<bool>,
    /// wpa_supplicant's own address for every configured port that exists
    /// and is a vap (and for no other interface).
    pub wpa: BTreeMap<IfName, WpaAddress>,
}

impl Snapshot {
    pub fn interface(&self, name: &IfName) -> Option<&Interface> {
        self.interfaces.get(name)
    }

    /// The lagg that has `port` as a member, if any.
    pub fn lagg_of(&self, port: &IfName) -> Option<&IfName> {
        self.laggs.iter().find(|(_, s)| s.has_port(port)).map(|(n, _)| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifname_limits_follow_ifnamsiz() {
        assert!(IfName::new("wlan0").is_ok());
        assert!(IfName::new("abcdefghijklmno").is_ok());
        assert_eq!(IfName::new("abcdefghijklmnop"), Err(IfNameError::TooLong(16)));
        assert_eq!(IfName::new(""), Err(IfNameError::Empty));
        assert_eq!(IfName::new("em0;rm"), Err(IfNameError::BadChar(';')));
        assert_eq!(IfName::new("0em"), Err(IfNameError::BadChar('0')));
        assert_eq!(IfName::new("em\0"), Err(IfNameError::BadChar('\0')));
    }

    #[test]
    fn ifname_unit_is_trailing_number() {
        assert_eq!(IfName::new("wlan12").map(|n| n.unit()), Ok(Some(12)));
        assert_eq!(IfName::new("lo").map(|n| n.unit()), Ok(None));
    }

    #[test]
    fn mac_round_trips_and_rejects_garbage() {
        let m: MacAddr = "00:11:22:AA:bb:05".parse().unwrap();
        assert_eq!(m.to_string(), "00:11:22:aa:bb:05");
        assert_eq!("00-11-22-33-44-55".parse::<MacAddr>().unwrap().0[5], 0x55);
        for bad in [
            "",
            "00:11:22:33:44",
            "00:11:22:33:44:55:66",
            "00:11:22:33:44:5g",
            "000:1:2:3:4:5",
            "0:11:22:AA:bb:5",
            "+0:+1:+2:+3:+4:+5",
            "00:11:22-33-44-55",
            "00:11:22:33:44:55:",
            "éé:11:22:33:44:55",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn names_and_macs_in_files_are_checked_on_the_way_in() {
        #[derive(Debug, Serialize, Deserialize)]
        struct Row {
            name: IfName,
            mac: MacAddr,
        }
        let row: Row = toml::from_str("name = \"em0\"\nmac = \"00:11:22:AA:bb:05\"").unwrap();
        assert_eq!(toml::to_string(&row).unwrap(), "name = \"em0\"\nmac = \"00:11:22:aa:bb:05\"\n");
        let err = toml::from_str::<Row>("name = \"em0;x\"\nmac = \"00:11:22:33:44:55\"");
        assert!(err.unwrap_err().to_string().contains("';'"));
        assert!(toml::from_str::<Row>("name = \"em0\"\nmac = \"00:11\"").is_err());
    }

    #[test]
    fn proto_raw_values_match_if_lagg_h() {
        assert_eq!(LaggProto::from_raw(2), LaggProto::Failover);
        assert_eq!(LaggProto::Lacp.to_raw(), 4);
        assert_eq!("failover".parse::<LaggProto>(), Ok(LaggProto::Failover));
    }
}
