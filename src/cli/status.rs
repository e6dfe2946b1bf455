//! `status`: what the laggs look like now, why traffic is where it is, and
//! which identity MAC each keeps and why. It only reads. (`check` is in
//! [`crate::cli::check`].)

use std::fmt::Write as _;

/// The network section: addresses, network, network check.
mod network;

use serde::Serialize;

use crate::cli::check::hooks::{self, Problem};
use crate::domain::config::{Config, LaggConfig};
use crate::domain::identity::{self, Basis, Resolved};
use crate::domain::model::{Caps, IfName, Snapshot};
use crate::domain::network::Networks;
use crate::domain::plan::{plan, RememberedMacs, Scope};
use crate::domain::verdict::verdict;
use crate::kernel::Kernel;
use crate::root::Root;
use crate::run::error::Error;
use crate::run::state::Stored;
use crate::run::{observe, remembered};

#[derive(Debug, Serialize)]
struct LaggReport {
    name: String,
    /// `converged`, `degraded` or `offline` (`domain::verdict`).
    verdict: &'static str,
    /// Why it is not converged, one phrase each; empty when converged.
    verdict_why: Vec<String>,
    /// The first configured port that is a member (else the first
    /// configured port): the wanted primary.
    wanted_primary: Option<String>,
    /// `ports` of the configuration, in preference order (the protocol is
    /// always `failover`).
    configured_ports: Vec<String>,
    exists: bool,
    proto: Option<String>,
    mac: Option<String>,
    identity_mac: Option<String>,
    /// Why the identity is that address: `literal`, `stored`,
    /// `port-hwaddr`, `provisional` or `superseded` (see [`Basis::name`]);
    /// `None` while it is unknown.
    identity_source: Option<&'static str>,
    identity_provisional: bool,
    /// The port `mac` names; `None` for a literal.
    identity_port: Option<String>,
    /// That port's hardware address, when the port is seen.
    identity_port_hwaddr: Option<String>,
    /// The identity and its reason in words, as the text output shows it.
    identity_why: String,
    primary: Option<String>,
    active: Option<String>,
    /// Where traffic goes if the port carrying it fails: the port after
    /// the primary in if_index order, else the first with link from the
    /// head (`lagg_link_active`), whatever the configuration's order;
    /// never the active port.
    backup: Option<String>,
    why: String,
    ports: Vec<PortReport>,
    missing_ports: Vec<String>,
    /// The lagg's enabled capabilities (SIOCGIFCAP), ifconfig's names.
    options: Option<String>,
    /// Its addresses and the network check ([`network`]).
    network: network::NetworkReport,
}

#[derive(Debug, Serialize)]
struct PortReport {
    name: String,
    /// `rp_flags` as `SIOCGLAGG` gives them (`LAGG_PORT_MASTER` 0x1,
    /// `LAGG_PORT_ACTIVE` 0x4); `ifconfig lagg0` prints them in hex.
    flags: u32,
    master: bool,
    active: bool,
    up: bool,
    link: String,
    mac: String,
    mac_matches_lagg: bool,
    /// Capabilities the port supports but has not enabled: while it is a
    /// member, `lagg_capabilities` enables only what every port has.
    offload_disabled: Option<String>,
}

/// The `status -j` format's version: a field added keeps it, a field
/// renamed or removed, or a meaning changed, bumps it. 2: an error is an
/// object too ([`error_json`]), and the verdict also judges whether
/// lagghook can run again (the installation).
pub const JSON_VERSION: u32 = 2;

/// What `status -j` prints instead of the report when it cannot make one.
#[derive(Debug, Serialize)]
struct ErrorReport {
    version: u32,
    error: ErrorDetail,
}

#[derive(Debug, Serialize)]
struct ErrorDetail {
    /// The message, as the `lagghook: ` line on standard error says it.
    message: String,
    /// The exit status (lagghook(8) EXIT STATUS), and what it means.
    exit: u8,
    kind: &'static str,
    /// For a configuration error, the file and, when the problem is in
    /// its text, the line and column (1-based).
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
}

