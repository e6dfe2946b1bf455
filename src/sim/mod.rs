//! A simulated FreeBSD kernel behind the same [`Kernel`] trait as the real
//! backend, so scenario tests can drive lagghook on Linux CI.
//!
//! What it owns: a deterministic in-memory model of the ifnets lagghook
//! touches (Ethernet NICs, net80211 vaps, lagg(4) interfaces), the kernel
//! rules that decide their state, and the devd(8) events the kernel would
//! emit. What it does not own: policy (that is `plan`), and anything
//! lagghook does not observe (addresses, routes, multicast, counters).
//! Capabilities are modelled as far as lagg changes them
//! ([`if_lagg`]'s `lagg_capabilities`).
//!
//! It is split as FreeBSD splits the code it models; each file's doc says
//! what it owns:
//! - this file: [`SimKernel`] itself, building, loading and saving it, and
//!   the [`Kernel`] requests, each recorded and handed to the rule that
//!   models the kernel's handler;
//! - [`ifnet`]: `sys/net/if.c` (if_index, lladdr, flags, the
//!   `if_setlladdr` bounce, attach/detach, link state and its devd events);
//! - [`if_lagg`]: `sys/net/if_lagg.c` (ports, primary, active port, lagg
//!   link state, SIOCGLAGG flags, the lagg cloner, laggproto);
//! - [`net80211`]: `sys/net80211/` (vaps, `iv_myaddr`, the radio's own
//!   address and its class) and the wpa_supplicant model;
//! - [`station`]: a station's join, its 4-way handshake with the AP and,
//!   when that cannot finish, its flapping and wpa_supplicant's retries;
//! - [`world`]: what the world does to the machine ([`Happening`]),
//!   reboots and resumes included;
//! - [`rc`]: rc(8)'s part of a boot, a radio attach and a driver reload,
//!   from a scenario's rc.conf lines ([`RcConf`]);
//! - [`oracle`]: whether traffic flows, and could;
//! - [`file`]: the machine file format; [`root`]: the machine's files, as
//!   `check` reads them ([`SimRoot`]); [`render`]: ifconfig-like text;
//!   [`fault`]: fault injection around any kernel ([`Faulty`]); [`snapshot`]:
//!   a kernel rebuilt from one observation, the predictor of `-n`.
//!
//! Every rule names the FreeBSD function it models. The FreeBSD sources
//! read (paths relative to the FreeBSD tree; public forks of FreeBSD main,
//! 14.x era):
//! - `gmshake/freebsd-src` (main, 2023): `sys/net/if_lagg.c` at commit
//!   f0689c80bd48704674b4caa49056cb45a84dab4f, `sys/net/if.c` at
//!   dafe137c3576ffe58793a4ae053124440950c894, `sys/net/if_clone.c` at
//!   ddc47acd3e34a8ad8e7993329a82e51409393858;
//! - `fel1x-developer/freebsd-src` (main after 14.0):
//!   `sys/net80211/ieee80211_ioctl.c` at
//!   2d614aa2fe3e037bd11d351b0b5cfda776e65814,
//!   `sys/net80211/ieee80211_freebsd.c` at
//!   b252a43e730c4537edb40d2bb1347a2434d4d6a8, `sys/net80211/ieee80211.c`
//!   at 3890cae0e41174b801dd6a57960fb0ef3e13a7c9.
//!
//! rc's `libexec/rc/rc.d/wpa_supplicant` was read in `freebsd/freebsd-src`
//! main at 023fc80ee38a117fa65b2ccb2abf8bdc7dbd6fd9 (post-14.0; no
//! releng/14 copy was at hand): it has no post-start (13.x's `ifconfig
//! down; sleep 2; ifconfig up` is gone), and nothing here depends on one.
//! `libexec/rc/network.subr` was read at
//! 03ccfdd2ecf36648affb5bb7868bc1dd2f8b195d (see [`rc`]). The wpa_supplicant
//! model is inferred from hostap's `contrib/wpa/src/l2_packet/
//! l2_packet_freebsd.c` and `src/drivers/driver_bsd.c`, not observed on
//! FreeBSD.
//!
//! Deterministic by design: `BTreeMap`/`Vec` only, a simulated clock in
//! integer milliseconds and no wall clock, no randomness (the seeded fault
//! injector lives in [`fault`]).
//!
//! Time: a driver reports LINK_UP an autonegotiation (an Ethernet NIC, 2.5
//! s, machine key `autoneg`) or an association (a vap, 2.0 s, `assoc`)
//! after the interface became able to carry: brought up or re-initialised
//! (SIOCSIFFLAGS up, the down/up inside `if_setlladdr`, an iflib reset for
//! SIOCSIFCAP) with its cable in or its AP in reach and, for a vap on a WPA
//! network, a wpa_supplicant using the vap's on-air address. Losing that
//! (cable out, AP gone, the down half of a re-initialisation, a
//! wpa_supplicant restart's deauthentication) is reported at once, and
//! lagg's failover follows a port's link change at once (`lagg_linkstate`,
//! `lagg_link_active`). [`SimKernel::advance`] runs the clock; a machine
//! file describes a settled world (every pending link up).
//!
//! Fidelity notes and chosen divergences:
//! - Link state changes are applied synchronously, in the order the kernel
//!   code calls `if_link_state_change`, and never coalesced. On FreeBSD
//!   `do_link_state_change` runs from a taskqueue and may coalesce a quick
//!   down/up ("link states coalesced"), so a real kernel can emit fewer
//!   events than the simulator, never more.
//! - Because of that taskqueue, devd reads an interface's ATTACH or DETACH
//!   (sent at once by `devctl_notify` in `if_attach_internal` /
//!   `if_detach_internal`) before the link events raised in the same
//!   instant: a lagg's LINK_DOWN after its port's DETACH, an associated
//!   vap's LINK_DOWN after its own DETACH (`ieee80211_vap_detach` detaches
//!   the ifnet, then stops the vap and drains its `if_linktask`). Read in
//!   `gmshake/freebsd-src` `sys/net/if.c` (dafe137c…: `if_link_state_change`,
//!   `if_detach_internal`) and `fel1x-developer/freebsd-src`
//!   `sys/net80211/ieee80211.c` (3890cae0…: `ieee80211_vap_detach`).
//! - A port's link change is reported before the lagg aggregate change it
//!   causes (`do_link_state_change` calls `lagg_linkstate_p` before
//!   `devctl_notify`, and the lagg's own change is queued after).
//! - Only `IFNET` events are emitted; the `ETHERNET IF IFATTACH` that
//!   `ether_ifattach` also sends is left out (no lagghook rule matches it).
//! - A new ifnet starts at LINK_STATE_UNKNOWN (`if_alloc`), and a driver's
//!   first report is a LINK_UP: UNKNOWN → down is silent (see
//!   `ifnet::refresh_link`).
//! - Link state of an Ethernet NIC is `medium && IFF_UP`; of a wlan vap
//!   `AP in reach && IFF_UP && wpa_supplicant's address == iv_myaddr`
//!   (the last term is inferred from hostap, see [`SimKernel::air_mac`]).
//! - wlan drivers that allow only one vap per radio (`ic_vap_create`
//!   failing with EIO) are not modelled: any number of vaps may share a
//!   radio.
//! - The "AP in reach" medium is kept per vap, not per radio.
//! - The re-initialisation an iflib NIC goes through when lagg changes its
//!   enabled capabilities (`iflib_stop` and `iflib_init_locked` around
//!   SIOCSIFCAP) is a down/up like the bounce of `if_setlladdr`: no carrier
//!   from the reset until autonegotiation completes, during which lagg
//!   fails over to the wlan. A reset during a negotiation restarts it.
//! - A vap whose wpa_supplicant uses another address than the vap's
//!   `iv_myaddr` associates (net80211 reports LINK_UP at RUN), fails its
//!   4-way handshake (wpa_supplicant's pcap filter waits for frames to its
//!   own address, `l2_packet_freebsd.c`), is deauthenticated by the AP and
//!   goes LINK_DOWN, and does it again on every retry, with the timings of
//!   hostapd and wpa_supplicant ([`station`]); no traffic flows meanwhile.
//!   A vap whose `iv_myaddr` is not its lladdr, or whose radio kept
//!   another address (its class, [`net80211`]), never joins at all.
//! - The durations are fixed per interface; real ones vary (1 to 3 s for an
//!   em(4) autonegotiation, more for a scan on a crowded band).

