//! The command line as people type it, run through the binary: `-h` and
//! `-V` answer on standard output with status 0, options may follow the
//! command word, and `event` takes everything after it as devd's data.

use crate::support::{lagghook, stderr, stdout, Sandbox};

/// Proves `-h` and `--help`, anywhere an option may stand, print exactly
/// USAGE to standard output (where `| less` reads it), nothing to standard
/// error, and exit 0, without reading a configuration or a kernel.
#[test]
fn help_prints_the_usage_to_stdout_and_exits_0() {
    let sb = Sandbox::new("help");
    let usage = format!("{}\n", lagghook::cli::args::USAGE);
    for args in [&["-h"][..], &["--help"], &["status", "-h"], &["-c", "/nonexistent", "-h"]] {
        let out = lagghook(args, &sb.path("log.sock"));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), usage, "{args:?}");
        assert_eq!(stderr(&out), "", "{args:?}");
    }
    // A usage error still prints the usage, but to standard error and
    // with status 64: a script can tell the two apart.
    let out = lagghook(&["-x"], &sb.path("log.sock"));
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).ends_with(&usage), "{}", stderr(&out));
}

/// Proves `-V` prints `lagghook VERSION`, the package version, and exits 0.
#[test]
fn version_prints_the_package_version() {
    let sb = Sandbox::new("version");
    for args in [&["-V"][..], &["check", "-V"]] {
        let out = lagghook(args, &sb.path("log.sock"));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), format!("lagghook {}\n", env!("CARGO_PKG_VERSION")));
    }
}

/// Proves options after the command word act as before it: `reconcile -n`
/// prints the same plan as `-n reconcile` and changes nothing, and
/// `status -j` prints the same JSON as `-j status`.
#[test]
fn options_after_the_command_word_act_as_before_it() {
    let sb = Sandbox::laptop("after");
    let machine = std::fs::read_to_string(sb.path("kernel.toml")).unwrap();
    let before = sb.run(&["-n", "reconcile"]);
    let after = sb.run(&["reconcile", "-n"]);
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert!(stdout(&after).contains("ifconfig lagg0 laggport wlan0"), "{}", stdout(&after));
    assert_eq!(stdout(&after), stdout(&before));
    assert_eq!(std::fs::read_to_string(sb.path("kernel.toml")).unwrap(), machine);

    let before = sb.run(&["-j", "status"]);
    let after = sb.run(&["status", "-j"]);
    assert_eq!(after.status.code(), before.status.code());
    assert!(stdout(&after).starts_with('{'), "{}", stdout(&after));
    assert_eq!(stdout(&after), stdout(&before));

    // The per-command option sets hold after the word too.
    let out = sb.run(&["status", "-n"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr(&out).contains("status: option -n does not apply"), "{}", stderr(&out));
}

/// Proves that after `event` nothing is an option: `event -n IFNET wlan0
/// ATTACH` is four operands, refused with status 2, and does not become
/// a dry run (or any run) that touches the machine.
#[test]
fn event_operands_are_data_even_when_they_look_like_options() {
    let sb = Sandbox::laptop("event-data");
    let machine = std::fs::read_to_string(sb.path("kernel.toml")).unwrap();
    let out = sb.run(&["event", "-n", "IFNET", "wlan0", "ATTACH"]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(stderr(&out).contains("got 4"), "{}", stderr(&out));
    let out = sb.run(&["event", "-c", "x"]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(stderr(&out).contains("got 2"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(sb.path("kernel.toml")).unwrap(), machine);
}
