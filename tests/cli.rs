//! The binary as devd and an administrator run it: exit statuses, error
//! lines, no change on bad input, syslog datagrams, and separate processes
//! sharing one simulated machine through `-k sim:FILE`.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::{
    assert_plain, finish_within, lagghook, rust_artefacts, stderr, stdout, Sandbox,
};
use crate::support::{LAPTOP_CONFIG, MACHINE_WLAN_OUT};

#[test]
fn devd_event_repairs_the_shared_simulated_machine_and_logs_to_syslog() {
    let sb = Sandbox::laptop("event");
    let sock = UnixDatagram::bind(sb.path("log.sock")).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();

    let (pid, out) = run_with_pid(&sb, &["event", "IFNET", "wlan0", "ATTACH"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let mut lines = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = sock.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        if lines.iter().any(|l| l.contains("joined")) {
            break;
        }
    }
    // The whole datagram: <29> = LOG_DAEMON (3 << 3) | LOG_NOTICE (5), the
    // ident with the pid, the line; no timestamp, syslogd adds its own
    // (run::log::LocalFormat).
    let joined = format!("<29>lagghook[{pid}]: lagg0: port wlan0 joined");
    assert!(lines.contains(&joined), "no {joined:?} in {lines:?}");
    assert!(lines.iter().any(|l| l.contains("wlan0: MAC 00:11:22:33:44:55 set")), "{lines:?}");

    // wlan0 joining cost em0 its offloads, and em0 (iflib) reset itself:
    // devd brings its LINK_UP, and lagghook records lagg0 back online.
    let out = sb.run(&["event", "IFNET", "em0", "LINK_UP"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let status = stdout(&sb.run(&["status"]));
    assert!(status.contains("lagg0: online on em0"), "{status}");

    // Steady state: another event changes nothing, not even the state file
    // (an atomic rewrite would give it a new inode).
    use std::os::unix::fs::MetadataExt;
    let inode = || std::fs::metadata(sb.path("kernel.toml.state")).unwrap().ino();
    let before = inode();
    let out = sb.run(&["event", "IFNET", "wlan0", "LINK_UP"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(inode(), before, "state file rewritten in steady state");

    // A second process sees the first one's changes: nothing left to do.
    let out = sb.run(&["-n", "reconcile"]);
    assert_eq!(stdout(&out), "# nothing to do\n");
    let status = stdout(&sb.run(&["status"]));
    assert!(status.contains("laggport: em0 "), "{status}");
    assert!(status.contains("laggport: wlan0 "), "{status}");
    assert!(status.contains("lagg0: port wlan0 joined"), "transitions missing: {status}");
}

/// Proves lagghook-devd, the program devd's rules run, carries out an
/// event exactly as `lagghook event` does (the same machine afterwards,
/// the same lines, the same exit status), and refuses every other command
/// with its own synopsis, without touching the machine.
#[test]
fn lagghook_devd_runs_events_as_lagghook_does_and_nothing_else() {
    let devd = env!("CARGO_BIN_EXE_lagghook-devd");
    let by_lagghook = Sandbox::laptop("devd-a");
    let by_devd = Sandbox::laptop("devd-b");
    let event = ["event", "IFNET", "wlan0", "ATTACH"];
    let a = by_lagghook.run(&event);
    let b = by_devd.command_of(devd, &event).output().unwrap();
    assert_eq!((a.status.code(), b.status.code()), (Some(0), Some(0)), "{}", stderr(&b));
    assert_eq!(stderr(&b), stderr(&a));
    assert!(stderr(&b).contains("lagg0: port wlan0 joined"), "{}", stderr(&b));
    let machine = |sb: &Sandbox| std::fs::read_to_string(sb.path("kernel.toml")).unwrap();
    assert_eq!(machine(&by_devd), machine(&by_lagghook));

    let before = machine(&by_devd);
    for args in [&["status"][..], &["reconcile"], &["check"], &["-n", "setup"]] {
        let out = by_devd.command_of(devd, args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with("lagghook: lagghook-devd runs devd's events only"), "{err}");
        assert!(err.contains("\nusage: lagghook-devd [-nv] [-c file] [-k kernel] event"), "{err}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    assert_eq!(machine(&by_devd), before, "a refused command changed the machine");
    let help = by_devd.command_of(devd, &["-h"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert_eq!(stdout(&help), format!("{}\n", lagghook::cli::args::DEVD_USAGE));
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let sb = Sandbox::new("dry");
    sb.write("config.toml", LAPTOP_CONFIG);
    let kernel = sb.write("kernel.toml", MACHINE_WLAN_OUT);
    let out = sb.run(&["-n", "reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "ifconfig wlan0 down\nifconfig wlan0 ether 00:11:22:33:44:55\n\
         ifconfig lagg0 laggport wlan0\nifconfig wlan0 up\n\
         sysctl net.link.lagg.failover_rx_all=1\n"
    );
    assert_eq!(std::fs::read_to_string(kernel).unwrap(), MACHINE_WLAN_OUT);
}

#[test]
fn unmanaged_events_exit_at_once_without_touching_the_kernel() {
    let sb = Sandbox::new("unmanaged");
    sb.write("config.toml", LAPTOP_CONFIG);
    // No kernel file at all: any kernel access would fail with status 2.
    for args in [
        &["event", "IFNET", "re0", "LINK_UP"][..],
        &["event", "!system=IFNET subsystem=ue7 type=ATTACH"],
        &["event", "ACPI", "Resume", "\\"],
        &["event", "IFNET", "wlan0", "ADDR_ADD"],
    ] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
    assert!(!sb.path("kernel.toml.lock").exists(), "took the lock for an ignored event");
}

#[test]
fn bad_config_names_file_line_and_column_and_changes_nothing() {
    let sb = Sandbox::new("badcfg");
    let cfg = sb.write("config.toml", "[lagg0]\nports = [\"em0\", \"em0\"]\n");
    let kernel = sb.write("kernel.toml", MACHINE_WLAN_OUT);
    let sock = UnixDatagram::bind(sb.path("log.sock")).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (pid, out) = run_with_pid(&sb, &["reconcile"]);
    assert_eq!(out.status.code(), Some(78));
    let err = stderr(&out);
    assert!(err.starts_with(&format!("lagghook: {}:2:", cfg.display())), "{err}");
    assert!(err.contains("em0"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // Under devd stderr goes nowhere: the same line reaches syslog, as an
    // error, byte for byte: <27> = LOG_DAEMON (3 << 3) | LOG_ERR (3).
    let mut buf = [0u8; 2048];
    let n = sock.recv(&mut buf).unwrap();
    let line = err.trim_end().trim_start_matches("lagghook: ");
    assert_eq!(&buf[..n], format!("<27>lagghook[{pid}]: {line}").as_bytes());
    assert_eq!(std::fs::read_to_string(kernel).unwrap(), MACHINE_WLAN_OUT);
}

/// [`Sandbox::run`], also returning the process's pid, which its syslog
/// lines carry.
fn run_with_pid(sb: &Sandbox, args: &[&str]) -> (u32, Output) {
    let child = sb
        .command(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_plain(&stderr(&out));
    (pid, out)
}

#[test]
fn malformed_event_is_a_usage_error() {
    let sb = Sandbox::new("badevent");
    sb.write("config.toml", LAPTOP_CONFIG);
    let out = sb.run(&["event", "system=IFNET subsystem=em0 type=LINK_UP"]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("lagghook: "));
}

#[test]
fn usage_errors_print_the_synopsis_and_exit_64() {
    let out = lagghook(&["frobnicate"], Path::new("/nonexistent"));
    assert_eq!(out.status.code(), Some(64));
    let err = stderr(&out);
    assert!(err.starts_with("lagghook: unknown command \"frobnicate\"\n"), "{err}");
    assert!(err.contains(lagghook::cli::args::USAGE), "{err}");
}

#[test]
fn without_a_kernel_backend_the_native_kernel_is_unavailable() {
    if cfg!(target_os = "freebsd") {
        return;
    }
    let sb = Sandbox::new("native");
    let cfg = sb.write("config.toml", LAPTOP_CONFIG);
    let out = lagghook(&["-c", cfg.to_str().unwrap(), "reconcile"], &sb.path("log.sock"));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("no kernel backend on this OS (use -k sim:FILE)"),
        "{}",
        stderr(&out)
    );
}

/// `check` exits 1 and lists what a reconcile would do while the laptop is
/// not converged, and names a wrong parent with its fix. (The files'
/// traps, and "configuration OK" on a good laptop: `tests/doctor.rs`.)
#[test]
fn check_reports_pending_changes_and_every_problem() {
    let sb = Sandbox::laptop("check");
    let out = sb.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("would: ifconfig lagg0 laggport wlan0\n"), "{}", stdout(&out));

    sb.write(
        "config.toml",
        "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"ath0\"\n",
    );
    let out = sb.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(
            "TRAP: wlan0: parent is iwn0, configured ath0; fix: set wlan.wlan0.parent = \"iwn0\""
        ),
        "{}",
        stdout(&out)
    );
}

/// Issue 10: the transitions outlive a reboot (`PATH.history`, as
/// /var/db/lagghook/history does), and status shows them in local time.
#[test]
fn transitions_outlive_a_reboot_and_status_shows_them() {
    let sb = Sandbox::laptop("history");
    let out = sb.run(&["event", "IFNET", "wlan0", "ATTACH"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::remove_file(sb.path("kernel.toml.state")).unwrap();
    let meta = std::fs::metadata(sb.path("kernel.toml.history")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let out = sb.run(&["status"]);
    let text = stdout(&out);
    assert!(text.contains("last transitions:"), "{text}");
    let line = text.lines().find(|l| l.contains("lagg0: port wlan0 joined")).unwrap_or_else(|| {
        panic!("no transition after the reboot: {text}");
    });
    // "\t2026-11-27 06:12:01 +0000 lagg0: port wlan0 joined"
    let stamp: Vec<&str> = line.trim().splitn(4, ' ').collect();
    assert!(stamp[2].starts_with('+') || stamp[2].starts_with('-'), "{line}");
}

/// Issue 7: a member the configuration does not name is never removed, so
/// `check` names it with its fix, and `status` says where traffic goes when
/// the primary fails (lagg's choice, not the configuration's order).
#[test]
fn check_reports_an_unmanaged_member_and_status_the_backup() {
    let sb = Sandbox::new("stranger");
    sb.write("config.toml", "[lagg0]\nports = [\"em0\", \"wlan0\"]\n");
    let machine = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/unmanaged-primary.toml"),
    )
    .unwrap();
    sb.write("kernel.toml", &machine);
    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = sb.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(
            "TRAP: lagg0: port re0 is not in the configuration; lagghook leaves it alone; \
             fix: list it in ports, or ifconfig lagg0 -laggport re0\n"
        ),
        "{}",
        stdout(&out)
    );
    let status = stdout(&sb.run(&["status"]));
    assert!(status.contains("backup: em0 (lagg's choice: next in if_index order)"), "{status}");
    let json = stdout(&sb.run(&["-j", "status"]));
    assert!(json.contains("\"backup\": \"em0\""), "{json}");
}

#[test]
fn simulate_runs_the_built_in_day_and_a_failing_file_exits_1() {
    let out = lagghook(&["simulate"], Path::new("/nonexistent"));
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("PASS"), "{}", stdout(&out));

    let sb = Sandbox::new("simfail");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/cable-out-and-back.toml"),
    )
    .unwrap()
    .replace("active = { lagg0 = \"wlan0\" }", "active = { lagg0 = \"em0\" }");
    let file = sb.write("s.toml", &text);
    let out = lagghook(&["simulate", file.to_str().unwrap()], Path::new("/nonexistent"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("FAILED  expected active lagg0 = em0, found wlan0"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn shipped_devd_rules_are_the_generated_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_lagghook"))
        .current_dir(root)
        .args(["-c", "tests/fixtures/config/good-laptop.toml", "devd-conf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shipped = std::fs::read_to_string(root.join("devd/lagghook.conf")).unwrap();
    assert_eq!(stdout(&out), shipped);
}

#[test]
fn rc_conf_reads_the_identity_from_the_kernel() {
    let sb = Sandbox::new("rcconf");
    sb.write(
        "config.toml",
        "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n",
    );
    let kernel = sb.write("kernel.toml", MACHINE_WLAN_OUT);
    let out = sb.run(&["rc-conf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("\nwlans_iwn0=\"wlan0\"\ncreate_args_wlan0=\"wlanaddr 00:11:22:33:44:55\"\n"),
        "{text}"
    );
    assert!(
        text.contains("ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"")
    );
    assert_eq!(std::fs::read_to_string(kernel).unwrap(), MACHINE_WLAN_OUT, "rc-conf only reads");
}

/// `command` with its standard output on a pipe whose reader has already
/// gone, as `lagghook status | head -1` ends up.
fn run_into_closed_pipe(mut command: Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command.stdout(writer).output().unwrap()
}

/// Proves a reader closing the pipe early is not an error: status 0 and
/// no message, for every command that prints (issue 6: it was exit 2 with
/// "standard output: Broken pipe").
#[test]
fn a_closed_stdout_pipe_ends_quietly_with_status_0() {
    let sb = Sandbox::laptop("epipe");
    let mut commands: Vec<(String, Command)> =
        [&["status"][..], &["-j", "status"], &["check"], &["-n", "reconcile"], &["rc-conf"]]
            .iter()
            .map(|args| (args.join(" "), sb.command(args)))
            .collect();
    // devd-conf takes no kernel, simulate not even a configuration.
    let mut devd_conf = Command::new(env!("CARGO_BIN_EXE_lagghook"));
    devd_conf.arg("-c").arg(sb.path("config.toml")).arg("devd-conf");
    commands.push(("devd-conf".into(), devd_conf));
    let mut simulate = Command::new(env!("CARGO_BIN_EXE_lagghook"));
    simulate.arg("simulate");
    commands.push(("simulate".into(), simulate));
    for (what, command) in commands {
        let out = run_into_closed_pipe(command);
        // status's and check's exit is their verdict: wlan0 outside lagg0
        // is degraded, and check lists the change a reconcile would make.
        let want = if what.ends_with("status") || what == "check" { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(want), "{what}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{what}");
    }
    assert_eq!(std::fs::read_to_string(sb.path("kernel.toml")).unwrap(), MACHINE_WLAN_OUT);
}

/// Proves `status -j` is JSON a monitoring script can read: the lagg's
/// shape as the kernel has it, each port's flags and MAC agreement, the
/// configured ports that are missing, and the transitions of earlier runs.
#[test]
fn status_json_reports_laggs_ports_and_transitions() {
    let sb = Sandbox::laptop("json");

    // The exit status is the worst verdict: 0 converged, 1 degraded, 2
    // offline or missing, as a monitoring check reads it.
    let json = |sb: &Sandbox| -> serde_json::Value {
        let out = sb.run(&["-j", "status"]);
        let v: serde_json::Value =
            serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
        let want = match v["laggs"][0]["verdict"].as_str() {
            Some("converged") => 0,
            Some("degraded") => 1,
            _ => 2,
        };
        assert_eq!(out.status.code(), Some(want), "{}{}", stdout(&out), stderr(&out));
        assert_eq!(v["version"], 2);
        v
    };
    // Before the repair: wlan0 is outside lagg0 and carries its factory MAC.
    let before = json(&sb);
    let lagg = &before["laggs"][0];
    assert_eq!(lagg["name"], "lagg0");
    assert_eq!(lagg["exists"], true);
    assert_eq!(lagg["proto"], "failover");
    assert_eq!(lagg["primary"], "em0");
    assert_eq!(lagg["missing_ports"], serde_json::json!(["wlan0"]));
    assert_eq!(before["transitions"], serde_json::json!([]));
    assert_eq!(lagg["verdict"], "degraded");
    assert_eq!(lagg["wanted_primary"], "em0");
    assert_eq!(lagg["verdict_why"][0], "wlan0 is not a member");

    let out = sb.run(&["event", "IFNET", "wlan0", "ATTACH"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = json(&sb);
    let lagg = &after["laggs"][0];
    assert_eq!(
        (&lagg["verdict"], &lagg["verdict_why"]),
        (&"converged".into(), &serde_json::json!([]))
    );
    assert_eq!(lagg["mac"], "00:11:22:33:44:55");
    assert_eq!(lagg["active"], "em0");
    assert_eq!(lagg["missing_ports"], serde_json::json!([]));
    let ports = lagg["ports"].as_array().unwrap();
    let names: Vec<&str> = ports.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["em0", "wlan0"]);
    assert_eq!(ports[0]["master"], true);
    assert_eq!(ports[1]["master"], false);
    assert!(ports.iter().all(|p| p["mac_matches_lagg"] == true && p["up"] == true), "{ports:?}");
    let lines: Vec<&str> = after["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["line"].as_str().unwrap())
        .collect();
    assert!(lines.contains(&"lagg0: port wlan0 joined"), "{lines:?}");

    // A configured lagg that does not exist is reported, not an error.
    sb.write("config.toml", "[lagg1]\nports = [\"em0\"]\n");
    let missing = json(&sb);
    assert_eq!(missing["laggs"][0]["exists"], false);
    assert_eq!(missing["laggs"][0]["verdict"], "offline");
}

/// Proves the reading commands never wait for the lock, with a simulated
/// kernel as natively: a run holding it (here: this test) delays only the
/// commands that change something, which give up after the bounded wait.
#[test]
fn reading_commands_never_take_the_lock() {
    use nix::fcntl::{Flock, FlockArg};
    let sb = Sandbox::laptop("nolock");
    let lock = std::fs::File::create(sb.path("kernel.toml.lock")).unwrap();
    let _held = Flock::lock(lock, FlockArg::LockExclusiveNonblock).unwrap();
    for args in [&["status"][..], &["-j", "status"], &["check"], &["-n", "reconcile"]] {
        let started = std::time::Instant::now();
        let out = sb.run(args);
        // status's and check's 1 is their verdict on this unconverged
        // laptop (wlan0 outside lagg0), not the lock.
        let want = if args.ends_with(&["status"]) || args == ["check"] { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(want), "{args:?}: {}", stderr(&out));
        assert!(started.elapsed() < Duration::from_secs(1), "{args:?} waited for the lock");
    }
    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(sb.path("kernel.toml")).unwrap(), MACHINE_WLAN_OUT);
}

/// Proves a syslogd that does not drain its socket never stalls a run: the
/// socket's queue is filled before lagghook starts, the repair still
/// happens and the run ends at once (its lines are dropped). A blocking
/// send would hang here until the deadline.
#[test]
fn a_full_syslog_socket_never_stalls_a_repair() {
    let sb = Sandbox::laptop("fullsyslog");
    let syslogd = UnixDatagram::bind(sb.path("log.sock")).unwrap();
    let filler = UnixDatagram::unbound().unwrap();
    filler.connect(sb.path("log.sock")).unwrap();
    filler.set_nonblocking(true).unwrap();
    let line = [b'x'; 512];
    let mut queued = 0;
    while filler.send(&line).is_ok() {
        queued += 1;
    }
    assert!(queued > 0, "could not fill the socket");

    let child = sb
        .command(&["event", "IFNET", "wlan0", "ATTACH"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = finish_within(child, Duration::from_secs(10));
    let out = out.unwrap_or_else(|| panic!("lagghook blocked on a full syslog socket"));
    assert_eq!(out.status.code(), Some(0));
    let machine = std::fs::read_to_string(sb.path("kernel.toml")).unwrap();
    assert_ne!(machine, MACHINE_WLAN_OUT, "the repair was not made");
    drop(syslogd);
}

/// Proves an unwritable stderr is not a crash: the usage error still ends
/// with its documented status (it aborted with 134 before), and a verbose
/// run still makes its repair.
#[test]
fn an_unwritable_stderr_changes_no_exit_status() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lagghook"))
        .arg("frobnicate")
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));

    let sb = Sandbox::laptop("devfull");
    let out =
        sb.command(&["-v", "event", "IFNET", "wlan0", "ATTACH"]).stderr(full()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_ne!(std::fs::read_to_string(sb.path("kernel.toml")).unwrap(), MACHINE_WLAN_OUT);
}

/// Proves runs serialise on one simulated machine: 64 processes started
/// together, as devd and an administrator might, with events and
/// reconciles mixed, all succeed and leave the machine exactly as one run
/// does.
#[test]
fn sixty_four_concurrent_runs_end_as_one_run_does() {
    let one = Sandbox::laptop("concurrent-one");
    let out = one.run(&["event", "IFNET", "wlan0", "ATTACH"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = std::fs::read_to_string(one.path("kernel.toml")).unwrap();
    assert_ne!(expected, MACHINE_WLAN_OUT);

    let many = Sandbox::laptop("concurrent-many");
    let words: [&[&str]; 3] = [
        &["event", "IFNET", "wlan0", "ATTACH"],
        &["event", "IFNET", "em0", "LINK_UP"],
        &["reconcile"],
    ];
    let children: Vec<std::process::Child> = (0..64)
        .map(|i| many.command(words[i % 3]).stderr(std::process::Stdio::piped()).spawn().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read_to_string(many.path("kernel.toml")).unwrap(), expected);
}

/// Proves a run whose changes cannot be written back says so (exit 1,
/// "changes made but not saved") and leaves the state as it was, so the
/// state never records what the machine file does not have. The machine's
/// directory is made immutable (chattr +i), which needs root and a
/// filesystem that has the flag; elsewhere the test says it was skipped.
#[test]
fn a_failed_save_after_changes_is_reported_and_the_state_is_not_written() {
    let sb = Sandbox::laptop("notsaved");
    sb.write("kernel.toml.lock", "");
    let chattr = |flag: &str| {
        Command::new("chattr")
            .args([flag, sb.dir.to_str().unwrap()])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !chattr("+i") {
        eprintln!("skipped: chattr +i is not available here (needs root and ext2/3/4)");
        return;
    }
    let out = sb.run(&["event", "IFNET", "wlan0", "ATTACH"]);
    assert!(chattr("-i"), "could not make the sandbox writable again");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("changes made but not saved: "), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(sb.path("kernel.toml")).unwrap(), MACHINE_WLAN_OUT);
    assert!(!sb.path("kernel.toml.state").exists(), "state written for changes the machine lacks");
}

/// Proves the detector the CLI tests run on every message finds what it
/// is for, and that the errors a missing or unusable file gives read as
/// an administrator expects: no `(os error 2)`, no path twice.
#[test]
fn issue10_messages_carry_no_rust_artefacts() {
    for bad in [
        "lagghook: /x: No such file or directory (os error 2)",
        "lagghook: /x/k.toml: /x/k.toml: is a FIFO",
        "lagghook: \"/x/k.toml\": gone",
        "not converged after 1 rounds",
        "2 change(s) failed",
    ] {
        assert!(!rust_artefacts(bad).is_empty(), "{bad} passed");
    }
    assert!(rust_artefacts("lagghook: /etc/rc.conf: kld_list: unset -> \"if_iwn\"").is_empty());
    let sb = Sandbox::new("artefacts");
    sb.write("config.toml", LAPTOP_CONFIG);
    std::fs::create_dir(sb.path("dir.toml")).unwrap();
    let config = sb.path("config.toml").display().to_string();
    let missing = sb.path("missing.toml").display().to_string();
    let dir = sb.path("dir.toml").display().to_string();
    for (args, want) in [
        (vec!["-c", &config, "-k", "sim:/nonexistent/k.toml", "status"], 64),
        (vec!["-c", &config, "-k", &format!("sim:{missing}"), "reconcile"], 64),
        (vec!["-c", &config, "-k", &format!("sim:{dir}"), "reconcile"], 64),
        (vec!["-c", &missing, "reconcile"], 78),
        (vec!["simulate", &missing], 64),
        (vec!["-k", &format!("sim:{missing}"), "-n", "setup"], 64),
    ] {
        let out = lagghook(&args, &sb.path("log.sock"));
        assert_eq!(out.status.code(), Some(want), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", stderr(&out));
    }
}

/// A laptop with no lagg yet and if_lagg not loaded: a run needs two
/// rounds, the second planned from what the first made.
const MACHINE_NO_LAGG: &str = "[machine]\nif_lagg = false\n\
    [[machine.interface]]\nname = \"em0\"\nkind = \"ether\"\nmac = \"00:11:22:33:44:55\"\nlink = true\n\
    [[machine.interface]]\nname = \"wlan0\"\nkind = \"wlan\"\nparent = \"iwn0\"\n\
    mac = \"00:11:22:33:44:55\"\nlink = true\n";

/// Proves `-n` shows every round a run would make, the later ones headed
/// as predictions, that a run then makes exactly those, and that a second
/// `-n` says there is nothing to do (issue 10, point 9).
#[test]
fn issue10_dry_run_shows_every_round_and_the_run_makes_them() {
    let sb = Sandbox::new("rounds");
    sb.write("config.toml", LAPTOP_CONFIG);
    let kernel = sb.write("kernel.toml", MACHINE_NO_LAGG);
    let out = sb.run(&["-n", "reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    assert_eq!(
        shown,
        "# round 1\nkldload if_lagg\nifconfig lagg0 create\nifconfig lagg0 up\n\
         sysctl net.link.lagg.failover_rx_all=1\n# round 2 (predicted)\n\
         ifconfig lagg0 laggport em0\nifconfig wlan0 down\nifconfig lagg0 laggport wlan0\n\
         ifconfig wlan0 up\n"
    );
    assert_eq!(
        std::fs::read_to_string(&kernel).unwrap(),
        MACHINE_NO_LAGG,
        "-n changed the machine"
    );
    let out = sb.run(&["-v", "reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // -v logs each ifconfig action as it is applied (the module load and
    // the sysctl get lines of their own): the same, in order.
    let planned: Vec<&str> = shown.lines().filter(|l| l.starts_with("ifconfig ")).collect();
    let logged: Vec<String> = stderr(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("lagghook: "))
        .filter(|l| planned.contains(l))
        .map(str::to_owned)
        .collect();
    assert_eq!(logged, planned, "{}", stderr(&out));
    assert_eq!(stdout(&sb.run(&["-n", "reconcile"])), "# nothing to do\n");
}

/// Proves the change lines reach the log once each, the global sysctl
/// included as sysctl(8) prints it, and that a failed change reaches
/// stderr although stderr is no terminal and syslog takes the line too
/// (issue 10, point 10).
#[test]
fn issue10_changes_are_logged_and_errors_reach_stderr() {
    let sb = Sandbox::new("logged");
    sb.write("config.toml", LAPTOP_CONFIG);
    sb.write("kernel.toml", MACHINE_NO_LAGG);
    let sock = UnixDatagram::bind(sb.path("log.sock")).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "syslog took the lines; stderr is no terminal");
    let mut lines = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = sock.recv(&mut buf) {
        let line = String::from_utf8_lossy(&buf[..n]).into_owned();
        lines.push(line.split_once("]: ").map_or(line.clone(), |(_, l)| l.to_owned()));
    }
    for want in
        ["if_lagg: module loaded", "net.link.lagg.failover_rx_all: 0 -> 1", "lagg0: created"]
    {
        assert_eq!(lines.iter().filter(|l| *l == want).count(), 1, "{want}: {lines:?}");
    }
    assert_plain(&lines.join("\n"));

    // At securelevel 1 kldload fails: the run exits 1 and says why on
    // stderr, as well as in syslog.
    let locked = MACHINE_NO_LAGG.replace("if_lagg = false", "if_lagg = false\nsecurelevel = 1");
    sb.write("kernel.toml", &locked);
    let _ = std::fs::remove_file(sb.path("kernel.toml.state"));
    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), "lagghook: kldload if_lagg failed: Operation not permitted\n");
}

/// Proves (issue 17) `setup`s started together are serialised: 16 at once
/// on a fresh laptop make exactly the sysrc edits one makes (they made 78
/// where one makes 9), each ending with success or, past the lock's
/// bounded wait, exit 3 having changed nothing. The fresh laptop has none
/// of FreeBSD's files, so a setup that made its changes ends with check's
/// traps and exit 1 (issue 16, point 2).
#[test]
fn issue17_sixteen_concurrent_setups_edit_as_one_does() {
    let fresh = include_str!("fixtures/machines/fresh-laptop.toml");
    let setup = |sb: &Sandbox| {
        Command::new(env!("CARGO_BIN_EXE_lagghook"))
            .arg("-k")
            .arg(format!("sim:{}", sb.path("kernel.toml").display()))
            .arg("setup")
            .env("LAGGHOOK_SYSLOG_SOCKET", sb.path("no-syslog.sock"))
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_CLIENT")
            .env_remove("SSH_TTY")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let sysrc_lines = |sb: &Sandbox| {
        let record = std::fs::read_to_string(sb.path("kernel.toml.commands")).unwrap();
        record.lines().filter(|l| l.starts_with("/usr/sbin/sysrc ")).count()
    };
    let one = Sandbox::new("setup-one");
    one.write("kernel.toml", fresh);
    let out = setup(&one).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let edits = sysrc_lines(&one);
    assert!(edits > 0);

    let many = Sandbox::new("setup-many");
    many.write("kernel.toml", fresh);
    let children: Vec<std::process::Child> = (0..16).map(|_| setup(&many)).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(matches!(out.status.code(), Some(1 | 3)), "{:?}: {}", out.status, stderr(&out));
    }
    assert_eq!(sysrc_lines(&many), edits, "concurrent setups edited rc.conf more than one does");
}

/// Proves (issue 17) every command that prints reports a full standard
/// output with exit status 74 (EX_IOERR) and one line naming it, not as a
/// usage or configuration error.
#[test]
fn issue17_a_full_standard_output_exits_74_whatever_the_command() {
    let sb = Sandbox::laptop("stdout-full");
    let commands: [&[&str]; 8] = [
        &["status"],
        &["status", "-j"],
        &["-n", "reconcile"],
        &["check"],
        &["rc-conf"],
        &["-h"],
        &["-V"],
        &["-n", "setup"],
    ];
    for args in commands {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = sb.command(args).stdout(full).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(74), "{args:?}: {err}");
        assert!(
            err.starts_with("lagghook: standard output: No space left on device"),
            "{args:?}: {err}"
        );
    }
    let config = sb.path("config.toml");
    for args in [vec!["-c", config.to_str().unwrap(), "devd-conf"], vec!["simulate"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out =
            Command::new(env!("CARGO_BIN_EXE_lagghook")).args(&args).stdout(full).output().unwrap();
        assert_eq!(out.status.code(), Some(74), "{args:?}: {}", stderr(&out));
    }
}
