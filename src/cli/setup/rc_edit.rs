//! The rc.conf(5) side of `setup`: the variables that build the lagg at
//! boot, set in `/etc/rc.conf.d/network` with the words rc reads now kept;
//! the lines in /etc/rc.conf that the network file then shadows, removed;
//! the WiFi driver in `kld_list` and `lagghook_enable` in /etc/rc.conf.
//! Pure: the texts come in [`RcFiles`] and the changes go out as items for
//! [`super`] to apply.

use std::collections::BTreeSet;

use crate::domain::config::LaggConfig;
use crate::domain::create_args;
use crate::domain::model::{IfKind, MacAddr, Snapshot};
use crate::domain::text;
use crate::domain::wifi_driver;
use crate::run::error::Error;

use super::{cannot, rc_vars, Change, Item, Old, NETWORK, RC_CONF, RC_CONF_LOCAL};

/// The rc.conf files `setup` reads, as text (empty when missing), as its
/// changes leave them.
#[derive(Debug, Default)]
pub(super) struct RcFiles {
    pub rc_conf: String,
    pub local: String,
    pub network: String,
    /// The variables setup says what boots with in rc.conf.d/network.
    managed: BTreeSet<String>,
}

impl RcFiles {
    /// The value rc.d/netif sees for `name`, and the file it comes from:
    /// rc.conf.d/network over rc.conf.local over rc.conf.
    fn network_value(&self, name: &str) -> Result<Option<(&'static str, String)>, Error> {
        for (file, text) in
            [(NETWORK, &self.network), (RC_CONF_LOCAL, &self.local), (RC_CONF, &self.rc_conf)]
        {
            if let Some(value) = read_value(file, text, name)? {
                return Ok(Some((file, value)));
            }
        }
        Ok(None)
    }

    /// The value a script loading only the rc.conf files sees (rc.d/kld,
    /// rc.d/lagghook): rc.conf.local over rc.conf.
    fn rc_value(&self, name: &str) -> Result<Option<(&'static str, String)>, Error> {
        for (file, text) in [(RC_CONF_LOCAL, &self.local), (RC_CONF, &self.rc_conf)] {
            if let Some(value) = read_value(file, text, name)? {
                return Ok(Some((file, value)));
            }
        }
        Ok(None)
    }
}

/// `name`'s value in `file`, if set; an error naming the file and line if
/// it is set in a way `setup` does not read, and if it holds a word
/// `setup` would not carry over.
fn read_value(file: &str, text: &str, name: &str) -> Result<Option<String>, Error> {
    match rc_vars::value_of(text, name) {
        None => Ok(None),
        Some(Err(e)) => Err(cannot(format!("{file}: {name}: {e}; edit it by hand"))),
        Some(Ok(value)) => match rc_vars::words(&value).iter().find(|w| !rc_vars::is_plain_word(w))
        {
            Some(w) => Err(cannot(format!(
                "{file}: {name}: the word {} is not one setup carries over; edit it by hand",
                text::echo(w)
            ))),
            None => Ok(Some(value)),
        },
    }
}

/// The change that gives `name` in rc.conf.d/network the value `edit`
/// makes of the value rc sees now, if that differs. `files` then holds
/// the new value, so the next change to the same variable (a second
/// lagg's `cloned_interfaces`, a second vap on a radio) starts from it.
fn network_var(
    files: &mut RcFiles,
    name: String,
    edit: impl FnOnce(Option<&str>) -> Vec<String>,
    items: &mut Vec<Item>,
) -> Result<(), Error> {
    files.managed.insert(name.clone());
    let now = files.network_value(&name)?;
    let new = edit(now.as_ref().map(|(_, v)| v.as_str())).join(" ");
    if now.as_ref().map(|(_, v)| v) == Some(&new) {
        return Ok(());
    }
    let here = now.as_ref().filter(|(f, _)| *f == NETWORK).map(|(_, v)| v.clone());
    let elsewhere = now.filter(|(f, _)| *f != NETWORK);
    files.network = rc_vars::with_value(&files.network, &name, &new);
    items.push(Item::Change(Change::Var {
        file: NETWORK,
        name,
        old: Old { here, elsewhere },
        new,
        append: None,
    }));
    Ok(())
}

