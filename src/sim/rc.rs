//! rc(8)'s network start as the simulator plays it: the rc.conf(5) lines a
//! scenario gives ([`RcConf`]), and what `rc.d/netif start` (at boot) and
//! `/etc/pccard_ether RADIO startchildren` (a radio attaching) do with
//! them. Not owned here: the kernel rules rc's ifconfig requests reach
//! ([`super::ifnet`], [`super::if_lagg`], [`super::net80211`]), and what
//! the machine does before rc runs (the reboot itself, [`super::world`]).
//!
//! Read in `freebsd/freebsd-src`: `libexec/rc/network.subr` at
//! 03ccfdd2ecf36648affb5bb7868bc1dd2f8b195d (`wlan_up`, `clone_up`,
//! `ifn_start`, `ifconfig_up`, `ifconfig_getargs`, `list_net_interfaces`),
//! `libexec/rc/rc.d/netif` and `libexec/rc/rc.resume` at
//! 023fc80ee38a117fa65b2ccb2abf8bdc7dbd6fd9 (`netif_start`, `netif_common`),
//! `libexec/rc/pccard_ether` at 1b1334b175e9e986d21ce410ad6d8f1ad7299082
//! (`pccard_ether_startchildren`).
//!
//! What rc does, in order:
//! - `netif_start`: `wlan_up` (for each `wlans_RADIO`, in the order of the
//!   variable names, which `set` sorts, each child that does not exist:
//!   `ifconfig CHILD create wlandev RADIO create_args_CHILD`), then
//!   `clone_up` (each `cloned_interfaces` entry that does not exist:
//!   `ifconfig IF create create_args_IF`), then `ifn_start` for every
//!   interface `ifconfig -l` lists (`network_interfaces=AUTO`): attach
//!   order, modelled as if_index order.
//! - `ifn_start` → `ifconfig_up`: `ifconfig IF ARGS` with the words DHCP,
//!   SYNCDHCP, NOSYNCDHCP and WPA removed (`ifconfig_getargs`); then a WPA
//!   interface gets `/etc/rc.d/wpa_supplicant start IF` and no `ifconfig
//!   IF up`; another gets `ifconfig IF up` if it had arguments; a DHCP
//!   interface with no arguments gets `ifconfig IF up`. dhclient and
//!   addresses are not modelled.
//! - `pccard_ether RADIO startchildren`: for each child of `wlans_RADIO`
//!   that does not exist, `netif quietstart CHILD`: `wlan_up CHILD`, then
//!   `ifn_start CHILD`.
//! - wpa_supplicant brings each vap it runs for up itself, when it first
//!   scans; rc does not wait for it, so that happens after rc's whole
//!   `ifn_start` sequence (and after a radio's children are configured):
//!   a `laggport` joining the vap before that finds it DOWN
//!   ([`SimKernel::wpa_supplicant_scan`]).
//!
//! Each word of an ifconfig command is one request, in order. A failed
//! `laggport` only warns (`setlaggport` in `sbin/ifconfig/iflagg.c`, which
//! also ignores EEXIST; see `freebsd-net.md` §2), so the rest of the line
//! runs; a failed `up`, `laggproto` or `mtu` ends the command, as
//! ifconfig's `err(1)` does (recalled from `sbin/ifconfig`, not re-read).
//! A failed request is written to rc's console ([`SimKernel::take_console`]),
//! and rc goes on with the next command. rc's requests are not lagghook's:
//! they are not in the call record ([`SimKernel::calls`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::domain::model::{IfKind, IfName, LaggProto, MacAddr};
use crate::domain::rc_vars::{one_line_value, OneLine};
use crate::domain::text;
use crate::kernel::Errno;

use super::if_lagg::cloner_matches;
use super::net80211::VapTemplate;
use super::SimKernel;

/// The rc.conf(5) lines the simulator's rc reads. Built by
/// [`RcConf::parse`]; the default is an empty rc.conf (rc configures no
/// network interface).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcConf {
    /// `cloned_interfaces`, in order.
    cloned: Vec<IfName>,
    /// `wlans_RADIO`: the children of each radio, radios in name order.
    wlans: BTreeMap<IfName, Vec<IfName>>,
    /// `create_args_CHILD` of a vap: its `wlanaddr`, if any.
    wlanaddr: BTreeMap<IfName, MacAddr>,
    /// `create_args_IF` of a cloned interface: ifconfig words applied to
    /// it as it is created (`ifconfig lagg0 create laggproto failover`).
    clone_args: BTreeMap<IfName, Vec<Word>>,
    /// `ifconfig_IF`.
    ifconfig: BTreeMap<IfName, Ifconfig>,
    /// The layer-3 variables ([`super::net`]): `background_dhclient`,
    /// `synchronous_dhclient`, `ifconfig_IF_ipv6`.
    pub(super) net: super::net::RcNet,
}

