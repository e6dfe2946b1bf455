//! devd's `match` regexes: the text of `match "var" "re";` (and of
//! `device-name`, `class`, `subdevice`) compiled and matched the way devd
//! does it on FreeBSD, using the `regex-lite` crate as the matching engine.
//!
//! What this module owns: turning a devd regex, after `$var` expansion, into
//! a pattern that either FreeBSD's libc `regcomp` rejects (then it never
//! matches) or that `regex-lite` matches exactly like libc's `regexec`. What
//! it does not own: `$var` expansion (`dispatch`), the leading `!` that
//! inverts a match (`conf` strips it, `dispatch` applies it), or deciding
//! that a rejected regex in FreeBSD's own stock rules is an error (`stock`).
//!
//! How devd compiles a match (FreeBSD main after 14.0,
//! `fel1x-developer/freebsd-src` 2d614aa2, `sbin/devd/devd.cc`,
//! `match::match` and `match::do_match`):
//! - the pattern is `expand_string(re, "^", "$")`: the text `^`, the
//!   expanded regex and the text `$`, not a group around the regex. So an
//!   unparenthesised `a|b` is `^a|b$`, i.e. `(^a)|(b$)`, and `a\` becomes
//!   `^a\$`, an escaped dollar;
//! - `regcomp(&_regex, pattern, REG_EXTENDED | REG_NOSUB | REG_ICASE)`,
//!   with its result ignored. A `regex_t` that `regcomp` rejected makes
//!   `regexec` fail, so `do_match` is false and its `!` form true;
//! - devd never calls `setlocale`, so all of this runs in the C locale:
//!   one byte is one character, classes and case folding are ASCII.
//!
//! How libc parses it (same tree, `lib/libc/regex/regcomp.c`: `p_re`,
//! `p_ere_exp`, `p_count`, `p_bracket`, `p_b_term`, `p_b_cclass`,
//! `p_b_coll_elem`, `may_escape`, `ordinary`; libc is built without
//! `LIBREGEX`, so without the GNU extensions, and `regcomp` passes no
//! `PFLAG_LEGACY_ESC`). The parser below follows those functions one to one;
//! each rule it enforces names the function it comes from. The C locale's
//! classes are `lib/libc/locale/table.c` (`_DefaultRuneLocale`), the class
//! names `lib/libc/locale/wctype.c` (`wctype_l`), and bytes map to
//! themselves (`__xlocale_C_ctype` uses `_none_mbrtowc`,
//! `lib/libc/locale/none.c`).
//!
//! Matching: `regex-lite` works on `&str` and Unicode scalar values, while
//! libc in the C locale works on bytes. Both the pattern and the value are
//! therefore read byte by byte, each byte becoming the character with the
//! same number (U+0000..U+00FF), so `.` or `[^a]` consume exactly one byte,
//! as in libc. `regex-lite`'s case-insensitive mode folds ASCII letters only
//! (its documentation: "Case insensitive searching is limited to ASCII case
//! insensitivity"), which is what `REG_ICASE` does in the C locale, whose
//! `towupper`/`towlower` change nothing above 0x7F; so `é` and `É` do not
//! match each other in either. Bracket expressions are computed here as sets
//! of bytes and written out in full, so `regex-lite`'s class syntax and
//! folding never decide their meaning.
//!
//! Known divergences from FreeBSD, none reachable with the rules lagghook
//! ships or generates: a pattern whose `regex-lite` program would exceed its
//! size limit (10 MiB, e.g. `((a{255}){255}){255}`) or nesting limit
//! ([`NEST_LIMIT`]) is treated as rejected, where libc would accept it; and
//! libc's `regcomp` could fail for lack of memory where this does not.

use std::fmt;

use regex_lite::RegexBuilder;

use c_locale::{CLASSES, COLLATING_NAMES};

mod c_locale;

/// How deeply groups and repetitions may nest in the `regex-lite` program.
/// libc has no such limit; `regex-lite` has one (default 50) to bound its
/// recursion. Far more than any devd.conf needs.
pub const NEST_LIMIT: u32 = 250;

