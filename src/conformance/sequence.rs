//! What the harness plays: the fixed sequences (each a family of kernel
//! happenings a lagg failover lives through, built from tap(4) and
//! epair(4) ports), the probes (the questions the simulator's audits left
//! open, each a sequence and the observations that answer it), and seeded
//! random sequences. Not owned here: playing them ([`super::report`]).

use std::collections::BTreeSet;

use crate::domain::model::IfName;

use super::observe::{render_events, render_interface, render_lagg, Observation};
use super::step::Step;

/// Steps in order, and what they are about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub name: String,
    pub steps: Vec<Step>,
}

impl Sequence {
    /// A sequence from step lines; the lines are the harness's own, so a
    /// line that does not parse is a bug in this file, caught by the tests.
    pub fn of(name: &str, lines: &[&str]) -> Sequence {
        Sequence {
            name: name.to_owned(),
            steps: lines.iter().filter_map(|l| l.parse().ok()).collect(),
        }
    }

    /// Every interface name a step mentions: what each observation covers.
    pub fn scope(&self) -> BTreeSet<IfName> {
        self.steps.iter().flat_map(|s| s.names().into_iter().cloned()).collect()
    }
}

/// Two open taps, up, in a running failover lagg0.
const TWO_TAPS: &[&str] = &[
    "create-tap lhc0",
    "create-tap lhc1",
    "up lhc0",
    "up lhc1",
    "open lhc0",
    "open lhc1",
    "create-lagg lagg0",
    "laggproto lagg0 failover",
    "laggport lagg0 lhc0",
    "laggport lagg0 lhc1",
    "up lagg0",
];

fn with_two_taps(name: &str, rest: &[&str]) -> Sequence {
    let lines: Vec<&str> = TWO_TAPS.iter().chain(rest).copied().collect();
    Sequence::of(name, &lines)
}

/// The fixed sequences.
pub fn fixed() -> Vec<Sequence> {
    vec![
        with_two_taps(
            "cables out and in under a failover lagg",
            &[
                "close lhc0",
                "open lhc0",
                "close lhc1",
                "close lhc0",
                "open lhc1",
                "open lhc0",
                "-laggport lagg0 lhc0",
                "laggport lagg0 lhc0",
                "failover-rx-all 1",
                "failover-rx-all 0",
                "down lagg0",
                "up lagg0",
                "destroy lagg0",
            ],
        ),
        with_two_taps(
            "addresses and MTUs of a lagg and its members",
            &[
                "ether lagg0 02:00:5e:10:00:01",
                "ether lhc1 02:00:5e:10:00:02",
                "down lagg0",
                "up lagg0",
                "mtu lagg0 9000",
                "mtu lhc0 1400",
                "mtu lagg0 1500",
                "-laggport lagg0 lhc1",
                "mtu lhc1 1280",
                "laggport lagg0 lhc1",
                "-laggport lagg0 lhc0",
                "-laggport lagg0 lhc1",
                "mtu lagg0 1400",
                "destroy lagg0",
            ],
        ),
        with_two_taps(
            "the primary destroyed and re-created",
            &[
                "destroy lhc0",
                "create-tap lhc0",
                "up lhc0",
                "open lhc0",
                "laggport lagg0 lhc0",
                "destroy lhc1",
                "destroy lhc0",
                "create-tap lhc1",
                "laggport lagg0 lhc1",
            ],
        ),
        Sequence::of(
            "epair ports",
            &[
                "create-epair lhc0 lhp0",
                "create-epair lhc1 lhp1",
                "up lhc0",
                "up lhc1",
                "create-lagg lagg0",
                "laggport lagg0 lhc0",
                "laggport lagg0 lhc1",
                "up lagg0",
                "destroy lhp0",
                "create-epair lhc0 lhp0",
                "up lhc0",
                "laggport lagg0 lhc0",
                "down lhc1",
                "up lhc1",
                "destroy lagg0",
                "destroy lhc0",
            ],
        ),
        with_two_taps(
            "renamed ports",
            &[
                "rename lhc1 lhc9",
                "close lhc0",
                "rename lhc9 lhc1",
                "rename lhc0 lhc1",
                "open lhc0",
                "destroy lhc1",
                "create-tap lhc2",
                "rename lhc2 lhc1",
                "laggport lagg0 lhc1",
            ],
        ),
        with_two_taps(
            "refusals",
            &[
                "laggport lagg0 lhc0",
                "laggport lagg0 lagg0",
                "create-lagg lagg0",
                "-laggport lagg0 lhp0",
                "destroy lhc9",
                "destroy lagg9",
                "mtu lhc0 70",
                "laggproto lagg0 roundrobin",
                "laggproto lagg0 failover",
                "create-lagg lhc5",
                "open lhc0",
                "close lagg0",
            ],
        ),
    ]
}

