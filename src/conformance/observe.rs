//! What userland can observe after a step, in a form two worlds can be
//! compared in: each interface the sequence named (kind, IFF_UP, link
//! state, MTU, capabilities, its address and the one it was attached
//! with), each lagg's protocol and ports in the kernel's list order with
//! their MASTER/ACTIVE flags, `net.link.lagg.failover_rx_all`, and the
//! devd events of the step. Everything is read through the [`Kernel`]
//! trait, so both worlds are observed by the same code (lagghook's own
//! backend on FreeBSD: getifaddrs, SIOCGHWADDR, SIOCGIFCAP, SIOCGLAGG).
//!
//! Two worlds cannot agree on addresses a kernel makes up (`ether_gen_addr`
//! hashes the host's UUID, epair hashes its host id), nor on the unit a
//! cloner picks (tap units are global to the host). So addresses are shown
//! by what they are, the same way in both worlds ([`MacBook`]): the address
//! an interface was attached with is `hw:NAME` (`hw:NAME#2` for a second
//! one under that name), an address a step wrote is itself, the zero
//! address is itself; and the names a cloner picked during the step are
//! shown as `tap?`, `epair?a`, `epair?b`, `wlan?`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::domain::event::DevdEvent;
use crate::domain::model::{Caps, IfKind, IfName, LinkState, MacAddr};
use crate::kernel::{Kernel, KernelError};

use super::step::Outcome;

/// How addresses are named in a report (see the module doc). One per world
/// and sequence, filled in the same order in both.
#[derive(Debug, Clone, Default)]
pub struct MacBook {
    labels: BTreeMap<MacAddr, String>,
    used: BTreeSet<String>,
    others: usize,
}

impl MacBook {
    /// An address a step writes: shown as itself.
    pub fn literal(&mut self, mac: MacAddr) {
        self.labels.entry(mac).or_insert_with(|| mac.to_string());
    }

    /// The attach-time address of `name`: `hw:NAME`, or the next free
    /// `hw:NAME#N` for a different one under the same name.
    fn hardware(&mut self, name: &IfName, mac: MacAddr) {
        if mac == MacAddr::ZERO || self.labels.contains_key(&mac) {
            return;
        }
        let base = format!("hw:{name}");
        let label = (1..)
            .map(|n| if n == 1 { base.clone() } else { format!("{base}#{n}") })
            .find(|l| !self.used.contains(l))
            .unwrap_or(base);
        self.used.insert(label.clone());
        self.labels.insert(mac, label);
    }

    /// The label of any address.
    pub fn label(&mut self, mac: MacAddr) -> String {
        if mac == MacAddr::ZERO {
            return mac.to_string();
        }
        if let Some(l) = self.labels.get(&mac) {
            return l.clone();
        }
        self.others += 1;
        let l = format!("other#{}", self.others);
        self.labels.insert(mac, l.clone());
        l
    }
}

/// One interface as userland sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfObs {
    pub name: IfName,
    pub kind: IfKind,
    pub up: bool,
    pub link: LinkState,
    pub mtu: u32,
    /// `IF_LLADDR`, labelled.
    pub mac: String,
    /// SIOCGHWADDR, labelled.
    pub hwaddr: Option<String>,
    pub caps: Option<Caps>,
}

/// One port in SIOCGLAGG's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortObs {
    pub name: IfName,
    pub master: bool,
    pub active: bool,
}

/// One lagg as SIOCGLAGG reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaggObs {
    pub name: IfName,
    pub proto: String,
    pub ports: Vec<PortObs>,
}

/// One devd event, names as the report shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventObs {
    /// `$subsystem`.
    pub subject: String,
    /// `$type`.
    pub kind: String,
    /// RENAME's `name=`.
    pub to: Option<String>,
}

impl EventObs {
    /// Whether `do_link_state_change` sends it, from the `taskqueue_swi`
    /// thread, rather than the thread that attached, detached or renamed.
    pub fn is_link(&self) -> bool {
        self.kind == "LINK_UP" || self.kind == "LINK_DOWN"
    }
}

impl fmt::Display for EventObs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.subject, self.kind)?;
        if let Some(to) = &self.to {
            write!(f, " name={to}")?;
        }
        Ok(())
    }
}

/// Everything compared after one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub outcome: Outcome,
    /// In name order.
    pub interfaces: Vec<IfObs>,
    /// In name order.
    pub laggs: Vec<LaggObs>,
    pub failover_rx_all: Option<bool>,
    pub events: Vec<EventObs>,
}

