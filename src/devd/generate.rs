//! lagghook's own devd statements: the devd.conf text `lagghook devd-conf`
//! prints for a configuration.
//!
//! What this module owns: which events of which ports reach lagghook, the
//! chaining of the stock action devd would otherwise have run (devd runs
//! only the highest-priority matching statement, so a statement that
//! outranks a stock one must run its action too), the why-comments, and
//! quoting the program path. What it does not own: devd's semantics
//! (`dispatch`, `regex`) or FreeBSD's rules (`stock`).

use std::fmt;

use crate::domain::config::Config;
use crate::domain::event::{DevdEvent, IfnetEventKind};
use crate::domain::model::IfName;
use crate::domain::text;

use super::conf::Rule;
use super::dispatch::{select, Media};
use super::stock::{stock_rules, StockError};

/// What devd rules run (the FreeBSD ports prefix): lagghook-devd, the
/// `event` command alone, so devd waits for less code than all of
/// lagghook's (`src/bin/lagghook-devd.rs`).
pub const PROGRAM: &str = "/usr/local/libexec/lagghook-devd";

/// lagghook itself, the administrator's and rc.d's program; rules written
/// before lagghook-devd existed run it.
pub const ADMIN_PROGRAM: &str = "/usr/local/sbin/lagghook";

/// Priority of lagghook's statements. Anything above 0 outranks the stock
/// interface rules (all `notify 0`). Two statements of equal priority that
/// match the same event are taken in the order devd read them, which for
/// two files in one directory is readdir(3)'s (`config::parse`,
/// `parse_files_in_dir` in `sbin/devd/devd.cc`): undefined. So the number
/// is one no shipped or common rule uses. Surveyed in `freebsd/freebsd-src`
/// `sbin/devd/`: `devd.conf` (023fc80e) uses 0 for IFNET, 10 for ACPI and
/// 100 for its override examples and DEVFS; `hyperv.conf` 10 and 11,
/// `zfs.conf` and `apple.conf` 0 and 10, `snd.conf` 0, `nvmf.conf`,
/// `uath.conf` and `devmatch.conf` 100, `growfs_postboot.conf` 200,
/// `dhclient.conf` (FreeBSD 15) 0. Outside the base system: the Handbook's
/// CARP example uses `notify 30` on IFNET, and the third-party rules found
/// for IFNET events use 0 and 100 (an `IFNET mt7921u… ATTACH` rule). 150
/// ties with none of them, and outranks the usual override value 100.
/// `lagghook check` lists any rule that ties with these or outranks them.
pub const PRIORITY: u32 = 150;

/// Why rules cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenError {
    /// The program path cannot be written into a devd action.
    Program { program: String, reason: &'static str },
    /// FreeBSD's stock rules, whose actions are chained, did not load.
    Stock(StockError),
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Program { program, reason } => {
                write!(f, "program path {program:?} cannot be used in devd.conf: {reason}")
            }
            GenError::Stock(e) => write!(f, "cannot chain FreeBSD's actions: {e}"),
        }
    }
}

impl std::error::Error for GenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GenError::Program { .. } => None,
            GenError::Stock(e) => Some(e),
        }
    }
}

/// The devd.conf text `lagghook devd-conf` prints. If the rules cannot be
/// generated (see [`try_rules_for`]) the text is a single comment saying
/// why: still a file devd accepts, and one that runs nothing.
pub fn rules_for(config: &Config, program: &str) -> String {
    try_rules_for(config, program).unwrap_or_else(|e| format!("# lagghook: {e}\n"))
}

