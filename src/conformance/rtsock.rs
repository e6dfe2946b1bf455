//! Routing-socket messages as the devd events the host would have seen.
//! Inside a vnet jail the kernel raises no devd event for an interface
//! (`if_attach_internal`, `if_detach_internal` and `do_link_state_change`
//! call `devctl_notify` only `if (IS_DEFAULT_VNET(curvnet))`, `sys/net/if.c`
//! in `gmshake/freebsd-src` @ dafe137c3576ffe58793a4ae053124440950c894),
//! and /dev/devctl has one reader, devd. The same code paths tell the
//! vnet's routing sockets, so the harness reads one (`PF_ROUTE`, what
//! `route monitor` reads) and maps:
//! - RTM_IFANNOUNCE IFAN_ARRIVAL (the `ifnet_arrival_event` of
//!   `if_attach_internal`) → `ATTACH`;
//! - IFAN_DEPARTURE (`ifnet_departure_event` of `if_detach_internal`) →
//!   `DETACH`, unless an arrival of the same `if_index` follows at once:
//!   `if_rename` sends a departure under the old name and an arrival under
//!   the new, then `RENAME name=NEW` to devd;
//! - RTM_IFINFO (`rt_ifmsg`, sent by `do_link_state_change` and on every
//!   flag change) whose `ifi_link_state` differs from the last one seen for
//!   that index → `LINK_UP`, or `LINK_DOWN` for any other state, as
//!   `do_link_state_change` words it.
//!
//! What this cannot see: a link change coalesced by the taskqueue into the
//! state it started from (devd would get one event, the routing socket
//! shows no change); and an RTM_IFINFO of a flag change that already
//! carries a new link state, whose own link message then shows none, moves
//! the event earlier by one message. The harness lets each command settle
//! before the next, which makes both unlikely; the report says so.

use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};

use crate::abi::{self, if_announcemsghdr, if_data, if_msghdr};
use crate::domain::event::{DevdEvent, IfnetEventKind};
use crate::domain::model::{Interface, LinkState};

/// One routing message, as far as the harness cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtMsg {
    /// RTM_IFINFO.
    IfInfo { index: u16, link: LinkState },
    /// RTM_IFANNOUNCE.
    Announce { index: u16, name: String, arrival: bool },
    /// Anything else (addresses, routes, 802.11).
    Other,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Parses one message as read(2) returns it from a routing socket (one
/// message per read); `None` for a short or foreign-version one.
pub fn parse(b: &[u8]) -> Option<RtMsg> {
    let len = usize::from(u16_at(b, offset_of!(if_msghdr, ifm_msglen))?);
    let b = b.get(..len)?;
    if *b.get(offset_of!(if_msghdr, ifm_version))? != abi::RTM_VERSION {
        return None;
    }
    match *b.get(offset_of!(if_msghdr, ifm_type))? {
        abi::RTM_IFINFO => {
            if b.len() < size_of::<if_msghdr>() {
                return None;
            }
            let index = u16_at(b, offset_of!(if_msghdr, ifm_index))?;
            let raw =
                *b.get(offset_of!(if_msghdr, ifm_data) + offset_of!(if_data, ifi_link_state))?;
            let link = match raw {
                abi::LINK_STATE_UP => LinkState::Up,
                abi::LINK_STATE_DOWN => LinkState::Down,
                _ => LinkState::Unknown,
            };
            Some(RtMsg::IfInfo { index, link })
        }
        abi::RTM_IFANNOUNCE => {
            if b.len() < size_of::<if_announcemsghdr>() {
                return None;
            }
            let index = u16_at(b, offset_of!(if_announcemsghdr, ifan_index))?;
            let at = offset_of!(if_announcemsghdr, ifan_name);
            let raw = b.get(at..at + abi::IFNAMSIZ)?;
            let name = String::from_utf8_lossy(abi::ifname_str(raw.try_into().ok()?)).into_owned();
            let what = u16_at(b, offset_of!(if_announcemsghdr, ifan_what))?;
            Some(RtMsg::Announce { index, name, arrival: what == abi::IFAN_ARRIVAL })
        }
        _ => Some(RtMsg::Other),
    }
}

/// Turns routing messages into devd events (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct DevdMapper {
    names: BTreeMap<u16, String>,
    links: BTreeMap<u16, LinkState>,
    departed: Option<(u16, String)>,
}

impl DevdMapper {
    /// What is known before the messages: each interface's index, name and
    /// link state, from the observation the harness made.
    pub fn seed(&mut self, interfaces: &[Interface]) {
        self.names.clear();
        self.links.clear();
        for i in interfaces {
            let Ok(index) = u16::try_from(i.index) else { continue };
            self.names.insert(index, i.name.to_string());
            self.links.insert(index, i.link);
        }
    }

    fn event(name: &str, kind: IfnetEventKind) -> DevdEvent {
        DevdEvent::new("IFNET", name, kind.as_str())
    }

