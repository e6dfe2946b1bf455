//! Where lagghook's lines go, decided once per process: syslog (facility
//! daemon, ident `lagghook`, with the pid) on FreeBSD's local socket
//! `/var/run/log`, plus stderr under `-v` or when stderr is a terminal.
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

/// The process's sink: syslog and/or stderr.
pub struct Logger {
    syslog: Option<SyslogLogger<LoggerBackend, Formatter3164>>,
    stderr: bool,
    verbose: bool,
}

impl Logger {
    /// `verbose` (`-v`) copies every line, `Info` included, to stderr; on
    /// a terminal stderr gets `Notice` and above.
    pub fn new(verbose: bool) -> Logger {
        let path = std::env::var_os(SYSLOG_SOCKET_ENV).unwrap_or_else(|| SYSLOG_SOCKET.into());
        let formatter = Formatter3164 {
            facility: Facility::LOG_DAEMON,
            hostname: None,
            process: "lagghook".into(),
            pid: std::process::id(),
        };
        // No syslogd (a jail without one, or Linux): stderr still works.
        let syslog = syslog::unix_custom(formatter, path).ok();
        let stderr = verbose || std::io::stderr().is_terminal() || syslog.is_none();
        Logger { syslog, stderr, verbose }
    }
}

impl Logger {
    /// Syslog alone, for the one line reporting why a run failed: under
    /// devd stderr goes nowhere, so without this a broken configuration
    /// would fail every event in silence. `None` without a syslogd.
    pub fn syslog_only() -> Option<Logger> {
        let logger = Logger::new(false);
        logger.syslog.as_ref()?;
        Some(Logger { stderr: false, ..logger })
    }
}

impl Log for Logger {
    fn log(&mut self, level: Level, line: &str) {
        if let Some(s) = &mut self.syslog {
            // A lost log line must never stop a repair.
            let _ = match level {
                Level::Err => s.err(line),
                Level::Warning => s.warning(line),
                Level::Notice => s.notice(line),
                Level::Info if self.verbose => s.info(line),
                Level::Info => Ok(()),
            };
        }
        if self.stderr && (self.verbose || level != Level::Info) {
            let _ = writeln!(std::io::stderr().lock(), "lagghook: {line}");
        }
    }
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