mod fault;
mod file;
#[cfg(test)]
mod fixture;
mod if_lagg;
mod ifnet;
/// Layer 3 (issue 20): addresses, routes, neighbours, probes, DHCP clients.
pub mod net;
mod net80211;
mod oracle;
mod pseudo;
mod rc;
mod render;
mod root;
mod snapshot;
mod station;
mod world;

pub use fault::Faulty;
pub use file::{Machine, MachineInterface, MachineRadio, Seconds, WpaMac};
pub use net::{Ipv4Net, Ipv6Net, NetHappening, NetRecord};
pub use net80211::factory_mac;
pub use rc::{RcConf, RcConfError};
pub use root::SimRoot;
pub use station::{retry_delay_ms, AP_HANDSHAKE_DEADLINE_MS};
pub use world::Happening;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::domain::event::DevdEvent;
use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeResult,
    Ssid, WpaState,
};
use crate::domain::model::WpaAddress;
use crate::domain::model::{IfName, Interface, LaggModule, LaggProto, LaggStatus, MacAddr};
use crate::domain::text;
use crate::domain::wifi_driver::LladdrClass;
use crate::kernel::{Errno, Kernel, KernelError, Op};
use crate::sys::file::{self as sys_file, Links};
use std::net::IpAddr;

use ifnet::Ifnet;