/// What of the observations after a step answers a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aspect {
    /// The events of the step.
    Events,
    /// One interface as a whole.
    Interface(&'static str),
    /// One lagg's ports.
    Lagg(&'static str),
}

/// A question, the sequence that asks it, and where the answer is.
#[derive(Debug, Clone)]
pub struct Probe {
    pub question: &'static str,
    pub sequence: Sequence,
    /// (1-based step number, aspect): what the answer shows.
    pub answers: Vec<(usize, Aspect)>,
    /// Why the answer holds for what these interfaces are, and not beyond.
    pub scope_note: &'static str,
}

impl Probe {
    /// The answer in one world, from its observations (one per step played).
    pub fn answer(&self, observations: &[Observation]) -> Vec<String> {
        self.answers
            .iter()
            .map(|(n, aspect)| {
                let step =
                    self.sequence.steps.get(n - 1).map(ToString::to_string).unwrap_or_default();
                let Some(o) = observations.get(n - 1) else {
                    return format!("after `{step}`: not reached");
                };
                let what = match aspect {
                    Aspect::Events => format!("events {}", render_events(&o.events)),
                    Aspect::Interface(i) => o
                        .interfaces
                        .iter()
                        .find(|x| x.name.as_str() == *i)
                        .map_or_else(|| format!("{i} gone"), render_interface),
                    Aspect::Lagg(l) => o
                        .laggs
                        .iter()
                        .find(|x| x.name.as_str() == *l)
                        .map_or_else(|| format!("{l} gone"), render_lagg),
                };
                format!("after `{step}` ({}): {what}", o.outcome)
            })
            .collect()
    }
}

/// The probes, in the order issue 21 asks them.
pub fn probes() -> Vec<Probe> {
    let n = |s: &'static str| s;
    let base = TWO_TAPS.len();
    vec![
        Probe {
            question: "Does an interface report LINK_DOWN on `ifconfig down`?",
            sequence: Sequence::of(
                "ifconfig down",
                &[
                    "create-tap lhc0",
                    "up lhc0",
                    "open lhc0",
                    "create-epair lhc1 lhp1",
                    "up lhc1",
                    "down lhc0",
                    "down lhc1",
                    "up lhc0",
                ],
            ),
            answers: vec![
                (6, Aspect::Events),
                (6, Aspect::Interface(n("lhc0"))),
                (7, Aspect::Events),
                (7, Aspect::Interface(n("lhc1"))),
            ],
            scope_note: "for tap(4) and epair(4): if.c's if_down sends no link change, the driver \
                         decides; a NIC's (iflib's em(4) stopping) needs the hardware",
        },
        Probe {
            question: "What does SIOCSIFLLADDR on a member do while the lagg runs?",
            sequence: with_two_taps(
                "ether on a running member",
                &["ether lhc1 02:00:5e:10:00:09", "down lagg0", "up lagg0"],
            ),
            answers: vec![
                (base + 1, Aspect::Events),
                (base + 1, Aspect::Interface(n("lhc1"))),
                (base + 1, Aspect::Interface(n("lagg0"))),
                (base + 3, Aspect::Interface(n("lhc1"))),
            ],
            scope_note: "on a tap, whose SIOCSIFFLAGS does nothing: a NIC's bounce (new \
                         autonegotiation) is its driver's",
        },
        Probe {
            question: "In which order do LINK_DOWN and DETACH come when a port is destroyed?",
            sequence: Sequence::of(
                "a port destroyed",
                &[
                    "create-tap lhc0",
                    "up lhc0",
                    "open lhc0",
                    "create-epair lhc1 lhp1",
                    "up lhc1",
                    "create-lagg lagg0",
                    "laggport lagg0 lhc0",
                    "laggport lagg0 lhc1",
                    "up lagg0",
                    "destroy lhc0",
                    "destroy lhc1",
                ],
            ),
            answers: vec![(10, Aspect::Events), (11, Aspect::Events)],
            scope_note: "for an open tap and an epair end; a NIC's driver may report its link \
                         down before if_detach or not at all",
        },
        Probe {
            question: "What does lagg0 itself report when its last port goes?",
            sequence: Sequence::of(
                "the last port goes",
                &[
                    "create-tap lhc0",
                    "up lhc0",
                    "open lhc0",
                    "create-lagg lagg0",
                    "laggport lagg0 lhc0",
                    "up lagg0",
                    "-laggport lagg0 lhc0",
                    "laggport lagg0 lhc0",
                    "destroy lhc0",
                ],
            ),
            answers: vec![
                (7, Aspect::Events),
                (7, Aspect::Interface(n("lagg0"))),
                (9, Aspect::Events),
                (9, Aspect::Interface(n("lagg0"))),
            ],
            scope_note: "any port kind: lagg_port_destroy and lagg_linkstate decide",
        },
        Probe {
            question: "What is a vap's MAC after `ifconfig wlanN ether` while up and while down, \
                       on a wtap(4) radio?",
            sequence: Sequence::of(
                "ether on a vap",
                &[
                    "create-wtap wtap0",
                    "create-vap lhw0 wtap0",
                    "up lhw0",
                    "ether lhw0 02:00:5e:10:00:0a",
                    "down lhw0",
                    "ether lhw0 02:00:5e:10:00:0b",
                    "up lhw0",
                    "destroy lhw0",
                    "create-vap lhw0 wtap0 02:00:5e:10:00:0c",
                    "destroy lhw0",
                ],
            ),
            answers: vec![
                (4, Aspect::Interface(n("lhw0"))),
                (6, Aspect::Interface(n("lhw0"))),
                (7, Aspect::Interface(n("lhw0"))),
                (9, Aspect::Interface(n("lhw0"))),
            ],
            scope_note: "the address userland reads (IF_LLADDR); iv_myaddr, what the vap sends \
                         with, is not readable without capturing its frames. wtap vaps live in \
                         the host's vnet: only under the --disposable-host option",
        },
    ]
}

/// A seeded xorshift64* generator: the same seed gives the same sequences
/// on every machine (no dependency, no global state).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        let n = of.len().max(1) as u64;
        of.get((self.next_u64() % n) as usize).copied().unwrap_or("lhc0")
    }
}

