//! A simulated machine's files, as `check` reads them ([`Root`]): the
//! machine file's `[machine.files]` table, absolute path → text.
//!
//! What it owns: paths (absolute, no `.`/`..` part, no empty part) and
//! directories, which are implied: `/etc/devd/a.conf` makes `/etc/devd` a
//! directory that lists `a.conf`. A directory lists its names in name
//! order, which stands for readdir(3)'s order: devd reads a directory in
//! that order, which on the host is whatever the file system gives, so
//! nothing may depend on it (`check` says so where it matters). What it
//! does not own: what the files mean.

use std::collections::BTreeMap;

use crate::root::{Root, RootError};

/// The files of a simulated machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimRoot {
    files: BTreeMap<String, String>,
}

impl SimRoot {
    /// A tree of `files` (absolute path → text), as `[machine.files]`
    /// holds them.
    pub fn new(files: BTreeMap<String, String>) -> SimRoot {
        SimRoot { files }
    }

    /// A machine without files: one whose installation is not modelled.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl Root for SimRoot {
    fn read(&self, path: &str) -> Result<Option<String>, RootError> {
        if let Some(text) = self.files.get(path) {
            return Ok(Some(text.clone()));
        }
        // As `sys::file` refuses a directory where a file is wanted.
        if self.list(path)?.is_some() {
            return Err(RootError {
                path: path.to_owned(),
                reason: "is a directory, not a regular file".into(),
            });
        }
        Ok(None)
    }

    fn list(&self, dir: &str) -> Result<Option<Vec<String>>, RootError> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let mut names: Vec<String> = Vec::new();
        for path in self.files.keys().filter(|p| p.starts_with(&prefix)) {
            let rest = &path[prefix.len()..];
            let name = rest.split('/').next().unwrap_or(rest);
            if names.last().map(String::as_str) != Some(name) {
                names.push(name.to_owned());
            }
        }
        Ok((!names.is_empty()).then_some(names))
    }
}

/// Why `path` cannot be a key of `[machine.files]`, if it cannot.
pub(super) fn bad_path(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("not an absolute path");
    }
    if path.len() == 1 || path.ends_with('/') {
        return Some("names a directory, not a file");
    }
    if path[1..].split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Some("has an empty, . or .. part");
    }
    if path.chars().any(char::is_control) {
        return Some("has a control character");
    }
    None
}

/// A path that is a file and, by the files under it, a directory too.
pub(super) fn file_and_directory(files: &BTreeMap<String, String>) -> Option<&str> {
    files
        .keys()
        .find(|p| files.keys().any(|q| q.len() > p.len() + 1 && q.starts_with(&format!("{p}/"))))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(files: &[(&str, &str)]) -> SimRoot {
        SimRoot::new(files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect())
    }

    #[test]
    fn files_imply_their_directories() {
        let r = root(&[
            ("/etc/rc.conf", "x=1\n"),
            ("/etc/devd/b.conf", ""),
            ("/etc/devd/a.conf", ""),
            ("/etc/rc.conf.d/kld/local", ""),
        ]);
        assert_eq!(r.read("/etc/rc.conf").unwrap().as_deref(), Some("x=1\n"));
        assert_eq!(r.read("/etc/nope").unwrap(), None);
        assert_eq!(r.list("/etc/devd").unwrap(), Some(vec!["a.conf".into(), "b.conf".into()]));
        assert_eq!(r.list("/etc/rc.conf.d").unwrap(), Some(vec!["kld".into()]));
        assert_eq!(r.list("/etc/rc.conf").unwrap(), None, "a file is no directory");
        assert_eq!(r.list("/usr/local/etc/devd").unwrap(), None);
        let err = r.read("/etc/devd").unwrap_err();
        assert_eq!(err.to_string(), "/etc/devd: is a directory, not a regular file");
    }

    #[test]
    fn paths_must_be_absolute_and_plain() {
        for bad in ["etc/rc.conf", "/", "/etc/", "/etc//rc.conf", "/etc/../rc.conf", "/a/./b"] {
            assert!(bad_path(bad).is_some(), "{bad}");
        }
        assert_eq!(bad_path("/etc/rc.conf.d/network"), None);
        let files = |p: &[&str]| p.iter().map(|p| (p.to_string(), String::new())).collect();
        assert_eq!(file_and_directory(&files(&["/etc/a", "/etc/a/b"])), Some("/etc/a"));
        assert_eq!(file_and_directory(&files(&["/etc/a", "/etc/ab"])), None);
    }
}
