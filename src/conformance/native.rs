//! The real kernel of a vnet jail as a world. Each step runs the fixed
//! commands [`Step::commands`] names (`/sbin/ifconfig`, `/sbin/sysctl`,
//! absolute paths, a clean environment, no shell: the only data in an
//! argument is an interface name, a MAC or an MTU the harness itself
//! chose); taps are opened and closed as files; what is observed comes
//! through lagghook's own FreeBSD backend, and the events through a routing
//! socket ([`super::rtsock`]). This code compiles everywhere and only works
//! on FreeBSD, inside a jail [`super::jail`] made: its `reset` destroys
//! every interface of the jail's vnet but `lo0`.
//!
//! How the kernel's refusals are read: ifconfig prints `ifconfig: WHAT:
//! strerror` and exits 1; the text after the last `": "` is matched with
//! FreeBSD's strerror(3) texts (`abi::ERRNOS`), and ifconfig's own
//! "interface X does not exist" (it looks the name up before any ioctl) is
//! ENXIO, what `ifioctl` would have answered. `ifconfig LAGG laggport IF`
//! ignores EEXIST (`setlaggport` in `sbin/ifconfig/iflagg.c`: "Don't
//! error at all if the port is already in the lagg"), and the simulator's
//! world does the same.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::abi;
use crate::domain::event::DevdEvent;
use crate::domain::model::IfName;
use crate::kernel::{Errno, Kernel};
use crate::sys::{file, spawn};
use crate::sys::{NativeKernel, RouteSocket};

use super::jail::Stopper;
use super::rtsock::{self, DevdMapper};
use super::step::{Outcome, Step};
use super::world::{refused, World, WorldError, HOST_WIDE, NOT_A_TAP, NOT_OPEN};
use crate::domain::config::Config;

/// ifconfig(8).
pub const IFCONFIG: &str = "/sbin/ifconfig";
/// sysctl(8).
pub const SYSCTL: &str = "/sbin/sysctl";

/// How long a command's consequences take to reach userland: link changes
/// run from the `taskqueue_swi` thread (`if_link_state_change`), which
/// takes microseconds; 200 ms also lets a loaded VM catch up.
pub const SETTLE: Duration = Duration::from_millis(200);

/// What a command printed, or why it failed.
fn run(program: &str, args: &[&str]) -> Result<String, Outcome> {
    let out = spawn::command(Path::new(program), args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Outcome::Refused(format!("{program}: {e}")))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    Err(Outcome::Refused(refusal(err.lines().last().unwrap_or(""))))
}

/// ifconfig's or sysctl's complaint as an errno name where it is one.
pub fn refusal(line: &str) -> String {
    if line.contains("does not exist") {
        return "ENXIO".to_owned();
    }
    let text = line.rsplit(": ").next().unwrap_or(line).trim();
    abi::ERRNOS
        .iter()
        .find(|e| e.text == text)
        .map_or_else(|| text.to_owned(), |e| e.name.to_owned())
}

fn outcome(r: Result<String, Outcome>) -> Outcome {
    match r {
        Ok(_) => Outcome::Done,
        Err(o) => o,
    }
}

/// A tap the harness made: its device (`/dev/tapN`, which a rename keeps;
/// the alias `tunrename` adds may clash with a host name, so it is not
/// used), and the open file while the cable is "in".
#[derive(Debug)]
struct Tap {
    device: String,
    open: Option<File>,
}

/// The kernel of the vnet jail this process runs in.
pub struct NativeWorld {
    kernel: NativeKernel,
    socket: RouteSocket,
    mapper: DevdMapper,
    taps: BTreeMap<IfName, Tap>,
    transient: BTreeMap<String, String>,
    /// Run the host-only steps (wtap) instead of skipping them.
    host: bool,
    /// The host-wide part's: the signal watch, and the lagghook-devd its
    /// devd runs.
    on_host: Option<(Stopper, PathBuf)>,
    /// The wtap radios this world made (ids), deleted by `reset`.
    radios: Vec<i32>,
    /// The devd this world started, and its directory.
    devd: Option<(Child, PathBuf)>,
}

