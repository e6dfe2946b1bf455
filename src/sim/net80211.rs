//! net80211 as far as lagghook can see it: vaps on radios, the address a
//! vap uses on the air (`iv_myaddr`) and when it follows the interface's,
//! the address the radio itself was given (its class, [`LladdrClass`]),
//! and the wpa_supplicant that has to use that same address for the 4-way
//! handshake to succeed. Not owned here: the generic ifnet rules
//! ([`super::ifnet`]), what a lagg does to its wlan port
//! ([`super::if_lagg`]), and the station's association, handshake and
//! retries ([`super::station`]).
//!
//! Models `sys/net80211/ieee80211.c` (`ieee80211_vap_attach`),
//! `sys/net80211/ieee80211_freebsd.c` (`wlan_clone_create`,
//! `wlan_iflladdr`, `ieee80211_notify_node_join`) and
//! `sys/net80211/ieee80211_ioctl.c` (`ieee80211_ioctl`), as read in
//! `fel1x-developer/freebsd-src` (see the module doc of [`super`] for the
//! commits). The wpa_supplicant model is inferred from hostap's
//! `contrib/wpa/src/l2_packet/l2_packet_freebsd.c` (`l2_packet_init` reads
//! the address once) and rc's `libexec/rc/rc.d/wpa_supplicant` of 14.x
//! (no post-start; see [`SimKernel::wpa_supplicant_restart`]), not checked
//! on a FreeBSD machine. The base system's wpa_supplicant hears a vap stop
//! when IFF_UP *or* IFF_DRV_RUNNING goes away (`driver_bsd.c`, see
//! [`SimKernel::wpa_supplicant_enabled`]).
//!
//! A radio's class (machine file `[[machine.radio]]`, default native) is
//! what its driver does with a new lladdr (`domain::wifi_driver` has the
//! sources and lagghook's belief of each driver):
//! - native: the radio uses `iv_myaddr`, whichever way net80211 set it
//!   (`wlan_iflladdr` while the vap is down, `ieee80211_ioctl`'s stop path
//!   for the last running vap);
//! - while-down: only an address set while the vap is down reaches the
//!   radio (LinuxKPI's `lkpi_vif_iflladdr`, which returns when IFF_UP is
//!   set, so the down/up inside `if_setlladdr` of an UP vap does not);
//! - at-create: the radio keeps the address the vap was created with
//!   (`lkpi_ic_vap_create` → the firmware's `vif->addr`).
//!
//! A radio that kept another address than `iv_myaddr` receives nothing for
//! the station: the AP answers the address net80211 authenticates with,
//! and the radio's receive filter drops it (inferred from the drivers'
//! use of `vif->addr` for their MAC context, not observed). `ifconfig`
//! shows the address that was set all the same.

use std::collections::BTreeMap;

use crate::abi::ETHERMTU;
use crate::domain::config::is_wlan_name;
use crate::domain::model::{IfKind, IfName, LinkState, MacAddr};
use crate::domain::wifi_driver::LladdrClass;
use crate::kernel::Errno;

use super::ifnet::Ifnet;
use super::SimKernel;

/// net80211 state of a vap (`struct ieee80211vap`) plus its wpa_supplicant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Vap {
    /// The radio (`ic_name`, `net.wlan.N.%parent`).
    pub(super) parent: IfName,
    /// `iv_myaddr`: the address the vap uses on the air.
    pub(super) air: MacAddr,
    /// The address wpa_supplicant read when it started; `None` when no
    /// wpa_supplicant runs for this vap.
    pub(super) wpa: Option<MacAddr>,
    /// The network is open (machine key `security = "open"`): the station
    /// joins without a 4-way handshake, so without wpa_supplicant.
    pub(super) open: bool,
    /// wpa_supplicant answers on its control socket (machine key
    /// `wpa_ctrl`, default true): without a `ctrl_interface` line in
    /// wpa_supplicant.conf it has none, and its address is `Unknown`.
    pub(super) ctrl: bool,
    /// wpa_supplicant heard the vap stop (RTM_IFINFO without IFF_UP or
    /// IFF_DRV_RUNNING after both) and waits in WPA_INTERFACE_DISABLED: the
    /// next RTM_IFINFO with both is an enable, on which it reads the
    /// address again ([`SimKernel::wpa_supplicant_enabled`]).
    pub(super) disabled: bool,
    /// The address the radio's hardware or firmware sends and receives
    /// with for this vap: `iv_myaddr` on a native radio, the creation
    /// address on an at-create one (see the module doc).
    pub(super) radio: MacAddr,
    /// wpa_supplicant's consecutive failed connections to the network
    /// (`wpas_connection_failed`'s count), which decide how long it waits
    /// before the next try ([`super::station`]).
    pub(super) failures: u32,
    /// When the AP deauthenticates the station for a 4-way handshake it
    /// did not complete (simulated ms; [`super::station`]).
    pub(super) deauth_due: Option<u64>,
}

