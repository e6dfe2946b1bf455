//! lagghook.toml: parsing (serde + toml) and validation into [`Config`].
//! A config that fails validation is rejected whole, with file:line:column;
//! nothing downstream ever sees a partially valid configuration.
//!
//! This module owns the file format and every check that can be made
//! without looking at the kernel. It does not know which interfaces exist;
//! that is the planner's business.
//!
//! ```toml
//! [lagg0]
//! ports = ["em0", "wlan0"]     # preference order: the first is the wanted primary
//! mac = "em0"                  # a port (its hardware address) or a literal MAC
//! failover_rx_all = true       # net.link.lagg.failover_rx_all (global)
//! wlan.wlan0.parent = "iwn0"   # the radio under wlan0
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::domain::model::{IfName, IfNameError, MacAddr};
use crate::domain::network_config::{NetworkConfig, RawNetwork};
use crate::domain::text::{self, echo};

/// Where devd's action finds the configuration unless `-c` says otherwise.
pub const DEFAULT_PATH: &str = "/usr/local/etc/lagghook.toml";

/// `LAGG_MAX_PORTS` in `sys/net/if_lagg.h`: `lagg_port_create` returns
/// ENOSPC for the 33rd port, so a longer list could never be applied.
pub use crate::abi::LAGG_MAX_PORTS;

/// The most laggs a configuration may hold. lagg(4) itself sets no limit
/// (a unit number up to `IF_MAXUNIT`); this one bounds what devd waits for
/// by construction: at most `MAX_LAGGS` × [`LAGG_MAX_PORTS`] ports, in a
/// file of at most [`MAX_SIZE`] bytes. A laptop has one lagg (its wired
/// NIC and its WiFi), two with a second pair (a dock's NIC and a second
/// radio); every lagg needs ports of its own, and no laptop or desk
/// machine has links for more than a few. Eight is four times the most
/// such a machine uses.
pub const MAX_LAGGS: usize = 8;

/// The largest configuration file, in bytes: 64 KiB. The largest
/// configuration that means something ([`MAX_LAGGS`] laggs of
/// [`LAGG_MAX_PORTS`] ports, each with a `wlan` table) is some 15 KiB;
/// the commented sample is 2 KiB. Every run reads and parses the file
/// whole, so its size is what devd waits for: 1 MiB of comments took a
/// run 4 ms, 64 KiB leaves it under a converged run's cost.
pub const MAX_SIZE: usize = 64 << 10;

/// Default of `failover_rx_all`: accept frames on every port, not only the
/// active one, so that replies arriving on the wired port during a switch to
/// the wlan (or the reverse) are not dropped (lagg(4), `lagg_fail_input`).
pub const DEFAULT_FAILOVER_RX_ALL: bool = true;

/// Where a lagg's identity MAC comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacSource {
    /// That port's hardware address (`SIOCGHWADDR`); the identity a run
    /// settles on is remembered across reboots (`domain::identity`).
    Port(IfName),
    Literal(MacAddr),
}

/// When the preferred port, back and up, takes the primary role again
/// (Linux bonding's `primary_reselect`, as far as lagg allows it). lagg
/// changes its primary only when the primary leaves (`lagg_port_destroy`),
/// and then re-sets the MAC of every remaining port, which bounces the
/// preferred one (`if_setlladdr`): a swap is never free while it carries
/// traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Failback {
    /// As soon as the preferred port is a member with its link up, at the
    /// cost of one association or autonegotiation (whichever ends first:
    /// the old primary re-joins as backup at once).
    #[default]
    Immediate,
    /// Only when it costs nothing: while no port of the lagg carries
    /// traffic.
    Deferred,
}

impl Failback {
    fn parse(s: &str) -> Option<Failback> {
        match s {
            "immediate" => Some(Failback::Immediate),
            "deferred" => Some(Failback::Deferred),
            _ => None,
        }
    }
}

/// Per-wlan settings (`wlan.wlan0.parent = "iwn0"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WlanConfig {
    pub parent: Option<IfName>,
}

/// One `[laggN]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaggConfig {
    pub name: IfName,
    /// Preference order: the first is the wanted primary.
    pub ports: Vec<IfName>,
    pub mac: MacSource,
    /// The effective value of the global sysctl; identical in every lagg
    /// (see [`Config::failover_rx_all`]).
    pub failover_rx_all: bool,
    /// In file order; every name is also in `ports`.
    pub wlans: Vec<(IfName, WlanConfig)>,
    pub failback: Failback,
    /// The `network.*` keys: the network check (issue 20).
    pub network: NetworkConfig,
}

impl LaggConfig {
    /// The port that should be `sc_primary`: the first one listed. Always
    /// `Some` for a parsed config (validation rejects `ports = []`).
    pub fn primary(&self) -> Option<&IfName> {
        self.ports.first()
    }

    pub fn has_port(&self, port: &IfName) -> bool {
        self.ports.contains(port)
    }

    /// The `wlan.X` table of a port, if the config has one.
    pub fn wlan(&self, port: &IfName) -> Option<&WlanConfig> {
        self.wlans.iter().find(|(n, _)| n == port).map(|(_, w)| w)
    }

    /// Whether a port is (taken to be) a wlan vap: it has a `wlan.X` table,
    /// or its name is `wlan<N>`, the name `rc.d/netif`'s `wlan_up` gives by
    /// default. The config has no other way to tell; a wlan vap is
    /// `IFT_ETHER` to the kernel too (`ieee80211_vap_setup`).
    pub fn is_wlan_port(&self, port: &IfName) -> bool {
        self.wlan(port).is_some() || is_wlan_name(port.as_str())
    }
}

