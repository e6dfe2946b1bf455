//! Issue 16, points 6 to 8 and 12: `status` as a monitor and an
//! administrator read it, on simulated broken laptops (`-k sim:PATH` with
//! `[machine.files]`), through the binary.
//!
//! Each broken laptop is tests/doctor.rs's good one ([`Laptop::good`]:
//! converged, its devd rules, lagghook-devd and the rc.d script installed,
//! the script enabled) with one thing changed, so each test shows the one reason it
//! gives and that `check` names the same thing, from the same readers.

use std::path::Path;
use std::process::Output;

use lagghook::domain::config::Config;
use serde_json::Value;

use crate::doctor::Laptop;
use crate::support::{stderr, stdout, Sandbox};

const RULES: &str = "/usr/local/etc/devd/lagghook.conf";
const DEVD_PROGRAM: &str = "/usr/local/libexec/lagghook-devd";
const RC_SCRIPT: &str = "/usr/local/etc/rc.d/lagghook";

/// tests/doctor.rs's laptop, with what `status` needs of it.
trait Judge {
    /// The machine with the first `from` replaced by `to`.
    fn machine(self, from: &str, to: &str) -> Laptop;
    fn judge(&self, name: &str) -> Judged;
}

impl Judge for Laptop {
    fn machine(mut self, from: &str, to: &str) -> Laptop {
        assert!(self.machine.contains(from), "the machine has no {from:?}");
        self.machine = self.machine.replacen(from, to, 1);
        self
    }

    /// `status`, `-j status` and `check` on it: exit statuses and outputs.
    fn judge(&self, name: &str) -> Judged {
        let sb = self.sandbox(&format!("status-{name}"));
        let text = sb.run(&["status"]);
        let json = sb.run(&["-j", "status"]);
        let check = sb.run(&["check"]);
        assert_eq!(stderr(&text), "", "{name}");
        let parsed = serde_json::from_str(&stdout(&json))
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", stdout(&json)));
        Judged {
            code: text.status.code(),
            json_code: json.status.code(),
            text: stdout(&text),
            json: parsed,
            check: stdout(&check),
        }
    }
}

struct Judged {
    code: Option<i32>,
    json_code: Option<i32>,
    text: String,
    json: Value,
    check: String,
}

/// The good laptop is converged: exit 0, in text and in JSON, with an
/// empty list of what keeps lagghook from running.
#[test]
fn issue16_a_good_laptop_is_converged() {
    let j = Laptop::good().judge("good");
    assert_eq!((j.code, j.json_code), (Some(0), Some(0)), "{}", j.text);
    assert!(j.text.starts_with("lagg0: converged\n"), "{}", j.text);
    assert!(!j.text.contains("installation:"), "{}", j.text);
    assert_eq!(j.json["laggs"][0]["verdict"], "converged");
    assert_eq!(j.json["installation"], serde_json::json!([]));
    assert_eq!(j.check, "configuration OK\n");
}

/// Asserts that `laptop` is degraded by exactly one thing that keeps
/// lagghook from running, `what`, with the fix `fix`: the verdict line,
/// the `installation:` line, the JSON, the exit statuses 1, and `check`'s
/// one TRAP line, which says the same.
fn degraded_by(name: &str, laptop: Laptop, what: &str, fix: &str) {
    let j = laptop.judge(name);
    assert_eq!((j.code, j.json_code), (Some(1), Some(1)), "{name}:\n{}", j.text);
    assert_eq!(j.text.lines().next(), Some(format!("lagg0: degraded: {what}").as_str()), "{name}");
    let line = format!("installation: {what}; fix: {fix}");
    assert!(j.text.lines().any(|l| l == line), "{name}: no {line:?} in\n{}", j.text);
    let lagg = &j.json["laggs"][0];
    assert_eq!(lagg["verdict"], "degraded", "{name}");
    assert_eq!(lagg["verdict_why"], serde_json::json!([what]), "{name}");
    assert_eq!(j.json["installation"], serde_json::json!([{ "what": what, "fix": fix }]), "{name}");
    let traps: Vec<&str> = j.check.lines().filter(|l| l.starts_with("TRAP: ")).collect();
    assert_eq!(traps, [format!("TRAP: {what}; fix: {fix}")], "{name}: check says\n{}", j.check);
}

