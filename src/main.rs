//! lagghook(8): parse the command line, run it, report any error once.

use std::io::IsTerminal;
use std::process::ExitCode;

use lagghook::cli::args::{self, USAGE};
use lagghook::cli::command;
use lagghook::run::error::{exit_code, Error};
use lagghook::run::log::{Level, Log, Logger};

fn main() -> ExitCode {
    let result = args::parse(std::env::args_os().skip(1))
        .and_then(|inv| command::execute(&inv, &mut std::io::stdout().lock()));
    if let Err(e) = &result {
        if !e.already_reported() {
            eprintln!("lagghook: {e}");
            if !std::io::stderr().is_terminal() {
                if let Some(mut syslog) = Logger::syslog_only() {
                    syslog.log(Level::Err, &e.to_string());
                }
            }
        }
        if matches!(e, Error::Usage(_)) {
            eprintln!("{USAGE}");
        }
    }
    exit_code(&result)
}
