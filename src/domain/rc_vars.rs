//! rc.conf(5) files as far as `check` reads them: the shell variables they
//! set. rc reads them with sh's `.` (`load_rc_config` in
//! `libexec/rc/rc.subr`), so they are sh scripts; this reads the part of sh
//! that rc.conf files use, and lets everything else be.
//!
//! What it reads: assignments `NAME=value`, several to a line, separated
//! by blanks or `;`; values made of `'…'` (literal), `"…"` (with `\` and
//! `$` expansion) and unquoted parts (with `\` and `$`), continued over
//! lines inside quotes or after a backslash; `$NAME`, `${NAME}` and
//! `${NAME:-word}`/`${NAME-word}` expanded from what the files read so far
//! have set (unset is empty, as in sh); `#` comments. What it skips: any
//! other command, a whole line at a time (an assignment in front of a
//! command, `a=1 cmd`, sets nothing in sh either). What it does not model:
//! conditionals (`if`, `case`, `&&`: an assignment inside one counts as if
//! it ran), command substitution (`$(…)` and backquotes expand to nothing,
//! and the variable is marked as one whose value cannot be known without
//! running it, [`RcVars::runs_command`]) and functions. `sysrc`'s `NAME+=value` is sysrc's syntax, which it
//! writes out as a plain assignment; in a file, sh would run it as a
//! command, so it sets nothing here either. No I/O.

use std::collections::BTreeMap;

/// The variables a sequence of rc.conf files leaves set, and which file
/// set each last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcVars {
    vars: BTreeMap<String, Var>,
}

/// One variable as the files left it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Var {
    value: String,
    /// The file that set it last.
    file: String,
    /// Its value came out of a command substitution, or out of a variable
    /// whose value did: what sh would make of it needs the command run.
    runs_command: bool,
}

impl RcVars {
    /// No file read yet.
    pub fn new() -> RcVars {
        RcVars::default()
    }