/// `DUPMAX` (`lib/libc/regex/regex2.h`: `_POSIX2_RE_DUP_MAX`, 255): the
/// largest count in `{m,n}`; `p_count` rejects more.
const DUPMAX: u32 = 255;

/// Why FreeBSD's `regcomp` rejects a pattern: the `REG_*` code it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegcompError {
    /// `REG_EPAREN`: unbalanced parentheses.
    Paren,
    /// `REG_EMPTY`: an empty branch (`a||b`, `(|a)`, `(a|)`).
    Empty,
    /// `REG_BADRPT`: a repetition operator with nothing to repeat, after
    /// `^`, or right after another repetition (`*a`, `^*`, `a**`).
    BadRepeat,
    /// `REG_EESCAPE`: a trailing `\`, or `\` before a letter, `'` or `` ` ``
    /// (libc reserves those; `\d` is not a digit class in POSIX).
    Escape,
    /// `REG_EBRACK`: an unterminated bracket expression.
    Bracket,
    /// `REG_ERANGE`: a range that ends before it starts, or a `-` that is
    /// neither first, last nor a range end.
    Range,
    /// `REG_ECTYPE`: an unknown `[:class:]`.
    CharClass,
    /// `REG_ECOLLATE`: an unknown `[.name.]` or `[=name=]`.
    Collate,
    /// `REG_BADBR`: a bad `{m,n}` (no count, a count over 255, `m > n`).
    BadBrace,
    /// `REG_EBRACE`: an unterminated `{`.
    Brace,
    /// libc accepts the pattern, but `regex-lite` cannot build it (size or
    /// nesting limit). Treated like a rejection: the match never succeeds.
    Engine(String),
}

impl fmt::Display for RegcompError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegcompError::Paren => f.write_str("REG_EPAREN: parentheses not balanced"),
            RegcompError::Empty => f.write_str("REG_EMPTY: empty (sub)expression"),
            RegcompError::BadRepeat => f.write_str("REG_BADRPT: invalid repetition operator"),
            RegcompError::Escape => f.write_str("REG_EESCAPE: invalid escape"),
            RegcompError::Bracket => f.write_str("REG_EBRACK: brackets [ ] not balanced"),
            RegcompError::Range => f.write_str("REG_ERANGE: invalid character range"),
            RegcompError::CharClass => f.write_str("REG_ECTYPE: invalid character class"),
            RegcompError::Collate => f.write_str("REG_ECOLLATE: invalid collating element"),
            RegcompError::BadBrace => f.write_str("REG_BADBR: invalid repetition count(s)"),
            RegcompError::Brace => f.write_str("REG_EBRACE: braces { } not balanced"),
            RegcompError::Engine(e) => write!(f, "accepted by regcomp, but regex-lite: {e}"),
        }
    }
}

impl std::error::Error for RegcompError {}

/// One devd match regex, compiled as devd compiles it.
#[derive(Debug, Clone)]
pub struct DevdRegex {
    /// What devd hands to `regcomp`: `^`, the expanded regex, `$`.
    anchored: String,
    compiled: Result<regex_lite::Regex, RegcompError>,
}

impl DevdRegex {
    /// Compiles `expanded` (a `match` regex after `$var` expansion, without
    /// its `!`) as `match::match` does: anchored by the text `^…$`,
    /// `REG_EXTENDED | REG_ICASE`, in the C locale.
    pub fn new(expanded: &str) -> DevdRegex {
        let anchored = format!("^{expanded}$");
        // devd passes a C string: anything after a NUL is not seen.
        let bytes = anchored.as_bytes();
        let bytes = &bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len())];
        // case_insensitive is regex-lite's (?i): ASCII folding, REG_ICASE
        // in the C locale; dot_matches_new_line is (?s): without
        // REG_NEWLINE, libc's `.` matches a newline too.
        let compiled = translate(bytes).and_then(|pattern| {
            RegexBuilder::new(&pattern)
                .case_insensitive(true)
                .dot_matches_new_line(true)
                .nest_limit(NEST_LIMIT)
                .build()
                .map_err(|e| RegcompError::Engine(e.to_string()))
        });
        DevdRegex { anchored, compiled }
    }

    /// Whether `value` matches (`regexec(...) == 0`). A pattern `regcomp`
    /// rejected never matches.
    pub fn is_match(&self, value: &str) -> bool {
        match &self.compiled {
            Ok(re) => re.is_match(&as_c_locale_chars(value)),
            Err(_) => false,
        }
    }

    /// Why `regcomp` rejects this pattern, if it does.
    pub fn rejection(&self) -> Option<&RegcompError> {
        self.compiled.as_ref().err()
    }

    /// The pattern as devd compiles it, anchors included.
    pub fn anchored(&self) -> &str {
        &self.anchored
    }
}

