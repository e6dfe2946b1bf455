//! devd(8) events: the raw `!system=… subsystem=… type=…` notification and
//! the IFNET events lagghook reacts to. Parsing only; an event is a hint that
//! makes lagghook look, never a description of state it trusts.
//!
//! The data comes from devd, i.e. from the kernel and from whatever else can
//! write a devctl notification, so it is validated strictly: no empty or
//! over-long fields, no control characters, nothing that is not a
//! `key=value` pair. Nothing here is ever passed to a shell.

use std::fmt;

use crate::domain::model::IfName;
use crate::domain::text::echo;

/// Longest accepted `system`, `subsystem` or `type` value. Real values are
/// short (`IFNET`, an interface name, `LINK_UP`); this only bounds garbage.
pub const MAX_FIELD_LEN: usize = 255;

/// Longest accepted raw line: devd reads events into a `DEVCTL_MAXBUF`
/// (8192 bytes, `sbin/devd/devd.h`) buffer including the NUL.
pub const MAX_LINE_LEN: usize = 8191;

/// One devctl notification as devd hands it to an action
/// (`devctl_notify` in `sys/kern/kern_devctl.c`). Values are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevdEvent {
    pub system: String,
    pub subsystem: String,
    /// devd's `$type`.
    pub kind: String,
    /// Further `key=value` pairs of a raw line, in line order (e.g. `name`
    /// of `RENAME`, `address` of `ADDR_ADD`). Empty for the 3-argument form.
    pub data: Vec<(String, String)>,
}

impl DevdEvent {
    pub fn new(system: &str, subsystem: &str, kind: &str) -> DevdEvent {
        DevdEvent {
            system: system.to_owned(),
            subsystem: subsystem.to_owned(),
            kind: kind.to_owned(),
            data: Vec::new(),
        }
    }

    /// `!system=IFNET subsystem=IF type=T`, what `if_attach_internal`,
    /// `if_detach_internal` and `do_link_state_change` send (`sys/net/if.c`).
    pub fn ifnet(ifname: &IfName, kind: IfnetEventKind) -> DevdEvent {
        DevdEvent::new("IFNET", ifname.as_str(), kind.as_str())
    }

    /// The arguments after `lagghook event`: either `SYSTEM SUBSYSTEM TYPE`
    /// (what our devd rules pass as `$system $subsystem $type`, each one word
    /// because devd shell-quotes expansions) or one raw event line.
    pub fn from_args(args: &[String]) -> Result<DevdEvent, EventError> {
        match args {
            [line] => DevdEvent::parse_line(line),
            [system, subsystem, kind] => {
                check_token(Field::System, system)?;
                check_token(Field::Subsystem, subsystem)?;
                check_token(Field::Type, kind)?;
                Ok(DevdEvent::new(system, subsystem, kind))
            }
            _ => Err(EventError::Arity(args.len())),
        }
    }

