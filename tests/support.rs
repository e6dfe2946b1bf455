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
        self.command_of(env!("CARGO_BIN_EXE_lagghook"), args)
    }

    /// [`Sandbox::command`] with `program` instead of lagghook (such as
    /// lagghook-devd).
    pub fn command_of(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .arg("-c")
            .arg(self.path("config.toml"))
            .arg("-k")
            .arg(format!("sim:{}", self.path("kernel.toml").display()))
            .args(args)
            .env("LAGGHOOK_SYSLOG_SOCKET", self.path("log.sock"));
        command
    }

    /// [`Sandbox::command`], run to its end; its messages are checked
    /// for Rust artefacts ([`assert_plain`]).
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        assert_plain(&stderr(&out));
        out
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
    let out = Command::new(env!("CARGO_BIN_EXE_lagghook"))
        .args(args)
        .env("LAGGHOOK_SYSLOG_SOCKET", syslog)
        .output()
        .unwrap();
    assert_plain(&stderr(&out));
    out
}

/// Phrases no message of lagghook's may hold (issue 16, point 12), each
/// with what to say instead. [`rust_artefacts`] looks for them in what
/// runs print, and `tests/messages.rs` in every string literal of src/.
pub const BANNED_PHRASES: &[(&str, &str)] = &[
    ("os error", "std's \" (os error N)\": say the error in words (\"Permission denied\")"),
    ("(while: ", "a failed change is `CHANGE failed: WHY`, which names its subject once"),
    ("re-applied", "an address lagghook sets is \"set\", the first time as the later ones"),
    ("after 0s", "back within the second it went offline: no duration"),
];

/// What in `messages` (lagghook's error and log lines) betrays the Rust
/// underneath rather than speaking to an administrator (issue 10, point
/// 10): std's " (os error N)", a path quoted as `{:?}` prints it
/// (`"/etc/x"`), the same path twice on a line (`/x: /x: …`), and a
/// count without its plural (`1 steps`) or with a `(s)`. Empty when
/// clean.
pub fn rust_artefacts(messages: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in messages.lines() {
        for (phrase, instead) in BANNED_PHRASES {
            if line.contains(phrase) {
                found.push(format!("{phrase:?} in {line:?}: {instead}"));
            }
        }
        if line.contains("\"/") || line.contains("\\\"") {
            found.push(format!("a Debug-quoted path or escaped quote in {line:?}"));
        }
        let paths: Vec<&str> = line
            .split_whitespace()
            .map(|w| w.trim_end_matches([':', ',', ';', ')', '.']))
            .filter(|w| w.len() > 1 && w.starts_with('/'))
            .collect();
        for (i, p) in paths.iter().enumerate() {
            if paths[i + 1..].contains(p) {
                found.push(format!("{p} twice in {line:?}"));
            }
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            let plural = ["steps", "changes", "problems", "rounds", "seconds", "expectations"];
            if pair[0] == "1" && plural.contains(&pair[1].trim_end_matches([',', '.', ';'])) {
                found.push(format!("\"1 {}\" in {line:?}", pair[1]));
            }
        }
        if line.contains("(s)") {
            found.push(format!("a \"(s)\" plural in {line:?}"));
        }
    }
    found
}

/// Fails the test if [`rust_artefacts`] finds anything in `messages`.
pub fn assert_plain(messages: &str) {
    let found = rust_artefacts(messages);
    assert!(found.is_empty(), "messages with Rust artefacts:\n{}", found.join("\n"));
}

/// Every `.rs` file below `dir`, in path order.
pub fn rust_files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