/// `value`'s bytes up to the first NUL (devd passes `value.c_str()`), each
/// as the character with the same number: one character per C-locale
/// character.
fn as_c_locale_chars(value: &str) -> String {
    value.bytes().take_while(|&b| b != 0).map(char::from).collect()
}

/// The `regex-lite` pattern equivalent to the anchored POSIX pattern, or
/// the error `regcomp` returns for it.
fn translate(anchored: &[u8]) -> Result<String, RegcompError> {
    let mut parser = Ere { re: anchored, pos: 0 };
    let mut out = String::new();
    parser.re(None, &mut out)?;
    Ok(out)
}

/// One parsed atom of an ERE, as `regex-lite` text.
enum Atom {
    /// Takes a quantifier directly: a literal, `.` or a class.
    Single(String),
    /// A group's contents, without the parentheses.
    Group(String),
    /// A zero-width assertion (`^`, `$`, word boundaries); wrapped in a
    /// group before a quantifier.
    Assertion(&'static str),
}

impl Atom {
    fn push(self, quantifier: &str, out: &mut String) {
        match self {
            Atom::Single(s) => out.push_str(&s),
            Atom::Group(s) => {
                out.push_str("(?:");
                out.push_str(&s);
                out.push(')');
            }
            Atom::Assertion(a) if quantifier.is_empty() => out.push_str(a),
            Atom::Assertion(a) => {
                out.push_str("(?:");
                out.push_str(a);
                out.push(')');
            }
        }
        out.push_str(quantifier);
    }
}

/// A POSIX extended regular expression parser with libc's rules
/// (`lib/libc/regex/regcomp.c`), emitting `regex-lite` syntax.
struct Ere<'a> {
    re: &'a [u8],
    pos: usize,
}

type Parsed<T> = Result<T, RegcompError>;

