//! `lagghook setup`: the whole set-up of a laptop from what its kernel
//! shows, in one command, each step done only if it is not done yet.
//!
//! 1. The configuration, `/usr/local/etc/lagghook.toml`, if there is none:
//!    lagg0 over the one wired interface with a carrier and a vap on the
//!    one radio in `net.wlan.devices`. One that is byte for byte the
//!    shipped sample ([`SAMPLE`]) counts as none and is replaced, since
//!    the port's `@sample` installs it as the configuration and it names
//!    em0 and iwn0, which the laptop may not have. Any other is used as it
//!    is, never overwritten, once every interface it names is found on the
//!    machine ([`unknown_interfaces`]); otherwise nothing is changed.
//! 2. The rc.conf(5) variables that build the lagg at boot, in
//!    `/etc/rc.conf.d/network` (the file rc.d/netif, /etc/pccard_ether and
//!    rc.d/dhclient all load, `load_rc_config` in `libexec/rc/rc.subr`),
//!    through sysrc(8): each value is the current one with lagghook's
//!    words set and every other word kept (`country DE regdomain ETSI`
//!    stays beside `wlanaddr`).
//! 3. The WiFi driver's module in `kld_list` of `/etc/rc.conf`, so it is
//!    loaded before rc.d/netif builds the lagg (rc.d/kld runs
//!    `load_rc_config kld`, which does not read rc.conf.d/network).
//! 4. `lagghook_enable` for the rc.d script.
//! 5. The devd rules for the configuration,
//!    `/usr/local/etc/devd/lagghook.conf`, and a devd restart, since devd
//!    reads its rules only when it starts.
//! 6. A reconcile.
//!
//! Under `-n` every change is printed, one line each, and none is made.
//! What this module does not own: how files are read and written and
//! commands run ([`host`]), reading rc.conf values and editing their
//! words ([`rc_vars`]).

pub mod host;
pub mod rc_vars;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::args::{Command, Invocation, KernelChoice};
use crate::cli::command::{self, execute_with};
use crate::cli::output::write_out;
use crate::devd;
use crate::domain::config::{Config, LaggConfig};
use crate::domain::identity::{self, Basis};
use crate::domain::model::{IfKind, IfName, Interface, LinkState, MacAddr, Snapshot};
use crate::domain::text;
use crate::domain::wifi_driver;
use crate::kernel::Kernel;
use crate::run;
use crate::run::error::Error;
use crate::run::log::{Level, Log};
use crate::run::state::StateStore;
use crate::sys::NativeKernel;

