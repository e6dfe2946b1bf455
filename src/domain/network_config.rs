//! The `network.*` keys of a `[laggN]` table (issue 20): whether lagghook
//! checks which network the lagg is on after a possible move, and how it
//! re-addresses. Parsed with the rest of lagghook.toml by `config`, which
//! reports a bad value at its `file:line:col`; this module owns the keys,
//! their defaults and their bounds.
//!
//! ```toml
//! [lagg0]
//! network.check = true           # on by default
//! network.dhcp = "dhclient"      # "dhclient" (base), "dhcpcd" (ports) or "none"
//! network.ipv6 = "rtsol"         # "rtsol" or "off"
//! network.undecided = "dhcp"     # "dhcp" or "keep"
//! network.probe_budget_ms = 300  # 50 to 1000
//! network.probe_known = true     # also probe other known networks' gateways
//! ```

use serde::Deserialize;
use toml::Spanned;

use crate::domain::layer3::DhcpClient;

/// The shortest probe budget: three unicast tries and two broadcasts
/// need room for a round trip each (a LAN answers ARP in well under 5 ms,
/// a WiFi station's first frame after the handshake can take 10–20 ms).
pub const MIN_PROBE_BUDGET_MS: u32 = 50;
/// The longest: the issue asks for "well under a second", and devd never
/// waits for it anyway (the helper does).
pub const MAX_PROBE_BUDGET_MS: u32 = 1000;
/// The default: macOS's IPConfiguration gives its ARP probes about 120
/// ms (freebsd-net.md 12, unverified); 300 leaves room for a slow WiFi
/// first frame and the broadcast that follows the unicast tries.
pub const DEFAULT_PROBE_BUDGET_MS: u32 = 300;

/// What an undecided move does (no reply, no SSID hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Undecided {
    /// Restart the DHCP client with the old network's lease file: its
    /// INIT-REBOOT asks for the old lease, an ACK keeps the address, a NAK
    /// sends it to DISCOVER. Nothing is removed.
    #[default]
    Dhcp,
    /// Leave everything as it is.
    Keep,
}

/// Which IPv6 re-addressing a proved move gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ipv6Mode {
    /// Remove the old prefixes' addresses and routers, then `rtsol`.
    #[default]
    Rtsol,
    /// Never touch IPv6.
    Off,
}

/// The network check's settings for one lagg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    /// `network.check`.
    pub check: bool,
    /// `network.dhcp`; `None`: `"none"`, a static IPv4 address.
    pub dhcp: Option<DhcpClient>,
    pub ipv6: Ipv6Mode,
    pub undecided: Undecided,
    pub probe_budget_ms: u32,
    pub probe_known: bool,
}

impl Default for NetworkConfig {
    fn default() -> NetworkConfig {
        NetworkConfig {
            check: true,
            dhcp: Some(DhcpClient::Dhclient),
            ipv6: Ipv6Mode::Rtsol,
            undecided: Undecided::Dhcp,
            probe_budget_ms: DEFAULT_PROBE_BUDGET_MS,
            probe_known: true,
        }
    }
}

impl NetworkConfig {
    /// Whether the lagg gets network checks at all: the check is on, and
    /// the lagg's addresses are not all static (`dhcp = "none"` with
    /// `ipv6 = "off"`).
    pub fn checks(&self) -> bool {
        self.check && (self.dhcp.is_some() || self.ipv6 == Ipv6Mode::Rtsol)
    }
}

/// `network` as serde sees it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table like network.check = true")]
pub(crate) struct RawNetwork {
    check: Option<Spanned<bool>>,
    dhcp: Option<Spanned<String>>,
    ipv6: Option<Spanned<String>>,
    undecided: Option<Spanned<String>>,
    probe_budget_ms: Option<Spanned<i64>>,
    probe_known: Option<Spanned<bool>>,
}

/// A bad value: the key, the value as written, what it may be, and where
/// (a byte offset into the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValue {
    pub key: &'static str,
    pub value: String,
    pub expected: &'static str,
    pub at: usize,
}

