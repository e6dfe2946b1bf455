//! devd(8) rules: generating lagghook's devd.conf for a [`Config`], and a
//! model of how devd picks the one statement it runs for an event, so that
//! the generated rules can be tested together with FreeBSD's stock ones.
//!
//! What this module owns: the devd.conf subset that interface events use
//! (`notify N { match …; media-type …; action …; };`, comments, and
//! `options`/`attach`/`detach`/`nomatch`, which are parsed and not used for
//! notify events), a small POSIX extended-regex matcher, and devd's
//! selection and action expansion. What it does not do: run anything. The
//! caller (the CLI's `devd-conf`, the simulator's scenario runner) decides
//! what a command means.
//!
//! devd facts used here, all from FreeBSD 14 `sbin/devd`:
//! - only one statement runs per event: `config::parse` stable-sorts each list
//!   by descending priority and `config::find_and_execute` runs the first
//!   whose matches all succeed (`devd.cc`);
//! - `match` regexes are compiled as `"^" + re + "$"` after variable
//!   expansion, with `REG_EXTENDED | REG_ICASE`; a leading `!` inverts
//!   (`match::match`, `match::do_match`);
//! - `media-type` asks `SIOCGIFMEDIA` on `$device-name`, else `$subsystem`
//!   (`media::do_match`);
//! - in actions every `$var` is replaced by its shell-quoted value
//!   (`config::expand_one`, `config::shell_quote`), `$$` by `$`, and the
//!   result is run by `/bin/sh -c` (`my_system`).

use std::fmt;

use crate::domain::config::Config;
use crate::domain::event::{DevdEvent, IfnetEventKind};
use crate::domain::model::IfName;

/// Where devd rules say lagghook is installed (the FreeBSD ports prefix).
pub const PROGRAM: &str = "/usr/local/sbin/lagghook";

/// Priority of lagghook's statements. Anything above 0 outranks the stock
/// interface rules (all `notify 0`); 100 is what the stock file's own
/// examples use for overrides, and no stock IFNET rule uses it.
pub const PRIORITY: u32 = 100;

/// The IFNET statements of FreeBSD 14's `/etc/devd.conf`
/// (`sbin/devd/devd.conf`, releng/14.x), verbatim apart from the comments.
/// A later FreeBSD moves the two dhclient rules to `sbin/devd/dhclient.conf`
/// unchanged, which makes no difference to selection.
pub const STOCK_DEVD_CONF: &str = r#"# From FreeBSD 14 sbin/devd/devd.conf: the statements that see interfaces.
options {
	set wifi-driver-regex
		"(ath|bwi|bwn|ipw|iwi|iwm|iwn|malo|mwl|otus|ral|rsu|rtwn|rum|\
		run|uath|upgt|ural|urtw|wi|wpi|wtap|zyd)[0-9]+";
};

notify 0 {
	match "system"		"IFNET";
	match "subsystem"	"!(usbus|wlan)[0-9]+";
	match "type"		"ATTACH";
	action "/etc/pccard_ether $subsystem start";
};

notify 0 {
	match "system"		"IFNET";
	match "type"		"LINK_UP";
	media-type		"ethernet";
	action "service dhclient quietstart $subsystem";
};

attach 0 {
	device-name "$wifi-driver-regex";
	action "/etc/pccard_ether $device-name startchildren";
};
detach 0 {
	device-name "$wifi-driver-regex";
	action "/etc/pccard_ether $device-name stopchildren";
};
notify 0 {
	match "system"		"IFNET";
	match "type"		"LINK_UP";
	media-type		"802.11";
	action "service dhclient quietstart $subsystem";
};
"#;

