//! The pseudo Ethernet drivers FreeBSD's own network tests build laggs
//! from, modelled so the differential conformance harness
//! ([`crate::conformance`]) can run the same happenings here and in a
//! vnet jail: tap(4) (`sys/net/if_tuntap.c`) and epair(4)
//! (`sys/net/if_epair.c`), both read in `fel1x-developer/freebsd-src` @
//! 2d614aa2fe3e037bd11d351b0b5cfda776e65814 (main after 14.0). Also
//! here: what `ifconfig IF destroy` (SIOCIFDESTROY, `if_clone_destroy` in
//! `sys/net/if_clone.c`) and `ifconfig IF name NEW` (SIOCSIFNAME,
//! `if_rename` in `sys/net/if.c`, `gmshake/freebsd-src` @
//! dafe137c3576ffe58793a4ae053124440950c894) do to any interface. Not
//! owned here: the generic ifnet rules ([`super::ifnet`]) and lagg's
//! ([`super::if_lagg`]) these call into.
//!
//! How they differ from a NIC, and why a harness wants them:
//! - tap: the link follows the character device being open (`tunopen`
//!   reports LINK_STATE_UP, `tundtor` LINK_STATE_DOWN), whatever IFF_UP
//!   says; that is how `tests/sys/net/if_lagg_test.sh` flaps a lagg's
//!   links (`cat /dev/$TAP0 &`, then `kill`). The harness sets IFF_LINK0
//!   on its taps, so that the last close skips `tundtor`'s `if_down` and
//!   address purge ("goto out") and is a cable pull, nothing more; the
//!   model assumes it. SIOCSIFFLAGS changes nothing in the driver, so a
//!   tap reports no LINK_DOWN on `ifconfig down` and the bounce of
//!   `if_setlladdr` leaves its link alone. SIOCSIFMTU takes any MTU,
//!   SIOCSIFCAP any supported set (`tunifioctl`), without a reset. It
//!   offers IFCAP_LINKSTATE (enabled) and RXCSUM, RXCSUM_IPV6, LRO
//!   (`tuncreate`). Its address comes from `ether_gen_addr`: FreeBSD's
//!   OUI 58:9c:fc and a hash of the host UUID and the interface's name,
//!   so a tap re-created under the same name gets the same address; the
//!   model hashes the name alone.
//! - epair: both ends report LINK_STATE_UP when created and DOWN when
//!   destroyed (`epair_set_state` in `epair_clone_create`,
//!   `epair_clone_destroy`), whatever IFF_UP says; destroying either end
//!   destroys both. IFCAP_VLAN_MTU only (`epair_setup_ifp`); SIOCSIFCAP
//!   ends in `ether_ioctl`'s EINVAL, SIOCSIFMTU takes any MTU. The `a`
//!   end's address is 02:xx:xx:xx:xx:0a from a counter and the host id
//!   (`epair_generate_mac`), the `b` end's the same ending in 0b
//!   (`epair_clone_add`).
//! - Link changes go through `if_link_state_change`, which queues
//!   `do_link_state_change` on the `taskqueue_swi` thread, and
//!   `if_detach_internal` drains the interface's own task before it sends
//!   DETACH: a destroyed tap or epair end reports its LINK_DOWN before its
//!   DETACH. Destroying an epair queues both ends' tasks before either is
//!   drained, so the `b` end's LINK_DOWN comes before the LINK_DOWN of a
//!   lagg the `a` end leaves.

use crate::abi::{self, IFCAP_LINKSTATE, IFCAP_LRO, IFCAP_RXCSUM, IFCAP_RXCSUM_IPV6};
use crate::domain::event::IfnetEventKind;
use crate::domain::model::{IfKind, IfName, LinkState, MacAddr};
use crate::kernel::Errno;

use super::ifnet::Ifnet;
use super::SimKernel;

/// Which pseudo driver an ifnet has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pseudo {
    /// tap(4); the ifnet's `medium` is "the character device is open".
    /// `unit`: its device's (`/dev/tapN`), which a rename does not free.
    Tap { unit: u32 },
    /// One end of an epair(4); `peer` is the other end's `if_index`
    /// (stable across renames), `unit` the pair's.
    Epair { peer: u32, unit: u32 },
}

