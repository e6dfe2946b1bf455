//! The machines the simulator's unit tests share, and the small helpers
//! every sim test module uses. Test-only.
//!
//! The base machine is the Handbook laptop of
//! `tests/fixtures/machines/laptop.toml` (em0, and wlan0 on iwn0 with em0's
//! MAC, in failover lagg0), the same file the scenario tests and CI read:
//! it is included here, never copied. A test that needs a variation edits
//! the parsed [`Machine`] through [`Laptop`]'s builder methods instead of
//! editing TOML text.

use crate::domain::event::DevdEvent;
use crate::domain::model::{IfKind, IfName, MacAddr};
use crate::kernel::{Errno, Kernel, KernelError};

use super::{Machine, MachineInterface, SimKernel};

/// em0's address, which the laptop's wlan0 is created with too.
pub const E: &str = "00:11:22:33:44:55";
/// An address of wlan0's own, for an rc.conf that does not clone em0's.
pub const W: &str = "02:aa:bb:cc:dd:ee";

const LAPTOP: &str = include_str!("../../tests/fixtures/machines/laptop.toml");

/// The laptop machine, to be varied and then built.
pub struct Laptop(Machine);

impl Default for Laptop {
    fn default() -> Laptop {
        Laptop::new()
    }
}

impl Laptop {
    pub fn new() -> Laptop {
        Laptop(Machine::parse(LAPTOP).unwrap())
    }

    fn interface(&mut self, name: &str) -> &mut MachineInterface {
        self.0.interface.iter_mut().find(|i| i.name.as_str() == name).unwrap()
    }

    /// wlan0 is created with address `m` (`wlanaddr`) instead of em0's.
    pub fn wlan_mac(mut self, m: &str) -> Laptop {
        self.interface("wlan0").mac = Some(mac(m));
        self
    }

    /// wlan0 is created with its radio's factory MAC (no `wlanaddr`).
    pub fn wlan_factory_mac(mut self) -> Laptop {
        self.interface("wlan0").mac = None;
        self
    }

    /// lagg0's ports, in the order rc adds them.
    pub fn ports(mut self, names: &[&str]) -> Laptop {
        self.interface("lagg0").ports = Some(names.iter().map(|s| n(s)).collect());
        self
    }

    /// `name` attaches with MTU `mtu`.
    pub fn mtu(mut self, name: &str, mtu: u32) -> Laptop {
        self.interface(name).mtu = Some(mtu);
        self
    }

    /// One more interface, after the laptop's three.
    pub fn with(mut self, mi: MachineInterface) -> Laptop {
        self.0.interface.push(mi);
        self
    }

    pub fn machine(self) -> Machine {
        self.0
    }

    pub fn build(self) -> SimKernel {
        SimKernel::from_machine(&self.0).unwrap()
    }
}

/// The laptop, converged: em0 primary and active, wlan0 backup.
pub fn laptop() -> SimKernel {
    Laptop::new().build()
}

/// An Ethernet NIC with address `m`, cable out, UP.
pub fn ether(name: &str, m: &str) -> MachineInterface {
    let mut mi = MachineInterface::new(n(name), IfKind::Ether);
    mi.mac = Some(mac(m));
    mi
}

pub fn n(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

pub fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

pub fn ev(name: &str, kind: &str) -> DevdEvent {
    DevdEvent::new("IFNET", name, kind)
}

/// (port, MASTER, ACTIVE) in kernel list order.
pub fn ports(k: &mut SimKernel, lagg: &str) -> Vec<(String, bool, bool)> {
    k.lagg_status(&n(lagg))
        .unwrap()
        .ports
        .iter()
        .map(|p| (p.name.to_string(), p.flags.master, p.flags.active))
        .collect()
}

pub fn p(name: &str, master: bool, active: bool) -> (String, bool, bool) {
    (name.to_owned(), master, active)
}

/// The errno of a request that must fail.
pub fn errno(r: Result<(), KernelError>) -> Errno {
    r.unwrap_err().errno_value().unwrap()
}
