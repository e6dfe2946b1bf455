//! The seam between `check` and the system's configuration files: read-only
//! access to the files under a root directory, by absolute path. The host's
//! `/` (`sys::root::HostRoot`) and a simulated machine's `[machine.files]`
//! table (`sim::SimRoot`) implement it, so `check` reads rc.conf(5),
//! wpa_supplicant.conf(5) and devd.conf(5) files the same way on both, and
//! each simulated broken laptop can carry its own.
//!
//! What it owns: the two questions `check` asks (what does this file say,
//! what does this directory hold) and the error for a file that cannot be
//! read. What it does not own: what the files mean (`check`, `devd`,
//! `domain::rc_vars`), or any file lagghook writes (`sys::file`).

use std::fmt;

/// Read-only access to a file tree, by absolute path (`/etc/rc.conf`).
pub trait Root {
    /// The text of the regular file at `path`; `Ok(None)` when nothing is
    /// there. Anything else there (a directory, a FIFO, a device, a file
    /// that is too large or not UTF-8, one that cannot be read) is an
    /// error.
    fn read(&self, path: &str) -> Result<Option<String>, RootError>;

    /// The names of the entries of directory `dir`, in the order the
    /// directory gives them (readdir(3) order on the host); `Ok(None)` when
    /// `dir` is missing or not a directory.
    fn list(&self, dir: &str) -> Result<Option<Vec<String>>, RootError>;
}

/// A file or directory that is there but cannot be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootError {
    pub path: String,
    /// In words, as `sys::file` says it ("is a FIFO, not a regular file").
    pub reason: String,
}

impl fmt::Display for RootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

impl std::error::Error for RootError {}

/// `dir/name`, for a directory from [`Root::list`] and one of its names.
pub fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}
