//! Operating-system backends. This is the only place the crate looks at
//! `target_os`: FreeBSD gets the ioctl backend, every other OS a backend
//! whose every request fails with `Unsupported` (std's `pal/unsupported`
//! pattern), so the rest of the crate builds and runs `-n` anywhere.

/// Local time for people (localtime_r).
pub mod clock;
/// The files lagghook reads and writes: regular, capped, never written
/// through a link.
pub mod file;
/// The probe exchange's Ethernet frames, as bytes (portable, pure).
pub mod frames;
/// The terminal this process runs on and who is logged in (utmpx), for
/// `setup`'s remote-session test.
pub mod login;
/// The host's configuration files under `/`, read-only, for `check`.
pub mod root;
/// SIGXFSZ caught, so a file size limit fails a write (EFBIG) instead of
/// killing the run mid-write.
pub mod signal;
/// Programs lagghook starts: absolute path, clean environment.
pub mod spawn;
/// wpa_supplicant's control interface: the address it uses, asked with a
/// bounded wait (portable Unix; the FreeBSD backend gives it the paths).
pub mod wpa_ctrl;

#[cfg(target_os = "freebsd")]
mod freebsd;
/// A routing socket's raw messages, for the conformance harness.
#[cfg(target_os = "freebsd")]
pub use freebsd::RouteSocket;
#[cfg(target_os = "freebsd")]
pub use freebsd::{arm_alarm, FreeBsdKernel as NativeKernel};

#[cfg(not(target_os = "freebsd"))]
mod unsupported;
#[cfg(not(target_os = "freebsd"))]
pub use unsupported::RouteSocket;
#[cfg(not(target_os = "freebsd"))]
pub use unsupported::{arm_alarm, UnsupportedKernel as NativeKernel};
