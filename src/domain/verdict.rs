//! The one-line answer `status` gives for a lagg, and the exit status a
//! monitoring check reads from it: is the lagg as configured, and does it
//! carry traffic? Pure: from the configuration, one observation, the
//! identity MAC and what a reconcile would do now.

use std::fmt;

use crate::domain::config::LaggConfig;
use crate::domain::model::{IfKind, LinkState, MacAddr, Snapshot, WpaAddress};
use crate::domain::plan::Plan;

/// How a configured lagg stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// As configured, and a port carries its traffic.
    Converged,
    /// It carries traffic, but not as configured; each reason one phrase.
    Degraded(Vec<String>),
    /// No traffic can flow through it: why, then anything else wrong.
    Offline(String, Vec<String>),
}

impl Verdict {
    /// The word `status -j` prints.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Converged => "converged",
            Verdict::Degraded(_) => "degraded",
            Verdict::Offline(..) => "offline",
        }
    }

    /// The reasons, empty when converged.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Verdict::Converged => Vec::new(),
            Verdict::Degraded(why) => why.clone(),
            Verdict::Offline(why, also) => std::iter::once(why).chain(also).cloned().collect(),
        }
    }

    /// The verdict with `more` reasons the lagg is not as it should be,
    /// found outside the kernel (what keeps lagghook from running again):
    /// a converged lagg is then degraded; an offline one stays offline.
    pub fn with(self, more: &[String]) -> Verdict {
        match self {
            v if more.is_empty() => v,
            Verdict::Converged => Verdict::Degraded(more.to_vec()),
            Verdict::Degraded(mut why) => {
                why.extend_from_slice(more);
                Verdict::Degraded(why)
            }
            Verdict::Offline(why, mut also) => {
                also.extend_from_slice(more);
                Verdict::Offline(why, also)
            }
        }
    }

    /// How bad it is, for the worst of several laggs: converged < degraded
    /// < offline.
    pub fn severity(&self) -> u8 {
        match self {
            Verdict::Converged => 0,
            Verdict::Degraded(_) => 1,
            Verdict::Offline(..) => 2,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Converged => f.write_str("converged"),
            Verdict::Degraded(why) => write!(f, "degraded: {}", why.join("; ")),
            Verdict::Offline(..) => write!(f, "offline: {}", self.reasons().join("; ")),
        }
    }
}

