//! What lagghook remembers between runs, in two files with two lifetimes.
//!
//! - `/var/run/lagghook/state`, lost at reboot on purpose (rc empties
//!   `/var/run`, and the kernel is the truth about the topology anyway): the
//!   last observed topology of each lagg, when it went offline, and the last
//!   transitions for `status`. A missing or corrupt file is rebuilt,
//!   silently.
//! - `/var/db/lagghook/identity`, kept across reboots: each lagg's identity
//!   MAC, whether it is provisional, and the `mac` setting it was chosen for
//!   (see [`crate::domain::identity`]). It is the one thing a run cannot
//!   read back from the kernel. A missing file starts empty; one whose
//!   content is unusable is reported ([`Stored::unreadable`]) and rebuilt by
//!   the run, which says so once; a file that is not lagghook's to read — a
//!   link, a special file, over the size cap, another user's, writable by
//!   group or others — is refused ([`StateError`], exit status 3) before
//!   anything changes, since replacing it would silently adopt another
//!   address.
//!
//! The transitions that `status` shows are kept across reboots too, in
//! `/var/db/lagghook/history`, a text log (see [`crate::run::history`]): a
//! missing, hostile or corrupt file is an empty history, never followed
//! and never appended to, and replaced by the next run that adds a
//! transition.
//!
//! The state and identity files are written atomically (temp file +
//! rename) and only when they change; the history is appended to, and
//! rewritten atomically only to compact or replace it. One lock file, in
//! /var/run/lagghook, with a bounded wait, serialises concurrent runs
//! (devd and an administrator) and guards them all.
//! The directories are root's alone (0700), the files 0600 and never
//! opened through a link (see [`crate::sys::file`]): a user who could open
//! the lock could hold it and stall every repair.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::domain::config::MacSource;
use crate::domain::flap::{Episode, FlapState};
use crate::domain::identity::Identity;
use crate::domain::model::{IfName, MacAddr};
use crate::domain::network::Networks;
use crate::domain::plan::{RememberedMacs, WpaRefresh, WpaRefreshes};
use crate::domain::text;
use crate::domain::transition::LaggView;
use crate::run::history::{self, History, Save, HEADER};
use crate::run::networks;
use crate::sys::file::{self, Appended, Links};

/// Where the real backend keeps its volatile state and its lock.
pub const DEFAULT_DIR: &str = "/var/run/lagghook";
/// Where the real backend keeps what must survive a reboot.
pub const DB_DIR: &str = "/var/db/lagghook";
/// The identity file's name in [`DB_DIR`].
pub const IDENTITY_FILE: &str = "identity";
/// The transitions file's name in [`DB_DIR`]: the last transitions, kept
/// across reboots so `status` can tell what happened at boot and before.
pub const HISTORY_FILE: &str = "history";
/// How many transitions are kept, and `status` can show.
pub const KEEP_TRANSITIONS: usize = 50;
/// devd waits for every action it runs, so a run never waits long for
/// another: after this, it gives up with exit status 3.
pub const LOCK_WAIT: Duration = Duration::from_secs(2);

/// The volatile state: what the last run saw, lost at reboot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    /// Last observed view of each configured lagg (`None`: it did not exist).
    pub laggs: BTreeMap<IfName, Option<LaggView>>,
    /// Unix time each offline lagg went offline.
    pub offline_since: BTreeMap<IfName, u64>,
    /// Oldest first. Unlike the rest, kept across reboots (in
    /// [`HISTORY_FILE`], not in the volatile state file).
    pub transitions: Vec<Transition>,
    /// Vaps whose wpa_supplicant used another address, and what was done
    /// about it at which address (see `plan::WpaRefresh`).
    pub wpa: WpaRefreshes,
    /// Each lagg's online spell and flapping episode (`domain::flap`).
    pub flaps: BTreeMap<IfName, FlapState>,
    /// Since when (Unix time) each configured vap has been up without a
    /// link, as runs saw it (`domain::vap`).
    pub unlinked: BTreeMap<IfName, u64>,
}

/// Everything a store holds: both parts, as loaded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    /// The volatile part; `None` when missing or unusable, and after a
    /// reboot.
    pub state: Option<State>,
    /// Each lagg's identity, from the identity file (empty when the file is
    /// missing or [`Stored::unreadable`]).
    pub macs: RememberedMacs,
    /// Why the identity file, which exists, holds no usable identities
    /// (one line, naming the file); the run that finds it so rebuilds it.
    pub unreadable: Option<String>,
    /// Why this user may not read the identity file (`EACCES`: it is
    /// root's alone, as it should be). Only a reader that is not root, such
    /// as `status` in a user's shell, sees it; the identities are then
    /// unknown to it, not lost, so nothing is salvaged.
    pub hidden: Option<String>,
}

/// One logged transition, with its Unix time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub time: u64,
    pub line: String,
}

impl State {
    pub fn record(&mut self, time: u64, line: String) {
        self.transitions.push(Transition { time, line });
        let excess = self.transitions.len().saturating_sub(KEEP_TRANSITIONS);
        self.transitions.drain(..excess);
    }

