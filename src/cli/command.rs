//! Carries out an [`Invocation`]: picks the kernel (native or a simulated
//! one kept in a file), the log sink and the state store (the volatile
//! state and the identity file), then runs the command. [`execute_in`] is the part that takes them ready-made, so the
//! scenario runner executes the very command lines its devd rules produce.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::fcntl::Flock;

use crate::cli::args::{Command, Invocation, KernelChoice, DEVD_USAGE, USAGE, VERSION};
use crate::cli::check;
use crate::cli::output::write_out;
use crate::cli::rc_conf;
use crate::cli::setup;
use crate::cli::simulate;
use crate::cli::status;
use crate::devd;
use crate::domain::config::{self, Config, LaggConfig};
use crate::domain::event::DevdEvent;
use crate::domain::identity;
use crate::domain::model::Snapshot;
use crate::domain::plan::{RememberedMacs, Scope};
use crate::domain::text;
use crate::kernel::Kernel;
use crate::root::{Overlay, Root};
use crate::run::error::Error;
use crate::run::log::{Level, Log};
use crate::run::state::{
    self, FileStore, Files, MemoryStore, NotSaved, StateError, StateStore, Stored,
};
use crate::run::{self, netcheck, Context, Report};
use crate::sim::SimKernel;
use crate::sys::file::{self, Links};
use crate::sys::root::{DirRoot, HostRoot};
use crate::sys::NativeKernel;

/// Runs `inv` as a process would: real clock, the process's log, state on
/// disk.
pub fn execute(inv: &Invocation, log: &mut dyn Log, out: &mut dyn Write) -> Result<(), Error> {
    match &inv.command {
        Command::Help => return write_out(out, &format!("{USAGE}\n")),
        Command::Version => return write_out(out, &format!("{VERSION}\n")),
        Command::Simulate(file) => {
            let config = inv.config_given.then_some(inv.config.as_path());
            return simulate::simulate(file.as_deref(), config, inv.baseline, inv.verbose, out);
        }
        // setup may have to write the configuration first.
        Command::Setup => {
            let _one_at_a_time = setup_lock(inv)?;
            return setup::setup(inv, log, out);
        }
        _ => {}
    }
    let config = match &inv.command {
        Command::Event(args) => match event_config(inv, args)? {
            Some(config) => config,
            None => return Ok(()),
        },
        _ => load_config(inv)?,
    };
    match &inv.command {
        Command::DevdConf => return write_out(out, &devd::rules_for(&config, devd::PROGRAM)),
        Command::RcConf => {
            // The identity a run would keep, from the identity file and the
            // kernel. The kernel only helps here (a port's hardware
            // address, the lagg's own MAC), so one that cannot be read
            // leaves the stored identity, or a comment; an identity file
            // that must not be read is an error, as for every command.
            let stored = reader(&inv.kernel).load()?;
            let snapshot = peek(&inv.kernel, &config).unwrap_or_default();
            let macs = run::remembered(&config, &snapshot, &stored);
            let identity =
                |lagg: &LaggConfig| identity::resolve(lagg, &snapshot, macs.get(&lagg.name));
            // These lines go into rc.conf: a wlanaddr that may not be the
            // stored identity must say so where the administrator reads it.
            let caveat = match (&stored.unreadable, &stored.hidden) {
                (Some(why), _) => format!("# {why}; identities recovered from the kernel\n"),
                (None, Some(why)) => {
                    format!("# {why}; run rc-conf as root for the stored identities\n")
                }
                (None, None) => String::new(),
            };
            return write_out(out, &(caveat + &rc_conf::rc_conf(&config, &identity)));
        }
        _ => {}
    }
    match &inv.command {
        Command::Check => check_command(inv, &config, out),
        Command::Status => status_command(inv, &config, out),
        Command::Netcheck { lagg, generation } => {
            netcheck_command(inv, &config, lagg, *generation, log)
        }
        _ => execute_with(inv, &config, log, out),
    }
}

/// Runs `inv` the way `lagghook-devd`, the program devd's rules run, does:
/// `event` only (and `-h`, `-V`). Nothing here reaches the commands an
/// administrator types, so that program holds only the code a devd event
/// needs.
pub fn execute_event(
    inv: &Invocation,
    log: &mut dyn Log,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match &inv.command {
        Command::Help => write_out(out, &format!("{DEVD_USAGE}\n")),
        Command::Version => write_out(out, &format!("{VERSION}\n")),
        Command::Event(args) => match event_config(inv, args)? {
            Some(config) => run_on(inv, &config, log, out, change_in),
            None => Ok(()),
        },
        _ => Err(Error::Usage(
            "lagghook-devd runs devd's events only; the other commands are lagghook's".into(),
        )),
    }
}

