//! [`Root`] for the host's own files, under `/`: what `check` reads of
//! rc.conf(5), wpa_supplicant.conf(5) and devd.conf(5).
//!
//! Files are read as `sys::file` reads lagghook's own: opened
//! `O_NONBLOCK`, only if regular, at most `MAX_FILE_SIZE` bytes, so a FIFO
//! or a device planted in `/usr/local/etc/devd` cannot hang `check`. A
//! symbolic link is followed: rc's `.` and devd's `fopen` follow it, and
//! `check` must read what they read; it only reads, so a link cannot make
//! it write anywhere.

use std::io::ErrorKind;
use std::path::Path;

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
}