    /// Reads one file's assignments, in order, on top of what earlier
    /// files set; `file` is remembered as their origin.
    pub fn source(&mut self, file: &str, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let (words, next) = self.command(&chars, i);
            i = next;
            // Only a command made of assignments alone sets them.
            if let Some(assignments) =
                words.into_iter().map(|w| w.assignment).collect::<Option<Vec<_>>>()
            {
                for (name, value, runs_command) in assignments {
                    self.vars.insert(name, Var { value, file: file.to_owned(), runs_command });
                }
            }
        }
    }

    /// The value of `name`, if some file set it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    /// The file that set `name` last.
    pub fn origin(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.file.as_str())
    }

    /// Whether `name`'s value holds the output of a command (`$(…)`,
    /// backquotes), which this reader does not run: its value as read
    /// lacks that part, so what rc would see cannot be known from it.
    pub fn runs_command(&self, name: &str) -> bool {
        self.vars.get(name).is_some_and(|v| v.runs_command)
    }

    /// Every variable set whose name starts with `prefix`, in name order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.vars
            .iter()
            .filter(move |(n, _)| n.starts_with(prefix))
            .map(|(n, v)| (n.as_str(), v.value.as_str()))
    }

    /// One simple command from `i`: its words (each an assignment or not),
    /// and where the next command starts. Words are expanded with the
    /// variables as they are before the command, as sh does for the
    /// assignments of one command line (near enough: sh assigns left to
    /// right).
    fn command(&self, c: &[char], mut i: usize) -> (Vec<Word>, usize) {
        let mut words = Vec::new();
        loop {
            // Blanks and line continuations between words.
            while i < c.len() {
                match c[i] {
                    ' ' | '\t' | '\r' => i += 1,
                    '\\' if c.get(i + 1) == Some(&'\n') => i += 2,
                    _ => break,
                }
            }
            match c.get(i) {
                None => return (words, i),
                Some('\n' | ';') => return (words, i + 1),
                Some('#') => {
                    while i < c.len() && c[i] != '\n' {
                        i += 1;
                    }
                    return (words, i);
                }
                Some(_) => {
                    let (word, next) = self.word(c, i);
                    words.push(word);
                    i = next;
                }
            }
        }
    }

    /// One word from `i`; an assignment when it starts with `NAME=`.
    fn word(&self, c: &[char], start: usize) -> (Word, usize) {
        let mut i = start;
        let mut name = None;
        let is_start = |ch: char| ch.is_ascii_alphabetic() || ch == '_';
        if c.get(i).is_some_and(|&ch| is_start(ch)) {
            let mut j = i + 1;
            while c.get(j).is_some_and(|&ch| ch.is_ascii_alphanumeric() || ch == '_') {
                j += 1;
            }
            if c.get(j) == Some(&'=') {
                name = Some(c[i..j].iter().collect::<String>());
                i = j + 1;
            }
        }
        let mut value = String::new();
        let mut runs = false;
        while let Some(&ch) = c.get(i) {
            match ch {
                ' ' | '\t' | '\r' | '\n' | ';' => break,
                '\'' => {
                    i += 1;
                    while let Some(&q) = c.get(i) {
                        i += 1;
                        if q == '\'' {
                            break;
                        }
                        value.push(q);
                    }
                }
                '"' => {
                    i += 1;
                    while let Some(&q) = c.get(i) {
                        match q {
                            '"' => {
                                i += 1;
                                break;
                            }
                            '\\' => {
                                match c.get(i + 1) {
                                    Some('\n') => {}
                                    Some(&e @ ('$' | '`' | '"' | '\\')) => value.push(e),
                                    Some(&e) => {
                                        value.push('\\');
                                        value.push(e);
                                    }
                                    None => value.push('\\'),
                                }
                                i += 2;
                            }
                            '$' => i = self.expand(c, i, &mut value, &mut runs),
                            '`' => {
                                runs = true;
                                i = skip_backquotes(c, i);
                            }
                            q => {
                                value.push(q);
                                i += 1;
                            }
                        }
                    }
                }
                '\\' => {
                    if let Some(&e) = c.get(i + 1) {
                        if e != '\n' {
                            value.push(e);
                        }
                    }
                    i += 2;
                }
                '$' => i = self.expand(c, i, &mut value, &mut runs),
                '`' => {
                    runs = true;
                    i = skip_backquotes(c, i);
                }
                ch => {
                    value.push(ch);
                    i += 1;
                }
            }
        }
        (Word { assignment: name.map(|n| (n, value, runs)) }, i.min(c.len()))
    }

    /// Expands the `$` at `i` into `out`; returns where the text goes on.
    /// `runs` is set when what it expands needs a command run.
    fn expand(&self, c: &[char], i: usize, out: &mut String, runs: &mut bool) -> usize {
        let value = |name: &str| self.get(name).unwrap_or_default().to_owned();
        match c.get(i + 1) {
            Some('{') => {
                let Some(close) = (i + 2..c.len()).find(|&j| c[j] == '}') else {
                    return c.len();
                };
                let inner: String = c[i + 2..close].iter().collect();
                let end = inner
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(inner.len());
                let (name, op) = inner.split_at(end);
                *runs |= self.runs_command(name);
                let set = self.get(name);
                let default = op.strip_prefix(":-").or_else(|| op.strip_prefix('-'));
                match (set, default) {
                    (Some(v), Some(_)) if op.starts_with(":-") && v.is_empty() => {
                        out.push_str(default.unwrap_or_default())
                    }
                    (Some(v), _) => out.push_str(v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => {}
                }
                close + 1
            }
            Some('(') => {
                // Command substitution: not run, so it yields nothing.
                *runs = true;
                let mut depth = 0;
                let mut j = i + 1;
                while j < c.len() {
                    match c[j] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                return j + 1;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                c.len()
            }
            Some(&ch) if ch.is_ascii_alphabetic() || ch == '_' => {
                let mut j = i + 1;
                while c.get(j).is_some_and(|&ch| ch.is_ascii_alphanumeric() || ch == '_') {
                    j += 1;
                }
                let name: String = c[i + 1..j].iter().collect();
                *runs |= self.runs_command(&name);
                out.push_str(&value(&name));
                j
            }
            _ => {
                out.push('$');
                i + 1
            }
        }
    }
}

/// A `` `…` `` command substitution from `i`, skipped: not run.
fn skip_backquotes(c: &[char], i: usize) -> usize {
    (i + 1..c.len()).find(|&j| c[j] == '`').map_or(c.len(), |j| j + 1)
}

struct Word {
    /// `Some((name, value, runs_command))` for `NAME=value`.
    assignment: Option<(String, String, bool)>,
}

/// The value of `NAME=…` written on one line in the quoting rc.conf files
/// and sysrc(8) use: `"…"` or `'…'` (taken whole, `quoted`), or one bare
/// word; then what follows it, blanks trimmed. For the readers that take
/// one assignment a line and refuse what they cannot read exactly
/// (setup, the simulator's rc), rather than reading sh as [`RcVars`] does.
pub fn one_line_value(rest: &str) -> Result<OneLine<'_>, String> {
    let (value, quoted, after) = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let body = &rest[1..];
            let end = body.find(q).ok_or_else(|| format!("no closing {q}"))?;
            (&body[..end], true, &body[end + 1..])
        }
        _ => {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], false, &rest[end..])
        }
    };
    Ok(OneLine { value, quoted, after: after.trim_start() })
}

/// What [`one_line_value`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneLine<'a> {
    pub value: &'a str,
    pub quoted: bool,
    /// After the value: empty or a `#` comment on a line rc can read.
    pub after: &'a str,
}

/// The blank-separated words of an rc.conf value (`ifconfig_em0="up
/// DHCP"`), as rc splits them (`for _arg in $value`).
pub fn words(value: &str) -> impl Iterator<Item = &str> {
    value.split_whitespace()
}

