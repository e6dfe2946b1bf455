//! rc.conf(5) lines for a configuration: what `lagghook rc-conf` prints for
//! `/etc/rc.conf.d/network` (the one file rc.d/netif, /etc/pccard_ether and
//! rc.d/dhclient all load; `load_rc_config` in `libexec/rc/rc.subr`).
//! `rc.conf.d/network` in the source tree is the commented version.

use std::fmt::Write as _;

use crate::domain::config::{Config, LaggConfig};
use crate::domain::model::MacAddr;

/// The rc.conf lines building `config`'s laggs at boot. `identity` gives
/// each lagg's identity MAC where it is known (a literal `mac`, or the
/// hardware address of the port `mac` names, read from the kernel); it goes
/// into `create_args_wlanN="wlanaddr …"` so rc creates every vap with it
/// and lagghook never has to re-clone it.
pub fn rc_conf(config: &Config, identity: &dyn Fn(&LaggConfig) -> Option<MacAddr>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# rc.conf(5) lines for {}, by `lagghook rc-conf`;", config.path.display());
    let _ =
        writeln!(s, "# put them in /etc/rc.conf.d/network (see rc.conf.d/network in lagghook).");
    let names: Vec<&str> = config.laggs.iter().map(|l| l.name.as_str()).collect();
    let _ = writeln!(s, "cloned_interfaces=\"{}\"", names.join(" "));
    for lagg in &config.laggs {
        let mac = identity(lagg);
        for port in &lagg.ports {
            if !lagg.is_wlan_port(port) {
                let _ = writeln!(s, "ifconfig_{port}=\"up\"");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laptop_lines_clone_the_identity_at_vap_creation() {
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n";
        let config = Config::parse(text, "lagghook.toml".as_ref()).unwrap();
        let mac: MacAddr = "00:11:22:33:44:55".parse().unwrap();
        let out = rc_conf(&config, &|_| Some(mac));
        let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "cloned_interfaces=\"lagg0\"",
                "ifconfig_em0=\"up\"",
                "wlans_iwn0=\"wlan0\"",
                "create_args_wlan0=\"wlanaddr 00:11:22:33:44:55\"",
                "ifconfig_wlan0=\"WPA\"",
                "ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"",
            ]
        );
        assert!(out.ends_with("# and in /etc/sysctl.conf: net.link.lagg.failover_rx_all=1\n"));
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