/// The verdict on `cfg`'s lagg. `pending` is what a reconcile of this lagg
/// would do now (`Scope::Lagg`), `rx_all` the configured
/// `failover_rx_all`.
pub fn verdict(
    cfg: &LaggConfig,
    snap: &Snapshot,
    identity: Option<MacAddr>,
    rx_all: bool,
    pending: &Plan,
) -> Verdict {
    let lagg = &cfg.name;
    let (Some(iface), Some(status)) = (snap.interface(lagg), snap.laggs.get(lagg)) else {
        return Verdict::Offline(format!("{lagg} does not exist"), Vec::new());
    };
    let Some(active) = status.active() else {
        return Verdict::Offline("no port is active".to_owned(), Vec::new());
    };
    // A wired port filters what it receives by its own address (its
    // filter is reprogrammed by `if_setlladdr`, `sys/net/if.c`): with
    // another one than the lagg's, the active port hears nothing for it.
    if let Some(p) = snap.interface(active).filter(|p| p.kind == IfKind::Ether) {
        if p.mac != iface.mac {
            return Verdict::Offline(
                format!(
                    "the active port {active} has MAC {}, not the lagg's {}: it receives \
                     nothing for it",
                    p.mac, iface.mac
                ),
                Vec::new(),
            );
        }
    }
    let mut why = Vec::new();
    if status.proto != crate::domain::model::LaggProto::Failover {
        why.push(format!("laggproto {} (configured: failover)", status.proto));
    }
    let wanted = cfg.ports.iter().find(|p| status.has_port(p));
    if let (Some(wanted), Some(primary)) = (wanted, status.primary()) {
        if wanted != primary {
            why.push(format!("primary {primary}, preferred {wanted}"));
        }
    }
    // A configured port that is not there, or a vap that cannot associate,
    // leaves the lagg without the failover it was set up for (issue 19.5):
    // not converged, even while another port carries the traffic.
    for port in &cfg.ports {
        match snap.interface(port) {
            None => why.push(format!("{port} is absent")),
            Some(_) if !status.has_port(port) => why.push(format!("{port} is not a member")),
            Some(p) => {
                let no_wpa = matches!(snap.wpa.get(port), Some(WpaAddress::NotRunning));
                if p.kind == IfKind::Wlan && p.link == LinkState::Down && no_wpa {
                    why.push(format!("{port} cannot associate: no wpa_supplicant runs for it"));
                }
            }
        }
    }
    if let Some(mac) = identity.filter(|m| *m != iface.mac) {
        why.push(format!("MAC {} (identity: {mac})", iface.mac));
    }
    for port in &status.ports {
        let Some(p) = snap.interface(&port.name) else { continue };
        if p.mac != iface.mac {
            why.push(format!("{} has MAC {}, the lagg {}", p.name, p.mac, iface.mac));
        }
        if p.kind == IfKind::Wlan {
            if let Some(WpaAddress::Known(w)) = snap.wpa.get(&p.name) {
                if *w != p.mac {
                    why.push(format!("wpa_supplicant on {} uses {w}", p.name));
                }
            }
        }
    }
    if snap.failover_rx_all != Some(rx_all) {
        let now = snap.failover_rx_all.map_or("absent".to_owned(), |v| u8::from(v).to_string());
        why.push(format!("net.link.lagg.failover_rx_all={now} (configured: {})", u8::from(rx_all)));
    }
    // Whatever else a reconcile would change (a vap to refresh, a port to
    // bring up): its first command says what.
    if let (true, Some(first)) = (why.is_empty(), pending.actions.first()) {
        why.push(format!("a reconcile would run: {first}"));
    }
    if why.is_empty() {
        Verdict::Converged
    } else {
        Verdict::Degraded(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::Config;
    use crate::domain::model::{IfName, Interface, LaggPort, LaggProto, LaggStatus, PortFlags};
    use crate::domain::plan::{plan, RememberedMacs, Scope};

    const EM: &str = "00:11:22:33:44:55";

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn iface(name: &str, index: u32, kind: IfKind) -> Interface {
        let mac = EM.parse().unwrap();
        Interface {
            name: n(name),
            index,
            kind,
            mac,
            hwaddr: Some(mac),
            up: true,
            link: LinkState::Up,
            mtu: 1500,
            parent: None,
            caps: None,
        }
    }

    fn laptop(primary: &str, active: Option<&str>) -> Snapshot {
        let mut s = Snapshot { failover_rx_all: Some(true), ..Snapshot::default() };
        for i in [
            iface("em0", 1, IfKind::Ether),
            iface("wlan0", 2, IfKind::Wlan),
            iface("lagg0", 3, IfKind::Lagg),
        ] {
            s.interfaces.insert(i.name.clone(), i);
        }
        let ports = ["em0", "wlan0"]
            .iter()
            .map(|p| LaggPort {
                name: n(p),
                flags: PortFlags { master: *p == primary, active: Some(*p) == active },
            })
            .collect();
        s.laggs.insert(n("lagg0"), LaggStatus { proto: LaggProto::Failover, ports });
        s
    }

    fn judge(s: &Snapshot) -> Verdict {
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\n";
        let config = Config::parse(text, "v.toml".as_ref()).unwrap();
        let scope = Scope::Lagg(n("lagg0"));
        let pending = plan(&config, s, &RememberedMacs::new(), &scope);
        let cfg = &config.laggs[0];
        verdict(cfg, s, EM.parse().ok(), config.failover_rx_all(), &pending)
    }

    #[test]
    fn converged_degraded_and_offline_laptops() {
        assert_eq!(judge(&laptop("em0", Some("em0"))), Verdict::Converged);
        // On WiFi because the cable is out: still converged.
        assert_eq!(judge(&laptop("em0", Some("wlan0"))), Verdict::Converged);
        let v = judge(&laptop("wlan0", Some("wlan0")));
        assert_eq!(v.to_string(), "degraded: primary wlan0, preferred em0");
        assert_eq!(v.severity(), 1);
        let mut s = laptop("em0", Some("em0"));
        s.failover_rx_all = Some(false);
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            w.link = LinkState::Down;
        }
        s.wpa.insert(n("wlan0"), WpaAddress::Known("00:24:d7:00:00:01".parse().unwrap()));
        assert_eq!(
            judge(&s).reasons(),
            [
                "wpa_supplicant on wlan0 uses 00:24:d7:00:00:01",
                "net.link.lagg.failover_rx_all=0 (configured: 1)"
            ]
        );
        let v = judge(&laptop("em0", None));
        assert_eq!((v.to_string(), v.severity()), ("offline: no port is active".into(), 2));
        let mut s = laptop("em0", None);
        s.laggs.clear();
        s.interfaces.remove(&n("lagg0"));
        assert_eq!(judge(&s).to_string(), "offline: lagg0 does not exist");
    }

    /// Issue 19.3: SIOCGLAGG calls em0 active, but with its own address
    /// it receives nothing for the lagg; as the backup it is a reason.
    #[test]
    fn a_wired_port_with_another_address_is_offline_when_active() {
        let mut s = laptop("em0", Some("em0"));
        if let Some(e) = s.interfaces.get_mut(&n("em0")) {
            e.mac = "02:00:00:00:00:01".parse().unwrap();
        }
        let v = judge(&s);
        assert_eq!(
            (v.to_string(), v.severity()),
            (
                "offline: the active port em0 has MAC 02:00:00:00:00:01, not the lagg's \
                 00:11:22:33:44:55: it receives nothing for it"
                    .into(),
                2
            )
        );
        let s2 = {
            let mut s2 = s.clone();
            if let Some(ports) = s2.laggs.get_mut(&n("lagg0")) {
                for p in &mut ports.ports {
                    p.flags.active = p.name == n("wlan0");
                }
            }
            s2
        };
        assert_eq!(
            judge(&s2).to_string(),
            "degraded: em0 has MAC 02:00:00:00:00:01, the lagg 00:11:22:33:44:55"
        );
    }

    /// Issue 16, point 6: what keeps lagghook from running again makes a
    /// converged lagg degraded, and is added to the other reasons.
    #[test]
    fn what_keeps_lagghook_from_running_is_a_reason() {
        let hooks = ["/usr/local/etc/devd/lagghook.conf: missing".to_owned()];
        let v = judge(&laptop("em0", Some("em0"))).with(&hooks);
        assert_eq!(v.to_string(), "degraded: /usr/local/etc/devd/lagghook.conf: missing");
        assert_eq!(v.severity(), 1);
        let v = judge(&laptop("wlan0", Some("wlan0"))).with(&hooks);
        assert_eq!(v.reasons(), ["primary wlan0, preferred em0", hooks[0].as_str()]);
        let v = judge(&laptop("em0", None)).with(&hooks);
        assert_eq!(v.severity(), 2);
        assert_eq!(v.reasons(), ["no port is active", hooks[0].as_str()]);
        assert_eq!(judge(&laptop("em0", Some("em0"))).with(&[]), Verdict::Converged);
    }

    #[test]
    fn a_change_a_reconcile_would_make_is_a_reason() {
        let mut s = laptop("em0", Some("em0"));
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            w.up = false;
        }
        assert_eq!(judge(&s).reasons(), ["a reconcile would run: ifconfig wlan0 up"]);
    }

    /// Issue 19.5: a configured port that is absent, or a vap that cannot
    /// associate because no wpa_supplicant runs for it, is not converged,
    /// though the cable carries the traffic; a vap out of reach with its
    /// wpa_supplicant running is.
    #[test]
    fn an_absent_port_or_a_vap_without_wpa_supplicant_is_not_converged() {
        let mut s = laptop("em0", Some("em0"));
        s.interfaces.remove(&n("wlan0"));
        if let Some(l) = s.laggs.get_mut(&n("lagg0")) {
            l.ports.retain(|p| p.name != n("wlan0"));
        }
        assert_eq!(judge(&s).reasons(), ["wlan0 is absent"]);
        let mut s = laptop("em0", Some("em0"));
        if let Some(w) = s.interfaces.get_mut(&n("wlan0")) {
            w.link = LinkState::Down;
        }
        s.wpa.insert(n("wlan0"), WpaAddress::NotRunning);
        assert_eq!(judge(&s).reasons(), ["wlan0 cannot associate: no wpa_supplicant runs for it"]);
        s.wpa.insert(n("wlan0"), WpaAddress::Known(EM.parse().unwrap()));
        assert_eq!(judge(&s), Verdict::Converged);
    }
}