/// `status -j`'s answer when there is no report: `{"version", "error":
/// {"message", "exit", "kind", "file", "line", "column"}}`, so that a
/// monitor reading standard output always reads JSON.
pub fn error_json(e: &Error) -> String {
    use crate::run::error::exit;
    let code = e.exit_code();
    let kind = match code {
        exit::CONFIG => "configuration",
        exit::USAGE => "usage",
        exit::UNAVAILABLE => "unavailable",
        exit::OUTPUT => "output",
        _ => "failed",
    };
    let (file, at) = match e {
        Error::Config(c) => (Some(crate::domain::text::path(&c.path)), c.location),
        _ => (None, None),
    };
    let report = ErrorReport {
        version: JSON_VERSION,
        error: ErrorDetail {
            message: e.to_string(),
            exit: code,
            kind,
            file,
            line: at.map(|l| l.line),
            column: at.map(|l| l.column),
        },
    };
    // Plain data: serializing it cannot fail; should it, still JSON.
    serde_json::to_string_pretty(&report).map_or_else(|_| "{}\n".to_owned(), |s| s + "\n")
}

#[derive(Debug, Serialize)]
struct StatusReport {
    version: u32,
    laggs: Vec<LaggReport>,
    /// Why the identity file could not be used, and what follows.
    identity_file_problem: Option<String>,
    failover_rx_all: Option<bool>,
    /// The value the configuration wants for the sysctl.
    configured_failover_rx_all: bool,
    /// What keeps lagghook from running again (`check`'s readers, in
    /// [`hooks`]), each also a reason in every lagg's verdict; `None` when
    /// nothing was looked at (a simulated machine without files).
    installation: Option<Vec<Problem>>,
    transitions: Vec<TransitionReport>,
}

#[derive(Debug, Serialize)]
struct TransitionReport {
    time: u64,
    /// Local time with its UTC offset, as date(1) prints it.
    local: String,
    line: String,
}

