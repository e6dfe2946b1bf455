//! What the tests that run the binary share: a scratch directory with a
//! configuration and a simulated machine, and the binary's invocation.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

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

    /// A sandbox holding [`LAPTOP_CONFIG`] and [`MACHINE_WLAN_OUT`]: the
    /// laptop right after a WiFi card reset, which a run repairs.
    pub fn laptop(name: &str) -> Sandbox {
        let sb = Sandbox::new(name);
        sb.write("config.toml", LAPTOP_CONFIG);
        sb.write("kernel.toml", MACHINE_WLAN_OUT);
        sb
    }

    /// lagghook with `-c config.toml -k sim:kernel.toml` before `args` and
    /// syslog pointed at `log.sock` (not bound unless a test binds it),
    /// for a test to adjust and start.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lagghook"));
        command
            .arg("-c")
            .arg(self.path("config.toml"))
            .arg("-k")
            .arg(format!("sim:{}", self.path("kernel.toml").display()))
            .args(args)
            .env("LAGGHOOK_SYSLOG_SOCKET", self.path("log.sock"));
        command
    }

    /// [`Sandbox::command`], run to its end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

/// Waits for `child` at most `limit`; a child still running then is
/// killed and `None` returned, so a hang fails one assertion instead of
/// the whole test run.
pub fn finish_within(mut child: Child, limit: Duration) -> Option<Output> {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Some(child.wait_with_output().unwrap())
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
