//! What devd does with an event once its configuration is parsed
//! (`sbin/devd/devd.cc`): which statement runs, what its conditions test,
//! and which commands its actions become.
//!
//! What this module owns: statement selection (devd runs only the
//! highest-priority matching notify statement per event), the variables of
//! an event, `$var` expansion with devd's shell quoting, splitting an
//! expanded action into commands and words as `/bin/sh` would, and the
//! `media-type` condition. What it does not own: parsing (`conf`), regex
//! semantics (`regex`), or running anything.
//!
//! devd facts used here (FreeBSD main after 14.0, `fel1x-developer/freebsd-src`
//! 2d614aa2, `sbin/devd/devd.cc`):
//! - only one statement runs per event: `config::parse` stable-sorts each list
//!   by descending priority and `config::find_and_execute` runs the first
//!   whose matches all succeed;
//! - `media-type` asks `SIOCGIFMEDIA` on `$device-name`, else `$subsystem`
//!   (`media::do_match`);
//! - in actions every `$var` is replaced by its shell-quoted value
//!   (`config::expand_one`, `config::shell_quote`), `$$` by `$`, and the
//!   result is run by `/bin/sh -c` (`my_system`).

use crate::domain::event::DevdEvent;

use super::conf::{Condition, Rule, StatementKind};

/// `media-type` values devd knows (`media::media`: "Ethernet", "802.11",
/// "ATM", "unknown", compared with `strcasecmp`; anything else behaves as
/// "unknown").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Ethernet,
    Ieee80211,
    Atm,
    /// Matches only when `SIOCGIFMEDIA` fails or lacks `IFM_AVALID`.
    Unknown,
}

impl Media {
    /// As a `media-type` string in devd.conf, and as `media_type`
    /// functions give it ([`select`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Media::Ethernet => "ethernet",
            Media::Ieee80211 => "802.11",
            Media::Atm => "ATM",
            Media::Unknown => "unknown",
        }
    }

    pub(super) fn parse(s: &str) -> Media {
        match s.to_ascii_lowercase().as_str() {
            "ethernet" => Media::Ethernet,
            "802.11" => Media::Ieee80211,
            "atm" => Media::Atm,
            _ => Media::Unknown,
        }
    }
}

impl Rule {
    /// Whether every match of the statement succeeds for `event`
    /// (`event_proc::matches`).
    pub fn matches(
        &self,
        event: &DevdEvent,
        media_type: &dyn Fn(&str) -> Option<&'static str>,
    ) -> bool {
        self.conditions.iter().all(|c| match c {
            Condition::Match { var, negate, regex, .. } => {
                regex.is_match(&variable(event, var).unwrap_or_default()) != *negate
            }
            Condition::Media(want) => {
                // $device-name if the event has one, else $subsystem.
                let name = event.get("device-name").filter(|n| !n.is_empty());
                match media_type(name.unwrap_or(&event.subsystem)) {
                    Some(t) => *want != Media::Unknown && Media::parse(t) == *want,
                    None => *want == Media::Unknown,
                }
            }
        })
    }

    /// The commands the actions run for `event`, as argument vectors: each
    /// action is split at unquoted `;`, `$var` is replaced by the value as
    /// one word part (devd shell-quotes it), `$$` by `$`, and the text is
    /// split into words as sh would (blanks, `'…'`, `"…"`, `\`). Other shell
    /// syntax (`&&`, `|`, redirections) is not interpreted and stays words.
    pub fn commands(&self, event: &DevdEvent) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for action in &self.actions {
            split_commands(&expand_action(action, event), &mut out);
        }
        out
    }
}

/// devd's variables for a notify event (`process_event`): the pairs of the
/// line, `*` (the whole line), `_` (without the `!`); unknown ones are
/// empty (`config::get_variable`).
fn variable(event: &DevdEvent, var: &str) -> Option<String> {
    match var {
        "*" => Some(event.to_string()),
        "_" => {
            let line = event.to_string();
            Some(line.strip_prefix('!').unwrap_or(&line).to_owned())
        }
        _ => event.get(var).map(str::to_owned),
    }
}

// ---------------------------------------------------------------------------
// Action expansion and word splitting

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// A character of the action text, seen by the shell as is.
    Raw(char),
    /// An expanded variable: devd wraps it in `$'…'`, so the shell sees its
    /// characters as quoted.
    Value(String),
}

/// `config::expand_string`: `$$` → `$`; `$(…)` passes through; `$` before a
/// character that cannot start a name stays; `$name` becomes the value.
pub(super) fn expand_pieces(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<Piece> {
    let chars: Vec<char> = s.chars().collect();
    let is_id = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '$' {
            out.push(Piece::Raw(c));
            continue;
        }
        match chars.get(i) {
            Some('$') => {
                out.push(Piece::Raw('$'));
                i += 1;
            }
            Some('(') => {
                out.push(Piece::Raw('$'));
                let mut depth = 0;
                while let Some(&c) = chars.get(i) {
                    out.push(Piece::Raw(c));
                    i += 1;
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                }
            }
            Some(&c) if c.is_ascii_alphabetic() || c == '_' || c == '-' || c == '*' => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|&c| is_id(c)) {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                out.push(Piece::Value(lookup(&name).unwrap_or_default()));
            }
            _ => out.push(Piece::Raw('$')),
        }
    }
    out
}

fn expand_action(action: &str, event: &DevdEvent) -> Vec<Piece> {
    expand_pieces(action, &|name| variable(event, name))
}

