//! rc(8)'s network start as the simulator plays it: what `rc.d/netif
//! start` (at boot) and `netif quietstart CHILD` (a radio attaching:
//! `/etc/pccard_ether RADIO startchildren`; the `create-wlan` happening)
//! do with the rc.conf(5) lines of [`RcConf`] (read in [`conf`], which
//! says what is modelled, ignored and refused). Not owned here: the kernel
//! rules rc's ifconfig requests reach ([`super::ifnet`],
//! [`super::if_lagg`], [`super::net80211`]), and what the machine does
//! before rc runs (the reboot itself, [`super::world`]).
//!
//! Read in `freebsd/freebsd-src`: `libexec/rc/network.subr` at
//! 03ccfdd2ecf36648affb5bb7868bc1dd2f8b195d (`wlan_up`, `clone_up`,
//! `ifnet_rename`, `ifn_start`, `ifconfig_up`, `ifconfig_getargs`,
//! `ifalias`, `list_net_interfaces`), `libexec/rc/rc.d/netif` and
//! `libexec/rc/rc.resume` at 023fc80ee38a117fa65b2ccb2abf8bdc7dbd6fd9
//! (`netif_start`, `netif_common`), `libexec/rc/pccard_ether` at
//! 1b1334b175e9e986d21ce410ad6d8f1ad7299082
//! (`pccard_ether_startchildren`).
//!
//! What rc does, in order:
//! - `netif_start` (no interface named, at boot): `wlan_up` (for each
//!   `wlans_RADIO`, in the order of the variable names, which `set`
//!   sorts, each child that does not exist: `ifconfig CHILD create wlandev
//!   RADIO create_args_CHILD`, or, for a child not named `wlan<N>`,
//!   `ifconfig wlan create wlandev RADIO … name CHILD`: ATTACH of the
//!   cloner's `wlan<N>`, then its RENAME), then `clone_up` (each
//!   `cloned_interfaces` entry that does not exist: `ifconfig IF create
//!   create_args_IF`), then `ifnet_rename` (each interface `ifconfig -l`
//!   lists whose `ifconfig_IF_name` is set: `ifconfig IF name NEW`, its
//!   RENAME), then `ifn_start` for every interface of
//!   `list_net_interfaces` (`network_interfaces=AUTO`: what `ifconfig -l`
//!   lists now, renamed ones under their new names, in attach order,
//!   modelled as if_index order; else the listed ones and
//!   `cloned_interfaces`). So a `create_args_lagg0` that names a port by
//!   the name `ifnet_rename` gives it finds no such port yet, and an
//!   `ifconfig_lagg0` does.
//! - `ifn_start IF` → `ifconfig_up`: `ifconfig IF ARGS` (`ifconfig_IF`,
//!   else `ifconfig_DEFAULT`, without rc's pseudo words), `ifconfig IF
//!   ARGS` of `ifconfig_IF_ipv6`, the `ether`/`link` aliases; then a WPA
//!   interface gets `/etc/rc.d/wpa_supplicant start IF`, a HOSTAP one
//!   hostapd (not run here), another `ifconfig IF up` if it was
//!   configured; `ifconfig IF inet6 accept_rtadv up` if its
//!   `ifconfig_IF_ipv6` has `accept_rtadv`; a DHCP interface not yet
//!   configured gets `ifconfig IF up` (dhclient is not run here); then the
//!   `inet` and `inet6` aliases (`ipv4_up`, `ipv6_up`).
//! - `netif quietstart CHILD` (`pccard_ether RADIO startchildren`, for
//!   each child of `wlans_RADIO` that does not exist): `wlan_up CHILD`,
//!   `ifnet_rename CHILD`, then `ifn_start CHILD` under the name it was
//!   created with: a vap that `ifconfig_wlan0_name` renamed is not
//!   configured at all (no `ifconfig_wifi0`, no wpa_supplicant), unlike
//!   one that `wlans_iwn0="wifi0"` creates under its name.
//! - wpa_supplicant brings each vap it runs for up itself, when it first
//!   scans; rc does not wait for it, so that happens after rc's whole
//!   `ifn_start` sequence (and after a radio's children are configured):
//!   a `laggport` joining the vap before that finds it DOWN
//!   ([`SimKernel::wpa_supplicant_scan`]).
//!
//! Each word of an ifconfig command is one request, in order, except that
//! an address is set after the others. A failed `laggport` only warns
//! (`setlaggport` in `sbin/ifconfig/iflagg.c`, which also ignores EEXIST;
//! see `freebsd-net.md` §2), so the rest of the line runs; any other
//! failure ends the command, as ifconfig's `err(1)`/`errx(1)` does
//! (`setifmtu`: `err(1, "ioctl SIOCSIFMTU (set mtu)")`; the others
//! recalled from `sbin/ifconfig`, not re-read). A failed request is
//! written to rc's console ([`SimKernel::take_console`]), and rc goes on
//! with the next command. rc's requests are not lagghook's: they are not
//! in the call record ([`SimKernel::calls`]).

mod conf;

pub use conf::{RcConf, RcConfError};

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::model::{IfKind, IfName, MacAddr};
use crate::kernel::Errno;

use super::if_lagg::cloner_matches;
use super::net80211::VapTemplate;
use super::SimKernel;
use conf::{Ifconfig, Word};

