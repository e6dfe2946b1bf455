//! lagg(4), `sys/net/if_lagg.c`: the lagg cloner, ports joining and
//! leaving (`lagg_port_create`, `lagg_port_destroy`) with their MTU and
//! MAC rules, the primary port, the active port (`lagg_link_active`), the
//! lagg's own link state (`lagg_linkstate`), the flags SIOCGLAGG reports
//! (`lagg_port2req`), the protocol (SIOCSLAGG) and the
//! `net.link.lagg.failover_rx_all` sysctl. Not owned here: the generic
//! ifnet rules a port goes through ([`super::ifnet`]).
//!
//! Models `sys/net/if_lagg.c` (and the simple-cloner name match of
//! `sys/net/if_clone.c`) as read in `gmshake/freebsd-src`; see the module
//! doc of [`super`] for the commits.

use crate::abi::{
    ETHERMTU, IEEE80211_MTU_MAX, IEEE80211_MTU_MIN, IFCAP_HWSTATS, LAGG_MAX_PORTS, LAGG_PROTO_MAX,
};
use crate::domain::event::IfnetEventKind;
use crate::domain::model::{
    Caps, IfKind, IfName, LaggModule, LaggPort, LaggProto, LaggStatus, LinkState, MacAddr,
    PortFlags,
};
use crate::kernel::Errno;

use super::ifnet::Ifnet;
use super::SimKernel;

/// One lagg member (`struct lagg_port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Port {
    pub(super) name: IfName,
    /// `lp_lladdr`: the port's address when it joined.
    pub(super) lladdr: MacAddr,
    /// `lp_ifcapenable`: the port's enabled capabilities when it joined,
    /// given back when it leaves (`lagg_port_destroy`).
    pub(super) caps: u32,
}

/// `struct lagg_softc`, the parts lagghook can observe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Lagg {
    pub(super) proto: LaggProto,
    /// `sc_ports`, kept sorted by ascending `if_index` (`lagg_port_create`).
    pub(super) ports: Vec<Port>,
    /// `sc_primary`.
    pub(super) primary: Option<IfName>,
}