/// What a tap offers (`tuncreate`).
const TAP_CAPS: u32 = IFCAP_LINKSTATE | IFCAP_RXCSUM | IFCAP_RXCSUM_IPV6 | IFCAP_LRO;

impl Pseudo {
    /// Whether the driver reports its link up: a tap while open, an epair
    /// end from create to destroy; never IFF_UP.
    pub(super) fn carrier(&self, ifn: &Ifnet) -> bool {
        match self {
            Pseudo::Tap { .. } | Pseudo::Epair { .. } => ifn.medium,
        }
    }
}

/// A deterministic stand-in for `ether_gen_addr`'s hash of the name.
fn tap_mac(name: &IfName) -> MacAddr {
    let h = name
        .as_str()
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    let [_, a, b, c] = h.to_be_bytes();
    MacAddr([0x58, 0x9c, 0xfc, a, b, c])
}

impl SimKernel {
    /// The lowest unit no tap (or epair) holds, whatever it is called
    /// now (`alloc_unr` in `tun_clone_create`, `ifc_alloc_unit` in
    /// `epair_handle_unit`), and whose name is free.
    fn free_unit(&self, epair: bool) -> u32 {
        let held: std::collections::BTreeSet<u32> = self
            .ifnets
            .values()
            .filter_map(|i| match i.pseudo {
                Some(Pseudo::Tap { unit }) if !epair => Some(unit),
                Some(Pseudo::Epair { unit, .. }) if epair => Some(unit),
                _ => None,
            })
            .collect();
        let taken = |n: String| IfName::new(&n).is_ok_and(|n| self.ifnets.contains_key(&n));
        (0u32..)
            .find(|u| {
                !held.contains(u)
                    && if epair {
                        !taken(format!("epair{u}a")) && !taken(format!("epair{u}b"))
                    } else {
                        !taken(format!("tap{u}"))
                    }
            })
            .unwrap_or(0)
    }

    fn pseudo_ifnet(&self, name: IfName, mac: MacAddr, caps: (u32, u32), pseudo: Pseudo) -> Ifnet {
        Ifnet {
            name,
            index: self.lowest_free_index(),
            kind: IfKind::Ether,
            lladdr: mac,
            hwaddr: Some(mac),
            up: false,
            medium: false,
            link: LinkState::Unknown,
            mtu: abi::ETHERMTU,
            max_mtu: None,
            capabilities: caps.0,
            caps: caps.1,
            vap: None,
            lagg: None,
            link_due: None,
            link_delay: Some(0),
            pseudo: Some(pseudo),
        }
    }

    /// `ifconfig tap create` (`tun_clone_create`, `tuncreate`): a tapN with
    /// the next free unit, closed, so its link is LINK_STATE_UNKNOWN. Its
    /// name is returned, as ifconfig prints it.
    /// ENOSPC only if no unit is left (`alloc_unr`).
    pub fn tap_create(&mut self) -> Result<IfName, Errno> {
        let unit = self.free_unit(false);
        let name = IfName::new(&format!("tap{unit}")).map_err(|_| Errno::ENOSPC)?;
        let mac = tap_mac(&name);
        let tap = Pseudo::Tap { unit };
        let ifn = self.pseudo_ifnet(name.clone(), mac, (TAP_CAPS, IFCAP_LINKSTATE), tap);
        self.attach(ifn);
        Ok(name)
    }

    /// Opening (`tunopen`) or closing (`tundtor`, IFF_LINK0 set) a tap's
    /// character device: its link goes up or down at once. ENXIO: no such
    /// interface (no such device); ENODEV: not a tap; EBUSY: already open.
    pub fn tap_set_open(&mut self, name: &IfName, open: bool) -> Result<(), Errno> {
        let ifn = self.ifnets.get(name).ok_or(Errno::ENXIO)?;
        if !matches!(ifn.pseudo, Some(Pseudo::Tap { .. })) {
            return Err(Errno::ENODEV);
        }
        if open && ifn.medium {
            return Err(Errno::EBUSY);
        }
        self.set_medium(name, open);
        Ok(())
    }

