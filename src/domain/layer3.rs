//! Layer-3 values the kernel reports and takes for the network check
//! (issue 20): a lagg's addresses with their prefix lengths, default
//! routes, neighbour entries, the probe exchange and its replies, the
//! SSID, wpa_supplicant's state and the DHCP client. Plain data, no OS
//! calls and no policy: `attach` decides, `kernel` carries.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::domain::model::{IfName, MacAddr};

/// An address of an interface with its prefix length, as getifaddrs(3)
/// reports it (`ifa_addr` and `ifa_netmask`, the mask turned into a
/// length). Displays as `192.168.1.100/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl IfAddr {
    pub fn v4(addr: Ipv4Addr, prefix_len: u8) -> IfAddr {
        IfAddr { addr: IpAddr::V4(addr), prefix_len }
    }

    pub fn v6(addr: Ipv6Addr, prefix_len: u8) -> IfAddr {
        IfAddr { addr: IpAddr::V6(addr), prefix_len }
    }

    /// The IPv4 address, if this is one.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }
    }

    /// The IPv6 address, if this is one.
    pub fn ipv6(&self) -> Option<Ipv6Addr> {
        match self.addr {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => None,
        }
    }

    /// fe80::/10: an IPv6 link-local address, which belongs to the link,
    /// not to a network, and is never removed.
    pub fn is_link_local(&self) -> bool {
        self.ipv6().is_some_and(|a| a.segments()[0] & 0xffc0 == 0xfe80)
    }

    /// A global address: any IPv4 address, an IPv6 one that is not
    /// link-local (what a network hands out and a move invalidates).
    pub fn is_global(&self) -> bool {
        !self.is_link_local()
    }

    /// An address a network gave: global, and not in 0.0.0.0/8, the
    /// placeholder dhclient-script's PREINIT sets while it has none (14's
    /// `inet alias 0.0.0.0 netmask 255.0.0.0`).
    pub fn is_assigned(&self) -> bool {
        self.is_global() && self.ipv4().is_none_or(|a| a.octets()[0] != 0)
    }

    /// The network this address is in (host bits cleared), as an
    /// `IfAddr` with the same prefix length.
    pub fn network(&self) -> IfAddr {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let len = u32::from(self.prefix_len.min(32));
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let len = u32::from(self.prefix_len.min(128));
                let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        IfAddr { addr, prefix_len: self.prefix_len }
    }

    /// Whether `other` lies in this address's prefix.
    pub fn contains(&self, other: IpAddr) -> bool {
        IfAddr { addr: other, prefix_len: self.prefix_len }.network() == self.network()
    }
}

impl fmt::Display for IfAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// The address family of a route or a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }
}

/// A default route (0.0.0.0/0 or ::/0) as `RTM_GET` reports it: its
/// gateway and the interface it leaves by. An IPv6 default router is a
/// link-local address, meaningful only with its interface.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DefaultRoute {
    pub gateway: IpAddr,
    pub ifname: IfName,
}

impl DefaultRoute {
    pub fn family(&self) -> Family {
        Family::of(self.gateway)
    }
}

/// A neighbour-table entry (ARP for IPv4, NDP for IPv6) on one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Neighbour {
    pub ip: IpAddr,
    /// `None`: the entry exists but is unresolved (INCOMPLETE).
    pub mac: Option<MacAddr>,
}

/// One frame of the probe exchange, sent by the backend on the lagg (so
/// by its active port: lagg's `if_transmit` picks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbeFrame {
    /// RFC 4436: an ARP request for `target` sent to the Ethernet address
    /// `to`, not broadcast: only that station can hear it, so an answer
    /// proves it is on the segment. `sender` is the sender protocol
    /// address (the address the laptop holds, or held, on that network:
    /// routers may ignore ARP from an off-subnet sender).
    ArpUnicast { target: Ipv4Addr, to: MacAddr, sender: Ipv4Addr },
    /// An ARP request for `target` to ff:ff:ff:ff:ff:ff: whoever holds the
    /// address on this segment answers, with its own MAC.
    ArpBroadcast { target: Ipv4Addr, sender: Ipv4Addr },
    /// RFC 6059: a Neighbor Solicitation for `target` (a router's
    /// link-local address) sent to the Ethernet address `to` rather than
    /// to the solicited-node multicast group, from the lagg's link-local
    /// address `sender`.
    NsUnicast { target: Ipv6Addr, to: MacAddr, sender: Ipv6Addr },
}

impl ProbeFrame {
    /// The protocol address the frame asks about.
    pub fn target(&self) -> IpAddr {
        match *self {
            ProbeFrame::ArpUnicast { target, .. } | ProbeFrame::ArpBroadcast { target, .. } => {
                IpAddr::V4(target)
            }
            ProbeFrame::NsUnicast { target, .. } => IpAddr::V6(target),
        }
    }
}

