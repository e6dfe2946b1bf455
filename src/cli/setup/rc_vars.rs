//! rc.conf(5) variables as `setup` reads and edits them: the value of a
//! variable in one file, read from the file itself rather than by running
//! sh(1) or sysrc(8), and the word edits that turn a current value into
//! the one lagghook needs while keeping every other word. Pure: the files
//! are read and written elsewhere (`super::host`).
//!
//! The reading follows sysrc(8)'s own (`f_sysrc_set_awk` in
//! `usr.sbin/bsdconfig/share/sysrc.subr`): the last line that starts,
//! after blanks, with `NAME=` holds the value, double-quoted, single-quoted
//! or one bare word; a value with an expansion (`$`, a backquote) or an
//! escape is one sysrc itself leaves alone, and so does `setup`: it says
//! so instead of guessing what sh would make of it.

use std::fmt;

use crate::domain::rc_vars::{one_line_value, OneLine};

/// Where a value was read, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub line: usize,
    pub why: String,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.why)
    }
}

/// The value of `name` in the rc.conf-style `text`: `None` if no line
/// assigns it, the value of the last assignment otherwise.
pub fn value_of(text: &str, name: &str) -> Option<Result<String, Unreadable>> {
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = assignment(line, name) else { continue };
        found = Some(shell_value(rest).map_err(|why| Unreadable { line: i + 1, why }));
    }
    found
}

/// The text after `NAME=` if `line` assigns `name` (sysrc's
/// `^[[:space:]]*NAME=`).
fn assignment<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.trim_start().strip_prefix(name)?.strip_prefix('=')
}

/// A value as sh assigns it, for the quoting rc.conf uses: `"…"`, `'…'` or
/// one bare word, followed by nothing, blanks or a `#` comment.
fn shell_value(rest: &str) -> Result<String, String> {
    let OneLine { value, after, .. } = one_line_value(rest)?;
    if !after.is_empty() && !after.starts_with('#') {
        return Err("more than one assignment or command on the line".into());
    }
    if value.contains(['$', '`', '\\', '"', '\'']) {
        return Err("an expansion, escape or quote inside the value".into());
    }
    Ok(value.to_owned())
}

/// The text of `file_text` after sysrc(8) set `name` to `value`
/// (`f_sysrc_set`): the value of the last assignment replaced, its quotes
/// and whatever follows kept, or `name="value"` appended when no line
/// assigns it. Only for values [`value_of`] can read; the simulated host
/// plays sysrc with it.
pub fn with_value(file_text: &str, name: &str, value: &str) -> String {
    let lines: Vec<&str> = file_text.lines().collect();
    let last = lines.iter().rposition(|l| assignment(l, name).is_some());
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if Some(i) == last {
            let indent = &line[..line.len() - line.trim_start().len()];
            let rest = assignment(line, name).unwrap_or_default();
            let tail = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].find(q).map_or("", |end| &rest[end + 2..]),
                _ => &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..],
            };
            out.push_str(&format!("{indent}{name}=\"{value}\"{tail}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if last.is_none() {
        out.push_str(&format!("{name}=\"{value}\"\n"));
    }
    out
}

/// The text of `file_text` after `sysrc -x name` (`f_sysrc_delete` in
/// `usr.sbin/bsdconfig/share/sysrc.subr`, `sobomax/freebsd14_vendor`
/// 0f7ff342): every line that starts, after blanks, with `NAME=` is
/// removed, whatever its quoting. The simulated host plays sysrc with it.
pub fn without_var(file_text: &str, name: &str) -> String {
    let mut out = String::new();
    for line in file_text.lines().filter(|l| assignment(l, name).is_none()) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// rc's name for a variable about interface `ifname`: `get_if_var` in
/// `libexec/rc/network.subr` turns each `.`, `-`, `/` and `+` of the name
/// into `_` (`ifconfig_em0.10` is `ifconfig_em0_10`).
pub fn if_var(prefix: &str, ifname: &str) -> String {
    let name: String =
        ifname.chars().map(|c| if matches!(c, '.' | '-' | '/' | '+') { '_' } else { c }).collect();
    format!("{prefix}{name}")
}

/// A word `setup` may carry over from a value it edits into the value it
/// writes: letters, digits and `._:/,+@%=-`. Nothing the shell, sysrc's
/// double quotes or a later `ifconfig` would read differently.
pub fn is_plain_word(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "._:/,+@%=-".contains(c))
}

/// The words of a value.
pub fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_owned).collect()
}

/// rc's DHCP words (`dhcpif` in `libexec/rc/network.subr`, any case).
pub fn is_dhcp_word(word: &str) -> bool {
    matches!(word.to_ascii_uppercase().as_str(), "DHCP" | "SYNCDHCP" | "NOSYNCDHCP")
}

