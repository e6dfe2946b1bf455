//! The front end: argv → a command, carried out against the chosen kernel,
//! and the commands that only report (`status`, `check`, `rc-conf`).

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use crate::run::error::{exit_code, Error};
use crate::run::log::{Log, Logger};

/// Command line parsing; `USAGE` is the man page SYNOPSIS.
pub mod args;
/// `check`: the configuration, the kernel and the system's files, and
/// what a reconcile would change.
pub mod check;
/// Carries out a parsed command line against the chosen kernel.
pub mod command;
/// Standard output, where a closed pipe is not an error.
pub mod output;
/// rc.conf(5) lines for a configuration (`rc-conf`).
pub mod rc_conf;
/// `setup`: the whole set-up from what the kernel shows.
pub mod setup;
/// `simulate`: the scenario harness with this front end as devd's program.
pub mod simulate;
/// `status`: the kernel reported against the configuration.
pub mod status;

/// How a program carries out its parsed command line:
/// [`command::execute`] (`lagghook`) or [`command::execute_event`]
/// (`lagghook-devd`).
pub type Execute = fn(&args::Invocation, &mut dyn Log, &mut dyn Write) -> Result<(), Error>;

/// How a program that has `status -j` prints an error as JSON on standard
/// output ([`status::error_json`]); `lagghook-devd` has none.
pub type JsonError = fn(&Error) -> String;

/// A program's `main`: parse the command line, run it with `execute`,
/// report any error once (with `usage` after a usage error) and turn the
/// outcome into the documented exit status. Under `status -j`, an error
/// is also printed as `json_error` writes it, so a monitor that reads
/// standard output always reads JSON.
pub fn main(execute: Execute, usage: &str, json_error: Option<JsonError>) -> ExitCode {
    crate::sys::signal::survive_file_size_limit();
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    let parsed = args::parse(argv.iter().cloned());
    let json = match &parsed {
        Ok(inv) => inv.json && inv.command == args::Command::Status,
        // A command line that does not parse may still have asked for it.
        Err(_) => args::asks_for_json_status(&argv),
    };
    // The one log sink of the process, whatever the command line says.
    let mut log = Logger::new(parsed.as_ref().is_ok_and(|inv| inv.verbose));
    let result = parsed.and_then(|inv| execute(&inv, &mut log, &mut std::io::stdout().lock()));
    if let Err(e) = &result {
        // A verdict is the report itself; an unwritable output takes no
        // second try.
        let printed = matches!(e, Error::Verdict(_) | Error::Output(_));
        if let (true, false, Some(json_error)) = (json, printed, json_error) {
            let _ = output::write_out(&mut std::io::stdout().lock(), &json_error(e));
        }
        if !e.already_reported() {
            log.fatal(&e.to_string());
        }
        if matches!(e, Error::Usage(_)) {
            // eprintln! would abort on an unwritable stderr.
            let _ = writeln!(std::io::stderr().lock(), "{usage}");
        }
    }
    exit_code(&result)
}
