//! [`Root`] for the host's own files, under `/`: what `check` reads of
//! rc.conf(5), wpa_supplicant.conf(5) and devd.conf(5); and [`DirRoot`],
//! the files below one directory, which is what a simulated machine's
//! `PATH.root` holds (what `setup -k sim:PATH` wrote for it).
//!
//! Files are read as `sys::file` reads lagghook's own: opened
//! `O_NONBLOCK`, only if regular, at most `MAX_FILE_SIZE` bytes, so a FIFO
//! or a device planted in `/usr/local/etc/devd` cannot hang `check`. A
//! symbolic link is followed: rc's `.` and devd's `fopen` follow it, and
//! `check` must read what they read; it only reads, so a link cannot make
//! it write anywhere.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use crate::root::{Root, RootError};
use crate::sys::file::{self, Links};

/// The host's files.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostRoot;

impl Root for HostRoot {
    fn read(&self, path: &str) -> Result<Option<String>, RootError> {
        match file::read_regular(Path::new(path), Links::Follow) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RootError { path: path.to_owned(), reason: reason(&e) }),
        }
    }

    fn list(&self, dir: &str) -> Result<Option<Vec<String>>, RootError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return Ok(None)
            }
            Err(e) => return Err(RootError { path: dir.to_owned(), reason: reason(&e) }),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| RootError { path: dir.to_owned(), reason: reason(&e) })?;
            // A name that is not UTF-8 is no `.conf` file devd or rc would
            // be told about by lagghook's messages; it is shown escaped.
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        Ok(Some(names))
    }

    fn program_problem(&self, path: &str) -> Option<String> {
        file::program_problem(Path::new(path))
    }
}

/// The files below a directory, each by the absolute path it has on the
/// machine the directory stands for: `/etc/rc.conf` is `DIR/etc/rc.conf`.
/// A link that is the file or directory asked for is not followed (the
/// tree stands for another machine, and a link in it would lead into this
/// one; the tree is the user's own, so links on the way to it are not
/// looked for), and a path with a `..` is refused. A directory that
/// does not exist is an empty tree.
#[derive(Debug, Clone)]
pub struct DirRoot {
    dir: PathBuf,
}

impl DirRoot {
    pub fn new(dir: PathBuf) -> DirRoot {
        DirRoot { dir }
    }

    /// Where `path` is below the directory.
    fn below(&self, path: &str) -> Result<PathBuf, RootError> {
        let mut out = self.dir.clone();
        for (i, c) in Path::new(path).components().enumerate() {
            match c {
                Component::RootDir if i == 0 => {}
                Component::Normal(part) if i > 0 => out.push(part),
                _ => {
                    return Err(RootError {
                        path: path.to_owned(),
                        reason: "not a plain absolute path".into(),
                    })
                }
            }
        }
        Ok(out)
    }
}

impl Root for DirRoot {
    fn read(&self, path: &str) -> Result<Option<String>, RootError> {
        match file::read_regular(&self.below(path)?, Links::Refuse) {
            Ok(text) => Ok(Some(text)),
            // A file where a directory of the path should be: nothing there.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                Ok(None)
            }
            Err(e) => Err(RootError { path: path.to_owned(), reason: reason(&e) }),
        }
    }

    fn list(&self, dir: &str) -> Result<Option<Vec<String>>, RootError> {
        let real = self.below(dir)?;
        match std::fs::symlink_metadata(&real) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(RootError {
                    path: dir.to_owned(),
                    reason: "is a symbolic link, which is not followed here".into(),
                })
            }
            _ => return Ok(None),
        }
        HostRoot.list(&real.to_string_lossy()).map_err(|e| RootError { path: dir.to_owned(), ..e })
    }
}

/// An OS error in words, without std's " (os error N)".
fn reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_lists_directories_and_says_none_for_what_is_missing() {
        let d = std::env::temp_dir().join(format!("lagghook-root-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("devd")).unwrap();
        std::fs::write(d.join("devd/a.conf"), "notify 0 { };\n").unwrap();
        let root = HostRoot;
        let dir = d.to_str().unwrap();
        let a = format!("{dir}/devd/a.conf");
        assert_eq!(root.read(&a).unwrap().as_deref(), Some("notify 0 { };\n"));
        assert_eq!(root.read(&format!("{dir}/nope")).unwrap(), None);
        assert_eq!(root.list(&format!("{dir}/devd")).unwrap(), Some(vec!["a.conf".to_owned()]));
        assert_eq!(root.list(&format!("{dir}/nope")).unwrap(), None);
        assert_eq!(root.list(&a).unwrap(), None, "a file is no directory");
        let err = root.read(&format!("{dir}/devd")).unwrap_err();
        assert_eq!(err.to_string(), format!("{dir}/devd: is a directory, not a regular file"));
        let err = root.read("/dev/null").unwrap_err();
        assert_eq!(err.reason, "is a character device, not a regular file");
        let _ = std::fs::remove_dir_all(&d);
    }

    /// Proves a directory's tree is read by the paths its files stand for,
    /// and that neither a `..` nor a link leads out of it.
    #[test]
    fn a_directory_tree_is_read_by_absolute_paths_and_never_left() {
        let d = std::env::temp_dir().join(format!("lagghook-dirroot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("etc/devd")).unwrap();
        std::fs::write(d.join("etc/rc.conf"), "a=\"1\"\n").unwrap();
        std::os::unix::fs::symlink("/etc", d.join("linked")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.join("etc/hostname")).unwrap();
        let root = DirRoot::new(d.clone());
        assert_eq!(root.read("/etc/rc.conf").unwrap().as_deref(), Some("a=\"1\"\n"));
        assert_eq!(root.read("/etc/none").unwrap(), None);
        assert_eq!(root.read("/etc/rc.conf/x").unwrap(), None);
        assert_eq!(
            root.list("/etc").unwrap().map(|mut v| {
                v.sort();
                v
            }),
            Some(vec!["devd".to_owned(), "hostname".to_owned(), "rc.conf".to_owned()])
        );
        assert_eq!(root.list("/usr/local/etc/devd").unwrap(), None);
        assert!(root.read("/etc/../../etc/passwd").is_err());
        assert!(root.read("/etc/hostname").is_err(), "a link is not followed");
        assert!(root.list("/linked").is_err(), "a link is not followed");
        assert_eq!(DirRoot::new(d.join("none")).read("/etc/rc.conf").unwrap(), None);
        let _ = std::fs::remove_dir_all(&d);
    }
}