/// How rc.subr's `checkyesno` reads a variable's value (`checkyesno` in
/// `libexec/rc/rc.subr`, freebsd/freebsd-src 02274513): `YES`, `TRUE`,
/// `ON` or `1` in any case is yes; `NO`, `FALSE`, `OFF` or `0` is no;
/// anything else is no too, with the warning "is not set properly".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YesNo {
    Yes,
    No,
    /// Neither: rc takes it for no.
    Neither,
}

pub fn checkyesno(value: &str) -> YesNo {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => YesNo::Yes,
        "no" | "false" | "off" | "0" => YesNo::No,
        _ => YesNo::Neither,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> RcVars {
        let mut v = RcVars::new();
        v.source("/etc/rc.conf", text);
        v
    }

    #[test]
    fn assignments_as_sysrc_and_people_write_them() {
        let v = read(
            "# comment\nhostname=\"laptop\"\nkld_list=\"if_iwn  fusefs\" # trailing\n\
             ifconfig_em0='up DHCP'\nwlans_iwn0=wlan0\ncreate_args_wlan0=\"wlanaddr \\\n\
             00:11:22:33:44:55 country DE\"\na=1; b=2 c=\"x\"\"y\"z\n",
        );
        assert_eq!(v.get("hostname"), Some("laptop"));
        assert_eq!(v.get("kld_list"), Some("if_iwn  fusefs"));
        assert_eq!(v.get("ifconfig_em0"), Some("up DHCP"));
        assert_eq!(v.get("wlans_iwn0"), Some("wlan0"));
        assert_eq!(v.get("create_args_wlan0"), Some("wlanaddr 00:11:22:33:44:55 country DE"));
        assert_eq!((v.get("a"), v.get("b"), v.get("c")), (Some("1"), Some("2"), Some("xyz")));
        assert_eq!(v.origin("a"), Some("/etc/rc.conf"));
        assert_eq!(v.get("nope"), None);
    }

    #[test]
    fn later_files_override_and_expand_earlier_values() {
        let mut v = read("kld_list=\"if_iwn\"\nifconfig_em0=\"DHCP\"\n");
        v.source(
            "/etc/rc.conf.d/kld",
            "kld_list=\"${kld_list} fusefs\"\nx=$kld_list\ny=${unset:-dflt}\nz='$kld_list'\n",
        );
        assert_eq!(v.get("kld_list"), Some("if_iwn fusefs"));
        assert_eq!(v.origin("kld_list"), Some("/etc/rc.conf.d/kld"));
        assert_eq!(v.origin("ifconfig_em0"), Some("/etc/rc.conf"));
        assert_eq!(v.get("x"), Some("if_iwn fusefs"));
        assert_eq!(v.get("y"), Some("dflt"));
        assert_eq!(v.get("z"), Some("$kld_list"));
    }

    #[test]
    fn commands_set_nothing_and_are_skipped_whole() {
        let v = read(
            "kld_list+=\" if_iwn\"\nFOO=1 /bin/true\n[ -f /x ] && . /x\necho \"a=b\"\n\
             if true; then\n  inside=yes\nfi\nsub=$(hostname)x\nq=`date`y\n",
        );
        assert_eq!(v.get("kld_list"), None);
        assert_eq!(v.get("FOO"), None);
        assert_eq!(v.get("a"), None);
        assert_eq!(v.get("inside"), Some("yes"), "conditionals are not modelled");
        assert_eq!((v.get("sub"), v.get("q")), (Some("x"), Some("y")));
    }

    /// Issue 19.5: a value made with a command substitution is marked, and
    /// so is one that expands it, so that `check` says what it cannot know
    /// instead of reading the rest of the value as if it were all.
    #[test]
    fn values_that_need_a_command_run_are_marked() {
        let v = read(
            "mac=\"$(cat /etc/wlanmac)\"\nargs=\"wlanaddr $mac country DE\"\n\
             q=`hostname`\nplain=\"wlanaddr 00:11:22:33:44:55\"\nbraced=${q}x\n",
        );
        assert!(v.runs_command("mac") && v.runs_command("args") && v.runs_command("q"));
        assert!(v.runs_command("braced"));
        assert!(!v.runs_command("plain") && !v.runs_command("unset"));
        assert_eq!(v.get("args"), Some("wlanaddr  country DE"));
    }

    #[test]
    fn broken_text_ends_without_a_panic() {
        for text in ["a=\"open", "a='open", "a=${open", "a=$(open", "a=`open", "a=\\", "=x", "é=1"]
        {
            let _ = read(text);
        }
        assert_eq!(read("a=\"open\nstill\"\n").get("a"), Some("open\nstill"));
    }

    #[test]
    fn checkyesno_as_rc_subr_reads_it() {
        for v in ["YES", "yes", "True", "ON", "1"] {
            assert_eq!(checkyesno(v), YesNo::Yes, "{v}");
        }
        for v in ["NO", "no", "False", "off", "0"] {
            assert_eq!(checkyesno(v), YesNo::No, "{v}");
        }
        for v in ["", "Y", "enabled", " YES", "2"] {
            assert_eq!(checkyesno(v), YesNo::Neither, "{v:?}");
        }
    }
}
