//! Where lagghook's lines go, decided once per process: syslog (facility
//! daemon, ident `lagghook`, with the pid) on FreeBSD's local socket
//! `/var/run/log`, plus stderr under `-v` or when stderr is a terminal;
//! errors and warnings always reach stderr too, terminal or not.
//! The `syslog` crate would try `/dev/log` first, which FreeBSD lacks, so
//! the socket is named explicitly (`LAGGHOOK_SYSLOG_SOCKET` overrides it,
//! for tests that bind their own).

use std::io::{IsTerminal, Write};

use syslog::{Facility, Formatter3164, Logger as SyslogLogger, LoggerBackend};

/// FreeBSD syslogd's local datagram socket (`syslogd(8)`, FILES).
pub const SYSLOG_SOCKET: &str = "/var/run/log";
pub const SYSLOG_SOCKET_ENV: &str = "LAGGHOOK_SYSLOG_SOCKET";

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
    Connected(SyslogLogger<LoggerBackend, Formatter3164>),
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

    fn syslog(&mut self) -> Option<&mut SyslogLogger<LoggerBackend, Formatter3164>> {
        if let Syslog::NotYet = self.syslog {
            let path = std::env::var_os(SYSLOG_SOCKET_ENV).unwrap_or_else(|| SYSLOG_SOCKET.into());
            let formatter = Formatter3164 {
                facility: Facility::LOG_DAEMON,
                hostname: None,
                process: "lagghook".into(),
                pid: std::process::id(),
            };
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
                let _ = s.err(line);
            }
        }
        stderr_line(line);
    }
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
                // A lost log line must never stop a repair.
                let _ = match level {
                    Level::Err => s.err(line),
                    Level::Warning => s.warning(line),
                    Level::Notice => s.notice(line),
                    Level::Info => s.info(line),
                };
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