/// [`rules_for`], with a bad `program` (or stock text that does not load)
/// reported instead of written out.
///
/// For each event type, each port gets the stock actions that FreeBSD 14
/// would have run for it (found by running [`select`] over
/// [`stock_rules`]): one for each media type a stock rule's `media-type`
/// condition tests, copied with that condition, and the one that runs
/// whatever the media. Ports with the same chained action and condition
/// share a statement, and statements with the same ports, condition and
/// action are merged over event types. The output depends only on the
/// config and `program`.
pub fn try_rules_for(config: &Config, program: &str) -> Result<String, GenError> {
    let prog = shell_word(program)?;
    let stock = stock_rules().map_err(GenError::Stock)?;
    let mut out = String::new();
    header(config, &mut out);

    let mut groups: Vec<Group<'_>> = Vec::new();
    for kind in IfnetEventKind::ALL {
        let mut per_kind: Vec<(Vec<&IfName>, Option<Media>, Option<String>)> = Vec::new();
        for (_, port) in config.ports() {
            for (media, chained) in outcomes(&stock, port, kind) {
                match per_kind.iter_mut().find(|(_, m, a)| *m == media && *a == chained) {
                    Some((ports, _, _)) => ports.push(port),
                    None => per_kind.push((vec![port], media, chained)),
                }
            }
        }
        for (ports, media, chained) in per_kind {
            let same =
                |g: &&mut Group<'_>| g.ports == ports && g.media == media && g.chained == chained;
            match groups.iter_mut().find(same) {
                Some(g) => g.kinds.push(kind),
                None => groups.push(Group { ports, media, chained, kinds: vec![kind] }),
            }
        }
    }
    // devd runs the first matching statement of the highest priority, in
    // the order it read them (`config::sort_vector` is a stable sort), and
    // all of these have the same priority: a statement with a media-type
    // must come before the one that matches the same event whatever the
    // media, or it would never be reached.
    groups.sort_by_key(|g| g.media.is_none());
    let conditioned: Vec<IfnetEventKind> =
        groups.iter().filter(|g| g.media.is_some()).flat_map(|g| g.kinds.clone()).collect();

    for g in &groups {
        out.push('\n');
        why(g, &conditioned, &mut out);
        let subsystem = alternation(g.ports.iter().map(|p| escape_regex(p.as_str())));
        let types = alternation(g.kinds.iter().map(|k| k.as_str().to_owned()));
        let ours = format!("{prog} event $system $subsystem $type");
        let action = match &g.chained {
            Some(stock) => format!("{stock}; {ours}"),
            None => ours,
        };
        let media =
            g.media.map_or(String::new(), |m| format!("\tmedia-type\t\t\"{}\";\n", m.as_str()));
        out.push_str(&format!(
            "notify {PRIORITY} {{\n\tmatch \"system\"\t\t\"IFNET\";\n\
             \tmatch \"subsystem\"\t\"{subsystem}\";\n\tmatch \"type\"\t\t\"{types}\";\n\
             {media}\taction \"{action}\";\n}};\n"
        ));
    }

    // RENAME, matched on the new name: one statement for every port. Its
    // subsystem is the cloner's name (wlanN), which is no port, so the
    // statement cannot be keyed on it like the others.
    let ports: Vec<&IfName> = config.ports().map(|(_, p)| p).collect();
    if !ports.is_empty() {
        let rename = IfnetEventKind::Rename;
        let chained = ports.iter().find_map(|p| {
            let mut event = DevdEvent::new("IFNET", "wlan0", rename.as_str());
            event.data.push(("name".to_owned(), p.as_str().to_owned()));
            select(&stock, &event, &|_| None).map(|r| r.action().to_owned())
        });
        out.push('\n');
        let group = Group { ports: ports.clone(), media: None, chained, kinds: vec![rename] };
        why(&group, &[], &mut out);
        let names = alternation(ports.iter().map(|p| escape_regex(p.as_str())));
        let ours = format!("{prog} event $system $name $type");
        let action = match &group.chained {
            Some(stock) => format!("{stock}; {ours}"),
            None => ours,
        };
        out.push_str(&format!(
            "notify {PRIORITY} {{\n\tmatch \"system\"\t\t\"IFNET\";\n\
             \tmatch \"type\"\t\t\"RENAME\";\n\tmatch \"name\"\t\t\"{names}\";\n\
             \taction \"{action}\";\n}};\n"
        ));
    }
    Ok(out)
}

/// One generated statement: the ports and event types it matches, the
/// `media-type` condition it copies from the stock statement it chains,
/// and that statement's action.
struct Group<'a> {
    ports: Vec<&'a IfName>,
    media: Option<Media>,
    chained: Option<String>,
    kinds: Vec<IfnetEventKind>,
}

