//! wpa_supplicant's control interface, asked one thing: which address a
//! vap's wpa_supplicant uses as its own ([`WpaAddress`]). What it owns:
//! whether wpa_supplicant runs for the vap (its pidfile), the one `STATUS`
//! request and the bounded wait for its answer, and reading that answer.
//! What it does not own: what the address means (the planner compares it
//! with the vap's), or restarting wpa_supplicant (`Kernel::
//! restart_wpa_supplicant`).
//!
//! Portable Unix without `unsafe` (std's `UnixDatagram`, nix's `kill(2)`
//! and `poll(2)`), so it is tested on any host against a stand-in server;
//! the FreeBSD backend calls it with FreeBSD's paths ([`WpaCtrl::freebsd`]).
//!
//! The protocol, as read in hostap as FreeBSD imports it (`contrib/wpa` of
//! `freebsd/freebsd-src`; commits abbreviated, full ones in each item):
//! - `rc.d/wpa_supplicant` runs `wpa_supplicant -B -i IF … -P
//!   /var/run/wpa_supplicant/IF.pid` (`libexec/rc/rc.d/wpa_supplicant` at
//!   023fc80ee38a117fa65b2ccb2abf8bdc7dbd6fd9). `os_daemonize` writes the
//!   pid there as `"%u\n"` after daemon(3), and `os_daemonize_terminate`
//!   removes the file when wpa_supplicant exits cleanly
//!   (`contrib/wpa/src/utils/os_unix.c` at
//!   1acaba7eff7b5c0010caa7b4a43218256e4ce862). A pidfile left behind by a
//!   wpa_supplicant that was killed names a dead process.
//! - With `ctrl_interface=DIR` in its configuration, wpa_supplicant binds a
//!   datagram socket at `DIR/IF` (`wpas_ctrl_iface_open_sock`,
//!   `wpa_supplicant_ctrl_iface_path`) and answers every datagram with one
//!   datagram sent back to the sender's address
//!   (`wpa_supplicant_ctrl_iface_receive`: `recvfrom`, then `sendto(from)`),
//!   all in `contrib/wpa/wpa_supplicant/ctrl_iface_unix.c` at
//!   1a1679562a940b8ec0f2189adb09f150e1405e09. So a client must be bound to
//!   a path of its own to get an answer: hostap's own client library binds
//!   `/tmp/wpa_ctrl_PID-N` (`wpa_ctrl_open2` in
//!   `contrib/wpa/src/common/wpa_ctrl.c` at
//!   25d65ba7f715648fbce1c931adb620224b18339e). lagghook binds in its own
//!   root-only directory instead, never in /tmp, where any user can take a
//!   name first or send to it.
//! - FreeBSD's wpa_supplicant.conf(5) (`usr.sbin/wpa/wpa_supplicant/
//!   wpa_supplicant.conf.5` at fa9896e082a1046ff4fbc75fcba4d18d1f2efc19) has
//!   no default `ctrl_interface`; its example, which this module assumes,
//!   is `ctrl_interface=/var/run/wpa_supplicant`. Without one (or with
//!   another directory) there is no socket to ask: [`WpaAddress::Unknown`].
//! - `STATUS` is answered by `wpa_supplicant_ctrl_iface_status`
//!   (`contrib/wpa/wpa_supplicant/ctrl_iface.c` at 1a1679562a94…): lines of
//!   `key=value\n`, among them always one `address=` with `MACSTR` of
//!   `wpa_s->own_addr` (lower-case `xx:xx:xx:xx:xx:xx`), associated or not.
//!   Other keys end in `address` too (`p2p_device_address=`, `ip_address=`),
//!   so only a line that starts with `address=` counts.
//! - A datagram starting with `<` (or `IFNAME=`) is an unsolicited event
//!   message, which only a client that sent `ATTACH` should get;
//!   `wpa_ctrl_request` skips such datagrams while it waits for its answer,
//!   and so does [`WpaCtrl::own_address`].
//!
//! Nothing here fails: whatever goes wrong, on wpa_supplicant's side or in
//! setting up lagghook's own end of the socket (not root, a directory that
//! is not lagghook's), the answer is [`WpaAddress::Unknown`], which the
//! planner treats with care. devd waits for every run, so a slow, stuck
//! or hostile wpa_supplicant costs one run at most [`TIMEOUT`] per vap and
//! never its repairs.

use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::domain::layer3::WpaState;
use crate::domain::model::{IfName, MacAddr, WpaAddress};
use crate::sys::file::{self, Links};

