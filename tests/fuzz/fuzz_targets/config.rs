//! lagghook.toml: `Config::parse` on the input as the file's text.
//!
//! Properties, beyond "no panic":
//! - an error's message is one line of at most `MAX_MESSAGE` characters
//!   with no control character (values are echoed cut short, escaped,
//!   toml's own message cut), and it has a line:column (every error does,
//!   toml's own included), which lies within the text;
//! - an accepted config keeps every promise of validation: lagg names are
//!   `lagg<N>`, 1 to `LAGG_MAX_PORTS` ports, no port twice or in two laggs
//!   or itself a lagg, `mac` a port of its lagg or a usable unicast
//!   address, one `failover_rx_all` for all, wlan tables only for ports,
//!   parents neither ports nor laggs;
//! - an accepted config written back as TOML (below: every key explicit)
//!   parses to an equal config, and writes back the same;
//! - the devd rules generated for it parse, and for each port and event
//!   type the generated statement devd picks ends with a lagghook command
//!   whose arguments parse back to that event.
#![no_main]

use std::fmt::Write as _;
use std::path::Path;

use lagghook::devd;
use lagghook::domain::config::{is_lagg_name, Config, MacSource, LAGG_MAX_PORTS};
use lagghook::domain::event::{DevdEvent, IfnetEventKind};
use libfuzzer_sys::fuzz_target;

/// The longest error message: the path, a line:column, and the longest
/// kind (`mac "…" is not a port of laggN (ports: 32 names of at most 15
/// bytes) nor a MAC address`, the value echoed at most 64 characters each
/// escaped to at most 10), or toml's message cut at 256 characters, each
/// escaped to at most 6. Far less than the inputs the fuzzer tries.
const MAX_MESSAGE: usize = 2048;

const PROGRAM: &str = "/usr/local/libexec/lagghook-devd";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("lagghook.toml");
    match Config::parse(&text, path) {
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains(char::is_control), "control character in {msg:?}");
            assert!(msg.chars().count() <= MAX_MESSAGE, "{} chars: {msg:?}", msg.chars().count());
            let Some(loc) = e.location else { panic!("no line:column in {msg:?}") };
            let lines = text.matches('\n').count() + 1;
            assert!(loc.line >= 1 && loc.line <= lines, "{loc} beyond {lines} lines");
            assert!(loc.column >= 1, "{loc}");
        }
        Ok(config) => {
            assert_eq!(config.path, path);
            check_valid(&config);
            let written = write_toml(&config);
            match Config::parse(&written, path) {
                Ok(back) => {
                    assert_eq!(back, config, "written as:\n{written}");
                    assert_eq!(write_toml(&back), written);
                }
                Err(e) => panic!("{config:?} written as\n{written}\ndoes not parse: {e}"),
            }
            check_devd_rules(&config);
        }
    }
});

fn check_valid(config: &Config) {
    let rx_all = config.failover_rx_all();
    let mut all_ports = Vec::new();
    for (i, lagg) in config.laggs.iter().enumerate() {
        assert!(is_lagg_name(lagg.name.as_str()), "lagg named {}", lagg.name);
        assert!(config.laggs[..i].iter().all(|l| l.name != lagg.name), "{} twice", lagg.name);
        assert!((1..=LAGG_MAX_PORTS).contains(&lagg.ports.len()), "{} ports", lagg.ports.len());
        assert_eq!(lagg.primary(), lagg.ports.first());
        assert_eq!(lagg.failover_rx_all, rx_all, "failover_rx_all differs in {}", lagg.name);
        for port in &lagg.ports {
            assert!(!is_lagg_like(port.as_str()), "port {port} is a lagg");
            assert!(!all_ports.contains(port), "port {port} listed twice");
            all_ports.push(port.clone());
            assert_eq!(config.lagg_for_port(port).map(|l| &l.name), Some(&lagg.name));
            assert!(config.manages(port));
        }
        match &lagg.mac {
            MacSource::Port(p) => assert!(lagg.has_port(p), "mac port {p} not a port"),
            MacSource::Literal(m) => assert!(!m.is_zero() && !m.is_multicast(), "mac {m:?}"),
        }
        for (j, (wlan, w)) in lagg.wlans.iter().enumerate() {
            assert!(lagg.has_port(wlan), "wlan.{wlan} not a port");
            assert!(lagg.is_wlan_port(wlan));
            assert!(lagg.wlans[..j].iter().all(|(o, _)| o != wlan), "wlan.{wlan} twice");
            if let Some(parent) = &w.parent {
                assert!(!lagg.has_port(parent), "parent {parent} is a port");
                assert!(!is_lagg_like(parent.as_str()), "parent {parent} is a lagg");
            }
        }
    }
}

/// `lagg<digits>`, canonical or not (`lagg01`).
fn is_lagg_like(name: &str) -> bool {
    name.strip_prefix("lagg")
        .is_some_and(|u| !u.is_empty() && u.bytes().all(|b| b.is_ascii_digit()))
}

/// `config` as lagghook.toml, every key explicit, names quoted (an
/// interface name has no character a TOML basic string escapes).
fn write_toml(config: &Config) -> String {
    let mut out = String::new();
    for lagg in &config.laggs {
        let ports: Vec<String> = lagg.ports.iter().map(|p| format!("\"{p}\"")).collect();
        let mac = match &lagg.mac {
            MacSource::Port(p) => p.to_string(),
            MacSource::Literal(m) => m.to_string(),
        };
        let _ = writeln!(out, "[\"{}\"]", lagg.name);
        let _ = writeln!(out, "ports = [{}]", ports.join(", "));
        let _ = writeln!(out, "mac = \"{mac}\"");
        let _ = writeln!(out, "failover_rx_all = {}", lagg.failover_rx_all);
        for (wlan, w) in &lagg.wlans {
            match &w.parent {
                Some(parent) => {
                    let _ = writeln!(out, "wlan.\"{wlan}\".parent = \"{parent}\"");
                }
                None => {
                    let _ = writeln!(out, "wlan.\"{wlan}\" = {{}}");
                }
            }
        }
        out.push('\n');
    }
    out
}

/// devd's dispatch over the generated statements (they outrank the stock
/// ones, which chain into them), where SIOCGIFMEDIA says 802.11 for a wlan
/// port and Ethernet for the others.
fn check_devd_rules(config: &Config) {
    let generated = match devd::try_rules_for(config, PROGRAM) {
        Ok(text) => text,
        Err(e) => panic!("no devd rules for {config:?}: {e}"),
    };
    let rules = match devd::parse(&generated) {
        Ok(rules) => rules,
        Err(e) => panic!("generated devd rules do not parse: {e}\n{generated}"),
    };
    for (lagg, port) in config.ports() {
        let media: &'static str = if lagg.is_wlan_port(port) { "802.11" } else { "ethernet" };
        for kind in IfnetEventKind::ALL {
            let ev = DevdEvent::ifnet(port, kind);
            let Some(rule) = devd::select(&rules, &ev, &|_| Some(media)) else {
                panic!("no devd statement for {ev}\n{generated}");
            };
            let commands = rule.commands(&ev);
            let Some(last) = commands.last() else {
                panic!("no command for {ev}\n{generated}");
            };
            assert!(
                last.len() > 2 && last[0] == PROGRAM && last[1] == "event",
                "{last:?} for {ev}"
            );
            match DevdEvent::from_args(&last[2..]) {
                Ok(back) => assert_eq!(back, ev),
                Err(e) => panic!("{last:?} for {ev}: {e}"),
            }
        }
    }
}
