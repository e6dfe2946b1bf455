//! The machine file format: `[[machine.interface]]` tables shared by kernel
//! files and scenario files, how a [`SimKernel`] is built from them, and
//! how one is written back.
//!
//! Plain keys (what a scenario writer uses):
//!
//! | key | kinds | meaning |
//! |---|---|---|
//! | `name` | all | interface name (`IfName` rules) |
//! | `kind` | all | `ether`, `vlan` (a vlan(4), `IFT_L2VLAN`), `wlan`, `lagg` or `other` (not Ethernet-like, e.g. tun) |
//! | `mac` | ether (required), wlan, other | ether: its address and hwaddr; wlan: its creation address (`wlanaddr`, default the radio's [`factory_mac`]); for a lagg port: its saved `lp_lladdr` |
//! | `link` | ether, wlan, other | the medium: cable in / AP in reach (default false) |
//! | `up` | all | `IFF_UP` (default true) |
//! | `parent` | wlan (required) | the radio |
//! | `proto` | lagg | `laggproto` keyword (default failover) |
//! | `ports` | lagg | ports, replayed as `SIOCSLAGGPORT` in this order |
//! | `max_mtu` | ether, vlan, other | the largest MTU the driver's SIOCSIFMTU accepts (default: no limit); joining a lagg with a larger MTU fails with EINVAL |
//! | `capabilities` | ether, vlan, other | `if_capabilities`, `IFCAP_*` bits (default: an em(4)'s checksum, TSO, LRO and VLAN bits for an ether, 0 otherwise); a vap has none |
//! | `security` | wlan | `wpa` (default: joining needs wpa_supplicant with the vap's address) or `open` (joins without wpa_supplicant) |
//! | `autoneg` | ether, vlan | seconds from being (re)initialised with the cable in to LINK_UP (default 2.5) |
//! | `assoc` | wlan | seconds from being (re)started with the AP in reach to LINK_UP (default 2.0) |
//! | `wpa_ctrl` | wlan | wpa_supplicant has a control socket (default true; false: it cannot say its address) |
//!
//! A radio's class is a `[[machine.radio]]` table ([`radio`]).
//!
//! Extra keys (written by [`SimKernel::save`] so a saved file reloads to an
//! identical kernel; a scenario may use them too): `index` (if_index),
//! `hwaddr`, `lladdr` (current address, set after the ports are replayed),
//! `mtu`, `capenable` (if_capenable, default all of `capabilities`), wlan `air_mac` (iv_myaddr), `radio_mac` (the address the
//! radio uses, default `air_mac`), `wpa_mac` (address wpa_supplicant
//! read, `"none"` = not running), `wpa_failures` (its consecutive failed
//! connections, default 0), lagg `primary`, `saved_mac = { port = MAC }`
//! (lp_lladdr), `saved_caps = { port = BITS }` (lp_ifcapenable) and `link_state` (`unknown`/`down`/`up` for a port-less
//! lagg; `unknown` for an interface attached after the machine was built
//! whose driver has not reported a link yet, see `ifnet::refresh_link`).
//! In `[machine]`: `if_lagg` (module loaded, default true; kldload(2)
//! loads it), `securelevel` (`kern.securelevel`, default -1; above 0
//! kldload fails with EPERM), `if_lagg_ko` (`if_lagg.ko` in
//! `kern.module_path`, default true; without it kldload fails with ENOENT),
//! `failover_rx_all` (0/1, default 0), `radios` (802.11 devices besides the
//! wlan parents), `absent_radios` (radios left out of a boot, `reboot
//! absent=`, not attached since), `events` (pending devd lines), and the
//! `[machine.files]` table: the machine's configuration files, each an
//! absolute path and its text (`"/etc/rc.conf" = "kld_list=\"if_iwn\"\n"`),
//! which `check` reads through [`super::SimRoot`]; without the table the
//! machine has no such files. Any other key is an error.
//!
//! Interface names and MAC addresses are typed fields ([`IfName`],
//! [`MacAddr`], [`WpaMac`]): TOML checks them as it reads the file and
//! reports a bad one with its line and column.
//!
//! Construction: interfaces get if_index 1, 2, 3… in file order (unless
//! `index` is given); a lagg's ports must be listed before it and are
//! added in the listed order, so the first gives the lagg its MAC and
//! becomes primary, and later ones are set to the lagg's MAC, as rc's
//! `ifconfig lagg0 laggport em0 laggport wlan0` does. Building emits no
//! events.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use toml::Spanned;

use super::if_lagg::Lagg;
use super::ifnet::{Ifnet, ETHER_CAPS};
use super::net::file::{BssFile, Layer3File, NetworkFile};
use super::net80211::{factory_mac, Vap, VapTemplate};
use super::{SimError, SimKernel};
use crate::abi::ETHERMTU;
use crate::domain::config::Location;
use crate::domain::event::DevdEvent;
use crate::domain::model::{IfKind, IfName, LaggProto, LinkState, MacAddr};
use crate::domain::text;

