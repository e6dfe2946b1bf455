//! What a run writes when the disk will not take it (issue 17): a full
//! disk or a file size limit (`ulimit -f`, which makes a write fail with
//! EFBIG, as ENOSPC would, and sends SIGXFSZ). A run that did its work but
//! could not save the files it keeps says so for each file, under its own
//! name, and exits 74 (lagghook(8) EXIT STATUS); it never leaves an empty
//! or torn history, a temporary file, or a history written through a hard
//! link. The runs are a laptop booted undocked (its identity is the lagg's
//! own MAC, provisional), converged, whose identity file is gone: a run
//! then changes nothing in the kernel and writes the identity, the state
//! and the history only, so the limit hits those files and not the
//! simulated machine's.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};

use crate::support::{stderr, Sandbox};

/// ue0 (a USB dock, absent) preferred, wlan0 on iwn0.
const DOCK_CONFIG: &str = "[lagg0]\nports = [\"ue0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n";
const FACTORY: &str = "00:24:d7:00:00:01";

fn undocked() -> String {
    format!(
        "[[machine.interface]]\nname = \"wlan0\"\nkind = \"wlan\"\nparent = \"iwn0\"\n\
         mac = \"{FACTORY}\"\nhwaddr = \"{FACTORY}\"\nwpa_mac = \"{FACTORY}\"\nlink = true\n\n\
         [[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nproto = \"failover\"\n\
         ports = [\"wlan0\"]\n"
    )
}

/// The undocked laptop, converged by one run, with the files that run
/// kept but the identity file (as if it was lost).
fn converged_without_identity(name: &str) -> Sandbox {
    let sb = Sandbox::new(name);
    sb.write("config.toml", DOCK_CONFIG);
    sb.write("kernel.toml", &undocked());
    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    fs::remove_file(sb.path("kernel.toml.db")).unwrap();
    sb
}

/// `lagghook -c config.toml -k sim:kernel.toml ARGS` under `ulimit -f
/// BLOCKS` (of 512 bytes, in FreeBSD's sh and Debian's dash), with SIGXFSZ
/// ignored first when `ignore_sigxfsz`, as a shell's `trap '' XFSZ` does,
/// so that what lagghook does about the signal itself is not what is
/// tested.
fn run_limited(sb: &Sandbox, blocks: u32, ignore_sigxfsz: bool, args: &[&str]) -> Output {
    let trap = if ignore_sigxfsz { "trap '' XFSZ; " } else { "" };
    let inner = sb.command(args);
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(format!("{trap}ulimit -f {blocks}; exec \"$0\" \"$@\""))
        .arg(inner.get_program())
        .args(inner.get_args())
        .envs(inner.get_envs().filter_map(|(k, v)| Some((k, v?))));
    command.output().unwrap()
}

fn names(sb: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(&sb.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Proves a run that could save nothing (a full disk, here a file size
/// limit of 0) reports each file under its own name, says its provisional
/// identity is at risk at the next reboot, exits 74, and leaves no empty
/// history or identity behind. Before issue 17 it exited 0 with "identities
/// not saved" and a 0-byte history.
#[test]
fn issue17_a_run_that_cannot_save_says_which_file_and_exits_74() {
    let sb = converged_without_identity("save-nothing");
    let history = fs::read(sb.path("kernel.toml.history")).unwrap();
    fs::remove_file(sb.path("kernel.toml.history")).unwrap();
    let out = run_limited(&sb, 0, true, &["reconcile"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(74), "{err}");
    let db = sb.path("kernel.toml.db").display().to_string();
    let hist = sb.path("kernel.toml.history").display().to_string();
    for want in [
        format!("lagghook: identity not saved: {db}: File too large"),
        format!("lagghook: lagg0: provisional identity {FACTORY} is at risk at the next reboot"),
        format!("lagghook: history not saved: {hist}: File too large"),
    ] {
        assert!(err.lines().any(|l| l.starts_with(&want)), "no {want:?} in\n{err}");
    }
    assert!(!err.contains("identities not saved"), "{err}");
    let left = names(&sb);
    assert!(!left.iter().any(|n| n == "kernel.toml.history" || n == "kernel.toml.db"), "{left:?}");
    assert!(!left.iter().any(|n| n.ends_with(".tmp")), "{left:?}");
    // Space again: the next run saves all, the history from scratch.
    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fs::read(sb.path("kernel.toml.history")).unwrap().starts_with(&history[..20]));
}

/// Proves an append the disk cuts short is undone: the history keeps the
/// bytes it had (no half line), the run says "history not saved" and
/// exits 74, and the next run keeps every transition it held. The limit is
/// set a few bytes past the history's end, so the append's write(2) is
/// short before it fails.
#[test]
fn issue17_a_history_cut_short_by_a_full_disk_keeps_what_it_held() {
    let sb = converged_without_identity("save-torn");
    let path = sb.path("kernel.toml.history");
    let mut text = fs::read_to_string(&path).unwrap();
    for i in 0.. {
        let line = format!("{} lagg0: port wlan0 joined ({i})\n", 1_700_000_000 + i);
        if text.len() + line.len() > 1000 {
            break;
        }
        text.push_str(&line);
    }
    fs::write(&path, &text).unwrap();
    let out = run_limited(&sb, 2, true, &["reconcile"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(74), "{err}");
    assert!(err.contains("history not saved: "), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), text, "the history was torn");
    // The identity and the state fitted under the limit.
    assert!(sb.path("kernel.toml.db").exists());

    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    fs::remove_file(sb.path("kernel.toml.db")).unwrap();
    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let now = fs::read_to_string(&path).unwrap();
    assert!(now.starts_with(&text), "transitions lost:\n{now}");
    assert!(now[text.len()..].contains("lagg0: identity"), "{now}");
}

/// Proves (issue 17) SIGXFSZ does not kill a run mid-write: under a file
/// size limit, with the signal at its default (which terminates, FreeBSD's
/// `sigproptbl` in sys/kern/kern_sig.c), the write fails with EFBIG, the
/// temporary file is removed and the run ends with its exit status. It was
/// killed by the signal before, leaving `.kernel.toml.state.lagghook-….tmp`.
#[test]
fn issue17_a_file_size_limit_fails_the_write_instead_of_killing_the_run() {
    let sb = converged_without_identity("save-sigxfsz");
    let out = run_limited(&sb, 0, false, &["reconcile"]);
    assert_eq!(out.status.signal(), None, "killed: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    let left = names(&sb);
    assert!(!left.iter().any(|n| n.ends_with(".tmp")), "temporary files left: {left:?}");
}

/// Proves (issue 17) a history with another hard link is replaced, not
/// appended to: the other name keeps its bytes, the history has one link
/// and the run's transitions.
#[test]
fn issue17_a_hard_linked_history_is_replaced_not_written_through() {
    let sb = converged_without_identity("save-hardlink");
    let path = sb.path("kernel.toml.history");
    let other = sb.path("other");
    fs::hard_link(&path, &other).unwrap();
    let before = fs::read(&other).unwrap();
    let out = sb.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::read(&other).unwrap(), before, "written through the link");
    let meta = fs::metadata(&path).unwrap();
    assert_eq!(meta.nlink(), 1);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(std::str::from_utf8(&before).unwrap()), "{text}");
    assert!(text.len() > before.len(), "the run's transition is missing:\n{text}");
}
