//! Command line: argv → [`Invocation`]. [`USAGE`] is lagghook(8)'s
//! SYNOPSIS, word for word (a test compares them).
//!
//! Options may come before or after the command word (`lagghook status
//! -j`), except after `event`: its operands are devd's data, a raw line or
//! three words, and are taken as they are, never as options.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::domain::config;
use crate::domain::model::IfName;
use crate::domain::text;
use crate::run::error::Error;

/// Printed by `-h` and after a usage error; identical to the man page
/// SYNOPSIS.
pub const USAGE: &str = "\
usage: lagghook [-nv] [-c file] [-k kernel] event system subsystem type
       lagghook [-nv] [-c file] [-k kernel] event line
       lagghook [-nv] [-c file] [-k kernel] reconcile
       lagghook [-nv] [-c file] [-k kernel] resume
       lagghook [-v] [-c file] [-k kernel] netcheck lagg generation
       lagghook [-jv] [-c file] [-k kernel] status
       lagghook [-c file] [-k kernel] check
       lagghook [-bv] [-c file] simulate [file]
       lagghook [-c file] devd-conf
       lagghook [-c file] [-k kernel] rc-conf
       lagghook [-fnv] [-c file] [-e wired] [-k kernel] [-m port] [-w wireless] setup
       lagghook -h
       lagghook -V";

/// `lagghook-devd`'s usage: `lagghook`'s `event` lines alone (see
/// [`crate::cli::command::execute_event`]).
pub const DEVD_USAGE: &str = "\
usage: lagghook-devd [-nv] [-c file] [-k kernel] event system subsystem type
       lagghook-devd [-nv] [-c file] [-k kernel] event line";

/// What `-V` prints: the program and the package version it was built
/// from.
pub const VERSION: &str = concat!("lagghook ", env!("CARGO_PKG_VERSION"));

/// The subcommand and its operands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// devd's `$system $subsystem $type`, or one raw event line.
    Event(Vec<String>),
    Reconcile,
    /// `reconcile` after a resume (rc.d/lagghook's `resume`): also starts
    /// the network check of every lagg that carries traffic.
    Resume,
    /// The detached network-check helper the devd run starts.
    Netcheck {
        lagg: crate::domain::model::IfName,
        generation: u64,
    },
    Status,
    Check,
    Simulate(Option<PathBuf>),
    DevdConf,
    /// rc.conf(5) lines for the configuration.
    RcConf,
    /// Set the laptop up: configuration, rc.conf, devd rules, reconcile.
    Setup,
    /// `-h`: print [`USAGE`] to standard output.
    Help,
    /// `-V`: print [`VERSION`].
    Version,
}

/// Which kernel to work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelChoice {
    /// The running OS's (FreeBSD's ioctls; unsupported elsewhere).
    Native,
    /// `-k sim:PATH`: a simulated kernel kept in PATH, shared by runs.
    Sim(PathBuf),
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    pub config: PathBuf,
    /// `-c` was given: `simulate` then runs the scenario with `config`
    /// instead of the scenario's own configuration.
    pub config_given: bool,
    pub kernel: KernelChoice,
    /// `-n`: print the plan, change nothing.
    pub dry_run: bool,
    /// `-v`: log to stderr too, with detail.
    pub verbose: bool,
    /// `-j`: `status` as JSON.
    pub json: bool,
    /// `-b`: `simulate` without lagghook, stock devd rules only.
    pub baseline: bool,
    /// `setup`'s own options.
    pub setup: SetupOptions,
}

/// What `setup` is told rather than left to find out (issue 16, points 1
/// and 3; issue 19.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupOptions {
    /// `-e IF`, in the order given: the wired ports, the first preferred.
    pub wired: Vec<IfName>,
    /// `-w IF`: the radio, or a vap on it.
    pub wireless: Option<IfName>,
    /// `-m PORT`: the port whose hardware address the lagg and every port
    /// carry (the configuration's `mac`); a vap clones in the other
    /// direction, the WiFi's address onto the cable.
    pub mac: Option<IfName>,
    /// `-f`: reconfigure the running system now even over a remote
    /// session whose traffic may run over a port setup moves.
    pub live: bool,
}

