//! The network happenings: a cable now leading to another network, a vap
//! associating with another BSS, a network changing (its gateway ignoring
//! ARP, a slow or absent DHCP server), a resume somewhere else, and time
//! passing. Their text form is part of [`super::super::Happening`]'s.
//!
//! A cable moved to another network while it was in is pulled and plugged
//! (the link goes down and, an autonegotiation later, up); a vap told to
//! associate with another BSS while its AP was in reach leaves the old one
//! first (net80211 leaves RUN: LINK_DOWN, then LINK_UP after the new
//! association), as a station does when wpa_supplicant moves it.

use std::fmt;

use crate::domain::model::{IfKind, IfName, MacAddr};

use super::SimKernel;
use crate::sim::Happening;

/// A network happening (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetHappening {
    /// `plug IF network=NAME`.
    Plug { ifname: IfName, network: String },
    /// `associate IF bss=NAME`.
    Associate { ifname: IfName, bss: String },
    /// `set-network NAME KEY=VALUE …`.
    SetNetwork { network: String, changes: Vec<(String, String)> },
    /// `resume bss=NAME [reload=RADIO,…]`: every vap associates with NAME.
    Resume { bss: String, reload: Vec<IfName> },
    /// `wait SECONDS`: nothing happens; the step lasts that long.
    Wait { ms: u64 },
}

/// The keys `set-network` knows.
const KEYS: &str = "answers_arp=BOOL, captive_portal=BOOL, gateway_mac=MAC, dhcp=off, \
                    dhcp.delay_ms=N, dhcp.authoritative=BOOL, dhcp.lease_s=N, ra=off, \
                    ra.delay_ms=N, ra.router_mac=MAC";

impl NetHappening {
    /// The happening `words` spell, if they are a network happening;
    /// `Some(Err)` for one that is malformed.
    pub fn parse(words: &[&str]) -> Option<Result<NetHappening, String>> {
        let name = |w: &str| IfName::new(w).map_err(|e| format!("{w:?}: {e}"));
        fn value<'a>(w: &'a str, key: &str) -> Option<&'a str> {
            w.strip_prefix(key).and_then(|r| r.strip_prefix('='))
        }
        match words {
            ["plug", i, w] if w.starts_with("network=") => Some(name(i).map(|ifname| {
                NetHappening::Plug { ifname, network: w["network=".len()..].to_owned() }
            })),
            ["associate", i, w] if w.starts_with("bss=") => Some(
                name(i).map(|ifname| NetHappening::Associate { ifname, bss: w[4..].to_owned() }),
            ),
            ["set-network", network, changes @ ..] => Some((|| {
                if changes.is_empty() {
                    return Err(format!("set-network {network}: want KEY=VALUE ({KEYS})"));
                }
                let changes = changes
                    .iter()
                    .map(|c| match c.split_once('=') {
                        Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                            Ok((k.to_owned(), v.to_owned()))
                        }
                        _ => Err(format!("{c:?}: want KEY=VALUE ({KEYS})")),
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(NetHappening::SetNetwork { network: (*network).to_owned(), changes })
            })()),
            ["wait", s] => Some(match s.parse::<f64>() {
                Ok(secs) if (0.0..=86_400.0).contains(&secs) => {
                    Ok(NetHappening::Wait { ms: (secs * 1000.0).round() as u64 })
                }
                _ => Err(format!("wait {s:?}: want 0 to 86400 seconds")),
            }),
            ["resume", rest @ ..] if rest.iter().any(|w| w.starts_with("bss=")) => Some((|| {
                let mut bss = None;
                let mut reload = Vec::new();
                for w in rest {
                    if let Some(b) = value(w, "bss").filter(|b| !b.is_empty() && bss.is_none()) {
                        bss = Some(b.to_owned());
                    } else if let Some(r) = value(w, "reload").filter(|_| reload.is_empty()) {
                        for part in r.split(',') {
                            let n = name(part)?;
                            if reload.contains(&n) {
                                return Err(format!("{n} named twice"));
                            }
                            reload.push(n);
                        }
                    } else {
                        return Err("want resume bss=NAME [reload=RADIO,...]".into());
                    }
                }
                let bss = bss.ok_or("want resume bss=NAME")?;
                Ok(NetHappening::Resume { bss, reload })
            })(
            )),
            _ => None,
        }
    }

    /// The interface the happening is about, if one.
    pub fn ifname(&self) -> Option<&IfName> {
        match self {
            NetHappening::Plug { ifname, .. } | NetHappening::Associate { ifname, .. } => {
                Some(ifname)
            }
            _ => None,
        }
    }
}

impl fmt::Display for NetHappening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetHappening::Plug { ifname, network } => write!(f, "plug {ifname} network={network}"),
            NetHappening::Associate { ifname, bss } => write!(f, "associate {ifname} bss={bss}"),
            NetHappening::SetNetwork { network, changes } => {
                write!(f, "set-network {network}")?;
                changes.iter().try_for_each(|(k, v)| write!(f, " {k}={v}"))
            }
            NetHappening::Resume { bss, reload } => {
                write!(f, "resume bss={bss}")?;
                if !reload.is_empty() {
                    let names: Vec<&str> = reload.iter().map(IfName::as_str).collect();
                    write!(f, " reload={}", names.join(","))?;
                }
                Ok(())
            }
            NetHappening::Wait { ms } => write!(f, "wait {}", *ms as f64 / 1000.0),
        }
    }
}

fn boolean(k: &str, v: &str) -> Result<bool, String> {
    match v {
        "true" | "on" | "yes" => Ok(true),
        "false" | "off" | "no" => Ok(false),
        _ => Err(format!("{k}={v}: want true or false")),
    }
}

