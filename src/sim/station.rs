//! A station between its association and its 4-way handshake: when a vap
//! can join its BSS, when the join holds, and how a station whose
//! handshake cannot finish flaps (LINK_UP, deauthentication, LINK_DOWN,
//! again on every retry). Not owned here: the addresses the vap and its
//! radio use ([`super::net80211`]), the link state machinery and the clock
//! ([`super::ifnet`]).
//!
//! What the sources say, and the timings they give:
//! - net80211 reports LINK_UP when the station enters RUN, that is at
//!   association, before any 4-way handshake (`sta_newstate`, case
//!   IEEE80211_S_RUN from ASSOC: `ieee80211_notify_node_join`), and
//!   LINK_DOWN when it leaves RUN, for instance on the AP's
//!   deauthentication (`sta_newstate` → `ieee80211_sta_leave`).
//!   `sta_input` drops every unicast frame not addressed to `IF_LLADDR`,
//!   management frames included, outside a scan: a station whose
//!   `iv_myaddr` is not its lladdr never gets the AP's authentication
//!   response, so it never joins (it does not flap). Read in
//!   `fel1x-developer/freebsd-src` at
//!   2d614aa2fe3e037bd11d351b0b5cfda776e65814,
//!   `sys/net80211/ieee80211_sta.c`.
//! - wpa_supplicant's pcap filter takes only frames to the address it read
//!   at start (`l2_packet_init`, hostap `src/l2_packet/l2_packet_freebsd.c`):
//!   with a stale one it never sees message 1 of the handshake.
//! - The AP (hostapd's authenticator, `contrib/wpa/src/ap/wpa_auth.c` in
//!   `freebsd/freebsd-src` at 0405dcd683058e240c76089af923beeae755d71b)
//!   sends message 1, resends it after `eapol_key_timeout_first` (100 ms)
//!   and then every `eapol_key_timeout_subseq` (1000 ms), and once
//!   `TimeoutCtr` exceeds `wpa_pairwise_update_count` (4, hostapd's
//!   default in `ap_config.c`) leaves PTKSTART for DISCONNECT: it
//!   deauthenticates the station 3.1 s after the association
//!   ([`AP_HANDSHAKE_DEADLINE_MS`]). wpa_supplicant's own timeout for the
//!   first EAPOL frame (10 s, `wpa_supplicant_req_auth_timeout` from
//!   `events.c`) comes later and never fires.
//! - On the disassociation wpa_supplicant asks for a scan in 100 ms
//!   (`wpa_supplicant_event_disassoc_finish`, state ≥ ASSOCIATING:
//!   `wpa_supplicant_req_scan(wpa_s, 0, 100000)`; a later, longer request
//!   does not replace a sooner one) and counts the failure
//!   (`wpas_connection_failed`, `contrib/wpa/wpa_supplicant/wpa_supplicant.c`
//!   in `freebsd/freebsd-src` at 1f148f3c5aeadeb79bc2e5258d9e40f15ccc8238):
//!   after more than three it disables the network for a while
//!   (`wpas_auth_failed`: 10, 20, 30 s, then 60 s after three failures
//!   more, 90 s after five, 120 s after ten, 300 s after fifty). A
//!   completed handshake clears both (`wpa_supplicant_cancel_auth_timeout`,
//!   `wpas_clear_temp_disabled`), and so does a new wpa_supplicant.
//!   [`retry_delay_ms`] is that wait; the association itself then takes
//!   the vap's `assoc` time again (scan, authentication, association).
//!
//! Simplifications: a userland down/up of a flapping vap starts the next
//! try at once (the network's temporary disable, which wpa_supplicant would
//! keep, is forgotten); the periodic scan that finds a re-enabled network
//! (up to `scan_interval`, 5 s, later) is not modelled. A machine file
//! describes a settled world, and a station that cannot finish its
//! handshake settles between two tries: its link down, no try pending
//! ([`SimKernel::quiesce_flapping`]), until something restarts it.

use crate::domain::model::{IfKind, IfName, LinkState, MacAddr};

use super::ifnet::{default_link_delay, Ifnet};
use super::net80211::Vap;
use super::SimKernel;

/// From association (LINK_UP) to the AP's deauthentication of a station
/// that never answers message 1: 100 ms, then three waits of 1000 ms
/// (hostapd's `eapol_key_timeout_first`, `eapol_key_timeout_subseq`,
/// `wpa_pairwise_update_count`; see the module doc).
pub const AP_HANDSHAKE_DEADLINE_MS: u64 = 3_100;

/// How long wpa_supplicant waits after its `failures`-th consecutive
/// failed connection before it tries the network again (see the module
/// doc): 100 ms for the first three, then the temporary disable
/// `wpas_auth_failed` sets for its count beyond three.
pub fn retry_delay_ms(failures: u32) -> u64 {
    let auth_failures = failures.saturating_sub(3);
    let secs = match auth_failures {
        0 => return 100,
        1 => 10,
        2 => 20,
        3 => 30,
        4..=5 => 60,
        6..=10 => 90,
        11..=50 => 120,
        _ => 300,
    };
    secs * 1000
}

