//! How values that came from outside (a configuration, an event, the
//! command line) are shown in messages: quoted, with control characters
//! escaped so a value cannot forge a log line or inject a statement into
//! generated output, and cut short so a 10 MiB value is not echoed whole.

use std::fmt::Write as _;
use std::path::Path;

/// How many characters of a value a message shows.
pub const ECHO_MAX_CHARS: usize = 64;

/// `value` as a message shows it: Rust-quoted (`"em0\n"`), at most
/// [`ECHO_MAX_CHARS`] characters of it, and its length when cut.
pub fn echo(value: &str) -> String {
    let chars = value.chars().count();
    if chars <= ECHO_MAX_CHARS {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(ECHO_MAX_CHARS).collect();
    format!("{head:?}... ({} bytes)", value.len())
}

/// A message made by someone else (a parser's, which may quote the input
/// whole) as one line of at most `max_chars` characters: control
/// characters escaped, the rest cut and marked.
pub fn one_line(message: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (i, c) in message.trim_end().chars().enumerate() {
        if i == max_chars {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// An I/O error as a message shows it: the operating system's text
/// ("No such file or directory") without std's " (os error 2)", which
/// means nothing to an administrator; an error lagghook made itself ("is a
/// FIFO, not a regular file") as it is.
pub fn io_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if e.raw_os_error().is_some() && text.ends_with(')') => text[..i].to_owned(),
        _ => text,
    }
}

/// A change that failed, as one log line: `CHANGE failed: WHY`. A reason
/// that starts with what the change already names (`em0: SIOCSLAGGPORT:
/// Device busy` for `ifconfig lagg0 laggport em0`, `kldload if_lagg:
/// Operation not permitted` for `kldload if_lagg`) loses that subject, so
/// no line says the same thing twice.
pub fn failed(change: &str, why: &str) -> String {
    let why = match why.split_once(": ") {
        Some((subject, rest))
            if change == subject || change.split_whitespace().any(|w| w == subject) =>
        {
            rest
        }
        _ => why,
    };
    format!("{change} failed: {why}")
}

/// A path as a message or a generated file shows it: as text, with every
/// control character escaped (`\n`, `\u{1b}`), so a newline in `-c PATH`
/// cannot start a new line of a log or of devd.conf.
pub fn path(p: &Path) -> String {
    let text = p.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_and_control_characters_escaped() {
        assert_eq!(echo("em0"), "\"em0\"");
        assert_eq!(echo("em0\n"), "\"em0\\n\"");
        let long = "x".repeat(10 << 20);
        let shown = echo(&long);
        assert_eq!(shown, format!("\"{}\"... (10485760 bytes)", "x".repeat(64)));
    }

    #[test]
    fn foreign_messages_become_one_short_line() {
        assert_eq!(one_line("unknown field `a\nb`\n", 80), "unknown field `a\\nb`");
        assert_eq!(one_line(&"k".repeat(500), 10), "kkkkkkkkkk...");
    }

    #[test]
    fn os_errors_lose_the_os_code() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert!(e.to_string().ends_with(" (os error 2)"), "std's own text changed: {e}");
        assert_eq!(io_error(&e), "No such file or directory");
        let ours = std::io::Error::other("is a FIFO, not a regular file (os error 2)");
        assert_eq!(io_error(&ours), "is a FIFO, not a regular file (os error 2)");
    }

    #[test]
    fn a_failed_change_names_its_subject_once() {
        let add = "ifconfig lagg0 laggport em0";
        assert_eq!(
            failed(add, "em0: SIOCSLAGGPORT: Device busy"),
            "ifconfig lagg0 laggport em0 failed: SIOCSLAGGPORT: Device busy"
        );
        assert_eq!(
            failed("kldload if_lagg", "kldload if_lagg: Operation not permitted"),
            "kldload if_lagg failed: Operation not permitted"
        );
        // A subject the change does not name stays.
        assert_eq!(
            failed("x: y", "/var/k.toml.commands: Is a directory"),
            "x: y failed: /var/k.toml.commands: Is a directory"
        );
    }

    #[test]
    fn paths_cannot_break_a_line() {
        assert_eq!(path(Path::new("/etc/x\nnotify 0 {")), "/etc/x\\nnotify 0 {");
        assert_eq!(path(Path::new("/usr/local/etc/lagghook.toml")), "/usr/local/etc/lagghook.toml");
    }
}