/// The rc.conf changes that build `lagg` at boot with `identity` on every
/// port, from the lines `lagghook rc-conf` prints, merged into what the
/// files hold: `cloned_interfaces` gains the lagg; a wired port's
/// `ifconfig_` gets `ether IDENTITY` and `up`, a vap's keeps its words
/// (the WiFi already works), and both lose `DHCP`, which belongs on the
/// lagg; a vap's radio lists it in `wlans_RADIO` and its `create_args_`
/// gets `wlanaddr IDENTITY` beside its other words; the lagg's
/// `ifconfig_` gets `up`, `laggproto failover` and the ports in order,
/// keeps its other words and gets `DHCP` if it has no address otherwise;
/// the radio's driver goes into `kld_list`.
pub(super) fn rc_changes(
    lagg: &LaggConfig,
    identity: Option<MacAddr>,
    snapshot: &Snapshot,
    files: &mut RcFiles,
) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let name = lagg.name.as_str();
    network_var(files, "cloned_interfaces".into(), |v| with_word(v, name), &mut items)?;
    let mut modules = Vec::new();
    for port in &lagg.ports {
        let var = rc_vars::if_var("ifconfig_", port.as_str());
        let is_vap = lagg.is_wlan_port(port)
            || snapshot.interface(port).is_some_and(|i| i.kind == IfKind::Wlan);
        if !is_vap {
            network_var(
                files,
                var,
                |v| {
                    let mut words = without_dhcp(v);
                    if let Some(mac) = identity {
                        let keys = ["ether", "lladdr", "link"];
                        words = rc_vars::with_pair(words, &keys, "ether", &mac.to_string());
                    }
                    rc_vars::with_word(words, "up")
                },
                &mut items,
            )?;
            continue;
        }
        network_var(
            files,
            var,
            |v| match v {
                Some(_) => without_dhcp(v),
                None => vec!["WPA".to_owned()],
            },
            &mut items,
        )?;
        let radio = lagg
            .wlan(port)
            .and_then(|w| w.parent.clone())
            .or_else(|| snapshot.interface(port).and_then(|i| i.parent.clone()));
        match &radio {
            Some(radio) => {
                let var = rc_vars::if_var("wlans_", radio.as_str());
                network_var(files, var, |v| with_word(v, port.as_str()), &mut items)?;
                modules.push(wifi_driver::module_of(radio));
            }
            None => items.push(Item::Note(format!(
                "{port}: its radio is not known (set wlan.{port}.parent in lagghook.toml): \
                 wlans_ and kld_list left as they are"
            ))),
        }
        match identity {
            Some(mac) => network_var(
                files,
                rc_vars::if_var("create_args_", port.as_str()),
                |v| {
                    let words = v.map(rc_vars::words).unwrap_or_default();
                    create_args::with_wlanaddr(words, &mac.to_string())
                },
                &mut items,
            )?,
            None => items.push(Item::Note(format!(
                "{port}: create_args left as it is: the identity MAC of {name} is not known yet"
            ))),
        }
    }
    network_var(
        files,
        rc_vars::if_var("ifconfig_", name),
        |v| {
            let mut words: Vec<String> = vec!["up".into(), "laggproto".into(), "failover".into()];
            for port in &lagg.ports {
                words.push("laggport".into());
                words.push(port.to_string());
            }
            let mut rest = v.map(rc_vars::words).unwrap_or_default().into_iter();
            let mut addressed = false;
            while let Some(w) = rest.next() {
                match w.as_str() {
                    "up" => {}
                    "laggproto" => {
                        let _ = rest.next();
                    }
                    "laggport" => match rest.next() {
                        Some(p) if lagg.ports.iter().any(|x| x.as_str() == p) => {}
                        Some(p) => words.extend(["laggport".to_owned(), p]),
                        None => {}
                    },
                    _ => {
                        addressed |= rc_vars::is_dhcp_word(&w) || w.starts_with("inet");
                        words.push(w);
                    }
                }
            }
            if !addressed {
                words.push("DHCP".into());
            }
            words
        },
        &mut items,
    )?;
    // Issue 20: the stock devd rule starts dhclient on the lagg at every
    // link-up of it; in the foreground (rc.d/dhclient without -b) devd
    // waits for the lease and handles no other event meanwhile.
    let dhcp_lagg = files
        .network_value(&rc_vars::if_var("ifconfig_", name))?
        .is_some_and(|(_, v)| rc_vars::words(&v).iter().any(|w| rc_vars::is_dhcp_word(w)));
    if dhcp_lagg && lagg.network.dhcp == Some(crate::domain::layer3::DhcpClient::Dhclient) {
        let var = rc_vars::if_var("background_dhclient_", name);
        network_var(files, var, |_| vec!["YES".to_owned()], &mut items)?;
    }
    for module in modules {
        items.extend(kld_change(files, &module)?);
    }
    Ok(items)
}

