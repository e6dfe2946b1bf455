//! The Ethernet frames of the probe exchange, as bytes: the ARP requests
//! (RFC 826; unicast per RFC 4436) and the unicast Neighbor Solicitation
//! (RFC 4861 4.3, per RFC 6059) the FreeBSD backend writes to bpf(4), and
//! the ARP replies and Neighbor Advertisements it reads back. Portable and
//! pure, so it is tested on any host; `sys::freebsd`'s bpf code only moves
//! these bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::domain::layer3::ProbeFrame;
use crate::domain::model::MacAddr;

const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ARPOP_REQUEST: u16 = 1;
const ARPOP_REPLY: u16 = 2;
const IPPROTO_ICMPV6: u8 = 58;
const ND_NEIGHBOR_SOLICIT: u8 = 135;
const ND_NEIGHBOR_ADVERT: u8 = 136;
const ND_OPT_SOURCE_LINKADDR: u8 = 1;
const ND_OPT_TARGET_LINKADDR: u8 = 2;
/// The shortest Ethernet frame without its FCS; shorter ones are padded.
const ETHER_MIN_LEN: usize = 60;
const BROADCAST: MacAddr = MacAddr([0xff; 6]);

/// The frame `frame` is, sent from `from`.
pub fn encode(frame: &ProbeFrame, from: MacAddr) -> Vec<u8> {
    match *frame {
        ProbeFrame::ArpUnicast { target, to, sender } => arp_request(from, to, sender, target),
        ProbeFrame::ArpBroadcast { target, sender } => arp_request(from, BROADCAST, sender, target),
        ProbeFrame::NsUnicast { target, to, sender } => neighbor_solicit(from, to, sender, target),
    }
}

fn ethernet(dst: MacAddr, src: MacAddr, ethertype: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(ETHER_MIN_LEN + 32);
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f
}

fn arp_request(from: MacAddr, to: MacAddr, sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut f = ethernet(to, from, ETHERTYPE_ARP);
    f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    f.extend_from_slice(&0x0800u16.to_be_bytes()); // ETHERTYPE_IP
    f.extend_from_slice(&[6, 4]);
    f.extend_from_slice(&ARPOP_REQUEST.to_be_bytes());
    f.extend_from_slice(&from.0);
    f.extend_from_slice(&sender.octets());
    f.extend_from_slice(&[0; 6]); // target hardware address: unknown
    f.extend_from_slice(&target.octets());
    f.resize(ETHER_MIN_LEN, 0);
    f
}

fn neighbor_solicit(from: MacAddr, to: MacAddr, sender: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    // ICMPv6: type, code, checksum, reserved, target, source link-layer
    // address option (RFC 4861 4.3): 32 bytes.
    let mut icmp = vec![ND_NEIGHBOR_SOLICIT, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&target.octets());
    icmp.extend_from_slice(&[ND_OPT_SOURCE_LINKADDR, 1]);
    icmp.extend_from_slice(&from.0);
    let sum = icmpv6_checksum(sender, target, &icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut f = ethernet(to, from, ETHERTYPE_IPV6);
    f.extend_from_slice(&[0x60, 0, 0, 0]); // version 6, no class or flow
    f.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[IPPROTO_ICMPV6, 255]); // hop limit 255 (RFC 4861 7.1.1)
    f.extend_from_slice(&sender.octets());
    f.extend_from_slice(&target.octets());
    f.extend_from_slice(&icmp);
    f
}

/// RFC 4443 2.3: the one's complement sum over the IPv6 pseudo-header and
/// the message.
fn icmpv6_checksum(src: Ipv6Addr, dst: Ipv6Addr, msg: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(msg.len() as u32).to_be_bytes());
    add(&[0, 0, 0, IPPROTO_ICMPV6]);
    add(msg);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An answer heard: who holds `ip` (its protocol address) at `mac`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    pub ip: IpAddr,
    pub mac: MacAddr,
}

