//! `check`'s traps in rc.conf(5), loader.conf(5) and
//! wpa_supplicant.conf(5): what rc does at boot and on a card's return
//! that lagghook would otherwise have to repair, or cannot.
//!
//! Which files each rc script reads (`load_rc_config` in
//! `libexec/rc/rc.subr`, `freebsd/freebsd-src` 02274513): `/etc/rc.conf`
//! and `/etc/rc.conf.local` (`rc_conf_files`' default; a changed
//! `rc_conf_files` is not followed), then for each name it loads, in
//! `/etc` and then in each `local_startup` directory without its `/rc.d`
//! (`/usr/local/etc` by default), `rc.conf.d/NAME` if it is a file, or
//! every file in it (sorted, as sh's `*` gives them) if it is a directory.
//! The names (`freebsd/freebsd-src` 023fc80e): `rc.d/kld` loads `kld`;
//! `rc.d/netif` loads `network`, then `netif`; `/etc/pccard_ether`, which
//! re-creates a vap when its card attaches again, loads `pccard_ether` and
//! `network` (1b1334b1); `rc.d/wpa_supplicant` loads `wpa_supplicant`.
//! `/etc/defaults/rc.conf` is not read: the defaults that matter are
//! written here (`kld_list` empty, `wpa_supplicant_conf_file`
//! `/etc/wpa_supplicant.conf`).

use std::collections::BTreeSet;

use crate::abi::IEEE80211_MTU_MAX;
use crate::domain::config::{Config, LaggConfig};
use crate::domain::identity;
use crate::domain::model::{IfName, MacAddr, Snapshot};
use crate::domain::plan::RememberedMacs;
use crate::domain::rc_vars::{words, RcVars};
use crate::domain::wifi_driver;
use crate::root::{join, Root};
use crate::sys::wpa_ctrl;

use super::Report;

/// `rc_conf_files`' default (`/etc/defaults/rc.conf`).
const RC_CONF_FILES: [&str; 2] = ["/etc/rc.conf", "/etc/rc.conf.local"];
/// `local_startup`'s default (`/etc/defaults/rc.conf`).
const LOCAL_STARTUP: &str = "/usr/local/etc/rc.d";
/// `wpa_supplicant_conf_file`'s default (`/etc/defaults/rc.conf`).
const WPA_SUPPLICANT_CONF: &str = "/etc/wpa_supplicant.conf";
/// What the loader reads besides `device.hints` (`loader_conf_files` in
/// `stand/defaults/loader.conf`).
const LOADER_CONF: [&str; 2] = ["/boot/loader.conf", "/boot/loader.conf.local"];
/// Where the network variables belong: read by rc.d/netif and by
/// /etc/pccard_ether alike.
const NETWORK: &str = "/etc/rc.conf.d/network";

/// The variables each rc script sees.
struct Views {
    /// rc.d/netif: boot, `service netif`.
    netif: RcVars,
    /// /etc/pccard_ether: a card attaching again (`startchildren`).
    pccard: RcVars,
    /// rc.d/kld: `kld_list`.
    kld: RcVars,
    /// rc.d/wpa_supplicant.
    wpa: RcVars,
    /// The loader's `*_load` variables.
    loader: RcVars,
}

impl Views {
    fn read(root: &dyn Root, report: &mut Report) -> Views {
        let base = rc_conf(root, report);
        let netif = view(root, &base, &["network", "netif"], report);
        let pccard = view(root, &base, &["pccard_ether", "network"], report);
        let kld = view(root, &base, &["kld"], report);
        let wpa = view(root, &base, &["wpa_supplicant"], report);
        let mut loader = RcVars::new();
        for file in LOADER_CONF {
            source(root, file, &mut loader, report);
        }
        Views { netif, pccard, kld, wpa, loader }
    }
}

/// What `rc_conf_files` set, which every script reads first.
fn rc_conf(root: &dyn Root, report: &mut Report) -> RcVars {
    let mut base = RcVars::new();
    for file in RC_CONF_FILES {
        source(root, file, &mut base, report);
    }
    base
}

/// The variables a script that loads `names` (`load_rc_config NAME`) sees:
/// `base`, then `rc.conf.d/NAME` in each directory.
fn view(root: &dyn Root, base: &RcVars, names: &[&str], report: &mut Report) -> RcVars {
    let mut vars = base.clone();
    for name in names {
        for dir in rc_conf_d_dirs(base) {
            source_rc_conf_d(root, &join(&join(&dir, "rc.conf.d"), name), &mut vars, report);
        }
    }
    vars
}