impl Vap {
    /// Can the station join its BSS (reach RUN, where net80211 reports
    /// LINK_UP)? Its radio must use the address net80211 authenticates
    /// with, and that address must be the lladdr `sta_input` accepts
    /// frames for; on a WPA network wpa_supplicant must run (it drives the
    /// association). An open network joins without one (net80211's station
    /// state machine authenticates and associates by itself; not re-read
    /// here).
    pub(super) fn can_join(&self, lladdr: MacAddr) -> bool {
        self.radio == self.air && self.air == lladdr && (self.open || self.wpa.is_some())
    }

    /// Does the join hold: no handshake (open), or wpa_supplicant speaks
    /// with the address the station joined with?
    pub(super) fn completes(&self) -> bool {
        self.open || self.wpa == Some(self.air)
    }
}

/// A station that can join but whose handshake cannot finish: it flaps as
/// long as it is up with its AP in reach.
pub(super) fn flaps(ifn: &Ifnet) -> bool {
    ifn.kind == IfKind::Wlan
        && ifn.up
        && ifn.medium
        && ifn.vap.as_ref().is_some_and(|v| v.can_join(ifn.lladdr) && !v.completes())
}

impl SimKernel {
    /// The station reached RUN and its LINK_UP was reported: a handshake
    /// that completes clears wpa_supplicant's failure count; one that
    /// cannot has the AP deauthenticate it [`AP_HANDSHAKE_DEADLINE_MS`]
    /// later.
    pub(super) fn station_joined(&mut self, name: &IfName) {
        let now = self.now;
        if let Some(v) = self.ifnets.get_mut(name).and_then(|i| i.vap.as_mut()) {
            if v.completes() {
                v.failures = 0;
                v.deauth_due = None;
            } else {
                v.deauth_due = Some(now + AP_HANDSHAKE_DEADLINE_MS);
            }
        }
    }

    /// The AP's deauthentication timer: if the handshake still has not
    /// completed, the station leaves RUN (LINK_DOWN), wpa_supplicant
    /// counts a failure and tries again [`retry_delay_ms`] later, which
    /// takes the association time once more.
    pub(super) fn ap_deauth(&mut self, name: &IfName) {
        let now = self.now;
        let Some(ifn) = self.ifnets.get_mut(name) else {
            return;
        };
        let delay = ifn.link_delay.unwrap_or_else(|| default_link_delay(ifn.kind));
        let up = ifn.link == LinkState::Up;
        let Some(v) = ifn.vap.as_mut() else {
            return;
        };
        v.deauth_due = None;
        if !up || v.completes() {
            return;
        }
        v.failures = v.failures.saturating_add(1);
        let retry = retry_delay_ms(v.failures);
        self.set_link(name, LinkState::Down);
        if let Some(ifn) = self.ifnets.get_mut(name) {
            if SimKernel::carrier_ready(ifn) {
                ifn.link_due = Some(now + retry + delay);
            }
        }
    }

    /// The vaps that are flapping now: up, AP in reach, able to join but
    /// not to finish the handshake, and with a try under way or their link
    /// up. A world where only these have anything pending keeps retrying
    /// for ever.
    pub fn flapping_vaps(&self) -> Vec<IfName> {
        self.by_index()
            .into_iter()
            .filter(|i| flaps(i))
            .filter(|i| {
                i.link == LinkState::Up
                    || i.link_due.is_some()
                    || i.vap.as_ref().is_some_and(|v| v.deauth_due.is_some())
            })
            .map(|i| i.name.clone())
            .collect()
    }

    /// When the next timer of an interface that is not flapping, or of
    /// layer 3, fires:
    /// what a world must run to before it is settled (a flapping station
    /// never settles).
    pub fn next_settling_due(&self) -> Option<u64> {
        self.ifnets
            .values()
            .filter(|i| !flaps(i))
            .flat_map(|i| i.link_due.into_iter().chain(i.vap.as_ref().and_then(|v| v.deauth_due)))
            // Layer 3's timers that are not periodic (sim::net) settle too.
            .chain(self.net.next_due())
            .min()
    }

