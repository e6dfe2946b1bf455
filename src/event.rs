//! devd(8) events: the raw `!system=… subsystem=… type=…` notification and
//! the IFNET events lagghook reacts to. Parsing only; an event is a hint that
//! makes lagghook look, never a description of state it trusts.

use std::fmt;

use crate::model::IfName;

/// One devctl notification as devd hands it to an action
/// (`devctl_notify` in `sys/kern/kern_devctl.c`). Values are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevdEvent {
    pub system: String,
    pub subsystem: String,
    /// devd's `$type`.
    pub kind: String,
}

impl DevdEvent {
    pub fn new(system: &str, subsystem: &str, kind: &str) -> DevdEvent {
        DevdEvent {
            system: system.to_owned(),
            subsystem: subsystem.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// `!system=IFNET subsystem=IF type=T`, what `if_attach_internal`,
    /// `if_detach_internal` and `do_link_state_change` send (`sys/net/if.c`).
    pub fn ifnet(ifname: &IfName, kind: IfnetEventKind) -> DevdEvent {
        DevdEvent::new("IFNET", ifname.as_str(), kind.as_str())
    }
}

impl fmt::Display for DevdEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "!system={} subsystem={} type={}", self.system, self.subsystem, self.kind)
    }
}

/// The IFNET event types lagghook's devd rules deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfnetEventKind {
    LinkUp,
    LinkDown,
    Attach,
    Detach,
}

impl IfnetEventKind {
    pub const ALL: [IfnetEventKind; 4] = [
        IfnetEventKind::LinkUp,
        IfnetEventKind::LinkDown,
        IfnetEventKind::Attach,
        IfnetEventKind::Detach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IfnetEventKind::LinkUp => "LINK_UP",
            IfnetEventKind::LinkDown => "LINK_DOWN",
            IfnetEventKind::Attach => "ATTACH",
            IfnetEventKind::Detach => "DETACH",
        }
    }
}

/// An IFNET event about a named interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfnetEvent {
    pub ifname: IfName,
    pub kind: IfnetEventKind,
}
