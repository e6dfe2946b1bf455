//! Where lagghook's lines go, decided once per process: syslog (facility
//! daemon, ident `lagghook`, with the pid) on FreeBSD's local socket
//! `/var/run/log`, plus stderr under `-v` or when stderr is a terminal;
//! errors and warnings always reach stderr too, terminal or not.
//! The `syslog` crate would try `/dev/log` first, which FreeBSD lacks, so
//! the socket is named explicitly (`LAGGHOOK_SYSLOG_SOCKET` overrides it,
//! for tests that bind their own).

use std::fmt::Display;
use std::io::{IsTerminal, Write};

use syslog::{Facility, LogFormat, Logger as SyslogLogger, LoggerBackend, Severity};

/// FreeBSD syslogd's local datagram socket (`syslogd(8)`, FILES).
pub const SYSLOG_SOCKET: &str = "/var/run/log";
pub const SYSLOG_SOCKET_ENV: &str = "LAGGHOOK_SYSLOG_SOCKET";

/// The ident syslogd files lagghook's lines under (its `!lagghook`
/// program filter in syslog.conf(5)).
pub const IDENT: &str = "lagghook";

/// syslog(3) priorities lagghook uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A kernel request failed.
    Err,
    /// Something is off but nothing failed (corrupt state rebuilt).
    Warning,
    /// A transition: the lines an administrator wants to see.
    Notice,
    /// Detail for `-v` only (notes, plans).
    Info,
}

/// A sink for log lines.
pub trait Log {
    fn log(&mut self, level: Level, line: &str);
}

/// The process's one sink: syslog and/or stderr, built once by `main`.
///
/// The syslog socket is connected at the first line that goes to it, not
/// at start-up: most runs (an event about an unmanaged interface, a
/// converged laptop) log nothing and should not pay for a connect.
pub struct Logger {
    syslog: Syslog,
    /// Where the lines go besides syslog (`-v`, or stderr is a terminal).
    stderr: bool,
    stderr_is_terminal: bool,
    verbose: bool,
}

/// The syslog connection, made on first use.
enum Syslog {
    NotYet,
    Connected(SyslogLogger<LoggerBackend, LocalFormat>),
    /// No syslogd (a jail without one, or Linux): stderr still works.
    Unavailable,
}

impl Logger {
    /// `verbose` (`-v`) copies every line, `Info` included, to stderr; on
    /// a terminal stderr gets `Notice` and above, elsewhere `Warning` and
    /// above.
    pub fn new(verbose: bool) -> Logger {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        Logger {
            syslog: Syslog::NotYet,
            stderr: verbose || stderr_is_terminal,
            stderr_is_terminal,
            verbose,
        }
    }

    fn syslog(&mut self) -> Option<&mut SyslogLogger<LoggerBackend, LocalFormat>> {
        if let Syslog::NotYet = self.syslog {
            let path = std::env::var_os(SYSLOG_SOCKET_ENV).unwrap_or_else(|| SYSLOG_SOCKET.into());
            let formatter = LocalFormat { pid: std::process::id() };
            self.syslog = match syslog::unix_custom(formatter, path) {
                Ok(s) if never_blocks(&s.backend) => Syslog::Connected(s),
                _ => Syslog::Unavailable,
            };
        }
        match &mut self.syslog {
            Syslog::Connected(s) => Some(s),
            _ => None,
        }
    }

    /// The one line saying why the process fails: always on stderr (an
    /// administrator at a terminal, or a script, reads it there), and in
    /// syslog when stderr is not a terminal, because under devd stderr goes
    /// nowhere and a broken configuration would otherwise fail every event
    /// in silence.
    pub fn fatal(&mut self, line: &str) {
        if !self.stderr_is_terminal {
            if let Some(s) = self.syslog() {
                send(s, Level::Err, line);
            }
        }
        stderr_line(line);
    }
}

/// What lagghook writes on syslogd's local socket: `<PRI>lagghook[PID]:
/// MESSAGE` in one datagram (`LoggerBackend::Unix` formats a `write_fmt`
/// into one buffer and sends it once): RFC 3164's PRI and TAG, without
/// its TIMESTAMP and HOSTNAME.
///
/// syslogd stamps such a line itself with the time it received it, and
/// keeps the tag. FreeBSD's `usr.sbin/syslogd/syslogd.c`, read in
/// fel1x-developer/freebsd-src at 2d614aa2fe3e037bd11d351b0b5cfda776e65814
/// (`__FreeBSD_version` 1500012, just after stable/14 branched):
/// `socklist_recv_sock` gives a line from an `AF_LOCAL` socket
/// `LocalHostName` as its host; `parsemsg` takes the `<PRI>` and, with no
/// `1 ` version after it, calls `parsemsg_rfc3164`; there, when
/// `strptime(msg, "%b %e %H:%M:%S")` does not match ("If none is found,
/// assume this is not an RFC 3164 formatted message, only containing a
/// TAG and a MSG"), `timestamp` stays NULL and
/// `parsemsg_rfc3164_app_name_procid` splits off `lagghook` and the pid
/// (`[A-Za-z0-9_/-]+`, optional `[digits]`, then `": "`); `logmsg` with a
/// NULL timestamp uses `gettimeofday` and `localtime_r`. The socket is
/// same-host, so the reception time is the line's time.
///
/// Why not the crate's formatters: both stamp through the `time` crate,
/// about 25 KB of code every devd run maps, with a format description
/// parsed per line; and `Formatter3164` stamps UTC (its `now_local` is
/// `now_utc` on unix), which syslogd, trusting a sender's RFC 3164 stamp
/// unless run with `-T`, reads as local time. FreeBSD's own syslog(3)
/// (`lib/libc/gen/syslog.c`, same tree) sends RFC 5424 with a local
/// timestamp and its offset; lagghook has no use for a clock of its own.
#[derive(Debug, Clone, Copy)]
pub struct LocalFormat {
    /// The sending process, as syslog(3)'s `LOG_PID` adds it.
    pub pid: u32,
}

