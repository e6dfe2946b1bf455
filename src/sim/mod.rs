//! A simulated FreeBSD kernel behind the same [`Kernel`] trait as the real
//! backend, so scenario tests can drive lagghook on Linux CI.
//!
//! What it owns: a deterministic in-memory model of the ifnets lagghook
//! touches (Ethernet NICs, net80211 vaps, lagg(4) interfaces), the rules of
//! `sys/net/if_lagg.c`, `sys/net/if.c` and `sys/net80211/*` that decide
//! their state, and the devd(8) events the kernel would emit. What it does
//! not own: policy (that is `plan`), and anything lagghook does not observe
//! (addresses, routes, capabilities, multicast, counters).
//!
//! Every rule names the FreeBSD function it models. Source read: FreeBSD
//! main 2023 (`gmshake/freebsd-src`) for `if_lagg.c` / `if.c`, FreeBSD 14
//! (`sobomax/freebsd14_vendor`) for net80211; see
//! `/work/shared/reference/freebsd-net.md`.
//!
//! Deterministic by design: `BTreeMap`/`Vec` only, no clock, no randomness
//! (the seeded fault injector lives in [`fault`]).
//!
//! Fidelity notes and chosen divergences:
//! - Link state changes are applied synchronously, in the order the kernel
//!   code calls `if_link_state_change`, and never coalesced. On FreeBSD
//!   `do_link_state_change` runs from a taskqueue and may coalesce a quick
//!   down/up ("link states coalesced"), so a real kernel can emit fewer
//!   events than the simulator, never more.
//! - A port's link change is reported before the lagg aggregate change it
//!   causes (`do_link_state_change` calls `lagg_linkstate_p` before
//!   `devctl_notify`, and the lagg's own change is queued after).
//! - Only `IFNET` events are emitted; the `ETHERNET IF IFATTACH` that
//!   `ether_ifattach` also sends is left out (no lagghook rule matches it).
//! - A destroyed interface does not report LINK_DOWN before its DETACH
//!   (not confirmed on FreeBSD either way).
//! - Link state of an Ethernet NIC is `medium && IFF_UP`; of a wlan vap
//!   `AP in reach && IFF_UP && wpa_supplicant's address == iv_myaddr`
//!   (the last term is inferred from hostap, see [`SimKernel::air_mac`]).
//! - wlan drivers that allow only one vap per radio (`ic_vap_create`
//!   failing with EIO) are not modelled: any number of vaps may share a
//!   radio.
//! - The "AP in reach" medium is kept per vap, not per radio.

mod fault;
mod machine;

pub use fault::Faulty;
pub use machine::{Machine, MachineInterface};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::domain::event::{DevdEvent, IfnetEventKind};
use crate::domain::model::{
    IfKind, IfName, Interface, LaggPort, LaggProto, LaggStatus, LinkState, MacAddr, PortFlags,
};
use crate::kernel::{Errno, Kernel, KernelError, Op};
use crate::sys::abi::{
    ETHERMTU, IEEE80211_MTU_MAX, IEEE80211_MTU_MIN, LAGG_MAX_PORTS, LAGG_PROTO_MAX,
};

/// A problem with the simulated world itself (bad machine file, impossible
/// happening), as opposed to a kernel refusal, which is a [`KernelError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError(String);

impl SimError {
    fn new(msg: impl Into<String>) -> SimError {
        SimError(msg.into())
    }

    /// The one-line explanation.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SimError {}

/// net80211 state of a vap (`struct ieee80211vap`) plus its wpa_supplicant.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Vap {
    /// The radio (`ic_name`, `net.wlan.N.%parent`).
    parent: IfName,
    /// `iv_myaddr`: the address the vap uses on the air.
    air: MacAddr,
    /// The address wpa_supplicant read when it started; `None` when no
    /// wpa_supplicant runs for this vap.
    wpa: Option<MacAddr>,
}

/// One lagg member (`struct lagg_port`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Port {
    name: IfName,
    /// `lp_lladdr`: the port's address when it joined.
    lladdr: MacAddr,
}

/// `struct lagg_softc`, the parts lagghook can observe.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lagg {
    proto: LaggProto,
    /// `sc_ports`, kept sorted by ascending `if_index` (`lagg_port_create`).
    ports: Vec<Port>,
    /// `sc_primary`.
    primary: Option<IfName>,
}

/// One `struct ifnet`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ifnet {
    name: IfName,
    index: u32,
    kind: IfKind,
    /// `IF_LLADDR`.
    lladdr: MacAddr,
    /// `if_hw_addr` (`SIOCGHWADDR`); `None` for non-Ethernet types (ENODEV).
    hwaddr: Option<MacAddr>,
    /// `IFF_UP` (`IFF_DRV_RUNNING` is taken to follow it).
    up: bool,
    /// The physical medium: cable in (ether), AP in reach (wlan).
    medium: bool,
    /// `if_link_state`, as last reported.
    link: LinkState,
    mtu: u32,
    vap: Option<Vap>,
    lagg: Option<Lagg>,
}

/// The simulated kernel. See the module documentation for what it models.
#[derive(Debug, Clone)]
pub struct SimKernel {
    ifnets: BTreeMap<IfName, Ifnet>,
    /// 802.11 devices (`net.wlan.devices`): every parent ever named by a
    /// vap, plus the machine file's `radios` list. A radio outlives its
    /// vaps: destroying wlan0 does not detach iwn0.
    radios: BTreeSet<IfName>,
    /// `net.link.lagg.failover_rx_all`; `None` when if_lagg is not loaded.
    failover_rx_all: Option<bool>,
    /// devctl events not yet taken.
    events: Vec<DevdEvent>,
    /// False while a machine is being built: building is not an event.
    emitting: bool,
    writes: u64,
    calls: Vec<String>,
}

impl PartialEq for SimKernel {
    /// The state of the world; the call record (`writes`, `calls`) is not
    /// state.
    fn eq(&self, other: &SimKernel) -> bool {
        self.ifnets == other.ifnets
            && self.radios == other.radios
            && self.failover_rx_all == other.failover_rx_all
            && self.events == other.events
    }
}

impl Eq for SimKernel {}

impl Default for SimKernel {
    fn default() -> SimKernel {
        SimKernel::new()
    }
}

/// A radio's factory MAC (`ic_macaddr`): a fixed function of the radio's
/// name (FNV-1a), with the group and locally-administered bits cleared so
/// it is a universally administered unicast address, as burned-in ones are.
pub fn factory_mac(parent: &IfName) -> MacAddr {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parent.as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    let mut mac = [b[0] & 0xfc, b[1], b[2], b[3], b[4], b[5]];
    if mac == [0; 6] {
        mac[5] = 1;
    }
    MacAddr(mac)
}

/// Something the world does to the machine (not lagghook): a cable, an
/// access point, a card or driver coming and going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    /// `unplug IF`: Ethernet cable out.
    Unplug(IfName),
    /// `plug IF`: Ethernet cable in.
    Plug(IfName),
    /// `disassociate IF`: the vap's access point out of reach.
    Disassociate(IfName),
    /// `associate IF`: the vap's access point in reach again.
    Associate(IfName),
    /// `destroy IF`: the ifnet is destroyed (card pulled, driver reload,
    /// `ifconfig IF destroy` by someone else).
    Destroy(IfName),
    /// `create-wlan IF PARENT [MAC]`: rc created a vap (`wlans_PARENT`,
    /// optional `wlanaddr`), configured it and started wpa_supplicant.
    CreateWlan { name: IfName, parent: IfName, mac: Option<MacAddr> },
    /// `attach-ether IF MAC`: an Ethernet NIC attached (USB NIC plugged).
    AttachEther { name: IfName, mac: MacAddr },
}

impl Happening {
    /// The interface the happening is about.
    pub fn ifname(&self) -> &IfName {
        match self {
            Happening::Unplug(n)
            | Happening::Plug(n)
            | Happening::Disassociate(n)
            | Happening::Associate(n)
            | Happening::Destroy(n) => n,
            Happening::CreateWlan { name, .. } | Happening::AttachEther { name, .. } => name,
        }
    }
}

impl fmt::Display for Happening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Happening::Unplug(n) => write!(f, "unplug {n}"),
            Happening::Plug(n) => write!(f, "plug {n}"),
            Happening::Disassociate(n) => write!(f, "disassociate {n}"),
            Happening::Associate(n) => write!(f, "associate {n}"),
            Happening::Destroy(n) => write!(f, "destroy {n}"),
            Happening::CreateWlan { name, parent, mac: None } => {
                write!(f, "create-wlan {name} {parent}")
            }
            Happening::CreateWlan { name, parent, mac: Some(m) } => {
                write!(f, "create-wlan {name} {parent} {m}")
            }
            Happening::AttachEther { name, mac } => write!(f, "attach-ether {name} {mac}"),
        }
    }
}