/// `words` with `word` at the end unless it is there already (what
/// sysrc's `NAME+=word` does).
pub fn with_word(mut words: Vec<String>, word: &str) -> Vec<String> {
    if !words.iter().any(|w| w == word) {
        words.push(word.to_owned());
    }
    words
}

/// `words` with the pair `key value`: the first pair whose key is one of
/// `keys` gets `key value` in its place and any later one is removed;
/// without one, the pair is appended.
pub fn with_pair(words: Vec<String>, keys: &[&str], key: &str, value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut placed = false;
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        if keys.contains(&w.as_str()) {
            let _ = it.next();
            if !placed {
                out.push(key.to_owned());
                out.push(value.to_owned());
                placed = true;
            }
            continue;
        }
        out.push(w);
    }
    if !placed {
        out.push(key.to_owned());
        out.push(value.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_assignment_wins_in_every_quoting() {
        let text = "# comment\ncreate_args_wlan0=\"x\"\n  create_args_wlan0='country DE' # why\n";
        assert_eq!(value_of(text, "create_args_wlan0"), Some(Ok("country DE".into())));
        assert_eq!(value_of("kld_list=if_iwn\n", "kld_list"), Some(Ok("if_iwn".into())));
        assert_eq!(value_of("kld_list=\n", "kld_list"), Some(Ok(String::new())));
        assert_eq!(value_of("kld_list_x=\"a\"\n", "kld_list"), None);
        assert_eq!(value_of("#kld_list=\"a\"\n", "kld_list"), None);
    }

    #[test]
    fn expansions_are_refused_not_guessed() {
        for text in ["a=\"$b c\"\n", "a=`x`\n", "a=\"x\"; b=1\n", "a=\"open\n"] {
            let got = value_of(text, "a").unwrap();
            assert!(got.is_err(), "{text:?}: {got:?}");
        }
        assert_eq!(value_of("x=1\na=\"$b\"\n", "a").unwrap().unwrap_err().line, 2);
    }

    /// Proves the simulated sysrc edits as `f_sysrc_set` does: the last
    /// assignment's value, quotes and comment kept, or a new line.
    #[test]
    fn sysrc_set_replaces_the_last_assignment_or_appends() {
        let text = "a=\"1\"\nb='x' # keep\na=2\n";
        assert_eq!(with_value(text, "b", "y z"), "a=\"1\"\nb=\"y z\" # keep\na=2\n");
        assert_eq!(with_value(text, "a", "3"), "a=\"1\"\nb='x' # keep\na=\"3\"\n");
        assert_eq!(with_value("", "c", "4"), "c=\"4\"\n");
        assert_eq!(value_of(&with_value(text, "b", "y z"), "b"), Some(Ok("y z".into())));
    }

    /// Proves the simulated `sysrc -x` removes every assignment of the
    /// variable, as `f_sysrc_delete` does, and nothing else.
    #[test]
    fn sysrc_delete_removes_every_assignment() {
        let text = "a=\"1\"\n  a='2' # x\nab=3\n#a=4\nb=\"a=5\"\n";
        assert_eq!(without_var(text, "a"), "ab=3\n#a=4\nb=\"a=5\"\n");
        assert_eq!(without_var(text, "c"), text);
    }

    #[test]
    fn words_are_edited_in_place() {
        let w = words("country DE wlanaddr 00:11:22:33:44:55 regdomain ETSI");
        assert_eq!(
            with_pair(w, &["wlanaddr"], "wlanaddr", "00:24:d7:00:00:01").join(" "),
            "country DE wlanaddr 00:24:d7:00:00:01 regdomain ETSI"
        );
        let w = words("country DE regdomain ETSI");
        assert_eq!(
            with_pair(w, &["wlanaddr"], "wlanaddr", "00:24:d7:00:00:01").join(" "),
            "country DE regdomain ETSI wlanaddr 00:24:d7:00:00:01"
        );
        let w = words("lladdr 00:00:00:00:00:01 up ether 00:00:00:00:00:02");
        assert_eq!(
            with_pair(w, &["ether", "lladdr"], "ether", "00:11:22:33:44:55").join(" "),
            "ether 00:11:22:33:44:55 up"
        );
        assert_eq!(with_word(words("gif0"), "lagg0").join(" "), "gif0 lagg0");
        assert_eq!(with_word(words("lagg0 gif0"), "lagg0").join(" "), "lagg0 gif0");
        assert_eq!(if_var("ifconfig_", "em0.10"), "ifconfig_em0_10");
        assert!(is_plain_word("inet") && is_plain_word("192.168.1.2/24"));
        assert!(!is_plain_word("a\"b") && !is_plain_word("$x") && !is_plain_word(""));
        assert!(is_dhcp_word("SyncDHCP") && !is_dhcp_word("WPA"));
    }
}
