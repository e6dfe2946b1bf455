//! The conformance command cleans up after a signal: the jail it created
//! loses every interface but `lo0` and is removed, and it exits 128+N;
//! with the host-wide part (`--disposable-host`), a signal during that
//! part, or its failure, still ends with the host's side cleaned and the
//! host's devd started again.
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

use lagghook::conformance::jail::{exit, run, run_in_jail, Host, Stopper};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const RECORD: &str = "LAGGHOOK_CLEANUP_RECORD";
const MODE: &str = "LAGGHOOK_CLEANUP_MODE";

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
    fn host_preflight(&mut self) -> Result<(), String> {
        self.note("host preflight");
        Ok(())
    }
    fn stop_devd(&mut self) -> Result<bool, String> {
        self.note("stop devd");
        Ok(true)
    }
    fn start_devd(&mut self) -> Result<(), String> {
        self.note("start devd");
        Ok(())
    }
    fn clean_host(&mut self) -> Vec<String> {
        self.note("clean host");
        Vec::new()
    }
}

/// The jail's harness ends at once (`true`), for the host-wide runs.
struct Quick(Recording);

impl Host for Quick {
    fn preflight(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn create_jail(&mut self, name: &str) -> Result<(), String> {
        self.0.create_jail(name)
    }
    fn jail_interfaces(&mut self, _name: &str) -> Result<Vec<String>, String> {
        self.0.note("list");
        Ok(vec!["lo0".into()])
    }
    fn spawn_inside(&mut self, _name: &str, _args: &[String]) -> Result<Child, String> {
        self.0.note("spawn");
        Command::new("true").spawn().map_err(|e| e.to_string())
    }
    fn destroy_inside(&mut self, name: &str, ifname: &str) -> Result<(), String> {
        self.0.destroy_inside(name, ifname)
    }
    fn remove_jail(&mut self, name: &str) -> Result<(), String> {
        self.0.remove_jail(name)
    }
    fn host_preflight(&mut self) -> Result<(), String> {
        self.0.host_preflight()
    }
    fn stop_devd(&mut self) -> Result<bool, String> {
        self.0.stop_devd()
    }
    fn start_devd(&mut self) -> Result<(), String> {
        self.0.start_devd()
    }
    fn clean_host(&mut self) -> Vec<String> {
        self.0.clean_host()
    }
}

/// The command with a host-wide part that waits for a signal (`wait`) or
/// fails at once.
fn host_part_run(path: PathBuf, wait: bool) -> i32 {
    let mut host = Quick(Recording { path: path.clone(), listed: 0 });
    let mut part = |stopper: &Stopper| {
        let note = Recording { path: path.clone(), listed: 0 };
        note.note("host part");
        if !wait {
            return exit::FAILED;
        }
        let start = Instant::now();
        while stopper.caught() == 0 && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
        exit::SAME
    };
    run(&mut host, "lagghook-conformance-test", &[], Some(&mut part))
}

/// Runs this binary as the command in `mode`, signalling it with SIGTERM
/// once its record shows `signal_at` (if any); its record, stderr and
/// exit code.
fn command_run(dir: &Path, mode: &str, signal_at: Option<&str>) -> (String, String, Option<i32>) {
    let record = dir.join(format!("record-{mode}"));
    let child = Command::new(std::env::current_exe().unwrap())
        .env(RECORD, &record)
        .env(MODE, mode)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(line) = signal_at {
        let start = Instant::now();
        while !read(&record).contains(line) {
            assert!(start.elapsed() < Duration::from_secs(20), "{mode}: never reached {line}");
            std::thread::sleep(Duration::from_millis(20));
        }
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (read(&record), String::from_utf8_lossy(&out.stderr).into_owned(), out.status.code())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn main() {
    if let Some(path) = std::env::var_os(RECORD) {
        let path = PathBuf::from(path);
        let mode = std::env::var(MODE).unwrap_or_default();
        std::process::exit(match mode.as_str() {
            "host-signal" => host_part_run(path, true),
            "host-fails" => host_part_run(path, false),
            _ => run_in_jail(&mut Recording { path, listed: 0 }, "lagghook-conformance-test", &[]),
        });
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

    // The host-wide part: refused first, devd stopped only after the
    // jail's part, then the part, the host cleaned, devd started again,
    // whether a signal stopped the part or it failed.
    let dir = std::env::temp_dir().join(format!("lagghook-cleanup-host-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let want = "host preflight\ncreate lagghook-conformance-test\nlist\nspawn\nlist\n\
                remove lagghook-conformance-test\nstop devd\nhost part\nclean host\nstart devd\n";
    let (got, stderr, code) = command_run(&dir, "host-signal", Some("host part"));
    assert_eq!(got, want, "stderr: {stderr}");
    assert_eq!(code, Some(128 + 15), "stderr: {stderr}");
    assert!(stderr.contains("its devd started again"), "{stderr}");
    let (got, stderr, code) = command_run(&dir, "host-fails", None);
    assert_eq!(got, want, "stderr: {stderr}");
    assert_eq!(code, Some(70), "stderr: {stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
    // The closing line a test runner reads.
    println!("cleanup: 3 passed, 0 failed");
}
