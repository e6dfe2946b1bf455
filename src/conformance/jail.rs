//! The host's side of a conformance run: refuse to start unless the
//! harness can work inside a vnet jail of its own, create that jail, run
//! the harness inside it (the same program, `--inside`), and clean up
//! whatever happens: every interface in the jail but `lo0` destroyed, then
//! the jail removed, after a failure and after SIGINT, SIGTERM or SIGHUP
//! too (the signal's 128+N is then the exit status).
//!
//! It follows FreeBSD's own test suite, `tests/sys/common/vnet.subr`
//! (`jlduran/freebsd-src` @ ab11693c7a48bf0c52e90bbd85ebe07207d4c5a6):
//! `vnet_init` skips without `kern.features.vimage` and loads `if_epair`
//! (`kldload -n`), `vnet_mkjail` runs `jail -c name=NAME persist vnet`, and
//! `vnet_cleanup` destroys the interfaces listed for a jail
//! (`ifconfig -j NAME IF destroy`) before `jail -r NAME`. The harness
//! creates its interfaces inside the jail, so the host's are never touched,
//! and lists the jail's own at cleanup rather than trusting a record the
//! inside process may not have finished writing. Every command is a fixed
//! program with fixed arguments; the jail's name is the harness's own.
//!
//! The host operations are a trait ([`Host`]) so the clean-up on a signal
//! is tested on the simulator side with a recording host.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use nix::sys::signal::{kill, SigSet, Signal};
use nix::unistd::Pid;

/// What the host side needs. Each method is one fixed command (or a short
/// fixed sequence its doc names).
pub trait Host {
    /// Why the harness cannot work here, if it cannot: not FreeBSD, not
    /// root, no VIMAGE, a module that will not load.
    fn preflight(&mut self) -> Result<(), String>;
    /// `jail -c name=NAME path=/ vnet persist`.
    fn create_jail(&mut self, name: &str) -> Result<(), String>;
    /// `jexec NAME ifconfig -l`: the interfaces of the jail's vnet.
    fn jail_interfaces(&mut self, name: &str) -> Result<Vec<String>, String>;
    /// `jexec NAME PROGRAM ARGS…`, standard output and error inherited.
    fn spawn_inside(&mut self, name: &str, args: &[String]) -> Result<Child, String>;
    /// `jexec NAME ifconfig IF destroy`.
    fn destroy_inside(&mut self, name: &str, ifname: &str) -> Result<(), String>;
    /// `jail -r NAME`.
    fn remove_jail(&mut self, name: &str) -> Result<(), String>;
}

/// FreeBSD's programs.
pub const JAIL: &str = "/usr/sbin/jail";
pub const JEXEC: &str = "/usr/sbin/jexec";
pub const KLDLOAD: &str = "/sbin/kldload";
/// The modules the harness's interfaces need, loaded on the host (a jail
/// cannot load modules), as `vnet_init` does for `if_epair`.
pub const MODULES: [&str; 3] = ["if_lagg", "if_epair", "if_tuntap"];

fn fixed(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", crate::sys::spawn::SAFE_PATH)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The real host: FreeBSD's jail(8), jexec(8), ifconfig(8), kldload(8).
#[derive(Debug, Default)]
pub struct FreeBsdHost;

impl Host for FreeBsdHost {
    fn preflight(&mut self) -> Result<(), String> {
        if std::env::consts::OS != "freebsd" {
            return Err(format!(
                "this is {}, not FreeBSD: the kernel half needs FreeBSD 14 or 15 (the simulator \
                 half runs in `cargo test`)",
                std::env::consts::OS
            ));
        }
        if !nix::unistd::geteuid().is_root() {
            return Err("not root: creating a vnet jail and interfaces needs root".into());
        }
        let vimage = fixed("/sbin/sysctl", &["-n", "kern.features.vimage"]).unwrap_or_default();
        if vimage != "1" {
            return Err(
                "the kernel has no VIMAGE (kern.features.vimage is not 1): no vnet jails".into()
            );
        }
        for m in MODULES {
            fixed(KLDLOAD, &["-n", m]).map_err(|e| format!("cannot load {m}: {e}"))?;
        }
        for p in [JAIL, JEXEC, super::native::IFCONFIG] {
            if !std::path::Path::new(p).is_file() {
                return Err(format!("{p} is missing"));
            }
        }
        Ok(())
    }

    fn create_jail(&mut self, name: &str) -> Result<(), String> {
        fixed(JAIL, &["-c", &format!("name={name}"), "path=/", "vnet", "persist"]).map(|_| ())
    }

    fn jail_interfaces(&mut self, name: &str) -> Result<Vec<String>, String> {
        let out = fixed(JEXEC, &[name, super::native::IFCONFIG, "-l"])?;
        Ok(out.split_whitespace().map(str::to_owned).collect())
    }

    fn spawn_inside(&mut self, name: &str, args: &[String]) -> Result<Child, String> {
        let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
        Command::new(JEXEC)
            .arg(name)
            .arg(&exe)
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("{JEXEC}: {e}"))
    }

    fn destroy_inside(&mut self, name: &str, ifname: &str) -> Result<(), String> {
        fixed(JEXEC, &[name, super::native::IFCONFIG, ifname, "destroy"]).map(|_| ())
    }

    fn remove_jail(&mut self, name: &str) -> Result<(), String> {
        fixed(JAIL, &["-r", name]).map(|_| ())
    }
}

