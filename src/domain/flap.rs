//! A flapping port as the log sees it: a lagg that comes online on a port
//! and is offline again within [`FLAP_WINDOW_SECS`], again and again. A
//! station whose 4-way handshake cannot finish does that: net80211 reports
//! LINK_UP at association, the AP deauthenticates it a few seconds later,
//! and wpa_supplicant tries again (see `sim::station` for the sources and
//! the timings), and with the cable out the lagg follows each time. Logged
//! per retry, that is an "online" and an "offline" line every few seconds
//! for as long as it lasts; logged per episode, it is one line when the
//! flapping is recognised and one when it ends. Pure: the caller keeps the
//! [`FlapState`] between runs.

use crate::domain::model::IfName;
use crate::domain::transition::{duration, LaggView};

/// How long a lagg may have been online on a port before it goes offline
/// again for that to count as a flap: wpa_supplicant's timeout for the
/// first EAPOL frame after an association (10 s,
/// `wpa_supplicant_req_auth_timeout` from `wpa_supplicant/events.c`), the
/// longest a station whose handshake fails stays associated; an AP running
/// hostapd deauthenticates it after 3.1 s.
pub const FLAP_WINDOW_SECS: u64 = 10;

/// A flapping episode of one lagg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The port that keeps coming online and going offline.
    pub port: IfName,
    /// When the lagg first came online on it in this episode (Unix time).
    pub since: u64,
    /// How many times the lagg went offline from it within the window.
    pub flaps: u32,
}

/// What the flap filter remembers of one lagg between runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlapState {
    /// When the lagg last came online (Unix time), while it is online.
    pub online_since: Option<u64>,
    pub episode: Option<Episode>,
}

/// The transition lines of one lagg for one run (`lines`, as
/// `transition::describe` wrote them for `before` → `after`), with a
/// flapping episode's "online" and "offline" lines folded into one line
/// when the episode is recognised and one when it ends; `state` is
/// updated. `now` is Unix time.
pub fn fold(
    lagg: &IfName,
    before: Option<&LaggView>,
    after: Option<&LaggView>,
    lines: Vec<String>,
    state: &mut FlapState,
    now: u64,
) -> Vec<String> {
    let was = before.and_then(|v| v.active.as_ref());
    let is = after.and_then(|v| v.active.as_ref());
    let mut out = Vec::with_capacity(lines.len() + 1);
    // An episode ends when the lagg is online on another port, has stayed
    // online on its port for longer than the window, or is gone.
    let stable = state.online_since.is_some_and(|t| now.saturating_sub(t) > FLAP_WINDOW_SECS);
    let ended = match (&state.episode, is) {
        (Some(ep), Some(port)) => &ep.port != port || (was == is && stable),
        (Some(_), None) => after.is_none(),
        (None, _) => false,
    };
    if ended {
        if let Some(ep) = state.episode.take() {
            // The flapping stopped when the port last came online and held,
            // if the lagg was still on it; this run may come much later
            // (the next event), which is not how long it flapped.
            let end = match (was, state.online_since) {
                (Some(port), Some(t)) if *port == ep.port => t,
                _ => now,
            };
            out.push(format!(
                "{lagg}: {} stopped flapping after {} {} in {}",
                ep.port,
                ep.flaps,
                if ep.flaps == 1 { "flap" } else { "flaps" },
                duration(end.saturating_sub(ep.since))
            ));
        }
    }
    if is.is_some() && was != is {
        state.online_since = Some(now);
    } else if is.is_some() && state.online_since.is_none() {
        // Online already when first seen (the first run after a boot, or
        // one triggered by the port's own LINK_UP): online since now at
        // the latest.
        state.online_since = Some(now);
    }
    // The line that a flap replaces or drops, and what replaces it.
    let (drop, instead) = match (was, is) {
        (Some(port), None) => {
            let since = state.online_since.take();
            match state.episode.as_mut() {
                Some(ep) if &ep.port == port => {
                    ep.flaps += 1;
                    (Some(format!("{lagg}: offline")), None)
                }
                _ => match since.filter(|t| now.saturating_sub(*t) <= FLAP_WINDOW_SECS) {
                    Some(t) => {
                        state.episode = Some(Episode { port: port.clone(), since: t, flaps: 1 });
                        let line = format!(
                            "{lagg}: {port} flapping: offline again {} after it came online \
                             (associated without completing the WPA handshake?); \
                             not logged again until it stops",
                            duration(now.saturating_sub(t))
                        );
                        (Some(format!("{lagg}: offline")), Some(line))
                    }
                    None => (None, None),
                },
            }
        }
        (None, Some(port)) if state.episode.as_ref().is_some_and(|ep| &ep.port == port) => {
            (Some(format!("{lagg}: online on ")), None)
        }
        _ => (None, None),
    };
    if is.is_none() {
        state.online_since = None;
    }
    for line in lines {
        match &drop {
            Some(prefix) if line.starts_with(prefix.as_str()) => out.extend(instead.clone()),
            _ => out.push(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::MacAddr;
    use crate::domain::transition::describe;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn view(active: Option<&str>) -> LaggView {
        LaggView {
            ports: vec![n("em0"), n("wlan0")],
            primary: Some(n("em0")),
            active: active.map(n),
            mac: MacAddr([0, 0x11, 0x22, 0x33, 0x44, 0x55]),
        }
    }

    /// The lines a sequence of (time, active port) observations logs.
    fn play(seq: &[(u64, Option<&str>)]) -> Vec<String> {
        let (mut state, mut last, mut out) = (FlapState::default(), view(None), Vec::new());
        for (t, active) in seq {
            let next = view(*active);
            let lines = describe(&n("lagg0"), Some(&last), Some(&next), None);
            out.extend(fold(&n("lagg0"), Some(&last), Some(&next), lines, &mut state, *t));
            last = next;
        }
        out
    }

    /// Issue 19.2: a retry every few seconds is one line when recognised
    /// and one when it ends, not an online and an offline line per retry.
    #[test]
    fn issue19_a_flapping_episode_is_logged_once() {
        let lines = play(&[
            (100, Some("wlan0")),
            (103, None),
            (105, Some("wlan0")),
            (108, None),
            (110, Some("wlan0")),
            (113, None),
            (115, Some("wlan0")),
            (200, Some("wlan0")),
        ]);
        assert_eq!(
            lines,
            [
                "lagg0: online on wlan0",
                "lagg0: wlan0 flapping: offline again 3s after it came online (associated \
                 without completing the WPA handshake?); not logged again until it stops",
                // From its first online to the online that held (115),
                // not to the run that saw it hold (200).
                "lagg0: wlan0 stopped flapping after 3 flaps in 15s",
            ]
        );
    }

    /// A lagg that was online for a while and goes offline is no flap; the
    /// cable coming back ends an episode on the vap.
    #[test]
    fn a_long_online_spell_is_no_flap_and_another_port_ends_the_episode() {
        let lines = play(&[(100, Some("wlan0")), (200, None)]);
        assert_eq!(lines, ["lagg0: online on wlan0", "lagg0: offline, no port is active"]);
        let lines =
            play(&[(100, Some("wlan0")), (102, None), (104, Some("wlan0")), (106, Some("em0"))]);
        assert_eq!(
            lines,
            [
                "lagg0: online on wlan0",
                "lagg0: wlan0 flapping: offline again 2s after it came online (associated \
                 without completing the WPA handshake?); not logged again until it stops",
                "lagg0: wlan0 stopped flapping after 1 flap in 4s",
                "lagg0: active port wlan0 -> em0",
            ]
        );
    }
}