use host::{Host, HostError, NativeHost, SimHost, SERVICE, SYSRC};

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

    // 1. The configuration: the one there, if this machine has what it
    // names, or one from the kernel.
    let mut items = Vec::new();
    let config_path = inv.config.clone();
    let interfaces = kernel.interfaces()?;
    let radios = kernel.wlan_devices()?;
    let mut rc = String::new();
    for file in [RC_CONF, RC_CONF_LOCAL, NETWORK] {
        rc.push_str(&read(host.as_mut(), Path::new(file))?.unwrap_or_default());
        rc.push('\n');
    }
    let config = match read(host.as_mut(), &config_path)? {
        Some(existing) if existing != SAMPLE => {
            let config = Config::parse(&existing, &config_path)?;
            let unknown = unknown_interfaces(&config, &interfaces, &radios, &rc);
            if !unknown.is_empty() {
                return Err(cannot(format!(
                    "{} names {}, which this machine does not have ({}): edit it \
                     (lagghook.toml(5)), or remove it to let setup write one from what the \
                     kernel shows; nothing was changed",
                    text::path(&config_path),
                    and_list(&unknown),
                    what_it_has(&interfaces, &radios)
                )));
            }
            items.push(Item::Note(format!(
                "{} exists: used as it is, never overwritten",
                text::path(&config_path)
            )));
            config
        }
        existing => {
            let before = if existing.is_some() { Before::Sample } else { Before::Absent };
            let (text, what) = new_config(&config_path, &interfaces, &radios, &rc, before)?;
            let config = Config::parse(&text, &config_path)?;
            items.push(Item::Change(Change::File {
                path: config_path.clone(),
                text,
                what,
                before,
            }));
            config
        }
    };

    // 2 to 4: rc.conf, from the identity a run keeps.
    let snapshot = run::observe(kernel.as_mut(), &config)?;
    drop(kernel);
    let stored = command::reader(&inv.kernel).load()?;
    let macs = run::remembered(&config, &snapshot, &stored);
    let mut files = RcFiles::default();
    for (slot, file) in [
        (&mut files.rc_conf, RC_CONF),
        (&mut files.local, RC_CONF_LOCAL),
        (&mut files.network, NETWORK),
    ] {
        *slot = read(host.as_mut(), Path::new(file))?.unwrap_or_default();
    }
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
        items.extend(rc_changes(lagg, identity, &snapshot, &mut files)?);
    }
    items.extend(rc_enable(&files)?);
    items.extend(regdomain_notes(&config, &files)?);

    // 5: devd's rules, and a restart only when they change.
    let rules = devd::try_rules_for(&config, devd::PROGRAM)
        .map_err(|e| cannot(format!("devd rules: {e}")))?;
    let installed = read(host.as_mut(), Path::new(DEVD_RULES))?;
    if installed.as_deref() != Some(rules.as_str()) {
        let names: Vec<&str> = config.laggs.iter().map(|l| l.name.as_str()).collect();
        items.push(Item::Change(Change::File {
            path: PathBuf::from(DEVD_RULES),
            text: rules,
            what: format!("the devd rules for {}", names.join(" ")),
            before: if installed.is_some() { Before::File } else { Before::Absent },
        }));
        items.push(Item::Change(Change::Command(vec![
            SERVICE.to_owned(),
            "devd".to_owned(),
            "restart".to_owned(),
        ])));
    }

    // 6: the reconcile, on the same kernel, from the configuration just
    // worked out (under -n it may exist nowhere else).
    let reconcile = Invocation {
        command: Command::Reconcile,
        config: host.real_path(&config_path).map_err(|e| cannot(e.0))?,
        ..inv.clone()
    };
    let changes = items.iter().filter(|i| matches!(i, Item::Change(_))).count();
    if inv.dry_run {
        let mut text = String::new();
        for item in &items {
            match item {
                Item::Change(c) => text.push_str(&format!("{c}\n")),
                Item::Note(n) => text.push_str(&format!("# {n}\n")),
            }
        }
        let mut plan = Vec::new();
        execute_with(&reconcile, &config, log, &mut plan)?;
        let plan = String::from_utf8_lossy(&plan).into_owned();
        if plan != "# nothing to do\n" {
            text.push_str("# then lagghook reconcile:\n");
            text.push_str(&plan);
        } else if changes == 0 {
            text.push_str("# nothing to do\n");
        }
        return write_out(out, &text);
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
    execute_with(&reconcile, &config, log, out)
}

