//! The host `setup` works on: the files it reads and writes and the
//! programs it runs, behind one trait, as the kernel is behind `Kernel`.
//! [`NativeHost`] is the running system; [`SimHost`] is what `-k
//! sim:PATH` gives, a file tree under `PATH.root` and a record of the
//! commands in `PATH.commands`, so a simulated set-up never touches the
//! real system. What it does not own: deciding what to change (that is
//! `super`).
//!
//! The simulated host's files are the machine's: its `[machine.files]`
//! table under the tree below `PATH.root`, which `setup` writes and which
//! wins ([`crate::root::Overlay`]); `check` and the other commands read
//! the same.

use std::fs::DirBuilder;
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;

use crate::domain::text;
use crate::root::{Overlay, Root, RootError};
use crate::sim::SimRoot;
use crate::sys::file::{self, Links};
use crate::sys::root::{DirRoot, HostRoot};
use crate::sys::spawn;

use super::rc_vars;

/// sysrc(8), the one program that edits rc.conf files.
pub const SYSRC: &str = "/usr/sbin/sysrc";
/// service(8), to restart devd.
pub const SERVICE: &str = "/usr/sbin/service";

/// A failed read, write or command: one line naming the file or command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What `setup` needs from the system it sets up. Paths are absolute, as
/// on the running system.
pub trait Host {
    /// The text of the file at `path`, `None` if there is none.
    fn read(&mut self, path: &Path) -> Result<Option<String>, HostError>;

    /// Replaces the file at `path` with `text`, atomically, with `mode`,
    /// making its directory (mode 0755) if it is missing.
    fn write(&mut self, path: &Path, text: &str, mode: u32) -> Result<(), HostError>;

    /// Makes directory `path` (mode 0755) and those above it, if missing.
    fn make_dir(&mut self, path: &Path) -> Result<(), HostError>;

    /// Runs `argv` (an absolute program path and its arguments), without
    /// a shell; `Ok` when it exits 0.
    fn run(&mut self, argv: &[String]) -> Result<(), HostError>;

    /// Where the file `setup` knows as `path` really is, for the commands
    /// that read it afterwards (the reconcile reads the configuration).
    fn real_path(&self, path: &Path) -> Result<PathBuf, HostError>;

    /// The same files, as `check` reads them, for the verdict `setup`
    /// ends with.
    fn files(&self) -> &dyn Root;
}

/// The running system. Reads refuse what lagghook refuses of its
/// configuration (`file::read_trusted`: a file others could have written
/// tells a root process nothing); writes are atomic; programs run by
/// absolute path with a clean environment (`sys::spawn`).
#[derive(Debug, Default)]
pub struct NativeHost;

impl Host for NativeHost {
    fn read(&mut self, path: &Path) -> Result<Option<String>, HostError> {
        match file::read_trusted(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(at(path, &e)),
        }
    }

    fn write(&mut self, path: &Path, text: &str, mode: u32) -> Result<(), HostError> {
        if let Some(dir) = path.parent() {
            self.make_dir(dir)?;
        }
        file::write_atomically_mode(path, text.as_bytes(), mode).map_err(|e| at(path, &e))
    }

    fn make_dir(&mut self, path: &Path) -> Result<(), HostError> {
        DirBuilder::new().recursive(true).mode(0o755).create(path).map_err(|e| at(path, &e))
    }

    fn run(&mut self, argv: &[String]) -> Result<(), HostError> {
        let shown = shown(argv);
        let Some((program, args)) = argv.split_first() else {
            return Err(HostError("no command".into()));
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // stderr is kept for the message: sysrc and service say there why
        // they failed.
        let output = spawn::command(Path::new(program), &args)
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| HostError(format!("{shown}: {}", text::io_error(&e))))?;
        if output.status.success() {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let status = output
            .status
            .code()
            .map_or_else(|| "was killed by a signal".to_owned(), |c| format!("exited {c}"));
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(": {}", text::one_line(said, 2 * text::ECHO_MAX_CHARS))
        };
        Err(HostError(format!("{shown}: {status}{said}")))
    }