impl FromStr for Happening {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Happening, SimError> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let bad = |why: &str| SimError::new(format!("happening {s:?}: {why}"));
        let name = |w: &str| IfName::new(w).map_err(|e| bad(&format!("{w:?}: {e}")));
        let mac = |w: &str| w.parse::<MacAddr>().map_err(|e| bad(&e.to_string()));
        let usage = "want one of: unplug IF, plug IF, disassociate IF, associate IF, \
                     destroy IF, create-wlan IF PARENT [MAC], attach-ether IF MAC";
        match words.as_slice() {
            ["unplug", n] => Ok(Happening::Unplug(name(n)?)),
            ["plug", n] => Ok(Happening::Plug(name(n)?)),
            ["disassociate", n] => Ok(Happening::Disassociate(name(n)?)),
            ["associate", n] => Ok(Happening::Associate(name(n)?)),
            ["destroy", n] => Ok(Happening::Destroy(name(n)?)),
            ["create-wlan", n, p] => {
                Ok(Happening::CreateWlan { name: name(n)?, parent: name(p)?, mac: None })
            }
            ["create-wlan", n, p, m] => {
                Ok(Happening::CreateWlan { name: name(n)?, parent: name(p)?, mac: Some(mac(m)?) })
            }
            ["attach-ether", n, m] => Ok(Happening::AttachEther { name: name(n)?, mac: mac(m)? }),
            _ => Err(bad(usage)),
        }
    }
}

/// Name of an errno for the call record ("EEXIST", or "errno 5").
fn errno_name(e: Errno) -> String {
    e.name().map_or_else(|| format!("errno {}", e.code()), str::to_owned)
}

