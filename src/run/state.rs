//! What lagghook remembers between runs, in `/var/run/lagghook/state`
//! (lost at reboot, on purpose: `/var/run` is cleared by rc, and the kernel
//! is the truth anyway): the last observed topology of each lagg, when it
//! went offline, the identity MACs of absent ports, and the last
//! transitions for `status`. Written atomically (temp file + rename); a
//! missing or corrupt file is rebuilt, never fatal. A lock file with a
//! bounded wait serialises concurrent runs (devd and an administrator).
//!
//! The directory is root's alone (0700), the lock and state files 0600 and
//! never opened through a link (see [`crate::sys::file`]): a user who could
//! open the lock could hold it and stall every repair.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::domain::model::{IfName, MacAddr};
use crate::domain::plan::RememberedMacs;
use crate::domain::transition::LaggView;
use crate::sys::file::{self, Links};

/// Where the real backend keeps its state.
pub const DEFAULT_DIR: &str = "/var/run/lagghook";
/// How many transitions `status` can show.
pub const KEEP_TRANSITIONS: usize = 20;
/// devd waits for every action it runs, so a run never waits long for
/// another: after this, it gives up with exit status 3.
pub const LOCK_WAIT: Duration = Duration::from_secs(2);

/// The remembered state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    /// Last observed view of each configured lagg (`None`: it did not exist).
    pub laggs: BTreeMap<IfName, Option<LaggView>>,
    /// Unix time each offline lagg went offline.
    pub offline_since: BTreeMap<IfName, u64>,
    pub macs: RememberedMacs,
    /// Oldest first.
    pub transitions: Vec<Transition>,
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
                let record = match view {
                    None => LaggRecord { present: false, offline_since, ..LaggRecord::default() },
                    Some(v) => LaggRecord {
                        present: true,
                        ports: v.ports.clone(),
                        primary: v.primary.clone(),
                        active: v.active.clone(),
                        mac: Some(v.mac),
                        offline_since,
                    },
                };
                (name.clone(), record)
            })
            .collect();
        StateFile {
            version: FORMAT_VERSION,
            lagg,
            mac: self.macs.clone(),
            transition: self.transitions.clone(),
        }
    }

    fn from_file(file: StateFile) -> Option<State> {
        if file.version != FORMAT_VERSION {
            return None;
        }
        let mut state = State { transitions: file.transition, macs: file.mac, ..State::default() };
        for (name, rec) in file.lagg {
            if let Some(t) = rec.offline_since {
                state.offline_since.insert(name.clone(), t);
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

const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    #[serde(default)]
    lagg: BTreeMap<IfName, LaggRecord>,
    #[serde(default)]
    mac: BTreeMap<IfName, MacAddr>,
    #[serde(default)]
    transition: Vec<Transition>,
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
            StateError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for StateError {}

/// Where state lives.
pub trait StateStore {
    /// The remembered state; a missing or unreadable one is `None`.
    fn load(&mut self) -> Option<State>;
    fn save(&mut self, state: &State) -> Result<(), StateError>;
}

/// State kept in memory: the scenario runner's, and `-n` runs'.
#[derive(Debug, Default)]
pub struct MemoryStore {
    pub state: Option<State>,
}

impl MemoryStore {
    /// A reboot: /var/run is emptied. Everything this store keeps lives
    /// there for now; the identity split (volatile /var/run, persistent
    /// /var/db) replaces this with a reboot that keeps the /var/db part.
    pub fn reboot(&mut self) {
        self.state = None;
    }
}

impl StateStore for MemoryStore {
    fn load(&mut self) -> Option<State> {
        self.state.clone()
    }
    fn save(&mut self, state: &State) -> Result<(), StateError> {
        self.state = Some(state.clone());
        Ok(())
    }
}

/// State in a file, guarded by an exclusive lock held for the store's life.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    /// Held until the store is dropped; `None` for a read-only look.
    _lock: Option<Flock<File>>,
}

impl FileStore {
    /// `DIR/state` under the lock `DIR/lock`; DIR is made private to its
    /// owner (mode 0700), or refused if it is not ours.
    pub fn open_dir(dir: &Path) -> Result<FileStore, StateError> {
        file::private_dir(dir).map_err(|e| StateError::Io(dir.to_path_buf(), e))?;
        FileStore::open(&dir.join("lock"), &dir.join("state"))
    }

    /// `path` under the lock `lock`.
    pub fn open(lock: &Path, path: &Path) -> Result<FileStore, StateError> {
        let lock = lock_bounded(lock)?;
        Ok(FileStore { path: path.to_path_buf(), _lock: Some(lock) })
    }

    /// `path` without the lock: only for reading (`status`, `check`, `-n`),
    /// where a torn read is impossible anyway thanks to the atomic rename.
    pub fn unlocked(path: &Path) -> FileStore {
        FileStore { path: path.to_path_buf(), _lock: None }
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
    fn load(&mut self) -> Option<State> {
        let text = file::read_regular(&self.path, Links::Refuse).ok()?;
        let file: StateFile = toml::from_str(&text).ok()?;
        State::from_file(file)
    }

    fn save(&mut self, state: &State) -> Result<(), StateError> {
        let text = toml::to_string(&state.to_file())
            .map_err(|e| StateError::Io(self.path.clone(), io::Error::other(e)))?;
        file::write_atomically(&self.path, text.as_bytes())
            .map_err(|e| StateError::Io(self.path.clone(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn sample() -> State {
        let mut s = State::default();
        s.laggs.insert(
            n("lagg0"),
            Some(LaggView {
                ports: vec![n("em0"), n("wlan0")],
                primary: Some(n("em0")),
                active: None,
                mac: "00:11:22:33:44:55".parse().unwrap(),
            }),
        );
        s.laggs.insert(n("lagg1"), None);
        s.offline_since.insert(n("lagg0"), 1700000000);
        s.macs.insert(n("em0"), "00:11:22:33:44:55".parse().unwrap());
        for i in 0..25 {
            s.record(i, format!("line {i}"));
        }
        s
    }

    #[test]
    fn state_round_trips_through_its_file_and_keeps_the_last_transitions() {
        let dir = tempdir();
        let mut store = FileStore::open_dir(&dir).unwrap();
        assert_eq!(store.load(), None);
        let s = sample();
        assert_eq!(s.transitions.len(), KEEP_TRANSITIONS);
        assert_eq!(s.transitions[0].line, "line 5");
        store.save(&s).unwrap();
        assert_eq!(store.load(), Some(s));
    }

    #[test]
    fn corrupt_state_is_ignored_not_fatal() {
        let dir = tempdir();
        fs::write(dir.join("state"), "version = 1\nlagg = 7\n").unwrap();
        let mut store = FileStore::open_dir(&dir).unwrap();
        assert_eq!(store.load(), None);
        store.save(&sample()).unwrap();
        assert!(store.load().is_some());
    }

    #[test]
    fn a_second_run_waits_a_bounded_time_for_the_lock() {
        let dir = tempdir();
        let _held = FileStore::open_dir(&dir).unwrap();
        let started = Instant::now();
        let second = FileStore::open_dir(&dir);
        let waited = started.elapsed();
        assert!(matches!(second, Err(StateError::Busy(_))), "{second:?}");
        // It did wait (a lock that gives up at once would let two runs
        // race), and not much longer than promised (devd waits for us).
        assert!(waited >= LOCK_WAIT, "gave up after {waited:?}");
        assert!(waited < LOCK_WAIT + Duration::from_secs(1), "waited {waited:?}");
    }

    fn tempdir() -> PathBuf {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let i = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let d = std::env::temp_dir().join(format!("lagghook-state-{}-{i}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }
}