impl RawNetwork {
    /// The settings, or the first bad value in key order.
    pub(crate) fn validate(self) -> Result<NetworkConfig, BadValue> {
        let mut c = NetworkConfig::default();
        if let Some(v) = self.check {
            c.check = *v.get_ref();
        }
        if let Some(v) = self.dhcp {
            c.dhcp = match v.get_ref().as_str() {
                "dhclient" => Some(DhcpClient::Dhclient),
                "dhcpcd" => Some(DhcpClient::Dhcpcd),
                "none" => None,
                _ => return Err(bad("dhcp", &v, "\"dhclient\", \"dhcpcd\" or \"none\"")),
            };
        }
        if let Some(v) = self.ipv6 {
            c.ipv6 = match v.get_ref().as_str() {
                "rtsol" => Ipv6Mode::Rtsol,
                "off" => Ipv6Mode::Off,
                _ => return Err(bad("ipv6", &v, "\"rtsol\" or \"off\"")),
            };
        }
        if let Some(v) = self.undecided {
            c.undecided = match v.get_ref().as_str() {
                "dhcp" => Undecided::Dhcp,
                "keep" => Undecided::Keep,
                _ => return Err(bad("undecided", &v, "\"dhcp\" or \"keep\"")),
            };
        }
        if let Some(v) = self.probe_budget_ms {
            let ms = *v.get_ref();
            let range = i64::from(MIN_PROBE_BUDGET_MS)..=i64::from(MAX_PROBE_BUDGET_MS);
            if !range.contains(&ms) {
                return Err(BadValue {
                    key: "probe_budget_ms",
                    value: ms.to_string(),
                    expected: "a number of milliseconds from 50 to 1000",
                    at: v.span().start,
                });
            }
            c.probe_budget_ms = ms as u32;
        }
        if let Some(v) = self.probe_known {
            c.probe_known = *v.get_ref();
        }
        Ok(c)
    }
}

fn bad(key: &'static str, v: &Spanned<String>, expected: &'static str) -> BadValue {
    BadValue { key, value: v.get_ref().clone(), expected, at: v.span().start }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::Config;

    fn parse(extra: &str) -> Result<Config, String> {
        let text = format!("[lagg0]\nports = [\"em0\", \"wlan0\"]\n{extra}");
        Config::parse(&text, "lagghook.toml".as_ref()).map_err(|e| e.to_string())
    }

    #[test]
    fn the_check_is_on_by_default_with_dhclient_and_rtsol() {
        let c = parse("").unwrap();
        assert_eq!(c.laggs[0].network, NetworkConfig::default());
        assert!(c.laggs[0].network.checks());
        assert_eq!(c.laggs[0].network.dhcp, Some(DhcpClient::Dhclient));
    }

    #[test]
    fn every_key_takes_its_values() {
        let c = parse(
            "network.check = false\nnetwork.dhcp = \"dhcpcd\"\nnetwork.ipv6 = \"off\"\n\
             network.undecided = \"keep\"\nnetwork.probe_budget_ms = 120\n\
             network.probe_known = false\n",
        )
        .unwrap();
        let n = &c.laggs[0].network;
        assert_eq!(
            *n,
            NetworkConfig {
                check: false,
                dhcp: Some(DhcpClient::Dhcpcd),
                ipv6: Ipv6Mode::Off,
                undecided: Undecided::Keep,
                probe_budget_ms: 120,
                probe_known: false,
            }
        );
        assert!(!n.checks());
    }

    /// A lagg with neither DHCP nor IPv6 autoconfiguration is static: no
    /// check, whatever `check` says.
    #[test]
    fn a_static_lagg_gets_no_check() {
        let c = parse("network.dhcp = \"none\"\nnetwork.ipv6 = \"off\"\n").unwrap();
        assert!(!c.laggs[0].network.checks());
        let c = parse("network.dhcp = \"none\"\n").unwrap();
        assert!(c.laggs[0].network.checks(), "IPv6 still gets re-solicited");
    }

    /// Proves a bad value is today's `file:line:col` error naming the key,
    /// the value and what it may be.
    #[test]
    fn bad_values_and_keys_name_their_place() {
        for (extra, want) in [
            (
                "network.dhcp = \"udhcpc\"\n",
                "lagghook.toml:3:16: lagg0: network.dhcp = \"udhcpc\" is not \"dhclient\", \
                 \"dhcpcd\" or \"none\"",
            ),
            (
                "network.probe_budget_ms = 5000\n",
                "lagghook.toml:3:27: lagg0: network.probe_budget_ms = \"5000\" is not a number \
                 of milliseconds from 50 to 1000",
            ),
            ("network.ipv6 = \"slaac\"\n", "lagghook.toml:3:16: lagg0: network.ipv6 = \"slaac\""),
            ("network.undecided = 1\n", "lagghook.toml:3:21: invalid type: integer `1`"),
            ("network.probe = true\n", "lagghook.toml:3:9: unknown field `probe`"),
        ] {
            let err = parse(extra).unwrap_err();
            assert!(err.starts_with(want), "{extra}: {err}");
        }
    }
}
