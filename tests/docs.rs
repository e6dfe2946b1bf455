//! The manual pages against the code: lagghook(8)'s SYNOPSIS, OPTIONS,
//! COMMANDS, EXIT STATUS, FILES, EXAMPLES and DIAGNOSTICS, and
//! lagghook.toml(5)'s keys, rejections and EXAMPLES.
//!
//! The pages are read as mdoc source and turned into plain words by
//! [`render`], a small renderer for the macros they use, so the tests need
//! no mandoc. When mandoc is installed, the SYNOPSIS is also compared as
//! mandoc renders it; `mandoc -T lint` itself is CI's job.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use lagghook::cli::args::{self as cli, Command as CliCommand};
use lagghook::cli::setup::{self, Change, Old};
use lagghook::domain::config::{Config, MacSource};
use lagghook::domain::flap::{self, FlapState};
use lagghook::domain::identity::{self, Identity};
use lagghook::domain::model::{IfName, MacAddr};
use lagghook::domain::model::{LaggProto, Snapshot};
use lagghook::domain::plan::Action;
use lagghook::domain::transition::{describe, LaggView};
use lagghook::domain::vap::RecreateWhy;
use lagghook::kernel::{Errno, KernelError, Op};
use lagghook::run::applied_line;
use lagghook::run::apply::{Applied, Outcome};
use lagghook::run::error::exit;
use lagghook::run::log::Level;
use lagghook::sim::{Machine, SimKernel};

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn lagghook_8() -> String {
    read("man/lagghook.8")
}

fn lagghook_toml_5() -> String {
    read("man/lagghook.toml.5")
}

/// The source lines of section `name`: after `.Sh NAME`, before the next
/// `.Sh`. Comment lines (`.\"`) are dropped.
fn section<'a>(page: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!(".Sh {name}");
    let mut lines = page.lines().skip_while(|l| l.trim_end() != header);
    assert!(lines.next().is_some(), "no section {name}");
    let body: Vec<&str> =
        lines.take_while(|l| !l.starts_with(".Sh ")).filter(|l| !l.starts_with(".\\\"")).collect();
    assert!(!body.is_empty(), "section {name} is empty");
    body
}

/// The contents of every `.Bd -literal` … `.Ed` block, roff escapes undone.
fn literal_blocks(lines: &[&str]) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in lines {
        if line.starts_with(".Bd -literal") {
            current = Some(String::new());
        } else if line.starts_with(".Ed") {
            blocks.extend(current.take());
        } else if let Some(block) = &mut current {
            block.push_str(&unescape(line));
            block.push('\n');
        }
    }
    assert!(current.is_none(), "unterminated .Bd -literal");
    blocks
}

/// The roff escapes these pages use.
fn unescape(s: &str) -> String {
    s.replace("\\&", "").replace("\\-", "-").replace("\\e", "\\")
}

/// Splits a macro line's arguments, honouring double quotes.
fn arguments(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut word = String::new();
        if first == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        word.push('"');
                        continue;
                    }
                    break;
                }
                word.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
    out
}

/// Callable mdoc macros that only style their arguments.
const STYLE_MACROS: &[&str] =
    &["Ar", "Cm", "Ic", "Li", "Pa", "Ev", "Va", "Dv", "Er", "Em", "Sy", "No", "An", "It", "Dl"];

/// Macros that enclose the rest of the line.
const ENCLOSING: &[(&str, &str, &str)] =
    &[("Op", "[", "]"), ("Pq", "(", ")"), ("Ql", "'", "'"), ("Dq", "\"", "\""), ("Qq", "\"", "\"")];

fn is_macro(word: &str) -> bool {
    STYLE_MACROS.contains(&word)
        || ENCLOSING.iter().any(|(m, _, _)| *m == word)
        || matches!(word, "Fl" | "Ns" | "Nm" | "Xr")
}

/// A closing delimiter, which mdoc attaches to the word before it.
fn is_punctuation(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| ".,:;)]?!".contains(c))
}

/// Output text with mdoc's spacing: closing punctuation sticks to the word
/// before it, opening brackets to the word after.
#[derive(Default)]
struct Text {
    out: String,
    glue: bool,
}

impl Text {
    fn word(&mut self, w: &str) {
        let closing = is_punctuation(w);
        if !self.out.is_empty() && !self.glue && !closing {
            self.out.push(' ');
        }
        self.out.push_str(w);
        self.glue = false;
    }

    fn open(&mut self, s: &str) {
        self.word(s);
        self.glue = true;
    }

    fn close(&mut self, s: &str) {
        self.out.push_str(s);
        self.glue = false;
    }
}

/// Renders one line of mdoc to plain text (`name` stands in for a bare
/// `.Nm`). Covers the macros these pages use; others pass their arguments.
fn render(line: &str, name: &str) -> String {
    let Some(request) = line.strip_prefix('.') else { return unescape(line) };
    let words: Vec<String> = arguments(request).iter().map(|w| unescape(w)).collect();
    // Block and layout requests (.Bl, .Bd, .Pp, …) print nothing here.
    if words.first().is_none_or(|w| !is_macro(w)) {
        return String::new();
    }
    let mut text = Text::default();
    render_words(&words, name, &mut text);
    text.out
}

