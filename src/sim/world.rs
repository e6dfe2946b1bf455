//! What the world does to the machine, as opposed to what lagghook asks
//! of the kernel: cables, access points, cards and drivers coming and
//! going, and rc creating a vap. A [`Happening`] has a one-line text form
//! (scenario steps, `lagghook simulate`), and [`SimKernel::happen`] plays it
//! through the same kernel rules a real machine would run, so it emits the
//! devd events FreeBSD would. Not owned here: the rules themselves
//! ([`super::ifnet`], [`super::if_lagg`], [`super::net80211`]).

use std::fmt;
use std::str::FromStr;

use crate::domain::model::{IfKind, IfName, MacAddr};

use super::{SimError, SimKernel};

/// Something the world does to the machine (not lagghook): a cable, an
/// access point, a card or driver coming and going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    /// `unplug IF`: Ethernet cable out.
    Unplug(IfName),
    /// `plug IF`: Ethernet cable in.
    Plug(IfName),
    /// `disassociate IF`: the vap's access point out of reach.
    Disassociate(IfName),
    /// `associate IF`: the vap's access point in reach again.
    Associate(IfName),
    /// `destroy IF`: the ifnet is destroyed (card pulled, driver reload,
    /// `ifconfig IF destroy` by someone else).
    Destroy(IfName),
    /// `create-wlan IF PARENT [MAC]`: rc created a vap (`wlans_PARENT`,
    /// optional `wlanaddr`), configured it and started wpa_supplicant. An
    /// `IF` not named `wlan<N>` is created as rc's `name IF` does: ATTACH
    /// of the cloner's `wlan<N>`, then RENAME (`SimKernel::rc_create_wlan`).
    CreateWlan { name: IfName, parent: IfName, mac: Option<MacAddr> },
    /// `attach-ether IF MAC`: an Ethernet NIC attached (USB NIC plugged).
    AttachEther { name: IfName, mac: MacAddr },
}

impl Happening {
    /// The interface the happening is about.
    pub fn ifname(&self) -> &IfName {
        match self {
            Happening::Unplug(n)
            | Happening::Plug(n)
            | Happening::Disassociate(n)
            | Happening::Associate(n)
            | Happening::Destroy(n) => n,
            Happening::CreateWlan { name, .. } | Happening::AttachEther { name, .. } => name,
        }
    }
}

impl fmt::Display for Happening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Happening::Unplug(n) => write!(f, "unplug {n}"),
            Happening::Plug(n) => write!(f, "plug {n}"),
            Happening::Disassociate(n) => write!(f, "disassociate {n}"),
            Happening::Associate(n) => write!(f, "associate {n}"),
            Happening::Destroy(n) => write!(f, "destroy {n}"),
            Happening::CreateWlan { name, parent, mac: None } => {
                write!(f, "create-wlan {name} {parent}")
            }
            Happening::CreateWlan { name, parent, mac: Some(m) } => {
                write!(f, "create-wlan {name} {parent} {m}")
            }
            Happening::AttachEther { name, mac } => write!(f, "attach-ether {name} {mac}"),
        }
    }
}

impl FromStr for Happening {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Happening, SimError> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let bad = |why: &str| SimError::new(format!("happening {s:?}: {why}"));
        let name = |w: &str| IfName::new(w).map_err(|e| bad(&format!("{w:?}: {e}")));
        let mac = |w: &str| w.parse::<MacAddr>().map_err(|e| bad(&e.to_string()));
        let usage = "want one of: unplug IF, plug IF, disassociate IF, associate IF, \
                     destroy IF, create-wlan IF PARENT [MAC], attach-ether IF MAC";
        match words.as_slice() {
            ["unplug", n] => Ok(Happening::Unplug(name(n)?)),
            ["plug", n] => Ok(Happening::Plug(name(n)?)),
            ["disassociate", n] => Ok(Happening::Disassociate(name(n)?)),
            ["associate", n] => Ok(Happening::Associate(name(n)?)),
            ["destroy", n] => Ok(Happening::Destroy(name(n)?)),
            ["create-wlan", n, p] => {
                Ok(Happening::CreateWlan { name: name(n)?, parent: name(p)?, mac: None })
            }
            ["create-wlan", n, p, m] => {
                Ok(Happening::CreateWlan { name: name(n)?, parent: name(p)?, mac: Some(mac(m)?) })
            }
            ["attach-ether", n, m] => Ok(Happening::AttachEther { name: name(n)?, mac: mac(m)? }),
            _ => Err(bad(usage)),
        }
    }
}

