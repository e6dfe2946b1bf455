//! Transitions: what changed in a lagg between two observations, as the
//! one-line, subject-first messages lagghook logs ("lagg0: active port em0
//! -> wlan0"). Pure. Steady state yields no line.

use crate::domain::model::{IfName, MacAddr, Snapshot};

/// The parts of a lagg's state worth reporting a change of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaggView {
    /// Kernel list order.
    pub ports: Vec<IfName>,
    pub primary: Option<IfName>,
    /// The port carrying traffic (`LAGG_PORT_ACTIVE`); `None` = offline.
    pub active: Option<IfName>,
    pub mac: MacAddr,
}

impl LaggView {
    /// `None` when the lagg does not exist.
    pub fn observe(snapshot: &Snapshot, lagg: &IfName) -> Option<LaggView> {
        let status = snapshot.laggs.get(lagg)?;
        Some(LaggView {
            ports: status.ports.iter().map(|p| p.name.clone()).collect(),
            primary: status.primary().cloned(),
            active: status.active().cloned(),
            mac: snapshot.interface(lagg).map(|i| i.mac).unwrap_or_default(),
        })
    }
}

/// Lines describing `before` → `after`. `offline_for` is how long the lagg
/// had been offline (seconds), used when it comes back online.
pub fn describe(
    lagg: &IfName,
    before: Option<&LaggView>,
    after: Option<&LaggView>,
    offline_for: Option<u64>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let (b, a) = match (before, after) {
        (None, None) => return lines,
        (Some(_), None) => {
            lines.push(format!("{lagg}: gone"));
            return lines;
        }
        (None, Some(a)) => {
            lines.push(format!("{lagg}: created"));
            (LaggView::default(), a)
        }
        (Some(b), Some(a)) => (b.clone(), a),
    };
    for port in &b.ports {
        if !a.ports.contains(port) {
            lines.push(format!("{lagg}: port {port} left"));
        }
    }
    for port in &a.ports {
        if !b.ports.contains(port) {
            lines.push(format!("{lagg}: port {port} joined"));
        }
    }
    if b.primary != a.primary && b.primary.is_some() && a.primary.is_some() {
        lines.push(format!("{lagg}: primary port {} -> {}", show(&b.primary), show(&a.primary)));
    }
    match (&b.active, &a.active) {
        (Some(_), None) => lines.push(format!("{lagg}: offline, no port is active")),
        // Under a second offline is no outage worth a duration: the
        // clock has whole seconds, and "after 0s" says nothing.
        (None, Some(now)) => match offline_for.filter(|secs| *secs > 0) {
            Some(secs) => {
                lines.push(format!("{lagg}: online on {now} after {} offline", duration(secs)))
            }
            None => lines.push(format!("{lagg}: online on {now}")),
        },
        (Some(was), Some(now)) if was != now => {
            lines.push(format!("{lagg}: active port {was} -> {now}"))
        }
        _ => {}
    }
    if b.mac != a.mac && !b.mac.is_zero() && !a.mac.is_zero() {
        lines.push(format!("{lagg}: MAC {} -> {}", b.mac, a.mac));
    }
    lines
}

fn show(name: &Option<IfName>) -> &str {
    name.as_ref().map_or("none", |n| n.as_str())
}

/// `42s`, `3m07s`, `2h05m`: short enough for a log line.
pub fn duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn view(ports: &[&str], primary: &str, active: Option<&str>) -> LaggView {
        LaggView {
            ports: ports.iter().map(|p| n(p)).collect(),
            primary: Some(n(primary)),
            active: active.map(n),
            mac: MacAddr([0, 0x11, 0x22, 0x33, 0x44, 0x55]),
        }
    }

    #[test]
    fn steady_state_says_nothing() {
        let v = view(&["em0", "wlan0"], "em0", Some("em0"));
        assert!(describe(&n("lagg0"), Some(&v), Some(&v), None).is_empty());
    }

    #[test]
    fn failover_and_port_loss_are_reported_subject_first() {
        let b = view(&["em0", "wlan0"], "em0", Some("em0"));
        let a = view(&["em0"], "em0", None);
        assert_eq!(
            describe(&n("lagg0"), Some(&b), Some(&a), None),
            ["lagg0: port wlan0 left", "lagg0: offline, no port is active"]
        );
        let c = view(&["em0", "wlan0"], "em0", Some("wlan0"));
        assert_eq!(
            describe(&n("lagg0"), Some(&b), Some(&c), None),
            ["lagg0: active port em0 -> wlan0"]
        );
    }

    #[test]
    fn coming_back_online_says_how_long_it_was_offline() {
        let b = view(&["em0"], "em0", None);
        let a = view(&["em0"], "em0", Some("em0"));
        assert_eq!(
            describe(&n("lagg0"), Some(&b), Some(&a), Some(187)),
            ["lagg0: online on em0 after 3m07s offline"]
        );
        // Issue 16, point 12: back within the second it went, no "after 0s".
        assert_eq!(describe(&n("lagg0"), Some(&b), Some(&a), Some(0)), ["lagg0: online on em0"]);
    }

    #[test]
    fn primary_change_is_reported() {
        let b = view(&["em0", "wlan0"], "wlan0", Some("wlan0"));
        let a = view(&["em0", "wlan0"], "em0", Some("em0"));
        assert_eq!(
            describe(&n("lagg0"), Some(&b), Some(&a), None),
            ["lagg0: primary port wlan0 -> em0", "lagg0: active port wlan0 -> em0"]
        );
    }
}