/// What the stock statements run for `port`'s event of `kind`: for each
/// media type a stock statement's `media-type` condition tests, that
/// statement's action, under the same condition (devd asks SIOCGIFMEDIA
/// when the event comes, `media::do_match`, and so will a statement
/// chaining it); then what runs when no such condition holds, SIOCGIFMEDIA
/// failing included.
fn outcomes(
    stock: &[Rule],
    port: &IfName,
    kind: IfnetEventKind,
) -> Vec<(Option<Media>, Option<String>)> {
    let event = DevdEvent::ifnet(port, kind);
    let mut out: Vec<(Option<Media>, Option<String>)> = Vec::new();
    for media in [Media::Ethernet, Media::Ieee80211, Media::Atm] {
        if let Some(r) = select(stock, &event, &|_| Some(media.as_str())) {
            if r.media() == Some(media) {
                out.push((Some(media), Some(r.action().to_owned())));
            }
        }
    }
    match select(stock, &event, &|_| None) {
        // A stock statement for `media-type "unknown"`: none in FreeBSD's
        // files, but kept conditional like the others if one appears.
        Some(r) if r.media().is_some() => {
            out.push((r.media(), Some(r.action().to_owned())));
            out.push((None, None));
        }
        r => out.push((None, r.map(|r| r.action().to_owned()))),
    }
    out
}

fn header(config: &Config, out: &mut String) {
    // The path is escaped: a newline in `-c PATH` must not end the comment
    // and start a statement of its own.
    out.push_str(&format!(
        "# devd(8) rules for lagghook, generated by `lagghook devd-conf` for\n\
         # {}.\n",
        text::path(&config.path)
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
         # No stock or common package rule uses {PRIORITY}: at equal priority the\n\
         # order between two files of one directory is readdir(3)'s, undefined.\n\
         # `lagghook check` lists every rule that ties with these or outranks them.\n\
         #\n\
         # Interfaces not in the config are not matched, and neither are the\n\
         # laggs themselves: a lagg's LINK_UP must reach the stock rule that\n\
         # runs `service dhclient quietstart lagg0` (ifconfig_lagg0=\"... DHCP\"),\n\
         # and lagghook learns about a lagg from its ports' events.\n\
         # A stock rule with a media-type condition (dhclient on LINK_UP) is\n\
         # chained by a statement with the same condition; a statement without\n\
         # it, after it, runs lagghook alone for the same event whatever the\n\
         # media: of equal priorities devd takes the first match in file order.\n\
         # Regexes are implicitly ^...$ and case-insensitive; alternatives are in\n\
         # parentheses because devd only prepends ^ and appends $.\n\
         # devd passes $system $subsystem $type shell-quoted, one word each.\n",
    ));
    if config.laggs.is_empty() {
        out.push_str("#\n# No laggs are configured, so there are no rules.\n");
    }
}