/// The interfaces an existing configuration names that this machine does
/// not have, in words: a radio of `wlan.X.parent` that `net.wlan.devices`
/// does not list, and a port that does not exist and that rc would not
/// create either, as it creates a vap on a radio that is there (the
/// port's `wlan.X.parent`, or a radio whose `wlans_RADIO` in `rc` lists
/// it). A configuration naming them is not this machine's (the sample's
/// em0 and iwn0 on a laptop with igc0 and iwlwifi0): setup would set up
/// hardware that is not there.
fn unknown_interfaces(
    config: &Config,
    interfaces: &[Interface],
    radios: &[IfName],
    rc: &str,
) -> Vec<String> {
    let exists = |name: &IfName| interfaces.iter().any(|i| &i.name == name);
    let rc_creates = |port: &IfName| {
        radios.iter().any(|radio| {
            let var = rc_vars::if_var("wlans_", radio.as_str());
            rc_vars::value_of(rc, &var)
                .and_then(Result::ok)
                .is_some_and(|v| rc_vars::words(&v).iter().any(|w| w == port.as_str()))
        })
    };
    let mut unknown = Vec::new();
    for lagg in &config.laggs {
        for (vap, wlan) in &lagg.wlans {
            if let Some(radio) = wlan.parent.as_ref().filter(|r| !radios.contains(r)) {
                unknown.push(format!("the radio {radio} (wlan.{vap}.parent)"));
            }
        }
        for port in &lagg.ports {
            // A vap with a radio: rc creates it there once setup listed it
            // in wlans_RADIO, or its radio is missing, said above.
            let has_parent = lagg.wlan(port).is_some_and(|w| w.parent.is_some());
            if !has_parent && !exists(port) && !rc_creates(port) {
                unknown.push(port.to_string());
            }
        }
    }
    unknown
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What the machine has that a configuration can name: its Ethernet,
/// vlan and wlan interfaces and its radios.
fn what_it_has(interfaces: &[Interface], radios: &[IfName]) -> String {
    let mut has: Vec<String> = interfaces
        .iter()
        .filter(|i| matches!(i.kind, IfKind::Ether | IfKind::Vlan | IfKind::Wlan))
        .map(|i| i.name.to_string())
        .collect();
    has.extend(radios.iter().map(|r| format!("the radio {r}")));
    if has.is_empty() {
        return "it has no Ethernet interface and no radio".to_owned();
    }
    format!("it has {}", and_list(&has))
}

/// The text of a new configuration, from the interfaces, the radios and
/// the rc.conf text (whose `wlans_RADIO` may name the vap), and what it
/// holds, in words. Needs exactly one wired interface with a carrier and
/// exactly one radio; otherwise the administrator has to say, in the file
/// (`before` says whether the file there now is the unedited sample).
fn new_config(
    path: &Path,
    interfaces: &[Interface],
    radios: &[IfName],
    rc: &str,
    before: Before,
) -> Result<(String, String), Error> {
    let yourself = match before {
        Before::Sample => format!(
            "or edit {}, the unedited sample, yourself (lagghook.toml(5))",
            text::path(path)
        ),
        _ => format!("or write {} yourself (lagghook.toml(5))", text::path(path)),
    };
    let names = |v: &[&IfName]| v.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ");
    let wired: Vec<&IfName> = interfaces
        .iter()
        .filter(|i| i.kind == IfKind::Ether && i.link == LinkState::Up)
        .map(|i| &i.name)
        .collect();
    let wired = match wired.as_slice() {
        [one] => *one,
        [] => {
            return Err(cannot(format!(
                "no wired interface has a carrier: plug the cable in and run setup again, \
                 {yourself}"
            )))
        }
        several => {
            return Err(cannot(format!(
                "several wired interfaces have a carrier ({}): unplug all but the one to \
                 prefer, {yourself}",
                names(several)
            )))
        }
    };
    let radio = match radios {
        [one] => one,
        [] => {
            return Err(cannot(format!(
                "no WiFi radio in net.wlan.devices: load its driver (kldload if_iwlwifi, \
                 say) and run setup again, {yourself}"
            )))
        }
        several => {
            let several: Vec<&IfName> = several.iter().collect();
            return Err(cannot(format!("several WiFi radios ({}): {yourself}", names(&several))));
        }
    };
    // The vap: the one on that radio, else the first rc creates on it,
    // else wlan0 or the first free wlanN, as `ifconfig wlan create` would.
    let existing =
        interfaces.iter().find(|i| i.kind == IfKind::Wlan && i.parent.as_ref() == Some(radio));
    let from_rc = || {
        let var = rc_vars::if_var("wlans_", radio.as_str());
        let value = rc_vars::value_of(rc, &var)?.ok()?;
        value.split_whitespace().next().and_then(|w| IfName::new(w).ok())
    };
    let free = || {
        (0..)
            .filter_map(|n| IfName::new(&format!("wlan{n}")).ok())
            .find(|n| interfaces.iter().all(|i| &i.name != n))
    };
    let vap = match existing.map(|i| i.name.clone()).or_else(from_rc).or_else(free) {
        Some(v) => v,
        None => return Err(cannot(format!("no name for a vap on {radio}: {yourself}"))),
    };
    let text = format!(
        "# {path}: written by `lagghook setup` from what the kernel showed:\n\
         # {wired} had a carrier and {radio} was the WiFi radio (net.wlan.devices).\n\
         # Every key is described in lagghook.toml(5); after changing this file,\n\
         # run `lagghook setup` again.\n\
         [lagg0]\n\
         ports = [\"{wired}\", \"{vap}\"]\n\
         mac = \"{wired}\"\n\
         failover_rx_all = true\n\
         wlan.{vap}.parent = \"{radio}\"\n",
        path = text::path(path)
    );
    let what = format!("lagg0 over {wired} and {vap} (on {radio})");
    Ok((text, what))
}

/// The rc.conf files `setup` reads, as text (empty when missing).
#[derive(Debug, Default)]
struct RcFiles {
    rc_conf: String,
    local: String,
    network: String,
}

impl RcFiles {
    /// The value rc.d/netif sees for `name`, and the file it comes from:
    /// rc.conf.d/network over rc.conf.local over rc.conf.
    fn network_value(&self, name: &str) -> Result<Option<(&'static str, String)>, Error> {
        for (file, text) in
            [(NETWORK, &self.network), (RC_CONF_LOCAL, &self.local), (RC_CONF, &self.rc_conf)]
        {
            if let Some(value) = read_value(file, text, name)? {
                return Ok(Some((file, value)));
            }
        }
        Ok(None)
    }

    /// The value a script loading only the rc.conf files sees (rc.d/kld,
    /// rc.d/lagghook): rc.conf.local over rc.conf.
    fn rc_value(&self, name: &str) -> Result<Option<(&'static str, String)>, Error> {
        for (file, text) in [(RC_CONF_LOCAL, &self.local), (RC_CONF, &self.rc_conf)] {
            if let Some(value) = read_value(file, text, name)? {
                return Ok(Some((file, value)));
            }
        }
        Ok(None)
    }
}

/// `name`'s value in `file`, if set; an error naming the file and line if
/// it is set in a way `setup` does not read, and if it holds a word
/// `setup` would not carry over.
fn read_value(file: &str, text: &str, name: &str) -> Result<Option<String>, Error> {
    match rc_vars::value_of(text, name) {
        None => Ok(None),
        Some(Err(e)) => Err(cannot(format!("{file}: {name}: {e}; edit it by hand"))),
        Some(Ok(value)) => match rc_vars::words(&value).iter().find(|w| !rc_vars::is_plain_word(w))
        {
            Some(w) => Err(cannot(format!(
                "{file}: {name}: the word {} is not one setup carries over; edit it by hand",
                text::echo(w)
            ))),
            None => Ok(Some(value)),
        },
    }
}

/// The change that gives `name` in rc.conf.d/network the value `edit`
/// makes of the value rc sees now, if that differs. `files` then holds
/// the new value, so the next change to the same variable (a second
/// lagg's `cloned_interfaces`, a second vap on a radio) starts from it.
fn network_var(
    files: &mut RcFiles,
    name: String,
    edit: impl FnOnce(Option<&str>) -> Vec<String>,
    items: &mut Vec<Item>,
) -> Result<(), Error> {
    let now = files.network_value(&name)?;
    let new = edit(now.as_ref().map(|(_, v)| v.as_str())).join(" ");
    if now.as_ref().map(|(_, v)| v) == Some(&new) {
        return Ok(());
    }
    let here = now.as_ref().filter(|(f, _)| *f == NETWORK).map(|(_, v)| v.clone());
    let elsewhere = now.filter(|(f, _)| *f != NETWORK);
    files.network = rc_vars::with_value(&files.network, &name, &new);
    items.push(Item::Change(Change::Var {
        file: NETWORK,
        name,
        old: Old { here, elsewhere },
        new,
        append: None,
    }));
    Ok(())
}

/// The rc.conf changes that build `lagg` at boot with `identity` on every
/// port, from the lines `lagghook rc-conf` prints, merged into what the
/// files hold: `cloned_interfaces` gains the lagg; a wired port's
/// `ifconfig_` gets `ether IDENTITY` and `up`, a vap's keeps its words
/// (the WiFi already works), and both lose `DHCP`, which belongs on the
/// lagg; a vap's radio lists it in `wlans_RADIO` and its `create_args_`
/// gets `wlanaddr IDENTITY` beside its other words; the lagg's
/// `ifconfig_` gets `up`, `laggproto failover` and the ports in order,
/// keeps its other words and gets `DHCP` if it has no address otherwise;
/// the radio's driver goes into `kld_list`.
fn rc_changes(
    lagg: &LaggConfig,
    identity: Option<MacAddr>,
    snapshot: &Snapshot,
    files: &mut RcFiles,
) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let name = lagg.name.as_str();
    network_var(files, "cloned_interfaces".into(), |v| with_word(v, name), &mut items)?;
    let mut modules = Vec::new();
    for port in &lagg.ports {
        let var = rc_vars::if_var("ifconfig_", port.as_str());
        let is_vap = lagg.is_wlan_port(port)
            || snapshot.interface(port).is_some_and(|i| i.kind == IfKind::Wlan);
        if !is_vap {
            network_var(
                files,
                var,
                |v| {
                    let mut words = without_dhcp(v);
                    if let Some(mac) = identity {
                        let keys = ["ether", "lladdr", "link"];
                        words = rc_vars::with_pair(words, &keys, "ether", &mac.to_string());
                    }
                    rc_vars::with_word(words, "up")
                },
                &mut items,
            )?;
            continue;
        }
        network_var(
            files,
            var,
            |v| match v {
                Some(_) => without_dhcp(v),
                None => vec!["WPA".to_owned()],
            },
            &mut items,
        )?;
        let radio = lagg
            .wlan(port)
            .and_then(|w| w.parent.clone())
            .or_else(|| snapshot.interface(port).and_then(|i| i.parent.clone()));
        match &radio {
            Some(radio) => {
                let var = rc_vars::if_var("wlans_", radio.as_str());
                network_var(files, var, |v| with_word(v, port.as_str()), &mut items)?;
                modules.push(wifi_driver::module_of(radio));
            }
            None => items.push(Item::Note(format!(
                "{port}: its radio is not known (set wlan.{port}.parent in lagghook.toml): \
                 wlans_ and kld_list left as they are"
            ))),
        }
        match identity {
            Some(mac) => network_var(
                files,
                rc_vars::if_var("create_args_", port.as_str()),
                |v| {
                    let words = v.map(rc_vars::words).unwrap_or_default();
                    rc_vars::with_pair(words, &["wlanaddr"], "wlanaddr", &mac.to_string())
                },
                &mut items,
            )?,
            None => items.push(Item::Note(format!(
                "{port}: create_args left as it is: the identity MAC of {name} is not known yet"
            ))),
        }
    }
    network_var(
        files,
        rc_vars::if_var("ifconfig_", name),
        |v| {
            let mut words: Vec<String> = vec!["up".into(), "laggproto".into(), "failover".into()];
            for port in &lagg.ports {
                words.push("laggport".into());
                words.push(port.to_string());
            }
            let mut rest = v.map(rc_vars::words).unwrap_or_default().into_iter();
            let mut addressed = false;
            while let Some(w) = rest.next() {
                match w.as_str() {
                    "up" => {}
                    "laggproto" => {
                        let _ = rest.next();
                    }
                    "laggport" => match rest.next() {
                        Some(p) if lagg.ports.iter().any(|x| x.as_str() == p) => {}
                        Some(p) => words.extend(["laggport".to_owned(), p]),
                        None => {}
                    },
                    _ => {
                        addressed |= rc_vars::is_dhcp_word(&w) || w.starts_with("inet");
                        words.push(w);
                    }
                }
            }
            if !addressed {
                words.push("DHCP".into());
            }
            words
        },
        &mut items,
    )?;
    // Issue 20: the stock devd rule starts dhclient on the lagg at every
    // link-up of it; in the foreground (rc.d/dhclient without -b) devd
    // waits for the lease and handles no other event meanwhile.
    let dhcp_lagg = files
        .network_value(&rc_vars::if_var("ifconfig_", name))?
        .is_some_and(|(_, v)| rc_vars::words(&v).iter().any(|w| rc_vars::is_dhcp_word(w)));
    if dhcp_lagg && lagg.network.dhcp == Some(crate::domain::layer3::DhcpClient::Dhclient) {
        let var = rc_vars::if_var("background_dhclient_", name);
        network_var(files, var, |_| vec!["YES".to_owned()], &mut items)?;
    }
    for module in modules {
        items.extend(kld_change(files, &module)?);
    }
    Ok(items)
}