impl fmt::Display for ProbeFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeFrame::ArpUnicast { target, to, .. } => write!(f, "arp who-has {target} to {to}"),
            ProbeFrame::ArpBroadcast { target, .. } => write!(f, "arp who-has {target} broadcast"),
            ProbeFrame::NsUnicast { target, to, .. } => write!(f, "ns {target} to {to}"),
        }
    }
}

/// One frame of an exchange and when it leaves, in ms after the exchange
/// began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSend {
    pub at_ms: u32,
    pub frame: ProbeFrame,
}

/// The whole probe exchange, one kernel request: the backend sends each
/// frame at its time, listens for ARP replies and Neighbor
/// Advertisements, and ends at the first reply to any frame (the frames
/// still due are not sent) or at `budget_ms`, whichever comes first. The
/// schedule is policy (`attach::exchange`); the backend only keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeExchange {
    /// The lagg's own MAC: the frames' Ethernet source and the ARP sender
    /// hardware address.
    pub from: MacAddr,
    /// In time order.
    pub sends: Vec<ProbeSend>,
    /// The hard bound on the whole exchange.
    pub budget_ms: u32,
}

/// A reply heard during an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReply {
    /// Index into [`ProbeExchange::sends`] of the frame answered (the
    /// latest one sent for the same target, when several were).
    pub send: usize,
    /// The replier's protocol address (the ARP sender IP, the NA target).
    pub ip: IpAddr,
    /// The replier's Ethernet address (ARP sender hardware address, NA
    /// target link-layer address option, else the frame's source).
    pub mac: MacAddr,
    /// ms after the exchange began.
    pub at_ms: u32,
}

/// What an exchange did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Replies heard, in arrival order (zero or more: several can arrive
    /// in the same instant).
    pub replies: Vec<ProbeReply>,
    /// Frames actually sent.
    pub sent: u32,
    /// How long the exchange took, ms (the first reply's time, else the
    /// budget).
    pub elapsed_ms: u32,
    /// The backend could not use bpf(4) and fell back on the kernel's own
    /// ARP (broadcast only, `ArpUnicast` frames sent as broadcasts, no NS);
    /// `attach` treats an answer then as a broadcast one.
    pub fallback: bool,
    /// A warning the backend asks to be logged: bpf(4) refused, said once
    /// per boot (the first fallback since boot), naming the errno.
    #[serde(default)]
    pub warning: Option<String>,
}

/// An 802.11 SSID: up to 32 bytes, not necessarily UTF-8
/// (`IEEE80211_NWID_LEN`). Kept as bytes; shown escaped, and written to
/// files in the same escaped form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ssid(pub Vec<u8>);

impl TryFrom<String> for Ssid {
    type Error = String;

    /// The escaped form [`Ssid`]'s `Display` writes.
    fn try_from(s: String) -> Result<Ssid, String> {
        let bad = || format!("{s:?} is not an escaped SSID");
        let mut out = Vec::new();
        let mut rest = s.as_bytes();
        while let Some((&b, tail)) = rest.split_first() {
            if b == b'\\' {
                let hex = tail.get(1..3).filter(|_| tail.first() == Some(&b'x')).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                rest = &tail[3..];
            } else {
                out.push(b);
                rest = tail;
            }
        }
        Ssid::new(&out).ok_or_else(bad)
    }
}

impl From<Ssid> for String {
    fn from(s: Ssid) -> String {
        s.to_string()
    }
}

impl Ssid {
    /// `IEEE80211_NWID_LEN` in `sys/net80211/ieee80211.h`.
    pub const MAX_LEN: usize = 32;

    /// `None` for an empty or over-long SSID.
    pub fn new(bytes: &[u8]) -> Option<Ssid> {
        (!bytes.is_empty() && bytes.len() <= Ssid::MAX_LEN).then(|| Ssid(bytes.to_vec()))
    }
}

impl fmt::Display for Ssid {
    /// Printable ASCII as is, anything else as `\xNN`, so a hostile SSID
    /// cannot forge a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if (0x20..0x7f).contains(&b) && b != b'\\' && b != b'"' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// wpa_supplicant's `wpa_state` for a vap (`STATUS` on its control
/// socket): a probe sent before the 4-way handshake completes is dropped
/// (`sta_input` drops data frames until the port is authorized), so the
/// helper waits for `COMPLETED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WpaState {
    /// `wpa_state=COMPLETED`: keys installed, data flows.
    Completed,
    /// Any other state (`ASSOCIATED`, `4WAY_HANDSHAKE`, `SCANNING`, …).
    Other(String),
    /// No wpa_supplicant for the vap (an open network): nothing to wait
    /// for.
    NotRunning,
    /// Running but silent within the bound: treated as not completed.
    Unknown,
}