/// FreeBSD 14's stock interface statements, parsed from [`STOCK_DEVD_CONF`].
/// Put them before generated rules: devd parses `/etc/devd.conf` first, so
/// they win ties.
pub fn stock_rules() -> Vec<Rule> {
    // The text is a constant checked by the unit tests; an error here is a
    // bug in this file, and the empty list makes every test fail loudly.
    parse(STOCK_DEVD_CONF).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Generation

/// Why rules cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenError {
    /// The program path cannot be written into a devd action.
    Program { program: String, reason: &'static str },
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Program { program, reason } => {
                write!(f, "program path {program:?} cannot be used in devd.conf: {reason}")
            }
        }
    }
}

impl std::error::Error for GenError {}

/// The devd.conf text `lagghook devd-conf` prints. If `program` cannot be
/// expressed (see [`try_rules_for`]) the text is a single comment saying so:
/// still a file devd accepts, and one that runs nothing.
pub fn rules_for(config: &Config, program: &str) -> String {
    try_rules_for(config, program).unwrap_or_else(|e| format!("# lagghook: {e}\n"))
}

/// [`rules_for`], with a bad `program` reported instead of written out.
///
/// For each event type, each port gets the stock action that FreeBSD 14
/// would have run for it (found by running [`select`] over
/// [`stock_rules`]); ports with the same chained action share a statement,
/// and statements with the same ports and action are merged over event
/// types. The output depends only on the config and `program`.
pub fn try_rules_for(config: &Config, program: &str) -> Result<String, GenError> {
    let prog = shell_word(program)?;
    let stock = stock_rules();
    let mut out = String::new();
    header(config, &mut out);

    // (ports, chained stock action, kinds), in first-appearance order.
    let mut groups: Vec<(Vec<&IfName>, Option<String>, Vec<IfnetEventKind>)> = Vec::new();
    for kind in IfnetEventKind::ALL {
        let mut per_kind: Vec<(Vec<&IfName>, Option<String>)> = Vec::new();
        for (lagg, port) in config.ports() {
            // The media a port reports: 802.11 for a vap, Ethernet for the
            // rest (lagg only accepts IFT_ETHER ports, `lagg_port_create`).
            let media: &'static str = if lagg.is_wlan_port(port) { "802.11" } else { "ethernet" };
            let event = DevdEvent::ifnet(port, kind);
            let chained = select(&stock, &event, &|_| Some(media)).map(|r| r.action().to_owned());
            match per_kind.iter_mut().find(|(_, a)| *a == chained) {
                Some((ports, _)) => ports.push(port),
                None => per_kind.push((vec![port], chained)),
            }
        }
        for (ports, chained) in per_kind {
            match groups.iter_mut().find(|(p, a, _)| *p == ports && *a == chained) {
                Some((_, _, kinds)) => kinds.push(kind),
                None => groups.push((ports, chained, vec![kind])),
            }
        }
    }

    for (ports, chained, kinds) in &groups {
        out.push('\n');
        why(ports, chained.as_deref(), kinds, &mut out);
        let subsystem = alternation(ports.iter().map(|p| escape_regex(p.as_str())));
        let types = alternation(kinds.iter().map(|k| k.as_str().to_owned()));
        let ours = format!("{prog} event $system $subsystem $type");
        let action = match chained {
            Some(stock) => format!("{stock}; {ours}"),
            None => ours,
        };
        out.push_str(&format!(
            "notify {PRIORITY} {{\n\tmatch \"system\"\t\t\"IFNET\";\n\
             \tmatch \"subsystem\"\t\"{subsystem}\";\n\tmatch \"type\"\t\t\"{types}\";\n\
             \taction \"{action}\";\n}};\n"
        ));
    }
    Ok(out)
}