impl Ere<'_> {
    fn more(&self) -> bool {
        self.pos < self.re.len()
    }

    fn more2(&self) -> bool {
        self.pos + 1 < self.re.len()
    }

    fn peek(&self) -> Option<u8> {
        self.re.get(self.pos).copied()
    }

    fn peek2(&self) -> Option<u8> {
        self.re.get(self.pos + 1).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> bool {
        let seen = self.peek() == Some(c);
        if seen {
            self.pos += 1;
        }
        seen
    }

    fn see_two(&self, a: u8, b: u8) -> bool {
        self.peek() == Some(a) && self.peek2() == Some(b)
    }

    fn eat_two(&mut self, a: u8, b: u8) -> bool {
        let seen = self.see_two(a, b);
        if seen {
            self.pos += 2;
        }
        seen
    }

    /// `p_re`: branches separated by `|`, up to `end` (`)` inside a group,
    /// the end of the pattern outside). Every branch must produce
    /// something (`REQUIRE(HERE() != bc.start, REG_EMPTY)`), `||` is an
    /// empty branch (`p_branch_do`: more than one delimiter eaten), and so is
    /// a `|` ending the whole pattern. Note that `x{0}` produces nothing:
    /// `repeat` drops its operand.
    fn re(&mut self, end: Option<u8>, out: &mut String) -> Parsed<()> {
        loop {
            let mut produced = false;
            while let Some(c) = self.peek() {
                if c == b'|' || Some(c) == end {
                    break;
                }
                produced |= self.ere_exp(out)?;
            }
            if !produced {
                return Err(RegcompError::Empty);
            }
            let mut bars = 0;
            while self.eat(b'|') {
                bars += 1;
            }
            if bars == 0 {
                return Ok(());
            }
            if bars > 1 || (end.is_none() && !self.more()) {
                return Err(RegcompError::Empty);
            }
            out.push('|');
        }
    }

    /// `p_ere_exp`: one atom and its optional repetition. Returns whether
    /// anything was produced (false only for a `{0}` or `{0,0}` repetition).
    fn ere_exp(&mut self, out: &mut String) -> Parsed<bool> {
        let Some(c) = self.next() else { return Err(RegcompError::Empty) };
        let mut after_caret = false;
        let atom = match c {
            b'(' => {
                if !self.more() {
                    return Err(RegcompError::Paren);
                }
                let mut inner = String::new();
                // `()` is accepted: p_re is not called for it.
                if self.peek() != Some(b')') {
                    self.re(Some(b')'), &mut inner)?;
                }
                if !self.eat(b')') {
                    return Err(RegcompError::Paren);
                }
                Atom::Group(inner)
            }
            // An unmatched `)`: libc is built without POSIX_MISTAKE.
            b')' => return Err(RegcompError::Paren),
            b'^' => {
                after_caret = true;
                Atom::Assertion("^")
            }
            b'$' => Atom::Assertion("$"),
            b'|' => return Err(RegcompError::Empty),
            b'*' | b'+' | b'?' | b'{' => return Err(RegcompError::BadRepeat),
            b'.' => Atom::Single(".".to_owned()),
            b'[' => self.bracket()?,
            b'\\' => match self.next() {
                None => return Err(RegcompError::Escape),
                Some(b'<') => Atom::Assertion(r"\b{start}"),
                Some(b'>') => Atom::Assertion(r"\b{end}"),
                // may_escape: iswalpha() is ASCII-only in the C locale.
                Some(e) if e.is_ascii_alphabetic() || e == b'\'' || e == b'`' => {
                    return Err(RegcompError::Escape);
                }
                Some(e) => Atom::Single(literal(e)),
            },
            c => Atom::Single(literal(c)),
        };

        let quantifier = match self.peek() {
            Some(q @ (b'*' | b'+' | b'?' | b'{')) => {
                // "we call { a repetition if followed by a digit" or a comma.
                if q == b'{' && !(self.more2() && self.peek2().is_some_and(is_digit_or_comma)) {
                    return Err(RegcompError::BadRepeat);
                }
                self.pos += 1;
                if after_caret {
                    return Err(RegcompError::BadRepeat);
                }
                match q {
                    b'{' => Some(self.bounds()?),
                    q => Some(char::from(q).to_string()),
                }
            }
            _ => None,
        };
        let Some(quantifier) = quantifier else {
            atom.push("", out);
            return Ok(true);
        };
        // A second repetition operator right after the first.
        if let Some(c) = self.peek() {
            let braced_count = c == b'{' && self.peek2().is_some_and(|d| d.is_ascii_digit());
            if c == b'*' || c == b'+' || c == b'?' || braced_count {
                return Err(RegcompError::BadRepeat);
            }
        }
        if quantifier == "{0}" {
            // REP(0, 0) in `repeat`: the operand is dropped.
            return Ok(false);
        }
        atom.push(&quantifier, out);
        Ok(true)
    }

    /// After `x{`: `m}`, `m,}` or `m,n}` (the `case '{'` of `p_ere_exp`
    /// and `p_count`), as a `regex-lite` quantifier. `{0,0}` is `{0}`.
    fn bounds(&mut self) -> Parsed<String> {
        let min = self.count()?;
        let max = if self.eat(b',') {
            if self.peek().is_some_and(|d| d.is_ascii_digit()) {
                let max = self.count()?;
                if min > max {
                    return Err(RegcompError::BadBrace);
                }
                Some(max)
            } else {
                None
            }
        } else {
            Some(min)
        };
        if !self.eat(b'}') {
            while self.more() && self.peek() != Some(b'}') {
                self.pos += 1;
            }
            return Err(if self.more() { RegcompError::BadBrace } else { RegcompError::Brace });
        }
        Ok(match max {
            Some(max) if max == min => format!("{{{min}}}"),
            Some(max) => format!("{{{min},{max}}}"),
            None => format!("{{{min},}}"),
        })
    }

    /// `p_count`: at least one digit, at most [`DUPMAX`].
    fn count(&mut self) -> Parsed<u32> {
        let mut count: u32 = 0;
        let mut digits = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            if count > DUPMAX {
                break;
            }
            count = count * 10 + u32::from(d - b'0');
            digits += 1;
            self.pos += 1;
        }
        if digits == 0 || count > DUPMAX {
            return Err(RegcompError::BadBrace);
        }
        Ok(count)
    }

    /// `p_bracket`, after `[`: `[[:<:]]` and `[[:>:]]` are word
    /// boundaries; otherwise a set of bytes, `]` first or `-` first or last
    /// being literal, and `\` an ordinary character.
    fn bracket(&mut self) -> Parsed<Atom> {
        let rest = &self.re[self.pos..];
        if rest.len() > 5 {
            if rest.starts_with(b"[:<:]]") {
                self.pos += 6;
                return Ok(Atom::Assertion(r"\b{start}"));
            }
            if rest.starts_with(b"[:>:]]") {
                self.pos += 6;
                return Ok(Atom::Assertion(r"\b{end}"));
            }
        }
        let mut set = ByteSet::default();
        let invert = self.eat(b'^');
        if self.eat(b']') {
            set.add(b']');
        } else if self.eat(b'-') {
            set.add(b'-');
        }
        while let Some(c) = self.peek() {
            if c == b']' || self.see_two(b'-', b']') {
                break;
            }
            self.bracket_term(&mut set)?;
        }
        if self.eat(b'-') {
            set.add(b'-');
        }
        if !self.eat(b']') {
            return Err(RegcompError::Bracket);
        }
        if invert {
            set = set.complement();
        }
        Ok(Atom::Single(set.to_class()))
    }

    /// `p_b_term`: a `[:class:]`, a `[=equivalence=]` class, or a
    /// character or range (whose ends may be `[.collating.]` symbols).
    fn bracket_term(&mut self, set: &mut ByteSet) -> Parsed<()> {
        let kind = match self.peek() {
            Some(b'[') => self.peek2(),
            Some(b'-') => return Err(RegcompError::Range),
            _ => None,
        };
        match kind {
            Some(b':') => {
                self.pos += 2;
                match self.peek() {
                    None => return Err(RegcompError::Bracket),
                    Some(b'-' | b']') => return Err(RegcompError::CharClass),
                    Some(_) => {}
                }
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    self.pos += 1;
                }
                let name = &self.re[start..self.pos];
                // p_b_cclass: clname[16]; wctype() of the name.
                let class = CLASSES.iter().find(|(n, _)| n.as_bytes() == name && name.len() < 15);
                let Some((_, members)) = class else { return Err(RegcompError::CharClass) };
                for b in 0..=u8::MAX {
                    if members(b) {
                        set.add(b);
                    }
                }
                if !self.more() {
                    return Err(RegcompError::Bracket);
                }
                if !self.eat_two(b':', b']') {
                    return Err(RegcompError::CharClass);
                }
            }
            Some(b'=') => {
                self.pos += 2;
                match self.peek() {
                    None => return Err(RegcompError::Bracket),
                    Some(b'-' | b']') => return Err(RegcompError::Collate),
                    Some(_) => {}
                }
                let c = self.collating_element(b'=')?;
                set.add(c);
                if !self.more() {
                    return Err(RegcompError::Bracket);
                }
                if !self.eat_two(b'=', b']') {
                    return Err(RegcompError::Collate);
                }
            }
            _ => {
                let start = self.bracket_symbol()?;
                let finish =
                    if self.peek() == Some(b'-') && self.more2() && self.peek2() != Some(b']') {
                        self.pos += 1;
                        if self.eat(b'-') {
                            b'-'
                        } else {
                            self.bracket_symbol()?
                        }
                    } else {
                        start
                    };
                // The C locale has no collation table, so a range is by
                // byte value (`__collate_load_error` in p_b_term).
                if start > finish {
                    return Err(RegcompError::Range);
                }
                for b in start..=finish {
                    set.add(b);
                }
            }
        }
        Ok(())
    }

    /// `p_b_symbol`: one byte, or a `[.name.]` collating symbol.
    fn bracket_symbol(&mut self) -> Parsed<u8> {
        if !self.more() {
            return Err(RegcompError::Bracket);
        }
        if !self.eat_two(b'[', b'.') {
            return self.next().ok_or(RegcompError::Bracket);
        }
        let c = self.collating_element(b'.')?;
        if !self.eat_two(b'.', b']') {
            return Err(RegcompError::Collate);
        }
        Ok(c)
    }

    /// `p_b_coll_elem`: the name up to `end` `]` is a name from `cname.h`
    /// or a single character.
    fn collating_element(&mut self, end: u8) -> Parsed<u8> {
        let start = self.pos;
        while self.more() && !self.see_two(end, b']') {
            self.pos += 1;
        }
        if !self.more() {
            return Err(RegcompError::Bracket);
        }
        let name = &self.re[start..self.pos];
        if let Some((_, code)) = COLLATING_NAMES.iter().find(|(n, _)| n.as_bytes() == name) {
            return Ok(*code);
        }
        match name {
            [c] if *c != 0 => Ok(*c),
            _ => Err(RegcompError::Collate),
        }
    }
}