/// Does `name` match a simple cloner `prefix` followed by a unit number,
/// as `ifc_simple_match` (`sys/net/if_clone.c`) requires?
fn cloner_matches(prefix: &str, name: &IfName) -> bool {
    match name.as_str().strip_prefix(prefix) {
        Some(unit) => !unit.is_empty() && unit.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

impl SimKernel {
    /// An empty machine with if_lagg loaded and
    /// `net.link.lagg.failover_rx_all` = 0 (its default, `sys/net/if_lagg.c`).
    pub fn new() -> SimKernel {
        SimKernel {
            ifnets: BTreeMap::new(),
            radios: BTreeSet::new(),
            failover_rx_all: Some(false),
            events: Vec::new(),
            emitting: true,
            writes: 0,
            calls: Vec::new(),
        }
    }

    /// Builds the machine a [`Machine`] describes (see [`machine`] for the
    /// rules of construction). No events are emitted while building.
    pub fn from_machine(m: &Machine) -> Result<SimKernel, SimError> {
        machine::build(m)
    }

    /// The machine description that rebuilds this kernel exactly
    /// (`from_machine(&k.to_machine()) == k`), with every state the plain
    /// scenario keys do not cover written as extra keys.
    pub fn to_machine(&self) -> Machine {
        machine::describe(self)
    }

    /// Reads a TOML file and builds its `[machine]` table; other top-level
    /// keys (a scenario's `description`, `config`, `step`) are ignored, so
    /// every scenario file is also a kernel file.
    pub fn load(path: &Path) -> Result<SimKernel, SimError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimError::new(format!("{}: {e}", path.display())))?;
        let m = machine::parse_document(&text)
            .map_err(|e| SimError::new(format!("{}: {e}", path.display())))?;
        SimKernel::from_machine(&m).map_err(|e| SimError::new(format!("{}: {e}", path.display())))
    }

    /// Writes the machine as TOML, atomically: a temporary file in the same
    /// directory, then `rename(2)` over `path`.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        let text = machine::to_document(&self.to_machine())
            .map_err(|e| SimError::new(format!("{}: {e}", path.display())))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let file = path
            .file_name()
            .ok_or_else(|| SimError::new(format!("{}: not a file name", path.display())))?;
        let tmp = dir.join(format!(".{}.tmp.{}", file.to_string_lossy(), std::process::id()));
        let io = |e: std::io::Error| SimError::new(format!("{}: {e}", tmp.display()));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            SimError::new(format!("rename {} to {}: {e}", tmp.display(), path.display()))
        })
    }

    /// Why `name` cannot be the medium of a happening needing `kind`.
    fn require_kind(&self, name: &IfName, kind: IfKind) -> Result<(), String> {
        match self.ifnets.get(name).map(|i| i.kind) {
            None => Err("no such interface".into()),
            Some(k) if k == kind => Ok(()),
            Some(k) => Err(format!("{name} is a {k} interface, not {kind}")),
        }
    }

    /// The world acting. Emits the devd events FreeBSD would.
    pub fn happen(&mut self, h: &Happening) -> Result<(), SimError> {
        let fail = |why: String| Err(SimError::new(format!("{h}: {why}")));
        match h {
            Happening::Unplug(n) | Happening::Plug(n) => {
                self.require_kind(n, IfKind::Ether).or_else(fail)?;
                self.set_medium(n, matches!(h, Happening::Plug(_)));
            }
            Happening::Disassociate(n) | Happening::Associate(n) => {
                self.require_kind(n, IfKind::Wlan).or_else(fail)?;
                self.set_medium(n, matches!(h, Happening::Associate(_)));
            }
            Happening::Destroy(n) => {
                let Some(kind) = self.ifnets.get(n).map(|i| i.kind) else {
                    return fail("no such interface".into());
                };
                if kind == IfKind::Lagg {
                    self.lagg_clone_destroy(n);
                } else {
                    self.if_detach(n);
                }
            }
            Happening::CreateWlan { name, parent, mac } => {
                if self.ifnets.contains_key(name) {
                    return fail(format!("{name} already exists"));
                }
                if self.ifnets.contains_key(parent) {
                    return fail(format!("{parent} is an ifnet, not a radio"));
                }
                self.radios.insert(parent.clone());
                let mac = mac.unwrap_or_else(|| factory_mac(parent));
                // rc: wlan_up creates the vap, ifn_start starts
                // wpa_supplicant (which reads the address) and brings the
                // vap up (libexec/rc/network.subr, rc.d/wpa_supplicant).
                self.attach(Ifnet {
                    name: name.clone(),
                    index: self.lowest_free_index(),
                    kind: IfKind::Wlan,
                    lladdr: mac,
                    hwaddr: Some(mac),
                    up: true,
                    medium: true,
                    link: LinkState::Down,
                    mtu: ETHERMTU,
                    vap: Some(Vap { parent: parent.clone(), air: mac, wpa: Some(mac) }),
                    lagg: None,
                });
                self.refresh_link(name);
            }
            Happening::AttachEther { name, mac } => {
                if self.ifnets.contains_key(name) {
                    return fail(format!("{name} already exists"));
                }
                if self.radios.contains(name) {
                    return fail(format!("{name} is a radio"));
                }
                // Not UP: pccard_ether/rc would configure it; lagghook
                // brings ports up itself.
                self.attach(Ifnet {
                    name: name.clone(),
                    index: self.lowest_free_index(),
                    kind: IfKind::Ether,
                    lladdr: *mac,
                    hwaddr: Some(*mac),
                    up: false,
                    medium: true,
                    link: LinkState::Down,
                    mtu: ETHERMTU,
                    vap: None,
                    lagg: None,
                });
            }
        }
        Ok(())
    }

    /// devd events queued since the last take, in emission order.
    pub fn take_events(&mut self) -> Vec<DevdEvent> {
        std::mem::take(&mut self.events)
    }

    /// Events queued and not yet taken.
    pub fn pending_events(&self) -> &[DevdEvent] {
        &self.events
    }

    /// How many mutating [`Kernel`] calls were made (failed ones included).
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// The mutating calls, in order, with their result, e.g.
    /// `"SIOCSLAGGPORT lagg0 wlan0: EEXIST"`.
    pub fn calls(&self) -> &[String] {
        &self.calls
    }

    /// Forgets the call record (not the state).
    pub fn clear_record(&mut self) {
        self.writes = 0;
        self.calls.clear();
    }

    /// The interface as [`Kernel::interfaces`] would report it.
    pub fn interface(&self, name: &str) -> Option<Interface> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == name)?;
        Some(self.report(ifn))
    }

    /// What `SIOCGLAGG` would report for `lagg`, without the `&mut` the
    /// trait needs; `None` if it is not a lagg.
    pub fn lagg(&self, name: &str) -> Option<LaggStatus> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == name)?;
        self.status(ifn)
    }

    /// `iv_myaddr` of a vap: the address it associates with. It follows
    /// `IF_LLADDR` only when the vap is down at the time of the change
    /// (`wlan_iflladdr`) or when it is stopped as the last running vap of
    /// its radio and is not a lagg member (`ieee80211_ioctl`,
    /// SIOCSIFFLAGS).
    pub fn air_mac(&self, wlan: &str) -> Option<MacAddr> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == wlan)?;
        ifn.vap.as_ref().map(|v| v.air)
    }

    /// The address wpa_supplicant read when it (re)started, `None` if it
    /// does not run for this vap.
    pub fn wpa_supplicant_mac(&self, wlan: &str) -> Option<MacAddr> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == wlan)?;
        ifn.vap.as_ref().and_then(|v| v.wpa)
    }

    /// What devd's `media-type` sees (`media::do_match` in devd.cc, via
    /// SIOCGIFMEDIA): "ethernet" for NICs and laggs (`lagg_media_status`
    /// reports IFM_ETHER), "802.11" for vaps (`ieee80211_media_status`),
    /// `None` for an absent interface or one without media.
    pub fn media_type(&self, name: &str) -> Option<&'static str> {
        let ifn = self.ifnets.values().find(|i| i.name.as_str() == name)?;
        match ifn.kind {
            IfKind::Ether | IfKind::Lagg => Some("ethernet"),
            IfKind::Wlan => Some("802.11"),
            IfKind::Other => None,
        }
    }

    /// The 802.11 devices (radios) the machine knows.
    pub fn radios(&self) -> impl Iterator<Item = &IfName> {
        self.radios.iter()
    }

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
                IfKind::Ether | IfKind::Other => {
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

    // ---- observation helpers -------------------------------------------

    fn by_index(&self) -> Vec<&Ifnet> {
        let mut v: Vec<&Ifnet> = self.ifnets.values().collect();
        v.sort_by_key(|i| i.index);
        v
    }

    fn report(&self, ifn: &Ifnet) -> Interface {
        Interface {
            name: ifn.name.clone(),
            index: ifn.index,
            kind: ifn.kind,
            mac: ifn.lladdr,
            hwaddr: ifn.hwaddr,
            up: ifn.up,
            link: ifn.link,
            mtu: ifn.mtu,
            parent: ifn.vap.as_ref().map(|v| v.parent.clone()),
        }
    }

    /// The lagg that has `port` as a member (`ifp->if_lagg`).
    fn lagg_of(&self, port: &IfName) -> Option<IfName> {
        self.ifnets
            .values()
            .find(|i| i.lagg.as_ref().is_some_and(|l| l.ports.iter().any(|p| &p.name == port)))
            .map(|i| i.name.clone())
    }

    /// `LAGG_PORTACTIVE`: link UP and IFF_UP (`sys/net/if_lagg.h`).
    fn port_active(&self, name: &IfName) -> bool {
        self.ifnets.get(name).is_some_and(|i| i.up && i.link == LinkState::Up)
    }

    /// `lagg_link_active(sc, lp)` (`sys/net/if_lagg.c`): `lp` if active,
    /// else the port right after it if active, else the first active port
    /// from the head, else none.
    fn link_active(&self, lagg: &Lagg, lp: Option<&IfName>) -> Option<IfName> {
        if let Some(lp) = lp {
            if self.port_active(lp) {
                return Some(lp.clone());
            }
            if let Some(pos) = lagg.ports.iter().position(|p| &p.name == lp) {
                if let Some(next) = lagg.ports.get(pos + 1) {
                    if self.port_active(&next.name) {
                        return Some(next.name.clone());
                    }
                }
            }
        }
        lagg.ports.iter().find(|p| self.port_active(&p.name)).map(|p| p.name.clone())
    }

    /// `SIOCGLAGG` with the flags `lagg_port2req` adds per protocol.
    fn status(&self, ifn: &Ifnet) -> Option<LaggStatus> {
        let lagg = ifn.lagg.as_ref()?;
        let active = match lagg.proto {
            LaggProto::Failover => self.link_active(lagg, lagg.primary.as_ref()),
            _ => None,
        };
        let ports = lagg
            .ports
            .iter()
            .map(|p| {
                let flags = match lagg.proto {
                    LaggProto::Failover => PortFlags {
                        master: lagg.primary.as_ref() == Some(&p.name),
                        active: active.as_ref() == Some(&p.name),
                    },
                    LaggProto::RoundRobin | LaggProto::LoadBalance | LaggProto::Broadcast => {
                        PortFlags { master: false, active: self.port_active(&p.name) }
                    }
                    // LACP needs a partner the simulator does not have;
                    // `none` sets no flags.
                    _ => PortFlags::default(),
                };
                LaggPort { name: p.name.clone(), flags }
            })
            .collect();
        Some(LaggStatus { proto: lagg.proto, ports })
    }

    /// The lowest free `if_index` (`ifindex_alloc` in `if_alloc_domain`,
    /// `sys/net/if.c`), so a re-created interface usually gets its old
    /// index back.
    fn lowest_free_index(&self) -> u32 {
        let used: BTreeSet<u32> = self.ifnets.values().map(|i| i.index).collect();
        let mut idx = 1;
        while used.contains(&idx) {
            idx += 1;
        }
        idx
    }

    // ---- events and link state -----------------------------------------

    fn emit(&mut self, name: &IfName, kind: IfnetEventKind) {
        if self.emitting {
            self.events.push(DevdEvent::ifnet(name, kind));
        }
    }

    /// `if_attach_internal`: the ifnet appears, `IFNET IF ATTACH`.
    fn attach(&mut self, ifn: Ifnet) {
        let name = ifn.name.clone();
        self.ifnets.insert(name.clone(), ifn);
        self.emit(&name, IfnetEventKind::Attach);
    }

    /// The link state the driver would report now. Ether: carrier needs the
    /// cable and a running interface. wlan: net80211 sets LINK_UP when the
    /// station joins its BSS (`ieee80211_notify_node_join`), which needs a
    /// running vap, an AP in reach and (inferred from hostap's
    /// `l2_packet_freebsd.c`) a wpa_supplicant whose address is the vap's
    /// on-air address, or the 4-way handshake fails. lagg: `lagg_linkstate`.
    fn computed_link(&self, ifn: &Ifnet) -> LinkState {
        let up = match ifn.kind {
            IfKind::Ether | IfKind::Other => ifn.up && ifn.medium,
            IfKind::Wlan => {
                ifn.up && ifn.medium && ifn.vap.as_ref().is_some_and(|v| v.wpa == Some(v.air))
            }
            IfKind::Lagg => return self.lagg_aggregate(ifn).unwrap_or(ifn.link),
        };
        if up {
            LinkState::Up
        } else {
            LinkState::Down
        }
    }

    /// `lagg_linkstate` (failover and the others alike): UP if any port has
    /// link UP, IFF_UP not considered, DOWN otherwise; `None` if `ifn` is
    /// not a lagg. A new lagg stays at `if_alloc`'s LINK_STATE_UNKNOWN until
    /// the first port is added or removed.
    fn lagg_aggregate(&self, ifn: &Ifnet) -> Option<LinkState> {
        let lagg = ifn.lagg.as_ref()?;
        let any = lagg
            .ports
            .iter()
            .any(|p| self.ifnets.get(&p.name).is_some_and(|i| i.link == LinkState::Up));
        Some(if any { LinkState::Up } else { LinkState::Down })
    }

    /// `if_link_state_change` → `do_link_state_change`: record, tell the
    /// lagg first (`lagg_linkstate_p`), devctl `LINK_UP`/`LINK_DOWN`.
    fn set_link(&mut self, name: &IfName, new: LinkState) {
        let Some(ifn) = self.ifnets.get_mut(name) else {
            return;
        };
        if ifn.link == new {
            return;
        }
        ifn.link = new;
        match new {
            LinkState::Up => self.emit(name, IfnetEventKind::LinkUp),
            LinkState::Down => self.emit(name, IfnetEventKind::LinkDown),
            LinkState::Unknown => {}
        }
        if let Some(lagg) = self.lagg_of(name) {
            self.lagg_linkstate(&lagg);
        }
    }

    /// Re-evaluates an interface's link after a change of its inputs.
    fn refresh_link(&mut self, name: &IfName) {
        let Some(ifn) = self.ifnets.get(name) else {
            return;
        };
        let new = self.computed_link(ifn);
        self.set_link(name, new);
    }

    /// `lagg_linkstate` (`sys/net/if_lagg.c`).
    fn lagg_linkstate(&mut self, lagg: &IfName) {
        let Some(new) = self.ifnets.get(lagg).and_then(|l| self.lagg_aggregate(l)) else {
            return;
        };
        self.set_link(lagg, new);
    }

    fn set_medium(&mut self, name: &IfName, medium: bool) {
        if let Some(ifn) = self.ifnets.get_mut(name) {
            ifn.medium = medium;
        }
        self.refresh_link(name);
    }

    // ---- kernel rules ----------------------------------------------------

    /// Number of running vaps on a radio (`ic_nrunning`).
    fn nrunning(&self, parent: &IfName) -> usize {
        self.ifnets
            .values()
            .filter(|i| i.up && i.vap.as_ref().is_some_and(|v| &v.parent == parent))
            .count()
    }

    /// SIOCSIFFLAGS reaching the driver with IFF_UP set or cleared
    /// (`ifhwioctl`, and the down/up pair inside `if_setlladdr`).
    fn if_setflags(&mut self, name: &IfName, up: bool) {
        let Some(ifn) = self.ifnets.get(name) else {
            return;
        };
        if ifn.up == up {
            // Same flags: `lagg_ioctl` finds IFF_DRV_RUNNING already set,
            // `ieee80211_ioctl` finds the vap not in INIT: nothing happens.
            return;
        }
        let kind = ifn.kind;
        if !up && kind == IfKind::Wlan {
            // `ieee80211_ioctl` SIOCSIFFLAGS: stopping the last running vap
            // of the radio waits for the parent and then copies IF_LLADDR
            // into iv_myaddr ("MAC changed via SIOCSIFLLADDR") -- but only
            // if `ifp->if_ioctl == ieee80211_ioctl`, which is false while
            // the vap is a lagg member (lagg_port_create hooks if_ioctl to
            // lagg_port_ioctl).
            let parent = ifn.vap.as_ref().map(|v| v.parent.clone());
            let last = parent.is_some_and(|p| self.nrunning(&p) == 1);
            let member = self.lagg_of(name).is_some();
            if last && !member {
                if let Some(ifn) = self.ifnets.get_mut(name) {
                    let lladdr = ifn.lladdr;
                    if let Some(v) = ifn.vap.as_mut() {
                        v.air = lladdr;
                    }
                }
            }
        }
        if let Some(ifn) = self.ifnets.get_mut(name) {
            ifn.up = up;
        }
        if kind == IfKind::Lagg {
            // `lagg_ioctl` SIOCSIFFLAGS: lagg_init when going up (pushes
            // the lagg MAC), lagg_stop when going down. The lagg's own link
            // does not depend on IFF_UP (`lagg_linkstate`).
            if up {
                self.lagg_init(name);
            }
        } else {
            self.refresh_link(name);
        }
    }

    /// `lagg_init`: when the lagg starts running, every port whose address
    /// differs from the lagg's gets `if_setlladdr(lagg MAC)`.
    fn lagg_init(&mut self, lagg: &IfName) {
        let Some(ifn) = self.ifnets.get(lagg) else {
            return;
        };
        let mac = ifn.lladdr;
        let ports: Vec<IfName> =
            ifn.lagg.iter().flat_map(|l| l.ports.iter().map(|p| p.name.clone())).collect();
        for p in ports {
            if self.ifnets.get(&p).is_some_and(|i| i.lladdr != mac) {
                self.if_setlladdr(&p, mac);
            }
        }
    }

    /// `if_setlladdr` (`sys/net/if.c`): sets IF_LLADDR; if the interface is
    /// UP, drives it down and up again (the "bounce": link drops and
    /// returns, no same-address shortcut), then fires `iflladdr_event`,
    /// whose net80211 handler `wlan_iflladdr` copies the address into
    /// iv_myaddr only if the vap is not UP.
    fn if_setlladdr(&mut self, name: &IfName, mac: MacAddr) {
        let Some(ifn) = self.ifnets.get_mut(name) else {
            return;
        };
        ifn.lladdr = mac;
        if !ifn.up {
            if let Some(v) = ifn.vap.as_mut() {
                v.air = mac;
            }
            return;
        }
        self.if_setflags(name, false);
        self.if_setflags(name, true);
    }

    /// `SIOCSLAGGPORT`: `ifioctl`, `lagg_ioctl`, `lagg_port_create`, with
    /// the refusals in FreeBSD's order.
    fn lagg_port_create(&mut self, lagg: &IfName, port: &IfName) -> Result<(), Errno> {
        // ifioctl: unknown interface name.
        let l = self.ifnets.get(lagg).ok_or(Errno::ENXIO)?;
        // Not a lagg: its driver does not know SIOCSLAGGPORT; Ethernet
        // drivers end in ether_ioctl's default, EINVAL.
        let sc = l.lagg.as_ref().ok_or(Errno::EINVAL)?;
        // lagg_ioctl: ifunit_ref(rp_portname) == NULL.
        let p = self.ifnets.get(port).ok_or(Errno::EINVAL)?;
        // lagg_port_create: a lagg cannot be its own port.
        if lagg == port {
            return Err(Errno::EINVAL);
        }
        if sc.ports.len() >= LAGG_MAX_PORTS {
            return Err(Errno::ENOSPC);
        }
        if let Some(owner) = self.lagg_of(port) {
            return Err(if &owner == lagg { Errno::EEXIST } else { Errno::EBUSY });
        }
        // Ethernet lagg: only IFT_ETHER / IFT_L2VLAN ports. Vaps and laggs
        // are IFT_ETHER (`ieee80211_vap_setup`, `lagg_clone_create`).
        if p.kind == IfKind::Other {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let first = sc.ports.is_empty();
        let lagg_mtu = l.mtu;
        let port_mtu = p.mtu;
        let port_kind = p.kind;
        // MTU: the first port defines the lagg's; later ports get the
        // lagg's through their driver's SIOCSIFMTU (net80211 accepts
        // IEEE80211_MTU_MIN..IEEE80211_MTU_MAX, `ieee80211_ioctl`).
        let mut old_mtu = None;
        if first {
            if let Some(l) = self.ifnets.get_mut(lagg) {
                l.mtu = port_mtu;
            }
        } else if lagg_mtu != port_mtu {
            if port_kind == IfKind::Wlan
                && !(IEEE80211_MTU_MIN..=IEEE80211_MTU_MAX).contains(&lagg_mtu)
            {
                return Err(Errno::EINVAL);
            }
            old_mtu = Some(port_mtu);
            if let Some(p) = self.ifnets.get_mut(port) {
                p.mtu = lagg_mtu;
            }
        }
        // Stacking is compiled out: a lagg as port is EINVAL, after the MTU
        // step, which is undone for the port (the lagg keeps an adopted
        // MTU, as the kernel does).
        if port_kind == IfKind::Lagg {
            if let (Some(old), Some(p)) = (old_mtu, self.ifnets.get_mut(port)) {
                p.mtu = old;
            }
            return Err(Errno::EINVAL);
        }
        // Save lp_lladdr; first port: the lagg takes its MAC (written
        // directly, no if_setlladdr on the lagg); others: if_setlladdr to
        // the lagg's MAC, unconditionally, before the port is hooked
        // (so net80211's SIOCSIFFLAGS still sees ieee80211_ioctl).
        let saved = self.ifnets.get(port).map_or(MacAddr::ZERO, |p| p.lladdr);
        if first {
            if let Some(l) = self.ifnets.get_mut(lagg) {
                l.lladdr = saved;
            }
        } else {
            let mac = self.ifnets.get(lagg).map_or(MacAddr::ZERO, |l| l.lladdr);
            self.if_setlladdr(port, mac);
        }
        // Insert sorted by if_index; the first port becomes sc_primary.
        let index = self.ifnets.get(port).map_or(0, |p| p.index);
        let indices: Vec<u32> = self
            .ifnets
            .get(lagg)
            .and_then(|l| l.lagg.as_ref())
            .map(|sc| {
                sc.ports.iter().map(|p| self.ifnets.get(&p.name).map_or(0, |i| i.index)).collect()
            })
            .unwrap_or_default();
        let pos = indices.iter().position(|&i| i > index).unwrap_or(indices.len());
        if let Some(sc) = self.ifnets.get_mut(lagg).and_then(|l| l.lagg.as_mut()) {
            if first {
                sc.primary = Some(port.clone());
            }
            sc.ports.insert(pos, Port { name: port.clone(), lladdr: saved });
        }
        self.lagg_linkstate(lagg);
        Ok(())
    }

    /// `lagg_port_destroy(lp, 1)` (`sys/net/if_lagg.c`). `detaching`: the
    /// port's ifnet is dying (`lagg_port_ifdetach`), so it is not touched.
    /// `destroying`: the lagg itself is going away (`lagg_clone_destroy`),
    /// so no MAC is pushed to the remaining ports.
    fn lagg_port_destroy(
        &mut self,
        lagg: &IfName,
        port: &IfName,
        detaching: bool,
        destroying: bool,
    ) {
        let Some(sc) = self.ifnets.get_mut(lagg).and_then(|l| l.lagg.as_mut()) else {
            return;
        };
        let Some(pos) = sc.ports.iter().position(|p| &p.name == port) else {
            return;
        };
        let removed = sc.ports.remove(pos);
        let mut push = None;
        if sc.primary.as_ref() == Some(port) {
            // New primary: the first port of the list; lagg MAC := its
            // lp_lladdr (zero if none left); then every remaining port gets
            // if_setlladdr(lagg MAC) ("new primary needs update as well").
            let first = sc.ports.first();
            let mac = first.map_or(MacAddr::ZERO, |p| p.lladdr);
            sc.primary = first.map(|p| p.name.clone());
            let remaining: Vec<IfName> = sc.ports.iter().map(|p| p.name.clone()).collect();
            if !destroying {
                push = Some((mac, remaining));
            }
        }
        if let Some((mac, remaining)) = push {
            if let Some(l) = self.ifnets.get_mut(lagg) {
                l.lladdr = mac;
            }
            for p in remaining {
                self.if_setlladdr(&p, mac);
            }
        }
        if !detaching {
            // The leaving port gets its own address back.
            self.if_setlladdr(port, removed.lladdr);
        }
        self.lagg_linkstate(lagg);
    }

    /// `if_detach_internal`: `ifnet_departure_event` first (lagg drops the
    /// port silently, `lagg_port_ifdetach`), then devctl `DETACH`.
    fn if_detach(&mut self, name: &IfName) {
        if let Some(lagg) = self.lagg_of(name) {
            self.lagg_port_destroy(&lagg, name, true, false);
        }
        self.ifnets.remove(name);
        self.emit(name, IfnetEventKind::Detach);
    }

    /// `lagg_clone_destroy`: stop, clear IFF_UP, remove the ports one by
    /// one from the head (their MACs restored, no primary MAC push), then
    /// detach the lagg.
    fn lagg_clone_destroy(&mut self, lagg: &IfName) {
        if let Some(l) = self.ifnets.get_mut(lagg) {
            l.up = false;
        }
        while let Some(first) = self
            .ifnets
            .get(lagg)
            .and_then(|l| l.lagg.as_ref())
            .and_then(|sc| sc.ports.first())
            .map(|p| p.name.clone())
        {
            self.lagg_port_destroy(lagg, &first, false, true);
        }
        self.ifnets.remove(lagg);
        self.emit(lagg, IfnetEventKind::Detach);
    }

    /// Records one mutating call and turns an errno into a [`KernelError`].
    fn record(
        &mut self,
        what: String,
        op: Op,
        ifname: Option<&IfName>,
        result: Result<(), Errno>,
    ) -> Result<(), KernelError> {
        self.writes += 1;
        match result {
            Ok(()) => {
                self.calls.push(format!("{what}: ok"));
                Ok(())
            }
            Err(e) => {
                self.calls.push(format!("{what}: {}", errno_name(e)));
                Err(KernelError::errno(op, ifname, e))
            }
        }
    }

    fn do_set_lagg_proto(&mut self, lagg: &IfName, proto: LaggProto) -> Result<(), Errno> {
        let l = self.ifnets.get_mut(lagg).ok_or(Errno::ENXIO)?;
        let sc = l.lagg.as_mut().ok_or(Errno::EINVAL)?;
        // `lagg_ioctl` SIOCSLAGG: ra_proto >= LAGG_PROTO_MAX is refused;
        // otherwise the protocol is detached and attached, ports, primary
        // and MACs kept.
        if proto.to_raw() >= LAGG_PROTO_MAX {
            return Err(Errno::EPROTONOSUPPORT);
        }
        sc.proto = proto;
        Ok(())
    }

    fn do_remove_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), Errno> {
        let l = self.ifnets.get(lagg).ok_or(Errno::ENXIO)?;
        if l.lagg.is_none() {
            return Err(Errno::EINVAL);
        }
        // `lagg_ioctl` SIOCSLAGGDELPORT: unknown port EINVAL, not a member
        // of this lagg ENOENT.
        if !self.ifnets.contains_key(port) {
            return Err(Errno::EINVAL);
        }
        if self.lagg_of(port).as_ref() != Some(lagg) {
            return Err(Errno::ENOENT);
        }
        self.lagg_port_destroy(lagg, port, false, false);
        Ok(())
    }

    fn do_set_lladdr(&mut self, name: &IfName, mac: MacAddr) -> Result<(), Errno> {
        let ifn = self.ifnets.get(name).ok_or(Errno::ENXIO)?;
        // `if_setlladdr` accepts only Ethernet-like types.
        if ifn.kind == IfKind::Other {
            return Err(Errno::ENODEV);
        }
        self.if_setlladdr(name, mac);
        Ok(())
    }

    fn do_create_lagg(&mut self, lagg: &IfName) -> Result<(), Errno> {
        // `if_clone_create`: no matching cloner (or if_lagg not loaded)
        // EINVAL; then `if_clone_createif`: name taken EEXIST.
        if self.failover_rx_all.is_none() || !cloner_matches("lagg", lagg) {
            return Err(Errno::EINVAL);
        }
        if self.ifnets.contains_key(lagg) {
            return Err(Errno::EEXIST);
        }
        // `lagg_clone_create`: LAGG_PROTO_DEFAULT (failover), zero MAC
        // (`ether_ifattach` with a zero address), not UP, link unknown.
        self.attach(Ifnet {
            name: lagg.clone(),
            index: self.lowest_free_index(),
            kind: IfKind::Lagg,
            lladdr: MacAddr::ZERO,
            hwaddr: Some(MacAddr::ZERO),
            up: false,
            medium: false,
            link: LinkState::Unknown,
            mtu: ETHERMTU,
            vap: None,
            lagg: Some(Lagg { proto: LaggProto::Failover, ports: Vec::new(), primary: None }),
        });
        Ok(())
    }

    fn do_restart_wpa(&mut self, wlan: &IfName) -> Result<(), Errno> {
        let ifn = self.ifnets.get_mut(wlan).ok_or(Errno::ENXIO)?;
        let lladdr = ifn.lladdr;
        let Some(vap) = ifn.vap.as_mut() else {
            return Err(Errno::EINVAL);
        };
        // wpa_supplicant reads the interface address once, at start
        // (`l2_packet_init` in hostap's l2_packet_freebsd.c; inferred).
        vap.wpa = Some(lladdr);
        // rc.d/wpa_supplicant `wpa_poststart`: ifconfig down; up.
        self.if_setflags(wlan, false);
        self.if_setflags(wlan, true);
        Ok(())
    }
}