/// `kld_list` in /etc/rc.conf gains `module`, with sysrc's `+=`, unless
/// the value rc.d/kld sees has it.
fn kld_change(files: &mut RcFiles, module: &str) -> Result<Option<Item>, Error> {
    let now = files.rc_value("kld_list")?;
    let words = now.as_ref().map(|(_, v)| rc_vars::words(v)).unwrap_or_default();
    if words.iter().any(|w| w == module) {
        return Ok(None);
    }
    if let Some((RC_CONF_LOCAL, _)) = &now {
        return Ok(Some(Item::Note(format!(
            "{RC_CONF_LOCAL} sets kld_list, and wins over {RC_CONF}: add {module} there"
        ))));
    }
    let here = now.map(|(_, v)| v);
    let new = rc_vars::with_word(words, module).join(" ");
    files.rc_conf = rc_vars::with_value(&files.rc_conf, "kld_list", &new);
    Ok(Some(Item::Change(Change::Var {
        file: RC_CONF,
        name: "kld_list".into(),
        old: Old { here, elsewhere: None },
        new,
        append: Some(module.to_owned()),
    })))
}

/// `lagghook_enable="YES"` in /etc/rc.conf, unless rc.subr's `checkyesno`
/// already takes the value rc.d/lagghook sees for yes.
pub(super) fn rc_enable(files: &mut RcFiles) -> Result<Option<Item>, Error> {
    let now = files.rc_value("lagghook_enable")?;
    let yes = now.as_ref().is_some_and(|(_, v)| {
        matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1")
    });
    if yes {
        return Ok(None);
    }
    if let Some((RC_CONF_LOCAL, v)) = &now {
        return Ok(Some(Item::Note(format!(
            "{RC_CONF_LOCAL} sets lagghook_enable=\"{v}\", and wins over {RC_CONF}: \
             set it to YES there"
        ))));
    }
    // As sysrc will leave it, for what -n predicts and a later change.
    files.rc_conf = rc_vars::with_value(&files.rc_conf, "lagghook_enable", "YES");
    Ok(Some(Item::Change(Change::Var {
        file: RC_CONF,
        name: "lagghook_enable".into(),
        old: Old { here: now.map(|(_, v)| v), elsewhere: None },
        new: "YES".into(),
        append: None,
    })))
}

/// bsdinstall writes `ifconfig_em0="DHCP"` and `ifconfig_wlan0="WPA
/// SYNCDHCP"` into /etc/rc.conf; once rc.conf.d/network sets the same
/// variable, rc.d/netif and /etc/pccard_ether read it from there
/// (`load_rc_config`: rc.conf first, rc.conf.d/NAME after), and the
/// rc.conf line only misleads whoever reads it, or a script that does not
/// load `network` (rc.d/defaultroute waits for DHCP on the interfaces it
/// sees so). Each such line is removed with `sysrc -x` (issue 16, point
/// 4), so one place says what boots: the network file holds the whole
/// value, the words of the removed line carried over by [`network_var`].
pub(super) fn contradictions(files: &mut RcFiles) -> Vec<Item> {
    let mut items = Vec::new();
    let managed: Vec<String> = files.managed.iter().cloned().collect();
    for name in managed {
        if rc_vars::value_of(&files.network, &name).is_none() {
            continue;
        }
        for (file, text) in [(RC_CONF_LOCAL, &mut files.local), (RC_CONF, &mut files.rc_conf)] {
            let Some(old) = rc_vars::value_of(text, &name) else { continue };
            *text = rc_vars::without_var(text, &name);
            items.push(Item::Change(Change::Unset { file, name: name.clone(), old: old.ok() }));
        }
    }
    items
}

fn with_word(value: Option<&str>, word: &str) -> Vec<String> {
    rc_vars::with_word(value.map(rc_vars::words).unwrap_or_default(), word)
}

