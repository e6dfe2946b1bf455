//! `check`, the doctor: is the system converged, and is anything set up so
//! that it will break. It lists each change a reconcile would make, in
//! every round as `-n` shows them (the first planned from the kernel, the
//! later ones predicted on the simulator, [`crate::run::rounds`]), and
//! each trap it finds, as one line with its fix, then notes, and exits 1
//! when it listed a change or a trap. It only reads: the kernel, the
//! identity file, and the system's files through a [`Root`] (the host's
//! `/`, or a simulated machine's `[machine.files]`).
//!
//! The traps, by where they are found:
//! - the configuration and the identity file: no lagg; an identity file
//!   every run refuses;
//! - the kernel (here): if_lagg neither loaded nor loadable; a configured
//!   lagg that is not one; a port lagg refuses, that another lagg holds, or
//!   that is not the wlan the configuration says; a member the
//!   configuration does not name; a lagg or wired port MTU a vap cannot
//!   take; 3+ ports whose fallback order is not the preference order;
//! - rc.conf(5) and friends ([`rc`]): the WiFi driver not loaded at boot,
//!   DHCP on a member, `wlanaddr` missing or not the identity (or not seen
//!   by pccard_ether), wpa_supplicant.conf without the control socket
//!   lagghook asks, an MTU a vap cannot take, no regulatory domain for the
//!   vap; each rc.conf fix is the sysrc command line that clears it
//!   ([`fix`]);
//! - what makes lagghook run again ([`hooks`], which `status` reports
//!   too): lagghook's rules not installed or stale, the program they run
//!   not runnable, the rc.d script missing or not enabled;
//! - devd(8) ([`devd_files`]): devd.conf missing or not reading the rules'
//!   directory, and other rules for the same events at the same or a
//!   higher priority (or that lagghook's outrank).
//!
//! Line formats (stable, for scripts): `TRAP: what; fix: what to do`,
//! `would: COMMAND` (the first round), `would (predicted): COMMAND` (a
//! later round, predicted), `WARN: what; advice: what to do` (does not
//! change the exit status), `# note`, and last, when nothing was listed
//! that changes the exit status, `configuration OK`.

mod devd_files;
mod fix;
/// What makes lagghook run again: shared with `status`.
pub mod hooks;
mod network;
mod rc;

use std::fmt::{self, Write as _};
use std::io::Write;

use crate::abi::IEEE80211_MTU_MAX;
use crate::cli::args::KernelChoice;
use crate::cli::output::write_out;
use crate::cli::status::{identity_file_problem, identity_in_words};
use crate::domain::config::{Config, LaggConfig};
use crate::domain::identity::{self, Basis};
use crate::domain::model::{IfKind, IfName, Snapshot};
use crate::domain::plan::{RememberedMacs, Scope};
use crate::kernel::{Kernel, KernelError, KernelErrorKind};
use crate::root::Root;
use crate::run::error::Error;
use crate::run::state::{StateError, Stored};
use crate::run::{observe, remembered, rounds, PredictionEnd, MAX_ROUNDS};

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Something is or will be broken: exit status 1.
    Trap,
    /// Advice, or something `check` could not look at: status unchanged.
    Warn,
}

/// One line of the report: what is wrong and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    level: Level,
    what: String,
    fix: String,
}

impl Finding {
    fn trap(what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { level: Level::Trap, what: what.into(), fix: fix.into() }
    }

    fn warn(what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { level: Level::Warn, what: what.into(), fix: fix.into() }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level {
            Level::Trap => write!(f, "TRAP: {}; fix: {}", self.what, self.fix),
            Level::Warn => write!(f, "WARN: {}; advice: {}", self.what, self.fix),
        }
    }
}

/// A command a reconcile would run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Would {
    command: String,
    /// In a round after the first: predicted on the simulator, from what
    /// the first round's changes are expected to leave.
    predicted: bool,
}

impl fmt::Display for Would {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.predicted {
            false => write!(f, "would: {}", self.command),
            true => write!(f, "would (predicted): {}", self.command),
        }
    }
}

/// Everything `check` found, in the order it is printed.
#[derive(Debug, Default)]
struct Report {
    findings: Vec<Finding>,
    /// The commands a reconcile would run, round after round.
    would: Vec<Would>,
    notes: Vec<String>,
}

impl Report {
    fn trap(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.push(Finding::trap(what, fix));
    }