/// Reads what `scope` names from `kernel` after a step whose outcome was
/// `outcome` and whose devd events were `events`; `transient` maps the
/// names a cloner picked during the step to their placeholders.
pub fn observe(
    kernel: &mut dyn Kernel,
    scope: &BTreeSet<IfName>,
    book: &mut MacBook,
    outcome: Outcome,
    events: &[DevdEvent],
    transient: &BTreeMap<String, String>,
) -> Result<Observation, KernelError> {
    let mut listed: Vec<_> =
        kernel.interfaces()?.into_iter().filter(|i| scope.contains(&i.name)).collect();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    for i in &listed {
        if let Some(hw) = i.hwaddr {
            book.hardware(&i.name, hw);
        }
    }
    let mut interfaces = Vec::new();
    let mut laggs = Vec::new();
    for i in &listed {
        interfaces.push(IfObs {
            name: i.name.clone(),
            kind: i.kind,
            up: i.up,
            link: i.link,
            mtu: i.mtu,
            mac: book.label(i.mac),
            hwaddr: i.hwaddr.map(|m| book.label(m)),
            caps: i.caps,
        });
        if i.kind == IfKind::Lagg {
            let status = kernel.lagg_status(&i.name)?;
            laggs.push(LaggObs {
                name: i.name.clone(),
                proto: status.proto.to_string(),
                ports: status
                    .ports
                    .iter()
                    .map(|p| PortObs {
                        name: p.name.clone(),
                        master: p.flags.master,
                        active: p.flags.active,
                    })
                    .collect(),
            });
        }
    }
    let failover_rx_all = kernel.failover_rx_all()?;
    let shown = |s: &str| transient.get(s).cloned().unwrap_or_else(|| s.to_owned());
    let events = events
        .iter()
        .filter(|e| e.system == "IFNET")
        .filter(|e| {
            transient.contains_key(&e.subsystem)
                || IfName::new(&e.subsystem).is_ok_and(|n| scope.contains(&n))
        })
        .map(|e| EventObs {
            subject: shown(&e.subsystem),
            kind: e.kind.clone(),
            to: e.get("name").map(shown),
        })
        .collect();
    Ok(Observation { outcome, interfaces, laggs, failover_rx_all, events })
}

/// One interface on one line, as the report prints it.
pub fn render_interface(i: &IfObs) -> String {
    let caps = match i.caps {
        Some(c) => format!(
            " caps={}/{}",
            or_none(&Caps::names(c.enabled)),
            or_none(&Caps::names(c.supported))
        ),
        None => String::new(),
    };
    let hw = match &i.hwaddr {
        Some(h) if *h != i.mac => format!(" hwaddr {h}"),
        _ => String::new(),
    };
    format!(
        "{} {} {} link {} mtu {} ether {}{hw}{caps}",
        i.name,
        i.kind,
        if i.up { "UP" } else { "down" },
        i.link,
        i.mtu,
        i.mac
    )
}

/// A lagg's ports on one line, as `ifconfig` lists them.
pub fn render_lagg(l: &LaggObs) -> String {
    let ports: Vec<String> = l
        .ports
        .iter()
        .map(|p| {
            let flags: Vec<&str> = [(p.master, "MASTER"), (p.active, "ACTIVE")]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| *n)
                .collect();
            format!("{}<{}>", p.name, flags.join(","))
        })
        .collect();
    format!("{} laggproto {} laggports [{}]", l.name, l.proto, ports.join(" "))
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// The events on one line.
pub fn render_events(events: &[EventObs]) -> String {
    if events.is_empty() {
        return "none".to_owned();
    }
    events.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    /// Proves the labels depend on what an address is, not its value: two
    /// books fed different factory addresses in the same roles agree.
    #[test]
    fn labels_name_the_role_of_an_address() {
        let n = |s: &str| IfName::new(s).unwrap();
        let mut a = MacBook::default();
        let mut b = MacBook::default();
        for (book, x, y) in [
            (&mut a, "58:9c:fc:00:00:01", "58:9c:fc:00:00:02"),
            (&mut b, "58:9c:fc:aa:bb:01", "58:9c:fc:aa:bb:02"),
        ] {
            book.literal(mac("02:00:5e:10:00:09"));
            book.hardware(&n("lhc0"), mac(x));
            book.hardware(&n("lhc0"), mac(y));
            assert_eq!(book.label(mac(x)), "hw:lhc0");
            assert_eq!(book.label(mac(y)), "hw:lhc0#2");
            assert_eq!(book.label(mac("02:00:5e:10:00:09")), "02:00:5e:10:00:09");
            assert_eq!(book.label(MacAddr::ZERO), "00:00:00:00:00:00");
        }
        assert_eq!(a.label(mac("00:11:22:33:44:55")), "other#1");
    }
}