/// The `[machine]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    /// if_lagg loaded (default true); without it `create_lagg` fails and
    /// the failover_rx_all sysctl does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_lagg: Option<bool>,
    /// `net.link.lagg.failover_rx_all` (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_rx_all: Option<u32>,
    /// `kern.securelevel` (default -1); above 0 kldload(2) fails (EPERM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub securelevel: Option<i32>,
    /// Whether `if_lagg.ko` is in `kern.module_path` (default true); when
    /// not, kldload(2) of if_lagg fails (ENOENT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_lagg_ko: Option<bool>,
    /// 802.11 devices (`net.wlan.devices`) besides every wlan's parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radios: Option<Vec<IfName>>,
    /// Radios left out of a boot that have not attached since: no vap can
    /// be created on them until `attach-radio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent_radios: Option<Vec<IfName>>,
    /// devd events emitted and not yet taken, as devctl lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// `[[machine.radio]]`: radios and how their drivers take a new
    /// address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radio: Option<Vec<MachineRadio>>,
    #[serde(default)]
    pub interface: Vec<MachineInterface>,
    /// The machine's files: absolute path → text (the `[machine.files]`
    /// table; see [`super::SimRoot`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<BTreeMap<String, String>>,
    /// `[[machine.network]]`: the networks the ports can lead to
    /// ([`super::net::file`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network: Vec<NetworkFile>,
    /// `[[machine.bss]]`: the BSSes a vap can associate with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bss: Vec<BssFile>,
    /// Extra: `[machine.layer3]`, the layer-3 state as saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer3: Option<Layer3File>,
}

mod radio;
mod value;
pub use radio::MachineRadio;
pub use value::{Seconds, WpaMac};

fn yes() -> bool {
    true
}

/// One `[[machine.interface]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineInterface {
    pub name: IfName,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    #[serde(default)]
    pub link: bool,
    #[serde(default = "yes")]
    pub up: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<IfName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<IfName>>,
    /// ether, vlan, other: the largest MTU the driver accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mtu: Option<u32>,
    /// ether, vlan, other: `if_capabilities` (`IFCAP_*` bits; default:
    /// an em(4)'s checksum, TSO, LRO and VLAN bits for an ether, none else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<u32>,
    /// Extra: `if_capenable` (default: every supported capability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capenable: Option<u32>,
    /// Extra, lagg: `lp_ifcapenable` of each port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_caps: Option<BTreeMap<IfName, u32>>,
    /// wlan: `"open"` or `"wpa"` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<String>,
    /// Extra: explicit if_index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Extra: `SIOCGHWADDR` answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hwaddr: Option<MacAddr>,
    /// Extra: current IF_LLADDR, applied after the ports are replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lladdr: Option<MacAddr>,
    /// Extra: MTU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Extra, wlan: iv_myaddr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub air_mac: Option<MacAddr>,
    /// Extra, wlan: the address wpa_supplicant read, or "none".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpa_mac: Option<WpaMac>,
    /// Extra, wlan: the address the radio uses (default `air_mac`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radio_mac: Option<MacAddr>,
    /// Extra, wlan: wpa_supplicant's consecutive failed connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpa_failures: Option<u32>,
    /// Extra, lagg: sc_primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<IfName>,
    /// Extra: if_link_state of a lagg without ports, or `"unknown"` for
    /// another interface whose driver has not reported a link yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_state: Option<String>,
    /// Extra, lagg: lp_lladdr of each port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_mac: Option<BTreeMap<IfName, MacAddr>>,
    /// ether, vlan: seconds from (re)initialisation with the cable in to
    /// LINK_UP (default 2.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoneg: Option<Seconds>,
    /// wlan: seconds from (re)start with the AP in reach to LINK_UP
    /// (default 2.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assoc: Option<Seconds>,
    /// wlan: wpa_supplicant has a control socket (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpa_ctrl: Option<bool>,
    /// Extra, wlan: wpa_supplicant heard the vap stop and waits for it to
    /// come back (it reads the address again then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpa_disabled: Option<bool>,
    /// ether, vlan: the network its cable leads to ([`super::net::file`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Spanned<String>>,
    /// wlan: the BSS it is (or would be) associated with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bss: Option<Spanned<String>>,
    /// The interface starts with a bound DHCP client, as rc left it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp: Option<bool>,
    /// The interface starts accepting router advertisements, with an
    /// address of its network's prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_rtadv: Option<bool>,
}

impl MachineInterface {
    /// A table with only `name` and `kind` set, every other key at its
    /// default.
    pub fn new(name: IfName, kind: IfKind) -> MachineInterface {
        MachineInterface {
            name,
            kind: kind.to_string(),
            mac: None,
            link: false,
            up: true,
            parent: None,
            proto: None,
            ports: None,
            max_mtu: None,
            capabilities: None,
            capenable: None,
            saved_caps: None,
            security: None,
            index: None,
            hwaddr: None,
            lladdr: None,
            mtu: None,
            air_mac: None,
            wpa_mac: None,
            radio_mac: None,
            wpa_failures: None,
            primary: None,
            link_state: None,
            saved_mac: None,
            autoneg: None,
            assoc: None,
            wpa_ctrl: None,
            wpa_disabled: None,
            network: None,
            bss: None,
            dhcp: None,
            accept_rtadv: None,
        }
    }
}

impl Machine {
    /// Parses a TOML document (kernel file or scenario file) and returns its
    /// `[machine]` table; other top-level keys are ignored, a missing
    /// `[machine]` is an empty machine.
    pub fn parse(text: &str) -> Result<Machine, SimError> {
        parse_document(text).map_err(SimError::new)
    }