/// `kld_list` in /etc/rc.conf gains `module`, with sysrc's `+=`, unless
/// the value rc.d/kld sees has it.
fn kld_change(files: &mut RcFiles, module: &str) -> Result<Option<Item>, Error> {
    let now = files.rc_value("kld_list")?;
    let words = now.as_ref().map(|(_, v)| rc_vars::words(v)).unwrap_or_default();
    if words.iter().any(|w| w == module) {
        return Ok(None);
    }
    if let Some((RC_CONF_LOCAL, _)) = &now {
        return Ok(Some(Item::Note(format!(
            "{RC_CONF_LOCAL} sets kld_list, and wins over {RC_CONF}: add {module} there"
        ))));
    }
    let here = now.map(|(_, v)| v);
    let new = rc_vars::with_word(words, module).join(" ");
    files.rc_conf = rc_vars::with_value(&files.rc_conf, "kld_list", &new);
    Ok(Some(Item::Change(Change::Var {
        file: RC_CONF,
        name: "kld_list".into(),
        old: Old { here, elsewhere: None },
        new,
        append: Some(module.to_owned()),
    })))
}

/// A vap whose `create_args_` has no `country` or `regdomain` once the
/// changes are made: `check` reports it as a trap, and only the user knows
/// the country, so `setup` says so instead of guessing.
fn regdomain_notes(config: &Config, files: &RcFiles) -> Result<Vec<Item>, Error> {
    let mut notes = Vec::new();
    for (_, port) in config.ports().filter(|(l, p)| l.is_wlan_port(p)) {
        let var = rc_vars::if_var("create_args_", port.as_str());
        let words = files.network_value(&var)?.map(|(_, v)| rc_vars::words(&v)).unwrap_or_default();
        let set = words
            .iter()
            .any(|w| w.eq_ignore_ascii_case("country") || w.eq_ignore_ascii_case("regdomain"));
        if !set {
            notes.push(Item::Note(format!(
                "{var} has no country or regdomain, which only you know: add `country XX` \
                 (regdomain(5)) to it in {NETWORK}; lagghook check reports it until then"
            )));
        }
    }
    Ok(notes)
}