/// `count` random sequences of `len` steps from `seed`. Names come from a
/// small pool (three taps, an epair, one lagg) so steps meet each other;
/// some are refused, which both worlds must agree on too.
pub fn random(seed: u64, count: usize, len: usize) -> Vec<Sequence> {
    let mut rng = Rng::new(seed);
    let taps = ["lhc0", "lhc1", "lhc2"];
    let ifs = ["lhc0", "lhc1", "lhc2", "lhc3", "lagg0"];
    let macs = ["02:00:5e:10:00:21", "02:00:5e:10:00:22", "02:00:5e:10:00:23"];
    let mtus = ["1500", "1400", "9000", "1280"];
    (0..count)
        .map(|i| {
            let mut lines: Vec<String> = Vec::new();
            for _ in 0..len {
                let line = match rng.next_u64() % 16 {
                    0 | 1 => format!("create-tap {}", rng.pick(&taps)),
                    2 => "create-epair lhc3 lhp3".to_owned(),
                    3 | 4 => format!("open {}", rng.pick(&taps)),
                    5 => format!("close {}", rng.pick(&taps)),
                    6 => format!("destroy {}", rng.pick(&ifs)),
                    7 => format!("up {}", rng.pick(&ifs)),
                    8 => format!("down {}", rng.pick(&ifs)),
                    9 => format!("ether {} {}", rng.pick(&ifs), rng.pick(&macs)),
                    10 => format!("mtu {} {}", rng.pick(&ifs), rng.pick(&mtus)),
                    11 => "create-lagg lagg0".to_owned(),
                    12 | 13 => format!("laggport lagg0 {}", rng.pick(&ifs[..4])),
                    14 => format!("-laggport lagg0 {}", rng.pick(&ifs[..4])),
                    _ => format!("rename {} {}", rng.pick(&taps), rng.pick(&taps)),
                };
                lines.push(line);
            }
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            Sequence::of(&format!("random #{} of seed {seed}", i + 1), &refs)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves no step line of the harness's own is dropped for not parsing.
    #[test]
    fn every_line_parses() {
        let check = |lines: &[&str]| {
            for l in lines {
                assert!(l.parse::<Step>().is_ok(), "{l}");
            }
        };
        check(TWO_TAPS);
        for s in fixed().iter().chain(probes().iter().map(|p| &p.sequence)) {
            assert!(!s.steps.is_empty(), "{}", s.name);
        }
        for p in probes() {
            for (n, _) in &p.answers {
                assert!(*n >= 1 && *n <= p.sequence.steps.len(), "{}", p.question);
            }
        }
        let r = random(7, 3, 40);
        assert_eq!(r.iter().map(|s| s.steps.len()).collect::<Vec<_>>(), [40, 40, 40]);
        assert_eq!(random(7, 3, 40), r, "a seed gives the same sequences");
        assert_ne!(random(8, 3, 40), r);
    }
}