impl SimKernel {
    /// The rc.conf lines rc reads at the next boot, radio attach or driver
    /// reload (the machine's `/etc`, not kernel state: not in the machine
    /// file, not compared).
    pub fn set_rc_conf(&mut self, rc: RcConf) {
        self.rc_conf = rc;
    }

    /// What rc wrote on the console since the last take: the requests of
    /// its ifconfig commands that failed, as `ifconfig lagg0 laggport
    /// ue0: EINVAL`.
    pub fn take_console(&mut self) -> Vec<String> {
        std::mem::take(&mut self.console)
    }

    /// `rc.d/netif start` at boot (see the module doc). `templates` are
    /// the vaps the reboot destroyed.
    pub(super) fn rc_netif_start(&mut self, templates: &BTreeMap<IfName, VapTemplate>) {
        let rc = self.rc_conf.clone();
        for (radio, children) in &rc.wlans {
            for child in children {
                let mac = rc.wlanaddr.get(child).copied();
                self.rc_wlan_create(&rc, radio, child, mac, templates);
            }
        }
        for other in &rc.other_clones {
            self.console.push(format!(
                "ifconfig {other} create: not modelled (the simulator clones lagg(4) interfaces only)"
            ));
        }
        for ifn in &rc.cloned {
            self.rc_clone_create(&rc, ifn);
        }
        for ifn in self.named(|_| true) {
            self.rc_rename(&rc, &ifn);
        }
        let mut scans = Vec::new();
        for ifn in self.rc_list_net_interfaces(&rc) {
            self.rc_ifn_start(&rc, &ifn, None, &mut scans);
        }
        for wlan in &scans {
            self.wpa_supplicant_scan(wlan);
        }
    }

    /// `list_net_interfaces` (see the module doc). The loopback, which rc
    /// puts first, is not simulated: nothing lagghook sees is on it.
    fn rc_list_net_interfaces(&self, rc: &RcConf) -> Vec<IfName> {
        match &rc.network_interfaces {
            None => self.named(|i| !rc.ifconfig_of(&i.name).is_some_and(|c| c.noauto)),
            Some(list) => list
                .iter()
                .chain(&rc.cloned)
                .filter(|i| !cloner_matches("lo", i) || self.ifnets.contains_key(*i))
                .cloned()
                .collect(),
        }
    }

    /// `/etc/pccard_ether RADIO startchildren`, which devd runs when a
    /// radio attaches: `netif quietstart CHILD` for each child of
    /// `wlans_RADIO` that does not exist, then the wpa_supplicants started
    /// scan.
    pub(super) fn rc_startchildren(
        &mut self,
        radio: &IfName,
        templates: &BTreeMap<IfName, VapTemplate>,
    ) {
        let rc = self.rc_conf.clone();
        let mut scans = Vec::new();
        for child in rc.wlans.get(radio).into_iter().flatten() {
            if self.ifnets.contains_key(child) {
                continue;
            }
            let mac = rc.wlanaddr.get(child).copied();
            self.rc_quietstart(&rc, radio, child, mac, templates, &mut scans);
        }
        for wlan in &scans {
            self.wpa_supplicant_scan(wlan);
        }
    }

    /// `netif quietstart CHILD` for one vap (`netif_start CHILD`):
    /// `wlan_up CHILD`, `clone_up CHILD` (nothing for a vap),
    /// `ifnet_rename CHILD`, `ifn_start CHILD`.
    fn rc_quietstart(
        &mut self,
        rc: &RcConf,
        radio: &IfName,
        child: &IfName,
        mac: Option<MacAddr>,
        templates: &BTreeMap<IfName, VapTemplate>,
        scans: &mut Vec<IfName>,
    ) {
        self.rc_wlan_create(rc, radio, child, mac, templates);
        self.rc_rename(rc, child);
        self.rc_ifn_start(rc, child, None, scans);
    }

    /// The `create-wlan NAME PARENT [MAC]` happening: rc creating and
    /// configuring a vap as a card attach does. A vap that `wlans_PARENT`
    /// names is rc's `netif quietstart NAME`, as for `attach-radio`, with
    /// the happening's `wlanaddr` (none: the radio's address) instead of
    /// `create_args_NAME`'s; one rc.conf does not name is created as
    /// `wlan_up` would, and configured by its `ifconfig_NAME`, else as the
    /// Handbook's `ifconfig_NAME="WPA"`, so a happening needs no rc.conf
    /// lines.
    pub(super) fn rc_create_wlan(&mut self, name: &IfName, parent: &IfName, mac: Option<MacAddr>) {
        let rc = self.rc_conf.clone();
        let templates = self.vap_templates();
        let mut scans = Vec::new();
        // The happening names the radio: it is one (`net.wlan.devices`).
        self.radios.insert(parent.clone());
        if rc.parent_of(name) == Some(parent) {
            self.rc_quietstart(&rc, parent, name, mac, &templates, &mut scans);
        } else {
            self.rc_wlan_create(&rc, parent, name, mac, &templates);
            let wpa = Ifconfig { wpa: true, ..Ifconfig::default() };
            let cfg = rc.ifconfig.get(name).cloned().unwrap_or(wpa);
            self.rc_ifn_start(&rc, name, Some(&cfg), &mut scans);
        }
        for wlan in &scans {
            self.wpa_supplicant_scan(wlan);
        }
    }

