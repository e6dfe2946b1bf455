//! The conformance command cleans up after a signal: the jail it created
//! loses every interface but `lo0` and is removed, and it exits 128+N.
//! Played on the simulator side with a recording host (no FreeBSD, no
//! root): this binary runs itself again as the command, with a host that
//! writes each operation to a file and runs `sleep` as the harness inside
//! the jail, waits until that child runs, sends SIGTERM, and reads the
//! record. `harness = false` (Cargo.toml): the command must block signals
//! in the process's main thread, which libtest's threads would not.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lagghook::conformance::jail::{run_in_jail, Host};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const RECORD: &str = "LAGGHOOK_CLEANUP_RECORD";

/// A host that records instead of running jail(8): the jail starts with
/// lo0 alone, and the harness "inside" leaves a tap and an epair end.
struct Recording {
    path: PathBuf,
    listed: usize,
}

impl Recording {
    fn note(&self, line: &str) {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path).unwrap();
        writeln!(f, "{line}").unwrap();
    }
}

impl Host for Recording {
    fn preflight(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn create_jail(&mut self, name: &str) -> Result<(), String> {
        self.note(&format!("create {name}"));
        Ok(())
    }
    fn jail_interfaces(&mut self, _name: &str) -> Result<Vec<String>, String> {
        self.listed += 1;
        self.note("list");
        Ok(if self.listed == 1 {
            vec!["lo0".into()]
        } else {
            vec!["lo0".into(), "lhc0".into(), "lagg0".into()]
        })
    }
    fn spawn_inside(&mut self, _name: &str, _args: &[String]) -> Result<Child, String> {
        let child = Command::new("sleep").arg("30").spawn().map_err(|e| e.to_string())?;
        self.note("spawn");
        Ok(child)
    }
    fn destroy_inside(&mut self, _name: &str, ifname: &str) -> Result<(), String> {
        self.note(&format!("destroy {ifname}"));
        Ok(())
    }
    fn remove_jail(&mut self, name: &str) -> Result<(), String> {
        self.note(&format!("remove {name}"));
        Ok(())
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn main() {
    if let Some(path) = std::env::var_os(RECORD) {
        let mut host = Recording { path: PathBuf::from(path), listed: 0 };
        std::process::exit(run_in_jail(&mut host, "lagghook-conformance-test", &[]));
    }
    let dir = std::env::temp_dir().join(format!("lagghook-cleanup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("record");
    let child = Command::new(std::env::current_exe().unwrap())
        .env(RECORD, &record)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !read(&record).contains("spawn") {
        assert!(start.elapsed() < Duration::from_secs(20), "the command never ran its harness");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let got = read(&record);
    let want = "create lagghook-conformance-test\nlist\nspawn\nlist\ndestroy lhc0\ndestroy lagg0\n\
                remove lagghook-conformance-test\n";
    let code = out.status.code();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(got, want, "stderr: {stderr}");
    assert_eq!(code, Some(128 + 15), "stderr: {stderr}");
    assert!(stderr.contains("stopped by signal 15"), "{stderr}");
    // The closing line a test runner reads.
    println!("cleanup: 1 passed, 0 failed");
}
