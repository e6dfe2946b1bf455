//! The one signal lagghook changes for itself: SIGXFSZ, which the kernel
//! sends a process whose write would pass its file size limit
//! (RLIMIT_FSIZE, `ulimit -f`), with the write failing EFBIG. Its default
//! action terminates the process: FreeBSD's `sigproptbl` has `[SIGXFSZ] =
//! SIGPROP_KILL` (`sys/kern/kern_sig.c`, fel1x-developer/freebsd-src at
//! 2d614aa2fe3e037bd11d351b0b5cfda776e65814), sent by `vn_send_sigxfsz`
//! from `vn_rlimit_fsizex1` just before it returns EFBIG
//! (`sys/kern/vfs_vnops.c`, the same tree at
//! 2c17d335008c6d4affa497471bfc24d0213a12b8); Linux's default is to dump
//! core (signal(7)). Killed there, a run would leave its temporary file
//! and a half-written state behind. With the signal caught, the write
//! fails with EFBIG like any other failed write, and `sys::file`'s clean-up
//! (the temporary file removed, a failed append cut back) runs.
//!
//! Caught by a handler that does nothing, rather than set to SIG_IGN: an
//! ignored signal stays ignored in the programs lagghook starts (rc
//! scripts, sysrc), a caught one returns to its default at execve(2)
//! (`execsigs` → `sig_drop_caught` in the same `kern_sig.c`), so they
//! start as FreeBSD starts any program. The `unsafe` here is sigaction(2).

#![allow(unsafe_code)]

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

/// Does nothing: the failed write reports the limit (EFBIG).
extern "C" fn file_size_exceeded(_: libc::c_int) {}

/// Makes SIGXFSZ harmless to this process (see the module's
/// documentation). Called once, first thing in `main`; a failure leaves
/// the default, which is no worse than before.
pub fn survive_file_size_limit() {
    let action = SigAction::new(
        SigHandler::Handler(file_size_exceeded),
        // Other system calls go on rather than fail EINTR.
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler is an empty `extern "C"` function, so it touches
    // no memory and calls nothing (it is async-signal-safe); the process
    // has one thread when `main` calls this, and `action` lives across the
    // call, which copies it.
    let _ = unsafe { sigaction(Signal::SIGXFSZ, &action) };
}
