//! `lagghook setup`: the whole set-up of a laptop from what its kernel
//! shows and what the administrator says, in one command, each step done
//! only if it is not done yet, ending with `check`'s verdict.
//!
//! 1. The configuration, `/usr/local/etc/lagghook.toml`, if there is none:
//!    lagg0 over the one wired interface with a carrier (or those `-e`
//!    names) and a vap on the one radio in `net.wlan.devices` (or the one
//!    `-w` names), `mac` the first wired port (or `-m`'s). One that is byte
//!    for byte the shipped sample ([`SAMPLE`]) counts as none and is
//!    replaced, since the port's `@sample` installs it as the
//!    configuration and it names em0 and iwn0, which the laptop may not
//!    have. Any other is used as it is, never overwritten, once every
//!    interface it names is found on the machine; otherwise nothing is
//!    changed ([`choose`]).
//! 2. The rc.conf(5) variables that build the lagg at boot, in
//!    `/etc/rc.conf.d/network` (the file rc.d/netif, /etc/pccard_ether and
//!    rc.d/dhclient all load, `load_rc_config` in `libexec/rc/rc.subr`),
//!    through sysrc(8): each value is the current one with lagghook's
//!    words set and every other word kept (`country DE regdomain ETSI`
//!    stays beside `wlanaddr`); the same variables' lines in /etc/rc.conf
//!    and /etc/rc.conf.local, which the network file shadows, are removed
//!    ([`rc_edit`]).
//! 3. The WiFi driver's module in `kld_list` of `/etc/rc.conf`, so it is
//!    loaded before rc.d/netif builds the lagg (rc.d/kld runs
//!    `load_rc_config kld`, which does not read rc.conf.d/network).
//! 4. `lagghook_enable` for the rc.d script.
//! 5. The devd rules for the configuration,
//!    `/usr/local/etc/devd/lagghook.conf`.
//! 6. The live reconfiguration: a devd restart when the rules changed (devd
//!    reads them only when it starts), and a reconcile. From a remote
//!    session that may run over a port the reconcile moves ([`session`]),
//!    it is left for the next boot unless `-f` says otherwise, and said so
//!    before anything changes (issue 16, point 1).
//! 7. The verdict: `check` on the result, printed; a trap left is an exit
//!    status 1, with its fix as the thing left to do (issue 16, point 2).
//!
//! Under `-n` every change is printed, one line each, and none is made,
//! then what the reconcile would do and the traps `check` would still
//! find. What this module does not own: how files are read and written and
//! commands run ([`host`]), reading rc.conf values and editing their
//! words ([`rc_vars`]).

pub mod host;
pub mod rc_vars;

mod choose;
mod rc_edit;
mod session;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::args::{Command, Invocation, KernelChoice};
use crate::cli::check;
use crate::cli::command::{self, execute_with};
use crate::cli::output::write_out;
use crate::devd;
use crate::domain::identity::{self, Basis};
use crate::domain::model::{IfName, LinkState, Snapshot};
use crate::domain::plan::{Action, Scope};
use crate::domain::text;
use crate::kernel::Kernel;
use crate::root::{Overlay, Root};
use crate::run;
use crate::run::error::Error;
use crate::run::log::{Level, Log};
use crate::run::state::StateStore;
use crate::sim::SimRoot;
use crate::sys::{login, NativeKernel};

use host::{Host, HostError, NativeHost, SimHost, SERVICE, SYSRC};
use rc_edit::RcFiles;
use session::{Session, SshEnv};

/// The rc.conf files, in the order rc reads them (`rc_conf_files`, then
/// `rc.conf.d/NAME`): a later one wins.
pub const RC_CONF: &str = "/etc/rc.conf";
pub const RC_CONF_LOCAL: &str = "/etc/rc.conf.local";
pub const NETWORK: &str = "/etc/rc.conf.d/network";
/// The devd rules `setup` installs, as `check` and lagghook(8) name them.
pub const DEVD_RULES: &str = "/usr/local/etc/devd/lagghook.conf";
/// The sample configuration `make install` installs as
/// `lagghook.toml.sample`, and the package, through `@sample`, also as
/// `lagghook.toml` when there is none: a configuration that is still
/// exactly this text was written by no one.
pub const SAMPLE: &str = include_str!("../../../lagghook.toml.sample");