/// The variables rc.d/lagghook sees (`load_rc_config lagghook`): for
/// `lagghook_enable`. A file that cannot be read is `check`'s to report,
/// with the other rc traps; here it only sets nothing.
pub(super) fn lagghook_script(root: &dyn Root) -> RcVars {
    let mut ignored = Report::default();
    let base = rc_conf(root, &mut ignored);
    view(root, &base, &["lagghook"], &mut ignored)
}

/// `/etc`, then each `local_startup` directory without its `/rc.d`.
fn rc_conf_d_dirs(vars: &RcVars) -> Vec<String> {
    let local = vars.get("local_startup").unwrap_or(LOCAL_STARTUP);
    let mut dirs = vec!["/etc".to_owned()];
    for d in words(local) {
        let d = d.strip_suffix("/rc.d").unwrap_or(d);
        if !dirs.iter().any(|x| x == d) {
            dirs.push(d.to_owned());
        }
    }
    dirs
}

fn source(root: &dyn Root, file: &str, vars: &mut RcVars, report: &mut Report) {
    match root.read(file) {
        Ok(Some(text)) => vars.source(file, &text),
        Ok(None) => {}
        Err(e) => report.warn(format!("cannot read {e}"), "its settings were not checked"),
    }
}

/// `rc.conf.d/NAME`: a file, or a directory whose files are each read.
fn source_rc_conf_d(root: &dyn Root, path: &str, vars: &mut RcVars, report: &mut Report) {
    match root.list(path) {
        Ok(Some(mut names)) => {
            // sh's `*`: sorted, no dot files; rc then reads what `[ -f ]`
            // passes, so a directory in there is skipped.
            names.sort();
            for name in names.iter().filter(|n| !n.starts_with('.')) {
                let file = join(path, name);
                if !matches!(root.list(&file), Ok(Some(_))) {
                    source(root, &file, vars, report);
                }
            }
        }
        Ok(None) => source(root, path, vars, report),
        Err(e) => report.warn(format!("cannot read {e}"), "its settings were not checked"),
    }
}

/// An interface's rc.conf variable: rc turns `.`, `-`, `/` and `+` into
/// `_` (`ltr` in `get_if_var`, `libexec/rc/network.subr`).
fn if_var(prefix: &str, ifname: &IfName) -> String {
    let mangled: String =
        ifname.as_str().chars().map(|c| if ".-/+".contains(c) { '_' } else { c }).collect();
    format!("{prefix}{mangled}")
}

/// `NAME="value"` with where it comes from, for messages.
fn shown(vars: &RcVars, name: &str) -> String {
    match (vars.get(name), vars.origin(name)) {
        (Some(v), Some(file)) => format!("{name}=\"{v}\" (in {file})"),
        _ => name.to_owned(),
    }
}

pub(super) fn traps(
    config: &Config,
    root: &dyn Root,
    snap: &Snapshot,
    macs: &RememberedMacs,
    report: &mut Report,
) {
    if config.laggs.is_empty() {
        return;
    }
    let views = Views::read(root, report);
    driver_traps(config, snap, &views, report);
    for lagg in &config.laggs {
        let identity = identity::resolve(lagg, snap, macs.get(&lagg.name)).map(|r| r.identity.mac);
        dhcp_traps(lagg, &views.netif, report);
        for port in lagg.ports.iter().filter(|p| lagg.is_wlan_port(p)) {
            wlanaddr_traps(lagg, port, identity, &views, report);
            regdomain_traps(port, &views.netif, report);
        }
        mtu_traps(lagg, &views.netif, report);
    }
    wpa_supplicant_traps(config, root, &views, report);
    super::network::file_traps(config, root, &views.netif, report);
}

/// The radios of the configured vaps: `wlan.X.parent`, the kernel's
/// `net.wlan.N.%parent`, and the `wlans_RADIO` that lists the vap.
fn radios(config: &Config, snap: &Snapshot, netif: &RcVars) -> BTreeSet<IfName> {
    let mut radios = BTreeSet::new();
    for (lagg, port) in config.ports().filter(|(l, p)| l.is_wlan_port(p)) {
        radios.extend(lagg.wlan(port).and_then(|w| w.parent.clone()));
        radios.extend(snap.interface(port).and_then(|i| i.parent.clone()));
        for (name, value) in netif.with_prefix("wlans_") {
            if words(value).any(|w| w == port.as_str()) {
                radios.extend(IfName::new(&name["wlans_".len()..]).ok());
            }
        }
    }
    radios
}

