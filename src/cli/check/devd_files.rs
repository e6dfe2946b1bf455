//! `check`'s devd(8) traps: lagghook's rules installed as `devd-conf`
//! prints them, devd reading them at all, and other statements competing
//! with them for the same events ([`crate::devd::analyse`] says how).
//!
//! devd reads `/etc/devd.conf`, then every `*.conf` file of each directory
//! its `directory` options name, in that order (`config::parse`,
//! `config::parse_files_in_dir` in `sbin/devd/devd.cc`,
//! `fel1x-developer/freebsd-src` 2d614aa2); a file it cannot open or parse
//! stops it (`config::parse_one_file`: `err`/`errx`). It reads them only when
//! it starts, so what is checked is what the next `service devd restart`
//! would use.

use crate::devd::{self, DevdFile, Place, Relation};
use crate::domain::config::Config;
use crate::root::{join, Root};

use super::hooks::Problem;
use super::Report;

/// Where `lagghook devd-conf`'s output must be for devd to read it: stock
/// `/etc/devd.conf` lists `/usr/local/etc/devd` in its `directory` options.
pub const DEVD_RULES: &str = "/usr/local/etc/devd/lagghook.conf";
/// The file devd starts from.
const DEVD_CONF: &str = "/etc/devd.conf";
/// Restarted after a wlan's MAC changes (rc.d/wpa_supplicant).
pub const WPA_SUPPLICANT_RC: &str = "/etc/rc.d/wpa_supplicant";

pub(super) fn traps(config: &Config, root: &dyn Root, report: &mut Report) {
    if config.laggs.is_empty() {
        return;
    }
    competitors(config, root, report);
    let has_wlan = config.ports().any(|(l, p)| l.is_wlan_port(p));
    if has_wlan && !matches!(root.read(WPA_SUPPLICANT_RC), Ok(Some(_))) {
        report.trap(
            format!(
                "{WPA_SUPPLICANT_RC}: missing; wlan ports cannot be re-keyed after a MAC change"
            ),
            "restore it from the base system (freebsd-update or /usr/src/libexec/rc/rc.d)",
        );
    }
}

/// What is wrong with lagghook's rules file, if anything: it must hold
/// what `devd-conf` prints for this configuration, statement for
/// statement (comments aside). `hooks` reports it, for `check` and
/// `status` alike.
pub(super) fn installed_rules(config: &Config, root: &dyn Root) -> Option<Problem> {
    let statements = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let install = format!("lagghook devd-conf > {DEVD_RULES} && service devd restart");
    let what = match root.read(DEVD_RULES) {
        Ok(None) => format!("{DEVD_RULES}: missing: devd never runs lagghook"),
        Err(e) => format!("{e}: devd cannot read lagghook's rules"),
        Ok(Some(text)) => {
            let wanted = devd::rules_for(config, devd::PROGRAM);
            if statements(&text) == statements(&wanted) {
                return None;
            }
            format!("{DEVD_RULES}: differs from `lagghook devd-conf` for this configuration")
        }
    };
    Some(Problem { what, fix: install })
}

/// The directory of [`DEVD_RULES`].
fn rules_dir() -> &'static str {
    DEVD_RULES.rsplit_once('/').map_or("", |(d, _)| d)
}

/// devd.conf's directories; a devd.conf that does not parse is reported
/// with the other unparsable files ([`competitors`]), and its directories
/// are taken to be the stock ones meanwhile.
fn directories(main: &str) -> Vec<String> {
    devd::directories(main)
        .unwrap_or_else(|_| vec!["/etc/devd".to_owned(), "/usr/local/etc/devd".to_owned()])
}

/// Whether devd reads lagghook's rules at all: without `/etc/devd.conf`
/// devd does not start, and without a `directory` option naming
/// [`DEVD_RULES`]'s directory it never reads them; either way no event
/// reaches lagghook. `hooks` reports it, for `check` and `status` alike
/// (issue 16, point 6). A devd.conf that cannot be read is
/// [`competitors`]' warning.
pub(super) fn devd_reads_rules(root: &dyn Root) -> Option<Problem> {
    let main = match root.read(DEVD_CONF) {
        Ok(Some(text)) => text,
        Ok(None) => {
            return Some(Problem {
                what: format!("{DEVD_CONF}: missing: devd does not start without it"),
                fix: "restore it from the base system (freebsd-update or \
                      /usr/src/sbin/devd/devd.conf)"
                    .to_owned(),
            })
        }
        Err(_) => return None,
    };
    let dir = rules_dir();
    if directories(&main).iter().any(|d| d.trim_end_matches('/') == dir) {
        return None;
    }
    Some(Problem {
        what: format!(
            "{DEVD_CONF}: no `directory \"{dir}\"` option: devd never reads {DEVD_RULES}"
        ),
        fix: format!("add `directory \"{dir}\";` to its options block, as FreeBSD's has"),
    })
}