    fn warn(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.push(Finding::warn(what, fix));
    }

    /// Once: a file several rc scripts read is found wanting once.
    fn push(&mut self, finding: Finding) {
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// How many lines make the exit status 1.
    fn failing(&self) -> usize {
        self.findings.iter().filter(|f| f.level == Level::Trap).count() + self.would.len()
    }

    fn text(&self) -> String {
        let mut text = String::new();
        for f in self.findings.iter().filter(|f| f.level == Level::Trap) {
            let _ = writeln!(text, "{f}");
        }
        for w in &self.would {
            let _ = writeln!(text, "{w}");
        }
        for f in self.findings.iter().filter(|f| f.level == Level::Warn) {
            let _ = writeln!(text, "{f}");
        }
        for n in &self.notes {
            let _ = writeln!(text, "# {n}");
        }
        if self.failing() == 0 {
            text.push_str("configuration OK\n");
        }
        text
    }
}

/// What `check` found: its report, and the kernel's error when it could
/// not be observed. `setup` prints the same after its changes (issue 16,
/// point 2), so the two cannot disagree.
#[derive(Debug)]
pub struct Examined {
    report: Report,
    unobservable: Option<KernelError>,
}

impl Examined {
    /// What `check` prints.
    pub fn text(&self) -> String {
        self.report.text()
    }

    /// The TRAP lines, as printed.
    pub fn traps(&self) -> Vec<String> {
        self.report
            .findings
            .iter()
            .filter(|f| f.level == Level::Trap)
            .map(ToString::to_string)
            .collect()
    }

    /// How many changes a reconcile would still make, in every round.
    pub fn would(&self) -> usize {
        self.report.would.len()
    }