/// Runs the kernel command `inv` (an event, `reconcile` or `status`) with
/// `config` as its configuration, whatever file that came from: as a
/// process would, on the kernel, log and state `inv` chooses.
pub fn execute_with(
    inv: &Invocation,
    config: &Config,
    log: &mut dyn Log,
    out: &mut dyn Write,
) -> Result<(), Error> {
    run_on(inv, config, log, out, execute_in)
}

/// A command run on a ready-made kernel, log, state store and clock:
/// [`execute_in`] (every kernel command) or [`change_in`] (the ones that
/// change the kernel).
type CommandIn = fn(
    &Invocation,
    &Config,
    &mut dyn Kernel,
    &mut dyn Log,
    &mut dyn StateStore,
    u64,
    &mut dyn Write,
) -> Result<(), Error>;

/// Picks the kernel and the state store `inv` names and runs `command` on
/// them.
fn run_on(
    inv: &Invocation,
    config: &Config,
    log: &mut dyn Log,
    out: &mut dyn Write,
    command: CommandIn,
) -> Result<(), Error> {
    if let Command::Event(args) = &inv.command {
        // Decided before any kernel call or lock: devd runs lagghook for
        // every event its rules match, and most need nothing.
        let event = DevdEvent::from_args(args)?;
        if run::managed_event(config, &event).is_none() {
            return Ok(());
        }
    }
    let now = unix_now();
    // Reading needs no lock and must not wait for one.
    let read_only = inv.dry_run || matches!(inv.command, Command::Status | Command::Check);
    match &inv.kernel {
        KernelChoice::Native => {
            let mut kernel = NativeKernel::open()?;
            if read_only {
                let mut store = ReadOnlyStore(reader(&inv.kernel));
                command(inv, config, &mut kernel, log, &mut store, now, out)
            } else {
                let mut store = FileStore::open_system()?;
                command(inv, config, &mut kernel, log, &mut store, now, out)
            }
        }
        KernelChoice::Sim(path) => {
            check_sim_path(path)?;
            if read_only {
                let mut store = ReadOnlyStore(reader(&inv.kernel));
                let mut kernel = load_sim(path)?;
                return command(inv, config, &mut kernel, log, &mut store, now, out);
            }
            // One lock guards the simulated machine and both state files,
            // so runs sharing the machine see each other's changes whole.
            let mut store = FileStore::open(&with_suffix(path, ".lock"), sim_files(path))?;
            let mut kernel = load_sim(path)?;
            // The state is written only after the machine, so it never
            // records a change the machine file does not have.
            let loaded = store.load()?;
            let mut memory = MemoryStore::from(loaded.clone());
            let networks = store.load_networks();
            memory.networks = networks.networks.clone();
            memory.networks_warning = networks.warning.clone();
            let result = command(inv, config, &mut kernel, log, &mut memory, now, out);
            if kernel.writes() > 0 {
                kernel.save(path).map_err(|e| Error::NotSaved(e.to_string()))?;
            }
            // A save of identities clears `unreadable`: a rebuilt file is
            // written even when it holds what the corrupt one was read as.
            let rebuilt = loaded.unreadable.is_some() && memory.unreadable.is_none();
            let state = memory.state.as_ref();
            let remembered = run::remember(log, &mut store, &loaded, state, &memory.macs, rebuilt);
            if (&memory.networks, &memory.networks_warning)
                != (&networks.networks, &networks.warning)
            {
                if let Err(e) = store.save_networks(&memory.networks) {
                    log.log(Level::Warning, &format!("known networks not saved: {e}"));
                }
            }
            // How the run went comes first; what could not be saved was
            // logged either way.
            result.and(remembered)
        }
    }
}

/// The configuration of `inv`: the file `-c` names, else the default
/// path, `/usr/local/etc/lagghook.toml`. On a simulated machine (`-k
/// sim:PATH`) without `-c`, that path is the machine's: the file below
/// `PATH.root`, where `setup` writes it, else its `[machine.files]` entry
/// for it, so that `setup`, `check`, `status` and the rest all read the one
/// configuration; only a machine without one falls back to the host's.
pub(crate) fn load_config(inv: &Invocation) -> Result<Config, Error> {
    let (text, path) = config_text(inv)?;
    Ok(Config::parse(&text, &path)?)
}

