//! A routing socket (`PF_ROUTE`, route(4)) opened to read the messages the
//! kernel broadcasts about interfaces: RTM_IFINFO and RTM_IFANNOUNCE (what
//! `route monitor` prints). The conformance harness reads it inside a vnet
//! jail, where no devd event is raised; [`crate::conformance::rtsock`]
//! turns the messages into the devd events the host would have seen. A
//! socket of the vnet it was opened in hears that vnet's interfaces only
//! (`rts_input` in `sys/net/rtsock.c`). No `unsafe`: nix opens it, std
//! reads it.

use std::fs::File;
use std::io::{self, Read};

use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

/// The largest routing message the harness reads whole: an `if_msghdr` is
/// 168 bytes; address messages are longer but not read for their content.
const MESSAGE_MAX: usize = 2048;

/// An open routing socket.
#[derive(Debug)]
pub struct RouteSocket {
    file: File,
}

impl RouteSocket {
    /// `socket(PF_ROUTE, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)`.
    pub fn open() -> io::Result<RouteSocket> {
        let fd = socket(
            AddressFamily::Route,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
        Ok(RouteSocket { file: File::from(fd) })
    }

    /// Every message queued now, one per read(2), in the kernel's order.
    /// ENOBUFS means the socket's buffer overflowed and messages were lost
    /// (`rt_dispatch`): an error, never a silently shorter list.
    pub fn drain(&mut self) -> io::Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        let mut buf = [0u8; MESSAGE_MAX];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.push(buf[..n].to_vec()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(out),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}