/// Parses `args` (without the program name).
pub fn parse<I>(args: I) -> Result<Invocation, Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;

    let usage = |msg: String| Error::Usage(msg);
    let utf8 =
        |v: OsString| v.into_string().map_err(|v| usage(format!("argument {v:?} is not UTF-8")));
    let mut parser = lexopt::Parser::from_args(args);
    // `command` is set once the words are read.
    let mut inv = Invocation {
        command: Command::Help,
        config: PathBuf::from(config::DEFAULT_PATH),
        config_given: false,
        kernel: KernelChoice::Native,
        dry_run: false,
        verbose: false,
        json: false,
        baseline: false,
        setup: SetupOptions::default(),
    };
    let mut words: Vec<String> = Vec::new();
    let mut given: Vec<char> = Vec::new();
    while let Some(arg) = parser.next().map_err(|e| usage(e.to_string()))? {
        match arg {
            // Help and version end the parse where they stand: whatever
            // follows is not looked at, as with most tools.
            Short('h') | Long("help") => return Ok(Invocation { command: Command::Help, ..inv }),
            Short('V') => return Ok(Invocation { command: Command::Version, ..inv }),
            Short('n') => {
                given.push('n');
                inv.dry_run = true;
            }
            Short('v') => {
                given.push('v');
                inv.verbose = true;
            }
            Short('j') => {
                given.push('j');
                inv.json = true;
            }
            Short('b') => {
                given.push('b');
                inv.baseline = true;
            }
            Short('f') => {
                given.push('f');
                inv.setup.live = true;
            }
            Short(letter @ ('e' | 'w' | 'm')) => {
                given.push(letter);
                let v = utf8(parser.value().map_err(|e| usage(e.to_string()))?)?;
                let name = IfName::new(&v).map_err(|e| usage(format!("-{letter} {v:?}: {e}")))?;
                match letter {
                    'e' if inv.setup.wired.contains(&name) => {
                        return Err(usage(format!("-e {name}: given twice")));
                    }
                    'e' => inv.setup.wired.push(name),
                    'w' if inv.setup.wireless.is_some() => {
                        return Err(usage("-w: one radio or vap, given once".into()));
                    }
                    'w' => inv.setup.wireless = Some(name),
                    _ if inv.setup.mac.is_some() => {
                        return Err(usage("-m: one port, given once".into()));
                    }
                    _ => inv.setup.mac = Some(name),
                }
            }
            Short('c') => {
                given.push('c');
                inv.config_given = true;
                let file = parser.value().map_err(|e| usage(e.to_string()))?;
                // An empty name is no file: said so here, not as a file
                // that cannot be read under no name at all.
                if file.is_empty() {
                    return Err(usage("-c: the configuration file name is empty".into()));
                }
                inv.config = file.into();
            }
            Short('k') => {
                given.push('k');
                let v = parser.value().map_err(|e| usage(e.to_string()))?;
                inv.kernel = parse_kernel(&utf8(v)?)?;
            }
            Value(v) => {
                words.push(utf8(v)?);
                // devd passes `event` data it got from the kernel: a raw
                // line starts with '!' and an interface or type could
                // start with '-'. None of it may turn into an option.
                if words.len() == 1 && words[0] == "event" {
                    for a in parser.raw_args().map_err(|e| usage(e.to_string()))? {
                        words.push(utf8(a)?);
                    }
                }
            }
            other => return Err(usage(other.unexpected().to_string())),
        }
    }
    let Some((name, operands)) = words.split_first() else {
        return Err(usage("no command given".into()));
    };
    let operands = operands.to_vec();
    let none = |cmd: Command| {
        if operands.is_empty() {
            Ok(cmd)
        } else {
            Err(usage(format!("{name}: unexpected operand {:?}", operands[0])))
        }
    };
    inv.command = match name.as_str() {
        "event" => match operands.len() {
            1 | 3 => Command::Event(operands.clone()),
            n => return Err(usage(format!("event: want 3 operands or 1 devd line, got {n}"))),
        },
        "reconcile" => none(Command::Reconcile)?,
        "resume" => none(Command::Resume)?,
        "netcheck" => match operands.as_slice() {
            [lagg, generation] => {
                let bad = |what: &str| usage(format!("netcheck: {what}"));
                let lagg = crate::domain::model::IfName::new(lagg)
                    .ok()
                    .filter(|l| config::is_lagg_name(l.as_str()))
                    .ok_or_else(|| bad(&format!("{} is not a lagg", text::echo(lagg))))?;
                let generation = generation
                    .parse::<u64>()
                    .ok()
                    .filter(|g| generation.bytes().all(|b| b.is_ascii_digit()) && *g > 0)
                    .ok_or_else(|| {
                        bad(&format!("{} is not a generation", text::echo(generation)))
                    })?;
                Command::Netcheck { lagg, generation }
            }
            _ => return Err(usage("netcheck: want a lagg and a generation".into())),
        },
        "status" => none(Command::Status)?,
        "check" => none(Command::Check)?,
        "devd-conf" => none(Command::DevdConf)?,
        "rc-conf" => none(Command::RcConf)?,
        "setup" => none(Command::Setup)?,
        "simulate" => match operands.as_slice() {
            [] => Command::Simulate(None),
            [file] if file.is_empty() => {
                return Err(usage("simulate: the scenario file name is empty".into()))
            }
            [file] => Command::Simulate(Some(PathBuf::from(file))),
            [_, extra, ..] => return Err(usage(format!("simulate: unexpected operand {extra:?}"))),
        },
        other => return Err(usage(format!("unknown command {other:?}"))),
    };
    // Each command takes the options its SYNOPSIS line shows and no other,
    // so no option is silently ignored.
    let allowed = options_of(&inv.command);
    if let Some(flag) = given.iter().find(|f| !allowed.contains(**f)) {
        return Err(usage(format!("{name}: option -{flag} does not apply")));
    }
    Ok(inv)
}