/// A WiFi driver loaded by devmatch(8) or devd after boot may attach its
/// radio after rc.d/netif built the lagg: rc then creates the vap without
/// adding it (`ifconfig_lagg0` ran without it), the boot race of
/// lagghook(8). `kld_list` (rc.d/kld, before netif) or the loader avoid
/// it.
fn driver_traps(config: &Config, snap: &Snapshot, views: &Views, report: &mut Report) {
    let kld_list = views.kld.get("kld_list").unwrap_or_default();
    for radio in radios(config, snap, &views.netif) {
        let module = wifi_driver::module_of(&radio);
        if words(kld_list).any(|w| wifi_driver::names_module(w, &module)) {
            continue;
        }
        let loaded_by_loader = views.loader.with_prefix("if_").any(|(name, value)| {
            name.strip_suffix("_load").is_some_and(|m| wifi_driver::names_module(m, &module))
                && value.eq_ignore_ascii_case("yes")
        });
        if loaded_by_loader {
            continue;
        }
        let driver = &module["if_".len()..];
        report.trap(
            format!(
                "{radio}'s driver is not loaded at boot: {module} is neither in kld_list \
                 (/etc/rc.conf, /etc/rc.conf.local, rc.conf.d/kld) nor loaded by \
                 /boot/loader.conf, so the radio may attach after rc.d/netif built the lagg \
                 and its vap is created outside it (boot race; the module name is {radio} \
                 without its unit, a guess)"
            ),
            format!(
                "sysrc kld_list+={module} (if {driver} is compiled into the kernel, \
                 `kldstat -v` lists it under the kernel, there is no race, and this line \
                 can be ignored)"
            ),
        );
    }
}

/// rc's `dhcpif`: DHCP, SYNCDHCP or NOSYNCDHCP among the words of
/// `ifconfig_IF`, or of `ifconfig_DEFAULT` when the interface has none
/// (`ifconfig_getargs`, `libexec/rc/network.subr`).
fn dhcp_traps(lagg: &LaggConfig, netif: &RcVars, report: &mut Report) {
    let is_dhcp =
        |w: &str| ["dhcp", "syncdhcp", "nosyncdhcp"].iter().any(|d| w.eq_ignore_ascii_case(d));
    for port in &lagg.ports {
        let own = if_var("ifconfig_", port);
        let var =
            if netif.get(&own).is_some() { own.clone() } else { "ifconfig_DEFAULT".to_owned() };
        if !netif.get(&var).is_some_and(|v| words(v).any(is_dhcp)) {
            continue;
        }
        let via = if var == own {
            String::new()
        } else {
            format!(", which {port} takes for want of {own}")
        };
        report.trap(
            format!(
                "{}{via}: DHCP on {port}, a port of {}: dhclient then runs on the port and \
                 leases it an address, while the address belongs on {}",
                shown(netif, &var),
                lagg.name,
                lagg.name
            ),
            format!(
                "sysrc {own}=\"up\" (or `lagghook rc-conf`'s line) and keep DHCP in \
                 ifconfig_{}",
                lagg.name
            ),
        );
    }
}

/// `wlanaddr MAC` in `create_args_VAP`, the address rc creates the vap
/// with after every card reset or driver reload (`wlan_up`,
/// `libexec/rc/network.subr`): without it, or with another address than
/// the identity, every re-creation needs a re-clone and a WiFi outage.
fn wlanaddr_traps(
    lagg: &LaggConfig,
    port: &IfName,
    identity: Option<MacAddr>,
    views: &Views,
    report: &mut Report,
) {
    let var = if_var("create_args_", port);
    let wlanaddr = |vars: &RcVars| -> Option<String> {
        let value = vars.get(&var)?;
        let mut w = words(value);
        while let Some(word) = w.next() {
            if word == "wlanaddr" {
                return w.next().map(str::to_owned);
            }
        }
        None
    };
    let identity_words = identity.map_or_else(
        || format!("the identity MAC of {} (lagghook rc-conf prints it once known)", lagg.name),
        |m| m.to_string(),
    );
    let Some(addr) = wlanaddr(&views.netif) else {
        report.trap(
            format!(
                "{} has no wlanaddr: rc creates {port} with the radio's factory address after \
                 every card reset or driver reload, and lagghook must re-clone it (a WiFi outage)",
                if views.netif.get(&var).is_some() {
                    shown(&views.netif, &var)
                } else {
                    var.clone()
                }
            ),
            format!("add `wlanaddr {identity_words}` to {var} in {NETWORK} (lagghook rc-conf)"),
        );
        return;
    };
    match (addr.parse::<MacAddr>(), identity) {
        (Ok(mac), Some(want)) if mac != want => report.trap(
            format!(
                "{}: wlanaddr {mac} is not {}'s identity MAC {want}: every re-created {port} \
                 must be re-cloned (a WiFi outage)",
                shown(&views.netif, &var),
                lagg.name
            ),
            format!("make it `wlanaddr {want}` (lagghook rc-conf)"),
        ),
        (Err(_), _) => report.trap(
            format!("{}: wlanaddr {addr:?} is no MAC address", shown(&views.netif, &var)),
            format!("make it `wlanaddr {identity_words}` (lagghook rc-conf)"),
        ),
        _ => {}
    }
    if wlanaddr(&views.pccard).is_none() {
        report.trap(
            format!(
                "{}: only rc.d/netif reads it; /etc/pccard_ether, which re-creates {port} when \
                 its card attaches again, does not, and creates it with the factory address",
                shown(&views.netif, &var)
            ),
            format!("move it to {NETWORK}, which both read"),
        );
    }
}