fn header(config: &Config, out: &mut String) {
    out.push_str(&format!(
        "# devd(8) rules for lagghook, generated by `lagghook devd-conf` for\n\
         # {}.\n",
        config.path.display()
    ));
    for lagg in &config.laggs {
        let ports: Vec<&str> = lagg.ports.iter().map(IfName::as_str).collect();
        out.push_str(&format!("#   {}: ports {}\n", lagg.name, ports.join(" ")));
    }
    out.push_str(&format!(
        "# Install as /usr/local/etc/devd/lagghook.conf, then `service devd restart`:\n\
         # devd reads its configuration only when it starts.\n\
         #\n\
         # devd runs only the highest-priority statement matching an event\n\
         # (config::find_and_execute in sbin/devd/devd.cc). These statements use\n\
         # priority {PRIORITY}, above the stock priority-0 interface rules, so where a\n\
         # stock FreeBSD 14 rule would match the same event, its action is run\n\
         # here first, chained with ';' (lagghook runs whatever its exit status).\n\
         #\n\
         # Interfaces not in the config are not matched, and neither are the\n\
         # laggs themselves: a lagg's LINK_UP must reach the stock rule that\n\
         # runs `service dhclient quietstart lagg0` (ifconfig_lagg0=\"... DHCP\"),\n\
         # and lagghook learns about a lagg from its ports' events.\n\
         # A port is taken to be a wlan vap if it has a wlan.X table or is named\n\
         # wlan<N> (what rc.d/netif's wlan_up creates), an Ethernet NIC otherwise;\n\
         # that only decides which stock action is chained.\n\
         # Regexes are implicitly ^...$ and case-insensitive; alternatives are in\n\
         # parentheses because devd only prepends ^ and appends $.\n\
         # devd passes $system $subsystem $type shell-quoted, one word each.\n",
    ));
    if config.laggs.is_empty() {
        out.push_str("#\n# No laggs are configured, so there are no rules.\n");
    }
}

/// The why-comment over one generated statement.
fn why(ports: &[&IfName], chained: Option<&str>, kinds: &[IfnetEventKind], out: &mut String) {
    let names: Vec<&str> = ports.iter().map(|p| p.as_str()).collect();
    let kind_names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    out.push_str(&format!("# {} of {}:\n", kind_names.join(", "), names.join(", ")));
    for kind in kinds {
        out.push_str(match kind {
            IfnetEventKind::LinkUp => {
                "#  LINK_UP: a port regained carrier or associated; lagghook checks that\n\
                 #  the wanted primary and the lagg's address are in place.\n"
            }
            IfnetEventKind::LinkDown => {
                "#  LINK_DOWN: lagg fails over by itself (lagg_link_active); lagghook\n\
                 #  checks the lagg's shape and logs the transition.\n"
            }
            IfnetEventKind::Attach => {
                "#  ATTACH: the interface (re)appeared, e.g. replug or wlan0 recreated;\n\
                 #  nothing in rc adds it back to the lagg (ifconfig_lagg0 runs once),\n\
                 #  so lagghook re-adds it and re-clones the MAC.\n"
            }
            IfnetEventKind::Detach => {
                "#  DETACH: the port is gone and lagg dropped it (lagg_port_ifdetach);\n\
                 #  lagghook keeps the lagg's address stable without it.\n"
            }
        });
    }
    match chained {
        Some(action) => out.push_str(&format!(
            "#  A stock notify 0 rule would run\n#    {action}\n\
             #  for this event; this statement outranks it, so it runs that first.\n"
        )),
        None => {
            out.push_str("#  No stock rule matches, so nothing is chained.\n");
            if kinds.contains(&IfnetEventKind::Attach) {
                out.push_str(
                    "#  (FreeBSD 14's pccard_ether ATTACH rule skips wlan<N>: the radio's\n\
                     #  `attach 0` startchildren rule has already configured the vap.)\n",
                );
            }
        }
    }
}

/// `(a|b)`, or `a` alone.
fn alternation(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.len() == 1 {
        items.into_iter().collect()
    } else {
        format!("({})", items.join("|"))
    }
}

