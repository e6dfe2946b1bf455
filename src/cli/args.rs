//! Command line: argv → [`Invocation`]. [`USAGE`] is lagghook(8)'s
//! SYNOPSIS, word for word (a test compares them).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::domain::config;
use crate::run::error::Error;

/// Printed on a usage error; identical to the man page SYNOPSIS.
pub const USAGE: &str = "\
usage: lagghook [-nv] [-c file] [-k kernel] event system subsystem type
       lagghook [-nv] [-c file] [-k kernel] event line
       lagghook [-nv] [-c file] [-k kernel] reconcile
       lagghook [-jv] [-c file] [-k kernel] status
       lagghook [-c file] [-k kernel] check
       lagghook [-bv] simulate [file]
       lagghook [-c file] devd-conf
       lagghook [-c file] [-k kernel] rc-conf";

/// The subcommand and its operands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// devd's `$system $subsystem $type`, or one raw event line.
    Event(Vec<String>),
    Reconcile,
    Status,
    Check,
    Simulate(Option<PathBuf>),
    DevdConf,
    /// rc.conf(5) lines for the configuration.
    RcConf,
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
    pub kernel: KernelChoice,
    /// `-n`: print the plan, change nothing.
    pub dry_run: bool,
    /// `-v`: log to stderr too, with detail.
    pub verbose: bool,
    /// `-j`: `status` as JSON.
    pub json: bool,
    /// `-b`: `simulate` without lagghook, stock devd rules only.
    pub baseline: bool,
}

/// Parses `args` (without the program name).
pub fn parse<I>(args: I) -> Result<Invocation, Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;

    let usage = |msg: String| Error::Usage(msg);
    let mut parser = lexopt::Parser::from_args(args);
    let mut config = PathBuf::from(config::DEFAULT_PATH);
    let mut kernel = KernelChoice::Native;
    let (mut dry_run, mut verbose, mut json, mut baseline) = (false, false, false, false);
    let mut words: Vec<String> = Vec::new();
    let mut given: Vec<char> = Vec::new();
    while let Some(arg) = parser.next().map_err(|e| usage(e.to_string()))? {
        match arg {
            Short('n') => {
                given.push('n');
                dry_run = true;
            }
            Short('v') => {
                given.push('v');
                verbose = true;
            }
            Short('j') => {
                given.push('j');
                json = true;
            }
            Short('b') => {
                given.push('b');
                baseline = true;
            }
            Short('c') => {
                given.push('c');
                config = parser.value().map_err(|e| usage(e.to_string()))?.into();
            }
            Short('k') => {
                given.push('k');
                let v = parser.value().map_err(|e| usage(e.to_string()))?;
                kernel = parse_kernel(&v.string().map_err(|e| usage(e.to_string()))?)?;
            }
            Value(v) => {
                words.push(v.string().map_err(|e| usage(format!("argument is not UTF-8: {e}")))?);
                // Operands after the command word are data (a raw devd
                // line starts with '!'), never options.
                words.extend(
                    parser
                        .raw_args()
                        .map_err(|e| usage(e.to_string()))?
                        .map(|a| {
                            a.into_string()
                                .map_err(|a| usage(format!("argument {a:?} is not UTF-8")))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                );
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
    let command = match name.as_str() {
        "event" => match operands.len() {
            1 | 3 => Command::Event(operands.clone()),
            n => return Err(usage(format!("event: want 3 operands or 1 devd line, got {n}"))),
        },
        "reconcile" => none(Command::Reconcile)?,
        "status" => none(Command::Status)?,
        "check" => none(Command::Check)?,
        "devd-conf" => none(Command::DevdConf)?,
        "rc-conf" => none(Command::RcConf)?,
        "simulate" => match operands.as_slice() {
            [] => Command::Simulate(None),
            [file] => Command::Simulate(Some(PathBuf::from(file))),
            [_, extra, ..] => return Err(usage(format!("simulate: unexpected operand {extra:?}"))),
        },
        other => return Err(usage(format!("unknown command {other:?}"))),
    };
    // Each command takes the options its SYNOPSIS line shows and no other,
    // so no option is silently ignored.
    let allowed = options_of(&command);
    if let Some(flag) = given.iter().find(|f| !allowed.contains(**f)) {
        return Err(usage(format!("{name}: option -{flag} does not apply")));
    }
    Ok(Invocation { command, config, kernel, dry_run, verbose, json, baseline })
}

/// The option letters `command`'s SYNOPSIS line ([`USAGE`]) shows.
fn options_of(command: &Command) -> &'static str {
    match command {
        Command::Event(_) | Command::Reconcile => "nvck",
        Command::Status => "jvck",
        Command::Check | Command::RcConf => "ck",
        Command::Simulate(_) => "bv",
        Command::DevdConf => "c",
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
        ] {
            assert!(matches!(p(bad), Err(Error::Usage(_))), "{bad:?} accepted");
        }
    }
}