/// A problem with the simulated world itself (bad machine file, impossible
/// happening), as opposed to a kernel refusal, which is a [`KernelError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError(String, Option<usize>);

impl SimError {
    fn new(msg: impl Into<String>) -> SimError {
        SimError(msg.into(), None)
    }

    /// An error about the key at byte `offset` of the machine's text (a
    /// name that a later key does not know).
    fn at(msg: impl Into<String>, offset: usize) -> SimError {
        SimError(msg.into(), Some(offset))
    }

    /// The one-line explanation.
    pub fn message(&self) -> &str {
        &self.0
    }

    /// Where in the machine's text the error is, when it is about one key.
    pub fn offset(&self) -> Option<usize> {
        self.1
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SimError {}

/// The simulated kernel. See the module documentation for what it models.
#[derive(Debug, Clone)]
pub struct SimKernel {
    ifnets: BTreeMap<IfName, Ifnet>,
    /// 802.11 devices (`net.wlan.devices`): every parent ever named by a
    /// vap, plus the machine file's `radios` list. A radio outlives its
    /// vaps: destroying wlan0 does not detach iwn0.
    radios: BTreeSet<IfName>,
    /// Radios that were left out of a boot (`reboot absent=…`) and have not
    /// attached since (`attach-radio`): no vap can be created on them.
    absent_radios: BTreeSet<IfName>,
    /// How each radio's driver takes a new address ([`net80211`]); a radio
    /// not listed is native. The card's, so it survives reboots.
    radio_lladdr: BTreeMap<IfName, LladdrClass>,
    /// What a destroyed vap was like (its AP's reach, security, control
    /// socket, association time), for the vap rc creates again under its
    /// name: the world around the card did not change. Not kernel state,
    /// and not in the machine file.
    gone_vaps: BTreeMap<IfName, net80211::VapTemplate>,
    /// The rc.conf lines rc reads ([`rc`]); the machine's `/etc`, not
    /// kernel state.
    rc_conf: RcConf,
    /// The machine file's `[machine.files]`: what `check` reads
    /// ([`SimRoot`]). Nothing in the simulator reads them, but they are
    /// part of the machine, so they are saved with it.
    files: BTreeMap<String, String>,
    /// What rc wrote on the console, not yet taken.
    console: Vec<String>,
    /// rc.resume is due to run the `resume` scripts
    /// ([`SimKernel::take_resume_scripts`]).
    resume_scripts: bool,
    /// `net.link.lagg.failover_rx_all`; `None` when if_lagg is not loaded.
    failover_rx_all: Option<bool>,
    /// `kern.securelevel`.
    securelevel: i32,
    /// `if_lagg.ko` is in `kern.module_path`.
    if_lagg_ko: bool,
    /// devctl events not yet taken.
    events: Vec<DevdEvent>,
    /// False while a machine is being built: building is not an event.
    emitting: bool,
    /// Simulated time in ms ([`SimKernel::advance`]); a machine starts at 0.
    now: u64,
    /// Addresses laggs took, not yet taken ([`oracle`]).
    lagg_macs: Vec<(IfName, MacAddr)>,
    lagg_mac_last: BTreeMap<IfName, MacAddr>,
    writes: u64,
    /// epair(4)'s `next_index`, which its addresses are made from; a
    /// counter, not state.
    epairs_made: u32,
    calls: Vec<String>,
    /// The reads, in order, named after the request (`"SIOCGLAGG lagg0"`).
    reads: Vec<String>,
    /// Layer 3 ([`net`]).
    net: net::Net,
}

impl PartialEq for SimKernel {
    /// The state of the world; the call record (`writes`, `calls`), the
    /// clock, rc's console and rc.conf lines are not state (a machine file
    /// has no clock: pending links are part of `ifnets`).
    fn eq(&self, other: &SimKernel) -> bool {
        self.ifnets == other.ifnets
            && self.radios == other.radios
            && self.absent_radios == other.absent_radios
            && self.radio_lladdr == other.radio_lladdr
            && self.failover_rx_all == other.failover_rx_all
            && self.securelevel == other.securelevel
            && self.if_lagg_ko == other.if_lagg_ko
            && self.events == other.events
            && self.files == other.files
            && self.net.same_state(&other.net)
    }
}

impl Eq for SimKernel {}

impl Default for SimKernel {
    fn default() -> SimKernel {
        SimKernel::new()
    }
}

/// Name of an errno for the call record ("EEXIST", or "errno 5").
fn errno_name(e: Errno) -> String {
    e.name().map_or_else(|| format!("errno {}", e.code()), str::to_owned)
}

impl SimKernel {
    /// An empty machine with if_lagg loaded and
    /// `net.link.lagg.failover_rx_all` = 0 (its default, `sys/net/if_lagg.c`).
    pub fn new() -> SimKernel {
        SimKernel {
            ifnets: BTreeMap::new(),
            radios: BTreeSet::new(),
            absent_radios: BTreeSet::new(),
            radio_lladdr: BTreeMap::new(),
            gone_vaps: BTreeMap::new(),
            rc_conf: RcConf::default(),
            files: BTreeMap::new(),
            console: Vec::new(),
            resume_scripts: false,
            failover_rx_all: Some(false),
            securelevel: -1,
            if_lagg_ko: true,
            events: Vec::new(),
            emitting: true,
            now: 0,
            reads: Vec::new(),
            lagg_macs: Vec::new(),
            lagg_mac_last: BTreeMap::new(),
            writes: 0,
            epairs_made: 0,
            calls: Vec::new(),
            net: net::Net::default(),
        }
    }

    /// Builds the machine a [`Machine`] describes (see [`file`] for the
    /// rules of construction). No events are emitted while building.
    pub fn from_machine(m: &Machine) -> Result<SimKernel, SimError> {
        file::build(m)
    }

    /// The machine description that rebuilds this kernel exactly
    /// (`from_machine(&k.to_machine()) == k`), with every state the plain
    /// scenario keys do not cover written as extra keys.
    pub fn to_machine(&self) -> Machine {
        file::describe(self)
    }

    /// Reads a TOML file and builds its `[machine]` table; other top-level
    /// keys (a scenario's `description`, `config`, `step`) are ignored, so
    /// every scenario file is also a kernel file.
    pub fn load(path: &Path) -> Result<SimKernel, SimError> {
        // The file lagghook writes back: a regular file, capped, never
        // through a link (see `sys::file`).
        let at = |e: &dyn std::fmt::Display| SimError::new(format!("{}: {e}", text::path(path)));
        let text =
            sys_file::read_regular(path, Links::Refuse).map_err(|e| at(&text::io_error(&e)))?;
        let m = file::parse_document(&text)
            .map_err(|e| SimError::new(format!("{}:{e}", text::path(path))))?;
        SimKernel::from_machine(&m).map_err(|e| at(&e))
    }

    /// Writes the machine as TOML, atomically (`sys::file::write_atomically`:
    /// a new file renamed over `path`, never written through a link).
    ///
    /// A machine file has no clock: what is saved is the world after time
    /// has passed, every pending link up (its devd events queued in the
    /// file), as the next `-k sim:` run would find it.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        let at = |e: &dyn std::fmt::Display| SimError::new(format!("{}: {e}", text::path(path)));
        let mut settled = self.clone();
        settled.settle();
        let text = file::to_document(&settled.to_machine()).map_err(|e| at(&e))?;
        sys_file::write_atomically(path, text.as_bytes()).map_err(|e| at(&text::io_error(&e)))
    }

    /// The machine's files (`[machine.files]`), read-only, as `check`
    /// reads them.
    pub fn root(&self) -> SimRoot {
        SimRoot::new(self.files.clone())
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

    /// The reads made through the [`Kernel`] trait since the record was
    /// last cleared, in order: what a run costs when it changes nothing.
    pub fn reads(&self) -> &[String] {
        &self.reads
    }

    /// Layer 3 ([`net`]).
    pub fn net(&self) -> &net::Net {
        &self.net
    }

    /// Layer 3, to change ([`net`]).
    pub fn net_mut(&mut self) -> &mut net::Net {
        &mut self.net
    }

    /// The detached helpers spawned since the last take, for the scenario
    /// harness to run on simulated time.
    pub fn take_spawned(&mut self) -> Vec<net::Spawned> {
        self.net.take_spawned()
    }

    /// Forgets the call record (not the state).
    pub fn clear_record(&mut self) {
        self.writes = 0;
        self.calls.clear();
        self.reads.clear();
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
        self.note_lagg_macs();
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
}

impl Kernel for SimKernel {
    /// getifaddrs(3) and friends: every ifnet in `if_index` order.
    fn interfaces(&mut self) -> Result<Vec<Interface>, KernelError> {
        self.reads.push("getifaddrs".to_owned());
        Ok(self.by_index().into_iter().map(|i| self.report(i)).collect())
    }

    /// `SIOCGLAGG` (`SimKernel::siocglagg`).
    fn lagg_status(&mut self, lagg: &IfName) -> Result<LaggStatus, KernelError> {
        self.reads.push(format!("SIOCGLAGG {lagg}"));
        self.siocglagg(lagg).map_err(|e| KernelError::errno(Op::GetLagg, Some(lagg), e))
    }

    fn failover_rx_all(&mut self) -> Result<Option<bool>, KernelError> {
        self.reads.push("sysctl net.link.lagg.failover_rx_all".to_owned());
        Ok(self.failover_rx_all)
    }

    fn set_failover_rx_all(&mut self, value: bool) -> Result<(), KernelError> {
        let r = self.sysctl_failover_rx_all(value);
        let what = format!("sysctl net.link.lagg.failover_rx_all={}", u8::from(value));
        self.record(what, Op::SetSysctl, None, r)
    }

    fn create_lagg(&mut self, lagg: &IfName) -> Result<(), KernelError> {
        let r = self.lagg_clone_create(lagg);
        self.record(format!("SIOCIFCREATE2 {lagg}"), Op::CreateLagg, Some(lagg), r)
    }

    fn set_lagg_proto(&mut self, lagg: &IfName, proto: LaggProto) -> Result<(), KernelError> {
        let r = self.siocslagg(lagg, proto);
        self.record(format!("SIOCSLAGG {lagg} {proto}"), Op::SetLaggProto, Some(lagg), r)
    }

    fn add_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        let r = self.lagg_port_create(lagg, port);
        // Errors name the port, as the FreeBSD backend's do: EEXIST, EBUSY
        // and ENOENT are about the port; the action names the lagg.
        self.record(format!("SIOCSLAGGPORT {lagg} {port}"), Op::AddLaggPort, Some(port), r)
    }

    fn remove_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        let r = self.siocslaggdelport(lagg, port);
        self.record(format!("SIOCSLAGGDELPORT {lagg} {port}"), Op::RemoveLaggPort, Some(port), r)
    }

    fn set_lladdr(&mut self, ifname: &IfName, mac: MacAddr) -> Result<(), KernelError> {
        let r = self.siocsiflladdr(ifname, mac);
        self.record(format!("SIOCSIFLLADDR {ifname} {mac}"), Op::SetLladdr, Some(ifname), r)
    }

    fn set_up(&mut self, ifname: &IfName, up: bool) -> Result<(), KernelError> {
        let r = self.siocsifflags(ifname, up);
        let what = format!("SIOCSIFFLAGS {ifname} {}", if up { "up" } else { "down" });
        self.record(what, Op::SetFlags, Some(ifname), r)
    }

    fn lagg_module(&mut self) -> Result<LaggModule, KernelError> {
        self.reads.push("modfind if_lagg".to_owned());
        Ok(self.modfind_lagg())
    }

    fn load_lagg_module(&mut self) -> Result<(), KernelError> {
        let r = self.ifmaybeload_lagg();
        self.record("kldload if_lagg".to_owned(), Op::LoadModule, None, r)
    }

    fn restart_wpa_supplicant(&mut self, wlan: &IfName) -> Result<(), KernelError> {
        let r = self.wpa_supplicant_restart(wlan);
        self.record(
            format!("wpa_supplicant restart {wlan}"),
            Op::RestartWpaSupplicant,
            Some(wlan),
            r,
        )
    }

    /// `SimKernel::recreate_vap`: the vap destroyed and created again on
    /// `parent` with `wlanaddr mac`, then configured as rc does.
    fn recreate_vap(
        &mut self,
        wlan: &IfName,
        parent: &IfName,
        mac: MacAddr,
    ) -> Result<(), KernelError> {
        let r = self.wlan_recreate(wlan, parent, mac);
        let what = format!("recreate {wlan} wlandev {parent} wlanaddr {mac}");
        self.record(what, Op::RecreateVap, Some(wlan), r)
    }

    /// wpa_supplicant's own address; a read, so not recorded: the address
    /// it last read (at start, or when a userland up or a net80211
    /// stop/start told it the vap was enabled again), `Unknown` when it has
    /// no control socket, `NotRunning` without one. ENXIO for no such
    /// interface and EINVAL for one that is no vap, as
    /// `wpa_supplicant_restart` answers.
    fn wpa_supplicant_address(&mut self, wlan: &IfName) -> Result<WpaAddress, KernelError> {
        self.reads.push(format!("wpa_supplicant STATUS {wlan}"));
        let err = |e| KernelError::errno(Op::GetWpaAddress, Some(wlan), e);
        let ifn = self.ifnets.get(wlan).ok_or_else(|| err(Errno::ENXIO))?;
        let vap = ifn.vap.as_ref().ok_or_else(|| err(Errno::EINVAL))?;
        Ok(match vap.wpa {
            None => WpaAddress::NotRunning,
            // No `ctrl_interface` in wpa_supplicant.conf: it runs, says
            // nothing (machine key `wpa_ctrl = false`).
            Some(_) if !vap.ctrl => WpaAddress::Unknown,
            Some(mac) => WpaAddress::Known(mac),
        })
    }

    /// `net.wlan.devices` (`sysctl_ieee80211coms` in
    /// `sys/net80211/ieee80211.c`): the radios attached now, in name
    /// order (FreeBSD lists the newest first, `LIST_INSERT_HEAD` in
    /// `ieee80211_ifattach`; nothing lagghook does depends on the order).
    /// A radio left out of a boot is not there. A read, so not recorded.
    fn wlan_devices(&mut self) -> Result<Vec<IfName>, KernelError> {
        Ok(self.radios.iter().cloned().collect())
    }

    fn addresses(&mut self, ifname: &IfName) -> Result<Vec<IfAddr>, KernelError> {
        self.reads.push(format!("getifaddrs inet {ifname}"));
        if !self.ifnets.contains_key(ifname) {
            return Err(KernelError::errno(Op::GetAddresses, Some(ifname), Errno::ENXIO));
        }
        Ok(self.l3_addresses(ifname))
    }

    fn default_routes(&mut self) -> Result<Vec<DefaultRoute>, KernelError> {
        self.reads.push("RTM_GET default".to_owned());
        Ok(self.l3_default_routes())
    }

    fn neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<Option<Neighbour>, KernelError> {
        self.reads.push(format!("RTM_GET llinfo {ifname} {ip}"));
        Ok(self.l3_neighbour(ifname, ip))
    }

    /// Recorded as a read: it sends frames but changes no kernel state.
    fn probe(
        &mut self,
        lagg: &IfName,
        exchange: &ProbeExchange,
    ) -> Result<ProbeResult, KernelError> {
        if !self.ifnets.contains_key(lagg) {
            return Err(KernelError::errno(Op::Probe, Some(lagg), Errno::ENXIO));
        }
        let result = self.l3_probe(lagg, exchange);
        self.reads.push(format!(
            "bpf probe {lagg}: {} sent, {} replies",
            result.sent,
            result.replies.len()
        ));
        Ok(result)
    }

    fn delete_address(&mut self, ifname: &IfName, addr: IfAddr) -> Result<(), KernelError> {
        let op = if addr.ipv4().is_some() { Op::DeleteAddress } else { Op::DeleteAddress6 };
        let r = self.l3_delete_address(ifname, addr);
        self.record(format!("{} {ifname} {addr}", op.name()), op, Some(ifname), r)
    }

    fn delete_default_route(&mut self, route: &DefaultRoute) -> Result<(), KernelError> {
        let r = self.l3_delete_default_route(route);
        let what = format!("RTM_DELETE default {} {}", route.gateway, route.ifname);
        self.record(what, Op::DeleteRoute, Some(&route.ifname), r)
    }

    fn delete_neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<(), KernelError> {
        let r = self.l3_delete_neighbour(ifname, ip);
        self.record(
            format!("RTM_DELETE llinfo {ifname} {ip}"),
            Op::DeleteNeighbour,
            Some(ifname),
            r,
        )
    }

    fn ssid(&mut self, wlan: &IfName) -> Result<Option<Ssid>, KernelError> {
        self.reads.push(format!("SIOCG80211 SSID {wlan}"));
        let err = |e| KernelError::errno(Op::GetSsid, Some(wlan), e);
        let ifn = self.ifnets.get(wlan).ok_or_else(|| err(Errno::ENXIO))?;
        if ifn.vap.is_none() {
            return Err(err(Errno::EINVAL));
        }
        Ok(self.l3_ssid(wlan))
    }

    fn wpa_supplicant_state(&mut self, wlan: &IfName) -> Result<WpaState, KernelError> {
        self.reads.push(format!("wpa_supplicant STATUS wpa_state {wlan}"));
        let err = |e| KernelError::errno(Op::GetWpaState, Some(wlan), e);
        let ifn = self.ifnets.get(wlan).ok_or_else(|| err(Errno::ENXIO))?;
        if ifn.vap.is_none() {
            return Err(err(Errno::EINVAL));
        }
        Ok(self.l3_wpa_state(wlan))
    }

    fn dhcp_client(&mut self, ifname: &IfName) -> Result<Option<DhcpProcess>, KernelError> {
        self.reads.push(format!("DHCP client pidfile {ifname}"));
        Ok(self.l3_dhcp_client(ifname))
    }

    fn stop_dhcp_client(
        &mut self,
        ifname: &IfName,
        process: DhcpProcess,
    ) -> Result<(), KernelError> {
        let r = self.l3_stop_dhcp_client(ifname, process);
        let what = format!("kill {} {} ({ifname})", process.client, process.pid);
        self.record(what, Op::StopDhcpClient, Some(ifname), r)
    }

    fn start_dhcp_client(
        &mut self,
        ifname: &IfName,
        client: DhcpClient,
        lease: &Lease,
    ) -> Result<(), KernelError> {
        let r = self.l3_start_dhcp_client(ifname, client, lease);
        let what = format!("start {client} {ifname} lease {lease}");
        self.record(what, Op::StartDhcpClient, Some(ifname), r)
    }

    fn solicit_router(&mut self, ifname: &IfName) -> Result<(), KernelError> {
        let r = self.l3_solicit_router(ifname);
        self.record(format!("rtsol {ifname}"), Op::SolicitRouter, Some(ifname), r)
    }

    /// Not a write: it starts a process and changes no kernel state. The
    /// harness takes it ([`SimKernel::take_spawned`]).
    fn spawn_netcheck(&mut self, lagg: &IfName, generation: u64) -> Result<(), KernelError> {
        self.calls.push(format!("spawn lagghook netcheck {lagg} {generation}: ok"));
        self.l3_spawn_netcheck(lagg, generation);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::LinkState;
    use crate::sim::fixture::{ether, laptop, mac, n, p, ports, Laptop, E, W};

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
    fn machine_round_trips_through_to_machine_and_files() {
        let mut em1 = ether("em1", "00:11:22:33:44:77");
        em1.mtu = Some(9000);
        let mut k = Laptop::new().wlan_mac(W).with(em1).build();
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
        k.settle();
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

    /// Proves `net.wlan.devices` lists every radio, with a vap or not, and
    /// not one left out of a boot.
    #[test]
    fn wlan_devices_are_the_attached_radios() {
        let mut k = laptop();
        assert_eq!(k.wlan_devices().unwrap(), [n("iwn0")]);
        let m = Machine { radios: Some(vec![n("ath0")]), ..Machine::default() };
        assert_eq!(SimKernel::from_machine(&m).unwrap().wlan_devices().unwrap(), [n("ath0")]);
        let m = Machine { absent_radios: Some(vec![n("ath0")]), ..Machine::default() };
        assert!(SimKernel::from_machine(&m).unwrap().wlan_devices().unwrap().is_empty());
        assert_eq!(k.writes(), 0, "a read");
    }

    #[test]
    fn load_reports_the_path_and_missing_files() {
        let err = SimKernel::load(Path::new("/nonexistent/lagghook.toml")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/lagghook.toml: "), "{err}");
    }
}