/// What a re-created vap takes over from the one rc re-creates
/// ([`SimKernel::vap_templates`]); a vap new to the machine gets the
/// default: its AP in reach, a WPA network, a wpa_supplicant with a
/// control socket, the default association time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct VapTemplate {
    pub(super) medium: bool,
    pub(super) open: bool,
    pub(super) ctrl: bool,
    pub(super) link_delay: Option<u64>,
}

impl Default for VapTemplate {
    fn default() -> VapTemplate {
        VapTemplate { medium: true, open: false, ctrl: true, link_delay: None }
    }
}

impl Vap {
    /// A vap just created with address `mac` (`ieee80211_vap_attach`: it is
    /// `iv_myaddr` and, whatever the class, what the radio was given),
    /// no wpa_supplicant yet.
    pub(super) fn new(parent: &IfName, mac: MacAddr, t: VapTemplate) -> Vap {
        Vap {
            parent: parent.clone(),
            air: mac,
            wpa: None,
            open: t.open,
            ctrl: t.ctrl,
            disabled: false,
            radio: mac,
            failures: 0,
            deauth_due: None,
        }
    }
}

/// A radio's factory MAC (`ic_macaddr`): a fixed function of the radio's
/// name (FNV-1a), with the group and locally-administered bits cleared so
/// it is a universally administered unicast address, as burned-in ones are.
pub fn factory_mac(parent: &IfName) -> MacAddr {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parent.as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    let mut mac = [b[0] & 0xfc, b[1], b[2], b[3], b[4], b[5]];
    if mac == [0; 6] {
        mac[5] = 1;
    }
    MacAddr(mac)
}

