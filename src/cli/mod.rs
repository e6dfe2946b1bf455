//! The front end: argv → a command, carried out against the chosen kernel,
//! and the commands that only report (`status`, `check`, `rc-conf`).

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