    /// The document `[machine]` … as `SimKernel::save` writes it.
    pub fn to_toml(&self) -> Result<String, SimError> {
        to_document(self).map_err(SimError::new)
    }
}

#[derive(Deserialize)]
struct DocumentIn {
    #[serde(default)]
    machine: Machine,
}

#[derive(Serialize)]
struct DocumentOut<'a> {
    machine: &'a Machine,
}

/// The `[machine]` table of a document; an error is one line,
/// `LINE:COLUMN: what` (toml's own rendering spans several lines).
pub(super) fn parse_document(text: &str) -> Result<Machine, String> {
    toml::from_str::<DocumentIn>(text).map(|d| d.machine).map_err(|e| {
        let message = text::one_line(e.message(), 4 * text::ECHO_MAX_CHARS);
        match e.span() {
            Some(span) => format!("{}: {message}", Location::of(text, span.start)),
            None => message,
        }
    })
}

pub(super) fn to_document(m: &Machine) -> Result<String, String> {
    toml::to_string(&DocumentOut { machine: m }).map_err(|e| e.to_string())
}

fn kind_of(s: &str) -> Option<IfKind> {
    match s {
        "ether" => Some(IfKind::Ether),
        "wlan" => Some(IfKind::Wlan),
        "vlan" => Some(IfKind::Vlan),
        "lagg" => Some(IfKind::Lagg),
        "other" => Some(IfKind::Other),
        _ => None,
    }
}

fn link_state_name(l: LinkState) -> &'static str {
    match l {
        LinkState::Unknown => "unknown",
        LinkState::Down => "down",
        LinkState::Up => "up",
    }
}

/// Parses a devctl line `!system=S subsystem=SS type=T [k=v …]` back into
/// an event (`DevdEvent::parse_line`, devd's own tokenizing).
fn parse_event(line: &str) -> Option<DevdEvent> {
    DevdEvent::parse_line(line).ok()
}

struct Entry<'a> {
    mi: &'a MachineInterface,
    name: &'a IfName,
    kind: IfKind,
}