/// Issue 16, point 6: devd rules missing or stale, lagghook-devd missing,
/// the rc.d script missing or disabled: each keeps lagghook from running
/// again, so the lagg is not converged but degraded (exit 1), in text and
/// in JSON, and `check` names it as a trap with the same fix.
#[test]
fn issue16_what_stops_lagghook_from_running_again_is_degraded() {
    let install = format!("lagghook devd-conf > {RULES} && service devd restart");
    degraded_by(
        "no-rules",
        Laptop::good().without(RULES),
        &format!("{RULES}: missing: devd never runs lagghook"),
        &install,
    );
    // Rules for another configuration (lagg0 over em1): stale.
    let other = Config::parse("[lagg0]\nports = [\"em1\", \"wlan0\"]\n", Path::new("x")).unwrap();
    let stale = lagghook::devd::rules_for(&other, lagghook::devd::PROGRAM);
    degraded_by(
        "stale-rules",
        Laptop::good().file(RULES, &stale),
        &format!("{RULES}: differs from `lagghook devd-conf` for this configuration"),
        &install,
    );
    let reinstall = "make install, or reinstall the lagghook package";
    degraded_by(
        "no-lagghook-devd",
        Laptop::good().without(DEVD_PROGRAM),
        &format!(
            "{DEVD_PROGRAM}: is not installed: the devd rules run it, so no event reaches lagghook"
        ),
        reinstall,
    );
    let then = "nothing reconciles at boot or after a resume";
    degraded_by(
        "no-rc-script",
        Laptop::good().without(RC_SCRIPT),
        &format!("{RC_SCRIPT}: missing: {then}"),
        reinstall,
    );
    degraded_by(
        "rc-unset",
        Laptop::good().file("/etc/rc.conf", "kld_list=\"if_iwn fusefs\"\n"),
        &format!(
            "{RC_SCRIPT}: disabled (lagghook_enable is not set, and the script's default is \
             NO): {then}"
        ),
        "sysrc -f /etc/rc.conf lagghook_enable=YES",
    );
    // rc.conf.local wins over rc.conf: the fix edits the file that counts.
    degraded_by(
        "rc-disabled-locally",
        Laptop::good().file("/etc/rc.conf.local", "lagghook_enable=NO\n"),
        &format!("{RC_SCRIPT}: disabled (lagghook_enable=\"NO\" in /etc/rc.conf.local): {then}"),
        "sysrc -f /etc/rc.conf.local lagghook_enable=YES",
    );
    degraded_by(
        "rc-neither",
        Laptop::good().file("/etc/rc.conf.d/lagghook", "lagghook_enable=maybe\n"),
        &format!(
            "{RC_SCRIPT}: disabled (lagghook_enable=\"maybe\" in /etc/rc.conf.d/lagghook, which \
             rc takes for NO): {then}"
        ),
        "sysrc -f /etc/rc.conf.d/lagghook lagghook_enable=YES",
    );
    // rc.subr's checkyesno takes any case.
    let j = Laptop::good()
        .file("/etc/rc.conf", "kld_list=\"if_iwn\"\nlagghook_enable=\"yes\"\n")
        .judge("rc-yes");
    assert_eq!(j.code, Some(0), "{}", j.text);
}

/// An offline lagg stays offline (exit 2), and still says what keeps
/// lagghook from running; every configured lagg carries the reason.
#[test]
fn issue16_an_offline_lagg_also_names_what_stops_lagghook() {
    let laptop = Laptop::good()
        .without(RULES)
        .machine("link = true", "link = false")
        .machine("link = true", "link = false");
    let j = laptop.judge("offline-no-rules");
    assert_eq!((j.code, j.json_code), (Some(2), Some(2)), "{}", j.text);
    let first =
        format!("lagg0: offline: no port is active; {RULES}: missing: devd never runs lagghook");
    assert_eq!(j.text.lines().next(), Some(first.as_str()), "{}", j.text);
    assert_eq!(j.json["laggs"][0]["verdict"], "offline");
    assert_eq!(j.json["laggs"][0]["verdict_why"][0], "no port is active");
}