impl fmt::Display for SimKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl Kernel for SimKernel {
    fn interfaces(&mut self) -> Result<Vec<Interface>, KernelError> {
        Ok(self.by_index().into_iter().map(|i| self.report(i)).collect())
    }

    fn lagg_status(&mut self, lagg: &IfName) -> Result<LaggStatus, KernelError> {
        let ifn = self
            .ifnets
            .get(lagg)
            .ok_or_else(|| KernelError::errno(Op::GetLagg, Some(lagg), Errno::ENXIO))?;
        self.status(ifn).ok_or_else(|| KernelError::errno(Op::GetLagg, Some(lagg), Errno::EINVAL))
    }

    fn failover_rx_all(&mut self) -> Result<Option<bool>, KernelError> {
        Ok(self.failover_rx_all)
    }

    fn set_failover_rx_all(&mut self, value: bool) -> Result<(), KernelError> {
        let result = match self.failover_rx_all {
            // sysctlbyname on a missing OID.
            None => Err(Errno::ENOENT),
            Some(_) => {
                self.failover_rx_all = Some(value);
                Ok(())
            }
        };
        let what = format!("sysctl net.link.lagg.failover_rx_all={}", u8::from(value));
        self.record(what, Op::SetSysctl, None, result)
    }

    fn create_lagg(&mut self, lagg: &IfName) -> Result<(), KernelError> {
        let r = self.do_create_lagg(lagg);
        self.record(format!("SIOCIFCREATE2 {lagg}"), Op::CreateLagg, Some(lagg), r)
    }

