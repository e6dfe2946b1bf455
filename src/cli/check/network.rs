//! `check`'s traps and advice for the network check (issue 20, point 8):
//! what defeats it — a DHCP client running on a lagg *port*, the
//! configured client missing, a static lagg with the check on — and the
//! advice that makes it work well: `background_dhclient`, without which
//! the stock devd rule runs dhclient on the lagg in the foreground and
//! devd waits for it.

use crate::cli::check::Report;
use crate::domain::config::{Config, LaggConfig};
use crate::domain::layer3::DhcpClient;
use crate::domain::model::Snapshot;
use crate::domain::rc_vars::{words, RcVars};
use crate::kernel::Kernel;
use crate::root::Root;

/// Traps the kernel shows: a DHCP client running on a port (its pidfile
/// names a live process). A read per existing port.
pub(super) fn kernel_traps(
    config: &Config,
    kernel: &mut dyn Kernel,
    snap: &Snapshot,
    report: &mut Report,
) {
    for (lagg, port) in config.ports() {
        if snap.interface(port).is_none() || !lagg.network.checks() {
            continue;
        }
        if let Ok(Some(p)) = kernel.dhcp_client(port) {
            report.trap(
                format!(
                    "{} runs on {port} (pid {}), a port of {}: it leases the port an address \
                     of its own network and defeats the network check of {}",
                    p.client, p.pid, lagg.name, lagg.name
                ),
                format!(
                    "service dhclient stop {port}, and keep DHCP in ifconfig_{} only",
                    lagg.name
                ),
            );
        }
    }
}

/// rc's `dhcpif` for the lagg itself (`ifconfig_IF` or, without one,
/// `ifconfig_DEFAULT`, `libexec/rc/network.subr`).
fn lagg_is_dhcp(lagg: &LaggConfig, netif: &RcVars) -> Option<bool> {
    let own = format!("ifconfig_{}", lagg.name);
    let value = netif.get(&own).or_else(|| netif.get("ifconfig_DEFAULT"))?;
    Some(words(value).any(is_dhcp))
}

/// rc's DHCP words (`dhcpif`).
fn is_dhcp(w: &str) -> bool {
    ["dhcp", "syncdhcp", "nosyncdhcp"].iter().any(|d| w.eq_ignore_ascii_case(d))
}

/// Whether one of the lagg's ports has DHCP in its own `ifconfig_IF`: the
/// DHCP client then belongs on the lagg, which the port's trap says (and
/// its fix moves it there), so the lagg's static address is that trap's,
/// not a second one.
fn a_port_is_dhcp(lagg: &LaggConfig, netif: &RcVars) -> bool {
    lagg.ports
        .iter()
        .any(|p| netif.get(&format!("ifconfig_{p}")).is_some_and(|v| words(v).any(is_dhcp)))
}

/// Traps and advice from the system's files (rc.conf and friends, the
/// programs, dhclient's hooks).
pub(super) fn file_traps(config: &Config, root: &dyn Root, netif: &RcVars, report: &mut Report) {
    for lagg in config.laggs.iter().filter(|l| l.network.checks()) {
        let name = &lagg.name;
        if let Some(client) = lagg.network.dhcp {
            let program = client.program();
            let (dir, file) = program.rsplit_once('/').unwrap_or(("/", program));
            if let Ok(Some(list)) = root.list(dir) {
                if !list.iter().any(|f| f == file) {
                    report.trap(
                        format!(
                            "{program} is missing: network.dhcp = \"{client}\" for {name}, so a \
                             move to another network leaves it without an address"
                        ),
                        match client {
                            DhcpClient::Dhcpcd => {
                                "pkg install dhcpcd, or network.dhcp = \"dhclient\"".to_owned()
                            }
                            DhcpClient::Dhclient => {
                                format!("network.dhcp = \"none\" in [{name}], or reinstall base")
                            }
                        },
                    );
                }
            }
            if lagg_is_dhcp(lagg, netif) == Some(false) && !a_port_is_dhcp(lagg, netif) {
                report.trap(
                    format!(
                        "ifconfig_{name} has no DHCP: {name}'s IPv4 address is static, yet \
                         network.dhcp = \"{client}\", so a move would start {client} on it"
                    ),
                    format!("network.dhcp = \"none\" in [{name}] of lagghook.toml, or DHCP in ifconfig_{name}"),
                );
            }
            if client == DhcpClient::Dhclient && lagg_is_dhcp(lagg, netif) == Some(true) {
                dhclient_advice(lagg, netif, report);
            }
        }
    }
}