/// An interface name as an ERE matching exactly it. `IfName` allows letters,
/// digits, `_`, `-` and `.`; only `.` is special outside a bracket.
fn escape_regex(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    for c in name.chars() {
        if "\\.[]()|*+?{}^$".contains(c) {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// `program` as one shell word inside a devd string. devd strings cannot
/// contain `"` or line breaks (`token.l`: `\"[^"]+\"`), and devd itself
/// expands `$`, so `$` is doubled.
fn shell_word(program: &str) -> Result<String, GenError> {
    let bad = |reason| Err(GenError::Program { program: program.to_owned(), reason });
    if !program.starts_with('/') {
        return bad(
            "it must be absolute; devd's actions run with rc's PATH, which lacks /usr/local/sbin",
        );
    }
    if program.contains('"') || program.chars().any(char::is_control) {
        return bad("devd strings cannot contain '\"' or control characters");
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._+-,:@%=".contains(c);
    if program.chars().all(plain) {
        return Ok(program.to_owned());
    }
    let mut s = String::from("'");
    for c in program.chars() {
        match c {
            '\'' => s.push_str("'\\''"),
            '$' => s.push_str("$$"),
            c => s.push(c),
        }
    }
    s.push('\'');
    Ok(s)
}

// ---------------------------------------------------------------------------
// Parsing devd.conf

/// The kind of a devd statement (`parse.y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Attach,
    Detach,
    Nomatch,
    Notify,
}

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
    fn parse(s: &str) -> Media {
        match s.to_ascii_lowercase().as_str() {
            "ethernet" => Media::Ethernet,
            "802.11" => Media::Ieee80211,
            "atm" => Media::Atm,
            _ => Media::Unknown,
        }
    }
}

#[derive(Debug, Clone)]
enum Condition {
    Match { var: String, negate: bool, regex: Regex },
    Media(Media),
}

/// One devd statement.
#[derive(Debug, Clone)]
pub struct Rule {
    kind: StatementKind,
    priority: u32,
    conditions: Vec<Condition>,
    actions: Vec<String>,
    /// Line of the statement keyword, for messages.
    line: usize,
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

    /// Whether every match of the statement succeeds for `event`
    /// (`event_proc::matches`).
    pub fn matches(
        &self,
        event: &DevdEvent,
        media_type: &dyn Fn(&str) -> Option<&'static str>,
    ) -> bool {
        self.conditions.iter().all(|c| match c {
            Condition::Match { var, negate, regex } => {
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
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0, vars: Vec::new() };
    let mut rules = Vec::new();
    while p.pos < p.toks.len() {
        if let Some(rule) = p.statement()? {
            rules.push(rule);
        }
    }
    Ok(rules)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    /// `set` variables from `options`.
    vars: Vec<(String, String)>,
}

impl Parser {
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
                    let anchored = format!("^{}$", self.expand(body));
                    let regex = Regex::new(&anchored).map_err(|e| DevdParseError {
                        line: kw_line,
                        message: format!("bad regex {re:?}: {e}"),
                    })?;
                    rule.conditions.push(Condition::Match { var, negate, regex });
                }
                other => {
                    self.pos -= 1;
                    return self.fail(format!("expected a match, action or '}}', found {other}"));
                }
            }
        }
        self.expect(Tok::Semi)?;
        Ok(Some(rule))
    }

    fn options(&mut self) -> Result<(), DevdParseError> {
        self.expect(Tok::Open)?;
        let mut any = false;
        loop {
            match self.next("an option or '}'")? {
                Tok::Close if any => break,
                Tok::Word(w) if w == "directory" || w == "pid-file" => {
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
                    self.vars.retain(|(n, _)| *n != name);
                    self.vars.push((name, value));
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
            self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
        }) {
            match piece {
                Piece::Raw(c) => out.push(c),
                Piece::Value(v) => out.push_str(&v),
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Action expansion and word splitting

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// A character of the action text, seen by the shell as is.
    Raw(char),
    /// An expanded variable: devd wraps it in `$'…'`, so the shell sees its
    /// characters as quoted.
    Value(String),
}

/// `config::expand_string`: `$$` → `$`; `$(…)` passes through; `$` before a
/// character that cannot start a name stays; `$name` becomes the value.
fn expand_pieces(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<Piece> {
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

// ---------------------------------------------------------------------------
// A small POSIX extended regular expression matcher

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
    use std::path::Path;

    const PROGRAM: &str = "/usr/local/sbin/lagghook";

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/usr/local/etc/lagghook.toml")).unwrap()
    }

    fn default_config() -> Config {
        config("[lagg0]\nports = [\"em0\", \"wlan0\"]\n")
    }

    /// What SIOCGIFMEDIA says on the laptop: vaps are 802.11, lagg and NICs Ethernet.
    fn media(name: &str) -> Option<&'static str> {
        if name.starts_with("wlan") {
            Some("802.11")
        } else if name.starts_with("usbus") {
            None
        } else {
            Some("ethernet")
        }
    }

    fn all_rules(config: &Config) -> Vec<Rule> {
        let mut rules = stock_rules();
        rules.extend(parse(&rules_for(config, PROGRAM)).unwrap());
        rules
    }

    /// The commands devd would run for `IFNET ifname kind`.
    fn run(rules: &[Rule], ifname: &str, kind: &str) -> Vec<String> {
        let ev = DevdEvent::new("IFNET", ifname, kind);
        match select(rules, &ev, &media) {
            None => Vec::new(),
            Some(r) => r.commands(&ev).into_iter().map(|c| c.join(" ")).collect(),
        }
    }

    fn re(p: &str) -> Regex {
        Regex::new(&format!("^{p}$")).unwrap()
    }

    #[test]
    fn stock_rules_parse_and_are_the_four_notify_and_two_attach_statements() {
        let rules = parse(STOCK_DEVD_CONF).unwrap();
        let kinds: Vec<StatementKind> = rules.iter().map(Rule::kind).collect();
        use StatementKind::*;
        assert_eq!(kinds, [Notify, Notify, Attach, Detach, Notify]);
        assert!(rules.iter().all(|r| r.priority() == 0));
        assert_eq!(rules[0].action(), "/etc/pccard_ether $subsystem start");
        assert_eq!(stock_rules().len(), 5);
    }

    #[test]
    fn stock_rules_alone_behave_like_freebsd_14() {
        let stock = stock_rules();
        assert_eq!(run(&stock, "em0", "ATTACH"), ["/etc/pccard_ether em0 start"]);
        assert_eq!(run(&stock, "wlan0", "ATTACH"), Vec::<String>::new());
        assert_eq!(run(&stock, "usbus0", "ATTACH"), Vec::<String>::new());
        // Case-insensitive, as REG_ICASE.
        assert_eq!(run(&stock, "WLAN0", "attach"), Vec::<String>::new());
        assert_eq!(run(&stock, "em0", "LINK_UP"), ["service dhclient quietstart em0"]);
        assert_eq!(run(&stock, "wlan0", "LINK_UP"), ["service dhclient quietstart wlan0"]);
        // No media status: neither dhclient rule applies.
        assert_eq!(run(&stock, "usbus0", "LINK_UP"), Vec::<String>::new());
        assert_eq!(run(&stock, "em0", "LINK_DOWN"), Vec::<String>::new());
        // The wifi-driver-regex variable from options is expanded into the
        // attach statement's regex at parse time.
        let attach = &stock[2];
        let dev = DevdEvent {
            data: vec![("device-name".into(), "iwn0".into())],
            ..DevdEvent::new("", "", "")
        };
        assert!(attach.matches(&dev, &media));
        assert_eq!(attach.commands(&dev), [["/etc/pccard_ether", "iwn0", "startchildren"]]);
    }

    /// The brief's acceptance test for the default config: lagghook runs for
    /// every managed event, the stock actions still run, and nothing else is
    /// taken from the stock rules.
    #[test]
    fn default_config_dispatch() {
        let rules = all_rules(&default_config());
        let hook = |i: &str, t: &str| format!("{PROGRAM} event IFNET {i} {t}");
        // (1) lagghook for em0/wlan0 on all four types, (2) chained stock actions.
        assert_eq!(
            run(&rules, "em0", "ATTACH"),
            ["/etc/pccard_ether em0 start".into(), hook("em0", "ATTACH")]
        );
        assert_eq!(run(&rules, "wlan0", "ATTACH"), [hook("wlan0", "ATTACH")]);
        for port in ["em0", "wlan0"] {
            assert_eq!(
                run(&rules, port, "LINK_UP"),
                [format!("service dhclient quietstart {port}"), hook(port, "LINK_UP")]
            );
            assert_eq!(run(&rules, port, "LINK_DOWN"), [hook(port, "LINK_DOWN")]);
            assert_eq!(run(&rules, port, "DETACH"), [hook(port, "DETACH")]);
        }
        // (3) the lagg and unmanaged NICs keep exactly the stock behaviour.
        assert_eq!(run(&rules, "lagg0", "LINK_UP"), ["service dhclient quietstart lagg0"]);
        assert_eq!(run(&rules, "lagg0", "ATTACH"), ["/etc/pccard_ether lagg0 start"]);
        assert_eq!(run(&rules, "lagg0", "LINK_DOWN"), Vec::<String>::new());
        assert_eq!(run(&rules, "re0", "ATTACH"), ["/etc/pccard_ether re0 start"]);
        assert_eq!(run(&rules, "re0", "LINK_UP"), ["service dhclient quietstart re0"]);
        assert_eq!(run(&rules, "wlan1", "ATTACH"), Vec::<String>::new());
        // Names that merely contain a port's name are not ports.
        assert_eq!(run(&rules, "em01", "LINK_DOWN"), Vec::<String>::new());
        assert_eq!(run(&rules, "xem0", "DETACH"), Vec::<String>::new());
        // Other IFNET types and other systems are left alone.
        assert_eq!(run(&rules, "em0", "ADDR_ADD"), Vec::<String>::new());
        let eth = DevdEvent::new("ETHERNET", "em0", "IFATTACH");
        assert!(select(&rules, &eth, &media).is_none());
    }

    #[test]
    fn every_generated_command_reparses_as_the_event() {
        let rules = all_rules(&default_config());
        for port in ["em0", "wlan0"] {
            for kind in IfnetEventKind::ALL {
                let ev = DevdEvent::new("IFNET", port, kind.as_str());
                let cmds = select(&rules, &ev, &media).unwrap().commands(&ev);
                let ours = cmds.last().unwrap();
                assert_eq!(ours[..2], [PROGRAM, "event"]);
                assert_eq!(DevdEvent::from_args(&ours[2..]).unwrap(), ev);
            }
        }
    }

    #[test]
    fn default_config_text_is_stable() {
        let text = rules_for(&default_config(), PROGRAM);
        assert_eq!(text, rules_for(&default_config(), PROGRAM));
        let statements: Vec<&str> =
            text.lines().filter(|l| l.starts_with("notify") || l.starts_with("\taction")).collect();
        assert_eq!(
            statements,
            [
                "notify 100 {",
                "\taction \"service dhclient quietstart $subsystem; /usr/local/sbin/lagghook event $system $subsystem $type\";",
                "notify 100 {",
                "\taction \"/usr/local/sbin/lagghook event $system $subsystem $type\";",
                "notify 100 {",
                "\taction \"/etc/pccard_ether $subsystem start; /usr/local/sbin/lagghook event $system $subsystem $type\";",
                "notify 100 {",
                "\taction \"/usr/local/sbin/lagghook event $system $subsystem $type\";",
            ]
        );
        assert!(text.contains("match \"subsystem\"\t\"(em0|wlan0)\";"));
        assert!(text.contains("match \"type\"\t\t\"(LINK_DOWN|DETACH)\";"));
        assert!(text.contains("/usr/local/etc/lagghook.toml"));
        // Every statement has a why-comment right above it.
        let lines: Vec<&str> = text.lines().collect();
        for (i, _) in lines.iter().enumerate().filter(|(_, l)| l.starts_with("notify")) {
            assert!(lines[i - 1].starts_with('#'), "no comment above line {i}");
        }
    }

    #[test]
    fn wlan_table_and_dotted_names_and_two_laggs() {
        let cfg = config(
            "[lagg0]\nports = [\"ue0\", \"wifi0\"]\nwlan.wifi0.parent = \"rtwn0\"\n\
             [lagg1]\nports = [\"em0.5\", \"wlan1\"]\n",
        );
        let text = rules_for(&cfg, PROGRAM);
        assert!(text.contains("em0\\.5"), "dot is escaped:\n{text}");
        let rules = all_rules(&cfg);
        let hook = |i: &str, t: &str| format!("{PROGRAM} event IFNET {i} {t}");
        // wifi0 is not wlan<N>, so stock FreeBSD 14 runs pccard_ether for its
        // ATTACH; that is chained, even though the config calls it a wlan.
        assert_eq!(
            run(&rules, "wifi0", "ATTACH"),
            ["/etc/pccard_ether wifi0 start".into(), hook("wifi0", "ATTACH")]
        );
        assert_eq!(run(&rules, "wlan1", "ATTACH"), [hook("wlan1", "ATTACH")]);
        assert_eq!(run(&rules, "em0.5", "DETACH"), [hook("em0.5", "DETACH")]);
        assert_eq!(run(&rules, "em0x5", "DETACH"), Vec::<String>::new());
        assert_eq!(run(&rules, "lagg1", "LINK_UP"), ["service dhclient quietstart lagg1"]);
    }

    #[test]
    fn empty_config_generates_no_statements() {
        let text = rules_for(&config(""), PROGRAM);
        assert!(parse(&text).unwrap().is_empty());
        assert!(text.contains("No laggs are configured"));
    }

    #[test]
    fn program_path_is_quoted_or_refused() {
        let cfg = default_config();
        let rules = {
            let mut r = stock_rules();
            r.extend(parse(&rules_for(&cfg, "/opt/my tools/lag$hook")).unwrap());
            r
        };
        let ev = DevdEvent::new("IFNET", "wlan0", "DETACH");
        assert_eq!(
            select(&rules, &ev, &media).unwrap().commands(&ev),
            [["/opt/my tools/lag$hook", "event", "IFNET", "wlan0", "DETACH"]]
        );
        assert!(matches!(try_rules_for(&cfg, "lagghook"), Err(GenError::Program { .. })));
        assert!(matches!(try_rules_for(&cfg, "/a\"b"), Err(GenError::Program { .. })));
        let refused = rules_for(&cfg, "/a\nb");
        assert!(refused.starts_with("# lagghook: program path"), "{refused}");
        assert!(parse(&refused).unwrap().is_empty());
    }

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

    #[test]
    fn parser_accepts_devd_comment_and_continuation_forms() {
        let rules = parse(
            "/* block\ncomment */ // line comment\n# hash\n\
             options { directory \"/etc/devd\"; pid-file \"/var/run/devd.pid\"; };\n\
             nomatch 0 { };\nnotify 10 {\n\tmatch \"system\" \"AC\\\n\t\tPI\";\n};\n",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].line(), 6);
        let ev = DevdEvent::new("ACPI", "x", "y");
        assert!(rules[1].matches(&ev, &media));
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
            ("notify 0 {\n\n match \"a\" \"(x\";\n};", "line 3: bad regex \"(x\": unmatched '('"),
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

    #[test]
    fn escape_regex_matches_exactly_the_name() {
        for name in ["em0", "em0.5", "my_if-1", "a.b.c"] {
            let r = re(&escape_regex(name));
            assert!(r.is_match(name));
            assert!(!r.is_match(&name.replace('.', "x")) || !name.contains('.'));
        }
    }
}
