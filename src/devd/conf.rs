//! devd.conf as devd reads it: the lexer (`sbin/devd/token.l`) and the
//! parser (`sbin/devd/parse.y`), producing one [`Rule`] per statement.
//!
//! What this module owns: the language (statements, `options` with their
//! `set` variables, comments, strings with backslash-newline continuation)
//! and the shape of a parsed statement. What it does not own: what a
//! statement does for an event (`dispatch`), what a regex means (`regex`),
//! or which files are read (`stock`, `generate` and the callers decide).
//!
//! devd facts used here (FreeBSD main after 14.0, `fel1x-developer/freebsd-src`
//! 2d614aa2, `sbin/devd/devd.cc`; `freebsd/freebsd-src` 5727255d,
//! `sbin/devd/parse.y`):
//! - `match`, `device-name`, `class` and `subdevice` regexes have their
//!   `$var`s expanded when the statement is parsed, with the `set`
//!   variables known so far (`match::match` calls `config::expand_string`);
//! - a leading `!` inverts the match (`match::match`, `_inv`).

use std::fmt;

use super::dispatch::{expand_pieces, Media, Piece};
use super::regex::DevdRegex;

/// The kind of a devd statement (`parse.y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Attach,
    Detach,
    Nomatch,
    Notify,
}

/// One `match`-like or `media-type` sub-statement of a [`Rule`].
#[derive(Debug, Clone)]
pub(super) enum Condition {
    /// `match "var" "re"` (and `device-name`, `class`, `subdevice`), with
    /// `!` stripped into `negate` and the regex compiled after expansion.
    /// `line` is where the keyword is.
    Match {
        var: String,
        negate: bool,
        regex: DevdRegex,
        line: usize,
    },
    Media(Media),
}

/// One devd statement.
#[derive(Debug, Clone)]
pub struct Rule {
    pub(super) kind: StatementKind,
    pub(super) priority: u32,
    pub(super) conditions: Vec<Condition>,
    pub(super) actions: Vec<String>,
    /// Line of the statement keyword, for messages.
    pub(super) line: usize,
}

impl Rule {
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    pub fn priority(&self) -> u32 {
        self.priority
    }

    /// The first action (every statement we deal with has exactly one), or
    /// `""` for a statement without any.
    pub fn action(&self) -> &str {
        self.actions.first().map_or("", String::as_str)
    }

    /// All actions, in order; devd runs each (`event_proc::run`).
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    pub fn line(&self) -> usize {
        self.line
    }

    /// The statement's `media-type` condition, if it has one (the first:
    /// devd ANDs several, and no statement we deal with has two).
    pub fn media(&self) -> Option<Media> {
        self.conditions.iter().find_map(|c| match c {
            Condition::Media(m) => Some(*m),
            Condition::Match { .. } => None,
        })
    }

    /// The regexes of this statement that FreeBSD's `regcomp` rejects, with
    /// the line of each: devd accepts the statement, but such a `match`
    /// never succeeds (and its `!` form always does).
    pub fn rejected_regexes(&self) -> impl Iterator<Item = (usize, &DevdRegex)> {
        self.conditions.iter().filter_map(|c| match c {
            Condition::Match { regex, line, .. } if regex.rejection().is_some() => {
                Some((*line, regex))
            }
            _ => None,
        })
    }
}

/// Why devd.conf text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevdParseError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DevdParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for DevdParseError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Semi,
    Open,
    Close,
    Number(String),
    Str(String),
    Word(String),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Semi => f.write_str("';'"),
            Tok::Open => f.write_str("'{'"),
            Tok::Close => f.write_str("'}'"),
            Tok::Number(n) => write!(f, "number {n}"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::Word(w) => write!(f, "{w:?}"),
        }
    }
}