    /// Puts every flapping station between two tries (see the module doc):
    /// link down, nothing pending, wpa_supplicant's count forgotten.
    pub(super) fn quiesce_flapping(&mut self) {
        let names: Vec<IfName> =
            self.ifnets.values().filter(|i| flaps(i)).map(|i| i.name.clone()).collect();
        for name in names {
            if self.ifnets.get(&name).is_some_and(|i| i.link == LinkState::Up) {
                self.set_link(&name, LinkState::Down);
            }
            if let Some(ifn) = self.ifnets.get_mut(&name) {
                ifn.link_due = None;
                if let Some(v) = ifn.vap.as_mut() {
                    (v.deauth_due, v.failures) = (None, 0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernel;
    use crate::sim::fixture::{ev, mac, n, E};
    use crate::sim::{factory_mac, Machine, MachineInterface, WpaMac};

    /// A vap whose wpa_supplicant read the radio's factory address while
    /// the vap has em0's, its AP out of reach; `assoc` 2.0 s.
    fn stale() -> SimKernel {
        let mut w = MachineInterface::new(n("wlan0"), IfKind::Wlan);
        (w.parent, w.mac, w.link) = (Some(n("iwn0")), Some(mac(E)), false);
        w.wpa_mac = Some(WpaMac::Read(factory_mac(&n("iwn0"))));
        SimKernel::from_machine(&Machine { interface: vec![w], ..Machine::default() }).unwrap()
    }

    #[test]
    fn the_retry_waits_follow_wpa_supplicant() {
        let waits: Vec<u64> = (1..=12).map(retry_delay_ms).collect();
        assert_eq!(
            waits,
            [100, 100, 100, 10_000, 20_000, 30_000, 60_000, 60_000, 90_000, 90_000, 90_000, 90_000]
        );
        assert_eq!(retry_delay_ms(14), 120_000);
        assert_eq!(retry_delay_ms(60), 300_000);
    }

    /// Issue 19.2: LINK_UP at association, the AP's deauthentication 3.1 s
    /// later, the next try 100 ms after that plus an association, and so
    /// on, the waits growing as wpa_supplicant's failures add up.
    #[test]
    fn issue19_a_stale_wpa_supplicant_flaps_with_the_sources_timings() {
        let mut k = stale();
        k.happen(&"associate wlan0".parse().unwrap()).unwrap();
        let mut seen = Vec::new();
        while let Some(due) = k.next_due().filter(|d| *d <= 60_000) {
            k.advance(due);
            for e in k.take_events() {
                seen.push(format!("{} {}", k.now(), e.kind));
            }
        }
        assert_eq!(
            seen,
            [
                "2000 LINK_UP",
                "5100 LINK_DOWN",
                "7200 LINK_UP",
                "10300 LINK_DOWN",
                "12400 LINK_UP",
                "15500 LINK_DOWN",
                "17600 LINK_UP",
                "20700 LINK_DOWN",
                "32700 LINK_UP",
                "35800 LINK_DOWN",
                "57800 LINK_UP",
            ]
        );
        assert_eq!(k.flapping_vaps(), [n("wlan0")]);
        assert_eq!(k.next_settling_due(), None, "nothing but the flapping is pending");
    }

    /// A station whose handshake completes stays up; a refreshed
    /// wpa_supplicant stops the flapping.
    #[test]
    fn a_refresh_ends_the_flapping() {
        let mut k = stale();
        k.happen(&"associate wlan0".parse().unwrap()).unwrap();
        k.advance(2_000);
        assert_eq!(k.take_events(), [ev("wlan0", "LINK_UP")]);
        // down, the address again, up: wpa_supplicant hears the vap come
        // back and reads the address.
        k.set_up(&n("wlan0"), false).unwrap();
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        k.set_up(&n("wlan0"), true).unwrap();
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        k.advance(60_000);
        assert_eq!(k.take_events(), [ev("wlan0", "LINK_DOWN"), ev("wlan0", "LINK_UP")]);
        assert!(k.flapping_vaps().is_empty());
        assert_eq!(k.next_due(), None);
    }

    /// `iv_myaddr` other than the lladdr: `sta_input` drops the AP's
    /// answers, the station never joins, nothing is reported.
    #[test]
    fn a_station_whose_lladdr_is_not_its_air_address_never_joins() {
        let mut w = MachineInterface::new(n("wlan0"), IfKind::Wlan);
        (w.parent, w.link, w.lladdr) = (Some(n("iwn0")), true, Some(mac(E)));
        let k = SimKernel::from_machine(&Machine { interface: vec![w], ..Machine::default() });
        let mut k = k.unwrap();
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down);
        k.happen(&"disassociate wlan0".parse().unwrap()).unwrap();
        k.happen(&"associate wlan0".parse().unwrap()).unwrap();
        k.settle();
        assert!(k.take_events().is_empty());
    }

    /// A machine file settles a flapping station between two tries, so a
    /// saved world rebuilds exactly.
    #[test]
    fn settling_puts_a_flapping_station_between_two_tries() {
        let mut k = stale();
        k.happen(&"associate wlan0".parse().unwrap()).unwrap();
        k.advance(3_000);
        k.settle();
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down);
        assert_eq!(k.next_due(), None);
        assert_eq!(SimKernel::from_machine(&k.to_machine()).unwrap(), k);
    }
}