    fn to_file(&self) -> StateFile {
        let lagg = self
            .laggs
            .iter()
            .map(|(name, view)| {
                let offline_since = self.offline_since.get(name).copied();
                let flap = self.flaps.get(name);
                let online_since = flap.and_then(|f| f.online_since);
                let flapping = flap.and_then(|f| f.episode.as_ref()).map(|e| FlapRecord {
                    port: e.port.clone(),
                    since: e.since,
                    flaps: e.flaps,
                });
                let record = match view {
                    None => LaggRecord {
                        present: false,
                        offline_since,
                        online_since,
                        flapping,
                        ..LaggRecord::default()
                    },
                    Some(v) => LaggRecord {
                        present: true,
                        ports: v.ports.clone(),
                        primary: v.primary.clone(),
                        active: v.active.clone(),
                        mac: Some(v.mac),
                        offline_since,
                        online_since,
                        flapping,
                    },
                };
                (name.clone(), record)
            })
            .collect();
        let wpa = self
            .wpa
            .iter()
            .map(|(n, r)| {
                let record =
                    WpaRecord { mac: r.mac, restarted: r.restarted, readdressed: r.readdressed };
                (n.clone(), record)
            })
            .collect();
        // The transitions have their own, persistent file.
        let unlinked = self.unlinked.clone();
        StateFile { version: FORMAT_VERSION, lagg, transition: Vec::new(), wpa, unlinked }
    }

    fn from_file(file: StateFile) -> Option<State> {
        if file.version != FORMAT_VERSION {
            return None;
        }
        let wpa = file
            .wpa
            .into_iter()
            .map(|(n, r)| {
                let refresh = WpaRefresh {
                    mac: r.mac,
                    restarted: r.restarted,
                    this_run: false,
                    readdressed: r.readdressed,
                };
                (n, refresh)
            })
            .collect();
        let mut state = State {
            transitions: file.transition,
            wpa,
            unlinked: file.unlinked,
            ..State::default()
        };
        for (name, rec) in file.lagg {
            if let Some(t) = rec.offline_since {
                state.offline_since.insert(name.clone(), t);
            }
            let episode =
                rec.flapping.map(|f| Episode { port: f.port, since: f.since, flaps: f.flaps });
            if rec.online_since.is_some() || episode.is_some() {
                let flap = FlapState { online_since: rec.online_since, episode };
                state.flaps.insert(name.clone(), flap);
            }
            let view = if rec.present {
                Some(LaggView {
                    ports: rec.ports,
                    primary: rec.primary,
                    active: rec.active,
                    mac: rec.mac?,
                })
            } else {
                None
            };
            state.laggs.insert(name, view);
        }
        Some(state)
    }
}

/// 2: the identity MACs moved to the identity file. A version 1 file (with
/// its `mac` table) is ignored and rebuilt, as any unusable state file is.
const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    #[serde(default)]
    lagg: BTreeMap<IfName, LaggRecord>,
    /// Version 2 files before the history had its own file; never written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    transition: Vec<Transition>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    wpa: BTreeMap<IfName, WpaRecord>,
    /// `State::unlinked`; absent in files of earlier versions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    unlinked: BTreeMap<IfName, u64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WpaRecord {
    mac: MacAddr,
    #[serde(default)]
    restarted: bool,
    /// A new address given while down rather than a refresh (see
    /// `plan::WpaRefresh`); absent in files of earlier versions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    readdressed: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LaggRecord {
    present: bool,
    #[serde(default)]
    ports: Vec<IfName>,
    primary: Option<IfName>,
    active: Option<IfName>,
    mac: Option<MacAddr>,
    offline_since: Option<u64>,
    /// Since when it is online (`domain::flap`); absent in earlier files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    online_since: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flapping: Option<FlapRecord>,
}

/// A flapping episode (`domain::flap::Episode`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlapRecord {
    port: IfName,
    since: u64,
    flaps: u32,
}

/// The files of a [`FileStore`].
#[derive(Debug, Clone)]
pub struct Files {
    /// The volatile state (`/var/run/lagghook/state`).
    pub state: PathBuf,
    /// The identities (`/var/db/lagghook/identity`).
    pub identity: PathBuf,
    /// The last transitions (`/var/db/lagghook/history`).
    pub history: PathBuf,
}

const IDENTITY_VERSION: u32 = 1;

/// What an administrator finds at the top of the identity file.
const IDENTITY_HEADER: &str = "\
# Each lagg's identity MAC, kept by lagghook(8) across reboots.
# port: the `mac` port it was chosen for (none: a literal `mac`).
# provisional: the lagg's own MAC, until that port's hardware address
# can replace it while the lagg is empty.
";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    version: u32,
    #[serde(default)]
    lagg: BTreeMap<IfName, IdentityRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityRecord {
    mac: MacAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<IfName>,
    #[serde(default)]
    provisional: bool,
}

fn identities_to_text(macs: &RememberedMacs) -> Result<String, toml::ser::Error> {
    let lagg = macs
        .iter()
        .map(|(name, id)| {
            let port = match &id.source {
                MacSource::Port(p) => Some(p.clone()),
                MacSource::Literal(_) => None,
            };
            (name.clone(), IdentityRecord { mac: id.mac, port, provisional: id.provisional })
        })
        .collect();
    let body = toml::to_string(&IdentityFile { version: IDENTITY_VERSION, lagg })?;
    Ok(format!("{IDENTITY_HEADER}{body}"))
}

/// A state file's TOML error in one line: `line N: what`.
pub(crate) fn toml_problem(text: &str, e: &toml::de::Error) -> String {
    let message = text::one_line(e.message(), 4 * text::ECHO_MAX_CHARS);
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// The identities in `bytes`, or why there are none, in one line.
fn identities_from_bytes(bytes: &[u8]) -> Result<RememberedMacs, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
    let file: IdentityFile = toml::from_str(text).map_err(|e| toml_problem(text, &e))?;
    if file.version != IDENTITY_VERSION {
        return Err(format!("has version {}, not {IDENTITY_VERSION}", file.version));
    }
    let mut macs = RememberedMacs::new();
    for (lagg, rec) in file.lagg {
        if rec.mac.is_zero() || rec.mac.is_multicast() {
            return Err(format!("{lagg}: {} cannot be an identity", rec.mac));
        }
        let source = match rec.port {
            Some(port) => MacSource::Port(port),
            None if rec.provisional => {
                return Err(format!("{lagg}: a provisional identity must name its port"));
            }
            None => MacSource::Literal(rec.mac),
        };
        macs.insert(lagg, Identity { mac: rec.mac, source, provisional: rec.provisional });
    }
    Ok(macs)
}