/// One `ifconfig_IF` value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ifconfig {
    /// What `ifconfig_getargs` leaves: the ifconfig words.
    words: Vec<Word>,
    /// `WPA`: rc starts wpa_supplicant instead of `ifconfig IF up`.
    wpa: bool,
    /// `DHCP`, `SYNCDHCP` or `NOSYNCDHCP`.
    dhcp: bool,
    /// `SYNCDHCP` (`syncdhcpif`).
    sync_dhcp: bool,
}

/// An ifconfig word the simulator knows, with its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    Up,
    LaggProto(LaggProto),
    LaggPort(IfName),
    /// `ether MAC` or `lladdr MAC`: SIOCSIFLLADDR.
    Lladdr(MacAddr),
    Mtu(u32),
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Word::Up => f.write_str("up"),
            Word::LaggProto(p) => write!(f, "laggproto {p}"),
            Word::LaggPort(p) => write!(f, "laggport {p}"),
            Word::Lladdr(m) => write!(f, "ether {m}"),
            Word::Mtu(n) => write!(f, "mtu {n}"),
        }
    }
}

/// Why a scenario's rc.conf lines were refused: the line (1-based, in the
/// `rc_conf` text) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcConfError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RcConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for RcConfError {}

/// The words an `ifconfig_IF` value may hold.
const IFCONFIG_WORDS: &str = "up, DHCP, SYNCDHCP, NOSYNCDHCP, WPA, laggproto PROTO, \
                              laggport IF, ether MAC, lladdr MAC, mtu N";
/// The words a vap's `create_args` may hold; all but `wlanaddr` are
/// accepted and ignored (they do not change what lagghook sees).
const WLAN_CREATE_WORDS: &str = "wlanaddr MAC, country CC, regdomain RD, wlanmode sta, bssid";

/// A shell variable name: a letter or `_`, then letters, digits, `_`.
fn is_shell_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The value of `NAME=VALUE` as sh(1) would assign it, for the quoting
/// rc.conf uses: `"…"`, `'…'` or one bare word, then nothing or a
/// `#` comment. Expansions (`$`, backquotes) and backslashes are refused
/// rather than half-done.
fn shell_value(rest: &str) -> Result<String, String> {
    let OneLine { value, quoted, after } = one_line_value(rest)?;
    if !quoted && value.contains(['"', '\'']) {
        return Err("a quote inside a bare word".into());
    }
    if !after.is_empty() && !after.starts_with('#') {
        return Err(format!("{} after the value", text::echo(after)));
    }
    if value.contains(['$', '`', '\\']) {
        return Err("shell expansions and escapes ($, `, \\) are not supported".into());
    }
    Ok(value.to_owned())
}

/// An interface name in a variable or a value.
fn ifname(what: &str, s: &str) -> Result<IfName, String> {
    IfName::new(s).map_err(|e| format!("{what}: {}: {e}", text::echo(s)))
}

/// The ifconfig words of `var` (`ifconfig_IF`, or a cloned interface's
/// `create_args_IF` when `pseudo` is false: those go to `ifconfig IF
/// create` as they are, without rc's DHCP/WPA handling).
fn ifconfig_words(var: &str, value: &str, pseudo: bool) -> Result<Ifconfig, String> {
    let mut out = Ifconfig::default();
    let mut words = value.split_whitespace();
    let unknown = |w: &str| {
        format!("{var}: unknown word {} (the simulator knows {IFCONFIG_WORDS})", text::echo(w))
    };
    while let Some(w) = words.next() {
        let mut arg = |what: &str| words.next().ok_or_else(|| format!("{var}: {w} needs {what}"));
        // rc matches its pseudo words in any case (`[Dd][Hh][Cc][Pp]`).
        match w.to_ascii_uppercase().as_str() {
            "DHCP" | "SYNCDHCP" | "NOSYNCDHCP" if pseudo => {
                out.dhcp = true;
                out.sync_dhcp = w.eq_ignore_ascii_case("SYNCDHCP");
                continue;
            }
            "WPA" if pseudo => {
                out.wpa = true;
                continue;
            }
            _ => {}
        }
        let word = match w {
            "up" => Word::Up,
            "laggproto" => {
                let p = arg("a protocol")?;
                Word::LaggProto(p.parse().map_err(|e| format!("{var}: laggproto: {e}"))?)
            }
            "laggport" => Word::LaggPort(ifname(var, arg("an interface")?)?),
            "ether" | "lladdr" => {
                let m = arg("a MAC address")?;
                Word::Lladdr(m.parse().map_err(|e| format!("{var}: {w}: {e}"))?)
            }
            "mtu" => {
                let n = arg("a number")?;
                match n.parse::<u32>() {
                    Ok(n) if (1..=65535).contains(&n) => Word::Mtu(n),
                    _ => return Err(format!("{var}: mtu {}: want 1 to 65535", text::echo(n))),
                }
            }
            _ => return Err(unknown(w)),
        };
        out.words.push(word);
    }
    Ok(out)
}

