//! lagghook(8): parse the command line, run it, report any error once.

use std::io::Write;
use std::process::ExitCode;

use lagghook::cli::args::{self, USAGE};
use lagghook::cli::command;
use lagghook::run::error::{exit_code, Error};
use lagghook::run::log::Logger;

fn main() -> ExitCode {
    let parsed = args::parse(std::env::args_os().skip(1));
    // The one log sink of the process, whatever the command line says.
    let mut log = Logger::new(parsed.as_ref().is_ok_and(|inv| inv.verbose));
    let result =
        parsed.and_then(|inv| command::execute(&inv, &mut log, &mut std::io::stdout().lock()));
    if let Err(e) = &result {
        if !e.already_reported() {
            log.fatal(&e.to_string());
        }
        if matches!(e, Error::Usage(_)) {
            // eprintln! would abort on an unwritable stderr.
            let _ = writeln!(std::io::stderr().lock(), "{USAGE}");
        }
    }
    exit_code(&result)
}