    fn real_path(&self, path: &Path) -> Result<PathBuf, HostError> {
        Ok(path.to_path_buf())
    }

    fn files(&self) -> &dyn Root {
        &HostRoot
    }
}

/// A host kept in files beside a simulated machine: every path is taken
/// below `root`, where a file that is not there is looked up in the
/// machine's own files, `lower`; a command is recorded, one line per
/// command, in `record`. sysrc is played (its edit of the file under `root`,
/// [`rc_vars::with_value`]) so that a second `setup` finds the first
/// one's work done, as on a real system; any other command is only
/// recorded.
#[derive(Debug)]
pub struct SimHost {
    root: PathBuf,
    record: PathBuf,
    files: Layers,
}

/// The machine's files under what was written below the root, as `check
/// -k sim:PATH` reads them (`cli::command`'s overlay).
#[derive(Debug)]
struct Layers {
    written: DirRoot,
    lower: SimRoot,
}

impl Root for Layers {
    fn read(&self, path: &str) -> Result<Option<String>, RootError> {
        Overlay { upper: &self.written, lower: &self.lower }.read(path)
    }

    fn list(&self, dir: &str) -> Result<Option<Vec<String>>, RootError> {
        Overlay { upper: &self.written, lower: &self.lower }.list(dir)
    }
}

impl SimHost {
    pub fn new(root: PathBuf, record: PathBuf, lower: SimRoot) -> SimHost {
        SimHost { files: Layers { written: DirRoot::new(root.clone()), lower }, root, record }
    }

    /// `path` below the root. Only plain absolute paths: a `..` could
    /// leave the root, which is the one thing this host must never do.
    fn under_root(&self, path: &Path) -> Result<PathBuf, HostError> {
        let mut out = self.root.clone();
        for (i, c) in path.components().enumerate() {
            match c {
                Component::RootDir if i == 0 => {}
                Component::Normal(part) if i > 0 => out.push(part),
                _ => {
                    return Err(HostError(format!(
                        "{}: not a plain absolute path, which a simulated host needs",
                        text::path(path)
                    )))
                }
            }
        }
        Ok(out)
    }

    /// sysrc's edit: `sysrc -f FILE NAME=VALUE …` (`NAME+=WORD` appends the
    /// word if missing) or `sysrc -f FILE -x NAME …` (every assignment of
    /// each NAME removed), the calls `setup` makes and `check`'s fixes
    /// print; each NAME is handled in turn, as sysrc's main loop does.
    fn sysrc(&mut self, args: &[String]) -> Result<(), HostError> {
        let refused = || HostError(format!("sysrc {}: not a call setup makes", args.join(" ")));
        let [flag, file, rest @ ..] = args else { return Err(refused()) };
        let (delete, names) = match rest {
            [x, names @ ..] if x == "-x" => (true, names),
            names => (false, names),
        };
        if flag != "-f" || names.is_empty() {
            return Err(refused());
        }
        let path = Path::new(file);
        let mut text = self.read(path)?.unwrap_or_default();
        for word in names {
            if delete {
                text = rc_vars::without_var(&text, word);
                continue;
            }
            let Some((name, value)) = word.split_once('=') else { return Err(refused()) };
            let (name, value) = match name.strip_suffix('+') {
                Some(name) => {
                    let before = match rc_vars::value_of(&text, name) {
                        Some(Ok(v)) => v,
                        None => String::new(),
                        Some(Err(e)) => return Err(HostError(format!("{file}: {name}: {e}"))),
                    };
                    let mut words = rc_vars::words(&before);
                    for w in rc_vars::words(value) {
                        words = rc_vars::with_word(words, &w);
                    }
                    (name, words.join(" "))
                }
                None => (name, value.to_owned()),
            };
            text = rc_vars::with_value(&text, name, &value);
        }
        self.write(path, &text, 0o644)
    }
}