/// Builds a kernel from a machine description (rules in the module doc).
pub(super) fn build(m: &Machine) -> Result<SimKernel, SimError> {
    let mut k = SimKernel::new();
    k.emitting = false;

    k.failover_rx_all = match (m.if_lagg.unwrap_or(true), m.failover_rx_all) {
        (true, v) => Some(v.unwrap_or(0) != 0),
        (false, None) => None,
        (false, Some(_)) => {
            return Err(SimError::new("machine: failover_rx_all given but if_lagg = false"))
        }
    };
    k.radios.extend(m.radios.iter().flatten().cloned());
    k.absent_radios.extend(m.absent_radios.iter().flatten().cloned());
    radio::build(m.radio.iter().flatten(), &mut k)?;
    k.securelevel = m.securelevel.unwrap_or(-1);
    k.if_lagg_ko = m.if_lagg_ko.unwrap_or(true);
    for (path, text) in m.files.iter().flatten() {
        if let Some(why) = super::root::bad_path(path) {
            return Err(SimError::new(format!("machine: files: {}: {why}", text::echo(path))));
        }
        k.files.insert(path.clone(), text.clone());
    }
    if let Some(path) = super::root::file_and_directory(&k.files) {
        return Err(SimError::new(format!(
            "machine: files: {path} is a file and also holds other files"
        )));
    }

    // Names, kinds, and which keys each kind may carry.
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut seen = BTreeSet::new();
    for mi in &m.interface {
        let name = &mi.name;
        if !seen.insert(name.clone()) {
            return Err(SimError::new(format!("interface {name}: listed twice")));
        }
        let kind = kind_of(&mi.kind).ok_or_else(|| {
            SimError::new(format!(
                "interface {name}: unknown kind {:?} (want ether, wlan, lagg or other)",
                mi.kind
            ))
        })?;
        let forbid = |key: &str, present: bool| -> Result<(), SimError> {
            if present {
                Err(SimError::new(format!(
                    "interface {name}: key {key} is not allowed for kind {}",
                    mi.kind
                )))
            } else {
                Ok(())
            }
        };
        let lagg_only = [
            ("proto", mi.proto.is_some()),
            ("ports", mi.ports.is_some()),
            ("primary", mi.primary.is_some()),
            ("saved_mac", mi.saved_mac.is_some()),
            ("saved_caps", mi.saved_caps.is_some()),
        ];
        // A driver's interface records only the state no report has left
        // yet: UNKNOWN (see `refresh_link`); the rest follows the medium.
        if kind != IfKind::Lagg && mi.link_state.as_deref().is_some_and(|l| l != "unknown") {
            return Err(SimError::new(format!(
                "interface {name}: link_state of a {kind} can only be \"unknown\" \
                 (otherwise it follows link and up)"
            )));
        }
        let wlan_only = [
            ("parent", mi.parent.is_some()),
            ("security", mi.security.is_some()),
            ("air_mac", mi.air_mac.is_some()),
            ("wpa_mac", mi.wpa_mac.is_some()),
            ("radio_mac", mi.radio_mac.is_some()),
            ("wpa_failures", mi.wpa_failures.is_some()),
            ("assoc", mi.assoc.is_some()),
            ("wpa_ctrl", mi.wpa_ctrl.is_some()),
            ("wpa_disabled", mi.wpa_disabled.is_some()),
        ];
        match kind {
            IfKind::Lagg => {
                for (key, present) in wlan_only {
                    forbid(key, present)?;
                }
                forbid("max_mtu", mi.max_mtu.is_some())?;
                forbid("capabilities", mi.capabilities.is_some())?;
                forbid("capenable", mi.capenable.is_some())?;
                // A lagg's MAC comes from its first port (`lagg_port_create`);
                // `lladdr` overrides it after the replay.
                forbid("mac", mi.mac.is_some())?;
                forbid("link (a lagg's link comes from its ports)", mi.link)?;
                forbid("autoneg", mi.autoneg.is_some())?;
            }
            IfKind::Wlan => {
                for (key, present) in lagg_only {
                    forbid(key, present)?;
                }
                if mi.parent.is_none() {
                    return Err(SimError::new(format!("interface {name}: a wlan needs parent")));
                }
                // net80211 has its own MTU range (IEEE80211_MTU_MAX).
                forbid("max_mtu", mi.max_mtu.is_some())?;
                forbid("capabilities", mi.capabilities.is_some())?;
                forbid("capenable", mi.capenable.is_some())?;
                forbid("autoneg (a vap associates: assoc)", mi.autoneg.is_some())?;
                if !matches!(mi.security.as_deref(), None | Some("open" | "wpa")) {
                    return Err(SimError::new(format!(
                        "interface {name}: security {:?} (want open or wpa)",
                        mi.security.as_deref().unwrap_or_default()
                    )));
                }
            }
            IfKind::Ether | IfKind::Vlan | IfKind::Other => {
                for (key, present) in lagg_only.into_iter().chain(wlan_only) {
                    forbid(key, present)?;
                }
                if kind == IfKind::Other {
                    forbid("autoneg", mi.autoneg.is_some())?;
                }
                if matches!(kind, IfKind::Ether | IfKind::Vlan) && mi.mac.is_none() {
                    return Err(SimError::new(format!("interface {name}: an {kind} needs mac")));
                }
            }
        }
        if mi.capenable.is_some_and(|c| c & !mi.capabilities.unwrap_or(u32::MAX) != 0) {
            return Err(SimError::new(format!(
                "interface {name}: capenable has bits capabilities lacks"
            )));
        }
        entries.push(Entry { mi, name, kind });
    }

    // if_index: explicit ones first, the rest the lowest free in file order.
    let mut taken = BTreeSet::new();
    for e in &entries {
        if let Some(i) = e.mi.index {
            if i == 0 || !taken.insert(i) {
                return Err(SimError::new(format!(
                    "interface {}: index {i} is 0 or used twice",
                    e.name
                )));
            }
        }
    }
    let mut indices = Vec::new();
    for e in &entries {
        let idx = match e.mi.index {
            Some(i) => i,
            None => {
                let mut i = 1;
                while taken.contains(&i) {
                    i += 1;
                }
                taken.insert(i);
                i
            }
        };
        indices.push(idx);
    }

    // The ifnets, as their drivers attach them.
    for (e, &index) in entries.iter().zip(&indices) {
        let mi = e.mi;
        let name = e.name;
        let mac = mi.mac;
        let mtu = mi.mtu.unwrap_or(ETHERMTU);
        let ifn = match e.kind {
            IfKind::Ether | IfKind::Vlan | IfKind::Other => Ifnet {
                name: name.clone(),
                index,
                kind: e.kind,
                lladdr: mac.unwrap_or(MacAddr::ZERO),
                hwaddr: if e.kind == IfKind::Other { None } else { mac },
                up: mi.up,
                medium: mi.link,
                link: LinkState::Down,
                mtu,
                max_mtu: mi.max_mtu,
                capabilities: mi.capabilities.unwrap_or(if e.kind == IfKind::Ether {
                    ETHER_CAPS
                } else {
                    0
                }),
                caps: mi.capenable.unwrap_or(
                    mi.capabilities.unwrap_or(if e.kind == IfKind::Ether { ETHER_CAPS } else { 0 }),
                ),
                vap: None,
                lagg: None,
                link_due: None,
                link_delay: None,
                pseudo: None,
            },
            IfKind::Wlan => {
                let Some(parent) = mi.parent.clone() else {
                    return Err(SimError::new(format!("interface {name}: a wlan needs parent")));
                };
                if seen.contains(&parent) {
                    return Err(SimError::new(format!(
                        "interface {name}: parent {parent} is an interface, not a radio"
                    )));
                }
                k.radios.insert(parent.clone());
                let mac = mac.unwrap_or_else(|| factory_mac(&parent));
                Ifnet {
                    name: name.clone(),
                    index,
                    kind: IfKind::Wlan,
                    lladdr: mac,
                    hwaddr: Some(mac),
                    up: mi.up,
                    medium: mi.link,
                    link: LinkState::Down,
                    mtu,
                    max_mtu: None,
                    capabilities: 0,
                    caps: 0,
                    vap: Some(Vap {
                        wpa: Some(mac),
                        disabled: mi.wpa_disabled.unwrap_or(false),
                        failures: mi.wpa_failures.unwrap_or(0),
                        ..Vap::new(
                            &parent,
                            mac,
                            VapTemplate {
                                medium: mi.link,
                                open: mi.security.as_deref() == Some("open"),
                                ctrl: mi.wpa_ctrl.unwrap_or(true),
                                link_delay: None,
                            },
                        )
                    }),
                    lagg: None,
                    link_due: None,
                    link_delay: None,
                    pseudo: None,
                }
            }
            IfKind::Lagg => {
                let proto = match mi.proto.as_deref() {
                    None => LaggProto::Failover,
                    Some(p) => p
                        .parse::<LaggProto>()
                        .map_err(|err| SimError::new(format!("interface {name}: proto: {err}")))?,
                };
                Ifnet {
                    name: name.clone(),
                    index,
                    kind: IfKind::Lagg,
                    lladdr: MacAddr::ZERO,
                    hwaddr: Some(MacAddr::ZERO),
                    up: mi.up,
                    medium: false,
                    link: LinkState::Unknown,
                    mtu,
                    vap: None,
                    max_mtu: None,
                    // `lagg_clone_create`'s IFCAP_HWSTATS, until a port
                    // joins or leaves (see the port-less `link_state` below).
                    capabilities: crate::abi::IFCAP_HWSTATS,
                    caps: crate::abi::IFCAP_HWSTATS,
                    lagg: Some(Lagg { proto, ports: Vec::new(), primary: None }),
                    link_due: None,
                    link_delay: None,
                    pseudo: None,
                }
            }
        };
        k.ifnets.insert(name.clone(), ifn);
    }
    if let Some(r) = k.radios.iter().chain(&k.absent_radios).find(|r| seen.contains(*r)) {
        return Err(SimError::new(format!("radio {r} is also listed as an interface")));
    }
    if let Some(r) = k.absent_radios.iter().find(|r| k.radios.contains(*r)) {
        return Err(SimError::new(format!(
            "machine: radio {r} is absent (absent_radios) but also a radio or a wlan's parent"
        )));
    }
    for e in &entries {
        if e.kind != IfKind::Lagg {
            k.refresh_link(e.name);
        }
    }

    // Replay the ports, as `ifconfig lagg0 laggport A laggport B` would.
    for (pos, e) in entries.iter().enumerate() {
        for port in e.mi.ports.iter().flatten() {
            match entries.iter().position(|x| x.name == port) {
                Some(i) if i < pos => {}
                Some(_) => {
                    return Err(SimError::new(format!(
                        "interface {}: port {port} must be listed before its lagg",
                        e.name
                    )))
                }
                None => {
                    return Err(SimError::new(format!(
                        "interface {}: port {port} is not a listed interface",
                        e.name
                    )))
                }
            }
            k.lagg_port_create(e.name, port).map_err(|errno| {
                SimError::new(format!(
                    "interface {}: SIOCSLAGGPORT {port}: {errno} ({})",
                    e.name,
                    super::errno_name(errno)
                ))
            })?;
        }
    }

    // State overrides (the extra keys).
    for e in &entries {
        let mi = e.mi;
        let name = e.name;
        let link_state = match mi.link_state.as_deref() {
            None => None,
            Some("unknown") => Some(LinkState::Unknown),
            Some("down") => Some(LinkState::Down),
            Some("up") => Some(LinkState::Up),
            Some(other) => {
                return Err(SimError::new(format!(
                    "interface {name}: link_state {other:?} (want unknown, down or up)"
                )))
            }
        };
        let Some(ifn) = k.ifnets.get_mut(name) else {
            continue;
        };
        if ifn.lagg.is_none() && link_state == Some(LinkState::Unknown) {
            ifn.link = LinkState::Unknown;
        }
        if let Some(v) = mi.autoneg.or(mi.assoc) {
            ifn.link_delay = Some(v.0);
        }
        if let Some(v) = mi.lladdr {
            ifn.lladdr = v;
        }
        if let Some(v) = mi.hwaddr {
            ifn.hwaddr = Some(v);
        }
        if let Some(vap) = ifn.vap.as_mut() {
            if let Some(v) = mi.air_mac {
                vap.air = v;
            }
            vap.radio = mi.radio_mac.unwrap_or(vap.air);
            if let Some(v) = mi.wpa_mac {
                vap.wpa = v.mac();
            }
        }
        if let Some(sc) = ifn.lagg.as_mut() {
            if let Some(mtu) = mi.mtu {
                ifn.mtu = mtu;
            }
            if let Some(p) = &mi.primary {
                if !sc.ports.iter().any(|x| &x.name == p) {
                    return Err(SimError::new(format!(
                        "interface {name}: primary {p} is not one of its ports"
                    )));
                }
                sc.primary = Some(p.clone());
            }
            for (p, caps) in mi.saved_caps.iter().flatten() {
                match sc.ports.iter_mut().find(|x| &x.name == p) {
                    Some(port) => port.caps = *caps,
                    None => {
                        return Err(SimError::new(format!(
                            "interface {name}: saved_caps for {p}, which is not one of its ports"
                        )))
                    }
                }
            }
            for (p, mac) in mi.saved_mac.iter().flatten() {
                match sc.ports.iter_mut().find(|x| &x.name == p) {
                    Some(port) => port.lladdr = *mac,
                    None => {
                        return Err(SimError::new(format!(
                            "interface {name}: saved_mac for {p}, which is not one of its ports"
                        )))
                    }
                }
            }
            if let Some(ls) = link_state {
                if !sc.ports.is_empty() {
                    return Err(SimError::new(format!(
                        "interface {name}: link_state is only for a lagg without ports \
                         (otherwise it follows the ports)"
                    )));
                }
                ifn.link = ls;
                // A lagg whose link left UNKNOWN had a port once, and
                // `lagg_capabilities` cleared its capabilities when the
                // last one left.
                if ls != LinkState::Unknown {
                    ifn.capabilities = 0;
                    ifn.caps = 0;
                }
            }
        }
    }
    let mut order: Vec<(u32, IfName, IfKind)> =
        k.ifnets.values().map(|i| (i.index, i.name.clone(), i.kind)).collect();
    order.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (_, n, kind) in &order {
        if *kind != IfKind::Lagg {
            k.refresh_link(n);
        }
    }
    // A port-less lagg keeps its recorded state (UNKNOWN until the first
    // `lagg_linkstate`); the others follow their ports.
    for (_, n, kind) in &order {
        let has_ports =
            k.ifnets.get(n).and_then(|i| i.lagg.as_ref()).is_some_and(|sc| !sc.ports.is_empty());
        if *kind == IfKind::Lagg && has_ports {
            k.lagg_linkstate(n);
        }
    }

    // A machine file describes a settled world: every link that can come
    // up is up, without events, and the clock starts at 0.
    k.settle();
    k.now = 0;
    super::net::file::build(&mut k, m)?;

    for line in m.events.iter().flatten() {
        let ev = parse_event(line).ok_or_else(|| {
            SimError::new(format!(
                "machine: events: {line:?} is not a devctl line like \
                                   \"!system=IFNET subsystem=em0 type=LINK_UP\""
            ))
        })?;
        k.events.push(ev);
    }
    k.emitting = true;
    Ok(k)
}