/// The files a store writes, by the names a run reports them under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// `/var/run/lagghook/state`.
    State,
    /// `/var/db/lagghook/history`.
    History,
    /// `/var/db/lagghook/identity`.
    Identity,
}

impl Kept {
    pub fn name(self) -> &'static str {
        match self {
            Kept::State => "state",
            Kept::History => "history",
            Kept::Identity => "identity",
        }
    }
}

/// A file a save could not write (a full disk, a file size limit), which
/// it left as it was: `history not saved: PATH: No space left on device`.
#[derive(Debug)]
pub struct NotSaved {
    pub file: Kept,
    pub path: PathBuf,
    pub error: io::Error,
}

impl NotSaved {
    fn new(file: Kept, path: &Path, error: io::Error) -> NotSaved {
        NotSaved { file, path: path.to_path_buf(), error }
    }
}

impl std::fmt::Display for NotSaved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} not saved: {}: {}",
            self.file.name(),
            text::path(&self.path),
            text::io_error(&self.error)
        )
    }
}

impl std::error::Error for NotSaved {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Why the state could not be used.
#[derive(Debug)]
pub enum StateError {
    /// The lock was held by another process for all of [`LOCK_WAIT`].
    Busy(PathBuf),
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Busy(p) => {
                write!(f, "{}: still locked after waiting {} s", p.display(), LOCK_WAIT.as_secs())
            }
            StateError::Io(p, e) => write!(f, "{}: {}", p.display(), text::io_error(e)),
        }
    }
}

impl std::error::Error for StateError {}

/// Where state lives.
pub trait StateStore {
    /// Both parts. An `Err` only for an identity file that must be neither
    /// read nor replaced (see the module's documentation); anything else
    /// unusable is reported in [`Stored`], for the run to rebuild.
    fn load(&mut self) -> Result<Stored, StateError>;
    /// Writes the volatile part and the history; every file it could not
    /// write is in the `Err`, each left as it was.
    fn save(&mut self, state: &State) -> Result<(), Vec<NotSaved>>;
    /// Replaces the identity file.
    fn save_identities(&mut self, macs: &RememberedMacs) -> Result<(), NotSaved>;
    /// The known-networks file ([`networks`]): never an error, since it
    /// can never stop a repair; an unusable one is empty with a warning.
    fn load_networks(&mut self) -> networks::Loaded;
    /// Replaces the known-networks file.
    fn save_networks(&mut self, networks: &Networks) -> Result<(), StateError>;
}

/// State kept in memory: the scenario runner's, and `-n` runs'. Its two
/// fields are the two files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStore {
    /// `/var/run/lagghook/state`.
    pub state: Option<State>,
    /// `/var/db/lagghook/identity`.
    pub macs: RememberedMacs,
    /// As [`Stored::unreadable`]: set when the store was filled from a file
    /// that could not be used, cleared by the first save of identities.
    pub unreadable: Option<String>,
    /// `/var/db/lagghook/networks`.
    pub networks: Networks,
    /// As [`networks::Loaded::warning`]: cleared by the next save.
    pub networks_warning: Option<String>,
}

impl MemoryStore {
    /// What a reboot does to the files: rc empties `/var/run`, `/var/db`
    /// (the identities, the transitions) stays.
    pub fn reboot(&mut self) {
        let transitions = self.state.take().map(|s| s.transitions).unwrap_or_default();
        if !transitions.is_empty() {
            self.state = Some(State { transitions, ..State::default() });
        }
    }
}

impl From<Stored> for MemoryStore {
    fn from(s: Stored) -> MemoryStore {
        MemoryStore {
            state: s.state,
            macs: s.macs,
            unreadable: s.unreadable,
            ..MemoryStore::default()
        }
    }
}

impl StateStore for MemoryStore {
    fn load(&mut self) -> Result<Stored, StateError> {
        Ok(Stored {
            state: self.state.clone(),
            macs: self.macs.clone(),
            unreadable: self.unreadable.clone(),
            hidden: None,
        })
    }
    fn save(&mut self, state: &State) -> Result<(), Vec<NotSaved>> {
        self.state = Some(state.clone());
        Ok(())
    }
    fn save_identities(&mut self, macs: &RememberedMacs) -> Result<(), NotSaved> {
        self.macs = macs.clone();
        self.unreadable = None;
        Ok(())
    }
    fn load_networks(&mut self) -> networks::Loaded {
        networks::Loaded { networks: self.networks.clone(), warning: self.networks_warning.clone() }
    }
    fn save_networks(&mut self, networks: &Networks) -> Result<(), StateError> {
        self.networks = networks.clone();
        self.networks_warning = None;
        Ok(())
    }
}

/// State in files, guarded by an exclusive lock held for the store's life.
#[derive(Debug)]
pub struct FileStore {
    state: PathBuf,
    identity: PathBuf,
    history: PathBuf,
    /// The history as last loaded (or saved), so a save appends only the
    /// transitions a run added, and writes nothing when there are none.
    loaded_history: Option<History>,
    /// Held until the store is dropped; `None` for a read-only look.
    lock: Option<Flock<File>>,
}

impl FileStore {
    /// The real layout: [`DEFAULT_DIR`]`/state` under the lock
    /// [`DEFAULT_DIR`]`/lock`, and [`DB_DIR`]`/identity`.
    pub fn open_system() -> Result<FileStore, StateError> {
        FileStore::open_dirs(Path::new(DEFAULT_DIR), Path::new(DB_DIR))
    }