    /// Whether `name` is a tap.
    pub fn is_tap(&self, name: &IfName) -> bool {
        self.ifnets.get(name).is_some_and(|i| matches!(i.pseudo, Some(Pseudo::Tap { .. })))
    }

    /// Whether `name` is a tap whose device is open.
    pub fn tap_is_open(&self, name: &IfName) -> bool {
        self.is_tap(name) && self.ifnets.get(name).is_some_and(|i| i.medium)
    }

    /// `ifconfig epair create` (`epair_clone_create`): epairNa and epairNb,
    /// attached in that order, then both links up. The two names are
    /// returned; ifconfig prints the first. ENOSPC only if no unit is
    /// left (`ifc_alloc_unit`).
    pub fn epair_create(&mut self) -> Result<(IfName, IfName), Errno> {
        let unit = self.free_unit(true);
        let name = |s: &str| IfName::new(&format!("epair{unit}{s}")).map_err(|_| Errno::ENOSPC);
        let (a, b) = (name("a")?, name("b")?);
        self.epairs_made += 1;
        let n = self.epairs_made.to_be_bytes();
        let mac_a = MacAddr([0x02, n[0], n[1], n[2], n[3], 0x0a]);
        let mac_b = MacAddr([0x02, n[0], n[1], n[2], n[3], 0x0b]);
        let caps = (abi::IFCAP_VLAN_MTU, abi::IFCAP_VLAN_MTU);
        let ia = self.lowest_free_index();
        let ifa = self.pseudo_ifnet(a.clone(), mac_a, caps, Pseudo::Epair { peer: 0, unit });
        self.attach(ifa);
        let ib = self.lowest_free_index();
        let ifb = self.pseudo_ifnet(b.clone(), mac_b, caps, Pseudo::Epair { peer: ia, unit });
        self.attach(ifb);
        if let Some(i) = self.ifnets.get_mut(&a) {
            i.pseudo = Some(Pseudo::Epair { peer: ib, unit });
        }
        self.set_medium(&a, true);
        self.set_medium(&b, true);
        Ok((a, b))
    }

    /// `ifconfig IF destroy`: SIOCIFDESTROY, `if_clone_destroy`, which
    /// finds the cloner by the driver's name (`if_dname`, unchanged by a
    /// rename): ENXIO for no such interface, EINVAL for one no cloner made
    /// (a NIC). A lagg goes through `lagg_clone_destroy`, a vap through
    /// `wlan_clone_destroy` (its detach, [`SimKernel::if_detach`]).
    pub fn clone_destroy(&mut self, name: &IfName) -> Result<(), Errno> {
        let ifn = self.ifnets.get(name).ok_or(Errno::ENXIO)?;
        match (&ifn.pseudo, ifn.kind) {
            (Some(Pseudo::Tap { .. }), _) => {
                // `tun_destroy`: `destroy_dev` closes the device first
                // (`tundtor`: LINK_DOWN queued), `ether_ifdetach` drains it
                // before DETACH.
                self.set_medium(name, false);
                self.if_detach(name);
            }
            (Some(Pseudo::Epair { peer, .. }), _) => {
                let peer = self.ifnets.values().find(|i| i.index == *peer).map(|i| i.name.clone());
                // `epair_set_state(ifp, false)`, then the peer's: both
                // tasks are queued before `ether_ifdetach(ifp)` drains the
                // first, so both LINK_DOWNs come before a lagg's.
                let ends: Vec<IfName> = std::iter::once(name.clone()).chain(peer).collect();
                let mut laggs = Vec::new();
                for e in &ends {
                    if let Some(i) = self.ifnets.get_mut(e) {
                        i.medium = false;
                        i.link_due = None;
                        if i.link == LinkState::Up {
                            i.link = LinkState::Down;
                            self.emit(e, IfnetEventKind::LinkDown);
                        }
                    }
                    laggs.extend(self.lagg_of(e));
                }
                for l in &laggs {
                    self.lagg_linkstate(l);
                }
                for e in &ends {
                    self.if_detach(e);
                }
            }
            (None, IfKind::Lagg) => self.lagg_clone_destroy(name),
            (None, IfKind::Wlan) => self.if_detach(name),
            (None, _) => return Err(Errno::EINVAL),
        }
        self.note_lagg_macs();
        Ok(())
    }

