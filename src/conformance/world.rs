//! A world the harness drives: the simulated kernel here ([`SimWorld`]), a
//! vnet jail's real one in [`super::native`]. Both start each sequence from
//! the same state (nothing the harness made, `failover_rx_all` 0), carry out
//! the same [`Step`]s, let the world settle, and hand over the devd events
//! and the names a cloner picked, so [`super::observe`] reads them alike.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::event::DevdEvent;
use crate::domain::model::{IfKind, IfName};
use crate::kernel::{Errno, Kernel, KernelError};
use crate::sim::{Machine, SimKernel};

use super::step::{Outcome, Step};

/// The harness itself could not go on (a command missing, the kernel
/// unreadable): not a difference, a failed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldError(pub String);

impl fmt::Display for WorldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WorldError {}

impl From<KernelError> for WorldError {
    fn from(e: KernelError) -> WorldError {
        WorldError(e.to_string())
    }
}

/// One world.
pub trait World {
    /// "kernel" or "simulator", for the report.
    fn label(&self) -> &'static str;
    /// Back to the starting state: every interface the harness made is
    /// destroyed, `failover_rx_all` is 0.
    fn reset(&mut self) -> Result<(), WorldError>;
    /// Carries out one step.
    fn apply(&mut self, step: &Step) -> Result<Outcome, WorldError>;
    /// Lets every link change the step caused happen.
    fn settle(&mut self);
    /// The kernel, for observing (and for lagghook's runs in the bodies).
    fn kernel(&mut self) -> &mut dyn Kernel;
    /// The devd events since the last call, in the order devd would read
    /// them.
    fn take_events(&mut self) -> Result<Vec<DevdEvent>, WorldError>;
    /// The names a cloner picked during the last step, and their
    /// placeholders (`tap3` → `tap?`); cleared by the next step.
    fn transient(&self) -> &BTreeMap<String, String>;
    /// `kldunload if_lagg` (a host-wide happening), with no lagg left.
    fn unload_lagg_module(&mut self) -> Outcome {
        Outcome::Skipped(
            "unloading if_lagg is host-wide: only under the --disposable-host option".into(),
        )
    }
}

/// The names the harness uses: its interfaces are these, so `reset` in a
/// jail may destroy every interface but `lo0`, and a world on the host's
/// vnet never touches one that is not its own.
pub const PREFIXES: [&str; 3] = ["lhc", "lhp", "lhw"];

/// An errno as a refusal.
pub fn refused(e: Errno) -> Outcome {
    Outcome::Refused(e.name().map_or_else(|| format!("errno {}", e.code()), str::to_owned))
}

fn outcome(r: Result<(), Errno>) -> Outcome {
    match r {
        Ok(()) => Outcome::Done,
        Err(e) => refused(e),
    }
}

fn kernel_outcome(r: Result<(), KernelError>) -> Outcome {
    match r {
        Ok(()) => Outcome::Done,
        Err(e) => match e.errno_value() {
            Some(errno) => refused(errno),
            None => Outcome::Refused(e.to_string()),
        },
    }
}

/// The refusal both worlds give for `open`/`close` of an interface that is
/// no tap the harness made.
pub const NOT_A_TAP: &str = "not a tap of the harness";
/// ... and for `close` of a tap that is not open.
pub const NOT_OPEN: &str = "not open";

/// The simulated kernel as a world: each step is the request the FreeBSD
/// half's command makes, through the same handlers (`SimKernel`'s models of
/// `ifhwioctl`, `lagg_ioctl`, the cloners).
#[derive(Debug, Clone, Default)]
pub struct SimWorld {
    pub kernel: SimKernel,
    transient: BTreeMap<String, String>,
}

impl SimWorld {
    pub fn new() -> SimWorld {
        SimWorld::default()
    }

    /// Creates with a cloner, notes the name it picked, renames.
    fn created(&mut self, picked: IfName, placeholder: &str, name: &IfName) -> Outcome {
        self.transient.insert(picked.to_string(), placeholder.to_owned());
        outcome(self.kernel.rename(&picked, name))
    }
}