/// The `wlanaddr` of a vap's `create_args`, checking every word.
fn wlan_create_words(var: &str, value: &str) -> Result<Option<MacAddr>, String> {
    let mut mac = None;
    let mut words = value.split_whitespace();
    while let Some(w) = words.next() {
        let mut arg = |what: &str| words.next().ok_or_else(|| format!("{var}: {w} needs {what}"));
        match w {
            "wlanaddr" => {
                let m = arg("a MAC address")?;
                mac = Some(m.parse().map_err(|e| format!("{var}: wlanaddr: {e}"))?);
            }
            "country" | "regdomain" => {
                arg("a value")?;
            }
            "wlanmode" => {
                let mode = arg("a mode")?;
                if mode != "sta" {
                    return Err(format!(
                        "{var}: wlanmode {}: the simulator models stations only (sta)",
                        text::echo(mode)
                    ));
                }
            }
            "bssid" | "-bssid" => {}
            _ => {
                return Err(format!(
                    "{var}: unknown word {} (the simulator knows {WLAN_CREATE_WORDS})",
                    text::echo(w)
                ))
            }
        }
    }
    Ok(mac)
}

impl RcConf {
    /// Parses rc.conf(5) lines: `NAME="value"` shell assignments (the last
    /// one of a name wins, as in sh), blank lines and `#` comments. The
    /// variables the simulator reads are `cloned_interfaces`,
    /// `wlans_RADIO`, `create_args_IF` and `ifconfig_IF`; any other
    /// variable, and any word the simulator does not know, is an error
    /// naming its line. A `create_args_IF` for an interface rc does not
    /// create (neither a `wlans_` child nor in `cloned_interfaces`) is
    /// ignored, as rc ignores it.
    pub fn parse(text: &str) -> Result<RcConf, RcConfError> {
        let mut vars: BTreeMap<String, (usize, String)> = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| RcConfError { line, message };
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let Some((name, rest)) = t.split_once('=') else {
                return Err(err(format!("{} is not a NAME=\"value\" assignment", text::echo(t))));
            };
            if !is_shell_name(name) {
                return Err(err(format!("{} is not a variable name", text::echo(name))));
            }
            let value = shell_value(rest).map_err(|e| err(format!("{name}: {e}")))?;
            vars.insert(name.to_owned(), (line, value));
        }
        let mut by_line: Vec<(&String, &(usize, String))> = vars.iter().collect();
        by_line.sort_by_key(|(_, (line, _))| *line);

        let mut rc = RcConf::default();
        let mut create_args: Vec<(usize, IfName, &str, &str)> = Vec::new();
        let mut child_of: BTreeMap<IfName, IfName> = BTreeMap::new();
        for (name, (line, value)) in by_line {
            let line = *line;
            let err = |message: String| RcConfError { line, message };
            // get_if_var turns `.-/+` in an interface name into `_`: a
            // suffix with `_` is some other rc variable
            // (`ifconfig_em0_alias0`, `ifconfig_DEFAULT`'s cousins).
            let suffix = |prefix: &str| name.strip_prefix(prefix).filter(|s| !s.contains('_'));
            if name == "cloned_interfaces" {
                for w in value.split_whitespace() {
                    let n = ifname(name, w).map_err(err)?;
                    if !cloner_matches("lagg", &n) {
                        return Err(err(format!(
                            "{name}: {n}: the simulator clones lagg(4) interfaces only"
                        )));
                    }
                    rc.cloned.push(n);
                }
            } else if let Some(radio) = suffix("wlans_") {
                let radio = ifname(name, radio).map_err(err)?;
                let mut children = Vec::new();
                for w in value.split_whitespace() {
                    let child = ifname(name, w).map_err(err)?;
                    if let Some(other) = child_of.insert(child.clone(), radio.clone()) {
                        return Err(err(format!(
                            "{name}: {child} is also a child of {other} (wlans_{other})"
                        )));
                    }
                    children.push(child);
                }
                rc.wlans.insert(radio, children);
            } else if let Some(ifn) = suffix("create_args_") {
                let ifn = ifname(name, ifn).map_err(err)?;
                create_args.push((line, ifn, name.as_str(), value.as_str()));
            } else if let Some(ifn) = suffix("ifconfig_") {
                let ifn = ifname(name, ifn).map_err(err)?;
                rc.ifconfig.insert(ifn, ifconfig_words(name, value, true).map_err(err)?);
            } else if let Some(r) = rc.net.var(name, value) {
                r.map_err(err)?;
            } else {
                return Err(err(format!(
                    "unknown variable {} (the simulator reads cloned_interfaces, \
                     wlans_RADIO, create_args_IF, ifconfig_IF, ifconfig_IF_ipv6, \
                     background_dhclient[_IF] and synchronous_dhclient)",
                    text::echo(name)
                )));
            }
        }
        // A create_args means something only for an interface rc creates;
        // rc never reads one for another (`lagghook rc-conf` prints a vap's
        // wlanaddr even when wlan.X.parent is unknown and wlans_ is a
        // comment), so neither does the simulator.
        for (line, ifn, var, value) in create_args {
            let err = |message: String| RcConfError { line, message };
            if child_of.contains_key(&ifn) {
                if let Some(mac) = wlan_create_words(var, value).map_err(err)? {
                    rc.wlanaddr.insert(ifn, mac);
                }
            } else if rc.cloned.contains(&ifn) {
                let words = ifconfig_words(var, value, false).map_err(err)?.words;
                rc.clone_args.insert(ifn, words);
            }
        }
        Ok(rc)
    }

    /// The radios `wlans_` variables name.
    pub fn radios(&self) -> impl Iterator<Item = &IfName> {
        self.wlans.keys()
    }

    /// rc's `dhcpif IF`: `ifconfig_IF` has DHCP, SYNCDHCP or NOSYNCDHCP.
    pub(super) fn is_dhcp(&self, ifn: &IfName) -> bool {
        self.ifconfig.get(ifn).is_some_and(|c| c.dhcp)
    }
}