/// A simulated machine without any files models no installation: its
/// verdict is the kernel's alone, and JSON says nothing was looked at.
#[test]
fn issue16_a_machine_without_files_is_judged_by_its_kernel() {
    let mut laptop = Laptop::good();
    laptop.files.clear();
    let j = laptop.judge("no-files");
    assert_eq!(j.code, Some(0), "{}", j.text);
    assert!(j.text.starts_with("lagg0: converged\n"), "{}", j.text);
    assert_eq!(j.json["installation"], Value::Null);
}

/// `-j status`'s output as JSON, with its exit status and standard error.
fn json_of(out: &Output) -> (Option<i32>, Value, String) {
    let v = serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", stdout(out)));
    (out.status.code(), v, stderr(out))
}

/// Issue 16, point 7: `-j status` prints JSON on every error path too: an
/// object `{"version", "error": {"message", "exit", "kind", "file",
/// "line", "column"}}`, with the exit status of lagghook(8) (78 for the
/// configuration, never a verdict's), and the one `lagghook:` line on
/// standard error as always.
#[test]
fn issue16_json_status_is_json_on_every_error() {
    let laptop = Laptop::good();
    let sb = laptop.sandbox("status-json-errors");
    // The usage error is followed by the synopsis, as always.
    let usage_lines = lagghook::cli::args::USAGE.lines().count() + 1;
    let check = |args: &[&str], code: i32, kind: &str, message: &str| -> Value {
        let (got, v, err) = json_of(&sb.run(args));
        assert_eq!(got, Some(code), "{args:?}: {v}");
        assert_eq!(v["version"], lagghook::cli::status::JSON_VERSION, "{args:?}");
        let e = &v["error"];
        assert_eq!((&e["exit"], &e["kind"]), (&Value::from(code), &Value::from(kind)), "{args:?}");
        let shown = e["message"].as_str().unwrap_or_default();
        assert!(shown.contains(message), "{args:?}: {shown:?} lacks {message:?}");
        let synopsis = err.contains("\nusage: ");
        assert_eq!(err.lines().count(), if synopsis { usage_lines } else { 1 }, "{args:?}: {err}");
        assert_eq!(err.lines().next(), Some(format!("lagghook: {shown}").as_str()), "{args:?}");
        e.clone()
    };
    // An invalid configuration: file, line and column.
    sb.write("bad.toml", "[lagg0]\nports = [\"em0\", \"wlan0\"]\nmac = \"em9\"\n");
    let bad = sb.path("bad.toml").display().to_string();
    let e = check(&["-c", &bad, "-j", "status"], 78, "configuration", "mac \"em9\" is not a port");
    assert_eq!((&e["file"], &e["line"], &e["column"]), (&Value::from(bad), &3.into(), &7.into()));
    // A missing one: the file, no position.
    let missing = sb.path("missing.toml").display().to_string();
    let e = check(&["-c", &missing, "status", "-j"], 78, "configuration", "No such file");
    assert_eq!((&e["file"], &e["line"]), (&Value::from(missing), &Value::Null));
    // A command line that does not parse, but asked for JSON.
    check(&["-j", "status", "now"], 64, "usage", "status: unexpected operand \"now\"");
    check(&["status", "-jx"], 64, "usage", "invalid option '-x'");
    // A simulated machine that is not there.
    let nowhere = format!("sim:{}", sb.path("nowhere.toml").display());
    check(&["-k", &nowhere, "-j", "status"], 64, "usage", "nowhere.toml");
    // An identity file that must not be read: cannot tell.
    let db = sb.path("kernel.toml.db");
    nix::unistd::mkfifo(&db, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    check(&["-j", "status"], 3, "unavailable", "kernel.toml.db: is a FIFO");
    std::fs::remove_file(&db).unwrap();
    // No kernel backend here: cannot tell.
    #[cfg(not(target_os = "freebsd"))]
    check(&["-k", "native", "-j", "status"], 3, "unavailable", "no kernel backend");
    // Without -j the error is the one line, and standard output is empty.
    let out = sb.run(&["-c", &missing_toml(&sb), "status"]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(78), ""));
}

fn missing_toml(sb: &Sandbox) -> String {
    sb.path("missing.toml").display().to_string()
}

