//! The transitions file (`/var/db/lagghook/history`): a plain-text log in
//! the manner of a BSD /var/db file, to which a run only appends.
//!
//! A comment line ([`HEADER`]), then one line per transition, oldest first:
//! its Unix time in seconds, a space, and the transition line. A save
//! appends only the transitions the run added, in one write(2) through
//! `O_APPEND` under the store's lock: no TOML, no temporary file, no rename
//! (a rename over an existing file costs a writeback on some file systems,
//! and devd waits for every run). The file is rewritten whole, atomically,
//! only
//! - to compact it, once it holds more than 2 × [`KEEP_TRANSITIONS`] lines
//!   or would pass [`MAX_FILE_SIZE`]: it then keeps the last
//!   [`KEEP_TRANSITIONS`], so a rewrite comes once in 50 transitions;
//! - to replace a file it must not append to: a hostile one (a link, a
//!   special file, another user's, writable by group or others, over the
//!   cap: never opened, and read as an empty history), one without the
//!   header (another format: the TOML history of earlier versions, whose
//!   lines all read as malformed, so it yields no entries and is replaced
//!   by the first run that adds a transition), or one whose last line was
//!   cut short (a crash in the middle of an append), which an append would
//!   glue to its first line.
//!
//! Reading skips comments and malformed lines: the history only informs
//! `status`, so a damaged line costs that line, never an error.

use crate::run::state::{Transition, KEEP_TRANSITIONS};
use crate::sys::file::MAX_FILE_SIZE;

/// The first line of the file, which says what it is; a file that does not
/// start with it is not appended to (see the module's documentation).
pub const HEADER: &str =
    "# lagghook(8) transitions: unix time, then the line; the last 50 are kept\n";

/// The history as a load found it: what it holds, and what the next save
/// may do to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The last [`KEEP_TRANSITIONS`] transitions, oldest first.
    pub transitions: Vec<Transition>,
    /// Lines below the header, malformed ones included: what compaction
    /// counts.
    lines: usize,
    /// The file's size in bytes.
    bytes: u64,
    file: Found,
}

/// What stood at the history's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// Nothing: an append creates the file.
    Missing,
    /// A file of lagghook's, with its header and whole lines.
    Appendable,
    /// A file that must not be appended to, or could not be read: the
    /// next save that adds a transition replaces it.
    Replace,
}

/// What a save does to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Save {
    /// The file already holds these transitions.
    Nothing,
    /// These lines go at the end (the file gets [`HEADER`] first if it is
    /// missing).
    Append(String),
    /// The file is replaced by this text.
    Rewrite(String),
}

impl History {
    /// No file at the path.
    pub fn missing() -> History {
        History { transitions: Vec::new(), lines: 0, bytes: 0, file: Found::Missing }
    }

    /// A file that could not be read, or must not be: an empty history,
    /// replaced by the next save that adds a transition.
    pub fn refused() -> History {
        History { transitions: Vec::new(), lines: 0, bytes: 0, file: Found::Replace }
    }

    /// The history in a file's bytes.
    pub fn parse(bytes: &[u8]) -> History {
        let headed = bytes.starts_with(HEADER.as_bytes());
        let whole = bytes.is_empty() || bytes.ends_with(b"\n");
        let file = if headed && whole { Found::Appendable } else { Found::Replace };
        let mut transitions = Vec::new();
        let mut lines = 0;
        // An unfinished last line is not a transition: it was cut short.
        for raw in bytes.split_inclusive(|b| *b == b'\n').filter(|l| l.ends_with(b"\n")) {
            let raw = &raw[..raw.len() - 1];
            if raw.starts_with(b"#") {
                continue;
            }
            lines += 1;
            transitions.extend(parse_line(raw));
        }
        let excess = transitions.len().saturating_sub(KEEP_TRANSITIONS);
        transitions.drain(..excess);
        History { transitions, lines, bytes: bytes.len() as u64, file }
    }

    /// What saving `now` (a state's transitions: those loaded, less the
    /// oldest that [`crate::run::state::State::record`] dropped, then the
    /// new ones) does to the file, so that loading it again yields `now`.
    pub fn save(&self, now: &[Transition]) -> Save {
        let old = &self.transitions;
        // The fewest old transitions dropped for `now` to go on from the
        // rest; `old.len()` (all dropped) always qualifies.
        let dropped = (0..=old.len()).find(|&k| now.starts_with(&old[k..])).unwrap_or(old.len());
        let added = &now[old.len() - dropped..];
        if dropped == 0 && added.is_empty() {
            return Save::Nothing;
        }
        // An append leaves `now` as what loading the file yields (its last
        // KEEP_TRANSITIONS) only if `now` kept every old transition, or is
        // at least that long: what it dropped is then older than what
        // loading keeps.
        let exact = dropped == 0 || now.len() >= KEEP_TRANSITIONS;
        let mut text = String::new();
        for t in added {
            push_line(&mut text, t);
        }
        let lines = self.lines + added.len();
        let bytes = self.bytes + (self.header_to_write() + text.len()) as u64;
        let appendable = matches!(self.file, Found::Missing | Found::Appendable);
        if exact && appendable && lines <= 2 * KEEP_TRANSITIONS && bytes <= MAX_FILE_SIZE {
            Save::Append(text)
        } else {
            Save::Rewrite(render(now))
        }
    }