/// net80211 starts a vap in its radio's default regulatory domain (what
/// the driver or the card says, often FCC's) unless `country` or `regdomain` says
/// otherwise, and rc says it when it creates the vap: `wlan_up`
/// (`libexec/rc/network.subr`) runs `ifconfig VAP create wlandev RADIO
/// $create_args_VAP`, at boot and whenever the card comes back. Without
/// them the radio may scan channels where it is not allowed to send, or
/// miss the access point on channels its default leaves out. Only the
/// user knows the country, so the fix names it `XX`. A `country` in
/// `ifconfig_VAP` alone is applied only after rc created the vap; the
/// Handbook ("Regulatory Domains") sets it in `create_args_VAP`, and the
/// fix moves it there.
fn regdomain_traps(port: &IfName, netif: &RcVars, report: &mut Report) {
    let create_args = if_var("create_args_", port);
    let ifconfig = if_var("ifconfig_", port);
    let regulatory = |var: &str| -> Vec<String> {
        let Some(value) = netif.get(var) else { return Vec::new() };
        let mut out = Vec::new();
        let mut w = words(value);
        while let Some(word) = w.next() {
            if word.eq_ignore_ascii_case("country") || word.eq_ignore_ascii_case("regdomain") {
                out.push(word.to_owned());
                out.extend(w.next().map(str::to_owned));
            }
        }
        out
    };
    if !regulatory(&create_args).is_empty() {
        return;
    }
    let what = if netif.get(&create_args).is_some() {
        shown(netif, &create_args)
    } else {
        create_args.clone()
    };
    let elsewhere = regulatory(&ifconfig);
    let fix = if elsewhere.is_empty() {
        format!(
            "add `country XX` (your country's ISO 3166 code; regdomain(5) lists them) to \
             {create_args} in {NETWORK}"
        )
    } else {
        format!("move `{}` from {ifconfig} to {create_args} in {NETWORK}", elsewhere.join(" "))
    };
    report.trap(
        format!(
            "{what} has no country or regdomain: rc creates {port} in its radio's default \
             regulatory domain, which may not be where you are (channels used where they are \
             not allowed, or access points missed on channels it leaves out)"
        ),
        fix,
    );
}

/// An `mtu N` in the rc.conf lines of the lagg or a wired port above what a
/// vap accepts: rc sets it at boot and the vap cannot join (`mtu_traps` in
/// the kernel part says why).
fn mtu_traps(lagg: &LaggConfig, netif: &RcVars, report: &mut Report) {
    let Some(wlan) = lagg.ports.iter().find(|p| lagg.is_wlan_port(p)) else { return };
    let mut ifs: Vec<&IfName> = vec![&lagg.name];
    ifs.extend(lagg.ports.iter().filter(|p| !lagg.is_wlan_port(p)));
    for ifname in ifs {
        for var in [if_var("ifconfig_", ifname), if_var("create_args_", ifname)] {
            let Some(value) = netif.get(&var) else { continue };
            let mut w = words(value);
            while let Some(word) = w.next() {
                let Some(mtu) = (word == "mtu").then(|| w.next()).flatten() else { continue };
                if mtu.parse::<u32>().is_ok_and(|m| m > IEEE80211_MTU_MAX) {
                    report.trap(
                        format!(
                            "{}: mtu {mtu} is above the {IEEE80211_MTU_MAX} a wlan vap \
                             accepts: after boot {wlan} cannot join {}",
                            shown(netif, &var),
                            lagg.name
                        ),
                        format!("remove `mtu {mtu}` from {var}"),
                    );
                }
            }
        }
    }
}