/// Whether `args`, a command line [`parse`] refused, asked for `status -j`:
/// a short option group holding `j`, and `status` as the command word.
/// Read as `parse` reads it (the value of `-c` and `-k` skipped, nothing
/// after `--` an option, nothing after `event` at all), so that a monitor's
/// `lagghook -j status` with a typo still gets its answer as JSON.
pub fn asks_for_json_status(args: &[OsString]) -> bool {
    let (mut json, mut command, mut options) = (false, None, true);
    let mut args = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        match arg.strip_prefix('-') {
            _ if arg == "--" => options = false,
            Some(group) if options && !group.is_empty() && !group.starts_with('-') => {
                for (i, letter) in group.char_indices() {
                    json |= letter == 'j';
                    if matches!(letter, 'c' | 'k' | 'e' | 'w' | 'm') {
                        // The rest of the group, or the next argument, is its value.
                        if i + 1 == group.len() {
                            args.next();
                        }
                        break;
                    }
                }
            }
            _ if command.is_none() => {
                if arg == "event" {
                    return false;
                }
                command = Some(arg.into_owned());
            }
            _ => {}
        }
    }
    json && command.as_deref() == Some("status")
}

/// The option letters `command`'s SYNOPSIS line ([`USAGE`]) shows. A new
/// option for a command is its letter here, its arm in [`parse`] and its
/// place in USAGE and the man page.
fn options_of(command: &Command) -> &'static str {
    match command {
        Command::Event(_) | Command::Reconcile | Command::Resume => "nvck",
        Command::Netcheck { .. } => "vck",
        Command::Setup => "fnvckewm",
        Command::Status => "jvck",
        Command::Check | Command::RcConf => "ck",
        Command::Simulate(_) => "bvc",
        Command::DevdConf => "c",
        // Never reached: -h and -V return before the check.
        Command::Help | Command::Version => "",
    }
}