    /// `/etc/rc.d/netif quietstart CHILD` for a vap that exists (what
    /// lagghook runs after re-creating one): `netif_start CHILD` skips
    /// `wlan_up` and `clone_up` for an interface that exists and runs
    /// `ifnet_rename CHILD` and `ifn_start CHILD` (`libexec/rc/rc.d/netif`
    /// at 023fc80e…), then the wpa_supplicant it started scans.
    pub(super) fn rc_netif_quietstart(&mut self, child: &IfName) {
        let rc = self.rc_conf.clone();
        let mut scans = Vec::new();
        self.rc_rename(&rc, child);
        self.rc_ifn_start(&rc, child, None, &mut scans);
        for wlan in &scans {
            self.wpa_supplicant_scan(wlan);
        }
    }

    /// `wlan_up` for one child: `ifconfig CHILD create wlandev RADIO
    /// [wlanaddr MAC] [words…]`, skipped if it exists. A radio that is not
    /// attached fails the create (`wlan_clone_create`: no `ieee80211com`
    /// for the name, ENXIO).
    fn rc_wlan_create(
        &mut self,
        rc: &RcConf,
        radio: &IfName,
        child: &IfName,
        mac: Option<MacAddr>,
        templates: &BTreeMap<IfName, VapTemplate>,
    ) {
        if self.ifnets.contains_key(child) {
            return;
        }
        if !self.radios.contains(radio) || self.ifnets.contains_key(radio) {
            self.console_error(format!("ifconfig {child} create wlandev {radio}"), Errno::ENXIO);
            return;
        }
        let t = templates.get(child).copied().unwrap_or_default();
        self.wlan_clone_create(child, radio, mac, t);
        if let Some(words) = rc.wlan_args.get(child) {
            self.rc_ifconfig(child, words);
        }
    }

    /// `clone_up` for one interface: `ifconfig IF create [create_args]`,
    /// skipped if it exists. ifconfig loads if_lagg first if it is not
    /// (`ifmaybeload`).
    fn rc_clone_create(&mut self, rc: &RcConf, ifn: &IfName) {
        if self.ifnets.contains_key(ifn) {
            return;
        }
        let what = format!("ifconfig {ifn} create");
        if let Err(e) = self.ifmaybeload_lagg() {
            self.console_error(format!("{what}: kldload if_lagg"), e);
            return;
        }
        if let Err(e) = self.lagg_clone_create(ifn) {
            self.console_error(what, e);
            return;
        }
        let words = rc.clone_args.get(ifn).cloned().unwrap_or_default();
        self.rc_ifconfig(ifn, &words);
    }

    /// `ifnet_rename` for one interface: `ifconfig IF name NEW` when
    /// `ifconfig_IF_name` is set.
    fn rc_rename(&mut self, rc: &RcConf, ifn: &IfName) {
        if let Some(new) = rc.rename.get(ifn) {
            if self.ifnets.contains_key(ifn) {
                self.rc_ifconfig(ifn, &[Word::Name(new.clone())]);
            }
        }
    }

    /// `ifn_start IF` (see the module doc); `cfg` replaces what rc.conf
    /// says of `ifconfig_IF`. A WPA vap whose wpa_supplicant started is
    /// added to `scans`.
    fn rc_ifn_start(
        &mut self,
        rc: &RcConf,
        ifn: &IfName,
        cfg: Option<&Ifconfig>,
        scans: &mut Vec<IfName>,
    ) {
        let cfg = cfg.or_else(|| rc.ifconfig_of(ifn)).cloned().unwrap_or_default();
        let v6 = rc.ipv6_of(ifn).cloned().unwrap_or_default();
        let aliases = rc.aliases.get(ifn).cloned().unwrap_or_default();
        let mut configured = false;
        for words in [&cfg.words, &v6.words] {
            if !words.is_empty() {
                self.rc_ifconfig(ifn, words);
                configured = true;
            }
        }
        for words in &aliases.link {
            self.rc_ifconfig(ifn, words);
        }
        if cfg.wpa {
            if self.wpa_supplicant_start(ifn) {
                scans.push(ifn.clone());
            } else {
                let why = match self.ifnets.get(ifn).map(|i| i.kind) {
                    None => "no such interface",
                    Some(IfKind::Wlan) => "already running",
                    Some(_) => "not a wlan (the simulator runs it on vaps only)",
                };
                self.console.push(format!("wpa_supplicant {ifn}: {why}"));
            }
            configured = true;
        } else if cfg.hostap {
            configured = true;
        } else if configured {
            self.rc_ifconfig(ifn, &[Word::Up]);
        }
        if v6.accept_rtadv && !v6.words.is_empty() {
            self.rc_ifconfig(ifn, &[Word::Up]);
        }
        if cfg.dhcp && !configured {
            self.rc_ifconfig(ifn, &[Word::Up]);
        }
        for words in aliases.inet.iter().chain(&aliases.inet6) {
            self.rc_ifconfig(ifn, words);
        }
        // rc.d/netif's `ifn_start` then starts dhclient for a DHCP
        // interface (`dhcpif`), in the background or not (sim::net).
        self.rc_net_ifn_start(ifn, cfg.dhcp, cfg.sync_dhcp);
    }