impl<T: Display> LogFormat<T> for LocalFormat {
    fn format<W: Write>(&self, w: &mut W, severity: Severity, message: T) -> syslog::Result<()> {
        // LOG_MAKEPRI(LOG_DAEMON, severity): both enums hold syslog.h's values.
        let pri = Facility::LOG_DAEMON as u8 | severity as u8;
        write!(w, "<{pri}>{IDENT}[{}]: {message}", self.pid).map_err(syslog::Error::Write)
    }
}

/// Sends `line` at `level`'s syslog severity. A lost log line must never
/// stop a repair, so a failed send is dropped.
fn send<W: Write>(s: &mut SyslogLogger<W, LocalFormat>, level: Level, line: &str) {
    let _ = match level {
        Level::Err => s.err(line),
        Level::Warning => s.warning(line),
        Level::Notice => s.notice(line),
        Level::Info => s.info(line),
    };
}

/// Makes every send on the syslog socket non-blocking. A syslogd that does
/// not drain its socket (stopped, or swamped) must never stall a run: devd
/// waits for lagghook, and a run blocked mid-repair would hold the lock.
/// A line that does not fit (EAGAIN, ENOBUFS) is dropped, as syslog(3)
/// itself drops what it cannot send.
fn never_blocks(backend: &LoggerBackend) -> bool {
    match backend {
        LoggerBackend::Unix(socket) => socket.set_nonblocking(true).is_ok(),
        LoggerBackend::UnixStream(stream) => stream.get_ref().set_nonblocking(true).is_ok(),
        // unix_custom makes only the two above.
        _ => false,
    }
}

impl Log for Logger {
    fn log(&mut self, level: Level, line: &str) {
        let verbose = self.verbose;
        let in_syslog = verbose || level != Level::Info;
        let mut logged = false;
        if in_syslog {
            if let Some(s) = self.syslog() {
                send(s, level, line);
                logged = true;
            }
        }
        // Without a syslogd, stderr is the only place left. A failure or a
        // warning goes there whatever stderr is: a script or cron job that
        // runs lagghook keeps its stderr, and syslog may be another
        // machine's to read.
        let problem = matches!(level, Level::Err | Level::Warning);
        let stderr = self.stderr || problem || (in_syslog && !logged);
        if stderr && (verbose || level != Level::Info) {
            stderr_line(line);
        }
    }
}

/// One line on stderr in one write(2): stderr is unbuffered, and three
/// writes per line would interleave with other runs' lines on a shared
/// console and cost devd three syscalls.
fn stderr_line(line: &str) {
    let _ = std::io::stderr().lock().write_all(format!("lagghook: {line}\n").as_bytes());
}

/// Lines kept in memory: the scenario runner's sink.
#[derive(Debug, Default, Clone)]
pub struct MemoryLog {
    pub lines: Vec<(Level, String)>,
}

impl Log for MemoryLog {
    fn log(&mut self, level: Level, line: &str) {
        self.lines.push((level, line.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The datagram for each level, byte for byte: LOG_DAEMON (3 << 3)
    /// with LOG_ERR 3, LOG_WARNING 4, LOG_NOTICE 5 and LOG_INFO 6, the
    /// ident with the pid, no timestamp and no hostname.
    #[test]
    fn each_level_is_one_line_with_daemon_priority_ident_and_pid() {
        for (level, want) in [
            (Level::Err, "<27>lagghook[4242]: lagg0: created"),
            (Level::Warning, "<28>lagghook[4242]: lagg0: created"),
            (Level::Notice, "<29>lagghook[4242]: lagg0: created"),
            (Level::Info, "<30>lagghook[4242]: lagg0: created"),
        ] {
            let mut s = SyslogLogger::new(Vec::new(), LocalFormat { pid: 4242 });
            send(&mut s, level, "lagg0: created");
            assert_eq!(String::from_utf8(s.backend).unwrap(), want, "{level:?}");
        }
    }
}