/// `lagghook status`: text, or JSON with `-j`, and the worst verdict's
/// severity (0 converged, 1 degraded, 2 offline), which is the exit status
/// a monitoring check reads (lagghook(8) EXIT STATUS). `files` are the
/// machine's, where lagghook's installation is looked at; `None` judges
/// the kernel alone.
pub fn render(
    config: &Config,
    kernel: &mut dyn Kernel,
    stored: &Stored,
    networks: &Networks,
    files: Option<&dyn Root>,
    json: bool,
    now: u64,
) -> Result<(String, u8), Error> {
    let snap = observe(kernel, config)?;
    let remembered = remembered(config, &snap, stored);
    let installation = files.map(|root| hooks::problems(config, root));
    let hook_reasons: Vec<String> = installation.iter().flatten().map(|p| p.what.clone()).collect();
    let laggs: Vec<(LaggReport, u8)> = config
        .laggs
        .iter()
        .map(|l| {
            let pending = plan(config, &snap, &remembered, &Scope::Lagg(l.name.clone()));
            let identity = identity::resolve(l, &snap, remembered.get(&l.name));
            let id = identity.as_ref().map(|r| r.identity.mac);
            let v = verdict(l, &snap, id, config.failover_rx_all(), &pending).with(&hook_reasons);
            let mut report = lagg_report(l, &snap, &remembered);
            (report.verdict, report.verdict_why) = (v.word(), v.reasons());
            let mut severity = v.severity();
            report.network = network::report(l, report.exists, kernel, networks, now);
            if let Some(why) = &report.network.failed {
                // Traffic is affected: the lagg may hold no address of the
                // network it is on.
                if severity == 0 {
                    report.verdict = "degraded";
                    severity = 1;
                }
                report.verdict_why.push(format!("the network check's re-address failed: {why}"));
            }
            (report, severity)
        })
        .collect();
    let worst = laggs.iter().map(|(_, s)| *s).max().unwrap_or(0);
    let report = StatusReport {
        version: JSON_VERSION,
        laggs: laggs.into_iter().map(|(r, _)| r).collect(),
        identity_file_problem: identity_file_problem(stored),
        failover_rx_all: snap.failover_rx_all,
        configured_failover_rx_all: config.failover_rx_all(),
        installation,
        transitions: stored
            .state
            .as_ref()
            .map(|s| {
                s.transitions
                    .iter()
                    .map(|t| TransitionReport {
                        time: t.time,
                        local: crate::sys::clock::local(t.time)
                            .unwrap_or_else(|| format!("{} UTC", utc(t.time))),
                        line: t.line.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    if json {
        return serde_json::to_string_pretty(&report)
            .map(|s| (s + "\n", worst))
            .map_err(|e| Error::Input(format!("JSON: {e}")));
    }
    Ok((text(&report), worst))
}

fn lagg_report(cfg: &LaggConfig, snap: &Snapshot, remembered: &RememberedMacs) -> LaggReport {
    let iface = snap.interface(&cfg.name);
    let status = snap.laggs.get(&cfg.name);
    let lagg_mac = iface.map(|i| i.mac);
    let ports: Vec<PortReport> = status
        .map(|s| {
            s.ports
                .iter()
                .map(|p| {
                    let i = snap.interface(&p.name);
                    PortReport {
                        name: p.name.to_string(),
                        flags: port_flags(p.flags.master, p.flags.active).0,
                        master: p.flags.master,
                        active: p.flags.active,
                        up: i.is_some_and(|i| i.up),
                        link: i.map_or("unknown".into(), |i| i.link.to_string()),
                        mac: i.map_or(String::new(), |i| i.mac.to_string()),
                        mac_matches_lagg: i.map(|i| i.mac) == lagg_mac,
                        offload_disabled: i
                            .and_then(|i| i.caps)
                            .map(|c| Caps::names(c.disabled()))
                            .filter(|n| !n.is_empty()),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let primary = status.and_then(|s| s.primary()).cloned();
    let active = status.and_then(|s| s.active()).cloned();
    let backup = status.and_then(|s| backup(snap, s));
    let identity = identity::resolve(cfg, snap, remembered.get(&cfg.name));
    let id = identity.as_ref();
    LaggReport {
        name: cfg.name.to_string(),
        // Set by the caller, which knows what a reconcile would do.
        verdict: "",
        verdict_why: Vec::new(),
        // The first configured port that is a member; with none (or no
        // lagg), the first configured port.
        wanted_primary: status
            .and_then(|s| cfg.ports.iter().find(|p| s.has_port(p)))
            .or(cfg.primary())
            .map(|p| p.to_string()),
        configured_ports: cfg.ports.iter().map(|p| p.to_string()).collect(),
        exists: status.is_some(),
        proto: status.map(|s| s.proto.to_string()),
        mac: lagg_mac.map(|m| m.to_string()),
        identity_mac: id.map(|r| r.identity.mac.to_string()),
        identity_source: id.map(|r| r.basis.name()),
        identity_provisional: id.is_some_and(|r| r.identity.provisional),
        identity_port: id.and_then(|r| r.port.as_ref()).map(|p| p.to_string()),
        identity_port_hwaddr: id.and_then(|r| r.port_hwaddr).map(|m| m.to_string()),
        identity_why: identity_in_words(cfg, identity.as_ref()),
        why: why_active(snap, status, primary.as_ref(), active.as_ref()),
        primary: primary.map(|p| p.to_string()),
        active: active.map(|p| p.to_string()),
        backup: backup.map(|p| p.to_string()),
        ports,
        options: iface.and_then(|i| i.caps).map(|c| Caps::names(c.enabled)),
        // Filled by the caller, which reads the addresses.
        network: network::NetworkReport::default(),
        missing_ports: cfg
            .ports
            .iter()
            .filter(|p| status.is_none_or(|s| !s.has_port(p)))
            .map(|p| p.to_string())
            .collect(),
    }
}

/// Where traffic goes when the port carrying it fails, as
/// `lagg_link_active(sc, sc_primary)` (`sys/net/if_lagg.c`, read in
/// gmshake/freebsd-src) then picks it: the primary if usable, else the
/// port right after the primary in the list (sorted by if_index) if
/// usable, else the first usable one from the head. The port that fails
/// is the active one (or the primary, while offline); a primary without
/// link is no candidate either. With no candidate usable, the port
/// traffic would take first once it has link, on the same rule. Never
/// the active port itself.
fn backup(snap: &Snapshot, status: &crate::domain::model::LaggStatus) -> Option<IfName> {
    let primary = status.primary()?;
    let active = status.active();
    let usable = |name: &IfName| snap.interface(name).is_some_and(|i| i.up && i.link.is_up());
    // The active port fails; a primary that is not active already has.
    let candidate = |name: &&IfName| *name != primary && Some(*name) != active;
    let others: Vec<&IfName> =
        status.ports.iter().map(|p| &p.name).filter(|n| *n != primary).collect();
    let pos = status.ports.iter().position(|p| &p.name == primary)?;
    let next = status.ports.get(pos + 1).map(|p| &p.name).filter(candidate);
    next.filter(|n| usable(n))
        .or_else(|| others.iter().copied().filter(candidate).find(|n| usable(n)))
        .or(next)
        .or_else(|| others.iter().copied().find(candidate))
        .cloned()
}

/// A port's `LAGG_PORT_*` flags as `ifconfig lagg0` prints them
/// (`printb("flags", rp_flags, LAGG_PORT_BITS)` in `lagg_status`,
/// `sbin/ifconfig/iflagg.c`, fel1x-developer/freebsd-src 2d614aa2):
/// `flags=5<MASTER,ACTIVE>`, `flags=0<>`. `LAGG_PORT_MASTER` is 0x1 and
/// `LAGG_PORT_ACTIVE` 0x4 (`sys/net/if_lagg.h`); in failover
/// `lagg_port2req` sets no other.
fn port_flags(master: bool, active: bool) -> (u32, String) {
    let bits = u32::from(master) | u32::from(active) << 2;
    let names: Vec<&str> = [(master, "MASTER"), (active, "ACTIVE")]
        .iter()
        .filter_map(|(on, name)| on.then_some(*name))
        .collect();
    (bits, format!("flags={bits:x}<{}>", names.join(",")))
}

/// What keeps the identity file from being used, and what follows from it.
pub(super) fn identity_file_problem(stored: &Stored) -> Option<String> {
    let rebuilt = stored.unreadable.as_ref().map(|why| format!("{why}; the next run rebuilds it"));
    rebuilt.or_else(|| {
        let hidden = stored.hidden.as_ref()?;
        Some(format!("{hidden}; the identities shown are not the stored ones (run as root)"))
    })
}

/// A lagg's identity and why it is that address, in one line, for
/// `status` and `check`: for a provisional or superseded identity, also
/// what would replace it, and when.
pub(super) fn identity_in_words(cfg: &LaggConfig, resolved: Option<&Resolved>) -> String {
    let lagg = &cfg.name;
    let Some(r) = resolved else {
        let port = match &cfg.mac {
            crate::domain::config::MacSource::Port(p) => p.to_string(),
            crate::domain::config::MacSource::Literal(m) => m.to_string(),
        };
        return format!(
            "identity MAC unknown until {port} appears or {lagg} holds a configured port"
        );
    };
    let mac = r.identity.mac;
    let port = r.port.as_ref().map_or_else(String::new, |p| p.to_string());
    let hw = r.port_hwaddr.map(|m| m.to_string());
    match (&r.basis, hw) {
        (Basis::Literal, _) => format!("identity MAC {mac}: from the configuration"),
        (Basis::Stored, Some(hw)) if r.port_differs() => format!(
            "identity MAC {mac}: stored, the hardware address {port} had; {port} now has {hw}, \
             which does not replace a stored identity (only the configuration does)"
        ),
        (Basis::Stored, _) => format!("identity MAC {mac}: stored, the hardware address of {port}"),
        (Basis::PortHwaddr, _) => format!("identity MAC {mac}: the hardware address of {port}"),
        (Basis::Provisional, Some(hw)) => format!(
            "identity MAC {mac}: provisional, {lagg}'s own MAC; {port}'s hardware address {hw} \
             differs and replaces it when {lagg} is next empty or created"
        ),
        (Basis::Provisional, None) => format!(
            "identity MAC {mac}: provisional, {lagg}'s own MAC; {port} has not been seen, and its \
             hardware address replaces it when {lagg} is next empty or created"
        ),
        (Basis::Superseded { was }, _) => format!(
            "identity MAC {mac}: chosen for {}; {port}'s hardware address replaces it as soon as \
             {port} is seen",
            identity::setting(was)
        ),
    }
}

/// Explains `lagg_link_active` (`sys/net/if_lagg.c`): the primary while it
/// is active (link up and IFF_UP), else the next active port.
fn why_active(
    snap: &Snapshot,
    status: Option<&crate::domain::model::LaggStatus>,
    primary: Option<&IfName>,
    active: Option<&IfName>,
) -> String {
    let Some(status) = status else {
        return "the lagg does not exist".into();
    };
    if status.ports.is_empty() {
        return "the lagg has no ports".into();
    }
    let Some(primary) = primary else {
        // Only failover reports a primary (`lagg_port2req`).
        return format!("laggproto {} has no primary port (configured: failover)", status.proto);
    };
    let reason = |name: &IfName| match snap.interface(name) {
        Some(i) if !i.up => format!("{name} is down"),
        Some(i) if !i.link.is_up() => format!("{name} has no link"),
        _ => format!("{name} is not usable"),
    };
    match active {
        Some(a) if a == primary => format!("{a} is the primary and has link"),
        Some(a) => format!("{}, so traffic fails over to {a}", reason(primary)),
        None => format!("{} and no other port has link", reason(primary)),
    }
}

fn text(r: &StatusReport) -> String {
    let mut s = String::new();
    if let Some(problem) = &r.identity_file_problem {
        let _ = writeln!(s, "{problem}");
    }
    for l in &r.laggs {
        match l.verdict_why.as_slice() {
            [] => {
                let _ = writeln!(s, "{}: {}", l.name, l.verdict);
            }
            why => {
                let _ = writeln!(s, "{}: {}: {}", l.name, l.verdict, why.join("; "));
            }
        }
        if !l.exists {
            let _ = writeln!(s, "{}: does not exist", l.name);
            let _ = writeln!(s, "\t{}", l.identity_why);
            continue;
        }
        let _ = writeln!(
            s,
            "{}: laggproto {}, MAC {}, active {}",
            l.name,
            l.proto.as_deref().unwrap_or("?"),
            l.mac.as_deref().unwrap_or("?"),
            l.active.as_deref().unwrap_or("none (offline)")
        );
        let _ = writeln!(s, "\twhy: {}", l.why);
        let _ = writeln!(s, "\t{}", l.identity_why);
        if let Some(b) = &l.backup {
            // lagg falls back in if_index order, not in the configuration's.
            let _ = writeln!(s, "\tbackup: {b} (lagg's choice: next in if_index order)");
        }
        // As ifconfig(8), which prints no `options` line for none.
        if let Some(o) = l.options.as_ref().filter(|o| !o.is_empty()) {
            let _ = writeln!(s, "\toptions: <{o}>");
        }
        // The lagg's addresses, as ifconfig lists them before its ports,
        // go here.
        let ports: Vec<String> = l
            .ports
            .iter()
            .map(|p| format!("laggport: {} {}", p.name, port_flags(p.master, p.active).1))
            .collect();
        let width = ports.iter().map(String::len).max().unwrap_or(0);
        for (p, head) in l.ports.iter().zip(&ports) {
            let _ = writeln!(
                s,
                "\t{head:<width$}  {:<4} link {:<10} MAC {} {}",
                if p.up { "UP" } else { "DOWN" },
                p.link,
                p.mac,
                if p.mac_matches_lagg { "(= lagg)" } else { "(differs from lagg)" }
            );
            if let Some(off) = &p.offload_disabled {
                let _ = writeln!(s, "\t\t{} offload off in the lagg: <{off}>", p.name);
            }
        }
        for m in &l.missing_ports {
            let _ = writeln!(s, "\tconfigured port {m} is not a member");
        }
        network::text(&mut s, &l.name, &l.network);
        if let (Some(want), Some(have)) = (&l.identity_mac, &l.mac) {
            if want != have {
                let _ = writeln!(s, "\tidentity MAC {want} differs from the lagg's");
            }
        }
    }
    let _ = writeln!(
        s,
        "net.link.lagg.failover_rx_all: {}",
        match r.failover_rx_all {
            Some(true) => "1",
            Some(false) => "0",
            None => "absent (if_lagg not loaded)",
        }
    );
    for p in r.installation.iter().flatten() {
        let _ = writeln!(s, "installation: {}; fix: {}", p.what, p.fix);
    }
    if !r.transitions.is_empty() {
        let _ = writeln!(s, "last transitions:");
        for t in &r.transitions {
            let _ = writeln!(s, "\t{} {}", t.local, t.line);
        }
    }
    s
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, from Unix seconds: Howard Hinnant's
/// `civil_from_days` (std has no calendar, and this is all `status` needs).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, (rem % 3600) / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::KernelChoice;
    use crate::domain::model::IfKind;
    use crate::sim::{Machine, SimKernel};

    const ON_A_LAN: &str = r#"
[machine]
failover_rx_all = 1
[[machine.network]]
name = "office"
subnet = "10.1.0.0/24"
gateway = "10.1.0.1"
gateway_mac = "00:0d:b9:00:00:01"
dhcp = { pool = "10.1.0.100-10.1.0.199" }
[[machine.interface]]
name = "em0"
kind = "ether"
mac = "00:11:22:33:44:55"
link = true
network = "office"
[[machine.interface]]
name = "lagg0"
kind = "lagg"
ports = ["em0"]
dhcp = true
"#;

    /// Issue 20 point 8, issue 16 point 8: status shows the lagg's
    /// addresses and the network it is on; a failed re-address makes the
    /// lagg degraded, in text and JSON.
    #[test]
    fn issue20_status_shows_addresses_the_network_and_a_failed_re_address() {
        use crate::domain::network::{LastCheck, Networks};
        use crate::run::netcheck::{after_run, LaggEnds};
        let config = Config::parse("[lagg0]\nports = [\"em0\"]\n", "t.toml".as_ref()).unwrap();
        let mut k = SimKernel::from_machine(&Machine::parse(ON_A_LAN).unwrap()).unwrap();
        // What a converged run records.
        let snap = observe(&mut k, &config).unwrap();
        let view =
            crate::domain::transition::LaggView::observe(&snap, &IfName::new("lagg0").unwrap());
        let ends = [(
            IfName::new("lagg0").unwrap(),
            LaggEnds { before: view.clone(), after: view, active_is_vap: false },
        )];
        let mut store = crate::run::state::MemoryStore::default();
        let mut log = crate::run::log::MemoryLog::default();
        after_run(&mut k, &mut log, &mut store, &config, &ends, 1_000, false);
        let mut nets: Networks = store.networks.clone();
        let text = render(&config, &mut k, &Stored::default(), &nets, None, false, 1).unwrap();
        assert_eq!(text.1, 0, "{}", text.0);
        assert!(text.0.contains("\tinet 10.1.0.100/24\n"), "{}", text.0);
        assert!(
            text.0.contains("\tnetwork: gateway 10.1.0.1 at 00:0d:b9:00:00:01 (1 known)\n"),
            "{}",
            text.0
        );
        nets.of_mut(&IfName::new("lagg0").unwrap()).last_check = Some(LastCheck {
            time: 1,
            verdict: "moved to new network".into(),
            failed: Some("/sbin/dhclient: No such file or directory".into()),
        });
        let (text, severity) =
            render(&config, &mut k, &Stored::default(), &nets, None, false, 1).unwrap();
        assert_eq!(severity, 1, "{text}");
        assert!(
            text.starts_with("lagg0: degraded: the network check's re-address failed"),
            "{text}"
        );
        let json = render(&config, &mut k, &Stored::default(), &nets, None, true, 1).unwrap().0;
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["laggs"][0]["network"]["inet"][0], "10.1.0.100/24");
        assert_eq!(json["laggs"][0]["verdict"], "degraded");
        // A check in flight is shown until its deadline, not after.
        let flight = lagghook_in_flight(7, 10_000);
        nets.of_mut(&IfName::new("lagg0").unwrap()).in_flight = Some(flight);
        let text = render(&config, &mut k, &Stored::default(), &nets, None, false, 5).unwrap().0;
        assert!(text.contains("\tcheck 7 in flight\n"), "{text}");
        let text = render(&config, &mut k, &Stored::default(), &nets, None, false, 11).unwrap().0;
        assert!(!text.contains("in flight"), "{text}");
    }

    fn lagghook_in_flight(generation: u64, deadline_ms: u64) -> crate::domain::network::InFlight {
        crate::domain::network::InFlight {
            generation,
            spawned_ms: 0,
            deadline_ms,
            lagg_bounced: false,
        }
    }

    /// Issue 8: `status` shows the lagg's capabilities and what a port
    /// runs without because another port lacks it (`lagg_capabilities`).
    #[test]
    fn issue8_status_shows_the_offload_a_wlan_member_costs_em0() {
        use crate::sim::MachineInterface;
        let config =
            Config::parse("[lagg0]\nports = [\"em0\", \"wlan0\"]\n", "t.toml".as_ref()).unwrap();
        let mut em0 = MachineInterface::new(IfName::new("em0").unwrap(), IfKind::Ether);
        (em0.mac, em0.link) = (Some("00:11:22:33:44:55".parse().unwrap()), true);
        let mut wlan0 = MachineInterface::new(IfName::new("wlan0").unwrap(), IfKind::Wlan);
        (wlan0.parent, wlan0.link) = (Some(IfName::new("iwn0").unwrap()), true);
        let mut lagg0 = MachineInterface::new(IfName::new("lagg0").unwrap(), IfKind::Lagg);
        lagg0.ports = Some(vec![em0.name.clone(), wlan0.name.clone()]);
        let machine = Machine { interface: vec![em0, wlan0, lagg0], ..Machine::default() };
        let mut k = SimKernel::from_machine(&machine).unwrap();
        let text =
            render(&config, &mut k, &Stored::default(), &Networks::default(), None, false, 0)
                .unwrap()
                .0;
        // ifconfig prints no options line for a lagg with none.
        assert!(!text.contains("options"), "{text}");
        assert!(text.contains("em0 offload off in the lagg: <RXCSUM,TXCSUM,"), "{text}");
        assert!(text.contains("TSO4,LRO"), "{text}");
        assert!(!text.contains("wlan0 offload off"), "{text}");
    }

    /// Issue 7, point 4: after an undocked boot the identity is
    /// provisional; `status` (text and JSON) and `check` say so, and how
    /// it differs from the dock's hardware address, now that it is seen.
    #[test]
    fn issue7_status_and_check_show_a_provisional_identity_and_the_ports_address() {
        use crate::domain::config::MacSource;
        use crate::domain::identity::Identity;
        use crate::sim::MachineInterface;
        let config =
            Config::parse("[lagg0]\nports = [\"ue0\", \"wlan0\"]\n", "t.toml".as_ref()).unwrap();
        let name = |s: &str| IfName::new(s).unwrap();
        let mut ue0 = MachineInterface::new(name("ue0"), IfKind::Ether);
        (ue0.mac, ue0.link) = (Some("00:11:22:33:44:55".parse().unwrap()), true);
        let mut wlan0 = MachineInterface::new(name("wlan0"), IfKind::Wlan);
        wlan0.mac = Some("00:24:d7:00:00:01".parse().unwrap());
        (wlan0.parent, wlan0.link) = (Some(name("iwn0")), true);
        let mut lagg0 = MachineInterface::new(name("lagg0"), IfKind::Lagg);
        lagg0.ports = Some(vec![wlan0.name.clone()]);
        let machine = Machine { interface: vec![wlan0, lagg0, ue0], ..Machine::default() };
        let provisional = Identity {
            mac: "00:24:d7:00:00:01".parse().unwrap(),
            source: MacSource::Port(name("ue0")),
            provisional: true,
        };
        let stored = Stored {
            macs: RememberedMacs::from([(name("lagg0"), provisional)]),
            ..Stored::default()
        };

        let mut k = SimKernel::from_machine(&machine).unwrap();
        let text =
            render(&config, &mut k, &stored, &Networks::default(), None, false, 0).unwrap().0;
        let words = "identity MAC 00:24:d7:00:00:01: provisional, lagg0's own MAC; ue0's hardware \
                     address 00:11:22:33:44:55 differs and replaces it when lagg0 is next empty \
                     or created";
        assert!(text.contains(&format!("\t{words}\n")), "{text}");
        let json: serde_json::Value = serde_json::from_str(
            &render(&config, &mut k, &stored, &Networks::default(), None, true, 0).unwrap().0,
        )
        .unwrap();
        let lagg = &json["laggs"][0];
        assert_eq!(lagg["identity_mac"], "00:24:d7:00:00:01");
        assert_eq!(lagg["identity_source"], "provisional");
        assert_eq!(lagg["identity_provisional"], true);
        assert_eq!(lagg["identity_port"], "ue0");
        assert_eq!(lagg["identity_port_hwaddr"], "00:11:22:33:44:55");

        let mut out = Vec::new();
        let choice = KernelChoice::Sim("k.toml".into());
        let root = crate::sim::SimRoot::default();
        let _ = crate::cli::check::check(&config, &mut k, &root, &choice, Ok(stored), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&format!("# lagg0: {words}\n")), "{text}");

        // Nothing stored yet: the dock's address is what a run would take.
        let json: serde_json::Value = serde_json::from_str(
            &render(&config, &mut k, &Stored::default(), &Networks::default(), None, true, 0)
                .unwrap()
                .0,
        )
        .unwrap();
        assert_eq!(json["laggs"][0]["identity_source"], "port-hwaddr");
        assert_eq!(json["laggs"][0]["identity_mac"], "00:11:22:33:44:55");
        assert_eq!(k.writes(), 0, "status and check only read");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc(1_795_545_000), "2026-11-24 18:30:00");
    }
}
