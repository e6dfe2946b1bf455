//! lagghook-devd: the program devd(8) runs, lagghook(8)'s `event` command
//! alone. devd handles no other event while it waits for an action, so the
//! program it runs holds only what an event needs: without `status`,
//! `check`, `setup` and the scenario harness it maps half the code, and a
//! run touches less memory and starts sooner.

use std::process::ExitCode;

use lagghook::cli::{self, args::DEVD_USAGE, command};

fn main() -> ExitCode {
    cli::main(command::execute_event, DEVD_USAGE, None)
}