    /// `ifconfig IF name NEW`: SIOCSIFNAME ([`SimKernel::if_rename`]: a
    /// lagg keeps a port that is only renamed), for the harness; the
    /// oracle's record of a lagg's address follows a renamed lagg.
    pub fn rename(&mut self, name: &IfName, new: &IfName) -> Result<(), Errno> {
        self.if_rename(name, new)?;
        if let Some(mac) = self.lagg_mac_last.remove(name) {
            self.lagg_mac_last.insert(new.clone(), mac);
        }
        Ok(())
    }

    /// `ifconfig wlan create wlandev RADIO [wlanaddr MAC]` and `name VAP`:
    /// `wlan_clone_create` (`sys/net80211/ieee80211_freebsd.c`) refuses a
    /// radio net80211 does not know (ENXIO); the vap attaches as wlanN and
    /// is renamed (ATTACH, RENAME), not UP, with no AP in reach (a wtap(4)
    /// radio has none) and no wpa_supplicant.
    pub fn wlan_create(
        &mut self,
        name: &IfName,
        radio: &IfName,
        mac: Option<MacAddr>,
    ) -> Result<(), Errno> {
        if !self.radios.contains(radio) {
            return Err(Errno::ENXIO);
        }
        if self.ifnets.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let t = super::net80211::VapTemplate {
            medium: false,
            open: true,
            ctrl: false,
            link_delay: None,
        };
        self.wlan_clone_create(name, radio, mac, t);
        Ok(())
    }

    /// A wtap(4) radio appearing (`wtap c N`): an 802.11 device net80211
    /// knows, no ifnet. EEXIST if it is there already.
    pub fn wtap_create(&mut self, radio: &IfName) -> Result<(), Errno> {
        if !self.radios.insert(radio.clone()) {
            return Err(Errno::EEXIST);
        }
        self.absent_radios.remove(radio);
        Ok(())
    }

