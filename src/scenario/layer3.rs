//! A step's layer-3 figures and expectations: how long, counted while the
//! active port carries at the link level, a configured lagg had no working
//! IPv4 (IPv6) address on its port's network ([`SimKernel::inet_flows`]),
//! how often its global addresses changed, how many DHCP exchanges began,
//! and how long devd waited on one action; and the `network`, `inet`,
//! `inet6_prefix`, `dhcp_exchanges`, `addr_changes`, `outage_inet_max`,
//! `outage_inet6_max` and `devd_blocked_max` keys held against them.
//!
//! An address change is counted when a lagg's set of global addresses of
//! one family becomes non-empty without an address the last non-empty set
//! had: replacing the office's address by the café's is one change, and so
//! is the removal-then-DHCP of a re-address (a session bound to the old
//! address is broken either way); an address removed and the same one given
//! back is none (a TCP session survives that), nor is an address added
//! beside the old ones (SLAAC's of a new prefix), nor the first address
//! after none.

use std::collections::BTreeMap;

use crate::domain::config::Config;
use crate::domain::model::IfName;
use crate::sim::SimKernel;

use super::{Expect, Outage, StepReport};

/// The layer-3 figures of one step (see the module doc).
pub(super) struct Layer3 {
    laggs: Vec<IfName>,
    /// The last sample's instant and whether IPv4 / IPv6 was held up then.
    since: Option<(u64, bool, bool)>,
    inet: u64,
    inet6: u64,
    /// The last non-empty address sets, kept across steps.
    last: BTreeMap<(IfName, bool), Vec<String>>,
    changes: u32,
}

impl Layer3 {
    pub(super) fn new(config: &Config, kernel: &SimKernel) -> Layer3 {
        let laggs: Vec<IfName> = config.laggs.iter().map(|l| l.name.clone()).collect();
        let mut l =
            Layer3 { laggs, since: None, inet: 0, inet6: 0, last: BTreeMap::new(), changes: 0 };
        l.note(kernel);
        l.changes = 0;
        l
    }

    pub(super) fn begin(&mut self) {
        (self.since, self.inet, self.inet6, self.changes) = (None, 0, 0, 0);
    }

    fn note(&mut self, kernel: &SimKernel) {
        for lagg in &self.laggs {
            let v4: Vec<String> =
                kernel.inet_addrs(lagg.as_str()).iter().map(|a| a.to_string()).collect();
            let v6: Vec<String> =
                kernel.inet6_addrs(lagg.as_str()).iter().map(|a| a.to_string()).collect();
            for (family, set) in [(false, v4), (true, v6)] {
                if set.is_empty() {
                    continue;
                }
                let key = (lagg.clone(), family);
                if self.last.get(&key).is_some_and(|last| last.iter().any(|a| !set.contains(a))) {
                    self.changes += 1;
                }
                self.last.insert(key, set);
            }
        }
    }

    pub(super) fn sample(&mut self, kernel: &SimKernel) {
        self.note(kernel);
        let now = kernel.now();
        if let Some((t, v4, v6)) = self.since {
            if v4 {
                self.inet += now - t;
            }
            if v6 {
                self.inet6 += now - t;
            }
        }
        let mut held = (false, false);
        for lagg in &self.laggs {
            let (owed4, owed6) = kernel.families_owed(lagg.as_str());
            held.0 |= owed4 && !kernel.inet_flows(lagg.as_str());
            held.1 |= owed6 && !kernel.inet6_flows(lagg.as_str());
        }
        self.since = Some((now, held.0, held.1));
    }

    /// The step's IPv4 and IPv6 outages and address changes.
    pub(super) fn end(&self) -> (Outage, Outage, u32) {
        let figure = |ms, held| if held { Outage::Never } else { Outage::Millis(ms) };
        let (h4, h6) = self.since.map_or((false, false), |(_, a, b)| (a, b));
        (figure(self.inet, h4), figure(self.inet6, h6), self.changes)
    }
}

/// Checks the layer-3 expectations of a step.
pub(super) fn check(
    expect: &Expect,
    kernel: &SimKernel,
    sr: &StepReport,
    verdict: &mut dyn FnMut(bool, String, String),
) {
    for (l, want) in &expect.network {
        let found = kernel.network_of(l).unwrap_or_else(|| "none".to_owned());
        verdict(&found == want, format!("network {l} = {want}"), found);
    }
    for (l, want) in &expect.inet {
        let found: Vec<String> = kernel.inet_addrs(l).iter().map(|a| a.addr.to_string()).collect();
        let ok = if want == "none" { found.is_empty() } else { found == [want.clone()] };
        let text = if found.is_empty() { "none".to_owned() } else { found.join(" ") };
        verdict(ok, format!("inet {l} = {want}"), text);
    }
    for (l, want) in &expect.inet6_prefix {
        let mut found: Vec<String> =
            kernel.inet6_prefixes(l).iter().map(|p| p.to_string()).collect();
        found.dedup();
        let ok = if want == "none" { found.is_empty() } else { found == [want.clone()] };
        let text = if found.is_empty() { "none".to_owned() } else { found.join(" ") };
        verdict(ok, format!("inet6_prefix {l} = {want}"), text);
    }
    if let Some(want) = expect.dhcp_exchanges {
        let found = sr.dhcp_exchanges;
        verdict(found == want, format!("dhcp_exchanges = {want}"), found.to_string());
    }
    if let Some(want) = expect.addr_changes {
        let found = sr.addr_changes;
        verdict(found == want, format!("addr_changes = {want}"), found.to_string());
    }
    if let Some(max) = expect.outage_inet_max {
        let found = sr.outage_inet;
        verdict(max.allows(found), format!("IPv4 outage at most {max}"), found.to_string());
    }
    if let Some(max) = expect.outage_inet6_max {
        let found = sr.outage_inet6;
        verdict(max.allows(found), format!("IPv6 outage at most {max}"), found.to_string());
    }
    if let Some(max) = expect.devd_blocked_max {
        let found = Outage::Millis(sr.devd_blocked);
        let ok = sr.devd_blocked as f64 <= max * 1000.0 + 0.5;
        verdict(ok, format!("devd blocked at most {max}s"), found.to_string());
    }
}
