//! lagghook(8): parse the command line, run it, report any error once.

use std::io::IsTerminal;
use std::process::ExitCode;

use lagghook::cli::{self, USAGE};
use lagghook::command;
use lagghook::error::{exit_code, Error};
use lagghook::log::{Level, Log, Logger};

fn main() -> ExitCode {
    let result = cli::parse(std::env::args_os().skip(1))
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