/// `lagghook_enable="YES"` in /etc/rc.conf, unless rc.subr's `checkyesno`
/// already takes the value rc.d/lagghook sees for yes.
fn rc_enable(files: &RcFiles) -> Result<Option<Item>, Error> {
    let now = files.rc_value("lagghook_enable")?;
    let yes = now.as_ref().is_some_and(|(_, v)| {
        matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1")
    });
    if yes {
        return Ok(None);
    }
    if let Some((RC_CONF_LOCAL, v)) = &now {
        return Ok(Some(Item::Note(format!(
            "{RC_CONF_LOCAL} sets lagghook_enable=\"{v}\", and wins over {RC_CONF}: \
             set it to YES there"
        ))));
    }
    Ok(Some(Item::Change(Change::Var {
        file: RC_CONF,
        name: "lagghook_enable".into(),
        old: Old { here: now.map(|(_, v)| v), elsewhere: None },
        new: "YES".into(),
        append: None,
    })))
}

fn with_word(value: Option<&str>, word: &str) -> Vec<String> {
    rc_vars::with_word(value.map(rc_vars::words).unwrap_or_default(), word)
}

fn without_dhcp(value: Option<&str>) -> Vec<String> {
    let words = value.map(rc_vars::words).unwrap_or_default();
    words.into_iter().filter(|w| !rc_vars::is_dhcp_word(w)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn config() -> Config {
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwlwifi0\"\n";
        Config::parse(text, "lagghook.toml".as_ref()).unwrap()
    }

    fn lines(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Change(c) => c.to_string(),
                Item::Note(n) => format!("# {n}"),
            })
            .collect()
    }

    const MAC: &str = "00:11:22:33:44:55";

    /// Proves a fresh laptop gets the lines `lagghook rc-conf` prints, each
    /// as one change saying what it was and what it becomes.
    #[test]
    fn a_fresh_laptop_gets_every_variable() {
        let mut files = RcFiles::default();
        let items =
            rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files)
                .unwrap();
        assert_eq!(
            lines(&items),
            [
                "/etc/rc.conf.d/network: cloned_interfaces: unset -> \"lagg0\"",
                "/etc/rc.conf.d/network: ifconfig_em0: unset -> \"ether 00:11:22:33:44:55 up\"",
                "/etc/rc.conf.d/network: ifconfig_wlan0: unset -> \"WPA\"",
                "/etc/rc.conf.d/network: wlans_iwlwifi0: unset -> \"wlan0\"",
                "/etc/rc.conf.d/network: create_args_wlan0: unset -> \"wlanaddr 00:11:22:33:44:55\"",
                "/etc/rc.conf.d/network: ifconfig_lagg0: unset -> \
                 \"up laggproto failover laggport em0 laggport wlan0 DHCP\"",
                "/etc/rc.conf.d/network: background_dhclient_lagg0: unset -> \"YES\"",
                "/etc/rc.conf: kld_list: unset -> \"if_iwlwifi\"",
            ]
        );
    }

    /// Proves the administrator's words survive: the regulatory domain
    /// beside wlanaddr, another cloned interface, a static address on the
    /// lagg; DHCP moves from the wired port to the lagg; a value rc reads
    /// from rc.conf is the one edited, into rc.conf.d/network.
    #[test]
    fn other_words_are_kept() {
        let mut files = RcFiles {
            rc_conf: "cloned_interfaces=\"gif0\"\nifconfig_em0=\"DHCP\"\nkld_list=\"fusefs\"\n"
                .into(),
            local: String::new(),
            network: "create_args_wlan0=\"country DE regdomain ETSI\"\n\
                      ifconfig_lagg0=\"laggproto lacp laggport em0 inet 192.168.1.2/24\"\n"
                .into(),
        };
        let items =
            rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files)
                .unwrap();
        let lines = lines(&items);
        for want in [
            "/etc/rc.conf.d/network: cloned_interfaces: unset (\"gif0\" in /etc/rc.conf) -> \
             \"gif0 lagg0\"",
            "/etc/rc.conf.d/network: ifconfig_em0: unset (\"DHCP\" in /etc/rc.conf) -> \
             \"ether 00:11:22:33:44:55 up\"",
            "/etc/rc.conf.d/network: create_args_wlan0: \"country DE regdomain ETSI\" -> \
             \"country DE regdomain ETSI wlanaddr 00:11:22:33:44:55\"",
            "/etc/rc.conf.d/network: ifconfig_lagg0: \
             \"laggproto lacp laggport em0 inet 192.168.1.2/24\" -> \
             \"up laggproto failover laggport em0 laggport wlan0 inet 192.168.1.2/24\"",
            "/etc/rc.conf: kld_list: \"fusefs\" -> \"fusefs if_iwlwifi\"",
        ] {
            assert!(lines.contains(&want.to_owned()), "{want}\nnot in {lines:#?}");
        }
    }

    /// Proves two laggs each get their part of a shared variable: the
    /// second change starts from the first one's value.
    #[test]
    fn changes_to_one_variable_build_on_each_other() {
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n\
                    [lagg1]\nports = [\"em1\", \"wlan1\"]\nwlan.wlan1.parent = \"iwn0\"\n";
        let config = Config::parse(text, "lagghook.toml".as_ref()).unwrap();
        let mut files = RcFiles::default();
        let mut all = Vec::new();
        for lagg in &config.laggs {
            all.extend(
                rc_changes(lagg, MAC.parse().ok(), &Snapshot::default(), &mut files).unwrap(),
            );
        }
        let lines = lines(&all);
        for want in [
            "/etc/rc.conf.d/network: cloned_interfaces: \"lagg0\" -> \"lagg0 lagg1\"",
            "/etc/rc.conf.d/network: wlans_iwn0: \"wlan0\" -> \"wlan0 wlan1\"",
        ] {
            assert!(lines.contains(&want.to_owned()), "{want}\nnot in {lines:#?}");
        }
        assert_eq!(lines.iter().filter(|l| l.contains("kld_list")).count(), 1, "{lines:#?}");
    }

    /// Proves a second look at what the first changes made finds nothing.
    #[test]
    fn done_is_done() {
        let mut files = RcFiles {
            rc_conf: "kld_list=\"if_iwlwifi\"\nlagghook_enable=\"YES\"\n".into(),
            local: String::new(),
            network: "cloned_interfaces=\"lagg0\"\nifconfig_em0=\"ether 00:11:22:33:44:55 up\"\n\
                      ifconfig_wlan0=\"WPA\"\nwlans_iwlwifi0=\"wlan0\"\n\
                      create_args_wlan0=\"wlanaddr 00:11:22:33:44:55\"\n\
                      ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"\n\
                      background_dhclient_lagg0=\"YES\"\n"
                .into(),
        };
        let items =
            rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files)
                .unwrap();
        assert_eq!(lines(&items), Vec::<String>::new());
        assert_eq!(rc_enable(&files).unwrap(), None);
    }

    /// Proves a value setup cannot read, or would not carry over, stops
    /// it, naming the file and line.
    #[test]
    fn unreadable_values_are_refused_with_their_line() {
        for (network, want) in [
            (
                "\ncreate_args_wlan0=\"$args\"\n",
                "/etc/rc.conf.d/network: create_args_wlan0: line 2:",
            ),
            ("cloned_interfaces=\"a;b\"\n", "the word \"a;b\" is not one setup carries over"),
        ] {
            let mut files = RcFiles { network: network.into(), ..RcFiles::default() };
            let err =
                rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files)
                    .unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    fn iface(name: &str, kind: IfKind, link: LinkState, parent: Option<&str>) -> Interface {
        Interface {
            name: n(name),
            index: 1,
            kind,
            mac: MacAddr::ZERO,
            hwaddr: None,
            up: true,
            link,
            mtu: 1500,
            parent: parent.map(n),
            caps: None,
        }
    }

    /// Proves the configuration comes from the one wired port with a
    /// carrier and the one radio, and that anything less certain is left
    /// to the administrator with the reason.
    #[test]
    fn a_new_configuration_needs_one_cable_and_one_radio() {
        let path = Path::new("/usr/local/etc/lagghook.toml");
        let em0 = iface("em0", IfKind::Ether, LinkState::Up, None);
        let ue0 = iface("ue0", IfKind::Ether, LinkState::Down, None);
        let (text, what) =
            new_config(path, &[em0.clone(), ue0.clone()], &[n("iwn0")], "", Before::Absent)
                .unwrap();
        assert_eq!(what, "lagg0 over em0 and wlan0 (on iwn0)");
        let config = Config::parse(&text, path).unwrap();
        assert_eq!(config.laggs[0].ports, [n("em0"), n("wlan0")]);
        assert_eq!(config.laggs[0].wlan(&n("wlan0")).unwrap().parent, Some(n("iwn0")));
        // rc's name for the vap, then an existing vap's, win over wlan0.
        let (text, _) = new_config(
            path,
            std::slice::from_ref(&em0),
            &[n("iwn0")],
            "wlans_iwn0=\"wlan3\"\n",
            Before::Absent,
        )
        .unwrap();
        assert!(text.contains("ports = [\"em0\", \"wlan3\"]"), "{text}");
        let wifi = iface("wifi0", IfKind::Wlan, LinkState::Up, Some("iwn0"));
        let (text, _) =
            new_config(path, &[em0.clone(), wifi], &[n("iwn0")], "", Before::Absent).unwrap();
        assert!(text.contains("ports = [\"em0\", \"wifi0\"]"), "{text}");
        for (ifaces, radios, why) in [
            (vec![ue0.clone()], vec![n("iwn0")], "no wired interface has a carrier"),
            (
                vec![em0.clone(), iface("ue0", IfKind::Ether, LinkState::Up, None)],
                vec![n("iwn0")],
                "several wired interfaces have a carrier (em0, ue0)",
            ),
            (vec![em0.clone()], vec![], "no WiFi radio in net.wlan.devices"),
            (vec![em0.clone()], vec![n("iwn0"), n("ath0")], "several WiFi radios (iwn0, ath0)"),
        ] {
            let err =
                new_config(path, &ifaces, &radios, "", Before::Absent).unwrap_err().to_string();
            assert!(err.starts_with(&format!("setup: {why}")), "{err}");
            assert!(
                err.ends_with("or write /usr/local/etc/lagghook.toml yourself (lagghook.toml(5))")
            );
        }
    }

    /// Proves an existing configuration is this machine's only if every
    /// interface it names is there, or is a vap rc creates on a radio
    /// that is there (its `wlan.X.parent`, or a `wlans_RADIO` listing it):
    /// the sample's em0 and iwn0 on a laptop with igc0 and iwlwifi0 are
    /// both named.
    #[test]
    fn an_existing_configuration_must_name_this_machines_interfaces() {
        let igc0 = iface("igc0", IfKind::Ether, LinkState::Up, None);
        let radios = [n("iwlwifi0")];
        let sample = Config::parse(SAMPLE, "s.toml".as_ref()).unwrap();
        assert_eq!(
            unknown_interfaces(&sample, std::slice::from_ref(&igc0), &radios, ""),
            ["the radio iwn0 (wlan.wlan0.parent)", "em0"]
        );
        let mine = |text: &str| Config::parse(text, "m.toml".as_ref()).unwrap();
        let on_iwlwifi0 =
            mine("[lagg0]\nports = [\"igc0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwlwifi0\"\n");
        let none: Vec<String> = Vec::new();
        assert_eq!(
            unknown_interfaces(&on_iwlwifi0, std::slice::from_ref(&igc0), &radios, ""),
            none
        );
        let bare = mine("[lagg0]\nports = [\"igc0\", \"wlan0\"]\n");
        assert_eq!(unknown_interfaces(&bare, std::slice::from_ref(&igc0), &radios, ""), ["wlan0"]);
        let rc = "wlans_iwlwifi0=\"wlan0\"\n";
        assert_eq!(unknown_interfaces(&bare, std::slice::from_ref(&igc0), &radios, rc), none);
        let wlan0 = iface("wlan0", IfKind::Wlan, LinkState::Up, Some("iwlwifi0"));
        assert_eq!(unknown_interfaces(&bare, &[igc0, wlan0], &radios, ""), none);
        assert_eq!(
            what_it_has(&[iface("igc0", IfKind::Ether, LinkState::Up, None)], &radios),
            "it has igc0 and the radio iwlwifi0"
        );
    }

    #[test]
    fn module_is_the_driver_name() {
        assert_eq!(wifi_driver::module_of(&n("iwlwifi0")), "if_iwlwifi");
        assert_eq!(wifi_driver::module_of(&n("iwn12")), "if_iwn");
        // rtw88's radios end in its name's digits: rtw880 is unit 0.
        assert_eq!(wifi_driver::module_of(&n("rtw880")), "if_rtw88");
    }
}
