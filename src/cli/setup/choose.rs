//! Which configuration `setup` works from: the one there, if this machine
//! has what it names, or one it writes from what the kernel shows and what
//! the administrator said (`-e`, `-w`, `-m`; issue 16, point 3). Every
//! refusal is one sentence naming the candidates and the option that picks
//! one, and changes nothing (exit 64). What it does not own: the rc.conf
//! side ([`super::rc_edit`]) and applying anything ([`super`]).

use std::path::Path;

use crate::cli::args::SetupOptions;
use crate::domain::config::{Config, MacSource};
use crate::domain::model::{IfKind, IfName, Interface, LinkState};
use crate::domain::text;
use crate::domain::wifi_driver::{self, LladdrClass};
use crate::run::error::Error;

use super::{cannot, rc_vars, Before, Change, Item, SAMPLE};

/// The configuration `setup` goes on with, and what it says or writes
/// about it: the new file, or a note that the existing one is used.
pub(super) fn configuration(
    path: &Path,
    existing: Option<String>,
    interfaces: &[Interface],
    radios: &[IfName],
    rc: &str,
    opts: &SetupOptions,
) -> Result<(Config, Vec<Item>), Error> {
    match existing {
        Some(existing) if existing != SAMPLE => {
            let config = Config::parse(&existing, path)?;
            let unknown = unknown_interfaces(&config, interfaces, radios, rc);
            if !unknown.is_empty() {
                return Err(cannot(format!(
                    "{} names {}, which this machine does not have ({}): edit it \
                     (lagghook.toml(5)), or remove it to let setup write one from what the \
                     kernel shows; nothing was changed",
                    text::path(path),
                    and_list(&unknown),
                    what_it_has(interfaces, radios)
                )));
            }
            if let Some(differs) = disagreement(&config, interfaces, opts) {
                return Err(cannot(format!(
                    "{} exists and {differs}: edit it (lagghook.toml(5)), or remove it to let \
                     setup write one with these options; nothing was changed",
                    text::path(path)
                )));
            }
            let note = format!("{} exists: used as it is, never overwritten", text::path(path));
            Ok((config, vec![Item::Note(note)]))
        }
        existing => {
            let before = if existing.is_some() { Before::Sample } else { Before::Absent };
            let new = new_config(path, interfaces, radios, rc, before, opts)?;
            let config = Config::parse(&new.text, path)?;
            let mut items = vec![Item::Change(Change::File {
                path: path.to_path_buf(),
                text: new.text,
                what: new.what,
                before,
            })];
            items.extend(new.notes.into_iter().map(Item::Note));
            Ok((config, items))
        }
    }
}

/// What the options say that an existing configuration does not: a wired
/// port it does not list, a radio or vap it does not use, another `mac`.
fn disagreement(config: &Config, interfaces: &[Interface], opts: &SetupOptions) -> Option<String> {
    for wired in &opts.wired {
        if !config.ports().any(|(l, p)| p == wired && !l.is_wlan_port(p)) {
            return Some(format!("has no wired port {wired}, which -e names"));
        }
    }
    if let Some(w) = &opts.wireless {
        let is_vap = config.ports().any(|(l, p)| p == w && l.is_wlan_port(p));
        let on_radio = config.ports().any(|(l, p)| {
            let configured = l.wlan(p).and_then(|c| c.parent.as_ref());
            let seen = interfaces.iter().find(|i| &i.name == p).and_then(|i| i.parent.as_ref());
            configured.or(seen) == Some(w)
        });
        if !is_vap && !on_radio {
            return Some(format!("uses neither a vap {w} nor the radio {w}, which -w names"));
        }
    }
    if let Some(m) = &opts.mac {
        if !config.laggs.iter().any(|l| l.mac == MacSource::Port(m.clone())) {
            return Some(format!("has no lagg whose mac is {m}, which -m names"));
        }
    }
    None
}