impl SimKernel {
    /// The rc.conf lines rc reads at the next boot, radio attach or driver
    /// reload (the machine's `/etc`, not kernel state: not in the machine
    /// file, not compared).
    pub fn set_rc_conf(&mut self, rc: RcConf) {
        self.rc_conf = rc;
    }

    /// What rc wrote on the console since the last take: the requests of
    /// its ifconfig commands that failed, as `ifconfig lagg0 laggport
    /// ue0: EINVAL`.
    pub fn take_console(&mut self) -> Vec<String> {
        std::mem::take(&mut self.console)
    }

    /// `rc.d/netif start` at boot (`netif_start`): `wlan_up`, `clone_up`,
    /// `ifn_start` of every interface in if_index order, then the scans
    /// of the wpa_supplicants it started. `templates` are the vaps the
    /// reboot destroyed.
    pub(super) fn rc_netif_start(&mut self, templates: &BTreeMap<IfName, VapTemplate>) {
        let rc = self.rc_conf.clone();
        for (radio, children) in &rc.wlans {
            for child in children {
                self.rc_wlan_create(&rc, radio, child, templates);
            }
        }
        for ifn in &rc.cloned {
            self.rc_clone_create(&rc, ifn);
        }
        let order: Vec<IfName> = self.by_index().iter().map(|i| i.name.clone()).collect();
        let mut scans = Vec::new();
        for ifn in &order {
            self.rc_ifn_start(&rc, ifn, &mut scans);
        }
        for wlan in &scans {
            self.wpa_supplicant_scan(wlan);
        }
    }

    /// `/etc/pccard_ether RADIO startchildren`, which devd runs when a
    /// radio attaches: each child of `wlans_RADIO` that does not exist is
    /// created and configured (`netif quietstart CHILD`), then the
    /// wpa_supplicants started scan.
    pub(super) fn rc_startchildren(
        &mut self,
        radio: &IfName,
        templates: &BTreeMap<IfName, VapTemplate>,
    ) {
        let rc = self.rc_conf.clone();
        let mut scans = Vec::new();
        for child in rc.wlans.get(radio).into_iter().flatten() {
            if self.ifnets.contains_key(child) {
                continue;
            }
            self.rc_wlan_create(&rc, radio, child, templates);
            // `netif_start CHILD` also runs `clone_up CHILD`, which does
            // nothing for a vap (clone_up creates `cloned_interfaces`).
            self.rc_ifn_start(&rc, child, &mut scans);
        }
        for wlan in &scans {
            self.wpa_supplicant_scan(wlan);
        }
    }

    /// `wlan_up` for one child: `ifconfig CHILD create wlandev RADIO
    /// [wlanaddr MAC …]`, skipped if it exists. A radio that is not
    /// attached fails the create (`wlan_clone_create`: no
    /// `ieee80211com` for the name, ENXIO).
    fn rc_wlan_create(
        &mut self,
        rc: &RcConf,
        radio: &IfName,
        child: &IfName,
        templates: &BTreeMap<IfName, VapTemplate>,
    ) {
        if self.ifnets.contains_key(child) {
            return;
        }
        if !self.radios.contains(radio) || self.ifnets.contains_key(radio) {
            self.console_error(format!("ifconfig {child} create wlandev {radio}"), Errno::ENXIO);
            return;
        }
        let t = templates.get(child).copied().unwrap_or_default();
        self.wlan_clone_create(child, radio, rc.wlanaddr.get(child).copied(), t);
    }