/// `wlan` followed by a decimal unit: what `ifconfig wlan create` names a
/// vap (`wlan_clone_create` in `sys/net80211/ieee80211_freebsd.c`).
pub fn is_wlan_name(name: &str) -> bool {
    unit_suffix(name, "wlan").is_some()
}

/// `lagg<N>` as `ifconfig laggN create` accepts it: `ifc_name2unit` in
/// `sys/net/if_clone.c` refuses a unit with leading zeros, so `lagg00` is not
/// a name a lagg can be created with.
pub fn is_lagg_name(name: &str) -> bool {
    unit_suffix(name, "lagg").is_some_and(|u| u == "0" || !u.starts_with('0'))
}

/// Anything that looks like `lagg<digits>`, canonical or not. Used to refuse
/// such names as ports: even a renamed lagg cannot be a port
/// (`lagg_port_create` returns EINVAL for a port that is itself a lagg).
fn looks_like_lagg(name: &str) -> bool {
    unit_suffix(name, "lagg").is_some()
}

/// The digits after `prefix`, if the whole rest of `name` is digits.
fn unit_suffix<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(prefix)?;
    if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
        Some(rest)
    } else {
        None
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub path: PathBuf,
    /// In file order.
    pub laggs: Vec<LaggConfig>,
}

impl Config {
    /// The error for a file that could not be read (reading is the
    /// caller's: this module does no I/O).
    pub fn unreadable(path: &Path, e: std::io::Error) -> ConfigError {
        ConfigError { path: path.to_owned(), location: None, kind: Box::new(ErrorKind::Read(e)) }
    }

    /// Parses and validates `text`; `path` is only used in messages and kept
    /// in the result.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let err = |span: Option<usize>, kind: ErrorKind| ConfigError {
            path: path.to_owned(),
            location: span.map(|off| Location::of(text, off)),
            kind: Box::new(kind),
        };
        if text.len() > MAX_SIZE {
            return Err(err(Some(MAX_SIZE), ErrorKind::TooLarge));
        }
        let raw: BTreeMap<Spanned<String>, Spanned<RawLagg>> =
            toml::from_str(text).map_err(|e| {
                // toml places every error but one: a key of too many dotted
                // parts, its "recursion limit", which is found here instead.
                let (at, message) = match e.span() {
                    Some(span) => (span.start, e.message().to_owned()),
                    None => {
                        (deepest_key(text), format!("{}: a key of too many parts", e.message()))
                    }
                };
                err(Some(at), ErrorKind::Toml(message))
            })?;
        // BTreeMap orders by name; the file order is the order of the spans.
        let mut tables: Vec<(Spanned<String>, Spanned<RawLagg>)> = raw.into_iter().collect();
        tables.sort_by_key(|(name, _)| name.span().start);
        Validator { text, err: &err, ports: HashMap::new(), rx_all: None }
            .run(tables)
            .map(|laggs| Config { path: path.to_owned(), laggs })
    }

    /// Whether a configuration whose text is `text` could name `ifname`,
    /// as a lagg or a port, decided without parsing it: the name appears
    /// in the text, or the text has a `\`, since a TOML escape (`\u0065m0`)
    /// can spell a name without it. Otherwise no valid configuration with
    /// this text manages `ifname`, and an event about it is ignored before
    /// the parse, which costs what the file's size does (`MAX_SIZE`).
    pub fn may_name(text: &str, ifname: &str) -> bool {
        text.contains(ifname) || text.contains('\\')
    }

    /// The lagg that lists `port`.
    pub fn lagg_for_port(&self, port: &IfName) -> Option<&LaggConfig> {
        self.laggs.iter().find(|l| l.has_port(port))
    }

    pub fn lagg(&self, name: &IfName) -> Option<&LaggConfig> {
        self.laggs.iter().find(|l| &l.name == name)
    }

    /// A configured port or a configured lagg: what lagghook may touch.
    pub fn manages(&self, ifname: &IfName) -> bool {
        self.lagg(ifname).is_some() || self.lagg_for_port(ifname).is_some()
    }

    /// `net.link.lagg.failover_rx_all` is one global sysctl
    /// (`SYSCTL_INT(_net_link_lagg, OID_AUTO, failover_rx_all, ...)` in
    /// `sys/net/if_lagg.c`), not a per-lagg option, so validation makes every
    /// lagg agree; with no lagg at all the default applies.
    pub fn failover_rx_all(&self) -> bool {
        self.laggs.first().map_or(DEFAULT_FAILOVER_RX_ALL, |l| l.failover_rx_all)
    }

    /// Every configured port with its lagg, in file order.
    pub fn ports(&self) -> impl Iterator<Item = (&LaggConfig, &IfName)> + '_ {
        self.laggs.iter().flat_map(|l| l.ports.iter().map(move |p| (l, p)))
    }
}

/// The file as serde sees it. Every value is `Spanned` so that validation can
/// point at it; `deny_unknown_fields` turns a typo such as `prots` into an
/// error at the key instead of a silently ignored setting.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [laggN] table")]
struct RawLagg {
    ports: Spanned<Vec<Spanned<String>>>,
    mac: Option<Spanned<String>>,
    failover_rx_all: Option<Spanned<bool>>,
    failback: Option<Spanned<String>>,
    wlan: Option<BTreeMap<Spanned<String>, Spanned<RawWlan>>>,
    network: Option<RawNetwork>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table like wlan.wlan0.parent = \"iwn0\"")]
struct RawWlan {
    parent: Option<Spanned<String>>,
}