/// The DHCP client that keeps a lagg's IPv4 address (configuration
/// `network.dhcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DhcpClient {
    /// Base's /sbin/dhclient, as rc.d/dhclient runs it.
    #[default]
    Dhclient,
    /// dhcpcd from ports (/usr/local/sbin/dhcpcd).
    Dhcpcd,
}

impl DhcpClient {
    /// The program's path (fixed: never from the configuration).
    pub fn program(self) -> &'static str {
        match self {
            DhcpClient::Dhclient => "/sbin/dhclient",
            DhcpClient::Dhcpcd => "/usr/local/sbin/dhcpcd",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DhcpClient::Dhclient => "dhclient",
            DhcpClient::Dhcpcd => "dhcpcd",
        }
    }
}

impl fmt::Display for DhcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The lease file a started DHCP client reads first and keeps: one per
/// lagg and network, under `/var/db/lagghook/leases/`, so a return to a
/// known network starts INIT-REBOOT with that network's own lease and an
/// unknown one starts from an empty file (DISCOVER at once). A file name,
/// not a path: the backend puts it in its directory, so it can never name
/// another file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LeaseFile(String);

impl LeaseFile {
    /// `dhclient.<lagg>.<network key>`: letters, digits, `.`, `_`, `-`.
    pub fn new(lagg: &IfName, network: &str) -> Option<LeaseFile> {
        let ok = !network.is_empty()
            && network.len() <= 64
            && network
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| LeaseFile(format!("dhclient.{lagg}.{network}")))
    }

    pub fn name(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeaseFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The lease file a DHCP client is started with, and whether it must
/// start empty: an unknown network's file is emptied first, so dhclient
/// goes straight to DISCOVER instead of asking for a lease no server
/// there knows (RFC 2131 4.3.2: a server with no record of the client
/// stays silent, which costs dhclient's whole 10 s `reboot` timeout).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Lease {
    pub file: LeaseFile,
    pub fresh: bool,
}

impl fmt::Display for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.file, if self.fresh { " (emptied)" } else { "" })
    }
}

/// A running DHCP client, from its pidfile: rc.d/dhclient's
/// `/var/run/dhclient/dhclient.IF.pid` (dhclient's default, `main` in
/// `sbin/dhclient/dhclient.c`), dhcpcd's `/var/run/dhcpcd/IF.pid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpProcess {
    pub client: DhcpClient,
    pub pid: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_contain_their_hosts_and_not_others() {
        let a = IfAddr::v4(Ipv4Addr::new(192, 168, 1, 100), 24);
        assert_eq!(a.to_string(), "192.168.1.100/24");
        assert_eq!(a.network().to_string(), "192.168.1.0/24");
        assert!(a.contains("192.168.1.1".parse().unwrap()));
        assert!(!a.contains("192.168.2.1".parse().unwrap()));
        let b = IfAddr::v6("2001:db8:1::42".parse().unwrap(), 64);
        assert!(b.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!b.contains("2001:db8:2::1".parse().unwrap()));
        assert!(b.is_global());
        assert!(IfAddr::v6("fe80::1".parse().unwrap(), 64).is_link_local());
        assert_eq!(IfAddr::v4(Ipv4Addr::new(10, 1, 2, 3), 0).network().to_string(), "0.0.0.0/0");
    }

    #[test]
    fn a_hostile_ssid_cannot_forge_a_log_line() {
        let s = Ssid::new(b"cafe\n\"x\"\\").unwrap();
        assert_eq!(s.to_string(), "cafe\\x0a\\x22x\\x22\\x5c");
        assert!(Ssid::new(b"").is_none());
        assert!(Ssid::new(&[b'a'; 33]).is_none());
        assert_eq!(Ssid::try_from(s.to_string()), Ok(s));
        assert!(Ssid::try_from("a\\x4".to_owned()).is_err());
    }

    #[test]
    fn a_lease_file_name_cannot_leave_its_directory() {
        let lagg = IfName::new("lagg0").unwrap();
        assert_eq!(
            LeaseFile::new(&lagg, "000db9000001").unwrap().name(),
            "dhclient.lagg0.000db9000001"
        );
        assert!(LeaseFile::new(&lagg, "../etc").is_none());
        assert!(LeaseFile::new(&lagg, "a/b").is_none());
        assert!(LeaseFile::new(&lagg, "").is_none());
    }
}