    /// `clone_up` for one interface: `ifconfig IF create [create_args]`,
    /// skipped if it exists. ifconfig loads if_lagg first if it is not
    /// (`ifmaybeload`).
    fn rc_clone_create(&mut self, rc: &RcConf, ifn: &IfName) {
        if self.ifnets.contains_key(ifn) {
            return;
        }
        let what = format!("ifconfig {ifn} create");
        if let Err(e) = self.ifmaybeload_lagg() {
            self.console_error(format!("{what}: kldload if_lagg"), e);
            return;
        }
        if let Err(e) = self.lagg_clone_create(ifn) {
            self.console_error(what, e);
            return;
        }
        let words = rc.clone_args.get(ifn).cloned().unwrap_or_default();
        self.rc_ifconfig(ifn, &words);
    }

    /// `ifn_start IF` as far as `ifconfig_up` goes (see the module doc).
    /// A WPA vap whose wpa_supplicant started is added to `scans`.
    fn rc_ifn_start(&mut self, rc: &RcConf, ifn: &IfName, scans: &mut Vec<IfName>) {
        let Some(cfg) = rc.ifconfig.get(ifn) else {
            return;
        };
        let configured = !cfg.words.is_empty();
        if configured {
            self.rc_ifconfig(ifn, &cfg.words);
        }
        if cfg.wpa {
            if self.wpa_supplicant_start(ifn) {
                scans.push(ifn.clone());
            } else if self.ifnets.get(ifn).is_some_and(|i| i.kind != IfKind::Wlan) {
                self.console.push(format!(
                    "wpa_supplicant {ifn}: not a wlan (the simulator runs it on vaps only)"
                ));
            }
        } else if configured || cfg.dhcp {
            self.rc_ifconfig(ifn, &[Word::Up]);
        }
        self.rc_net_ifn_start(ifn, cfg.dhcp, cfg.sync_dhcp);
    }

    /// One `ifconfig IF WORDS…` command (see the module doc for failures).
    fn rc_ifconfig(&mut self, ifn: &IfName, words: &[Word]) {
        for w in words {
            let (result, fatal) = match w {
                Word::Up => (self.siocsifflags(ifn, true), true),
                Word::LaggProto(p) => (self.siocslagg(ifn, *p), true),
                Word::LaggPort(p) => match self.lagg_port_create(ifn, p) {
                    Err(Errno::EEXIST) => (Ok(()), false),
                    r => (r, false),
                },
                Word::Lladdr(m) => (self.siocsiflladdr(ifn, *m), false),
                Word::Mtu(n) => (self.siocsifmtu(ifn, *n), true),
            };
            if let Err(e) = result {
                self.console_error(format!("ifconfig {ifn} {w}"), e);
                if fatal {
                    return;
                }
            }
        }
    }

    fn console_error(&mut self, what: String, e: Errno) {
        let name = e.name().map_or_else(|| format!("errno {}", e.code()), str::to_owned);
        self.console.push(format!("{what}: {name}"));
    }

