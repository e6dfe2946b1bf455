//! lagghook keeps a FreeBSD lagg(4) failover between a wired NIC and a wlan
//! vap in its configured shape. devd(8) runs it on IFNET events; each run
//! observes the kernel, plans the smallest repair, applies it and exits.
//!
//! The pure core (`model`, `config`, `event`, `plan`, `transition`) makes no
//! OS call. `kernel` is the seam: `sys` implements it with FreeBSD's ioctls
//! (and nothing elsewhere), `sim` with a simulated FreeBSD kernel. `apply`,
//! `run`, `state`, `log`, `command`, `status` and `cli` run it; `devd` and
//! `scenario` let scenarios drive it the way devd would.
#![deny(unsafe_code)]

/// Executes a plan against a kernel, continuing past a failing port.
pub mod apply;
/// Command line parsing; `USAGE` is the man page SYNOPSIS.
pub mod cli;
/// Carries out a parsed command line against the chosen kernel.
pub mod command;
/// lagghook.toml parsing and validation.
pub mod config;
/// devd rules: generation for a config, and devd's one-rule-per-event dispatch.
pub mod devd;
/// Top-level error and exit codes.
pub mod error;
/// devd event lines and arguments.
pub mod event;
/// The kernel trait every backend implements, and its error type.
pub mod kernel;
/// The syslog / stderr sink.
pub mod log;
/// Value types: interface names, MAC addresses, lagg protocols, snapshots.
pub mod model;
/// The reconcile planner: (config, snapshot) → ordered actions. Pure.
pub mod plan;
/// rc.conf(5) lines for a configuration (`rc-conf`).
pub mod rc;
/// One lagghook run: lock → observe → plan → apply → log → state.
pub mod run;
/// Scenario files: executable specifications run on the simulated kernel.
pub mod scenario;
/// The simulated FreeBSD kernel (if_lagg.c, if.c, net80211 rules).
pub mod sim;
/// The state file under /var/run/lagghook: last topology, times, lock.
pub mod state;
/// `status` and `check`: reports on the kernel against the configuration.
pub mod status;
/// Operating-system backends; the only `target_os` switch in the crate.
pub mod sys;
/// Transitions between two observations, as log lines.
pub mod transition;