/// The stock `/etc/devd/dhclient.conf` runs `service dhclient quietstart
/// $subsystem` on every Ethernet LINK_UP, the lagg's included, and
/// rc.d/dhclient runs dhclient in the foreground unless
/// `background_dhclient` (or `background_dhclient_IF`) is YES: devd, which
/// waits for its actions, then handles no other event until dhclient is
/// bound, up to its 10 s INIT-REBOOT and more.
fn dhclient_advice(lagg: &LaggConfig, netif: &RcVars, report: &mut Report) {
    let name = &lagg.name;
    let yes = |v: Option<&str>| {
        v.is_some_and(|v| ["yes", "true", "on", "1"].iter().any(|y| v.eq_ignore_ascii_case(y)))
    };
    let own = format!("background_dhclient_{name}");
    let background = match netif.get(&own) {
        Some(v) => yes(Some(v)),
        None => yes(netif.get("background_dhclient")),
    };
    if !background {
        report.warn(
            format!(
                "background_dhclient is not YES: when {name} regains a link, the stock devd rule \
                 starts dhclient on it in the foreground and devd handles no other event \
                 (lagghook's included) until it has a lease"
            ),
            "sysrc background_dhclient=YES",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::observe;
    use crate::sim::{Machine, SimKernel, SimRoot};
    use std::collections::BTreeMap;

    fn config(extra: &str) -> Config {
        let text = format!("[lagg0]\nports = [\"em0\", \"wlan0\"]\n{extra}");
        Config::parse(&text, "lagghook.toml".as_ref()).unwrap()
    }

    fn vars(text: &str) -> RcVars {
        let mut v = RcVars::new();
        v.source("/etc/rc.conf", text);
        v
    }

    fn lines(report: &Report) -> Vec<String> {
        report.findings.iter().map(|f| f.to_string()).collect()
    }

    /// Proves a DHCP client running on a lagg port is a trap, found by its
    /// pidfile, and is not one with the check off.
    #[test]
    fn a_dhcp_client_on_a_port_is_a_trap() {
        let machine =
            "[machine]\n[[machine.network]]\nname = \"office\"\nsubnet = \"10.1.0.0/24\"\n\
                       gateway = \"10.1.0.1\"\ngateway_mac = \"00:0d:b9:00:00:01\"\n\
                       dhcp = { pool = \"10.1.0.100-10.1.0.199\" }\n[[machine.interface]]\n\
                       name = \"em0\"\nkind = \"ether\"\nmac = \"00:11:22:33:44:55\"\nlink = true\n\
                       network = \"office\"\ndhcp = true\n";
        let mut k = SimKernel::from_machine(&Machine::parse(machine).unwrap()).unwrap();
        let cfg = config("");
        let snap = observe(&mut k, &cfg).unwrap();
        let mut report = Report::default();
        kernel_traps(&cfg, &mut k, &snap, &mut report);
        let found = lines(&report);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("TRAP: dhclient runs on em0 (pid "), "{found:?}");
        let mut report = Report::default();
        kernel_traps(&config("network.check = false\n"), &mut k, &snap, &mut report);
        assert!(report.findings.is_empty());
    }

    /// Proves the configured client missing and a static lagg with the
    /// check on are traps, and that background_dhclient is advised.
    #[test]
    fn a_missing_client_a_static_lagg_and_a_foreground_dhclient_are_found() {
        let files = BTreeMap::from([("/usr/local/sbin/pkg".to_owned(), String::new())]);
        let root = SimRoot::new(files);
        let mut report = Report::default();
        let dhcp = "ifconfig_lagg0=\"up laggproto failover laggport em0 DHCP\"\n";
        file_traps(&config("network.dhcp = \"dhcpcd\"\n"), &root, &vars(dhcp), &mut report);
        let found = lines(&report);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("TRAP: /usr/local/sbin/dhcpcd is missing"), "{found:?}");

        let mut report = Report::default();
        let fixed = "ifconfig_lagg0=\"up laggproto failover laggport em0 inet 10.0.0.2/24\"\n";
        file_traps(&config(""), &root, &vars(fixed), &mut report);
        let found = lines(&report);
        assert!(found[0].starts_with("TRAP: ifconfig_lagg0 has no DHCP"), "{found:?}");
        let mut report = Report::default();
        let cfg = config("network.dhcp = \"none\"\n");
        file_traps(&cfg, &root, &vars(fixed), &mut report);
        assert!(report.findings.is_empty(), "{:?}", lines(&report));

        let mut report = Report::default();
        file_traps(&config(""), &root, &vars(dhcp), &mut report);
        let found = lines(&report);
        assert!(found[0].starts_with("WARN: background_dhclient is not YES"), "{found:?}");
        assert!(found[0].ends_with("advice: sysrc background_dhclient=YES"), "{found:?}");
        for yes in ["background_dhclient=\"YES\"\n", "background_dhclient_lagg0=\"yes\"\n"] {
            let mut report = Report::default();
            file_traps(&config(""), &root, &vars(&format!("{dhcp}{yes}")), &mut report);
            assert!(report.findings.is_empty(), "{yes}: {:?}", lines(&report));
        }
    }
}
