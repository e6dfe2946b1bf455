//! What a FreeBSD administrator installs, against the sources it comes
//! from: the rc.d script run through a stub rc.subr.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lagghook::cli::args::{self, Command as CliCommand};

use crate::support::Sandbox;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// rc.d/lagghook made runnable here: the stub rc.subr sourced instead of
/// /etc/rc.subr, and `prefix` instead of /usr/local, where the stub
/// lagghook that records its arguments is installed.
struct RcScript {
    sb: Sandbox,
    script: PathBuf,
}

impl RcScript {
    fn new(name: &str) -> RcScript {
        let sb = Sandbox::new(name);
        let prefix = sb.path("prefix");
        std::fs::create_dir_all(prefix.join("sbin")).unwrap();
        let stub = prefix.join("sbin/lagghook");
        std::fs::copy(root().join("tests/fixtures/rc/lagghook"), &stub).unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let source = read("rc.d/lagghook");
        assert_eq!(source.matches("\n. /etc/rc.subr\n").count(), 1, "sources rc.subr once");
        let text = source
            .replace(
                "\n. /etc/rc.subr\n",
                &format!("\n. {}\n", root().join("tests/fixtures/rc/rc.subr").display()),
            )
            .replace("/usr/local", &prefix.to_string_lossy());
        let script = sb.write("lagghook.rc", &text);
        sb.write("rc.conf", "");
        RcScript { sb, script }
    }

    fn rc_conf(&self, text: &str) {
        self.sb.write("rc.conf", text);
    }

    /// Runs `sh script arg` as rc and service(8) do; returns its exit
    /// status, its output, and the lagghook command lines it ran.
    fn run(&self, arg: &str) -> (Option<i32>, String, Vec<Vec<String>>) {
        let log = self.sb.path("argv.log");
        let _ = std::fs::remove_file(&log);
        let out = Command::new("/bin/sh")
            .arg(&self.script)
            .arg(arg)
            .env("STUB_RC_CONF", self.sb.path("rc.conf"))
            .env("STUB_RC_VARS", self.sb.path("rc.vars"))
            .env("STUB_ARGV_LOG", &log)
            .env_remove("flags")
            .output()
            .unwrap();
        let runs = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .split_terminator("\n\n")
            .map(|run| run.lines().map(str::to_owned).collect())
            .collect();
        (out.status.code(), text(&out), runs)
    }
}

fn reconcile() -> Vec<Vec<String>> {
    vec![vec!["reconcile".to_owned()]]
}

/// Proves the rc.d script is a one-shot: enabled, `start` (also as
/// `faststart` at boot and `restart`) and `resume` (what rc.resume runs)
/// each run `lagghook reconcile` once, `stop` runs nothing, and the script
/// names no process, pidfile or procname that rc could wait for.
#[test]
fn rc_script_runs_one_reconcile_on_start_and_resume() {
    let rc = RcScript::new("rc-enabled");
    rc.rc_conf("lagghook_enable=\"YES\"\n");
    for arg in ["start", "faststart", "resume", "restart"] {
        let (code, output, runs) = rc.run(arg);
        assert_eq!(code, Some(0), "{arg}: {output}");
        assert_eq!(runs, reconcile(), "{arg}: {output}");
        let inv = args::parse(runs[0].iter().cloned()).unwrap();
        assert_eq!(inv.command, CliCommand::Reconcile, "{arg}: not a command lagghook takes");
    }
    let (code, output, runs) = rc.run("stop");
    assert_eq!((code, runs), (Some(0), vec![]), "stop: {output}");
    let vars = std::fs::read_to_string(rc.sb.path("rc.vars")).unwrap();
    assert_eq!(vars.trim(), "command= procname= pidfile=", "nothing stays running");
    // No process means no status directive (rc.subr offers it only with
    // a command or procname).
    let (code, _, runs) = rc.run("status");
    assert_ne!(code, Some(0));
    assert!(runs.is_empty());
}

/// Proves lagghook_flags reaches the command line, before `reconcile`.
#[test]
fn rc_script_passes_lagghook_flags() {
    let rc = RcScript::new("rc-flags");
    rc.rc_conf("lagghook_enable=YES\nlagghook_flags=\"-v -c /etc/lh.toml\"\n");
    let (code, output, runs) = rc.run("resume");
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(runs, vec![vec!["-v", "-c", "/etc/lh.toml", "reconcile"]], "{output}");
    let inv = args::parse(runs[0].iter().cloned()).unwrap();
    assert!(inv.verbose && inv.config == Path::new("/etc/lh.toml"));
}

/// Proves lagghook_enable defaults to NO: nothing runs on start or resume
/// (boot's faststart says nothing), and `onestart` runs it anyway.
#[test]
fn rc_script_is_off_until_enabled() {
    let rc = RcScript::new("rc-disabled");
    let (code, output, runs) = rc.run("start");
    assert_eq!((code, runs), (Some(0), vec![]), "{output}");
    assert!(output.contains("Set lagghook_enable to YES"), "{output}");
    let (_, output, runs) = rc.run("faststart");
    assert_eq!((output.as_str(), runs), ("", vec![]));
    let (_, _, runs) = rc.run("resume");
    assert!(runs.is_empty());
    let (code, output, runs) = rc.run("onestart");
    assert_eq!((code, runs), (Some(0), reconcile()), "{output}");
}

/// Proves the script's rcorder header: after netif and devd, in vnet
/// jails but not other jails, and called by rc.resume.
#[test]
fn rc_script_header() {
    let script = read("rc.d/lagghook");
    let header = |key: &str| -> Vec<String> {
        let prefix = format!("# {key}: ");
        let line = script.lines().find_map(|l| l.strip_prefix(&prefix));
        line.unwrap_or_else(|| panic!("no {key}")).split_whitespace().map(str::to_owned).collect()
    };
    assert_eq!(header("PROVIDE"), ["lagghook"]);
    assert_eq!(header("REQUIRE"), ["netif", "devd"]);
    assert_eq!(header("KEYWORD"), ["nojailvnet", "resume"]);
    assert!(script.starts_with("#!/bin/sh\n"));
    assert!(script.contains("\n: ${lagghook_enable:=\"NO\"}\n"), "enable defaults to NO");
}
