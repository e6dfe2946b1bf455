//! What the world does to the machine, as opposed to what lagghook asks
//! of the kernel: cables, access points, cards and drivers coming and
//! going, rc creating a vap, reboots and resumes. A [`Happening`] has a
//! one-line text form (scenario steps, `lagghook simulate`), and
//! [`SimKernel::happen`] plays it through the same kernel rules a real
//! machine would run, so it emits the devd events FreeBSD would. Not owned
//! here: the rules themselves ([`super::ifnet`], [`super::if_lagg`],
//! [`super::net80211`]) and rc's part of a boot, a radio attach and a
//! resume ([`super::rc`]).
//!
//! A reboot, as modelled:
//! - every cloned interface (laggs, vlans) and every vap is destroyed;
//!   devd is not running, so the queued devd events are dropped;
//! - the kernel starts again: if_lagg is not loaded unless it is compiled
//!   in, which the simulator takes to be the case when it is loaded and
//!   `if_lagg.ko` is not in the module path (no file it could have been
//!   loaded from; machine keys `if_lagg` and `if_lagg_ko`).
//!   `net.link.lagg.failover_rx_all` is back at 0 (`/etc/sysctl.conf` is
//!   not modelled); `kern.securelevel` is -1 until rc.d/securelevel, which
//!   runs after netif (it REQUIREs pf, which REQUIREs netif), so rc's
//!   kldload of if_lagg at boot is not refused;
//! - the Ethernet NICs (and `other` interfaces) attach again, in their
//!   if_index order and numbered from 1: address back to the hardware
//!   address, not UP, link UNKNOWN, every supported offload enabled, MTU
//!   1500, cable as it was; each sends its `IFNET ATTACH`, which devd
//!   reads after rc;
//! - devices named in `absent=` (Ethernet NICs and radios) are not there,
//!   and stay absent until `attach-ether` / `attach-radio` brings them (a
//!   later plain `reboot` does not: the dock or the card is not plugged);
//! - rc runs `rc.d/netif start` from the rc.conf lines
//!   ([`SimKernel::set_rc_conf`], [`super::rc`]); vaps it re-creates keep
//!   their AP's reach, security and timing ([`super::net80211`]'s
//!   `VapTemplate`);
//! - devd starts after netif (`libexec/rc/rc.d/devd`: `REQUIRE: netif`),
//!   so the events queued during the boot are delivered after rc
//!   finished: by the caller, as after any happening.
//!
//! A resume: drivers call `ieee80211_suspend_all` / `ieee80211_resume_all`
//! (`sys/net80211/ieee80211_proto.c`, `fel1x-developer/freebsd-src`
//! 2d614aa2…): each running vap is stopped and started again (LINK_DOWN,
//! then LINK_UP an association later), lagg membership survives. The
//! stop/start changes IFF_DRV_RUNNING only, not IFF_UP, so the base
//! system's wpa_supplicant, which looks at IFF_UP transitions
//! (`driver_bsd.c` RTM_IFINFO), does not re-read the address. An Ethernet
//! NIC that was up re-initialises: its link drops and comes back an
//! autonegotiation later. A radio in `reload=` has its driver reloaded:
//! its vaps are destroyed (their DETACH events) and rc re-creates them as
//! for `attach-radio`. Then rc.resume runs the `resume` scripts
//! ([`SimKernel::take_resume_scripts`]).

use std::fmt;
use std::str::FromStr;

use crate::domain::model::{IfKind, IfName, LinkState, MacAddr};

use super::{NetHappening, SimError, SimKernel};

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
    /// `attach-radio RADIO`: a WiFi card attached (or its driver loaded
    /// late): devd runs rc's `pccard_ether RADIO startchildren`, which
    /// creates and configures the vaps of `wlans_RADIO`.
    AttachRadio(IfName),
    /// `reboot [absent=IF,…]`: the machine reboots, without the named
    /// Ethernet NICs and radios (see the module doc).
    Reboot { absent: Vec<IfName> },
    /// `resume [reload=RADIO,…]`: the machine resumes from suspend; the
    /// named radios' drivers reload (see the module doc).
    Resume { reload: Vec<IfName> },
    /// A network happening ([`NetHappening`]: `plug IF network=NAME`,
    /// `associate IF bss=NAME`, `set-network`, `resume bss=NAME`, `wait`).
    Net(NetHappening),
}

impl Happening {
    /// The interface the happening is about; `None` for one about the
    /// whole machine (a reboot, a resume).
    pub fn ifname(&self) -> Option<&IfName> {
        match self {
            Happening::Unplug(n)
            | Happening::Plug(n)
            | Happening::Disassociate(n)
            | Happening::Associate(n)
            | Happening::Destroy(n)
            | Happening::AttachRadio(n) => Some(n),
            Happening::CreateWlan { name, .. } | Happening::AttachEther { name, .. } => Some(name),
            Happening::Reboot { .. } | Happening::Resume { .. } => None,
            Happening::Net(h) => h.ifname(),
        }
    }
}