impl NativeWorld {
    /// Opens lagghook's backend and a routing socket.
    pub fn open(host: bool) -> Result<NativeWorld, WorldError> {
        let kernel = NativeKernel::open()?;
        let socket = RouteSocket::open().map_err(|e| WorldError(format!("routing socket: {e}")))?;
        Ok(NativeWorld {
            kernel,
            socket,
            mapper: DevdMapper::default(),
            taps: BTreeMap::new(),
            transient: BTreeMap::new(),
            host,
            on_host: None,
            radios: Vec::new(),
            devd: None,
        })
    }

    /// The host's vnet as a world, for the host-wide part: it stops at the
    /// next step once `stopper` caught a signal, and its devd runs
    /// `devd_program` (the freshly built lagghook-devd).
    pub fn on_host(stopper: Stopper, devd_program: PathBuf) -> Result<NativeWorld, WorldError> {
        let mut w = NativeWorld::open(true)?;
        w.on_host = Some((stopper, devd_program));
        Ok(w)
    }

    /// `wtap c ID` for radio `r` (`wtapID`), then proof that net80211
    /// names it so (`net.wlan.devices`; a 13.x wtap names its radios
    /// `wlanID`, `new_wtap` in `freebsd14_vendor`).
    fn create_wtap(&mut self, r: &IfName) -> Outcome {
        let Some(id) = r.unit().and_then(|u| i32::try_from(u).ok()) else {
            return refused(Errno::EINVAL);
        };
        if let Err(e) = crate::sys::wtap::create(id) {
            return match e.raw_os_error() {
                Some(code) => refused(Errno::from_code(code)),
                None => Outcome::Refused(e.to_string()),
            };
        }
        self.radios.push(id);
        match run(SYSCTL, &["-n", "net.wlan.devices"]) {
            Ok(list) if list.split_whitespace().any(|d| d == r.as_str()) => Outcome::Done,
            Ok(list) => Outcome::Refused(format!(
                "wtap c {id} made no {r} (net.wlan.devices: {list}): not 14.x's wtap(4)"
            )),
            Err(o) => o,
        }
    }

