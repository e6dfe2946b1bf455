//! What the world does to the machine, as opposed to what lagghook asks
//! of the kernel: cables, access points, cards and drivers coming and
//! going, rc creating a vap, reboots and resumes, and what an
//! administrator (or another tool) does by hand with ifconfig(8). A
//! [`Happening`] has a
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
//! stop/start clears and sets IFF_DRV_RUNNING, not IFF_UP, and the base
//! system's wpa_supplicant hears that too: `driver_bsd.c` (RTM_IFINFO)
//! reports a disable when IFF_UP *or* IFF_DRV_RUNNING goes away and an
//! enable when both are back, on which it reads the address again
//! (`net80211::wpa_supplicant_enabled`). An Ethernet
//! NIC that was up re-initialises: its link drops and comes back an
//! autonegotiation later. A radio in `reload=` has its driver reloaded:
//! its vaps are destroyed (their DETACH events) and rc re-creates them as
//! for `attach-radio`. Then rc.resume runs the `resume` scripts
//! ([`SimKernel::take_resume_scripts`]).
//!
//! An administrator's ifconfig (`down IF`, `up IF`, `ether IF MAC`, `mtu IF
//! N`) is one request, played through the kernel's own handler exactly as
//! lagghook's requests are: `ifioctl` → `ifhwioctl` (`sys/net/if.c`,
//! `gmshake/freebsd-src` @ 1cd38e218689d442d8810e283800302b9e5ad1e1), then
//! the interface's `if_ioctl` (a lagg's `lagg_ioctl`, a member's
//! `lagg_port_ioctl`, a vap's `ieee80211_ioctl`, a NIC's driver). A request
//! the kernel refuses is no error of the scenario: ifconfig prints the
//! errno and exits 1 (`err(1, "ioctl SIOCSIFMTU (set mtu)")` in
//! `sbin/ifconfig/ifconfig.c`), which the simulator writes to the console
//! ([`SimKernel::take_console`]) as `ifconfig em0 mtu 1400: EINVAL`. These
//! requests are not lagghook's: they are not in the call record
//! ([`SimKernel::calls`]).

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
    /// `down IF`: `ifconfig IF down`, SIOCSIFFLAGS without IFF_UP:
    /// `ifhwioctl` calls `if_down`, then the driver (`lagg_ioctl` stops a
    /// lagg, `lagg_stop`; `ieee80211_ioctl` stops a vap; a member's goes
    /// through `lagg_port_ioctl` to its own driver).
    Down(IfName),
    /// `up IF`: `ifconfig IF up`, SIOCSIFFLAGS with IFF_UP: the driver,
    /// then `if_up` (`lagg_ioctl` runs `lagg_init`, which pushes the lagg's
    /// address to every port that differs).
    Up(IfName),
    /// `ether IF MAC`: `ifconfig IF ether MAC`, SIOCSIFLLADDR: `ifhwioctl`
    /// → `if_setlladdr`, which bounces an UP interface to reprogram its
    /// receive filter; a lagg member is not stopped from it (lagg hooks
    /// `if_ioctl`, and `if_setlladdr` is not an `if_ioctl` request).
    Ether { name: IfName, mac: MacAddr },
    /// `mtu IF N`: `ifconfig IF mtu N`, SIOCSIFMTU ([`SimKernel::set_mtu`]:
    /// `ifhwioctl`'s range, `lagg_port_ioctl`'s refusal for a member,
    /// `lagg_ioctl` over a lagg's ports).
    Mtu { name: IfName, mtu: u32 },
    /// `ifconfig IF ARGS…`: any other ifconfig command line of an
    /// administrator (FreeBSD's own `tests/sys/net/if_lagg_test.sh` is
    /// made of them), read as ifconfig reads it and played as rc plays
    /// `ifconfig_IF` ([`super::rc`]): `up`, `down`, `laggproto`,
    /// `laggport`, `-laggport`, `mtu`, `name`, `ether`, an address, the
    /// ignored words. `create` first clones the lagg (SIOCIFCREATE2, its
    /// ATTACH), `destroy` alone destroys it (SIOCIFDESTROY:
    /// `lagg_clone_destroy`).
    Ifconfig { name: IfName, args: String },
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
            | Happening::AttachRadio(n)
            | Happening::Down(n)
            | Happening::Up(n) => Some(n),
            Happening::CreateWlan { name, .. }
            | Happening::AttachEther { name, .. }
            | Happening::Ether { name, .. }
            | Happening::Mtu { name, .. }
            | Happening::Ifconfig { name, .. } => Some(name),
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
            Happening::Down(n) => write!(f, "down {n}"),
            Happening::Up(n) => write!(f, "up {n}"),
            Happening::Ether { name, mac } => write!(f, "ether {name} {mac}"),
            Happening::Mtu { name, mtu } => write!(f, "mtu {name} {mtu}"),
            Happening::Ifconfig { name, args } => write!(f, "ifconfig {name} {args}"),
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
                     resume bss=NAME, wait SECONDS, \
                     down IF, up IF, ether IF MAC, mtu IF N, ifconfig IF ARGS...";
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
            ["down", n] => Ok(Happening::Down(name(n)?)),
            ["up", n] => Ok(Happening::Up(name(n)?)),
            ["ether", n, m] => Ok(Happening::Ether { name: name(n)?, mac: mac(m)? }),
            // ifconfig's `setifmtu` takes any int; the kernel judges it.
            ["mtu", n, v] => match v.parse::<u32>() {
                Ok(mtu) => Ok(Happening::Mtu { name: name(n)?, mtu }),
                Err(_) => Err(bad(&format!("mtu {v:?}: not a number"))),
            },
            ["ifconfig", n, rest @ ..] if !rest.is_empty() => {
                Ok(Happening::Ifconfig { name: name(n)?, args: rest.join(" ") })
            }
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

    /// An administrator's ifconfig names an interface that exists: on one
    /// that does not, ifconfig fails before any request
    /// (`ifconfig: interface em9 does not exist`), so the scenario is wrong.
    fn require_ifnet(&self, name: &IfName) -> Result<(), String> {
        match self.ifnets.contains_key(name) {
            true => Ok(()),
            false => Err("no such interface".into()),
        }
    }

    /// What ifconfig prints when the kernel refused the request of the
    /// happening `h` (see the module doc): `ifconfig em0 mtu 1400: EINVAL`.
    fn administrator(&mut self, h: &Happening, result: Result<(), crate::kernel::Errno>) {
        if let Err(e) = result {
            let command = match h {
                Happening::Down(n) => format!("ifconfig {n} down"),
                Happening::Up(n) => format!("ifconfig {n} up"),
                Happening::Ether { name, mac } => format!("ifconfig {name} ether {mac}"),
                Happening::Mtu { name, mtu } => format!("ifconfig {name} mtu {mtu}"),
                other => other.to_string(),
            };
            self.console_error(command, e);
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
            Happening::Down(n) | Happening::Up(n) => {
                self.require_ifnet(n).or_else(fail)?;
                let r = self.siocsifflags(n, matches!(h, Happening::Up(_)));
                self.administrator(h, r);
            }
            Happening::Ether { name, mac } => {
                self.require_ifnet(name).or_else(fail)?;
                let r = self.siocsiflladdr(name, *mac);
                self.administrator(h, r);
            }
            Happening::Mtu { name, mtu } => {
                self.require_ifnet(name).or_else(fail)?;
                let r = self.set_mtu(name, *mtu);
                self.administrator(h, r);
            }
            Happening::Ifconfig { name, args } => {
                let creates = args.split_whitespace().next() == Some("create");
                if !creates {
                    self.require_ifnet(name).or_else(fail)?;
                }
                self.ifconfig_command(name, args);
            }
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
    pub(super) fn named(&self, keep: impl Fn(&super::ifnet::Ifnet) -> bool) -> Vec<IfName> {
        self.by_index().into_iter().filter(|i| keep(i)).map(|i| i.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixture::{ev, laptop, mac, n, Laptop, E};

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
            "down em9",
            "up em9",
            "ether em9 00:11:22:33:44:55",
            "mtu em9 1400",
            "ifconfig em9 up",
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
            "down em0",
            "up lagg0",
            "ether em0 02:00:00:00:00:01",
            "mtu lagg0 1400",
            "mtu em0 0",
            "ifconfig lagg1 create laggport em0 192.0.2.2/24",
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
            "down",
            "up em0 em1",
            "ether em0",
            "ether em0 zz",
            "mtu em0",
            "mtu em0 -1",
            "mtu em0 1400x",
            "ifconfig lagg0",
        ] {
            assert!(bad.parse::<Happening>().is_err(), "{bad:?} accepted");
        }
    }

    /// `down IF` and `up IF` are SIOCSIFFLAGS through `ifhwioctl`: the
    /// port's link goes at once and lagg fails over; it comes back an
    /// autonegotiation after `up`. Not lagghook's requests.
    #[test]
    fn administrator_down_and_up_go_through_the_kernel() {
        let mut k = laptop();
        k.happen(&"down em0".parse().unwrap()).unwrap();
        assert!(!k.interface("em0").unwrap().up);
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_DOWN")]);
        assert_eq!(k.lagg("lagg0").unwrap().active(), Some(&n("wlan0")));
        k.happen(&"up em0".parse().unwrap()).unwrap();
        let t = k.now();
        k.advance(t + crate::sim::ifnet::AUTONEG_MS);
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_UP")]);
        assert_eq!(k.lagg("lagg0").unwrap().active(), Some(&n("em0")));
        assert_eq!((k.writes(), k.calls().len()), (0, 0), "not lagghook's requests");
        assert!(k.take_console().is_empty());
    }

    /// `ether IF MAC` is `if_setlladdr`: a member takes the address and is
    /// bounced (its receive filter reprogrammed), and lagg does not
    /// notice: the lagg and the other port keep theirs. `down lagg0`, `up
    /// lagg0` then runs `lagg_init`, which pushes the lagg's address to the
    /// port that differs, bouncing it once more.
    #[test]
    fn administrator_ether_on_a_member_is_not_undone_until_lagg_init() {
        let mut k = laptop();
        let other = mac("02:00:00:00:00:01");
        k.happen(&"ether em0 02:00:00:00:00:01".parse().unwrap()).unwrap();
        assert_eq!(k.interface("em0").unwrap().mac, other);
        assert_eq!(k.lagg_mac("lagg0"), Some(mac(E)));
        assert!(k.lagg("lagg0").unwrap().has_port(&n("em0")));
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_DOWN")]);
        k.settle();
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_UP")]);
        assert_eq!(k.interface("em0").unwrap().mac, other, "lagg pushes nothing");
        k.happen(&"down lagg0".parse().unwrap()).unwrap();
        k.happen(&"up lagg0".parse().unwrap()).unwrap();
        assert_eq!(k.interface("em0").unwrap().mac, mac(E), "lagg_init");
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_DOWN")]);
        // A non-Ethernet type: `if_setlladdr` says ENODEV, ifconfig prints it.
        let mut k =
            Laptop::new().with(crate::sim::MachineInterface::new(n("tun0"), IfKind::Other)).build();
        k.happen(&"ether tun0 02:00:00:00:00:01".parse().unwrap()).unwrap();
        assert_eq!(k.take_console(), ["ifconfig tun0 ether 02:00:00:00:00:01: ENODEV"]);
    }

    /// `mtu IF N` is SIOCSIFMTU through `ifhwioctl`: a member refuses any
    /// MTU, its own included (`lagg_port_ioctl`); the lagg sets its ports
    /// through their drivers (`lagg_ioctl`), and puts every one back when
    /// one refuses; out of IF_MINMTU..IF_MAXMTU nothing reaches a driver.
    #[test]
    fn administrator_mtu_follows_ifhwioctl_lagg_port_ioctl_and_lagg_ioctl() {
        let mtus = |k: &SimKernel| -> Vec<u32> {
            ["em0", "wlan0", "lagg0"].iter().map(|i| k.interface(i).unwrap().mtu).collect()
        };
        let mut k = laptop();
        for h in ["mtu em0 1400", "mtu em0 1500", "mtu wlan0 1400", "mtu lagg0 9000"] {
            k.happen(&h.parse().unwrap()).unwrap();
        }
        assert_eq!(
            k.take_console(),
            [
                "ifconfig em0 mtu 1400: EINVAL",
                "ifconfig em0 mtu 1500: EINVAL",
                "ifconfig wlan0 mtu 1400: EINVAL",
                // em0 took 9000, wlan0 refused (IEEE80211_MTU_MAX): all back.
                "ifconfig lagg0 mtu 9000: EINVAL",
            ]
        );
        assert_eq!(mtus(&k), [1500, 1500, 1500]);
        k.happen(&"mtu lagg0 1400".parse().unwrap()).unwrap();
        assert!(k.take_console().is_empty());
        assert_eq!(mtus(&k), [1400, 1400, 1400]);
        assert_eq!(k.set_mtu(&n("nope0"), 1400), Err(crate::kernel::Errno::ENXIO));
        assert_eq!(k.set_mtu(&n("lagg0"), 71), Err(crate::kernel::Errno::EINVAL));
        assert_eq!(k.set_mtu(&n("lagg0"), 65_536), Err(crate::kernel::Errno::EINVAL));
        // A free NIC takes it; a running iflib NIC is re-initialised for it.
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        k.happen(&"up ue0".parse().unwrap()).unwrap();
        k.settle();
        k.take_events();
        k.happen(&"mtu ue0 9000".parse().unwrap()).unwrap();
        assert_eq!(k.interface("ue0").unwrap().mtu, 9000);
        assert_eq!(k.take_events(), vec![ev("ue0", "LINK_DOWN")]);
        assert_eq!((k.writes(), k.calls().len()), (0, 0), "not lagghook's requests");
    }

    /// `ifconfig IF ARGS…` is the simulator's ifconfig: `create` clones a
    /// lagg, `destroy` removes one, the rest is rc's word reader; what the
    /// kernel refuses goes to the console.
    #[test]
    fn administrator_ifconfig_lines_create_configure_and_destroy() {
        let mut k = laptop();
        k.happen(&"ifconfig lagg1 create laggport em0 up".parse().unwrap()).unwrap();
        // em0 is lagg0's (EBUSY, a warning), and `up` still runs.
        assert_eq!(k.take_console(), ["ifconfig lagg1 laggport em0: EBUSY"]);
        assert!(k.interface("lagg1").unwrap().up);
        k.happen(&"ifconfig lagg1 create".parse().unwrap()).unwrap();
        k.happen(&"ifconfig em0 destroy".parse().unwrap()).unwrap();
        k.happen(&"ifconfig em0 frobnicate".parse().unwrap()).unwrap();
        assert_eq!(
            k.take_console(),
            [
                "ifconfig lagg1 create: EEXIST",
                "ifconfig em0 destroy: EINVAL",
                "ifconfig em0: frobnicate: bad value"
            ]
        );
        k.happen(&"ifconfig lagg1 destroy".parse().unwrap()).unwrap();
        assert!(k.interface("lagg1").is_none());
        assert_eq!((k.writes(), k.calls().len()), (0, 0), "not lagghook's requests");
    }
}