/// `key=a,b` of a reboot or resume, or nothing for an empty list.
fn list(f: &mut fmt::Formatter<'_>, word: &str, key: &str, names: &[IfName]) -> fmt::Result {
    f.write_str(word)?;
    if !names.is_empty() {
        let names: Vec<&str> = names.iter().map(IfName::as_str).collect();
        write!(f, " {key}={}", names.join(","))?;
    }
    Ok(())
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
            Happening::AttachRadio(n) => write!(f, "attach-radio {n}"),
            Happening::Reboot { absent } => list(f, "reboot", "absent", absent),
            Happening::Resume { reload } => list(f, "resume", "reload", reload),
            Happening::Net(h) => h.fmt(f),
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
        if let Some(net) = NetHappening::parse(&words) {
            return net.map(Happening::Net).map_err(|e| bad(&e));
        }
        let usage = "want one of: unplug IF, plug IF, disassociate IF, associate IF, \
                     destroy IF, create-wlan IF PARENT [MAC], attach-ether IF MAC, \
                     attach-radio RADIO, reboot [absent=IF,...], resume [reload=RADIO,...], \
                     plug IF network=NAME, associate IF bss=NAME, set-network NAME KEY=VALUE, \
                     resume bss=NAME, wait SECONDS";
        // `key=a,b`: at least one name, each once.
        let names = |w: &str, key: &str| -> Result<Vec<IfName>, SimError> {
            let Some(value) = w.strip_prefix(key).and_then(|r| r.strip_prefix('=')) else {
                return Err(bad(usage));
            };
            let mut out: Vec<IfName> = Vec::new();
            for part in value.split(',') {
                let n = name(part)?;
                if out.contains(&n) {
                    return Err(bad(&format!("{n} named twice")));
                }
                out.push(n);
            }
            Ok(out)
        };
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
            ["attach-radio", n] => Ok(Happening::AttachRadio(name(n)?)),
            ["reboot"] => Ok(Happening::Reboot { absent: Vec::new() }),
            ["reboot", w] => Ok(Happening::Reboot { absent: names(w, "absent")? }),
            ["resume"] => Ok(Happening::Resume { reload: Vec::new() }),
            ["resume", w] => Ok(Happening::Resume { reload: names(w, "reload")? }),
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
                if self.absent_radios.contains(parent) {
                    return fail(format!("{parent} is absent (attach-radio {parent} first)"));
                }
                self.rc_create_wlan(name, parent, *mac);
            }
            Happening::AttachEther { name, mac } => {
                if self.ifnets.contains_key(name) {
                    return fail(format!("{name} already exists"));
                }
                if self.known_radios().contains(name) {
                    return fail(format!("{name} is a radio"));
                }
                self.ether_attach(name, *mac);
            }
            Happening::AttachRadio(radio) => {
                if self.ifnets.contains_key(radio) {
                    return fail(format!("{radio} is an ifnet, not a radio"));
                }
                if self.radios.contains(radio) {
                    return fail(format!("{radio} is already attached"));
                }
                self.absent_radios.remove(radio);
                self.radios.insert(radio.clone());
                let templates = self.vap_templates();
                self.rc_startchildren(radio, &templates);
            }
            Happening::Reboot { absent } => self.reboot(absent).or_else(fail)?,
            Happening::Resume { reload } => self.resume(reload).or_else(fail)?,
            Happening::Net(n) => self.net_happen(n).or_else(fail)?,
        }
        self.net_refresh();
        self.note_lagg_macs();
        Ok(())
    }

    /// Whether rc.resume is due to run the `resume` scripts (after a
    /// `resume`), cleared by asking. rc.resume is devd's action for the
    /// ACPI `Resume` notify (`sbin/devd/devd.conf` at 023fc80e…:
    /// `action "/etc/rc.resume acpi $notify"`), which
    /// `acpi_EnterSleepState` (`sys/dev/acpica/acpi.c`) sends after
    /// `DEVICE_RESUME(root_bus)`: devd reads it after the interface events
    /// of the resume, so the caller delivers those first, then runs the
    /// scripts (`run_rc_script FILE resume` for each, `libexec/rc/rc.resume`).
    pub fn take_resume_scripts(&mut self) -> bool {
        std::mem::take(&mut self.resume_scripts)
    }

    /// `reboot absent=…` (see the module doc).
    fn reboot(&mut self, absent: &[IfName]) -> Result<(), String> {
        for a in absent {
            let nic = self.ifnets.get(a).is_some_and(|i| i.kind == IfKind::Ether);
            if !nic && !self.known_radios().contains(a) {
                return Err(format!("{a}: neither an Ethernet NIC nor a radio"));
            }
        }
        let templates = self.vap_templates();
        // Shutdown: no devd to hear it.
        self.emitting = false;
        let laggs: Vec<IfName> = self.named(|i| i.kind == IfKind::Lagg);
        for l in &laggs {
            self.lagg_clone_destroy(l);
        }
        for c in self.named(|i| matches!(i.kind, IfKind::Wlan | IfKind::Vlan)) {
            self.if_detach(&c);
        }
        self.events.clear();
        self.emitting = true;
        self.net_reboot();

        let builtin = self.failover_rx_all.is_some() && !self.if_lagg_ko;
        self.failover_rx_all = builtin.then_some(false);
        for a in absent {
            if self.radios.remove(a) {
                self.absent_radios.insert(a.clone());
            }
            self.ifnets.remove(a);
        }
        // The drivers attach what is there, numbered from 1 in their old
        // order (a boot probes the devices in the same order).
        let mut nics: Vec<(u32, IfName)> =
            self.ifnets.values().map(|i| (i.index, i.name.clone())).collect();
        nics.sort();
        for (i, (_, name)) in nics.iter().enumerate() {
            if let Some(ifn) = self.ifnets.get_mut(name) {
                ifn.index = u32::try_from(i + 1).unwrap_or(u32::MAX);
                ifn.lladdr = ifn.hwaddr.unwrap_or(ifn.lladdr);
                ifn.up = false;
                ifn.link = LinkState::Unknown;
                ifn.link_due = None;
                ifn.caps = ifn.capabilities;
                ifn.mtu = crate::abi::ETHERMTU;
            }
            self.emit(name, crate::domain::event::IfnetEventKind::Attach);
        }

        let securelevel = std::mem::replace(&mut self.securelevel, -1);
        self.rc_netif_start(&templates);
        self.securelevel = securelevel;
        Ok(())
    }

    /// `resume reload=…` (see the module doc).
    fn resume(&mut self, reload: &[IfName]) -> Result<(), String> {
        for r in reload {
            if !self.radios.contains(r) {
                return Err(format!("{r}: no attached radio of that name"));
            }
        }
        let templates = self.vap_templates();
        let reloaded = |k: &SimKernel, name: &IfName| {
            k.ifnets
                .get(name)
                .and_then(|i| i.vap.as_ref())
                .is_some_and(|v| reload.contains(&v.parent))
        };
        let mut order: Vec<(u32, IfName)> = self
            .ifnets
            .values()
            .filter(|i| i.up && matches!(i.kind, IfKind::Ether | IfKind::Wlan))
            .map(|i| (i.index, i.name.clone()))
            .collect();
        order.sort();
        // `ieee80211_suspend_all` / `ieee80211_resume_all` stop and start
        // the running vaps, which wpa_supplicant hears (RTM_IFINFO without
        // and with IFF_DRV_RUNNING): it reads the address again.
        for (_, name) in &order {
            if !reloaded(self, name) {
                self.wpa_supplicant_disabled(name);
                self.restart_link(name);
                self.wpa_supplicant_enabled(name);
            }
        }
        for r in reload {
            let vaps = self.named(|i| i.vap.as_ref().is_some_and(|v| &v.parent == r));
            for v in &vaps {
                self.if_detach(v);
            }
            self.rc_startchildren(r, &templates);
        }
        self.resume_scripts = true;
        Ok(())
    }

    /// The names of the ifnets `keep` selects, in if_index order.
    fn named(&self, keep: impl Fn(&super::ifnet::Ifnet) -> bool) -> Vec<IfName> {
        self.by_index().into_iter().filter(|i| keep(i)).map(|i| i.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixture::{laptop, n};

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
            "attach-radio em0",
            "attach-radio iwn0",
            "reboot absent=lagg0",
            "reboot absent=em9",
            "resume reload=em0",
            "resume reload=ath0",
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
            "attach-radio iwn0",
            "reboot",
            "reboot absent=ue0",
            "reboot absent=ue0,iwn0",
            "resume",
            "resume reload=iwn0",
            "resume reload=iwn0,ath0",
        ] {
            let h: Happening = s.parse().unwrap();
            assert_eq!(h.to_string(), s);
        }
        assert_eq!(
            "reboot absent=ue0,iwn0".parse::<Happening>().unwrap(),
            Happening::Reboot { absent: vec![n("ue0"), n("iwn0")] }
        );
        assert_eq!("resume".parse::<Happening>().unwrap().ifname(), None);
        for bad in [
            "",
            "unplug",
            "unplug em0 em1",
            "explode em0",
            "attach-ether ue0",
            "attach-ether ue0 zz",
            "plug 0em",
            "attach-radio",
            "reboot now",
            "reboot absent=",
            "reboot absent=ue0,",
            "reboot absent=ue0,ue0",
            "reboot reload=iwn0",
            "resume absent=iwn0",
            "resume reload=iwn0 ue0",
        ] {
            assert!(bad.parse::<Happening>().is_err(), "{bad:?} accepted");
        }
    }
}
