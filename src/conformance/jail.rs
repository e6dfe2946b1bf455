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
//! With `--disposable-host` a second part runs after the jail's, in this
//! process and the host's vnet, for what no vnet jail can have: wtap(4)
//! vaps (the wlan cloner exists in the host's vnet only), unloading
//! if_lagg (a jail cannot unload modules: `kern_kldunload` checks
//! `securelevel_gt` and `priv_check(PRIV_KLD_UNLOAD)`, which a jail lacks),
//! and a real devd(8) (`devctl_notify` queues events only from the
//! default vnet, and /dev/devctl has one reader: `devopen` in
//! `sys/kern/kern_devctl.c` answers EBUSY while it is open). It refuses
//! to start unless the host has no lagg and no interface of the harness's
//! names, and the host's rc.conf names none of them; it stops the host's
//! devd for its whole length (so that no rc script reacts to the
//! harness's interfaces while the two worlds are compared) and starts it
//! again afterwards, whatever happened.
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
    /// Why the host-wide part cannot run here: a lagg or an interface of
    /// the harness's names exists already, the host's rc.conf names one
    /// (rc would configure it when devd runs `/etc/pccard_ether`), a
    /// module (wtap, wlan) will not load, a program is missing.
    fn host_preflight(&mut self) -> Result<(), String> {
        Err("this host cannot run the host-wide part".into())
    }
    /// `service devd onestatus`, and `service devd onestop` if it runs:
    /// whether the host's devd ran (and is now stopped).
    fn stop_devd(&mut self) -> Result<bool, String> {
        Ok(false)
    }
    /// `service devd onestart`: the host's devd again.
    fn start_devd(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// What the host-wide part may have left in the host's vnet destroyed:
    /// every lagg (there was none before it), every interface of the
    /// harness's names, the harness's wtap radio. Each problem, the rest
    /// still tried.
    fn clean_host(&mut self) -> Vec<String> {
        Vec::new()
    }
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

    fn host_preflight(&mut self) -> Result<(), String> {
        for m in HOST_MODULES {
            fixed(KLDLOAD, &["-n", m]).map_err(|e| format!("cannot load {m}: {e}"))?;
        }
        for p in [DEVD, SERVICE] {
            if !std::path::Path::new(p).is_file() {
                return Err(format!("{p} is missing"));
            }
        }
        // Every lagg is in the interface group its cloner names
        // (`if_clone_addif` → `if_addgroup(ifp, ifc->ifc_name)`), renamed
        // or not.
        let laggs = fixed(super::native::IFCONFIG, &["-g", "lagg"])?;
        if !laggs.is_empty() {
            return Err(format!(
                "the host has a lagg ({}): unloading if_lagg would fail, and the harness's \
                 laggs must be its own",
                laggs.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
        let all = fixed(super::native::IFCONFIG, &["-l"])?;
        if let Some(mine) = all.split_whitespace().find(|i| is_harness_name(i)) {
            return Err(format!("the host has {mine}, a name the harness uses"));
        }
        rc_conf_names_none()
    }

    fn stop_devd(&mut self) -> Result<bool, String> {
        if fixed(SERVICE, &["devd", "onestatus"]).is_err() {
            return Ok(false);
        }
        fixed(SERVICE, &["devd", "onestop"]).map(|_| true)
    }

    fn start_devd(&mut self) -> Result<(), String> {
        fixed(SERVICE, &["devd", "onestart"]).map(|_| ())
    }

    fn clean_host(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut listed = |args: &[&str]| match fixed(super::native::IFCONFIG, args) {
            Ok(out) => out.split_whitespace().map(str::to_owned).collect::<Vec<_>>(),
            Err(e) => {
                problems.push(e);
                Vec::new()
            }
        };
        let mut ours = listed(&["-g", "lagg"]);
        ours.extend(listed(&["-l"]).into_iter().filter(|i| is_harness_name(i)));
        for i in &ours {
            if let Err(e) = fixed(super::native::IFCONFIG, &[i, "destroy"]) {
                // An epair's peer goes with it.
                let gone = fixed(super::native::IFCONFIG, &["-l"])
                    .is_ok_and(|l| !l.split_whitespace().any(|x| x == i));
                if !gone {
                    problems.push(e);
                }
            }
        }
        // Its vaps go with it (`free_wtap` → `ieee80211_ifdetach`); EINVAL
        // is "there was none".
        match crate::sys::wtap::delete(super::world::WTAP_ID) {
            Err(e) if e.raw_os_error() != Some(libc::EINVAL) => {
                problems.push(format!("wtap d {}: {e}", super::world::WTAP_ID));
            }
            _ => {}
        }
        problems
    }
}

/// devd(8) and service(8).
pub const DEVD: &str = "/usr/sbin/devd";
pub const SERVICE: &str = "/usr/sbin/service";
/// What the host-wide part loads besides [`MODULES`]: wtap(4), which
/// needs wlan(4) (`MODULE_DEPEND(wtap, wlan, 1, 1, 1)`).
pub const HOST_MODULES: [&str; 2] = ["wlan", "wtap"];

/// Whether `name` is one the harness gives its interfaces.
pub fn is_harness_name(name: &str) -> bool {
    super::world::PREFIXES.iter().any(|p| name.starts_with(p)) || name == super::bodies::DEVD_LAGG
}

/// The rc.conf files a `/etc/pccard_ether IF start` run by devd reads
/// (`load_rc_config pccard_ether` and `network`: `/etc/rc.conf`,
/// `/etc/rc.conf.local`, then `rc.conf.d/pccard_ether` and
/// `rc.conf.d/network` under `/etc` and `/usr/local/etc`, see
/// `cli::check`'s reader). None may name an interface of the harness:
/// rc would configure it, perhaps with the host's own ports (an
/// `ifconfig_lagg0="laggport em0"` on a laptop). `ifconfig_DEFAULT` is
/// allowed (FreeBSD's VM images set `DHCP inet6 accept_rtadv`): rc then
/// runs dhclient on the harness's ports, which reaches no network.
fn rc_conf_names_none() -> Result<(), String> {
    let mut files = vec!["/etc/rc.conf".to_owned(), "/etc/rc.conf.local".to_owned()];
    for dir in ["/etc/rc.conf.d", "/usr/local/etc/rc.conf.d"] {
        for name in ["pccard_ether", "network", "netif"] {
            let path = std::path::Path::new(dir).join(name);
            match std::fs::read_dir(&path) {
                Ok(entries) => {
                    files.extend(entries.flatten().map(|e| e.path().display().to_string()))
                }
                Err(_) => files.push(path.display().to_string()),
            }
        }
    }
    for file in files {
        let path = std::path::Path::new(&file);
        if let Ok(text) = crate::sys::file::read_regular(path, crate::sys::file::Links::Follow) {
            if let Some(why) = rc_conf_problem(&file, &text) {
                return Err(why);
            }
        }
    }
    Ok(())
}

/// What in one rc.conf file names an interface of the harness, if
/// anything: a variable rc reads for it (`ifconfig_lhc0`,
/// `create_args_lagg4217`, `ifconfig_lhc0_alias0`), or a value that lists
/// it (`cloned_interfaces="lagg4217"`).
pub fn rc_conf_problem(file: &str, text: &str) -> Option<String> {
    let mut vars = crate::domain::rc_vars::RcVars::new();
    vars.source(file, text);
    let found = vars
        .with_prefix("")
        .find(|(name, value)| harness_var(name) || value.split_whitespace().any(is_harness_name));
    found.map(|(name, _)| {
        format!(
            "{file} sets {name}, which names an interface of the harness: rc would configure it"
        )
    })
}

/// `ifconfig_lhc0`, `create_args_lagg4217`, `ifconfig_lhc0_alias0`: a
/// variable rc reads for an interface of the harness.
fn harness_var(word: &str) -> bool {
    word.split('_').any(is_harness_name)
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
    run(host, jail, args, None)
}

/// The host-wide part: it runs in this process, after the jail's part,
/// and returns its exit status; it polls [`Stopper::caught`] between
/// steps and gives up when a signal came.
pub type HostPart<'a> = &'a mut dyn FnMut(&Stopper) -> i32;

/// The signal watch of a run: one thread waits for SIGINT, SIGTERM or
/// SIGHUP (blocked in every other thread), notes it, and stops the child
/// the run waits for, if any.
#[derive(Debug, Clone, Default)]
pub struct Stopper {
    caught: Arc<AtomicI32>,
    child: Arc<AtomicI32>,
}

impl Stopper {
    /// The signal that stopped the run, 0 while none came.
    pub fn caught(&self) -> i32 {
        self.caught.load(Ordering::SeqCst)
    }

    /// Blocks the stopping signals in this thread and every thread it
    /// starts, and starts the one that waits for them. std gives a child
    /// process an empty mask.
    fn install() -> Result<Stopper, String> {
        let mut set = SigSet::empty();
        for s in STOPPERS {
            set.add(s);
        }
        set.thread_block().map_err(|e| format!("cannot block signals: {e}"))?;
        let stopper = Stopper::default();
        let (caught, child) = (Arc::clone(&stopper.caught), Arc::clone(&stopper.child));
        std::thread::spawn(move || {
            if let Ok(sig) = set.wait() {
                caught.store(sig as i32, Ordering::SeqCst);
                let pid = child.load(Ordering::SeqCst);
                if pid > 0 {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                }
            }
        });
        Ok(stopper)
    }
}

/// The worse of two exit statuses: a failed harness, then a refusal, then
/// a difference, then none.
pub fn worse(a: i32, b: i32) -> i32 {
    let rank = |s: i32| match s {
        exit::SAME => 0,
        exit::DIFFERED => 1,
        exit::REFUSED => 2,
        _ => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// [`run_in_jail`], then, with `host_part`, the host-wide part with the
/// host's devd stopped (see the module doc). The host's side is refused
/// before anything starts, and cleaned and its devd started again after a
/// failure or a signal too.
pub fn run(
    host: &mut dyn Host,
    jail: &str,
    args: &[String],
    host_part: Option<HostPart<'_>>,
) -> i32 {
    let say = |m: &str| eprintln!("conformance: {m}");
    if let Err(why) = host.preflight() {
        say(&format!("refusing to start: {why}"));
        return exit::REFUSED;
    }
    if host_part.is_some() {
        if let Err(why) = host.host_preflight() {
            say(&format!("refusing to start the host-wide part (--disposable-host): {why}"));
            return exit::REFUSED;
        }
    }
    let stopper = match Stopper::install() {
        Ok(s) => s,
        Err(e) => {
            say(&format!("refusing to start: {e}"));
            return exit::REFUSED;
        }
    };
    let status = jail_part(host, jail, args, &stopper);
    let sig = stopper.caught();
    if sig != 0 {
        say(&format!("stopped by signal {sig}; jail {jail} and its interfaces removed"));
        return 128 + sig;
    }
    let Some(part) = host_part else { return status };
    if status == exit::REFUSED {
        return status;
    }
    let ran = match host.stop_devd() {
        Ok(ran) => ran,
        Err(e) => {
            say(&format!("cannot stop the host's devd: {e}"));
            return worse(status, exit::FAILED);
        }
    };
    let on_host = part(&stopper);
    let mut problems = host.clean_host();
    if ran {
        if let Err(e) = host.start_devd() {
            problems.push(format!("the host's devd did not start again: {e}"));
        }
    }
    for p in &problems {
        say(&format!("clean-up: {p}"));
    }
    let sig = stopper.caught();
    if sig != 0 {
        say(&format!(
            "stopped by signal {sig}; the harness's interfaces removed from the host{}",
            if ran { ", its devd started again" } else { "" }
        ));
        return 128 + sig;
    }
    let on_host = if problems.is_empty() { on_host } else { worse(on_host, exit::FAILED) };
    worse(status, on_host)
}

/// The part in the jail: create it, check it is a fresh vnet, run the
/// harness inside, clean up.
fn jail_part(host: &mut dyn Host, jail: &str, args: &[String], stopper: &Stopper) -> i32 {
    let say = |m: &str| eprintln!("conformance: {m}");
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
        stopper.child.store(i32::try_from(child.id()).unwrap_or(0), Ordering::SeqCst);
        // A signal before the pid was known: stop the child now.
        if stopper.caught() != 0 {
            let _ = child.kill();
        }
        let waited = child.wait().map_err(|e| format!("waiting for the harness: {e}"));
        stopper.child.store(0, Ordering::SeqCst);
        waited
    });
    let problems = clean_up(host, jail);
    for p in &problems {
        say(&format!("clean-up: {p}"));
    }
    match status {
        Ok(s) => match s.code() {
            Some(code) if problems.is_empty() => code,
            Some(_) => exit::FAILED,
            None if stopper.caught() != 0 => exit::FAILED,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves the host-wide part's rc.conf check finds a variable rc reads
    /// for one of the harness's interfaces, or a list naming one, and lets
    /// a VM image's `ifconfig_DEFAULT` and the host's own ports be.
    #[test]
    fn rc_conf_naming_a_harness_interface_is_refused() {
        let ok = "ifconfig_DEFAULT=\"DHCP inet6 accept_rtadv\"\nifconfig_em0=\"up\"\n\
                  cloned_interfaces=\"lagg0\"\nifconfig_lagg0=\"laggport em0 DHCP\"\n";
        assert_eq!(rc_conf_problem("/etc/rc.conf", ok), None);
        for bad in [
            "ifconfig_lhc0=\"up\"\n",
            "ifconfig_lhc1_alias0=\"inet 192.0.2.1/24\"\n",
            "create_args_lagg4217=\"laggproto lacp\"\n",
            "cloned_interfaces=\"lagg0 lagg4217\"\n",
            "wlans_wtap61=\"lhw0\"\n",
        ] {
            let why = rc_conf_problem("/etc/rc.conf.local", bad).unwrap_or_default();
            assert!(why.starts_with("/etc/rc.conf.local sets "), "{bad}: {why:?}");
        }
        assert_eq!(worse(exit::SAME, exit::DIFFERED), exit::DIFFERED);
        assert_eq!(worse(exit::REFUSED, exit::DIFFERED), exit::REFUSED);
        assert_eq!(worse(exit::DIFFERED, exit::FAILED), exit::FAILED);
    }
}