    /// One notify line as devd receives it (`!system=S subsystem=SS type=T`,
    /// maybe followed by more `key=value` pairs); the leading `!` may be
    /// omitted (devd's `$_` is the line without it).
    ///
    /// Tokenizing follows devd's `config::chop_var` (`sbin/devd/devd.cc`): a
    /// key is letters, digits, `_` and `-`; a value is either `"…"` (where
    /// `\"` stands for `"`, as `var_list::fix_value` unescapes it) or runs to
    /// the next space. Where devd would silently stop parsing (a token that
    /// is not `key=value`) this is an error, and so are duplicate keys.
    pub fn parse_line(line: &str) -> Result<DevdEvent, EventError> {
        // devd's event_loop strips trailing newlines; so do we.
        let line = line.trim_end_matches('\n');
        if line.len() > MAX_LINE_LEN {
            return Err(EventError::TooLong { field: Field::Line, len: line.len() });
        }
        if let Some(c) = line.chars().find(|c| c.is_control()) {
            return Err(EventError::ControlChar { field: Field::Line, ch: c });
        }
        let body = match line.as_bytes().first() {
            None => return Err(EventError::Empty(Field::Line)),
            Some(b'!') => &line[1..],
            Some(b'+' | b'-' | b'?') => return Err(EventError::NotNotify(line.to_owned())),
            Some(_) => line,
        };

        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let key_len = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
                .count();
            if key_len == 0 || rest.as_bytes().get(key_len) != Some(&b'=') {
                return Err(EventError::Malformed(rest.to_owned()));
            }
            let key = &rest[..key_len];
            let after = &rest[key_len + 1..];
            let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let end = loop {
                    match chars.next() {
                        None => return Err(EventError::UnterminatedQuote(key.to_owned())),
                        Some((i, '"')) => break i,
                        Some((_, '\\')) if quoted[chars.offset()..].starts_with('"') => {
                            value.push('"');
                            chars.next();
                        }
                        Some((_, c)) => value.push(c),
                    }
                };
                (value, &quoted[end + 1..])
            } else {
                let end = after.find(' ').unwrap_or(after.len());
                (after[..end].to_owned(), &after[end..])
            };
            if !tail.is_empty() && !tail.starts_with(' ') {
                return Err(EventError::Malformed(rest.to_owned()));
            }
            if pairs.iter().any(|(k, _)| k == key) {
                return Err(EventError::DuplicateKey(key.to_owned()));
            }
            if value.len() > MAX_FIELD_LEN {
                return Err(EventError::TooLong { field: Field::Data, len: value.len() });
            }
            pairs.push((key.to_owned(), value));
            rest = tail.trim_start_matches(' ');
        }

        let mut take = |field: Field| -> Result<String, EventError> {
            let i = pairs
                .iter()
                .position(|(k, _)| k == field.key())
                .ok_or(EventError::Missing(field))?;
            let (_, v) = pairs.remove(i);
            check_token(field, &v)?;
            Ok(v)
        };
        let system = take(Field::System)?;
        let subsystem = take(Field::Subsystem)?;
        let kind = take(Field::Type)?;
        Ok(DevdEvent { system, subsystem, kind, data: pairs })
    }

    /// The value of a `key=value` pair of the event, as devd's variables
    /// (`system`, `subsystem`, `type`, then the extra data).
    pub fn get(&self, key: &str) -> Option<&str> {
        match key {
            "system" => Some(&self.system),
            "subsystem" => Some(&self.subsystem),
            "type" => Some(&self.kind),
            _ => self.data.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()),
        }
    }

    /// The IFNET event lagghook acts on, if this is one: system `IFNET`, one
    /// of the five types, and an interface that is a valid name: the
    /// subsystem, except for a RENAME, which is about the new name (its
    /// `name=` pair; the subsystem is the old name, `if_rename` in
    /// `sys/net/if.c`). A RENAME without `name=` is the 3-word form
    /// lagghook's rule passes (`$system $name $type`), whose second word
    /// is the new name. Everything else (ADDR_ADD, other systems) is
    /// `None`: data, not an error.
    pub fn ifnet_event(&self) -> Option<IfnetEvent> {
        if self.system != "IFNET" {
            return None;
        }
        let kind = IfnetEventKind::parse(&self.kind)?;
        let name = match kind {
            IfnetEventKind::Rename => self.get("name").unwrap_or(&self.subsystem),
            _ => &self.subsystem,
        };
        let ifname = IfName::new(name).ok()?;
        Some(IfnetEvent { ifname, kind })
    }
}

/// A `system`, `subsystem` or `type` value: non-empty, bounded, printable
/// ASCII without spaces. The kernel's IFNET producers never send anything
/// else, and devd passes each as one shell-quoted word.
fn check_token(field: Field, value: &str) -> Result<(), EventError> {
    if value.is_empty() {
        return Err(EventError::Empty(field));
    }
    if value.len() > MAX_FIELD_LEN {
        return Err(EventError::TooLong { field, len: value.len() });
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(EventError::ControlChar { field, ch: c });
    }
    if let Some(c) = value.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(EventError::BadChar { field, value: value.to_owned(), ch: c });
    }
    Ok(())
}