/// Where rc's wpa_supplicant keeps its pidfiles (`IF.pid`) and, with
/// wpa_supplicant.conf(5)'s `ctrl_interface=/var/run/wpa_supplicant`, its
/// control sockets (`IF`).
pub const RUN_DIR: &str = "/var/run/wpa_supplicant";

/// lagghook's own directory (root's alone, mode 0700), where its end of
/// the socket is bound: the same one as its state and lock
/// (`run::state::DEFAULT_DIR`, which a test keeps equal).
pub const CLIENT_DIR: &str = "/var/run/lagghook";

/// The longest a run waits for one wpa_supplicant, from the request to
/// the answer: a wpa_supplicant busy for longer is `Unknown`.
pub const TIMEOUT: Duration = Duration::from_millis(200);

/// A pid is at most 10 digits and a newline; anything longer is not a
/// pidfile wpa_supplicant wrote.
const PIDFILE_CAP: u64 = 32;

/// The receive buffer: a `STATUS` answer is a few hundred bytes; a longer
/// datagram is cut here, and an `address=` line cut in the middle does
/// not parse.
const REPLY_CAP: usize = 8192;

/// Where one wpa_supplicant control interface client looks and binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WpaCtrl {
    /// Holds `IF.pid` and the control socket `IF`.
    pub run_dir: PathBuf,
    /// Holds the client's bound socket, `wpa-PID`; made private (0700)
    /// before use, and refused if it is not the effective user's.
    pub client_dir: PathBuf,
    /// The whole wait for an answer.
    pub timeout: Duration,
}

impl WpaCtrl {
    /// FreeBSD's paths: [`RUN_DIR`], [`CLIENT_DIR`], [`TIMEOUT`].
    pub fn freebsd() -> WpaCtrl {
        WpaCtrl {
            run_dir: PathBuf::from(RUN_DIR),
            client_dir: PathBuf::from(CLIENT_DIR),
            timeout: TIMEOUT,
        }
    }

    /// What wpa_supplicant says its own address for `wlan` is. It is asked
    /// with `STATUS` on `RUN_DIR/IF`, from a socket bound at
    /// `CLIENT_DIR/wpa-PID` that is removed again before this returns,
    /// whatever happened; `RUN_DIR/IF.pid` decides what silence means:
    /// - [`WpaAddress::Known`]: the answer came within the timeout and has
    ///   an `address=` line;
    /// - [`WpaAddress::NotRunning`]: no pidfile, or one naming a pid no
    ///   process has (`kill(pid, 0)`: ESRCH), and no socket that takes the
    ///   request: the file is missing, is no socket, or refuses the
    ///   connection (ECONNREFUSED: a socket left by a wpa_supplicant that
    ///   was killed). When the pidfile is absent or dead and there is no
    ///   socket file, nothing is bound and nothing is sent;
    /// - [`WpaAddress::Unknown`]: anything else: a live pidfile and no
    ///   socket, or a refusing one (no `ctrl_interface`, or another
    ///   directory), no answer within the timeout, an answer without an
    ///   address, or no way to bind lagghook's own end.
    ///
    /// The socket decides over the pidfile when it answers, so a
    /// wpa_supplicant started by hand without `-P` is `Known` too. A
    /// pidfile that cannot be read or holds no pid (one being written
    /// right now is empty) proves nothing either way, and counts as live.
    /// A stale pidfile whose pid went to another process counts as live
    /// as well; its socket is gone or refuses: `Unknown`.
    pub fn own_address(&self, wlan: &IfName) -> WpaAddress {
        let gone = self.pidfile_gone(wlan);
        match self.exchange(&self.run_dir.join(wlan.as_str())) {
            Exchange::Answer(reply) => {
                status_address(&reply).map_or(WpaAddress::Unknown, WpaAddress::Known)
            }
            Exchange::NoSocket | Exchange::Refused if gone => WpaAddress::NotRunning,
            _ => WpaAddress::Unknown,
        }
    }

    /// wpa_supplicant's `wpa_state` for `wlan` (the network check waits for
    /// `COMPLETED` before it probes), asked and judged as
    /// [`WpaCtrl::own_address`] is: `NotRunning` only when no pidfile is
    /// live and no socket takes the request.
    pub fn state(&self, wlan: &IfName) -> WpaState {
        let gone = self.pidfile_gone(wlan);
        match self.exchange(&self.run_dir.join(wlan.as_str())) {
            Exchange::Answer(reply) => status_state(&reply),
            Exchange::NoSocket | Exchange::Refused if gone => WpaState::NotRunning,
            _ => WpaState::Unknown,
        }
    }