/// The why-comment over one generated statement. `conditioned`: the event
/// types that also have statements with a media-type condition, above.
fn why(g: &Group<'_>, conditioned: &[IfnetEventKind], out: &mut String) {
    let names: Vec<&str> = g.ports.iter().map(|p| p.as_str()).collect();
    let kind_names: Vec<&str> = g.kinds.iter().map(|k| k.as_str()).collect();
    let (kinds, ports) = (kind_names.join(", "), names.join(", "));
    if let (Some(media), Some(action)) = (g.media, &g.chained) {
        // The event types are explained at the statement without a
        // media-type, below, which every such event reaches otherwise.
        let m = media.as_str();
        out.push_str(&format!(
            "# {kinds} of {ports}, when SIOCGIFMEDIA says {m}:\n\
             #  A stock notify 0 rule with `media-type \"{m}\"` would run\n#    {action}\n\
             #  for this event; this statement outranks it, so it runs that first,\n\
             #  under the same condition (see the statement below for lagghook's part).\n"
        ));
        return;
    }
    out.push_str(&format!("# {kinds} of {ports}:\n"));
    for kind in &g.kinds {
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
            IfnetEventKind::Rename => {
                "#  RENAME: rc creates a vap wlans_PARENT names NEW with\n\
                 #  `ifconfig wlan create wlandev PARENT ... name NEW`, and\n\
                 #  ifconfig_wlan0_name renames wlan0 later: the kernel attaches\n\
                 #  it as wlanN (an ATTACH no rule here matches), then renames it\n\
                 #  (SIOCSIFNAME). Only this event names the port as it\n\
                 #  appears; without it the repair would wait for the vap to\n\
                 #  associate (LINK_UP). It is matched on the new name ($name).\n"
            }
        });
    }
    let above: Vec<&str> =
        g.kinds.iter().filter(|k| conditioned.contains(k)).map(|k| k.as_str()).collect();
    match &g.chained {
        Some(action) => out.push_str(&format!(
            "#  A stock notify 0 rule would run\n#    {action}\n\
             #  for this event; this statement outranks it, so it runs that first.\n"
        )),
        None if above.is_empty() => {
            out.push_str("#  No stock rule matches, so nothing is chained.\n")
        }
        None => out.push_str(&format!(
            "#  No stock rule matches, so nothing is chained; a {} whose media type\n\
             #  a stock rule tests is taken by a statement above, which devd tries\n\
             #  first (same priority, earlier in the file).\n",
            above.join(" or ")
        )),
    }
    if g.chained.is_none() && g.kinds.contains(&IfnetEventKind::Attach) {
        out.push_str(
            "#  (FreeBSD 14's pccard_ether ATTACH rule skips wlan<N>: the radio's\n\
             #  `attach 0` startchildren rule has already configured the vap.)\n",
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devd::parse;
    use crate::devd::test_support::{all_rules, config, default_config, media, run};
    use crate::domain::event::DevdEvent;

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

    /// Issue 10, point 11: the chained stock dhclient keeps the stock
    /// rule's media-type condition. When SIOCGIFMEDIA says neither
    /// ethernet nor 802.11 (or fails), the stock rules run nothing for a
    /// LINK_UP, and neither does lagghook's statement besides lagghook;
    /// a vap reporting Ethernet media gets the Ethernet rule's action.
    #[test]
    fn issue10_chained_dhclient_keeps_the_media_type_condition() {
        let rules = all_rules(&default_config());
        let hook = |i: &str| format!("{PROGRAM} event IFNET {i} LINK_UP");
        let stock = stock_rules().unwrap();
        for port in ["em0", "wlan0"] {
            let ev = DevdEvent::new("IFNET", port, "LINK_UP");
            for media_type in ["ethernet", "802.11", "ATM"] {
                let media = |_: &str| Some(media_type);
                let stock_runs: Vec<String> = select(&stock, &ev, &media)
                    .map(|r| r.commands(&ev).into_iter().map(|c| c.join(" ")).collect())
                    .unwrap_or_default();
                let ours: Vec<String> = select(&rules, &ev, &media)
                    .unwrap()
                    .commands(&ev)
                    .into_iter()
                    .map(|c| c.join(" "))
                    .collect();
                let mut want = stock_runs.clone();
                want.push(hook(port));
                assert_eq!(ours, want, "{port} with media {media_type}");
            }
            let none = |_: &str| None;
            assert!(select(&stock, &ev, &none).is_none());
            let ours = select(&rules, &ev, &none).unwrap().commands(&ev);
            assert_eq!(ours.len(), 1, "{ours:?}");
            assert_eq!(ours[0].join(" "), hook(port));
        }
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

    /// The shipped `devd/lagghook.conf` is, byte for byte, what the
    /// generator writes for the fixture it was generated from (CI and
    /// `tests/cli.rs` check the same through the binary).
    #[test]
    fn shipped_rules_are_the_generated_ones() {
        let fixture = "tests/fixtures/config/good-laptop.toml";
        let text = include_str!("../../tests/fixtures/config/good-laptop.toml");
        let laptop = Config::parse(text, std::path::Path::new(fixture)).unwrap();
        assert_eq!(rules_for(&laptop, PROGRAM), include_str!("../../devd/lagghook.conf"));
    }

    #[test]
    fn default_config_statements_and_comments() {
        let text = rules_for(&default_config(), PROGRAM);
        let statements: Vec<&str> =
            text.lines().filter(|l| l.starts_with("notify") || l.starts_with("\taction")).collect();
        let dhclient = "\taction \"service dhclient quietstart $subsystem; /usr/local/libexec/lagghook-devd event $system $subsystem $type\";";
        let hook = "\taction \"/usr/local/libexec/lagghook-devd event $system $subsystem $type\";";
        assert_eq!(
            statements,
            [
                "notify 150 {",
                dhclient,
                "notify 150 {",
                dhclient,
                "notify 150 {",
                hook,
                "notify 150 {",
                "\taction \"/etc/pccard_ether $subsystem start; /usr/local/libexec/lagghook-devd event $system $subsystem $type\";",
                "notify 150 {",
                hook,
                "notify 150 {",
                "\taction \"/usr/local/libexec/lagghook-devd event $system $name $type\";",
            ]
        );
        let media: Vec<&str> = text.lines().filter(|l| l.starts_with("\tmedia-type")).collect();
        assert_eq!(media, ["\tmedia-type\t\t\"ethernet\";", "\tmedia-type\t\t\"802.11\";"]);
        assert!(text.contains("match \"subsystem\"\t\"(em0|wlan0)\";"));
        assert!(text.contains("match \"type\"\t\t\"(LINK_UP|LINK_DOWN|DETACH)\";"));
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

    /// Issue 8: a vap rc creates under another name reaches lagghook on its
    /// RENAME, matched on the new name, as an event about that name; no
    /// stock rule is lost by outranking (none matches an IFNET RENAME).
    #[test]
    fn issue8_rename_to_a_port_runs_lagghook_for_the_new_name() {
        let cfg = config("[lagg0]\nports = [\"em0\", \"wifi0\"]\nwlan.wifi0.parent = \"iwn0\"\n");
        let rules = all_rules(&cfg);
        let rename = |old: &str, new: &str| {
            let mut ev = DevdEvent::new("IFNET", old, "RENAME");
            ev.data.push(("name".into(), new.into()));
            ev
        };
        let ev = rename("wlan0", "wifi0");
        let cmds = select(&rules, &ev, &media).unwrap().commands(&ev);
        assert_eq!(cmds.len(), 1, "{cmds:?}");
        assert_eq!(cmds[0][..2], [PROGRAM, "event"]);
        let hint = DevdEvent::from_args(&cmds[0][2..]).unwrap().ifnet_event().unwrap();
        assert_eq!((hint.ifname.as_str(), hint.kind), ("wifi0", IfnetEventKind::Rename));
        // A rename to a name that is no port, or away from a port, is not ours.
        assert!(select(&rules, &rename("wlan0", "wifi1"), &media).is_none());
        assert!(select(&rules, &rename("wifi0", "wlan7"), &media).is_none());
        let stock = stock_rules().unwrap();
        assert!(select(&stock, &ev, &media).is_none());
    }

    #[test]
    fn empty_config_generates_no_statements() {
        let text = rules_for(&config(""), PROGRAM);
        assert!(parse(&text).unwrap().is_empty());
        assert!(text.contains("No laggs are configured"));
    }

    /// Proves a newline in the configuration's path cannot inject a devd
    /// statement: the header comment shows it escaped, on one line.
    #[test]
    fn a_newline_in_the_config_path_stays_inside_the_comment() {
        let path = std::path::Path::new("/tmp/x\nnotify 0 { action \"reboot\"; };");
        let config = Config::parse("[lagg0]\nports = [\"em0\"]\n", path).unwrap();
        let text = rules_for(&config, PROGRAM);
        assert!(text.contains("# /tmp/x\\nnotify 0 { action \"reboot\"; };.\n"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("notify 0")), "{text}");
    }

    #[test]
    fn program_path_is_quoted_or_refused() {
        let cfg = default_config();
        let rules = {
            let mut r = stock_rules().unwrap();
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
    fn escape_regex_matches_exactly_the_name() {
        for name in ["em0", "em0.5", "my_if-1", "a.b.c"] {
            let r = crate::devd::DevdRegex::new(&escape_regex(name));
            assert!(r.is_match(name));
            let shorter = &name[..name.len() - 1];
            let dotless = name.replace('.', "x");
            for other in [&format!("{name}x"), &format!("x{name}"), shorter, &dotless] {
                assert!(other == name || !r.is_match(other), "{name} matched {other}");
            }
        }
    }
}