/// rc.d/wpa_supplicant starts wpa_supplicant with `-c
/// $wpa_supplicant_conf_file`; lagghook asks it its address through its
/// control socket in `/var/run/wpa_supplicant` (`sys::wpa_ctrl`), which
/// exists only with `ctrl_interface` set to that directory. Without it a
/// vap's address change is answered by a blind refresh (lagghook(8),
/// planning rule 4).
fn wpa_supplicant_traps(config: &Config, root: &dyn Root, views: &Views, report: &mut Report) {
    // Only for vaps rc runs wpa_supplicant for: `WPA` in ifconfig_VAP
    // (`ifconfig_up`), or no ifconfig_VAP to say otherwise.
    let wpa_vaps: Vec<&IfName> = config
        .ports()
        .filter(|(l, p)| l.is_wlan_port(p))
        .map(|(_, p)| p)
        .filter(|p| {
            views
                .netif
                .get(&if_var("ifconfig_", p))
                .is_none_or(|v| words(v).any(|w| w.eq_ignore_ascii_case("wpa")))
        })
        .collect();
    if wpa_vaps.is_empty() {
        return;
    }
    let path = views.wpa.get("wpa_supplicant_conf_file").unwrap_or(WPA_SUPPLICANT_CONF).to_owned();
    let text = match root.read(&path) {
        Ok(Some(text)) => text,
        Ok(None) => {
            report.trap(
                format!(
                    "{path}: missing: rc.d/wpa_supplicant cannot start wpa_supplicant for {}",
                    list(&wpa_vaps)
                ),
                format!(
                    "write it (wpa_supplicant.conf(5)) with ctrl_interface={} and the networks",
                    wpa_ctrl::RUN_DIR
                ),
            );
            return;
        }
        Err(e) => {
            report.warn(format!("cannot read {e}"), "its ctrl_interface was not checked");
            return;
        }
    };
    // A top-level `ctrl_interface=DIR` or `ctrl_interface=DIR=DIR GROUP=…`
    // (hostap's wpa_supplicant.conf): outside the network={} blocks.
    let mut depth = 0usize;
    let mut ctrl = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        if depth == 0 {
            if let Some(value) = line.strip_prefix("ctrl_interface=") {
                let value = value.trim().trim_matches('"');
                let dir = value.strip_prefix("DIR=").unwrap_or(value);
                ctrl = Some(dir.split_whitespace().next().unwrap_or_default().to_owned());
            }
        }
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
    }
    match ctrl {
        None => report.trap(
            format!(
                "{path}: no ctrl_interface: lagghook cannot ask wpa_supplicant which address \
                 it uses, and refreshes {} blindly after an address change",
                list(&wpa_vaps)
            ),
            format!("add ctrl_interface={} at its top", wpa_ctrl::RUN_DIR),
        ),
        Some(dir) if dir.trim_end_matches('/') != wpa_ctrl::RUN_DIR => report.trap(
            format!(
                "{path}: ctrl_interface is {dir}, but lagghook asks wpa_supplicant in {}",
                wpa_ctrl::RUN_DIR
            ),
            format!("set ctrl_interface={}", wpa_ctrl::RUN_DIR),
        ),
        Some(_) => {}
    }
}

fn list(names: &[&IfName]) -> String {
    names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_modules_by_the_documented_heuristic() {
        let module = |r: &str| wifi_driver::module_of(&IfName::new(r).unwrap());
        assert_eq!(module("iwn0"), "if_iwn");
        assert_eq!(module("iwlwifi0"), "if_iwlwifi");
        assert_eq!(module("iwm1"), "if_iwm");
        assert_eq!(module("ath0"), "if_ath");
        assert_eq!(module("rtwn0"), "if_rtwn");
        assert_eq!(module("rtw880"), "if_rtw88");
        assert_eq!(module("rtw8912"), "if_rtw89");
        for word in ["if_rtwn_usb", "if_rtwn", "/boot/modules/if_rtwn_pci.ko", "if_rtwn.ko"] {
            assert!(wifi_driver::names_module(word, "if_rtwn"), "{word}");
        }
        for word in ["if_rtwnx", "if_rtw", "rtwn"] {
            assert!(!wifi_driver::names_module(word, "if_rtwn"), "{word}");
        }
    }

    #[test]
    fn interface_variables_are_mangled_as_rc_does() {
        assert_eq!(if_var("ifconfig_", &IfName::new("em0.5").unwrap()), "ifconfig_em0_5");
        assert_eq!(if_var("create_args_", &IfName::new("wlan0").unwrap()), "create_args_wlan0");
    }
}
