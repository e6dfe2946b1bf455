//! `status`'s network section of a lagg (issue 20, point 8; issue 16,
//! point 8): the addresses the lagg holds as `ifconfig` shows them, the
//! network it is on as the network check last recorded it, the last
//! check's verdict and when, and a check in flight. It reads the lagg's
//! addresses (getifaddrs) and the known-networks file, nothing else.

use std::fmt::Write as _;

use serde::Serialize;

use crate::domain::config::LaggConfig;
use crate::domain::network::Networks;
use crate::kernel::Kernel;

/// The network part of one lagg's status.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub(super) struct NetworkReport {
    /// `network.check` (and not a static lagg).
    pub check: bool,
    /// The lagg's IPv4 addresses with prefix length, kernel order.
    pub inet: Vec<String>,
    /// Its IPv6 addresses, link-local included.
    pub inet6: Vec<String>,
    /// Why the addresses could not be read, if they could not.
    pub addresses_unreadable: Option<String>,
    /// The network it was last recorded on: its gateway (`10.1.0.1 at
    /// 00:0d:b9:00:00:01`), and the key that names its lease file.
    pub network: Option<String>,
    pub network_key: Option<String>,
    /// Networks remembered for this lagg.
    pub known_networks: usize,
    pub last_check: Option<CheckReport>,
    /// A check started and not finished, with its generation.
    pub in_flight: Option<u64>,
    /// A re-address that failed: `status` says degraded.
    pub failed: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(super) struct CheckReport {
    pub time: u64,
    pub local: String,
    pub verdict: String,
}

/// The section for `cfg`, from the kernel (the lagg's addresses) and the
/// known-networks file; `now` to tell a check in flight from one that
/// died.
pub(super) fn report(
    cfg: &LaggConfig,
    exists: bool,
    kernel: &mut dyn Kernel,
    networks: &Networks,
    now: u64,
) -> NetworkReport {
    let mut r = NetworkReport { check: cfg.network.checks(), ..NetworkReport::default() };
    if exists {
        match kernel.addresses(&cfg.name) {
            Ok(addrs) => {
                for a in addrs {
                    if a.ipv4().is_some() {
                        r.inet.push(a.to_string());
                    } else {
                        r.inet6.push(a.to_string());
                    }
                }
            }
            Err(e) => r.addresses_unreadable = Some(e.to_string()),
        }
    }
    let Some(l) = networks.of(&cfg.name) else { return r };
    if let Some(n) = l.current() {
        r.network = Some(n.describe());
        r.network_key = Some(n.key.to_string());
    }
    r.known_networks = l.networks.len();
    if let Some(c) = &l.last_check {
        let local = crate::sys::clock::local(c.time)
            .unwrap_or_else(|| format!("{} UTC", super::utc(c.time)));
        r.last_check = Some(CheckReport { time: c.time, local, verdict: c.verdict.clone() });
        r.failed = c.failed.clone();
    }
    r.in_flight =
        l.in_flight.filter(|f| now.saturating_mul(1000) < f.deadline_ms).map(|f| f.generation);
    r
}

/// The section as text, under the lagg's other lines.
pub(super) fn text(s: &mut String, lagg: &str, r: &NetworkReport) {
    let list = |v: &[String]| if v.is_empty() { "none".to_owned() } else { v.join(", ") };
    match &r.addresses_unreadable {
        Some(why) => {
            let _ = writeln!(s, "\taddresses: cannot be read: {why}");
        }
        None => {
            let _ = writeln!(s, "\tinet {}", list(&r.inet));
            if !r.inet6.is_empty() {
                let _ = writeln!(s, "\tinet6 {}", list(&r.inet6));
            }
        }
    }
    if !r.check {
        let _ = writeln!(s, "\tnetwork check: off");
        return;
    }
    match &r.network {
        Some(n) => {
            let _ = writeln!(s, "\tnetwork: gateway {n} ({} known)", r.known_networks);
        }
        None => {
            let _ = writeln!(s, "\tnetwork: none recorded yet");
        }
    }
    if let Some(c) = &r.last_check {
        let _ = writeln!(s, "\tlast check: {} {}", c.local, c.verdict);
    }
    if let Some(g) = r.in_flight {
        let _ = writeln!(s, "\tcheck {g} in flight");
    }
    if let Some(f) = &r.failed {
        let _ = writeln!(s, "\t{lagg}: re-address failed: {f}");
    }
}