    /// A tap's share of `lagg_setcaps`: `tunifioctl` takes the set as it
    /// is; an epair refuses (`ether_ioctl`: EINVAL), which lagg ignores.
    /// `false` for an ifnet without a pseudo driver.
    pub(super) fn pseudo_setcaps(&mut self, port: &IfName, cap: u32) -> bool {
        let Some(ifn) = self.ifnets.get_mut(port) else { return false };
        match ifn.pseudo {
            Some(Pseudo::Tap { .. }) => {
                ifn.caps = cap & ifn.capabilities;
                true
            }
            Some(Pseudo::Epair { .. }) => true,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use crate::sim::fixture::{ev, n, p, ports};

    /// Proves a tap's link follows its device, not IFF_UP, and its events.
    #[test]
    fn tap_link_follows_the_device_not_iff_up() {
        let mut k = SimKernel::new();
        let t = k.tap_create().unwrap();
        assert_eq!(t, n("tap0"));
        // A rename keeps the device's unit: the next tap is tap1.
        k.rename(&t, &n("lhc0")).unwrap();
        assert_eq!(k.tap_create().unwrap(), n("tap1"));
        k.clone_destroy(&n("tap1")).unwrap();
        k.rename(&n("lhc0"), &t).unwrap();
        k.take_events();
        assert_eq!(k.interface("tap0").unwrap().link, LinkState::Unknown);
        k.tap_set_open(&t, true).unwrap();
        assert_eq!(k.interface("tap0").unwrap().link, LinkState::Up);
        k.set_up(&t, true).unwrap();
        k.set_up(&t, false).unwrap();
        assert_eq!(k.interface("tap0").unwrap().link, LinkState::Up, "no LINK_DOWN on down");
        k.tap_set_open(&t, false).unwrap();
        assert_eq!(k.tap_set_open(&n("nope0"), true), Err(Errno::ENXIO));
        assert_eq!(k.take_events(), vec![ev("tap0", "LINK_UP"), ev("tap0", "LINK_DOWN")]);
        // Same name, same address (`ether_gen_addr`).
        let mac = k.interface("tap0").unwrap().mac;
        k.clone_destroy(&t).unwrap();
        assert_eq!(k.tap_create().unwrap(), t);
        assert_eq!(k.interface("tap0").unwrap().mac, mac);
    }

    /// Proves an epair's ends are up from create to destroy, go together,
    /// and report LINK_DOWN before DETACH, the peer's before the lagg's.
    #[test]
    fn epair_ends_live_and_die_together() {
        let mut k = SimKernel::new();
        let (a, b) = k.epair_create().unwrap();
        k.rename(&a, &n("lhc0")).unwrap();
        assert_eq!(k.interface("epair0b").unwrap().link, LinkState::Up);
        k.create_lagg(&n("lagg0")).unwrap();
        k.add_lagg_port(&n("lagg0"), &n("lhc0")).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("lhc0", true, false)]);
        k.set_up(&n("lhc0"), true).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("lhc0", true, true)]);
        k.take_events();
        k.clone_destroy(&n("lhc0")).unwrap();
        assert!(k.interface("epair0b").is_none());
        assert_eq!(
            k.take_events(),
            vec![
                ev("lhc0", "LINK_DOWN"),
                ev(b.as_str(), "LINK_DOWN"),
                ev("lagg0", "LINK_DOWN"),
                ev("lhc0", "DETACH"),
                ev(b.as_str(), "DETACH"),
            ]
        );
    }

    /// Proves a renamed port stays in its lagg under its new name, and the
    /// refusals of SIOCSIFNAME and SIOCIFDESTROY.
    #[test]
    fn rename_keeps_lagg_membership_and_destroy_refuses_a_nic() {
        let mut k = crate::sim::fixture::laptop();
        k.take_events();
        k.rename(&n("em0"), &n("lan0")).unwrap();
        let lagg = k.lagg_status(&n("lagg0")).unwrap();
        assert!(lagg.has_port(&n("lan0")));
        assert_eq!(lagg.primary(), Some(&n("lan0")));
        let mut want = crate::domain::event::DevdEvent::ifnet(&n("em0"), IfnetEventKind::Rename);
        want.data.push(("name".into(), "lan0".into()));
        assert_eq!(k.take_events(), vec![want]);
        assert_eq!(k.rename(&n("lan0"), &n("wlan0")), Err(Errno::EEXIST));
        assert_eq!(k.rename(&n("em9"), &n("x0")), Err(Errno::ENXIO));
        assert_eq!(k.rename(&n("lan0"), &n("lan0")), Ok(()));
        assert_eq!(k.clone_destroy(&n("lan0")), Err(Errno::EINVAL));
        assert_eq!(k.clone_destroy(&n("em9")), Err(Errno::ENXIO));
    }

    /// Proves a fresh lagg offers IFCAP_HWSTATS until a port joins, and
    /// nothing once its last port left (`lagg_clone_create`,
    /// `lagg_capabilities`); a tap in it gives up its LINKSTATE while a
    /// member and gets it back.
    #[test]
    fn lagg_capabilities_before_and_after_ports() {
        let mut k = SimKernel::new();
        k.create_lagg(&n("lagg0")).unwrap();
        let caps = |k: &mut SimKernel, name: &str| k.interface(name).unwrap().caps.unwrap();
        assert_eq!(caps(&mut k, "lagg0").enabled, abi::IFCAP_HWSTATS);
        let t = k.tap_create().unwrap();
        let (e, _) = k.epair_create().unwrap();
        k.add_lagg_port(&n("lagg0"), &t).unwrap();
        assert_eq!(caps(&mut k, "lagg0").enabled, IFCAP_LINKSTATE);
        k.add_lagg_port(&n("lagg0"), &e).unwrap();
        assert_eq!(caps(&mut k, "lagg0").enabled, 0);
        assert_eq!(caps(&mut k, "tap0").enabled, 0);
        k.remove_lagg_port(&n("lagg0"), &t).unwrap();
        assert_eq!(caps(&mut k, "tap0").enabled, IFCAP_LINKSTATE);
        k.remove_lagg_port(&n("lagg0"), &e).unwrap();
        assert_eq!(caps(&mut k, "lagg0").enabled, 0);
        assert_eq!(caps(&mut k, "lagg0").supported, 0);
    }
}