fn without_dhcp(value: Option<&str>) -> Vec<String> {
    let words = value.map(rc_vars::words).unwrap_or_default();
    words.into_iter().filter(|w| !rc_vars::is_dhcp_word(w)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::Config;
    use crate::domain::model::IfName;

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn config() -> Config {
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwlwifi0\"\n";
        Config::parse(text, "lagghook.toml".as_ref()).unwrap()
    }

    fn lines(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Change(c) => c.to_string(),
                Item::Note(n) => format!("# {n}"),
            })
            .collect()
    }

    const MAC: &str = "00:11:22:33:44:55";

    /// Proves a fresh laptop gets the lines `lagghook rc-conf` prints, each
    /// as one change saying what it was and what it becomes.
    #[test]
    fn a_fresh_laptop_gets_every_variable() {
        let mut files = RcFiles::default();
        let items =
            rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files)
                .unwrap();
        assert_eq!(
            lines(&items),
            [
                "/etc/rc.conf.d/network: cloned_interfaces: unset -> \"lagg0\"",
                "/etc/rc.conf.d/network: ifconfig_em0: unset -> \"ether 00:11:22:33:44:55 up\"",
                "/etc/rc.conf.d/network: ifconfig_wlan0: unset -> \"WPA\"",
                "/etc/rc.conf.d/network: wlans_iwlwifi0: unset -> \"wlan0\"",
                "/etc/rc.conf.d/network: create_args_wlan0: unset -> \"wlanaddr 00:11:22:33:44:55\"",
                "/etc/rc.conf.d/network: ifconfig_lagg0: unset -> \
                 \"up laggproto failover laggport em0 laggport wlan0 DHCP\"",
                "/etc/rc.conf.d/network: background_dhclient_lagg0: unset -> \"YES\"",
                "/etc/rc.conf: kld_list: unset -> \"if_iwlwifi\"",
            ]
        );
    }

    /// Proves the administrator's words survive: the regulatory domain
    /// beside wlanaddr, another cloned interface, a static address on the
    /// lagg; DHCP moves from the wired port to the lagg; a value rc reads
    /// from rc.conf is the one edited, into rc.conf.d/network.
    #[test]
    fn other_words_are_kept() {
        let mut files = RcFiles {
            rc_conf: "cloned_interfaces=\"gif0\"\nifconfig_em0=\"DHCP\"\nkld_list=\"fusefs\"\n"
                .into(),
            local: String::new(),
            network: "create_args_wlan0=\"country DE regdomain ETSI\"\n\
                      ifconfig_lagg0=\"laggproto lacp laggport em0 inet 192.168.1.2/24\"\n"
                .into(),
            ..RcFiles::default()
        };
        let items =
            rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files)
                .unwrap();
        let lines = lines(&items);
        for want in [
            "/etc/rc.conf.d/network: cloned_interfaces: unset (\"gif0\" in /etc/rc.conf) -> \
             \"gif0 lagg0\"",
            "/etc/rc.conf.d/network: ifconfig_em0: unset (\"DHCP\" in /etc/rc.conf) -> \
             \"ether 00:11:22:33:44:55 up\"",
            "/etc/rc.conf.d/network: create_args_wlan0: \"country DE regdomain ETSI\" -> \
             \"wlanaddr 00:11:22:33:44:55 country DE regdomain ETSI\"",
            "/etc/rc.conf.d/network: ifconfig_lagg0: \
             \"laggproto lacp laggport em0 inet 192.168.1.2/24\" -> \
             \"up laggproto failover laggport em0 laggport wlan0 inet 192.168.1.2/24\"",
            "/etc/rc.conf: kld_list: \"fusefs\" -> \"fusefs if_iwlwifi\"",
        ] {
            assert!(lines.contains(&want.to_owned()), "{want}\nnot in {lines:#?}");
        }
    }

    /// Proves two laggs each get their part of a shared variable: the
    /// second change starts from the first one's value.
    #[test]
    fn changes_to_one_variable_build_on_each_other() {
        let text = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n\
                    [lagg1]\nports = [\"em1\", \"wlan1\"]\nwlan.wlan1.parent = \"iwn0\"\n";
        let config = Config::parse(text, "lagghook.toml".as_ref()).unwrap();
        let mut files = RcFiles::default();
        let mut all = Vec::new();
        for lagg in &config.laggs {
            all.extend(
                rc_changes(lagg, MAC.parse().ok(), &Snapshot::default(), &mut files).unwrap(),
            );
        }
        let lines = lines(&all);
        for want in [
            "/etc/rc.conf.d/network: cloned_interfaces: \"lagg0\" -> \"lagg0 lagg1\"",
            "/etc/rc.conf.d/network: wlans_iwn0: \"wlan0\" -> \"wlan0 wlan1\"",
        ] {
            assert!(lines.contains(&want.to_owned()), "{want}\nnot in {lines:#?}");
        }
        assert_eq!(lines.iter().filter(|l| l.contains("kld_list")).count(), 1, "{lines:#?}");
    }

    /// Proves a second look at what the first changes made finds nothing.
    #[test]
    fn done_is_done() {
        let mut files = RcFiles {
            rc_conf: "kld_list=\"if_iwlwifi\"\nlagghook_enable=\"YES\"\n".into(),
            local: String::new(),
            network: "cloned_interfaces=\"lagg0\"\nifconfig_em0=\"ether 00:11:22:33:44:55 up\"\n\
                      ifconfig_wlan0=\"WPA\"\nwlans_iwlwifi0=\"wlan0\"\n\
                      create_args_wlan0=\"wlanaddr 00:11:22:33:44:55\"\n\
                      ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"\n\
                      background_dhclient_lagg0=\"YES\"\n"
                .into(),
            ..RcFiles::default()
        };
        let items =
            rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files)
                .unwrap();
        assert_eq!(lines(&items), Vec::<String>::new());
        assert_eq!(rc_enable(&mut files).unwrap(), None);
    }

    /// Proves a value setup cannot read, or would not carry over, stops
    /// it, naming the file and line.
    #[test]
    fn unreadable_values_are_refused_with_their_line() {
        for (network, want) in [
            (
                "\ncreate_args_wlan0=\"$args\"\n",
                "/etc/rc.conf.d/network: create_args_wlan0: line 2:",
            ),
            ("cloned_interfaces=\"a;b\"\n", "the word \"a;b\" is not one setup carries over"),
        ] {
            let mut files = RcFiles { network: network.into(), ..RcFiles::default() };
            let err =
                rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files)
                    .unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    #[test]
    fn module_is_the_driver_name() {
        assert_eq!(wifi_driver::module_of(&n("iwlwifi0")), "if_iwlwifi");
        assert_eq!(wifi_driver::module_of(&n("iwn12")), "if_iwn");
        // rtw88's radios end in its name's digits: rtw880 is unit 0.
        assert_eq!(wifi_driver::module_of(&n("rtw880")), "if_rtw88");
    }

    /// Issue 16, point 4: a variable rc.conf.d/network now sets is removed
    /// from rc.conf and rc.conf.local, each removal a change with the old
    /// value; one it leaves to rc.conf (already right there) stays.
    #[test]
    fn lines_the_network_file_shadows_are_removed() {
        let mut files = RcFiles {
            rc_conf: "ifconfig_em0=\"DHCP\"\nwlans_iwlwifi0=\"wlan0\"\nhostname=\"x\"\n".into(),
            local: "ifconfig_wlan0=\"WPA SYNCDHCP\"\n".into(),
            ..RcFiles::default()
        };
        rc_changes(&config().laggs[0], MAC.parse().ok(), &Snapshot::default(), &mut files).unwrap();
        let items = contradictions(&mut files);
        assert_eq!(
            lines(&items),
            [
                "/etc/rc.conf: ifconfig_em0: \"DHCP\" -> unset (/etc/rc.conf.d/network holds it)",
                "/etc/rc.conf.local: ifconfig_wlan0: \"WPA SYNCDHCP\" -> unset \
                 (/etc/rc.conf.d/network holds it)",
            ]
        );
        assert_eq!(
            files.rc_conf,
            "wlans_iwlwifi0=\"wlan0\"\nhostname=\"x\"\nkld_list=\"if_iwlwifi\"\n"
        );
        assert_eq!(files.local, "");
        assert!(files.network.contains("ifconfig_wlan0=\"WPA\"\n"), "{}", files.network);
        assert_eq!(contradictions(&mut files), []);
    }
}