/// devd.conf and every file of its directories, against lagghook's
/// rules as `devd-conf` prints them. A devd.conf missing or not naming
/// lagghook's directory is [`devd_reads_rules`]' problem: then no rule
/// competes with rules devd does not read.
fn competitors(config: &Config, root: &dyn Root, report: &mut Report) {
    let main = match root.read(DEVD_CONF) {
        Ok(Some(text)) => text,
        Ok(None) => return,
        Err(e) => {
            report
                .warn(format!("cannot read {e}"), "devd's rules were not checked for competitors");
            return;
        }
    };
    let dirs = directories(&main);
    let Some(ours_dir) = dirs.iter().position(|d| d.trim_end_matches('/') == rules_dir()) else {
        return;
    };
    let mut files = vec![DevdFile { path: DEVD_CONF.to_owned(), place: Place::Main, text: main }];
    for (i, dir) in dirs.iter().enumerate() {
        let names = match root.list(dir) {
            Ok(names) => names.unwrap_or_default(),
            Err(e) => {
                report.warn(format!("cannot read {e}"), "its devd rules were not checked");
                continue;
            }
        };
        // devd takes every name ending in `.conf` (`parse_files_in_dir`).
        for name in names.iter().filter(|n| n.ends_with(".conf")) {
            let path = join(dir, name);
            if path == DEVD_RULES {
                continue;
            }
            match root.read(&path) {
                Ok(Some(text)) => files.push(DevdFile { path, place: Place::Dir(i), text }),
                Ok(None) => {}
                Err(e) => report.warn(
                    format!("cannot read {e}"),
                    "devd cannot either, and does not start; fix or remove it",
                ),
            }
        }
    }
    let ours = match devd::try_rules_for(config, devd::PROGRAM).map(|t| devd::parse(&t)) {
        Ok(Ok(rules)) => rules,
        // Generated text always parses; a failure is a bug, said as such.
        Ok(Err(e)) => {
            report.warn(format!("lagghook's own rules do not parse: {e}"), "report this bug");
            return;
        }
        Err(e) => {
            report.warn(format!("lagghook's rules cannot be generated: {e}"), "report this bug");
            return;
        }
    };
    let analysis = devd::analyse(&files, &ours, ours_dir, &devd::managed_events(config));
    for (path, e) in &analysis.unparsable {
        report.warn(
            format!("{path}: does not parse: {e}; its rules were not checked for competitors"),
            "devd refuses to start on a file it cannot parse either (`Cannot parse`): fix or \
             remove it, unless devd runs with it",
        );
    }
    for c in &analysis.competitors {
        let at = format!("{}:{}: notify {}", c.path, c.line, c.priority);
        let events = c.events.join(", ");
        if c.runs_lagghook {
            // Whichever statement devd picks runs lagghook: nothing is
            // lost, whether this is a stray copy of lagghook's rules or a
            // rule chained to lagghook as the traps below advise.
            report.warn(
                format!("{at} matches {events}, as lagghook's rules do, and runs lagghook too"),
                format!(
                    "if it is a copy of lagghook's rules, remove {}: they belong in {DEVD_RULES} alone",
                    c.path
                ),
            );
            continue;
        }
        let chain =
            format!("end its action with `; {} event $system $subsystem $type`", devd::PROGRAM);
        let (what, fix) = match c.relation {
            Relation::Outranks => (
                format!(
                    "{at} matches {events} above lagghook's priority {}: {} wins, and lagghook \
                     does not run for them",
                    c.ours, c.path
                ),
                format!("give it a priority below {}, or {chain}", c.ours),
            ),
            Relation::TieReadFirst => (
                format!(
                    "{at} matches {events} at lagghook's priority: devd reads {} first, so it \
                     wins, and lagghook does not run for them",
                    c.path
                ),
                format!("give it another priority than {}, or {chain}", c.ours),
            ),
            Relation::TieReaddir => (
                format!(
                    "{at} matches {events} at lagghook's priority, in the same directory: order \
                     undefined (readdir), so either {} or lagghook's rules win",
                    c.path
                ),
                format!("give it another priority than {}", c.ours),
            ),
            Relation::TieReadAfter => (
                format!(
                    "{at} matches {events} at lagghook's priority: devd reads {DEVD_RULES} \
                     first, so lagghook's rules win and its action does not run"
                ),
                format!("give it another priority than {}", c.ours),
            ),
            Relation::Shadowed => (
                format!(
                    "{at} matches {events}: lagghook's rules (priority {}) outrank it, so its \
                     action no longer runs for them",
                    c.ours
                ),
                format!("raise it above {} and {chain}", c.ours),
            ),
        };
        report.trap(what, fix);
    }
}
