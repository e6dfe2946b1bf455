//! The happenings the differential harness can make, each one line of text
//! (`create-tap lhc0`, `laggport lagg0 lhc0`), and what became of one: done,
//! refused with an errno, or not expressible in a world. Every step is
//! something FreeBSD's test interfaces can do without hardware, and each
//! names the fixed `ifconfig`/`sysctl` command the FreeBSD half runs for it
//! ([`Step::commands`]), so a reader of the report can redo it by hand.
//! Not owned here: how a world carries a step out ([`super::world`],
//! [`super::native`]).

use std::fmt;
use std::str::FromStr;

use crate::domain::model::{IfName, LaggProto, MacAddr};

/// One happening, applied to both worlds in the same order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `create-tap PORT`: `ifconfig tap create`, `ifconfig tapN link0`
    /// (closing the device is then only a cable pull: `tundtor`), then
    /// `ifconfig tapN name PORT`.
    CreateTap(IfName),
    /// `create-epair PORT PEER`: `ifconfig epair create`, then
    /// `ifconfig epairNa name PORT`, `ifconfig epairNb name PEER`.
    CreateEpair { port: IfName, peer: IfName },
    /// `open PORT`: open the tap's character device: carrier (`tunopen`).
    Open(IfName),
    /// `close PORT`: close it: no carrier (`tundtor`).
    Close(IfName),
    /// `destroy IF`: `ifconfig IF destroy`.
    Destroy(IfName),
    /// `rename IF NEW`: `ifconfig IF name NEW`.
    Rename { name: IfName, new: IfName },
    /// `up IF`: `ifconfig IF up`.
    Up(IfName),
    /// `down IF`: `ifconfig IF down`.
    Down(IfName),
    /// `ether IF MAC`: `ifconfig IF ether MAC`.
    Ether { name: IfName, mac: MacAddr },
    /// `mtu IF N`: `ifconfig IF mtu N`.
    Mtu { name: IfName, mtu: u32 },
    /// `create-lagg LAGG`: `ifconfig LAGG create`.
    CreateLagg(IfName),
    /// `laggproto LAGG PROTO`: `ifconfig LAGG laggproto PROTO`.
    LaggProto { lagg: IfName, proto: LaggProto },
    /// `laggport LAGG IF`: `ifconfig LAGG laggport IF`.
    LaggPort { lagg: IfName, port: IfName },
    /// `-laggport LAGG IF`: `ifconfig LAGG -laggport IF`.
    UnLaggPort { lagg: IfName, port: IfName },
    /// `failover-rx-all 0|1`: `sysctl net.link.lagg.failover_rx_all=V`
    /// (per vnet: `CTLFLAG_VNET`).
    FailoverRxAll(bool),
    /// `create-wtap RADIO`: a wtap(4) radio `wtapN` (`WTAPIOCTLCRT` on
    /// `/dev/wtapctl`, what `tools/tools/wtap/wtap` does: `wtap c N`).
    CreateWtap(IfName),
    /// `create-vap VAP RADIO [MAC]`: `ifconfig wlan create wlandev RADIO
    /// [wlanaddr MAC]`, then `ifconfig wlanN name VAP`: a wtap(4) radio's
    /// vap, which only the host's vnet can have.
    CreateVap { name: IfName, radio: IfName, mac: Option<MacAddr> },
}