    /// `check`'s verdict: `Err(Unmet)` (exit 1) when anything that is not
    /// advice was listed; `Err(Kernel)` (exit 3) when the kernel could not
    /// be observed.
    pub fn into_result(self) -> Result<(), Error> {
        if let Some(e) = self.unobservable {
            return Err(Error::Kernel(e));
        }
        match self.report.failing() {
            0 => Ok(()),
            n => Err(Error::Unmet(n)),
        }
    }
}

/// `lagghook check`: every change a reconcile would make and every trap,
/// or "configuration OK". `Err(Unmet)` (exit 1) when anything that is not
/// advice was listed; `Err(Kernel)` (exit 3) when the kernel cannot be
/// observed, after what was found without it.
pub fn check(
    config: &Config,
    kernel: &mut dyn Kernel,
    root: &dyn Root,
    choice: &KernelChoice,
    stored: Result<Stored, StateError>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let examined = examine(config, kernel, root, choice, stored);
    write_out(out, &examined.text())?;
    examined.into_result()
}

/// Everything `check` looks at, found and not yet printed.
pub fn examine(
    config: &Config,
    kernel: &mut dyn Kernel,
    root: &dyn Root,
    choice: &KernelChoice,
    stored: Result<Stored, StateError>,
) -> Examined {
    let mut report = Report::default();
    if config.laggs.is_empty() {
        report.trap(
            format!("{}: no lagg configured", config.path.display()),
            "add a [laggN] table with its ports (lagghook.toml(5))",
        );
    }
    // An identity file every run would refuse is a trap; one a run would
    // rebuild is worth a note.
    let stored = stored.unwrap_or_else(|e| {
        report.trap(
            format!("{e}; every run stops until it is removed"),
            "remove it; the next run starts it afresh from the kernel",
        );
        Stored::default()
    });
    if let Some(problem) = identity_file_problem(&stored) {
        report.note(problem);
    }
    let mut unobservable = None;
    let snap = match observe(kernel, config) {
        Ok(snap) => {
            kernel_traps(config, kernel, &snap, &stored, &mut report);
            network::kernel_traps(config, kernel, &snap, &mut report);
            Some(snap)
        }
        Err(e) if e.kind == KernelErrorKind::Unsupported && *choice == KernelChoice::Native => {
            report.note("kernel not checked: no kernel backend on this OS (try -k sim:FILE)");
            None
        }
        Err(e) => {
            unobservable = Some(e);
            None
        }
    };
    // The files are read whatever the kernel said: the identity a vap
    // should be created with is known from the configuration or the
    // identity file even without it.
    let observed = snap.clone().unwrap_or_default();
    let macs = remembered(config, &observed, &stored);
    rc::traps(config, root, &observed, &macs, &mut report);
    for problem in hooks::problems(config, root) {
        report.trap(problem.what, problem.fix);
    }
    devd_files::traps(config, root, &mut report);
    Examined { report, unobservable }
}

/// What the kernel shows: if_lagg, each lagg and port against the
/// configuration, MTUs, the fallback order, and what a reconcile would do.
fn kernel_traps(
    config: &Config,
    kernel: &mut dyn Kernel,
    snap: &Snapshot,
    stored: &Stored,
    report: &mut Report,
) {
    // No `net.link.lagg` sysctls: if_lagg is not loaded. Whether kldload
    // could load it is read, never tried (issue 8).
    if snap.failover_rx_all.is_none() {
        match kernel.lagg_module() {
            Ok(m) => match m.unloadable() {
                Some(why) => {
                    let fix = if m.securelevel > 0 {
                        "load it before the securelevel rises: if_lagg_load=\"YES\" in \
                         /boot/loader.conf, or sysrc kld_list+=if_lagg"
                    } else {
                        "install if_lagg.ko in a kern.module_path directory, or use a kernel \
                         with device lagg"
                    };
                    report.trap(format!("if_lagg: not loaded, and not loadable: {why}"), fix);
                }
                None if !m.loaded => {
                    report.note("if_lagg: not loaded; reconcile loads it (kldload)")
                }
                None => {}
            },
            Err(e) => report.trap(
                format!("if_lagg: cannot tell whether it can be loaded: {e}"),
                "kldload if_lagg, and see why it fails",
            ),
        }
    }
    let macs = remembered(config, snap, stored);
    lagg_traps(config, snap, &macs, report);
    // Every round, as `-n` shows them: a reconcile that needs several
    // (create the lagg, then add its ports) is not done after the first.
    let refreshed = stored.state.as_ref().map(|s| s.wpa.clone()).unwrap_or_default();
    let rounds = rounds(config, snap, &macs, &refreshed, &Scope::All);
    for (i, round) in rounds.plans.iter().enumerate() {
        let predicted = i > 0;
        report
            .would
            .extend(round.actions.iter().map(|a| Would { command: a.to_string(), predicted }));
    }
    // The notes are about the kernel as it is, not as predicted.
    for note in rounds.plans.first().map(|p| p.notes.as_slice()).unwrap_or_default() {
        report.note(note.to_string());
    }
    match rounds.end {
        PredictionEnd::Converged => {}
        PredictionEnd::Unpredictable(why) => {
            report.note(format!("later rounds cannot be predicted: {why}"));
        }
        PredictionEnd::Failed(why) => {
            report.note(format!("the prediction stops at a failed change: {why}"));
        }
        PredictionEnd::Unfinished(plan) => {
            // A note, as `-n` says it: the prediction rests on the
            // simulator's guesses, and the rounds above already fail the
            // check.
            let actions: Vec<String> = plan.actions.iter().map(ToString::to_string).collect();
            report.note(format!(
                "not converged after {MAX_ROUNDS} rounds (predicted); still to do: {}",
                actions.join("; ")
            ));
        }
    }
}

fn lagg_traps(config: &Config, snap: &Snapshot, macs: &RememberedMacs, report: &mut Report) {
    for lagg in &config.laggs {
        match snap.interface(&lagg.name) {
            Some(i) if i.kind != IfKind::Lagg => report.trap(
                format!("{}: exists but is not a lagg (kind {})", lagg.name, i.kind),
                "rename or destroy that interface, or configure another lagg name",
            ),
            None => report.note(format!("{}: does not exist yet; reconcile creates it", lagg.name)),
            _ => {}
        }
        for member in snap.laggs.get(&lagg.name).map(|s| s.ports.as_slice()).unwrap_or_default() {
            if !lagg.ports.contains(&member.name) {
                report.trap(
                    format!(
                        "{}: port {} is not in the configuration; lagghook leaves it alone",
                        lagg.name, member.name
                    ),
                    format!(
                        "list it in ports, or ifconfig {} -laggport {}",
                        lagg.name, member.name
                    ),
                );
            }
        }
        for port in &lagg.ports {
            let Some(i) = snap.interface(port) else {
                report.note(format!("{port}: absent; it is added when it attaches"));
                continue;
            };
            if !matches!(i.kind, IfKind::Ether | IfKind::Vlan | IfKind::Wlan) {
                report.trap(
                    format!("{port}: is not an Ethernet, vlan or wlan interface; lagg refuses it"),
                    format!("remove {port} from the ports of {}", lagg.name),
                );
            }
            if let Some(other) = snap.lagg_of(port).filter(|l| *l != &lagg.name) {
                report.trap(
                    format!("{port}: is a port of {other}, not {}", lagg.name),
                    format!("ifconfig {other} -laggport {port}, or configure it in {other}"),
                );
            }
            if let Some((_, wlan)) = lagg.wlans.iter().find(|(n, _)| n == port) {
                if i.kind != IfKind::Wlan {
                    report.trap(
                        format!("{port}: configured as a wlan but is not one"),
                        format!("remove the wlan.{port} table, or name the vap"),
                    );
                }
                if let (Some(want), Some(have)) = (&wlan.parent, &i.parent) {
                    if want != have {
                        report.trap(
                            format!("{port}: parent is {have}, configured {want}"),
                            format!(
                                "set wlan.{port}.parent = \"{have}\", or create {port} on {want}"
                            ),
                        );
                    }
                }
            }
        }
        mtu_traps(lagg, snap, report);
        backup_order_trap(lagg, snap, report);
        // The identity is worth a word when it is not simply the address
        // the configuration names: unknown, provisional, or kept from an
        // earlier `mac` setting.
        let resolved = identity::resolve(lagg, snap, macs.get(&lagg.name));
        let worth_a_note = match &resolved {
            None => true,
            Some(r) => match r.basis {
                Basis::Provisional | Basis::Superseded { .. } => true,
                Basis::Stored => r.port_differs(),
                Basis::Literal | Basis::PortHwaddr => false,
            },
        };
        if worth_a_note {
            report.note(format!("{}: {}", lagg.name, identity_in_words(lagg, resolved.as_ref())));
        }
    }
}

/// A vap takes an MTU of at most `IEEE80211_MTU_MAX` (2290,
/// `sys/net80211/ieee80211.h`; net80211's SIOCSIFMTU refuses more with
/// EINVAL), and a port joining a lagg with ports is given the lagg's MTU,
/// while an empty lagg takes its first port's (`lagg_port_create`,
/// `sys/net/if_lagg.c`). So a jumbo lagg, or a jumbo wired port that would
/// join an empty one first, keeps the vap out.
fn mtu_traps(lagg: &LaggConfig, snap: &Snapshot, report: &mut Report) {
    let Some(wlan) = lagg.ports.iter().find(|p| lagg.is_wlan_port(p)) else { return };
    let members = snap.laggs.get(&lagg.name).map_or(0, |s| s.ports.len());
    if let Some(i) = snap.interface(&lagg.name).filter(|i| i.mtu > IEEE80211_MTU_MAX) {
        report.trap(
            format!(
                "{}: MTU {} is above the {IEEE80211_MTU_MAX} a wlan vap accepts: {wlan} cannot \
                 join it (EINVAL)",
                lagg.name, i.mtu
            ),
            format!("ifconfig {} mtu 1500, and drop the mtu from its rc.conf lines", lagg.name),
        );
        return;
    }
    if members > 0 {
        return;
    }
    for port in lagg.ports.iter().filter(|p| !lagg.is_wlan_port(p)) {
        if let Some(i) = snap.interface(port).filter(|i| i.mtu > IEEE80211_MTU_MAX) {
            report.trap(
                format!(
                    "{port}: MTU {} is above the {IEEE80211_MTU_MAX} a wlan vap accepts; joining \
                     an empty {} first, it gives the lagg that MTU and {wlan} cannot join",
                    i.mtu, lagg.name
                ),
                format!("ifconfig {port} mtu 1500, and drop the mtu from its rc.conf lines"),
            );
        }
    }
}

/// With three ports or more, lagg falls back from the primary to the port
/// after it in its list, which is sorted by if_index, else to the first
/// usable one from the head (`lagg_link_active`, `sys/net/if_lagg.c`),
/// not to the next port of the configuration.
fn backup_order_trap(lagg: &LaggConfig, snap: &Snapshot, report: &mut Report) {
    let present: Vec<(&IfName, u32)> =
        lagg.ports.iter().filter_map(|p| snap.interface(p).map(|i| (p, i.index))).collect();
    if present.len() < 3 {
        return;
    }
    let preference: Vec<&IfName> = present.iter().map(|(p, _)| *p).collect();
    let mut by_index = present.clone();
    by_index.sort_by_key(|(_, index)| *index);
    let list: Vec<&IfName> = by_index.iter().map(|(p, _)| *p).collect();
    let primary = preference[0];
    let Some(pos) = list.iter().position(|p| *p == primary) else { return };
    let next = list.get(pos + 1).copied();
    let mut fallback: Vec<&IfName> = next.into_iter().collect();
    fallback.extend(list.iter().copied().filter(|p| *p != primary && Some(*p) != next));
    if fallback[..] == preference[1..] {
        return;
    }
    let names = |v: &[&IfName]| v.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ");
    let mut lagg_order = vec![primary];
    lagg_order.extend(&fallback);
    report.trap(
        format!(
            "{}: when {primary} fails, lagg(4) falls back to {} in that order (the port after \
             the primary in interface index order, then from the head), not to {} as configured",
            lagg.name,
            names(&fallback),
            names(&preference[1..])
        ),
        format!(
            "list the ports in lagg's order (ports = [{}]), or have them attach in the preferred \
             order (lagghook(8), Planning rules)",
            lagg_order.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ")
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file several rc scripts read (rc.conf.d/network: netif and
    /// pccard_ether) is reported once, and advice alone leaves the verdict
    /// "configuration OK".
    #[test]
    fn findings_are_listed_once_and_advice_does_not_fail() {
        let mut report = Report::default();
        report.warn("cannot read /etc/rc.conf.d/network: is larger than 1 MiB", "x");
        report.warn("cannot read /etc/rc.conf.d/network: is larger than 1 MiB", "x");
        assert_eq!(report.failing(), 0);
        assert_eq!(
            report.text(),
            "WARN: cannot read /etc/rc.conf.d/network: is larger than 1 MiB; advice: x\n\
             configuration OK\n"
        );
        report.trap("t", "f");
        report.would.push(Would { command: "ifconfig lagg0 up".into(), predicted: false });
        report.would.push(Would { command: "ifconfig lagg0 laggport em0".into(), predicted: true });
        report.note("n");
        assert_eq!(report.failing(), 3);
        assert_eq!(
            report.text(),
            "TRAP: t; fix: f\nwould: ifconfig lagg0 up\n\
             would (predicted): ifconfig lagg0 laggport em0\n\
             WARN: cannot read /etc/rc.conf.d/network: is larger than 1 MiB; advice: x\n# n\n"
        );
    }
    use crate::sim::{Machine, SimKernel, SimRoot};

    /// Issue 8: `check` reports an if_lagg that is neither loaded nor
    /// loadable, without trying to load it.
    #[test]
    fn issue8_check_reports_if_lagg_not_loadable_and_loads_nothing() {
        let config = Config::parse("[lagg0]\nports = [\"em0\"]\n", "t.toml".as_ref()).unwrap();
        let choice = KernelChoice::Sim("k.toml".into());
        let cases = [
            (Machine { if_lagg: Some(false), ..Machine::default() }, None),
            (
                Machine { if_lagg: Some(false), securelevel: Some(1), ..Machine::default() },
                Some("if_lagg: not loaded, and not loadable: kern.securelevel is 1"),
            ),
            (
                Machine { if_lagg: Some(false), if_lagg_ko: Some(false), ..Machine::default() },
                Some("if_lagg: not loaded, and not loadable: no if_lagg.ko in kern.module_path"),
            ),
        ];
        for (machine, problem) in cases {
            let mut k = SimKernel::from_machine(&machine).unwrap();
            let mut out = Vec::new();
            let r = check(
                &config,
                &mut k,
                &SimRoot::default(),
                &choice,
                Ok(Stored::default()),
                &mut out,
            );
            let text = String::from_utf8(out).unwrap();
            match problem {
                Some(p) => assert!(text.starts_with(&format!("TRAP: {p}")) && r.is_err(), "{text}"),
                None => {
                    assert!(text.contains("# if_lagg: not loaded; reconcile loads it"), "{text}")
                }
            }
            assert_eq!(k.writes(), 0, "check only reads");
            assert_eq!(k.failover_rx_all().unwrap(), None);
        }
    }
}
