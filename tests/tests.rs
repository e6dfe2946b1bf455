//! The single integration-test binary (one link, one run; as ripgrep does).

/// ABI: struct sizes, offsets and request numbers vs FreeBSD's own headers.
mod abi;
/// The FreeBSD CI files: the Cirrus file's keys, the workflow's matrix.
mod ci_files;
/// The binary as devd and an administrator run it.
mod cli;
/// The same bodies against the simulator and (root, FreeBSD) the real kernel.
mod conformance;
/// Man pages and docs stay in step with the code.
mod docs;
/// `check` as a doctor on simulated broken laptops; `simulate -c`.
mod doctor;
/// Failing kernel calls and a world changing mid-run.
mod faults;
/// Hostile input: refused with one line, nothing changed.
mod hostile;
/// The identity file across runs, reboots and docking (`-k sim:PATH`).
mod identity;
/// What gets installed and README's steps, against the sources they name.
mod install;
/// Rules about the source the compiler cannot check: one file reader.
mod lint;
/// Every message template in src/ against the artefacts an administrator
/// should never read.
mod messages;
/// Issue 20: random storms of the network happenings.
mod net_properties;
/// The port skeleton: what portlint cannot know (Makefile.crates, distinfo).
mod port;
/// Random machines: one run converges, a second plans nothing.
mod properties;
/// What a run writes when the disk is full or a file has another link.
mod save;
/// End-to-end scenario files on the simulated kernel, dispatched as devd does.
mod scenarios;
/// `setup` on simulated laptops: what `-n` prints, what a run writes.
mod setup;
/// `status` as a monitor and an administrator read it (issue 16).
mod status;
/// Shared helpers for the tests that run the binary.
mod support;
/// The command line as people type it: -h, -V, options after the command.
mod usage;