/// Writes a kernel as a machine description that rebuilds it exactly.
/// Non-lagg interfaces come first (ports must precede their lagg), each
/// group in if_index order, with explicit indices.
pub(super) fn describe(k: &SimKernel) -> Machine {
    let mut ifs: Vec<&Ifnet> = k.ifnets.values().collect();
    ifs.sort_by_key(|i| (i.kind == IfKind::Lagg, i.index));
    let mut interface = Vec::new();
    for ifn in ifs {
        let mut mi = MachineInterface::new(ifn.name.clone(), ifn.kind);
        mi.index = Some(ifn.index);
        mi.up = ifn.up;
        mi.mtu = Some(ifn.mtu);
        mi.hwaddr = ifn.hwaddr;
        mi.lladdr = Some(ifn.lladdr);
        mi.max_mtu = ifn.max_mtu;
        if matches!(ifn.kind, IfKind::Ether | IfKind::Vlan | IfKind::Other) {
            let default = if ifn.kind == IfKind::Ether { ETHER_CAPS } else { 0 };
            mi.capabilities = (ifn.capabilities != default).then_some(ifn.capabilities);
            mi.capenable = (ifn.caps != ifn.capabilities).then_some(ifn.caps);
        }
        if let Some(sc) = &ifn.lagg {
            mi.proto = Some(sc.proto.to_string());
            // Primary first, so the replay makes it primary even without
            // the explicit `primary` key.
            let mut ports: Vec<IfName> = Vec::new();
            if let Some(p) = &sc.primary {
                ports.push(p.clone());
            }
            for p in &sc.ports {
                if sc.primary.as_ref() != Some(&p.name) {
                    ports.push(p.name.clone());
                }
            }
            mi.ports = Some(ports);
            mi.primary = sc.primary.clone();
            if sc.ports.is_empty() {
                mi.link_state = Some(link_state_name(ifn.link).to_owned());
            } else {
                mi.saved_mac = Some(sc.ports.iter().map(|p| (p.name.clone(), p.lladdr)).collect());
                mi.saved_caps = Some(sc.ports.iter().map(|p| (p.name.clone(), p.caps)).collect());
            }
        } else {
            mi.link = ifn.medium;
            if ifn.link == LinkState::Unknown {
                mi.link_state = Some(link_state_name(ifn.link).to_owned());
            }
            // A port's `mac` is its lp_lladdr, which the replay saves.
            let saved = k.lagg_of(&ifn.name).and_then(|l| {
                k.ifnets
                    .get(&l)
                    .and_then(|li| li.lagg.as_ref())
                    .and_then(|sc| sc.ports.iter().find(|p| p.name == ifn.name))
                    .map(|p| p.lladdr)
            });
            mi.mac = Some(saved.unwrap_or(ifn.lladdr));
        }
        if let Some(v) = &ifn.vap {
            mi.parent = Some(v.parent.clone());
            mi.security = v.open.then(|| "open".to_owned());
            mi.air_mac = Some(v.air);
            mi.radio_mac = (v.radio != v.air).then_some(v.radio);
            mi.wpa_mac = Some(WpaMac::from(v.wpa));
            mi.wpa_failures = (v.failures != 0).then_some(v.failures);
            mi.wpa_ctrl = (!v.ctrl).then_some(false);
            mi.wpa_disabled = v.disabled.then_some(true);
            mi.assoc = ifn.link_delay.map(Seconds);
        } else if ifn.lagg.is_none() {
            mi.autoneg = ifn.link_delay.map(Seconds);
        }
        interface.push(mi);
    }
    let mut m = Machine {
        if_lagg: if k.failover_rx_all.is_none() { Some(false) } else { None },
        failover_rx_all: k.failover_rx_all.map(u32::from),
        securelevel: (k.securelevel != -1).then_some(k.securelevel),
        if_lagg_ko: (!k.if_lagg_ko).then_some(false),
        radios: if k.radios.is_empty() { None } else { Some(k.radios.iter().cloned().collect()) },
        absent_radios: if k.absent_radios.is_empty() {
            None
        } else {
            Some(k.absent_radios.iter().cloned().collect())
        },
        radio: radio::describe(k),
        events: if k.events.is_empty() {
            None
        } else {
            Some(k.events.iter().map(|e| e.to_string()).collect())
        },
        interface,
        files: if k.files.is_empty() { None } else { Some(k.files.clone()) },
        ..Machine::default()
    };
    super::net::file::describe(k, &mut m);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Errno, Kernel};
    use crate::sim::fixture::{ether, n, Laptop, E};

    const ETHER: &str =
        "[[machine.interface]]\nname = \"em0\"\nkind = \"ether\"\nmac = \"00:11:22:33:44:55\"\n";

    fn err(text: &str) -> String {
        match Machine::parse(text).and_then(|m| SimKernel::from_machine(&m)) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn invalid_machines_name_the_interface() {
        let cases = [
            (format!("{ETHER}[[machine.interface]]\nname = \"x0\"\nkind = \"tap\"\n"), "interface x0: unknown kind"),
            (format!("{ETHER}{ETHER}"), "interface em0: listed twice"),
            (format!("[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nports = [\"em0\"]\n{ETHER}"),
             "interface lagg0: port em0 must be listed before its lagg"),
            (format!("{ETHER}[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nports = [\"em1\"]\n"),
             "interface lagg0: port em1 is not a listed interface"),
            (ETHER.replace("mac = ", "macc = "), "unknown field `macc`"),
            ("[[machine.interface]]\nname = \"wlan0\"\nkind = \"wlan\"\n".to_owned(), "interface wlan0: a wlan needs parent"),
            ("[[machine.interface]]\nname = \"em0\"\nkind = \"ether\"\n".to_owned(), "interface em0: an ether needs mac"),
            ("[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nmac = \"00:11:22:33:44:55\"\n".to_owned(),
             "interface lagg0: key mac is not allowed"),
            (format!("{ETHER}parent = \"iwn0\"\n"), "interface em0: key parent is not allowed"),
            (format!("{ETHER}[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nports = [\"em0\", \"em0\"]\n"),
             "interface lagg0: SIOCSLAGGPORT em0: File exists (EEXIST)"),
            (format!("{ETHER}[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nproto = \"fec\"\n"),
             "interface lagg0: proto"),
            (format!("{ETHER}index = 2\n[[machine.interface]]\nname = \"em1\"\nkind = \"ether\"\nmac = \"00:11:22:33:44:55\"\nindex = 2\n"),
             "interface em1: index 2"),
            (format!("[machine]\nif_lagg = false\nfailover_rx_all = 1\n{ETHER}"), "if_lagg = false"),
            (format!("[machine]\nevents = [\"LINK_UP em0\"]\n{ETHER}"), "events"),
            (format!("[machine]\nradios = [\"em0\"]\n{ETHER}"), "radio em0 is also listed"),
        ];
        for (text, want) in cases {
            let got = err(&text);
            assert!(got.contains(want), "want {want:?} in {got:?}");
        }
    }

    #[test]
    fn bad_names_and_macs_are_reported_on_one_line_with_line_and_column() {
        let lagg = "[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\n";
        let cases = [
            (ETHER.replace("00:11:22:33:44:55", "00:11:22:33:44"), "4:7:", "not a MAC"),
            (ETHER.replace("\"em0\"", "\"em0;\""), "2:8:", "contains ';'"),
            (format!("{ETHER}{lagg}ports = [\"em0\", \"0x\"]\n"), "8:9:", "'0'"),
            (format!("{ETHER}{lagg}saved_mac = {{ em0 = \"zz\" }}\n"), "8:", "not a MAC"),
            (
                "[[machine.interface]]\nname = \"wlan0\"\nkind = \"wlan\"\nparent = \"iwn0\"\n\
                 wpa_mac = \"nope\"\n"
                    .to_owned(),
                "5:11:",
                "not a MAC",
            ),
            ("[machine]\nradios = [\"\"]\n".to_owned(), "2:10:", "empty"),
        ];
        for (text, at, why) in cases {
            let got = err(&text);
            assert!(got.contains(at) && got.contains(why), "want {at:?}, {why:?} in {got:?}");
            assert!(!got.contains('\n'), "{got:?} is not one line");
        }
    }

    #[test]
    fn wpa_mac_is_a_mac_or_none() {
        for (text, want) in [
            ("none", WpaMac::NotRunning),
            ("00:11:22:33:44:55", WpaMac::Read(MacAddr([0, 0x11, 0x22, 0x33, 0x44, 0x55]))),
        ] {
            let w = WpaMac::try_from(text.to_owned()).unwrap();
            assert_eq!((w, w.to_string().as_str()), (want, text));
            assert_eq!(WpaMac::from(w.mac()), w);
        }
    }

    #[test]
    fn indices_are_file_order_unless_given() {
        let text = format!(
            "{ETHER}index = 1\n[[machine.interface]]\nname = \"em1\"\nkind = \"ether\"\nmac = \"00:11:22:33:44:56\"\n\
             [[machine.interface]]\nname = \"em2\"\nkind = \"ether\"\nmac = \"00:11:22:33:44:57\"\nindex = 2\n"
        );
        let k = SimKernel::from_machine(&Machine::parse(&text).unwrap()).unwrap();
        let idx: Vec<u32> =
            ["em0", "em1", "em2"].iter().map(|n| k.interface(n).unwrap().index).collect();
        assert_eq!(idx, [1, 3, 2]);
    }

    #[test]
    fn link_needs_medium_and_up() {
        let mut em0 = ether("em0", E);
        (em0.link, em0.up) = (true, false);
        let mut k =
            SimKernel::from_machine(&Machine { interface: vec![em0], ..Machine::default() })
                .unwrap();
        assert_eq!(k.interface("em0").unwrap().link, LinkState::Down);
        assert_eq!(
            k.interface("em0").unwrap().hwaddr,
            k.interface("em0").map(|i| Some(i.mac)).unwrap()
        );
        k.set_up(&n("em0"), true).unwrap();
        // Autonegotiation takes its time (`autoneg`, 2.5 s by default).
        assert_eq!(k.interface("em0").unwrap().link, LinkState::Down);
        k.advance(2_499);
        assert_eq!(k.interface("em0").unwrap().link, LinkState::Down);
        k.advance(2_500);
        assert_eq!(k.interface("em0").unwrap().link, LinkState::Up);
    }

    #[test]
    fn if_lagg_not_loaded() {
        let machine = Machine { if_lagg: Some(false), ..Machine::default() };
        let mut k = SimKernel::from_machine(&machine).unwrap();
        assert_eq!(k.failover_rx_all().unwrap(), None);
        assert_eq!(k.create_lagg(&n("lagg0")).unwrap_err().errno_value(), Some(Errno::EINVAL));
        assert_eq!(k.set_failover_rx_all(true).unwrap_err().errno_value(), Some(Errno::ENOENT));
        let again = SimKernel::from_machine(&k.to_machine()).unwrap();
        assert_eq!(again, k);
    }

    #[test]
    fn saved_document_uses_machine_interface_tables_and_extra_keys() {
        let mut k = Laptop::new().wlan_factory_mac().build();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        let doc = k.to_machine().to_toml().unwrap();
        for want in [
            "[[machine.interface]]",
            "air_mac = ",
            "wpa_mac = ",
            "primary = \"em0\"",
            "saved_mac",
            "index = 3",
            "events = [",
            "failover_rx_all = 0",
            "radios = [\"iwn0\"]",
        ] {
            assert!(doc.contains(want), "{want:?} missing from\n{doc}");
        }
        let back = SimKernel::from_machine(&Machine::parse(&doc).unwrap()).unwrap();
        assert_eq!(back, k, "{doc}");
        // em0 LINK_DOWN only: wlan0, uncloned but joined while UP, has its
        // link (see `if_setlladdr`), so lagg0 fails over.
        assert_eq!(back.pending_events().len(), 1);
    }

    #[test]
    fn event_lines_parse() {
        assert_eq!(
            parse_event("!system=IFNET subsystem=em0 type=LINK_UP"),
            Some(DevdEvent::new("IFNET", "em0", "LINK_UP"))
        );
        assert_eq!(parse_event("!system=IFNET type=LINK_UP"), None);
    }

    /// `[machine.files]` is part of the machine: kept through a save and a
    /// load, readable through the machine's root, and refused with its
    /// path when a key is not an absolute file path.
    #[test]
    fn machine_files_round_trip_and_bad_paths_are_refused() {
        use crate::root::Root;
        let text = format!(
            "[machine.files]\n\"/etc/rc.conf\" = \"kld_list=\\\"if_iwn\\\"\\n\"\n\
             \"/etc/devd/x.conf\" = \"\"\n{ETHER}"
        );
        let k = SimKernel::from_machine(&Machine::parse(&text).unwrap()).unwrap();
        assert_eq!(
            k.root().read("/etc/rc.conf").unwrap().as_deref(),
            Some("kld_list=\"if_iwn\"\n")
        );
        assert_eq!(k.root().list("/etc/devd").unwrap(), Some(vec!["x.conf".to_owned()]));
        let doc = k.to_machine().to_toml().unwrap();
        let back = SimKernel::from_machine(&Machine::parse(&doc).unwrap()).unwrap();
        assert_eq!(back, k, "{doc}");
        // Without the table the machine has no files at all.
        let bare = SimKernel::from_machine(&Machine::parse(ETHER).unwrap()).unwrap();
        assert_eq!(bare.root().read("/etc/rc.conf").unwrap(), None);
        assert!(!bare.to_machine().to_toml().unwrap().contains("files"));
        for (key, why) in [
            ("etc/rc.conf", "\"etc/rc.conf\": not an absolute path"),
            ("/etc/", "\"/etc/\": names a directory, not a file"),
            ("/etc/../x", "\"/etc/../x\": has an empty, . or .. part"),
        ] {
            let text = format!("[machine.files]\n\"{key}\" = \"\"\n");
            assert_eq!(err(&text), format!("machine: files: {why}"));
        }
        let both = "[machine.files]\n\"/etc/a\" = \"\"\n\"/etc/a/b\" = \"\"\n";
        assert_eq!(err(both), "machine: files: /etc/a is a file and also holds other files");
    }
}