/// The configuration an event needs, or `None` for an event about nothing
/// a configuration can manage: one that is no IFNET event lagghook acts
/// on is decided before the file is read, and one about an interface the
/// file's text never names (see [`Config::may_name`]) before it is parsed,
/// so such an event costs devd one read of the file, whatever it holds.
fn event_config(inv: &Invocation, args: &[String]) -> Result<Option<Config>, Error> {
    let Some(ifnet) = DevdEvent::from_args(args)?.ifnet_event() else { return Ok(None) };
    let (text, path) = config_text(inv)?;
    if !Config::may_name(&text, ifnet.ifname.as_str()) {
        return Ok(None);
    }
    Ok(Some(Config::parse(&text, &path)?))
}

/// The text of `inv`'s configuration, and the path it is named by; see
/// [`load_config`].
fn config_text(inv: &Invocation) -> Result<(String, PathBuf), Error> {
    let trusted = |path: &Path| match run::read_config(path) {
        Ok(text) => Ok((text, path.to_path_buf())),
        Err(e) => Err(Error::Config(e)),
    };
    let KernelChoice::Sim(path) = &inv.kernel else { return trusted(&inv.config) };
    if inv.config_given {
        return trusted(&inv.config);
    }
    let below = sim_root_dir(path).join(config::DEFAULT_PATH.trim_start_matches('/'));
    if std::fs::symlink_metadata(&below).is_ok() {
        // Named by its real path: that is the file to edit.
        return trusted(&below);
    }
    check_sim_path(path)?;
    let files = load_sim(path)?.root();
    match files.read(config::DEFAULT_PATH).map_err(|e| Error::Input(e.to_string()))? {
        // Named as the machine file names it: the key of its table.
        Some(text) => Ok((text, PathBuf::from(config::DEFAULT_PATH))),
        None => trusted(&inv.config),
    }
}

/// The directory that holds a simulated machine's files besides its
/// `[machine.files]`: what `setup` wrote for it, by their absolute paths.
pub(crate) fn sim_root_dir(path: &Path) -> PathBuf {
    with_suffix(path, ".root")
}

/// A simulated machine's lock and state live beside it: only beside a
/// regular file, and only in a directory of root's or ours.
pub(crate) fn check_sim_path(path: &Path) -> Result<(), Error> {
    let refused = |e| Error::Input(format!("{}: {}", text::path(path), text::io_error(&e)));
    file::check_regular(path, Links::Refuse).map_err(refused)?;
    file::owned_parent(path).map_err(refused)?;
    Ok(())
}

pub(crate) fn load_sim(path: &Path) -> Result<SimKernel, Error> {
    SimKernel::load(path).map_err(|e| Error::Input(e.to_string()))
}

/// Runs `inv` against a given kernel, log, state store and clock.
pub fn execute_in(
    inv: &Invocation,
    config: &Config,
    kernel: &mut dyn Kernel,
    log: &mut dyn Log,
    store: &mut dyn StateStore,
    now: u64,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match &inv.command {
        Command::Status => {
            // In a scenario, the machine's installation is not modelled.
            let stored = store.load()?;
            let networks = store.load_networks().networks;
            let (text, severity) =
                status::render(config, kernel, &stored, &networks, None, inv.json, now)?;
            write_out(out, &text)?;
            match severity {
                0 => Ok(()),
                n => Err(Error::Verdict(n)),
            }
        }
        // `check` reads the machine's files too, so it needs the concrete
        // machine: [`execute`] runs it, and no devd rule does.
        Command::Check => Err(Error::Usage("check is run by execute, not by a devd rule".into())),
        Command::Simulate(_)
        | Command::Setup
        | Command::DevdConf
        | Command::RcConf
        | Command::Help
        | Command::Version => Err(Error::Usage("not a kernel command".into())),
        Command::Event(_) | Command::Reconcile | Command::Resume => {
            change_in(inv, config, kernel, log, store, now, out)
        }
        Command::Netcheck { .. } => {
            Err(Error::Usage("netcheck is run by execute, not in-process".into()))
        }
    }
}

/// Runs an event or `reconcile` against a given kernel, log, state store
/// and clock: the commands that change the kernel.
pub fn change_in(
    inv: &Invocation,
    config: &Config,
    kernel: &mut dyn Kernel,
    log: &mut dyn Log,
    store: &mut dyn StateStore,
    now: u64,
    out: &mut dyn Write,
) -> Result<(), Error> {
    reconcile_in(inv, config, kernel, log, store, now, out).map(drop)
}