    /// `RUN/state` under the lock `RUN/lock`, and `DB/identity`. Both
    /// directories are made private to their owner (mode 0700), or refused
    /// if they are not ours: checked before the lock, so a planted
    /// directory stops the run before it changes anything, not after.
    pub fn open_dirs(run: &Path, db: &Path) -> Result<FileStore, StateError> {
        file::private_dir(run).map_err(|e| StateError::Io(run.to_path_buf(), e))?;
        file::private_dir(db).map_err(|e| StateError::Io(db.to_path_buf(), e))?;
        let files = Files {
            state: run.join("state"),
            identity: db.join(IDENTITY_FILE),
            history: db.join(HISTORY_FILE),
        };
        FileStore::open(&run.join("lock"), files)
    }

    /// The files, under the lock `lock`.
    pub fn open(lock: &Path, files: Files) -> Result<FileStore, StateError> {
        let lock = lock_bounded(lock)?;
        let Files { state, identity, history } = files;
        Ok(FileStore { state, identity, history, loaded_history: None, lock: Some(lock) })
    }

    /// The files without the lock: only for reading (`status`, `check`,
    /// `rc-conf`, `-n`), where a torn read is impossible anyway thanks to
    /// the atomic rename.
    pub fn unlocked(files: Files) -> FileStore {
        let Files { state, identity, history } = files;
        FileStore { state, identity, history, loaded_history: None, lock: None }
    }

    /// The transitions kept across reboots; a missing, hostile or corrupt
    /// file is an empty history (it only informs `status`), and a hostile
    /// one is replaced, never appended to, by the next save that adds a
    /// transition.
    fn load_history(&self) -> History {
        match file::read_private(&self.history, self.lock.is_some()) {
            Ok(Some(bytes)) => History::parse(&bytes),
            Ok(None) => History::missing(),
            Err(_) => History::refused(),
        }
    }

    /// The identity part of a [`Stored`].
    fn load_identities(&self) -> Result<Stored, StateError> {
        let why = |e: &dyn std::fmt::Display| format!("{}: {e}", text::path(&self.identity));
        // Only a run holding the lock narrows a readable-by-others mode:
        // the readers change nothing.
        let bytes = match file::read_private(&self.identity, self.lock.is_some()) {
            Err(e) if self.lock.is_none() && e.raw_os_error() == Some(libc::EACCES) => {
                // "Permission denied", not std's "(os error 13)" after it.
                return Ok(Stored { hidden: Some(why(&text::io_error(&e))), ..Stored::default() });
            }
            read => read.map_err(|e| StateError::Io(self.identity.clone(), e))?,
        };
        let Some(bytes) = bytes else { return Ok(Stored::default()) };
        Ok(match identities_from_bytes(&bytes) {
            Ok(macs) => Stored { macs, ..Stored::default() },
            Err(e) => Stored { unreadable: Some(why(&e)), ..Stored::default() },
        })
    }
}

/// flock(2) has no timeout, and a blocking wait could hang devd's event
/// loop forever behind a stuck run; so it polls a non-blocking lock in
/// short steps up to [`LOCK_WAIT`].
pub fn lock_bounded(path: &Path) -> Result<Flock<File>, StateError> {
    let io = |e| StateError::Io(path.to_path_buf(), e);
    let started = Instant::now();
    let mut file = file::open_lock(path).map_err(io)?;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(lock),
            Err((f, nix::errno::Errno::EWOULDBLOCK)) if started.elapsed() < LOCK_WAIT => {
                file = f;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                return Err(StateError::Busy(path.to_path_buf()))
            }
            Err((_, e)) => return Err(io(io::Error::from(e))),
        }
    }
}

impl StateStore for FileStore {
    fn load(&mut self) -> Result<Stored, StateError> {
        let identities = self.load_identities()?;
        let volatile = file::read_regular(&self.state, Links::Refuse)
            .ok()
            .and_then(|text| toml::from_str::<StateFile>(&text).ok())
            .and_then(State::from_file);
        let history = self.load_history();
        let transitions = history.transitions.clone();
        self.loaded_history = Some(history);
        let state = match (volatile, transitions.is_empty()) {
            (Some(s), _) => Some(State { transitions, ..s }),
            // After a reboot: only the history is left.
            (None, false) => Some(State { transitions, ..State::default() }),
            (None, true) => None,
        };
        Ok(Stored { state, ..identities })
    }

    fn save(&mut self, state: &State) -> Result<(), Vec<NotSaved>> {
        // Both are attempted: the transitions happened whether or not the
        // volatile state could be written, and /var/db outlives it anyway.
        let volatile = self.save_volatile(state);
        let history = self.save_history(&state.transitions);
        let failed: Vec<NotSaved> =
            [volatile, history].into_iter().filter_map(Result::err).collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed)
        }
    }

    fn save_identities(&mut self, macs: &RememberedMacs) -> Result<(), NotSaved> {
        let not_saved = |e| NotSaved::new(Kept::Identity, &self.identity, e);
        let text = identities_to_text(macs).map_err(|e| not_saved(io::Error::other(e)))?;
        file::write_atomically(&self.identity, text.as_bytes()).map_err(not_saved)
    }

    fn load_networks(&mut self) -> networks::Loaded {
        networks::load(&self.networks_path(), self.lock.is_some())
    }

    fn save_networks(&mut self, networks: &Networks) -> Result<(), StateError> {
        let path = self.networks_path();
        networks::save(&path, networks).map_err(|e| StateError::Io(path, e))
    }
}