/// Issue 16, point 8: the ports as `ifconfig lagg0` shows them
/// (`laggport: em0 flags=5<MASTER,ACTIVE>`, `flags=0<>`), no empty
/// `options: <>` line, and the port carrying the traffic never called the
/// backup: on the cable, wlan0 is the backup; with the cable out, wlan0
/// carries the traffic and no port is left to fall back to.
#[test]
fn issue16_status_shows_ports_as_ifconfig_does() {
    let on_cable = Laptop::good().judge("on-cable");
    let lines: Vec<&str> = on_cable.text.lines().collect();
    let port = |name: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("\tlaggport: {name} ")))
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
    };
    assert_eq!(port("em0").as_deref(), Some("laggport: em0 flags=5<MASTER,ACTIVE>"));
    assert_eq!(port("wlan0").as_deref(), Some("laggport: wlan0 flags=0<>"));
    assert!(lines.contains(&"\tbackup: wlan0 (lagg's choice: next in if_index order)"));
    assert!(!on_cable.text.contains("options"), "{}", on_cable.text);
    let ports = &on_cable.json["laggs"][0]["ports"];
    assert_eq!((&ports[0]["flags"], &ports[1]["flags"]), (&5.into(), &0.into()));

    // The cable out: em0 has no link, wlan0 carries the traffic.
    let off_cable = Laptop::good().machine("link = true", "link = false").judge("off-cable");
    assert_eq!(off_cable.code, Some(0), "{}", off_cable.text);
    let lines: Vec<&str> = off_cable.text.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("\tlaggport: em0 flags=1<MASTER> ")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("\tlaggport: wlan0 flags=4<ACTIVE> ")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("backup: wlan0")), "{}", off_cable.text);
    let lagg = &off_cable.json["laggs"][0];
    assert_eq!((&lagg["active"], &lagg["backup"]), (&"wlan0".into(), &Value::Null));
}

/// Issue 16, point 12: a user who may not read the identity file is told
/// "Permission denied", not std's "(os error 13)". Runs `status` as
/// nobody through setpriv(1), so it needs root and util-linux; the same
/// message is unit-tested in `run::state` for a user who is not root.
#[test]
fn issue16_an_unreadable_identity_file_says_permission_denied() {
    let setpriv = Path::new("/usr/bin/setpriv");
    if !nix::unistd::geteuid().is_root() || !setpriv.exists() {
        eprintln!("skipped: needs root and /usr/bin/setpriv to run status as another user");
        return;
    }
    let mut laptop = Laptop::good();
    laptop.files.clear();
    let sb = laptop.sandbox("status-eacces");
    sb.write("kernel.toml.db", "version = 1\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sb.path("kernel.toml.db"), std::fs::Permissions::from_mode(0o600))
        .unwrap();
    let out = std::process::Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_lagghook"))
        .arg("-c")
        .arg(sb.path("config.toml"))
        .arg("-k")
        .arg(format!("sim:{}", sb.path("kernel.toml").display()))
        .arg("status")
        .env("LAGGHOOK_SYSLOG_SOCKET", sb.path("log.sock"))
        .output()
        .unwrap();
    let text = stdout(&out);
    let want = format!(
        "{}: Permission denied; the identities shown are not the stored ones (run as root)",
        sb.path("kernel.toml.db").display()
    );
    assert_eq!(text.lines().next(), Some(want.as_str()), "{text}{}", stderr(&out));
    crate::support::assert_plain(&text);
}

/// Issue 16, point 6: devd reading lagghook's rules at all is part of
/// what makes it run again: a devd.conf without `directory
/// "/usr/local/etc/devd"`, or none, and no event ever reaches lagghook, so
/// the lagg is not converged (check traps the same).
#[test]
fn issue16_a_devd_that_never_reads_the_rules_is_degraded() {
    let conf = lagghook::devd::DEVD_CONF.replace("\tdirectory \"/usr/local/etc/devd\";\n", "");
    degraded_by(
        "devd-no-dir",
        Laptop::good().file("/etc/devd.conf", &conf),
        &format!(
            "/etc/devd.conf: no `directory \"/usr/local/etc/devd\"` option: devd never reads {RULES}"
        ),
        "add `directory \"/usr/local/etc/devd\";` to its options block, as FreeBSD's has",
    );
    degraded_by(
        "devd-conf-missing",
        Laptop::good().without("/etc/devd.conf"),
        "/etc/devd.conf: missing: devd does not start without it",
        "restore it from the base system (freebsd-update or /usr/src/sbin/devd/devd.conf)",
    );
}