/// The exit statuses of the command (also in CONTRIBUTING.md).
pub mod exit {
    /// Nothing differed.
    pub const SAME: i32 = 0;
    /// Something differed (or one of lagghook's bodies failed).
    pub const DIFFERED: i32 = 1;
    /// A bad command line (sysexits' EX_USAGE).
    pub const USAGE: i32 = 64;
    /// Refused to start: the harness cannot work in a vnet jail of its own
    /// here (EX_UNAVAILABLE).
    pub const REFUSED: i32 = 69;
    /// The harness failed before it could compare everything
    /// (EX_SOFTWARE).
    pub const FAILED: i32 = 70;
}

/// Signals that stop a run, after its clean-up.
const STOPPERS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The jail's interfaces destroyed (but `lo0`), then the jail removed. Each
/// failure is reported and the rest still tried.
fn clean_up(host: &mut dyn Host, jail: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match host.jail_interfaces(jail) {
        Ok(list) => {
            for i in list.iter().filter(|i| i.as_str() != "lo0") {
                // An epair's peer goes with it: a second failure is none.
                if let Err(e) = host.destroy_inside(jail, i) {
                    let gone = host.jail_interfaces(jail).is_ok_and(|l| !l.contains(i));
                    if !gone {
                        problems.push(e);
                    }
                }
            }
        }
        Err(e) => problems.push(e),
    }
    if let Err(e) = host.remove_jail(jail) {
        problems.push(e);
    }
    problems
}

/// Runs the harness inside a fresh vnet jail named `jail` with `args`
/// (`--inside` and the user's options), and returns the exit status.
pub fn run_in_jail(host: &mut dyn Host, jail: &str, args: &[String]) -> i32 {
    let say = |m: &str| eprintln!("conformance: {m}");
    if let Err(why) = host.preflight() {
        say(&format!("refusing to start: {why}"));
        return exit::REFUSED;
    }
    // Block the stopping signals in this thread and every thread it starts;
    // one thread waits for them. std gives the child an empty mask.
    let mut set = SigSet::empty();
    for s in STOPPERS {
        set.add(s);
    }
    if let Err(e) = set.thread_block() {
        say(&format!("refusing to start: cannot block signals: {e}"));
        return exit::REFUSED;
    }
    let caught = Arc::new(AtomicI32::new(0));
    let child_pid = Arc::new(AtomicI32::new(0));
    {
        let (caught, child_pid) = (Arc::clone(&caught), Arc::clone(&child_pid));
        std::thread::spawn(move || {
            if let Ok(sig) = set.wait() {
                caught.store(sig as i32, Ordering::SeqCst);
                let pid = child_pid.load(Ordering::SeqCst);
                if pid > 0 {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                }
            }
        });
    }
    if let Err(e) = host.create_jail(jail) {
        say(&format!("refusing to start: cannot create a vnet jail: {e}"));
        return exit::REFUSED;
    }
    // A vnet jail starts with lo0 alone; anything else means it shares
    // the host's stack, and the harness would touch the host's interfaces.
    match host.jail_interfaces(jail) {
        Ok(list) if list == ["lo0"] => {}
        Ok(list) => {
            let problems = clean_up(host, jail);
            say(&format!(
                "refusing to start: jail {jail} is no fresh vnet (it lists {})",
                list.join(" ")
            ));
            for p in problems {
                say(&format!("clean-up: {p}"));
            }
            return exit::REFUSED;
        }
        Err(e) => {
            let _ = clean_up(host, jail);
            say(&format!("refusing to start: cannot list jail {jail}'s interfaces: {e}"));
            return exit::REFUSED;
        }
    }
    let status: Result<ExitStatus, String> = host.spawn_inside(jail, args).and_then(|mut child| {
        child_pid.store(i32::try_from(child.id()).unwrap_or(0), Ordering::SeqCst);
        // A signal before the pid was known: stop the child now.
        if caught.load(Ordering::SeqCst) != 0 {
            let _ = child.kill();
        }
        child.wait().map_err(|e| format!("waiting for the harness: {e}"))
    });
    let problems = clean_up(host, jail);
    for p in &problems {
        say(&format!("clean-up: {p}"));
    }
    let sig = caught.load(Ordering::SeqCst);
    if sig != 0 {
        say(&format!("stopped by signal {sig}; jail {jail} and its interfaces removed"));
        return 128 + sig;
    }
    match status {
        Ok(s) => match s.code() {
            Some(code) if problems.is_empty() => code,
            Some(_) => exit::FAILED,
            None => {
                say("the harness inside the jail died of a signal");
                exit::FAILED
            }
        },
        Err(e) => {
            say(&e);
            exit::FAILED
        }
    }
}