/// [`change_in`], with what the run did (or, under `-n`, would do): its
/// report; `None` for an event about nothing lagghook manages.
pub fn reconcile_in(
    inv: &Invocation,
    config: &Config,
    kernel: &mut dyn Kernel,
    log: &mut dyn Log,
    store: &mut dyn StateStore,
    now: u64,
    out: &mut dyn Write,
) -> Result<Option<Report>, Error> {
    let scope = match &inv.command {
        Command::Event(args) => {
            let event = DevdEvent::from_args(args)?;
            match run::managed_event(config, &event) {
                Some((_, scope)) => scope,
                None => return Ok(None),
            }
        }
        Command::Reconcile | Command::Resume => Scope::All,
        _ => return Err(Error::Usage("not a command that changes the kernel".into())),
    };
    let mut memory;
    let store: &mut dyn StateStore = if inv.dry_run {
        memory = MemoryStore::from(store.load()?);
        &mut memory
    } else {
        store
    };
    let mut ctx = Context { kernel, log, state: store, now, dry_run: inv.dry_run };
    let report = run::reconcile(&mut ctx, config, &scope)?;
    if inv.dry_run {
        write_out(out, &report.dry_run_text())?;
    } else {
        // After the repair, never instead of it: record the network or
        // start a check (issue 20), reads only.
        let resume = inv.command == Command::Resume;
        let now_ms = now.saturating_mul(1000);
        netcheck::after_run(ctx.kernel, ctx.log, ctx.state, config, &report.ends, now_ms, resume);
    }
    Ok(Some(report))
}

/// `check`: the kernel, the identity file and the files under the
/// machine's root (the host's `/`, or a simulated machine's
/// `[machine.files]` under what `setup` wrote for it), all only read,
/// without the lock.
fn check_command(inv: &Invocation, config: &Config, out: &mut dyn Write) -> Result<(), Error> {
    let stored = reader(&inv.kernel).load();
    match &inv.kernel {
        KernelChoice::Native => {
            let mut kernel = NativeKernel::open()?;
            check::check(config, &mut kernel, &HostRoot, &inv.kernel, stored, out)
        }
        KernelChoice::Sim(path) => {
            // The same refusals as for every command on a simulated machine.
            let refused = |e| Error::Input(format!("{}: {e}", text::path(path)));
            file::check_regular(path, Links::Refuse).map_err(refused)?;
            file::owned_parent(path).map_err(refused)?;
            let mut kernel = load_sim(path)?;
            let (written, files) = machine_files(path, &kernel);
            let root = Overlay { upper: &written, lower: &files };
            check::check(config, &mut kernel, &root, &inv.kernel, stored, out)
        }
    }
}

/// `status`: the kernel and the state files, read without the lock, and
/// the machine's files for what keeps lagghook from running again (the
/// host's `/`, or a simulated machine's files as `check` reads them; a
/// simulated machine without any has no installation to look at, and is
/// judged by its kernel alone). Its exit status is the worst verdict.
fn status_command(inv: &Invocation, config: &Config, out: &mut dyn Write) -> Result<(), Error> {
    let now = unix_now();
    let (text, severity) = match &inv.kernel {
        KernelChoice::Native => {
            let mut kernel = NativeKernel::open()?;
            let mut files = reader(&inv.kernel);
            let (stored, networks) = (files.load()?, files.load_networks().networks);
            status::render(config, &mut kernel, &stored, &networks, Some(&HostRoot), inv.json, now)?
        }
        KernelChoice::Sim(path) => {
            check_sim_path(path)?;
            let mut kernel = load_sim(path)?;
            let mut state_files = reader(&inv.kernel);
            let stored = state_files.load()?;
            let networks = state_files.load_networks().networks;
            let (written, files) = machine_files(path, &kernel);
            let root = Overlay { upper: &written, lower: &files };
            let modelled = !files.is_empty() || sim_root_dir(path).exists();
            let root = modelled.then_some(&root as &dyn Root);
            status::render(config, &mut kernel, &stored, &networks, root, inv.json, now)?
        }
    };
    write_out(out, &text)?;
    match severity {
        0 => Ok(()),
        n => Err(Error::Verdict(n)),
    }
}

/// A simulated machine's files: what `setup` wrote below `PATH.root`,
/// and its `[machine.files]`, which the first hides where both have a
/// file.
fn machine_files(path: &Path, kernel: &SimKernel) -> (DirRoot, crate::sim::SimRoot) {
    (DirRoot::new(sim_root_dir(path)), kernel.root())
}

/// One observation, without lock or state: for `rc-conf`.
fn peek(choice: &KernelChoice, config: &Config) -> Option<Snapshot> {
    match choice {
        KernelChoice::Native => run::observe(&mut NativeKernel::open().ok()?, config).ok(),
        KernelChoice::Sim(path) => run::observe(&mut SimKernel::load(path).ok()?, config).ok(),
    }
}

