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
//!   only the host's vnet can: unloading if_lagg (it refuses to start
//!   while any lagg exists). Nothing else touches the host.

use std::path::PathBuf;

use super::bodies;
use super::jail::{exit, run_in_jail, FreeBsdHost, Host};
use super::native::NativeWorld;
use super::report::{ask, play, BodyReport, Report};
use super::sequence::{fixed, probes, random};
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
    if o.disposable_host {
        v.push("--disposable-host".to_owned());
    }
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
    for p in probes() {
        report.probes.push(ask(&p, kernel, sim)?);
    }
    for b in bodies::all() {
        let k = bodies::run_body(&b, kernel);
        let s = bodies::run_body(&b, sim);
        report.bodies.push(BodyReport { name: b.name.to_owned(), kernel: k, sim: s });
    }
    kernel.reset()?;
    Ok(report)
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
        format!(
            "where: {}",
            if o.disposable_host {
                "a vnet jail, and the host's vnet for the host-wide bodies"
            } else {
                "a vnet jail the harness created (no devd event is raised there: events come \
                 from the routing socket)"
            }
        ),
        format!(
            "seed: {} ({} random sequences of {} steps; the same again: --seed {})",
            o.seed, o.random, o.steps, o.seed
        ),
    ]
}

/// The inside process: both worlds, the report, the exit status.
fn inside(o: &Options) -> i32 {
    let mut kernel = match NativeWorld::open(o.disposable_host) {
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
    let text = if o.brief { report.render_brief() } else { report.render() };
    print!("{text}");
    if let Some(path) = &o.report {
        if let Err(e) = std::fs::write(path, report.render()) {
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
    run_in_jail(host, &jail, &inside_args(&o))
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

    #[test]
    fn options_parse_and_go_inside_unchanged() {
        let o = parse(&args("--seed 7 --random 2 --steps 5 --brief --report /tmp/r")).unwrap();
        assert_eq!((o.seed, o.random, o.steps, o.brief), (7, 2, 5, true));
        let again = parse(&inside_args(&o)).unwrap();
        assert_eq!(again, Options { inside: true, ..o });
        assert!(parse(&args("--seed")).is_err());
        assert!(parse(&args("--frobnicate")).unwrap_err().contains("usage"));
    }
}