/// The interfaces an existing configuration names that this machine does
/// not have, in words: a radio of `wlan.X.parent` that `net.wlan.devices`
/// does not list, and a port that does not exist and that rc would not
/// create either, as it creates a vap on a radio that is there (the
/// port's `wlan.X.parent`, or a radio whose `wlans_RADIO` in `rc` lists
/// it). A configuration naming them is not this machine's (the sample's
/// em0 and iwn0 on a laptop with igc0 and iwlwifi0): setup would set up
/// hardware that is not there.
fn unknown_interfaces(
    config: &Config,
    interfaces: &[Interface],
    radios: &[IfName],
    rc: &str,
) -> Vec<String> {
    let exists = |name: &IfName| interfaces.iter().any(|i| &i.name == name);
    let rc_creates = |port: &IfName| {
        radios.iter().any(|radio| {
            let var = rc_vars::if_var("wlans_", radio.as_str());
            rc_vars::value_of(rc, &var)
                .and_then(Result::ok)
                .is_some_and(|v| rc_vars::words(&v).iter().any(|w| w == port.as_str()))
        })
    };
    let mut unknown = Vec::new();
    for lagg in &config.laggs {
        for (vap, wlan) in &lagg.wlans {
            if let Some(radio) = wlan.parent.as_ref().filter(|r| !radios.contains(r)) {
                unknown.push(format!("the radio {radio} (wlan.{vap}.parent)"));
            }
        }
        for port in &lagg.ports {
            // A vap with a radio: rc creates it there once setup listed it
            // in wlans_RADIO, or its radio is missing, said above.
            let has_parent = lagg.wlan(port).is_some_and(|w| w.parent.is_some());
            if !has_parent && !exists(port) && !rc_creates(port) {
                unknown.push(port.to_string());
            }
        }
    }
    unknown
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What the machine has that a configuration can name: its Ethernet,
/// vlan and wlan interfaces and its radios.
fn what_it_has(interfaces: &[Interface], radios: &[IfName]) -> String {
    let mut has: Vec<String> = interfaces
        .iter()
        .filter(|i| matches!(i.kind, IfKind::Ether | IfKind::Vlan | IfKind::Wlan))
        .map(|i| i.name.to_string())
        .collect();
    has.extend(radios.iter().map(|r| format!("the radio {r}")));
    if has.is_empty() {
        return "it has no Ethernet interface and no radio".to_owned();
    }
    format!("it has {}", and_list(&has))
}

/// A configuration `setup` writes, what it holds in words, and what is
/// worth saying about it.
#[derive(Debug)]
struct NewConfig {
    text: String,
    what: String,
    notes: Vec<String>,
}

/// `names` as a sentence says them: `em0 and ue0`.
fn names(v: &[&IfName]) -> String {
    and_list(&v.iter().map(|n| n.to_string()).collect::<Vec<_>>())
}

/// The text of a new configuration, from the interfaces, the radios, the
/// rc.conf text (whose `wlans_RADIO` may name the vap) and the options.
/// Without `-e` it needs exactly one wired interface with a carrier, and
/// without `-w` exactly one radio; otherwise the administrator has to say,
/// with an option or in the file (`before` says whether the file there now
/// is the unedited sample).
fn new_config(
    path: &Path,
    interfaces: &[Interface],
    radios: &[IfName],
    rc: &str,
    before: Before,
    opts: &SetupOptions,
) -> Result<NewConfig, Error> {
    let yourself = match before {
        Before::Sample => format!(
            "or edit {}, the unedited sample, yourself (lagghook.toml(5))",
            text::path(path)
        ),
        _ => format!("or write {} yourself (lagghook.toml(5))", text::path(path)),
    };
    let ethernet: Vec<&Interface> =
        interfaces.iter().filter(|i| matches!(i.kind, IfKind::Ether | IfKind::Vlan)).collect();
    let ethernet_names: Vec<&IfName> = ethernet.iter().map(|i| &i.name).collect();
    let wired: Vec<IfName> = if opts.wired.is_empty() {
        let with_carrier: Vec<&IfName> = ethernet
            .iter()
            .filter(|i| i.kind == IfKind::Ether && i.link == LinkState::Up)
            .map(|i| &i.name)
            .collect();
        match (with_carrier.as_slice(), ethernet_names.as_slice()) {
            ([one], _) => vec![(*one).clone()],
            ([], []) => {
                return Err(cannot(format!(
                    "this machine has no Ethernet interface for the lagg: attach one and run \
                     setup again, {yourself}"
                )))
            }
            ([], all) => {
                let none = if all.len() == 1 { "has none" } else { "have none" };
                return Err(cannot(format!(
                    "no wired interface has a carrier ({} {none}): plug the cable in and run \
                     setup again, or name the wired interface with -e, as in `lagghook setup \
                     -e {}`, {yourself}",
                    names(all),
                    all[0]
                )));
            }
            (several, _) => {
                let both = if several.len() == 2 { "both" } else { "all" };
                return Err(cannot(format!(
                    "{} {both} have a carrier: name the one to prefer with -e, as in \
                     `lagghook setup -e {}` (-e again for each other one to use, in order), \
                     {yourself}",
                    names(several),
                    several[0]
                )));
            }
        }
    } else {
        for w in &opts.wired {
            if !ethernet_names.contains(&w) {
                let has = if ethernet_names.is_empty() {
                    "it has no Ethernet interface".to_owned()
                } else {
                    format!("its Ethernet interfaces are {}", names(&ethernet_names))
                };
                return Err(cannot(format!(
                    "-e {w}: this machine has no Ethernet interface {w} ({has})"
                )));
            }
        }
        opts.wired.clone()
    };
    let (radio, vap) = radio_and_vap(interfaces, radios, rc, opts, &yourself)?;
    let mut ports: Vec<&IfName> = wired.iter().collect();
    ports.push(&vap);
    let mac = match &opts.mac {
        Some(m) if ports.contains(&m) => m.clone(),
        Some(m) => {
            return Err(cannot(format!(
                "-m {m}: not a port of the configuration setup writes, whose ports are {}",
                names(&ports)
            )))
        }
        None => wired[0].clone(),
    };
    let mut notes = Vec::new();
    let driver = wifi_driver::driver_of(&radio);
    if let Some(d) = driver.filter(|d| d.lladdr == LladdrClass::AtCreate && mac != vap) {
        // lagg(4)'s EXAMPLES clone the WiFi's address onto the cable "as
        // some common wireless devices will not allow MAC addresses to be
        // changed" (share/man/man4/lagg.4).
        notes.push(format!(
            "{radio}'s driver, {}, takes another address only when a vap is created: {vap} \
             gets {mac}'s with wlanaddr, and lagghook must re-create {vap} when it comes back \
             without it; `lagghook setup -m {vap}` clones the other way instead, {vap}'s own \
             address onto {}, as lagg(4)'s EXAMPLES do",
            d.name,
            and_list(
                &wired
                    .iter()
                    .map(|w| w.to_string())
                    .chain(["lagg0".to_owned()])
                    .collect::<Vec<_>>()
            )
        ));
    }
    let how_wired = if opts.wired.is_empty() { "had a carrier" } else { "named with -e" };
    let how_radio = if opts.wireless.is_some() { "named with -w" } else { "net.wlan.devices" };
    let quoted: Vec<String> = ports.iter().map(|p| format!("\"{p}\"")).collect();
    let text = format!(
        "# {path}: written by `lagghook setup` from what the kernel showed:\n\
         # {wired_list} {how_wired} and {radio} was the WiFi radio ({how_radio}).\n\
         # Every key is described in lagghook.toml(5); after changing this file,\n\
         # run `lagghook setup` again.\n\
         [lagg0]\n\
         ports = [{ports}]\n\
         mac = \"{mac}\"\n\
         failover_rx_all = true\n\
         wlan.{vap}.parent = \"{radio}\"\n",
        path = text::path(path),
        wired_list = names(&wired.iter().collect::<Vec<_>>()),
        ports = quoted.join(", "),
    );
    let over = wired.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", ");
    let what = format!("lagg0 over {over} and {vap} (on {radio})");
    Ok(NewConfig { text, what, notes })
}

