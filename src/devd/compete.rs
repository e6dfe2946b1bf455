//! Other devd statements that compete with lagghook's for the events its
//! rules handle: the analysis `check` reports as traps.
//!
//! devd runs one notify statement per event: of those that match, the one
//! of the highest priority, and of equal priorities the one it read first
//! (`config::find_and_execute` over the list `config::sort_vector` sorted
//! with a stable sort; `sbin/devd/devd.cc`, `fel1x-developer/freebsd-src`
//! 2d614aa2). It reads `/etc/devd.conf` first, then, in the order of its
//! `directory` options, every file whose name ends in `.conf` in each
//! directory, in readdir(3) order (`config::parse`,
//! `config::parse_files_in_dir`). So for an event lagghook's rules handle,
//! another statement that matches it
//! - at a higher priority runs instead of lagghook;
//! - at the same priority runs instead of lagghook when devd read it first
//!   (`/etc/devd.conf`, or a directory listed before lagghook's), is run
//!   over when read after, and otherwise (the same directory) is decided
//!   by readdir(3) order, which no one chooses;
//! - at a lower priority no longer runs, since lagghook's outranks it,
//!   unless its action is the one lagghook's statement chains (FreeBSD's
//!   own, as `generate` chains it).
//!
//! What this module owns: that reasoning over parsed files. What it does
//! not own: reading the files (the caller hands their text over, in devd's
//! order), parsing (`conf`), or matching (`dispatch`).

use crate::domain::config::Config;
use crate::domain::event::{DevdEvent, IfnetEventKind};

use super::conf::{parse_file, parse_file_and_directories, DevdParseError, Rule, SetVariables};
use super::dispatch::select;
use super::generate::{ADMIN_PROGRAM, PROGRAM};
use super::StatementKind;

/// Where devd finds a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The file devd is started with, `/etc/devd.conf`.
    Main,
    /// In the `n`th directory its `directory` options name.
    Dir(usize),
}

/// One devd configuration file, its text as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevdFile {
    pub path: String,
    pub place: Place,
    pub text: String,
}

/// How a competing statement and lagghook's stand for the events it
/// matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Higher priority: it runs, lagghook does not.
    Outranks,
    /// Same priority, read before lagghook's file: it runs, lagghook does
    /// not.
    TieReadFirst,
    /// Same priority, read after lagghook's file: lagghook runs, it does
    /// not.
    TieReadAfter,
    /// Same priority, in lagghook's directory: readdir(3) order decides
    /// which runs, and no one chooses it.
    TieReaddir,
    /// Lower priority, and the statement devd would run without
    /// lagghook's: its action no longer runs (lagghook's statement does
    /// not chain it).
    Shadowed,
}

/// A statement of another file that competes with lagghook's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Competitor {
    pub path: String,
    /// The line of the statement's keyword.
    pub line: usize,
    pub priority: u32,
    /// lagghook's priority for those events.
    pub ours: u32,
    pub relation: Relation,
    /// The events it takes or loses, as `em0 LINK_UP` (`RENAME to wlan0`
    /// for a rename to wlan0), in the order lagghook's rules list them.
    pub events: Vec<String>,
    /// Its action runs lagghook too: a second copy of lagghook's rules.
    pub runs_lagghook: bool,
}

/// What the files say, for lagghook's rules in `ours_dir`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    pub competitors: Vec<Competitor>,
    /// Files the parser refuses, with why: devd itself exits on a file it
    /// cannot parse (`config::parse_one_file`: `errx`), unless it is more
    /// tolerant than this parser there.
    pub unparsable: Vec<(String, DevdParseError)>,
}

/// The `directory` options of `/etc/devd.conf`'s text, in order.
pub fn directories(main: &str) -> Result<Vec<String>, DevdParseError> {
    parse_file_and_directories(main, &mut SetVariables::default()).map(|(_, dirs)| dirs)
}

/// Every event lagghook's rules for `config` handle: each port's LINK_UP,
/// LINK_DOWN, ATTACH and DETACH, and a rename to it.
pub fn managed_events(config: &Config) -> Vec<DevdEvent> {
    let mut events = Vec::new();
    for (_, port) in config.ports() {
        for kind in IfnetEventKind::ALL {
            events.push(DevdEvent::ifnet(port, kind));
        }
        // Its subsystem is the name rc created the vap with.
        let mut rename = DevdEvent::new("IFNET", "wlan0", IfnetEventKind::Rename.as_str());
        rename.data.push(("name".to_owned(), port.as_str().to_owned()));
        events.push(rename);
    }
    events
}

