//! What the tests that run the binary share: a scratch directory with a
//! configuration and a simulated machine, and the binary's invocation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const LAPTOP_CONFIG: &str = "[lagg0]\nports = [\"em0\", \"wlan0\"]\n";

/// em0 and a freshly re-created wlan0 (factory MAC) outside lagg0.
pub const MACHINE_WLAN_OUT: &str = include_str!("fixtures/machines/wlan-outside.toml");

pub struct Sandbox {
    pub dir: PathBuf,
}

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        let dir = std::env::temp_dir().join(format!("lagghook-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Sandbox { dir }
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Runs lagghook with `-c config.toml -k sim:kernel.toml` and syslog
    /// pointed at `log.sock` (not bound unless a test binds it).
    pub fn run(&self, args: &[&str]) -> Output {
        let mut full: Vec<String> = vec![
            "-c".into(),
            self.path("config.toml").display().to_string(),
            "-k".into(),
            format!("sim:{}", self.path("kernel.toml").display()),
        ];
        full.extend(args.iter().map(|a| a.to_string()));
        lagghook(&full, &self.path("log.sock"))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn lagghook<S: AsRef<std::ffi::OsStr>>(args: &[S], syslog: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lagghook"))
        .args(args)
        .env("LAGGHOOK_SYSLOG_SOCKET", syslog)
        .output()
        .unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