/// The radio and the vap of a new configuration: `-w`'s radio or vap, or
/// the one radio there is; the vap on it that exists, else the first rc
/// creates on it, else wlan0 or the first free wlanN, as `ifconfig wlan
/// create` would name it.
fn radio_and_vap(
    interfaces: &[Interface],
    radios: &[IfName],
    rc: &str,
    opts: &SetupOptions,
    yourself: &str,
) -> Result<(IfName, IfName), Error> {
    let listed_by = |radio: &IfName| -> Vec<IfName> {
        let var = rc_vars::if_var("wlans_", radio.as_str());
        rc_vars::value_of(rc, &var)
            .and_then(Result::ok)
            .map(|v| v.split_whitespace().filter_map(|w| IfName::new(w).ok()).collect())
            .unwrap_or_default()
    };
    let vaps: Vec<&Interface> = interfaces.iter().filter(|i| i.kind == IfKind::Wlan).collect();
    let radio = match &opts.wireless {
        Some(w) if radios.contains(w) => w.clone(),
        Some(w) => {
            if let Some(parent) = vaps.iter().find(|i| &i.name == w).and_then(|i| i.parent.clone())
            {
                return Ok((parent, w.clone()));
            }
            if let Some(radio) = radios.iter().find(|r| listed_by(r).contains(w)) {
                return Ok((radio.clone(), w.clone()));
            }
            let radio_list = if radios.is_empty() {
                "net.wlan.devices lists none".to_owned()
            } else {
                format!("net.wlan.devices lists {}", names(&radios.iter().collect::<Vec<_>>()))
            };
            let vap_list = if vaps.is_empty() {
                "no vap".to_owned()
            } else {
                names(&vaps.iter().map(|i| &i.name).collect::<Vec<_>>())
            };
            return Err(cannot(format!(
                "-w {w}: neither a radio of this machine ({radio_list}) nor one of its vaps \
                 ({vap_list})"
            )));
        }
        None => match radios {
            [one] => one.clone(),
            [] => {
                return Err(cannot(format!(
                    "no WiFi radio in net.wlan.devices: load its driver (kldload if_iwlwifi, \
                     say) and run setup again, {yourself}"
                )))
            }
            several => {
                let both = if several.len() == 2 { "both" } else { "all" };
                return Err(cannot(format!(
                    "{} are {both} WiFi radios: name the one to use with -w, as in `lagghook \
                     setup -w {}`, {yourself}",
                    names(&several.iter().collect::<Vec<_>>()),
                    several[0]
                )));
            }
        },
    };
    let existing = vaps.iter().find(|i| i.parent.as_ref() == Some(&radio)).map(|i| i.name.clone());
    let free = || {
        (0..)
            .filter_map(|n| IfName::new(&format!("wlan{n}")).ok())
            .find(|n| interfaces.iter().all(|i| &i.name != n))
    };
    match existing.or_else(|| listed_by(&radio).into_iter().next()).or_else(free) {
        Some(vap) => Ok((radio, vap)),
        None => Err(cannot(format!("no name for a vap on {radio}: {yourself}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::MacAddr;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn iface(name: &str, kind: IfKind, link: LinkState, parent: Option<&str>) -> Interface {
        Interface {
            name: n(name),
            index: 1,
            kind,
            mac: MacAddr::ZERO,
            hwaddr: None,
            up: true,
            link,
            mtu: 1500,
            parent: parent.map(n),
            caps: None,
        }
    }

    fn opts(wired: &[&str], wireless: Option<&str>, mac: Option<&str>) -> SetupOptions {
        SetupOptions {
            wired: wired.iter().map(|w| n(w)).collect(),
            wireless: wireless.map(n),
            mac: mac.map(n),
            live: false,
        }
    }

    fn new(
        interfaces: &[Interface],
        radios: &[&str],
        rc: &str,
        opts: &SetupOptions,
    ) -> Result<NewConfig, String> {
        let radios: Vec<IfName> = radios.iter().map(|r| n(r)).collect();
        let path = Path::new("/usr/local/etc/lagghook.toml");
        new_config(path, interfaces, &radios, rc, Before::Absent, opts).map_err(|e| e.to_string())
    }

    /// Proves the configuration comes from the one wired port with a
    /// carrier and the one radio, and that anything less certain is left
    /// to the administrator with the reason, the candidates and the option
    /// that picks one (issue 16, point 3).
    #[test]
    fn a_new_configuration_needs_one_cable_and_one_radio_or_an_option() {
        let none = SetupOptions::default();
        let em0 = iface("em0", IfKind::Ether, LinkState::Up, None);
        let ue0 = iface("ue0", IfKind::Ether, LinkState::Down, None);
        let new_cfg = new(&[em0.clone(), ue0.clone()], &["iwn0"], "", &none).unwrap();
        assert_eq!(new_cfg.what, "lagg0 over em0 and wlan0 (on iwn0)");
        let path = Path::new("/usr/local/etc/lagghook.toml");
        let config = Config::parse(&new_cfg.text, path).unwrap();
        assert_eq!(config.laggs[0].ports, [n("em0"), n("wlan0")]);
        assert_eq!(config.laggs[0].mac, MacSource::Port(n("em0")));
        assert_eq!(config.laggs[0].wlan(&n("wlan0")).unwrap().parent, Some(n("iwn0")));
        // rc's name for the vap, then an existing vap's, win over wlan0.
        let text = new(std::slice::from_ref(&em0), &["iwn0"], "wlans_iwn0=\"wlan3\"\n", &none)
            .unwrap()
            .text;
        assert!(text.contains("ports = [\"em0\", \"wlan3\"]"), "{text}");
        let wifi = iface("wifi0", IfKind::Wlan, LinkState::Up, Some("iwn0"));
        let text = new(&[em0.clone(), wifi], &["iwn0"], "", &none).unwrap().text;
        assert!(text.contains("ports = [\"em0\", \"wifi0\"]"), "{text}");
        let ue0_up = iface("ue0", IfKind::Ether, LinkState::Up, None);
        let yourself = "or write /usr/local/etc/lagghook.toml yourself (lagghook.toml(5))";
        for (ifaces, radios, why) in [
            (
                vec![ue0.clone()],
                vec!["iwn0"],
                "no wired interface has a carrier (ue0 has none): plug the cable in and run \
                 setup again, or name the wired interface with -e, as in `lagghook setup -e ue0`",
            ),
            (
                vec![iface("wlan0", IfKind::Wlan, LinkState::Up, Some("iwn0"))],
                vec!["iwn0"],
                "this machine has no Ethernet interface for the lagg: attach one and run setup \
                 again",
            ),
            (
                vec![em0.clone(), ue0_up.clone()],
                vec!["iwn0"],
                "em0 and ue0 both have a carrier: name the one to prefer with -e, as in \
                 `lagghook setup -e em0` (-e again for each other one to use, in order)",
            ),
            (
                vec![em0.clone()],
                vec![],
                "no WiFi radio in net.wlan.devices: load its driver (kldload if_iwlwifi, say) \
                 and run setup again",
            ),
            (
                vec![em0.clone()],
                vec!["iwn0", "ath0"],
                "iwn0 and ath0 are both WiFi radios: name the one to use with -w, as in \
                 `lagghook setup -w iwn0`",
            ),
        ] {
            let err = new(&ifaces, &radios, "", &none).unwrap_err();
            assert_eq!(err, format!("setup: {why}, {yourself}"));
        }
    }

    /// Proves the options pick what setup could not: the wired ports in
    /// order (a cable unplugged is fine), the radio or an existing vap, the
    /// mac port; and that an option naming what is not there is refused
    /// with what is.
    #[test]
    fn options_choose_the_interfaces() {
        let em0 = iface("em0", IfKind::Ether, LinkState::Down, None);
        let ue0 = iface("ue0", IfKind::Ether, LinkState::Up, None);
        let wlan1 = iface("wlan1", IfKind::Wlan, LinkState::Up, Some("ath0"));
        let all = [em0, ue0, wlan1];
        let path = Path::new("c.toml");
        let got =
            new(&all, &["iwn0", "ath0"], "", &opts(&["ue0", "em0"], Some("iwn0"), None)).unwrap();
        let config = Config::parse(&got.text, path).unwrap();
        assert_eq!(config.laggs[0].ports, [n("ue0"), n("em0"), n("wlan0")]);
        assert_eq!(config.laggs[0].wlan(&n("wlan0")).unwrap().parent, Some(n("iwn0")));
        assert!(
            got.text.contains(
                "# ue0 and em0 named with -e and iwn0 was the WiFi radio \
                                   (named with -w).\n"
            ),
            "{}",
            got.text
        );
        // A vap names its radio; -m makes it the identity's port.
        let got = new(&all, &["iwn0", "ath0"], "", &opts(&["em0"], Some("wlan1"), Some("wlan1")))
            .unwrap();
        let config = Config::parse(&got.text, path).unwrap();
        assert_eq!(config.laggs[0].ports, [n("em0"), n("wlan1")]);
        assert_eq!(config.laggs[0].mac, MacSource::Port(n("wlan1")));
        for (o, why) in [
            (
                opts(&["em9"], None, None),
                "-e em9: this machine has no Ethernet interface em9 (its Ethernet interfaces are \
                 em0 and ue0)",
            ),
            (
                opts(&["em0"], Some("ral0"), None),
                "-w ral0: neither a radio of this machine (net.wlan.devices lists iwn0 and ath0) \
                 nor one of its vaps (wlan1)",
            ),
            (
                opts(&["em0"], Some("iwn0"), Some("ue0")),
                "-m ue0: not a port of the configuration setup writes, whose ports are em0 and \
                 wlan0",
            ),
        ] {
            assert_eq!(new(&all, &["iwn0", "ath0"], "", &o).unwrap_err(), format!("setup: {why}"));
        }
    }

    /// Issue 19.1: on a radio whose driver takes another address only at
    /// creation (LinuxKPI's iwlwifi), setup offers the reverse clone; on a
    /// native one, or once asked for, it does not.
    #[test]
    fn the_reverse_clone_is_offered_for_a_driver_known_to_refuse() {
        let em0 = iface("em0", IfKind::Ether, LinkState::Up, None);
        let on = |radio: &str, mac: Option<&str>| {
            new(std::slice::from_ref(&em0), &[radio], "", &opts(&[], None, mac)).unwrap().notes
        };
        assert_eq!(
            on("iwlwifi0", None),
            ["iwlwifi0's driver, iwlwifi, takes another address only when a vap is created: \
              wlan0 gets em0's with wlanaddr, and lagghook must re-create wlan0 when it comes \
              back without it; `lagghook setup -m wlan0` clones the other way instead, wlan0's \
              own address onto em0 and lagg0, as lagg(4)'s EXAMPLES do"]
        );
        assert!(on("iwn0", None).is_empty());
        assert!(on("iwlwifi0", Some("wlan0")).is_empty());
    }

    /// Proves an existing configuration is this machine's only if every
    /// interface it names is there, or is a vap rc creates on a radio
    /// that is there (its `wlan.X.parent`, or a `wlans_RADIO` listing it):
    /// the sample's em0 and iwn0 on a laptop with igc0 and iwlwifi0 are
    /// both named.
    #[test]
    fn an_existing_configuration_must_name_this_machines_interfaces() {
        let igc0 = iface("igc0", IfKind::Ether, LinkState::Up, None);
        let radios = [n("iwlwifi0")];
        let sample = Config::parse(SAMPLE, "s.toml".as_ref()).unwrap();
        assert_eq!(
            unknown_interfaces(&sample, std::slice::from_ref(&igc0), &radios, ""),
            ["the radio iwn0 (wlan.wlan0.parent)", "em0"]
        );
        let mine = |text: &str| Config::parse(text, "m.toml".as_ref()).unwrap();
        let on_iwlwifi0 =
            mine("[lagg0]\nports = [\"igc0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwlwifi0\"\n");
        let none: Vec<String> = Vec::new();
        assert_eq!(
            unknown_interfaces(&on_iwlwifi0, std::slice::from_ref(&igc0), &radios, ""),
            none
        );
        let bare = mine("[lagg0]\nports = [\"igc0\", \"wlan0\"]\n");
        assert_eq!(unknown_interfaces(&bare, std::slice::from_ref(&igc0), &radios, ""), ["wlan0"]);
        let rc = "wlans_iwlwifi0=\"wlan0\"\n";
        assert_eq!(unknown_interfaces(&bare, std::slice::from_ref(&igc0), &radios, rc), none);
        let wlan0 = iface("wlan0", IfKind::Wlan, LinkState::Up, Some("iwlwifi0"));
        assert_eq!(unknown_interfaces(&bare, &[igc0, wlan0], &radios, ""), none);
        assert_eq!(
            what_it_has(&[iface("igc0", IfKind::Ether, LinkState::Up, None)], &radios),
            "it has igc0 and the radio iwlwifi0"
        );
    }
}
