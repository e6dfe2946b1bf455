//! rc.conf(5) lines for a configuration: what `lagghook rc-conf` prints for
//! `/etc/rc.conf.d/network` (the one file rc.d/netif, /etc/pccard_ether and
//! rc.d/dhclient all load; `load_rc_config` in `libexec/rc/rc.subr`).
//! `rc.conf.d/network` in the source tree is the commented version.

use std::fmt::Write as _;

use crate::domain::config::{Config, LaggConfig};
use crate::domain::identity::{self, Basis, Resolved};

/// The rc.conf lines building `config`'s laggs at boot. `identity` gives
/// each lagg's identity where it is known, the very one a run keeps (a
/// literal `mac`, the one in the identity file, the `mac` port's hardware
/// address, or the lagg's own MAC, provisional); it goes into
/// `create_args_wlanN="wlanaddr …"` so rc creates every vap with it and
/// lagghook never has to re-clone it. A provisional identity is printed
/// too, with a comment: it is the address the lagg keeps until it changes,
/// and the vap must carry it meanwhile.
pub fn rc_conf(config: &Config, identity: &dyn Fn(&LaggConfig) -> Option<Resolved>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# rc.conf(5) lines for {}, by `lagghook rc-conf`;", config.path.display());
    let _ =
        writeln!(s, "# put them in /etc/rc.conf.d/network (see rc.conf.d/network in lagghook).");
    let names: Vec<&str> = config.laggs.iter().map(|l| l.name.as_str()).collect();
    let _ = writeln!(s, "cloned_interfaces=\"{}\"", names.join(" "));
    for lagg in &config.laggs {
        let resolved = identity(lagg);
        let mac = resolved.as_ref().map(|r| r.identity.mac);
        if let Some(caveat) = resolved.as_ref().and_then(|r| caveat(&lagg.name, r)) {
            let _ = writeln!(s, "{caveat}");
        }
        for port in &lagg.ports {
            if !lagg.is_wlan_port(port) {
                // The first port to join gives the lagg its address
                // (`lagg_port_create`), and a wired port boots with its
                // hardware address: it takes the identity first, while
                // still down (no renegotiation), so the lagg starts on it.
                match mac {
                    Some(mac) => {
                        let _ = writeln!(s, "ifconfig_{port}=\"ether {mac} up\"");
                    }
                    None => {
                        let _ = writeln!(s, "ifconfig_{port}=\"up\"");
                    }
                }
                continue;
            }
            match lagg.wlan(port).and_then(|w| w.parent.as_ref()) {
                Some(parent) => {
                    let _ = writeln!(s, "wlans_{parent}=\"{port}\"");
                }
                None => {
                    let _ = writeln!(
                        s,
                        "# wlans_PARENT=\"{port}\": set wlan.{port}.parent in lagghook.toml"
                    );
                }
            }
            match mac {
                Some(mac) => {
                    let _ = writeln!(s, "create_args_{port}=\"wlanaddr {mac}\"");
                }
                None => {
                    let _ = writeln!(
                        s,
                        "# create_args_{port}=\"wlanaddr MAC\": the identity MAC of {} is not known yet",
                        lagg.name
                    );
                }
            }
            let _ = writeln!(s, "ifconfig_{port}=\"WPA\"");
        }
        let ports: Vec<String> = lagg.ports.iter().map(|p| format!("laggport {p}")).collect();
        let _ = writeln!(
            s,
            "ifconfig_{}=\"up laggproto failover {} DHCP\"",
            lagg.name,
            ports.join(" ")
        );
    }
    let rx_all = u8::from(config.failover_rx_all());
    let _ = writeln!(s, "# and in /etc/sysctl.conf: net.link.lagg.failover_rx_all={rx_all}");
    s
}

/// A comment line for an identity that may still change, since then
/// these lines must be printed again.
fn caveat(lagg: &crate::domain::model::IfName, r: &Resolved) -> Option<String> {
    let port = r.port.as_ref()?;
    let mac = r.identity.mac;
    match &r.basis {
        Basis::Provisional => Some(format!(
            "# {lagg}'s identity {mac} is provisional ({lagg}'s own MAC): {port}'s hardware \
             address replaces it when {lagg} is next empty; run lagghook rc-conf again then"
        )),
        Basis::Superseded { was } => Some(format!(
            "# {lagg}'s identity {mac} was chosen for {}: {port}'s hardware address replaces it \
             when {port} is seen; run lagghook rc-conf again then",
            identity::setting(was)
        )),
        Basis::Literal | Basis::Stored | Basis::PortHwaddr => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::MacSource;
    use crate::domain::identity::Identity;
    use crate::domain::model::{IfName, MacAddr};

    fn resolved(mac: MacAddr, basis: Basis) -> Resolved {
        let port = IfName::new("em0").unwrap();
        let provisional = basis == Basis::Provisional;
        let identity = Identity { mac, source: MacSource::Port(port.clone()), provisional };
        Resolved { identity, basis, port: Some(port), port_hwaddr: None }
    }

    #[test]
    fn laptop_lines_clone_the_identity_at_vap_creation() {
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n";
        let config = Config::parse(text, "lagghook.toml".as_ref()).unwrap();
        let mac: MacAddr = "00:11:22:33:44:55".parse().unwrap();
        let out = rc_conf(&config, &|_| Some(resolved(mac, Basis::Stored)));
        let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "cloned_interfaces=\"lagg0\"",
                "ifconfig_em0=\"ether 00:11:22:33:44:55 up\"",
                "wlans_iwn0=\"wlan0\"",
                "create_args_wlan0=\"wlanaddr 00:11:22:33:44:55\"",
                "ifconfig_wlan0=\"WPA\"",
                "ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"",
            ]
        );
        assert!(out.ends_with("# and in /etc/sysctl.conf: net.link.lagg.failover_rx_all=1\n"));
        assert!(!out.contains("provisional"), "{out}");
    }

    /// Proves a provisional identity is printed (the vap must carry the
    /// address the lagg keeps) and flagged, so the administrator knows the
    /// lines must be printed again once it changes.
    #[test]
    fn a_provisional_identity_is_printed_with_a_comment() {
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n";
        let config = Config::parse(text, "lagghook.toml".as_ref()).unwrap();
        let mac: MacAddr = "00:24:d7:00:00:01".parse().unwrap();
        let out = rc_conf(&config, &|_| Some(resolved(mac, Basis::Provisional)));
        assert!(out.contains("\ncreate_args_wlan0=\"wlanaddr 00:24:d7:00:00:01\"\n"), "{out}");
        assert!(
            out.contains(
                "# lagg0's identity 00:24:d7:00:00:01 is provisional (lagg0's own MAC): em0's \
                 hardware address replaces it when lagg0 is next empty; run lagghook rc-conf \
                 again then\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn unknown_parent_and_mac_become_comments_not_guesses() {
        let config =
            Config::parse("[lagg0]\nports = [\"ue0\", \"wlan0\"]\n", "x.toml".as_ref()).unwrap();
        let out = rc_conf(&config, &|_| None);
        assert!(out.contains("# wlans_PARENT=\"wlan0\": set wlan.wlan0.parent in lagghook.toml\n"));
        assert!(out.contains(
            "# create_args_wlan0=\"wlanaddr MAC\": the identity MAC of lagg0 is not known yet\n"
        ));
        assert!(!out.lines().any(|l| l.starts_with("create_args")));
    }
}