fn render_words(words: &[String], name: &str, text: &mut Text) {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        i += 1;
        if let Some((_, open, close)) = ENCLOSING.iter().find(|(m, _, _)| *m == w) {
            // Trailing punctuation goes after the closing mark, as in mdoc.
            let rest = &words[i..];
            let inner = rest.len() - rest.iter().rev().take_while(|w| is_punctuation(w)).count();
            text.open(open);
            render_words(&rest[..inner], name, text);
            text.close(close);
            for p in &rest[inner..] {
                text.word(p);
            }
            return;
        }
        match w {
            "Fl" => {
                let mut any = false;
                while i < words.len() && !is_macro(&words[i]) {
                    text.word(&format!("-{}", words[i]));
                    i += 1;
                    any = true;
                }
                if !any {
                    text.word("-");
                }
            }
            "Ns" => text.glue = true,
            "Nm" => {
                if i >= words.len() || is_macro(&words[i]) {
                    text.word(name);
                }
            }
            "Xr" if i + 1 < words.len() => {
                text.word(&format!("{}({})", words[i], words[i + 1]));
                i += 2;
            }
            m if STYLE_MACROS.contains(&m) => {}
            other => text.word(other),
        }
    }
}

/// A section rendered line by line.
fn rendered(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| render(l, "lagghook")).collect()
}

/// The rendered heads of a section's `.It` entries.
fn items(lines: &[&str]) -> Vec<String> {
    lines.iter().filter(|l| l.starts_with(".It")).map(|l| render(l, "lagghook")).collect()
}

/// `cli::USAGE`, one form per line, as words, without `usage:`.
fn usage_forms() -> Vec<Vec<String>> {
    cli::USAGE
        .lines()
        .map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("usage:").unwrap_or(l);
            l.split_whitespace().map(str::to_owned).collect()
        })
        .collect()
}

/// A usage form's command word and everything after it: `["simulate",
/// "[file]"]`. Skips the program name, `[-x]` groups and their arguments.
/// Empty for a form that is a bare option (`lagghook -h`).
fn usage_tail(form: &[String]) -> &[String] {
    let mut in_option = false;
    for (i, w) in form.iter().enumerate().skip(1) {
        if w.starts_with("[-") || in_option {
            in_option = !w.ends_with(']');
        } else if w.starts_with('-') {
            assert_eq!(form.len(), 2, "a bare option is a form of its own: {form:?}");
            return &[];
        } else {
            return &form[i..];
        }
    }
    panic!("usage form without a command: {form:?}");
}

/// The letters of the forms that are one bare option (`-h`, `-V`): they
/// act alone, whatever command the line also names.
fn standalone_options() -> BTreeSet<char> {
    usage_forms()
        .iter()
        .filter(|f| usage_tail(f).is_empty())
        .flat_map(|f| f[1].trim_start_matches('-').chars().collect::<Vec<_>>())
        .collect()
}

/// Every option letter of USAGE, with its argument name if it takes one.
fn usage_options() -> BTreeSet<(char, Option<String>)> {
    let mut out = BTreeSet::new();
    for form in usage_forms() {
        let mut words = form.iter().peekable();
        while let Some(w) = words.next() {
            if let Some(flag) = w.strip_prefix('-') {
                out.extend(flag.chars().map(|c| (c, None)));
                continue;
            }
            let Some(flags) = w.strip_prefix("[-") else { continue };
            if let Some(letters) = flags.strip_suffix(']') {
                out.extend(letters.chars().map(|c| (c, None)));
            } else {
                let arg = words.next().expect("option argument").trim_end_matches(']').to_owned();
                assert_eq!(flags.chars().count(), 1, "{w}: one letter takes an argument");
                out.extend(flags.chars().map(|c| (c, Some(arg.clone()))));
            }
        }
    }
    out
}

/// Proves the page's SYNOPSIS has the same forms as `cli::USAGE`, word
/// for word, in the same order.
#[test]
fn synopsis_is_usage() {
    let page = lagghook_8();
    let mut forms: Vec<Vec<String>> = Vec::new();
    for line in section(&page, "SYNOPSIS") {
        if line.trim_end() == ".Nm" {
            forms.push(Vec::new());
        }
        let form = forms.last_mut().expect("SYNOPSIS starts with .Nm");
        form.extend(render(line, "lagghook").split_whitespace().map(str::to_owned));
    }
    let usage = usage_forms();
    assert_eq!(usage.len(), 13, "USAGE changed shape: {:?}", cli::USAGE);
    assert_eq!(forms, usage, "lagghook.8 SYNOPSIS (left) differs from cli::USAGE (right)");
}

/// The same, as mandoc itself renders the page, when mandoc is installed.
#[test]
fn synopsis_as_mandoc_renders_it_is_usage() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/lagghook.8");
    let output =
        match Command::new("mandoc").args(["-T", "ascii", "-O", "width=200"]).arg(&path).output() {
            Ok(o) if o.status.success() => o,
            _ => {
                eprintln!("mandoc not available; SYNOPSIS checked by the built-in renderer only");
                return;
            }
        };
    // Undo overstriking: "x\bx" (bold) and "_\bx" (underline) become "x".
    let mut text = String::new();
    for c in String::from_utf8_lossy(&output.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    let forms: Vec<Vec<String>> = text
        .lines()
        .skip_while(|l| l.trim() != "SYNOPSIS")
        .skip(1)
        .take_while(|l| l.trim() != "DESCRIPTION")
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect();
    assert_eq!(forms, usage_forms(), "mandoc's SYNOPSIS (left) differs from cli::USAGE (right)");
}

