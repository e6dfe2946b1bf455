//! The conformance command (`cargo run --example conformance -- [OPTIONS]`,
//! as root on FreeBSD 14 or 15): refuses to start unless it can work in a
//! vnet jail of its own, runs itself inside one, prints the report and
//! exits 0 when nothing differed (see [`super::jail::exit`] for the rest).
//!
//! Usage: `conformance [--seed N] [--random N] [--steps N] [--report FILE]
//! [--brief] [--disposable-host]`
//! - `--seed N`: the random sequences' seed (default: from the clock; the
//!   report prints it, so a run can be repeated);
//! - `--random N`, `--steps N`: how many random sequences, how long
//!   (default 8 of 30 steps);
//! - `--report FILE`: also write the report there;
//! - `--brief`: print only the steps that differ, and the answers;
//! - `--disposable-host`: on a machine you can throw away, also run what
//!   only the host's vnet can, after the jail's part and in this process
//!   ([`super::jail::run`]): wtap(4) vaps, unloading if_lagg, a real devd
//!   running lagghook's rules with the freshly built lagghook-devd (`cargo
//!   build --locked --bins` first; it must be beside this program's
//!   directory, `target/PROFILE/`, and no older than it). It refuses to
//!   start while the host has a lagg or an interface of the harness's
//!   names, or its rc.conf names one, and stops the host's devd while it
//!   runs.

use std::path::{Path, PathBuf};

use super::bodies;
use super::devd_files;
use super::jail::{exit, run, FreeBsdHost, Host, Stopper};
use super::native::NativeWorld;
use super::report::{ask, play, BodyReport, Report};
use super::sequence::{fixed, host_probes, host_sequences, probes, random};
use super::world::{SimWorld, World, WorldError};

/// The options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub seed: u64,
    pub random: usize,
    pub steps: usize,
    pub report: Option<PathBuf>,
    pub brief: bool,
    pub disposable_host: bool,
    /// Internal: this process runs inside the jail the host side made.
    pub inside: bool,
}

pub const USAGE: &str = "usage: conformance [--seed N] [--random N] [--steps N] \
                         [--report FILE] [--brief] [--disposable-host]";