/// The notify line of the event, which [`DevdEvent::parse_line`] reads back
/// as the same event. A value is quoted only where an unquoted one would
/// not read back (empty, with a space, or starting with `"`), not merely
/// because it holds a quote: devd's syntax cannot quote a value that ends
/// in `\` (`\"` is always an escaped quote), while `a"b\` reads back
/// unquoted.
impl fmt::Display for DevdEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("!")?;
        let fields =
            [("system", &self.system), ("subsystem", &self.subsystem), ("type", &self.kind)];
        let pairs = fields.into_iter().chain(self.data.iter().map(|(k, v)| (k.as_str(), v)));
        for (i, (k, v)) in pairs.enumerate() {
            let sep = if i == 0 { "" } else { " " };
            if v.is_empty() || v.contains(' ') || v.starts_with('"') {
                write!(f, "{sep}{k}=\"{}\"", v.replace('"', "\\\""))?;
            } else {
                write!(f, "{sep}{k}={v}")?;
            }
        }
        Ok(())
    }
}

/// Which part of an event a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    System,
    Subsystem,
    Type,
    /// A further `key=value` value.
    Data,
    /// The raw line as a whole.
    Line,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::System => "system",
            Field::Subsystem => "subsystem",
            Field::Type => "type",
            Field::Data => "data",
            Field::Line => "event line",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Why event arguments were refused. Offending values are printed with
/// `{:?}`, so control characters and quotes arrive escaped in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// Neither 3 arguments nor 1 line.
    Arity(usize),
    Empty(Field),
    TooLong {
        field: Field,
        len: usize,
    },
    ControlChar {
        field: Field,
        ch: char,
    },
    BadChar {
        field: Field,
        value: String,
        ch: char,
    },
    /// A `+`/`-`/`?` (attach, detach, nomatch) line, not a `!` notify.
    NotNotify(String),
    /// Text that is not a `key=value` pair, from that point on.
    Malformed(String),
    UnterminatedQuote(String),
    DuplicateKey(String),
    Missing(Field),
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::Arity(n) => write!(
                f,
                "event takes SYSTEM SUBSYSTEM TYPE or one '!system=… subsystem=… type=…' line, \
                 got {n} arguments"
            ),
            EventError::Empty(field) => write!(f, "empty {field}"),
            EventError::TooLong { field, len } => {
                let max = if *field == Field::Line { MAX_LINE_LEN } else { MAX_FIELD_LEN };
                write!(f, "{field} is {len} bytes long, at most {max} accepted")
            }
            EventError::ControlChar { field, ch } => {
                write!(f, "{field} contains control character {ch:?}")
            }
            EventError::BadChar { field, value, ch } => {
                write!(f, "{field} {} contains {ch:?}", echo(value))
            }
            EventError::NotNotify(line) => {
                write!(f, "{} is not a notify event (want a line starting with '!')", echo(line))
            }
            EventError::Malformed(rest) => write!(f, "expected key=value at {}", echo(rest)),
            EventError::UnterminatedQuote(key) => {
                write!(f, "unterminated quoted value of {}", echo(key))
            }
            EventError::DuplicateKey(key) => write!(f, "key {} appears twice", echo(key)),
            EventError::Missing(field) => write!(f, "no {field}= in the event line"),
        }
    }
}

impl std::error::Error for EventError {}

/// The IFNET event types lagghook's devd rules deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfnetEventKind {
    LinkUp,
    LinkDown,
    Attach,
    Detach,
    /// `if_rename` (SIOCSIFNAME): rc names a vap this way when it creates
    /// it (`ifconfig wlan create wlandev PARENT name NEW`).
    Rename,
}

impl IfnetEventKind {
    /// The types matched on the interface's name (`subsystem`).
    pub const ALL: [IfnetEventKind; 4] = [
        IfnetEventKind::LinkUp,
        IfnetEventKind::LinkDown,
        IfnetEventKind::Attach,
        IfnetEventKind::Detach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IfnetEventKind::LinkUp => "LINK_UP",
            IfnetEventKind::LinkDown => "LINK_DOWN",
            IfnetEventKind::Attach => "ATTACH",
            IfnetEventKind::Detach => "DETACH",
            IfnetEventKind::Rename => "RENAME",
        }
    }

    /// The exact spelling the kernel sends (`sys/net/if.c`); devd matches
    /// case-insensitively, but only these spellings ever occur.
    pub fn parse(s: &str) -> Option<IfnetEventKind> {
        IfnetEventKind::ALL.into_iter().chain([IfnetEventKind::Rename]).find(|k| k.as_str() == s)
    }
}

