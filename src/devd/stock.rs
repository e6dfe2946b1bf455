//! FreeBSD's stock devd statements that see network interfaces, embedded
//! as the text FreeBSD ships, and loaded the way devd loads them.
//!
//! What this module owns: that text, which FreeBSD it comes from, the two
//! file layouts FreeBSD has shipped it in, and the guarantee that it loads
//! whole or not at all. What it does not own: parsing (`conf`) or what the
//! statements do (`dispatch`).
//!
//! Sources, byte for byte:
//! - `stock/devd.conf` is the beginning of `sbin/devd/devd.conf` in
//!   `freebsd/freebsd-src` at 023fc80ee38a117fa65b2ccb2abf8bdc7dbd6fd9
//!   (FreeBSD 14.x, installed as `/etc/devd.conf`), up to and including the
//!   802.11 dhclient statement: the header, the `options` block that sets
//!   `wifi-driver-regex`, the IFNET `ATTACH` statement running
//!   `pccard_ether`, the two `LINK_UP` dhclient statements and the wifi
//!   driver `attach`/`detach` statements. The rest of that file (the `ed50`
//!   example, bluetooth, keyboards, mice, ACPI, logging, the commented-out
//!   examples) never sees an interface and is left out.
//! - `stock/dhclient.conf` is `sbin/devd/dhclient.conf` in
//!   `freebsd/freebsd-src` at f4d9116de1dadc26d35302e1c5eb125e7de30db1: in
//!   FreeBSD 15 the two dhclient statements moved, unchanged, out of
//!   devd.conf into this file, installed as `/etc/devd/dhclient.conf`.
//!
//! [`Layout::FreeBsd15`] loads the same statements in FreeBSD 15's layout:
//! `stock/devd.conf` without the statements of `stock/dhclient.conf` (each
//! must occur in it exactly once, or the layouts would differ), then
//! `stock/dhclient.conf`, as devd reads `/etc/devd.conf` and then the files
//! in `/etc/devd` (`config::parse`). FreeBSD 15's own devd.conf also adds
//! `ath[0-9]+k` and `mt79` to `wifi-driver-regex` (seen in the
//! `HardenedBSD/hardenedBSD` copy at 0ad10210); that only concerns driver
//! `attach`/`detach` events and is not modelled.

use std::fmt;
use std::sync::OnceLock;

use super::conf::{parse_file, DevdParseError, Rule, SetVariables};
use super::regex::RegcompError;

/// FreeBSD 14.x's `/etc/devd.conf`, as far as interfaces go.
pub const DEVD_CONF: &str = include_str!("stock/devd.conf");

/// FreeBSD 15's `/etc/devd/dhclient.conf`.
pub const DHCLIENT_CONF: &str = include_str!("stock/dhclient.conf");

/// Which files hold the stock statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One `/etc/devd.conf` with the dhclient statements in it.
    FreeBsd14,
    /// `/etc/devd.conf`, then `/etc/devd/dhclient.conf` with them.
    FreeBsd15,
}

/// Why the embedded stock text does not load. Each is a bug in this crate,
/// and is reported, never papered over with fewer rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockError {
    /// The text does not parse.
    Parse { file: &'static str, error: DevdParseError },
    /// FreeBSD's `regcomp` would reject one of its regexes.
    Regex { file: &'static str, line: usize, regex: String, error: RegcompError },
    /// A dhclient.conf statement is not in devd.conf exactly once, so the
    /// FreeBSD 15 layout cannot be derived from the 14.x text.
    NotMoved { statement: String, found: usize },
}

impl fmt::Display for StockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StockError::Parse { file, error } => write!(f, "stock {file}: {error}"),
            StockError::Regex { file, line, regex, error } => {
                write!(f, "stock {file}: line {line}: regex {regex:?}: {error}")
            }
            StockError::NotMoved { statement, found } => write!(
                f,
                "stock dhclient.conf statement found {found} times in devd.conf: {statement:?}"
            ),
        }
    }
}

impl std::error::Error for StockError {}

/// FreeBSD 14.x's stock interface statements, in file order. Put them
/// before generated rules: devd parses `/etc/devd.conf` first, so they win
/// ties.
pub fn stock_rules() -> Result<Vec<Rule>, StockError> {
    stock_rules_in(Layout::FreeBsd14)
}

/// The stock interface statements in `layout`'s files, in the order devd
/// reads them. Parsed once, at first use.
pub fn stock_rules_in(layout: Layout) -> Result<Vec<Rule>, StockError> {
    static FREEBSD_14: OnceLock<Result<Vec<Rule>, StockError>> = OnceLock::new();
    static FREEBSD_15: OnceLock<Result<Vec<Rule>, StockError>> = OnceLock::new();
    match layout {
        Layout::FreeBsd14 => FREEBSD_14.get_or_init(|| load(&[("devd.conf", DEVD_CONF)])),
        Layout::FreeBsd15 => FREEBSD_15.get_or_init(|| {
            let devd_conf = without_dhclient_statements()?;
            load(&[("devd.conf", &devd_conf), ("dhclient.conf", DHCLIENT_CONF)])
        }),
    }
    .clone()
}