    /// No live wpa_supplicant by its pidfile `RUN_DIR/IF.pid`: none, or
    /// one naming a pid no process has. Unreadable or empty counts as live.
    fn pidfile_gone(&self, wlan: &IfName) -> bool {
        let pidfile = self.run_dir.join(format!("{wlan}.pid"));
        match file::read_small(&pidfile, Links::Refuse, PIDFILE_CAP) {
            Err(e) => e.kind() == io::ErrorKind::NotFound,
            Ok(text) => parse_pid(&text)
                .is_some_and(|pid| kill(Pid::from_raw(pid), None) == Err(Errno::ESRCH)),
        }
    }

    /// Sends `STATUS` to the socket at `server` and waits for the first
    /// datagram that is not an event message.
    fn exchange(&self, server: &Path) -> Exchange {
        // Only a socket can answer; looked at before anything is created.
        match fs::symlink_metadata(server) {
            Ok(meta) if meta.file_type().is_socket() => {}
            _ => return Exchange::NoSocket,
        }
        let Some(client) = Client::bind(&self.client_dir) else { return Exchange::Failed };
        match client.sock.connect(server) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Exchange::Refused,
            // Removed since it was looked at: wpa_supplicant just exited.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Exchange::NoSocket,
            Err(_) => return Exchange::Failed,
        }
        // One datagram, never a retry: a full receive queue (EAGAIN,
        // ENOBUFS) is a wpa_supplicant that is not reading.
        if client.sock.set_nonblocking(true).is_err() || client.sock.send(b"STATUS").is_err() {
            return Exchange::Failed;
        }
        let deadline = Instant::now() + self.timeout;
        let mut buf = vec![0u8; REPLY_CAP];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Exchange::Failed;
            }
            // Rounded up, so the wait never ends a little early and spins.
            let ms = u16::try_from(left.as_micros().div_ceil(1000)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(client.sock.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) => return Exchange::Failed,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return Exchange::Failed,
            }
            match client.sock.recv(&mut buf) {
                Ok(n) => {
                    let datagram = &buf[..n];
                    if !is_event(datagram) {
                        return Exchange::Answer(datagram.to_vec());
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => return Exchange::Failed,
            }
        }
    }
}

/// How asking a control socket went.
#[derive(Debug)]
enum Exchange {
    /// No socket file (or something else) where the socket would be.
    NoSocket,
    /// A socket file nobody has bound (ECONNREFUSED).
    Refused,
    /// The first datagram that came back.
    Answer(Vec<u8>),
    /// Anything else: no answer in time, a failed send, or lagghook's own
    /// end could not be set up.
    Failed,
}

/// lagghook's bound end of the socket; its file is removed on drop, on
/// every path out of [`WpaCtrl::exchange`].
struct Client {
    sock: UnixDatagram,
    path: PathBuf,
}

impl Client {
    /// Binds a datagram socket at `dir/wpa-PID`, `dir` made private first
    /// (`file::private_dir`: created 0700, or refused if it is a link or
    /// not the effective user's, so nothing is ever bound through a
    /// directory someone else controls).
    fn bind(dir: &Path) -> Option<Client> {
        file::private_dir(dir).ok()?;
        let path = dir.join(format!("wpa-{}", std::process::id()));
        let sock = match UnixDatagram::bind(&path) {
            Ok(sock) => sock,
            // Only a process with this pid makes this name, so the file is
            // left by an earlier run that died before removing it (the
            // same reasoning as `wpa_ctrl_open2`): remove it, try once more.
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                fs::remove_file(&path).ok()?;
                UnixDatagram::bind(&path).ok()?
            }
            Err(_) => return None,
        };
        Some(Client { sock, path })
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The pid in a pidfile: decimal digits, surrounded by nothing but
/// whitespace (`os_daemonize` writes `"%u\n"`, pidfile(3) `"%u"`), and a
/// positive `pid_t`. 0 and negative numbers are refused because
/// `kill(2)` reads them as process groups.
pub fn parse_pid(text: &str) -> Option<i32> {
    let digits = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i32>().ok().filter(|&pid| pid > 0)
}

/// The address in a `STATUS` answer: its one line that starts with
/// `address=`, followed by exactly a MAC address ([`MacAddr`]'s strict
/// form). `None` for anything else: `FAIL`, `UNKNOWN COMMAND`, no such
/// line, two of them, or a line that is cut or garbled.
pub fn status_address(reply: &[u8]) -> Option<MacAddr> {
    let mut lines = reply
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"address="))
        .map(|rest| rest.strip_suffix(b"\r").unwrap_or(rest));
    let only = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    std::str::from_utf8(only).ok()?.parse().ok()
}