/// Parses the command line (without the program name).
pub fn parse(args: &[String]) -> Result<Options, String> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let mut o = Options {
        seed,
        random: 8,
        steps: 30,
        report: None,
        brief: false,
        disposable_host: false,
        inside: false,
    };
    let mut it = args.iter();
    let number = |flag: &str, v: Option<&String>| -> Result<u64, String> {
        v.and_then(|v| v.parse().ok()).ok_or_else(|| format!("{flag} wants a number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => o.seed = number(a, it.next())?,
            "--random" => o.random = usize::try_from(number(a, it.next())?).unwrap_or(8),
            "--steps" => o.steps = usize::try_from(number(a, it.next())?).unwrap_or(30),
            "--report" => {
                let v = it.next().ok_or("--report wants a file")?;
                let p = PathBuf::from(v);
                // The jail's root is /, so an absolute path is the same file
                // inside and out.
                o.report = Some(match std::env::current_dir() {
                    Ok(cwd) if p.is_relative() => cwd.join(p),
                    _ => p,
                });
            }
            "--brief" => o.brief = true,
            "--disposable-host" => o.disposable_host = true,
            "--inside" => o.inside = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    Ok(o)
}

/// The arguments the inside process gets.
fn inside_args(o: &Options) -> Vec<String> {
    let mut v = vec![
        "--inside".to_owned(),
        "--seed".to_owned(),
        o.seed.to_string(),
        "--random".to_owned(),
        o.random.to_string(),
        "--steps".to_owned(),
        o.steps.to_string(),
    ];
    if let Some(r) = &o.report {
        v.push("--report".to_owned());
        v.push(r.display().to_string());
    }
    if o.brief {
        v.push("--brief".to_owned());
    }
    // Not --disposable-host: nothing host-wide runs in the jail (a jail
    // cannot unload modules, has no wlan cloner and no devd events); the
    // host-wide part runs out here.
    v
}

/// Everything in both worlds, into a report.
pub fn compare_all(
    o: &Options,
    kernel: &mut dyn World,
    sim: &mut dyn World,
    header: Vec<String>,
) -> Result<Report, WorldError> {
    let mut report = Report { header, ..Report::default() };
    for s in fixed().iter().chain(&random(o.seed, o.random, o.steps)) {
        report.sequences.push(play(s, kernel, sim)?);
    }
    for p in probes().iter().chain(&host_probes()) {
        report.probes.push(ask(p, kernel, sim)?);
    }
    for b in bodies::all().iter().chain(&bodies::host()) {
        let k = bodies::run_body(b, kernel);
        let s = bodies::run_body(b, sim);
        report.bodies.push(BodyReport { name: b.name.to_owned(), kernel: k, sim: s });
    }
    kernel.reset()?;
    Ok(report)
}

/// What only the host's vnet can play, in both worlds, into a report: the
/// wtap sequences and probes, the host-wide bodies.
pub fn compare_host(
    kernel: &mut dyn World,
    sim: &mut dyn World,
    header: Vec<String>,
) -> Result<Report, WorldError> {
    let part = " (the host-wide part, --disposable-host)".to_owned();
    let mut report = Report { header, part, ..Report::default() };
    for s in host_sequences() {
        report.sequences.push(play(&s, kernel, sim)?);
    }
    for p in host_probes() {
        report.probes.push(ask(&p, kernel, sim)?);
    }
    for b in bodies::host() {
        let k = bodies::run_body(&b, kernel);
        let s = bodies::run_body(&b, sim);
        report.bodies.push(BodyReport { name: b.name.to_owned(), kernel: k, sim: s });
    }
    kernel.reset()?;
    Ok(report)
}

/// The freshly built lagghook-devd the host-wide devd runs: `lagghook-devd`
/// in the directory above this program's (cargo puts examples in
/// `target/PROFILE/examples/`, binaries in `target/PROFILE/`), no older
/// than the library both link (`liblagghook.rlib` there: a lagghook-devd
/// older than it was built from other sources; this program itself may
/// be linked after it by the same `cargo build`).
pub fn devd_program(this: &Path) -> Result<PathBuf, String> {
    let build = "build it: cargo build --locked --bins";
    let dir = this.parent().and_then(Path::parent).ok_or("this program has no directory")?;
    let program = dir.join("lagghook-devd");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified());
    let theirs = modified(&program)
        .map_err(|e| format!("no lagghook-devd at {} ({e}); {build}", program.display()))?;
    if modified(&dir.join("liblagghook.rlib")).is_ok_and(|lib| theirs < lib) {
        return Err(format!("{} is older than the library; {build}", program.display()));
    }
    Ok(program)
}

/// The host-wide part: the host's vnet against the simulator, its report
/// printed (and appended to the report file), its exit status.
fn host_part(o: &Options, stopper: &Stopper, program: &Path) -> i32 {
    let mut kernel = match NativeWorld::on_host(stopper.clone(), program.to_owned()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("conformance: {e}");
            return exit::FAILED;
        }
    };
    let header = vec![
        "where: the host's vnet; the host's devd stopped, and started again afterwards".to_owned(),
        format!("lagghook-devd: {}", program.display()),
    ];
    let report = match compare_host(&mut kernel, &mut SimWorld::new(), header) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conformance: the host-wide part failed: {e}");
            let _ = kernel.reset();
            return exit::FAILED;
        }
    };
    publish(o, &report, "\n", devd_files::append)
}

/// Prints `report` (only what differs under `--brief`), keeps all of it in
/// the report file with `keep` (written anew by the jail's part, appended
/// to by the host-wide part), and returns the exit status it means.
fn publish(
    o: &Options,
    report: &Report,
    lead: &str,
    keep: fn(&Path, &str) -> std::io::Result<()>,
) -> i32 {
    print!("{lead}{}", if o.brief { report.render_brief() } else { report.render() });
    if let Some(path) = &o.report {
        if let Err(e) = keep(path, &format!("{lead}{}", report.render())) {
            eprintln!("conformance: {}: {e}", path.display());
            return exit::FAILED;
        }
    }
    if report.differences() == 0 {
        exit::SAME
    } else {
        exit::DIFFERED
    }
}

