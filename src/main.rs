//! lagghook(8): every command, for the administrator and for rc.d.

use std::process::ExitCode;

use lagghook::cli::{self, args::USAGE, command, status};

fn main() -> ExitCode {
    cli::main(command::execute, USAGE, Some(status::error_json))
}