/// Parses `files` in turn, sharing `set` variables as devd does, and
/// refuses any regex FreeBSD's `regcomp` would reject: in stock text that
/// would be a silently dead statement.
fn load(files: &[(&'static str, &str)]) -> Result<Vec<Rule>, StockError> {
    let mut vars = SetVariables::default();
    let mut rules = Vec::new();
    for &(file, text) in files {
        let parsed =
            parse_file(text, &mut vars).map_err(|error| StockError::Parse { file, error })?;
        for (line, regex) in parsed.iter().flat_map(Rule::rejected_regexes) {
            if let Some(error) = regex.rejection() {
                let (regex, error) = (regex.anchored().to_owned(), error.clone());
                return Err(StockError::Regex { file, line, regex, error });
            }
        }
        rules.extend(parsed);
    }
    Ok(rules)
}

/// FreeBSD 15's `/etc/devd.conf` as far as interfaces go: [`DEVD_CONF`]
/// without the statements that moved to [`DHCLIENT_CONF`].
fn without_dhclient_statements() -> Result<String, StockError> {
    without_statements_of(DEVD_CONF, DHCLIENT_CONF)
}

/// `text` without each statement of `moved` (with the comment lines right
/// above it), each of which must occur in `text` exactly once.
fn without_statements_of(text: &str, moved: &str) -> Result<String, StockError> {
    let mut text = text.to_owned();
    for statement in statements(moved) {
        let found = text.matches(statement).count();
        if found != 1 {
            return Err(StockError::NotMoved { statement: statement.to_owned(), found });
        }
        text = text.replacen(statement, "", 1);
    }
    Ok(text)
}

/// The statements of a devd.conf text as written: each from the comment
/// lines right above the line that starts it to the next line that is
/// `};`, newline included.
fn statements(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut comment, mut start) = (None, None);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let keyword = line.split_whitespace().next().unwrap_or("");
        if start.is_none() {
            if keyword.starts_with('#') {
                comment = comment.or(Some(offset));
            } else if ["attach", "detach", "nomatch", "notify"].contains(&keyword) {
                start = comment.or(Some(offset));
            } else {
                comment = None;
            }
        }
        offset += line.len();
        if let (Some(s), "};") = (start, line.trim_end()) {
            out.push(&text[s..offset]);
            (comment, start) = (None, None);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devd::conf::{parse, StatementKind};
    use crate::devd::test_support::{config, default_config, media, run};
    use crate::devd::{rules_for, select, PROGRAM};
    use crate::domain::event::DevdEvent;

    /// The embedded text is FreeBSD 14.x's current devd.conf (023fc80e):
    /// its wifi-driver regex has iwlwifi and rtw, and no longer wi.
    #[test]
    fn embedded_devd_conf_is_freebsd_14s_current_text() {
        assert!(DEVD_CONF.starts_with("#\n# Refer to devd.conf(5) and devd(8) man pages"));
        assert!(DEVD_CONF.contains("\t\t\"(ath|bwi|bwn|ipw|iwlwifi|iwi|iwm|iwn|malo|mwl|otus|ral|rsu|rtw|rtwn|rum|\\\n\t\trun|uath|upgt|ural|urtw|wpi|wtap|zyd)[0-9]+\";\n"));
        assert!(!DEVD_CONF.contains("|wi|"));
        let stock = stock_rules().unwrap();
        let driver = |name: &str| DevdEvent {
            data: vec![("device-name".into(), name.into())],
            ..DevdEvent::new("", "", "")
        };
        let attach = &stock[2];
        assert_eq!(attach.kind(), StatementKind::Attach);
        for (name, wifi) in [("iwlwifi0", true), ("rtw880", true), ("iwn0", true), ("wi0", false)] {
            assert_eq!(attach.matches(&driver(name), &media), wifi, "{name}");
        }
        assert_eq!(
            attach.commands(&driver("iwlwifi0")),
            [["/etc/pccard_ether", "iwlwifi0", "startchildren"]]
        );
    }

    /// Nothing is dropped: every statement of each embedded file is a rule,
    /// and every regex in them is one FreeBSD's regcomp accepts.
    #[test]
    fn stock_text_loads_whole() {
        use StatementKind::*;
        for (text, kinds) in [
            (DEVD_CONF, &[Notify, Notify, Attach, Detach, Notify][..]),
            (DHCLIENT_CONF, &[Notify, Notify][..]),
        ] {
            let rules = parse(text).unwrap();
            assert_eq!(rules.len(), statements(text).len());
            assert_eq!(rules.iter().map(Rule::kind).collect::<Vec<_>>(), kinds);
            assert!(rules.iter().all(|r| r.priority() == 0));
            assert_eq!(rules.iter().flat_map(Rule::rejected_regexes).count(), 0);
        }
        assert_eq!(stock_rules().unwrap().len(), 5);
        assert_eq!(stock_rules_in(Layout::FreeBsd15).unwrap().len(), 5);
    }

    /// FreeBSD 15's devd.conf is 14's without the dhclient statements (and
    /// their comment), which dhclient.conf holds unchanged.
    #[test]
    fn freebsd_15_layout_moves_the_dhclient_statements_unchanged() {
        let devd_conf_15 = without_dhclient_statements().unwrap();
        assert!(!devd_conf_15.contains("dhclient"), "{devd_conf_15}");
        let kinds = |rules: Vec<Rule>| rules.iter().map(Rule::kind).collect::<Vec<_>>();
        use StatementKind::*;
        assert_eq!(kinds(parse(&devd_conf_15).unwrap()), [Notify, Attach, Detach]);
        assert_eq!(
            kinds(stock_rules_in(Layout::FreeBsd15).unwrap()),
            [Notify, Attach, Detach, Notify, Notify]
        );
        assert!(matches!(
            without_statements_of("notify 0 { };\n", DHCLIENT_CONF),
            Err(StockError::NotMoved { found: 0, .. })
        ));
    }

    /// The requirement: both layouts, alone and under generated rules,
    /// dispatch every IFNET event the devd tests use to the same commands.
    #[test]
    fn both_layouts_dispatch_every_ifnet_event_identically() {
        let two_laggs = config(
            "[lagg0]\nports = [\"ue0\", \"wifi0\"]\nwlan.wifi0.parent = \"rtwn0\"\n\
             [lagg1]\nports = [\"em0.5\", \"wlan1\"]\n",
        );
        let with = |layout, config: Option<&crate::domain::config::Config>| {
            let mut rules = stock_rules_in(layout).unwrap();
            if let Some(c) = config {
                rules.extend(parse(&rules_for(c, PROGRAM)).unwrap());
            }
            rules
        };
        let names = [
            "em0", "em01", "xem0", "em0.5", "em0x5", "wlan0", "WLAN0", "wlan1", "usbus0", "lagg0",
            "lagg1", "re0", "ue0", "wifi0",
        ];
        let types = [
            "ATTACH",
            "attach",
            "DETACH",
            "LINK_UP",
            "LINK_DOWN",
            "ADDR_ADD",
            "RENAME",
            "IFATTACH",
        ];
        // The laptop's media types, and SIOCGIFMEDIA failing everywhere.
        let media_types: [fn(&str) -> Option<&'static str>; 2] = [media, |_| None];
        let mut compared = 0;
        for config in [None, Some(&default_config()), Some(&two_laggs)] {
            let (r14, r15) = (with(Layout::FreeBsd14, config), with(Layout::FreeBsd15, config));
            for name in names {
                for kind in types {
                    for media_type in media_types {
                        for system in ["IFNET", "ETHERNET"] {
                            let ev = DevdEvent::new(system, name, kind);
                            let commands = |rules: &[Rule]| {
                                select(rules, &ev, &media_type).map(|r| r.commands(&ev))
                            };
                            assert_eq!(commands(&r14), commands(&r15), "{ev}");
                            compared += 1;
                        }
                    }
                }
            }
            // Not vacuous: the dhclient statements are reached in both.
            assert_eq!(run(&r15, "lagg0", "LINK_UP"), ["service dhclient quietstart lagg0"]);
        }
        assert_eq!(compared, 3 * 14 * 8 * 2 * 2);
    }

    #[test]
    fn stock_rules_alone_behave_like_freebsd_14() {
        let stock = stock_rules().unwrap();
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
    }

    /// A stock statement that does not load is an error, never a chain
    /// silently left out.
    #[test]
    fn a_stock_file_that_does_not_load_is_an_error() {
        let bad_regex = "notify 0 {\n\tmatch \"system\" \"(IFNET\";\n};\n";
        assert_eq!(
            load(&[("devd.conf", bad_regex)]).err(),
            Some(StockError::Regex {
                file: "devd.conf",
                line: 2,
                regex: "^(IFNET$".into(),
                error: RegcompError::Paren
            })
        );
        let unparsable = load(&[("devd.conf", DEVD_CONF), ("dhclient.conf", "notify 0 {")]);
        assert!(matches!(unparsable, Err(StockError::Parse { file: "dhclient.conf", .. })));
    }
}