/// Proves each USAGE form is a command line the parser accepts, and that
/// the parser is not one that accepts anything.
#[test]
fn usage_forms_parse() {
    let sample = |word: &str| -> Vec<String> {
        let word = word.trim_start_matches('[').trim_end_matches(']');
        let value = match word {
            "system" => "IFNET",
            "subsystem" => "wlan0",
            "type" => "ATTACH",
            "line" => "!system=IFNET subsystem=wlan0 type=ATTACH",
            "file" => "/tmp/lagghook-docs.toml",
            "kernel" => "sim:/tmp/lagghook-docs-machine.toml",
            "lagg" => "lagg0",
            "generation" => "1",
            other => other,
        };
        vec![value.to_owned()]
    };
    for form in usage_forms() {
        let args: Vec<String> = form[1..].iter().flat_map(|w| sample(w)).collect();
        let inv = cli::parse(args.clone()).unwrap_or_else(|e| panic!("{form:?} as {args:?}: {e}"));
        let word = match usage_tail(&form).first() {
            Some(command) => command.replace('-', ""),
            None if form[1] == "-h" => "help".to_owned(),
            None if form[1] == "-V" => "version".to_owned(),
            None => panic!("{form:?}: a bare option with no meaning here"),
        };
        let variant = format!("{:?}", inv.command).to_lowercase();
        assert!(variant.starts_with(&word), "{form:?} parsed as {:?}", inv.command);
    }
    assert!(cli::parse(["frobnicate"]).is_err());
    assert!(cli::parse(["-x", "status"]).is_err());
}

/// Proves a command refuses every option its USAGE line does not show, so
/// no accepted option goes undocumented (`-n status` would otherwise be
/// silently ignored).
#[test]
fn options_a_form_does_not_show_are_refused() {
    let all = usage_options();
    let standalone = standalone_options();
    for form in usage_forms() {
        let tail = usage_tail(&form);
        if tail.is_empty() {
            continue;
        }
        let shown: String = form.iter().filter(|w| w.starts_with("[-")).cloned().collect();
        for (flag, arg) in &all {
            if shown.contains(*flag) || standalone.contains(flag) {
                continue;
            }
            let mut args = vec![format!("-{flag}")];
            args.extend(arg.iter().map(|_| "sim:/x".to_owned()));
            args.push(tail[0].clone());
            let operands: &[&str] = match tail[0].as_str() {
                "event" => &["IFNET", "em0", "LINK_UP"],
                _ => &[],
            };
            args.extend(operands.iter().map(|w| w.to_string()));
            assert!(cli::parse(args.clone()).is_err(), "{args:?} accepted; USAGE: {form:?}");
        }
    }
}

/// Proves OPTIONS documents exactly the option letters of USAGE, each with
/// the argument name USAGE gives it.
#[test]
fn options_are_documented() {
    let page = lagghook_8();
    let documented: BTreeSet<(char, Option<String>)> = items(&section(&page, "OPTIONS"))
        .iter()
        .map(|item| {
            let mut words = item.split_whitespace();
            let flag =
                words.next().and_then(|w| w.strip_prefix('-')).expect("OPTIONS item is a flag");
            assert_eq!(flag.chars().count(), 1, "{item}: one flag per item");
            (flag.chars().next().unwrap(), words.next().map(str::to_owned))
        })
        .collect();
    assert_eq!(documented, usage_options(), "OPTIONS (left) vs USAGE (right)");
    assert!(page.contains(".It Fl n\n") && page.contains(".It Fl c Ar file\n"));
}

/// Proves COMMANDS has an `.It Cm word` for every command of USAGE and no
/// other, and an item for every form of each (operands included).
#[test]
fn commands_are_documented() {
    let page = lagghook_8();
    let commands = section(&page, "COMMANDS");
    let documented: BTreeSet<String> = commands
        .iter()
        .filter_map(|l| l.strip_prefix(".It Cm "))
        .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        .collect();
    let forms = usage_forms();
    let wanted: BTreeSet<String> =
        forms.iter().filter_map(|f| usage_tail(f).first().cloned()).collect();
    assert_eq!(documented, wanted, "COMMANDS (left) vs USAGE (right)");
    let heads = items(&commands);
    for form in forms.iter().filter(|f| !usage_tail(f).is_empty()) {
        let tail = usage_tail(form).join(" ");
        assert!(heads.contains(&tail), "no COMMANDS item {tail:?}; items: {heads:?}");
    }
}