/// Splits expanded action text into commands (at `;`) and words, following
/// sh's quoting; appends non-empty commands to `out`.
fn split_commands(pieces: &[Piece], out: &mut Vec<Vec<String>>) {
    let mut cmd: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let (mut single, mut double, mut escaped) = (false, false, false);
    for piece in pieces {
        let c = match piece {
            // devd inserts `$'value'`; how sh reads that depends on context.
            Piece::Value(v) => {
                let w = word.get_or_insert_with(String::new);
                if escaped {
                    // `\$'v'`: an escaped `$`, then the quoted value.
                    w.push('$');
                    escaped = false;
                } else if single {
                    // `'…$'v''…`: the quote closes after `$`, the value is
                    // unquoted, then `''`; devd.conf(5) BUGS warns of this.
                    w.push('$');
                } else if double {
                    // No `$'…'` quoting inside "…": the text stays literal.
                    w.push_str("$'");
                    w.push_str(v);
                    w.push('\'');
                    continue;
                }
                w.push_str(v);
                continue;
            }
            Piece::Raw(c) => *c,
        };
        if escaped {
            word.get_or_insert_with(String::new).push(c);
            escaped = false;
        } else if single {
            if c == '\'' {
                single = false;
            } else {
                word.get_or_insert_with(String::new).push(c);
            }
        } else if double {
            match c {
                '"' => double = false,
                '\\' => escaped = true,
                c => word.get_or_insert_with(String::new).push(c),
            }
        } else {
            match c {
                '\'' => {
                    single = true;
                    word.get_or_insert_with(String::new);
                }
                '"' => {
                    double = true;
                    word.get_or_insert_with(String::new);
                }
                '\\' => escaped = true,
                ' ' | '\t' | '\n' => cmd.extend(word.take()),
                ';' => {
                    cmd.extend(word.take());
                    if !cmd.is_empty() {
                        out.push(std::mem::take(&mut cmd));
                    }
                }
                c => word.get_or_insert_with(String::new).push(c),
            }
        }
    }
    cmd.extend(word.take());
    if !cmd.is_empty() {
        out.push(cmd);
    }
}

// ---------------------------------------------------------------------------
// Selection

/// The statement devd runs for notify event `event`: among the notify
/// statements, stable-sorted by descending priority, the first whose
/// matches all succeed. Equal priorities keep list order, so pass the stock
/// rules first (devd parses `/etc/devd.conf` before the directories).
/// `media_type(ifname)` stands for `SIOCGIFMEDIA`: `Some("ethernet")`,
/// `Some("802.11")`, … for the media type when `IFM_AVALID` is set, `None`
/// when the ioctl fails or the status is not valid.
pub fn select<'a>(
    rules: &'a [Rule],
    event: &DevdEvent,
    media_type: &dyn Fn(&str) -> Option<&'static str>,
) -> Option<&'a Rule> {
    let mut notify: Vec<&Rule> = rules.iter().filter(|r| r.kind == StatementKind::Notify).collect();
    notify.sort_by_key(|r| std::cmp::Reverse(r.priority));
    notify.into_iter().find(|r| r.matches(event, media_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devd::parse;
    use crate::devd::test_support::media;

    #[test]
    fn action_expansion_quotes_values_like_devd() {
        let rule = &parse(
            "notify 0 { action \"echo $subsystem $$HOME x;y ;; 'a b' \\$type '$type' $nope.\"; };",
        )
        .unwrap()[0];
        // A value with blanks and quotes stays one word: devd shell-quotes it.
        let ev = DevdEvent::new("IFNET", "a b'c", "T");
        assert_eq!(
            rule.commands(&ev),
            vec![vec!["echo", "a b'c", "$HOME", "x"], vec!["y"], vec!["a b", "$T", "$T", "."]]
        );
    }

    #[test]
    fn selection_follows_priority_then_file_order() {
        let rules = parse(
            "notify 0 { match \"system\" \"IFNET\"; action \"low\"; };\n\
             notify 5 { match \"system\" \"IFNET\"; action \"first5\"; };\n\
             notify 5 { match \"system\" \"IFNET\"; action \"second5\"; };\n\
             notify 9 { match \"system\" \"IFNET\"; match \"type\" \"NEVER\"; action \"no\"; };\n\
             attach 99 { action \"attach-only\"; };\n",
        )
        .unwrap();
        let ev = DevdEvent::new("IFNET", "em0", "LINK_UP");
        assert_eq!(select(&rules, &ev, &media).map(Rule::action), Some("first5"));
        assert_eq!(select(&rules[..1], &ev, &media).map(Rule::action), Some("low"));
        // An empty statement is not kept, so it cannot win (parse.y).
        let rules = parse("notify 0 { action \"low\"; };\nnotify 200 { };\n").unwrap();
        assert_eq!(select(&rules, &ev, &media).map(Rule::action), Some("low"));
    }

    #[test]
    fn media_type_semantics() {
        let rule =
            |t: &str| parse(&format!("notify 0 {{ media-type \"{t}\"; }};")).unwrap().remove(0);
        let ev = DevdEvent::new("IFNET", "x0", "LINK_UP");
        let eth = |_: &str| Some("ethernet");
        let none = |_: &str| None;
        assert!(rule("Ethernet").matches(&ev, &eth));
        assert!(!rule("802.11").matches(&ev, &eth));
        assert!(!rule("unknown").matches(&ev, &eth));
        assert!(rule("unknown").matches(&ev, &none));
        assert!(rule("bogus").matches(&ev, &none), "unrecognised types act as unknown");
        assert!(!rule("ethernet").matches(&ev, &none));
    }
}