/// The lock that lets one `setup` at a time change a machine (issue 17:
/// 16 setups started together made 78 sysrc edits where one makes 9):
/// `/var/run/lagghook/setup.lock`, or `PATH.setup.lock` beside a simulated
/// machine, held until `setup` returns, with the same bounded wait as the
/// run lock (a setup that finds it held past that gives up, exit status 3,
/// having changed nothing). A lock of its own, since `setup` ends with a
/// reconcile that takes the run lock. `-n` changes nothing and takes none.
fn setup_lock(inv: &Invocation) -> Result<Option<Flock<std::fs::File>>, Error> {
    if inv.dry_run {
        return Ok(None);
    }
    let path = match &inv.kernel {
        KernelChoice::Native => {
            let dir = Path::new(state::DEFAULT_DIR);
            file::private_dir(dir).map_err(|e| StateError::Io(dir.to_path_buf(), e))?;
            dir.join("setup.lock")
        }
        KernelChoice::Sim(path) => {
            check_sim_path(path)?;
            with_suffix(path, ".setup.lock")
        }
    };
    Ok(Some(state::lock_bounded(&path)?))
}

/// The state files of a simulated machine at `path`: `PATH.state`, the
/// volatile part (a reboot empties it, as rc empties /var/run), and the
/// persistent ones (/var/db, kept): `PATH.db`, the identity file, and
/// `PATH.history`, the last transitions.
fn sim_files(path: &Path) -> Files {
    Files {
        state: with_suffix(path, ".state"),
        identity: with_suffix(path, ".db"),
        history: with_suffix(path, ".history"),
    }
}

/// Both state files, read without the lock, for the commands that only
/// read.
pub(crate) fn reader(choice: &KernelChoice) -> FileStore {
    match choice {
        KernelChoice::Native => FileStore::unlocked(Files {
            state: Path::new(state::DEFAULT_DIR).join("state"),
            identity: Path::new(state::DB_DIR).join(state::IDENTITY_FILE),
            history: Path::new(state::DB_DIR).join(state::HISTORY_FILE),
        }),
        KernelChoice::Sim(path) => FileStore::unlocked(sim_files(path)),
    }
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The main lock, taken for one step of the helper and let go after it.
struct SystemLocker;

impl netcheck::Locker for SystemLocker {
    fn with_lock(&mut self, f: &mut dyn FnMut(&mut dyn StateStore)) -> Result<(), StateError> {
        let mut store = FileStore::open_system()?;
        f(&mut store);
        Ok(())
    }
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// `netcheck LAGG GENERATION`, the detached helper a devd run starts: the
/// steps of [`netcheck::Helper`], sleeping between them, on the native
/// kernel only (a scenario runs the same steps on simulated time). alarm(2)
/// ends it a second after its deadline whatever it is doing.
fn netcheck_command(
    inv: &Invocation,
    config: &Config,
    lagg: &crate::domain::model::IfName,
    generation: u64,
    log: &mut dyn Log,
) -> Result<(), Error> {
    if inv.kernel != KernelChoice::Native {
        return Err(Error::Usage(
            "netcheck runs on the native kernel; a scenario runs it on simulated time".into(),
        ));
    }
    crate::sys::arm_alarm((netcheck::DEADLINE_MS / 1000 + 1) as u32);
    let mut kernel = NativeKernel::open()?;
    let mut helper = netcheck::Helper::new(lagg.clone(), generation, unix_ms());
    loop {
        match helper.step(config, &mut kernel, log, &mut SystemLocker, unix_ms()) {
            netcheck::Next::Done => return Ok(()),
            netcheck::Next::At(at) => {
                let wait = at.saturating_sub(unix_ms());
                std::thread::sleep(std::time::Duration::from_millis(wait));
            }
        }
    }
}

/// The state files read without the lock, for `status`, `check` and `-n`:
/// saving is a no-op, so nothing a reading command does reaches a file.
struct ReadOnlyStore(FileStore);

impl StateStore for ReadOnlyStore {
    fn load(&mut self) -> Result<Stored, StateError> {
        self.0.load()
    }
    fn save(&mut self, _state: &state::State) -> Result<(), Vec<NotSaved>> {
        Ok(())
    }
    fn save_identities(&mut self, _macs: &RememberedMacs) -> Result<(), NotSaved> {
        Ok(())
    }
    fn load_networks(&mut self) -> crate::run::networks::Loaded {
        self.0.load_networks()
    }
    fn save_networks(
        &mut self,
        _networks: &crate::domain::network::Networks,
    ) -> Result<(), StateError> {
        Ok(())
    }
}