/// One change `setup` makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A file written whole, mode 0644: `what` says what it holds, and
    /// `before` what was there.
    File { path: PathBuf, text: String, what: String, before: Before },
    /// An rc.conf variable set with sysrc(8) in `file`; `append` is the
    /// word `NAME+=WORD` adds (sysrc adds it only if missing), otherwise
    /// the whole new value is assigned.
    Var { file: &'static str, name: String, old: Old, new: String, append: Option<String> },
    /// An rc.conf variable removed from `file` with `sysrc -x`, since
    /// rc.conf.d/network now says what boots; `old` is its value, if setup
    /// could read it.
    Unset { file: &'static str, name: String, old: Option<String> },
    /// A command run as it is.
    Command(Vec<String>),
}

/// What was where `setup` writes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// Nothing.
    Absent,
    /// Another file, replaced.
    File,
    /// The unedited sample configuration ([`SAMPLE`]), replaced.
    Sample,
}

/// A variable's value before the change: in the file written, and, when
/// not there, where rc finds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Old {
    pub here: Option<String>,
    pub elsewhere: Option<(&'static str, String)>,
}

impl fmt::Display for Change {
    /// The line `-n` prints and the log gets: the file and what changes
    /// in it (`old -> new`, as sysrc prints it), or the command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::File { path, what, before: Before::Absent, .. } => {
                write!(f, "{}: new file: {what}", text::path(path))
            }
            Change::File { path, what, before: Before::File, .. } => {
                write!(f, "{}: replaced with {what}", text::path(path))
            }
            Change::File { path, what, before: Before::Sample, .. } => {
                write!(f, "{}: the unedited sample, replaced with {what}", text::path(path))
            }
            Change::Var { file, name, old, new, .. } => {
                write!(f, "{file}: {name}: ")?;
                match (&old.here, &old.elsewhere) {
                    (Some(v), _) => write!(f, "\"{v}\"")?,
                    (None, None) => f.write_str("unset")?,
                    (None, Some((other, v))) => write!(f, "unset (\"{v}\" in {other})")?,
                }
                write!(f, " -> \"{new}\"")
            }
            Change::Unset { file, name, old } => {
                let old = old
                    .as_ref()
                    .map_or("a value setup does not read".to_owned(), |v| format!("\"{v}\""));
                write!(f, "{file}: {name}: {old} -> unset ({NETWORK} holds it)")
            }
            Change::Command(argv) => f.write_str(&argv.join(" ")),
        }
    }
}

impl Change {
    fn apply(&self, host: &mut dyn Host) -> Result<(), HostError> {
        match self {
            Change::File { path, text, before, .. } => {
                // A file setup found absent is never overwritten, even one
                // that appeared since it looked; nor is the sample once
                // someone edited it.
                let now = host.read(path)?;
                let changed = match before {
                    Before::Absent => now.is_some(),
                    Before::Sample => now.as_deref() != Some(SAMPLE),
                    Before::File => false,
                };
                if changed {
                    return Err(HostError(format!(
                        "{}: changed meanwhile; left as it is, run setup again",
                        text::path(path)
                    )));
                }
                host.write(path, text, 0o644)
            }
            Change::Var { file, name, new, append, .. } => {
                // sysrc appends a variable it does not find with `>>`,
                // which needs the directory (/etc/rc.conf.d is not in
                // every installation).
                if let Some(dir) = Path::new(file).parent() {
                    host.make_dir(dir)?;
                }
                let assignment = match append {
                    Some(word) => format!("{name}+={word}"),
                    None => format!("{name}={new}"),
                };
                host.run(&[SYSRC.to_owned(), "-f".to_owned(), (*file).to_owned(), assignment])
            }
            Change::Unset { file, name, .. } => host.run(&[
                SYSRC.to_owned(),
                "-f".to_owned(),
                (*file).to_owned(),
                "-x".to_owned(),
                name.clone(),
            ]),
            Change::Command(argv) => host.run(argv),
        }
    }
}

/// A line of what `setup` found or will do: a change, or a note (printed
/// with `# `) on something it leaves alone and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Change(Change),
    Note(String),
}

/// Why `setup` cannot work out the changes: nothing was changed.
fn cannot(why: impl Into<String>) -> Error {
    Error::Setup(why.into())
}