impl Host for SimHost {
    fn read(&mut self, path: &Path) -> Result<Option<String>, HostError> {
        let real = self.under_root(path)?;
        match file::read_regular(&real, Links::Refuse) {
            Ok(text) => Ok(Some(text)),
            // Not written here: the machine's own file, if it has one
            // (`under_root` took only a plain absolute path).
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                let shown = path.to_string_lossy();
                self.files.lower.read(&shown).map_err(|e| HostError(e.to_string()))
            }
            Err(e) => Err(at(&real, &e)),
        }
    }

    fn write(&mut self, path: &Path, text: &str, mode: u32) -> Result<(), HostError> {
        if let Some(dir) = path.parent() {
            self.make_dir(dir)?;
        }
        let real = self.under_root(path)?;
        file::write_atomically_mode(&real, text.as_bytes(), mode).map_err(|e| at(&real, &e))
    }

    fn make_dir(&mut self, path: &Path) -> Result<(), HostError> {
        let real = self.under_root(path)?;
        DirBuilder::new().recursive(true).mode(0o755).create(&real).map_err(|e| at(&real, &e))
    }

    fn run(&mut self, argv: &[String]) -> Result<(), HostError> {
        let line = format!("{}\n", shown(argv));
        file::append_regular(&self.record, line.as_bytes(), 0o644)
            .map_err(|e| at(&self.record, &e))?;
        match argv.split_first() {
            Some((program, args)) if program == SYSRC => self.sysrc(args),
            _ => Ok(()),
        }
    }

    fn real_path(&self, path: &Path) -> Result<PathBuf, HostError> {
        self.under_root(path)
    }

    fn files(&self) -> &dyn Root {
        &self.files
    }
}

