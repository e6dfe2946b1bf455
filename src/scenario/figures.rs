//! A step's figures: how long traffic could not flow although a port
//! could carry it (the outage), and how many new addresses a configured
//! lagg took, measured by the simulator's connectivity oracle at every
//! instant something happened; and the `outage_max` expectation they are
//! held to.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::domain::config::Config;
use crate::domain::model::{IfName, MacAddr};
use crate::sim::SimKernel;

/// The `outage_max` key: seconds, or `"never"`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OutageLimit {
    Seconds(f64),
    Word(NeverWord),
}

/// The one word `outage_max` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeverWord {
    Never,
}

impl OutageLimit {
    pub(super) fn allows(self, outage: Outage) -> bool {
        match (self, outage) {
            (OutageLimit::Word(NeverWord::Never), _) => true,
            (OutageLimit::Seconds(_), Outage::Never) => false,
            // Integer milliseconds against a limit given in seconds.
            (OutageLimit::Seconds(max), Outage::Millis(ms)) => ms as f64 <= max * 1000.0 + 0.5,
        }
    }
}

impl fmt::Display for OutageLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutageLimit::Seconds(s) => write!(f, "{s}s"),
            OutageLimit::Word(NeverWord::Never) => f.write_str("never"),
        }
    }
}

/// How long traffic could not flow during a step although a port could
/// carry it; `Never` when it still could not when the step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    Millis(u64),
    Never,
}

impl Default for Outage {
    fn default() -> Outage {
        Outage::Millis(0)
    }
}

impl Outage {
    pub(crate) fn add(self, other: Outage) -> Outage {
        match (self, other) {
            (Outage::Millis(a), Outage::Millis(b)) => Outage::Millis(a + b),
            _ => Outage::Never,
        }
    }
}

impl fmt::Display for Outage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Whole milliseconds, shown to the tenth as the issue asks.
            Outage::Millis(ms) => write!(f, "{:.1}s", *ms as f64 / 1000.0),
            Outage::Never => f.write_str("never"),
        }
    }
}

/// A step's outage and lagg MAC changes, measured by the connectivity
/// oracle ([`SimKernel::traffic_flows`]) at every instant something
/// happened: the state between two instants is the state after the first.
pub(super) struct Figures {
    /// Each configured lagg and its ports.
    laggs: Vec<(IfName, Vec<IfName>)>,
    /// The last non-zero MAC of each lagg, kept across steps (and reboots).
    last_mac: BTreeMap<IfName, MacAddr>,
    /// The instant of the last sample and whether traffic was then held
    /// up although a port could carry it.
    since: Option<(u64, bool)>,
    outage: u64,
    mac_changes: u32,
}

impl Figures {
    pub(super) fn new(config: &Config, kernel: &mut SimKernel) -> Figures {
        let laggs: Vec<(IfName, Vec<IfName>)> =
            config.laggs.iter().map(|l| (l.name.clone(), l.ports.clone())).collect();
        let mut last_mac = BTreeMap::new();
        for (lagg, _) in &laggs {
            if let Some(mac) = kernel.lagg_mac(lagg.as_str()).filter(|m| !m.is_zero()) {
                last_mac.insert(lagg.clone(), mac);
            }
        }
        kernel.take_lagg_macs();
        Figures { laggs, last_mac, since: None, outage: 0, mac_changes: 0 }
    }

    pub(super) fn begin(&mut self, kernel: &mut SimKernel) {
        self.note_macs(kernel);
        (self.since, self.outage, self.mac_changes) = (None, 0, 0);
    }

    /// Counts every address a configured lagg took: the all-zero address
    /// of an empty lagg is not one, nor is coming back to the last one.
    fn note_macs(&mut self, kernel: &mut SimKernel) -> u32 {
        let mut changes = 0;
        for (lagg, mac) in kernel.take_lagg_macs() {
            if mac.is_zero() || !self.laggs.iter().any(|(l, _)| *l == lagg) {
                continue;
            }
            if self.last_mac.insert(lagg, mac).is_some_and(|last| last != mac) {
                changes += 1;
            }
        }
        changes
    }

    /// Whether some configured lagg carries no traffic although one of its
    /// ports could.
    fn held_up(&self, kernel: &SimKernel) -> bool {
        self.laggs.iter().any(|(lagg, ports)| {
            ports.iter().any(|p| kernel.could_carry(p)) && !kernel.traffic_flows(lagg.as_str())
        })
    }

    pub(super) fn sample(&mut self, kernel: &mut SimKernel) {
        self.mac_changes += self.note_macs(kernel);
        let now = kernel.now();
        if let Some((t, true)) = self.since {
            self.outage += now - t;
        }
        self.since = Some((now, self.held_up(kernel)));
    }

    pub(super) fn end(&mut self) -> (Outage, u32) {
        let outage = match self.since {
            Some((_, true)) => Outage::Never,
            _ => Outage::Millis(self.outage),
        };
        (outage, self.mac_changes)
    }
}