impl FileStore {
    /// `networks` beside the identity file, in `/var/db/lagghook`, named
    /// as it is (`identity` → `networks`; a simulated machine's
    /// `kernel.toml.identity` → `kernel.toml.networks`).
    fn networks_path(&self) -> PathBuf {
        let name = self.identity.file_name().and_then(|n| n.to_str()).unwrap_or(IDENTITY_FILE);
        let prefix = name.strip_suffix(IDENTITY_FILE).unwrap_or(name);
        self.identity.with_file_name(format!("{prefix}{}", networks::NETWORKS_FILE))
    }

    fn save_volatile(&mut self, state: &State) -> Result<(), NotSaved> {
        let not_saved = |e| NotSaved::new(Kept::State, &self.state, e);
        let text = toml::to_string(&state.to_file()).map_err(|e| not_saved(io::Error::other(e)))?;
        file::write_atomically(&self.state, text.as_bytes()).map_err(not_saved)
    }

    /// Appends the transitions `transitions` adds to what was loaded.
    fn save_history(&mut self, transitions: &[Transition]) -> Result<(), NotSaved> {
        // Taken: after a failed write the file is unknown, and the next
        // save reads it again.
        let loaded = match self.loaded_history.take() {
            Some(h) => h,
            None => self.load_history(),
        };
        let mut save = loaded.save(transitions);
        let written = match &save {
            Save::Nothing => Ok(()),
            Save::Append(lines) => {
                let whole = || history::render(transitions).into_bytes();
                match file::append_private(
                    &self.history,
                    HEADER.as_bytes(),
                    lines.as_bytes(),
                    whole,
                ) {
                    // Missing: created as the append would have left it.
                    Ok(Appended::Replaced) if loaded.is_missing() => Ok(()),
                    // Another link: replaced by the whole file instead.
                    Ok(Appended::Replaced) => {
                        save = Save::Rewrite(history::render(transitions));
                        Ok(())
                    }
                    Ok(Appended::InPlace) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Save::Rewrite(text) => file::write_atomically(&self.history, text.as_bytes()),
        };
        written.map_err(|e| NotSaved::new(Kept::History, &self.history, e))?;
        self.loaded_history = Some(loaded.saved(&save, transitions));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }
    fn m(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    fn sample() -> State {
        let mut s = State::default();
        s.laggs.insert(
            n("lagg0"),
            Some(LaggView {
                ports: vec![n("em0"), n("wlan0")],
                primary: Some(n("em0")),
                active: None,
                mac: m("00:11:22:33:44:55"),
            }),
        );
        s.laggs.insert(n("lagg1"), None);
        s.offline_since.insert(n("lagg0"), 1700000000);
        for i in 0..KEEP_TRANSITIONS as u64 + 5 {
            s.record(i, format!("line {i}"));
        }
        s
    }

    fn sample_macs() -> RememberedMacs {
        let id = |mac: &str, source: MacSource, provisional| Identity {
            mac: m(mac),
            source,
            provisional,
        };
        RememberedMacs::from([
            (n("lagg0"), id("00:24:d7:00:00:01", MacSource::Port(n("ue0")), true)),
            (n("lagg1"), id("00:11:22:33:44:55", MacSource::Port(n("em0")), false)),
            (
                n("lagg2"),
                id("02:00:00:00:00:01", MacSource::Literal(m("02:00:00:00:00:01")), false),
            ),
        ])
    }

    /// A scratch `run` and `db` directory pair.
    struct Dirs {
        run: PathBuf,
        db: PathBuf,
    }

    impl Dirs {
        fn open(&self) -> Result<FileStore, StateError> {
            FileStore::open_dirs(&self.run, &self.db)
        }
        fn identity(&self) -> PathBuf {
            self.db.join(IDENTITY_FILE)
        }
    }

    #[test]
    fn both_parts_round_trip_through_their_files_and_keep_the_last_transitions() {
        let d = dirs();
        let mut store = d.open().unwrap();
        assert_eq!(store.load().unwrap(), Stored::default());
        let s = sample();
        assert_eq!(s.transitions.len(), KEEP_TRANSITIONS);
        assert_eq!(s.transitions[0].line, "line 5");
        store.save(&s).unwrap();
        store.save_identities(&sample_macs()).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded, Stored { state: Some(s), macs: sample_macs(), ..Stored::default() });
        // The identity file is root's alone and says what it is.
        let meta = fs::metadata(d.identity()).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&d.db).unwrap().mode() & 0o777, 0o700);
        let text = fs::read_to_string(d.identity()).unwrap();
        assert!(text.starts_with("# Each lagg's identity MAC"), "{text}");
        assert!(
            text.contains(
                "[lagg.lagg0]\nmac = \"00:24:d7:00:00:01\"\nport = \"ue0\"\nprovisional = true\n"
            ),
            "{text}"
        );
    }