    /// The history once `save` has been carried out for `now`.
    pub fn saved(&self, save: &Save, now: &[Transition]) -> History {
        let last = |n: usize| now[now.len().saturating_sub(n)..].to_vec();
        match save {
            Save::Nothing => self.clone(),
            Save::Append(text) => History {
                transitions: last(KEEP_TRANSITIONS),
                lines: self.lines + text.matches('\n').count(),
                bytes: self.bytes + (self.header_to_write() + text.len()) as u64,
                file: Found::Appendable,
            },
            Save::Rewrite(text) => {
                // What `render` kept: one line each, below the header.
                let lines = text.matches('\n').count().saturating_sub(1);
                History {
                    transitions: last(lines),
                    lines,
                    bytes: text.len() as u64,
                    file: Found::Appendable,
                }
            }
        }
    }

    /// Whether no file stood at the path.
    pub fn is_missing(&self) -> bool {
        self.file == Found::Missing
    }

    /// What an append writes before its lines: the header, into a file it
    /// creates.
    fn header_to_write(&self) -> usize {
        if self.file == Found::Missing {
            HEADER.len()
        } else {
            0
        }
    }
}

/// The whole file for the last of `transitions`: at most
/// [`KEEP_TRANSITIONS`], and no more than fit in [`MAX_FILE_SIZE`], so that
/// the file can be read back (transition lines are short; this only
/// matters for a file that was never lagghook's).
pub fn render(transitions: &[Transition]) -> String {
    let kept = &transitions[transitions.len().saturating_sub(KEEP_TRANSITIONS)..];
    let lines: Vec<String> = kept
        .iter()
        .map(|t| {
            let mut line = String::new();
            push_line(&mut line, t);
            line
        })
        .collect();
    let mut size = HEADER.len();
    let mut first = lines.len();
    while first > 0 && size + lines[first - 1].len() <= MAX_FILE_SIZE as usize {
        first -= 1;
        size += lines[first].len();
    }
    let mut text = String::with_capacity(size);
    text.push_str(HEADER);
    lines[first..].iter().for_each(|l| text.push_str(l));
    text
}

/// `TIME LINE\n`. Transition lines are one line already
/// ([`crate::domain::text::one_line`]); a control character that got in
/// anyway is escaped, so one transition is always one line of the file.
fn push_line(text: &mut String, t: &Transition) {
    use std::fmt::Write;
    let _ = write!(text, "{} ", t.time);
    for c in t.line.chars() {
        if c.is_control() {
            let _ = write!(text, "{}", c.escape_default());
        } else {
            text.push(c);
        }
    }
    text.push('\n');
}

