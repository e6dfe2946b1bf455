//! A small POSIX extended regular expression matcher for devd's `match`
//! regexes.
//!
//! What this module owns: compiling and matching a pattern. What it does
//! not own: the anchors devd adds, `$var` expansion or the `!` that inverts
//! a match (`conf`, `dispatch`).

/// The ERE subset devd.conf files use: literals, `.`, bracket expressions
/// (ranges, negation, `[:class:]`), `*`, `+`, `?`, `{m,n}`, groups, `|`,
/// `^`, `$` and `\`-escapes of special characters. Matching is
/// case-insensitive in the C locale (`REG_ICASE`, ASCII folding) and
/// unanchored, like `regexec` (devd adds the anchors). A backtracking
/// matcher: fine for interface names, not for hostile patterns.
#[derive(Debug, Clone)]
pub struct Regex {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class { negated: bool, items: Vec<ClassItem> },
    Start,
    End,
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat { node: Box<Node>, min: u32, max: Option<u32> },
}

#[derive(Debug, Clone)]
enum ClassItem {
    Char(char),
    Range(char, char),
    Named(fn(&char) -> bool),
}

/// `RE_DUP_MAX` (`limits.h`): the largest count in `{m,n}`.
const RE_DUP_MAX: u32 = 255;

impl Regex {
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut p = ReParser { chars: &chars, pos: 0, depth: 0 };
        let root = p.alt()?;
        if p.pos < chars.len() {
            return Err(format!("unmatched ')' at offset {}", p.pos));
        }
        Ok(Regex { root })
    }

    /// Whether the pattern matches anywhere in `text`, as `regexec` != REG_NOMATCH.
    pub fn is_match(&self, text: &str) -> bool {
        let s: Vec<char> = text.chars().collect();
        (0..=s.len()).any(|start| m(&self.root, &s, start, &mut |_| true))
    }
}

struct ReParser<'a> {
    chars: &'a [char],
    pos: usize,
    depth: usize,
}

impl ReParser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn alt(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 { branches.remove(0) } else { Node::Alt(branches) })
    }

    fn concat(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || (c == ')' && self.depth > 0) {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantifiers(atom)?);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.remove(0),
            _ => Node::Concat(items),
        })
    }

    fn quantifiers(&mut self, mut node: Node) -> Result<Node, String> {
        loop {
            let (min, max) = match self.peek() {
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('?') => (0, Some(1)),
                Some('{') => {
                    self.pos += 1;
                    let (min, max) = self.bounds()?;
                    node = Node::Repeat { node: Box::new(node), min, max };
                    continue;
                }
                _ => return Ok(node),
            };
            self.pos += 1;
            node = Node::Repeat { node: Box::new(node), min, max };
        }
    }

    /// After `{`: `m}`, `m,}` or `m,n}`.
    fn bounds(&mut self) -> Result<(u32, Option<u32>), String> {
        let num = |p: &mut Self| -> Option<u32> {
            let start = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.chars[start..p.pos].iter().collect::<String>().parse().ok()
        };
        let min = num(self).ok_or("'{' without a count")?;
        let max = if self.peek() == Some(',') {
            self.pos += 1;
            num(self)
        } else {
            Some(min)
        };
        if self.peek() != Some('}') {
            return Err("unterminated {m,n}".into());
        }
        self.pos += 1;
        if min > RE_DUP_MAX || max.is_some_and(|n| n > RE_DUP_MAX || n < min) {
            return Err("bad repetition count".into());
        }
        Ok((min, max))
    }

    fn atom(&mut self) -> Result<Node, String> {
        let Some(c) = self.peek() else { return Err("unexpected end".into()) };
        self.pos += 1;
        Ok(match c {
            '(' => {
                self.depth += 1;
                let inner = self.alt()?;
                self.depth -= 1;
                if self.peek() != Some(')') {
                    return Err("unmatched '('".into());
                }
                self.pos += 1;
                inner
            }
            ')' => return Err("unmatched ')'".into()),
            '*' | '+' | '?' | '{' => return Err(format!("{c:?} has nothing to repeat")),
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '[' => self.class()?,
            '\\' => match self.peek() {
                Some(e) if !e.is_ascii_alphanumeric() => {
                    self.pos += 1;
                    Node::Char(e)
                }
                Some(e) => return Err(format!("unsupported escape \\{e}")),
                None => return Err("trailing backslash".into()),
            },
            c => Node::Char(c),
        })
    }

    /// After `[`. In POSIX brackets `\` is an ordinary character, `]` first
    /// is literal, and `-` first or last is literal.
    fn class(&mut self) -> Result<Node, String> {
        let mut negated = false;
        if self.peek() == Some('^') {
            negated = true;
            self.pos += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.peek() else { return Err("unterminated '['".into()) };
            self.pos += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            if c == '[' && self.peek() == Some(':') {
                let rest: String = self.chars[self.pos + 1..].iter().collect();
                let Some(end) = rest.find(":]") else { return Err("unterminated [:".into()) };
                let name = &rest[..end];
                let f: fn(&char) -> bool = match name {
                    "alpha" => char::is_ascii_alphabetic,
                    "digit" => char::is_ascii_digit,
                    "alnum" => char::is_ascii_alphanumeric,
                    "upper" => char::is_ascii_uppercase,
                    "lower" => char::is_ascii_lowercase,
                    "space" => |c: &char| c.is_ascii_whitespace() || *c == '\x0b',
                    "xdigit" => char::is_ascii_hexdigit,
                    "punct" => char::is_ascii_punctuation,
                    _ => return Err(format!("unknown class [:{name}:]")),
                };
                self.pos += 1 + name.chars().count() + 2;
                items.push(ClassItem::Named(f));
                continue;
            }
            if c == '[' && matches!(self.peek(), Some('.' | '=')) {
                return Err("collating elements are not supported".into());
            }
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                let hi = self.chars[self.pos + 1];
                self.pos += 2;
                if hi < c {
                    return Err(format!("invalid range {c}-{hi}"));
                }
                items.push(ClassItem::Range(c, hi));
            } else {
                items.push(ClassItem::Char(c));
            }
        }
        Ok(Node::Class { negated, items })
    }
}