/// Runs `setup` as `inv` says.
pub fn setup(inv: &Invocation, log: &mut dyn Log, out: &mut dyn Write) -> Result<(), Error> {
    let (mut host, mut kernel): (Box<dyn Host>, Box<dyn Kernel>) = match &inv.kernel {
        KernelChoice::Native => (Box::new(NativeHost), Box::new(NativeKernel::open()?)),
        KernelChoice::Sim(path) => {
            command::check_sim_path(path)?;
            let kernel = command::load_sim(path)?;
            let host = SimHost::new(
                command::sim_root_dir(path),
                command::with_suffix(path, ".commands"),
                kernel.root(),
            );
            (Box::new(host), Box::new(kernel))
        }
    };
    let read = |host: &mut dyn Host, path: &Path| host.read(path).map_err(|e| cannot(e.0));
    // Who runs this, before anything is looked at or changed. A simulated
    // machine's session is what the environment says: the terminal this
    // runs on is the host's, not the simulated machine's.
    let env = SshEnv::from_process();
    let session = match &inv.kernel {
        KernelChoice::Native => {
            session::judge(&env, login::terminal().as_deref(), &login::logins())
        }
        KernelChoice::Sim(_) => session::judge(&env, None, &[]),
    };

    // 1. The configuration: the one there, if this machine has what it
    // names, or one from the kernel and the options.
    let config_path = inv.config.clone();
    let interfaces = kernel.interfaces()?;
    let radios = kernel.wlan_devices()?;
    let mut files = RcFiles::default();
    for (slot, file) in [
        (&mut files.rc_conf, RC_CONF),
        (&mut files.local, RC_CONF_LOCAL),
        (&mut files.network, NETWORK),
    ] {
        *slot = read(host.as_mut(), Path::new(file))?.unwrap_or_default();
    }
    let rc = format!("{}\n{}\n{}\n", files.rc_conf, files.local, files.network);
    let existing = read(host.as_mut(), &config_path)?;
    let (config, mut items) =
        choose::configuration(&config_path, existing, &interfaces, &radios, &rc, &inv.setup)?;

    // 2 to 4: rc.conf, from the identity a run keeps.
    let snapshot = run::observe(kernel.as_mut(), &config)?;
    let stored = command::reader(&inv.kernel).load()?;
    let macs = run::remembered(&config, &snapshot, &stored);
    for lagg in &config.laggs {
        let resolved = identity::resolve(lagg, &snapshot, macs.get(&lagg.name));
        if let Some(r) = resolved.as_ref().filter(|r| r.basis == Basis::Provisional) {
            items.push(Item::Note(format!(
                "{}'s identity {} is provisional ({}'s own MAC): run lagghook setup again \
                 once {} has been seen",
                lagg.name,
                r.identity.mac,
                lagg.name,
                r.port.as_ref().map_or("its mac port", |p| p.as_str())
            )));
        }
        let identity = resolved.map(|r| r.identity.mac);
        items.extend(rc_edit::rc_changes(lagg, identity, &snapshot, &mut files)?);
    }
    items.extend(rc_edit::contradictions(&mut files));
    items.extend(rc_edit::rc_enable(&mut files)?);

    // 5: devd's rules.
    let rules = devd::try_rules_for(&config, devd::PROGRAM)
        .map_err(|e| cannot(format!("devd rules: {e}")))?;
    let installed = read(host.as_mut(), Path::new(DEVD_RULES))?;
    let new_rules = installed.as_deref() != Some(rules.as_str());
    if new_rules {
        let names: Vec<&str> = config.laggs.iter().map(|l| l.name.as_str()).collect();
        items.push(Item::Change(Change::File {
            path: PathBuf::from(DEVD_RULES),
            text: rules.clone(),
            what: format!("the devd rules for {}", names.join(" ")),
            before: if installed.is_some() { Before::File } else { Before::Absent },
        }));
    }

    // 6: the live part, unless it may cut the administrator off.
    let refreshed = stored.state.as_ref().map(|s| s.wpa.clone()).unwrap_or_default();
    let rounds = run::rounds(&config, &snapshot, &macs, &refreshed, &Scope::All);
    let mut moved = moved_ports(rounds.plans.iter().flat_map(|p| p.actions.iter()), &snapshot);
    // In the configuration's order, as the administrator wrote or read it.
    let order: Vec<String> = config.ports().map(|(_, p)| p.to_string()).collect();
    moved.sort_by_key(|m| order.iter().position(|p| p == m).unwrap_or(order.len()));
    let laggs = config.laggs.iter().map(|l| l.name.to_string()).collect::<Vec<_>>();
    let (deferred, session_note) = match &session {
        Session::Remote(how) if !moved.is_empty() && !inv.setup.live => (
            true,
            Some(format!(
                "this is a remote session ({how}), and the reconcile would reconfigure {}, \
                 which {} a link and may carry it (lagghook cannot tell which interface it \
                 runs over): the configuration, the rc.conf lines and the devd rules are \
                 written now, and the live reconfiguration (the devd restart and the \
                 reconcile) is left for the next boot; lagghook setup -f does it now, from the \
                 console or at the risk of this session",
                choose::and_list(&moved),
                if moved.len() == 1 { "has" } else { "have" }
            )),
        ),
        Session::Remote(how) if !moved.is_empty() => (
            false,
            Some(format!(
                "this is a remote session ({how}); with -f, {} {} reconfigured into {} now, \
                 which may cut it off",
                choose::and_list(&moved),
                if moved.len() == 1 { "is" } else { "are" },
                choose::and_list(&laggs)
            )),
        ),
        _ => (false, None),
    };
    // devd reads its rules only when it starts: restart it when they
    // change, and when the set-up is not live yet (a setup left for the
    // next boot wrote them without a restart; devd may not have them).
    let pending = rounds.plans.iter().any(|p| !p.actions.is_empty());
    let restart =
        Change::Command(vec![SERVICE.to_owned(), "devd".to_owned(), "restart".to_owned()]);
    let restarts = new_rules || pending;
    if restarts && !deferred {
        items.push(Item::Change(restart.clone()));
    }
    // The reconcile, on the same kernel, from the configuration just
    // worked out (under -n it may exist nowhere else).
    let reconcile = Invocation {
        command: Command::Reconcile,
        config: host.real_path(&config_path).map_err(|e| cannot(e.0))?,
        ..inv.clone()
    };
    let changes = items.iter().filter(|i| matches!(i, Item::Change(_))).count();

    if inv.dry_run {
        let mut text = String::new();
        if let Some(note) = &session_note {
            text.push_str(&format!("# {note}\n"));
        }
        for item in &items {
            match item {
                Item::Change(c) => text.push_str(&format!("{c}\n")),
                Item::Note(n) => text.push_str(&format!("# {n}\n")),
            }
        }
        let mut plan = Vec::new();
        execute_with(&reconcile, &config, log, &mut plan)?;
        let plan = String::from_utf8_lossy(&plan).into_owned();
        let nothing = plan == "# nothing to do\n";
        match (deferred, nothing) {
            (false, false) => {
                text.push_str("# then lagghook reconcile:\n");
                text.push_str(&plan);
            }
            (true, _) => {
                let what = if restarts {
                    format!("{restart}, then lagghook reconcile")
                } else {
                    "lagghook reconcile".to_owned()
                };
                text.push_str(&format!("# left for the next boot: {what}, which now would run:\n"));
                for line in plan.lines() {
                    text.push_str(&format!("#   {line}\n"));
                }
            }
            (false, true) if changes == 0 => text.push_str("# nothing to do\n"),
            (false, true) => {}
        }
        // What check would still find once these changes are made: the
        // files as they would be, over the machine's.
        let mut predicted = BTreeMap::from([
            (RC_CONF.to_owned(), files.rc_conf.clone()),
            (RC_CONF_LOCAL.to_owned(), files.local.clone()),
            (NETWORK.to_owned(), files.network.clone()),
            (DEVD_RULES.to_owned(), rules),
        ]);
        predicted.retain(|path, text| !text.is_empty() || read_exists(host.files(), path));
        let upper = SimRoot::new(predicted);
        let root = Overlay { upper: &upper, lower: host.files() };
        let examined = check::examine(
            &config,
            kernel.as_mut(),
            &root,
            &inv.kernel,
            command::reader(&inv.kernel).load(),
        );
        text.push_str(&left_to_do(&examined.traps(), "after these changes, check would report"));
        return write_out(out, &text);
    }
    drop(kernel);

    if let Some(note) = &session_note {
        // Said before anything changes: a warning reaches standard error
        // whatever it is, and syslog.
        log.log(Level::Warning, note);
    }
    for item in &items {
        match item {
            Item::Note(n) => log.log(Level::Notice, n),
            Item::Change(c) => {
                if let Err(e) = c.apply(host.as_mut()) {
                    // What follows needs this step (the rules run lagghook
                    // with the configuration, the restart reads the rules):
                    // stop here, as the failed change left it.
                    log.log(Level::Err, &text::failed(&format!("setup: {c}"), &e.to_string()));
                    return Err(Error::ChangesFailed(1));
                }
                log.log(Level::Notice, &c.to_string());
            }
        }
    }
    if changes == 0 {
        log.log(Level::Notice, "setup: nothing to change");
    }
    let reconciled = if deferred { Ok(()) } else { execute_with(&reconcile, &config, log, out) };

    // 7: the verdict, as check gives it on the machine as setup left it.
    let mut kernel: Box<dyn Kernel> = match &inv.kernel {
        KernelChoice::Native => Box::new(NativeKernel::open()?),
        KernelChoice::Sim(path) => Box::new(command::load_sim(path)?),
    };
    let examined = check::examine(
        &config,
        kernel.as_mut(),
        host.files(),
        &inv.kernel,
        command::reader(&inv.kernel).load(),
    );
    let traps = examined.traps();
    let mut text = examined.text();
    if deferred {
        text.push_str(
            "# the live reconfiguration is left for the next boot (a remote session): until \
             then check lists what a reconcile would do; lagghook setup -f does it now\n",
        );
    }
    text.push_str(&left_to_do(&traps, ""));
    write_out(out, &text)?;
    reconciled?;
    match (traps.len(), deferred) {
        (0, true) => Ok(()),
        (0, false) => examined.into_result(),
        (n, _) => Err(Error::Unmet(n)),
    }
}