/// The statements of `files` (in devd's reading order) that compete with
/// `ours`, lagghook's statements, read from directory `ours_dir`, for
/// `events`. Each event is tried with every media type a `media-type`
/// condition can test, and with SIOCGIFMEDIA failing.
pub fn analyse(
    files: &[DevdFile],
    ours: &[Rule],
    ours_dir: usize,
    events: &[DevdEvent],
) -> Analysis {
    let mut analysis = Analysis::default();
    // devd keeps one table of `set` variables for all its files.
    let mut vars = SetVariables::default();
    let mut others: Vec<(&DevdFile, Vec<Rule>)> = Vec::new();
    for file in files {
        match parse_file(&file.text, &mut vars) {
            Ok(rules) => others.push((file, rules)),
            Err(e) => analysis.unparsable.push((file.path.clone(), e)),
        }
    }
    let medias: [Option<&'static str>; 4] = [Some("ethernet"), Some("802.11"), Some("ATM"), None];
    for event in events {
        for media in medias {
            let media_type = |_: &str| media;
            let Some(mine) = select(ours, event, &media_type) else { continue };
            let without: Vec<(&DevdFile, &Rule)> = others
                .iter()
                .flat_map(|(f, rules)| rules.iter().map(move |r| (*f, r)))
                .filter(|(_, r)| r.kind() == StatementKind::Notify)
                .collect();
            // The statement devd would run without lagghook's: the first
            // of the highest priority among the others.
            let mut best: Option<(&DevdFile, &Rule)> = None;
            for (file, rule) in &without {
                if !rule.matches(event, &media_type) {
                    continue;
                }
                if best.is_none_or(|(_, b)| rule.priority() > b.priority()) {
                    best = Some((file, rule));
                }
                let relation = if rule.priority() > mine.priority() {
                    Relation::Outranks
                } else if rule.priority() == mine.priority() {
                    match file.place {
                        Place::Main => Relation::TieReadFirst,
                        Place::Dir(d) if d < ours_dir => Relation::TieReadFirst,
                        Place::Dir(d) if d == ours_dir => Relation::TieReaddir,
                        Place::Dir(_) => Relation::TieReadAfter,
                    }
                } else {
                    continue;
                };
                note(&mut analysis, file, rule, mine, relation, event);
            }
            if let Some((file, rule)) = best.filter(|(_, b)| b.priority() < mine.priority()) {
                let chained = mine.action().starts_with(&format!("{}; ", rule.action()));
                if !chained {
                    note(&mut analysis, file, rule, mine, Relation::Shadowed, event);
                }
            }
        }
    }
    analysis
}

/// Records that `rule` of `file` stands in `relation` to `mine` for
/// `event`, once per statement and event.
fn note(
    analysis: &mut Analysis,
    file: &DevdFile,
    rule: &Rule,
    mine: &Rule,
    relation: Relation,
    event: &DevdEvent,
) {
    let name = match event.ifnet_event() {
        Some(e) if e.kind == IfnetEventKind::Rename => format!("RENAME to {}", e.ifname),
        Some(e) => format!("{} {}", e.ifname, e.kind.as_str()),
        None => format!("{} {}", event.subsystem, event.kind),
    };
    let found =
        analysis.competitors.iter_mut().find(|c| c.path == file.path && c.line == rule.line());
    let c = match found {
        Some(c) => c,
        None => {
            let runs_lagghook =
                rule.actions().iter().any(|a| a.contains(PROGRAM) || a.contains(ADMIN_PROGRAM));
            analysis.competitors.push(Competitor {
                path: file.path.clone(),
                line: rule.line(),
                priority: rule.priority(),
                ours: mine.priority(),
                relation,
                events: Vec::new(),
                runs_lagghook,
            });
            let last = analysis.competitors.len() - 1;
            &mut analysis.competitors[last]
        }
    };
    if !c.events.contains(&name) {
        c.events.push(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devd::test_support::default_config;
    use crate::devd::{parse, rules_for, DEVD_CONF, DHCLIENT_CONF};

    fn file(path: &str, place: Place, text: &str) -> DevdFile {
        DevdFile { path: path.into(), place, text: text.into() }
    }

    /// /etc/devd.conf (stock), /etc/devd (dir 0), /usr/local/etc/devd
    /// (dir 1, lagghook's) holding `local`.
    fn run(etc_devd: &[(&str, &str)], local: &[(&str, &str)]) -> Analysis {
        let config = default_config();
        let ours = parse(&rules_for(&config, PROGRAM)).unwrap();
        let mut files = vec![file("/etc/devd.conf", Place::Main, DEVD_CONF)];
        for (name, text) in etc_devd {
            files.push(file(&format!("/etc/devd/{name}"), Place::Dir(0), text));
        }
        for (name, text) in local {
            files.push(file(&format!("/usr/local/etc/devd/{name}"), Place::Dir(1), text));
        }
        analyse(&files, &ours, 1, &managed_events(&config))
    }

    const EM0_LINK_UP_200: &str =
        "notify 200 {\n\tmatch \"system\" \"IFNET\";\n\tmatch \"subsystem\" \"em0\";\n\tmatch \"type\" \"LINK_UP\";\n\taction \"logger up\";\n};\n";

    /// FreeBSD's own files compete with nothing: every stock action is
    /// chained, in both layouts (FreeBSD 15's dhclient.conf included).
    #[test]
    fn stock_files_are_no_competitors() {
        assert_eq!(run(&[], &[]), Analysis::default());
        assert_eq!(run(&[("dhclient.conf", DHCLIENT_CONF)], &[]), Analysis::default());
        assert_eq!(directories(DEVD_CONF).unwrap(), ["/etc/devd", "/usr/local/etc/devd"]);
    }

    #[test]
    fn a_higher_priority_rule_outranks_lagghook_wherever_it_is() {
        for a in
            [run(&[("x.conf", EM0_LINK_UP_200)], &[]), run(&[], &[("x.conf", EM0_LINK_UP_200)])]
        {
            assert_eq!(a.competitors.len(), 1, "{a:?}");
            let c = &a.competitors[0];
            assert_eq!((c.relation, c.priority, c.ours, c.line), (Relation::Outranks, 200, 150, 1));
            assert_eq!(c.events, ["em0 LINK_UP"]);
            assert!(!c.runs_lagghook);
        }
    }

    /// A tie is decided by reading order: /etc/devd before lagghook's
    /// directory (the other file wins), lagghook's own directory
    /// (readdir order: undefined).
    #[test]
    fn ties_say_which_file_wins_or_that_readdir_decides() {
        let tie = EM0_LINK_UP_200.replace("200", "150");
        let earlier = run(&[("x.conf", &tie)], &[]);
        assert_eq!(earlier.competitors[0].relation, Relation::TieReadFirst);
        assert_eq!(earlier.competitors[0].path, "/etc/devd/x.conf");
        let same = run(&[], &[("x.conf", &tie)]);
        assert_eq!(same.competitors[0].relation, Relation::TieReaddir);
        let mut files = vec![file("/etc/devd.conf", Place::Main, DEVD_CONF)];
        files.push(file("/opt/devd/x.conf", Place::Dir(2), &tie));
        let config = default_config();
        let ours = parse(&rules_for(&config, PROGRAM)).unwrap();
        let later = analyse(&files, &ours, 1, &managed_events(&config));
        assert_eq!(later.competitors[0].relation, Relation::TieReadAfter);
    }

    /// A lower-priority rule of another file that devd would otherwise run
    /// loses its action to lagghook's; one that matches only under a media
    /// type, or whose action lagghook chains, does not count.
    #[test]
    fn a_lower_priority_rule_lagghook_shadows_is_reported_unless_chained() {
        let low = "notify 50 {\n\tmatch \"system\" \"IFNET\";\n\tmatch \"subsystem\" \"(em0|wlan0)\";\n\tmatch \"type\" \"ATTACH\";\n\taction \"logger attach\";\n};\n";
        let a = run(&[], &[("low.conf", low)]);
        assert_eq!(a.competitors.len(), 1, "{a:?}");
        assert_eq!(a.competitors[0].relation, Relation::Shadowed);
        assert_eq!(a.competitors[0].events, ["em0 ATTACH", "wlan0 ATTACH"]);
        // A second copy of lagghook's own rules ties, and says it runs lagghook.
        let copy = rules_for(&default_config(), PROGRAM);
        let a = run(&[], &[("old-lagghook.conf", &copy)]);
        assert!(
            a.competitors.iter().all(|c| c.runs_lagghook && c.relation == Relation::TieReaddir),
            "{a:?}"
        );
        assert!(
            a.competitors.iter().any(|c| c.events.contains(&"RENAME to wlan0".to_owned())),
            "{a:?}"
        );
    }

    /// Rules for other events or interfaces, or other kinds of statement,
    /// are no competitors; an unparsable file is named, the others are
    /// still analysed, and `set` variables carry from file to file.
    #[test]
    fn unrelated_rules_pass_and_unparsable_files_are_named() {
        let unrelated = "notify 300 { match \"system\" \"IFNET\"; match \"subsystem\" \"re0\"; action \"x\"; };\n\
                         notify 300 { match \"system\" \"ACPI\"; action \"y\"; };\n\
                         attach 300 { device-name \"em0\"; action \"z\"; };\n";
        assert_eq!(run(&[("u.conf", unrelated)], &[]), Analysis::default());
        let a = run(&[("bad.conf", "notify 0 {"), ("x.conf", EM0_LINK_UP_200)], &[]);
        assert_eq!(a.unparsable.len(), 1);
        assert_eq!(a.unparsable[0].0, "/etc/devd/bad.conf");
        assert_eq!(a.competitors.len(), 1);
        let vars = "options { set lagg-ports \"(em0|wlan0)\"; };\n";
        let uses = "notify 900 { match \"subsystem\" \"$lagg-ports\"; action \"x\"; };\n";
        let a = run(&[("a.conf", vars), ("b.conf", uses)], &[]);
        assert_eq!(a.competitors.len(), 1, "{a:?}");
        assert_eq!(a.competitors[0].events.len(), 10, "{a:?}");
    }
}