/// devd's lexer (`sbin/devd/token.l`).
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, DevdParseError> {
    let err = |line, message: String| Err(DevdParseError { line, message });
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start_line = line;
        match c {
            ' ' | '\t' => i += 1,
            '\n' => {
                line += 1;
                i += 1;
            }
            ';' => {
                toks.push((Tok::Semi, line));
                i += 1;
            }
            '{' => {
                toks.push((Tok::Open, line));
                i += 1;
            }
            '}' => {
                toks.push((Tok::Close, line));
                i += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                loop {
                    match chars.get(i) {
                        None => return err(start_line, "unterminated /* comment".into()),
                        Some('*') if chars.get(i + 1) == Some(&'/') => {
                            i += 2;
                            break;
                        }
                        Some('\n') => line += 1,
                        Some(_) => {}
                    }
                    i += 1;
                }
            }
            '0'..='9' => {
                let s: String = chars[i..].iter().take_while(|c| c.is_ascii_digit()).collect();
                i += s.len();
                toks.push((Tok::Number(s), line));
            }
            '"' => {
                // "[^"]+": no escapes, except that backslash-newline and the
                // blanks after it vanish.
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err(start_line, "unterminated string".into()),
                        Some('"') => break,
                        Some('\\') if chars.get(i + 1) == Some(&'\n') => {
                            line += 1;
                            i += 2;
                            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                                if chars[i] == '\n' {
                                    line += 1;
                                }
                                i += 1;
                            }
                            continue;
                        }
                        Some(&c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            s.push(c);
                        }
                    }
                    i += 1;
                }
                i += 1;
                if s.is_empty() {
                    return err(start_line, "empty string \"\" (devd's lexer needs [^\"]+)".into());
                }
                toks.push((Tok::Str(s), start_line));
            }
            c if c.is_ascii_alphabetic() => {
                let s: String = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '-')
                    .collect();
                i += s.len();
                toks.push((Tok::Word(s), line));
            }
            c => return err(line, format!("unexpected character {c:?}")),
        }
    }
    Ok(toks)
}

/// Parses devd.conf text into its statements, in file order. `options`
/// blocks are checked; their `set` variables are expanded in later `match`
/// regexes, as devd does when it compiles them (`match::match`).
pub fn parse(text: &str) -> Result<Vec<Rule>, DevdParseError> {
    parse_file(text, &mut SetVariables::default())
}

/// The `set` variables of `options` blocks. devd keeps one table for all
/// the files it reads (`config::set_variable` writes the bottom table of
/// `_var_list_table`), so a file sees the variables of the files before it.
#[derive(Debug, Clone, Default)]
pub(super) struct SetVariables(Vec<(String, String)>);

/// [`parse`] for one of several files devd reads in turn
/// (`config::parse`), sharing `vars` with the others.
pub(super) fn parse_file(text: &str, vars: &mut SetVariables) -> Result<Vec<Rule>, DevdParseError> {
    parse_file_and_directories(text, vars).map(|(rules, _)| rules)
}

/// [`parse_file`], with the `directory` options of the file's `options`
/// blocks, in order: the directories devd reads after the file it was
/// started with (`config::parse`, `add_directory` in `sbin/devd/devd.cc`).
pub(super) fn parse_file_and_directories(
    text: &str,
    vars: &mut SetVariables,
) -> Result<(Vec<Rule>, Vec<String>), DevdParseError> {
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0, vars, directories: Vec::new() };
    let mut rules = Vec::new();
    while p.pos < p.toks.len() {
        if let Some(rule) = p.statement()? {
            rules.push(rule);
        }
    }
    Ok((rules, p.directories))
}

struct Parser<'v> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    vars: &'v mut SetVariables,
    directories: Vec<String>,
}