/// What a world did with a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The command succeeded.
    Done,
    /// The kernel refused: the errno's name (`EINVAL`), or ifconfig's words
    /// where the harness does not know the errno.
    Refused(String),
    /// This world cannot express the step; why.
    Skipped(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Done => f.write_str("ok"),
            Outcome::Refused(e) => write!(f, "refused: {e}"),
            Outcome::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

impl Step {
    /// Every interface name the step mentions (what the observation after
    /// it must cover).
    pub fn names(&self) -> Vec<&IfName> {
        match self {
            Step::CreateTap(n)
            | Step::Open(n)
            | Step::Close(n)
            | Step::Destroy(n)
            | Step::Up(n)
            | Step::Down(n)
            | Step::CreateLagg(n) => vec![n],
            Step::CreateEpair { port, peer } => vec![port, peer],
            Step::Rename { name, new } => vec![name, new],
            Step::Ether { name, .. } | Step::Mtu { name, .. } => vec![name],
            Step::LaggProto { lagg, .. } => vec![lagg],
            Step::LaggPort { lagg, port } | Step::UnLaggPort { lagg, port } => vec![lagg, port],
            Step::FailoverRxAll(_) | Step::CreateWtap(_) => Vec::new(),
            Step::CreateVap { name, .. } => vec![name],
        }
    }

    /// The MAC addresses the step writes, which the report shows as they are.
    pub fn macs(&self) -> Vec<MacAddr> {
        match self {
            Step::Ether { mac, .. } => vec![*mac],
            Step::CreateVap { mac: Some(m), .. } => vec![*m],
            _ => Vec::new(),
        }
    }

    /// The commands the FreeBSD half runs, as a person would type them
    /// (`tapN`, `epairN` stand for the names the cloner picks).
    pub fn commands(&self) -> Vec<String> {
        match self {
            Step::CreateTap(p) => vec![
                "ifconfig tap create".into(),
                "ifconfig tapN link0".into(),
                format!("ifconfig tapN name {p}"),
            ],
            Step::CreateEpair { port, peer } => vec![
                "ifconfig epair create".into(),
                format!("ifconfig epairNa name {port}"),
                format!("ifconfig epairNb name {peer}"),
            ],
            Step::Open(p) => vec![format!("open /dev/tapN ({p})")],
            Step::Close(p) => vec![format!("close /dev/tapN ({p})")],
            Step::Destroy(n) => vec![format!("ifconfig {n} destroy")],
            Step::Rename { name, new } => vec![format!("ifconfig {name} name {new}")],
            Step::Up(n) => vec![format!("ifconfig {n} up")],
            Step::Down(n) => vec![format!("ifconfig {n} down")],
            Step::Ether { name, mac } => vec![format!("ifconfig {name} ether {mac}")],
            Step::Mtu { name, mtu } => vec![format!("ifconfig {name} mtu {mtu}")],
            Step::CreateLagg(l) => vec![format!("ifconfig {l} create")],
            Step::LaggProto { lagg, proto } => vec![format!("ifconfig {lagg} laggproto {proto}")],
            Step::LaggPort { lagg, port } => vec![format!("ifconfig {lagg} laggport {port}")],
            Step::UnLaggPort { lagg, port } => vec![format!("ifconfig {lagg} -laggport {port}")],
            Step::FailoverRxAll(v) => {
                vec![format!("sysctl net.link.lagg.failover_rx_all={}", u8::from(*v))]
            }
            Step::CreateWtap(r) => vec![format!("wtap c {} (WTAPIOCTLCRT)", r.unit().unwrap_or(0))],
            Step::CreateVap { name, radio, mac } => vec![
                match mac {
                    Some(m) => format!("ifconfig wlan create wlandev {radio} wlanaddr {m}"),
                    None => format!("ifconfig wlan create wlandev {radio}"),
                },
                format!("ifconfig wlanN name {name}"),
            ],
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateTap(p) => write!(f, "create-tap {p}"),
            Step::CreateEpair { port, peer } => write!(f, "create-epair {port} {peer}"),
            Step::Open(p) => write!(f, "open {p}"),
            Step::Close(p) => write!(f, "close {p}"),
            Step::Destroy(n) => write!(f, "destroy {n}"),
            Step::Rename { name, new } => write!(f, "rename {name} {new}"),
            Step::Up(n) => write!(f, "up {n}"),
            Step::Down(n) => write!(f, "down {n}"),
            Step::Ether { name, mac } => write!(f, "ether {name} {mac}"),
            Step::Mtu { name, mtu } => write!(f, "mtu {name} {mtu}"),
            Step::CreateLagg(l) => write!(f, "create-lagg {l}"),
            Step::LaggProto { lagg, proto } => write!(f, "laggproto {lagg} {proto}"),
            Step::LaggPort { lagg, port } => write!(f, "laggport {lagg} {port}"),
            Step::UnLaggPort { lagg, port } => write!(f, "-laggport {lagg} {port}"),
            Step::FailoverRxAll(v) => write!(f, "failover-rx-all {}", u8::from(*v)),
            Step::CreateWtap(r) => write!(f, "create-wtap {r}"),
            Step::CreateVap { name, radio, mac: None } => write!(f, "create-vap {name} {radio}"),
            Step::CreateVap { name, radio, mac: Some(m) } => {
                write!(f, "create-vap {name} {radio} {m}")
            }
        }
    }
}

/// A step's text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError(pub String);

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StepError {}

impl FromStr for Step {
    type Err = StepError;

    fn from_str(s: &str) -> Result<Step, StepError> {
        let bad = |why: &str| StepError(format!("step {s:?}: {why}"));
        let name = |w: &str| IfName::new(w).map_err(|e| bad(&format!("{w:?}: {e}")));
        let mac = |w: &str| w.parse::<MacAddr>().map_err(|e| bad(&e.to_string()));
        let words: Vec<&str> = s.split_whitespace().collect();
        Ok(match words.as_slice() {
            ["create-tap", p] => Step::CreateTap(name(p)?),
            ["create-epair", p, q] => Step::CreateEpair { port: name(p)?, peer: name(q)? },
            ["open", p] => Step::Open(name(p)?),
            ["close", p] => Step::Close(name(p)?),
            ["destroy", n] => Step::Destroy(name(n)?),
            ["rename", n, m] => Step::Rename { name: name(n)?, new: name(m)? },
            ["up", n] => Step::Up(name(n)?),
            ["down", n] => Step::Down(name(n)?),
            ["ether", n, m] => Step::Ether { name: name(n)?, mac: mac(m)? },
            ["mtu", n, v] => Step::Mtu {
                name: name(n)?,
                mtu: v.parse().map_err(|_| bad(&format!("mtu {v:?}: not a number")))?,
            },
            ["create-lagg", l] => Step::CreateLagg(name(l)?),
            ["laggproto", l, p] => {
                Step::LaggProto { lagg: name(l)?, proto: p.parse().map_err(|e: String| bad(&e))? }
            }
            ["laggport", l, p] => Step::LaggPort { lagg: name(l)?, port: name(p)? },
            ["-laggport", l, p] => Step::UnLaggPort { lagg: name(l)?, port: name(p)? },
            ["failover-rx-all", "0"] => Step::FailoverRxAll(false),
            ["failover-rx-all", "1"] => Step::FailoverRxAll(true),
            ["create-wtap", r]
                if r.starts_with("wtap") && IfName::new(r).is_ok_and(|n| n.unit().is_some()) =>
            {
                Step::CreateWtap(name(r)?)
            }
            ["create-vap", n, r] => Step::CreateVap { name: name(n)?, radio: name(r)?, mac: None },
            ["create-vap", n, r, m] => {
                Step::CreateVap { name: name(n)?, radio: name(r)?, mac: Some(mac(m)?) }
            }
            _ => return Err(bad("not a step the harness knows (see CONTRIBUTING.md)")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_round_trips_through_its_text() {
        for s in [
            "create-tap lhc0",
            "create-epair lhc0 lhp0",
            "open lhc0",
            "close lhc0",
            "destroy lhc0",
            "rename lhc0 lhc9",
            "up lagg0",
            "down lagg0",
            "ether lhc1 02:00:5e:10:00:09",
            "mtu lagg0 9000",
            "create-lagg lagg0",
            "laggproto lagg0 failover",
            "laggport lagg0 lhc0",
            "-laggport lagg0 lhc0",
            "failover-rx-all 1",
            "failover-rx-all 0",
            "create-wtap wtap0",
            "create-vap lhw0 wtap0",
            "create-vap lhw0 wtap0 02:00:5e:10:00:01",
        ] {
            let step: Step = s.parse().unwrap();
            assert_eq!(step.to_string(), s);
            assert!(!step.commands().is_empty(), "{s}");
        }
        for bad in ["", "open", "mtu lagg0 big", "failover-rx-all 2", "explode lhc0", "up 0x"] {
            assert!(bad.parse::<Step>().is_err(), "{bad:?} accepted");
        }
    }
}