fn class_has(items: &[ClassItem], c: char) -> bool {
    let one = |c: char| {
        items.iter().any(|it| match it {
            ClassItem::Char(x) => *x == c,
            ClassItem::Range(lo, hi) => (*lo..=*hi).contains(&c),
            ClassItem::Named(f) => f(&c),
        })
    };
    one(c) || one(c.to_ascii_lowercase()) || one(c.to_ascii_uppercase())
}

/// Does `node` match `s` at `i`, with the rest accepted by `k`?
fn m(node: &Node, s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match node {
        Node::Empty => k(i),
        Node::Char(c) => i < s.len() && s[i].eq_ignore_ascii_case(c) && k(i + 1),
        Node::Any => i < s.len() && k(i + 1),
        Node::Class { negated, items } => {
            i < s.len() && class_has(items, s[i]) != *negated && k(i + 1)
        }
        Node::Start => i == 0 && k(i),
        Node::End => i == s.len() && k(i),
        Node::Concat(nodes) => concat(nodes, s, i, k),
        Node::Alt(branches) => branches.iter().any(|b| m(b, s, i, k)),
        Node::Repeat { node, min, max } => repeat(node, *min, *max, 0, s, i, k),
    }
}

fn concat(nodes: &[Node], s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match nodes.split_first() {
        None => k(i),
        Some((first, rest)) => m(first, s, i, &mut |j| concat(rest, s, j, k)),
    }
}

/// Greedy repetition; once `min` is reached, an iteration that consumes
/// nothing ends the loop (otherwise `(a*)*` would never stop).
fn repeat(
    node: &Node,
    min: u32,
    max: Option<u32>,
    count: u32,
    s: &[char],
    i: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if count < min {
        return m(node, s, i, &mut |j| repeat(node, min, max, count + 1, s, j, k));
    }
    if max.is_none_or(|mx| count < mx)
        && m(node, s, i, &mut |j| j != i && repeat(node, min, max, count + 1, s, j, k))
    {
        return true;
    }
    k(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> Regex {
        Regex::new(&format!("^{p}$")).unwrap()
    }

    #[test]
    fn regex_matcher_handles_the_subset() {
        let stock = re("!(usbus|wlan)[0-9]+".trim_start_matches('!'));
        assert!(stock.is_match("wlan0") && stock.is_match("usbus12") && stock.is_match("WLAN3"));
        assert!(!stock.is_match("wlan") && !stock.is_match("em0") && !stock.is_match("wlan0x"));
        let gen = re("(em0|wlan0|em0\\.5)");
        assert!(gen.is_match("em0") && gen.is_match("wlan0") && gen.is_match("em0.5"));
        assert!(!gen.is_match("em0x5") && !gen.is_match("em") && !gen.is_match("wlan01"));
        assert!(re("a.c").is_match("abc") && !re("a.c").is_match("ac"));
        assert!(re("[^0-9]+").is_match("abc") && !re("[^0-9]+").is_match("a1"));
        assert!(re("[]a]*").is_match("]a]") && re("[a-]+").is_match("-a-"));
        assert!(re("[\\.]+").is_match("\\.\\"), "backslash is literal inside brackets");
        assert!(re("[[:digit:]]{2,3}").is_match("123") && !re("[[:digit:]]{2,3}").is_match("1"));
        assert!(!re("[[:digit:]]{2,3}").is_match("1234"));
        assert!(
            re("x{2}").is_match("xx") && re("x{2,}").is_match("xxxx") && !re("x{2,}").is_match("x")
        );
        assert!(re("colou?r").is_match("color") && re("colou?r").is_match("COLOUR"));
        assert!(re("(a*)*b").is_match("aaab") && re("(a|)+").is_match(""));
        assert!(re("[A-Z]+").is_match("abc"), "ranges fold case too");
        assert!(re("\\$\\(x\\)").is_match("$(x)"));
        // Unparenthesised alternation under devd's anchors: ^a|b$ means
        // (^a)|(b$), which is why generated alternations are parenthesised.
        let loose = Regex::new("^em0|wlan0$").unwrap();
        assert!(loose.is_match("em0junk") && loose.is_match("xwlan0"));
        for bad in ["(", ")", "*a", "a{", "a{3,1}", "[z-a]", "[[:nope:]]", "\\d", "a\\"] {
            assert!(Regex::new(bad).is_err(), "{bad} accepted");
        }
    }
}