impl SimKernel {
    /// `iv_myaddr` of a vap: the address it associates with. It follows
    /// `IF_LLADDR` only when the vap is down at the time of the change
    /// (`wlan_iflladdr`) or when it is stopped as the last running vap of
    /// its radio and is not a lagg member (`ieee80211_ioctl`,
    /// SIOCSIFFLAGS).
    pub fn air_mac(&self, wlan: &str) -> Option<MacAddr> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == wlan)?;
        ifn.vap.as_ref().map(|v| v.air)
    }

    /// The address the radio itself uses for vap `wlan` (see the module
    /// doc): `iv_myaddr` unless its class kept another.
    pub fn radio_mac(&self, wlan: &str) -> Option<MacAddr> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == wlan)?;
        ifn.vap.as_ref().map(|v| v.radio)
    }

    /// The class of `radio` (machine file `[[machine.radio]]`), native
    /// unless the machine says otherwise.
    pub fn radio_class(&self, radio: &IfName) -> LladdrClass {
        self.radio_lladdr.get(radio).copied().unwrap_or(LladdrClass::Native)
    }

    /// A new `iv_myaddr` for vap `ifn`, set by `path` (true: an address set
    /// while the vap is down, `wlan_iflladdr`; false: `ieee80211_ioctl`'s
    /// stop path inside the down/up of an UP vap), and what its radio does
    /// with it (see the module doc).
    fn set_air(&mut self, name: &IfName, while_down: bool) {
        let Some(parent) =
            self.ifnets.get(name).and_then(|i| i.vap.as_ref()).map(|v| v.parent.clone())
        else {
            return;
        };
        let follows = match self.radio_class(&parent) {
            LladdrClass::Native => true,
            LladdrClass::WhileDown => while_down,
            LladdrClass::AtCreate => false,
        };
        if let Some(ifn) = self.ifnets.get_mut(name) {
            let lladdr = ifn.lladdr;
            if let Some(v) = ifn.vap.as_mut() {
                v.air = lladdr;
                if follows {
                    v.radio = lladdr;
                }
            }
        }
    }

    /// The address wpa_supplicant read when it (re)started, `None` if it
    /// does not run for this vap.
    pub fn wpa_supplicant_mac(&self, wlan: &str) -> Option<MacAddr> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == wlan)?;
        ifn.vap.as_ref().and_then(|v| v.wpa)
    }

    /// The 802.11 devices (radios) the machine knows.
    pub fn radios(&self) -> impl Iterator<Item = &IfName> {
        self.radios.iter()
    }

    /// Number of running vaps on a radio (`ic_nrunning`).
    fn nrunning(&self, parent: &IfName) -> usize {
        self.ifnets
            .values()
            .filter(|i| i.up && i.vap.as_ref().is_some_and(|v| &v.parent == parent))
            .count()
    }

    /// `ieee80211_ioctl` SIOCSIFFLAGS, stopping vap `name` (called before
    /// IFF_UP is cleared): stopping the last running vap of the radio waits
    /// for the parent and then copies IF_LLADDR into iv_myaddr ("MAC
    /// changed via SIOCSIFLLADDR") -- but only if `ifp->if_ioctl ==
    /// ieee80211_ioctl`, which is false while the vap is a lagg member
    /// (`lagg_port_create` hooks if_ioctl to `lagg_port_ioctl`).
    pub(super) fn ieee80211_stop(&mut self, name: &IfName) {
        let Some(ifn) = self.ifnets.get(name) else {
            return;
        };
        let parent = ifn.vap.as_ref().map(|v| v.parent.clone());
        let last = parent.is_some_and(|p| self.nrunning(&p) == 1);
        let member = self.lagg_of(name).is_some();
        if last && !member {
            self.set_air(name, false);
        }
    }

    /// `wlan_iflladdr`, net80211's `iflladdr_event` handler: a vap that is
    /// not UP takes the new IF_LLADDR as iv_myaddr at once; an UP one keeps
    /// its old iv_myaddr.
    pub(super) fn wlan_iflladdr(&mut self, name: &IfName) {
        if self.ifnets.get(name).is_some_and(|i| !i.up && i.vap.is_some()) {
            self.set_air(name, true);
        }
    }

    /// `ifconfig NAME create wlandev PARENT [wlanaddr MAC]`:
    /// `wlan_clone_create` → `ieee80211_vap_attach` → `ether_ifattach` with
    /// `mac`, else the radio's address (`ic_macaddr`); iv_myaddr is that
    /// address too. The vap is not UP (a cloned interface starts down), no
    /// wpa_supplicant runs for it yet, and its link is `if_alloc`'s
    /// LINK_STATE_UNKNOWN until the station joins.
    ///
    /// A `name` that is not `wlan<N>` is a vap rc names at creation
    /// (`wlans_iwn0="wifi0"`): rc's `wlan_up` runs `ifconfig wlan create
    /// wlandev PARENT … name NEW`, so the wlan cloner attaches the
    /// vap under its own name, the lowest free `wlan<N>` (`ifc_alloc_unit`
    /// in `sys/net/if_clone.c`), and ifconfig then renames it
    /// (SIOCSIFNAME → `if_rename` in `sys/net/if.c`, which sends `IFNET
    /// wlanN RENAME name=NEW`). Units held by earlier renamed vaps are not
    /// tracked: lagghook never sees a vap's unit.
    pub(super) fn wlan_clone_create(
        &mut self,
        name: &IfName,
        parent: &IfName,
        mac: Option<MacAddr>,
        t: VapTemplate,
    ) {
        self.radios.insert(parent.clone());
        let mac = mac.unwrap_or_else(|| factory_mac(parent));
        let renamed_from = if is_wlan_name(name.as_str()) {
            None
        } else {
            (0u32..).find_map(|unit| {
                let n = IfName::new(&format!("wlan{unit}")).ok()?;
                (!self.ifnets.contains_key(&n)).then_some(n)
            })
        };
        self.attach_as(
            renamed_from.as_ref(),
            Ifnet {
                name: name.clone(),
                index: self.lowest_free_index(),
                kind: IfKind::Wlan,
                lladdr: mac,
                hwaddr: Some(mac),
                up: false,
                medium: t.medium,
                // `if_alloc`: LINK_STATE_UNKNOWN until the station joins.
                link: LinkState::Unknown,
                mtu: ETHERMTU,
                vap: Some(Vap::new(parent, mac, t)),
                max_mtu: None,
                // A vap offers no offload, and net80211 does not handle
                // SIOCSIFCAP (`ieee80211_ioctl` passes it to `ether_ioctl`:
                // EINVAL).
                capabilities: 0,
                caps: 0,
                lagg: None,
                link_due: None,
                link_delay: t.link_delay,
                pseudo: None,
            },
        );
    }

    /// lagghook re-creating vap `name` on `parent` with address `mac`
    /// (`Kernel::recreate_vap`, whose FreeBSD side cites rc): its
    /// wpa_supplicant stops (`/etc/rc.d/wpa_supplicant stop`, which
    /// deauthenticates), the vap is destroyed (`if_detach`: lagg drops it,
    /// DETACH) and created again with `wlanaddr` (`wlan_clone_create` with
    /// IEEE80211_CLONE_MACADDR: the address every class of radio takes),
    /// keeping its world ([`VapTemplate`]); then `/etc/rc.d/netif
    /// quietstart NAME` configures it as rc would (`ifn_start`: the
    /// `ifconfig_NAME` words, and for `WPA` a new wpa_supplicant, which
    /// reads the new address and brings the vap up to scan). ENXIO for no
    /// such interface, or, once the vap is gone, a radio that is not
    /// attached (`wlan_clone_create`); EINVAL for an interface that is no
    /// vap.
    pub(super) fn wlan_recreate(
        &mut self,
        name: &IfName,
        parent: &IfName,
        mac: MacAddr,
    ) -> Result<(), Errno> {
        let ifn = self.ifnets.get(name).ok_or(Errno::ENXIO)?;
        if ifn.vap.is_none() {
            return Err(Errno::EINVAL);
        }
        let t = self.vap_templates().get(name).copied().unwrap_or_default();
        self.if_detach(name);
        if !self.radios.contains(parent) || self.ifnets.contains_key(parent) {
            return Err(Errno::ENXIO);
        }
        self.wlan_clone_create(name, parent, Some(mac), t);
        self.rc_netif_quietstart(name);
        Ok(())
    }

    /// What a vap that is about to be destroyed and re-created by rc
    /// (reboot, driver reload) keeps, because it belongs to the world or
    /// to the machine rather than to the ifnet: whether its AP is in
    /// reach, the network's security, whether wpa_supplicant has a control
    /// socket, its association time. Keyed by vap name, as rc re-creates
    /// vaps by name (`wlans_RADIO`).
    pub(super) fn vap_templates(&self) -> BTreeMap<IfName, VapTemplate> {
        let mut templates = self.gone_vaps.clone();
        templates.extend(self.ifnets.values().filter_map(|i| {
            let v = i.vap.as_ref()?;
            let t = VapTemplate {
                medium: i.medium,
                open: v.open,
                ctrl: v.ctrl,
                link_delay: i.link_delay,
            };
            Some((i.name.clone(), t))
        }));
        templates
    }

    /// Remembers what a vap about to be destroyed was like
    /// ([`SimKernel::vap_templates`]).
    pub(super) fn remember_vap(&mut self, name: &IfName) {
        if let Some(t) = self.vap_templates().remove(name) {
            self.gone_vaps.insert(name.clone(), t);
        }
    }

    /// `/etc/rc.d/wpa_supplicant start WLAN` (run by rc's `ifconfig_up`
    /// for a `WPA` interface): wpa_supplicant marks the interface down
    /// during its setup (hostap `driver_bsd.c`, `wpa_driver_bsd_init`:
    /// "Down interface during setup") and reads the interface address once,
    /// at start (`l2_packet_init` in `l2_packet_freebsd.c`). It brings the
    /// vap up only when it first scans ([`SimKernel::wpa_supplicant_scan`]).
    /// Returns false when it cannot run for `wlan`: not a vap (the
    /// simulator models wpa_supplicant on vaps only), or one already runs
    /// (the rc script finds its pidfile and does nothing).
    pub(super) fn wpa_supplicant_start(&mut self, wlan: &IfName) -> bool {
        let running = match self.ifnets.get(wlan).and_then(|i| i.vap.as_ref()) {
            None => return false,
            Some(v) => v.wpa.is_some(),
        };
        if running {
            return false;
        }
        self.if_setflags(wlan, false);
        if let Some(ifn) = self.ifnets.get_mut(wlan) {
            let lladdr = ifn.lladdr;
            if let Some(vap) = ifn.vap.as_mut() {
                // A new process: no failures counted yet.
                (vap.wpa, vap.disabled, vap.failures) = (Some(lladdr), false, 0);
            }
        }
        true
    }

    /// wpa_supplicant's first scan: "NB: interface must be marked UP to
    /// do a scan" (hostap `driver_bsd.c`, `wpa_driver_bsd_scan`), so it
    /// brings the vap up itself. The RTM_IFINFO of that up does arrive as
    /// an enable, but wpa_supplicant reads the address again only when an
    /// enable follows a heard disable (`events.c`: `if (wpa_s->wpa_state ==
    /// WPA_INTERFACE_DISABLED)`), and none came since it started: a vap
    /// whose address changed meanwhile (rc's `laggport` joining it while
    /// down) fails the 4-way handshake. (The base system's `driver_bsd.c`
    /// watches IFF_UP and IFF_DRV_RUNNING alike, see
    /// [`SimKernel::wpa_supplicant_enabled`]; what makes this up no re-read
    /// is that no disable came before it, not which flag it sets.)
    pub(super) fn wpa_supplicant_scan(&mut self, wlan: &IfName) {
        self.if_setflags(wlan, true);
    }

    /// `/etc/rc.d/wpa_supplicant restart WLAN`: the old wpa_supplicant
    /// deauthenticates as it exits (hostap `wpa_supplicant_deinit_iface`,
    /// WLAN_REASON_DEAUTH_LEAVING), the new one reads the interface
    /// address once, at start (`l2_packet_init` in hostap's
    /// `l2_packet_freebsd.c`), and associates with it. The script of the
    /// releases lagghook supports (`freebsd/freebsd-src` main at
    /// 023fc80ee38a117fa65b2ccb2abf8bdc7dbd6fd9, after 14.0) has no
    /// `wpa_poststart`: the `ifconfig WLAN down; sleep 2; ifconfig WLAN
    /// up` of 13.x is gone, so the restart does not resync `iv_myaddr`
    /// ([`SimKernel::ieee80211_stop`]).
    ///
    /// The old wpa_supplicant marks the interface down as it exits and the
    /// new one during its setup (hostap `driver_bsd.c`:
    /// `wpa_driver_bsd_deinit`, `wpa_driver_bsd_init`, "Down interface
    /// during setup"), and brings it up for its first scan
    /// (`wpa_driver_bsd_scan`): a userland down/up, so `ieee80211_ioctl`
    /// may resync `iv_myaddr` on the way down
    /// ([`SimKernel::ieee80211_stop`]). Its own up is not an event for it
    /// (`bsd_ctrl_iface` records the flags it set).
    pub(super) fn wpa_supplicant_restart(&mut self, wlan: &IfName) -> Result<(), Errno> {
        let ifn = self.ifnets.get(wlan).ok_or(Errno::ENXIO)?;
        if ifn.vap.is_none() {
            return Err(Errno::EINVAL);
        }
        let was_up = ifn.up;
        self.if_setflags(wlan, false);
        if let Some(ifn) = self.ifnets.get_mut(wlan) {
            let lladdr = ifn.lladdr;
            if let Some(vap) = ifn.vap.as_mut() {
                (vap.wpa, vap.failures) = (Some(lladdr), 0);
            }
        }
        if was_up {
            self.if_setflags(wlan, true);
        }
        self.restart_link(wlan);
        Ok(())
    }

    /// A running wpa_supplicant hearing its vap come up again
    /// (EVENT_INTERFACE_ENABLED): it re-reads the interface address
    /// (`wpa_supplicant_update_mac_addr`) and associates with it.
    ///
    /// hostap `driver_bsd.c` (FreeBSD's `contrib/wpa`, 2.10 and 2.11: the
    /// RTM_IFINFO case of `bsd_wireless_event_receive`) reports a disable
    /// when IFF_UP or IFF_DRV_RUNNING goes away from a vap that had both,
    /// an enable when both come back; `events.c` re-reads the address on
    /// an enable only after a disable. A userland down/up sends both
    /// (`if_down`/`if_up` → `rt_ifmsg`), and so does net80211's stop and
    /// start of a vap (`ieee80211_stop_locked`/`ieee80211_start_locked` →
    /// `ieee80211_notify_ifnet_change`): the down/up inside
    /// `if_setlladdr`, a resume.
    pub(super) fn wpa_supplicant_enabled(&mut self, wlan: &IfName) {
        let Some(ifn) = self.ifnets.get_mut(wlan) else {
            return;
        };
        let (lladdr, up) = (ifn.lladdr, ifn.up);
        if let Some(vap) = ifn.vap.as_mut() {
            if up && vap.disabled && vap.wpa.is_some() {
                vap.wpa = Some(lladdr);
                vap.disabled = false;
            }
        }
        self.refresh_link(wlan);
    }

    /// A running wpa_supplicant hearing its UP vap stop (see
    /// [`SimKernel::wpa_supplicant_enabled`]); call before IFF_UP goes.
    pub(super) fn wpa_supplicant_disabled(&mut self, wlan: &IfName) {
        if let Some(ifn) = self.ifnets.get_mut(wlan) {
            let up = ifn.up;
            if let Some(vap) = ifn.vap.as_mut().filter(|v| up && v.wpa.is_some()) {
                vap.disabled = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use crate::sim::fixture::{ev, mac, n, E};

    #[test]
    fn wlan_mac_change_while_up_is_heard_and_followed_on_a_single_vap_radio() {
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        let factory = factory_mac(&n("iwn0"));
        assert_eq!(k.take_events(), vec![ev("wlan0", "ATTACH")]);
        k.advance(2_000);
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_UP")], "associated after `assoc`");
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(factory));
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        // The bounce restarted the only vap of the radio: iv_myaddr follows,
        // and wpa_supplicant heard the stop/start and read the new address.
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        assert_ne!(k.wpa_supplicant_mac("wlan0"), Some(factory));
        // It costs an association.
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_DOWN")]);
        k.settle();
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_UP")]);
        assert_eq!(k.calls().last().unwrap(), "SIOCSIFLLADDR wlan0 00:11:22:33:44:55: ok");
    }

    #[test]
    fn wpa_supplicant_restart_costs_an_association() {
        // 14.x's rc.d/wpa_supplicant has no post-start down/up (13.x's had
        // one), but the exiting wpa_supplicant deauthenticates: the
        // station leaves its BSS and joins again an association later.
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        k.settle();
        k.take_events();
        k.restart_wpa_supplicant(&n("wlan0")).unwrap();
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_DOWN")]);
        assert_eq!(k.next_due(), Some(k.now() + 2_000));
        k.settle();
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_UP")]);
    }

    #[test]
    fn issue8_renamed_vap_attaches_as_wlan_n_then_renames() {
        // rc's `ifconfig wlan create wlandev iwn0 name wifi0`: ATTACH under
        // the cloner's lowest free wlanN, RENAME to the new name, then the
        // association under the new name.
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 ath0".parse().unwrap()).unwrap();
        k.settle();
        k.take_events();
        k.happen(&"create-wlan wifi0 iwn0".parse().unwrap()).unwrap();
        k.settle();
        let mut rename = ev("wlan1", "RENAME");
        rename.data.push(("name".into(), "wifi0".into()));
        assert_eq!(k.take_events(), vec![ev("wlan1", "ATTACH"), rename, ev("wifi0", "LINK_UP")]);
        let w = k.interface("wifi0").unwrap();
        assert_eq!((w.kind, w.parent), (IfKind::Wlan, Some(n("iwn0"))));
        assert!(k.interface("wlan1").is_none());
        assert_eq!(k.media_type("wifi0"), Some("802.11"));
    }

    #[test]
    fn issue8_open_network_associates_without_wpa_supplicant() {
        use crate::sim::{Machine, MachineInterface};
        let mut w = MachineInterface::new(n("wlan0"), IfKind::Wlan);
        (w.parent, w.link, w.security) = (Some(n("iwn0")), true, Some("open".into()));
        w.wpa_mac = Some(crate::sim::WpaMac::from(None));
        let machine = Machine { interface: vec![w], ..Machine::default() };
        let mut k = SimKernel::from_machine(&machine).unwrap();
        assert_eq!(k.wpa_supplicant_mac("wlan0"), None);
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Up);
        // A new address while UP leaves iv_myaddr behind; open still joins.
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        k.settle();
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Up);
        assert_eq!(SimKernel::from_machine(&k.to_machine()).unwrap(), k);
        // The same vap on a WPA network needs wpa_supplicant.
        let mut machine = machine;
        machine.interface[0].security = None;
        let k = SimKernel::from_machine(&machine).unwrap();
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down);
    }

    #[test]
    fn wlan_mac_change_while_down_moves_air_mac_at_once() {
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        k.set_up(&n("wlan0"), false).unwrap();
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)), "wlan_iflladdr copies while not UP");
        // The userland up tells wpa_supplicant (RTM_IFINFO), which reads
        // the new address: the station joins with it.
        k.set_up(&n("wlan0"), true).unwrap();
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        k.settle();
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Up);
    }

    #[test]
    fn a_second_running_vap_leaves_iv_myaddr_behind_while_wpa_supplicant_follows() {
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        k.happen(&"create-wlan wlan1 iwn0 02:00:00:00:00:01".parse().unwrap()).unwrap();
        k.settle();
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        k.settle();
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.air_mac("wlan0"), Some(factory_mac(&n("iwn0"))));
        // The handshake runs with E, the station speaks with the factory
        // address: no association.
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down);
    }

    #[test]
    fn an_up_is_an_enable_only_after_a_heard_disable() {
        use crate::sim::{Machine, MachineInterface};
        // wpa_supplicant runs for a vap that was down when it started (it
        // marks it down during setup): it heard no disable.
        let mut w = MachineInterface::new(n("wlan0"), IfKind::Wlan);
        (w.parent, w.link, w.up) = (Some(n("iwn0")), true, false);
        let machine = Machine { interface: vec![w], ..Machine::default() };
        let mut k = SimKernel::from_machine(&machine).unwrap();
        let factory = factory_mac(&n("iwn0"));
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        k.set_up(&n("wlan0"), true).unwrap();
        k.settle();
        // The up is no re-read: the handshake runs with the old address.
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(factory));
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down);
        // A down it hears, then an up: it reads the address again.
        k.set_up(&n("wlan0"), false).unwrap();
        k.set_up(&n("wlan0"), true).unwrap();
        k.settle();
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Up);
    }

    #[test]
    fn a_vap_created_again_keeps_its_world() {
        use crate::sim::{Machine, MachineInterface, Seconds};
        let mut w = MachineInterface::new(n("wlan0"), IfKind::Wlan);
        (w.parent, w.link, w.assoc, w.wpa_ctrl) =
            (Some(n("iwn0")), true, Some(Seconds(6_000)), Some(false));
        let machine = Machine { interface: vec![w], ..Machine::default() };
        let mut k = SimKernel::from_machine(&machine).unwrap();
        k.happen(&"destroy wlan0".parse().unwrap()).unwrap();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        // The same AP, the same wpa_supplicant.conf: 6 s to associate, no
        // control socket.
        assert_eq!(k.next_due(), Some(k.now() + 6_000));
        assert_eq!(
            k.wpa_supplicant_address(&n("wlan0")).unwrap(),
            crate::domain::model::WpaAddress::Unknown
        );
    }

    #[test]
    fn second_running_vap_keeps_air_mac_stale() {
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        k.happen(&"create-wlan wlan1 iwn0 02:00:00:00:00:01".parse().unwrap()).unwrap();
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        // ic_nrunning == 2 when wlan0 stops: no copy into iv_myaddr.
        assert_eq!(k.air_mac("wlan0"), Some(factory_mac(&n("iwn0"))));
    }

    /// A machine with radio `radio` of class `class` and nothing else.
    fn radio(radio: &str, class: LladdrClass) -> SimKernel {
        let r = crate::sim::MachineRadio { name: n(radio), lladdr: Some(class.to_string()) };
        let m = crate::sim::Machine { radio: Some(vec![r]), ..crate::sim::Machine::default() };
        SimKernel::from_machine(&m).unwrap()
    }

    /// A radio's class is the card's, attached or not: a machine whose
    /// at-create radio is absent (a boot without its driver) saves and
    /// loads with both, and the radio comes back with its class.
    #[test]
    fn an_absent_radio_keeps_its_class_through_a_save() {
        let mut k = radio("iwlwifi0", LladdrClass::AtCreate);
        k.happen(&"reboot absent=iwlwifi0".parse().unwrap()).unwrap();
        let mut k = SimKernel::from_machine(&k.to_machine()).unwrap();
        k.happen(&"attach-radio iwlwifi0".parse().unwrap()).unwrap();
        assert_eq!(k.radio_class(&n("iwlwifi0")), LladdrClass::AtCreate);
        assert_eq!(k.wlan_devices().unwrap(), [n("iwlwifi0")]);
    }

    /// Issue 19.1: what reaches the radio of each class. An address set
    /// while the vap is down reaches native and while-down radios; the
    /// down/up of an UP vap reaches only a native one; an at-create radio
    /// keeps its creation address, so its station never joins, while
    /// `ifconfig` (the ifnet's lladdr) shows the new one.
    #[test]
    fn issue19_a_radio_takes_a_new_address_as_its_class_allows() {
        use LladdrClass::{AtCreate, Native, WhileDown};
        let factory = factory_mac(&n("iwlwifi0"));
        for (class, down_reaches, bounce_reaches) in
            [(Native, true, true), (WhileDown, true, false), (AtCreate, false, false)]
        {
            // Set while down, then up: wpa_supplicant hears it and reads it.
            let mut k = radio("iwlwifi0", class);
            k.happen(&"create-wlan wlan0 iwlwifi0".parse().unwrap()).unwrap();
            k.set_up(&n("wlan0"), false).unwrap();
            k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
            k.set_up(&n("wlan0"), true).unwrap();
            k.settle();
            let want = if down_reaches { mac(E) } else { factory };
            assert_eq!(k.radio_mac("wlan0"), Some(want), "{class}");
            assert_eq!(k.interface("wlan0").unwrap().mac, mac(E), "{class}: ifconfig");
            assert_eq!(k.interface("wlan0").unwrap().link.is_up(), down_reaches, "{class}");
            // Set while up (the only vap, no lagg): the bounce.
            let mut k = radio("iwlwifi0", class);
            k.happen(&"create-wlan wlan0 iwlwifi0".parse().unwrap()).unwrap();
            k.settle();
            k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
            k.settle();
            let want = if bounce_reaches { mac(E) } else { factory };
            assert_eq!(k.radio_mac("wlan0"), Some(want), "{class}");
            assert_eq!(k.air_mac("wlan0"), Some(mac(E)), "{class}: net80211 follows");
            assert_eq!(k.interface("wlan0").unwrap().link.is_up(), bounce_reaches, "{class}");
            // The class is the card's: it survives a save and a load.
            assert_eq!(SimKernel::from_machine(&k.to_machine()).unwrap(), k);
        }
    }

    /// Issue 19.1: re-created with `wlanaddr`, a vap of any class has the
    /// address on its radio; rc's `netif quietstart` configures it and
    /// starts a wpa_supplicant that reads it.
    #[test]
    fn issue19_a_recreated_vap_has_its_address_on_every_radio() {
        for class in [LladdrClass::Native, LladdrClass::WhileDown, LladdrClass::AtCreate] {
            let mut k = radio("iwlwifi0", class);
            k.set_rc_conf(
                crate::sim::RcConf::parse("wlans_iwlwifi0=wlan0\nifconfig_wlan0=WPA\n").unwrap(),
            );
            k.happen(&"create-wlan wlan0 iwlwifi0".parse().unwrap()).unwrap();
            k.settle();
            k.take_events();
            k.recreate_vap(&n("wlan0"), &n("iwlwifi0"), mac(E)).unwrap();
            assert_eq!(
                k.take_events(),
                [ev("wlan0", "DETACH"), ev("wlan0", "LINK_DOWN"), ev("wlan0", "ATTACH")]
            );
            assert_eq!(k.radio_mac("wlan0"), Some(mac(E)), "{class}");
            assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)), "{class}");
            let w = k.interface("wlan0").unwrap();
            assert_eq!((w.mac, w.hwaddr, w.up), (mac(E), Some(mac(E)), true), "{class}");
            k.settle();
            assert_eq!(k.take_events(), [ev("wlan0", "LINK_UP")], "{class}");
            assert_eq!(
                k.calls(),
                ["recreate wlan0 wlandev iwlwifi0 wlanaddr 00:11:22:33:44:55: ok"]
            );
        }
        let mut k = radio("iwlwifi0", LladdrClass::AtCreate);
        let errno = |r: Result<(), crate::kernel::KernelError>| r.unwrap_err().errno_value();
        assert_eq!(errno(k.recreate_vap(&n("wlan9"), &n("iwlwifi0"), mac(E))), Some(Errno::ENXIO));
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        assert_eq!(errno(k.recreate_vap(&n("ue0"), &n("iwlwifi0"), mac(E))), Some(Errno::EINVAL));
    }

    #[test]
    fn radio_tables_are_checked() {
        let err = |text: &str| {
            let m = crate::sim::Machine::parse(text).unwrap();
            SimKernel::from_machine(&m).unwrap_err().to_string()
        };
        let r = "[[machine.radio]]\nname = \"iwlwifi0\"\n";
        assert!(err(&format!("{r}lladdr = \"linuxkpi\"\n")).contains("radio iwlwifi0: lladdr"));
        assert!(err(&format!("{r}{r}")).contains("radio iwlwifi0: listed twice"));
        let bad = crate::sim::Machine::parse(&format!("{r}class = \"native\"\n"));
        assert!(bad.unwrap_err().to_string().contains("unknown field `class`"));
        // A radio table alone makes the radio one of the machine's.
        let mut k = SimKernel::from_machine(&crate::sim::Machine::parse(r).unwrap()).unwrap();
        assert_eq!(k.wlan_devices().unwrap(), [n("iwlwifi0")]);
        assert_eq!(k.radio_class(&n("iwlwifi0")), LladdrClass::Native);
    }

    #[test]
    fn factory_mac_is_fixed_universal_unicast() {
        let a = factory_mac(&n("iwn0"));
        assert_eq!(a, factory_mac(&n("iwn0")));
        assert_ne!(a, factory_mac(&n("iwm0")));
        assert_eq!(a.0[0] & 0x03, 0, "group and local bits clear: {a}");
        assert!(!a.is_zero());
    }
}
