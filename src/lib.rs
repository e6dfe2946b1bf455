//! lagghook keeps a FreeBSD lagg(4) failover between a wired NIC and a wlan
//! vap in its configured shape. devd(8) runs it on IFNET events; each run
//! observes the kernel, plans the smallest repair, applies it and exits.
//!
//! The layers, each a folder, each importing only the ones above it here:
//!
//! 0. [`abi`]: FreeBSD's facts (struct mirrors, request numbers, sizes,
//!    limits, errnos), the one home of each; a leaf that imports nothing
//!    from the crate, so every layer takes its FreeBSD numbers from there.
//! 1. [`domain`]: the pure core (value types, configuration, devd events,
//!    the planner, transition lines). No I/O.
//! 2. [`devd`]: devd.conf as FreeBSD's devd reads and dispatches it, and the
//!    rules lagghook generates. No I/O either.
//! 3. [`kernel`]: the seam, one method per kernel request; [`root`]: the
//!    seam to the system's configuration files, read-only, for `check`.
//! 4. [`sys`] (the OS: FreeBSD's ioctls, and the files and programs lagghook
//!    touches) and [`sim`] (a simulated FreeBSD kernel) implement both; the
//!    simulator keeps its machine file through `sys::file`, never the
//!    other way round.
//! 5. [`run`]: one run against any kernel: rounds of observe, plan and
//!    apply; the state file and its lock; the log.
//! 6. [`scenario`]: the verification harness that plays scenario files
//!    through the simulator and devd's dispatch; [`conformance`]: the
//!    differential harness that plays the same happenings on FreeBSD and
//!    on the simulator. The product path (`event`, `reconcile`) uses
//!    neither.
//! 7. [`cli`]: the command line and the commands.
#![deny(unsafe_code)]

/// FreeBSD's ABI facts: `#[repr(C)]` mirrors, the ioctl encoding, and every
/// FreeBSD constant and errno the crate uses; compiled on every OS so host
/// tests can check it against FreeBSD's headers.
pub mod abi;
/// The command line and the commands.
pub mod cli;
/// The differential conformance harness: the same happenings on FreeBSD
/// (in a vnet jail) and on the simulator, every difference reported.
pub mod conformance;
/// devd(8): its configuration language, its dispatch, FreeBSD's stock
/// rules and lagghook's generated ones.
pub mod devd;
/// The pure core: model, config, event, plan, transition.
pub mod domain;
/// The kernel trait every backend implements, and its error type.
pub mod kernel;
/// Read-only access to the system's configuration files under a root,
/// for `check`: the host's `/` or a simulated machine's files.
pub mod root;
/// One lagghook run: lock → observe → plan → apply → log → state.
pub mod run;
/// Scenario files: executable specifications run on the simulated kernel.
pub mod scenario;
/// The simulated FreeBSD kernel (if.c, if_lagg.c, net80211 rules).
pub mod sim;
/// Operating-system backends; the only `target_os` switch in the crate.
pub mod sys;
