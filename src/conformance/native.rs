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
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::abi;
use crate::domain::event::DevdEvent;
use crate::domain::model::IfName;
use crate::kernel::{Errno, Kernel};
use crate::sys::{file, spawn};
use crate::sys::{NativeKernel, RouteSocket};

use super::rtsock::{self, DevdMapper};
use super::step::{Outcome, Step};
use super::world::{refused, World, WorldError, NOT_A_TAP, NOT_OPEN};

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
        })
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
            Step::CreateWtap(_) | Step::CreateVap { .. } if !self.host => Outcome::Skipped(
                "wtap(4) vaps live in the host's vnet: only under the --disposable-host option"
                    .into(),
            ),
            Step::CreateWtap(_) => Outcome::Skipped(
                "creating a wtap radio needs WTAPIOCTLCRT on /dev/wtapctl, which the harness \
                 does not issue yet"
                    .into(),
            ),
            Step::CreateVap { name, radio, mac } => {
                let mut args = vec!["wlan", "create", "wlandev", radio.as_str()];
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
            return Outcome::Skipped(
                "unloading if_lagg is host-wide: only under the --disposable-host option".into(),
            );
        }
        outcome(run("/sbin/kldunload", &["if_lagg"]))
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