/// The `wpa_state=` line of a `STATUS` answer (`wpa_supplicant_state_txt`
/// in hostap's `wpa_supplicant/wpa_supplicant.c`: `COMPLETED` once the
/// keys are installed); `Unknown` without exactly one.
pub fn status_state(reply: &[u8]) -> WpaState {
    let mut lines = reply
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"wpa_state="))
        .map(|rest| rest.strip_suffix(b"\r").unwrap_or(rest));
    let (Some(only), None) = (lines.next(), lines.next()) else { return WpaState::Unknown };
    match std::str::from_utf8(only) {
        Ok("COMPLETED") => WpaState::Completed,
        Ok(s)
            if !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()) =>
        {
            WpaState::Other(s.to_owned())
        }
        _ => WpaState::Unknown,
    }
}

/// An unsolicited event message rather than an answer, as
/// `wpa_ctrl_request` tells them apart.
fn is_event(datagram: &[u8]) -> bool {
    datagram.first() == Some(&b'<') || datagram.starts_with(b"IFNAME=")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::thread;

    /// A `STATUS` answer as `wpa_supplicant_ctrl_iface_status` builds it
    /// for an associated station (the keys and their order are that
    /// function's; the values are made up).
    const STATUS: &str = "bssid=00:1a:2b:3c:4d:5e\nfreq=2437\nssid=home\nid=0\n\
        mode=station\npairwise_cipher=CCMP\ngroup_cipher=CCMP\nkey_mgmt=WPA2-PSK\n\
        wpa_state=COMPLETED\nip_address=192.0.2.7\np2p_device_address=02:00:00:00:00:99\n\
        address=00:11:22:aa:bb:05\nuuid=f3b6c1a0-0000-5000-8000-001122aabb05\n";

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    #[test]
    fn the_state_is_the_one_wpa_state_line() {
        assert_eq!(status_state(b"bssid=x\nwpa_state=COMPLETED\naddress=y\n"), WpaState::Completed);
        assert_eq!(
            status_state(b"wpa_state=4WAY_HANDSHAKE\r\n"),
            WpaState::Other("4WAY_HANDSHAKE".into())
        );
        assert_eq!(status_state(b"wpa_state=COMPLETED\nwpa_state=SCANNING\n"), WpaState::Unknown);
        assert_eq!(status_state(b"FAIL\n"), WpaState::Unknown);
        assert_eq!(status_state(b"wpa_state=\x1b[2J\n"), WpaState::Unknown);
    }

    #[test]
    fn the_address_is_the_one_line_that_starts_with_address() {
        let mac: MacAddr = "00:11:22:aa:bb:05".parse().unwrap();
        assert_eq!(status_address(STATUS.as_bytes()), Some(mac));
        // Not associated: still an address line (it is printed whatever
        // the state), and a first line counts as much as a later one.
        assert_eq!(
            status_address(b"address=00:11:22:aa:bb:05\nwpa_state=DISCONNECTED\n"),
            Some(mac)
        );
        assert_eq!(status_address(b"wpa_state=SCANNING\naddress=00:11:22:AA:BB:05"), Some(mac));
        for bad in [
            &b""[..],
            b"FAIL\n",
            b"UNKNOWN COMMAND\n",
            b"wpa_state=INACTIVE\np2p_device_address=00:11:22:aa:bb:05\n",
            b"ip_address=10.0.0.1\n",
            b"address=00:11:22:aa:bb\n",
            b"address=00:11:22:aa:bb:05:06\n",
            b"address= 00:11:22:aa:bb:05\n",
            b"address=\n",
            b"address=00:11:22:aa:bb:05\naddress=00:11:22:aa:bb:06\n",
            b"address=\xff\xfe\n",
        ] {
            assert_eq!(status_address(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_pid_is_positive_decimal_digits_and_nothing_else() {
        assert_eq!(parse_pid("1234\n"), Some(1234));
        assert_eq!(parse_pid("1234"), Some(1234));
        assert_eq!(parse_pid(" 99999 \r\n"), Some(99999));
        for bad in ["", "\n", "0\n", "-1\n", "+12\n", "12 34\n", "0x10\n", "2147483648\n", "pid"] {
            assert_eq!(parse_pid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn events_are_told_from_answers() {
        assert!(is_event(b"<3>CTRL-EVENT-SCAN-RESULTS "));
        assert!(is_event(b"IFNAME=wlan0 <3>CTRL-EVENT-CONNECTED"));
        assert!(!is_event(STATUS.as_bytes()));
        assert!(!is_event(b""));
    }

    /// A scratch `run` and `client` directory pair, removed on drop.
    struct Dirs {
        root: PathBuf,
        ctrl: WpaCtrl,
    }

    impl Dirs {
        fn new(name: &str) -> Dirs {
            let root =
                std::env::temp_dir().join(format!("lagghook-wpa-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&root);
            fs::create_dir_all(root.join("run")).unwrap();
            let ctrl = WpaCtrl {
                run_dir: root.join("run"),
                client_dir: root.join("client"),
                timeout: Duration::from_millis(100),
            };
            Dirs { root, ctrl }
        }

        /// A pidfile naming this test process, which is alive.
        fn running(self) -> Dirs {
            fs::write(self.ctrl.run_dir.join("wlan0.pid"), format!("{}\n", std::process::id()))
                .unwrap();
            self
        }

        /// A live pidfile for another interface.
        fn clone_running(&self, wlan: &str) -> PathBuf {
            let path = self.ctrl.run_dir.join(format!("{wlan}.pid"));
            fs::write(&path, format!("{}\n", std::process::id())).unwrap();
            path
        }

        /// What is left in the client directory.
        fn leftovers(&self) -> Vec<String> {
            match fs::read_dir(&self.ctrl.client_dir) {
                Ok(entries) => {
                    entries.map(|e| e.unwrap().file_name().into_string().unwrap()).collect()
                }
                Err(_) => Vec::new(),
            }
        }
    }

    impl Drop for Dirs {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    /// A stand-in wpa_supplicant bound at `run/wlan0` that answers its
    /// first request with `answers`, one datagram each, sent back to the
    /// sender's address as `wpa_supplicant_ctrl_iface_receive` does.
    fn serve(dirs: &Dirs, answers: Vec<Vec<u8>>) -> thread::JoinHandle<Vec<u8>> {
        let server = UnixDatagram::bind(dirs.ctrl.run_dir.join("wlan0")).unwrap();
        server.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 256];
            let (len, from) = server.recv_from(&mut buf).unwrap();
            let from = from.as_pathname().unwrap().to_path_buf();
            for answer in answers {
                server.send_to(&answer, &from).unwrap();
            }
            buf[..len].to_vec()
        })
    }

    /// Proves the whole exchange: the request is exactly `STATUS`, the
    /// answer's address is returned, the client directory is made 0700,
    /// and lagghook's socket is gone afterwards.
    #[test]
    fn a_running_wpa_supplicant_tells_its_address() {
        let dirs = Dirs::new("known").running();
        let server = serve(&dirs, vec![STATUS.as_bytes().to_vec()]);
        let got = dirs.ctrl.own_address(&n("wlan0"));
        assert_eq!(got, WpaAddress::Known("00:11:22:aa:bb:05".parse().unwrap()));
        assert_eq!(server.join().unwrap(), b"STATUS");
        let mode = fs::metadata(&dirs.ctrl.client_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(dirs.leftovers().is_empty(), "{:?}", dirs.leftovers());
    }

    /// Proves event messages before the answer are skipped, as
    /// `wpa_ctrl_request` skips them, and an empty pidfile (one being
    /// written) does not stop the question.
    #[test]
    fn event_messages_before_the_answer_are_skipped() {
        let dirs = Dirs::new("events");
        fs::write(dirs.ctrl.run_dir.join("wlan0.pid"), "").unwrap();
        let events = vec![
            b"<3>CTRL-EVENT-SCAN-STARTED ".to_vec(),
            b"IFNAME=wlan0 <3>CTRL-EVENT-SCAN-RESULTS ".to_vec(),
            b"address=00:11:22:aa:bb:05\n".to_vec(),
        ];
        let server = serve(&dirs, events);
        let got = dirs.ctrl.own_address(&n("wlan0"));
        assert_eq!(got, WpaAddress::Known("00:11:22:aa:bb:05".parse().unwrap()));
        server.join().unwrap();
    }

    #[test]
    fn no_pidfile_or_a_dead_pid_is_not_running_and_creates_nothing() {
        let dirs = Dirs::new("absent");
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::NotRunning);
        // i32::MAX is a pid no kernel hands out.
        fs::write(dirs.ctrl.run_dir.join("wlan0.pid"), format!("{}\n", i32::MAX)).unwrap();
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::NotRunning);
        assert!(!dirs.ctrl.client_dir.exists(), "nothing to ask, nothing created");
        // The pidfile of one interface says nothing about another.
        let _other = dirs.clone_running("wlan1");
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::NotRunning);
    }

    /// Proves the socket decides when the pidfile is gone: a socket left
    /// by a killed wpa_supplicant refuses (not running), one started by
    /// hand without `-P` answers (known), one that takes the request and
    /// never answers is something running (unknown).
    #[test]
    fn without_a_live_pidfile_the_socket_decides() {
        let dirs = Dirs::new("pidless");
        let socket = dirs.ctrl.run_dir.join("wlan0");
        drop(UnixDatagram::bind(&socket).unwrap());
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::NotRunning);
        assert!(dirs.leftovers().is_empty());
        fs::remove_file(&socket).unwrap();

        let server = serve(&dirs, vec![STATUS.as_bytes().to_vec()]);
        assert!(matches!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Known(_)));
        server.join().unwrap();
        fs::remove_file(&socket).unwrap();

        let _mute = UnixDatagram::bind(&socket).unwrap();
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Unknown);
    }

    #[test]
    fn running_without_a_socket_is_unknown() {
        let dirs = Dirs::new("nosocket").running();
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Unknown);
        // A regular file where the socket should be is no socket either.
        fs::write(dirs.ctrl.run_dir.join("wlan0"), "").unwrap();
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Unknown);
        assert!(dirs.leftovers().is_empty());
    }

    #[test]
    fn a_socket_nobody_reads_is_refused_or_times_out_and_is_unknown() {
        let dirs = Dirs::new("silent").running();
        // Bound and then closed: the file stays, connect is refused.
        drop(UnixDatagram::bind(dirs.ctrl.run_dir.join("wlan0")).unwrap());
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Unknown);
        fs::remove_file(dirs.ctrl.run_dir.join("wlan0")).unwrap();
        // Bound and open, but it never answers: the wait ends at the
        // timeout (100 ms here), not later.
        let _mute = UnixDatagram::bind(dirs.ctrl.run_dir.join("wlan0")).unwrap();
        let started = Instant::now();
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Unknown);
        let took = started.elapsed();
        assert!(took >= dirs.ctrl.timeout, "gave up early: {took:?}");
        assert!(took < Duration::from_secs(2), "waited too long: {took:?}");
        assert!(dirs.leftovers().is_empty(), "{:?}", dirs.leftovers());
    }

    #[test]
    fn an_answer_without_an_address_is_unknown() {
        let dirs = Dirs::new("fail").running();
        let server = serve(&dirs, vec![b"FAIL\n".to_vec()]);
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Unknown);
        server.join().unwrap();
        assert!(dirs.leftovers().is_empty());
    }

    /// Proves lagghook never binds through a client directory that is a
    /// link (someone else's choice of where its socket goes), and that a
    /// socket file left by a dead run with the same pid does not block it.
    #[test]
    fn the_client_directory_must_be_a_real_one_of_ours() {
        let dirs = Dirs::new("linked").running();
        let elsewhere = dirs.root.join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &dirs.ctrl.client_dir).unwrap();
        let _server = UnixDatagram::bind(dirs.ctrl.run_dir.join("wlan0")).unwrap();
        assert_eq!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Unknown);
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0, "bound through the link");

        let dirs = Dirs::new("leftover").running();
        fs::create_dir(&dirs.ctrl.client_dir).unwrap();
        let leftover = dirs.ctrl.client_dir.join(format!("wpa-{}", std::process::id()));
        drop(UnixDatagram::bind(leftover).unwrap());
        let server = serve(&dirs, vec![STATUS.as_bytes().to_vec()]);
        assert!(matches!(dirs.ctrl.own_address(&n("wlan0")), WpaAddress::Known(_)));
        server.join().unwrap();
        assert!(dirs.leftovers().is_empty());
    }

    #[test]
    fn freebsd_paths_are_rc_and_lagghook_ones() {
        let ctrl = WpaCtrl::freebsd();
        assert_eq!(ctrl.run_dir, Path::new("/var/run/wpa_supplicant"));
        assert_eq!(ctrl.client_dir, Path::new("/var/run/lagghook"));
        assert_eq!(ctrl.timeout, Duration::from_millis(200));
    }
}