impl fmt::Display for IfnetEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IFNET event about a named interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfnetEvent {
    pub ifname: IfName,
    pub kind: IfnetEventKind,
}

impl fmt::Display for IfnetEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ifname, self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn wlan0() -> IfName {
        IfName::new("wlan0").unwrap()
    }

    #[test]
    fn three_args_and_raw_line_agree() {
        let a = DevdEvent::from_args(&args(&["IFNET", "wlan0", "ATTACH"])).unwrap();
        let b =
            DevdEvent::from_args(&args(&["!system=IFNET subsystem=wlan0 type=ATTACH"])).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.ifnet_event(),
            Some(IfnetEvent { ifname: wlan0(), kind: IfnetEventKind::Attach })
        );
        // devd's $_ (no leading '!') and a trailing newline are accepted too.
        assert_eq!(DevdEvent::parse_line("system=IFNET subsystem=wlan0 type=ATTACH\n").unwrap(), a);
    }

    #[test]
    fn every_ifnet_kind_round_trips() {
        for kind in IfnetEventKind::ALL {
            let ev = DevdEvent::ifnet(&wlan0(), kind);
            assert_eq!(DevdEvent::parse_line(&ev.to_string()).unwrap(), ev);
            assert_eq!(ev.ifnet_event(), Some(IfnetEvent { ifname: wlan0(), kind }));
        }
    }

    #[test]
    fn extra_pairs_are_kept_and_quoted_values_unescaped() {
        let ev =
            DevdEvent::parse_line("!system=IFNET subsystem=em0 type=RENAME name=uplink").unwrap();
        assert_eq!(ev.get("name"), Some("uplink"));
        // A RENAME is about its new name (issue 8).
        let rename = ev.ifnet_event().unwrap();
        assert_eq!((rename.ifname.as_str(), rename.kind), ("uplink", IfnetEventKind::Rename));
        let three = DevdEvent::from_args(&args(&["IFNET", "wifi0", "RENAME"])).unwrap();
        assert_eq!(three.ifnet_event().unwrap().ifname.as_str(), "wifi0");
        let ev = DevdEvent::parse_line(
            r#"!system=ZFS subsystem=ZFS type=misc.fs.zfs.x  pool="tank \"a\" b" guid=7"#,
        )
        .unwrap();
        assert_eq!(ev.get("pool"), Some(r#"tank "a" b"#));
        assert_eq!(ev.get("guid"), Some("7"));
        assert_eq!(DevdEvent::parse_line(&ev.to_string()).unwrap(), ev);
    }

    /// Found by the event fuzz target: the rendered line of an accepted
    /// event must read back as that event, also when a field starts with
    /// a quote or a value has a quote and ends in a backslash.
    #[test]
    fn rendered_line_reads_back_with_quotes_and_backslashes() {
        // A field that starts with a quote was written unquoted.
        let ev = DevdEvent::from_args(&args(&["(", "\"", "'"])).unwrap();
        assert_eq!(ev.to_string(), r#"!system=( subsystem="\"" type='"#);
        assert_eq!(DevdEvent::parse_line(&ev.to_string()).unwrap(), ev);
        // A value with a quote that ends in a backslash was quoted.
        let line = r#"!system=A subsystem=B type=C k=a"\"#;
        let ev = DevdEvent::parse_line(line).unwrap();
        assert_eq!(ev.get("k"), Some(r#"a"\"#));
        assert_eq!(ev.to_string(), line);
        for line in [
            r#"!system=IFNET subsystem="\"em0" type=X"#,
            r#"!system=A subsystem=B type=C k=a"b e= q="x \"y\" z""#,
        ] {
            let ev = DevdEvent::parse_line(line).unwrap();
            let rendered = ev.to_string();
            assert_eq!(DevdEvent::parse_line(&rendered).unwrap(), ev, "{line} -> {rendered}");
        }
        // Only a field that starts with a quote and ends in a backslash has
        // no line: from_args takes it, but devd could not have sent it.
        let ev = DevdEvent::from_args(&args(&["IFNET", "\"em0\\", "X"])).unwrap();
        assert!(DevdEvent::parse_line(&ev.to_string()).is_err());
    }

    #[test]
    fn non_ifnet_or_bad_subsystem_is_not_an_ifnet_event() {
        let ev = |s, ss, t| DevdEvent::new(s, ss, t).ifnet_event();
        assert_eq!(ev("ETHERNET", "em0", "IFATTACH"), None);
        assert_eq!(ev("IFNET", "em0", "ADDR_ADD"), None);
        assert_eq!(ev("IFNET", "em0", "link_up"), None);
        assert_eq!(ev("IFNET", "abcdefghijklmnop", "LINK_UP"), None);
        assert_eq!(ev("IFNET", "0em", "LINK_UP"), None);
        assert!(ev("IFNET", "em0", "LINK_DOWN").is_some());
    }

    /// Shell syntax is data: devd expands `$subsystem` inside the action's
    /// `sh -c`, but lagghook never hands it to a shell, so it is accepted
    /// as a (non-existent) interface name and taken literally.
    #[test]
    fn shell_syntax_in_a_field_is_taken_literally() {
        let ev = DevdEvent::from_args(&args(&["IFNET", "$(reboot)", "LINK_UP"])).unwrap();
        assert_eq!(ev.subsystem, "$(reboot)");
    }

    /// Garbage is refused with a message naming the offending value.
    #[test]
    fn garbage_is_rejected() {
        let long = "x".repeat(MAX_FIELD_LEN + 1);
        let cases: Vec<(Vec<String>, &str)> = vec![
            (args(&[]), "got 0 arguments"),
            (args(&["IFNET", "em0"]), "got 2 arguments"),
            (args(&["IFNET", "", "LINK_UP"]), "empty subsystem"),
            (args(&["IFNET", "em0\n", "LINK_UP"]), "subsystem contains control character '\\n'"),
            (args(&["IFNET", "em0", "LINK UP"]), "type \"LINK UP\" contains ' '"),
            (
                args(&["IFNET", &long, "LINK_UP"]),
                "subsystem is 256 bytes long, at most 255 accepted",
            ),
            (args(&["IFNET", "em0", "LINK_UP\u{7f}"]), "type contains control character '\\u{7f}'"),
            (args(&[""]), "empty event line"),
            (args(&["+iwn0 at slot=0 on pci3"]), "is not a notify event"),
            (args(&["!system=IFNET subsystem=em0"]), "no type= in the event line"),
            (
                args(&["!system=IFNET subsystem=em0 type=LINK_UP junk"]),
                "expected key=value at \"junk\"",
            ),
            (args(&["! system=IFNET"]), "expected key=value at \" system=IFNET\""),
            (
                args(&["!system=IFNET subsystem=\"em0 type=LINK_UP"]),
                "unterminated quoted value of \"subsystem\"",
            ),
            (
                args(&["!system=IFNET subsystem=em0 subsystem=em1 type=X"]),
                "key \"subsystem\" appears twice",
            ),
            (
                args(&["!system=IFNET subsystem=\"a\"b type=X"]),
                "expected key=value at \"subsystem=\\\"a\\\"b type=X\"",
            ),
            (
                args(&["!system=IFNET\tsubsystem=em0 type=X"]),
                "event line contains control character '\\t'",
            ),
            (args(&["!system=IFNET subsystem= type=X"]), "empty subsystem"),
        ];
        for (a, want) in cases {
            assert!(!want.is_empty(), "{a:?}: every row names its message");
            match DevdEvent::from_args(&a) {
                Ok(ev) => panic!("{a:?} accepted as {ev:?}"),
                Err(e) => {
                    assert!(e.to_string().contains(want), "{a:?}: {e} does not contain {want}")
                }
            }
        }
    }

    #[test]
    fn overlong_line_is_rejected() {
        let line = format!("!system=IFNET subsystem=em0 type=X pad={}", "y".repeat(MAX_LINE_LEN));
        assert!(matches!(
            DevdEvent::parse_line(&line),
            Err(EventError::TooLong { field: Field::Line, .. })
        ));
    }
}