    /// An administrator's `ifconfig IF ARGS…` (the `ifconfig` happening):
    /// `create [words…]` clones a lagg first (`ifmaybeload`, then
    /// SIOCIFCREATE2: EEXIST for a name in use, EINVAL without a lagg
    /// cloner), `destroy` destroys a lagg (SIOCIFDESTROY: `if_clone_destroy`
    /// finds no cloner for another interface, EINVAL); the other words are
    /// read by [`conf`] and played by [`SimKernel::rc_ifconfig`].
    pub(super) fn ifconfig_command(&mut self, ifn: &IfName, args: &str) {
        let mut words = args.split_whitespace().peekable();
        match words.peek().copied() {
            Some("create") => {
                words.next();
                let r = self.ifmaybeload_lagg().and_then(|()| self.lagg_clone_create(ifn));
                if let Err(e) = r {
                    self.console_error(format!("ifconfig {ifn} create"), e);
                    return;
                }
            }
            Some("destroy") => {
                match self.ifnets.get(ifn).map(|i| i.kind) {
                    Some(IfKind::Lagg) => self.lagg_clone_destroy(ifn),
                    Some(_) => self.console_error(format!("ifconfig {ifn} destroy"), Errno::EINVAL),
                    None => self.console_error(format!("ifconfig {ifn} destroy"), Errno::ENXIO),
                }
                return;
            }
            _ => {}
        }
        let rest: Vec<&str> = words.collect();
        let words = conf::ifconfig_words(&rest.join(" "), false).words;
        self.rc_ifconfig(ifn, &words);
    }

    /// One `ifconfig IF WORDS…` command (see the module doc for failures).
    fn rc_ifconfig(&mut self, ifn: &IfName, words: &[Word]) {
        if words.is_empty() {
            return;
        }
        if !self.ifnets.contains_key(ifn) {
            self.console.push(format!("ifconfig {ifn}: interface {ifn} does not exist"));
            return;
        }
        // `name NEW` renames the interface the rest of the line is about.
        let mut ifn = ifn.clone();
        for w in words {
            let (result, fatal) = match w {
                Word::Up => (self.siocsifflags(&ifn, true), true),
                Word::Down => (self.siocsifflags(&ifn, false), true),
                Word::LaggProto(p) => (self.siocslagg(&ifn, *p), true),
                Word::LaggPort(p) => match self.lagg_port_create(&ifn, p) {
                    Err(Errno::EEXIST) => (Ok(()), false),
                    r => (r, false),
                },
                Word::DelLaggPort(p) => (self.siocslaggdelport(&ifn, p), true),
                Word::Lladdr(m) => (self.siocsiflladdr(&ifn, *m), true),
                // The driver's SIOCSIFADDR sets IFF_UP (see `conf`).
                Word::Address(_) => (self.siocsifflags(&ifn, true), true),
                Word::Mtu(n) => (self.set_mtu(&ifn, *n), true),
                Word::Name(new) => match self.if_rename(&ifn, new) {
                    Ok(()) => {
                        ifn = new.clone();
                        (Ok(()), true)
                    }
                    Err(e) => (Err(e), true),
                },
                Word::Bad(what) => {
                    self.console.push(format!("ifconfig {ifn}: {what}"));
                    return;
                }
            };
            if let Err(e) = result {
                self.console_error(format!("ifconfig {ifn} {w}"), e);
                if fatal {
                    return;
                }
            }
        }
    }

    pub(super) fn console_error(&mut self, what: String, e: Errno) {
        let name = e.name().map_or_else(|| format!("errno {}", e.code()), str::to_owned);
        self.console.push(format!("{what}: {name}"));
    }

    /// The radios attached now or known to be absent, for checking a
    /// happening's names.
    pub(super) fn known_radios(&self) -> BTreeSet<IfName> {
        self.radios.iter().chain(&self.absent_radios).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::LinkState;
    use crate::kernel::Kernel;
    use crate::sim::factory_mac;
    use crate::sim::fixture::{ev, laptop, mac, n, E};

    /// The seed's set-up without `wlanaddr` (issue 7).
    pub(super) const SEED: &str = "\
# the Handbook's lagg failover, without wlanaddr
wlans_iwn0=\"wlan0\"
ifconfig_wlan0=\"WPA\"
ifconfig_em0=\"up\"
cloned_interfaces=\"lagg0\"
ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"
";

    /// The seed's set-up without `wlanaddr`, booted as the sources say:
    /// wpa_supplicant reads wlan0's factory address when rc starts it
    /// (wlan0 DOWN), `laggport wlan0` then joins the DOWN vap (no bounce:
    /// `wlan_iflladdr` copies em0's MAC into iv_myaddr), and only then does
    /// wpa_supplicant bring wlan0 up, with its stale address: the 4-way
    /// handshake fails and the WiFi never associates.
    #[test]
    fn the_seed_without_wlanaddr_boots_with_dead_wifi() {
        let mut k = laptop();
        k.set_rc_conf(RcConf::parse(SEED).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        let factory = factory_mac(&n("iwn0"));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(factory));
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(E));
        assert!(k.interface("wlan0").unwrap().up, "wpa_supplicant brought it up to scan");
        assert_eq!(k.lagg_mac("lagg0"), Some(mac(E)));
        assert!(k.take_console().is_empty());
        k.settle();
        assert_eq!(k.interface("em0").unwrap().link, LinkState::Up);
        assert_ne!(k.interface("wlan0").unwrap().link, LinkState::Up, "handshake fails");
        assert!(k.traffic_flows("lagg0"), "on the cable");
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        k.settle();
        assert!(!k.traffic_flows("lagg0"), "and nothing on WiFi");
        assert!(k.could_carry(&n("wlan0")));
    }

