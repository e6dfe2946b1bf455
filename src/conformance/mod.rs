//! The differential conformance harness: the same kernel happenings played
//! on a real FreeBSD kernel, inside a vnet jail the harness creates, and on
//! the simulator, with everything userland can observe compared after each
//! step, and a report that names every difference. A difference is a
//! simulator bug to fix, or an exception cited in the simulator's code and
//! listed in CONTRIBUTING.md. Also here: lagghook's own conformance bodies,
//! which run lagghook against either world, and the command a FreeBSD user
//! runs (`cargo run --example conformance`).
//!
//! Layer 6, beside [`crate::scenario`]: a verification harness the product
//! path never uses. It drives the simulator through its public rules and
//! the real kernel through fixed `ifconfig`/`jail` commands and lagghook's
//! own backend; the FreeBSD-only parts (the routing socket) come through
//! [`crate::sys`], so this module compiles, and its simulator half runs,
//! everywhere.
//!
//! - [`step`]: the happenings, one line each;
//! - [`world`]: a world ([`world::World`]) and the simulator as one;
//! - [`observe`]: what is compared, and how addresses and cloner-picked
//!   names are shown alike in both worlds;
//! - [`compare`]: the differences, events compared as FreeBSD orders them;
//! - [`sequence`]: the fixed sequences, the probes, the random ones;
//! - [`report`]: playing them side by side, and the report;
//! - [`rtsock`]: routing-socket messages as the devd events the host would
//!   have seen (interfaces in a vnet jail raise none);
//! - [`native`]: the vnet jail's kernel as a world;
//! - [`jail`]: the host's side: refusing to start, the jail, cleaning up
//!   after a failure or a signal;
//! - [`bodies`]: lagghook's conformance bodies;
//! - [`command`]: the command.

pub mod bodies;
pub mod command;
pub mod compare;
pub mod jail;
pub mod native;
pub mod observe;
pub mod report;
pub mod rtsock;
pub mod sequence;
pub mod step;
pub mod world;