/// The answer a captured frame carries, if it is an ARP reply or a
/// Neighbor Advertisement; anything else (our own requests, which bpf
/// shows too, other traffic) is `None`. Bounds are checked on every read.
pub fn decode(frame: &[u8]) -> Option<Heard> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let src = mac_at(frame, 6)?;
    match ethertype {
        ETHERTYPE_ARP => {
            let arp = frame.get(14..42)?;
            let op = u16::from_be_bytes([arp[6], arp[7]]);
            if op != ARPOP_REPLY || arp[4] != 6 || arp[5] != 4 {
                return None;
            }
            let sha = mac_at(arp, 8)?;
            let spa = Ipv4Addr::new(arp[14], arp[15], arp[16], arp[17]);
            Some(Heard { ip: IpAddr::V4(spa), mac: sha })
        }
        ETHERTYPE_IPV6 => {
            let ip6 = frame.get(14..54)?;
            if ip6[0] >> 4 != 6 || ip6[6] != IPPROTO_ICMPV6 {
                return None;
            }
            let icmp = frame.get(54..)?;
            if icmp.first() != Some(&ND_NEIGHBOR_ADVERT) || icmp.len() < 24 {
                return None;
            }
            let mut target = [0u8; 16];
            target.copy_from_slice(&icmp[8..24]);
            // The target link-layer address option, else the frame's source.
            let mut mac = src;
            let mut opts = &icmp[24..];
            while opts.len() >= 8 {
                let len = usize::from(opts[1]) * 8;
                if len == 0 || len > opts.len() {
                    break;
                }
                if opts[0] == ND_OPT_TARGET_LINKADDR {
                    mac = mac_at(opts, 2)?;
                }
                opts = &opts[len..];
            }
            Some(Heard { ip: IpAddr::V6(Ipv6Addr::from(target)), mac })
        }
        _ => None,
    }
}

fn mac_at(bytes: &[u8], at: usize) -> Option<MacAddr> {
    let b = bytes.get(at..at + 6)?;
    let mut m = [0u8; 6];
    m.copy_from_slice(b);
    Some(MacAddr(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    /// Proves a unicast ARP request goes to the gateway's MAC, asks for
    /// its IP with ours as sender, and is padded to the Ethernet minimum.
    #[test]
    fn a_unicast_arp_request_is_addressed_to_the_gateway() {
        let f = encode(
            &ProbeFrame::ArpUnicast {
                target: "192.168.1.1".parse().unwrap(),
                to: mac("00:0d:b9:00:00:01"),
                sender: "192.168.1.100".parse().unwrap(),
            },
            mac("00:11:22:33:44:55"),
        );
        assert_eq!(f.len(), 60);
        assert_eq!(&f[..6], &[0x00, 0x0d, 0xb9, 0, 0, 1]);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1], "a request");
        assert_eq!(&f[28..32], &[192, 168, 1, 100]);
        assert_eq!(&f[38..42], &[192, 168, 1, 1]);
        assert_eq!(decode(&f), None, "our own request is no answer");
    }

    /// A reply, built as a gateway would answer, decodes to its sender.
    #[test]
    fn an_arp_reply_names_who_holds_the_address() {
        let mut f = encode(
            &ProbeFrame::ArpBroadcast {
                target: "192.168.1.1".parse().unwrap(),
                sender: "192.168.1.100".parse().unwrap(),
            },
            mac("00:0d:b9:00:00:c1"),
        );
        f[20..22].copy_from_slice(&[0, 2]);
        f[28..32].copy_from_slice(&[192, 168, 1, 1]);
        assert_eq!(
            decode(&f),
            Some(Heard { ip: "192.168.1.1".parse().unwrap(), mac: mac("00:0d:b9:00:00:c1") })
        );
        assert_eq!(decode(&f[..30]), None, "a cut frame");
    }

    /// Proves the NS checksum is RFC 4443's (a receiver's sum over the
    /// pseudo-header and message comes to 0xffff), and an NA decodes to
    /// its target and target link-layer address.
    #[test]
    fn a_neighbor_solicitation_carries_a_valid_checksum_and_an_na_decodes() {
        let (sender, target): (Ipv6Addr, Ipv6Addr) =
            ("fe80::211:22ff:fe33:4455".parse().unwrap(), "fe80::20d:b9ff:fe00:1".parse().unwrap());
        let f = encode(
            &ProbeFrame::NsUnicast { target, to: mac("00:0d:b9:00:00:01"), sender },
            mac("00:11:22:33:44:55"),
        );
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        assert_eq!(icmpv6_checksum(sender, target, &f[54..]), 0, "the sum verifies");
        let mut na = f.clone();
        na[54] = ND_NEIGHBOR_ADVERT;
        na[78] = ND_OPT_TARGET_LINKADDR;
        na[80..86].copy_from_slice(&[0, 0x0d, 0xb9, 0, 0, 1]);
        assert_eq!(
            decode(&na),
            Some(Heard { ip: IpAddr::V6(target), mac: mac("00:0d:b9:00:00:01") })
        );
    }
}