    /// The same boot with `wlanaddr`: wpa_supplicant reads em0's MAC, and
    /// the WiFi carries when the cable goes.
    #[test]
    fn with_wlanaddr_the_wifi_carries_after_boot() {
        let mut k = laptop();
        let lines = format!("{SEED}create_args_wlan0=\"wlanaddr {E}\"\n");
        k.set_rc_conf(RcConf::parse(&lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        k.settle();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        assert!(k.traffic_flows("lagg0"));
    }

    /// A `wlanaddr` after another word of `create_args_wlan0` comes too
    /// late: ifconfig created wlan0 at `country` (see
    /// `conf::wlan_create_words`), so wlan0 has its factory address, and
    /// `wlanaddr` fails on rc's console; the WiFi is as dead as without it.
    #[test]
    fn a_wlanaddr_after_country_is_not_the_vap_s_address() {
        let mut k = booted(&format!("{SEED}create_args_wlan0=\"country DE wlanaddr {E}\"\n"));
        let factory = factory_mac(&n("iwn0"));
        assert_eq!(k.interface("wlan0").unwrap().hwaddr, Some(factory));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(factory));
        assert_eq!(k.take_console(), ["ifconfig wlan0: wlanaddr: bad value"]);
        k.settle();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        k.settle();
        assert!(!k.traffic_flows("lagg0"));
    }

    /// Boot order and events: the NICs' ATTACH (the kernel attaches them
    /// before rc runs), then what rc creates, in order; nothing of the
    /// teardown (devd was not running); then the links an autonegotiation
    /// and an association later.
    #[test]
    fn boot_events_are_the_attaches_then_rc_then_the_links() {
        let mut k = laptop();
        let lines = format!("{SEED}create_args_wlan0=\"wlanaddr {E}\"\n");
        k.set_rc_conf(RcConf::parse(&lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert_eq!(
            k.take_events(),
            [
                ev("em0", "ATTACH"),
                ev("wlan0", "ATTACH"),
                ev("lagg0", "ATTACH"),
                ev("lagg0", "LINK_DOWN")
            ]
        );
        assert_eq!(k.writes(), 0, "rc's requests are not lagghook's");
        let indices: Vec<(String, u32)> = ["em0", "wlan0", "lagg0"]
            .iter()
            .map(|i| (i.to_string(), k.interface(i).unwrap().index))
            .collect();
        assert_eq!(indices, [("em0".into(), 1), ("wlan0".into(), 2), ("lagg0".into(), 3)]);
        k.settle();
        assert_eq!(
            k.take_events(),
            [ev("wlan0", "LINK_UP"), ev("lagg0", "LINK_UP"), ev("em0", "LINK_UP")]
        );
    }

    /// An absent radio: `ifconfig wlan0 create` fails, `laggport wlan0`
    /// fails and the rest of the line still runs; `attach-radio` brings
    /// the radio, and rc's startchildren creates and configures wlan0,
    /// but nothing adds it to lagg0.
    #[test]
    fn an_absent_radio_fails_its_vaps_until_it_attaches() {
        let mut k = with_wlanaddr();
        k.happen(&"reboot absent=iwn0".parse().unwrap()).unwrap();
        assert!(k.interface("wlan0").is_none());
        assert_eq!(
            k.take_console(),
            ["ifconfig wlan0 create wlandev iwn0: ENXIO", "ifconfig lagg0 laggport wlan0: EINVAL"]
        );
        assert_eq!(k.lagg("lagg0").unwrap().ports.len(), 1);
        assert!(k.radios().next().is_none());
        let saved = k.clone();
        k.settle();
        assert_eq!(SimKernel::from_machine(&k.to_machine()).unwrap(), k, "absent_radios kept");
        k = saved;
        let err = k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("iwn0 is absent"), "{err}");
        k.take_events();
        k.happen(&"attach-radio iwn0".parse().unwrap()).unwrap();
        assert_eq!(k.take_events(), [ev("wlan0", "ATTACH")]);
        let w = k.interface("wlan0").unwrap();
        assert!(w.up);
        assert_eq!((w.mac, k.wpa_supplicant_mac("wlan0")), (mac(E), Some(mac(E))));
        assert!(!k.lagg("lagg0").unwrap().has_port(&n("wlan0")));
        // The radio's presence is state a machine file keeps.
        k.settle();
        let again = SimKernel::from_machine(&k.to_machine()).unwrap();
        assert_eq!(again, k);
    }

    /// A NIC absent at boot is not there; the radio-less rc still builds
    /// lagg0 from what is.
    #[test]
    fn an_absent_nic_is_gone_and_the_rest_boots() {
        let mut k = with_wlanaddr();
        k.happen(&"reboot absent=em0".parse().unwrap()).unwrap();
        assert!(k.interface("em0").is_none());
        // wlan0 took index 1, lagg0 2; lagg0 got wlan0 as its first port.
        assert_eq!(k.interface("wlan0").unwrap().index, 1);
        assert_eq!(k.lagg("lagg0").unwrap().primary(), Some(&n("wlan0")));
        assert_eq!(k.take_console(), ["ifconfig lagg0 laggport em0: EINVAL"]);
        k.settle();
        assert!(k.traffic_flows("lagg0"));
    }

    /// Resume: a running NIC renegotiates and a running vap re-associates;
    /// a reloaded radio's vaps are destroyed and re-created by rc, and the
    /// `resume` scripts are due.
    #[test]
    fn resume_restarts_links_and_reload_recreates_vaps() {
        let mut k = with_wlanaddr();
        k.happen(&"resume".parse().unwrap()).unwrap();
        assert!(k.take_resume_scripts());
        assert!(!k.take_resume_scripts());
        assert_eq!(
            k.take_events(),
            [ev("em0", "LINK_DOWN"), ev("wlan0", "LINK_DOWN"), ev("lagg0", "LINK_DOWN")]
        );
        assert!(k.lagg("lagg0").unwrap().has_port(&n("wlan0")), "membership survives");
        k.settle();
        assert!(k.traffic_flows("lagg0"));
        k.take_events();
        k.happen(&"resume reload=iwn0".parse().unwrap()).unwrap();
        let events: Vec<String> =
            k.take_events().iter().map(|e| format!("{} {}", e.subsystem, e.kind)).collect();
        // The vap's DETACH comes before the link changes its departure
        // causes (see the fidelity notes in `sim`).
        assert_eq!(
            events,
            ["em0 LINK_DOWN", "wlan0 DETACH", "lagg0 LINK_DOWN", "wlan0 LINK_DOWN", "wlan0 ATTACH"]
        );
        assert!(!k.lagg("lagg0").unwrap().has_port(&n("wlan0")));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        assert!(k.take_resume_scripts());
    }

    #[test]
    fn a_lagg_created_by_rc_loads_if_lagg_at_securelevel_minus_one() {
        let mut m = crate::sim::fixture::Laptop::new().machine();
        m.securelevel = Some(2);
        let mut k = SimKernel::from_machine(&m).unwrap();
        k.set_rc_conf(RcConf::parse(SEED).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        // rc.d/securelevel runs after netif: kldload at boot still works.
        assert!(k.lagg_module().unwrap().loaded);
        assert!(k.lagg("lagg0").is_some());
        assert!(k.take_console().is_empty());
    }

    /// A reboot unloads if_lagg unless it is compiled in (loaded, and no
    /// `if_lagg.ko` it could have come from): without a lagg in rc.conf it
    /// stays unloaded, and the sysctl is back at its default either way.
    #[test]
    fn a_reboot_unloads_if_lagg_unless_compiled_in() {
        let mut k = laptop();
        k.set_failover_rx_all(true).unwrap();
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert!(!k.lagg_module().unwrap().loaded);
        assert!(k.interface("wlan0").is_none() && k.interface("lagg0").is_none());
        let mut m = crate::sim::fixture::Laptop::new().machine();
        (m.if_lagg_ko, m.failover_rx_all) = (Some(false), Some(1));
        let mut k = SimKernel::from_machine(&m).unwrap();
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert_eq!(k.failover_rx_all().unwrap(), Some(false));
    }

    /// `mtu` on a lagg goes to its ports first; a refusal puts back the
    /// ones already changed, and the failure ends that ifconfig command
    /// (rc's own `ifconfig lagg0 up` after it still runs).
    #[test]
    fn mtu_words_reach_the_ports_and_a_refusal_stops_the_command() {
        let lines = "cloned_interfaces=lagg0\nifconfig_em0=up\n\
                     ifconfig_lagg0=\"laggport em0 mtu 4000 laggport wlan0\"\n\
                     wlans_iwn0=wlan0\n";
        let mut k = laptop();
        k.set_rc_conf(RcConf::parse(lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        // A jumbo lagg: em0 takes 4000, wlan0 cannot join (lagg_port_create).
        assert_eq!(k.take_console(), ["ifconfig lagg0 laggport wlan0: EINVAL"]);
        assert_eq!(k.interface("em0").unwrap().mtu, 4000);
        let lines = lines.replace("laggport em0 mtu", "laggport wlan0 laggport em0 mtu");
        let lines = lines.replace("4000 laggport wlan0", "4000 laggport em0");
        k.set_rc_conf(RcConf::parse(&lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        // net80211 refuses 4000 (IEEE80211_MTU_MAX 2290): em0 goes back.
        assert_eq!(k.take_console(), ["ifconfig lagg0 mtu 4000: EINVAL"]);
        let mtus: Vec<u32> =
            ["em0", "wlan0", "lagg0"].iter().map(|i| k.interface(i).unwrap().mtu).collect();
        assert_eq!(mtus, [1500, 1500, 1500]);
        assert!(k.interface("lagg0").unwrap().up, "rc's `ifconfig lagg0 up`");
    }

    /// The laptop with the seed's rc.conf lines and em0's `wlanaddr`.
    fn with_wlanaddr() -> SimKernel {
        let mut k = laptop();
        k.set_rc_conf(
            RcConf::parse(&format!("{SEED}create_args_wlan0=\"wlanaddr {E}\"\n")).unwrap(),
        );
        k
    }

    fn booted(lines: &str) -> SimKernel {
        let mut k = laptop();
        k.set_rc_conf(RcConf::parse(lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        k
    }

    /// Issue 19.4: a card attach (`create-wlan`, `attach-radio`) and a
    /// driver reload configure the vap alike, from `ifconfig_wlan0`, as
    /// `netif quietstart wlan0` does: here its `ether` word, applied while
    /// the vap is down, so net80211 and wpa_supplicant take it.
    #[test]
    fn create_wlan_attach_radio_and_reload_apply_ifconfig_wlan0_alike() {
        let lines = format!("{SEED}ifconfig_wlan0=\"ether {E} WPA\"\n");
        let rc = RcConf::parse(&lines).unwrap();
        let check = |k: &SimKernel, how: &str| {
            let w = k.interface("wlan0").unwrap();
            assert_eq!(w.mac, mac(E), "{how}");
            assert_eq!(w.hwaddr, Some(factory_mac(&n("iwn0"))), "{how}: created without wlanaddr");
            assert_eq!(k.air_mac("wlan0"), Some(mac(E)), "{how}");
            assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)), "{how}");
            assert!(w.up, "{how}: wpa_supplicant brought it up");
        };
        let mut k = laptop();
        k.set_rc_conf(rc.clone());
        k.happen(&"destroy wlan0".parse().unwrap()).unwrap();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        check(&k, "create-wlan");
        let mut k = laptop();
        k.set_rc_conf(rc.clone());
        k.happen(&"resume reload=iwn0".parse().unwrap()).unwrap();
        check(&k, "resume reload=");
        let mut k = laptop();
        k.set_rc_conf(rc);
        k.happen(&"reboot absent=iwn0".parse().unwrap()).unwrap();
        k.happen(&"attach-radio iwn0".parse().unwrap()).unwrap();
        check(&k, "attach-radio");
        assert!(k.take_console().iter().all(|l| !l.contains("wlan0 ether")));
    }

    /// Issue 19.4: `ifconfig_wlan0_name` is `ifnet_rename`, after
    /// `clone_up`: wlan0 ATTACH, lagg0 ATTACH, then wlan0 RENAME; the vap
    /// is then configured under its new name (`ifconfig_wifi0`), and only
    /// `ifconfig_lagg0`, which runs after the rename, finds `wifi0`.
    #[test]
    fn ifconfig_wlan0_name_renames_after_clone_up_and_configures_the_new_name() {
        let lines = format!(
            "wlans_iwn0=\"wlan0\"\ncreate_args_wlan0=\"wlanaddr {E}\"\n\
             ifconfig_wlan0_name=\"wifi0\"\nifconfig_wifi0=\"WPA\"\nifconfig_em0=\"up\"\n\
             cloned_interfaces=\"lagg0\"\n\
             ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wifi0\"\n"
        );
        let mut k = booted(&lines);
        let events: Vec<String> =
            k.take_events().iter().map(|e| format!("{} {}", e.subsystem, e.kind)).collect();
        assert_eq!(
            events,
            ["em0 ATTACH", "wlan0 ATTACH", "lagg0 ATTACH", "wlan0 RENAME", "lagg0 LINK_DOWN"]
        );
        assert!(k.interface("wlan0").is_none());
        assert!(k.lagg("lagg0").unwrap().has_port(&n("wifi0")));
        assert_eq!(k.wpa_supplicant_mac("wifi0"), Some(mac(E)));
        assert!(k.take_console().is_empty());
        // In create_args_lagg0 (clone_up, before the rename) no wifi0 yet.
        let lines = lines.replace("ifconfig_lagg0=\"up ", "create_args_lagg0=\"");
        let mut k = booted(&lines);
        assert_eq!(k.take_console(), ["ifconfig lagg0 laggport wifi0: EINVAL"]);
        assert!(!k.lagg("lagg0").unwrap().has_port(&n("wifi0")));
        // A card attach: `netif quietstart wlan0` renames it, then
        // configures `wlan0`, which no longer exists: wifi0 is left down,
        // without wpa_supplicant.
        k.happen(&"destroy wifi0".parse().unwrap()).unwrap();
        k.take_events();
        k.happen(&"resume reload=iwn0".parse().unwrap()).unwrap();
        let w = k.interface("wifi0").unwrap();
        assert!(!w.up);
        assert_eq!(k.wpa_supplicant_mac("wifi0"), None);
        assert!(k.take_console().is_empty(), "no ifconfig_wlan0: nothing to fail");
        // Had it an `ifconfig_wlan0`, its wpa_supplicant would find no wlan0.
        let lines = format!("{lines}ifconfig_wlan0=\"WPA\"\n");
        let mut k = booted(&lines);
        k.happen(&"destroy wifi0".parse().unwrap()).unwrap();
        k.take_console();
        k.happen(&"resume reload=iwn0".parse().unwrap()).unwrap();
        assert_eq!(k.take_console(), ["wpa_supplicant wlan0: no such interface"]);
        assert_eq!(k.wpa_supplicant_mac("wifi0"), None);
    }

    /// `wlans_iwn0="wifi0"` is the other path: `wlan_up` creates and names
    /// it in one ifconfig command, and a card attach configures it.
    #[test]
    fn wlans_naming_the_vap_creates_it_under_its_name_at_boot_and_attach() {
        let lines = format!(
            "wlans_iwn0=\"wifi0\"\ncreate_args_wifi0=\"wlanaddr {E}\"\nifconfig_wifi0=\"WPA\"\n\
             ifconfig_em0=\"up\"\ncloned_interfaces=\"lagg0\"\n\
             create_args_lagg0=\"laggproto failover laggport em0 laggport wifi0\"\n"
        );
        let mut k = booted(&lines);
        let events: Vec<String> =
            k.take_events().iter().map(|e| format!("{} {}", e.subsystem, e.kind)).collect();
        assert_eq!(events[..4], ["em0 ATTACH", "wlan0 ATTACH", "wlan0 RENAME", "lagg0 ATTACH"]);
        assert!(k.lagg("lagg0").unwrap().has_port(&n("wifi0")));
        k.happen(&"resume reload=iwn0".parse().unwrap()).unwrap();
        assert_eq!(k.wpa_supplicant_mac("wifi0"), Some(mac(E)));
        assert!(k.take_console().is_empty());
    }

    /// Issue 19.3: rc's order decides an MTU on a port. `clone_up` builds
    /// the lagg from `create_args_lagg0` before `ifn_start em0`, so em0 is
    /// a member when `ifconfig em0 mtu 1400 up` runs: `lagg_port_ioctl`
    /// refuses, ifconfig exits before its `up`, and rc's own `ifconfig em0
    /// up` after it brings em0 up at the lagg's 1500. With the ports in
    /// `ifconfig_lagg0` instead (lagg0 comes after em0 in `ifconfig -l`),
    /// em0 takes 1400 first and gives it to the lagg, and wlan0 follows.
    #[test]
    fn an_mtu_on_a_port_is_refused_once_the_port_joined_by_rc_order() {
        let create = format!(
            "wlans_iwn0=\"wlan0\"\ncreate_args_wlan0=\"wlanaddr {E}\"\nifconfig_wlan0=\"WPA\"\n\
             ifconfig_em0=\"mtu 1400 up\"\ncloned_interfaces=\"lagg0\"\n\
             create_args_lagg0=\"laggproto failover laggport em0 laggport wlan0\"\n\
             ifconfig_lagg0=\"up\"\n"
        );
        let mtus = |k: &SimKernel| -> Vec<u32> {
            ["em0", "wlan0", "lagg0"].iter().map(|i| k.interface(i).unwrap().mtu).collect()
        };
        let mut k = booted(&create);
        assert_eq!(k.take_console(), ["ifconfig em0 mtu 1400: EINVAL"]);
        assert_eq!(mtus(&k), [1500, 1500, 1500]);
        assert!(k.interface("em0").unwrap().up, "rc's own `ifconfig em0 up`");
        let ifconfig = create
            .replace("create_args_lagg0=\"", "ifconfig_lagg0=\"up ")
            .replace("ifconfig_lagg0=\"up\"\n", "");
        let mut k = booted(&ifconfig);
        assert!(k.take_console().is_empty());
        assert_eq!(mtus(&k), [1400, 1400, 1400]);
    }

    /// `network_interfaces`, `NOAUTO`, aliases, `ifconfig_DEFAULT` and a
    /// word ifconfig does not know, as rc and ifconfig play them.
    #[test]
    fn interface_lists_aliases_defaults_and_bad_words() {
        let base = format!(
            "wlans_iwn0=\"wlan0\"\ncreate_args_wlan0=\"wlanaddr {E}\"\nifconfig_wlan0=\"WPA\"\n\
             cloned_interfaces=\"lagg0\"\n\
             create_args_lagg0=\"laggproto failover laggport em0 laggport wlan0\"\n\
             ifconfig_lagg0=\"up\"\n"
        );
        // em0 is left out of the list: nothing brings it up.
        let k = booted(&format!("{base}ifconfig_em0=\"up\"\nnetwork_interfaces=\"wlan0\"\n"));
        assert!(!k.interface("em0").unwrap().up);
        assert!(k.interface("lagg0").unwrap().up, "cloned_interfaces are listed too");
        let k = booted(&format!("{base}ifconfig_em0=\"NOAUTO up\"\n"));
        assert!(!k.interface("em0").unwrap().up);
        // An IPv4 alias is an address: it brings em0 up (SIOCSIFADDR).
        let k = booted(&format!("{base}ifconfig_em0_alias0=\"inet 10.0.0.5/32\"\n"));
        assert!(k.interface("em0").unwrap().up);
        // An ether alias sets em0's address (`ifconfig em0 ether … alias`);
        // as a port of a lagg that is not running yet, it gets the lagg's
        // back when `ifconfig lagg0 up` runs `lagg_init`.
        let alias = "ifconfig_em0=\"up\"\nifconfig_em0_alias0=\"ether 02:00:00:00:00:01\"\n";
        let k = booted(alias);
        assert_eq!(k.interface("em0").unwrap().mac, mac("02:00:00:00:00:01"));
        let k = booted(&format!("{base}{alias}"));
        assert_eq!(k.interface("em0").unwrap().mac, mac(E));
        // ifconfig_DEFAULT for an interface without its own line.
        let k = booted(&format!("{base}ifconfig_DEFAULT=\"DHCP\"\n"));
        assert!(k.interface("em0").unwrap().up);
        // ifconfig stops at a word it does not know; rc's `ifconfig em0
        // up` after the line still runs.
        let mut k = booted(&format!("{base}ifconfig_em0=\"frobnicate mtu 1400 up\"\n"));
        assert_eq!(k.take_console(), ["ifconfig em0: frobnicate: bad value"]);
        assert!(k.interface("em0").unwrap().up);
        // Another cloner's interface is not created, and says so.
        let mut k = booted(&base.replace("\"lagg0\"", "\"lagg0 tap0\""));
        assert_eq!(
            k.take_console()[0],
            "ifconfig tap0 create: not modelled (the simulator clones lagg(4) interfaces only)"
        );
    }
}