/// `argv` as sh(1) would read it back: a word with anything but plain
/// characters in single quotes, so `NAME=two words` stays one argument in
/// a record or a message.
pub fn shown(argv: &[String]) -> String {
    let word = |w: &String| {
        if rc_vars::is_plain_word(w) {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    argv.iter().map(word).collect::<Vec<_>>().join(" ")
}

fn at(path: &Path, e: &std::io::Error) -> HostError {
    HostError(format!("{}: {}", text::path(path), text::io_error(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn host(name: &str) -> (SimHost, PathBuf) {
        let d = std::env::temp_dir().join(format!("lagghook-host-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        let files = [("/etc/rc.conf.d/network".to_owned(), "a=\"0\"\n".to_owned())];
        (SimHost::new(d.join("root"), d.join("commands"), SimRoot::new(files.into())), d)
    }

    /// Proves the simulated host stays under its root: a path with `..`
    /// is refused, and what it writes lands below the root.
    #[test]
    fn the_simulated_host_never_leaves_its_root() {
        let (mut h, d) = host("root");
        let err = h.read(Path::new("/etc/../../x")).unwrap_err();
        assert!(err.0.contains("not a plain absolute path"), "{err}");
        assert!(h.read(Path::new("etc/rc.conf")).is_err(), "a relative path");
        h.write(Path::new("/etc/rc.conf"), "a=\"1\"\n", 0o644).unwrap();
        assert_eq!(fs::read_to_string(d.join("root/etc/rc.conf")).unwrap(), "a=\"1\"\n");
        assert_eq!(h.read(Path::new("/etc/rc.conf")).unwrap().as_deref(), Some("a=\"1\"\n"));
        assert_eq!(h.read(Path::new("/etc/none")).unwrap(), None);
        let _ = fs::remove_dir_all(d);
    }

    /// Proves the machine's own files show through where nothing was
    /// written, and that sysrc edits a copy of one below the root, leaving
    /// the machine file's text as it was.
    #[test]
    fn the_machines_files_show_through_until_written() {
        let (mut h, d) = host("lower");
        let network = Path::new("/etc/rc.conf.d/network");
        assert_eq!(h.read(network).unwrap().as_deref(), Some("a=\"0\"\n"));
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        h.run(&argv("/usr/sbin/sysrc -f /etc/rc.conf.d/network b=1")).unwrap();
        assert_eq!(h.read(network).unwrap().as_deref(), Some("a=\"0\"\nb=\"1\"\n"));
        assert_eq!(
            h.files.lower.read("/etc/rc.conf.d/network").unwrap().as_deref(),
            Some("a=\"0\"\n")
        );
        let _ = fs::remove_dir_all(d);
    }

    /// Proves sysrc's several assignments and `-x` are played in turn, on
    /// the file `-f` names, and that a call without `-f` is refused.
    #[test]
    fn sysrc_assigns_several_and_deletes() {
        let (mut h, d) = host("sysrc-x");
        let argv = |s: &[&str]| s.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        let network = Path::new("/etc/rc.conf.d/network");
        h.run(&argv(&["/usr/sbin/sysrc", "-f", "/etc/rc.conf.d/network", "b=x y", "c+=z"]))
            .unwrap();
        assert_eq!(h.read(network).unwrap().as_deref(), Some("a=\"0\"\nb=\"x y\"\nc=\"z\"\n"));
        h.run(&argv(&["/usr/sbin/sysrc", "-f", "/etc/rc.conf.d/network", "-x", "a", "c"])).unwrap();
        assert_eq!(h.read(network).unwrap().as_deref(), Some("b=\"x y\"\n"));
        assert!(h.run(&argv(&["/usr/sbin/sysrc", "a=1"])).is_err());
        assert!(h.run(&argv(&["/usr/sbin/sysrc", "-f", "/etc/rc.conf"])).is_err());
        let _ = fs::remove_dir_all(d);
    }

    /// Proves commands are recorded, not run, and sysrc's edit is played.
    #[test]
    fn commands_are_recorded_and_sysrc_played() {
        let (mut h, d) = host("run");
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        h.run(&argv("/usr/sbin/sysrc -f /etc/rc.conf kld_list+=if_iwn")).unwrap();
        h.run(&argv("/usr/sbin/sysrc -f /etc/rc.conf kld_list+=if_iwn")).unwrap();
        h.run(&argv("/usr/sbin/service devd restart")).unwrap();
        assert_eq!(
            h.read(Path::new("/etc/rc.conf")).unwrap().as_deref(),
            Some("kld_list=\"if_iwn\"\n")
        );
        assert_eq!(
            fs::read_to_string(d.join("commands")).unwrap(),
            "/usr/sbin/sysrc -f /etc/rc.conf kld_list+=if_iwn\n\
             /usr/sbin/sysrc -f /etc/rc.conf kld_list+=if_iwn\n\
             /usr/sbin/service devd restart\n"
        );
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn arguments_are_shown_as_sh_reads_them() {
        let argv = ["/usr/sbin/sysrc", "-f", "/etc/rc.conf", "a=b c", "it's"];
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        assert_eq!(shown(&argv), "/usr/sbin/sysrc -f /etc/rc.conf 'a=b c' 'it'\\''s'");
    }

    /// Proves a failing program's own words reach the message, on one line.
    #[test]
    fn a_failed_command_says_how_and_why() {
        let err = NativeHost
            .run(&["/bin/sh".to_owned(), "-c".to_owned(), "echo nope >&2; exit 3".to_owned()])
            .unwrap_err();
        assert_eq!(err.0, "/bin/sh -c 'echo nope >&2; exit 3': exited 3: nope");
        let err = NativeHost.run(&["/nonexistent/sysrc".to_owned()]).unwrap_err();
        assert_eq!(err.0, "/nonexistent/sysrc: No such file or directory");
    }
}
