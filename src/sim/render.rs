//! An ifconfig-like text of the whole simulated machine, for failing-test
//! messages and `lagghook simulate`: per interface the lines ifconfig(8)
//! prints (flags, ether, media, laggproto and laggport lines as
//! `sbin/ifconfig/iflagg.c` prints them, status, laggdev), plus the state
//! ifconfig cannot show (hwaddr, iv_myaddr, wpa_supplicant's address, the
//! sysctl, pending devd events). Reading only; no rule lives here.

use std::fmt;

use crate::domain::model::{IfKind, IfName};

use super::SimKernel;

impl SimKernel {
    /// ifconfig-like text of the whole machine, for failing-test messages.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for ifn in self.by_index() {
            let iface = self.report(ifn);
            out.push_str(&format!(
                "{}: flags=<{}> index {} mtu {}\n",
                ifn.name,
                if ifn.up { "UP" } else { "" },
                ifn.index,
                ifn.mtu
            ));
            out.push_str(&format!("\tether {}", ifn.lladdr));
            if let Some(hw) = ifn.hwaddr {
                out.push_str(&format!(" hwaddr {hw}"));
            }
            out.push('\n');
            match ifn.kind {
                IfKind::Ether | IfKind::Vlan | IfKind::Other => {
                    let m = if ifn.medium { "cable in" } else { "cable out" };
                    out.push_str(&format!("\tmedia: Ethernet ({m})\n"));
                }
                IfKind::Wlan => {
                    if let Some(v) = &ifn.vap {
                        let wpa = v.wpa.map_or("not running".to_owned(), |m| m.to_string());
                        out.push_str(&format!(
                            "\tparent {} air {} wpa_supplicant {}\n",
                            v.parent, v.air, wpa
                        ));
                    }
                    let m = if ifn.medium { "AP in reach" } else { "no AP" };
                    out.push_str(&format!("\tmedia: IEEE 802.11 ({m})\n"));
                }
                IfKind::Lagg => {
                    if let Some(st) = self.status(ifn) {
                        out.push_str(&format!("\tlaggproto {}\n", st.proto));
                        for p in &st.ports {
                            let mut names = Vec::new();
                            if p.flags.master {
                                names.push("MASTER");
                            }
                            if p.flags.active {
                                names.push("ACTIVE");
                            }
                            out.push_str(&format!(
                                "\tlaggport: {} flags={:x}<{}>\n",
                                p.name,
                                p.flags.to_raw(),
                                names.join(",")
                            ));
                        }
                    }
                }
            }
            out.push_str(&format!("\tstatus: {}\n", iface.link));
            if let Some(l) = self.lagg_of(&ifn.name) {
                out.push_str(&format!("\tlaggdev {l}\n"));
            }
        }
        match self.failover_rx_all {
            Some(v) => out.push_str(&format!("net.link.lagg.failover_rx_all: {}\n", u8::from(v))),
            None => out.push_str("if_lagg not loaded\n"),
        }
        if !self.radios.is_empty() {
            let names: Vec<&str> = self.radios.iter().map(IfName::as_str).collect();
            out.push_str(&format!("net.wlan.devices: {}\n", names.join(" ")));
        }
        for e in &self.events {
            out.push_str(&format!("pending: {e}\n"));
        }
        out
    }
}

impl fmt::Display for SimKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::fixture::laptop;

    #[test]
    fn render_mentions_every_interface_and_flags() {
        let mut k = laptop();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        let text = k.to_string();
        assert!(text.contains("laggport: em0 flags=1<MASTER>"), "{text}");
        assert!(text.contains("laggport: wlan0 flags=4<ACTIVE>"), "{text}");
        assert!(text.contains("wlan0: flags=<UP> index 2"), "{text}");
        assert!(text.contains("pending: !system=IFNET subsystem=em0 type=LINK_DOWN"), "{text}");
    }
}