/// Checks the raw tables in file order, in one pass, and stops at the
/// first problem. Each rule has one place: a method per key of a lagg
/// table, and the rules that span laggs (a port in one lagg only, one
/// `failover_rx_all`) look up what the laggs before recorded, in constant
/// time, so the pass is linear in the size of the file. A new key is a
/// field of [`RawLagg`], a method here, and a call in [`Validator::lagg`].
struct Validator<'a, F: Fn(Option<usize>, ErrorKind) -> ConfigError> {
    text: &'a str,
    err: &'a F,
    /// Every port validated so far: its lagg and its position.
    ports: HashMap<IfName, (IfName, usize)>,
    /// The first explicit `failover_rx_all`: lagg, value, position.
    rx_all: Option<(IfName, bool, usize)>,
}

impl<F: Fn(Option<usize>, ErrorKind) -> ConfigError> Validator<'_, F> {
    fn run(
        mut self,
        tables: Vec<(Spanned<String>, Spanned<RawLagg>)>,
    ) -> Result<Vec<LaggConfig>, ConfigError> {
        if let Some((extra, _)) = tables.get(MAX_LAGGS) {
            let kind = ErrorKind::TooManyLaggs { count: tables.len() };
            return Err(self.at(extra.span().start, kind));
        }
        let mut laggs = Vec::with_capacity(tables.len());
        for (name, raw) in tables {
            laggs.push(self.lagg(name, raw.into_inner())?);
        }
        // Omitted values take the one value the file agreed on.
        let rx_all = self.rx_all.map_or(DEFAULT_FAILOVER_RX_ALL, |(_, v, _)| v);
        for lagg in &mut laggs {
            lagg.failover_rx_all = rx_all;
        }
        Ok(laggs)
    }

    fn at(&self, span_start: usize, kind: ErrorKind) -> ConfigError {
        (self.err)(Some(span_start), kind)
    }

    fn loc(&self, offset: usize) -> Location {
        Location::of(self.text, offset)
    }

    /// One `[laggN]` table, key by key.
    fn lagg(&mut self, name: Spanned<String>, raw: RawLagg) -> Result<LaggConfig, ConfigError> {
        let lagg = self.lagg_name(name)?;
        let ports = self.ports(&lagg, raw.ports)?;
        let mac = self.mac(&lagg, &ports, raw.mac)?;
        self.rx_all(&lagg, raw.failover_rx_all)?;
        let wlans = self.wlans(&lagg, raw.wlan)?;
        let failback = self.failback(raw.failback)?;
        let network = self.network(&lagg, raw.network)?;
        Ok(LaggConfig {
            name: lagg,
            ports,
            mac,
            failover_rx_all: DEFAULT_FAILOVER_RX_ALL,
            wlans,
            failback,
            network,
        })
    }

    /// The `network.*` keys (`domain::network_config`).
    fn network(
        &self,
        lagg: &IfName,
        raw: Option<RawNetwork>,
    ) -> Result<NetworkConfig, ConfigError> {
        let Some(raw) = raw else { return Ok(NetworkConfig::default()) };
        raw.validate().map_err(|b| {
            let (key, value, expected) = (b.key, b.value, b.expected);
            self.at(b.at, ErrorKind::BadNetworkValue { lagg: lagg.clone(), key, value, expected })
        })
    }

    fn lagg_name(&self, name: Spanned<String>) -> Result<IfName, ConfigError> {
        let at = name.span().start;
        match IfName::new(name.get_ref()) {
            Ok(n) if is_lagg_name(n.as_str()) => Ok(n),
            Ok(_) => {
                Err(self.at(at, ErrorKind::BadLaggName { name: name.into_inner(), reason: None }))
            }
            Err(e) => {
                Err(self
                    .at(at, ErrorKind::BadLaggName { name: name.into_inner(), reason: Some(e) }))
            }
        }
    }

    /// `ports`: 1 to [`LAGG_MAX_PORTS`] interface names, none a lagg, none
    /// listed twice, in this lagg or an earlier one.
    fn ports(
        &mut self,
        lagg: &IfName,
        raw: Spanned<Vec<Spanned<String>>>,
    ) -> Result<Vec<IfName>, ConfigError> {
        let ports_at = raw.span().start;
        let raw = raw.into_inner();
        if let Some(extra) = raw.get(LAGG_MAX_PORTS) {
            let kind = ErrorKind::TooManyPorts { lagg: lagg.clone(), count: raw.len() };
            return Err(self.at(extra.span().start, kind));
        }
        if raw.is_empty() {
            return Err(self.at(ports_at, ErrorKind::EmptyPorts { lagg: lagg.clone() }));
        }
        let mut ports = Vec::with_capacity(raw.len());
        for p in raw {
            let at = p.span().start;
            let port = IfName::new(p.get_ref()).map_err(|reason| {
                self.at(at, ErrorKind::BadPort { name: p.get_ref().clone(), reason })
            })?;
            if looks_like_lagg(port.as_str()) {
                return Err(self.at(at, ErrorKind::PortIsLagg { port }));
            }
            match self.ports.get(&port) {
                Some((other, first)) if other == lagg => {
                    let first = self.loc(*first);
                    return Err(self.at(at, ErrorKind::DuplicatePort { port, first }));
                }
                Some((other, first)) => {
                    let (other, first) = (other.clone(), self.loc(*first));
                    return Err(self.at(at, ErrorKind::PortInTwoLaggs { port, other, first }));
                }
                None => {}
            }
            self.ports.insert(port.clone(), (lagg.clone(), at));
            ports.push(port);
        }
        Ok(ports)
    }

    /// Whether `name` is a port of `lagg`: looked up, not searched for.
    fn is_port_of(&self, lagg: &IfName, name: &IfName) -> bool {
        self.ports.get(name).is_some_and(|(l, _)| l == lagg)
    }

    /// `mac` names a port of this lagg, or else is a literal address; the
    /// first port when omitted. The port question comes first, so a port
    /// whose name could also be read as an address (none can today: a
    /// name starts with a letter and has no `:`) would still mean the
    /// port.
    fn mac(
        &self,
        lagg: &IfName,
        ports: &[IfName],
        m: Option<Spanned<String>>,
    ) -> Result<MacSource, ConfigError> {
        let Some(m) = m else {
            // `ports` is never empty here.
            return Ok(MacSource::Port(ports[0].clone()));
        };
        let at = m.span().start;
        let value = m.into_inner();
        let name = IfName::new(&value);
        if let Ok(port) = &name {
            if self.is_port_of(lagg, port) {
                return Ok(MacSource::Port(port.clone()));
            }
        }
        if let Ok(mac) = value.parse::<MacAddr>() {
            if mac.is_zero() || mac.is_multicast() {
                return Err(self.at(at, ErrorKind::UnusableMac { value, mac }));
            }
            return Ok(MacSource::Literal(mac));
        }
        match name {
            Ok(_) => Err(self.at(
                at,
                ErrorKind::MacNotAPort { lagg: lagg.clone(), value, ports: ports.to_vec() },
            )),
            Err(_) => Err(self.at(at, ErrorKind::BadMac { value })),
        }
    }

    /// `failover_rx_all`: one global sysctl, so every explicit value
    /// agrees with the first.
    fn rx_all(&mut self, lagg: &IfName, v: Option<Spanned<bool>>) -> Result<(), ConfigError> {
        let Some(v) = v else { return Ok(()) };
        let at = v.span().start;
        let value = *v.get_ref();
        match &self.rx_all {
            None => self.rx_all = Some((lagg.clone(), value, at)),
            Some((first_lagg, first_value, first_at)) if *first_value != value => {
                let first = self.loc(*first_at);
                let kind = ErrorKind::ConflictingRxAll {
                    lagg: lagg.clone(),
                    value,
                    first_lagg: first_lagg.clone(),
                    first,
                };
                return Err(self.at(at, kind));
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// `wlan.X` tables, in file order: each for a port of this lagg, with
    /// a parent that is neither a port nor a lagg.
    fn wlans(
        &self,
        lagg: &IfName,
        raw: Option<BTreeMap<Spanned<String>, Spanned<RawWlan>>>,
    ) -> Result<Vec<(IfName, WlanConfig)>, ConfigError> {
        let mut tables: Vec<(Spanned<String>, Spanned<RawWlan>)> =
            raw.unwrap_or_default().into_iter().collect();
        tables.sort_by_key(|(n, _)| n.span().start);
        let mut wlans = Vec::with_capacity(tables.len());
        for (wname, wraw) in tables {
            let at = wname.span().start;
            let port = match IfName::new(wname.get_ref()) {
                Ok(p) if self.is_port_of(lagg, &p) => p,
                _ => {
                    let kind =
                        ErrorKind::WlanNotAPort { lagg: lagg.clone(), name: wname.into_inner() };
                    return Err(self.at(at, kind));
                }
            };
            let parent = match wraw.into_inner().parent {
                None => None,
                Some(p) => {
                    let at = p.span().start;
                    let parent = IfName::new(p.get_ref()).map_err(|reason| {
                        self.at(at, ErrorKind::BadParent { name: p.get_ref().clone(), reason })
                    })?;
                    if self.is_port_of(lagg, &parent) || looks_like_lagg(parent.as_str()) {
                        return Err(self.at(at, ErrorKind::ParentIsPort { wlan: port, parent }));
                    }
                    Some(parent)
                }
            };
            wlans.push((port, WlanConfig { parent }));
        }
        Ok(wlans)
    }

    fn failback(&self, v: Option<Spanned<String>>) -> Result<Failback, ConfigError> {
        let Some(v) = v else { return Ok(Failback::default()) };
        Failback::parse(v.get_ref()).ok_or_else(|| {
            self.at(v.span().start, ErrorKind::BadFailback { value: v.get_ref().clone() })
        })
    }
}

/// Where a TOML error that toml gives without a position lies: at the
/// key with the most dotted parts (the first of them), since the one such
/// error is toml's limit on a key's parts (`on_key`'s "recursion limit"
/// in toml 0.9's `src/de/parser/key.rs`, `LIMIT` = 80), or else at the
/// start of the file. Found with toml's own lexer and parser, so a dot in
/// a string or a comment is not taken for a key's.
fn deepest_key(text: &str) -> usize {
    use toml_parser::parser::{parse_document, Event, EventKind};
    let source = toml_parser::Source::new(text);
    let tokens = source.lex().into_vec();
    let mut events: Vec<Event> = Vec::with_capacity(tokens.len());
    parse_document(&tokens, &mut events, &mut ());
    let (mut deepest, mut at) = (0, 0);
    let mut key: Option<(usize, usize)> = None; // start, parts
    for event in &events {
        match event.kind() {
            EventKind::SimpleKey => {
                let (start, parts) = key.get_or_insert((event.span().start(), 0));
                *parts += 1;
                if *parts > deepest {
                    (deepest, at) = (*parts, *start);
                }
            }
            EventKind::KeySep | EventKind::Whitespace => {}
            _ => key = None,
        }
    }
    at
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The position of byte `offset` of `text`.
    pub fn of(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a configuration was rejected, and where.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    /// `None` when the problem is the file as a whole (unreadable).
    pub location: Option<Location>,
    /// Boxed to keep `Result<_, ConfigError>` small (clippy's
    /// `result_large_err`); errors are rare, results are not.
    pub kind: Box<ErrorKind>,
}

/// What is wrong. Values are shown through [`text::echo`]: quoted, so that a
/// control character in the file cannot garble a log line, and cut short.
#[derive(Debug)]
pub enum ErrorKind {
    Read(std::io::Error),
    /// TOML syntax, a wrong type, an unknown or missing key: toml's message.
    Toml(String),
    BadLaggName {
        name: String,
        reason: Option<IfNameError>,
    },
    EmptyPorts {
        lagg: IfName,
    },
    TooManyPorts {
        lagg: IfName,
        count: usize,
    },
    TooManyLaggs {
        count: usize,
    },
    TooLarge,
    BadPort {
        name: String,
        reason: IfNameError,
    },
    PortIsLagg {
        port: IfName,
    },
    DuplicatePort {
        port: IfName,
        first: Location,
    },
    PortInTwoLaggs {
        port: IfName,
        other: IfName,
        first: Location,
    },
    BadMac {
        value: String,
    },
    UnusableMac {
        value: String,
        mac: MacAddr,
    },
    MacNotAPort {
        lagg: IfName,
        value: String,
        ports: Vec<IfName>,
    },
    ConflictingRxAll {
        lagg: IfName,
        value: bool,
        first_lagg: IfName,
        first: Location,
    },
    BadFailback {
        value: String,
    },
    WlanNotAPort {
        lagg: IfName,
        name: String,
    },
    BadParent {
        name: String,
        reason: IfNameError,
    },
    ParentIsPort {
        wlan: IfName,
        parent: IfName,
    },
    /// A `network.*` key with a value it cannot take.
    BadNetworkValue {
        lagg: IfName,
        key: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // An OS error ("No such file or directory") reads as a failed
            // read; a refusal of the file itself ("is a FIFO, not a
            // regular file") speaks for itself.
            ErrorKind::Read(e) if e.raw_os_error().is_some() => {
                write!(f, "cannot read: {}", text::io_error(e))
            }
            ErrorKind::Read(e) => write!(f, "{e}"),
            // toml quotes keys and values whole: one line, cut short.
            ErrorKind::Toml(msg) => f.write_str(&text::one_line(msg, 4 * text::ECHO_MAX_CHARS)),
            ErrorKind::BadLaggName { name, reason: Some(reason) } => {
                write!(f, "table [{}] is not a lagg interface name: {reason}", echo(name))
            }
            ErrorKind::BadLaggName { name, reason: None } => {
                write!(f, "table [{name}] is not a lagg interface name: it must be lagg<N>, e.g. [lagg0]")
            }
            ErrorKind::EmptyPorts { lagg } => {
                write!(f, "{lagg}: ports is empty; list at least one port, the preferred first")
            }
            ErrorKind::TooManyPorts { lagg, count } => write!(
                f,
                "{lagg}: {count} ports, but a lagg takes at most {LAGG_MAX_PORTS} \
                 (LAGG_MAX_PORTS; lagg_port_create returns ENOSPC)"
            ),
            ErrorKind::TooManyLaggs { count } => write!(
                f,
                "{count} laggs, but a configuration holds at most {MAX_LAGGS} (lagghook.toml(5))"
            ),
            ErrorKind::TooLarge => write!(
                f,
                "the configuration is larger than {} KiB, the most lagghook reads",
                MAX_SIZE >> 10
            ),
            ErrorKind::BadPort { name, reason } => write!(f, "port {}: {reason}", echo(name)),
            ErrorKind::PortIsLagg { port } => write!(
                f,
                "port \"{port}\" is a lagg: lagg_port_create refuses stacked laggs with EINVAL"
            ),
            ErrorKind::DuplicatePort { port, first } => {
                write!(f, "duplicate port \"{port}\" (already listed at {first})")
            }
            ErrorKind::PortInTwoLaggs { port, other, first } => write!(
                f,
                "port \"{port}\" is already a port of {other} (at {first}); \
                 an interface can be in one lagg only (lagg_port_create returns EBUSY)"
            ),
            ErrorKind::BadMac { value } => {
                write!(
                    f,
                    "mac {} is neither a port name nor a MAC address like 00:11:22:33:44:55",
                    echo(value)
                )
            }
            ErrorKind::UnusableMac { value, mac } => {
                let what = if mac.is_zero() { "the zero address" } else { "a multicast address" };
                write!(f, "mac {} is {what}; a port cannot use it as its source address", echo(value))
            }
            ErrorKind::MacNotAPort { lagg, value, ports } => {
                let list: Vec<&str> = ports.iter().map(IfName::as_str).collect();
                write!(
                    f,
                    "mac {} is not a port of {lagg} (ports: {}) nor a MAC address",
                    echo(value),
                    list.join(", ")
                )
            }
            ErrorKind::ConflictingRxAll { lagg, value, first_lagg, first } => write!(
                f,
                "{lagg}: failover_rx_all = {value} conflicts with {first_lagg}'s {} at {first}; \
                 net.link.lagg.failover_rx_all is one global sysctl",
                !value
            ),
            ErrorKind::BadFailback { value } => {
                write!(f, "failback {}: want \"immediate\" or \"deferred\"", echo(value))
            }
            ErrorKind::WlanNotAPort { lagg, name } => {
                // A key as written when it is a plain name, quoted otherwise.
                let key = if IfName::new(name).is_ok() { name.clone() } else { echo(name) };
                write!(f, "wlan.{key} names no port of {lagg}; list it in ports first")
            }
            ErrorKind::BadParent { name, reason } => write!(f, "parent {}: {reason}", echo(name)),
            ErrorKind::ParentIsPort { wlan, parent } => write!(
                f,
                "parent of {wlan} is \"{parent}\", a port or lagg; the parent is the radio (e.g. iwn0)"
            ),
            ErrorKind::BadNetworkValue { lagg, key, value, expected } => {
                write!(f, "{lagg}: network.{key} = {} is not {expected}", echo(value))
            }
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(loc) => write!(f, "{}:{}: {}", text::path(&self.path), loc, self.kind),
            None => write!(f, "{}: {}", text::path(&self.path), self.kind),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.kind {
            ErrorKind::Read(e) => Some(e),
            ErrorKind::BadLaggName { reason: Some(e), .. }
            | ErrorKind::BadPort { reason: e, .. }
            | ErrorKind::BadParent { reason: e, .. } => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("lagghook.toml"))
    }

    fn name(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(c) => panic!("accepted: {c:?}\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse("[lagg0]\nports = [\"em0\", \"wlan0\"]\n").unwrap();
        assert_eq!(c.laggs.len(), 1);
        let l = &c.laggs[0];
        assert_eq!(l.name, name("lagg0"));
        assert_eq!(l.ports, vec![name("em0"), name("wlan0")]);
        assert_eq!(l.primary(), Some(&name("em0")));
        assert_eq!(l.mac, MacSource::Port(name("em0")));
        assert!(l.failover_rx_all);
        assert!(l.wlans.is_empty());
        // No wlan table, but wlan0 is wlan by name; em0 is not.
        assert!(l.is_wlan_port(&name("wlan0")));
        assert!(!l.is_wlan_port(&name("em0")));
    }

    #[test]
    fn good_laptop_fixture() {
        let c = parse(include_str!("../../tests/fixtures/config/good-laptop.toml")).unwrap();
        let l = &c.laggs[0];
        assert_eq!(l.ports, vec![name("em0"), name("wlan0")]);
        assert_eq!(l.mac, MacSource::Port(name("em0")));
        assert_eq!(l.wlan(&name("wlan0")), Some(&WlanConfig { parent: Some(name("iwn0")) }));
        assert!(c.failover_rx_all());
        assert!(c.manages(&name("lagg0")) && c.manages(&name("em0")) && c.manages(&name("wlan0")));
        assert!(!c.manages(&name("iwn0")) && !c.manages(&name("re0")));
        assert_eq!(c.lagg_for_port(&name("wlan0")).map(|l| &l.name), Some(&name("lagg0")));
        assert_eq!(c.lagg(&name("lagg0")).map(|l| l.ports.len()), Some(2));
        assert!(c.lagg(&name("em0")).is_none());
    }

    #[test]
    fn good_two_laggs_fixture_keeps_file_order_and_literal_mac() {
        let c = parse(include_str!("../../tests/fixtures/config/good-two-laggs.toml")).unwrap();
        let names: Vec<&str> = c.laggs.iter().map(|l| l.name.as_str()).collect();
        // File order, not BTreeMap (name) order: lagg10 comes first in the file.
        assert_eq!(names, ["lagg10", "lagg2"]);
        assert_eq!(c.laggs[0].mac, MacSource::Literal("02:00:00:00:00:01".parse().unwrap()));
        // lagg2 omits failover_rx_all and takes lagg10's explicit false.
        assert!(!c.failover_rx_all());
        assert!(c.laggs.iter().all(|l| !l.failover_rx_all));
        // A non-wlanN name is a wlan port because it has a wlan table.
        assert!(c.laggs[1].is_wlan_port(&name("wifi0")));
        let ports: Vec<&str> = c.ports().map(|(_, p)| p.as_str()).collect();
        assert_eq!(ports, ["igb0", "igb1", "ue0", "wifi0"]);
    }

    #[test]
    fn empty_config_is_valid_and_empty() {
        let c = parse("# nothing yet\n").unwrap();
        assert!(c.laggs.is_empty());
        assert!(c.failover_rx_all());
        assert!(!c.manages(&name("em0")));
    }

    /// Each bad config is rejected with this exact message and position.
    #[test]
    fn bad_configs_table() {
        let cases: &[(&str, &str)] = &[
            (
                include_str!("../../tests/fixtures/config/bad-duplicate-port.toml"),
                "lagghook.toml:2:17: duplicate port \"em0\" (already listed at 2:10)",
            ),
            (
                include_str!("../../tests/fixtures/config/bad-unknown-key.toml"),
                "lagghook.toml:3:1: unknown field `prots`, expected one of `ports`, `mac`, `failover_rx_all`, `failback`, `wlan`, `network`",
            ),
            (
                include_str!("../../tests/fixtures/config/bad-table-name.toml"),
                "lagghook.toml:1:2: table [bond0] is not a lagg interface name: it must be lagg<N>, e.g. [lagg0]",
            ),
            (
                include_str!("../../tests/fixtures/config/bad-port-in-two-laggs.toml"),
                "lagghook.toml:5:17: port \"em0\" is already a port of lagg0 (at 2:10); an interface can be in one lagg only (lagg_port_create returns EBUSY)",
            ),
            (
                include_str!("../../tests/fixtures/config/bad-rx-all-conflict.toml"),
                "lagghook.toml:7:19: lagg1: failover_rx_all = false conflicts with lagg0's true at 3:19; net.link.lagg.failover_rx_all is one global sysctl",
            ),
            (
                include_str!("../../tests/fixtures/config/bad-mac-not-a-port.toml"),
                "lagghook.toml:3:7: mac \"em1\" is not a port of lagg0 (ports: em0, wlan0) nor a MAC address",
            ),
            (
                include_str!("../../tests/fixtures/config/bad-syntax.toml"),
                "lagghook.toml:2:15: unclosed array, expected `]`",
            ),
            ("[lagg0]\nports = []\n", "lagghook.toml:2:9: lagg0: ports is empty; list at least one port, the preferred first"),
            (
                "[lagg0]\nports = [\"em0\", \"lagg1\"]\n",
                "lagghook.toml:2:17: port \"lagg1\" is a lagg: lagg_port_create refuses stacked laggs with EINVAL",
            ),
            (
                "[lagg0]\nports = [\"abcdefghijklmnop\"]\n",
                "lagghook.toml:2:10: port \"abcdefghijklmnop\": interface name is 16 bytes long, at most 15 fit in IFNAMSIZ",
            ),
            (
                "[lagg0]\nports = [\"em0;reboot\"]\n",
                "lagghook.toml:2:10: port \"em0;reboot\": interface name contains ';'",
            ),
            (
                "[lagg0]\nports = [\"em0\", 3]\n",
                "lagghook.toml:2:17: invalid type: integer `3`, expected a string",
            ),
            (
                "[lagg0]\nports = [\"em0\"]\nmac = \"01:00:5e:00:00:01\"\n",
                "lagghook.toml:3:7: mac \"01:00:5e:00:00:01\" is a multicast address; a port cannot use it as its source address",
            ),
            (
                "[lagg0]\nports = [\"em0\"]\nmac = \"00:00:00:00:00:00\"\n",
                "lagghook.toml:3:7: mac \"00:00:00:00:00:00\" is the zero address; a port cannot use it as its source address",
            ),
            (
                "[lagg0]\nports = [\"em0\"]\nmac = \"00:11:22:33:44\"\n",
                "lagghook.toml:3:7: mac \"00:11:22:33:44\" is neither a port name nor a MAC address like 00:11:22:33:44:55",
            ),
            (
                "[lagg0]\nports = [\"em0\"]\nwlan.wlan0.parent = \"iwn0\"\n",
                "lagghook.toml:3:6: wlan.wlan0 names no port of lagg0; list it in ports first",
            ),
            (
                "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parnt = \"iwn0\"\n",
                "lagghook.toml:3:12: unknown field `parnt`, expected `parent`",
            ),
            (
                "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"em0\"\n",
                "lagghook.toml:3:21: parent of wlan0 is \"em0\", a port or lagg; the parent is the radio (e.g. iwn0)",
            ),
            ("[lagg0]\nmac = \"em0\"\n", "lagghook.toml:1:1: missing field `ports`"),
            ("lagg0 = 1\n", "lagghook.toml:1:9: invalid type: integer `1`, expected a [laggN] table"),
            (
                "[lagg00]\nports = [\"em0\"]\n",
                "lagghook.toml:1:2: table [lagg00] is not a lagg interface name: it must be lagg<N>, e.g. [lagg0]",
            ),
            (
                "[\"lagg 0\"]\nports = [\"em0\"]\n",
                "lagghook.toml:1:2: table [\"lagg 0\"] is not a lagg interface name: interface name contains ' '",
            ),
            (
                "[lagg0]\nports = [\"em0\"]\nfailover_rx_all = \"yes\"\n",
                "lagghook.toml:3:19: invalid type: string \"yes\", expected a boolean",
            ),
            // Columns count characters: the multi-byte é before the error.
            (
                "[lagg0]\nports = [\"é\"]\n",
                "lagghook.toml:2:10: port \"é\": interface name contains 'é'",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&err(text), want, "config:\n{text}");
        }
    }

    #[test]
    fn lagg_named_like_its_own_port_is_rejected() {
        // lagg0 as a port of lagg0: lagg_port_create says "cannot add a lagg
        // to itself as a port" (EINVAL); the lagg-name rule covers it.
        assert!(err("[lagg0]\nports = [\"lagg0\"]\n").contains("is a lagg"));
    }

    /// The largest configuration lagghook accepts, which the benchmark
    /// times devd's events under: MAX_LAGGS laggs of LAGG_MAX_PORTS ports,
    /// every key set, padded with comments to MAX_SIZE bytes.
    fn largest() -> String {
        include_str!("../../tests/fixtures/config/largest.toml").to_owned()
    }

    /// Proves the bound on what a configuration may hold: the largest one
    /// is accepted; a ninth lagg is refused at its table, a file past
    /// MAX_SIZE at the byte where it passes it, each with line and column.
    #[test]
    fn the_largest_configuration_is_accepted_and_one_more_lagg_or_byte_is_not() {
        let text = largest();
        assert_eq!(text.len(), MAX_SIZE, "the fixture is not as large as a file may be");
        let c = parse(&text).unwrap();
        assert_eq!(c.laggs.len(), MAX_LAGGS);
        assert!(c.laggs.iter().all(|l| l.ports.len() == LAGG_MAX_PORTS && l.wlans.len() == 1));
        assert!(c.laggs.iter().all(|l| l.failback == Failback::Immediate && l.failover_rx_all));
        // A ninth lagg in place of the padding.
        let tables = &text[..text.find("# ---").unwrap()];
        let ninth = format!("{tables}[lagg{MAX_LAGGS}]\nports = [\"re0\"]\n");
        let lines = tables.matches('\n').count();
        assert_eq!(
            err(&ninth),
            format!("lagghook.toml:{}:2: 9 laggs, but a configuration holds at most 8 (lagghook.toml(5))", lines + 1),
            "(the size is checked first only past MAX_SIZE)"
        );
        let over = format!("{text}#");
        let e = parse(&over).unwrap_err();
        assert_eq!(e.location, Some(Location::of(&over, MAX_SIZE)));
        assert!(
            e.to_string()
                .ends_with("the configuration is larger than 64 KiB, the most lagghook reads"),
            "{e}"
        );
        // Nine small laggs are refused as well: the count, not the size.
        let nine: String = (0..9).map(|i| format!("[lagg{i}]\nports = [\"em{i}\"]\n")).collect();
        assert!(err(&nine).starts_with("lagghook.toml:17:2: 9 laggs"), "{}", err(&nine));
    }

    /// Proves the checks that span laggs see every earlier port, in the
    /// lagg before the last as in the first (they look ports up, not
    /// through a list of them).
    #[test]
    fn a_port_of_any_earlier_lagg_is_found() {
        let text = largest();
        // lagg7's ports are igb186 to igb216, lagg6's igb155 to igb185.
        let twice = text.replacen("\"igb200\"", "\"igb160\"", 1);
        let e = err(&twice);
        assert!(e.contains("port \"igb160\" is already a port of lagg6"), "{e}");
        let within = text.replacen("\"igb200\"", "\"igb199\"", 1);
        assert!(err(&within).contains("duplicate port \"igb199\""), "{}", err(&within));
    }

    /// Proves toml's one error without a position gets one: a key of too
    /// many dotted parts (toml's "recursion limit") is placed at that key,
    /// not at a dot in a string or a comment before it.
    #[test]
    fn a_key_of_too_many_parts_is_placed() {
        let deep = vec!["a"; 100].join(".");
        let text = format!("[lagg0]\nports = [\"em0\"]\n# x.y.z\nq = \"a.b.c.d\"\n  {deep} = 1\n");
        assert_eq!(err(&text), "lagghook.toml:5:3: recursion limit: a key of too many parts");
        let header = format!("[{deep}]\n");
        assert_eq!(err(&header), "lagghook.toml:1:2: recursion limit: a key of too many parts");
    }

    /// Proves the test an unmanaged event is decided by: a name the text
    /// does not hold is one no configuration with that text names, unless
    /// an escape could spell it.
    #[test]
    fn a_name_absent_from_the_text_is_never_managed() {
        let text = include_str!("../../tests/fixtures/config/good-laptop.toml");
        assert!(Config::may_name(text, "em0") && Config::may_name(text, "lagg0"));
        assert!(!Config::may_name(text, "re1") && !Config::may_name(text, "em9"));
        let escaped = "[lagg0]\nports = [\"\\u0072e1\"]\n";
        assert_eq!(parse(escaped).unwrap().laggs[0].ports, vec![name("re1")]);
        assert!(Config::may_name(escaped, "re1"), "an escape may spell it");
    }

    #[test]
    fn thirty_three_ports_are_rejected_at_the_33rd() {
        let ports: Vec<String> = (0..33).map(|i| format!("\"em{i}\"")).collect();
        let text = format!("[lagg0]\nports = [{}]\n", ports.join(","));
        let e = parse(&text).unwrap_err();
        // "[lagg0]\nports = [" then 32 entries; entry 32 starts after them.
        let col = "ports = [".len() + ports[..32].iter().map(|p| p.len() + 1).sum::<usize>() + 1;
        assert_eq!(e.location, Some(Location { line: 2, column: col }));
        assert!(e.to_string().contains("33 ports, but a lagg takes at most 32"), "{e}");
        let ok: Vec<String> = (0..32).map(|i| format!("\"em{i}\"")).collect();
        assert!(parse(&format!("[lagg0]\nports = [{}]\n", ok.join(","))).is_ok());
    }

    #[test]
    fn explicit_equal_rx_all_values_agree() {
        let c = parse(
            "[lagg0]\nports=[\"em0\"]\nfailover_rx_all=false\n\
             [lagg1]\nports=[\"em1\"]\nfailover_rx_all=false\n",
        )
        .unwrap();
        assert!(!c.failover_rx_all());
    }

    #[test]
    fn an_unreadable_file_is_named_without_rust_artefacts() {
        let e = Config::unreadable(
            Path::new("/nonexistent/lagghook.toml"),
            std::io::Error::from_raw_os_error(2),
        );
        assert!(e.location.is_none());
        assert_eq!(
            e.to_string(),
            "/nonexistent/lagghook.toml: cannot read: No such file or directory"
        );
        assert!(std::error::Error::source(&e).is_some());
        let e = Config::unreadable(
            Path::new("/tmp/fifo"),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "is a FIFO, not a regular file"),
        );
        assert_eq!(e.to_string(), "/tmp/fifo: is a FIFO, not a regular file");
    }

    #[test]
    fn location_counts_lines_and_chars() {
        assert_eq!(Location::of("ab\ncd", 0), Location { line: 1, column: 1 });
        assert_eq!(Location::of("ab\ncd", 4), Location { line: 2, column: 2 });
        assert_eq!(Location::of("é\nx", 1), Location { line: 1, column: 1 });
        assert_eq!(Location::of("ab", 99), Location { line: 1, column: 3 });
    }

    #[test]
    fn name_helpers() {
        assert!(is_lagg_name("lagg0") && is_lagg_name("lagg12"));
        assert!(!is_lagg_name("lagg") && !is_lagg_name("laggx0") && !is_lagg_name("em0"));
        assert!(!is_lagg_name("lagg01") && looks_like_lagg("lagg01"));
        assert!(is_wlan_name("wlan0") && !is_wlan_name("wlan") && !is_wlan_name("wlan0a"));
    }
}