    /// Proves a state file that cannot be written costs only the volatile
    /// state: the transitions still reach the history, and the error names
    /// the state file.
    #[test]
    fn a_failed_state_write_still_appends_the_transitions() {
        let d = dirs();
        let mut store = d.open().unwrap();
        store.load().unwrap();
        // A directory where the state file goes: rename(2) cannot replace it.
        fs::create_dir(d.run.join("state")).unwrap();
        let failed = store.save(&sample()).unwrap_err();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].file, Kept::State);
        let err = failed[0].to_string();
        let want = format!("state not saved: {}: ", d.run.join("state").display());
        assert!(err.starts_with(&want), "{err}");
        drop(store);
        let reread = d.open().unwrap().load().unwrap();
        assert_eq!(reread.state.map(|s| s.transitions), Some(sample().transitions));
    }

    /// Proves the split: what a reboot empties (/var/run) takes the
    /// topology with it; the identities and the transitions (/var/db) stay.
    #[test]
    fn a_reboot_loses_the_state_and_keeps_the_identities_and_transitions() {
        let d = dirs();
        let mut store = d.open().unwrap();
        store.save(&sample()).unwrap();
        store.save_identities(&sample_macs()).unwrap();
        drop(store);
        fs::remove_dir_all(&d.run).unwrap();
        let loaded = d.open().unwrap().load().unwrap();
        let transitions = sample().transitions;
        let kept = State { transitions, ..State::default() };
        assert_eq!(loaded, Stored { state: Some(kept), macs: sample_macs(), ..Stored::default() });
        let meta = fs::metadata(d.db.join(HISTORY_FILE)).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);

        let mut memory = MemoryStore::default();
        memory.save(&sample()).unwrap();
        memory.save_identities(&sample_macs()).unwrap();
        memory.reboot();
        assert_eq!(memory.load().unwrap(), loaded);
    }

    /// One run, as a repair makes it: load, record `lines` at `time`, save.
    fn run_recording(d: &Dirs, time: u64, lines: &[&str]) -> State {
        let mut store = d.open().unwrap();
        let mut state = store.load().unwrap().state.unwrap_or_default();
        for line in lines {
            state.record(time, (*line).to_owned());
        }
        store.save(&state).unwrap();
        state
    }

    fn history_text(d: &Dirs) -> String {
        fs::read_to_string(d.db.join(HISTORY_FILE)).unwrap()
    }

    /// Proves the history is a log a run appends to: the new transitions
    /// land after the old ones in the same file, and a run that adds none
    /// does not touch it.
    #[test]
    fn a_run_appends_its_transitions_and_one_without_any_writes_nothing() {
        let d = dirs();
        run_recording(&d, 100, &["lagg0: created", "lagg0: port em0 joined"]);
        let first = fs::metadata(d.db.join(HISTORY_FILE)).unwrap();
        assert_eq!(first.mode() & 0o777, 0o600);
        let state = run_recording(&d, 200, &["lagg0: port wlan0 joined"]);
        let header = crate::run::history::HEADER;
        let expected = format!(
            "{header}100 lagg0: created\n100 lagg0: port em0 joined\n200 lagg0: port wlan0 joined\n"
        );
        assert_eq!(history_text(&d), expected);
        let appended = fs::metadata(d.db.join(HISTORY_FILE)).unwrap();
        assert_eq!(appended.ino(), first.ino(), "appended in place, not replaced");
        let loaded = d.open().unwrap().load().unwrap().state.unwrap();
        assert_eq!(loaded.transitions, state.transitions);

        // A run that changes the state but logs no transition.
        let mut store = d.open().unwrap();
        let mut state = store.load().unwrap().state.unwrap();
        state.offline_since.insert(n("lagg0"), 300);
        std::thread::sleep(Duration::from_millis(20));
        store.save(&state).unwrap();
        let after = fs::metadata(d.db.join(HISTORY_FILE)).unwrap();
        assert_eq!(
            (after.ino(), after.modified().unwrap()),
            (first.ino(), appended.modified().unwrap())
        );
        assert_eq!(history_text(&d), expected);
    }

    /// Proves compaction: the file grows by appends up to twice the kept
    /// transitions, then the run that passes that rewrites it with exactly
    /// the last ones.
    #[test]
    fn a_history_past_twice_the_kept_lines_is_compacted_to_the_last_ones() {
        let d = dirs();
        let keep = KEEP_TRANSITIONS as u64;
        for time in 0..2 * keep {
            run_recording(&d, time, &["lagg0: port wlan0 joined"]);
        }
        assert_eq!(history_text(&d).lines().count(), 1 + 2 * KEEP_TRANSITIONS);
        let before = fs::metadata(d.db.join(HISTORY_FILE)).unwrap().ino();
        let state = run_recording(&d, 2 * keep, &["lagg0: port wlan0 joined"]);
        let text = history_text(&d);
        let times: Vec<&str> = text.lines().skip(1).map(|l| l.split(' ').next().unwrap()).collect();
        let last: Vec<String> = (keep + 1..=2 * keep).map(|t| t.to_string()).collect();
        assert_eq!(times, last);
        assert!(text.starts_with(crate::run::history::HEADER), "{text}");
        assert_ne!(fs::metadata(d.db.join(HISTORY_FILE)).unwrap().ino(), before, "replaced");
        assert_eq!(d.open().unwrap().load().unwrap().state.unwrap().transitions, state.transitions);
        // And appends go on after it.
        run_recording(&d, 2 * keep + 1, &["lagg0: port wlan0 left"]);
        assert_eq!(history_text(&d).lines().count(), 1 + KEEP_TRANSITIONS + 1);
    }

    /// Proves (issue 17) a history with another hard link is replaced,
    /// never appended to through the other name, and keeps its
    /// transitions; so does a torn one (a line cut short, as by a crash in
    /// an append), and a 0-byte one is started afresh.
    #[test]
    fn a_linked_torn_or_empty_history_keeps_what_it_held() {
        let d = dirs();
        let header = crate::run::history::HEADER;
        run_recording(&d, 100, &["lagg0: created"]);
        let path = d.db.join(HISTORY_FILE);
        let other = d.db.join("other");
        fs::hard_link(&path, &other).unwrap();
        run_recording(&d, 200, &["lagg0: port em0 joined"]);
        assert_eq!(fs::read_to_string(&other).unwrap(), format!("{header}100 lagg0: created\n"));
        let both = format!("{header}100 lagg0: created\n200 lagg0: port em0 joined\n");
        assert_eq!(history_text(&d), both);
        assert_eq!(fs::metadata(&path).unwrap().nlink(), 1);

        fs::write(&path, format!("{both}300 lagg0: port wl")).unwrap();
        run_recording(&d, 400, &["lagg0: port wlan0 joined"]);
        assert_eq!(history_text(&d), format!("{both}400 lagg0: port wlan0 joined\n"));

        fs::write(&path, "").unwrap();
        let state = run_recording(&d, 500, &["lagg0: port em0 left"]);
        assert_eq!(state.transitions.len(), 1);
        assert_eq!(history_text(&d), format!("{header}500 lagg0: port em0 left\n"));
    }

    /// The history only informs `status`: a damaged line costs that line.
    #[test]
    fn a_corrupt_history_line_is_skipped() {
        let d = dirs();
        run_recording(&d, 100, &["lagg0: created"]);
        let path = d.db.join(HISTORY_FILE);
        let text = history_text(&d) + "garbage without a time\n\u{1b}[2J\n";
        fs::write(&path, text).unwrap();
        let state = run_recording(&d, 200, &["lagg0: port em0 joined"]);
        let lines: Vec<&str> = state.transitions.iter().map(|t| t.line.as_str()).collect();
        assert_eq!(lines, ["lagg0: created", "lagg0: port em0 joined"]);
        assert!(history_text(&d)
            .ends_with("garbage without a time\n\u{1b}[2J\n200 lagg0: port em0 joined\n"));
    }

    /// The TOML history of earlier versions reads as no transitions (no
    /// error) and is replaced whole by the first run that adds one.
    #[test]
    fn an_old_toml_history_is_an_empty_history_replaced_by_the_next_transition() {
        let d = dirs();
        fs::create_dir_all(&d.db).unwrap();
        let path = d.db.join(HISTORY_FILE);
        let old = "version = 1\n\n[[transition]]\ntime = 100\nline = \"lagg0: created\"\n";
        fs::write(&path, old).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(d.open().unwrap().load().unwrap().state, None);
        run_recording(&d, 200, &["lagg0: port em0 joined"]);
        let header = crate::run::history::HEADER;
        assert_eq!(history_text(&d), format!("{header}200 lagg0: port em0 joined\n"));
    }

    /// Proves a history that is not lagghook's to append to is an empty
    /// history, never written through, and replaced (by a new file, not
    /// in place) by the next run that adds a transition.
    #[test]
    fn a_hostile_history_is_never_appended_to() {
        let d = dirs();
        fs::create_dir_all(&d.db).unwrap();
        let path = d.db.join(HISTORY_FILE);
        let victim = d.db.join("victim");
        let good = format!("{}100 lagg0: created\n", crate::run::history::HEADER);
        fs::write(&victim, &good).unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        type Plant<'a> = (&'a str, Box<dyn Fn() + 'a>);
        let cases: Vec<Plant> = vec![
            ("a link", Box::new(|| symlink(&victim, &path).unwrap())),
            (
                "group-writable",
                Box::new(|| {
                    fs::write(&path, &good).unwrap();
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o620)).unwrap();
                }),
            ),
            (
                "a FIFO",
                Box::new(|| {
                    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
                        .unwrap()
                }),
            ),
            (
                "too large",
                Box::new(|| {
                    let mut big = good.clone();
                    big.push_str(&"1 x\n".repeat(file::MAX_FILE_SIZE as usize / 4));
                    fs::write(&path, big).unwrap();
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
                }),
            ),
        ];
        for (what, plant) in cases {
            let _ = fs::remove_file(&path);
            plant();
            let before = fs::symlink_metadata(&path).unwrap();
            let loaded = d.open().unwrap().load().unwrap();
            let read = loaded.state.map(|s| s.transitions).unwrap_or_default();
            assert_eq!(read, [], "{what}: not read");
            run_recording(&d, 200, &["lagg0: port em0 joined"]);
            let after = fs::symlink_metadata(&path).unwrap();
            assert!(after.is_file() && after.ino() != before.ino(), "{what}: not replaced");
            assert_eq!(after.mode() & 0o777, 0o600, "{what}");
            let header = crate::run::history::HEADER;
            assert_eq!(history_text(&d), format!("{header}200 lagg0: port em0 joined\n"), "{what}");
            assert_eq!(fs::read_to_string(&victim).unwrap(), good, "{what}: written through");
        }
    }

    #[test]
    fn corrupt_state_is_ignored_not_fatal() {
        let d = dirs();
        fs::create_dir_all(&d.run).unwrap();
        fs::write(d.run.join("state"), "version = 2\nlagg = 7\n").unwrap();
        let mut store = d.open().unwrap();
        assert_eq!(store.load().unwrap().state, None);
        store.save(&sample()).unwrap();
        assert!(store.load().unwrap().state.is_some());
    }

    /// Unusable content is not an error but a reason, naming the file and
    /// the line, for the run to warn once and rebuild.
    #[test]
    fn corrupt_identities_are_reported_in_one_line_and_replaced_by_a_save() {
        let d = dirs();
        fs::create_dir_all(&d.db).unwrap();
        let cases: [(&[u8], &str); 7] = [
            (b"version = 1\n[lagg.lagg0]\nmac = 7\n", "line 3: "),
            (b"version = 2\n", "has version 2, not 1"),
            (b"\xff\xfe", "is not UTF-8 text"),
            (
                b"version = 1\n[lagg.lagg0]\nmac = \"00:00:00:00:00:00\"\n",
                "lagg0: 00:00:00:00:00:00 cannot be an identity",
            ),
            (b"version = 1\n[lagg.lagg0]\nmac = \"01:00:5e:00:00:01\"\n", "cannot be an identity"),
            (
                b"version = 1\n[lagg.lagg0]\nmac = \"00:24:d7:00:00:01\"\nprovisional = true\n",
                "must name its port",
            ),
            (b"version = 1\n[lagg.lagg0]\nmac = \"00:24:d7:00:00:01\"\ncolour = 1\n", "colour"),
        ];
        for (bytes, why) in cases {
            fs::write(d.identity(), bytes).unwrap();
            fs::set_permissions(d.identity(), fs::Permissions::from_mode(0o600)).unwrap();
            let mut store = d.open().unwrap();
            let loaded = store.load().unwrap();
            assert_eq!(loaded.macs, RememberedMacs::new());
            let reason = loaded.unreadable.unwrap_or_default();
            assert!(reason.starts_with(&d.identity().display().to_string()), "{reason}");
            assert!(reason.contains(why), "{reason:?} lacks {why:?}");
            assert_eq!(reason.lines().count(), 1, "{reason}");
            store.save_identities(&sample_macs()).unwrap();
            assert_eq!(store.load().unwrap().macs, sample_macs());
        }
    }

    /// Proves a file that is not lagghook's to read stops the run with the
    /// path and the problem, and is left as it was: not read, not
    /// replaced, so no other address is adopted behind anyone's back.
    #[test]
    fn a_hostile_identity_file_is_refused_and_left_alone() {
        let d = dirs();
        fs::create_dir_all(&d.db).unwrap();
        let victim = d.db.join("victim");
        fs::write(&victim, "version = 1\n").unwrap();
        let id = d.identity();
        // What is planted at the identity file's path, and the refusal.
        type Plant<'a> = (&'a str, Box<dyn Fn() + 'a>);
        let cases: Vec<Plant> = vec![
            ("is a symbolic link", Box::new(|| symlink(&victim, &id).unwrap())),
            (
                "is a FIFO",
                Box::new(|| {
                    nix::unistd::mkfifo(&id, nix::sys::stat::Mode::from_bits_truncate(0o600))
                        .unwrap()
                }),
            ),
            ("is a directory", Box::new(|| fs::create_dir(&id).unwrap())),
            (
                "is larger than 1 MiB",
                Box::new(|| {
                    fs::write(&id, vec![b'#'; file::MAX_FILE_SIZE as usize + 1]).unwrap();
                    fs::set_permissions(&id, fs::Permissions::from_mode(0o600)).unwrap();
                }),
            ),
            (
                "is writable by group or others (mode 0620)",
                Box::new(|| {
                    fs::write(&id, "version = 1\n").unwrap();
                    fs::set_permissions(&id, fs::Permissions::from_mode(0o620)).unwrap();
                }),
            ),
        ];
        for (why, plant) in cases {
            let _ = fs::remove_file(&id);
            let _ = fs::remove_dir(&id);
            plant();
            let before = fs::symlink_metadata(&id).unwrap();
            let err = d.open().unwrap().load().unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with(&id.display().to_string()) && text.contains(why), "{text}");
            let after = fs::symlink_metadata(&id).unwrap();
            assert_eq!((before.ino(), before.mode()), (after.ino(), after.mode()), "{why}");
            // The readers refuse it alike.
            let files = Files {
                state: d.run.join("state"),
                identity: id.clone(),
                history: d.db.join(HISTORY_FILE),
            };
            let err = FileStore::unlocked(files).load().unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
        }
        assert_eq!(fs::read_to_string(&victim).unwrap(), "version = 1\n");
    }

    /// `status` in a user's shell: the file is root's alone, so a reader
    /// that is not root is told so, and shown no salvaged guess; a run (it
    /// holds the lock, and is root on a real system) would stop instead.
    /// Root reads any file, so as root this is skipped.
    #[test]
    fn a_reader_that_may_not_read_the_identity_file_is_told_so() {
        if nix::unistd::geteuid().is_root() {
            eprintln!("skipped: root may read a file of mode 0000");
            return;
        }
        let d = dirs();
        fs::create_dir_all(&d.db).unwrap();
        fs::write(d.identity(), "version = 1\n").unwrap();
        fs::set_permissions(d.identity(), fs::Permissions::from_mode(0o000)).unwrap();
        let files = Files {
            state: d.run.join("state"),
            identity: d.identity(),
            history: d.db.join(HISTORY_FILE),
        };
        let loaded = FileStore::unlocked(files).load().unwrap();
        assert!(loaded.hidden.is_some_and(|h| h.ends_with(": Permission denied")));
        assert_eq!((loaded.macs, loaded.unreadable), (RememberedMacs::new(), None));
        assert!(d.open().unwrap().load().is_err(), "a run reads it or stops");
    }

    #[test]
    fn a_planted_db_directory_is_refused_before_the_lock() {
        let d = dirs();
        let elsewhere = d.run.with_extension("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        symlink(&elsewhere, &d.db).unwrap();
        let err = d.open().unwrap_err().to_string();
        assert!(err.ends_with("is a symbolic link, not a directory"), "{err}");
        assert!(!d.run.join("lock").exists(), "locked before the check");
        let _ = fs::remove_dir_all(elsewhere);
    }

    #[test]
    fn a_second_run_waits_a_bounded_time_for_the_lock() {
        let d = dirs();
        let _held = d.open().unwrap();
        let started = Instant::now();
        let second = d.open();
        let waited = started.elapsed();
        assert!(matches!(second, Err(StateError::Busy(_))), "{second:?}");
        // It did wait (a lock that gives up at once would let two runs
        // race), and not much longer than promised (devd waits for us).
        assert!(waited >= LOCK_WAIT, "gave up after {waited:?}");
        assert!(waited < LOCK_WAIT + Duration::from_secs(1), "waited {waited:?}");
    }

    fn dirs() -> Dirs {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let i = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let d = std::env::temp_dir().join(format!("lagghook-state-{}-{i}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Dirs { run: d.join("run"), db: d.join("db") }
    }
}