/// Whether `path` is a file in `root`.
fn read_exists(root: &dyn Root, path: &str) -> bool {
    matches!(root.read(path), Ok(Some(_)))
}

/// The traps left after setup, as the things left to do: under `-n`
/// (`heading` set) each TRAP line as a note, else one line pointing at the
/// TRAP lines printed above it.
fn left_to_do(traps: &[String], heading: &str) -> String {
    match (traps.len(), heading.is_empty()) {
        (0, true) => String::new(),
        (0, false) => format!("# {heading} no trap\n"),
        (n, false) => {
            let mut text = format!("# {heading}:\n");
            for t in traps {
                text.push_str(&format!("# {t}\n"));
            }
            let _ = n;
            text
        }
        (1, true) => "# one thing is left to do: the fix on the TRAP line above\n".to_owned(),
        (n, true) => format!("# {n} things are left to do: the fixes on the TRAP lines above\n"),
    }
}

/// The interfaces the reconcile's actions would reconfigure that have a
/// link now, so that a session may run over them: a port joining or
/// leaving a lagg (lagg takes over its input), an address set, a port
/// taken down, a wpa_supplicant restarted, a vap re-created, a lagg's
/// protocol changed.
fn moved_ports<'a>(actions: impl Iterator<Item = &'a Action>, snap: &Snapshot) -> Vec<String> {
    let mut moved: Vec<String> = Vec::new();
    for action in actions {
        let name: &IfName = match action {
            Action::AddPort { port, .. } | Action::RemovePort { port, .. } => port,
            Action::SetLladdr { ifname, .. } | Action::Down { ifname } => ifname,
            Action::RestartWpaSupplicant { wlan } | Action::RecreateVap { wlan, .. } => wlan,
            Action::SetProto { lagg, .. } => lagg,
            Action::LoadLaggModule
            | Action::CreateLagg { .. }
            | Action::Up { .. }
            | Action::SetFailoverRxAll { .. } => continue,
        };
        let carries = snap.interface(name).is_some_and(|i| i.up && i.link == LinkState::Up);
        if carries && !moved.iter().any(|m| m == name.as_str()) {
            moved.push(name.to_string());
        }
    }
    moved
}
