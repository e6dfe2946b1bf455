//! `check`: is the configuration usable on this kernel, and is the system
//! converged. It only reads.

use std::fmt::Write as _;
use std::io::Write;

use crate::cli::args::KernelChoice;
use crate::cli::output::write_out;
use crate::cli::status::{identity_file_problem, identity_in_words};
use crate::domain::config::Config;
use crate::domain::identity::{self, Basis};
use crate::domain::model::{IfKind, Snapshot};
use crate::domain::plan::{plan, RememberedMacs, Scope};
use crate::kernel::{Kernel, KernelErrorKind};
use crate::run::error::Error;
use crate::run::state::{StateError, Stored};
use crate::run::{observe, remembered};

/// `lagghook check`: "configuration OK", or every problem found.
pub fn check(
    config: &Config,
    kernel: &mut dyn Kernel,
    choice: &KernelChoice,
    stored: Result<Stored, StateError>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if config.laggs.is_empty() {
        problems.push(format!("{}: no lagg configured", config.path.display()));
    }
    // An identity file every run would refuse is a problem; one a run
    // would rebuild is worth a note.
    let stored = stored.unwrap_or_else(|e| {
        problems.push(format!("{e}; every run stops until it is removed"));
        Stored::default()
    });
    if let Some(problem) = identity_file_problem(&stored) {
        notes.push(problem);
    }
    match observe(kernel, config) {
        Ok(snap) => {
            // No `net.link.lagg` sysctls: if_lagg is not loaded. Whether
            // kldload could load it is read, never tried (issue 8).
            if snap.failover_rx_all.is_none() {
                match kernel.lagg_module() {
                    Ok(m) => {
                        match m.unloadable() {
                            Some(why) => problems
                                .push(format!("if_lagg: not loaded, and not loadable: {why}")),
                            None if !m.loaded => notes
                                .push("if_lagg: not loaded; reconcile loads it (kldload)".into()),
                            None => {}
                        }
                    }
                    Err(e) => problems.push(e.to_string()),
                }
            }
            let macs = remembered(config, &snap, &stored);
            kernel_problems(config, &snap, &macs, &mut problems, &mut notes);
            if *choice == KernelChoice::Native {
                installation_problems(config, &mut problems);
            }
        }
        Err(e) if e.kind == KernelErrorKind::Unsupported && *choice == KernelChoice::Native => {
            notes.push("kernel not checked: no kernel backend on this OS (try -k sim:FILE)".into());
        }
        Err(e) => problems.push(e.to_string()),
    }
    let mut text = String::new();
    for p in &problems {
        let _ = writeln!(text, "{p}");
    }
    for n in &notes {
        let _ = writeln!(text, "# {n}");
    }
    if problems.is_empty() {
        text.push_str("configuration OK\n");
    }
    write_out(out, &text)?;
    match problems.len() {
        0 => Ok(()),
        n => Err(Error::Unmet(n)),
    }
}

fn kernel_problems(
    config: &Config,
    snap: &Snapshot,
    macs: &RememberedMacs,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    for lagg in &config.laggs {
        match snap.interface(&lagg.name) {
            Some(i) if i.kind != IfKind::Lagg => {
                problems.push(format!("{}: exists but is not a lagg", lagg.name));
            }
            None => notes.push(format!("{}: does not exist yet; reconcile creates it", lagg.name)),
            _ => {}
        }
        for member in snap.laggs.get(&lagg.name).map(|s| s.ports.as_slice()).unwrap_or_default() {
            if !lagg.ports.contains(&member.name) {
                problems.push(format!(
                    "{}: port {} is not in the configuration; lagghook leaves it alone \
                     (fix: list it in ports, or ifconfig {} -laggport {})",
                    lagg.name, member.name, lagg.name, member.name
                ));
            }
        }
        for port in &lagg.ports {
            let Some(i) = snap.interface(port) else {
                notes.push(format!("{port}: absent; it is added when it attaches"));
                continue;
            };
            if !matches!(i.kind, IfKind::Ether | IfKind::Vlan | IfKind::Wlan) {
                problems.push(format!(
                    "{port}: is not an Ethernet, vlan or wlan interface; lagg refuses it"
                ));
            }
            if let Some(other) = snap.lagg_of(port).filter(|l| *l != &lagg.name) {
                problems.push(format!("{port}: is a port of {other}, not {}", lagg.name));
            }
            if let Some((_, wlan)) = lagg.wlans.iter().find(|(n, _)| n == port) {
                if i.kind != IfKind::Wlan {
                    problems.push(format!("{port}: configured as a wlan but is not one"));
                }
                if let (Some(want), Some(have)) = (&wlan.parent, &i.parent) {
                    if want != have {
                        problems.push(format!("{port}: parent is {have}, configured {want}"));
                    }
                }
            }
        }
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
            notes.push(format!("{}: {}", lagg.name, identity_in_words(lagg, resolved.as_ref())));
        }
    }
    let pending = plan(config, snap, macs, &Scope::All);
    if !pending.is_empty() {
        notes.push(format!(
            "not converged; `lagghook reconcile` would run {} change(s)",
            pending.actions.len()
        ));
    }
}

/// Where `lagghook devd-conf`'s output must be for devd to read it: stock
/// `/etc/devd.conf` lists `/usr/local/etc/devd` in its `directory` options.
pub const DEVD_RULES: &str = "/usr/local/etc/devd/lagghook.conf";
/// Restarted after a wlan's MAC changes (rc.d/wpa_supplicant).
pub const WPA_SUPPLICANT_RC: &str = "/etc/rc.d/wpa_supplicant";

/// What the real system needs besides the kernel: devd rules that match
/// this configuration, and the rc script for wlan ports.
fn installation_problems(config: &Config, problems: &mut Vec<String>) {
    let statements = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let wanted = crate::devd::rules_for(config, crate::devd::PROGRAM);
    match std::fs::read_to_string(DEVD_RULES) {
        Err(e) => problems.push(format!(
            "{DEVD_RULES}: {e}; install it with `lagghook devd-conf > {DEVD_RULES}` and `service devd restart`"
        )),
        Ok(text) if statements(&text) != statements(&wanted) => problems.push(format!(
            "{DEVD_RULES}: differs from `lagghook devd-conf` for this configuration; regenerate it and restart devd"
        )),
        Ok(_) => {}
    }
    let has_wlan = config.laggs.iter().any(|l| l.ports.iter().any(|p| l.is_wlan_port(p)));
    if has_wlan && !std::path::Path::new(WPA_SUPPLICANT_RC).exists() {
        problems.push(format!(
            "{WPA_SUPPLICANT_RC}: missing; wlan ports cannot be re-keyed after a MAC change"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Machine, SimKernel};

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
            let r = check(&config, &mut k, &choice, Ok(Stored::default()), &mut out);
            let text = String::from_utf8(out).unwrap();
            match problem {
                Some(p) => assert!(text.starts_with(p) && r.is_err(), "{text}"),
                None => {
                    assert!(text.contains("# if_lagg: not loaded; reconcile loads it"), "{text}")
                }
            }
            assert_eq!(k.writes(), 0, "check only reads");
            assert_eq!(k.failover_rx_all().unwrap(), None);
        }
    }
}
