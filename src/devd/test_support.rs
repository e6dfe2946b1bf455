//! Helpers the devd unit tests share: configurations, the laptop's media
//! types, and "which commands does devd run for this event".

use std::path::Path;

use crate::domain::config::Config;
use crate::domain::event::DevdEvent;

use super::{parse, rules_for, select, stock_rules, Rule, PROGRAM};

pub fn config(text: &str) -> Config {
    Config::parse(text, Path::new("/usr/local/etc/lagghook.toml")).unwrap()
}

pub fn default_config() -> Config {
    config("[lagg0]\nports = [\"em0\", \"wlan0\"]\n")
}

/// What SIOCGIFMEDIA says on the laptop: vaps are 802.11, lagg and NICs Ethernet.
pub fn media(name: &str) -> Option<&'static str> {
    if name.starts_with("wlan") {
        Some("802.11")
    } else if name.starts_with("usbus") {
        None
    } else {
        Some("ethernet")
    }
}

/// The stock rules, then the ones generated for `config`, as devd reads them.
pub fn all_rules(config: &Config) -> Vec<Rule> {
    let mut rules = stock_rules().unwrap();
    rules.extend(parse(&rules_for(config, PROGRAM)).unwrap());
    rules
}

/// The commands devd would run for `IFNET ifname kind`.
pub fn run(rules: &[Rule], ifname: &str, kind: &str) -> Vec<String> {
    let ev = DevdEvent::new("IFNET", ifname, kind);
    match select(rules, &ev, &media) {
        None => Vec::new(),
        Some(r) => r.commands(&ev).into_iter().map(|c| c.join(" ")).collect(),
    }
}