    /// The events one message means (a departure waits for the next).
    pub fn feed(&mut self, msg: &RtMsg) -> Vec<DevdEvent> {
        let mut out = Vec::new();
        if let Some((index, old)) = self.departed.take() {
            match msg {
                RtMsg::Announce { index: i, name, arrival: true } if *i == index => {
                    let mut ev = Self::event(&old, IfnetEventKind::Rename);
                    ev.data.push(("name".to_owned(), name.clone()));
                    out.push(ev);
                    self.names.insert(index, name.clone());
                    return out;
                }
                _ => {
                    out.push(Self::event(&old, IfnetEventKind::Detach));
                    self.names.remove(&index);
                    self.links.remove(&index);
                }
            }
        }
        match msg {
            RtMsg::Announce { index, name, arrival: true } => {
                out.push(Self::event(name, IfnetEventKind::Attach));
                self.names.insert(*index, name.clone());
                self.links.insert(*index, LinkState::Unknown);
            }
            RtMsg::Announce { index, name, arrival: false } => {
                self.departed = Some((*index, name.clone()));
            }
            RtMsg::IfInfo { index, link } => {
                let before = self.links.insert(*index, *link);
                if before.is_some_and(|b| b != *link) {
                    if let Some(name) = self.names.get(index) {
                        let kind = if *link == LinkState::Up {
                            IfnetEventKind::LinkUp
                        } else {
                            IfnetEventKind::LinkDown
                        };
                        out.push(Self::event(name, kind));
                    }
                }
            }
            RtMsg::Other => {}
        }
        out
    }

    /// The end of a batch: a departure no arrival followed was a DETACH.
    pub fn flush(&mut self) -> Vec<DevdEvent> {
        match self.departed.take() {
            Some((index, old)) => {
                self.names.remove(&index);
                self.links.remove(&index);
                vec![Self::event(&old, IfnetEventKind::Detach)]
            }
            None => Vec::new(),
        }
    }
}

/// Builds messages as the kernel lays them out, for the tests here and in
/// `tests/conformance.rs`.
pub mod build {
    use super::*;

    /// An RTM_IFINFO for `index` with link state `link` (`LINK_STATE_*`).
    /// A message of `size` bytes: length, version, type and index set (the
    /// four lead the same way in both headers).
    fn message(size: usize, kind: u8, index: u16) -> Vec<u8> {
        let mut b = vec![0u8; size];
        let len = u16::try_from(size).unwrap_or(u16::MAX);
        b[..2].copy_from_slice(&len.to_ne_bytes());
        b[offset_of!(if_msghdr, ifm_version)] = abi::RTM_VERSION;
        b[offset_of!(if_msghdr, ifm_type)] = kind;
        let at = if kind == abi::RTM_IFINFO {
            offset_of!(if_msghdr, ifm_index)
        } else {
            offset_of!(if_announcemsghdr, ifan_index)
        };
        b[at..at + 2].copy_from_slice(&index.to_ne_bytes());
        b
    }

    pub fn ifinfo(index: u16, link: u8) -> Vec<u8> {
        let mut b = message(size_of::<if_msghdr>(), abi::RTM_IFINFO, index);
        b[offset_of!(if_msghdr, ifm_data) + offset_of!(if_data, ifi_link_state)] = link;
        b
    }

    /// An RTM_IFANNOUNCE of `name` at `index`.
    pub fn announce(index: u16, name: &str, arrival: bool) -> Vec<u8> {
        let mut b = message(size_of::<if_announcemsghdr>(), abi::RTM_IFANNOUNCE, index);
        let at = offset_of!(if_announcemsghdr, ifan_name);
        let n = name.len().min(abi::IFNAMSIZ - 1);
        b[at..at + n].copy_from_slice(&name.as_bytes()[..n]);
        let what = if arrival { abi::IFAN_ARRIVAL } else { abi::IFAN_DEPARTURE };
        let at = offset_of!(if_announcemsghdr, ifan_what);
        b[at..at + 2].copy_from_slice(&what.to_ne_bytes());
        b
    }
}

/// Reads a batch of raw messages into devd events.
pub fn events(mapper: &mut DevdMapper, raw: &[Vec<u8>]) -> Vec<DevdEvent> {
    let mut out = Vec::new();
    for m in raw {
        if let Some(msg) = parse(m) {
            out.extend(mapper.feed(&msg));
        }
    }
    out.extend(mapper.flush());
    out
}

#[cfg(test)]
mod tests {
    use super::build::{announce, ifinfo};
    use super::*;

    fn ev(s: &str, kind: &str) -> DevdEvent {
        DevdEvent::new("IFNET", s, kind)
    }

    /// Proves the mapping of a tap's life as the kernel announces it:
    /// arrival, a rename (departure and arrival of one index), a link up, a
    /// flag change without a link change, a link down, a departure.
    #[test]
    fn routing_messages_become_the_devd_events_of_the_host() {
        let mut m = DevdMapper::default();
        let raw = vec![
            announce(3, "tap7", true),
            announce(3, "tap7", false),
            announce(3, "lhc0", true),
            ifinfo(3, abi::LINK_STATE_UP),
            ifinfo(3, abi::LINK_STATE_UP),
            ifinfo(3, abi::LINK_STATE_DOWN),
            announce(3, "lhc0", false),
            vec![0u8; 3],
        ];
        let mut rename = ev("tap7", "RENAME");
        rename.data.push(("name".into(), "lhc0".into()));
        assert_eq!(
            events(&mut m, &raw),
            vec![
                ev("tap7", "ATTACH"),
                rename,
                ev("lhc0", "LINK_UP"),
                ev("lhc0", "LINK_DOWN"),
                ev("lhc0", "DETACH")
            ]
        );
        // A departure then an arrival at another index is no rename.
        let raw =
            vec![announce(4, "lhc1", true), announce(4, "lhc1", false), announce(5, "lhc2", true)];
        assert_eq!(
            events(&mut m, &raw),
            vec![ev("lhc1", "ATTACH"), ev("lhc1", "DETACH"), ev("lhc2", "ATTACH")]
        );
        // A wrong version is not read.
        let mut old = ifinfo(5, abi::LINK_STATE_UP);
        old[offset_of!(if_msghdr, ifm_version)] = 4;
        assert_eq!(parse(&old), None);
    }
}