impl SimKernel {
    /// Why `name` cannot be the medium of a happening needing `kind`.
    fn require_kind(&self, name: &IfName, kind: IfKind) -> Result<(), String> {
        match self.ifnets.get(name).map(|i| i.kind) {
            None => Err("no such interface".into()),
            Some(k) if k == kind => Ok(()),
            Some(k) => Err(format!("{name} is a {k} interface, not {kind}")),
        }
    }

    /// The world acting. Emits the devd events FreeBSD would.
    pub fn happen(&mut self, h: &Happening) -> Result<(), SimError> {
        let fail = |why: String| Err(SimError::new(format!("{h}: {why}")));
        match h {
            Happening::Unplug(n) | Happening::Plug(n) => {
                // A vlan's carrier is its parent's cable (`vlan_link_state`).
                if self.ifnets.get(n).map(|i| i.kind) != Some(IfKind::Vlan) {
                    self.require_kind(n, IfKind::Ether).or_else(fail)?;
                }
                self.set_medium(n, matches!(h, Happening::Plug(_)));
            }
            Happening::Disassociate(n) | Happening::Associate(n) => {
                self.require_kind(n, IfKind::Wlan).or_else(fail)?;
                self.set_medium(n, matches!(h, Happening::Associate(_)));
            }
            Happening::Destroy(n) => {
                let Some(kind) = self.ifnets.get(n).map(|i| i.kind) else {
                    return fail("no such interface".into());
                };
                // `if_clone_destroy` → `lagg_clone_destroy` for a lagg; a
                // driver detaching (`ether_ifdetach` → `if_detach`) else.
                if kind == IfKind::Lagg {
                    self.lagg_clone_destroy(n);
                } else {
                    self.if_detach(n);
                }
            }
            Happening::CreateWlan { name, parent, mac } => {
                if self.ifnets.contains_key(name) {
                    return fail(format!("{name} already exists"));
                }
                if self.ifnets.contains_key(parent) {
                    return fail(format!("{parent} is an ifnet, not a radio"));
                }
                self.rc_create_wlan(name, parent, *mac);
            }
            Happening::AttachEther { name, mac } => {
                if self.ifnets.contains_key(name) {
                    return fail(format!("{name} already exists"));
                }
                if self.radios.contains(name) {
                    return fail(format!("{name} is a radio"));
                }
                self.ether_attach(name, *mac);
            }
        }
        self.note_lagg_macs();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixture::laptop;

    #[test]
    fn happenings_on_missing_or_wrong_interfaces_are_errors() {
        let mut k = laptop();
        for h in [
            "unplug wlan0",
            "plug lagg0",
            "disassociate em0",
            "associate em9",
            "destroy em9",
            "create-wlan em0 iwn0",
            "create-wlan wlan1 em0",
            "attach-ether wlan0 00:11:22:33:44:55",
            "attach-ether iwn0 00:11:22:33:44:55",
        ] {
            let err = k.happen(&h.parse().unwrap()).unwrap_err();
            assert!(err.to_string().starts_with(h), "{err}");
        }
        assert!(k.take_events().is_empty());
    }

    #[test]
    fn happening_strings_round_trip() {
        for s in [
            "unplug em0",
            "plug em0",
            "disassociate wlan0",
            "associate wlan0",
            "destroy wlan0",
            "create-wlan wlan0 iwn0",
            "create-wlan wlan0 iwn0 00:11:22:33:44:55",
            "attach-ether ue0 00:11:22:33:44:55",
        ] {
            let h: Happening = s.parse().unwrap();
            assert_eq!(h.to_string(), s);
        }
        for bad in [
            "",
            "unplug",
            "unplug em0 em1",
            "explode em0",
            "attach-ether ue0",
            "attach-ether ue0 zz",
            "plug 0em",
        ] {
            assert!(bad.parse::<Happening>().is_err(), "{bad:?} accepted");
        }
    }
}