    /// Our devd stopped and its directory removed.
    fn stop_our_devd(&mut self) {
        if let Some((mut child, dir)) = self.devd.take() {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    fn ifconfig(&self, args: &[&str]) -> Result<String, Outcome> {
        run(IFCONFIG, args)
    }

    /// `ifconfig CLONER create`, then the renames: the name the cloner
    /// printed is recorded with its placeholder.
    fn create(&mut self, cloner: &str, names: &[(&IfName, &str)]) -> Result<Vec<String>, Outcome> {
        let first = self.ifconfig(&[cloner, "create"])?;
        let mut picked = vec![first.clone()];
        if cloner == "epair" {
            picked.push(format!("{}b", first.trim_end_matches('a')));
        }
        for (p, (_, placeholder)) in picked.iter().zip(names) {
            self.transient.insert(p.clone(), (*placeholder).to_owned());
        }
        if cloner == "tap" {
            self.ifconfig(&[&first, "link0"])?;
        }
        std::thread::sleep(SETTLE);
        for (p, (name, _)) in picked.iter().zip(names) {
            self.ifconfig(&[p, "name", name.as_str()])?;
        }
        Ok(picked)
    }
}

impl World for NativeWorld {
    fn label(&self) -> &'static str {
        "kernel"
    }

    fn reset(&mut self) -> Result<(), WorldError> {
        self.stop_our_devd();
        self.taps.clear();
        self.transient.clear();
        // In the jail every interface but lo0 is the harness's; on a
        // disposable host only its own names and the laggs (the host mode
        // refuses to start while any lagg exists) are.
        let ours = |i: &crate::domain::model::Interface, host: bool| {
            if host {
                i.kind == crate::domain::model::IfKind::Lagg
                    || super::world::PREFIXES.iter().any(|p| i.name.as_str().starts_with(p))
            } else {
                i.name.as_str() != "lo0"
            }
        };
        for i in self.kernel.interfaces()? {
            if ours(&i, self.host) {
                // Each may take its epair peer with it: a failure for the
                // second end is no failure.
                let _ = self.ifconfig(&[i.name.as_str(), "destroy"]);
            }
        }
        // A radio's vaps go with it (`free_wtap` → `ieee80211_ifdetach`).
        for id in std::mem::take(&mut self.radios) {
            let _ = crate::sys::wtap::delete(id);
        }
        if self.kernel.failover_rx_all()?.is_some() {
            self.kernel.set_failover_rx_all(false)?;
        }
        std::thread::sleep(SETTLE);
        let left: Vec<String> = self
            .kernel
            .interfaces()?
            .into_iter()
            .filter(|i| ours(i, self.host))
            .map(|i| i.name.to_string())
            .collect();
        if !left.is_empty() {
            return Err(WorldError(format!("could not destroy {}", left.join(", "))));
        }
        self.take_events()?;
        Ok(())
    }

    fn apply(&mut self, step: &Step) -> Result<Outcome, WorldError> {
        if self.interrupted() {
            return Err(WorldError("stopped by a signal".into()));
        }
        self.transient.clear();
        Ok(match step {
            Step::CreateTap(p) => match self.create("tap", &[(p, "tap?")]) {
                Ok(picked) => {
                    let device = format!("/dev/{}", picked.first().map_or("tap", String::as_str));
                    self.taps.insert(p.clone(), Tap { device, open: None });
                    Outcome::Done
                }
                Err(o) => o,
            },
            Step::CreateEpair { port, peer } => outcome(
                self.create("epair", &[(port, "epair?a"), (peer, "epair?b")])
                    .map(|_| String::new()),
            ),
            Step::Open(p) | Step::Close(p) => {
                let opening = matches!(step, Step::Open(_));
                match self.taps.get_mut(p) {
                    None => Outcome::Refused(NOT_A_TAP.into()),
                    Some(t) if !opening && t.open.is_none() => Outcome::Refused(NOT_OPEN.into()),
                    Some(t) if !opening => {
                        t.open = None;
                        Outcome::Done
                    }
                    Some(t) => match file::open_device(Path::new(&t.device)) {
                        Ok(f) => {
                            t.open = Some(f);
                            Outcome::Done
                        }
                        Err(e) => match e.raw_os_error() {
                            Some(code) => refused(Errno::from_code(code)),
                            None => Outcome::Refused(e.to_string()),
                        },
                    },
                }
            }
            Step::Destroy(n) => {
                let r = self.ifconfig(&[n.as_str(), "destroy"]);
                if r.is_ok() {
                    self.taps.remove(n);
                }
                outcome(r)
            }
            Step::Rename { name, new } => {
                let r = self.ifconfig(&[name.as_str(), "name", new.as_str()]);
                if r.is_ok() {
                    if let Some(t) = self.taps.remove(name) {
                        self.taps.insert(new.clone(), t);
                    }
                }
                outcome(r)
            }
            Step::Up(n) => outcome(self.ifconfig(&[n.as_str(), "up"])),
            Step::Down(n) => outcome(self.ifconfig(&[n.as_str(), "down"])),
            Step::Ether { name, mac } => {
                outcome(self.ifconfig(&[name.as_str(), "ether", &mac.to_string()]))
            }
            Step::Mtu { name, mtu } => {
                outcome(self.ifconfig(&[name.as_str(), "mtu", &mtu.to_string()]))
            }
            Step::CreateLagg(l) => outcome(self.ifconfig(&[l.as_str(), "create"])),
            Step::LaggProto { lagg, proto } => {
                outcome(self.ifconfig(&[lagg.as_str(), "laggproto", &proto.to_string()]))
            }
            Step::LaggPort { lagg, port } => {
                outcome(self.ifconfig(&[lagg.as_str(), "laggport", port.as_str()]))
            }
            Step::UnLaggPort { lagg, port } => {
                outcome(self.ifconfig(&[lagg.as_str(), "-laggport", port.as_str()]))
            }
            Step::FailoverRxAll(v) => {
                let arg = format!("net.link.lagg.failover_rx_all={}", u8::from(*v));
                outcome(run(SYSCTL, &[&arg]))
            }
            Step::CreateWtap(_) | Step::CreateVap { .. } if !self.host => {
                Outcome::Skipped(format!(
                    "wtap(4) vaps live in the host's vnet (the wlan cloner is attached there \
                         only); {HOST_WIDE}"
                ))
            }
            Step::CreateWtap(r) => self.create_wtap(r),
            // wtap offers mesh (and, from 14, IBSS) only, `ic_caps` in
            // `wtap_attach`; a station vap is EOPNOTSUPP (`wlan_clone_create`
            // checks `ieee80211_opcap`). A mesh vap without a mesh id scans
            // and never links, as the simulator's vap with no AP in reach.
            Step::CreateVap { name, radio, mac } => {
                let mut args =
                    vec!["wlan", "create", "wlandev", radio.as_str(), "wlanmode", "mesh"];
                let m = mac.map(|m| m.to_string());
                if let Some(m) = &m {
                    args.extend(["wlanaddr", m.as_str()]);
                }
                match self.ifconfig(&args) {
                    Ok(picked) => {
                        self.transient.insert(picked.clone(), "wlan?".into());
                        outcome(self.ifconfig(&[&picked, "name", name.as_str()]))
                    }
                    Err(o) => o,
                }
            }
        })
    }

    fn settle(&mut self) {
        std::thread::sleep(SETTLE);
    }

    fn kernel(&mut self) -> &mut dyn Kernel {
        &mut self.kernel
    }

    fn take_events(&mut self) -> Result<Vec<DevdEvent>, WorldError> {
        let raw = self.socket.drain().map_err(|e| WorldError(format!("routing socket: {e}")))?;
        let events = rtsock::events(&mut self.mapper, &raw);
        self.mapper.seed(&self.kernel.interfaces()?);
        Ok(events)
    }

    fn transient(&self) -> &BTreeMap<String, String> {
        &self.transient
    }

    fn unload_lagg_module(&mut self) -> Outcome {
        if !self.host {
            return Outcome::Skipped(HOST_WIDE.into());
        }
        // A kernel with `device lagg` has no if_lagg.ko to unload
        // (`kldstat -n` names a file, which only a loaded module has).
        if run("/sbin/kldstat", &["-q", "-n", "if_lagg"]).is_err() {
            return Outcome::Skipped("if_lagg is compiled into this kernel, not a module".into());
        }
        outcome(run("/sbin/kldunload", &["if_lagg"]))
    }

    fn devd_start(&mut self, config: &Config, text: &str) -> Outcome {
        let Some((_, program)) = &self.on_host else {
            return Outcome::Skipped(HOST_WIDE.into());
        };
        let program = program.clone();
        match super::devd_files::start(config, text, &program) {
            Ok(started) => {
                self.devd = Some(started);
                Outcome::Done
            }
            Err(e) => Outcome::Refused(e),
        }
    }

    fn devd_pump(&mut self) -> Result<bool, WorldError> {
        std::thread::sleep(SETTLE);
        // Keep the routing socket drained, or it overflows while devd works.
        self.take_events()?;
        if let Some((child, dir)) = &mut self.devd {
            if let Ok(Some(status)) = child.try_wait() {
                let log = super::devd_files::log_tail(dir);
                return Err(WorldError(format!("devd exited ({status}): {log}")));
            }
        }
        Ok(true)
    }

    fn devd_stop(&mut self) {
        self.stop_our_devd();
    }

    fn interrupted(&self) -> bool {
        self.on_host.as_ref().is_some_and(|(s, _)| s.caught() != 0)
    }
}

impl Drop for NativeWorld {
    fn drop(&mut self) {
        self.stop_our_devd();
        for id in std::mem::take(&mut self.radios) {
            let _ = crate::sys::wtap::delete(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves ifconfig's complaints read as the errno the kernel gave.
    #[test]
    fn refusals_read_as_errnos() {
        assert_eq!(refusal("ifconfig: SIOCIFCREATE2 (lagg0): File exists"), "EEXIST");
        assert_eq!(refusal("ifconfig: interface lhc9 does not exist"), "ENXIO");
        assert_eq!(refusal("ifconfig: lagg0 lagg0: SIOCSLAGGPORT: Invalid argument"), "EINVAL");
        assert_eq!(refusal("ifconfig: something else: Whatever"), "Whatever");
    }
}