/// The lines that say what was compared with what.
fn header(o: &Options) -> Vec<String> {
    let uname = std::process::Command::new("/usr/bin/uname")
        .arg("-a")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    vec![
        format!("kernel: {uname}"),
        "where: a vnet jail the harness created (no devd event is raised there: events come \
         from the routing socket)"
            .to_owned(),
        format!(
            "seed: {} ({} random sequences of {} steps; the same again: --seed {})",
            o.seed, o.random, o.steps, o.seed
        ),
    ]
}

/// The inside process: both worlds, the report, the exit status.
fn inside(o: &Options) -> i32 {
    let mut kernel = match NativeWorld::open(false) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("conformance: {e}");
            return exit::FAILED;
        }
    };
    let mut sim = SimWorld::new();
    let report = match compare_all(o, &mut kernel, &mut sim, header(o)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conformance: the harness failed: {e}");
            let _ = kernel.reset();
            return exit::FAILED;
        }
    };
    publish(o, &report, "", |path, text| std::fs::write(path, text))
}

/// The command's body, with the host it runs on (the tests give a
/// recording one).
pub fn run_with_host(args: &[String], host: &mut dyn Host) -> i32 {
    let o = match parse(args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::USAGE;
        }
    };
    if o.inside {
        return inside(&o);
    }
    let jail = format!("lagghook-conformance-{}", std::process::id());
    if !o.disposable_host {
        return run(host, &jail, &inside_args(&o), None);
    }
    let program = match std::env::current_exe().map_err(|e| e.to_string()) {
        Ok(this) => devd_program(&this),
        Err(e) => Err(format!("this program's path: {e}")),
    };
    let program = match program {
        Ok(p) => p,
        Err(why) => {
            eprintln!("conformance: refusing to start the host-wide part: {why}");
            return exit::REFUSED;
        }
    };
    let mut part = |stopper: &Stopper| host_part(&o, stopper, &program);
    run(host, &jail, &inside_args(&o), Some(&mut part))
}

/// `main` of the example.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run_with_host(&args, &mut FreeBsdHost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    /// Proves the host-wide part finds lagghook-devd beside the example's
    /// directory and refuses it when it is missing or older than the
    /// library, whatever the example's own age.
    #[test]
    fn lagghook_devd_is_the_freshly_built_one() {
        let dir =
            std::env::temp_dir().join(format!("lagghook-devd-program-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("examples")).unwrap();
        let this = dir.join("examples/conformance");
        let at = |p: &Path, secs: u64| {
            let f = std::fs::File::create(p).unwrap();
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            f.set_modified(t).unwrap();
        };
        at(&this, 3000);
        assert!(devd_program(&this).unwrap_err().contains("no lagghook-devd"));
        at(&dir.join("liblagghook.rlib"), 2000);
        at(&dir.join("lagghook-devd"), 1000);
        assert!(devd_program(&this).unwrap_err().contains("older than the library"));
        at(&dir.join("lagghook-devd"), 2500);
        assert_eq!(devd_program(&this).unwrap(), dir.join("lagghook-devd"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn options_parse_and_go_inside_unchanged() {
        let o = parse(&args("--seed 7 --random 2 --steps 5 --brief --report /tmp/r")).unwrap();
        assert_eq!((o.seed, o.random, o.steps, o.brief), (7, 2, 5, true));
        let again = parse(&inside_args(&o)).unwrap();
        assert_eq!(again, Options { inside: true, ..o.clone() });
        // The jail's process never runs what is host-wide.
        let host = parse(&args("--seed 7 --disposable-host")).unwrap();
        assert!(host.disposable_host);
        assert!(!parse(&inside_args(&host)).unwrap().disposable_host);
        assert!(parse(&args("--seed")).is_err());
        assert!(parse(&args("--frobnicate")).unwrap_err().contains("usage"));
    }
}