    /// The radios attached now or known to be absent, for checking a
    /// happening's names.
    pub(super) fn known_radios(&self) -> BTreeSet<IfName> {
        self.radios.iter().chain(&self.absent_radios).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::LinkState;
    use crate::kernel::Kernel;
    use crate::sim::factory_mac;
    use crate::sim::fixture::{ev, laptop, mac, n, E};

    /// The seed's set-up without `wlanaddr` (issue 7).
    const SEED: &str = "\
# the Handbook's lagg failover, without wlanaddr
wlans_iwn0=\"wlan0\"
ifconfig_wlan0=\"WPA\"
ifconfig_em0=\"up\"
cloned_interfaces=\"lagg0\"
ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"
";

    fn err(text: &str) -> String {
        RcConf::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_seed_lines_parse_into_what_rc_reads() {
        let rc = RcConf::parse(SEED).unwrap();
        assert_eq!(rc.cloned, [n("lagg0")]);
        assert_eq!(rc.wlans.get(&n("iwn0")), Some(&vec![n("wlan0")]));
        assert!(rc.wlanaddr.is_empty());
        let lagg0 = &rc.ifconfig[&n("lagg0")];
        assert_eq!(
            lagg0.words,
            [
                Word::Up,
                Word::LaggProto(LaggProto::Failover),
                Word::LaggPort(n("em0")),
                Word::LaggPort(n("wlan0"))
            ]
        );
        assert!(lagg0.dhcp && !lagg0.wpa);
        assert!(rc.ifconfig[&n("wlan0")].wpa);
        assert!(rc.ifconfig[&n("wlan0")].words.is_empty());
        assert_eq!(rc.radios().collect::<Vec<_>>(), [&n("iwn0")]);
        // rc reads no create_args for an interface it does not create.
        let rc = RcConf::parse("create_args_wlan0=\"wlanaddr 00:11:22:33:44:55\"").unwrap();
        assert_eq!(rc, RcConf::default());
    }

    #[test]
    fn quoting_comments_and_the_last_assignment_follow_sh() {
        let rc = RcConf::parse(
            "ifconfig_em0=up # bare word\nifconfig_em0='mtu 1400'\n\
             create_args_wlan0=\"wlanaddr 00:11:22:33:44:55 country DE bssid\"\n\
             wlans_iwn0=\"wlan0\"\n",
        )
        .unwrap();
        assert_eq!(rc.ifconfig[&n("em0")].words, [Word::Mtu(1400)]);
        assert_eq!(rc.wlanaddr.get(&n("wlan0")), Some(&mac(E)));
        // rc's pseudo words match in any case.
        let rc = RcConf::parse("ifconfig_wlan0=\"wpa syncdhcp\"").unwrap();
        assert!(rc.ifconfig[&n("wlan0")].wpa && rc.ifconfig[&n("wlan0")].dhcp);
    }

    /// Each refusal names its line (in the rc_conf text), the variable and
    /// the word.
    #[test]
    fn errors_name_the_line_the_variable_and_the_word() {
        for (text, want) in [
            ("\n\nhostname=\"x\"", "line 3: unknown variable \"hostname\""),
            ("ifconfig_em0=\"inet 10.0.0.1/24\"", "line 1: ifconfig_em0: unknown word \"inet\""),
            ("# c\nifconfig_lagg0=\"laggport\"", "line 2: ifconfig_lagg0: laggport needs an interface"),
            ("ifconfig_em0=\"laggproto fast\"", "line 1: ifconfig_em0: laggproto: unknown lagg protocol"),
            ("ifconfig_em0=\"ether zz\"", "line 1: ifconfig_em0: ether:"),
            ("ifconfig_em0=\"mtu 0\"", "line 1: ifconfig_em0: mtu \"0\": want 1 to 65535"),
            ("ifconfig_em0=\"up", "line 1: ifconfig_em0: no closing \""),
            ("ifconfig_em0=\"up\" down", "line 1: ifconfig_em0: \"down\" after the value"),
            ("ifconfig_em0=\"$x\"", "line 1: ifconfig_em0: shell expansions"),
            ("ifconfig_em0", "line 1: \"ifconfig_em0\" is not a NAME=\"value\" assignment"),
            ("if config=up", "line 1: \"if config\" is not a variable name"),
            ("ifconfig_em0_alias0=\"inet 10.0.0.2\"", "line 1: unknown variable \"ifconfig_em0_alias0\""),
            ("cloned_interfaces=\"vlan0\"", "line 1: cloned_interfaces: vlan0: the simulator clones lagg(4) interfaces only"),
            ("wlans_iwn0=\"wlan0\"\nwlans_ath0=\"wlan0\"", "line 2: wlans_ath0: wlan0 is also a child of iwn0"),
            ("wlans_iwn0=wlan0\ncreate_args_wlan0=\"wlanmode hostap\"", "line 2: create_args_wlan0: wlanmode \"hostap\": the simulator models stations only"),
            ("wlans_iwn0=wlan0\ncreate_args_wlan0=\"channel 6\"", "line 2: create_args_wlan0: unknown word \"channel\""),
            ("cloned_interfaces=lagg0\ncreate_args_lagg0=\"WPA\"", "line 2: create_args_lagg0: unknown word \"WPA\""),
        ] {
            let got = err(text);
            assert!(got.starts_with(want), "{text:?}: {got}");
            assert!(!got.contains(char::is_control), "{got:?}");
        }
    }

    /// The seed's set-up without `wlanaddr`, booted as the sources say:
    /// wpa_supplicant reads wlan0's factory address when rc starts it
    /// (wlan0 DOWN), `laggport wlan0` then joins the DOWN vap (no bounce:
    /// `wlan_iflladdr` copies em0's MAC into iv_myaddr), and only then does
    /// wpa_supplicant bring wlan0 up, with its stale address: the 4-way
    /// handshake fails and the WiFi never associates.
    #[test]
    fn the_seed_without_wlanaddr_boots_with_dead_wifi() {
        let mut k = laptop();
        k.set_rc_conf(RcConf::parse(SEED).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        let factory = factory_mac(&n("iwn0"));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(factory));
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(E));
        assert!(k.interface("wlan0").unwrap().up, "wpa_supplicant brought it up to scan");
        assert_eq!(k.lagg_mac("lagg0"), Some(mac(E)));
        assert!(k.take_console().is_empty());
        k.settle();
        assert_eq!(k.interface("em0").unwrap().link, LinkState::Up);
        assert_ne!(k.interface("wlan0").unwrap().link, LinkState::Up, "handshake fails");
        assert!(k.traffic_flows("lagg0"), "on the cable");
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        k.settle();
        assert!(!k.traffic_flows("lagg0"), "and nothing on WiFi");
        assert!(k.could_carry(&n("wlan0")));
    }

    /// The same boot with `wlanaddr`: wpa_supplicant reads em0's MAC, and
    /// the WiFi carries when the cable goes.
    #[test]
    fn with_wlanaddr_the_wifi_carries_after_boot() {
        let mut k = laptop();
        let lines = format!("{SEED}create_args_wlan0=\"wlanaddr {E}\"\n");
        k.set_rc_conf(RcConf::parse(&lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        k.settle();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        assert!(k.traffic_flows("lagg0"));
    }

    /// Boot order and events: the NICs' ATTACH (the kernel attaches them
    /// before rc runs), then what rc creates, in order; nothing of the
    /// teardown (devd was not running); then the links an autonegotiation
    /// and an association later.
    #[test]
    fn boot_events_are_the_attaches_then_rc_then_the_links() {
        let mut k = laptop();
        let lines = format!("{SEED}create_args_wlan0=\"wlanaddr {E}\"\n");
        k.set_rc_conf(RcConf::parse(&lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert_eq!(
            k.take_events(),
            [
                ev("em0", "ATTACH"),
                ev("wlan0", "ATTACH"),
                ev("lagg0", "ATTACH"),
                ev("lagg0", "LINK_DOWN")
            ]
        );
        assert_eq!(k.writes(), 0, "rc's requests are not lagghook's");
        let indices: Vec<(String, u32)> = ["em0", "wlan0", "lagg0"]
            .iter()
            .map(|i| (i.to_string(), k.interface(i).unwrap().index))
            .collect();
        assert_eq!(indices, [("em0".into(), 1), ("wlan0".into(), 2), ("lagg0".into(), 3)]);
        k.settle();
        assert_eq!(
            k.take_events(),
            [ev("wlan0", "LINK_UP"), ev("lagg0", "LINK_UP"), ev("em0", "LINK_UP")]
        );
    }

    /// An absent radio: `ifconfig wlan0 create` fails, `laggport wlan0`
    /// fails and the rest of the line still runs; `attach-radio` brings
    /// the radio, and rc's startchildren creates and configures wlan0,
    /// but nothing adds it to lagg0.
    #[test]
    fn an_absent_radio_fails_its_vaps_until_it_attaches() {
        let mut k = laptop();
        k.set_rc_conf(
            RcConf::parse(&format!("{SEED}create_args_wlan0=\"wlanaddr {E}\"\n")).unwrap(),
        );
        k.happen(&"reboot absent=iwn0".parse().unwrap()).unwrap();
        assert!(k.interface("wlan0").is_none());
        assert_eq!(
            k.take_console(),
            ["ifconfig wlan0 create wlandev iwn0: ENXIO", "ifconfig lagg0 laggport wlan0: EINVAL"]
        );
        assert_eq!(k.lagg("lagg0").unwrap().ports.len(), 1);
        assert!(k.radios().next().is_none());
        let saved = k.clone();
        k.settle();
        assert_eq!(SimKernel::from_machine(&k.to_machine()).unwrap(), k, "absent_radios kept");
        k = saved;
        let err = k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("iwn0 is absent"), "{err}");
        k.take_events();
        k.happen(&"attach-radio iwn0".parse().unwrap()).unwrap();
        assert_eq!(k.take_events(), [ev("wlan0", "ATTACH")]);
        let w = k.interface("wlan0").unwrap();
        assert!(w.up);
        assert_eq!((w.mac, k.wpa_supplicant_mac("wlan0")), (mac(E), Some(mac(E))));
        assert!(!k.lagg("lagg0").unwrap().has_port(&n("wlan0")));
        // The radio's presence is state a machine file keeps.
        k.settle();
        let again = SimKernel::from_machine(&k.to_machine()).unwrap();
        assert_eq!(again, k);
    }

    /// A NIC absent at boot is not there; the radio-less rc still builds
    /// lagg0 from what is.
    #[test]
    fn an_absent_nic_is_gone_and_the_rest_boots() {
        let mut k = laptop();
        k.set_rc_conf(
            RcConf::parse(&format!("{SEED}create_args_wlan0=\"wlanaddr {E}\"\n")).unwrap(),
        );
        k.happen(&"reboot absent=em0".parse().unwrap()).unwrap();
        assert!(k.interface("em0").is_none());
        // wlan0 took index 1, lagg0 2; lagg0 got wlan0 as its first port.
        assert_eq!(k.interface("wlan0").unwrap().index, 1);
        assert_eq!(k.lagg("lagg0").unwrap().primary(), Some(&n("wlan0")));
        assert_eq!(k.take_console(), ["ifconfig lagg0 laggport em0: EINVAL"]);
        k.settle();
        assert!(k.traffic_flows("lagg0"));
    }

    /// Resume: a running NIC renegotiates and a running vap re-associates;
    /// a reloaded radio's vaps are destroyed and re-created by rc, and the
    /// `resume` scripts are due.
    #[test]
    fn resume_restarts_links_and_reload_recreates_vaps() {
        let mut k = laptop();
        k.set_rc_conf(
            RcConf::parse(&format!("{SEED}create_args_wlan0=\"wlanaddr {E}\"\n")).unwrap(),
        );
        k.happen(&"resume".parse().unwrap()).unwrap();
        assert!(k.take_resume_scripts());
        assert!(!k.take_resume_scripts());
        assert_eq!(
            k.take_events(),
            [ev("em0", "LINK_DOWN"), ev("wlan0", "LINK_DOWN"), ev("lagg0", "LINK_DOWN")]
        );
        assert!(k.lagg("lagg0").unwrap().has_port(&n("wlan0")), "membership survives");
        k.settle();
        assert!(k.traffic_flows("lagg0"));
        k.take_events();
        k.happen(&"resume reload=iwn0".parse().unwrap()).unwrap();
        let events: Vec<String> =
            k.take_events().iter().map(|e| format!("{} {}", e.subsystem, e.kind)).collect();
        // The vap's DETACH comes before the link changes its departure
        // causes (see the fidelity notes in `sim`).
        assert_eq!(
            events,
            ["em0 LINK_DOWN", "wlan0 DETACH", "lagg0 LINK_DOWN", "wlan0 LINK_DOWN", "wlan0 ATTACH"]
        );
        assert!(!k.lagg("lagg0").unwrap().has_port(&n("wlan0")));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        assert!(k.take_resume_scripts());
    }

    #[test]
    fn a_lagg_created_by_rc_loads_if_lagg_at_securelevel_minus_one() {
        let mut m = crate::sim::fixture::Laptop::new().machine();
        m.securelevel = Some(2);
        let mut k = SimKernel::from_machine(&m).unwrap();
        k.set_rc_conf(RcConf::parse(SEED).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        // rc.d/securelevel runs after netif: kldload at boot still works.
        assert!(k.lagg_module().unwrap().loaded);
        assert!(k.lagg("lagg0").is_some());
        assert!(k.take_console().is_empty());
    }

    /// A reboot unloads if_lagg unless it is compiled in (loaded, and no
    /// `if_lagg.ko` it could have come from): without a lagg in rc.conf it
    /// stays unloaded, and the sysctl is back at its default either way.
    #[test]
    fn a_reboot_unloads_if_lagg_unless_compiled_in() {
        let mut k = laptop();
        k.set_failover_rx_all(true).unwrap();
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert!(!k.lagg_module().unwrap().loaded);
        assert!(k.interface("wlan0").is_none() && k.interface("lagg0").is_none());
        let mut m = crate::sim::fixture::Laptop::new().machine();
        (m.if_lagg_ko, m.failover_rx_all) = (Some(false), Some(1));
        let mut k = SimKernel::from_machine(&m).unwrap();
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert_eq!(k.failover_rx_all().unwrap(), Some(false));
    }

    /// `mtu` on a lagg goes to its ports first; a refusal puts back the
    /// ones already changed, and the failure ends that ifconfig command
    /// (rc's own `ifconfig lagg0 up` after it still runs).
    #[test]
    fn mtu_words_reach_the_ports_and_a_refusal_stops_the_command() {
        let lines = "cloned_interfaces=lagg0\nifconfig_em0=up\n\
                     ifconfig_lagg0=\"laggport em0 mtu 4000 laggport wlan0\"\n\
                     wlans_iwn0=wlan0\n";
        let mut k = laptop();
        k.set_rc_conf(RcConf::parse(lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        // A jumbo lagg: em0 takes 4000, wlan0 cannot join (lagg_port_create).
        assert_eq!(k.take_console(), ["ifconfig lagg0 laggport wlan0: EINVAL"]);
        assert_eq!(k.interface("em0").unwrap().mtu, 4000);
        let lines = lines.replace("laggport em0 mtu", "laggport wlan0 laggport em0 mtu");
        let lines = lines.replace("4000 laggport wlan0", "4000 laggport em0");
        k.set_rc_conf(RcConf::parse(&lines).unwrap());
        k.happen(&"reboot".parse().unwrap()).unwrap();
        // net80211 refuses 4000 (IEEE80211_MTU_MAX 2290): em0 goes back.
        assert_eq!(k.take_console(), ["ifconfig lagg0 mtu 4000: EINVAL"]);
        let mtus: Vec<u32> =
            ["em0", "wlan0", "lagg0"].iter().map(|i| k.interface(i).unwrap().mtu).collect();
        assert_eq!(mtus, [1500, 1500, 1500]);
        assert!(k.interface("lagg0").unwrap().up, "rc's `ifconfig lagg0 up`");
    }
}