/// Does `name` match a simple cloner `prefix` followed by a unit number,
/// as `ifc_simple_match` (`sys/net/if_clone.c`) requires?
pub(super) fn cloner_matches(prefix: &str, name: &IfName) -> bool {
    match name.as_str().strip_prefix(prefix) {
        Some(unit) => !unit.is_empty() && unit.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

impl SimKernel {
    /// What `SIOCGLAGG` would report for `lagg`, without the `&mut` the
    /// trait needs; `None` if it is not a lagg.
    pub fn lagg(&self, name: &str) -> Option<LaggStatus> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == name)?;
        self.status(ifn)
    }

    /// The lagg that has `port` as a member (`ifp->if_lagg`).
    pub(super) fn lagg_of(&self, port: &IfName) -> Option<IfName> {
        self.ifnets
            .values()
            .find(|i| i.lagg.as_ref().is_some_and(|l| l.ports.iter().any(|p| &p.name == port)))
            .map(|i| i.name.clone())
    }

    /// `LAGG_PORTACTIVE`: link UP and IFF_UP (`sys/net/if_lagg.h`).
    fn port_active(&self, name: &IfName) -> bool {
        self.ifnets.get(name).is_some_and(|i| i.up && i.link == LinkState::Up)
    }

    /// `lagg_link_active(sc, lp)` (`sys/net/if_lagg.c`): `lp` if active,
    /// else the port right after it if active, else the first active port
    /// from the head, else none.
    fn link_active(&self, lagg: &Lagg, lp: Option<&IfName>) -> Option<IfName> {
        if let Some(lp) = lp {
            if self.port_active(lp) {
                return Some(lp.clone());
            }
            if let Some(pos) = lagg.ports.iter().position(|p| &p.name == lp) {
                if let Some(next) = lagg.ports.get(pos + 1) {
                    if self.port_active(&next.name) {
                        return Some(next.name.clone());
                    }
                }
            }
        }
        lagg.ports.iter().find(|p| self.port_active(&p.name)).map(|p| p.name.clone())
    }

    /// `SIOCGLAGG` with the flags `lagg_port2req` adds per protocol.
    pub(super) fn status(&self, ifn: &Ifnet) -> Option<LaggStatus> {
        let lagg = ifn.lagg.as_ref()?;
        let active = match lagg.proto {
            LaggProto::Failover => self.link_active(lagg, lagg.primary.as_ref()),
            _ => None,
        };
        let ports = lagg
            .ports
            .iter()
            .map(|p| {
                let flags = match lagg.proto {
                    LaggProto::Failover => PortFlags {
                        master: lagg.primary.as_ref() == Some(&p.name),
                        active: active.as_ref() == Some(&p.name),
                    },
                    LaggProto::RoundRobin | LaggProto::LoadBalance | LaggProto::Broadcast => {
                        PortFlags { master: false, active: self.port_active(&p.name) }
                    }
                    // LACP needs a partner the simulator does not have;
                    // `none` sets no flags.
                    _ => PortFlags::default(),
                };
                LaggPort { name: p.name.clone(), flags }
            })
            .collect();
        Some(LaggStatus { proto: lagg.proto, ports })
    }

    /// `SIOCGLAGG`: `ifioctl` (unknown name ENXIO), then the driver; only
    /// `lagg_ioctl` knows the request, Ethernet drivers end in
    /// `ether_ioctl`'s EINVAL.
    pub(super) fn siocglagg(&self, lagg: &IfName) -> Result<LaggStatus, Errno> {
        let ifn = self.ifnets.get(lagg).ok_or(Errno::ENXIO)?;
        self.status(ifn).ok_or(Errno::EINVAL)
    }

    /// `lagg_linkstate` (failover and the others alike): UP if any port has
    /// link UP, IFF_UP not considered, DOWN otherwise; `None` if `ifn` is
    /// not a lagg. A new lagg stays at `if_alloc`'s LINK_STATE_UNKNOWN until
    /// the first port is added or removed.
    pub(super) fn lagg_aggregate(&self, ifn: &Ifnet) -> Option<LinkState> {
        let lagg = ifn.lagg.as_ref()?;
        let any = lagg
            .ports
            .iter()
            .any(|p| self.ifnets.get(&p.name).is_some_and(|i| i.link == LinkState::Up));
        Some(if any { LinkState::Up } else { LinkState::Down })
    }

    /// `lagg_linkstate` (`sys/net/if_lagg.c`).
    pub(super) fn lagg_linkstate(&mut self, lagg: &IfName) {
        let Some(new) = self.ifnets.get(lagg).and_then(|l| self.lagg_aggregate(l)) else {
            return;
        };
        self.set_link(lagg, new);
    }

    /// `lagg_init`: when the lagg starts running, every port whose address
    /// differs from the lagg's gets `if_setlladdr(lagg MAC)`.
    pub(super) fn lagg_init(&mut self, lagg: &IfName) {
        let Some(ifn) = self.ifnets.get(lagg) else {
            return;
        };
        let mac = ifn.lladdr;
        let ports: Vec<IfName> =
            ifn.lagg.iter().flat_map(|l| l.ports.iter().map(|p| p.name.clone())).collect();
        for p in ports {
            if self.ifnets.get(&p).is_some_and(|i| i.lladdr != mac) {
                self.if_setlladdr(&p, mac);
            }
        }
    }

    /// `SIOCSLAGGPORT`: `ifioctl`, `lagg_ioctl`, `lagg_port_create`, with
    /// the refusals in FreeBSD's order.
    pub(super) fn lagg_port_create(&mut self, lagg: &IfName, port: &IfName) -> Result<(), Errno> {
        // ifioctl: unknown interface name.
        let l = self.ifnets.get(lagg).ok_or(Errno::ENXIO)?;
        // Not a lagg: its driver does not know SIOCSLAGGPORT; Ethernet
        // drivers end in ether_ioctl's default, EINVAL.
        let sc = l.lagg.as_ref().ok_or(Errno::EINVAL)?;
        // lagg_ioctl: ifunit_ref(rp_portname) == NULL.
        let p = self.ifnets.get(port).ok_or(Errno::EINVAL)?;
        // lagg_port_create: a lagg cannot be its own port.
        if lagg == port {
            return Err(Errno::EINVAL);
        }
        if sc.ports.len() >= LAGG_MAX_PORTS {
            return Err(Errno::ENOSPC);
        }
        if let Some(owner) = self.lagg_of(port) {
            return Err(if &owner == lagg { Errno::EEXIST } else { Errno::EBUSY });
        }
        // Ethernet lagg: only IFT_ETHER / IFT_L2VLAN ports. Vaps and laggs
        // are IFT_ETHER (`ieee80211_vap_setup`, `lagg_clone_create`), a
        // vlan(4) IFT_L2VLAN (`vlan_clone_create`): all accepted here.
        if p.kind == IfKind::Other {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let first = sc.ports.is_empty();
        let lagg_mtu = l.mtu;
        let port_mtu = p.mtu;
        let port_kind = p.kind;
        let port_max_mtu = p.max_mtu;
        // MTU: the first port defines the lagg's; later ports get the
        // lagg's through their driver's SIOCSIFMTU (net80211 accepts
        // IEEE80211_MTU_MIN..IEEE80211_MTU_MAX, `ieee80211_ioctl`).
        let mut old_mtu = None;
        if first {
            if let Some(l) = self.ifnets.get_mut(lagg) {
                l.mtu = port_mtu;
            }
        } else if lagg_mtu != port_mtu {
            if port_kind == IfKind::Wlan
                && !(IEEE80211_MTU_MIN..=IEEE80211_MTU_MAX).contains(&lagg_mtu)
            {
                return Err(Errno::EINVAL);
            }
            // The driver refuses an MTU above what it can frame;
            // `lagg_port_create` returns its error ("invalid MTU for"),
            // and the port is not added.
            if port_max_mtu.is_some_and(|max| lagg_mtu > max) {
                return Err(Errno::EINVAL);
            }
            old_mtu = Some(port_mtu);
            if let Some(p) = self.ifnets.get_mut(port) {
                p.mtu = lagg_mtu;
            }
        }
        // Stacking is compiled out: a lagg as port is EINVAL, after the MTU
        // step, which is undone for the port (the lagg keeps an adopted
        // MTU, as the kernel does).
        if port_kind == IfKind::Lagg {
            if let (Some(old), Some(p)) = (old_mtu, self.ifnets.get_mut(port)) {
                p.mtu = old;
            }
            return Err(Errno::EINVAL);
        }
        // Save lp_lladdr; first port: the lagg takes its MAC (written
        // directly, no if_setlladdr on the lagg); others: if_setlladdr to
        // the lagg's MAC, unconditionally, before the port is hooked
        // (so net80211's SIOCSIFFLAGS still sees ieee80211_ioctl).
        let saved = self.ifnets.get(port).map_or(MacAddr::ZERO, |p| p.lladdr);
        let saved_caps = self.ifnets.get(port).map_or(0, |p| p.caps);
        if first {
            if let Some(l) = self.ifnets.get_mut(lagg) {
                l.lladdr = saved;
            }
        } else {
            let mac = self.ifnets.get(lagg).map_or(MacAddr::ZERO, |l| l.lladdr);
            self.if_setlladdr(port, mac);
        }
        // Insert sorted by if_index; the first port becomes sc_primary.
        let index = self.ifnets.get(port).map_or(0, |p| p.index);
        let indices: Vec<u32> = self
            .ifnets
            .get(lagg)
            .and_then(|l| l.lagg.as_ref())
            .map(|sc| {
                sc.ports.iter().map(|p| self.ifnets.get(&p.name).map_or(0, |i| i.index)).collect()
            })
            .unwrap_or_default();
        let pos = indices.iter().position(|&i| i > index).unwrap_or(indices.len());
        if let Some(sc) = self.ifnets.get_mut(lagg).and_then(|l| l.lagg.as_mut()) {
            if first {
                sc.primary = Some(port.clone());
            }
            sc.ports.insert(pos, Port { name: port.clone(), lladdr: saved, caps: saved_caps });
        }
        self.lagg_capabilities(lagg);
        self.lagg_linkstate(lagg);
        Ok(())
    }

    /// `lagg_port_destroy(lp, 1)` (`sys/net/if_lagg.c`). `detaching`: the
    /// port's ifnet is dying (`lagg_port_ifdetach`), so it is not touched.
    /// `destroying`: the lagg itself is going away (`lagg_clone_destroy`),
    /// so no MAC is pushed to the remaining ports.
    pub(super) fn lagg_port_destroy(
        &mut self,
        lagg: &IfName,
        port: &IfName,
        detaching: bool,
        destroying: bool,
    ) {
        let Some(sc) = self.ifnets.get_mut(lagg).and_then(|l| l.lagg.as_mut()) else {
            return;
        };
        let Some(pos) = sc.ports.iter().position(|p| &p.name == port) else {
            return;
        };
        let removed = sc.ports.remove(pos);
        let mut push = None;
        if sc.primary.as_ref() == Some(port) {
            // New primary: the first port of the list; lagg MAC := its
            // lp_lladdr (zero if none left); then every remaining port gets
            // if_setlladdr(lagg MAC) ("new primary needs update as well").
            let first = sc.ports.first();
            let mac = first.map_or(MacAddr::ZERO, |p| p.lladdr);
            sc.primary = first.map(|p| p.name.clone());
            let remaining: Vec<IfName> = sc.ports.iter().map(|p| p.name.clone()).collect();
            if !destroying {
                push = Some((mac, remaining));
            }
        }
        if let Some((mac, remaining)) = push {
            if let Some(l) = self.ifnets.get_mut(lagg) {
                l.lladdr = mac;
            }
            for p in remaining {
                self.if_setlladdr(&p, mac);
            }
        }
        if !detaching {
            // The leaving port gets its own capabilities and address back.
            self.lagg_setcaps(port, removed.caps);
            self.if_setlladdr(port, removed.lladdr);
        }
        self.lagg_capabilities(lagg);
        self.lagg_linkstate(lagg);
    }

    /// `lagg_clone_destroy`: stop, clear IFF_UP, remove the ports one by
    /// one from the head (their MACs restored, no primary MAC push), then
    /// detach the lagg.
    pub(super) fn lagg_clone_destroy(&mut self, lagg: &IfName) {
        if let Some(l) = self.ifnets.get_mut(lagg) {
            l.up = false;
        }
        while let Some(first) = self
            .ifnets
            .get(lagg)
            .and_then(|l| l.lagg.as_ref())
            .and_then(|sc| sc.ports.first())
            .map(|p| p.name.clone())
        {
            self.lagg_port_destroy(lagg, &first, false, true);
        }
        self.ifnets.remove(lagg);
        self.net_detached(lagg);
        self.emit(lagg, IfnetEventKind::Detach);
    }

    /// `SIOCSLAGG` (`lagg_ioctl`): `ra_proto >= LAGG_PROTO_MAX` is refused
    /// with EPROTONOSUPPORT; otherwise the protocol is detached and attached
    /// (`lagg_proto_detach`, `lagg_proto_attach`), ports, primary and MACs
    /// kept.
    pub(super) fn siocslagg(&mut self, lagg: &IfName, proto: LaggProto) -> Result<(), Errno> {
        let l = self.ifnets.get_mut(lagg).ok_or(Errno::ENXIO)?;
        let sc = l.lagg.as_mut().ok_or(Errno::EINVAL)?;
        if proto.to_raw() >= LAGG_PROTO_MAX {
            return Err(Errno::EPROTONOSUPPORT);
        }
        sc.proto = proto;
        Ok(())
    }

    /// `lagg_ioctl` SIOCSIFMTU (`sys/net/if_lagg.c`, `gmshake/freebsd-src`
    /// @ 1e26f0025cf0271681edc407d803bb7f68404361): the new MTU goes to
    /// every port through its own driver (`lp_ioctl`, not the
    /// `lagg_port_ioctl` that refuses it); the first refusal ("failed to
    /// change MTU to %d on port %s, reverting all ports to original MTU")
    /// stops the walk, every port is set back to the lagg's MTU and the
    /// error returned. Only when every port took it does the lagg.
    pub(super) fn lagg_set_mtu(&mut self, lagg: &IfName, mtu: u32) -> Result<(), Errno> {
        let l = self.ifnets.get(lagg).ok_or(Errno::ENXIO)?;
        let old = l.mtu;
        let ports: Vec<IfName> =
            l.lagg.iter().flat_map(|sc| sc.ports.iter().map(|p| p.name.clone())).collect();
        let mut result = Ok(());
        for p in &ports {
            if let Err(e) = self.driver_set_mtu(p, mtu) {
                result = Err(e);
                break;
            }
        }
        match result {
            Ok(()) => {
                if let Some(l) = self.ifnets.get_mut(lagg) {
                    l.mtu = mtu;
                }
            }
            Err(_) => {
                for p in &ports {
                    // The kernel ignores these answers too.
                    let _ = self.driver_set_mtu(p, old);
                }
            }
        }
        self.lagg_capabilities(lagg);
        result
    }

    /// `SIOCSLAGGDELPORT` (`lagg_ioctl`): unknown port EINVAL, not a member
    /// of this lagg ENOENT, else `lagg_port_destroy`.
    pub(super) fn siocslaggdelport(&mut self, lagg: &IfName, port: &IfName) -> Result<(), Errno> {
        let l = self.ifnets.get(lagg).ok_or(Errno::ENXIO)?;
        if l.lagg.is_none() {
            return Err(Errno::EINVAL);
        }
        if !self.ifnets.contains_key(port) {
            return Err(Errno::EINVAL);
        }
        if self.lagg_of(port).as_ref() != Some(lagg) {
            return Err(Errno::ENOENT);
        }
        self.lagg_port_destroy(lagg, port, false, false);
        Ok(())
    }

    /// `SIOCIFCREATE2` on the lagg cloner: `ifc_create_ifp` finds no
    /// matching cloner (or if_lagg is not loaded, so there is none): EINVAL;
    /// `if_clone_createif`: the name is taken: EEXIST. Then
    /// `lagg_clone_create`: LAGG_PROTO_DEFAULT (failover), zero MAC
    /// (`ether_ifattach` with a zero address), not UP, link unknown.
    pub(super) fn lagg_clone_create(&mut self, lagg: &IfName) -> Result<(), Errno> {
        if self.failover_rx_all.is_none() || !cloner_matches("lagg", lagg) {
            return Err(Errno::EINVAL);
        }
        if self.ifnets.contains_key(lagg) {
            return Err(Errno::EEXIST);
        }
        self.attach(Ifnet {
            name: lagg.clone(),
            index: self.lowest_free_index(),
            kind: IfKind::Lagg,
            lladdr: MacAddr::ZERO,
            hwaddr: Some(MacAddr::ZERO),
            up: false,
            medium: false,
            link: LinkState::Unknown,
            mtu: ETHERMTU,
            vap: None,
            max_mtu: None,
            // `lagg_clone_create`: `if_capenable = if_capabilities =
            // IFCAP_HWSTATS` until the first port joins; `lagg_capabilities`
            // then takes its ports' intersection, and 0 once the last one
            // left (gmshake/freebsd-src f0689c80…). Found by the
            // differential conformance harness's model of a fresh lagg.
            capabilities: IFCAP_HWSTATS,
            caps: IFCAP_HWSTATS,
            lagg: Some(Lagg { proto: LaggProto::Failover, ports: Vec::new(), primary: None }),
            link_due: None,
            link_delay: None,
            pseudo: None,
        });
        Ok(())
    }

    /// A lagg's SIOCGIFCAP answer: `lagg_capabilities` sets its
    /// `if_capabilities` and `if_capenable` to the intersection of its
    /// ports', derived here rather than stored; without ports, what the
    /// lagg's own ifnet holds (IFCAP_HWSTATS from `lagg_clone_create`, 0
    /// after its last port left).
    pub(super) fn lagg_caps(&self, lagg: &Ifnet) -> Caps {
        let ports = lagg.lagg.as_ref().map(|sc| sc.ports.as_slice()).unwrap_or_default();
        if ports.is_empty() {
            return Caps { supported: lagg.capabilities, enabled: lagg.caps };
        }
        let mut caps = Caps { supported: !0, enabled: !0 };
        for p in ports.iter().filter_map(|p| self.ifnets.get(&p.name)) {
            caps.supported &= p.capabilities;
            caps.enabled &= p.caps;
        }
        caps
    }

    /// `lagg_capabilities` (`sys/net/if_lagg.c`, `gmshake/freebsd-src`
    /// f0689c80…): the capabilities enabled on every port are applied back
    /// to each port (`lagg_setcaps`), repeated until nothing changes. A
    /// vap enables none and refuses SIOCSIFCAP, so while one is a member
    /// the wired NIC loses its checksum offload, TSO and LRO.
    pub(super) fn lagg_capabilities(&mut self, lagg: &IfName) {
        let ports: Vec<IfName> = self
            .ifnets
            .get(lagg)
            .and_then(|l| l.lagg.as_ref())
            .map(|sc| sc.ports.iter().map(|p| p.name.clone()).collect())
            .unwrap_or_default();
        // The ifnet's own fields only matter without ports (`lagg_caps`):
        // `lagg_capabilities` sets them to 0 then.
        if ports.is_empty() {
            if let Some(l) = self.ifnets.get_mut(lagg) {
                l.capabilities = 0;
                l.caps = 0;
            }
        }
        let enabled = |k: &SimKernel, p: &IfName| k.ifnets.get(p).map_or(0, |i| i.caps);
        let mut ena = ports.iter().fold(!0, |acc, p| acc & enabled(self, p));
        loop {
            let pena = ena;
            for p in &ports {
                self.lagg_setcaps(p, ena);
                ena &= enabled(self, p);
            }
            if ena == pena {
                break;
            }
        }
    }

    /// `lagg_setcaps`: nothing if the port already has exactly `cap`
    /// enabled, else SIOCSIFCAP through the port's own driver. An iflib
    /// NIC (`iflib_if_ioctl`, `sys/net/iflib.c`, `fel1x-developer/
    /// freebsd-src` 3890cae0…) toggles the supported bits that differ and,
    /// if it is running and any of them is not a wake-on-LAN bit, stops and
    /// re-initialises itself around the change: its link drops and comes
    /// back, modelled as the bounce `if_setlladdr` causes. net80211 refuses
    /// (EINVAL from `ether_ioctl`), and `lagg_capabilities` ignores the
    /// error. A vlan (`vlan_ioctl`) or other driver takes the supported
    /// bits without a reset.
    pub(super) fn lagg_setcaps(&mut self, port: &IfName, cap: u32) {
        if self.pseudo_setcaps(port, cap) {
            return;
        }
        let Some(ifn) = self.ifnets.get_mut(port) else {
            return;
        };
        if ifn.caps == cap {
            return;
        }
        let setmask = (cap ^ ifn.caps) & ifn.capabilities;
        match ifn.kind {
            IfKind::Wlan | IfKind::Lagg => {}
            IfKind::Ether => {
                if setmask == 0 {
                    return;
                }
                let running = ifn.up;
                ifn.caps ^= setmask;
                if running {
                    self.if_setflags(port, false);
                    self.if_setflags(port, true);
                }
            }
            IfKind::Vlan | IfKind::Other => ifn.caps ^= setmask,
        }
    }

    /// What `modfind("if_lagg")` and the sysctls `kern.securelevel` and
    /// `kern.module_path` report. The module is loaded exactly when its
    /// sysctl tree exists (`failover_rx_all` is `Some`).
    pub(super) fn modfind_lagg(&self) -> LaggModule {
        LaggModule {
            loaded: self.failover_rx_all.is_some(),
            securelevel: self.securelevel,
            module_path: "/boot/kernel;/boot/modules".to_owned(),
            module_file: self.if_lagg_ko.then(|| "/boot/kernel/if_lagg.ko".to_owned()),
        }
    }

    /// ifconfig's `ifmaybeload` (`sbin/ifconfig/ifconfig.c`): nothing if
    /// `modfind` finds if_lagg, else `kldload("if_lagg")`, whose
    /// `kern_kldload` (`sys/kern/kern_linker.c`, `gmshake/freebsd-src`
    /// 3ebfd4716369a0c129f1e3fb99388e40ede1e741) refuses above securelevel
    /// 0 (`securelevel_gt`: EPERM) and fails with ENOENT when
    /// `linker_load_module` finds no file in `kern.module_path`. Loading
    /// runs `lagg_modevent`: the lagg cloner and the `net.link.lagg`
    /// sysctls appear (`failover_rx_all` at its default 0).
    pub(super) fn ifmaybeload_lagg(&mut self) -> Result<(), Errno> {
        if self.failover_rx_all.is_some() {
            return Ok(());
        }
        if self.securelevel > 0 {
            return Err(Errno::EPERM);
        }
        if !self.if_lagg_ko {
            return Err(Errno::ENOENT);
        }
        self.failover_rx_all = Some(false);
        Ok(())
    }

    /// sysctlbyname("net.link.lagg.failover_rx_all", value): the OID is
    /// `SYSCTL_INT` in `sys/net/if_lagg.c`, so it is missing (ENOENT) until
    /// if_lagg is loaded.
    pub(super) fn sysctl_failover_rx_all(&mut self, value: bool) -> Result<(), Errno> {
        match self.failover_rx_all {
            None => Err(Errno::ENOENT),
            Some(_) => {
                self.failover_rx_all = Some(value);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue8_vlan_ports_join_and_drivers_refuse_mtus_above_their_max() {
        let mut vlan = MachineInterface::new(n("vlan0"), IfKind::Vlan);
        vlan.mac = Some(mac(E));
        vlan.link = true;
        vlan.max_mtu = Some(1500);
        let mut k = Laptop::new().with(vlan).build();
        // IFT_L2VLAN is accepted, like IFT_ETHER (`lagg_port_create`).
        k.add_lagg_port(&n("lagg0"), &n("vlan0")).unwrap();
        assert!(k.lagg_status(&n("lagg0")).unwrap().has_port(&n("vlan0")));
        assert_eq!(k.media_type("vlan0"), Some("ethernet"));
        // A jumbo lagg: the driver's SIOCSIFMTU refuses, the port stays out
        // with its MTU untouched, and the error is the driver's EINVAL.
        let mut jumbo = MachineInterface::new(n("em1"), IfKind::Ether);
        (jumbo.mac, jumbo.mtu) = (Some(mac(W)), Some(9000));
        let mut small = MachineInterface::new(n("ue0"), IfKind::Ether);
        (small.mac, small.max_mtu) = (Some(mac(E)), Some(4088));
        let mut k = Laptop::new().with(jumbo).with(small).build();
        k.create_lagg(&n("lagg1")).unwrap();
        k.add_lagg_port(&n("lagg1"), &n("em1")).unwrap();
        assert_eq!(errno(k.add_lagg_port(&n("lagg1"), &n("ue0"))), Errno::EINVAL);
        assert_eq!(k.interface("ue0").unwrap().mtu, ETHERMTU);
        assert!(!k.lagg_status(&n("lagg1")).unwrap().has_port(&n("ue0")));
        let again = SimKernel::from_machine(&k.to_machine()).unwrap();
        assert_eq!(again, k);
    }

    /// Issue 8: `lagg_capabilities` enables on every port only what all
    /// of them have; the wired NIC pays for the change with a reset.
    #[test]
    fn issue8_capabilities_are_the_ports_intersection_and_cost_em0_a_reset() {
        use crate::sim::ifnet::ETHER_CAPS;
        let caps = |k: &SimKernel, name: &str| k.interface(name).unwrap().caps.unwrap();
        let mut k = laptop();
        // Built with both ports: em0 already lost its offload to wlan0's none.
        assert_eq!(caps(&k, "em0").enabled, 0);
        assert_eq!(caps(&k, "em0").supported, ETHER_CAPS);
        assert_eq!(caps(&k, "lagg0"), Caps::default());
        // em0 leaves: it gets its own capabilities back (`lp_ifcapenable`),
        // and as a running iflib NIC it is reset: link down and up.
        k.remove_lagg_port(&n("lagg0"), &n("em0")).unwrap();
        assert_eq!(caps(&k, "em0").enabled, ETHER_CAPS);
        k.settle();
        let em0: Vec<String> =
            k.take_events().into_iter().filter(|e| e.subsystem == "em0").map(|e| e.kind).collect();
        assert!(em0.starts_with(&["LINK_DOWN".to_owned(), "LINK_UP".to_owned()]), "{em0:?}");
        // em0 alone in a lagg of its own keeps everything: no SIOCSIFCAP.
        k.create_lagg(&n("lagg1")).unwrap();
        k.take_events();
        k.add_lagg_port(&n("lagg1"), &n("em0")).unwrap();
        assert_eq!(caps(&k, "lagg1"), Caps { supported: ETHER_CAPS, enabled: ETHER_CAPS });
        let em0 = k.take_events().into_iter().filter(|e| e.subsystem == "em0").count();
        assert_eq!(em0, 0, "lagg_setcaps returns early: no reset");
        k.remove_lagg_port(&n("lagg1"), &n("em0")).unwrap();
        k.settle();
        k.take_events();
        // Joining the lagg that holds wlan0 resets em0 a second time, after
        // the MAC push's bounce; wlan0 leaving does not give em0's back.
        k.add_lagg_port(&n("lagg0"), &n("em0")).unwrap();
        k.settle();
        let em0: Vec<String> =
            k.take_events().into_iter().filter(|e| e.subsystem == "em0").map(|e| e.kind).collect();
        // The bounce drops the link; the reset restarts the negotiation the
        // bounce began, so the link comes back once, an autoneg later.
        assert_eq!(em0, ["LINK_DOWN", "LINK_UP"]);
        assert_eq!(caps(&k, "em0").enabled, 0);
        k.remove_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        assert_eq!(caps(&k, "em0").enabled, 0, "lagg_capabilities never widens");
        k.settle();
        assert_eq!(SimKernel::from_machine(&k.to_machine()).unwrap(), k);
    }

    #[test]
    fn issue8_kldload_of_if_lagg_as_kern_kldload_answers() {
        use crate::sim::Machine;
        let without = |securelevel, ko| Machine {
            if_lagg: Some(false),
            securelevel,
            if_lagg_ko: ko,
            ..Machine::default()
        };
        // No lagg cloner until the module is loaded (`if_clone_create`).
        let mut k = SimKernel::from_machine(&without(None, None)).unwrap();
        assert_eq!(errno(k.create_lagg(&n("lagg0"))), Errno::EINVAL);
        assert!(!k.lagg_module().unwrap().loaded);
        k.load_lagg_module().unwrap();
        assert_eq!(k.failover_rx_all().unwrap(), Some(false));
        assert!(k.lagg_module().unwrap().loaded);
        k.load_lagg_module().unwrap();
        k.create_lagg(&n("lagg0")).unwrap();
        assert_eq!(
            k.calls(),
            [
                "SIOCIFCREATE2 lagg0: EINVAL",
                "kldload if_lagg: ok",
                "kldload if_lagg: ok",
                "SIOCIFCREATE2 lagg0: ok"
            ]
        );
        // Refused above securelevel 0, and without the file.
        let mut k = SimKernel::from_machine(&without(Some(1), None)).unwrap();
        assert_eq!(errno(k.load_lagg_module()), Errno::EPERM);
        assert_eq!(SimKernel::from_machine(&k.to_machine()).unwrap(), k);
        assert_eq!(k.to_machine().securelevel, Some(1));
        let mut k = SimKernel::from_machine(&without(None, Some(false))).unwrap();
        assert_eq!(errno(k.load_lagg_module()), Errno::ENOENT);
        // The keys round-trip.
        let again = SimKernel::from_machine(&k.to_machine()).unwrap();
        assert_eq!(again, k);
        assert_eq!(k.to_machine().if_lagg_ko, Some(false));
    }
    use crate::kernel::{Kernel, KernelError, Op};
    use crate::sim::fixture::{errno, ev, laptop, mac, n, p, ports, Laptop, E, W};
    use crate::sim::{Happening, MachineInterface, SimKernel};

    #[test]
    fn active_port_fails_over_and_back_without_primary_change() {
        let mut k = laptop();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        // lagg_link_active: primary not active -> next port.
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, false), p("wlan0", false, true)]);
        // lagg0 stays up through wlan0: only the port event.
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_DOWN")]);
        k.happen(&"disassociate wlan0".parse().unwrap()).unwrap();
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_DOWN"), ev("lagg0", "LINK_DOWN")]);
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, false), p("wlan0", false, false)]);
        k.happen(&"plug em0".parse().unwrap()).unwrap();
        assert!(k.take_events().is_empty(), "autonegotiation under way");
        k.settle();
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_UP"), ev("lagg0", "LINK_UP")]);
        assert_eq!(ports(&mut k, "lagg0")[0], p("em0", true, true));
    }

    #[test]
    fn destroyed_primary_hands_over_and_pushes_mac_to_remaining_ports() {
        let mut k = Laptop::new().wlan_mac(W).build();
        // wlan0 joined second, while UP: its lp_lladdr is W, its MAC now E.
        // Joining bounced it before lagg hooked its ioctl (only vap of
        // iwn0), so iv_myaddr followed to E, and wpa_supplicant heard the
        // stop/start (RTM_IFINFO from net80211) and read E too.
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(E));
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Up);
        k.happen(&Happening::Destroy(n("em0"))).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("wlan0", true, false)]);
        // lagg MAC := new primary's saved address, pushed back to wlan0.
        assert_eq!(k.interface("lagg0").unwrap().mac, mac(W));
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(W));
        // The push bounces wlan0, but as a lagg member its iv_myaddr is not
        // resynced (ieee80211_ioctl checks if_ioctl == ieee80211_ioctl),
        // while wpa_supplicant hears the bounce and takes W: the handshake
        // fails, the WiFi is dead.
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(W)));
        k.settle();
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down);
        // DETACH first: link changes are queued to the taskqueue (issue 8).
        assert_eq!(
            k.take_events(),
            vec![ev("em0", "DETACH"), ev("wlan0", "LINK_DOWN"), ev("lagg0", "LINK_DOWN")]
        );
    }

    #[test]
    fn destroyed_primary_with_cloned_mac_still_bounces_the_other_port() {
        let mut k = laptop();
        k.happen(&Happening::Destroy(n("em0"))).unwrap();
        // The push bounced wlan0: it associates again.
        assert_eq!(ports(&mut k, "lagg0"), vec![p("wlan0", true, false)]);
        k.settle();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("wlan0", true, true)]);
        assert_eq!(k.interface("lagg0").unwrap().mac, mac(E));
        assert_eq!(
            k.take_events(),
            vec![
                ev("em0", "DETACH"),
                ev("wlan0", "LINK_DOWN"),
                ev("lagg0", "LINK_DOWN"),
                ev("wlan0", "LINK_UP"),
                ev("lagg0", "LINK_UP"),
            ]
        );
        assert!(k.interface("em0").is_none());
    }

    #[test]
    fn issue8_destroyed_associated_vap_reports_link_down_after_detach() {
        // The non-primary leaves without touching the lagg; the vap was
        // associated, so `ieee80211_vap_detach` reports its LINK_DOWN after
        // the DETACH `ether_ifdetach` sent.
        let mut k = laptop();
        k.happen(&"destroy wlan0".parse().unwrap()).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, true)]);
        assert_eq!(k.take_events(), vec![ev("wlan0", "DETACH"), ev("wlan0", "LINK_DOWN")]);
        // An Ethernet NIC detaching reports no link change.
        k.happen(&"destroy em0".parse().unwrap()).unwrap();
        assert_eq!(k.take_events(), vec![ev("em0", "DETACH"), ev("lagg0", "LINK_DOWN")]);
    }

    #[test]
    fn port_list_is_sorted_by_index_not_by_addition() {
        // wlan0 added first (primary) but em0 has the lower index.
        let mut k = Laptop::new().ports(&["wlan0", "em0"]).build();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", false, false), p("wlan0", true, true)]);
        // wlan0 loses its AP: lagg_link_active tries the port after the
        // primary (none), then the first active from the head: em0.
        k.happen(&"disassociate wlan0".parse().unwrap()).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", false, true), p("wlan0", true, false)]);
    }

    #[test]
    fn explicit_removal_of_primary_restores_its_mac_and_pushes_the_new_one() {
        let mut k = Laptop::new().wlan_mac(W).build();
        k.set_lladdr(&n("em0"), mac("00:11:22:33:44:99")).unwrap();
        k.take_events();
        k.remove_lagg_port(&n("lagg0"), &n("em0")).unwrap();
        // wlan0 has no link: the push left its iv_myaddr behind (see above).
        assert_eq!(ports(&mut k, "lagg0"), vec![p("wlan0", true, false)]);
        assert_eq!(k.interface("lagg0").unwrap().mac, mac(W));
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(W));
        // em0 gets its lp_lladdr (the address it had when it joined) back.
        assert_eq!(k.interface("em0").unwrap().mac, mac(E));
        // Re-adding em0 does not make it primary again.
        k.add_lagg_port(&n("lagg0"), &n("em0")).unwrap();
        k.settle();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", false, true), p("wlan0", true, false)]);
        assert_eq!(k.interface("em0").unwrap().mac, mac(W));
        assert_eq!(
            k.calls(),
            [
                "SIOCSIFLLADDR em0 00:11:22:33:44:99: ok",
                "SIOCSLAGGDELPORT lagg0 em0: ok",
                "SIOCSLAGGPORT lagg0 em0: ok",
            ]
        );
        assert_eq!(k.writes(), 3);
    }

    #[test]
    fn removing_the_last_port_zeroes_the_lagg_mac() {
        let mut k = laptop();
        k.remove_lagg_port(&n("lagg0"), &n("em0")).unwrap();
        k.remove_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        let lagg = k.interface("lagg0").unwrap();
        assert_eq!((lagg.mac, lagg.link), (MacAddr::ZERO, LinkState::Down));
        assert_eq!(k.lagg_status(&n("lagg0")).unwrap().primary(), None);
    }

    #[test]
    fn add_refusals_follow_freebsd_order_and_errnos() {
        let mut k = laptop();
        k.happen(&"attach-ether em1 00:11:22:33:44:77".parse().unwrap()).unwrap();
        k.create_lagg(&n("lagg1")).unwrap();
        let add = |k: &mut SimKernel, l: &str, port: &str| errno(k.add_lagg_port(&n(l), &n(port)));
        assert_eq!(add(&mut k, "lagg9", "em1"), Errno::ENXIO);
        assert_eq!(add(&mut k, "em0", "em1"), Errno::EINVAL);
        assert_eq!(add(&mut k, "lagg1", "ue9"), Errno::EINVAL);
        assert_eq!(add(&mut k, "lagg1", "lagg1"), Errno::EINVAL);
        assert_eq!(add(&mut k, "lagg0", "em0"), Errno::EEXIST);
        assert_eq!(add(&mut k, "lagg1", "em0"), Errno::EBUSY);
        assert_eq!(add(&mut k, "lagg1", "lagg0"), Errno::EINVAL, "stacking is compiled out");
        let err = k.add_lagg_port(&n("lagg0"), &n("em0")).unwrap_err();
        assert_eq!(err, KernelError::errno(Op::AddLaggPort, Some(&n("em0")), Errno::EEXIST));
        assert_eq!(k.calls().last().unwrap(), "SIOCSLAGGPORT lagg0 em0: EEXIST");
        assert_eq!(k.writes(), 9, "failed calls count too");
    }

    #[test]
    fn non_ethernet_port_is_eprotonosupport() {
        let mut k = Laptop::new().with(MachineInterface::new(n("tun0"), IfKind::Other)).build();
        assert_eq!(errno(k.add_lagg_port(&n("lagg0"), &n("tun0"))), Errno::EPROTONOSUPPORT);
        assert_eq!(k.media_type("tun0"), None);
        assert_eq!(errno(k.set_lladdr(&n("tun0"), mac(E))), Errno::ENODEV);
    }

    #[test]
    fn thirty_third_port_is_enospc() {
        let mut k = SimKernel::new();
        k.create_lagg(&n("lagg0")).unwrap();
        for i in 0..33 {
            let h = Happening::AttachEther { name: n(&format!("ue{i}")), mac: mac(E) };
            k.happen(&h).unwrap();
        }
        for i in 0..32 {
            k.add_lagg_port(&n("lagg0"), &n(&format!("ue{i}"))).unwrap();
        }
        assert_eq!(errno(k.add_lagg_port(&n("lagg0"), &n("ue32"))), Errno::ENOSPC);
    }

    #[test]
    fn jumbo_lagg_refuses_wlan_port_with_einval() {
        let mut k = Laptop::new().mtu("em0", 9000).ports(&["em0"]).build();
        assert_eq!(k.interface("lagg0").unwrap().mtu, 9000, "the first port defines the MTU");
        // net80211 refuses an MTU above IEEE80211_MTU_MAX: wlan0 stays out.
        assert_eq!(errno(k.add_lagg_port(&n("lagg0"), &n("wlan0"))), Errno::EINVAL);
        assert_eq!(k.interface("wlan0").unwrap().mtu, 1500);
        // An Ethernet port takes the lagg's MTU through its own driver.
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        k.add_lagg_port(&n("lagg0"), &n("ue0")).unwrap();
        assert_eq!(k.interface("ue0").unwrap().mtu, 9000);
        // A lagg as port: the MTU step is undone for the port, then EINVAL.
        k.create_lagg(&n("lagg1")).unwrap();
        assert_eq!(errno(k.add_lagg_port(&n("lagg0"), &n("lagg1"))), Errno::EINVAL);
        assert_eq!(k.interface("lagg1").unwrap().mtu, 1500);
    }

    #[test]
    fn a_jumbo_machine_file_listing_wlan_as_port_is_rejected() {
        let machine = Laptop::new().mtu("em0", 9000).machine();
        let err = SimKernel::from_machine(&machine).unwrap_err();
        assert!(err.to_string().contains("lagg0") && err.to_string().contains("EINVAL"), "{err}");
    }

    #[test]
    fn remove_refusals() {
        let mut k = laptop();
        k.happen(&"attach-ether em1 00:11:22:33:44:77".parse().unwrap()).unwrap();
        assert_eq!(errno(k.remove_lagg_port(&n("lagg0"), &n("em1"))), Errno::ENOENT);
        assert_eq!(errno(k.remove_lagg_port(&n("lagg0"), &n("nope0"))), Errno::EINVAL);
        assert_eq!(errno(k.remove_lagg_port(&n("lagg7"), &n("em0"))), Errno::ENXIO);
        assert_eq!(errno(k.remove_lagg_port(&n("em1"), &n("em0"))), Errno::EINVAL);
    }

    #[test]
    fn proto_clone_and_sysctl_requests() {
        let mut k = laptop();
        assert_eq!(
            errno(k.set_lagg_proto(&n("lagg0"), LaggProto::Unknown(6))),
            Errno::EPROTONOSUPPORT
        );
        assert_eq!(errno(k.set_lagg_proto(&n("lagg5"), LaggProto::Failover)), Errno::ENXIO);
        k.set_lagg_proto(&n("lagg0"), LaggProto::RoundRobin).unwrap();
        // roundrobin: no MASTER, ACTIVE on every active port; ports kept.
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", false, true), p("wlan0", false, true)]);
        k.set_lagg_proto(&n("lagg0"), LaggProto::Failover).unwrap();
        assert_eq!(ports(&mut k, "lagg0")[0], p("em0", true, true));

        assert_eq!(errno(k.create_lagg(&n("lagg0"))), Errno::EEXIST);
        assert_eq!(errno(k.create_lagg(&n("bond0"))), Errno::EINVAL);
        k.take_events();
        k.create_lagg(&n("lagg1")).unwrap();
        let l = k.interface("lagg1").unwrap();
        assert_eq!((l.index, l.mac, l.up, l.link), (4, MacAddr::ZERO, false, LinkState::Unknown));
        assert_eq!(k.lagg_status(&n("lagg1")).unwrap().proto, LaggProto::Failover);
        assert_eq!(k.take_events(), vec![ev("lagg1", "ATTACH")]);
        // First port without link: UNKNOWN -> DOWN is a change.
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        k.take_events();
        k.add_lagg_port(&n("lagg1"), &n("ue0")).unwrap();
        assert_eq!(k.take_events(), vec![ev("lagg1", "LINK_DOWN")]);
        assert_eq!(errno(k.lagg_status(&n("em0")).map(|_| ())), Errno::EINVAL);

        assert_eq!(k.failover_rx_all().unwrap(), Some(false));
        k.set_failover_rx_all(true).unwrap();
        assert_eq!(k.failover_rx_all().unwrap(), Some(true));
        assert_eq!(k.calls().last().unwrap(), "sysctl net.link.lagg.failover_rx_all=1: ok");
        assert_eq!(errno(k.set_lladdr(&n("nope0"), mac(E))), Errno::ENXIO);
        assert_eq!(errno(k.set_up(&n("nope0"), true)), Errno::ENXIO);
        assert_eq!(errno(k.restart_wpa_supplicant(&n("em0"))), Errno::EINVAL);
    }

    #[test]
    fn lagg_lladdr_reaches_ports_only_when_lagg_runs() {
        let mut k = laptop();
        k.set_up(&n("lagg0"), false).unwrap();
        k.set_lladdr(&n("lagg0"), mac(W)).unwrap();
        assert_eq!(k.interface("em0").unwrap().mac, mac(E), "lagg down: lagg_init not run");
        k.take_events();
        k.set_up(&n("lagg0"), true).unwrap();
        // lagg_init: every port whose MAC differs gets if_setlladdr.
        assert_eq!(k.interface("em0").unwrap().mac, mac(W));
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(W));
        let evs = k.take_events();
        assert_eq!(evs.first(), Some(&ev("em0", "LINK_DOWN")));
        assert!(evs.contains(&ev("wlan0", "LINK_DOWN")), "{evs:?}");
    }

    #[test]
    fn destroying_the_lagg_restores_port_macs() {
        let mut k = Laptop::new().wlan_mac(W).build();
        k.happen(&"destroy lagg0".parse().unwrap()).unwrap();
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(W));
        assert_eq!(k.interface("em0").unwrap().mac, mac(E));
        assert_eq!(k.take_events().last(), Some(&ev("lagg0", "DETACH")));
    }
}
