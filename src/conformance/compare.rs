//! Every difference between the kernel's observation after a step and the
//! simulator's, one line each, as the report prints them.
//!
//! Events are compared as FreeBSD orders them, no more strictly. devd reads
//! two streams interleaved: what `devctl_notify` sends from the thread that
//! attaches, detaches or renames an interface (ATTACH, DETACH, RENAME:
//! `if_attach_internal`, `if_detach_internal`, `if_rename` in
//! `sys/net/if.c`), and what `do_link_state_change` sends from the
//! `taskqueue_swi` thread (LINK_UP, LINK_DOWN; `if_link_state_change` only
//! queues it). Each stream is in order, and so are one interface's events
//! (`if_detach_internal` drains the interface's own link task before its
//! DETACH), but how the two streams interleave across interfaces is a race
//! the kernel does not settle. So the harness compares the link stream in
//! order, the other stream in order, and each interface's events in order;
//! two event lists that agree on all three are the same to devd's rules,
//! which match one event at a time. (gmshake/freebsd-src @
//! dafe137c3576ffe58793a4ae053124440950c894.)

use super::observe::{render_events, render_interface, render_lagg, EventObs, Observation};

/// The differences, empty when the worlds agree.
pub fn differences(kernel: &Observation, sim: &Observation) -> Vec<String> {
    let mut out = Vec::new();
    if kernel.outcome != sim.outcome {
        out.push(format!("result: kernel {}, simulator {}", kernel.outcome, sim.outcome));
    }
    let mut names: Vec<_> =
        kernel.interfaces.iter().chain(&sim.interfaces).map(|i| i.name.clone()).collect();
    names.sort();
    names.dedup();
    for name in &names {
        let k = kernel.interfaces.iter().find(|i| &i.name == name);
        let s = sim.interfaces.iter().find(|i| &i.name == name);
        match (k, s) {
            (Some(k), Some(s)) if k != s => {
                let pairs = [
                    ("kind", k.kind.to_string(), s.kind.to_string()),
                    ("UP", k.up.to_string(), s.up.to_string()),
                    ("link", k.link.to_string(), s.link.to_string()),
                    ("mtu", k.mtu.to_string(), s.mtu.to_string()),
                    ("ether", k.mac.clone(), s.mac.clone()),
                    ("hwaddr", format!("{:?}", k.hwaddr), format!("{:?}", s.hwaddr)),
                    ("caps", caps(k.caps), caps(s.caps)),
                ];
                let fields: Vec<String> = pairs
                    .iter()
                    .filter(|(_, a, b)| a != b)
                    .map(|(what, a, b)| format!("{what} {a} / {b}"))
                    .collect();
                out.push(format!("{name}: {} (kernel / simulator)", fields.join(", ")));
            }
            (Some(k), None) => {
                out.push(format!("{name}: only the kernel has it: {}", render_interface(k)))
            }
            (None, Some(s)) => {
                out.push(format!("{name}: only the simulator has it: {}", render_interface(s)))
            }
            _ => {}
        }
    }
    let mut laggs: Vec<_> = kernel.laggs.iter().chain(&sim.laggs).map(|l| l.name.clone()).collect();
    laggs.sort();
    laggs.dedup();
    for name in &laggs {
        let k = kernel.laggs.iter().find(|l| &l.name == name);
        let s = sim.laggs.iter().find(|l| &l.name == name);
        if k != s {
            let show = |l: Option<&super::observe::LaggObs>| l.map_or("none".into(), render_lagg);
            out.push(format!("{name}: kernel {}; simulator {}", show(k), show(s)));
        }
    }
    if kernel.failover_rx_all != sim.failover_rx_all {
        out.push(format!(
            "net.link.lagg.failover_rx_all: kernel {:?}, simulator {:?}",
            kernel.failover_rx_all, sim.failover_rx_all
        ));
    }
    out.extend(event_differences(&kernel.events, &sim.events));
    out
}

fn caps(c: Option<crate::domain::model::Caps>) -> String {
    match c {
        None => "none".into(),
        Some(c) => format!("{:#x}/{:#x}", c.enabled, c.supported),
    }
}

/// The event streams that differ (see the module doc).
pub fn event_differences(kernel: &[EventObs], sim: &[EventObs]) -> Vec<String> {
    let mut out = Vec::new();
    let pick = |events: &[EventObs], keep: &dyn Fn(&EventObs) -> bool| -> Vec<EventObs> {
        events.iter().filter(|e| keep(e)).cloned().collect()
    };
    for (what, link) in [("link events", true), ("attach/detach/rename events", false)] {
        let keep = |e: &EventObs| e.is_link() == link;
        let (k, s) = (pick(kernel, &keep), pick(sim, &keep));
        if k != s {
            out.push(format!(
                "{what}: kernel {}; simulator {}",
                render_events(&k),
                render_events(&s)
            ));
        }
    }
    if out.is_empty() {
        let mut subjects: Vec<&str> =
            kernel.iter().chain(sim).map(|e| e.subject.as_str()).collect();
        subjects.sort();
        subjects.dedup();
        for subject in subjects {
            let of = |e: &EventObs| e.subject == subject;
            let (k, s) = (pick(kernel, &of), pick(sim, &of));
            if k != s {
                out.push(format!(
                    "{subject}'s events in order: kernel {}; simulator {}",
                    render_events(&k),
                    render_events(&s)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> EventObs {
        let mut w = s.split_whitespace();
        EventObs {
            subject: w.next().unwrap().into(),
            kind: w.next().unwrap().into(),
            to: w.next().map(|t| t.trim_start_matches("name=").into()),
        }
    }

    fn evs(list: &[&str]) -> Vec<EventObs> {
        list.iter().map(|s| ev(s)).collect()
    }

    /// Proves the comparison accepts what the kernel leaves to chance (a
    /// link event racing another interface's DETACH) and rejects what it
    /// fixes (the order of one stream, one interface's own order).
    #[test]
    fn events_are_compared_as_the_kernel_orders_them() {
        let kernel = evs(&["lhc0 LINK_DOWN", "lhc0 DETACH", "lhp0 LINK_DOWN", "lhp0 DETACH"]);
        let sim = evs(&["lhc0 LINK_DOWN", "lhp0 LINK_DOWN", "lhc0 DETACH", "lhp0 DETACH"]);
        assert!(event_differences(&kernel, &sim).is_empty());
        let swapped = evs(&["lhp0 LINK_DOWN", "lhc0 LINK_DOWN", "lhc0 DETACH", "lhp0 DETACH"]);
        assert_eq!(event_differences(&kernel, &swapped).len(), 1);
        let own = evs(&["lhc0 DETACH", "lhc0 LINK_DOWN", "lhp0 LINK_DOWN", "lhp0 DETACH"]);
        let d = event_differences(&kernel, &own);
        assert_eq!(d, ["lhc0's events in order: kernel lhc0 LINK_DOWN, lhc0 DETACH; simulator lhc0 DETACH, lhc0 LINK_DOWN"]);
        let missing = evs(&["lhc0 LINK_DOWN", "lhc0 DETACH", "lhp0 DETACH"]);
        assert_eq!(event_differences(&kernel, &missing).len(), 1);
    }
}
