//! rc.conf(5)'s layer-3 variables as rc and `rc.d/dhclient` read them:
//! `background_dhclient` (and `background_dhclient_IF`), which makes
//! `rc.d/dhclient` run `dhclient -b`; `synchronous_dhclient`; and
//! `ifconfig_IF_ipv6`, whose `inet6 accept_rtadv` makes `netif start` set
//! `ND6_IFF_ACCEPT_RTADV` and send one `rtsol` (`ipv6_accept_rtadv_up` in
//! `libexec/rc/network.subr`, `freebsd/freebsd-src` at
//! 03ccfdd2ecf36648affb5bb7868bc1dd2f8b195d; `rtsold_enable` is not
//! modelled). A DHCP interface gets no dhclient from rc at boot unless it
//! is synchronous (`syncdhcpif`): devd's stock `LINK_UP` rule starts it.
//! rc's own synchronous start does not hold the simulated rc up (rc
//! takes no simulated time).

use std::collections::BTreeMap;

use crate::domain::model::IfName;

use super::dhcp::DhclientArgs;
use super::SimKernel;

/// The layer-3 part of the rc.conf lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcNet {
    background: bool,
    background_if: BTreeMap<IfName, bool>,
    synchronous: bool,
    /// `ifconfig_IF_ipv6`: whether it accepts router advertisements.
    accept_rtadv: BTreeMap<IfName, bool>,
}

/// rc.subr's `checkyesno`.
fn yes_no(var: &str, value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("{var}: {value:?} is not YES or NO")),
    }
}

impl RcNet {
    /// Reads `name=value` if it is one of this part's variables.
    pub fn var(&mut self, name: &str, value: &str) -> Option<Result<(), String>> {
        if name == "background_dhclient" {
            return Some(yes_no(name, value).map(|b| self.background = b));
        }
        if name == "synchronous_dhclient" {
            return Some(yes_no(name, value).map(|b| self.synchronous = b));
        }
        if let Some(ifn) = name.strip_prefix("background_dhclient_") {
            return Some(IfName::new(ifn).map_err(|e| format!("{name}: {e}")).and_then(|i| {
                yes_no(name, value).map(|b| {
                    self.background_if.insert(i, b);
                })
            }));
        }
        let ifn = name.strip_prefix("ifconfig_")?.strip_suffix("_ipv6")?;
        Some(IfName::new(ifn).map_err(|e| format!("{name}: {e}")).and_then(|i| {
            let mut accept = false;
            for w in value.split_whitespace() {
                match w {
                    "inet6" | "auto_linklocal" | "-ifdisabled" => {}
                    "accept_rtadv" => accept = true,
                    "-accept_rtadv" => accept = false,
                    _ => {
                        return Err(format!(
                            "{name}: unknown word {w:?} (the simulator knows inet6, \
                             accept_rtadv, -accept_rtadv, auto_linklocal, -ifdisabled)"
                        ))
                    }
                }
            }
            self.accept_rtadv.insert(i, accept);
            Ok(())
        }))
    }

    /// `ifconfig_IF_ipv6` as rc's reader parsed it (`sim::rc::conf`):
    /// whether it has `accept_rtadv`.
    pub fn set_accept_rtadv(&mut self, ifn: IfName, accept: bool) {
        self.accept_rtadv.insert(ifn, accept);
    }

    /// `background_dhclient_IF`, else `background_dhclient`.
    pub fn background(&self, ifn: &IfName) -> bool {
        self.background_if.get(ifn).copied().unwrap_or(self.background)
    }
}

impl SimKernel {
    /// `ifn_start`'s layer-3 part for `ifn`, after `ifconfig_up`: a
    /// synchronous DHCP interface gets `rc.d/dhclient start`; an
    /// `accept_rtadv` one its flag and one `rtsol`.
    pub(in crate::sim) fn rc_net_ifn_start(&mut self, ifn: &IfName, dhcp: bool, sync: bool) {
        if !self.net.enabled() || !self.ifnets.contains_key(ifn) {
            return;
        }
        let rc = &self.rc_conf.net;
        if dhcp && (sync || rc.synchronous) {
            let args = DhclientArgs { background: rc.background(ifn), lease_file: None };
            let _ = self.dhclient_start(ifn, &args);
        }
        if self.rc_conf.net.accept_rtadv.get(ifn) == Some(&true) {
            self.set_accept_rtadv(ifn, true);
            self.rtsol_start(ifn);
        }
    }
}