impl World for SimWorld {
    fn label(&self) -> &'static str {
        "simulator"
    }

    fn reset(&mut self) -> Result<(), WorldError> {
        self.kernel = SimKernel::new();
        self.transient.clear();
        Ok(())
    }

    fn apply(&mut self, step: &Step) -> Result<Outcome, WorldError> {
        self.transient.clear();
        let k = &mut self.kernel;
        Ok(match step {
            Step::CreateTap(p) => match k.tap_create() {
                Ok(t) => self.created(t, "tap?", p),
                Err(e) => refused(e),
            },
            Step::CreateEpair { port, peer } => match k.epair_create() {
                Ok((a, b)) => {
                    self.transient.insert(b.to_string(), "epair?b".into());
                    match self.created(a, "epair?a", port) {
                        Outcome::Done => outcome(self.kernel.rename(&b, peer)),
                        other => other,
                    }
                }
                Err(e) => refused(e),
            },
            Step::Open(p) | Step::Close(p) => {
                let open = matches!(step, Step::Open(_));
                let is_tap = k.interface(p.as_str()).is_some() && k.is_tap(p);
                if !is_tap {
                    Outcome::Refused(NOT_A_TAP.into())
                } else if !open && !k.tap_is_open(p) {
                    Outcome::Refused(NOT_OPEN.into())
                } else {
                    outcome(k.tap_set_open(p, open))
                }
            }
            Step::Destroy(n) => outcome(k.clone_destroy(n)),
            Step::Rename { name, new } => outcome(k.rename(name, new)),
            Step::Up(n) => kernel_outcome(k.set_up(n, true)),
            Step::Down(n) => kernel_outcome(k.set_up(n, false)),
            Step::Ether { name, mac } => kernel_outcome(k.set_lladdr(name, *mac)),
            Step::Mtu { name, mtu } => outcome(k.set_mtu(name, *mtu)),
            Step::CreateLagg(l) => kernel_outcome(k.create_lagg(l)),
            Step::LaggProto { lagg, proto } => kernel_outcome(k.set_lagg_proto(lagg, *proto)),
            // ifconfig's `setlaggport` takes EEXIST for success
            // (`sbin/ifconfig/iflagg.c`), and the FreeBSD half runs ifconfig.
            Step::LaggPort { lagg, port } => match k.add_lagg_port(lagg, port) {
                Err(e) if e.errno_value() == Some(Errno::EEXIST) => Outcome::Done,
                r => kernel_outcome(r),
            },
            Step::UnLaggPort { lagg, port } => kernel_outcome(k.remove_lagg_port(lagg, port)),
            Step::FailoverRxAll(v) => kernel_outcome(k.set_failover_rx_all(*v)),
            Step::CreateWtap(r) => outcome(k.wtap_create(r)),
            Step::CreateVap { name, radio, mac } => {
                let picked = (0u32..)
                    .map(|u| format!("wlan{u}"))
                    .find(|w| k.interface(w).is_none())
                    .unwrap_or_default();
                let r = k.wlan_create(name, radio, *mac);
                if r.is_ok() && name.as_str() != picked {
                    self.transient.insert(picked, "wlan?".into());
                }
                outcome(r)
            }
        })
    }

    fn settle(&mut self) {
        self.kernel.settle();
    }

    fn kernel(&mut self) -> &mut dyn Kernel {
        &mut self.kernel
    }

    fn take_events(&mut self) -> Result<Vec<DevdEvent>, WorldError> {
        Ok(self.kernel.take_events())
    }

    fn transient(&self) -> &BTreeMap<String, String> {
        &self.transient
    }

    /// A machine that booted without if_lagg (machine key `if_lagg =
    /// false`), for a world with no lagg yet: kldunload(2) refuses while a
    /// lagg exists (EBUSY from `lagg_modevent`'s cloner detach).
    fn unload_lagg_module(&mut self) -> Outcome {
        if self.kernel.interfaces().is_ok_and(|l| l.iter().any(|i| i.kind == IfKind::Lagg)) {
            return refused(Errno::EBUSY);
        }
        match SimKernel::from_machine(&Machine { if_lagg: Some(false), ..Machine::default() }) {
            Ok(k) => {
                self.kernel = k;
                Outcome::Done
            }
            Err(e) => Outcome::Refused(e.to_string()),
        }
    }
}