fn parse_kernel(value: &str) -> Result<KernelChoice, Error> {
    match value.split_once(':') {
        Some(("sim", path)) if !path.is_empty() => Ok(KernelChoice::Sim(PathBuf::from(path))),
        _ if value == "native" => Ok(KernelChoice::Native),
        _ => Err(Error::Usage(format!("-k {value:?}: want \"native\" or \"sim:FILE\""))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Invocation, Error> {
        parse(args.iter().copied())
    }

    /// The helper's command line takes a lagg and a positive generation,
    /// nothing else (it is built by lagghook, never by devd's data).
    #[test]
    fn netcheck_takes_a_lagg_and_a_generation() {
        let i = p(&["netcheck", "lagg0", "12"]).unwrap();
        let lagg = crate::domain::model::IfName::new("lagg0").unwrap();
        assert_eq!(i.command, Command::Netcheck { lagg, generation: 12 });
        for bad in [
            &["netcheck", "em0", "1"][..],
            &["netcheck", "lagg0", "0"],
            &["netcheck", "lagg0", "+1"],
            &["netcheck", "lagg0"],
            &["netcheck", "lagg0", "1", "x"],
            &["-n", "netcheck", "lagg0", "1"],
        ] {
            assert!(matches!(p(bad), Err(Error::Usage(_))), "{bad:?}");
        }
        assert_eq!(p(&["resume"]).unwrap().command, Command::Resume);
    }

    #[test]
    fn devd_arguments_and_raw_lines_are_operands() {
        let i = p(&["event", "IFNET", "wlan0", "ATTACH"]).unwrap();
        assert_eq!(
            i.command,
            Command::Event(vec!["IFNET".into(), "wlan0".into(), "ATTACH".into()])
        );
        let i = p(&["-v", "event", "!system=IFNET subsystem=wlan0 type=ATTACH"]).unwrap();
        assert!(i.verbose);
        assert_eq!(
            i.command,
            Command::Event(vec!["!system=IFNET subsystem=wlan0 type=ATTACH".into()])
        );
        // Something that looks like an option after the command is data.
        let i = p(&["event", "-n"]).unwrap();
        assert!(!i.dry_run);
    }

    #[test]
    fn options_and_defaults() {
        let i = p(&["-n", "-c", "/tmp/x.toml", "-k", "sim:/tmp/k.toml", "reconcile"]).unwrap();
        assert_eq!(i.config, PathBuf::from("/tmp/x.toml"));
        assert_eq!(i.kernel, KernelChoice::Sim("/tmp/k.toml".into()));
        assert!(i.dry_run);
        let i = p(&["status"]).unwrap();
        assert_eq!(i.config, PathBuf::from("/usr/local/etc/lagghook.toml"));
        assert_eq!(i.kernel, KernelChoice::Native);
    }

    #[test]
    fn options_may_follow_the_command_word() {
        let i = p(&["status", "-j", "-c", "/tmp/x.toml"]).unwrap();
        assert_eq!(i.command, Command::Status);
        assert!(i.json);
        assert_eq!(i.config, PathBuf::from("/tmp/x.toml"));
        let i = p(&["-c", "/tmp/x.toml", "reconcile", "-nv"]).unwrap();
        assert_eq!(i.command, Command::Reconcile);
        assert!(i.dry_run && i.verbose);
        let i = p(&["simulate", "day.toml", "-v"]).unwrap();
        assert_eq!(i.command, Command::Simulate(Some("day.toml".into())));
        assert!(i.verbose && !i.config_given);
        // Issue 10, point 11: a scenario replayed with one's own configuration.
        let i = p(&["simulate", "-c", "/tmp/mine.toml", "day.toml"]).unwrap();
        assert!(i.config_given);
        assert_eq!(i.config, PathBuf::from("/tmp/mine.toml"));
        // `--` ends the options: a scenario file may be named "-v".
        let i = p(&["simulate", "--", "-v"]).unwrap();
        assert_eq!(i.command, Command::Simulate(Some("-v".into())));
        assert!(!i.verbose);
        // After the command word the per-command sets still hold.
        assert!(matches!(p(&["status", "-n"]), Err(Error::Usage(_))));
        assert!(matches!(p(&["reconcile", "-j"]), Err(Error::Usage(_))));
    }

    #[test]
    fn event_operands_are_never_options() {
        // Three words that look like options are three operands.
        let i = p(&["event", "-c", "x", "-n"]).unwrap();
        assert_eq!(i.command, Command::Event(vec!["-c".into(), "x".into(), "-n".into()]));
        assert!(!i.dry_run);
        assert_eq!(i.config, PathBuf::from(config::DEFAULT_PATH));
        // Two are two operands, a usage error, not `-c x` and no event.
        assert!(matches!(p(&["event", "-c", "x"]), Err(Error::Usage(_))));
        // Neither help nor `--` is special there.
        assert_eq!(p(&["event", "-h"]).unwrap().command, Command::Event(vec!["-h".into()]));
        let i = p(&["event", "--", "IFNET", "em0"]).unwrap();
        assert_eq!(i.command, Command::Event(vec!["--".into(), "IFNET".into(), "em0".into()]));
    }

    #[test]
    fn help_and_version() {
        for args in [&["-h"][..], &["--help"], &["status", "-h"], &["-n", "-h", "reconcile"]] {
            assert_eq!(p(args).unwrap().command, Command::Help, "{args:?}");
        }
        assert_eq!(p(&["-V"]).unwrap().command, Command::Version);
        assert_eq!(p(&["check", "-V"]).unwrap().command, Command::Version);
        assert_eq!(VERSION, format!("lagghook {}", env!("CARGO_PKG_VERSION")));
        // What came before -h is still parsed, and can be wrong.
        assert!(matches!(p(&["-x", "-h"]), Err(Error::Usage(_))));
    }

    /// Issue 16, point 3: setup is told its interfaces, each option in
    /// place, `-e` repeated in preference order; other commands refuse them.
    #[test]
    fn setup_takes_its_interfaces_and_f() {
        let i =
            p(&["setup", "-e", "ue0", "-e", "em0", "-w", "iwlwifi0", "-m", "em0", "-f"]).unwrap();
        let n = |s: &str| IfName::new(s).unwrap();
        assert_eq!(
            i.setup,
            SetupOptions {
                wired: vec![n("ue0"), n("em0")],
                wireless: Some(n("iwlwifi0")),
                mac: Some(n("em0")),
                live: true,
            }
        );
        for bad in [
            &["setup", "-e", "em0", "-e", "em0"][..],
            &["setup", "-w", "a0", "-w", "b0"],
            &["setup", "-m", "em0", "-m", "em1"],
            &["setup", "-e", "em 0"],
            &["reconcile", "-e", "em0"],
            &["check", "-f"],
        ] {
            assert!(matches!(p(bad), Err(Error::Usage(_))), "{bad:?} accepted");
        }
    }

    /// Issue 16, point 7: a refused `status -j` is still known to want
    /// JSON; `-j` as the value of `-c` or after `event` is not an option.
    #[test]
    fn a_refused_command_line_that_asked_for_json_status() {
        let asks = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            asks_for_json_status(&args)
        };
        assert!(asks(&["-j", "status", "now"]));
        assert!(asks(&["status", "-jx"]));
        assert!(asks(&["-vj", "-k", "qemu", "status"]));
        assert!(asks(&["-c", "x.toml", "status", "-j", "-n"]));
        assert!(!asks(&["-c", "-j", "status", "-x"]));
        assert!(!asks(&["-cj", "status", "-x"]));
        assert!(!asks(&["status", "--", "-j"]));
        assert!(!asks(&["-j", "reconcile", "now"]));
        assert!(!asks(&["event", "status", "-j", "x"]));
        assert!(!asks(&["status", "-x"]));
        // setup's -e, -w and -m take a value too.
        assert!(!asks(&["-e", "-j", "status", "-x"]));
        assert!(asks(&["-w", "wlan0", "-j", "status", "now"]));
    }

    #[test]
    fn usage_errors() {
        for bad in [
            &[][..],
            &["frobnicate"],
            &["event", "IFNET", "em0"],
            &["reconcile", "now"],
            &["-x", "status"],
            &["-k", "qemu", "status"],
            &["simulate", "a", "b"],
            &["-j", "reconcile"],
            &["-b", "reconcile"],
            &["-n", "status"],
            &["--json", "status"],
            &["--version"],
            &["status", "-k"],
            &["status", "-j", "now"],
        ] {
            assert!(matches!(p(bad), Err(Error::Usage(_))), "{bad:?} accepted");
        }
    }
}
