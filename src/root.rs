//! The seam between `check` and the system's configuration files: read-only
//! access to the files under a root directory, by absolute path. The host's
//! `/` (`sys::root::HostRoot`) and a simulated machine's `[machine.files]`
//! table (`sim::SimRoot`) implement it, so `check` reads rc.conf(5),
//! wpa_supplicant.conf(5) and devd.conf(5) files the same way on both, and
//! each simulated broken laptop can carry its own. A simulated machine's
//! whole file system is that table under what `setup` wrote for it
//! (`sys::root::DirRoot`), seen as one through an [`Overlay`].
//!
//! What it owns: the questions `check` and `status` ask (what does this
//! file say, what does this directory hold, could root run this program)
//! and the error for a file that cannot be read. What it does not own: what the files mean (`check`, `devd`,
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

    /// Why root could not run the program at `path` (`lagghook-devd`, which
    /// the devd rules run), in words, or `None` if it can. A tree that
    /// keeps no modes or owners (a simulated machine's files) has a
    /// program wherever it has a file; the host's says more
    /// (`sys::file::program_problem`).
    fn program_problem(&self, path: &str) -> Option<String> {
        match self.read(path) {
            Ok(Some(_)) => None,
            Ok(None) => Some("is not installed".to_owned()),
            Err(e) => Some(e.reason),
        }
    }
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

/// Two trees seen as one, as a union mount shows them: a file in `upper`
/// hides whatever `lower` has at its path; a directory lists the names of
/// both, `upper`'s first. A simulated machine's files are its
/// `[machine.files]` (lower) under the tree `setup` wrote (upper), so what
/// `setup` changed is what every later command reads.
pub struct Overlay<'a> {
    pub upper: &'a dyn Root,
    pub lower: &'a dyn Root,
}

impl Root for Overlay<'_> {
    fn read(&self, path: &str) -> Result<Option<String>, RootError> {
        match self.upper.read(path)? {
            Some(text) => Ok(Some(text)),
            None => self.lower.read(path),
        }
    }

    fn list(&self, dir: &str) -> Result<Option<Vec<String>>, RootError> {
        // A file in upper hides a directory below it, as it hides a file.
        if let Ok(Some(_)) = self.upper.read(dir) {
            return Ok(None);
        }
        match (self.upper.list(dir)?, self.lower.list(dir)?) {
            (None, None) => Ok(None),
            (upper, lower) => {
                let mut names = upper.unwrap_or_default();
                for name in lower.unwrap_or_default() {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
                Ok(Some(names))
            }
        }
    }
}

/// `dir/name`, for a directory from [`Root::list`] and one of its names.
pub fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files by path; a directory is what has files below it.
    struct Tree(Vec<(String, String)>);

    impl Root for Tree {
        fn read(&self, path: &str) -> Result<Option<String>, RootError> {
            Ok(self.0.iter().find(|(p, _)| p == path).map(|(_, t)| t.clone()))
        }

        fn list(&self, dir: &str) -> Result<Option<Vec<String>>, RootError> {
            let prefix = format!("{dir}/");
            let mut names: Vec<String> = Vec::new();
            for (p, _) in self.0.iter().filter(|(p, _)| p.starts_with(&prefix)) {
                let name = p[prefix.len()..].split('/').next().unwrap_or_default().to_owned();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            Ok((!names.is_empty()).then_some(names))
        }
    }

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree(files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect())
    }

    /// Proves the upper tree wins where both have a file, the lower one
    /// shows through elsewhere, and directories list both.
    #[test]
    fn the_upper_tree_wins_and_directories_merge() {
        let upper = tree(&[("/etc/rc.conf", "new\n"), ("/usr/local/etc/devd/lagghook.conf", "")]);
        let lower = tree(&[
            ("/etc/rc.conf", "old\n"),
            ("/etc/devd.conf", "x\n"),
            ("/usr/local/etc/devd/vpn.conf", ""),
            ("/etc/rc.conf.d/network/a", ""),
        ]);
        let both = Overlay { upper: &upper, lower: &lower };
        assert_eq!(both.read("/etc/rc.conf").unwrap().as_deref(), Some("new\n"));
        assert_eq!(both.read("/etc/devd.conf").unwrap().as_deref(), Some("x\n"));
        assert_eq!(both.read("/etc/none").unwrap(), None);
        assert_eq!(
            both.list("/usr/local/etc/devd").unwrap(),
            Some(vec!["lagghook.conf".to_owned(), "vpn.conf".to_owned()])
        );
        assert_eq!(both.list("/nowhere").unwrap(), None);
        // A file above hides the directory below.
        let upper = tree(&[("/etc/rc.conf.d/network", "n\n")]);
        let both = Overlay { upper: &upper, lower: &lower };
        assert_eq!(both.list("/etc/rc.conf.d/network").unwrap(), None);
        assert_eq!(both.read("/etc/rc.conf.d/network").unwrap().as_deref(), Some("n\n"));
    }
}
