//! Who is logged in, and on which terminal this process runs: what
//! `setup` needs to tell a remote session from a local one when the
//! environment does not say (sudo(8) drops `SSH_CONNECTION`). The terminal
//! is ttyname(3) of standard input, output or error; the logins are the
//! utmpx(5) database's `USER_PROCESS` entries, read with getutxent(3),
//! which FreeBSD keeps in `/var/run/utx.active` (`lib/libc/gen/getutxent.c`)
//! and Linux's C library in `/var/run/utmp`. Portable Unix; the `unsafe`
//! is getutxent's, which std and nix do not wrap.

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io::{stderr, stdin, stdout};

/// One login session, as utmpx records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The terminal below `/dev`: `ttyv0`, `pts/3`.
    pub line: String,
    /// Where it comes from: the remote host for a network login, a display
    /// (`:0`) or nothing for a local one.
    pub host: String,
}

/// The terminal of standard input, else output, else error (`/dev/pts/3`),
/// as tty(1) names it; `None` when none of them is a terminal.
pub fn terminal() -> Option<String> {
    let names = [
        nix::unistd::ttyname(stdin()),
        nix::unistd::ttyname(stdout()),
        nix::unistd::ttyname(stderr()),
    ];
    names.into_iter().find_map(|n| n.ok()).map(|p| p.to_string_lossy().into_owned())
}

/// The logins utmpx lists now (`USER_PROCESS`), in its order.
pub fn logins() -> Vec<Login> {
    let text = |chars: &[libc::c_char]| {
        let bytes: Vec<u8> = chars.iter().map(|&c| c as u8).collect();
        CStr::from_bytes_until_nul(&bytes)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned())
    };
    let mut logins = Vec::new();
    // SAFETY: setutxent/getutxent/endutxent keep their state in the C
    // library; this process calls them from one thread only (setup runs
    // no other), and each entry getutxent returns is copied out before the
    // next call, which may overwrite it. A null pointer ends the database.
    unsafe {
        libc::setutxent();
        loop {
            let entry = libc::getutxent();
            if entry.is_null() {
                break;
            }
            let entry = &*entry;
            if entry.ut_type == libc::USER_PROCESS {
                logins.push(Login { line: text(&entry.ut_line), host: text(&entry.ut_host) });
            }
        }
        libc::endutxent();
    }
    logins
}