/// The `pub const NAME: u8 = N;` lines of `pub mod exit` in src/run/error.rs,
/// so a status added there is noticed here.
fn exit_constants() -> Vec<(String, u8)> {
    let source = read("src/run/error.rs");
    let start = source.find("pub mod exit {").expect("src/run/error.rs has pub mod exit");
    let body = &source[start..];
    let body = &body[..body.find("\n}").expect("end of mod exit")];
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .map(|l| {
            let (name, rest) = l.split_once(':').expect("NAME: u8 = N;");
            let value = rest.split('=').nth(1).expect("= N").trim().trim_end_matches(';');
            (name.trim().to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

/// Proves EXIT STATUS lists exactly the values of `error::exit`.
#[test]
fn exit_statuses_are_documented() {
    let constants = exit_constants();
    // The source reading agrees with the compiled constants.
    for (name, value) in [
        ("OK", exit::OK),
        ("FAILED", exit::FAILED),
        ("OFFLINE", exit::OFFLINE),
        ("UNAVAILABLE", exit::UNAVAILABLE),
        ("USAGE", exit::USAGE),
        ("OUTPUT", exit::OUTPUT),
        ("CONFIG", exit::CONFIG),
    ] {
        assert!(
            constants.contains(&(name.to_owned(), value)),
            "{name} = {value} not in {constants:?}"
        );
    }
    let wanted: BTreeSet<u8> = constants.iter().map(|(_, v)| *v).collect();
    assert_eq!(wanted.len(), constants.len(), "two exit constants share a value: {constants:?}");
    let page = lagghook_8();
    let documented: BTreeSet<u8> = section(&page, "EXIT STATUS")
        .iter()
        .filter_map(|l| l.strip_prefix(".It "))
        .map(|v| {
            v.trim().parse().unwrap_or_else(|_| panic!("EXIT STATUS item {v:?} is not a number"))
        })
        .collect();
    assert_eq!(documented, wanted, "EXIT STATUS (left) vs error::exit (right)");
}

/// Proves FILES and ENVIRONMENT name the paths and variable the code uses.
#[test]
fn files_and_environment_match_the_code() {
    let page = lagghook_8();
    let files: Vec<String> = items(&section(&page, "FILES"));
    let state_dir = lagghook::run::state::DEFAULT_DIR;
    let db_dir = lagghook::run::state::DB_DIR;
    for path in [
        lagghook::devd::PROGRAM.to_owned(),
        lagghook::domain::config::DEFAULT_PATH.to_owned(),
        format!("{state_dir}/state"),
        format!("{state_dir}/lock"),
        format!("{db_dir}/{}", lagghook::run::state::IDENTITY_FILE),
        lagghook::run::log::SYSLOG_SOCKET.to_owned(),
        "/etc/rc.d/wpa_supplicant".to_owned(),
        "/usr/local/etc/devd/lagghook.conf".to_owned(),
        format!("{}/IF.pid", lagghook::sys::wpa_ctrl::RUN_DIR),
        format!("{}/IF", lagghook::sys::wpa_ctrl::RUN_DIR),
        format!("{}/wpa-PID", lagghook::sys::wpa_ctrl::CLIENT_DIR),
    ] {
        assert!(files.contains(&path), "FILES lacks {path}; has {files:?}");
    }
    let env = items(&section(&page, "ENVIRONMENT"));
    assert_eq!(env, [lagghook::run::log::SYSLOG_SOCKET_ENV]);
    // The lock wait FILES promises.
    assert_eq!(lagghook::run::state::LOCK_WAIT.as_secs(), 2);
    assert!(rendered(&section(&page, "FILES")).join(" ").contains("within 2 seconds"));
    // The wpa_supplicant wait FILES promises.
    assert_eq!(lagghook::sys::wpa_ctrl::TIMEOUT.as_millis(), 200);
    assert!(rendered(&section(&page, "FILES")).join(" ").contains("within 200 ms"));
}

/// Proves every `lagghook …` command in lagghook(8) EXAMPLES is one the
/// parser accepts, and that the devd rules are installed where FILES says.
#[test]
fn example_commands_exist() {
    let page = lagghook_8();
    let examples = section(&page, "EXAMPLES");
    let files = items(&section(&page, "FILES"));
    let mut seen = BTreeSet::new();
    for block in literal_blocks(&examples) {
        for line in block.lines() {
            let Some(command) = line.strip_prefix("# ").or_else(|| line.strip_prefix("$ ")) else {
                continue;
            };
            let (command, redirect) = match command.split_once('>') {
                Some((c, target)) => (c, Some(target.trim())),
                None => (command, None),
            };
            let words: Vec<&str> = command.split_whitespace().collect();
            if words[0] != "lagghook" {
                continue;
            }
            let inv = cli::parse(words[1..].iter().copied())
                .unwrap_or_else(|e| panic!("EXAMPLES: {line:?}: {e}"));
            if inv.command == CliCommand::DevdConf {
                let target = redirect.expect("devd-conf output is redirected to a file");
                assert!(files.iter().any(|f| f == target), "{target} is not in FILES");
            }
            seen.insert(format!("{:?}", inv.command).split('(').next().unwrap().to_owned());
        }
    }
    for wanted in ["Check", "DevdConf", "Reconcile", "Event", "Simulate"] {
        assert!(seen.contains(wanted), "EXAMPLES show no {wanted} command; saw {seen:?}");
    }
}

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

/// Proves the `-n reconcile` example is what the planner plans for the
/// laptop whose WiFi card came back with its factory address
/// (`tests/fixtures/machines/wlan-outside.toml`, the sample configuration).
#[test]
fn dry_run_example_is_the_planners_plan() {
    let page = lagghook_8();
    let block = literal_blocks(&section(&page, "EXAMPLES"))
        .into_iter()
        .find(|b| b.starts_with("# lagghook -n reconcile\n"))
        .expect("EXAMPLES has a -n reconcile block");
    let shown: Vec<&str> = block.lines().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        lagghook::run::load_config(&root.join("tests/fixtures/config/good-laptop.toml")).unwrap();
    let mut kernel =
        lagghook::sim::SimKernel::load(&root.join("tests/fixtures/machines/wlan-outside.toml"))
            .unwrap();
    let plan = lagghook::run::pending(&mut kernel, &config, &Default::default()).unwrap();
    let printed: Vec<String> = plan.actions.iter().map(ToString::to_string).collect();
    assert_eq!(shown, printed);
}

/// Proves the transition lines in DIAGNOSTICS are the ones
/// `transition::describe` produces, the change lines the ones
/// `run::applied_line` gives the changes no transition shows, and the
/// error example is a kernel error of the documented shape.
#[test]
fn diagnostics_are_real_log_lines() {
    let page = lagghook_8();
    let diagnostics = section(&page, "DIAGNOSTICS");
    let heads = items(&diagnostics);
    let lagg0 = name("lagg0");
    let view = |ports: &[&str], primary: Option<&str>, active: Option<&str>, m: &str| LaggView {
        ports: ports.iter().map(|p| name(p)).collect(),
        primary: primary.map(name),
        active: active.map(name),
        mac: mac(m),
    };
    let em = "00:11:22:33:44:55";
    let both = view(&["em0", "wlan0"], Some("em0"), Some("em0"), em);
    let cases: Vec<(Option<LaggView>, Option<LaggView>, Option<u64>)> = vec![
        (Some(both.clone()), Some(view(&["em0", "wlan0"], Some("em0"), Some("wlan0"), em)), None),
        (Some(view(&["em0"], Some("em0"), Some("em0"), em)), Some(both.clone()), None),
        (Some(both.clone()), Some(view(&["em0"], Some("em0"), Some("em0"), em)), None),
        (
            Some(view(&["ue0", "wlan0"], Some("wlan0"), Some("ue0"), em)),
            Some(view(&["ue0", "wlan0"], Some("ue0"), Some("ue0"), em)),
            None,
        ),
        (Some(both.clone()), Some(view(&["em0", "wlan0"], Some("em0"), None, em)), None),
        (
            Some(view(&["em0"], Some("em0"), None, em)),
            Some(view(&["em0"], Some("em0"), Some("em0"), em)),
            Some(60),
        ),
        (
            Some(both.clone()),
            Some(view(&["em0", "wlan0"], Some("em0"), Some("em0"), "00:24:d7:aa:bb:cc")),
            None,
        ),
        (None, Some(view(&[], None, None, "00:00:00:00:00:00")), None),
        (Some(both), None, None),
    ];
    for (before, after, offline_for) in cases {
        let lines = describe(&lagg0, before.as_ref(), after.as_ref(), offline_for);
        assert_eq!(lines.len(), 1, "each case yields one line: {lines:?}");
        assert!(heads.contains(&lines[0]), "DIAGNOSTICS lacks {:?}; has {heads:?}", lines[0]);
    }

    // The identity lines: chosen, provisional, replaced, from a literal.
    let id =
        |m: &str, source: MacSource, provisional| Identity { mac: mac(m), source, provisional };
    let ue0 = || MacSource::Port(name("ue0"));
    let hw = id(em, ue0(), false);
    let provisional = id("00:24:d7:aa:bb:cc", ue0(), true);
    let literal = id("00:24:d7:aa:bb:cc", MacSource::Literal(mac("00:24:d7:aa:bb:cc")), false);
    for (before, after) in
        [(None, &hw), (None, &provisional), (Some(&provisional), &hw), (None, &literal)]
    {
        let line = identity::describe(&lagg0, before, Some(after)).expect("a change");
        assert!(heads.contains(&line), "DIAGNOSTICS lacks {line:?}; has {heads:?}");
    }

    // The changes no transition shows, by their own lines (issue 10).
    let before: Snapshot = {
        let machine = "[[machine.interface]]\nname = \"em0\"\nkind = \"ether\"\n\
                       mac = \"00:11:22:33:44:55\"\n[[machine.interface]]\nname = \"lagg0\"\n\
                       kind = \"lagg\"\nproto = \"lacp\"\nports = [\"em0\"]\n";
        let mut k = SimKernel::from_machine(&Machine::parse(machine).unwrap()).unwrap();
        let config = Config::parse("[lagg0]\nports = [\"em0\"]\n", Path::new("x.toml")).unwrap();
        lagghook::run::observe(&mut k, &config).unwrap()
    };
    let (em0, wlan0) = (name("em0"), name("wlan0"));
    let identity = mac(em);
    // A vap in the observation: its address is set while it is down.
    let mut before = before;
    let mut vap = before.interfaces[&em0].clone();
    (vap.name, vap.kind, vap.index) = (wlan0.clone(), lagghook::domain::model::IfKind::Wlan, 9);
    before.interfaces.insert(wlan0.clone(), vap);
    for action in [
        Action::SetProto { lagg: lagg0.clone(), proto: LaggProto::Failover },
        Action::SetFailoverRxAll { value: true },
        Action::LoadLaggModule,
        Action::Up { ifname: em0.clone() },
        Action::Down { ifname: em0 },
        Action::SetLladdr { ifname: wlan0.clone(), mac: identity, was: identity },
        Action::SetLladdr { ifname: wlan0.clone(), mac: identity, was: mac("00:24:d7:aa:bb:cc") },
        Action::SetLladdr { ifname: lagg0.clone(), mac: identity, was: mac("00:24:d7:aa:bb:cc") },
        Action::RestartWpaSupplicant { wlan: wlan0.clone() },
        Action::RecreateVap {
            wlan: wlan0.clone(),
            parent: name("iwlwifi0"),
            mac: identity,
            was: mac("00:24:d7:aa:bb:cc"),
            why: RecreateWhy::AtCreate { driver: "iwlwifi" },
        },
    ] {
        let applied = Applied { action, outcome: Outcome::Done };
        let (level, line) =
            applied_line(&applied, std::slice::from_ref(&applied), &before).expect("a line");
        assert_eq!(level, Level::Notice, "{line}");
        assert!(heads.contains(&line), "DIAGNOSTICS lacks {line:?}; has {heads:?}");
    }
    let now = format!("{wlan0}: wpa_supplicant now uses {em}");
    assert!(heads.contains(&now), "DIAGNOSTICS lacks {now:?}");
    // A flapping episode's two lines (issue 19.2).
    let (mut flaps, mut last, mut lines) = (FlapState::default(), None, Vec::new());
    for (t, active) in [(100, Some("wlan0")), (103, None), (105, Some("wlan0")), (108, None)]
        .into_iter()
        .chain([(110, Some("wlan0")), (113, None), (115, Some("wlan0")), (200, Some("wlan0"))])
    {
        let next = view(&["em0", "wlan0"], Some("em0"), active, em);
        let described = describe(&lagg0, last.as_ref(), Some(&next), None);
        lines.extend(flap::fold(&lagg0, last.as_ref(), Some(&next), described, &mut flaps, t));
        last = Some(next);
    }
    for line in lines.iter().filter(|l| l.contains("flapping")) {
        assert!(heads.contains(line), "DIAGNOSTICS lacks {line:?}; has {heads:?}");
    }
    assert_eq!(lines.iter().filter(|l| l.contains("flapping")).count(), 2, "{lines:?}");
    // setup's lines are its changes as -n prints them.
    let setup_lines = [
        Change::Var {
            file: setup::NETWORK,
            name: "create_args_wlan0".into(),
            old: Old { here: Some("country DE".into()), elsewhere: None },
            new: format!("wlanaddr {em} country DE"),
            append: None,
        },
        Change::File {
            path: setup::DEVD_RULES.into(),
            text: String::new(),
            what: "the devd rules for lagg0".into(),
            before: setup::Before::Absent,
        },
        Change::Command(["/usr/sbin/service", "devd", "restart"].map(str::to_owned).to_vec()),
    ];
    for change in setup_lines {
        let line = change.to_string();
        assert!(heads.contains(&line), "DIAGNOSTICS lacks {line:?}; has {heads:?}");
    }
    assert!(heads.contains(&"setup: nothing to change".to_owned()));

    let error = KernelError::errno(Op::AddLaggPort, Some(&name("wlan0")), Errno::EBUSY);
    let action = Action::AddPort { lagg: lagg0, port: name("wlan0") };
    let line = lagghook::domain::text::failed(&action.to_string(), &error.to_string());
    let blocks = literal_blocks(&diagnostics);
    assert!(blocks.iter().any(|b| b.trim_end() == line), "DIAGNOSTICS lacks {line:?}");
}

/// Proves the `-n setup` example in EXAMPLES is what `setup -n` prints
/// for the laptop it describes, and the `setup` after it what `setup`
/// prints: tests/fixtures/machines/fresh-laptop.toml with FreeBSD's files
/// and `create_args_wlan0="country DE regdomain ETSI"` in
/// rc.conf.d/network, and nothing else.
#[test]
fn setup_example_is_what_setup_prints() {
    let page = lagghook_8();
    let block = literal_blocks(&section(&page, "EXAMPLES"))
        .into_iter()
        .find(|b| b.starts_with("# lagghook -n setup\n"))
        .expect("EXAMPLES has a -n setup block");
    let (dry, real) = block.split_once("# lagghook setup\n").expect("then setup itself");
    let dry = dry.strip_prefix("# lagghook -n setup\n").unwrap_or(dry);
    let sb = crate::support::Sandbox::new("docs-setup");
    let machine = crate::setup::laptop_with(
        crate::setup::FRESH_LAPTOP,
        "hostname=\"laptop\"\n",
        "create_args_wlan0=\"country DE regdomain ETSI\"\n",
    );
    sb.write("kernel.toml", &machine);
    let out = crate::setup::setup(&sb, &["-n", "setup"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(dry, String::from_utf8_lossy(&out.stdout));
    let out = crate::setup::setup(&sb, &["setup"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(real.trim_end(), String::from_utf8_lossy(&out.stdout).trim_end());
}

/// The keys lagghook.toml accepts. config.rs exposes no list, so it is
/// written here, and `keys_are_the_parsers` proves it is the parser's own:
/// serde's unknown-field error lists every field it expects.
const LAGG_KEYS: &[&str] = &["ports", "mac", "failover_rx_all", "failback", "wlan", "network"];
const WLAN_KEYS: &[&str] = &["parent"];
const NETWORK_KEYS: &[&str] =
    &["check", "dhcp", "ipv6", "undecided", "probe_budget_ms", "probe_known"];

/// The backquoted names after "expected" in a serde unknown-field error.
fn expected_fields(config: &str) -> BTreeSet<String> {
    let e = Config::parse(config, Path::new("keys.toml"))
        .expect_err("an unknown key is rejected")
        .to_string();
    let after = &e[e.find("expected").unwrap_or_else(|| panic!("{e}"))..];
    after.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// Proves the hard-coded key lists are exactly the keys the parser knows.
#[test]
fn keys_are_the_parsers() {
    let set = |keys: &[&str]| keys.iter().map(|k| (*k).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(expected_fields("[lagg0]\nports = [\"em0\"]\nno_such_key = 1\n"), set(LAGG_KEYS));
    assert_eq!(
        expected_fields("[lagg0]\nports = [\"wlan0\"]\nwlan.wlan0.no_such_key = 1\n"),
        set(WLAN_KEYS)
    );
    assert_eq!(
        expected_fields("[lagg0]\nports = [\"em0\"]\nnetwork.no_such_key = 1\n"),
        set(NETWORK_KEYS)
    );
}

/// Proves a configuration using every key is accepted, with its values.
#[test]
fn every_key_is_accepted() {
    let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nmac = \"02:00:00:00:00:01\"\n\
                failover_rx_all = false\nfailback = \"deferred\"\nwlan.wlan0.parent = \"iwn0\"\n";
    let config = Config::parse(text, Path::new("all-keys.toml")).unwrap();
    let lagg = &config.laggs[0];
    assert_eq!(lagg.ports, [name("em0"), name("wlan0")]);
    assert_eq!(lagg.mac, MacSource::Literal(mac("02:00:00:00:00:01")));
    assert!(!config.failover_rx_all());
    assert_eq!(lagg.failback, lagghook::domain::config::Failback::Deferred);
    assert_eq!(lagg.wlan(&name("wlan0")).and_then(|w| w.parent.clone()), Some(name("iwn0")));
}

/// Proves lagghook.toml(5) documents every key, as `.It Ic key`, and no
/// key the parser does not know.
#[test]
fn every_key_is_documented() {
    let page = lagghook_toml_5();
    let documented: BTreeSet<String> = section(&page, "DESCRIPTION")
        .iter()
        .filter_map(|l| l.strip_prefix(".It Ic "))
        .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        .collect();
    let known: BTreeSet<String> =
        LAGG_KEYS.iter().chain(WLAN_KEYS).chain(NETWORK_KEYS).map(|k| (*k).to_owned()).collect();
    assert_eq!(documented, known, "lagghook.toml.5 keys (left) vs the parser's (right)");
    // The documented defaults are the code's.
    let text = rendered(&section(&page, "DESCRIPTION")).join(" ");
    let minimal =
        Config::parse("[lagg0]\nports = [\"ue0\", \"wlan0\"]\n", Path::new("x.toml")).unwrap();
    assert!(minimal.failover_rx_all(), "failover_rx_all defaults to true");
    assert!(text.contains("failover_rx_all (boolean, default true)"), "{text}");
    assert!(text.contains(&format!("Between 1 and {}", lagghook::domain::config::LAGG_MAX_PORTS)));
    // Limits states the bound the parser enforces (issue 17).
    let (laggs, kib) =
        (lagghook::domain::config::MAX_LAGGS, lagghook::domain::config::MAX_SIZE >> 10);
    let limits = format!("A configuration holds at most {laggs} laggs of at most 32 ports each, in a file of at most {kib} KiB.");
    let described = rendered(&section(&page, "DESCRIPTION")).join(" ");
    assert!(described.contains(&limits), "lagghook.toml.5 lacks {limits:?}");
    assert_eq!(
        minimal.laggs[0].mac,
        MacSource::Port(name("ue0")),
        "mac defaults to the first port"
    );
}

/// Proves each rejection lagghook.toml(5) lists is real and reported as
/// FILE:LINE:COLUMN, and that the sample message is the parser's.
#[test]
fn documented_rejections_are_real() {
    let page = lagghook_toml_5();
    let description = section(&page, "DESCRIPTION");
    let sample = literal_blocks(&description).into_iter().next().expect("a sample error message");
    let e = Config::parse(
        "[lagg0]\nports = [\"em0\", \"wlan0\"]\nmac = \"em1\"\n",
        Path::new("lagghook.toml"),
    )
    .unwrap_err();
    assert_eq!(sample.trim_end(), e.to_string());

    let bullets: Vec<String> = {
        let text = rendered(&description);
        let start = text.iter().position(|l| l.starts_with("checks the whole file")).unwrap_or(0);
        text[start..].iter().filter(|l| !l.is_empty()).cloned().collect()
    };
    let joined = bullets.join(" ");
    // Each claim of the list, and a file with that problem. Most are one
    // [lagg0] table; `l0` writes its header.
    let l0 = |body: &str| format!("[lagg0]\n{body}\n");
    let ports33: Vec<String> = (0..33).map(|i| format!("\"em{i}\"")).collect();
    let nine: String = (0..9).map(|i| format!("[lagg{i}]\nports = [\"em{i}\"]\n")).collect();
    let cases: Vec<(&str, String)> = vec![
        (
            "a file larger than 64 KiB",
            format!("{}#{}\n", l0("ports = [\"em0\"]"), "x".repeat(64 << 10)),
        ),
        ("or more than 8 lagg tables", nine),
        ("a TOML syntax error", l0("ports = [\"em0\"")),
        ("a value of the wrong type", l0("ports = \"em0\"")),
        ("a missing ports", l0("mac = \"em0\"")),
        ("an unknown key", l0("prots = [\"em0\"]")),
        ("a table name that is not 'laggN'", "[bond0]\nports = [\"em0\"]\n".to_owned()),
        ("an empty ports list", l0("ports = []")),
        ("or more than 32 ports", l0(&format!("ports = [{}]", ports33.join(",")))),
        ("an interface name that is empty", l0("ports = [\"\"]")),
        ("over 15 bytes long", l0("ports = [\"abcdefghijklmnop\"]")),
        ("or has other characters", l0("ports = [\"em0;reboot\"]")),
        ("a port that is a lagg", l0("ports = [\"lagg1\"]")),
        ("the same port twice in one lagg", l0("ports = [\"em0\", \"em0\"]")),
        ("a port in two laggs", l0("ports = [\"em0\"]\n[lagg1]\nports = [\"em0\"]")),
        ("neither a port of its lagg nor a MAC address", l0("ports = [\"em0\"]\nmac = \"em1\"")),
        ("or the zero", l0("ports = [\"em0\"]\nmac = \"00:00:00:00:00:00\"")),
        ("or a multicast address", l0("ports = [\"em0\"]\nmac = \"01:00:5e:00:00:01\"")),
        (
            "failover_rx_all values differ",
            l0("ports = [\"em0\"]\nfailover_rx_all = true\n\
                [lagg1]\nports = [\"em1\"]\nfailover_rx_all = false"),
        ),
        ("not a port of its lagg", l0("ports = [\"em0\"]\nwlan.wlan0.parent = \"iwn0\"")),
        ("parent that is a port", l0("ports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"em0\"")),
    ];
    for (claim, text) in &cases {
        assert!(joined.contains(claim), "lagghook.toml.5 no longer says {claim:?}:\n{joined}");
        let e = Config::parse(text, Path::new("bad.toml"))
            .err()
            .unwrap_or_else(|| panic!("{claim}: accepted:\n{text}"))
            .to_string();
        let rest = e.strip_prefix("bad.toml:").unwrap_or_else(|| panic!("{claim}: {e}"));
        let mut parts = rest.splitn(3, ':').map(|p| p.parse::<u32>().is_ok());
        let numbered = (parts.next(), parts.next()) == (Some(true), Some(true));
        assert!(numbered, "{claim}: not FILE:LINE:COLUMN: {e}");
    }
}

/// Proves every TOML example in lagghook.toml(5) EXAMPLES parses, and
/// that the examples still show what their text says they show.
#[test]
fn toml_examples_parse() {
    let page = lagghook_toml_5();
    let blocks = literal_blocks(&section(&page, "EXAMPLES"));
    assert_eq!(blocks.len(), 3, "the laptop, the USB NIC and the literal-MAC examples");
    let configs: Vec<Config> = blocks
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = format!("lagghook.toml(5) EXAMPLES #{}", i + 1);
            Config::parse(text, Path::new(&path)).unwrap_or_else(|e| panic!("{e}\n{text}"))
        })
        .collect();
    let laptop = &configs[0].laggs[0];
    assert_eq!(laptop.ports, [name("em0"), name("wlan0")]);
    assert_eq!(laptop.wlan(&name("wlan0")).and_then(|w| w.parent.clone()), Some(name("iwn0")));
    assert_eq!(configs[1].laggs[0].ports, [name("ue0"), name("wlan0")]);
    assert!(matches!(configs[2].laggs[0].mac, MacSource::Literal(_)));
}

/// Proves the laptop example of lagghook.toml(5) is the sample
/// configuration the README installs.
#[test]
fn laptop_example_is_the_fixture() {
    let fixture = read("tests/fixtures/config/good-laptop.toml");
    let fixture = Config::parse(&fixture, Path::new("good-laptop.toml")).unwrap();
    let page = lagghook_toml_5();
    let example = &literal_blocks(&section(&page, "EXAMPLES"))[0];
    let example = Config::parse(example, Path::new("good-laptop.toml")).unwrap();
    assert_eq!(example, fixture);
}

/// Proves no message in the sources points at an option lagghook does not
/// take: every `-x` or `--word` inside a string literal of src/ that reads
/// as an option of ours is a letter of USAGE (issue 6: a message said
/// `--kernel` after the long options were removed).
#[test]
fn messages_name_only_options_that_exist() {
    let letters: BTreeSet<char> = usage_options().into_iter().map(|(c, _)| c).collect();
    let mut bad = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for path in crate::support::rust_files_below(&src) {
        let source = std::fs::read_to_string(&path).unwrap();
        for (n, line) in source.lines().enumerate() {
            for needle in ["(use -", "use --", "try -", "with -"] {
                let Some(at) = line.find(needle) else { continue };
                let flag = &line[at + needle.len()..];
                let ok = flag.chars().next().is_some_and(|c| letters.contains(&c))
                    && !flag.starts_with('-');
                if !ok {
                    bad.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "messages naming options lagghook does not take:\n{}", bad.join("\n"));
}

/// Proves README's outage table is the one the scenarios give now
/// (`cargo run --example outage-table`).
#[test]
fn readme_outage_table_is_measured() {
    use lagghook::cli::simulate::{run_baseline, run_scenario};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let table = lagghook::scenario::table::outage_table(&dir, run_scenario, run_baseline).unwrap();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains(&table), "README's outage table differs from:\n{table}");
}

/// Issue 16, point 11: lagghook(8) is for administrators. No kernel
/// internals (struct fields, constants, function names) and no build or CI
/// talk, which belong to CONTRIBUTING.md and the code's comments; each
/// DIAGNOSTICS line once; no AUTHORS without a real address; SEE ALSO in
/// section then name order and with the pages an administrator edits.
#[test]
fn issue16_the_manual_is_for_administrators() {
    let page = lagghook_8();
    let text: Vec<&str> = page.lines().filter(|l| !l.starts_with(".\\\"")).collect();
    for internal in [
        "lp_lladdr",
        "IEEE80211_MTU_MAX",
        "sc_primary",
        "lagg_link_active",
        "lagg_capabilities",
        "lagg_port2req",
        "if_setlladdr",
        "IFF_UP",
        ".Fn ",
        "Fn lagg",
        "cargo",
        "Continuous integration",
        "benchmark",
        "tests/",
    ] {
        let found: Vec<&&str> = text.iter().filter(|l| l.contains(internal)).collect();
        assert!(found.is_empty(), "lagghook(8) speaks of {internal:?}: {found:?}");
    }
    let heads = items(&section(&page, "DIAGNOSTICS"));
    let mut seen = BTreeSet::new();
    let twice: Vec<&String> = heads.iter().filter(|h| !seen.insert(*h)).collect();
    assert!(twice.is_empty(), "DIAGNOSTICS lists these twice: {twice:?}");
    if page.contains("\n.Sh AUTHORS\n") {
        let authors = section(&page, "AUTHORS");
        assert!(authors.iter().any(|l| l.starts_with(".Mt ")), "AUTHORS without an address");
    }
    let see_also: Vec<(String, String)> = section(&page, "SEE ALSO")
        .iter()
        .filter_map(|l| l.strip_prefix(".Xr "))
        .map(|xr| {
            let mut words = xr.split_whitespace();
            let name = words.next().unwrap_or_default().to_owned();
            (words.next().unwrap_or_default().to_owned(), name)
        })
        .collect();
    let mut sorted = see_also.clone();
    sorted.sort();
    assert_eq!(see_also, sorted, "SEE ALSO is not in section, then name order");
    for (section, name) in [("5", "wpa_supplicant.conf"), ("5", "regdomain"), ("5", "sysctl.conf")]
    {
        let page = (section.to_owned(), name.to_owned());
        assert!(see_also.contains(&page), "SEE ALSO lacks {name}({section})");
    }
}