    fn set_lagg_proto(&mut self, lagg: &IfName, proto: LaggProto) -> Result<(), KernelError> {
        let r = self.do_set_lagg_proto(lagg, proto);
        self.record(format!("SIOCSLAGG {lagg} {proto}"), Op::SetLaggProto, Some(lagg), r)
    }

    fn add_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        let r = self.lagg_port_create(lagg, port);
        // Errors name the port, as the FreeBSD backend's do: EEXIST, EBUSY
        // and ENOENT are about the port; the action names the lagg.
        self.record(format!("SIOCSLAGGPORT {lagg} {port}"), Op::AddLaggPort, Some(port), r)
    }

    fn remove_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        let r = self.do_remove_port(lagg, port);
        self.record(format!("SIOCSLAGGDELPORT {lagg} {port}"), Op::RemoveLaggPort, Some(port), r)
    }

    fn set_lladdr(&mut self, ifname: &IfName, mac: MacAddr) -> Result<(), KernelError> {
        let r = self.do_set_lladdr(ifname, mac);
        self.record(format!("SIOCSIFLLADDR {ifname} {mac}"), Op::SetLladdr, Some(ifname), r)
    }

    fn set_up(&mut self, ifname: &IfName, up: bool) -> Result<(), KernelError> {
        let r = if self.ifnets.contains_key(ifname) {
            self.if_setflags(ifname, up);
            Ok(())
        } else {
            Err(Errno::ENXIO)
        };
        let what = format!("SIOCSIFFLAGS {ifname} {}", if up { "up" } else { "down" });
        self.record(what, Op::SetFlags, Some(ifname), r)
    }

    fn restart_wpa_supplicant(&mut self, wlan: &IfName) -> Result<(), KernelError> {
        let r = self.do_restart_wpa(wlan);
        self.record(
            format!("wpa_supplicant restart {wlan}"),
            Op::RestartWpaSupplicant,
            Some(wlan),
            r,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: &str = "00:11:22:33:44:55";
    const W: &str = "02:aa:bb:cc:dd:ee";

    /// The Handbook's laptop: em0 + wlan0 (MAC cloned from em0) in lagg0.
    const LAPTOP: &str = include_str!("../../tests/fixtures/machines/laptop.toml");

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    fn ev(name: &str, kind: &str) -> DevdEvent {
        DevdEvent::new("IFNET", name, kind)
    }

    fn build(text: &str) -> SimKernel {
        SimKernel::from_machine(&Machine::parse(text).unwrap()).unwrap()
    }

    fn laptop() -> SimKernel {
        build(LAPTOP)
    }

    /// (port, MASTER, ACTIVE) in kernel list order.
    fn ports(k: &mut SimKernel, lagg: &str) -> Vec<(String, bool, bool)> {
        k.lagg_status(&n(lagg))
            .unwrap()
            .ports
            .iter()
            .map(|p| (p.name.to_string(), p.flags.master, p.flags.active))
            .collect()
    }

    fn p(name: &str, master: bool, active: bool) -> (String, bool, bool) {
        (name.to_owned(), master, active)
    }

    fn errno(r: Result<(), KernelError>) -> Errno {
        r.unwrap_err().errno_value().unwrap()
    }

    #[test]
    fn laptop_builds_silently_with_em0_primary_and_active() {
        let mut k = laptop();
        assert!(k.take_events().is_empty(), "building a machine is not an event");
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, true), p("wlan0", false, false)]);
        let lagg = k.interface("lagg0").unwrap();
        assert_eq!((lagg.index, lagg.mac, lagg.link), (3, mac(E), LinkState::Up));
        assert_eq!(k.interface("wlan0").unwrap().parent, Some(n("iwn0")));
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.writes(), 0);
    }

    #[test]
    fn active_port_fails_over_and_back_without_primary_change() {
        let mut k = laptop();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        // lagg_link_active: primary not active -> next port.
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, false), p("wlan0", false, true)]);
        // lagg0 stays up through wlan0: only the port event.
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_DOWN")]);
        k.happen(&"disassociate wlan0".parse().unwrap()).unwrap();
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_DOWN"), ev("lagg0", "LINK_DOWN")]);
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, false), p("wlan0", false, false)]);
        k.happen(&"plug em0".parse().unwrap()).unwrap();
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_UP"), ev("lagg0", "LINK_UP")]);
        assert_eq!(ports(&mut k, "lagg0")[0], p("em0", true, true));
    }

    #[test]
    fn destroyed_primary_hands_over_and_pushes_mac_to_remaining_ports() {
        let mut k = build(&LAPTOP.replace(
            "parent = \"iwn0\"\nmac = \"00:11:22:33:44:55\"",
            &format!("parent = \"iwn0\"\nmac = \"{W}\""),
        ));
        // wlan0 joined second: its lp_lladdr is W, its MAC now E. Joining
        // bounced it (not yet a member, only vap of iwn0), so iv_myaddr
        // followed to E while wpa_supplicant kept W: no association. This
        // is what an uncloned rc.conf gets.
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(E));
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(W)));
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down);
        k.happen(&Happening::Destroy(n("em0"))).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("wlan0", true, false)]);
        // lagg MAC := new primary's saved address, pushed back to wlan0.
        assert_eq!(k.interface("lagg0").unwrap().mac, mac(W));
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(W));
        // The push bounces wlan0, but as a lagg member its iv_myaddr is not
        // resynced (ieee80211_ioctl checks if_ioctl == ieee80211_ioctl).
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.take_events(), vec![ev("lagg0", "LINK_DOWN"), ev("em0", "DETACH")]);
    }

    #[test]
    fn destroyed_primary_with_cloned_mac_still_bounces_the_other_port() {
        let mut k = laptop();
        k.happen(&Happening::Destroy(n("em0"))).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("wlan0", true, true)]);
        assert_eq!(k.interface("lagg0").unwrap().mac, mac(E));
        assert_eq!(
            k.take_events(),
            vec![
                ev("wlan0", "LINK_DOWN"),
                ev("lagg0", "LINK_DOWN"),
                ev("wlan0", "LINK_UP"),
                ev("lagg0", "LINK_UP"),
                ev("em0", "DETACH"),
            ]
        );
        assert!(k.interface("em0").is_none());
    }

    #[test]
    fn destroyed_non_primary_leaves_silently() {
        let mut k = laptop();
        k.happen(&"destroy wlan0".parse().unwrap()).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, true)]);
        assert_eq!(k.take_events(), vec![ev("wlan0", "DETACH")]);
    }

    #[test]
    fn recreated_interface_gets_lowest_free_index_and_is_not_re_added() {
        let mut k = laptop();
        k.happen(&"destroy wlan0".parse().unwrap()).unwrap();
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        // ue0 took wlan0's old slot 2; the new wlan0 gets 4.
        assert_eq!(k.interface("ue0").unwrap().index, 2);
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        let w = k.interface("wlan0").unwrap();
        assert_eq!(w.index, 4);
        assert_eq!(w.mac, factory_mac(&n("iwn0")));
        assert_eq!(w.hwaddr, Some(factory_mac(&n("iwn0"))));
        assert!(!k.lagg_status(&n("lagg0")).unwrap().has_port(&n("wlan0")));
        let ue0 = k.interface("ue0").unwrap();
        assert!(!ue0.up, "attach-ether leaves the NIC down");
        assert_eq!(ue0.link, LinkState::Down);
        assert_eq!(
            k.take_events(),
            vec![
                ev("wlan0", "DETACH"),
                ev("ue0", "ATTACH"),
                ev("wlan0", "ATTACH"),
                ev("wlan0", "LINK_UP"),
            ]
        );
    }

    #[test]
    fn port_list_is_sorted_by_index_not_by_addition() {
        // wlan0 added first (primary) but em0 has the lower index.
        let mut k =
            build(&LAPTOP.replace(r#"ports = ["em0", "wlan0"]"#, r#"ports = ["wlan0", "em0"]"#));
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", false, false), p("wlan0", true, true)]);
        // wlan0 loses its AP: lagg_link_active tries the port after the
        // primary (none), then the first active from the head: em0.
        k.happen(&"disassociate wlan0".parse().unwrap()).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", false, true), p("wlan0", true, false)]);
    }

    #[test]
    fn explicit_removal_of_primary_restores_its_mac_and_pushes_the_new_one() {
        let mut k = build(&LAPTOP.replace(
            "parent = \"iwn0\"\nmac = \"00:11:22:33:44:55\"",
            &format!("parent = \"iwn0\"\nmac = \"{W}\""),
        ));
        k.set_lladdr(&n("em0"), mac("00:11:22:33:44:99")).unwrap();
        k.take_events();
        k.remove_lagg_port(&n("lagg0"), &n("em0")).unwrap();
        // wlan0 has no link (stale wpa_supplicant, see above).
        assert_eq!(ports(&mut k, "lagg0"), vec![p("wlan0", true, false)]);
        assert_eq!(k.interface("lagg0").unwrap().mac, mac(W));
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(W));
        // em0 gets its lp_lladdr (the address it had when it joined) back.
        assert_eq!(k.interface("em0").unwrap().mac, mac(E));
        // Re-adding em0 does not make it primary again.
        k.add_lagg_port(&n("lagg0"), &n("em0")).unwrap();
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", false, true), p("wlan0", true, false)]);
        assert_eq!(k.interface("em0").unwrap().mac, mac(W));
        assert_eq!(
            k.calls(),
            [
                "SIOCSIFLLADDR em0 00:11:22:33:44:99: ok",
                "SIOCSLAGGDELPORT lagg0 em0: ok",
                "SIOCSLAGGPORT lagg0 em0: ok",
            ]
        );
        assert_eq!(k.writes(), 3);
    }

    #[test]
    fn removing_the_last_port_zeroes_the_lagg_mac() {
        let mut k = laptop();
        k.remove_lagg_port(&n("lagg0"), &n("em0")).unwrap();
        k.remove_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        let lagg = k.interface("lagg0").unwrap();
        assert_eq!((lagg.mac, lagg.link), (MacAddr::ZERO, LinkState::Down));
        assert_eq!(k.lagg_status(&n("lagg0")).unwrap().primary(), None);
    }

    #[test]
    fn add_refusals_follow_freebsd_order_and_errnos() {
        let mut k = laptop();
        k.happen(&"attach-ether em1 00:11:22:33:44:77".parse().unwrap()).unwrap();
        k.create_lagg(&n("lagg1")).unwrap();
        let add = |k: &mut SimKernel, l: &str, port: &str| errno(k.add_lagg_port(&n(l), &n(port)));
        assert_eq!(add(&mut k, "lagg9", "em1"), Errno::ENXIO);
        assert_eq!(add(&mut k, "em0", "em1"), Errno::EINVAL);
        assert_eq!(add(&mut k, "lagg1", "ue9"), Errno::EINVAL);
        assert_eq!(add(&mut k, "lagg1", "lagg1"), Errno::EINVAL);
        assert_eq!(add(&mut k, "lagg0", "em0"), Errno::EEXIST);
        assert_eq!(add(&mut k, "lagg1", "em0"), Errno::EBUSY);
        assert_eq!(add(&mut k, "lagg1", "lagg0"), Errno::EINVAL, "stacking is compiled out");
        let err = k.add_lagg_port(&n("lagg0"), &n("em0")).unwrap_err();
        assert_eq!(err, KernelError::errno(Op::AddLaggPort, Some(&n("em0")), Errno::EEXIST));
        assert_eq!(k.calls().last().unwrap(), "SIOCSLAGGPORT lagg0 em0: EEXIST");
        assert_eq!(k.writes(), 9, "failed calls count too");
    }

    #[test]
    fn non_ethernet_port_is_eprotonosupport() {
        let mut k =
            build(&format!("{LAPTOP}\n[[machine.interface]]\nname = \"tun0\"\nkind = \"other\"\n"));
        assert_eq!(errno(k.add_lagg_port(&n("lagg0"), &n("tun0"))), Errno::EPROTONOSUPPORT);
        assert_eq!(k.media_type("tun0"), None);
        assert_eq!(errno(k.set_lladdr(&n("tun0"), mac(E))), Errno::ENODEV);
    }

    #[test]
    fn thirty_third_port_is_enospc() {
        let mut k = SimKernel::new();
        k.create_lagg(&n("lagg0")).unwrap();
        for i in 0..33 {
            let h = Happening::AttachEther { name: n(&format!("ue{i}")), mac: mac(E) };
            k.happen(&h).unwrap();
        }
        for i in 0..32 {
            k.add_lagg_port(&n("lagg0"), &n(&format!("ue{i}"))).unwrap();
        }
        assert_eq!(errno(k.add_lagg_port(&n("lagg0"), &n("ue32"))), Errno::ENOSPC);
    }

    #[test]
    fn jumbo_lagg_refuses_wlan_port_with_einval() {
        let text = LAPTOP
            .replace(
                "link = true\n\n[[machine.interface]]\nname = \"wlan0\"",
                "link = true\nmtu = 9000\n\n[[machine.interface]]\nname = \"wlan0\"",
            )
            .replace(r#"ports = ["em0", "wlan0"]"#, r#"ports = ["em0"]"#);
        let mut k = build(&text);
        assert_eq!(k.interface("lagg0").unwrap().mtu, 9000, "the first port defines the MTU");
        // net80211 refuses an MTU above IEEE80211_MTU_MAX: wlan0 stays out.
        assert_eq!(errno(k.add_lagg_port(&n("lagg0"), &n("wlan0"))), Errno::EINVAL);
        assert_eq!(k.interface("wlan0").unwrap().mtu, 1500);
        // An Ethernet port takes the lagg's MTU through its own driver.
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        k.add_lagg_port(&n("lagg0"), &n("ue0")).unwrap();
        assert_eq!(k.interface("ue0").unwrap().mtu, 9000);
        // A lagg as port: the MTU step is undone for the port, then EINVAL.
        k.create_lagg(&n("lagg1")).unwrap();
        assert_eq!(errno(k.add_lagg_port(&n("lagg0"), &n("lagg1"))), Errno::EINVAL);
        assert_eq!(k.interface("lagg1").unwrap().mtu, 1500);
    }

    #[test]
    fn a_jumbo_machine_file_listing_wlan_as_port_is_rejected() {
        let text = LAPTOP.replace(
            "link = true\n\n[[machine.interface]]\nname = \"wlan0\"",
            "link = true\nmtu = 9000\n\n[[machine.interface]]\nname = \"wlan0\"",
        );
        let err = SimKernel::from_machine(&Machine::parse(&text).unwrap()).unwrap_err();
        assert!(err.to_string().contains("lagg0") && err.to_string().contains("EINVAL"), "{err}");
    }

    #[test]
    fn remove_refusals() {
        let mut k = laptop();
        k.happen(&"attach-ether em1 00:11:22:33:44:77".parse().unwrap()).unwrap();
        assert_eq!(errno(k.remove_lagg_port(&n("lagg0"), &n("em1"))), Errno::ENOENT);
        assert_eq!(errno(k.remove_lagg_port(&n("lagg0"), &n("nope0"))), Errno::EINVAL);
        assert_eq!(errno(k.remove_lagg_port(&n("lagg7"), &n("em0"))), Errno::ENXIO);
        assert_eq!(errno(k.remove_lagg_port(&n("em1"), &n("em0"))), Errno::EINVAL);
    }

    #[test]
    fn proto_clone_and_sysctl_requests() {
        let mut k = laptop();
        assert_eq!(
            errno(k.set_lagg_proto(&n("lagg0"), LaggProto::Unknown(6))),
            Errno::EPROTONOSUPPORT
        );
        assert_eq!(errno(k.set_lagg_proto(&n("lagg5"), LaggProto::Failover)), Errno::ENXIO);
        k.set_lagg_proto(&n("lagg0"), LaggProto::RoundRobin).unwrap();
        // roundrobin: no MASTER, ACTIVE on every active port; ports kept.
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", false, true), p("wlan0", false, true)]);
        k.set_lagg_proto(&n("lagg0"), LaggProto::Failover).unwrap();
        assert_eq!(ports(&mut k, "lagg0")[0], p("em0", true, true));

        assert_eq!(errno(k.create_lagg(&n("lagg0"))), Errno::EEXIST);
        assert_eq!(errno(k.create_lagg(&n("bond0"))), Errno::EINVAL);
        k.take_events();
        k.create_lagg(&n("lagg1")).unwrap();
        let l = k.interface("lagg1").unwrap();
        assert_eq!((l.index, l.mac, l.up, l.link), (4, MacAddr::ZERO, false, LinkState::Unknown));
        assert_eq!(k.lagg_status(&n("lagg1")).unwrap().proto, LaggProto::Failover);
        assert_eq!(k.take_events(), vec![ev("lagg1", "ATTACH")]);
        // First port without link: UNKNOWN -> DOWN is a change.
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        k.take_events();
        k.add_lagg_port(&n("lagg1"), &n("ue0")).unwrap();
        assert_eq!(k.take_events(), vec![ev("lagg1", "LINK_DOWN")]);
        assert_eq!(errno(k.lagg_status(&n("em0")).map(|_| ())), Errno::EINVAL);

        assert_eq!(k.failover_rx_all().unwrap(), Some(false));
        k.set_failover_rx_all(true).unwrap();
        assert_eq!(k.failover_rx_all().unwrap(), Some(true));
        assert_eq!(k.calls().last().unwrap(), "sysctl net.link.lagg.failover_rx_all=1: ok");
        assert_eq!(errno(k.set_lladdr(&n("nope0"), mac(E))), Errno::ENXIO);
        assert_eq!(errno(k.set_up(&n("nope0"), true)), Errno::ENXIO);
        assert_eq!(errno(k.restart_wpa_supplicant(&n("em0"))), Errno::EINVAL);
    }

    #[test]
    fn adding_an_up_port_bounces_it_even_with_the_same_mac() {
        let mut k = laptop();
        k.remove_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        k.take_events();
        k.add_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        // if_setlladdr has no same-address shortcut: down/up, re-association.
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_DOWN"), ev("wlan0", "LINK_UP")]);
    }

    #[test]
    fn wlan_mac_change_while_up_leaves_wpa_supplicant_stale_until_restart() {
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        let factory = factory_mac(&n("iwn0"));
        assert_eq!(k.take_events(), vec![ev("wlan0", "ATTACH"), ev("wlan0", "LINK_UP")]);
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(factory));
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        // The bounce restarted the only vap of the radio: iv_myaddr follows.
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(factory));
        // wpa_supplicant still uses the factory address: no association.
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_DOWN")]);
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down);
        k.restart_wpa_supplicant(&n("wlan0")).unwrap();
        assert_eq!(k.wpa_supplicant_mac("wlan0"), Some(mac(E)));
        assert_eq!(k.take_events(), vec![ev("wlan0", "LINK_UP")]);
        assert_eq!(k.calls().last().unwrap(), "wpa_supplicant restart wlan0: ok");
    }

    #[test]
    fn wlan_mac_change_while_down_moves_air_mac_at_once() {
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        k.set_up(&n("wlan0"), false).unwrap();
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        assert_eq!(k.air_mac("wlan0"), Some(mac(E)), "wlan_iflladdr copies while not UP");
        k.set_up(&n("wlan0"), true).unwrap();
        assert_eq!(k.interface("wlan0").unwrap().link, LinkState::Down, "wpa_supplicant is stale");
    }

    #[test]
    fn second_running_vap_keeps_air_mac_stale() {
        let mut k = SimKernel::new();
        k.happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        k.happen(&"create-wlan wlan1 iwn0 02:00:00:00:00:01".parse().unwrap()).unwrap();
        k.set_lladdr(&n("wlan0"), mac(E)).unwrap();
        // ic_nrunning == 2 when wlan0 stops: no copy into iv_myaddr.
        assert_eq!(k.air_mac("wlan0"), Some(factory_mac(&n("iwn0"))));
    }

    #[test]
    fn lagg_lladdr_reaches_ports_only_when_lagg_runs() {
        let mut k = laptop();
        k.set_up(&n("lagg0"), false).unwrap();
        k.set_lladdr(&n("lagg0"), mac(W)).unwrap();
        assert_eq!(k.interface("em0").unwrap().mac, mac(E), "lagg down: lagg_init not run");
        k.take_events();
        k.set_up(&n("lagg0"), true).unwrap();
        // lagg_init: every port whose MAC differs gets if_setlladdr.
        assert_eq!(k.interface("em0").unwrap().mac, mac(W));
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(W));
        let evs = k.take_events();
        assert_eq!(evs.first(), Some(&ev("em0", "LINK_DOWN")));
        assert!(evs.contains(&ev("wlan0", "LINK_DOWN")), "{evs:?}");
    }

    #[test]
    fn set_up_drives_link_and_events() {
        let mut k = laptop();
        k.set_up(&n("em0"), false).unwrap();
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_DOWN")]);
        assert_eq!(ports(&mut k, "lagg0"), vec![p("em0", true, false), p("wlan0", false, true)]);
        k.set_up(&n("em0"), false).unwrap();
        assert!(k.take_events().is_empty());
        k.set_up(&n("em0"), true).unwrap();
        assert_eq!(k.take_events(), vec![ev("em0", "LINK_UP")]);
        assert_eq!(
            k.calls(),
            ["SIOCSIFFLAGS em0 down: ok", "SIOCSIFFLAGS em0 down: ok", "SIOCSIFFLAGS em0 up: ok"]
        );
        k.clear_record();
        assert_eq!((k.writes(), k.calls().len()), (0, 0));
    }

    #[test]
    fn destroying_the_lagg_restores_port_macs() {
        let mut k = build(&LAPTOP.replace(
            "parent = \"iwn0\"\nmac = \"00:11:22:33:44:55\"",
            &format!("parent = \"iwn0\"\nmac = \"{W}\""),
        ));
        k.happen(&"destroy lagg0".parse().unwrap()).unwrap();
        assert_eq!(k.interface("wlan0").unwrap().mac, mac(W));
        assert_eq!(k.interface("em0").unwrap().mac, mac(E));
        assert_eq!(k.take_events().last(), Some(&ev("lagg0", "DETACH")));
    }

    #[test]
    fn happenings_on_missing_or_wrong_interfaces_are_errors() {
        let mut k = laptop();
        for h in [
            "unplug wlan0",
            "plug lagg0",
            "disassociate em0",
            "associate em9",
            "destroy em9",
            "create-wlan em0 iwn0",
            "create-wlan wlan1 em0",
            "attach-ether wlan0 00:11:22:33:44:55",
            "attach-ether iwn0 00:11:22:33:44:55",
        ] {
            let err = k.happen(&h.parse().unwrap()).unwrap_err();
            assert!(err.to_string().starts_with(h), "{err}");
        }
        assert!(k.take_events().is_empty());
    }

    #[test]
    fn happening_strings_round_trip() {
        for s in [
            "unplug em0",
            "plug em0",
            "disassociate wlan0",
            "associate wlan0",
            "destroy wlan0",
            "create-wlan wlan0 iwn0",
            "create-wlan wlan0 iwn0 00:11:22:33:44:55",
            "attach-ether ue0 00:11:22:33:44:55",
        ] {
            let h: Happening = s.parse().unwrap();
            assert_eq!(h.to_string(), s);
        }
        for bad in [
            "",
            "unplug",
            "unplug em0 em1",
            "explode em0",
            "attach-ether ue0",
            "attach-ether ue0 zz",
            "plug 0em",
        ] {
            assert!(bad.parse::<Happening>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn factory_mac_is_fixed_universal_unicast() {
        let a = factory_mac(&n("iwn0"));
        assert_eq!(a, factory_mac(&n("iwn0")));
        assert_ne!(a, factory_mac(&n("iwm0")));
        assert_eq!(a.0[0] & 0x03, 0, "group and local bits clear: {a}");
        assert!(!a.is_zero());
    }

    #[test]
    fn media_types_as_devd_sees_them() {
        let k = laptop();
        assert_eq!(k.media_type("em0"), Some("ethernet"));
        assert_eq!(k.media_type("lagg0"), Some("ethernet"));
        assert_eq!(k.media_type("wlan0"), Some("802.11"));
        assert_eq!(k.media_type("iwn0"), None);
    }

    #[test]
    fn interfaces_are_reported_in_index_order() {
        let mut k = build(&format!("[machine]\n{}", "")); // empty
        assert!(k.interfaces().unwrap().is_empty());
        let mut k2 = laptop();
        let names: Vec<String> =
            k2.interfaces().unwrap().iter().map(|i| i.name.to_string()).collect();
        assert_eq!(names, ["em0", "wlan0", "lagg0"]);
        k.happen(&"attach-ether ue0 00:11:22:33:44:55".parse().unwrap()).unwrap();
        assert_eq!(k.interface("ue0").unwrap().index, 1);
    }

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

    #[test]
    fn machine_round_trips_through_to_machine_and_files() {
        let text = LAPTOP.replace(
            "parent = \"iwn0\"\nmac = \"00:11:22:33:44:55\"",
            &format!("parent = \"iwn0\"\nmac = \"{W}\""),
        );
        let mut k = build(&format!(
            "{text}\n[[machine.interface]]\nname = \"em1\"\nkind = \"ether\"\n\
             mac = \"00:11:22:33:44:77\"\nmtu = 9000\n"
        ));
        // Make the state interesting: a handover, a stale vap, a new lagg
        // with a jumbo MTU from its first port, a sysctl, pending events, a
        // recreated vap with a new index.
        k.happen(&"destroy em0".parse().unwrap()).unwrap();
        k.happen(&"attach-ether ue0 00:11:22:33:44:66".parse().unwrap()).unwrap();
        k.add_lagg_port(&n("lagg0"), &n("ue0")).unwrap();
        k.create_lagg(&n("lagg1")).unwrap();
        k.add_lagg_port(&n("lagg1"), &n("em1")).unwrap();
        assert_eq!(k.interface("lagg1").unwrap().mtu, 9000);
        k.set_failover_rx_all(true).unwrap();
        k.happen(&"create-wlan wlan1 ath0".parse().unwrap()).unwrap();
        k.set_lladdr(&n("wlan1"), mac(E)).unwrap();
        let again = SimKernel::from_machine(&k.to_machine()).unwrap();
        assert_eq!(again, k, "\n{}\n---\n{}", again.render(), k.render());

        let dir = std::env::temp_dir().join(format!("lagghook-sim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kernel.toml");
        k.save(&path).unwrap();
        let loaded = SimKernel::load(&path).unwrap();
        assert_eq!(loaded, k, "\n{}", std::fs::read_to_string(&path).unwrap());
        // The counters are not state; nothing but the file is left behind.
        assert_eq!(loaded.writes(), 0);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_reports_the_path_and_missing_files() {
        let err = SimKernel::load(Path::new("/nonexistent/lagghook.toml")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/lagghook.toml: "), "{err}");
    }
}