/// One line without its newline: digits, a space, then text without
/// control characters (as [`push_line`] writes it); anything else is
/// malformed.
fn parse_line(raw: &[u8]) -> Option<Transition> {
    let text = std::str::from_utf8(raw).ok()?;
    let (time, line) = text.split_once(' ')?;
    if time.is_empty() || !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if line.chars().any(char::is_control) {
        return None;
    }
    Some(Transition { time: time.parse().ok()?, line: line.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(time: u64, line: &str) -> Transition {
        Transition { time, line: line.to_owned() }
    }

    fn run_of(n: u64) -> Vec<Transition> {
        (0..n).map(|i| t(1_700_000_000 + i, &format!("lagg0: port wlan0 joined ({i})"))).collect()
    }

    #[test]
    fn the_header_names_how_many_are_kept() {
        assert!(HEADER.contains(&format!("the last {KEEP_TRANSITIONS} are kept")), "{HEADER}");
        assert_eq!(HEADER.matches('\n').count(), 1);
    }

    #[test]
    fn a_file_reads_back_as_written_and_keeps_the_last_ones() {
        let all = run_of(70);
        let lines: String = all.iter().map(|t| format!("{} {}\n", t.time, t.line)).collect();
        let h = History::parse(format!("{HEADER}{lines}").as_bytes());
        assert_eq!(h.transitions, all[20..]);
        assert_eq!((h.lines, h.file), (70, Found::Appendable));
    }

    /// Proves a damaged line costs that line only, and a line cut short at
    /// the end is not read as a transition nor appended to.
    #[test]
    fn malformed_lines_are_skipped() {
        let text = [
            HEADER.as_bytes(),
            b"1 lagg0: created\nx2 bad time\n+3 signed\n4\n\n5 bell\x07\n# a comment\n",
            b"\xff\xfe\n99999999999999999999 overflow\n6 lagg0: offline\n7 cut sh",
        ]
        .concat();
        let h = History::parse(&text);
        assert_eq!(h.transitions, [t(1, "lagg0: created"), t(6, "lagg0: offline")]);
        assert_eq!(h.lines, 9, "malformed lines count towards compaction");
        assert_eq!(h.file, Found::Replace, "a cut line must not be appended to");
        let fine = History::parse(format!("{HEADER}1 a\nbad\n").as_bytes());
        assert_eq!((fine.transitions, fine.file), (vec![t(1, "a")], Found::Appendable));
    }

    /// What the TOML history of earlier versions holds.
    #[test]
    fn an_old_toml_history_yields_nothing_and_is_replaced_by_the_next_save() {
        let old = "version = 1\n\n[[transition]]\ntime = 1700000000\nline = \"lagg0: created\"\n";
        let h = History::parse(old.as_bytes());
        assert_eq!((h.transitions.as_slice(), h.file), (&[][..], Found::Replace));
        assert_eq!(h.save(&[]), Save::Nothing, "left alone until a transition is added");
        let now = [t(5, "lagg0: port em0 joined")];
        assert_eq!(h.save(&now), Save::Rewrite(render(&now)));
    }

    #[test]
    fn a_save_appends_only_what_the_run_added() {
        let all = run_of(KEEP_TRANSITIONS as u64 + 3);
        let h = History::parse(render(&all[..10]).as_bytes());
        assert_eq!(h.save(&all[..10]), Save::Nothing);
        let save = h.save(&all[..12]);
        assert_eq!(save, Save::Append(render(&all[10..12])[HEADER.len()..].to_owned()));
        // A full history drops its oldest as it gains: still an append.
        let full = History::parse(render(&all[..KEEP_TRANSITIONS]).as_bytes());
        let now = &all[3..];
        assert_eq!(full.save(now), Save::Append(render(&all[50..])[HEADER.len()..].to_owned()));
        // A missing file is created by the append, header first.
        let save = History::missing().save(&all[..1]);
        assert!(matches!(&save, Save::Append(text) if !text.starts_with('#')), "{save:?}");
        let after = History::missing().saved(&save, &all[..1]);
        assert_eq!(after, History::parse(render(&all[..1]).as_bytes()));
    }

    /// A history that lost old entries without reaching the cap is not
    /// the file plus an append: it is written whole.
    #[test]
    fn a_history_that_lost_entries_is_rewritten() {
        let all = run_of(10);
        let h = History::parse(render(&all).as_bytes());
        assert_eq!(h.save(&all[2..]), Save::Rewrite(render(&all[2..])));
        assert_eq!(h.save(&[]), Save::Rewrite(render(&[])));
        assert_eq!(History::refused().save(&all), Save::Rewrite(render(&all)));
    }

    #[test]
    fn a_file_past_twice_the_kept_lines_or_the_cap_is_compacted() {
        let all = run_of(2 * KEEP_TRANSITIONS as u64 + 1);
        let mut h = History::missing();
        for n in 1..=2 * KEEP_TRANSITIONS {
            let now = &all[n.saturating_sub(KEEP_TRANSITIONS)..n];
            let save = h.save(now);
            assert!(matches!(save, Save::Append(_)), "{n}: {save:?}");
            h = h.saved(&save, now);
        }
        assert_eq!(h.lines, 2 * KEEP_TRANSITIONS);
        let now = &all[all.len() - KEEP_TRANSITIONS..];
        assert_eq!(h.save(now), Save::Rewrite(render(now)));
        // The cap: a few huge lines.
        let long = "x".repeat(MAX_FILE_SIZE as usize / 3);
        let big: Vec<Transition> = (0..3).map(|i| t(i, &long)).collect();
        let h = History::parse(render(&big[..2]).as_bytes());
        let save = h.save(&big);
        assert_eq!(save, Save::Rewrite(render(&big[1..])), "the oldest does not fit");
        let after = h.saved(&save, &big);
        assert_eq!(after.transitions, big[1..]);
        assert!(after.bytes <= MAX_FILE_SIZE);
    }

    #[test]
    fn a_newline_in_a_transition_stays_on_its_line() {
        let odd = [t(1, "lagg0: one\nline"), t(2, "tab\there\r")];
        let text = render(&odd);
        assert_eq!(text.lines().count(), 3, "{text}");
        let h = History::parse(text.as_bytes());
        assert_eq!(h.transitions, [t(1, "lagg0: one\\nline"), t(2, "tab\\there\\r")]);
    }
}