fn number(k: &str, v: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("{k}={v}: want a whole number"))
}

fn mac(k: &str, v: &str) -> Result<MacAddr, String> {
    v.parse().map_err(|e| format!("{k}={v}: {e}"))
}

impl SimKernel {
    /// Why the names in `h` do not fit this machine, if they do not: an
    /// unknown network or BSS.
    pub fn check_net_happening(&self, h: &NetHappening) -> Result<(), String> {
        let network = |n: &str| {
            if self.net.networks.contains_key(n) {
                Ok(())
            } else {
                Err(format!("unknown network {n:?} (the machine has {:?})", self.network_names()))
            }
        };
        let bss = |b: &str| {
            if self.net.bsses.contains_key(b) {
                Ok(())
            } else {
                let known: Vec<&String> = self.net.bsses.keys().collect();
                Err(format!("unknown bss {b:?} (the machine has {known:?})"))
            }
        };
        match h {
            NetHappening::Plug { network: n, .. } | NetHappening::SetNetwork { network: n, .. } => {
                network(n)
            }
            NetHappening::Associate { bss: b, .. } | NetHappening::Resume { bss: b, .. } => bss(b),
            NetHappening::Wait { .. } => Ok(()),
        }
    }

    /// The world acting on the network side.
    pub(in crate::sim) fn net_happen(&mut self, h: &NetHappening) -> Result<(), String> {
        self.check_net_happening(h)?;
        let kind = |k: &SimKernel, n: &IfName| k.ifnets.get(n).map(|i| i.kind);
        match h {
            NetHappening::Plug { ifname, network } => {
                if !matches!(kind(self, ifname), Some(IfKind::Ether | IfKind::Vlan)) {
                    return Err(format!("{ifname}: not an Ethernet interface"));
                }
                let moved = self.net.cables.get(ifname) != Some(network);
                if moved && self.ifnets.get(ifname).is_some_and(|i| i.medium) {
                    self.set_medium(ifname, false);
                }
                self.net.cables.insert(ifname.clone(), network.clone());
                self.set_medium(ifname, true);
            }
            NetHappening::Associate { ifname, bss } => {
                if kind(self, ifname) != Some(IfKind::Wlan) {
                    return Err(format!("{ifname}: not a wlan"));
                }
                let moved = self.net.assoc.get(ifname) != Some(bss);
                if moved && self.ifnets.get(ifname).is_some_and(|i| i.medium) {
                    self.set_medium(ifname, false);
                }
                self.net.assoc.insert(ifname.clone(), bss.clone());
                self.set_medium(ifname, true);
            }
            NetHappening::SetNetwork { network, changes } => {
                for (k, v) in changes {
                    self.set_network(network, k, v)?;
                }
            }
            NetHappening::Resume { bss, reload } => {
                let vaps: Vec<IfName> = self
                    .ifnets
                    .values()
                    .filter(|i| i.kind == IfKind::Wlan)
                    .map(|i| i.name.clone())
                    .collect();
                for v in vaps {
                    self.net.assoc.insert(v, bss.clone());
                }
                self.happen(&Happening::Resume { reload: reload.clone() })
                    .map_err(|e| e.message().to_owned())?;
            }
            NetHappening::Wait { .. } => {}
        }
        self.net_refresh();
        Ok(())
    }

    fn set_network(&mut self, name: &str, k: &str, v: &str) -> Result<(), String> {
        let Some(n) = self.net.networks.get_mut(name) else {
            return Err(format!("unknown network {name:?}"));
        };
        let no_dhcp = || format!("{k}: network {name} has no dhcp");
        let no_ra = || format!("{k}: network {name} has no ra");
        match k {
            "answers_arp" => n.answers_arp = boolean(k, v)?,
            "captive_portal" => n.captive_portal = boolean(k, v)?,
            "gateway_mac" => n.gateway_mac = Some(mac(k, v)?),
            "dhcp" if v == "off" => n.dhcp = None,
            "ra" if v == "off" => n.ra = None,
            "dhcp.delay_ms" => n.dhcp.as_mut().ok_or_else(no_dhcp)?.delay_ms = number(k, v)?,
            "dhcp.lease_s" => n.dhcp.as_mut().ok_or_else(no_dhcp)?.lease_s = number(k, v)?,
            "dhcp.authoritative" => {
                n.dhcp.as_mut().ok_or_else(no_dhcp)?.authoritative = boolean(k, v)?
            }
            "ra.delay_ms" => n.ra.as_mut().ok_or_else(no_ra)?.delay_ms = number(k, v)?,
            "ra.router_mac" => n.ra.as_mut().ok_or_else(no_ra)?.router_mac = mac(k, v)?,
            _ => return Err(format!("{k}={v}: unknown (want one of {KEYS})")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_happenings_round_trip_and_bad_ones_are_refused() {
        for s in [
            "plug em0 network=home",
            "associate wlan0 bss=HomeNet",
            "set-network home answers_arp=false dhcp.delay_ms=2500",
            "resume bss=Cafe",
            "resume bss=Cafe reload=iwn0",
            "wait 2.5",
        ] {
            let words: Vec<&str> = s.split_whitespace().collect();
            let h = NetHappening::parse(&words).unwrap().unwrap();
            assert_eq!(h.to_string(), s);
        }
        for bad in ["set-network home", "set-network home x", "wait soon", "wait -1", "resume bss="]
        {
            let words: Vec<&str> = bad.split_whitespace().collect();
            assert!(NetHappening::parse(&words).is_some_and(|r| r.is_err()), "{bad}");
        }
        assert!(NetHappening::parse(&["plug", "em0"]).is_none());
    }
}