fn is_digit_or_comma(c: u8) -> bool {
    c.is_ascii_digit() || c == b','
}

/// `c` as a `regex-lite` literal outside a class. `regex-lite` takes a
/// backslash before any ASCII punctuation except `<` and `>` (which it
/// reads as word boundaries), and every other character as itself.
fn literal(c: u8) -> String {
    let c = char::from(c);
    if c.is_ascii_punctuation() && c != '<' && c != '>' {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// A bracket expression's members, with `REG_ICASE` applied as `CHadd`
/// applies it: adding a byte adds its ASCII upper and lower case too.
struct ByteSet([bool; 256]);

impl Default for ByteSet {
    fn default() -> ByteSet {
        ByteSet([false; 256])
    }
}

impl ByteSet {
    fn add(&mut self, b: u8) {
        self.0[usize::from(b)] = true;
        self.0[usize::from(b.to_ascii_lowercase())] = true;
        self.0[usize::from(b.to_ascii_uppercase())] = true;
    }

    /// `[^…]` over the 256 bytes (`CHIN`: bitmap XOR `invert`). The set is
    /// closed under ASCII case, so its complement is too.
    fn complement(&self) -> ByteSet {
        let mut out = ByteSet::default();
        for (o, i) in out.0.iter_mut().zip(self.0.iter()) {
            *o = !*i;
        }
        out
    }

    /// The members as a `regex-lite` class of ranges. `regex-lite` rejects
    /// `\x{..}` escapes as range ends, so ends are written as characters,
    /// punctuation escaped. An empty set is a class that matches nothing.
    fn to_class(&self) -> String {
        let mut ranges: Vec<(u8, u8)> = Vec::new();
        for b in (0..=u8::MAX).filter(|&b| self.0[usize::from(b)]) {
            match ranges.last_mut() {
                Some((_, hi)) if u16::from(*hi) + 1 == u16::from(b) => *hi = b,
                _ => ranges.push((b, b)),
            }
        }
        if ranges.is_empty() {
            return r"[^\x{0}-\x{10FFFF}]".to_owned();
        }
        let mut out = String::from("[");
        for (lo, hi) in ranges {
            class_char(lo, &mut out);
            if hi > lo {
                out.push('-');
                class_char(hi, &mut out);
            }
        }
        out.push(']');
        out
    }
}

/// One class member or range end: the character with the byte's number,
/// with a backslash before ASCII punctuation except `<` and `>`.
fn class_char(b: u8, out: &mut String) {
    let c = char::from(b);
    if c.is_ascii_punctuation() && c != '<' && c != '>' {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> DevdRegex {
        let re = DevdRegex::new(p);
        assert_eq!(re.rejection(), None, "{p:?} rejected");
        re
    }

    fn rejected(p: &str) -> Option<RegcompError> {
        DevdRegex::new(p).rejection().cloned()
    }

    #[test]
    fn the_regexes_devd_conf_files_use() {
        let not_usbus_or_wlan = re("(usbus|wlan)[0-9]+");
        assert!(not_usbus_or_wlan.is_match("wlan0") && not_usbus_or_wlan.is_match("usbus12"));
        assert!(!not_usbus_or_wlan.is_match("wlan") && !not_usbus_or_wlan.is_match("wlan0x"));
        let ports = re("(em0|wlan0|em0\\.5)");
        assert!(ports.is_match("em0") && ports.is_match("wlan0") && ports.is_match("em0.5"));
        assert!(!ports.is_match("em0x5") && !ports.is_match("em") && !ports.is_match("wlan01"));
        assert!(re("a.c").is_match("abc") && !re("a.c").is_match("ac"));
        assert!(re("[^0-9]+").is_match("abc") && !re("[^0-9]+").is_match("a1"));
        assert!(re("colou?r").is_match("color") && re("colou?r").is_match("COLOUR"));
        assert!(re("(a*)*b").is_match("aaab"));
        assert!(re("\\$\\(x\\)").is_match("$(x)"));
        assert!(re("user:770:swap:.*").is_match("user:770:swap:devctl=1G"));
    }

    /// devd anchors with the text `^…$`, not a group: `^em0|wlan0$` is
    /// `(^em0)|(wlan0$)`, which is why generated alternations are
    /// parenthesised.
    #[test]
    fn anchoring_is_textual() {
        let loose = re("em0|wlan0");
        assert!(loose.is_match("em0junk") && loose.is_match("xwlan0"));
        assert!(!loose.is_match("xem0") && !loose.is_match("wlan0x"));
        assert!(!re("(em0|wlan0)").is_match("em0junk"));
        // A trailing backslash escapes devd's `$`: a literal dollar.
        let dollar = re("a\\");
        assert!(dollar.is_match("a$") && !dollar.is_match("a"));
        assert_eq!(dollar.anchored(), "^a\\$");
        // `|` at either end is not an empty branch once anchored.
        assert!(re("|x").is_match("") && re("|x").is_match("anythingx"));
    }

    /// REG_ICASE in the C locale folds ASCII only, and libc sees bytes.
    #[test]
    fn case_and_bytes_are_the_c_locale() {
        assert!(re("WLAN[0-9]").is_match("wlan0") && re("wlan0").is_match("WLAN0"));
        assert!(re("[A-Z]+").is_match("abc") && re("[[:upper:]]+").is_match("abc"));
        assert!(re("[^a]").is_match("b") && !re("[^a]").is_match("A"));
        assert!(!re("é").is_match("É"), "no folding above ASCII");
        assert!(re("é").is_match("é"));
        assert!(re("..").is_match("é"), "é is two bytes, so two characters");
        assert!(!re(".").is_match("é"));
        assert!(re("[^x][^x]").is_match("ÿ"));
        assert!(!re("k").is_match("\u{212a}"), "no Unicode folding (Kelvin sign)");
        assert!(re("a.b").is_match("a\nb"), "no REG_NEWLINE: . matches a newline");
        assert!(re("a").is_match("a\0junk"), "values end at a NUL, as C strings");
    }

    #[test]
    fn bracket_expressions_are_posix() {
        assert!(re("[]a]*").is_match("]a]") && re("[^]a]").is_match("b"));
        assert!(!re("[^]a]").is_match("]"));
        assert!(re("[a-]+").is_match("-a-") && re("[-a]+").is_match("a-"));
        assert!(re("[\\.]+").is_match("\\.\\"), "backslash is literal inside brackets");
        assert!(re("[[:digit:]]{2,3}").is_match("123") && !re("[[:digit:]]{2,3}").is_match("1"));
        assert!(!re("[[:digit:]]{2,3}").is_match("1234"));
        assert!(re("[[:alpha:][:digit:]_]+").is_match("em0_x"));
        assert!(re("[[:space:]]").is_match("\t") && !re("[[:blank:]]").is_match("\n"));
        assert!(re("[[:punct:]]").is_match("~") && !re("[[:punct:]]").is_match("a"));
        assert!(re("[[.hyphen.]]").is_match("-") && re("[[=a=]]").is_match("A"));
        assert!(re("[[.-.]a]").is_match("-"));
        assert!(re("[!--]").is_match(",") && re("[%--]").is_match("-"));
        assert!(re("[[:number:]]").is_match("7") && !re("[[:ideogram:]]").is_match("7"));
        assert!(re("[^[:ideogram:]]").is_match("\u{1}") && re("[^[:ideogram:]]").is_match("-"));
        assert!(re("x[[:<:]]y").is_match("x y") == re("x\\<y").is_match("x y"));
        assert!(re("[[:<:]]em0[[:>:]]").is_match("em0"));
    }

    #[test]
    fn repetition_bounds() {
        assert!(re("x{2}").is_match("xx") && !re("x{2}").is_match("xxx"));
        assert!(re("x{2,}").is_match("xxxx") && !re("x{2,}").is_match("x"));
        assert!(re("x{0,1}y").is_match("y") && re("x{007}").is_match("xxxxxxx"));
        assert!(re("ax{0}b").is_match("ab"), "x{{0}} drops the x");
        assert!(re("x{255}").is_match(&"x".repeat(255)));
        assert_eq!(rejected("x{256}"), Some(RegcompError::BadBrace), "RE_DUP_MAX is 255");
        assert_eq!(rejected("x{,3}"), Some(RegcompError::BadBrace));
        assert_eq!(rejected("x{3,1}"), Some(RegcompError::BadBrace));
        assert_eq!(rejected("x{2"), Some(RegcompError::Brace));
        assert_eq!(rejected("x{a}"), Some(RegcompError::BadRepeat));
        assert_eq!(rejected("x{2}{3}"), Some(RegcompError::BadRepeat));
        assert_eq!(rejected("x**"), Some(RegcompError::BadRepeat));
        assert!(re("$*x").rejection().is_none() && re("()*").is_match(""));
    }

    #[test]
    fn what_freebsd_regcomp_rejects() {
        let cases = [
            ("(", RegcompError::Paren),
            (")", RegcompError::Paren),
            ("a)", RegcompError::Paren),
            ("*a", RegcompError::BadRepeat),
            ("a|*b", RegcompError::BadRepeat),
            ("a||b", RegcompError::Empty),
            ("(|a)", RegcompError::Empty),
            ("(a|)", RegcompError::Empty),
            ("(a{0})", RegcompError::Empty),
            ("\\d", RegcompError::Escape),
            ("\\w", RegcompError::Escape),
            ("\\n", RegcompError::Escape),
            ("\\'", RegcompError::Escape),
            ("[z-a]", RegcompError::Range),
            ("[a-c-e]", RegcompError::Range),
            ("[--z]", RegcompError::Range),
            ("[[:nope:]]", RegcompError::CharClass),
            ("[[:word:]]", RegcompError::CharClass),
            ("[[:ascii:]]", RegcompError::CharClass),
            ("[[.nope.]]", RegcompError::Collate),
            ("[a", RegcompError::Bracket),
            ("[[:alpha:", RegcompError::CharClass),
            ("{1}", RegcompError::BadRepeat),
            ("(?i)a", RegcompError::BadRepeat),
        ];
        for (pattern, error) in cases {
            assert_eq!(rejected(pattern), Some(error), "{pattern:?}");
            assert!(!DevdRegex::new(pattern).is_match(pattern), "{pattern:?} matched");
        }
        // What regex-lite would read differently is literal here.
        assert!(re("\\.").is_match(".") && !re("\\.").is_match("x"));
        assert!(re("\\1").is_match("1"), "no back-references in libc's EREs");
        assert!(re("a\\{1\\}").is_match("a{1}"));
        assert!(re("#").is_match("#") && re(" ").is_match(" ") && re("<>").is_match("<>"));
        assert!(re("()").is_match(""), "an empty group is accepted");
    }

    /// Patterns libc accepts but regex-lite cannot build count as rejected;
    /// the message says so.
    #[test]
    fn engine_limits_are_reported() {
        let huge = DevdRegex::new("((a{255}){255}){255}");
        assert!(matches!(huge.rejection(), Some(RegcompError::Engine(_))));
        assert!(!huge.is_match("a"));
    }
}

/// The differential table against glibc's `regcomp`/`regexec`; its FFI is
/// the only unsafe code outside `sys`, and it exists only in this test.
#[cfg(all(test, target_os = "linux"))]
#[allow(unsafe_code)]
mod glibc_differential;