impl Parser<'_> {
    fn line(&self) -> usize {
        self.toks.get(self.pos).or(self.toks.last()).map_or(1, |(_, l)| *l)
    }

    fn fail<T>(&self, message: String) -> Result<T, DevdParseError> {
        Err(DevdParseError { line: self.line(), message })
    }

    fn next(&mut self, what: &str) -> Result<Tok, DevdParseError> {
        match self.toks.get(self.pos) {
            Some((t, _)) => {
                self.pos += 1;
                Ok(t.clone())
            }
            None => self.fail(format!("unexpected end of file, expected {what}")),
        }
    }

    fn expect(&mut self, want: Tok) -> Result<(), DevdParseError> {
        let got = self.next(&want.to_string())?;
        if got == want {
            Ok(())
        } else {
            self.pos -= 1;
            self.fail(format!("expected {want}, found {got}"))
        }
    }

    fn string(&mut self) -> Result<String, DevdParseError> {
        match self.next("a string")? {
            Tok::Str(s) => Ok(s),
            other => {
                self.pos -= 1;
                self.fail(format!("expected a string, found {other}"))
            }
        }
    }

    fn statement(&mut self) -> Result<Option<Rule>, DevdParseError> {
        let line = self.line();
        let kind = match self.next("a statement")? {
            Tok::Word(w) if w == "options" => {
                self.options()?;
                return Ok(None);
            }
            Tok::Word(w) if w == "attach" => StatementKind::Attach,
            Tok::Word(w) if w == "detach" => StatementKind::Detach,
            Tok::Word(w) if w == "nomatch" => StatementKind::Nomatch,
            Tok::Word(w) if w == "notify" => StatementKind::Notify,
            other => {
                self.pos -= 1;
                return self.fail(format!(
                    "expected options, attach, detach, nomatch or notify, found {other}"
                ));
            }
        };
        let priority = match self.next("a priority")? {
            Tok::Number(n) => match n.parse::<u32>() {
                Ok(v) => v,
                Err(_) => return self.fail(format!("priority {n} is too large")),
            },
            other => {
                self.pos -= 1;
                return self.fail(format!("expected a priority number, found {other}"));
            }
        };
        self.expect(Tok::Open)?;
        let mut rule = Rule { kind, priority, conditions: Vec::new(), actions: Vec::new(), line };
        loop {
            let kw_line = self.line();
            match self.next("a match, action or '}'")? {
                Tok::Close => break,
                Tok::Word(w) => {
                    let (var, re) = match w.as_str() {
                        "match" => {
                            let var = self.string()?;
                            (var, self.string()?)
                        }
                        "device-name" | "class" | "subdevice" => (w.clone(), self.string()?),
                        "media-type" => {
                            let m = self.string()?;
                            self.expect(Tok::Semi)?;
                            rule.conditions.push(Condition::Media(Media::parse(&m)));
                            continue;
                        }
                        "action" => {
                            let a = self.string()?;
                            self.expect(Tok::Semi)?;
                            rule.actions.push(a);
                            continue;
                        }
                        _ => {
                            self.pos -= 1;
                            return self.fail(format!("unknown keyword {w:?} in a statement"));
                        }
                    };
                    self.expect(Tok::Semi)?;
                    let (negate, body) = match re.strip_prefix('!') {
                        Some(rest) => (true, rest),
                        None => (false, re.as_str()),
                    };
                    // A regex regcomp rejects is no parse error: devd
                    // ignores regcomp's result, and the match then fails.
                    let regex = DevdRegex::new(&self.expand(body));
                    rule.conditions.push(Condition::Match { var, negate, regex, line: kw_line });
                }
                other => {
                    self.pos -= 1;
                    return self.fail(format!("expected a match, action or '}}', found {other}"));
                }
            }
        }
        self.expect(Tok::Semi)?;
        // parse.y's `NOTIFY NUMBER BEGINBLOCK ENDBLOCK SEMICOLON` (and the
        // same for attach, detach, nomatch) calls no add_notify: an empty
        // statement is not in devd's lists, so it cannot be selected and
        // shadow a lower-priority statement.
        if rule.conditions.is_empty() && rule.actions.is_empty() {
            return Ok(None);
        }
        Ok(Some(rule))
    }

    fn options(&mut self) -> Result<(), DevdParseError> {
        self.expect(Tok::Open)?;
        let mut any = false;
        loop {
            match self.next("an option or '}'")? {
                Tok::Close if any => break,
                Tok::Word(w) if w == "directory" => {
                    let dir = self.string()?;
                    self.directories.push(dir);
                }
                Tok::Word(w) if w == "pid-file" => {
                    self.string()?;
                }
                Tok::Word(w) if w == "set" => {
                    let name = match self.next("a variable name")? {
                        Tok::Word(n) => n,
                        other => {
                            self.pos -= 1;
                            return self.fail(format!("expected a variable name, found {other}"));
                        }
                    };
                    let value = self.string()?;
                    self.vars.0.retain(|(n, _)| *n != name);
                    self.vars.0.push((name, value));
                }
                other => {
                    self.pos -= 1;
                    return self
                        .fail(format!("expected directory, pid-file or set, found {other}"));
                }
            }
            self.expect(Tok::Semi)?;
            any = true;
        }
        self.expect(Tok::Semi)
    }

    /// `config::expand_string` without shell quoting, as for regexes at
    /// parse time: only `set` variables are known then.
    fn expand(&self, s: &str) -> String {
        let mut out = String::new();
        for piece in expand_pieces(s, &|name| {
            self.vars.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
        }) {
            match piece {
                Piece::Raw(c) => out.push(c),
                Piece::Value(v) => out.push_str(&v),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devd::test_support::media;
    use crate::domain::event::DevdEvent;

    #[test]
    fn parser_accepts_devd_comment_and_continuation_forms() {
        let rules = parse(
            "/* block\ncomment */ // line comment\n# hash\n\
             options { directory \"/etc/devd\"; pid-file \"/var/run/devd.pid\"; };\n\
             nomatch 0 { };\nnotify 10 {\n\tmatch \"system\" \"AC\\\n\t\tPI\";\n};\n",
        )
        .unwrap();
        // `nomatch 0 { };` is empty, so devd does not keep it.
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].line(), 6);
        let ev = DevdEvent::new("ACPI", "x", "y");
        assert!(rules[0].matches(&ev, &media));
    }

    /// devd ignores `regcomp`'s result, so a bad regex is no parse error:
    /// the statement is kept, its `match` never succeeds and the `!` form
    /// always does (`match::match`, `match::do_match`).
    #[test]
    fn rejected_regexes_never_match_and_their_negation_always_does() {
        let rules = parse(
            "notify 0 {\n match \"system\" \"(IFNET\";\n action \"never\";\n};\n\
             notify 0 {\n match \"system\" \"!(IFNET\";\n action \"always\";\n};\n",
        )
        .unwrap();
        let ev = DevdEvent::new("IFNET", "em0", "LINK_UP");
        assert!(!rules[0].matches(&ev, &media));
        assert!(rules[1].matches(&ev, &media));
        assert!(rules[1].matches(&DevdEvent::new("(IFNET", "x", "y"), &media));
        let rejected: Vec<(usize, String)> = rules
            .iter()
            .flat_map(Rule::rejected_regexes)
            .map(|(line, re)| (line, re.anchored().to_owned()))
            .collect();
        assert_eq!(rejected, [(2, "^(IFNET$".to_owned()), (6, "^(IFNET$".to_owned())]);
    }

    #[test]
    fn parser_errors_name_the_line() {
        let cases = [
            ("notify 0 {\n match \"system\" ;\n};", "line 2: expected a string, found ';'"),
            ("notify 0 { action \"x\" }", "line 1: expected ';', found '}'"),
            ("notify { };", "line 1: expected a priority number, found '{'"),
            (
                "bogus 0 { };",
                "line 1: expected options, attach, detach, nomatch or notify, found \"bogus\"",
            ),
            ("notify 0 { action \"\"; };", "line 1: empty string \"\" (devd's lexer needs [^\"]+)"),
            ("notify 0 { action \"x; };", "line 1: unterminated string"),
            ("/* x", "line 1: unterminated /* comment"),
            ("notify 0 { frob \"x\"; };", "line 1: unknown keyword \"frob\" in a statement"),
            (
                "notify 0 { };\nnotify 1 {",
                "line 2: unexpected end of file, expected a match, action or '}'",
            ),
            ("options { };", "line 1: expected directory, pid-file or set, found '}'"),
            ("notify 99999999999 { };", "line 1: priority 99999999999 is too large"),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap_err().to_string(), want, "{text}");
        }
    }
}
